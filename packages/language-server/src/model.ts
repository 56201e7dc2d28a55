/**
 * What the editor features need from one secrets repository's index. Implemented over core's
 * incremental index in `core-model.ts`; the features (completion, hover, navigation, code
 * actions) only see this interface, with absolute paths and LSP ranges (converted once from
 * core's offsets by `ranges.ts`).
 */
import type { CatalogEntry, CompletionCandidate, CompletionContext, Diagnostic, ProjectConfig, UnresolvedMergeRecord, ValueHistory } from "@stellar-secrets/core";
import type { Position, Range } from "vscode-languageserver";

/** A place in a file: its absolute path and the LSP range (0-based) of the name. */
export interface Place {
  path: string;
  range: Range;
}

/** One reference from a config file to a secret. */
export interface SecretReference extends Place {
  name: string;
  /** The kind and name of the document holding it, e.g. `action`, `create_ticket`. */
  ownerKind: string;
  ownerName: string | undefined;
  /** Environments where the reference is used. */
  environments: string[];
}

/** One named object (connector, connection, action, agent) and where its name is. */
export interface ObjectDefinition extends Place {
  kind: string;
  name: string;
}

/** A reference from one object to another by name (`connection:`, `auth:`, agent `actions`). */
export interface ObjectReference extends Place {
  kind: string;
  name: string;
}

/** A name key in an environment file. */
export interface SecretKey extends Place {
  name: string;
  environment: string;
}

/**
 * One YAML document of a config file, for document symbols: its whole range, the object it
 * defines (when it has a name) and its secret references.
 */
export interface SymbolDocument {
  range: Range;
  definition: ObjectDefinition | undefined;
  references: SecretReference[];
}

/** What is under the cursor. */
export type Target =
  | { type: "secret-reference"; reference: SecretReference }
  | { type: "secret-key"; key: SecretKey }
  | { type: "object-reference"; reference: ObjectReference }
  | { type: "object-definition"; definition: ObjectDefinition }
  | { type: "environment"; name: string; place: Place };

/**
 * The committed text(s) of environment files, by path relative to the project root: HEAD's, then
 * each other side of a merge, rebase or cherry-pick in progress (what `stale-mac` compares with).
 */
export interface CommittedTexts extends ReadonlyMap<string, readonly string[]> {
  /**
   * The merge driver's records of unresolved names (`unresolved-merge`), by path relative to the
   * project root, read with the committed versions (a record counts only against them).
   */
  readonly unresolved?: ReadonlyMap<string, UnresolvedMergeRecord>;
  /**
   * The versions in HEAD's parent commits, by path relative to the project root, for `stale-mac`
   * only (as `stellar-secrets check` reads them): a hand edit or hand-merge already committed keeps
   * a parent's `mac` over other values.
   */
  readonly earlier?: ReadonlyMap<string, readonly string[]>;
  /**
   * HEAD's commit when it is at the edge of a shallow clone (its parents were not fetched: the
   * versions `stale-mac` compares with are absent, and \`earlier\` is empty), else undefined.
   */
  readonly parentsNotFetched?: string;
}

/** The index of one project, kept up to date file by file. */
export interface ProjectModel {
  readonly root: string;
  /** Absolute path of stellar.yaml. */
  readonly configPath: string;
  /** Undefined when stellar.yaml has errors. */
  readonly config: ProjectConfig | undefined;
  /** Absolute paths of every file with (possibly zero) diagnostics the model knows. */
  files(): Iterable<string>;
  /** True when `path` exists as a parsable SOPS environment file of the project. */
  fileExists(path: string): boolean;
  /** Whether the project owns `path` (a config file it checks, an environment file, the catalog, stellar.yaml). */
  owns(path: string): boolean;
  /** Absolute paths of the indexed files inside folder `dir` (for a folder deleted or moved away). */
  indexedUnder(dir: string): string[];
  /** Diagnostics of one file (severity as configured in stellar.yaml). */
  diagnostics(path: string): readonly Diagnostic[];
  /**
   * The project's first check a piece at a time, when it has not run yet (undefined otherwise): each
   * `next()` runs one piece (a config file's share of the index's maps, a config file's cross-file
   * diagnostics: core's `crossFileCheckSteps`), and the last one runs the rest of the check and
   * keeps the diagnostics {@link diagnostics} then returns, the same as checked at once. Stops without
   * effect when the project changed between two pieces or was checked meanwhile (a request that
   * needs diagnostics checks at once): {@link diagnostics} then checks at once. Optional: a model
   * without it is checked at once.
   */
  firstCheckSteps?(): Iterator<void, void, void> | undefined;
  /**
   * Replaces a file's text (an editor buffer or a disk change; `undefined` = deleted) and
   * re-checks. Returns the absolute paths whose diagnostics may have changed.
   */
  update(path: string, text: string | undefined): Set<string>;
  /** Replaces a file's text without re-checking yet (edits arriving together are checked once). */
  stage(path: string, text: string | undefined): void;
  /**
   * The diagnostics of one staged config file at once (core's per-file check), before the full
   * check; returns `[path]` when they changed. Other files may change too: {@link flush} later.
   */
  quickCheck(path: string): Set<string>;
  /**
   * True when the next {@link flush} re-checks only the config files the staged edits can change
   * (cheap: it can run at once); false when it checks everything (an environment file, the catalog).
   */
  checkIsIncremental(): boolean;
  /** Re-checks after {@link stage}; returns the paths whose diagnostics may have changed (empty when nothing was staged). */
  flush(): Set<string>;
  /**
   * {@link flush} a piece at a time (the config files' cross-file diagnostics the staged edits
   * invalidated, a file per `next()`), for the check after an edit of an environment file or the
   * catalog, which re-checks every config file: the value at the end is what {@link flush} returns,
   * the same diagnostics; undefined when it stopped without effect (the project changed between two
   * pieces or was checked meanwhile: call {@link flush}). Undefined when there is nothing to check
   * in pieces. Optional: a model without it is flushed at once.
   */
  flushSteps?(): Iterator<void, Set<string> | undefined, void> | undefined;
  /**
   * Looks at the secrets folder again (what `missing-secrets-dir` says: whether it exists, the
   * folders beside it that hold environment files), as `check` would on the disk as it is now,
   * after environment files or folders appeared or disappeared; re-checks when that changed.
   * Returns the paths whose diagnostics changed. Lists a folder or two, and only while the
   * project has no environment file and no catalog.
   */
  resurveySecretsDir(): Set<string>;
  /**
   * After files changed on disk (absolute paths; a deleted folder as itself): when one is a file
   * the project's `config.exclude` keeps out (or a folder that held one), reads the excluded files
   * again, as `check` would now, and re-checks when what they define changed (`unknown-reference`
   * names an excluded file that defines the name). Returns the paths whose diagnostics changed.
   * Reads nothing while no message asked for the excluded files.
   */
  excludedFilesChanged(paths: readonly string[]): Set<string>;
  /**
   * The folders above the project root whose `.gitattributes` and `.sops.yaml` its check reads (a
   * project in a subfolder of its git work tree: the top of the work tree down to the root's
   * parent), absolute, top first; empty for a project at the top, outside git or nested in another.
   */
  aboveRootFolders(): string[];
  /**
   * After files changed on disk (absolute paths): when one is in a folder of
   * {@link aboveRootFolders} (a `.gitattributes` or `.sops.yaml` there, created, edited, renamed
   * or deleted), reads the files above the root again, as `check` would now, and re-checks when
   * they changed. Returns the paths whose diagnostics changed (the file above the root too).
   */
  aboveRootChanged(paths: readonly string[]): Set<string>;
  /** Every secret name, sorted. */
  secretNames(): string[];
  /**
   * The paths, relative to the project root, that a message naming another project may hold (core's
   * `WorkspaceIndex.otherProjectPaths`: only those read so far, never a read), for wording such a
   * message from the workspace folder.
   */
  otherProjectPaths(): string[];
  /** The environments whose file has `name`. */
  environmentsOf(name: string): string[];
  /** The key of `name` in each environment file. */
  keysOf(name: string): SecretKey[];
  /** Number of references to `name` (cheaper than {@link referencesTo}). */
  referenceCount(name: string): number;
  /** Every reference to `name`. */
  referencesTo(name: string): SecretReference[];
  /** Names of objects of one kind. */
  objects(kind: string): ObjectDefinition[];
  /** References to an object. */
  objectReferences(kind: string, name: string): ObjectReference[];
  /**
   * For an object the project does not define: what `unknown-reference` says when a file outside
   * the project (kept out by `config.exclude`, or matched by no `config.include` glob) defines it
   * (core's `excludedDefinitionNote`: `drafts/lookup.yaml:2 defines it, but …`), else undefined.
   * Reads the excluded files once, as that message does.
   */
  excludedDefinitionNote(kind: string, name: string): string | undefined;
  /** Catalog entry of a name. */
  catalog(name: string): CatalogEntry | undefined;
  /**
   * Core's completion at a 0-based offset of a config file's text: the context (secret, object,
   * environment or kind name; offsets of the word) and its candidates; undefined elsewhere.
   * `path` (absolute): the file being edited, so that secrets with no value where it is used come last.
   */
  complete(text: string, offset: number, path?: string): { context: CompletionContext; candidates: CompletionCandidate[] } | undefined;
  /** What is at an LSP position of a file (as the index has it: the open buffer, else the disk). */
  targetAt(path: string, position: Position): Target | undefined;
  /**
   * What the value history `rotation-overdue` needs depends on: the environment files of the
   * secrets with a catalog `rotate_every` ("" when none, or the rule is off: no history is read).
   * Cheap; a change means the history must be read again.
   */
  historyKey(): string;
  /** Reads the git-backed value history (runs git; undefined when not needed, not in a git repository with commits, or git fails). Never throws. */
  readHistory(): Promise<ValueHistory | undefined>;
  /** Sets the value history the checker uses (undefined: `rotation-overdue` is off) and re-checks; returns the paths whose diagnostics changed. */
  setHistory(history: ValueHistory | undefined): Set<string>;
  /** The value history the checker uses now (undefined until one is read, or when none is needed). */
  readonly history: ValueHistory | undefined;
  /**
   * The commit at the edge of the shallow clone that holds the project (its git history stops
   * there: a value set before it looks set at it), else undefined (a full clone, or no git
   * repository). Reads the git directory, no git process; never throws.
   */
  shallowCut(): string | undefined;
  /**
   * What the committed versions `stale-mac` compares with depend on: the project's environment
   * files ("" when it has none: git is not run). Cheap; a change means they must be read again.
   */
  committedKey(): string;
  /** Reads the committed versions of the environment files (runs git; empty when not in a git repository with commits, or git fails). Never throws. */
  readCommitted(): Promise<CommittedTexts>;
  /** Sets the committed versions the checker compares with (undefined or empty: only `stale-mac`'s checks within each file run) and re-checks; returns the paths whose diagnostics changed. */
  setCommitted(committed: CommittedTexts | undefined): Set<string>;
  /** The committed versions the checker compares with now (undefined until read). */
  readonly committed: CommittedTexts | undefined;
  /** The documents of one config file (each with its object and secret references), or the keys of one environment file, for document symbols. */
  symbols(path: string): { documents: SymbolDocument[]; keys: SecretKey[] };
}
