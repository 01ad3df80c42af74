-- One definition of "get or create a person's live session": the phone-keyed entry point now
-- resolves the phone to its profile (public.resolve_profile) and hands over to
-- public.get_or_create_session_for_profile, instead of repeating its body. Same answers, same
-- locks (the profile row first, then the session), same error for a request to close.

create or replace function public.get_or_create_omnichannel_session(
  p_phone_number text, p_channel text, p_call_id text default null,
  p_context jsonb default '{}'::jsonb, p_status text default null)
returns table (session_id uuid, profile_id uuid, status text, context jsonb, channels_seen text[],
               last_channel text, call_id text, expires_at timestamptz, is_new boolean,
               has_whatsapp boolean, allows_sms boolean, whatsapp_summary_sent boolean,
               sms_summary_sent boolean)
language plpgsql
set search_path = ''
as $$
begin
  if p_status = 'closed' then
    raise exception 'get_or_create_omnichannel_session cannot close a session'
      using errcode = '22023', hint = 'use update_omnichannel_session_status';
  end if;
  return query
    select * from public.get_or_create_session_for_profile(
      public.resolve_profile('phone', p_phone_number, p_channel), p_channel, p_call_id,
      p_context, p_status);
end;
$$;
