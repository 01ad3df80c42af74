-- The stats rollup and the inbound reopening (20261201150000–150400) brought in line with the
-- schema's rules (supabase/tests/schema-hygiene.test.ts): every function pins search_path, none is
-- security definer, no policy covers all commands, only service_role executes.
--
-- The trigger functions run as whoever writes the delivery log (service_role, or the owner in
-- migrations and jobs), which already may write the rollup's tables; TRUNCATE of the log clears the
-- rollup as the same role, so service_role gets TRUNCATE on those tables.

alter function public.message_stats_bucket(numeric) set search_path = '';

alter function public.truncate_message_stats() security invoker;
alter function public.reopen_conversation_on_inbound() security invoker;
alter function public.mark_message_stats_inserted() security invoker;
alter function public.mark_message_stats_deleted() security invoker;
alter function public.mark_message_stats_updated() security invoker;
alter function public.mark_message_stats_hours(timestamptz[], uuid[], uuid[]) security invoker;

grant truncate on table public.message_stats_hourly, public.message_stats_daily,
  public.message_stats_dirty to service_role;

do $policies$
declare
  v_table text;
  v_op text;
begin
  foreach v_table in array array['message_stats_hourly', 'message_stats_daily', 'message_stats_dirty']
  loop
    execute pg_catalog.format('drop policy omnichannel_service_role_all on public.%I', v_table);
    foreach v_op in array array['select', 'insert', 'update', 'delete'] loop
      execute pg_catalog.format(
        'create policy %I on public.%I as permissive for %s to service_role %s',
        'omnichannel_service_role_' || v_op, v_table, v_op,
        case v_op when 'insert' then 'with check (true)'
                  when 'update' then 'using (true) with check (true)'
                  else 'using (true)' end);
    end loop;
  end loop;
end
$policies$;

revoke execute on function public.message_stats_bucket(numeric) from public, anon, authenticated;
grant execute on function public.message_stats_bucket(numeric) to service_role;
revoke execute on function public.mark_message_stats_hours(timestamptz[], uuid[], uuid[])
  from public, anon, authenticated;
grant execute on function public.mark_message_stats_hours(timestamptz[], uuid[], uuid[])
  to service_role;
