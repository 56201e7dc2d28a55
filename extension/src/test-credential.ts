/**
 * "Stellar Secrets: Test Credential": runs `stellar-secrets probe CONNECTION --env ENV --json`
 * (the CLI, with the user's own key) for the api_connection under the cursor or one typed in, and
 * shows the result. The CLI never prints a value, and nothing here handles one.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import * as vscode from "vscode";
import type { ProjectInfo } from "@stellar-secrets/language-server/protocol";
import { cliCommand, connectionAt, describeProbe, probeArgs } from "./probe-result.js";

/** The CLI to run ({@link cliCommand}): never in Restricted Mode. */
function cliFor(root: string): string {
  const configured = vscode.workspace.getConfiguration("stellarSecrets").get<string>("cliPath", "");
  const cli = cliCommand({ configured, root, trusted: vscode.workspace.isTrusted, platform: process.platform, exists: existsSync });
  if ("refused" in cli) throw new Error(cli.refused);
  return cli.command;
}

/** Registers `stellarSecrets.testCredential` (arguments: connection name, project root; both optional). */
export function registerTestCredential(context: vscode.ExtensionContext, projects: () => Promise<ProjectInfo[]>): void {
  context.subscriptions.push(
    vscode.commands.registerCommand("stellarSecrets.testCredential", async (name?: unknown, root?: unknown) => {
      try {
        await testCredential(projects, typeof name === "string" ? name : undefined, typeof root === "string" ? root : undefined);
      } catch (e) {
        void vscode.window.showErrorMessage(`Stellar Secrets: ${(e as Error).message}`);
      }
    }),
  );
}

async function testCredential(projects: () => Promise<ProjectInfo[]>, name: string | undefined, root: string | undefined): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const valid = (await projects()).filter((p) => p.valid);
  const fileRoot = editor === undefined ? undefined : valid.find((p) => editor.document.uri.fsPath.startsWith(p.root))?.root;
  const project = valid.find((p) => p.root === (root ?? fileRoot)) ?? (valid.length === 1 ? valid[0] : undefined);
  if (project === undefined) throw new Error(valid.length === 0 ? "no valid stellar.yaml in this workspace" : "open a connection file of the project to test");
  // (refused in Restricted Mode before anything is asked)
  const cli = cliFor(project.root);
  const connection =
    name ??
    (editor === undefined ? undefined : connectionAt(editor.document.getText(), editor.document.offsetAt(editor.selection.active))) ??
    (await vscode.window.showInputBox({ title: "Test Credential", prompt: "Name of the api_connection to probe" }));
  if (connection === undefined || connection === "") return;
  const env = await vscode.window.showQuickPick(
    project.environments.map((e) => e.name),
    { title: `Test the credentials of ${connection} in…` },
  );
  if (env === undefined) return;
  const stdout = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Probing ${connection} in ${env}…` },
    () =>
      new Promise<string>((resolve, reject) => {
        execFile(cli, probeArgs(connection, env), { cwd: project.root, timeout: 120_000, maxBuffer: 1 << 20 }, (error, out, err) => {
          // exit 1 is a probe that found a rejected credential: its JSON is the answer
          if (error !== null && out === "") reject(new Error(err.split("\n").find((l) => l.trim() !== "") ?? error.message));
          else resolve(out);
        });
      }),
  );
  const { severity, message } = describeProbe(stdout);
  const show = severity === "info" ? vscode.window.showInformationMessage : severity === "warning" ? vscode.window.showWarningMessage : vscode.window.showErrorMessage;
  void show(`Stellar Secrets: ${message}`);
}
