/**
 * Deno tier: the `tenants` function run by Deno behind the gateway, the sandbox answering the
 * live checks as Meta and Genesys. A tenant is onboarded with the secret key, a refused
 * credential is a 422 naming its field, and no credential appears in any answer or in anything
 * the functions printed (every output line of the stack is captured).
 */
import { SANDBOX_CREDENTIALS as C } from "../../../scripts/stack/sandbox-env.ts";
import { runtimeOnly } from "../../../scripts/stack/function-env.ts";
import { freePorts } from "../../../scripts/stack/ports.ts";
import { startStack } from "../../../scripts/stack/stack.ts";

function expect(ok: boolean, message: string) {
  if (!ok) throw new Error(message);
}

Deno.test("tenants: onboarding checked live over HTTP; no credential in answers or logs", async () => {
  const lines: string[] = [];
  const stack = await startStack({
    ports: freePorts(),
    dataDir: "memory://",
    env: { ...runtimeOnly(Deno.env.toObject()), LOG_LEVEL: "debug" },
    dotenv: false,
    only: ["tenants"],
    log: (line) => lines.push(line),
  });
  const answers: string[] = [];
  const call = async (method: string, path: string, body?: unknown, key = stack.keys.secret) => {
    const res = await fetch(`${stack.urls.functions}/tenants${path}`, {
      method,
      headers: { apikey: key, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    answers.push(text);
    return { status: res.status, body: JSON.parse(text) };
  };
  const accounts = (appSecret: string, clientSecret: string) => [
    {
      kind: "genesys",
      integration_id: "4b0c3f8e-6c3a-4d6e-9a57-3f7a0c1e2b44",
      credentials: {
        client_id: C.genesysClientId,
        client_secret: clientSecret,
        webhook_secret: "deno-tier-webhook-secret",
      },
    },
    {
      kind: "whatsapp",
      phone_number_id: "200000000000077",
      routing: "agent",
      credentials: { access_token: C.whatsappAccessToken, app_secret: appSecret },
    },
  ];
  try {
    const anon = await call("GET", "", undefined, stack.keys.publishable);
    expect(anon.status === 401, `a publishable key got ${anon.status}`);

    const refused = await call("POST", "", {
      slug: "acme",
      name: "Acme",
      accounts: accounts("deno-tier-app-secret", "deno-tier-wrong-secret"),
    });
    expect(
      refused.status === 422 && refused.body.error.field === "credentials.client_secret",
      `a wrong Genesys secret: ${JSON.stringify(refused)}`,
    );

    const created = await call("POST", "", {
      slug: "acme",
      name: "Acme",
      accounts: accounts("deno-tier-app-secret", C.genesysClientSecret),
    });
    expect(created.status === 201, `onboarding: ${JSON.stringify(created)}`);
    const wa = created.body.accounts.find((a: { kind: string }) => a.kind === "whatsapp");
    expect(
      wa.credentials.access_token === "set" && wa.routing === "agent",
      `the WhatsApp account: ${JSON.stringify(wa)}`,
    );
    const dashboard = await call("GET", `/${created.body.tenant.id}/dashboard`);
    expect(dashboard.status === 200, `dashboard: ${JSON.stringify(dashboard)}`);
  } finally {
    await stack.stop();
  }
  const secrets = [
    C.whatsappAccessToken,
    C.genesysClientSecret,
    "deno-tier-app-secret",
    "deno-tier-wrong-secret",
    "deno-tier-webhook-secret",
  ];
  expect(lines.some((l) => l.includes("TENANT_CREATED")), "the function's log was not captured");
  for (const secret of secrets) {
    expect(!answers.some((a) => a.includes(secret)), `${secret} in an answer`);
    expect(!lines.some((l) => l.includes(secret)), `${secret} in the stack's output`);
  }
});
