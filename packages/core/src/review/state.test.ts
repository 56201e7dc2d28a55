/**
 * `readCommitState`: a commit's state read through git, over an in-memory fake (qa s22: what the
 * checker says of a commit must match what it says of the same files in a working tree).
 */
import { describe, expect, it } from "vitest";
import type { GitSource } from "./git.js";
import { GlobFilter } from "../globs.js";
import { projectFolders, readCommitState, readIndexState, stateFromFiles } from "./state.js";

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

describe("readCommitState and the YAML files no config.include glob matches (qa s23)", () => {
  it("reads them (bounded), so that unknown-reference names the .yml file as check does", async () => {
    const git = fakeGit({
      "stellar.yaml": 'version: 1\nenvironments:\n  development:\n    members: {}\nconfig:\n  include: ["agents/**/*.yaml"]\n',
      "secrets/development.enc.yaml": env("stripe_api_key"),
      "agents/returns.yaml": "kind: agent\nname: returns\nactions: [refund_return]\n",
      "agents/actions/refund_return.yml": "kind: action\nname: refund_return\nmethod: POST\npath: /refunds\n",
      "docs/notes.txt": "not a config file",
    });
    const state = await readCommitState(git, "/r", "HEAD", "head");
    expect(git.read.has("agents/actions/refund_return.yml")).toBe(true);
    expect(git.read.has("docs/notes.txt")).toBe(false);
    expect(state.diagnostics.find((d) => d.rule === "unknown-reference")?.message).toContain(
      "agents/actions/refund_return.yml:2 defines it, but no config.include glob of stellar.yaml matches that file",
    );
    expect(state.index?.configFiles.has("agents/actions/refund_return.yml")).toBe(false);
  });
});

describe("readCommitState and the .gitattributes of other folders", () => {
  it("reads them, so that review sees a config folder's export-subst (s24 newattack), but not node_modules'", async () => {
    const git = fakeGit({
      "stellar.yaml": "version: 1\nenvironments:\n  development:\n    members: {}\n",
      "secrets/development.enc.yaml": env("stripe_api_key"),
      "connections/stripe.yaml": "kind: api_connection\nname: stripe\nbase_url: https://api.stripe.com\n",
      "connections/.gitattributes": "* export-subst\n",
      "node_modules/x/.gitattributes": "* text\n",
    });
    const state = await readCommitState(git, "/r", "HEAD", "head");
    expect(state.readText("connections/.gitattributes")).toBe("* export-subst\n");
    expect(git.read.has("node_modules/x/.gitattributes")).toBe(false);
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

describe("readCommitState of a nested project and the projects around it (as check reads them from the disk)", () => {
  const project = (secretsDir = "secrets"): string => `version: 1\nsecrets_dir: ${secretsDir}\nenvironments:\n  production:\n    members: {}\n`;
  const texts = {
    "stellar.yaml": project(),
    "secrets/production.enc.yaml": env("outer_key"),
    "connections/outer.yaml": "kind: api_connection\nname: outer\nbase_url: https://o.example\nheaders:\n  - { name: X-Key, type: secret, secret: lab_key }\n",
    "teams/labs/stellar.yaml": project(),
    "teams/labs/secrets/production.enc.yaml": env("lab_key"),
    "teams/labs/connections/lab.yaml": "kind: api_connection\nname: lab\nbase_url: https://l.example\nheaders:\n  - { name: X-Key, type: secret, secret: outer_key }\n",
  };
  const unknown = (state: { diagnostics: readonly { rule: string; message: string }[] }): string => state.diagnostics.find((d) => d.rule === "unknown-secret")?.message ?? "";

  it("names the enclosing project that has a secret a nested project's file references, read from the same commit", async () => {
    const outer = fakeGit(texts);
    const { folderSource } = await import("./git.js");
    const inner = folderSource(outer, "teams/labs");
    const state = await readCommitState(inner, "/r/teams/labs", "HEAD", "head", { enclosing: { git: outer, dir: "teams/labs" } });
    expect(unknown(state)).toContain("the enclosing project (../../stellar.yaml) has it, but a project's config files can use only their own project's secrets");
    // without the tree around it, the plain message (what review said before)
    const alone = await readCommitState(folderSource(fakeGit(texts), "teams/labs"), "/r/teams/labs", "HEAD", "head");
    expect(unknown(alone)).not.toContain("enclosing project");
  });

  it("reads the staged state (pre-commit) with the enclosing project's staged tree around it too", async () => {
    const outer = fakeGit(texts);
    const staged = Object.assign(outer, { filesInIndex: () => outer.filesAt("index") });
    const { folderSource } = await import("./git.js");
    const state = await readIndexState(folderSource(staged, "teams/labs"), "/r/teams/labs", "staged", { enclosing: { git: staged, dir: "teams/labs" } });
    expect(unknown(state)).toContain("the enclosing project (../../stellar.yaml) has it");
  });

  it("names the nested project that has a secret the outer project's file references (its environment files are read from the commit)", async () => {
    const git = fakeGit(texts);
    const state = await readCommitState(git, "/r", "HEAD", "head");
    expect(unknown(state)).toContain("teams/labs (a project of its own: teams/labs/stellar.yaml) has it");
  });
});

describe("a tree's plaintext environment files (checker session 8, items 1 and 3)", () => {
  // TEST-ONLY fake values
  const texts = {
    "stellar.yaml": 'version: 1\nenvironments:\n  production:\n    members: {}\nconfig:\n  include: ["connectors/**"]\n',
    "secrets/production.enc.yaml": env("stripe_api_key"),
    "connectors/stripe.yaml": "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n",
    // outside config.include: a folder the loader never walks
    "deploy/k8s/.env.production": "PORT=8080\nSTRIPE_API_KEY=sk_test_fake_0001\n",
    // another project's file, a template and node_modules: never candidates
    "teams/labs/stellar.yaml": "version: 1\nenvironments:\n  production:\n    members: {}\n",
    "teams/labs/.env.production": "STRIPE_API_KEY=sk_test_fake_0002\n",
    ".env.example": "STRIPE_API_KEY=sk_test_fake_0003\n",
    "node_modules/x/.env": "STRIPE_API_KEY=sk_test_fake_0004\n",
  };

  it("reads them by name wherever they are (not only in walked folders); the staged check (tracked: every file) reports them, a review without `tracked` does not", async () => {
    const git = fakeGit(texts);
    const state = await readCommitState(git, "/r", "HEAD", "head");
    expect([...(state.index?.plaintextEnvFiles.keys() ?? [])]).toEqual(["deploy/k8s/.env.production"]);
    expect(git.read.has("teams/labs/.env.production") || git.read.has(".env.example") || git.read.has("node_modules/x/.env")).toBe(false);
    expect(state.diagnostics.filter((d) => d.rule === "plaintext-credential")).toEqual([]);
    const staged = state.checkWith(state.index!.project.rules, { tracked: () => true }).filter((d) => d.rule === "plaintext-credential");
    expect(staged.map((d) => [d.file, d.line])).toEqual([["deploy/k8s/.env.production", 2]]);
    expect(JSON.stringify(staged)).not.toContain("fake_0001");
  });
});
