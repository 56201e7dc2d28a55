import { describe, expect, it } from "vitest";
import { parseCatalog, parseRotationPeriod, removeCatalogEntry, setCatalogEntry } from "./catalog.js";

const TEXT = `# yaml-language-server: $schema=../schemas/catalog.schema.json
secrets:
  stripe_api_key:
    description: Stripe secret key for billing   # used by billing agent
    owner: payments-team
    rotate_every: 90d
  hubspot_api_token:
    owner: crm
`;

describe("parseCatalog", () => {
  it("reads entries and key ranges", () => {
    const c = parseCatalog(TEXT, "secrets/catalog.yaml");
    expect(c.diagnostics).toEqual([]);
    expect([...c.entries]).toEqual([
      ["stripe_api_key", { description: "Stripe secret key for billing", owner: "payments-team", rotate_every: "90d" }],
      ["hubspot_api_token", { owner: "crm" }],
    ]);
    expect(c.lines.positionAt(c.keyRanges.get("hubspot_api_token")?.start ?? -1)).toEqual({ line: 7, column: 3 });
  });

  it("treats an empty file as an empty catalog", () => {
    const c = parseCatalog("", "secrets/catalog.yaml");
    expect(c.entries.size).toBe(0);
    expect(c.diagnostics).toEqual([]);
  });

  it("reports a bad rotation period and unknown fields at their nodes", () => {
    const c = parseCatalog("secrets:\n  a_b:\n    rotate_every: 90 days\n    ownr: x\n", "secrets/catalog.yaml");
    expect(c.diagnostics.map((d) => [d.rule, d.file, d.line, d.column])).toEqual([
      ["schema", "secrets/catalog.yaml", 3, 19],
      ["schema", "secrets/catalog.yaml", 4, 5],
    ]);
    expect(c.diagnostics[1]?.suggestion).toBe("owner");
  });
});

describe("parseRotationPeriod", () => {
  it("converts to days", () => {
    expect([parseRotationPeriod("90d"), parseRotationPeriod("2w"), parseRotationPeriod("6m"), parseRotationPeriod("1y")]).toEqual([90, 14, 180, 365]);
    expect(parseRotationPeriod("0d")).toBeUndefined();
    expect(parseRotationPeriod("90")).toBeUndefined();
  });
});

describe("setCatalogEntry / removeCatalogEntry", () => {
  it("edits one entry and keeps comments", () => {
    const out = setCatalogEntry(TEXT, "stripe_api_key", { owner: "billing", rotate_every: undefined });
    expect(out).toContain("# used by billing agent");
    const c = parseCatalog(out, "c");
    expect(c.entries.get("stripe_api_key")).toEqual({ description: "Stripe secret key for billing", owner: "billing" });
    expect(c.entries.get("hubspot_api_token")).toEqual({ owner: "crm" });
  });

  it("creates the file structure and entries", () => {
    const out = setCatalogEntry("", "new_relic_key", { description: "APM" });
    expect(parseCatalog(out, "c").entries.get("new_relic_key")).toEqual({ description: "APM" });
    expect(parseCatalog(setCatalogEntry("secrets:\n", "x_y", {}), "c").entries.get("x_y")).toEqual({});
  });

  it("removes an entry", () => {
    const out = removeCatalogEntry(TEXT, "stripe_api_key");
    expect([...parseCatalog(out, "c").entries.keys()]).toEqual(["hubspot_api_token"]);
    expect(removeCatalogEntry(TEXT, "absent")).toBe(TEXT);
  });
});
