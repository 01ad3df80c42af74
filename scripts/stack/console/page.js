// The console page's script, inlined into page.html by page.ts. Every value from the API is
// rendered with textContent (or as a text node): message bodies are what people wrote.
"use strict";
(() => {
  const POLL_MS = 2000;
  const HEALTH_EVERY = 5;
  // SMS has no read receipts: its track ends at delivered.
  const STEPS = ["queued", "sent", "delivered", "read"];
  const stepsOf = (channel) => (channel === "sms" ? STEPS.slice(0, 3) : STEPS);
  const STATUS_ORDER = ["queued", "sent", "delivered", "read", "received", "failed", "blocked"];
  const KNOWN_STATUSES = new Set([...STATUS_ORDER, "active", "follow_up", "closed"]);
  const CHANNELS = {
    whatsapp: "WhatsApp",
    sms: "SMS",
    voice: "Voice",
    messenger: "Messenger",
    instagram: "Instagram",
    email: "Email",
  };
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  const state = {
    tab: "conversations",
    selected: UUID.test(location.hash.slice(1)) ? location.hash.slice(1) : null,
    deliverySession: null,
    reveal: false,
    paused: false,
    ticks: 0,
    info: null,
    /** The status each message had when last drawn, to make a change visible. */
    seen: new Map(),
  };

  const $ = (id) => document.getElementById(id);

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
  function el(tag, opts = {}, ...children) {
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

  async function api(path, params = {}) {
    const url = new URL(path, location.origin);
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
    }
    const res = await fetch(url, { headers: { accept: "application/json" }, cache: "no-store" });
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      const err = new Error(body?.error?.message ?? `${path}: HTTP ${res.status}`);
      err.status = res.status;
      throw err;
    }
    return body;
  }

  const time = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour12: false }) : "");
  const dateTime = (iso) => (iso ? new Date(iso).toLocaleString([], { hour12: false }) : "");

  function relative(iso) {
    if (!iso) return "";
    const s = Math.round((Date.parse(iso) - Date.now()) / 1000);
    const abs = Math.abs(s);
    const span = abs < 60
      ? `${abs} s`
      : abs < 3600
      ? `${Math.round(abs / 60)} min`
      : abs < 172800
      ? `${Math.round(abs / 3600)} h`
      : `${Math.round(abs / 86400)} d`;
    return s >= 0 ? `in ${span}` : `${span} ago`;
  }

  const channelBadge = (channel) =>
    el("span", {
      cls: `badge c-${
        channel === "whatsapp" || channel === "sms" || channel === "voice" ? channel : "other"
      }`,
      text: CHANNELS[channel] ?? channel,
    });

  /** A status chip; it flashes when the message's status changed since the last draw. */
  function statusChip(status, id) {
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
  function track(m) {
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

  function messageDetails(m) {
    const bits = [];
    if (m.provider) bits.push(`via ${m.provider}`);
    if (m.provider_message_id) bits.push(`id ${m.provider_message_id}`);
    // A blocked message was never attempted: the person opted out of the channel.
    if (m.status === "blocked") bits.push("not sent: opted out");
    else if (m.attempts) bits.push(`attempts ${m.attempts}`);
    if (m.next_attempt_at && m.status === "queued") {
      bits.push(`next attempt ${time(m.next_attempt_at)} (${relative(m.next_attempt_at)})`);
    }
    const error = m.error_code || m.error_message
      ? el("span", {
        cls: "err",
        text: ` ${m.error_code ?? ""}${m.error_class ? ` (${m.error_class})` : ""}: ${
          m.error_message ?? ""
        }`,
      })
      : null;
    return el("div", { cls: "details" }, bits.join(" · "), error);
  }

  function messageItem(m) {
    const failed = m.status === "failed" || m.status === "blocked";
    return el(
      "div",
      {
        cls: `msg ${m.direction === "inbound" ? "inbound" : "outbound"}${failed ? " failed" : ""}`,
      },
      el(
        "div",
        { cls: "row" },
        channelBadge(m.channel),
        el("span", {
          cls: "muted",
          text: [m.direction, m.message_type, m.purpose].filter(Boolean).join(" · "),
        }),
        el("time", { cls: "muted", text: time(m.created_at), title: dateTime(m.created_at) }),
      ),
      el("div", { cls: "bubble", text: m.body ?? "(no body)" }),
      track(m),
      messageDetails(m),
    );
  }

  function summaryFlags(s) {
    if (!s.call_id) return null;
    const flag = (name, sent, at, optedOut) =>
      el("span", {
        cls: `chip ${sent ? "ok" : optedOut ? "bad" : "warn"}`,
        text: `${name} summary ${sent ? "✓" : optedOut ? "opted out" : "–"}`,
        title: sent
          ? `sent ${dateTime(at)}`
          : optedOut
          ? `not sent: the person opted out of ${name}`
          : "not sent",
      });
    return [
      flag("WA", s.whatsapp_summary_sent, s.whatsapp_summary_sent_at, !s.allows_whatsapp),
      flag("SMS", s.sms_summary_sent, s.sms_summary_sent_at, !s.allows_sms),
    ];
  }

  /** The channels this person opted out of, as chips. */
  function optOuts(s) {
    return [["WhatsApp", s.allows_whatsapp], ["SMS", s.allows_sms]]
      .filter(([, allowed]) => allowed === false)
      .map(([name]) => el("span", { cls: "chip bad", text: `opted out of ${name}` }));
  }

  function sessionItem(s) {
    const c = s.message_counts;
    const button = el(
      "button",
      {
        attrs: { type: "button", "aria-current": String(s.id === state.selected) },
        onclick: () => select(s.id),
      },
      el(
        "div",
        { cls: "row" },
        el("span", { cls: "phone", text: s.phone ?? "(no phone)" }),
        statusChip(s.status),
        s.status !== "closed" && !s.live ? el("span", { cls: "chip warn", text: "expired" }) : null,
      ),
      el(
        "div",
        { cls: "row" },
        s.channels_seen.map(channelBadge),
        el("span", {
          cls: "muted",
          text: `${c.total} messages (${c.inbound} in, ${c.outbound} out)`,
        }),
        c.failed ? el("span", { cls: "chip bad", text: `${c.failed} failed` }) : null,
        c.blocked ? el("span", { cls: "chip bad", text: `${c.blocked} blocked` }) : null,
        optOuts(s),
      ),
      el(
        "div",
        { cls: "row muted" },
        summaryFlags(s),
        el("span", { text: relative(s.last_activity_at), title: dateTime(s.last_activity_at) }),
      ),
    );
    return el("li", {}, button);
  }

  function facts(pairs) {
    return el(
      "dl",
      { cls: "facts" },
      pairs.filter(([, v]) => v !== null && v !== undefined && v !== "").flatMap(([k, v]) => [
        el("dt", { text: k }),
        el("dd", {}, v),
      ]),
    );
  }

  function renderConversation({ session: s, messages }) {
    const panel = $("conversation");
    const old = panel.querySelector(".timeline");
    const atBottom = !old || old.scrollHeight - old.scrollTop - old.clientHeight < 40;
    const oldScroll = old ? old.scrollTop : 0;
    const sandbox = state.info?.sandbox_messages_url;
    const timeline = el("div", { cls: "timeline" }, messages.map(messageItem));
    panel.replaceChildren(
      el(
        "div",
        { cls: "row" },
        el("h2", { text: s.phone ?? "(no phone)" }),
        statusChip(s.status),
        s.channels_seen.map(channelBadge),
        summaryFlags(s),
        optOuts(s),
      ),
      facts([
        ["session", el("code", { text: s.id })],
        ["call", s.call_id ? el("code", { text: s.call_id }) : null],
        ["last channel", s.last_channel],
        ["started", dateTime(s.created_at)],
        ["last activity", `${dateTime(s.last_activity_at)} (${relative(s.last_activity_at)})`],
        [s.live ? "expires" : "expired", `${dateTime(s.expires_at)} (${relative(s.expires_at)})`],
        ["closed", s.closed_at ? dateTime(s.closed_at) : null],
        [
          "see also",
          el(
            "span",
            { cls: "row" },
            el("a", {
              text: "this session in the delivery log",
              href: "#",
              onclick: (e) => {
                e.preventDefault();
                state.deliverySession = s.id;
                showTab("deliveries");
              },
            }),
            sandbox && state.reveal && s.phone
              ? el("a", {
                text: "what the sandbox received for this number",
                href: `${sandbox}?to=${encodeURIComponent(s.phone)}`,
              })
              : null,
          ),
        ],
      ]),
      el("h2", { text: "Context" }),
      el("pre", { cls: "context", text: JSON.stringify(s.context, null, 2) }),
      el("h2", { text: `Conversation (${messages.length} messages, oldest first)` }),
      timeline,
    );
    timeline.scrollTop = atBottom ? timeline.scrollHeight : oldScroll;
  }

  function select(id) {
    state.selected = id;
    history.replaceState(null, "", `#${id}`);
    if (state.tab === "conversations") void poll(true);
    else showTab("conversations");
  }

  async function refreshConversations() {
    const { sessions } = await api("/api/sessions", {
      limit: 50,
      status: $("session-status").value,
      reveal: state.reveal ? 1 : undefined,
    });
    if (!state.selected && sessions.length) state.selected = sessions[0].id;
    $("sessions").replaceChildren(
      ...(sessions.length
        ? sessions.map(sessionItem)
        : [el("li", { cls: "muted empty", text: "No sessions yet. Run npm run demo." })]),
    );
    if (!state.selected) return;
    try {
      renderConversation(
        await api(`/api/sessions/${encodeURIComponent(state.selected)}/messages`, {
          reveal: state.reveal ? 1 : undefined,
        }),
      );
    } catch (err) {
      if (err.status !== 404 && err.status !== 400) throw err;
      state.selected = null;
      $("conversation").replaceChildren(
        el("p", { cls: "muted empty", text: "That session is gone." }),
      );
    }
  }

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

  async function refreshDeliveries() {
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

  const card = (label, n, title) =>
    el(
      "div",
      { cls: "card", title },
      el("div", { cls: "n", text: n }),
      el("div", { cls: "muted", text: label }),
    );

  function renderStats(stats) {
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

  async function refreshHealth() {
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

  async function loadInfo() {
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

  function showError(err) {
    const box = $("error");
    box.hidden = !err;
    box.textContent = err ? `Could not refresh: ${err.message}` : "";
  }

  function showTab(tab) {
    state.tab = tab;
    for (const button of document.querySelectorAll(".tabs button")) {
      button.setAttribute("aria-selected", String(button.dataset.tab === tab));
    }
    for (const name of ["conversations", "deliveries", "stats"]) {
      $(`tab-${name}`).hidden = name !== tab;
    }
    void poll(true);
  }

  async function refresh() {
    if (!state.info) await loadInfo();
    if (state.ticks++ % HEALTH_EVERY === 0) await refreshHealth();
    if (state.tab === "conversations") await refreshConversations();
    else if (state.tab === "deliveries") await refreshDeliveries();
    else renderStats(await api("/api/stats"));
    $("updated").textContent = `updated ${time(new Date().toISOString())}`;
  }

  let timer;
  let running = false;
  let again = false;
  /** One refresh at a time; a request made during one runs right after it. */
  async function poll(force = false) {
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
})();
