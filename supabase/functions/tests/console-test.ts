/**
 * Deno tier: the console on a running stack. A post-call notification goes out through the
 * gateway; the console's page and JSON API then show the session (summary flags), its
 * conversation (the WhatsApp and SMS rows), the filtered delivery log and the 24-hour counts.
 * A summary holding markup comes back as JSON text, the page renders with textContent only,
 * and bad parameters are 400.
 */
import { runtimeOnly } from "../../../scripts/stack/function-env.ts";
import { freePorts } from "../../../scripts/stack/ports.ts";
import { startStack } from "../../../scripts/stack/stack.ts";

function expect(ok: boolean, message: string) {
  if (!ok) throw new Error(message);
}

// deno-lint-ignore no-explicit-any
type Json = any;

const SCRIPT = "<script>alert(1)</script>";

/** fetch() will not send another Host header; a page whose DNS name was rebound would. */
async function getWithHost(base: URL, path: string, host: string): Promise<string> {
  const conn = await Deno.connect({ hostname: base.hostname, port: Number(base.port) });
  await conn.write(
    new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
  );
  return await new Response(conn.readable).text();
}

Deno.test("the console shows sessions, conversations, deliveries and stats from the database", async (t) => {
  const stack = await startStack({
    ports: freePorts(),
    dataDir: "memory://",
    env: runtimeOnly(Deno.env.toObject()),
    dotenv: false,
    only: ["post-call-notify"],
    quiet: true,
  });
  // Status callbacks would go to functions this stack does not run.
  await stack.sandbox.settings({ status_callbacks: false });
  const base = stack.urls.console;
  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as Json };
  };
  const notify = async (callId: string, phone: string, summary: string) => {
    const res = await fetch(`${stack.urls.functions}/post-call-notify`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${stack.keys.serviceRole}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ call_id: callId, phone_number: phone, summary }),
    });
    const body = await res.json();
    expect(
      res.status === 200 && body.outcome === "sent",
      `post-call-notify: ${res.status} ${JSON.stringify(body)}`,
    );
  };

  try {
    const phone = "+250788123456";
    const other = "+250788654321";
    await notify("console-call-1", phone, "We agreed on a new monthly price of 250k.");
    await notify("console-call-2", other, `Your note: ${SCRIPT} & "quotes"`);

    await t.step("GET / is the page: titled, self-contained, no innerHTML", async () => {
      const res = await get("/");
      expect(res.status === 200, `GET / answered ${res.status}`);
      expect(res.headers.get("content-type")?.startsWith("text/html") === true, "not HTML");
      expect(res.text.includes("<title>Omnichannel console</title>"), "no title");
      for (const sink of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"]) {
        expect(!res.text.includes(sink), `the page uses ${sink}`);
      }
      expect(
        !/<(script|link|img)[^>]+(src|href)="(https?:)?\/\//i.test(res.text),
        "the page loads an external asset",
      );
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(/script-src 'sha256-/.test(csp) && csp.includes("connect-src 'self'"), `CSP: ${csp}`);
    });

    let sessionId = "";
    await t.step(
      "/api/sessions lists the session, phone masked, with its summary flags",
      async () => {
        const { sessions } = (await get("/api/sessions")).json();
        const mine = sessions.filter((s: Json) => s.call_id === "console-call-1");
        expect(mine.length === 1, `sessions: ${JSON.stringify(sessions)}`);
        const s = mine[0];
        sessionId = s.id;
        expect(s.phone === "+250****3456", `phone shown as ${s.phone}`);
        expect(
          s.whatsapp_summary_sent === true && s.sms_summary_sent === true,
          `flags: ${JSON.stringify(s)}`,
        );
        // A call that ended leaves the conversation in follow_up.
        expect(s.status === "follow_up" && s.live === true, `status ${s.status}, live ${s.live}`);
        expect(
          s.message_counts.outbound === 2 && s.message_counts.inbound === 0,
          `counts ${JSON.stringify(s.message_counts)}`,
        );
        expect(typeof s.context === "object" && s.context !== null, "no context object");
        expect(typeof s.expires_at === "string", "no expires_at");

        const revealed =
          (await get("/api/sessions?reveal=1&limit=1&status=follow_up")).json().sessions;
        expect(revealed.length === 1, `limit=1 gave ${revealed.length}`);
        const all = (await get("/api/sessions?reveal=1")).json().sessions;
        expect(all.some((x: Json) => x.phone === phone), "reveal=1 does not show the number");
      },
    );

    await t.step(
      "/api/sessions/:id/messages shows the WhatsApp and SMS rows, oldest first",
      async () => {
        const res = await get(`/api/sessions/${sessionId}/messages`);
        expect(res.status === 200, `answered ${res.status}: ${res.text}`);
        const { session, messages } = res.json();
        expect(session.id === sessionId, "another session");
        const channels = messages.map((m: Json) => `${m.direction}:${m.channel}`).sort();
        expect(
          JSON.stringify(channels) === JSON.stringify(["outbound:sms", "outbound:whatsapp"]),
          `messages: ${JSON.stringify(channels)}`,
        );
        for (const m of messages) {
          expect(["sent", "delivered", "read"].includes(m.status), `${m.channel} is ${m.status}`);
          expect(
            typeof m.provider_message_id === "string" && m.attempts === 1,
            `${m.channel}: ${JSON.stringify(m)}`,
          );
          expect(
            "next_attempt_at" in m && "error_code" in m && "error_class" in m,
            "fields missing",
          );
        }
        const times = messages.map((m: Json) => Date.parse(m.created_at));
        expect(
          times.every((v: number, i: number) => i === 0 || times[i - 1] <= v),
          "not oldest first",
        );
      },
    );

    await t.step("a body with markup comes back as JSON text, unchanged", async () => {
      const { sessions } = (await get("/api/sessions")).json();
      const s = sessions.find((x: Json) => x.call_id === "console-call-2");
      const res = await get(`/api/sessions/${s.id}/messages`);
      expect(res.headers.get("content-type")?.startsWith("application/json") === true, "not JSON");
      expect(res.headers.get("x-content-type-options") === "nosniff", "no nosniff");
      const sms = res.json().messages.find((m: Json) => m.channel === "sms");
      expect(typeof sms?.body === "string" && sms.body.includes(SCRIPT), `SMS body: ${sms?.body}`);
    });

    await t.step("/api/deliveries filters by channel and status, newest first", async () => {
      const { deliveries } = (await get("/api/deliveries?channel=sms")).json();
      expect(deliveries.length === 2, `sms deliveries: ${deliveries.length}`);
      expect(deliveries.every((d: Json) => d.channel === "sms"), "a non-SMS row");
      expect(
        deliveries.every((d: Json) => /^\+250\*{4}\d{4}$/.test(d.recipient)),
        "recipient not masked",
      );
      expect(
        Date.parse(deliveries[0].created_at) >= Date.parse(deliveries[1].created_at),
        "not newest first",
      );
      const all = (await get("/api/deliveries?status=&channel=&limit=100")).json().deliveries;
      expect(all.length === 4, `all deliveries: ${all.length}`);
      const failed = (await get("/api/deliveries?status=failed")).json().deliveries;
      expect(failed.length === 0, `failed: ${failed.length}`);
      const ofSession = (await get(`/api/deliveries?session_id=${sessionId}`)).json().deliveries;
      expect(ofSession.length === 2, `session's deliveries: ${ofSession.length}`);
    });

    await t.step("/api/stats counts them by channel and status", async () => {
      const stats = (await get("/api/stats")).json();
      const count = (channel: string) =>
        stats.by_channel_status
          .filter((r: Json) => r.channel === channel && r.direction === "outbound")
          .reduce((n: number, r: Json) => n + r.count, 0);
      expect(
        count("sms") === 2 && count("whatsapp") === 2,
        `by channel: ${JSON.stringify(stats.by_channel_status)}`,
      );
      expect(
        stats.outbox.queued === 0 && stats.outbox.due === 0,
        `outbox: ${JSON.stringify(stats.outbox)}`,
      );
      expect(
        stats.sessions.some((s: Json) => s.status === "follow_up" && s.count === 2),
        `sessions: ${JSON.stringify(stats.sessions)}`,
      );
      expect(
        stats.pacing.length >= 2 && stats.pacing.every((p: Json) => p.tokens_now <= p.burst),
        `pacing: ${JSON.stringify(stats.pacing)}`,
      );
    });

    await t.step("bad parameters are 400 with a JSON error naming them", async () => {
      const bad = [
        ["/api/sessions?limit=0", "limit"],
        ["/api/sessions?limit=501", "limit"],
        ["/api/sessions?limit=ten", "limit"],
        ["/api/sessions?status=open", "status"],
        ["/api/deliveries?channel=fax", "channel"],
        ["/api/deliveries?status=lost", "status"],
        ["/api/deliveries?limit=5&limit=6", "limit"],
        ["/api/deliveries?colour=red", "colour"],
        ["/api/sessions/not-a-uuid/messages", "session id"],
        ["/api/stats?x=1", "x"],
      ];
      for (const [path, field] of bad) {
        const res = await get(path);
        expect(res.status === 400, `${path} answered ${res.status}`);
        const { error } = res.json();
        expect(error.field === field && typeof error.message === "string", `${path}: ${res.text}`);
      }
      const missing = await get(`/api/sessions/${crypto.randomUUID()}/messages`);
      expect(missing.status === 404, `unknown session answered ${missing.status}`);
      const rebound = await getWithHost(new URL(base), "/api/sessions", "rebound.example:8080");
      expect(rebound.split(" ")[1] === "403", `a foreign Host header answered ${rebound}`);
      expect(
        rebound.includes(`Open the console at ${base}/`),
        `the 403 does not name the console's address ${base}: ${rebound}`,
      );
      const post = await fetch(`${base}/api/sessions`, { method: "POST" });
      await post.body?.cancel();
      expect(post.status === 405, `POST answered ${post.status}`);
    });
  } finally {
    await stack.stop();
  }
});
