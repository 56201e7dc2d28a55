/**
 * Test support for the language server's protocol tests: a real client over stdio
 * (`vscode-languageserver-protocol/node`) talking to the built server process, and small
 * secrets repositories made in temp folders with real age keys and real SOPS files.
 * Resolved through packages/language-server's dependencies (the root has none of them).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type * as Proto from "../packages/language-server/node_modules/vscode-languageserver-protocol/lib/node/main.js";

export const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const lsRequire = createRequire(join(repo, "packages/language-server/package.json"));
/** `vscode-languageserver-protocol/node`, as the server's own dependency resolves it. */
export const proto: typeof Proto = lsRequire("vscode-languageserver-protocol/node");
type Sops = typeof import("../packages/sops/src/index.js");
/** `@stellar-secrets/sops` (built dist). */
export const sops: Sops = await import(pathToFileURL(lsRequire.resolve("@stellar-secrets/sops")).href);

export const SERVER_BIN = join(repo, "packages/language-server/bin/stellar-secrets-language-server.js");

/** A temp secrets repository. */
export interface TestProject {
  dir: string;
  /** TEST-ONLY age identity of the member `alice` (every environment). */
  identity: string;
  recipient: string;
  /** Absolute path of a file of the project. */
  path(rel: string): string;
  uri(rel: string): string;
  write(rel: string, text: string): void;
  remove(): void;
}

/** Contents of a test project. */
export interface ProjectSpec {
  /** env → name → value; every environment of stellar.yaml gets a file (empty when not listed). */
  secrets: Record<string, Record<string, string>>;
  /** Extra files: relative path → text. */
  files?: Record<string, string>;
  /** stellar.yaml `rules:` block. */
  rules?: Record<string, string>;
  environments?: string[];
  /** Put the project in this sub-folder of the temp dir (multi-root tests). */
  subdir?: string;
  /** Reuse an existing temp dir. */
  base?: string;
  /** Reuse a member key (one per test file keeps them fast). */
  key?: { identity: string; recipient: string };
}

/** Creates a secrets repository with real encrypted environment files. */
export async function makeProject(spec: ProjectSpec): Promise<TestProject> {
  const base = spec.base ?? mkdtempSync(join(tmpdir(), "stellar-lsp-"));
  const dir = spec.subdir ? join(base, spec.subdir) : base;
  mkdirSync(join(dir, "secrets"), { recursive: true });
  const key = spec.key ?? (await sops.generateIdentity());
  const envs = spec.environments ?? ["development", "staging", "production"];
  const lines = ["version: 1", "environments:"];
  for (const e of envs) lines.push(`  ${e}:`, "    members:", `      alice: ${key.recipient}`);
  if (spec.rules) {
    lines.push("rules:");
    for (const [k, v] of Object.entries(spec.rules)) lines.push(`  ${k}: ${v}`);
  }
  writeFileSync(join(dir, "stellar.yaml"), lines.join("\n") + "\n");
  for (const e of envs) {
    const values = new Map(Object.entries(spec.secrets[e] ?? {}));
    writeFileSync(join(dir, "secrets", `${e}.enc.yaml`), await sops.encryptSecrets(values, { recipients: [key.recipient] }));
  }
  for (const [rel, text] of Object.entries(spec.files ?? {})) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return {
    dir,
    identity: key.identity,
    recipient: key.recipient,
    path: (rel) => join(dir, rel),
    uri: (rel) => pathToFileURL(join(dir, rel)).href,
    write: (rel, text) => {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), text);
    },
    remove: () => rmSync(base, { recursive: true, force: true }),
  };
}

export { commitAll } from "../packages/language-server/src/test-support/git.js";

/** Options of {@link LspClient.start}. */
export interface ClientOptions {
  folders: string[];
  /** Announce pull diagnostics (VS Code) instead of relying on publishDiagnostics (Neovim, eglot). */
  pull?: boolean;
  /** Announce dynamic registration of file watchers. */
  watch?: boolean;
  /** What `workspace/configuration` answers for `stellarSecrets`. */
  settings?: Record<string, unknown>;
  transport?: "stdio" | "node-ipc";
  /** Variables laid over the server's environment (default: a cold start, STELLAR_SECRETS_NO_INDEX_CACHE=1). */
  env?: NodeJS.ProcessEnv;
}

/** A language client over a real server process. */
export class LspClient {
  readonly published = new Map<string, Proto.Diagnostic[]>();
  readonly notifications: { method: string; params: unknown }[] = [];
  readonly registrations: Proto.Registration[] = [];
  refreshes = 0;
  stderr = "";
  private versions = new Map<string, number>();
  private texts = new Map<string, string>();

  private constructor(
    readonly conn: Proto.ProtocolConnection,
    readonly proc: ChildProcess,
  ) {}

  /** Spawns the server and runs initialize/initialized. */
  static async start(options: ClientOptions): Promise<LspClient> {
    const transport = options.transport ?? "stdio";
    const proc = spawn(process.execPath, [SERVER_BIN, `--${transport}`], {
      stdio: transport === "stdio" ? ["pipe", "pipe", "pipe"] : ["pipe", "pipe", "pipe", "ipc"],
      // a cold start every time, and nothing written to the user's cache folder (index-cache.ts)
      env: { ...process.env, SOPS_AGE_KEY: "", SOPS_AGE_KEY_FILE: "", STELLAR_SECRETS_NO_INDEX_CACHE: "1", ...options.env },
    });
    const conn =
      transport === "stdio"
        ? proto.createProtocolConnection(new proto.StreamMessageReader(proc.stdout!), new proto.StreamMessageWriter(proc.stdin!))
        : proto.createProtocolConnection(new proto.IPCMessageReader(proc), new proto.IPCMessageWriter(proc));
    const client = new LspClient(conn, proc);
    proc.stderr!.on("data", (d: Buffer) => (client.stderr += d.toString()));
    conn.onNotification(proto.PublishDiagnosticsNotification.type, (p) => client.published.set(p.uri, p.diagnostics));
    conn.onNotification((method, params) => client.notifications.push({ method, params }));
    conn.onRequest(proto.ConfigurationRequest.type, (p) => p.items.map(() => options.settings ?? {}));
    conn.onRequest(proto.RegistrationRequest.type, (p) => {
      client.registrations.push(...p.registrations);
    });
    conn.onRequest(proto.DiagnosticRefreshRequest.type, () => {
      client.refreshes++;
    });
    conn.onRequest(proto.ShowMessageRequest.type, () => null);
    conn.listen();
    const capabilities: Proto.ClientCapabilities = {
      workspace: {
        configuration: true,
        workspaceFolders: true,
        // (relative patterns, as VS Code's client announces them: watchers of folders outside the workspace folders)
        didChangeWatchedFiles: { dynamicRegistration: options.watch ?? true, relativePatternSupport: options.watch ?? true },
        diagnostics: { refreshSupport: true },
      },
      textDocument: {
        synchronization: { dynamicRegistration: false },
        completion: { completionItem: { snippetSupport: false } },
        hover: { contentFormat: ["markdown", "plaintext"] },
        publishDiagnostics: { relatedInformation: false },
        documentSymbol: { hierarchicalDocumentSymbolSupport: true },
        codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ["quickfix"] } } },
        rename: { prepareSupport: true },
      },
    };
    if (options.pull) capabilities.textDocument!.diagnostic = { dynamicRegistration: false, relatedDocumentSupport: false };
    const init = await conn.sendRequest(proto.InitializeRequest.type, {
      processId: process.pid,
      rootUri: null,
      capabilities,
      // as the VS Code extension says it (it runs the quick fixes' commands)
      initializationOptions: { clientCommands: true, indexChanged: true },
      workspaceFolders: options.folders.map((f, i) => ({ uri: pathToFileURL(f).href, name: `folder${i}` })),
    });
    (client as { capabilities?: Proto.ServerCapabilities }).capabilities = init.capabilities;
    // as vscode-languageclient does once the server announces workspace diagnostics: a workspace pull at once
    // (the server holds it until something changes, and answers it at shutdown); a pulling client that never
    // sends one gets the diagnostics of the files it has not pulled pushed after a while (diagnostics.ts)
    const provider = init.capabilities.diagnosticProvider;
    if (options.pull && provider !== undefined && "workspaceDiagnostics" in provider && provider.workspaceDiagnostics)
      void conn.sendRequest(proto.WorkspaceDiagnosticRequest.type, { previousResultIds: [] }).catch(() => {});
    await conn.sendNotification(proto.InitializedNotification.type, {});
    return client;
  }

  capabilities?: Proto.ServerCapabilities;

  /** Waits until `fn` returns a truthy value (polling), or fails after `ms`. */
  async waitFor<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 30_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; server stderr:\n${this.stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Published diagnostics of a file (push mode). */
  diagnosticsOf(uri: string): Proto.Diagnostic[] {
    return this.published.get(uri) ?? [];
  }

  /** Waits for published diagnostics of `uri` matching `pred`. */
  waitForDiagnostics(uri: string, pred: (d: Proto.Diagnostic[]) => boolean, what = `diagnostics of ${uri}`): Promise<Proto.Diagnostic[]> {
    return this.waitFor(() => {
      const d = this.published.get(uri);
      return d !== undefined && pred(d) ? d : undefined;
    }, what);
  }

  /** Sends didOpen. */
  async open(uri: string, text: string): Promise<void> {
    this.versions.set(uri, 1);
    this.texts.set(uri, text);
    await this.conn.sendNotification(proto.DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: "yaml", version: 1, text } });
  }

  /** Sends didChange replacing the whole text. */
  async change(uri: string, text: string): Promise<void> {
    const v = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, v);
    this.texts.set(uri, text);
    await this.conn.sendNotification(proto.DidChangeTextDocumentNotification.type, { textDocument: { uri, version: v }, contentChanges: [{ text }] });
  }

  /** Sends an incremental didChange (one edit). */
  async edit(uri: string, range: Proto.Range, newText: string): Promise<void> {
    const v = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, v);
    await this.conn.sendNotification(proto.DidChangeTextDocumentNotification.type, { textDocument: { uri, version: v }, contentChanges: [{ range, text: newText }] });
  }

  async close(uri: string): Promise<void> {
    await this.conn.sendNotification(proto.DidCloseTextDocumentNotification.type, { textDocument: { uri } });
  }

  /** Sends didChangeWatchedFiles. */
  async filesChanged(changes: { uri: string; type: 1 | 2 | 3 }[]): Promise<void> {
    await this.conn.sendNotification(proto.DidChangeWatchedFilesNotification.type, { changes });
  }

  /** Shuts the server down and checks it exits. */
  async stop(): Promise<number | null> {
    const exited = new Promise<number | null>((r) => this.proc.once("exit", (code) => r(code)));
    try {
      await this.conn.sendRequest(proto.ShutdownRequest.type);
      await this.conn.sendNotification(proto.ExitNotification.type);
    } catch {
      this.proc.kill();
    }
    const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    this.conn.dispose();
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
    return code;
  }
}

/** The position of the first occurrence of `needle` in `text` (0-based LSP), plus `delta` characters. */
export function positionOf(text: string, needle: string, delta = 0): Proto.Position {
  const i = text.indexOf(needle);
  if (i === -1) throw new Error(`"${needle}" not in the text`);
  const before = text.slice(0, i + delta);
  const line = before.split("\n").length - 1;
  return { line, character: before.length - before.lastIndexOf("\n") - 1 };
}

/** The LSP range of the first occurrence of `needle` in `text` (after `after`, when given). */
export function rangeOf(text: string, needle: string, after?: string): Proto.Range {
  const from = after === undefined ? 0 : text.indexOf(after);
  if (from === -1) throw new Error(`"${after}" not in the text`);
  const i = text.indexOf(needle, from);
  if (i === -1) throw new Error(`"${needle}" not in the text`);
  const at = (o: number): Proto.Position => {
    const before = text.slice(0, o);
    return { line: before.split("\n").length - 1, character: o - (before.lastIndexOf("\n") + 1) };
  };
  return { start: at(i), end: at(i + needle.length) };
}
