import type { Sql } from "../db/client.ts";

/** Thin typed calls over the session SQL functions; each is one round trip. */

export type SessionStatus = "active" | "closed" | "follow_up";
export type Channel = "voice" | "whatsapp" | "sms" | "messenger" | "instagram" | "email";
export type JsonObject = Record<string, unknown>;

export interface LiveSession {
  sessionId: string;
  profileId: string;
  status: SessionStatus;
  context: JsonObject;
  channelsSeen: Channel[];
  lastChannel: Channel | null;
  callId: string | null;
  expiresAt: Date;
  isNew: boolean;
  hasWhatsapp: boolean | null;
  allowsSms: boolean;
  whatsappSummarySent: boolean;
  smsSummarySent: boolean;
}

export interface SessionRow {
  id: string;
  profile_id: string;
  status: SessionStatus;
  context: JsonObject;
  channels_seen: Channel[];
  last_channel: Channel | null;
  call_id: string | null;
  expires_at: Date;
  whatsapp_summary_sent: boolean;
  sms_summary_sent: boolean;
  closed_at: Date | null;
}

export class SessionNotFound extends Error {
  readonly code = "SESSION.NOT_FOUND";
  constructor(readonly sessionId: string) {
    super(`Session ${sessionId} not found`);
  }
}

const NO_DATA_FOUND = "P0002";
const notFound = (id: string) => (err: { code?: string }) => {
  throw err?.code === NO_DATA_FOUND ? new SessionNotFound(id) : err;
};

export interface GetOrCreateInput {
  phoneNumber: string;
  channel: Channel;
  callId?: string | null;
  context?: JsonObject;
  status?: SessionStatus | null;
}

export function createSessionStore(sql: Sql) {
  return {
    /** The person's live session (created if none), extended by 24 h, context merged. */
    async getOrCreate(input: GetOrCreateInput): Promise<LiveSession> {
      const [r] = await sql`
        select * from public.get_or_create_omnichannel_session(
          ${input.phoneNumber}, ${input.channel}, ${input.callId ?? null},
          ${sql.json((input.context ?? {}) as never)}, ${input.status ?? null})`;
      return {
        sessionId: r.session_id,
        profileId: r.profile_id,
        status: r.status,
        context: r.context,
        channelsSeen: r.channels_seen,
        lastChannel: r.last_channel,
        callId: r.call_id,
        expiresAt: r.expires_at,
        isNew: r.is_new,
        hasWhatsapp: r.has_whatsapp,
        allowsSms: r.allows_sms,
        whatsappSummarySent: r.whatsapp_summary_sent,
        smsSummarySent: r.sms_summary_sent,
      };
    },

    async updateStatus(sessionId: string, status: SessionStatus): Promise<SessionRow> {
      const [row] = await sql<SessionRow[]>`
        select * from public.update_omnichannel_session_status(${sessionId}, ${status})`
        .catch(notFound(sessionId));
      return row;
    },

    async mergeContext(sessionId: string, context: JsonObject): Promise<SessionRow> {
      const [row] = await sql<SessionRow[]>`
        select * from public.merge_omnichannel_session_context(
          ${sessionId}, ${sql.json(context as never)})`.catch(notFound(sessionId));
      return row;
    },

    async getContext(sessionId: string): Promise<JsonObject> {
      const [row] = await sql<{ context: JsonObject }[]>`
        select context from public.omnichannel_sessions where id = ${sessionId}`;
      if (!row) throw new SessionNotFound(sessionId);
      return row.context;
    },

    async markSummarySent(sessionId: string, channel: "whatsapp" | "sms"): Promise<SessionRow> {
      const [row] = await sql<SessionRow[]>`
        select * from public.mark_omnichannel_summary_sent(${sessionId}, ${channel})`
        .catch(notFound(sessionId));
      return row;
    },

    async getActive(phoneNumber: string): Promise<SessionRow | null> {
      const [row] = await sql<SessionRow[]>`
        select * from public.get_active_omnichannel_session(${phoneNumber})`;
      return row ?? null;
    },

    close(sessionId: string): Promise<SessionRow> {
      return this.updateStatus(sessionId, "closed");
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
