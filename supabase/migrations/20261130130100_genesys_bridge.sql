-- WhatsApp ↔ Genesys Cloud Open Messaging: the OAuth token cache every isolate shares, the
-- conversation mapping (a person on a WhatsApp number ↔ a Genesys integration) and message
-- tracking (a Genesys message id ↔ our delivery-log row). message_delivery_log stays the one
-- record of every message; these rows only link it to Genesys.

-- OAuth client-credentials tokens, one per key ('genesys:<integration id>'), the token itself
-- in Vault. claim_oauth_token hands a valid token to everyone, and the right to fetch a new one
-- to exactly one caller at a time (a lease), so however many isolates start at once, one token
-- request goes out per key and lifetime.
create table public.oauth_tokens (
  token_key text primary key,
  secret_id uuid,
  expires_at timestamptz,
  refreshing_until timestamptz,
  -- Token requests granted for this key (an operator's figure: a steady state is 1 per lifetime).
  refreshes bigint not null default 0,
  updated_at timestamptz not null default now()
);

comment on table public.oauth_tokens is
  'Cached OAuth access tokens (in Vault, secret_id) shared by every isolate; one refresh at a time per key.';

create table public.genesys_conversations (
  integration_id text not null,
  -- The person: E.164.
  whatsapp_id text not null,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  -- The WhatsApp phone_number_id the person wrote to: agents' replies go out from it.
  phone_number_id text,
  session_id uuid references public.omnichannel_sessions (id) on delete set null,
  genesys_conversation_id text,
  -- ai: the AI answers (ai_then_agent before a handoff); agent: Genesys agents do.
  state text not null default 'agent' check (state in ('ai', 'agent')),
  handed_off_at timestamptz,
  handoff_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (integration_id, whatsapp_id)
);

create index genesys_conversations_tenant_idx on public.genesys_conversations (tenant_id, updated_at desc);

comment on table public.genesys_conversations is
  'A person on WhatsApp ↔ a tenant''s Genesys Open Messaging integration; state says who answers.';

create table public.genesys_messages (
  integration_id text not null,
  genesys_message_id text not null,
  delivery_id uuid not null references public.message_delivery_log (id) on delete cascade,
  -- inbound: a WhatsApp message we forwarded to Genesys; outbound: an agent's message.
  direction text not null check (direction in ('inbound', 'outbound')),
  -- The last receipt Genesys sent about a message we posted (Published, Delivered, Failed, …).
  receipt_status text,
  receipt_reason text,
  receipt_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (integration_id, genesys_message_id)
);

create index genesys_messages_delivery_idx on public.genesys_messages (delivery_id);

comment on table public.genesys_messages is
  'Message tracking: a Genesys message id ↔ our message_delivery_log row.';

create trigger genesys_conversations_set_updated_at before update on public.genesys_conversations
  for each row execute function public.omnichannel_set_updated_at();

alter table public.oauth_tokens enable row level security;
alter table public.genesys_conversations enable row level security;
alter table public.genesys_messages enable row level security;
revoke all on table public.oauth_tokens, public.genesys_conversations, public.genesys_messages
  from anon, authenticated;
grant select, insert, update, delete on table public.oauth_tokens, public.genesys_conversations,
  public.genesys_messages to service_role;

do $policies$
declare
  v_table text;
  v_op text;
begin
  foreach v_table in array array['oauth_tokens', 'genesys_conversations', 'genesys_messages'] loop
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

-- A token valid for at least p_min_ttl_seconds more (refresh = false), or none: then refresh is
-- true for the one caller that must fetch a new token (it holds the lease for p_lease_seconds)
-- and false for the others, who wait and ask again.
create function public.claim_oauth_token(
  p_token_key text,
  p_min_ttl_seconds integer default 60,
  p_lease_seconds integer default 15
)
returns table (access_token text, expires_at timestamptz, refresh boolean)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v public.oauth_tokens;
begin
  -- The common case reads without a lock.
  return query
    select s.decrypted_secret, t.expires_at, false
    from public.oauth_tokens t join vault.decrypted_secrets s on s.id = t.secret_id
    where t.token_key = p_token_key and t.expires_at > now() + make_interval(secs => p_min_ttl_seconds);
  if found then
    return;
  end if;
  insert into public.oauth_tokens (token_key) values (p_token_key) on conflict do nothing;
  select * into v from public.oauth_tokens t where t.token_key = p_token_key for update;
  if v.secret_id is not null and v.expires_at > now() + make_interval(secs => p_min_ttl_seconds) then
    return query select s.decrypted_secret, v.expires_at, false
      from vault.decrypted_secrets s where s.id = v.secret_id;
    return;
  end if;
  if v.refreshing_until > now() then
    return query select null::text, null::timestamptz, false;
    return;
  end if;
  update public.oauth_tokens t
  set refreshing_until = now() + make_interval(secs => p_lease_seconds),
      refreshes = t.refreshes + 1
  where t.token_key = p_token_key;
  return query select null::text, null::timestamptz, true;
end;
$$;

-- The new token from the lease holder: stored in Vault, the lease released.
create function public.store_oauth_token(
  p_token_key text,
  p_access_token text,
  p_expires_in_seconds integer
)
returns timestamptz
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_secret uuid;
  v_expires timestamptz := now() + make_interval(secs => p_expires_in_seconds);
begin
  select t.secret_id into v_secret from public.oauth_tokens t
  where t.token_key = p_token_key for update;
  -- A secret of a row that was deleted (by an operator) is reused, not duplicated.
  v_secret := coalesce(v_secret,
    (select s.id from vault.secrets s where s.name = 'oauth_token:' || p_token_key));
  if v_secret is null then
    v_secret := vault.create_secret(p_access_token, 'oauth_token:' || p_token_key, 'OAuth access token');
  else
    perform vault.update_secret(v_secret, p_access_token);
  end if;
  insert into public.oauth_tokens as t (token_key, secret_id, expires_at)
  values (p_token_key, v_secret, v_expires)
  on conflict (token_key) do update
    set secret_id = v_secret, expires_at = v_expires, refreshing_until = null, updated_at = now();
  return v_expires;
end;
$$;

-- A token the provider refused (401) is forgotten, if it is still the current one, so the next
-- claim refreshes; with a null token, only the lease is released (a failed token request).
create function public.forget_oauth_token(p_token_key text, p_access_token text default null)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if p_access_token is null then
    update public.oauth_tokens set refreshing_until = null, updated_at = now()
    where token_key = p_token_key;
    return;
  end if;
  update public.oauth_tokens t set expires_at = null, updated_at = now()
  where t.token_key = p_token_key
    and exists (select 1 from vault.decrypted_secrets s
                where s.id = t.secret_id and s.decrypted_secret = p_access_token);
end;
$$;

-- A WhatsApp message for Genesys: the conversation is mapped (created on first contact) and the
-- message tracked. Returns whether it was already tracked (a redelivered webhook) and the
-- mapping's state.
create function public.track_genesys_inbound(
  p_integration_id text,
  p_whatsapp_id text,
  p_tenant_id uuid,
  p_session_id uuid,
  p_delivery_id uuid,
  p_genesys_message_id text,
  p_phone_number_id text default null,
  p_state text default 'agent'
)
returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_new boolean;
begin
  insert into public.genesys_conversations as c
    (integration_id, whatsapp_id, tenant_id, phone_number_id, session_id, state)
  values (p_integration_id, p_whatsapp_id, p_tenant_id, p_phone_number_id, p_session_id, p_state)
  on conflict (integration_id, whatsapp_id) do update
    set phone_number_id = coalesce(excluded.phone_number_id, c.phone_number_id),
        session_id = coalesce(excluded.session_id, c.session_id),
        updated_at = now();
  insert into public.genesys_messages (integration_id, genesys_message_id, delivery_id, direction)
  values (p_integration_id, p_genesys_message_id, p_delivery_id, 'inbound')
  on conflict do nothing;
  get diagnostics v_new = row_count;
  return v_new;
end;
$$;

-- The mapping for an agent's message: where it goes (the person, the number they wrote to).
create function public.genesys_conversation(p_integration_id text, p_whatsapp_id text)
returns table (
  tenant_id uuid,
  phone_number_id text,
  session_id uuid,
  state text,
  genesys_conversation_id text
)
language sql
stable
security invoker
set search_path = ''
as $$
  select c.tenant_id, c.phone_number_id, c.session_id, c.state, c.genesys_conversation_id
  from public.genesys_conversations c
  where c.integration_id = p_integration_id and c.whatsapp_id = p_whatsapp_id
$$;

-- An agent's message, once its WhatsApp row exists: tracked, the conversation id remembered.
-- False when this Genesys message id was already tracked (Genesys retried).
create function public.track_genesys_outbound(
  p_integration_id text,
  p_whatsapp_id text,
  p_genesys_message_id text,
  p_delivery_id uuid,
  p_genesys_conversation_id text default null
)
returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_new boolean;
begin
  insert into public.genesys_messages (integration_id, genesys_message_id, delivery_id, direction)
  values (p_integration_id, p_genesys_message_id, p_delivery_id, 'outbound')
  on conflict do nothing;
  get diagnostics v_new = row_count;
  update public.genesys_conversations
  set genesys_conversation_id = coalesce(p_genesys_conversation_id, genesys_conversation_id),
      state = 'agent'
  where integration_id = p_integration_id and whatsapp_id = p_whatsapp_id;
  return v_new;
end;
$$;

-- The Genesys message an agent sent as this WhatsApp row (for its receipts), if any.
create function public.genesys_message_of_delivery(p_delivery_id uuid)
returns table (integration_id text, genesys_message_id text, whatsapp_id text)
language sql
stable
security invoker
set search_path = ''
as $$
  select m.integration_id, m.genesys_message_id, d.recipient
  from public.genesys_messages m
  join public.message_delivery_log d on d.id = m.delivery_id
  where m.delivery_id = p_delivery_id and m.direction = 'outbound'
$$;

-- A Genesys receipt about a message we posted to it: kept on its tracking row. False when the
-- message is not ours (or not tracked).
create function public.record_genesys_receipt(
  p_integration_id text,
  p_genesys_message_id text,
  p_status text,
  p_reason text default null
)
returns boolean
language sql
security invoker
set search_path = ''
as $$
  with updated as (
    update public.genesys_messages
    set receipt_status = p_status, receipt_reason = p_reason, receipt_at = now()
    where integration_id = p_integration_id and genesys_message_id = p_genesys_message_id
    returning 1
  )
  select exists (select 1 from updated)
$$;

revoke execute on function
  public.claim_oauth_token(text, integer, integer),
  public.store_oauth_token(text, text, integer),
  public.forget_oauth_token(text, text),
  public.track_genesys_inbound(text, text, uuid, uuid, uuid, text, text, text),
  public.genesys_conversation(text, text),
  public.track_genesys_outbound(text, text, text, uuid, text),
  public.genesys_message_of_delivery(uuid),
  public.record_genesys_receipt(text, text, text, text)
  from public, anon, authenticated;
grant execute on function
  public.claim_oauth_token(text, integer, integer),
  public.store_oauth_token(text, text, integer),
  public.forget_oauth_token(text, text),
  public.track_genesys_inbound(text, text, uuid, uuid, uuid, text, text, text),
  public.genesys_conversation(text, text),
  public.track_genesys_outbound(text, text, text, uuid, text),
  public.genesys_message_of_delivery(uuid),
  public.record_genesys_receipt(text, text, text, text)
  to service_role;
