/**
 * `stellar-secrets resolve NAME --env ENV --ours|--theirs|--from-stdin`: finishes a secret that
 * the merge driver reported as changed on both sides, by writing one side's value (or a new one)
 * into the working environment file with stable ciphertext. Never prints a value.
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { secretsFilePath, shellPathWord } from "@stellar-secrets/core";
import { readFile } from "node:fs/promises";
import { decryptSecrets, editSecretsFile, escapeControlCharacters, isSopsError, writeFileAtomic, type DecryptedSecrets, type VersionText } from "@stellar-secrets/sops";
import { parseCommandArgs, splitList } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { GitRepo } from "../git.js";
import { chooseValueSource, readValue } from "../input.js";
import { findGitLocation, readUnresolvedMerge, removeUnresolvedMerge, sha256Text, topRelative, writeUnresolvedMerge } from "@stellar-secrets/git/merge-records";
import type { UnresolvedMergeRecord } from "@stellar-secrets/core";
import { decryptEnvironment, identitiesFor, openProject, selectEnvironments } from "../repository.js";

const help = `Usage: stellar-secrets resolve NAME --env ENV (--ours | --theirs | --from-stdin [--keep-newlines])
       stellar-secrets resolve --env ENV (--ours | --theirs)

Finishes a secret that \`stellar-secrets merge-file\` (the git merge driver) reported as changed
differently on both sides of a merge, rebase or cherry-pick. The environment file in the working
tree already decrypts and holds our side's value; this writes the chosen value into it (stable
ciphertext for every other secret, fresh MAC):
  --ours        the value NAME has at HEAD (or no NAME, when HEAD has none)
  --theirs      the value NAME has in the commit being merged: MERGE_HEAD, else REBASE_HEAD,
                else CHERRY_PICK_HEAD, else REVERT_HEAD^ during a revert, else the
                tip a \`git merge --squash\` merges (SQUASH_MSG), else, while git holds
                the file unmerged, the index's stage 3 of it (\`git am -3\`, \`git stash
                pop\`, \`git cherry-pick -n\`: run resolve before \`git add\`) (or no NAME,
                when that side has none)
  --from-stdin  a new value from stdin (trailing newlines removed unless --keep-newlines)
When the resolved file is one side's committed version in meaning (same values, order, types,
data key, stanzas and comments), that side's text is written byte for byte (no new lastmodified).
Needs a key of the environment. Then \`git add\` the file and continue as usual
(\`git commit\`, \`git rebase --continue\`, \`git cherry-pick --continue\`).
Outside a merge, rebase, cherry-pick or revert there is nothing to resolve (NOT_FOUND), unless the
merge driver recorded NAME as unresolved (after \`git stash pop\`): use \`stellar-secrets set\`.
During one, a NAME that was not reported as a conflict is written all the same, with a note.
Each name resolved is removed from the merge driver's record of the file (under the git
directory); until none is left, the pre-commit hook refuses to commit the file.

Without NAME (--ours or --theirs only): keeps one side's whole environment file, for a file the
merge driver could not merge at all (both sides changed the recipients in a way it cannot merge as
a set, no key of the environment, a version that does not verify). The file becomes HEAD's
version (--ours) or the merged commit's (--theirs) byte for byte, every change of the other side
to it is dropped, and the driver's record of the file is removed. No key is needed for this.
(resolve NAME is refused on such a file: no single name can finish it.) Only while a merge,
rebase or cherry-pick is in progress (else NOT_FOUND: \`git checkout HEAD -- FILE\` does it on purpose).

Options:
  --env ENV          the environment (exactly one)
  --ours             take HEAD's value
  --theirs           take the merged commit's value
  --from-stdin       read a new value from stdin
  --keep-newlines    with --from-stdin: keep trailing newlines

Example:
  stellar-secrets resolve stripe_api_key --env production --theirs && git add secrets/production.enc.yaml
  stellar-secrets resolve --env production --ours && git add secrets/production.enc.yaml
`;

const flags = {
  env: { type: "string", multiple: true },
  ours: { type: "boolean" },
  theirs: { type: "boolean" },
  "from-stdin": { type: "boolean" },
  "keep-newlines": { type: "boolean" },
} as const;

const IN_PROGRESS = ["MERGE_HEAD", "REBASE_HEAD", "CHERRY_PICK_HEAD"] as const;

/** True while a merge, rebase, cherry-pick or revert is in progress (an octopus merge included). */
async function operationInProgress(repo: GitRepo): Promise<boolean> {
  for (const ref of [...IN_PROGRESS, "REVERT_HEAD"] as const) if ((await repo.pseudoRef(ref)).length > 0) return true;
  return (await repo.squashHead()) !== undefined;
}

/** The commit "theirs" is in the operation in progress. Throws NOT_FOUND (none) or UNSUPPORTED (octopus). */
async function theirCommit(repo: GitRepo): Promise<{ ref: string; commit: string }> {
  for (const ref of IN_PROGRESS) {
    const ids = await repo.pseudoRef(ref);
    if (ids.length > 1) {
      throw new CliError("UNSUPPORTED", `${ref} names ${ids.length} commits (an octopus merge): there is no single "theirs"`, {
        hint: "merge the branches one at a time (`git merge --abort`, then `git merge BRANCH` per branch), or use --from-stdin",
      });
    }
    if (ids.length === 1) return { ref, commit: ids[0] as string };
  }
  // a `git revert` merges the reverted commit's parent in: that is their side
  const [reverted] = await repo.pseudoRef("REVERT_HEAD");
  if (reverted !== undefined) return { ref: "REVERT_HEAD^", commit: await repo.resolve(`${reverted}^`) };
  // `git merge --squash` writes no MERGE_HEAD: SQUASH_MSG names the tip it merges
  const squashed = await repo.squashHead();
  if (squashed !== undefined) return { ref: "SQUASH_MSG", commit: squashed };
  throw new CliError("NOT_FOUND", "no merge, rebase or cherry-pick is in progress, so there is no \"theirs\"", {
    hint: "to change a secret outside a merge: `stellar-secrets set NAME --env ENV`; a conflict the merge driver recorded without a merge (after `git stash pop`, `git cherry-pick -n`) is finished with --ours or --from-stdin",
  });
}

/** What {@link theirStage} names their side by (the index's conflict stage 3 of the file). */
const STAGE_REF = "the index's stage 3";

/**
 * Their side of the file from the index while git holds it unmerged: stage 3 is the version git
 * gave the merge driver as theirs (%B). Operations that keep no commit of their side — `git am -3`,
 * `git apply --3way`, `git stash pop|apply`, `git cherry-pick -n`, `git revert -n`,
 * `git checkout -m` — still leave it there until the file is `git add`ed. Taken only when the
 * driver's record of the file (when there is one) names that very version as theirs, so a stage
 * of another conflict is never read as this one's other side. Undefined when there is none.
 */
async function theirStage(repo: GitRepo, gitPath: string, record: UnresolvedMergeRecord | undefined): Promise<{ ref: string; commit: string } | undefined> {
  const text = await repo.show(":3", gitPath).catch(() => undefined);
  if (typeof text !== "string") return undefined;
  if (record !== undefined && sha256Text(text) !== record.theirs) return undefined;
  return { ref: STAGE_REF, commit: ":3" };
}

/** "REF 1234567890" for messages (the stage has no commit id to show). */
function sideLabel(ref: string, commit: string): string {
  return ref === STAGE_REF ? ref : `${ref} ${commit.slice(0, 10)}`;
}

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f, positionals } = parseCommandArgs("resolve", argv, flags, {
    min: 0,
    max: 1,
    names: "[NAME]",
    hideExtra: "values are never taken from arguments; use --from-stdin",
  });
  const name = positionals[0];
  const chosen = [f.ours && "--ours", f.theirs && "--theirs", f["from-stdin"] && "--from-stdin"].filter(Boolean);
  if (chosen.length !== 1) {
    throw new CliError("USAGE", `resolve: give exactly one of --ours, --theirs, --from-stdin${chosen.length > 1 ? ` (got ${chosen.join(", ")})` : ""}`, {
      hint: `e.g. stellar-secrets resolve ${name ?? "NAME"} --env ENV --theirs`,
    });
  }
  if (f["keep-newlines"] && !f["from-stdin"]) {
    // as set says: the flag would be ignored, and the side's value is taken as it is anyway
    throw new CliError("USAGE", "resolve: --keep-newlines goes with --from-stdin", {
      hint: "--ours and --theirs take that side's value byte for byte; leave --keep-newlines out",
    });
  }
  if (name === undefined && f["from-stdin"]) {
    throw new CliError("USAGE", "resolve: --from-stdin sets one secret: give its NAME", {
      hint: "stellar-secrets resolve NAME --env ENV --from-stdin; without NAME, --ours or --theirs keeps one side's whole file",
    });
  }
  const config = await openProject(ctx);
  const envNames = splitList(f.env);
  const envs = selectEnvironments(config, envNames, { all: false });
  if (envs.length !== 1) throw new CliError("USAGE", "resolve: --env takes exactly one environment");
  const env = envs[0]!;
  const path = secretsFilePath(config, env.name);
  const file = relative(config.root, path);
  if (name === undefined) return resolveWholeFile(ctx, config.root, env.name, path, file, f.theirs === true);
  const identities = identitiesFor(ctx);
  // which commit is "theirs" first: an octopus merge is refused before anything else
  const repo = await GitRepo.open(config.root, ctx.env, "resolve finishes a merge, rebase or cherry-pick: it reads their state from git");
  const theirRef = f.theirs ? await theirCommit(repo).catch((error: unknown) => error) : undefined;
  // the merge driver's record of this file's unresolved names (under the git directory), while it still matches the file
  const location = findGitLocation(config.root, ctx.env);
  const recordAs = location === undefined ? undefined : topRelative(location, config.root, file.split("\\").join("/"));
  const record = location === undefined || recordAs === undefined ? undefined : await readUnresolvedMerge(location.gitDir, recordAs);
  const textBefore = record === undefined ? undefined : await readFile(path, "utf8").catch(() => undefined);
  const recorded = record !== undefined && textBefore !== undefined && sha256Text(textBefore) === record.file ? record : undefined;
  // no commit names their side (`git am -3`, `git stash pop`, `git cherry-pick -n`, ...): the index's stage 3 of the file does, while unmerged
  let their: { ref: string; commit: string } | undefined;
  if (theirRef instanceof Error) {
    if (!(theirRef instanceof CliError) || theirRef.code !== "NOT_FOUND") throw theirRef;
    their = await theirStage(repo, file.split("\\").join("/"), recorded);
    if (their === undefined) throw theirRef;
  } else their = theirRef as { ref: string; commit: string } | undefined;
  const unresolved = recorded?.names.includes(name) === true;
  // nothing of the file was merged (recipients it could not merge as a set, no key, a version that does not verify):
  // one name cannot finish it, and finishing "the last name" must not drop the record of the whole file
  if (recorded?.whole !== undefined) {
    throw new CliError("USAGE", `resolve: the merge driver did not merge ${file} at all (${recorded.whole.code}): it holds our side as it was, and no single name can finish it`, {
      hint: `keep one side whole: \`stellar-secrets resolve --env ${env.name} --ours|--theirs\`, then redo what you need of the other side with a key (see \`stellar-secrets check\`); or abort and let a member of ${env.name} merge it`,
    });
  }
  // the working file must already decrypt (the merge driver leaves it so); fail before reading stdin
  let current;
  try {
    current = await decryptEnvironment(ctx, config, env);
  } catch (error) {
    if (isSopsError(error, "MALFORMED_FILE") && error.reason === "conflict-markers") {
      throw new CliError("MALFORMED_FILE", `${file} has git conflict markers: it was merged as text, not by the stellar-secrets merge driver`, {
        hint: `run \`stellar-secrets git setup\`, then \`git checkout -m -- ${shellPathWord(file)}\` to redo its merge with the driver, then resolve what it reports`,
        cause: error,
      });
    }
    throw error;
  }
  current.dataKey.fill(0);

  // nothing to resolve: outside a merge, --ours would silently undo NAME's uncommitted change and
  // --from-stdin is `set` under another name (a named record without a merge: `git stash pop`, `cherry-pick -n`, still resolves)
  if (!unresolved && their === undefined && !(await operationInProgress(repo))) {
    throw new CliError("NOT_FOUND", `nothing to resolve: no merge, rebase or cherry-pick is in progress, and the merge driver recorded no conflict of ${name} in ${file}`, {
      hint: `to change the secret: \`stellar-secrets set ${name} --env ${env.name}\`; to undo the file's uncommitted changes: \`git checkout HEAD -- ${shellPathWord(file.split("\\").join("/"))}\``,
    });
  }

  let value: string | undefined;
  let source: string;
  // the side's verified version: its ENC string of NAME is kept when the working file is under the
  // same data key, so the merge shows no change of NAME against that side (review, textconv)
  let chosenVersion: DecryptedSecrets | undefined;
  if (f["from-stdin"]) {
    value = await readValue(ctx, chooseValueSource(ctx, f, ""));
    source = "the value from stdin";
  } else {
    let { ref, commit } = their ?? { ref: "HEAD", commit: await repo.resolve("HEAD") };
    let text = await repo.show(commit, file.split("\\").join("/"));
    // git leaves SQUASH_MSG behind when a squash is abandoned by restoring files (and `git stash pop`
    // keeps it): the conflict the merge driver recorded must be with the version it names (else the index's stage 3 may)
    // (git holds the file unmerged with another version as theirs: that is the conflict's other side, SQUASH_MSG is left over)
    const staged = ref === "SQUASH_MSG" ? await theirStage(repo, file.split("\\").join("/"), recorded) : undefined;
    if (staged !== undefined && (await repo.show(staged.commit, file.split("\\").join("/"))) !== text) {
      ({ ref, commit } = staged);
      their = staged;
      text = await repo.show(commit, file.split("\\").join("/"));
    }
    if (ref === "SQUASH_MSG" && recorded !== undefined && (typeof text !== "string" || sha256Text(text) !== recorded.theirs)) {
      throw new CliError("NOT_FOUND", `the conflict recorded in ${file} is not with the commit SQUASH_MSG names (${commit.slice(0, 10)}): that SQUASH_MSG is left from an earlier \`git merge --squash\`, so there is no "theirs" to take`, {
        hint: `keep our value (\`stellar-secrets resolve ${name} --env ${env.name} --ours\`) or give the value (\`--from-stdin\`); \`git reset\` or the next commit removes the stale SQUASH_MSG`,
      });
    }
    if (text === null) {
      throw new CliError("MALFORMED_FILE", `${file} at ${ref} is not valid UTF-8 text`, { hint: "use --from-stdin to give the value" });
    }
    if (text === undefined) {
      value = undefined;
    } else {
      chosenVersion = await decryptSecrets(text, identities, { path: `${file} (${ref})` });
      value = chosenVersion.values.get(name);
    }
    source = `${f.theirs ? "theirs" : "ours"} (${sideLabel(ref, commit)})`;
  }

  // both sides' committed versions: when the resolved file is one of them in meaning, its text is
  // written byte for byte (no new lastmodified), so git's history simplification does not depend on
  // the second resolve ran in
  const sides = await committedSides(repo, file.split("\\").join("/"), identities, their);
  let action = "unchanged";
  let next;
  try {
    next = await editSecretsFile(
      path,
      identities,
      (values) => {
        const before = values.get(name);
        if (value === undefined) {
          if (before !== undefined) action = "removed";
          values.delete(name);
        } else {
          if (before !== value) action = before === undefined ? "added" : "changed";
          values.set(name, value);
        }
      },
      { ...(chosenVersion === undefined ? {} : { reuseFrom: [chosenVersion] }), sides },
    );
  } finally {
    chosenVersion?.dataKey.fill(0);
    for (const side of sides) side.secrets.dataKey.fill(0);
  }
  next.dataKey.fill(0);
  // names come from the files and the argument: never a raw control character to the terminal
  ctx.stdout.write(escapeControlCharacters(`resolved ${name} in ${env.name} from ${source}: ${action}${value === undefined ? " (no such secret there)" : ""}`) + "\n");
  if (!unresolved) {
    // e.g. run twice, or a name the merge driver merged by itself: written all the same, but say that it was not a conflict
    const left = recorded?.names ?? [];
    ctx.stderr.write(
      escapeControlCharacters(
        `note: ${name} was not reported as changed on both sides in ${file} (${left.length > 0 ? `unresolved there: ${left.join(", ")}` : "nothing is unresolved there"}); ` +
          (action === "unchanged" ? "nothing changed" : `it was ${action} all the same`),
      ) + "\n",
    );
  }
  if (record !== undefined && location !== undefined) {
    const textAfter = await readFile(path, "utf8").catch(() => undefined);
    const left = record.names.filter((n) => n !== name);
    if (textBefore === undefined || textAfter === undefined || sha256Text(textBefore) !== record.file || left.length === 0) {
      // resolved the last name, or the record no longer described the file (it changed since the merge): it counts no more
      removeUnresolvedMerge(location.gitDir, record.path);
    } else {
      await writeUnresolvedMerge(location.gitDir, { ...record, names: left, file: sha256Text(textAfter) });
      ctx.stdout.write(escapeControlCharacters(`still unresolved in ${file}: ${left.join(", ")} (stellar-secrets resolve NAME --env ${env.name} --ours|--theirs|--from-stdin)`) + "\n");
    }
  }
  const sparse = location !== undefined && existsSync(join(location.gitDir, "info", "sparse-checkout"));
  ctx.stdout.write(`when every conflicting secret is resolved: git add ${sparse ? "--sparse " : ""}${file}\n`);
  return 0;
}

/**
 * The file's versions at HEAD and in the commit being merged (when there is one), each with its
 * exact text, that decrypt with `identities`; a side that is missing or does not decrypt is left
 * out (it cannot be the result). The caller zeroes their data keys. Keep in memory only.
 */
async function committedSides(repo: GitRepo, gitPath: string, identities: ReturnType<typeof identitiesFor>, their: { commit: string } | undefined): Promise<VersionText[]> {
  const commits = [await repo.resolve("HEAD")];
  const other = their ?? (await theirCommit(repo).catch(() => theirStage(repo, gitPath, undefined)));
  if (other !== undefined && other.commit !== commits[0]) commits.push(other.commit);
  const sides: VersionText[] = [];
  for (const commit of commits) {
    const text = await repo.show(commit, gitPath).catch(() => undefined);
    if (typeof text !== "string") continue;
    try {
      sides.push({ text, secrets: await decryptSecrets(text, identities, { path: `${gitPath} (${commit.slice(0, 10)})` }) });
    } catch {
      // not a version this key reads (or not a valid one): it cannot be what resolve writes
    }
  }
  return sides;
}

/**
 * `resolve --env ENV --ours|--theirs` (no NAME): the working file becomes one side's committed
 * version byte for byte, and the merge driver's record of it is removed. Reads no value (no key).
 */
async function resolveWholeFile(ctx: CommandContext, root: string, environment: string, path: string, file: string, theirs: boolean): Promise<number> {
  const repo = await GitRepo.open(root, ctx.env, "--ours and --theirs read the versions from git");
  const gitPath = file.split("\\").join("/");
  const location = findGitLocation(root, ctx.env);
  const recordAs = location === undefined ? undefined : topRelative(location, root, gitPath);
  const record = location === undefined || recordAs === undefined ? undefined : await readUnresolvedMerge(location.gitDir, recordAs);
  // only during a merge, rebase or cherry-pick (or while git holds the file unmerged: `git am -3`, `git stash pop`, ...):
  // outside one, --ours would silently undo the file's uncommitted changes
  const their = await theirCommit(repo).catch(async (error: unknown) => {
    if (!(error instanceof CliError) || error.code !== "NOT_FOUND") throw error;
    const staged = await theirStage(repo, gitPath, record);
    if (staged !== undefined) return staged;
    // `git am -3` with the file already `git add`ed (the pre-applypatch hook refused it): no stage 3
    // is left, but the record says the am session is still at the patch that conflicted; ours is HEAD
    if (record?.amInProgress === true) {
      if (!theirs) return { ref: "HEAD", commit: await repo.resolve("HEAD") };
      throw new CliError("NOT_FOUND", `git am is applying a patch to ${file}, but the patch's version of it is gone from the index (it was \`git add\`ed): there is no "theirs" to keep`, {
        hint: `keep ours (\`stellar-secrets resolve --env ${environment} --ours\`), or start the patch again to get its side back: \`git am --abort\`, \`git am -3 PATCH\`, then \`stellar-secrets resolve --env ${environment} --theirs\` before \`git add\``,
      });
    }
    throw new CliError("NOT_FOUND", `no merge, rebase or cherry-pick is in progress: there is no side of ${file} to keep`, {
      hint: `to undo the file's uncommitted changes on purpose: \`git checkout HEAD -- ${shellPathWord(gitPath)}\`; to change a secret: \`stellar-secrets set NAME --env ${environment}\``,
    });
  });
  let { ref, commit } = theirs ? their : { ref: "HEAD", commit: await repo.resolve("HEAD") };
  let text = await repo.show(commit, gitPath);
  // a SQUASH_MSG left behind (`git stash pop` keeps it) names no side of this conflict: the index's stage 3 may
  if (theirs && ref === "SQUASH_MSG") {
    const staged = await theirStage(repo, gitPath, record);
    if (staged !== undefined && (await repo.show(staged.commit, gitPath)) !== text) {
      ({ ref, commit } = staged);
      text = await repo.show(commit, gitPath);
    }
  }
  if (text === null) {
    throw new CliError("MALFORMED_FILE", `${file} at ${sideLabel(ref, commit)} is not valid UTF-8 text`, { hint: `take the other side, or fix ${file} by hand with a key of ${environment}` });
  }
  if (text === undefined) {
    throw new CliError("NOT_FOUND", `${file} does not exist at ${sideLabel(ref, commit)}: there is no ${theirs ? "theirs" : "ours"} to keep`, {
      hint: `to delete the file on purpose: \`git rm ${file}\`; or keep the other side (${theirs ? "--ours" : "--theirs"})`,
    });
  }
  // a SQUASH_MSG left from an abandoned `git merge --squash` is not the other side of the conflict the driver recorded
  if (theirs && ref === "SQUASH_MSG" && record !== undefined && sha256Text(text) !== record.theirs) {
    throw new CliError("NOT_FOUND", `the conflict recorded in ${file} is not with the commit SQUASH_MSG names (${commit.slice(0, 10)}): that SQUASH_MSG is left from an earlier \`git merge --squash\`, so there is no "theirs" to keep`, {
      hint: `keep ours (\`stellar-secrets resolve --env ${environment} --ours\`), or redo the other side's changes with a key; \`git reset\` or the next commit removes the stale SQUASH_MSG`,
    });
  }
  const before = await readFile(path, "utf8").catch(() => undefined);
  if (before !== text) await writeFileAtomic(path, text);
  if (location !== undefined && recordAs !== undefined) removeUnresolvedMerge(location.gitDir, recordAs);
  const other = theirs ? "our" : "their";
  ctx.stdout.write(
    escapeControlCharacters(
      `resolved ${file} (the whole file) in ${environment} from ${theirs ? "theirs" : "ours"} (${sideLabel(ref, commit)}): ${before === text ? "unchanged" : "replaced"}; ` +
        `${other} side's changes to it are not kept${record?.whole !== undefined ? ` (the merge driver had not merged it: ${record.whole.code})` : record !== undefined ? ` (unresolved: ${record.names.join(", ")})` : ""}`,
    ) + "\n",
  );
  ctx.stdout.write(`redo what you need of ${other} side with a key of ${environment} (\`stellar-secrets set\`, \`stellar-secrets members add|rm\`, \`stellar-secrets rotate-key\`); then: git add ${file}\n`);
  return 0;
}

const command: Command = { summary: "finish a secret the merge driver reported as changed on both sides", help, run };
export default command;
