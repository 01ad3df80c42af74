-- record_outbound_outcomes marked the summaries with one update joined to the marks' jsonb_each,
-- which the planner takes for 100 rows: on a table of a few thousand conversations it hashed
-- every one of them for each outcome call (a sequential scan per post-call notification, 6,006
-- rows read for 1 marked in tests/post-call/known-person-writes.test.ts). Each marked
-- conversation is now updated by its key, in a loop: one index probe per conversation, usually
-- one. Nothing else changes.

create or replace function public.record_outbound_outcomes(p_outcomes jsonb)
returns table (
  ordinal integer,
  delivery_id uuid,
  status text,
  attempts integer,
  next_attempt_at timestamptz,
  fallback_id uuid
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_o jsonb;
  v_i bigint;
  v_session uuid;
  v_channel text;
  -- The summaries that went out, per session: marked once each after the outcomes.
  v_marks jsonb := '{}'::jsonb;
  v_key text;
  v_mark jsonb;
  v_wa boolean;
  v_sms boolean;
begin
  if jsonb_typeof(p_outcomes) is distinct from 'array' then
    raise exception 'p_outcomes must be a JSON array' using errcode = '22023';
  end if;
  for v_o, v_i in select e.value, e.ordinality from jsonb_array_elements(p_outcomes) with ordinality e loop
    ordinal := v_i::integer;
    select r.delivery_id, r.status, r.attempts, r.next_attempt_at, r.fallback_id,
           r.summary_session_id, r.summary_channel
    into delivery_id, status, attempts, next_attempt_at, fallback_id, v_session, v_channel
    from public.record_outbound_outcome_row(
      (v_o ->> 'delivery_id')::uuid,
      (v_o ->> 'sent')::boolean,
      v_o ->> 'provider',
      v_o ->> 'provider_message_id',
      v_o ->> 'body',
      v_o ->> 'message_type',
      v_o ->> 'error_code',
      v_o ->> 'error_class',
      v_o ->> 'error_message',
      coalesce((v_o ->> 'not_on_channel')::boolean, false),
      (v_o ->> 'retry_after_ms')::integer,
      nullif(v_o -> 'metadata', 'null'::jsonb),
      v_o ->> 'sender_key',
      false
    ) r;
    if v_session is not null then
      v_marks := jsonb_set(v_marks, array[v_session::text],
                           coalesce(v_marks -> v_session::text, '{}'::jsonb)
                             || jsonb_build_object(v_channel, true));
    end if;
    return next;
  end loop;

  -- Each session's row is already locked by its outcomes above; updated by its key.
  for v_key, v_mark in select e.key, e.value from jsonb_each(v_marks) e loop
    v_wa := coalesce((v_mark ->> 'whatsapp')::boolean, false);
    v_sms := coalesce((v_mark ->> 'sms')::boolean, false);
    update public.omnichannel_sessions s
    set whatsapp_summary_sent = s.whatsapp_summary_sent or v_wa,
        whatsapp_summary_sent_at = case when v_wa then now() else s.whatsapp_summary_sent_at end,
        sms_summary_sent = s.sms_summary_sent or v_sms,
        sms_summary_sent_at = case when v_sms then now() else s.sms_summary_sent_at end
    where s.id = v_key::uuid;
  end loop;
end;
$$;
