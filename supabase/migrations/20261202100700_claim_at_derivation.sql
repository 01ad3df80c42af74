-- A message the inbox worker derives and will answer itself is written already claimed.
-- The worker claimed each reply after deriving its message: an update of the inbound row
-- (reply_state in_progress, leased_until), never HOT since the owed-replies index holds both,
-- 0.37 ms of the 0.84 ms claim_inbound_reply_context cost per reply (pg_stat_statements over the
-- webhook benchmark). process_inbound_inbox now takes p_claim_seconds: the messages it hands back
-- owed a reply (WhatsApp and SMS, needing one) are inserted in_progress with the lease, and it
-- answers each one's lease (claimed_until) for the worker to present to
-- claim_inbound_reply_context (p_claimed_until), which then only reads. The lease travels as
-- text both ways: postgres.js sends a timestamptz parameter through a JavaScript Date, to the
-- millisecond, and the lease is compared to the microsecond. A
-- worker that dies leaves the lease to expire, and the sweeper (list_pending_inbound_replies,
-- claim_inbound_reply) answers the message as before; one that presents a lease it no longer
-- holds (expired, taken) claims as before, or is refused.
--
-- Changed signatures are dropped first (another overload would make named calls ambiguous).
drop function public.process_inbound_inbox(integer);
drop function public.record_inbound_message(text, text, text, text, text, text, jsonb, text, text, boolean, text, text);
drop function public.claim_inbound_reply_context(uuid, integer, integer);

create function public.record_inbound_message(p_channel text, p_sender text, p_provider text, p_provider_message_id text, p_message_type text DEFAULT 'text'::text, p_body text DEFAULT NULL::text, p_metadata jsonb DEFAULT '{}'::jsonb, p_correlation_id text DEFAULT NULL::text, p_whatsapp_jid text DEFAULT NULL::text, p_needs_reply boolean DEFAULT true, p_display_name text DEFAULT NULL::text, p_sender_kind text DEFAULT 'phone'::text, p_claim_seconds integer DEFAULT NULL::integer)
 RETURNS TABLE(delivery_id uuid, session_id uuid, profile_id uuid, is_new boolean, allows_sms boolean)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_session record;
  v_id uuid;
  v_kind text := coalesce(p_sender_kind, 'phone');
  v_sender text;
  v_tenant uuid;
begin
  if p_provider_message_id is null or length(p_provider_message_id) = 0 then
    raise exception 'provider_message_id is required' using errcode = '22023';
  end if;
  v_sender := public.normalize_identity(v_kind, p_sender);

  -- The tenant the message's row will get (public.message_tenant: the WhatsApp number it
  -- reached, else the default), so a new session is opened with it instead of updated after.
  if p_channel = 'whatsapp' and p_metadata -> 'business' ->> 'phone_number_id' is not null then
    select a.tenant_id into v_tenant
    from public.channel_accounts a
    where a.kind = 'whatsapp' and a.external_id = p_metadata -> 'business' ->> 'phone_number_id';
  end if;
  v_tenant := coalesce(v_tenant, '00000000-0000-0000-0000-000000000001'::uuid);

  if v_kind = 'phone' then
    select * into v_session
    from public.get_or_create_session_for_profile(
      public.resolve_profile('phone', v_sender, p_channel), p_channel, null, '{}'::jsonb, null,
      v_tenant);
  else
    select * into v_session
    from public.get_or_create_session_for_profile(
      public.resolve_profile(v_kind, v_sender, p_channel, p_display_name), p_channel, null,
      '{}'::jsonb, null, v_tenant);
  end if;

  if p_channel = 'whatsapp' then
    update public.profiles p
    set has_whatsapp = true,
        whatsapp_jid = coalesce(p_whatsapp_jid, p.whatsapp_jid),
        display_name = coalesce(p.display_name, p_display_name)
    where p.id = v_session.profile_id;
  elsif p_display_name is not null then
    update public.profiles p set display_name = coalesce(p.display_name, p_display_name)
    where p.id = v_session.profile_id and p.display_name is null;
  end if;

  -- p_claim_seconds: the caller answers the message itself, so the row is written already
  -- claimed (in_progress, leased until now() + that), instead of pending and claimed after.
  insert into public.message_delivery_log as m (
    session_id, profile_id, channel, direction, message_type, status, provider,
    provider_message_id, sender, body, metadata, correlation_id, received_at, reply_state,
    leased_until
  ) values (
    v_session.session_id, v_session.profile_id, p_channel, 'inbound', p_message_type, 'received',
    p_provider, p_provider_message_id, v_sender, p_body, coalesce(p_metadata, '{}'::jsonb),
    p_correlation_id, now(),
    case when p_needs_reply is not true then 'skipped'
         when p_claim_seconds is not null then 'in_progress' else 'pending' end,
    case when p_needs_reply and p_claim_seconds is not null
         then now() + make_interval(secs => p_claim_seconds) end
  )
  on conflict (channel, provider_message_id) do nothing
  returning m.id into v_id;

  if v_id is null then
    select m.id, m.session_id, m.profile_id into delivery_id, session_id, profile_id
    from public.message_delivery_log m
    where m.channel = p_channel and m.provider_message_id = p_provider_message_id;
    is_new := false;
  else
    delivery_id := v_id;
    session_id := v_session.session_id;
    profile_id := v_session.profile_id;
    is_new := true;
  end if;
  allows_sms := v_session.allows_sms;
  return next;
end;
$function$;


create or replace function public.record_inbound_messages(p_messages jsonb)
returns table (ordinal bigint, delivery_id uuid, session_id uuid, profile_id uuid, is_new boolean, allows_sms boolean)
language plpgsql
set search_path = ''
as $$
declare
  v_m jsonb;
  v_ordinal bigint;
begin
  if jsonb_typeof(p_messages) is distinct from 'array' then
    raise exception 'p_messages must be a JSON array' using errcode = '22023';
  end if;
  -- Sender order (kind, then id) so two batches touching the same people lock their profile and
  -- session rows in the same order.
  for v_m, v_ordinal in
    select e.m, e.n from jsonb_array_elements(p_messages) with ordinality as e(m, n)
    order by coalesce(e.m ->> 'sender_kind', 'phone'), e.m ->> 'sender', e.n
  loop
    return query
      select v_ordinal, r.delivery_id, r.session_id, r.profile_id, r.is_new, r.allows_sms
      from public.record_inbound_message(
        v_m ->> 'channel', v_m ->> 'sender', v_m ->> 'provider', v_m ->> 'provider_message_id',
        coalesce(v_m ->> 'message_type', 'text'), v_m ->> 'body',
        coalesce(v_m -> 'metadata', '{}'::jsonb), v_m ->> 'correlation_id',
        v_m ->> 'whatsapp_jid', coalesce((v_m ->> 'needs_reply')::boolean, true),
        v_m ->> 'display_name', coalesce(v_m ->> 'sender_kind', 'phone'),
        (v_m ->> 'claim_seconds')::integer) as r;
  end loop;
end;
$$;

create function public.process_inbound_inbox(p_limit integer default 100, p_claim_seconds integer default null)
returns table (
  inbox_id bigint, delivery_id uuid, session_id uuid, profile_id uuid, is_new boolean,
  allows_sms boolean, channel text, sender text, correlation_id text, needs_reply boolean,
  claimed_until text
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_ids bigint[];
  v_batch jsonb;
  v_out jsonb;
  v_one jsonb;
  v_i integer;
begin
  if p_claim_seconds is not null and p_claim_seconds < 1 then
    raise exception 'p_claim_seconds must be at least 1' using errcode = '22023';
  end if;
  -- The messages owed a reply (the worker answers WhatsApp and SMS) carry the claim.
  select array_agg(q.id order by q.id),
         jsonb_agg(case when p_claim_seconds is not null
                         and q.message ->> 'channel' in ('whatsapp', 'sms')
                         and coalesce((q.message ->> 'needs_reply')::boolean, true)
                        then q.message || jsonb_build_object('claim_seconds', p_claim_seconds)
                        else q.message end
                   order by q.id)
  into v_ids, v_batch
  from (
    select i.id, i.message from public.inbound_inbox i
    where i.processed_at is null and i.attempts < 5
    order by i.id
    limit greatest(p_limit, 1)
    for update skip locked
  ) q;
  if v_ids is null then
    return;
  end if;

  begin
    select coalesce(jsonb_agg(to_jsonb(r) order by r.ordinal), '[]'::jsonb) into v_out
    from public.record_inbound_messages(v_batch) r;
  exception when others then
    v_out := '[]'::jsonb;
    for v_i in 1 .. pg_catalog.array_length(v_ids, 1) loop
      begin
        select to_jsonb(r) || jsonb_build_object('ordinal', v_i) into v_one
        from public.record_inbound_messages(jsonb_build_array(v_batch -> (v_i - 1))) r;
        v_out := v_out || jsonb_build_array(v_one);
      exception when others then
        update public.inbound_inbox i
        set attempts = i.attempts + 1, last_error = left(sqlstate || ': ' || sqlerrm, 500)
        where i.id = v_ids[v_i];
      end;
    end loop;
  end;

  update public.inbound_inbox i set processed_at = now()
  where i.id in (select v_ids[(o ->> 'ordinal')::integer] from jsonb_array_elements(v_out) as x(o));

  -- A row this call wrote with a claim holds it until now() + p_claim_seconds: now() is the
  -- transaction's time, the same the insert used.
  return query
    select v_ids[(o ->> 'ordinal')::integer], (o ->> 'delivery_id')::uuid,
           (o ->> 'session_id')::uuid, (o ->> 'profile_id')::uuid, (o ->> 'is_new')::boolean,
           (o ->> 'allows_sms')::boolean, m ->> 'channel', m ->> 'sender', m ->> 'correlation_id',
           coalesce((m ->> 'needs_reply')::boolean, true),
           case when (o ->> 'is_new')::boolean and m ? 'claim_seconds'
                then (now() + make_interval(secs => p_claim_seconds))::text end
    from jsonb_array_elements(v_out) as x(o)
    cross join lateral (select v_batch -> ((o ->> 'ordinal')::integer - 1) as m) mm
    order by (o ->> 'ordinal')::integer;
end;
$$;

create function public.claim_inbound_reply_context(
  p_delivery_id uuid,
  p_lease_seconds integer default 120,
  p_history_limit integer default 20,
  p_claimed_until text default null
)
returns table (
  claimed boolean,
  body text,
  allows_whatsapp boolean,
  provider text,
  reply_to text,
  session jsonb,
  history jsonb
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_m public.message_delivery_log;
begin
  -- The claim the row was written with (process_inbound_inbox), still this caller's: nothing
  -- to write. (The lease is the token: a later claim by anyone else moves it.)
  if p_claimed_until is not null then
    select * into v_m from public.message_delivery_log m
    where m.id = p_delivery_id and (m.direction || '') = 'inbound'
      and m.reply_state = 'in_progress' and m.leased_until = p_claimed_until::timestamptz
      and m.leased_until > now();
  end if;
  if v_m.id is null then
    update public.message_delivery_log m
    set reply_state = 'in_progress', leased_until = now() + make_interval(secs => p_lease_seconds)
    where m.id = p_delivery_id
      and (m.direction || '') = 'inbound'
      and (m.reply_state = 'pending'
           or (m.reply_state = 'in_progress' and m.leased_until <= now()))
    returning m.* into v_m;
  end if;
  if v_m.id is null then
    claimed := false;
    return next;
    return;
  end if;

  claimed := true;
  body := v_m.body;
  provider := v_m.provider;
  -- The number the person wrote to: an SMS keeps it in `to`, a WhatsApp message names its
  -- business phone_number_id (a tenant's own number answers from itself, with its own token).
  reply_to := coalesce(v_m.metadata ->> 'to', v_m.metadata -> 'business' ->> 'phone_number_id');
  select p.allows_whatsapp into allows_whatsapp from public.profiles p where p.id = v_m.profile_id;
  select jsonb_build_object(
           'id', s.id, 'status', s.status, 'context', s.context, 'channels_seen', s.channels_seen,
           'phone_number', p.phone_number, 'display_name', p.display_name)
  into session
  from public.omnichannel_sessions s join public.profiles p on p.id = s.profile_id
  where s.id = v_m.session_id;
  select coalesce(jsonb_agg(jsonb_build_object(
           'channel', h.channel, 'direction', h.direction, 'body', h.body) order by h.created_at),
         '[]'::jsonb)
  into history
  from public.get_session_history(v_m.session_id, p_history_limit) h;
  return next;
end;
$$;

revoke execute on function public.record_inbound_message(text, text, text, text, text, text, jsonb, text, text, boolean, text, text, integer)
  from public, anon, authenticated;
grant execute on function public.record_inbound_message(text, text, text, text, text, text, jsonb, text, text, boolean, text, text, integer)
  to service_role;
revoke execute on function public.process_inbound_inbox(integer, integer) from public, anon, authenticated;
grant execute on function public.process_inbound_inbox(integer, integer) to service_role;
revoke execute on function public.claim_inbound_reply_context(uuid, integer, integer, text)
  from public, anon, authenticated;
grant execute on function public.claim_inbound_reply_context(uuid, integer, integer, text)
  to service_role;
