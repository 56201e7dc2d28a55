/**
 * The server's custom requests and notifications (`protocol.ts`): projects, usage, validate
 * name, catalog removal; `stellarSecrets/filesChanged` from the client and
 * `stellarSecrets/indexChanged` to it. No message carries a value, ever.
 */
import { catalogPath, LineIndex, removeCatalogEntry, secretsFilePath, validateSecretName } from "@stellar-secrets/core";
import { ErrorCodes, ResponseError } from "./lsp.js";
import { LastGoodModel } from "./last-good.js";
import { credentialNameProblem } from "./names.js";
import type { ProjectModel } from "./model.js";
import {
  CatalogRemovalRequest,
  FilesChangedNotification,
  IndexChangedNotification,
  ProjectsRequest,
  UsageRequest,
  ValidateNameRequest,
  type ProjectInfo,
} from "./protocol.js";
import { displayLine, toLspPosition } from "./ranges.js";
import type { ServerState } from "./state.js";
import { toProjectPath } from "./uris.js";
import type { FileChange } from "./watched-files.js";

/**
 * Sends `stellarSecrets/indexChanged` when an index change touched projects (`roots` not empty), to a
 * client that asked for it (`initializationOptions.indexChanged`, as the VS Code extension does):
 * other clients would log an unknown notification at every change.
 */
export function notifyIndexChanged(state: ServerState, roots: string[]): void {
  if (roots.length > 0 && state.indexChangedNotifications) void state.connection.sendNotification(IndexChangedNotification, { roots });
}

/** Registers the custom requests and `stellarSecrets/filesChanged` (handled by `on.filesChanged`). */
export function registerCustomRequests(state: ServerState, on: { filesChanged(changes: FileChange[]): Promise<void> }): void {
  const { connection, workspace } = state;
  connection.onNotification(
    FilesChangedNotification,
    state.guard("filesChanged", undefined, async (params) => on.filesChanged(params.paths.map((p) => ({ path: p, deleted: false })))),
  );
  connection.onRequest(
    ProjectsRequest,
    state.guard("projects", { projects: [] }, () => ({ projects: workspace.all().map(projectInfo) })),
  );
  connection.onRequest(
    UsageRequest,
    state.guard("usage", { references: [] }, (params) => {
      const model = workspace.get(params.root);
      if (model === undefined) return { references: [] };
      return {
        // an open document by the URI the client opened it with (ServerState.uriOf), as references and diagnostics name it
        references: model.referencesTo(params.name).map((r) => ({
          uri: state.uriOf(r.path),
          range: r.range,
          file: toProjectPath(model.root, r.path),
          line: displayLine(r.range.start),
          owner: `${r.ownerKind} ${r.ownerName ?? ""}`.trim(),
        })),
      };
    }),
  );
  connection.onRequest(
    CatalogRemovalRequest,
    state.guard("catalogRemoval", {}, async (params) => {
      const model = workspace.get(params.root);
      if (model?.config === undefined) return {};
      const path = catalogPath(model.config);
      const text = await workspace.read(path);
      if (text === undefined) return {};
      const next = removeCatalogEntry(text, params.name);
      if (next === text) return {};
      const end = toLspPosition(new LineIndex(text), text.length);
      return { edit: { changes: { [state.uriOf(path)]: [{ range: { start: { line: 0, character: 0 }, end }, newText: next }] } } };
    }),
  );
  connection.onRequest(
    ValidateNameRequest,
    // fails closed: a name the server could not check is refused (`{}` would let the box accept it)
    state.guard("validateName", { message: NAME_NOT_CHECKED }, (params: unknown) => {
      const p = validateNameParams(params);
      const message = secretNameProblem(p.name, () => workspace.get(p.root)?.secretNames() ?? [], p.existing);
      return message === undefined ? {} : { message };
    }),
  );
}

/** What `stellarSecrets/validateName` answers when checking the name failed inside the server: a refusal, never an acceptance. */
export const NAME_NOT_CHECKED = "the name could not be checked (the language server failed: see its output); try again";

/**
 * The parameters of `stellarSecrets/validateName`, or InvalidParams (-32602) when they are not
 * `{ root: string, name: string, existing: "allow" | "refuse" }`: a client's mistake is an error,
 * not an empty answer that says the name is fine.
 */
function validateNameParams(params: unknown): { root: string; name: string; existing: "allow" | "refuse" } {
  const p = (params !== null && typeof params === "object" ? params : {}) as Record<string, unknown>;
  if (typeof p.root !== "string" || typeof p.name !== "string" || (p.existing !== "allow" && p.existing !== "refuse")) {
    throw new ResponseError(ErrorCodes.InvalidParams, 'stellarSecrets/validateName: the parameters need root and name (strings) and existing ("allow" or "refuse")');
  }
  return { root: p.root, name: p.name, existing: p.existing };
}

/**
 * What is wrong with `name` as a new secret's name typed in the editor (the name boxes of Add
 * Secret and Move to Secret, through `stellarSecrets/validateName`), or undefined when nothing is:
 * a credential typed or pasted in its place (core's `credentialAsName`, the test `set` and `check`
 * use, worded as `set` refuses it, never repeating it: names are stored in clear text), then the
 * naming rules with the rule id, then, with `existing` "refuse", a name the project already has
 * (`names`, read only then).
 */
export function secretNameProblem(name: string, names: () => readonly string[], existing: "allow" | "refuse"): string | undefined {
  const credential = credentialNameProblem(name);
  if (credential !== undefined) return credential;
  const v = validateSecretName(name);
  if (!v.ok) return `${v.message} [${v.rule}]`;
  if (existing === "refuse" && names().includes(name)) return `"${name}" already exists (set its value with Set Secret Value…)`;
  return undefined;
}

/** What `stellarSecrets/projects` says about one project. */
export function projectInfo(model: ProjectModel): ProjectInfo {
  const config = model.config;
  const envs = config?.environments ?? [];
  // secret → environments where rotation-overdue is reported (what the Secrets view marks)
  const overdueIn = new Map<string, string[]>();
  // rotation-overdue needs the value history: none read yet (or none needed), no check to wait for
  if (model.history !== undefined) for (const e of envs) {
    for (const d of model.diagnostics(secretsFilePath(config!, e.name))) {
      if (d.rule !== "rotation-overdue" || d.secret === undefined) continue;
      overdueIn.set(d.secret, [...(overdueIn.get(d.secret) ?? []), e.name]);
    }
  }
  const info: ProjectInfo = {
    root: model.root,
    configPath: config?.configPath ?? `${model.root}/stellar.yaml`,
    valid: config !== undefined,
    environments: envs.map((e) => {
      const file = secretsFilePath(config!, e.name);
      return { name: e.name, file, exists: model.fileExists(file), recipients: e.members.map((m) => m.recipient) };
    }),
    secrets: model.secretNames().map((name) => {
      const entry = model.catalog(name);
      const overdue = overdueIn.get(name);
      const s: ProjectInfo["secrets"][number] = { name, environments: model.environmentsOf(name), references: model.referenceCount(name) };
      if (entry?.description) s.description = entry.description;
      if (entry?.owner) s.owner = entry.owner;
      if (overdue !== undefined) s.rotationOverdue = overdue;
      return s;
    }),
  };
  if (model instanceof LastGoodModel) info.stale = true;
  return info;
}
