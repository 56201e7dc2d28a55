import type { Diagnostic } from "@stellar-secrets/core";
import { describe, expect, it } from "vitest";
import { toSarif } from "./check.js";

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
