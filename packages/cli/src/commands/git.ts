/**
 * `stellar-secrets git setup [--check] [--no-hook]`: configures the current git repository for
 * secrets files — `.gitattributes` (`diff=stellar merge=stellar` for the environment files),
 * repository-local `diff.stellar.textconv` and `merge.stellar.driver`, and a pre-commit hook.
 * Setup is a list of {@link SetupItem}s, each able to check and apply itself; a new concern
 * (e.g. commit signing behind a flag) is one more item.
 */
import { existsSync, realpathSync } from "node:fs";
import { chmod, mkdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { shellWord, type ProjectConfig } from "@stellar-secrets/core";
import { writeFileAtomic } from "@stellar-secrets/sops";
import { parseCommandArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { renderJson } from "../format.js";
import { GitRepo } from "../git.js";
import { openProject } from "../repository.js";
import { renderSigningSetup, setUpSigning, SIGNING_SETUP_HELP, type SigningSetupResult } from "./git-signing.js";

const help = `Usage: stellar-secrets git setup [--check] [--no-hook] [--signing [--key PATH]] [--json]

Configures the git repository around the current directory so that secrets files merge and diff
well (run it once per clone; running it again changes nothing):
  .gitattributes      <secrets_dir>/*.enc.yaml diff=stellar merge=stellar
                      (next to stellar.yaml; secrets_dir from stellar.yaml), and
                      .sops.yaml merge=stellar (its creation rules merged per rule: two
                      branches that change members of different environments merge cleanly),
                      and stellar.yaml merge=stellar (merged per environment and member name:
                      two access requests approved on two branches merge cleanly)
  diff.stellar.textconv
                      repository-local git config: \`git diff\` shows a keyless view
                      (stellar-secrets textconv)
  merge.stellar.driver
                      repository-local git config: the per-secret merge driver
                      (stellar-secrets merge-file %O %A %B %P), which needs a key of the
                      environment being merged; with merge.stellar.recursive, the driver
                      git runs for the virtual merge base of a criss-cross merge
                      (merge.stellar-virtual-base.driver: merge-file --virtual-base)
  mergetool.keepBackup
                      repository-local git config, false: \`git mergetool\` leaves no
                      FILE.orig beside the file it resolved (for an environment file, an
                      encrypted copy that no check reads and that \`git add -A\` commits)
  pre-commit hook     runs \`stellar-secrets pre-commit\` and blocks the commit when it fails
                      (skipped with --no-hook). A pre-commit hook that stellar-secrets did not
                      write, or one it wrote that was edited since, is never replaced: setup
                      reports it and exits 1; add the line it prints to your hook, or pass
                      --no-hook. A hook that runs stellar-secrets pre-commit counts as set up
                      (when it is executable: git runs no other).
  pre-merge-commit hook
                      the same check for the commit \`git merge\` makes by itself when
                      nothing conflicts (git runs no pre-commit hook then): a merge whose
                      result breaks a rule (a reference to a secret the other branch removed)
                      is refused; \`git merge --no-verify\` skips it (also skipped with
                      --no-hook; never replaces a hook it did not write)
  pre-applypatch hook the same check for the commit \`git am\` makes of each patch (git runs
                      no pre-commit hook for it): a patch that adds a plaintext value, or
                      an environment file it left unresolved, is not committed; \`git am
                      --no-verify\` skips it (also skipped with --no-hook)
git config and the hooks name this CLI by absolute paths (node and its script), so they work from
any folder of the repository; run setup again after moving the CLI. When that CLI is gone (moved,
reinstalled elsewhere, removed, or nvm switched node) each of them says so, names the path it
tried and exits 1: the hooks refuse the commit, the merge driver leaves the file as a conflict
(your branch's version, not merged), git diff fails.

Options:
  --check     report what is and is not configured; change nothing (exit 1 when something is missing)
  --no-hook   neither install nor require the pre-commit, pre-merge-commit and pre-applypatch hooks
${SIGNING_SETUP_HELP}
  --json      print the state of each item as JSON

Exit status: 0 configured, 1 something is missing (--check) or could not be set up (a foreign hook),
2 usage, 5 no stellar.yaml, 22 not inside a git repository.
`;

const flags = { check: { type: "boolean" }, "no-hook": { type: "boolean" }, signing: { type: "boolean" }, key: { type: "string" }, json: { type: "boolean" } } as const;

/** Marks a hook written by this command (a hook without it is someone else's). */
export const HOOK_MARKER = "# stellar-secrets pre-commit hook (written by `stellar-secrets git setup`)";
/** Marks a pre-merge-commit hook written by this command. */
export const MERGE_HOOK_MARKER = "# stellar-secrets pre-merge-commit hook (written by `stellar-secrets git setup`)";

/** Marks a pre-applypatch hook written by this command. */
export const APPLYPATCH_HOOK_MARKER = "# stellar-secrets pre-applypatch hook (written by `stellar-secrets git setup`)";

/** One thing setup configures. */
export interface SetupItem {
  /** Stable id for --json (`attributes`, `diff-driver`, `merge-driver`, `sops-attributes`, `project-attributes`, `mergetool-backup`, `pre-commit-hook`, `pre-merge-commit-hook`, `pre-applypatch-hook`). */
  id: string;
  /** What it is, for people. */
  label: string;
  /** True when configured as setup would configure it. */
  check(): Promise<boolean>;
  /** Configures it; returns a reason when it refuses (then it stays unconfigured). */
  apply(): Promise<string | undefined>;
  /** Why `apply` would refuse, without changing anything (for `--check`); undefined when it would not. */
  refusal?(): Promise<string | undefined>;
}

/** This CLI as a shell command: the running node and the package's bin script, by absolute paths. */
export function cliCommand(): string {
  const bin = fileURLToPath(new URL("../../bin/stellar-secrets.js", import.meta.url));
  return `${shellWord(process.execPath)} ${shellWord(bin)}`;
}

/**
 * The `merge.stellar.driver` value: git replaces `%O %A %B %L %P` anywhere in it (before the shell
 * sees it) and reads `%%` as `%`, so a `%` in the CLI's own paths (an install folder `100%Pure`)
 * is doubled: else git would put a temporary file's name in the middle of the path.
 */
export function mergeDriverCommand(cli: string): string {
  return `${guardedRun(MERGE_DRIVER_GONE)}; ${GUARD_NAME} ${cli.replace(/%/g, "%%")} merge-file %O %A %B %P`;
}

/** The name of the shell function {@link guardedRun} defines. */
const GUARD_NAME = "stellar_secrets";

/**
 * What a command that `git setup` wrote does when the CLI it names is gone: who says it (`who`),
 * and what happens then and how to go on (`then`, a sentence or two), worded for
 * {@link guardedRun}.
 */
export interface GoneWording {
  who: string;
  then: string;
}

const FIX = "run 'stellar-secrets git setup' in this repository with the CLI you use now";
const HOOK_GONE: GoneWording = { who: "the pre-commit hook", then: `The commit is refused: ${FIX} (git commit --no-verify skips the check once)` };
const MERGE_HOOK_GONE: GoneWording = { who: "the pre-merge-commit hook", then: `The merge commit is refused: ${FIX} (git merge --no-verify skips the check once)` };
const APPLYPATCH_HOOK_GONE: GoneWording = { who: "the pre-applypatch hook", then: `git am does not commit the patch: ${FIX} (git am --no-verify skips the check once)` };
const MERGE_DRIVER_GONE: GoneWording = {
  who: "the merge driver (merge.stellar.driver)",
  then: `git reports the file as a conflict and leaves your branch's version in it, not merged: ${FIX}, then merge again (git merge --abort, or git rebase --abort, and start over)`,
};
const TEXTCONV_GONE: GoneWording = { who: "the git diff view (diff.stellar.textconv)", then: `git diff cannot show the file (git diff --no-textconv shows its encrypted text): ${FIX}` };

/**
 * A POSIX shell function definition, one line: \`stellar_secrets NODE SCRIPT ARGS...\` runs the
 * CLI when both NODE and SCRIPT still exist, and otherwise writes on stderr which one is gone, what
 * that means (`wording`) and how to fix it, and exits 1 — where the command would have died with
 * sh's "not found" or node's "Cannot find module" stack trace (the CLI moved, reinstalled
 * elsewhere, removed, or nvm switched node). The hooks and the git config entries that `git setup`
 * writes call the CLI through it. The text holds no `%` (git expands those in a merge driver), no
 * `"`, backtick, `$` or backslash but the function's own (it stands inside double quotes), and no
 * `stellar-secrets pre-commit` (which {@link classifyHook} reads as a hook running the check).
 */
export function guardedRun(wording: GoneWording): string {
  const message = `stellar-secrets: ${wording.who} cannot run: the stellar-secrets CLI that git setup configured here is gone (no file $f: the CLI was moved, reinstalled elsewhere or removed, or node changed, e.g. through nvm). ${wording.then}.`;
  return `${GUARD_NAME}() { for f in "$1" "$2"; do [ -f "$f" ] || { echo "${message}" >&2; exit 1; }; done; exec "$@"; }`;
}

/** The `diff.stellar.textconv` value: this CLI's textconv, through {@link guardedRun} (git appends the file's name). */
export function textconvCommand(cli: string): string {
  return `${guardedRun(TEXTCONV_GONE)}; ${GUARD_NAME} ${cli} textconv`;
}

/** The git merge driver that `merge.stellar.recursive` names: git runs it for the inner merge of a criss-cross merge. */
export const VIRTUAL_BASE_DRIVER = "stellar-virtual-base";

/**
 * The `merge.stellar-virtual-base.driver` value: the per-secret merge for git's virtual merge base
 * (`merge-file --virtual-base`: a name changed differently on the two merge bases gets a value no
 * version holds, so the outer merge reports it). `%` doubled as in {@link mergeDriverCommand}.
 */
export function virtualBaseDriverCommand(cli: string): string {
  return `${guardedRun(MERGE_DRIVER_GONE)}; ${GUARD_NAME} ${cli.replace(/%/g, "%%")} merge-file --virtual-base %O %A %B %P`;
}

/** The `.gitattributes` line that sends \`.sops.yaml\` to the merge driver (merged per creation rule). */
export const SOPS_CONFIG_ATTRIBUTES = ".sops.yaml merge=stellar";

/** The `.gitattributes` line that sends \`stellar.yaml\` to the merge driver (merged per environment and member name). */
export const PROJECT_ATTRIBUTES = "stellar.yaml merge=stellar";

/** The `.gitattributes` line for the environment files of `secretsDir`. */
export function attributesLine(secretsDir: string): string {
  const pattern = `${secretsDir.replace(/\/+$/, "")}/*.enc.yaml`;
  return `${/\s/.test(pattern) ? JSON.stringify(pattern) : pattern} diff=stellar merge=stellar`;
}

/**
 * The pre-commit hook script: runs the CLI through {@link guardedRun}, so that a hook whose CLI is
 * gone refuses the commit with what to do, not with a stack trace. `cli` stands once, in its last
 * line (see {@link classifyHook}).
 */
export function hookScript(cli: string): string {
  return `#!/bin/sh\n${HOOK_MARKER}\n# checks the staged secrets files; a non-zero exit blocks the commit\n${guardedRun(HOOK_GONE)}\n${GUARD_NAME} ${cli} pre-commit "$@"\n`;
}

/**
 * The pre-merge-commit hook script: the same check for the commit `git merge` makes when nothing
 * conflicts (the variable only changes the wording of a refusal: `git merge --no-verify`).
 */
export function mergeHookScript(cli: string): string {
  return `#!/bin/sh\n${MERGE_HOOK_MARKER}\n# checks the merge result before git merge commits it; a non-zero exit stops the merge commit\nSTELLAR_SECRETS_HOOK=pre-merge-commit\nexport STELLAR_SECRETS_HOOK\n${guardedRun(MERGE_HOOK_GONE)}\n${GUARD_NAME} ${cli} pre-commit "$@"\n`;
}

/**
 * The pre-applypatch hook script: the same check for the commit `git am` makes of each patch, once
 * the patch is applied to the index (git runs no pre-commit hook for it: a format-patch that adds a
 * plaintext value would otherwise be committed unchecked). The variable words a refusal for `git am`.
 */
export function applypatchHookScript(cli: string): string {
  return `#!/bin/sh\n${APPLYPATCH_HOOK_MARKER}\n# checks what git am is about to commit (it runs no pre-commit hook); a non-zero exit stops git am\nSTELLAR_SECRETS_HOOK=pre-applypatch\nexport STELLAR_SECRETS_HOOK\n${guardedRun(APPLYPATCH_HOOK_GONE)}\n${GUARD_NAME} ${cli} pre-commit "$@"\n`;
}

/** The pre-commit hook of setups before {@link guardedRun} (a CLI gone ended in a stack trace): still ours, replaced by setup. */
function unguardedHookScript(cli: string): string {
  return `#!/bin/sh\n${HOOK_MARKER}\n# checks the staged secrets files; a non-zero exit blocks the commit\nexec ${cli} pre-commit "$@"\n`;
}

/** The pre-merge-commit hook of setups before {@link guardedRun}: still ours, replaced by setup. */
function unguardedMergeHookScript(cli: string): string {
  return `#!/bin/sh\n${MERGE_HOOK_MARKER}\n# checks the merge result before git merge commits it; a non-zero exit stops the merge commit\nSTELLAR_SECRETS_HOOK=pre-merge-commit exec ${cli} pre-commit "$@"\n`;
}

/** The earlier scripts of each hook, which setup still takes for its own (and so replaces). */
const EARLIER_SCRIPTS = new Map<(cli: string) => string, (cli: string) => string>([
  [hookScript, unguardedHookScript],
  [mergeHookScript, unguardedMergeHookScript],
]);

/** The setup items for `config` in `repo`. */
export function setupItems(repo: GitRepo, config: ProjectConfig, options: { hook: boolean; cli?: string }): SetupItem[] {
  const cli = options.cli ?? cliCommand();
  const attributesPath = join(config.root, ".gitattributes");
  const line = attributesLine(config.secretsDir);
  const readAttributes = async (): Promise<string> => (existsSync(attributesPath) ? readFile(attributesPath, "utf8") : "");
  const configItem = (id: string, label: string, entries: [string, string][]): SetupItem => ({
    id,
    label,
    check: async () => {
      for (const [k, v] of entries) if ((await repo.configGet(k)) !== v) return false;
      return true;
    },
    apply: async () => {
      for (const [k, v] of entries) if ((await repo.configGet(k)) !== v) await repo.configSet(k, v);
      return undefined;
    },
  });
  const attributesItem = (id: string, line: string): SetupItem => ({
    id,
    label: `.gitattributes: ${line}`,
    check: async () => (await readAttributes()).split(/\r?\n/).some((l) => l.trim() === line),
    apply: async () => {
      const text = await readAttributes();
      if (text.split(/\r?\n/).some((l) => l.trim() === line)) return undefined;
      await writeFileAtomic(attributesPath, `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}${line}\n`);
      return undefined;
    },
  });
  const items: SetupItem[] = [
    attributesItem("attributes", line),
    configItem("diff-driver", "git config diff.stellar.textconv (keyless git diff)", [["diff.stellar.textconv", textconvCommand(cli)]]),
    configItem("merge-driver", "git config merge.stellar.driver (per-secret merge)", [
      ["merge.stellar.name", "stellar-secrets per-secret merge"],
      ["merge.stellar.driver", mergeDriverCommand(cli)],
      // a criss-cross merge (two merge bases): git merges the bases first, with this driver, into
      // the virtual base of the outer merge; the main driver would keep ours' value of a name the
      // bases changed differently, and the outer merge would then take one side silently
      ["merge.stellar.recursive", VIRTUAL_BASE_DRIVER],
      [`merge.${VIRTUAL_BASE_DRIVER}.name`, "stellar-secrets per-secret merge (virtual merge base)"],
      [`merge.${VIRTUAL_BASE_DRIVER}.driver`, virtualBaseDriverCommand(cli)],
    ]),
    // .sops.yaml's creation rules merged per rule: two branches that changed members of different
    // environments would otherwise conflict in it (its rules are neighbouring, often identical lines)
    attributesItem("sops-attributes", SOPS_CONFIG_ATTRIBUTES),
    // stellar.yaml's members, requests and approvals merged per name: two approvals on two branches
    // would otherwise conflict, and a text merge can bring back a member one side removed
    attributesItem("project-attributes", PROJECT_ATTRIBUTES),
    // `git mergetool` keeps the conflicted file as FILE.orig by default: beside an environment file
    // that is a full encrypted copy (secrets/production.enc.yaml.orig) that no check reads, that
    // `git add -A` commits, and that rotate-key, rm and members rm never touch
    configItem("mergetool-backup", "git config mergetool.keepBackup false (git mergetool leaves no FILE.orig copy of an environment file)", [["mergetool.keepBackup", "false"]]),
  ];
  if (options.hook) {
    items.push(hookItem(repo, cli, "pre-commit", hookScript(cli), hookScript));
    items.push(hookItem(repo, cli, "pre-merge-commit", mergeHookScript(cli), mergeHookScript));
    items.push(hookItem(repo, cli, "pre-applypatch", applypatchHookScript(cli), applypatchHookScript));
  }
  return items;
}

/**
 * A one-line reminder for a clone that has not run `git setup` yet, or undefined: when the
 * project's `.gitattributes` (committed by whoever ran setup first) sends the environment files to
 * the merge driver but this clone's git config does not define it for this CLI (a fresh clone: git
 * then merges them as text, which no one can decrypt), or it has no pre-commit hook at all (any
 * hook counts: the pre-commit framework's too). When no `.gitattributes` line sends the
 * environment files to the driver (the team never ran setup), a reminder to run it and commit
 * what it writes. Nothing outside a git repository. Never throws.
 */
export async function setupReminder(config: ProjectConfig, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    const repo = await GitRepo.open(config.root, env);
    const items = setupItems(repo, config, { hook: true });
    const [attributes, , merge] = items;
    if (attributes === undefined || merge === undefined) return undefined;
    // a team that never ran setup: said once, here (not by check, where a missing line has no place to be reported)
    if (!(await attributes.check())) {
      return "note: git is not set up for this repository's secrets files (no .gitattributes line sends them to the merge driver: a merge of two changes to one environment file conflicts as text, which no one can resolve without keys): run `stellar-secrets git setup` and commit the .gitattributes it writes; each clone runs it once";
    }
    // any pre-commit hook counts (the pre-commit framework's, or one setup was told to leave alone with --no-hook)
    const hook = existsSync(await repo.gitPath("hooks/pre-commit"));
    const driver = await repo.configGet("merge.stellar.driver");
    const missing = [
      ...(driver === undefined || driver === ""
        ? ["no merge driver: git would merge environment files as text, which no one can decrypt"]
        : !(await merge.check())
          ? ["the merge driver's git config names another CLI, was written by an earlier version (which ends in a stack trace when the CLI is gone), or lacks merge.stellar.recursive, without which a criss-cross merge can take one side of a secret silently"]
          : []),
      ...(!hook ? ["no pre-commit hook: nothing refuses a commit of an unresolved merge or a plaintext value"] : []),
    ];
    if (missing.length === 0) return undefined;
    return `note: this clone is not set up for secrets files yet (${missing.join("; ")}): run \`stellar-secrets git setup\` once per clone (\`stellar-secrets git setup --check\` lists what is missing)`;
  } catch {
    return undefined;
  }
}

/**
 * What a hook file is, for setup: `none` (no file), `ours` (exactly a script this command writes,
 * or wrote before {@link guardedRun}, for this CLI or an older path of it: setup may replace it), `runs-us` (a hook someone else wrote,
 * or one of ours edited since, that runs `stellar-secrets pre-commit`: configured, and never
 * replaced; so is the pre-commit framework's hook when `.pre-commit-config.yaml` lists the
 * `stellar-secrets-check` hook or runs `stellar-secrets pre-commit`), `foreign` (anything else:
 * never replaced). `scriptFor` is hookScript or mergeHookScript.
 */
export type HookKind = "none" | "ours" | "runs-us" | "foreign";

/** Classifies the text of a hook file (undefined: no file); see {@link HookKind}. Pure. */
export function classifyHook(text: string | undefined, scriptFor: (cli: string) => string, preCommitConfig?: string): HookKind {
  if (text === undefined) return "none";
  // the pre-commit framework's hook runs what .pre-commit-config.yaml lists: our hook id, or a local hook running the check
  if (/File generated by pre-commit/.test(text) && preCommitConfig !== undefined && /\bstellar-secrets(?:-check\b|(?:\.js)?['"]?\s+pre-commit\b)/.test(preCommitConfig)) return "runs-us";
  for (const form of [scriptFor, EARLIER_SCRIPTS.get(scriptFor)]) {
    if (form === undefined) continue;
    const [prefix, suffix] = form("\u0000").split("\u0000") as [string, string];
    if (text.startsWith(prefix) && text.endsWith(suffix) && text.length > prefix.length + suffix.length) {
      const cli = text.slice(prefix.length, text.length - suffix.length);
      if (!/[\r\n]/.test(cli)) return "ours";
    }
  }
  // a line that runs the check (the line setup prints, `npx stellar-secrets pre-commit`, ...), not in a comment
  const runs = text.split(/\r?\n/).some((line) => !/^\s*#/.test(line) && /stellar-secrets(?:\.js)?['"]?\s+pre-commit(?:\s|$|;|\||&)/.test(line));
  return runs ? "runs-us" : "foreign";
}

/** `path` with its deepest existing folder resolved to its real path (symbolic links, `/tmp` aliases). */
function realFolder(path: string): string {
  let dir = path;
  const rest: string[] = [];
  while (!existsSync(dir) && dirname(dir) !== dir) {
    rest.unshift(basename(dir));
    dir = dirname(dir);
  }
  try {
    return join(realpathSync(dir), ...rest);
  } catch {
    return path;
  }
}

/** True when `path` is one of `folders` or inside one. Pure. */
export function isInside(path: string, folders: readonly string[]): boolean {
  return folders.some((f) => {
    const rel = relative(f, path);
    return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
  });
}

/** A hook this command writes (`<name>-hook` in --json); one it did not write, or one edited since, is never replaced. */
function hookItem(repo: GitRepo, cli: string, name: "pre-commit" | "pre-merge-commit" | "pre-applypatch", script: string, scriptFor: (cli: string) => string): SetupItem {
  const hookPath = (): Promise<string> => repo.gitPath(`hooks/${name}`);
  const current = async (): Promise<{ path: string; text: string | undefined; executable: boolean; kind: HookKind }> => {
    const p = await hookPath();
    if (!existsSync(p)) return { path: p, text: undefined, executable: false, kind: "none" };
    const text = await readFile(p, "utf8");
    const framework = join(repo.top, ".pre-commit-config.yaml");
    const config = existsSync(framework) ? await readFile(framework, "utf8").catch(() => undefined) : undefined;
    return { path: p, text, executable: ((await stat(p)).mode & 0o111) !== 0, kind: classifyHook(text, scriptFor, config) };
  };
  return {
    id: `${name}-hook`,
    label: `${name} hook (runs stellar-secrets pre-commit)`,
    // git runs no hook that is not executable (it only warns): such a hook is not configured
    check: async () => {
      const { text, executable, kind } = await current();
      return executable && (text === script || kind === "runs-us");
    },
    refusal: async () => refusal(await current()),
    apply: async () => {
      const state = await current();
      const refused = await refusal(state);
      if (refused !== undefined) return refused;
      const { path, text } = state;
      if (text !== script) {
        await mkdir(dirname(path), { recursive: true });
        await writeFileAtomic(path, script);
      }
      await chmod(path, 0o755);
      return undefined;
    },
  };
  /** Why this hook cannot be written as it stands (see {@link SetupItem.refusal}). */
  async function refusal({ path, text, executable, kind }: Awaited<ReturnType<typeof current>>): Promise<string | undefined> {
    // core.hooksPath set in the global or system git config names a folder every repository
    // uses: a hook written there would refuse commits in every repository without a stellar.yaml
    // (from a linked work tree also the main one, at whose top the common git directory `.git` sits: this repository's too)
    const common = dirname(await repo.gitPath("config"));
    const own = [repo.top, common, ...(basename(common) === ".git" ? [dirname(common)] : [])];
    if (!isInside(realFolder(path), own.map(realFolder))) {
      // a hook setup wrote before core.hooksPath was set (husky-style, globally) is still there and never runs
      const local = join(dirname(await repo.gitPath("config")), "hooks", name);
      const stranded = existsSync(local) && (await readFile(local, "utf8").catch(() => "")).includes("stellar-secrets") ? ` The ${name} hook in ${local} does not run while core.hooksPath points elsewhere.` : "";
      return `${path} is outside this repository (core.hooksPath points there, e.g. from your global git config): a hook there runs for other repositories too, so setup does not write it.${stranded} Add this line to that folder's ${name} hook only if every repository using it is a Stellar Secrets repository: ${cli} pre-commit || exit 1 — or set core.hooksPath for this repository alone (git config --local core.hooksPath .git/hooks) and run setup again, or pass --no-hook`;
    }
    if (kind === "runs-us" && !executable) {
      return `${path} runs stellar-secrets pre-commit but is not executable, so git does not run it; it was left as it is: make it executable (chmod +x ${shellWord(path, { path: true })})`;
    }
    if (kind === "foreign" || kind === "runs-us") {
      const edited = text !== undefined && text.includes(name === "pre-commit" ? HOOK_MARKER : name === "pre-merge-commit" ? MERGE_HOOK_MARKER : APPLYPATCH_HOOK_MARKER);
      return `${path} already exists and ${edited ? "was edited since stellar-secrets wrote it" : "was not written by stellar-secrets"}; it was left as it is. Add this line to it: ${cli} pre-commit || exit 1 — or run setup with --no-hook`;
    }
    return undefined;
  }
}

/**
 * The line `git setup --check` ends with when something is missing: the setup command that
 * configures it, with the options the check was run with (`--signing` is what sets up signing,
 * `--no-hook` what leaves the hooks out; a bare `git setup` would do neither), and, when an item
 * carries a reason setup cannot act on (`blocked`), that the reason is for a person.
 */
export function checkFixLine(f: { "no-hook"?: boolean; signing?: boolean; key?: string }, blocked: boolean): string {
  const command = `stellar-secrets git setup${f["no-hook"] ? " --no-hook" : ""}${f.signing ? " --signing" : ""}${f.signing && f.key !== undefined ? ` --key ${shellWord(f.key)}` : ""}`;
  return `run \`${command}\` to configure what is missing${blocked ? "; setup cannot write what a reason is given for: do what it says" : ""}\n`;
}

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f, positionals } = parseCommandArgs("git", argv, flags, { min: 1, max: 1, names: "setup" });
  if (positionals[0] !== "setup") {
    throw new CliError("USAGE", `git: unknown sub-command "${positionals[0]}"`, { hint: "the only one is `stellar-secrets git setup`" });
  }
  const config = await openProject(ctx);
  const repo = await GitRepo.open(config.root, ctx.env, "git setup configures a git repository");
  const items = setupItems(repo, config, { hook: f["no-hook"] !== true });
  const states: { id: string; label: string; state: "configured" | "missing" | "set up" | "refused"; reason?: string }[] = [];
  for (const item of items) {
    if (await item.check()) {
      states.push({ id: item.id, label: item.label, state: "configured" });
    } else if (f.check) {
      // what setup would refuse, said now: a hook missing because git runs hooks from another folder
      // (core.hooksPath in the global config) cannot be set up by running setup as --check says
      const refused = await item.refusal?.();
      states.push(refused === undefined ? { id: item.id, label: item.label, state: "missing" } : { id: item.id, label: item.label, state: "missing", reason: refused });
    } else {
      const refused = await item.apply();
      states.push(refused === undefined ? { id: item.id, label: item.label, state: "set up" } : { id: item.id, label: item.label, state: "refused", reason: refused });
    }
  }
  if (f.key !== undefined && f.signing !== true) {
    throw new CliError("USAGE", "git setup: --key goes with --signing", { hint: "e.g. `stellar-secrets git setup --signing --key ~/.ssh/id_ed25519.pub`" });
  }
  // --signing: the repository signs every commit with the user's member ssh-ed25519 key
  let signing: SigningSetupResult | undefined;
  if (f.signing === true) {
    const label = "commit signing with your member ssh-ed25519 key (gpg.format=ssh, user.signingkey, commit.gpgsign=true)";
    const configured =
      (await repo.configGet("gpg.format")) === "ssh" && (await repo.configGet("user.signingkey")) !== undefined && (await repo.configGet("commit.gpgsign")) === "true";
    if (f.check) {
      states.push({ id: "signing", label, state: configured ? "configured" : "missing" });
    } else {
      signing = await setUpSigning(ctx, f.key === undefined ? {} : { key: f.key });
      states.push({ id: "signing", label, state: "set up" });
    }
  }
  const incomplete = states.some((s) => s.state === "missing" || s.state === "refused");
  if (f.json) {
    ctx.stdout.write(renderJson({ root: config.root, items: states, complete: !incomplete, ...(signing === undefined ? {} : { signing }) }));
  } else {
    for (const s of states) ctx.stdout.write(`${s.state.padEnd(10)} ${s.label}${s.reason ? `\n           ${s.reason}` : ""}\n`);
    if (signing !== undefined) ctx.stdout.write(renderSigningSetup(signing));
    if (f.check && incomplete) {
      const blocked = states.some((st) => st.state === "missing" && st.reason !== undefined);
      ctx.stderr.write(checkFixLine(f, blocked));
    }
  }
  return incomplete ? 1 : 0;
}

const command: Command = { summary: "configure this git repository: diff and merge drivers for secrets files, pre-commit hook", help, run };
export default command;
