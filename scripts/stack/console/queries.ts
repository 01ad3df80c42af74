import type postgres from "postgres";
import type { Sql } from "../../../supabase/functions/_shared/db/client.ts";
import { maskEmail, maskPhone } from "../../../supabase/functions/_shared/log/mask.ts";

/**
 * What the console reads. Every request runs in one read-only, repeatable-read transaction
 * with a statement timeout: the console can never write, sees one consistent snapshot per
 * request, and a slow scan cannot hold the embedded database (one transaction at a time) for
 * long. Every value is a bound parameter; every list has a limit.
 */

type Tx = postgres.ReservedSql;
type Row = Record<string, unknown>;

/**
 * The transaction runs on a connection reserved for it alone (`sql.reserve()` only ever hands out
 * an idle connection), not through `sql.begin`: with its small pool busy, postgres.js 3.4 can
 * queue another request's `begin` onto a connection already inside a transaction, which
 * PostgreSQL refuses ("SET TRANSACTION ISOLATION LEVEL must be called before any query": an
 * intermittent 500 from the console's browser test, seen twice in CI).
 */
async function readOnly<T>(sql: Sql, work: (tx: Tx) => Promise<T>): Promise<T> {
  const tx = await sql.reserve();
  try {
    await tx`begin isolation level repeatable read read only`;
    try {
      await tx`set local statement_timeout = '5s'`;
      const result = await work(tx);
      await tx`commit`;
      return result;
    } catch (err) {
      await tx`rollback`.catch(() => {});
      throw err;
    }
  } finally {
    tx.release();
  }
}

const masked = (value: unknown, reveal: boolean) =>
  typeof value === "string" && !reveal ? maskPhone(value) : value;

function sessionsQuery(tx: Tx, where: postgres.PendingQuery<Row[]>, limit: number) {
  return tx<Row[]>`
    select s.id, p.phone_number as phone, s.status,
           s.status <> 'closed' and s.expires_at > now() as live,
           s.channels_seen, s.last_channel, s.call_id,
           s.whatsapp_summary_sent, s.whatsapp_summary_sent_at,
           s.sms_summary_sent, s.sms_summary_sent_at,
           s.expires_at, s.last_activity_at, s.created_at, s.closed_at, s.context,
           p.allows_sms, p.allows_whatsapp, p.allows_email, p.display_name,
           coalesce((select jsonb_agg(jsonb_build_object('kind', i.kind, 'value', i.value)
                                      order by i.kind, i.value)
                     from public.profile_identities i where i.profile_id = p.id), '[]') as identities,
           c.total, c.inbound, c.outbound, c.failed, c.blocked, c.last_message_at
    from public.omnichannel_sessions s
    join public.profiles p on p.id = s.profile_id
    cross join lateral (
      select count(*)::int as total,
             (count(*) filter (where m.direction = 'inbound'))::int as inbound,
             (count(*) filter (where m.direction = 'outbound'))::int as outbound,
             (count(*) filter (where m.status = 'failed'))::int as failed,
             (count(*) filter (where m.status = 'blocked'))::int as blocked,
             max(m.created_at) as last_message_at
      from public.message_delivery_log m
      where m.session_id = s.id
    ) c
    ${where}
    order by s.last_activity_at desc, s.id
    limit ${limit}`;
}

/** A person's address on a channel, masked unless revealed (a page-scoped id is not secret). */
function maskedIdentity(i: { kind: string; value: string }, reveal: boolean) {
  if (reveal || i.kind === "messenger" || i.kind === "instagram") return i;
  return { kind: i.kind, value: i.kind === "email" ? maskEmail(i.value) : maskPhone(i.value) };
}

function toSession(row: Row, reveal: boolean) {
  const {
    id,
    phone,
    total,
    inbound,
    outbound,
    failed,
    blocked,
    last_message_at,
    identities,
    ...session
  } = row;
  return {
    id,
    phone: masked(phone, reveal),
    identities: (identities as { kind: string; value: string }[]).map((i) =>
      maskedIdentity(i, reveal)
    ),
    ...session,
    message_counts: { total, inbound, outbound, failed, blocked, last_message_at },
  };
}

export type SessionView = ReturnType<typeof toSession>;

/** Live and recent sessions, most recently active first. */
export function listSessions(
  sql: Sql,
  q: { limit: number; status?: string; reveal: boolean },
): Promise<SessionView[]> {
  return readOnly(sql, async (tx) => {
    const where = q.status ? tx<Row[]>`where s.status = ${q.status}` : tx<Row[]>``;
    const rows = await sessionsQuery(tx, where, q.limit);
    return rows.map((r) => toSession(r, q.reveal));
  });
}

/**
 * One session and its conversation across channels, oldest first: the newest `limit` messages,
 * so a long conversation shows its end. Null when the session does not exist.
 */
export function sessionConversation(
  sql: Sql,
  id: string,
  q: { limit: number; reveal: boolean },
): Promise<{ session: SessionView; messages: Row[] } | null> {
  return readOnly(sql, async (tx) => {
    const [session] = await sessionsQuery(tx, tx<Row[]>`where s.id = ${id}`, 1);
    if (!session) return null;
    const messages = await tx<Row[]>`
      select t.* from (
        select m.id, m.created_at, m.channel, m.direction, m.message_type, m.purpose, m.status,
               m.provider, m.provider_message_id, m.body, m.error_code, m.error_class,
               m.error_message, m.attempts, m.next_attempt_at, m.leased_until, m.call_id,
               m.fallback_of, m.retry_of, m.queued_at, m.sent_at, m.delivered_at, m.read_at,
               m.failed_at, m.received_at,
               -- Email: the subject (inbound: as received; outbound: as sent), the attachments'
               -- names, and whether the person marked it as spam.
               coalesce(m.metadata->>'subject', m.metadata->'email'->>'subject') as subject,
               coalesce(
                 (select array_agg(a->>'filename') from jsonb_array_elements(
                    case jsonb_typeof(coalesce(m.metadata->'attachments', m.metadata->'email'->'attachments'))
                      when 'array' then coalesce(m.metadata->'attachments', m.metadata->'email'->'attachments')
                      else '[]'::jsonb end) a),
                 '{}') as attachments,
               m.metadata ? 'complained_at' as complained
        from public.message_delivery_log m
        where m.session_id = ${id}
        order by m.created_at desc, m.direction desc, m.id desc
        limit ${q.limit}
      ) t
      order by t.created_at, t.direction, t.id`;
    return { session: toSession(session, q.reveal), messages };
  });
}

/** The delivery log, newest first, filtered. */
export function listDeliveries(
  sql: Sql,
  q: {
    limit: number;
    status?: string;
    channel?: string;
    direction?: string;
    session_id?: string;
    reveal: boolean;
  },
): Promise<Row[]> {
  return readOnly(sql, async (tx) => {
    const filter = (column: string, value: string | undefined) =>
      value === undefined ? tx`` : tx`and ${tx(column)} = ${value}`;
    const rows = await tx<Row[]>`
      select m.id, m.created_at, m.updated_at, m.session_id, m.channel, m.direction,
             m.message_type, m.purpose, m.status, m.provider, m.provider_message_id,
             m.recipient, m.sender, m.body, m.error_code, m.error_class, m.error_message,
             m.attempts, m.next_attempt_at, m.leased_until, m.call_id, m.sender_key,
             m.correlation_id
      from public.message_delivery_log m
      where true ${filter("status", q.status)} ${filter("channel", q.channel)}
        ${filter("direction", q.direction)} ${filter("session_id", q.session_id)}
      order by m.created_at desc, m.id desc
      limit ${q.limit}`;
    return rows.map((r) => ({
      ...r,
      recipient: masked(r.recipient, q.reveal),
      sender: masked(r.sender, q.reveal),
    }));
  });
}

/**
 * Counts for the last 24 hours by channel, direction and status; the outbox (queued and unknown
 * outbound rows: due now, leased by a sender, scheduled for a retry); sessions by status; and each
 * sender's pacing bucket with its tokens as of now (refilled as take_send_tokens refills them).
 */
export function readStats(sql: Sql) {
  return readOnly(sql, async (tx) => {
    const byChannelStatus = await tx<Row[]>`
      select m.channel, m.direction, m.status, count(*)::int as count
      from public.message_delivery_log m
      where m.created_at > now() - interval '24 hours'
      group by m.channel, m.direction, m.status
      order by m.channel, m.direction, m.status`;
    const [outbox] = await tx<Row[]>`
      select (count(*) filter (where m.status = 'queued'))::int as queued,
             -- Timed out: waiting for the provider's callback before any retry.
             (count(*) filter (where m.status = 'unknown'))::int as unknown,
             (count(*) filter (where coalesce(m.next_attempt_at, m.created_at) <= now()
                                 and (m.leased_until is null or m.leased_until <= now())))::int as due,
             (count(*) filter (where m.leased_until > now()))::int as leased,
             (count(*) filter (where m.next_attempt_at > now()
                                 and (m.leased_until is null or m.leased_until <= now())))::int
               as scheduled,
             min(coalesce(m.next_attempt_at, m.created_at))
               filter (where coalesce(m.next_attempt_at, m.created_at) <= now()
                         and (m.leased_until is null or m.leased_until <= now())) as oldest_due_at
      from public.message_delivery_log m
      where m.direction = 'outbound' and m.status in ('queued', 'unknown')`;
    const sessions = await tx<Row[]>`
      select s.status, count(*)::int as count,
             (count(*) filter (where s.status <> 'closed' and s.expires_at <= now()))::int as expired
      from public.omnichannel_sessions s
      group by s.status
      order by s.status`;
    const pacing = await tx<Row[]>`
      select r.sender_key, r.rate_per_second, r.burst,
             least(r.burst, r.tokens + extract(epoch from (clock_timestamp() - r.refilled_at))::float8
               * case when r.slowed_until > now() then r.rate_per_second / 2 else r.rate_per_second end)
               as tokens_now,
             r.slowed_until, r.refilled_at
      from public.sender_rate_limits r
      order by r.sender_key
      limit 500`;
    // Not sent because the person opted out of the channel: never in the outbox, so counted here.
    const [{ now, blocked }] = await tx<{ now: Date; blocked: number }[]>`
      select now() as now, count(*)::int as blocked
      from public.message_delivery_log m
      where m.status = 'blocked' and m.created_at > now() - interval '24 hours'`;
    return {
      generated_at: now,
      window_hours: 24,
      by_channel_status: byChannelStatus,
      outbox,
      blocked,
      sessions,
      pacing,
    };
  });
}
