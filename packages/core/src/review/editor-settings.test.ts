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

describe("the other files VS Code reads a repository's settings from", () => {
  const ours = '"stellarSecrets.cliPath": "./tools/x.sh", "stellarSecrets": { "rules": { "unknown-secret": "off" } }';
  it("a workspace file's `settings` and a dev container's `customizations.vscode.settings`, with comments; the same keys elsewhere in those files are not settings", () => {
    const expected = new Map([
      ["stellarSecrets.cliPath", JSON.stringify("./tools/x.sh")],
      ["stellarSecrets.rules", JSON.stringify({ "unknown-secret": "off" })],
    ]);
    expect(stellarEditorSettings(`{ "folders": [{ "path": "." }], // ours\n "settings": { ${ours}, }, }`, "team.code-workspace")).toEqual(expected);
    expect(stellarEditorSettings(`{ "name": "dev", "customizations": { "vscode": { "extensions": [], "settings": { ${ours} } } } }`, ".devcontainer/devcontainer.json")).toEqual(expected);
    expect(stellarEditorSettings(`{ "customizations": { "vscode": { "settings": { ${ours} } } } }`, "infra/.devcontainer/node/devcontainer.json")).toEqual(expected);
    expect(stellarEditorSettings(`{ "customizations": { "vscode": { "settings": { ${ours} } } } }`, ".devcontainer.json")).toEqual(expected);
    // top-level keys of a workspace or container file are not settings
    expect(stellarEditorSettings(`{ ${ours}, "settings": {} }`, "team.code-workspace")).toEqual(new Map());
    expect(stellarEditorSettings(`{ ${ours} }`, ".devcontainer/devcontainer.json")).toEqual(new Map());
    // a devcontainer.json outside .devcontainer/ is no container file VS Code reads: its top level, as any settings file's
    expect(stellarEditorSettings(`{ ${ours} }`, "docs/devcontainer.json")).toEqual(expected);
  });

  it("a change to them is named as for .vscode/settings.json", () => {
    expect(
      editorSettingsChanges([
        { path: "team.code-workspace", before: '{ "folders": [], "settings": {} }', after: '{ "folders": [], "settings": { "stellarSecrets.cliPath": "./x.sh" } }' },
        { path: ".devcontainer/devcontainer.json", before: undefined, after: '{ "customizations": { "vscode": { "settings": { "stellarSecrets.rules": { "plaintext-credential": "off" } } } } }' },
        { path: "other.code-workspace", before: '{ "folders": [] }', after: '{ "folders": [{ "path": "infra" }] }' },
      ]),
    ).toEqual([
      { path: ".devcontainer/devcontainer.json", settings: ["stellarSecrets.rules"] },
      { path: "team.code-workspace", settings: ["stellarSecrets.cliPath"] },
    ]);
  });
});
