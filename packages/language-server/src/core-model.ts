/**
 * {@link ProjectModel} over core's {@link WorkspaceIndex} and {@link checkWorkspace}: the server
 * reads files (editor buffers win over the disk), core parses and checks them. Updating one file
 * re-parses only that file; the check is core's single pass over the already-parsed models.
 */
import { existsSync, lstatSync, readFileSync } from "node:fs";
import { dirname, isAbsolute } from "node:path";
import {
  checkConfigFile,
  checkOtherSecretsFile,
  CONFIG_KINDS,
  excludedDefinitionNote,
  checkWorkspace,
  crossFileCheckSteps,
  type CheckOptions,
  classifyPath,
  configEditAffects,
  CrossFileCache,
  completionCandidates,
  completionContextAt,
  type CompletionCandidate,
  type CompletionContext,
  findAt,
  GlobFilter,
  loadWorkspaceSteps,
  type LoadedWorkspace,
  nodeWorkspaceFs,
  parseCatalog,
  parseConfigFile,
  parseEnvironmentFile,
  readEnvironmentFile,
  rotationTrackedFiles,
  sopsConfigCandidates,
  gitattributesCandidates,
  secretsDirSurveyOf,
  linkedProposalFile,
  linkTarget,
  readProposalFile,
  readAboveRootFiles,
  unreadableConfigFile,
  type FileRole,
  type ValueHistory,
  type WorkspaceFs,
  WorkspaceIndex,
  type CatalogEntry,
  type ConfigDocument,
  type ConfigFile,
  type ConfigKind,
  type Diagnostic,
  type LineIndex,
  type ProjectConfig,
  type SecretReference as CoreReference,
} from "@stellar-secrets/core";
import { readUnresolvedMerges, readValueHistory, shallowCutOf, startCommittedVersions } from "@stellar-secrets/git";
import type { Position } from "vscode-languageserver";
import type { CommittedTexts, ObjectDefinition, ObjectReference, ProjectModel, SecretKey, SecretReference, SymbolDocument, Target } from "./model.js";
import { toLspRange, toOffset } from "./ranges.js";
import { fromProjectPath, toProjectPath } from "./uris.js";
import type { ProjectIndexCache } from "./index-cache.js";
import { LoadStopped, type TextSource } from "./workspace.js";

/**
 * The environment of the server's git processes. The server reads git in the background for any
 * folder the editor opens, before the user trusts it: in a partial clone, a blob not fetched yet
 * would make git fetch it from the promisor remote, over the network, with the transport and ssh
 * command the folder's own `.git/config` names (a downloaded archive carries one). The server never
 * fetches (`GIT_NO_LAZY_FETCH=1`: git then answers "missing"); it reads what the clone holds, and
 * a blob it lacks is one it cannot compare (docs/threat-model.md). The CLI, run on purpose, does fetch.
 */
function serverGitEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GIT_NO_LAZY_FETCH: "1" };
}

/** Builds the model of the project whose stellar.yaml is `configPath` with core's loader (editor buffers win over the disk). */
export async function createCoreModel(configPath: string, source: TextSource): Promise<ProjectModel> {
  const fs: WorkspaceFs = {
    ...nodeWorkspaceFs,
    readFile: (path) => source.bufferOf(path) ?? nodeWorkspaceFs.readFile(path),
    // the loader prefers this for listed regular files: the open buffer still wins
    readListedFile: (path) => source.bufferOf(path) ?? (nodeWorkspaceFs.readListedFile as (p: string) => string)(path),
    // a folder listed a moment ago while finding the projects is not listed again
    readdir: (path) => source.takeListing?.(path) ?? nodeWorkspaceFs.readdir(path),
  };
  // config files whose text is unchanged since an earlier run take their models from the on-disk cache (index-cache.ts)
  const cache = source.indexCache?.open(dirname(configPath));
  // the checker's own size limit per kind of file (config, environment file), as `check` reads them
  // a piece at a time: between two, the source may let the messages that came meanwhile be handled, or stop the load (`shutdown`)
  const steps = loadWorkspaceSteps(dirname(configPath), { fs, ...(cache === undefined ? {} : { configModels: cache.models }) });
  let loaded: LoadedWorkspace;
  for (;;) {
    const step = steps.next();
    if (step.done === true) {
      loaded = step.value;
      break;
    }
    const pause = source.pause?.();
    if (pause !== undefined && (await pause)) {
      steps.return({ index: undefined as never, skipped: [] });
      throw new LoadStopped(configPath);
    }
  }
  const { index } = loaded;
  cache?.loaded(index.configFiles.size);
  // (a stellar.yaml that does not parse gives no config files: its empty index never replaces the cache)
  return new CoreModel(configPath, index, source, index.projectUsable ? cache : undefined);
}

/**
 * True when two lists of diagnostics are equal: the same objects, else the same values in every
 * field the editor is given (`toLspDiagnostic`'s: rule, severity, file, range, message, secret,
 * suggestion, alternatives), so that a file is reported as changed exactly when what it publishes
 * changed. Field by field without allocating: serializing a file's tens of thousands of
 * diagnostics took over a second, and listing each one's keys (`Object.keys`, twice per
 * diagnostic) most of a 4 MB file's comparison and its garbage.
 */
function sameDiagnostics(a: readonly Diagnostic[] | undefined, b: readonly Diagnostic[]): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameDiagnostic(a[i] as Diagnostic, b[i] as Diagnostic)) return false;
  return true;
}

function sameDiagnostic(a: Diagnostic, b: Diagnostic): boolean {
  if (a === b) return true;
  return (
    a.line === b.line &&
    a.column === b.column &&
    a.endLine === b.endLine &&
    a.endColumn === b.endColumn &&
    a.rule === b.rule &&
    a.severity === b.severity &&
    a.message === b.message &&
    a.file === b.file &&
    a.secret === b.secret &&
    a.suggestion === b.suggestion &&
    sameList(a.alternatives, b.alternatives)
  );
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

class CoreModel implements ProjectModel {
  readonly root: string;
  readonly configPath: string;
  config: ProjectConfig | undefined;
  private filter: GlobFilter;
  /** Diagnostics by absolute path, from the last check. */
  private byFile = new Map<string, Diagnostic[]>();
  /** Each config file's cross-file diagnostics from the last check: an edit re-checks only the files it can change. */
  private readonly crossFile = new CrossFileCache();
  /** Where values were last set (git), for `rotation-overdue`; undefined: the rule is off. */
  history: ValueHistory | undefined;
  /** The committed versions of the environment files, for `stale-mac`; undefined until read (only the checks within each file run). */
  committed: CommittedTexts | undefined;

  constructor(
    configPath: string,
    private readonly index: WorkspaceIndex,
    private readonly source: TextSource,
    private readonly cache?: ProjectIndexCache,
  ) {
    this.configPath = configPath;
    this.root = dirname(configPath);
    this.config = index.projectUsable ? index.project : undefined;
    this.filter = new GlobFilter(index.project.include, index.project.exclude);
    // no check yet: the index answers requests at once, the first check runs when diagnostics are first asked for
  }

  /** False until the first check: the diagnostics are computed when first asked for (ensureChecked). */
  private checked = false;

  /** Runs the first check when none has run yet (a model answers from its index before its diagnostics are known). */
  private ensureChecked(): void {
    if (!this.checked) this.recheck();
  }

  private rel(path: string): string {
    return toProjectPath(this.root, path);
  }
  private abs(rel: string): string {
    return fromProjectPath(this.root, rel);
  }

  private roleOf(rel: string): FileRole {
    if (rel === "" || rel.startsWith("../") || rel === ".." || isAbsolute(rel)) return { role: "ignored" };
    return classifyPath(this.index.project, rel, this.filter);
  }

  /**
   * Parses one file into the index (text undefined = gone). stellar.yaml is reloaded by the server
   * as a whole. A failure while parsing one file is reported on that file (a `schema` error), never
   * thrown past it: the other files keep their diagnostics.
   */
  private apply(rel: string, text: string | undefined): void {
    this.changes++;
    // a config file: the files it can change, found at the next check; anything else (environment files, catalog): all of them
    if (this.roleOf(rel).role !== "config") this.crossFile.invalidateAll();
    else if (!this.replaced.has(rel)) this.replaced.set(rel, this.index.configFiles.get(rel));
    this.applyOrReport(rel, text);
  }

  /** Config files replaced since the last check: relative path → the version that check saw. */
  private readonly replaced = new Map<string, ConfigFile | undefined>();

  /** Tells the cross-file cache which config files the replaced ones can change (against the index as it is now). */
  private invalidateReplaced(): void {
    for (const [rel, old] of this.replaced) {
      const affected = configEditAffects(this.index, old, this.index.configFiles.get(rel));
      if (affected === "all") this.crossFile.invalidateAll();
      else this.crossFile.invalidate(affected);
    }
    this.replaced.clear();
  }

  checkIsIncremental(): boolean {
    return this.crossFile.incremental;
  }

  private applyOrReport(rel: string, text: string | undefined): void {
    try {
      this.applyFile(rel, text);
    } catch (e) {
      const role = this.roleOf(rel).role;
      const model = unreadableConfigFile(rel, text ?? "", `could not be read: ${e instanceof Error ? e.message : String(e)}`);
      if (role === "catalog") this.index.setCatalog({ entries: new Map(), keyRanges: new Map(), lines: model.lines, diagnostics: model.diagnostics, path: rel });
      else if (role === "config") this.index.setConfigFile(model);
      else if (role === "secrets-other") this.index.setOtherSecretsFile({ path: rel, diagnostics: model.diagnostics });
    }
  }

  private applyFile(rel: string, text: string | undefined): void {
    if (this.isSopsConfig(rel)) this.index.setSopsConfig(rel, text ?? this.source.bufferOf(this.abs(rel)) ?? readTextOrUndefined(this.abs(rel)));
    if (this.isGitattributes(rel)) this.index.setGitattributes(rel, text ?? this.source.bufferOf(this.abs(rel)) ?? readTextOrUndefined(this.abs(rel)));
    const role = this.roleOf(rel);
    switch (role.role) {
      case "environment":
      {
        // An open buffer is what the user sees; otherwise read the disk exactly as `check` does
        // (bytes: invalid UTF-8, NUL bytes and the size limit are reported, never read leniently).
        const abs = this.abs(rel);
        const buffer = this.source.bufferOf(abs);
        if (buffer !== undefined) this.index.setEnvironmentFile(parseEnvironmentFile(buffer, rel, role.environment));
        else if (text === undefined && !existsSync(abs)) this.index.removeEnvironmentFile(role.environment);
        else this.index.setEnvironmentFile(readEnvironmentFile(nodeWorkspaceFs, abs, rel, role.environment));
        return;
      }
      case "catalog":
        this.index.setCatalog(text === undefined ? undefined : { ...parseCatalog(text, rel), path: rel });
        return;
      case "secrets-other":
        if (text === undefined) this.index.removeOtherSecretsFile(rel);
        else this.index.setOtherSecretsFile({ path: rel, diagnostics: checkOtherSecretsFile(text, rel) });
        return;
      case "proposal":
        if (text === undefined && !existsSync(this.abs(rel)) && !isSymbolicLink(this.abs(rel))) this.index.removeProposalFile(rel);
        // a link is reported on itself and never followed, as `check` does
        else if (isSymbolicLink(this.abs(rel))) this.index.setProposalFile(linkedProposalFile(rel, role.inSecretsDir, linkTarget(nodeWorkspaceFs, this.root, this.abs(rel))));
        else this.index.setProposalFile(readProposalFile(nodeWorkspaceFs, this.abs(rel), rel, role.inSecretsDir));
        return;
      case "config":
        this.cache?.touch();
        if (text === undefined) this.index.removeConfigFile(rel);
        else {
          const model = parseConfigFile(text, rel);
          this.cache?.models.parsed(rel, text, model);
          this.index.setConfigFile(model);
        }
        return;
      case "project":
      case "ignored":
        return;
    }
  }

  /**
   * Counts the changes of the index (files applied, history, committed versions, the secrets
   * folder's survey, excluded files, the files above the root): the first check cut into pieces
   * ({@link firstCheckSteps}) stops when it moved between two pieces.
   */
  private changes = 0;

  /** What core's checker is given: the git history, the committed versions, the cross-file cache. */
  private checkOptions(): CheckOptions {
    // An open environment file is checked as its buffer: unsaved edits are compared with HEAD too.
    const committed = this.committed;
    return {
      ...(this.history === undefined ? {} : { history: this.history }),
      ...(committed === undefined || committed.size === 0 ? {} : { committed: (rel: string) => committed.get(rel) }),
      ...(committed?.unresolved === undefined || committed.unresolved.size === 0 ? {} : { unresolvedMerges: (rel: string) => committed.unresolved?.get(rel) }),
      ...(committed?.earlier === undefined || committed.earlier.size === 0 ? {} : { earlier: (rel: string) => committed.earlier?.get(rel) }),
      crossFileCache: this.crossFile,
    };
  }

  /** Counts the checks run ({@link recheck}): pieces of a check ({@link flushSteps}) stop when one ran meanwhile. */
  private checks = 0;

  /** Runs core's checker and returns the absolute paths whose diagnostics changed. */
  private recheck(): Set<string> {
    this.checked = true;
    this.checks++;
    this.invalidateReplaced();
    return this.keep(checkWorkspace(this.index, this.checkOptions()));
  }

  firstCheckSteps(): Iterator<void, void, void> | undefined {
    return this.checked ? undefined : this.firstCheckInSteps();
  }

  /**
   * The first check in pieces: core's {@link crossFileCheckSteps} (the index's maps, then each config
   * file's cross-file diagnostics into the cache, a piece at a time), then {@link recheck}, which takes
   * those from the cache: the same diagnostics as {@link recheck} alone. It stops without effect
   * when the index changed between two pieces or a check ran meanwhile (the cache is left as it was:
   * unsettled, the next check fills it whole; or settled by the check that ran).
   */
  private *firstCheckInSteps(): Generator<void, void, void> {
    const start = this.changes;
    this.invalidateReplaced();
    const steps = crossFileCheckSteps(this.index, this.crossFile);
    while (steps.next().done !== true) {
      yield;
      if (this.checked || this.changes !== start) {
        steps.return();
        return;
      }
    }
    // the rest at once (its largest part, the config files' cross-file diagnostics, from the cache)
    this.recheck();
  }

  /** Keeps the diagnostics of a check (sorted by file); returns the absolute paths whose diagnostics changed. */
  private keep(all: readonly Diagnostic[]): Set<string> {
    const next = new Map<string, Diagnostic[]>();
    // sorted by file: one absolute path per run of a file's diagnostics (a file can have tens of thousands)
    let rel: string | undefined;
    let l: Diagnostic[] = [];
    for (const d of all) {
      if (d.file !== rel) {
        rel = d.file;
        const p = this.abs(rel);
        const known = next.get(p);
        if (known === undefined) next.set(p, (l = []));
        else l = known;
      }
      l.push(d);
    }
    const changed = new Set<string>();
    for (const [p, ds] of next) if (!sameDiagnostics(this.byFile.get(p), ds)) changed.add(p);
    for (const p of this.byFile.keys()) if (!next.has(p)) changed.add(p);
    this.byFile = next;
    // the models as they are now go to the on-disk cache after a pause (when any changed)
    this.cache?.checked(() => this.index.configFiles.values());
    return changed;
  }

  historyKey(): string {
    return rotationTrackedFiles(this.index)
      .map((f) => `${f.environment}\u0000${f.path}`)
      .join("\n");
  }

  readHistory(): Promise<ValueHistory | undefined> {
    // the same git-backed history `stellar-secrets check` reads (uncommitted changes: the saved files)
    return readValueHistory(this.index, serverGitEnv());
  }

  shallowCut(): string | undefined {
    return shallowCutOf(this.root, serverGitEnv());
  }

  setHistory(history: ValueHistory | undefined): Set<string> {
    if (history === undefined && this.history === undefined) return new Set();
    this.changes++;
    this.history = history;
    // (the config files' cross-file diagnostics do not depend on the history: they stay cached, and
    // the re-check is the check's rest, not a whole check of every file at once)
    return this.recheck();
  }

  committedKey(): string {
    return [...this.index.environmentFiles.values()]
      .map((f) => f.path)
      .sort()
      .join("\n");
  }

  async readCommitted(): Promise<CommittedTexts> {
    // the same versions `stellar-secrets check` compares with (HEAD, and a merge's other side)
    // and the merge driver's records of unresolved names, as `check` reads them (files under the git directory; no git process)
    // (and their versions in HEAD's parents: a hand edit already committed, as `check` compares)
    const paths = [...this.index.environmentFiles.values()].map((f) => f.path);
    const [read, unresolved] = await Promise.all([
      paths.length === 0
        ? { committed: new Map<string, string[]>(), earlier: new Map<string, string[]>(), parentsNotFetched: undefined }
        : startCommittedVersions(this.root, serverGitEnv()).readWithEarlier(paths),
      readUnresolvedMerges(this.root, serverGitEnv()),
    ]);
    const texts: CommittedTexts = read.committed;
    return Object.assign(
      texts,
      unresolved.size === 0 ? {} : { unresolved },
      read.earlier.size === 0 ? {} : { earlier: read.earlier },
      read.parentsNotFetched === undefined ? {} : { parentsNotFetched: read.parentsNotFetched },
    );
  }

  setCommitted(committed: CommittedTexts | undefined): Set<string> {
    const none = (c: CommittedTexts | undefined) => c === undefined || (c.size === 0 && (c.unresolved?.size ?? 0) === 0 && (c.earlier?.size ?? 0) === 0);
    if (none(committed) && none(this.committed)) return new Set();
    this.changes++;
    this.committed = committed;
    // (nor on the committed versions: stale-mac has a cache of its own, keyed by them)
    return this.recheck();
  }

  files(): Iterable<string> {
    this.ensureChecked();
    return this.byFile.keys();
  }

  indexedUnder(dir: string): string[] {
    const prefix = `${this.rel(dir).replace(/\/+$/, "")}/`;
    if (prefix === "/" || prefix.startsWith("../")) return [];
    const rels = [
      ...this.index.configFiles.keys(),
      ...this.index.otherSecretsFiles.keys(),
      ...this.index.proposalFiles.keys(),
      ...[...this.index.environmentFiles.values()].map((f) => f.path),
      ...(this.index.catalog ? [this.index.catalog.path] : []),
    ];
    return rels.filter((r) => r.startsWith(prefix)).map((r) => this.abs(r));
  }

  owns(path: string): boolean {
    const rel = this.rel(path);
    return this.roleOf(rel).role !== "ignored" || this.isSopsConfig(rel) || this.isGitattributes(rel);
  }

  /** A `.gitattributes` git reads for the secrets files (`git-attributes` is about it): the root's and those of the folders down to the secrets folder. */
  private isGitattributes(rel: string): boolean {
    return rel.endsWith(".gitattributes") && gitattributesCandidates(this.index.project.secretsDir.replace(/\/+$/, "")).includes(rel);
  }

  /**
   * A `.sops.yaml` the plain sops CLI may use for the secrets files (`sops-config-drift` is about
   * it): the project's whether or not `config.include` matches it, read again when it changes.
   */
  private isSopsConfig(rel: string): boolean {
    return rel.endsWith(".sops.yaml") && sopsConfigCandidates(this.index.project.secretsDir).includes(rel);
  }

  fileExists(path: string): boolean {
    const role = this.roleOf(this.rel(path));
    if (role.role !== "environment") return false;
    const f = this.index.environmentFiles.get(role.environment);
    return f !== undefined && f.readable && f.recipients !== undefined;
  }

  diagnostics(path: string): readonly Diagnostic[] {
    this.ensureChecked();
    return this.byFile.get(path) ?? [];
  }

  private staged = new Set<string>();

  stage(path: string, text: string | undefined): void {
    this.apply(this.rel(path), text);
    this.staged.add(path);
  }

  quickCheck(path: string): Set<string> {
    const rel = this.rel(path);
    if (this.roleOf(rel).role !== "config") return new Set();
    this.ensureChecked();
    const ds = this.index.configFiles.has(rel) ? checkConfigFile(this.index, rel) : [];
    if (sameDiagnostics(this.byFile.get(path) ?? [], ds)) return new Set();
    if (ds.length === 0) this.byFile.delete(path);
    else this.byFile.set(path, ds);
    return new Set([path]);
  }

  /**
   * {@link flush} a piece at a time: core's {@link crossFileCheckSteps} fills the cross-file
   * diagnostics the staged edits invalidated (every config file's after an environment file, the
   * catalog; those an edit of a config file can change after it), a config file per piece, then
   * {@link flush} takes them from the cache: the same diagnostics as {@link flush} alone. Its value
   * at the end is what {@link flush} returns; undefined when it stopped without effect (the project
   * changed between two pieces, or a check ran meanwhile: call {@link flush}). Undefined (no
   * steps) when nothing is staged. On a project not checked yet (an edit before the first check
   * ended: its pieces stopped at the edit) the pieces are those of the first check.
   */
  flushSteps(): Iterator<void, Set<string> | undefined, void> | undefined {
    if (this.staged.size === 0) return undefined;
    return this.flushInSteps();
  }

  private *flushInSteps(): Generator<void, Set<string> | undefined, void> {
    const changes = this.changes;
    const checks = this.checks;
    this.invalidateReplaced();
    const steps = crossFileCheckSteps(this.index, this.crossFile);
    while (steps.next().done !== true) {
      yield;
      if (this.changes !== changes || this.checks !== checks) {
        steps.return();
        return undefined;
      }
    }
    return this.flush();
  }

  flush(): Set<string> {
    if (this.staged.size === 0) return new Set();
    // only the files whose diagnostics changed: the staged ones' own were reported by quickCheck when they changed
    const changed = this.recheck();
    this.staged.clear();
    return changed;
  }

  update(path: string, text: string | undefined): Set<string> {
    this.stage(path, text);
    return this.flush();
  }

  resurveySecretsDir(): Set<string> {
    let projectText = "";
    try {
      projectText = this.source.bufferOf(this.configPath) ?? nodeWorkspaceFs.readFile(this.configPath);
    } catch {
      // gone: the server reloads the project; where secrets_dir is written is not known meanwhile
    }
    const before = this.index.secretsDirSurvey;
    const after = secretsDirSurveyOf(this.index, nodeWorkspaceFs, projectText);
    if (JSON.stringify(before) === JSON.stringify(after)) return new Set();
    this.changes++;
    this.index.setSecretsDirSurvey(after);
    // not checked yet: the first check will see it
    return this.checked ? this.recheck() : new Set();
  }

  excludedFilesChanged(paths: readonly string[]): Set<string> {
    const rels = paths.map((p) => this.rel(p)).filter((rel) => rel !== "" && rel !== ".." && !rel.startsWith("../") && !isAbsolute(rel));
    if (rels.length === 0 || !this.index.excludedFilesChanged(rels)) return new Set();
    this.changes++;
    // unknown-reference messages of any config file may name them: none of the cached ones stands
    this.crossFile.invalidateAll();
    return this.checked ? this.recheck() : new Set();
  }

  aboveRootFolders(): string[] {
    const prefix = this.index.aboveRoot?.prefix;
    if (prefix === undefined || prefix === "") return [];
    // the root's ancestors, as many as the prefix has folders: the top of the work tree first
    const out: string[] = [];
    let dir = dirname(this.root);
    for (let i = 0; i < prefix.split("/").length; i++, dir = dirname(dir)) out.unshift(dir);
    return out;
  }

  aboveRootChanged(paths: readonly string[]): Set<string> {
    const folders = this.aboveRootFolders();
    // (a deleted folder between the top and the root arrives as itself)
    if (folders.length === 0 || !paths.some((p) => folders.includes(dirname(p)) || folders.includes(p))) return new Set();
    const before = this.index.aboveRoot;
    const after = readAboveRootFiles(this.root, { ...nodeWorkspaceFs, readFile: (path) => this.source.bufferOf(path) ?? nodeWorkspaceFs.readFile(path) });
    const same =
      before !== undefined &&
      after !== undefined &&
      before.prefix === after.prefix &&
      before.files.size === after.files.size &&
      [...after.files].every(([rel, text]) => before.files.get(rel) === text) &&
      (before.outside?.size ?? 0) === (after.outside?.size ?? 0) &&
      [...(after.outside ?? [])].every(([rel, target]) => before.outside?.get(rel) === target);
    if (same) return new Set();
    this.changes++;
    this.index.setAboveRoot(after);
    // not checked yet: the first check will see it
    return this.checked ? this.recheck() : new Set();
  }

  otherProjectPaths(): string[] {
    return this.index.otherProjectPaths();
  }

  excludedDefinitionNote(kind: string, name: string): string | undefined {
    if (!(CONFIG_KINDS as readonly string[]).includes(kind)) return undefined;
    const excluded = this.index.excludedDefinition(kind as ConfigKind, name);
    return excluded === undefined ? undefined : excludedDefinitionNote(excluded);
  }

  secretNames(): string[] {
    return this.index.secretNames();
  }

  environmentsOf(name: string): string[] {
    return (this.index.secret(name)?.definitions ?? []).filter((d) => !d.empty).map((d) => d.environment);
  }

  keysOf(name: string): SecretKey[] {
    const out: SecretKey[] = [];
    for (const d of this.index.secret(name)?.definitions ?? []) {
      const lines = this.index.environmentFiles.get(d.environment)?.lines;
      if (lines !== undefined) out.push({ name, environment: d.environment, path: this.abs(d.file), range: toLspRange(lines, d.range) });
    }
    return out;
  }

  private documentOf(ref: CoreReference): ConfigDocument | undefined {
    return this.index.configFiles.get(ref.file)?.documents.find((d) => d.documentIndex === ref.documentIndex);
  }

  /** `path`: the absolute path of `ref.file` when the caller has it already (no relative → absolute round trip). */
  private toReference(ref: CoreReference, path = this.abs(ref.file)): SecretReference {
    const file = this.index.configFiles.get(ref.file) as ConfigFile;
    const doc = this.documentOf(ref);
    return {
      name: ref.secret,
      path,
      range: toLspRange(file.lines, ref.range),
      ownerKind: ref.kind,
      ownerName: ref.owner,
      environments: doc === undefined ? [] : this.index.environmentsUsedBy(doc),
    };
  }

  referenceCount(name: string): number {
    return this.coreReferencesTo(name).length;
  }

  referencesTo(name: string): SecretReference[] {
    return this.coreReferencesTo(name).map((r) => this.toReference(r));
  }

  /** The index's references of a secret; of a name no environment file has, found in the config files (the index keeps only known secrets'). */
  private coreReferencesTo(name: string): ReturnType<WorkspaceIndex["referencesTo"]> {
    if (this.index.secret(name) !== undefined) return this.index.referencesTo(name);
    const out: ReturnType<WorkspaceIndex["referencesTo"]> = [];
    for (const file of this.index.configFiles.values()) for (const doc of file.documents) for (const ref of doc.references) if (ref.secret === name) out.push(ref);
    return out;
  }

  objects(kind: string): ObjectDefinition[] {
    const out: ObjectDefinition[] = [];
    for (const defs of this.index.objects(kind as ConfigKind).values()) {
      for (const d of defs) {
        const lines = this.index.configFiles.get(d.file)?.lines;
        if (lines !== undefined) out.push({ kind: d.kind, name: d.name, path: this.abs(d.file), range: toLspRange(lines, d.range) });
      }
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  objectReferences(kind: string, name: string): ObjectReference[] {
    const out: ObjectReference[] = [];
    for (const [rel, file] of this.index.configFiles) {
      for (const doc of file.documents) {
        for (const link of doc.links) {
          if (link.targetKind === kind && link.target === name) out.push({ kind, name, path: this.abs(rel), range: toLspRange(file.lines, link.range) });
        }
      }
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.range.start.line - b.range.start.line));
  }

  complete(text: string, offset: number, path?: string): { context: CompletionContext; candidates: CompletionCandidate[] } | undefined {
    const context = completionContextAt(text, offset);
    if (context === undefined) return undefined;
    // a secret's name: those with a value wherever the document being edited is used come first
    let needed: string[] | undefined;
    if (context.type === "secret" && path !== undefined) {
      const doc = this.index.configFiles.get(this.rel(path))?.documents.find((d) => d.range.start <= offset && offset <= d.range.end);
      if (doc !== undefined) needed = this.index.environmentsUsedBy(doc);
    }
    return { context, candidates: completionCandidates(this.index, context, needed) };
  }

  catalog(name: string): CatalogEntry | undefined {
    return this.index.catalog?.entries.get(name);
  }

  private linesOf(rel: string): LineIndex | undefined {
    const c = this.index.configFiles.get(rel);
    if (c !== undefined) return c.lines;
    for (const f of this.index.environmentFiles.values()) if (f.path === rel) return f.lines;
    if (this.index.catalog?.path === rel) return this.index.catalog.lines;
    return undefined;
  }

  targetAt(path: string, position: Position): Target | undefined {
    const rel = this.rel(path);
    const lines = this.linesOf(rel);
    if (lines === undefined) return undefined;
    const t = findAt(this.index, rel, toOffset(lines, position));
    if (t === undefined) return undefined;
    const place = { path, range: toLspRange(lines, t.range) };
    switch (t.type) {
      case "secret-reference":
        return { type: "secret-reference", reference: this.toReference(t.reference, path) };
      case "secret-definition":
        return { type: "secret-key", key: { ...place, name: t.secret, environment: t.definition.environment } };
      case "catalog-entry":
        return { type: "secret-key", key: { ...place, name: t.secret, environment: "catalog" } };
      case "object-link":
        return { type: "object-reference", reference: { ...place, kind: t.link.targetKind, name: t.link.target } };
      case "object-name":
        return { type: "object-definition", definition: { ...place, kind: t.kind, name: t.name } };
      case "environment":
        return { type: "environment", name: t.name, place };
    }
  }

  symbols(path: string): { documents: SymbolDocument[]; keys: SecretKey[] } {
    const rel = this.rel(path);
    const file = this.index.configFiles.get(rel);
    if (file !== undefined) {
      const documents = file.documents.map((doc): SymbolDocument => {
        const definition = doc.name !== undefined && doc.nameRange !== undefined ? { kind: doc.kind, name: doc.name, path, range: toLspRange(file.lines, doc.nameRange) } : undefined;
        return { range: toLspRange(file.lines, doc.range), definition, references: doc.references.map((r) => this.toReference(r, path)) };
      });
      return { documents, keys: [] };
    }
    for (const f of this.index.environmentFiles.values()) {
      if (f.path !== rel) continue;
      return {
        documents: [],
        keys: f.entries.map((e) => ({ name: e.name, environment: f.environment, path, range: toLspRange(f.lines, e.range) })),
      };
    }
    return { documents: [], keys: [] };
  }
}

/** True when `abs` is a symbolic link (broken or not). */
function isSymbolicLink(abs: string): boolean {
  try {
    return lstatSync(abs).isSymbolicLink();
  } catch {
    return false;
  }
}

/** A file's text, or undefined when it cannot be read (gone). */
function readTextOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
