import Mustache from "mustache";

/** An email template as stored in public.message_templates (channel 'email'). */
export interface EmailTemplate {
  name: string;
  locale: string;
  subject: string | null;
  body_text: string | null;
  body_html: string | null;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html?: string;
}

/** A variable the template uses was not given: nothing is sent with a hole in it. */
export class TemplateVariableMissing extends Error {
  readonly code = "TEMPLATE.MISSING_VARIABLE";
  constructor(readonly template: string, readonly missing: string[]) {
    super(`Template ${template} needs ${missing.join(", ")}`);
    this.name = "TemplateVariableMissing";
  }
}

type Token = [string, string, number, number, Token[]?, ...unknown[]];
type View = Record<string, unknown>;

/**
 * Renders a stored email template with Mustache (logic-less): the HTML part HTML-escaped, the
 * subject and text parts as they are (they are not HTML). Every variable a part uses must be in
 * `vars` (null and false count as given), checked before anything renders.
 */
export function renderEmailTemplate(t: EmailTemplate, vars: View): RenderedEmail {
  if (!t.subject || !t.body_text) {
    throw new TypeError(`Template ${t.name} (${t.locale}) has no subject or text part`);
  }
  const parts = [t.subject, t.body_text, ...(t.body_html ? [t.body_html] : [])];
  const missing = [
    ...new Set(parts.flatMap((p) => missingIn(Mustache.parse(p) as Token[], [vars]))),
  ];
  if (missing.length) throw new TemplateVariableMissing(`${t.name}/${t.locale}`, missing);
  const plain = { escape: (v: unknown) => String(v) };
  return {
    subject: Mustache.render(t.subject, vars, {}, plain).replace(/[\r\n]+/g, " ").trim(),
    text: Mustache.render(t.body_text, vars, {}, plain),
    ...(t.body_html ? { html: Mustache.render(t.body_html, vars) } : {}),
  };
}

/** The names no context in the stack holds, as Mustache would look them up. */
function missingIn(tokens: Token[], stack: unknown[]): string[] {
  const out: string[] = [];
  for (const [type, name, , , children] of tokens) {
    if (!["name", "&", "{", "#", "^"].includes(type)) continue;
    const value = lookup(stack, name);
    if (value === undefined) {
      out.push(name);
      continue;
    }
    if (!children) continue;
    // A section renders its children only when truthy (inverted: only when falsy); over an
    // object its fields come first; over a list each item's are unknown here, so a list's
    // children are not checked.
    const rendered = type === "^" ? !truthy(value) : truthy(value);
    if (!rendered || Array.isArray(value)) continue;
    const inner = type === "#" && typeof value === "object" ? [value, ...stack] : stack;
    out.push(...missingIn(children, inner));
  }
  return out;
}

const truthy = (v: unknown) => Boolean(v) && !(Array.isArray(v) && v.length === 0);

function lookup(stack: unknown[], name: string): unknown {
  if (name === ".") return stack[0];
  const path = name.split(".");
  for (const ctx of stack) {
    if (!ctx || typeof ctx !== "object" || !(path[0] in ctx)) continue;
    let v: unknown = ctx;
    for (const key of path) {
      if (!v || typeof v !== "object" || !(key in v)) return undefined;
      v = (v as View)[key];
    }
    return v;
  }
  return undefined;
}
