import fc from "fast-check";
import { getCountries, getCountryCallingCode } from "libphonenumber-js";
import { describe, expect, it } from "vitest";
import { maskFields, maskPhone } from "./mask.ts";

const callingCodes = [...new Set(getCountries().map((c) => getCountryCallingCode(c)))];

/** The digits of `masked` that are not its leading country code. */
function visibleDigits(masked: string, cc = ""): string {
  return masked.replace(/\D/g, "").slice(masked.startsWith(`+${cc}`) ? cc.length : 0);
}

describe("maskPhone", () => {
  it("shows a short number's country code and never the whole number", () => {
    expect(maskPhone("+50012345")).toBe("+500****45");
    expect(maskPhone("+250788123456")).toBe("+250****3456");
    expect(maskPhone("0788123456")).toBe("****3456");
  });

  it("shows at most the country code and the last 4 digits, whatever the length", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...callingCodes),
        fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: 1, maxLength: 15 }),
        (cc, national) => {
          const masked = maskPhone(`+${cc}${national}`);
          const shown = visibleDigits(masked, cc);
          expect(shown.length).toBeLessThanOrEqual(Math.min(4, Math.floor(national.length / 2)));
          expect(national.endsWith(shown)).toBe(true);
          expect(masked.startsWith(`+${cc}****`)).toBe(true);
        },
      ),
      { numRuns: 2000, seed: 8 },
    );
  });

  it("never shows more than half the digits of any string, with or without a plus", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (raw) => {
        const masked = maskPhone(raw);
        const digits = raw.replace(/\D/g, "");
        const shown = visibleDigits(masked).length - (masked.match(/^\+(\d+)/)?.[1].length ?? 0);
        expect(shown).toBeLessThanOrEqual(Math.min(4, Math.floor(digits.length / 2)));
      }),
      { numRuns: 2000, seed: 8 },
    );
  });

  it("masks phone-like runs inside free text the same way", () => {
    expect(maskFields("caller +500 12345 asked", "note")).toBe("caller +500****45 asked");
  });
});
