/**
 * docs/api.md documents every route of the messaging API with an example; this runs each one, in
 * the order written, against the `messages` handler with the provider fakes, and checks the
 * status shown and the response's shape (every documented field present; statuses, codes,
 * channels, assignees and priorities equal). `{message_id}`, `{profile_id}` and
 * `{conversation_id}` stand for the ids the earlier examples produced.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve, type Served } from "../support/serve.ts";
import { createStorageHandler } from "../../scripts/stack/storage.ts";
import { LOCAL_JWT_SECRET } from "../../scripts/stack/jwt.ts";
import { MEDIA_FIXTURES } from "../../scripts/sandbox/media.ts";
import { createMediaStore } from "../../supabase/functions/_shared/media/storage.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../ai/harness.ts";
import { messagesHandler } from "./handler.ts";
import { backgroundTracker } from "../../supabase/functions/_shared/platform/background.ts";

const KEY = "sb_secret_api_doc_tests_0123456789";
const PHONE = "+250788123456";
const EXACT = new Set(["status", "code", "channel", "assignee", "priority"]);

interface Example {
  method: string;
  path: string;
  body?: unknown;
  status: number;
  response: unknown;
}

/** The examples of the messaging API section, in order. */
export function examples(doc: string): Example[] {
  const start = doc.indexOf("## The messaging API");
  const section = doc.slice(start, doc.indexOf("\n## ", start + 1));
  const pattern = /```http\n([\s\S]*?)```\s*→ `(\d{3})`:?\s*```json\n([\s\S]*?)```/g;
  return [...section.matchAll(pattern)].map(([, request, status, response]) => {
    const [head, ...rest] = request.split(/\n\n/);
    const [method, path] = head.split("\n")[0].split(" ");
    const body = rest.join("\n\n").trim();
    return {
      method,
      path,
      ...(body ? { body: JSON.parse(body) } : {}),
      status: Number(status),
      response: JSON.parse(response),
    };
  });
}

/** Every documented field is there; the ones a client branches on are equal. */
function expectShape(actual: unknown, documented: unknown, at = "body") {
  if (Array.isArray(documented)) {
    expect(Array.isArray(actual), at).toBe(true);
    if (documented.length && (actual as unknown[]).length) {
      expectShape((actual as unknown[])[0], documented[0], `${at}[0]`);
    }
    return;
  }
  if (documented && typeof documented === "object") {
    expect(actual, at).toBeTypeOf("object");
    for (const [key, value] of Object.entries(documented)) {
      expect(actual as object, `${at}.${key}`).toHaveProperty([key]);
      const got = (actual as Record<string, unknown>)[key];
      if (EXACT.has(key) && (typeof value !== "object" || value === null)) {
        expect(got, `${at}.${key}`).toEqual(value);
      } else if (value !== null) expectShape(got, value, `${at}.${key}`);
    }
  }
}

let h: Harness;
let storage: Served;
let storageDir: string;
const doc = readFileSync("docs/api.md", "utf8");

beforeAll(async () => {
  h = await startHarness();
  // The Storage API the media examples use, with the files they name already uploaded.
  storageDir = await mkdtemp(join(tmpdir(), "api-doc-storage-"));
  storage = await serve(
    createStorageHandler({ dir: storageDir, jwtSecret: LOCAL_JWT_SECRET, serviceKeys: [KEY] }),
  );
  const store = createMediaStore({ url: storage.url, key: KEY });
  const put = (path: string, fixture: string) => {
    const f = MEDIA_FIXTURES[fixture];
    return store.put(
      { bucket: "media-outbound", path, mime: f.mime, size: f.bytes.byteLength },
      f.bytes,
    );
  };
  await put("invoices/A-17.pdf", "invoice.pdf");
  await put("promos/dance.gif", "animation.gif");
});
afterAll(async () => {
  await h?.close();
  await storage?.close();
  if (storageDir) await rm(storageDir, { recursive: true, force: true });
});

describe("docs/api.md: the messaging API examples", () => {
  it("documents every route", () => {
    expect(examples(doc).length).toBeGreaterThanOrEqual(9);
    const routes = examples(doc).map((e) => `${e.method} ${e.path.split("?")[0]}`);
    for (
      const route of [
        "POST /messages",
        "GET /messages/{message_id}",
        "GET /messages",
        "GET /messages/conversations",
        "POST /messages/conversations/{conversation_id}/assign",
        "POST /messages/conversations/{conversation_id}/reply",
        "POST /messages/conversations/{conversation_id}/resolve",
        "GET /messages/stats",
        "POST /messages/templates/sync",
        "GET /messages/templates",
        "POST /messages/notifications/order.shipped",
      ]
    ) expect(routes).toContain(route);
  });

  it("runs every example and gets what the page says", async () => {
    const background = backgroundTracker();
    const handler = messagesHandler(h, KEY, {
      whatsappTemplate: { name: "service_update", language: "en" },
      waitUntil: background.waitUntil,
      media: { store: createMediaStore({ url: storage.url, key: KEY }), fetch, timeoutMs: 5_000 },
    });
    // Meta lists one template, as the sandbox does.
    h.wa.templates.push({
      id: "1100001",
      name: "order_shipped",
      language: "en",
      status: "APPROVED",
      category: "UTILITY",
      components: [{ type: "BODY", text: "Your order {{1}} has shipped. Track it: {{2}}" }],
    });
    // The person wrote on WhatsApp first: their conversation is open and the window too.
    const inbound = await h.receive("whatsapp", PHONE, "Where is my order?");
    const vars: Record<string, string> = { conversation_id: inbound.sessionId };
    for (const example of examples(doc)) {
      const path = example.path.replace(/\{(\w+)\}/g, (_, name) => vars[name] ?? `{${name}}`);
      const res = await handler(
        new Request(`http://localhost${path}`, {
          method: example.method,
          headers: { apikey: KEY, "content-type": "application/json" },
          body: example.body === undefined ? undefined : JSON.stringify(example.body),
        }),
      );
      await background.settled();
      const body = await res.json();
      expect({ route: `${example.method} ${example.path}`, status: res.status }).toEqual({
        route: `${example.method} ${example.path}`,
        status: example.status,
      });
      expectShape(body, example.response);
      if (example.method === "POST" && example.path === "/messages" && res.status === 202) {
        vars.message_id = body.id;
        vars.profile_id = body.profile_id;
      }
    }
  });
});
