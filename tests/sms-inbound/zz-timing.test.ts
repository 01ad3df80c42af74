import { it } from "vitest";
import { startEnv } from "/work/main/tests/sms-inbound/harness.ts";
it("x", async () => {
  let t = Date.now();
  const env = await startEnv();
  console.log("start", Date.now() - t); t = Date.now();
  await env.db.sql`select 1`;
  await env.db.close(); console.log("db", Date.now() - t); t = Date.now();
  await env.mtn.close(); await env.twilio.close(); console.log("fakes", Date.now() - t);
}, 60000);
