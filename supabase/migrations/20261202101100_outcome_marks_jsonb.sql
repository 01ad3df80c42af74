-- record_outbound_outcomes as 20261202101000 left it, with its summary marks' starting value
-- typed jsonb: `supabase db lint` (plpgsql_check) warned that the text literal was cast on every
-- call. Nothing else changes.

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

  -- Each session's row is already locked by its outcomes above.
  update public.omnichannel_sessions s
  set whatsapp_summary_sent = s.whatsapp_summary_sent or m.whatsapp,
      whatsapp_summary_sent_at = case when m.whatsapp then now() else s.whatsapp_summary_sent_at end,
      sms_summary_sent = s.sms_summary_sent or m.sms,
      sms_summary_sent_at = case when m.sms then now() else s.sms_summary_sent_at end
  from (
    select e.key::uuid as session_id,
           coalesce((e.value ->> 'whatsapp')::boolean, false) as whatsapp,
           coalesce((e.value ->> 'sms')::boolean, false) as sms
    from jsonb_each(v_marks) e
  ) m
  where s.id = m.session_id;
end;
$$;
