// Two objects of one kind with the same name (a copied file that kept the name): the duplicate is
// reported on every definition, and what uses the name is followed to neither of them (which one
// was meant cannot be told), so no finding is derived through the wrong one (planted-freight #16).
import { describe, expect, it } from "vitest";
import { memoryFs } from "./test-support/memory-fs.js";
import { checkWorkspace, configEditAffects } from "./check.js";
import { loadWorkspace } from "./load.js";
import { parseConfigFile } from "./config.js";

const env = (...names: string[]): string => `${names.map((n) => `${n}: ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]`).join("\n")}\nsops:\n    age: []\n    lastmodified: "2026-01-01T00:00:00Z"\n    mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n    version: 3.10.2\n`;
const PROJECT = "version: 1\nenvironments:\n  preview:\n    members: {}\n  production:\n    members: {}\n";
const SHOPIFY = "kind: api_connection\nname: shopify\nbase_url: https://shop.example\nheaders:\n  - { name: X-Token, type: secret, secret: shopify_token }\n";
const HUBSPOT = "kind: api_connection\nname: hubspot\nbase_url: https://hub.example\nheaders:\n  - { name: Authorization, type: secret, secret: hubspot_token }\n";
const LOOKUP = "kind: action\nname: lookup_order\nconnection: shopify\nmethod: GET\npath: /orders\n";
const COPY = "kind: action\nname: lookup_order\nconnection: hubspot\nmethod: POST\npath: /notes\n";
const SUPPORT = "kind: agent\nname: support\nenvironments: [preview, production]\nactions: [lookup_order]\n";
const RETURNS = "kind: agent\nname: returns\nenvironments: [production]\nactions: [crm_note, log_note]\n";
const LOG_NOTE = "kind: action\nname: log_note\nconnection: hubspot\nmethod: POST\npath: /log\n";

const files = (extra: Record<string, string> = {}) => ({
  "stellar.yaml": PROJECT,
  // preview has shopify's value only; production has both
  "secrets/preview.enc.yaml": env("shopify_token"),
  "secrets/production.enc.yaml": env("hubspot_token", "shopify_token"),
  "connections/shopify.yaml": SHOPIFY,
  "connections/hubspot.yaml": HUBSPOT,
  "agents/support/actions/lookup_order.yaml": LOOKUP,
  "agents/support/agent.yaml": SUPPORT,
  "agents/returns/agent.yaml": RETURNS,
  "agents/returns/actions/log_note.yaml": LOG_NOTE,
  ...extra,
});
const check = (f: Record<string, string>) => checkWorkspace(loadWorkspace("/mem", { fs: memoryFs(f), atRoot: true }).index);
const rows = (f: Record<string, string>) => check(f).map((d) => [d.rule, d.file, d.line, d.column]);

describe("an object name defined twice", () => {
  it("is reported on both definitions, each naming the other, whichever path sorts first", () => {
    // the copy sorts first by path (agents/returns < agents/support): the original is not the only one blamed
    const ds = check(files({ "agents/returns/actions/crm_note.yaml": COPY })).filter((d) => d.rule === "schema");
    expect(ds.map((d) => [d.file, d.line, d.column, d.endColumn])).toEqual([
      ["agents/returns/actions/crm_note.yaml", 2, 7, 19],
      ["agents/support/actions/lookup_order.yaml", 2, 7, 19],
    ]);
    expect(ds[0]!.message).toMatch(/^action name "lookup_order" is also used at agents\/support\/actions\/lookup_order\.yaml:2:7; names must be unique per kind/);
    expect(ds[1]!.message).toMatch(/^action name "lookup_order" is already used at agents\/returns\/actions\/crm_note\.yaml:2:7; names must be unique per kind/);
    for (const d of ds) expect(d.message).toMatch(/rename the copy/);
  });

  it("derives no finding through either definition: an agent listing the name pulls no secret of the other into its environments", () => {
    const clean = rows(files());
    expect(clean.filter(([r]) => r === "missing-environment-value")).toEqual([]);
    const dup = rows(files({ "agents/returns/actions/crm_note.yaml": COPY }));
    // (before: hubspot_token had no preview value "through" support's lookup_order, which was the copy)
    expect(dup.filter(([r]) => r === "missing-environment-value")).toEqual([]);
    // the copy's own mistake (returns lists crm_note, which no longer exists) is still reported
    expect(dup).toContainEqual(["unknown-reference", "agents/returns/agent.yaml", 4, 11]);
  });

  it("an edit that makes a name defined twice re-checks what is downstream of the other definition too (the editor's incremental check)", () => {
    const before = loadWorkspace("/mem", { fs: memoryFs(files()), atRoot: true }).index;
    const copy = parseConfigFile(COPY, "agents/returns/actions/crm_note.yaml");
    before.setConfigFile(copy);
    const affected = configEditAffects(before, undefined, copy);
    expect(affected === "all" ? "all" : [...affected].sort()).toEqual(
      expect.arrayContaining(["agents/returns/actions/crm_note.yaml", "agents/support/actions/lookup_order.yaml", "connections/hubspot.yaml", "connections/shopify.yaml"]),
    );
  });
});
