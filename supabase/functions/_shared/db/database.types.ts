
export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[]

export type Database = {
  
  "public": {
          Tables: {
            "agent_instructions": {
                  Row: {
                    "agent_key": string,"instructions": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "agent_key": string,"instructions": string,"updated_at"?: string
                  }
                  Update: {
                    "agent_key"?: string,"instructions"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                },"agent_tool_definitions": {
                  Row: {
                    "description": string,"enabled": boolean,"name": string,"parameters": NonNullable<Json>,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "description": string,"enabled"?: boolean,"name": string,"parameters": NonNullable<Json>,"updated_at"?: string
                  }
                  Update: {
                    "description"?: string,"enabled"?: boolean,"name"?: string,"parameters"?: NonNullable<Json>,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                },"api_caller_quotas": {
                  Row: {
                    "caller": string,"used": number,"window_start": string
                  }
                  ComputedFields: never
                  Insert: {
                    "caller": string,"used": number,"window_start": string
                  }
                  Update: {
                    "caller"?: string,"used"?: number,"window_start"?: string
                  }
                  Relationships: [
                    
                  ]
                },"api_messages": {
                  Row: {
                    "caller": string,"correlation_id": string | null,"created_at": string,"id": string,"idempotency_key": string,"metadata": NonNullable<Json>,"profile_id": string | null,"request_hash": string,"response": NonNullable<Json>,"route": NonNullable<Json>,"send_at": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "caller": string,"correlation_id"?: string | null,"created_at"?: string,"id"?: string,"idempotency_key": string,"metadata"?: NonNullable<Json>,"profile_id"?: string | null,"request_hash": string,"response"?: NonNullable<Json>,"route": NonNullable<Json>,"send_at"?: string | null
                  }
                  Update: {
                    "caller"?: string,"correlation_id"?: string | null,"created_at"?: string,"id"?: string,"idempotency_key"?: string,"metadata"?: NonNullable<Json>,"profile_id"?: string | null,"request_hash"?: string,"response"?: NonNullable<Json>,"route"?: NonNullable<Json>,"send_at"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "api_messages_profile_id_fkey"
      columns: ["profile_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"call_summaries": {
                  Row: {
                    "call_id": string,"created_at": string,"duration_seconds": number | null,"ended_at": string | null,"id": string,"metadata": NonNullable<Json>,"phone_number": string | null,"summary": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "call_id": string,"created_at"?: string,"duration_seconds"?: number | null,"ended_at"?: string | null,"id"?: string,"metadata"?: NonNullable<Json>,"phone_number"?: string | null,"summary"?: string | null
                  }
                  Update: {
                    "call_id"?: string,"created_at"?: string,"duration_seconds"?: number | null,"ended_at"?: string | null,"id"?: string,"metadata"?: NonNullable<Json>,"phone_number"?: string | null,"summary"?: string | null
                  }
                  Relationships: [
                    
                  ]
                },"channel_accounts": {
                  Row: {
                    "created_at": string,"credentials_secret_id": string | null,"disabled_at": string | null,"display_name": string | null,"external_id": string,"id": string,"kind": string,"routing": string,"settings": NonNullable<Json>,"tenant_id": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"credentials_secret_id"?: string | null,"disabled_at"?: string | null,"display_name"?: string | null,"external_id": string,"id"?: string,"kind": string,"routing"?: string,"settings"?: NonNullable<Json>,"tenant_id": string,"updated_at"?: string
                  }
                  Update: {
                    "created_at"?: string,"credentials_secret_id"?: string | null,"disabled_at"?: string | null,"display_name"?: string | null,"external_id"?: string,"id"?: string,"kind"?: string,"routing"?: string,"settings"?: NonNullable<Json>,"tenant_id"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "channel_accounts_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"conversation_handoffs": {
                  Row: {
                    "agent_joined_at": string | null,"close_reason": string | null,"closed_at": string | null,"closed_by": string | null,"created_at": string,"delivery_id": string | null,"id": string,"phone_number_id": string | null,"reason": string,"requested_by": string,"session_id": string,"state": string,"summary": string | null,"tenant_id": string,"whatsapp_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "agent_joined_at"?: string | null,"close_reason"?: string | null,"closed_at"?: string | null,"closed_by"?: string | null,"created_at"?: string,"delivery_id"?: string | null,"id"?: string,"phone_number_id"?: string | null,"reason": string,"requested_by": string,"session_id": string,"state"?: string,"summary"?: string | null,"tenant_id": string,"whatsapp_id": string
                  }
                  Update: {
                    "agent_joined_at"?: string | null,"close_reason"?: string | null,"closed_at"?: string | null,"closed_by"?: string | null,"created_at"?: string,"delivery_id"?: string | null,"id"?: string,"phone_number_id"?: string | null,"reason"?: string,"requested_by"?: string,"session_id"?: string,"state"?: string,"summary"?: string | null,"tenant_id"?: string,"whatsapp_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "conversation_handoffs_delivery_id_fkey"
      columns: ["delivery_id"]
isOneToOne: false
      referencedRelation: "message_delivery_log"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "conversation_handoffs_session_id_fkey"
      columns: ["session_id"]
isOneToOne: false
      referencedRelation: "omnichannel_sessions"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "conversation_handoffs_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"conversation_sla_breaches": {
                  Row: {
                    "breached_at": string,"due_at": string,"kind": string,"session_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "breached_at"?: string,"due_at": string,"kind": string,"session_id": string
                  }
                  Update: {
                    "breached_at"?: string,"due_at"?: string,"kind"?: string,"session_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "conversation_sla_breaches_session_id_fkey"
      columns: ["session_id"]
isOneToOne: false
      referencedRelation: "omnichannel_sessions"
      referencedColumns: ["id"]
    }
                  ]
                },"email_suppressions": {
                  Row: {
                    "address": string,"created_at": string,"detail": string | null,"provider_message_id": string | null,"reason": string
                  }
                  ComputedFields: never
                  Insert: {
                    "address": string,"created_at"?: string,"detail"?: string | null,"provider_message_id"?: string | null,"reason": string
                  }
                  Update: {
                    "address"?: string,"created_at"?: string,"detail"?: string | null,"provider_message_id"?: string | null,"reason"?: string
                  }
                  Relationships: [
                    
                  ]
                },"genesys_conversations": {
                  Row: {
                    "created_at": string,"genesys_conversation_id": string | null,"handed_off_at": string | null,"handoff_reason": string | null,"integration_id": string,"phone_number_id": string | null,"session_id": string | null,"state": string,"tenant_id": string,"updated_at": string,"whatsapp_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"genesys_conversation_id"?: string | null,"handed_off_at"?: string | null,"handoff_reason"?: string | null,"integration_id": string,"phone_number_id"?: string | null,"session_id"?: string | null,"state"?: string,"tenant_id": string,"updated_at"?: string,"whatsapp_id": string
                  }
                  Update: {
                    "created_at"?: string,"genesys_conversation_id"?: string | null,"handed_off_at"?: string | null,"handoff_reason"?: string | null,"integration_id"?: string,"phone_number_id"?: string | null,"session_id"?: string | null,"state"?: string,"tenant_id"?: string,"updated_at"?: string,"whatsapp_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "genesys_conversations_session_id_fkey"
      columns: ["session_id"]
isOneToOne: false
      referencedRelation: "omnichannel_sessions"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "genesys_conversations_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"genesys_messages": {
                  Row: {
                    "created_at": string,"delivery_id": string,"direction": string,"genesys_message_id": string,"integration_id": string,"receipt_at": string | null,"receipt_reason": string | null,"receipt_status": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"delivery_id": string,"direction": string,"genesys_message_id": string,"integration_id": string,"receipt_at"?: string | null,"receipt_reason"?: string | null,"receipt_status"?: string | null
                  }
                  Update: {
                    "created_at"?: string,"delivery_id"?: string,"direction"?: string,"genesys_message_id"?: string,"integration_id"?: string,"receipt_at"?: string | null,"receipt_reason"?: string | null,"receipt_status"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "genesys_messages_delivery_id_fkey"
      columns: ["delivery_id"]
isOneToOne: false
      referencedRelation: "message_delivery_log"
      referencedColumns: ["id"]
    }
                  ]
                },"genesys_outbox": {
                  Row: {
                    "attempts": number,"created_at": string,"dedupe_key": string,"delivery_id": string | null,"genesys_message_id": string | null,"id": number,"integration_id": string | null,"kind": string,"last_error": string | null,"leased_until": string | null,"next_attempt_at": string,"payload": NonNullable<Json>,"sent_at": string | null,"status": string,"tenant_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "attempts"?: number,"created_at"?: string,"dedupe_key": string,"delivery_id"?: string | null,"genesys_message_id"?: string | null,"id"?: never,"integration_id"?: string | null,"kind": string,"last_error"?: string | null,"leased_until"?: string | null,"next_attempt_at"?: string,"payload"?: NonNullable<Json>,"sent_at"?: string | null,"status"?: string,"tenant_id": string
                  }
                  Update: {
                    "attempts"?: number,"created_at"?: string,"dedupe_key"?: string,"delivery_id"?: string | null,"genesys_message_id"?: string | null,"id"?: never,"integration_id"?: string | null,"kind"?: string,"last_error"?: string | null,"leased_until"?: string | null,"next_attempt_at"?: string,"payload"?: NonNullable<Json>,"sent_at"?: string | null,"status"?: string,"tenant_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "genesys_outbox_delivery_id_fkey"
      columns: ["delivery_id"]
isOneToOne: false
      referencedRelation: "message_delivery_log"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "genesys_outbox_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"inbound_inbox": {
                  Row: {
                    "attempts": number,"channel": string,"id": number,"last_error": string | null,"message": NonNullable<Json>,"processed_at": string | null,"provider_message_id": string,"received_at": string,"sender": string,"sender_kind": string
                  }
                  ComputedFields: never
                  Insert: {
                    "attempts"?: number,"channel": string,"id"?: never,"last_error"?: string | null,"message": NonNullable<Json>,"processed_at"?: string | null,"provider_message_id": string,"received_at"?: string,"sender": string,"sender_kind"?: string
                  }
                  Update: {
                    "attempts"?: number,"channel"?: string,"id"?: never,"last_error"?: string | null,"message"?: NonNullable<Json>,"processed_at"?: string | null,"provider_message_id"?: string,"received_at"?: string,"sender"?: string,"sender_kind"?: string
                  }
                  Relationships: [
                    
                  ]
                },"message_delivery_log": {
                  Row: {
                    "api_message_id": string | null,"attempts": number,"body": string | null,"call_id": string | null,"channel": string,"correlation_id": string | null,"created_at": string,"delivered_at": string | null,"direction": string,"error_class": string | null,"error_code": string | null,"error_message": string | null,"failed_at": string | null,"fallback_of": string | null,"id": string,"idempotency_key": string | null,"leased_until": string | null,"message_type": string,"metadata": NonNullable<Json>,"next_attempt_at": string | null,"profile_id": string | null,"provider": string | null,"provider_message_id": string | null,"purpose": string | null,"queued_at": string | null,"read_at": string | null,"received_at": string | null,"recipient": string | null,"reply_state": string | null,"retry_of": string | null,"route_step": number | null,"sender": string | null,"sender_key": string | null,"sent_at": string | null,"session_id": string | null,"status": string,"tenant_id": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "api_message_id"?: string | null,"attempts"?: number,"body"?: string | null,"call_id"?: string | null,"channel": string,"correlation_id"?: string | null,"created_at"?: string,"delivered_at"?: string | null,"direction": string,"error_class"?: string | null,"error_code"?: string | null,"error_message"?: string | null,"failed_at"?: string | null,"fallback_of"?: string | null,"id"?: string,"idempotency_key"?: string | null,"leased_until"?: string | null,"message_type"?: string,"metadata"?: NonNullable<Json>,"next_attempt_at"?: string | null,"profile_id"?: string | null,"provider"?: string | null,"provider_message_id"?: string | null,"purpose"?: string | null,"queued_at"?: string | null,"read_at"?: string | null,"received_at"?: string | null,"recipient"?: string | null,"reply_state"?: string | null,"retry_of"?: string | null,"route_step"?: number | null,"sender"?: string | null,"sender_key"?: string | null,"sent_at"?: string | null,"session_id"?: string | null,"status": string,"tenant_id"?: string,"updated_at"?: string
                  }
                  Update: {
                    "api_message_id"?: string | null,"attempts"?: number,"body"?: string | null,"call_id"?: string | null,"channel"?: string,"correlation_id"?: string | null,"created_at"?: string,"delivered_at"?: string | null,"direction"?: string,"error_class"?: string | null,"error_code"?: string | null,"error_message"?: string | null,"failed_at"?: string | null,"fallback_of"?: string | null,"id"?: string,"idempotency_key"?: string | null,"leased_until"?: string | null,"message_type"?: string,"metadata"?: NonNullable<Json>,"next_attempt_at"?: string | null,"profile_id"?: string | null,"provider"?: string | null,"provider_message_id"?: string | null,"purpose"?: string | null,"queued_at"?: string | null,"read_at"?: string | null,"received_at"?: string | null,"recipient"?: string | null,"reply_state"?: string | null,"retry_of"?: string | null,"route_step"?: number | null,"sender"?: string | null,"sender_key"?: string | null,"sent_at"?: string | null,"session_id"?: string | null,"status"?: string,"tenant_id"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "message_delivery_log_api_message_id_fkey"
      columns: ["api_message_id"]
isOneToOne: false
      referencedRelation: "api_messages"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "message_delivery_log_fallback_of_fkey"
      columns: ["fallback_of"]
isOneToOne: false
      referencedRelation: "message_delivery_log"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "message_delivery_log_profile_id_fkey"
      columns: ["profile_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "message_delivery_log_retry_of_fkey"
      columns: ["retry_of"]
isOneToOne: false
      referencedRelation: "message_delivery_log"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "message_delivery_log_session_id_fkey"
      columns: ["session_id"]
isOneToOne: false
      referencedRelation: "omnichannel_sessions"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "message_delivery_log_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"message_stats_daily": {
                  Row: {
                    "bucket": number,"channel": string,"day": string,"metric": string,"n": number
                  }
                  ComputedFields: never
                  Insert: {
                    "bucket": number,"channel": string,"day": string,"metric": string,"n": number
                  }
                  Update: {
                    "bucket"?: number,"channel"?: string,"day"?: string,"metric"?: string,"n"?: number
                  }
                  Relationships: [
                    
                  ]
                },"message_stats_dirty": {
                  Row: {
                    "hour": string,"marks": number,"shard": number
                  }
                  ComputedFields: never
                  Insert: {
                    "hour": string,"marks"?: number,"shard": number
                  }
                  Update: {
                    "hour"?: string,"marks"?: number,"shard"?: number
                  }
                  Relationships: [
                    
                  ]
                },"message_stats_hourly": {
                  Row: {
                    "bucket": number,"channel": string,"hour": string,"metric": string,"n": number
                  }
                  ComputedFields: never
                  Insert: {
                    "bucket": number,"channel": string,"hour": string,"metric": string,"n": number
                  }
                  Update: {
                    "bucket"?: number,"channel"?: string,"hour"?: string,"metric"?: string,"n"?: number
                  }
                  Relationships: [
                    
                  ]
                },"message_stats_state": {
                  Row: {
                    "folded_before": string,"singleton": boolean
                  }
                  ComputedFields: never
                  Insert: {
                    "folded_before": string,"singleton"?: boolean
                  }
                  Update: {
                    "folded_before"?: string,"singleton"?: boolean
                  }
                  Relationships: [
                    
                  ]
                },"message_templates": {
                  Row: {
                    "body_html": string | null,"body_text": string | null,"category": string | null,"channel": string,"components": NonNullable<Json>,"created_at": string,"id": string,"locale": string,"name": string,"param_count": number,"provider_template_id": string | null,"status": string,"subject": string | null,"synced_at": string | null,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "body_html"?: string | null,"body_text"?: string | null,"category"?: string | null,"channel": string,"components"?: NonNullable<Json>,"created_at"?: string,"id"?: string,"locale"?: string,"name": string,"param_count"?: number,"provider_template_id"?: string | null,"status"?: string,"subject"?: string | null,"synced_at"?: string | null,"updated_at"?: string
                  }
                  Update: {
                    "body_html"?: string | null,"body_text"?: string | null,"category"?: string | null,"channel"?: string,"components"?: NonNullable<Json>,"created_at"?: string,"id"?: string,"locale"?: string,"name"?: string,"param_count"?: number,"provider_template_id"?: string | null,"status"?: string,"subject"?: string | null,"synced_at"?: string | null,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                },"meta_profiles": {
                  Row: {
                    "channel": string,"created_at": string,"external_id": string,"fetch_started_at": string | null,"fetched_at": string | null,"name": string | null,"profile_id": string,"profile_pic": string | null,"updated_at": string,"username": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "channel": string,"created_at"?: string,"external_id": string,"fetch_started_at"?: string | null,"fetched_at"?: string | null,"name"?: string | null,"profile_id": string,"profile_pic"?: string | null,"updated_at"?: string,"username"?: string | null
                  }
                  Update: {
                    "channel"?: string,"created_at"?: string,"external_id"?: string,"fetch_started_at"?: string | null,"fetched_at"?: string | null,"name"?: string | null,"profile_id"?: string,"profile_pic"?: string | null,"updated_at"?: string,"username"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "meta_profiles_profile_id_fkey"
      columns: ["profile_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"notification_kinds": {
                  Row: {
                    "channels": NonNullable<Json>,"default_locale": string,"description": string,"enabled": boolean,"event": string,"handler": string,"params": (string)[],"template_name": string | null,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "channels"?: NonNullable<Json>,"default_locale"?: string,"description": string,"enabled"?: boolean,"event": string,"handler"?: string,"params"?: (string)[],"template_name"?: string | null,"updated_at"?: string
                  }
                  Update: {
                    "channels"?: NonNullable<Json>,"default_locale"?: string,"description"?: string,"enabled"?: boolean,"event"?: string,"handler"?: string,"params"?: (string)[],"template_name"?: string | null,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                },"oauth_tokens": {
                  Row: {
                    "expires_at": string | null,"refreshes": number,"refreshing_until": string | null,"secret_id": string | null,"token_key": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "expires_at"?: string | null,"refreshes"?: number,"refreshing_until"?: string | null,"secret_id"?: string | null,"token_key": string,"updated_at"?: string
                  }
                  Update: {
                    "expires_at"?: string | null,"refreshes"?: number,"refreshing_until"?: string | null,"secret_id"?: string | null,"token_key"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                },"omnichannel_sessions": {
                  Row: {
                    "archived_at": string | null,"assigned_at": string | null,"assignee": string | null,"call_id": string | null,"channels_seen": (string)[],"closed_at": string | null,"context": NonNullable<Json>,"conversation_status": string,"created_at": string,"expires_at": string,"id": string,"last_activity_at": string,"last_channel": string | null,"priority": string,"profile_id": string,"resolved_at": string | null,"sms_summary_sent": boolean,"sms_summary_sent_at": string | null,"status": string,"tags": (string)[],"tenant_id": string | null,"updated_at": string,"whatsapp_summary_sent": boolean,"whatsapp_summary_sent_at": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "archived_at"?: string | null,"assigned_at"?: string | null,"assignee"?: string | null,"call_id"?: string | null,"channels_seen"?: (string)[],"closed_at"?: string | null,"context"?: NonNullable<Json>,"conversation_status"?: string,"created_at"?: string,"expires_at"?: string,"id"?: string,"last_activity_at"?: string,"last_channel"?: string | null,"priority"?: string,"profile_id": string,"resolved_at"?: string | null,"sms_summary_sent"?: boolean,"sms_summary_sent_at"?: string | null,"status"?: string,"tags"?: (string)[],"tenant_id"?: string | null,"updated_at"?: string,"whatsapp_summary_sent"?: boolean,"whatsapp_summary_sent_at"?: string | null
                  }
                  Update: {
                    "archived_at"?: string | null,"assigned_at"?: string | null,"assignee"?: string | null,"call_id"?: string | null,"channels_seen"?: (string)[],"closed_at"?: string | null,"context"?: NonNullable<Json>,"conversation_status"?: string,"created_at"?: string,"expires_at"?: string,"id"?: string,"last_activity_at"?: string,"last_channel"?: string | null,"priority"?: string,"profile_id"?: string,"resolved_at"?: string | null,"sms_summary_sent"?: boolean,"sms_summary_sent_at"?: string | null,"status"?: string,"tags"?: (string)[],"tenant_id"?: string | null,"updated_at"?: string,"whatsapp_summary_sent"?: boolean,"whatsapp_summary_sent_at"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "omnichannel_sessions_profile_id_fkey"
      columns: ["profile_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "omnichannel_sessions_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"profile_identities": {
                  Row: {
                    "created_at": string,"kind": string,"profile_id": string,"value": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"kind": string,"profile_id": string,"value": string
                  }
                  Update: {
                    "created_at"?: string,"kind"?: string,"profile_id"?: string,"value"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "profile_identities_profile_id_fkey"
      columns: ["profile_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"profiles": {
                  Row: {
                    "allows_email": boolean,"allows_sms": boolean,"allows_whatsapp": boolean,"created_at": string,"display_name": string | null,"has_whatsapp": boolean | null,"id": string,"last_active_channel": string | null,"merged_at": string | null,"merged_into": string | null,"phone_number": string | null,"updated_at": string,"user_id": string | null,"whatsapp_jid": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "allows_email"?: boolean,"allows_sms"?: boolean,"allows_whatsapp"?: boolean,"created_at"?: string,"display_name"?: string | null,"has_whatsapp"?: boolean | null,"id"?: string,"last_active_channel"?: string | null,"merged_at"?: string | null,"merged_into"?: string | null,"phone_number"?: string | null,"updated_at"?: string,"user_id"?: string | null,"whatsapp_jid"?: string | null
                  }
                  Update: {
                    "allows_email"?: boolean,"allows_sms"?: boolean,"allows_whatsapp"?: boolean,"created_at"?: string,"display_name"?: string | null,"has_whatsapp"?: boolean | null,"id"?: string,"last_active_channel"?: string | null,"merged_at"?: string | null,"merged_into"?: string | null,"phone_number"?: string | null,"updated_at"?: string,"user_id"?: string | null,"whatsapp_jid"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "profiles_merged_into_fkey"
      columns: ["merged_into"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"scheduled_jobs": {
                  Row: {
                    "command": string,"name": string,"schedule": string
                  }
                  ComputedFields: never
                  Insert: {
                    "command": string,"name": string,"schedule": string
                  }
                  Update: {
                    "command"?: string,"name"?: string,"schedule"?: string
                  }
                  Relationships: [
                    
                  ]
                },"sender_rate_limits": {
                  Row: {
                    "burst": number,"rate_per_second": number,"refilled_at": string,"sender_key": string,"slowed_until": string | null,"tokens": number,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "burst": number,"rate_per_second": number,"refilled_at"?: string,"sender_key": string,"slowed_until"?: string | null,"tokens": number,"updated_at"?: string
                  }
                  Update: {
                    "burst"?: number,"rate_per_second"?: number,"refilled_at"?: string,"sender_key"?: string,"slowed_until"?: string | null,"tokens"?: number,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                },"status_inbox": {
                  Row: {
                    "attempts": number,"channel": string,"id": number,"last_error": string | null,"payload": NonNullable<Json>,"processed_at": string | null,"provider_message_id": string,"received_at": string,"status": string
                  }
                  ComputedFields: never
                  Insert: {
                    "attempts"?: number,"channel": string,"id"?: never,"last_error"?: string | null,"payload": NonNullable<Json>,"processed_at"?: string | null,"provider_message_id": string,"received_at"?: string,"status": string
                  }
                  Update: {
                    "attempts"?: number,"channel"?: string,"id"?: never,"last_error"?: string | null,"payload"?: NonNullable<Json>,"processed_at"?: string | null,"provider_message_id"?: string,"received_at"?: string,"status"?: string
                  }
                  Relationships: [
                    
                  ]
                },"tenant_profiles": {
                  Row: {
                    "created_at": string,"profile_id": string,"tenant_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"profile_id": string,"tenant_id": string
                  }
                  Update: {
                    "created_at"?: string,"profile_id"?: string,"tenant_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "tenant_profiles_profile_id_fkey"
      columns: ["profile_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "tenant_profiles_tenant_id_fkey"
      columns: ["tenant_id"]
isOneToOne: false
      referencedRelation: "tenants"
      referencedColumns: ["id"]
    }
                  ]
                },"tenants": {
                  Row: {
                    "created_at": string,"id": string,"name": string,"slug": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"id"?: string,"name": string,"slug": string,"updated_at"?: string
                  }
                  Update: {
                    "created_at"?: string,"id"?: string,"name"?: string,"slug"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                },"webhook_archive": {
                  Row: {
                    "body": string,"content_type": string | null,"correlation_id": string | null,"direction": string,"headers": NonNullable<Json>,"id": number,"last_replay_status": number | null,"last_replayed_at": string | null,"received_at": string,"replay_count": number,"response_status": number | null,"source": string
                  }
                  ComputedFields: never
                  Insert: {
                    "body": string,"content_type"?: string | null,"correlation_id"?: string | null,"direction": string,"headers"?: NonNullable<Json>,"id"?: never,"last_replay_status"?: number | null,"last_replayed_at"?: string | null,"received_at"?: string,"replay_count"?: number,"response_status"?: number | null,"source": string
                  }
                  Update: {
                    "body"?: string,"content_type"?: string | null,"correlation_id"?: string | null,"direction"?: string,"headers"?: NonNullable<Json>,"id"?: never,"last_replay_status"?: number | null,"last_replayed_at"?: string | null,"received_at"?: string,"replay_count"?: number,"response_status"?: number | null,"source"?: string
                  }
                  Relationships: [
                    
                  ]
                },"webhook_event_ids": {
                  Row: {
                    "event_id": string,"received_at": string,"source": string
                  }
                  ComputedFields: never
                  Insert: {
                    "event_id": string,"received_at"?: string,"source": string
                  }
                  Update: {
                    "event_id"?: string,"received_at"?: string,"source"?: string
                  }
                  Relationships: [
                    
                  ]
                }
          }
          Views: {
            [_ in never]: never
          }
          Functions: {
            "accept_api_message":
{ Args: { "p_caller": string,"p_correlation_id"?: string,"p_idempotency_key": string,"p_metadata"?: Json,"p_profile_id": string,"p_request_hash": string,"p_response": Json,"p_route": Json,"p_send_at"?: string }; Returns: {
              "delivery_id": string,"delivery_status": string,"delivery_step": number,"is_new": boolean,"message_id": string,"response": Json
            }[]
                           },
"accept_delivery_statuses":
{ Args: { "p_updates": Json }; Returns: number
                           },
"accept_inbound_messages":
{ Args: { "p_messages": Json }; Returns: {
              "inbox_id": number,"is_new": boolean,"ordinal": number
            }[]
                           },
"advance_api_message":
{ Args: { "p_after_step": number,"p_lease"?: boolean,"p_message_id": string }; Returns: string
                           },
"api_message_recipient":
{ Args: { "p_kind"?: string,"p_profile_id"?: string,"p_value"?: string }; Returns: {
              "allows_sms": boolean,"allows_whatsapp": boolean,"email": string,"has_whatsapp": boolean,"instagram_igsid": string,"last_active_channel": string,"messenger_psid": string,"phone_number": string,"profile_id": string,"whatsapp_window_open": boolean
            }[]
                           },
"apply_meta_receipt":
{ Args: { "p_channel": string,"p_mids"?: (string)[],"p_person": string,"p_status": string,"p_watermark_ms": number }; Returns: number
                           },
"archive_webhooks":
{ Args: { "p_rows": Json }; Returns: undefined
                           },
"begin_email_message":
{ Args: { "p_body": string,"p_correlation_id"?: string,"p_idempotency_key"?: string,"p_metadata"?: Json,"p_purpose"?: string,"p_session_id"?: string,"p_to": string }; Returns: {
              "delivery_id": string,"error_code": string,"error_message": string,"is_new": boolean,"profile_id": string,"recipient": string,"session_id": string,"status": string
            }[]
                           },
"begin_meta_outbound_message":
{ Args: { "p_body": string,"p_channel": string,"p_correlation_id"?: string,"p_idempotency_key"?: string,"p_message_type"?: string,"p_metadata"?: Json,"p_purpose"?: string,"p_recipient": string,"p_session_id"?: string }; Returns: {
              "delivery_id": string,"is_new": boolean,"last_inbound_at": string,"profile_id": string,"session_id": string,"status": string
            }[]
                           },
"begin_outbound_message":
{ Args: { "p_body": string,"p_channel": string,"p_completes_inbound"?: string,"p_correlation_id"?: string,"p_idempotency_key"?: string,"p_message_type"?: string,"p_metadata"?: Json,"p_purpose"?: string,"p_recipient": string,"p_session_id"?: string,"p_tokens"?: Json }; Returns: {
              "delivery_id": string,"granted": number,"has_whatsapp": boolean,"is_new": boolean,"profile_id": string,"sender_key": string,"session_id": string,"status": string,"wait_ms": number,"whatsapp_window_open": boolean
            }[]
                           },
"begin_post_call_notification":
{ Args: { "p_call_id": string,"p_channels"?: (string)[],"p_correlation_id"?: string,"p_lease_seconds"?: number,"p_phone_number": string,"p_summary"?: string }; Returns: {
              "attempt": number,"channel": string,"delivery_id": string,"error_class": string,"error_code": string,"error_message": string,"profile_id": string,"provider_message_id": string,"session_id": string,"status": string,"summary": string,"to_send": boolean,"whatsapp_window_open": boolean
            }[]
                           },
"begin_post_call_notification_paced":
{ Args: { "p_call_id": string,"p_channels"?: (string)[],"p_correlation_id"?: string,"p_lease_seconds"?: number,"p_phone_number": string,"p_summary"?: string,"p_tokens"?: Json }; Returns: {
              "attempt": number,"channel": string,"delivery_id": string,"email": string,"error_class": string,"error_code": string,"error_message": string,"granted": number,"profile_id": string,"provider_message_id": string,"sender_key": string,"session_id": string,"status": string,"summary": string,"to_send": boolean,"wait_ms": number,"whatsapp_window_open": boolean
            }[]
                           },
"claim_api_message_step":
{ Args: { "p_after_step": number,"p_lease_seconds"?: number,"p_message_id": string }; Returns: {
              "api_message_id": string | null,
"attempts": number,
"body": string | null,
"call_id": string | null,
"channel": string,
"correlation_id": string | null,
"created_at": string,
"delivered_at": string | null,
"direction": string,
"error_class": string | null,
"error_code": string | null,
"error_message": string | null,
"failed_at": string | null,
"fallback_of": string | null,
"id": string,
"idempotency_key": string | null,
"leased_until": string | null,
"message_type": string,
"metadata": NonNullable<Json>,
"next_attempt_at": string | null,
"profile_id": string | null,
"provider": string | null,
"provider_message_id": string | null,
"purpose": string | null,
"queued_at": string | null,
"read_at": string | null,
"received_at": string | null,
"recipient": string | null,
"reply_state": string | null,
"retry_of": string | null,
"route_step": number | null,
"sender": string | null,
"sender_key": string | null,
"sent_at": string | null,
"session_id": string | null,
"status": string,
"tenant_id": string,
"updated_at": string
            }[]
                          SetofOptions: {
        from: "*"
        to: "message_delivery_log"
        isOneToOne: false
        isSetofReturn: true
      } },
"claim_delivery":
{ Args: { "p_delivery_id": string,"p_lease_seconds"?: number }; Returns: boolean
                           },
"claim_due_deliveries":
{ Args: { "p_lease_seconds"?: number,"p_limit"?: number }; Returns: {
              "api_message_id": string | null,
"attempts": number,
"body": string | null,
"call_id": string | null,
"channel": string,
"correlation_id": string | null,
"created_at": string,
"delivered_at": string | null,
"direction": string,
"error_class": string | null,
"error_code": string | null,
"error_message": string | null,
"failed_at": string | null,
"fallback_of": string | null,
"id": string,
"idempotency_key": string | null,
"leased_until": string | null,
"message_type": string,
"metadata": NonNullable<Json>,
"next_attempt_at": string | null,
"profile_id": string | null,
"provider": string | null,
"provider_message_id": string | null,
"purpose": string | null,
"queued_at": string | null,
"read_at": string | null,
"received_at": string | null,
"recipient": string | null,
"reply_state": string | null,
"retry_of": string | null,
"route_step": number | null,
"sender": string | null,
"sender_key": string | null,
"sent_at": string | null,
"session_id": string | null,
"status": string,
"tenant_id": string,
"updated_at": string
            }[]
                          SetofOptions: {
        from: "*"
        to: "message_delivery_log"
        isOneToOne: false
        isSetofReturn: true
      } },
"claim_genesys_posts":
{ Args: { "p_ids"?: (number)[],"p_lease_seconds"?: number,"p_limit"?: number }; Returns: {
              "attempts": number,"body": string,"delivery_id": string,"display_name": string,"id": number,"integration_id": string,"kind": string,"metadata": Json,"payload": Json,"provider_message_id": string,"sender": string,"session_id": string,"tenant_id": string
            }[]
                           },
"claim_inbound_reply":
{ Args: { "p_delivery_id": string,"p_lease_seconds"?: number }; Returns: boolean
                           },
"claim_inbound_reply_context":
{ Args: { "p_claimed_until"?: string,"p_delivery_id": string,"p_history_limit"?: number,"p_lease_seconds"?: number }; Returns: {
              "allows_whatsapp": boolean,"body": string,"claimed": boolean,"history": Json,"provider": string,"reply_to": string,"session": Json
            }[]
                           },
"claim_meta_profile_refresh":
{ Args: { "p_channel": string,"p_external_id": string,"p_profile_id": string }; Returns: boolean
                           },
"claim_oauth_token":
{ Args: { "p_lease_seconds"?: number,"p_min_ttl_seconds"?: number,"p_token_key": string }; Returns: {
              "access_token": string,"expires_at": string,"refresh": boolean
            }[]
                           },
"claim_webhook_event":
{ Args: { "p_event_id": string,"p_source": string }; Returns: boolean
                           },
"cleanup_expired_omnichannel_sessions":
{ Args: { "p_batch_size"?: number }; Returns: number
                           },
"cleanup_expired_omnichannel_sessions_batch":
{ Args: { "p_batch_size"?: number }; Returns: number
                           },
"close_conversation_handoff":
{ Args: { "p_closed_by": string,"p_reason"?: string,"p_session_id": string }; Returns: boolean
                           },
"complete_inbound_reply":
{ Args: { "p_delivery_id": string,"p_state"?: string }; Returns: undefined
                           },
"delivery_retry_delay":
{ Args: { "p_attempt": number,"p_retry_after_ms"?: number }; Returns: string
                           },
"delivery_retry_limits":
{ Args: Record<PropertyKey, never>; Returns: Record<string, unknown>
                           },
"delivery_unknown_wait":
{ Args: Record<PropertyKey, never>; Returns: string
                           },
"dispatch_job_command":
{ Args: Record<PropertyKey, never>; Returns: string
                           },
"enqueue_genesys_post":
{ Args: { "p_dedupe_key": string,"p_delivery_id"?: string,"p_integration_id"?: string,"p_kind": string,"p_payload"?: Json,"p_tenant_id": string }; Returns: number
                           },
"enqueue_sms_fallback":
{ Args: { "p_delivery_id": string }; Returns: string
                           },
"find_api_message":
{ Args: { "p_caller": string,"p_idempotency_key": string }; Returns: {
              "message_id": string,"request_hash": string,"response": Json
            }[]
                           },
"find_profile":
{ Args: { "p_kind": string,"p_value": string }; Returns: string
                           },
"forget_oauth_token":
{ Args: { "p_access_token"?: string,"p_token_key": string }; Returns: undefined
                           },
"forward_if_handed_off":
{ Args: { "p_delivery_id": string,"p_session_id": string }; Returns: {
              "handoff_id": string,"outbox_id": number,"tenant_id": string
            }[]
                           },
"genesys_conversation":
{ Args: { "p_integration_id": string,"p_whatsapp_id": string }; Returns: {
              "genesys_conversation_id": string,"phone_number_id": string,"session_id": string,"state": string,"tenant_id": string
            }[]
                           },
"genesys_message_of_delivery":
{ Args: { "p_delivery_id": string }; Returns: {
              "genesys_message_id": string,"integration_id": string,"whatsapp_id": string
            }[]
                           },
"get_active_omnichannel_session":
{ Args: { "p_phone_number": string }; Returns: {
              "archived_at": string | null,
"assigned_at": string | null,
"assignee": string | null,
"call_id": string | null,
"channels_seen": (string)[],
"closed_at": string | null,
"context": NonNullable<Json>,
"conversation_status": string,
"created_at": string,
"expires_at": string,
"id": string,
"last_activity_at": string,
"last_channel": string | null,
"priority": string,
"profile_id": string,
"resolved_at": string | null,
"sms_summary_sent": boolean,
"sms_summary_sent_at": string | null,
"status": string,
"tags": (string)[],
"tenant_id": string | null,
"updated_at": string,
"whatsapp_summary_sent": boolean,
"whatsapp_summary_sent_at": string | null
            }[]
                          SetofOptions: {
        from: "*"
        to: "omnichannel_sessions"
        isOneToOne: false
        isSetofReturn: true
      } },
"get_api_message":
{ Args: { "p_message_id": string }; Returns: Json
                           },
"get_conversation":
{ Args: { "p_session_id": string }; Returns: Json
                           },
"get_or_create_omnichannel_session":
{ Args: { "p_call_id"?: string,"p_channel": string,"p_context"?: Json,"p_phone_number": string,"p_status"?: string }; Returns: {
              "allows_sms": boolean,"call_id": string,"channels_seen": (string)[],"context": Json,"expires_at": string,"has_whatsapp": boolean,"is_new": boolean,"last_channel": string,"profile_id": string,"session_id": string,"sms_summary_sent": boolean,"status": string,"whatsapp_summary_sent": boolean
            }[]
                           },
"get_or_create_session_for_profile":
{ Args: { "p_call_id"?: string,"p_channel": string,"p_context"?: Json,"p_profile_id": string,"p_status"?: string,"p_tenant_id"?: string }; Returns: {
              "allows_sms": boolean,"call_id": string,"channels_seen": (string)[],"context": Json,"expires_at": string,"has_whatsapp": boolean,"is_new": boolean,"last_channel": string,"profile_id": string,"session_id": string,"sms_summary_sent": boolean,"status": string,"whatsapp_summary_sent": boolean
            }[]
                           },
"get_session_history":
{ Args: { "p_limit"?: number,"p_session_id": string }; Returns: {
              "body": string,"channel": string,"created_at": string,"direction": string,"message_type": string,"status": string
            }[]
                           },
"link_identity":
{ Args: { "p_kind": string,"p_profile_id": string,"p_value": string }; Returns: string
                           },
"list_api_messages":
{ Args: { "p_before_created_at"?: string,"p_before_id"?: string,"p_channel"?: string,"p_limit": number,"p_profile_id"?: string,"p_status"?: string }; Returns: {
              "channel": string,"created_at": string,"cursor_created_at": string,"id": string,"profile_id": string,"send_at": string,"status": string,"steps": number
            }[]
                           },
"list_channel_accounts":
{ Args: { "p_tenant_id": string }; Returns: {
              "created_at": string,"credential_fields": (string)[],"disabled_at": string,"display_name": string,"external_id": string,"id": string,"kind": string,"routing": string,"settings": Json,"tenant_id": string,"updated_at": string
            }[]
                           },
"list_conversations":
{ Args: { "p_agent"?: string,"p_assignee"?: string,"p_before_activity"?: string,"p_before_id"?: string,"p_limit"?: number,"p_view"?: string }; Returns: {
              "conversation": Json,"cursor_activity": string,"cursor_id": string
            }[]
                           },
"list_pending_inbound_replies":
{ Args: { "p_limit"?: number,"p_max_age_seconds"?: number,"p_older_than_seconds"?: number }; Returns: {
              "channel": string,"correlation_id": string,"created_at": string,"delivery_id": string,"sender": string,"session_id": string
            }[]
                           },
"list_unnotified_calls":
{ Args: { "p_limit"?: number,"p_max_age_seconds"?: number,"p_older_than_seconds"?: number }; Returns: {
              "call_id": string,"phone_number": string
            }[]
                           },
"log_message_delivery":
{ Args: { "p_body"?: string,"p_channel": string,"p_correlation_id"?: string,"p_direction": string,"p_error_class"?: string,"p_error_code"?: string,"p_error_message"?: string,"p_idempotency_key"?: string,"p_message_type"?: string,"p_metadata"?: Json,"p_profile_id"?: string,"p_provider"?: string,"p_provider_message_id"?: string,"p_recipient"?: string,"p_sender"?: string,"p_session_id"?: string,"p_status": string }; Returns: {
              "api_message_id": string | null,
"attempts": number,
"body": string | null,
"call_id": string | null,
"channel": string,
"correlation_id": string | null,
"created_at": string,
"delivered_at": string | null,
"direction": string,
"error_class": string | null,
"error_code": string | null,
"error_message": string | null,
"failed_at": string | null,
"fallback_of": string | null,
"id": string,
"idempotency_key": string | null,
"leased_until": string | null,
"message_type": string,
"metadata": NonNullable<Json>,
"next_attempt_at": string | null,
"profile_id": string | null,
"provider": string | null,
"provider_message_id": string | null,
"purpose": string | null,
"queued_at": string | null,
"read_at": string | null,
"received_at": string | null,
"recipient": string | null,
"reply_state": string | null,
"retry_of": string | null,
"route_step": number | null,
"sender": string | null,
"sender_key": string | null,
"sent_at": string | null,
"session_id": string | null,
"status": string,
"tenant_id": string,
"updated_at": string
            }
                          SetofOptions: {
        from: "*"
        to: "message_delivery_log"
        isOneToOne: true
        isSetofReturn: false
      } },
"mark_message_stats_hours":
{ Args: { "p_at": (string)[],"p_ids": (string)[],"p_sessions": (string)[] }; Returns: undefined
                           },
"mark_omnichannel_summary_sent":
{ Args: { "p_channel": string,"p_session_id": string }; Returns: {
              "archived_at": string | null,
"assigned_at": string | null,
"assignee": string | null,
"call_id": string | null,
"channels_seen": (string)[],
"closed_at": string | null,
"context": NonNullable<Json>,
"conversation_status": string,
"created_at": string,
"expires_at": string,
"id": string,
"last_activity_at": string,
"last_channel": string | null,
"priority": string,
"profile_id": string,
"resolved_at": string | null,
"sms_summary_sent": boolean,
"sms_summary_sent_at": string | null,
"status": string,
"tags": (string)[],
"tenant_id": string | null,
"updated_at": string,
"whatsapp_summary_sent": boolean,
"whatsapp_summary_sent_at": string | null
            }
                          SetofOptions: {
        from: "*"
        to: "omnichannel_sessions"
        isOneToOne: true
        isSetofReturn: false
      } },
"merge_omnichannel_session_context":
{ Args: { "p_context": Json,"p_session_id": string }; Returns: {
              "archived_at": string | null,
"assigned_at": string | null,
"assignee": string | null,
"call_id": string | null,
"channels_seen": (string)[],
"closed_at": string | null,
"context": NonNullable<Json>,
"conversation_status": string,
"created_at": string,
"expires_at": string,
"id": string,
"last_activity_at": string,
"last_channel": string | null,
"priority": string,
"profile_id": string,
"resolved_at": string | null,
"sms_summary_sent": boolean,
"sms_summary_sent_at": string | null,
"status": string,
"tags": (string)[],
"tenant_id": string | null,
"updated_at": string,
"whatsapp_summary_sent": boolean,
"whatsapp_summary_sent_at": string | null
            }
                          SetofOptions: {
        from: "*"
        to: "omnichannel_sessions"
        isOneToOne: true
        isSetofReturn: false
      } },
"merge_profiles":
{ Args: { "p_loser": string,"p_survivor": string }; Returns: string
                           },
"message_stats":
{ Args: { "p_channel"?: string,"p_from": string,"p_to": string }; Returns: {
              "blocked": number,"channel": string,"delivered": number,"delivery_rate": number,"failed": number,"median_first_response_seconds": number,"median_seconds_to_delivered": number,"median_seconds_to_read": number,"p90_seconds_to_delivered": number,"p90_seconds_to_read": number,"read": number,"read_rate": number,"sent": number
            }[]
                           },
"message_stats_bucket":
{ Args: { "p_seconds": number }; Returns: number
                           },
"message_stats_fold_limit":
{ Args: Record<PropertyKey, never>; Returns: string
                           },
"message_stats_from_log":
{ Args: { "p_channel"?: string,"p_from": string,"p_to": string }; Returns: {
              "bucket": number,"channel": string,"metric": string,"n": number
            }[]
                           },
"message_stats_unfolded_hours":
{ Args: { "p_from": string,"p_to": string }; Returns: string[]
                           },
"move_conversation":
{ Args: { "p_action": string,"p_agent"?: string,"p_assignee"?: string,"p_priority"?: string,"p_session_id": string,"p_tags"?: (string)[] }; Returns: Json
                           },
"normalize_identity":
{ Args: { "p_kind": string,"p_value": string }; Returns: string
                           },
"park_outbound_outcome":
{ Args: { "p_delivery_id": string,"p_provider"?: string,"p_provider_message_id"?: string }; Returns: string
                           },
"process_inbound_inbox":
{ Args: { "p_claim_seconds"?: number,"p_limit"?: number }; Returns: {
              "allows_sms": boolean,"channel": string,"claimed_until": string,"correlation_id": string,"delivery_id": string,"inbox_id": number,"is_new": boolean,"needs_reply": boolean,"profile_id": string,"sender": string,"session_id": string
            }[]
                           },
"process_status_inbox":
{ Args: { "p_limit"?: number }; Returns: {
              "current_status": string,"delivery_id": string,"inbox_id": number,"matched": boolean,"payload": Json,"previous_status": string
            }[]
                           },
"profile_identity":
{ Args: { "p_kind": string,"p_profile_id": string }; Returns: string
                           },
"profile_survivor":
{ Args: { "p_profile_id": string }; Returns: string
                           },
"purge_processed_inboxes":
{ Args: { "p_batch"?: number,"p_retention"?: string }; Returns: number
                           },
"purge_webhook_archive":
{ Args: { "p_batch_size"?: number,"p_retention"?: string }; Returns: number
                           },
"record_delivery_status":
{ Args: { "p_channel": string,"p_delivery_id"?: string,"p_error_class"?: string,"p_error_code"?: string,"p_error_message"?: string,"p_metadata"?: Json,"p_not_on_channel"?: boolean,"p_provider_message_id": string,"p_status": string }; Returns: {
              "current_status": string,"delivery_id": string,"matched": boolean,"previous_status": string
            }[]
                           },
"record_delivery_statuses":
{ Args: { "p_updates": Json }; Returns: {
              "current_status": string,"delivery_id": string,"matched": boolean,"ordinal": number,"previous_status": string
            }[]
                           },
"record_genesys_post":
{ Args: { "p_error"?: string,"p_genesys_message_id"?: string,"p_id": number,"p_ok": boolean,"p_request_body"?: string,"p_response_status"?: number,"p_retry_after_ms"?: number,"p_retryable"?: boolean }; Returns: string
                           },
"record_genesys_receipt":
{ Args: { "p_genesys_message_id": string,"p_integration_id": string,"p_reason"?: string,"p_status": string }; Returns: boolean
                           },
"record_inbound_message":
{ Args: { "p_body"?: string,"p_channel": string,"p_claim_seconds"?: number,"p_correlation_id"?: string,"p_display_name"?: string,"p_message_type"?: string,"p_metadata"?: Json,"p_needs_reply"?: boolean,"p_provider": string,"p_provider_message_id": string,"p_sender": string,"p_sender_kind"?: string,"p_whatsapp_jid"?: string }; Returns: {
              "allows_sms": boolean,"delivery_id": string,"is_new": boolean,"profile_id": string,"session_id": string
            }[]
                           },
"record_inbound_messages":
{ Args: { "p_messages": Json }; Returns: {
              "allows_sms": boolean,"delivery_id": string,"is_new": boolean,"ordinal": number,"profile_id": string,"session_id": string
            }[]
                           },
"record_message_media":
{ Args: { "p_delivery_id": string,"p_object": Json }; Returns: boolean
                           },
"record_meta_echo":
{ Args: { "p_body"?: string,"p_channel": string,"p_correlation_id"?: string,"p_delivery_id"?: string,"p_metadata"?: Json,"p_mid": string,"p_recipient": string }; Returns: {
              "delivery_id": string,"is_new": boolean
            }[]
                           },
"record_outbound_outcome":
{ Args: { "p_body"?: string,"p_delivery_id": string,"p_error_class"?: string,"p_error_code"?: string,"p_error_message"?: string,"p_message_type"?: string,"p_metadata"?: Json,"p_not_on_channel"?: boolean,"p_provider": string,"p_provider_message_id"?: string,"p_retry_after_ms"?: number,"p_sender_key"?: string,"p_sent": boolean }; Returns: {
              "attempts": number,"delivery_id": string,"fallback_id": string,"next_attempt_at": string,"status": string
            }[]
                           },
"record_outbound_outcome_row":
{ Args: { "p_body": string,"p_delivery_id": string,"p_error_class": string,"p_error_code": string,"p_error_message": string,"p_mark_summary": boolean,"p_message_type": string,"p_metadata": Json,"p_not_on_channel": boolean,"p_provider": string,"p_provider_message_id": string,"p_retry_after_ms": number,"p_sender_key": string,"p_sent": boolean }; Returns: {
              "attempts": number,"delivery_id": string,"fallback_id": string,"next_attempt_at": string,"status": string,"summary_channel": string,"summary_session_id": string
            }[]
                           },
"record_outbound_outcomes":
{ Args: { "p_outcomes": Json }; Returns: {
              "attempts": number,"delivery_id": string,"fallback_id": string,"next_attempt_at": string,"ordinal": number,"status": string
            }[]
                           },
"record_sms_keyword":
{ Args: { "p_body": string,"p_correlation_id"?: string,"p_keyword": string,"p_metadata"?: Json,"p_only_when_opted_out"?: boolean,"p_provider": string,"p_provider_message_id": string,"p_reply_body": string,"p_sender": string }; Returns: {
              "allows_sms": boolean,"changed": boolean,"delivery_id": string,"is_new": boolean,"keyword_applied": boolean,"profile_id": string,"reply_delivery_id": string,"reply_status": string,"session_id": string
            }[]
                           },
"record_webhook_replay":
{ Args: { "p_id": number,"p_status": number }; Returns: boolean
                           },
"refresh_message_stats":
{ Args: { "p_max_hours"?: number }; Returns: number
                           },
"release_deliveries":
{ Args: { "p_at"?: string,"p_ids": (string)[] }; Returns: number
                           },
"release_webhook_event":
{ Args: { "p_event_id": string,"p_source": string }; Returns: undefined
                           },
"request_whatsapp_template_sync":
{ Args: Record<PropertyKey, never>; Returns: boolean
                           },
"resolve_channel_account":
{ Args: { "p_external_id": string,"p_kind": string }; Returns: {
              "account_id": string,"credentials": Json,"routing": string,"settings": Json,"tenant_id": string
            }[]
                           },
"resolve_profile":
{ Args: { "p_channel"?: string,"p_display_name"?: string,"p_kind": string,"p_value": string }; Returns: string
                           },
"retry_delivery":
{ Args: { "p_delivery_id": string }; Returns: string
                           },
"retry_genesys_post":
{ Args: { "p_id": number }; Returns: boolean
                           },
"run_conversation_sla":
{ Args: { "p_archive_after"?: string,"p_first_response"?: string,"p_idle"?: string,"p_next_response"?: string }; Returns: {
              "archived": number,"breached": number,"reopened": number,"resolved": number
            }[]
                           },
"save_channel_account":
{ Args: { "p_credentials"?: Json,"p_display_name"?: string,"p_external_id": string,"p_kind": string,"p_routing"?: string,"p_settings"?: Json,"p_tenant_id": string }; Returns: string
                           },
"save_meta_profile":
{ Args: { "p_channel": string,"p_external_id": string,"p_name"?: string,"p_profile_pic"?: string,"p_username"?: string }; Returns: undefined
                           },
"schedule_dispatch":
{ Args: { "p_functions_url": string,"p_schedule"?: string,"p_secret_key": string }; Returns: string
                           },
"set_blocked_body":
{ Args: { "p_body": string,"p_delivery_id": string }; Returns: undefined
                           },
"set_channel_account_disabled":
{ Args: { "p_account_id": string,"p_disabled": boolean,"p_tenant_id": string }; Returns: boolean
                           },
"set_channel_preference":
{ Args: { "p_allowed": boolean,"p_channel": string,"p_phone_number": string }; Returns: {
              "changed": boolean,"profile_id": string
            }[]
                           },
"set_email_preference":
{ Args: { "p_address": string,"p_allowed": boolean }; Returns: string
                           },
"set_sender_rate":
{ Args: { "p_burst"?: number,"p_rate_per_second": number,"p_sender_key": string }; Returns: undefined
                           },
"set_sms_preference":
{ Args: { "p_allows_sms": boolean,"p_phone_number": string }; Returns: {
              "changed": boolean,"profile_id": string
            }[]
                           },
"slow_down_sender":
{ Args: { "p_retry_after_ms"?: number,"p_sender_key": string }; Returns: undefined
                           },
"start_conversation_handoff":
{ Args: { "p_attributes"?: Json,"p_delivery_id"?: string,"p_phone_number_id"?: string,"p_reason": string,"p_requested_by": string,"p_session_id": string,"p_summary"?: string,"p_tenant_id": string,"p_whatsapp_id": string }; Returns: {
              "handoff_id": string,"is_new": boolean,"outbox_id": number
            }[]
                           },
"store_oauth_token":
{ Args: { "p_access_token": string,"p_expires_in_seconds": number,"p_token_key": string }; Returns: string
                           },
"suppress_email_address":
{ Args: { "p_address": string,"p_detail"?: string,"p_provider_message_id"?: string,"p_reason": string }; Returns: string
                           },
"sync_scheduled_jobs":
{ Args: Record<PropertyKey, never>; Returns: boolean
                           },
"sync_whatsapp_templates":
{ Args: { "p_templates": Json }; Returns: {
              "removed": number,"synced": number
            }[]
                           },
"take_api_quota":
{ Args: { "p_caller": string,"p_limit": number,"p_window_seconds"?: number }; Returns: {
              "allowed": boolean,"retry_after_seconds": number
            }[]
                           },
"take_send_token_each":
{ Args: { "p_default_rates": (number)[],"p_sender_keys": (string)[] }; Returns: {
              "granted": number,"sender_key": string,"wait_ms": number
            }[]
                           },
"take_send_tokens":
{ Args: { "p_default_rate"?: number,"p_sender_key": string,"p_wanted": number }; Returns: {
              "granted": number,"wait_ms": number
            }[]
                           },
"take_send_tokens_each":
{ Args: { "p_default_rates": (number)[],"p_sender_keys": (string)[],"p_wanted": (number)[] }; Returns: {
              "granted": number,"sender_key": string,"wait_ms": number
            }[]
                           },
"tenant_channel_account":
{ Args: { "p_kind": string,"p_tenant_id": string }; Returns: {
              "account_id": string,"credentials": Json,"external_id": string,"routing": string,"settings": Json
            }[]
                           },
"tenant_dashboard":
{ Args: { "p_since"?: string,"p_tenant_id": string }; Returns: Json
                           },
"track_genesys_inbound":
{ Args: { "p_delivery_id": string,"p_genesys_message_id": string,"p_integration_id": string,"p_phone_number_id"?: string,"p_session_id": string,"p_state"?: string,"p_tenant_id": string,"p_whatsapp_id": string }; Returns: boolean
                           },
"track_genesys_outbound":
{ Args: { "p_delivery_id": string,"p_genesys_conversation_id"?: string,"p_genesys_message_id": string,"p_integration_id": string,"p_whatsapp_id": string }; Returns: boolean
                           },
"update_omnichannel_session_status":
{ Args: { "p_session_id": string,"p_status": string }; Returns: {
              "archived_at": string | null,
"assigned_at": string | null,
"assignee": string | null,
"call_id": string | null,
"channels_seen": (string)[],
"closed_at": string | null,
"context": NonNullable<Json>,
"conversation_status": string,
"created_at": string,
"expires_at": string,
"id": string,
"last_activity_at": string,
"last_channel": string | null,
"priority": string,
"profile_id": string,
"resolved_at": string | null,
"sms_summary_sent": boolean,
"sms_summary_sent_at": string | null,
"status": string,
"tags": (string)[],
"tenant_id": string | null,
"updated_at": string,
"whatsapp_summary_sent": boolean,
"whatsapp_summary_sent_at": string | null
            }
                          SetofOptions: {
        from: "*"
        to: "omnichannel_sessions"
        isOneToOne: true
        isSetofReturn: false
      } },
"whatsapp_window_open":
{ Args: { "p_profile_id": string }; Returns: boolean
                           }
          }
          Enums: {
            [_ in never]: never
          }
          CompositeTypes: {
            [_ in never]: never
          }
        }
}

type DatabaseWithoutInternals = Omit<Database, '__InternalSupabase'>

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
  ? (DefaultSchema["Tables"] & DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
      Row: infer R
    }
    ? R
    : never
  : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Insert: infer I
    }
    ? I
    : never
  : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Update: infer U
    }
    ? U
    : never
  : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never = never
> = DefaultSchemaEnumNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
  ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
  : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never = never
> = PublicCompositeTypeNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
  ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
  : never

export const Constants = {
  "public": {
          Enums: {
            
          }
        }
} as const
