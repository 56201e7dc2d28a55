/**
 * `stellar-secrets edit --env ENV`: edit one environment's values in $EDITOR. The decrypted text
 * exists only in a 0700 directory on memory-backed storage (/dev/shm) where the system has one,
 * and that directory is removed on every exit path (success, error, every catchable signal); one
 * left by a process killed with SIGKILL is removed by the next `edit` of the same user.
 * Unchanged values keep their ciphertext.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants as fsConstants, lstatSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { constants as osConstants, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Document, isMap, isScalar, parseDocument, Scalar, YAMLMap } from "yaml";
import { LineIndex, secretsFilePath, validateSecretName } from "@stellar-secrets/core";
import { decodeUtf8, editSecretsFile, findExcessiveNesting } from "@stellar-secrets/sops";
import { followMergeRecord } from "../merge-record-follow.js";
import { parseCommandArgs, splitList } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { humanList, renderJson } from "../format.js";
import { canPrompt, confirm } from "../prompt.js";
import { formatReference, loadReferences, referencesIn } from "../references.js";
import { decryptEnvironment, identitiesFor, openProject, selectOneEnvironment } from "../repository.js";
import { AGE_KEY_VARIABLE } from "../variables.js";
import { pastedValueAsName } from "../input.js";

const help = `Usage: stellar-secrets edit --env ENV [--force] [--json]

Opens ENV's values in your editor ($VISUAL, else $EDITOR, else vi; vi only on a terminal) as plain YAML, one
\`name: value\` per line. Add, change or delete lines, save and quit: the file is re-encrypted,
keeping the ciphertext of every value you did not change. Quitting without changes, or leaving
the file empty, changes nothing.

The decrypted text is written only to a new 0700 directory on memory-backed storage (/dev/shm)
when the system has one (otherwise the system temp directory, with a warning), and that directory
is removed when the command ends in any way: after saving, on an error, or on any signal a
program can catch (SIGINT, SIGTERM, SIGHUP, SIGQUIT, ...). SIGKILL cannot be caught: a folder left
that way is removed by the next \`edit\` of the same user (until then, or a reboot, it stays on
/dev/shm, readable by you and root only). Vim and Neovim are run with -n -i NONE and no
backup or undo file, so no register, swap or undo file keeps a value outside the folder; other
editors may keep copies elsewhere (VS Code's Local History, Emacs' backup folder): see
docs/cli.md. New names must follow the naming rules; deleting a
name that config files reference is refused unless --force; turning one name into another is
refused (names are fixed, see \`stellar-secrets rename\`). On a terminal, a mistake offers to re-open the editor.

Options:
  --env ENV   the environment (exactly one)
  --force     allow deleting secrets that are referenced
  --json      print what changed as JSON

Example:
  EDITOR=nano stellar-secrets edit --env development
`;

const flags = { env: { type: "string", multiple: true }, force: { type: "boolean" }, json: { type: "boolean" } } as const;

const HEADER = (env: string): string =>
  ` Secrets of environment "${env}" — one \`name: value\` per line.\n` +
  ` Save and quit to re-encrypt; delete a line to delete that secret; an empty file changes nothing.\n` +
  ` This file lives in a private temporary directory that is removed when you quit.`;

/**
 * Every signal whose default action ends the process and that a Node.js program may catch.
 * SIGKILL and SIGSTOP cannot be caught by anyone; SIGBUS, SIGFPE, SIGSEGV and SIGILL raised by a
 * fault leave Node unable to run JavaScript; SIGUSR1 starts Node's debugger. A scratch directory
 * left by one of those is removed by the next `edit` of the same user (see {@link removeStaleScratch}).
 */
const SIGNALS: NodeJS.Signals[] = (
  ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGABRT", "SIGALRM", "SIGUSR2", "SIGTRAP", "SIGSYS", "SIGVTALRM", "SIGPROF", "SIGXCPU", "SIGXFSZ", "SIGPOLL", "SIGPWR", "SIGSTKFLT"] as NodeJS.Signals[]
).filter((s) => s in osConstants.signals);

/** Scratch directories are named `stellar-secrets-edit-<pid>-XXXXXX` so a later run can tell whose they are. */
const SCRATCH_PREFIX = "stellar-secrets-edit-";

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f } = parseCommandArgs("edit", argv, flags);
  const config = await openProject(ctx);
  const names = splitList(f.env);
  const env = selectOneEnvironment(config, names, "edit");
  const editor = editorCommand(ctx); // before decrypting: refuses a vi fallback without a terminal
  const decrypted = await decryptEnvironment(ctx, config, env);
  decrypted.dataKey.fill(0);
  const original = decrypted.values;

  const session = openScratch(ctx);
  try {
    const file = join(session.dir, `${env.name}.yaml`);
    writeFileSync(file, renderForEditing(env.name, original), { mode: 0o600, flag: "wx" });
    let changes: EditChanges | undefined;
    for (;;) {
      await session.runEditor(editor, file);
      const bytes = await readFile(file);
      try {
        const edited = parseEdited(editedText(bytes));
        changes = edited === undefined ? undefined : diffEdit(original, edited);
        if (changes !== undefined) await checkChanges(changes, original, config, env.name, f.force === true);
        break;
      } catch (error) {
        if (!(error instanceof CliError) || !canPrompt(ctx)) throw error;
        ctx.stderr.write(`stellar-secrets: ${error.code}: ${error.message}\n`);
        if (!(await confirm(ctx, "Re-open the editor to fix it?"))) throw error;
      }
    }
    if (changes === undefined || (changes.set.size === 0 && changes.deleted.length === 0)) {
      if (f.json) ctx.stdout.write(renderJson({ environment: env.name, added: [], changed: [], deleted: [] }));
      else ctx.stdout.write(`no changes to ${env.name}\n`);
      return 0;
    }
    const applied = changes;
    const target = secretsFilePath(config, env.name);
    await followMergeRecord(
      ctx,
      config.root,
      target,
      () =>
        editSecretsFile(target, identitiesFor(ctx), (values) => {
          for (const name of applied.deleted) values.delete(name);
          for (const [name, value] of applied.set) values.set(name, value);
        }),
      () => [...applied.deleted, ...applied.set.keys()],
    );
    const added = [...applied.set.keys()].filter((n) => !original.has(n));
    const changed = [...applied.set.keys()].filter((n) => original.has(n));
    if (f.json) {
      ctx.stdout.write(renderJson({ environment: env.name, added, changed, deleted: applied.deleted }));
    } else {
      const parts: string[] = [];
      if (added.length > 0) parts.push(`added ${humanList(added)}`);
      if (changed.length > 0) parts.push(`changed ${humanList(changed)}`);
      if (applied.deleted.length > 0) parts.push(`deleted ${humanList(applied.deleted)}`);
      ctx.stdout.write(`${env.name}: ${parts.join("; ")}\n`);
    }
    return 0;
  } finally {
    session.close();
  }
}

/**
 * The editor command line: $VISUAL, else $EDITOR, else vi — but vi only on a terminal: without
 * one (e.g. CI) vi writes the whole decrypted buffer to stdout, into a log. Throws
 * `CliError("USAGE")` then.
 */
export function editorCommand(ctx: Pick<CommandContext, "env" | "stdin" | "stdout">): string {
  const explicit = ctx.env.VISUAL?.trim() || ctx.env.EDITOR?.trim();
  if (explicit) return explicit;
  if (ctx.stdin.isTTY !== true || ctx.stdout.isTTY !== true) {
    throw new CliError("USAGE", "edit: no terminal and no $VISUAL or $EDITOR; refusing to start vi, which would print the decrypted values to the output", {
      hint: "run `edit` in a terminal, or set $EDITOR (or $VISUAL) to an editor, e.g. EDITOR='code --wait'",
    });
  }
  return "vi";
}

/**
 * Removes the scratch directories in `base` that an earlier `edit` of the same user left behind
 * when it was killed in a way no handler sees (SIGKILL, a crash, a power cut keeps /dev/shm
 * only until reboot): directories named `stellar-secrets-edit-<pid>-…`, owned by this user,
 * whose process is gone. A directory of a live process (an `edit` running in another terminal)
 * is left alone. Never throws; says on stderr what it removed (paths only).
 */
export function removeStaleScratch(base: string, ctx: CommandContext): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return removed;
  }
  const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
  for (const name of names) {
    const m = new RegExp(`^${SCRATCH_PREFIX}(\\d+)-[A-Za-z0-9]+$`).exec(name);
    if (m === null) continue;
    const pid = Number(m[1]);
    const dir = join(base, name);
    try {
      const st = lstatSync(dir);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      if (pid === process.pid || processAlive(pid)) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // raced with its owner, or not ours: leave it
    }
  }
  if (removed.length > 0) ctx.stderr.write(`stellar-secrets: removed ${removed.length} decrypted edit folder${removed.length === 1 ? "" : "s"} left by a killed edit: ${removed.join(", ")}\n`);
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A private scratch directory and the signal handlers that remove it. Memory-backed storage
 * (/dev/shm) when present and writable; else the system temp directory, with a warning.
 */
function openScratch(ctx: CommandContext): { dir: string; runEditor: (editor: string, file: string) => Promise<void>; close: () => void } {
  let base = tmpdir();
  try {
    if (statSync("/dev/shm").isDirectory()) {
      accessSync("/dev/shm", fsConstants.W_OK);
      base = "/dev/shm";
    }
  } catch {
    ctx.stderr.write(`warning: no memory-backed storage (/dev/shm); the decrypted file goes to ${base} and is removed on exit\n`);
  }
  removeStaleScratch(base, ctx);
  const dir = mkdtempSync(join(base, `${SCRATCH_PREFIX}${process.pid}-`));
  // mkdtemp creates 0700 already; the explicit check guards against unusual umask handling.
  if ((statSync(dir).mode & 0o077) !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new CliError("IO_ERROR", `the scratch directory ${dir} is not private (mode ${(statSync(base).mode & 0o777).toString(8)})`);
  }
  let child: ChildProcess | undefined;
  let closed = false;
  const removeDir = (): void => {
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    removeDir();
    detach();
    // Die of the same signal, as if no handler had been installed.
    process.kill(process.pid, signal);
  };
  const onExit = (): void => removeDir();
  const detach = (): void => {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.removeListener("exit", onExit);
  };
  for (const s of SIGNALS) {
    try {
      process.on(s, onSignal);
    } catch {
      // a signal this platform does not let a program catch
    }
  }
  process.on("exit", onExit);
  return {
    dir,
    runEditor(editor, file) {
      return new Promise<void>((resolve, reject) => {
        const extra = privateEditorArguments(editor, (word) => programPath(word, ctx.env.PATH));
        // the editor (and every plugin or shell command it runs) needs no private key: SOPS_AGE_KEY stays out, as for exec's child
        const env = { ...ctx.env };
        delete env[AGE_KEY_VARIABLE];
        child = spawn("/bin/sh", ["-c", `exec ${editor}${extra} "$1"`, "stellar-secrets-edit", file], { stdio: "inherit", env, cwd: ctx.cwd });
        child.once("error", (error) => reject(new CliError("EDITOR_FAILED", `cannot start the editor "${editor}": ${error.message}`, { cause: error })));
        child.once("exit", (code, signal) => {
          child = undefined;
          if (code === 0) resolve();
          else
            reject(
              new CliError("EDITOR_FAILED", `the editor "${editor}" exited with ${code !== null ? `status ${code}` : `signal ${signal}`}; nothing was changed`, {
                hint: "set $EDITOR (or $VISUAL) to an editor that waits until you close the file, e.g. `code --wait`",
              }),
            );
        });
      });
    },
    close() {
      if (closed) return;
      closed = true;
      removeDir();
      detach();
    },
  };
}

/** What Vim and Neovim are called (a Debian alternative such as `vi` → `vim.basic` is read through its link). */
const VIM_FAMILY = /^(?:vim|nvim|gvim|mvim|rvim|vimx|vim\.(?:basic|tiny|nox|gtk3?|athena|motif))$/;

/**
 * The words `edit` adds after the editor command when it is Vim or Neovim (its first word, or
 * the program that word resolves to through `resolve`, is one of theirs), else "". Vim keeps what
 * is deleted or yanked in registers and saves them, with search history, in ~/.viminfo (Neovim:
 * its ShaDa file) on exit: deleting a secret's line (how `edit` deletes a secret) wrote
 * `name: value` in clear to the home folder, a persistent disk. Neovim also puts its swap file
 * (the whole buffer) under ~/.local/state, and a vimrc's `backup`/`undofile` with a `backupdir` or
 * `undodir` elsewhere copy the text there. So: `-n` (no swap file), `-i NONE` (no viminfo or
 * ShaDa read or written), and after the vimrc `set nobackup nowritebackup noundofile`. Another
 * `vi` (nvi, busybox) gets nothing added: it may not know these options. `resolve` maps a word to
 * the real path of the program it runs, or undefined.
 */
export function privateEditorArguments(editor: string, resolve: (word: string) => string | undefined): string {
  const first = editor.trim().split(/\s+/)[0]?.replace(/^(["'])(.*)\1$/, "$2") ?? "";
  if (first === "" || first.includes("=")) return "";
  const names = [basename(first), basename(resolve(first) ?? first)];
  if (!names.some((n) => VIM_FAMILY.test(n))) return "";
  return ` -n -i NONE -c 'set nobackup nowritebackup noundofile'`;
}

/** The real path of the program `word` runs: itself when it holds a `/`, else the first match on `PATH`; undefined when none. */
function programPath(word: string, path: string | undefined): string | undefined {
  const candidates = word.includes("/") ? [word] : (path ?? "").split(":").filter((d) => d !== "").map((d) => join(d, word));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, fsConstants.X_OK);
      return realpathSync(candidate);
    } catch {
      // not there, or not executable: the next one
    }
  }
  return undefined;
}

/** The edited file's text, strictly decoded. Throws `CliError("INVALID_VALUE")` when it is not valid UTF-8. */
export function editedText(bytes: Uint8Array): string {
  try {
    return decodeUtf8(bytes, { path: "the edited file" });
  } catch (cause) {
    throw new CliError("INVALID_VALUE", "the edited file is not valid UTF-8 (or larger than a secrets file may be)", {
      hint: "save the file as UTF-8 text; store binary values base64-encoded",
      cause,
    });
  }
}

/**
 * The editable text: a comment header and one `name: value` per secret, in file order. With no
 * values it is the header alone (not a flow `{}`), so that an appended `name: value` line parses.
 */
export function renderForEditing(env: string, values: ReadonlyMap<string, string>): string {
  if (values.size === 0) {
    const empty = new Document(null);
    empty.commentBefore = HEADER(env);
    return `${empty.toString({ lineWidth: 0 }).replace(/\n*(null)?\n*$/, "")}\n`;
  }
  const map = new YAMLMap();
  for (const [name, value] of values) map.items.push(new Document().createPair(name, editableScalar(value)) as never);
  const doc = new Document(map);
  doc.commentBefore = HEADER(env);
  return doc.toString({ lineWidth: 0 });
}

/**
 * A value as the scalar the editing text shows: a multi-line value as a `|` block, readable,
 * unless the block does not read back as the same value — a line of only spaces or tabs that
 * starts with a space (`" \n"`, `"a\n  \n"`) is an empty line to a YAML block, so the value came
 * back changed (or refused) after an edit of *another* secret — then double-quoted with escapes.
 */
function editableScalar(value: string): Scalar {
  const scalar = new Scalar(value);
  if (!value.includes("\n")) return scalar;
  scalar.type = "BLOCK_LITERAL";
  const probe = new Document(new YAMLMap());
  (probe.contents as YAMLMap).items.push(probe.createPair("v", scalar) as never);
  const back = parseDocument(probe.toString({ lineWidth: 0 }), { prettyErrors: false });
  if (back.errors.length > 0 || back.get("v") !== value) scalar.type = "QUOTE_DOUBLE";
  return scalar;
}

/**
 * Parses the edited text into name → value, or undefined when it is empty (no change).
 * Throws `CliError("INVALID_VALUE")` naming the line (never a value) for invalid YAML, a root
 * that is not a mapping, non-scalar or empty values, or names that break the naming rules
 * (`INVALID_SECRET_NAME`).
 */
export function parseEdited(text: string): Map<string, string> | undefined {
  const tooDeep = findExcessiveNesting(text);
  if (tooDeep !== undefined) {
    // never parsed: a parse thousands of levels deep overflows the stack
    throw new CliError("INVALID_VALUE", `the edited file is not a list of \`name: value\` lines: it nests lists or mappings from line ${tooDeep.line} on`, {
      hint: "write one `name: value` per line; quote values with special characters",
    });
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const lines = new LineIndex(text);
  const lineOf = (offset: number): number => lines.positionAt(offset).line;
  const first = doc.errors[0];
  if (first !== undefined) {
    throw new CliError("INVALID_VALUE", `the edited file is not valid YAML at line ${lineOf(first.pos[0])} (${first.code})`, {
      hint: "write one `name: value` per line; quote values with special characters",
    });
  }
  if (doc.contents === null || (isScalar(doc.contents) && (doc.contents.value === null || doc.contents.value === ""))) return undefined;
  if (!isMap(doc.contents)) throw new CliError("INVALID_VALUE", "the edited file must be a mapping of `name: value` lines");
  const out = new Map<string, string>();
  for (const pair of doc.contents.items) {
    const key = pair.key;
    const line = isScalar(key) && key.range ? lineOf(key.range[0]) : 0;
    if (!isScalar(key) || (typeof key.value !== "string" && typeof key.value !== "number")) {
      throw new CliError("INVALID_VALUE", `line ${line}: a name must be a plain text key`);
    }
    const name = String(key.value);
    const pasted = pastedValueAsName(name, `line ${line}: the name`);
    if (pasted !== undefined) throw pasted;
    const validation = validateSecretName(name);
    if (!validation.ok) throw new CliError("INVALID_SECRET_NAME", `line ${line}: ${validation.message} [${validation.rule}]`);
    const node = pair.value;
    if (!isScalar(node) || node.value === null || node.value === undefined) {
      throw new CliError("INVALID_VALUE", `line ${line}: "${name}" needs a single text value`, {
        // a list or mapping under the name is not a value left out: say how to write one
        hint: isScalar(node) || node === null
          ? "to delete a secret, delete its line"
          : `a secret's value is one text: write it after the colon (quoted when it has special characters, or as a | block for several lines), not as a ${isMap(node) ? "mapping" : "list"}`,
      });
    }
    const value = typeof node.value === "string" ? node.value : node.type === "PLAIN" && typeof node.source === "string" ? node.source : String(node.value);
    if (value === "") throw new CliError("INVALID_VALUE", `line ${line}: "${name}" has an empty value`, { hint: "to delete a secret, delete its line" });
    out.set(name, value);
  }
  return out;
}

/** What an edit does: values to set (new or changed) and names to delete. */
export interface EditChanges {
  set: Map<string, string>;
  deleted: string[];
}

/** The changes from `original` to `edited`. */
export function diffEdit(original: ReadonlyMap<string, string>, edited: ReadonlyMap<string, string>): EditChanges {
  const set = new Map<string, string>();
  for (const [name, value] of edited) if (original.get(name) !== value) set.set(name, value);
  const deleted = [...original.keys()].filter((n) => !edited.has(n));
  return { set, deleted };
}

async function checkChanges(
  changes: EditChanges,
  original: ReadonlyMap<string, string>,
  config: Parameters<typeof loadReferences>[0],
  environment: string,
  force: boolean,
): Promise<void> {
  for (const gone of changes.deleted) {
    const value = original.get(gone);
    const renamedTo = [...changes.set].find(([name, v]) => !original.has(name) && v === value)?.[0];
    if (renamedTo !== undefined) {
      throw new CliError("RENAME_NOT_SUPPORTED", `"${gone}" was renamed to "${renamedTo}": secret names are fixed once created`, {
        hint: `keep "${gone}" and add "${renamedTo}" as a new line; move the references; then delete "${gone}" (see \`stellar-secrets rename --help\`)`,
      });
    }
  }
  if (changes.deleted.length === 0 || force) return;
  const all = await loadReferences(config);
  const references = new Map(changes.deleted.map((n) => [n, referencesIn(all.get(n) ?? [], [environment])]));
  const used = changes.deleted.filter((n) => (references.get(n)?.length ?? 0) > 0);
  if (used.length > 0) {
    throw new CliError(
      "SECRET_IN_USE",
      `cannot delete ${humanList(used)}: still referenced at\n${used.flatMap((n) => (references.get(n) ?? []).map((r) => `    ${n}: ${formatReference(r)}`)).join("\n")}`,
      { hint: "keep those lines, or pass --force" },
    );
  }
}

const command: Command = { summary: "edit one environment's values in $EDITOR (decrypted only in a private memory-backed folder)", help, run };
export default command;
