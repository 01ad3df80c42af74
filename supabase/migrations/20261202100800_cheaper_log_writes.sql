-- Cheaper writes to the delivery log, every path's (post-call, replies, inbound, statuses, dispatch).
--
-- 1. message_delivery_log_guard_status ranked statuses with a jsonb constant, which PL/pgSQL
--    parses again on every call: about 11 µs of each row's insert or update (20,000 updates:
--    670 ms with it, 440 ms with array_position). Same moves allowed and refused, same stamps.
-- 2. message_tenant tried `update omnichannel_sessions … where tenant_id is null` and
--    `insert into tenant_profiles … on conflict do nothing` for every message with a session and
--    a person, although both are already done for all but a conversation's first message. It
--    now reads the session's tenant (which it needs anyway when the writer names none) and
--    updates it only when unset, and inserts the person's tenant link only when missing.
-- 3. whatsapp_window_open keeps the planner on the person's index whatever the statistics say:
--    on a never-analysed log it combined that index with the channel's half of the provider-id
--    index, reading every WhatsApp message's entry on each check (1.28 ms a post-call
--    notification in the benchmark, where it takes 0.02 ms; tests/outbound/window-plan.test.ts).

create or replace function public.message_delivery_log_guard_status()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_forward boolean;
begin
  if tg_op = 'UPDATE' then
    if new.status is not distinct from old.status then
      v_forward := false;
    else
      v_forward := case
        when old.status in ('failed', 'received', 'blocked', 'read') then false
        when new.status in ('unknown', 'sent', 'delivered', 'read')
          then pg_catalog.array_position('{queued,unknown,sent,delivered,read}'::text[], new.status)
             > pg_catalog.array_position('{queued,unknown,sent,delivered,read}'::text[], old.status)
        when new.status = 'failed' then old.status in ('queued', 'unknown', 'sent')
        when new.status = 'blocked' then old.status in ('queued', 'unknown')
        else false
      end;
      if not v_forward then
        -- As in 20261129110000: a refused move to failed leaves the error columns as they were.
        if new.status = 'failed' then
          new.error_code := old.error_code;
          new.error_message := old.error_message;
          new.error_class := old.error_class;
        end if;
        new.status := old.status;
      end if;
    end if;
  end if;

  if tg_op = 'INSERT' or v_forward then
    case new.status
      when 'queued' then new.queued_at := coalesce(new.queued_at, pg_catalog.now());
      when 'sent' then new.sent_at := coalesce(new.sent_at, pg_catalog.now());
      when 'delivered' then new.delivered_at := coalesce(new.delivered_at, pg_catalog.now());
      when 'read' then new.read_at := coalesce(new.read_at, pg_catalog.now());
      when 'failed' then new.failed_at := coalesce(new.failed_at, pg_catalog.now());
      when 'received' then new.received_at := coalesce(new.received_at, pg_catalog.now());
      else null;
    end case;
  end if;

  new.updated_at := pg_catalog.now();
  return new;
end;
$$;

create or replace function public.message_tenant()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_tenant uuid;
  v_session_tenant uuid;
  v_session_found boolean := false;
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
  if new.session_id is not null then
    select s.tenant_id into v_session_tenant
    from public.omnichannel_sessions s where s.id = new.session_id;
    v_session_found := found;
    v_tenant := coalesce(v_tenant, v_session_tenant);
  end if;
  new.tenant_id := coalesce(v_tenant, '00000000-0000-0000-0000-000000000001'::uuid);
  -- A conversation takes the tenant of its first message (unless another writer got there first).
  if v_session_found and v_session_tenant is null then
    update public.omnichannel_sessions s set tenant_id = new.tenant_id
    where s.id = new.session_id and s.tenant_id is null;
  end if;
  if new.profile_id is not null and not exists (
    select 1 from public.tenant_profiles t
    where t.tenant_id = new.tenant_id and t.profile_id = new.profile_id
  ) then
    insert into public.tenant_profiles (tenant_id, profile_id)
    values (new.tenant_id, new.profile_id)
    on conflict do nothing;
  end if;
  return new;
end;
$$;

create or replace function public.whatsapp_window_open(p_profile_id uuid)
returns boolean
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  -- (channel || '') and (direction || '') keep the planner on the person's index: the
  -- provider-id index leads with the channel (every WhatsApp message's entry), and the
  -- inbound-only indexes are by time and channel (every person's messages of the last day).
  return exists (
    select 1 from public.message_delivery_log m
    where m.profile_id = p_profile_id
      and (m.channel || '') = 'whatsapp' and (m.direction || '') = 'inbound'
      and m.created_at > now() - interval '24 hours'
  );
end;
$$;
