import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";

/** E.164 (`+250788123456`) for a valid number, else null. National numbers use the default country. */
export function toE164(input: string, defaultCountry: string): string | null {
  const parsed = parsePhoneNumberFromString(input.trim(), defaultCountry as CountryCode);
  return parsed && parsed.isValid() ? parsed.number : null;
}
