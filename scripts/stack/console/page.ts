/**
 * The console page: page.html with page.css and page.js inlined, one self-contained document
 * (the machine may have no network; nothing is loaded from anywhere else). The three stay
 * separate files so the script is linted as JavaScript. The Content-Security-Policy allows
 * exactly this style and this script (by hash) and requests to the console's own origin.
 */
export interface ConsolePage {
  html: string;
  csp: string;
}

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

export async function loadPage(): Promise<ConsolePage> {
  const [template, css, script] = await Promise.all([
    read("page.html"),
    read("page.css"),
    read("page.js"),
  ]);
  if (/<\/(script|style)/i.test(script + css)) {
    throw new Error("page.js and page.css must not close their own element");
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
