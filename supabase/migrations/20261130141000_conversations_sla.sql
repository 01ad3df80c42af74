-- Conversations for human agents (issue 14): a session is also a conversation that agents move
-- open -> assigned -> resolved -> archived, with an assignee, a priority and tags, alongside the
-- session's own status (active/closed/follow_up, which the 24 h expiry drives).
--
-- SLA, evaluated by public.run_conversation_sla() in one set-based statement (pg_cron every 15
-- minutes, or the local stack's ticker, from public.scheduled_jobs):
-- - first response: the first reply written to the person (an agent's, purpose 'agent_reply', or
--   the AI's, 'ai_reply') within the target (default 2 h) of their first message;
-- - next response: after a reply, their next message answered within the target (default 2 h);
-- - a breach is a row of public.conversation_sla_breaches keyed by (conversation, kind, due
--   time), so each missed target is recorded exactly once however often the job runs;
-- - idle: an open or assigned conversation with no message for 24 h is resolved;
-- - a resolved conversation the person writes to again is open again (assigned if it has an
--   assignee); one left resolved for 7 days is archived.

alter table public.omnichannel_sessions
  add column conversation_status text not null default 'open'
    constraint omnichannel_sessions_conversation_status_check
    check (conversation_status in ('open', 'assigned', 'resolved', 'archived')),
  add column assignee text,
  add column priority text not null default 'normal'
    constraint omnichannel_sessions_priority_check check (priority in ('low', 'normal', 'high', 'urgent')),
  add column tags text[] not null default '{}',
  add column assigned_at timestamptz,
  add column resolved_at timestamptz,
  add column archived_at timestamptz;

create index omnichannel_sessions_conversation_status_idx
  on public.omnichannel_sessions (conversation_status, last_activity_at desc)
  where conversation_status <> 'archived';

comment on column public.omnichannel_sessions.conversation_status is
  'The human agents'' view of the session: open, assigned, resolved, archived (public.run_conversation_sla).';

create table public.conversation_sla_breaches (
  session_id uuid not null references public.omnichannel_sessions (id) on delete cascade,
  kind text not null check (kind in ('first_response', 'next_response')),
  due_at timestamptz not null,
  breached_at timestamptz not null default now(),
  primary key (session_id, kind, due_at)
);
alter table public.conversation_sla_breaches enable row level security;
revoke all on table public.conversation_sla_breaches from anon, authenticated;
grant select, insert, update, delete on table public.conversation_sla_breaches to service_role;
create policy omnichannel_service_role_select on public.conversation_sla_breaches for select to service_role using (true);
create policy omnichannel_service_role_insert on public.conversation_sla_breaches for insert to service_role with check (true);
create policy omnichannel_service_role_update on public.conversation_sla_breaches for update to service_role using (true) with check (true);
create policy omnichannel_service_role_delete on public.conversation_sla_breaches for delete to service_role using (true);

-- The SLA job: breaches, idle resolution, reopening and archiving, as one statement.
create or replace function public.run_conversation_sla(
  p_first_response interval default interval '2 hours',
  p_next_response interval default interval '2 hours',
  p_idle interval default interval '24 hours',
  p_archive_after interval default interval '7 days'
)
returns table (breached integer, resolved integer, reopened integer, archived integer)
language sql
security invoker
set search_path = ''
as $$
  with live as (
    select s.id, s.conversation_status, s.resolved_at, s.assignee, s.created_at, s.assigned_at,
           i.first_in, i.last_in, r.first_reply, r.last_reply,
           (select min(n.created_at) from public.message_delivery_log n
            where n.session_id = s.id and n.direction = 'inbound' and n.created_at > r.last_reply) as pending_since
    from public.omnichannel_sessions s
    cross join lateral (
      select min(m.created_at) as first_in, max(m.created_at) as last_in
      from public.message_delivery_log m where m.session_id = s.id and m.direction = 'inbound'
    ) i
    cross join lateral (
      select min(o.created_at) as first_reply, max(o.created_at) as last_reply
      from public.message_delivery_log o
      where o.session_id = s.id and o.direction = 'outbound' and o.purpose in ('agent_reply', 'ai_reply')
        and o.status not in ('failed', 'blocked') and o.created_at >= i.first_in
    ) r
    where s.conversation_status in ('open', 'assigned', 'resolved')
  ),
  due as (
    select l.id, 'first_response'::text as kind, l.first_in + p_first_response as due_at
    from live l
    where l.conversation_status in ('open', 'assigned') and l.first_in is not null
      and coalesce(l.first_reply, now()) > l.first_in + p_first_response
    union all
    select l.id, 'next_response', l.pending_since + p_next_response
    from live l
    where l.conversation_status in ('open', 'assigned') and l.pending_since is not null
      and now() > l.pending_since + p_next_response
  ),
  breaches as (
    insert into public.conversation_sla_breaches (session_id, kind, due_at)
    select d.id, d.kind, d.due_at from due d
    on conflict do nothing
    returning 1
  ),
  moved as (
    update public.omnichannel_sessions s
    set conversation_status = case
          when l.conversation_status = 'resolved' and l.last_in > l.resolved_at
            then case when l.assignee is null then 'open' else 'assigned' end
          when l.conversation_status = 'resolved' then 'archived'
          else 'resolved' end,
        resolved_at = case when l.conversation_status = 'resolved' and l.last_in > l.resolved_at then null
                           when l.conversation_status = 'resolved' then s.resolved_at
                           else now() end,
        archived_at = case when l.conversation_status = 'resolved' and not coalesce(l.last_in > l.resolved_at, false)
                           then now() else s.archived_at end
    from live l
    where s.id = l.id and (
      (l.conversation_status in ('open', 'assigned')
       and greatest(l.last_in, l.last_reply, l.assigned_at, l.created_at) < now() - p_idle)
      or (l.conversation_status = 'resolved' and l.last_in > l.resolved_at)
      or (l.conversation_status = 'resolved' and l.resolved_at < now() - p_archive_after
          and not coalesce(l.last_in > l.resolved_at, false)))
    returning l.conversation_status as was, s.conversation_status as now_is
  )
  select (select count(*) from breaches)::integer,
         (select count(*) from moved where now_is = 'resolved')::integer,
         (select count(*) from moved where was = 'resolved' and now_is in ('open', 'assigned'))::integer,
         (select count(*) from moved where now_is = 'archived')::integer
$$;

-- One conversation as the API and the console show it, with its breaches.
create or replace function public.get_conversation(p_session_id uuid)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select jsonb_build_object(
    'id', s.id,
    'profile_id', s.profile_id,
    'phone_number', p.phone_number,
    'display_name', p.display_name,
    'session_status', s.status,
    'status', s.conversation_status,
    'assignee', s.assignee,
    'priority', s.priority,
    'tags', to_jsonb(s.tags),
    'last_channel', s.last_channel,
    'last_activity_at', s.last_activity_at,
    'assigned_at', s.assigned_at,
    'resolved_at', s.resolved_at,
    'archived_at', s.archived_at,
    'breaches', coalesce((select jsonb_agg(jsonb_build_object(
                   'kind', b.kind, 'due_at', b.due_at, 'breached_at', b.breached_at) order by b.due_at)
                 from public.conversation_sla_breaches b where b.session_id = s.id), '[]'::jsonb)
  )
  from public.omnichannel_sessions s
  join public.profiles p on p.id = s.profile_id
  where s.id = p_session_id
$$;

-- The inbox: unassigned (open), assigned (optionally to one agent), breaching (open or assigned
-- with a recorded breach), or all that are not archived; most recently active first.
create or replace function public.list_conversations(
  p_view text default 'all',
  p_assignee text default null,
  p_limit integer default 50
)
returns table (conversation jsonb)
language sql
stable
security invoker
set search_path = ''
as $$
  select public.get_conversation(s.id)
  from public.omnichannel_sessions s
  where s.conversation_status <> 'archived'
    and case p_view
          when 'unassigned' then s.conversation_status = 'open' and s.assignee is null
          when 'assigned' then s.conversation_status = 'assigned'
          when 'breaching' then s.conversation_status in ('open', 'assigned')
            and exists (select 1 from public.conversation_sla_breaches b where b.session_id = s.id)
          else true end
    and (p_assignee is null or s.assignee = p_assignee)
  order by s.last_activity_at desc, s.id
  limit least(greatest(p_limit, 1), 200)
$$;

-- assign / resolve / reopen: the moves agents make. A move the state does not allow raises
-- OM422 (CONVERSATION.INVALID_TRANSITION); an unknown conversation, no_data_found.
create or replace function public.move_conversation(
  p_session_id uuid,
  p_action text,
  p_assignee text default null,
  p_priority text default null,
  p_tags text[] default null
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

revoke execute on function public.run_conversation_sla(interval, interval, interval, interval) from public, anon, authenticated;
revoke execute on function public.get_conversation(uuid) from public, anon, authenticated;
revoke execute on function public.list_conversations(text, text, integer) from public, anon, authenticated;
revoke execute on function public.move_conversation(uuid, text, text, text, text[]) from public, anon, authenticated;
grant execute on function public.run_conversation_sla(interval, interval, interval, interval) to service_role;
grant execute on function public.get_conversation(uuid) to service_role;
grant execute on function public.list_conversations(text, text, integer) to service_role;
grant execute on function public.move_conversation(uuid, text, text, text, text[]) to service_role;

insert into public.scheduled_jobs (name, schedule, command)
values ('conversation-sla', '*/15 * * * *', 'select public.run_conversation_sla()')
on conflict (name) do update set schedule = excluded.schedule, command = excluded.command;

select public.sync_scheduled_jobs();
