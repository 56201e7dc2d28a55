/**
 * Symbolic links that leave the repository. A link in a secrets repository that points outside
 * it (stellar.yaml, the secrets folder, an environment file, a config folder) would make a
 * command read or write files nobody reviews in the repository, so the CLI, the checker and the
 * resolver refuse them unless the person or the deployment explicitly allows it
 * ({@link ALLOW_OUTSIDE_LINKS_VARIABLE}=1 for the CLI, `allowOutsideLinks: true` for the resolver).
 */
import { lstatSync, readlinkSync, realpathSync } from "node:fs";
import { basename, isAbsolute, relative, sep } from "node:path";
import { SopsError } from "./errors.js";
import { environmentOfFileName } from "./layout.js";

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

/** An environment's file that is a symbolic link to another environment's file (see {@link otherEnvironmentLink}). */
export interface OtherEnvironmentLink {
  /** The environment the link's own name is for (`production` of `production.enc.yaml`). */
  environment: string;
  /** The environment whose file the link really is (`development`). */
  other: string;
  /** Where the link points, as stored (`development.enc.yaml`), else its resolved path. */
  target: string;
}

/**
 * When `path` is named as an environment's file (`<env>.enc.yaml`) and is a symbolic link whose
 * final target is named as **another** environment's file (`<other>.enc.yaml`, any folder), that
 * pair; else undefined (not such a name, not a link, a link to the same environment's name or to
 * any other file, absent, unresolvable). Costs nothing for other names and one lstat for an
 * environment's file that is not a link. Never throws.
 *
 * The SOPS MAC does not bind a file to its environment, so such a file verifies: read as
 * `<env>`'s it would give `<other>`'s values. A link to any other file is left to the reader
 * (sops follows links; links leaving the repository are {@link assertInsideRoot}'s business).
 */
export function otherEnvironmentLink(path: string): OtherEnvironmentLink | undefined {
  const environment = environmentOfFileName(basename(path));
  if (environment === undefined) return undefined;
  let real: string;
  try {
    if (!lstatSync(path).isSymbolicLink()) return undefined;
    real = realpathSync.native(path);
  } catch {
    return undefined; // absent or a broken link: the read that follows says so
  }
  const other = environmentOfFileName(basename(real));
  if (other === undefined || other === environment) return undefined;
  let target = real;
  try {
    target = readlinkSync(path);
  } catch {
    // keep the resolved path
  }
  return { environment, other, target };
}

/**
 * Throws OTHER_ENVIRONMENT_FILE when `path` is an environment's file that is a symbolic link to
 * another environment's file ({@link otherEnvironmentLink}); nothing is read then. Every reader
 * of secrets files (`readRegularFile`, the CLI, the resolver) calls it before opening the file.
 * @throws SopsError OTHER_ENVIRONMENT_FILE
 */
export function assertOwnEnvironmentFile(path: string): void {
  const link = otherEnvironmentLink(path);
  if (link === undefined) return;
  const { environment, other, target } = link;
  throw new SopsError(
    "OTHER_ENVIRONMENT_FILE",
    `${environment}'s file is a symbolic link to ${target}, the file of environment "${other}": read as ${environment}'s it would give ${other}'s values (the file verifies: its MAC does not name the environment); it was not read`,
    {
      file: path,
      hint: `replace the link with ${environment}'s own file: remove the link, then restore the file from a commit before it became a link (\`git log -- ${path}\` lists them; \`git checkout\` of a commit that has the link brings the link back) or set each of ${environment}'s secrets again with \`stellar-secrets set NAME --env ${environment}\``,
    },
  );
}
