/**
 * Pull diagnostics (VS Code, Helix, Zed, Neovim 0.10+) against push (eglot, older Neovim) over real
 * stdio: two servers on the same project, one client of each kind. What a pulling client gets must be
 * what a pushed client is sent, after the initial index and after a burst of edits (each pull chained
 * on the previous result id, some cancelled), and result ids must say Unchanged only when nothing did.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LspClient, proto, type TestProject } from "./lsp-harness.js";
import { HUBSPOT, makeOrg } from "./lsp-fixture.js";

type Diags = proto.Diagnostic[];
const key = (ds: Diags): string => JSON.stringify([...ds].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))));

describe("pull diagnostics are push diagnostics", () => {
  let org: TestProject;
  let push: LspClient;
  let pull: LspClient;
  beforeAll(async () => {
    org = await makeOrg();
    [push, pull] = await Promise.all([LspClient.start({ folders: [org.dir] }), LspClient.start({ folders: [org.dir], pull: true })]);
  });
  afterAll(async () => {
    await Promise.all([push.stop(), pull.stop()]);
    org.remove();
  });

  /** Waits until the push client's diagnostics have been quiet for `ms`. */
  async function settled(ms = 300): Promise<void> {
    let last = JSON.stringify([...push.published]);
    let since = Date.now();
    await push.waitFor(async () => {
      await new Promise((r) => setTimeout(r, 50));
      const now = JSON.stringify([...push.published]);
      if (now !== last) {
        last = now;
        since = Date.now();
      }
      return Date.now() - since >= ms;
    }, "the pushed diagnostics to settle");
  }

  it("after the initial index: a workspace pull gives every file the pushed client was sent, with the same diagnostics", async () => {
    await push.waitFor(() => push.published.size > 0, "the first pushed diagnostics");
    await settled();
    const report = await pull.conn.sendRequest(proto.WorkspaceDiagnosticRequest.type, { previousResultIds: [] });
    const pulled = new Map(report.items.map((i) => [i.uri, (i as proto.WorkspaceFullDocumentDiagnosticReport).items]));
    const pushed = new Map([...push.published].filter(([, ds]) => ds.length > 0));
    expect(pushed.size).toBeGreaterThan(0);
    expect([...pulled.keys()].sort()).toEqual([...pushed.keys()].sort());
    for (const [uri, ds] of pushed) expect(key(pulled.get(uri)!), uri).toBe(key(ds));
  });

  it("after a burst of edits (pulls chained on the last result id, every other one cancelled): the last pull is the last push, and a pull with its id is Unchanged", async () => {
    const uri = org.uri("connections/hubspot.yaml");
    const typo = HUBSPOT.replace("auth: stripe", "auth: strpe");
    await push.open(uri, HUBSPOT);
    await pull.open(uri, HUBSPOT);
    let resultId: string | undefined;
    const ids: number[] = [];
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) {
      const text = i % 2 === 0 ? typo : HUBSPOT.replace("base_url:", `# edit ${i}\nbase_url:`);
      await push.change(uri, text);
      await pull.change(uri, text);
      const source = new proto.CancellationTokenSource();
      const p = pull.conn.sendRequest(proto.DocumentDiagnosticRequest.type, { textDocument: { uri }, ...(resultId === undefined ? {} : { previousResultId: resultId }) }, source.token).then(
        (r) => {
          if (r.kind === "full" && r.resultId !== undefined) ids.push(Number(r.resultId));
          if (i % 2 === 1 && r.resultId !== undefined) resultId = r.resultId;
        },
        (e: unknown) => {
          // only a cancelled pull may fail, and only with RequestCancelled
          expect(i % 2).toBe(0);
          expect((e as { code?: number }).code).toBe(proto.LSPErrorCodes.RequestCancelled);
        },
      );
      if (i % 2 === 0) source.cancel();
      pending.push(p);
    }
    await Promise.all(pending);
    // the last text: the typo (an odd i edits a comment in; i = 29 is the last)
    const last = typo.replace("base_url:", "# edit 29\nbase_url:");
    await push.change(uri, last);
    await pull.change(uri, last);
    const pushed = await push.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "unknown-reference" && x.range.start.line >= 1));
    await settled();
    const final = await pull.conn.sendRequest(proto.DocumentDiagnosticRequest.type, { textDocument: { uri }, ...(resultId === undefined ? {} : { previousResultId: resultId }) });
    expect(final.kind).toBe("full");
    if (final.kind !== "full") return;
    expect(key(final.items)).toBe(key(push.published.get(uri)!));
    expect(key(final.items)).toBe(key(pushed));
    expect(Number(final.resultId)).toBeGreaterThanOrEqual(Math.max(...ids));
    expect(await pull.conn.sendRequest(proto.DocumentDiagnosticRequest.type, { textDocument: { uri }, previousResultId: final.resultId })).toEqual({ kind: "unchanged", resultId: final.resultId });
    // and the other files: a workspace pull agrees with push again
    const report = await pull.conn.sendRequest(proto.WorkspaceDiagnosticRequest.type, { previousResultIds: [] });
    for (const item of report.items) {
      if (item.kind !== "full") continue;
      expect(key(item.items), item.uri).toBe(key(push.published.get(item.uri) ?? []));
    }
  });
});
