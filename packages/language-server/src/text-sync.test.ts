import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import {
  CompletionRequest,
  DefinitionRequest,
  DidChangeTextDocumentNotification,
  DidChangeWatchedFilesNotification,
  DocumentSymbolRequest,
  FileChangeType,
  HoverRequest,
  PrepareRenameRequest,
  ReferencesRequest,
  type CompletionItem,
  type Location,
  type MarkupContent,
  type Range,
  type SymbolInformation,
} from "vscode-languageserver/node";
import { createTicketAction } from "./test-support/fixtures.js";
import { makeTempProject, rangeOf, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";

/** An action whose header names `secret` after emoji, CJK and a combining mark on the same line (CRLF line ends). */
const action = (secret: string): string =>
  ["kind: action", "name: create_ticket", "method: POST", "path: /tickets", "headers:", `  - { name: "😀漢字e\u0301", type: secret, secret: ${secret} }`, ""].join("\r\n");

/** The range of `needle` on line 5 of {@link action}, in UTF-16 code units (what JavaScript's indexes count). */
function utf16Range(text: string, needle: string): Range {
  const line = text.split("\r\n")[5]!;
  const start = line.indexOf(needle);
  return { start: { line: 5, character: start }, end: { line: 5, character: start + needle.length } };
}

describe("text synchronisation as any client may send it", () => {
  let project: TempProject;
  let server: InMemoryServer;
  let version = 1;
  beforeAll(async () => {
    project = await makeTempProject({ development: { zendesk_token: "TEST-ONLY-not-a-real-value" } });
    // a client that offers only UTF-8 positions (the server must say which encoding it uses)
    server = await startInMemory({ folders: [project.dir], capabilities: { general: { positionEncodings: ["utf-8"] } } });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  const edit = (uri: string, contentChanges: ({ range: Range; text: string } | { text: string })[]) =>
    server.client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: ++version }, contentChanges });
  const unknownSecret = (uri: string) => server.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "unknown-secret")).then((d) => d.find((x) => x.code === "unknown-secret")!);

  it("answers an offer of UTF-8 only with UTF-16, the encoding it uses", () => {
    expect(server.capabilities.positionEncoding).toBe("utf-16");
  });

  it("ranges after emoji, CJK and combining marks, on CRLF lines, count UTF-16 code units; incremental edits at such positions land", async () => {
    const uri = project.uri("actions/create_ticket.yaml");
    const typo = action("zendesk_tokn");
    await server.open(uri, typo);
    expect((await unknownSecret(uri)).range).toEqual(utf16Range(typo, "zendesk_tokn"));
    // insert the missing "e" before the last "n" (a UTF-16 position after the emoji)
    const at = utf16Range(typo, "zendesk_tokn").end.character - 1;
    await edit(uri, [{ range: { start: { line: 5, character: at }, end: { line: 5, character: at } }, text: "e" }]);
    await server.waitForDiagnostics(uri, (d) => !d.some((x) => x.code === "unknown-secret"));
    const hover = await server.client.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 5, character: at } });
    expect((hover?.contents as MarkupContent).value).toContain("**zendesk_token**");
    await server.close(uri);
  });

  it("every feature's ranges on that line count UTF-16 too: completion, definition, references, symbols, rename refusal", async () => {
    const uri = project.uri("actions/every.yaml");
    const typo = action("zendesk_tokn");
    await server.open(uri, typo);
    const diagnostic = await unknownSecret(uri);
    const range = utf16Range(typo, "zendesk_tokn");
    expect(diagnostic.range).toEqual(range);
    const items = (await server.client.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: range.end })) as CompletionItem[];
    expect(items.map((i) => [i.label, i.textEdit])).toEqual([["zendesk_token", { range, newText: "zendesk_token" }]]);
    // several ranged changes in one notification, applied in order: the fix, then a line appended
    const fixed = action("zendesk_token");
    await edit(uri, [
      { range, text: "zendesk_token" },
      { range: { start: { line: 6, character: 0 }, end: { line: 6, character: 0 } }, text: "# 😀 end\r\n" },
    ]);
    await server.waitFor(() => server.state.documents.get(uri)?.getText() === fixed + "# 😀 end\r\n", "both changes");
    await server.waitForDiagnostics(uri, (d) => !d.some((x) => x.code === "unknown-secret"));
    const at = utf16Range(fixed, "zendesk_token");
    const defs = (await server.client.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position: at.start })) as Location[];
    expect(defs.map((l) => l.uri)).toEqual([project.uri("secrets/development.enc.yaml")]);
    const refs = (await server.client.sendRequest(ReferencesRequest.type, { textDocument: { uri }, position: at.start, context: { includeDeclaration: false } })) ?? [];
    expect(refs.filter((l) => l.uri === uri).map((l) => l.range)).toEqual([at]);
    const symbols = (await server.client.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } })) as SymbolInformation[];
    expect(symbols.find((x) => x.name === "zendesk_token")?.location.range).toEqual(at);
    await expect(server.client.sendRequest(PrepareRenameRequest.type, { textDocument: { uri }, position: at.start })).rejects.toMatchObject({ message: expect.stringContaining('"zendesk_token" cannot be renamed') });
    await server.close(uri);
  });

  it("a position past the end of a CRLF line is the line's end (LSP 3.17 Position), as on an LF line: completion and hover answer there too", async () => {
    const lines = ["kind: action", "name: crlf_end", "method: POST", "path: /t", "headers:", "  - name: X-Key", "    type: secret", "    secret: zendesk_tok"];
    const end = { line: 7, character: lines[7]!.length };
    for (const [i, eol] of ["\r\n", "\n"].entries()) {
      const uri = project.uri(`actions/line_end_${i}.yaml`);
      await server.open(uri, lines.join(eol) + eol);
      const past = { line: 7, character: 10_000 };
      const items = async (position: typeof end) => ((await server.client.sendRequest(CompletionRequest.type, { textDocument: { uri }, position })) as CompletionItem[]).map((x) => x.label);
      expect([eol, await items(past)]).toEqual([eol, await items(end)]);
      expect(await items(end)).toContain("zendesk_token");
      const hoverAt = async (position: typeof end) => ((await server.client.sendRequest(HoverRequest.type, { textDocument: { uri }, position }))?.contents as MarkupContent | undefined)?.value;
      expect([eol, await hoverAt(past)]).toEqual([eol, await hoverAt(end)]);
      await server.close(uri);
    }
  });

  it("a didChange without a version (or with null) is taken, and the incremental change after it lands on its text", async () => {
    const uri = project.uri("actions/no-version.yaml");
    const text = action("zendesk_token");
    await server.open(uri, text);
    const at = utf16Range(text, "zendesk_token");
    const send = (version: unknown, character: number, letter: string) =>
      server.client.sendNotification(DidChangeTextDocumentNotification.type.method, { textDocument: { uri, ...(version === undefined ? {} : { version }) }, contentChanges: [{ range: { start: { line: 5, character }, end: { line: 5, character } }, text: letter }] });
    // zendesk_token → zendesk_tokenx (no version) → zendesk_tokenxy (null) → zendesk_tokenxyz (a version)
    await send(undefined, at.end.character, "x");
    await send(null, at.end.character + 1, "y");
    await send(++version, at.end.character + 2, "z");
    const d = await unknownSecret(uri);
    expect(d.range).toEqual(utf16Range(action("zendesk_tokenxyz"), "zendesk_tokenxyz"));
    const hover = await server.client.sendRequest(HoverRequest.type, { textDocument: { uri }, position: at.start });
    expect((hover?.contents as MarkupContent).value).toContain("zendesk_tokenxyz");
    await server.close(uri);
  });

  it("a full-document change (no range) replaces the text although the server announced incremental sync", async () => {
    const uri = project.uri("actions/full.yaml");
    await server.open(uri, action("zendesk_token"));
    await edit(uri, [{ text: action("zendesk_tokn") }]);
    expect((await unknownSecret(uri)).range).toEqual(utf16Range(action("zendesk_tokn"), "zendesk_tokn"));
    await server.close(uri);
  });

  it("edits whose range runs past the end of a line or of the document are clamped, and the server keeps answering", async () => {
    const uri = project.uri("actions/past.yaml");
    const text = action("zendesk_token");
    await server.open(uri, text);
    const start = utf16Range(text, "zendesk_token").start;
    // past the end of the line: replaces the rest of the line (its CRLF stays)
    await edit(uri, [{ range: { start, end: { line: 5, character: 10_000 } }, text: "zendesk_tokn }" }]);
    const typo = action("zendesk_tokn");
    expect((await unknownSecret(uri)).range).toEqual(utf16Range(typo, "zendesk_tokn"));
    // past the end of the document: appended at the end
    await edit(uri, [{ range: { start: { line: 400, character: 3 }, end: { line: 500, character: 0 } }, text: "# tail\r\n" }]);
    await server.waitFor(() => server.state.documents.get(uri)?.getText() === typo + "# tail\r\n", "the appended text");
    const hover = await server.client.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 5, character: start.character + 2 } });
    expect((hover?.contents as MarkupContent).value).toContain("**zendesk_tokn**");
    await server.close(uri);
  });

  it("publishes an open document's diagnostics under the URI the client opened it with (percent-encoded otherwise than node would), and the disk's under node's once closed", async () => {
    const canonical = project.uri("actions/odd_name.yaml");
    // "_" percent-encoded, and the lower-case hex some clients write: the same file
    const uri = canonical.replace("odd_name", "odd%5fname");
    expect(uri).not.toBe(canonical);
    project.write("actions/odd_name.yaml", createTicketAction("zendesk_tok"));
    await server.open(uri, createTicketAction("zendesk_tokn"));
    expect((await unknownSecret(uri)).range).toEqual(rangeOf(createTicketAction("zendesk_tokn"), "zendesk_tokn"));
    expect(server.published.get(canonical) ?? []).toEqual([]);
    // closed: the disk text's diagnostics under node's URI, and the client's URI cleared
    await server.close(uri);
    expect((await unknownSecret(canonical)).range).toEqual(rangeOf(createTicketAction("zendesk_tok"), "zendesk_tok"));
    await server.waitForDiagnostics(uri, (d) => d.length === 0);
  });

  it("moves a file's diagnostics to the URI the client opens it with even when its text is the disk's (nothing to re-check), and back to node's when it is closed", async () => {
    const text = createTicketAction("zendesk_tokx");
    const canonical = project.uri("actions/same_text.yaml");
    project.write("actions/same_text.yaml", text);
    await server.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: canonical, type: FileChangeType.Created }] });
    // the disk's diagnostics went out under node's URI before the client opened the file
    await unknownSecret(canonical);
    const uri = canonical.replace("same_text", "same%5Ftext");
    await server.open(uri, text);
    expect((await unknownSecret(uri)).range).toEqual(rangeOf(text, "zendesk_tokx"));
    await server.waitForDiagnostics(canonical, (d) => d.length === 0);
    await server.close(uri);
    await unknownSecret(canonical);
    await server.waitForDiagnostics(uri, (d) => d.length === 0);
  });

  it("a file open under two URIs (a symbolic link, another percent-encoding) keeps its buffer's text when one of them is closed", async () => {
    const canonical = project.uri("actions/two_uris.yaml");
    const other = canonical.replace("two_uris", "two%5Furis");
    const disk = createTicketAction("zendesk_tok");
    project.write("actions/two_uris.yaml", disk);
    const edited = createTicketAction("zendesk_tokn");
    await server.open(canonical, edited);
    await server.open(other, edited);
    await unknownSecret(other);
    await server.close(other);
    // the document still open under the other URI: its text, not the disk's
    await unknownSecret(canonical);
    await new Promise((r) => setTimeout(r, 300)); // (a close that fell back to the disk reads it meanwhile)
    const hover = await server.client.sendRequest(HoverRequest.type, { textDocument: { uri: canonical }, position: rangeOf(edited, "zendesk_tokn").start });
    expect((hover?.contents as MarkupContent | undefined)?.value).toContain("**zendesk_tokn**");
    expect((server.published.get(canonical) ?? []).find((d) => d.code === "unknown-secret")?.range).toEqual(rangeOf(edited, "zendesk_tokn"));
    // both closed: the disk's text
    await server.close(canonical);
    await server.waitForDiagnostics(canonical, (d) => d.some((x) => x.code === "unknown-secret" && x.range.end.character === rangeOf(disk, "zendesk_tok").end.character));
  });

  it("definition and references name an open document by the URI the client opened it with", async () => {
    const envUri = project.uri("secrets/development.enc.yaml");
    const opened = envUri.replace("development.enc", "development%2Eenc");
    expect(opened).not.toBe(envUri);
    await server.open(opened, readFileSync(project.path("secrets/development.enc.yaml"), "utf8"));
    const uri = project.uri("actions/refs.yaml");
    const text = createTicketAction("zendesk_token");
    await server.open(uri, text);
    const at = rangeOf(text, "zendesk_token").start;
    const defs = (await server.client.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position: at })) as Location[];
    expect(defs.map((l) => l.uri)).toEqual([opened]);
    const refs = await server.client.sendRequest(ReferencesRequest.type, { textDocument: { uri }, position: at, context: { includeDeclaration: true } });
    expect((refs ?? []).map((l) => l.uri).sort()).toEqual([opened, uri].sort());
    await server.close(uri);
    await server.close(opened);
  });

  it("documents of other schemes (untitled:, git:) and malformed file: URIs are kept off the disk and the index, and the server keeps answering", async () => {
    const text = action("zendesk_tokn");
    const uris = ["untitled:Untitled-1", `git:${project.path("actions/create_ticket.yaml")}?%7B%7D`, "file:///C%3A/Users/x/stellar.yaml", "file://", "file:relative.yaml", `${project.uri("")}/actions/%2Fetc%2Fpasswd.yaml`, "not a uri",
      // a `#` or `?` a client did not percent-encode: a fragment or a query, so no file's URI (before, the
      // rest was dropped and `a.yaml#b.yaml` was taken for the project's `a.yaml`: its buffer replaced that file's text)
      `${project.uri("actions/create_ticket.yaml")}#b.yaml`, `${project.uri("actions/create_ticket.yaml")}?b.yaml`, `${project.uri("actions/create_ticket.yaml")}#`];
    for (const uri of uris) {
      await server.open(uri, text);
      const hover = await server.client.sendRequest(HoverRequest.type, { textDocument: { uri }, position: utf16Range(text, "zendesk_tokn").start });
      expect([uri, hover]).toEqual([uri, null]);
      await server.close(uri);
    }
    expect([...server.published.keys()].filter((u) => uris.includes(u))).toEqual([]);
    const known = project.uri("actions/known.yaml");
    await server.open(known, text);
    await unknownSecret(known);
    await server.close(known);
  });
});
