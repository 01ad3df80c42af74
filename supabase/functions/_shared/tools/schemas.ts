import { z } from "zod";

/**
 * The 8 tools the AI agents call, as zod schemas: the one source for both validating a tool
 * call's arguments (`toolSchemas[name].input.parse(args)`) and the JSON schemas stored in
 * `public.agent_tool_definitions` (written into the migration by scripts/gen-tools-migration.ts;
 * supabase/tests/tool-definitions.test.ts fails when the two disagree).
 *
 * Objects are strict: an argument the model misspells is an error it can correct, not a value
 * silently dropped.
 */

const phoneNumber = z
  .string()
  .regex(/^\+[1-9]\d{6,14}$/)
  .describe("The person's phone number in E.164 format, e.g. +250788123456.");

const sessionId = z.guid().describe("The omnichannel session id (from session_get_or_create).");

const optionalSessionId = sessionId
  .optional()
  .describe(
    "The omnichannel session to log the message in; omit to use the person's live session.",
  );

const channel = z
  .enum(["voice", "whatsapp", "sms", "messenger", "instagram", "email"])
  .describe("The channel the person is using right now.");

const whatsappText = z.string().min(1).max(4096);
// 3 concatenated GSM-7 segments; the sender still formats and bounds it by segments.
const smsText = z.string().min(1).max(459);

const jsonValue = z
  .union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(z.unknown()),
    z.record(z.string(), z.unknown()),
  ])
  .describe("Any JSON value.");

export const toolSchemas = {
  messaging_send_dual_channel: {
    description:
      "Send the same information to a person on WhatsApp and by SMS at once, each formatted for " +
      "its channel. One channel failing never blocks the other; the result reports each channel. " +
      "Use it for call summaries and confirmations the person must not miss.",
    input: z.strictObject({
      phone_number: phoneNumber,
      whatsapp_message: whatsappText.describe(
        "The WhatsApp version: may use *bold*, short lists and emoji where they help.",
      ),
      sms_message: smsText
        .optional()
        .describe(
          "The SMS version: short, plain text, no markdown. Omit to derive it from whatsapp_message.",
        ),
      session_id: optionalSessionId,
    }),
  },
  messaging_send_whatsapp: {
    description:
      "Send a WhatsApp message to a person. Outside WhatsApp's 24-hour customer-service window " +
      "the approved summary template is used instead of free text.",
    input: z.strictObject({
      phone_number: phoneNumber,
      message: whatsappText.describe(
        "The message text; WhatsApp formatting (*bold*, lists) allowed.",
      ),
      session_id: optionalSessionId,
    }),
  },
  messaging_send_sms: {
    description:
      "Send an SMS to a person. Keep it short and plain: it is cut to at most 3 SMS segments. " +
      "Not sent (logged as blocked) when the person opted out of SMS.",
    input: z.strictObject({
      phone_number: phoneNumber,
      message: smsText.describe("The message text: plain, no markdown."),
      session_id: optionalSessionId,
    }),
  },
  session_get_or_create: {
    description:
      "Get the person's live conversation session (shared across all channels) or start one. " +
      "Extends the session by 24 hours and returns its id, status and shared context.",
    input: z.strictObject({
      phone_number: phoneNumber,
      channel,
      call_id: z.string().min(1).optional().describe(
        "The voice call id, when called during a call.",
      ),
      context: z
        .record(z.string(), z.unknown())
        .optional()
        .describe('Facts to merge into the session context, e.g. {"plan": "premium"}.'),
      status: z
        .enum(["active", "follow_up"])
        .optional()
        .describe("Set the session status; follow_up means we owe the person a follow-up."),
    }),
  },
  session_update_status: {
    description:
      "Change a session's status: active, follow_up (we owe the person something), or closed " +
      "(the matter is done; the next contact starts a new session).",
    input: z.strictObject({
      session_id: sessionId,
      status: z.enum(["active", "closed", "follow_up"]).describe("The new status."),
    }),
  },
  session_add_context: {
    description:
      "Record one fact in the session's shared context, visible on every channel: a change " +
      "agreed in the conversation (new price, new appointment time, address), a preference, or " +
      "an open question. Overwrites the key if it exists.",
    input: z.strictObject({
      session_id: sessionId,
      key: z
        .string()
        .min(1)
        .max(100)
        .describe("A short snake_case name for the fact, e.g. monthly_price."),
      value: jsonValue.describe('The fact\'s value, e.g. 20 or "Tuesday 10:00".'),
    }),
  },
  session_get_context: {
    description:
      "Read the session's shared context: everything recorded about this conversation on any " +
      "channel. Check it before answering questions about earlier calls or messages.",
    input: z.strictObject({
      session_id: sessionId,
    }),
  },
  conversation_handoff: {
    description:
      "Hand the conversation to a human agent (the tenant's Genesys Cloud contact center), with " +
      "the transcript and the session context attached for them. Use it when the person asks " +
      "for a human, or when you cannot help (a complaint, a dispute, something only staff can " +
      "do). After it you stay silent in this conversation until the agent closes it; the person " +
      "is told an agent will take over. Refused on numbers that have no human agents.",
    input: z.strictObject({
      session_id: sessionId,
      reason: z
        .string()
        .min(1)
        .max(500)
        .describe("Why a human should take over, in a few words, for the agent."),
      summary: z
        .string()
        .max(2000)
        .optional()
        .describe("What the person needs and what was already tried, for the agent."),
    }),
  },
} as const satisfies Record<string, { description: string; input: z.ZodObject }>;

export type ToolName = keyof typeof toolSchemas;
export type ToolInput<N extends ToolName> = z.infer<(typeof toolSchemas)[N]["input"]>;

export interface ToolDefinition {
  name: ToolName;
  description: string;
  parameters: Record<string, unknown>;
}

/**
 * OpenAI-style function definitions, in a stable order with object keys sorted, so the
 * generated migration only changes when a schema does.
 */
export function getToolDefinitions(): ToolDefinition[] {
  return (Object.keys(toolSchemas) as ToolName[]).sort().map((name) => {
    const { $schema: _dialect, ...parameters } = z.toJSONSchema(toolSchemas[name].input, {
      io: "input",
    });
    return {
      name,
      description: toolSchemas[name].description,
      parameters: sortKeys(parameters) as Record<string, unknown>,
    };
  });
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.keys(value).sort().map((
      key,
    ) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}
