-- Opt-out on every channel, not only SMS: a profile flag per channel (allows_sms already
-- exists; allows_whatsapp here), and one place that enforces it for every outbound row, whoever
-- writes it (post-call summaries, templates, AI replies, tools, fallbacks): a trigger that writes
-- the row 'blocked' with the body it would have carried, so nothing is sent and the console
-- shows what was held back. It acts when the row is written, and again when a sender leases a
-- queued row (a retry queued before the person wrote STOP); senders send only rows still
-- 'queued' after their claim. The opt-out confirmation itself (purpose 'keyword_reply') still
-- goes: it is the one message the person asked for.

alter table public.profiles
  add column if not exists allows_whatsapp boolean not null default true;

comment on column public.profiles.allows_whatsapp is
  'False after the person wrote STOP on WhatsApp: nothing is sent to them there until START.';

create or replace function public.block_opted_out_outbound()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_allowed boolean;
begin
  if new.direction <> 'outbound' or new.purpose is not distinct from 'keyword_reply' then
    return new;
  end if;
  -- begin_post_call_notification labels every row it finds blocked as an SMS opt-out; a WhatsApp
  -- row keeps its own reason.
  if tg_op = 'UPDATE' and new.status = 'blocked' and new.channel = 'whatsapp'
     and new.error_code = 'SMS_OPTED_OUT' then
    new.error_code := old.error_code;
    new.error_message := old.error_message;
    return new;
  end if;
  -- Written queued, or a queued row a sender is taking (its lease moves into the future).
  if new.status <> 'queued' or (tg_op = 'UPDATE' and not (
       old.status = 'queued' and new.leased_until > now()
       and new.leased_until is distinct from old.leased_until)) then
    return new;
  end if;
  select bool_and(case new.channel when 'whatsapp' then p.allows_whatsapp when 'sms' then p.allows_sms end)
  into v_allowed
  from public.profiles p where p.id = new.profile_id or p.phone_number = new.recipient;
  if v_allowed is false then
    new.status := 'blocked';
    new.error_code := upper(new.channel) || '_OPTED_OUT';
    new.error_class := 'permanent';
    new.error_message := 'The recipient opted out of '
      || case new.channel when 'sms' then 'SMS' else 'WhatsApp' end;
    new.leased_until := null;
  end if;
  return new;
end;
$$;

create trigger message_delivery_log_block_opted_out
  before insert or update of error_code, leased_until on public.message_delivery_log
  for each row execute function public.block_opted_out_outbound();

-- STOP / START on any channel: sets the flag of that channel. Returns whether it changed, so a
-- confirmation is sent once, not on every repeated STOP.
create or replace function public.set_channel_preference(
  p_phone_number text,
  p_channel text,
  p_allowed boolean
)
returns table (profile_id uuid, changed boolean)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_before boolean;
begin
  if p_channel not in ('whatsapp', 'sms') then
    raise exception 'unknown channel %', p_channel using errcode = '22023';
  end if;
  insert into public.profiles as p (phone_number) values (p_phone_number)
  on conflict (phone_number) do nothing;
  select p.id, case p_channel when 'sms' then p.allows_sms else p.allows_whatsapp end
  into profile_id, v_before
  from public.profiles p where p.phone_number = p_phone_number for update;
  update public.profiles p
  set allows_sms = case when p_channel = 'sms' then p_allowed else p.allows_sms end,
      allows_whatsapp = case when p_channel = 'whatsapp' then p_allowed else p.allows_whatsapp end
  where p.id = profile_id;
  changed := v_before is distinct from p_allowed;
  return next;
end;
$$;

-- A blocked post-call row is written before the message is built; this keeps the text that
-- would have gone, for the console and for an audit. Only on a blocked row without a body.
create or replace function public.set_blocked_body(p_delivery_id uuid, p_body text)
returns void
language sql
security invoker
set search_path = ''
as $$
  update public.message_delivery_log m
  set body = p_body
  where m.id = p_delivery_id and m.status = 'blocked' and m.body is null
$$;

revoke execute on function public.block_opted_out_outbound() from public, anon, authenticated;
revoke execute on function public.set_channel_preference(text, text, boolean)
  from public, anon, authenticated;
revoke execute on function public.set_blocked_body(uuid, text) from public, anon, authenticated;
grant execute on function public.set_channel_preference(text, text, boolean) to service_role;
grant execute on function public.set_blocked_body(uuid, text) to service_role;

