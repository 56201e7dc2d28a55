/**
 * `readCommitState`: a commit's state read through git, over an in-memory fake (qa s22: what the
 * checker says of a commit must match what it says of the same files in a working tree).
 */
import { describe, expect, it } from "vitest";
import type { GitSource } from "./git.js";
import { GlobFilter } from "../globs.js";
import { projectFolders, readCommitState, stateFromFiles } from "./state.js";

const env = (...names: string[]): string =>
  `${names.map((n) => `${n}: ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]`).join("\n")}\nsops:\n    age: []\n    lastmodified: "2026-01-01T00:00:00Z"\n    mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n    version: 3.10.2\n`;

function fakeGit(texts: Record<string, string>): GitSource & { read: Set<string> } {
  const files = new Map(Object.keys(texts).map((p) => [p, `blob:${p}`]));
  const read = new Set<string>();
  return {
    read,
    prefix: "",
    hasHead: async () => true,
    resolve: async (ref) => `${ref}-id`,
    mergeBase: async (a) => a,
    filesAt: async () => files,
    renames: async () => new Map(),
    readBlobs: async (ids) =>
      new Map(
        ids.map((id) => {
          const path = id.slice("blob:".length);
          read.add(path);
          return [id, texts[path] as string];
        }),
      ),
    log: async () => "",
  };
}

describe("readCommitState and the files config.exclude keeps out", () => {
  const texts = {
    "stellar.yaml": 'version: 1\nenvironments:\n  development:\n    members: {}\nconfig:\n  exclude: ["legacy/**"]\n',
    "secrets/development.enc.yaml": env("legacy_hubspot_key"),
    "agents/ops.yaml": "kind: agent\nname: ops\nactions: [old_refund]\n",
    "legacy/refund.yaml": "kind: action\nname: old_refund\nmethod: POST\npath: /refunds\n",
    "legacy/hubspot.yaml": "kind: api_connection\nname: old_hubspot\nbase_url: https://api.hubapi.com\nheaders:\n  - { name: Authorization, type: secret, secret: legacy_hubspot_key }\n",
    "docs/notes.txt": "not a config file",
  };

  it("reads them (bounded), so that unknown-reference and unused-secret name the excluded file as check does", async () => {
    const git = fakeGit(texts);
    const state = await readCommitState(git, "/r", "HEAD", "head");
    expect(git.read.has("legacy/refund.yaml")).toBe(true);
    expect(git.read.has("docs/notes.txt")).toBe(false);
    const byRule = (rule: string) => state.diagnostics.find((d) => d.rule === rule)?.message ?? "";
    expect(byRule("unknown-reference")).toContain('legacy/refund.yaml:2 defines it, but stellar.yaml\'s config.exclude glob "legacy/**" keeps that file out');
    expect(byRule("unused-secret")).toContain("only legacy/hubspot.yaml:5 references it");
    // and the excluded files stay out of the project
    expect(state.index?.configFiles.has("legacy/refund.yaml")).toBe(false);
  });
});

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

  it("leaves out a folder config.exclude keeps out (an explicit opt-out: test fixtures), not one config.include merely does not reach", () => {
    const paths = ["stellar.yaml", "test/fixtures/a/stellar.yaml", "teams/labs/stellar.yaml"];
    const filter = new GlobFilter(["connectors/**/*.yaml"], ["test/**"]);
    expect(projectFolders(paths, "secrets", filter)).toEqual(["teams/labs"]);
    expect(projectFolders(paths, "secrets")).toEqual(["teams/labs", "test/fixtures/a"]);
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
