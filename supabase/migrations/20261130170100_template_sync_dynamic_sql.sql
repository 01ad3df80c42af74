-- request_whatsapp_template_sync reaches pg_net and Vault through SQL text built at run time (as
-- public.schedule_dispatch does), so it compiles, and `supabase db lint` (plpgsql_check) passes,
-- where those extensions are absent; a literal EXECUTE was checked against a missing `net` schema.

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
  execute pg_catalog.format($job$
    select %1$I.http_post(
      url := (select decrypted_secret from %2$I.decrypted_secrets
              where name = 'omnichannel_functions_url') || '/messages/templates/sync',
      headers := jsonb_build_object(
        'Content-Type', 'application/json',
        'apikey', (select decrypted_secret from %2$I.decrypted_secrets
                   where name = 'omnichannel_secret_key')),
      body := '{}'::jsonb,
      timeout_milliseconds := 60000)
  $job$, 'net', 'vault');
  return true;
end;
$$;
