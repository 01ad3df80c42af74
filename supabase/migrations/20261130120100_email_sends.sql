-- Email sends and preferences on top of people's identities (20261130100000): an email is
-- addressed to an address, which resolves to the person holding it (a new address gets a
-- profile), so it lands in their one live session like every other channel.

-- begin_outbound_message for email: logs the email queued (with what a retry needs in its
-- metadata: subject, HTML, headers, attachments, tags) before Resend is called, leased to the
-- caller for 2 minutes so dispatch does not send it meanwhile. The same idempotency key answers
-- the same row. block_undeliverable_email writes it 'blocked' when the address bounced or the
-- person opted out of email.
create or replace function public.begin_email_message(
  p_to text,
  p_body text,
  p_metadata jsonb default '{}'::jsonb,
  p_session_id uuid default null,
  p_purpose text default null,
  p_correlation_id text default null,
  p_idempotency_key text default null
)
returns table (
  delivery_id uuid,
  session_id uuid,
  profile_id uuid,
  status text,
  is_new boolean,
  recipient text,
  error_code text,
  error_message text
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_to text := lower(btrim(p_to));
  v_profile_id uuid;
  v_session_id uuid := p_session_id;
  v_row public.message_delivery_log%rowtype;
  v_existing boolean := false;
begin
  if jsonb_typeof(coalesce(p_metadata, '{}'::jsonb)) <> 'object' then
    raise exception 'p_metadata must be a JSON object' using errcode = '22023';
  end if;
  v_profile_id := public.resolve_profile('email', v_to, 'email');

  if v_session_id is null then
    select s.id into v_session_id from public.omnichannel_sessions s
    where s.profile_id = v_profile_id and s.status <> 'closed' and s.expires_at > now();
  elsif not exists (select 1 from public.omnichannel_sessions s
                    where s.id = v_session_id and s.profile_id = v_profile_id) then
    raise exception 'session % does not belong to the recipient', v_session_id
      using errcode = 'OM403', hint = 'SESSION.NOT_RECIPIENT';
  end if;

  if p_idempotency_key is not null then
    select * into v_row from public.message_delivery_log m where m.idempotency_key = p_idempotency_key;
    v_existing := found;
  end if;

  if not v_existing then
    insert into public.message_delivery_log as m (
      session_id, profile_id, channel, direction, message_type, status, recipient, body, metadata,
      correlation_id, purpose, idempotency_key, attempts, leased_until
    ) values (
      v_session_id, v_profile_id, 'email', 'outbound', 'email', 'queued', v_to, p_body,
      coalesce(p_metadata, '{}'::jsonb), p_correlation_id, p_purpose, p_idempotency_key, 1,
      now() + interval '2 minutes'
    )
    on conflict (idempotency_key) do nothing
    returning * into v_row;
    if v_row.id is null then
      select * into v_row from public.message_delivery_log m where m.idempotency_key = p_idempotency_key;
      v_existing := true;
    end if;
  end if;

  delivery_id := v_row.id;
  session_id := v_row.session_id;
  profile_id := v_row.profile_id;
  status := v_row.status;
  is_new := not v_existing;
  recipient := v_row.recipient;
  error_code := v_row.error_code;
  error_message := v_row.error_message;
  return next;
end;
$$;

-- One-click unsubscribe (false) or a renewed consent (true) for the person holding the address;
-- an address nobody holds yet gets a profile, so the choice holds when they first write.
create or replace function public.set_email_preference(p_address text, p_allowed boolean)
returns uuid
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_profile_id uuid := public.resolve_profile('email', lower(btrim(p_address)), 'email');
begin
  update public.profiles p set allows_email = p_allowed where p.id = v_profile_id;
  return v_profile_id;
end;
$$;

revoke all on function public.begin_email_message(text, text, jsonb, uuid, text, text, text) from public, anon, authenticated;
revoke all on function public.set_email_preference(text, boolean) from public, anon, authenticated;
grant execute on function public.begin_email_message(text, text, jsonb, uuid, text, text, text) to service_role;
grant execute on function public.set_email_preference(text, boolean) to service_role;
