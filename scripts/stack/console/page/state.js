// What the page shows and remembers between refreshes.

export const POLL_MS = 2000;
export const HEALTH_EVERY = 5;
// SMS has no read receipts: its track ends at delivered.
const STEPS = ["queued", "sent", "delivered", "read"];
export const stepsOf = (channel) => (channel === "sms" ? STEPS.slice(0, 3) : STEPS);
export const STATUS_ORDER = [
  "queued",
  "sent",
  "delivered",
  "read",
  "received",
  "failed",
  "blocked",
];
export const KNOWN_STATUSES = new Set([...STATUS_ORDER, "active", "follow_up", "closed"]);
export const CHANNELS = {
  whatsapp: "WhatsApp",
  sms: "SMS",
  voice: "Voice",
  messenger: "Messenger",
  instagram: "Instagram",
  email: "Email",
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const state = {
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
