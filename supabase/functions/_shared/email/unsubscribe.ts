import { hmacSha256Hex, timingSafeEqualString } from "../http/signature.ts";

/**
 * One-click unsubscribe (RFC 8058) for marketing email. The link carries the address and an
 * HMAC-SHA256 of it under EMAIL_UNSUBSCRIBE_SECRET, so it cannot be guessed or pointed at
 * someone else's address; without the secret no marketing email is sent and every link is
 * refused (fail closed).
 */

const PURPOSE = "email-unsubscribe:v1:";
const enc = new TextEncoder();

const b64url = (s: string) =>
  btoa(String.fromCharCode(...enc.encode(s))).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");

function fromB64url(s: string): string | null {
  try {
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
    return new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(bin, (c) => c.charCodeAt(0)),
    );
  } catch {
    return null;
  }
}

export async function unsubscribeToken(secret: string, address: string): Promise<string> {
  const a = address.trim().toLowerCase();
  return `${b64url(a)}.${await hmacSha256Hex(secret, enc.encode(PURPOSE + a))}`;
}

/** The address a token was made for, or null for anything we did not sign. */
export async function readUnsubscribeToken(
  secret: string | undefined,
  token: string | null,
): Promise<string | null> {
  if (!secret || !token || token.length > 1000) return null;
  const [encoded, mac, extra] = token.split(".");
  if (!encoded || !mac || extra !== undefined) return null;
  const address = fromB64url(encoded);
  if (!address) return null;
  const expected = await hmacSha256Hex(secret, enc.encode(PURPOSE + address));
  return timingSafeEqualString(expected, mac.toLowerCase()) ? address : null;
}

/** The headers every marketing email carries: the link, and that one POST to it unsubscribes. */
export async function listUnsubscribeHeaders(
  config: { publicFunctionsUrl: string; secret: string },
  address: string,
): Promise<Record<string, string>> {
  const url = new URL(`${config.publicFunctionsUrl.replace(/\/+$/, "")}/email-unsubscribe`);
  url.searchParams.set("token", await unsubscribeToken(config.secret, address));
  return {
    "List-Unsubscribe": `<${url}>`,
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
  };
}
