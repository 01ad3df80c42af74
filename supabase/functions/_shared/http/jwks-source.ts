/**
 * The JWKS source handed to @supabase/server, chosen so the imported keys are cached per isolate.
 *
 * @supabase/server keeps one `createRemoteJWKSet` per isolate for a URL source — keys imported
 * once, re-read after jose's max-age — but wraps an inline key set in a new `createLocalJWKSet`
 * on every call, which imports the public key again for each request. An inline SUPABASE_JWKS
 * is therefore given as a `data:` URL holding the same JSON: fetch reads it without any network,
 * and the verification (algorithms, kid matching, issuer, audience) is exactly the URL path's.
 */
export function jwksSource(inline: { keys: Record<string, unknown>[] }): URL {
  return new URL(`data:application/json,${encodeURIComponent(JSON.stringify(inline))}`);
}
