-- The reply claims and completions find their message by its primary key, whatever the
-- statistics say. Written `where m.id = $1 and m.direction = 'inbound'`, their plans could use the
-- partial index on inbound messages (message_delivery_log_inbound_stats_idx, every inbound
-- message) instead of the primary key when the statistics predate the inbound traffic (a log
-- analysed while it held mostly outbound rows: a new project after an import, the benchmark after
-- its seeding): each claim then read every inbound entry, 3,000+ index entries per reply at a few
-- thousand messages, and replies slowed as the inbox grew (measured: 22–40 replies/s instead of the
-- 75 the sender's pacing allows). The direction is compared as an expression, which no partial
-- index predicate matches, so the only index left for the row is the primary key.

CREATE OR REPLACE FUNCTION public.claim_inbound_reply(p_delivery_id uuid, p_lease_seconds integer DEFAULT 120)
 RETURNS boolean
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with claimed as (
    update public.message_delivery_log m
    set reply_state = 'in_progress', leased_until = now() + make_interval(secs => p_lease_seconds)
    where m.id = p_delivery_id
      and (m.direction || '') = 'inbound'
      and (m.reply_state = 'pending'
           or (m.reply_state = 'in_progress' and m.leased_until <= now()))
    returning 1
  )
  select exists (select 1 from claimed)
$function$;

CREATE OR REPLACE FUNCTION public.claim_inbound_reply_context(p_delivery_id uuid, p_lease_seconds integer DEFAULT 120, p_history_limit integer DEFAULT 20)
 RETURNS TABLE(claimed boolean, body text, allows_whatsapp boolean, provider text, reply_to text, session jsonb, history jsonb)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_m public.message_delivery_log;
begin
  update public.message_delivery_log m
  set reply_state = 'in_progress', leased_until = now() + make_interval(secs => p_lease_seconds)
  where m.id = p_delivery_id
    and (m.direction || '') = 'inbound'
    and (m.reply_state = 'pending'
         or (m.reply_state = 'in_progress' and m.leased_until <= now()))
  returning m.* into v_m;
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
$function$;

CREATE OR REPLACE FUNCTION public.complete_inbound_reply(p_delivery_id uuid, p_state text DEFAULT 'done'::text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  if p_state not in ('done', 'skipped', 'pending') then
    raise exception 'reply state must be done, skipped or pending, not %', p_state using errcode = '22023';
  end if;
  update public.message_delivery_log m
  set reply_state = p_state, leased_until = null
  where m.id = p_delivery_id and (m.direction || '') = 'inbound';
end;
$function$;
