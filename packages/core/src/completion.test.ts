// Completion of secret names where they are needed (qa s22): a name with no value in an
// environment where the document being edited is used would be a missing-environment-value at once.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { completionCandidates, completionContextAt } from "./completion.js";
import { loadWorkspace } from "./load.js";

const FIXTURE = join(fileURLToPath(new URL(".", import.meta.url)), "../../../test/fixtures/checker/references");
const secretContext = { type: "secret" as const, prefix: "", range: { start: 0, end: 0 } };

describe("completionCandidates for a secret's name", () => {
  const { index } = loadWorkspace(FIXTURE, { atRoot: true });

  it("without the environments it is needed in: every name, by label, with the environments that have a value", () => {
    const all = completionCandidates(index, secretContext);
    expect(all.map((c) => [c.label, c.detail, c.missing])).toEqual([
      ["hubspot_api_token", "secret · development", undefined],
      ["legacy_ftp_password", "secret · development", undefined],
      ["stripe_api_key", "secret · development, staging, production", undefined],
      ["zendesk_api_token", "secret · development, staging, production", undefined],
    ]);
  });

  it("needed in staging and production: names with a value there first, the others after, saying where they have none", () => {
    const ranked = completionCandidates(index, secretContext, ["staging", "production"]);
    expect(ranked.map((c) => [c.label, c.missing])).toEqual([
      ["stripe_api_key", undefined],
      ["zendesk_api_token", undefined],
      ["hubspot_api_token", ["staging", "production"]],
      ["legacy_ftp_password", ["staging", "production"]],
    ]);
    expect(ranked[2]?.detail).toBe("secret · development · no value in staging, production");
  });
});

describe("completionContextAt in every style a config file is written in", () => {
  // (the cursor is where `|` is; it is removed from the text)
  const at = (written: string) => {
    const offset = written.indexOf("|");
    const text = written.slice(0, offset) + written.slice(offset + 1);
    const c = completionContextAt(text, offset);
    return c === undefined ? undefined : [c.type, "kind" in c ? c.kind : undefined, c.prefix, text.slice(c.range.start, c.range.end)];
  };

  it("after a key written plain, quoted (JSON-style YAML, a .json file) or in a flow mapping", () => {
    for (const line of ["  - { name: A, type: secret, secret: st|", '    {"name": "A", "type": "secret", "secret": "st|"}', "    'secret': 'st|'", "    \"secret\" : st|"]) {
      expect(at(line), line).toEqual(["secret", undefined, "st", "st"]);
    }
    expect(at('{"kind": "action", "connection": "hub|"}')).toEqual(["object", "api_connection", "hub", "hub"]);
    expect(at('  "auth": "str|"')).toEqual(["object", "auth_connector", "str", "str"]);
    expect(at('{"kind": "ag|"}')).toBeUndefined(); // a kind is completed on its own line only
    expect(at('"kind": "ag|"')).toEqual(["kind", undefined, "ag", "ag"]);
  });

  it("in a flow list of environments or actions, after a plain or quoted key, also inside a flow mapping", () => {
    expect(at("environments: [staging, pro|]")).toEqual(["environment", undefined, "pro", "pro"]);
    expect(at('  "environments": ["staging", "pro|"]')).toEqual(["environment", undefined, "pro", "pro"]);
    expect(at('{"kind": "agent", "actions": ["a", "|"]}')).toEqual(["object", "action", "", ""]);
    expect(at("{kind: agent, actions: [a, b|]}")).toEqual(["object", "action", "b", "b"]);
  });

  it("nowhere else: a key that only ends in secret, a value after another key", () => {
    expect(at('  "my_secret": "x|"')).toBeUndefined();
    expect(at("  description: st|")).toBeUndefined();
  });
});
