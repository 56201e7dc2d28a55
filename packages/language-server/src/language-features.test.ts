import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CompletionItemKind,
  CompletionRequest,
  DefinitionRequest,
  DocumentSymbolRequest,
  HoverRequest,
  PrepareRenameRequest,
  type ClientCapabilities,
  type CompletionItem,
  type Hover,
  type Location,
  type SymbolInformation,
  SymbolKind,
} from "vscode-languageserver/node";
import { makeTempProject, rangeOf, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";
import { createTicketAction } from "./test-support/fixtures.js";

const VALUE = "TEST-ONLY-value-never-shown";
const ACTION = createTicketAction("zendesk_token");
const CATALOG = `secrets:
  zendesk_token:
    description: Zendesk API token
    owner: support-team
`;

/** Every symbol kind of LSP 3.17 (File … TypeParameter). */
const ALL_SYMBOL_KINDS = Array.from({ length: 26 }, (_, i) => (i + 1) as SymbolKind);

const positionAfter = (text: string, needle: string): { line: number; character: number } => rangeOf(text, needle).end;

describe("language features through the handlers", () => {
  let project: TempProject;
  let server: InMemoryServer;
  const uri = (): string => project.uri("actions/create_ticket.yaml");
  beforeAll(async () => {
    project = await makeTempProject(
      { development: { zendesk_token: VALUE, stripe_key: VALUE }, production: { zendesk_token: VALUE } },
      { "actions/create_ticket.yaml": ACTION, "connections/hubspot.yaml": "kind: api_connection\nname: hubspot\nbase_url: https://x.example\n", "secrets/catalog.yaml": CATALOG },
    );
    server = await startInMemory({ folders: [project.dir] });
    await server.open(uri(), ACTION);
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  it("completes secret names in a secret: field, replacing the word being typed", async () => {
    const text = ACTION.replace("secret: zendesk_token", "secret: zen");
    await server.change(uri(), text);
    const items = (await server.client.sendRequest(CompletionRequest.type, { textDocument: { uri: uri() }, position: positionAfter(text, "secret: zen") })) as CompletionItem[];
    expect(items.map((i) => i.label).sort()).toEqual(["stripe_key", "zendesk_token"]);
    const z = items.find((i) => i.label === "zendesk_token")!;
    expect(z.kind).toBe(6); // Variable
    expect(z.textEdit).toEqual({ range: rangeOf(text, "zen", "secret: "), newText: "zendesk_token" });
    expect(JSON.stringify(items)).not.toContain(VALUE);
    await server.change(uri(), ACTION);
  });

  it("hovers a reference with the environments, the catalog entry and the reference count, never a value", async () => {
    const hover = (await server.client.sendRequest(HoverRequest.type, { textDocument: { uri: uri() }, position: rangeOf(ACTION, "zendesk_token").start })) as Hover;
    expect(hover.range).toEqual(rangeOf(ACTION, "zendesk_token"));
    expect(hover.contents).toEqual({
      kind: "markdown",
      value: "**zendesk_token** (secret)\n\nValue set in: development, production\n\nZendesk API token\n\nOwner: support-team\n\n1 reference",
    });
    expect(JSON.stringify(hover)).not.toContain(VALUE);
  });

  it("hovers a reference to a name no environment file has with its own count, not 0 (qa s24, planted-clinic)", async () => {
    const text = ACTION.replace("secret: zendesk_token", "secret: zendesk_tokn");
    await server.change(uri(), text);
    const hover = (await server.client.sendRequest(HoverRequest.type, { textDocument: { uri: uri() }, position: rangeOf(text, "zendesk_tokn").start })) as Hover;
    expect((hover.contents as { value: string }).value).toBe("**zendesk_tokn** (secret)\n\nNo environment file has this name.\n\n1 reference");
    await server.change(uri(), ACTION);
  });

  it("answers null for a hover outside any name, and for a document that is not open", async () => {
    expect(await server.client.sendRequest(HoverRequest.type, { textDocument: { uri: uri() }, position: { line: 3, character: 2 } })).toBeNull();
    expect(await server.client.sendRequest(HoverRequest.type, { textDocument: { uri: project.uri("connections/hubspot.yaml") }, position: { line: 1, character: 7 } })).toBeNull();
  });

  it("goes from a reference to the key in every environment file", async () => {
    const locations = (await server.client.sendRequest(DefinitionRequest.type, { textDocument: { uri: uri() }, position: rangeOf(ACTION, "zendesk_token").start })) as Location[];
    const key = (env: string) => ({ uri: project.uri(`secrets/${env}.enc.yaml`), range: rangeOf(readFileSync(project.path(`secrets/${env}.enc.yaml`), "utf8"), "zendesk_token") });
    expect(locations).toEqual([key("development"), key("production")]);
  });

  it("refuses to rename a secret, with the steps to follow instead", async () => {
    const err = await server.client.sendRequest(PrepareRenameRequest.type, { textDocument: { uri: uri() }, position: rangeOf(ACTION, "zendesk_token").start }).then(
      () => undefined,
      (e: { code: number; message: string }) => e,
    );
    expect(err?.code).toBe(-32600);
    expect(err?.message).toMatch(/^Secret names are fixed once created, so "zendesk_token" cannot be renamed/);
  });
});

describe("a client that renders plain text only (hover.contentFormat and documentationFormat without markdown) and flat symbols", () => {
  let project: TempProject;
  let server: InMemoryServer;
  const uri = (): string => project.uri("actions/create_ticket.yaml");
  beforeAll(async () => {
    project = await makeTempProject({ development: { zendesk_token: VALUE } }, { "actions/create_ticket.yaml": ACTION, "secrets/catalog.yaml": CATALOG });
    server = await startInMemory({
      folders: [project.dir],
      capabilities: {
        textDocument: {
          hover: { contentFormat: ["plaintext"] },
          completion: { completionItem: { documentationFormat: ["plaintext"] } },
          documentSymbol: { symbolKind: { valueSet: ALL_SYMBOL_KINDS } },
        },
      },
    });
    await server.open(uri(), ACTION);
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  it("gets hovers and completion documentation as plain text, without Markdown syntax", async () => {
    const hover = (await server.client.sendRequest(HoverRequest.type, { textDocument: { uri: uri() }, position: rangeOf(ACTION, "zendesk_token").start })) as Hover;
    expect(hover.contents).toEqual({ kind: "plaintext", value: "zendesk_token (secret)\n\nValue set in: development\n\nZendesk API token\n\nOwner: support-team\n\n1 reference" });
    const text = ACTION.replace("secret: zendesk_token", "secret: zen");
    await server.change(uri(), text);
    const items = (await server.client.sendRequest(CompletionRequest.type, { textDocument: { uri: uri() }, position: positionAfter(text, "secret: zen") })) as CompletionItem[];
    const docs = items.map((i) => i.documentation).filter((d) => d !== undefined);
    expect(docs.length).toBeGreaterThan(0);
    expect(docs.every((d) => typeof d === "object" && d.kind === "plaintext")).toBe(true);
    await server.change(uri(), ACTION);
  });

  it("gets document symbols as a flat SymbolInformation list (no hierarchicalDocumentSymbolSupport), each with its container", async () => {
    const symbols = (await server.client.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: uri() } })) as SymbolInformation[];
    expect(symbols.map((x) => [x.name, x.kind, x.location, x.containerName])).toEqual([
      ["create_ticket", SymbolKind.Object, { uri: uri(), range: rangeOf(ACTION, "create_ticket") }, undefined],
      ["zendesk_token", SymbolKind.Key, { uri: uri(), range: rangeOf(ACTION, "zendesk_token") }, "create_ticket"],
    ]);
  });
});

describe("a client that announces no kinds and no prepareSupport (LSP 3.17's defaults: the first version's kinds, no RenameOptions)", () => {
  let project: TempProject;
  const uri = (): string => project.uri("actions/create_ticket.yaml");
  beforeAll(async () => {
    project = await makeTempProject({ development: { zendesk_token: VALUE } }, { "actions/create_ticket.yaml": ACTION });
  });
  afterAll(() => project.remove());

  /** The kinds of the completion at `method: P` and of the document symbols, and the rename capability, for a client announcing `textDocument`. */
  async function kinds(textDocument: ClientCapabilities["textDocument"]): Promise<{ completion: (number | undefined)[]; symbols: number[]; rename: unknown }> {
    const server = await startInMemory({ folders: [project.dir], capabilities: { textDocument } });
    try {
      const text = ACTION.replace("method: POST", "method: P");
      await server.open(uri(), text);
      const items = (await server.client.sendRequest(CompletionRequest.type, { textDocument: { uri: uri() }, position: positionAfter(text, "method: P") })) as CompletionItem[];
      expect(items.map((i) => i.label)).toContain("POST");
      const symbols = (await server.client.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: uri() } })) as SymbolInformation[];
      return { completion: [...new Set(items.map((i) => i.kind))], symbols: symbols.map((x) => x.kind), rename: server.capabilities.renameProvider };
    } finally {
      await server.dispose();
    }
  }

  it("gets only the kinds of the first version (Text … Reference, File … Array): enum values as Value, objects as Module, keys as Property; rename without prepareProvider", async () => {
    expect(await kinds({})).toEqual({ completion: [CompletionItemKind.Value], symbols: [SymbolKind.Module, SymbolKind.Property], rename: true });
  });

  it("a client that announces the kinds (and prepareSupport) gets EnumMember, Object and Key, and RenameOptions", async () => {
    const all = await kinds({
      completion: { completionItemKind: { valueSet: Array.from({ length: 25 }, (_, i) => (i + 1) as CompletionItemKind) } },
      documentSymbol: { symbolKind: { valueSet: ALL_SYMBOL_KINDS } },
      rename: { prepareSupport: true },
    });
    expect(all).toEqual({ completion: [CompletionItemKind.EnumMember], symbols: [SymbolKind.Object, SymbolKind.Key], rename: { prepareProvider: true } });
  });
});

describe("requests with parameters a hand-written client got wrong", () => {
  let project: TempProject;
  let server: InMemoryServer;
  const uri = (): string => project.uri("actions/create_ticket.yaml");
  beforeAll(async () => {
    project = await makeTempProject({ development: { zendesk_token: VALUE } }, { "actions/create_ticket.yaml": ACTION });
    server = await startInMemory({ folders: [project.dir], pull: true });
    await server.open(uri(), ACTION);
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  it("are answered with InvalidParams (-32602), not with an empty result and a failure in the log, and the server keeps answering", async () => {
    const at = rangeOf(ACTION, "zendesk_token").start;
    const bad: [string, unknown][] = [
      [HoverRequest.method, {}],
      [HoverRequest.method, { textDocument: { uri: uri() } }],
      [HoverRequest.method, { textDocument: { uri: uri() }, position: { line: -1, character: 0 } }],
      [CompletionRequest.method, { textDocument: { uri: uri() }, position: { line: "6", character: 2 } }],
      [DefinitionRequest.method, { textDocument: {}, position: at }],
      ["textDocument/references", { position: at, context: { includeDeclaration: true } }],
      [DocumentSymbolRequest.method, { textDocument: { uri: 5 } }],
      ["textDocument/codeAction", { textDocument: { uri: uri() }, range: { start: at } }],
      [PrepareRenameRequest.method, { textDocument: { uri: uri() } }],
      ["textDocument/rename", { textDocument: { uri: uri() }, newName: "x" }],
      ["textDocument/diagnostic", {}],
    ];
    for (const [method, params] of bad) {
      const code = await server.client.sendRequest(method, params).then(
        () => "answered",
        (e: { code: number }) => e.code,
      );
      expect([method, params, code]).toEqual([method, params, -32602]);
    }
    expect(server.logs.filter((l) => l.includes(" failed: "))).toEqual([]);
    // what the specification requires but a client may leave out is taken as empty: references without context, code actions without diagnostics
    const refs = (await server.client.sendRequest("textDocument/references", { textDocument: { uri: uri() }, position: at })) as Location[];
    expect(refs.map((l) => l.range)).toEqual([rangeOf(ACTION, "zendesk_token")]);
    expect(await server.client.sendRequest("textDocument/codeAction", { textDocument: { uri: uri() }, range: { start: at, end: at } })).toEqual([]);
    const hover = (await server.client.sendRequest(HoverRequest.type, { textDocument: { uri: uri() }, position: at })) as Hover;
    expect(hover.range).toEqual(rangeOf(ACTION, "zendesk_token"));
  });
});

describe("hover on an object the project does not define, that a file outside the project defines", () => {
  let project: TempProject;
  let server: InMemoryServer;
  const AGENT = "kind: agent\nname: sales\nactions: [lookup, draft_only, nowhere]\n";
  const action = (name: string) => `kind: action\nname: ${name}\nconnection: hubspot\nmethod: GET\npath: /x\n`;
  const uri = (): string => project.uri("agents/sales.yaml");
  const hoverAt = async (word: string): Promise<string> => {
    const h = (await server.client.sendRequest(HoverRequest.type, { textDocument: { uri: uri() }, position: rangeOf(AGENT, word).start })) as Hover;
    return (h.contents as { value: string }).value;
  };
  beforeAll(async () => {
    project = await makeTempProject(
      { development: { zendesk_token: "TEST-ONLY-not-a-real-value" } },
      { "connections/hubspot.yaml": "kind: api_connection\nname: hubspot\nbase_url: https://x.example\n", "agents/sales.yaml": AGENT, "drafts/lookup.yaml": action("lookup"), "actions/draft_only.yml": action("draft_only") },
    );
    project.write("stellar.yaml", project.read("stellar.yaml").replace(/^version: 1\n/, 'version: 1\nconfig:\n  include: ["**/*.yaml"]\n  exclude: ["drafts/**"]\n'));
    server = await startInMemory({ folders: [project.dir] });
    await server.open(uri(), AGENT);
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  it("says which file defines it and which glob keeps that file out, as unknown-reference does", async () => {
    expect(await hoverAt("lookup")).toBe(
      "**lookup** (action)\n\nNot defined in the project: drafts/lookup.yaml:2 defines it, but stellar.yaml's config.exclude glob \"drafts/\\*\\*\" keeps that file out of the project: " +
        "narrow the glob, or move the action into an included file.\n\n1 reference",
    );
  });

  it("says that no config.include glob matches a file that defines it (a .yml file beside the *.yaml globs)", async () => {
    expect(await hoverAt("draft_only")).toMatch(/^\*\*draft_only\*\* \(action\)\n\nNot defined in the project: actions\/draft\\_only\.yml:2 defines it, but no config\.include glob of stellar\.yaml matches that file/);
  });

  it("says only 'Not defined.' when no file defines it", async () => {
    expect(await hoverAt("nowhere")).toBe("**nowhere** (action)\n\nNot defined.\n\n1 reference");
  });
});
