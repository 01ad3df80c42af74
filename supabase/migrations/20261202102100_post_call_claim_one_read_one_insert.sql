-- post-call's claim reads the call's earlier rows once and writes its new rows in one statement.
-- Before, each channel took three statements on the delivery log: its latest row (for update),
-- the count of its rows, then its insert. A statement that writes the log prepares the table's
-- CHECK constraints, its triggers' WHEN clauses and its 15 indexes each time it runs, so two
-- inserts cost that twice. Now: one read of the call's rows (every channel's, for update: none
-- for a call's first notification), then one insert of every new row, in the channels' order.
--
-- Same rows, same order, same attempts and idempotency keys, same tokens; a re-leased row and an
-- opted-out SMS are written as before (one update each).

create or replace function public.begin_post_call_notification_paced(
  p_call_id text,
  p_phone_number text,
  p_summary text default null,
  p_correlation_id text default null,
  p_lease_seconds integer default 120,
  p_channels text[] default array['whatsapp', 'sms'],
  p_tokens jsonb default '[]'
)
returns table (
  session_id uuid, profile_id uuid, summary text, whatsapp_window_open boolean, channel text,
  delivery_id uuid, status text, provider_message_id text, error_code text, error_class text,
  error_message text, attempt integer, to_send boolean,
  email text, sender_key text, granted integer, wait_ms integer
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_session record;
  v_summary text;
  v_window boolean;
  v_channel text;
  v_row public.message_delivery_log%rowtype;
  v_found boolean;
  -- Each channel's latest earlier row for this call, and how many it has had.
  v_latest public.message_delivery_log[];
  v_counts integer[];
  -- The positions (in v_channels) of the channels that get a new row.
  v_new integer[] := '{}'::integer[];
  v_lease timestamptz := now() + make_interval(secs => p_lease_seconds);
  v_channels text[];
  -- The claims, kept until the senders' tokens are taken (after every channel's row, in the
  -- senders' key order, as every other taker takes them).
  v_ch text[] := '{}'::text[];
  v_id uuid[] := '{}'::uuid[];
  v_st text[] := '{}'::text[];
  v_pmid text[] := '{}'::text[];
  v_ecode text[] := '{}'::text[];
  v_eclass text[] := '{}'::text[];
  v_emsg text[] := '{}'::text[];
  v_att integer[] := '{}'::integer[];
  v_send boolean[] := '{}'::boolean[];
  v_taken jsonb := '{}'::jsonb;
  v_req record;
  v_granted integer;
  v_wait integer;
  v_i integer;
begin
  if p_call_id is null or length(p_call_id) = 0 then
    raise exception 'call_id is required' using errcode = '22023';
  end if;
  perform pg_advisory_xact_lock(hashtextextended('post_call:' || p_call_id, 0));

  select cs.summary into v_summary from public.call_summaries cs where cs.call_id = p_call_id;
  v_summary := coalesce(p_summary, v_summary);

  -- The person's conversation; a new one starts with the tenant its first message would give it
  -- (a call's notification belongs to the default tenant), so the log's tenant trigger has no
  -- conversation to update.
  select * into v_session
  from public.get_or_create_session_for_profile(
    public.resolve_profile('phone', p_phone_number, 'voice'), 'voice', p_call_id,
    jsonb_build_object('last_call', jsonb_build_object(
      'call_id', p_call_id, 'summary', v_summary, 'notified_at', now())),
    'follow_up', '00000000-0000-0000-0000-000000000001'::uuid
  );
  email := public.profile_identity(v_session.profile_id, 'email');

  v_window := public.whatsapp_window_open(v_session.profile_id);
  session_id := v_session.session_id;
  profile_id := v_session.profile_id;
  summary := v_summary;
  whatsapp_window_open := v_window;

  -- WhatsApp-first (p_channels = {whatsapp}): a person known not to have WhatsApp gets the SMS.
  v_channels := p_channels;
  if v_session.has_whatsapp is false and 'whatsapp' = any (v_channels)
     and not 'sms' = any (v_channels) then
    v_channels := v_channels || 'sms'::text;
  end if;

  -- The call's earlier rows, every channel's in one read (none, for a call's first
  -- notification): each channel's latest, and how many it has had.
  v_latest := array_fill(null::public.message_delivery_log, array[cardinality(v_channels)]);
  v_counts := array_fill(0, array[cardinality(v_channels)]);
  for v_row in
    select m.* from public.message_delivery_log m
    where m.call_id = p_call_id and m.purpose = 'post_call_summary' and m.channel = any (v_channels)
    order by m.channel, m.created_at desc, m.attempts desc
    for update
  loop
    v_i := array_position(v_channels, v_row.channel);
    if v_counts[v_i] = 0 then
      v_latest[v_i] := v_row;
    end if;
    v_counts[v_i] := v_counts[v_i] + 1;
  end loop;

  for v_i in 1 .. cardinality(v_channels) loop
    v_channel := v_channels[v_i];
    v_found := v_counts[v_i] > 0;
    v_row := v_latest[v_i];
    v_ch := v_ch || v_channel;
    v_send := v_send || false;

    if v_found and v_row.status = 'queued' and coalesce(v_row.leased_until, '-infinity') <= now() then
      update public.message_delivery_log m
      set leased_until = v_lease, attempts = m.attempts + 1, correlation_id = p_correlation_id
      where m.id = v_row.id
      returning * into v_row;
      v_send[v_i] := true;
    elsif v_found and v_row.status <> 'failed' then
      null;
    elsif v_channel = 'whatsapp' and v_session.has_whatsapp is false then
      v_id := v_id || null::uuid; v_st := v_st || 'skipped'::text;
      v_pmid := v_pmid || null::text; v_ecode := v_ecode || 'NOT_ON_WHATSAPP'::text;
      v_eclass := v_eclass || 'permanent'::text;
      v_emsg := v_emsg || 'The recipient is known not to use WhatsApp'::text;
      v_att := v_att || v_counts[v_i];
      continue;
    else
      -- Written below, with the call's other new rows.
      v_new := v_new || v_i;
      v_id := v_id || null::uuid; v_st := v_st || null::text; v_pmid := v_pmid || null::text;
      v_ecode := v_ecode || null::text; v_eclass := v_eclass || null::text;
      v_emsg := v_emsg || null::text; v_att := v_att || null::integer;
      continue;
    end if;

    v_id := v_id || v_row.id; v_st := v_st || v_row.status;
    v_pmid := v_pmid || v_row.provider_message_id; v_ecode := v_ecode || v_row.error_code;
    v_eclass := v_eclass || v_row.error_class; v_emsg := v_emsg || v_row.error_message;
    v_att := v_att || v_row.attempts;
  end loop;

  -- The new rows, in one statement (each insert into the log prepares its constraints,
  -- triggers and indexes once per statement), in the channels' order.
  if cardinality(v_new) > 0 then
    for v_row in
      insert into public.message_delivery_log (
        session_id, profile_id, channel, direction, status, recipient, correlation_id,
        call_id, purpose, idempotency_key, attempts, leased_until, message_type
      )
      select v_session.session_id, v_session.profile_id, v_channels[n.i], 'outbound',
             case when v_channels[n.i] = 'sms' and not v_session.allows_sms then 'blocked'
                  else 'queued' end,
             p_phone_number, p_correlation_id, p_call_id, 'post_call_summary',
             'post_call:' || p_call_id || ':' || v_channels[n.i]
               || case when v_counts[n.i] > 0 then ':' || (v_counts[n.i] + 1)::text else '' end,
             v_counts[n.i] + 1, v_lease, 'text'
      from unnest(v_new) with ordinality as n(i, ord)
      order by n.ord
      returning *
    loop
      if v_row.status = 'blocked' then
        update public.message_delivery_log m
        set error_code = 'SMS.OPTED_OUT', error_class = 'permanent',
            error_message = 'The recipient opted out of SMS'
        where m.id = v_row.id
        returning * into v_row;
      end if;
      v_i := array_position(v_channels, v_row.channel);
      v_id[v_i] := v_row.id; v_st[v_i] := v_row.status;
      v_pmid[v_i] := v_row.provider_message_id; v_ecode[v_i] := v_row.error_code;
      v_eclass[v_i] := v_row.error_class; v_emsg[v_i] := v_row.error_message;
      v_att[v_i] := v_row.attempts; v_send[v_i] := v_row.status = 'queued';
    end loop;
  end if;

  -- The senders' tokens for the rows handed out to send (a WhatsApp token only inside the
  -- window when the caller says so: outside it, without a template, nothing is sent).
  if jsonb_array_length(coalesce(p_tokens, '[]'::jsonb)) > 0 then
    for v_req in
      select t.channel, t.sender_key, t.wanted, t.rate, coalesce(t.window_only, false) as window_only
      from jsonb_to_recordset(p_tokens)
        as t(channel text, sender_key text, wanted integer, rate double precision, window_only boolean)
      where t.sender_key is not null and coalesce(t.wanted, 0) > 0
      order by t.sender_key
    loop
      v_i := array_position(v_ch, v_req.channel);
      continue when v_i is null or not v_send[v_i] or v_st[v_i] <> 'queued'
                    or (v_req.window_only and not v_window);
      select t.granted, t.wait_ms into v_granted, v_wait
      from public.take_send_tokens(v_req.sender_key, v_req.wanted, coalesce(v_req.rate, 80)) t;
      v_taken := v_taken || jsonb_build_object(v_req.channel, jsonb_build_object(
        'sender_key', v_req.sender_key, 'granted', v_granted, 'wait_ms', v_wait));
    end loop;
  end if;

  for v_i in 1 .. coalesce(array_length(v_ch, 1), 0) loop
    channel := v_ch[v_i];
    delivery_id := v_id[v_i];
    status := v_st[v_i];
    provider_message_id := v_pmid[v_i];
    error_code := v_ecode[v_i];
    error_class := v_eclass[v_i];
    error_message := v_emsg[v_i];
    attempt := v_att[v_i];
    to_send := v_send[v_i];
    sender_key := v_taken -> v_ch[v_i] ->> 'sender_key';
    granted := (v_taken -> v_ch[v_i] ->> 'granted')::integer;
    wait_ms := (v_taken -> v_ch[v_i] ->> 'wait_ms')::integer;
    return next;
  end loop;
end;
$$;

