import type { Diagnostic } from "@stellar-secrets/core";
import { describe, expect, it } from "vitest";
import { checkSummary, notCheckedNote, toSarif } from "./check.js";

describe("toSarif", () => {
  it("percent-encodes the root and each file as file URIs (spaces, #, %)", () => {
    const diagnostic: Diagnostic = {
      rule: "unknown-secret",
      severity: "error",
      file: "agents/a b/c%41#.yaml",
      line: 2,
      column: 3,
      endLine: 2,
      endColumn: 9,
      message: "unknown secret",
    };
    const log = toSarif([diagnostic], "/work/my repo#1", "0.1.0") as {
      runs: { originalUriBaseIds: { SRCROOT: { uri: string } }; results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[];
    };
    const run = log.runs[0]!;
    expect(run.originalUriBaseIds.SRCROOT.uri).toBe("file:///work/my%20repo%231/");
    expect(run.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe("agents/a%20b/c%2541%23.yaml");
    expect(new URL(run.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri, run.originalUriBaseIds.SRCROOT.uri).pathname).toBe(
      "/work/my%20repo%231/agents/a%20b/c%2541%23.yaml",
    );
  });
});

describe("checkSummary (the text summary on stderr)", () => {
  const at = (file: string, severity: Diagnostic["severity"]): Diagnostic => ({ rule: "unknown-secret", severity, file, line: 1, column: 1, endLine: 1, endColumn: 2, message: "m" });
  const counts = { files: 3, secrets: 5, environments: 3 };
  it("says no problems for the whole repository", () => {
    expect(checkSummary([], [], undefined, counts)).toBe("no problems (3 config files, 5 secrets, 3 environments)\n");
    // one of each is singular ("1 environments" before)
    expect(checkSummary([], [], undefined, { files: 1, secrets: 1, environments: 1 })).toBe("no problems (1 config file, 1 secret, 1 environment)\n");
    expect(checkSummary([at("a.yaml", "error")], [at("a.yaml", "error")], undefined, counts)).toBe("1 error, 0 warnings\n");
  });
  it("in a subfolder, says that only it was shown and what the rest of the repository has", () => {
    const outside = [at("connectors/zz.yaml", "error"), at("secrets/dev.enc.yaml", "warning"), at("secrets/dev.enc.yaml", "warning")];
    expect(checkSummary([], outside, "agents/a", counts)).toBe(
      "no problems in agents/a (3 config files, 5 secrets, 3 environments)\n" +
        "the rest of the repository has 1 error and 2 warnings, not shown: run `stellar-secrets check` at the repository root to see them\n",
    );
    const inside = at("agents/a/x.yaml", "warning");
    expect(checkSummary([inside], [inside, ...outside], "agents/a", counts)).toBe(
      "0 errors, 1 warning in agents/a\n" +
        "the rest of the repository has 1 error and 2 warnings, not shown: run `stellar-secrets check` at the repository root to see them\n",
    );
    expect(checkSummary([], [], "agents/a", counts)).toBe("no problems in agents/a (3 config files, 5 secrets, 3 environments)\n");
  });
});

describe("notCheckedNote (check FILE of a file the project does not read)", () => {
  const globs = { include: ["**/*.yaml", "**/*.yml"], exclude: ["archive/**", "node_modules/**"] };
  it("says a file in an excluded folder is not checked, naming the glob, instead of 'no problems in it'", () => {
    expect(notCheckedNote("archive/vip_support.yaml", globs, [])).toBe(
      'archive/vip_support.yaml is not checked: config.exclude in stellar.yaml leaves it out ("archive/**"); its objects are not seen by other config files either: move it out of there, or remove that glob\n',
    );
    expect(notCheckedNote("notes.json", globs, [])).toBeUndefined();
    expect(notCheckedNote("agents/a.yaml", globs, ["agents/a.yaml"])).toBeUndefined();
  });
  it("says which include globs a file matches none of", () => {
    expect(notCheckedNote("other/x.yaml", { include: ["agents/**/*.yaml"], exclude: [] }, [])).toBe(
      'other/x.yaml is not checked: config.include in stellar.yaml ("agents/**/*.yaml") does not match it; its objects are not seen by other config files either: move it, or add a glob that matches it\n',
    );
  });
});
