// The webhooks tab: the raw webhook archive (GET /webhook-archive through the console), filters,
// one body at a time, and Replay (the body re-fed, signed, to the function that received it).
import { api, send } from "./api.js";
import { $, el } from "./dom.js";
import { relative } from "./format.js";

let shown = null;

export async function refreshWebhooks() {
  const source = $("webhooks-source").value;
  const direction = $("webhooks-direction").value;
  const { items } = await api("/api/webhooks", { source, direction });
  $("webhooks").replaceChildren(
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        ["#", "received", "direction", "source", "bytes", "answer", "replays", ""].map((h) =>
          el("th", { text: h })
        ),
      ),
    ),
    el(
      "tbody",
      {},
      items.length
        ? items.map(webhookRow)
        : el("tr", {}, el("td", { cls: "muted", text: "No archived webhook." })),
    ),
  );
  if (shown !== null) await showWebhook(shown);
}

function webhookRow(w) {
  return el(
    "tr",
    { attrs: { "data-webhook": w.id } },
    el("td", { text: w.id }),
    el("td", { text: relative(w.received_at), title: w.received_at }),
    el("td", { text: w.direction }),
    el("td", { text: w.source }),
    el("td", { text: w.size }),
    el("td", { text: w.response_status ?? "" }),
    el("td", {
      text: w.replay_count ? `${w.replay_count} (last ${w.last_replay_status})` : "",
    }),
    el(
      "td",
      {},
      el("button", {
        text: "Show",
        attrs: { type: "button" },
        onclick: () => void showWebhook(w.id),
      }),
      w.direction === "inbound"
        ? el("button", {
          text: "Replay",
          attrs: { type: "button", "data-replay": w.id },
          onclick: () => void replay(w.id),
        })
        : "",
    ),
  );
}

async function showWebhook(id) {
  shown = id;
  const w = await api(`/api/webhooks/${id}`);
  $("webhook-detail").replaceChildren(
    el("h3", { text: `#${w.id} ${w.direction} ${w.source}` }),
    el("p", {
      cls: "muted",
      text: `received ${w.received_at} · correlation ${w.correlation_id ?? "—"} · ${
        w.content_type ?? ""
      } · headers ${JSON.stringify(w.headers)}`,
    }),
    el("pre", { text: pretty(w.body) }),
  );
}

async function replay(id) {
  const out = $("webhooks-result");
  out.textContent = `replaying #${id}…`;
  try {
    const r = await send(`/api/webhooks/${id}/replay`, {});
    out.textContent = `#${id} replayed into ${r.source}: HTTP ${r.status} ${r.answer}`;
  } catch (err) {
    out.textContent = `#${id} not replayed: ${err.message}`;
  }
  await refreshWebhooks();
}

function pretty(body) {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}
