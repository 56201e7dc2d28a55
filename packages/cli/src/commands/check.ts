/**
 * `stellar-secrets check`: runs every checker rule over the repository (no key needed) and
 * prints the diagnostics as text, JSON or SARIF 2.1.0. Exit 1 on errors or too many warnings.
 */
import { existsSync, readdirSync, statSync, type Dirent } from "node:fs";
import { dirname, join, resolve } from "node:path";
import {
  checkWorkspace,
  DEFAULT_EXCLUDE,
  DEFAULT_INCLUDE,
  findingWording,
  findProjectRoot,
  GlobFilter,
  globToRegExp,
  loadWorkspace,
  messageRewording,
  PROJECT_FILE,
  readerWording,
  SOPS_CONFIG_FILE,
  summarize,
  toRelative,
  unreadableConfigFile,
  VERSION,
  type Diagnostic,
  type SkippedFile,
} from "@stellar-secrets/core";
import { parseCommandArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { windowsPathHint } from "../path-hints.js";
import { parentsNotFetchedNote, readUnresolvedMerges, readValueHistory, shallowCutOf, shallowHistoryNote, startCommittedVersions, trackedPaths, type CommittedVersionsReader } from "../git.js";
import { allowOutsideLinks } from "../repository.js";
import { environmentFileName, escapeControlCharacters, normalizeSecretsDir } from "@stellar-secrets/sops";
import { diagnosticResult, sarifLog } from "../sarif.js";
import { outsideSparseCheckout, outsideSparseCheckoutError } from "../sparse.js";
import { stringifyJson } from "../json-text.js";

const help = `Usage: stellar-secrets check [PATH] [--json | --format text|json|sarif] [--max-warnings N]

Checks the repository around PATH (default: the current directory; stellar.yaml is found
upwards): config file schemas, every secret reference, environment values, unused and badly
named secrets, encryption of the secrets folder, credentials in plain text, recipients
against stellar.yaml members, and (in a git repository, when the catalog sets rotate_every)
values last set longer ago than their rotate_every, from git history (as \`stale\` reports them), and environment files edited or merged by hand (stale-mac:
compared with the HEAD version, and with the other side of a merge in progress), and secrets the
merge driver reported as changed on both sides that \`resolve\` has not finished (unresolved-merge).
Reads names only: no key is needed. When PATH is a file or a subfolder, only its diagnostics
are shown (the whole repository is still read). A folder with a stellar.yaml of its own is
another project: it is checked too, against its own secrets (paths relative to this root).

Output (stdout):
  text    file:line:column: severity rule-id message   (files, and the paths and commands
          of messages, relative to the current directory, as git prints them)
  json    {"diagnostics":[{"rule","severity","file","line","column","endLine","endColumn",
          "message","secret"?,"suggestion"?,"alternatives"?}],"summary":{"errors",
          "warnings"}} (files relative to the repository root, wherever check runs; sarif
          too; "alternatives": other names as near as "suggestion", an ambiguous typo)
  sarif   SARIF 2.1.0, for code scanning
A summary line and skipped files (symbolic link loops, files over 8 MiB) go to stderr.

Options:
  --json             same as --format json
  --format FORMAT    text (default), json or sarif
  --max-warnings N   also exit 1 when there are more than N warnings

Exit status: 0 no errors, 1 errors (or more than N warnings), 2 usage, 5 no stellar.yaml.
Rules and how to change their severity: docs/rules.md.
`;

const flags = { json: { type: "boolean" }, format: { type: "string" }, "max-warnings": { type: "string" } } as const;

/** SARIF 2.1.0 log for `diagnostics` (files relative to `root`): every checker rule in the driver, one result per diagnostic. */
export function toSarif(diagnostics: readonly Diagnostic[], root: string, version: string): object {
  return sarifLog(
    diagnostics.map((d) => ({
      ...diagnosticResult(d),
      ...(d.secret !== undefined
        ? { properties: { secret: d.secret, ...(d.suggestion !== undefined ? { suggestion: d.suggestion } : {}), ...(d.alternatives !== undefined ? { alternatives: d.alternatives } : {}) } }
        : {}),
    })),
    { root, version },
  );
}

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f, positionals } = parseCommandArgs("check", argv, flags, { min: 0, max: 1, names: "PATH" });
  if (f.json && f.format !== undefined && f.format !== "json") {
    throw new CliError("USAGE", "check: --json and --format are exclusive", { hint: "use one of --json or --format text|json|sarif" });
  }
  const format = f.json ? "json" : (f.format ?? "text");
  if (format !== "text" && format !== "json" && format !== "sarif") {
    throw new CliError("USAGE", `check: unknown format "${format}"`, { hint: "use --format text, json or sarif" });
  }
  let maxWarnings: number | undefined;
  if (f["max-warnings"] !== undefined) {
    if (!/^\d+$/.test(f["max-warnings"])) {
      throw new CliError("USAGE", `check: --max-warnings needs a whole number, got "${f["max-warnings"]}"`, { hint: "e.g. --max-warnings 0" });
    }
    maxWarnings = Number(f["max-warnings"]);
  }
  const target = resolve(ctx.cwd, positionals[0] ?? ".");
  if (!existsSync(target)) {
    throw new CliError("NOT_FOUND", `check: ${positionals[0] ?? target} does not exist`, { hint: windowsPathHint(positionals[0] ?? target) ?? "pass a folder or file inside a Stellar Secrets repository" });
  }
  const isDir = statSync(target).isDirectory();
  const start = isDir ? target : dirname(target);
  // git starts now and runs while the workspace is read: HEAD's versions of the environment
  // files (and a merge's other side) for stale-mac
  const gitRoot = findProjectRoot(start);
  const git = gitRoot === undefined ? undefined : startCommittedVersions(gitRoot, ctx.env);
  let outer: ProjectCheck;
  try {
    outer = await checkProject(start, false, git, ctx);
  } catch (error) {
    void git?.read([]); // ends git
    throw error;
  }
  const root = outer.root;
  const scope = toRelative(root, target);
  const outside = scope === "" || scope.startsWith("..");
  const inScope = (file: string): boolean => outside || (isDir ? file === scope || file.startsWith(`${scope}/`) : file === scope);
  // A folder with a stellar.yaml of its own is another project: the outer walk skips it, and it is
  // checked here against its own secrets (so a stellar.yaml added in a folder never hides its files),
  // its paths relative to the outer root. Nested projects outside PATH are left out.
  // text output is worded for the current directory, as git words paths: each file, and the paths,
  // git commands and stellar-secrets commands of its message (JSON and SARIF keep the root's)
  const here = findProjectRoot(ctx.cwd);
  const forReader = (projectRoot: string) => readerWording(projectRoot, ctx.cwd, here === projectRoot);
  const outerWords = forReader(root);
  const textOf = new Map<Diagnostic, string>();
  const textLine = (d: Diagnostic, file: string, message: string): string => `${file}:${d.line}:${d.column}: ${d.severity} ${d.rule} ${message}`;
  const outerText = messageRewording(outerWords, outer.paths);
  const all = [...outer.diagnostics];
  for (const d of all) textOf.set(d, textLine(d, outerWords.path(d.file), outerText(d.message, d.file)));
  const skipped = [...outer.skipped];
  const counts = { ...outer.counts };
  const configPaths = [...outer.configPaths];
  const nested: string[] = [];
  const pending = outer.skipped.filter((s) => s.project === true);
  for (const rel of projectsBeyondWalk(root, outer, new Set(pending.map((s) => s.path)))) {
    const entry: SkippedFile = { path: rel, reason: `another project (it has its own ${PROJECT_FILE})`, project: true };
    pending.push(entry);
    skipped.push(entry);
  }
  for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
    const rel = next.path;
    if (!outside && !(scope === rel || scope.startsWith(`${rel}/`) || rel.startsWith(`${scope}/`))) continue;
    const prefix = (path: string): string => `${rel}/${path}`;
    let inner: ProjectCheck;
    try {
      inner = await checkProject(join(root, rel), true, undefined, ctx);
    } catch (error) {
      // its stellar.yaml cannot be read (a broken link, no permission): an error on that file, the rest still checked
      const why = `cannot be read (${(error as { code?: string }).code ?? "IO_ERROR"}), so the folder's files are not checked; a folder with a stellar.yaml is a project of its own: make it a readable file, or remove it`;
      for (const d of unreadableConfigFile(prefix(PROJECT_FILE), "", why).diagnostics) {
        all.push(d);
        textOf.set(d, textLine(d, outerWords.path(d.file), outerText(d.message, d.file)));
      }
      continue;
    }
    nested.push(rel);
    // its messages name its files (and `stellar-secrets` commands) as seen from its folder: reworded
    // to be read, and run, at the outer root, as `review` words a nested project's findings
    const reword = messageRewording(findingWording(rel), inner.paths);
    const innerWords = forReader(join(root, rel));
    const innerText = messageRewording(innerWords, inner.paths);
    for (const d of inner.diagnostics) {
      const moved = { ...d, file: prefix(d.file), message: reword(d.message, d.file) };
      all.push(moved);
      textOf.set(moved, textLine(d, innerWords.path(d.file), innerText(d.message, d.file)));
    }
    for (const s of inner.skipped) {
      const moved = { ...s, path: prefix(s.path) };
      if (s.project === true) pending.push(moved);
      skipped.push(moved);
    }
    counts.files += inner.counts.files;
    configPaths.push(...inner.configPaths.map(prefix));
  }
  if (nested.length > 0) all.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)); // stable: each file's own order stays
  const diagnostics = all.filter((d) => inScope(d.file));
  const { errors, warnings } = summarize(diagnostics);

  // (stderr is text: its paths are worded for the current directory too)
  for (const s of skipped) {
    if (s.project === true && nested.includes(s.path)) ctx.stderr.write(`stellar-secrets: ${outerWords.path(s.path)} has a stellar.yaml of its own: checked as its own project (against its own secrets)\n`);
    else ctx.stderr.write(`stellar-secrets: skipped ${outerWords.path(s.path)}: ${s.reason}\n`);
  }
  if (format === "json") {
    ctx.stdout.write(`${stringifyJson({ diagnostics, summary: { errors, warnings } }, 2)}\n`);
  } else if (format === "sarif") {
    ctx.stdout.write(`${stringifyJson(toSarif(diagnostics, root, VERSION), 2)}\n`);
  } else {
    ctx.stdout.write(diagnostics.map((d) => escapeControlCharacters(textOf.get(d) ?? textLine(d, d.file, d.message)) + "\n").join(""));
    const shownScope = outerWords.path(scope);
    const narrowed = outside ? undefined : shownScope === "." ? "the current folder" : shownScope;
    // a YAML file the globs leave out was not read at all: "no problems in it" would read as checked
    const unread = isDir || outside || nested.some((n) => scope.startsWith(`${n}/`)) ? undefined : notCheckedNote(scope, outer.globs, outer.paths, shownScope);
    // "no problems in connections (N config files, …)": N counts the files there, not the repository's
    const shownCounts = narrowed === undefined ? counts : { ...counts, files: configPaths.filter(inScope).length };
    ctx.stderr.write(escapeControlCharacters(unread !== undefined && diagnostics.length === 0 ? unread : checkSummary(diagnostics, all, narrowed, shownCounts), { keepNewlines: true }));
  }
  if (errors > 0) return 1;
  if (maxWarnings !== undefined && warnings > maxWarnings) {
    if (format === "text") ctx.stderr.write(`too many warnings (${warnings}, at most ${maxWarnings} allowed)\n`);
    return 1;
  }
  return 0;
}

/** One project's check: its diagnostics and skipped files (paths relative to its root) and its counts. */
interface ProjectCheck {
  root: string;
  diagnostics: Diagnostic[];
  skipped: SkippedFile[];
  counts: { files: number; secrets: number; environments: number };
  /** Its config files (relative to its root). */
  configPaths: string[];
  /** The project's files a message may name (relative to its root). */
  paths: string[];
  /** Its `config.include` and `config.exclude` globs. */
  globs: { include: readonly string[]; exclude: readonly string[] };
  /** Its `secrets_dir`, as stellar.yaml gives it. */
  secretsDir: string;
}

/**
 * The folders below `root` (relative, `/`-separated) holding a stellar.yaml of their own, the
 * top-most only, that the load's walk did not reach: it enters only the folders `config.include`
 * may match and `config.exclude` does not drop, so a project in another folder would go unchecked
 * by a `check` at the outer root (`review` and `pre-commit` list them from git). Only the folders
 * are listed (no file is read); `.git`, `node_modules`, the secrets folder, folders `config.exclude`
 * leaves out (an explicit opt-out) and symbolic links are not entered. Runs only when the globs
 * are not the defaults (which reach every folder).
 */
function projectsBeyondWalk(root: string, outer: ProjectCheck, known: ReadonlySet<string>): string[] {
  const defaults = (globs: readonly string[], dflt: readonly string[]): boolean => globs.length === dflt.length && globs.every((g) => dflt.includes(g));
  if (defaults(outer.globs.include, DEFAULT_INCLUDE) && defaults(outer.globs.exclude, DEFAULT_EXCLUDE)) return [];
  const secrets = normalizeSecretsDir(outer.secretsDir);
  // (config.exclude is an explicit opt-out, which the walk respects: a folder of test fixtures)
  const filter = new GlobFilter(outer.globs.include, outer.globs.exclude);
  const found: string[] = [];
  let budget = 100_000; // folders listed at most (a huge tree is not walked whole for this)
  const walk = (rel: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(rel === "" ? root : join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    if (rel !== "" && entries.some((e) => e.name === PROJECT_FILE && !e.isDirectory())) {
      if (!known.has(rel)) found.push(rel);
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory() || e.name === ".git" || e.name === "node_modules" || --budget < 0) continue;
      const sub = rel === "" ? e.name : `${rel}/${e.name}`;
      if (sub === secrets || sub.startsWith(`${secrets}/`) || filter.excludesDirectory(sub)) continue;
      walk(sub);
    }
  };
  walk("");
  return found.sort();
}

/**
 * Loads and checks the project around `start` (`atRoot`: `start` is its root), with its git-backed
 * value history, committed versions (through `git`, already started at the repository's top, when
 * it is this project's; else started here) and unresolved-merge records.
 */
async function checkProject(start: string, atRoot: boolean, git: CommittedVersionsReader | undefined, ctx: CommandContext): Promise<ProjectCheck> {
  const { index, skipped } = loadWorkspace(start, { allowOutsideLinks: allowOutsideLinks(ctx), atRoot });
  const root = index.project.root;
  // environment files a sparse checkout left out of the work tree: not missing (git has them), but
  // unreadable here; checked as absent, every reference would be unknown and the folder missing
  const declared = index.project.environments.map((e) => join(root, index.project.secretsDir, environmentFileName(e.name)));
  const outsideSparse = await outsideSparseCheckout(ctx, root, declared.filter((p) => !existsSync(p)));
  if (outsideSparse.length > 0) throw outsideSparseCheckoutError(outsideSparse, "check reads the secret names from the environment files, so it cannot check the references (nor the files) here");
  // git-backed value history for rotation-overdue (git runs only when a catalog entry has rotate_every)
  const history = await readValueHistory(index, ctx.env);
  const cut = history === undefined ? undefined : shallowCutOf(root, ctx.env);
  if (cut !== undefined) {
    // the history stops at the cut: a value set before it looks set at it, and is never overdue
    ctx.stderr.write(`stellar-secrets: note: ${shallowHistoryNote(cut)}\n`);
  }
  // HEAD's versions of the environment files (and a merge's other side) for stale-mac
  const paths = [...index.environmentFiles.values()].map((f) => f.path);
  if (git !== undefined && git.root !== root) void git.read([]); // (not the root the workspace was read from: ends git)
  // (and their versions in HEAD's parents: a hand-merge or hand edit already committed, as CI sees it)
  const { committed, earlier, parentsNotFetched } =
    git !== undefined && git.root === root ? await git.readWithEarlier(paths) : await startCommittedVersions(root, ctx.env).readWithEarlier(paths);
  if (parentsNotFetched !== undefined) {
    // a shallow clone cut at HEAD (CI's default checkout): what stale-mac compares with is absent; say so rather than read as clean
    ctx.stderr.write(`stellar-secrets: note: ${parentsNotFetchedNote(parentsNotFetched)}\n`);
  }
  // the merge driver's records of names not yet resolved (under the git directory; none: nothing is read)
  const unresolved = await readUnresolvedMerges(root, ctx.env);
  // a plaintext .env.production (production.env, secrets.production.json) is reported when git tracks it: one git ls-files for them all, only when there is one
  const tracked = index.plaintextEnvFiles.size === 0 ? undefined : await trackedPaths(root, [...index.plaintextEnvFiles.keys()], ctx.env);
  const diagnostics = checkWorkspace(index, {
    ...(tracked === undefined ? {} : { tracked: (path: string) => tracked.has(path) }),
    ...(history === undefined ? {} : { history }),
    committed: (path) => committed.get(path),
    earlier: (path) => earlier.get(path),
    unresolvedMerges: (path) => unresolved.get(path),
  });
  // (and the other projects' paths a message named: `../../stellar.yaml` of the enclosing project;
  // and the files outside the globs one named: `only legacy/old.yaml:6 references it`)
  const named = [PROJECT_FILE, SOPS_CONFIG_FILE, ...index.configFiles.keys(), ...[...index.environmentFiles.values()].map((f) => f.path), ...index.otherSecretsFiles.keys(), ...index.project.environments.map((e) => `${index.project.secretsDir}/${environmentFileName(e.name)}`), ...(index.catalog === undefined ? [] : [index.catalog.path]), ...index.otherProjectPaths(), ...index.excludedPaths()];
  return {
    root,
    diagnostics,
    skipped,
    counts: { files: index.configFiles.size, secrets: index.secretNames().length, environments: index.project.environments.length },
    configPaths: [...index.configFiles.keys()],
    paths: named,
    globs: { include: index.project.include, exclude: index.project.exclude },
    secretsDir: index.project.secretsDir,
  };
}

/**
 * What `check FILE` says of a YAML file that is not one of the files the project reads (stellar.yaml,
 * the secrets folder, the config files its globs match): that it was not checked, and which glob
 * leaves it out (a config file there is neither checked nor seen by the other files' references).
 * Undefined for a file the project read, and for a file that is not YAML. `file` is relative to
 * the project root; `shown` is how the note names it (default: `file`).
 */
export function notCheckedNote(file: string, globs: { include: readonly string[]; exclude: readonly string[] }, read: readonly string[], shown: string = file): string | undefined {
  if (!/\.ya?ml$/i.test(file) || read.includes(file)) return undefined;
  // the file, or a folder above it (the walk skips an excluded folder whole)
  const parts = file.split("/");
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  const excluding = globs.exclude.find((g) => {
    const re = globToRegExp(g);
    return candidates.some((c) => re.test(c));
  });
  if (excluding !== undefined) {
    return `${shown} is not checked: config.exclude in stellar.yaml leaves it out ("${excluding}"); its objects are not seen by other config files either: move it out of there, or remove that glob\n`;
  }
  if (!new GlobFilter(globs.include, []).matches(file)) {
    return `${shown} is not checked: config.include in stellar.yaml (${globs.include.map((g) => `"${g}"`).join(", ")}) does not match it; its objects are not seen by other config files either: move it, or add a glob that matches it\n`;
  }
  return undefined;
}

/**
 * The summary `check` prints on stderr in text form: "no problems (N config files, …)" or
 * "E errors, W warnings", and, when only the diagnostics of `scope` (a file or folder, as the
 * reader names it) are `shown`, the errors and warnings of the rest of `all` that were left
 * out, so that a check run in a subfolder never reads as "the repository has no problems".
 */
export function checkSummary(
  shown: readonly Diagnostic[],
  all: readonly Diagnostic[],
  scope: string | undefined,
  counts: { files: number; secrets: number; environments: number },
): string {
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;
  const where = scope === undefined ? "" : ` in ${scope}`;
  const { errors, warnings } = summarize(shown);
  let out =
    shown.length === 0
      ? `no problems${where} (${plural(counts.files, "config file")}, ${plural(counts.secrets, "secret")}, ${plural(counts.environments, "environment")})\n`
      : `${plural(errors, "error")}, ${plural(warnings, "warning")}${where}\n`;
  if (scope !== undefined) {
    const total = summarize(all);
    const rest = { errors: total.errors - errors, warnings: total.warnings - warnings };
    const parts = [...(rest.errors > 0 ? [plural(rest.errors, "error")] : []), ...(rest.warnings > 0 ? [plural(rest.warnings, "warning")] : [])];
    if (parts.length > 0) out += `the rest of the repository has ${parts.join(" and ")}, not shown: run \`stellar-secrets check\` at the repository root to see them\n`;
  }
  return out;
}

const command: Command = { summary: "check config files, references, encryption and recipients (no key needed)", help, run };
export default command;
