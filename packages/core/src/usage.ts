/** Where each secret is used: the data behind `stellar-secrets usage` and `list`'s reference counts. */
import { detectCredential, HIDDEN_NAME, pastedCredential } from "./credentials.js";
import type { ConfigKind } from "./schemas.js";
import type { WorkspaceIndex } from "./workspace.js";

/** One use of a secret. */
export interface SecretUse {
  /** File relative to the root. */
  file: string;
  line: number;
  column: number;
  kind: ConfigKind;
  /** Name of the connector / connection / action holding the reference. */
  owner: string | undefined;
  field: string;
  /** Declared environments where the holder is used (where the secret needs a value). */
  environments: string[];
}

/** A secret and all its uses. */
export interface SecretUsage {
  secret: string;
  /** Environments whose file has the name (with a value or empty), in declared order. */
  definedIn: string[];
  /** False when no environment file has the name (a reference to an unknown secret). */
  exists: boolean;
  uses: SecretUse[];
}

/**
 * Usage of every secret (defined ones and referenced-but-unknown ones), sorted by name; or of
 * one name when `name` is given (an empty `uses` list when nothing references it; undefined
 * entries are never returned: an unknown, unreferenced name gives an empty array).
 */
export function secretUsage(index: WorkspaceIndex, name?: string): SecretUsage[] {
  const byName = new Map<string, SecretUsage>();
  const envOrder = index.environmentNames();
  const get = (secret: string): SecretUsage => {
    let u = byName.get(secret);
    if (u === undefined) {
      const info = index.secret(secret);
      const defined = new Set(info?.definitions.map((d) => d.environment) ?? []);
      u = { secret, definedIn: envOrder.filter((e) => defined.has(e)), exists: info !== undefined, uses: [] };
      byName.set(secret, u);
    }
    return u;
  };
  if (name === undefined) for (const s of index.secretNames()) get(s);
  else if (index.secret(name) !== undefined) get(name);
  for (const file of [...index.configFiles.keys()].sort()) {
    const cf = index.configFiles.get(file);
    if (cf === undefined) continue;
    for (const doc of cf.documents) {
      for (const ref of doc.references) {
        if (name !== undefined && ref.secret !== name) continue;
        // (a credential pasted where a name belongs is no secret's name: check reports it, never by its text)
        if (name === undefined && index.secret(ref.secret) === undefined && pastedCredential(ref.secret) !== undefined) continue;
        get(ref.secret).uses.push({
          file: ref.file,
          line: ref.line,
          column: ref.column,
          kind: ref.kind,
          // (an object named by a credential, which check reports, is never named by it)
          owner: ref.owner !== undefined && ref.owner.length >= 8 && detectCredential(ref.owner) !== undefined ? HIDDEN_NAME : ref.owner,
          field: ref.field,
          environments: index.environmentsUsedBy(doc),
        });
      }
    }
  }
  return [...byName.values()].sort((a, b) => (a.secret < b.secret ? -1 : a.secret > b.secret ? 1 : 0));
}

/** Number of references per defined secret name. */
export function referenceCounts(index: WorkspaceIndex): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of index.secretNames()) counts.set(name, index.referencesTo(name).length);
  return counts;
}
