/**
 * `probe`'s gate against unreviewed destinations: before a credential is sent, the origins the
 * working tree's config sends each secret to are compared with those of the reviewed config, the
 * committed config of the default branch (its merge-base with HEAD, and its tip). A secret bound
 * for an origin no reviewed state sent it to (a pull-request branch that points a connection's
 * `base_url` at its own host) is refused with `UNREVIEWED_DESTINATION` unless the user says
 * `--allow-new-destination`. Git is read here (the adapter); the comparison is core's
 * {@link unreviewedDestinations}, and the selection and wording below are pure.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readCommitState, secretDestinations, unreviewedDestinations, type NewDestination, type ReviewState, type SecretDestination, type WorkspaceIndex } from "@stellar-secrets/core";
import { CliError } from "./errors.js";
import { GitRepo, isGitError } from "./git.js";

/**
 * The refs that name the reviewed default branch, in the order they are tried (the first that
 * exists wins): the remote's before the local branches, since a local `main` can hold commits
 * nobody reviewed (a pull request merged locally to try it, a fork's `main` checked out as `main`).
 */
export const DEFAULT_BRANCH_REFS = ["origin/HEAD", "origin/main", "origin/master", "main", "master"] as const;

/** The full ref name of one of {@link DEFAULT_BRANCH_REFS}. */
function fullRef(ref: string): string {
  return ref.startsWith("origin/") ? `refs/remotes/${ref}` : `refs/heads/${ref}`;
}

/** The first of {@link DEFAULT_BRANCH_REFS} among `listed` (full ref names, as `git for-each-ref` prints them), or undefined. Pure. */
export function reviewedRef(listed: readonly string[]): (typeof DEFAULT_BRANCH_REFS)[number] | undefined {
  return DEFAULT_BRANCH_REFS.find((r) => listed.includes(fullRef(r)));
}

/** What was found to compare with: the reviewed destinations and what they were read from, or why there is nothing. */
export type ReviewedDestinations = { found: true; label: string; destinations: SecretDestination[] } | { found: false; why: string };

/** The config texts of a state (path relative to the project root → text). */
function configTexts(index: WorkspaceIndex | undefined, read: (rel: string) => string | null | undefined): [string, string][] {
  return [...(index?.configFiles.keys() ?? [])].flatMap((f) => {
    const text = read(f);
    return typeof text === "string" ? [[f, text] as [string, string]] : [];
  });
}

/** The destinations of the working tree's config files (what probe would act on). */
export function workingTreeDestinations(index: WorkspaceIndex, root: string): SecretDestination[] {
  return secretDestinations(
    configTexts(index, (rel) => {
      try {
        return readFileSync(join(root, rel), "utf8");
      } catch {
        return undefined;
      }
    }),
  );
}

/**
 * What counts as reviewed: the default branch's tip's destinations, and those of its merge-base
 * with HEAD whose origin the tip still sends some credential to. A branch cut from an old commit
 * must not get a credential sent to a host the default branch has since moved every credential
 * away from (decommissioned, compromised, its domain lapsed and bought by someone else), while a
 * branch behind the tip keeps working where the hosts are the tip's. Pure.
 */
export function reviewedDestinations(tip: readonly SecretDestination[], mergeBase: readonly SecretDestination[] | undefined): SecretDestination[] {
  const origins = new Set(tip.map((d) => d.origin));
  return [...tip, ...(mergeBase ?? []).filter((d) => origins.has(d.origin))];
}

/**
 * The destinations of the reviewed config: the committed config of the first of
 * {@link DEFAULT_BRANCH_REFS} that exists, at its tip and at its merge-base with HEAD (as
 * {@link reviewedDestinations} keeps it; a shallow clone or a repository without commits has the tip only). `found: false`
 * outside git or when no such ref exists (the caller says so and goes on). Throws git's coded
 * errors for a repository that cannot be read (`CORRUPT_OBJECT`, ...).
 */
export async function readReviewedDestinations(root: string, env: NodeJS.ProcessEnv): Promise<ReviewedDestinations> {
  let repo: GitRepo;
  try {
    repo = await GitRepo.open(root, env, "probe compares destinations with the default branch");
  } catch (error) {
    if (isGitError(error) && error.code === "GIT_ERROR") return { found: false, why: "not in a git repository" };
    throw error;
  }
  // one git call lists which of the refs exist
  let listed: string[];
  try {
    const full = DEFAULT_BRANCH_REFS.map(fullRef);
    listed = (await repo.run(["for-each-ref", "--format=%(refname)", ...full])).split("\n").filter((l) => l !== "");
  } catch {
    listed = [];
  }
  const ref = reviewedRef(listed);
  if (ref === undefined) return { found: false, why: `no default branch to compare with (none of ${DEFAULT_BRANCH_REFS.join(", ")} exists)` };
  const tip = await repo.resolve(ref);
  const head = await repo.run(["rev-parse", "--verify", "-q", "HEAD"]).then(
    (s) => s.trim(),
    () => "",
  );
  let mergeBase: string | undefined;
  if (head !== "") {
    try {
      mergeBase = await repo.mergeBase(head, tip);
    } catch {
      mergeBase = undefined; // unrelated histories or a shallow clone: the tip alone
    }
  }
  const destinationsAt = async (commit: string, label: string): Promise<SecretDestination[]> => {
    const s: ReviewState = await readCommitState(repo, root, commit, label);
    return secretDestinations(configTexts(s.index, (rel) => s.readText(rel)));
  };
  const [atTip, atMergeBase] = await Promise.all([destinationsAt(tip, ref), mergeBase === undefined || mergeBase === tip ? undefined : destinationsAt(mergeBase, `merge-base of HEAD and ${ref}`)]);
  const destinations = reviewedDestinations(atTip, atMergeBase);
  const label = mergeBase === undefined || mergeBase === tip ? `${ref} at ${tip.slice(0, 12)}` : `${ref} at ${tip.slice(0, 12)} and its merge-base with HEAD, ${mergeBase.slice(0, 12)}`;
  return { found: true, label, destinations };
}

/**
 * The unreviewed destinations among those of the documents probe sends from: the connections
 * named (`api_connection NAME`, whose `base_url` gets the connection's and a non-OAuth2
 * connector's secrets) and their auth connectors (`auth_connector NAME`, whose `token_url` gets an
 * OAuth2 client's). Pure.
 */
export function unreviewedForProbe(reviewed: readonly SecretDestination[], head: readonly SecretDestination[], connections: readonly string[], connectors: readonly string[]): NewDestination[] {
  const vias = new Set([...connections.map((n) => `api_connection ${n}`), ...connectors.map((n) => `auth_connector ${n}`)]);
  return unreviewedDestinations(
    reviewed,
    head.filter((d) => vias.has(d.via)),
  );
}

/** The `UNREVIEWED_DESTINATION` error for `found` (non-empty): each secret, origin and config line; never a value. */
export function unreviewedDestinationError(found: readonly NewDestination[], label: string): CliError {
  const lines = found.map(
    (d) => `  ${d.file}:${d.line}: ${d.accessToken === true ? `the access token ${d.secret} obtains` : d.secret} would go to ${d.origin} (${d.via}); the reviewed config sends it ${d.before.length === 0 ? "nowhere" : `only to ${d.before.join(", ")}`}`,
  );
  return new CliError(
    "UNREVIEWED_DESTINATION",
    `probe: ${found.length === 1 ? "a credential" : `${found.length} credentials`} would go to an origin the reviewed config (${label}) never sent ${found.length === 1 ? "it" : "them"} to; nothing was sent:\n${lines.join("\n")}`,
    {
      hint:
        "a branch's base_url or token_url is not reviewed yet: review the change (`stellar-secrets review`) and probe after it is merged, " +
        "or, if you trust that host with the credential, pass --allow-new-destination",
    },
  );
}
