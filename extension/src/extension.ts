/**
 * Extension entry point: starts the language client, registers the commands, the Secrets view
 * and the status bar, and logs what it does (version, projects, identity status, server
 * restarts) to the "Stellar Secrets" output channel it shares with the client. Everything else
 * lives in the server (checks, completion, navigation) and in secret-writer.ts (encrypted writes).
 */
import * as vscode from "vscode";
import { State, type LanguageClient } from "vscode-languageclient/node";
import { IndexChangedNotification, ProjectsRequest, type ProjectInfo } from "@stellar-secrets/language-server/protocol";
import { createClient } from "./client.js";
import { registerCommands } from "./commands.js";
import { SecretsTreeProvider } from "./secrets-view.js";
import { StatusBar } from "./status.js";
import { registerTestCredential } from "./test-credential.js";

let client: LanguageClient | undefined;

/** Called by VS Code when a workspace holds a stellar.yaml. */
export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("Stellar Secrets", { log: true });
  context.subscriptions.push(output);
  const log = (line: string): void => output.info(line);
  const version = (context.extension.packageJSON as { version?: string }).version ?? "?";
  log(`Stellar Secrets ${version} (VS Code ${vscode.version}${vscode.workspace.isTrusted ? "" : ", Restricted Mode: values cannot be set"})`);
  const c = createClient(context, output);
  client = c;
  const projects = async (): Promise<ProjectInfo[]> => (c.isRunning() ? (await c.sendRequest(ProjectsRequest, {})).projects : []);
  const view = new SecretsTreeProvider(projects);
  const status = new StatusBar(output, projects);
  context.subscriptions.push(status, vscode.window.registerTreeDataProvider("stellarSecrets.secrets", view));
  registerCommands(context, { client: c, view, output, afterWrite: () => void status.refresh() });
  let starts = 0;
  registerTestCredential(context, () => view.getProjects());
  context.subscriptions.push(
    vscode.commands.registerCommand("stellarSecrets.restartServer", async () => {
      log("restarting the language server (command)");
      await c.restart();
      view.refresh();
    }),
    c.onDidChangeState((e) => {
      if (e.newState === State.Running) {
        const info = c.initializeResult?.serverInfo;
        log(`language server ${starts++ === 0 ? "running" : "restarted"}${info ? ` (${info.name} ${info.version ?? ""})`.trimEnd() : ""}`);
        if (starts > 1) {
          view.refresh();
          void status.refresh();
        }
      } else if (e.newState === State.Stopped) log("language server stopped");
    }),
  );
  await vscode.commands.executeCommand("setContext", "stellarSecrets.active", true);
  try {
    await c.start();
  } catch (e) {
    log(`language server failed to start: ${(e as Error).message}`);
    void vscode.window.showErrorMessage("Stellar Secrets: the language server did not start.", "Show output").then((a) => a && output.show(true));
    return;
  }
  const logProjects = async (): Promise<ProjectInfo[]> => {
    const list = await projects();
    const lines = list.map(
      (p) =>
        `  ${vscode.workspace.asRelativePath(p.configPath, true)}: ${p.valid ? `${p.environments.map((e) => e.name).join(", ") || "no environments"}; ${p.secrets.length} secret(s)${p.stale ? " (stellar.yaml has errors: last good version)" : ""}` : "has errors"}`,
    );
    log(`projects: ${list.length}${lines.length > 0 ? `\n${lines.join("\n")}` : ""}`);
    return list;
  };
  // the index changes on every keystroke in a config file: redraw the view at most every 300 ms
  let timer: NodeJS.Timeout | undefined;
  let lastProjects = "";
  context.subscriptions.push(
    c.onNotification(IndexChangedNotification, () => {
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        view.refresh();
        void projects().then((list) => {
          status.setProjects(list);
          const shape = JSON.stringify(list.map((p) => [p.root, p.valid, p.stale, p.environments.map((e) => e.name)]));
          if (shape !== lastProjects) {
            lastProjects = shape;
            void logProjects();
            void status.refresh(); // environment files may have appeared: which ones the key opens
          }
        });
      }, 300);
    }),
  );
  view.refresh();
  const list = await logProjects();
  lastProjects = JSON.stringify(list.map((p) => [p.root, p.valid, p.stale, p.environments.map((e) => e.name)]));
  await status.refresh();
}

/** Stops the server. */
export async function deactivate(): Promise<void> {
  await client?.stop();
}
