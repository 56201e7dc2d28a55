// A config file with more unknown secret names than MAX_SUGGESTIONS_PER_FILE: the first ones (in
// file order) get their "did you mean", the rest are reported without one (a 4 MB generated file
// no longer spends seconds comparing each name with every known name).
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkConfigFile, checkWorkspace, MAX_SUGGESTIONS_PER_FILE } from "./check.js";
import { parseConfigFile } from "./config.js";
import { loadWorkspace } from "./load.js";
import { memoryFs } from "./test-support/memory-fs.js";

const FIXTURE = join(fileURLToPath(new URL(".", import.meta.url)), "../../../test/fixtures/checker/references");

/** An action whose headers all name `hubspot_api_tokn` (one letter short of a known secret). */
function actionWith(headers: number): string {
  const lines = ["kind: action", "name: many", "connection: hubspot", "method: GET", "path: /x", "headers:"];
  for (let i = 0; i < headers; i++) lines.push(`  - { name: X-H${i}, type: secret, secret: hubspot_api_tokn }`);
  return `${lines.join("\n")}\n`;
}

describe("did-you-mean budget per config file", () => {
  it("suggests for the first MAX_SUGGESTIONS_PER_FILE unknown names of a file, and none after", () => {
    const { index } = loadWorkspace(FIXTURE, { atRoot: true });
    const rel = "actions/many.yaml";
    index.setConfigFile(parseConfigFile(actionWith(MAX_SUGGESTIONS_PER_FILE + 2), rel));
    const unknown = checkConfigFile(index, rel).filter((d) => d.rule === "unknown-secret");
    expect(unknown).toHaveLength(MAX_SUGGESTIONS_PER_FILE + 2);
    expect(unknown.filter((d) => d.suggestion === "hubspot_api_token")).toHaveLength(MAX_SUGGESTIONS_PER_FILE);
    expect(unknown.slice(0, MAX_SUGGESTIONS_PER_FILE).every((d) => d.suggestion === "hubspot_api_token")).toBe(true);
    expect(unknown.slice(MAX_SUGGESTIONS_PER_FILE).map((d) => d.suggestion)).toEqual([undefined, undefined]);
    // the whole-workspace check says the same of that file
    expect(checkWorkspace(index).filter((d) => d.file === rel && d.rule === "unknown-secret")).toEqual(unknown);
  });

  it("leaves a file within the budget as it was: every unknown name gets its suggestion", () => {
    const { index } = loadWorkspace(FIXTURE, { atRoot: true });
    const rel = "actions/few.yaml";
    index.setConfigFile(parseConfigFile(actionWith(3), rel));
    const unknown = checkConfigFile(index, rel).filter((d) => d.rule === "unknown-secret");
    expect(unknown.map((d) => d.suggestion)).toEqual(["hubspot_api_token", "hubspot_api_token", "hubspot_api_token"]);
  });
});

describe("a typo one edit away from two names (qa s23)", () => {
  const env = (...names: string[]): string =>
    `${names.map((n) => `${n}: ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]`).join("\n")}\nsops:\n    age:\n        - recipient: age1xyz\n    lastmodified: "2026-01-01T00:00:00Z"\n    mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n    version: 3.10.2\n`;
  const conn = (name: string, header: string, secret: string): string =>
    `kind: api_connection\nname: ${name}\nbase_url: https://api.dhl.com\nheaders:\n  - { name: ${header}, type: secret, secret: ${secret} }\n`;
  function check(files: Record<string, string>) {
    const fs = memoryFs({ "stellar.yaml": "version: 1\nenvironments:\n  development:\n    members: {}\n", "secrets/development.enc.yaml": env("dhl_api_key", "dhl_app_key"), ...files });
    return checkWorkspace(loadWorkspace("/mem", { fs, atRoot: true }).index);
  }

  it("names both, the one nothing references first, and carries the other as an alternative (it named one, and its quick fix could pick the wrong one)", () => {
    const ds = check({ "connections/dhl.yaml": conn("dhl", "DHL-API-Key", "dhl_ap_key"), "connections/express.yaml": conn("dhl_express", "X-App-Key", "dhl_app_key") });
    const unknown = ds.filter((d) => d.rule === "unknown-secret");
    expect(unknown.map((d) => [d.file, d.line, d.column, d.suggestion, d.alternatives])).toEqual([["connections/dhl.yaml", 5, 48, "dhl_api_key", ["dhl_app_key"]]]);
    expect(unknown[0]?.message).toBe('unknown secret "dhl_ap_key": no environment file has it; did you mean "dhl_api_key" or "dhl_app_key"?');
    // the unused one points back at the reference
    expect(ds.filter((d) => d.rule === "unused-secret").map((d) => d.message)).toEqual([
      'secret "dhl_api_key" is not referenced by any config file; the reference "dhl_ap_key" at connections/dhl.yaml:5:48 looks like a misspelling of it; correct that reference',
    ]);
  });

  it("keeps the sort order when both (or neither) are referenced, and says nothing more for a single nearest name", () => {
    const ds = check({ "connections/dhl.yaml": conn("dhl", "DHL-API-Key", "dhl_ap_key") }).filter((d) => d.rule === "unknown-secret");
    expect(ds.map((d) => [d.suggestion, d.alternatives])).toEqual([["dhl_api_key", ["dhl_app_key"]]]);
    const one = check({ "connections/dhl.yaml": conn("dhl", "DHL-API-Key", "dhl_api_kye") }).filter((d) => d.rule === "unknown-secret");
    expect(one.map((d) => [d.suggestion, d.alternatives, d.message.endsWith('did you mean "dhl_api_key"?')])).toEqual([["dhl_api_key", undefined, true]]);
  });
});
