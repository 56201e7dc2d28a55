import { describe, expect, it } from "vitest";
import { parseCatalog, parseRotationPeriod, removeCatalogEntry, setCatalogEntry } from "./catalog.js";
import { LineIndex } from "./position.js";
import { nestingDiagnostic } from "./yaml-limits.js";

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
  it("keep CRLF line endings and a byte order mark", () => {
    const text = "\uFEFF# catalog\r\nsecrets:\r\n  a_key:\r\n    owner: x\r\n  b_key:\r\n    owner: y\r\n";
    const set = setCatalogEntry(text, "a_key", { owner: "z" });
    expect(set).toBe("\uFEFF# catalog\r\nsecrets:\r\n  a_key:\r\n    owner: z\r\n  b_key:\r\n    owner: y\r\n");
    expect(removeCatalogEntry(text, "b_key")).toBe("\uFEFF# catalog\r\nsecrets:\r\n  a_key:\r\n    owner: x\r\n");
  });
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

describe("parseCatalog: the nesting bound through the fast reader", () => {
  it("reports a catalog nested deeper than 64 levels on its line, and reads shallower ones, at every depth around both bounds", () => {
    for (const n of [4, 31, 32, 33, 34, 63, 64, 65, 66, 100]) {
      // secrets (1) > name (2) > field (3) > flow sequences up to n levels
      const text = `secrets:\n  a_api_key:\n    owner: ${"[".repeat(n - 3)}x${"]".repeat(n - 3)}\n`;
      const tooDeep = nestingDiagnostic(text, "secrets/catalog.yaml", new LineIndex(text));
      const got = parseCatalog(text, "secrets/catalog.yaml").diagnostics;
      if (n > 64) expect(JSON.stringify(got), String(n)).toBe(JSON.stringify([tooDeep]));
      else {
        expect(tooDeep, String(n)).toBeUndefined();
        expect(got.length, String(n)).toBeGreaterThan(0); // `owner` must be a string: a schema diagnostic, not the nesting one
        expect(got.some((d) => d.message.includes("nested deeper")), String(n)).toBe(false);
      }
    }
  });
});

describe("credentials in the plain project files", () => {
  const token = ["sk", "live", "51HqLyjWDarjtT1zdp7dcXYZabc123456"].join("_");
  it("reports a well-known credential format anywhere in the catalog (a description, a comment), never showing it", () => {
    const text = `# was ${token}\nsecrets:\n  stripe_api_key:\n    description: "the key ${token}"\n`;
    const c = parseCatalog(text, "secrets/catalog.yaml");
    expect(c.diagnostics.map((d) => [d.rule, d.severity, d.line])).toEqual([
      ["plaintext-credential", "error", 1],
      ["plaintext-credential", "error", 4],
    ]);
    expect(JSON.stringify(c.diagnostics)).not.toContain(token);
  });
});
