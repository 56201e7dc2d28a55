/**
 * The workspace index: every parsed file of a repository (project config, config files,
 * environment files, catalog) and the maps derived from them (secret name → definitions and
 * references, object name → definitions, who uses whom). Files are added, replaced and removed
 * one at a time (the language server updates one edited file). Each config file contributes to
 * the derived maps through one function, applied when it is added and taken out when it is
 * removed or replaced; a change to the project, an environment file or the catalog rebuilds them
 * lazily from the already-parsed models (the same contributions), never by re-parsing.
 */
import type { ProposalFile } from "./proposals.js";
import type { CatalogEntry, ParsedCatalog } from "./catalog.js";
import type { PlaintextEnvFile } from "./plaintext-env.js";
import type { ConfigDocument, ConfigFile, ObjectLink, SecretReference } from "./config.js";
import type { Diagnostic } from "./diagnostics.js";
import { caseMissedYaml, hasOwnInclude, isJsonFile, lowerCaseExtension, notIncludedYaml, passedOverConfig, type ExcludedDefinition, type ExcludedFiles, type ExcludedReference } from "./excluded.js";
import type { OtherProject, OtherProjectDefinition } from "./other-projects.js";
import type { TextRange } from "./position.js";
import { GlobFilter } from "./globs.js";
import { credentialAsName } from "./credentials.js";
import { DEFAULT_EXCLUDE, type ProjectConfig } from "./project.js";
import { editDistance, namesAtDistance, nearestName } from "./names.js";
import type { ConfigKind } from "./schemas.js";
import type { EnvironmentFile, SecretDefinition } from "./secrets-dir.js";
import type { SecretsDirSurvey } from "./secrets-folder.js";

/** Where an object (connector, connection, action, agent) is defined. */
export interface ObjectDefinition {
  kind: ConfigKind;
  name: string;
  file: string;
  range: TextRange;
  document: ConfigDocument;
}

/** Everything known about one secret name. */
export interface SecretInfo {
  name: string;
  /** Its key in each environment file that has it, in environment order. */
  definitions: SecretDefinition[];
  /** Every reference, in file then position order. */
  references: SecretReference[];
  /** Its catalog entry, when the catalog has one. */
  catalog: CatalogEntry | undefined;
}

/** The catalog as indexed: parsed content plus its path relative to the root. */
export interface IndexedCatalog extends ParsedCatalog {
  path: string;
}

interface Derived {
  secrets: Map<string, SecretInfo>;
  sortedNames: string[];
  lowerNames: Map<string, string>;
  objects: Map<ConfigKind, Map<string, ObjectDefinition[]>>;
  agentsByAction: Map<string, ConfigDocument[]>;
  actionsByConnection: Map<string, ConfigDocument[]>;
  connectionsByAuth: Map<string, ConfigDocument[]>;
  usedIn: Map<ConfigDocument, string[]>;
  /** The declared environment names, in order (the project is fixed while these maps live). */
  environments: string[];
  /** Secret names by their first word (`reporting` for `reporting_db_password`), made when first asked. */
  byFirstWord?: Map<string, string[]>;
  /** The secret names that look like credentials ({@link WorkspaceIndex.credentialNames}). */
  credentialNames?: ReadonlySet<string>;
}

/** A file of the secrets folder that is neither an environment file nor the catalog. */
export interface OtherSecretsFile {
  path: string;
  diagnostics: Diagnostic[];
}

/** The derived lists one change touched, to re-sort and re-suggest once at the end. */
interface Touched {
  secrets: Set<SecretInfo>;
  objects: Set<ObjectDefinition[]>;
  users: Set<ConfigDocument[]>;
  kinds: Set<ConfigKind>;
}

/** How many edits a typo may be from two or more names for the suggestion to name them all (`nearestSecretName`'s `others`). */
const AMBIGUOUS_TYPO_EDITS = 2;

const touchedNothing = (): Touched => ({ secrets: new Set(), objects: new Set(), users: new Set(), kinds: new Set() });

/**
 * The files above a project root that decide what happens to its files, for a project in a
 * subfolder of its git work tree: `prefix`, the root's folder below the top (`/`-separated,
 * non-empty), and `files`, path relative to the top → text, of each `.gitattributes` (git reads
 * every one from the top down, and macros only from the top's) and `.sops.yaml` (plain sops run
 * there finds it first) of the folders from the top down to the root's parent. A lone case
 * variant (`.SOPS.yaml` with no `.sops.yaml` beside it) is there under its own name: a
 * case-insensitive checkout opens it by the name.
 */
export interface AboveRootFiles {
  prefix: string;
  files: ReadonlyMap<string, string>;
  /**
   * A `.sops.yaml` there that is a symbolic link out of the repository (path relative to the top →
   * where it points, as a message shows it), not read: git holds no target, so each clone's plain
   * sops follows it to a file of its own that no review sees (check and the pre-commit hook report
   * it; `STELLAR_SECRETS_ALLOW_OUTSIDE_LINKS=1` reads it into `files` instead).
   */
  outside?: ReadonlyMap<string, string>;
}

/**
 * The parsed files of one repository and the indexes over them. Change it only with the `set*` /
 * `remove*` methods (the maps it exposes are read-only views); query with the others (queries
 * rebuild the derived maps when needed).
 */
export class WorkspaceIndex {
  #project: ProjectConfig;
  #projectDiagnostics: Diagnostic[];
  #projectUsable: boolean;
  readonly #configFiles = new Map<string, ConfigFile>();
  readonly #environmentFiles = new Map<string, EnvironmentFile>();
  readonly #otherSecretsFiles = new Map<string, OtherSecretsFile>();
  readonly #proposalFiles = new Map<string, ProposalFile>();
  #catalog: IndexedCatalog | undefined;
  readonly #sopsConfigs = new Map<string, string>();
  readonly #gitattributes = new Map<string, string>();
  readonly #plaintextEnvFiles = new Map<string, PlaintextEnvFile>();
  #aboveRoot: AboveRootFiles | undefined;
  #secretsDirSurvey: SecretsDirSurvey | undefined;
  private derived: Derived | undefined;
  /** Nearest-name suggestions, kept across rebuilds while the set of names they were computed from is unchanged. */
  private secretSuggestions = new Map<string, { name: string; caseOnly: boolean } | null>();
  private objectSuggestions = new Map<ConfigKind, Map<string, { name: string; caseOnly: boolean } | null>>();
  private suggestionBasis: { secrets: string[]; objects: Map<ConfigKind, string[]> } = { secrets: [], objects: new Map() };
  /** Reads the objects of the files config.exclude keeps out (set by the loader); run once, when first asked. */
  #readExcluded: (() => readonly ExcludedDefinition[] | ExcludedFiles) | undefined;
  #excluded: ExcludedFiles | undefined;
  /** Reads the other projects of the repository (set by the loader); run once, when first asked. */
  #readOthers: (() => readonly OtherProject[]) | undefined;
  #others: readonly OtherProject[] | undefined;

  constructor(project: ProjectConfig, projectDiagnostics: Diagnostic[] = [], projectUsable = true) {
    this.#project = project;
    this.#projectDiagnostics = projectDiagnostics;
    this.#projectUsable = projectUsable;
  }

  /**
   * Sets how to read the objects defined in the files `config.exclude` keeps out
   * (`readExcludedDefinitions`, which the loader passes with its file system): read at most once,
   * when {@link excludedDefinition} is first asked (an `unknown-reference` message), never by a load.
   */
  setExcludedReader(read: () => readonly ExcludedDefinition[] | ExcludedFiles): void {
    this.#readExcluded = read;
    this.#excluded = undefined;
  }

  /** What the excluded files hold (read once; empty without a reader or when it fails). */
  #excludedFiles(): ExcludedFiles {
    if (this.#readExcluded === undefined) return { definitions: [], references: [] };
    if (this.#excluded === undefined) {
      try {
        const read = this.#readExcluded();
        this.#excluded = Array.isArray(read) ? { definitions: [...(read as readonly ExcludedDefinition[])], references: [] } : (read as ExcludedFiles);
      } catch {
        this.#excluded = { definitions: [], references: [] };
      }
    }
    return this.#excluded;
  }

  /**
   * The first `secret: NAME` reference to `name` in a file that `config.exclude` keeps out (as the
   * files were when first asked), for an `unused-secret` message; undefined without a reader.
   */
  excludedReference(name: string): ExcludedReference | undefined {
    return this.#excludedFiles().references.find((r) => r.secret === name);
  }

  /**
   * The paths, relative to this project's root, that a message naming a file outside the project's
   * globs may hold: each such file read so far (an `unknown-reference` or `unused-secret` message
   * asked, see {@link setExcludedReader}) and, for one whose YAML extension is not in lower case,
   * the name it is to be renamed to. Empty before, never a read. For rewording messages for a
   * reader elsewhere (`messageRewording`), as {@link otherProjectPaths}.
   */
  excludedPaths(): string[] {
    if (this.#excluded === undefined) return [];
    const files = new Set([...this.#excluded.definitions, ...this.#excluded.references].map((e) => e.path));
    return [...files].flatMap((path) => [path, ...(lowerCaseExtension(path) === undefined ? [] : [lowerCaseExtension(path) as string])]);
  }

  /**
   * Sets how to read the other projects of the repository (`readOtherProjects`, which the loader
   * passes with its file system): read at most once, when a message first asks
   * ({@link otherProjectWithSecret}, {@link otherProjectDefinition}), never by a load.
   */
  setOtherProjectsReader(read: () => readonly OtherProject[]): void {
    this.#readOthers = read;
    this.#others = undefined;
  }

  #otherProjects(): readonly OtherProject[] {
    if (this.#readOthers === undefined) return [];
    if (this.#others === undefined) {
      try {
        this.#others = this.#readOthers();
      } catch {
        this.#others = [];
      }
    }
    return this.#others;
  }

  /**
   * The paths, relative to this project's root, that a message naming another project may hold:
   * each other project's folder (`teams/labs`, `../..`), its stellar.yaml and the files that define
   * its objects. Only those read so far (a message asked, see {@link setOtherProjectsReader}): empty
   * before, never a read. For rewording messages for a reader elsewhere (`messageRewording`).
   */
  otherProjectPaths(): string[] {
    if (this.#others === undefined) return [];
    return this.#others.flatMap((p) => [...(p.path === "." ? [] : [p.path]), p.path === "." ? "stellar.yaml" : `${p.path}/stellar.yaml`, ...p.definitions.map((d) => d.path)]);
  }

  /** The first other project (a folder with its own stellar.yaml, below or around this one) whose environment files have `name`; undefined without a reader. */
  otherProjectWithSecret(name: string): OtherProject | undefined {
    return this.#otherProjects().find((p) => p.secrets.has(name));
  }

  /** An object of `kind` named `name` that another project defines, with its project; undefined without a reader. */
  otherProjectDefinition(kind: ConfigKind, name: string): { project: OtherProject; definition: OtherProjectDefinition } | undefined {
    for (const project of this.#otherProjects()) {
      const definition = project.definitions.find((d) => d.kind === kind && d.name === name);
      if (definition !== undefined) return { project, definition };
    }
    return undefined;
  }

  /**
   * An object of `kind` named `name` that a file excluded by `config.exclude` defines (as the files
   * were when first asked, or since {@link excludedFilesChanged} read them again), else undefined; undefined too when no reader was set (an index built in
   * memory). The first call reads the excluded files (bounded); later ones do not.
   */
  excludedDefinition(kind: ConfigKind, name: string): ExcludedDefinition | undefined {
    return this.#excludedFiles().definitions.find((d) => d.kind === kind && d.name === name);
  }

  /**
   * After files changed on disk (`rels`: relative to the root, a deleted folder as itself; an
   * editor's file watcher): when the excluded files were read already and one of `rels` is a file
   * a `config.exclude` glob of the project keeps out, or holds one read before (a deleted folder),
   * reads them again. True when what they define or reference changed, so the `unknown-reference`
   * and `unused-secret` messages that name an excluded file may have changed: check again. False, without reading, when they
   * were not read yet (the first {@link excludedDefinition} reads them as they are then). Never throws.
   */
  excludedFilesChanged(rels: readonly string[]): boolean {
    const known = this.#excluded;
    if (known === undefined || this.#readExcluded === undefined) return false;
    const globs = this.#project.exclude.filter((g) => !DEFAULT_EXCLUDE.includes(g));
    // (with include globs of its own, a YAML file that none matches is read too: see readExcludedFiles)
    const narrowInclude = hasOwnInclude(this.#project.include);
    // (a YAML file whose extension is not in lower case is read too: `Refund.YAML`, see readExcludedFiles)
    if (globs.length === 0 && !narrowInclude && !rels.some(passedOverConfig)) return false;
    const filter = new GlobFilter(this.#project.include, globs);
    const paths = new Set([...known.definitions.map((d) => d.path), ...known.references.map((r) => r.path)]);
    const touched = rels.some(
      (rel) =>
        filter.excludedBy(rel) !== undefined ||
        ((narrowInclude || caseMissedYaml(rel)) && notIncludedYaml(filter, rel)) ||
        (isJsonFile(rel) && !filter.includes(rel)) ||
        [...paths].some((p) => p === rel || p.startsWith(`${rel}/`)),
    );
    if (!touched) return false;
    this.#excluded = undefined;
    const again = this.#excludedFiles();
    const key = (f: ExcludedFiles): string =>
      [...f.definitions.map((d) => `d\u0000${d.kind}\u0000${d.name}\u0000${d.path}\u0000${d.line}\u0000${d.glob}\u0000${d.notIncluded === true}`), ...f.references.map((r) => `r\u0000${r.secret}\u0000${r.path}\u0000${r.line}\u0000${r.glob}\u0000${r.notIncluded === true}`)].join("\n");
    return key(known) !== key(again);
  }

  /** The project config in use (a default one when stellar.yaml is unusable; see `projectUsable`). */
  get project(): ProjectConfig {
    return this.#project;
  }
  /** Diagnostics of stellar.yaml. */
  get projectDiagnostics(): Diagnostic[] {
    return this.#projectDiagnostics;
  }
  /** False when stellar.yaml could not be read as a project at all (only its diagnostics are reported then). */
  get projectUsable(): boolean {
    return this.#projectUsable;
  }
  /** Config files by path (relative to the root). */
  get configFiles(): ReadonlyMap<string, ConfigFile> {
    return this.#configFiles;
  }
  /** Environment files by environment name (including files of undeclared environments). */
  get environmentFiles(): ReadonlyMap<string, EnvironmentFile> {
    return this.#environmentFiles;
  }
  /** Other files of the secrets folder by path. */
  get otherSecretsFiles(): ReadonlyMap<string, OtherSecretsFile> {
    return this.#otherSecretsFiles;
  }
  /** The catalog, when the secrets folder has one. */
  /** The files of the inbox (write-only proposals), by path. */
  get proposalFiles(): ReadonlyMap<string, ProposalFile> {
    return this.#proposalFiles;
  }

  get catalog(): IndexedCatalog | undefined {
    return this.#catalog;
  }

  /**
   * The text of each `.sops.yaml` the plain sops CLI may use for the secrets files (the root's
   * and those of the folders down to the secrets folder), by path relative to the root.
   */
  get sopsConfigs(): ReadonlyMap<string, string> {
    return this.#sopsConfigs;
  }
  /** Sets (text) or removes (undefined) a `.sops.yaml` (path relative to the root). */
  setSopsConfig(path: string, text: string | undefined): void {
    if (text === undefined) this.#sopsConfigs.delete(path);
    else this.#sopsConfigs.set(path, text);
  }

  /**
   * The text of each `.gitattributes` git reads for the secrets files inside the project (the
   * root's and those of the folders down to the secrets folder), by path relative to the root; a
   * lone case variant (`.GitAttributes`, which a case-insensitive checkout reads as the file) under
   * its own name.
   */
  get gitattributes(): ReadonlyMap<string, string> {
    return this.#gitattributes;
  }
  /**
   * The plaintext environment files outside the secrets folder (`.env.production`, `production.env`,
   * `secrets.production.json`) with values set, by path relative to the root: names and lines only.
   * `check` reports those git tracks whose names are this project's secrets (plaintext-env.ts).
   */
  get plaintextEnvFiles(): ReadonlyMap<string, PlaintextEnvFile> {
    return this.#plaintextEnvFiles;
  }
  /** Sets or removes (undefined) a plaintext environment file's assignments. */
  setPlaintextEnvFile(path: string, file: PlaintextEnvFile | undefined): void {
    if (file === undefined) this.#plaintextEnvFiles.delete(path);
    else this.#plaintextEnvFiles.set(path, file);
  }
  /** Sets (text) or removes (undefined) a `.gitattributes` (path relative to the root). */
  setGitattributes(path: string, text: string | undefined): void {
    if (text === undefined) this.#gitattributes.delete(path);
    else this.#gitattributes.set(path, text);
  }

  /**
   * For a project in a subfolder of its git work tree: the `.gitattributes` and `.sops.yaml` of
   * the folders above the root, which git and plain sops read for the project's files too
   * ({@link AboveRootFiles}). Undefined when the root is the top, outside git, or not read.
   */
  get aboveRoot(): AboveRootFiles | undefined {
    return this.#aboveRoot;
  }
  /** Sets (or clears) the files above the root. */
  setAboveRoot(above: AboveRootFiles | undefined): void {
    this.#aboveRoot = above;
  }

  /** Replaces the project config (after stellar.yaml changed; a survey of the secrets folder is dropped with the old one). */
  setProject(project: ProjectConfig, diagnostics: Diagnostic[], usable = true): void {
    this.#project = project;
    this.#projectDiagnostics = diagnostics;
    this.#projectUsable = usable;
    this.#secretsDirSurvey = undefined;
    this.derived = undefined;
  }

  /**
   * What the loader found at `secrets_dir` when it read no environment file and no catalog there
   * (undefined otherwise, or when the index was not made by the loader): `check` reports
   * `missing-secrets-dir` from it while the index still has neither.
   */
  get secretsDirSurvey(): SecretsDirSurvey | undefined {
    return this.#secretsDirSurvey;
  }
  /** Records (or clears) the survey of the secrets folder ({@link secretsDirSurvey}). */
  setSecretsDirSurvey(survey: SecretsDirSurvey | undefined): void {
    this.#secretsDirSurvey = survey;
  }
  /** Adds or replaces a config file (files that are not relevant are dropped). */
  setConfigFile(file: ConfigFile): void {
    const old = this.#configFiles.get(file.path);
    if (file.relevant) this.#configFiles.set(file.path, file);
    else this.#configFiles.delete(file.path);
    this.replaceContribution(old, file.relevant ? file : undefined);
  }
  /** Removes a config file. */
  removeConfigFile(path: string): void {
    const old = this.#configFiles.get(path);
    if (this.#configFiles.delete(path)) this.replaceContribution(old, undefined);
  }
  /** Adds or replaces an environment file. */
  setEnvironmentFile(file: EnvironmentFile): void {
    this.#environmentFiles.set(file.environment, file);
    this.derived = undefined;
  }
  /** Removes an environment file. */
  removeEnvironmentFile(environment: string): void {
    if (this.#environmentFiles.delete(environment)) this.derived = undefined;
  }
  /** Adds or replaces another file of the secrets folder. */
  setOtherSecretsFile(file: OtherSecretsFile): void {
    this.#otherSecretsFiles.set(file.path, file);
  }
  /** Removes another file of the secrets folder. */
  removeOtherSecretsFile(path: string): void {
    this.#otherSecretsFiles.delete(path);
  }
  /** Adds or replaces a file of the inbox. */
  setProposalFile(file: ProposalFile): void {
    this.#proposalFiles.set(file.path, file);
  }
  /** Removes a file of the inbox. */
  removeProposalFile(path: string): void {
    this.#proposalFiles.delete(path);
  }
  /** Sets or removes (undefined) the catalog. */
  setCatalog(catalog: IndexedCatalog | undefined): void {
    this.#catalog = catalog;
    this.derived = undefined;
  }

  /**
   * One config file replaced (`old` → `next`, either may be absent): its contribution is taken out
   * and put back into the derived maps, when they are built (else the next query builds them).
   */
  private replaceContribution(old: ConfigFile | undefined, next: ConfigFile | undefined): void {
    const d = this.derived;
    if (d === undefined) return;
    const touched = touchedNothing();
    if (old !== undefined) this.contribute(d, old, "remove", touched);
    if (next !== undefined) this.contribute(d, next, "add", touched);
    this.settle(d, touched);
  }

  /**
   * The one place a config file's share of the derived maps is written: its object names, its
   * references to known secrets and its links, added or taken out. The touched lists are put back
   * in order by {@link settle} (file path, then position: the order a build gives). A full build
   * passes no `touched`: it puts every list in order at the end.
   */
  private contribute(d: Derived, file: ConfigFile, op: "add" | "remove", touched: Touched | undefined): void {
    // references taken out, by the secret they name: each secret's list is filtered once (a file with
    // thousands of references to one secret took seconds, one filter of the whole list per reference)
    // (made on the first removal only: the index's full build adds every file)
    let removed: Map<SecretInfo, Set<SecretReference>> | undefined;
    for (const doc of file.documents) {
      if (doc.name !== undefined && doc.nameRange !== undefined) {
        let byName = d.objects.get(doc.kind);
        if (op === "add") {
          if (byName === undefined) d.objects.set(doc.kind, (byName = new Map()));
          const def: ObjectDefinition = { kind: doc.kind, name: doc.name, file: file.path, range: doc.nameRange, document: doc };
          // most names are defined once: a list made with its one element has no spare room
          let list = byName.get(doc.name);
          if (list === undefined) byName.set(doc.name, (list = [def]));
          else list.push(def);
          if (touched !== undefined) {
            touched.objects.add(list);
            touched.kinds.add(doc.kind);
          }
        } else {
          const list = byName?.get(doc.name);
          if (byName !== undefined && list !== undefined) {
            const rest = list.filter((o) => o.document !== doc);
            if (rest.length === 0) byName.delete(doc.name);
            else byName.set(doc.name, rest);
            touched?.kinds.add(doc.kind);
          }
        }
      }
      for (const ref of doc.references) {
        const info = d.secrets.get(ref.secret);
        if (info === undefined) continue;
        if (op === "add") {
          info.references.push(ref);
          touched?.secrets.add(info);
        } else {
          removed ??= new Map();
          let refs = removed.get(info);
          if (refs === undefined) removed.set(info, (refs = new Set()));
          refs.add(ref);
        }
      }
      for (const link of doc.links) {
        const m = link.field === "actions" ? d.agentsByAction : link.field === "connection" ? d.actionsByConnection : d.connectionsByAuth;
        if (op === "add") {
          let list = m.get(link.target);
          if (list === undefined) m.set(link.target, (list = [doc]));
          else list.push(doc);
          touched?.users.add(list);
        } else {
          const list = m.get(link.target);
          if (list === undefined) continue;
          const rest = list.filter((u) => u !== doc);
          if (rest.length === 0) m.delete(link.target);
          else m.set(link.target, rest);
        }
      }
    }
    if (removed !== undefined) for (const [info, refs] of removed) info.references = info.references.filter((r) => !refs.has(r));
  }

  /** Re-sorts the touched lists, drops kinds left empty, and forgets suggestions whose names changed. */
  private settle(d: Derived, touched: Touched): void {
    this.order(touched.secrets, touched.objects, touched.users);
    this.settleKinds(d, touched.kinds);
  }

  /** Puts lists back in order: by file path, then position (references, definitions) or document (users). */
  private order(secrets: Iterable<SecretInfo>, objects: Iterable<ObjectDefinition[]>, users: Iterable<ConfigDocument[]>): void {
    const byPlace = (a: { file: string; range: TextRange }, b: { file: string; range: TextRange }): number =>
      a.file < b.file ? -1 : a.file > b.file ? 1 : a.range.start - b.range.start;
    const byDocument = (a: ConfigDocument, b: ConfigDocument): number => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.documentIndex - b.documentIndex);
    for (const info of secrets) if (info.references.length > 1) info.references.sort(byPlace);
    for (const list of objects) if (list.length > 1) list.sort(byPlace);
    for (const list of users) if (list.length > 1) list.sort(byDocument);
  }

  /** Drops kinds left without names and forgets the suggestions of kinds whose names changed. */
  private settleKinds(d: Derived, kinds: Iterable<ConfigKind>): void {
    for (const kind of kinds) {
      const names = [...(d.objects.get(kind)?.keys() ?? [])].sort();
      if (names.length === 0) d.objects.delete(kind);
      if (!sameList(this.suggestionBasis.objects.get(kind) ?? [], names)) this.objectSuggestions.delete(kind);
      if (names.length === 0) this.suggestionBasis.objects.delete(kind);
      else this.suggestionBasis.objects.set(kind, names);
    }
    d.usedIn = new Map();
  }

  /** Names of the declared environments, in order. */
  environmentNames(): string[] {
    return this.#project.environments.map((e) => e.name);
  }

  /** True when `name` is a declared environment. */
  isDeclaredEnvironment(name: string): boolean {
    return this.#project.environments.some((e) => e.name === name);
  }

  /**
   * The derived maps: the secrets of the declared environment files (with their catalog entries),
   * then every config file's contribution ({@link contribute}, the same one a single edit applies).
   */
  private build(): Derived {
    if (this.derived !== undefined) return this.derived;
    const d = this.startBuild();
    for (const path of [...this.#configFiles.keys()].sort()) this.contribute(d, this.#configFiles.get(path) as ConfigFile, "add", undefined);
    return this.endBuild(d);
  }

  /**
   * The derived maps built a piece at a time (a config file's contribution per step), when they are
   * not built yet: for an editor's check in pieces (`crossFileCheckSteps` of check.ts), which handles
   * other work between two. A query meanwhile builds them at once; the steps then stop. The index
   * must not change while the steps run (their caller stops them and starts again when it does).
   */
  *buildSteps(): Generator<void, void, void> {
    if (this.derived !== undefined) return;
    const d = this.startBuild();
    for (const path of [...this.#configFiles.keys()].sort()) {
      yield;
      // built at once by a query between two steps: those maps stand
      if (this.derived !== undefined) return;
      this.contribute(d, this.#configFiles.get(path) as ConfigFile, "add", undefined);
    }
    this.endBuild(d);
  }

  /** {@link build}'s start: the secrets of the declared environment files (with their catalog entries), no config file's share yet. */
  private startBuild(): Derived {
    const secrets = new Map<string, SecretInfo>();
    for (const env of this.#project.environments) {
      const file = this.#environmentFiles.get(env.name);
      if (file === undefined) continue;
      for (const def of file.entries) {
        let s = secrets.get(def.name);
        if (s === undefined) secrets.set(def.name, (s = { name: def.name, definitions: [], references: [], catalog: undefined }));
        s.definitions.push(def);
      }
    }
    if (this.#catalog !== undefined) {
      for (const [name, entry] of this.#catalog.entries) {
        const s = secrets.get(name);
        if (s !== undefined) s.catalog = entry;
      }
    }
    const lowerNames = new Map<string, string>();
    const sortedNames = [...secrets.keys()].sort();
    for (const name of sortedNames) {
      const lower = name.toLowerCase();
      if (!lowerNames.has(lower)) lowerNames.set(lower, name);
    }
    if (!sameList(this.suggestionBasis.secrets, sortedNames)) this.secretSuggestions.clear();
    this.suggestionBasis.secrets = sortedNames;
    const d: Derived = {
      secrets,
      sortedNames,
      lowerNames,
      objects: new Map(),
      agentsByAction: new Map(),
      actionsByConnection: new Map(),
      connectionsByAuth: new Map(),
      usedIn: new Map(),
      environments: this.#project.environments.map((e) => e.name),
    };
    return d;
  }

  /** {@link build}'s end, once every config file contributed: every list in order, the suggestions of kinds whose names changed forgotten; the maps kept. */
  private endBuild(d: Derived): Derived {
    const { secrets } = d;
    // every list was built here: all are put in order (most already are: files in path order)
    const objectLists = (function* () {
      for (const byName of d.objects.values()) yield* byName.values();
    })();
    this.order(secrets.values(), objectLists, [...d.agentsByAction.values(), ...d.actionsByConnection.values(), ...d.connectionsByAuth.values()]);
    // every kind with names now, and those that had names at the last build and may have none now (they must forget their suggestions too)
    const kinds = new Set<ConfigKind>(d.objects.keys());
    for (const kind of this.suggestionBasis.objects.keys()) kinds.add(kind);
    for (const kind of this.objectSuggestions.keys()) kinds.add(kind);
    this.settleKinds(d, kinds);
    this.derived = d;
    return d;
  }

  /** Every secret name that some declared environment file has, sorted. */
  secretNames(): string[] {
    return [...this.build().sortedNames];
  }

  /**
   * The secret names (sorted) whose first word, up to the first `_`, is `name`'s: the secrets of
   * one service (`reporting_db_password`, `reporting_db_readonly_password`). Includes `name` when
   * it is a secret. Made once per change of the secrets.
   */
  secretNamesOfService(name: string): readonly string[] {
    const d = this.build();
    if (d.byFirstWord === undefined) {
      d.byFirstWord = new Map();
      for (const n of d.sortedNames) {
        const word = n.split("_", 1)[0] as string;
        const list = d.byFirstWord.get(word);
        if (list === undefined) d.byFirstWord.set(word, [n]);
        else list.push(n);
      }
    }
    return d.byFirstWord.get(name.split("_", 1)[0] as string) ?? [];
  }

  /**
   * The secret names that look like credentials ({@link credentialAsName}: a value given as a name),
   * which check and review never print. Made once per change of the secrets: the language server
   * asks for them at each file it checks.
   */
  credentialNames(): ReadonlySet<string> {
    const d = this.build();
    d.credentialNames ??= new Set(d.sortedNames.filter((n) => credentialAsName(n) !== undefined));
    return d.credentialNames;
  }

  /** What is known about a secret, or undefined when no declared environment file has it. */
  secret(name: string): SecretInfo | undefined {
    return this.build().secrets.get(name);
  }

  /** A secret name equal to `name` ignoring case (the first in sort order), or undefined. */
  secretNameIgnoringCase(name: string): string | undefined {
    return this.build().lowerNames.get(name.toLowerCase());
  }

  /**
   * The defined secret name nearest to `name` (see {@link nearestName}: same name in another case
   * first), cached until the set of secret names changes. Undefined when none is close.
   */
  nearestSecretName(name: string): { name: string; caseOnly: boolean; others?: string[] } | undefined {
    const d = this.build();
    const cached = this.secretSuggestions.get(name);
    if (cached !== undefined) return cached ?? undefined;
    const lower = d.lowerNames.get(name.toLowerCase());
    let found: { name: string; caseOnly: boolean; others?: string[] } | undefined =
      lower !== undefined && lower !== name ? { name: lower, caseOnly: true } : nearestName(name, d.sortedNames);
    if (found !== undefined && !found.caseOnly) {
      // an ambiguous typo: the other names exactly as near, when that is one or two edits (a prefix
      // match has none; names further off are no typo to choose between, and finding every name
      // at a larger distance costs a full comparison with most names of a large project)
      const distance = editDistance(name.toLowerCase(), found.name.toLowerCase(), AMBIGUOUS_TYPO_EDITS);
      if (distance <= AMBIGUOUS_TYPO_EDITS) {
        const others = namesAtDistance(name, d.sortedNames, distance, new Set([found.name, name]));
        if (others.length > 0) found = { ...found, others };
      }
    }
    this.secretSuggestions.set(name, found ?? null);
    return found;
  }

  /** The object name of `kind` nearest to `name`, cached until the names of that kind change. */
  nearestObjectName(kind: ConfigKind, name: string): { name: string; caseOnly: boolean } | undefined {
    this.build();
    let cache = this.objectSuggestions.get(kind);
    if (cache === undefined) this.objectSuggestions.set(kind, (cache = new Map()));
    const cached = cache.get(name);
    if (cached !== undefined) return cached ?? undefined;
    const found = nearestName(name, this.suggestionBasis.objects.get(kind) ?? []);
    cache.set(name, found ?? null);
    return found;
  }

  /** Every reference to secrets, including references to unknown names, in file order. */
  allReferences(): SecretReference[] {
    const out: SecretReference[] = [];
    for (const path of [...this.#configFiles.keys()].sort()) {
      for (const doc of (this.#configFiles.get(path) as ConfigFile).documents) out.push(...doc.references);
    }
    return out;
  }

  /** References to `name` (empty for an unknown name; use {@link allReferences} to find those). */
  referencesTo(name: string): SecretReference[] {
    return this.build().secrets.get(name)?.references ?? [];
  }

  /** Objects of a kind, by name (a name defined twice has two entries). */
  objects(kind: ConfigKind): ReadonlyMap<string, ObjectDefinition[]> {
    return this.build().objects.get(kind) ?? new Map();
  }

  /** The definitions of an object. */
  objectDefinitions(kind: ConfigKind, name: string): ObjectDefinition[] {
    return this.objects(kind).get(name) ?? [];
  }

  /** Documents that link to a named object: agents for an action, actions for a connection, connections for an auth connector. */
  usersOf(kind: ConfigKind, name: string): ConfigDocument[] {
    return this.linkUsers(kind)?.get(name) ?? [];
  }

  /**
   * Every link to an object of `kind`, by the name it names (resolved or not): the documents that
   * link to it, as {@link usersOf} gives them for one name. Undefined for a kind no link names.
   */
  linkUsers(kind: ConfigKind): ReadonlyMap<string, ConfigDocument[]> | undefined {
    const d = this.build();
    if (kind === "action") return d.agentsByAction;
    if (kind === "api_connection") return d.actionsByConnection;
    if (kind === "auth_connector") return d.connectionsByAuth;
    return undefined;
  }

  /**
   * The declared environments where a document is used, in declared order: an action's or agent's
   * own `environments`; else, for an action, those of the agents that list it; for a connection,
   * those of its actions; for an auth connector, those of its connections; else every environment.
   * None through users of a name defined more than once (which definition they mean is unknown).
   * The list is kept by the index and may be shared by several documents: do not change it.
   */
  environmentsUsedBy(doc: ConfigDocument): string[] {
    const d = this.build();
    const cached = d.usedIn.get(doc);
    if (cached !== undefined) return cached;
    d.usedIn.set(doc, []); // guards against cycles through malformed links
    const all = d.environments;
    let result: string[];
    if (doc.environments !== undefined) {
      const own = doc.environments;
      result = all.filter((e) => own.some((m) => m.name === e));
    } else {
      const users = doc.name === undefined ? [] : this.usersOf(doc.kind, doc.name);
      if (users.length > 0 && this.objectDefinitions(doc.kind, doc.name as string).length > 1) {
        // a name defined twice (a copy that kept the name): which definition its users mean cannot
        // be told, so no environment is derived through either (the duplicate is a schema error)
        result = [];
      } else if (users.length === 0) {
        result = all.slice();
      } else {
        // a handful of environments: arrays, no sets. Every result is an ordered part of `all`,
        // so when all users have the same list (one user, or users alike: the usual case) that
        // list is the result, shared (no filter, no array per document).
        const first = this.environmentsUsedBy(users[0] as ConfigDocument);
        let same = true;
        const theirs: string[][] = [first];
        for (let i = 1; i < users.length; i++) {
          const t = this.environmentsUsedBy(users[i] as ConfigDocument);
          theirs.push(t);
          if (same && t !== first && !sameList(t, first)) same = false;
        }
        result = same ? first : all.filter((e) => theirs.some((t) => t.includes(e)));
      }
    }
    d.usedIn.set(doc, result);
    return result;
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One thing at a position of a file, for hover, go-to-definition, references and rename. */
export type WorkspaceTarget =
  | { type: "secret-reference"; secret: string; range: TextRange; reference: SecretReference }
  | { type: "secret-definition"; secret: string; range: TextRange; definition: SecretDefinition }
  | { type: "catalog-entry"; secret: string; range: TextRange }
  | { type: "object-link"; range: TextRange; link: ObjectLink; document: ConfigDocument }
  | { type: "object-name"; range: TextRange; kind: ConfigKind; name: string; document: ConfigDocument }
  | { type: "environment"; range: TextRange; name: string; document: ConfigDocument };

const within = (r: TextRange, offset: number): boolean => r.start <= offset && offset <= r.end;

/**
 * What is at `offset` (0-based UTF-16, the end of a name counts) of the file `path` (relative to
 * the root): a secret reference or definition, a catalog key, an object name or link, an
 * environment mention. Undefined when nothing is.
 */
export function findAt(index: WorkspaceIndex, path: string, offset: number): WorkspaceTarget | undefined {
  const config = index.configFiles.get(path);
  if (config !== undefined) {
    for (const doc of config.documents) {
      if (offset < doc.range.start || offset > doc.range.end) continue;
      for (const reference of doc.references) {
        if (within(reference.range, offset)) return { type: "secret-reference", secret: reference.secret, range: reference.range, reference };
      }
      for (const link of doc.links) if (within(link.range, offset)) return { type: "object-link", range: link.range, link, document: doc };
      if (doc.name !== undefined && doc.nameRange !== undefined && within(doc.nameRange, offset)) {
        return { type: "object-name", range: doc.nameRange, kind: doc.kind, name: doc.name, document: doc };
      }
      for (const e of doc.environments ?? []) if (within(e.range, offset)) return { type: "environment", range: e.range, name: e.name, document: doc };
    }
    return undefined;
  }
  for (const file of index.environmentFiles.values()) {
    if (file.path !== path) continue;
    for (const definition of file.entries) {
      if (within(definition.range, offset)) return { type: "secret-definition", secret: definition.name, range: definition.range, definition };
    }
    return undefined;
  }
  if (index.catalog !== undefined && index.catalog.path === path) {
    for (const [secret, range] of index.catalog.keyRanges) if (within(range, offset)) return { type: "catalog-entry", secret, range };
  }
  return undefined;
}
