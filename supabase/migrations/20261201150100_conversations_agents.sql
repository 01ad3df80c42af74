-- Conversations for human agents, the rest of issue 14:
-- - a resolved conversation the person writes to again is open again at once (assigned if it
--   has an assignee), by a trigger on the inbound message, not at the next SLA run (the SLA
--   job's own reopening stays, for messages written before this trigger existed);
-- - the inbox pages by cursor (last activity, then id, newest first);
-- - an agent (the `agent` role) sees and moves only conversations that are unassigned or
--   assigned to them: p_agent names them; null (operators, secret keys) sees every one.

create or replace function public.reopen_conversation_on_inbound()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.omnichannel_sessions s
  set conversation_status = case when s.assignee is null then 'open' else 'assigned' end,
      resolved_at = null
  where s.id = new.session_id and s.conversation_status = 'resolved'
    and new.created_at > s.resolved_at;
  return null;
end;
$$;

revoke execute on function public.reopen_conversation_on_inbound() from public, anon, authenticated;

-- Row-level with a WHEN clause: outbound rows and status updates never call it, and an inbound
-- message to a conversation that is not resolved costs one primary-key probe.
create trigger message_delivery_log_reopen_conversation
  after insert on public.message_delivery_log
  for each row
  when (new.direction = 'inbound' and new.session_id is not null)
  execute function public.reopen_conversation_on_inbound();

drop function public.list_conversations(text, text, integer);

-- The inbox (see 20261130141000_conversations_sla.sql), most recently active first, a page of
-- at most 200 after the cursor (p_before_activity, p_before_id) — the last row of the page before.
create or replace function public.list_conversations(
  p_view text default 'all',
  p_assignee text default null,
  p_limit integer default 50,
  p_before_activity timestamptz default null,
  p_before_id uuid default null,
  p_agent text default null
)
returns table (conversation jsonb, cursor_id uuid, cursor_activity text)
language sql
stable
security invoker
set search_path = ''
as $$
  -- cursor_activity keeps the microseconds a JSON timestamp would lose.
  select public.get_conversation(s.id), s.id, s.last_activity_at::text
  from public.omnichannel_sessions s
  where s.conversation_status <> 'archived'
    and case p_view
          when 'unassigned' then s.conversation_status = 'open' and s.assignee is null
          when 'assigned' then s.conversation_status = 'assigned'
          when 'breaching' then s.conversation_status in ('open', 'assigned')
            and exists (select 1 from public.conversation_sla_breaches b where b.session_id = s.id)
          else true end
    and (p_assignee is null or s.assignee = p_assignee)
    and (p_agent is null or s.assignee is null or s.assignee = p_agent)
    and (p_before_activity is null or (s.last_activity_at, s.id) < (p_before_activity, p_before_id))
  order by s.last_activity_at desc, s.id desc
  limit least(greatest(p_limit, 1), 201)
$$;

drop function public.move_conversation(uuid, text, text, text, text[]);

-- assign / resolve / reopen (see 20261130141000_conversations_sla.sql). With p_agent, a
-- conversation assigned to someone else raises OM403 (CONVERSATION.NOT_YOURS), and an agent
-- assigns only to themself; both checked under the row lock, so two agents cannot race.
create or replace function public.move_conversation(
  p_session_id uuid,
  p_action text,
  p_assignee text default null,
  p_priority text default null,
  p_tags text[] default null,
  p_agent text default null
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_status text;
  v_assignee text;
begin
  select s.conversation_status, s.assignee into v_status, v_assignee
  from public.omnichannel_sessions s where s.id = p_session_id for update;
  if not found then
    raise exception 'conversation % not found', p_session_id using errcode = 'no_data_found';
  end if;
  if p_agent is not null and (v_assignee <> p_agent
      or (p_action = 'assign' and p_assignee is distinct from p_agent)) then
    raise exception 'conversation % is not this agent''s', p_session_id
      using errcode = 'OM403', hint = 'CONVERSATION.NOT_YOURS';
  end if;
  if p_action = 'assign' then
    if v_status not in ('open', 'assigned') or p_assignee is null then
      raise exception 'a % conversation cannot be assigned', v_status
        using errcode = 'OM422', hint = 'CONVERSATION.INVALID_TRANSITION';
    end if;
    update public.omnichannel_sessions s
    set conversation_status = 'assigned', assignee = p_assignee, assigned_at = now(),
        priority = coalesce(p_priority, s.priority), tags = coalesce(p_tags, s.tags)
    where s.id = p_session_id;
  elsif p_action = 'resolve' then
    if v_status = 'archived' then
      raise exception 'an archived conversation cannot be resolved'
        using errcode = 'OM422', hint = 'CONVERSATION.INVALID_TRANSITION';
    end if;
    update public.omnichannel_sessions s
    set conversation_status = 'resolved', resolved_at = coalesce(s.resolved_at, now())
    where s.id = p_session_id and s.conversation_status <> 'resolved';
  elsif p_action = 'reopen' then
    update public.omnichannel_sessions s
    set conversation_status = case when v_assignee is null then 'open' else 'assigned' end,
        resolved_at = null, archived_at = null
    where s.id = p_session_id and s.conversation_status in ('resolved', 'archived');
  else
    raise exception 'unknown action %', p_action using errcode = '22023';
  end if;
  return public.get_conversation(p_session_id);
end;
$$;

create index omnichannel_sessions_inbox_idx
  on public.omnichannel_sessions (last_activity_at desc, id desc)
  where conversation_status <> 'archived';

revoke execute on function public.list_conversations(text, text, integer, timestamptz, uuid, text) from public, anon, authenticated;
revoke execute on function public.move_conversation(uuid, text, text, text, text[], text) from public, anon, authenticated;
grant execute on function public.list_conversations(text, text, integer, timestamptz, uuid, text) to service_role;
grant execute on function public.move_conversation(uuid, text, text, text, text[], text) to service_role;
