/** Starts the bundled language server over IPC and connects it to VS Code. */
import * as vscode from "vscode";
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from "vscode-languageclient/node";
import { serverProcessEnv } from "./server-env.js";

/** Creates (but does not start) the client for the server bundled at `dist/server.mjs`, logging to `outputChannel`. */
export function createClient(context: vscode.ExtensionContext, outputChannel: vscode.LogOutputChannel): LanguageClient {
  const module = context.asAbsolutePath("dist/server.mjs");
  const serverOptions: ServerOptions = {
    // (no certificate bundle read at the server's start: it makes no TLS connection, server-env.ts)
    run: { module, transport: TransportKind.ipc, options: { env: serverProcessEnv() } },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ["--nolazy", "--inspect=6011"], env: serverProcessEnv() } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "yaml" }],
    // The server registers its own file watchers (didChangeWatchedFiles dynamic registration),
    // so every LSP client gets disk changes, not only this one.
    synchronize: { configurationSection: "stellarSecrets" },
    // one channel for the client, the server's log and the extension's own lines
    outputChannel,
    diagnosticPullOptions: { onChange: true, onSave: true },
    // this client runs the stellarSecrets.* commands the server's quick fixes and completions name,
    // and refreshes its Secrets view on stellarSecrets/indexChanged; the server keeps its cache of
    // config models in this extension's storage folder (the workspace's, else the global one)
    initializationOptions: { clientCommands: true, indexChanged: true, indexCacheDir: (context.storageUri ?? context.globalStorageUri).fsPath },
  };
  return new LanguageClient("stellarSecrets", "Stellar Secrets", serverOptions, clientOptions);
}
