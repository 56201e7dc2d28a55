import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HoverRequest, type MarkupContent } from "vscode-languageserver/node";
import { LARGE_BUFFER_CHARS } from "./buffers.js";
import { makeTempProject, rangeOf, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";
import { createTicketAction, HUBSPOT_CONNECTION } from "./test-support/fixtures.js";

const ACTION = createTicketAction("zendesk_token");
const CONNECTION = HUBSPOT_CONNECTION;

describe("buffers: the last event of a file wins", () => {
  let project: TempProject;
  let server: InMemoryServer;
  beforeAll(async () => {
    project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } }, { "actions/create_ticket.yaml": ACTION, "connections/hubspot.yaml": CONNECTION });
    server = await startInMemory({ folders: [project.dir] });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  it("an edit typed after a reopen is not replaced by the disk text the close read late", async () => {
    const uri = project.uri("actions/create_ticket.yaml");
    const path = project.path("actions/create_ticket.yaml");
    const { workspace } = server.state;
    // hold the close's disk read until the file is open again and edited (a slow disk under load)
    const read = workspace.read.bind(workspace);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let heldReads = 0;
    workspace.read = async (p: string) => {
      const text = await read(p);
      if (p === path) {
        heldReads++;
        await gate;
      }
      return text;
    };
    try {
      await server.open(uri, ACTION);
      await server.close(uri);
      await server.waitFor(() => heldReads > 0, "the close's disk read");
      await server.open(uri, ACTION);
      const typo = ACTION.replace("zendesk_token", "zendesk_tok");
      await server.change(uri, typo);
      await server.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "unknown-secret"));
      release();
      await new Promise((r) => setTimeout(r, 100)); // the late read settles and the full check runs
      const ds = server.published.get(uri) ?? [];
      expect(ds.map((d) => [d.code, d.range])).toEqual([["unknown-secret", rangeOf(typo, "zendesk_tok")]]);
    } finally {
      release();
      workspace.read = read;
    }
  });
});

/** A position inside the first `needle` of `text`. */
const inside = (text: string, needle: string) => {
  const { start } = rangeOf(text, needle);
  return { line: start.line, character: start.character + 2 };
};

describe("buffers: a large buffer is indexed once typing pauses", () => {
  let project: TempProject;
  let server: InMemoryServer;
  beforeAll(async () => {
    project = await makeTempProject(
      { development: { zendesk_token: "TEST-ONLY-not-a-real-value", other_token: "TEST-ONLY-other" } },
      { "actions/create_ticket.yaml": ACTION, "connections/hubspot.yaml": CONNECTION },
    );
    server = await startInMemory({ folders: [project.dir] });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  it("answers a request about another file before re-checking the large one, and indexes it at once for a request about it", async () => {
    const head = "kind: action\nname: big\nconnection: hubspot\nmethod: GET\npath: /big\nheaders:\n";
    const lines: string[] = [];
    for (let n = head.length, i = 0; n < LARGE_BUFFER_CHARS + 1000; i++) {
      const l = `  - { name: X-H${i}, type: secret, secret: zendesk_token }\n`;
      lines.push(l);
      n += l.length;
    }
    const big = (first: string) => head + lines.join("").replace("secret: zendesk_token", `secret: ${first}`) + "  - { name: X-Last, type: secret, secret: nope_token }\n";
    const uri = project.uri("actions/big.yaml");
    const unknown = (ds: { code?: unknown }[]) => ds.filter((d) => d.code === "unknown-secret").length;
    await server.open(project.uri("actions/create_ticket.yaml"), ACTION);
    await server.open(uri, big("zendesk_token"));
    await server.waitForDiagnostics(uri, (d) => unknown(d) === 1);
    // a typo in the large file, and at once a request about another file: answered before the large file is re-checked
    const [, other] = await Promise.all([
      server.change(uri, big("other_tokn")),
      server.client.sendRequest(HoverRequest.type, { textDocument: { uri: project.uri("actions/create_ticket.yaml") }, position: inside(ACTION, "zendesk_token") }),
    ]);
    expect((other?.contents as MarkupContent).value).toContain("**zendesk_token**");
    expect(unknown(server.published.get(uri) ?? [])).toBe(1);
    await server.waitForDiagnostics(uri, (d) => unknown(d) === 2);
    // a request about the large file itself sees its last text
    const text = big("other_token");
    const [, own] = await Promise.all([server.change(uri, text), server.client.sendRequest(HoverRequest.type, { textDocument: { uri }, position: inside(text, "other_token") })]);
    expect((own?.contents as MarkupContent).value).toContain("**other_token**");
    await server.waitForDiagnostics(uri, (d) => unknown(d) === 1);
  });
});

describe("buffers: a burst of changes of one file", () => {
  it("10,000 didChange sent at once are not each parsed, checked and published: the diagnostics go out a few times, the last for the last text, and a hover sent after them sees it", async () => {
    const project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } }, { "actions/create_ticket.yaml": ACTION, "connections/hubspot.yaml": CONNECTION });
    const server = await startInMemory({ folders: [project.dir] });
    const uri = project.uri("actions/create_ticket.yaml");
    try {
      await server.open(uri, ACTION);
      const { DidChangeTextDocumentNotification } = await import("vscode-languageserver/node");
      const at = rangeOf(ACTION, "zendesk_token");
      // each change retypes the name's last letter (a misspelt name each time: each text has its own diagnostic)
      const N = 10_000;
      const last = { start: { line: at.end.line, character: at.end.character - 1 }, end: at.end };
      const before = server.publishedLog.length;
      for (let i = 0; i < N; i++) {
        const letter = i === N - 1 ? "q" : String.fromCharCode(97 + (i % 2));
        void server.client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 2 + i }, contentChanges: [{ range: last, text: letter }] });
      }
      const hover = await server.client.sendRequest(HoverRequest.type, { textDocument: { uri }, position: inside(ACTION, "zendesk_token") });
      // the hover sees the last text: the name zendesk_tokeq is no secret
      expect((hover?.contents as MarkupContent).value).toContain("zendesk_tokeq");
      const ds = await server.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "unknown-secret" && x.message.includes("zendesk_tokeq")));
      expect(ds.map((d) => d.code)).toEqual(["unknown-secret"]);
      await new Promise((r) => setTimeout(r, 200));
      // before: one publish per change (10,000)
      const published = server.publishedLog.slice(before).filter((p) => p.uri === uri).length;
      expect(published).toBeLessThan(N / 10);
      // the same, interleaved with changes of two other files (A, B, C, A, B, C …): still a few publications each
      const others = ["actions/other_1.yaml", "actions/other_2.yaml"].map((rel) => project.uri(rel));
      for (const o of others) await server.open(o, ACTION);
      const from = server.publishedLog.length;
      for (let i = 0; i < 3000; i++) {
        const letter = String.fromCharCode(97 + (i % 2));
        for (const u of [uri, ...others]) void server.client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri: u, version: N + 10 + i }, contentChanges: [{ range: last, text: letter }] });
      }
      const hover2 = await server.client.sendRequest(HoverRequest.type, { textDocument: { uri: others[1]! }, position: inside(ACTION, "zendesk_token") });
      expect((hover2?.contents as MarkupContent).value).toContain("zendesk_tokeb");
      await new Promise((r) => setTimeout(r, 300));
      expect(server.publishedLog.slice(from).length).toBeLessThan(300);
    } finally {
      await server.dispose();
      project.remove();
    }
  }, 60_000);
});
