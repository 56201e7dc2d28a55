/**
 * The language server's workspace handling: multi-root (one index per stellar.yaml), settings
 * (per-rule severity, config path), the IPC transport, and bad input that must never stop it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { LspClient, makeProject, proto, positionOf, rangeOf, SERVER_BIN, sops, type TestProject } from "./lsp-harness.js";
import { HUBSPOT, makeOrg, orgSpec } from "./lsp-fixture.js";

describe("multi-root workspaces", () => {
  let base: string;
  let a: TestProject;
  let b: TestProject;
  let client: LspClient;
  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), "stellar-lsp-multi-"));
    const key = await sops.generateIdentity();
    a = await makeProject({ ...orgSpec(), base, subdir: "payments", key });
    b = await makeProject({
      base,
      subdir: "support",
      key,
      secrets: { development: { zendesk_api_token: "v" }, staging: {}, production: {} },
      files: { "actions/t.yaml": "kind: action\nname: t\nmethod: GET\npath: /x\nenvironments: [development]\nheaders:\n  - { name: K, type: secret, secret: zendesk_api_token }\n" },
    });
    // one workspace folder above both repositories, and one folder per repository
    client = await LspClient.start({ folders: [a.dir, b.dir] });
  });
  afterAll(async () => {
    await client.stop();
    rmSync(base, { recursive: true, force: true });
  });

  it("keeps one index per stellar.yaml", async () => {
    const { projects } = (await client.waitFor(async () => {
      const r = (await client.conn.sendRequest("stellarSecrets/projects", {})) as { projects: { root: string; secrets: { name: string }[] }[] };
      return r.projects.length === 2 ? r : undefined;
    }, "two projects"));
    expect(projects.map((p) => [p.root, p.secrets.map((s) => s.name)])).toEqual([
      [a.dir, ["hubspot_api_token", "legacy_webhook_secret", "stripe_api_key", "zendesk_token"]],
      [b.dir, ["zendesk_api_token"]],
    ]);
    // a name of the other repository is unknown here
    const uri = b.uri("actions/t.yaml");
    const text = readFileSync(b.path("actions/t.yaml"), "utf8").replace("zendesk_api_token", "stripe_api_key");
    await client.open(uri, text);
    const ds = await client.waitForDiagnostics(uri, (d) => d.length > 0);
    expect(ds.map((d) => [d.code, d.range])).toEqual([["unknown-secret", rangeOf(text, "stripe_api_key")]]);
    const items = (await client.conn.sendRequest(proto.CompletionRequest.type, { textDocument: { uri }, position: positionOf(text, "secret: ", 8) })) as proto.CompletionItem[];
    expect(items.map((i) => i.label)).toEqual(["zendesk_api_token"]);
    // zendesk_api_token is now unused in support, and payments is untouched
    await client.waitForDiagnostics(b.uri("secrets/development.enc.yaml"), (d) => d.some((x) => x.code === "unused-secret"));
    expect(client.diagnosticsOf(a.uri("secrets/development.enc.yaml")).map((d) => d.message.includes("legacy_webhook_secret"))).toEqual([true]);
    await client.close(uri);
  });
});

describe("workspace folders removed from a client that pulls diagnostics (VS Code)", () => {
  it("a removed folder's files get an empty report in the next workspace/diagnostic (the client keeps a report until it is replaced)", async () => {
    const base = mkdtempSync(join(tmpdir(), "stellar-lsp-folders-"));
    const key = await sops.generateIdentity();
    const a = await makeProject({ ...orgSpec(), base, subdir: "payments", key });
    const b = await makeProject({ ...orgSpec(), base, subdir: "support", key });
    const client = await LspClient.start({ folders: [a.dir, b.dir], pull: true });
    try {
      const bEnv = b.uri("secrets/development.enc.yaml");
      const first = await client.conn.sendRequest(proto.WorkspaceDiagnosticRequest.type, { previousResultIds: [] });
      const firstOf = (uri: string) => first.items.find((i) => i.uri === uri);
      expect(firstOf(bEnv)).toMatchObject({ kind: "full", items: [{ code: "unused-secret" }] });
      const previousResultIds = first.items.map((i) => ({ uri: i.uri, value: i.resultId! }));
      await client.conn.sendNotification(proto.DidChangeWorkspaceFoldersNotification.type, { event: { added: [], removed: [{ uri: pathToFileURL(b.dir).href, name: "folder1" }] } });
      await client.waitFor(async () => {
        const r = (await client.conn.sendRequest("stellarSecrets/projects", {})) as { projects: unknown[] };
        return r.projects.length === 1;
      }, "the folder removed");
      const next = await client.conn.sendRequest(proto.WorkspaceDiagnosticRequest.type, { previousResultIds });
      const cleared = next.items.find((i) => i.uri === bEnv);
      expect(cleared).toMatchObject({ kind: "full", items: [] });
      expect((cleared as { resultId?: string }).resultId).not.toBe(firstOf(bEnv)!.resultId);
    } finally {
      await client.stop();
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe("projects appear and disappear with their stellar.yaml", () => {
  it("indexes a stellar.yaml created on disk and forgets a deleted one", async () => {
    const base = mkdtempSync(join(tmpdir(), "stellar-lsp-appear-"));
    const client = await LspClient.start({ folders: [base] });
    const projects = async () => ((await client.conn.sendRequest("stellarSecrets/projects", {})) as { projects: { root: string }[] }).projects;
    expect(await projects()).toEqual([]);
    const p = await makeProject({ ...orgSpec(), base, subdir: "repo" });
    await client.filesChanged([{ uri: p.uri("stellar.yaml"), type: 1 }]);
    await client.waitForDiagnostics(p.uri("secrets/development.enc.yaml"), (d) => d.some((x) => x.code === "unused-secret"));
    expect((await projects()).map((x) => x.root)).toEqual([p.dir]);
    rmSync(p.path("stellar.yaml"));
    await client.filesChanged([{ uri: p.uri("stellar.yaml"), type: 3 }]);
    await client.waitForDiagnostics(p.uri("secrets/development.enc.yaml"), (d) => d.length === 0);
    expect(await projects()).toEqual([]);
    await client.stop();
    rmSync(base, { recursive: true, force: true });
  });

  it("typing in stellar.yaml re-checks the project with the new config", async () => {
    const org = await makeOrg();
    const client = await LspClient.start({ folders: [org.dir] });
    const dev = org.uri("secrets/development.enc.yaml");
    await client.waitForDiagnostics(dev, (d) => d.length === 1 && d[0]!.severity === 2);
    const uri = org.uri("stellar.yaml");
    const text = readFileSync(org.path("stellar.yaml"), "utf8");
    await client.open(uri, text);
    await client.change(uri, `${text}rules:\n  unused-secret: error\n`);
    await client.waitForDiagnostics(dev, (d) => d.length === 1 && d[0]!.code === "unused-secret" && d[0]!.severity === 1);
    await client.change(uri, `${text}rules:\n  unused-secret: off\n`);
    await client.waitForDiagnostics(dev, (d) => d.length === 0);
    await client.close(uri); // back to the disk text
    await client.waitForDiagnostics(dev, (d) => d.length === 1 && d[0]!.severity === 2);
    await client.stop();
    org.remove();
  });
});

describe("settings", () => {
  let org: TestProject;
  afterAll(() => org.remove());

  it("applies stellar.yaml's rules and the editor's per-rule overrides", async () => {
    org = await makeOrg({ rules: { "unused-secret": "error" } });
    let client = await LspClient.start({ folders: [org.dir] });
    const dev = org.uri("secrets/development.enc.yaml");
    let ds = await client.waitForDiagnostics(dev, (d) => d.length > 0);
    expect(ds.map((d) => [d.code, d.severity])).toEqual([["unused-secret", 1]]);
    await client.stop();

    client = await LspClient.start({ folders: [org.dir], settings: { rules: { "unused-secret": "hint" } } });
    ds = await client.waitForDiagnostics(dev, (d) => d.length > 0);
    expect(ds.map((d) => [d.code, d.severity])).toEqual([["unused-secret", 4]]);
    await client.stop();

    client = await LspClient.start({ folders: [org.dir], settings: { rules: { "unused-secret": "off" } } });
    const uri = org.uri("connections/hubspot.yaml");
    const typo = HUBSPOT.replace("auth: stripe", "auth: nope");
    await client.open(uri, typo);
    await client.waitForDiagnostics(uri, (d) => d.length > 0);
    expect(client.diagnosticsOf(dev)).toEqual([]);
    await client.stop();
  });

  it("uses the configured stellar.yaml path", async () => {
    const base = mkdtempSync(join(tmpdir(), "stellar-lsp-cfg-"));
    const p = await makeProject({ ...orgSpec(), base, subdir: "infra/secrets-repo" });
    const client = await LspClient.start({ folders: [base], settings: { configPath: "infra/secrets-repo/stellar.yaml" } });
    const ds = await client.waitForDiagnostics(p.uri("secrets/development.enc.yaml"), (d) => d.length > 0);
    expect(ds.map((d) => d.code)).toEqual(["unused-secret"]);
    await client.stop();
    rmSync(base, { recursive: true, force: true });
  });
});

describe("a pulling client that refuses workspace/diagnostic/refresh", () => {
  it("is told once in the log, not with an unhandled rejection at every change, and its pulls still see the changes", async () => {
    const org = await makeOrg();
    const proc = spawn(process.execPath, [SERVER_BIN, "--stdio"], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, SOPS_AGE_KEY: "", SOPS_AGE_KEY_FILE: "", STELLAR_SECRETS_NO_INDEX_CACHE: "1" } });
    const conn = proto.createProtocolConnection(new proto.StreamMessageReader(proc.stdout!), new proto.StreamMessageWriter(proc.stdin!));
    const logs: string[] = [];
    let refreshes = 0;
    conn.onNotification(proto.LogMessageNotification.type, (p) => logs.push(p.message));
    conn.onRequest(proto.DiagnosticRefreshRequest.type, () => {
      refreshes++;
      throw new proto.ResponseError(proto.ErrorCodes.MethodNotFound, "TEST-ONLY: refresh is not supported after all");
    });
    conn.listen();
    try {
      const capabilities = { workspace: { diagnostics: { refreshSupport: true } }, textDocument: { diagnostic: {} } };
      await conn.sendRequest(proto.InitializeRequest.type, { processId: null, rootUri: null, capabilities, workspaceFolders: [{ uri: pathToFileURL(org.dir).href, name: "org" }] });
      await conn.sendNotification(proto.InitializedNotification.type, {});
      const uri = org.uri("connections/hubspot.yaml");
      await conn.sendNotification(proto.DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: "yaml", version: 1, text: HUBSPOT } });
      for (const [v, name] of [[2, "hubspot_api_tokn"], [3, "hubspot_api_tokx"], [4, "hubspot_api_tokz"]] as const) {
        await conn.sendNotification(proto.DidChangeTextDocumentNotification.type, { textDocument: { uri, version: v }, contentChanges: [{ text: HUBSPOT.replace("hubspot_api_token", name) }] });
        const end = Date.now() + 30_000;
        for (;;) {
          const r = (await conn.sendRequest(proto.DocumentDiagnosticRequest.type, { textDocument: { uri } })) as proto.FullDocumentDiagnosticReport;
          if (r.items.some((d) => d.message.includes(name))) break;
          if (Date.now() > end) throw new Error(`no diagnostic for ${name}`);
          await new Promise((res) => setTimeout(res, 20));
        }
      }
      const end = Date.now() + 10_000;
      while (refreshes < 3 && Date.now() < end) await new Promise((res) => setTimeout(res, 20));
      expect(refreshes).toBeGreaterThanOrEqual(3);
      await conn.sendRequest(proto.ShutdownRequest.type);
      expect(logs.filter((l) => /unhandled/.test(l))).toEqual([]);
      expect(logs.filter((l) => /refused workspace\/diagnostic\/refresh/.test(l))).toHaveLength(1);
      await conn.sendNotification(proto.ExitNotification.type);
    } finally {
      conn.dispose();
      if (proc.exitCode === null) proc.kill("SIGKILL");
      org.remove();
    }
  });
});

describe("transports", () => {
  it("serves over --node-ipc too", async () => {
    const org = await makeOrg();
    const client = await LspClient.start({ folders: [org.dir], transport: "node-ipc" });
    const ds = await client.waitForDiagnostics(org.uri("secrets/development.enc.yaml"), (d) => d.length > 0);
    expect(ds.map((d) => d.code)).toEqual(["unused-secret"]);
    await client.stop();
    org.remove();
  });
});

describe("bad input never stops the server", () => {
  let org: TestProject;
  let client: LspClient;
  beforeAll(async () => {
    org = await makeOrg();
    client = await LspClient.start({ folders: [org.dir] });
    await client.waitForDiagnostics(org.uri("secrets/development.enc.yaml"), (d) => d.length > 0);
  });
  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    org.remove();
  });

  const stillAnswers = async () => {
    const uri = org.uri("connectors/stripe.yaml");
    const text = readFileSync(org.path("connectors/stripe.yaml"), "utf8");
    await client.open(uri, text);
    const h = await client.conn.sendRequest(proto.HoverRequest.type, { textDocument: { uri }, position: positionOf(text, "stripe_api_key", 1) });
    expect((h?.contents as proto.MarkupContent).value).toContain("stripe_api_key");
    await client.close(uri);
  };

  it("half-typed YAML gives a schema diagnostic, and every request still answers", async () => {
    const uri = org.uri("agents/support/actions/half.yaml");
    const text = "kind: action\nname: half\nheaders:\n  - { name: X, type: secret, secret: strip\n";
    await client.open(uri, text);
    const ds = await client.waitForDiagnostics(uri, (d) => d.length > 0);
    expect(ds.map((d) => d.code)).toContain("schema");
    for (const [method, params] of [
      [proto.CompletionRequest.type, { textDocument: { uri }, position: { line: 3, character: 41 } }],
      [proto.HoverRequest.type, { textDocument: { uri }, position: { line: 99, character: 99 } }],
      [proto.DefinitionRequest.type, { textDocument: { uri }, position: { line: 3, character: 40 } }],
      [proto.DocumentSymbolRequest.type, { textDocument: { uri } }],
    ] as const) {
      await client.conn.sendRequest(method as proto.RequestType<unknown, unknown, unknown>, params);
    }
    await client.close(uri);
    await stillAnswers();
  });

  it("a binary file, a huge file and a file of another tool give nothing", async () => {
    const bin = org.uri("connectors/logo.yaml");
    await client.open(bin, "\u0000\u0001\u0002kind: action\u0000");
    const huge = org.uri("connectors/huge.yaml");
    await client.open(huge, "kind: action\nname: huge\nmethod: GET\npath: /x\n" + "# padding padding padding padding\n".repeat(150_000));
    const other = org.uri(".github/workflows/ci.yaml");
    await client.open(other, "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n");
    await stillAnswers();
    expect(client.diagnosticsOf(other)).toEqual([]);
    for (const u of [bin, huge, other]) await client.close(u);
  });

  it("a tampered secrets file is reported, not fatal", async () => {
    const dev = org.path("secrets/staging.enc.yaml");
    const good = readFileSync(dev, "utf8");
    writeFileSync(dev, good.replace(/ENC\[AES256_GCM,data:[^,]*/, "plaintext-oops"));
    await client.filesChanged([{ uri: pathToFileURL(dev).href, type: 2 }]);
    const ds = await client.waitForDiagnostics(pathToFileURL(dev).href, (d) => d.some((x) => x.code === "unencrypted-secrets-file"));
    expect(ds.find((x) => x.code === "unencrypted-secrets-file")!.severity).toBe(1);
    writeFileSync(dev, "{{{{ not yaml");
    await client.filesChanged([{ uri: pathToFileURL(dev).href, type: 2 }]);
    await client.waitForDiagnostics(pathToFileURL(dev).href, (d) => d.some((x) => x.code === "unencrypted-secrets-file"));
    await stillAnswers();
    writeFileSync(dev, good);
    await client.filesChanged([{ uri: pathToFileURL(dev).href, type: 2 }]);
    await client.waitForDiagnostics(pathToFileURL(dev).href, (d) => d.length === 0);
  });

  it("a secrets file with bytes that are not UTF-8 is reported as check reports it", async () => {
    const dev = org.path("secrets/staging.enc.yaml");
    const good = readFileSync(dev);
    writeFileSync(dev, Buffer.concat([Buffer.from("# \xff\xfe comment\n", "latin1"), good]));
    await client.filesChanged([{ uri: pathToFileURL(dev).href, type: 2 }]);
    const ds = await client.waitForDiagnostics(pathToFileURL(dev).href, (d) => d.some((x) => x.code === "unencrypted-secrets-file"));
    expect(ds.find((x) => x.code === "unencrypted-secrets-file")!.message).toMatch(/UTF-8/);
    writeFileSync(dev, good);
    await client.filesChanged([{ uri: pathToFileURL(dev).href, type: 2 }]);
    await client.waitForDiagnostics(pathToFileURL(dev).href, (d) => d.length === 0);
    // A NUL byte in a comment is valid UTF-8 and valid YAML: the names stay known (as in `check`),
    // instead of the file being dropped as "binary" and every reference losing its staging value.
    const stagingNames = async (): Promise<string[]> => {
      const r = (await client.conn.sendRequest("stellarSecrets/projects", {})) as { projects: { secrets: { name: string; environments: string[] }[] }[] };
      return r.projects.flatMap((p) => p.secrets.filter((x) => x.environments.includes("staging")).map((x) => x.name)).sort();
    };
    const before = await stagingNames();
    expect(before.length).toBeGreaterThan(0);
    // the same change also adds a name, so the test can wait for the server to have read it
    const goodText = good.toString("utf8");
    const enc = /^[a-z_]+: (ENC\[[^\n]*\])$/m.exec(goodText)![1]!;
    writeFileSync(dev, Buffer.concat([Buffer.from("#\u0000\n", "latin1"), Buffer.from(`zz_added_secret: ${enc}\n${goodText}`)]));
    await client.filesChanged([{ uri: pathToFileURL(dev).href, type: 2 }]);
    const after = await client.waitFor(async () => {
      const names = await stagingNames();
      return names.includes("zz_added_secret") ? names : undefined;
    }, "the NUL-byte file read with its names");
    expect(after).toEqual([...before, "zz_added_secret"].sort());
    writeFileSync(dev, good);
    await client.filesChanged([{ uri: pathToFileURL(dev).href, type: 2 }]);
    await stillAnswers();
  });

  it("a deleted folder takes its files' diagnostics with it (editors report only the folder)", async () => {
    const dir = org.path("agents/gone");
    mkdirSync(join(dir, "actions"), { recursive: true });
    const file = join(dir, "actions/broken.yaml");
    writeFileSync(file, "kind: action\nname: broken\nmethod: GET\npath: /x\nconnection: no_such_connection\n");
    await client.filesChanged([{ uri: pathToFileURL(file).href, type: 1 }]);
    await client.waitForDiagnostics(pathToFileURL(file).href, (d) => d.some((x) => x.code === "unknown-reference"));
    rmSync(dir, { recursive: true, force: true });
    await client.filesChanged([{ uri: pathToFileURL(dir).href, type: 3 }]);
    await client.waitForDiagnostics(pathToFileURL(file).href, (d) => d.length === 0);
    await stillAnswers();
  });

  it("a broken stellar.yaml is a diagnostic there, and fixing it brings the project back", async () => {
    const cfg = org.path("stellar.yaml");
    const good = readFileSync(cfg, "utf8");
    const uri = org.uri("stellar.yaml");
    await client.open(uri, good.replace("version: 1", "version: [1"));
    await client.waitForDiagnostics(uri, (d) => d.length > 0);
    await client.change(uri, good);
    await client.waitForDiagnostics(uri, (d) => d.length === 0);
    await client.close(uri);
    await stillAnswers();
  });

  it("requests for files outside any project return empty answers", async () => {
    const uri = pathToFileURL(join(tmpdir(), "elsewhere.yaml")).href;
    await client.open(uri, "kind: action\n");
    expect(await client.conn.sendRequest(proto.CompletionRequest.type, { textDocument: { uri }, position: { line: 0, character: 6 } })).toEqual([]);
    expect(await client.conn.sendRequest(proto.HoverRequest.type, { textDocument: { uri }, position: { line: 0, character: 1 } })).toBeNull();
    await client.close(uri);
  });
});
