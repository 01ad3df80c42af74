// The small pieces every tab uses: channel badges, status chips and tracks, facts, cards.
import { el } from "./dom.js";
import { dateTime } from "./format.js";
import { CHANNELS, KNOWN_STATUSES, state, stepsOf } from "./state.js";

export const channelBadge = (channel) =>
  el("span", {
    cls: `badge c-${
      ["whatsapp", "sms", "messenger", "instagram", "voice"].includes(channel) ? channel : "other"
    }`,
    text: CHANNELS[channel] ?? channel,
  });

/** A status chip; it flashes when the message's status changed since the last draw. */
export function statusChip(status, id) {
  const chip = el("span", {
    cls: `chip${KNOWN_STATUSES.has(status) ? ` s-${status}` : ""}`,
    text: status.replace("_", " "),
  });
  if (id) markMove(chip, id, status);
  return chip;
}

function markMove(node, id, status) {
  const before = state.seen.get(id);
  if (before !== undefined && before !== status) node.classList.add("moved");
  state.seen.set(id, status);
}

/** queued → sent → delivered (→ read), the reached steps filled, the current one highlighted. */
export function track(m) {
  const steps = stepsOf(m.channel);
  const at = steps.indexOf(m.status);
  if (m.direction === "inbound" || at < 0) {
    return el("div", { cls: "track" }, statusChip(m.status, m.id));
  }
  const parts = [];
  steps.forEach((step, i) => {
    if (i) parts.push(el("span", { cls: "arrow", text: "→" }));
    const node = el("span", {
      cls: `step${i < at ? " done" : i === at ? " now" : ""}`,
      text: step,
      title: dateTime(m[`${step}_at`]),
    });
    if (i === at) markMove(node, m.id, m.status);
    parts.push(node);
  });
  return el("div", { cls: "track", attrs: { "aria-label": `status ${m.status}` } }, parts);
}

export function facts(pairs) {
  return el(
    "dl",
    { cls: "facts" },
    pairs.filter(([, v]) => v !== null && v !== undefined && v !== "").flatMap(([k, v]) => [
      el("dt", { text: k }),
      el("dd", {}, v),
    ]),
  );
}

export const card = (label, n, title) =>
  el(
    "div",
    { cls: "card", title },
    el("div", { cls: "n", text: n }),
    el("div", { cls: "muted", text: label }),
  );
