// The stats tab: the outbox, 24-hour counts by channel and status, sessions, pacing.
import { $, el } from "./dom.js";
import { dateTime, relative } from "./format.js";
import { STATUS_ORDER } from "./state.js";
import { card, channelBadge, statusChip } from "./widgets.js";

export function renderStats(stats) {
  const o = stats.outbox;
  $("outbox").replaceChildren(
    card("queued outbound", o.queued, "status queued, direction outbound"),
    card("due now", o.due, "queued, next attempt due, not leased"),
    card("leased", o.leased, "a sender holds them right now"),
    card("retry scheduled", o.scheduled, "waiting for their next attempt"),
    card("blocked (24 h)", stats.blocked, "not sent: the recipient opted out of the channel"),
    card(
      "oldest due",
      o.oldest_due_at ? relative(o.oldest_due_at) : "–",
      dateTime(o.oldest_due_at),
    ),
  );

  const rows = new Map();
  const statuses = new Set();
  for (const r of stats.by_channel_status) {
    const key = `${r.channel} ${r.direction}`;
    if (!rows.has(key)) rows.set(key, { channel: r.channel, direction: r.direction, counts: {} });
    rows.get(key).counts[r.status] = r.count;
    statuses.add(r.status);
  }
  const columns = STATUS_ORDER.filter((s) => statuses.has(s));
  $("matrix").replaceChildren(
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        el("th", { text: "channel" }),
        el("th", { text: "direction" }),
        columns.map((s) => el("th", { cls: "num" }, statusChip(s))),
        el("th", { cls: "num", text: "total" }),
      ),
    ),
    el(
      "tbody",
      {},
      rows.size
        ? [...rows.values()].map((r) =>
          el(
            "tr",
            {},
            el("td", {}, channelBadge(r.channel)),
            el("td", { text: r.direction }),
            columns.map((s) => el("td", { cls: "num", text: r.counts[s] ?? "" })),
            el("td", { cls: "num", text: Object.values(r.counts).reduce((a, b) => a + b, 0) }),
          )
        )
        : el("tr", {}, el("td", { cls: "muted", text: "Nothing in the last 24 hours." })),
    ),
  );

  $("session-counts").replaceChildren(
    ...(stats.sessions.length
      ? stats.sessions.map((s) =>
        card(
          s.expired ? `${s.status} (${s.expired} expired, awaiting cleanup)` : s.status,
          s.count,
        )
      )
      : [el("p", { cls: "muted", text: "No sessions." })]),
  );

  $("pacing").replaceChildren(
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        ["sender", "rate / s", "burst", "tokens now", "slowed until"].map((h) =>
          el("th", { text: h })
        ),
      ),
    ),
    el(
      "tbody",
      {},
      stats.pacing.length
        ? stats.pacing.map((p) => {
          const fill = Math.max(0, Math.min(1, p.tokens_now / p.burst));
          const bar = el("span", { cls: "bar" }, el("span", {}));
          bar.firstChild.style.width = `${Math.round(fill * 100)}%`;
          return el(
            "tr",
            {},
            el("td", { cls: "mono", text: p.sender_key }),
            el("td", { cls: "num", text: p.rate_per_second }),
            el("td", { cls: "num", text: p.burst }),
            el("td", {}, bar, ` ${Number(p.tokens_now).toFixed(1)}`),
            el("td", {
              text: p.slowed_until && Date.parse(p.slowed_until) > Date.now()
                ? dateTime(p.slowed_until)
                : "",
            }),
          );
        })
        : el("tr", {}, el("td", { cls: "muted", text: "No sender has sent yet." })),
    ),
  );
}
