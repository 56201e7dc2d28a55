/**
 * `stellar-secrets merge-file BASE OURS THEIRS [PATH]`: git's merge driver for environment files
 * (`merge.stellar.driver`, %O %A %B %P). Decrypts the three versions, merges them per name with
 * `mergeSecrets`, and writes a valid SOPS file into OURS; on a conflict OURS still decrypts (ours'
 * value for each conflicting name) and the names are printed with how to finish. Never prints a value.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import {
  DecryptCache,
  decodeUtf8,
  environmentOfFileName,
  escapeControlCharacters,
  decryptSecrets,
  decryptSecretsWithKey,
  findIdentities,
  isSopsError,
  mergeSecretsGuarded,
  normalizeRecipient,
  parseSecretsFile,
  VIRTUAL_BASE_UNMERGED,
  writeFileAtomic,
  type DecryptedSecrets,
  type MergeSide,
  type RecipientChangeBy,
  type RecipientsUnion,
} from "@stellar-secrets/sops";
import { parseCommandArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { amPatchInProgress, findGitLocation, removeUnresolvedMerge, sha256Text, writeUnresolvedMerge } from "@stellar-secrets/git/merge-records";

const help = `Usage: stellar-secrets merge-file [--virtual-base] BASE OURS THEIRS [PATH]

The merge driver for environment files, run by git (\`stellar-secrets git setup\` configures it as
\`merge.stellar.driver\` with %O %A %B %P). Decrypts the three versions with your age identities
and merges them per secret name: a name added, changed or removed on one side only is taken from
that side; the same change on both sides is taken once; different changes to one name are a
conflict. The result is written into OURS as a valid SOPS file with a fresh MAC, keeping the
exact encrypted string of every value it did not re-encrypt.

When one side rotated the data key or changed the recipients (rotate-key, members add/rm), the
result uses that side's data key and recipients and the other side's changes are encrypted again
under it: a member removed on one side never regains access through the merge. When both sides
changed the recipients differently (each branch added another member; or one removed or rotated
and the other added), the recipients are merged as a set: added by either side, in; removed by
either side, out. When nobody was removed and neither side rotated, the result keeps the base's
data key, our side's stanzas and each added member's stanza from the side that added it (all
byte for byte: a stanza wrapped anew under a data key that did not rotate is what review must
report); otherwise every value is encrypted under a new data key wrapped afresh for every member
of the result (as rotate-key does). A line on stderr says which ("merged recipients: +dave (ours), +erin (theirs); data key
kept"). Without a base version, with a recipient that is no valid age X25519 or ssh-ed25519
public key, or with a key one side removed that the other adds back written another way (the
age1… form of an ssh-ed25519 key, as ssh-to-age makes it), or when a new data key would be
wrapped for a recipient a side added that is no member of the environment in our side's
stellar.yaml or their side's (known during git merge only; also when only their side rotated and
added it and our values must go under a new key), nothing is merged (MERGE_CONFLICT).

Exit status: 0 merged; 1 a conflict (OURS is still a valid file holding ours' value for each
conflicting name; the names and the \`stellar-secrets resolve\` commands to finish are printed),
or the merge could not be done (no key for the environment, a version that does not verify):
OURS is left untouched. No value is ever printed.

\`.sops.yaml\` (which \`git setup\` also sends here) is merged per creation rule: each rule's
recipients come from the side that changed them, so two branches that changed the members of
different environments merge cleanly; a rule whose recipients both changed gets them merged as a
set (added by either: in; removed by either: out). When both changed one rule otherwise (or wrote
it quoted), or anything else in the file differs (an anchor, an alias or a tag too), it is merged as text by \`git merge-file\` (conflict
markers to resolve by hand); a text merge that comes out clean but cannot be read, or that holds
two rules both sides added for the same path_regex, is exit 1 as well.

\`stellar.yaml\` (which \`git setup\` sends here too) is merged per environment and per name:
each environment's members, pending requests and approvals are merged three-way by name (added
or removed on one side: taken; changed on one side: that side's), written into our side's text
with the same writers as \`members\`, so two access requests approved on two branches merge
cleanly and a member one side removed is never brought back. When both sides changed one name
differently (or one removed a name the other changed), the names are printed and the file is
merged as text by \`git merge-file\` (exit 1 even when that text merge is clean); when anything
else differs (environments, secrets_dir, config, rules, a comment; an anchor, an alias, a tag), it
is merged as text as git merges it without the driver; a text merge that comes out clean but
disagrees with the per-name merge (a member one side removed is back, a name with two keys) is
exit 1 as well.

--virtual-base: the inner merge of a criss-cross merge (two merge bases), which git runs first to
make a virtual merge base (\`git setup\` configures it as \`merge.stellar.recursive\`). A name changed
differently on the two merge bases gets a random value no version holds, so the outer merge reports
it as changed on both sides (as git's text merge does with the markers it leaves in a virtual
base) instead of taking one side silently. Nothing is recorded or reported; when nothing of the
file can be merged (no key; recipients the driver cannot merge as a set, as above: the file
created on both sides, a recipient that is no valid key, ...), the virtual base is one comment line
saying so: the outer merge then merges the file as added on both sides, and reports each name only
one side holds (one side may have added it, or the other removed it). Exit 0.

Any other PATH that is not an environment file (<env>.enc.yaml), sent here by a .gitattributes
line, is not decrypted: it is merged as text by \`git merge-file\`, as git merges it without the
driver.

On a conflict the names are also recorded under the git directory (never committed): until
\`stellar-secrets resolve\` has finished each, the pre-commit hook refuses to commit the file and
\`stellar-secrets check\` reports it (rule unresolved-merge). A record that no longer matches the
file (merge aborted, file checked out again) counts for nothing. When nothing could be merged
(recipients the driver cannot merge as a set, as above: the file created on both sides, a
recipient that is no valid key, ...; no key; a version that does not verify), the whole file is
recorded the same way, until one side is kept with \`stellar-secrets resolve --env ENV
--ours|--theirs\` (no NAME), the merge is redone (\`git checkout -m -- FILE\`) or aborted.
`;

/** "the base version", "our version", "their version" (`which` is base, our or their). */
function theVersion(which: string): string {
  return which === "base" ? "the base version" : `${which} version`;
}

/** The environment an environment file belongs to (`<env>.enc.yaml`), else "ENV". */
function environmentOf(path: string | undefined): string {
  return (path !== undefined ? /^(.+)\.enc\.ya?ml$/.exec(basename(path))?.[1] : undefined) ?? "ENV";
}

async function readVersion(ctx: CommandContext, path: string, which: string, display: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(resolve(ctx.cwd, path));
  } catch (error) {
    throw new CliError("NOT_FOUND", `merge-file: cannot read ${theVersion(which)} of ${display} (${(error as NodeJS.ErrnoException).code ?? "error"})`, {
      hint: "merge-file is run by git with %O %A %B %P; see `stellar-secrets git setup`",
      cause: error,
    });
  }
  return decodeUtf8(bytes, { path: display });
}

/** The members of `environment` in the stellar.yaml at or above `cwd` (name and key of each), or undefined. */
async function membersOf(cwd: string, environment: string): Promise<{ name: string; recipient: string }[] | undefined> {
  try {
    const { loadProject } = await import("@stellar-secrets/core");
    const config = await loadProject(cwd);
    const env = config.environments.find((e) => e.name === environment);
    return env?.members.map((m) => ({ name: m.name, recipient: m.recipient }));
  } catch {
    return undefined;
  }
}

/**
 * The members of `environment` in their side's stellar.yaml, by name and key, where git says which
 * commit that is (`git merge` sets `GITHEAD_<commit>` for the merged commit while it runs the
 * driver); else none. For naming recipients only: the work tree holds our side's stellar.yaml.
 */
async function theirMembersOf(ctx: CommandContext, display: string, environment: string): Promise<{ name: string; recipient: string }[]> {
  const commits = Object.keys(ctx.env)
    .map((k) => /^GITHEAD_([0-9a-f]{40}|[0-9a-f]{64})$/.exec(k)?.[1])
    .filter((c): c is string => c !== undefined);
  if (commits.length === 0) return [];
  const { parseProjectConfig } = await import("@stellar-secrets/core");
  const top = resolve(ctx.cwd);
  const found: { name: string; recipient: string }[] = [];
  for (const commit of commits) {
    // stellar.yaml at or above the environment file's folder, as loadProject finds it
    for (let dir = projectDir(ctx.cwd, display); ; dir = dirname(dir)) {
      const r = spawnSync("git", ["show", `${commit}:./stellar.yaml`], { cwd: dir, env: ctx.env, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
      if (r.status === 0) {
        const env = parseProjectConfig(r.stdout, "stellar.yaml").config?.environments.find((e) => e.name === environment);
        for (const m of env?.members ?? []) found.push({ name: m.name, recipient: m.recipient });
        break;
      }
      if (dir === top || dirname(dir) === dir || !dir.startsWith(top)) break;
    }
  }
  return found;
}

/** The members a MERGE_NEEDS_KEY error names (see {@link whoCanOpen}), for the unresolved-merge record. */
const needsKeyMembers = new WeakMap<object, string[]>();

/**
 * Who to ask to do a merge the user's keys cannot: the members of `environment`, in our side's
 * stellar.yaml and in their side's (where git names that commit), whose key is a recipient label of
 * `text`, the version none of the user's keys opened. Labels prove nothing: this only names people.
 * A member removed on the side that wrote `text` (the user, merging main into a branch of theirs
 * after their removal) is not named; when the labels cannot be read, every member of either side is.
 */
async function whoCanOpen(ctx: CommandContext, display: string, environment: string, text: string): Promise<{ name: string; recipient: string }[]> {
  const members = [...((await membersOf(projectDir(ctx.cwd, display), environment)) ?? []), ...(await theirMembersOf(ctx, display, environment))];
  let labels: Set<string> | undefined;
  try {
    labels = new Set(parseSecretsFile(text).recipients.map((r) => normalizeRecipient(r)));
  } catch {
    labels = undefined;
  }
  const seen = new Set<string>();
  const out: { name: string; recipient: string }[] = [];
  for (const m of members) {
    const key = `${m.name}\0${m.recipient}`;
    if (seen.has(key) || (labels !== undefined && !labels.has(normalizeRecipient(m.recipient)))) continue;
    seen.add(key);
    out.push(m);
  }
  return out;
}

/** Where to look for stellar.yaml: the environment file's folder (git runs the driver at the work tree's top, the project may be below it). */
function projectDir(cwd: string, display: string): string {
  return resolve(cwd, dirname(display));
}

type MergeResult = Awaited<ReturnType<typeof mergeSecretsGuarded>>;

/** Decrypts the three versions, merges them and writes the result into OURS (when it differs). Throws a coded CliError when nothing can be merged; OURS is then as it was. */
async function merge(
  ctx: CommandContext,
  display: string,
  environment: string,
  oursPath: string,
  basePath: string,
  oursText: string,
  theirsText: string,
  conflictValue?: string,
): Promise<MergeResult> {
  // (read here: a base that cannot be read is a failure of this file's merge, recorded as such)
  const baseText = await readVersion(ctx, basePath, "base", display);
  // (not repository.ts: the driver runs once per conflicted file and must not load core to start)
  const identities = findIdentities({ env: ctx.env, home: ctx.env.HOME || homedir() });
  // the versions share almost every ENC string: each (key, name, ENC string) is decrypted once
  const cache = new DecryptCache();
  const open = async (text: string, which: string): Promise<DecryptedSecrets> => {
    try {
      return await decryptSecrets(text, identities, { path: `${display} (${which})`, cache });
    } catch (error) {
      if (isSopsError(error, "NO_IDENTITY") || isSopsError(error, "NO_MATCHING_IDENTITY")) {
        const who = await whoCanOpen(ctx, display, environment, text);
        const members = who.map((m) => `${m.name} (${m.recipient})`).join(", ");
        const needsKey = new CliError("MERGE_NEEDS_KEY", `cannot merge ${display}: none of your age identities can decrypt ${theVersion(which)}, and a secrets file can only be merged decrypted; ${display} was left as it was (our version)`, {
          hint: `only someone with a key of ${environment} can merge it${members ? `: ${members}` : " (its members in stellar.yaml)"}: abort (\`git merge --abort\`, or rebase/cherry-pick \`--abort\`) and ask one of them to do this merge; or keep one side whole on purpose with \`stellar-secrets resolve --env ${environment} --ours|--theirs\` (the other side's changes to ${display} are lost)`,
          cause: error,
        });
        needsKeyMembers.set(needsKey, who.map((m) => m.name));
        throw needsKey;
      }
      if (isSopsError(error)) {
        throw new CliError("MERGE_FAILED", `cannot merge ${display}: ${theVersion(which)} does not verify (${error.code}: ${error.message}); ${display} was left as it was (our version)`, {
          hint: `fix ${which === "base" ? "the base" : which} commit first (\`stellar-secrets check\` names the problem; a hand-merged file must be redone with \`stellar-secrets merge-file\` or \`stellar-secrets resolve\`)`,
          cause: error,
        });
      }
      throw error;
    }
  };
  // ours first: without a key for it nothing else is worth reading
  const opened: DecryptedSecrets[] = [];
  try {
    const ours = await open(oursText, "our");
    opened.push(ours);
    const theirs = await open(theirsText, "their");
    opened.push(theirs);
    // a virtual merge base that could not be made: no base, and a name one side lacks is a conflict
    const baseUnknown = baseText.replace(/\r\n/g, "\n") === VIRTUAL_BASE_UNMERGED;
    const base = baseUnknown || baseText.trim() === "" ? undefined : await open(baseText, "base");
    if (base !== undefined) opened.push(base);
    return await mergeOpened(ctx, display, environment, oursPath, cache, { text: baseText, secrets: base, unknown: baseUnknown }, { text: oursText, secrets: ours }, { text: theirsText, secrets: theirs }, conflictValue);
  } finally {
    for (const s of opened) s.dataKey.fill(0);
  }
}

/** Merges the decrypted versions and writes the result into OURS (when it differs). */
async function mergeOpened(
  ctx: CommandContext,
  display: string,
  environment: string,
  oursPath: string,
  cache: DecryptCache,
  base: { text: string; secrets: DecryptedSecrets | undefined; unknown: boolean },
  ours: MergeSide,
  theirs: MergeSide,
  conflictValue: string | undefined,
): Promise<MergeResult> {
  const oursText = ours.text;
  const side = (text: string, secrets: DecryptedSecrets): MergeSide => ({ text, secrets });

  // a set merge of the recipients wraps a new data key for members only (either side's stellar.yaml
  // says who): asked only when the two sides' recipients differ (core is not loaded otherwise)
  let isMember: ((recipient: string) => boolean) | undefined;
  const recipientsOf = (s: MergeSide): string => [...new Set(s.secrets.file.recipients)].sort().join("\n");
  if (recipientsOf(ours) !== recipientsOf(theirs)) {
    const members = new Set(
      [...((await membersOf(projectDir(ctx.cwd, display), environment)) ?? []), ...(await theirMembersOf(ctx, display, environment))].map((m) => normalizeRecipient(m.recipient)),
    );
    isMember = (recipient) => members.has(recipient);
  }

  // their side may be a file written afresh by someone who knows its data key: never put our values under it
  let result: MergeResult;
  try {
    result = await mergeSecretsGuarded({
      base: base.secrets === undefined ? undefined : side(base.text, base.secrets),
      ...(base.unknown ? { baseUnknown: true } : {}),
      ours,
      theirs,
      ...(conflictValue !== undefined ? { conflictValue } : {}),
      ...(isMember !== undefined ? { isMember } : {}),
    });
  } catch (error) {
    // e.g. their side's new data key goes to a recipient label that is no key: nothing is written
    if (!isSopsError(error)) throw error;
    throw new CliError("MERGE_FAILED", `cannot merge ${display}: the merged file cannot be written (${error.code}: ${error.message}); ${display} was left as it was (our version)`, {
      hint: `check each side's recipients (\`stellar-secrets check\` names a recipient that is not a member); keep one side whole with \`stellar-secrets resolve --env ${environment} --ours|--theirs\` if you mean to`,
      cause: error,
    });
  }
  if (result.recipientsConflict) {
    // our side may have changed only values: then it is their side's new key and recipients that cannot be taken
    const b = base.secrets;
    const oursMoved = b === undefined || recipientsOf(ours) !== recipientsOf({ text: "", secrets: b }) || Buffer.compare(Buffer.from(ours.secrets.dataKey), Buffer.from(b.dataKey)) !== 0;
    const what = oursMoved
      ? `both sides changed who can decrypt ${environment} differently (recipients or data key)${result.recipientsConflictReason !== undefined ? ` and they cannot be merged as a set: ${result.recipientsConflictReason}` : ""}`
      : `their side changed who can decrypt ${environment} (recipients and data key) and our side's changes cannot be encrypted for it: ${result.recipientsConflictReason ?? "recipients"}`;
    throw new CliError("MERGE_CONFLICT", `cannot merge ${display}: ${what}; ${display} was left as it was (our version)`, {
      hint: `keep one side whole (\`stellar-secrets resolve --env ${environment} --ours|--theirs\`), then run \`stellar-secrets rotate-key --env ${environment}\` for the members in stellar.yaml and redo the other side's secret changes with \`stellar-secrets set\`; then \`git add ${display}\``,
    });
  }
  if (result.text !== oursText) {
    // verify before replacing: a file that would not decrypt is never written
    try {
      decryptSecretsWithKey(parseSecretsFile(result.text, { path: display }), result.dataKey, result.text, display, cache);
    } catch (cause) {
      throw new CliError("MERGE_FAILED", `the merged ${display} did not verify; nothing was written`, { cause });
    }
    await writeFileAtomic(resolve(ctx.cwd, oursPath), result.text);
  }
  return result;
}

/**
 * What the driver did when it merged the recipients as a set, for stderr: each recipient added or
 * removed with the side that did it (by member name where our stellar.yaml knows the key, else
 * their stellar.yaml's name, marked when our side gives that name another key; else the public key
 * shortened), and whether the data key was kept or is new. No value.
 */
async function recipientsLine(ctx: CommandContext, display: string, environment: string, union: RecipientsUnion): Promise<string> {
  const ourMembers = (await membersOf(projectDir(ctx.cwd, display), environment)) ?? [];
  const theirMembers = await theirMembersOf(ctx, display, environment);
  const keyed = (list: { name: string; recipient: string }[], recipient: string) => list.find((m) => normalizeRecipient(m.recipient) === recipient);
  const nameOf = (recipient: string): string => {
    const ours = keyed(ourMembers, recipient);
    if (ours !== undefined) return ours.name;
    const theirs = keyed(theirMembers, recipient);
    if (theirs === undefined) return recipient.length > 20 ? `${recipient.slice(0, 16)}…` : recipient;
    // their stellar.yaml can give a key any name: one our side gives another key is not that member
    return ourMembers.some((m) => m.name === theirs.name) ? `${theirs.name} [not the key our side's stellar.yaml gives ${theirs.name}]` : theirs.name;
  };
  const change = (sign: string, c: { recipient: string; by: RecipientChangeBy }): string => `${sign}${nameOf(c.recipient)} (${c.by})`;
  const changes = [...union.added.map((a) => change("+", a)), ...union.removed.map((r) => change("-", r))];
  const why = [...(union.removed.length > 0 ? ["a member was removed"] : []), ...union.rotated.map((r) => `${r === "ours" ? "our" : "their"} side rotated the data key`)].join(", ");
  return (
    `${display}: merged recipients: ${changes.join(", ")}; ` +
    (union.dataKey === "kept"
      ? "data key kept (the base's, with our side's stanzas and each added member's stanza from the side that added it)"
      : `new data key (${why}): every value re-encrypted for the ${union.recipients.length} recipient(s) of the result, as rotate-key does`)
  );
}

/**
 * git's own three-way text merge of the files (`git merge-file OURS BASE THEIRS`, written into
 * OURS with conflict markers): the number of conflicts, or -1 when git refused (a binary file) or
 * could not run (OURS is then as it was).
 */
function textMerge(ctx: CommandContext, basePath: string, oursPath: string, theirsPath: string): number {
  const dashless = (p: string): string => (p.startsWith("-") ? `./${p}` : p);
  const r = spawnSync("git", ["merge-file", "-L", "ours", "-L", "base", "-L", "theirs", dashless(oursPath), dashless(basePath), dashless(theirsPath)], {
    cwd: ctx.cwd,
    env: ctx.env,
    stdio: ["ignore", "ignore", "ignore"],
  });
  return r.error !== undefined || r.status === null || r.status > 127 ? -1 : r.status;
}

const SOPS_CONFIG = ".sops.yaml";
const PROJECT_CONFIG = "stellar.yaml";

/**
 * `stellar.yaml`: merged per environment and per name (`mergeProjectConfigs`: members, pending
 * requests and approvals), written into our side's text. A name both sides changed differently is
 * printed, the file is git's text merge and the exit status 1 even when that text merge is clean
 * (it may have combined the two changes into one neither side made). Anything else that differs is
 * git's text merge, as without the driver. With `virtualBase` nothing is printed and the status is
 * 0 (the outer merge reports).
 */
async function mergeProjectConfigFile(
  ctx: CommandContext,
  say: (line: string) => void,
  display: string,
  basePath: string,
  oursPath: string,
  theirsPath: string,
  virtualBase = false,
): Promise<number> {
  const [base, ours, theirs] = await Promise.all([
    readVersion(ctx, basePath, "base", display),
    readVersion(ctx, oursPath, "our", display),
    readVersion(ctx, theirsPath, "their", display),
  ]);
  const { mergeProjectConfigs } = await import("@stellar-secrets/core");
  const merged = mergeProjectConfigs(base, ours, theirs, display);
  if (merged?.merged === true) {
    if (merged.text !== ours) await writeFileAtomic(resolve(ctx.cwd, oursPath), merged.text);
    return 0;
  }
  const status = textMerge(ctx, basePath, oursPath, theirsPath);
  if (virtualBase) return status < 0 ? 1 : 0;
  if (merged !== undefined) {
    const lines = [`${display}: ${merged.conflicts.length} name(s) the per-name merge cannot decide (changed differently on both sides, or one person given two keys) (${status === 0 ? "git's text merge of the file came out clean, but check it" : status > 0 ? "merged as text, with conflict markers" : "left as it was (our version)"}):`];
    for (const c of merged.conflicts) {
      const why = c.reason === "one-name-one-key" ? "; the merge would give this name another key than elsewhere, or this key another name (recipient-drift)" : "";
      lines.push(`  environments.${c.environment}.${c.field}.${c.name}  (ours: ${c.ours}, theirs: ${c.theirs}${why})`);
    }
    lines.push(
      "Finish by hand: keep the entry you mean for each (`git checkout --ours|--theirs -- FILE` keeps one side whole; a member removed on one side stays removed unless you mean to add them back), " +
        "then `stellar-secrets check`, `stellar-secrets rotate-key --env ENV` for each environment whose members changed, and `git add` (docs/branches.md)",
    );
    for (const l of lines) say(l);
    return 1;
  }
  const { textMergedProjectConfigProblem } = await import("@stellar-secrets/core");
  return finishTextMerge(ctx, say, display, oursPath, status, {
    // a clean text merge can still say what neither side said (a member one side removed back, a name with two keys)
    problemOf: (merged) => textMergedProjectConfigProblem(base, ours, theirs, merged),
    problemFix:
      "make each environment's members what you mean (a member removed on one side stays removed unless you mean to add them back), then `stellar-secrets check`, `stellar-secrets rotate-key --env ENV` where members changed, and `git add` (docs/branches.md)",
    conflictLead: "more than the members, requests and approvals of its environments differ",
    conflictMarkers: "merged as text, with conflict markers to resolve by hand; then `stellar-secrets check` (docs/branches.md)",
  });
}

/**
 * The end of a config file's merge that fell back to git's text merge (`status`, as `textMerge`
 * returns it): a clean text merge is still read back (`problemOf`: what neither side said), and is
 * exit status 1 with `problemFix` when it says something; conflict markers or a failed text merge
 * are said after `conflictLead`. Exit status 0 only for a clean merge with no problem.
 */
async function finishTextMerge(
  ctx: CommandContext,
  say: (line: string) => void,
  display: string,
  oursPath: string,
  status: number,
  how: { problemOf: (merged: string) => string | undefined; problemFix: string; conflictLead: string; conflictMarkers: string },
): Promise<number> {
  if (status === 0) {
    const problem = how.problemOf(await readVersion(ctx, oursPath, "our", display));
    if (problem === undefined) return 0;
    say(`${display}: git's text merge of it came out clean, but ${problem}; it is left as that text merge, to finish by hand: ${how.problemFix}`);
    return 1;
  }
  say(`${display}: ${how.conflictLead}: ${status > 0 ? how.conflictMarkers : "git could not merge it as text either: it was left as it was (our version)"}`);
  return 1;
}

/**
 * `.sops.yaml`: its creation rules are merged per rule (`mergeSopsConfigs`: each rule's recipients
 * from the side that changed them), where git's text merge conflicts on two branches that changed
 * the members of different environments (the rules are neighbouring, often identical lines).
 * Anything else (both sides changed one rule, a comment, a rule added) is git's text merge.
 */
async function mergeSopsConfigFile(ctx: CommandContext, say: (line: string) => void, display: string, basePath: string, oursPath: string, theirsPath: string): Promise<number> {
  const [base, ours, theirs] = await Promise.all([
    readVersion(ctx, basePath, "base", display),
    readVersion(ctx, oursPath, "our", display),
    readVersion(ctx, theirsPath, "their", display),
  ]);
  const { mergeSopsConfigs } = await import("@stellar-secrets/core");
  const merged = mergeSopsConfigs(base, ours, theirs, display);
  if (merged !== undefined) {
    if (merged.text !== ours) await writeFileAtomic(resolve(ctx.cwd, oursPath), merged.text);
    return 0;
  }
  const status = textMerge(ctx, basePath, oursPath, theirsPath);
  const { textMergedSopsConfigProblem } = await import("@stellar-secrets/core");
  const keepOneSide =
    "keep one side (`git checkout --ours -- FILE`), then `stellar-secrets check` names the environment whose rule is out of date and `stellar-secrets rotate-key --env ENV` rewrites it from stellar.yaml (docs/branches.md)";
  return finishTextMerge(ctx, say, display, oursPath, status, {
    // a clean text merge can still say what neither side said (lines that combine into invalid YAML, two rules for the same files)
    problemOf: (merged) => textMergedSopsConfigProblem(base, ours, theirs, merged, display),
    problemFix: keepOneSide,
    conflictLead: "both sides changed the same creation rule, or more than the rules' recipients",
    conflictMarkers: `merged as text, with conflict markers; ${keepOneSide}`,
  });
}

/**
 * `--virtual-base`: the inner merge of a criss-cross merge, whose result git uses only as the base
 * of the outer merge (`merge.stellar.recursive`). An environment file is merged per name with a
 * random value for each name the two merge bases changed differently (a value no version holds,
 * so the outer merge reports the name instead of taking one side silently); nothing is recorded or
 * reported (the outer merge does that). When nothing of it can be merged the virtual base is
 * {@link VIRTUAL_BASE_UNMERGED} (the outer merge then reads the file as added on both sides, and a
 * name only one side holds as a conflict: it may be the other side's removal). Other files are merged as
 * git merges text (with markers, as git leaves them in a virtual base). Always 0 (OURS holds the
 * virtual base), except when git could not merge another file as text.
 */
async function mergeVirtualBase(
  ctx: CommandContext,
  say: (line: string) => void,
  display: string,
  environment: string,
  basePath: string,
  oursPath: string,
  theirsPath: string,
  given: string | undefined,
): Promise<number> {
  const name = given === undefined ? undefined : basename(given.split("\\").join("/"));
  if (name === PROJECT_CONFIG) return mergeProjectConfigFile(ctx, say, display, basePath, oursPath, theirsPath, true);
  if (name !== undefined && name !== SOPS_CONFIG && environmentOfFileName(name) === undefined) return textMerge(ctx, basePath, oursPath, theirsPath) < 0 ? 1 : 0;
  if (name === SOPS_CONFIG) {
    const [base, ours, theirs] = await Promise.all([readVersion(ctx, basePath, "base", display), readVersion(ctx, oursPath, "our", display), readVersion(ctx, theirsPath, "their", display)]);
    const { mergeSopsConfigs } = await import("@stellar-secrets/core");
    const merged = mergeSopsConfigs(base, ours, theirs, display);
    if (merged !== undefined) {
      if (merged.text !== ours) await writeFileAtomic(resolve(ctx.cwd, oursPath), merged.text);
      return 0;
    }
    return textMerge(ctx, basePath, oursPath, theirsPath) < 0 ? 1 : 0;
  }
  try {
    const [oursText, theirsText] = await Promise.all([readVersion(ctx, oursPath, "our", display), readVersion(ctx, theirsPath, "their", display)]);
    await merge(ctx, display, environment, oursPath, basePath, oursText, theirsText, `stellar-secrets virtual merge base: changed differently on both merge bases ${randomBytes(16).toString("hex")}`);
  } catch (error) {
    const code = error instanceof CliError ? error.code : "MERGE_FAILED";
    await writeFileAtomic(resolve(ctx.cwd, oursPath), VIRTUAL_BASE_UNMERGED);
    say(
      `${display}: the two merge bases of this criss-cross merge could not be merged (${code}): the outer merge reads the file as added on both sides, ` +
        "and reports each name only one side holds (that side may have added it, or the other removed it)",
    );
  }
  return 0;
}

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  // git appends %P, which may start with "-" (a file at the top that .gitattributes sends here): no word is an option
  // --virtual-base comes first, where git's command line (merge.stellar-virtual-base.driver) puts it
  const virtualBase = argv[0] === "--virtual-base";
  const rest = virtualBase ? argv.slice(1) : argv;
  const { positionals } = parseCommandArgs("merge-file", rest[0] === "--" ? rest : ["--", ...rest], {}, { min: 3, max: 4, names: "[--virtual-base] BASE OURS THEIRS [PATH]" });
  const [basePath, oursPath, theirsPath, given] = positionals as [string, string, string, string | undefined];
  const display = given ?? oursPath;
  const environment = environmentOf(given);
  // names come from the files (a member's sops can write any): never a raw control character to the terminal
  const say = (line: string): void => void ctx.stderr.write(`stellar-secrets merge-file: ${escapeControlCharacters(line)}\n`);

  if (virtualBase) return mergeVirtualBase(ctx, say, display, environment, basePath, oursPath, theirsPath, given);

  // .sops.yaml (git setup sends it here): merged per creation rule, else as git merges text
  if (given !== undefined && basename(given.split("\\").join("/")) === SOPS_CONFIG) return mergeSopsConfigFile(ctx, say, display, basePath, oursPath, theirsPath);
  // stellar.yaml (git setup sends it here too): merged per environment and member name, else as git merges text
  if (given !== undefined && basename(given.split("\\").join("/")) === PROJECT_CONFIG) return mergeProjectConfigFile(ctx, say, display, basePath, oursPath, theirsPath);

  // a branch's .gitattributes can send any path to this driver: a file that is no environment file
  // is merged as git merges text without the driver (nothing of it is decrypted, nothing recorded)
  if (given !== undefined && environmentOfFileName(basename(given.split("\\").join("/"))) === undefined) {
    const status = textMerge(ctx, basePath, oursPath, theirsPath);
    say(
      `${display} is not an environment file (<env>.enc.yaml), which is all this driver merges: a .gitattributes line sends it here (merge=stellar); ` +
        (status === 0 ? "merged as text, as git merges it without the driver" : status > 0 ? "merged as text, as git merges it without the driver: it has conflicts" : "git could not merge it as text either (a binary file?): it was left as it was (our version)"),
    );
    return status === 0 ? 0 : 1;
  }

  const [oursText, theirsText] = await Promise.all([
    readVersion(ctx, oursPath, "our", display),
    readVersion(ctx, theirsPath, "their", display),
  ]);
  // where a record of what is left unresolved goes (under the git directory, never committed)
  const location = given === undefined ? undefined : findGitLocation(ctx.cwd, ctx.env);
  const recordAs = given?.split("\\").join("/");
  // a shallow clone merged with `--allow-unrelated-histories` (git refuses otherwise: the commits that
  // hold the merge base were not fetched): git gives an empty base, so nothing tells a name one side
  // removed from one the other added, nor a one-sided change from a conflict
  if (location !== undefined && isShallow(location.gitDir) && (await readFile(resolve(ctx.cwd, basePath), "utf8").catch(() => "?")).trim() === "") {
    say(
      `${display}: this is a shallow clone and git merged without a merge base (its history was not fetched): every name both sides hold with different values is reported as a conflict, also where only one side changed it, ` +
        "and a name one side removed comes back from the other; fetch the history (`git fetch --unshallow`) and redo the merge (`git merge --abort`, or `git reset --hard ORIG_HEAD` once git committed it)",
    );
  }
  // `git am -3` keeps no commit of the patch's side: the record names the am session's patch instead
  const amPatch = location === undefined ? undefined : amPatchInProgress(location.gitDir);
  const amField = amPatch === undefined ? {} : { am: amPatch };
  // recorded whole before anything is merged, and replaced (or removed) once the driver knows the outcome: a
  // driver killed part way (Ctrl-C, out of memory, a crash of node) leaves git's conflict with OURS as it was
  // and, without a record, nothing would stop `git add && git commit` from dropping their side unseen
  if (location !== undefined && recordAs !== undefined) {
    await writeUnresolvedMerge(location.gitDir, {
      version: 1,
      path: recordAs,
      environment,
      names: [],
      whole: { reason: "failed", code: "MERGE_INTERRUPTED", members: [] },
      file: sha256Text(oursText),
      theirs: sha256Text(theirsText),
      ...amField,
      recordedAt: new Date().toISOString(),
    }).catch(() => undefined); // (the outcome's record is tried again below, and says so when it cannot be written)
  }
  let result: MergeResult;
  try {
    result = await merge(ctx, display, environment, oursPath, basePath, oursText, theirsText);
  } catch (error) {
    // nothing was merged and OURS is as it was: `git add FILE && git commit` would silently drop
    // their whole side, so the file is recorded whole (the pre-commit hook and check refuse it)
    if (location !== undefined && recordAs !== undefined) {
      const own = (error as { code?: unknown } | null)?.code;
      const code = error instanceof CliError ? error.code : typeof own === "string" && /^[A-Z][A-Z0-9_]*$/.test(own) ? own : "MERGE_FAILED";
      const reason = code === "MERGE_NEEDS_KEY" ? "needs-key" : code === "MERGE_CONFLICT" ? "recipients" : "failed";
      const members = reason === "needs-key" ? (needsKeyMembers.get(error as object) ?? []) : [];
      const current = await readFile(resolve(ctx.cwd, oursPath), "utf8").catch(() => oursText);
      try {
        await writeUnresolvedMerge(location.gitDir, {
          version: 1,
          path: recordAs,
          environment,
          names: [],
          whole: { reason, code, members },
          file: sha256Text(current),
          theirs: sha256Text(theirsText),
          ...amField,
          recordedAt: new Date().toISOString(),
        });
        say(`${display} is recorded as not merged: until it is finished the pre-commit hook refuses to commit it and \`stellar-secrets check\` reports it (unresolved-merge)`);
        // the file is our side byte for byte: the record can tell it from an abort only by the other side
        // git keeps (MERGE_HEAD, REBASE_HEAD, CHERRY_PICK_HEAD, REVERT_HEAD, or git am's patch), which these operations do not write
        say(
          `(during \`git merge\`, \`rebase\`, \`cherry-pick\`, \`revert\` or \`git am -3\`; after \`git stash pop|apply\`, \`git cherry-pick -n\`, \`git revert -n\` or \`git checkout -m\`, which keep no other side, it is not enforced: ` +
            `do not commit ${display} as it is, keep what you need of the other side and redo it with a key)`,
        );
      } catch (writeError) {
        say(`could not record ${display} as not merged under ${location.gitDir} (${(writeError as NodeJS.ErrnoException).code ?? "error"}): the pre-commit hook cannot refuse it; do not commit it as it is`);
      }
    }
    throw error;
  }

  // the conflicting names are recorded where git does not commit them, so that the pre-commit hook
  // and `check` refuse this file until `resolve` finishes each (a clean merge drops an old record)
  if (location !== undefined && recordAs !== undefined) {
    if (result.conflicts.length === 0) removeUnresolvedMerge(location.gitDir, recordAs);
    else {
      try {
        await writeUnresolvedMerge(location.gitDir, {
          version: 1,
          path: recordAs,
          environment,
          names: result.conflicts.map((c) => c.name).sort(),
          file: sha256Text(result.text),
          theirs: sha256Text(theirsText),
          ...amField,
          recordedAt: new Date().toISOString(),
        });
      } catch (error) {
        say(`could not record the unresolved names under ${location.gitDir} (${(error as NodeJS.ErrnoException).code ?? "error"}): the pre-commit hook cannot refuse this file until they are resolved`);
      }
    }
  }

  if (result.recipientsMerged !== undefined) say(await recipientsLine(ctx, display, environment, result.recipientsMerged));
  if (result.conflicts.length === 0) {
    if (result.recipientsMerged !== undefined) return 0;
    if (result.freshKey) {
      say(
        `${display}: merged under a new data key for their side's recipients: their side rotated the data key, and whoever wrote their version knows that key, so our side's changes are not encrypted under it (every value re-encrypted)`,
      );
    } else if (result.reencrypted.length > 0) {
      say(`${display}: merged; ${result.reencrypted.length} value(s) re-encrypted under ${result.keyFrom === "ours" ? "our" : "their"} side's rotated data key`);
    }
    return 0;
  }
  const lines = [`${display}: ${result.conflicts.length} secret(s) changed differently on both sides; the file holds our side's state of each:`];
  for (const c of result.conflicts) {
    const renamer = c.ours === "removed" ? "ours" : "theirs";
    const other = renamer === "ours" ? "their" : "our";
    const moved =
      c.renamedTo === undefined
        ? ""
        : `; ${renamer} renamed it to ${c.renamedTo.join(", ")}, which still ${c.renamedTo.length === 1 ? "holds" : "hold"} its value from before ${other} change: keeping the removal (--${renamer}) leaves that old value under the new name and drops ${other} change, so then set ${c.renamedTo.join(", ")} to the value ${other} side set`;
    lines.push(`  ${c.name}  (ours: ${c.ours}, theirs: ${c.theirs}${moved})`);
  }
  lines.push("Finish with, for each name:");
  for (const c of result.conflicts) lines.push(`  stellar-secrets resolve ${c.name} --env ${environment} --ours|--theirs|--from-stdin`);
  // a sparse checkout: git refuses a plain `git add` of a path outside its patterns (where the secrets folder often is)
  const sparse = location !== undefined && existsSync(join(location.gitDir, "info", "sparse-checkout"));
  lines.push(`then: git add ${sparse ? "--sparse " : ""}${display}${sparse ? " (a sparse checkout: git refuses a plain `git add` of a path outside its patterns)" : ""}`);
  // `git am -3` keeps its state in rebase-apply too (with an `applying` file): it is no rebase, and
  // no commit names the patch's side (resolve --theirs reads it from the index until `git add`)
  const applying = location !== undefined && existsSync(join(location.gitDir, "rebase-apply", "applying"));
  if (applying) {
    lines.push("this is `git am`: ours is your branch (HEAD), theirs is the patch being applied (--theirs takes the patch's value, from the index: run it before `git add`)");
  } else if (location !== undefined && recreatesMerge(location.gitDir)) {
    // `git rebase --rebase-merges` redoing a merge commit: the sides are those of a merge, not of a replayed commit
    lines.push(
      "this is a merge that `git rebase --rebase-merges` re-creates: ours is the rebased branch (HEAD), theirs is the branch it merges (--theirs takes that branch's value); " +
        "the original merge commit (REBASE_HEAD) is not a side: to keep the value it had, take the side it took or give it with --from-stdin",
    );
  } else if (location !== undefined && (existsSync(join(location.gitDir, "rebase-merge")) || existsSync(join(location.gitDir, "rebase-apply")))) {
    // during a rebase git swaps the sides: a newcomer's "ours" is not their own value
    lines.push("this is a rebase: ours is the branch you rebase onto, theirs is your commit being replayed (--theirs keeps your value)");
  }
  if (applying) {
    lines.push("`git am --continue` runs the pre-applypatch hook (`git setup` installs it), not the pre-commit hook: until then it refuses to commit the file and `stellar-secrets check` reports it (unresolved-merge), while this patch is the one `git am` applies (`git am --skip` or `--abort` ends that)");
  } else if (location !== undefined && recordAs !== undefined) {
    lines.push("until then the pre-commit hook refuses to commit the file and `stellar-secrets check` reports it (unresolved-merge); `git rebase --continue` and `git cherry-pick --continue` run no hook: check first");
  }
  for (const l of lines) say(l);
  return 1;
}

/**
 * True when the repository of the git directory `gitDir` is a shallow clone (git keeps the list of
 * its cut commits in `shallow`, in the common git directory of a linked worktree). Never throws.
 */
export function isShallow(gitDir: string): boolean {
  try {
    if (existsSync(join(gitDir, "shallow"))) return true;
    const common = readFileSync(join(gitDir, "commondir"), "utf8").trim();
    return common !== "" && existsSync(join(resolve(gitDir, common), "shallow"));
  } catch {
    return false;
  }
}

/**
 * True while `git rebase --rebase-merges` (or a `merge` line of `git rebase -i`) re-creates a merge
 * commit: the last step the rebase did (`rebase-merge/done`) is a `merge` (`m`) command. The
 * driver runs before git writes MERGE_HEAD, so the todo list is what says it.
 */
export function recreatesMerge(gitDir: string): boolean {
  let done: string;
  try {
    done = readFileSync(join(gitDir, "rebase-merge", "done"), "utf8");
  } catch {
    return false;
  }
  const last = done.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#")).pop();
  return last !== undefined && /^(merge|m)\s/.test(last);
}

const command: Command = { summary: "git merge driver: merge an environment file per secret name (needs a key of it)", help, run, helpOnlyAlone: true };
export default command;
