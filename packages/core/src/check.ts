/**
 * The checker: every rule over a {@link WorkspaceIndex}, as pure functions of the parsed models.
 * Rule severities come from the rule table, overridden by stellar.yaml's `rules`.
 */
import type { ConfigDocument, ConfigFile, ObjectLink, PlainValue, SecretReference } from "./config.js";
import { canonicalAgeRecipient, ENVIRONMENT_NAME_PATTERN, environmentFileName } from "@stellar-secrets/sops";
import { environmentDeclarationSite, miswrittenKeyOwner, miswrittenMembers } from "./project.js";
import { credentialAsName, detectCredential, hideCredentialNames, pastedCredential } from "./credentials.js";
import { compareDiagnostics, diagnosticAt, type Diagnostic } from "./diagnostics.js";
import { shellWord } from "./shell.js";
import { describeNonDescriptiveName, editDistance, nearestName, quoteName, secretNameFromContext, suggestSecretName, validateSecretName } from "./names.js";
import { AUTH_NOT_A_SECRET, isFileLike } from "./validate.js";
import { describeProxyVariableName, describeStartupVariableName } from "./variables.js";
import { LineIndex, type TextRange } from "./position.js";
import { rotationDiagnostics, type ValueHistory } from "./review/rotation.js";
import { recipientStanzaProblems } from "./recipient-stanzas.js";
import { keyGroupsRuleProblems } from "./key-groups-rule.js";
import { plaintextEnvDiagnostics } from "./plaintext-env.js";
import { RULES, type RuleId, type Severity } from "./rules.js";
import { checkSopsConfigs, SOPS_CONFIG_FILE } from "./sops-config.js";
import { checkGitAttributes } from "./git-attributes.js";
import { foldedPath } from "./review/paths.js";
import { posix } from "node:path";
import type { ConfigKind } from "./schemas.js";
import { checkStaleMac } from "./stale-mac.js";
import { checkUnresolvedMerge, type UnresolvedMergeRecord } from "./unresolved-merge.js";
import { checkProposals } from "./proposals.js";
import type { OtherProject } from "./other-projects.js";
import { caseMissedYaml, isJsonFile, lowerCaseExtension, type ExcludedDefinition } from "./excluded.js";
import type { WorkspaceIndex } from "./workspace.js";
import { plaintextValueFix, secretsFileOf, type EnvironmentFile } from "./secrets-dir.js";
import { checkSecretsDir, misnamedSecretsDir } from "./secrets-folder.js";

const DEFAULT_SEVERITY = new Map<RuleId, Severity>(RULES.map((r) => [r.id, r.severity]));

const KIND_WORDS: Record<ConfigKind, string> = {
  auth_connector: "auth connector",
  api_connection: "API connection",
  action: "action",
  agent: "agent",
};

/**
 * What `unknown-reference` (and the editor's hover) says of an object that a file outside the
 * project defines: where, which glob keeps the file out (or that no `config.include` glob matches
 * it), and how to bring it in. Starts lower-case (`drafts/lookup.yaml:2 defines it, but …`).
 */
export function excludedDefinitionNote(excluded: ExcludedDefinition): string {
  const lower = lowerCaseExtension(excluded.path);
  if (excluded.notIncluded === true && lower !== undefined)
    return `${excluded.path}:${excluded.line} defines it, but no config.include glob of stellar.yaml matches that file (${CASE_NOTE}), so it is not part of the project: rename it to ${lower}`;
  if (excluded.notIncluded === true && isJsonFile(excluded.path))
    return `${excluded.path}:${excluded.line} defines it, but no config.include glob of stellar.yaml matches that file (${JSON_NOTE}), so it is not part of the project: rename it to ${asYaml(excluded.path)}, or add a glob that matches it to config.include`;
  return excluded.notIncluded === true
    ? `${excluded.path}:${excluded.line} defines it, but no config.include glob of stellar.yaml matches that file, so it is not part of the project: add a glob that matches it to config.include, or move the ${KIND_WORDS[excluded.kind]} into a file that one matches`
    : `${excluded.path}:${excluded.line} defines it, but stellar.yaml's config.exclude glob "${excluded.glob}" keeps that file out of the project: narrow the glob, or move the ${KIND_WORDS[excluded.kind]} into an included file`;
}

/** Why a JSON config file is outside the project (unless a glob of its own selects it). */
const JSON_NOTE = "a JSON file: JSON is YAML, and is read as a config file when a glob selects it, but the globs select YAML files";

/** `connectors/stripe.json` as `connectors/stripe.yaml`. */
function asYaml(path: string): string {
  return path.replace(/\.json$/i, ".yaml");
}

/** Why a `Refund.YAML` is outside the default include globs. */
const CASE_NOTE = 'globs match an extension as written: "*.yaml" is not ".YAML"';

/** How a config document is named in messages: `action "create_ticket"`. */
export function describeDocument(doc: Pick<ConfigDocument, "kind" | "name">): string {
  return doc.name === undefined ? `this ${KIND_WORDS[doc.kind]}` : `${KIND_WORDS[doc.kind]} "${doc.name}"`;
}

/**
 * Applies severity overrides: each diagnostic gets its rule's configured severity (or keeps
 * its own), and rules set to `off` are dropped.
 */
export function applySeverities(diagnostics: readonly Diagnostic[], rules: Partial<Record<string, Severity | "off">>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    const s = rules[d.rule];
    if (s === "off") continue;
    out.push(s === undefined || s === d.severity ? d : { ...d, severity: s });
  }
  return out;
}

/**
 * Rules that report one finding at one place twice: `[covered, by]`, where `by`'s message says
 * what `covered`'s says and how to fix it. A credential in a field that takes only a reference is
 * a `schema` error ("must be a secret reference") and `plaintext-credential` (which reference to
 * write, and the `set` command); git conflict markers in an environment file make it
 * `unencrypted-secrets-file` (not valid YAML) and `stale-mac` (how to redo the merge), both at the
 * first marker. An editor stacks two diagnostics of one range; so one is kept.
 */
const SAME_FINDING: readonly (readonly [covered: RuleId, by: RuleId])[] = [
  ["schema", "plaintext-credential"],
  // a credential pasted as a link's or an environment's name: the unknown name is the credential
  ["unknown-reference", "plaintext-credential"],
  ["unknown-environment", "plaintext-credential"],
  ["unencrypted-secrets-file", "stale-mac"],
];

const SEVERITY_RANK: Record<Severity, number> = { error: 3, warning: 2, info: 1 };

/**
 * Drops a `covered` diagnostic of {@link SAME_FINDING} when its `by` rule reports the same range
 * of the same file at a severity at least as high (configured severities applied already: a rule
 * made less severe, or off, does not hide the other). Order kept.
 */
function withoutRepeatedFindings(diagnostics: Diagnostic[]): Diagnostic[] {
  const key = (d: Diagnostic): string => `${d.file}\u0000${d.line}:${d.column}-${d.endLine}:${d.endColumn}`;
  let by: Map<string, number> | undefined;
  for (const d of diagnostics) {
    for (const [, rule] of SAME_FINDING) {
      if (d.rule !== rule) continue;
      by ??= new Map();
      const k = `${rule}\u0000${key(d)}`;
      by.set(k, Math.max(by.get(k) ?? 0, SEVERITY_RANK[d.severity]));
    }
  }
  if (by === undefined) return diagnostics;
  const seen = by;
  return diagnostics.filter((d) => {
    for (const [covered, rule] of SAME_FINDING) {
      if (d.rule === covered && (seen.get(`${rule}\u0000${key(d)}`) ?? 0) >= SEVERITY_RANK[d.severity]) return false;
    }
    return true;
  });
}

/**
 * Every diagnostic of the workspace, with configured severities, sorted by file and position.
 * When stellar.yaml is unusable, only its own diagnostics are returned.
 */
/** Options of {@link checkWorkspace}. */
export interface CheckOptions {
  /** Rule severities to apply instead of the index's own stellar.yaml `rules` (e.g. a review applies the base's). */
  rules?: Partial<Record<string, Severity | "off">>;
  /**
   * Where values were last set (e.g. from git history). Enables `rotation-overdue`, which is
   * not reported without it.
   */
  history?: ValueHistory;
  /** The clock `rotation-overdue` compares with (default: now). */
  now?: Date;
  /**
   * The committed text(s) of a file (path relative to the repository root) to compare it with for
   * `stale-mac` — the HEAD version, plus e.g. the other side of a merge in progress; undefined when
   * there is none. Without it only the checks within each file run (duplicate ciphertext,
   * conflict markers).
   */
  committed?: (relPath: string) => string | readonly string[] | undefined;
  /**
   * Earlier committed texts of a file, compared with for `stale-mac` only: its versions in HEAD's
   * parent commits (a hand-merge or hand edit already committed keeps a parent version's `mac` over
   * other values). Unlike `committed`, they never make an `unresolved-merge` record count.
   */
  earlier?: (relPath: string) => readonly string[] | undefined;
  /**
   * The merge driver's record of unresolved names for a file (path relative to the project root),
   * from under the git directory. Enables `unresolved-merge`, which is not reported without it. A
   * record counts only while it matches the file and `committed` (see `unresolvedMergeApplies`).
   */
  unresolvedMerges?: (relPath: string) => UnresolvedMergeRecord | undefined;
  /**
   * Reuse of each config file's cross-file diagnostics from the previous check with this cache (an
   * editor's re-check after an edit): a file is checked again only when it is new, replaced, or
   * marked by {@link CrossFileCache.invalidate} / {@link CrossFileCache.invalidateAll}. The result
   * is the same as without the cache as long as every index change was reported to it.
   */
  crossFileCache?: CrossFileCache;
  /**
   * Whether git tracks a file (path relative to the project root): true, false, or undefined when
   * not known. Enables the `plaintext-credential` finding on a tracked plaintext environment file
   * outside the secrets folder (`.env.production` holding values of this project's secrets), which
   * is not reported without it (an untracked, git-ignored `.env` is normal local practice).
   */
  tracked?: (relPath: string) => boolean | undefined;
}

/**
 * The cross-file diagnostics of each config file (references, links, environments, duplicate
 * names) from the last {@link checkWorkspace} that used it, with the files whose diagnostics may
 * have changed since: {@link configEditAffects} after a config file was replaced, everything after
 * any other index change (environment files, catalog, stellar.yaml).
 */
export class CrossFileCache {
  entries = new Map<string, { file: ConfigFile; diagnostics: Diagnostic[] }>();
  /** What a secret name's own rules say of it (pure functions of the name). */
  readonly names = new Map<string, { valid: ReturnType<typeof validateSecretName>; vague: string | undefined; startup: string | undefined; proxy: string | undefined; credential: string | undefined }>();
  /** `stale-mac` of each environment file (a pure function of the file and its committed versions: reused while both are the same). */
  readonly staleMac = new Map<string, { file: EnvironmentFile; committed: string | readonly string[] | undefined; earlier: readonly string[] | undefined; diagnostics: Diagnostic[] }>();
  private readonly dirty = new Set<string>();
  private all = true;

  /** The cached diagnostics of `file` when still valid. */
  get(file: ConfigFile): Diagnostic[] | undefined {
    if (this.all || this.dirty.has(file.path)) return undefined;
    const e = this.entries.get(file.path);
    return e !== undefined && e.file === file ? e.diagnostics : undefined;
  }
  /** These config files (relative paths) must be checked again. */
  invalidate(paths: Iterable<string>): void {
    for (const p of paths) this.dirty.add(p);
  }
  /** Every config file must be checked again. */
  invalidateAll(): void {
    this.all = true;
  }
  /** True when the next check reuses cached diagnostics (nothing forced every file to be checked again). */
  get incremental(): boolean {
    return !this.all;
  }
  /**
   * The map a check fills with the files it checked again: the cached one, updated in place, when
   * the check is incremental (rebuilding a map of every config file took much of a cross-file
   * edit's time in a workspace of thousands of files); a new one when every file is checked again.
   */
  filling(): Map<string, { file: ConfigFile; diagnostics: Diagnostic[] }> {
    return this.all ? new Map() : this.entries;
  }
  /** After a check that filled `entries` ({@link filling}): those entries, without the files `index` no longer has; nothing dirty. */
  settle(entries: Map<string, { file: ConfigFile; diagnostics: Diagnostic[] }>, index?: WorkspaceIndex): void {
    if (entries === this.entries && index !== undefined) for (const p of this.dirty) if (!index.configFiles.has(p)) entries.delete(p);
    this.entries = entries;
    this.dirty.clear();
    this.all = false;
  }
}

/** Which link field each kind may use: the user → used direction {@link WorkspaceIndex.environmentsUsedBy} follows. */
const LINK_OWNER: Record<ObjectLink["field"], ConfigKind> = { actions: "agent", connection: "action", auth: "api_connection" };

/** The kinds a link can name (the values of {@link ObjectLink.targetKind}). */
const LINK_TARGET_KINDS: readonly ConfigKind[] = ["action", "api_connection", "auth_connector"];

/** Whether each parsed config file has a link its kind does not have (a parsed file never changes: asked once per file). */
const malformedLinks = new WeakMap<ConfigFile, boolean>();
function hasMalformedLink(file: ConfigFile): boolean {
  let found = malformedLinks.get(file);
  if (found === undefined) {
    found = file.documents.some((doc) => doc.links.some((link) => LINK_OWNER[link.field] !== doc.kind));
    malformedLinks.set(file, found);
  }
  return found;
}

/**
 * The first line of `text` that holds more than blanks or a comment, without its indentation and
 * trailing blanks: where a diagnostic about a whole file (an undeclared environment's file) is
 * shown. Zero-width at the start when there is none (an empty file, or one never read).
 */
function firstLineRange(text: string | undefined): TextRange {
  if (text === undefined) return { start: 0, end: 0 };
  let at = 0;
  while (at < text.length) {
    const nl = text.indexOf("\n", at);
    const end = nl === -1 ? text.length : nl;
    const line = text.slice(at, end);
    const lead = line.length - line.trimStart().length;
    const body = line.trim();
    if (body !== "" && !body.startsWith("#")) return { start: at + lead, end: at + lead + body.length };
    at = end + 1;
  }
  return { start: 0, end: 0 };
}

/**
 * The config files (relative paths) whose cross-file diagnostics may differ after config file
 * `old` was replaced by `next` (either may be absent; `index` already holds `next`), or "all" when
 * the link graph has a link a kind does not have (a malformed file: the environments where a
 * document is used may then depend on the order of the check). The file itself; files defining a
 * name it defines or defined (duplicate names); files whose links to a kind are unresolved or name
 * a name that appeared or went (unknown-reference and its suggestion); and every document
 * downstream of its documents through links (the environments where they are used).
 */
export function configEditAffects(index: WorkspaceIndex, old: ConfigFile | undefined, next: ConfigFile | undefined): Set<string> | "all" {
  const affected = new Set<string>();
  const docs: ConfigDocument[] = [];
  const defined = new Map<ConfigKind, { old: Set<string>; next: Set<string> }>();
  for (const [f, side] of [
    [old, "old"],
    [next, "next"],
  ] as const) {
    if (f === undefined) continue;
    affected.add(f.path);
    for (const doc of f.documents) {
      docs.push(doc);
      if (doc.name === undefined || doc.nameRange === undefined) continue;
      let names = defined.get(doc.kind);
      if (names === undefined) defined.set(doc.kind, (names = { old: new Set(), next: new Set() }));
      names[side].add(doc.name);
    }
  }
  // duplicate names: every definition of a name the file defines or defined
  const appeared = new Map<ConfigKind, Set<string>>();
  const sameName: ConfigDocument[] = [];
  for (const [kind, names] of defined) {
    const changed = new Set<string>();
    for (const n of names.old) if (!names.next.has(n)) changed.add(n);
    for (const n of names.next) if (!names.old.has(n)) changed.add(n);
    if (changed.size > 0) appeared.set(kind, changed);
    for (const n of new Set([...names.old, ...names.next])) {
      for (const def of index.objectDefinitions(kind, n)) {
        affected.add(def.file);
        // (a name defined twice derives no environment through either definition: what is downstream of the others changes too)
        if (changed.has(n)) sameName.push(def.document);
      }
    }
  }
  // An unresolved link's message names what its target is in another kind, the objects that use
  // that (through links), or a file that does not parse that has its name: the names this edit
  // may change any of those for.
  const touched = new Set<string>();
  for (const names of appeared.values()) for (const n of names) touched.add(n);
  for (const f of [old, next]) for (const n of f?.syntaxError?.unreadNames ?? []) touched.add(n.name);
  for (const doc of docs) {
    for (const link of doc.links) {
      touched.add(link.target);
      // (an action's connection: the auth connector that connection uses is reached through it)
      if (link.targetKind === "api_connection") for (const def of index.objectDefinitions("api_connection", link.target)) for (const l of def.document.links) touched.add(l.target);
    }
  }
  for (const file of index.configFiles.values()) if (hasMalformedLink(file)) return "all";
  // links: unresolved ones (their suggestion), and those to a name that appeared or went; found
  // through the index's links by target name (no scan of every file's links: a cross-file edit in
  // a workspace of thousands of files spent most of its time there)
  if (appeared.size > 0 || touched.size > 0) {
    for (const kind of LINK_TARGET_KINDS) {
      const users = index.linkUsers(kind);
      if (users === undefined || users.size === 0) continue;
      const defined = index.objects(kind);
      const changed = appeared.get(kind);
      if (changed !== undefined) {
        // every link to a name of this kind that appeared or went, and every unresolved link to this kind
        for (const n of changed) for (const u of users.get(n) ?? []) affected.add(u.file);
        for (const [target, docs] of users) if (!defined.has(target)) for (const u of docs) affected.add(u.file);
      }
      // unresolved links to a touched name
      for (const n of touched) if (!defined.has(n)) for (const u of users.get(n) ?? []) affected.add(u.file);
    }
  }
  for (const doc of docs) for (const link of doc.links) if (LINK_OWNER[link.field] !== doc.kind) return "all";
  // environments: every document downstream of the file's documents (old and new)
  const seen = new Set<ConfigDocument>([...docs, ...sameName]);
  const queue = [...docs, ...sameName];
  while (queue.length > 0) {
    const doc = queue.pop() as ConfigDocument;
    for (const link of doc.links) {
      for (const def of index.objectDefinitions(link.targetKind, link.target)) {
        if (seen.has(def.document)) continue;
        seen.add(def.document);
        affected.add(def.file);
        queue.push(def.document);
      }
    }
  }
  return affected;
}

export function checkWorkspace(index: WorkspaceIndex, options: CheckOptions = {}): Diagnostic[] {
  const rules = options.rules ?? index.project.rules;
  const out: Diagnostic[] = [...index.projectDiagnostics];
  if (!index.projectUsable) return out.sort(compareDiagnostics);
  const sev = (rule: RuleId): Severity => DEFAULT_SEVERITY.get(rule) ?? "error";
  const declared = index.environmentNames();
  const declaredSet = new Set(declared);
  // When an environment file cannot be read its names are unknown: "unknown secret" would be a guess.
  const namesComplete = declared.every((e) => index.environmentFiles.get(e)?.readable !== false);

  // Per-file diagnostics computed at parse time.
  for (const file of index.configFiles.values()) if (file.diagnostics.length > 0) out.push(...withNamedReferences(index, file, withFreeSecretNames(index, file.diagnostics)));
  for (const file of index.otherSecretsFiles.values()) out.push(...file.diagnostics);
  // a declared environment's file kept in the secrets folder under another name that is no
  // environment file's (production.enc.yml, Production.yaml, production.enc.json): one error at it,
  // in place of a missing value at every reference used in that environment
  for (const env of declared) {
    const found = misnamedFilePath(index, env);
    if (found === undefined || !index.otherSecretsFiles.has(found)) continue;
    const path = `${index.project.secretsDir}/${environmentFileName(env)}`;
    out.push(
      diagnosticAt(
        "missing-environment-value",
        sev("missing-environment-value"),
        found,
        new LineIndex(""),
        { start: 0, end: 0 },
        `${found} is probably ${env}'s file under another name: ${path} does not exist, and nothing reads ${found} as ${env}'s (check, the resolver and \`set\` read only ${path}), so no secret has a value in ${env} until it is renamed; ` +
          `rename it: \`git mv ${shellWord(found, { path: true })} ${shellWord(path, { path: true })}\``,
      ),
    );
  }
  if (index.catalog !== undefined) out.push(...index.catalog.diagnostics);

  // Environment files: encryption, undeclared environments, recipients.
  for (const file of index.environmentFiles.values()) {
    out.push(...(declaredSet.has(file.environment) ? file.diagnostics : file.diagnostics.map((d) => withDeclaredEnvironment(d, file.environment, declared))));
    if (file.text !== undefined) {
      const c = options.committed?.(file.path);
      const versions = c === undefined ? [] : typeof c === "string" ? [c] : c;
      const e = options.earlier?.(file.path);
      const cached = options.crossFileCache?.staleMac.get(file.path);
      if (cached !== undefined && cached.file === file && cached.committed === c && cached.earlier === e) out.push(...cached.diagnostics);
      else {
        const compared = e === undefined || e.length === 0 ? versions : [...versions, ...e];
        // a hand edit HEAD committed: the file is HEAD's version (a parent's shows the edit), or a
        // parent's version restored (HEAD's shows it): the hints then differ from an edit on disk
        const committedEdit = e === undefined || e.length === 0 ? undefined : versions[0] === file.text ? "head" : e.includes(file.text) ? "restored" : undefined;
        const diagnostics = checkStaleMac({ text: file.text, path: file.path, environment: file.environment, lines: file.lines, parsed: secretsFileOf(file) }, compared, sev("stale-mac"), committedEdit);
        options.crossFileCache?.staleMac.set(file.path, { file, committed: c, earlier: e, diagnostics });
        out.push(...diagnostics);
      }
      const record = options.unresolvedMerges?.(file.path);
      if (record !== undefined) out.push(...checkUnresolvedMerge(file, record, versions, sev("unresolved-merge")));
    }
    if (!declaredSet.has(file.environment)) {
      const near = nearestName(file.environment, declared);
      // the file of a declared environment that has none, under another spelling (Production.enc.yaml,
      // prod.enc.yaml): renaming it is the fix (never "remove the file": it holds that environment's values)
      const meant = declared.find((e) => misnamedFilePath(index, e) === file.path);
      if (meant !== undefined) {
        const path = `${index.project.secretsDir}/${environmentFileName(meant)}`;
        out.push(
          diagnosticAt(
            "unknown-environment",
            sev("unknown-environment"),
            file.path,
            file.lines,
            firstLineRange(file.text),
            `${file.path} is the file of environment "${file.environment}", which stellar.yaml does not declare, and ${path}, the file of the declared environment "${meant}", does not exist: ` +
              `this is probably ${meant}'s file under another name${file.environment.toLowerCase() === meant ? " (file names are case-sensitive: a case-insensitive disk, as on macOS or Windows, opens it under either name, git and Linux do not)" : ""}, and nothing reads it as ${meant}'s, so ${meant} has no values (each secret used there lacks one until it is renamed); ` +
              `rename it: \`git mv ${shellWord(file.path, { path: true })} ${shellWord(path, { path: true })}\``,
          ),
        );
        continue;
      }
      out.push(
        diagnosticAt(
          "unknown-environment",
          sev("unknown-environment"),
          file.path,
          file.lines,
          firstLineRange(file.text),
          `${file.path} is the file of environment "${file.environment}", which stellar.yaml does not declare${near ? ` (did you mean "${near.name}"?)` : ""}; declare it under environments: or remove the file`,
          near ? { suggestion: near.name } : undefined,
        ),
      );
      continue;
    }
    // a key-groups file's recipients are its groups' (recipientStanzaProblems says who can decrypt it)
    const drift = file.keyGroups === undefined ? recipientDrift(index, file.environment, file.recipients) : undefined;
    if (drift !== undefined && file.recipientsRange !== undefined) {
      out.push(diagnosticAt("recipient-drift", sev("recipient-drift"), file.path, file.lines, file.recipientsRange, drift));
    }
    for (const p of recipientStanzaProblems(index.project, file)) {
      out.push(diagnosticAt("recipient-drift", sev("recipient-drift"), file.path, file.lines, p.range, p.message));
    }
    // a key-groups file's groups and threshold against those of the .sops.yaml rule sops uses for
    // it, and a one-list file under a rule with several groups
    if (index.sopsConfigs.size > 0) {
      for (const p of keyGroupsRuleProblems(index.project, file, index.sopsConfigs)) {
        out.push(diagnosticAt("recipient-drift", p.severity === "error" ? sev("recipient-drift") : "warning", file.path, file.lines, p.range, p.message));
      }
    }
  }

  // The inbox: write-only proposals waiting for a member, stale or invalid ones.
  out.push(
    ...checkProposals(index.proposalFiles.values(), {
      project: index.project,
      namesOf: (env) => {
        const file = index.environmentFiles.get(env);
        return file === undefined ? [] : file.readable ? file.entries.map((e) => e.name) : undefined;
      },
    }, sev),
  );

  // secrets_dir: a folder with no environment file and no catalog (the loader looked there)
  const survey = index.secretsDirSurvey;
  let secretsDirMissing = false;
  if (survey !== undefined) {
    const missing = checkSecretsDir(survey, { environmentFiles: index.environmentFiles.size, catalog: index.catalog !== undefined }, sev("missing-secrets-dir"));
    if (missing !== undefined) out.push(missing);
    secretsDirMissing = missing !== undefined;
  }
  // a declared environment with no file yet: once at its declaration (each reference that needs a
  // value there says so too); not while the secrets folder itself is missing (that finding explains it),
  // nor for a name that is no valid environment name (its schema error is the finding: no `set --env`
  // takes that name, so the advice would not run)
  if (!secretsDirMissing) {
    const validName = new RegExp(ENVIRONMENT_NAME_PATTERN);
    for (const env of declared) {
      if (index.environmentFiles.has(env) || !validName.test(env)) continue;
      const site = environmentDeclarationSite(index.project, env);
      if (site === undefined) continue;
      const path = `${index.project.secretsDir}/${environmentFileName(env)}`;
      const misnamed = misnamedFileNote(index, env);
      // `set` refuses to create a file nobody can open (NO_RECIPIENTS): a member comes first
      const memberless = index.project.environments.find((e) => e.name === env)?.members.length === 0;
      const fix = misnamed !== undefined
        ? ""
        : memberless
        ? `, and it has no members, so nobody could read one: add one first (\`stellar-secrets members add NAME KEY --env ${env}\`); then the first \`stellar-secrets set NAME --env ${env}\` creates the file for them`
        : `; the first \`stellar-secrets set NAME --env ${env}\` creates it for ${env}'s members`;
      out.push({
        rule: "environment-without-file",
        severity: sev("environment-without-file"),
        ...site,
        message: `environment "${env}" is declared but has no file yet (${misnamed ?? `${path} does not exist`}), so no secret has a value there${fix}`,
      });
    }
  }

  // .sops.yaml: the plain sops CLI must encrypt for the same members (also a .sops.yaml above the
  // root of a project in a subfolder of its repository: sops run there finds it first)
  const above = index.aboveRoot;
  const aboveConfigs = above === undefined ? [] : [...above.files].filter(([rel]) => foldedPath(rel.slice(rel.lastIndexOf("/") + 1)) === SOPS_CONFIG_FILE);
  out.push(
    ...checkSopsConfigs(
      index.project,
      index.sopsConfigs,
      above === undefined || aboveConfigs.length === 0 ? undefined : { prefix: above.prefix, configs: new Map(aboveConfigs.map(([rel, text]) => [posix.relative(above.prefix, rel), text])) },
    ),
  );
  // a .sops.yaml above the root that is a link out of the repository: not read, and never a silent pass
  for (const [rel, target] of above?.outside ?? []) out.push(sopsLinkOutside(posix.relative(above?.prefix ?? "", rel), target));
  // .gitattributes (the project's and those above its root): the environment files stay on the merge driver, as committed
  out.push(...checkGitAttributes(index.project, [...index.environmentFiles.values()].map((f) => f.path), index.gitattributes, above));

  // Definitions: names and use. `hidden`: the names that look like credentials, never printed.
  const hidden = new Set<string>();
  let strays: Strays | undefined;
  let mentions: Map<string, string> | undefined; // the words of the config files' comments, read once when an unused secret has no other hint
  for (const name of index.secretNames()) {
    const info = index.secret(name);
    if (info === undefined) continue;
    let named = options.crossFileCache?.names.get(name);
    if (named === undefined) {
      const valid = validateSecretName(name);
      named = {
        valid,
        vague: valid.ok ? describeNonDescriptiveName(name) : undefined,
        startup: valid.ok ? describeStartupVariableName(name) : undefined,
        proxy: valid.ok ? describeProxyVariableName(name) : undefined,
        credential: credentialAsName(name),
      };
      options.crossFileCache?.names.set(name, named);
    }
    const { valid, vague, startup, proxy, credential } = named;
    for (const def of info.definitions) {
      const lines = index.environmentFiles.get(def.environment)?.lines as LineIndex;
      if (credential !== undefined) {
        // a credential stored as a name (names are not encrypted): that is the finding, and no
        // other finding at its key (each would quote it)
        hidden.add(name);
        out.push(diagnosticAt("plaintext-credential", sev("plaintext-credential"), def.file, lines, def.range, credentialNameMessage(def.file, lines.positionAt(def.range.start).line, credential, def.environment)));
        continue;
      }
      if (!valid.ok) {
        out.push(
          diagnosticAt("invalid-secret-name", sev("invalid-secret-name"), def.file, lines, def.range, valid.message, {
            secret: name,
            ...(valid.suggestion !== undefined ? { suggestion: valid.suggestion } : {}),
          }),
        );
      }
      if (startup !== undefined) {
        // a valid name whose exec/export variable loads code: a warning (references and get still work)
        out.push(diagnosticAt("invalid-secret-name", "warning", def.file, lines, def.range, startup, { secret: name }));
      }
      if (proxy !== undefined) {
        // a proxy's URL: a credential a deploy may need, set by exec; its value decides where requests go (info)
        out.push(diagnosticAt("invalid-secret-name", "info", def.file, lines, def.range, proxy, { secret: name }));
      }
      if (vague !== undefined) {
        out.push(diagnosticAt("non-descriptive-secret-name", sev("non-descriptive-secret-name"), def.file, lines, def.range, vague, { secret: name }));
      }
      if (info.references.length === 0) {
        // written where a reference was meant (plain text, another case, a typo): say where, never "remove it"
        strays ??= collectStrays(index);
        const stray =
          strays.explain(name) ??
          excludedUse(index, name) ??
          renamedTo(index, name) ??
          environmentWrittenUnused(index, name) ??
          commentedOut(name, (mentions ??= commentMentions(index))) ??
          unreadMention(index, name) ??
          unreadConfigFilesNote(index, "reference");
        out.push(
          diagnosticAt(
            "unused-secret",
            sev("unused-secret"),
            def.file,
            lines,
            def.range,
            `secret ${quoteName(name)} is not referenced by any config file${stray ?? `; reference it where it is used ({ secret: ${name} } in an auth connector, or a header { name: …, type: secret, secret: ${name} } of a connection or an action), or remove it with \`stellar-secrets rm ${nameArgument(name)}\``}`,
            { secret: name },
          ),
        );
      }
    }
  }

  // Catalog keys.
  const catalog = index.catalog;
  if (catalog !== undefined) {
    let qualified: ReturnType<typeof environmentQualified>;
    for (const [name, range] of catalog.keyRanges) {
      if (credentialAsName(name) !== undefined) hidden.add(name);
      const valid = validateSecretName(name);
      if (!valid.ok) {
        out.push(
          diagnosticAt("invalid-secret-name", sev("invalid-secret-name"), catalog.path, catalog.lines, range, valid.message, {
            secret: name,
            ...(valid.suggestion !== undefined ? { suggestion: valid.suggestion } : {}),
          }),
        );
      } else if (index.secret(name) === undefined && namesComplete && (qualified = environmentQualified(index, name, true)) !== undefined) {
        // the environment written into the entry's name (`production_stripe_webhook_secret`): a catalog entry describes the secret in every environment
        const taken = catalog.keyRanges.get(qualified.stem);
        const fix =
          taken !== undefined
            ? `"${qualified.stem}" has an entry of its own at line ${catalog.lines.positionAt(taken.start).line}: merge this one into it and remove this one`
            : qualified.absent === true
              ? `name the secret "${qualified.stem}" (rename this entry to it) and set each environment's value under that one name: \`stellar-secrets set ${qualified.stem} --env ${qualified.declared ?? "ENV"}\``
              : `rename this entry to "${qualified.stem}"`;
        out.push(
          diagnosticAt(
            "unknown-secret",
            sev("unknown-secret"),
            catalog.path,
            catalog.lines,
            range,
            `the catalog describes ${quoteName(name)}, but no environment file has that secret; the secret is "${qualified.stem}", without "${qualified.environment}": a secret has one name in every environment (each environment's file holds its own value${qualified.declared === undefined ? "" : `: ${index.project.secretsDir}/${environmentFileName(qualified.declared)} for ${qualified.declared}`}) and its catalog entry describes it for all of them: ${fix}`,
            { secret: name, ...(taken === undefined ? { suggestion: qualified.stem } : {}) },
          ),
        );
      } else if (index.secret(name) === undefined && namesComplete) {
        const near = suggestSecret(index, name);
        // the nearest name has an entry of its own: renaming this key would repeat that one (a duplicate key)
        const taken = near.name !== undefined ? catalog.keyRanges.get(near.name) : undefined;
        const hint =
          taken !== undefined
            ? `${near.hint} It has an entry of its own at line ${catalog.lines.positionAt(taken.start).line}: merge this one into it and remove this one (renaming it would repeat that key)`
            : near.name === undefined && validateSecretName(name).ok
              ? `; create it with \`stellar-secrets set ${name} --env ENV\`, or remove the entry`
              : near.hint;
        out.push(
          diagnosticAt(
            "unknown-secret",
            sev("unknown-secret"),
            catalog.path,
            catalog.lines,
            range,
            `the catalog describes ${quoteName(name)}, but no environment file has that secret${hint}`,
            { secret: name, ...(near.name !== undefined && taken === undefined ? { suggestion: near.name } : {}) },
          ),
        );
      }
    }
  }

  // Config files: references, links, environments, duplicate names.
  const cache = options.crossFileCache;
  if (cache === undefined) {
    for (const file of index.configFiles.values()) {
      const diagnostics = crossFileDiagnostics(index, file, namesComplete, declared);
      if (diagnostics.length > 0) out.push(...diagnostics);
    }
  } else {
    const entries = cache.filling();
    for (const file of index.configFiles.values()) {
      let diagnostics = cache.get(file);
      if (diagnostics === undefined) {
        diagnostics = crossFileDiagnostics(index, file, namesComplete, declared);
        entries.set(file.path, { file, diagnostics });
      }
      // (most files have none: no spread call for them)
      if (diagnostics.length > 0) out.push(...diagnostics);
    }
    cache.settle(entries, index);
  }

  // A tracked .env.production (or production.env, secrets.production.json) holding values of this project's secrets
  if (options.tracked !== undefined && index.plaintextEnvFiles.size > 0) {
    const catalog = index.catalog?.entries;
    const isSecret = (name: string): boolean => index.secret(name) !== undefined || catalog?.has(name) === true;
    out.push(...plaintextEnvDiagnostics(index.plaintextEnvFiles.values(), isSecret, options.tracked, sev("plaintext-credential"), index.project.environments.map((e) => e.name)));
  }
  // Values older than their catalog rotate_every, when a history says when they were set.
  if (options.history !== undefined) out.push(...rotationDiagnostics(index, options.history, options.now ?? new Date(), sev("rotation-overdue")));

  for (const text of configCredentialNames(index)) hidden.add(text);
  return withoutCredentialNames(withoutRepeatedFindings(applySeverities(out, rules)), hidden).sort(compareDiagnostics);
}

/**
 * The part of a first check an editor runs a piece at a time before {@link checkWorkspace} (a
 * project of thousands of config files held its thread for most of a second): the index's derived
 * maps (a config file's share per step: {@link WorkspaceIndex.buildSteps}), then each config file's
 * cross-file diagnostics into `cache` (a file per step), as {@link checkWorkspace} computes them.
 * `checkWorkspace` with that cache then takes them from it, and its result is the same as without
 * these steps. Yields (nothing) between two pieces. The index must not change while they run: a
 * caller whose index changed stops them (`return()`): the cache is then left as it was.
 */
export function* crossFileCheckSteps(index: WorkspaceIndex, cache: CrossFileCache): Generator<void, void, void> {
  if (!index.projectUsable) return;
  yield* index.buildSteps();
  const declared = index.environmentNames();
  const namesComplete = declared.every((e) => index.environmentFiles.get(e)?.readable !== false);
  const entries = cache.filling();
  for (const file of index.configFiles.values()) {
    if (cache.get(file) !== undefined) continue;
    yield;
    entries.set(file.path, { file, diagnostics: crossFileDiagnostics(index, file, namesComplete, declared) });
  }
  cache.settle(entries, index);
}

/**
 * The message of `plaintext-credential` at the key of an environment file that is a credential
 * (`looks`: {@link credentialAsName}): where, what it looks like, and the fix; never the name.
 */
function credentialNameMessage(file: string, line: number, looks: string, environment: string): string {
  return (
    `the name of the secret at ${file}:${line} looks like ${looks}, not a secret's name (not shown): names are not encrypted, so it is stored and committed in clear text; ` +
    `if its value is in use, set it under a real name (\`stellar-secrets set NAME --env ${environment}\`) and reference that, delete this line with \`stellar-secrets edit --env ${environment}\`, ` +
    `and rotate the credential at its provider (git history keeps it)`
  );
}

/**
 * `diagnostics` with each name of `names` (names of environment files that look like credentials)
 * hidden: replaced by {@link HIDDEN_NAME} in messages, and left out as a `secret`, `suggestion` or
 * one of the `alternatives` (a fix that would write it). The same array when `names` is empty.
 */
function withoutCredentialNames(diagnostics: Diagnostic[], names: ReadonlySet<string>): Diagnostic[] {
  if (names.size === 0) return diagnostics;
  return diagnostics.map((d) => {
    const message = hideCredentialNames(d.message, names);
    const secret = d.secret !== undefined && names.has(d.secret);
    const suggestion = d.suggestion !== undefined && names.has(d.suggestion);
    const alternatives = d.alternatives?.some((a) => names.has(a)) === true;
    if (message === d.message && !secret && !suggestion && !alternatives) return d;
    const out: Diagnostic = { ...d, message };
    if (secret) delete out.secret;
    if (suggestion) delete out.suggestion;
    if (alternatives) {
      const kept = (d.alternatives ?? []).filter((a) => !names.has(a));
      if (kept.length > 0) out.alternatives = kept;
      else delete out.alternatives;
    }
    return out;
  });
}

/**
 * The diagnostics of one config file (relative path), with configured severities, sorted: its
 * own (`schema`, `plaintext-credential`) and those of its references, links and environments
 * against the rest of the index. The same diagnostics {@link checkWorkspace} gives for that file,
 * for editors that re-check the edited file at once and the whole workspace later (an edit can
 * also change other files' diagnostics: `unused-secret`, other files' `unknown-reference`).
 * Empty for a path that is not an indexed config file, or when stellar.yaml is unusable.
 */
export function checkConfigFile(index: WorkspaceIndex, path: string): Diagnostic[] {
  const file = index.configFiles.get(path);
  if (file === undefined || !index.projectUsable) return [];
  const declared = index.environmentNames();
  const namesComplete = declared.every((e) => index.environmentFiles.get(e)?.readable !== false);
  const found = withoutRepeatedFindings(applySeverities([...withNamedReferences(index, file, withFreeSecretNames(index, file.diagnostics)), ...crossFileDiagnostics(index, file, namesComplete, declared)], index.project.rules));
  const configNames = configCredentialNames(index);
  return withoutCredentialNames(found, configNames.size === 0 ? index.credentialNames() : new Set([...index.credentialNames(), ...configNames])).sort(compareDiagnostics);
}

/**
 * The names written in config files that are credentials (a well-known format: an object's name,
 * a link's target, an `environments` entry; the parser reports each as `plaintext-credential`):
 * never printed in another finding's message, as a credential stored as a secret's name is not.
 */
function configCredentialNames(index: WorkspaceIndex): Set<string> {
  const out = new Set<string>();
  const add = (text: string | undefined): void => {
    if (text !== undefined && text.length >= 8 && detectCredential(text) !== undefined) out.add(text);
  };
  for (const file of index.configFiles.values()) {
    if (!file.diagnostics.some((d) => d.rule === "plaintext-credential")) continue;
    for (const doc of file.documents) {
      add(doc.name);
      for (const link of doc.links) add(link.target);
      for (const e of doc.environments ?? []) add(e.name);
    }
  }
  return out;
}

/**
 * A plaintext value's fix in the file of an environment stellar.yaml does not declare: `set` it in
 * a declared environment (`set --env UNDECLARED` would be refused).
 */
function withDeclaredEnvironment(d: Diagnostic, environment: string, declared: readonly string[]): Diagnostic {
  const name = d.secret;
  if (d.rule !== "unencrypted-secrets-file" || name === undefined) return d;
  const fix = plaintextValueFix(name, environment);
  if (!d.message.endsWith(fix)) return d;
  const target = nearestName(environment, declared)?.name ?? (declared.length === 1 ? declared[0]! : "ENV");
  const note = target === "ENV" ? ` in an environment stellar.yaml declares (${declared.join(", ") || "none yet"})` : ` (stellar.yaml does not declare "${environment}")`;
  return { ...d, message: d.message.slice(0, d.message.length - fix.length) + plaintextValueFix(name, target, note) };
}

/**
 * A config file's own diagnostics with each `plaintext-credential` fix naming a free secret name:
 * the name proposed at parse time (its `suggestion`, made from the header's or field's context
 * without knowing the secrets) is replaced, in the commands and YAML the message quotes, by the
 * first free `name_2`, `name_3`… when a secret already has it (`set` would overwrite that one).
 */
function withFreeSecretNames(index: WorkspaceIndex, diagnostics: readonly Diagnostic[]): readonly Diagnostic[] {
  if (!diagnostics.some((d) => d.rule === "plaintext-credential" && d.suggestion !== undefined && index.secret(d.suggestion) !== undefined)) return diagnostics;
  return diagnostics.map((d) => {
    if (d.rule !== "plaintext-credential" || d.suggestion === undefined || index.secret(d.suggestion) === undefined) return d;
    const taken = d.suggestion;
    const free = secretNameFromContext([taken], (n) => index.secret(n) !== undefined);
    const word = new RegExp(`(?<![a-z0-9_])${taken}(?![a-z0-9_])`, "g");
    // (in code spans only: the header or field named in the text keeps its own spelling)
    const message = d.message.replace(/`[^`]*`/g, (span) => span.replace(word, free ?? "NAME"));
    const { suggestion: _old, ...rest } = d;
    return free === undefined ? { ...rest, message } : { ...rest, message, suggestion: free };
  });
}

/** The end of the schema message of a plain value in a field that takes only `{ secret: NAME }` (validate.ts). */
const NOT_A_REFERENCE = " must be a secret reference { secret: NAME }, not a plain value";

/**
 * A config file's own diagnostics with the schema error of a field that takes only a reference
 * (`token`, `password`…) whose plain value is a secret's name or interpolates one
 * (`token: "${{ secrets.stripe_api_key }}"`) saying which reference to write, with it as the
 * replacement (an editor's quick fix): the generic message ("must be a secret reference { secret:
 * NAME }") left a newcomer to guess that the name they wrote is the one to put there. Cross-file
 * (it needs the secrets' names), so made at check time, as {@link withFreeSecretNames}.
 */
function withNamedReferences(index: WorkspaceIndex, file: ConfigFile, diagnostics: readonly Diagnostic[]): readonly Diagnostic[] {
  if (!diagnostics.some((d) => d.rule === "schema" && (d.message.endsWith(NOT_A_REFERENCE) || d.message.includes(AUTH_NOT_A_SECRET)))) return diagnostics;
  return diagnostics.map((d) => {
    if (d.rule === "schema" && d.message.includes(AUTH_NOT_A_SECRET)) return withAuthConnector(index, d);
    if (d.rule !== "schema" || !d.message.endsWith(NOT_A_REFERENCE)) return d;
    for (const doc of file.documents) {
      for (const p of doc.plainValues ?? []) {
        if (p.secretOnly !== true || p.kind !== "field") continue;
        const at = file.lines.positionAt(p.range.start);
        if (at.line !== d.line || at.column !== d.column) continue;
        const named = secretNamedBy(p.text, (n) => index.secret(n) !== undefined);
        if (named === undefined) return d;
        const what = named.written === undefined ? `the text ${quoteName(named.name)}, the name of a secret, not its value` : `"${named.written}" as written (secrets are never interpolated)`;
        return {
          ...d,
          message: `${d.message.slice(0, -NOT_A_REFERENCE.length)} must be a secret reference, not a plain value: it holds ${what}; write ${p.field ?? "value"}: { secret: ${named.name} }`,
          secret: named.name,
          suggestion: `{ secret: ${named.name} }`,
        };
      }
    }
    return d;
  });
}

/**
 * A connection's `auth: { secret: NAME }` error with the auth connectors whose references name that
 * secret (`connectors/stripe.yaml` for `stripe_api_key`): "write auth: stripe", the replacement
 * when there is one; unchanged when none does (the message says what such a connector is).
 */
function withAuthConnector(index: WorkspaceIndex, d: Diagnostic): Diagnostic {
  const secret = /\{ secret: ([^ }]+) \}: write auth: NAME/.exec(d.message)?.[1];
  if (secret === undefined) return d;
  const holders: string[] = [];
  for (const file of index.configFiles.values()) {
    for (const doc of file.documents) {
      if (doc.kind === "auth_connector" && doc.name !== undefined && doc.references.some((r) => r.secret === secret) && !holders.includes(doc.name)) holders.push(doc.name);
    }
  }
  if (holders.length === 0) return d;
  const start = d.message.slice(0, d.message.indexOf(": write auth: NAME"));
  const where = (name: string): string => index.objectDefinitions("auth_connector", name)[0]?.file ?? "";
  return holders.length === 1
    ? { ...d, message: `${start}: write auth: ${holders[0]}, the auth connector (${where(holders[0]!)}) that holds { secret: ${secret} }`, suggestion: holders[0]! }
    : { ...d, message: `${start}: write auth: NAME, one of the auth connectors that hold { secret: ${secret} }: ${holders.map((h) => `${h} (${where(h)})`).join(", ")}` };
}

/**
 * How many unknown names of one config file get a "did you mean" search (each compares the name
 * with every known name): the first ones in file order. A file with more (a generated or pasted
 * file with tens of thousands of unknown secrets) would take seconds of searching; past this
 * number its unknown names are reported without a suggestion. Files a person writes never come
 * near it, so for them the result is unchanged.
 */
export const MAX_SUGGESTIONS_PER_FILE = 1000;

/**
 * Reference, link, environment and duplicate-name diagnostics of one config file (default
 * severities); `declared`: the index's {@link WorkspaceIndex.environmentNames}, made once per check.
 */
function crossFileDiagnostics(index: WorkspaceIndex, file: ConfigFile, namesComplete: boolean, declared: readonly string[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const sev = defaultSeverity;
  let searches = 0;
  const budget = (): boolean => searches++ < MAX_SUGGESTIONS_PER_FILE;
  for (const doc of file.documents) {
    if (doc.hasErrors) continue;
    for (const ref of doc.references) {
      if (!namesComplete && index.secret(ref.secret) === undefined) continue;
      const d = checkReference(index, doc, ref, file.lines, budget);
      if (d !== undefined) out.push(d);
    }
    for (const p of doc.plainValues ?? []) {
      if (p.secretOnly === true) continue; // (a plain value there is already a schema error)
      const d = plainValueDiagnostic(index, p, file);
      if (d !== undefined) out.push(d);
    }
    for (const link of doc.links) {
      if (index.objectDefinitions(link.targetKind, link.target).length > 0) continue;
      // a link written as the file that defines the object (`auth: connectors/stripe.yaml`): a link names the object
      if (isFileLike(link.target)) {
        const named = definedInFile(index, file.path, link.targetKind, link.target);
        out.push(
          diagnosticAt(
            "unknown-reference",
            sev("unknown-reference"),
            file.path,
            file.lines,
            link.range,
            `${describeDocument(doc)} uses ${KIND_WORDS[link.targetKind]} "${link.target}", but a link names an object by its name, not its file: ${
              named === undefined
                ? `write the name of the ${KIND_WORDS[link.targetKind]} (its \`name:\`)${index.configFiles.has(link.target) ? `; ${link.target} defines no ${KIND_WORDS[link.targetKind]}` : ""}`
                : `${named.file} defines ${KIND_WORDS[link.targetKind]} "${named.name}": write ${link.field === "actions" ? `${named.name} in actions` : `${link.field}: ${named.name}`}`
            }`,
            named === undefined ? undefined : { suggestion: named.name },
          ),
        );
        continue;
      }
      // the object is written in a document that lost its `kind` line (reported there): that file is the explanation
      const kindless = kindlessDefinition(index, link.targetKind, link.target);
      if (kindless !== undefined) {
        out.push(
          diagnosticAt(
            "unknown-reference",
            sev("unknown-reference"),
            file.path,
            file.lines,
            link.range,
            // (no did-you-mean: the name is right, the file is what to fix)
            `${describeDocument(doc)} uses ${KIND_WORDS[link.targetKind]} "${link.target}", but there is none by that name; ${kindless}: add "kind: ${link.targetKind}" there`,
          ),
        );
        continue;
      }
      // an object of the right kind in a file kept out of the project (Stripe.YAML beside *.yaml
      // globs) says more than a same-named object of another kind in the project
      const other = index.excludedDefinition(link.targetKind, link.target) === undefined ? otherKindExplanation(index, link) : undefined;
      // config files that were not read at all (a link out of the repository): they may define it
      const unreadFiles = unreadConfigFilesNote(index, "define");
      let why: string;
      let suggestion: string | undefined;
      if (other !== undefined) {
        why = other.message + (unreadFiles ?? "");
        suggestion = unreadFiles === undefined ? other.suggestion : undefined;
      } else {
        // defined in a file config.exclude keeps out: said (and no "did you mean" another name); read once, lazily
        const excluded = index.excludedDefinition(link.targetKind, link.target);
        // (or another project of the monorepo defines it: said, and no "did you mean" another name either)
        const elsewhere = excluded === undefined ? index.otherProjectDefinition(link.targetKind, link.target) : undefined;
        const near = excluded === undefined && elsewhere === undefined && budget() ? index.nearestObjectName(link.targetKind, link.target) : undefined;
        const unread = near === undefined && excluded === undefined && elsewhere === undefined ? unreadDefinition(index, link.target) : undefined;
        // an agent's actions entry whose nearest name is another entry: replacing it would list that action twice
        const listed = near !== undefined && link.field === "actions" && doc.links.some((l) => l !== link && l.field === "actions" && l.target === near.name);
        why = `there is none by that name${
          excluded !== undefined
            ? `; ${excludedDefinitionNote(excluded)}`
            : elsewhere !== undefined
              ? ` in this project; ${
                  elsewhere.project.enclosing
                    ? `${otherProjectWords(elsewhere.project)} defines it in its ${elsewhere.definition.path.slice(elsewhere.project.path.length + 1)}:${elsewhere.definition.line}`
                    : `${elsewhere.definition.path}:${elsewhere.definition.line} defines it in ${otherProjectWords(elsewhere.project)}`
                }, and a project can use only its own objects: define the ${KIND_WORDS[link.targetKind]} in this project, or move ${describeDocument(doc)} into that one`
            : near && listed
              ? `; "${near.name}", which it looks like, is already listed: remove this entry`
              : near
                ? `; did you mean "${near.name}"?${unreadFiles ?? ""}`
                : (unread ?? unreadFiles ?? "")
        }`;
        suggestion = near && !listed ? near.name : undefined;
      }
      out.push(
        diagnosticAt(
          "unknown-reference",
          sev("unknown-reference"),
          file.path,
          file.lines,
          link.range,
          `${describeDocument(doc)} uses ${KIND_WORDS[link.targetKind]} "${link.target}", but ${why}`,
          suggestion !== undefined ? { suggestion } : undefined,
        ),
      );
    }
    for (const e of doc.environments ?? []) {
      if (declared.includes(e.name)) continue;
      const near = nearestName(e.name, declared);
      // the nearest name is already in the list: replacing would list it twice (a schema error)
      const listed = near !== undefined && (doc.environments ?? []).some((x) => x !== e && x.name === near.name);
      out.push(
        diagnosticAt(
          "unknown-environment",
          sev("unknown-environment"),
          file.path,
          file.lines,
          e.range,
          `environment "${e.name}" is not declared in stellar.yaml (declared: ${declared.join(", ") || "none"})${near ? (listed ? `; "${near.name}", which it looks like, is already listed: remove this entry` : `; did you mean "${near.name}"?`) : ""}`,
          near && !listed ? { suggestion: near.name } : undefined,
        ),
      );
    }
    if (doc.name !== undefined && doc.nameRange !== undefined) {
      const defs = index.objectDefinitions(doc.kind, doc.name);
      const first = defs[0];
      if (defs.length > 1 && first !== undefined) {
        // on every definition: which one is the copy cannot be told (the file that sorts first by
        // path may be either), so each names the others
        const place = (def: (typeof defs)[number]): string => {
          const at = index.configFiles.get(def.file)?.lines.positionAt(def.range.start) ?? { line: 1, column: 1 };
          return `${def.file}:${at.line}:${at.column}`;
        };
        const others = defs.filter((def) => def.document !== doc).map(place);
        const word = KIND_WORDS[doc.kind];
        out.push(
          diagnosticAt(
            "schema",
            sev("schema"),
            file.path,
            file.lines,
            doc.nameRange,
            `${word} name "${doc.name}" is ${first.document === doc ? `also used at ${others.join(", ")}` : `already used at ${place(first)}`}; names must be unique per kind: ` +
              `rename the copy (and what should use it); until then what uses "${doc.name}" is followed to no ${word} of that name (the environments it needs values in are not derived through either)`,
          ),
        );
      }
    }
  }
  return out;
}

/**
 * Names the first letter of `name` outside ASCII (`stripe_аpi_key` with a Cyrillic "а" looks
 * exactly like the name it misses), or "". Control and invisible characters are not named: they
 * are escaped where the name is quoted.
 */
function lookAlikeHint(name: string): string {
  for (let i = 0; i < name.length; i++) {
    if (name.charCodeAt(i) < 0x80) continue;
    const c = String.fromCodePoint(name.codePointAt(i) as number);
    if (quoteName(c) !== `"${c}"`) continue; // shown as an escape already
    return `; its character ${i + 1}, "${c}" (U+${(c.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0")}), is not ASCII (a look-alike of another letter)`;
  }
  return "";
}

/** The end of the message about an unknown name that no secret can have (`set` refuses it). */
/** A secret's name as the argument of a pasted command: one shell word, never read as an option (an environment file's key can be anything). */
function nameArgument(name: string): string {
  const word = /^[A-Za-z0-9_.@%+=:,-]+$/.test(name) ? name : `'${name.replace(/'/g, `'\\''`)}'`;
  return name.startsWith("-") ? `-- ${word}` : word;
}

/**
 * How to move from a name `set` refuses to a valid one (names cannot be changed): create the valid
 * form in `environments`, move the references, delete the old name (`rm` accepts any name).
 */
function renameHint(name: string, environments: readonly string[], why: string): string {
  const valid = suggestSecretName(name);
  const target = valid !== undefined && validateSecretName(valid).ok ? valid : undefined;
  const create = target === undefined ? "create a valid name" : `create ${quoteName(target)} instead (\`stellar-secrets set ${target} --env ${environments.join(",")}\`)`;
  return `\`set\` refuses this name (${why}): ${create}, reference it here, then delete this one (\`stellar-secrets rm ${nameArgument(name)}\`)`;
}

function invalidNameHint(name: string): string {
  const valid = suggestSecretName(name);
  const example = valid !== undefined && valid !== name && validateSecretName(valid).ok ? ` (as in ${quoteName(valid)})` : "";
  return `; no secret can have this name: names are lowercase letters, digits and _, starting with a letter${example}`;
}

/** What each link field takes, in words, for a link that names an object of another kind. */
const LINK_TAKES: Record<ObjectLink["field"], string> = {
  actions: "an agent lists actions",
  connection: "an action names a connection",
  auth: "a connection names an auth connector",
};

/**
 * A link's target that is an object of another kind (`actions: [sendgrid_api]`, a connection):
 * what it is and where, and the object of the wanted kind built on it (the action that uses that
 * connection, the connection that uses that auth connector) when there is one.
 */
function otherKindExplanation(index: WorkspaceIndex, link: ObjectLink): { message: string; suggestion?: string } | undefined {
  for (const kind of Object.keys(KIND_WORDS) as ConfigKind[]) {
    if (kind === link.targetKind) continue;
    const def = index.objectDefinitions(kind, link.target)[0];
    if (def === undefined) continue;
    const lines = index.configFiles.get(def.file)?.lines;
    const at = lines === undefined ? "" : (({ line, column }) => `:${line}:${column}`)(lines.positionAt(def.range.start));
    // the objects of the wanted kind that use it (directly, or through its connections)
    let users: string[] = [];
    if (link.targetKind === "action" && kind === "api_connection") users = namesOf(index.usersOf("api_connection", link.target));
    else if (link.targetKind === "action" && kind === "auth_connector") users = namesOf(index.usersOf("auth_connector", link.target).flatMap((c) => (c.name === undefined ? [] : index.usersOf("api_connection", c.name))));
    else if (link.targetKind === "api_connection" && kind === "auth_connector") users = namesOf(index.usersOf("auth_connector", link.target));
    const word = KIND_WORDS[link.targetKind];
    const them =
      users.length === 0 ? "" : users.length === 1 ? `; the ${word} that uses it is "${users[0]}"` : `; the ${word}s that use it are ${users.slice(0, 5).map((u) => `"${u}"`).join(", ")}${users.length > 5 ? ", …" : ""}`;
    const takes = kind === "agent" && link.targetKind !== "action" ? "" : `: ${LINK_TAKES[link.field]}`;
    return {
      message: `"${link.target}" is ${/^[aeiou]/i.test(KIND_WORDS[kind]) ? "an" : "a"} ${KIND_WORDS[kind]} (${def.file}${at}), not ${/^[aeiouA]/.test(word) ? "an" : "a"} ${word}${takes}${them}`,
      ...(users.length === 1 ? { suggestion: users[0] } : {}),
    };
  }
  return undefined;
}

function namesOf(docs: readonly ConfigDocument[]): string[] {
  return [...new Set(docs.map((d) => d.name).filter((n): n is string => n !== undefined))];
}

/**
 * "; connectors/zendesk.yaml was not read (see the error there) and may define it" when config
 * files of the project were not read at all ({@link ConfigFile.unread}: a symbolic link out of the
 * repository, a file too large or not UTF-8), the first three by path; undefined when every file
 * was read. What such a file holds is unknown: an unused secret may be used there (so never
 * "remove it"), a missing object defined there.
 */
function unreadConfigFilesNote(index: WorkspaceIndex, what: "define" | "reference"): string | undefined {
  const unread: string[] = [];
  for (const file of index.configFiles.values()) if (file.unread === true) unread.push(file.path);
  if (unread.length === 0) return undefined;
  unread.sort();
  const shown = unread.length > 3 ? `${unread.slice(0, 3).join(", ")} and ${unread.length - 3} more` : unread.join(", ");
  return `; ${shown} ${unread.length === 1 ? "was" : "were"} not read (see the error there) and may ${what} it: fix that first`;
}

/**
 * The object of `kind` that the config file `written` defines (its one object of that kind), the
 * path taken as written from the project root or from the folder of `from` (`./refund.yaml`,
 * `../connectors/stripe.yaml`); undefined when no such file or not exactly one such object.
 */
function definedInFile(index: WorkspaceIndex, from: string, kind: ConfigKind, written: string): { file: string; name: string } | undefined {
  const folder = from.includes("/") ? from.slice(0, from.lastIndexOf("/")) : "";
  const candidates = [normalizeRelative(written), normalizeRelative(folder === "" ? written : `${folder}/${written}`)];
  for (const path of candidates) {
    const file = path === undefined ? undefined : index.configFiles.get(path);
    if (file === undefined) continue;
    const names = file.documents.filter((d) => d.kind === kind && d.name !== undefined).map((d) => d.name as string);
    if (names.length === 1) return { file: file.path, name: names[0]! };
  }
  return undefined;
}

/** `a/./b/../c` as `a/c`, without a leading `./`; undefined when it leaves the root. */
function normalizeRelative(path: string): string | undefined {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(part);
  }
  return out.join("/");
}

/** The start of the `schema` error config.ts gives a document of ours that has no `kind` line (`kindlessObject`), with the name and kind it reads. */
const KINDLESS_MESSAGE = /^this document has no "kind", so it is not read: .*?, and "([^"]*)" is neither checked nor deployed; its fields are .*: add "kind: ([a-z_]+)"$/;

/**
 * "FILE:LINE writes KIND "NAME" without a `kind` line, so it is not read" when a config document
 * that lost its `kind` line (its `schema` error says so) has the name and the fields of that kind;
 * undefined otherwise. Read from the files' diagnostics (a model from the cache has them too); only
 * for a link that names nothing, so never on the hot path.
 */
function kindlessDefinition(index: WorkspaceIndex, kind: ConfigKind, name: string): string | undefined {
  for (const file of index.configFiles.values()) {
    for (const d of file.diagnostics) {
      if (d.rule !== "schema" || !d.message.startsWith("this document has no")) continue;
      const m = KINDLESS_MESSAGE.exec(d.message);
      if (m === null || m[1] !== name || m[2] !== kind) continue;
      return `${file.path}:${d.line} writes ${KIND_WORDS[kind]} "${name}" in a document without a "kind" line, so it is not read (the error there says so)`;
    }
  }
  return undefined;
}

/** "; FILE:LINE has "name: X", but that file has a YAML syntax error …" for a name only a file that does not parse has. */
function unreadDefinition(index: WorkspaceIndex, name: string): string | undefined {
  for (const file of index.configFiles.values()) {
    const e = file.syntaxError;
    const hit = e?.unreadNames?.find((n) => n.name === name);
    if (e === undefined || hit === undefined) continue;
    return `; ${file.path}:${hit.line} has "name: ${name}", but that file has a YAML syntax error (at ${e.line}:${e.column}) and was not read past it: fix that first`;
  }
  return undefined;
}

/**
 * How other tools interpolate, this one never does: GitHub Actions' `${{ secrets.NAME }}` (any
 * spacing, `secrets['NAME']`, `secrets["NAME"]`, `env.NAME`, `vars.NAME`), a shell's or JavaScript's
 * `${NAME}` and `$NAME`, a template's `{{ NAME }}` or `{{ secret.NAME }}`; in text order.
 */
const INTERPOLATION = /\$\{\{\s*([^{}]*?)\s*\}\}|\$\{\s*([^{}]*?)\s*\}|\{\{\s*([^{}]*?)\s*\}\}|\$([A-Za-z][A-Za-z0-9_]*)/g;
/** The name an interpolated expression names: `NAME`, `secrets.NAME`, `secret.NAME`, `env.NAME`, `vars.NAME`, `secrets['NAME']`, `secrets["NAME"]`. */
const INTERPOLATED_NAME = /^(?:(?:secrets?|env|vars)\s*(?:\.\s*([A-Za-z][A-Za-z0-9_]*)|\[\s*(['"])([A-Za-z][A-Za-z0-9_]*)\2\s*\])|([A-Za-z][A-Za-z0-9_]*))$/;

/**
 * The secret a plain value names, when it is exactly a secret's name or interpolates one, with
 * the interpolation as written and the text before it when that is a scheme such as `Bearer `
 * (the header's `prefix`). An interpolated name in capitals (`${{ secrets.STRIPE_API_KEY }}`, as
 * GitHub secrets and environment variables are written) names the secret of its lower-case form.
 * Undefined otherwise (`{{conversation_id}}` names no secret).
 */
export function secretNamedBy(text: string, isSecret: (name: string) => boolean): { name: string; written?: string; prefix?: string } | undefined {
  if (isSecret(text)) return { name: text };
  if (!text.includes("{") && !text.includes("$")) return undefined;
  for (const m of text.matchAll(INTERPOLATION)) {
    const inner = INTERPOLATED_NAME.exec(m[1] ?? m[2] ?? m[3] ?? m[4] ?? "");
    const written = inner?.[1] ?? inner?.[3] ?? inner?.[4];
    const name = written === undefined ? undefined : isSecret(written) ? written : isSecret(written.toLowerCase()) ? written.toLowerCase() : undefined;
    if (name === undefined) continue;
    const before = text.slice(0, m.index);
    const prefix = m.index + m[0].length === text.length && /^[A-Za-z][A-Za-z0-9-]* $/.test(before) ? before : undefined;
    return { name, written: m[0], ...(prefix !== undefined ? { prefix } : {}) };
  }
  return undefined;
}

/** `schema` at a static header's value or a plain connector field that is (or interpolates) a secret's name: it would send the text. */
function plainValueDiagnostic(index: WorkspaceIndex, p: PlainValue, file: ConfigFile): Diagnostic | undefined {
  const named = secretNamedBy(p.text, (n) => index.secret(n) !== undefined);
  if (named === undefined) return undefined;
  if (p.kind === "url") {
    // (only an interpolated name: a path or URL that is exactly a name is no mistake of this kind)
    if (named.written === undefined) return undefined;
    const range = interpolatedNameRange(p, named);
    return diagnosticAt(
      "schema",
      defaultSeverity("schema"),
      file.path,
      file.lines,
      range,
      `field "${p.field ?? "path"}" holds "${named.written}" as written: secrets are never interpolated, so that text is sent, not the secret; a secret is sent only in a header: reference it as { name: …, type: secret, secret: ${named.name} } in the headers of the ${file.documents.find((d) => d.range.start <= p.range.start && p.range.end <= d.range.end)?.kind === "action" ? "action or its connection" : "connection"} (or its auth connector), and take it out of "${p.field ?? "path"}"`,
      { secret: named.name },
    );
  }
  const subject = p.kind === "header" ? (p.header !== undefined ? `static header "${p.header}"` : "a static header") : `field "${p.field ?? "value"}"`;
  const what = named.written === undefined ? `the text ${quoteName(named.name)}, the name of a secret, not its value` : `"${named.written}" as written: secrets are never interpolated into a value`;
  const write =
    p.kind === "header"
      ? `{ name: ${p.header ?? "NAME"}, type: secret, secret: ${named.name}${named.prefix !== undefined ? `, prefix: ${JSON.stringify(named.prefix)}` : ""} }`
      : `${p.field ?? "value"}: { secret: ${named.name} }`;
  const message =
    p.kind === "header" && named.written === undefined
      ? `${subject} sends ${what}; a header takes a secret as \`type: secret\` with \`secret: NAME\`: write ${write}`
      : `${subject} ${p.kind === "header" ? "sends" : "holds"} ${what}${p.kind === "header" ? ";" : ":"} write ${write}`;
  // a connector field that is exactly a name: the reference to write is the replacement of the value (a quick fix)
  const replacement = p.kind === "field" && named.written === undefined ? { suggestion: `{ secret: ${named.name} }` } : {};
  return diagnosticAt("schema", defaultSeverity("schema"), file.path, file.lines, p.range, message, { secret: named.name, ...replacement });
}

/** Where a name interpolated into a URL field is: at the name when the value is written as it reads, else the whole value. */
function interpolatedNameRange(p: PlainValue, named: { name: string; written?: string }): TextRange {
  const w = named.written === undefined ? -1 : p.text.indexOf(named.written);
  const n = named.written === undefined ? -1 : named.written.indexOf(named.name);
  return p.textStart !== undefined && w !== -1 && n !== -1 ? { start: p.textStart + w + n, end: p.textStart + w + n + named.name.length } : p.range;
}

/** Where secrets' names are written without referencing them, for `unused-secret` to point there. */
interface Strays {
  /**
   * "; FILE:L:C writes its name as plain text …" for an unused secret, or undefined: a hint after
   * "; ", so review's problem statement (up to the first "; ") stays the same when one appears.
   */
  explain(name: string): string | undefined;
}

/** How many unknown references {@link collectStrays} compares an unused name with (a generated file may have thousands). */
const MAX_STRAY_REFERENCES = 1000;

function collectStrays(index: WorkspaceIndex): Strays {
  const plain = new Map<string, { at: string; url: boolean }>();
  const unknown = new Map<string, string>(); // first place of each unknown name
  for (const file of index.configFiles.values()) {
    for (const doc of file.documents) {
      for (const ref of doc.references) {
        if (unknown.size < MAX_STRAY_REFERENCES && !unknown.has(ref.secret) && index.secret(ref.secret) === undefined) unknown.set(ref.secret, `${ref.file}:${ref.line}:${ref.column}`);
      }
      for (const p of doc.plainValues ?? []) {
        const named = secretNamedBy(p.text, (n) => index.secret(n) !== undefined);
        if (named === undefined || plain.has(named.name) || (p.kind === "url" && named.written === undefined)) continue;
        const at = file.lines.positionAt(p.kind === "url" ? interpolatedNameRange(p, named).start : p.range.start);
        plain.set(named.name, { at: `${file.path}:${at.line}:${at.column}`, url: p.kind === "url" });
      }
    }
  }
  return {
    explain(name) {
      const where = plain.get(name);
      if (where !== undefined) {
        return where.url
          ? `; ${where.at} interpolates its name into a path or URL, which sends that text (not a reference); reference it from a header there instead, { name: …, type: secret, secret: ${name} }`
          : `; ${where.at} writes its name as plain text (not a reference); reference it there with { secret: ${name} }`;
      }
      const valid = validateSecretName(name).ok ? undefined : suggestSecretName(name);
      const validAt = valid === undefined ? undefined : unknown.get(valid);
      if (valid !== undefined && validAt !== undefined) {
        return `; the reference ${quoteName(valid)} at ${validAt} is its valid form (this name breaks the naming rules): move the value there, \`stellar-secrets rename ${nameArgument(name)} ${valid}\` prints the steps`;
      }
      const lower = name.toLowerCase();
      for (const [written, at] of unknown) {
        if (written.trim() === name) return `; the reference ${quoteName(written)} at ${at} differs from it only by the ${spacesAround(written)}; correct that reference`;
        if (written.toLowerCase() === lower) return `; the reference ${quoteName(written)} at ${at} differs from it only by case (names are case-sensitive); correct that reference`;
      }
      for (const [written, at] of unknown) {
        const near = editDistance(written, name, 2) <= 2 ? index.nearestSecretName(written) : undefined;
        if (near !== undefined && (near.name === name || near.others?.includes(name) === true)) return `; the reference ${quoteName(written)} at ${at} looks like a misspelling of it; correct that reference`;
      }
      return undefined;
    },
  };
}

/** For an unused secret left behind by a rename: "; NEW, referenced, has no value in ENV where this one has: …", or undefined. */
function renamedTo(index: WorkspaceIndex, old: string): string | undefined {
  const where = index.secret(old)?.definitions.filter((d) => !d.empty).map((d) => d.environment) ?? [];
  // (cheap tests first: referenced, and no value where the old name has one)
  const lacks = (n: string): boolean => index.secret(n)?.definitions.every((d) => d.empty || !where.includes(d.environment)) ?? false;
  const successors = index
    .secretNamesOfService(old)
    .filter((n) => n !== old && (index.secret(n)?.references.length ?? 0) > 0 && lacks(n) && renamedPredecessor(index, n, where) === old);
  if (successors.length !== 1) return undefined;
  const next = successors[0] as string;
  return `; "${next}", which config files reference, has no value in ${where.join(", ")}, where this one has: if it replaces this one, \`stellar-secrets rename ${nameArgument(old)} ${nameArgument(next)}\` prints how to move the value; else remove this one with \`stellar-secrets rm ${nameArgument(old)}\``;
}

/** Where each word of the config files' comments is first written ("FILE:LINE", files by path), for {@link commentedOut}. */
function commentMentions(index: WorkspaceIndex): Map<string, string> {
  const first = new Map<string, string>();
  const files = [...index.configFiles.values()].filter((f) => f.comments !== undefined).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const file of files) {
    for (const [word, line] of commentWordsOf(file)) if (!first.has(word)) first.set(word, `${file.path}:${line}`);
  }
  return first;
}

/** Each word of a file's comments and the line of its first comment, kept per model (an editor re-checks on every change; most files did not change). */
const commentWords = new WeakMap<ConfigFile, Map<string, number>>();

function commentWordsOf(file: ConfigFile): Map<string, number> {
  let words = commentWords.get(file);
  if (words === undefined) {
    words = new Map();
    for (const c of file.comments ?? []) for (const word of c.text.split(COMMENT_WORD_BREAK)) if (word !== "" && !words.has(word)) words.set(word, c.line);
    commentWords.set(file, words);
  }
  return words;
}

/** What separates words in a comment: a secret name is letters, digits and `_` (a name that breaks the rules with other characters is not looked for). */
const COMMENT_WORD_BREAK = /[^A-Za-z0-9_]+/;

/** "; it is mentioned only in a comment at FILE:LINE …" for an unused secret whose exact name a config file's comment holds as a word, or undefined. */
function commentedOut(name: string, mentions: Map<string, string>): string | undefined {
  const at = mentions.get(name);
  if (at === undefined) return undefined;
  return `; it is mentioned only in a comment at ${at} (a comment is no reference): uncomment the reference there, or reference it with { secret: ${name} }, or remove it with \`stellar-secrets rm ${nameArgument(name)}\``;
}

/**
 * For an unused secret that a config file of the project writes as `secret: NAME` (outside a
 * comment) where no reference is read: in a document without `kind` (another tool's, for the
 * checker), in a field of its own (`.defaults: &d { token: { secret: NAME } }`), in an anchored
 * mapping merged with `<<` (merge keys are not read). "; FILE:LINE writes …", the first such
 * place by file path and line; undefined when there is none.
 */
function unreadMention(index: WorkspaceIndex, name: string): string | undefined {
  let first: { path: string; line: number } | undefined;
  for (const file of index.configFiles.values()) {
    for (const m of file.secretMentions ?? []) {
      if (m.name !== name) continue;
      if (first === undefined || file.path < first.path || (file.path === first.path && m.line < first.line)) first = { path: file.path, line: m.line };
      break;
    }
  }
  if (first === undefined) return undefined;
  return (
    `; ${first.path}:${first.line} writes { secret: ${name} } where no reference is read: a reference is read only in a field that takes one, of a document with a kind ` +
    "(not in a field of your own, an anchored mapping merged with `<<`, which is not read, or a document without kind); write it in such a field"
  );
}

/** "; only FILE:LINE references it, and config.exclude keeps that file out" for an unused secret, or undefined. */
function excludedUse(index: WorkspaceIndex, name: string): string | undefined {
  const ref = index.excludedReference(name);
  if (ref === undefined) return undefined;
  const lower = ref.notIncluded === true ? lowerCaseExtension(ref.path) : undefined;
  if (lower !== undefined)
    return `; only ${ref.path}:${ref.line} references it, and no config.include glob of stellar.yaml matches that file (${CASE_NOTE}; nothing checked reads it): rename it to ${lower} if that file is in use, else remove the secret with \`stellar-secrets rm ${nameArgument(name)}\``;
  if (ref.notIncluded === true && isJsonFile(ref.path))
    return `; only ${ref.path}:${ref.line} references it, and no config.include glob of stellar.yaml matches that file (${JSON_NOTE}; nothing checked reads it): rename it to ${asYaml(ref.path)} (or add a glob that matches it to config.include) if that file is in use, else remove the secret with \`stellar-secrets rm ${nameArgument(name)}\``;
  if (ref.notIncluded === true)
    return `; only ${ref.path}:${ref.line} references it, and no config.include glob of stellar.yaml matches that file (nothing checked or deployed reads it): add a glob that matches it to config.include if that file is in use, else remove the secret with \`stellar-secrets rm ${nameArgument(name)}\``;
  return `; only ${ref.path}:${ref.line} references it, and stellar.yaml's config.exclude glob "${ref.glob}" keeps that file out of the project (nothing checked or deployed reads it): narrow the glob if that file is in use, else remove the secret with \`stellar-secrets rm ${nameArgument(name)}\``;
}

/**
 * How a message names another project, by its stellar.yaml: "teams/labs (a project of its own:
 * teams/labs/stellar.yaml)" or "the enclosing project (../stellar.yaml)". (Never a bare
 * "stellar.yaml": a nested project's messages are reworded for the outer root, where that names
 * the outer project's file.)
 */
function otherProjectWords(p: OtherProject): string {
  return p.enclosing ? `the enclosing project (${p.path}/stellar.yaml)` : `${p.path} (a project of its own: ${p.path}/stellar.yaml)`;
}

/**
 * How a name's surrounding whitespace is said, with what kept it: "space at its end (a quoted name
 * keeps its spaces)", "tab at its start (…)", "line break at its end (a | block scalar keeps it)".
 */
function spacesAround(name: string): string {
  const lead = name.length - name.trimStart().length;
  const trail = name.length - name.trimEnd().length;
  const what = (s: string): string =>
    /^ +$/.test(s) ? (s.length === 1 ? "space" : "spaces") : /^\t+$/.test(s) ? (s.length === 1 ? "tab" : "tabs") : /^(\r?\n)+$/.test(s) ? "line break" : "whitespace";
  const where = lead > 0 && trail > 0 ? "whitespace around it" : lead > 0 ? `${what(name.slice(0, lead))} at its start` : `${what(name.slice(name.length - trail))} at its end`;
  return where === "line break at its end" ? `${where} (a | block scalar keeps it)` : `${where} (a quoted name keeps its spaces)`;
}

/** The "did you mean" of an unknown secret name; none searched once the file's budget ({@link MAX_SUGGESTIONS_PER_FILE}) is spent. */
function suggestSecret(index: WorkspaceIndex, name: string, budget: () => boolean = () => true): { name: string | undefined; others?: string[]; hint: string } {
  if (!budget()) return { name: undefined, hint: `; not compared with the known names (more than ${MAX_SUGGESTIONS_PER_FILE} unknown names in this file)` };
  const near = index.nearestSecretName(name);
  // (a name that looks like a credential is never offered: it would be printed, and written)
  if (near === undefined || credentialAsName(near.name) !== undefined) return { name: undefined, hint: "" };
  if (near.caseOnly) return { name: near.name, hint: `; "${near.name}" differs only by case (names are case-sensitive)` };
  // a space or tab kept inside quotes (`secret: "stripe_api_key "`): the name is the one meant
  if (near.name === name.trim()) return { name: near.name, hint: `; "${near.name}" differs only by the ${spacesAround(name)}: write it without` };
  if (near.others === undefined) return { name: near.name, hint: `; did you mean "${near.name}"?` };
  // as near as each other: the ones nothing references first (a misspelt reference leaves the name it meant unused)
  const all = [near.name, ...near.others];
  const unused = all.filter((n) => (index.secret(n)?.references.length ?? 0) === 0);
  const ordered = [...unused, ...all.filter((n) => !unused.includes(n))];
  const quoted = ordered.map((n) => `"${n}"`);
  return { name: ordered[0], others: ordered.slice(1), hint: `; did you mean ${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1] as string}?` };
}

function checkReference(
  index: WorkspaceIndex,
  doc: ConfigDocument,
  ref: SecretReference,
  lines: LineIndex,
  budget: () => boolean,
): Diagnostic | undefined {
  const info = index.secret(ref.secret);
  if (info === undefined) {
    // a value pasted where a name belongs: reported as what it is, and never repeated in a message
    const pasted = pastedCredential(ref.secret);
    if (pasted !== undefined) {
      // a name from the context (`stripe` + `Authorization`, `hubspot` + `token`) that no secret has yet
      const proposed = secretNameFromContext([doc.name, ref.field.replace(/^headers\[\d+\]\s*/, "")], (n) => index.secret(n) !== undefined);
      const secretName = proposed ?? "NAME";
      return diagnosticAt(
        "plaintext-credential",
        defaultSeverity("plaintext-credential"),
        ref.file,
        lines,
        ref.range,
        `the "secret" field (${ref.field}) holds what looks like ${pasted} in plain text, where a secret's name belongs; store the value with \`stellar-secrets set ${secretName} --env ENV\`, put ${proposed === undefined ? "NAME" : `\`${proposed}\``} here, and rotate the credential at its provider (git history keeps it)`,
        proposed === undefined ? undefined : { suggestion: proposed },
      );
    }
    // secrets_dir names no folder, and a folder of environment files is beside it (Secrets/): its
    // missing-secrets-dir error says which; every reference is not "unknown, create it" meanwhile
    if (index.environmentFiles.size === 0 && misnamedSecretsDir(index.secretsDirSurvey, { environmentFiles: 0, catalog: index.catalog !== undefined }) !== undefined) return undefined;
    // only another project of the monorepo has it: say so, never "did you mean" an unrelated name of this one
    const elsewhere = validateSecretName(ref.secret).ok ? index.otherProjectWithSecret(ref.secret) : undefined;
    if (elsewhere !== undefined) {
      return diagnosticAt(
        "unknown-secret",
        defaultSeverity("unknown-secret"),
        ref.file,
        lines,
        ref.range,
        `unknown secret ${quoteName(ref.secret)}: no environment file of this project has it; ${otherProjectWords(elsewhere)} has it, but a project's config files can use only their own project's secrets: create it in this project with \`stellar-secrets set ${ref.secret} --env ENV\`${elsewhere.enclosing ? ", or, if this project's stellar.yaml was not meant to make its folder a project of its own (a copy), remove it: the folder's files then belong to the enclosing project" : `, or move this file into ${elsewhere.path}/`}`,
        { secret: ref.secret },
      );
    }
    // the environment written into the name (`production.stripe_api_key`, `stripe_api_key_prod`) of a secret that exists without it
    const qualified = environmentQualified(index, ref.secret);
    if (qualified !== undefined) {
      return diagnosticAt(
        "unknown-secret",
        defaultSeverity("unknown-secret"),
        ref.file,
        lines,
        ref.range,
        `unknown secret ${quoteName(ref.secret)}: no environment file has it; the secret is "${qualified.stem}", without "${qualified.environment}": a secret has one name in every environment (each environment's file holds its own value) and the environment is chosen where the reference is used (\`stellar-secrets exec --env ${qualified.declared ?? "ENV"}\`, the resolver's environment, the action's \`environments\`): write secret: ${qualified.stem}`,
        { secret: ref.secret, suggestion: qualified.stem },
      );
    }
    const near = suggestSecret(index, ref.secret, budget);
    // the valid form of a name written with plain sops (`segment-write-key`): the reference is right, the name is not
    if (near.name !== undefined && !validateSecretName(near.name).ok && validateSecretName(ref.secret).ok && suggestSecretName(near.name) === ref.secret) {
      return diagnosticAt(
        "unknown-secret",
        defaultSeverity("unknown-secret"),
        ref.file,
        lines,
        ref.range,
        `unknown secret ${quoteName(ref.secret)}: no environment file has it; ${quoteName(near.name)} holds its value under a name that breaks the naming rules, and this reference is that name's valid form: keep the reference and move the value to it (\`stellar-secrets rename ${nameArgument(near.name)} ${ref.secret}\` prints the steps)`,
        { secret: ref.secret },
      );
    }
    // (`set` refuses a name that breaks the naming rules: no command to suggest for one)
    const fix =
      near.name !== undefined ? "" : validateSecretName(ref.secret).ok ? `; create it with \`stellar-secrets set ${ref.secret} --env ENV\`` : invalidNameHint(ref.secret);
    return diagnosticAt(
      "unknown-secret",
      defaultSeverity("unknown-secret"),
      ref.file,
      lines,
      ref.range,
      `unknown secret ${quoteName(ref.secret)}: no environment file has it${ref.alias !== undefined ? ` (written as the alias *${ref.alias.anchor}, which stands for the value anchored at line ${ref.alias.line}: is that the value you meant?)` : ""}${lookAlikeHint(ref.secret)}${near.hint}${fix}`,
      { secret: ref.secret, ...(near.name !== undefined ? { suggestion: near.name } : {}), ...(near.others !== undefined ? { alternatives: near.others } : {}) },
    );
  }
  const needed = index.environmentsUsedBy(doc);
  // (lists only when something is missing: most references have every value they need)
  let missing: string[] | undefined;
  let empty: string[] | undefined;
  const defs = info.definitions;
  for (const env of needed) {
    let def: (typeof defs)[number] | undefined;
    for (const d of defs) {
      if (d.environment === env) {
        def = d;
        break;
      }
    }
    if (def !== undefined && !def.empty) continue;
    const file = index.environmentFiles.get(env);
    // (an unreadable or empty file: its own error is the finding, and `set` refuses it)
    if (file !== undefined && (!file.readable || file.empty === true)) continue;
    if (def === undefined) {
      // an environment whose file is kept under another name (Production.enc.yaml, prod.enc.yaml,
      // production.enc.yml): one finding at that file says to rename it, not one at every reference used there
      if (!index.environmentFiles.has(env) && misnamedFilePath(index, env) !== undefined) continue;
      (missing ??= []).push(env);
    } else (empty ??= []).push(env);
  }
  if (missing === undefined && empty === undefined) return undefined;
  missing ??= [];
  empty ??= [];
  const parts: string[] = [];
  // (an environment whose file is kept under another name is not in `missing`: one finding at that file says so)
  if (missing.length > 0) {
    // a declared environment without any file yet (a new one): say so once, where the value is missing
    const fresh = missing.filter((e) => !index.environmentFiles.has(e));
    const what = `${fresh.map((e) => `${index.project.secretsDir}/${environmentFileName(e)}`).join(", ")} ${fresh.length === 1 ? "does" : "do"} not exist yet`;
    const where = fresh.length === 0 ? "" : ` (${what}: the first \`stellar-secrets set\` in ${fresh.length === 1 ? "that environment" : "each"} creates it)`;
    parts.push(`no value in ${missing.join(", ")}${where}`);
  }
  if (empty.length > 0) parts.push(`an empty value in ${empty.join(", ")}`);
  // every environment to fix, in the order they are declared
  const envs = needed.filter((e) => missing.includes(e) || empty.includes(e));
  return diagnosticAt(
    "missing-environment-value",
    defaultSeverity("missing-environment-value"),
    ref.file,
    lines,
    ref.range,
    `secret ${quoteName(ref.secret)} has ${parts.join(" and ")}, where ${describeDocument(doc)} is used${usedThrough(index, doc, envs[0] as string)}; ${
      validateSecretName(ref.secret).ok
        ? (perEnvironmentNames(index, ref.secret, envs) ?? environmentWrittenFix(index, ref.secret, missing) ?? `set it with \`stellar-secrets set ${ref.secret} --env ${envs.join(",")}\`${renamedFrom(index, ref.secret, envs)}`)
        : renameHint(ref.secret, needed, "it breaks the naming rules")
    }`,
    { secret: ref.secret },
  );
}

/**
 * A secret renamed in some environments only (the old name left where the new one has no value):
 * the unreferenced secret of the same service (first word of the name) whose values are exactly
 * in environments where `name` has none. Undefined when there is no single such secret.
 */
function renamedPredecessor(index: WorkspaceIndex, name: string, missing: readonly string[]): string | undefined {
  const info = index.secret(name);
  if (info === undefined) return undefined;
  const has = new Set(info.definitions.filter((d) => !d.empty).map((d) => d.environment));
  const found = index.secretNamesOfService(name).filter((other) => {
    if (other === name) return false;
    const o = index.secret(other);
    if (o === undefined || o.references.length > 0) return false;
    const envs = o.definitions.filter((d) => !d.empty).map((d) => d.environment);
    return envs.length > 0 && envs.every((e) => !has.has(e)) && missing.some((e) => envs.includes(e));
  });
  return found.length === 1 ? found[0] : undefined;
}

/** Words at the end of a secret's name that name an environment (`stripe_key_prod`), besides the declared environments' names. */
/**
 * A reference's name that is a secret's name with an environment written before or after it
 * (`production.stripe_api_key`, `prod/stripe_api_key`, `stripe_api_key_production`,
 * `STRIPE_API_KEY_PROD`): the secret (the name without it, as written or in lower case), the
 * environment word, and the declared environment it means (when one is that word or starts with it);
 * undefined otherwise. Only for a name no environment file has.
 */
function environmentQualified(index: WorkspaceIndex, name: string, planned = false): { stem: string; environment: string; declared?: string; absent?: true } | undefined {
  const declared = index.project.environments.map((e) => e.name);
  const isEnvironment = (word: string): boolean => ENVIRONMENT_SUFFIXES.has(word.toLowerCase()) || declared.includes(word.toLowerCase());
  const secretOf = (stem: string): string | undefined => (index.secret(stem) !== undefined ? stem : index.secret(stem.toLowerCase()) !== undefined ? stem.toLowerCase() : undefined);
  // the environment's file written as the way to the secret (`secrets/production.enc.yaml#stripe_api_key`,
  // `production.enc.yaml:stripe_api_key`): the environment is the file's, and the secret is the rest
  const file = /^((?:[^#:]*\/)?([A-Za-z0-9_-]+)\.enc\.ya?ml(?:[#:/.]|\s*->\s*))([A-Za-z].*)$/.exec(name);
  if (file !== null) {
    const env = file[2]!;
    const secret = secretOf(file[3]!);
    const meant = declared.find((e) => e === env || e === env.toLowerCase());
    if (secret !== undefined && meant !== undefined) return { stem: secret, environment: file[1]!, declared: meant };
  }
  const before = /^([A-Za-z]+)[._/:-](.+)$/.exec(name);
  const after = /^(.+?)[._/:-]([A-Za-z]+)$/.exec(name);
  const tries: [word: string, stem: string][] = [];
  if (before !== null) tries.push([before[1]!, before[2]!]);
  if (after !== null) tries.push([after[2]!, after[1]!]);
  for (const [word, stem] of tries) {
    if (!isEnvironment(word)) continue;
    const secret = secretOf(stem);
    const meant = environmentOfWord(declared, word);
    if (secret === undefined) {
      // (a catalog entry for a secret not set yet: only a declared environment's word, and a stem that is a name)
      if (planned && meant !== undefined && validateSecretName(stem).ok) return { stem, environment: word, declared: meant, absent: true };
      continue;
    }
    return meant === undefined ? { stem: secret, environment: word } : { stem: secret, environment: word, declared: meant };
  }
  return undefined;
}

/** The declared environment a word of a name means (`prod`, `prd` → production; `production`), undefined when none. */
function environmentOfWord(declared: readonly string[], word: string): string | undefined {
  const lower = word.toLowerCase();
  if (!ENVIRONMENT_SUFFIXES.has(lower) && !declared.includes(lower)) return undefined;
  return declared.find((e) => e === lower) ?? declared.find((e) => e.startsWith(lower) || (lower === "prd" && e === "production") || (lower === "stg" && e === "staging"));
}

/**
 * The unreferenced secrets that are `name` with an environment's word written before or after it
 * (`production_stripe_api_key` beside a referenced `stripe_api_key`) and that have a value in that
 * very environment, one of `missing` (where `name` has none): `set NAME --env production` with the
 * environment in the name. A fixed number of lookups (one per environment word, before and after).
 */
function environmentWrittenNames(index: WorkspaceIndex, name: string, missing: readonly string[]): { name: string; environment: string }[] {
  const declared = index.project.environments.map((e) => e.name);
  const out: { name: string; environment: string }[] = [];
  for (const word of new Set([...ENVIRONMENT_SUFFIXES, ...declared])) {
    const environment = environmentOfWord(declared, word);
    if (environment === undefined || !missing.includes(environment)) continue;
    for (const other of [`${word}_${name}`, `${name}_${word}`]) {
      const o = index.secret(other);
      if (o === undefined || o.references.length > 0 || !o.definitions.some((d) => !d.empty && d.environment === environment)) continue;
      if (!out.some((x) => x.name === other)) out.push({ name: other, environment });
    }
  }
  // (in the order the environments are declared)
  return out.sort((a, b) => missing.indexOf(a.environment) - missing.indexOf(b.environment));
}

/** The fix of a missing value whose environment has it under the name with the environment written in ({@link environmentWrittenNames}), or undefined. */
function environmentWrittenFix(index: WorkspaceIndex, name: string, missing: readonly string[]): string | undefined {
  const found = environmentWrittenNames(index, name, missing);
  if (found.length === 0) return undefined;
  const listed = found.map((o) => `${o.environment} has "${o.name}"`).join(", ");
  const renames = found.map((o) => `\`stellar-secrets rename ${nameArgument(o.name)} ${nameArgument(name)}\``).join(", ");
  return (
    `${listed}, referenced nowhere: this secret with the environment written into its name? A secret has one name in every environment, and each environment's file holds its own value under it: ` +
    `${renames} ${found.length === 1 ? "prints" : "print"} how to move the value; or set it with \`stellar-secrets set ${name} --env ${missing.join(",")}\``
  );
}

/**
 * For an unused secret that is a referenced secret's name with an environment's word written in
 * (`production_stripe_api_key`, set in production, where `stripe_api_key` has no value): "; it
 * looks like …: rename", or undefined.
 */
function environmentWrittenUnused(index: WorkspaceIndex, name: string): string | undefined {
  const declared = index.project.environments.map((e) => e.name);
  const at = name.indexOf("_");
  const last = name.lastIndexOf("_");
  const tries: [word: string, stem: string][] = [];
  if (at > 0) tries.push([name.slice(0, at), name.slice(at + 1)]);
  if (last > 0) tries.push([name.slice(last + 1), name.slice(0, last)]);
  for (const [word, stem] of tries) {
    const environment = environmentOfWord(declared, word);
    const target = environment === undefined ? undefined : index.secret(stem);
    if (target === undefined || target.references.length === 0 || target.definitions.some((d) => !d.empty && d.environment === environment)) continue;
    if (!index.secret(name)?.definitions.some((d) => !d.empty && d.environment === environment)) continue;
    return `; it looks like "${stem}", which config files reference, with the environment written into its name: "${stem}" has no value in ${environment}, where this one has. A secret has one name in every environment, and each environment's file holds its own value under it: \`stellar-secrets rename ${nameArgument(name)} ${nameArgument(stem)}\` prints how to move the value`;
  }
  return undefined;
}

const ENVIRONMENT_SUFFIXES = new Set(["prod", "production", "prd", "live", "dev", "development", "develop", "stg", "stage", "staging", "test", "testing", "qa", "uat", "sandbox", "local"]);

/**
 * A secret named per environment (`zendesk_token_prod` referenced, `zendesk_token_dev` set in
 * development and referenced nowhere): a newcomer's reading of environments, where one name
 * holds each environment's value. The fix, in place of "set it in development": one name for all,
 * the others renamed to it. Undefined unless `name` ends in an environment's word and an
 * environment where it has no value has an unreferenced secret of the same stem.
 */
function perEnvironmentNames(index: WorkspaceIndex, name: string, missing: readonly string[]): string | undefined {
  const suffixes = new Set([...ENVIRONMENT_SUFFIXES, ...index.environmentNames().map((e) => e.toLowerCase().replace(/-/g, "_"))]);
  const stem = (n: string): string | undefined => {
    const at = n.lastIndexOf("_");
    return at > 0 && suffixes.has(n.slice(at + 1)) ? n.slice(0, at) : undefined;
  };
  const base = stem(name);
  if (base === undefined) return undefined;
  const others: { name: string; environment: string }[] = [];
  for (const env of missing) {
    const found = index.secretNamesOfService(name).find((other) => {
      if (other === name || stem(other) !== base) return false;
      const o = index.secret(other);
      return o !== undefined && o.references.length === 0 && o.definitions.some((d) => !d.empty && d.environment === env);
    });
    if (found !== undefined) others.push({ name: found, environment: env });
  }
  if (others.length === 0) return undefined;
  const listed = others.map((o) => `${o.environment} has "${o.name}"`).join(", ");
  const renames = [name, ...new Set(others.map((o) => o.name))].map((n) => `\`stellar-secrets rename ${nameArgument(n)} ${base}\``).join(", ");
  return (
    `${listed}, referenced nowhere: one secret named per environment? A secret has one name in every environment, and each environment's file holds its own value under it: ` +
    `give them one name (${renames} print how to move each value; then reference { secret: ${base} }), or set "${name}" with \`stellar-secrets set ${name} --env ${missing.join(",")}\``
  );
}

/** "; or, if it replaces OLD (still set there, referenced nowhere), `stellar-secrets rename OLD NAME` prints how to move its value", or "". */
function renamedFrom(index: WorkspaceIndex, name: string, missing: readonly string[]): string {
  const old = renamedPredecessor(index, name, missing);
  if (old === undefined) return "";
  const where = index.secret(old)?.definitions.filter((d) => !d.empty).map((d) => d.environment) ?? [];
  return `; or, if it replaces "${old}" (still set in ${where.join(", ")}, referenced nowhere), \`stellar-secrets rename ${nameArgument(old)} ${nameArgument(name)}\` prints how to move that value`;
}

/**
 * How `doc` comes to be used in `env`, when through the objects that use it: " (in production:
 * by action "score_order", which agent "checkout" lists)". Empty when `doc` itself lists `env`,
 * or nothing uses it (then it counts in every environment).
 */
function usedThrough(index: WorkspaceIndex, doc: ConfigDocument, env: string): string {
  const chain: ConfigDocument[] = [];
  let at = doc;
  while (at.environments === undefined && at.name !== undefined && chain.length < 4) {
    const user = index.usersOf(at.kind, at.name).find((u) => index.environmentsUsedBy(u).includes(env));
    if (user === undefined || chain.includes(user)) break;
    chain.push(user);
    at = user;
  }
  if (chain.length === 0) return "";
  const [first, ...rest] = chain;
  return ` (in ${env}: by ${describeDocument(first as ConfigDocument)}${rest.map((u) => `, which ${describeDocument(u)} ${u.kind === "agent" ? "lists" : "uses"}`).join("")})`;
}

/**
 * The file of the secrets folder that holds environment `env`'s secrets under another name
 * (`production.enc.yml`, `production.yaml`, `production.enc.json`, `Production.enc.yaml`, or an
 * undeclared environment's file whose nearest declared environment is `env`, `prod.enc.yaml`), when
 * `env` has no file of its own: "PATH does not exist, but OTHER does: …; rename it, `git mv OTHER PATH`".
 * Nothing reads such a file as `env`'s (check, the resolver, `set`, which would create a second one).
 */
function misnamedFileNote(index: WorkspaceIndex, env: string): string | undefined {
  const found = misnamedFilePath(index, env);
  if (found === undefined) return undefined;
  const path = `${index.project.secretsDir}/${environmentFileName(env)}`;
  return `${path} does not exist, but ${found} does: it is read as no environment's file under that name; rename it, \`git mv ${shellWord(found, { path: true })} ${shellWord(path, { path: true })}\``;
}

/** The file {@link misnamedFileNote} names for `env`, or undefined. */
function misnamedFilePath(index: WorkspaceIndex, env: string): string | undefined {
  if (index.environmentFiles.has(env)) return undefined;
  const dir = index.project.secretsDir;
  const spellings = new Set([`${env}.enc.yaml`, `${env}.enc.yml`, `${env}.yaml`, `${env}.yml`, `${env}.enc.json`, `${env}.json`]);
  const inFolder = (p: string): string | undefined => (p.startsWith(`${dir}/`) && !p.slice(dir.length + 1).includes("/") ? p.slice(dir.length + 1) : undefined);
  const declared = index.project.environments.map((e) => e.name);
  let found: string | undefined;
  for (const file of index.otherSecretsFiles.values()) {
    const base = inFolder(file.path);
    if (base !== undefined && spellings.has(base.toLowerCase())) found ??= file.path;
  }
  for (const file of index.environmentFiles.values()) {
    if (found !== undefined) break;
    if (declared.includes(file.environment) || inFolder(file.path) === undefined) continue;
    if (file.environment.toLowerCase() === env || nearestName(file.environment, declared)?.name === env) found = file.path;
  }
  return found;
}

/** A rule's default severity (configured severities are applied to the whole list at the end). */
function defaultSeverity(rule: RuleId): Severity {
  return DEFAULT_SEVERITY.get(rule) ?? "error";
}

/** The `recipient-drift` message for an environment, or undefined when the file's recipients match its members. */
export function recipientDrift(index: WorkspaceIndex, environment: string, recipients: readonly string[] | undefined): string | undefined {
  if (recipients === undefined) return undefined;
  const env = index.project.environments.find((e) => e.name === environment);
  if (env === undefined) return undefined;
  // keys compared as keys, not strings: `AGE1…` and an age1… string with X25519's ignored top bit
  // set are the key of its canonical spelling (one private key opens it: nobody else reads)
  const keyId = (r: string): string => canonicalAgeRecipient(r) ?? r;
  const expected = new Set(env.members.map((m) => keyId(m.recipient)));
  const actual = new Set(recipients.map(keyId));
  // the key of a would-be member whose key stellar.yaml writes with spaces around it is the one
  // meant there: that schema error is the finding (fixing it leaves this file right), not this one
  const meant = new Set(miswrittenMembers(env).map((m) => keyId(m.recipient)));
  const extra = [...new Set(recipients)].filter((r) => !expected.has(keyId(r)) && !meant.has(keyId(r)));
  const missing = env.members.filter((m) => !actual.has(keyId(m.recipient)));
  // a member's key whose label here is another encoding of it (the top bit set): age salts a stanza
  // with the key as written, so age's own client (the member's) does not open what was wrapped to it
  const respelt = [...new Set(recipients)].filter((r) => expected.has(keyId(r)) && canonicalAgeRecipient(r) !== undefined && canonicalAgeRecipient(r) !== r.toLowerCase());
  if (extra.length === 0 && missing.length === 0 && respelt.length === 0) return undefined;
  const whoIs = (recipient: string): string => {
    for (const e of index.project.environments) {
      const m = e.members.find((x) => keyId(x.recipient) === keyId(recipient));
      if (m !== undefined) return `${recipient} (${m.name}, a member of ${e.name})`;
    }
    const meantBy = miswrittenKeyOwner(index.project.environments, recipient, (a, b) => keyId(a) === keyId(b));
    return `${recipient} (${meantBy ?? "not a member of any environment"})`;
  };
  const parts: string[] = [];
  if (extra.length > 0) parts.push(`can still be decrypted by ${extra.map(whoIs).join(", ")}, not a member of ${environment}`);
  if (missing.length > 0) parts.push(`is not encrypted for ${missing.map((m) => `${m.name} (${m.recipient})`).join(", ")}`);
  if (respelt.length > 0) {
    parts.push(
      `is encrypted for ${respelt.map((r) => `${whoIs(r)} written another way (the top bit X25519 ignores set; the key is ${canonicalAgeRecipient(r)})`).join(", ")}: ` +
        "age salts each stanza with the key as written, so age's own client does not open such a stanza",
    );
  }
  return `the ${environment} file ${parts.join(", and ")}; re-key it for the members in stellar.yaml with \`stellar-secrets rotate-key --env ${environment}\``;
}

/**
 * The `sops-config-drift` error of a `.sops.yaml` above the project root (`file`, project-relative:
 * `../.sops.yaml`) that is a symbolic link out of the repository (`target`, as a message shows it):
 * plain sops run there follows it to a file git does not hold, each clone its own, so whom it
 * encrypts the project's files for is decided where no review sees it. Check and the pre-commit
 * hook report it alike. Pure.
 */
export function sopsLinkOutside(file: string, target: string): Diagnostic {
  return diagnosticAt(
    "sops-config-drift",
    "error",
    file,
    new LineIndex(""),
    { start: 0, end: 0 },
    `${file} is above the project root and a symbolic link to ${target}, outside the repository: plain sops run there follows it to a file git does not hold (each clone its own, which no review sees) and encrypts the project's files for whoever it names; it was not read (replace the link with the file itself, or delete it; or set STELLAR_SECRETS_ALLOW_OUTSIDE_LINKS=1 to follow it)`,
  );
}
