/**
 * `stellar-secrets review [BASE [HEAD]] [--json] [--verify]`: explains an encrypted change without
 * any key — secrets added, changed, removed or re-encrypted per environment, who gained or lost
 * access, removals that did not rotate the data key, stanzas wrapped anew, plaintext, and the
 * references the change breaks; with `--verify`, also decrypts both versions of each changed
 * environment the user's key opens and tells each name's change exactly.
 */
import {
  buildReview,
  compareDecrypted,
  stanzasOf,
  credentialAsName,
  credentialNamesOf,
  diffEnvironmentTexts,
  findingWording,
  findProjectRoot,
  noProjectHint,
  folderSource,
  hideCredentialNamesIn,
  PROJECT_FILE,
  GlobFilter,
  projectFolders,
  VERSION,
  readCommitState,
  readCommitTouches,
  readerWording,
  retiredKeyProvenWith,
  readGateChanges,
  WORKFLOWS_DIR,
  EDITOR_SETTINGS_PATHSPECS,
  jetBrainsFileOf,
  jetBrainsStartupFileOf,
  HOOK_MANAGER_PATHSPECS,
  isHookManagerFile,
  readHookScriptChanges,
  hooksPathFoldersOf,
  readDevContainerChanges,
  DEV_CONTAINER_PATHSPECS,
  isDevContainerPath,
  type GateFileChange,
  type GateBlob,
  type GateReader,
  sopsConfigCandidates,
  SOPS_CONFIG_FILE,
  withVerification,
  rewrapsOpenedWith,
  type DecryptedVersion,
  type EarlierVersion,
  type PathVersion,
  type EnvironmentVerification,
  type FindingWording,
  type GitSource,
  type MergeBaseSecrets,
  type ReadStateOptions,
  type ReviewReport,
  type ReviewState,
  type SignedCommit,
} from "@stellar-secrets/core";
import { decryptSecrets, DEFAULT_SECRETS_DIR, environmentFileName, environmentOfFileName, isSopsError, normalizeSecretsDir, type Identities } from "@stellar-secrets/sops";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { parseCommandArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { GitError, GitRepo, SHALLOW_HINT, strictText } from "../git.js";
import { identitiesFor } from "../repository.js";
import { allowedSigners, verifyCommits } from "../signing.js";
import { aboveRootFiles, readState, type Revision } from "../states.js";
import { renderReviewSarif, renderReviewsJson, renderReviewsMarkdown, renderReviewsText, REVIEW_FORMATS, type NestedReview, type ReviewFormat, withPathPrefix } from "../review-render.js";
import { stringifyJson } from "../json-text.js";

const help = `Usage: stellar-secrets review [BASE [HEAD] | BASE..HEAD | BASE...HEAD] [--json | --format text|json|markdown|sarif] [--verify] [--previous-head REV]...

Explains an encrypted change without any key, from names, ciphertext changes, recipient lists
and references alone: per environment, the secrets added, changed (their encrypted string
differs) and removed; a data-key rotation (every value re-encrypted) as one line, "re-encrypted
(values may or may not have changed)"; the members (stellar.yaml) and the age recipients of the
file that gained or lost access, named where a key is known; a removal that did not rotate the
data key; a secrets file or value that is no longer encrypted; and the checker diagnostics of
the new state that are new or concern a changed secret (e.g. a removed secret still referenced);
an age stanza wrapped anew, or added under a label that already had one, while the data key was
not rotated (a label proves nothing: someone else may now decrypt); a weakened rule (a severity
lowered, secrets_dir moved away from a file, .gitattributes taking files off the merge driver or
out of \`git archive\`: docs/rules.md); and a config file that now sends a secret to a host the
base never sent it to (credential-destination: a connection's base_url, an oauth2 token_url).
Without --verify it never reads a key; it never prints a value.

Signatures (a range of commits only): every commit of the range that changes an environment's
file, or its members in stellar.yaml, must be signed (git ssh signing) by a member of that
environment in the BASE's stellar.yaml, never the head's: without keys an unsigned commit that
replaced every value under a new data key looks exactly like a legitimate rotate-key. Rule
unsigned-change: an error where every member of the environment has an ssh-ed25519 key, a
warning where only some do, nothing where none does.

Nested projects: at the outer root of a monorepo, each folder with a stellar.yaml of its own (at
any depth; in the head, or only in the base) is also reviewed as its own project, as review run
in that folder would (--verify too), after the outer report, under the heading "FOLDER (a project
of its own)", its paths relative to the outer root in its fields and its messages alike: a hint
runs from there as printed (\`git checkout REV -- teams/labs/secrets/production.enc.yaml\`), and
a stellar-secrets command it suggests runs in the folder
(\`(cd teams/labs && stellar-secrets rotate-key --env production)\`). JSON: "projects":[{"path",
...its report} | {"path","removed":true,"clean":true}] (only when there is one; the top-level
"clean" is then false when any is not clean); SARIF: one run with every project's results. Exit
status 1 when any report, outer or nested, has a problem.

What is compared (as with \`git diff\`):
  review               HEAD against the working tree (before the first commit: everything)
  review BASE          BASE against the working tree
  review BASE HEAD     two commits (also BASE..HEAD)
  review BASE...HEAD   what HEAD changed since it forked from BASE (a pull request:
                       \`stellar-secrets review origin/main...HEAD\`)

Options:
  --format FORMAT  text (default); json; markdown (a pull-request comment: summary, problems
                   with file:line, details folded); sarif (SARIF 2.1.0: checker rule ids, plus
                   plaintext, unrotated-removal, non-member-recipient, weakened-rule,
                   rewrapped-without-rotation, tampered, unsigned-change,
                   credential-destination, key-groups-change, look-alike-name; warnings at level
                   warning)
  --json           same as --format json: {"base","head","environments":[{"environment","file",
                   "fileChange","secrets":[{"name","change","before"?,"after"?}],"dataKeyRotated",
                   "rotationUncertain","reencrypted","members","recipients","encrypted","problems",
                   "notes"}],"diagnostics","problems","warnings","signatures":{"checked","commits":
                   [{"commit","status","signer"?,"key"?,"environments","unsignedFor"}],
                   "unverifiable","alsoMembersOf"?},"summary","clean","verification"?} (docs/cli.md: every field)
  --verify         also decrypt, with your age identities (found as sops finds them), the base and
                   head of every changed environment your key opens, verify their MACs, and report
                   per name exactly: added, removed, changed, unchanged, or re-encrypted only (same
                   value, new ciphertext), and whether the data key rotated; the environments it
                   could not verify are named, with why. A head that fails its MAC is a problem.
                   A verified environment's rotation line, changes and counts then follow what
                   the key shows (JSON: "verified":true), never the keyless guess.
                   JSON: "verification":[{"environment","file","verified":true,"dataKeyRotated",
                   "secrets":[{"name","status"}],"rewraps","retiredKeyOf"?} | {"environment","file","verified":false,
                   "reason","code"?,"tampered"}]. Values are never printed.
  --previous-head REV
                   an earlier push of this change (a range only; repeatable; all zeros, a branch's
                   first push, is skipped): the commits it held that the range no longer does (the
                   branch rebased or amended, then force-pushed) are read for a version of an
                   environment file wrapped for a key that is no member at the head while it held a
                   name the change adds or changes (unrotated-removal, "of an earlier push";
                   --verify compares the values), and for a value or credential in clear text in a
                   YAML file they wrote (plaintext: it was pushed). In GitHub Actions: \${{ github.event.before }}
                   on a pull_request "synchronize" event, fetched first (git fetch origin SHA).
                   Exit 4 when it is not a commit here.

Exit status: 0 the change is clean (warnings do not count); 1 it has problems (a new checker error, judged by the base's
rule severities; a plaintext file or value; a member removed without a data-key rotation; a
recipient of a file who is not a member of its environment; a rule that stellar.yaml weakens or
config files it no longer checks; a stanza wrapped anew without a rotation; a data key that an
earlier version had and the base no longer uses, brought back; with --verify, a head that fails
its MAC; a commit not signed by a member where every member can sign); 2 usage; 4 BASE or HEAD is not a commit; 5 no stellar.yaml; 10 --verify found
no age identity; 22 not in a git repository; 24 a shallow clone lacks BASE or the merge-base,
or cuts the range's commits or the base's history that review reads (fetch the history:
\`git fetch --unshallow\`, or actions/checkout with fetch-depth: 0).
`;

const flags = { json: { type: "boolean" }, format: { type: "string" }, verify: { type: "boolean" }, "previous-head": { type: "string", multiple: true } } as const;

/** How the positionals name the two sides. */
export function parseRange(positionals: string[]): { base: string | undefined; head: string | undefined; symmetric: boolean } {
  if (positionals.length === 2) return { base: positionals[0], head: positionals[1], symmetric: false };
  const [arg] = positionals;
  if (arg === undefined) return { base: undefined, head: undefined, symmetric: false };
  for (const sep of ["...", ".."]) {
    const at = arg.indexOf(sep);
    if (at === -1) continue;
    const a = arg.slice(0, at) || "HEAD";
    const b = arg.slice(at + sep.length) || "HEAD";
    return { base: a, head: b, symmetric: sep === "..." };
  }
  return { base: arg, head: undefined, symmetric: false };
}

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f, positionals } = parseCommandArgs("review", argv, flags, { min: 0, max: 2, names: "BASE" });
  if (positionals.length === 2 && positionals.some((p) => p.includes(".."))) {
    throw new CliError("USAGE", "review: give either BASE HEAD or BASE..HEAD, not both", { hint: "e.g. `stellar-secrets review main feature` or `stellar-secrets review main..feature`" });
  }
  if (f.json && f.format !== undefined && f.format !== "json") {
    throw new CliError("USAGE", "review: --json and --format are exclusive", { hint: "use one of --json or --format text|json|markdown|sarif" });
  }
  const format = (f.json ? "json" : (f.format ?? "text")) as ReviewFormat;
  if (!REVIEW_FORMATS.includes(format)) {
    throw new CliError("USAGE", `review: unknown format "${format}"`, { hint: "use --format text, json, markdown or sarif" });
  }
  const root = findProjectRoot(ctx.cwd);
  if (root === undefined) {
    throw new CliError("NO_PROJECT", `no ${PROJECT_FILE} in ${ctx.cwd} or any parent directory`, {
      hint: noProjectHint(ctx.cwd, "run `stellar-secrets review` inside a Stellar Secrets repository"),
    });
  }
  // --verify needs a key: look for one before reading anything
  const ids = f.verify ? identitiesFor(ctx) : undefined;
  if (ids !== undefined && ids.identities.length === 0) {
    throw new CliError("NO_IDENTITY", `review --verify: no age identity found (looked in: ${ids.sources.join("; ")})`, {
      hint: "set SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY) to the key of a member of a changed environment, or review without --verify",
    });
  }
  // the commits as git stores them (what a push sends and CI checks out), not what a replace ref or
  // a grafts file of this clone shows in their place (docs/threat-model.md)
  const repo = await GitRepo.open(root, { ...ctx.env, GIT_NO_REPLACE_OBJECTS: "1", GIT_GRAFT_FILE: NO_GRAFTS_FILE });
  const range = parseRange(positionals);
  let baseRev: Revision;
  let baseLabel: string;
  /** `A...B` with several merge bases (criss-cross merges): all of them, the compared one first. */
  let mergeBases: string[] | undefined;
  /** `A...B` where A's tip is not the merge base: the branch the change merges into. */
  let target: { label: string; commit: string } | undefined;
  let headRev: Revision;
  let headLabel: string;
  if (range.head === undefined) {
    headRev = { kind: "working-tree" };
    headLabel = "working tree";
  } else {
    headRev = { kind: "commit", ref: range.head };
    headLabel = range.head;
  }
  if (range.base === undefined) {
    const hasHead = await repo.hasHead();
    baseRev = hasHead ? { kind: "commit", ref: "HEAD" } : { kind: "empty" };
    baseLabel = hasHead ? "HEAD" : "nothing (no commit yet)";
  } else if (range.symmetric) {
    const a = await repo.resolve(range.base);
    const b = await repo.resolve(range.head as string);
    const bases = await repo.mergeBases(a, b);
    baseRev = { kind: "commit", ref: bases[0] as string };
    baseLabel = `merge-base of ${range.base} and ${range.head}`;
    if (bases.length > 1) mergeBases = bases;
    if (bases[0] !== a) target = { label: range.base, commit: a };
  } else {
    baseRev = { kind: "commit", ref: range.base };
    baseLabel = range.base;
  }
  // --previous-head: an earlier push of this change (GitHub: the pull_request event's `before`); a branch's first push (all zeros) has none
  const previousGiven = (f["previous-head"] ?? []).filter((r) => !/^0+$/.test(r));
  if ((f["previous-head"] ?? []).length > 0 && headRev.kind !== "commit") {
    throw new CliError("USAGE", "review: --previous-head needs a range of commits (BASE...HEAD): the working tree has no push before it", { hint: "e.g. `stellar-secrets review origin/main...HEAD --previous-head SHA`" });
  }
  const previousHeads: string[] = [];
  for (const r of previousGiven) {
    let id: string;
    try {
      id = await repo.resolve(r);
    } catch (err) {
      if (err instanceof GitError && err.code === "SHALLOW_CLONE") throw err;
      throw new CliError("NOT_FOUND", `review: --previous-head ${JSON.stringify(r)} is not a commit of this repository`, {
        hint: `fetch it first (\`git fetch origin ${/^[0-9a-f]{7,64}$/.test(r) ? r : "SHA"}\`; GitHub serves a pull request's earlier heads by id), or leave the option out: review then cannot see what an earlier push held`,
      });
    }
    if (!previousHeads.includes(id)) previousHeads.push(id);
  }
  const outer: ProjectGit = { repo, source: repo, prefix: repo.prefix, ...(target === undefined ? {} : { target }), ...(previousHeads.length === 0 ? {} : { previousHeads }) };
  const { base, head } = await readSides(outer, root, baseRev, baseLabel, headRev, headLabel);
  if (head.index === undefined) {
    throw new CliError("NO_PROJECT", `${headLabel} has no ${PROJECT_FILE}`, { hint: "review a state of the repository that is a Stellar Secrets project" });
  }
  const baseEdge = await shallowEdgeOf(repo, base.commit, head.commit);
  if (baseEdge !== undefined) outer.baseEdge = baseEdge;
  let report = await reviewProject(outer, root, headRev, base, head, ids);
  if (mergeBases !== undefined) {
    // what the choice of base can hide: the files another base has otherwise
    const differ = new Set<string>();
    for (const other of mergeBases.slice(1)) for (const f of await repo.changedFiles(mergeBases[0] as string, other)) differ.add(f);
    report.mergeBases = mergeBases;
    report.mergeBasesDiffer = [...differ].sort();
    const secrets = await mergeBaseSecrets(repo, mergeBases, [base, head]);
    if (secrets.length > 0) report.mergeBasesSecrets = secrets;
    // (another merge base's names, which neither side may have)
    report = hideCredentialNamesIn(report, new Set(secrets.flatMap((m) => (m.secrets ?? []).map((x) => x.name)).filter((n) => credentialAsName(n) !== undefined)));
  }
  // each project nested in this one (a folder with a stellar.yaml of its own, in the head or only
  // in the base; recursively) is reviewed as `review` run inside its folder would, paths prefixed
  const nested: NestedReview[] = [];
  const sides = { base: base.commit === undefined ? ({ kind: "empty" } as const) : ({ kind: "commit", ref: base.commit } as const), head: headRev.kind === "commit" ? ({ kind: "commit", ref: head.commit as string } as const) : headRev };
  const seen = new Set<string>();
  // every folder with a stellar.yaml of its own, from each side's listing (the loader only meets
  // those its config.include reaches); the working tree's from git's index
  const nestedOf = async (state: ReviewState, rev: Revision): Promise<readonly string[]> =>
    state.projectsBelow ?? (rev.kind === "working-tree" && state.index !== undefined ? [...new Set([...projectFolders(await pathsAt(repo, undefined), state.index.project.secretsDir, new GlobFilter(state.index.project.include, state.index.project.exclude)), ...(state.nestedProjects ?? [])])] : state.nestedProjects ?? []);
  const pending = [...new Set([...(await nestedOf(head, headRev)), ...(await nestedOf(base, baseRev))])].sort();
  for (let dir = pending.shift(); dir !== undefined; dir = pending.shift()) {
    if (seen.has(dir)) continue;
    seen.add(dir);
    const source = folderSource(repo, dir);
    const inner: ProjectGit = { repo, source, prefix: source.prefix, dir, ...(baseEdge === undefined ? {} : { baseEdge }), ...(target === undefined ? {} : { target }), ...(previousHeads.length === 0 ? {} : { previousHeads }) };
    const innerRoot = join(root, dir);
    const states = await readSides(inner, innerRoot, sides.base, baseLabel, sides.head, headLabel);
    const below = [...new Set([...(states.head.projectsBelow ?? states.head.nestedProjects ?? []), ...(states.base.projectsBelow ?? states.base.nestedProjects ?? [])])].map((sub) => `${dir}/${sub}`);
    pending.push(...below.filter((d) => !seen.has(d)));
    pending.sort();
    if (states.head.index === undefined) {
      if (states.base.index !== undefined) nested.push({ path: dir, removed: true });
      continue;
    }
    nested.push({ path: dir, report: withPathPrefix(await reviewProject(inner, innerRoot, sides.head, states.base, states.head, ids), dir) });
  }
  nested.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  // text names paths (and words commands) for the current directory, as check does; the other formats keep the root's
  const here = findProjectRoot(ctx.cwd);
  const reader = (dir: string): FindingWording => readerWording(dir === "" ? root : join(root, dir), ctx.cwd, here === (dir === "" ? root : join(root, dir)));
  const render = {
    text: (r: ReviewReport, n: readonly NestedReview[]) => renderReviewsText(r, n, reader),
    json: renderReviewsJson,
    markdown: renderReviewsMarkdown,
    sarif: (r: ReviewReport, n: readonly NestedReview[]) => `${stringifyJson(renderReviewSarif(r, root, VERSION, n), 2)}\n`,
  }[format];
  ctx.stdout.write(render(report, nested));
  return report.clean && nested.every((n) => n.report === undefined || n.report.clean) ? 0 : 1;
}

/**
 * Per other merge base, each environment file that differs from the compared base's (the first),
 * compared per secret without a key: what that base brings. Environment files are those of the
 * secrets folder of either side (`states`).
 */
async function mergeBaseSecrets(repo: GitRepo, bases: readonly string[], states: readonly ReviewState[]): Promise<MergeBaseSecrets[]> {
  const folders = new Set(states.flatMap((s) => (s.index === undefined ? [] : [s.index.project.secretsDir])));
  const environmentOf = (path: string): string | undefined => {
    const slash = path.lastIndexOf("/");
    return folders.has(slash === -1 ? "." : path.slice(0, slash)) ? environmentOfFileName(path.slice(slash + 1)) : undefined;
  };
  const compared = bases[0] as string;
  const out: MergeBaseSecrets[] = [];
  for (const other of bases.slice(1)) {
    const files = (await repo.changedFiles(compared, other)).filter((f) => environmentOf(f) !== undefined);
    if (files.length === 0) continue;
    const [here, there] = await Promise.all([repo.showMany(compared, files), repo.showMany(other, files)]);
    for (const file of files) {
      const a = here.get(file);
      const b = there.get(file);
      const changes = a === null || b === null ? undefined : diffEnvironmentTexts(a, b);
      out.push({ base: other, environment: environmentOf(file) as string, file, ...(changes === undefined ? {} : { secrets: changes.map((c) => ({ name: c.name, change: c.kind })) }) });
    }
  }
  return out;
}

/**
 * The git of one reviewed project: the repository (commands run at the top of its work tree) and
 * its view from the project folder (listings relative to the project root). `dir`: the folder of a
 * nested project below the outer project root (absent for the outer project itself).
 */
interface ProjectGit {
  repo: GitRepo;
  source: GitSource;
  /** The project root relative to the top of the work tree ("" when they are the same). */
  prefix: string;
  dir?: string;
  /**
   * In a shallow clone whose history of the base is cut: a commit at the edge (git did not fetch
   * its parents). The look-back for earlier versions must then reach its full length before it,
   * or the review refuses (SHALLOW_CLONE): it cannot say a data key was never used.
   */
  baseEdge?: string;
  /** `BASE...HEAD`: BASE's tip, when it is not the merge base (signers must still be members there). */
  target?: { label: string; commit: string };
  /** `--previous-head`: earlier pushes of the change (full commit ids), whose commits the range may no longer hold. */
  previousHeads?: readonly string[];
}

/**
 * In a shallow clone, what the review would not see. Throws `SHALLOW_CLONE` when the commits of
 * `base..head` are cut (a commit of the range whose parents git did not fetch: the commits before
 * it, what they changed and whether they are signed, are absent, and the edge commit itself looks
 * as if it added every file). Returns a commit at the edge of the base's own history when that is
 * cut (see {@link ProjectGit.baseEdge}); undefined in a full clone or when nothing is cut.
 */
async function shallowEdgeOf(repo: GitRepo, base: string | undefined, head: string | undefined): Promise<string | undefined> {
  if (base === undefined) return undefined;
  const short = (id: string): string => id.slice(0, 12);
  if (head !== undefined) {
    const cut = await repo.shallowEdge(head, base);
    if (cut.length > 0) {
      throw new GitError(
        "SHALLOW_CLONE",
        `the commits from ${short(base)} to ${short(head)} are cut in this shallow clone: git did not fetch the parents of ${cut.map(short).join(", ")}, so review cannot see the commits before ${cut.length === 1 ? "it" : "them"} (what they changed, whether they are signed) and would report less than the change holds`,
        { hint: SHALLOW_HINT },
      );
    }
  }
  return (await repo.shallowEdge(base))[0];
}

/** The files of `paths` (project-relative) at commit `ref`, keyed by the project-relative path. */
async function showMany(git: ProjectGit, ref: string, paths: readonly string[]): Promise<Map<string, string | null>> {
  if (git.dir === undefined) return git.repo.showMany(ref, paths);
  const below = `${git.dir}/`;
  const texts = await git.repo.showMany(ref, paths.map((p) => `${below}${p}`));
  const out = new Map<string, string | null>();
  for (const [path, text] of texts) if (path.startsWith(below)) out.set(path.slice(below.length), text);
  return out;
}

/** The base and the head of one project (the head read within the base's config scope too: narrowing it cannot hide a file). */
async function readSides(git: ProjectGit, root: string, baseRev: Revision, baseLabel: string, headRev: Revision, headLabel: string): Promise<{ base: ReviewState; head: ReviewState }> {
  // a nested project's commit is read with the outer project's tree around it (the same commit), so
  // that a reference to a secret only the enclosing project has is worded as check words it
  const enclosing: ReadStateOptions = git.dir === undefined ? {} : { enclosing: { git: git.repo, dir: git.dir } };
  const read = (revision: Revision, label: string, options: ReadStateOptions = {}): Promise<ReviewState> =>
    revision.kind === "commit" && git.dir !== undefined ? readCommitState(git.source, root, revision.ref, label, { ...enclosing, ...options }) : readState(git.repo, root, revision, label, options);
  const base = await read(baseRev, baseLabel);
  const baseProject = base.index?.projectUsable === true ? base.index.project : undefined;
  const head = await read(headRev, headLabel, baseProject === undefined ? {} : { alsoRead: [{ include: baseProject.include, exclude: baseProject.exclude }] });
  return { base, head };
}

/** The review of one project whose head has a stellar.yaml (paths relative to its root). */
async function reviewProject(git: ProjectGit, root: string, headRev: Revision, base: ReviewState, head: ReviewState, ids: Identities | undefined): Promise<ReviewReport> {
  const { repo, source } = git;
  if (head.index === undefined) throw new Error("reviewProject: the head has no project");
  // a moved file keeps its diagnostics: match them through git's rename detection
  const renamed = base.commit === undefined ? new Map<string, string>() : await source.renames(base.commit, head.commit);
  // a merge commit at head: its files are also compared with each parent's (a hand merge keeps one side's mac)
  const parents = head.commit === undefined ? [] : (await repo.run(["rev-list", "--parents", "-n", "1", head.commit])).trim().split(/\s+/).slice(1);
  const envPaths = [...head.index.environmentFiles.values()].map((f) => f.path);
  const versions = new Set(parents.length < 2 ? [] : parents);
  for (const c of await rangeVersions(git, base, head, envPaths)) versions.add(c);
  if (head.commit !== undefined) versions.delete(head.commit);
  if (base.commit !== undefined) versions.delete(base.commit);
  const committedAlso = await Promise.all([...versions].map(async (p) => {
    const texts = await showMany(git, p, envPaths);
    return (rel: string) => texts.get(rel);
  }));
  const signatures = await signedCommits(git, base, head);
  // the branch the change merges into, at its tip: a signer removed there since the fork vouches for nothing
  const target = git.target === undefined ? undefined : { ...git.target, projectText: await repo.show(git.target.commit, git.dir === undefined ? PROJECT_FILE : `${git.dir}/${PROJECT_FILE}`) };
  const headLinks = await linksOf(git, root, headRev, head);
  // submodules of the head (the index's for the working tree: a submodule's folder is no file)
  const headSubmodules = await submodulesOf(git, headRev.kind === "commit" ? head.commit : undefined);
  const basePaths = [...(base.index?.environmentFiles.values() ?? [])].map((f) => f.path);
  const earlierVersions = await earlierVersionsOf(git, base, [...new Set([...envPaths, ...basePaths])]);
  const earlierProjects = await earlierProjectsOf(git, base);
  const versionsInRange = await rangeFileVersions(git, base, head);
  // an earlier push of the change (--previous-head): the commits it held that the range no longer does (a rebase, an amend)
  const earlierPushVersions: PathVersion[] = [];
  for (const previous of git.previousHeads ?? []) {
    if (head.commit === undefined) break;
    for (const v of await rangeFileVersions(git, base, head, previous, [head.commit])) {
      if (!earlierPushVersions.some((x) => x.commit === v.commit && x.path === v.path)) earlierPushVersions.push(v);
    }
  }
  // every file of each side, for names a case-insensitive checkout writes to one file (the outer
  // project's listing covers the folders of the nested ones)
  const headPaths = git.dir === undefined && headRev.kind !== "empty" ? await pathsAt(repo, headRev.kind === "commit" ? head.commit : undefined) : undefined;
  const basePathsAll = git.dir === undefined && headPaths !== undefined && base.commit !== undefined ? await pathsAt(repo, base.commit) : [];
  // the CI workflows the change edits (the repository's, read once for the outer project)
  const headSide: Revision = headRev.kind === "commit" ? { kind: "commit", ref: head.commit as string } : headRev;
  const workflows = git.dir === undefined ? await workflowChanges(repo, base.commit, headSide) : [];
  // the editor settings the repository commits (VS Code applies them for every member)
  const editorSettings = git.dir === undefined ? await editorSettingsFiles(repo, base.commit, headSide) : [];
  // what the git hook managers' files run (a script, a package.json script): a member's next commit runs it
  const hookScripts = git.dir === undefined ? await hookScriptChanges(repo, base.commit, headSide) : [];
  // what the dev container files name (a lifecycle command's script, the Dockerfile, compose files, local features)
  const devContainerFiles = git.dir === undefined ? await devContainerChanges(repo, base.commit, headSide) : [];
  // a nested project's messages name paths and commands as run from the outer root (its structured fields are prefixed after)
  // the .gitattributes and .sops.yaml of the folders above the project root (git and sops read them too)
  // (a .sops.yaml link out of the work tree, on either side: git holds no file for it)
  const [baseOutside, headOutside] = [new Map<string, string>(), new Map<string, string>()];
  const aboveRoot =
    source.prefix === ""
      ? undefined
      : {
          prefix: source.prefix,
          base: await aboveRootFiles(repo, source.prefix, base.commit, { outside: baseOutside }),
          head: await aboveRootFiles(repo, source.prefix, headRev.kind === "commit" ? head.commit : headRev.kind, { outside: headOutside }),
          baseOutside,
          headOutside,
        };
  const report = buildReview(base, head, renamed, {
    committedAlso,
    ...(aboveRoot === undefined ? {} : { aboveRoot }),
    signatures,
    ...(target === undefined ? {} : { target }),
    headLinks,
    headSubmodules,
    earlierVersions,
    earlierProjects,
    rangeVersions: versionsInRange,
    ...(earlierPushVersions.length === 0 ? {} : { earlierPushVersions }),
    workflows,
    editorSettings,
    ...(hookScripts.length === 0 ? {} : { hookScripts }),
    ...(devContainerFiles.length === 0 ? {} : { devContainerFiles }),
    ...(headPaths === undefined ? {} : { headPaths, basePaths: basePathsAll }),
    ...(git.dir === undefined ? {} : { folder: git.dir }),
  });
  const verified = ids === undefined ? report : withVerification(report, await verifyEnvironments(report, base, head, renamed, ids, earlierVersions, [...versionsInRange, ...earlierPushVersions]), findingWording(git.dir));
  // a name that looks like a credential is never printed, in any format (the verification matched secrets by name first)
  return hideCredentialNamesIn(verified, credentialNamesOf([base, head], [...versionsInRange, ...earlierPushVersions]));
}

/** A grafts file that cannot exist (a path under a file): git reads no grafts (GIT_NO_REPLACE_OBJECTS leaves .git/info/grafts on). */
const NO_GRAFTS_FILE = "/dev/null/stellar-secrets-no-grafts";

/** Largest file read as part of the CI gate (a workflow, an action, a script): larger ones are no script. */
const MAX_GATE_FILE_BYTES = 1024 * 1024;

/**
 * The two sides of a review as files (relative to the top of the work tree): readers of the base
 * commit and of the head (a commit, the index or the working tree) through one `git cat-file`
 * session, the paths matching `pathspecs` that differ between them, and the `../` that makes a
 * top-relative path relative to the project root.
 */
interface ReviewSides {
  base: GateReader;
  head: GateReader;
  changed(pathspecs: readonly string[]): Promise<string[]>;
  up: string;
}

/** Runs `use` with the {@link ReviewSides} of base and head; its result, or `empty` when git fails. */
async function withSides<T>(repo: GitRepo, base: string, head: Revision, empty: T, use: (sides: ReviewSides) => Promise<T>): Promise<T> {
  const session = repo.catFile();
  const at =
    (rev: string): GateReader =>
    async (paths) =>
      (await session.request(paths.map((p) => `${rev}:${p}`), MAX_GATE_FILE_BYTES)).map((o) =>
        // a file too large to read, or no text (a binary lockfile), by its blob id: a change to it is still one;
        // what it runs is followed through its text read a chunk at a time (git cat-file blob)
        o === undefined || o.type !== "blob"
          ? undefined
          : o.tooLarge === true
            ? { blob: o.id, size: o.size ?? 0, chunks: () => repo.blobText(o.id) }
            : (strictText(o.content, "") ?? { blob: o.id, size: o.content.length, text: Buffer.from(o.content).toString("utf8"), chunks: () => repo.blobText(o.id) }),
      );
  // a path inside a git submodule has no text in this repository: it reads as the submodule's recorded commit and URL
  // (a change of either changes what such a file is), and as possibly running stellar-secrets
  const inSubmodules = (reader: GateReader, rev: string | undefined): GateReader => {
    let subs: Promise<Map<string, string>> | undefined;
    return async (paths) => {
      const out = await reader(paths);
      if (out.every((x) => x !== undefined)) return out;
      // (no .gitmodules: no submodule a member's clone can check out, and no listing of the whole tree)
      const modules = (await reader([".gitmodules"]))[0];
      if (modules === undefined) return out;
      subs ??= gitlinksAt(repo, rev);
      const links = await subs;
      if (links.size === 0) return out;
      const holder = (p: string): string | undefined => [...links.keys()].find((k) => p.startsWith(`${k}/`));
      if (!out.some((x, i) => x === undefined && holder(paths[i] as string) !== undefined)) return out;
      return out.map((x, i) => {
        const sub = x === undefined ? holder(paths[i] as string) : undefined;
        if (sub === undefined) return x;
        const url = submoduleUrlOf(typeof modules === "string" ? modules : undefined, sub);
        return `\u0000 stellar-secrets: a file of the git submodule ${sub} (commit ${links.get(sub) as string}${url === undefined ? "" : `, url ${JSON.stringify(url)}`}), whose text is not in this repository`;
      });
    };
  };
  try {
    return await use({
      base: inSubmodules(at(base), base),
      // (`:path` is the index's)
      head: inSubmodules(head.kind === "commit" ? at(head.ref) : head.kind === "index" ? at("") : async (paths) => gateFilesInWorkTree(repo, paths), head.kind === "commit" ? head.ref : undefined),
      changed: async (pathspecs) =>
        (await repo.run(["diff", "--no-ext-diff", "--no-textconv", "--no-renames", "--name-only", "-z", base, ...(head.kind === "commit" ? [head.ref] : head.kind === "index" ? ["--cached"] : []), "--", ...pathspecs]))
          .split("\0")
          .filter((n) => n !== ""),
      up: repo.prefix === "" ? "" : "../".repeat(repo.prefix.split("/").length),
    });
  } catch {
    return empty;
  } finally {
    session.close();
  }
}

/**
 * The files of the CI gate that differ between the base commit and the head (a commit, the index,
 * or the working tree), each side's text: the workflows, the local actions and reusable workflows
 * they use, and the repository's files those run (scripts, package.json scripts, Makefiles;
 * core's gate.ts), plus any changed `action.yml` / `action.yaml`. Paths relative to the project
 * root. Empty without a base commit, or when git fails.
 */
async function workflowChanges(repo: GitRepo, base: string | undefined, head: Revision): Promise<GateFileChange[]> {
  if (base === undefined || head.kind === "empty") return [];
  return withSides(repo, base, head, [], async (sides) => {
    // the local actions the change edits, used by a workflow or not (GitHub runs the pull request's copy)
    const changed = await sides.changed([":(top,glob)**/action.yml", ":(top,glob)**/action.yaml"]);
    const isWorkflow = (n: string): boolean => /^\.github\/workflows\/[^/]+\.ya?ml$/.test(n);
    const workflowsAt = async (side: Revision): Promise<string[]> => {
      const names =
        side.kind === "working-tree"
          ? listWorkTreeFolder(repo.top, WORKFLOWS_DIR).map((n) => `${WORKFLOWS_DIR}/${n}`)
          : side.kind === "index"
            ? (await repo.run(["--literal-pathspecs", "ls-files", "-z", "--", `${WORKFLOWS_DIR}/`])).split("\0")
            : side.kind === "commit"
              ? (await repo.run(["--literal-pathspecs", "ls-tree", "-z", "--name-only", side.ref, "--", `${WORKFLOWS_DIR}/`])).split("\0")
              : [];
      return names.filter(isWorkflow).sort();
    };
    // (the files the change changes: read only when a gate file runs a path computed at run time, to match its literal end)
    const changes = await readGateChanges({ roots: [...(await workflowsAt({ kind: "commit", ref: base })), ...changed], read: sides.base }, { roots: [...(await workflowsAt(head)), ...changed], read: sides.head }, () => sides.changed([]));
    // relative to the project root, as every path of the report (`../.github/…` for a project in a subfolder)
    return changes.map((c) => ({ ...c, path: `${sides.up}${c.path}`, ...(c.via === undefined ? {} : { via: `${sides.up}${c.via}` }) }));
  });
}

/**
 * The editor settings files (`.vscode/settings.json` anywhere) that differ between the base commit
 * and the head, each side's text, paths relative to the project root. Empty without a base
 * commit, or when git fails.
 */
async function editorSettingsFiles(repo: GitRepo, base: string | undefined, head: Revision): Promise<{ path: string; before: string | undefined; after: string | undefined }[]> {
  if (base === undefined || head.kind === "empty") return [];
  return withSides(repo, base, head, [], async (sides) => {
    const changed = await sides.changed([...EDITOR_SETTINGS_PATHSPECS]);
    if (changed.length === 0) return [];
    // a JetBrains run configuration counts when its project's startup.xml names it: that file is read too, changed or not
    const startup = changed.filter((n) => jetBrainsFileOf(n) === "run").map(jetBrainsStartupFileOf);
    const names = [...new Set([...changed, ...startup])];
    const [before, after] = await Promise.all([sides.base(names), sides.head(names)]);
    // (a settings file too large to read, or no text, is none VS Code applies)
    const text = (t: string | GateBlob | undefined): string | undefined => (typeof t === "string" ? t : undefined);
    return names.map((n, i) => ({ path: `${sides.up}${n}`, before: text(before[i]), after: text(after[i]) }));
  });
}

/**
 * The files the git hook managers' files run (core's gate.ts `readHookScriptChanges`) that differ
 * between the base commit and the head, each with the hook file that names it (`via`). The hook
 * files are listed on each side from the whole tree (a commit) or the index and the untracked
 * files (the working tree). Paths relative to the project root. Empty without a base commit, or
 * when git fails.
 */
async function hookScriptChanges(repo: GitRepo, base: string | undefined, head: Revision): Promise<GateFileChange[]> {
  if (base === undefined || head.kind === "empty") return [];
  return withSides(repo, base, head, [], async (sides) => {
    // the folders the repository sets as git's core.hooksPath (a setup script's `git config core.hooksPath .githooks`), at either side, and this clone's own
    const dirsAt = async (side: Revision): Promise<string[]> => {
      try {
        return hooksPathFoldersOf(await repo.run(["grep", "-h", "-I", "-E", "core\\.hooks[Pp]ath", ...(side.kind === "commit" ? [side.ref] : side.kind === "index" ? ["--cached"] : []), "--"]));
      } catch {
        return []; // (git grep exits 1 when nothing matches)
      }
    };
    let own: string[] = [];
    try {
      own = hooksPathFoldersOf(`core.hooksPath ${(await repo.run(["config", "--get", "core.hooksPath"])).trim()}`);
    } catch {
      // not set
    }
    const dirs = [...new Set([...(await dirsAt({ kind: "commit", ref: base })), ...(await dirsAt(head)), ...own])].sort();
    const inDir = (n: string): boolean => dirs.some((d) => n.startsWith(`${d}/`) && !n.slice(d.length + 1).includes("/"));
    const hooksAt = async (side: Revision): Promise<string[]> => {
      const names =
        side.kind === "commit"
          ? (await repo.run(["ls-tree", "-r", "-z", "--name-only", "--full-tree", side.ref])).split("\0")
          : (await repo.run(["ls-files", "-z", "--full-name", "--cached", ...(side.kind === "working-tree" ? ["--others", "--exclude-standard"] : []), "--", ...HOOK_MANAGER_PATHSPECS, ...dirs.map((d) => `:(top,literal)${d}/`)])).split("\0");
      return names.filter((n) => n !== "" && (isHookManagerFile(n) || inDir(n)));
    };
    // (the files the change changes: read only when a hook runs a path computed at run time, to match its literal end)
    const changes = await readHookScriptChanges({ hooks: await hooksAt({ kind: "commit", ref: base }), read: sides.base }, { hooks: await hooksAt(head), read: sides.head }, () => sides.changed([]), dirs);
    return changes.map((c) => ({ ...c, path: `${sides.up}${c.path}`, ...(c.via === undefined ? {} : { via: `${sides.up}${c.via}` }), ...(c.install === undefined ? {} : { install: c.install.map((f) => `${sides.up}${f}`) }) }));
  });
}

/**
 * The files the dev container files name (core's devcontainer.ts `readDevContainerChanges`) that
 * differ between the base commit and the head, each with the dev container file that names it
 * (`via`). The dev container files are listed on each side as the hook files are. Paths relative
 * to the project root. Empty without a base commit, or when git fails.
 */
async function devContainerChanges(repo: GitRepo, base: string | undefined, head: Revision): Promise<GateFileChange[]> {
  if (base === undefined || head.kind === "empty") return [];
  return withSides(repo, base, head, [], async (sides) => {
    const filesAt = async (side: Revision): Promise<string[]> => {
      const names =
        side.kind === "commit"
          ? (await repo.run(["ls-tree", "-r", "-z", "--name-only", "--full-tree", side.ref])).split("\0")
          : (await repo.run(["ls-files", "-z", "--full-name", "--cached", ...(side.kind === "working-tree" ? ["--others", "--exclude-standard"] : []), "--", ...DEV_CONTAINER_PATHSPECS])).split("\0");
      return names.filter((n) => n !== "" && isDevContainerPath(n));
    };
    const changes = await readDevContainerChanges({ files: await filesAt({ kind: "commit", ref: base }), read: sides.base }, { files: await filesAt(head), read: sides.head }, () => sides.changed([]));
    return changes.map((c) => ({ ...c, path: `${sides.up}${c.path}`, ...(c.via === undefined ? {} : { via: `${sides.up}${c.via}` }), ...(c.install === undefined ? {} : { install: c.install.map((f) => `${sides.up}${f}`) }) }));
  });
}

/** The git submodules (gitlinks) at a commit (the index when undefined): path from the top → the commit it records. */
async function gitlinksAt(repo: GitRepo, rev: string | undefined): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  try {
    const listing = await repo.run(rev === undefined ? ["ls-files", "-s", "-z", "--full-name"] : ["ls-tree", "-r", "-z", "--full-tree", rev]);
    for (const entry of listing.split("\0")) {
      const m = /^160000 (?:commit )?([0-9a-f]+)(?: \d)?\t(.+)$/.exec(entry);
      if (m !== null) out.set(m[2] as string, m[1] as string);
    }
  } catch {
    // no listing: no submodules known
  }
  return out;
}

/** The `url` of the `.gitmodules` section whose `path` is `path`, or undefined. */
function submoduleUrlOf(gitmodules: string | undefined, path: string): string | undefined {
  for (const section of (gitmodules ?? "").split(/^\s*\[/m)) {
    const p = /^\s*path\s*=\s*(.+?)\s*$/m.exec(section)?.[1];
    if (p === path) return /^\s*url\s*=\s*(.+?)\s*$/m.exec(section)?.[1];
  }
  return undefined;
}

/** The names in a work-tree folder (relative to the top), none when it is absent. */
function listWorkTreeFolder(top: string, rel: string): string[] {
  try {
    return readdirSync(join(top, rel));
  } catch {
    return [];
  }
}

/**
 * Gate files' texts in the work tree as git would commit them: a regular file's text (at most
 * {@link MAX_GATE_FILE_BYTES}, UTF-8), a symbolic link's target; a larger or non-text regular file
 * as its blob id (`git hash-object`, which streams it through the path's clean filters as a commit
 * would, without holding it); undefined otherwise (absent, a folder, a device or pipe, which is never opened).
 */
async function gateFilesInWorkTree(repo: GitRepo, rels: readonly string[]): Promise<(string | GateBlob | undefined)[]> {
  const out: (string | GateBlob | undefined)[] = [];
  const hash: { at: number; rel: string; size: number; text?: string }[] = [];
  for (const rel of rels) {
    const abs = join(repo.top, rel);
    let text: string | undefined;
    try {
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) text = readlinkSync(abs);
      else if (st.isFile()) {
        const bytes = st.size > MAX_GATE_FILE_BYTES ? undefined : readFileSync(abs);
        text = bytes === undefined ? undefined : (strictText(bytes, rel) ?? undefined);
        // (not UTF-8: also its text as node and npm read it, each broken sequence as U+FFFD)
        if (text === undefined) hash.push({ at: out.length, rel, size: st.size, ...(bytes === undefined ? {} : { text: bytes.toString("utf8") }) });
      }
    } catch {
      text = undefined;
    }
    out.push(text);
  }
  if (hash.length > 0) {
    try {
      const ids = (await repo.run(["--literal-pathspecs", "hash-object", "--", ...hash.map((h) => h.rel)])).split("\n").filter((l) => l !== "");
      hash.forEach((h, i) => {
        if (ids[i] !== undefined) out[h.at] = { blob: ids[i], size: h.size, ...(h.text === undefined ? {} : { text: h.text }), chunks: () => fileText(join(repo.top, h.rel)) };
      });
    } catch {
      // (unhashable: as absent)
    }
  }
  return out;
}

/** A work-tree file's text, 64 KiB at a time (UTF-8; a broken sequence as U+FFFD), never held whole. */
async function* fileText(abs: string): AsyncGenerator<string> {
  const handle = await open(abs, "r");
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const decoder = new TextDecoder("utf-8");
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      yield decoder.decode(buffer.subarray(0, bytesRead), { stream: true });
    }
    const tail = decoder.decode();
    if (tail !== "") yield tail;
  } finally {
    await handle.close();
  }
}

/** Every path git holds in the project folder at `commit` (the index when undefined): files, links and submodules. */
async function pathsAt(repo: GitRepo, commit: string | undefined): Promise<string[]> {
  const [files, links, submodules] = commit === undefined ? [await repo.filesInIndex(), await repo.linksAt(undefined), await repo.submodulesAt(undefined)] : [await repo.filesAt(commit), await repo.linksAt(commit), await repo.submodulesAt(commit)];
  return [...files.keys(), ...links.keys(), ...submodules.keys()];
}

/** The head's git submodules (project-relative path → the commit it records). */
async function submodulesOf(git: ProjectGit, commit: string | undefined): Promise<Map<string, string>> {
  const all = await git.repo.submodulesAt(commit);
  if (git.dir === undefined) return all;
  const below = `${git.dir}/`;
  const out = new Map<string, string>();
  for (const [path, id] of all) if (path.startsWith(below)) out.set(path.slice(below.length), id);
  return out;
}


/** A version decrypted with `ids` (MAC verified), or the error that stopped it. */
async function decryptVersion(text: string, path: string, ids: Identities): Promise<DecryptedVersion> {
  const d = await decryptSecrets(text, ids, { path });
  return {
    values: d.values,
    stored: new Map(d.file.entries.map((e) => [e.name, e.raw])),
    dataKey: d.dataKey,
    // a key-groups file's stanzas too (each with its group): a share wrapped anew under the same data key is a re-wrap
    stanzas: stanzasOf(d.file),
  };
}

/** Why a version could not be verified, without any value. */
function failure(e: unknown, which: string): { reason: string; code?: string; tampered: boolean } {
  if (isSopsError(e)) {
    const tampered = e.code === "MAC_MISMATCH" || e.code === "TAMPERED";
    const groups = e.reason === "too-few-key-groups" ? e.keyGroups : undefined;
    const reason =
      groups !== undefined
        ? // a key that opens a group's share opens something: say what, and that a share alone proves nothing
          `your keys open ${groups.opened.length} of the ${which} version's ${groups.groups} key groups (${groups.opened.length === 0 ? "none" : groups.opened.length === 1 ? `group ${groups.opened[0]}` : `groups ${groups.opened.slice(0, -1).join(", ")} and ${groups.opened.at(-1)}`}) ` +
          (groups.thresholdWritten
            ? `and ${groups.threshold} are needed, so its data key cannot be combined`
            : groups.opened.length < 2
              ? "and at least 2 are needed (it writes no shamir_threshold), so its data key cannot be combined"
              : "whose shares do not give its data key (it writes no shamir_threshold: its split may need more groups, or a share was changed)") +
          " and nothing in it is verified"
        : e.code === "NO_IDENTITY" || e.code === "NO_MATCHING_IDENTITY"
        ? `none of your keys opens the ${which} version`
        : `the ${which} version: ${e.code}${tampered ? " (a value or the MAC does not match the data key)" : ""}`;
    return { reason, code: e.code, tampered: tampered && which === "head" };
  }
  throw e;
}

/** Decrypts base and head of every changed environment whose head exists and compares them. */
async function verifyEnvironments(
  report: ReviewReport,
  base: ReviewState,
  head: ReviewState,
  renamed: ReadonlyMap<string, string>,
  ids: Identities,
  earlier: ReadonlyMap<string, readonly EarlierVersion[]>,
  range: readonly { commit: string; path: string; text: string }[] = [],
): Promise<EnvironmentVerification[]> {
  const out: EnvironmentVerification[] = [];
  for (const e of report.environments) {
    if (e.fileChange === "removed") continue;
    const unverified = (f: { reason: string; code?: string; tampered: boolean }): EnvironmentVerification => ({
      environment: e.environment,
      file: e.file,
      verified: false,
      reason: f.reason,
      ...(f.code === undefined ? {} : { code: f.code }),
      tampered: f.tampered,
    });
    const headText = head.readText(e.file);
    if (typeof headText !== "string" || e.encrypted !== true) {
      out.push(unverified({ reason: "the head version is not a readable encrypted SOPS file", tampered: false }));
      continue;
    }
    let after: DecryptedVersion;
    try {
      after = await decryptVersion(headText, e.file, ids);
    } catch (err) {
      out.push(unverified(failure(err, "head")));
      continue;
    }
    const basePath = base.index?.environmentFiles.get(e.environment)?.path ?? renamed.get(e.file) ?? e.file;
    const baseText = e.fileChange === "added" ? undefined : base.readText(basePath);
    let before: DecryptedVersion | undefined;
    if (typeof baseText === "string") {
      try {
        before = await decryptVersion(baseText, basePath, ids);
      } catch (err) {
        out.push(unverified(failure(err, "base")));
        continue;
      }
    } else if (baseText === null) {
      out.push(unverified({ reason: "the base version is not valid UTF-8", tampered: false }));
      continue;
    }
    const compared = compareDecrypted(e.environment, e.file, before, after);
    // which of the reviewer's keys opens each stanza wrapped anew (each tried alone): a stanza for their own key is told apart
    const verified = compared.verified && compared.rewraps.length > 0 ? { ...compared, rewraps: await rewrapsOpenedWith(compared.rewraps, ids.identities) } : compared;
    // a new data key may be an old one: compare it with the earlier versions' keys this identity opens
    const versions = [...new Set([e.file, basePath])].flatMap((p) => earlier.get(p) ?? []);
    const retired = verified.verified && (before === undefined || verified.dataKeyRotated) ? await retiredKeyProvenWith(after.dataKey, before?.dataKey, versions, ids) : undefined;
    // a version a commit of the change wrote for a key no member has at the head: are its values the head's?
    const exposed: NonNullable<Extract<EnvironmentVerification, { verified: true }>["exposed"]> = [];
    for (const x of e.exposedDuring ?? []) {
      const version = range.find((v) => v.commit === x.commit && (v.path === e.file || v.path === basePath || environmentOfFileName(v.path.slice(v.path.lastIndexOf("/") + 1)) === e.environment));
      if (version === undefined) continue;
      let then: DecryptedVersion;
      try {
        then = await decryptVersion(version.text, version.path, ids);
      } catch {
        continue; // no key of the reviewer's opens it: nothing proven either way
      }
      const compared = x.secrets.filter((n) => then.values.has(n) && after.values.has(n));
      exposed.push({ commit: x.commit, recipient: x.recipient, compared, same: compared.filter((n) => then.values.get(n) === after.values.get(n)) });
    }
    const withExposed = exposed.length === 0 || !verified.verified ? verified : { ...verified, exposed };
    out.push(retired === undefined || !withExposed.verified ? withExposed : { ...withExposed, retiredKeyOf: retired });
  }
  return out;
}

/**
 * The commits of base..head that change an environment, with their signatures verified by git
 * against the members of the **base**'s stellar.yaml (never the head's). Undefined when a side is
 * not a commit (the working tree: there are no commits to verify) or the base has no stellar.yaml.
 */
/**
 * The head's symbolic links at the environment files' places (project-relative path → where it
 * points): from git for a commit or the index, from the folder for the working tree.
 */
async function linksOf(git: ProjectGit, root: string, revision: Revision, head: ReviewState): Promise<Map<string, string>> {
  const config = head.index?.project;
  if (config === undefined) return new Map();
  const dir = normalizeSecretsDir(config.secretsDir);
  const files = config.environments.map((e) => `${dir}/${environmentFileName(e.name)}`);
  // the files' places and the folders above them (a link at `secrets` points every file elsewhere)
  const folders = dir.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/")).filter((f) => f !== "." && f !== "");
  // and, while secrets_dir names another folder, the default one's (a resolver without stellar.yaml reads it)
  const fallback = dir === DEFAULT_SECRETS_DIR ? [] : [DEFAULT_SECRETS_DIR, ...config.environments.map((e) => `${DEFAULT_SECRETS_DIR}/${environmentFileName(e.name)}`)];
  // and each .sops.yaml sops may read for them (a link there: plain sops reads its target)
  const paths = [...folders, ...files, ...fallback, ...sopsConfigCandidates(dir)];
  const out = new Map<string, string>();
  if (revision.kind === "working-tree") {
    for (const rel of paths) {
      try {
        if (lstatSync(join(root, rel)).isSymbolicLink()) out.set(rel, readlinkSync(join(root, rel)));
      } catch {
        // absent: not a link
      }
    }
    return out;
  }
  if (revision.kind === "empty") return out;
  const links = (await git.source.linksAt?.(revision.kind === "commit" ? head.commit : undefined)) ?? new Map<string, string>();
  const wanted = paths.filter((p) => links.has(p));
  if (wanted.length === 0) return out;
  const targets = await git.repo.readBlobs(wanted.map((p) => links.get(p) as string));
  for (const p of wanted) {
    const target = targets.get(links.get(p) as string);
    out.set(p, typeof target === "string" ? target : "a path that is not valid UTF-8");
  }
  return out;
}

/** At most this many earlier versions (commits of the range) are compared with each head file for `stale-mac`. */
const MAX_RANGE_VERSIONS = 64;

/**
 * The commits of base..head that changed one of the environment files `paths` (project-relative),
 * and each one's parents, newest first, at most {@link MAX_RANGE_VERSIONS}: a hand-edited file keeps
 * the `mac` and `lastmodified` of whichever version it was edited from, which need be neither the
 * base nor a parent of the head (a later commit of the branch, a merge inside the range).
 */
async function rangeVersions({ repo, prefix }: ProjectGit, base: ReviewState, head: ReviewState, paths: readonly string[]): Promise<string[]> {
  if (base.commit === undefined || head.commit === undefined || paths.length === 0) return [];
  const top = (rel: string): string => (prefix === "" ? rel : `${prefix}/${rel}`);
  let out: string;
  try {
    out = await repo.log(["--format=%H %P", "--full-history", `--max-count=${MAX_RANGE_VERSIONS}`, `${base.commit}..${head.commit}`, "--", ...paths.map((p) => `:(top,literal)${top(p)}`)]);
  } catch {
    return [];
  }
  const commits = new Set<string>();
  for (const line of out.split("\n")) for (const id of line.trim().split(/\s+/)) if (/^[0-9a-f]{40,64}$/.test(id)) commits.add(id);
  return [...commits].slice(0, MAX_RANGE_VERSIONS);
}

/** At most this many commits of the base's history are read for earlier versions of the environment files. */
const MAX_EARLIER_COMMITS = 200;

/**
 * The versions of the environment files `paths` (project-relative) that the commits of the base's
 * history wrote, newest first, at most {@link MAX_EARLIER_COMMITS} commits (one `git log`, one
 * blob read): a head that brings back the data key of one of them, which the base no longer uses,
 * undoes a rotation (`unrotated-removal`). Empty without a base commit, or when git fails.
 */
async function earlierVersionsOf({ repo, prefix, baseEdge, dir }: ProjectGit, base: ReviewState, paths: readonly string[]): Promise<Map<string, EarlierVersion[]>> {
  const out = new Map<string, EarlierVersion[]>();
  if (base.commit === undefined || paths.length === 0) return out;
  const top = (rel: string): string => (prefix === "" ? rel : `${prefix}/${rel}`);
  const wanted = new Map(paths.map((p) => [top(p), p] as const));
  let log: string;
  try {
    log = await repo.log([
      "--format=%H", "--no-renames", "--raw", "--no-abbrev", "-m", "-z", `--max-count=${MAX_EARLIER_COMMITS}`, base.commit, "--",
      ...paths.map((p) => `:(top,literal)${top(p)}`),
    ]);
  } catch {
    return out;
  }
  if (baseEdge !== undefined) {
    // a shallow clone: fewer commits than the look-back reads means it stopped at the edge, not at the first commit
    const commits = new Set(log.split("\0").map((t) => t.replace(/^\n+/, "")).filter((t) => /^[0-9a-f]{40,64}$/.test(t)));
    if (commits.size < MAX_EARLIER_COMMITS) {
      throw new GitError(
        "SHALLOW_CLONE",
        `the history of the base ${base.commit.slice(0, 12)} is cut in this shallow clone (git did not fetch the parents of ${baseEdge.slice(0, 12)}): review looks through the last ${MAX_EARLIER_COMMITS} commits that changed an environment file for a data key the base retired (unrotated-removal), and this clone holds ${commits.size}; a restored old version would go unseen`,
        { hint: SHALLOW_HINT },
      );
    }
  }
  const found: { rel: string; commit: string; blob: string }[] = [];
  const seen = new Set<string>();
  for (const { commit, path, blob } of rawLogEntries(log)) {
    const rel = wanted.get(path);
    if (rel === undefined || seen.has(`${rel}\0${blob}`)) continue;
    seen.add(`${rel}\0${blob}`);
    found.push({ rel, commit, blob });
  }
  if (found.length === 0) return out;
  // a version git cannot give (a partial clone, --filter=blob:none, that cannot fetch it: offline, the remote gone):
  // refused as a shallow clone's cut history is, never skipped (the data key it holds would go unseen)
  const { texts, missing } = await repo.readBlobsOrMissing([...new Set(found.map((f) => f.blob))]);
  if (missing.length > 0) throw unreadEarlierVersions(found, missing, findingWording(dir));
  for (const f of found) {
    const text = texts.get(f.blob);
    if (typeof text !== "string") continue;
    const list = out.get(f.rel) ?? [];
    list.push({ commit: f.commit, text });
    out.set(f.rel, list);
  }
  return out;
}

/**
 * The versions of `stellar.yaml` that the base's history wrote, newest first, at most
 * {@link MAX_EARLIER_COMMITS} commits (one `git log`, one blob read), for names only: a key
 * neither side's `stellar.yaml` names is told by the member an earlier one gave it. Empty without
 * a base commit or when git fails; a version git cannot give is skipped (nothing is judged from it).
 */
async function earlierProjectsOf({ repo, prefix }: ProjectGit, base: ReviewState): Promise<EarlierVersion[]> {
  if (base.commit === undefined) return [];
  const path = prefix === "" ? PROJECT_FILE : `${prefix}/${PROJECT_FILE}`;
  let log: string;
  try {
    log = await repo.log(["--format=%H", "--no-renames", "--raw", "--no-abbrev", "-m", "-z", `--max-count=${MAX_EARLIER_COMMITS}`, base.commit, "--", `:(top,literal)${path}`]);
  } catch {
    return [];
  }
  const found: { commit: string; blob: string }[] = [];
  const seen = new Set<string>();
  for (const entry of rawLogEntries(log)) {
    if (entry.path !== path || seen.has(entry.blob)) continue;
    seen.add(entry.blob);
    found.push({ commit: entry.commit, blob: entry.blob });
  }
  if (found.length === 0) return [];
  const { texts } = await repo.readBlobsOrMissing(found.map((f) => f.blob)).catch(() => ({ texts: new Map<string, string | null>() }));
  return found.flatMap((f) => {
    const text = texts.get(f.blob);
    return typeof text === "string" ? [{ commit: f.commit, text }] : [];
  });
}

/**
 * Every version of a YAML file (`*.yaml`, `*.yml` anywhere below the project root: environment
 * files, stellar.yaml, the catalog, config files) that the commits of `base..head` wrote, oldest
 * first (one `git log`, one blob read): a version of an environment file that wrapped the head's
 * data key for a key the head no longer has (a member added, then reverted) is `unrotated-removal`
 * though the end state shows no change, and a value or credential in clear text that a later
 * commit took out again is `plaintext`. Empty without both commits, or when
 * git fails to list them; a version git cannot give is refused as for the earlier versions.
 */
async function rangeFileVersions({ repo, prefix, dir }: ProjectGit, base: ReviewState, head: ReviewState, tip: string | undefined = head.commit, not: readonly string[] = []): Promise<PathVersion[]> {
  if (base.commit === undefined || head.commit === undefined || tip === undefined) return [];
  const below = prefix === "" ? "" : `${prefix}/`;
  let log: string;
  try {
    log = await repo.log([
      "--format=%H", "--reverse", "--no-renames", "--raw", "--no-abbrev", "-m", "-z", `${base.commit}..${tip}`, ...not.map((c) => `^${c}`), "--",
      `:(top,glob)${below}**/*.yaml`,
      `:(top,glob)${below}**/*.yml`,
    ]);
  } catch {
    return [];
  }
  const found: { rel: string; commit: string; blob: string }[] = [];
  const seen = new Set<string>();
  for (const { commit, path, blob } of rawLogEntries(log)) {
    if (!path.startsWith(below) || seen.has(blob)) continue;
    seen.add(blob);
    found.push({ rel: path.slice(below.length), commit, blob });
  }
  if (found.length === 0) return [];
  const { texts, missing } = await repo.readBlobsOrMissing([...new Set(found.map((f) => f.blob))]);
  if (missing.length > 0) throw unreadEarlierVersions(found, missing, findingWording(dir), "a data key one of the change's commits handed out (unrotated-removal)");
  return found.flatMap((f) => {
    const text = texts.get(f.blob);
    return typeof text === "string" ? [{ commit: f.commit, path: f.rel, text }] : [];
  });
}

/**
 * The files a `git log --format=%H --raw --no-abbrev -z` output names, in its order: each commit
 * (`%H`), then each path it wrote with the new blob's id. Deletions (an all-zero id), submodules
 * (a gitlink, mode 160000: no blob) and entries before the first commit are left out.
 */
export function rawLogEntries(log: string): { commit: string; path: string; blob: string }[] {
  const out: { commit: string; path: string; blob: string }[] = [];
  const tokens = log.split("\0");
  let commit = "";
  for (let i = 0; i < tokens.length; i++) {
    const token = (tokens[i] ?? "").replace(/^\n+/, "");
    if (/^[0-9a-f]{40,64}$/.test(token)) {
      commit = token;
      continue;
    }
    const raw = /^:\d{6} (\d{6}) [0-9a-f]+ ([0-9a-f]+) [A-Z]/.exec(token);
    if (raw === null) continue;
    const path = tokens[++i] ?? "";
    const blob = raw[2] as string;
    // (a submodule there, mode 160000: its id is a commit of another repository, no blob of this
    // one, and no version of the file; the submodule itself is a problem of its own, tree-findings.ts)
    if (commit !== "" && !/^0+$/.test(blob) && raw[1] !== "160000") out.push({ commit, path, blob });
  }
  return out;
}

/**
 * The refusal (`GIT_ERROR`) for the earlier versions of the environment files git could not give
 * (`missing` of `found`): which (file and commit, the first few), git's reason, what the review
 * would not see (unrotated-removal), and how to fetch them.
 */
function unreadEarlierVersions(
  found: readonly { rel: string; commit: string; blob: string }[],
  missing: readonly { id: string; reason: string }[],
  wording: FindingWording,
  unseen = "a data key the base retired that the head brings back (unrotated-removal)",
): GitError {
  const gone = new Set(missing.map((m) => m.id));
  const which = found.filter((f) => gone.has(f.blob)).map((f) => `${wording.path(f.rel)} at ${f.commit.slice(0, 12)}`);
  const shown = which.length > 3 ? `${which.slice(0, 3).join(", ")} and ${which.length - 3} more` : which.join(", ");
  const reason = (missing[0]?.reason ?? "").replace(/^git cat-file ended \(\d+\): /, "");
  const one = which.length === 1;
  return new GitError(
    "GIT_ERROR",
    `review cannot read ${one ? "an earlier version" : `${which.length} earlier versions`} of the environment files (${shown}): git has no copy of ${one ? "it" : "them"} and could not fetch ${one ? "it" : "them"}` +
      `${reason === "" ? "" : ` (${reason})`}, so ${unseen} would go unseen`,
    { hint: "in a partial clone (--filter=blob:none), run review where git can reach the remote (it fetches what review reads when asked), or in a clone made without --filter" },
  );
}

async function signedCommits({ repo, source }: ProjectGit, base: ReviewState, head: ReviewState): Promise<SignedCommit[] | undefined> {
  const baseConfig = base.index?.project;
  if (base.commit === undefined || head.commit === undefined || baseConfig === undefined) return undefined;
  const touches = await readCommitTouches(source, base, head);
  const environments = [...new Set(touches.flatMap((t) => [...t.files, ...t.members]))];
  const verdicts = await verifyCommits(
    repo,
    touches.map((t) => t.commit),
    allowedSigners(baseConfig, environments),
  );
  return touches.map((t, i) => {
    const v = verdicts[i];
    return { ...t, status: v?.status ?? "unknown-signer", ...(v?.signer === undefined ? {} : { signer: v.signer }), ...(v?.key === undefined ? {} : { key: v.key }) };
  });
}

const command: Command = { summary: "explain an encrypted change (secrets, access, references) without any key", help, run };
export default command;
