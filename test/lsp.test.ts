/**
 * The language server over stdio, as Neovim or eglot would use it (push diagnostics) and as
 * VS Code does (pull diagnostics): every feature, against a real secrets repository with real
 * SOPS files.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LspClient, proto, positionOf, rangeOf, sops, type TestProject } from "./lsp-harness.js";
import { CREATE_TICKET, HUBSPOT, makeOrg, VALUES } from "./lsp-fixture.js";

const rules = (ds: { code?: string | number }[]) => ds.map((d) => d.code).sort();
const noValues = (json: unknown) => {
  const s = JSON.stringify(json);
  for (const v of Object.values(VALUES)) expect(s).not.toContain(v);
};

describe("push diagnostics (clients without pull support)", () => {
  let org: TestProject;
  let client: LspClient;
  beforeAll(async () => {
    org = await makeOrg();
    client = await LspClient.start({ folders: [org.dir] });
  });
  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    org.remove();
  });

  it("publishes unused-secret at the key in the environment file without any file open", async () => {
    const uri = org.uri("secrets/development.enc.yaml");
    const ds = await client.waitForDiagnostics(uri, (d) => d.length > 0);
    const text = readFileSync(org.path("secrets/development.enc.yaml"), "utf8");
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ code: "unused-secret", severity: 2, source: "stellar-secrets", range: rangeOf(text, "legacy_webhook_secret") });
    expect(client.capabilities?.diagnosticProvider).toBeUndefined();
  });

  it("reports an unknown reference at its exact range, with the nearest name as a quick fix", async () => {
    const uri = org.uri("connections/hubspot.yaml");
    await client.open(uri, HUBSPOT);
    const typo = HUBSPOT.replace("secret: hubspot_api_token", "secret: hubspot_api_tokn");
    await client.change(uri, typo);
    const ds = await client.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "unknown-secret"));
    const d = ds.find((x) => x.code === "unknown-secret")!;
    expect(d.range).toEqual(rangeOf(typo, "hubspot_api_tokn"));
    expect(d.severity).toBe(1);
    const actions = (await client.conn.sendRequest(proto.CodeActionRequest.type, {
      textDocument: { uri },
      range: d.range,
      context: { diagnostics: [d] },
    })) as proto.CodeAction[];
    const replace = actions.find((a) => a.title === "Replace with hubspot_api_token")!;
    expect(replace.edit?.changes?.[uri]).toEqual([{ range: d.range, newText: "hubspot_api_token" }]);
    expect(replace.isPreferred).toBe(true);
    // one letter away from an existing name: "Add secret hubspot_api_tokn" would invite creating the typo
    expect(actions.map((a) => a.title)).toEqual(["Replace with hubspot_api_token"]);
    // cross-file: with the reference misspelt, hubspot_api_token is unused in every environment
    for (const env of ["development", "staging", "production"]) {
      await client.waitForDiagnostics(org.uri(`secrets/${env}.enc.yaml`), (x) => x.some((y) => y.code === "unused-secret" && y.message.includes("hubspot_api_token")), `unused hubspot_api_token in ${env}`);
    }
    // typing the fix clears both
    await client.change(uri, HUBSPOT);
    await client.waitForDiagnostics(uri, (x) => x.length === 0, "no diagnostics after the fix");
    await client.waitForDiagnostics(org.uri("secrets/staging.enc.yaml"), (x) => x.length === 0, "staging clean after the fix");
    await client.close(uri);
  });

  it("a burst of edits (fast typing) ends with the diagnostics of the last text", async () => {
    const uri = org.uri("connections/hubspot.yaml");
    await client.open(uri, HUBSPOT);
    const word = "hubspot_api_token";
    for (let n = word.length; n >= 1; n--) await client.change(uri, HUBSPOT.replace(`secret: ${word}`, `secret: ${word.slice(0, n)}`));
    const last = HUBSPOT.replace(`secret: ${word}`, "secret: h");
    const ds = await client.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "unknown-secret" && x.range.end.character === rangeOf(last, "h", "secret: ").end.character));
    expect(ds.map((d) => [d.code, d.range])).toEqual([["unknown-secret", rangeOf(last, "h", "secret: ")]]);
    // a request right after an edit sees that edit
    await client.change(uri, HUBSPOT);
    const hover = await client.conn.sendRequest(proto.HoverRequest.type, { textDocument: { uri }, position: positionOf(HUBSPOT, "hubspot_api_token", 2) });
    expect((hover?.contents as proto.MarkupContent).value).toContain("**hubspot_api_token**");
    await client.waitForDiagnostics(uri, (d) => d.length === 0);
    await client.close(uri);
  });

  it("reports missing-environment-value where a reference needs an environment without a value", async () => {
    const uri = org.uri("agents/support/actions/create_ticket.yaml");
    // zendesk_token only has a development value; the action now also runs in production
    const text = CREATE_TICKET.replace("environments: [development]", "environments: [development, production]");
    await client.open(uri, text);
    const ds = await client.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "missing-environment-value"));
    expect(ds.map((d) => [d.code, d.range])).toEqual([["missing-environment-value", rangeOf(text, "zendesk_token")]]);
    expect(ds[0]!.message).toContain("production");
    expect(ds[0]!.message).not.toContain("staging");
    const actions = (await client.conn.sendRequest(proto.CodeActionRequest.type, {
      textDocument: { uri },
      range: ds[0]!.range,
      context: { diagnostics: ds },
    })) as proto.CodeAction[];
    expect(actions.map((a) => [a.title, a.command?.command, a.command?.arguments])).toEqual([
      ["Set a value for zendesk_token in production", "stellarSecrets.setValue", ["zendesk_token", org.dir, ["production"]]],
    ]);
    // the change is in the buffer only: closing it goes back to the disk text
    await client.close(uri);
    await client.waitForDiagnostics(uri, (d) => d.length === 0, "no diagnostics once the buffer is closed");
  });

  it("moves unused-secret between environment files as references change (cross-file)", async () => {
    const uri = org.uri("connections/hubspot.yaml");
    const text = HUBSPOT.replace("secret: hubspot_api_token", "secret: legacy_webhook_secret");
    await client.open(uri, text);
    await client.waitForDiagnostics(org.uri("secrets/development.enc.yaml"), (x) => x.length === 1 && x[0]!.message.includes('"hubspot_api_token"'));
    for (const env of ["staging", "production"]) {
      await client.waitForDiagnostics(org.uri(`secrets/${env}.enc.yaml`), (x) => x.length === 1 && x[0]!.code === "unused-secret");
    }
    await client.close(uri);
    await client.waitForDiagnostics(org.uri("secrets/development.enc.yaml"), (x) => x.length === 1 && x[0]!.message.includes('"legacy_webhook_secret"'));
    await client.waitForDiagnostics(org.uri("secrets/production.enc.yaml"), (x) => x.length === 0);
  });

  it("picks up a secrets file rewritten on disk through a watched-file event", async () => {
    expect(client.registrations.some((r) => r.method === "workspace/didChangeWatchedFiles")).toBe(true);
    const actionUri = org.uri("agents/support/actions/create_ticket.yaml");
    // the CLI (or a git checkout) rewrites development without zendesk_token
    const dev = org.path("secrets/development.enc.yaml");
    const decrypted = await sops.decryptSecrets(readFileSync(dev, "utf8"), [org.identity]);
    const values = new Map(decrypted.values);
    values.delete("zendesk_token");
    writeFileSync(dev, await sops.reencryptSecrets(decrypted, values));
    await client.filesChanged([{ uri: org.uri("secrets/development.enc.yaml"), type: 2 }]);
    const ds = await client.waitForDiagnostics(actionUri, (d) => d.some((x) => x.code === "unknown-secret"));
    expect(ds.find((x) => x.code === "unknown-secret")!.range).toEqual(rangeOf(CREATE_TICKET, "zendesk_token"));
    // and back
    writeFileSync(dev, await sops.reencryptSecrets(decrypted, decrypted.values));
    await client.filesChanged([{ uri: org.uri("secrets/development.enc.yaml"), type: 2 }]);
    await client.waitForDiagnostics(actionUri, (d) => d.length === 0);
  });

  it("picks up a new config file and a deleted one", async () => {
    const rel = "agents/support/actions/refund.yaml";
    org.write(rel, "kind: action\nname: refund\nmethod: POST\npath: /refunds\nheaders:\n  - { name: X-Key, type: secret, secret: stripe_api_kee }\n");
    await client.filesChanged([{ uri: org.uri(rel), type: 1 }]);
    const ds = await client.waitForDiagnostics(org.uri(rel), (d) => d.length > 0);
    expect(rules(ds)).toEqual(["unknown-secret"]);
    await import("node:fs").then((fs) => fs.rmSync(org.path(rel)));
    await client.filesChanged([{ uri: org.uri(rel), type: 3 }]);
    await client.waitForDiagnostics(org.uri(rel), (d) => d.length === 0);
  });
});

describe("pull diagnostics (VS Code)", () => {
  let org: TestProject;
  let client: LspClient;
  beforeAll(async () => {
    org = await makeOrg();
    client = await LspClient.start({ folders: [org.dir], pull: true });
  });
  afterAll(async () => {
    await client.stop();
    org.remove();
  });

  it("announces pull diagnostics and answers document and workspace pulls without publishing", async () => {
    expect(client.capabilities?.diagnosticProvider).toMatchObject({ interFileDependencies: true, workspaceDiagnostics: true });
    const uri = org.uri("connections/hubspot.yaml");
    const typo = HUBSPOT.replace("auth: stripe", "auth: strpe");
    await client.open(uri, typo);
    const report = await client.waitFor(async () => {
      const r = (await client.conn.sendRequest(proto.DocumentDiagnosticRequest.type, { textDocument: { uri } })) as proto.FullDocumentDiagnosticReport;
      return r.items.length > 0 ? r : undefined;
    }, "a pulled diagnostic");
    expect(report.kind).toBe("full");
    expect(report.items.map((d) => [d.code, d.range])).toEqual([["unknown-reference", rangeOf(typo, "strpe")]]);
    // the same result id → unchanged
    const again = await client.conn.sendRequest(proto.DocumentDiagnosticRequest.type, { textDocument: { uri }, previousResultId: report.resultId });
    expect(again.kind).toBe("unchanged");
    const ws = await client.conn.sendRequest(proto.WorkspaceDiagnosticRequest.type, { previousResultIds: [] });
    const dev = ws.items.find((i) => i.uri === org.uri("secrets/development.enc.yaml")) as proto.WorkspaceFullDocumentDiagnosticReport;
    expect(dev.items.map((d) => d.code)).toEqual(["unused-secret"]);
    expect(client.published.size).toBe(0);
    const before = client.refreshes;
    await client.change(uri, HUBSPOT);
    await client.waitFor(() => client.refreshes > before, "a diagnostic refresh request");
    await client.close(uri);
  });
});

describe("completion, hover, navigation, symbols, rename", () => {
  let org: TestProject;
  let client: LspClient;
  beforeAll(async () => {
    org = await makeOrg();
    client = await LspClient.start({ folders: [org.dir] });
    await client.waitForDiagnostics(org.uri("secrets/development.enc.yaml"), (d) => d.length > 0);
  });
  afterAll(async () => {
    await client.stop();
    org.remove();
  });

  const complete = async (uri: string, text: string, position: proto.Position) => {
    await client.open(uri, text);
    const r = (await client.conn.sendRequest(proto.CompletionRequest.type, { textDocument: { uri }, position })) as proto.CompletionItem[];
    await client.close(uri);
    return r;
  };

  it("completes secret names in a secret field, with the environments that have a value (those with none where the action is used last)", async () => {
    const uri = org.uri("agents/support/actions/new.yaml");
    const text = "kind: action\nname: new_action\nmethod: GET\npath: /x\nheaders:\n  - name: X-Key\n    type: secret\n    secret: st\n";
    const items = await complete(uri, text, positionOf(text, "secret: st", 10));
    const sorted = [...items].sort((a, b) => ((a.sortText ?? a.label) < (b.sortText ?? b.label) ? -1 : 1));
    expect(sorted.map((i) => i.label)).toEqual(["hubspot_api_token", "stripe_api_key", "legacy_webhook_secret", "zendesk_token"]);
    for (const i of items) expect(i.sortText !== undefined, i.label).toBe(i.detail?.includes(" · no value in ") === true);
    const legacy = items.find((i) => i.label === "legacy_webhook_secret")!;
    // a new action no agent lists is used in every environment: the development-only secret says so
    expect(legacy.detail).toBe("secret · development · no value in staging, production");
    expect(items.find((i) => i.label === "stripe_api_key")!.detail).toBe("secret · development, staging, production");
    expect((items.find((i) => i.label === "stripe_api_key")!.documentation as proto.MarkupContent).value).toContain("Stripe secret key for billing");
    expect((legacy.textEdit as proto.TextEdit).range).toEqual(rangeOf(text, "st", "secret: "));
    noValues(items);
  });

  it("completes in flow mappings, object names, environments and kinds", async () => {
    const uri = org.uri("connectors/new.yaml");
    let text = "kind: auth_connector\nname: x\ntype: bearer_token\ntoken: { secret:  }\n";
    let items = await complete(uri, text, positionOf(text, "{ secret: ", 10));
    expect(items.map((i) => i.label)).toContain("zendesk_token");

    text = "kind: action\nname: a\nconnection: \nmethod: GET\npath: /x\n";
    items = await complete(uri, text, positionOf(text, "connection: ", 12));
    expect(items.map((i) => i.label)).toEqual(["hubspot"]);

    text = "kind: api_connection\nname: c\nbase_url: https://x\nauth: \n";
    items = await complete(uri, text, positionOf(text, "auth: ", 6));
    expect(items.map((i) => i.label)).toEqual(["stripe"]);

    text = "kind: agent\nname: a\nactions:\n  - \n";
    items = await complete(uri, text, positionOf(text, "  - ", 4));
    expect(items.map((i) => i.label)).toEqual(["create_ticket"]);

    text = "kind: action\nname: a\nenvironments: [development, ]\n";
    items = await complete(uri, text, positionOf(text, "development, ", 13));
    expect(items.map((i) => i.label)).toEqual(["development", "staging", "production"]);

    text = "kind: \n";
    items = await complete(uri, text, { line: 0, character: 6 });
    expect(items.map((i) => i.label).sort()).toEqual(["action", "agent", "api_connection", "auth_connector"]);

    text = "kind: action\nname: a\nmethod: \n";
    items = await complete(uri, text, positionOf(text, "method: ", 8));
    expect(items.map((i) => i.label)).toContain("POST");

    text = "kind: api_connection\nname: c\nheaders:\n  - name: X\n    type: \n";
    items = await complete(uri, text, positionOf(text, "type: ", 6));
    expect(items.map((i) => i.label).sort()).toEqual(["secret", "static"]);

    text = "kind: api_connection\nname: c\nheaders:\n  - name: X\n    \n";
    items = await complete(uri, text, { line: 4, character: 4 });
    expect(items.map((i) => i.label)).toEqual(expect.arrayContaining(["type", "secret", "prefix"]));
    expect(items.map((i) => i.label)).not.toContain("name");
  });

  it("completes the fields of the document's kind that are not there yet", async () => {
    const uri = org.uri("agents/support/actions/new2.yaml");
    const text = "kind: action\nname: a\n\n";
    const items = await complete(uri, text, { line: 2, character: 0 });
    const labels = items.map((i) => i.label);
    expect(labels).toEqual(expect.arrayContaining(["method", "path", "connection", "environments", "headers"]));
    expect(labels).not.toContain("kind");
    expect(labels).not.toContain("name");
  });

  it("hovers a reference with environments, catalog entry and reference count, never a value", async () => {
    const uri = org.uri("connectors/stripe.yaml");
    const text = readFileSync(org.path("connectors/stripe.yaml"), "utf8");
    await client.open(uri, text);
    const h = (await client.conn.sendRequest(proto.HoverRequest.type, { textDocument: { uri }, position: positionOf(text, "stripe_api_key", 3) }))!;
    const value = (h.contents as proto.MarkupContent).value;
    expect(value).toContain("**stripe_api_key**");
    expect(value).toContain("Value set in: development, staging, production");
    expect(value).toContain("Stripe secret key for billing");
    expect(value).toContain("Owner: payments-team");
    expect(value).toContain("1 reference");
    expect(h.range).toEqual(rangeOf(text, "stripe_api_key"));
    noValues(h);
    await client.close(uri);
  });

  it("hovers a key of an environment file", async () => {
    const uri = org.uri("secrets/development.enc.yaml");
    const text = readFileSync(org.path("secrets/development.enc.yaml"), "utf8");
    await client.open(uri, text);
    const h = (await client.conn.sendRequest(proto.HoverRequest.type, { textDocument: { uri }, position: positionOf(text, "legacy_webhook_secret", 2) }))!;
    const value = (h.contents as proto.MarkupContent).value;
    expect(value).toContain("Missing in: staging, production");
    expect(value).toContain("0 references");
    noValues(h);
    await client.close(uri);
  });

  it("goes to the key in every environment file, and finds every reference", async () => {
    const uri = org.uri("connections/hubspot.yaml");
    await client.open(uri, HUBSPOT);
    const defs = (await client.conn.sendRequest(proto.DefinitionRequest.type, { textDocument: { uri }, position: positionOf(HUBSPOT, "hubspot_api_token", 1) })) as proto.Location[];
    expect(defs.map((d) => d.uri).sort()).toEqual(["development", "production", "staging"].map((e) => org.uri(`secrets/${e}.enc.yaml`)));
    for (const d of defs) {
      const t = readFileSync(new URL(d.uri), "utf8");
      expect(d.range).toEqual(rangeOf(t, "hubspot_api_token"));
    }
    const refs = (await client.conn.sendRequest(proto.ReferencesRequest.type, {
      textDocument: { uri },
      position: positionOf(HUBSPOT, "hubspot_api_token", 1),
      context: { includeDeclaration: false },
    }))!;
    expect(refs).toEqual([{ uri, range: rangeOf(HUBSPOT, "hubspot_api_token") }]);
    const withDecl = (await client.conn.sendRequest(proto.ReferencesRequest.type, {
      textDocument: { uri },
      position: positionOf(HUBSPOT, "hubspot_api_token", 1),
      context: { includeDeclaration: true },
    }))!;
    expect(withDecl).toHaveLength(4);
    // definition of an object link
    const auth = (await client.conn.sendRequest(proto.DefinitionRequest.type, { textDocument: { uri }, position: positionOf(HUBSPOT, "auth: stripe", 7) })) as proto.Location[];
    expect(auth).toEqual([{ uri: org.uri("connectors/stripe.yaml"), range: rangeOf(readFileSync(org.path("connectors/stripe.yaml"), "utf8"), "stripe", "name: ") }]);
    await client.close(uri);
  });

  it("lists document symbols: the object and its secret references", async () => {
    const uri = org.uri("agents/support/actions/create_ticket.yaml");
    await client.open(uri, CREATE_TICKET);
    const syms = (await client.conn.sendRequest(proto.DocumentSymbolRequest.type, { textDocument: { uri } })) as proto.DocumentSymbol[];
    expect(syms.map((s) => [s.name, s.detail])).toEqual([["create_ticket", "action"]]);
    expect(syms[0]!.children!.map((c) => [c.name, c.range])).toEqual([["zendesk_token", rangeOf(CREATE_TICKET, "zendesk_token")]]);
    await client.close(uri);
  });

  it("document symbols of a file of two objects, each written with its name after its references: each object holds its own document's references, within its range", async () => {
    const uri = org.uri("connections/two.yaml");
    const text = [
      "kind: api_connection",
      "base_url: https://a.example",
      "headers:",
      "  - { name: A, type: secret, secret: hubspot_api_token }",
      "name: first",
      "---",
      "kind: api_connection",
      "base_url: https://b.example",
      "headers:",
      "  - { name: B, type: secret, secret: stripe_api_key }",
      "name: second",
      "",
    ].join("\n");
    await client.open(uri, text);
    const syms = (await client.conn.sendRequest(proto.DocumentSymbolRequest.type, { textDocument: { uri } })) as proto.DocumentSymbol[];
    expect(syms.map((s) => [s.name, s.selectionRange, s.children!.map((c) => [c.name, c.range])])).toEqual([
      ["first", rangeOf(text, "first"), [["hubspot_api_token", rangeOf(text, "hubspot_api_token")]]],
      ["second", rangeOf(text, "second"), [["stripe_api_key", rangeOf(text, "stripe_api_key")]]],
    ]);
    const inside = (inner: proto.Range, outer: proto.Range) =>
      (inner.start.line > outer.start.line || (inner.start.line === outer.start.line && inner.start.character >= outer.start.character)) &&
      (inner.end.line < outer.end.line || (inner.end.line === outer.end.line && inner.end.character <= outer.end.character));
    for (const s of syms) {
      expect(inside(s.selectionRange, s.range)).toBe(true);
      for (const c of s.children!) expect([s.name, c.name, inside(c.range, s.range)]).toEqual([s.name, c.name, true]);
    }
    // each object's range is its own document: the first ends before the second begins
    expect(syms[0]!.range.start).toEqual({ line: 0, character: 0 });
    expect(syms[0]!.range.end.line).toBeLessThan(syms[1]!.range.start.line + 1);
    expect(syms[1]!.range.start.line).toBeGreaterThan(4);
    await client.close(uri);
  });

  it("refuses to rename a secret, with the reason and the steps", async () => {
    const uri = org.uri("connections/hubspot.yaml");
    await client.open(uri, HUBSPOT);
    const p = positionOf(HUBSPOT, "hubspot_api_token", 2);
    await expect(client.conn.sendRequest(proto.PrepareRenameRequest.type, { textDocument: { uri }, position: p })).rejects.toThrow(/fixed once created.*Add Secret.*delete/s);
    await expect(client.conn.sendRequest(proto.RenameRequest.type, { textDocument: { uri }, position: p, newName: "hubspot_token" })).rejects.toThrow(/fixed once created/);
    await client.close(uri);
  });

  it("answers the extension's requests: projects, usage, name validation (no values)", async () => {
    const { projects } = await client.conn.sendRequest("stellarSecrets/projects", {}) as { projects: { root: string; valid: boolean; environments: { name: string; exists: boolean; recipients: string[] }[]; secrets: { name: string; environments: string[]; references: number; description?: string }[] }[] };
    expect(projects).toHaveLength(1);
    expect(projects[0]!.root).toBe(org.dir);
    expect(projects[0]!.environments.map((e) => [e.name, e.exists, e.recipients])).toEqual(["development", "staging", "production"].map((e) => [e, true, [org.recipient]]));
    expect(projects[0]!.secrets.map((s) => [s.name, s.environments.length, s.references])).toEqual([
      ["hubspot_api_token", 3, 1],
      ["legacy_webhook_secret", 1, 0],
      ["stripe_api_key", 3, 1],
      ["zendesk_token", 1, 1],
    ]);
    noValues(projects);
    const usage = (await client.conn.sendRequest("stellarSecrets/usage", { root: org.dir, name: "zendesk_token" })) as { references: { file: string; line: number; owner: string }[] };
    expect(usage.references).toEqual([expect.objectContaining({ file: "agents/support/actions/create_ticket.yaml", line: 8, owner: "action create_ticket" })]);
    const bad = (await client.conn.sendRequest("stellarSecrets/validateName", { root: org.dir, name: "Stripe-Key", existing: "refuse" })) as { message?: string };
    expect(bad.message).toMatch(/\[invalid-secret-name\]/);
    const taken = (await client.conn.sendRequest("stellarSecrets/validateName", { root: org.dir, name: "stripe_api_key", existing: "refuse" })) as { message?: string };
    expect(taken.message).toMatch(/already exists/);
    const removal = (await client.conn.sendRequest("stellarSecrets/catalogRemoval", { root: org.dir, name: "stripe_api_key" })) as { edit?: proto.WorkspaceEdit };
    const catalogUri = org.uri("secrets/catalog.yaml");
    expect(removal.edit?.changes?.[catalogUri]?.[0]?.newText).toBe("secrets: {}\n");
    expect(await client.conn.sendRequest("stellarSecrets/catalogRemoval", { root: org.dir, name: "zendesk_token" })).toEqual({});
    const ok = (await client.conn.sendRequest("stellarSecrets/validateName", { root: org.dir, name: "stripe_webhook_secret", existing: "refuse" })) as { message?: string };
    expect(ok.message).toBeUndefined();
  });
});
