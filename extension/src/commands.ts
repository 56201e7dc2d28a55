/**
 * The commands: add a secret, set a value, delete a secret, move a plaintext credential to a
 * secret, show a secret's references. Names and references come from the language server;
 * values go from a password box (or, for a move, from the document in this process) straight
 * into the encrypted file ({@link applyChanges}); nothing is logged. Before asking for a value,
 * the commands check that a key can write the environment ({@link checkWriteAccess}); errors
 * are one short sentence with a "Show output" action (the details go to the output channel).
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
import { planMoveToSecret } from "@stellar-secrets/language-server/move-to-secret";
import type { MoveToSecretArguments } from "@stellar-secrets/language-server/protocol";
import { acceptedSecretName, environmentPickOrder, refsLabel, requestedEnvironments } from "./presentation.js";
import { applyChanges, canWrite, proposalFolder, SecretWriteError, writeProposal, type SecretChange } from "./secret-writer.js";
import type { SecretsNode, SecretsTreeProvider } from "./secrets-view.js";
import { checkWriteAccess } from "./write-access.js";

/** Everything the commands need. */
export interface CommandContext {
  client: LanguageClient;
  view: SecretsTreeProvider;
  output: vscode.LogOutputChannel;
  /** Called after a command wrote files (the status bar re-checks the key). */
  afterWrite?: () => void;
}

/** A failure to show as one short sentence, with details for the output channel. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = "CommandError";
  }
}

/** Logs `detail` (never a value) and shows `message` with a "Show output" action. */
export async function showError(output: vscode.LogOutputChannel, message: string, detail?: string): Promise<void> {
  output.error(detail === undefined ? message : `${message}\n${detail}`);
  const answer = await vscode.window.showErrorMessage(`Stellar Secrets: ${message}`, "Show output");
  if (answer === "Show output") output.show(true);
}

/** Registers every command of the extension. */
export function registerCommands(context: vscode.ExtensionContext, ctx: CommandContext): void {
  const reg = (id: string, fn: (...args: unknown[]) => Promise<void>) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          await fn(...args);
        } catch (e) {
          const message = (e as Error).message;
          if (e instanceof CommandError) void showError(ctx.output, message, e.detail);
          // an unexpected error can be long (paths, sources): its start in the toast, all of it in the output
          else if (message.length > 120) void showError(ctx.output, `${message.slice(0, 100)}…`, message);
          else void showError(ctx.output, message);
        }
      }),
    );
  reg("stellarSecrets.addSecret", (name, root) => addSecret(ctx, typeof name === "string" ? name : undefined, typeof root === "string" ? root : undefined));
  reg("stellarSecrets.setValue", (a, b, c) => setValue(ctx, ...target(a, b, c)));
  reg("stellarSecrets.deleteSecret", (a, b) => deleteSecret(ctx, ...target(a, b, undefined)));
  reg("stellarSecrets.moveToSecret", (a) => moveToSecret(ctx, a as MoveToSecretArguments));
  reg("stellarSecrets.showReferences", (a, b) => showReferences(ctx, ...target(a, b, undefined)));
  reg("stellarSecrets.refresh", async () => ctx.view.refresh());
  reg("stellarSecrets.showOutput", async () => ctx.output.show(true));
}

/**
 * Arguments come either from a code action (`name`, `root`, and for *Set a value* the
 * environments to fill) or from a view node (a secret, or one environment of a secret).
 */
function target(a: unknown, b: unknown, c: unknown): [string | undefined, string | undefined, string[] | undefined] {
  if (typeof a === "string") {
    const envs = Array.isArray(c) ? c.filter((x): x is string => typeof x === "string") : typeof c === "string" ? [c] : undefined;
    return [a, typeof b === "string" ? b : undefined, envs];
  }
  const node = a as SecretsNode | undefined;
  if (node?.type === "secret") return [node.secret.name, node.project.root, undefined];
  if (node?.type === "environment") return [node.secret.name, node.project.root, [node.environment.name]];
  return [undefined, undefined, undefined];
}

/** Writing is refused in Restricted Mode: stellar.yaml chooses who can decrypt what you type. */
function requireTrust(): void {
  if (!vscode.workspace.isTrusted) {
    throw new CommandError(
      "Setting values is disabled in Restricted Mode: trust this workspace first.",
      "An untrusted stellar.yaml decides whose keys your values are encrypted for, so Stellar Secrets only checks and navigates in Restricted Mode.",
    );
  }
}

/** Checks every environment before anything is asked; throws a {@link CommandError} naming what to do. */
async function requireAccess(envs: readonly EnvironmentInfo[]): Promise<void> {
  for (const env of envs) {
    const access = await checkWriteAccess(env);
    if (!access.ok) throw new CommandError(access.message, access.detail);
  }
}

/** Asks before replacing a value that is already set. True to go on. */
async function confirmReplace(secret: string, env: string): Promise<boolean> {
  const answer = await vscode.window.showWarningMessage(
    `${secret} already has a value in ${env}. Replace it?`,
    { modal: true, detail: "The current value is overwritten (it stays in git history)." },
    "Replace",
  );
  return answer === "Replace";
}

async function pickProject(ctx: CommandContext, root: string | undefined): Promise<ProjectInfo | undefined> {
  ctx.view.refresh();
  const projects = (await ctx.view.getProjects()).filter((p) => p.valid);
  if (root !== undefined) {
    const p = projects.find((x) => x.root === root);
    if (p === undefined) throw new CommandError(`No valid stellar.yaml at ${vscode.workspace.asRelativePath(root, true)}.`);
    return p;
  }
  if (projects.length === 0) throw new CommandError("No valid stellar.yaml in this workspace.");
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
    if (s === undefined) throw new CommandError(`There is no secret "${name}" in ${vscode.workspace.asRelativePath(project.configPath, true)}.`);
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
  const failures: { env: string; message: string }[] = [];
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: "Encrypting…" }, async () => {
    for (const [env, changes] of perEnv) {
      try {
        await applyChanges(env, changes);
        written.push(env.file);
      } catch (e) {
        failures.push({ env: env.name, message: (e as Error).message });
      }
    }
  });
  if (written.length > 0) await ctx.client.sendNotification(FilesChangedNotification, { paths: written });
  ctx.view.refresh();
  ctx.afterWrite?.();
  if (failures.length > 0) {
    throw new CommandError(
      `Could not write ${failures.map((f) => f.env).join(", ")}${written.length > 0 ? ` (${written.length} other file(s) written)` : ""}.`,
      failures.map((f) => f.message).join("\n"),
    );
  }
  return written;
}

async function addSecret(ctx: CommandContext, suggested: string | undefined, root: string | undefined): Promise<void> {
  requireTrust();
  const project = await pickProject(ctx, root);
  if (project === undefined) return;
  // the key first: nothing is asked that could not be written
  const writable: EnvironmentInfo[] = [];
  const denied: string[] = [];
  let firstDenial: { code: string; message: string; detail: string } | undefined;
  for (const env of project.environments) {
    const access = await checkWriteAccess(env);
    if (access.ok) writable.push(env);
    else {
      denied.push(env.name);
      firstDenial ??= access;
      ctx.output.warn(access.detail);
    }
  }
  if (writable.length === 0) {
    const message =
      denied.length === 1 && firstDenial ? firstDenial.message : firstDenial?.code === "NO_IDENTITY" ? "No age key found: you cannot set values." : "Your age key cannot write any environment: ask a member to add you.";
    throw new CommandError(message, firstDenial?.detail);
  }
  if (denied.length > 0) void vscode.window.showWarningMessage(`Skipping ${denied.join(", ")}: your key cannot write ${denied.length === 1 ? "it" : "them"}.`, "Show output").then((a) => a && ctx.output.show(true));
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
  for (const env of writable) {
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

async function setValue(ctx: CommandContext, name: string | undefined, root: string | undefined, envNames: string[] | undefined): Promise<void> {
  requireTrust();
  const project = await pickProject(ctx, root);
  if (project === undefined) return;
  const secret = await pickSecret(project, name, "Set the value of which secret?");
  if (secret === undefined) return;
  let envs = requestedEnvironments(project, envNames);
  if (envs.length === 0) {
    // no environment given: the ones without a value first (the likely target), none preselected
    const pick = await vscode.window.showQuickPick(
      environmentPickOrder(project, secret).map(({ env, set }) => ({ label: env.name, description: set ? "has a value (replace)" : "no value", env })),
      { title: `Set ${secret.name} in which environment?` },
    );
    if (pick === undefined) return;
    envs = [pick.env];
  }
  // no key opens the one environment chosen: offer a write-only proposal before asking for a value
  if (envs.length === 1 && !(await canWrite(envs[0]!))) {
    await proposeValue(ctx, secret.name, envs[0]!);
    return;
  }
  await requireAccess(envs);
  const perEnv = new Map<EnvironmentInfo, SecretChange[]>();
  for (const env of envs) {
    if (secret.environments.includes(env.name) && !(await confirmReplace(secret.name, env.name))) return;
    const value = await askValue(secret.name, env, envs.length > 1);
    if (value === undefined) return;
    if (value !== "") perEnv.set(env, [{ name: secret.name, value }]);
  }
  if (perEnv.size === 0) return;
  await write(ctx, perEnv);
  void vscode.window.showInformationMessage(`Set ${secret.name} in ${[...perEnv.keys()].map((e) => e.name).join(", ")}.`);
}

/**
 * Moves a plaintext credential (a `plaintext-credential` finding) into a new secret: the literal
 * is read from the document here and encrypted into the chosen environments; then the field
 * becomes a reference and the document is saved. The value is never shown, logged or sent.
 */
async function moveToSecret(ctx: CommandContext, args: MoveToSecretArguments | undefined): Promise<void> {
  requireTrust();
  if (args === undefined || typeof args.uri !== "string") throw new CommandError("Move to a secret needs a plaintext-credential finding (use its quick fix).");
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(args.uri));
  const at = (d: vscode.TextDocument) => d.offsetAt(new vscode.Position(args.range.start.line, args.range.start.character));
  const plan = planMoveToSecret(doc.getText(), at(doc));
  if (plan === undefined) throw new CommandError("This value is not in a field that can reference a secret.");
  const project = await pickProject(ctx, args.root);
  if (project === undefined) return;
  const chosen = await pickSecretName(ctx, project, typeof args.name === "string" ? args.name : undefined);
  if (chosen === undefined) return;
  const { name, existing } = chosen;
  const picks = await vscode.window.showQuickPick(
    project.environments.map((env) => {
      const set = existing?.environments.includes(env.name) ?? false;
      // a new secret goes everywhere by default; an existing one where it has no value yet
      return { label: env.name, description: set ? "has a value (replace)" : undefined, picked: !set, env };
    }),
    { title: `Store the value as ${name} in which environments?`, canPickMany: true, ignoreFocusOut: true },
  );
  if (picks === undefined || picks.length === 0) return;
  const envs = picks.map((p) => p.env);
  await requireAccess(envs);
  for (const env of envs) if (existing?.environments.includes(env.name) && !(await confirmReplace(name, env.name))) return;
  // the document may have changed while the pickers were open: plan again, and refuse if the literal moved or changed
  const again = planMoveToSecret(doc.getText(), at(doc));
  if (again === undefined || again.value !== plan.value) throw new CommandError("The document changed while you were choosing: run the quick fix again.");
  await write(ctx, new Map(envs.map((e) => [e, [{ name, value: again.value }]])));
  const edit = new vscode.WorkspaceEdit();
  for (const e of again.edits(name)) edit.replace(doc.uri, new vscode.Range(doc.positionAt(e.start), doc.positionAt(e.end)), e.newText);
  if (!(await vscode.workspace.applyEdit(edit)) || !(await doc.save())) {
    throw new CommandError(`Stored ${name}, but could not update ${vscode.workspace.asRelativePath(doc.uri)}: ${again.byHand(name)} by hand.`);
  }
  void vscode.window.showInformationMessage(`Moved the value to secret ${name} (${envs.map((e) => e.name).join(", ")}). It is still in git history: rotate it at the provider.`);
}

/**
 * Asks for the secret a moved value goes to: a new name typed (validated by the server as it is
 * typed) or an existing secret picked; `proposed` (the finding's suggested name) is pre-filled
 * and offered, and the user may change it. Undefined when cancelled.
 */
function pickSecretName(ctx: CommandContext, project: ProjectInfo, proposed?: string): Promise<{ name: string; existing?: SecretInfo } | undefined> {
  type Item = vscode.QuickPickItem & { secret?: SecretInfo; create?: string };
  const qp = vscode.window.createQuickPick<Item>();
  qp.title = "Move to a secret";
  qp.placeholder = "Type a new name (lowercase_with_underscores, e.g. stripe_api_key) or pick an existing secret";
  qp.ignoreFocusOut = true;
  const existing: Item[] = project.secrets.map((s) => ({ label: s.name, description: `existing · ${s.environments.join(", ") || "no value"}`, secret: s }));
  qp.items = existing;
  let seq = 0;
  const offer = async (typed: string): Promise<void> => {
    const v = typed.trim();
    const mine = ++seq;
    if (v === "" || project.secrets.some((s) => s.name === v)) {
      qp.items = existing;
      return;
    }
    const { message } = await ctx.client.sendRequest(ValidateNameRequest, { root: project.root, name: v, existing: "refuse" });
    if (mine !== seq) return;
    const item: Item = { label: `$(add) New secret ${v}`, alwaysShow: true };
    if (message === undefined) item.create = v;
    else item.detail = message;
    qp.items = [item, ...existing];
  };
  qp.onDidChangeValue(offer);
  if (proposed !== undefined && proposed !== "") {
    // pre-filled and offered at once (a value set by the extension may not fire onDidChangeValue)
    qp.value = proposed;
    void offer(proposed);
  }
  return new Promise((resolve) => {
    let done = false;
    qp.onDidAccept(() => {
      // an invalid new name, or one whose check has not come back yet: keep the picker open (its reason is shown)
      const result = acceptedSecretName(qp.selectedItems[0], qp.value);
      if (result === undefined) return;
      done = true;
      resolve(result);
      qp.hide();
    });
    qp.onDidHide(() => {
      if (!done) resolve(undefined);
      qp.dispose();
    });
    qp.show();
  });
}

/** Shows the references of a secret: opens the only one, or lets the user pick one. */
async function showReferences(ctx: CommandContext, name: string | undefined, root: string | undefined, _env?: string[]): Promise<void> {
  const project = await pickProject(ctx, root);
  if (project === undefined) return;
  const secret = await pickSecret(project, name, "Show the references of which secret?");
  if (secret === undefined) return;
  const { references } = await ctx.client.sendRequest(UsageRequest, { root: project.root, name: secret.name });
  const open = async (r: (typeof references)[number]): Promise<void> => {
    const range = new vscode.Range(r.range.start.line, r.range.start.character, r.range.end.line, r.range.end.character);
    await vscode.window.showTextDocument(vscode.Uri.parse(r.uri), { selection: range, preview: true });
  };
  if (references.length === 0) {
    void vscode.window.showInformationMessage(`Nothing references ${secret.name}.`);
    return;
  }
  if (references.length === 1) return open(references[0]!);
  const pick = await vscode.window.showQuickPick(
    references.map((r) => ({ label: `${r.file}:${r.line}`, description: r.owner, ref: r })),
    { title: `${secret.name}: ${refsLabel(references.length)}`, matchOnDescription: true },
  );
  if (pick !== undefined) await open(pick.ref);
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

async function deleteSecret(ctx: CommandContext, name: string | undefined, root: string | undefined, _env: string[] | undefined): Promise<void> {
  requireTrust();
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
  await requireAccess(envs);
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
