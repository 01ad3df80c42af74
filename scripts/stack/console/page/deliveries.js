// The delivery log tab: every message in and out, filtered.
import { api } from "./api.js";
import { $, el } from "./dom.js";
import { dateTime, relative, time } from "./format.js";
import { poll, select } from "./main.js";
import { state } from "./state.js";
import { channelBadge, statusChip } from "./widgets.js";

function deliveryRow(d) {
  return el(
    "tr",
    {},
    el("td", { text: time(d.created_at), title: dateTime(d.created_at) }),
    el("td", {}, channelBadge(d.channel)),
    el("td", { text: d.direction }),
    el("td", { text: [d.message_type, d.purpose].filter(Boolean).join(" · ") }),
    el("td", {}, statusChip(d.status, d.id)),
    el("td", { cls: "mono", text: d.direction === "inbound" ? d.sender : d.recipient }),
    el("td", { cls: "body", text: d.body ?? "", title: d.body ?? "" }),
    el("td", { cls: "mono", text: d.provider_message_id ?? "" }),
    el("td", { cls: "num", text: d.attempts }),
    el("td", {
      text: d.status === "queued" && d.next_attempt_at ? relative(d.next_attempt_at) : "",
      title: dateTime(d.next_attempt_at),
    }),
    el("td", {
      text: d.error_code ? `${d.error_code}${d.error_class ? ` (${d.error_class})` : ""}` : "",
      title: d.error_message ?? "",
    }),
    el(
      "td",
      {},
      d.session_id
        ? el("button", {
          cls: "link mono",
          text: d.session_id.slice(0, 8),
          title: "open the conversation",
          attrs: { type: "button" },
          onclick: () => select(d.session_id),
        })
        : null,
    ),
  );
}

export async function refreshDeliveries() {
  const form = $("filters");
  const { deliveries } = await api("/api/deliveries", {
    status: form.elements.status.value,
    channel: form.elements.channel.value,
    direction: form.elements.direction.value,
    limit: form.elements.limit.value,
    session_id: state.deliverySession,
    reveal: state.reveal ? 1 : undefined,
  });
  const sessionFilter = form.querySelector(".session-filter");
  if (sessionFilter) sessionFilter.remove();
  if (state.deliverySession) {
    form.append(el(
      "span",
      { cls: "session-filter" },
      "session ",
      el("code", { text: state.deliverySession.slice(0, 8) }),
      " ",
      el("button", {
        text: "✕",
        title: "all sessions",
        attrs: { type: "button" },
        onclick: () => {
          state.deliverySession = null;
          void poll(true);
        },
      }),
    ));
  }
  $("deliveries").replaceChildren(
    ...(deliveries.length ? deliveries.map(deliveryRow) : [
      el(
        "tr",
        {},
        el("td", { cls: "muted", text: "No deliveries match.", attrs: { colspan: 12 } }),
      ),
    ]),
  );
}
