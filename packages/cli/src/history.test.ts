import { describe, expect, it } from "vitest";
import { diffMerge, diffVersions, lastValueChanges, refineWithPlaintexts, type FileVersion, type HistoryEvent } from "./history.js";

const v = (values: Record<string, string>, stanzas: Record<string, string> = { age1a: "wrapA" }): FileVersion => ({
  values: new Map(Object.entries(values)),
  stanzas: new Map(Object.entries(stanzas)),
});

describe("diffVersions", () => {
  it("reports added, changed and removed names from ENC strings alone", () => {
    expect(diffVersions(v({ a: "E1", b: "E2", c: "E3" }), v({ a: "E1", b: "E2x", d: "E4" }))).toEqual([
      { name: "b", kind: "changed" },
      { name: "c", kind: "removed" },
      { name: "d", kind: "added" },
    ]);
  });

  it("treats a missing file as empty on either side", () => {
    expect(diffVersions(undefined, v({ a: "E1" }))).toEqual([{ name: "a", kind: "added" }]);
    expect(diffVersions(v({ a: "E1" }), undefined)).toEqual([{ name: "a", kind: "removed" }]);
  });

  it("calls a version where every kept value's ciphertext changed a re-encryption", () => {
    expect(diffVersions(v({ a: "E1", b: "E2" }), v({ a: "X1", b: "X2", c: "X3" })).map((c) => c.kind)).toEqual(["re-encrypted", "re-encrypted", "added"]);
  });

  it("with one value, needs the data key to be re-wrapped to call it a re-encryption", () => {
    expect(diffVersions(v({ a: "E1" }), v({ a: "X1" }))).toEqual([{ name: "a", kind: "changed" }]);
    expect(diffVersions(v({ a: "E1" }), v({ a: "X1" }, { age1a: "wrapB" }))).toEqual([{ name: "a", kind: "re-encrypted" }]);
  });

  it("does not call a partial change a re-encryption", () => {
    expect(diffVersions(v({ a: "E1", b: "E2", c: "E3" }), v({ a: "X1", b: "X2", c: "E3" })).map((c) => c.kind)).toEqual(["changed", "changed"]);
  });
});

describe("diffMerge", () => {
  it("reports only names whose value differs from every parent", () => {
    const p1 = v({ a: "A1", b: "B1" });
    const p2 = v({ a: "A2", b: "B1" });
    expect(diffMerge([p1, p2], v({ a: "A2", b: "B1" }))).toEqual([]);
    expect(diffMerge([p1, p2], v({ a: "A3", b: "B1" }))).toEqual([{ name: "a", kind: "changed" }]);
    expect(diffMerge([p1, undefined], v({ a: "A1", b: "B1" }))).toEqual([]);
  });
});

describe("refineWithPlaintexts", () => {
  it("turns re-encryptions into changes where the plaintext differs", () => {
    const changes = [
      { name: "a", kind: "re-encrypted" as const },
      { name: "b", kind: "re-encrypted" as const },
      { name: "c", kind: "added" as const },
    ];
    expect(refineWithPlaintexts(changes, new Map([["a", "1"], ["b", "2"]]), new Map([["a", "1"], ["b", "3"], ["c", "4"]]))).toEqual([
      { name: "a", kind: "re-encrypted" },
      { name: "b", kind: "changed" },
      { name: "c", kind: "added" },
    ]);
    expect(refineWithPlaintexts(changes, undefined, new Map())).toBe(changes);
  });
});

describe("lastValueChanges", () => {
  const e = (name: string, kind: HistoryEvent["kind"], date: string): HistoryEvent => ({
    environment: "production",
    name,
    kind,
    date,
    commit: date,
    author: "a",
    email: "a@x",
    message: "",
    verified: false,
  });
  it("ignores re-encryptions and forgets removed names", () => {
    const last = lastValueChanges([e("a", "added", "1"), e("a", "re-encrypted", "2"), e("b", "added", "1"), e("b", "removed", "3"), e("c", "changed", "4")]);
    expect(last.get("production\u0000a")?.date).toBe("1");
    expect(last.has("production\u0000b")).toBe(false);
    expect(last.get("production\u0000c")?.date).toBe("4");
  });
});
