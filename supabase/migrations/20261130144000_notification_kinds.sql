-- Named notification kinds for POST /messages/notifications/{event} (issue 14): each maps an
-- event's payload to a template, per channel and locale (public.message_templates), and to the
-- channels it goes on. `params` lists, in placeholder order ({{1}}, {{2}}…), the payload fields
-- that fill the template. handler 'post_call' hands the event to the post-call use-case (the
-- summary on WhatsApp and SMS, once per call id), so the post-call summary is one such kind.
-- Operators add or change kinds with plain SQL; the defaults below are for orders and calls.

create table public.notification_kinds (
  event text primary key check (event ~ '^[a-z0-9_]+(\.[a-z0-9_]+)*$'),
  description text not null,
  handler text not null default 'template' check (handler in ('template', 'post_call')),
  template_name text,
  default_locale text not null default 'en',
  -- "auto", one channel, or an ordered array of channels (as POST /messages takes it).
  channels jsonb not null default '"auto"'::jsonb,
  params text[] not null default '{}',
  enabled boolean not null default true,
  updated_at timestamptz not null default now(),
  constraint notification_kinds_template check (handler <> 'template' or template_name is not null)
);

create trigger notification_kinds_set_updated_at before update on public.notification_kinds
  for each row execute function public.omnichannel_set_updated_at();

alter table public.notification_kinds enable row level security;
revoke all on table public.notification_kinds from anon, authenticated;
grant select, insert, update, delete on table public.notification_kinds to service_role;
create policy omnichannel_service_role_select on public.notification_kinds for select to service_role using (true);
create policy omnichannel_service_role_insert on public.notification_kinds for insert to service_role with check (true);
create policy omnichannel_service_role_update on public.notification_kinds for update to service_role using (true) with check (true);
create policy omnichannel_service_role_delete on public.notification_kinds for delete to service_role using (true);

insert into public.notification_kinds (event, description, handler, template_name, params) values
  ('order.confirmed', 'An order was placed and confirmed', 'template', 'order_confirmed', '{order_id}'),
  ('order.shipped', 'An order left the warehouse', 'template', 'order_shipped', '{order_id,tracking_url}'),
  ('order.delivered', 'An order reached the customer', 'template', 'order_delivered', '{order_id}'),
  ('call.ended', 'A voice call ended: its summary on WhatsApp and SMS', 'post_call', null, '{}')
on conflict (event) do nothing;

-- The SMS renditions of the order templates (WhatsApp's come from Meta's sync).
insert into public.message_templates (channel, name, locale, body_text, param_count) values
  ('sms', 'order_confirmed', 'en', 'Your order {{1}} is confirmed. Thank you!', 1),
  ('sms', 'order_shipped', 'en', 'Your order {{1}} has shipped. Track it: {{2}}', 2),
  ('sms', 'order_delivered', 'en', 'Your order {{1}} was delivered.', 1)
on conflict (channel, name, locale) do nothing;
