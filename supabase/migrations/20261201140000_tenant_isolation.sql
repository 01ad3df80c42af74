-- Per-tenant isolation of conversations, and what the `tenants` admin function needs.
--
-- Every message in the delivery log belongs to the tenant of the channel account it came in on
-- or went out from; a session belongs to the tenant of its first message. Both are set by a
-- trigger on the delivery log, so the hot-path functions that write messages (the inbox, the
-- outbound begin/record pair, Genesys) stay as they are:
--   * an inbound WhatsApp message names the number it was sent to
--     (metadata.business.phone_number_id): the account holding that number gives the tenant
--     (one lookup on the unique (kind, external_id) index);
--   * any other message takes its session's tenant (an outbound reply, a fallback SMS, a retry);
--   * otherwise the default tenant (the env-configured providers are its accounts).
-- A session with no tenant yet takes the tenant of the first message written to it. Existing
-- sessions and messages belong to the default tenant (the column default, no table rewrite).
--
-- Known limit: a person has one live session (omnichannel_sessions_one_live_per_profile). When
-- the same person writes to two tenants' numbers within one session's life, each message is
-- tagged with the tenant whose number it reached, so neither tenant reads the other's messages,
-- but the session row (and its context) stays with the tenant that opened it. Separate sessions
-- per tenant need get_or_create_session_for_profile and the inbox to take the tenant (docs/tenants.md).
--
-- Client roles: an `authenticated` user whose JWT carries `app_metadata.tenant_id` (set by the
-- service role through Supabase Auth's admin API; users cannot change app_metadata) reads its
-- tenant's sessions, messages and the profiles of people who wrote to it, and nothing else.
-- These policies add to the existing "own rows" ones (policies are permissive: either grants).

alter table public.omnichannel_sessions add column tenant_id uuid
  references public.tenants (id) on delete restrict;
update public.omnichannel_sessions
set tenant_id = '00000000-0000-0000-0000-000000000001'
where tenant_id is null;
create index omnichannel_sessions_tenant_activity_idx
  on public.omnichannel_sessions (tenant_id, last_activity_at desc);

comment on column public.omnichannel_sessions.tenant_id is
  'The tenant of the session''s first message (public.message_tenant); null until one is written.';

-- A constant default is stored in the catalog: existing rows read it without a rewrite.
alter table public.message_delivery_log add column tenant_id uuid not null
  default '00000000-0000-0000-0000-000000000001';
alter table public.message_delivery_log add constraint message_delivery_log_tenant_id_fkey
  foreign key (tenant_id) references public.tenants (id) on delete restrict not valid;
create index message_delivery_log_tenant_created_idx
  on public.message_delivery_log (tenant_id, created_at desc);

comment on column public.message_delivery_log.tenant_id is
  'The tenant whose channel account received or sent the message (public.message_tenant).';

-- An account can be disabled without losing its history: a disabled number is unknown to the
-- webhooks (acknowledged, logged, dropped) and sends nothing.
alter table public.channel_accounts add column disabled_at timestamptz;

-- Which tenants each person has exchanged messages with (for the profiles policy below).
create table public.tenant_profiles (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  profile_id uuid not null references public.profiles (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (tenant_id, profile_id)
);
create index tenant_profiles_profile_id_idx on public.tenant_profiles (profile_id);

comment on table public.tenant_profiles is
  'A person (profile) and a tenant they exchanged a message with; kept by public.message_tenant.';

insert into public.tenant_profiles (tenant_id, profile_id)
select distinct m.tenant_id, m.profile_id from public.message_delivery_log m
where m.profile_id is not null
on conflict do nothing;

alter table public.tenant_profiles enable row level security;
revoke all on table public.tenant_profiles from anon, authenticated;
grant select, insert, update, delete on table public.tenant_profiles to service_role;
grant select on table public.tenant_profiles to authenticated;
create policy omnichannel_service_role_select on public.tenant_profiles
  as permissive for select to service_role using (true);
create policy omnichannel_service_role_insert on public.tenant_profiles
  as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_update on public.tenant_profiles
  as permissive for update to service_role using (true) with check (true);
create policy omnichannel_service_role_delete on public.tenant_profiles
  as permissive for delete to service_role using (true);

create function public.message_tenant()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_tenant uuid;
begin
  -- A writer that names another tenant is trusted; the default (the column's) is resolved.
  if new.tenant_id <> '00000000-0000-0000-0000-000000000001'::uuid then
    v_tenant := new.tenant_id;
  end if;
  if v_tenant is null and new.channel = 'whatsapp' and new.direction = 'inbound'
     and new.metadata -> 'business' ->> 'phone_number_id' is not null then
    select a.tenant_id into v_tenant
    from public.channel_accounts a
    where a.kind = 'whatsapp'
      and a.external_id = new.metadata -> 'business' ->> 'phone_number_id';
  end if;
  if v_tenant is null and new.session_id is not null then
    select s.tenant_id into v_tenant from public.omnichannel_sessions s where s.id = new.session_id;
  end if;
  new.tenant_id := coalesce(v_tenant, '00000000-0000-0000-0000-000000000001'::uuid);
  if new.session_id is not null then
    update public.omnichannel_sessions s set tenant_id = new.tenant_id
    where s.id = new.session_id and s.tenant_id is null;
  end if;
  if new.profile_id is not null then
    insert into public.tenant_profiles (tenant_id, profile_id)
    values (new.tenant_id, new.profile_id)
    on conflict do nothing;
  end if;
  return new;
end;
$$;

create trigger message_delivery_log_tenant before insert on public.message_delivery_log
  for each row execute function public.message_tenant();

revoke execute on function public.message_tenant() from public, anon, authenticated;

-- The tenant a client's JWT names (app_metadata.tenant_id), or null. Inlined in each policy
-- rather than a function: client roles execute no function in public (schema-hygiene test).
create policy tenant_members_select on public.omnichannel_sessions
  as permissive for select to authenticated
  using (tenant_id = (select case
    when auth.jwt() -> 'app_metadata' ->> 'tenant_id'
      ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
    then (auth.jwt() -> 'app_metadata' ->> 'tenant_id')::uuid end));

create policy tenant_members_select on public.message_delivery_log
  as permissive for select to authenticated
  using (tenant_id = (select case
    when auth.jwt() -> 'app_metadata' ->> 'tenant_id'
      ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
    then (auth.jwt() -> 'app_metadata' ->> 'tenant_id')::uuid end));

create policy tenant_members_select on public.tenant_profiles
  as permissive for select to authenticated
  using (tenant_id = (select case
    when auth.jwt() -> 'app_metadata' ->> 'tenant_id'
      ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
    then (auth.jwt() -> 'app_metadata' ->> 'tenant_id')::uuid end));

-- A person is visible to the tenants they exchanged a message with. The pairs are kept by the
-- trigger above rather than found through sessions or messages: the existing "own rows" policies
-- of sessions and messages read profiles, so a profiles policy reading them would recurse.
create policy tenant_members_select on public.profiles
  as permissive for select to authenticated
  using (exists (select 1 from public.tenant_profiles tp where tp.profile_id = profiles.id));

-- Accounts the webhooks and senders resolve: a disabled account is not found.
create or replace function public.resolve_channel_account(p_kind text, p_external_id text)
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
  where a.kind = p_kind and a.external_id = p_external_id and a.disabled_at is null
$$;

create or replace function public.tenant_channel_account(p_tenant_id uuid, p_kind text)
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
  where a.tenant_id = p_tenant_id and a.kind = p_kind and a.disabled_at is null
  order by a.created_at
  limit 1
$$;

-- A tenant's accounts as the admin API shows them: which credential fields are set, never their
-- values (the decrypted document does not leave this function).
create function public.list_channel_accounts(p_tenant_id uuid)
returns table (
  id uuid,
  tenant_id uuid,
  kind text,
  external_id text,
  display_name text,
  routing text,
  settings jsonb,
  credential_fields text[],
  disabled_at timestamptz,
  created_at timestamptz,
  updated_at timestamptz
)
language sql
stable
security invoker
set search_path = ''
as $$
  select a.id, a.tenant_id, a.kind, a.external_id, a.display_name, a.routing, a.settings,
    coalesce((select array_agg(k order by k)
              from vault.decrypted_secrets s,
                   jsonb_object_keys(s.decrypted_secret::jsonb) k
              where s.id = a.credentials_secret_id), '{}'),
    a.disabled_at, a.created_at, a.updated_at
  from public.channel_accounts a
  where a.tenant_id = p_tenant_id
  order by a.kind, a.created_at
$$;

-- The per-tenant dashboard in one round trip: conversations by status, today's messages by
-- direction and channel (today in UTC from p_since), the 10 most recent conversations, and the
-- conversations handed to Genesys agents that are still live ("handoffs waiting": the
-- conversation mapping is in state `agent` and its session is not closed).
create function public.tenant_dashboard(p_tenant_id uuid, p_since timestamptz default null)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select jsonb_build_object(
    'conversations', coalesce((
      select jsonb_object_agg(c.status, c.n) from (
        select s.status, count(*) as n from public.omnichannel_sessions s
        where s.tenant_id = p_tenant_id group by s.status) c), '{}'),
    'messages_today', coalesce((
      select jsonb_agg(jsonb_build_object('direction', m.direction, 'channel', m.channel,
                                          'count', m.n) order by m.direction, m.channel)
      from (
        select l.direction, l.channel, count(*) as n from public.message_delivery_log l
        where l.tenant_id = p_tenant_id
          and l.created_at >= coalesce(p_since, date_trunc('day', now() at time zone 'utc')
                                                  at time zone 'utc')
        group by l.direction, l.channel) m), '[]'),
    'recent_conversations', coalesce((
      select jsonb_agg(jsonb_build_object(
        'session_id', r.id, 'status', r.status, 'conversation_status', r.conversation_status,
        'last_channel', r.last_channel, 'last_activity_at', r.last_activity_at,
        'phone_number', r.phone_number, 'display_name', r.display_name)
        order by r.last_activity_at desc)
      from (
        select s.id, s.status, s.conversation_status, s.last_channel, s.last_activity_at,
          p.phone_number, p.display_name
        from public.omnichannel_sessions s
        join public.profiles p on p.id = s.profile_id
        where s.tenant_id = p_tenant_id
        order by s.last_activity_at desc
        limit 10) r), '[]'),
    'handoffs_waiting', (
      select count(*) from public.genesys_conversations g
      join public.omnichannel_sessions s on s.id = g.session_id
      where g.tenant_id = p_tenant_id and g.state = 'agent' and s.status <> 'closed')
  )
$$;

-- Disables (or enables again) an account of this tenant; false when the tenant has no such
-- account.
create function public.set_channel_account_disabled(
  p_tenant_id uuid,
  p_account_id uuid,
  p_disabled boolean
)
returns boolean
language sql
security invoker
set search_path = ''
as $$
  with changed as (
    update public.channel_accounts a
    set disabled_at = case when p_disabled then coalesce(a.disabled_at, now()) end
    where a.id = p_account_id and a.tenant_id = p_tenant_id
    returning 1
  )
  select exists (select 1 from changed)
$$;

revoke execute on function
  public.list_channel_accounts(uuid),
  public.tenant_dashboard(uuid, timestamptz),
  public.set_channel_account_disabled(uuid, uuid, boolean)
  from public, anon, authenticated;
grant execute on function
  public.list_channel_accounts(uuid),
  public.tenant_dashboard(uuid, timestamptz),
  public.set_channel_account_disabled(uuid, uuid, boolean)
  to service_role;
