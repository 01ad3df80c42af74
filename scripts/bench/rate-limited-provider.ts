/**
 * A provider that enforces a per-sender rate the way Meta does for a WhatsApp phone number:
 * a token bucket per phone number id (rate/s, one second of burst); past it, HTTP 429 with
 * error code 130429. Everything within the limit goes to the provider sandbox's handler. It
 * counts, per sender, what it accepted (and when) and what it refused.
 */
export interface SenderCounts {
  accepted: number;
  throttled: number;
  first: number;
  last: number;
}

export function rateLimitedProvider(
  inner: (req: Request) => Promise<Response>,
  ratePerSecond: number,
  /** The one phone number id the sandbox knows: every sender's request is passed on as it. */
  sandboxPhoneNumberId: string,
) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const counts = new Map<string, SenderCounts>();
  const handler = (req: Request): Promise<Response> => {
    const sender = new URL(req.url).pathname.match(/\/whatsapp\/v[\d.]+\/([^/]+)\/messages$/)?.[1];
    if (!sender) return inner(req);
    const now = performance.now();
    const b = buckets.get(sender) ?? { tokens: ratePerSecond, at: now };
    b.tokens = Math.min(ratePerSecond, b.tokens + ((now - b.at) / 1000) * ratePerSecond);
    b.at = now;
    buckets.set(sender, b);
    const c = counts.get(sender) ?? { accepted: 0, throttled: 0, first: now, last: now };
    counts.set(sender, c);
    if (b.tokens < 1) {
      c.throttled++;
      return Promise.resolve(Response.json({
        error: {
          message: "(#130429) Rate limit hit",
          type: "OAuthException",
          code: 130429,
          error_data: {
            messaging_product: "whatsapp",
            details: "Cloud API message throughput has been reached.",
          },
          fbtrace_id: "Abench",
        },
      }, { status: 429 }));
    }
    b.tokens -= 1;
    c.accepted++;
    c.last = now;
    const url = new URL(req.url);
    url.pathname = url.pathname.replace(`/${sender}/messages`, `/${sandboxPhoneNumberId}/messages`);
    return inner(new Request(url, req));
  };
  return { handler, counts };
}
