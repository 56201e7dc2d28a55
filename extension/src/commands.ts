/**
 * The commands: add a secret, set a value, delete a secret. Names and references come from the
 * language server; values go from a password box straight into the encrypted file
 * ({@link applyChanges}); nothing is logged.
 */
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import {
  CatalogRemovalRequest,
  FilesChangedNotification,
  UsageRequest,
  ValidateNameRequest,
  type EnvironmentInfo,
  type ProjectInfo,
  type SecretInfo,
} from "@stellar-secrets/language-server/protocol";
import { applyChanges, canWrite, proposalFolder, SecretWriteError, writeProposal, type SecretChange } from "./secret-writer.js";
import type { SecretsNode, SecretsTreeProvider } from "./secrets-view.js";

/** Everything the commands need. */
export interface CommandContext {
  client: LanguageClient;
  view: SecretsTreeProvider;
}

/** Registers every command of the extension. */
export function registerCommands(context: vscode.ExtensionContext, ctx: CommandContext): void {
  const reg = (id: string, fn: (...args: unknown[]) => Promise<void>) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          await fn(...args);
        } catch (e) {
          void vscode.window.showErrorMessage(e instanceof SecretWriteError ? `Stellar Secrets: ${e.message}` : `Stellar Secrets: ${(e as Error).message}`);
        }
      }),
    );
  reg("stellarSecrets.addSecret", (name, root) => addSecret(ctx, typeof name === "string" ? name : undefined, typeof root === "string" ? root : undefined));
  reg("stellarSecrets.setValue", (a, b) => setValue(ctx, ...target(a, b)));
  reg("stellarSecrets.deleteSecret", (a, b) => deleteSecret(ctx, ...target(a, b)));
  reg("stellarSecrets.refresh", async () => ctx.view.refresh());
}

/** Arguments come either from a code action (`name`, `root`) or from a view node. */
function target(a: unknown, b: unknown): [string | undefined, string | undefined, string | undefined] {
  if (typeof a === "string") return [a, typeof b === "string" ? b : undefined, undefined];
  const node = a as SecretsNode | undefined;
  if (node?.type === "secret") return [node.secret.name, node.project.root, undefined];
  if (node?.type === "environment") return [node.secret.name, node.project.root, node.environment.name];
  return [undefined, undefined, undefined];
}

async function pickProject(ctx: CommandContext, root: string | undefined): Promise<ProjectInfo | undefined> {
  ctx.view.refresh();
  const projects = (await ctx.view.getProjects()).filter((p) => p.valid);
  if (root !== undefined) {
    const p = projects.find((x) => x.root === root);
    if (p === undefined) throw new Error(`no valid stellar.yaml at ${root}`);
    return p;
  }
  if (projects.length === 0) throw new Error("no valid stellar.yaml in this workspace");
  if (projects.length === 1) return projects[0];
  const pick = await vscode.window.showQuickPick(
    projects.map((p) => ({ label: vscode.workspace.asRelativePath(p.root, true), project: p })),
    { title: "Which secrets repository?" },
  );
  return pick?.project;
}

async function pickSecret(project: ProjectInfo, name: string | undefined, title: string): Promise<SecretInfo | undefined> {
  if (name !== undefined) {
    const s = project.secrets.find((x) => x.name === name);
    if (s === undefined) throw new Error(`there is no secret "${name}" in ${project.configPath}`);
    return s;
  }
  const pick = await vscode.window.showQuickPick(
    project.secrets.map((s) => ({ label: s.name, description: `${s.references} refs · ${s.environments.join(", ")}`, secret: s })),
    { title, matchOnDescription: true },
  );
  return pick?.secret;
}

/** Asks for one value, hidden. Undefined when the user cancels. */
function askValue(name: string, env: EnvironmentInfo, optional: boolean): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: `${name} in ${env.name}`,
    prompt: optional ? `Value of ${name} in ${env.name} (leave empty to skip this environment)` : `New value of ${name} in ${env.name}`,
    password: true,
    ignoreFocusOut: true,
    validateInput: (v) => (!optional && v === "" ? "Enter a value (Escape cancels)." : undefined),
  });
}

async function write(ctx: CommandContext, perEnv: Map<EnvironmentInfo, SecretChange[]>): Promise<string[]> {
  const written: string[] = [];
  const failures: string[] = [];
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: "Encrypting…" }, async () => {
    for (const [env, changes] of perEnv) {
      try {
        await applyChanges(env, changes);
        written.push(env.file);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  });
  if (written.length > 0) await ctx.client.sendNotification(FilesChangedNotification, { paths: written });
  ctx.view.refresh();
  if (failures.length > 0) throw new Error(failures.join("; "));
  return written;
}

async function addSecret(ctx: CommandContext, suggested: string | undefined, root: string | undefined): Promise<void> {
  const project = await pickProject(ctx, root);
  if (project === undefined) return;
  const name = await vscode.window.showInputBox({
    title: "Add secret",
    prompt: "Secret name: lowercase_with_underscores, starting with the service (e.g. stripe_api_key)",
    value: suggested ?? "",
    ignoreFocusOut: true,
    validateInput: async (v) => {
      const r = await ctx.client.sendRequest(ValidateNameRequest, { root: project.root, name: v, existing: "refuse" });
      return r.message;
    },
  });
  if (name === undefined) return;
  const perEnv = new Map<EnvironmentInfo, SecretChange[]>();
  for (const env of project.environments) {
    const value = await askValue(name, env, true);
    if (value === undefined) return; // cancelled: nothing written
    if (value !== "") perEnv.set(env, [{ name, value }]);
  }
  if (perEnv.size === 0) {
    void vscode.window.showWarningMessage(`No value given for ${name}: nothing was written. A secret exists once one environment has a value.`);
    return;
  }
  await write(ctx, perEnv);
  void vscode.window.showInformationMessage(`Added ${name} to ${[...perEnv.keys()].map((e) => e.name).join(", ")}.`);
}

async function setValue(ctx: CommandContext, name: string | undefined, root: string | undefined, envName: string | undefined): Promise<void> {
  const project = await pickProject(ctx, root);
  if (project === undefined) return;
  const secret = await pickSecret(project, name, "Set the value of which secret?");
  if (secret === undefined) return;
  let env = project.environments.find((e) => e.name === envName);
  if (env === undefined) {
    const pick = await vscode.window.showQuickPick(
      project.environments.map((e) => ({ label: e.name, description: secret.environments.includes(e.name) ? "set" : "missing", env: e })),
      { title: `Set ${secret.name} in which environment?` },
    );
    env = pick?.env;
  }
  if (env === undefined) return;
  if (!(await canWrite(env))) {
    await proposeValue(ctx, secret.name, env);
    return;
  }
  const value = await askValue(secret.name, env, false);
  if (value === undefined) return;
  await write(ctx, new Map([[env, [{ name: secret.name, value }]]]));
  void vscode.window.showInformationMessage(`Set ${secret.name} in ${env.name}.`);
}

/**
 * No key of the user's opens the environment: offer a write-only proposal, saying so before the
 * value is asked for (the same file `stellar-secrets set` writes without a key).
 */
async function proposeValue(ctx: CommandContext, name: string, env: EnvironmentInfo): Promise<void> {
  const choice = await vscode.window.showInformationMessage(
    `You have no key for ${env.name}. Propose a value for ${name} instead?`,
    {
      modal: true,
      detail:
        `The value will be written as a proposal (${vscode.workspace.asRelativePath(proposalFolder(env))}/${name}.<id>.age), encrypted to the ${env.recipients.length} member key(s) of ${env.name} only. ` +
        `You will not be able to read it back. Commit it and open a pull request; a member applies it with \`stellar-secrets inbox apply ${name} --env ${env.name}\`.`,
    },
    "Propose a value",
  );
  if (choice !== "Propose a value") return;
  const value = await vscode.window.showInputBox({
    title: `Proposal: ${name} in ${env.name}`,
    prompt: `Value of ${name} to propose for ${env.name} (readable by its members only, not by you)`,
    password: true,
    ignoreFocusOut: true,
    validateInput: (v) => (v === "" ? "Enter a value (Escape cancels)." : undefined),
  });
  if (value === undefined) return;
  const path = await writeProposal(env, name, value);
  await ctx.client.sendNotification(FilesChangedNotification, { paths: [path] });
  ctx.view.refresh();
  void vscode.window.showInformationMessage(`Proposed a value for ${name} in ${env.name}: ${vscode.workspace.asRelativePath(path)}. Commit it and open a pull request.`);
}

async function deleteSecret(ctx: CommandContext, name: string | undefined, root: string | undefined, _env: string | undefined): Promise<void> {
  const project = await pickProject(ctx, root);
  if (project === undefined) return;
  const secret = await pickSecret(project, name, "Delete which secret?");
  if (secret === undefined) return;
  const { references } = await ctx.client.sendRequest(UsageRequest, { root: project.root, name: secret.name });
  const envs = project.environments.filter((e) => secret.environments.includes(e.name));
  const detail =
    references.length === 0
      ? `Nothing references ${secret.name}. It will be removed from ${envs.map((e) => e.name).join(", ")}.`
      : `${secret.name} is still referenced ${references.length} time(s); deleting it breaks:\n` +
        references.map((r) => `  ${r.file}:${r.line} (${r.owner})`).join("\n") +
        `\n\nIt will be removed from ${envs.map((e) => e.name).join(", ")}.`;
  const answer = await vscode.window.showWarningMessage(
    `Delete secret ${secret.name}?`,
    { modal: true, detail },
    references.length === 0 ? "Delete" : "Delete anyway",
  );
  if (answer === undefined) return;
  await write(ctx, new Map(envs.map((e) => [e, [{ name: secret.name, value: undefined }]])));
  // the catalog entry goes too (a catalog entry without a secret is an unknown-secret error)
  const { edit } = await ctx.client.sendRequest(CatalogRemovalRequest, { root: project.root, name: secret.name });
  if (edit !== undefined) {
    const wsEdit = await ctx.client.protocol2CodeConverter.asWorkspaceEdit(edit);
    const applied = await vscode.workspace.applyEdit(wsEdit);
    let saved = applied;
    // TextDocument.save works for documents without an editor (workspace.save needs one)
    for (const [uri] of applied ? wsEdit.entries() : []) saved = (await (await vscode.workspace.openTextDocument(uri)).save()) && saved;
    if (!saved) void vscode.window.showWarningMessage(`Deleted ${secret.name}, but could not update the catalog: remove its entry from catalog.yaml by hand.`);
  }
  void vscode.window.showInformationMessage(`Deleted ${secret.name}.`);
}
