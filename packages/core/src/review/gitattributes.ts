/**
 * What git's `.gitattributes` files say about the `merge` attribute of the environment files,
 * without git: enough of the format to see that a change took the files off the stellar-secrets
 * merge driver (`merge=stellar`, written by `stellar-secrets git setup`), e.g. to `merge=union`,
 * `-merge` or `binary`. After such a change git merges environment files as text: `union` even
 * commits two value lines and two `mac`s without a conflict, a file no one can decrypt, and no
 * pre-commit hook runs for a merge commit git makes itself.
 */
import { globToRegExp } from "../globs.js";

/**
 * One `.gitattributes` file: its folder (relative to the project root, or to the top of the work
 * tree; "" for that folder) and its text. `name`: the file's own name when it is not
 * `.gitattributes` (a lone `.GitAttributes`, which a case-insensitive checkout reads as that file).
 */
export interface AttributesFile {
  dir: string;
  text: string;
  name?: string;
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

function matches(pattern: string, dir: string, path: string, ignoreCase: boolean, isFolder = false): boolean {
  const fold = (s: string): string => (ignoreCase ? s.toLowerCase() : s);
  const prefix = dir === "" ? "" : `${dir}/`;
  if (!fold(path).startsWith(fold(prefix))) return false;
  const rel = fold(path.slice(prefix.length));
  let p = fold(pattern.replace(/^\//, ""));
  if (p.endsWith("/")) {
    if (!isFolder) return false; // folder patterns do not apply to files
    p = p.replace(/\/+$/, "");
    pattern = pattern.replace(/\/+$/, "");
  }
  if (p === "") return false;
  // a pattern without a slash matches the name at any depth; with one, the path from the folder
  const re = globToRegExp(wildmatchAsGlob(p));
  return p.includes("/") || pattern.startsWith("/") ? re.test(rel) : re.test(rel.slice(rel.lastIndexOf("/") + 1));
}

/**
 * A git wildmatch pattern in the syntax of {@link globToRegExp}: a backslash makes the next
 * character literal (`\\p` is `p`, `\\*` a star), and braces and commas, which git does not
 * expand, stay literal.
 */
function wildmatchAsGlob(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    let c = pattern[i] as string;
    let literal = false;
    if (c === "\\" && i + 1 < pattern.length) {
      c = pattern[++i] as string;
      literal = true;
    }
    if ((literal && "*?[\\".includes(c)) || "{},".includes(c)) out += `[${c}]`;
    else out += c;
  }
  return out;
}

const ESCAPES: Record<string, string> = { a: "\x07", b: "\b", t: "\t", n: "\n", v: "\v", f: "\f", r: "\r", '"': '"', "\\": "\\" };

/**
 * A line's pattern and attribute tokens, as git splits it: a pattern in double quotes is C-quoted
 * (`\\"`, `\\t`, octal `\\160`, ...). Undefined for a quoted pattern without its closing quote.
 */
function tokens(line: string): { pattern: string; attrs: string[] } | undefined {
  if (!line.startsWith('"')) {
    const [pattern = "", ...attrs] = line.split(/\s+/);
    return { pattern, attrs };
  }
  let pattern = "";
  for (let i = 1; i < line.length; i++) {
    const c = line[i] as string;
    if (c === '"') return { pattern, attrs: line.slice(i + 1).trim().split(/\s+/).filter((a) => a !== "") };
    if (c !== "\\") {
      pattern += c;
      continue;
    }
    const octal = /^[0-7]{3}/.exec(line.slice(i + 1));
    if (octal !== null) {
      pattern += String.fromCharCode(parseInt(octal[0], 8));
      i += 3;
    } else {
      pattern += ESCAPES[line[i + 1] ?? ""] ?? line[i + 1] ?? "";
      i++;
    }
  }
  return undefined;
}

/**
 * git's built-in macro, then the `[attr]NAME ATTRS...` macros of the root `.gitattributes` (git
 * reads them nowhere else); with `anywhere`, those of every file (what their writer meant).
 */
function macrosOf(files: readonly AttributesFile[], anywhere = false): Map<string, string[]> {
  const out = new Map<string, string[]>([["binary", ["-diff", "-merge", "-text"]]]);
  for (const f of files) {
    if (f.dir !== "" && !anywhere) continue;
    for (const raw of f.text.split(/\r?\n/)) {
      const line = raw.trim();
      if (!line.startsWith("[attr]")) continue;
      const [name, ...attrs] = line.slice("[attr]".length).trim().split(/\s+/);
      if (name !== undefined && name !== "") out.set(name, attrs);
    }
  }
  return out;
}

/**
 * The value git gives attribute `name` of `path` (the last line that sets, unsets or clears it,
 * macros expanded): a value, "set", "unset", or undefined (unspecified).
 */
function decide(files: readonly AttributesFile[], path: string, name: string, ignoreCase = false, isFolder = false): Decision | undefined {
  return decisions(files, path, name, ignoreCase, isFolder).at(-1);
}

/**
 * Every line's decision on attribute `name` of `path`, in the order git applies them (the last
 * one counts: {@link decide}). `anyMacro`: macros defined in any of `files` are expanded, not only
 * the root's (what the lines were meant to say, where git reads them otherwise).
 */
function decisions(files: readonly AttributesFile[], path: string, name: string, ignoreCase = false, isFolder = false, anyMacro = false): Decision[] {
  const macros = macrosOf(files, anyMacro);
  const out: Decision[] = [];
  const apply = (a: string, at: Decision, depth: number): void => {
    let value: MergeValue | null = null;
    if (a === name) value = "set";
    else if (a === `-${name}`) value = "unset";
    else if (a === `!${name}`) value = undefined;
    else if (a.startsWith(`${name}=`)) value = a.slice(name.length + 1);
    if (value !== null) {
      out.push({ ...at, value });
      return;
    }
    const macro = macros.get(a);
    if (macro !== undefined && depth < 16) for (const m of macro) apply(m, at, depth + 1);
  };
  for (const f of files) {
    f.text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (line === "" || line.startsWith("#") || line.startsWith("[attr]")) return;
      const parsed = tokens(line);
      if (parsed === undefined || parsed.pattern === "" || !matches(parsed.pattern, f.dir, path, ignoreCase, isFolder)) return;
      for (const a of parsed.attrs) apply(a, { value: undefined, file: joinPath(f.dir, f.name ?? ".gitattributes"), line: i + 1 }, 0);
    });
  }
  return out;
}

/** The merge attribute git gives `path` (project-relative) from `files` (outermost first). */
export function mergeAttribute(files: readonly AttributesFile[], path: string): MergeValue {
  return decide(files, path, "merge")?.value;
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
  return weakenedDriver("merge", readBase, readHead, secretsDir, paths);
}

/**
 * The environment files `paths` that the base's `.gitattributes` showed through the `stellar`
 * textconv driver (`diff=stellar`: the keyless view of `git diff` and `git log -p`) and the head's
 * do not (`-diff`, `binary`, another driver); undefined when none. Same reading as
 * {@link weakenedMergeDriver}, same result shape (`now`: the head's diff attribute).
 */
export function weakenedDiffDriver(
  readBase: (rel: string) => string | null | undefined,
  readHead: (rel: string) => string | null | undefined,
  secretsDir: string,
  paths: readonly string[],
): WeakenedMergeDriver | undefined {
  return weakenedDriver("diff", readBase, readHead, secretsDir, paths);
}

function weakenedDriver(
  attribute: "merge" | "diff",
  readBase: (rel: string) => string | null | undefined,
  readHead: (rel: string) => string | null | undefined,
  secretsDir: string,
  paths: readonly string[],
): WeakenedMergeDriver | undefined {
  const base = attributesFiles(readBase, secretsDir);
  const head = attributesFiles(readHead, secretsDir);
  let found: WeakenedMergeDriver | undefined;
  for (const path of paths) {
    if (decide(base, path, attribute)?.value !== "stellar") continue;
    // a clone with core.ignorecase (macOS, Windows) also applies patterns that differ in case only
    const exact = decide(head, path, attribute);
    const folded = decide(head, path, attribute, true);
    const now = exact?.value !== "stellar" ? exact : folded;
    if (now?.value === "stellar") continue;
    found ??= { file: now?.file ?? ".gitattributes", ...(now === undefined ? {} : { line: now.line }), paths: [], now: now?.value ?? "unspecified" };
    found.paths.push(path);
  }
  return found;
}

function attributesFiles(read: (rel: string) => string | null | undefined, secretsDir: string): AttributesFile[] {
  return gitattributesCandidates(secretsDir).flatMap((rel) => {
    const text = read(rel);
    return typeof text === "string" ? [{ dir: rel.slice(0, Math.max(0, rel.lastIndexOf("/"))), text }] : [];
  });
}

/** Environment files whose checkout a head's `.gitattributes` rewrites: where, which files, and the attribute (`working-tree-encoding=X`, `filter=X`). */
export interface RewrittenCheckout {
  file: string;
  line?: number;
  paths: string[];
  attribute: string;
}

/**
 * The environment files `paths` that the head's `.gitattributes` gives an attribute rewriting
 * their bytes on checkout, which the base did not give them: `working-tree-encoding` other than
 * UTF-8 (every checkout then holds UTF-16 or the like: nothing decrypts, while git, and so review,
 * still hold UTF-8) or a `filter` (a clean/smudge command, e.g. `lfs`). Undefined when none.
 */
export function rewrittenCheckout(
  readBase: (rel: string) => string | null | undefined,
  readHead: (rel: string) => string | null | undefined,
  secretsDir: string,
  paths: readonly string[],
): RewrittenCheckout | undefined {
  return rewrittenBetween(attributesFiles(readBase, secretsDir), attributesFiles(readHead, secretsDir), paths);
}

/**
 * In one state: the environment files `paths` that `files` (outermost first) give an attribute
 * rewriting their bytes on checkout, as {@link rewrittenCheckout} finds them with no base. Pure.
 */
export function checkoutRewrites(files: readonly AttributesFile[], paths: readonly string[]): RewrittenCheckout | undefined {
  return rewrittenBetween([], files, paths);
}

function rewrittenBetween(base: readonly AttributesFile[], head: readonly AttributesFile[], paths: readonly string[]): RewrittenCheckout | undefined {
  let found: RewrittenCheckout | undefined;
  for (const path of paths) {
    for (const name of ["working-tree-encoding", "filter"]) {
      for (const ignoreCase of [false, true]) {
        const now = decide(head, path, name, ignoreCase);
        const value = now?.value;
        if (now === undefined || value === undefined || value === "set" || value === "unset") continue;
        if (name === "working-tree-encoding" && /^utf-?8$/i.test(value)) continue;
        if (decide(base, path, name, ignoreCase)?.value === value) continue;
        found ??= { file: now.file, line: now.line, paths: [], attribute: `${name}=${value}` };
        if (!found.paths.includes(path)) found.paths.push(path);
      }
    }
  }
  return found;
}

/** In one state, environment files off the stellar merge driver: where (the deciding line), which files, and what they get. */
export interface MergeDriverBypass {
  file: string;
  line: number;
  paths: string[];
  /** The merge attribute git gives them: a driver name, "set", "unset" or "unspecified". */
  now: string;
  /** Set when git gives them no merge attribute because the line meant to send them to the driver uses a macro git does not read there (`[attr]` outside the top's file). */
  unreadMacro?: true;
}

/**
 * In one state (no base to compare with): the environment files `paths` that `files` (outermost
 * first, `dir` relative to the top of the work tree, where git reads macros) leave off the stellar
 * merge driver although a line sends them there (a later line, a deeper file, `!merge`, or a macro
 * only a file below the top defines, which git ignores), or give `merge=union` (two value lines
 * and two macs committed without a conflict) whatever else they say. Decided as git decides, also
 * with the patterns a case-insensitive clone applies. Undefined when none. Pure.
 */
export function mergeDriverBypassed(files: readonly AttributesFile[], paths: readonly string[]): MergeDriverBypass | undefined {
  let found: MergeDriverBypass | undefined;
  for (const path of paths) {
    for (const ignoreCase of [false, true]) {
      const now = decide(files, path, "merge", ignoreCase);
      if (now?.value === "stellar") continue;
      // a line meant for the driver (macros read wherever they are defined, as their writer meant them)
      const meant = decisions(files, path, "merge", ignoreCase, false, true).find((d) => d.value === "stellar");
      if (meant === undefined && now?.value !== "union") continue;
      const at = now ?? (meant as Decision);
      found ??= { file: at.file, line: at.line, paths: [], now: now?.value ?? "unspecified", ...(now === undefined ? { unreadMacro: true as const } : {}) };
      if (!found.paths.includes(path)) found.paths.push(path);
      break;
    }
  }
  return found;
}

/** What a head's `.gitattributes` leaves out of `git archive`: where (the deciding line), and which project paths. */
export interface ExportIgnored {
  file: string;
  line?: number;
  paths: string[];
}

/**
 * `stellar.yaml`, the environment files `paths` and the folders above them (down from the root to
 * `secretsDir`) that the head's `.gitattributes` gives `export-ignore` and the base did not (also
 * by a pattern that only a case-insensitive clone applies). `git archive` (Capistrano's git
 * strategy, a GitHub tarball, a Dockerfile step) then leaves them out of what is deployed: without
 * `stellar.yaml` the resolver reads the default `secrets/` folder, which check and review do not
 * read when `secrets_dir` names another; without an environment file the deploy breaks. Git, check
 * and review see the files as committed. Undefined when none. Paths (`secretsDir`, `paths`, the
 * readers' and the result's) may be relative to the top of the work tree rather than to the
 * project root: `projectFile` is then stellar.yaml's path there.
 */
export function exportIgnored(
  readBase: (rel: string) => string | null | undefined,
  readHead: (rel: string) => string | null | undefined,
  secretsDir: string,
  paths: readonly string[],
  projectFile = "stellar.yaml",
): ExportIgnored | undefined {
  const parts = secretsDir.split("/").filter((p) => p !== "" && p !== ".");
  const folders = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  return attributeAdded(readBase, readHead, secretsDir, [
    { path: projectFile, folder: false },
    ...folders.map((path) => ({ path, folder: true })),
    ...paths.map((path) => ({ path, folder: false })),
  ], "export-ignore");
}

/**
 * `stellar.yaml` and the environment files `paths` that the head's `.gitattributes` gives
 * `export-subst` and the base did not (also by a pattern only a case-insensitive clone applies).
 * `git archive` then expands each `$Format:…$` in them (`%n` is a line break, `%x76` any byte), so
 * the deployed `stellar.yaml` can say what git's copy, which check and review read, does not: a
 * comment `# $Format:%nsecrets_dir: decoy$` becomes a `secrets_dir` line, and the resolver of an
 * archive deploy reads another folder (s24 newattack). Undefined when none. `projectFile`: as for
 * {@link exportIgnored}.
 */
export function exportSubstituted(
  readBase: (rel: string) => string | null | undefined,
  readHead: (rel: string) => string | null | undefined,
  secretsDir: string,
  paths: readonly string[],
  projectFile = "stellar.yaml",
): ExportIgnored | undefined {
  // the .gitattributes of every folder above a path too (a config file's folder), outermost first
  const folders = new Set<string>();
  for (const path of paths) {
    const parts = path.split("/").slice(0, -1);
    for (let i = 1; i <= parts.length; i++) folders.add(parts.slice(0, i).join("/"));
  }
  const extra = [...folders].sort((a, b) => a.split("/").length - b.split("/").length || (a < b ? -1 : 1)).map((f) => `${f}/.gitattributes`);
  return attributeAdded(readBase, readHead, secretsDir, [{ path: projectFile, folder: false }, ...paths.map((path) => ({ path, folder: false }))], "export-subst", extra);
}

/** The candidates the head's `.gitattributes` gives `attribute` (set) and the base did not: the first deciding line and every such path. */
function attributeAdded(
  readBase: (rel: string) => string | null | undefined,
  readHead: (rel: string) => string | null | undefined,
  secretsDir: string,
  candidates: readonly { path: string; folder: boolean }[],
  attribute: string,
  moreFiles: readonly string[] = [],
): ExportIgnored | undefined {
  const files = (read: (rel: string) => string | null | undefined): AttributesFile[] => {
    const known = new Set(gitattributesCandidates(secretsDir));
    const listed = [...known, ...moreFiles.filter((f) => !known.has(f))].sort((a, b) => a.split("/").length - b.split("/").length);
    return listed.flatMap((rel) => {
      const text = read(rel);
      return typeof text === "string" ? [{ dir: rel.slice(0, Math.max(0, rel.lastIndexOf("/"))), text }] : [];
    });
  };
  const base = moreFiles.length === 0 ? attributesFiles(readBase, secretsDir) : files(readBase);
  const head = moreFiles.length === 0 ? attributesFiles(readHead, secretsDir) : files(readHead);
  let found: ExportIgnored | undefined;
  for (const { path, folder } of candidates) {
    for (const ignoreCase of [false, true]) {
      const now = decide(head, path, attribute, ignoreCase, folder);
      if (now?.value !== "set") continue;
      if (decide(base, path, attribute, ignoreCase, folder)?.value === "set") continue;
      found ??= { file: now.file, line: now.line, paths: [] };
      if (!found.paths.includes(path)) found.paths.push(path);
    }
  }
  return found;
}
