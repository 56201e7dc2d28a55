import { describe, expect, it } from "vitest";
import { diffMerge, diffVersions, lastValueChanges, parseRawLog, refineWithPlaintexts, type FileVersion, type HistoryEvent } from "./history.js";

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

const R = "\u001e";
const F = "\u001f";
const sha = (c: string): string => c.repeat(40);
const zero = "0".repeat(40);

describe("parseRawLog", () => {
  it("reads commits, adds, modifications, deletions, renames and combined merge lines", () => {
    const log = [
      `${R}${sha("m")}${F}${sha("p")} ${sha("q")}${F}Ann${F}ann@x${F}2024-01-04T00:00:00+00:00${F}merge\n\n::100644 100644 100644 ${sha("1")} ${sha("2")} ${sha("3")} MM\ts/p.enc.yaml\n`,
      `${R}${sha("r")}${F}${sha("a")}${F}Bob${F}bob@x${F}2024-01-03T00:00:00+00:00${F}move\n\n:100644 100644 ${sha("4")} ${sha("4")} R100\told/p.enc.yaml\ts/p.enc.yaml\n`,
      `${R}${sha("d")}${F}${sha("c")}${F}Cy${F}cy@x${F}2024-01-02T00:00:00+00:00${F}drop: a message with | bars\n\n:100644 000000 ${sha("5")} ${zero} D\ts/q.enc.yaml\n:000000 100644 ${zero} ${sha("6")} A\ts/n.enc.yaml\n`,
    ].join("");
    const parsed = parseRawLog(log);
    expect(parsed.map((c) => c.info.message)).toEqual(["merge", "move", "drop: a message with | bars"]);
    expect(parsed[0]?.changes).toEqual([{ path: "s/p.enc.yaml", before: [sha("1"), sha("2")], after: sha("3") }]);
    expect(parsed[1]?.changes).toEqual([{ path: "s/p.enc.yaml", renamedFrom: "old/p.enc.yaml", before: [sha("4")], after: sha("4") }]);
    expect(parsed[2]?.changes).toEqual([
      { path: "s/q.enc.yaml", before: [sha("5")], after: undefined },
      { path: "s/n.enc.yaml", before: [undefined], after: sha("6") },
    ]);
    expect(parsed[2]?.info).toEqual({ commit: sha("d"), author: "Cy", email: "cy@x", date: "2024-01-02T00:00:00+00:00", message: "drop: a message with | bars" });
  });
});
