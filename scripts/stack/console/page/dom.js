// Building the page: every value from the API goes in as text, never as HTML.

export const $ = (id) => document.getElementById(id);

/** A URL fit for an href: http(s) only. */
function safeUrl(href) {
  try {
    const url = new URL(href, location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** Builds an element; `text` becomes textContent, children strings become text nodes. */
export function el(tag, opts = {}, ...children) {
  const node = document.createElement(tag);
  if (opts.cls) node.className = opts.cls;
  if (opts.text !== undefined && opts.text !== null) node.textContent = String(opts.text);
  if (opts.title) node.title = String(opts.title);
  if (opts.href) {
    const href = safeUrl(opts.href);
    if (href) {
      node.setAttribute("href", href);
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
  }
  for (const [k, v] of Object.entries(opts.attrs ?? {})) node.setAttribute(k, String(v));
  if (opts.onclick) node.addEventListener("click", opts.onclick);
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}
