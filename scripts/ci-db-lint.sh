#!/usr/bin/env bash
# Applies every migration with the Supabase CLI to a fresh database on the local PostgreSQL
# (after the bootstrap), checks a second push applies nothing, then runs `supabase db lint`
# (plpgsql_check) and fails on any warning (there are none: a new one stops CI).
set -euo pipefail
cd "$(dirname "$0")/.."
ADMIN_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB=omni_ci_lint
URL="${ADMIN_URL%/*}/${DB}"
psql "$ADMIN_URL" -qc "drop database if exists ${DB} with (force)" -c "create database ${DB}"
npx deno run -A scripts/bootstrap-db.ts "$URL"
psql "$URL" -qc "create extension if not exists plpgsql_check"
npx supabase db push --db-url "${URL}?sslmode=disable" --yes
second="$(npx supabase db push --db-url "${URL}?sslmode=disable" --yes 2>&1)"
echo "$second"
grep -q "up to date" <<<"$second" || { echo "second push was not a no-op" >&2; exit 1; }
npx supabase db lint --db-url "${URL}?sslmode=disable" --schema public --level warning --fail-on warning
psql "$ADMIN_URL" -qc "drop database if exists ${DB} with (force)"
