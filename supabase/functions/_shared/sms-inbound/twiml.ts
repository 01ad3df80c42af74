/**
 * Twilio's answer to a messaging webhook: TwiML. An empty `<Response/>` sends nothing; a
 * `<Message>` is sent by Twilio to the person who wrote, from the number they wrote to.
 */
export function twiml(message?: string): Response {
  const body = message === undefined
    ? "<Response/>"
    : `<Response><Message>${escapeXml(message)}</Message></Response>`;
  return new Response(`<?xml version="1.0" encoding="UTF-8"?>${body}`, {
    status: 200,
    headers: { "content-type": "text/xml; charset=utf-8" },
  });
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
