/**
 * Extension entry point: starts the language client, registers the commands and the Secrets
 * view. Everything else lives in the server (checks, completion, navigation) and in
 * secret-writer.ts (encrypted writes).
 */
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import { IndexChangedNotification, ProjectsRequest } from "@stellar-secrets/language-server/protocol";
import { createClient } from "./client.js";
import { registerCommands } from "./commands.js";
import { SecretsTreeProvider } from "./secrets-view.js";
import { registerTestCredential } from "./test-credential.js";

let client: LanguageClient | undefined;

/** Called by VS Code when a workspace holds a stellar.yaml. */
export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const c = createClient(context);
  client = c;
  const view = new SecretsTreeProvider(async () => {
    if (!c.isRunning()) return [];
    return (await c.sendRequest(ProjectsRequest, {})).projects;
  });
  context.subscriptions.push(vscode.window.registerTreeDataProvider("stellarSecrets.secrets", view));
  registerCommands(context, { client: c, view });
  registerTestCredential(context, () => view.getProjects());
  context.subscriptions.push(
    vscode.commands.registerCommand("stellarSecrets.restartServer", async () => {
      await c.restart();
      view.refresh();
    }),
  );
  await vscode.commands.executeCommand("setContext", "stellarSecrets.active", true);
  await c.start();
  // the index changes on every keystroke in a config file: redraw the view at most every 300 ms
  let timer: NodeJS.Timeout | undefined;
  context.subscriptions.push(
    c.onNotification(IndexChangedNotification, () => {
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        view.refresh();
      }, 300);
    }),
  );
  view.refresh();
}

/** Stops the server. */
export async function deactivate(): Promise<void> {
  await client?.stop();
}
