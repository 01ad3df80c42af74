-- Two findings of the attack run (issue 8):
--
-- 1. enqueue_fallback_on_failed_status() kept PostgreSQL's default EXECUTE for PUBLIC. It is a
--    trigger function (no one calls it directly, and a trigger fires without EXECUTE), so no role
--    needs the grant; supabase/tests/schema-hygiene.test.ts now refuses PUBLIC on any function.
revoke execute on function public.enqueue_fallback_on_failed_status() from public, anon, authenticated;

-- 2. A late 'failed' status for a message already delivered or read kept the status (the guard
--    below refuses the move) but record_delivery_status still wrote the failure's error code and
--    message onto the row: a read message showing a failure. A refused move to 'failed' now
--    keeps the row's error columns as they were, for every writer. Otherwise unchanged from
--    20261122010000.
create or replace function public.message_delivery_log_guard_status()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_rank constant jsonb := '{"queued": 0, "sent": 1, "delivered": 2, "read": 3}';
  v_forward boolean;
begin
  if tg_op = 'UPDATE' then
    if new.status is not distinct from old.status then
      v_forward := false;
    else
      v_forward := case
        when old.status in ('failed', 'received', 'blocked', 'read') then false
        when new.status in ('sent', 'delivered', 'read')
          then (v_rank ->> new.status)::int > (v_rank ->> old.status)::int
        when new.status = 'failed' then old.status in ('queued', 'sent')
        when new.status = 'blocked' then old.status = 'queued'
        else false
      end;
      if not v_forward then
        if new.status = 'failed' then
          new.error_code := old.error_code;
          new.error_message := old.error_message;
          new.error_class := old.error_class;
        end if;
        new.status := old.status;
      end if;
    end if;
  end if;

  if tg_op = 'INSERT' or v_forward then
    case new.status
      when 'queued' then new.queued_at := coalesce(new.queued_at, pg_catalog.now());
      when 'sent' then new.sent_at := coalesce(new.sent_at, pg_catalog.now());
      when 'delivered' then new.delivered_at := coalesce(new.delivered_at, pg_catalog.now());
      when 'read' then new.read_at := coalesce(new.read_at, pg_catalog.now());
      when 'failed' then new.failed_at := coalesce(new.failed_at, pg_catalog.now());
      when 'received' then new.received_at := coalesce(new.received_at, pg_catalog.now());
      else null;
    end case;
  end if;

  new.updated_at := pg_catalog.now();
  return new;
end;
$$;

revoke execute on function public.message_delivery_log_guard_status() from public, anon, authenticated;
