/**
 * The files a dev container's `devcontainer.json` names, followed: what VS Code's Dev Containers
 * (and the devcontainer CLI) run for a member who opens the repository in its container. Its
 * `initializeCommand` runs on the member's own machine; its other lifecycle commands
 * (`onCreateCommand` … `postAttachCommand`), its Dockerfile (`build.dockerfile`, `dockerFile`), its
 * Docker Compose files (`dockerComposeFile`, and each service's `build:` Dockerfile in them; their
 * `volumes:` decide what of the member's machine the container sees, `~/.ssh` or
 * `~/.config/sops` among them) and its local features (`"./my-feature"`: their
 * `devcontainer-feature.json` and `install.sh`, run as root at build) run in the container, which
 * Dev Containers opens with the member's SSH agent and git credentials. A pull request changing one
 * of these files, the `devcontainer.json` itself unchanged, changes what runs there:
 * {@link readDevContainerChanges} names each such file (and what it runs in turn, followed as the
 * CI gate's files are). Pure but for the reader the caller gives.
 */
import { posix } from "node:path";
import { withoutCommentsAndTrailingCommas } from "./editor-settings.js";
import { gateReferencesOf, gateTextOf, readGateChanges, type GateFileChange, type GateReader } from "./gate.js";

/** git pathspecs (from the top) of the dev container files VS Code reads. */
export const DEV_CONTAINER_PATHSPECS: readonly string[] = [":(top,glob)**/.devcontainer.json", ":(top,glob)**/.devcontainer/devcontainer.json", ":(top,glob)**/.devcontainer/*/devcontainer.json"];

/** Whether `path` (from the top) is a dev container file VS Code reads. */
export function isDevContainerPath(path: string): boolean {
  return /(?:^|\/)(?:\.devcontainer\.json|\.devcontainer\/(?:[^/]+\/)?devcontainer\.json)$/.test(path);
}

/** The lifecycle commands of a dev container file (`initializeCommand` on the host, the others in the container). */
const LIFECYCLE = ["initializeCommand", "onCreateCommand", "updateContentCommand", "postCreateCommand", "postStartCommand", "postAttachCommand"];

/** A path joined to a folder of the top and normalised (`""`: the top itself); undefined when it leaves the top or is computed. */
function under(dir: string, word: string): string | undefined {
  if (word === "" || word.startsWith("/") || /[$`*?\\]/.test(word)) return undefined;
  const p = posix.normalize(dir === "" ? word : `${dir}/${word}`);
  if (p === "." || p === "./") return "";
  return p === ".." || p.startsWith("../") ? undefined : p.replace(/\/+$/, "");
}

/** JSON with comments and trailing commas, parsed (as VS Code reads it); undefined when it is not. */
function parseJsonc(text: string): unknown {
  try {
    return JSON.parse(withoutCommentsAndTrailingCommas(text));
  } catch {
    return undefined;
  }
}

const obj = (v: unknown): Record<string, unknown> | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** What a dev container file names: files it runs or builds from, its compose files, its local features' folders. */
export interface DevContainerNamed {
  /** Files (from the top) run or read as a build's recipe: a command's scripts, the Dockerfile, a local feature's files. */
  files: string[];
  /** Its Docker Compose files (from the top). */
  compose: string[];
  /** Its local features' folders (from the top): every file in them is the feature's. */
  features: string[];
}

/**
 * The files a dev container file (`path` from the top; its text) names ({@link DevContainerNamed}):
 * the scripts its lifecycle commands run (a string read as shell, an array's program, each of an
 * object's parallel commands; from the file's folder and from the top), `build.dockerfile` /
 * `dockerFile` (from the file's folder, or `build.context`), `dockerComposeFile` (one or a list),
 * and each feature whose id is a path (`./name`: its folder, beside the file). Empty when no JSON. Pure.
 */
export function devContainerNamedFiles(path: string, text: string | undefined): DevContainerNamed {
  const out: DevContainerNamed = { files: [], compose: [], features: [] };
  const file = text === undefined ? undefined : obj(parseJsonc(text));
  if (file === undefined) return out;
  const dir = posix.dirname(path) === "." ? "" : posix.dirname(path);
  const add = (list: string[], p: string | undefined): void => {
    if (p !== undefined && p !== "" && !list.includes(p)) list.push(p);
  };
  const commands: string[] = [];
  const command = (v: unknown): void => {
    if (typeof v === "string") commands.push(v);
    else if (Array.isArray(v)) {
      if (typeof v[0] === "string") commands.push(v[0].includes(" ") ? JSON.stringify(v[0]) : v[0]);
      // (`["bash", "x.sh"]`, `["sh", "-c", "…"]`: the words after the program too)
      commands.push(v.filter((x): x is string => typeof x === "string").join(" "));
    } else for (const c of Object.values(obj(v) ?? {})) command(c);
  };
  for (const k of LIFECYCLE) command(file[k]);
  for (const ref of gateReferencesOf(commands.join("\n"), path)) if (!ref.includes("#")) add(out.files, ref);
  const build = obj(file["build"]);
  const dockerfile = str(build?.["dockerfile"]) ?? str(build?.["dockerFile"]) ?? str(file["dockerFile"]) ?? str(file["dockerfile"]);
  if (dockerfile !== undefined) add(out.files, under(dir, dockerfile));
  const compose = file["dockerComposeFile"];
  for (const c of Array.isArray(compose) ? compose : [compose]) if (typeof c === "string") add(out.compose, under(dir, c));
  for (const id of Object.keys(obj(file["features"]) ?? {})) if (/^\.{1,2}\//.test(id)) add(out.features, under(dir, id));
  return out;
}

/**
 * The Dockerfiles a Docker Compose file (`path` from the top; its text) builds from: each
 * service's `build: DIR` (its `Dockerfile`) or `build:` with `context:` and `dockerfile:`, relative
 * to the compose file's folder; read line by line (the YAML is not evaluated). Pure.
 */
export function composeDockerfilesOf(path: string, text: string): string[] {
  const dir = posix.dirname(path) === "." ? "" : posix.dirname(path);
  const out: string[] = [];
  const lines = text.split(/\r?\n/);
  const unquote = (s: string): string => s.trim().replace(/\s+#.*$/, "").replace(/^["']|["']$/g, "");
  for (let i = 0; i < lines.length; i++) {
    const m = /^([ \t]*)build[ \t]*:[ \t]*(.*)$/.exec(lines[i] as string);
    if (m === null) continue;
    const indent = (m[1] as string).length;
    const value = unquote(m[2] as string);
    let context = value === "" || value.startsWith("{") ? "." : value;
    let dockerfile = "Dockerfile";
    const inline = /\{(.*)\}/.exec(value);
    if (inline !== null) {
      for (const part of (inline[1] as string).split(",")) {
        const kv = /^\s*(context|dockerfile)\s*:\s*(.+)$/.exec(part);
        if (kv !== null) kv[1] === "context" ? (context = unquote(kv[2] as string)) : (dockerfile = unquote(kv[2] as string));
      }
    } else if (value === "") {
      for (let j = i + 1; j < lines.length; j++) {
        const line = lines[j] as string;
        if (line.trim() === "" || /^[ \t]*#/.test(line)) continue;
        if ((/^[ \t]*/.exec(line)?.[0].length ?? 0) <= indent) break;
        const kv = /^[ \t]*(context|dockerfile)[ \t]*:[ \t]*(.+)$/.exec(line);
        if (kv !== null) kv[1] === "context" ? (context = unquote(kv[2] as string)) : (dockerfile = unquote(kv[2] as string));
      }
    }
    if (/^[\w.-]+:\/\//.test(context) || context.startsWith("git@")) continue;
    const ctx = under(dir, context);
    const p = ctx === undefined ? undefined : under(ctx, dockerfile);
    if (p !== undefined && !out.includes(p)) out.push(p);
  }
  return out;
}

/**
 * The files dev container files name ({@link devContainerNamedFiles}; a compose file's
 * Dockerfiles, {@link composeDockerfilesOf}; every changed file in a local feature's folder) that
 * differ between two sides, the dev container files themselves left out (their own change is
 * `editorSettingsChanges`'), each with `via`, the dev container file naming it; what a named
 * script runs is followed as the CI gate's files are. `files`: each side's dev container files
 * (from the top); `changed`: the files the change changes (from the top), for the features'
 * folders and paths computed at run time. A folder's dependencies count only when they reach
 * `stellar-secrets`, as for hooks.
 */
export async function readDevContainerChanges(
  base: { files: readonly string[]; read: GateReader },
  head: { files: readonly string[]; read: GateReader },
  changed: () => Promise<readonly string[]>,
): Promise<GateFileChange[]> {
  const namedBy = new Map<string, string>();
  const folders = new Map<string, string>();
  for (const side of [base, head]) {
    const files = [...new Set(side.files)].filter(isDevContainerPath).sort();
    if (files.length === 0) continue;
    const texts = (await side.read(files)).map(gateTextOf);
    const compose: { path: string; via: string }[] = [];
    files.forEach((f, i) => {
      const named = devContainerNamedFiles(f, texts[i]);
      for (const p of [...named.files, ...named.compose]) if (!namedBy.has(p)) namedBy.set(p, f);
      for (const c of named.compose) compose.push({ path: c, via: f });
      for (const d of named.features) {
        if (!folders.has(d)) folders.set(d, f);
        for (const n of ["devcontainer-feature.json", "install.sh"]) if (!namedBy.has(`${d}/${n}`)) namedBy.set(`${d}/${n}`, f);
      }
    });
    if (compose.length > 0) {
      const read = (await side.read(compose.map((c) => c.path))).map(gateTextOf);
      compose.forEach((c, i) => {
        for (const d of composeDockerfilesOf(c.path, read[i] ?? "")) if (!namedBy.has(d)) namedBy.set(d, c.via);
      });
    }
  }
  if (namedBy.size === 0 && folders.size === 0) return [];
  if (folders.size > 0) {
    for (const p of await changed()) {
      const folder = [...folders.keys()].find((d) => p.startsWith(`${d}/`));
      if (folder !== undefined && !isDevContainerPath(p) && !namedBy.has(p)) namedBy.set(p, folders.get(folder) as string);
    }
  }
  for (const p of [...namedBy.keys()]) if (isDevContainerPath(p)) namedBy.delete(p);
  const roots = [...namedBy.keys()];
  const changes = await readGateChanges({ roots, read: base.read }, { roots, read: head.read }, changed);
  return changes
    .filter((c) => !isDevContainerPath(c.path))
    .map((c) => {
      const via = namedBy.get(c.via ?? "") ?? namedBy.get(c.path) ?? [...namedBy.values()][0];
      return { ...c, ...(via === undefined ? {} : { via }) };
    });
}
