-- Bootstrap for a PostgreSQL that is not Supabase's (plain PostgreSQL 15+, PGlite).
--
-- Creates, only where missing, what Supabase's Postgres image already has and our migrations
-- use: the API roles and the `auth` helpers that RLS policies call. It mirrors Supabase's own
-- definitions so policies behave the same here as on the platform. Never run it against a
-- Supabase project: scripts/bootstrap-db.ts refuses supabase.co / supabase.com hosts.
-- Idempotent: every statement checks before it creates.

-- Roles are cluster-wide: two databases bootstrapped at once (parallel test workers) race to
-- create them, and the loser sees the winner's role as a duplicate, which is the goal anyway.
do $bootstrap$
declare
  v_role text;
begin
  -- The roles PostgREST switches to (Supabase: nologin, the gateway logs in as `authenticator`).
  foreach v_role in array array['anon', 'authenticated', 'service_role'] loop
    if not exists (select 1 from pg_catalog.pg_roles where rolname = v_role) then
      begin
        execute pg_catalog.format('create role %I nologin%s', v_role,
          case when v_role = 'service_role' then ' bypassrls' else '' end);
      exception when duplicate_object or unique_violation then
        null;
      end;
    end if;
  end loop;
end
$bootstrap$;

create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

-- The three helpers below are Supabase's definitions (supabase/postgres, auth schema): the JWT
-- claims arrive per request as `request.jwt.claims` (PostgREST >= 9) or the older per-claim
-- `request.jwt.claim.<name>` settings. Each is created only when missing, so an existing
-- (real) definition stays untouched.
do $bootstrap$
begin
  if to_regprocedure('auth.uid()') is null then
    create function auth.uid() returns uuid
    language sql stable
    as $fn$
      select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
      )::uuid
    $fn$;
  end if;

  if to_regprocedure('auth.role()') is null then
    create function auth.role() returns text
    language sql stable
    as $fn$
      select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
      )::text
    $fn$;
  end if;

  if to_regprocedure('auth.jwt()') is null then
    create function auth.jwt() returns jsonb
    language sql stable
    as $fn$
      select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
      )::jsonb
    $fn$;
  end if;
end
$bootstrap$;

grant execute on function auth.uid(), auth.role(), auth.jwt() to anon, authenticated, service_role;

-- Supabase grants the API roles usage on `public`; our migrations grant table privileges
-- explicitly on top of this.
grant usage on schema public to anon, authenticated, service_role;
