/**
 * `rotation-overdue` in the editor: the server reads the project's git history in the background
 * (as `stellar-secrets check` does), reports the rule at the secret's name in the environment
 * file, shows the rotation status in the hover, and reads the history again when a branch moves
 * or an environment file changes on disk. A real temporary git repository with dated commits.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { editSecretsFile } from "@stellar-secrets/sops";
import { DidChangeWatchedFilesNotification, DidCloseTextDocumentNotification, FileChangeType, HoverRequest, type Diagnostic, type Hover } from "vscode-languageserver/node";
import { ProjectsRequest } from "./protocol.js";
import { commitAll, makeTempProject, rangeOf, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";

const CONNECTOR = "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n";
const CATALOG = "secrets:\n  stripe_api_key:\n    rotate_every: 30d\n";

describe("rotation-overdue from git history", () => {
  let project: TempProject;
  let server: InMemoryServer;
  const env = "secrets/production.enc.yaml";
  const rotation = (ds: Diagnostic[]) => ds.filter((d) => d.code === "rotation-overdue");
  beforeAll(async () => {
    project = await makeTempProject({ production: { stripe_api_key: "TEST-ONLY-value-1" } }, { "connectors/stripe.yaml": CONNECTOR, "secrets/catalog.yaml": CATALOG });
    commitAll(project.dir, "add the stripe key", "2020-01-02T12:00:00Z");
    server = await startInMemory({ folders: [project.dir] });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  const setValue = (value: string) => editSecretsFile(project.path(env), [project.identity], (values) => void values.set("stripe_api_key", value));
  const changed = (rel: string) => server.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: project.uri(rel), type: FileChangeType.Changed }] });

  it("reports a value last set longer ago than rotate_every at the secret's name in the environment file", async () => {
    const ds = await server.waitForDiagnostics(project.uri(env), (d) => rotation(d).length > 0);
    expect(rotation(ds).map((d) => [d.range, d.severity])).toEqual([[rangeOf(readFileSync(project.path(env), "utf8"), "stripe_api_key"), 2]]);
    expect(rotation(ds)[0]?.message).toMatch(
      /^the value of secret "stripe_api_key" in production was last set \d+ days ago \(2020-01-02, commit [0-9a-f]{10}\), and the catalog says to rotate it every 30d \(30 days\)/,
    );
    // the Secrets view's data says where the value is overdue
    const { projects } = await server.client.sendRequest(ProjectsRequest, {});
    expect(projects[0]?.secrets.find((s) => s.name === "stripe_api_key")?.rotationOverdue).toEqual(["production"]);
  });

  it("shows when the value was last set, and that it is overdue, in the hover", async () => {
    const text = readFileSync(project.path(env), "utf8");
    await server.open(project.uri(env), text);
    const hover = (await server.client.sendRequest(HoverRequest.type, { textDocument: { uri: project.uri(env) }, position: rangeOf(text, "stripe_api_key").start })) as Hover;
    expect((hover.contents as { value: string }).value).toMatch(/\n\nproduction: last set 2020-01-02 \(\d+ days ago; rotate every 30d: overdue\)\n\n/);
    expect(JSON.stringify(hover)).not.toContain("TEST-ONLY-value");
    await server.client.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri: project.uri(env) } });
  });

  it("reads the history again when the branch moves (a new commit)", async () => {
    await setValue("TEST-ONLY-value-2");
    commitAll(project.dir, "rotate the stripe key", "2021-03-04T12:00:00Z");
    await changed(".git/refs/heads/main"); // only the branch: the environment file's own change is not reported
    const ds = await server.waitForDiagnostics(project.uri(env), (d) => rotation(d)[0]?.message.includes("(2021-03-04, commit ") === true);
    expect(rotation(ds)).toHaveLength(1);
  });

  it("reads it again when an environment file changes on disk: an uncommitted new value is set now", async () => {
    await setValue("TEST-ONLY-value-3");
    await changed(env);
    await server.waitForDiagnostics(project.uri(env), (d) => rotation(d).length === 0);
  });
});

describe("a shallow clone", () => {
  it("logs once per project what rotation-overdue and stale-mac cannot see there, with the fix (as check notes it); a full clone logs nothing", async () => {
    const origin = await makeTempProject({ production: { stripe_api_key: "TEST-ONLY-value-1" } }, { "connectors/stripe.yaml": CONNECTOR, "secrets/catalog.yaml": CATALOG });
    commitAll(origin.dir, "add the stripe key", "2020-01-02T12:00:00Z");
    commitAll(origin.dir, "a later commit", "2020-06-01T12:00:00Z");
    const clone = mkdtempSync(join(tmpdir(), "stellar-ls-shallow-"));
    execFileSync("git", ["clone", "-q", "--depth", "1", `file://${origin.dir}`, join(clone, "repo")], { env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" }, stdio: "ignore" });
    const dir = join(clone, "repo");
    const full = await startInMemory({ folders: [origin.dir] });
    const shallow = await startInMemory({ folders: [dir] });
    try {
      const notes = () => shallow.logs.filter((l) => l.includes("shallow clone"));
      await shallow.waitFor(() => notes().length === 2, "both notes");
      expect(notes().map((l) => l.replace(/[0-9a-f]{12}/g, "<commit>")).sort()).toEqual([
        `[stellar-secrets] ${dir}: note: HEAD (<commit>) is at the edge of a shallow clone: its parent commits were not fetched, so an environment file merged or edited by hand in HEAD's own commit (stale-mac) cannot be seen; fetch them (\`git fetch --deepen=1\`; in CI, actions/checkout with fetch-depth: 0)`,
        `[stellar-secrets] ${dir}: note: this is a shallow clone (its history stops at <commit>): rotation-overdue reads when each value was last set from git history, and a value set before the cut looks set at it, so an overdue value may not be reported; fetch the history (\`git fetch --unshallow\`; in CI, actions/checkout with fetch-depth: 0)`,
      ]);
      // read again (the branch moved): not logged again
      await shallow.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: pathToFileURL(join(dir, ".git/HEAD")).href, type: FileChangeType.Changed }] });
      await new Promise((r) => setTimeout(r, 500)); // past the reads' pause (GIT_READ_DELAY_MS) and git
      expect(notes()).toHaveLength(2);
      // the full clone: rotation-overdue seen (its history goes back to 2020-01-02), no note
      await full.waitForDiagnostics(origin.uri("secrets/production.enc.yaml"), (d) => d.some((x) => x.code === "rotation-overdue"));
      expect(full.logs.filter((l) => l.includes("shallow clone"))).toEqual([]);
    } finally {
      await full.dispose();
      await shallow.dispose();
      origin.remove();
      rmSync(clone, { recursive: true, force: true });
    }
  });
});
