/**
 * The functions' health as the console header shows it. Fetched by the console server rather
 * than the browser, so the page only ever talks to its own origin (one port to forward, and a
 * Content-Security-Policy of `connect-src 'self'`).
 */
export interface FunctionsHealth {
  url: string;
  reachable: boolean;
  http_status?: number;
  /** The health function's own report (`{status, database, migrations, providers}`). */
  report?: unknown;
  error?: string;
}

export async function readFunctionsHealth(
  functionsUrl: string,
  fetchFn: typeof fetch = fetch,
): Promise<FunctionsHealth> {
  const url = `${functionsUrl}/health`;
  try {
    const res = await fetchFn(url, { signal: AbortSignal.timeout(3_000) });
    const text = await res.text();
    let report: unknown;
    try {
      report = JSON.parse(text);
    } catch {
      report = undefined;
    }
    return { url, reachable: true, http_status: res.status, report };
  } catch (err) {
    return {
      url,
      reachable: false,
      error: err instanceof Error && err.name === "TimeoutError"
        ? "no answer within 3 s"
        : "the functions gateway cannot be reached",
    };
  }
}
