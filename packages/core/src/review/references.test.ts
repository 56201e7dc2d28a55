import { describe, expect, it } from "vitest";
import type { SecretReference } from "../config.js";
import { diffReferences } from "./references.js";

const ref = (secret: string, file: string, line: number, owner = "sendgrid", field = "headers[0] Authorization"): SecretReference =>
  ({ secret, file, line, column: 40, range: { start: 0, end: 0 }, kind: "api_connection", owner, field }) as unknown as SecretReference;

describe("diffReferences", () => {
  it("tells a reference moved from one secret to another at the same place (a rename's steps)", () => {
    expect(diffReferences([ref("sendgrid_api_key", "connections/sendgrid.yaml", 5)], [ref("sendgrid_key", "connections/sendgrid.yaml", 5)])).toEqual([
      { secret: "sendgrid_api_key", change: "removed", file: "connections/sendgrid.yaml", line: 5, kind: "api_connection", owner: "sendgrid", field: "headers[0] Authorization" },
      { secret: "sendgrid_key", change: "added", file: "connections/sendgrid.yaml", line: 5, kind: "api_connection", owner: "sendgrid", field: "headers[0] Authorization", replaces: "sendgrid_api_key" },
    ]);
  });

  it("is no change when a reference only moved down its file or with its file (git mv)", () => {
    expect(diffReferences([ref("a", "connections/x.yaml", 5)], [ref("a", "connections/x.yaml", 9)])).toEqual([]);
    expect(diffReferences([ref("a", "connections/x.yaml", 5)], [ref("a", "connections/y.yaml", 5)], new Map([["connections/y.yaml", "connections/x.yaml"]]))).toEqual([]);
  });

  it("lists a new reference and a second copy of one as added, without a replaced secret", () => {
    const changes = diffReferences([ref("a", "c.yaml", 1)], [ref("a", "c.yaml", 1), ref("a", "c.yaml", 7), ref("b", "d.yaml", 2, "shop")]);
    expect(changes.map((c) => [c.change, c.secret, c.file, c.line, c.replaces])).toEqual([
      ["added", "a", "c.yaml", 7, undefined],
      ["added", "b", "d.yaml", 2, undefined],
    ]);
  });

  it("never lists a credential: a reference whose 'name' is one (plaintext-credential says where), an owner named by one shown as hidden", () => {
    const changes = diffReferences(
      [ref("sk_live_4eC39HqLyjWDarjtT1zdp7dr", "c.yaml", 1)],
      [ref("sk_live_4eC39HqLyjWDarjtT1zdp7dq", "c.yaml", 1), ref("stripe_api_key", "d.yaml", 2, "sk_live_4eC39HqLyjWDarjtT1zdp7dz")],
    );
    expect(changes.map((c) => [c.change, c.secret, c.file, c.owner, c.replaces])).toEqual([["added", "stripe_api_key", "d.yaml", "(a name that looks like a credential, not shown)", undefined]]);
    expect(JSON.stringify(changes)).not.toContain("sk_live_4");
  });
});
