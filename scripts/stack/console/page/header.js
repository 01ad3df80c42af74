// The header: the functions' health chip and the stack's links.
import { api } from "./api.js";
import { $, el } from "./dom.js";
import { state } from "./state.js";

export async function refreshHealth() {
  const chip = $("health");
  const h = await api("/api/health");
  const report = h.report ?? {};
  if (!h.reachable) {
    chip.className = "chip bad";
    chip.textContent = "functions unreachable";
    chip.title = h.error ?? "";
  } else if (h.http_status === 200 && report.status === "ok") {
    chip.className = "chip ok";
    chip.textContent = "healthy";
    chip.title = [
      `database ${report.database?.latency_ms ?? "?"} ms`,
      `migrations ${report.migrations?.current ? "current" : "NOT current"}`,
      `providers: ${
        Object.entries(report.providers ?? {}).map(([p, m]) => `${p} ${m}`).join(", ")
      }`,
    ].join("\n");
  } else {
    chip.className = h.http_status === 404 ? "chip warn" : "chip bad";
    chip.textContent = h.http_status === 404
      ? "health function not running"
      : `health: ${report.status ?? `HTTP ${h.http_status}`}`;
    chip.title = JSON.stringify(report);
  }
}

export async function loadInfo() {
  state.info = await api("/api/info");
  $("links").replaceChildren(
    el("a", { text: "functions /health", href: state.info.health_url }),
    el("a", { text: "sandbox: received messages", href: state.info.sandbox_messages_url }),
    el("span", {
      cls: "muted",
      text: `db ${state.info.db}`,
      title: `functions: ${state.info.functions.join(", ")}`,
    }),
  );
}
