/**
 * `stellar-secrets pre-commit`: the git pre-commit hook's check. Reads the staged content (the
 * index, through the same in-memory reader `review` uses for commits: nothing on disk that is not
 * staged counts) and blocks the commit (exit 1) on every error of the checker there — plaintext
 * in a secrets file, a broken reference, a plaintext credential, a stale MAC — with file:line.
 */
import {
  checkUnresolvedMerge,
  findingWording,
  findProjectRoot,
  folderSource,
  readIndexState,
  readRetiredKeyBack,
  sharedCiphertext,
  messageRewording,
  readerWording,
  SOPS_CONFIG_FILE,
  unreadableConfigFile,
  wholeFileFinish,
  PROJECT_FILE,
  type Diagnostic,
  type FindingWording,
  type RetiredKeyBack,
  type ReviewState,
  type WorkspaceIndex,
} from "@stellar-secrets/core";
import { join, resolve, sep } from "node:path";
import { escapeControlCharacters, parseSecretsFile } from "@stellar-secrets/sops";
import { parseCommandArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { humanList, plural, shortRecipient } from "../format.js";
import { GitRepo, readCommittedVersions, readUnresolvedMerges, readWorkingText } from "../git.js";
import { aboveRootFiles, readState } from "../states.js";
import { allowOutsideLinks } from "../repository.js";

const help = `Usage: stellar-secrets pre-commit

Checks what is staged for the next commit (the git index, not the working tree) and exits 1,
which makes git refuse the commit, when the checker finds an error there: a secrets file or value
that is not encrypted (whatever severity stellar.yaml gives the rule), a broken secret reference,
a credential in plain text, a file whose MAC no longer matches, and every other rule at severity
error. Each error is printed as file:line:column: error rule-id message (files relative to the
current directory, as git prints them: the top of the work tree when git runs the hook). No key
is needed or used; no value is printed.

A folder below the project with a stellar.yaml of its own is another project, whose files the
project's checks skip: its staged files are checked here all the same, as that project (against
its own staged stellar.yaml and secrets, and so on for projects nested in it), with the same
rules and exit status; its errors are printed with the folder in front (teams/labs/x.yaml).

Installed as a git hook by the project's git setup; for the pre-commit framework, the
repository's .pre-commit-hooks.yaml has the hook \`stellar-secrets-check\`. To commit anyway
(e.g. a work in progress on a private branch): \`git commit --no-verify\`. git setup also installs
it as the pre-merge-commit hook, for the commit \`git merge\` makes when nothing conflicts (git
runs no pre-commit hook then); there the escape is \`git merge --no-verify\`.

A staged environment file that still holds a merge conflict the merge driver reported (secrets
changed differently on both sides, not yet finished with \`stellar-secrets resolve\`) is always
refused (UNRESOLVED_MERGE, rule unresolved-merge): the names and the commands that finish them are
printed. So is a staged environment file the merge driver could not merge at all (both sides
changed the recipients in a way it cannot merge as a set, no key of the environment, a version
that does not verify), which still holds our side as it was: the message says who can finish it and how
(\`stellar-secrets resolve --env ENV --ours|--theirs\` keeps one side whole).
\`git commit --no-verify\` commits our side anyway, dropping the other side's change.

Exit status: 0 nothing staged breaks a rule at severity error (or stellar.yaml is not staged
yet); 1 errors; 2 usage; 5 no stellar.yaml; 22 not in a git repository.
`;

const PLAINTEXT_RULE = "unencrypted-secrets-file";

/**
 * The errors that block a commit of `state`: every checker diagnostic at severity error, and the
 * secrets files' own plaintext diagnostics at their default severity (stellar.yaml cannot turn
 * off the check that a secrets file is encrypted), in file, line, column order, without repeats.
 */
export function blockingErrors(state: ReviewState): Diagnostic[] {
  const out = state.diagnostics.filter((d) => d.severity === "error");
  const seen = new Set(out.map((d) => `${d.rule}\u0000${d.file}\u0000${d.line}\u0000${d.message}`));
  // git conflict markers: stale-mac's error at the first marker is that finding (the checker keeps it alone)
  const place = (d: Diagnostic): string => `${d.file}\u0000${d.line}:${d.column}-${d.endLine}:${d.endColumn}`;
  const markers = new Set(out.filter((d) => d.rule === "stale-mac").map(place));
  for (const file of state.index?.environmentFiles.values() ?? []) {
    for (const d of file.diagnostics) {
      const key = `${d.rule}\u0000${d.file}\u0000${d.line}\u0000${d.message}`;
      if (d.rule !== PLAINTEXT_RULE || seen.has(key) || markers.has(place(d))) continue;
      seen.add(key);
      out.push({ ...d, severity: "error" });
    }
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column));
}

/** What the staged check of one project found, files relative to the outer project root. */
interface StagedFindings {
  /** {@link blockingErrors} of the project. */
  errors: Diagnostic[];
  /** Its staged environment files' unresolved merges (rule unresolved-merge). */
  unresolved: Diagnostic[];
  /** Each error's line as printed, worded for the reader's folder (files, paths and commands of its message). */
  text: Map<Diagnostic, string>;
  /** The project's folder relative to the outer project root ("" for the outer project). */
  dir?: string;
  /** How the reader's text names the project's files and commands (cwd-relative, `(cd DIR && …)` for a nested project). */
  words?: FindingWording;
  /** The committed versions of its environment files (HEAD's first), keyed by path relative to the outer root. */
  committed?: Map<string, string[]>;
}

/**
 * The staged check of one project: `state` is its staged state, `dir` its folder relative to the
 * outer project root `root` ("" for the outer project itself, else a nested project). Its
 * environment files are compared with their committed versions (stale-mac) and with `records`
 * (the unresolved merges, keyed by path relative to `root`); every file in what it returns is
 * relative to `root`. Throws what reading git throws.
 */
async function checkStagedProject(
  state: ReviewState & { index: WorkspaceIndex },
  dir: string,
  root: string,
  env: NodeJS.ProcessEnv,
  records: Awaited<ReturnType<typeof readUnresolvedMerges>>,
  reader: (projectRoot: string) => FindingWording,
): Promise<StagedFindings> {
  const at = (rel: string): string => (dir === "" ? rel : `${dir}/${rel}`);
  // stale-mac compares each staged environment file with HEAD's version (and a merge's other side),
  // as `check` does: without them a hand-merged file (values changed under a committed mac) passes
  const files = [...state.index.environmentFiles.values()];
  const committed = await readCommittedVersions(root, env, files.map((f) => at(f.path)));
  // (a staged file is tracked by definition: a plaintext .env.production staged with values of the
  // project's secrets is plaintext-credential, as check reports it once git tracks it)
  const diagnostics = state.checkWith(state.index.project.rules, { committed: (path) => committed.get(at(path)), tracked: () => true });
  // (worded for the project's own folder, as the checker's: moved below like its errors)
  const unresolvedOwn = records.size === 0 ? [] : files.flatMap((file) => checkUnresolvedMerge(file, records.get(at(file.path)), committed.get(at(file.path)) ?? [], "error"));
  const errors = blockingErrors({ ...state, diagnostics });
  const paths = [PROJECT_FILE, SOPS_CONFIG_FILE, ...state.index.configFiles.keys(), ...files.map((f) => f.path), ...(state.index.catalog === undefined ? [] : [state.index.catalog.path]), ...state.index.otherProjectPaths(), ...state.index.excludedPaths()];
  // the printed line: the project's own message worded for the reader's folder, as check words it
  const words = reader(dir === "" ? root : join(root, dir));
  const forReader = messageRewording(words, paths);
  const text = new Map<Diagnostic, string>();
  const line = (d: Diagnostic, original: Diagnostic): string => `${words.path(original.file)}:${d.line}:${d.column}: error ${d.rule} ${forReader(original.message, original.file)}`;
  if (dir === "") {
    for (const d of [...errors, ...unresolvedOwn]) text.set(d, line(d, d));
    return { errors, unresolved: unresolvedOwn, text, dir, words, committed };
  }
  // a nested project's messages name its files (and commands, `resolve` too) as seen from its folder: reworded for the outer root
  const reword = messageRewording(findingWording(dir), paths);
  const move = (d: Diagnostic): Diagnostic => {
    const m = { ...d, file: at(d.file), message: reword(d.message, d.file) };
    text.set(m, line(m, d));
    return m;
  };
  return { errors: errors.map(move), unresolved: unresolvedOwn.map(move), text, dir, words };
}

/** One staged environment file with unresolved merges, for {@link unresolvedMergeError}. */
export interface UnresolvedStagedFile {
  /** The file relative to the outer project root (as the records and the printed lines name it). */
  file: string;
  /** The file relative to its own project's root. */
  path: string;
  environment: string;
  /** The unresolved names (empty for a whole-file record). */
  names: string[];
  /** Set when nothing of the file was merged. */
  whole?: Parameters<typeof wholeFileFinish>[0];
  /** How the reader's text names its project's files and commands ({@link readerWording} of its project root). */
  words: FindingWording;
}

/**
 * The `UNRESOLVED_MERGE` error of pre-commit for `files`: what is unresolved, and the commands that
 * finish each file, worded for the reader (`outer`: the outer project's wording, for paths git
 * takes from the current directory; each file's `words` for its own project's `resolve` commands,
 * `(cd DIR && stellar-secrets resolve …)` for a nested project as check words them).
 * `otherErrors`: the count of the other errors printed; `skip`: the command that commits anyway.
 */
export function unresolvedMergeError(files: readonly UnresolvedStagedFile[], outer: FindingWording, otherErrors: number, skip: string): CliError {
  const wholeFiles = files.filter((f) => f.whole !== undefined);
  const namedFiles = files.filter((f) => f.whole === undefined);
  const secrets = namedFiles.reduce((n, f) => n + f.names.length, 0);
  const parts: string[] = [];
  if (secrets > 0) {
    const listedFiles = namedFiles.map((f) => `${outer.path(f.file)} (${f.names.join(", ")})`);
    parts.push(`${plural(secrets, "secret")} changed differently on both sides of a merge ${secrets === 1 ? "is" : "are"} not resolved in the staged ${humanList(listedFiles)}`);
  }
  if (wholeFiles.length > 0) {
    parts.push(`the merge driver could not merge the staged ${humanList(wholeFiles.map((f) => outer.path(f.file)))} at all (${wholeFiles.length === 1 ? "it holds" : "they hold"} our side as it was)`);
  }
  const commands = namedFiles.flatMap((f) => [...f.names.map((n) => f.words.command(`stellar-secrets resolve ${n} --env ${f.environment} --ours|--theirs|--from-stdin`)), `git add ${outer.shellPath(f.file)}`]);
  const wholeHow = wholeFiles.map((f) => `${outer.path(f.file)}: ${wholeFileFinish(f.whole!, f.environment, f.path, f.words)}`);
  const how = [...(commands.length > 0 ? [`finish with: ${commands.map((c) => `\`${c}\``).join("; ")}`] : []), ...wholeHow];
  return new CliError(
    "UNRESOLVED_MERGE",
    `commit refused: ${parts.join("; and ")}; committing ${files.length === 1 ? "it" : "them"} now would keep our side and silently drop the other side's change` +
      (otherErrors > 0 ? ` (and ${plural(otherErrors, "other error")} above)` : ""),
    {
      hint: `${how.join("; ")}; then commit again. To commit our side anyway on purpose: \`${skip}\` (the other side's change is then lost)`,
    },
  );
}

/**
 * git runs a hook at the top of the work tree: for a project in a subfolder of the repository
 * (stellar.yaml in `infra/`, say) there is no stellar.yaml in the hook's folder or above it. The
 * project is then the one staged below it: the folder of the only staged stellar.yaml that is also
 * on disk (a project nested in it is checked with it, so only the outermost count). Undefined
 * outside git, or with none or several such projects (then NO_PROJECT, as before).
 */
async function stagedProjectBelow(ctx: CommandContext): Promise<string | undefined> {
  let staged: Map<string, string>;
  try {
    staged = await (await GitRepo.open(ctx.cwd, ctx.env)).filesInIndex();
  } catch {
    return undefined;
  }
  const roots = [...staged.keys()]
    .filter((p) => p.endsWith(`/${PROJECT_FILE}`))
    .map((p) => resolve(ctx.cwd, p.slice(0, -PROJECT_FILE.length - 1)))
    .filter((dir) => findProjectRoot(dir) === dir);
  // a project nested in another is checked with it (as its own project): the outermost ones count
  const outermost = roots.filter((dir) => !roots.some((other) => dir.startsWith(`${other}${sep}`)));
  return outermost.length === 1 ? outermost[0] : undefined;
}

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  parseCommandArgs("pre-commit", argv, {}, { min: 0, max: 0 });
  const root = findProjectRoot(ctx.cwd) ?? (await stagedProjectBelow(ctx));
  if (root === undefined) {
    throw new CliError("NO_PROJECT", `no ${PROJECT_FILE} in ${ctx.cwd} or any parent directory`, {
      hint: "run `stellar-secrets pre-commit` inside a Stellar Secrets repository (remove the hook from repositories that are not)",
    });
  }
  const repo = await GitRepo.open(root, ctx.env, "pre-commit checks what is staged in git");
  const staged = await readState(repo, root, { kind: "index" }, "staged");
  if (staged.index === undefined) {
    ctx.stderr.write(`stellar-secrets pre-commit: ${PROJECT_FILE} is not staged: nothing to check yet\n`);
    return 0;
  }
  // a project in a subfolder of its repository: the staged .gitattributes and .sops.yaml of the
  // folders above its root decide what git and plain sops do with its files too (as check reads them on disk)
  // (not for a project nested in another, a stellar.yaml above its root: those are the enclosing project's, as check reads them)
  // (a .sops.yaml link out of the work tree: refused as check refuses it, or read on disk where allowed)
  const outside = new Map<string, string>();
  const above = repo.prefix === "" ? undefined : await aboveRootFiles(repo, repo.prefix, "index", { outside, allowOutsideLinks: allowOutsideLinks(ctx) });
  if (above !== undefined && ![...above.keys()].some((rel) => rel === PROJECT_FILE || rel.endsWith(`/${PROJECT_FILE}`))) staged.index.setAboveRoot({ prefix: repo.prefix, files: above, ...(outside.size === 0 ? {} : { outside }) });
  // names the merge driver could not merge and `resolve` has not finished: always an error here
  // (whatever stellar.yaml says), as committing the file would drop the other side's change
  const records = await readUnresolvedMerges(root, ctx.env);
  // text is worded for the current directory, as check and git word paths (git runs the hook at the top of the work tree)
  const here = findProjectRoot(ctx.cwd);
  const reader = (projectRoot: string): FindingWording => readerWording(projectRoot, ctx.cwd, here === projectRoot);
  const outerWords = reader(root);
  const found = [await checkStagedProject({ ...staged, index: staged.index }, "", root, ctx.env, records, reader)];
  // a folder with a stellar.yaml of its own is another project: the outer load skips it, so its
  // staged files are checked here as that project, against its own staged config and secrets
  // (else an added stellar.yaml, even an empty one, would let anything below it be committed)
  // (every folder with a stellar.yaml of its own in the staged listing: the outer load meets only
  // those its config.include reaches)
  const nested = [...(staged.projectsBelow ?? staged.nestedProjects ?? [])];
  for (let dir = nested.shift(); dir !== undefined; dir = nested.shift()) {
    // (with the outer project's staged tree around it: a secret only the enclosing project has is named as check names it)
    const inner = await readIndexState(folderSource(repo, dir), join(root, dir), "staged", { enclosing: { git: repo, dir } });
    if (inner.index === undefined) {
      // skipped by the outer load as a project, yet no stellar.yaml of it could be read: never a silent pass
      const why = "cannot be read from the staged files, so the folder's files are not checked; a folder with a stellar.yaml is a project of its own: stage it as a regular file, or remove it";
      const unreadable = unreadableConfigFile(`${dir}/${PROJECT_FILE}`, "", why).diagnostics;
      found.push({ errors: unreadable, unresolved: [], text: new Map(unreadable.map((d) => [d, `${outerWords.path(d.file)}:${d.line}:${d.column}: error ${d.rule} ${d.message}`])) });
      continue;
    }
    found.push(await checkStagedProject({ ...inner, index: inner.index }, dir, root, ctx.env, records, reader));
    nested.push(...(inner.projectsBelow ?? inner.nestedProjects ?? []).map((sub) => `${dir}/${sub}`));
  }
  // a staged environment file under a data key an earlier commit rotated away (`git revert -n` of a rotation, `git checkout OLD -- FILE`)
  const retired = await retiredStaged(repo, staged.index, found[0]?.committed ?? new Map());
  const unresolved = found.flatMap((f) => f.unresolved);
  const errors = [...found.flatMap((f) => f.errors), ...unresolved].sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column,
  );
  if (errors.length === 0 && retired.length === 0) return 0;
  for (const r of retired) ctx.stdout.write(escapeControlCharacters(retiredKeyLine(r, outerWords)) + "\n");
  if (errors.length === 0) {
    ctx.stderr.write(
      `stellar-secrets pre-commit: ${plural(retired.length, "environment file")} staged under a data key that an earlier commit rotated away: commit refused. ` +
        "Give each a new data key (`stellar-secrets rotate-key --env ENV`) and `git add` it, then commit again; `git commit --no-verify` commits it as it is.\n",
    );
    return 1;
  }
  // run as the pre-merge-commit hook (`git setup` writes it): the escape is `git merge --no-verify`
  const merging = ctx.env.STELLAR_SECRETS_HOOK === "pre-merge-commit";
  // run as the pre-applypatch hook: the commit of a patch `git am` applies (no pre-commit hook runs for it)
  const applying = ctx.env.STELLAR_SECRETS_HOOK === "pre-applypatch";
  const skip = merging ? "git merge --no-verify" : applying ? "git am --no-verify" : "git commit --no-verify";
  // names come from the staged files: never a raw control character to the terminal (as `check` prints them)
  const texts = new Map(found.flatMap((f) => [...f.text]));
  ctx.stdout.write(errors.map((d) => escapeControlCharacters(texts.get(d) ?? `${d.file}:${d.line}:${d.column}: error ${d.rule} ${d.message}`) + "\n").join(""));
  if (unresolved.length > 0) {
    const byFile = new Map<string, UnresolvedStagedFile>();
    for (const f of found) {
      const prefix = f.dir === undefined || f.dir === "" ? "" : `${f.dir}/`;
      for (const d of f.unresolved) {
        const record = records.get(d.file);
        const entry: UnresolvedStagedFile = byFile.get(d.file) ?? {
          file: d.file,
          path: d.file.startsWith(prefix) ? d.file.slice(prefix.length) : d.file,
          environment: record?.environment ?? "ENV",
          names: [],
          ...(record?.whole === undefined ? {} : { whole: record.whole }),
          words: f.words ?? outerWords,
        };
        if (d.secret !== undefined) entry.names.push(d.secret);
        byFile.set(d.file, entry);
      }
    }
    throw unresolvedMergeError([...byFile.values()], outerWords, errors.length - unresolved.length, skip);
  }
  // `git add -p` of an environment file (or a write after `git add`): the staged text has values changed under
  // the committed mac, while the working file is a whole, newer write. stale-mac's "restore it" would drop that write
  for (const note of partlyStaged(root, staged.index, errors, outerWords)) ctx.stderr.write(escapeControlCharacters(note) + "\n");
  ctx.stderr.write(
    applying
      ? `stellar-secrets pre-commit: ${plural(errors.length, "error")} in the patch \`git am\` applied: not committed (the patch is applied to the index and the work tree, and \`git am\` is still in progress). ` +
          "Fix them and `git add` the fixes, then `git am --continue` (or `git am --abort`); `git am --no-verify` skips this check.\n"
      : merging
      ? `stellar-secrets pre-commit: ${plural(errors.length, "error")} in the result of the merge: merge commit refused (the merge is still in progress). ` +
          "Fix them and `git add` the fixes, then `git commit` (or `git merge --abort`); `git merge --no-verify` skips this check.\n"
      : `stellar-secrets pre-commit: ${plural(errors.length, "error")} in the staged files: commit refused. ` +
          "Fix them and `git add` the fixes (plaintext secrets: `stellar-secrets set` encrypts a value; `git restore --staged FILE` unstages a file), " +
          "then commit again; `git commit --no-verify` skips this check.\n",
  );
  return 1;
}

/** A staged environment file under a retired data key, for the hook's refusal. */
interface RetiredStaged {
  file: string;
  environment: string;
  found: RetiredKeyBack;
}

/**
 * The outer project's staged environment files that are under a data key an earlier commit rotated
 * away (see {@link readRetiredKeyBack}): git restores the old file byte for byte on `git revert -n`
 * of a `rotate-key` or `members rm`, or `git checkout OLD -- FILE`. Only a file that shares no
 * ciphertext with HEAD's version (a rotation, or one undone) is looked up in history, so an
 * ordinary commit reads nothing more. The commit `git revert` makes by itself runs no hook:
 * `stale` reports that one.
 */
async function retiredStaged(repo: GitRepo, index: WorkspaceIndex, committed: ReadonlyMap<string, string[]>): Promise<RetiredStaged[]> {
  const files = [...index.environmentFiles.values()].filter((f) => f.text !== undefined);
  const out: RetiredStaged[] = [];
  for (const f of files) {
    const head = committed.get(f.path)?.[0];
    if (head === undefined || f.text === undefined || head === f.text) continue;
    let shares: boolean;
    try {
      shares = sharedCiphertext(parseSecretsFile(f.text), parseSecretsFile(head)) !== undefined;
    } catch {
      continue; // not a readable file: the checker's errors say why
    }
    if (shares) continue;
    const members = index.project.environments.find((e) => e.name === f.environment)?.members.map((m) => m.recipient) ?? [];
    const found = await readRetiredKeyBack(repo, { environment: f.environment, path: f.path }, f.text, members).catch(() => undefined);
    if (found !== undefined) out.push({ file: f.path, environment: f.environment, found });
  }
  return out;
}

/** The hook's line for a staged file under a retired data key. */
function retiredKeyLine(r: RetiredStaged, words: FindingWording): string {
  const former = r.found.formerRecipients;
  return (
    `${words.path(r.file)}:1:1: error retired-key-back ${r.file} is staged under the data key that commit ${r.found.commit.slice(0, 10)} (${r.found.date.slice(0, 10)}) rotated away (${r.found.proof}): ` +
    `a \`git revert\` of a rotate-key or members rm, or an old version checked out; whoever could decrypt it then${former.length > 0 ? ` (${humanList(former.map(shortRecipient))}, no member now)` : ""} can read every value committed under it; ` +
    `run \`stellar-secrets rotate-key --env ${r.environment}\` and \`git add ${words.path(r.file)}\``
  );
}

/** The `mac:` line of an environment file's text (a real write always changes it), or undefined. */
function macLine(text: string): string | undefined {
  return /^\s*mac:.*$/m.exec(text)?.[0].trim();
}

/**
 * A note per staged environment file of the outer project that `stale-mac` flags while the working
 * file differs from it with a mac of its own: only part of a real write was staged (`git add -p`,
 * or the file written again after `git add`). An environment file is committed whole (its mac
 * covers every value): the way out is to stage it whole or unstage it, never to restore it, which
 * would drop the working file's change. Pure but for reading the working files.
 */
export function partlyStaged(root: string, index: WorkspaceIndex, errors: readonly Diagnostic[], words: FindingWording): string[] {
  const flagged = new Set(errors.filter((d) => d.rule === "stale-mac").map((d) => d.file));
  const notes: string[] = [];
  for (const file of index.environmentFiles.values()) {
    if (!flagged.has(file.path) || file.text === undefined) continue;
    const working = readWorkingText(root, file.path);
    if (typeof working !== "string" || working === file.text) continue;
    const stagedMac = macLine(file.text);
    const workingMac = macLine(working);
    if (workingMac === undefined || workingMac === stagedMac) continue;
    const shown = words.path(file.path);
    const word = words.shellPath(file.path);
    notes.push(
      `stellar-secrets pre-commit: ${shown} is only partly staged (\`git add -p\` staged some of its lines): the working file is a newer write with a mac of its own, and the staged one has values changed under the committed mac. ` +
        `An environment file is committed whole (its mac covers every value): stage it whole with \`git add ${word}\`, or unstage it with \`git restore --staged ${word}\`; do not restore it with \`git checkout\`, which drops the working file's change.`,
    );
  }
  return notes;
}

const command: Command = { summary: "check the staged content before a commit (git pre-commit hook); exit 1 on errors", help, run };
export default command;
