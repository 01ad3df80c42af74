import type { WhatsAppAccount } from "../tenants/accounts.ts";

/** What the handler needs of the account directory (tenants/accounts.ts). */
export interface WhatsAppAccounts {
  whatsapp(phoneNumberId: string | null): Promise<WhatsAppAccount | null>;
}

export type WebhookAccounts =
  /** No account holds the number(s): acknowledge, log, write nothing. */
  | { kind: "unknown"; phoneNumberIds: string[] }
  | {
    kind: "resolved";
    /** The account whose app secret must have signed the body. */
    signer: WhatsAppAccount;
    /** Each phone_number_id's account (null when the change named none). */
    byNumber: Map<string | null, WhatsAppAccount>;
    /** Numbers of the body that are not the signer's app (another tenant's, unknown): dropped. */
    dropped: string[];
  };

/**
 * Which accounts a WhatsApp webhook is for, read from its (still unverified) body before the
 * signature check, because the app secret to check it with is the account's:
 * `entry[].changes[].value.metadata.phone_number_id`. The first change's number names the signer;
 * a change for a number of another app (another secret) or no account is dropped by
 * `keepSigned`, so one signed body can never write into another tenant's numbers.
 */
export async function resolveWebhookAccounts(
  accounts: WhatsAppAccounts,
  payload: unknown,
): Promise<WebhookAccounts> {
  const ids = phoneNumberIdsOf(payload);
  const byNumber = new Map<string | null, WhatsAppAccount>();
  const unknown: string[] = [];
  for (const id of ids.length ? ids : [null]) {
    // Meta's ids are digits; anything else is no account's (and never reaches the database).
    const account = id === null || SAFE_ID.test(id) ? await accounts.whatsapp(id) : null;
    if (account) byNumber.set(id, account);
    else if (id) unknown.push(id);
  }
  const signer = byNumber.values().next().value;
  if (!signer) return { kind: "unknown", phoneNumberIds: unknown };
  const dropped = [...unknown];
  for (const [id, account] of byNumber) {
    if (account.appSecret !== signer.appSecret && id) {
      byNumber.delete(id);
      dropped.push(id);
    }
  }
  return { kind: "resolved", signer, byNumber, dropped };
}

/** The body without the changes of dropped numbers (the parser then never sees them). */
export function keepSigned(payload: unknown, dropped: string[]): unknown {
  if (dropped.length === 0) return payload;
  const p = payload as { entry?: unknown };
  if (!Array.isArray(p?.entry)) return payload;
  return {
    ...p,
    entry: p.entry.map((entry) => {
      const e = entry as { changes?: unknown };
      if (!Array.isArray(e?.changes)) return entry;
      return { ...e, changes: e.changes.filter((c) => !dropped.includes(numberOf(c) ?? "")) };
    }),
  };
}

function phoneNumberIdsOf(payload: unknown): string[] {
  const ids = new Set<string>();
  const entries = (payload as { entry?: unknown } | null)?.entry;
  for (const entry of Array.isArray(entries) ? entries : []) {
    const changes = (entry as { changes?: unknown } | null)?.changes;
    for (const change of Array.isArray(changes) ? changes : []) {
      const id = numberOf(change);
      if (id) ids.add(id);
    }
  }
  return [...ids];
}

const SAFE_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

function numberOf(change: unknown): string | null {
  const id = (change as { value?: { metadata?: { phone_number_id?: unknown } } } | null)?.value
    ?.metadata?.phone_number_id;
  return typeof id === "string" && id.length > 0 ? id.slice(0, 64) : null;
}
