import { describe, expect, it } from "vitest";
import { inspectFlag } from "../../scripts/stack/inspect.ts";

describe("STACK_INSPECT", () => {
  it("runs only the named function under the inspector, on 9339 unless a port is given", () => {
    expect(inspectFlag("wa-webhook", "wa-webhook")).toEqual(["--inspect=127.0.0.1:9339"]);
    expect(inspectFlag("wa-webhook", "wa-webhook:9400")).toEqual(["--inspect=127.0.0.1:9400"]);
    expect(inspectFlag("agent-worker", "wa-webhook")).toEqual([]);
    expect(inspectFlag("wa-webhook", undefined)).toEqual([]);
    expect(() => inspectFlag("wa-webhook", "wa-webhook:ninety")).toThrow(/not a port/);
  });
});
