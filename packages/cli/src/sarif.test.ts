import { describe, expect, it } from "vitest";
import { sarifLog, type SarifResultInput } from "./sarif.js";

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
