/**
 * Earlier traffic for a benchmark's database: what a running deployment already holds before the
 * load starts. Without it every table starts empty, and the planner's statistics are of tables
 * a few hundred rows long while the phases grow them to thousands: the cached plans scan whole
 * profiles and conversations tables for one row (a post-call run on an empty database made
 * 21,000 sequential scans of each, reading 46 million rows), which no deployment past its first
 * minutes does.
 *
 * Each earlier person (phone numbers +25072…, apart from any the phases use) has a profile, a
 * closed conversation from a call three days ago, that call's WhatsApp and SMS summaries (sent,
 * then delivered) and one WhatsApp reply from them. Written through the tables' own triggers,
 * then vacuumed, analysed and checkpointed.
 */
import type postgres from "postgres";

export async function seedEarlierTraffic(
  sql: postgres.Sql,
  people: number,
  log: (s: string) => void,
): Promise<void> {
  if (people <= 0) return;
  const started = performance.now();
  const chunk = 5_000;
  for (let from = 1; from <= people; from += chunk) {
    const to = Math.min(people, from + chunk - 1);
    await sql`
      with p as (
        insert into public.profiles (phone_number, has_whatsapp, last_active_channel, created_at)
        select '+25072' || lpad(g::text, 7, '0'), true, 'whatsapp', now() - interval '3 days'
        from generate_series(${from}::int, ${to}::int) g
        returning id, phone_number
      ), s as (
        insert into public.omnichannel_sessions as s (
          profile_id, status, channels_seen, last_channel, call_id, created_at, last_activity_at,
          expires_at, closed_at, whatsapp_summary_sent, whatsapp_summary_sent_at,
          sms_summary_sent, sms_summary_sent_at
        )
        select p.id, 'closed', array['voice', 'whatsapp', 'sms'], 'whatsapp',
               'earlier-' || p.phone_number, now() - interval '3 days',
               now() - interval '3 days', now() - interval '2 days', now() - interval '2 days',
               true, now() - interval '3 days', true, now() - interval '3 days'
        from p
        returning s.id, s.profile_id, s.call_id
      )
      insert into public.message_delivery_log (
        session_id, profile_id, channel, direction, status, recipient, sender, body, provider,
        provider_message_id, call_id, purpose, idempotency_key, attempts, message_type,
        sent_at, delivered_at, created_at
      )
      select s.id, p.id, m.channel, m.direction, m.status,
             case when m.direction = 'outbound' then p.phone_number end,
             case when m.direction = 'inbound' then p.phone_number end,
             m.body, m.provider, m.channel || '-' || m.direction || '-' || s.call_id,
             case when m.direction = 'outbound' then s.call_id end,
             m.purpose,
             case when m.direction = 'outbound' then 'post_call:' || s.call_id || ':' || m.channel end,
             1, 'text',
             case when m.direction = 'outbound' then now() - interval '3 days' end,
             case when m.direction = 'outbound' then now() - interval '3 days' end,
             now() - interval '3 days' + m.after
      from s join p on p.id = s.profile_id
      cross join (values
        ('whatsapp', 'outbound', 'delivered', 'Your call summary', 'meta', 'post_call_summary',
         interval '0'),
        ('sms', 'outbound', 'delivered', 'Your call summary', 'mtn', 'post_call_summary',
         interval '1 second'),
        ('whatsapp', 'inbound', 'received', 'Thanks!', 'meta', null, interval '5 minutes')
      ) as m(channel, direction, status, body, provider, purpose, after)`;
    log(`  earlier traffic: ${to}/${people} people`);
  }
  // As a running deployment's tables are: vacuumed and analysed, and written out, so the first
  // phase (a floor) does not pay for the seed's hint bits, dirty pages or statistics.
  await sql`vacuum (analyze) public.profiles, public.omnichannel_sessions, public.tenant_profiles,
    public.message_delivery_log`;
  await sql`checkpoint`.catch((err) =>
    log(`  earlier traffic: no checkpoint (${err instanceof Error ? err.message : err})`)
  );
  log(
    `  earlier traffic: ${people} people, ${people * 3} messages in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s`,
  );
}
