// A config file with more unknown secret names than MAX_SUGGESTIONS_PER_FILE: the first ones (in
// file order) get their "did you mean", the rest are reported without one (a 4 MB generated file
// no longer spends seconds comparing each name with every known name).
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkConfigFile, checkWorkspace, MAX_SUGGESTIONS_PER_FILE } from "./check.js";
import { parseConfigFile } from "./config.js";
import { loadWorkspace } from "./load.js";

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
