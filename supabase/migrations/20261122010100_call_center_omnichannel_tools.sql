-- The call-center agent: its system instructions and the definitions of the 7 tools it (or any
-- OpenAI-compatible agent) uses, stored in the database so they can be tuned without a deploy.
-- Re-running is harmless: every seed is an upsert.

create table if not exists public.agent_instructions (
  agent_key text primary key,
  instructions text not null,
  updated_at timestamptz not null default pg_catalog.now()
);

create table if not exists public.agent_tool_definitions (
  name text primary key,
  description text not null,
  -- JSON Schema of the arguments, generated from the zod schemas in
  -- supabase/functions/_shared/tools/schemas.ts.
  parameters jsonb not null
    constraint agent_tool_definitions_parameters_is_object check (jsonb_typeof(parameters) = 'object'),
  -- An operator can switch a tool off; re-applying the seed leaves that choice alone.
  enabled boolean not null default true,
  updated_at timestamptz not null default pg_catalog.now()
);

create or replace trigger agent_instructions_set_updated_at
  before update on public.agent_instructions
  for each row execute function public.omnichannel_set_updated_at();
create or replace trigger agent_tool_definitions_set_updated_at
  before update on public.agent_tool_definitions
  for each row execute function public.omnichannel_set_updated_at();

-- Only the edge functions (service_role) read or change these; client roles get nothing.
alter table public.agent_instructions enable row level security;
alter table public.agent_tool_definitions enable row level security;

do $policies$
declare
  v_table text;
  v_op text;
begin
  foreach v_table in array array['agent_instructions', 'agent_tool_definitions'] loop
    foreach v_op in array array['select', 'insert', 'update', 'delete'] loop
      execute pg_catalog.format(
        'create policy %I on public.%I as permissive for %s to service_role %s',
        'omnichannel_service_role_' || v_op, v_table, v_op,
        case v_op when 'insert' then 'with check (true)'
                  when 'update' then 'using (true) with check (true)'
                  else 'using (true)' end);
    end loop;
  end loop;
end
$policies$;

revoke all on table public.agent_instructions, public.agent_tool_definitions
  from anon, authenticated;
grant select, insert, update, delete on table public.agent_instructions,
  public.agent_tool_definitions to service_role;

-- ---------------------------------------------------------------------------------------------
-- The call-center agent's system instructions.
-- ---------------------------------------------------------------------------------------------
insert into public.agent_instructions (agent_key, instructions)
values ('call_center', $instructions$
You are the customer-care agent of a call center. You talk with one person at a time, on a voice
call or in a text conversation on WhatsApp, SMS, Messenger or Instagram. Every channel shares one
conversation session: what the person said on a call is there when they write on WhatsApp later.

How to work
- At the start, call session_get_or_create with the person's phone number and the current
  channel, then session_get_context to see what is already known. Never ask again for something
  the context already holds.
- Be brief, warm and concrete. One question at a time. Use the person's language.
- Only state facts you were told in this conversation, found in the session context, or received
  from a tool. Never invent prices, dates, order numbers, policies or promises. If you do not
  know, say so and offer a follow-up.
- Confirm every change with a tool before telling the person it is done. When something changes
  (a new price, a new appointment time, an updated address, a plan change), record it with
  session_add_context (one key per fact, e.g. monthly_price, appointment_time) and then confirm
  it to the person in one sentence.
- If you promise to come back to the person, set the session status to follow_up with
  session_update_status and record what is owed with session_add_context (key: follow_up).
- When the matter is fully resolved and the person has nothing more to ask, set the status to
  closed.
- Never read out or send full card numbers, passwords or one-time codes. Never ask for them.

Post-call summary (after a voice call ends)
- The summary goes to the caller on WhatsApp AND by SMS, with messaging_send_dual_channel, so
  it reaches them even if one channel fails. Send it once per call.
- Summarize only what was actually said and agreed on the call and what the session context
  holds. Never add facts, amounts or dates that were not confirmed.
- Structure: a one-line greeting with the person's name if known; what they asked for; what was
  done or agreed (with the exact new values, e.g. the new monthly price); what happens next and
  who does it, with the date if one was agreed; how to reach us (reply to this message).
- WhatsApp version (whatsapp_message): may use *bold* for the key facts and a short list; emoji
  only where they help; at most about 120 words.
- SMS version (sms_message): short and plain text: no markdown, no emoji, no links unless the
  person asked for one; the essential facts only; it must fit in 3 SMS (under 450 characters).
- If a send reports a failure on one channel, do not resend on the channel that succeeded.
- If the person asked not to receive SMS, the SMS is not sent; do not try another way around it.

Tools
- messaging_send_dual_channel: the same information on WhatsApp and SMS (summaries,
  confirmations the person must not miss).
- messaging_send_whatsapp / messaging_send_sms: one channel, when the person is talking to you on
  it or asked for it.
- session_get_or_create, session_get_context, session_add_context, session_update_status: the
  shared conversation across channels.
$instructions$)
on conflict (agent_key) do update set instructions = excluded.instructions;

-- ---------------------------------------------------------------------------------------------
-- Tool definitions. The block between the markers is generated by scripts/gen-tools-migration.ts
-- from supabase/functions/_shared/tools/schemas.ts (`npm run db:tools-migration`); do not edit it
-- by hand: supabase/tests/tool-definitions.test.ts fails when it and the code disagree.
-- ---------------------------------------------------------------------------------------------
-- BEGIN GENERATED: tool definitions
insert into public.agent_tool_definitions (name, description, parameters)
values
  ('messaging_send_dual_channel',
   'Send the same information to a person on WhatsApp and by SMS at once, each formatted for its channel. One channel failing never blocks the other; the result reports each channel. Use it for call summaries and confirmations the person must not miss.',
   $json$
{
  "additionalProperties": false,
  "properties": {
    "phone_number": {
      "description": "The person's phone number in E.164 format, e.g. +250788123456.",
      "pattern": "^\\+[1-9]\\d{6,14}$",
      "type": "string"
    },
    "session_id": {
      "description": "The omnichannel session to log the message in; omit to use the person's live session.",
      "format": "uuid",
      "pattern": "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
      "type": "string"
    },
    "sms_message": {
      "description": "The SMS version: short, plain text, no markdown. Omit to derive it from whatsapp_message.",
      "maxLength": 459,
      "minLength": 1,
      "type": "string"
    },
    "whatsapp_message": {
      "description": "The WhatsApp version: may use *bold*, short lists and emoji where they help.",
      "maxLength": 4096,
      "minLength": 1,
      "type": "string"
    }
  },
  "required": [
    "phone_number",
    "whatsapp_message"
  ],
  "type": "object"
}
$json$::jsonb),
  ('messaging_send_sms',
   'Send an SMS to a person. Keep it short and plain: it is cut to at most 3 SMS segments. Not sent (logged as blocked) when the person opted out of SMS.',
   $json$
{
  "additionalProperties": false,
  "properties": {
    "message": {
      "description": "The message text: plain, no markdown.",
      "maxLength": 459,
      "minLength": 1,
      "type": "string"
    },
    "phone_number": {
      "description": "The person's phone number in E.164 format, e.g. +250788123456.",
      "pattern": "^\\+[1-9]\\d{6,14}$",
      "type": "string"
    },
    "session_id": {
      "description": "The omnichannel session to log the message in; omit to use the person's live session.",
      "format": "uuid",
      "pattern": "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
      "type": "string"
    }
  },
  "required": [
    "phone_number",
    "message"
  ],
  "type": "object"
}
$json$::jsonb),
  ('messaging_send_whatsapp',
   'Send a WhatsApp message to a person. Outside WhatsApp''s 24-hour customer-service window the approved summary template is used instead of free text.',
   $json$
{
  "additionalProperties": false,
  "properties": {
    "message": {
      "description": "The message text; WhatsApp formatting (*bold*, lists) allowed.",
      "maxLength": 4096,
      "minLength": 1,
      "type": "string"
    },
    "phone_number": {
      "description": "The person's phone number in E.164 format, e.g. +250788123456.",
      "pattern": "^\\+[1-9]\\d{6,14}$",
      "type": "string"
    },
    "session_id": {
      "description": "The omnichannel session to log the message in; omit to use the person's live session.",
      "format": "uuid",
      "pattern": "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
      "type": "string"
    }
  },
  "required": [
    "phone_number",
    "message"
  ],
  "type": "object"
}
$json$::jsonb),
  ('session_add_context',
   'Record one fact in the session''s shared context, visible on every channel: a change agreed in the conversation (new price, new appointment time, address), a preference, or an open question. Overwrites the key if it exists.',
   $json$
{
  "additionalProperties": false,
  "properties": {
    "key": {
      "description": "A short snake_case name for the fact, e.g. monthly_price.",
      "maxLength": 100,
      "minLength": 1,
      "type": "string"
    },
    "session_id": {
      "description": "The omnichannel session id (from session_get_or_create).",
      "format": "uuid",
      "pattern": "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
      "type": "string"
    },
    "value": {
      "anyOf": [
        {
          "type": "string"
        },
        {
          "type": "number"
        },
        {
          "type": "boolean"
        },
        {
          "type": "null"
        },
        {
          "items": {},
          "type": "array"
        },
        {
          "additionalProperties": {},
          "propertyNames": {
            "type": "string"
          },
          "type": "object"
        }
      ],
      "description": "The fact's value, e.g. 20 or \"Tuesday 10:00\"."
    }
  },
  "required": [
    "session_id",
    "key",
    "value"
  ],
  "type": "object"
}
$json$::jsonb),
  ('session_get_context',
   'Read the session''s shared context: everything recorded about this conversation on any channel. Check it before answering questions about earlier calls or messages.',
   $json$
{
  "additionalProperties": false,
  "properties": {
    "session_id": {
      "description": "The omnichannel session id (from session_get_or_create).",
      "format": "uuid",
      "pattern": "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
      "type": "string"
    }
  },
  "required": [
    "session_id"
  ],
  "type": "object"
}
$json$::jsonb),
  ('session_get_or_create',
   'Get the person''s live conversation session (shared across all channels) or start one. Extends the session by 24 hours and returns its id, status and shared context.',
   $json$
{
  "additionalProperties": false,
  "properties": {
    "call_id": {
      "description": "The voice call id, when called during a call.",
      "minLength": 1,
      "type": "string"
    },
    "channel": {
      "description": "The channel the person is using right now.",
      "enum": [
        "voice",
        "whatsapp",
        "sms",
        "messenger",
        "instagram",
        "email"
      ],
      "type": "string"
    },
    "context": {
      "additionalProperties": {},
      "description": "Facts to merge into the session context, e.g. {\"plan\": \"premium\"}.",
      "propertyNames": {
        "type": "string"
      },
      "type": "object"
    },
    "phone_number": {
      "description": "The person's phone number in E.164 format, e.g. +250788123456.",
      "pattern": "^\\+[1-9]\\d{6,14}$",
      "type": "string"
    },
    "status": {
      "description": "Set the session status; follow_up means we owe the person a follow-up.",
      "enum": [
        "active",
        "follow_up"
      ],
      "type": "string"
    }
  },
  "required": [
    "phone_number",
    "channel"
  ],
  "type": "object"
}
$json$::jsonb),
  ('session_update_status',
   'Change a session''s status: active, follow_up (we owe the person something), or closed (the matter is done; the next contact starts a new session).',
   $json$
{
  "additionalProperties": false,
  "properties": {
    "session_id": {
      "description": "The omnichannel session id (from session_get_or_create).",
      "format": "uuid",
      "pattern": "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
      "type": "string"
    },
    "status": {
      "description": "The new status.",
      "enum": [
        "active",
        "closed",
        "follow_up"
      ],
      "type": "string"
    }
  },
  "required": [
    "session_id",
    "status"
  ],
  "type": "object"
}
$json$::jsonb)
on conflict (name) do update
  set description = excluded.description, parameters = excluded.parameters;
-- END GENERATED: tool definitions
