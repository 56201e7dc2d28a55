import { describe, expect, it } from "vitest";
import { projectFolders, stateFromFiles } from "./state.js";

describe("projectFolders", () => {
  it("lists the top-most folders with a stellar.yaml of their own, not the root, the secrets folder or a folder holding it", () => {
    const paths = [
      "stellar.yaml",
      "teams/labs/stellar.yaml",
      "teams/labs/deep/stellar.yaml",
      "apps/web/config/stellar.yaml",
      "secrets/stellar.yaml",
      "secrets/inbox/production/stellar.yaml",
      "vault/secrets/x.yaml",
      "teams/other/connectors/a.yaml",
    ];
    expect(projectFolders(paths, "secrets")).toEqual(["apps/web/config", "teams/labs"]);
    expect(projectFolders(["vault/stellar.yaml", "vault/secrets/production.enc.yaml"], "vault/secrets")).toEqual([]);
  });
});

describe("stateFromFiles", () => {
  it("knows a nested project that config.include never reaches (its changes must still be reviewed)", () => {
    const files = new Map<string, string | null>([
      ["stellar.yaml", 'version: 1\nsecrets_dir: secrets\nenvironments:\n  production:\n    members: {}\nconfig:\n  include:\n    - "connectors/**/*.yaml"\n'],
      ["teams/labs/stellar.yaml", "version: 1\nenvironments:\n  production:\n    members: {}\n"],
    ]);
    const state = stateFromFiles("head", undefined, "/repo", files);
    expect(state.nestedProjects ?? []).toEqual([]);
    expect(state.projectsBelow).toEqual(["teams/labs"]);
  });
});
