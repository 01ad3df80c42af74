// The inbox tab: conversations for human agents, from the messages API (GET
// /messages/conversations through the console), with assign, resolve and reply; and the message
// stats of the last 7 days (GET /messages/stats), on the stats tab.
import { api, send } from "./api.js";
import { $, el } from "./dom.js";
import { relative } from "./format.js";
import { state } from "./state.js";
import { channelBadge, statusChip } from "./widgets.js";

export async function refreshInbox() {
  const view = $("inbox-view").value;
  const { conversations } = await api("/api/inbox", { view, reveal: state.reveal ? 1 : undefined });
  $("inbox").replaceChildren(
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        ["person", "channel", "status", "assignee", "priority", "SLA", "last activity", ""].map((
          h,
        ) => el("th", { text: h })),
      ),
    ),
    el(
      "tbody",
      {},
      conversations.length
        ? conversations.map(inboxRow)
        : el("tr", {}, el("td", { cls: "muted", text: "No conversation in this view." })),
    ),
  );
}

function inboxRow(c) {
  const act = (action, body = {}) => () => void actOn(c.id, action, body);
  const reply = el("input", {
    attrs: { type: "text", placeholder: "reply…", "aria-label": "reply", maxlength: 4096 },
  });
  const open = c.status === "open" || c.status === "assigned";
  return el(
    "tr",
    { attrs: { "data-conversation": c.id } },
    el("td", { text: c.display_name ?? c.phone_number ?? c.profile_id }),
    el("td", {}, c.last_channel ? channelBadge(c.last_channel) : ""),
    el("td", {}, statusChip(c.status)),
    el("td", { text: c.assignee ?? "" }),
    el("td", { text: c.priority }),
    el("td", {
      cls: c.breaches.length ? "error" : "muted",
      text: c.breaches.length ? c.breaches.map((b) => `${b.kind} breached`).join(", ") : "ok",
    }),
    el("td", { text: relative(c.last_activity_at) }),
    el(
      "td",
      {},
      open
        ? el("button", {
          text: "Assign to me",
          attrs: { type: "button" },
          onclick: act("assign", { assignee: $("inbox-agent").value || "console" }),
        })
        : "",
      open
        ? el("button", { text: "Resolve", attrs: { type: "button" }, onclick: act("resolve") })
        : el("button", { text: "Reopen", attrs: { type: "button" }, onclick: act("reopen") }),
      reply,
      el("button", {
        text: "Send",
        attrs: { type: "button" },
        onclick: () =>
          reply.value.trim() && void actOn(c.id, "reply", { text: reply.value.trim() }),
      }),
    ),
  );
}

async function actOn(id, action, body) {
  const box = $("inbox-result");
  try {
    const answer = await send(`/api/inbox/${id}/${action}`, body);
    box.textContent = action === "reply"
      ? `Reply ${answer.status} on ${answer.channel}`
      : `Conversation ${answer.status}`;
  } catch (err) {
    box.textContent = `Could not ${action}: ${err.message}`;
  }
  await refreshInbox();
}

export async function refreshMessageStats() {
  const { channels } = await api("/api/message-stats");
  const pct = (x) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)} %`);
  const secs = (x) => (x === null || x === undefined ? "–" : `${Number(x).toFixed(1)} s`);
  $("message-stats").replaceChildren(
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        [
          "channel",
          "sent",
          "delivered",
          "read",
          "failed",
          "blocked",
          "delivery rate",
          "read rate",
          "median to delivered",
          "p90 to delivered",
          "median first response",
        ].map((h) => el("th", { text: h })),
      ),
    ),
    el(
      "tbody",
      {},
      channels.length
        ? channels.map((c) =>
          el(
            "tr",
            {},
            el("td", {}, channelBadge(c.channel)),
            [c.sent, c.delivered, c.read, c.failed, c.blocked].map((n) =>
              el("td", { cls: "num", text: n })
            ),
            el("td", { cls: "num", text: pct(c.delivery_rate) }),
            el("td", { cls: "num", text: pct(c.read_rate) }),
            el("td", { cls: "num", text: secs(c.median_seconds_to_delivered) }),
            el("td", { cls: "num", text: secs(c.p90_seconds_to_delivered) }),
            el("td", { cls: "num", text: secs(c.median_first_response_seconds) }),
          )
        )
        : el("tr", {}, el("td", { cls: "muted", text: "No messages in the last 7 days." })),
    ),
  );
}
