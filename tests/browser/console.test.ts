/**
 * Browser tier: the console (54323) in a real headless Chromium, driven with playwright-core,
 * after a scripted scenario on a real stack (tests/browser/serve-stack.ts: every function,
 * sandbox providers, free ports). What an operator sees: each tab shows only its own content,
 * one person's session across WhatsApp and SMS as a timeline, opt-outs, the filters, the
 * 24-hour counts under the right labels, a live update, no console error, no failed request.
 *
 * Needs Debian's chromium at /usr/bin/chromium (CI installs it); skipped with the reason
 * printed when it is absent. playwright-core never downloads a browser.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CHROMIUM = "/usr/bin/chromium";
const present = existsSync(CHROMIUM);
if (!present) {
  console.log(`browser tier skipped: ${CHROMIUM} is missing (apt-get install chromium)`);
}

interface StackInfo {
  urls: { functions: string; console: string; sandbox: string };
  serviceRole: string;
}

const A = "+250788123456"; // calls, then writes on SMS and on WhatsApp
const B = "+250788654321"; // opts out of SMS and WhatsApp, then gets a call
const LONG_LINE = `Notes: ${"the customer read out the full contract reference ".repeat(12)}end.`;

let server: ChildProcess;
let stack: StackInfo;
let browser: BrowserContext;
let page: Page;
let profileDir: string;
const problems: string[] = [];

async function startServer(): Promise<StackInfo> {
  server = spawn("node_modules/.bin/deno", ["run", "-A", "tests/browser/serve-stack.ts"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: server.stdout! });
  for await (const line of lines) {
    if (line.startsWith("{")) return JSON.parse(line) as StackInfo;
  }
  throw new Error("the stack exited before it was ready");
}

async function call(path: string, body: unknown) {
  const res = await fetch(`${stack.urls.functions}/${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.serviceRole}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function sandboxMessages(to: string, channel: string): Promise<{ body: string }[]> {
  const res = await fetch(
    `${stack.urls.sandbox}/__sandbox/messages?to=${encodeURIComponent(to)}&channel=${channel}`,
  );
  return await res.json();
}

/** A person writes; resolves when `answers` messages have gone back to them on that channel. */
async function write(from: string, channel: "sms" | "whatsapp", text: string, answers: number) {
  const res = await fetch(`${stack.urls.sandbox}/__sandbox/inbound`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ channel, from, text, provider: channel === "sms" ? "mtn" : undefined }),
  });
  const r = await res.json();
  expect(r.delivered, JSON.stringify(r)).toBe(200);
  await until(
    async () => (await sandboxMessages(from, channel)).length >= answers,
    `${answers} answers to ${from} on ${channel}`,
  );
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function scenario() {
  const first = await call("post-call-notify", {
    call_id: "browser-call-a",
    phone_number: A,
    summary: LONG_LINE,
  });
  expect(first.body.outcome, JSON.stringify(first.body)).toBe("sent");
  await write(A, "sms", "change the price to 250k", 2); // the SMS summary, then the AI's answer
  await write(A, "whatsapp", "What price did we agree?", 2);

  await write(B, "sms", "STOP", 1); // the confirmation
  await write(B, "whatsapp", "STOP", 1);
  const blocked = await call("post-call-notify", {
    call_id: "browser-call-b",
    phone_number: B,
    summary: "Your refund is on its way.",
  });
  expect(blocked.body.outcome, JSON.stringify(blocked.body)).toBe("skipped");
  expect(blocked.body.deliveries).toEqual(expect.arrayContaining([
    expect.objectContaining({ channel: "sms", status: "skipped", reason: "opted_out" }),
    expect.objectContaining({ channel: "whatsapp", status: "skipped", reason: "opted_out" }),
  ]));
  // WhatsApp statuses (sent → delivered → read) arrive as callbacks, 200 ms apart.
  await new Promise((r) => setTimeout(r, 1_500));
}

async function openTab(name: string) {
  await page.getByRole("tab", { name }).click();
}

/** The sessions list, phone numbers revealed: the button of one person's session. */
const sessionOf = (phone: string) => page.locator("#sessions button", { hasText: phone }).first();

describe.skipIf(!present)("the console in Chromium", () => {
  beforeAll(async () => {
    stack = await startServer();
    await scenario();
    profileDir = mkdtempSync(join(tmpdir(), "console-chromium-"));
    // A fresh profile (--user-data-dir) each run, nothing reaching out to the network.
    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = browser.pages()[0] ?? await browser.newPage();
    page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on("response", async (r) => {
      if (r.status() < 400) return;
      // The body says which error it was (the stack prints the server's side on stderr).
      const body = await r.text().catch(() => "");
      problems.push(`HTTP ${r.status()}: ${r.url()} ${body.slice(0, 300)}`);
    });
    await page.goto(stack.urls.console);
    await page.getByLabel("show phone numbers").check();
    await sessionOf(A).waitFor();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once("exit", r));
      server.stdin?.end();
      await exited;
    }
  }, 60_000);

  it("shows only the selected tab's content", async () => {
    const visible = async () => ({
      conversations: await page.locator("#tab-conversations").isVisible(),
      deliveries: await page.locator("#tab-deliveries").isVisible(),
      stats: await page.locator("#tab-stats").isVisible(),
    });
    await openTab("Delivery log");
    expect(await visible()).toEqual({ conversations: false, deliveries: true, stats: false });
    await openTab("Outbox & stats");
    expect(await visible()).toEqual({ conversations: false, deliveries: false, stats: true });
    await openTab("Conversations");
    expect(await visible()).toEqual({ conversations: true, deliveries: false, stats: false });
  });

  it("the inbox lists the open conversations; an agent assigns one, then resolves it", async () => {
    await openTab("Inbox");
    expect(await page.locator("#tab-inbox").isVisible()).toBe(true);
    const first = page.locator("#inbox tbody tr[data-conversation]").first();
    await first.waitFor();
    const id = await first.getAttribute("data-conversation");
    await first.getByRole("button", { name: "Assign to me" }).click();
    await page.locator("#inbox-result").getByText("Conversation assigned").waitFor();
    await page.locator("#inbox-view").selectOption("assigned");
    const row = page.locator(`#inbox tr[data-conversation="${id}"]`);
    await row.getByText("console", { exact: true }).waitFor();
    await row.getByRole("button", { name: "Resolve" }).click();
    await page.locator("#inbox-result").getByText("Conversation resolved").waitFor();
    await openTab("Conversations");
  });

  it("shows one session across SMS and WhatsApp as a timeline, SMS without a read step", async () => {
    await sessionOf(A).click();
    const timeline = page.locator("#conversation .timeline");
    await timeline.getByText("What price did we agree?").waitFor();
    const rows = await timeline.locator(".msg").evaluateAll((msgs) =>
      msgs.map((m) => ({
        channel: m.querySelector(".badge")?.textContent,
        dir: m.classList.contains("inbound") ? "in" : "out",
        body: m.querySelector(".bubble")?.textContent ?? "",
        steps: [...m.querySelectorAll(".track .step")].map((s) => s.textContent),
      }))
    );
    const inbound = rows.filter((r) => r.dir === "in").map((r) => `${r.channel}: ${r.body}`);
    expect(inbound).toEqual([
      "SMS: change the price to 250k",
      "WhatsApp: What price did we agree?",
    ]);
    expect(rows.filter((r) => r.channel === "WhatsApp" && r.dir === "out").length)
      .toBeGreaterThanOrEqual(2);
    for (const r of rows.filter((r) => r.dir === "out")) {
      expect(r.steps, `${r.channel}: ${r.body}`).toEqual(
        r.channel === "SMS"
          ? ["queued", "sent", "delivered"]
          : ["queued", "sent", "delivered", "read"],
      );
    }
    await expect.poll(() => page.locator("#conversation pre.context").textContent()).toContain(
      "250k",
    );
  });

  it("keeps a long line in the context inside the 1,400 px window", async () => {
    await sessionOf(A).click();
    await page.locator("#conversation pre.context", { hasText: "contract reference" }).waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(1400);
  });

  it("shows an opt-out: the card, the body that would have gone, not sent", async () => {
    const card = sessionOf(B);
    await expect.poll(() => card.textContent()).toContain("opted out of SMS");
    expect(await card.textContent()).toContain("opted out of WhatsApp");
    expect(await card.textContent()).toContain("SMS summary opted out");
    await card.click();
    const blocked = page.locator("#conversation .msg.failed", {
      hasText: "Your refund is on its way",
    });
    await blocked.first().waitFor();
    expect(await blocked.count()).toBe(2);
    expect(await blocked.first().locator(".details").textContent()).toContain(
      "not sent: opted out",
    );
    expect(await blocked.first().locator(".details").textContent()).not.toContain("attempts");
  });

  it("filters the delivery log by channel, status and direction", async () => {
    await openTab("Delivery log");
    const form = page.locator("#filters");
    const channels = () => page.locator("#deliveries tr td:nth-child(2)").allTextContents();
    await form.getByLabel("channel").selectOption("sms");
    await expect.poll(async () => [...new Set(await channels())]).toEqual(["SMS"]);
    await form.getByLabel("status").selectOption("blocked");
    await expect.poll(() => page.locator("#deliveries tr").count()).toBe(1);
    expect(await page.locator("#deliveries tr").textContent()).toContain(
      "Your refund is on its way",
    );
    await form.getByLabel("status").selectOption("");
    await form.getByLabel("channel").selectOption("");
    await form.getByLabel("direction").selectOption("inbound");
    await expect.poll(
      async () => [
        ...new Set(await page.locator("#deliveries tr td:nth-child(3)").allTextContents()),
      ],
    )
      .toEqual(["inbound"]);
    await form.getByLabel("direction").selectOption("");
  });

  it("puts each 24-hour count under its own status and counts blocked messages", async () => {
    await openTab("Outbox & stats");
    await page.locator("#matrix tbody tr").first().waitFor();
    // Each number's box must sit under its header's chip: [label, count] as they line up.
    const placed = await page.locator("#matrix").evaluate((table) => {
      const heads = [...table.querySelectorAll("thead th")].map((th) => {
        const box = (th.firstElementChild ?? th).getBoundingClientRect();
        return { label: th.textContent!.trim(), left: box.left, right: box.right };
      });
      return [...table.querySelectorAll("tbody tr")].map((tr) => {
        const cells = [...tr.querySelectorAll("td")];
        const key = `${cells[0].textContent} ${cells[1].textContent}`;
        return [
          key,
          cells.slice(2).flatMap((td) => {
            if (!td.textContent) return [];
            const range = document.createRange();
            range.selectNodeContents(td);
            const r = range.getBoundingClientRect();
            const under = heads.filter((h) => r.right > h.left && r.left < h.right).map((h) =>
              h.label
            );
            return [`${under.join("|")}=${td.textContent}`];
          }),
        ];
      });
    });
    const wa = Object.fromEntries(placed)["WhatsApp outbound"] as string[];
    expect(wa.some((c) => /^read=\d+$/.test(c)), JSON.stringify(placed)).toBe(true);
    for (const [, cells] of placed) {
      for (const c of cells as string[]) {
        expect(c, JSON.stringify(placed)).toMatch(/^[a-z_ ]+=\d+$/);
      }
    }
    const blocked = page.locator("#outbox .card", { hasText: "blocked (24 h)" }).locator(".n");
    expect(Number(await blocked.textContent())).toBeGreaterThanOrEqual(2);
  });

  it("shows a new message without a reload", async () => {
    await openTab("Conversations");
    await sessionOf(A).click();
    await page.locator("#conversation .timeline").getByText("What price did we agree?").waitFor();
    await write(A, "sms", "thanks, see you Friday", 3);
    await page.locator("#conversation .timeline").getByText("thanks, see you Friday", {
      exact: true,
    }).waitFor({ timeout: 10_000 });
  });

  it("shows a Messenger person by their PSID, with the Messenger badge and each identity", async () => {
    const psid = "6712458890999001";
    const res = await fetch(`${stack.urls.sandbox}/__sandbox/inbound`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ channel: "messenger", from: psid, text: "hello from Messenger" }),
    });
    expect((await res.json()).delivered).toBe(200);
    await until(
      async () => (await sandboxMessages(psid, "messenger")).length >= 1,
      "the AI's answer on Messenger",
    );
    await openTab("Conversations");
    const session = page.locator("#sessions button", { hasText: psid }).first();
    await session.waitFor({ timeout: 10_000 });
    await session.click();
    await page.locator("#conversation .timeline").getByText("hello from Messenger", {
      exact: true,
    }).waitFor();
    expect(await page.locator("#conversation h2").first().textContent()).toBe(
      `messenger ${psid}`,
    );
    const identities = page.locator("#conversation", { hasText: "identities" });
    await identities.getByText(psid, { exact: true }).first().waitFor();
    expect(await page.locator("#conversation .timeline .badge").first().textContent()).toBe(
      "Messenger",
    );
    expect(
      await page.locator("#conversation .timeline .badge.c-messenger").count(),
    ).toBeGreaterThanOrEqual(2);
  });

  it("logged no console error and no failed request", () => {
    expect(problems).toEqual([]);
  });
});
