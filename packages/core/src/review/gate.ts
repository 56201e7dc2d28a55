/**
 * The CI gate as files, followed past the workflow: what a pull request can edit to change how it
 * is itself checked. GitHub runs a pull request's own copy of the repository: its workflows
 * (`.github/workflows/*.yml`), the local actions and reusable workflows they use (`uses: ./…`), and
 * every file of the repository those run — a script (`run: ./scripts/gate.sh`, `bash ci/gate`,
 * `node tools/review.mjs`, a file such a script sources or imports), a `package.json` script
 * (`npm run review`, `pnpm review`, with its `pre`/`post` scripts), a Makefile (`make gate`), and the
 * dependencies a step installs or runs a package from (`npm ci`, `npx stellar-secrets`: the
 * package.json's dependency fields and install scripts, its lockfile, `.npmrc` and the like, one
 * node per folder). A file of that graph whose text runs `stellar-secrets` (or runs a file that does,
 * on either side of the change), or the dependencies of a file that does, is part of the gate: a
 * change to it is the change deciding its own review.
 *
 * Pure but for the reader the caller gives (git at a commit, or the work tree). Reading is bounded
 * ({@link MAX_GATE_FILES} files per side); a variable assigned a literal is read with its value
 * ({@link withLiteralVariables}); what a script computes otherwise at run time (a path built from
 * a value outside the repository, a module loaded by name, a tool downloaded) is not followed:
 * docs/threat-model.md.
 */
import { posix } from "node:path";
import { hookCommandPathsOf, hookFoldersOf, isHookManagerFile } from "./editor-settings.js";

/** Where GitHub reads a repository's workflows (relative to the top of the work tree; files directly in it). */
export const WORKFLOWS_DIR = ".github/workflows";
/** At most this many files (and package.json scripts) are read per side when following the gate. */
export const MAX_GATE_FILES = 256;

/** One file of the gate (or one script of a package.json), as read on one side of a change. */
export interface GateNode {
  /** The file, relative to the top of the repository, `/`-separated. */
  path: string;
  /** For a package.json script: its name (the node is that script's command, not the whole file). */
  script?: string;
  /** For a folder's dependencies (`path` its package.json): the node is what an install there reads. */
  install?: true;
  /** The text (a package.json script's command; a folder's dependencies, see `install`), or undefined when absent on this side. */
  text: string | undefined;
  /** The ids of the nodes it runs that exist on this side. */
  refs: string[];
  /** The workflow it is reached from (itself for a workflow). */
  via: string;
  /** For a file read as its blob id with its text in chunks: what {@link scanGateFile} kept (what is followed from it, and whether it runs the gate). */
  scanned?: GateScan;
}

/** A side's gate: node id (a path, or `package.json#scripts.name`) → node. */
export type GateGraph = Map<string, GateNode>;

/**
 * A file a {@link GateReader} did not read as text (larger than it reads, or not UTF-8, e.g. a
 * binary lockfile): its git blob id (as `git hash-object` gives it for a work-tree file), which says
 * exactly whether it changed, and its size in bytes.
 */
export interface GateBlob {
  blob: string;
  size: number;
  /**
   * Its text in chunks, read a bounded piece at a time (never whole), for {@link scanGateFile}:
   * what a large script runs is followed as a small one's is. Absent: nothing named in it is followed.
   */
  chunks?: () => AsyncIterable<string>;
  /**
   * For a file small enough to read whole that is not UTF-8: its text with each broken sequence
   * as U+FFFD, as node and npm read it (a `package.json` with a Latin-1 byte in its description
   * still runs its scripts): its scripts are read from it as from a UTF-8 one's.
   */
  text?: string;
}

/**
 * Reads files at one side (relative to the top): text; a {@link GateBlob} for a file too large to
 * read or not text (memory stays bounded, and a change is still seen); undefined when absent or not a file.
 */
export type GateReader = (paths: readonly string[]) => Promise<(string | GateBlob | undefined)[]>;

/** What a file read is as a node's text: its text, or for a {@link GateBlob} a line naming its blob (no path or command in it, nothing followed from it). */
export function gateTextOf(read: string | GateBlob | undefined): string | undefined {
  return read === undefined || typeof read === "string" ? read : `\u0000 not read as text: ${read.size} bytes, git blob ${read.blob}`;
}

/** At most this many characters of a large file's lines that run something are kept by {@link scanGateFile}. */
export const MAX_GATE_SCAN_CHARS = 1024 * 1024;
/** A line longer than this is scanned in pieces of this length, each beginning with the last {@link GATE_SCAN_OVERLAP} characters of the one before. */
const GATE_SCAN_PIECE = 64 * 1024;
/** Longer than any path, command or `stellar-secrets` a match can be: one split between two pieces is whole in the second. */
const GATE_SCAN_OVERLAP = 4 * 1024;

/** What {@link scanGateFile} kept of a file: the lines that run something, and whether some were left out. */
export interface GateScan {
  /** The file's lines (in order) that name `stellar-secrets` or a file, script, Makefile or install it runs (what {@link gateReferencesOf} and {@link runsGate} read). */
  text: string;
  /** More such lines than {@link MAX_GATE_SCAN_CHARS}: the rest were not kept (the file is taken to run the gate). */
  partial: boolean;
}

/**
 * The lines of a gate file too large to read whole (`path`, relative to the top; read from
 * `chunks`, one bounded piece at a time) that {@link gateReferencesOf} and {@link runsGate} find
 * anything in: every match they make is within one line, so these lines name what the whole text
 * names. A line longer than 64 KiB is scanned in overlapping pieces. Memory stays bounded: the
 * current line (or piece) and at most {@link MAX_GATE_SCAN_CHARS} kept characters (`partial` past them).
 */
export async function scanGateFile(chunks: AsyncIterable<string>, path: string, script?: string): Promise<GateScan> {
  // a workflow's working-directory lines (made once, not per line: a large file has millions)
  const workingDirectory = script === undefined && /\.ya?ml$/.test(path) ? new RegExp(WORKING_DIRECTORY.source, "m") : undefined;
  const kept: string[] = [];
  let size = 0;
  let partial = false;
  const consider = (line: string): void => {
    if (!(runsGate(line) || gateReferencesOf(line, path, script).length > 0 || workingDirectory?.test(line) === true)) return;
    if (size + line.length + 1 > MAX_GATE_SCAN_CHARS) {
      partial = true;
      return;
    }
    kept.push(line);
    size += line.length + 1;
  };
  let rest = "";
  for await (const chunk of chunks) {
    rest += chunk;
    let start = 0;
    for (let nl = rest.indexOf("\n"); nl !== -1; nl = rest.indexOf("\n", start)) {
      consider(rest.slice(start, nl));
      start = nl + 1;
    }
    rest = rest.slice(start);
    // a long line: its first piece now, the next one starting with this one's end
    while (rest.length > GATE_SCAN_PIECE) {
      consider(rest.slice(0, GATE_SCAN_PIECE));
      rest = rest.slice(GATE_SCAN_PIECE - GATE_SCAN_OVERLAP);
    }
  }
  if (rest !== "") consider(rest);
  return { text: kept.join("\n"), partial };
}

/** True when a workflow's, action's or script's text runs `stellar-secrets` (names it). */
export function runsGate(text: string | undefined): boolean {
  return text !== undefined && /stellar-secrets/.test(text);
}

/**
 * The local actions (and reusable workflows) a workflow's text uses (`uses: ./path`, `/`-separated,
 * relative to the top of the repository, without `./` or a trailing slash), in order, each once. Pure.
 */
export function localActionsOf(text: string | undefined): string[] {
  if (text === undefined) return [];
  const out: string[] = [];
  for (const m of text.matchAll(/^[ \t-]*["']?uses["']?[ \t]*:[ \t]*["']?\.\/([^"'#\s]*)/gm)) {
    const path = (m[1] ?? "").replace(/\/+$/, "");
    if (!out.includes(path)) out.push(path);
  }
  return out;
}

const SCRIPT_EXTENSIONS = "sh|bash|zsh|ksh|ps1|psm1|py|rb|pl|js|mjs|cjs|ts|mts|cts|mk";
/** A path-like word ending in a script's extension, or any word starting `./` or `../`. */
const PATH_WORD = new RegExp(
  `(?:^|[\\s"'\`=(:;|&<>,[{}/)])((?:\\.{1,2}/)*(?:[\\w@+-][\\w.@+-]*/)*[\\w@+-][\\w.@+-]*\\.(?:${SCRIPT_EXTENSIONS})|\\.{1,2}/[\\w.@+/-]*[\\w@+-])(?=$|[\\s"'\`;|&)<>,\\]}:])`,
  "gm",
);
/** The file an interpreter or `source` is given (`bash ci/gate`, `. ./env`, `node tools/x`), extension or not. */
const INTERPRETED = /(?:^|[\s;&|(`"'])(?:bash|sh|zsh|dash|ksh|source|\.|node|deno\s+run|bun|python3?|ruby|perl|pwsh|tsx|ts-node)[ \t]+(?:-{1,2}[\w-]+(?:=\S*)?[ \t]+)*["']?([\w@+./-]+)/gm;
/** `npm run x` / `npm run-script x`, `npm test|t|tst|start|stop|restart`, `pnpm [run] x`, `yarn [run] x`, `bun run x`. */
const NPM_RUN = /(?:^|[\s;&|(`"'])(?:npm[ \t]+(?:run|run-script|rum|urn)|pnpm(?:[ \t]+run)?|yarn(?:[ \t]+run)?|bun[ \t]+run)[ \t]+(?:-{1,2}[\w-]+(?:=\S*)?[ \t]+)*([\w@:./-]+)/gm;
const NPM_SHORT = /(?:^|[\s;&|(`"'])npm[ \t]+(test|t|tst|start|stop|restart)\b/gm;
const MAKE = /(?:^|[\s;&|(`"'])(make|just)\b/m;
/**
 * A command that installs the folder's dependencies (`npm ci`, `npm install` with flags only,
 * `pnpm [install]`, `yarn [install]`, `bun install`: what the lockfile and the registry give, and the
 * packages' install scripts, run in the gate's job) or runs a program from them or the registry
 * (`npx x`, `npm exec`, `pnpm exec|dlx`, `yarn exec|dlx`, `bunx`, `node_modules/.bin/`).
 * `npm install PKG` (a named package, e.g. a tarball) reads none of the folder's dependencies.
 */
const INSTALLS = new RegExp(
  String.raw`(?:^|[\s;&|(\`"'])(?:(?:npm[ \t]+(?:ci|clean-install|install-clean|install|isntall|i|it|cit)|pnpm(?:[ \t]+(?:install|i))?|yarn(?:[ \t]+install)?|bun[ \t]+(?:install|i))(?:[ \t]+-{1,2}[\w-]+(?:=[^\s;&|)]*)?)*[ \t]*(?=$|[;&|)#])|(?:npx|bunx|npm[ \t]+(?:exec|x)|pnpm[ \t]+(?:exec|dlx)|yarn[ \t]+(?:exec|dlx)|bun[ \t]+x)[ \t])|node_modules/\.bin/`,
  "m",
);
/** The files of a folder that decide what its install gives, beside its package.json (lockfiles, registry and install hooks). */
const INSTALL_FILES = ["package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "pnpm-workspace.yaml", ".pnpmfile.cjs", "yarn.lock", ".yarnrc.yml", ".yarnrc", "bun.lock", "bun.lockb", "bunfig.toml", ".npmrc"];
/** The fields of package.json an install reads (the dependencies, where they come from, and the scripts npm runs at install). */
const INSTALL_FIELDS = ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies", "bundleDependencies", "bundledDependencies", "overrides", "resolutions", "pnpm", "workspaces", "packageManager"];
const INSTALL_SCRIPTS = ["preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare", "dependencies"];
/** What a JavaScript or Docker action runs: `main:`, `pre:`, `post:`, `image:` (a file of the action's folder). */
const ACTION_ENTRY = /^[ \t]*["']?(?:main|pre|post|image)["']?[ \t]*:[ \t]*["']?([^"'#\s]+)/gm;
const WORKING_DIRECTORY = /^[ \t-]*["']?working-directory["']?[ \t]*:[ \t]*["']?([^"'#\s]+)/gm;

/** `cd DIR` / `pushd DIR` to a folder written out (no variable, no command substitution). */
const CD = /(?:^|[\s;&|(`"'])(?:cd|pushd)[ \t]+(?:--[ \t]+)?(["']?)([\w@+./-]+)\1(?=$|[\s;&|)`])/gm;

/** A path relative to `base` (a folder relative to the top), normalised, or undefined when it leaves the repository or is computed. */
function underTop(base: string, word: string): string | undefined {
  if (word === "" || word.startsWith("/") || /[$`*?\\]/.test(word)) return undefined;
  const path = posix.normalize(base === "" ? word : `${base}/${word}`);
  if (path === "." || path === ".." || path.startsWith("../") || path.endsWith("/")) return undefined;
  return path;
}

/**
 * The nodes a gate file's text may run (ids of files and package.json scripts that may or may not
 * exist), in order, each once. `path` is the file's (relative to the top); a package.json script's
 * text is run in that package.json's folder. Scripts' own paths are tried from their folder and from
 * the top (where a workflow's steps run); a workflow's or action's from the top and from each
 * `working-directory:` it names. Pure.
 */
export function gateReferencesOf(raw: string, path: string, script?: string, inherited?: LiteralVariables): string[] {
  const yaml = script === undefined && /\.ya?ml$/.test(path);
  const shell = isShellText(path, script);
  // a variable assigned a literal (here, in a workflow's env:, by the file that runs or sources this one): its uses read as that value
  const text = shell ? withLiteralVariables(raw, literalVariablesOf(raw, path, inherited)) : raw;
  const action = yaml && /(^|\/)action\.ya?ml$/.test(path);
  const own = posix.dirname(path) === "." ? "" : posix.dirname(path);
  // a workflow's steps run at the top; an action's files (`main: dist/index.js`, `image: Dockerfile`) are its folder's
  const bases = new Set<string>(yaml && !action ? [""] : [own, ""]);
  if (yaml) {
    for (const m of text.matchAll(WORKING_DIRECTORY)) {
      const dir = underTop("", m[1] ?? "");
      if (dir !== undefined) bases.add(dir);
    }
  }
  // a folder a static `cd DIR` moves to (`cd web && ./gate.sh`): what follows is also read from there
  for (const m of text.matchAll(CD)) {
    const word = (m[2] ?? "").replace(/\/+$/, "");
    for (const base of [...bases]) {
      const dir = underTop(base, word);
      if (dir !== undefined) bases.add(dir);
    }
  }
  const out = new Set<string>();
  const file = (word: string): void => {
    for (const base of bases) {
      const p = underTop(base, word.replace(/^["']|["']$/g, ""));
      if (p !== undefined && p !== path) out.add(p);
    }
  };
  if (yaml) {
    for (const used of localActionsOf(text)) {
      if (/\.ya?ml$/.test(used)) file(used);
      else for (const name of ["action.yml", "action.yaml"]) out.add(used === "" ? name : `${used}/${name}`);
    }
  }
  if (action) for (const m of text.matchAll(ACTION_ENTRY)) file(m[1] ?? "");
  for (const m of text.matchAll(PATH_WORD)) file(m[1] ?? "");
  for (const m of text.matchAll(INTERPRETED)) file(m[1] ?? "");
  // a command path with no extension and no ./ (`run: tools/gate`, `eval "ci/review"`): the shell runs it as a file
  if (shell) for (const word of commandWordsOf(text)) file(word);
  const scripts: string[] = [];
  for (const m of text.matchAll(NPM_RUN)) if (m[1] !== undefined && !m[1].startsWith("-")) scripts.push(m[1]);
  for (const m of text.matchAll(NPM_SHORT)) scripts.push(m[1] === "t" || m[1] === "tst" ? "test" : (m[1] as string));
  for (const name of scripts) {
    for (const base of bases) {
      const pkg = base === "" ? "package.json" : `${base}/package.json`;
      out.add(`${pkg}#scripts.${name}`);
    }
  }
  if (MAKE.test(text)) {
    for (const base of bases) for (const name of ["GNUmakefile", "makefile", "Makefile", "justfile", "Justfile", ".justfile"]) out.add(base === "" ? name : `${base}/${name}`);
  }
  if (INSTALLS.test(text)) for (const base of bases) out.add(`${base === "" ? "package.json" : `${base}/package.json`}${INSTALL_ID}`);
  // a package manager run here reads its settings files here (and at the top): each can make it run another program
  if (PACKAGE_MANAGER.test(text)) for (const base of bases) for (const f of PACKAGE_MANAGER_SETTINGS) out.add(base === "" ? f : `${base}/${f}`);
  return [...out];
}

/** The id suffix of a folder's dependencies node (`infra/package.json#install`). */
const INSTALL_ID = "#install";

/** The path and script of a node id (`#install`: the folder's dependencies, `install: true`). */
function splitId(id: string): { path: string; script?: string; install?: true } {
  if (id.endsWith(INSTALL_ID)) return { path: id.slice(0, -INSTALL_ID.length), install: true };
  const at = id.indexOf("#scripts.");
  return at === -1 ? { path: id } : { path: id.slice(0, at), script: id.slice(at + "#scripts.".length) };
}

/** The files a node's text is made of: its file; for a folder's dependencies, its package.json and {@link INSTALL_FILES}. */
function filesOf(id: string): string[] {
  const { path, install } = splitId(id);
  if (install !== true) return [path];
  const dir = posix.dirname(path) === "." ? "" : `${posix.dirname(path)}/`;
  return [path, ...INSTALL_FILES.map((f) => `${dir}${f}`)];
}

/** A node's text from the files read (path → text; undefined: absent), or undefined when the node is absent on that side. */
function textOf(id: string, read: ReadonlyMap<string, string | GateBlob | undefined>): string | undefined {
  const { path, script, install } = splitId(id);
  const files = { get: (p: string): string | undefined => gateTextOf(read.get(p)) };
  if (script !== undefined) {
    const file = read.get(path);
    if (file === undefined || typeof file === "string") return scriptOf(file, script);
    // not UTF-8: the script as npm reads it, with the file's blob id when a broken sequence is in it
    // (two different bytes there read alike); too large to parse: the file's blob id (any change of
    // it is one of the script), taken to run the gate (readGateGraph)
    if (file.text === undefined) return `${gateTextOf(file) as string}, script ${script}`;
    const command = scriptOf(file.text, script);
    return command?.includes("\uFFFD") === true ? `${command}\n${gateTextOf(file) as string}` : command;
  }
  if (install !== true) return files.get(path);
  // what an install reads: the package.json fields it uses (as JSON, so that formatting is no change), then each file present
  const parts: string[] = [];
  const pkg = read.get(path);
  if (pkg !== undefined) {
    // not UTF-8: the fields as npm reads them, with the blob id when a broken sequence is in them (see the scripts above)
    const fields = typeof pkg === "string" ? installFieldsOf(pkg) : pkg.text !== undefined ? installFieldsOf(pkg.text) : (gateTextOf(pkg) as string);
    parts.push(`${path}\n${fields}${typeof pkg !== "string" && fields.includes("\uFFFD") ? `\n${gateTextOf(pkg) as string}` : ""}`);
  }
  for (const f of filesOf(id).slice(1)) {
    const text = files.get(f);
    if (text !== undefined) parts.push(`${f}\n${text}`);
  }
  return parts.length === 0 ? undefined : parts.join(`\n${INSTALL_SEPARATOR}\n`);
}

/** Between the files of a dependencies node's text. */
const INSTALL_SEPARATOR = "\u0000 stellar-secrets: next file";

/** The package.json fields an install reads ({@link INSTALL_FIELDS}, the install-time scripts), as JSON; the text itself when it is no JSON. */
function installFieldsOf(packageJson: string): string {
  try {
    const parsed = JSON.parse(packageJson) as Record<string, unknown>;
    if (typeof parsed !== "object" || parsed === null) return packageJson;
    const scripts = typeof parsed["scripts"] === "object" && parsed["scripts"] !== null ? (parsed["scripts"] as Record<string, unknown>) : {};
    return JSON.stringify({
      ...Object.fromEntries(INSTALL_FIELDS.filter((f) => Object.hasOwn(parsed, f)).map((f) => [f, parsed[f]])),
      scripts: Object.fromEntries(INSTALL_SCRIPTS.filter((n) => Object.hasOwn(scripts, n)).map((n) => [n, scripts[n]])),
    });
  } catch {
    return packageJson;
  }
}

/** The files a dependencies node's two texts differ in (as {@link textOf} made them), in order. */
export function installFilesChanged(before: string | undefined, after: string | undefined): string[] {
  const split = (t: string | undefined): Map<string, string> =>
    new Map(
      (t ?? "")
        .split(`\n${INSTALL_SEPARATOR}\n`)
        .filter((p) => p !== "")
        .map((p) => [p.slice(0, p.indexOf("\n") === -1 ? p.length : p.indexOf("\n")), p]),
    );
  const [b, a] = [split(before), split(after)];
  return [...new Set([...b.keys(), ...a.keys()])].filter((f) => b.get(f) !== a.get(f));
}

/**
 * A package.json script's command, or undefined (no such script, not JSON). npm runs a script's
 * `pre` and `post` scripts around it (a `prereview` can rewrite what `review` runs): when there are
 * any, the three commands, one per line, are the script's text.
 */
function scriptOf(packageJson: string | undefined, name: string): string | undefined {
  if (packageJson === undefined) return undefined;
  try {
    const scripts = (JSON.parse(packageJson) as { scripts?: unknown }).scripts;
    if (typeof scripts !== "object" || scripts === null) return undefined;
    const command = (n: string): string | undefined => {
      const c = Object.hasOwn(scripts, n) ? (scripts as Record<string, unknown>)[n] : undefined;
      return typeof c === "string" ? c : undefined;
    };
    const main = command(name);
    if (main === undefined) return undefined;
    const [pre, post] = [command(`pre${name}`), command(`post${name}`)];
    return pre === undefined && post === undefined ? main : [pre ?? "", main, post ?? ""].join("\n");
  } catch {
    return undefined;
  }
}

/**
 * One side's gate: from `roots` (the workflows, and any changed action files), every file and
 * package.json script they run that exists on that side, breadth first, at most `limit` nodes.
 * One call of `read` per round.
 */
export async function readGateGraph(roots: readonly string[], read: GateReader, limit = MAX_GATE_FILES, rootVariables?: ReadonlyMap<string, LiteralVariables>): Promise<GateGraph> {
  const graph: GateGraph = new Map();
  const files = new Map<string, string | GateBlob | undefined>();
  const readFiles = async (paths: readonly string[]): Promise<void> => {
    const wanted = [...new Set(paths)].filter((p) => !files.has(p));
    const texts = wanted.length === 0 ? [] : await read(wanted);
    wanted.forEach((p, i) => files.set(p, texts[i]));
  };
  // the variables each node is run with (its runner's, a file it sources), and each node's own literal ones
  const inheritedOf = new Map<string, Map<string, string[]>>();
  const ownOf = new Map<string, Map<string, string[]>>();
  const merge = (into: Map<string, string[]>, from: LiteralVariables): boolean => {
    let grew = false;
    for (const [k, values] of from) {
      const have = into.get(k) ?? [];
      for (const v of values) if (!have.includes(v) && have.length < MAX_EXPANSIONS_PER_LINE) (have.push(v), (grew = true));
      into.set(k, have);
    }
    return grew;
  };
  for (const r of roots) inheritedOf.set(r, new Map([...(rootVariables?.get(r) ?? new Map<string, readonly string[]>())].map(([k, v]) => [k, [...v]])));
  let round: { id: string; via: string }[] = roots.map((r) => ({ id: r, via: r }));
  const seen = new Set<string>(roots);
  const follow = (id: string, node: GateNode, next: { id: string; via: string }[]): void => {
    const vars = inheritedOf.get(id) ?? new Map<string, string[]>();
    const text = node.scanned?.text ?? node.text ?? "";
    const shell = node.install !== true && isShellText(node.path, node.script);
    if (shell) ownOf.set(id, literalVariablesOf(text, node.path, vars));
    for (const ref of gateReferencesOf(text, node.path, node.script, vars)) {
      if (!node.refs.includes(ref)) node.refs.push(ref);
      // what it runs is run with its variables
      if (shell) {
        const into = inheritedOf.get(ref) ?? new Map<string, string[]>();
        inheritedOf.set(ref, into);
        merge(into, ownOf.get(id) as Map<string, string[]>);
      }
      if (!seen.has(ref)) {
        seen.add(ref);
        next.push({ id: ref, via: node.via });
      }
    }
  };
  for (let pass = 0; pass < 4; pass++) {
    while (round.length > 0 && graph.size < limit) {
      await readFiles(round.flatMap((n) => filesOf(n.id)));
      const next: { id: string; via: string }[] = [];
      for (const { id, via } of round) {
        if (graph.size >= limit) break;
        const { path, script, install } = splitId(id);
        const text = textOf(id, files);
        if (text === undefined) continue;
        const node: GateNode = { path, ...(script === undefined ? {} : { script }), ...(install === true ? { install } : {}), text, refs: [], via };
        graph.set(id, node);
        if (install === true) continue; // (what a folder's dependencies run is not followed)
        // a file too large to read whole (or not UTF-8): followed through its lines that run something, read in pieces
        const read = files.get(path);
        if (script === undefined && read !== undefined && typeof read !== "string" && read.chunks !== undefined) node.scanned = await scanGateFile(read.chunks(), path);
        // a script of a package.json too large to parse: what it runs is unknown, so it counts as running the gate
        if (script !== undefined && read !== undefined && typeof read !== "string" && read.text === undefined) node.scanned = { text: "", partial: true };
        follow(id, node, next);
      }
      round = next;
    }
    // a file a node sources (`. ./env.sh`) sets variables in it, and a variable a runner passes reaches files read later:
    // each node whose variables grew is read again for what they make it run
    const next: { id: string; via: string }[] = [];
    for (let settle = 0, changed = true; changed && settle < 4; settle++) {
      changed = false;
      for (const [id, node] of graph) {
        if (node.install === true || !isShellText(node.path, node.script)) continue;
        const vars = inheritedOf.get(id) ?? new Map<string, string[]>();
        inheritedOf.set(id, vars);
        for (const src of sourcedFilesOf(node.scanned?.text ?? node.text ?? "", node.path)) {
          const own = ownOf.get(src);
          if (own !== undefined && src !== id) merge(vars, own);
        }
        const before = ownOf.get(id);
        const now = literalVariablesOf(node.scanned?.text ?? node.text ?? "", node.path, vars);
        if (before === undefined || [...now].some(([k, v]) => (before.get(k)?.length ?? 0) !== v.length)) {
          follow(id, node, next);
          changed = true;
        }
      }
    }
    if (next.length === 0 || graph.size >= limit) break;
    round = next;
  }
  // only the references that exist on this side
  for (const node of graph.values()) node.refs = node.refs.filter((r) => graph.has(r));
  return graph;
}

/** `. FILE` / `source FILE`: a file whose variables the sourcing one then has. */
const SOURCED = /(?:^|[\s;&|(])(?:source|\.)[ \t]+["']?([\w@+./-]+)/gm;

/** The files a shell text (at `path`) sources, from its folder and from the top. Pure. */
export function sourcedFilesOf(text: string, path: string): string[] {
  const own = posix.dirname(path) === "." ? "" : posix.dirname(path);
  const out = new Set<string>();
  for (const m of text.matchAll(SOURCED)) {
    for (const base of new Set([own, ""])) {
      const p = underTop(base, m[1] as string);
      if (p !== undefined) out.add(p);
    }
  }
  return [...out];
}

/**
 * The ids of a graph's nodes that run `stellar-secrets`, themselves or through a node they run; and
 * the dependencies (`#install` nodes) such a node installs or runs a program from: the gate runs
 * with what they give.
 */
export function nodesRunningGate(graph: GateGraph): Set<string> {
  const runs = new Set<string>();
  for (const [id, node] of graph) if (node.install !== true && (runsGate(node.text) || runsGate(node.scanned?.text) || node.scanned?.partial === true)) runs.add(id);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [id, node] of graph) {
      if (!runs.has(id) && node.install !== true && node.refs.some((r) => runs.has(r))) {
        runs.add(id);
        grew = true;
      }
    }
  }
  for (const id of [...runs]) for (const r of graph.get(id)?.refs ?? []) if (graph.get(r)?.install === true || isPackageManagerSettings(r)) runs.add(r);
  // what a package manager's settings name (a script-shell, a yarnPath) runs as the gate's command
  const named = [...runs].filter(isPackageManagerSettings);
  while (named.length > 0) {
    for (const r of graph.get(named.pop() as string)?.refs ?? []) {
      if (runs.has(r) || graph.get(r)?.install === true) continue;
      runs.add(r);
      named.push(r);
    }
  }
  return runs;
}

/** One file of the gate as a change sees it (what `buildReview`'s `workflows` input takes). */
export interface GateFileChange {
  path: string;
  before: string | undefined;
  after: string | undefined;
  /** It runs a file (an action, a script) that runs `stellar-secrets` on either side. */
  usesGate?: boolean;
  /** For a package.json script: its name. */
  script?: string;
  /** The dependencies of `path`'s folder (its package.json's dependency fields and install scripts, lockfiles, `.npmrc` …): the files that differ. */
  install?: string[];
  /** The workflow it was reached from, when it is not a workflow or action itself. */
  via?: string;
  /** For a field of a JSON file that a tool reads as its configuration (`lint-staged` of a package.json): its name; `before`/`after` are its value as JSON. */
  field?: string;
  /** When the file is reached only through a path a hook (or a gate file) computes at run time: that path's literal end (`x.sh` of `$(dirname "$0")/x.sh`), which the file's path ends with ({@link computedPathsOf}). */
  computed?: string;
}

/**
 * The gate's files that differ between `base` and `head` (each graph read on its side; `otherSide`
 * gives the text on the other side of a node only one side reaches), each with whether it runs
 * the gate on either side. Pure.
 */
export function gateFileChanges(base: GateGraph, head: GateGraph, otherSide: { base: ReadonlyMap<string, string | undefined>; head: ReadonlyMap<string, string | undefined> }): GateFileChange[] {
  const runsBase = nodesRunningGate(base);
  const runsHead = nodesRunningGate(head);
  const out: GateFileChange[] = [];
  for (const id of new Set([...base.keys(), ...head.keys()])) {
    const b = base.get(id);
    const h = head.get(id);
    const node = (b ?? h) as GateNode;
    const before = b !== undefined ? b.text : otherSide.base.get(id);
    const after = h !== undefined ? h.text : otherSide.head.get(id);
    if (before === after) continue;
    // (a dependencies node counts only through a node that runs the gate: its text names packages)
    const runs = runsBase.has(id) || runsHead.has(id) || (node.install !== true && (runsGate(before) || runsGate(after)));
    if (node.install === true && !runs) continue;
    const yaml = node.script === undefined && node.install !== true && (node.path.startsWith(`${WORKFLOWS_DIR}/`) || /(^|\/)action\.ya?ml$/.test(node.path));
    out.push({
      path: node.path,
      before,
      after,
      ...(runs ? { usesGate: true } : {}),
      ...(node.script === undefined ? {} : { script: node.script }),
      ...(node.install === true ? { install: installFilesChanged(before, after) } : {}),
      ...(yaml || node.via === node.path ? {} : { via: node.via }),
    });
  }
  // a package manager's settings file also read as its folder's dependencies: named once, there
  const inInstall = new Set(out.flatMap((c) => c.install ?? []));
  return out.filter((c) => c.install !== undefined || c.script !== undefined || !isPackageManagerSettings(c.path) || !inInstall.has(c.path));
}

/** The ids whose text only one side read: to be read on the other side for {@link gateFileChanges}. */
function gateIdsOnOneSide(base: GateGraph, head: GateGraph): { base: string[]; head: string[] } {
  return { base: [...head.keys()].filter((id) => !base.has(id)), head: [...base.keys()].filter((id) => !head.has(id)) };
}

/** Reads `ids` (paths and package.json scripts) on one side with `read`: id → text. */
async function readGateIds(ids: readonly string[], read: GateReader): Promise<Map<string, string | undefined>> {
  const paths = [...new Set(ids.flatMap((id) => filesOf(id)))];
  const texts = paths.length === 0 ? [] : await read(paths);
  const byPath = new Map(paths.map((p, i) => [p, texts[i]]));
  return new Map(ids.map((id) => [id, textOf(id, byPath)]));
}

/**
 * The gate's files that differ between two sides, each read from its `roots` (the workflows, and
 * any changed action files) with its reader: both graphs, then the text on the other side of what
 * only one side reaches ({@link gateFileChanges}). Paths relative to the top of the repository.
 */
export async function readGateChanges(
  base: { roots: readonly string[]; read: GateReader; variables?: ReadonlyMap<string, LiteralVariables> },
  head: { roots: readonly string[]; read: GateReader; variables?: ReadonlyMap<string, LiteralVariables> },
  changed?: () => Promise<readonly string[]>,
): Promise<GateFileChange[]> {
  let [baseGraph, headGraph] = await Promise.all([readGateGraph(base.roots, base.read, MAX_GATE_FILES, base.variables), readGateGraph(head.roots, head.read, MAX_GATE_FILES, head.variables)]);
  // a path a gate file computes at run time (`"$GITHUB_WORKSPACE/tools/gate"`): each file the change changes whose path ends so is read as one the gate runs
  const computedBy = new Map<string, { pattern: string; via: string }>();
  if (changed !== undefined) {
    const patterns = new Map<string, string>();
    for (const graph of [baseGraph, headGraph]) {
      for (const node of graph.values()) {
        if (node.install === true || node.text === undefined || !isShellText(node.path, node.script)) continue;
        for (const p of computedPathsOf(node.scanned?.text ?? node.text)) if (!patterns.has(p)) patterns.set(p, node.via);
      }
    }
    if (patterns.size > 0) {
      const matchers = [...patterns].map(([pattern, via]) => ({ pattern, via, re: computedPathPattern(pattern) }));
      for (const path of await changed()) {
        const m = matchers.find((x) => x.re.test(path));
        if (m !== undefined && !baseGraph.has(path) && !headGraph.has(path)) computedBy.set(path, { pattern: m.pattern, via: m.via });
      }
      if (computedBy.size > 0) {
        const extra = [...computedBy.keys()];
        [baseGraph, headGraph] = await Promise.all([readGateGraph([...base.roots, ...extra], base.read, MAX_GATE_FILES, base.variables), readGateGraph([...head.roots, ...extra], head.read, MAX_GATE_FILES, head.variables)]);
      }
    }
  }
  const oneSide = gateIdsOnOneSide(baseGraph, headGraph);
  const [onBase, onHead] = await Promise.all([readGateIds(oneSide.base, base.read), readGateIds(oneSide.head, head.read)]);
  return gateFileChanges(baseGraph, headGraph, { base: onBase, head: onHead }).map((c) => {
    const by = c.script === undefined && c.install === undefined ? computedBy.get(c.path) : undefined;
    return by === undefined ? c : { ...c, computed: by.pattern, ...(c.via === undefined ? { via: by.via } : {}) };
  });
}

/** Where lint-staged reads its configuration (besides package.json's "lint-staged"), at the top. */
const LINT_STAGED_FILES = [".lintstagedrc", ".lintstagedrc.json", ".lintstagedrc.yaml", ".lintstagedrc.yml", ".lintstagedrc.mjs", ".lintstagedrc.cjs", ".lintstagedrc.js", ".lintstagedrc.mts", ".lintstagedrc.cts", ".lintstagedrc.ts", "lint-staged.config.js", "lint-staged.config.mjs", "lint-staged.config.cjs", "lint-staged.config.ts", "lint-staged.config.mts", "lint-staged.config.cts"];

/**
 * The repository files that the git hook managers' files run, changed between two sides: each
 * side's hook files (`hooks`: the paths of {@link isHookManagerFile} on that side, from the top) are
 * read, what either side's names ({@link gateReferencesOf}: a script's path, an interpreter's file,
 * an `npm run` script, a Makefile; {@link hookCommandPathsOf}: a command word holding a `/`) is
 * read on both sides and followed as the gate's files are ({@link readGateGraph}), and each file
 * (or package.json script) whose text differs is returned with `via`, the hook manager's file that
 * names what reaches it; a hook that runs lint-staged also has lint-staged's configuration read
 * (its files at the top, and package.json's "lint-staged", a `field` change), also when it runs it
 * through a script it reaches (`npm run precommit`, `"precommit": "lint-staged"`). What follows a
 * static `cd DIR` is read from DIR too; a file whose text a hook runs as a command
 * ({@link commandFilesOf}) is followed; for a path computed at run time ({@link computedPathsOf}),
 * each file `changed` lists (the files the change changes, from the top; read only then) whose path
 * ends as that path's literal rest is taken as run (`computed`). The hook files themselves are not among them (their own change is
 * `editorSettingsChanges`'); nor is a folder's dependencies unless what reaches it runs
 * `stellar-secrets`, as for the gate. A hook runs in the member's clone, with their age key in
 * reach: a change to what it runs is a change to the hook.
 */
export async function readHookScriptChanges(
  base: { hooks: readonly string[]; read: GateReader },
  head: { hooks: readonly string[]; read: GateReader },
  changed?: () => Promise<readonly string[]>,
  hooksDirs: readonly string[] = [],
): Promise<GateFileChange[]> {
  // a hook script of a folder git's core.hooksPath names (git runs `DIR/pre-commit` itself)
  const isDirHook = (p: string): boolean => hooksDirs.some((d) => p.startsWith(`${d}/`) && !p.slice(d.length + 1).includes("/"));
  const isHook = (p: string): boolean => isHookManagerFile(p) || isDirHook(p);
  const namedBy = new Map<string, string>();
  // (shell: read as shell commands, where a computed path is one; not a JavaScript or Python file's text)
  const reached: { text: string; hook: string; shell?: boolean }[] = [];
  // the variables a hook assigns a literal (itself, or a file it sources): what it runs is run with them
  const variables = new Map<string, Map<string, string[]>>();
  for (const side of [base, head]) {
    const hooks = [...new Set(side.hooks)].filter(isHook).sort();
    if (hooks.length === 0) continue;
    const raw = (await side.read(hooks)).map(gateTextOf);
    const sourced = hooks.map((hook, i) => (raw[i] === undefined ? [] : sourcedFilesOf(raw[i] as string, hook)));
    const sourcedPaths = [...new Set(sourced.flat())];
    const sourcedTexts = new Map<string, string | undefined>();
    if (sourcedPaths.length > 0) (await side.read(sourcedPaths)).forEach((t, i) => sourcedTexts.set(sourcedPaths[i] as string, gateTextOf(t)));
    hooks.forEach((hook, i) => {
      if (raw[i] === undefined) return;
      let vars = new Map<string, string[]>();
      for (const src of sourced[i] ?? []) {
        const t = sourcedTexts.get(src);
        if (t !== undefined) vars = literalVariablesOf(t, src, vars);
      }
      vars = literalVariablesOf(raw[i] as string, hook, vars);
      const text = withLiteralVariables(raw[i] as string, vars);
      reached.push({ text, hook });
      // (what a hook runs after `cd DIR`, or in a lefthook command's `root:`, is read from there too)
      const inFolders = hookFoldersOf(hook, text).flatMap((dir) => gateReferencesOf(text, `${dir}/\u0000hook`));
      for (const ref of [...gateReferencesOf(text, hook), ...inFolders, ...hookCommandPathsOf(hook, text)]) {
        if (!isHook(ref.replace(/#.*$/, "")) && !namedBy.has(ref)) namedBy.set(ref, hook);
        if (vars.size > 0) {
          const into = variables.get(ref) ?? new Map<string, string[]>();
          for (const [k, v] of vars) into.set(k, [...new Set([...(into.get(k) ?? []), ...v])]);
          variables.set(ref, into);
        }
      }
    });
  }
  // what the hooks reach on each side: lint-staged run through a script (`"precommit": "lint-staged"`), a path computed at run time
  const first = [...namedBy.keys()];
  if (first.length > 0) {
    const graphs = await Promise.all([readGateGraph(first, base.read, MAX_GATE_FILES, variables), readGateGraph(first, head.read, MAX_GATE_FILES, variables)]);
    for (const graph of graphs) {
      for (const node of graph.values()) {
        const hook = namedBy.get(node.via);
        if (node.install !== true && node.text !== undefined && hook !== undefined) reached.push({ text: node.scanned?.text ?? node.text, hook, shell: isShellText(node.path, node.script) });
      }
    }
  }
  const lintStaged = reached.find((r) => /\blint-staged\b/.test(r.text))?.hook;
  // a command read from a file of the repository (`"$(cat tools/hook-cmd)"`, `eval "$(< x)"`): that file decides what runs
  for (const r of reached) for (const f of commandFilesOf(r.text)) if (!isHookManagerFile(f) && !namedBy.has(f)) namedBy.set(f, r.hook);
  // a path computed at run time: every file the change changes whose path ends as that path does is taken to be it
  const computedBy = new Map<string, string>();
  const patterns = new Map<string, string>();
  for (const r of reached) if (r.shell !== false) for (const p of computedPathsOf(r.text)) if (!patterns.has(p)) patterns.set(p, r.hook);
  if (patterns.size > 0 && changed !== undefined) {
    const matchers = [...patterns].map(([p, hook]) => ({ p, hook, re: computedPathPattern(p) }));
    for (const path of await changed()) {
      const m = matchers.find((x) => x.re.test(path));
      if (m === undefined || isHookManagerFile(path) || namedBy.has(path)) continue;
      namedBy.set(path, m.hook);
      computedBy.set(path, m.p);
    }
  }
  const fieldChanges: GateFileChange[] = [];
  if (lintStaged !== undefined) {
    // lint-staged runs the commands of its own configuration: its files at the top, and package.json's "lint-staged"
    for (const f of LINT_STAGED_FILES) if (!namedBy.has(f)) namedBy.set(f, lintStaged);
    const [b, h] = await Promise.all([base.read(["package.json"]), head.read(["package.json"])]);
    const field = (read: string | GateBlob | undefined): string | undefined => {
      const text = typeof read === "string" ? read : read?.text;
      if (text === undefined) return read === undefined ? undefined : gateTextOf(read);
      try {
        const parsed = JSON.parse(text) as Record<string, unknown>;
        return typeof parsed === "object" && parsed !== null && Object.hasOwn(parsed, "lint-staged") ? JSON.stringify(parsed["lint-staged"]) : undefined;
      } catch {
        return /lint-staged/.test(text) ? text : undefined;
      }
    };
    const [before, after] = [field(b[0]), field(h[0])];
    if (before !== after) fieldChanges.push({ path: "package.json", field: "lint-staged", before, after, via: lintStaged });
  }
  // the hook scripts of a core.hooksPath folder themselves (no hook manager's file lists them): each changed one, `via` itself
  const dirHooks = [...new Set([...base.hooks, ...head.hooks])].filter((p) => isDirHook(p) && !isHookManagerFile(p)).sort();
  if (dirHooks.length > 0) {
    const [b, h] = await Promise.all([base.read(dirHooks), head.read(dirHooks)]);
    dirHooks.forEach((p, i) => {
      const [before, after] = [gateTextOf(b[i]), gateTextOf(h[i])];
      if (before !== after) fieldChanges.push({ path: p, before, after, via: p });
    });
  }
  const roots = [...namedBy.keys()];
  if (roots.length === 0) return fieldChanges;
  const changes = await readGateChanges({ roots, read: base.read, variables }, { roots, read: head.read, variables });
  return [...fieldChanges, ...changes.filter((c) => !isDirHook(c.path))]
    .filter((c) => !isHookManagerFile(c.path))
    .map((c) => {
      const id = c.install !== undefined ? `${c.path}${INSTALL_ID}` : c.script === undefined ? c.path : `${c.path}#scripts.${c.script}`;
      const hook = namedBy.get(c.via ?? id) ?? namedBy.get(id) ?? namedBy.get(c.path);
      const computed = c.script === undefined && c.install === undefined && c.field === undefined ? computedBy.get(c.path) : undefined;
      return { ...c, ...(hook === undefined ? {} : { via: hook }), ...(computed === undefined ? {} : { computed }) };
    });
}

/**
 * A path computed at run time: a variable, `${...}`, `$(...)` or backquotes, then `/` and a literal rest
 * (`"$(dirname "$0")/lib/check"`, `$ROOT/tools/x.sh`): the rest is what can be known of it.
 */
const COMPUTED_PATH = /(?:\$\{[^}\s]*\}|\$\((?:[^()\n]|\([^()\n]*\))*\)|\$[\w@*#?!-]+|`[^`\n]*`)["']?\/((?:[\w.@+*?-]+\/)*[\w.@+*?-]*[\w@+*?-])/g;
/** A path with `*` or `?` where a command starts, or in a `for VAR in` list, or the folder `run-parts` runs every file of. */
const GLOB_COMMAND = /(?:^|[;&|(]|\bdo\b|\bthen\b|\belse\b|\bin\b)[ \t]*["']?((?:\.{1,2}\/)?(?:[\w.@+*?-]+\/)+[\w.@+*?-]*[*?][\w.@+*?-]*)(?=$|[\s;&|)"'`])/gm;
const RUN_PARTS = /\brun-parts\b(?:[ \t]+-{1,2}[\w-]+(?:=\S*)?)*[ \t]+["']?((?:\.{1,2}\/)?[\w.@+-]+(?:\/[\w.@+-]+)*)\/?/g;
/** `cd` to a folder computed at run time (`cd "$(dirname "$0")"`, `cd $DIR`, `cd "${0%/*}"`). */
const COMPUTED_CD = /(?:^|[\s;&|(`])(?:cd|pushd)[ \t]+(?:--[ \t]+)?["']?[$`]/m;
/** A command word holding a `/` (`./x`, `lib/check`) where a command starts. */
const COMMAND_PATH = /(?:^|[;&|(]|\bdo\b|\bthen\b|\belse\b)[ \t]*["']?((?:\.{1,2}\/)*(?:[\w.@+-]+\/)*[\w.@+-]+)(?=$|[\s;&|)"'`])/gm;

/**
 * The paths a hook's text (or a file it runs) runs that are computed at run time and so cannot
 * be read at a side: what can be known of each, as a pattern of the end of a path — the literal
 * rest after a variable or command substitution (`$(dirname "$0")/x.sh` → `x.sh`), a glob where a
 * command starts or in a `for` list (`tools/hooks.d/*`), the folder `run-parts` runs (`DIR/*`),
 * and each command path after a `cd` to a computed folder (`cd "$(dirname "$0")" && ./x` → `x`).
 * `readHookScriptChanges` takes every file the change changes whose path ends so as run by the
 * hook. A command wholly computed (`$CMD`, `eval "$x"`) gives no pattern. Pure.
 */
export function computedPathsOf(raw: string): string[] {
  const out = new Set<string>();
  // comments are no commands (a line starting with #, and # after a space to the line's end)
  const text = raw
    .split("\n")
    .filter((line) => !/^[ \t]*#/.test(line))
    .map((line) => line.replace(/[ \t]#.*$/, ""))
    .join("\n");
  const tail = (p: string): string => p.replace(/^(?:\.{1,2}\/)+/, "");
  for (const m of text.matchAll(COMPUTED_PATH)) out.add(tail(m[1] as string));
  for (const m of text.matchAll(GLOB_COMMAND)) out.add(tail(m[1] as string));
  for (const m of text.matchAll(RUN_PARTS)) if (!/^-/.test(m[1] as string)) out.add(`${tail(m[1] as string)}/*`);
  const cd = COMPUTED_CD.exec(text);
  if (cd !== null) {
    for (const m of text.slice(cd.index).matchAll(COMMAND_PATH)) {
      const p = tail(m[1] as string);
      if ((m[1] as string).includes("/") && p !== "") out.add(p);
    }
  }
  // a pattern with no name written out (`**`, `*.ts`) would take any changed file: none
  return [...out].filter((p) => p.split("/").some((part) => /\w/.test(part) && !/[*?]/.test(part)));
}

/**
 * Whether a node's text is read as shell commands (a workflow or action, a package.json script, a
 * Makefile or justfile, a hook manager's file, a script with a shell extension or none), where
 * {@link computedPathsOf} applies; not a program in another language (`${dir}/x` in JavaScript
 * is a template string, not a command).
 */
export function isShellText(path: string, script?: string): boolean {
  if (script !== undefined) return true;
  const name = path.slice(path.lastIndexOf("/") + 1);
  return /\.(?:ya?ml|sh|bash|zsh|ksh|dash|mk|toml|jsonc?)$/.test(name) || /^(?:GNUmakefile|makefile|Makefile|justfile|Justfile|\.justfile)$/.test(name) || !/\.[A-Za-z0-9]+$/.test(name);
}

/** A package manager's command (`npm run`, `npx`, `yarn`, `pnpm`, `bun`): it reads {@link PACKAGE_MANAGER_SETTINGS}. */
const PACKAGE_MANAGER = /(?:^|[\s;&|(`"'])(?:npm|npx|pnpm|pnpx|yarn|bun|bunx)(?=$|[\s;&|)`"'])/m;
/**
 * The files of a folder a package manager reads as its settings when run there, each able to run a
 * program of the repository as that command: npm's `.npmrc` (`script-shell`, `node-options`
 * `--require`, also pnpm's), yarn's `.yarnrc.yml` (`yarnPath`: the file run as yarn itself) and
 * `.yarnrc`, pnpm's `.pnpmfile.cjs` (run at install), bun's `bunfig.toml` (`preload`). Read at the
 * top and in the folder of a package.json script that runs one.
 */
export const PACKAGE_MANAGER_SETTINGS: readonly string[] = [".npmrc", ".yarnrc.yml", ".yarnrc", ".pnpmfile.cjs", "bunfig.toml"];

/** Whether a node id is one of {@link PACKAGE_MANAGER_SETTINGS} (in any folder). */
export function isPackageManagerSettings(id: string): boolean {
  return PACKAGE_MANAGER_SETTINGS.includes(id.slice(id.lastIndexOf("/") + 1));
}

/** A command substitution that reads a file (`$(cat X)`, `$(< X)`, `` `cat X` ``) where a command starts, or given to `eval` or `sh -c`. */
const COMMAND_FROM_FILE = /(?:^|[;&|(]|\bdo\b|\bthen\b|\belse\b|\beval\b|\b(?:ba|z|da|k)?sh[ \t]+-c\b)[ \t]*["']?(?:\$\([ \t]*(?:cat[ \t]+(?:--[ \t]+)?|<[ \t]*)|`[ \t]*cat[ \t]+)["']?((?:\.\/)?[\w@+.-][\w.@+/-]*)["']?[ \t]*[)`]/gm;

/**
 * The files of the repository whose text a hook's text (or a file it runs) runs as a command:
 * `"$(cat tools/hook-cmd)" "$@"`, `eval "$(< .hookrc)"`, `sh -c "$(cat x)"`; from the top (git runs
 * hooks there), never outside it. Pure.
 */
export function commandFilesOf(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(COMMAND_FROM_FILE)) {
    const p = underTop("", m[1] as string);
    if (p !== undefined) out.add(p);
  }
  return [...out];
}

/** The test of {@link computedPathsOf}'s pattern against a path from the top: the path ends with it (`*`, `?` within a name, `**` across folders). */
export function computedPathPattern(pattern: string): RegExp {
  const re = pattern
    .split("**")
    .map((part) => part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]"))
    .join(".*");
  return new RegExp(`(?:^|/)${re}$`);
}

/** Shell variables assigned a literal value: name → each value written for it (in order, each once). */
export type LiteralVariables = ReadonlyMap<string, readonly string[]>;

/**
 * `NAME=value` (also after `export`, `readonly`, `local`, `declare -x`) where the value is written out:
 * a word, a quoted string with no expansion in it, or a command file read (`$(cat X)`, `$(< X)`).
 */
const ASSIGNMENT = /(?:^|[\s;&|(])(?:(?:export|readonly|local|declare(?:[ \t]+-\w+)*)[ \t]+)?([A-Za-z_]\w*)=(?:"((?:[^"\\$`]|\\[^$`])*)"|'([^']*)'|(\$\([ \t]*(?:cat[ \t]+(?:--[ \t]+)?|<[ \t]*)["']?[\w@+./-]+["']?[ \t]*\))|([^\s;&|()<>"'$`\\#]+))(?=$|[\s;&|)])/gm;
/** A workflow's or action's `env:` entry (`GATE: tools/gate`): a variable of every step below it. */
const YAML_VARIABLE = /^[ \t]+["']?([A-Za-z_]\w*)["']?[ \t]*:[ \t]*(?:"([^"\\$]*)"|'([^'$]*)'|([^\s"'#$|>&*!{[][^\s#$]*))[ \t]*(?:#.*)?$/gm;
/** A use of a variable: `$NAME`, `${NAME}`. */
const VARIABLE_USE = /\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))/g;
/** At most this many lines are added by {@link withLiteralVariables} for one line of the text. */
const MAX_EXPANSIONS_PER_LINE = 16;

/**
 * The variables a shell text (or a workflow's `env:`, for a `.yml`/`.yaml` path) assigns a literal
 * value, added to `inherited` (a caller's, or a sourcing file's). Comments are skipped. Pure.
 */
export function literalVariablesOf(text: string, path: string, inherited?: LiteralVariables): Map<string, string[]> {
  const out = new Map<string, string[]>([...(inherited ?? new Map<string, readonly string[]>())].map(([k, v]) => [k, [...v]]));
  const add = (name: string, value: string): void => {
    const values = out.get(name) ?? [];
    if (!values.includes(value) && values.length < MAX_EXPANSIONS_PER_LINE) values.push(value);
    out.set(name, values);
  };
  const code = text
    .split("\n")
    .filter((line) => !/^[ \t]*#/.test(line))
    .join("\n");
  for (const m of code.matchAll(ASSIGNMENT)) add(m[1] as string, (m[2] ?? m[3] ?? m[4] ?? m[5] ?? "").replace(/\\(.)/g, "$1"));
  if (/\.ya?ml$/.test(path)) for (const m of code.matchAll(YAML_VARIABLE)) add(m[1] as string, m[2] ?? m[3] ?? m[4] ?? "");
  for (const [k, v] of out) if (v.every((x) => x === "")) out.delete(k);
  return out;
}

/**
 * A shell text with, after it, each of its lines that uses a variable of `vars` written again with
 * the variable's literal value in its place (one line per value; a line using several, each
 * replaced): `CMD=tools/gate` then `$CMD` adds the line `tools/gate`, which the readers of a
 * command (a path, `eval "…"`, `sh -c "…"`) then follow. The text itself comes first, unchanged. Pure.
 */
export function withLiteralVariables(text: string, vars: LiteralVariables): string {
  if (vars.size === 0 || !text.includes("$")) return text;
  const added: string[] = [];
  for (const line of text.split("\n")) {
    if (/^[ \t]*#/.test(line) || !line.includes("$")) continue;
    let lines = [line];
    for (const m of line.matchAll(VARIABLE_USE)) {
      const values = vars.get(m[1] ?? m[2] ?? "");
      if (values === undefined) continue;
      const use = new RegExp(`\\$(?:\\{${m[1] ?? m[2]}\\}|${m[1] ?? m[2]}(?!\\w))`, "g");
      lines = lines.flatMap((l) => values.map((v) => l.replace(use, () => v))).slice(0, MAX_EXPANSIONS_PER_LINE);
    }
    for (const l of lines) if (l !== line && !added.includes(l)) added.push(l);
  }
  return added.length === 0 ? text : `${text}\n${added.join("\n")}`;
}

/** What a command may start with before the program it runs (`exec`, `command`, `env X=1`, `eval`, `sh -c`, `then`, `do`, `time`, `nohup`, `!`). */
const COMMAND_PREFIX = /^[ \t]*(?:(?:exec|command|builtin|eval|then|do|else|time|nohup|!|env(?:[ \t]+-\S+)*(?:[ \t]+\w+=\S*)*|(?:ba|z|da|k)?sh[ \t]+(?:-[a-z]+[ \t]+)*-c)[ \t]+|["'])/;
/** A path word holding a `/` (`tools/gate`, `./x`), at the start of a command. */
const COMMAND_WORD = /^((?:\.{1,2}\/)*(?:[\w.@+-]+\/)+[\w.@+-]+)(?=$|[\s;&|)"'`])/;

/**
 * The command words holding a `/` of a shell text (`tools/gate --x`, `eval "tools/gate"`,
 * `sh -c 'ci/review'`, a workflow's `run: scripts/review`), where a command starts: a line (a YAML
 * `run:` value), after `;`, `&&`, `||`, `|`, `(`, `$(` or a backquote. Comments are skipped. Pure.
 */
export function commandWordsOf(text: string): string[] {
  const out = new Set<string>();
  for (const raw of text.split("\n")) {
    if (/^[ \t]*#/.test(raw)) continue;
    const line = raw.replace(/[ \t]#.*$/, "").replace(/^[ \t]*(?:-[ \t]+)?["']?run["']?[ \t]*:[ \t]*/, "");
    for (const part of line.split(/;|&&|\|\||\||\(|\$\(|`/)) {
      let bare = part;
      for (let i = 0; i < 4; i++) {
        const next = bare.replace(COMMAND_PREFIX, "");
        if (next === bare) break;
        bare = next;
      }
      const m = COMMAND_WORD.exec(bare.replace(/^[ \t]+/, ""));
      if (m?.[1] !== undefined && !m[1].startsWith("/")) out.add(m[1]);
    }
  }
  return [...out];
}

/** `git config [--local] core.hooksPath DIR` (or a config file's `hooksPath = DIR`) where DIR is written out. */
const HOOKS_PATH = /(?:core\.hooks[Pp]ath|^[ \t]*hooks[Pp]ath[ \t]*=)[ \t]+["']?([\w@+./-]+)/gm;

/**
 * The folders of the repository a text sets as git's `core.hooksPath` (`git config core.hooksPath
 * .githooks` in a setup script or a package.json `prepare`): git then runs `DIR/pre-commit` and the
 * like at each member's hook, from the working tree. Relative to the top; not an absolute or computed
 * one, not `.git/…`, not husky's own `.husky/_` (its hooks are read as husky's). Pure.
 */
export function hooksPathFoldersOf(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(HOOKS_PATH)) {
    const dir = underTop("", (m[1] as string).replace(/\/+$/, ""));
    if (dir !== undefined && !/^\.git(?:\/|$)/.test(dir) && !/(?:^|\/)\.husky(?:\/|$)/.test(dir)) out.add(dir);
  }
  return [...out];
}
