-- Tenants and their channel accounts (a WhatsApp number, a Messenger page, a Genesys Open
-- Messaging integration, …). An account is found by what a provider's webhook names
-- (`kind`, `external_id`: the WhatsApp phone_number_id, the page id, the Genesys integration id)
-- in one lookup on a unique index. Its credentials are one JSON document in Supabase Vault
-- (`vault.secrets`, encrypted at rest), never a column here: the table holds only the secret's
-- id. Plain PostgreSQL and PGlite get the same Vault interface from scripts/sql/bootstrap.sql.
--
-- Vault is read by the database owner (the role behind SUPABASE_DB_URL that the functions use);
-- nothing here grants vault.* to the API roles, so no client role can read a credential, whatever
-- function it is allowed to call.
--
-- The env-configured providers (WHATSAPP_*, GENESYS_*, …) are the default tenant's accounts: they
-- need no row, and the default tenant below exists so a single-tenant deployment needs nothing.

create table public.tenants (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name text not null check (length(name) between 1 and 200),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table public.tenants is
  'An organisation using the stack. The default tenant (slug default) owns the env-configured providers.';

insert into public.tenants (id, slug, name)
values ('00000000-0000-0000-0000-000000000001', 'default', 'Default')
on conflict do nothing;

create table public.channel_accounts (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  kind text not null check (kind in ('whatsapp', 'messenger', 'instagram', 'email', 'genesys')),
  -- WhatsApp: phone_number_id; Messenger/Instagram: page or account id; Genesys: integration id.
  external_id text not null check (length(external_id) between 1 and 200),
  display_name text,
  -- Who answers a person who writes to this account (WhatsApp): the AI, Genesys agents, or the
  -- AI until a handoff (conversation_handoff).
  routing text not null default 'ai' check (routing in ('ai', 'agent', 'ai_then_agent')),
  -- Non-secret settings: API base URLs, the display phone number.
  settings jsonb not null default '{}' check (jsonb_typeof(settings) = 'object'),
  -- vault.secrets.id of this account's credentials (a JSON object).
  credentials_secret_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint channel_accounts_kind_external_id_key unique (kind, external_id)
);

create index channel_accounts_tenant_kind_idx on public.channel_accounts (tenant_id, kind);

comment on table public.channel_accounts is
  'A tenant''s account on a channel, found by (kind, external_id); credentials in Vault (credentials_secret_id).';

create trigger tenants_set_updated_at before update on public.tenants
  for each row execute function public.omnichannel_set_updated_at();
create trigger channel_accounts_set_updated_at before update on public.channel_accounts
  for each row execute function public.omnichannel_set_updated_at();

alter table public.tenants enable row level security;
alter table public.channel_accounts enable row level security;
revoke all on table public.tenants, public.channel_accounts from anon, authenticated;
grant select, insert, update, delete on table public.tenants, public.channel_accounts
  to service_role;

do $policies$
declare
  v_table text;
  v_op text;
begin
  foreach v_table in array array['tenants', 'channel_accounts'] loop
    foreach v_op in array array['select', 'insert', 'update', 'delete'] loop
      execute pg_catalog.format(
        'create policy %I on public.%I as permissive for %s to service_role %s',
        'omnichannel_service_role_' || v_op, v_table, v_op,
        case v_op when 'insert' then 'with check (true)'
                  when 'update' then 'using (true) with check (true)'
                  else 'using (true)' end);
    end loop;
  end loop;
end
$policies$;

-- Creates or updates an account and, when p_credentials is given, stores them in Vault (a new
-- secret the first time, the same secret updated after). Null credentials keep the stored ones.
create function public.save_channel_account(
  p_tenant_id uuid,
  p_kind text,
  p_external_id text,
  p_credentials jsonb default null,
  p_display_name text default null,
  p_routing text default null,
  p_settings jsonb default null
)
returns uuid
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_id uuid;
  v_secret uuid;
begin
  if p_credentials is not null and jsonb_typeof(p_credentials) <> 'object' then
    raise exception 'p_credentials must be a JSON object' using errcode = '22023';
  end if;
  insert into public.channel_accounts as a (tenant_id, kind, external_id, display_name, routing,
                                            settings)
  values (p_tenant_id, p_kind, p_external_id, p_display_name, coalesce(p_routing, 'ai'),
          coalesce(p_settings, '{}'))
  on conflict (kind, external_id) do update set
    display_name = coalesce(excluded.display_name, a.display_name),
    routing = coalesce(p_routing, a.routing),
    settings = coalesce(p_settings, a.settings)
  -- An account never moves to another tenant by being saved again.
  where a.tenant_id = excluded.tenant_id
  returning a.id, a.credentials_secret_id into v_id, v_secret;
  if v_id is null then
    raise exception '% account % belongs to another tenant', p_kind, p_external_id
      using errcode = '23505';
  end if;
  if p_credentials is not null then
    if v_secret is null then
      v_secret := vault.create_secret(p_credentials::text, 'channel_account:' || v_id::text,
        p_kind || ' credentials');
      update public.channel_accounts set credentials_secret_id = v_secret where id = v_id;
    else
      perform vault.update_secret(v_secret, p_credentials::text);
    end if;
  end if;
  return v_id;
end;
$$;

-- The account a webhook names, with its tenant and credentials: one lookup on the
-- (kind, external_id) index and one on vault.secrets' primary key. No row for an unknown account.
create function public.resolve_channel_account(p_kind text, p_external_id text)
returns table (
  account_id uuid,
  tenant_id uuid,
  routing text,
  settings jsonb,
  credentials jsonb
)
language sql
stable
security invoker
set search_path = ''
as $$
  select a.id, a.tenant_id, a.routing, a.settings,
    coalesce((select s.decrypted_secret::jsonb from vault.decrypted_secrets s
              where s.id = a.credentials_secret_id), '{}')
  from public.channel_accounts a
  where a.kind = p_kind and a.external_id = p_external_id
$$;

-- A tenant's account of one kind (its Genesys integration, for a WhatsApp number's handoff).
create function public.tenant_channel_account(p_tenant_id uuid, p_kind text)
returns table (
  account_id uuid,
  external_id text,
  routing text,
  settings jsonb,
  credentials jsonb
)
language sql
stable
security invoker
set search_path = ''
as $$
  select a.id, a.external_id, a.routing, a.settings,
    coalesce((select s.decrypted_secret::jsonb from vault.decrypted_secrets s
              where s.id = a.credentials_secret_id), '{}')
  from public.channel_accounts a
  where a.tenant_id = p_tenant_id and a.kind = p_kind
  order by a.created_at
  limit 1
$$;

revoke execute on function
  public.save_channel_account(uuid, text, text, jsonb, text, text, jsonb),
  public.resolve_channel_account(text, text),
  public.tenant_channel_account(uuid, text)
  from public, anon, authenticated;
grant execute on function
  public.save_channel_account(uuid, text, text, jsonb, text, text, jsonb),
  public.resolve_channel_account(text, text),
  public.tenant_channel_account(uuid, text)
  to service_role;
