import { describe, expect, it } from "vitest";
import { SARIF_MAX_RESULTS, sarifLog, type SarifResultInput } from "./sarif.js";

type Log = { runs: { results: { message: { text: string }; locations?: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] };

function results(inputs: SarifResultInput[]): Log["runs"][number]["results"] {
  return (sarifLog(inputs, { root: "/work/repo", version: "0.0.0" }) as Log).runs[0]!.results;
}

describe("sarifLog against names a pull request controls", () => {
  it("escapes square brackets in a message, so that no name becomes a SARIF embedded link ([text](uri) or [text](n))", () => {
    const [r] = results([{ ruleId: "plaintext", severity: "error", message: "age1x[click here](https://evil.example) and [see](0) can decrypt", file: "secrets/a.enc.yaml" }]);
    expect(r!.message.text).toBe("age1x\\[click here\\](https://evil.example) and \\[see\\](0) can decrypt");
  });

  it("shows control, bidi and zero-width characters of a message as escapes", () => {
    const [r] = results([{ ruleId: "plaintext", severity: "error", message: "a\u001b[2Kb\u202ec\u200bd\ne" }]);
    expect(r!.message.text).toBe("a\\x1b\\[2Kb\\u202ec\\u200bd\\ne");
  });

  it("gives a location only to a file inside the root, its URI percent-encoded", () => {
    const uris = results(
      ["a b#?%.yaml", "../outside.yaml", "a/../../b.yaml", "ok/../in.yaml"].map((file) => ({ ruleId: "plaintext", severity: "error" as const, message: "m", file })),
    ).map((r) => r.locations?.[0]?.physicalLocation.artifactLocation.uri);
    expect(uris).toEqual(["a%20b%23%3F%25.yaml", undefined, undefined, "in.yaml"]);
  });
});

describe("sarifLog within GitHub code scanning's limit on results per run", () => {
  type Run = {
    results: { ruleId: string; level: string }[];
    invocations?: { executionSuccessful: boolean; toolExecutionNotifications: { level: string; descriptor: { id: string }; message: { text: string } }[] }[];
    properties?: Record<string, unknown>;
  };
  const run = (inputs: SarifResultInput[], maxResults?: number): Run =>
    (sarifLog(inputs, { root: "/work/repo", version: "0.0.0", ...(maxResults === undefined ? {} : { maxResults }) }) as { runs: Run[] }).runs[0]!;
  const result = (ruleId: string, severity: SarifResultInput["severity"], baselineState?: "new" | "unchanged"): SarifResultInput => ({
    ruleId,
    severity,
    message: ruleId,
    ...(baselineState === undefined ? {} : { baselineState }),
  });

  it("caps at 25,000 results by default, keeping every error", () => {
    expect(SARIF_MAX_RESULTS).toBe(25_000);
    const inputs = [...Array.from({ length: 25_000 }, () => result("unused-secret", "warning")), result("unknown-secret", "error")];
    const r = run(inputs);
    expect(r.results).toHaveLength(25_000);
    expect(r.results.filter((x) => x.level === "error")).toHaveLength(1);
    expect(r.properties).toEqual({ resultsTruncated: true, resultsTotal: 25_001, resultsOmitted: { error: 0, warning: 1, note: 0 } });
  });

  it("keeps errors, then warnings, then notes (new before unchanged), in the order given, and says what it left out", () => {
    const inputs = [result("i", "info"), result("w-old", "warning", "unchanged"), result("e1", "error"), result("w-new", "warning", "new"), result("e2", "error")];
    const r = run(inputs, 3);
    expect(r.results.map((x) => x.ruleId)).toEqual(["e1", "w-new", "e2"]);
    expect(r.invocations).toEqual([
      {
        executionSuccessful: true,
        toolExecutionNotifications: [{ level: "warning", descriptor: { id: "results-truncated" }, message: { text: expect.stringContaining("left out 1 warning and 1 info") } }],
      },
    ]);
    expect(r.invocations?.[0]?.toolExecutionNotifications[0]?.message.text).toMatch(/^5 results found, 3 written/);
    expect(r.properties).toMatchObject({ resultsTruncated: true, resultsTotal: 5, resultsOmitted: { error: 0, warning: 1, note: 1 } });
  });

  it("writes every result and no truncation note when they fit", () => {
    const r = run([result("a", "warning"), result("b", "error")], 2);
    expect(r.results.map((x) => x.ruleId)).toEqual(["a", "b"]);
    expect(r.invocations).toBeUndefined();
    expect(r.properties).toBeUndefined();
  });
});
