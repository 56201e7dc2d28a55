import { describe, expect, it } from "vitest";
import { editorSettingsChanges, stellarEditorSettings } from "./editor-settings.js";

describe("stellarEditorSettings", () => {
  it("reads VS Code's JSON with comments and trailing commas, dotted keys and a stellarSecrets object alike, strings as written", () => {
    const text = `{
  // the team's settings
  "editor.tabSize": 2, /* a block comment with "quotes" */
  "stellarSecrets.cliPath": "./tools/cli.sh // not a comment",
  "stellarSecrets": { "rules": { "unused-secret": "off", }, },
}`;
    expect(stellarEditorSettings(text)).toEqual(
      new Map([
        ["stellarSecrets.cliPath", JSON.stringify("./tools/cli.sh // not a comment")],
        ["stellarSecrets.rules", JSON.stringify({ "unused-secret": "off" })],
      ]),
    );
    expect(stellarEditorSettings(undefined)).toEqual(new Map());
    expect(stellarEditorSettings("{ not json")).toBeUndefined();
  });
});

describe("editorSettingsChanges", () => {
  it("names the stellarSecrets settings a change adds, removes or changes; other settings, and a malformed file that never names ours, are no change", () => {
    const base = '{ "editor.tabSize": 2, "stellarSecrets.rules": { "unused-secret": "warning" } }';
    expect(
      editorSettingsChanges([
        { path: ".vscode/settings.json", before: base, after: base.replace("2,", '4, "stellarSecrets.cliPath": "./x.sh",').replace('"warning"', '"off"') },
        { path: "infra/.vscode/settings.json", before: undefined, after: '{ "files.eol": "\\n" }' },
        { path: "docs/.vscode/settings.json", before: "{ broken", after: "{ still broken" },
      ]),
    ).toEqual([{ path: ".vscode/settings.json", settings: ["stellarSecrets.cliPath", "stellarSecrets.rules"] }]);
    expect(editorSettingsChanges([{ path: ".vscode/settings.json", before: base, after: '{ "stellarSecrets.cliPath": "./x.sh" ' }])).toEqual([
      { path: ".vscode/settings.json", settings: ["stellarSecrets.rules", "unreadable"] },
    ]);
  });
});
