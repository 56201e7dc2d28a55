/**
 * Paths that git keeps apart but a checkout on another file system writes to one file. git on
 * Linux stores `stellar.yaml` and `Stellar.yaml`, `secrets/production.enc.yaml` and
 * `secrets/production.ENC.YAML`, `café` in NFC and in NFD as different files; a clone on macOS
 * (case-insensitive, normalisation-insensitive) or Windows (case-insensitive, trailing dots and
 * spaces dropped) has one file for both, holding whichever git wrote last: on `git pull` or
 * `git checkout` of a branch only the changed one is written, so the file a member's `get`,
 * `exec`, `members`, plain `sops` or a deploy reads there is the copy no check read as that file.
 * Pure: paths in, colliding groups out.
 */

/**
 * The name that a case-insensitive, Unicode-normalising file system (macOS, Windows) gives one
 * path: each component in NFC, lower case, without the trailing dots and spaces Windows drops.
 */
export function foldedPath(path: string): string {
  return path
    .split("/")
    .map((part) => part.normalize("NFC").toLowerCase().replace(/[. ]+$/u, ""))
    .join("/");
}

/** Paths that fold to one file on some checkout ({@link foldedPath}). */
export interface PathCollision {
  /** The paths as git stores them, sorted; at least two. */
  paths: string[];
}

/**
 * The groups of `headPaths` (files of a state, `/`-separated) that fold to the same path on a
 * case-insensitive or normalising file system while git holds them as different files, leaving
 * out the groups `basePaths` already had exactly (a collision the change did not make). A folder
 * counts too: `Secrets/production.enc.yaml` collides with `secrets/production.enc.yaml`.
 */
export function pathCollisions(headPaths: Iterable<string>, basePaths: Iterable<string> = []): PathCollision[] {
  const groups = (paths: Iterable<string>): Map<string, Set<string>> => {
    const out = new Map<string, Set<string>>();
    const add = (p: string): void => {
      const key = foldedPath(p);
      const group = out.get(key) ?? new Set<string>();
      group.add(p);
      out.set(key, group);
    };
    for (const p of paths) {
      add(p);
      // the folders above it: `Secrets/x` lands in `secrets/` on such a checkout
      for (let at = p.indexOf("/"); at > 0; at = p.indexOf("/", at + 1)) add(p.slice(0, at));
    }
    return out;
  };
  const before = groups(basePaths);
  const found: PathCollision[] = [];
  for (const [key, group] of groups(headPaths)) {
    if (group.size < 2) continue;
    const old = before.get(key);
    if (old !== undefined && [...group].every((p) => old.has(p))) continue;
    found.push({ paths: [...group].sort() });
  }
  // files that collide only because their folders do (`Secrets/x`, `secrets/x`) are named by the folders' collision
  const parent = (p: string): string => p.slice(0, Math.max(0, p.lastIndexOf("/")));
  const out = found.filter((c) => c.paths.every((p) => parent(p) === parent(c.paths[0] as string)));
  return out.sort((a, b) => ((a.paths[0] as string) < (b.paths[0] as string) ? -1 : 1));
}

/** How the paths of a collision differ: only in Unicode normalisation, in case, or in trailing dots or spaces (else more than one of them). */
export function collisionKind(paths: readonly string[]): "normalisation" | "case" | "trailing" | "mixed" {
  const all = (f: (p: string) => string): boolean => new Set(paths.map(f)).size === 1;
  if (all((p) => p.normalize("NFC"))) return "normalisation";
  if (all((p) => p.toLowerCase())) return "case";
  if (all((p) => p.split("/").map((c) => c.replace(/[. ]+$/u, "")).join("/"))) return "trailing";
  return "mixed";
}

/** A path git holds under another spelling of a name that tools open by that name ({@link foldedStandIns}). */
export interface FoldedStandIn {
  /** The path as git stores it. */
  path: string;
  /** The name a case-insensitive or normalising checkout opens it as (same folder, or the whole path). */
  as: string;
}

/**
 * The paths among `headPaths` (every file of a state, `/`-separated) that a case-insensitive,
 * normalising checkout (macOS, Windows) opens as a file git and tools name exactly, while git holds
 * them under another spelling, with no file of the exact name beside them (that is a collision,
 * {@link pathCollisions}): a lone `secrets/.GitAttributes` is what git on macOS reads as
 * `secrets/.gitattributes`, a lone `.SOPS.yaml` what sops reads as `.sops.yaml`, a lone
 * `teams/x/Stellar.yaml` what stellar-secrets reads as `teams/x/stellar.yaml`. `names`: file names
 * that count in any folder; `paths`: whole paths that count. Those `basePaths` already had are left
 * out. Pure; sorted by path.
 */
export function foldedStandIns(headPaths: Iterable<string>, basePaths: Iterable<string>, names: readonly string[], paths: readonly string[] = []): FoldedStandIn[] {
  const all = new Set(headPaths);
  const before = new Set(basePaths);
  const byName = new Map(names.map((n) => [foldedPath(n), n]));
  const byPath = new Map(paths.map((p) => [foldedPath(p), p]));
  const out: FoldedStandIn[] = [];
  for (const path of all) {
    if (before.has(path)) continue;
    const slash = path.lastIndexOf("/");
    const dir = path.slice(0, slash + 1);
    const name = byName.get(foldedPath(path.slice(slash + 1)));
    const as = name !== undefined ? `${dir}${name}` : byPath.get(foldedPath(path));
    if (as === undefined || as === path || all.has(as)) continue;
    out.push({ path, as });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/**
 * The name among `names` (one folder's entries) that git, sops or stellar-secrets opens as
 * `wanted` there: `wanted` itself when listed, else a name that folds to it ({@link foldedPath}),
 * which a case-insensitive, normalising checkout (macOS, Windows) opens by that name (the first
 * in sorted order when several do: such a checkout holds one of them). Undefined when none. Pure.
 */
export function openedAs(names: Iterable<string>, wanted: string): string | undefined {
  const folded = foldedPath(wanted);
  let found: string | undefined;
  for (const name of names) {
    if (name === wanted) return name;
    if (foldedPath(name) === folded && (found === undefined || name < found)) found = name;
  }
  return found;
}

/**
 * The path among `files`' keys (paths relative to the top, `/`-separated, as
 * {@link AboveRootFiles}-like maps hold the one file chosen per folder under its own name) that is
 * opened as `rel` (`infra/.gitattributes`, `.sops.yaml`): `rel` itself, else a case variant in the
 * same folder ({@link openedAs}: `.SOPS.yaml`, `.GitAttributes`). Undefined when none. Pure.
 */
export function pathOpenedAs(files: Iterable<string>, rel: string): string | undefined {
  const slash = rel.lastIndexOf("/");
  const dir = rel.slice(0, slash + 1);
  const names: string[] = [];
  for (const path of files) if (path.startsWith(dir) && !path.includes("/", dir.length)) names.push(path.slice(dir.length));
  const name = openedAs(names, rel.slice(slash + 1));
  return name === undefined ? undefined : `${dir}${name}`;
}

/**
 * Whether git refuses a path component on checkout (its `verify_path`): `.git` in any case, with
 * the trailing dots or spaces Windows drops, the zero-width characters macOS ignores in names, or
 * as NTFS's short name `git~1`. Pure.
 */
export function isGitFolderName(component: string): boolean {
  const bare = component
    .replace(/[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/gu, "")
    .replace(/[. ]+$/u, "")
    .toLowerCase();
  return bare === ".git" || bare === "git~1";
}

/**
 * The paths of `headPaths` (files of a state, `/`-separated) with a component git refuses to check
 * out ({@link isGitFolderName}: `secrets/.git`, `.GIT/config`, `a/git~1/x`) that `basePaths` did
 * not have, sorted. A commit holding one cannot be checked out by git (`invalid path`): each
 * member's clone and each deploy fails on it; GitHub refuses such a push, other hosts may not. Pure.
 */
export function refusedPaths(headPaths: Iterable<string>, basePaths: Iterable<string> = []): string[] {
  const before = new Set(basePaths);
  return [...new Set(headPaths)].filter((p) => !before.has(p) && p.split("/").some(isGitFolderName)).sort();
}
