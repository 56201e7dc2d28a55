import { describe, expect, it } from "vitest";
import { replacedValues, revokedValuesBack, type VersionStep } from "./revoked.js";

const m = (o: Record<string, string>): Map<string, string> => new Map(Object.entries(o));

describe("replacedValues / revokedValuesBack", () => {
  // newest first, as git log lists them (test-only fake values)
  const steps: VersionStep[] = [
    // the merge that kept the rename: a choice of a side for every name, no new value
    { commit: "m2", date: "2025-01-05", parents: [m({ a: "NEW" }), m({ b: "OLD" })], after: m({ b: "OLD" }) },
    { commit: "m1", date: "2025-01-04", parents: [m({ a: "OLD" }), m({ a: "NEW" })], after: m({ a: "NEW" }) },
    { commit: "rename", date: "2025-01-03", parents: [m({ a: "OLD" })], after: m({ b: "OLD" }) },
    { commit: "rotate", date: "2025-01-02", parents: [m({ a: "OLD" })], after: m({ a: "NEW" }) },
    { commit: "init", date: "2025-01-01", parents: [undefined], after: m({ a: "OLD", empty: "" }) },
  ];

  it("a value set anew replaces the one before; a rename, a removal or a merge's choice of a side replaces nothing", () => {
    const replaced = replacedValues(steps);
    expect([...replaced.keys()]).toEqual(["OLD"]);
    expect(replaced.get("OLD")).toEqual({ name: "a", commit: "rotate", date: "2025-01-02" });
  });

  it("finds the replaced value back under the new name, and nothing once it is set to the new value", () => {
    const replaced = replacedValues(steps);
    expect(revokedValuesBack("production", m({ b: "OLD", c: "" }), replaced)).toEqual([{ environment: "production", name: "b", replacedName: "a", commit: "rotate", date: "2025-01-02" }]);
    expect(revokedValuesBack("production", m({ b: "NEW" }), replaced)).toEqual([]);
  });

  it("a merge that sets a value neither side had replaces both sides' values", () => {
    const replaced = replacedValues([{ commit: "m", date: "d", parents: [m({ a: "X" }), m({ a: "Y" })], after: m({ a: "Z" }) }]);
    expect([...replaced.keys()].sort()).toEqual(["X", "Y"]);
  });
});
