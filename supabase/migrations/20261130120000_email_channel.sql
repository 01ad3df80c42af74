-- Email through Resend (issue 12), the parts that do not need people's identities:
--   * profiles.allows_email: false after a complaint or a one-click unsubscribe;
--   * email_suppressions: an address Resend hard-bounced (or whose owner complained) gets no
--     more email, whoever asks — the outbound path uses another channel for that person;
--   * a trigger that writes such a row 'blocked' (EMAIL.UNDELIVERABLE / EMAIL.OPTED_OUT) when it
--     is written and again when a sender leases it, as block_opted_out_outbound does for
--     WhatsApp and SMS;
--   * webhook_event_ids: the Standard Webhooks message ids already handled, so a replayed
--     (captured and re-sent) webhook is refused within its 5-minute signature tolerance.

alter table public.profiles
  add column if not exists allows_email boolean not null default true;

comment on column public.profiles.allows_email is
  'False after the person complained about an email or unsubscribed (List-Unsubscribe): no email is sent to them.';

create table if not exists public.email_suppressions (
  address text primary key check (address = lower(address)),
  reason text not null check (reason in ('bounced', 'complained')),
  detail text,
  provider_message_id text,
  created_at timestamptz not null default now()
);

comment on table public.email_suppressions is
  'Addresses no email goes to: hard-bounced (the mailbox does not exist) or complained (marked as spam).';

alter table public.email_suppressions enable row level security;
revoke all on table public.email_suppressions from anon, authenticated;
grant select, insert, update, delete on table public.email_suppressions to service_role;
create policy email_suppressions_service_select on public.email_suppressions
  for select to service_role using (true);
create policy email_suppressions_service_insert on public.email_suppressions
  for insert to service_role with check (true);
create policy email_suppressions_service_update on public.email_suppressions
  for update to service_role using (true) with check (true);
create policy email_suppressions_service_delete on public.email_suppressions
  for delete to service_role using (true);

create table if not exists public.webhook_event_ids (
  source text not null,
  event_id text not null,
  received_at timestamptz not null default now(),
  primary key (source, event_id)
);

create index if not exists webhook_event_ids_received_at_idx
  on public.webhook_event_ids (received_at);

comment on table public.webhook_event_ids is
  'Signed webhook message ids (svix-id) already handled, kept one day: a replay is refused.';

alter table public.webhook_event_ids enable row level security;
revoke all on table public.webhook_event_ids from anon, authenticated;
grant select, insert, update, delete on table public.webhook_event_ids to service_role;
create policy webhook_event_ids_service_select on public.webhook_event_ids
  for select to service_role using (true);
create policy webhook_event_ids_service_insert on public.webhook_event_ids
  for insert to service_role with check (true);
create policy webhook_event_ids_service_update on public.webhook_event_ids
  for update to service_role using (true) with check (true);
create policy webhook_event_ids_service_delete on public.webhook_event_ids
  for delete to service_role using (true);

-- True the first time an event id is claimed; false for a replay. A handler that fails after
-- claiming releases the id, so the provider's own retry of the same message is still handled.
create or replace function public.claim_webhook_event(p_source text, p_event_id text)
returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_claimed boolean;
begin
  -- The signature tolerance is 5 minutes: ids older than a day can never be replayed.
  delete from public.webhook_event_ids w
  where w.source = p_source and w.received_at < now() - interval '1 day';
  insert into public.webhook_event_ids as w (source, event_id) values (p_source, p_event_id)
  on conflict (source, event_id) do nothing
  returning true into v_claimed;
  return coalesce(v_claimed, false);
end;
$$;

create or replace function public.release_webhook_event(p_source text, p_event_id text)
returns void
language sql
security invoker
set search_path = ''
as $$
  delete from public.webhook_event_ids w where w.source = p_source and w.event_id = p_event_id;
$$;

-- Email rows only; WhatsApp and SMS keep block_opted_out_outbound.
create or replace function public.block_undeliverable_email()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_reason text;
begin
  if new.channel <> 'email' or new.direction <> 'outbound' then
    return new;
  end if;
  -- Written queued, or a queued row a sender is taking (its lease moves into the future).
  if new.status <> 'queued' or (tg_op = 'UPDATE' and not (
       old.status = 'queued' and new.leased_until > now()
       and new.leased_until is distinct from old.leased_until)) then
    return new;
  end if;
  select s.reason into v_reason from public.email_suppressions s
  where s.address = lower(new.recipient);
  if v_reason = 'bounced' then
    new.error_code := 'EMAIL.UNDELIVERABLE';
    new.error_message := 'The address bounced: no email goes to it';
  elsif v_reason = 'complained'
     or exists (select 1 from public.profiles p where p.id = new.profile_id and not p.allows_email) then
    new.error_code := 'EMAIL.OPTED_OUT';
    new.error_message := 'The recipient opted out of email';
  else
    return new;
  end if;
  new.status := 'blocked';
  new.error_class := 'permanent';
  new.leased_until := null;
  return new;
end;
$$;

create trigger message_delivery_log_block_undeliverable_email
  before insert or update of leased_until on public.message_delivery_log
  for each row execute function public.block_undeliverable_email();

-- Resend's bounce and complaint events: the address is suppressed (one row per address, the
-- first reason kept unless a complaint follows a bounce), and a complaint opts the person who
-- got the email out of email. Returns the profile it applied to, if the email was ours.
create or replace function public.suppress_email_address(
  p_address text,
  p_reason text,
  p_detail text default null,
  p_provider_message_id text default null
)
returns uuid
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_profile_id uuid;
begin
  if p_reason not in ('bounced', 'complained') then
    raise exception 'a suppression is bounced or complained, not %', p_reason using errcode = '22023';
  end if;
  insert into public.email_suppressions as s (address, reason, detail, provider_message_id)
  values (lower(trim(p_address)), p_reason, left(p_detail, 500), p_provider_message_id)
  on conflict (address) do update
    set reason = case when excluded.reason = 'complained' then 'complained' else s.reason end,
        detail = coalesce(excluded.detail, s.detail);

  select m.profile_id into v_profile_id from public.message_delivery_log m
  where m.channel = 'email' and m.direction = 'outbound'
    and m.provider_message_id = p_provider_message_id;
  if p_reason = 'complained' and v_profile_id is not null then
    update public.profiles p set allows_email = false where p.id = v_profile_id;
  end if;
  return v_profile_id;
end;
$$;

revoke all on function public.claim_webhook_event(text, text) from public, anon, authenticated;
revoke all on function public.release_webhook_event(text, text) from public, anon, authenticated;
revoke all on function public.block_undeliverable_email() from public, anon, authenticated;
revoke all on function public.suppress_email_address(text, text, text, text) from public, anon, authenticated;
grant execute on function public.claim_webhook_event(text, text) to service_role;
grant execute on function public.release_webhook_event(text, text) to service_role;
grant execute on function public.suppress_email_address(text, text, text, text) to service_role;
