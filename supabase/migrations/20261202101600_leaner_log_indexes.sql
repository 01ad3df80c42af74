-- Fewer index entries per row version of the delivery log. Every insert into the log, and every
-- update that changes an indexed column (a send's outcome, a status: none of them can be HOT),
-- adds an entry to each index whose predicate the row meets. A post-call notification writes 4
-- row versions (two rows queued, then sent), an inbound message 1 or 2.
--
-- * The WhatsApp window's lookup (the last inbound message from a sender) is only ever asked about
--   inbound rows, and the person's outbound lookups (Meta's watermark receipts, a leased send
--   waiting for its id) only about outbound rows: each index now holds only its direction's rows,
--   so an outbound row no longer pays for the inbound index and the other way round.
-- * message_delivery_log_queued_idx (created_at of queued rows) served no query: every reader of
--   queued rows names the outbound direction and uses message_delivery_log_due_idx.

drop index if exists public.message_delivery_log_queued_idx;

drop index if exists public.message_delivery_log_inbound_window_idx;
create index message_delivery_log_inbound_window_idx
  on public.message_delivery_log (channel, sender, created_at)
  where direction = 'inbound';

drop index if exists public.message_delivery_log_outbound_recipient_idx;
create index message_delivery_log_outbound_recipient_idx
  on public.message_delivery_log (channel, recipient, created_at)
  where direction = 'outbound';
