-- post-call's claim reads the call's earlier rows once and writes its new rows in one statement.
-- Before, each channel took three statements on the delivery log: its latest row (for update),
-- the count of its rows, then its insert. A statement that writes the log prepares the table's
-- CHECK constraints, its triggers' WHEN clauses and its 15 indexes each time it runs, so two
-- inserts cost that twice. Now: one read of the call's rows (every channel's, for update: none
-- for a call's first notification), then one insert of every new row, in the channels' order.
--
-- Same rows, same order, same attempts and idempotency keys, same tokens; a re-leased row and an
-- opted-out SMS are written as before (one update each).
-- Each channel's claim is kept as its row, in one array of rows.

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
  v_row public.message_delivery_log%rowtype;
  -- Each channel's claim (by its position in v_channels): first its latest earlier row for this
  -- call, then the row it hands back (that one re-leased, a new one, or a WhatsApp skip that
  -- has no row). Kept until the senders' tokens are taken, after every channel's row.
  v_rows public.message_delivery_log[];
  v_counts integer[];
  v_send boolean[];
  -- The positions of the channels that get a new row.
  v_new integer[] := '{}'::integer[];
  v_lease timestamptz := now() + make_interval(secs => p_lease_seconds);
  v_channels text[];
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
  v_rows := array_fill(null::public.message_delivery_log, array[cardinality(v_channels)]);
  v_counts := array_fill(0, array[cardinality(v_channels)]);
  v_send := array_fill(false, array[cardinality(v_channels)]);
  for v_row in
    select m.* from public.message_delivery_log m
    where m.call_id = p_call_id and m.purpose = 'post_call_summary' and m.channel = any (v_channels)
    order by m.channel, m.created_at desc, m.attempts desc
    for update
  loop
    v_i := array_position(v_channels, v_row.channel);
    if v_counts[v_i] = 0 then
      v_rows[v_i] := v_row;
    end if;
    v_counts[v_i] := v_counts[v_i] + 1;
  end loop;

  for v_i in 1 .. cardinality(v_channels) loop
    v_row := v_rows[v_i];
    if v_counts[v_i] > 0 and v_row.status = 'queued'
       and coalesce(v_row.leased_until, '-infinity') <= now() then
      update public.message_delivery_log m
      set leased_until = v_lease, attempts = m.attempts + 1, correlation_id = p_correlation_id
      where m.id = v_row.id
      returning * into v_row;
      v_rows[v_i] := v_row;
      v_send[v_i] := true;
    elsif v_counts[v_i] > 0 and v_row.status <> 'failed' then
      null; -- already sent, or being sent: handed back as it is
    elsif v_channels[v_i] = 'whatsapp' and v_session.has_whatsapp is false then
      -- No row: a skip, as its claim reports it.
      v_row := null;
      v_row.channel := 'whatsapp';
      v_row.status := 'skipped';
      v_row.error_code := 'NOT_ON_WHATSAPP';
      v_row.error_class := 'permanent';
      v_row.error_message := 'The recipient is known not to use WhatsApp';
      v_row.attempts := v_counts[v_i];
      v_rows[v_i] := v_row;
    else
      v_new := v_new || v_i; -- written below, with the call's other new rows
    end if;
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
      v_rows[v_i] := v_row;
      v_send[v_i] := v_row.status = 'queued';
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
      v_i := array_position(v_channels, v_req.channel);
      continue when v_i is null or not v_send[v_i] or v_rows[v_i].status <> 'queued'
                    or (v_req.window_only and not v_window);
      select t.granted, t.wait_ms into v_granted, v_wait
      from public.take_send_tokens(v_req.sender_key, v_req.wanted, coalesce(v_req.rate, 80)) t;
      v_taken := v_taken || jsonb_build_object(v_req.channel, jsonb_build_object(
        'sender_key', v_req.sender_key, 'granted', v_granted, 'wait_ms', v_wait));
    end loop;
  end if;

  for v_i in 1 .. cardinality(v_channels) loop
    v_row := v_rows[v_i];
    channel := v_channels[v_i];
    delivery_id := v_row.id;
    status := v_row.status;
    provider_message_id := v_row.provider_message_id;
    error_code := v_row.error_code;
    error_class := v_row.error_class;
    error_message := v_row.error_message;
    attempt := v_row.attempts;
    to_send := v_send[v_i];
    sender_key := v_taken -> channel ->> 'sender_key';
    granted := (v_taken -> channel ->> 'granted')::integer;
    wait_ms := (v_taken -> channel ->> 'wait_ms')::integer;
    return next;
  end loop;
end;
$$;

