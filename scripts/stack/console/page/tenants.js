// The portal tab: tenants and their accounts, a dashboard per tenant, and onboarding
// (organisation → Genesys → WhatsApp → review → save), each credential step checked live by the
// tenants function before the next one. Secrets stay in their password inputs until the tenant
// is saved, then the form is cleared; nothing drawn here ever contains one.
import { api, send } from "./api.js";
import { $, el } from "./dom.js";
import { relative } from "./format.js";
import { state } from "./state.js";
import { card, channelBadge, facts, statusChip } from "./widgets.js";

const STEPS_ONBOARD = ["organisation", "genesys", "whatsapp", "review"];
const portal = { tenantId: null, step: 0, checked: {} };

export async function refreshTenants() {
  const { tenants } = await api("/api/tenants");
  $("tenants").replaceChildren(
    el(
      "thead",
      {},
      el("tr", {}, ["tenant", "slug", "accounts", "routing"].map((h) => el("th", { text: h }))),
    ),
    el("tbody", {}, tenants.map(tenantRow)),
  );
  if (portal.tenantId && $("onboard").hidden) await showTenant(portal.tenantId);
}

function tenantRow(t) {
  return el(
    "tr",
    { attrs: { "data-tenant": t.id, "aria-current": String(t.id === portal.tenantId) } },
    el(
      "td",
      {},
      el("button", {
        text: t.name,
        attrs: { type: "button" },
        onclick: () => {
          portal.tenantId = t.id;
          $("onboard").hidden = true;
          refreshTenants().catch((err) =>
            $("tenant-view").replaceChildren(el("p", { cls: "error", text: err.message }))
          );
        },
      }),
    ),
    el("td", { text: t.slug }),
    el("td", { cls: "num", text: t.accounts }),
    el("td", { text: t.routing.join(", ") || "–" }),
  );
}

async function showTenant(id) {
  const [{ tenant, accounts }, dash] = await Promise.all([
    api(`/api/tenants/${id}`),
    api(`/api/tenants/${id}/dashboard`, { reveal: state.reveal ? 1 : undefined }),
  ]);
  const conversations = Object.entries(dash.conversations);
  $("tenant-view").replaceChildren(
    el("h2", { text: `${tenant.name} (${tenant.slug})` }),
    el("h3", { text: "Channel accounts" }),
    el(
      "div",
      { cls: "table-wrap" },
      el(
        "table",
        { cls: "log", attrs: { id: "tenant-accounts" } },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            ["kind", "id", "routing", "credentials", "state"].map((h) => el("th", { text: h })),
          ),
        ),
        el(
          "tbody",
          {},
          accounts.length
            ? accounts.map((a) =>
              el(
                "tr",
                {},
                el("td", { text: a.kind }),
                el("td", { text: a.external_id }),
                el("td", { text: a.kind === "whatsapp" ? a.routing : "" }),
                el("td", {
                  text: Object.entries(a.credentials).map(([k, v]) => `${k}: ${v}`).join(", "),
                }),
                el("td", { text: a.disabled ? "disabled" : "enabled" }),
              )
            )
            : el("tr", {}, el("td", { cls: "muted", text: "No account yet." })),
        ),
      ),
    ),
    el("h3", { text: "Dashboard" }),
    el(
      "div",
      { cls: "cards", attrs: { id: "tenant-dashboard" } },
      card(
        "conversations",
        conversations.reduce((n, [, c]) => n + c, 0),
        conversations.map(([s, c]) => `${s}: ${c}`).join(", "),
      ),
      ...conversations.map(([s, c]) => card(`${s.replace("_", " ")} conversations`, c, s)),
      card("handoffs waiting", dash.handoffs_waiting, "handed off, no agent has answered yet"),
      card("with an agent", dash.handoffs_with_agent, "handed off, an agent has answered"),
    ),
    el("h3", { text: "Messages today" }),
    el(
      "div",
      { cls: "table-wrap" },
      el(
        "table",
        { cls: "matrix", attrs: { id: "tenant-today" } },
        el(
          "thead",
          {},
          el("tr", {}, ["channel", "direction", "messages"].map((h) => el("th", { text: h }))),
        ),
        el(
          "tbody",
          {},
          dash.messages_today.length
            ? dash.messages_today.map((m) =>
              el(
                "tr",
                {},
                el("td", {}, channelBadge(m.channel)),
                el("td", { text: m.direction }),
                el("td", { cls: "num", text: m.count }),
              )
            )
            : el("tr", {}, el("td", { cls: "muted", text: "No message today." })),
        ),
      ),
    ),
    el("h3", { text: "Recent conversations" }),
    el(
      "ol",
      { cls: "sessions", attrs: { id: "tenant-recent" } },
      dash.recent_conversations.map((c) =>
        el(
          "li",
          {},
          facts([
            ["person", [c.phone_number, c.display_name].filter(Boolean).join(" · ")],
            ["channel", c.last_channel ? channelBadge(c.last_channel) : null],
            ["status", statusChip(c.status)],
            ["last activity", relative(c.last_activity_at)],
          ]),
        )
      ),
    ),
  );
}

// Onboarding -------------------------------------------------------------------------------

const field = (name) => $("onboard").elements.namedItem(name);
const value = (name) => field(name).value.trim();

/** The account a step describes, as the tenants function takes it; null when skipped. */
function accountOf(step) {
  if (step === "genesys") {
    if (!value("integration_id")) return null;
    const settings = {};
    if (value("login_base_url")) settings.login_base_url = value("login_base_url");
    if (value("api_base_url")) settings.api_base_url = value("api_base_url");
    return {
      kind: "genesys",
      integration_id: value("integration_id"),
      ...(Object.keys(settings).length ? { settings } : {}),
      credentials: {
        client_id: value("client_id"),
        client_secret: value("client_secret"),
        webhook_secret: value("webhook_secret"),
      },
    };
  }
  if (step === "whatsapp") {
    return {
      kind: "whatsapp",
      phone_number_id: value("phone_number_id"),
      routing: value("routing"),
      credentials: { access_token: value("access_token"), app_secret: value("app_secret") },
    };
  }
  return null;
}

function showOnboardError(err) {
  const box = $("onboard-error");
  for (const input of $("onboard").querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
  }
  box.hidden = !err;
  box.textContent = err ? err.message : "";
  const name = err?.field?.split(".").pop();
  const input = name ? field(name) : null;
  if (input && input.setAttribute) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

function showStep(i) {
  portal.step = i;
  for (const set of $("onboard").querySelectorAll("fieldset")) {
    set.hidden = set.dataset.step !== STEPS_ONBOARD[i];
  }
  $("onboard-step-label").textContent = `step ${i + 1} of ${STEPS_ONBOARD.length}`;
  $("onboard-back").disabled = i === 0;
  $("onboard-next").textContent = i === STEPS_ONBOARD.length - 1
    ? "Save tenant"
    : i === 0
    ? "Continue"
    : "Check and continue";
  if (STEPS_ONBOARD[i] === "review") renderReview();
}

function renderReview() {
  const set = (v) => (v ? "set" : "missing");
  const g = accountOf("genesys");
  const w = accountOf("whatsapp");
  const learnt = portal.checked.whatsapp ?? {};
  $("onboard-review").replaceChildren(
    facts([
      ["organisation", `${value("name")} (${value("slug")})`],
      [
        "Genesys",
        g
          ? `integration ${g.integration_id}; client id, client secret ${
            set(g.credentials.client_secret)
          }, webhook secret ${set(g.credentials.webhook_secret)}; checked`
          : "skipped",
      ],
      [
        "WhatsApp",
        `number ${w.phone_number_id}${
          learnt.display_phone_number ? ` (${learnt.display_phone_number})` : ""
        }${learnt.verified_name ? `, ${learnt.verified_name}` : ""}; access token ${
          set(w.credentials.access_token)
        }, app secret ${set(w.credentials.app_secret)}; routing ${w.routing}; checked`,
      ],
    ]),
  );
}

async function next() {
  const step = STEPS_ONBOARD[portal.step];
  const result = $("onboard-result");
  showOnboardError(null);
  try {
    if (step === "organisation") {
      if (!value("name") || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(value("slug"))) {
        throw Object.assign(
          new Error("A name and a slug (lowercase letters, digits, -) are needed"),
          {
            field: value("name") ? "slug" : "name",
          },
        );
      }
    } else if (step === "review") {
      result.textContent = "Saving…";
      const accounts = [accountOf("genesys"), accountOf("whatsapp")].filter(Boolean);
      const saved = await send("/api/tenants", {
        name: value("name"),
        slug: value("slug"),
        accounts,
      });
      $("onboard").reset();
      $("onboard").hidden = true;
      portal.checked = {};
      portal.tenantId = saved.tenant.id;
      result.textContent = `Saved ${saved.tenant.name}`;
      await refreshTenants();
      return;
    } else {
      const account = accountOf(step);
      if (account) {
        result.textContent = `Checking with ${step === "genesys" ? "Genesys" : "WhatsApp"}…`;
        portal.checked[step] = (await send("/api/tenants/check", account)).checked;
      }
    }
    result.textContent = "";
    showStep(portal.step + 1);
  } catch (err) {
    result.textContent = "";
    showOnboardError(err);
  }
}

$("tenant-new").addEventListener("click", () => {
  $("onboard").reset();
  portal.checked = {};
  showOnboardError(null);
  $("onboard").hidden = false;
  $("tenant-view").replaceChildren();
  portal.tenantId = null;
  showStep(0);
});
$("onboard-cancel").addEventListener("click", () => {
  $("onboard").reset();
  $("onboard").hidden = true;
});
$("onboard-back").addEventListener("click", () => showStep(Math.max(0, portal.step - 1)));
$("onboard-next").addEventListener("click", () => void next());
$("onboard").addEventListener("submit", (e) => e.preventDefault());
