-- The current definition of every table and SQL function in schema public, as the
-- migrations in supabase/migrations/ leave them. Generated from a migrated database by
-- scripts/gen-schema.ts (npm run db:schema); do not edit: change the schema with a new
-- migration, then regenerate (supabase/tests/schema-drift.test.ts fails until you do).

create table public.agent_instructions (
  agent_key text not null,
  instructions text not null,
  updated_at timestamp with time zone not null default now(),
  constraint agent_instructions_pkey PRIMARY KEY (agent_key)
);
alter table public.agent_instructions enable row level security;
create policy omnichannel_service_role_delete on public.agent_instructions as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.agent_instructions as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.agent_instructions as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.agent_instructions as permissive for update to service_role using (true) with check (true);
CREATE TRIGGER agent_instructions_set_updated_at BEFORE UPDATE ON public.agent_instructions FOR EACH ROW EXECUTE FUNCTION omnichannel_set_updated_at();
grant delete, insert, select, update on table public.agent_instructions to service_role;

create table public.agent_tool_definitions (
  name text not null,
  description text not null,
  parameters jsonb not null,
  enabled boolean not null default true,
  updated_at timestamp with time zone not null default now(),
  constraint agent_tool_definitions_parameters_is_object CHECK ((jsonb_typeof(parameters) = 'object'::text)),
  constraint agent_tool_definitions_pkey PRIMARY KEY (name)
);
alter table public.agent_tool_definitions enable row level security;
create policy omnichannel_service_role_delete on public.agent_tool_definitions as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.agent_tool_definitions as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.agent_tool_definitions as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.agent_tool_definitions as permissive for update to service_role using (true) with check (true);
CREATE TRIGGER agent_tool_definitions_set_updated_at BEFORE UPDATE ON public.agent_tool_definitions FOR EACH ROW EXECUTE FUNCTION omnichannel_set_updated_at();
grant delete, insert, select, update on table public.agent_tool_definitions to service_role;

create table public.api_caller_quotas (
  caller text not null,
  window_start timestamp with time zone not null,
  used integer not null,
  constraint api_caller_quotas_pkey PRIMARY KEY (caller)
);
alter table public.api_caller_quotas enable row level security;
create policy omnichannel_service_role_delete on public.api_caller_quotas as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.api_caller_quotas as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.api_caller_quotas as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.api_caller_quotas as permissive for update to service_role using (true) with check (true);
grant delete, insert, select, update on table public.api_caller_quotas to service_role;

create table public.api_messages (
  id uuid not null default gen_random_uuid(),
  caller text not null,
  idempotency_key text not null,
  request_hash text not null,
  profile_id uuid,
  route jsonb not null,
  send_at timestamp with time zone,
  metadata jsonb not null default '{}'::jsonb,
  correlation_id text,
  response jsonb not null default '{}'::jsonb,
  created_at timestamp with time zone not null default now(),
  constraint api_messages_caller_key UNIQUE (caller, idempotency_key),
  constraint api_messages_metadata_is_object CHECK ((jsonb_typeof(metadata) = 'object'::text)),
  constraint api_messages_pkey PRIMARY KEY (id),
  constraint api_messages_profile_id_fkey FOREIGN KEY (profile_id) REFERENCES profiles(id) ON DELETE SET NULL,
  constraint api_messages_route_is_array CHECK (((jsonb_typeof(route) = 'array'::text) AND (jsonb_array_length(route) > 0)))
);
CREATE INDEX api_messages_created_idx ON public.api_messages USING btree (created_at DESC, id DESC);
CREATE INDEX api_messages_profile_created_idx ON public.api_messages USING btree (profile_id, created_at DESC, id DESC);
alter table public.api_messages enable row level security;
create policy omnichannel_service_role_delete on public.api_messages as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.api_messages as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.api_messages as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.api_messages as permissive for update to service_role using (true) with check (true);
grant delete, insert, select, update on table public.api_messages to service_role;

create table public.call_summaries (
  id uuid not null default gen_random_uuid(),
  call_id text not null,
  phone_number text,
  summary text,
  duration_seconds integer,
  ended_at timestamp with time zone,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamp with time zone not null default now(),
  constraint call_summaries_call_id_key UNIQUE (call_id),
  constraint call_summaries_duration_check CHECK ((duration_seconds >= 0)),
  constraint call_summaries_pkey PRIMARY KEY (id)
);
alter table public.call_summaries enable row level security;
create policy omnichannel_service_role_delete on public.call_summaries as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.call_summaries as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.call_summaries as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.call_summaries as permissive for update to service_role using (true) with check (true);
grant delete, insert, select, update on table public.call_summaries to service_role;

create table public.channel_accounts (
  id uuid not null default gen_random_uuid(),
  tenant_id uuid not null,
  kind text not null,
  external_id text not null,
  display_name text,
  routing text not null default 'ai'::text,
  settings jsonb not null default '{}'::jsonb,
  credentials_secret_id uuid,
  created_at timestamp with time zone not null default now(),
  updated_at timestamp with time zone not null default now(),
  disabled_at timestamp with time zone,
  constraint channel_accounts_external_id_check CHECK (((length(external_id) >= 1) AND (length(external_id) <= 200))),
  constraint channel_accounts_kind_check CHECK ((kind = ANY (ARRAY['whatsapp'::text, 'messenger'::text, 'instagram'::text, 'email'::text, 'genesys'::text]))),
  constraint channel_accounts_kind_external_id_key UNIQUE (kind, external_id),
  constraint channel_accounts_pkey PRIMARY KEY (id),
  constraint channel_accounts_routing_check CHECK ((routing = ANY (ARRAY['ai'::text, 'agent'::text, 'ai_then_agent'::text]))),
  constraint channel_accounts_settings_check CHECK ((jsonb_typeof(settings) = 'object'::text)),
  constraint channel_accounts_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
);
CREATE INDEX channel_accounts_tenant_kind_idx ON public.channel_accounts USING btree (tenant_id, kind);
alter table public.channel_accounts enable row level security;
create policy omnichannel_service_role_delete on public.channel_accounts as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.channel_accounts as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.channel_accounts as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.channel_accounts as permissive for update to service_role using (true) with check (true);
CREATE TRIGGER channel_accounts_set_updated_at BEFORE UPDATE ON public.channel_accounts FOR EACH ROW EXECUTE FUNCTION omnichannel_set_updated_at();
grant delete, insert, select, update on table public.channel_accounts to service_role;
comment on table public.channel_accounts is 'A tenant''s account on a channel, found by (kind, external_id); credentials in Vault (credentials_secret_id).';

create table public.conversation_handoffs (
  id uuid not null default gen_random_uuid(),
  tenant_id uuid not null,
  session_id uuid not null,
  whatsapp_id text not null,
  phone_number_id text,
  state text not null default 'waiting'::text,
  requested_by text not null,
  reason text not null,
  summary text,
  delivery_id uuid,
  created_at timestamp with time zone not null default now(),
  agent_joined_at timestamp with time zone,
  closed_at timestamp with time zone,
  closed_by text,
  close_reason text,
  constraint conversation_handoffs_check CHECK (((state = 'closed'::text) = (closed_at IS NOT NULL))),
  constraint conversation_handoffs_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES message_delivery_log(id) ON DELETE SET NULL,
  constraint conversation_handoffs_pkey PRIMARY KEY (id),
  constraint conversation_handoffs_reason_check CHECK (((length(reason) >= 1) AND (length(reason) <= 500))),
  constraint conversation_handoffs_requested_by_check CHECK ((requested_by = ANY (ARRAY['person'::text, 'ai'::text, 'operator'::text]))),
  constraint conversation_handoffs_session_id_fkey FOREIGN KEY (session_id) REFERENCES omnichannel_sessions(id) ON DELETE CASCADE,
  constraint conversation_handoffs_state_check CHECK ((state = ANY (ARRAY['waiting'::text, 'agent'::text, 'closed'::text]))),
  constraint conversation_handoffs_summary_check CHECK (((summary IS NULL) OR (length(summary) <= 2000))),
  constraint conversation_handoffs_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX conversation_handoffs_open_idx ON public.conversation_handoffs USING btree (session_id) WHERE (state <> 'closed'::text);
CREATE INDEX conversation_handoffs_tenant_idx ON public.conversation_handoffs USING btree (tenant_id, state, created_at DESC);
alter table public.conversation_handoffs enable row level security;
create policy omnichannel_service_role_delete on public.conversation_handoffs as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.conversation_handoffs as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.conversation_handoffs as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.conversation_handoffs as permissive for update to service_role using (true) with check (true);
grant delete, insert, select, update on table public.conversation_handoffs to service_role;
comment on table public.conversation_handoffs is 'Sessions handed from the AI to Genesys agents (routing ai_then_agent): waiting → agent → closed.';

create table public.conversation_sla_breaches (
  session_id uuid not null,
  kind text not null,
  due_at timestamp with time zone not null,
  breached_at timestamp with time zone not null default now(),
  constraint conversation_sla_breaches_kind_check CHECK ((kind = ANY (ARRAY['first_response'::text, 'next_response'::text]))),
  constraint conversation_sla_breaches_pkey PRIMARY KEY (session_id, kind, due_at),
  constraint conversation_sla_breaches_session_id_fkey FOREIGN KEY (session_id) REFERENCES omnichannel_sessions(id) ON DELETE CASCADE
);
alter table public.conversation_sla_breaches enable row level security;
create policy omnichannel_service_role_delete on public.conversation_sla_breaches as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.conversation_sla_breaches as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.conversation_sla_breaches as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.conversation_sla_breaches as permissive for update to service_role using (true) with check (true);
grant delete, insert, select, update on table public.conversation_sla_breaches to service_role;

create table public.email_suppressions (
  address text not null,
  reason text not null,
  detail text,
  provider_message_id text,
  created_at timestamp with time zone not null default now(),
  constraint email_suppressions_address_check CHECK ((address = lower(address))),
  constraint email_suppressions_pkey PRIMARY KEY (address),
  constraint email_suppressions_reason_check CHECK ((reason = ANY (ARRAY['bounced'::text, 'complained'::text])))
);
alter table public.email_suppressions enable row level security;
create policy email_suppressions_service_delete on public.email_suppressions as permissive for delete to service_role using (true);
create policy email_suppressions_service_insert on public.email_suppressions as permissive for insert to service_role with check (true);
create policy email_suppressions_service_select on public.email_suppressions as permissive for select to service_role using (true);
create policy email_suppressions_service_update on public.email_suppressions as permissive for update to service_role using (true) with check (true);
grant delete, insert, select, update on table public.email_suppressions to service_role;
comment on table public.email_suppressions is 'Addresses no email goes to: hard-bounced (the mailbox does not exist) or complained (marked as spam).';

create table public.genesys_conversations (
  integration_id text not null,
  whatsapp_id text not null,
  tenant_id uuid not null,
  phone_number_id text,
  session_id uuid,
  genesys_conversation_id text,
  state text not null default 'agent'::text,
  handed_off_at timestamp with time zone,
  handoff_reason text,
  created_at timestamp with time zone not null default now(),
  updated_at timestamp with time zone not null default now(),
  constraint genesys_conversations_pkey PRIMARY KEY (integration_id, whatsapp_id),
  constraint genesys_conversations_session_id_fkey FOREIGN KEY (session_id) REFERENCES omnichannel_sessions(id) ON DELETE SET NULL,
  constraint genesys_conversations_state_check CHECK ((state = ANY (ARRAY['ai'::text, 'agent'::text]))),
  constraint genesys_conversations_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
);
CREATE INDEX genesys_conversations_tenant_idx ON public.genesys_conversations USING btree (tenant_id, updated_at DESC);
alter table public.genesys_conversations enable row level security;
create policy omnichannel_service_role_delete on public.genesys_conversations as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.genesys_conversations as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.genesys_conversations as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.genesys_conversations as permissive for update to service_role using (true) with check (true);
CREATE TRIGGER genesys_conversations_set_updated_at BEFORE UPDATE ON public.genesys_conversations FOR EACH ROW EXECUTE FUNCTION omnichannel_set_updated_at();
grant delete, insert, select, update on table public.genesys_conversations to service_role;
comment on table public.genesys_conversations is 'A person on WhatsApp ↔ a tenant''s Genesys Open Messaging integration; state says who answers.';

create table public.genesys_messages (
  integration_id text not null,
  genesys_message_id text not null,
  delivery_id uuid not null,
  direction text not null,
  receipt_status text,
  receipt_reason text,
  receipt_at timestamp with time zone,
  created_at timestamp with time zone not null default now(),
  constraint genesys_messages_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES message_delivery_log(id) ON DELETE CASCADE,
  constraint genesys_messages_direction_check CHECK ((direction = ANY (ARRAY['inbound'::text, 'outbound'::text]))),
  constraint genesys_messages_pkey PRIMARY KEY (integration_id, genesys_message_id)
);
CREATE INDEX genesys_messages_delivery_idx ON public.genesys_messages USING btree (delivery_id);
alter table public.genesys_messages enable row level security;
create policy omnichannel_service_role_delete on public.genesys_messages as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.genesys_messages as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.genesys_messages as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.genesys_messages as permissive for update to service_role using (true) with check (true);
grant delete, insert, select, update on table public.genesys_messages to service_role;
comment on table public.genesys_messages is 'Message tracking: a Genesys message id ↔ our message_delivery_log row.';

create table public.genesys_outbox (
  id bigint not null,
  tenant_id uuid not null,
  integration_id text,
  kind text not null,
  dedupe_key text not null,
  delivery_id uuid,
  payload jsonb not null default '{}'::jsonb,
  status text not null default 'pending'::text,
  attempts integer not null default 0,
  next_attempt_at timestamp with time zone not null default now(),
  leased_until timestamp with time zone,
  last_error text,
  genesys_message_id text,
  created_at timestamp with time zone not null default now(),
  sent_at timestamp with time zone,
  constraint genesys_outbox_dedupe_key_key UNIQUE (dedupe_key),
  constraint genesys_outbox_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES message_delivery_log(id) ON DELETE CASCADE,
  constraint genesys_outbox_kind_check CHECK ((kind = ANY (ARRAY['message'::text, 'receipt'::text]))),
  constraint genesys_outbox_payload_check CHECK ((jsonb_typeof(payload) = 'object'::text)),
  constraint genesys_outbox_pkey PRIMARY KEY (id),
  constraint genesys_outbox_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'sending'::text, 'sent'::text, 'failed'::text]))),
  constraint genesys_outbox_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
);
CREATE INDEX genesys_outbox_due_idx ON public.genesys_outbox USING btree (next_attempt_at) WHERE (status = ANY (ARRAY['pending'::text, 'sending'::text]));
CREATE INDEX genesys_outbox_tenant_idx ON public.genesys_outbox USING btree (tenant_id, created_at DESC);
alter table public.genesys_outbox enable row level security;
create policy omnichannel_service_role_delete on public.genesys_outbox as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.genesys_outbox as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.genesys_outbox as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.genesys_outbox as permissive for update to service_role using (true) with check (true);
grant delete, insert, select, update on table public.genesys_outbox to service_role;
comment on table public.genesys_outbox is 'Posts to Genesys Open Messaging, retried with backoff (429/5xx/timeout) until sent or failed.';

create table public.inbound_inbox (
  id bigint not null,
  channel text not null,
  provider_message_id text not null,
  sender text not null,
  sender_kind text not null default 'phone'::text,
  message jsonb not null,
  received_at timestamp with time zone not null default now(),
  processed_at timestamp with time zone,
  attempts integer not null default 0,
  last_error text,
  constraint inbound_inbox_pkey PRIMARY KEY (id),
  constraint inbound_inbox_provider_message_id_check CHECK ((length(provider_message_id) > 0)),
  constraint inbound_inbox_provider_message_key UNIQUE (channel, provider_message_id)
);
CREATE INDEX inbound_inbox_owed_idx ON public.inbound_inbox USING btree (id) WHERE (processed_at IS NULL);
alter table public.inbound_inbox enable row level security;
create policy inbound_inbox_service_delete on public.inbound_inbox as permissive for delete to service_role using (true);
create policy inbound_inbox_service_insert on public.inbound_inbox as permissive for insert to service_role with check (true);
create policy inbound_inbox_service_select on public.inbound_inbox as permissive for select to service_role using (true);
create policy inbound_inbox_service_update on public.inbound_inbox as permissive for update to service_role using (true) with check (true);
grant delete, insert, select, update on table public.inbound_inbox to service_role;
comment on table public.inbound_inbox is 'Inbound messages accepted by the webhooks (unique on the provider id), owed to the worker that derives profiles, sessions and messages from them while processed_at is null.';

create table public.message_delivery_log (
  id uuid not null default gen_random_uuid(),
  session_id uuid,
  profile_id uuid,
  channel text not null,
  direction text not null,
  message_type text not null default 'text'::text,
  status text not null,
  provider text,
  provider_message_id text,
  idempotency_key text,
  recipient text,
  sender text,
  body text,
  metadata jsonb not null default '{}'::jsonb,
  error_code text,
  error_class text,
  error_message text,
  correlation_id text,
  attempts integer not null default 0,
  queued_at timestamp with time zone,
  sent_at timestamp with time zone,
  delivered_at timestamp with time zone,
  read_at timestamp with time zone,
  failed_at timestamp with time zone,
  received_at timestamp with time zone,
  created_at timestamp with time zone not null default now(),
  updated_at timestamp with time zone not null default now(),
  call_id text,
  purpose text,
  next_attempt_at timestamp with time zone,
  leased_until timestamp with time zone,
  reply_state text,
  sender_key text,
  fallback_of uuid,
  retry_of uuid,
  api_message_id uuid,
  route_step integer,
  tenant_id uuid not null default '00000000-0000-0000-0000-000000000001'::uuid,
  constraint message_delivery_log_api_message_id_fkey FOREIGN KEY (api_message_id) REFERENCES api_messages(id) ON DELETE SET NULL,
  constraint message_delivery_log_attempts_check CHECK ((attempts >= 0)),
  constraint message_delivery_log_channel_check CHECK ((channel = ANY (ARRAY['whatsapp'::text, 'sms'::text, 'messenger'::text, 'instagram'::text, 'email'::text, 'voice'::text]))),
  constraint message_delivery_log_channel_provider_message_id_key UNIQUE (channel, provider_message_id),
  constraint message_delivery_log_direction_check CHECK ((direction = ANY (ARRAY['inbound'::text, 'outbound'::text]))),
  constraint message_delivery_log_error_class_check CHECK ((error_class = ANY (ARRAY['retryable'::text, 'permanent'::text, 'window_closed'::text]))),
  constraint message_delivery_log_fallback_of_fkey FOREIGN KEY (fallback_of) REFERENCES message_delivery_log(id) ON DELETE SET NULL,
  constraint message_delivery_log_idempotency_key_key UNIQUE (idempotency_key),
  constraint message_delivery_log_metadata_is_object CHECK ((jsonb_typeof(metadata) = 'object'::text)),
  constraint message_delivery_log_pkey PRIMARY KEY (id),
  constraint message_delivery_log_profile_id_fkey FOREIGN KEY (profile_id) REFERENCES profiles(id) ON DELETE SET NULL,
  constraint message_delivery_log_reply_state_check CHECK ((reply_state = ANY (ARRAY['pending'::text, 'in_progress'::text, 'done'::text, 'skipped'::text]))),
  constraint message_delivery_log_retry_of_fkey FOREIGN KEY (retry_of) REFERENCES message_delivery_log(id) ON DELETE SET NULL,
  constraint message_delivery_log_session_id_fkey FOREIGN KEY (session_id) REFERENCES omnichannel_sessions(id) ON DELETE SET NULL,
  constraint message_delivery_log_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'unknown'::text, 'sent'::text, 'delivered'::text, 'read'::text, 'failed'::text, 'received'::text, 'blocked'::text]))),
  constraint message_delivery_log_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE RESTRICT NOT VALID
);
CREATE INDEX message_delivery_log_api_message_idx ON public.message_delivery_log USING btree (api_message_id, route_step) WHERE (api_message_id IS NOT NULL);
CREATE INDEX message_delivery_log_call_idx ON public.message_delivery_log USING btree (call_id, channel, created_at DESC) WHERE (call_id IS NOT NULL);
CREATE INDEX message_delivery_log_due_idx ON public.message_delivery_log USING btree (next_attempt_at NULLS FIRST, created_at) WHERE ((direction = 'outbound'::text) AND (status = ANY (ARRAY['queued'::text, 'unknown'::text])));
CREATE INDEX message_delivery_log_inbound_stats_idx ON public.message_delivery_log USING btree (created_at, channel) INCLUDE (session_id) WHERE (direction = 'inbound'::text);
CREATE INDEX message_delivery_log_inbound_window_idx ON public.message_delivery_log USING btree (channel, sender, created_at) WHERE (direction = 'inbound'::text);
CREATE INDEX message_delivery_log_outbound_recipient_idx ON public.message_delivery_log USING btree (channel, recipient, created_at) WHERE (direction = 'outbound'::text);
CREATE INDEX message_delivery_log_outbound_stats_idx ON public.message_delivery_log USING btree (created_at, channel) INCLUDE (status, sent_at, delivered_at, read_at) WHERE (direction = 'outbound'::text);
CREATE INDEX message_delivery_log_profile_id_idx ON public.message_delivery_log USING btree (profile_id);
CREATE INDEX message_delivery_log_replies_idx ON public.message_delivery_log USING btree (session_id, created_at) WHERE ((direction = 'outbound'::text) AND (purpose = ANY (ARRAY['ai_reply'::text, 'agent_reply'::text])));
CREATE INDEX message_delivery_log_reply_due_idx ON public.message_delivery_log USING btree (leased_until) WHERE ((direction = 'inbound'::text) AND (reply_state = ANY (ARRAY['pending'::text, 'in_progress'::text])));
CREATE INDEX message_delivery_log_session_id_created_at_idx ON public.message_delivery_log USING btree (session_id, created_at);
CREATE INDEX message_delivery_log_tenant_created_idx ON public.message_delivery_log USING btree (tenant_id, created_at DESC);
alter table public.message_delivery_log enable row level security;
create policy omnichannel_authenticated_select_own on public.message_delivery_log as permissive for select to authenticated using ((EXISTS ( SELECT 1
   FROM profiles p
  WHERE ((p.id = message_delivery_log.profile_id) AND (p.user_id = ( SELECT auth.uid() AS uid))))));
create policy omnichannel_service_role_delete on public.message_delivery_log as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.message_delivery_log as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.message_delivery_log as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.message_delivery_log as permissive for update to service_role using (true) with check (true);
create policy tenant_members_select on public.message_delivery_log as permissive for select to authenticated using ((tenant_id = ( SELECT
        CASE
            WHEN (((auth.jwt() -> 'app_metadata'::text) ->> 'tenant_id'::text) ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'::text) THEN (((auth.jwt() -> 'app_metadata'::text) ->> 'tenant_id'::text))::uuid
            ELSE NULL::uuid
        END AS "case")));
CREATE TRIGGER message_delivery_log_api_route AFTER UPDATE OF status ON public.message_delivery_log FOR EACH ROW WHEN (((new.api_message_id IS NOT NULL) AND (new.status = ANY (ARRAY['failed'::text, 'blocked'::text])) AND (old.status IS DISTINCT FROM new.status))) EXECUTE FUNCTION advance_api_message_on_failure();
CREATE TRIGGER message_delivery_log_before_insert BEFORE INSERT ON public.message_delivery_log FOR EACH ROW EXECUTE FUNCTION message_delivery_log_before_insert();
CREATE TRIGGER message_delivery_log_block_opted_out BEFORE UPDATE OF error_code, leased_until ON public.message_delivery_log FOR EACH ROW WHEN (((new.direction = 'outbound'::text) AND (new.purpose IS DISTINCT FROM 'keyword_reply'::text) AND ((new.status = 'queued'::text) OR ((new.status = 'blocked'::text) AND (new.channel = 'whatsapp'::text) AND (new.error_code = 'SMS.OPTED_OUT'::text))))) EXECUTE FUNCTION block_opted_out_outbound();
CREATE TRIGGER message_delivery_log_block_undeliverable_email BEFORE UPDATE OF leased_until ON public.message_delivery_log FOR EACH ROW WHEN (((new.channel = 'email'::text) AND (new.direction = 'outbound'::text) AND (new.status = 'queued'::text))) EXECUTE FUNCTION block_undeliverable_email();
CREATE TRIGGER message_delivery_log_fallback AFTER UPDATE OF status ON public.message_delivery_log FOR EACH ROW WHEN (((new.status = 'failed'::text) AND (old.status IS DISTINCT FROM 'failed'::text) AND (new.channel = 'whatsapp'::text) AND (new.direction = 'outbound'::text))) EXECUTE FUNCTION enqueue_fallback_on_failed_status();
CREATE TRIGGER message_delivery_log_guard_status BEFORE UPDATE ON public.message_delivery_log FOR EACH ROW WHEN (((NOT (new.updated_at IS DISTINCT FROM old.updated_at)) OR ((new.status IS DISTINCT FROM old.status) AND (NOT (((new.status = 'sent'::text) AND (old.status = ANY (ARRAY['queued'::text, 'unknown'::text])) AND (new.sent_at IS NOT NULL)) OR ((new.status = 'delivered'::text) AND (old.status = ANY (ARRAY['queued'::text, 'unknown'::text, 'sent'::text])) AND (new.delivered_at IS NOT NULL)) OR ((new.status = 'read'::text) AND (old.status = ANY (ARRAY['queued'::text, 'unknown'::text, 'sent'::text, 'delivered'::text])) AND (new.read_at IS NOT NULL))))))) EXECUTE FUNCTION message_delivery_log_guard_status();
CREATE TRIGGER message_delivery_log_reopen_conversation AFTER INSERT ON public.message_delivery_log FOR EACH ROW WHEN (((new.direction = 'inbound'::text) AND (new.session_id IS NOT NULL))) EXECUTE FUNCTION reopen_conversation_on_inbound();
CREATE TRIGGER message_delivery_log_stats_delete AFTER DELETE ON public.message_delivery_log REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION mark_message_stats_deleted();
CREATE TRIGGER message_delivery_log_stats_insert AFTER INSERT ON public.message_delivery_log FOR EACH ROW WHEN (((new.created_at < date_bin('01:00:00'::interval, now(), '2000-01-01 00:00:00+00'::timestamp with time zone)) OR ((new.session_id IS NOT NULL) AND (new.direction = 'outbound'::text) AND (new.purpose = ANY (ARRAY['ai_reply'::text, 'agent_reply'::text]))))) EXECUTE FUNCTION mark_message_stats_row();
CREATE TRIGGER message_delivery_log_stats_truncate AFTER TRUNCATE ON public.message_delivery_log FOR EACH STATEMENT EXECUTE FUNCTION truncate_message_stats();
CREATE TRIGGER message_delivery_log_stats_update AFTER UPDATE ON public.message_delivery_log FOR EACH ROW WHEN (((((old.created_at < date_bin('01:00:00'::interval, now(), '2000-01-01 00:00:00+00'::timestamp with time zone)) OR (new.created_at < date_bin('01:00:00'::interval, now(), '2000-01-01 00:00:00+00'::timestamp with time zone))) AND (((((old.channel IS DISTINCT FROM new.channel) OR (old.status IS DISTINCT FROM new.status)) OR (old.sent_at IS DISTINCT FROM new.sent_at)) OR (old.delivered_at IS DISTINCT FROM new.delivered_at)) OR (old.read_at IS DISTINCT FROM new.read_at))) OR ((((old.session_id IS DISTINCT FROM new.session_id) OR (old.direction IS DISTINCT FROM new.direction)) OR (old.purpose IS DISTINCT FROM new.purpose)) OR (old.created_at IS DISTINCT FROM new.created_at)))) EXECUTE FUNCTION mark_message_stats_row();
grant select on table public.message_delivery_log to authenticated;
grant delete, insert, select, update on table public.message_delivery_log to service_role;
comment on column public.message_delivery_log.purpose is 'Why the message was sent (post_call_summary, ai_reply, ...); with call_id it finds a call''s deliveries.';
comment on column public.message_delivery_log.leased_until is 'A sender holds a queued row until then; after it, the row may be claimed again (crash recovery).';
comment on column public.message_delivery_log.reply_state is 'Inbound rows only: whether the AI reply is owed (pending), being written (in_progress, leased_until), done or skipped.';
comment on column public.message_delivery_log.sender_key is 'The pacing bucket this message is sent through, e.g. whatsapp:<phone_number_id> or sms:mtn:<sender>.';
comment on column public.message_delivery_log.api_message_id is 'The API message (public.api_messages) this row is a step of; route_step is its index in the route.';
comment on column public.message_delivery_log.tenant_id is 'The tenant whose channel account received or sent the message (public.message_tenant).';

create table public.message_stats_daily (
  day timestamp with time zone not null,
  channel text not null,
  metric text not null,
  bucket double precision not null,
  n bigint not null,
  constraint message_stats_daily_pkey PRIMARY KEY (day, channel, metric, bucket)
);
alter table public.message_stats_daily enable row level security;
create policy omnichannel_service_role_delete on public.message_stats_daily as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.message_stats_daily as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.message_stats_daily as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.message_stats_daily as permissive for update to service_role using (true) with check (true);
grant delete, insert, select, truncate, update on table public.message_stats_daily to service_role;
comment on table public.message_stats_daily is 'The hourly rollup summed per UTC day; a day is read only when none of its hours is marked dirty.';

create table public.message_stats_dirty (
  hour timestamp with time zone not null,
  shard integer not null,
  marks bigint not null default 1,
  constraint message_stats_dirty_pkey PRIMARY KEY (hour, shard)
);
alter table public.message_stats_dirty enable row level security;
create policy omnichannel_service_role_delete on public.message_stats_dirty as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.message_stats_dirty as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.message_stats_dirty as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.message_stats_dirty as permissive for update to service_role using (true) with check (true);
grant delete, insert, select, truncate, update on table public.message_stats_dirty to service_role;
comment on table public.message_stats_dirty is 'Hours of the delivery log changed since they were last folded into the rollup (statement triggers).';

create table public.message_stats_hourly (
  hour timestamp with time zone not null,
  channel text not null,
  metric text not null,
  bucket double precision not null,
  n bigint not null,
  constraint message_stats_hourly_metric_check CHECK ((metric = ANY (ARRAY['outbound'::text, 'sent'::text, 'delivered'::text, 'read'::text, 'failed'::text, 'blocked'::text, 'to_delivered'::text, 'to_read'::text, 'first_response'::text]))),
  constraint message_stats_hourly_pkey PRIMARY KEY (hour, channel, metric, bucket)
);
alter table public.message_stats_hourly enable row level security;
create policy omnichannel_service_role_delete on public.message_stats_hourly as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.message_stats_hourly as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.message_stats_hourly as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.message_stats_hourly as permissive for update to service_role using (true) with check (true);
grant delete, insert, select, truncate, update on table public.message_stats_hourly to service_role;
comment on table public.message_stats_hourly is 'GET /messages/stats rollup per hour: counts and latency histograms (public.message_stats_from_log), folded by public.refresh_message_stats.';

create table public.message_stats_state (
  singleton boolean not null default true,
  folded_before timestamp with time zone not null,
  constraint message_stats_state_pkey PRIMARY KEY (singleton),
  constraint message_stats_state_singleton_check CHECK (singleton)
);
alter table public.message_stats_state enable row level security;
create policy omnichannel_service_role_delete on public.message_stats_state as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.message_stats_state as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.message_stats_state as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.message_stats_state as permissive for update to service_role using (true) with check (true);
grant delete, insert, select, update on table public.message_stats_state to service_role;
comment on table public.message_stats_state is 'The stats rollup''s watermark: hours before folded_before are folded (or marked dirty); later hours are read from the log.';

create table public.message_templates (
  id uuid not null default gen_random_uuid(),
  channel text not null,
  name text not null,
  locale text not null default 'en'::text,
  status text not null default 'approved'::text,
  category text,
  subject text,
  body_text text,
  body_html text,
  components jsonb not null default '[]'::jsonb,
  param_count integer not null default 0,
  provider_template_id text,
  synced_at timestamp with time zone,
  created_at timestamp with time zone not null default now(),
  updated_at timestamp with time zone not null default now(),
  constraint message_templates_channel_check CHECK ((channel = ANY (ARRAY['whatsapp'::text, 'sms'::text, 'messenger'::text, 'instagram'::text, 'email'::text]))),
  constraint message_templates_channel_name_locale_key UNIQUE (channel, name, locale),
  constraint message_templates_components_is_array CHECK ((jsonb_typeof(components) = 'array'::text)),
  constraint message_templates_name_not_blank CHECK ((length(btrim(name)) > 0)),
  constraint message_templates_param_count_check CHECK ((param_count >= 0)),
  constraint message_templates_pkey PRIMARY KEY (id),
  constraint message_templates_status_check CHECK ((status = ANY (ARRAY['approved'::text, 'pending'::text, 'rejected'::text, 'paused'::text, 'disabled'::text, 'in_appeal'::text, 'deleted'::text])))
);
alter table public.message_templates enable row level security;
create policy omnichannel_service_role_delete on public.message_templates as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.message_templates as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.message_templates as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.message_templates as permissive for update to service_role using (true) with check (true);
CREATE TRIGGER message_templates_set_updated_at BEFORE UPDATE ON public.message_templates FOR EACH ROW EXECUTE FUNCTION omnichannel_set_updated_at();
grant delete, insert, select, update on table public.message_templates to service_role;
comment on table public.message_templates is 'Message templates per channel and locale. status is Meta''s review status (lower case) for WhatsApp; local templates are approved.';

create table public.meta_profiles (
  channel text not null,
  external_id text not null,
  profile_id uuid not null,
  name text,
  username text,
  profile_pic text,
  fetched_at timestamp with time zone,
  fetch_started_at timestamp with time zone,
  created_at timestamp with time zone not null default now(),
  updated_at timestamp with time zone not null default now(),
  constraint meta_profiles_channel_check CHECK ((channel = ANY (ARRAY['messenger'::text, 'instagram'::text]))),
  constraint meta_profiles_pkey PRIMARY KEY (channel, external_id),
  constraint meta_profiles_profile_id_fkey FOREIGN KEY (profile_id) REFERENCES profiles(id) ON DELETE CASCADE
);
CREATE INDEX meta_profiles_profile_id_idx ON public.meta_profiles USING btree (profile_id);
alter table public.meta_profiles enable row level security;
create policy omnichannel_authenticated_select_own on public.meta_profiles as permissive for select to authenticated using ((EXISTS ( SELECT 1
   FROM profiles p
  WHERE ((p.id = meta_profiles.profile_id) AND (p.user_id = ( SELECT auth.uid() AS uid))))));
create policy omnichannel_service_role_delete on public.meta_profiles as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.meta_profiles as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.meta_profiles as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.meta_profiles as permissive for update to service_role using (true) with check (true);
CREATE TRIGGER meta_profiles_set_updated_at BEFORE UPDATE ON public.meta_profiles FOR EACH ROW EXECUTE FUNCTION omnichannel_set_updated_at();
grant select on table public.meta_profiles to authenticated;
grant delete, insert, select, update on table public.meta_profiles to service_role;
comment on table public.meta_profiles is 'Name, username and picture of a Messenger/Instagram person as Meta''s profile API gave them; refreshed at most daily (claim_meta_profile_refresh).';

create table public.notification_kinds (
  event text not null,
  description text not null,
  handler text not null default 'template'::text,
  template_name text,
  default_locale text not null default 'en'::text,
  channels jsonb not null default '"auto"'::jsonb,
  params text[] not null default '{}'::text[],
  enabled boolean not null default true,
  updated_at timestamp with time zone not null default now(),
  constraint notification_kinds_event_check CHECK ((event ~ '^[a-z0-9_]+(\.[a-z0-9_]+)*$'::text)),
  constraint notification_kinds_handler_check CHECK ((handler = ANY (ARRAY['template'::text, 'post_call'::text]))),
  constraint notification_kinds_pkey PRIMARY KEY (event),
  constraint notification_kinds_template CHECK (((handler <> 'template'::text) OR (template_name IS NOT NULL)))
);
alter table public.notification_kinds enable row level security;
create policy omnichannel_service_role_delete on public.notification_kinds as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.notification_kinds as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.notification_kinds as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.notification_kinds as permissive for update to service_role using (true) with check (true);
CREATE TRIGGER notification_kinds_set_updated_at BEFORE UPDATE ON public.notification_kinds FOR EACH ROW EXECUTE FUNCTION omnichannel_set_updated_at();
grant delete, insert, select, update on table public.notification_kinds to service_role;

create table public.oauth_tokens (
  token_key text not null,
  secret_id uuid,
  expires_at timestamp with time zone,
  refreshing_until timestamp with time zone,
  refreshes bigint not null default 0,
  updated_at timestamp with time zone not null default now(),
  constraint oauth_tokens_pkey PRIMARY KEY (token_key)
);
alter table public.oauth_tokens enable row level security;
create policy omnichannel_service_role_delete on public.oauth_tokens as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.oauth_tokens as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.oauth_tokens as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.oauth_tokens as permissive for update to service_role using (true) with check (true);
grant delete, insert, select, update on table public.oauth_tokens to service_role;
comment on table public.oauth_tokens is 'Cached OAuth access tokens (in Vault, secret_id) shared by every isolate; one refresh at a time per key.';

create table public.omnichannel_sessions (
  id uuid not null default gen_random_uuid(),
  profile_id uuid not null,
  status text not null default 'active'::text,
  context jsonb not null default '{}'::jsonb,
  channels_seen text[] not null default '{}'::text[],
  last_channel text,
  call_id text,
  whatsapp_summary_sent boolean not null default false,
  whatsapp_summary_sent_at timestamp with time zone,
  sms_summary_sent boolean not null default false,
  sms_summary_sent_at timestamp with time zone,
  expires_at timestamp with time zone not null default (now() + '24:00:00'::interval),
  last_activity_at timestamp with time zone not null default now(),
  created_at timestamp with time zone not null default now(),
  updated_at timestamp with time zone not null default now(),
  closed_at timestamp with time zone,
  conversation_status text not null default 'open'::text,
  assignee text,
  priority text not null default 'normal'::text,
  tags text[] not null default '{}'::text[],
  assigned_at timestamp with time zone,
  resolved_at timestamp with time zone,
  archived_at timestamp with time zone,
  tenant_id uuid,
  constraint omnichannel_sessions_context_is_object CHECK ((jsonb_typeof(context) = 'object'::text)),
  constraint omnichannel_sessions_conversation_status_check CHECK ((conversation_status = ANY (ARRAY['open'::text, 'assigned'::text, 'resolved'::text, 'archived'::text]))),
  constraint omnichannel_sessions_last_channel_check CHECK ((last_channel = ANY (ARRAY['voice'::text, 'whatsapp'::text, 'sms'::text, 'messenger'::text, 'instagram'::text, 'email'::text]))),
  constraint omnichannel_sessions_pkey PRIMARY KEY (id),
  constraint omnichannel_sessions_priority_check CHECK ((priority = ANY (ARRAY['low'::text, 'normal'::text, 'high'::text, 'urgent'::text]))),
  constraint omnichannel_sessions_profile_id_fkey FOREIGN KEY (profile_id) REFERENCES profiles(id) ON DELETE CASCADE,
  constraint omnichannel_sessions_status_check CHECK ((status = ANY (ARRAY['active'::text, 'closed'::text, 'follow_up'::text]))),
  constraint omnichannel_sessions_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE RESTRICT
);
CREATE INDEX omnichannel_sessions_call_id_idx ON public.omnichannel_sessions USING btree (call_id) WHERE (call_id IS NOT NULL);
CREATE INDEX omnichannel_sessions_conversation_status_idx ON public.omnichannel_sessions USING btree (conversation_status, last_activity_at DESC) WHERE (conversation_status <> 'archived'::text);
CREATE INDEX omnichannel_sessions_inbox_idx ON public.omnichannel_sessions USING btree (last_activity_at DESC, id DESC) WHERE (conversation_status <> 'archived'::text);
CREATE INDEX omnichannel_sessions_live_expires_at_idx ON public.omnichannel_sessions USING btree (expires_at) WHERE (status <> 'closed'::text);
CREATE UNIQUE INDEX omnichannel_sessions_one_live_per_profile ON public.omnichannel_sessions USING btree (profile_id) WHERE (status <> 'closed'::text);
CREATE INDEX omnichannel_sessions_profile_id_idx ON public.omnichannel_sessions USING btree (profile_id);
CREATE INDEX omnichannel_sessions_status_expires_at_idx ON public.omnichannel_sessions USING btree (status, expires_at);
CREATE INDEX omnichannel_sessions_tenant_activity_idx ON public.omnichannel_sessions USING btree (tenant_id, last_activity_at DESC);
alter table public.omnichannel_sessions enable row level security;
create policy omnichannel_authenticated_select_own on public.omnichannel_sessions as permissive for select to authenticated using ((EXISTS ( SELECT 1
   FROM profiles p
  WHERE ((p.id = omnichannel_sessions.profile_id) AND (p.user_id = ( SELECT auth.uid() AS uid))))));
create policy omnichannel_service_role_delete on public.omnichannel_sessions as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.omnichannel_sessions as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.omnichannel_sessions as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.omnichannel_sessions as permissive for update to service_role using (true) with check (true);
create policy tenant_members_select on public.omnichannel_sessions as permissive for select to authenticated using ((tenant_id = ( SELECT
        CASE
            WHEN (((auth.jwt() -> 'app_metadata'::text) ->> 'tenant_id'::text) ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'::text) THEN (((auth.jwt() -> 'app_metadata'::text) ->> 'tenant_id'::text))::uuid
            ELSE NULL::uuid
        END AS "case")));
CREATE TRIGGER omnichannel_sessions_close_handoff AFTER UPDATE OF status, conversation_status ON public.omnichannel_sessions FOR EACH ROW WHEN ((((new.status = 'closed'::text) AND (old.status <> 'closed'::text)) OR ((new.conversation_status = 'resolved'::text) AND (old.conversation_status <> 'resolved'::text)))) EXECUTE FUNCTION close_handoff_on_session_end();
CREATE TRIGGER omnichannel_sessions_set_updated_at BEFORE UPDATE ON public.omnichannel_sessions FOR EACH ROW EXECUTE FUNCTION omnichannel_set_updated_at();
grant select on table public.omnichannel_sessions to authenticated;
grant delete, insert, select, update on table public.omnichannel_sessions to service_role;
comment on column public.omnichannel_sessions.conversation_status is 'The human agents'' view of the session: open, assigned, resolved, archived (public.run_conversation_sla).';
comment on column public.omnichannel_sessions.tenant_id is 'The tenant of the session''s first message (public.message_tenant); null until one is written.';

create table public.profile_identities (
  kind text not null,
  value text not null,
  profile_id uuid not null,
  created_at timestamp with time zone not null default now(),
  constraint profile_identities_email_lower CHECK (((kind <> 'email'::text) OR (value = lower(value)))),
  constraint profile_identities_kind_check CHECK ((kind = ANY (ARRAY['messenger'::text, 'instagram'::text, 'email'::text]))),
  constraint profile_identities_pkey PRIMARY KEY (kind, value),
  constraint profile_identities_profile_id_fkey FOREIGN KEY (profile_id) REFERENCES profiles(id) ON DELETE CASCADE,
  constraint profile_identities_value_not_blank CHECK (((length(btrim(value)) > 0) AND (length(value) <= 320)))
);
CREATE INDEX profile_identities_profile_id_idx ON public.profile_identities USING btree (profile_id);
alter table public.profile_identities enable row level security;
create policy omnichannel_authenticated_select_own on public.profile_identities as permissive for select to authenticated using ((EXISTS ( SELECT 1
   FROM profiles p
  WHERE ((p.id = profile_identities.profile_id) AND (p.user_id = ( SELECT auth.uid() AS uid))))));
create policy omnichannel_service_role_delete on public.profile_identities as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.profile_identities as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.profile_identities as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.profile_identities as permissive for update to service_role using (true) with check (true);
grant select on table public.profile_identities to authenticated;
grant delete, insert, select, update on table public.profile_identities to service_role;
comment on table public.profile_identities is 'Identities of a person other than the phone number (profiles.phone_number): Messenger PSID, Instagram IGSID, email address (lower case).';

create table public.profiles (
  id uuid not null default gen_random_uuid(),
  user_id uuid,
  phone_number text,
  whatsapp_jid text,
  has_whatsapp boolean,
  allows_sms boolean not null default true,
  display_name text,
  last_active_channel text,
  created_at timestamp with time zone not null default now(),
  updated_at timestamp with time zone not null default now(),
  allows_whatsapp boolean not null default true,
  merged_into uuid,
  merged_at timestamp with time zone,
  allows_email boolean not null default true,
  constraint profiles_last_active_channel_check CHECK ((last_active_channel = ANY (ARRAY['voice'::text, 'whatsapp'::text, 'sms'::text, 'messenger'::text, 'instagram'::text, 'email'::text]))) NOT VALID,
  constraint profiles_merged_into_fkey FOREIGN KEY (merged_into) REFERENCES profiles(id) ON DELETE SET NULL,
  constraint profiles_phone_number_e164 CHECK ((phone_number ~ '^\+[1-9][0-9]{6,14}$'::text)) NOT VALID,
  constraint profiles_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX profiles_phone_number_key ON public.profiles USING btree (phone_number);
CREATE INDEX profiles_user_id_idx ON public.profiles USING btree (user_id) WHERE (user_id IS NOT NULL);
alter table public.profiles enable row level security;
create policy omnichannel_authenticated_select_own on public.profiles as permissive for select to authenticated using ((user_id = ( SELECT auth.uid() AS uid)));
create policy omnichannel_service_role_delete on public.profiles as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.profiles as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.profiles as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.profiles as permissive for update to service_role using (true) with check (true);
create policy tenant_members_select on public.profiles as permissive for select to authenticated using ((EXISTS ( SELECT 1
   FROM tenant_profiles tp
  WHERE (tp.profile_id = profiles.id))));
CREATE TRIGGER profiles_set_updated_at BEFORE UPDATE ON public.profiles FOR EACH ROW EXECUTE FUNCTION omnichannel_set_updated_at();
grant select on table public.profiles to authenticated;
grant delete, insert, select, update on table public.profiles to service_role;
comment on column public.profiles.allows_whatsapp is 'False after the person wrote STOP on WhatsApp: nothing is sent to them there until START.';
comment on column public.profiles.merged_into is 'Set when this profile was merged into another one (the same person): it then holds no identity and no live session.';
comment on column public.profiles.allows_email is 'False after the person complained about an email or unsubscribed (List-Unsubscribe): no email is sent to them.';

create table public.scheduled_jobs (
  name text not null,
  schedule text not null,
  command text not null,
  constraint scheduled_jobs_pkey PRIMARY KEY (name)
);
alter table public.scheduled_jobs enable row level security;
create policy omnichannel_service_role_delete on public.scheduled_jobs as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.scheduled_jobs as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.scheduled_jobs as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.scheduled_jobs as permissive for update to service_role using (true) with check (true);
grant delete, insert, select, update on table public.scheduled_jobs to service_role;

create table public.sender_rate_limits (
  sender_key text not null,
  rate_per_second double precision not null,
  burst double precision not null,
  tokens double precision not null,
  refilled_at timestamp with time zone not null default now(),
  slowed_until timestamp with time zone,
  updated_at timestamp with time zone not null default now(),
  constraint sender_rate_limits_burst_check CHECK ((burst >= (1)::double precision)),
  constraint sender_rate_limits_pkey PRIMARY KEY (sender_key),
  constraint sender_rate_limits_rate_per_second_check CHECK ((rate_per_second > (0)::double precision))
);
alter table public.sender_rate_limits enable row level security;
create policy sender_rate_limits_service_delete on public.sender_rate_limits as permissive for delete to service_role using (true);
create policy sender_rate_limits_service_insert on public.sender_rate_limits as permissive for insert to service_role with check (true);
create policy sender_rate_limits_service_select on public.sender_rate_limits as permissive for select to service_role using (true);
create policy sender_rate_limits_service_update on public.sender_rate_limits as permissive for update to service_role using (true) with check (true);
grant delete, insert, select, update on table public.sender_rate_limits to service_role;
comment on table public.sender_rate_limits is 'Token bucket per sender (WhatsApp phone number id, SMS sender). Defaults: 80/s for WhatsApp, set per SMS sender with set_sender_rate.';

create table public.status_inbox (
  id bigint not null,
  channel text not null,
  provider_message_id text not null,
  status text not null,
  payload jsonb not null,
  received_at timestamp with time zone not null default now(),
  processed_at timestamp with time zone,
  attempts integer not null default 0,
  last_error text,
  constraint status_inbox_key UNIQUE (channel, provider_message_id, status),
  constraint status_inbox_pkey PRIMARY KEY (id),
  constraint status_inbox_provider_message_id_check CHECK ((length(provider_message_id) > 0))
);
CREATE INDEX status_inbox_owed_idx ON public.status_inbox USING btree (id) WHERE (processed_at IS NULL);
alter table public.status_inbox enable row level security;
create policy status_inbox_service_delete on public.status_inbox as permissive for delete to service_role using (true);
create policy status_inbox_service_insert on public.status_inbox as permissive for insert to service_role with check (true);
create policy status_inbox_service_select on public.status_inbox as permissive for select to service_role using (true);
create policy status_inbox_service_update on public.status_inbox as permissive for update to service_role using (true) with check (true);
grant delete, insert, select, update on table public.status_inbox to service_role;
comment on table public.status_inbox is 'Delivery status callbacks accepted by the webhooks (unique per message and status), owed to the worker that applies them (public.process_status_inbox) while processed_at is null.';

create table public.tenant_profiles (
  tenant_id uuid not null,
  profile_id uuid not null,
  created_at timestamp with time zone not null default now(),
  constraint tenant_profiles_pkey PRIMARY KEY (tenant_id, profile_id),
  constraint tenant_profiles_profile_id_fkey FOREIGN KEY (profile_id) REFERENCES profiles(id) ON DELETE CASCADE,
  constraint tenant_profiles_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants(id) ON DELETE CASCADE
);
CREATE INDEX tenant_profiles_profile_id_idx ON public.tenant_profiles USING btree (profile_id);
alter table public.tenant_profiles enable row level security;
create policy omnichannel_service_role_delete on public.tenant_profiles as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.tenant_profiles as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.tenant_profiles as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.tenant_profiles as permissive for update to service_role using (true) with check (true);
create policy tenant_members_select on public.tenant_profiles as permissive for select to authenticated using ((tenant_id = ( SELECT
        CASE
            WHEN (((auth.jwt() -> 'app_metadata'::text) ->> 'tenant_id'::text) ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'::text) THEN (((auth.jwt() -> 'app_metadata'::text) ->> 'tenant_id'::text))::uuid
            ELSE NULL::uuid
        END AS "case")));
grant select on table public.tenant_profiles to authenticated;
grant delete, insert, select, update on table public.tenant_profiles to service_role;
comment on table public.tenant_profiles is 'A person (profile) and a tenant they exchanged a message with; kept by public.message_tenant.';

create table public.tenants (
  id uuid not null default gen_random_uuid(),
  slug text not null,
  name text not null,
  created_at timestamp with time zone not null default now(),
  updated_at timestamp with time zone not null default now(),
  constraint tenants_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
  constraint tenants_pkey PRIMARY KEY (id),
  constraint tenants_slug_check CHECK ((slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'::text)),
  constraint tenants_slug_key UNIQUE (slug)
);
alter table public.tenants enable row level security;
create policy omnichannel_service_role_delete on public.tenants as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.tenants as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.tenants as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.tenants as permissive for update to service_role using (true) with check (true);
CREATE TRIGGER tenants_set_updated_at BEFORE UPDATE ON public.tenants FOR EACH ROW EXECUTE FUNCTION omnichannel_set_updated_at();
grant delete, insert, select, update on table public.tenants to service_role;
comment on table public.tenants is 'An organisation using the stack. The default tenant (slug default) owns the env-configured providers.';

create table public.webhook_archive (
  id bigint not null,
  direction text not null,
  source text not null,
  received_at timestamp with time zone not null default now(),
  correlation_id text,
  content_type text,
  headers jsonb not null default '{}'::jsonb,
  body text not null,
  response_status integer,
  replay_count integer not null default 0,
  last_replayed_at timestamp with time zone,
  last_replay_status integer,
  constraint webhook_archive_direction_check CHECK ((direction = ANY (ARRAY['inbound'::text, 'outbound'::text]))),
  constraint webhook_archive_pkey PRIMARY KEY (id),
  constraint webhook_archive_source_check CHECK (((length(source) >= 1) AND (length(source) <= 64)))
);
CREATE INDEX webhook_archive_received_idx ON public.webhook_archive USING btree (received_at);
CREATE INDEX webhook_archive_source_idx ON public.webhook_archive USING btree (source, received_at DESC);
alter table public.webhook_archive enable row level security;
create policy omnichannel_service_role_delete on public.webhook_archive as permissive for delete to service_role using (true);
create policy omnichannel_service_role_insert on public.webhook_archive as permissive for insert to service_role with check (true);
create policy omnichannel_service_role_select on public.webhook_archive as permissive for select to service_role using (true);
create policy omnichannel_service_role_update on public.webhook_archive as permissive for update to service_role using (true) with check (true);
grant delete, insert, select, update on table public.webhook_archive to service_role;
comment on table public.webhook_archive is 'Raw webhook bodies after their signature check, and bodies posted to Genesys; kept 14 days.';

create table public.webhook_event_ids (
  source text not null,
  event_id text not null,
  received_at timestamp with time zone not null default now(),
  constraint webhook_event_ids_pkey PRIMARY KEY (source, event_id)
);
CREATE INDEX webhook_event_ids_received_at_idx ON public.webhook_event_ids USING btree (received_at);
alter table public.webhook_event_ids enable row level security;
create policy webhook_event_ids_service_delete on public.webhook_event_ids as permissive for delete to service_role using (true);
create policy webhook_event_ids_service_insert on public.webhook_event_ids as permissive for insert to service_role with check (true);
create policy webhook_event_ids_service_select on public.webhook_event_ids as permissive for select to service_role using (true);
create policy webhook_event_ids_service_update on public.webhook_event_ids as permissive for update to service_role using (true) with check (true);
grant delete, insert, select, update on table public.webhook_event_ids to service_role;
comment on table public.webhook_event_ids is 'Signed webhook message ids (svix-id) already handled, kept one day: a replay is refused.';

CREATE OR REPLACE FUNCTION public.accept_api_message(p_caller text, p_idempotency_key text, p_request_hash text, p_profile_id uuid, p_route jsonb, p_response jsonb, p_send_at timestamp with time zone DEFAULT NULL::timestamp with time zone, p_metadata jsonb DEFAULT '{}'::jsonb, p_correlation_id text DEFAULT NULL::text)
 RETURNS TABLE(message_id uuid, is_new boolean, response jsonb, delivery_id uuid, delivery_status text, delivery_step integer)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_msg public.api_messages%rowtype;
  v_now boolean := p_send_at is null or p_send_at <= now();
begin
  insert into public.api_messages as a (
    caller, idempotency_key, request_hash, profile_id, route, send_at, metadata, correlation_id, response
  ) values (
    p_caller, p_idempotency_key, p_request_hash, p_profile_id, p_route,
    case when v_now then null else p_send_at end, coalesce(p_metadata, '{}'::jsonb), p_correlation_id,
    '{}'::jsonb
  )
  on conflict (caller, idempotency_key) do nothing
  returning * into v_msg;

  if v_msg.id is null then
    select * into v_msg from public.api_messages a
    where a.caller = p_caller and a.idempotency_key = p_idempotency_key;
    if v_msg.request_hash <> p_request_hash then
      raise exception 'idempotency key % was used with another request', p_idempotency_key
        using errcode = 'OM409', hint = 'IDEMPOTENCY.KEY_REUSED';
    end if;
    message_id := v_msg.id;
    is_new := false;
    response := v_msg.response;
    return next;
    return;
  end if;

  delivery_id := public.advance_api_message(v_msg.id, -1, v_now);
  select m.status, m.route_step into delivery_status, delivery_step
  from public.message_delivery_log m where m.id = delivery_id;
  response := p_response || jsonb_build_object('id', v_msg.id);
  update public.api_messages a set response = accept_api_message.response where a.id = v_msg.id;
  message_id := v_msg.id;
  is_new := true;
  return next;
end;
$function$;
grant execute on function public.accept_api_message(p_caller text, p_idempotency_key text, p_request_hash text, p_profile_id uuid, p_route jsonb, p_response jsonb, p_send_at timestamp with time zone, p_metadata jsonb, p_correlation_id text) to service_role;

CREATE OR REPLACE FUNCTION public.accept_delivery_statuses(p_updates jsonb)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_new integer;
begin
  if jsonb_typeof(p_updates) is distinct from 'array' then
    raise exception 'p_updates must be a JSON array' using errcode = '22023';
  end if;
  if exists (
    select 1 from jsonb_array_elements(p_updates) as e(u)
    where coalesce(e.u ->> 'channel', '') = '' or coalesce(e.u ->> 'provider_message_id', '') = ''
       or coalesce(e.u ->> 'status', '') = ''
  ) then
    raise exception 'channel, provider_message_id and status are required' using errcode = '22023';
  end if;
  insert into public.status_inbox as s (channel, provider_message_id, status, payload)
  select e.u ->> 'channel', e.u ->> 'provider_message_id', e.u ->> 'status', e.u
  from jsonb_array_elements(p_updates) with ordinality as e(u, n)
  order by e.n
  on conflict (channel, provider_message_id, status) do nothing;
  get diagnostics v_new = row_count;
  return v_new;
end;
$function$;
grant execute on function public.accept_delivery_statuses(p_updates jsonb) to service_role;

CREATE OR REPLACE FUNCTION public.accept_inbound_messages(p_messages jsonb)
 RETURNS TABLE(ordinal bigint, inbox_id bigint, is_new boolean)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  if jsonb_typeof(p_messages) is distinct from 'array' then
    raise exception 'p_messages must be a JSON array' using errcode = '22023';
  end if;
  if exists (
    select 1 from jsonb_array_elements(p_messages) as e(m)
    where coalesce(e.m ->> 'channel', '') = '' or coalesce(e.m ->> 'sender', '') = ''
       or coalesce(e.m ->> 'provider_message_id', '') = ''
  ) then
    raise exception 'channel, sender and provider_message_id are required' using errcode = '22023';
  end if;
  return query
    with e as (
      select x.m, x.n from jsonb_array_elements(p_messages) with ordinality as x(m, n)
    ),
    ins as (
      insert into public.inbound_inbox as i (channel, provider_message_id, sender, sender_kind, message)
      select e.m ->> 'channel', e.m ->> 'provider_message_id', e.m ->> 'sender',
             coalesce(e.m ->> 'sender_kind', 'phone'), e.m
      from e order by e.n
      on conflict (channel, provider_message_id) do nothing
      returning i.id, i.channel, i.provider_message_id
    ),
    firsts as (
      select e.n, e.m ->> 'channel' as channel, e.m ->> 'provider_message_id' as pid,
             e.n = min(e.n) over (partition by e.m ->> 'channel', e.m ->> 'provider_message_id') as first
      from e
    )
    -- A message accepted before is found by its key, one index probe each.
    select f.n,
           coalesce(ins.id, (select old.id from public.inbound_inbox old
                             where old.channel = f.channel and old.provider_message_id = f.pid)),
           ins.id is not null and f.first
    from firsts f
    left join ins on ins.channel = f.channel and ins.provider_message_id = f.pid
    order by f.n;
end;
$function$;
grant execute on function public.accept_inbound_messages(p_messages jsonb) to service_role;

CREATE OR REPLACE FUNCTION public.advance_api_message(p_message_id uuid, p_after_step integer, p_lease boolean DEFAULT false)
 RETURNS uuid
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_msg public.api_messages%rowtype;
  v_step integer := p_after_step + 1;
  v_route jsonb;
  v_session_id uuid;
  v_id uuid;
  v_status text;
begin
  select * into v_msg from public.api_messages a where a.id = p_message_id for update;
  if not found then
    return null;
  end if;
  if exists (select 1 from public.message_delivery_log m
             where m.api_message_id = p_message_id and m.route_step >= v_step) then
    return null;
  end if;
  select s.id into v_session_id from public.omnichannel_sessions s
  where s.profile_id = v_msg.profile_id and s.status <> 'closed' and s.expires_at > now();

  while v_step < jsonb_array_length(v_msg.route) loop
    v_route := v_msg.route -> v_step;
    insert into public.message_delivery_log as m (
      session_id, profile_id, channel, direction, message_type, status, recipient, body, metadata,
      correlation_id, purpose, idempotency_key, attempts, leased_until, next_attempt_at,
      api_message_id, route_step, fallback_of
    ) values (
      v_session_id, v_msg.profile_id, v_route ->> 'channel', 'outbound',
      coalesce(v_route ->> 'message_type', 'text'), 'queued', v_route ->> 'recipient',
      v_route ->> 'body',
      coalesce(v_route -> 'metadata', '{}'::jsonb) || jsonb_build_object('api_message_id', v_msg.id),
      v_msg.correlation_id, 'api',
      'api:' || v_msg.id || ':' || v_step,
      case when p_lease then 1 else 0 end,
      case when p_lease then now() + interval '2 minutes' end,
      case when not p_lease then greatest(coalesce(v_msg.send_at, now()), now()) end,
      v_msg.id, v_step,
      (select f.id from public.message_delivery_log f
       where f.api_message_id = v_msg.id and f.route_step = v_step - 1)
    )
    on conflict (idempotency_key) do nothing
    returning m.id, m.status into v_id, v_status;
    if v_id is null then
      return null;
    end if;
    if v_status <> 'blocked' then
      return v_id;
    end if;
    v_step := v_step + 1;
  end loop;
  return null;
end;
$function$;
grant execute on function public.advance_api_message(p_message_id uuid, p_after_step integer, p_lease boolean) to service_role;

CREATE OR REPLACE FUNCTION public.advance_api_message_on_failure()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  perform public.advance_api_message(new.api_message_id, new.route_step, false);
  return null;
end;
$function$;

CREATE OR REPLACE FUNCTION public.api_message_recipient(p_profile_id uuid DEFAULT NULL::uuid, p_kind text DEFAULT NULL::text, p_value text DEFAULT NULL::text)
 RETURNS TABLE(profile_id uuid, phone_number text, email text, messenger_psid text, instagram_igsid text, has_whatsapp boolean, allows_whatsapp boolean, allows_sms boolean, last_active_channel text, whatsapp_window_open boolean)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
#variable_conflict use_column
declare
  v_id uuid;
  v_profile public.profiles%rowtype;
begin
  v_id := case when p_profile_id is not null then public.profile_survivor(p_profile_id)
               else public.resolve_profile(p_kind, p_value) end;
  select * into v_profile from public.profiles p where p.id = v_id;
  if v_profile.id is null then
    return;
  end if;
  profile_id := v_profile.id;
  phone_number := v_profile.phone_number;
  email := public.profile_identity(v_profile.id, 'email');
  messenger_psid := public.profile_identity(v_profile.id, 'messenger');
  instagram_igsid := public.profile_identity(v_profile.id, 'instagram');
  has_whatsapp := v_profile.has_whatsapp;
  allows_whatsapp := v_profile.allows_whatsapp;
  allows_sms := v_profile.allows_sms;
  last_active_channel := v_profile.last_active_channel;
  whatsapp_window_open := public.whatsapp_window_open(v_profile.id);
  return next;
end;
$function$;
grant execute on function public.api_message_recipient(p_profile_id uuid, p_kind text, p_value text) to service_role;

CREATE OR REPLACE FUNCTION public.apply_meta_receipt(p_channel text, p_person text, p_status text, p_watermark_ms bigint, p_mids text[] DEFAULT '{}'::text[])
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_at timestamptz := to_timestamp(p_watermark_ms / 1000.0);
  v_moved integer;
begin
  if p_status not in ('delivered', 'read') then
    raise exception 'a Meta receipt is delivered or read, not %', p_status using errcode = '22023';
  end if;
  perform 1 from public.profiles p
  where p.id in (select m.profile_id from public.message_delivery_log m
                 where m.channel = p_channel and m.direction = 'outbound' and m.recipient = p_person)
  order by p.id
  for update;
  with moved as (
    update public.message_delivery_log m
    set status = p_status,
        metadata = m.metadata || jsonb_build_object(p_channel || '_' || p_status || '_watermark', p_watermark_ms)
    where m.channel = p_channel and m.direction = 'outbound' and m.recipient = p_person
      and m.status in ('sent', 'delivered')
      and (p_status = 'read' or m.status = 'sent')
      and (m.sent_at <= v_at or m.provider_message_id = any (coalesce(p_mids, '{}')))
    returning 1
  )
  select count(*) into v_moved from moved;
  return v_moved;
end;
$function$;
grant execute on function public.apply_meta_receipt(p_channel text, p_person text, p_status text, p_watermark_ms bigint, p_mids text[]) to service_role;

CREATE OR REPLACE FUNCTION public.archive_webhooks(p_rows jsonb)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  insert into public.webhook_archive (direction, source, correlation_id, content_type, headers, body)
  select coalesce(r ->> 'direction', 'inbound'), r ->> 'source', r ->> 'correlation_id',
         r ->> 'content_type', coalesce(r -> 'headers', '{}'::jsonb), r ->> 'body'
  from jsonb_array_elements(p_rows) r;
end;
$function$;
grant execute on function public.archive_webhooks(p_rows jsonb) to service_role;

CREATE OR REPLACE FUNCTION public.begin_email_message(p_to text, p_body text, p_metadata jsonb DEFAULT '{}'::jsonb, p_session_id uuid DEFAULT NULL::uuid, p_purpose text DEFAULT NULL::text, p_correlation_id text DEFAULT NULL::text, p_idempotency_key text DEFAULT NULL::text)
 RETURNS TABLE(delivery_id uuid, session_id uuid, profile_id uuid, status text, is_new boolean, recipient text, error_code text, error_message text)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_to text := lower(btrim(p_to));
  v_profile_id uuid;
  v_session_id uuid := p_session_id;
  v_row public.message_delivery_log%rowtype;
  v_existing boolean := false;
begin
  if jsonb_typeof(coalesce(p_metadata, '{}'::jsonb)) <> 'object' then
    raise exception 'p_metadata must be a JSON object' using errcode = '22023';
  end if;
  v_profile_id := public.resolve_profile('email', v_to, 'email');

  if v_session_id is null then
    select s.id into v_session_id from public.omnichannel_sessions s
    where s.profile_id = v_profile_id and s.status <> 'closed' and s.expires_at > now();
  elsif not exists (select 1 from public.omnichannel_sessions s
                    where s.id = v_session_id and s.profile_id = v_profile_id) then
    raise exception 'session % does not belong to the recipient', v_session_id
      using errcode = 'OM403', hint = 'SESSION.NOT_RECIPIENT';
  end if;

  if p_idempotency_key is not null then
    select * into v_row from public.message_delivery_log m where m.idempotency_key = p_idempotency_key;
    v_existing := found;
  end if;

  if not v_existing then
    insert into public.message_delivery_log as m (
      session_id, profile_id, channel, direction, message_type, status, recipient, body, metadata,
      correlation_id, purpose, idempotency_key, attempts, leased_until
    ) values (
      v_session_id, v_profile_id, 'email', 'outbound', 'email', 'queued', v_to, p_body,
      coalesce(p_metadata, '{}'::jsonb), p_correlation_id, p_purpose, p_idempotency_key, 1,
      now() + interval '2 minutes'
    )
    on conflict (idempotency_key) do nothing
    returning * into v_row;
    if v_row.id is null then
      select * into v_row from public.message_delivery_log m where m.idempotency_key = p_idempotency_key;
      v_existing := true;
    end if;
  end if;

  delivery_id := v_row.id;
  session_id := v_row.session_id;
  profile_id := v_row.profile_id;
  status := v_row.status;
  is_new := not v_existing;
  recipient := v_row.recipient;
  error_code := v_row.error_code;
  error_message := v_row.error_message;
  return next;
end;
$function$;
grant execute on function public.begin_email_message(p_to text, p_body text, p_metadata jsonb, p_session_id uuid, p_purpose text, p_correlation_id text, p_idempotency_key text) to service_role;

CREATE OR REPLACE FUNCTION public.begin_meta_outbound_message(p_channel text, p_recipient text, p_body text, p_session_id uuid DEFAULT NULL::uuid, p_purpose text DEFAULT NULL::text, p_correlation_id text DEFAULT NULL::text, p_idempotency_key text DEFAULT NULL::text, p_message_type text DEFAULT 'text'::text, p_metadata jsonb DEFAULT '{}'::jsonb)
 RETURNS TABLE(delivery_id uuid, session_id uuid, profile_id uuid, status text, is_new boolean, last_inbound_at timestamp with time zone)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_profile public.profiles%rowtype;
  v_session_id uuid := p_session_id;
  v_row public.message_delivery_log%rowtype;
  v_existing boolean := false;
  v_last timestamptz;
  v_metadata jsonb;
begin
  if p_channel not in ('messenger', 'instagram') then
    raise exception 'begin_meta_outbound_message is for messenger or instagram, not %', p_channel
      using errcode = '22023';
  end if;
  select * into v_profile from public.profiles p
  where p.id = public.resolve_profile(p_channel, p_recipient, p_channel);

  if v_session_id is null then
    select s.id into v_session_id from public.omnichannel_sessions s
    where s.profile_id = v_profile.id and s.status <> 'closed' and s.expires_at > now();
  elsif not exists (select 1 from public.omnichannel_sessions s
                    where s.id = v_session_id and s.profile_id = v_profile.id) then
    raise exception 'session % does not belong to the recipient', v_session_id
      using errcode = 'OM403', hint = 'SESSION.NOT_RECIPIENT';
  end if;

  select max(m.created_at) into v_last from public.message_delivery_log m
  where m.channel = p_channel and m.direction = 'inbound' and m.sender = p_recipient;

  if p_idempotency_key is not null then
    select * into v_row from public.message_delivery_log m where m.idempotency_key = p_idempotency_key;
    v_existing := found;
  end if;

  if not v_existing then
    v_metadata := coalesce(p_metadata, '{}'::jsonb)
      || jsonb_build_object('last_inbound_at', v_last)
      || case when v_profile.phone_number is not null and v_profile.allows_sms
                   and p_message_type = 'text' and p_body is not null
              then jsonb_build_object('fallback', jsonb_build_object('channel', 'sms', 'body', p_body))
              else '{}'::jsonb end;
    insert into public.message_delivery_log as m (
      session_id, profile_id, channel, direction, message_type, status, recipient, body,
      metadata, correlation_id, purpose, idempotency_key, attempts, leased_until
    ) values (
      v_session_id, v_profile.id, p_channel, 'outbound', p_message_type, 'queued',
      p_recipient, p_body, v_metadata, p_correlation_id, p_purpose, p_idempotency_key, 1,
      now() + interval '2 minutes'
    )
    on conflict (idempotency_key) do nothing
    returning * into v_row;
    if v_row.id is null then
      select * into v_row from public.message_delivery_log m where m.idempotency_key = p_idempotency_key;
      v_existing := true;
    end if;
  end if;

  delivery_id := v_row.id;
  session_id := v_row.session_id;
  profile_id := v_row.profile_id;
  status := v_row.status;
  is_new := not v_existing;
  last_inbound_at := v_last;
  return next;
end;
$function$;
grant execute on function public.begin_meta_outbound_message(p_channel text, p_recipient text, p_body text, p_session_id uuid, p_purpose text, p_correlation_id text, p_idempotency_key text, p_message_type text, p_metadata jsonb) to service_role;

CREATE OR REPLACE FUNCTION public.begin_outbound_message(p_channel text, p_recipient text, p_body text, p_session_id uuid DEFAULT NULL::uuid, p_purpose text DEFAULT NULL::text, p_correlation_id text DEFAULT NULL::text, p_idempotency_key text DEFAULT NULL::text, p_message_type text DEFAULT 'text'::text, p_metadata jsonb DEFAULT '{}'::jsonb, p_tokens jsonb DEFAULT '[]'::jsonb, p_completes_inbound uuid DEFAULT NULL::uuid)
 RETURNS TABLE(delivery_id uuid, session_id uuid, profile_id uuid, status text, whatsapp_window_open boolean, has_whatsapp boolean, is_new boolean, sender_key text, granted integer, wait_ms integer)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_profile public.profiles%rowtype;
  v_session_id uuid := p_session_id;
  v_row public.message_delivery_log%rowtype;
  v_existing boolean := false;
  v_key text;
  v_wanted integer;
  v_rate double precision;
begin
  insert into public.profiles as p (phone_number) values (p_recipient)
  on conflict (phone_number) do nothing;
  select * into v_profile from public.profiles p where p.phone_number = p_recipient;

  if v_session_id is null then
    select s.id into v_session_id from public.omnichannel_sessions s
    where s.profile_id = v_profile.id and s.status <> 'closed' and s.expires_at > now();
  elsif not exists (select 1 from public.omnichannel_sessions s
                    where s.id = v_session_id and s.profile_id = v_profile.id) then
    -- Another person's conversation (or none at all): the message would show up in their
    -- history and their AI context. Refused before anything is written or sent.
    raise exception 'session % does not belong to the recipient', v_session_id
      using errcode = 'OM403', hint = 'SESSION.NOT_RECIPIENT';
  end if;

  if p_idempotency_key is not null then
    select * into v_row from public.message_delivery_log m where m.idempotency_key = p_idempotency_key;
    v_existing := found;
  end if;

  if not v_existing then
    insert into public.message_delivery_log as m (
      session_id, profile_id, channel, direction, message_type, status, recipient, body, metadata,
      correlation_id, purpose, idempotency_key, attempts, leased_until,
      error_code, error_class, error_message
    ) values (
      v_session_id, v_profile.id, p_channel, 'outbound', p_message_type,
      case when p_channel = 'sms' and not v_profile.allows_sms then 'blocked' else 'queued' end,
      p_recipient, p_body, coalesce(p_metadata, '{}'::jsonb), p_correlation_id, p_purpose,
      p_idempotency_key, 1,
      now() + interval '2 minutes',
      case when p_channel = 'sms' and not v_profile.allows_sms then 'SMS.OPTED_OUT' end,
      case when p_channel = 'sms' and not v_profile.allows_sms then 'permanent' end,
      case when p_channel = 'sms' and not v_profile.allows_sms then 'The recipient opted out of SMS' end
    )
    on conflict (idempotency_key) do nothing
    returning * into v_row;
    if v_row.id is null then
      select * into v_row from public.message_delivery_log m where m.idempotency_key = p_idempotency_key;
      v_existing := true;
    end if;
  end if;

  if p_completes_inbound is not null then
    update public.message_delivery_log m
    set reply_state = 'done', leased_until = null
    where m.id = p_completes_inbound and (m.direction || '') = 'inbound';
  end if;

  delivery_id := v_row.id;
  session_id := v_row.session_id;
  profile_id := v_profile.id;
  status := v_row.status;
  has_whatsapp := v_profile.has_whatsapp;
  is_new := not v_existing;
  whatsapp_window_open := public.whatsapp_window_open(v_profile.id);

  -- One sender per message: the first request names it. Nothing to send, nothing taken.
  select t.sender_key, t.wanted, t.rate into v_key, v_wanted, v_rate
  from jsonb_to_recordset(coalesce(p_tokens, '[]'::jsonb))
    as t(sender_key text, wanted integer, rate double precision)
  where t.sender_key is not null and coalesce(t.wanted, 0) > 0
  limit 1;
  if v_key is not null and is_new and v_row.status = 'queued' then
    sender_key := v_key;
    select t.granted, t.wait_ms into granted, wait_ms
    from public.take_send_tokens(v_key, v_wanted, coalesce(v_rate, 80)) t;
  end if;
  return next;
end;
$function$;
grant execute on function public.begin_outbound_message(p_channel text, p_recipient text, p_body text, p_session_id uuid, p_purpose text, p_correlation_id text, p_idempotency_key text, p_message_type text, p_metadata jsonb, p_tokens jsonb, p_completes_inbound uuid) to service_role;

CREATE OR REPLACE FUNCTION public.begin_post_call_notification(p_call_id text, p_phone_number text, p_summary text DEFAULT NULL::text, p_correlation_id text DEFAULT NULL::text, p_lease_seconds integer DEFAULT 120, p_channels text[] DEFAULT ARRAY['whatsapp'::text, 'sms'::text])
 RETURNS TABLE(session_id uuid, profile_id uuid, summary text, whatsapp_window_open boolean, channel text, delivery_id uuid, status text, provider_message_id text, error_code text, error_class text, error_message text, attempt integer, to_send boolean)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  return query
    select b.session_id, b.profile_id, b.summary, b.whatsapp_window_open, b.channel,
           b.delivery_id, b.status, b.provider_message_id, b.error_code, b.error_class,
           b.error_message, b.attempt, b.to_send
    from public.begin_post_call_notification_paced(p_call_id, p_phone_number, p_summary,
                                                   p_correlation_id, p_lease_seconds, p_channels) b;
end;
$function$;
grant execute on function public.begin_post_call_notification(p_call_id text, p_phone_number text, p_summary text, p_correlation_id text, p_lease_seconds integer, p_channels text[]) to service_role;

CREATE OR REPLACE FUNCTION public.begin_post_call_notification_paced(p_call_id text, p_phone_number text, p_summary text DEFAULT NULL::text, p_correlation_id text DEFAULT NULL::text, p_lease_seconds integer DEFAULT 120, p_channels text[] DEFAULT ARRAY['whatsapp'::text, 'sms'::text], p_tokens jsonb DEFAULT '[]'::jsonb)
 RETURNS TABLE(session_id uuid, profile_id uuid, summary text, whatsapp_window_open boolean, channel text, delivery_id uuid, status text, provider_message_id text, error_code text, error_class text, error_message text, attempt integer, to_send boolean, email text, sender_key text, granted integer, wait_ms integer)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_session record;
  v_summary text;
  v_window boolean;
  v_row public.message_delivery_log%rowtype;
  -- Each channel's claim (by its position in v_channels): first its latest earlier row for this
  -- call, then the row it hands back (that one re-leased, a new one, or a WhatsApp skip that
  -- has no row). Kept until the senders' tokens are taken, after every channel's row.
  v_rows public.message_delivery_log[];
  v_counts integer[];
  v_send boolean[];
  -- The positions of the channels that get a new row.
  v_new integer[] := '{}'::integer[];
  v_lease timestamptz := now() + make_interval(secs => p_lease_seconds);
  v_channels text[];
  v_taken jsonb := '{}'::jsonb;
  v_req record;
  v_granted integer;
  v_wait integer;
  v_i integer;
begin
  if p_call_id is null or length(p_call_id) = 0 then
    raise exception 'call_id is required' using errcode = '22023';
  end if;
  perform pg_advisory_xact_lock(hashtextextended('post_call:' || p_call_id, 0));

  select cs.summary into v_summary from public.call_summaries cs where cs.call_id = p_call_id;
  v_summary := coalesce(p_summary, v_summary);

  -- The person's conversation; a new one starts with the tenant its first message would give it
  -- (a call's notification belongs to the default tenant), so the log's tenant trigger has no
  -- conversation to update.
  select * into v_session
  from public.get_or_create_session_for_profile(
    public.resolve_profile('phone', p_phone_number, 'voice'), 'voice', p_call_id,
    jsonb_build_object('last_call', jsonb_build_object(
      'call_id', p_call_id, 'summary', v_summary, 'notified_at', now())),
    'follow_up', '00000000-0000-0000-0000-000000000001'::uuid
  );
  email := public.profile_identity(v_session.profile_id, 'email');

  v_window := public.whatsapp_window_open(v_session.profile_id);
  session_id := v_session.session_id;
  profile_id := v_session.profile_id;
  summary := v_summary;
  whatsapp_window_open := v_window;

  -- WhatsApp-first (p_channels = {whatsapp}): a person known not to have WhatsApp gets the SMS.
  v_channels := p_channels;
  if v_session.has_whatsapp is false and 'whatsapp' = any (v_channels)
     and not 'sms' = any (v_channels) then
    v_channels := v_channels || 'sms'::text;
  end if;

  -- The call's earlier rows, every channel's in one read (none, for a call's first
  -- notification): each channel's latest, and how many it has had.
  v_rows := array_fill(null::public.message_delivery_log, array[cardinality(v_channels)]);
  v_counts := array_fill(0, array[cardinality(v_channels)]);
  v_send := array_fill(false, array[cardinality(v_channels)]);
  for v_row in
    select m.* from public.message_delivery_log m
    where m.call_id = p_call_id and m.purpose = 'post_call_summary' and m.channel = any (v_channels)
    order by m.channel, m.created_at desc, m.attempts desc
    for update
  loop
    v_i := array_position(v_channels, v_row.channel);
    if v_counts[v_i] = 0 then
      v_rows[v_i] := v_row;
    end if;
    v_counts[v_i] := v_counts[v_i] + 1;
  end loop;

  for v_i in 1 .. cardinality(v_channels) loop
    v_row := v_rows[v_i];
    if v_counts[v_i] > 0 and v_row.status = 'queued'
       and coalesce(v_row.leased_until, '-infinity') <= now() then
      update public.message_delivery_log m
      set leased_until = v_lease, attempts = m.attempts + 1, correlation_id = p_correlation_id
      where m.id = v_row.id
      returning * into v_row;
      v_rows[v_i] := v_row;
      v_send[v_i] := true;
    elsif v_counts[v_i] > 0 and v_row.status <> 'failed' then
      null; -- already sent, or being sent: handed back as it is
    elsif v_channels[v_i] = 'whatsapp' and v_session.has_whatsapp is false then
      -- No row: a skip, as its claim reports it.
      v_row := null;
      v_row.channel := 'whatsapp';
      v_row.status := 'skipped';
      v_row.error_code := 'NOT_ON_WHATSAPP';
      v_row.error_class := 'permanent';
      v_row.error_message := 'The recipient is known not to use WhatsApp';
      v_row.attempts := v_counts[v_i];
      v_rows[v_i] := v_row;
    else
      v_new := v_new || v_i; -- written below, with the call's other new rows
    end if;
  end loop;

  -- The new rows, in one statement (each insert into the log prepares its constraints,
  -- triggers and indexes once per statement), in the channels' order.
  if cardinality(v_new) > 0 then
    for v_row in
      insert into public.message_delivery_log (
        session_id, profile_id, channel, direction, status, recipient, correlation_id,
        call_id, purpose, idempotency_key, attempts, leased_until, message_type
      )
      select v_session.session_id, v_session.profile_id, v_channels[n.i], 'outbound',
             case when v_channels[n.i] = 'sms' and not v_session.allows_sms then 'blocked'
                  else 'queued' end,
             p_phone_number, p_correlation_id, p_call_id, 'post_call_summary',
             'post_call:' || p_call_id || ':' || v_channels[n.i]
               || case when v_counts[n.i] > 0 then ':' || (v_counts[n.i] + 1)::text else '' end,
             v_counts[n.i] + 1, v_lease, 'text'
      from unnest(v_new) with ordinality as n(i, ord)
      order by n.ord
      returning *
    loop
      if v_row.status = 'blocked' then
        update public.message_delivery_log m
        set error_code = 'SMS.OPTED_OUT', error_class = 'permanent',
            error_message = 'The recipient opted out of SMS'
        where m.id = v_row.id
        returning * into v_row;
      end if;
      v_i := array_position(v_channels, v_row.channel);
      v_rows[v_i] := v_row;
      v_send[v_i] := v_row.status = 'queued';
    end loop;
  end if;

  -- The senders' tokens for the rows handed out to send (a WhatsApp token only inside the
  -- window when the caller says so: outside it, without a template, nothing is sent).
  if jsonb_array_length(coalesce(p_tokens, '[]'::jsonb)) > 0 then
    for v_req in
      select t.channel, t.sender_key, t.wanted, t.rate, coalesce(t.window_only, false) as window_only
      from jsonb_to_recordset(p_tokens)
        as t(channel text, sender_key text, wanted integer, rate double precision, window_only boolean)
      where t.sender_key is not null and coalesce(t.wanted, 0) > 0
      order by t.sender_key
    loop
      v_i := array_position(v_channels, v_req.channel);
      continue when v_i is null or not v_send[v_i] or v_rows[v_i].status <> 'queued'
                    or (v_req.window_only and not v_window);
      select t.granted, t.wait_ms into v_granted, v_wait
      from public.take_send_tokens(v_req.sender_key, v_req.wanted, coalesce(v_req.rate, 80)) t;
      v_taken := v_taken || jsonb_build_object(v_req.channel, jsonb_build_object(
        'sender_key', v_req.sender_key, 'granted', v_granted, 'wait_ms', v_wait));
    end loop;
  end if;

  for v_i in 1 .. cardinality(v_channels) loop
    v_row := v_rows[v_i];
    channel := v_channels[v_i];
    delivery_id := v_row.id;
    status := v_row.status;
    provider_message_id := v_row.provider_message_id;
    error_code := v_row.error_code;
    error_class := v_row.error_class;
    error_message := v_row.error_message;
    attempt := v_row.attempts;
    to_send := v_send[v_i];
    sender_key := v_taken -> channel ->> 'sender_key';
    granted := (v_taken -> channel ->> 'granted')::integer;
    wait_ms := (v_taken -> channel ->> 'wait_ms')::integer;
    return next;
  end loop;
end;
$function$;
grant execute on function public.begin_post_call_notification_paced(p_call_id text, p_phone_number text, p_summary text, p_correlation_id text, p_lease_seconds integer, p_channels text[], p_tokens jsonb) to service_role;

CREATE OR REPLACE FUNCTION public.block_opted_out_outbound()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_allowed boolean;
begin
  if new.direction <> 'outbound' or new.purpose is not distinct from 'keyword_reply' then
    return new;
  end if;
  -- begin_post_call_notification labels every row it finds blocked as an SMS opt-out; a WhatsApp
  -- row keeps its own reason.
  if tg_op = 'UPDATE' and new.status = 'blocked' and new.channel = 'whatsapp'
     and new.error_code = 'SMS.OPTED_OUT' then
    new.error_code := old.error_code;
    new.error_message := old.error_message;
    return new;
  end if;
  -- Written queued, or a queued row a sender is taking (its lease moves into the future).
  if new.status <> 'queued' or (tg_op = 'UPDATE' and not (
       old.status = 'queued' and new.leased_until > now()
       and new.leased_until is distinct from old.leased_until)) then
    return new;
  end if;
  select bool_and(case new.channel when 'whatsapp' then p.allows_whatsapp when 'sms' then p.allows_sms end)
  into v_allowed
  from public.profiles p where p.id = new.profile_id or p.phone_number = new.recipient;
  if v_allowed is false then
    new.status := 'blocked';
    new.error_code := upper(new.channel) || '.OPTED_OUT';
    new.error_class := 'permanent';
    new.error_message := 'The recipient opted out of '
      || case new.channel when 'sms' then 'SMS' else 'WhatsApp' end;
    new.leased_until := null;
  end if;
  return new;
end;
$function$;

CREATE OR REPLACE FUNCTION public.block_undeliverable_email()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_reason text;
begin
  if new.channel <> 'email' or new.direction <> 'outbound' then
    return new;
  end if;
  -- Written queued, or a queued row a sender is taking (its lease moves into the future).
  if new.status <> 'queued' or (tg_op = 'UPDATE' and not (
       old.status = 'queued' and new.leased_until > now()
       and new.leased_until is distinct from old.leased_until)) then
    return new;
  end if;
  select s.reason into v_reason from public.email_suppressions s
  where s.address = lower(new.recipient);
  if v_reason = 'bounced' then
    new.error_code := 'EMAIL.UNDELIVERABLE';
    new.error_message := 'The address bounced: no email goes to it';
  elsif v_reason = 'complained'
     or exists (select 1 from public.profiles p where p.id = new.profile_id and not p.allows_email) then
    new.error_code := 'EMAIL.OPTED_OUT';
    new.error_message := 'The recipient opted out of email';
  else
    return new;
  end if;
  new.status := 'blocked';
  new.error_class := 'permanent';
  new.leased_until := null;
  return new;
end;
$function$;

CREATE OR REPLACE FUNCTION public.claim_api_message_step(p_message_id uuid, p_after_step integer, p_lease_seconds integer DEFAULT 120)
 RETURNS SETOF message_delivery_log
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  update public.message_delivery_log m
  set leased_until = now() + make_interval(secs => p_lease_seconds), attempts = m.attempts + 1
  where m.id = (select n.id from public.message_delivery_log n
                where n.api_message_id = p_message_id and n.route_step > p_after_step
                order by n.route_step limit 1)
    and m.status = 'queued' and coalesce(m.next_attempt_at, now()) <= now()
    and (m.leased_until is null or m.leased_until <= now())
  returning m.*
$function$;
grant execute on function public.claim_api_message_step(p_message_id uuid, p_after_step integer, p_lease_seconds integer) to service_role;

CREATE OR REPLACE FUNCTION public.claim_delivery(p_delivery_id uuid, p_lease_seconds integer DEFAULT 60)
 RETURNS boolean
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with claimed as (
    update public.message_delivery_log m
    set leased_until = now() + make_interval(secs => p_lease_seconds), attempts = m.attempts + 1
    where m.id = p_delivery_id and m.direction = 'outbound' and m.status = 'queued'
      and (m.leased_until is null or m.leased_until <= now())
    returning 1
  )
  select exists (select 1 from claimed)
$function$;
grant execute on function public.claim_delivery(p_delivery_id uuid, p_lease_seconds integer) to service_role;

CREATE OR REPLACE FUNCTION public.claim_due_deliveries(p_limit integer DEFAULT 100, p_lease_seconds integer DEFAULT 60)
 RETURNS SETOF message_delivery_log
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_ids uuid[];
begin
  update public.message_delivery_log m
  set status = 'blocked', error_code = 'SMS.OPTED_OUT', error_class = 'permanent',
      error_message = 'The recipient opted out of SMS', leased_until = null, next_attempt_at = null
  where m.direction = 'outbound' and m.status in ('queued', 'unknown') and m.channel = 'sms'
    and m.purpose is distinct from 'keyword_reply'
    and coalesce(m.next_attempt_at, m.created_at) <= now()
    and (m.leased_until is null or m.leased_until <= now())
    and exists (select 1 from public.profiles p
                where (p.id = m.profile_id or p.phone_number = m.recipient) and not p.allows_sms);

  -- Round-robin across senders among the oldest due rows, so one busy sender's backlog never
  -- starves the others: each sender's first row, then each one's second, and so on. The order is
  -- fixed first as an array of ids; the rows are then locked through the primary key, a plan
  -- that stays fast whatever the statistics say about a freshly filled outbox.
  select array_agg(r.id order by r.turn, r.created_at, r.id) into v_ids
  from (
    select m.id, m.created_at,
           row_number() over (partition by coalesce(m.sender_key, m.channel)
                              order by m.next_attempt_at nulls first, m.created_at, m.id) as turn
    from (
      select c.id, c.created_at, c.next_attempt_at, c.sender_key, c.channel
      from public.message_delivery_log c
      where c.direction = 'outbound' and c.status in ('queued', 'unknown')
        and coalesce(c.next_attempt_at, c.created_at) <= now()
        and (c.leased_until is null or c.leased_until <= now())
      order by c.next_attempt_at nulls first, c.created_at, c.id
      limit p_limit * 20
    ) m
  ) r;
  if v_ids is null then
    return;
  end if;

  -- The due conditions are repeated on the locked row itself: under READ COMMITTED a row another
  -- dispatcher claimed after this statement's snapshot is re-checked against them (its new
  -- version is leased) and dropped, instead of being claimed twice.
  return query
  with due as (
    select m.id
    from unnest(v_ids) with ordinality as u(id, turn)
    join public.message_delivery_log m on m.id = u.id
    where m.direction = 'outbound' and m.status in ('queued', 'unknown')
      and coalesce(m.next_attempt_at, m.created_at) <= now()
      and (m.leased_until is null or m.leased_until <= now())
    order by u.turn
    limit p_limit
    for update of m skip locked
  )
  update public.message_delivery_log m
  set leased_until = now() + make_interval(secs => p_lease_seconds),
      attempts = m.attempts + 1
  from due
  where m.id = due.id
  returning m.*;
end;
$function$;
grant execute on function public.claim_due_deliveries(p_limit integer, p_lease_seconds integer) to service_role;

CREATE OR REPLACE FUNCTION public.claim_genesys_posts(p_ids bigint[] DEFAULT NULL::bigint[], p_limit integer DEFAULT 50, p_lease_seconds integer DEFAULT 60)
 RETURNS TABLE(id bigint, tenant_id uuid, integration_id text, kind text, payload jsonb, attempts integer, delivery_id uuid, session_id uuid, sender text, provider_message_id text, body text, metadata jsonb, display_name text)
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with due as (
    select o.id from public.genesys_outbox o
    where (p_ids is null or o.id = any (p_ids))
      and ((o.status = 'pending' and o.next_attempt_at <= now())
           or (o.status = 'sending' and o.leased_until <= now()))
    order by o.next_attempt_at, o.id
    limit p_limit
    for update skip locked
  ), claimed as (
    update public.genesys_outbox o
    set status = 'sending', attempts = o.attempts + 1,
        leased_until = now() + make_interval(secs => p_lease_seconds)
    from due where o.id = due.id
    returning o.*
  )
  select c.id, c.tenant_id, c.integration_id, c.kind, c.payload, c.attempts, c.delivery_id,
         d.session_id, d.sender, d.provider_message_id, d.body, d.metadata, p.display_name
  from claimed c
  left join public.message_delivery_log d on d.id = c.delivery_id
  left join public.profiles p on p.id = d.profile_id
  order by c.id
$function$;
grant execute on function public.claim_genesys_posts(p_ids bigint[], p_limit integer, p_lease_seconds integer) to service_role;

CREATE OR REPLACE FUNCTION public.claim_inbound_reply(p_delivery_id uuid, p_lease_seconds integer DEFAULT 120)
 RETURNS boolean
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with claimed as (
    update public.message_delivery_log m
    set reply_state = 'in_progress', leased_until = now() + make_interval(secs => p_lease_seconds)
    where m.id = p_delivery_id
      and (m.direction || '') = 'inbound'
      and (m.reply_state = 'pending'
           or (m.reply_state = 'in_progress' and m.leased_until <= now()))
    returning 1
  )
  select exists (select 1 from claimed)
$function$;
grant execute on function public.claim_inbound_reply(p_delivery_id uuid, p_lease_seconds integer) to service_role;

CREATE OR REPLACE FUNCTION public.claim_inbound_reply_context(p_delivery_id uuid, p_lease_seconds integer DEFAULT 120, p_history_limit integer DEFAULT 20, p_claimed_until text DEFAULT NULL::text)
 RETURNS TABLE(claimed boolean, body text, allows_whatsapp boolean, provider text, reply_to text, session jsonb, history jsonb)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_m public.message_delivery_log;
begin
  -- The claim the row was written with (process_inbound_inbox), still this caller's: nothing
  -- to write. (The lease is the token: a later claim by anyone else moves it.)
  if p_claimed_until is not null then
    select * into v_m from public.message_delivery_log m
    where m.id = p_delivery_id and (m.direction || '') = 'inbound'
      and m.reply_state = 'in_progress' and m.leased_until = p_claimed_until::timestamptz
      and m.leased_until > now();
  end if;
  if v_m.id is null then
    update public.message_delivery_log m
    set reply_state = 'in_progress', leased_until = now() + make_interval(secs => p_lease_seconds)
    where m.id = p_delivery_id
      and (m.direction || '') = 'inbound'
      and (m.reply_state = 'pending'
           or (m.reply_state = 'in_progress' and m.leased_until <= now()))
    returning m.* into v_m;
  end if;
  if v_m.id is null then
    claimed := false;
    return next;
    return;
  end if;

  claimed := true;
  body := v_m.body;
  provider := v_m.provider;
  -- The number the person wrote to: an SMS keeps it in `to`, a WhatsApp message names its
  -- business phone_number_id (a tenant's own number answers from itself, with its own token).
  reply_to := coalesce(v_m.metadata ->> 'to', v_m.metadata -> 'business' ->> 'phone_number_id');
  select p.allows_whatsapp into allows_whatsapp from public.profiles p where p.id = v_m.profile_id;
  select jsonb_build_object(
           'id', s.id, 'status', s.status, 'context', s.context, 'channels_seen', s.channels_seen,
           'phone_number', p.phone_number, 'display_name', p.display_name)
  into session
  from public.omnichannel_sessions s join public.profiles p on p.id = s.profile_id
  where s.id = v_m.session_id;
  select coalesce(jsonb_agg(jsonb_build_object(
           'channel', h.channel, 'direction', h.direction, 'body', h.body) order by h.created_at),
         '[]'::jsonb)
  into history
  from public.get_session_history(v_m.session_id, p_history_limit) h;
  return next;
end;
$function$;
grant execute on function public.claim_inbound_reply_context(p_delivery_id uuid, p_lease_seconds integer, p_history_limit integer, p_claimed_until text) to service_role;

CREATE OR REPLACE FUNCTION public.claim_meta_profile_refresh(p_channel text, p_external_id text, p_profile_id uuid)
 RETURNS boolean
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_claimed boolean;
begin
  insert into public.meta_profiles as mp (channel, external_id, profile_id, fetch_started_at)
  values (p_channel, p_external_id, p_profile_id, now())
  on conflict (channel, external_id) do update
    set fetch_started_at = now(), profile_id = excluded.profile_id
    where (mp.fetched_at is null or mp.fetched_at < now() - interval '1 day')
      and (mp.fetch_started_at is null or mp.fetch_started_at < now() - interval '1 minute')
  returning true into v_claimed;
  return coalesce(v_claimed, false);
end;
$function$;
grant execute on function public.claim_meta_profile_refresh(p_channel text, p_external_id text, p_profile_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.claim_oauth_token(p_token_key text, p_min_ttl_seconds integer DEFAULT 60, p_lease_seconds integer DEFAULT 15)
 RETURNS TABLE(access_token text, expires_at timestamp with time zone, refresh boolean)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v public.oauth_tokens;
begin
  -- The common case reads without a lock.
  return query
    select s.decrypted_secret, t.expires_at, false
    from public.oauth_tokens t join vault.decrypted_secrets s on s.id = t.secret_id
    where t.token_key = p_token_key and t.expires_at > now() + make_interval(secs => p_min_ttl_seconds);
  if found then
    return;
  end if;
  insert into public.oauth_tokens (token_key) values (p_token_key) on conflict do nothing;
  select * into v from public.oauth_tokens t where t.token_key = p_token_key for update;
  if v.secret_id is not null and v.expires_at > now() + make_interval(secs => p_min_ttl_seconds) then
    return query select s.decrypted_secret, v.expires_at, false
      from vault.decrypted_secrets s where s.id = v.secret_id;
    return;
  end if;
  if v.refreshing_until > now() then
    return query select null::text, null::timestamptz, false;
    return;
  end if;
  update public.oauth_tokens t
  set refreshing_until = now() + make_interval(secs => p_lease_seconds),
      refreshes = t.refreshes + 1
  where t.token_key = p_token_key;
  return query select null::text, null::timestamptz, true;
end;
$function$;
grant execute on function public.claim_oauth_token(p_token_key text, p_min_ttl_seconds integer, p_lease_seconds integer) to service_role;

CREATE OR REPLACE FUNCTION public.claim_webhook_event(p_source text, p_event_id text)
 RETURNS boolean
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_claimed boolean;
begin
  -- The signature tolerance is 5 minutes: ids older than a day can never be replayed.
  delete from public.webhook_event_ids w
  where w.source = p_source and w.received_at < now() - interval '1 day';
  insert into public.webhook_event_ids as w (source, event_id) values (p_source, p_event_id)
  on conflict (source, event_id) do nothing
  returning true into v_claimed;
  return coalesce(v_claimed, false);
end;
$function$;
grant execute on function public.claim_webhook_event(p_source text, p_event_id text) to service_role;

CREATE OR REPLACE FUNCTION public.cleanup_expired_omnichannel_sessions(p_batch_size integer DEFAULT 5000)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_total integer := 0;
  v_batch integer;
begin
  if p_batch_size is null or p_batch_size < 1 then
    raise exception 'p_batch_size must be positive' using errcode = '22023';
  end if;

  loop
    with due as (
      select s.id from public.omnichannel_sessions s
      where s.status in ('active', 'follow_up') and s.expires_at < pg_catalog.now()
      order by s.expires_at
      limit p_batch_size
      for update skip locked
    )
    update public.omnichannel_sessions s
    set status = 'closed', closed_at = pg_catalog.now()
    from due
    where s.id = due.id;

    get diagnostics v_batch = row_count;
    v_total := v_total + v_batch;
    exit when v_batch < p_batch_size;
  end loop;

  return v_total;
end;
$function$;
grant execute on function public.cleanup_expired_omnichannel_sessions(p_batch_size integer) to service_role;

CREATE OR REPLACE FUNCTION public.cleanup_expired_omnichannel_sessions_batch(p_batch_size integer DEFAULT 5000)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_count integer;
begin
  with due as (
    select s.id from public.omnichannel_sessions s
    where s.status <> 'closed' and s.expires_at < now()
    order by s.expires_at
    limit p_batch_size
    for update skip locked
  )
  update public.omnichannel_sessions s
  set status = 'closed', closed_at = now()
  from due
  where s.id = due.id;
  get diagnostics v_count = row_count;
  return v_count;
end;
$function$;
grant execute on function public.cleanup_expired_omnichannel_sessions_batch(p_batch_size integer) to service_role;

CREATE OR REPLACE PROCEDURE public.cleanup_expired_omnichannel_sessions_in_batches(IN p_batch_size integer DEFAULT 5000, INOUT p_closed integer DEFAULT 0)
 LANGUAGE plpgsql
AS $procedure$
declare
  v_batch integer;
begin
  p_closed := 0;
  loop
    v_batch := public.cleanup_expired_omnichannel_sessions_batch(p_batch_size);
    p_closed := p_closed + v_batch;
    commit;
    exit when v_batch < p_batch_size;
  end loop;
end;
$procedure$;
grant execute on function public.cleanup_expired_omnichannel_sessions_in_batches(IN p_batch_size integer, INOUT p_closed integer) to service_role;

CREATE OR REPLACE FUNCTION public.close_conversation_handoff(p_session_id uuid, p_closed_by text, p_reason text DEFAULT NULL::text)
 RETURNS boolean
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with closed as (
    update public.conversation_handoffs
    set state = 'closed', closed_at = now(), closed_by = p_closed_by, close_reason = p_reason
    where session_id = p_session_id and state <> 'closed'
    returning 1
  )
  select exists (select 1 from closed)
$function$;
grant execute on function public.close_conversation_handoff(p_session_id uuid, p_closed_by text, p_reason text) to service_role;

CREATE OR REPLACE FUNCTION public.close_handoff_on_session_end()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  perform public.close_conversation_handoff(
    new.id,
    case when new.status = 'closed' then 'session' else 'api' end,
    case when new.status = 'closed' then 'the session ended' else 'the conversation was resolved' end);
  return new;
end;
$function$;

CREATE OR REPLACE FUNCTION public.complete_inbound_reply(p_delivery_id uuid, p_state text DEFAULT 'done'::text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  if p_state not in ('done', 'skipped', 'pending') then
    raise exception 'reply state must be done, skipped or pending, not %', p_state using errcode = '22023';
  end if;
  update public.message_delivery_log m
  set reply_state = p_state, leased_until = null
  where m.id = p_delivery_id and (m.direction || '') = 'inbound';
end;
$function$;
grant execute on function public.complete_inbound_reply(p_delivery_id uuid, p_state text) to service_role;

CREATE OR REPLACE FUNCTION public.delivery_retry_delay(p_attempt integer, p_retry_after_ms integer DEFAULT NULL::integer)
 RETURNS interval
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  select greatest(
    make_interval(secs => least(600, 15 * power(2, greatest(p_attempt, 1) - 1))
                          * (0.8 + 0.4 * random())),
    make_interval(secs => coalesce(p_retry_after_ms, 0) / 1000.0)
  )
$function$;
grant execute on function public.delivery_retry_delay(p_attempt integer, p_retry_after_ms integer) to service_role;

CREATE OR REPLACE FUNCTION public.delivery_retry_limits(OUT max_attempts integer, OUT retry_window interval)
 RETURNS record
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO ''
AS $function$
begin
  max_attempts := 8;
  retry_window := interval '30 minutes';
end;
$function$;
grant execute on function public.delivery_retry_limits(OUT max_attempts integer, OUT retry_window interval) to service_role;

CREATE OR REPLACE FUNCTION public.delivery_unknown_wait()
 RETURNS interval
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select coalesce(nullif(pg_catalog.current_setting('omnichannel.unknown_delivery_wait', true), '')::interval,
                  interval '5 minutes')
$function$;
grant execute on function public.delivery_unknown_wait() to service_role;

CREATE OR REPLACE FUNCTION public.dispatch_job_command()
 RETURNS text
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO ''
AS $function$
  select $job$
      select net.http_post(
        url := (select decrypted_secret from vault.decrypted_secrets
                where name = 'omnichannel_functions_url') || '/dispatch',
        headers := jsonb_build_object(
          'Content-Type', 'application/json',
          'apikey', (select decrypted_secret from vault.decrypted_secrets
                     where name = 'omnichannel_secret_key')),
        body := '{}'::jsonb,
        timeout_milliseconds := 60000
      )
    $job$::text
$function$;
grant execute on function public.dispatch_job_command() to service_role;

CREATE OR REPLACE FUNCTION public.enqueue_fallback_on_failed_status()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  if new.status = 'failed' and old.status is distinct from 'failed' and new.channel = 'whatsapp'
     and new.direction = 'outbound' and new.metadata ? 'fallback' then
    perform public.enqueue_sms_fallback(new.id);
  end if;
  return null;
end;
$function$;

CREATE OR REPLACE FUNCTION public.enqueue_genesys_post(p_tenant_id uuid, p_kind text, p_dedupe_key text, p_delivery_id uuid DEFAULT NULL::uuid, p_payload jsonb DEFAULT '{}'::jsonb, p_integration_id text DEFAULT NULL::text)
 RETURNS bigint
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_id bigint;
begin
  insert into public.genesys_outbox (tenant_id, integration_id, kind, dedupe_key, delivery_id, payload)
  values (p_tenant_id, p_integration_id, p_kind, p_dedupe_key, p_delivery_id,
          coalesce(p_payload, '{}'::jsonb))
  on conflict (dedupe_key) do nothing
  returning id into v_id;
  if v_id is null then
    select o.id into v_id from public.genesys_outbox o where o.dedupe_key = p_dedupe_key;
  end if;
  return v_id;
end;
$function$;
grant execute on function public.enqueue_genesys_post(p_tenant_id uuid, p_kind text, p_dedupe_key text, p_delivery_id uuid, p_payload jsonb, p_integration_id text) to service_role;

CREATE OR REPLACE FUNCTION public.enqueue_sms_fallback(p_delivery_id uuid)
 RETURNS uuid
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_row public.message_delivery_log%rowtype;
  v_allows boolean;
  v_phone text;
  v_id uuid;
begin
  select * into v_row from public.message_delivery_log m where m.id = p_delivery_id;
  if not found or v_row.channel not in ('whatsapp', 'messenger', 'instagram')
     or v_row.status <> 'failed'
     or v_row.metadata -> 'fallback' ->> 'channel' is distinct from 'sms' then
    return null;
  end if;
  select p.allows_sms, p.phone_number into v_allows, v_phone
  from public.profiles p where p.id = v_row.profile_id;
  if v_row.channel <> 'whatsapp' then
    if v_phone is null then
      return null;
    end if;
    v_row.recipient := v_phone;
  end if;

  insert into public.message_delivery_log as m (
    session_id, profile_id, channel, direction, message_type, status, recipient, body,
    correlation_id, call_id, purpose, idempotency_key, fallback_of, attempts, next_attempt_at,
    error_code, error_class, error_message
  ) values (
    v_row.session_id, v_row.profile_id, 'sms', 'outbound', 'text',
    case when coalesce(v_allows, true) then 'queued' else 'blocked' end,
    v_row.recipient, v_row.metadata -> 'fallback' ->> 'body', v_row.correlation_id, v_row.call_id,
    coalesce(v_row.purpose, 'message') || '_fallback', 'fallback:' || v_row.id, v_row.id, 0, now(),
    case when coalesce(v_allows, true) then null else 'SMS.OPTED_OUT' end,
    case when coalesce(v_allows, true) then null else 'permanent' end,
    case when coalesce(v_allows, true) then null else 'The recipient opted out of SMS' end
  )
  on conflict (idempotency_key) do nothing
  returning m.id into v_id;
  if v_id is null then
    select m.id into v_id from public.message_delivery_log m
    where m.idempotency_key = 'fallback:' || v_row.id;
  end if;
  return v_id;
end;
$function$;
grant execute on function public.enqueue_sms_fallback(p_delivery_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.find_api_message(p_caller text, p_idempotency_key text)
 RETURNS TABLE(message_id uuid, request_hash text, response jsonb)
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select a.id, a.request_hash, a.response from public.api_messages a
  where a.caller = p_caller and a.idempotency_key = p_idempotency_key
$function$;
grant execute on function public.find_api_message(p_caller text, p_idempotency_key text) to service_role;

CREATE OR REPLACE FUNCTION public.find_profile(p_kind text, p_value text)
 RETURNS uuid
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
declare
  v_value text := public.normalize_identity(p_kind, p_value);
  v_id uuid;
begin
  if p_kind = 'phone' then
    select p.id into v_id from public.profiles p where p.phone_number = v_value;
  else
    select i.profile_id into v_id from public.profile_identities i
    where i.kind = p_kind and i.value = v_value;
  end if;
  return v_id;
end;
$function$;
grant execute on function public.find_profile(p_kind text, p_value text) to service_role;

CREATE OR REPLACE FUNCTION public.forget_oauth_token(p_token_key text, p_access_token text DEFAULT NULL::text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  if p_access_token is null then
    update public.oauth_tokens set refreshing_until = null, updated_at = now()
    where token_key = p_token_key;
    return;
  end if;
  update public.oauth_tokens t set expires_at = null, updated_at = now()
  where t.token_key = p_token_key
    and exists (select 1 from vault.decrypted_secrets s
                where s.id = t.secret_id and s.decrypted_secret = p_access_token);
end;
$function$;
grant execute on function public.forget_oauth_token(p_token_key text, p_access_token text) to service_role;

CREATE OR REPLACE FUNCTION public.forward_if_handed_off(p_session_id uuid, p_delivery_id uuid)
 RETURNS TABLE(handoff_id uuid, tenant_id uuid, outbox_id bigint)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  select h.id, h.tenant_id into handoff_id, tenant_id
  from public.conversation_handoffs h
  where h.session_id = p_session_id and h.state <> 'closed';
  if handoff_id is null then
    return;
  end if;
  outbox_id := public.enqueue_genesys_post(
    p_tenant_id => tenant_id, p_kind => 'message',
    p_dedupe_key => 'message:' || p_delivery_id::text, p_delivery_id => p_delivery_id);
  return next;
end;
$function$;
grant execute on function public.forward_if_handed_off(p_session_id uuid, p_delivery_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.genesys_conversation(p_integration_id text, p_whatsapp_id text)
 RETURNS TABLE(tenant_id uuid, phone_number_id text, session_id uuid, state text, genesys_conversation_id text)
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select c.tenant_id, c.phone_number_id, c.session_id, c.state, c.genesys_conversation_id
  from public.genesys_conversations c
  where c.integration_id = p_integration_id and c.whatsapp_id = p_whatsapp_id
$function$;
grant execute on function public.genesys_conversation(p_integration_id text, p_whatsapp_id text) to service_role;

CREATE OR REPLACE FUNCTION public.genesys_message_of_delivery(p_delivery_id uuid)
 RETURNS TABLE(integration_id text, genesys_message_id text, whatsapp_id text)
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select m.integration_id, m.genesys_message_id, d.recipient
  from public.genesys_messages m
  join public.message_delivery_log d on d.id = m.delivery_id
  where m.delivery_id = p_delivery_id and m.direction = 'outbound'
$function$;
grant execute on function public.genesys_message_of_delivery(p_delivery_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.get_active_omnichannel_session(p_phone_number text)
 RETURNS SETOF omnichannel_sessions
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select s.*
  from public.omnichannel_sessions s
  join public.profiles p on p.id = s.profile_id
  where p.phone_number = p_phone_number
    and s.status <> 'closed'
    and s.expires_at > now()
$function$;
grant execute on function public.get_active_omnichannel_session(p_phone_number text) to service_role;

CREATE OR REPLACE FUNCTION public.get_api_message(p_message_id uuid)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select jsonb_build_object(
    'id', a.id,
    'profile_id', a.profile_id,
    'created_at', a.created_at,
    'send_at', a.send_at,
    'metadata', a.metadata,
    'route', (select coalesce(jsonb_agg(r ->> 'channel' order by o), '[]'::jsonb)
              from jsonb_array_elements(a.route) with ordinality e(r, o)),
    'channel', last.channel,
    'status', last.status,
    'steps', coalesce((
      select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
        'step', m.route_step,
        'delivery_id', m.id,
        'channel', m.channel,
        'status', m.status,
        'message_type', m.message_type,
        'provider_message_id', m.provider_message_id,
        'error', case when m.error_code is not null then jsonb_build_object(
          'code', m.error_code, 'class', m.error_class, 'message', m.error_message) end,
        'history', (
          select coalesce(jsonb_agg(jsonb_build_object('status', h.status, 'at', h.at) order by h.at, h.rank), '[]'::jsonb)
          from (values ('queued', m.queued_at, 0), ('sent', m.sent_at, 1), ('delivered', m.delivered_at, 2),
                       ('read', m.read_at, 3), ('failed', m.failed_at, 4),
                       ('blocked', case when m.status = 'blocked' then m.updated_at end, 5)) h(status, at, rank)
          where h.at is not null)
      )) order by m.route_step)
      from public.message_delivery_log m where m.api_message_id = a.id), '[]'::jsonb)
  )
  from public.api_messages a
  left join lateral (
    select m.channel, m.status from public.message_delivery_log m
    where m.api_message_id = a.id order by m.route_step desc limit 1
  ) last on true
  where a.id = p_message_id
$function$;
grant execute on function public.get_api_message(p_message_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.get_conversation(p_session_id uuid)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select jsonb_build_object(
    'id', s.id,
    'profile_id', s.profile_id,
    'phone_number', p.phone_number,
    'display_name', p.display_name,
    'session_status', s.status,
    'status', s.conversation_status,
    'assignee', s.assignee,
    'priority', s.priority,
    'tags', to_jsonb(s.tags),
    'last_channel', s.last_channel,
    'last_activity_at', s.last_activity_at,
    'assigned_at', s.assigned_at,
    'resolved_at', s.resolved_at,
    'archived_at', s.archived_at,
    'breaches', coalesce((select jsonb_agg(jsonb_build_object(
                   'kind', b.kind, 'due_at', b.due_at, 'breached_at', b.breached_at) order by b.due_at)
                 from public.conversation_sla_breaches b where b.session_id = s.id), '[]'::jsonb)
  )
  from public.omnichannel_sessions s
  join public.profiles p on p.id = s.profile_id
  where s.id = p_session_id
$function$;
grant execute on function public.get_conversation(p_session_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.get_or_create_omnichannel_session(p_phone_number text, p_channel text, p_call_id text DEFAULT NULL::text, p_context jsonb DEFAULT '{}'::jsonb, p_status text DEFAULT NULL::text)
 RETURNS TABLE(session_id uuid, profile_id uuid, status text, context jsonb, channels_seen text[], last_channel text, call_id text, expires_at timestamp with time zone, is_new boolean, has_whatsapp boolean, allows_sms boolean, whatsapp_summary_sent boolean, sms_summary_sent boolean)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  if p_status = 'closed' then
    raise exception 'get_or_create_omnichannel_session cannot close a session'
      using errcode = '22023', hint = 'use update_omnichannel_session_status';
  end if;
  return query
    select * from public.get_or_create_session_for_profile(
      public.resolve_profile('phone', p_phone_number, p_channel), p_channel, p_call_id,
      p_context, p_status);
end;
$function$;
grant execute on function public.get_or_create_omnichannel_session(p_phone_number text, p_channel text, p_call_id text, p_context jsonb, p_status text) to service_role;

CREATE OR REPLACE FUNCTION public.get_or_create_session_for_profile(p_profile_id uuid, p_channel text, p_call_id text DEFAULT NULL::text, p_context jsonb DEFAULT '{}'::jsonb, p_status text DEFAULT NULL::text, p_tenant_id uuid DEFAULT NULL::uuid)
 RETURNS TABLE(session_id uuid, profile_id uuid, status text, context jsonb, channels_seen text[], last_channel text, call_id text, expires_at timestamp with time zone, is_new boolean, has_whatsapp boolean, allows_sms boolean, whatsapp_summary_sent boolean, sms_summary_sent boolean)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
#variable_conflict use_column
declare
  v_profile public.profiles;
  v_session public.omnichannel_sessions;
  v_is_new boolean := false;
begin
  if p_status = 'closed' then
    raise exception 'get_or_create_session_for_profile cannot close a session'
      using errcode = '22023', hint = 'use update_omnichannel_session_status';
  end if;

  -- Lock the profile; a profile merged away (before or while we waited) hands over to its survivor.
  select * into v_profile from public.profiles p where p.id = p_profile_id for update;
  for hop in 1..32 loop
    exit when v_profile.id is null or v_profile.merged_into is null;
    select * into v_profile from public.profiles p where p.id = v_profile.merged_into for update;
  end loop;
  if v_profile.id is null then
    raise exception 'profile % not found', p_profile_id using errcode = 'P0002';
  end if;
  if p_channel is not null and v_profile.last_active_channel is distinct from p_channel then
    update public.profiles p set last_active_channel = p_channel where p.id = v_profile.id;
    v_profile.last_active_channel := p_channel;
  end if;

  update public.omnichannel_sessions s
  set status = 'closed', closed_at = pg_catalog.now()
  where s.profile_id = v_profile.id and s.status <> 'closed' and s.expires_at < pg_catalog.now();

  for attempt in 1..2 loop
    -- The live conversation, when there is one (the usual case) …
    update public.omnichannel_sessions s
    set context = s.context || coalesce(p_context, '{}'::jsonb),
        channels_seen = case when p_channel = any (s.channels_seen) then s.channels_seen
                             else pg_catalog.array_append(s.channels_seen, p_channel) end,
        last_channel = p_channel,
        call_id = coalesce(p_call_id, s.call_id),
        status = coalesce(p_status, s.status),
        expires_at = pg_catalog.now() + interval '24 hours',
        last_activity_at = pg_catalog.now()
    where s.profile_id = v_profile.id and s.status <> 'closed'
    returning s.* into v_session;
    exit when found;

    -- … else a new one (a writer that does not lock the profile may have made it meanwhile:
    -- then the unique index refuses this one and the next round updates theirs).
    insert into public.omnichannel_sessions as s
      (profile_id, status, context, channels_seen, last_channel, call_id, tenant_id)
    values (v_profile.id, coalesce(p_status, 'active'), coalesce(p_context, '{}'::jsonb),
            array[p_channel], p_channel, p_call_id, p_tenant_id)
    on conflict (profile_id) where status <> 'closed' do nothing
    returning s.* into v_session;
    if found then
      v_is_new := true;
      exit;
    end if;
  end loop;

  if v_session.id is null then
    raise exception 'could not get or create a session for profile %', v_profile.id
      using errcode = '40001';
  end if;

  return query select
    v_session.id, v_session.profile_id, v_session.status, v_session.context,
    v_session.channels_seen, v_session.last_channel, v_session.call_id, v_session.expires_at,
    v_is_new, v_profile.has_whatsapp, v_profile.allows_sms,
    v_session.whatsapp_summary_sent, v_session.sms_summary_sent;
end;
$function$;
grant execute on function public.get_or_create_session_for_profile(p_profile_id uuid, p_channel text, p_call_id text, p_context jsonb, p_status text, p_tenant_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.get_session_history(p_session_id uuid, p_limit integer DEFAULT 20)
 RETURNS TABLE(created_at timestamp with time zone, channel text, direction text, message_type text, body text, status text)
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
begin
  return query
    select h.created_at, h.channel, h.direction, h.message_type, h.body, h.status
    from (
      select m.created_at, m.channel, m.direction, m.message_type, m.body, m.status
      from public.message_delivery_log m
      where m.session_id = p_session_id
        and m.body is not null
        and m.status not in ('failed', 'blocked')
      order by m.created_at desc
      limit p_limit
    ) h
    order by h.created_at asc;
end;
$function$;
grant execute on function public.get_session_history(p_session_id uuid, p_limit integer) to service_role;

CREATE OR REPLACE FUNCTION public.link_identity(p_profile_id uuid, p_kind text, p_value text)
 RETURNS uuid
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_value text := public.normalize_identity(p_kind, p_value);
  v_profile uuid;
  v_holder uuid;
  v_a public.profiles;
  v_b public.profiles;
  v_survivor uuid;
begin
  for attempt in 1..5 loop
    v_profile := public.profile_survivor(p_profile_id);
    if v_profile is null then
      raise exception 'profile % not found', p_profile_id using errcode = 'P0002';
    end if;
    v_holder := public.find_profile(p_kind, v_value);

    if v_holder is null then
      begin
        perform 1 from public.profiles p where p.id = v_profile for update;
        if (select p.merged_into from public.profiles p where p.id = v_profile) is not null then
          continue; -- merged meanwhile: start over from the survivor
        end if;
        if p_kind = 'phone' then
          update public.profiles p set phone_number = v_value
          where p.id = v_profile and p.phone_number is null;
          if not found then
            raise exception 'profile % already has another phone number', v_profile
              using errcode = '23505', hint = 'a person has one phone number here';
          end if;
        else
          insert into public.profile_identities (kind, value, profile_id)
          values (p_kind, v_value, v_profile);
        end if;
        return v_profile;
      exception when unique_violation then
        -- Someone took the identity between our look and our write (and committed): merge.
        if p_kind = 'phone' and public.find_profile(p_kind, v_value) is null then
          raise;
        end if;
      end;
      continue;
    end if;

    if v_holder = v_profile then
      return v_profile;
    end if;

    -- Lock both in id order, then check neither was merged meanwhile.
    select * into v_a from public.profiles p where p.id = least(v_holder, v_profile) for update;
    select * into v_b from public.profiles p where p.id = greatest(v_holder, v_profile) for update;
    if v_a.merged_into is not null or v_b.merged_into is not null
       or public.find_profile(p_kind, v_value) is distinct from v_holder then
      continue;
    end if;
    v_survivor := case
      when v_a.phone_number is not null and v_b.phone_number is null then v_a.id
      when v_b.phone_number is not null and v_a.phone_number is null then v_b.id
      else v_holder end;
    return public.merge_profiles(v_survivor, case when v_survivor = v_a.id then v_b.id else v_a.id end);
  end loop;
  raise exception 'could not link the % identity to profile %', p_kind, p_profile_id
    using errcode = '40001';
end;
$function$;
grant execute on function public.link_identity(p_profile_id uuid, p_kind text, p_value text) to service_role;

CREATE OR REPLACE FUNCTION public.list_api_messages(p_limit integer, p_profile_id uuid DEFAULT NULL::uuid, p_channel text DEFAULT NULL::text, p_status text DEFAULT NULL::text, p_before_created_at timestamp with time zone DEFAULT NULL::timestamp with time zone, p_before_id uuid DEFAULT NULL::uuid)
 RETURNS TABLE(id uuid, profile_id uuid, created_at timestamp with time zone, send_at timestamp with time zone, channel text, status text, steps integer, cursor_created_at text)
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  -- cursor_created_at keeps the microseconds a JSON timestamp would lose.
  select a.id, a.profile_id, a.created_at, a.send_at, last.channel, last.status, last.steps,
         a.created_at::text
  from public.api_messages a
  cross join lateral (
    select m.channel, m.status, (m.route_step + 1)::integer as steps from public.message_delivery_log m
    where m.api_message_id = a.id order by m.route_step desc limit 1
  ) last
  where (p_profile_id is null or a.profile_id = p_profile_id)
    and (p_channel is null or last.channel = p_channel)
    and (p_status is null or last.status = p_status)
    and (p_before_created_at is null or (a.created_at, a.id) < (p_before_created_at, p_before_id))
  order by a.created_at desc, a.id desc
  limit least(greatest(p_limit, 1), 100)
$function$;
grant execute on function public.list_api_messages(p_limit integer, p_profile_id uuid, p_channel text, p_status text, p_before_created_at timestamp with time zone, p_before_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.list_channel_accounts(p_tenant_id uuid)
 RETURNS TABLE(id uuid, tenant_id uuid, kind text, external_id text, display_name text, routing text, settings jsonb, credential_fields text[], disabled_at timestamp with time zone, created_at timestamp with time zone, updated_at timestamp with time zone)
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select a.id, a.tenant_id, a.kind, a.external_id, a.display_name, a.routing, a.settings,
    coalesce((select array_agg(k order by k)
              from vault.decrypted_secrets s,
                   jsonb_object_keys(s.decrypted_secret::jsonb) k
              where s.id = a.credentials_secret_id), '{}'),
    a.disabled_at, a.created_at, a.updated_at
  from public.channel_accounts a
  where a.tenant_id = p_tenant_id
  order by a.kind, a.created_at
$function$;
grant execute on function public.list_channel_accounts(p_tenant_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.list_conversations(p_view text DEFAULT 'all'::text, p_assignee text DEFAULT NULL::text, p_limit integer DEFAULT 50, p_before_activity timestamp with time zone DEFAULT NULL::timestamp with time zone, p_before_id uuid DEFAULT NULL::uuid, p_agent text DEFAULT NULL::text)
 RETURNS TABLE(conversation jsonb, cursor_id uuid, cursor_activity text)
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  -- cursor_activity keeps the microseconds a JSON timestamp would lose.
  select public.get_conversation(s.id), s.id, s.last_activity_at::text
  from public.omnichannel_sessions s
  where s.conversation_status <> 'archived'
    and case p_view
          when 'unassigned' then s.conversation_status = 'open' and s.assignee is null
          when 'assigned' then s.conversation_status = 'assigned'
          when 'breaching' then s.conversation_status in ('open', 'assigned')
            and exists (select 1 from public.conversation_sla_breaches b where b.session_id = s.id)
          else true end
    and (p_assignee is null or s.assignee = p_assignee)
    and (p_agent is null or s.assignee is null or s.assignee = p_agent)
    and (p_before_activity is null or (s.last_activity_at, s.id) < (p_before_activity, p_before_id))
  order by s.last_activity_at desc, s.id desc
  limit least(greatest(p_limit, 1), 201)
$function$;
grant execute on function public.list_conversations(p_view text, p_assignee text, p_limit integer, p_before_activity timestamp with time zone, p_before_id uuid, p_agent text) to service_role;

CREATE OR REPLACE FUNCTION public.list_pending_inbound_replies(p_older_than_seconds integer DEFAULT 60, p_limit integer DEFAULT 20, p_max_age_seconds integer DEFAULT 86400)
 RETURNS TABLE(delivery_id uuid, session_id uuid, channel text, sender text, correlation_id text, created_at timestamp with time zone)
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select m.id, m.session_id, m.channel, m.sender, m.correlation_id, m.created_at
  from public.message_delivery_log m
  where m.direction = 'inbound'
    and m.channel in ('whatsapp', 'sms', 'messenger', 'instagram', 'email')
    and (m.reply_state = 'pending'
         or (m.reply_state = 'in_progress' and m.leased_until <= pg_catalog.now()))
    and m.created_at <= pg_catalog.now() - pg_catalog.make_interval(secs => p_older_than_seconds)
    and m.created_at > pg_catalog.now() - pg_catalog.make_interval(secs => p_max_age_seconds)
    and m.session_id is not null
    and m.sender is not null
  order by m.created_at
  limit p_limit
$function$;
grant execute on function public.list_pending_inbound_replies(p_older_than_seconds integer, p_limit integer, p_max_age_seconds integer) to service_role;

CREATE OR REPLACE FUNCTION public.list_unnotified_calls(p_older_than_seconds integer DEFAULT 120, p_max_age_seconds integer DEFAULT 86400, p_limit integer DEFAULT 20)
 RETURNS TABLE(call_id text, phone_number text)
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select cs.call_id, cs.phone_number
  from public.call_summaries cs
  where cs.metadata ? 'whatsapp_call'
    and upper(coalesce(cs.metadata -> 'whatsapp_call' ->> 'status', '')) <> 'FAILED'
    and cs.phone_number is not null
    and cs.created_at <= now() - make_interval(secs => p_older_than_seconds)
    and cs.created_at > now() - make_interval(secs => p_max_age_seconds)
    and not exists (
      select 1 from public.message_delivery_log m
      where m.call_id = cs.call_id and m.purpose = 'post_call_summary'
    )
  order by cs.created_at
  limit p_limit
$function$;
grant execute on function public.list_unnotified_calls(p_older_than_seconds integer, p_max_age_seconds integer, p_limit integer) to service_role;

CREATE OR REPLACE FUNCTION public.log_message_delivery(p_channel text, p_direction text, p_status text, p_provider text DEFAULT NULL::text, p_provider_message_id text DEFAULT NULL::text, p_body text DEFAULT NULL::text, p_session_id uuid DEFAULT NULL::uuid, p_profile_id uuid DEFAULT NULL::uuid, p_message_type text DEFAULT 'text'::text, p_metadata jsonb DEFAULT '{}'::jsonb, p_correlation_id text DEFAULT NULL::text, p_error_code text DEFAULT NULL::text, p_error_class text DEFAULT NULL::text, p_error_message text DEFAULT NULL::text, p_idempotency_key text DEFAULT NULL::text, p_recipient text DEFAULT NULL::text, p_sender text DEFAULT NULL::text)
 RETURNS message_delivery_log
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_row public.message_delivery_log;
begin
  -- Two passes: a concurrent writer may insert the same message between our lookup and insert.
  for attempt in 1..2 loop
    update public.message_delivery_log m
    set status = p_status,
        provider = coalesce(p_provider, m.provider),
        provider_message_id = coalesce(p_provider_message_id, m.provider_message_id),
        idempotency_key = coalesce(p_idempotency_key, m.idempotency_key),
        body = coalesce(p_body, m.body),
        session_id = coalesce(p_session_id, m.session_id),
        profile_id = coalesce(p_profile_id, m.profile_id),
        metadata = m.metadata || coalesce(p_metadata, '{}'::jsonb),
        correlation_id = coalesce(p_correlation_id, m.correlation_id),
        error_code = coalesce(p_error_code, m.error_code),
        error_class = coalesce(p_error_class, m.error_class),
        error_message = coalesce(p_error_message, m.error_message),
        recipient = coalesce(p_recipient, m.recipient),
        sender = coalesce(p_sender, m.sender)
    where m.id = (
      select e.id from public.message_delivery_log e
      where (p_idempotency_key is not null and e.idempotency_key = p_idempotency_key)
         or (p_provider_message_id is not null and e.channel = p_channel
             and e.provider_message_id = p_provider_message_id)
      -- Prefer our own key: it was written first, before the provider id was known.
      order by (e.idempotency_key is not distinct from p_idempotency_key) desc
      limit 1
    )
    returning m.* into v_row;

    if found then
      return v_row;
    end if;

    insert into public.message_delivery_log as m (
      channel, direction, status, provider, provider_message_id, body, session_id, profile_id,
      message_type, metadata, correlation_id, error_code, error_class, error_message,
      idempotency_key, recipient, sender
    ) values (
      p_channel, p_direction, p_status, p_provider, p_provider_message_id, p_body, p_session_id,
      p_profile_id, coalesce(p_message_type, 'text'), coalesce(p_metadata, '{}'::jsonb),
      p_correlation_id, p_error_code, p_error_class, p_error_message, p_idempotency_key,
      p_recipient, p_sender
    )
    on conflict do nothing
    returning m.* into v_row;

    if found then
      return v_row;
    end if;
  end loop;

  raise exception 'log_message_delivery: could not insert or update the message row'
    using errcode = '40001';
end;
$function$;
grant execute on function public.log_message_delivery(p_channel text, p_direction text, p_status text, p_provider text, p_provider_message_id text, p_body text, p_session_id uuid, p_profile_id uuid, p_message_type text, p_metadata jsonb, p_correlation_id text, p_error_code text, p_error_class text, p_error_message text, p_idempotency_key text, p_recipient text, p_sender text) to service_role;

CREATE OR REPLACE FUNCTION public.mark_message_stats_deleted()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  perform public.mark_message_stats_hours(
    array(select o.created_at from old_rows o),
    array(select distinct o.session_id from old_rows o
          where o.session_id is not null
            and (o.direction = 'inbound' or o.purpose in ('ai_reply', 'agent_reply'))),
    array[]::uuid[]);
  return null;
end;
$function$;

CREATE OR REPLACE FUNCTION public.mark_message_stats_hours(p_at timestamp with time zone[], p_sessions uuid[], p_ids uuid[])
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO ''
 SET plan_cache_mode TO 'force_custom_plan'
AS $function$
begin
  with firsts as (
    select min(m.created_at) as now_at, min(m.created_at) filter (where x.id is null) as before_at
    from unnest(p_sessions) as s(session_id)
    join public.message_delivery_log m on m.session_id = s.session_id and m.direction = 'inbound'
    left join unnest(p_ids) as x(id) on x.id = m.id
    group by s.session_id
  ),
  hours as (
    select t.at from unnest(p_at) as t(at)
    union
    select f.now_at from firsts f
    union
    select f.before_at from firsts f
  )
  insert into public.message_stats_dirty as d (hour, shard)
  select distinct date_bin('1 hour', h.at, timestamptz '2000-01-01 00:00:00+00'), pg_backend_pid()
  from hours h
  where h.at is not null
  on conflict (hour, shard) do update set marks = d.marks + 1;
end;
$function$;
grant execute on function public.mark_message_stats_hours(p_at timestamp with time zone[], p_sessions uuid[], p_ids uuid[]) to service_role;

CREATE OR REPLACE FUNCTION public.mark_message_stats_row()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_cut constant timestamptz := date_bin('1 hour', now(), timestamptz '2000-01-01 00:00:00+00');
  v_hours timestamptz[];
  v_sessions uuid[] := array[]::uuid[];
  v_session uuid;
  v_xid xid;
begin
  if tg_op = 'UPDATE' then
    v_hours := array[old.created_at, new.created_at];
    -- Only a move between conversations, directions, purposes or times changes first responses.
    if (old.session_id, old.direction, old.purpose, old.created_at)
       is distinct from (new.session_id, new.direction, new.purpose, new.created_at) then
      if old.session_id is not null
         and (old.direction = 'inbound' or old.purpose in ('ai_reply', 'agent_reply')) then
        v_sessions := v_sessions || old.session_id;
      end if;
      if new.session_id is not null
         and (new.direction = 'inbound' or new.purpose in ('ai_reply', 'agent_reply')) then
        v_sessions := v_sessions || new.session_id;
      end if;
    end if;
  else
    v_hours := array[new.created_at];
    if new.session_id is not null
       and (new.direction = 'inbound' or new.purpose in ('ai_reply', 'agent_reply')) then
      v_sessions := array[new.session_id];
    end if;
  end if;

  -- One conversation at a time, on its (session_id, created_at) index: a few rows each. (The
  -- direction is compared as an expression so the planner cannot pick the inbound stats index,
  -- which holds every inbound message, when its statistics make it look small.)
  foreach v_session in array v_sessions loop
    v_xid := coalesce(v_xid, pg_catalog.pg_current_xact_id()::xid);
    select v_hours || array[min(m.created_at), min(m.created_at) filter (where m.xmin <> v_xid)]
    into v_hours
    from public.message_delivery_log m
    where m.session_id = v_session and (m.direction || '') = 'inbound';
  end loop;

  insert into public.message_stats_dirty as d (hour, shard)
  select distinct date_bin('1 hour', h.at, timestamptz '2000-01-01 00:00:00+00'), pg_catalog.pg_backend_pid()
  from unnest(v_hours) as h(at)
  where h.at < v_cut
  on conflict (hour, shard) do update set marks = d.marks + 1;
  return null;
end;
$function$;
grant execute on function public.mark_message_stats_row() to service_role;

CREATE OR REPLACE FUNCTION public.mark_omnichannel_summary_sent(p_session_id uuid, p_channel text)
 RETURNS omnichannel_sessions
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_row public.omnichannel_sessions%rowtype;
begin
  if p_channel not in ('whatsapp', 'sms') then
    raise exception 'summary flags exist for whatsapp and sms, not %', p_channel using errcode = '22023';
  end if;
  update public.omnichannel_sessions s
  set whatsapp_summary_sent = s.whatsapp_summary_sent or p_channel = 'whatsapp',
      whatsapp_summary_sent_at = case when p_channel = 'whatsapp' then now() else s.whatsapp_summary_sent_at end,
      sms_summary_sent = s.sms_summary_sent or p_channel = 'sms',
      sms_summary_sent_at = case when p_channel = 'sms' then now() else s.sms_summary_sent_at end
  where s.id = p_session_id
  returning * into v_row;
  if not found then
    raise exception 'session % not found', p_session_id using errcode = 'P0002';
  end if;
  return v_row;
end;
$function$;
grant execute on function public.mark_omnichannel_summary_sent(p_session_id uuid, p_channel text) to service_role;

CREATE OR REPLACE FUNCTION public.merge_omnichannel_session_context(p_session_id uuid, p_context jsonb)
 RETURNS omnichannel_sessions
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_row public.omnichannel_sessions%rowtype;
begin
  if jsonb_typeof(p_context) is distinct from 'object' then
    raise exception 'context must be a JSON object' using errcode = '22023';
  end if;
  update public.omnichannel_sessions s
  set context = s.context || p_context,
      last_activity_at = now(),
      expires_at = greatest(s.expires_at, now() + interval '24 hours')
  where s.id = p_session_id and s.status <> 'closed'
  returning * into v_row;
  if not found then
    raise exception 'live session % not found', p_session_id using errcode = 'P0002';
  end if;
  return v_row;
end;
$function$;
grant execute on function public.merge_omnichannel_session_context(p_session_id uuid, p_context jsonb) to service_role;

CREATE OR REPLACE FUNCTION public.merge_profiles(p_survivor uuid, p_loser uuid)
 RETURNS uuid
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_s public.profiles;
  v_l public.profiles;
  v_live_s public.omnichannel_sessions;
  v_live_l public.omnichannel_sessions;
begin
  if p_survivor = p_loser then
    return p_survivor;
  end if;
  select * into v_s from public.profiles p where p.id = p_survivor;
  select * into v_l from public.profiles p where p.id = p_loser;
  if v_s.phone_number is not null and v_l.phone_number is not null
     and v_s.phone_number <> v_l.phone_number then
    raise exception 'profiles % and % have different phone numbers; not merged', p_survivor, p_loser
      using errcode = '23505', hint = 'a person has one phone number here; unlink one first';
  end if;

  -- Sessions: the loser's live session is folded into the survivor's (its messages move, its
  -- context and channels join), or becomes the survivor's live session if it has none.
  select * into v_live_s from public.omnichannel_sessions s
  where s.profile_id = p_survivor and s.status <> 'closed' for update;
  select * into v_live_l from public.omnichannel_sessions s
  where s.profile_id = p_loser and s.status <> 'closed' for update;
  if v_live_s.id is not null and v_live_l.id is not null then
    update public.omnichannel_sessions s
    set status = 'closed', closed_at = pg_catalog.now(),
        context = s.context || pg_catalog.jsonb_build_object('merged_into_session', v_live_s.id::text)
    where s.id = v_live_l.id;
    update public.message_delivery_log m set session_id = v_live_s.id
    where m.session_id = v_live_l.id;
    update public.omnichannel_sessions s
    set context = v_live_l.context || s.context,
        channels_seen = s.channels_seen || array(
          select c from pg_catalog.unnest(v_live_l.channels_seen) with ordinality as u(c, n)
          where c <> all (s.channels_seen) order by n),
        last_channel = case when v_live_l.last_activity_at > s.last_activity_at
                            then coalesce(v_live_l.last_channel, s.last_channel) else s.last_channel end,
        call_id = coalesce(s.call_id, v_live_l.call_id),
        whatsapp_summary_sent = s.whatsapp_summary_sent or v_live_l.whatsapp_summary_sent,
        sms_summary_sent = s.sms_summary_sent or v_live_l.sms_summary_sent,
        expires_at = greatest(s.expires_at, v_live_l.expires_at),
        last_activity_at = greatest(s.last_activity_at, v_live_l.last_activity_at)
    where s.id = v_live_s.id;
  end if;
  update public.omnichannel_sessions s set profile_id = p_survivor where s.profile_id = p_loser;
  update public.message_delivery_log m set profile_id = p_survivor where m.profile_id = p_loser;
  update public.profile_identities i set profile_id = p_survivor where i.profile_id = p_loser;

  -- Fields: the survivor's win; what it lacks comes from the loser; opt-outs are kept (either
  -- profile having said STOP means the person said STOP).
  update public.profiles p
  set phone_number = null, merged_into = p_survivor, merged_at = pg_catalog.now()
  where p.id = p_loser;
  update public.profiles p
  set phone_number = coalesce(p.phone_number, v_l.phone_number),
      user_id = coalesce(p.user_id, v_l.user_id),
      whatsapp_jid = coalesce(p.whatsapp_jid, v_l.whatsapp_jid),
      has_whatsapp = case when p.has_whatsapp or v_l.has_whatsapp then true
                          else coalesce(p.has_whatsapp, v_l.has_whatsapp) end,
      allows_sms = p.allows_sms and v_l.allows_sms,
      allows_whatsapp = p.allows_whatsapp and v_l.allows_whatsapp,
      display_name = coalesce(p.display_name, v_l.display_name),
      last_active_channel = coalesce(p.last_active_channel, v_l.last_active_channel)
  where p.id = p_survivor;
  return p_survivor;
end;
$function$;
grant execute on function public.merge_profiles(p_survivor uuid, p_loser uuid) to service_role;

CREATE OR REPLACE FUNCTION public.message_delivery_log_before_insert()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_allowed boolean;
  v_reason text;
  v_tenant uuid;
  v_session_tenant uuid;
  v_session_found boolean := false;
begin
  -- 1. The person opted out of this channel (block_opted_out_outbound, as written queued).
  if new.direction = 'outbound' and new.status = 'queued'
     and new.purpose is distinct from 'keyword_reply' and new.channel in ('whatsapp', 'sms') then
    select bool_and(case new.channel when 'whatsapp' then p.allows_whatsapp when 'sms' then p.allows_sms end)
    into v_allowed
    from public.profiles p where p.id = new.profile_id or p.phone_number = new.recipient;
    if v_allowed is false then
      new.status := 'blocked';
      new.error_code := upper(new.channel) || '.OPTED_OUT';
      new.error_class := 'permanent';
      new.error_message := 'The recipient opted out of '
        || case new.channel when 'sms' then 'SMS' else 'WhatsApp' end;
      new.leased_until := null;
    end if;
  end if;

  -- 2. The address bounced or complained, or the person opted out of email
  --    (block_undeliverable_email, as written queued).
  if new.channel = 'email' and new.direction = 'outbound' and new.status = 'queued' then
    select s.reason into v_reason from public.email_suppressions s
    where s.address = lower(new.recipient);
    if v_reason = 'bounced' then
      new.error_code := 'EMAIL.UNDELIVERABLE';
      new.error_message := 'The address bounced: no email goes to it';
      v_allowed := false;
    elsif v_reason = 'complained'
       or exists (select 1 from public.profiles p where p.id = new.profile_id and not p.allows_email) then
      new.error_code := 'EMAIL.OPTED_OUT';
      new.error_message := 'The recipient opted out of email';
      v_allowed := false;
    end if;
    if v_allowed is false then
      new.status := 'blocked';
      new.error_class := 'permanent';
      new.leased_until := null;
    end if;
  end if;

  -- 3. The status's first stamp (message_delivery_log_guard_status, on insert).
  case new.status
    when 'queued' then new.queued_at := coalesce(new.queued_at, pg_catalog.now());
    when 'sent' then new.sent_at := coalesce(new.sent_at, pg_catalog.now());
    when 'delivered' then new.delivered_at := coalesce(new.delivered_at, pg_catalog.now());
    when 'read' then new.read_at := coalesce(new.read_at, pg_catalog.now());
    when 'failed' then new.failed_at := coalesce(new.failed_at, pg_catalog.now());
    when 'received' then new.received_at := coalesce(new.received_at, pg_catalog.now());
    else null;
  end case;
  new.updated_at := pg_catalog.now();

  -- 4. The tenant (message_tenant): a writer that names another tenant is trusted; the default
  --    (the column's) is resolved from the WhatsApp number an inbound message came to, then from
  --    the conversation.
  if new.tenant_id <> '00000000-0000-0000-0000-000000000001'::uuid then
    v_tenant := new.tenant_id;
  end if;
  if v_tenant is null and new.channel = 'whatsapp' and new.direction = 'inbound'
     and new.metadata -> 'business' ->> 'phone_number_id' is not null then
    select a.tenant_id into v_tenant
    from public.channel_accounts a
    where a.kind = 'whatsapp'
      and a.external_id = new.metadata -> 'business' ->> 'phone_number_id';
  end if;
  if new.session_id is not null then
    select s.tenant_id into v_session_tenant
    from public.omnichannel_sessions s where s.id = new.session_id;
    v_session_found := found;
    v_tenant := coalesce(v_tenant, v_session_tenant);
  end if;
  new.tenant_id := coalesce(v_tenant, '00000000-0000-0000-0000-000000000001'::uuid);
  -- A conversation takes the tenant of its first message (unless another writer got there first).
  if v_session_found and v_session_tenant is null then
    update public.omnichannel_sessions s set tenant_id = new.tenant_id
    where s.id = new.session_id and s.tenant_id is null;
  end if;
  if new.profile_id is not null and not exists (
    select 1 from public.tenant_profiles t
    where t.tenant_id = new.tenant_id and t.profile_id = new.profile_id
  ) then
    insert into public.tenant_profiles (tenant_id, profile_id)
    values (new.tenant_id, new.profile_id)
    on conflict do nothing;
  end if;
  return new;
end;
$function$;

CREATE OR REPLACE FUNCTION public.message_delivery_log_guard_status()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_forward boolean;
begin
  if tg_op = 'UPDATE' then
    if new.status is not distinct from old.status then
      v_forward := false;
    else
      v_forward := case
        when old.status in ('failed', 'received', 'blocked', 'read') then false
        when new.status in ('unknown', 'sent', 'delivered', 'read')
          then pg_catalog.array_position('{queued,unknown,sent,delivered,read}'::text[], new.status)
             > pg_catalog.array_position('{queued,unknown,sent,delivered,read}'::text[], old.status)
        when new.status = 'failed' then old.status in ('queued', 'unknown', 'sent')
        when new.status = 'blocked' then old.status in ('queued', 'unknown')
        else false
      end;
      if not v_forward then
        -- As in 20261129110000: a refused move to failed leaves the error columns as they were.
        if new.status = 'failed' then
          new.error_code := old.error_code;
          new.error_message := old.error_message;
          new.error_class := old.error_class;
        end if;
        new.status := old.status;
      end if;
    end if;
  end if;

  if tg_op = 'INSERT' or v_forward then
    case new.status
      when 'queued' then new.queued_at := coalesce(new.queued_at, pg_catalog.now());
      when 'sent' then new.sent_at := coalesce(new.sent_at, pg_catalog.now());
      when 'delivered' then new.delivered_at := coalesce(new.delivered_at, pg_catalog.now());
      when 'read' then new.read_at := coalesce(new.read_at, pg_catalog.now());
      when 'failed' then new.failed_at := coalesce(new.failed_at, pg_catalog.now());
      when 'received' then new.received_at := coalesce(new.received_at, pg_catalog.now());
      else null;
    end case;
  end if;

  new.updated_at := pg_catalog.now();
  return new;
end;
$function$;

CREATE OR REPLACE FUNCTION public.message_stats(p_from timestamp with time zone, p_to timestamp with time zone, p_channel text DEFAULT NULL::text)
 RETURNS TABLE(channel text, sent integer, delivered integer, read integer, failed integer, blocked integer, delivery_rate double precision, read_rate double precision, median_seconds_to_delivered double precision, p90_seconds_to_delivered double precision, median_seconds_to_read double precision, p90_seconds_to_read double precision, median_first_response_seconds double precision)
 LANGUAGE sql
 STABLE
 SET search_path TO ''
 SET jit TO 'off'
AS $function$
  with b as (
    -- full hours [fh, lh) and full days [fd, ld) inside the window
    select x.fh, x.lh,
           date_bin('1 day', x.fh + interval '1 day' - interval '1 microsecond', timestamptz '2000-01-01 00:00:00+00') as fd,
           date_bin('1 day', x.lh, timestamptz '2000-01-01 00:00:00+00') as ld
    from (
      select date_bin('1 hour', p_from + interval '1 hour' - interval '1 microsecond', timestamptz '2000-01-01 00:00:00+00') as fh,
             date_bin('1 hour', p_to, timestamptz '2000-01-01 00:00:00+00') as lh
    ) x
  ),
  dirty as (
    select d.hour from public.message_stats_dirty d, b
    where d.hour >= b.fh and d.hour < b.lh
    union
    select u.hour from b, public.message_stats_unfolded_hours(b.fh, b.lh) as u(hour)
  ),
  dirty_days as (
    select distinct date_bin('1 day', d.hour, timestamptz '2000-01-01 00:00:00+00') as day from dirty d
  ),
  -- the hourly rollup covers the full hours outside full days, and the full days with a dirty hour
  hour_ranges as (
    select b.fh as lo, b.lh as hi from b where b.fh < b.lh and b.fd >= b.ld
    union all
    select b.fh, b.fd from b where b.fd < b.ld and b.fh < b.fd
    union all
    select b.ld, b.lh from b where b.fd < b.ld and b.ld < b.lh
    union all
    select dd.day, dd.day + interval '1 day' from dirty_days dd, b
    where b.fd < b.ld and dd.day >= b.fd and dd.day < b.ld
  ),
  raw_ranges as (
    select p_from as lo, p_to as hi from b where b.fh >= b.lh
    union all
    select p_from, b.fh from b where b.fh < b.lh and p_from < b.fh
    union all
    select b.lh, p_to from b where b.fh < b.lh and b.lh < p_to
    union all
    select d.hour, d.hour + interval '1 hour' from dirty d
  ),
  parts as (
    select x.channel, x.metric, x.bucket, x.n
    from public.message_stats_daily x, b
    where x.day >= b.fd and x.day < b.ld and (p_channel is null or x.channel = p_channel)
      and not exists (select 1 from dirty_days dd where dd.day = x.day)
    union all
    select h.channel, h.metric, h.bucket, h.n
    from hour_ranges r
    cross join lateral (
      select x.channel, x.metric, x.bucket, x.n from public.message_stats_hourly x
      where x.hour >= r.lo and x.hour < r.hi and (p_channel is null or x.channel = p_channel)
        and not exists (select 1 from dirty d where d.hour = x.hour)) h
    union all
    select r.channel, r.metric, r.bucket, r.n
    from raw_ranges x cross join lateral public.message_stats_from_log(x.lo, x.hi, p_channel) r
  ),
  summed as (
    select p.channel, p.metric, p.bucket, sum(p.n)::bigint as n
    from parts p group by p.channel, p.metric, p.bucket
  ),
  counts as (
    select s.channel,
           coalesce(sum(s.n) filter (where s.metric = 'sent'), 0) as sent,
           coalesce(sum(s.n) filter (where s.metric = 'delivered'), 0) as delivered,
           coalesce(sum(s.n) filter (where s.metric = 'read'), 0) as read,
           coalesce(sum(s.n) filter (where s.metric = 'failed'), 0) as failed,
           coalesce(sum(s.n) filter (where s.metric = 'blocked'), 0) as blocked
    from summed s group by s.channel
  ),
  running as (
    select s.channel, s.metric, s.bucket,
           sum(s.n) over (partition by s.channel, s.metric order by s.bucket) as upto,
           sum(s.n) over (partition by s.channel, s.metric) as total
    from summed s where s.metric in ('to_delivered', 'to_read', 'first_response')
  ),
  -- percentile_cont over the histogram: the values at ranks floor and ceil of p × (n − 1),
  -- interpolated as percentile_cont does.
  ranks as (
    select r.channel, r.metric, q.p,
           min(r.bucket) filter (where r.upto > floor(q.p * (r.total - 1)::double precision)) as lo,
           min(r.bucket) filter (where r.upto > ceil(q.p * (r.total - 1)::double precision)) as hi,
           q.p * (r.total - 1)::double precision - floor(q.p * (r.total - 1)::double precision) as frac
    from running r cross join (values (0.5::double precision), (0.9::double precision)) as q(p)
    group by r.channel, r.metric, r.total, q.p
  ),
  pct as (
    select k.channel,
           max(k.lo + (k.hi - k.lo) * k.frac) filter (where k.metric = 'to_delivered' and k.p = 0.5) as d50,
           max(k.lo + (k.hi - k.lo) * k.frac) filter (where k.metric = 'to_delivered' and k.p = 0.9) as d90,
           max(k.lo + (k.hi - k.lo) * k.frac) filter (where k.metric = 'to_read' and k.p = 0.5) as r50,
           max(k.lo + (k.hi - k.lo) * k.frac) filter (where k.metric = 'to_read' and k.p = 0.9) as r90,
           max(k.lo + (k.hi - k.lo) * k.frac) filter (where k.metric = 'first_response' and k.p = 0.5) as f50
    from ranks k group by k.channel
  )
  select c.channel, c.sent::integer, c.delivered::integer, c.read::integer, c.failed::integer,
         c.blocked::integer,
         case when c.sent > 0 then c.delivered::double precision / c.sent end,
         case when c.delivered > 0 then c.read::double precision / c.delivered end,
         p.d50, p.d90, p.r50, p.r90, p.f50
  from counts c
  left join pct p on p.channel = c.channel
  order by 1
$function$;
grant execute on function public.message_stats(p_from timestamp with time zone, p_to timestamp with time zone, p_channel text) to service_role;

CREATE OR REPLACE FUNCTION public.message_stats_bucket(p_seconds numeric)
 RETURNS double precision
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
 SET search_path TO ''
AS $function$
  select (case when p_seconds < 1000 then floor(p_seconds)
               else trunc(p_seconds, 2 - floor(log(p_seconds))::integer) end)::double precision
$function$;
grant execute on function public.message_stats_bucket(p_seconds numeric) to service_role;

CREATE OR REPLACE FUNCTION public.message_stats_fold_limit()
 RETURNS timestamp with time zone
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select case
    when bool_or(a.query = '<insufficient privilege>') then null
    else least(
      date_bin('1 hour', now(), timestamptz '2000-01-01 00:00:00+00'),
      min(date_bin('1 hour', a.xact_start, timestamptz '2000-01-01 00:00:00+00')))
  end
  from (select 1) one
  left join pg_catalog.pg_stat_activity a
    on a.datname = pg_catalog.current_database() and a.pid <> pg_catalog.pg_backend_pid()
$function$;
grant execute on function public.message_stats_fold_limit() to service_role;

CREATE OR REPLACE FUNCTION public.message_stats_from_log(p_from timestamp with time zone, p_to timestamp with time zone, p_channel text DEFAULT NULL::text)
 RETURNS TABLE(channel text, metric text, bucket double precision, n bigint)
 LANGUAGE sql
 STABLE
 SET search_path TO ''
 SET max_parallel_workers_per_gather TO '0'
 SET jit TO 'off'
AS $function$
  with outbound as (
    select m.channel, m.status,
           extract(epoch from m.delivered_at - m.sent_at) as to_delivered,
           extract(epoch from m.read_at - m.sent_at) as to_read
    from public.message_delivery_log m
    where m.direction = 'outbound' and m.created_at >= p_from and m.created_at < p_to
      and (p_channel is null or m.channel = p_channel)
  ),
  first_response as (
    select i.channel, extract(epoch from r.at - i.created_at) as seconds
    from public.message_delivery_log i
    cross join lateral (
      select o.created_at as at from public.message_delivery_log o
      where o.session_id = i.session_id and o.direction = 'outbound'
        and o.purpose in ('ai_reply', 'agent_reply') and o.created_at >= i.created_at
      order by o.created_at limit 1
    ) r
    where i.direction = 'inbound' and i.created_at >= p_from and i.created_at < p_to
      and i.session_id is not null and (p_channel is null or i.channel = p_channel)
      and not exists (
        select 1 from public.message_delivery_log e
        where e.session_id = i.session_id and e.direction = 'inbound'
          and e.created_at <= i.created_at and (e.created_at < i.created_at or e.id < i.id))
  )
  select o.channel, k.metric, 0::double precision, count(*)
  from outbound o
  cross join lateral unnest(case o.status
    when 'sent' then array['outbound', 'sent']
    when 'delivered' then array['outbound', 'sent', 'delivered']
    when 'read' then array['outbound', 'sent', 'delivered', 'read']
    when 'failed' then array['outbound', 'failed']
    when 'blocked' then array['outbound', 'blocked']
    else array['outbound'] end) as k(metric)
  group by o.channel, k.metric
  union all
  select o.channel, 'to_delivered', public.message_stats_bucket(o.to_delivered), count(*)
  from outbound o where o.to_delivered is not null
  group by o.channel, 3
  union all
  select o.channel, 'to_read', public.message_stats_bucket(o.to_read), count(*)
  from outbound o where o.to_read is not null
  group by o.channel, 3
  union all
  select f.channel, 'first_response', public.message_stats_bucket(f.seconds), count(*)
  from first_response f
  group by f.channel, 3
$function$;
grant execute on function public.message_stats_from_log(p_from timestamp with time zone, p_to timestamp with time zone, p_channel text) to service_role;

CREATE OR REPLACE FUNCTION public.message_stats_unfolded_hours(p_from timestamp with time zone, p_to timestamp with time zone)
 RETURNS SETOF timestamp with time zone
 LANGUAGE sql
 STABLE ROWS 2
 SET search_path TO ''
AS $function$
  select g.hour
  from public.message_stats_state s,
       generate_series(greatest(s.folded_before, p_from), p_to - interval '1 hour', interval '1 hour') as g(hour)
$function$;
grant execute on function public.message_stats_unfolded_hours(p_from timestamp with time zone, p_to timestamp with time zone) to service_role;

CREATE OR REPLACE FUNCTION public.move_conversation(p_session_id uuid, p_action text, p_assignee text DEFAULT NULL::text, p_priority text DEFAULT NULL::text, p_tags text[] DEFAULT NULL::text[], p_agent text DEFAULT NULL::text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_status text;
  v_assignee text;
begin
  select s.conversation_status, s.assignee into v_status, v_assignee
  from public.omnichannel_sessions s where s.id = p_session_id for update;
  if not found then
    raise exception 'conversation % not found', p_session_id using errcode = 'no_data_found';
  end if;
  if p_agent is not null and (v_assignee <> p_agent
      or (p_action = 'assign' and p_assignee is distinct from p_agent)) then
    raise exception 'conversation % is not this agent''s', p_session_id
      using errcode = 'OM403', hint = 'CONVERSATION.NOT_YOURS';
  end if;
  if p_action = 'assign' then
    if v_status not in ('open', 'assigned') or p_assignee is null then
      raise exception 'a % conversation cannot be assigned', v_status
        using errcode = 'OM422', hint = 'CONVERSATION.INVALID_TRANSITION';
    end if;
    update public.omnichannel_sessions s
    set conversation_status = 'assigned', assignee = p_assignee, assigned_at = now(),
        priority = coalesce(p_priority, s.priority), tags = coalesce(p_tags, s.tags)
    where s.id = p_session_id;
  elsif p_action = 'resolve' then
    if v_status = 'archived' then
      raise exception 'an archived conversation cannot be resolved'
        using errcode = 'OM422', hint = 'CONVERSATION.INVALID_TRANSITION';
    end if;
    update public.omnichannel_sessions s
    set conversation_status = 'resolved', resolved_at = coalesce(s.resolved_at, now())
    where s.id = p_session_id and s.conversation_status <> 'resolved';
  elsif p_action = 'reopen' then
    update public.omnichannel_sessions s
    set conversation_status = case when v_assignee is null then 'open' else 'assigned' end,
        resolved_at = null, archived_at = null
    where s.id = p_session_id and s.conversation_status in ('resolved', 'archived');
  else
    raise exception 'unknown action %', p_action using errcode = '22023';
  end if;
  return public.get_conversation(p_session_id);
end;
$function$;
grant execute on function public.move_conversation(p_session_id uuid, p_action text, p_assignee text, p_priority text, p_tags text[], p_agent text) to service_role;

CREATE OR REPLACE FUNCTION public.normalize_identity(p_kind text, p_value text)
 RETURNS text
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO ''
AS $function$
begin
  if p_kind is null or p_kind not in ('phone', 'messenger', 'instagram', 'email') then
    raise exception 'unknown identity kind %', coalesce(p_kind, 'null')
      using errcode = '22023', hint = 'phone, messenger, instagram or email';
  end if;
  if p_value is null or length(btrim(p_value)) = 0 then
    raise exception 'an identity of kind % needs a value', p_kind using errcode = '22023';
  end if;
  if p_kind = 'email' then
    return lower(btrim(p_value));
  end if;
  return btrim(p_value);
end;
$function$;
grant execute on function public.normalize_identity(p_kind text, p_value text) to service_role;

CREATE OR REPLACE FUNCTION public.omnichannel_set_updated_at()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  new.updated_at := pg_catalog.now();
  return new;
end;
$function$;

CREATE OR REPLACE FUNCTION public.park_outbound_outcome(p_delivery_id uuid, p_provider text DEFAULT NULL::text, p_provider_message_id text DEFAULT NULL::text)
 RETURNS text
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  update public.message_delivery_log m
  set status = case when p_provider_message_id is not null then 'sent' else 'unknown' end,
      provider = coalesce(p_provider, m.provider),
      provider_message_id = coalesce(m.provider_message_id, p_provider_message_id),
      next_attempt_at = case when p_provider_message_id is null
                             then now() + public.delivery_unknown_wait() end,
      leased_until = null
  where m.id = p_delivery_id and m.direction = 'outbound'
  returning m.status
$function$;
grant execute on function public.park_outbound_outcome(p_delivery_id uuid, p_provider text, p_provider_message_id text) to service_role;

CREATE OR REPLACE FUNCTION public.process_inbound_inbox(p_limit integer DEFAULT 100, p_claim_seconds integer DEFAULT NULL::integer)
 RETURNS TABLE(inbox_id bigint, delivery_id uuid, session_id uuid, profile_id uuid, is_new boolean, allows_sms boolean, channel text, sender text, correlation_id text, needs_reply boolean, claimed_until text)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_ids bigint[];
  v_batch jsonb;
  v_out jsonb;
  v_one jsonb;
begin
  if p_claim_seconds is not null and p_claim_seconds < 1 then
    raise exception 'p_claim_seconds must be at least 1' using errcode = '22023';
  end if;
  -- The messages owed a reply (the worker answers WhatsApp and SMS) carry the claim.
  select array_agg(q.id order by q.id),
         jsonb_agg(case when p_claim_seconds is not null
                         and q.message ->> 'channel' in ('whatsapp', 'sms')
                         and coalesce((q.message ->> 'needs_reply')::boolean, true)
                        then q.message || jsonb_build_object('claim_seconds', p_claim_seconds)
                        else q.message end
                   order by q.id)
  into v_ids, v_batch
  from (
    select i.id, i.message from public.inbound_inbox i
    where i.processed_at is null and i.attempts < 5
    order by i.id
    limit greatest(p_limit, 1)
    for update skip locked
  ) q;
  if v_ids is null then
    return;
  end if;

  begin
    select coalesce(jsonb_agg(to_jsonb(r) order by r.ordinal), '[]'::jsonb) into v_out
    from public.record_inbound_messages(v_batch) r;
  exception when others then
    v_out := '[]'::jsonb;
    for v_i in 1 .. pg_catalog.array_length(v_ids, 1) loop
      begin
        select to_jsonb(r) || jsonb_build_object('ordinal', v_i) into v_one
        from public.record_inbound_messages(jsonb_build_array(v_batch -> (v_i - 1))) r;
        v_out := v_out || jsonb_build_array(v_one);
      exception when others then
        update public.inbound_inbox i
        set attempts = i.attempts + 1, last_error = left(sqlstate || ': ' || sqlerrm, 500)
        where i.id = v_ids[v_i];
      end;
    end loop;
  end;

  -- By key: the batch's ids as one array (an index probe each), never a join the planner could
  -- answer by reading the inbox whole.
  update public.inbound_inbox i set processed_at = now()
  where i.id = any (array(select v_ids[(o ->> 'ordinal')::integer]
                          from jsonb_array_elements(v_out) as x(o)));

  -- A row this call wrote with a claim holds it until now() + p_claim_seconds: now() is the
  -- transaction's time, the same the insert used.
  return query
    select v_ids[(o ->> 'ordinal')::integer], (o ->> 'delivery_id')::uuid,
           (o ->> 'session_id')::uuid, (o ->> 'profile_id')::uuid, (o ->> 'is_new')::boolean,
           (o ->> 'allows_sms')::boolean, m ->> 'channel', m ->> 'sender', m ->> 'correlation_id',
           coalesce((m ->> 'needs_reply')::boolean, true),
           case when (o ->> 'is_new')::boolean and m ? 'claim_seconds'
                then (now() + make_interval(secs => p_claim_seconds))::text end
    from jsonb_array_elements(v_out) as x(o)
    cross join lateral (select v_batch -> ((o ->> 'ordinal')::integer - 1) as m) mm
    order by (o ->> 'ordinal')::integer;
end;
$function$;
grant execute on function public.process_inbound_inbox(p_limit integer, p_claim_seconds integer) to service_role;

CREATE OR REPLACE FUNCTION public.process_status_inbox(p_limit integer DEFAULT 500)
 RETURNS TABLE(inbox_id bigint, payload jsonb, matched boolean, delivery_id uuid, previous_status text, current_status text)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_ids bigint[];
  v_batch jsonb;
  v_out jsonb;
  v_one jsonb;
begin
  -- Planned on every call (EXECUTE), never from a plan cached in this connection: the worker
  -- polls an empty inbox for as long as no status comes, and the plan it settled on then (read
  -- the inbox whole and sort it, the cheapest way through no rows) was kept once the inbox held
  -- hundreds of thousands (the benchmark counted 202 such reads of 11.2 million rows in one run).
  -- Planned for the inbox as it is, the claim takes the owed rows in key order from
  -- status_inbox_owed_idx.
  execute
    'select array_agg(q.id order by q.provider_message_id, q.id),
            jsonb_agg(q.payload order by q.provider_message_id, q.id)
     from (
       select s.id, s.provider_message_id, s.payload from public.status_inbox s
       where s.processed_at is null and s.attempts < 5
       order by s.id
       limit $1
       for update skip locked
     ) q'
  into v_ids, v_batch
  using greatest(p_limit, 1);
  if v_ids is null then
    return;
  end if;

  begin
    select coalesce(jsonb_agg(to_jsonb(r) order by r.ordinal), '[]'::jsonb) into v_out
    from public.record_delivery_statuses(v_batch) r;
  exception when others then
    v_out := '[]'::jsonb;
    for v_i in 1 .. pg_catalog.array_length(v_ids, 1) loop
      begin
        select to_jsonb(r) || jsonb_build_object('ordinal', v_i) into v_one
        from public.record_delivery_statuses(jsonb_build_array(v_batch -> (v_i - 1))) r;
        v_out := v_out || jsonb_build_array(v_one);
      exception when others then
        update public.status_inbox s
        set attempts = s.attempts + 1, last_error = left(sqlstate || ': ' || sqlerrm, 500)
        where s.id = v_ids[v_i];
      end;
    end loop;
  end;

  -- By key, as process_inbound_inbox.
  update public.status_inbox s set processed_at = now()
  where s.id = any (array(select v_ids[(o ->> 'ordinal')::integer]
                          from jsonb_array_elements(v_out) as x(o)));

  return query
    select v_ids[(o ->> 'ordinal')::integer], v_batch -> ((o ->> 'ordinal')::integer - 1),
           (o ->> 'matched')::boolean, (o ->> 'delivery_id')::uuid, o ->> 'previous_status',
           o ->> 'current_status'
    from jsonb_array_elements(v_out) as x(o)
    order by v_ids[(o ->> 'ordinal')::integer];
end;
$function$;
grant execute on function public.process_status_inbox(p_limit integer) to service_role;

CREATE OR REPLACE FUNCTION public.profile_identity(p_profile_id uuid, p_kind text)
 RETURNS text
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
declare
  v_id uuid := public.profile_survivor(p_profile_id);
  v_value text;
begin
  if p_kind = 'phone' then
    select p.phone_number into v_value from public.profiles p where p.id = v_id;
  else
    select i.value into v_value from public.profile_identities i
    where i.profile_id = v_id and i.kind = p_kind
    order by i.created_at desc limit 1;
  end if;
  return v_value;
end;
$function$;
grant execute on function public.profile_identity(p_profile_id uuid, p_kind text) to service_role;

CREATE OR REPLACE FUNCTION public.profile_survivor(p_profile_id uuid)
 RETURNS uuid
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
declare
  v_id uuid;
begin
  -- Follows merged_into to the profile that absorbed this one (at most 32 merges deep).
  with recursive chain(id, merged_into, depth) as (
    select p.id, p.merged_into, 0 from public.profiles p where p.id = p_profile_id
    union all
    select p.id, p.merged_into, c.depth + 1
    from chain c join public.profiles p on p.id = c.merged_into
    where c.depth < 32
  )
  select c.id into v_id from chain c where c.merged_into is null order by c.depth limit 1;
  return v_id;
end;
$function$;
grant execute on function public.profile_survivor(p_profile_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.purge_processed_inboxes(p_retention interval DEFAULT '7 days'::interval, p_batch integer DEFAULT 5000)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_cutoff timestamptz := now() - p_retention;
  v_total integer := 0;
  v_n integer;
begin
  delete from public.inbound_inbox i
  where i.id in (select x.id from public.inbound_inbox x
                 where x.processed_at is not null and x.processed_at < v_cutoff
                 limit greatest(p_batch, 1));
  get diagnostics v_n = row_count;
  v_total := v_total + v_n;
  delete from public.status_inbox s
  where s.id in (select x.id from public.status_inbox x
                 where x.processed_at is not null and x.processed_at < v_cutoff
                 limit greatest(p_batch, 1));
  get diagnostics v_n = row_count;
  return v_total + v_n;
end;
$function$;
grant execute on function public.purge_processed_inboxes(p_retention interval, p_batch integer) to service_role;

CREATE OR REPLACE FUNCTION public.purge_webhook_archive(p_retention interval DEFAULT '14 days'::interval, p_batch_size integer DEFAULT 5000)
 RETURNS integer
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with doomed as (
    select a.id from public.webhook_archive a
    where a.received_at < now() - p_retention
    order by a.received_at
    limit p_batch_size
  ), purged as (
    delete from public.webhook_archive a using doomed where a.id = doomed.id returning 1
  )
  select count(*)::integer from purged
$function$;
grant execute on function public.purge_webhook_archive(p_retention interval, p_batch_size integer) to service_role;

CREATE OR REPLACE FUNCTION public.record_delivery_status(p_channel text, p_provider_message_id text, p_status text, p_error_code text DEFAULT NULL::text, p_error_message text DEFAULT NULL::text, p_error_class text DEFAULT NULL::text, p_not_on_channel boolean DEFAULT false, p_metadata jsonb DEFAULT '{}'::jsonb, p_delivery_id uuid DEFAULT NULL::uuid)
 RETURNS TABLE(matched boolean, delivery_id uuid, previous_status text, current_status text)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_before text;
  v_id uuid;
  v_row public.message_delivery_log%rowtype;
begin
  if p_status not in ('sent', 'delivered', 'read', 'failed') then
    raise exception 'a delivery status is sent, delivered, read or failed, not %', p_status
      using errcode = '22023';
  end if;
  -- The row with this provider id; else the row whose id the provider echoed back
  -- (biz_opaque_callback_data, the StatusCallback's delivery_id, clientCorrelatorId) while we
  -- never learned the provider id: a send that timed out but was accepted.
  select m.id into v_id from public.message_delivery_log m
  where m.channel = p_channel and m.provider_message_id = p_provider_message_id
    and m.direction = 'outbound';
  if v_id is null and p_delivery_id is not null then
    select m.id into v_id from public.message_delivery_log m
    where m.id = p_delivery_id and m.channel = p_channel and m.direction = 'outbound'
      and m.provider_message_id is null;
  end if;
  -- Profile first, then the delivery: the lock order of every other writer of both.
  perform 1 from public.profiles p
  where p.id = (select m.profile_id from public.message_delivery_log m where m.id = v_id)
  for update;
  select m.status into v_before from public.message_delivery_log m where m.id = v_id for update;
  if not found then
    matched := false;
    return next;
    return;
  end if;

  update public.message_delivery_log m
  set status = p_status,
      provider_message_id = coalesce(m.provider_message_id, p_provider_message_id),
      -- A callback resolving an unknown send clears the timeout it was waiting on.
      error_code = case when p_status = 'failed' then coalesce(p_error_code, m.error_code)
                        when v_before = 'unknown' then null else m.error_code end,
      error_message = case when p_status = 'failed' then coalesce(p_error_message, m.error_message)
                           when v_before = 'unknown' then null else m.error_message end,
      error_class = case when p_status = 'failed' then coalesce(p_error_class, m.error_class, 'permanent')
                         when v_before = 'unknown' then null else m.error_class end,
      next_attempt_at = case when v_before = 'unknown' and p_status <> 'failed' then null
                             else m.next_attempt_at end,
      metadata = m.metadata || coalesce(p_metadata, '{}'::jsonb)
  where m.id = v_id
  returning * into v_row;

  if p_status = 'failed' and p_not_on_channel and p_channel = 'whatsapp' and v_row.status = 'failed' then
    update public.profiles p set has_whatsapp = false where p.id = v_row.profile_id;
  end if;

  matched := true;
  delivery_id := v_row.id;
  previous_status := v_before;
  current_status := v_row.status;
  return next;
end;
$function$;
grant execute on function public.record_delivery_status(p_channel text, p_provider_message_id text, p_status text, p_error_code text, p_error_message text, p_error_class text, p_not_on_channel boolean, p_metadata jsonb, p_delivery_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.record_delivery_statuses(p_updates jsonb)
 RETURNS TABLE(ordinal integer, matched boolean, delivery_id uuid, previous_status text, current_status text)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_bad text;
  v_ord integer[];
  v_id uuid[];
  v_status text[];
  v_meta jsonb[];
  v_others uuid[];
  v_before jsonb;
  v_after jsonb;
  v_update jsonb;
  v_i bigint;
begin
  if jsonb_typeof(p_updates) is distinct from 'array' then
    raise exception 'p_updates must be a JSON array' using errcode = '22023';
  end if;
  -- The whole batch is refused for one bad status, as when each was applied in turn.
  select coalesce(e.value ->> 'status', 'null') into v_bad
  from jsonb_array_elements(p_updates) with ordinality e
  where (e.value ->> 'status') is null
     or (e.value ->> 'status') not in ('sent', 'delivered', 'read', 'failed')
  order by e.ordinality
  limit 1;
  if v_bad is not null then
    raise exception 'a delivery status is sent, delivered, read or failed, not %', v_bad
      using errcode = '22023';
  end if;

  -- Each status's row by its provider id, once; and which of them are applied together: a
  -- sent/delivered/read status, its message named once in the batch, found by its provider id
  -- (or found by nothing and carrying no row id of ours).
  select array_agg(g.ord order by m.id nulls last, g.ord) filter (where t.together),
         array_agg(m.id order by m.id nulls last, g.ord) filter (where t.together),
         array_agg(g.status order by m.id nulls last, g.ord) filter (where t.together),
         array_agg(g.metadata order by m.id nulls last, g.ord) filter (where t.together),
         array_agg(coalesce(m.id, g.echoed_id)) filter (where not t.together)
  into v_ord, v_id, v_status, v_meta, v_others
  from (
    select h.*,
           h.named = 1 and h.status in ('sent', 'delivered', 'read') as fast
    from (
      select e.ordinality::integer as ord, e.value ->> 'channel' as channel,
             e.value ->> 'provider_message_id' as provider_message_id, e.value ->> 'status' as status,
             coalesce(e.value -> 'metadata', '{}'::jsonb) as metadata,
             (e.value ->> 'delivery_id')::uuid as echoed_id,
             count(*) over (partition by e.value ->> 'channel', e.value ->> 'provider_message_id') as named
      from jsonb_array_elements(p_updates) with ordinality e
    ) h
  ) g
  left join public.message_delivery_log m
    on m.channel = g.channel and m.provider_message_id = g.provider_message_id
   and m.direction = 'outbound'
  cross join lateral (select g.fast and (m.id is not null or g.echoed_id is null) as together) t;

  -- Every profile the batch touches first, then the deliveries, each in id order: the lock order
  -- of every other writer of both (record_delivery_status, the outcomes), so two batches never
  -- wait on each other in a circle.
  perform 1 from public.profiles p
  where p.id in (
    select m.profile_id from public.message_delivery_log m
    where m.id = any (v_id) or m.id = any (v_others)
  )
  order by p.id
  for update;

  if v_ord is not null then
    select coalesce(jsonb_object_agg(l.id, l.status), '{}'::jsonb) into v_before
    from (
      select m.id, m.status from public.message_delivery_log m
      where m.id = any (v_id)
      order by m.id
      for update
    ) l;

    -- As record_delivery_status: the guard trigger keeps the status from moving backwards and
    -- stamps sent_at / delivered_at / read_at; a callback resolving an unknown send clears the
    -- timeout it was waiting on. (m.* in SET is the row as locked above.)
    with u as (
      select x.id, x.status, x.metadata
      from unnest(v_id, v_status, v_meta) as x(id, status, metadata)
      where x.id is not null
    ), done as (
      update public.message_delivery_log m
      set status = u.status,
          error_code = case when m.status = 'unknown' then null else m.error_code end,
          error_message = case when m.status = 'unknown' then null else m.error_message end,
          error_class = case when m.status = 'unknown' then null else m.error_class end,
          next_attempt_at = case when m.status = 'unknown' then null else m.next_attempt_at end,
          metadata = m.metadata || u.metadata,
          -- A forward move's stamp, and updated_at: then the guard trigger has nothing to add and
          -- does not run (a move it would refuse still runs it, and it keeps the status).
          sent_at = case when u.status = 'sent' and m.status in ('queued', 'unknown')
                         then coalesce(m.sent_at, now()) else m.sent_at end,
          delivered_at = case when u.status = 'delivered' and m.status in ('queued', 'unknown', 'sent')
                              then coalesce(m.delivered_at, now()) else m.delivered_at end,
          read_at = case when u.status = 'read' and m.status in ('queued', 'unknown', 'sent', 'delivered')
                         then coalesce(m.read_at, now()) else m.read_at end,
          updated_at = now()
      from u
      where m.id = u.id
      returning m.id, m.status
    )
    select coalesce(jsonb_object_agg(done.id, done.status), '{}'::jsonb) into v_after from done;

    return query
      select x.ord, x.id is not null, x.id, v_before ->> x.id::text, v_after ->> x.id::text
      from unnest(v_ord, v_id) as x(ord, id);
  end if;

  -- The rest, one at a time, in the batch's order.
  for v_update, v_i in
    select e.value, e.ordinality from jsonb_array_elements(p_updates) with ordinality e
    where v_ord is null or not (e.ordinality::integer = any (v_ord))
    order by e.ordinality
  loop
    ordinal := v_i::integer;
    select r.matched, r.delivery_id, r.previous_status, r.current_status
    into matched, delivery_id, previous_status, current_status
    from public.record_delivery_status(
      v_update ->> 'channel',
      v_update ->> 'provider_message_id',
      v_update ->> 'status',
      v_update ->> 'error_code',
      v_update ->> 'error_message',
      v_update ->> 'error_class',
      coalesce((v_update ->> 'not_on_channel')::boolean, false),
      coalesce(v_update -> 'metadata', '{}'::jsonb),
      (v_update ->> 'delivery_id')::uuid
    ) r;
    return next;
  end loop;
end;
$function$;
grant execute on function public.record_delivery_statuses(p_updates jsonb) to service_role;

CREATE OR REPLACE FUNCTION public.record_genesys_post(p_id bigint, p_ok boolean, p_genesys_message_id text DEFAULT NULL::text, p_error text DEFAULT NULL::text, p_retryable boolean DEFAULT false, p_retry_after_ms integer DEFAULT NULL::integer, p_request_body text DEFAULT NULL::text, p_response_status integer DEFAULT NULL::integer)
 RETURNS text
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_row public.genesys_outbox;
  v_max integer;
begin
  select l.max_attempts into v_max from public.delivery_retry_limits() l;
  update public.genesys_outbox o
  set status = case when p_ok then 'sent'
                    when p_retryable and o.attempts < v_max then 'pending'
                    else 'failed' end,
      next_attempt_at = case when not p_ok and p_retryable
                             then now() + public.delivery_retry_delay(o.attempts, p_retry_after_ms)
                             else o.next_attempt_at end,
      leased_until = null,
      last_error = case when p_ok then null else pg_catalog.left(p_error, 1000) end,
      genesys_message_id = coalesce(p_genesys_message_id, o.genesys_message_id),
      sent_at = case when p_ok then now() else o.sent_at end
  where o.id = p_id
  returning o.* into v_row;
  if p_request_body is not null and v_row.id is not null then
    insert into public.webhook_archive (direction, source, correlation_id, content_type, body, response_status)
    values ('outbound', 'genesys:' || v_row.kind, 'genesys-outbox:' || v_row.id::text,
            'application/json', p_request_body, p_response_status);
  end if;
  return v_row.status;
end;
$function$;
grant execute on function public.record_genesys_post(p_id bigint, p_ok boolean, p_genesys_message_id text, p_error text, p_retryable boolean, p_retry_after_ms integer, p_request_body text, p_response_status integer) to service_role;

CREATE OR REPLACE FUNCTION public.record_genesys_receipt(p_integration_id text, p_genesys_message_id text, p_status text, p_reason text DEFAULT NULL::text)
 RETURNS boolean
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with updated as (
    update public.genesys_messages
    set receipt_status = p_status, receipt_reason = p_reason, receipt_at = now()
    where integration_id = p_integration_id and genesys_message_id = p_genesys_message_id
    returning 1
  )
  select exists (select 1 from updated)
$function$;
grant execute on function public.record_genesys_receipt(p_integration_id text, p_genesys_message_id text, p_status text, p_reason text) to service_role;

CREATE OR REPLACE FUNCTION public.record_inbound_message(p_channel text, p_sender text, p_provider text, p_provider_message_id text, p_message_type text DEFAULT 'text'::text, p_body text DEFAULT NULL::text, p_metadata jsonb DEFAULT '{}'::jsonb, p_correlation_id text DEFAULT NULL::text, p_whatsapp_jid text DEFAULT NULL::text, p_needs_reply boolean DEFAULT true, p_display_name text DEFAULT NULL::text, p_sender_kind text DEFAULT 'phone'::text, p_claim_seconds integer DEFAULT NULL::integer)
 RETURNS TABLE(delivery_id uuid, session_id uuid, profile_id uuid, is_new boolean, allows_sms boolean)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_session record;
  v_id uuid;
  v_kind text := coalesce(p_sender_kind, 'phone');
  v_sender text;
  v_tenant uuid;
begin
  if p_provider_message_id is null or length(p_provider_message_id) = 0 then
    raise exception 'provider_message_id is required' using errcode = '22023';
  end if;
  v_sender := public.normalize_identity(v_kind, p_sender);

  -- The tenant the message's row will get (public.message_tenant: the WhatsApp number it
  -- reached, else the default), so a new session is opened with it instead of updated after.
  if p_channel = 'whatsapp' and p_metadata -> 'business' ->> 'phone_number_id' is not null then
    select a.tenant_id into v_tenant
    from public.channel_accounts a
    where a.kind = 'whatsapp' and a.external_id = p_metadata -> 'business' ->> 'phone_number_id';
  end if;
  v_tenant := coalesce(v_tenant, '00000000-0000-0000-0000-000000000001'::uuid);

  if v_kind = 'phone' then
    select * into v_session
    from public.get_or_create_session_for_profile(
      public.resolve_profile('phone', v_sender, p_channel), p_channel, null, '{}'::jsonb, null,
      v_tenant);
  else
    select * into v_session
    from public.get_or_create_session_for_profile(
      public.resolve_profile(v_kind, v_sender, p_channel, p_display_name), p_channel, null,
      '{}'::jsonb, null, v_tenant);
  end if;

  if p_channel = 'whatsapp' then
    update public.profiles p
    set has_whatsapp = true,
        whatsapp_jid = coalesce(p_whatsapp_jid, p.whatsapp_jid),
        display_name = coalesce(p.display_name, p_display_name)
    where p.id = v_session.profile_id;
  elsif p_display_name is not null then
    update public.profiles p set display_name = coalesce(p.display_name, p_display_name)
    where p.id = v_session.profile_id and p.display_name is null;
  end if;

  -- p_claim_seconds: the caller answers the message itself, so the row is written already
  -- claimed (in_progress, leased until now() + that), instead of pending and claimed after.
  insert into public.message_delivery_log as m (
    session_id, profile_id, channel, direction, message_type, status, provider,
    provider_message_id, sender, body, metadata, correlation_id, received_at, reply_state,
    leased_until
  ) values (
    v_session.session_id, v_session.profile_id, p_channel, 'inbound', p_message_type, 'received',
    p_provider, p_provider_message_id, v_sender, p_body, coalesce(p_metadata, '{}'::jsonb),
    p_correlation_id, now(),
    case when p_needs_reply is not true then 'skipped'
         when p_claim_seconds is not null then 'in_progress' else 'pending' end,
    case when p_needs_reply and p_claim_seconds is not null
         then now() + make_interval(secs => p_claim_seconds) end
  )
  on conflict (channel, provider_message_id) do nothing
  returning m.id into v_id;

  if v_id is null then
    select m.id, m.session_id, m.profile_id into delivery_id, session_id, profile_id
    from public.message_delivery_log m
    where m.channel = p_channel and m.provider_message_id = p_provider_message_id;
    is_new := false;
  else
    delivery_id := v_id;
    session_id := v_session.session_id;
    profile_id := v_session.profile_id;
    is_new := true;
  end if;
  allows_sms := v_session.allows_sms;
  return next;
end;
$function$;
grant execute on function public.record_inbound_message(p_channel text, p_sender text, p_provider text, p_provider_message_id text, p_message_type text, p_body text, p_metadata jsonb, p_correlation_id text, p_whatsapp_jid text, p_needs_reply boolean, p_display_name text, p_sender_kind text, p_claim_seconds integer) to service_role;

CREATE OR REPLACE FUNCTION public.record_inbound_messages(p_messages jsonb)
 RETURNS TABLE(ordinal bigint, delivery_id uuid, session_id uuid, profile_id uuid, is_new boolean, allows_sms boolean)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_m jsonb;
  v_ordinal bigint;
begin
  if jsonb_typeof(p_messages) is distinct from 'array' then
    raise exception 'p_messages must be a JSON array' using errcode = '22023';
  end if;
  -- Sender order (kind, then id) so two batches touching the same people lock their profile and
  -- session rows in the same order.
  for v_m, v_ordinal in
    select e.m, e.n from jsonb_array_elements(p_messages) with ordinality as e(m, n)
    order by coalesce(e.m ->> 'sender_kind', 'phone'), e.m ->> 'sender', e.n
  loop
    return query
      select v_ordinal, r.delivery_id, r.session_id, r.profile_id, r.is_new, r.allows_sms
      from public.record_inbound_message(
        v_m ->> 'channel', v_m ->> 'sender', v_m ->> 'provider', v_m ->> 'provider_message_id',
        coalesce(v_m ->> 'message_type', 'text'), v_m ->> 'body',
        coalesce(v_m -> 'metadata', '{}'::jsonb), v_m ->> 'correlation_id',
        v_m ->> 'whatsapp_jid', coalesce((v_m ->> 'needs_reply')::boolean, true),
        v_m ->> 'display_name', coalesce(v_m ->> 'sender_kind', 'phone'),
        (v_m ->> 'claim_seconds')::integer) as r;
  end loop;
end;
$function$;
grant execute on function public.record_inbound_messages(p_messages jsonb) to service_role;

CREATE OR REPLACE FUNCTION public.record_message_media(p_delivery_id uuid, p_object jsonb)
 RETURNS boolean
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  if jsonb_typeof(p_object) is distinct from 'object' then
    raise exception 'p_object must be a JSON object' using errcode = '22023';
  end if;
  update public.message_delivery_log m
  set metadata = m.metadata || jsonb_build_object('stored_media', p_object)
  where m.id = p_delivery_id;
  return found;
end;
$function$;
grant execute on function public.record_message_media(p_delivery_id uuid, p_object jsonb) to service_role;

CREATE OR REPLACE FUNCTION public.record_meta_echo(p_channel text, p_recipient text, p_mid text, p_body text DEFAULT NULL::text, p_metadata jsonb DEFAULT '{}'::jsonb, p_delivery_id uuid DEFAULT NULL::uuid, p_correlation_id text DEFAULT NULL::text)
 RETURNS TABLE(delivery_id uuid, is_new boolean)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_profile uuid;
  v_session uuid;
  v_id uuid;
begin
  select m.id into v_id from public.message_delivery_log m
  where (p_delivery_id is not null and m.id = p_delivery_id)
     or (m.channel = p_channel and m.provider_message_id = p_mid)
     or m.idempotency_key = 'echo:' || p_channel || ':' || p_mid
  limit 1;
  if v_id is null and p_delivery_id is null then
    select m.id into v_id from public.message_delivery_log m
    where m.channel = p_channel and m.direction = 'outbound' and m.recipient = p_recipient
      and m.status in ('queued', 'unknown') and m.leased_until > now()
    limit 1;
  end if;
  if v_id is not null then
    delivery_id := v_id;
    is_new := false;
    return next;
    return;
  end if;

  v_profile := public.resolve_profile(p_channel, p_recipient, p_channel);
  select s.id into v_session from public.omnichannel_sessions s
  where s.profile_id = v_profile and s.status <> 'closed' and s.expires_at > now();
  insert into public.message_delivery_log as m (
    session_id, profile_id, channel, direction, message_type, status, provider, recipient, body,
    metadata, correlation_id, purpose, idempotency_key
  ) values (
    v_session, v_profile, p_channel, 'outbound', 'text', 'sent', p_channel, p_recipient, p_body,
    coalesce(p_metadata, '{}'::jsonb) || jsonb_build_object('mid', p_mid), p_correlation_id,
    'page_echo', 'echo:' || p_channel || ':' || p_mid
  )
  on conflict do nothing
  returning m.id into v_id;
  delivery_id := v_id;
  is_new := v_id is not null;
  if v_id is null then
    select m.id into delivery_id from public.message_delivery_log m
    where m.idempotency_key = 'echo:' || p_channel || ':' || p_mid;
  end if;
  return next;
end;
$function$;
grant execute on function public.record_meta_echo(p_channel text, p_recipient text, p_mid text, p_body text, p_metadata jsonb, p_delivery_id uuid, p_correlation_id text) to service_role;

CREATE OR REPLACE FUNCTION public.record_outbound_outcome(p_delivery_id uuid, p_sent boolean, p_provider text, p_provider_message_id text DEFAULT NULL::text, p_body text DEFAULT NULL::text, p_message_type text DEFAULT 'text'::text, p_error_code text DEFAULT NULL::text, p_error_class text DEFAULT NULL::text, p_error_message text DEFAULT NULL::text, p_not_on_channel boolean DEFAULT false, p_retry_after_ms integer DEFAULT NULL::integer, p_metadata jsonb DEFAULT NULL::jsonb, p_sender_key text DEFAULT NULL::text)
 RETURNS TABLE(delivery_id uuid, status text, attempts integer, next_attempt_at timestamp with time zone, fallback_id uuid)
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  select r.delivery_id, r.status, r.attempts, r.next_attempt_at, r.fallback_id
  from public.record_outbound_outcome_row(
    p_delivery_id, p_sent, p_provider, p_provider_message_id, p_body, p_message_type,
    p_error_code, p_error_class, p_error_message, p_not_on_channel, p_retry_after_ms,
    p_metadata, p_sender_key, true
  ) r;
$function$;
grant execute on function public.record_outbound_outcome(p_delivery_id uuid, p_sent boolean, p_provider text, p_provider_message_id text, p_body text, p_message_type text, p_error_code text, p_error_class text, p_error_message text, p_not_on_channel boolean, p_retry_after_ms integer, p_metadata jsonb, p_sender_key text) to service_role;

CREATE OR REPLACE FUNCTION public.record_outbound_outcome_row(p_delivery_id uuid, p_sent boolean, p_provider text, p_provider_message_id text, p_body text, p_message_type text, p_error_code text, p_error_class text, p_error_message text, p_not_on_channel boolean, p_retry_after_ms integer, p_metadata jsonb, p_sender_key text, p_mark_summary boolean)
 RETURNS TABLE(delivery_id uuid, status text, attempts integer, next_attempt_at timestamp with time zone, fallback_id uuid, summary_session_id uuid, summary_channel text)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_row public.message_delivery_log%rowtype;
  v_limits record;
  v_retry boolean;
  v_unknown boolean;
  v_last text;
  v_channel text;
begin
  -- Lock order profile -> session -> delivery, the order begin_post_call_notification and
  -- get_or_create_omnichannel_session take them in, so concurrent requests cannot deadlock.
  select * into v_row from public.message_delivery_log m where m.id = p_delivery_id;
  if not found then
    raise exception 'delivery % not found', p_delivery_id using errcode = 'P0002';
  end if;
  select p.last_active_channel into v_last from public.profiles p where p.id = v_row.profile_id
  for update;
  perform 1 from public.omnichannel_sessions s where s.id = v_row.session_id for update;
  select * into v_row from public.message_delivery_log m where m.id = p_delivery_id for update;
  select * into v_limits from public.delivery_retry_limits();
  -- A status callback carrying this row's id already said the provider has it: a late
  -- failure (the timed-out attempt, or a retry racing the callback) changes nothing but the lease.
  if not p_sent and v_row.status in ('sent', 'delivered', 'read') then
    update public.message_delivery_log m set leased_until = null where m.id = p_delivery_id
    returning * into v_row;
    delivery_id := v_row.id;
    status := v_row.status;
    attempts := v_row.attempts;
    next_attempt_at := v_row.next_attempt_at;
    return next;
    return;
  end if;
  v_retry := not p_sent and p_error_class = 'retryable'
             and v_row.attempts < v_limits.max_attempts
             and now() < v_row.created_at + v_limits.retry_window;
  -- No answer in time: the provider may have accepted it. Once unknown, a row stays unknown
  -- until a callback or a later send says otherwise (the trigger keeps it from going back).
  v_unknown := v_retry and (p_error_code = 'TIMEOUT' or v_row.status = 'unknown');

  update public.message_delivery_log m
  set status = case when p_sent then 'sent' when v_unknown then 'unknown' when v_retry then 'queued' else 'failed' end,
      provider = coalesce(p_provider, m.provider),
      provider_message_id = coalesce(p_provider_message_id, m.provider_message_id),
      body = coalesce(p_body, m.body),
      message_type = coalesce(p_message_type, m.message_type),
      metadata = m.metadata || coalesce(p_metadata, '{}'::jsonb),
      sender_key = coalesce(p_sender_key, m.sender_key),
      error_code = case when p_sent then null else p_error_code end,
      error_class = case when p_sent then null else p_error_class end,
      error_message = case when p_sent then null else p_error_message end,
      next_attempt_at = case when v_retry
                             then now() + greatest(
                               public.delivery_retry_delay(m.attempts, p_retry_after_ms),
                               case when p_error_code = 'TIMEOUT' then public.delivery_unknown_wait()
                                    else interval '0' end)
                             end,
      leased_until = null
  where m.id = p_delivery_id
  returning * into v_row;

  if p_sent then
    if v_row.purpose = 'post_call_summary' then
      if p_mark_summary then
        perform public.mark_omnichannel_summary_sent(v_row.session_id, v_row.channel);
      else
        summary_session_id := v_row.session_id;
        summary_channel := v_row.channel;
      end if;
    end if;
    -- WhatsApp is the richer channel: once it carried a call's summary, it stays the last active one.
    v_channel := case
      when v_row.channel = 'sms' and v_last = 'whatsapp' and v_row.call_id is not null
           and exists (select 1 from public.message_delivery_log w
                       where w.call_id = v_row.call_id and w.channel = 'whatsapp'
                         and w.status in ('sent', 'delivered', 'read'))
        then 'whatsapp'
      else v_row.channel end;
    if v_channel is distinct from v_last then
      update public.profiles p set last_active_channel = v_channel where p.id = v_row.profile_id;
    end if;
  elsif not v_retry then
    if p_not_on_channel and v_row.channel = 'whatsapp' then
      update public.profiles p set has_whatsapp = false where p.id = v_row.profile_id;
    end if;
    fallback_id := public.enqueue_sms_fallback(v_row.id);
  end if;

  delivery_id := v_row.id;
  status := v_row.status;
  attempts := v_row.attempts;
  next_attempt_at := v_row.next_attempt_at;
  return next;
end;
$function$;
grant execute on function public.record_outbound_outcome_row(p_delivery_id uuid, p_sent boolean, p_provider text, p_provider_message_id text, p_body text, p_message_type text, p_error_code text, p_error_class text, p_error_message text, p_not_on_channel boolean, p_retry_after_ms integer, p_metadata jsonb, p_sender_key text, p_mark_summary boolean) to service_role;

CREATE OR REPLACE FUNCTION public.record_outbound_outcomes(p_outcomes jsonb)
 RETURNS TABLE(ordinal integer, delivery_id uuid, status text, attempts integer, next_attempt_at timestamp with time zone, fallback_id uuid)
 LANGUAGE plpgsql
 SET search_path TO ''
 SET plan_cache_mode TO 'force_generic_plan'
AS $function$
declare
  v_o jsonb;
  v_i bigint;
  v_session uuid;
  v_channel text;
  -- The summaries that went out, per session: marked once each after the outcomes.
  v_marks jsonb := '{}'::jsonb;
  v_key text;
  v_mark jsonb;
  v_wa boolean;
  v_sms boolean;
  v_all_sent boolean;
  -- The set-wise path: each person's last active channel as it was, then as it becomes.
  v_lasts jsonb;
  v_changed jsonb := '{}'::jsonb;
  v_last text;
  v_wa_calls text[] := '{}'::text[];
  v_done integer := 0;
  v_missing uuid;
  v_ids uuid[];
  v_r record;
begin
  if jsonb_typeof(p_outcomes) is distinct from 'array' then
    raise exception 'p_outcomes must be a JSON array' using errcode = '22023';
  end if;

  select coalesce(bool_and(coalesce((e.value ->> 'sent')::boolean, false)), false)
         and count(*) = count(distinct e.value ->> 'delivery_id'),
         array_agg((e.value ->> 'delivery_id')::uuid)
  into v_all_sent, v_ids
  from jsonb_array_elements(p_outcomes) e;

  if v_all_sent then
    -- Lock order profile -> session -> delivery, as begin_post_call_notification and
    -- get_or_create_omnichannel_session take them (each set in key order).
    select coalesce(jsonb_object_agg(p.id::text, p.last_active_channel), '{}'::jsonb)
    into v_lasts
    from (
      select p.id, p.last_active_channel from public.profiles p
      -- By key (= any of an array): a join to the list's elements, which the planner takes for
      -- 100 rows, reads every row of a table of a few thousand.
      where p.id = any (array(
        select m.profile_id from public.message_delivery_log m where m.id = any (v_ids)))
      order by p.id
      for update
    ) p;
    perform 1 from (
      select s.id from public.omnichannel_sessions s
      where s.id = any (array(
        select m.session_id from public.message_delivery_log m where m.id = any (v_ids)))
      order by s.id
      for update
    ) s;

    for v_r in
      with o as (
        select (e.value ->> 'delivery_id')::uuid as id, e.ordinality as i, e.value as v
        from jsonb_array_elements(p_outcomes) with ordinality e
      ),
      u as (
        update public.message_delivery_log m
        set status = 'sent',
            provider = coalesce(o.v ->> 'provider', m.provider),
            provider_message_id = coalesce(o.v ->> 'provider_message_id', m.provider_message_id),
            body = coalesce(o.v ->> 'body', m.body),
            message_type = coalesce(o.v ->> 'message_type', m.message_type),
            metadata = m.metadata || coalesce(nullif(o.v -> 'metadata', 'null'::jsonb), '{}'::jsonb),
            sender_key = coalesce(o.v ->> 'sender_key', m.sender_key),
            error_code = null,
            error_class = null,
            error_message = null,
            next_attempt_at = null,
            leased_until = null,
            -- The stamp of a forward move, and updated_at: the guard trigger then does not run.
            sent_at = case when m.status in ('queued', 'unknown') then coalesce(m.sent_at, now())
                           else m.sent_at end,
            updated_at = now()
        from o
        where m.id = any (v_ids) and m.id = o.id
        returning o.i, m.id, m.status, m.attempts, m.next_attempt_at, m.session_id, m.profile_id,
                  m.channel, m.purpose, m.call_id,
                  -- The call's WhatsApp message had gone out before this statement.
                  case when m.channel = 'sms' and m.call_id is not null then exists (
                    select 1 from public.message_delivery_log w
                    where w.call_id = m.call_id and w.channel = 'whatsapp'
                      and w.status in ('sent', 'delivered', 'read'))
                  else false end as wa_sent
      )
      select * from u order by u.i
    loop
      v_done := v_done + 1;
      ordinal := v_r.i::integer;
      delivery_id := v_r.id;
      status := v_r.status;
      attempts := v_r.attempts;
      next_attempt_at := v_r.next_attempt_at;
      fallback_id := null;
      if v_r.purpose = 'post_call_summary' and v_r.session_id is not null then
        v_marks := jsonb_set(v_marks, array[v_r.session_id::text],
                             coalesce(v_marks -> v_r.session_id::text, '{}'::jsonb)
                               || jsonb_build_object(v_r.channel, true));
      end if;
      -- WhatsApp is the richer channel: once it carried a call's summary, it stays the last
      -- active one (a WhatsApp row earlier in this list counts as it would row by row).
      if v_r.profile_id is not null then
        if v_changed ? v_r.profile_id::text then
          v_last := v_changed ->> v_r.profile_id::text;
        else
          v_last := v_lasts ->> v_r.profile_id::text;
        end if;
        v_channel := case
          when v_r.channel = 'sms' and v_last = 'whatsapp' and v_r.call_id is not null
               and (v_r.wa_sent or v_r.call_id = any (v_wa_calls))
            then 'whatsapp'
          else v_r.channel end;
        if v_channel is distinct from v_last then
          v_changed := jsonb_set(v_changed, array[v_r.profile_id::text], to_jsonb(v_channel));
        end if;
      end if;
      if v_r.channel = 'whatsapp' and v_r.call_id is not null
         and v_r.status in ('sent', 'delivered', 'read') then
        v_wa_calls := v_wa_calls || v_r.call_id;
      end if;
      return next;
    end loop;

    if v_done < jsonb_array_length(p_outcomes) then
      foreach v_missing in array v_ids loop
        exit when not exists (select 1 from public.message_delivery_log m where m.id = v_missing);
      end loop;
      raise exception 'delivery % not found', v_missing using errcode = 'P0002';
    end if;

    -- Only the people whose channel changed, each by its key (locked above).
    if v_changed <> '{}'::jsonb then
      update public.profiles p set last_active_channel = v_changed ->> p.id::text
      where p.id = any (array(select k::uuid from jsonb_object_keys(v_changed) k))
        and p.last_active_channel is distinct from v_changed ->> p.id::text;
    end if;
  else
    for v_o, v_i in select e.value, e.ordinality from jsonb_array_elements(p_outcomes) with ordinality e loop
      ordinal := v_i::integer;
      select r.delivery_id, r.status, r.attempts, r.next_attempt_at, r.fallback_id,
             r.summary_session_id, r.summary_channel
      into delivery_id, status, attempts, next_attempt_at, fallback_id, v_session, v_channel
      from public.record_outbound_outcome_row(
        (v_o ->> 'delivery_id')::uuid,
        (v_o ->> 'sent')::boolean,
        v_o ->> 'provider',
        v_o ->> 'provider_message_id',
        v_o ->> 'body',
        v_o ->> 'message_type',
        v_o ->> 'error_code',
        v_o ->> 'error_class',
        v_o ->> 'error_message',
        coalesce((v_o ->> 'not_on_channel')::boolean, false),
        (v_o ->> 'retry_after_ms')::integer,
        nullif(v_o -> 'metadata', 'null'::jsonb),
        v_o ->> 'sender_key',
        false
      ) r;
      if v_session is not null then
        v_marks := jsonb_set(v_marks, array[v_session::text],
                             coalesce(v_marks -> v_session::text, '{}'::jsonb)
                               || jsonb_build_object(v_channel, true));
      end if;
      return next;
    end loop;
  end if;

  -- Each session's row is already locked by its outcomes above; updated by its key.
  if v_marks = '{}'::jsonb then
    return;
  end if;
  for v_key, v_mark in select e.key, e.value from jsonb_each(v_marks) e loop
    v_wa := coalesce((v_mark ->> 'whatsapp')::boolean, false);
    v_sms := coalesce((v_mark ->> 'sms')::boolean, false);
    update public.omnichannel_sessions s
    set whatsapp_summary_sent = s.whatsapp_summary_sent or v_wa,
        whatsapp_summary_sent_at = case when v_wa then now() else s.whatsapp_summary_sent_at end,
        sms_summary_sent = s.sms_summary_sent or v_sms,
        sms_summary_sent_at = case when v_sms then now() else s.sms_summary_sent_at end
    where s.id = v_key::uuid;
  end loop;
end;
$function$;
grant execute on function public.record_outbound_outcomes(p_outcomes jsonb) to service_role;

CREATE OR REPLACE FUNCTION public.record_sms_keyword(p_sender text, p_provider text, p_provider_message_id text, p_body text, p_keyword text, p_reply_body text, p_metadata jsonb DEFAULT '{}'::jsonb, p_correlation_id text DEFAULT NULL::text, p_only_when_opted_out boolean DEFAULT false)
 RETURNS TABLE(delivery_id uuid, session_id uuid, profile_id uuid, is_new boolean, keyword_applied boolean, allows_sms boolean, changed boolean, reply_delivery_id uuid, reply_status text)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_in record;
  v_allows_before boolean;
  v_reply_status text;
begin
  if p_keyword is null or p_keyword not in ('stop', 'start', 'help') then
    raise exception 'an SMS keyword is stop, start or help, not %', p_keyword using errcode = '22023';
  end if;

  keyword_applied := true;
  if p_only_when_opted_out then
    select p.allows_sms into v_allows_before from public.profiles p where p.phone_number = p_sender;
    keyword_applied := v_allows_before is not null and not v_allows_before;
  end if;

  select * into v_in from public.record_inbound_message(
    'sms', p_sender, p_provider, p_provider_message_id, 'text', p_body,
    coalesce(p_metadata, '{}'::jsonb)
      || case when keyword_applied then jsonb_build_object('keyword', p_keyword) else '{}'::jsonb end,
    p_correlation_id, null, not keyword_applied, null);

  delivery_id := v_in.delivery_id;
  session_id := v_in.session_id;
  profile_id := v_in.profile_id;
  is_new := v_in.is_new;
  changed := false;

  if v_in.is_new and keyword_applied and p_keyword in ('stop', 'start') then
    select c.changed into changed from public.set_sms_preference(p_sender, p_keyword = 'start') c;
  end if;

  select p.allows_sms into allows_sms from public.profiles p where p.id = v_in.profile_id;

  if v_in.is_new and keyword_applied and (changed or p_keyword = 'help') then
    v_reply_status := case when p_keyword = 'help' and not allows_sms then 'blocked' else 'queued' end;
    insert into public.message_delivery_log as m (
      session_id, profile_id, channel, direction, message_type, status, provider, recipient, body,
      metadata, correlation_id, purpose, idempotency_key, attempts, leased_until,
      error_code, error_class, error_message
    ) values (
      v_in.session_id, v_in.profile_id, 'sms', 'outbound', 'text', v_reply_status, p_provider,
      p_sender, p_reply_body,
      jsonb_build_object('keyword', p_keyword, 'in_reply_to', v_in.delivery_id),
      p_correlation_id, 'keyword_reply',
      'sms-keyword:' || p_provider || ':' || p_provider_message_id,
      case when v_reply_status = 'queued' then 1 else 0 end,
      case when v_reply_status = 'queued' then now() + interval '2 minutes' end,
      case when v_reply_status = 'blocked' then 'SMS.OPTED_OUT' end,
      case when v_reply_status = 'blocked' then 'permanent' end,
      case when v_reply_status = 'blocked' then 'The recipient opted out of SMS' end
    )
    on conflict (idempotency_key) do nothing
    returning m.id, m.status into reply_delivery_id, reply_status;
  end if;

  return next;
end;
$function$;
grant execute on function public.record_sms_keyword(p_sender text, p_provider text, p_provider_message_id text, p_body text, p_keyword text, p_reply_body text, p_metadata jsonb, p_correlation_id text, p_only_when_opted_out boolean) to service_role;

CREATE OR REPLACE FUNCTION public.record_webhook_replay(p_id bigint, p_status integer)
 RETURNS boolean
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with replayed as (
    update public.webhook_archive
    set replay_count = replay_count + 1, last_replayed_at = now(), last_replay_status = p_status
    where id = p_id
    returning 1
  )
  select exists (select 1 from replayed)
$function$;
grant execute on function public.record_webhook_replay(p_id bigint, p_status integer) to service_role;

CREATE OR REPLACE FUNCTION public.refresh_message_stats(p_max_hours integer DEFAULT 200)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_hours timestamptz[];
  v_limit timestamptz;
  v_from timestamptz;
  v_to timestamptz;
  v_max constant integer := greatest(p_max_hours, 1);
begin
  if not pg_try_advisory_xact_lock(hashtext('public.refresh_message_stats')) then
    return 0;
  end if;
  with taken as (
    delete from public.message_stats_dirty d
    where (d.hour, d.shard) in (
      select x.hour, x.shard from public.message_stats_dirty x
      where x.hour < date_bin('1 hour', now(), timestamptz '2000-01-01 00:00:00+00')
        and x.hour in (
          select distinct y.hour from public.message_stats_dirty y
          where y.hour < date_bin('1 hour', now(), timestamptz '2000-01-01 00:00:00+00')
          order by y.hour limit v_max)
      for update skip locked)
    returning d.hour
  )
  select array_agg(distinct t.hour) into v_hours from taken t;

  v_limit := public.message_stats_fold_limit();
  select s.folded_before into v_from from public.message_stats_state s for update;
  if v_from is null then
    v_from := coalesce(v_limit, date_bin('1 hour', now(), timestamptz '2000-01-01 00:00:00+00'));
    insert into public.message_stats_state (folded_before) values (v_from);
  end if;
  -- Without a limit (some transaction's start cannot be seen) only the marked hours are folded.
  v_to := coalesce(least(v_limit, v_from + make_interval(hours => v_max)), v_from);
  if v_to > v_from then
    select coalesce(v_hours, array[]::timestamptz[]) || array_agg(g.hour) into v_hours
    from generate_series(v_from, v_to - interval '1 hour', interval '1 hour') as g(hour);
    update public.message_stats_state set folded_before = v_to;
  end if;
  if v_hours is null then
    return 0;
  end if;
  select array_agg(distinct h.hour) into v_hours from unnest(v_hours) as h(hour);

  delete from public.message_stats_hourly h where h.hour = any (v_hours);
  insert into public.message_stats_hourly (hour, channel, metric, bucket, n)
  select t.hour, r.channel, r.metric, r.bucket, r.n
  from unnest(v_hours) as t(hour)
  cross join lateral public.message_stats_from_log(t.hour, t.hour + interval '1 hour') r;

  delete from public.message_stats_daily d
  where d.day in (select date_bin('1 day', t.hour, timestamptz '2000-01-01 00:00:00+00') from unnest(v_hours) as t(hour));
  insert into public.message_stats_daily (day, channel, metric, bucket, n)
  select x.day, h.channel, h.metric, h.bucket, sum(h.n)::bigint
  from (select distinct date_bin('1 day', t.hour, timestamptz '2000-01-01 00:00:00+00') as day
        from unnest(v_hours) as t(hour)) x
  join public.message_stats_hourly h on h.hour >= x.day and h.hour < x.day + interval '1 day'
  group by x.day, h.channel, h.metric, h.bucket;
  return cardinality(v_hours);
end;
$function$;
grant execute on function public.refresh_message_stats(p_max_hours integer) to service_role;

CREATE OR REPLACE FUNCTION public.release_deliveries(p_ids uuid[], p_at timestamp with time zone DEFAULT now())
 RETURNS integer
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with released as (
    update public.message_delivery_log m
    set leased_until = null, next_attempt_at = p_at, attempts = greatest(m.attempts - 1, 0)
    where m.id = any (p_ids) and m.status in ('queued', 'unknown')
    returning 1
  )
  select count(*)::integer from released
$function$;
grant execute on function public.release_deliveries(p_ids uuid[], p_at timestamp with time zone) to service_role;

CREATE OR REPLACE FUNCTION public.release_webhook_event(p_source text, p_event_id text)
 RETURNS void
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  delete from public.webhook_event_ids w where w.source = p_source and w.event_id = p_event_id;
$function$;
grant execute on function public.release_webhook_event(p_source text, p_event_id text) to service_role;

CREATE OR REPLACE FUNCTION public.reopen_conversation_on_inbound()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  update public.omnichannel_sessions s
  set conversation_status = case when s.assignee is null then 'open' else 'assigned' end,
      resolved_at = null
  where s.id = new.session_id and s.conversation_status = 'resolved'
    and new.created_at > s.resolved_at;
  return null;
end;
$function$;

CREATE OR REPLACE FUNCTION public.request_whatsapp_template_sync()
 RETURNS boolean
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  if not exists (select 1 from pg_catalog.pg_extension x where x.extname = 'pg_net')
     or not exists (select 1 from pg_catalog.pg_extension x where x.extname = 'supabase_vault') then
    raise notice 'pg_net or Vault is missing: the WhatsApp template sync is left to the local stack';
    return false;
  end if;
  execute pg_catalog.format($job$
    select %1$I.http_post(
      url := (select decrypted_secret from %2$I.decrypted_secrets
              where name = 'omnichannel_functions_url') || '/messages/templates/sync',
      headers := jsonb_build_object(
        'Content-Type', 'application/json',
        'apikey', (select decrypted_secret from %2$I.decrypted_secrets
                   where name = 'omnichannel_secret_key')),
      body := '{}'::jsonb,
      timeout_milliseconds := 60000)
  $job$, 'net', 'vault');
  return true;
end;
$function$;
grant execute on function public.request_whatsapp_template_sync() to service_role;

CREATE OR REPLACE FUNCTION public.resolve_channel_account(p_kind text, p_external_id text)
 RETURNS TABLE(account_id uuid, tenant_id uuid, routing text, settings jsonb, credentials jsonb)
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select a.id, a.tenant_id, a.routing, a.settings,
    coalesce((select s.decrypted_secret::jsonb from vault.decrypted_secrets s
              where s.id = a.credentials_secret_id), '{}')
  from public.channel_accounts a
  where a.kind = p_kind and a.external_id = p_external_id and a.disabled_at is null
$function$;
grant execute on function public.resolve_channel_account(p_kind text, p_external_id text) to service_role;

CREATE OR REPLACE FUNCTION public.resolve_profile(p_kind text, p_value text, p_channel text DEFAULT NULL::text, p_display_name text DEFAULT NULL::text)
 RETURNS uuid
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_value text := public.normalize_identity(p_kind, p_value);
  v_id uuid;
  v_name text;
begin
  if p_kind = 'phone' then
    select p.id, p.display_name into v_id, v_name from public.profiles p where p.phone_number = v_value;
    if found then
      if v_name is null and p_display_name is not null then
        update public.profiles p set display_name = p_display_name
        where p.id = v_id and p.display_name is null;
      end if;
      return v_id;
    end if;
    insert into public.profiles as p (phone_number, last_active_channel, display_name)
    values (v_value, p_channel, p_display_name)
    on conflict (phone_number) do update
      set display_name = coalesce(p.display_name, excluded.display_name)
    returning p.id into v_id;
    return v_id;
  end if;

  for attempt in 1..3 loop
    select i.profile_id into v_id from public.profile_identities i
    where i.kind = p_kind and i.value = v_value;
    if found then
      if p_display_name is not null then
        update public.profiles p set display_name = p_display_name
        where p.id = v_id and p.display_name is null;
      end if;
      return v_id;
    end if;

    insert into public.profiles as p (last_active_channel, display_name)
    values (p_channel, p_display_name)
    returning p.id into v_id;
    insert into public.profile_identities (kind, value, profile_id)
    values (p_kind, v_value, v_id)
    on conflict (kind, value) do nothing;
    if found then
      return v_id;
    end if;
    -- Another transaction created this identity first (and we waited for its commit): drop the
    -- profile we made and take theirs.
    delete from public.profiles p where p.id = v_id;
  end loop;
  raise exception 'could not resolve the % identity %', p_kind, v_value using errcode = '40001';
end;
$function$;
grant execute on function public.resolve_profile(p_kind text, p_value text, p_channel text, p_display_name text) to service_role;

CREATE OR REPLACE FUNCTION public.retry_delivery(p_delivery_id uuid)
 RETURNS uuid
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_row public.message_delivery_log%rowtype;
  v_id uuid;
begin
  select * into v_row from public.message_delivery_log m where m.id = p_delivery_id;
  if not found then
    raise exception 'delivery % not found', p_delivery_id using errcode = 'P0002';
  end if;
  if v_row.direction <> 'outbound' or v_row.status <> 'failed' then
    raise exception 'only a failed outbound message can be retried (this one is % %)',
      v_row.direction, v_row.status using errcode = '22023';
  end if;
  insert into public.message_delivery_log (
    session_id, profile_id, channel, direction, message_type, status, recipient, body, metadata,
    correlation_id, call_id, purpose, sender_key, retry_of, attempts, next_attempt_at
  ) values (
    v_row.session_id, v_row.profile_id, v_row.channel, 'outbound', v_row.message_type, 'queued',
    v_row.recipient, v_row.body, v_row.metadata, v_row.correlation_id, v_row.call_id,
    v_row.purpose, v_row.sender_key, v_row.id, 0, now()
  )
  returning id into v_id;
  return v_id;
end;
$function$;
grant execute on function public.retry_delivery(p_delivery_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.retry_genesys_post(p_id bigint)
 RETURNS boolean
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with retried as (
    update public.genesys_outbox
    set status = 'pending', attempts = 0, next_attempt_at = now(), last_error = null
    where id = p_id and status = 'failed'
    returning 1
  )
  select exists (select 1 from retried)
$function$;
grant execute on function public.retry_genesys_post(p_id bigint) to service_role;

CREATE OR REPLACE FUNCTION public.run_conversation_sla(p_first_response interval DEFAULT '02:00:00'::interval, p_next_response interval DEFAULT '02:00:00'::interval, p_idle interval DEFAULT '24:00:00'::interval, p_archive_after interval DEFAULT '7 days'::interval)
 RETURNS TABLE(breached integer, resolved integer, reopened integer, archived integer)
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with live as (
    select s.id, s.conversation_status, s.resolved_at, s.assignee, s.created_at, s.assigned_at,
           i.first_in, i.last_in, r.first_reply, r.last_reply,
           (select min(n.created_at) from public.message_delivery_log n
            where n.session_id = s.id and n.direction = 'inbound' and n.created_at > r.last_reply) as pending_since
    from public.omnichannel_sessions s
    cross join lateral (
      select min(m.created_at) as first_in, max(m.created_at) as last_in
      from public.message_delivery_log m where m.session_id = s.id and m.direction = 'inbound'
    ) i
    cross join lateral (
      select min(o.created_at) as first_reply, max(o.created_at) as last_reply
      from public.message_delivery_log o
      where o.session_id = s.id and o.direction = 'outbound' and o.purpose in ('agent_reply', 'ai_reply')
        and o.status not in ('failed', 'blocked') and o.created_at >= i.first_in
    ) r
    where s.conversation_status in ('open', 'assigned', 'resolved')
  ),
  due as (
    select l.id, 'first_response'::text as kind, l.first_in + p_first_response as due_at
    from live l
    where l.conversation_status in ('open', 'assigned') and l.first_in is not null
      and coalesce(l.first_reply, now()) > l.first_in + p_first_response
    union all
    select l.id, 'next_response', l.pending_since + p_next_response
    from live l
    where l.conversation_status in ('open', 'assigned') and l.pending_since is not null
      and now() > l.pending_since + p_next_response
  ),
  breaches as (
    insert into public.conversation_sla_breaches (session_id, kind, due_at)
    select d.id, d.kind, d.due_at from due d
    on conflict do nothing
    returning 1
  ),
  moved as (
    update public.omnichannel_sessions s
    set conversation_status = case
          when l.conversation_status = 'resolved' and l.last_in > l.resolved_at
            then case when l.assignee is null then 'open' else 'assigned' end
          when l.conversation_status = 'resolved' then 'archived'
          else 'resolved' end,
        resolved_at = case when l.conversation_status = 'resolved' and l.last_in > l.resolved_at then null
                           when l.conversation_status = 'resolved' then s.resolved_at
                           else now() end,
        archived_at = case when l.conversation_status = 'resolved' and not coalesce(l.last_in > l.resolved_at, false)
                           then now() else s.archived_at end
    from live l
    where s.id = l.id and (
      (l.conversation_status in ('open', 'assigned')
       and greatest(l.last_in, l.last_reply, l.assigned_at, l.created_at) < now() - p_idle)
      or (l.conversation_status = 'resolved' and l.last_in > l.resolved_at)
      or (l.conversation_status = 'resolved' and l.resolved_at < now() - p_archive_after
          and not coalesce(l.last_in > l.resolved_at, false)))
    returning l.conversation_status as was, s.conversation_status as now_is
  )
  select (select count(*) from breaches)::integer,
         (select count(*) from moved where now_is = 'resolved')::integer,
         (select count(*) from moved where was = 'resolved' and now_is in ('open', 'assigned'))::integer,
         (select count(*) from moved where now_is = 'archived')::integer
$function$;
grant execute on function public.run_conversation_sla(p_first_response interval, p_next_response interval, p_idle interval, p_archive_after interval) to service_role;

CREATE OR REPLACE FUNCTION public.save_channel_account(p_tenant_id uuid, p_kind text, p_external_id text, p_credentials jsonb DEFAULT NULL::jsonb, p_display_name text DEFAULT NULL::text, p_routing text DEFAULT NULL::text, p_settings jsonb DEFAULT NULL::jsonb)
 RETURNS uuid
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_id uuid;
  v_secret uuid;
begin
  if p_credentials is not null and jsonb_typeof(p_credentials) <> 'object' then
    raise exception 'p_credentials must be a JSON object' using errcode = '22023';
  end if;
  insert into public.channel_accounts as a (tenant_id, kind, external_id, display_name, routing,
                                            settings)
  values (p_tenant_id, p_kind, p_external_id, p_display_name, coalesce(p_routing, 'ai'),
          coalesce(p_settings, '{}'))
  on conflict (kind, external_id) do update set
    display_name = coalesce(excluded.display_name, a.display_name),
    routing = coalesce(p_routing, a.routing),
    settings = coalesce(p_settings, a.settings)
  -- An account never moves to another tenant by being saved again.
  where a.tenant_id = excluded.tenant_id
  returning a.id, a.credentials_secret_id into v_id, v_secret;
  if v_id is null then
    raise exception '% account % belongs to another tenant', p_kind, p_external_id
      using errcode = '23505';
  end if;
  if p_credentials is not null then
    if v_secret is null then
      v_secret := vault.create_secret(p_credentials::text, 'channel_account:' || v_id::text,
        p_kind || ' credentials');
      update public.channel_accounts set credentials_secret_id = v_secret where id = v_id;
    else
      perform vault.update_secret(v_secret, p_credentials::text);
    end if;
  end if;
  return v_id;
end;
$function$;
grant execute on function public.save_channel_account(p_tenant_id uuid, p_kind text, p_external_id text, p_credentials jsonb, p_display_name text, p_routing text, p_settings jsonb) to service_role;

CREATE OR REPLACE FUNCTION public.save_meta_profile(p_channel text, p_external_id text, p_name text DEFAULT NULL::text, p_username text DEFAULT NULL::text, p_profile_pic text DEFAULT NULL::text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_profile uuid;
begin
  update public.meta_profiles mp
  set name = coalesce(p_name, mp.name),
      username = coalesce(p_username, mp.username),
      profile_pic = coalesce(p_profile_pic, mp.profile_pic),
      fetched_at = now(),
      fetch_started_at = null
  where mp.channel = p_channel and mp.external_id = p_external_id
  returning mp.profile_id into v_profile;
  if v_profile is not null and coalesce(p_name, p_username) is not null then
    -- The person may have been merged into another profile since the claim.
    update public.profiles p set display_name = coalesce(p.display_name, p_name, p_username)
    where p.id = public.profile_survivor(v_profile) and p.display_name is null;
  end if;
end;
$function$;
grant execute on function public.save_meta_profile(p_channel text, p_external_id text, p_name text, p_username text, p_profile_pic text) to service_role;

CREATE OR REPLACE FUNCTION public.schedule_dispatch(p_functions_url text, p_secret_key text, p_schedule text DEFAULT '* * * * *'::text)
 RETURNS text
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_missing text[];
  v_name text;
  v_value text;
  v_id uuid;
begin
  if p_functions_url !~ '^https?://' then
    raise exception 'p_functions_url must be the functions base URL, e.g. https://<ref>.supabase.co/functions/v1'
      using errcode = '22023';
  end if;
  if coalesce(length(p_secret_key), 0) < 20 then
    raise exception 'p_secret_key must be a secret key (sb_secret_…) of the project'
      using errcode = '22023';
  end if;
  select array_agg(e) into v_missing
  from unnest(array['pg_cron', 'pg_net', 'supabase_vault']) as e
  where not exists (select 1 from pg_catalog.pg_extension x where x.extname = e);
  if v_missing is not null then
    raise exception 'cannot schedule dispatch: extension(s) % not installed; the local stack calls dispatch itself',
      pg_catalog.array_to_string(v_missing, ', ') using errcode = '55000';
  end if;

  foreach v_name in array array['omnichannel_functions_url', 'omnichannel_secret_key'] loop
    v_value := case when v_name = 'omnichannel_functions_url'
                    then pg_catalog.rtrim(p_functions_url, '/') else p_secret_key end;
    execute pg_catalog.format('select id from %I.secrets where name = $1', 'vault') into v_id using v_name;
    if v_id is null then
      execute pg_catalog.format('select %I.create_secret($1, $2)', 'vault') using v_value, v_name;
    else
      execute pg_catalog.format('select %I.update_secret($1, $2)', 'vault') using v_id, v_value;
    end if;
  end loop;
  -- The legacy key the previous version stored is no longer read by the job.
  execute pg_catalog.format('delete from %I.secrets where name = $1', 'vault')
    using 'omnichannel_service_role_key';

  execute pg_catalog.format('select %I.schedule($1, $2, $3)', 'cron') using
    'omnichannel-dispatch', p_schedule, public.dispatch_job_command();
  return 'omnichannel-dispatch scheduled (' || p_schedule || ')';
end;
$function$;
grant execute on function public.schedule_dispatch(p_functions_url text, p_secret_key text, p_schedule text) to service_role;
comment on function public.schedule_dispatch(p_functions_url text, p_secret_key text, p_schedule text) is 'Schedules POST <functions url>/dispatch every minute with pg_cron + pg_net, the secret key sent as apikey; URL and key kept in Vault.';

CREATE OR REPLACE FUNCTION public.set_blocked_body(p_delivery_id uuid, p_body text)
 RETURNS void
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  update public.message_delivery_log m
  set body = p_body
  where m.id = p_delivery_id and m.status = 'blocked' and m.body is null
$function$;
grant execute on function public.set_blocked_body(p_delivery_id uuid, p_body text) to service_role;

CREATE OR REPLACE FUNCTION public.set_channel_account_disabled(p_tenant_id uuid, p_account_id uuid, p_disabled boolean)
 RETURNS boolean
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with changed as (
    update public.channel_accounts a
    set disabled_at = case when p_disabled then coalesce(a.disabled_at, now()) end
    where a.id = p_account_id and a.tenant_id = p_tenant_id
    returning 1
  )
  select exists (select 1 from changed)
$function$;
grant execute on function public.set_channel_account_disabled(p_tenant_id uuid, p_account_id uuid, p_disabled boolean) to service_role;

CREATE OR REPLACE FUNCTION public.set_channel_preference(p_phone_number text, p_channel text, p_allowed boolean)
 RETURNS TABLE(profile_id uuid, changed boolean)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_before boolean;
begin
  if p_channel not in ('whatsapp', 'sms') then
    raise exception 'unknown channel %', p_channel using errcode = '22023';
  end if;
  insert into public.profiles as p (phone_number) values (p_phone_number)
  on conflict (phone_number) do nothing;
  select p.id, case p_channel when 'sms' then p.allows_sms else p.allows_whatsapp end
  into profile_id, v_before
  from public.profiles p where p.phone_number = p_phone_number for update;
  update public.profiles p
  set allows_sms = case when p_channel = 'sms' then p_allowed else p.allows_sms end,
      allows_whatsapp = case when p_channel = 'whatsapp' then p_allowed else p.allows_whatsapp end
  where p.id = profile_id;
  changed := v_before is distinct from p_allowed;
  return next;
end;
$function$;
grant execute on function public.set_channel_preference(p_phone_number text, p_channel text, p_allowed boolean) to service_role;

CREATE OR REPLACE FUNCTION public.set_email_preference(p_address text, p_allowed boolean)
 RETURNS uuid
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_profile_id uuid := public.resolve_profile('email', lower(btrim(p_address)), 'email');
begin
  update public.profiles p set allows_email = p_allowed where p.id = v_profile_id;
  return v_profile_id;
end;
$function$;
grant execute on function public.set_email_preference(p_address text, p_allowed boolean) to service_role;

CREATE OR REPLACE FUNCTION public.set_sender_rate(p_sender_key text, p_rate_per_second double precision, p_burst double precision DEFAULT NULL::double precision)
 RETURNS void
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  insert into public.sender_rate_limits (sender_key, rate_per_second, burst, tokens)
  values (p_sender_key, p_rate_per_second, coalesce(p_burst, greatest(1, p_rate_per_second / 10)),
          coalesce(p_burst, greatest(1, p_rate_per_second / 10)))
  on conflict (sender_key) do update
  set rate_per_second = excluded.rate_per_second, burst = excluded.burst, updated_at = now()
$function$;
grant execute on function public.set_sender_rate(p_sender_key text, p_rate_per_second double precision, p_burst double precision) to service_role;

CREATE OR REPLACE FUNCTION public.set_sms_preference(p_phone_number text, p_allows_sms boolean)
 RETURNS TABLE(profile_id uuid, changed boolean)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_before boolean;
begin
  insert into public.profiles as p (phone_number, allows_sms, last_active_channel)
  values (p_phone_number, true, 'sms')
  on conflict (phone_number) do nothing;
  select p.id, p.allows_sms into profile_id, v_before
  from public.profiles p where p.phone_number = p_phone_number for update;
  update public.profiles p set allows_sms = p_allows_sms, last_active_channel = 'sms'
  where p.id = profile_id;
  changed := v_before is distinct from p_allows_sms;
  return next;
end;
$function$;
grant execute on function public.set_sms_preference(p_phone_number text, p_allows_sms boolean) to service_role;

CREATE OR REPLACE FUNCTION public.slow_down_sender(p_sender_key text, p_retry_after_ms integer DEFAULT NULL::integer)
 RETURNS void
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  update public.sender_rate_limits r
  set tokens = least(0, r.tokens),
      refilled_at = clock_timestamp() + make_interval(secs => coalesce(p_retry_after_ms, 0) / 1000.0),
      slowed_until = now() + greatest(interval '1 minute',
                                      make_interval(secs => coalesce(p_retry_after_ms, 0) / 1000.0)),
      updated_at = now()
  where r.sender_key = p_sender_key
$function$;
grant execute on function public.slow_down_sender(p_sender_key text, p_retry_after_ms integer) to service_role;

CREATE OR REPLACE FUNCTION public.start_conversation_handoff(p_tenant_id uuid, p_session_id uuid, p_whatsapp_id text, p_requested_by text, p_reason text, p_phone_number_id text DEFAULT NULL::text, p_summary text DEFAULT NULL::text, p_delivery_id uuid DEFAULT NULL::uuid, p_attributes jsonb DEFAULT '{}'::jsonb)
 RETURNS TABLE(handoff_id uuid, is_new boolean, outbox_id bigint)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  insert into public.conversation_handoffs as h
    (tenant_id, session_id, whatsapp_id, phone_number_id, requested_by, reason, summary, delivery_id)
  values (p_tenant_id, p_session_id, p_whatsapp_id, p_phone_number_id, p_requested_by,
          pg_catalog.left(p_reason, 500), pg_catalog.left(p_summary, 2000), p_delivery_id)
  on conflict (session_id) where state <> 'closed' do nothing
  returning h.id into handoff_id;
  is_new := handoff_id is not null;
  if not is_new then
    select h.id into handoff_id from public.conversation_handoffs h
    where h.session_id = p_session_id and h.state <> 'closed';
  end if;
  if p_delivery_id is not null then
    outbox_id := public.enqueue_genesys_post(
      p_tenant_id => p_tenant_id, p_kind => 'message',
      p_dedupe_key => 'message:' || p_delivery_id::text, p_delivery_id => p_delivery_id,
      p_payload => case when is_new then p_attributes else '{}'::jsonb end);
  end if;
  return next;
end;
$function$;
grant execute on function public.start_conversation_handoff(p_tenant_id uuid, p_session_id uuid, p_whatsapp_id text, p_requested_by text, p_reason text, p_phone_number_id text, p_summary text, p_delivery_id uuid, p_attributes jsonb) to service_role;

CREATE OR REPLACE FUNCTION public.store_oauth_token(p_token_key text, p_access_token text, p_expires_in_seconds integer)
 RETURNS timestamp with time zone
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_secret uuid;
  v_expires timestamptz := now() + make_interval(secs => p_expires_in_seconds);
begin
  select t.secret_id into v_secret from public.oauth_tokens t
  where t.token_key = p_token_key for update;
  -- A secret of a row that was deleted (by an operator) is reused, not duplicated.
  v_secret := coalesce(v_secret,
    (select s.id from vault.secrets s where s.name = 'oauth_token:' || p_token_key));
  if v_secret is null then
    v_secret := vault.create_secret(p_access_token, 'oauth_token:' || p_token_key, 'OAuth access token');
  else
    perform vault.update_secret(v_secret, p_access_token);
  end if;
  insert into public.oauth_tokens as t (token_key, secret_id, expires_at)
  values (p_token_key, v_secret, v_expires)
  on conflict (token_key) do update
    set secret_id = v_secret, expires_at = v_expires, refreshing_until = null, updated_at = now();
  return v_expires;
end;
$function$;
grant execute on function public.store_oauth_token(p_token_key text, p_access_token text, p_expires_in_seconds integer) to service_role;

CREATE OR REPLACE FUNCTION public.suppress_email_address(p_address text, p_reason text, p_detail text DEFAULT NULL::text, p_provider_message_id text DEFAULT NULL::text)
 RETURNS uuid
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_profile_id uuid;
begin
  if p_reason not in ('bounced', 'complained') then
    raise exception 'a suppression is bounced or complained, not %', p_reason using errcode = '22023';
  end if;
  insert into public.email_suppressions as s (address, reason, detail, provider_message_id)
  values (lower(trim(p_address)), p_reason, left(p_detail, 500), p_provider_message_id)
  on conflict (address) do update
    set reason = case when excluded.reason = 'complained' then 'complained' else s.reason end,
        detail = coalesce(excluded.detail, s.detail);

  select m.profile_id into v_profile_id from public.message_delivery_log m
  where m.channel = 'email' and m.direction = 'outbound'
    and m.provider_message_id = p_provider_message_id;
  if p_reason = 'complained' and v_profile_id is not null then
    update public.profiles p set allows_email = false where p.id = v_profile_id;
  end if;
  return v_profile_id;
end;
$function$;
grant execute on function public.suppress_email_address(p_address text, p_reason text, p_detail text, p_provider_message_id text) to service_role;

CREATE OR REPLACE FUNCTION public.sync_scheduled_jobs()
 RETURNS boolean
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_usable boolean;
  v_job record;
begin
  if not exists (select 1 from pg_catalog.pg_available_extensions where name = 'pg_cron') then
    raise notice 'pg_cron is not installed: public.scheduled_jobs is run by the local stack';
    return false;
  end if;

  begin
    v_usable := 'pg_cron' = any (pg_catalog.string_to_array(pg_catalog.replace(
                  pg_catalog.current_setting('shared_preload_libraries'), ' ', ''), ','))
                and pg_catalog.current_database()
                    = coalesce(pg_catalog.current_setting('cron.database_name', true), 'postgres');
  exception when insufficient_privilege then
    v_usable := null;
  end;

  if v_usable is false then
    raise notice 'pg_cron is not preloaded or this is not its database: public.scheduled_jobs is run by the local stack';
    return false;
  end if;

  begin
    create extension if not exists pg_cron with schema pg_catalog;
  exception when others then
    raise notice 'pg_cron refused (%): public.scheduled_jobs is run by the local stack', sqlerrm;
    return false;
  end;

  for v_job in select j.name, j.schedule, j.command from public.scheduled_jobs j order by j.name loop
    execute pg_catalog.format('select %I.schedule($1, $2, $3)', 'cron')
      using v_job.name, v_job.schedule, v_job.command;
  end loop;
  return true;
end;
$function$;

CREATE OR REPLACE FUNCTION public.sync_whatsapp_templates(p_templates jsonb)
 RETURNS TABLE(synced integer, removed integer)
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with incoming as (
    select t.value as t from jsonb_array_elements(p_templates) t
  ),
  upserted as (
    insert into public.message_templates as m (
      channel, name, locale, status, category, body_text, components, param_count,
      provider_template_id, synced_at
    )
    select 'whatsapp', i.t ->> 'name', i.t ->> 'language', lower(i.t ->> 'status'),
           i.t ->> 'category', i.t ->> 'body_text', coalesce(i.t -> 'components', '[]'::jsonb),
           coalesce((i.t ->> 'param_count')::integer, 0), i.t ->> 'id', now()
    from incoming i
    on conflict (channel, name, locale) do update
    set status = excluded.status, category = excluded.category, body_text = excluded.body_text,
        components = excluded.components, param_count = excluded.param_count,
        provider_template_id = excluded.provider_template_id, synced_at = excluded.synced_at
    returning 1
  ),
  gone as (
    update public.message_templates m set status = 'deleted', synced_at = now()
    where m.channel = 'whatsapp' and m.synced_at is not null and m.status <> 'deleted'
      and not exists (select 1 from incoming i
                      where i.t ->> 'name' = m.name and i.t ->> 'language' = m.locale)
    returning 1
  )
  select (select count(*) from upserted)::integer, (select count(*) from gone)::integer
$function$;
grant execute on function public.sync_whatsapp_templates(p_templates jsonb) to service_role;

CREATE OR REPLACE FUNCTION public.take_api_quota(p_caller text, p_limit integer, p_window_seconds integer DEFAULT 60)
 RETURNS TABLE(allowed boolean, retry_after_seconds integer)
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  insert into public.api_caller_quotas as q (caller, window_start, used)
  values (p_caller, now(), 1)
  on conflict (caller) do update
  set window_start = case when q.window_start + make_interval(secs => p_window_seconds) <= now()
                          then now() else q.window_start end,
      used = case when q.window_start + make_interval(secs => p_window_seconds) <= now()
                  then 1 else q.used + 1 end
  returning q.used <= p_limit,
            greatest(1, ceil(extract(epoch from q.window_start + make_interval(secs => p_window_seconds) - now())))::integer
$function$;
grant execute on function public.take_api_quota(p_caller text, p_limit integer, p_window_seconds integer) to service_role;

CREATE OR REPLACE FUNCTION public.take_send_token_each(p_sender_keys text[], p_default_rates double precision[])
 RETURNS TABLE(sender_key text, granted integer, wait_ms integer)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_i integer;
  v_order integer[];
begin
  select array_agg(i order by p_sender_keys[i]) into v_order
  from generate_subscripts(p_sender_keys, 1) as i;
  foreach v_i in array coalesce(v_order, '{}') loop
    sender_key := p_sender_keys[v_i];
    select t.granted, t.wait_ms into granted, wait_ms
    from public.take_send_tokens(p_sender_keys[v_i], 1, p_default_rates[v_i]) t;
    return next;
  end loop;
end;
$function$;
grant execute on function public.take_send_token_each(p_sender_keys text[], p_default_rates double precision[]) to service_role;

CREATE OR REPLACE FUNCTION public.take_send_tokens(p_sender_key text, p_wanted integer, p_default_rate double precision DEFAULT 80)
 RETURNS TABLE(granted integer, wait_ms integer)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_b public.sender_rate_limits%rowtype;
  v_rate double precision;
  v_tokens double precision;
begin
  insert into public.sender_rate_limits (sender_key, rate_per_second, burst, tokens)
  values (p_sender_key, p_default_rate, greatest(1, p_default_rate / 10), greatest(1, p_default_rate / 10))
  on conflict (sender_key) do nothing;
  select * into v_b from public.sender_rate_limits r where r.sender_key = p_sender_key for update;

  v_rate := case when v_b.slowed_until > now() then v_b.rate_per_second / 2 else v_b.rate_per_second end;
  v_tokens := least(v_b.burst,
                    v_b.tokens + extract(epoch from (clock_timestamp() - v_b.refilled_at)) * v_rate);
  granted := greatest(0, least(p_wanted, floor(v_tokens)::integer));
  v_tokens := v_tokens - granted;
  update public.sender_rate_limits r
  set tokens = v_tokens, refilled_at = clock_timestamp(), updated_at = now()
  where r.sender_key = p_sender_key;
  wait_ms := case when granted < p_wanted then ceil((1 - v_tokens) / v_rate * 1000)::integer else 0 end;
  return next;
end;
$function$;
grant execute on function public.take_send_tokens(p_sender_key text, p_wanted integer, p_default_rate double precision) to service_role;

CREATE OR REPLACE FUNCTION public.take_send_tokens_each(p_sender_keys text[], p_wanted integer[], p_default_rates double precision[])
 RETURNS TABLE(sender_key text, granted integer, wait_ms integer)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_i integer;
  v_order integer[];
begin
  select array_agg(i order by p_sender_keys[i]) into v_order
  from generate_subscripts(p_sender_keys, 1) as i;
  foreach v_i in array coalesce(v_order, '{}') loop
    sender_key := p_sender_keys[v_i];
    select t.granted, t.wait_ms into granted, wait_ms
    from public.take_send_tokens(p_sender_keys[v_i], greatest(1, coalesce(p_wanted[v_i], 1)),
                                 p_default_rates[v_i]) t;
    return next;
  end loop;
end;
$function$;
grant execute on function public.take_send_tokens_each(p_sender_keys text[], p_wanted integer[], p_default_rates double precision[]) to service_role;

CREATE OR REPLACE FUNCTION public.tenant_channel_account(p_tenant_id uuid, p_kind text)
 RETURNS TABLE(account_id uuid, external_id text, routing text, settings jsonb, credentials jsonb)
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select a.id, a.external_id, a.routing, a.settings,
    coalesce((select s.decrypted_secret::jsonb from vault.decrypted_secrets s
              where s.id = a.credentials_secret_id), '{}')
  from public.channel_accounts a
  where a.tenant_id = p_tenant_id and a.kind = p_kind and a.disabled_at is null
  order by a.created_at
  limit 1
$function$;
grant execute on function public.tenant_channel_account(p_tenant_id uuid, p_kind text) to service_role;

CREATE OR REPLACE FUNCTION public.tenant_dashboard(p_tenant_id uuid, p_since timestamp with time zone DEFAULT NULL::timestamp with time zone)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select jsonb_build_object(
    'conversations', coalesce((
      select jsonb_object_agg(c.status, c.n) from (
        select s.status, count(*) as n from public.omnichannel_sessions s
        where s.tenant_id = p_tenant_id group by s.status) c), '{}'),
    'messages_today', coalesce((
      select jsonb_agg(jsonb_build_object('direction', m.direction, 'channel', m.channel,
                                          'count', m.n) order by m.direction, m.channel)
      from (
        select l.direction, l.channel, count(*) as n from public.message_delivery_log l
        where l.tenant_id = p_tenant_id
          and l.created_at >= coalesce(p_since, date_trunc('day', now() at time zone 'utc')
                                                  at time zone 'utc')
        group by l.direction, l.channel) m), '[]'),
    'recent_conversations', coalesce((
      select jsonb_agg(jsonb_build_object(
        'session_id', r.id, 'status', r.status, 'conversation_status', r.conversation_status,
        'last_channel', r.last_channel, 'last_activity_at', r.last_activity_at,
        'phone_number', r.phone_number, 'display_name', r.display_name)
        order by r.last_activity_at desc)
      from (
        select s.id, s.status, s.conversation_status, s.last_channel, s.last_activity_at,
          p.phone_number, p.display_name
        from public.omnichannel_sessions s
        join public.profiles p on p.id = s.profile_id
        where s.tenant_id = p_tenant_id
        order by s.last_activity_at desc
        limit 10) r), '[]'),
    -- Handed off from the AI (ai_then_agent), no agent has written yet / an agent has.
    'handoffs_waiting', (
      select count(*) from public.conversation_handoffs h
      where h.tenant_id = p_tenant_id and h.state = 'waiting'),
    'handoffs_with_agent', (
      select count(*) from public.conversation_handoffs h
      where h.tenant_id = p_tenant_id and h.state = 'agent')
  )
$function$;
grant execute on function public.tenant_dashboard(p_tenant_id uuid, p_since timestamp with time zone) to service_role;

CREATE OR REPLACE FUNCTION public.track_genesys_inbound(p_integration_id text, p_whatsapp_id text, p_tenant_id uuid, p_session_id uuid, p_delivery_id uuid, p_genesys_message_id text, p_phone_number_id text DEFAULT NULL::text, p_state text DEFAULT 'agent'::text)
 RETURNS boolean
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_new boolean;
begin
  insert into public.genesys_conversations as c
    (integration_id, whatsapp_id, tenant_id, phone_number_id, session_id, state)
  values (p_integration_id, p_whatsapp_id, p_tenant_id, p_phone_number_id, p_session_id, p_state)
  on conflict (integration_id, whatsapp_id) do update
    set phone_number_id = coalesce(excluded.phone_number_id, c.phone_number_id),
        session_id = coalesce(excluded.session_id, c.session_id),
        updated_at = now();
  insert into public.genesys_messages (integration_id, genesys_message_id, delivery_id, direction)
  values (p_integration_id, p_genesys_message_id, p_delivery_id, 'inbound')
  on conflict do nothing;
  get diagnostics v_new = row_count;
  return v_new;
end;
$function$;
grant execute on function public.track_genesys_inbound(p_integration_id text, p_whatsapp_id text, p_tenant_id uuid, p_session_id uuid, p_delivery_id uuid, p_genesys_message_id text, p_phone_number_id text, p_state text) to service_role;

CREATE OR REPLACE FUNCTION public.track_genesys_outbound(p_integration_id text, p_whatsapp_id text, p_genesys_message_id text, p_delivery_id uuid, p_genesys_conversation_id text DEFAULT NULL::text)
 RETURNS boolean
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_new boolean;
  v_session uuid;
begin
  insert into public.genesys_messages (integration_id, genesys_message_id, delivery_id, direction)
  values (p_integration_id, p_genesys_message_id, p_delivery_id, 'outbound')
  on conflict do nothing;
  get diagnostics v_new = row_count;
  update public.genesys_conversations
  set genesys_conversation_id = coalesce(p_genesys_conversation_id, genesys_conversation_id),
      state = 'agent'
  where integration_id = p_integration_id and whatsapp_id = p_whatsapp_id
  returning session_id into v_session;
  if v_session is not null then
    update public.conversation_handoffs
    set state = 'agent', agent_joined_at = now()
    where session_id = v_session and state = 'waiting';
  end if;
  return v_new;
end;
$function$;
grant execute on function public.track_genesys_outbound(p_integration_id text, p_whatsapp_id text, p_genesys_message_id text, p_delivery_id uuid, p_genesys_conversation_id text) to service_role;

CREATE OR REPLACE FUNCTION public.truncate_message_stats()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  truncate public.message_stats_hourly, public.message_stats_daily, public.message_stats_dirty;
  return null;
end;
$function$;

CREATE OR REPLACE FUNCTION public.update_omnichannel_session_status(p_session_id uuid, p_status text)
 RETURNS omnichannel_sessions
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_session public.omnichannel_sessions;
begin
  update public.omnichannel_sessions s
  set status = p_status,
      closed_at = case when p_status = 'closed' then coalesce(s.closed_at, pg_catalog.now()) end,
      expires_at = case when p_status = 'closed' then s.expires_at
                        else pg_catalog.now() + interval '24 hours' end,
      last_activity_at = case when p_status = 'closed' then s.last_activity_at
                              else pg_catalog.now() end
  where s.id = p_session_id
  returning s.* into v_session;

  if not found then
    raise exception 'omnichannel session % not found', p_session_id using errcode = 'P0002';
  end if;

  return v_session;
end;
$function$;
grant execute on function public.update_omnichannel_session_status(p_session_id uuid, p_status text) to service_role;

CREATE OR REPLACE FUNCTION public.whatsapp_window_open(p_profile_id uuid)
 RETURNS boolean
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
begin
  -- (channel || '') and (direction || '') keep the planner on the person's index: the
  -- provider-id index leads with the channel (every WhatsApp message's entry), and the
  -- inbound-only indexes are by time and channel (every person's messages of the last day).
  return exists (
    select 1 from public.message_delivery_log m
    where m.profile_id = p_profile_id
      and (m.channel || '') = 'whatsapp' and (m.direction || '') = 'inbound'
      and m.created_at > now() - interval '24 hours'
  );
end;
$function$;
grant execute on function public.whatsapp_window_open(p_profile_id uuid) to service_role;
