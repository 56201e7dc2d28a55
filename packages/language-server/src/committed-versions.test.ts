/**
 * `stale-mac` in the editor compares each environment file with its committed versions, as
 * `stellar-secrets check` does: the server reads HEAD's version (and a merge's other side) in the
 * background, reports a file whose values changed under the committed `mac` and `lastmodified`
 * (on disk or in an unsaved buffer) at its `mac` key, and reads the versions again when a branch
 * moves or a merge starts. A real temporary git repository.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkWorkspace, loadWorkspace } from "@stellar-secrets/core";
import { editSecretsFile, encryptSecrets, generateIdentity } from "@stellar-secrets/sops";
import { DidChangeWatchedFilesNotification, DidCloseTextDocumentNotification, FileChangeType, type Diagnostic } from "vscode-languageserver/node";
import { commitAll, makeTempProject, rangeOf, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";

const CONNECTOR = "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n";
const env = "secrets/production.enc.yaml";

/** `text` with one more value line (encrypted on its own, so no ciphertext is shared) before the sops block: a hand edit that keeps mac and lastmodified. */
async function withExtraValue(text: string): Promise<string> {
  const other = await encryptSecrets(new Map([["stripe_webhook_secret", "TEST-ONLY-added-by-hand"]]), { recipients: [(await generateIdentity()).recipient] });
  const line = /^stripe_webhook_secret: .*$/m.exec(other)![0];
  return text.replace(/^sops:/m, `${line}\nsops:`);
}

/** The LSP range of the sops block's `mac` key, where stale-mac reports a hand edit. */
function macRange(text: string) {
  const m = /^[ \t]+mac:/m.exec(text)!;
  return rangeOf(text.slice(0, m.index + m[0].length), "mac", text.slice(0, m.index));
}

function git(dir: string, args: string[]): string {
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_AUTHOR_NAME: "A", GIT_AUTHOR_EMAIL: "a@example.test", GIT_COMMITTER_NAME: "A", GIT_COMMITTER_EMAIL: "a@example.test" };
  return execFileSync("git", args, { cwd: dir, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

describe("stale-mac against the committed versions", () => {
  let project: TempProject;
  let server: InMemoryServer;
  let committed: string;
  let handEdited: string;
  const stale = (ds: Diagnostic[]) => ds.filter((d) => d.code === "stale-mac");
  const changed = (...rels: string[]) =>
    server.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: rels.map((rel) => ({ uri: project.uri(rel), type: FileChangeType.Changed })) });
  const write = async (text: string) => {
    writeFileSync(project.path(env), text);
    await changed(env);
  };

  beforeAll(async () => {
    project = await makeTempProject({ production: { stripe_api_key: "TEST-ONLY-value-1" } }, { "connectors/stripe.yaml": CONNECTOR });
    commitAll(project.dir, "add the stripe key");
    committed = readFileSync(project.path(env), "utf8");
    handEdited = await withExtraValue(committed);
    server = await startInMemory({ folders: [project.dir] });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  it("needs HEAD: the hand edit alone has nothing wrong within the file", () => {
    writeFileSync(project.path(env), handEdited);
    try {
      const { index } = loadWorkspace(project.dir);
      expect(checkWorkspace(index).filter((d) => d.rule === "stale-mac")).toEqual([]);
      expect(checkWorkspace(index, { committed: () => committed }).filter((d) => d.rule === "stale-mac")).toHaveLength(1);
    } finally {
      writeFileSync(project.path(env), committed);
    }
  });

  it("reports a value added on disk under HEAD's mac and lastmodified at the mac key, and clears it when the file is restored", async () => {
    await write(handEdited);
    const ds = await server.waitForDiagnostics(project.uri(env), (d) => stale(d).length > 0);
    expect(stale(ds).map((d) => [d.range, d.severity])).toEqual([[macRange(handEdited), 1]]);
    expect(stale(ds)[0]?.message).toMatch(/^the values of secrets\/production\.enc\.yaml differ from the committed version, but its mac and lastmodified are the committed ones/);
    expect(JSON.stringify(ds)).not.toContain("TEST-ONLY");
    await write(committed);
    await server.waitForDiagnostics(project.uri(env), (d) => stale(d).length === 0);
  });

  it("compares an unsaved buffer with HEAD too", async () => {
    await server.open(project.uri(env), committed);
    await server.change(project.uri(env), handEdited);
    const ds = await server.waitForDiagnostics(project.uri(env), (d) => stale(d).length > 0);
    expect(stale(ds).map((d) => d.range)).toEqual([macRange(handEdited)]);
    await server.change(project.uri(env), committed);
    await server.waitForDiagnostics(project.uri(env), (d) => stale(d).length === 0);
    await server.client.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri: project.uri(env) } });
  });

  it("reads HEAD again when the branch moves: a hand edit committed stays reported (HEAD's parent has its mac, as check compares), and clears when the branch goes back", async () => {
    await write(handEdited);
    await server.waitForDiagnostics(project.uri(env), (d) => stale(d).length > 0);
    commitAll(project.dir, "commit the hand edit");
    await changed(".git/refs/heads/main"); // only the branch: the environment file did not change
    // the file equals HEAD now, but HEAD's parent holds the same mac over other values: still no one can decrypt it
    const kept = await server.waitForDiagnostics(project.uri(env), (d) => stale(d).length > 0);
    expect(stale(kept).map((d) => d.range)).toEqual([macRange(handEdited)]);
    // and the new HEAD is what an edit is compared with now: restoring the old text is a hand edit too
    await write(committed);
    // (reported before too, at the hand edit's mac line: wait for the file's own)
    const ds = await server.waitForDiagnostics(project.uri(env), (d) => stale(d).some((x) => x.range.start.line === macRange(committed).start.line));
    expect(stale(ds).map((d) => d.range)).toEqual([macRange(committed)]);
    // back on the first commit (read again: compared with the hand edit's commit, the file would still be stale)
    git(project.dir, ["reset", "-q", "--hard", "HEAD~1"]);
    await changed(".git/refs/heads/main", env);
    await server.waitForDiagnostics(project.uri(env), (d) => stale(d).length === 0);
  });

  it("compares with the other side of a merge in progress once MERGE_HEAD appears", async () => {
    // other: a real write (new mac); main: an unrelated commit; then a merge that takes other's file
    git(project.dir, ["checkout", "-q", "-b", "other"]);
    await editSecretsFile(project.path(env), [project.identity], (values) => void values.set("stripe_api_key", "TEST-ONLY-value-2"));
    commitAll(project.dir, "rotate the stripe key");
    git(project.dir, ["checkout", "-q", "main"]);
    project.write("connectors/other.yaml", "kind: auth_connector\nname: other\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n");
    commitAll(project.dir, "another connector");
    git(project.dir, ["merge", "-q", "--no-commit", "--no-ff", "other"]);
    const theirs = readFileSync(project.path(env), "utf8");
    // a hand edit of their file keeps their mac: only MERGE_HEAD's version shows it
    const merged = await withExtraValue(theirs);
    writeFileSync(project.path(env), merged);
    await changed(".git/HEAD", ".git/MERGE_HEAD", env, "connectors/other.yaml");
    const ds = await server.waitForDiagnostics(project.uri(env), (d) => stale(d).length > 0);
    expect(stale(ds).map((d) => d.range)).toEqual([macRange(merged)]);
    // the merge given up: MERGE_HEAD is gone and the file is main's again
    git(project.dir, ["reset", "-q", "--hard", "HEAD"]);
    await server.client.sendNotification(DidChangeWatchedFilesNotification.type, {
      changes: [
        { uri: project.uri(".git/MERGE_HEAD"), type: FileChangeType.Deleted },
        { uri: project.uri(env), type: FileChangeType.Changed },
      ],
    });
    await server.waitForDiagnostics(project.uri(env), (d) => stale(d).length === 0);
  });
});

describe("stale-mac of a hand edit already committed", () => {
  it("is reported as check reports it: the file equals HEAD, but HEAD's parent has its mac and lastmodified with other values", async () => {
    const project = await makeTempProject({ production: { stripe_api_key: "TEST-ONLY-value-1" } }, { "connectors/stripe.yaml": CONNECTOR });
    commitAll(project.dir, "add the stripe key");
    const handEdited = await withExtraValue(readFileSync(project.path(env), "utf8"));
    writeFileSync(project.path(env), handEdited);
    commitAll(project.dir, "a hand edit, committed (as CI sees it on the branch)");
    const server = await startInMemory({ folders: [project.dir] });
    try {
      const ds = await server.waitForDiagnostics(project.uri(env), (d) => d.some((x) => x.code === "stale-mac"));
      expect(ds.filter((d) => d.code === "stale-mac").map((d) => d.range)).toEqual([macRange(handEdited)]);
      // the same diagnostic check reports (HEAD and HEAD's parents)
      const { index } = loadWorkspace(project.dir);
      const parent = git(project.dir, ["show", `HEAD~1:${env}`]);
      expect(checkWorkspace(index, { committed: () => handEdited, earlier: () => [parent] }).filter((d) => d.rule === "stale-mac")).toHaveLength(1);
    } finally {
      await server.dispose();
      project.remove();
    }
  });
});
