-- The portal's "handoffs waiting" counts handoffs (public.conversation_handoffs, ai_then_agent
-- numbers) that no agent has answered yet, and "with an agent" those an agent has; the
-- Genesys mapping of an agent-routed number (genesys_conversations) is not a handoff.

create or replace function public.tenant_dashboard(p_tenant_id uuid, p_since timestamptz default null)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select jsonb_build_object(
    'conversations', coalesce((
      select jsonb_object_agg(c.status, c.n) from (
        select s.status, count(*) as n from public.omnichannel_sessions s
        where s.tenant_id = p_tenant_id group by s.status) c), '{}'),
    'messages_today', coalesce((
      select jsonb_agg(jsonb_build_object('direction', m.direction, 'channel', m.channel,
                                          'count', m.n) order by m.direction, m.channel)
      from (
        select l.direction, l.channel, count(*) as n from public.message_delivery_log l
        where l.tenant_id = p_tenant_id
          and l.created_at >= coalesce(p_since, date_trunc('day', now() at time zone 'utc')
                                                  at time zone 'utc')
        group by l.direction, l.channel) m), '[]'),
    'recent_conversations', coalesce((
      select jsonb_agg(jsonb_build_object(
        'session_id', r.id, 'status', r.status, 'conversation_status', r.conversation_status,
        'last_channel', r.last_channel, 'last_activity_at', r.last_activity_at,
        'phone_number', r.phone_number, 'display_name', r.display_name)
        order by r.last_activity_at desc)
      from (
        select s.id, s.status, s.conversation_status, s.last_channel, s.last_activity_at,
          p.phone_number, p.display_name
        from public.omnichannel_sessions s
        join public.profiles p on p.id = s.profile_id
        where s.tenant_id = p_tenant_id
        order by s.last_activity_at desc
        limit 10) r), '[]'),
    -- Handed off from the AI (ai_then_agent), no agent has written yet / an agent has.
    'handoffs_waiting', (
      select count(*) from public.conversation_handoffs h
      where h.tenant_id = p_tenant_id and h.state = 'waiting'),
    'handoffs_with_agent', (
      select count(*) from public.conversation_handoffs h
      where h.tenant_id = p_tenant_id and h.state = 'agent')
  )
$$;
