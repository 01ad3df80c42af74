-- Every minute pg_cron asks pg_net to POST /functions/v1/dispatch, as Supabase documents for
-- scheduling edge functions: the URL and the service-role key live in Vault, never in the job.
--
-- Run once per project, after `supabase db push` (idempotent; run again to rotate the key):
--   select public.schedule_dispatch('https://<ref>.supabase.co/functions/v1', '<service-role key>');
-- Without pg_cron, pg_net or Vault (plain PostgreSQL, the embedded database) it raises and says
-- so; the local stack then calls dispatch itself every minute.
-- cron.*, net.* and vault.* are reached through dynamic SQL whose text is built at run time, so
-- this compiles, and plpgsql_check (which checks constant dynamic SQL) passes, where those
-- extensions are absent.

create or replace function public.schedule_dispatch(
  p_functions_url text,
  p_service_role_key text,
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
  if coalesce(length(p_service_role_key), 0) < 20 then
    raise exception 'p_service_role_key must be the service-role key' using errcode = '22023';
  end if;
  select array_agg(e) into v_missing
  from unnest(array['pg_cron', 'pg_net', 'supabase_vault']) as e
  where not exists (select 1 from pg_catalog.pg_extension x where x.extname = e);
  if v_missing is not null then
    raise exception 'cannot schedule dispatch: extension(s) % not installed; the local stack calls dispatch itself',
      pg_catalog.array_to_string(v_missing, ', ') using errcode = '55000';
  end if;

  foreach v_name in array array['omnichannel_functions_url', 'omnichannel_service_role_key'] loop
    v_value := case when v_name = 'omnichannel_functions_url'
                    then pg_catalog.rtrim(p_functions_url, '/') else p_service_role_key end;
    execute pg_catalog.format('select id from %I.secrets where name = $1', 'vault') into v_id using v_name;
    if v_id is null then
      execute pg_catalog.format('select %I.create_secret($1, $2)', 'vault') using v_value, v_name;
    else
      execute pg_catalog.format('select %I.update_secret($1, $2)', 'vault') using v_id, v_value;
    end if;
  end loop;

  execute pg_catalog.format('select %I.schedule($1, $2, $3)', 'cron') using
    'omnichannel-dispatch',
    p_schedule,
    $job$
      select net.http_post(
        url := (select decrypted_secret from vault.decrypted_secrets
                where name = 'omnichannel_functions_url') || '/dispatch',
        headers := jsonb_build_object(
          'Content-Type', 'application/json',
          'Authorization', 'Bearer ' || (select decrypted_secret from vault.decrypted_secrets
                                         where name = 'omnichannel_service_role_key')),
        body := '{}'::jsonb,
        timeout_milliseconds := 60000
      )
    $job$;
  return 'omnichannel-dispatch scheduled (' || p_schedule || ')';
end;
$$;

revoke execute on function public.schedule_dispatch(text, text, text) from public, anon, authenticated;
grant execute on function public.schedule_dispatch(text, text, text) to service_role;

comment on function public.schedule_dispatch(text, text, text) is
  'Schedules POST <functions url>/dispatch every minute with pg_cron + pg_net; URL and key kept in Vault.';
