import type { Sql } from "../db/client.ts";
import { rpcValue } from "../db/rpc.ts";
import type { Logger } from "../log/logger.ts";
import type { WaitUntil } from "../platform/background.ts";
import type { InboundForReply } from "../conversations/reply-to-inbound.ts";
import type { MetaAdapter } from "../channels/meta.ts";
import type { MetaChannel } from "../notifications/meta-format.ts";
import type { MetaFollowUp } from "./record-events.ts";

export interface MetaFollowUpDeps {
  sql: Sql;
  waitUntil: WaitUntil;
  /** The page's (Instagram account's) adapter: sender actions and the profile API. */
  adapters: Record<MetaChannel, MetaAdapter>;
  onInbound: (inbound: InboundForReply<MetaChannel>) => Promise<void>;
}

/**
 * After the 200, per person in order: `mark_seen` and `typing_on` (the reply is being written),
 * the AI reply, and the person's public profile when it is new or more than a day old. Sender
 * actions and the profile are courtesies: their failure is logged and never blocks the reply.
 */
export function scheduleMetaFollowUps(
  deps: MetaFollowUpDeps,
  followUps: MetaFollowUp[],
  log: Logger,
): void {
  const byPerson = new Map<string, MetaFollowUp[]>();
  for (const f of followUps) {
    const key = `${f.channel}:${f.person}`;
    byPerson.set(key, [...(byPerson.get(key) ?? []), f]);
  }
  for (const queue of byPerson.values()) {
    deps.waitUntil((async () => {
      const { channel, person, profileId } = queue[queue.length - 1];
      const adapter = deps.adapters[channel];
      const replying = queue.some((f) => f.reply);
      await courtesy(log, "META_SENDER_ACTION_FAILED", async () => {
        await adapter.senderAction(person, "mark_seen");
        if (replying) await adapter.senderAction(person, "typing_on");
      });
      for (const f of queue) {
        if (!f.reply) continue;
        try {
          await deps.onInbound(f.reply);
        } catch (err) {
          log.error("META_FOLLOW_UP_FAILED", {
            delivery_id: f.reply.deliveryId,
            error: err instanceof Error ? err.message : String(err),
          });
        }
      }
      await courtesy(
        log,
        "META_PROFILE_FETCH_FAILED",
        () => refreshProfile(deps.sql, adapter, channel, person, profileId, log),
      );
    })());
  }
}

/** The profile API at most once a day per person (claimed in SQL, so one caller fetches). */
async function refreshProfile(
  sql: Sql,
  adapter: MetaAdapter,
  channel: MetaChannel,
  person: string,
  profileId: string,
  log: Logger,
): Promise<void> {
  const due = await rpcValue(sql, "claim_meta_profile_refresh", {
    p_channel: channel,
    p_external_id: person,
    p_profile_id: profileId,
  });
  if (!due) return;
  const profile = await adapter.profile(person);
  if (!profile) {
    log.info("META_PROFILE_UNAVAILABLE", { channel });
    return;
  }
  await rpcValue(sql, "save_meta_profile", {
    p_channel: channel,
    p_external_id: person,
    p_name: profile.name,
    p_username: profile.username,
    p_profile_pic: profile.profilePic,
  });
  log.info("META_PROFILE_SAVED", { channel, profile_id: profileId });
}

async function courtesy(log: Logger, event: string, work: () => Promise<unknown>) {
  try {
    await work();
  } catch (err) {
    log.warn(event, { error: err instanceof Error ? err.message : String(err) });
  }
}
