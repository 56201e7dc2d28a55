/**
 * What git's `.gitattributes` files say about the `merge` attribute of the environment files,
 * without git: enough of the format to see that a change took the files off the stellar-secrets
 * merge driver (`merge=stellar`, written by `stellar-secrets git setup`), e.g. to `merge=union`,
 * `-merge` or `binary`. After such a change git merges environment files as text: `union` even
 * commits two value lines and two `mac`s without a conflict, a file no one can decrypt, and no
 * pre-commit hook runs for a merge commit git makes itself.
 */
import { globToRegExp } from "../globs.js";

/** One `.gitattributes` file: its folder (relative to the project root, "" for the root) and its text. */
export interface AttributesFile {
  dir: string;
  text: string;
}

/** The merge attribute: a driver name, "set" (`merge`: git's text merge), "unset" (`-merge`, `binary`), or undefined (unspecified). */
export type MergeValue = string | undefined;

interface Decision {
  value: MergeValue;
  file: string;
  line: number;
}

function joinPath(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

/** The `.gitattributes` files git reads for a file in `secretsDir`, outermost first (the root's, then each folder's). */
export function gitattributesCandidates(secretsDir: string): string[] {
  const parts = secretsDir.split("/").filter((p) => p !== "" && p !== ".");
  const out = [".gitattributes"];
  for (let i = 1; i <= parts.length; i++) out.push(`${parts.slice(0, i).join("/")}/.gitattributes`);
  return out;
}

function matches(pattern: string, dir: string, path: string): boolean {
  const prefix = dir === "" ? "" : `${dir}/`;
  if (!path.startsWith(prefix)) return false;
  const rel = path.slice(prefix.length);
  const p = pattern.replace(/^\//, "");
  if (p === "" || p.endsWith("/")) return false; // folder patterns do not apply to files
  // a pattern without a slash matches the name at any depth; with one, the path from the folder
  return p.includes("/") || pattern.startsWith("/") ? globToRegExp(p).test(rel) : globToRegExp(p).test(rel.slice(rel.lastIndexOf("/") + 1));
}

function decide(files: readonly AttributesFile[], path: string): Decision | undefined {
  let out: Decision | undefined;
  for (const f of files) {
    f.text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (line === "" || line.startsWith("#") || line.startsWith("[attr]") || line.startsWith('"')) return;
      const [pattern, ...attrs] = line.split(/\s+/);
      if (pattern === undefined || !matches(pattern, f.dir, path)) return;
      for (const a of attrs) {
        let value: MergeValue | null = null;
        if (a === "merge") value = "set";
        else if (a === "-merge" || a === "binary") value = "unset";
        else if (a === "!merge") value = undefined;
        else if (a.startsWith("merge=")) value = a.slice("merge=".length);
        if (value !== null) out = { value, file: joinPath(f.dir, ".gitattributes"), line: i + 1 };
      }
    });
  }
  return out;
}

/** The merge attribute git gives `path` (project-relative) from `files` (outermost first). */
export function mergeAttribute(files: readonly AttributesFile[], path: string): MergeValue {
  return decide(files, path)?.value;
}

/** A change that took environment files off the stellar merge driver: where (the deciding line of the head), which files, and what they get now. */
export interface WeakenedMergeDriver {
  file: string;
  line?: number;
  paths: string[];
  /** The head's merge attribute: a driver name, "set", "unset" or "unspecified". */
  now: string;
}

/**
 * The environment files `paths` (project-relative, in `secretsDir`) that the base's
 * `.gitattributes` merged with the `stellar` driver and the head's do not; undefined when none.
 * `readBase` / `readHead` give a project-relative file's text (undefined or null: absent).
 */
export function weakenedMergeDriver(
  readBase: (rel: string) => string | null | undefined,
  readHead: (rel: string) => string | null | undefined,
  secretsDir: string,
  paths: readonly string[],
): WeakenedMergeDriver | undefined {
  const files = (read: (rel: string) => string | null | undefined): AttributesFile[] =>
    gitattributesCandidates(secretsDir).flatMap((rel) => {
      const text = read(rel);
      return typeof text === "string" ? [{ dir: rel.slice(0, Math.max(0, rel.lastIndexOf("/"))), text }] : [];
    });
  const base = files(readBase);
  const head = files(readHead);
  let found: WeakenedMergeDriver | undefined;
  for (const path of paths) {
    if (decide(base, path)?.value !== "stellar") continue;
    const now = decide(head, path);
    if (now?.value === "stellar") continue;
    found ??= { file: now?.file ?? ".gitattributes", ...(now === undefined ? {} : { line: now.line }), paths: [], now: now?.value ?? "unspecified" };
    found.paths.push(path);
  }
  return found;
}
