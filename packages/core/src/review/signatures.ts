/**
 * Signed provenance in a review (issue 11): which commits of a range change an environment (its
 * secrets file, or its members in stellar.yaml), and, from each commit's signature as git
 * verified it, the `unsigned-change` findings. Without keys a review cannot tell a legitimate
 * `rotate-key` from a commit that replaced every value under a new data key (the MAC is valid
 * either way): only a member's signature says a member made the change.
 *
 * Core decides, the caller gathers: {@link readCommitTouches} reads the range through a
 * {@link GitSource}; the caller verifies the signatures (the CLI runs git with an allowed-signers
 * file built from the base's stellar.yaml) and passes them to `buildReview`, which calls
 * {@link reviewSignatures}. Signers are always judged against the members of the **base**, never
 * of the head: a change must not be able to add the key that signs it.
 */
import { createHash, environmentFileName, normalizeSecretsDir } from "@stellar-secrets/sops";
import { parseProjectConfig, PROJECT_FILE, type EnvironmentConfig, type ProjectConfig } from "../project.js";
import type { GitSource } from "./git.js";
import { parseRawLog, RAW_LOG_FORMAT } from "./history.js";
import type { CommitSignatureReview, CommitTouch, CommitVerdict, ReviewProblem, SignaturesReview, SignedCommit } from "./report.js";
import type { ReviewState } from "./state.js";
import { findingWording, type FindingWording } from "./wording.js";

/** True for a member key that can sign commits (an `ssh-ed25519 …` key; age keys cannot sign). */
export function canSign(recipient: string): boolean {
  return recipient.startsWith("ssh-ed25519 ");
}

/**
 * True when every member of `env` has a signing key (and there is at least one member): the
 * environment can then require every change to be signed by a member.
 */
export function allMembersCanSign(env: EnvironmentConfig): boolean {
  return env.members.length > 0 && env.members.every((m) => canSign(m.recipient));
}

/**
 * The fingerprint of an ssh-ed25519 member key as OpenSSH and git print it (`SHA256:` and the
 * unpadded base64 of the SHA-256 of the key blob); undefined for a key that cannot sign.
 */
export function sshKeyFingerprint(recipient: string): string | undefined {
  const blob = recipient.trim().split(/\s+/)[1];
  if (!canSign(recipient) || blob === undefined) return undefined;
  return `SHA256:${createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64").replace(/=+$/, "")}`;
}

/** The `git log` arguments of {@link readCommitTouches} (before the range and the pathspecs). */
const TOUCH_LOG_ARGS: readonly string[] = ["--topo-order", "--no-show-signature", RAW_LOG_FORMAT, "--diff-merges=combined", "--raw", "--no-abbrev", "--no-renames", "--full-history"];

/**
 * The commits of `base..head` (both must be commits; otherwise `[]`) that change an environment
 * of the base's stellar.yaml, newest first: those that change its secrets file (at its path in
 * the base or the head), and those that change its members or `secrets_dir` in stellar.yaml
 * (compared with the commit's parents; a merge counts only for what differs from every parent,
 * as the rest was made, and is checked, in a parent). A stellar.yaml that cannot be parsed after
 * a commit counts as changing every environment. `[]` when the base has no stellar.yaml (there is
 * no member to check against). One `git log`, one batch read of stellar.yaml versions.
 * Throws what `git` throws.
 */
export async function readCommitTouches(git: GitSource, base: ReviewState, head: ReviewState): Promise<CommitTouch[]> {
  const baseConfig = base.index?.project;
  if (base.commit === undefined || head.commit === undefined || baseConfig === undefined) return [];
  const top = (rel: string): string => (git.prefix === "" ? rel : `${git.prefix}/${rel}`);
  const names = baseConfig.environments.map((e) => e.name);
  const envOfPath = new Map<string, string>();
  for (const state of [base, head]) {
    const config = state.index?.project;
    for (const name of names) {
      const model = state.index?.environmentFiles.get(name);
      if (model !== undefined) envOfPath.set(top(model.path), name);
      if (config !== undefined) envOfPath.set(top(`${normalizeSecretsDir(config.secretsDir)}/${environmentFileName(name)}`), name);
    }
  }
  const projectPath = top(PROJECT_FILE);
  const pathspecs = [...envOfPath.keys(), projectPath].map((p) => `:(top,literal)${p}`);
  const log = parseRawLog(await git.log([...TOUCH_LOG_ARGS, `${base.commit}..${head.commit}`, "--", ...pathspecs]));

  const blobs = new Set<string>();
  for (const c of log) {
    for (const change of c.changes) {
      if (change.path !== projectPath) continue;
      for (const id of [...change.before, change.after]) if (id !== undefined) blobs.add(id);
    }
  }
  const texts = blobs.size === 0 ? new Map<string, string | null>() : await git.readBlobs([...blobs]);
  const memberships = new Map<string, Map<string, string> | undefined>();
  const membershipOf = (blob: string | undefined): Map<string, string> | undefined => {
    if (blob === undefined) return undefined;
    if (!memberships.has(blob)) memberships.set(blob, membership(texts.get(blob), baseConfig));
    return memberships.get(blob);
  };

  const touches: CommitTouch[] = [];
  for (const c of log) {
    const files = new Set<string>();
    const members = new Set<string>();
    for (const change of c.changes) {
      for (const path of [change.path, change.renamedFrom]) {
        const env = path === undefined ? undefined : envOfPath.get(path);
        if (env !== undefined) files.add(env);
      }
      if (change.path !== projectPath) continue;
      const after = membershipOf(change.after);
      for (const name of names) {
        // changed unless some parent had the same members (a merge keeps what a parent made)
        const same = after !== undefined && change.before.some((b) => {
          const before = membershipOf(b);
          return before !== undefined && before.get(name) === after.get(name);
        });
        if (!same) members.add(name);
      }
    }
    if (files.size + members.size === 0) continue;
    touches.push({ commit: c.info.commit, files: names.filter((n) => files.has(n)), members: names.filter((n) => members.has(n)) });
  }
  for (const extra of await mergesFromOutside(git, base.commit, head.commit, envOfPath, projectPath, (blob) => membershipOf(blob), async (ids) => {
    const missing = ids.filter((id) => !texts.has(id));
    if (missing.length > 0) for (const [id, text] of await git.readBlobs(missing)) texts.set(id, text);
  })) {
    const known = touches.find((t) => t.commit === extra.commit);
    if (known === undefined) {
      touches.push({ commit: extra.commit, files: names.filter((n) => extra.files.has(n)), members: names.filter((n) => extra.members.has(n)) });
    } else {
      known.files = names.filter((n) => extra.files.has(n) || known.files.includes(n));
      known.members = names.filter((n) => extra.members.has(n) || known.members.includes(n));
    }
  }
  return touches;
}

/**
 * What the merges of `base..head` bring from a parent outside the range (a commit of the base's own
 * history) that the base does not have: git's combined diff leaves out a path a merge took whole
 * from one parent, as "made, and checked, in that parent's commits" — but a parent the base
 * already contains is no commit of this range, so a merge made by hand with an old commit as its
 * second parent (`git commit-tree -p HEAD -p OLD`) would bring back an old environment file or an
 * old member list without any commit of the range changing it. Such a merge counts as the change.
 */
async function mergesFromOutside(
  git: GitSource,
  baseCommit: string,
  headCommit: string,
  envOfPath: ReadonlyMap<string, string>,
  projectPath: string,
  membershipOf: (blob: string | undefined) => Map<string, string> | undefined,
  loadBlobs: (ids: string[]) => Promise<void>,
): Promise<{ commit: string; files: Set<string>; members: Set<string> }[]> {
  const merges = (await git.log(["--no-show-signature", "--merges", "--format=%H %P", `${baseCommit}..${headCommit}`]))
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((ids) => ids.length > 2 && ids.every((id) => /^[0-9a-f]{40,64}$/.test(id)));
  if (merges.length === 0) return [];
  const inRange = new Set((await git.log(["--no-show-signature", "--format=%H", `${baseCommit}..${headCommit}`])).split(/\s+/).filter((id) => id !== ""));
  const rel = (top: string): string => (git.prefix === "" ? top : top.slice(git.prefix.length + 1));
  const baseFiles = await git.filesAt(baseCommit);
  const out: { commit: string; files: Set<string>; members: Set<string> }[] = [];
  for (const [commit, ...parents] of merges) {
    const outside = parents.filter((p) => !inRange.has(p));
    if (commit === undefined || outside.length === 0) continue;
    const mine = await git.filesAt(commit);
    const files = new Set<string>();
    const members = new Set<string>();
    for (const parent of outside) {
      const theirs = await git.filesAt(parent);
      for (const [top, env] of envOfPath) {
        const path = rel(top);
        if (mine.get(path) === theirs.get(path) && mine.get(path) !== baseFiles.get(path)) files.add(env);
      }
      const project = rel(projectPath);
      const now = mine.get(project);
      if (now !== undefined && now === theirs.get(project) && now !== baseFiles.get(project)) {
        const was = baseFiles.get(project);
        await loadBlobs([now, ...(was === undefined ? [] : [was])]);
        const after = membershipOf(now);
        const before = membershipOf(was);
        for (const env of new Set(envOfPath.values())) if (after?.get(env) !== before?.get(env)) members.add(env);
      }
    }
    if (files.size + members.size > 0) out.push({ commit, files, members });
  }
  return out;
}

/** Per environment, its members and secrets folder as one comparable string; undefined when the text is absent or not a usable stellar.yaml. */
function membership(text: string | null | undefined, like: ProjectConfig): Map<string, string> | undefined {
  if (typeof text !== "string") return undefined;
  const config = parseProjectConfig(text, like.configPath).config;
  if (config === undefined) return undefined;
  const dir = normalizeSecretsDir(config.secretsDir);
  return new Map(config.environments.map((e) => [e.name, [dir, ...e.members.map((m) => `${m.name} ${m.recipient}`).sort()].join("\n")]));
}

/** True when `signature` is by a member of `env` (name and, when git reports it, key fingerprint). */
function signedByMember(signature: CommitVerdict, env: EnvironmentConfig): boolean {
  if (signature.status !== "good" || signature.signer === undefined) return false;
  return env.members.some((m) => m.name === signature.signer && canSign(m.recipient) && (signature.key === undefined || sshKeyFingerprint(m.recipient) === signature.key));
}

/**
 * The `signatures` section of a review and its `unsigned-change` findings, judged against the
 * members of the **base**'s stellar.yaml: for each commit and each environment it changes that
 * was not signed by a member of that environment, an error when every member of the environment
 * has an ssh-ed25519 key (`problems`), a warning when only some do (`warnings`), nothing when
 * none does (`unverifiable`). `signed` undefined: not checked (no commits to verify). `wording`:
 * how the messages name paths and commands (a nested project's, for the outer root; default as they are).
 * `target`: for `BASE...HEAD`, BASE's tip when it is not the merge base (`config` undefined when its
 * stellar.yaml cannot be read): a signer must also be a member of the environment there, with the
 * same key, since a member removed on BASE after the branch forked (from a commit of their choosing)
 * still is one at the merge base.
 */
export function reviewSignatures(
  base: ReviewState,
  signed: readonly SignedCommit[] | undefined,
  wording: FindingWording = findingWording(undefined),
  target?: { label: string; commit: string; config: ProjectConfig | undefined },
): { signatures: SignaturesReview; problems: ReviewProblem[]; warnings: ReviewProblem[] } {
  const baseConfig = base.index?.project;
  const problems: ReviewProblem[] = [];
  const warnings: ReviewProblem[] = [];
  if (signed === undefined || baseConfig === undefined) return { signatures: { checked: false, commits: [], unverifiable: [] }, problems, warnings };
  const unverifiable = new Set<string>();
  const commits: CommitSignatureReview[] = [];
  for (const c of [...signed].reverse()) {
    const environments = baseConfig.environments.filter((e) => c.files.includes(e.name) || c.members.includes(e.name));
    const unsignedFor: string[] = [];
    for (const env of environments) {
      // a member at the merge base who is no member there with that key at the target's tip: removed since the branch forked
      const atTarget = target === undefined ? undefined : (target.config?.environments.find((e) => e.name === env.name)?.members ?? []);
      const gone = atTarget !== undefined && signedByMember(c, env) && !atTarget.some((m) => m.name === c.signer && m.recipient === env.members.find((x) => x.name === c.signer)?.recipient);
      if (signedByMember(c, env) && !gone) continue;
      unsignedFor.push(env.name);
      const signers = env.members.filter((m) => canSign(m.recipient)).map((m) => m.name);
      if (signers.length === 0) {
        unverifiable.add(env.name);
        continue;
      }
      const strict = allMembersCanSign(env);
      const file = c.files.includes(env.name) ? environmentPath(base, baseConfig, env.name) : PROJECT_FILE;
      const finding: ReviewProblem = {
        kind: "unsigned-change",
        environment: env.name,
        file,
        commit: c.commit,
        message: gone
          ? removedSignerMessage(c, env.name, c.files.includes(env.name), target!, base.commit, wording)
          : unsignedMessage(c, env.name, c.files.includes(env.name), signers, base.commit, strict ? [] : env.members.filter((m) => !canSign(m.recipient)).map((m) => m.name), wording),
      };
      (strict ? problems : warnings).push(finding);
    }
    commits.push({
      commit: c.commit,
      status: c.status,
      ...(c.signer === undefined ? {} : { signer: c.signer }),
      ...(c.key === undefined ? {} : { key: c.key }),
      environments: environments.map((e) => e.name),
      unsignedFor,
    });
  }
  const order = baseConfig.environments.map((e) => e.name);
  return { signatures: { checked: true, commits, unverifiable: order.filter((n) => unverifiable.has(n)), ...(target === undefined ? {} : { alsoMembersOf: target.label }) }, problems, warnings };
}

function environmentPath(state: ReviewState, config: ProjectConfig, environment: string): string {
  return state.index?.environmentFiles.get(environment)?.path ?? `${normalizeSecretsDir(config.secretsDir)}/${environmentFileName(environment)}`;
}

function unsignedMessage(c: CommitVerdict, environment: string, file: boolean, signers: string[], baseCommit: string | undefined, cannotSign: string[], wording: FindingWording): string {
  const short = c.commit.slice(0, 10);
  const config = wording.path(PROJECT_FILE);
  const what = file ? `changes ${environment}'s secrets file` : `changes the members of ${environment} in ${config}`;
  const how =
    c.status === "unsigned"
      ? "is not signed"
      : c.status === "bad"
        ? "has a signature that does not verify (the commit was changed after it was signed)"
        : c.status === "good"
          ? `is signed by ${c.signer ?? "a key"}${c.key === undefined ? "" : ` (${c.key})`}, which is not a member key of ${environment} in the base's ${config}`
          : `is signed by a key that is not a member key of ${environment} in the base's ${config}${c.key === undefined ? "" : ` (${c.key})`}`;
  const why = file
    ? `an unsigned commit can replace every value of ${environment} under a new data key with a valid MAC, and a review without keys shows that exactly like a legitimate \`rotate-key\`: only a member's signature proves a member made it`
    : `an unsigned commit can give ${environment}'s secrets to a key nobody vouched for, and a review without keys cannot tell who made it: only a member's signature proves a member made it`;
  const rebase = baseCommit === undefined ? "" : `, or \`git rebase --exec 'git commit --amend --no-edit -S' ${baseCommit.slice(0, 10)}\` for every commit of the range`;
  // signing a commit someone else made vouches for what it wrote: the member checks it with a key first
  const verify = wording.command(`stellar-secrets review ${baseCommit === undefined ? `${short}~1` : baseCommit.slice(0, 10)}..${short} --verify`);
  const fix =
    `have a member of ${environment} (${signers.join(", ")}) check what it wrote with their key (\`${verify}\` decrypts both sides and shows every value it changed, without printing one), ` +
    `then re-make it, or sign it with their member key: \`git commit --amend --no-edit -S\` for the last commit${rebase}; never sign a commit you did not make or check`;
  const soft = cannotSign.length === 0 ? "" : ` (a warning, not an error: ${cannotSign.join(", ")} ${cannotSign.length === 1 ? "has" : "have"} no ssh-ed25519 key to sign with)`;
  return `commit ${short} ${what} but ${how}: ${why}; ${fix}${soft}`;
}

/** The message for a commit signed by a member of the merge base whom the target's tip no longer has (or has with another key). */
function removedSignerMessage(c: CommitVerdict, environment: string, file: boolean, target: { label: string; commit: string; config: ProjectConfig | undefined }, baseCommit: string | undefined, wording: FindingWording): string {
  const short = c.commit.slice(0, 10);
  const config = wording.path(PROJECT_FILE);
  const what = file ? `changes ${environment}'s secrets file` : `changes the members of ${environment} in ${config}`;
  const where = target.config === undefined ? `${target.label}'s ${config} (${target.commit.slice(0, 10)}) cannot be read, so no member there vouches for it` : `${target.label} (${target.commit.slice(0, 10)}) no longer has them as a member of ${environment} with that key`;
  const verify = wording.command(`stellar-secrets review ${baseCommit === undefined ? `${short}~1` : baseCommit.slice(0, 10)}..${short} --verify`);
  return (
    `commit ${short} ${what} and is signed by ${c.signer ?? "a key"}, a member of ${environment} at the merge base ${baseCommit?.slice(0, 10) ?? ""}, but ${where}: ` +
    `the branch forked before that, and a member removed since can still make signed changes on a branch cut from a commit where they were a member; ` +
    `have a current member of ${environment} check what it wrote with their key (\`${verify}\`), then re-make it on ${target.label}, or sign it with their own member key; never sign a commit you did not make or check`
  );
}
