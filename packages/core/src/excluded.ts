/**
 * The objects defined in files that stellar.yaml's `config.exclude` keeps out of the project, for
 * one message only: an `unknown-reference` to a name that such a file defines says so (and which
 * glob excludes it) instead of only "there is none by that name". Never part of a load: the
 * loader hands the index a reader ({@link readExcludedDefinitions}) that runs at most once, when
 * such a message is first built, and reads a bounded number of files (again only when an editor
 * reports that an excluded file changed: `WorkspaceIndex.excludedFilesChanged`).
 */
import { join } from "node:path";
import { GlobFilter } from "./globs.js";
import { DEFAULT_EXCLUDE, DEFAULT_INCLUDE, PROJECT_FILE, type ProjectConfig } from "./project.js";
import { CONFIG_KINDS, type ConfigKind } from "./schemas.js";
import type { WorkspaceFs } from "./workspace-fs.js";

/** An object defined in an excluded file. */
export interface ExcludedDefinition {
  kind: ConfigKind;
  name: string;
  /** The file, relative to the project root (`/` separators). */
  path: string;
  /** 1-based line of its `name:`. */
  line: number;
  /** The `config.exclude` glob that keeps the file out ("" when {@link notIncluded}). */
  glob: string;
  /** True when the file is out because no `config.include` glob matches it (a `.yml` file beside `*.yaml` globs). */
  notIncluded?: true;
}

/** A secret reference written in an excluded file (`secret: NAME`, found by its line: no parse). */
export interface ExcludedReference {
  /** The secret's name. */
  secret: string;
  /** The file, relative to the project root (`/` separators). */
  path: string;
  /** 1-based line of the reference. */
  line: number;
  /** The `config.exclude` glob that keeps the file out ("" when {@link notIncluded}). */
  glob: string;
  /** True when the file is out because no `config.include` glob matches it. */
  notIncluded?: true;
}

/** What {@link readExcludedFiles} finds in the files config.exclude keeps out. */
export interface ExcludedFiles {
  definitions: ExcludedDefinition[];
  references: ExcludedReference[];
}

/** Directory entries {@link readExcludedDefinitions} lists at most (a large repository is not walked whole for one message). */
export const EXCLUDED_SCAN_MAX_ENTRIES = 20_000;
/** Excluded files it reads at most. */
export const EXCLUDED_SCAN_MAX_FILES = 200;
/** Largest excluded file it reads, in bytes (larger ones are passed over). */
export const EXCLUDED_SCAN_MAX_BYTES = 256 * 1024;

/** A YAML file's name (the only files that can be config files). */
const YAML_FILE = /\.ya?ml$/i;

/**
 * True when `include` is not the default: a YAML file that none of its globs matches is then out
 * of the project, and a message names it as it names a file `config.exclude` keeps out.
 */
export function hasOwnInclude(include: readonly string[]): boolean {
  return include.length !== DEFAULT_INCLUDE.length || include.some((g, i) => g !== DEFAULT_INCLUDE[i]);
}

/**
 * True when `rel` (relative to the project root) is a YAML file that no include glob of `filter`
 * matches, other than the root's stellar.yaml and .sops.yaml (see {@link hasOwnInclude}).
 */
export function notIncludedYaml(filter: GlobFilter, rel: string): boolean {
  return YAML_FILE.test(rel) && rel !== PROJECT_FILE && rel !== ".sops.yaml" && !filter.includes(rel);
}

const KIND_LINE = /^kind:[ \t]*["']?([a-z_]+)["']?[ \t]*(?:#.*)?$/;
const NAME_LINE = /^name:[ \t]*["']?([A-Za-z][A-Za-z0-9_.-]*)["']?[ \t]*(?:#.*)?$/;

/**
 * The objects a config file's text defines, by its top-level `kind:` and `name:` lines in each
 * YAML document (no parse: the file is not the project's, and a rough answer is enough for a hint).
 */
export function definitionsIn(text: string, path: string, glob: string): ExcludedDefinition[] {
  const out: ExcludedDefinition[] = [];
  let kind: string | undefined;
  let name: { name: string; line: number } | undefined;
  const flush = (): void => {
    if (kind !== undefined && name !== undefined && (CONFIG_KINDS as readonly string[]).includes(kind)) out.push({ kind: kind as ConfigKind, name: name.name, path, line: name.line, glob });
    kind = undefined;
    name = undefined;
  };
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/\r$/, "");
    if (/^---(?:[ \t]|$)/.test(line)) {
      flush();
      continue;
    }
    const k = KIND_LINE.exec(line);
    if (k !== null) kind ??= k[1];
    const n = NAME_LINE.exec(line);
    if (n !== null) name ??= { name: n[1] as string, line: i + 1 };
  }
  flush();
  return out;
}

/** A JSON file's name: read as YAML when an include glob selects it, which the default globs do not. */
const JSON_FILE = /\.json$/i;

/**
 * True when `rel` is a JSON file (`connectors/stripe.json`): JSON is YAML, so such a file is a
 * config file when a `config.include` glob selects it, but the default globs (`**\/*.yaml`,
 * `**\/*.yml`) do not; a message names it when it defines or references what a finding is about.
 */
export function isJsonFile(rel: string): boolean {
  return JSON_FILE.test(rel);
}

/** A file the load passes over that a message may name: a YAML file whose extension is not in lower case, or a JSON file. */
export function passedOverConfig(rel: string): boolean {
  return caseMissedYaml(rel) || isJsonFile(rel);
}

/** The objects and references of a passed-over file's text: YAML by its lines, JSON by its `"kind"`/`"name"` and `"secret"` members. */
function scanText(text: string, rel: string, glob: string): ExcludedFiles {
  if (!isJsonFile(rel)) return { definitions: definitionsIn(text, rel, glob), references: referencesIn(text, rel, glob) };
  return { definitions: jsonDefinitionsIn(text, rel, glob), references: jsonReferencesIn(text, rel, glob) };
}

/** 1-based line of offset `at` in `text`. */
function lineOf(text: string, at: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < at; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/**
 * The object a JSON config file defines (`{"kind": "auth_connector", "name": "stripe", …}`, or a
 * list of such objects), each at the line of its `"name"` member; none when the text is no JSON.
 */
export function jsonDefinitionsIn(text: string, path: string, glob: string): ExcludedDefinition[] {
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    return [];
  }
  const out: ExcludedDefinition[] = [];
  let from = 0;
  for (const item of Array.isArray(value) ? value : [value]) {
    if (item === null || typeof item !== "object" || Array.isArray(item)) continue;
    const { kind, name } = item as Record<string, unknown>;
    if (typeof kind !== "string" || typeof name !== "string" || !(CONFIG_KINDS as readonly string[]).includes(kind)) continue;
    const at = text.slice(from).search(/"name"\s*:/);
    const offset = at === -1 ? from : from + at;
    from = at === -1 ? from : offset + 1;
    out.push({ kind: kind as ConfigKind, name, path, line: lineOf(text, offset), glob });
  }
  return out;
}

const JSON_SECRET_REF = /"secret"\s*:\s*"([a-z][a-z0-9_]*)"/g;

/** The `"secret": "NAME"` members of a JSON config file's text, by line (no parse: a rough answer for a hint). */
export function jsonReferencesIn(text: string, path: string, glob: string): ExcludedReference[] {
  return [...text.matchAll(JSON_SECRET_REF)].map((m) => ({ secret: m[1] as string, path, line: lineOf(text, m.index), glob }));
}

const SECRET_REF = /(?:^|[\s{,])secret:[ \t]*["']?([a-z][a-z0-9_]*)["']?[ \t]*(?=[,}#]|$)/g;

/** The `secret: NAME` references of a config file's text, by line (no parse: a rough answer for a hint). */
export function referencesIn(text: string, path: string, glob: string): ExcludedReference[] {
  const out: ExcludedReference[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/\r$/, "");
    for (const m of line.matchAll(SECRET_REF)) out.push({ secret: m[1] as string, path, line: i + 1, glob });
  }
  return out;
}

/** The objects defined in the excluded files ({@link readExcludedFiles}). Never throws. */
export function readExcludedDefinitions(fs: WorkspaceFs, project: ProjectConfig): ExcludedDefinition[] {
  return readExcludedFiles(fs, project).definitions;
}

/**
 * Reads the objects defined, and the secrets referenced, in the files of the project at `project.root` that an `include` glob
 * selects and a `config.exclude` glob keeps out, and, when `config.include` is not the default, in the YAML files that
 * no `include` glob selects (marked `notIncluded`) (not the default `node_modules/**`, nor `.git`,
 * `node_modules` or the secrets folder, nor another project's folder, nor through symbolic links).
 * Bounded: at most {@link EXCLUDED_SCAN_MAX_ENTRIES} directory entries listed and
 * {@link EXCLUDED_SCAN_MAX_FILES} files of at most {@link EXCLUDED_SCAN_MAX_BYTES} read. Never throws.
 */
export function readExcludedFiles(fs: WorkspaceFs, project: ProjectConfig, caseMissed: readonly string[] = []): ExcludedFiles {
  const globs = project.exclude.filter((g) => !DEFAULT_EXCLUDE.includes(g));
  // with include globs of its own, a YAML file that none matches is out of the project too (`refund.yml` beside `**/*.yaml`)
  const narrowInclude = hasOwnInclude(project.include);
  const filter = new GlobFilter(project.include, globs);
  // the YAML files the load passed over for their extension's case (`Refund.YAML`): read as not included
  const missed = (): ExcludedFiles => {
    const definitions: ExcludedDefinition[] = [];
    const references: ExcludedReference[] = [];
    // the YAML files first: JSON files (most of them package.json and the like) after, within the same bound
    const ordered = [...caseMissed.filter((r) => !isJsonFile(r)), ...caseMissed.filter(isJsonFile)];
    for (const rel of ordered.slice(0, EXCLUDED_SCAN_MAX_FILES)) {
      if (isJsonFile(rel) ? filter.includes(rel) : !notIncludedYaml(filter, rel)) continue;
      try {
        const abs = join(project.root, rel);
        if (fs.stat(abs).size > EXCLUDED_SCAN_MAX_BYTES) continue;
        const found = scanText(fs.readFile(abs), rel, "");
        definitions.push(...found.definitions.map((d) => ({ ...d, notIncluded: true as const })));
        references.push(...found.references.map((r) => ({ ...r, notIncluded: true as const })));
      } catch {
        // unreadable: it defines nothing we can name
      }
    }
    return { definitions, references };
  };
  if (globs.length === 0 && !narrowInclude) return missed();
  const secretsRel = project.secretsDir.replace(/\/+$/, "");
  const out: ExcludedDefinition[] = [];
  const references: ExcludedReference[] = [];
  let entries = 0;
  let files = 0;
  const walk = (absDir: string, relDir: string): void => {
    let list;
    try {
      list = fs.readdir(absDir);
    } catch {
      return;
    }
    if (relDir !== "" && list.some((e) => e.name === PROJECT_FILE && !e.isDirectory())) return; // another project
    list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of list) {
      if (++entries > EXCLUDED_SCAN_MAX_ENTRIES || files >= EXCLUDED_SCAN_MAX_FILES) return;
      const rel = relDir === "" ? entry.name : `${relDir}/${entry.name}`;
      const abs = join(absDir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === ".git" || entry.name === "node_modules" || rel === secretsRel) continue;
        walk(abs, rel);
        continue;
      }
      if (!entry.isFile()) continue;
      let glob = filter.excludedBy(rel);
      let notIncluded = false;
      if (glob === undefined) {
        // (with the default globs, the JSON files come from the load's list: `missed` below)
        if (!narrowInclude || !(notIncludedYaml(filter, rel) || (isJsonFile(rel) && !filter.includes(rel)))) continue;
        notIncluded = true;
        glob = "";
      }
      files++;
      try {
        if (fs.stat(abs).size > EXCLUDED_SCAN_MAX_BYTES) continue;
        const found = scanText(fs.readFile(abs), rel, glob);
        const mark = <T extends object>(items: T[]): T[] => (notIncluded ? items.map((i) => ({ ...i, notIncluded: true as const })) : items);
        out.push(...mark(found.definitions));
        references.push(...mark(found.references));
      } catch {
        // unreadable: it defines nothing we can name
      }
    }
  };
  walk(project.root, "");
  if (!narrowInclude) {
    const more = missed();
    out.push(...more.definitions);
    references.push(...more.references);
  }
  return { definitions: out, references };
}

/**
 * True when `rel` is a YAML file whose extension is not written in lower case (`Refund.YAML`,
 * `agent.Yml`): the default include globs (`**\/*.yaml`, `**\/*.yml`) match an extension as written,
 * so the load passes over it, and a message says so ({@link readExcludedFiles}' `caseMissed`).
 */
export function caseMissedYaml(rel: string): boolean {
  const ext = /\.(ya?ml)$/i.exec(rel)?.[1];
  return ext !== undefined && ext !== ext.toLowerCase();
}

/** `path` with its YAML extension in lower case (`actions/Refund.yaml`), when it is written otherwise ({@link caseMissedYaml}); else undefined. */
export function lowerCaseExtension(path: string): string | undefined {
  if (!caseMissedYaml(path)) return undefined;
  return path.replace(/\.(ya?ml)$/i, (m) => m.toLowerCase());
}
