/**
 * The console page: page.html with page.css and the script inlined, one self-contained document
 * (the machine may have no network; nothing is loaded from anywhere else). The script is written
 * as ES modules under page/ (so each is linted as JavaScript and says what it uses) and joined
 * here into one classic script: imports dropped, exports unmarked, one shared scope. The
 * Content-Security-Policy allows exactly this style and this script (by hash) and requests to
 * the console's own origin.
 */
export interface ConsolePage {
  html: string;
  csp: string;
}

/** page/'s modules, main.js last: it is the only one that runs anything when loaded. */
const MODULES = [
  "state.js",
  "dom.js",
  "api.js",
  "format.js",
  "widgets.js",
  "conversations.js",
  "deliveries.js",
  "stats.js",
  "inbox.js",
  "tenants.js",
  "webhooks.js",
  "header.js",
  "main.js",
];

const read = (name: string) => Deno.readTextFile(new URL(`./${name}`, import.meta.url));

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return `'sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}'`;
}

function inline(html: string, marker: string, element: string): string {
  const parts = html.split(marker);
  if (parts.length !== 2) throw new Error(`page.html must contain ${marker} exactly once`);
  return parts.join(element);
}

/** The modules as one script: every top-level name is unique across them (lint keeps it so). */
export function joinModules(sources: string[]): string {
  const body = sources.map((source) =>
    source
      .replace(/^import\s[^;]*?from\s+"\.\/[\w-]+\.js";\n/gm, "")
      .replace(/^export\s+(?=(?:async\s+)?function|const|let|class)/gm, "")
  );
  if (body.some((s) => /^\s*(?:import|export)\b/m.test(s))) {
    throw new Error("page/ modules may only import from each other and export declarations");
  }
  return `"use strict";\n(() => {\n${body.join("\n")}})();\n`;
}

export async function loadPage(): Promise<ConsolePage> {
  const [template, css, ...modules] = await Promise.all([
    read("page.html"),
    read("page.css"),
    ...MODULES.map((name) => read(`page/${name}`)),
  ]);
  const script = joinModules(modules);
  if (/<\/(script|style)/i.test(script + css)) {
    throw new Error("page/ and page.css must not close their own element");
  }
  const html = inline(
    inline(template, "<!-- page.css -->", `<style>${css}</style>`),
    "<!-- page.js -->",
    `<script>${script}</script>`,
  );
  const csp = [
    "default-src 'none'",
    `script-src ${await sha256(script)}`,
    `style-src ${await sha256(css)}`,
    "connect-src 'self'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return { html, csp };
}
