/**
 * Where secrets are referenced from agent config files, for `list`, `rm`, `rename`, `edit` and
 * `members rm`. An adapter over the core workspace index (`loadWorkspace` + `secretUsage`).
 */
import { loadWorkspace, secretUsage, type ProjectConfig } from "@stellar-secrets/core";

/** One reference to a secret: file (relative to the repository root), 1-based line and column. */
export interface SecretReference {
  file: string;
  line: number;
  column: number;
  /** Kind and name of the object holding the reference (e.g. `action create_ticket`). */
  kind: string;
  owner: string | undefined;
  field: string;
  /** Environments where the holder is used, i.e. where the secret needs a value. */
  environments: string[];
}

/**
 * Every reference in the project's config files, by secret name (names referenced but not
 * defined included). Reads the config files; needs no key.
 */
export async function loadReferences(config: ProjectConfig): Promise<Map<string, SecretReference[]>> {
  const { index } = loadWorkspace(config.root);
  const out = new Map<string, SecretReference[]>();
  for (const usage of secretUsage(index)) {
    if (usage.uses.length === 0) continue;
    out.set(
      usage.secret,
      usage.uses.map((u) => ({ file: u.file, line: u.line, column: u.column, kind: u.kind, owner: u.owner, field: u.field, environments: u.environments })),
    );
  }
  return out;
}

/** The references that need a value in one of `environments`. */
export function referencesIn(references: readonly SecretReference[], environments: readonly string[]): SecretReference[] {
  return references.filter((r) => r.environments.some((e) => environments.includes(e)));
}

/** `file:line:column (kind owner, field)` */
export function formatReference(ref: SecretReference): string {
  const holder = ref.owner !== undefined ? ` (${ref.kind} ${ref.owner}, ${ref.field})` : ` (${ref.kind}, ${ref.field})`;
  return `${ref.file}:${ref.line}:${ref.column}${holder}`;
}
