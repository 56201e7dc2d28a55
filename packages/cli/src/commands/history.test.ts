import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "@stellar-secrets/core";
import { describeKind } from "./history.js";

const event = (extra: Partial<HistoryEvent>): HistoryEvent => ({
  commit: "c".repeat(40),
  author: "A",
  email: "a@example.test",
  date: "2024-01-01T00:00:00Z",
  message: "m",
  environment: "production",
  name: "stripe_api_key",
  kind: "re-encrypted",
  verified: false,
  ...extra,
});

describe("the CHANGE column of history", () => {
  it("says exactly what a keyless re-encryption shows: the data key as the stanzas show it, and that values cannot be compared", () => {
    expect(describeKind(event({ dataKey: "new" }))).toBe("re-encrypted under a new data key; values cannot be compared without a key");
    expect(describeKind(event({ dataKey: "same" }))).toBe("re-encrypted under the same data key; values cannot be compared without a key");
    expect(describeKind(event({}))).toBe("re-encrypted; values cannot be compared without a key");
  });

  it("with a key that opened both versions: the same value, or a value change told apart from the re-encryption", () => {
    expect(describeKind(event({ dataKey: "new", verified: true }))).toBe("re-encrypted (same value)");
    expect(describeKind(event({ dataKey: "new", verified: true, kind: "changed" }))).toBe("changed (and re-encrypted under a new data key)");
    expect(describeKind(event({ kind: "changed" }))).toBe("changed");
  });

  it("keeps a merge's words", () => {
    expect(describeKind(event({ dataKey: "new", discardedBy: "d".repeat(40) }))).toBe("re-encrypted under a new data key; values cannot be compared without a key (dropped by merge dddddddddd)");
  });
});
