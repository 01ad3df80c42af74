import type { Sql } from "../db/client.ts";
import type { CallEvent } from "./call-event.ts";

/**
 * Makes a WhatsApp call's end durable before the post-call flow runs: a `call_summaries` row for
 * the call id (phone, duration, end time). The voice side may have written the row first (with
 * the summary), or may write it later: either way each side only fills what is still empty, so
 * neither overwrites the other. The row is what a crash between the 200 and the post-call flow
 * leaves behind to recover from.
 */
export async function recordCallEnded(sql: Sql, call: CallEvent): Promise<void> {
  const whatsappCall = {
    event: call.event,
    status: call.status,
    direction: call.direction,
    started_at: call.startedAt,
  };
  await sql`
    insert into public.call_summaries as cs (call_id, phone_number, duration_seconds, ended_at, metadata)
    values (
      ${call.callId}, ${call.phoneNumber}, ${call.durationSeconds ?? null},
      ${call.endedAt ? new Date(call.endedAt) : null},
      ${sql.json({ whatsapp_call: whatsappCall } as never)})
    on conflict (call_id) do update set
      phone_number = coalesce(cs.phone_number, excluded.phone_number),
      duration_seconds = coalesce(cs.duration_seconds, excluded.duration_seconds),
      ended_at = coalesce(cs.ended_at, excluded.ended_at),
      metadata = cs.metadata || excluded.metadata`;
}
