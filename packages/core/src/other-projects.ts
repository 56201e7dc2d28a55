/**
 * The names of the other projects of a monorepo, for messages only: a reference to a secret that
 * only another project's environment files have, or to an object only another project defines,
 * says so (that project's folder has a stellar.yaml of its own, so its secrets and objects are not
 * this project's) instead of a "did you mean" some unrelated name of this project. Never part of
 * a load: the loader hands the index a reader ({@link readOtherProjects}) that runs at most once,
 * when such a message is first built, and reads a bounded number of files.
 */
import { dirname, join, relative, sep } from "node:path";
import { environmentOfFileName } from "@stellar-secrets/sops";
import { definitionsIn } from "./excluded.js";
import { GlobFilter } from "./globs.js";
import { findProjectRoot, parseProjectConfig, PROJECT_FILE, type ProjectConfig } from "./project.js";
import type { ConfigKind } from "./schemas.js";
import type { WorkspaceFs } from "./workspace-fs.js";

/** An object that another project defines. */
export interface OtherProjectDefinition {
  kind: ConfigKind;
  name: string;
  /** The file, relative to this project's root (`/` separators; `../` for an enclosing project's). */
  path: string;
  /** 1-based line of its `name:`. */
  line: number;
}

/** Another project of the repository: a folder below this one with its own stellar.yaml, or the project around this one. */
export interface OtherProject {
  /** Its folder relative to this project's root (`projects/voice`, `..`). */
  path: string;
  /** True for the project whose folder holds this one. */
  enclosing: boolean;
  /** The secret names its environment files have (top-level keys, read without a key). */
  secrets: ReadonlySet<string>;
  /** The objects its config files define (top-level `kind:` and `name:` lines). */
  definitions: readonly OtherProjectDefinition[];
}

/** Directory entries {@link readOtherProjects} lists at most, over every project it walks. */
export const OTHER_PROJECTS_MAX_ENTRIES = 20_000;
/** Files it reads at most (environment files and config files together). */
export const OTHER_PROJECTS_MAX_FILES = 500;
/** Largest file it reads, in bytes. */
export const OTHER_PROJECTS_MAX_BYTES = 256 * 1024;

const TOP_LEVEL_KEY = /^(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)'|([^\s#"'{}[\],&*!|>%@`-][^:#]*?))[ \t]*:(?:[ \t]|$)/;

/** The top-level names of an environment file's text (the `sops` metadata key left out); no parse, no key. */
export function environmentFileNames(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    const m = TOP_LEVEL_KEY.exec(line);
    if (m === null) continue;
    const name = m[1] ?? (m[2] !== undefined ? m[2].replace(/''/g, "'") : m[3]);
    if (name !== undefined && name !== "sops") out.push(name);
  }
  return out;
}

const toSlash = (p: string): string => (sep === "/" ? p : p.split(sep).join("/"));

/**
 * Reads the other projects around `project`: each folder below its root with a stellar.yaml of its
 * own (at any depth; not below `.git`, `node_modules` or the secrets folder), and the project whose
 * folder holds this one (found upwards). For each: the names in its environment files and the
 * objects its config files (its own `config.include`/`config.exclude`) define. Bounded:
 * {@link OTHER_PROJECTS_MAX_ENTRIES} directory entries, {@link OTHER_PROJECTS_MAX_FILES} files of
 * at most {@link OTHER_PROJECTS_MAX_BYTES}. Symbolic links are not followed. Never throws.
 */
export function readOtherProjects(fs: WorkspaceFs, project: ProjectConfig): OtherProject[] {
  const budget = { entries: 0, files: 0 };
  const out: OtherProject[] = [];
  const readSmall = (abs: string): string | undefined => {
    if (budget.files >= OTHER_PROJECTS_MAX_FILES) return undefined;
    budget.files++;
    try {
      if (fs.stat(abs).size > OTHER_PROJECTS_MAX_BYTES) return undefined;
      return fs.readFile(abs);
    } catch {
      return undefined;
    }
  };
  const list = (abs: string) => {
    try {
      return fs.readdir(abs).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch {
      return [];
    }
  };
  /** Reads the project at `root`; `skip`: a folder (absolute) not to enter (the asking project, for the enclosing one). */
  const readProject = (root: string, enclosing: boolean, skip?: string): OtherProject | undefined => {
    const text = readSmall(join(root, PROJECT_FILE));
    if (text === undefined) return undefined;
    const config = parseProjectConfig(text, join(root, PROJECT_FILE)).config;
    if (config === undefined) return undefined;
    const secretsRel = config.secretsDir.replace(/\/+$/, "");
    const secrets = new Set<string>();
    for (const e of list(join(root, secretsRel))) {
      if (!e.isFile() || environmentOfFileName(e.name) === undefined) continue;
      const t = readSmall(join(root, secretsRel, e.name));
      if (t !== undefined) for (const n of environmentFileNames(t)) secrets.add(n);
    }
    const filter = new GlobFilter(config.include, config.exclude);
    const definitions: OtherProjectDefinition[] = [];
    const walk = (absDir: string, relDir: string): void => {
      const entries = list(absDir);
      if (relDir !== "" && entries.some((e) => e.name === PROJECT_FILE && !e.isDirectory())) return; // a project of its own
      for (const entry of entries) {
        if (++budget.entries > OTHER_PROJECTS_MAX_ENTRIES) return;
        const rel = relDir === "" ? entry.name : `${relDir}/${entry.name}`;
        const abs = join(absDir, entry.name);
        if (entry.isDirectory()) {
          if (entry.name === ".git" || entry.name === "node_modules" || rel === secretsRel || abs === skip) continue;
          walk(abs, rel);
          continue;
        }
        if (!entry.isFile() || !filter.matches(rel) || !/\.ya?ml$/i.test(entry.name)) continue;
        const t = readSmall(abs);
        if (t === undefined) continue;
        const at = toSlash(relative(project.root, abs));
        for (const d of definitionsIn(t, at, "")) definitions.push({ kind: d.kind, name: d.name, path: d.path, line: d.line });
      }
    };
    walk(root, "");
    return { path: toSlash(relative(project.root, root)) || ".", enclosing, secrets, definitions };
  };

  // the projects below this one (their own nested ones are found by the walk too)
  const secretsRel = project.secretsDir.replace(/\/+$/, "");
  const find = (absDir: string, relDir: string): void => {
    const entries = list(absDir);
    if (relDir !== "" && entries.some((e) => e.name === PROJECT_FILE && !e.isDirectory())) {
      const p = readProject(absDir, false);
      if (p !== undefined) out.push(p);
    }
    for (const entry of entries) {
      if (++budget.entries > OTHER_PROJECTS_MAX_ENTRIES) return;
      if (!entry.isDirectory()) continue;
      const rel = relDir === "" ? entry.name : `${relDir}/${entry.name}`;
      if (entry.name === ".git" || entry.name === "node_modules" || rel === secretsRel) continue;
      find(join(absDir, entry.name), rel);
    }
  };
  find(project.root, "");
  const parent = dirname(project.root);
  const outer = parent === project.root ? undefined : findProjectRoot(parent, fs);
  if (outer !== undefined) {
    const p = readProject(outer, true, project.root);
    if (p !== undefined) out.push(p);
  }
  return out;
}
