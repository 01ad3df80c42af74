/** A row id as providers echo it back; anything else (not ours, mangled) is not used. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function echoedDeliveryId(value: unknown): string | undefined {
  return typeof value === "string" && UUID.test(value.trim())
    ? value.trim().toLowerCase()
    : undefined;
}
