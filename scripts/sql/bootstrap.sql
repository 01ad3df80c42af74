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

-- Supabase Vault's interface where supabase_vault is missing: `vault.secrets`,
-- `vault.create_secret`, `vault.update_secret` and the `vault.decrypted_secrets` view, with the
-- same names, arguments and columns as Supabase's, so the migrations and the code that store
-- channel credentials are the same everywhere. Encrypted at rest with pgcrypto (pgp_sym_encrypt,
-- AES-256) under a random key kept outside `vault.secrets`, in a schema only its owner reads:
-- a dump or a leak of the secrets table alone does not reveal them. Supabase's Vault keeps its
-- root key outside the database entirely; here the key stays in the same cluster, which is what a
-- local or self-hosted database without Vault can do. Created only when `vault.create_secret` is
-- missing, so a real Vault is never shadowed.
create schema if not exists extensions;
create extension if not exists pgcrypto with schema extensions;

do $bootstrap$
begin
  if to_regprocedure('vault.create_secret(text, text, text, uuid)') is not null then
    return;
  end if;
  create schema if not exists vault;
  create schema if not exists vault_root_key;
  revoke all on schema vault_root_key from public;

  create table vault_root_key.root_key (
    only_row boolean primary key default true check (only_row),
    key bytea not null
  );
  insert into vault_root_key.root_key (key) values (extensions.gen_random_bytes(32));
  revoke all on table vault_root_key.root_key from public;

  create table vault.secrets (
    id uuid primary key default gen_random_uuid(),
    name text,
    description text not null default '',
    secret text not null,
    key_id uuid,
    nonce bytea,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  );
  create unique index secrets_name_idx on vault.secrets (name) where name is not null;
  revoke all on table vault.secrets from public;

  -- The encryption itself, in the only functions that read the key.
  create function vault._encrypt(p_plain text) returns text
  language sql volatile security definer set search_path = ''
  as $fn$
    select pg_catalog.encode(extensions.pgp_sym_encrypt(p_plain,
      pg_catalog.encode(k.key, 'hex'), 'cipher-algo=aes256'), 'base64')
    from vault_root_key.root_key k
  $fn$;
  create function vault._decrypt(p_secret text) returns text
  language sql stable security definer set search_path = ''
  as $fn$
    select extensions.pgp_sym_decrypt(pg_catalog.decode(p_secret, 'base64'),
      pg_catalog.encode(k.key, 'hex'))
    from vault_root_key.root_key k
  $fn$;
  revoke execute on function vault._encrypt(text), vault._decrypt(text) from public;

  create function vault.create_secret(
    new_secret text,
    new_name text default null,
    new_description text default '',
    new_key_id uuid default null
  ) returns uuid
  language sql volatile security definer set search_path = ''
  as $fn$
    insert into vault.secrets (name, description, secret, key_id)
    values (new_name, coalesce(new_description, ''), vault._encrypt(new_secret), new_key_id)
    returning id
  $fn$;

  create function vault.update_secret(
    secret_id uuid,
    new_secret text default null,
    new_name text default null,
    new_description text default null,
    new_key_id uuid default null
  ) returns void
  language sql volatile security definer set search_path = ''
  as $fn$
    update vault.secrets s set
      secret = coalesce(vault._encrypt(new_secret), s.secret),
      name = coalesce(new_name, s.name),
      description = coalesce(new_description, s.description),
      key_id = coalesce(new_key_id, s.key_id),
      updated_at = now()
    where s.id = secret_id
  $fn$;
  revoke execute on function vault.create_secret(text, text, text, uuid),
    vault.update_secret(uuid, text, text, text, uuid) from public;

  -- Like Supabase's: the view runs with its owner's rights, readable only by roles granted it.
  create view vault.decrypted_secrets as
    select s.id, s.name, s.description, s.secret, vault._decrypt(s.secret) as decrypted_secret,
      s.key_id, s.nonce, s.created_at, s.updated_at
    from vault.secrets s;
  revoke all on table vault.decrypted_secrets from public;
end
$bootstrap$;
