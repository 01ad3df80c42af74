// The console's own JSON API (same origin).

export async function api(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  }
  const res = await fetch(url, { headers: { accept: "application/json" }, cache: "no-store" });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const err = new Error(body?.error?.message ?? `${path}: HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

/** A POST to the console's own API (the inbox's actions), answered like `api`. */
export async function send(path, body) {
  const res = await fetch(new URL(path, location.origin), {
    method: "POST",
    headers: { accept: "application/json", "content-type": "application/json" },
    body: JSON.stringify(body),
    cache: "no-store",
  });
  const answer = await res.json().catch(() => null);
  if (!res.ok) {
    // The field a refusal names (VALIDATION / TENANTS errors), for a form to point at.
    throw Object.assign(new Error(answer?.error?.message ?? `${path}: HTTP ${res.status}`), {
      field: answer?.error?.field,
    });
  }
  return answer;
}
