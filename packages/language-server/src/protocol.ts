/**
 * The server's custom requests and notifications (beyond LSP), shared by the server and the
 * VS Code extension. No message here ever carries a secret value: values are written by the
 * client into the encrypted files directly (see docs/editor.md), the server only reads names,
 * recipients and references.
 */
import { NotificationType, RequestType, type WorkspaceEdit } from "vscode-languageserver-protocol";

/** One environment of a project, as the editor shows it. */
export interface EnvironmentInfo {
  name: string;
  /** Absolute path of `<secrets_dir>/<env>.enc.yaml` (it may not exist yet). */
  file: string;
  /** True when the file exists and parses as a SOPS file. */
  exists: boolean;
  /** The age recipients stellar.yaml configures for the environment (what a new file is encrypted to). */
  recipients: string[];
}

/** One secret name and where it has values and references. */
export interface SecretInfo {
  name: string;
  /** Environments whose file has this name (a value, possibly empty). */
  environments: string[];
  /** Number of references in config files. */
  references: number;
  description?: string;
  owner?: string;
  /** Environments where the value is older than its catalog `rotate_every` (`rotation-overdue`); absent when none. */
  rotationOverdue?: string[];
}

/** One secrets repository (one stellar.yaml). */
export interface ProjectInfo {
  /** Absolute directory of stellar.yaml. */
  root: string;
  configPath: string;
  /** False when stellar.yaml has errors (environments may then be empty). */
  valid: boolean;
  /**
   * True when stellar.yaml has errors now but the project runs on its last good version
   * (`valid` stays true: environments, secrets and diagnostics are those of that version).
   */
  stale?: boolean;
  environments: EnvironmentInfo[];
  /** Sorted by name. */
  secrets: SecretInfo[];
}

/** `stellarSecrets/projects`: every project the server indexes, with its secrets. */
export const ProjectsRequest = new RequestType<Record<string, never>, { projects: ProjectInfo[] }, void>("stellarSecrets/projects");

/** One place that references a secret. */
export interface ReferenceInfo {
  uri: string;
  /** 0-based LSP range of the name. */
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  /** Workspace-relative path and 1-based line, for display. */
  file: string;
  line: number;
  /** `kind name` of the document holding the reference, e.g. `action create_ticket`. */
  owner: string;
}

/** `stellarSecrets/usage`: every reference to one secret of one project. */
export const UsageRequest = new RequestType<{ root: string; name: string }, { references: ReferenceInfo[] }, void>("stellarSecrets/usage");

/**
 * `stellarSecrets/validateName`: whether `name` can be used for a new secret in the project.
 * `message` is undefined when it can; otherwise why not (rule id in brackets).
 */
export const ValidateNameRequest = new RequestType<{ root: string; name: string; existing: "allow" | "refuse" }, { message?: string }, void>(
  "stellarSecrets/validateName",
);

/**
 * `stellarSecrets/catalogRemoval`: the edit that removes a secret's entry from the catalog
 * (comments kept), or no edit when the catalog has none. The client applies it after a delete.
 */
export const CatalogRemovalRequest = new RequestType<{ root: string; name: string }, { edit?: WorkspaceEdit }, void>("stellarSecrets/catalogRemoval");

/** `stellarSecrets/filesChanged` (client → server): files the client just wrote; re-read them now. */
export const FilesChangedNotification = new NotificationType<{ paths: string[] }>("stellarSecrets/filesChanged");

/** `stellarSecrets/indexChanged` (server → client): a project's secrets or references changed. */
export const IndexChangedNotification = new NotificationType<{ roots: string[] }>("stellarSecrets/indexChanged");

/**
 * Command ids the server's code actions use (implemented by the client). Arguments:
 * `addSecret` / `deleteSecret` (name, root); `setValue` (name, root, environments to fill —
 * the ones a `missing-environment-value` finding names); `moveToSecret` ({@link MoveToSecretArguments}).
 */
export const Commands = {
  addSecret: "stellarSecrets.addSecret",
  deleteSecret: "stellarSecrets.deleteSecret",
  setValue: "stellarSecrets.setValue",
  moveToSecret: "stellarSecrets.moveToSecret",
} as const;

/**
 * Commands the server runs itself (`workspace/executeCommand`), advertised in `executeCommandProvider`
 * only to a client that needs them. `applyEdit` (argument: a `WorkspaceEdit`): the server asks the
 * client to apply the edit (`workspace/applyEdit`); it is how a client without `codeActionLiteralSupport`,
 * which takes only `Command`s from `textDocument/codeAction`, runs a quick fix that is an edit.
 */
export const ServerCommands = {
  applyEdit: "stellarSecrets.applyEdit",
} as const;

/**
 * The argument of the `moveToSecret` command: where the plaintext credential is (the client
 * reads it from its own copy of the document: the value is never in a message).
 */
export interface MoveToSecretArguments {
  uri: string;
  /** 0-based LSP range of the literal (the `plaintext-credential` range). */
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  /** Root of the project (directory of stellar.yaml). */
  root: string;
  /**
   * The secret name the finding proposes (its `suggestion`: core's `secretNameFromContext`, free in
   * the project), which the client pre-fills as the new secret's name; absent when the finding
   * proposes none (a document without a name). A name, never the value.
   */
  name?: string;
}
