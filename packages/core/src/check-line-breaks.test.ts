// A config file saved with CR-only line endings (classic Mac OS, some generators): YAML, LSP and
// VS Code count a lone CR as a line break, so the checker's lines and columns must too.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkConfigFile } from "./check.js";
import { parseConfigFile } from "./config.js";
import { loadWorkspace } from "./load.js";

const FIXTURE = join(fileURLToPath(new URL(".", import.meta.url)), "../../../test/fixtures/checker/references");

const LINES = [
  "# headers of a test action",
  "kind: action",
  "name: breaks",
  "connection: hubspot",
  "method: GET",
  "path: /x",
  "headers:",
  "  - name: X-Key",
  "    type: secret",
  "    secret: hubspot_api_tokn",
];

function unknownAt(text: string, rel: string): { line: number; column: number; endLine: number; endColumn: number }[] {
  const { index } = loadWorkspace(FIXTURE, { atRoot: true });
  index.setConfigFile(parseConfigFile(text, rel));
  return checkConfigFile(index, rel)
    .filter((d) => d.rule === "unknown-secret" || d.rule === "schema")
    .map((d) => ({ rule: d.rule, line: d.line, column: d.column, endLine: d.endLine, endColumn: d.endColumn }));
}

describe("line breaks in config files", () => {
  const expected = [{ rule: "unknown-secret", line: 10, column: 13, endLine: 10, endColumn: 29 }];

  it("reports an unknown secret at its line and column when lines end in a lone CR", () => {
    expect(unknownAt(`${LINES.join("\r")}\r`, "actions/cr.yaml")).toEqual(expected);
  });

  it("reports the same place for LF, CRLF and mixed line endings", () => {
    expect(unknownAt(`${LINES.join("\n")}\n`, "actions/lf.yaml")).toEqual(expected);
    expect(unknownAt(`${LINES.join("\r\n")}\r\n`, "actions/crlf.yaml")).toEqual(expected);
    const mixed = LINES.map((l, i) => l + ["\n", "\r\n", "\r"][i % 3]).join("");
    expect(unknownAt(mixed, "actions/mixed.yaml")).toEqual(expected);
  });
});
