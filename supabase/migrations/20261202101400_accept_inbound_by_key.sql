-- accept_inbound_messages (the webhooks' one statement per event-loop turn) found the messages
-- accepted before with a left join of its batch to the inbox, which the planner takes for 100
-- rows: while that looked cheaper than 100 index probes (inboxes of thousands to tens of
-- thousands of rows: they keep processed rows 7 days) it hashed the inbox whole, in the request
-- path (the text benchmark counted 571 such scans reading 2.9 million rows over its two phases;
-- tests/wa-webhook/inbox-scans.test.ts: 20,001 rows read for a batch of 3). Each is now looked up
-- by its key, and only when its insert did nothing. Nothing else changes.

create or replace function public.accept_inbound_messages(p_messages jsonb)
returns table (ordinal bigint, inbox_id bigint, is_new boolean)
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if jsonb_typeof(p_messages) is distinct from 'array' then
    raise exception 'p_messages must be a JSON array' using errcode = '22023';
  end if;
  if exists (
    select 1 from jsonb_array_elements(p_messages) as e(m)
    where coalesce(e.m ->> 'channel', '') = '' or coalesce(e.m ->> 'sender', '') = ''
       or coalesce(e.m ->> 'provider_message_id', '') = ''
  ) then
    raise exception 'channel, sender and provider_message_id are required' using errcode = '22023';
  end if;
  return query
    with e as (
      select x.m, x.n from jsonb_array_elements(p_messages) with ordinality as x(m, n)
    ),
    ins as (
      insert into public.inbound_inbox as i (channel, provider_message_id, sender, sender_kind, message)
      select e.m ->> 'channel', e.m ->> 'provider_message_id', e.m ->> 'sender',
             coalesce(e.m ->> 'sender_kind', 'phone'), e.m
      from e order by e.n
      on conflict (channel, provider_message_id) do nothing
      returning i.id, i.channel, i.provider_message_id
    ),
    firsts as (
      select e.n, e.m ->> 'channel' as channel, e.m ->> 'provider_message_id' as pid,
             e.n = min(e.n) over (partition by e.m ->> 'channel', e.m ->> 'provider_message_id') as first
      from e
    )
    -- A message accepted before is found by its key, one index probe each.
    select f.n,
           coalesce(ins.id, (select old.id from public.inbound_inbox old
                             where old.channel = f.channel and old.provider_message_id = f.pid)),
           ins.id is not null and f.first
    from firsts f
    left join ins on ins.channel = f.channel and ins.provider_message_id = f.pid
    order by f.n;
end;
$$;
