-- The messaging API on the shared identities and templates (20261130100000):
-- - a message is addressed by profile, phone, email, Messenger PSID or Instagram IGSID, all
--   resolved through public.resolve_profile, and routed with the person's address on each
--   channel (public.profile_identity);
-- - WhatsApp templates are synced from Meta into public.message_templates by
--   public.sync_whatsapp_templates (the `messages` function fetches GET /{waba-id}/message_templates
--   and hands the list over); every 6 hours pg_cron + pg_net call it (the scheduled job below),
--   the local stack calls it at start and every 6 hours;
-- - an API message's rows carry purpose 'api' whatever the caller's metadata says (a caller must
--   not pass for a post-call summary or an agent's reply).

drop function public.api_message_recipient(uuid, text);

-- What the routing needs to know about a person, in one round trip: their address on each
-- channel, what they allow, their last active channel and whether the WhatsApp window is open.
-- A profile id that was merged into another resolves to the survivor.
create function public.api_message_recipient(
  p_profile_id uuid default null,
  p_kind text default null,
  p_value text default null
)
returns table (profile_id uuid, phone_number text, email text, messenger_psid text,
               instagram_igsid text, has_whatsapp boolean, allows_whatsapp boolean,
               allows_sms boolean, last_active_channel text, whatsapp_window_open boolean)
language plpgsql
security invoker
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_id uuid;
  v_profile public.profiles%rowtype;
begin
  v_id := case when p_profile_id is not null then public.profile_survivor(p_profile_id)
               else public.resolve_profile(p_kind, p_value) end;
  select * into v_profile from public.profiles p where p.id = v_id;
  if v_profile.id is null then
    return;
  end if;
  profile_id := v_profile.id;
  phone_number := v_profile.phone_number;
  email := public.profile_identity(v_profile.id, 'email');
  messenger_psid := public.profile_identity(v_profile.id, 'messenger');
  instagram_igsid := public.profile_identity(v_profile.id, 'instagram');
  has_whatsapp := v_profile.has_whatsapp;
  allows_whatsapp := v_profile.allows_whatsapp;
  allows_sms := v_profile.allows_sms;
  last_active_channel := v_profile.last_active_channel;
  whatsapp_window_open := public.whatsapp_window_open(v_profile.id);
  return next;
end;
$$;

create or replace function public.advance_api_message(p_message_id uuid, p_after_step integer, p_lease boolean default false)
returns uuid
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_msg public.api_messages%rowtype;
  v_step integer := p_after_step + 1;
  v_route jsonb;
  v_session_id uuid;
  v_id uuid;
  v_status text;
begin
  select * into v_msg from public.api_messages a where a.id = p_message_id for update;
  if not found then
    return null;
  end if;
  if exists (select 1 from public.message_delivery_log m
             where m.api_message_id = p_message_id and m.route_step >= v_step) then
    return null;
  end if;
  select s.id into v_session_id from public.omnichannel_sessions s
  where s.profile_id = v_msg.profile_id and s.status <> 'closed' and s.expires_at > now();

  while v_step < jsonb_array_length(v_msg.route) loop
    v_route := v_msg.route -> v_step;
    insert into public.message_delivery_log as m (
      session_id, profile_id, channel, direction, message_type, status, recipient, body, metadata,
      correlation_id, purpose, idempotency_key, attempts, leased_until, next_attempt_at,
      api_message_id, route_step, fallback_of
    ) values (
      v_session_id, v_msg.profile_id, v_route ->> 'channel', 'outbound',
      coalesce(v_route ->> 'message_type', 'text'), 'queued', v_route ->> 'recipient',
      v_route ->> 'body',
      coalesce(v_route -> 'metadata', '{}'::jsonb) || jsonb_build_object('api_message_id', v_msg.id),
      v_msg.correlation_id, 'api',
      'api:' || v_msg.id || ':' || v_step,
      case when p_lease then 1 else 0 end,
      case when p_lease then now() + interval '2 minutes' end,
      case when not p_lease then greatest(coalesce(v_msg.send_at, now()), now()) end,
      v_msg.id, v_step,
      (select f.id from public.message_delivery_log f
       where f.api_message_id = v_msg.id and f.route_step = v_step - 1)
    )
    on conflict (idempotency_key) do nothing
    returning m.id, m.status into v_id, v_status;
    if v_id is null then
      return null;
    end if;
    if v_status <> 'blocked' then
      return v_id;
    end if;
    v_step := v_step + 1;
  end loop;
  return null;
end;
$$;

-- Meta's list of WhatsApp templates, as the `messages` function fetched it, made the stored
-- truth: each (name, language) upserted with its status, category, components, body text and
-- parameter count; a synced template Meta no longer lists becomes 'deleted' (so a send naming
-- it is refused with that status instead of failing at Meta). p_templates is a JSON array of
-- {id, name, language, status, category, components, body_text, param_count}.
create or replace function public.sync_whatsapp_templates(p_templates jsonb)
returns table (synced integer, removed integer)
language sql
security invoker
set search_path = ''
as $$
  with incoming as (
    select t.value as t from jsonb_array_elements(p_templates) t
  ),
  upserted as (
    insert into public.message_templates as m (
      channel, name, locale, status, category, body_text, components, param_count,
      provider_template_id, synced_at
    )
    select 'whatsapp', i.t ->> 'name', i.t ->> 'language', lower(i.t ->> 'status'),
           i.t ->> 'category', i.t ->> 'body_text', coalesce(i.t -> 'components', '[]'::jsonb),
           coalesce((i.t ->> 'param_count')::integer, 0), i.t ->> 'id', now()
    from incoming i
    on conflict (channel, name, locale) do update
    set status = excluded.status, category = excluded.category, body_text = excluded.body_text,
        components = excluded.components, param_count = excluded.param_count,
        provider_template_id = excluded.provider_template_id, synced_at = excluded.synced_at
    returning 1
  ),
  gone as (
    update public.message_templates m set status = 'deleted', synced_at = now()
    where m.channel = 'whatsapp' and m.synced_at is not null and m.status <> 'deleted'
      and not exists (select 1 from incoming i
                      where i.t ->> 'name' = m.name and i.t ->> 'language' = m.locale)
    returning 1
  )
  select (select count(*) from upserted)::integer, (select count(*) from gone)::integer
$$;

-- The 6-hourly job: asks the `messages` function to sync, with the functions URL and secret key
-- public.schedule_dispatch keeps in Vault. Where pg_net or those secrets are missing it says so
-- and does nothing (the local stack calls the function itself).
create or replace function public.request_whatsapp_template_sync()
returns boolean
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if not exists (select 1 from pg_catalog.pg_extension x where x.extname = 'pg_net')
     or not exists (select 1 from pg_catalog.pg_extension x where x.extname = 'supabase_vault') then
    raise notice 'pg_net or Vault is missing: the WhatsApp template sync is left to the local stack';
    return false;
  end if;
  execute $job$
    select net.http_post(
      url := (select decrypted_secret from vault.decrypted_secrets
              where name = 'omnichannel_functions_url') || '/messages/templates/sync',
      headers := jsonb_build_object(
        'Content-Type', 'application/json',
        'apikey', (select decrypted_secret from vault.decrypted_secrets
                   where name = 'omnichannel_secret_key')),
      body := '{}'::jsonb,
      timeout_milliseconds := 60000)
  $job$;
  return true;
end;
$$;

-- Percentiles sort in memory rather than on disk for windows of a few hundred thousand rows.
alter function public.message_stats(timestamptz, timestamptz, text) set work_mem = '64MB';

revoke execute on function public.api_message_recipient(uuid, text, text) from public, anon, authenticated;
revoke execute on function public.sync_whatsapp_templates(jsonb) from public, anon, authenticated;
revoke execute on function public.request_whatsapp_template_sync() from public, anon, authenticated;
grant execute on function public.api_message_recipient(uuid, text, text) to service_role;
grant execute on function public.sync_whatsapp_templates(jsonb) to service_role;
grant execute on function public.request_whatsapp_template_sync() to service_role;

insert into public.scheduled_jobs (name, schedule, command)
values ('whatsapp-template-sync', '17 */6 * * *', 'select public.request_whatsapp_template_sync()')
on conflict (name) do update set schedule = excluded.schedule, command = excluded.command;

select public.sync_scheduled_jobs();
