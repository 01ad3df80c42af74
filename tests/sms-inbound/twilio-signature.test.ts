import { describe, expect, it } from "vitest";
import {
  twilioSignature,
  urlVariants,
  verifyTwilioSignature,
} from "../../supabase/functions/_shared/sms-inbound/twilio-signature.ts";
import { twilioSignature as independentSignature } from "./signing.ts";

/**
 * The vectors twilio-python's own tests use (tests/unit/test_request_validator.py): auth token
 * "12345", this URL and these POST parameters, and the signatures Twilio's validator accepts.
 */
const TOKEN = "12345";
const URL = "https://mycompany.com/myapp.php?foo=1&bar=2";
const PARAMS: Array<[string, string]> = [
  ["CallSid", "CA1234567890ABCDE"],
  ["Digits", "1234"],
  ["From", "+14158675309"],
  ["To", "+18005551212"],
  ["Caller", "+14158675309"],
];
const EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

describe("Twilio X-Twilio-Signature, against twilio-python's test vectors", () => {
  it("computes the documented signature", async () => {
    expect(await twilioSignature(TOKEN, URL, PARAMS)).toBe(EXPECTED);
    expect(await verifyTwilioSignature(TOKEN, EXPECTED, URL, PARAMS)).toBe(true);
  });

  it("does not depend on the order the parameters were posted in", async () => {
    expect(await twilioSignature(TOKEN, URL, [...PARAMS].reverse())).toBe(EXPECTED);
  });

  it("signs each value of a repeated parameter, values sorted (test_compute_signature_duplicate_*)", async () => {
    const params: Array<[string, string]> = [
      ["Sid", "CA123"],
      ["SidAccount", "AC123"],
      ["Digits", "5678"],
      ["Digits", "1234"],
    ];
    expect(await twilioSignature(TOKEN, URL, params)).toBe("IK+Dwps556ElfBT0I3Rgjkr1wJU=");
  });

  it("accepts the URL with a port removed on https (test_validation_removes_port_on_https)", async () => {
    const withPort = URL.replace(".com", ".com:1234");
    expect(await verifyTwilioSignature(TOKEN, EXPECTED, withPort, PARAMS)).toBe(true);
  });

  it("accepts a signature over the URL with its port on http (test_validation_removes_port_on_http)", async () => {
    const uri = URL.replace(".com", ".com:1234").replace("https", "http");
    expect(await verifyTwilioSignature(TOKEN, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", uri, PARAMS)).toBe(
      true,
    );
  });

  it("accepts a signature over the URL with the default port added (test_validation_adds_port_on_*)", async () => {
    expect(await verifyTwilioSignature(TOKEN, "kvajT1Ptam85bY51eRf/AJRuM3w=", URL, PARAMS)).toBe(
      true,
    );
    const http = URL.replace("https", "http");
    expect(await verifyTwilioSignature(TOKEN, "0ZXoZLH/DfblKGATFgpif+LLRf4=", http, PARAMS)).toBe(
      true,
    );
  });

  it("rejects a changed parameter, URL, query, token or signature", async () => {
    const tampered = PARAMS.map(([k, v]): [string, string] => [k, k === "Digits" ? "9999" : v]);
    expect(await verifyTwilioSignature(TOKEN, EXPECTED, URL, tampered)).toBe(false);
    expect(await verifyTwilioSignature(TOKEN, EXPECTED, `${URL}&extra=1`, PARAMS)).toBe(false);
    expect(await verifyTwilioSignature(TOKEN, EXPECTED, URL.replace("https", "http"), PARAMS)).toBe(
      false,
    );
    expect(await verifyTwilioSignature("54321", EXPECTED, URL, PARAMS)).toBe(false);
    expect(await verifyTwilioSignature(TOKEN, `x${EXPECTED.slice(1)}`, URL, PARAMS)).toBe(false);
    expect(await verifyTwilioSignature(TOKEN, "", URL, PARAMS)).toBe(false);
  });

  it("fails closed without a token or a header", async () => {
    expect(await verifyTwilioSignature(undefined, EXPECTED, URL, PARAMS)).toBe(false);
    expect(await verifyTwilioSignature("", EXPECTED, URL, PARAMS)).toBe(false);
    expect(await verifyTwilioSignature(TOKEN, null, URL, PARAMS)).toBe(false);
  });

  it("agrees with the independent signer the handler tests use", () => {
    expect(independentSignature(URL, PARAMS, TOKEN)).toBe(EXPECTED);
  });
});

describe("urlVariants", () => {
  it("gives the URL without its port and with the scheme's default port", () => {
    expect(urlVariants("https://x.co/a?b=1")).toEqual([
      "https://x.co/a?b=1",
      "https://x.co:443/a?b=1",
    ]);
    expect(urlVariants("http://x.co/a")).toEqual(["http://x.co/a", "http://x.co:80/a"]);
    expect(urlVariants("https://x.co:8443/a")).toEqual(["https://x.co/a", "https://x.co:8443/a"]);
    expect(urlVariants("http://[::1]:54321/f")).toEqual(["http://[::1]/f", "http://[::1]:54321/f"]);
  });
});
