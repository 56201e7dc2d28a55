/**
 * A broken stellar.yaml (half-typed while it is edited, or a bad merge) must not hide every
 * other problem of the project. {@link keepLastGood} wraps a {@link ModelFactory}: when a
 * project's stellar.yaml stops parsing, the project keeps its last good index (its config,
 * diagnostics and features, still updated file by file) and only stellar.yaml shows the new
 * errors. A project whose stellar.yaml never parsed behaves as before (its errors only).
 */
import type { CatalogEntry, CompletionCandidate, CompletionContext, Diagnostic, ProjectConfig, ValueHistory } from "@stellar-secrets/core";
import type { Position } from "vscode-languageserver";
import type { CommittedTexts, ObjectDefinition, ObjectReference, ProjectModel, SecretKey, SecretReference, SymbolDocument, Target } from "./model.js";
import type { ModelFactory, TextSource } from "./workspace.js";

/** The last good model of a project, with the stellar.yaml diagnostics of its broken successor. */
export class LastGoodModel implements ProjectModel {
  constructor(
    /** The index built from the last stellar.yaml that parsed (kept up to date). */
    readonly good: ProjectModel,
    /** The model of the broken stellar.yaml: only its stellar.yaml diagnostics are used. */
    readonly broken: ProjectModel,
  ) {}

  get root(): string {
    return this.good.root;
  }
  get configPath(): string {
    return this.good.configPath;
  }
  get config(): ProjectConfig | undefined {
    return this.good.config;
  }
  /** True: the project runs on a stellar.yaml that is no longer the current text. */
  readonly stale = true;

  files(): Iterable<string> {
    return new Set([...this.good.files(), this.configPath]);
  }
  fileExists(path: string): boolean {
    return this.good.fileExists(path);
  }
  owns(path: string): boolean {
    return this.good.owns(path);
  }
  indexedUnder(dir: string): string[] {
    return this.good.indexedUnder(dir);
  }
  diagnostics(path: string): readonly Diagnostic[] {
    return path === this.configPath ? this.broken.diagnostics(path) : this.good.diagnostics(path);
  }
  resurveySecretsDir(): Set<string> {
    return this.good.resurveySecretsDir();
  }
  excludedFilesChanged(paths: readonly string[]): Set<string> {
    return this.good.excludedFilesChanged(paths);
  }
  aboveRootFolders(): string[] {
    return this.good.aboveRootFolders();
  }
  aboveRootChanged(paths: readonly string[]): Set<string> {
    return this.good.aboveRootChanged(paths);
  }
  update(path: string, text: string | undefined): Set<string> {
    return this.good.update(path, text);
  }
  stage(path: string, text: string | undefined): void {
    this.good.stage(path, text);
  }
  quickCheck(path: string): Set<string> {
    return this.good.quickCheck(path);
  }
  checkIsIncremental(): boolean {
    return this.good.checkIsIncremental();
  }
  flush(): Set<string> {
    return this.good.flush();
  }
  flushSteps(): Iterator<void, Set<string> | undefined, void> | undefined {
    return this.good.flushSteps?.();
  }
  otherProjectPaths(): string[] {
    return this.good.otherProjectPaths();
  }
  excludedDefinitionNote(kind: string, name: string): string | undefined {
    return this.good.excludedDefinitionNote(kind, name);
  }

  secretNames(): string[] {
    return this.good.secretNames();
  }
  environmentsOf(name: string): string[] {
    return this.good.environmentsOf(name);
  }
  keysOf(name: string): SecretKey[] {
    return this.good.keysOf(name);
  }
  referenceCount(name: string): number {
    return this.good.referenceCount(name);
  }
  referencesTo(name: string): SecretReference[] {
    return this.good.referencesTo(name);
  }
  objects(kind: string): ObjectDefinition[] {
    return this.good.objects(kind);
  }
  objectReferences(kind: string, name: string): ObjectReference[] {
    return this.good.objectReferences(kind, name);
  }
  catalog(name: string): CatalogEntry | undefined {
    return this.good.catalog(name);
  }
  complete(text: string, offset: number, path?: string): { context: CompletionContext; candidates: CompletionCandidate[] } | undefined {
    return this.good.complete(text, offset, path);
  }
  targetAt(path: string, position: Position): Target | undefined {
    return this.good.targetAt(path, position);
  }
  symbols(path: string): { documents: SymbolDocument[]; keys: SecretKey[] } {
    return this.good.symbols(path);
  }
  historyKey(): string {
    return this.good.historyKey();
  }
  readHistory(): Promise<ValueHistory | undefined> {
    return this.good.readHistory();
  }
  shallowCut(): string | undefined {
    return this.good.shallowCut();
  }
  setHistory(history: ValueHistory | undefined): Set<string> {
    return this.good.setHistory(history);
  }
  get history(): ValueHistory | undefined {
    return this.good.history;
  }
  committedKey(): string {
    return this.good.committedKey();
  }
  readCommitted(): Promise<CommittedTexts> {
    return this.good.readCommitted();
  }
  setCommitted(committed: CommittedTexts | undefined): Set<string> {
    return this.good.setCommitted(committed);
  }
  get committed(): CommittedTexts | undefined {
    return this.good.committed;
  }
}

/**
 * Wraps `factory`: a model whose stellar.yaml does not parse (`config` undefined) is replaced
 * by a {@link LastGoodModel} over the last model of the same stellar.yaml that did.
 */
export function keepLastGood(factory: ModelFactory): ModelFactory {
  const lastGood = new Map<string, ProjectModel>(); // by configPath
  return async (configPath: string, source: TextSource): Promise<ProjectModel> => {
    const next = await factory(configPath, source);
    if (next.config !== undefined) {
      lastGood.set(next.configPath, next);
      return next;
    }
    const good = lastGood.get(next.configPath);
    return good === undefined ? next : new LastGoodModel(good, next);
  };
}
