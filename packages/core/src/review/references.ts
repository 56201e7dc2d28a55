/**
 * How a change moves the references to secrets in the config files: which references it adds
 * and removes, matched by place (file, followed across a rename; the document's kind and name; the
 * field), never by line, so that a reference that only moved down a file is no change. Pure:
 * references in, changes out. Keyless: a reference is plain text in the config files.
 */
import type { SecretReference } from "../config.js";
import { credentialAsName, detectCredential, HIDDEN_NAME } from "../credentials.js";
import type { ConfigKind } from "../schemas.js";

/** A reference the change adds or removes. */
export interface ReferenceChange {
  /** The secret name referenced. */
  secret: string;
  change: "added" | "removed";
  /** The config file (the head's path for an added reference, the base's for a removed one). */
  file: string;
  /** 1-based line of the name in that file. */
  line: number;
  /** Kind of the document that holds it, its name (absent when it has none) and the field. */
  kind: ConfigKind;
  owner?: string;
  field: string;
  /**
   * For an added reference: the secret the base referenced at the same place (same file, document
   * and field) and the head no longer does — the reference moved from that secret to this one, as
   * the steps `stellar-secrets rename` prints do.
   */
  replaces?: string;
}

/**
 * The references `head` has that `base` has not (added) and the other way round (removed), each
 * matched by secret name and place; `renamed` maps a head path to the base path it was moved from.
 * Removed ones first, then added ones, each in file and line order.
 */
export function diffReferences(allBase: readonly SecretReference[], allHead: readonly SecretReference[], renamed: ReadonlyMap<string, string> = new Map()): ReferenceChange[] {
  // a credential written where a secret's name goes is no reference (the checker reports it as
  // plaintext-credential): never listed, so never printed
  const named = (refs: readonly SecretReference[]): readonly SecretReference[] => (refs.some((r) => credentialAsName(r.secret) !== undefined) ? refs.filter((r) => credentialAsName(r.secret) === undefined) : refs);
  const base = named(allBase);
  const head = named(allHead);
  const place = (r: SecretReference, file: string): string => `${file}\u0000${r.kind}\u0000${r.owner ?? ""}\u0000${r.field}`;
  const key = (r: SecretReference, file: string): string => `${r.secret}\u0000${place(r, file)}`;
  const count = (refs: readonly SecretReference[], fileOf: (r: SecretReference) => string): Map<string, number> => {
    const out = new Map<string, number>();
    for (const r of refs) out.set(key(r, fileOf(r)), (out.get(key(r, fileOf(r))) ?? 0) + 1);
    return out;
  };
  const headFile = (r: SecretReference): string => renamed.get(r.file) ?? r.file;
  const inBase = count(base, (r) => r.file);
  const inHead = count(head, headFile);
  const pick = (refs: readonly SecretReference[], fileOf: (r: SecretReference) => string, other: Map<string, number>): SecretReference[] => {
    const left = new Map(other);
    return refs.filter((r) => {
      const k = key(r, fileOf(r));
      const n = left.get(k) ?? 0;
      if (n > 0) {
        left.set(k, n - 1);
        return false;
      }
      return true;
    });
  };
  const removed = pick(base, (r) => r.file, inHead);
  const added = pick(head, headFile, inBase);
  const order = (a: SecretReference, b: SecretReference): number => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line);
  const removedAt = new Map<string, string>();
  for (const r of removed) if (!removedAt.has(place(r, r.file))) removedAt.set(place(r, r.file), r.secret);
  const change = (r: SecretReference, how: "added" | "removed"): ReferenceChange => ({
    secret: r.secret,
    change: how,
    file: r.file,
    line: r.line,
    kind: r.kind,
    ...(r.owner === undefined ? {} : { owner: r.owner.length >= 8 && detectCredential(r.owner) !== undefined ? HIDDEN_NAME : r.owner }),
    field: r.field,
  });
  return [
    ...[...removed].sort(order).map((r) => change(r, "removed")),
    ...[...added].sort(order).map((r) => {
      const was = removedAt.get(place(r, headFile(r)));
      return was === undefined || was === r.secret ? change(r, "added") : { ...change(r, "added"), replaces: was };
    }),
  ];
}
