import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ApplyWorkspaceEditRequest,
  CodeActionRequest,
  CompletionRequest,
  ErrorCodes,
  ExecuteCommandRequest,
  LSPErrorCodes,
  ResponseError,
  type ClientCapabilities,
  type CodeAction,
  type Command,
  type CompletionItem,
  type Diagnostic,
} from "vscode-languageserver/node";
import { ServerCommands } from "./protocol.js";
import { makeTempProject, rangeOf, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";

const VALUE = "TEST-ONLY-value-never-shown";
const CONNECTION = "kind: api_connection\nname: hubspot\nbase_url: https://x.example\n";

describe("quick fixes through the code action handler", () => {
  let project: TempProject;
  let server: InMemoryServer;
  beforeAll(async () => {
    project = await makeTempProject(
      { development: { zendesk_token: VALUE, stripe_key: VALUE }, staging: { zendesk_token: VALUE }, production: { stripe_key: VALUE } },
      { "connections/hubspot.yaml": CONNECTION },
    );
    server = await startInMemory({ folders: [project.dir] });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  /** Opens `rel` with `text`, waits for a diagnostic of `rule`, and asks for the code actions of every diagnostic of that rule. */
  async function fixes(rel: string, text: string, rule: string): Promise<{ actions: CodeAction[]; diagnostics: Diagnostic[] }> {
    const uri = project.uri(rel);
    project.write(rel, text);
    await server.open(uri, text);
    const all = await server.waitForDiagnostics(uri, (ds) => ds.some((d) => d.code === rule));
    const diagnostics = all.filter((d) => d.code === rule);
    const actions = (await server.client.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range: diagnostics[0]!.range,
      context: { diagnostics },
    })) as CodeAction[];
    return { actions, diagnostics };
  }

  it("missing-environment-value: Set a value passes the environments to fill, not the ones already set", async () => {
    const text = `kind: action\nname: ticket\nconnection: hubspot\nmethod: POST\npath: /t\nheaders:\n  - { name: X-Api-Key, type: secret, secret: zendesk_token }\n`;
    const { actions } = await fixes("actions/ticket.yaml", text, "missing-environment-value");
    expect(actions.map((a) => [a.title, a.isPreferred, a.command?.command, a.command?.arguments])).toEqual([
      ["Set a value for zendesk_token in production", true, "stellarSecrets.setValue", ["zendesk_token", project.dir, ["production"]]],
    ]);
  });

  it("Replace keeps the quotes the name is written in: a JSON-style file stays JSON, a quoted YAML value stays quoted", async () => {
    const json = '{\n  "kind": "action",\n  "name": "quoted",\n  "method": "POST",\n  "path": "/t",\n  "headers": [{"name": "X-Api-Key", "type": "secret", "secret": "stripe_kez"}]\n}\n';
    const a = await fixes("actions/quoted.json.yaml", json, "unknown-secret");
    const edit = a.actions.find((x) => x.title === "Replace with stripe_key")?.edit?.changes?.[project.uri("actions/quoted.json.yaml")];
    expect(edit?.map((e) => e.newText)).toEqual(['"stripe_key"']);
    // applied, the text parses as JSON again, with the right name
    const lines = json.split("\n");
    const r = edit![0]!.range;
    lines[r.start.line] = lines[r.start.line]!.slice(0, r.start.character) + edit![0]!.newText + lines[r.start.line]!.slice(r.end.character);
    expect((JSON.parse(lines.join("\n")) as { headers: { secret: string }[] }).headers[0]?.secret).toBe("stripe_key");
    const single = "kind: action\nname: single\nmethod: POST\npath: /t\nheaders:\n  - { name: X-Api-Key, type: secret, secret: 'stripe_kez' }\n";
    const b = await fixes("actions/single.yaml", single, "unknown-secret");
    expect(b.actions.find((x) => x.title === "Replace with stripe_key")?.edit?.changes?.[project.uri("actions/single.yaml")]?.map((e) => e.newText)).toEqual(["'stripe_key'"]);
    // a plain name and a block scalar are replaced by the plain name
    const block = "kind: action\nname: block\nmethod: POST\npath: /t\nheaders:\n  - name: X-Api-Key\n    type: secret\n    secret: >-\n      stripe_kez\n";
    const c = await fixes("actions/block.yaml", block, "unknown-secret");
    expect(c.actions.find((x) => x.title === "Replace with stripe_key")?.edit?.changes?.[project.uri("actions/block.yaml")]?.map((e) => e.newText)).toEqual(["stripe_key"]);
  });

  it("unknown-secret one edit away: Replace (preferred) only; Add secret is not offered next to the close match", async () => {
    const text = `kind: action\nname: close\nconnection: hubspot\nmethod: POST\npath: /t\nheaders:\n  - { name: X-Api-Key, type: secret, secret: stripe_kez }\n`;
    const { actions } = await fixes("actions/close.yaml", text, "unknown-secret");
    expect(actions.map((a) => [a.title, a.isPreferred ?? false])).toEqual([["Replace with stripe_key", true]]);
    expect(actions[0]!.edit?.changes?.[project.uri("actions/close.yaml")]).toEqual([{ range: rangeOf(text, "stripe_kez"), newText: "stripe_key" }]);
  });

  it("unknown-secret at an alias (`- *h`): no Replace there (it would write the name over the alias: a plain value); the anchored mapping's own diagnostic has it", async () => {
    const text = `kind: api_connection\nname: aliased\nbase_url: https://x.example\nheaders:\n  - &h { name: X-Api-Key, type: secret, secret: stripe_kez }\n  - *h\n`;
    const uri = project.uri("connections/aliased.yaml");
    project.write("connections/aliased.yaml", text);
    await server.open(uri, text);
    const all = await server.waitForDiagnostics(uri, (ds) => ds.filter((d) => d.code === "unknown-secret").length === 2);
    const [anchored, alias] = all.filter((d) => d.code === "unknown-secret");
    expect([anchored!.range, alias!.range]).toEqual([rangeOf(text, "stripe_kez"), rangeOf(text, "*h")]);
    const ask = async (d: Diagnostic) =>
      ((await server.client.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } })) as CodeAction[]).map((a) => a.title);
    expect(await ask(anchored!)).toEqual(["Replace with stripe_key"]);
    expect(await ask(alias!)).toEqual([]);
    await server.close(uri);
  });

  it("unknown-secret further away: Replace first and preferred, then Add secret", async () => {
    const text = `kind: action\nname: far\nconnection: hubspot\nmethod: POST\npath: /t\nheaders:\n  - { name: X-Api-Key, type: secret, secret: zendesk_tokn_x }\n`;
    const { actions } = await fixes("actions/far.yaml", text, "unknown-secret");
    expect(actions.map((a) => [a.title, a.isPreferred ?? false, a.command?.arguments])).toEqual([
      ["Replace with zendesk_token", true, undefined],
      ["Add secret zendesk_tokn_x", false, ["zendesk_tokn_x", project.dir]],
    ]);
  });

  it("unknown-reference: Replace with the nearest connection name", async () => {
    const text = `kind: action\nname: ref\nconnection: hubspto\nmethod: POST\npath: /t\n`;
    const { actions } = await fixes("actions/ref.yaml", text, "unknown-reference");
    expect(actions.map((a) => a.title)).toEqual(["Replace with hubspot"]);
    expect(actions[0]!.edit?.changes?.[project.uri("actions/ref.yaml")]).toEqual([{ range: rangeOf(text, "hubspto"), newText: "hubspot" }]);
  });

  it("unknown-environment: Replace with the declared environment", async () => {
    const text = `kind: agent\nname: helper\nenvironments: [development, prodution]\n`;
    const { actions } = await fixes("agents/helper.yaml", text, "unknown-environment");
    expect(actions.map((a) => a.title)).toEqual(["Replace with production"]);
    expect(actions[0]!.edit?.changes?.[project.uri("agents/helper.yaml")]).toEqual([{ range: rangeOf(text, "prodution"), newText: "production" }]);
  });

  it("unknown-environment on an undeclared environment's file: shown over its first line, and no Replace (the fix is the file's name, not its text)", async () => {
    const text = project.read("secrets/production.enc.yaml");
    const { actions, diagnostics } = await fixes("secrets/productoin.enc.yaml", text, "unknown-environment");
    const first = text.split("\n")[0]!;
    expect(diagnostics.map((d) => d.range)).toEqual([{ start: { line: 0, character: 0 }, end: { line: 0, character: first.length } }]);
    expect((diagnostics[0]!.data as { suggestion?: string }).suggestion).toBe("production");
    expect(actions.filter((a) => a.title.startsWith("Replace"))).toEqual([]);
    await server.close(project.uri("secrets/productoin.enc.yaml"));
    rmSync(project.path("secrets/productoin.enc.yaml"));
  });

  it("schema enum value: Replace with the allowed value", async () => {
    const text = `kind: action\nname: enum\nconnection: hubspot\nmethod: PSOT\npath: /t\n`;
    const { actions, diagnostics } = await fixes("actions/enum.yaml", text, "schema");
    expect(diagnostics[0]!.range).toEqual(rangeOf(text, "PSOT"));
    expect(actions.map((a) => [a.title, a.isPreferred])).toEqual([["Replace with POST", true]]);
  });

  it("schema unknown field: Replace the key with the field it is closest to", async () => {
    const text = `kind: action\nname: field\nconnection: hubspot\nmethod: POST\npath: /t\ndescripton: creates a ticket\n`;
    const { actions } = await fixes("actions/field.yaml", text, "schema");
    expect(actions.map((a) => a.title)).toEqual(["Replace with description"]);
    expect(actions[0]!.edit?.changes?.[project.uri("actions/field.yaml")]).toEqual([{ range: rangeOf(text, "descripton"), newText: "description" }]);
  });

  it("plaintext-credential in a static header: Move to a secret… with the place only, never the value", async () => {
    const secret = "sk_live_" + "51HqLyjWDarjtT1zdp7dcTEST0NLY00";
    const text = `kind: action\nname: plain\nconnection: hubspot\nmethod: POST\npath: /t\nheaders:\n  - { name: Authorization, type: static, value: "${secret}" }\n`;
    const { actions, diagnostics } = await fixes("actions/plain.yaml", text, "plaintext-credential");
    expect(actions.map((a) => [a.title, a.command?.command])).toEqual([["Move to a secret…", "stellarSecrets.moveToSecret"]]);
    expect(actions[0]!.command?.arguments).toEqual([{ uri: project.uri("actions/plain.yaml"), range: diagnostics[0]!.range, root: project.dir, name: "plain_authorization" }]);
    expect(JSON.stringify(actions)).not.toContain(secret);
  });

  it("plaintext-credential in a connector field: Move to a secret… carries the finding's proposed name, free in the project, to pre-fill", async () => {
    const secret = "sk_live_" + "51HqLyjWDarjtT1zdp7dcTEST0NLY00";
    // zendesk + token makes zendesk_token, which the project has: the proposal is the first free one
    const text = `kind: auth_connector\nname: zendesk\ntype: bearer\ntoken: ${secret}\n`;
    const { actions, diagnostics } = await fixes("connectors/zendesk.yaml", text, "plaintext-credential");
    expect((diagnostics[0]!.data as { suggestion?: string } | undefined)?.suggestion).toBe("zendesk_token_2");
    expect(actions.map((a) => [a.title, a.command?.command])).toEqual([["Move to a secret…", "stellarSecrets.moveToSecret"]]);
    expect(actions[0]!.command?.arguments).toEqual([{ uri: project.uri("connectors/zendesk.yaml"), range: diagnostics[0]!.range, root: project.dir, name: "zendesk_token_2" }]);
    expect(JSON.stringify(actions)).not.toContain(secret);
  });

  it("plaintext-credential pasted into a secret field: Move to a secret…, never the value", async () => {
    const secret = "sk_live_" + "51HqLyjWDarjtT1zdp7dcTEST0NLY00";
    const text = `kind: action\nname: pasted\nconnection: hubspot\nmethod: POST\npath: /t\nheaders:\n  - { name: Authorization, type: secret, secret: ${secret} }\n`;
    const { actions, diagnostics } = await fixes("actions/pasted.yaml", text, "plaintext-credential");
    expect(diagnostics[0]!.range).toEqual(rangeOf(text, secret));
    expect(actions.map((a) => [a.title, a.command?.command])).toEqual([["Move to a secret…", "stellarSecrets.moveToSecret"]]);
    expect(JSON.stringify(actions)).not.toContain(secret);
  });

  it("plaintext-credential in a description: no Move to a secret (a description is not a secret field)", async () => {
    const secret = "sk_live_" + "51HqLyjWDarjtT1zdp7dcTEST0NLY00";
    const text = `kind: action\nname: prose\nconnection: hubspot\nmethod: POST\npath: /t\ndescription: uses ${secret}\n`;
    const { actions } = await fixes("actions/prose.yaml", text, "plaintext-credential");
    expect(actions).toEqual([]);
  });

  it("a client that does not keep a diagnostic's data (no publishDiagnostics.dataSupport) still gets the quick fixes", async () => {
    const text = `kind: action\nname: nodata\nconnection: hubspot\nmethod: POST\npath: /t\nheaders:\n  - { name: X-Api-Key, type: secret, secret: zendesk_tokn_x }\n`;
    const { actions: withData, diagnostics } = await fixes("actions/nodata.yaml", text, "unknown-secret");
    const stripped = diagnostics.map(({ data: _data, ...rest }) => rest);
    const actions = (await server.client.sendRequest(CodeActionRequest.type, {
      textDocument: { uri: project.uri("actions/nodata.yaml") },
      range: stripped[0]!.range,
      context: { diagnostics: stripped },
    })) as CodeAction[];
    expect(actions.map((a) => a.title)).toEqual(["Replace with zendesk_token", "Add secret zendesk_tokn_x"]);
    expect(actions.map((a) => [a.edit, a.command])).toEqual(withData.map((a) => [a.edit, a.command]));
  });
});

describe("missing-secrets-dir: Replace with the folder that holds the environment files", () => {
  let project: TempProject;
  let server: InMemoryServer;
  beforeAll(async () => {
    project = await makeTempProject({ development: { zendesk_token: VALUE } });
    project.write("stellar.yaml", project.read("stellar.yaml").replace(/^version: 1\n/, "version: 1\nsecrets_dir: secrest\n"));
    server = await startInMemory({ folders: [project.dir] });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  it("offers the folder beside it that holds *.enc.yaml files, as an edit of the secrets_dir value", async () => {
    const uri = project.uri("stellar.yaml");
    const text = project.read("stellar.yaml");
    await server.open(uri, text);
    const all = await server.waitForDiagnostics(uri, (ds) => ds.some((d) => d.code === "missing-secrets-dir"));
    const diagnostics = all.filter((d) => d.code === "missing-secrets-dir");
    expect(diagnostics[0]!.range).toEqual(rangeOf(text, "secrest"));
    const actions = (await server.client.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: diagnostics[0]!.range, context: { diagnostics } })) as CodeAction[];
    expect(actions.map((a) => [a.title, a.isPreferred])).toEqual([["Replace with secrets", true]]);
    expect(actions[0]!.edit?.changes?.[uri]).toEqual([{ range: rangeOf(text, "secrest"), newText: "secrets" }]);
  });
});

describe("a client that does not run the extension's commands (no initializationOptions.clientCommands)", () => {
  it("gets the quick fixes that are edits, never one that names a command it would send back to the server", async () => {
    const project = await makeTempProject({ development: { zendesk_token: VALUE } }, { "connections/hubspot.yaml": CONNECTION });
    const server = await startInMemory({ folders: [project.dir], initializationOptions: {} });
    try {
      const rel = "actions/far.yaml";
      const uri = project.uri(rel);
      const text = `kind: action\nname: far\nconnection: hubspot\nmethod: POST\npath: /t\nheaders:\n  - { name: X-Api-Key, type: secret, secret: zendesk_tokn_x }\n`;
      project.write(rel, text);
      await server.open(uri, text);
      const diagnostics = (await server.waitForDiagnostics(uri, (ds) => ds.some((d) => d.code === "unknown-secret"))).filter((d) => d.code === "unknown-secret");
      const actions = (await server.client.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: diagnostics[0]!.range, context: { diagnostics } })) as CodeAction[];
      // the VS Code extension also gets "Add secret zendesk_tokn_x" (above); this client only the edit
      expect(actions.map((a) => [a.title, a.command])).toEqual([["Replace with zendesk_token", undefined]]);
      const items = (await server.client.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: 1, character: 0 } })) as CompletionItem[] | null;
      expect((items ?? []).filter((i) => i.command !== undefined)).toEqual([]);
    } finally {
      await server.dispose();
      project.remove();
    }
  });
});

describe("stellarSecrets/indexChanged", () => {
  it("goes only to a client that asked for it (initializationOptions.indexChanged)", async () => {
    const project = await makeTempProject({ development: { zendesk_token: VALUE } }, { "connections/hubspot.yaml": CONNECTION });
    const plain = await startInMemory({ folders: [project.dir], initializationOptions: {} });
    const asking = await startInMemory({ folders: [project.dir] });
    try {
      // the initial index changed every project: the client that asked hears of it, the other one not
      await asking.waitFor(() => asking.notifications.some((n) => n.method === "stellarSecrets/indexChanged"), "indexChanged to the client that asked");
      expect(plain.notifications.filter((n) => n.method === "stellarSecrets/indexChanged")).toEqual([]);
    } finally {
      await plain.dispose();
      await asking.dispose();
      project.remove();
    }
  });
});

describe("a client without codeActionLiteralSupport (it takes Command objects only, LSP 3.17)", () => {
  const TYPO_ACTION = `kind: action\nname: far\nconnection: hubspot\nmethod: POST\npath: /t\nheaders:\n  - { name: X-Api-Key, type: secret, secret: zendesk_tokn_x }\n`;
  /** Starts a server for a client announcing `capabilities`, opens the typo, returns its unknown-secret diagnostics and code actions. */
  async function withClient(capabilities: ClientCapabilities, run: (server: InMemoryServer, uri: string, actions: unknown[]) => Promise<void>): Promise<void> {
    const project = await makeTempProject({ development: { zendesk_token: VALUE } }, { "connections/hubspot.yaml": CONNECTION, "actions/far.yaml": TYPO_ACTION });
    const server = await startInMemory({ folders: [project.dir], initializationOptions: {}, capabilities });
    try {
      const uri = project.uri("actions/far.yaml");
      await server.open(uri, TYPO_ACTION);
      const diagnostics = (await server.waitForDiagnostics(uri, (ds) => ds.some((d) => d.code === "unknown-secret"))).filter((d) => d.code === "unknown-secret");
      const actions = (await server.client.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: diagnostics[0]!.range, context: { diagnostics } })) as unknown[];
      await run(server, uri, actions);
    } finally {
      await server.dispose();
      project.remove();
    }
  }

  it("is told codeActionProvider: true (no CodeActionOptions) and gets each edit as a Command of the server, which applies it through workspace/applyEdit", async () => {
    await withClient({ workspace: { applyEdit: true } }, async (server, uri, actions) => {
      expect(server.capabilities.codeActionProvider).toBe(true);
      expect(server.capabilities.executeCommandProvider).toEqual({ commands: [ServerCommands.applyEdit] });
      const edit = { changes: { [uri]: [{ range: rangeOf(TYPO_ACTION, "zendesk_tokn_x"), newText: "zendesk_token" }] } };
      expect(actions).toEqual([{ title: "Replace with zendesk_token", command: ServerCommands.applyEdit, arguments: [edit] }]);
      const command = actions[0] as Command;
      expect(await server.client.sendRequest(ExecuteCommandRequest.type, { command: command.command, arguments: command.arguments })).toBeNull();
      expect(server.appliedEdits).toEqual([{ edit }]);
    });
  });

  it("without workspace.applyEdit: no command to run and no code action (it could apply neither)", async () => {
    await withClient({}, async (server, _uri, actions) => {
      expect(server.capabilities.codeActionProvider).toBe(true);
      expect(server.capabilities.executeCommandProvider).toBeUndefined();
      expect(actions).toEqual([]);
    });
  });

  it("a client with literal support is told the code action kinds and gets CodeAction literals, and no command of the server", async () => {
    await withClient({ workspace: { applyEdit: true }, textDocument: { codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ["quickfix"] } } } } }, async (server, _uri, actions) => {
      expect(server.capabilities.codeActionProvider).toEqual({ codeActionKinds: ["quickfix"] });
      expect(server.capabilities.executeCommandProvider).toBeUndefined();
      expect((actions as CodeAction[]).map((a) => [a.title, a.kind, a.edit !== undefined])).toEqual([["Replace with zendesk_token", "quickfix", true]]);
    });
  });

  it("a request for other kinds only (context.only, e.g. source.organizeImports on save) gets no quick fix: a Command has no kind the client could filter by", async () => {
    await withClient({ workspace: { applyEdit: true } }, async (server, uri) => {
      const diagnostics = (server.published.get(uri) ?? []).filter((d) => d.code === "unknown-secret");
      const ask = (only: string[]) => server.client.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: diagnostics[0]!.range, context: { diagnostics, only } });
      expect(await ask(["source.organizeImports"])).toEqual([]);
      expect(await ask(["refactor"])).toEqual([]);
      expect(((await ask(["quickfix"])) as Command[]).map((c) => c.title)).toEqual(["Replace with zendesk_token"]);
      expect(((await ask([""])) as Command[]).map((c) => c.title)).toEqual(["Replace with zendesk_token"]);
    });
  });

  it("workspace/executeCommand of a command the server does not have, or with arguments that are no edit: InvalidParams", async () => {
    await withClient({ workspace: { applyEdit: true } }, async (server) => {
      await expect(server.client.sendRequest(ExecuteCommandRequest.type, { command: "stellarSecrets.addSecret", arguments: [] })).rejects.toMatchObject({ code: ErrorCodes.InvalidParams });
      await expect(server.client.sendRequest(ExecuteCommandRequest.type, { command: ServerCommands.applyEdit, arguments: ["x"] })).rejects.toMatchObject({ code: ErrorCodes.InvalidParams });
      // the shape of an edit, but not an edit: before, it was sent on to the client as workspace/applyEdit
      const uri = "file:///x.yaml";
      const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } };
      for (const edit of [
        { changes: { [uri]: [{ range: 5 }] } },
        { changes: { [uri]: [{ range, newText: 5 }] } },
        { changes: { [uri]: { range, newText: "a" } } },
        { changes: { [uri]: [{ range: { start: { line: -1, character: 0 }, end: range.end }, newText: "a" }] } },
        { documentChanges: [{ kind: "delete", uri }] },
        { documentChanges: [{ textDocument: { uri }, edits: [{ range, newText: "a" }] }] },
      ])
        await expect(server.client.sendRequest(ExecuteCommandRequest.type, { command: ServerCommands.applyEdit, arguments: [edit] }), JSON.stringify(edit)).rejects.toMatchObject({ code: ErrorCodes.InvalidParams });
      expect(server.appliedEdits).toEqual([]);
      // a whole text document edit is applied
      const whole = { documentChanges: [{ textDocument: { uri, version: null }, edits: [{ range, newText: "a" }] }] };
      expect(await server.client.sendRequest(ExecuteCommandRequest.type, { command: ServerCommands.applyEdit, arguments: [whole] })).toBeNull();
      expect(server.appliedEdits).toEqual([{ edit: whole }]);
    });
  });

  it("workspace/executeCommand whose edit the client refuses (its workspace/applyEdit fails): RequestFailed naming workspace/applyEdit, not the client's own error code", async () => {
    await withClient({ workspace: { applyEdit: true } }, async (server, _uri, actions) => {
      server.client.onRequest(ApplyWorkspaceEditRequest.type, () => {
        throw new ResponseError(ErrorCodes.MethodNotFound, "Unhandled method workspace/applyEdit");
      });
      const command = actions[0] as Command;
      const refused = server.client.sendRequest(ExecuteCommandRequest.type, { command: command.command, arguments: command.arguments });
      await expect(refused).rejects.toMatchObject({ code: LSPErrorCodes.RequestFailed });
      await expect(refused).rejects.toThrow(/the client did not take workspace\/applyEdit \(Unhandled method workspace\/applyEdit\)/);
    });
  });
});

describe("quick fixes for a typo one edit away from two names (qa s23)", () => {
  let project: TempProject;
  let server: InMemoryServer;
  beforeAll(async () => {
    project = await makeTempProject({ development: { dhl_api_key: VALUE, dhl_app_key: VALUE }, staging: { dhl_api_key: VALUE, dhl_app_key: VALUE }, production: { dhl_api_key: VALUE, dhl_app_key: VALUE } }, {});
    server = await startInMemory({ folders: [project.dir] });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  it("offers a Replace for each name, none preferred (an editor applies a preferred fix on its own), and no Add secret", async () => {
    const rel = "connections/dhl.yaml";
    const text = "kind: api_connection\nname: dhl\nbase_url: https://api-eu.dhl.com\nheaders:\n  - { name: DHL-API-Key, type: secret, secret: dhl_ap_key }\n";
    const uri = project.uri(rel);
    project.write(rel, text);
    await server.open(uri, text);
    const diagnostics = (await server.waitForDiagnostics(uri, (ds) => ds.some((d) => d.code === "unknown-secret"))).filter((d) => d.code === "unknown-secret");
    const actions = (await server.client.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: diagnostics[0]!.range, context: { diagnostics } })) as CodeAction[];
    expect(actions.map((a) => [a.title, a.isPreferred ?? false, a.edit?.changes?.[uri]?.[0]?.newText])).toEqual([
      ["Replace with dhl_api_key", false, "dhl_api_key"],
      ["Replace with dhl_app_key", false, "dhl_app_key"],
    ]);
    expect(actions[0]?.edit?.changes?.[uri]?.[0]?.range).toEqual(rangeOf(text, "dhl_ap_key"));
  });
});

describe("quick fixes where the finding points at a misspelt reference (qa s24, planted-clinic)", () => {
  let project: TempProject;
  let server: InMemoryServer;
  const connection = "kind: api_connection\nname: epic\nbase_url: https://fhir.example\nheaders:\n  - { name: Epic-Tenant, type: secret, secret: epic_tenant_kye }\n";
  const catalog = "secrets:\n  stripe_secret_key: { owner: billing }\n  stripe_secret_kye: { owner: billing }\n";
  beforeAll(async () => {
    project = await makeTempProject(
      { development: { epic_tenant_key: VALUE, stripe_secret_key: VALUE, legacy_fax_key: VALUE }, staging: { epic_tenant_key: VALUE, stripe_secret_key: VALUE }, production: { epic_tenant_key: VALUE, stripe_secret_key: VALUE } },
      { "connections/epic.yaml": connection, "connections/stripe.yaml": "kind: api_connection\nname: stripe\nbase_url: https://api.stripe.com\nheaders:\n  - { name: Authorization, type: secret, secret: stripe_secret_key }\n", "secrets/catalog.yaml": catalog },
    );
    server = await startInMemory({ folders: [project.dir] });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  async function actionsOf(rel: string, rule: string, secret: string): Promise<CodeAction[]> {
    const uri = project.uri(rel);
    const text = project.read(rel);
    await server.open(uri, text);
    const all = await server.waitForDiagnostics(uri, (ds) => ds.some((d) => d.code === rule && (d.data as { secret?: string } | undefined)?.secret === secret));
    const diagnostics = all.filter((d) => d.code === rule && (d.data as { secret?: string } | undefined)?.secret === secret);
    return (await server.client.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: diagnostics[0]!.range, context: { diagnostics } })) as CodeAction[];
  }

  it("unused-secret whose finding says a reference misspells it: no Delete secret (deleting it breaks the reference the finding says to correct)", async () => {
    expect((await actionsOf("secrets/development.enc.yaml", "unused-secret", "epic_tenant_key")).map((a) => a.title)).toEqual([]);
  });

  it("unused-secret with nothing pointing at it: Delete secret, as before", async () => {
    expect((await actionsOf("secrets/development.enc.yaml", "unused-secret", "legacy_fax_key")).map((a) => a.title)).toEqual(["Delete secret legacy_fax_key"]);
  });

  it("a catalog entry one edit from a secret that has its own entry: no Add secret (it would create the typo)", async () => {
    expect((await actionsOf("secrets/catalog.yaml", "unknown-secret", "stripe_secret_kye")).map((a) => a.title)).toEqual([]);
  });
});
