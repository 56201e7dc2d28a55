/**
 * The I/O edge of the checker: finds stellar.yaml, walks the repository for config files
 * (following symbolic links, detecting loops), reads the secrets folder, and fills a
 * {@link WorkspaceIndex}. Everything else is pure. File reads go through {@link WorkspaceFs}
 * so tests and editors can pass their own.
 */
import type * as nodeFs from "node:fs";
import { dirname, isAbsolute, join, normalize, relative, sep } from "node:path";
import { CATALOG_FILE, environmentOfFileName, INBOX_DIR, MAX_CONFIG_FILE_BYTES, MAX_PROPOSAL_FILE_BYTES, MAX_SECRETS_FILE_BYTES } from "@stellar-secrets/sops";
import { parseCatalog } from "./catalog.js";
import { parseConfigFile, unreadableConfigFile, type ConfigFile } from "./config.js";
import { diagnosticAt } from "./diagnostics.js";
import { EXCLUDED_SCAN_MAX_FILES, isJsonFile, passedOverConfig, readExcludedFiles } from "./excluded.js";
import { readOtherProjects } from "./other-projects.js";
import { CoreError } from "./errors.js";
import { GlobFilter, UnionFilter, type PathFilter } from "./globs.js";
import { linkedProposalFile, parseProposalFile } from "./proposals.js";
import {
  DEFAULT_ENVIRONMENTS,
  DEFAULT_EXCLUDE,
  DEFAULT_INCLUDE,
  DEFAULT_SECRETS_DIR,
  findProjectRoot,
  noProjectHint,
  parseProjectConfig,
  PROJECT_FILE,
  type ProjectConfig,
} from "./project.js";
import { SOPS_CONFIG_FILE, sopsConfigCandidates } from "./sops-config.js";
import { openedAs } from "./review/paths.js";
import { checkOtherSecretsFile, parseEnvironmentBytes, parseEnvironmentFile, unreadableEnvironmentFile, type EnvironmentFile } from "./secrets-dir.js";
import { WorkspaceIndex, type AboveRootFiles } from "./workspace.js";
import { surveySecretsDir, type SecretsDirSurvey } from "./secrets-folder.js";
import { LineIndex } from "./position.js";
import type { ProposalFile } from "./proposals.js";
import { invalidUtf8, linkOutsideRoot, nodeWorkspaceFs, projectTextProblem, type WorkspaceFs } from "./workspace-fs.js";
import { shellPathWord } from "./shell.js";
import type { ConfigModelCache } from "./model-cache.js";

import { isPlaintextEnvName, mayBePlaintextEnvName, PLAINTEXT_ENV_MAX_BYTES, plaintextEnvAssignments } from "./plaintext-env.js";
export { invalidUtf8, linkOutsideRoot, nodeWorkspaceFs, projectTextProblem, type WorkspaceFs } from "./workspace-fs.js";

/** A file the loader did not read, and why (a loop, a broken link, too large, unreadable). */
export interface SkippedFile {
  /** Relative to the root. */
  path: string;
  reason: string;
  /**
   * True when the folder at `path` holds a `stellar.yaml` of its own: another project, whose files
   * are checked against its own secrets (`check` at the outer root checks it too), never this one's.
   */
  project?: true;
}

/** Largest config file read (bigger ones are skipped and listed): the layout's `MAX_CONFIG_FILE_BYTES`. */
export const MAX_FILE_BYTES = MAX_CONFIG_FILE_BYTES;

/** Options of {@link loadWorkspace}. */
export interface LoadOptions {
  fs?: WorkspaceFs;
  /**
   * `cwd` is the project root itself: stellar.yaml is read there through `fs` and not searched
   * for upwards on disk (for a file system that is not the disk, e.g. a commit's files).
   */
  atRoot?: boolean;
  /**
   * Largest file read, in bytes, of any kind (default: {@link MAX_FILE_BYTES} for config files,
   * `MAX_SECRETS_FILE_BYTES` for environment files).
   */
  maxFileBytes?: number;
  /**
   * Follow symbolic links that lead outside the repository (default false: such a link, whether
   * stellar.yaml, the secrets folder, an environment file or a config file or folder, is reported
   * on its path and not read). The CLI sets it from `STELLAR_SECRETS_ALLOW_OUTSIDE_LINKS=1`.
   */
  allowOutsideLinks?: boolean;
  /**
   * Further `config.include`/`config.exclude` scopes whose config files are loaded too (e.g. a
   * review judges a change's files by the base's scope as well as its own, so that narrowing the
   * scope cannot hide a file from the checks).
   */
  alsoInclude?: readonly ConfigScope[];
  /**
   * Where config files' models may come from instead of being parsed (e.g. an editor's
   * {@link ConfigModelCache} of an earlier run). Only for the config files the loader reads as
   * text and parses; every other file, and everything cross-file, is made as without it.
   */
  configModels?: ConfigModelSource;
  /**
   * Read the `.gitattributes` and `.sops.yaml` of the folders above the root, up to the top of the
   * git work tree holding it ({@link WorkspaceIndex.aboveRoot}), through `fs`: a `.git` looked
   * for in each folder above the root (none when the root itself holds one), then one listing per
   * folder between. Default: when stellar.yaml was searched for (`atRoot` not set); a state read
   * from git passes what git holds instead.
   */
  aboveRoot?: boolean;
}

/**
 * A source of config files' models for {@link loadWorkspace} (`configModels`). `take(path, text)`
 * returns a model equal, field by field and with its classes, to what `parseConfigFile(text, path)`
 * would return, or undefined (the loader then parses); it must never return a model of another
 * text or path. `parsed` is told of each model the loader parsed itself. Neither may throw.
 */
export interface ConfigModelSource {
  take(path: string, text: string): ConfigFile | undefined;
  parsed?(path: string, text: string, model: ConfigFile): void;
}

/** The config files a project checks: its `config.include` and `config.exclude` globs. */
export interface ConfigScope {
  include: readonly string[];
  exclude: readonly string[];
}

/** What {@link loadWorkspace} returns. */
export interface LoadedWorkspace {
  index: WorkspaceIndex;
  /** Files that were not read, with the reason. */
  skipped: SkippedFile[];
}

/** Relative path with `/` separators. */
export function toRelative(root: string, path: string): string {
  const r = relative(root, path);
  return sep === "/" ? r : r.split(sep).join("/");
}

/** Where a path (relative to the root) belongs in a project. */
export type FileRole =
  | { role: "project" }
  | { role: "environment"; environment: string }
  | { role: "catalog" }
  | { role: "secrets-other" }
  | { role: "proposal"; inSecretsDir: string }
  | { role: "config" }
  | { role: "ignored" };

/** Classifies a relative path: stellar.yaml, an environment file, the catalog, another secrets-folder file, a config file (by the globs), or ignored. */
export function classifyPath(project: ProjectConfig, path: string, filter: PathFilter = new GlobFilter(project.include, project.exclude)): FileRole {
  if (path === PROJECT_FILE) return { role: "project" };
  const dir = project.secretsDir.endsWith("/") ? project.secretsDir.replace(/\/+$/, "") : project.secretsDir;
  if (path.length > dir.length && path.charCodeAt(dir.length) === 47 /* / */ && path.startsWith(dir)) {
    const rest = path.slice(dir.length + 1);
    if (rest === CATALOG_FILE) return { role: "catalog" };
    const base = rest.slice(rest.lastIndexOf("/") + 1);
    if (base.startsWith(".") || /^readme(\.[a-z]+)?$/i.test(base)) return { role: "ignored" };
    if (rest.startsWith(`${INBOX_DIR}/`)) return { role: "proposal", inSecretsDir: rest };
    const environment = environmentOfFileName(rest);
    if (environment !== undefined) return { role: "environment", environment };
    return { role: "secrets-other" };
  }
  // the top .git folder, and a node_modules folder at any depth
  if (path === ".git" || path.startsWith(".git/") || path === "node_modules" || path.startsWith("node_modules/") || path.includes("/node_modules/") || path.endsWith("/node_modules")) {
    return { role: "ignored" };
  }
  return filter.matches(path) ? { role: "config" } : { role: "ignored" };
}

/** A project config with the defaults, for when stellar.yaml is unusable. */
function defaultProject(root: string): ProjectConfig {
  return {
    root,
    configPath: join(root, PROJECT_FILE),
    secretsDir: DEFAULT_SECRETS_DIR,
    environments: DEFAULT_ENVIRONMENTS.map((name) => ({ name, members: [] })),
    include: [...DEFAULT_INCLUDE],
    exclude: [...DEFAULT_EXCLUDE],
    rules: {},
  };
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** The environment whose file (`<env>.enc.yaml`) the link `abs` really is, with that file's name; undefined when it is none (or cannot be resolved). */
function linkedEnvironment(fs: WorkspaceFs, abs: string): { environment: string; file: string } | undefined {
  let target: string;
  try {
    target = fs.realpath(abs);
  } catch {
    return undefined;
  }
  const file = target.slice(target.lastIndexOf(sep) + 1);
  const environment = environmentOfFileName(file);
  return environment === undefined ? undefined : { environment, file };
}

/**
 * Reads one environment file the way `check` does (bytes when the file system offers them, so
 * invalid UTF-8 is reported; the size limit; unreadable files). A file that cannot be read is
 * reported on the file itself, and its names are then unknown, not absent (no
 * missing-environment-value for its environment). Never throws. Used by the loader and by the
 * language server when a file changes on disk.
 */
export function readEnvironmentFile(fs: WorkspaceFs, abs: string, rel: string, environment: string, maxBytes: number = MAX_SECRETS_FILE_BYTES): EnvironmentFile {
  const restore = `restore it from git (\`git checkout -- ${shellPathWord(rel)}\`)`;
  try {
    if (fs.readFileBytes !== undefined) {
      const bytes = fs.readFileBytes(abs);
      if (bytes.length > maxBytes) {
        return unreadableEnvironmentFile(rel, environment, `is larger than ${mib(maxBytes)} (${mib(bytes.length)})`, `a secrets file holds one short encrypted string per name: ${restore} or remove what does not belong in it`);
      }
      return parseEnvironmentBytes(bytes, rel, environment);
    }
    const text = fs.readFile(abs);
    const bytes = text.length > maxBytes / 3 ? Buffer.byteLength(text, "utf8") : text.length;
    if (bytes > maxBytes) {
      return unreadableEnvironmentFile(rel, environment, `is larger than ${mib(maxBytes)} (${mib(bytes)})`, `a secrets file holds one short encrypted string per name: ${restore} or remove what does not belong in it`);
    }
    return parseEnvironmentFile(text, rel, environment);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    return unreadableEnvironmentFile(rel, environment, `cannot be read (${code})`, "check its permissions, or restore it from git");
  }
}

/**
 * Loads the repository around `cwd` (stellar.yaml found upwards) into an index. Problems in
 * files are diagnostics in the index; files that cannot be read are listed in `skipped`.
 * @throws CoreError NO_PROJECT when there is no stellar.yaml; IO_ERROR when it cannot be read.
 */
export function loadWorkspace(cwd: string, options: LoadOptions = {}): LoadedWorkspace {
  const load = startLoad(cwd, options);
  load.walkSome(Infinity);
  return load.finish();
}

/**
 * {@link loadWorkspace} cut into steps: a generator that yields (nothing) after every
 * {@link LOAD_STEP_ENTRIES} entries of the folders it walks (files read and parsed, folders
 * entered) and returns what {@link loadWorkspace} returns, which is the same work at once. An
 * editor runs the steps a slice of time at a time and handles its messages between two slices (a
 * project of thousands of config files held its thread for a second or more, `shutdown` waiting);
 * stopping them (`return()`) leaves nothing behind but the index it was building, unreturned.
 * @throws as {@link loadWorkspace}, from the first step
 */
export function* loadWorkspaceSteps(cwd: string, options: LoadOptions = {}): Generator<void, LoadedWorkspace, void> {
  const load = startLoad(cwd, options);
  while (load.walkSome(LOAD_STEP_ENTRIES)) yield;
  return load.finish();
}

/** How many folder entries a step of {@link loadWorkspaceSteps} visits. */
export const LOAD_STEP_ENTRIES = 16;

/** A folder being walked by the loader: its entries, sorted, and the next one to visit. */
interface WalkFrame {
  absDir: string;
  relDir: string;
  inSecrets: boolean;
  entries: nodeFs.Dirent[];
  next: number;
  /** `absDir` with a trailing `/` when every path below it is normal (a plain concatenation then gives what `join` gives); undefined otherwise. */
  dirPrefix: string | undefined;
  /** True when the folder was reached through a link to a folder (it, or a folder above it): its files have another real path. */
  viaLink: boolean;
}

/** {@link loadWorkspace}'s work: stellar.yaml read, then the walk (`walkSome`, any number of entries at a time), then the rest (`finish`). */
function startLoad(cwd: string, options: LoadOptions): { walkSome: (budget: number) => boolean; finish: () => LoadedWorkspace } {
  const fs = options.fs ?? nodeWorkspaceFs;
  const maxBytes = options.maxFileBytes ?? MAX_FILE_BYTES;
  const maxSecretsBytes = options.maxFileBytes ?? MAX_SECRETS_FILE_BYTES;
  const root = options.atRoot === true ? cwd : findProjectRoot(cwd, fs);
  if (root === undefined) {
    throw new CoreError("NO_PROJECT", `no ${PROJECT_FILE} in ${cwd} or any parent directory`, {
      hint: noProjectHint(cwd, "run `stellar-secrets init` at the repository root, or run the command inside a Stellar Secrets repository", fs),
    });
  }
  const configPath = join(root, PROJECT_FILE);
  let projectText: string;
  try {
    projectText = fs.readFile(configPath);
  } catch (e) {
    throw new CoreError("IO_ERROR", `cannot read ${configPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: configPath, cause: e });
  }
  const projectOutside = options.allowOutsideLinks === true ? undefined : linkOutsideRoot(fs, root, configPath);
  const projectInvalid = projectOutside !== undefined ? outsideWhy(projectOutside) : projectTextProblem(fs, configPath, projectText);
  const parsed = projectInvalid === undefined ? parseProjectConfig(projectText, configPath) : { config: undefined, diagnostics: unreadableConfigFile(PROJECT_FILE, projectText, projectInvalid).diagnostics };
  const project = parsed.config ?? defaultProject(root);
  const index = new WorkspaceIndex(project, parsed.diagnostics, parsed.config !== undefined);
  const skipped: SkippedFile[] = [];
  if (parsed.config === undefined) return { walkSome: () => false, finish: () => ({ index, skipped }) };

  // read only if an unknown-reference message asks (excluded.ts): a load never reads excluded files
  // (and the YAML files the walk passes over for their extension's case, `Refund.YAML`)
  const caseMissed: string[] = [];
  let jsonMissed = 0;
  index.setExcludedReader(() => readExcludedFiles(fs, project, caseMissed));
  // likewise the other projects of a monorepo, only for an unknown name's message (other-projects.ts)
  index.setOtherProjectsReader(() => readOtherProjects(fs, project));
  const own = new GlobFilter(project.include, project.exclude);
  const also = options.alsoInclude ?? [];
  const filter: PathFilter = also.length === 0 ? own : new UnionFilter([own, ...also.map((s) => new GlobFilter(s.include, s.exclude))]);
  const secretsRel = project.secretsDir.replace(/\/+$/, "");
  const visited = new Set<string>();
  const rootIsNormal = sep === "/" && isAbsolute(root) && normalize(root) === root;
  // the folders whose .gitattributes and .sops.yaml git and sops read for the secrets files
  const candidateDirs = new Set(sopsConfigCandidates(project.secretsDir).map((rel) => rel.slice(0, Math.max(0, rel.lastIndexOf("/")))));
  const sopsVariants = new Map<string, string>();
  let rootHoldsGit = false;
  const models = options.configModels;

  /** The text of a config-sized file, `{ why }` when it is too large or not UTF-8 (reported on the file), undefined when it cannot be read (skipped). */
  const readSmall = (abs: string, rel: string, listedRegular: boolean): string | { why: string } | undefined => {
    // Reads first and measures after: one call is much faster than stat + read for thousands of
    // small files. A file too large for a string at all fails to read and is reported as unreadable.
    let text: string;
    try {
      text = (listedRegular ? readListed(abs) : undefined) ?? fs.readFile(abs);
    } catch (e) {
      skipped.push({ path: rel, reason: `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
      return undefined;
    }
    const bytes = text.length > maxBytes / 3 ? Buffer.byteLength(text, "utf8") : text.length;
    if (bytes > maxBytes) {
      return { why: `is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB (${(bytes / 1024 / 1024).toFixed(1)} MiB); it was not read: a config file this large is not one people write, remove it or exclude it in stellar.yaml config.exclude` };
    }
    const invalid = invalidUtf8(fs, abs, text);
    // a file of another tool (not ours once read leniently) may use any encoding it likes
    if (invalid !== undefined && (classifyPath(project, rel, filter).role !== "config" || parseConfigFile(text, rel).relevant)) return { why: invalid };
    return text;
  };

  /** The text of a file `readdir` listed as a regular file, through `fs.readListedFile`; undefined when that is absent or fails (then `readFile` decides). */
  const readListed = (abs: string): string | undefined => {
    if (fs.readListedFile === undefined) return undefined;
    try {
      return fs.readListedFile(abs);
    } catch {
      return undefined;
    }
  };

  /** Records the assignments of a plaintext environment file (the first {@link PLAINTEXT_ENV_MAX_BYTES}); nothing when it has none or cannot be read. */
  const readPlaintextEnv = (abs: string, rel: string): void => {
    let text: string;
    try {
      const bytes = fs.readFileBytes?.(abs) ?? Buffer.from(fs.readFile(abs), "utf8");
      text = Buffer.from(bytes.subarray(0, PLAINTEXT_ENV_MAX_BYTES)).toString("utf8");
    } catch {
      return;
    }
    const assignments = plaintextEnvAssignments(text);
    if (assignments.length > 0) index.setPlaintextEnvFile(rel, { path: rel, assignments });
  };

  /** A link that leaves the repository, reported on its path (a diagnostic) when it matters to the project. */
  const reportOutside = (rel: string, isDir: boolean, inSecrets: boolean, target: string): void => {
    const why = outsideWhy(target);
    const role = classifyPath(project, rel, filter);
    if (role.role === "environment") {
      index.setEnvironmentFile(unreadableEnvironmentFile(rel, role.environment, why, "replace the link with the file itself, or set STELLAR_SECRETS_ALLOW_OUTSIDE_LINKS=1 to follow it"));
      return;
    }
    if (isDir) {
      const isSecrets = rel === secretsRel || inSecrets;
      if (!isSecrets && (filter.excludesDirectory(rel) || !filter.mayContain(rel))) return;
      index.setConfigFile(unreadableConfigFile(rel, "", why));
      return;
    }
    if (role.role === "config" || role.role === "catalog" || role.role === "secrets-other") setUnreadable(index, role.role, rel, why);
  };

  // the folders being walked, the innermost last (an explicit stack: the walk can stop between two entries, loadWorkspaceSteps)
  const stack: WalkFrame[] = [];
  /** Links to folders met outside the secrets folder, walked once every real folder is ({@link walkSome}). */
  const linkedDirs: { abs: string; rel: string }[] = [];
  let nextLinkedDir = 0;
  /** The config files read through a link (a file link, or a file below a folder link): real path relative to the root -> the path it was read under. */
  const linkedConfigReads = new Map<string, string>();
  /** The folders with a stellar.yaml of their own met so far (another project each): real path -> path relative to the root. */
  const projectFolders = new Map<string, string>();
  /**
   * True when the file `rel` lies in a folder below the root with a stellar.yaml of its own: another
   * project's file, which this project never reads under that path (a link to it is this project's
   * only copy). A few stats, only for links to config files.
   */
  const inOtherProject = (rel: string): boolean => {
    for (let dir = dirname(rel); dir !== "." && dir !== "" && dir !== secretsRel; dir = dirname(dir)) {
      try {
        if (!fs.stat(join(root, dir, PROJECT_FILE)).isDirectory()) return true;
      } catch {
        // no stellar.yaml there
      }
    }
    return false;
  };
  /** Opens a folder: its entries, sorted, become the top of the stack (nothing when it cannot be or must not be read). */
  const enter = (absDir: string, relDir: string, inSecrets: boolean, viaLink = false, belowLink = viaLink): void => {
    let real: string;
    try {
      real = fs.realpath(absDir);
    } catch (e) {
      skipped.push({ path: relDir || ".", reason: linkReason(e) });
      return;
    }
    if (visited.has(real)) {
      const project = projectFolders.get(real);
      skipped.push({ path: relDir, reason: project !== undefined ? linkedProjectReason(project) : "symbolic link to a folder already read (a loop or a second path to it)" });
      return;
    }
    visited.add(real);
    let entries: nodeFs.Dirent[];
    try {
      entries = fs.readdir(absDir);
    } catch (e) {
      skipped.push({ path: relDir || ".", reason: `cannot be listed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
      return;
    }
    // a folder with its own stellar.yaml is another project (`init` there says so): its files are its own
    if (relDir !== "" && !inSecrets && !secretsRel.startsWith(`${relDir}/`) && entries.some((e) => e.name === PROJECT_FILE && !e.isDirectory())) {
      // reached through a link (connectors/billing -> ../services/billing): the project is its
      // folder's, checked once under its own path; the link is said once, as a second path to it
      const target = viaLink ? linkTarget(fs, root, absDir) : undefined;
      if (target !== undefined && target !== "outside the repository" && target !== relDir && !target.startsWith("../") && !isAbsolute(target)) {
        projectFolders.set(real, target);
        skipped.push({ path: relDir, reason: linkedProjectReason(target) });
        skipped.push({ path: target, reason: `another project (it has its own ${PROJECT_FILE})`, project: true });
        return;
      }
      projectFolders.set(real, relDir);
      skipped.push({ path: relDir, reason: `another project (it has its own ${PROJECT_FILE})`, project: true });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (relDir === "" && entries.some((e) => e.name === ".git")) rootHoldsGit = true;
    // the .gitattributes git reads for the secrets files here (a regular file: git follows no link
    // to one), and a lone case variant of it or of .sops.yaml, which a case-insensitive checkout opens
    if (candidateDirs.has(relDir)) {
      const attributes = openedAs(entries.filter((e) => e.isFile()).map((e) => e.name), ".gitattributes");
      if (attributes !== undefined) {
        const abs = join(absDir, attributes);
        const text = readListed(abs) ?? readOptional(fs, abs, maxBytes);
        if (text !== undefined) index.setGitattributes(relDir === "" ? attributes : `${relDir}/${attributes}`, text);
      }
      const sops = openedAs(entries.filter((e) => !e.isDirectory()).map((e) => e.name), SOPS_CONFIG_FILE);
      if (sops !== undefined && sops !== SOPS_CONFIG_FILE) sopsVariants.set(relDir, sops);
    }
    // below a normal absolute root every folder path is normal: a plain concatenation is what `join` gives, for less
    const dirPrefix = !rootIsNormal ? undefined : absDir.endsWith("/") ? absDir : `${absDir}/`;
    stack.push({ absDir, relDir, inSecrets, entries, next: 0, dirPrefix, viaLink: belowLink });
  };
  /** One entry of a folder (the folder's `next`): a file read, a folder opened (it is walked before the entries after it). */
  const visit = (frame: WalkFrame, entry: nodeFs.Dirent): void => {
    const { absDir, relDir, inSecrets, dirPrefix, viaLink } = frame;
    const abs = dirPrefix === undefined ? join(absDir, entry.name) : dirPrefix + entry.name;
    const rel = relDir === "" ? entry.name : `${relDir}/${entry.name}`;
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    const isLink = entry.isSymbolicLink();
    if (isLink) {
      // a link in the inbox is never read as a proposal (git would commit the link): it is reported on itself
      const linkRole = inSecrets ? classifyPath(project, rel, filter) : undefined;
      if (linkRole?.role === "proposal") {
        index.setProposalFile(linkedProposalFile(rel, linkRole.inSecretsDir, linkTarget(fs, root, abs)));
        return;
      }
      try {
        const st = fs.stat(abs);
        isDir = st.isDirectory();
        isFile = st.isFile();
      } catch (e) {
        const role = inSecrets ? "secrets-other" : classifyPath(project, rel, filter).role;
        if (role !== "ignored" || (e as NodeJS.ErrnoException).code === "ELOOP") skipped.push({ path: rel, reason: linkReason(e) });
        return;
      }
      const outside = options.allowOutsideLinks === true ? undefined : linkOutsideRoot(fs, root, abs);
      if (outside !== undefined) {
        reportOutside(rel, isDir, inSecrets, outside);
        return;
      }
      // a link to a config file of the project read under its own path (stripe-copy.yaml ->
      // stripe.yaml): the same objects twice, each "also used" by the other; read once, the link skipped
      if (isFile && !inSecrets) {
        const target = linkTarget(fs, root, abs);
        if (target !== undefined && target !== rel && target !== "outside the repository" && classifyPath(project, rel, filter).role === "config" && classifyPath(project, target, filter).role === "config" && !inOtherProject(target)) {
          skipped.push({ path: rel, reason: `symbolic link to ${target}, which is read as a config file under its own path` });
          return;
        }
      }
      // an environment's file that is a link to another environment's file: every reader of this
      // environment (get, the resolver) would get the other one's values, and the file alone
      // verifies (its MAC is the other file's)
      if (inSecrets && isFile) {
        const own = classifyPath(project, rel, filter);
        const other = own.role === "environment" ? linkedEnvironment(fs, abs) : undefined;
        if (own.role === "environment" && other !== undefined && other.environment !== own.environment) {
          index.setEnvironmentFile(
            unreadableEnvironmentFile(
              rel,
              own.environment,
              `is a symbolic link to ${other.file}, the file of environment "${other.environment}": whoever reads ${own.environment} would get ${other.environment}'s values; it was not read`,
              `replace the link with ${own.environment}'s own file: remove the link, then restore the file from a commit before it became a link (\`git log -- ${shellPathWord(rel)}\` lists them; \`git checkout -- ${shellPathWord(rel)}\` brings back a committed link) or set each of ${own.environment}'s secrets again with \`stellar-secrets set NAME --env ${own.environment}\``,
            ),
          );
          return;
        }
      }
    }
    if (isDir) {
      if (inSecrets) {
        const role = classifyPath(project, rel, filter);
        if (role.role === "environment") {
          index.setEnvironmentFile(unreadableEnvironmentFile(rel, role.environment, "is a directory, not a file", `remove the directory and restore the file from git (\`git checkout -- ${shellPathWord(rel)}\`)`));
          return;
        }
      }
      if (!inSecrets) {
        if (entry.name === ".git" || entry.name === "node_modules") return;
        if (rel === secretsRel) {
          enter(abs, rel, true);
          return;
        }
        const holdsSecrets = secretsRel.startsWith(`${rel}/`);
        if (!holdsSecrets && (filter.excludesDirectory(rel) || !filter.mayContain(rel))) return;
        // a link to a folder is walked after every real folder: when it is a second path to one
        // (connections/legacy/conn -> connectors), the folder is read under its own path and the
        // link is the one skipped, whichever comes first in the listing
        if (entry.isSymbolicLink()) {
          linkedDirs.push({ abs, rel });
          return;
        }
      }
      enter(abs, rel, inSecrets, false, viaLink);
      return;
    }
    if (!isFile) {
      // a FIFO, socket or device where an environment file belongs is reported, not taken for no file
      if (inSecrets) {
        const role = classifyPath(project, rel, filter);
        if (role.role === "environment") {
          index.setEnvironmentFile(
            unreadableEnvironmentFile(rel, role.environment, "is not a regular file (a FIFO, socket or device); it was not read", `replace it with the file from git (\`git checkout -- ${shellPathWord(rel)}\`)`),
          );
        }
      }
      return;
    }
    const role = classifyPath(project, rel, filter);
    // a plaintext environment file (.env.production, production.env, secrets.production.json): its
    // names and lines, for check to report if git tracks it (one name test per file outside the secrets folder)
    if (!inSecrets && (role.role === "ignored" || role.role === "config") && mayBePlaintextEnvName(entry.name) && isPlaintextEnvName(entry.name)) readPlaintextEnv(abs, rel);
    // (JSON files counted apart: a repository's many package.json never crowd out a Refund.YAML)
    if (role.role === "ignored" && !inSecrets && passedOverConfig(rel) && (isJsonFile(rel) ? jsonMissed++ : caseMissed.length - jsonMissed) < EXCLUDED_SCAN_MAX_FILES) caseMissed.push(rel);
    if (role.role === "ignored" || role.role === "project") return;
    if (role.role === "environment") {
      index.setEnvironmentFile(readEnvironmentFile(fs, abs, rel, role.environment, maxSecretsBytes));
      return;
    }
    if (role.role === "proposal") {
      index.setProposalFile(readProposalFile(fs, abs, rel, role.inSecretsDir));
      return;
    }
    // a config file reached through links only, by two paths (a folder link legacy -> shared and a
    // file link connectors/stripe.yaml -> ../shared/stripe.yaml, shared/ itself excluded): read
    // once, under the first path; the second is said once. Only files behind a link pay the realpath.
    if (role.role === "config" && (viaLink || isLink)) {
      const target = linkTarget(fs, root, abs);
      if (target !== undefined && target !== rel && target !== "outside the repository") {
        const first = linkedConfigReads.get(target);
        if (first !== undefined) {
          skipped.push({ path: rel, reason: `a second path to ${target}, which is read as a config file under ${first}` });
          return;
        }
        linkedConfigReads.set(target, rel);
      }
    }
    const text = readSmall(abs, rel, !isLink);
    if (text === undefined) return;
    if (typeof text !== "string") {
      setUnreadable(index, role.role, rel, text.why);
      return;
    }
    try {
      switch (role.role) {
        case "config": {
          let model = models?.take(rel, text);
          if (model === undefined) {
            model = parseConfigFile(text, rel);
            models?.parsed?.(rel, text, model);
          }
          index.setConfigFile(model);
          break;
        }
        case "catalog":
          index.setCatalog({ ...parseCatalog(text, rel), path: rel });
          break;
        case "secrets-other":
          index.setOtherSecretsFile({ path: rel, diagnostics: checkOtherSecretsFile(text, rel) });
          break;
      }
    } catch (e) {
      // one file's failure is reported on that file; the rest of the project is still read
      setUnreadable(index, role.role, rel, `could not be read: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  /**
   * Visits up to `budget` entries in the order of a depth-first walk (a folder's entries, sorted, each
   * folder walked before the entries after it; the links to folders last); true while entries are left.
   */
  const walkSome = (budget: number): boolean => {
    for (;;) {
      if (stack.length === 0) {
        if (nextLinkedDir >= linkedDirs.length) return false;
        const linked = linkedDirs[nextLinkedDir++]!;
        enter(linked.abs, linked.rel, false, true);
        continue;
      }
      const top = stack[stack.length - 1] as WalkFrame;
      if (top.next >= top.entries.length) {
        stack.pop();
        continue;
      }
      if (budget-- <= 0) return true;
      visit(top, top.entries[top.next++] as nodeFs.Dirent);
    }
  };
  enter(root, "", false);
  const finish = (): LoadedWorkspace => {
    // no environment file and no catalog: say why once (`missing-secrets-dir`), not only "unknown" at every reference
    index.setSecretsDirSurvey(secretsDirSurveyOf(index, fs, projectText));
    for (const rel of sopsConfigCandidates(project.secretsDir)) {
      const dir = rel.slice(0, Math.max(0, rel.lastIndexOf("/")));
      const variant = sopsVariants.get(dir);
      const at = variant === undefined ? rel : dir === "" ? variant : `${dir}/${variant}`;
      const text = readOptional(fs, join(root, at), maxBytes);
      if (text !== undefined) index.setSopsConfig(at, text);
    }
    if (!rootHoldsGit && (options.aboveRoot ?? options.atRoot !== true)) index.setAboveRoot(readAboveRoot(fs, root, maxBytes, options.allowOutsideLinks === true));
    return { index, skipped };
  };
  return { walkSome, finish };
}

/**
 * The survey of the secrets folder that `check` reports `missing-secrets-dir` from, for the index
 * as it is now: undefined while the index has an environment file or a catalog (or the secrets
 * folder's path is a config file of its own), else what {@link surveySecretsDir} finds there and
 * beside it (through `fs`; `projectText` is stellar.yaml's text, for where `secrets_dir` is
 * written). What `loadWorkspace` records at its end; an editor calls it again (and records it with
 * `index.setSecretsDirSurvey`) when environment files or folders appear or disappear. Never throws.
 */
export function secretsDirSurveyOf(index: WorkspaceIndex, fs: WorkspaceFs, projectText: string): SecretsDirSurvey | undefined {
  const { project } = index;
  if (index.environmentFiles.size > 0 || index.catalog !== undefined || index.configFiles.has(project.secretsDir.replace(/\/+$/, ""))) return undefined;
  return surveySecretsDir(fs, project.root, project.secretsDir, projectText);
}

/** Why a link to another project's folder (one with its own stellar.yaml) is not read as this project's. */
function linkedProjectReason(target: string): string {
  return `symbolic link to ${target}, a project of its own (it has its own ${PROJECT_FILE}): its files are checked once, as that project's, under ${target}`;
}

/**
 * Where a symbolic link points, as a message shows it: relative to the root, "outside the
 * repository", what it holds (a link read from git), or undefined when it points nowhere. Never throws.
 */
export function linkTarget(fs: WorkspaceFs, root: string, abs: string): string | undefined {
  let real: string;
  let top: string;
  try {
    real = fs.realpath(abs);
    top = fs.realpath(root);
  } catch {
    // a link read from git is not followed: say what it holds
    try {
      return fs.readlink?.(abs);
    } catch {
      return undefined;
    }
  }
  const rel = relative(top, real).split(sep).join("/");
  return rel.startsWith("..") || isAbsolute(rel) ? "outside the repository" : rel;
}

/**
 * Reads one inbox file the way `check` does (the 1 MiB limit; an unreadable file is reported on
 * itself as `invalid-proposal`). Never throws. Used by the loader and the language server.
 */
export function readProposalFile(fs: WorkspaceFs, abs: string, rel: string, inSecretsDir: string): ProposalFile {
  let text: string;
  try {
    text = fs.readFile(abs);
  } catch (e) {
    const lines = new LineIndex("");
    return { path: rel, lines, environment: undefined, proposal: undefined, diagnostics: [diagnosticAt("invalid-proposal", "error", rel, lines, { start: 0, end: 0 }, `${rel} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check its permissions, or remove it`)] };
  }
  if (text.length > MAX_PROPOSAL_FILE_BYTES) {
    const lines = new LineIndex("");
    return { path: rel, lines, environment: undefined, proposal: undefined, diagnostics: [diagnosticAt("invalid-proposal", "error", rel, lines, { start: 0, end: 0 }, `${rel} is larger than 8 MiB: a proposal holds one value; remove it`)] };
  }
  return parseProposalFile(text, rel, inSecretsDir);
}

/**
 * The `.gitattributes` and `.sops.yaml` of the folders above `root` up to the top of the git work
 * tree that holds it (the nearest folder above with a `.git`, a folder or a file, looked for on
 * `root`'s real path, as git walks up from it), as {@link WorkspaceIndex.aboveRoot} holds them;
 * undefined when no folder above holds a `.git` (outside git: nothing more is read). A
 * `.gitattributes` is read only as a regular file (git follows no link to one); a `.sops.yaml`
 * link is followed, as sops follows it, inside the work tree (one out of it is
 * {@link AboveRootFiles.outside}, unless `allowOutsideLinks`). Never throws.
 */
function readAboveRoot(fs: WorkspaceFs, root: string, maxBytes: number, allowOutsideLinks = false): AboveRootFiles | undefined {
  let real: string;
  try {
    real = fs.realpath(root);
  } catch {
    return undefined;
  }
  const folders: string[] = [];
  let top: string | undefined;
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    folders.unshift(dir);
    try {
      fs.stat(join(dir, ".git"));
      top = dir;
      break;
    } catch {
      // not here: look above
    }
    if (dirname(dir) === dir) break;
  }
  if (top === undefined) return undefined;
  const prefix = relative(top, real).split(sep).join("/");
  if (prefix === "" || prefix.startsWith("..")) return undefined;
  const files = new Map<string, string>();
  const outside = new Map<string, string>();
  for (const dir of folders) {
    let entries: nodeFs.Dirent[];
    try {
      entries = fs.readdir(dir);
    } catch {
      continue;
    }
    const names = aboveRootNames(entries.map((e) => ({ name: e.name, type: e.isFile() ? "file" : e.isDirectory() ? "folder" : e.isSymbolicLink() ? "link" : "other" })));
    // a project nested in another (a stellar.yaml above the root): the files above are the enclosing project's, as `check` there reads its nested projects
    if (names.project) return undefined;
    const rel = relative(top, dir).split(sep).join("/");
    for (const name of [names.gitattributes, names.sopsConfig]) {
      if (name === undefined) continue;
      const path = rel === "" ? name : `${rel}/${name}`;
      // (a .sops.yaml link out of the work tree: its target is in no clone's git, as the hook reads it)
      const out = name === names.sopsConfig && !allowOutsideLinks ? linkOutsideRoot(fs, top, join(dir, name)) : undefined;
      if (out !== undefined) {
        outside.set(path, out);
        continue;
      }
      const text = readOptional(fs, join(dir, name), maxBytes);
      if (text !== undefined) files.set(path, text);
    }
  }
  return { prefix, files, ...(outside.size === 0 ? {} : { outside }) };
}

/**
 * The files above `root` that decide what happens to its files ({@link AboveRootFiles}), as the
 * load reads them: for the language server, to read them again when one changed on disk. Never throws.
 */
export function readAboveRootFiles(root: string, fs: WorkspaceFs = nodeWorkspaceFs, maxBytes: number = MAX_FILE_BYTES, allowOutsideLinks = false): AboveRootFiles | undefined {
  return readAboveRoot(fs, root, maxBytes, allowOutsideLinks);
}

/** One entry of a folder, for {@link aboveRootNames}: its name and what it is (a symbolic link is `link`, whatever it points to). */
export interface FolderEntry {
  name: string;
  type: "file" | "link" | "folder" | "other";
}

/** What {@link aboveRootNames} finds in one folder above a project root. */
export interface AboveRootNames {
  /** The entry git reads as the folder's `.gitattributes`: a regular file (git follows no link to one). */
  gitattributes?: string;
  /** The entry plain sops reads as the folder's `.sops.yaml`: a link too (sops follows it). */
  sopsConfig?: string;
  /** True when the folder holds a `stellar.yaml` (anything but a folder): the project is nested in that one. */
  project: boolean;
}

/**
 * The entries of one folder above a project root that decide what happens to the project's files
 * ({@link AboveRootFiles}): the one git opens as `.gitattributes` and the one sops opens as
 * `.sops.yaml`, each the exact name when present, else a case variant (`.GitAttributes`, a lone
 * `.SOPS.yaml`: a case-insensitive checkout, macOS or Windows, opens it by the name; see
 * `openedAs`). The one choice for check's walk on disk and the staged and committed reads of
 * pre-commit and review. Pure.
 */
export function aboveRootNames(entries: Iterable<FolderEntry>): AboveRootNames {
  const list = [...entries];
  const gitattributes = openedAs(list.filter((e) => e.type === "file").map((e) => e.name), ".gitattributes");
  const sopsConfig = openedAs(list.filter((e) => e.type !== "folder").map((e) => e.name), SOPS_CONFIG_FILE);
  return {
    ...(gitattributes === undefined ? {} : { gitattributes }),
    ...(sopsConfig === undefined ? {} : { sopsConfig }),
    project: list.some((e) => e.name === PROJECT_FILE && e.type !== "folder"),
  };
}

/** The text of a small file that may not exist (undefined when absent, unreadable or too large). */
function readOptional(fs: WorkspaceFs, abs: string, maxBytes: number): string | undefined {
  try {
    const text = fs.readFile(abs);
    return Buffer.byteLength(text, "utf8") > maxBytes ? undefined : text;
  } catch {
    return undefined;
  }
}

function linkReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ELOOP") return "symbolic link loop";
  if (code === "ENOENT") return "broken symbolic link";
  return `cannot be read (${code ?? (e as Error).message})`;
}

/** Reports a config-sized file that could not be read on the file itself (a diagnostic, never only a stderr line). */
function setUnreadable(index: WorkspaceIndex, role: "config" | "catalog" | "secrets-other", rel: string, why: string): void {
  const model = unreadableConfigFile(rel, "", why);
  switch (role) {
    case "config":
      index.setConfigFile(model);
      break;
    case "catalog":
      index.setCatalog({ entries: new Map(), keyRanges: new Map(), lines: model.lines, diagnostics: model.diagnostics, path: rel });
      break;
    case "secrets-other":
      index.setOtherSecretsFile({ path: rel, diagnostics: [diagnosticAt("unencrypted-secrets-file", "error", rel, model.lines, { start: 0, end: 0 }, `${rel} ${why}`)] });
      break;
  }
}

/** Why a link that leaves the repository was not read. */
function outsideWhy(target: string): string {
  return `is a symbolic link to ${target}, outside the repository; it was not read (replace the link with the file or folder itself, or set STELLAR_SECRETS_ALLOW_OUTSIDE_LINKS=1 to follow it)`;
}
