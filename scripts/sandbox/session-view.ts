import type postgres from "postgres";

/** What the CLI and the demo show of a conversation: the person's session and its messages. */

export interface SessionView {
  id: string;
  status: string;
  channels_seen: string[];
  context: Record<string, unknown>;
  expires_at: Date;
}

export interface DeliveryRow {
  session_id: string;
  channel: string;
  direction: string;
  purpose: string | null;
  status: string;
  provider: string | null;
  body: string | null;
  created_at: Date;
}

/**
 * The person's current session (the newest one that is not closed), found by their phone number
 * or by any of their identities (a PSID, an IGSID, an email address in any case).
 */
export async function sessionOf(sql: postgres.Sql, who: string): Promise<SessionView | null> {
  const [row] = await sql<SessionView[]>`
    select s.id, s.status, s.channels_seen, s.context, s.expires_at
    from public.omnichannel_sessions s join public.profiles p on p.id = s.profile_id
    where (p.phone_number = ${who}
           or p.id in (select i.profile_id from public.profile_identities i
                       where i.value = ${who} or (i.kind = 'email' and i.value = lower(${who}))))
      and s.status <> 'closed'
    order by s.created_at desc limit 1`;
  return row ?? null;
}

/** Every message of the session, both directions and every channel, oldest first. */
export function deliveryLog(sql: postgres.Sql, sessionId: string): Promise<DeliveryRow[]> {
  return sql<DeliveryRow[]>`
    select session_id, channel, direction, purpose, status, provider, body, created_at
    from public.message_delivery_log where session_id = ${sessionId}
    order by created_at, direction`;
}

/** The rows as a console.table shows them well: short bodies, no timestamps. */
export function deliveryTable(rows: DeliveryRow[]): Record<string, unknown>[] {
  return rows.map((r) => ({
    channel: r.channel,
    direction: r.direction,
    purpose: r.purpose ?? "",
    status: r.status,
    provider: r.provider ?? "",
    body: r.body && r.body.length > 48 ? `${r.body.slice(0, 47)}…` : r.body ?? "",
  }));
}
