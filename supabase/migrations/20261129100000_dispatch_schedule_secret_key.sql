-- schedule_dispatch now takes the project's secret key (sb_secret_…), keeps it in Vault as
-- omnichannel_secret_key, and the pg_cron job sends it in the `apikey` header, as Supabase
-- documents for secret keys (they are not JWTs, so not `Authorization: Bearer`). The legacy
-- service-role key still works in its place while the project has it (the functions accept it
-- in `apikey` too), so re-running this with the secret key is the whole migration of the job:
-- it also deletes the legacy key from Vault.
--
-- Run once per project, after `supabase db push` (idempotent; run again to rotate the key):
--   select public.schedule_dispatch('https://<ref>.supabase.co/functions/v1', '<secret key>');
-- Replaces 20261122040100_dispatch_schedule.sql's function: the parameter is renamed, which
-- `create or replace` cannot do, hence the drop (same signature, so no caller changes).


drop function if exists public.schedule_dispatch(text, text, text);

-- The job's SQL, one place: schedule_dispatch installs it and a test reads it (pg_cron and
-- pg_net are absent from the test databases, so the job itself cannot run there).
create or replace function public.dispatch_job_command()
returns text
language sql
immutable
security invoker
set search_path = ''
as $fn$
  select $job$
      select net.http_post(
        url := (select decrypted_secret from vault.decrypted_secrets
                where name = 'omnichannel_functions_url') || '/dispatch',
        headers := jsonb_build_object(
          'Content-Type', 'application/json',
          'apikey', (select decrypted_secret from vault.decrypted_secrets
                     where name = 'omnichannel_secret_key')),
        body := '{}'::jsonb,
        timeout_milliseconds := 60000
      )
    $job$::text
$fn$;

revoke execute on function public.dispatch_job_command() from public, anon, authenticated;
grant execute on function public.dispatch_job_command() to service_role;

-- cron.*, net.* and vault.* are reached through dynamic SQL whose text is built at run time, so
-- this compiles, and plpgsql_check passes, where those extensions are absent.
create function public.schedule_dispatch(
  p_functions_url text,
  p_secret_key text,
  p_schedule text default '* * * * *'
)
returns text
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_missing text[];
  v_name text;
  v_value text;
  v_id uuid;
begin
  if p_functions_url !~ '^https?://' then
    raise exception 'p_functions_url must be the functions base URL, e.g. https://<ref>.supabase.co/functions/v1'
      using errcode = '22023';
  end if;
  if coalesce(length(p_secret_key), 0) < 20 then
    raise exception 'p_secret_key must be a secret key (sb_secret_…) of the project'
      using errcode = '22023';
  end if;
  select array_agg(e) into v_missing
  from unnest(array['pg_cron', 'pg_net', 'supabase_vault']) as e
  where not exists (select 1 from pg_catalog.pg_extension x where x.extname = e);
  if v_missing is not null then
    raise exception 'cannot schedule dispatch: extension(s) % not installed; the local stack calls dispatch itself',
      pg_catalog.array_to_string(v_missing, ', ') using errcode = '55000';
  end if;

  foreach v_name in array array['omnichannel_functions_url', 'omnichannel_secret_key'] loop
    v_value := case when v_name = 'omnichannel_functions_url'
                    then pg_catalog.rtrim(p_functions_url, '/') else p_secret_key end;
    execute pg_catalog.format('select id from %I.secrets where name = $1', 'vault') into v_id using v_name;
    if v_id is null then
      execute pg_catalog.format('select %I.create_secret($1, $2)', 'vault') using v_value, v_name;
    else
      execute pg_catalog.format('select %I.update_secret($1, $2)', 'vault') using v_id, v_value;
    end if;
  end loop;
  -- The legacy key the previous version stored is no longer read by the job.
  execute pg_catalog.format('delete from %I.secrets where name = $1', 'vault')
    using 'omnichannel_service_role_key';

  execute pg_catalog.format('select %I.schedule($1, $2, $3)', 'cron') using
    'omnichannel-dispatch', p_schedule, public.dispatch_job_command();
  return 'omnichannel-dispatch scheduled (' || p_schedule || ')';
end;
$$;

revoke execute on function public.schedule_dispatch(text, text, text) from public, anon, authenticated;
grant execute on function public.schedule_dispatch(text, text, text) to service_role;

comment on function public.schedule_dispatch(text, text, text) is
  'Schedules POST <functions url>/dispatch every minute with pg_cron + pg_net, the secret key sent as apikey; URL and key kept in Vault.';
