/**
 * The server is an adapter over core's checker: for a repository that breaks every rule, the
 * diagnostics it publishes are exactly core's (`checkWorkspace`), rule by rule and range by range
 * (`rotation-overdue` too: the repository is a git repository with a commit dated in the past, and
 * the expected diagnostics get the same git-backed history, committed versions and merge driver
 * records as `check`).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitAll, LspClient, makeProject, repo, sops, type TestProject } from "./lsp-harness.js";

const lsRequire = createRequire(join(repo, "packages/language-server/package.json"));
type Core = typeof import("../packages/core/src/index.js");
const core: Core = await import(pathToFileURL(lsRequire.resolve("@stellar-secrets/core")).href);
type Git = typeof import("../packages/git/src/index.js");
const git: Git = await import(pathToFileURL(lsRequire.resolve("@stellar-secrets/git")).href);

describe("every checker rule through the language server", () => {
  let org: TestProject;
  let client: LspClient;
  beforeAll(async () => {
    org = await makeProject({
      secrets: {
        development: { stripe_api_key: "v", Token1: "v", api_key: "v", orphan_webhook_secret: "v" },
        staging: { stripe_api_key: "v" },
        production: {},
      },
      files: {
        "actions/all.yaml": [
          "kind: action",
          "name: everything_wrong",
          "connection: nowhere",
          "method: FETCH",
          "path: /x",
          "environments: [development, qa]",
          "headers:",
          "  - { name: X-Key, type: secret, secret: stripe_api_kye }",
          "  - { name: X-Other, type: secret, secret: stripe_api_key }",
          "  - { name: X-Static, type: static, value: sk_live_4eC39HqLyjWDarjtT1zdp7dc }",
          "  - { name: X-Case, type: secret, secret: Stripe_Api_Key }",
          "",
        ].join("\n"),
        "actions/two.yaml": "kind: action\nname: staging_only\nmethod: GET\npath: /y\nenvironments: [staging]\nheaders:\n  - { name: K, type: secret, secret: api_key }\n",
        "secrets/notes.yaml": "just: plain text\n",
        "secrets/catalog.yaml": "secrets:\n  stripe_api_keys:\n    owner: payments\n  api_key:\n    rotate_every: 30d\n",
      },
    });
    // production encrypted to someone who is not a member: recipient drift; an undeclared environment's file
    const mallory = await sops.generateIdentity();
    writeFileSync(org.path("secrets/production.enc.yaml"), await sops.encryptSecrets(new Map([["stripe_api_key", "v"]]), { recipients: [mallory.recipient] }));
    // qa's second value is a copy of the first's ciphertext, as a hand edit leaves it (stale-mac)
    const qa = await sops.encryptSecrets(new Map([["stripe_api_key", "v"], ["stripe_webhook_secret", "w"]]), { recipients: [org.recipient] });
    const copied = /^stripe_api_key: (.*)$/m.exec(qa)![1]!;
    writeFileSync(org.path("secrets/qa.enc.yaml"), qa.replace(/^stripe_webhook_secret: .*$/m, `stripe_webhook_secret: ${copied}`));
    // a copy git mergetool leaves beside an environment file (environment-file-copy)
    writeFileSync(org.path("secrets/qa.enc.yaml.orig"), qa);
    // .sops.yaml: plain sops users would also encrypt staging for mallory
    writeFileSync(org.path(".sops.yaml"), `creation_rules:\n  - path_regex: staging\\.enc\\.yaml$\n    age: ${org.recipient},${mallory.recipient}\n`);
    // the inbox: a proposal also encrypted to mallory (pending-proposal, stale-proposal), a stray file (invalid-proposal)
    mkdirSync(org.path("secrets/inbox/development"), { recursive: true });
    const proposal = await sops.createProposal({ environment: "development", name: "stripe_api_key", proposer: "P", proposedAt: new Date(), recipients: [org.recipient, mallory.recipient], value: "v" });
    writeFileSync(org.path("secrets/inbox/development/stripe_api_key.abcdefabcdef.age"), proposal);
    writeFileSync(org.path("secrets/inbox/notes.txt"), "not a proposal\n");
    // a pending access request (request-access): pending-access-request, info, in stellar.yaml
    const carol = await sops.generateIdentity();
    const project = readFileSync(org.path("stellar.yaml"), "utf8");
    // and a declared environment with no file yet (environment-without-file, info, at its key)
    writeFileSync(
      org.path("stellar.yaml"),
      project.replace(/(  production:\n    members:\n      alice: \S+\n)/, `$1    pending:\n      carol:\n        key: ${carol.recipient}\n  sandbox:\n    members:\n      alice: ${org.recipient}\n`),
    );
    // .gitattributes sending the environment files to the merge driver, then one file to git's union merge (git-attributes)
    writeFileSync(org.path(".gitattributes"), "secrets/*.enc.yaml merge=stellar\nsecrets/development.enc.yaml merge=union\n");
    // api_key (rotate_every 30d) was last set in a commit of 2020: rotation-overdue
    commitAll(org.dir, "the secrets repository", "2020-01-02T12:00:00Z");
    // a merge conflict the driver recorded and resolve has not finished (unresolved-merge): staging as the driver left it
    const staging = await sops.encryptSecrets(new Map([["stripe_api_key", "ours"]]), { recipients: [org.recipient] });
    writeFileSync(org.path("secrets/staging.enc.yaml"), staging);
    await git.writeUnresolvedMerge(join(org.dir, ".git"), {
      version: 1,
      path: "secrets/staging.enc.yaml",
      environment: "staging",
      names: ["stripe_api_key"],
      file: git.sha256Text(staging),
      theirs: git.sha256Text("their version"),
      recordedAt: "2020-01-02T12:00:00Z",
    });
    // a folder opened in the editor is untrusted: its .git/config may name programs (a downloaded
    // folder carries its own); the server's git reads must run none of them
    // (`log.showSignature` makes every `git log` verify a signed commit with `gpg.program`: one is signed
    // here by a stand-in for gpg that prints a made-up signature)
    const signer = join(org.dir, ".git", "sign.sh");
    writeFileSync(signer, `#!/bin/sh\ncat >/dev/null\nprintf -- '-----BEGIN PGP SIGNATURE-----\\n\\niQEzBAABCAAd\\n-----END PGP SIGNATURE-----\\n'\necho "[GNUPG:] SIG_CREATED D 1 8 00 1 X" >&2\n`, { mode: 0o755 });
    // (the commit above, signed in place: same tree, same dates)
    execFileSync("git", ["-c", `gpg.program=${signer}`, "-c", "user.signingkey=X", "commit", "-q", "--amend", "--no-edit", "-S"], { cwd: org.dir, env: { ...process.env, GIT_COMMITTER_DATE: "2020-01-02T12:00:00Z" } });
    const ran = join(org.dir, ".git", "ran.sh");
    writeFileSync(ran, `#!/bin/sh\necho "$0 $*" >> "${join(org.dir, ".git", "ran.log")}"\n`, { mode: 0o755 });
    for (const key of ["core.fsmonitor", "diff.external", "core.pager", "gpg.program", "gpg.ssh.program", "core.sshCommand", "diff.stellar.textconv"]) execFileSync("git", ["config", key, ran], { cwd: org.dir });
    execFileSync("git", ["config", "log.showSignature", "true"], { cwd: org.dir });
    client = await LspClient.start({ folders: [org.dir] });
  });
  afterAll(async () => {
    await client.stop();
    // (after every test: hovers, history, committed versions and the merge record were read)
    expect(existsSync(join(org.dir, ".git", "ran.log")), "a program named by the repository's git config ran").toBe(false);
    org.remove();
  });

  it("publishes exactly core's diagnostics, at core's ranges, for every rule", async () => {
    const { index } = core.loadWorkspace(org.dir);
    const history = await git.readValueHistory(index, process.env);
    expect(history, "a git-backed history, as check reads it").toBeDefined();
    // and the committed versions stale-mac compares with, as check reads them (the server reads them too)
    const committed = await git.readCommittedVersions(org.dir, process.env, [...index.environmentFiles.values()].map((f) => f.path));
    expect(committed.size, "HEAD's environment files").toBeGreaterThan(0);
    const unresolved = await git.readUnresolvedMerges(org.dir, process.env);
    expect(unresolved.size, "the merge driver's record").toBe(1);
    const expected = core.checkWorkspace(index, { history, committed: (path) => committed.get(path), unresolvedMerges: (path) => unresolved.get(path) });
    const rules = new Set(expected.map((d) => d.rule));
    // missing-secrets-dir needs a project without environment files: the next test breaks it
    for (const r of core.RULES) if (r.id !== "missing-secrets-dir") expect(rules, `fixture covers ${r.id}`).toContain(r.id);
    const files = [...new Set(expected.map((d) => d.file))];
    for (const f of files) {
      const uri = pathToFileURL(join(org.dir, f)).href;
      const want = expected.filter((d) => d.file === f);
      const got = await client.waitForDiagnostics(uri, (ds) => ds.length === want.length, `${want.length} diagnostics in ${f}`);
      const norm = (ds: { code?: unknown; range: { start: { line: number; character: number }; end: { line: number; character: number } }; message: string; severity?: number }[]) =>
        ds.map((d) => [d.code, d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character, d.severity, d.message].join("|")).sort();
      expect(norm(got)).toEqual(
        norm(
          want.map((d) => ({
            code: d.rule,
            range: { start: { line: d.line - 1, character: d.column - 1 }, end: { line: d.endLine - 1, character: d.endColumn - 1 } },
            message: d.message,
            severity: d.severity === "error" ? 1 : d.severity === "warning" ? 2 : 3,
          })),
        ),
      );
    }
    // and nothing for files core is silent about
    const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (n === ".git" ? [] : statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
    for (const p of walk(org.dir)) {
      if (!files.includes(relative(org.dir, p))) expect(client.diagnosticsOf(pathToFileURL(p).href)).toEqual([]);
    }
    // the suggestion travels with the diagnostic (for the quick fix)
    const uri = org.uri("actions/all.yaml");
    const unknown = client.diagnosticsOf(uri).find((d) => d.code === "unknown-secret" && d.message.includes("stripe_api_kye"));
    expect(unknown?.data).toEqual({ secret: "stripe_api_kye", suggestion: "stripe_api_key" });
  });
});

describe("missing-secrets-dir through the language server", () => {
  it("publishes core's diagnostic at secrets_dir in stellar.yaml", async () => {
    const org = await makeProject({ secrets: { development: { stripe_api_key: "v" } }, files: { "actions/a.yaml": "kind: action\nname: a\nmethod: GET\npath: /x\nheaders:\n  - { name: K, type: secret, secret: stripe_api_key }\n" } });
    const client = await LspClient.start({ folders: [org.dir] });
    try {
      writeFileSync(org.path("stellar.yaml"), readFileSync(org.path("stellar.yaml"), "utf8").replace("version: 1\n", "version: 1\nsecrets_dir: secrtes\n"));
      const expected = core.checkWorkspace(core.loadWorkspace(org.dir).index).filter((d) => d.file === "stellar.yaml");
      expect(expected.map((d) => [d.rule, d.line, d.column, d.suggestion])).toEqual([["missing-secrets-dir", 2, 14, "secrets"]]);
      const got = await client.waitForDiagnostics(org.uri("stellar.yaml"), (ds) => ds.some((d) => d.code === "missing-secrets-dir"), "missing-secrets-dir in stellar.yaml");
      const d = got.find((x) => x.code === "missing-secrets-dir");
      expect(d?.range).toEqual({ start: { line: 1, character: 13 }, end: { line: 1, character: 20 } });
      expect(d?.message).toBe(expected[0]!.message);
    } finally {
      await client.stop();
      org.remove();
    }
  });
});

describe("a project in a subfolder of its repository through the language server", () => {
  it("publishes the findings on the files above its root (../.gitattributes) at that file, as check reports them", async () => {
    const org = await makeProject({ subdir: "infra", secrets: { development: { stripe_api_key: "v" } }, environments: ["development"], files: { "actions/a.yaml": "kind: action\nname: a\nmethod: GET\npath: /x\nheaders:\n  - { name: K, type: secret, secret: stripe_api_key }\n" } });
    const top = dirname(org.dir);
    execFileSync("git", ["init", "-q", top]);
    writeFileSync(join(top, ".gitattributes"), "*.png binary\ninfra/secrets/*.enc.yaml filter=lfs\n");
    const client = await LspClient.start({ folders: [org.dir] });
    try {
      const want = core.checkWorkspace(core.loadWorkspace(org.dir).index).filter((d) => d.file === "../.gitattributes");
      expect(want.map((d) => [d.rule, d.line])).toEqual([["git-attributes", 2]]);
      const got = await client.waitForDiagnostics(pathToFileURL(join(top, ".gitattributes")).href, (ds) => ds.length === 1, "the finding on ../.gitattributes");
      expect(got.map((d) => [d.code, d.range.start.line, d.message])).toEqual([["git-attributes", 1, want[0]?.message]]);
    } finally {
      await client.stop();
      org.remove();
    }
  });
});
