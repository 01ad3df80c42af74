// Tabs, selection and the polling loop: one refresh at a time.
import { api } from "./api.js";
import { refreshConversations } from "./conversations.js";
import { refreshDeliveries } from "./deliveries.js";
import { $ } from "./dom.js";
import { time } from "./format.js";
import { loadInfo, refreshHealth } from "./header.js";
import { HEALTH_EVERY, POLL_MS, state } from "./state.js";
import { renderStats } from "./stats.js";
import { refreshInbox, refreshMessageStats } from "./inbox.js";
import { refreshTenants } from "./tenants.js";
import { refreshWebhooks } from "./webhooks.js";

export function select(id) {
  state.selected = id;
  history.replaceState(null, "", `#${id}`);
  if (state.tab === "conversations") void poll(true);
  else showTab("conversations");
}

function showError(err) {
  const box = $("error");
  box.hidden = !err;
  box.textContent = err ? `Could not refresh: ${err.message}` : "";
}

export function showTab(tab) {
  state.tab = tab;
  for (const button of document.querySelectorAll(".tabs button")) {
    button.setAttribute("aria-selected", String(button.dataset.tab === tab));
  }
  for (const name of ["conversations", "inbox", "deliveries", "stats", "tenants", "webhooks"]) {
    $(`tab-${name}`).hidden = name !== tab;
  }
  void poll(true);
}

async function refresh() {
  if (!state.info) await loadInfo();
  if (state.ticks++ % HEALTH_EVERY === 0) await refreshHealth();
  if (state.tab === "conversations") await refreshConversations();
  else if (state.tab === "inbox") await refreshInbox();
  else if (state.tab === "deliveries") await refreshDeliveries();
  else if (state.tab === "tenants") await refreshTenants();
  else if (state.tab === "webhooks") await refreshWebhooks();
  else {
    renderStats(await api("/api/stats"));
    await refreshMessageStats();
  }
  $("updated").textContent = `updated ${time(new Date().toISOString())}`;
}

let timer;
let running = false;
let again = false;
/** One refresh at a time; a request made during one runs right after it. */
export async function poll(force = false) {
  if (running) {
    again = again || force;
    return;
  }
  running = true;
  clearTimeout(timer);
  try {
    if (force || (!state.paused && !document.hidden)) {
      await refresh();
      showError(null);
    }
  } catch (err) {
    showError(err);
  } finally {
    running = false;
  }
  if (again) {
    again = false;
    return poll(true);
  }
  timer = setTimeout(() => void poll(), POLL_MS);
}

for (const button of document.querySelectorAll(".tabs button")) {
  button.addEventListener("click", () => showTab(button.dataset.tab));
}
$("inbox-view").addEventListener("change", () => void poll(true));
$("webhooks-filters").addEventListener("change", () => void poll(true));
$("reveal").addEventListener("change", (e) => {
  state.reveal = e.target.checked;
  void poll(true);
});
$("pause").addEventListener("change", (e) => {
  state.paused = e.target.checked;
  void poll(true);
});
$("session-status").addEventListener("change", () => void poll(true));
$("filters").addEventListener("change", () => void poll(true));
$("filters").addEventListener("submit", (e) => e.preventDefault());
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) void poll(true);
});
void poll(true);
