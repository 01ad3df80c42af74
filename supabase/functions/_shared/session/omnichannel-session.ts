import type { Sql } from "../db/client.ts";
import { isNoDataFound } from "../db/errors.ts";
import { rpc } from "../db/rpc.ts";
import type { JsonObject } from "../types/json.ts";

/** Thin typed calls over the session SQL functions; each is one round trip. */

export type SessionStatus = "active" | "closed" | "follow_up";
export type Channel = "voice" | "whatsapp" | "sms" | "messenger" | "instagram" | "email";

export interface LiveSession {
  sessionId: string;
  profileId: string;
  status: SessionStatus;
  context: JsonObject;
  channelsSeen: Channel[];
  lastChannel: Channel | null;
  callId: string | null;
  /** ISO timestamp */
  expiresAt: string;
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
  expires_at: string;
  whatsapp_summary_sent: boolean;
  sms_summary_sent: boolean;
  closed_at: string | null;
}

export class SessionNotFound extends Error {
  readonly code = "SESSION.NOT_FOUND";
  constructor(readonly sessionId: string) {
    super(`Session ${sessionId} not found`);
  }
}

const notFound = (id: string) => (err: unknown) => {
  throw isNoDataFound(err) ? new SessionNotFound(id) : err;
};

/** The generated row type says `string` for the status and channel columns; their checks say which. */
const asSession = (rows: unknown[]) => rows[0] as SessionRow | undefined;

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
      const [r] = await rpc(sql, "get_or_create_omnichannel_session", {
        p_phone_number: input.phoneNumber,
        p_channel: input.channel,
        p_call_id: input.callId ?? undefined,
        p_context: (input.context ?? {}) as never,
        p_status: input.status ?? undefined,
      });
      return {
        sessionId: r.session_id,
        profileId: r.profile_id,
        status: r.status as SessionStatus,
        context: r.context as JsonObject,
        channelsSeen: r.channels_seen as Channel[],
        lastChannel: r.last_channel as Channel | null,
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
      const rows = await rpc(sql, "update_omnichannel_session_status", {
        p_session_id: sessionId,
        p_status: status,
      })
        .catch(notFound(sessionId));
      return asSession(rows)!;
    },

    async mergeContext(sessionId: string, context: JsonObject): Promise<SessionRow> {
      const rows = await rpc(sql, "merge_omnichannel_session_context", {
        p_session_id: sessionId,
        p_context: context as never,
      }).catch(notFound(sessionId));
      return asSession(rows)!;
    },

    async getContext(sessionId: string): Promise<JsonObject> {
      const [row] = await sql<{ context: JsonObject }[]>`
        select context from public.omnichannel_sessions where id = ${sessionId}`;
      if (!row) throw new SessionNotFound(sessionId);
      return row.context;
    },

    async markSummarySent(sessionId: string, channel: "whatsapp" | "sms"): Promise<SessionRow> {
      const rows = await rpc(sql, "mark_omnichannel_summary_sent", {
        p_session_id: sessionId,
        p_channel: channel,
      })
        .catch(notFound(sessionId));
      return asSession(rows)!;
    },

    async getActive(phoneNumber: string): Promise<SessionRow | null> {
      return asSession(
        await rpc(sql, "get_active_omnichannel_session", { p_phone_number: phoneNumber }),
      ) ?? null;
    },

    close(sessionId: string): Promise<SessionRow> {
      return this.updateStatus(sessionId, "closed");
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
