// The conversations tab: sessions on the left, one timeline on the right.
import { api } from "./api.js";
import { $, el } from "./dom.js";
import { dateTime, relative, time } from "./format.js";
import { select, showTab } from "./main.js";
import { state } from "./state.js";
import { channelBadge, facts, statusChip, track } from "./widgets.js";

function messageDetails(m) {
  const bits = [];
  if (m.provider) bits.push(`via ${m.provider}`);
  if (m.provider_message_id) bits.push(`id ${m.provider_message_id}`);
  // A blocked message was never attempted: the person opted out of the channel (or, for email,
  // the address bounced before).
  if (m.status === "blocked") {
    bits.push(
      m.error_code === "EMAIL.UNDELIVERABLE" ? "not sent: address bounced" : "not sent: opted out",
    );
  } else if (m.error_code === "EMAIL.BOUNCED") bits.push("bounced: no more email to this address");
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
    m.subject ? el("div", { cls: "subject", text: m.subject }) : null,
    el("div", { cls: "bubble", text: m.body ?? "(no body)" }),
    m.attachments?.length
      ? el("div", { cls: "muted", text: `attachments: ${m.attachments.join(", ")}` })
      : null,
    m.complained
      ? el("span", { cls: "chip bad", text: "marked as spam: opted out of email" })
      : null,
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
  return [["WhatsApp", s.allows_whatsapp], ["SMS", s.allows_sms], ["email", s.allows_email]]
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
      el("span", { cls: "phone", text: who(s) }),
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
      el("h2", { text: who(s) }),
      statusChip(s.status),
      s.channels_seen.map(channelBadge),
      summaryFlags(s),
      optOuts(s),
    ),
    facts([
      ["session", el("code", { text: s.id })],
      ["person", s.display_name ?? null],
      [
        "identities",
        s.identities?.length
          ? el(
            "span",
            { cls: "row" },
            s.identities.map((i) =>
              el("span", { cls: "row" }, channelBadge(i.kind), el("code", { text: i.value }))
            ),
          )
          : null,
      ],
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

export async function refreshConversations() {
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

/** How a session's person is named: their phone, else their first other identity. */
function who(s) {
  if (s.phone) return s.phone;
  const other = s.identities?.[0];
  return other ? `${other.kind} ${other.value}` : "(no phone)";
}
