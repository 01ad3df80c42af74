/** Small helpers shared by the sandbox's provider endpoints. */

export const json = (body: unknown, status = 200, headers: HeadersInit = {}): Response => {
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: h });
};

const bytes = (n: number) => crypto.getRandomValues(new Uint8Array(n));

export const randomHex = (n: number) =>
  Array.from(bytes(n), (b) => b.toString(16).padStart(2, "0")).join("");

/** Base64 without padding, the shape of Meta's wamid and fbtrace ids. */
export const randomBase64 = (n: number) =>
  btoa(String.fromCharCode(...bytes(n))).replace(/=+$/, "");

/**
 * The request's headers worth keeping with a recorded message. Never a credential: not even a
 * prefix of Authorization, since what is recorded is served to whoever asks.
 */
export function headerSubset(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ["content-type", "user-agent", "x-correlation-id", "idempotency-key"]) {
    const value = req.headers.get(name);
    if (value) out[name] = value;
  }
  return out;
}

/** A request body as text, or null when it is not UTF-8 (a provider would refuse it too). */
export async function readText(req: Request): Promise<string | null> {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(await req.arrayBuffer());
  } catch {
    return null;
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const bearerToken = (req: Request): string | null =>
  req.headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1] ?? null;
