/**
 * What the extension shows, as pure functions of the server's data (no vscode import; tested
 * beside): reference counts, a secret's line in the Secrets view, which environments a
 * "set value" targets, and the status bar text.
 */
import type { EnvironmentInfo, ProjectInfo, SecretInfo } from "@stellar-secrets/language-server/protocol";

/** "unused", "1 ref", "2 refs". */
export function refsLabel(references: number): string {
  return references === 0 ? "unused" : `${references} ref${references === 1 ? "" : "s"}`;
}

/** The environments of `project` where `secret` has no value, in declaration order. */
export function missingIn(project: ProjectInfo, secret: SecretInfo): string[] {
  return project.environments.filter((e) => !secret.environments.includes(e.name)).map((e) => e.name);
}

/** The description of a secret in the Secrets view: references, then the environments without a value. */
export function secretDescription(project: ProjectInfo, secret: SecretInfo): string {
  const missing = missingIn(project, secret);
  const parts = [refsLabel(secret.references)];
  if (missing.length > 0) parts.push(`missing ${missing.join(", ")}`);
  if (secret.rotationOverdue !== undefined && secret.rotationOverdue.length > 0) parts.push(`rotation overdue in ${secret.rotationOverdue.join(", ")}`);
  return parts.join(" · ");
}

/**
 * The environments a "set value" targets: the ones asked for (a quick fix passes those without
 * a value; a view node passes its own), else none (the user picks, see {@link environmentPickOrder}).
 * Unknown names are dropped.
 */
export function requestedEnvironments(project: ProjectInfo, requested: readonly string[] | string | undefined): EnvironmentInfo[] {
  const names = typeof requested === "string" ? [requested] : (requested ?? []);
  return project.environments.filter((e) => names.includes(e.name));
}

/** The environments to offer in a picker: those without a value first (the likely target), then those with one. */
export function environmentPickOrder(project: ProjectInfo, secret: SecretInfo): { env: EnvironmentInfo; set: boolean }[] {
  const all = project.environments.map((env) => ({ env, set: secret.environments.includes(env.name) }));
  return [...all.filter((x) => !x.set), ...all.filter((x) => x.set)];
}

/** What the status bar summarises. */
export interface StatusSummary {
  /** Projects the server indexes. */
  projects: number;
  /** Projects running on their last good stellar.yaml (the current one has errors). */
  stale: number;
  /** `all`: a key opens every existing environment file; `some`; `none`: no key opens any; `missing`: no key found at all. */
  key: "all" | "some" | "none" | "missing" | "unknown";
  errors: number;
  warnings: number;
}

/** The status bar item's text (codicons) and tooltip. */
export function statusText(s: StatusSummary): { text: string; tooltip: string } {
  if (s.projects === 0) return { text: "$(shield) Stellar Secrets: no project", tooltip: "No stellar.yaml found in this workspace." };
  const key = { all: "$(key)", some: "$(key)!", none: "$(circle-slash) key", missing: "$(circle-slash) no key", unknown: "" }[s.key];
  const text = ["$(shield)", key, `$(error) ${s.errors}`, `$(warning) ${s.warnings}`].filter((x) => x !== "").join(" ");
  const keyLine = {
    all: "Your age key opens every environment.",
    some: "Your age key opens some environments only.",
    none: "Your age key opens no environment: ask a member to add you.",
    missing: "No age key found: values cannot be set (see the output for what to do).",
    unknown: "",
  }[s.key];
  const tooltip = [
    `Stellar Secrets: ${s.projects} project${s.projects === 1 ? "" : "s"}${s.stale > 0 ? ` (${s.stale} with stellar.yaml errors, checked with its last good version)` : ""}.`,
    keyLine,
    `${s.errors} error${s.errors === 1 ? "" : "s"}, ${s.warnings} warning${s.warnings === 1 ? "" : "s"}. Click to open Problems.`,
  ]
    .filter((x) => x !== "")
    .join("\n");
  return { text, tooltip };
}

/** An item of the *Move to a secret…* picker: an existing secret, or a new name the server accepted (`create`). */
export interface SecretNameItem {
  secret?: SecretInfo;
  create?: string;
}

/**
 * What accepting the *Move to a secret…* picker chooses: the existing secret picked, or the new
 * name of a "New secret" item only when it is the name typed now (`typed`, trimmed). The item of a
 * name typed earlier stays in the list until the server has checked the new one, and stays visible
 * whatever the filter: accepting it then would store the value under a name the user already
 * changed (or under a name the server has not yet refused). Undefined: keep the picker open.
 */
export function acceptedSecretName(selected: SecretNameItem | undefined, typed: string): { name: string; existing?: SecretInfo } | undefined {
  if (selected?.secret !== undefined) return { name: selected.secret.name, existing: selected.secret };
  if (selected?.create !== undefined && selected.create === typed.trim()) return { name: selected.create };
  return undefined;
}

