/**
 * Symbolic links that leave the repository. A link in a secrets repository that points outside
 * it (stellar.yaml, the secrets folder, an environment file, a config folder) would make a
 * command read or write files nobody reviews in the repository, so the CLI, the checker and the
 * resolver refuse them unless the person or the deployment explicitly allows it
 * ({@link ALLOW_OUTSIDE_LINKS_VARIABLE}=1 for the CLI, `allowOutsideLinks: true` for the resolver).
 */
import { realpathSync } from "node:fs";
import { isAbsolute, relative, sep } from "node:path";
import { SopsError } from "./errors.js";

/** The environment variable that, set to `1`, lets the CLI follow links that leave the repository. */
export const ALLOW_OUTSIDE_LINKS_VARIABLE = "STELLAR_SECRETS_ALLOW_OUTSIDE_LINKS";

/** True when `inner` is `outer` or inside it (both absolute, already resolved). */
export function isInside(outer: string, inner: string): boolean {
  const r = relative(outer, inner);
  return r === "" || (!isAbsolute(r) && r !== ".." && !r.startsWith(`..${sep}`));
}

function real(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch {
    return undefined;
  }
}

/**
 * Where `path` really is when that is outside `root` (both resolved through every symbolic
 * link), else undefined (inside, or absent: an absent file is the reader's business). Never throws.
 */
export function outsideRoot(root: string, path: string): string | undefined {
  const realRoot = real(root) ?? root;
  const target = real(path);
  return target !== undefined && !isInside(realRoot, target) ? target : undefined;
}

/**
 * Throws OUTSIDE_REPOSITORY when `path` (`what`: "stellar.yaml", "the secrets folder", ...) is,
 * through a symbolic link, outside `root`. `relativeName` is how the message names it.
 * @throws SopsError OUTSIDE_REPOSITORY
 */
export function assertInsideRoot(root: string, path: string, relativeName: string, allowHint: string): void {
  const target = outsideRoot(root, path);
  if (target === undefined) return;
  throw new SopsError("OUTSIDE_REPOSITORY", `${relativeName} is a symbolic link to ${target}, outside the repository; it was not read`, {
    file: path,
    hint: `replace the link with the file or folder itself, or ${allowHint}`,
  });
}
