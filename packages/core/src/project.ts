/**
 * stellar.yaml: the project model (environments, members, globs, rule severities), its parser,
 * writers that keep comments, the `.sops.yaml` it generates, and the secrets-folder layout.
 */
import { basename, dirname, join, resolve } from "node:path";
import { CATALOG_FILE, DEFAULT_SECRETS_DIR, environmentFileName, isMistypedAgeRecipient, isSmallOrderAgeRecipient, isSopsError, MEMBER_KEY_PATTERN, normalizeSecretsDir, PROJECT_FILE } from "@stellar-secrets/sops";
import { Document, isAlias, isMap, isScalar, parseDocument, Scalar, visit, YAMLMap, type Node } from "yaml";
import { compareDiagnostics, diagnosticAt, type Diagnostic } from "./diagnostics.js";
import { ageFormsOfSshKeys, canonicalAgeRecipient, normalizeRecipient } from "@stellar-secrets/sops";
import { CoreError } from "./errors.js";
import { shellPathWord } from "./shell.js";
import { LineIndex, lineEndAt, loneCrAsLf, type TextRange } from "./position.js";
import { isRuleId, RULES, type Severity } from "./rules.js";
import { detachAliases, findPair, locatePath, nodeRange, writeOutAlias } from "./yaml-nodes.js";
import { nearestName } from "./names.js";
import { credentialLines } from "./credentials.js";
import { nestingDiagnostic } from "./yaml-limits.js";
import { isExhaustion } from "./out-of-stack.js";
import { parseSimpleYaml } from "./fast-yaml.js";
import { linkOutsideRoot, nodeWorkspaceFs, projectTextProblem, type WorkspaceFs } from "./workspace-fs.js";
import { schemaDiagnostics, validatorFor } from "./validate.js";

/**
 * Thrown to the reader's catch when the YAML parser reports that it ran out of stack (it catches
 * the RangeError itself): made once, at load, so that throwing it allocates nothing; this module's
 * own (see out-of-stack.ts).
 */
const STACK_EXHAUSTED = new RangeError("Maximum call stack size exceeded (reported by the YAML parser)");

export type { Severity } from "./rules.js";

/** A member of an environment: a name and a key. */
export interface Member {
  name: string;
  /**
   * An age X25519 public key (`age1…`), or an SSH ed25519 public key normalised to
   * `ssh-ed25519 AAAA…` (comment dropped: `normalizeRecipient` of @stellar-secrets/sops), the form
   * file stanza labels are compared in.
   */
  recipient: string;
}

/**
 * A request for access to an environment (`stellar-secrets request-access`), waiting for a
 * member's approval: it grants nothing (the file is not encrypted to `recipient`).
 * stellar.yaml: `environments.<env>.pending.<name>: { key, requested }`.
 */
export interface PendingRequest {
  name: string;
  /** The public key asked for, normalised as {@link Member.recipient}. */
  recipient: string;
  /** When it was asked (ISO 8601), when recorded. */
  requested?: string;
}

/**
 * Who approved a member's request (`stellar-secrets members approve`), kept while they are a member.
 * stellar.yaml: `environments.<env>.approved.<name>: { by, date }`.
 */
export interface Approval {
  name: string;
  /** The approving member's name. */
  by: string;
  /** When (ISO 8601). */
  date: string;
}

/** One environment and the members who can decrypt it. */
export interface EnvironmentConfig {
  name: string;
  members: Member[];
  /** Access requests waiting for approval (no access). Absent or empty when there are none. */
  pending?: PendingRequest[];
  /** Recorded approvals of current members (absent when none). */
  approved?: Approval[];
}

/** A parsed stellar.yaml. */
export interface ProjectConfig {
  /** Absolute directory of stellar.yaml. */
  root: string;
  /** Absolute path of stellar.yaml. */
  configPath: string;
  /** Secrets folder, relative to root with `/` separators (default `secrets`). */
  secretsDir: string;
  /** Environments in declared order. */
  environments: EnvironmentConfig[];
  /** Globs (relative to root) of config files to check. */
  include: string[];
  /** Globs excluded from `include` (the secrets folder, node_modules and .git are always excluded). */
  exclude: string[];
  /** Severity per rule id, overriding the defaults. */
  rules: Partial<Record<string, Severity | "off">>;
}

/** The project file's name (the layout is owned by `@stellar-secrets/sops`). */
export { PROJECT_FILE } from "@stellar-secrets/sops";
/** Environments a new project gets. */
export const DEFAULT_ENVIRONMENTS = ["development", "staging", "production"] as const;
/** Default `config.include`. */
export const DEFAULT_INCLUDE: readonly string[] = ["**/*.yaml", "**/*.yml"];
/** Default `config.exclude`. */
export const DEFAULT_EXCLUDE: readonly string[] = ["node_modules/**"];
/** Default `secrets_dir`. */
export { DEFAULT_SECRETS_DIR } from "@stellar-secrets/sops";

/**
 * Parses stellar.yaml. `path` is its absolute path (the root is its directory; diagnostics name
 * the file relative to the root). Schema problems are diagnostics; the config is built from
 * the valid parts and is undefined only when the file is not YAML or not a mapping.
 */
export function parseProjectConfig(original: string, path: string): { config: ProjectConfig | undefined; diagnostics: Diagnostic[]; uncacheable?: true } {
  const file = basename(path);
  try {
    return parseProjectConfigChecked(original, path);
  } catch (e) {
    // Out of stack (a caller that had used most of it): the model below, built with no call at all,
    // as parseConfigFile's (config.ts); `uncacheable`: the same text reads whole with more stack
    if (e !== STACK_EXHAUSTED && !(e instanceof RangeError && typeof e.message === "string" && e.message.includes("call stack"))) throw e;
    return { config: undefined, diagnostics: [{ rule: "schema", severity: "error", file, line: 1, column: 1, endLine: 1, endColumn: 1, message: "cannot parse: nested too deeply; the file was not read: flatten it" }], uncacheable: true };
  }
}

function parseProjectConfigChecked(original: string, path: string): { config: ProjectConfig | undefined; diagnostics: Diagnostic[] } {
  const text = loneCrAsLf(original); // a lone CR ends a line, as in YAML (same offsets)
  const parsed = parseProjectConfigText(text, path);
  // stellar.yaml never holds a credential: any line that does (a comment too) is committed in clear
  const found = credentialLines(text);
  if (found.length === 0) return parsed;
  const lines = new LineIndex(text);
  const file = basename(path);
  for (const f of found) {
    parsed.diagnostics.push(
      diagnosticAt("plaintext-credential", "error", file, lines, f.range, `${file} holds what looks like ${f.what} in plain text; remove it (and rotate it at its provider, since git history keeps it), or store it as a secret (stellar-secrets set NAME)`),
    );
  }
  parsed.diagnostics.sort(compareDiagnostics);
  return parsed;
}

/**
 * A `schema` error at every mapping key written as an alias (`*k : vault`). This reader takes such
 * a key as the field it names (`&k secrets_dir: secrets` then `*k : vault` is `secrets_dir: vault`,
 * the later one winning, which the duplicate-key check does not see), while a person reads the
 * first line, and a reader that matches keys by their text (the resolver's `secrets_dir`) reads
 * another value: deploys then read another folder than check and review did.
 */
function aliasKeyDiagnostics(doc: Document.Parsed, file: string, lines: LineIndex): Diagnostic[] {
  const found: Diagnostic[] = [];
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && typeof pair.key.value === "symbol") {
        // a merge key of a YAML 1.1 file: this reader merges the fields in, a person and the resolver do not (s24 newattack)
        const [start, end] = pair.key.range ?? [0, 0];
        found.push(
          diagnosticAt("schema", "error", file, lines, { start, end }, "a merge key (<<) brings in fields that whoever reads the file does not see, and YAML readers disagree on it (the resolver reads no secrets_dir from it); write the fields themselves"),
        );
        return;
      }
      if (!isAlias(pair.key)) return;
      const [start, end] = pair.key.range ?? [0, 0];
      found.push(
        diagnosticAt("schema", "error", file, lines, { start, end }, `a key written as an alias (${pair.key.toString()}) hides the field it names from whoever reads the file, and YAML readers disagree on it; write the field's name`),
      );
    },
  });
  return found;
}

/**
 * A `schema` warning at every key of `rules:` that is no rule id (a mistyped or retired id), with
 * the nearest rule id as its suggestion, and the value to validate with those keys left out: such a
 * key sets nothing, so it must not make stellar.yaml invalid (every command would refuse the project,
 * even the ones that fix it). The `rules` value keeps its schema check otherwise (a bad severity of a
 * known rule, `rules` not a mapping) and the config model reads only known ids.
 */
function unknownRuleDiagnostics(value: Record<string, unknown>, root: Node | null, file: string, lines: LineIndex): { value: Record<string, unknown>; diagnostics: Diagnostic[] } {
  const rules = value.rules;
  if (rules === null || typeof rules !== "object" || Array.isArray(rules)) return { value, diagnostics: [] };
  const unknown = Object.keys(rules).filter((id) => !isRuleId(id));
  if (unknown.length === 0) return { value, diagnostics: [] };
  const diagnostics: Diagnostic[] = [];
  const ids = RULES.map((r) => r.id);
  for (const id of unknown) {
    const range = nodeRange(locatePath(root, ["rules", id]).keyNode) ?? { start: 0, end: 0 };
    const near = nearestName(id, ids);
    diagnostics.push(
      diagnosticAt(
        "schema",
        "warning",
        file,
        lines,
        range,
        `"${id}" in "rules" is no rule id: it sets nothing and is ignored; the rule ids are listed in docs/rules.md${near === undefined ? "" : `; did you mean "${near.name}"?`}`,
        near === undefined ? undefined : { suggestion: near.name },
      ),
    );
  }
  const known = Object.fromEntries(Object.entries(rules).filter(([id]) => isRuleId(id)));
  return { value: { ...value, rules: known }, diagnostics };
}

function parseProjectConfigText(text: string, path: string): { config: ProjectConfig | undefined; diagnostics: Diagnostic[] } {
  const file = basename(path);
  const lines = new LineIndex(text);
  const diagnostics: Diagnostic[] = [];
  const tooDeep = nestingDiagnostic(text, file, lines);
  if (tooDeep !== undefined) return { config: undefined, diagnostics: [tooDeep] };
  // The plain-YAML reader (same nodes and values as yaml) first: it is what a command's start pays.
  const simple = parseSimpleYaml(text);
  let value: unknown;
  let root: Node | null;
  if (simple !== undefined && simple.length === 1) {
    value = simple[0]!.value;
    root = simple[0]!.contents;
  } else {
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
    if (doc.errors.some(isExhaustion) || doc.warnings.some(isExhaustion)) throw STACK_EXHAUSTED;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const tab = e.code === "TAB_AS_INDENT" ? ": indent with spaces (YAML reads no tab as indentation; an editor set to insert spaces keeps them out)" : "";
        diagnostics.push(diagnosticAt("schema", "error", file, lines, { start: e.pos[0], end: e.pos[1] }, `YAML syntax error: ${firstLine(e.message)}${tab}`));
      }
      return { config: undefined, diagnostics };
    }
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      diagnostics.push(diagnosticAt("schema", "error", file, lines, { start: 0, end: 0 }, `cannot read ${file}: ${(e as Error).message}`));
      return { config: undefined, diagnostics };
    }
    root = doc.contents as Node | null;
    diagnostics.push(...aliasKeyDiagnostics(doc, file, lines));
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    diagnostics.push(
      diagnosticAt("schema", "error", file, lines, { start: 0, end: Math.min(text.length, lines.offsetAt(2, 1)) }, `${file} must be a mapping with at least "version: 1" and "environments"`),
    );
    return { config: undefined, diagnostics };
  }
  const unknownRules = unknownRuleDiagnostics(value as Record<string, unknown>, root, file, lines);
  diagnostics.push(...unknownRules.diagnostics);
  diagnostics.push(...schemaDiagnostics(validatorFor("stellar.schema.json"), unknownRules.value, root, file, lines, "error", { start: 0, end: 0 }));
  const v = value as Record<string, unknown>;
  const rootDir = dirname(resolve(path));
  const secretsDir = typeof v.secrets_dir === "string" ? normalizeSecretsDir(v.secrets_dir) : DEFAULT_SECRETS_DIR;
  const environments: EnvironmentConfig[] = [];
  const envs = v.environments;
  // `environments: [development, production]` (written as an agent's list is): which environments
  // exist and who their members are is unknown, so the project is not usable (the one finding is
  // the schema error, which says how to write it), never "declared: none" at every reference
  if (Array.isArray(envs)) return { config: undefined, diagnostics };
  if (envs === undefined) {
    for (const name of DEFAULT_ENVIRONMENTS) environments.push({ name, members: [] });
  } else if (envs !== null && typeof envs === "object" && !Array.isArray(envs)) {
    for (const [name, body] of Object.entries(envs as Record<string, unknown>)) {
      const members: Member[] = [];
      const miswritten: Member[] = [];
      const fields = body !== null && typeof body === "object" ? (body as Record<string, unknown>) : {};
      const m = fields.members;
      if (m !== null && typeof m === "object" && !Array.isArray(m)) {
        for (const [member, recipient] of Object.entries(m as Record<string, unknown>)) {
          if (typeof recipient !== "string") continue;
          // a key that is no member key (schema error) or whose age checksum fails (below) opens
          // nothing: counted as a member it would show as drift and make a re-key wrap for it
          if (!MEMBER_KEY.test(recipient)) {
            // a key pasted with a space (tab, line break) around it inside its quotes: the schema
            // error offers the trimmed key; remembered so that the files naming that key are not
            // told it is nobody's (one mistake, one finding: miswrittenMembers)
            const trimmed = recipient.trim();
            if (trimmed !== recipient && MEMBER_KEY.test(trimmed) && !isMistypedAgeRecipient(trimmed) && !isSmallOrderAgeRecipient(trimmed)) {
              miswritten.push({ name: member, recipient: normalizeRecipient(trimmed) });
            }
            continue;
          }
          const bad = unusableKeyDiagnostic(root, ["environments", name, "members", member], recipient, member, file, lines);
          if (bad !== undefined) {
            diagnostics.push(bad);
            continue;
          }
          members.push({ name: member, recipient: normalizeRecipient(recipient) });
        }
      }
      const env: EnvironmentConfig = { name, members };
      if (miswritten.length > 0) MISWRITTEN.set(env, miswritten);
      const pending = requestsOf(fields.pending);
      for (const request of pending) {
        const bad = unusableKeyDiagnostic(root, ["environments", name, "pending", request.name, "key"], request.recipient, request.name, file, lines);
        if (bad !== undefined) diagnostics.push(bad);
      }
      if (pending.length > 0) env.pending = pending;
      const approved = approvalsOf(fields.approved);
      if (approved.length > 0) env.approved = approved;
      environments.push(env);
    }
    for (const env of environments) {
      diagnostics.push(...approvalDiagnostics(root, env, file, lines));
      diagnostics.push(...pendingDiagnostics(root, env.name, env.pending ?? [], file, lines, environments));
    }
  }
  diagnostics.push(...memberIdentityDiagnostics(root, environments, file, lines));
  const sites = declarationSites(root, environments, file, lines);
  const cfg = (v.config ?? {}) as Record<string, unknown>;
  const strings = (x: unknown): string[] | undefined => (Array.isArray(x) ? x.filter((s): s is string => typeof s === "string") : undefined);
  const rules: Partial<Record<string, Severity | "off">> = {};
  if (v.rules !== null && typeof v.rules === "object") {
    for (const [id, sev] of Object.entries(v.rules as Record<string, unknown>)) {
      if (isRuleId(id) && (sev === "error" || sev === "warning" || sev === "info" || sev === "off")) rules[id] = sev;
    }
  }
  const config: ProjectConfig = {
    root: rootDir,
    configPath: resolve(path),
    secretsDir,
    environments,
    include: strings(cfg.include) ?? [...DEFAULT_INCLUDE],
    exclude: strings(cfg.exclude) ?? [...DEFAULT_EXCLUDE],
    rules,
  };
  if (sites.size > 0) DECLARATIONS.set(config, sites);
  diagnostics.sort(compareDiagnostics);
  return { config, diagnostics };
}

/** Where an environment is declared in stellar.yaml: the file (relative to the root) and the key's 1-based range. */
export interface DeclarationSite {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

// Kept beside the config rather than in it: a config is printed as it is (`members list --json`).
const DECLARATIONS = new WeakMap<ProjectConfig, ReadonlyMap<string, DeclarationSite>>();

/**
 * Where `config` declares environment `name` (its key under `environments:`), for a config that
 * {@link parseProjectConfig} returned; undefined for one built otherwise (a copy, the defaults) or
 * an environment stellar.yaml does not write out.
 */
export function environmentDeclarationSite(config: ProjectConfig, name: string): DeclarationSite | undefined {
  return DECLARATIONS.get(config)?.get(name);
}

function declarationSites(root: Node | null, environments: readonly EnvironmentConfig[], file: string, lines: LineIndex): Map<string, DeclarationSite> {
  const out = new Map<string, DeclarationSite>();
  const map = isMap(root) ? findPair(root, "environments")?.value : undefined;
  if (!isMap(map)) return out;
  for (const env of environments) {
    const key = findPair(map, env.name)?.key;
    if (!isScalar(key) || !key.range) continue;
    const start = lines.positionAt(key.range[0]);
    const end = lines.positionAt(key.range[1]);
    out.set(env.name, { file, line: start.line, column: start.column, endLine: end.line, endColumn: end.column });
  }
  return out;
}

const MEMBER_KEY = new RegExp(MEMBER_KEY_PATTERN);

// Kept beside the environment rather than in it, as DECLARATIONS: a config is printed as it is.
const MISWRITTEN = new WeakMap<EnvironmentConfig, readonly Member[]>();

/**
 * The would-be members of `env` whose key stellar.yaml writes with a space, tab or line break
 * around it inside its quotes (`bob: "age1… "`): no member key, so a `schema` error (which names
 * the trimmed key as the fix, and stops every command that loads the project) and no member, but
 * the key meant is known. The checks of `.sops.yaml` and of the environment files use it so that
 * a rule or a file naming that key is not reported again as naming someone who is "not a member
 * of any environment" (with a re-key as the fix, which would drop them): the one finding is the
 * schema error. Keys normalised as {@link Member.recipient}; empty for an environment that
 * {@link parseProjectConfig} did not build (a copy) or that has none.
 */
export function miswrittenMembers(env: EnvironmentConfig): readonly Member[] {
  return MISWRITTEN.get(env) ?? [];
}

/**
 * Who, in `environments`, is meant by `recipient` when stellar.yaml writes their key with spaces
 * around it ({@link miswrittenMembers}), in words for a message: `bob's key in development, written
 * there with a space around it in stellar.yaml (a schema error: no member until it is removed)`;
 * undefined when nobody is. `sameKey` compares two keys (as the caller compares keys).
 */
export function miswrittenKeyOwner(environments: readonly EnvironmentConfig[], recipient: string, sameKey: (a: string, b: string) => boolean = (a, b) => a === b): string | undefined {
  for (const e of environments) {
    const m = miswrittenMembers(e).find((x) => sameKey(x.recipient, recipient));
    if (m !== undefined) return `${m.name}'s key in ${e.name}, written there with spaces around it in stellar.yaml (a schema error: no member until they are removed)`;
  }
  return undefined;
}

/**
 * `schema` at a key in stellar.yaml (`path` from the root) that nothing can be encrypted to,
 * though it has an age key's shape: its bech32 checksum fails (mistyped), or it decodes to a point
 * of small order (no one's key: made up, e.g. written into an access request by hand). Undefined
 * for any other key.
 */
function unusableKeyDiagnostic(root: Node | null, path: readonly string[], recipient: string, who: string, file: string, lines: LineIndex): Diagnostic | undefined {
  const why = isMistypedAgeRecipient(recipient)
    ? `is not a valid age public key: its checksum does not match (a character was mistyped or lost when it was copied), so nothing can be encrypted to it; ask ${who} for the key again`
    : isSmallOrderAgeRecipient(recipient)
      ? `is no one's age public key: it is a point of small order (such as the all-zero key), which no private key opens and which age and sops refuse to encrypt to, so it can only have been made up; ask ${who} for their real key`
      : undefined;
  if (why === undefined) return undefined;
  let node: unknown = root;
  for (const key of path) node = isMap(node) ? findPair(node, key)?.value : undefined;
  const range = isScalar(node) && node.range ? { start: node.range[0], end: node.range[1] } : { start: 0, end: 0 };
  return diagnosticAt("schema", "error", file, lines, range, `"${path.join(".")}" ${why} (\`stellar-secrets whoami\` prints it) and replace it, or remove the line`);
}

/**
 * `recipient-drift` errors for a member name with another key in another environment, and for a key under
 * two names (one name is one key in every environment, and one key one name: `members add` keeps
 * it so, and `members rm NAME` relies on it). Written by hand, "bob gained access to staging"
 * would name a key that is not bob's. Reported at the later member's name. They do not stop the
 * commands that load the project ({@link loadProject}): `members rm` is how one fixes it.
 */
function memberIdentityDiagnostics(root: Node | null, environments: readonly EnvironmentConfig[], file: string, lines: LineIndex): Diagnostic[] {
  const keyOf = new Map<string, { recipient: string; env: string }>();
  // by the key itself, not its spelling: two age1… strings of one X25519 key are one key (canonicalAgeRecipient)
  const nameOf = new Map<string, { name: string; env: string; recipient: string }>();
  const out: Diagnostic[] = [];
  const at = (env: string, name: string): TextRange => {
    let map: unknown = root;
    for (const key of ["environments", env, "members"]) map = isMap(map) ? findPair(map, key)?.value : undefined;
    const pair = isMap(map) ? findPair(map, name) : undefined;
    return isScalar(pair?.key) && pair.key.range ? { start: pair.key.range[0], end: pair.key.range[1] } : { start: 0, end: 0 };
  };
  for (const env of environments) {
    for (const m of env.members) {
      const key = keyOf.get(m.name);
      if (key === undefined) keyOf.set(m.name, { recipient: m.recipient, env: env.name });
      else if (key.recipient !== m.recipient && canonicalAgeRecipient(key.recipient) !== undefined && canonicalAgeRecipient(key.recipient) === canonicalAgeRecipient(m.recipient)) {
        // one key written two ways: the same member, but age's own client opens only what is wrapped to the canonical spelling
        const canonical = canonicalAgeRecipient(m.recipient)!;
        out.push(
          diagnosticAt("recipient-drift", "error", file, lines, at(env.name, m.name),
            `member "${m.name}" has the key ${m.recipient} in ${env.name} but ${key.recipient} in ${key.env}: one X25519 key written two ways (X25519 ignores the top bit of its last byte, bech32 ignores case), ` +
              `but age salts each stanza with the key as written and opens only what is wrapped to the spelling it derives itself (${canonical}); write ${m.name}'s key as ${canonical} in every environment`),
        );
        continue;
      } else if (key.recipient !== m.recipient) {
        out.push(
          diagnosticAt("recipient-drift", "error", file, lines, at(env.name, m.name),
            `member "${m.name}" has the key ${m.recipient} in ${env.name} but ${key.recipient} in ${key.env}: a member has one key in every environment, so one of them is not ${m.name}'s ` +
              `(a name proves nothing; \`members add\` refuses this); keep the key ${m.name} gave you directly and remove the other (to change a member's key: \`stellar-secrets members rm ${m.name}\`, then \`members add\` again)`),
        );
        continue;
      }
      const keyId = canonicalAgeRecipient(m.recipient) ?? m.recipient;
      const name = nameOf.get(keyId);
      if (name === undefined) nameOf.set(keyId, { name: m.name, env: env.name, recipient: m.recipient });
      else if (name.name !== m.name && name.recipient !== m.recipient) {
        out.push(
          diagnosticAt("recipient-drift", "error", file, lines, at(env.name, m.name),
            `the key of "${m.name}" in ${env.name} is also "${name.name}"'s (in ${name.env}), written another way: ${m.recipient} and ${name.recipient} are one X25519 key (X25519 ignores the top bit of its last byte, and bech32 ignores case), opened by one private key, so whoever holds it decrypts as both ` +
              `(\`members rm\` of one name would leave the other); remove "${m.name}" there, and add the member under one name, with the key as they gave it, if they belong there`),
        );
      } else if (name.name !== m.name) {
        out.push(
          diagnosticAt("recipient-drift", "error", file, lines, at(env.name, m.name),
            `the key of "${m.name}" in ${env.name} is also "${name.name}"'s (in ${name.env}): a key belongs to one member, so whoever holds it decrypts as both ` +
              `(\`members rm\` of one name would leave the other); remove "${m.name}" there, and add the member under one name (\`stellar-secrets members add ${name.name} KEY --env ${env.name}\`) if they belong there`),
        );
      }
    }
  }
  out.push(...respelledKeyDiagnostics(nameOf, at, file, lines));
  return out;
}

/**
 * `recipient-drift` where one key is two members: an ssh-ed25519 key under one name and its `age1…`
 * form (what `ssh-to-age` prints; the ssh private key opens both) under another, at the later one.
 * Only when the project has keys of both kinds: a project of age keys pays nothing.
 */
function respelledKeyDiagnostics(
  nameOf: ReadonlyMap<string, { name: string; env: string }>,
  at: (env: string, name: string) => TextRange,
  file: string,
  lines: LineIndex,
): Diagnostic[] {
  const all = [...nameOf];
  const ages = all.filter(([k]) => k.startsWith("age1"));
  const sshKeys = all.filter(([k]) => k.startsWith("ssh-ed25519 "));
  if (ages.length === 0 || sshKeys.length === 0) return [];
  const order = new Map(all.map(([k], i) => [k, i]));
  const out: Diagnostic[] = [];
  for (const [i, j] of ageFormsOfSshKeys(ages.map(([k]) => k), sshKeys.map(([k]) => k))) {
    const [ageKey, age] = ages[i]!;
    const [sshKey, ssh] = sshKeys[j]!;
    if (age.name === ssh.name) continue;
    const [later, earlier] = order.get(ageKey)! > order.get(sshKey)! ? [age, ssh] : [ssh, age];
    out.push(
      diagnosticAt("recipient-drift", "error", file, lines, at(later.env, later.name),
        `the key of "${later.name}" in ${later.env} is also "${earlier.name}"'s (in ${earlier.env}), written another way: an ssh-ed25519 key and its age1… form open with one private key, so whoever holds it decrypts as both ` +
          `(\`members rm\` of one name would leave the other); remove "${later.name}" there, and add the member under one name if they belong there`),
    );
  }
  return out;
}

function entriesOf(value: unknown): [string, Record<string, unknown>][] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [];
  return Object.entries(value as Record<string, unknown>).filter((e): e is [string, Record<string, unknown>] => e[1] !== null && typeof e[1] === "object" && !Array.isArray(e[1]));
}

function requestsOf(value: unknown): PendingRequest[] {
  const out: PendingRequest[] = [];
  for (const [name, r] of entriesOf(value)) {
    if (typeof r.key !== "string") continue;
    const request: PendingRequest = { name, recipient: normalizeRecipient(r.key) };
    if (typeof r.requested === "string") request.requested = r.requested;
    out.push(request);
  }
  return out;
}

function approvalsOf(value: unknown): Approval[] {
  return entriesOf(value)
    .filter(([, a]) => typeof a.by === "string")
    .map(([name, a]) => ({ name, by: a.by as string, date: typeof a.date === "string" ? a.date : "" }));
}

/** `pending-access-request` (info) at each pending name: what the change asks for, and who can grant it. */
function pendingDiagnostics(root: Node | null, env: string, pending: readonly PendingRequest[], file: string, lines: LineIndex, environments: readonly EnvironmentConfig[]): Diagnostic[] {
  // environments → ENV → pending, through the parsed nodes (the plain-YAML reader's or yaml's)
  let map: unknown = root;
  for (const key of ["environments", env, "pending"]) map = isMap(map) ? findPair(map, key)?.value : undefined;
  if (!isMap(map)) return [];
  const out: Diagnostic[] = [];
  for (const request of pending) {
    const pair = findPair(map, request.name);
    const range = isScalar(pair?.key) && pair.key.range ? { start: pair.key.range[0], end: pair.key.range[1] } : { start: 0, end: 0 };
    // the whole key: a request's name is a claim anyone with push access can write, its key is what gets access
    out.push(
      diagnosticAt(
        "pending-access-request",
        "info",
        file,
        lines,
        range,
        `${request.name} asks for access to ${env} (key ${request.recipient}${request.requested ? `, requested ${request.requested.slice(0, 10)}` : ""}); ` +
          (pendingRequestConflict(request, environments) ?? `this grants nothing until a member of ${env} approves: \`stellar-secrets members approve ${request.name} --env ${env}\``),
      ),
    );
  }
  return out;
}

/**
 * `schema` warnings at each `approved` entry of someone who is not a member of the environment:
 * `members approve` writes one with the member and `members rm` drops it, so such an entry was
 * written or left by hand; it grants nothing, but a member added later under that name would be
 * shown as approved (`members list --long`). A warning: the commands still load the project.
 */
function approvalDiagnostics(root: Node | null, env: EnvironmentConfig, file: string, lines: LineIndex): Diagnostic[] {
  const stray = (env.approved ?? []).filter((a) => !env.members.some((m) => m.name === a.name));
  if (stray.length === 0) return [];
  let map: unknown = root;
  for (const key of ["environments", env.name, "approved"]) map = isMap(map) ? findPair(map, key)?.value : undefined;
  if (!isMap(map)) return [];
  return stray.map((a) => {
    const pair = findPair(map as never, a.name);
    const range = isScalar(pair?.key) && pair.key.range ? { start: pair.key.range[0], end: pair.key.range[1] } : { start: 0, end: 0 };
    const asking = env.pending?.some((r) => r.name === a.name) === true ? ` (${a.name} still has a pending request there: \`stellar-secrets members approve ${a.name} --env ${env.name}\` is what grants it)` : "";
    return diagnosticAt(
      "schema",
      "warning",
      file,
      lines,
      range,
      `an approval of ${a.name} in ${env.name} (by ${a.by}), but ${a.name} is not a member of ${env.name}${asking}: \`members approve\` records an approval with the member it adds and \`members rm\` removes it, so this one was written or left by hand; ` +
        `it grants nothing, but a member added later as ${a.name} would be shown as approved by ${a.by}: remove the entry`,
    );
  });
}

/**
 * Why `members approve` would refuse a request (a member has one key in every environment, and a
 * key one name): the request's name is a member elsewhere with another key, or its key is another
 * member's. A name proves nothing: such a request may be someone else asking as that member.
 */
export function pendingRequestConflict(request: PendingRequest, environments: readonly EnvironmentConfig[]): string | undefined {
  for (const e of environments) {
    const same = e.members.find((m) => m.name === request.name);
    if (same !== undefined && same.recipient !== request.recipient) {
      return (
        `but ${request.name} is a member of ${e.name} with another key (${same.recipient}): a member has one key in every environment, so \`members approve\` refuses it, and one of the two keys is not ${request.name}'s (a name proves nothing); ` +
        `ask ${request.name} directly which key is theirs: if it is the requested one, \`stellar-secrets members rm ${request.name}\` then \`request-access\` again with it; otherwise delete this request`
      );
    }
  }
  for (const e of environments) {
    const owner = e.members.find((m) => m.recipient === request.recipient && m.name !== request.name);
    if (owner !== undefined) {
      return (
        `but its key is already "${owner.name}"'s (in ${e.name}): a key belongs to one member, so \`members approve\` refuses it; ` +
        `if ${owner.name} needs ${request.name === owner.name ? "it" : "access"}, ask under their own name (\`stellar-secrets request-access --env ENV\` as ${owner.name}); otherwise delete this request`
      );
    }
  }
  return undefined;
}

function firstLine(s: string): string {
  const i = s.indexOf("\n");
  return (i === -1 ? s : s.slice(0, i)).trim();
}

/**
 * The directory containing stellar.yaml, walking up from `cwd`; undefined when there is none.
 * Reads through `fs` (default: the real file system). Never throws.
 */
export function findProjectRoot(cwd: string, fs: WorkspaceFs = nodeWorkspaceFs): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, PROJECT_FILE);
    try {
      if (fs.stat(candidate).isFile()) return dir;
    } catch {
      // unreadable: keep walking
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The `stellar.yaml` files at most two folders below `dir` (hidden folders and `node_modules` left
 * out), as paths relative to it (`/`-separated), sorted, at most `limit`: where a project is when
 * a command runs above it (at the top of a repository whose project lives in `infra/`). Reads only
 * folder listings; never throws.
 */
export function projectFilesBelow(dir: string, fs: WorkspaceFs = nodeWorkspaceFs, limit = 5): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string, depth: number): void => {
    let entries: ReturnType<WorkspaceFs["readdir"]>;
    try {
      entries = fs.readdir(abs);
    } catch {
      return;
    }
    for (const e of entries) {
      if (depth > 0 && e.name === PROJECT_FILE && e.isFile()) out.push(rel === "" ? e.name : `${rel}/${e.name}`);
    }
    if (depth === 2) return;
    for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.isDirectory() && !e.name.startsWith(".") && e.name !== "node_modules") walk(join(abs, e.name), rel === "" ? e.name : `${rel}/${e.name}`, depth + 1);
    }
  };
  walk(resolve(dir), "", 0);
  return out.sort().slice(0, limit);
}

/**
 * The hint of a NO_PROJECT error for a command run in `cwd`: the projects just below it, to run
 * the command in (a repository whose project is in a subfolder), else `fallback` (how to start one).
 */
export function noProjectHint(cwd: string, fallback: string, fs: WorkspaceFs = nodeWorkspaceFs): string {
  const below = projectFilesBelow(cwd, fs);
  if (below.length === 0) return fallback;
  const dirs = below.map((p) => p.slice(0, -(PROJECT_FILE.length + 1)));
  return `${below.join(", ")} ${below.length === 1 ? "is a project" : "are projects"} below this folder: run the command there (\`cd ${shellPathWord(dirs[0] as string)}\`)`;
}

/**
 * Finds and parses stellar.yaml from `cwd` upwards.
 * @throws CoreError NO_PROJECT when there is none; INVALID_CONFIG (with the first problems as
 * `file:line:column: message`, and every diagnostic in `diagnostics`) when it has errors;
 * IO_ERROR when it cannot be read. Reads through `fs` (default: the real file system).
 */
export async function loadProject(cwd: string, fs: WorkspaceFs = nodeWorkspaceFs, options: { allowOutsideLinks?: boolean } = {}): Promise<ProjectConfig> {
  const root = findProjectRoot(cwd, fs);
  if (root === undefined) {
    throw new CoreError("NO_PROJECT", `no ${PROJECT_FILE} in ${resolve(cwd)} or any parent directory`, {
      hint: noProjectHint(cwd, "run `stellar-secrets init` at the repository root, or run the command inside a Stellar Secrets repository", fs),
    });
  }
  const path = join(root, PROJECT_FILE);
  if (options.allowOutsideLinks !== true) assertNoOutsideLink(fs, root, path, PROJECT_FILE);
  let text: string;
  try {
    text = fs.readFile(path);
  } catch (e) {
    // NOT_A_FILE as it is; other failures by their errno code (ENOENT, EACCES)
    const errno = isSopsError(e) && e.code === "IO_ERROR" && e.cause !== undefined ? e.cause : e;
    throw new CoreError("IO_ERROR", `cannot read ${path}: ${(errno as NodeJS.ErrnoException).code ?? (errno as Error).message}`, { file: path, cause: e });
  }
  const problem = projectTextProblem(fs, path, text);
  const { config, diagnostics } = problem === undefined ? parseProjectConfig(text, path) : { config: undefined, diagnostics: [unreadableProject(text, problem)] };
  // a member's name or key inconsistent across environments is for check and review to report:
  // the commands that fix it (members rm, add) must still run
  const errors = diagnostics.filter((d) => d.severity === "error" && d.rule !== "recipient-drift");
  if (config === undefined || errors.length > 0) {
    throw new InvalidConfigError(path, errors.length > 0 ? errors : diagnostics, { conflictMarkers: problem === undefined && /^(?:<{7}|={7}|>{7})(?: |$)/m.test(text) });
  }
  if (options.allowOutsideLinks !== true) {
    // the secrets folder, the catalog and every environment file: what commands read and write
    assertNoOutsideLink(fs, root, join(root, config.secretsDir), `${config.secretsDir}/`);
    assertNoOutsideLink(fs, root, catalogPath(config), `${config.secretsDir}/${CATALOG_FILE}`);
    for (const env of config.environments) assertNoOutsideLink(fs, root, secretsFilePath(config, env.name), `${config.secretsDir}/${environmentFileName(env.name)}`);
  }
  return config;
}

/**
 * CoreError INVALID_CONFIG carrying the diagnostics of stellar.yaml. With `conflictMarkers` (the
 * text holds git conflict markers: a merge, rebase, cherry-pick or revert stopped on it), the hint
 * says to finish that file first.
 */
export class InvalidConfigError extends CoreError {
  readonly diagnostics: Diagnostic[];
  constructor(path: string, diagnostics: Diagnostic[], options: { conflictMarkers?: boolean } = {}) {
    const shown = diagnostics.slice(0, 5).map((d) => `${join(dirname(path), d.file)}:${d.line}:${d.column}: ${d.message}`);
    const more = diagnostics.length > 5 ? `\n  ... and ${diagnostics.length - 5} more` : "";
    super("INVALID_CONFIG", `${path} has ${diagnostics.length} problem${diagnostics.length === 1 ? "" : "s"}:\n  ${shown.join("\n  ")}${more}`, {
      file: path,
      hint:
        options.conflictMarkers === true
          ? "stellar.yaml holds git conflict markers (a merge, rebase, cherry-pick or revert stopped on it): finish it first — keep one side (`git checkout --ours -- stellar.yaml` or `--theirs`) or edit it, then `git add stellar.yaml` — and run the command again"
          : "fix stellar.yaml at the lines above (its fields are described in docs/config-files.md of the Stellar Secrets documentation)",
    });
    this.diagnostics = diagnostics;
  }
}

/** The text of a new stellar.yaml for `config` (environments in order, members as name: key). */
export function renderProjectConfig(config: Omit<ProjectConfig, "root" | "configPath">): string {
  const envs: Record<string, unknown> = {};
  for (const env of config.environments) {
    const members: Record<string, string> = {};
    for (const m of env.members) members[m.name] = m.recipient;
    envs[env.name] = { members };
  }
  const obj: Record<string, unknown> = { version: 1, secrets_dir: config.secretsDir, environments: envs };
  const include = sameList(config.include, DEFAULT_INCLUDE) ? undefined : config.include;
  const exclude = sameList(config.exclude, DEFAULT_EXCLUDE) ? undefined : config.exclude;
  if (include !== undefined || exclude !== undefined) {
    obj.config = { ...(include !== undefined ? { include } : {}), ...(exclude !== undefined ? { exclude } : {}) };
  }
  const rules = Object.entries(config.rules).filter(([, v]) => v !== undefined);
  if (rules.length > 0) obj.rules = Object.fromEntries(rules);
  const doc = new Document(obj);
  doc.commentBefore = " Stellar Secrets project: environments and who can decrypt them (age public keys).\n Docs: https://stellar-secrets.dev/docs/config-files";
  flowEmptyMaps(doc.contents as Node);
  return doc.toString({ lineWidth: 0 });
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function flowEmptyMaps(node: Node | null): void {
  if (node === null || !isMap(node)) return;
  if (node.items.length === 0) node.flow = true;
  for (const p of node.items) flowEmptyMaps(p.value as Node | null);
}

/**
 * Sets the members of `env` in stellar.yaml's text, keeping comments and the order of members
 * that stay; new members are appended, removed ones dropped. Adds the environment when absent.
 * @throws CoreError INVALID_CONFIG when the text is not valid YAML or not a mapping.
 */
export function setEnvironmentMembers(text: string, env: string, members: Member[]): string {
  const doc = editableDocument(text, PROJECT_FILE);
  const root = doc.contents as YAMLMap;
  let envsPair = findPair(root, "environments");
  if (envsPair === undefined || !isMap(envsPair.value)) {
    const m = new YAMLMap();
    if (envsPair === undefined) root.add(doc.createPair("environments", m));
    else envsPair.value = m;
    envsPair = findPair(root, "environments");
  }
  const envs = envsPair?.value as YAMLMap;
  envs.flow = false;
  let envPair = findPair(envs, env);
  if (envPair === undefined) {
    envs.add(doc.createPair(env, new YAMLMap()));
    envPair = findPair(envs, env);
  }
  if (envPair === undefined) throw new Error("unreachable");
  writeOutAlias(doc, envPair); // `production: *dev`: its own copy, keeping its pending requests and approvals
  if (!isMap(envPair.value)) envPair.value = new YAMLMap();
  const envMap = envPair.value as YAMLMap;
  detachAliases(doc, envMap); // (an alias elsewhere keeps what it named)
  envMap.flow = false;
  let membersPair = findPair(envMap, "members");
  if (membersPair === undefined) {
    envMap.add(doc.createPair("members", new YAMLMap()));
    membersPair = findPair(envMap, "members");
  }
  if (membersPair === undefined) throw new Error("unreachable");
  if (!isMap(membersPair.value)) membersPair.value = new YAMLMap();
  const map = membersPair.value as YAMLMap;
  const wanted = new Map(members.map((m) => [m.name, m.recipient]));
  map.items = map.items.filter((p) => {
    const k = isScalar(p.key) ? String(p.key.value) : undefined;
    return k !== undefined && wanted.has(k);
  });
  for (const p of map.items) {
    const k = String((p.key as Scalar).value);
    const r = wanted.get(k) as string;
    if (isScalar(p.value)) p.value.value = r;
    else p.value = new Scalar(r);
    wanted.delete(k);
  }
  for (const [name, recipient] of wanted) map.add(doc.createPair(name, recipient));
  map.flow = map.items.length === 0;
  // an approval is kept while its member is: a removed member's approval goes with them
  const approved = findPair(envMap, "approved");
  if (approved !== undefined && isMap(approved.value)) {
    const names = new Set(members.map((m) => m.name));
    approved.value.items = approved.value.items.filter((p) => isScalar(p.key) && names.has(String(p.key.value)));
    if (approved.value.items.length === 0) envMap.items = envMap.items.filter((p) => p !== approved);
  }
  return renderEditedDocument(doc, text);
}

/**
 * Sets the pending access requests of `env` in stellar.yaml's text (`pending.<name>: { key,
 * requested }`), keeping comments and the order of requests that stay; the `pending` key is
 * removed when `requests` is empty. The environment must exist.
 * @throws CoreError INVALID_CONFIG when the text is not valid YAML, not a mapping, or has no such environment.
 */
export function setPendingRequests(text: string, env: string, requests: readonly PendingRequest[]): string {
  return setEnvironmentEntries(text, env, "pending", requests.map((r) => [r.name, { key: r.recipient, ...(r.requested === undefined ? {} : { requested: r.requested }) }]));
}

/**
 * Sets the recorded approvals of `env` in stellar.yaml's text (`approved.<name>: { by, date }`),
 * like {@link setPendingRequests}.
 * @throws CoreError INVALID_CONFIG as {@link setPendingRequests}.
 */
export function setApprovals(text: string, env: string, approvals: readonly Approval[]): string {
  return setEnvironmentEntries(text, env, "approved", approvals.map((a) => [a.name, { by: a.by, date: a.date }]));
}

function setEnvironmentEntries(text: string, env: string, field: "pending" | "approved", entries: [string, Record<string, string>][]): string {
  const doc = editableDocument(text, PROJECT_FILE);
  const envs = doc.get("environments", true);
  const envPair = isMap(envs) ? findPair(envs, env) : undefined;
  if (envPair !== undefined) writeOutAlias(doc, envPair); // `production: *dev`: its own copy
  const envNode = envPair?.value;
  if (!isMap(envNode)) {
    throw new CoreError("INVALID_CONFIG", `${PROJECT_FILE} has no environment "${env}" to record ${field === "pending" ? "a request" : "an approval"} in`, { file: PROJECT_FILE });
  }
  detachAliases(doc, envNode); // (an alias elsewhere keeps what it named)
  envNode.flow = false;
  if (entries.length === 0) {
    envNode.items = envNode.items.filter((p) => !(isScalar(p.key) && p.key.value === field));
    return renderEditedDocument(doc, text);
  }
  let pair = findPair(envNode, field);
  if (pair === undefined || !isMap(pair.value)) {
    if (pair === undefined) envNode.add(doc.createPair(field, new YAMLMap()));
    else pair.value = new YAMLMap();
    pair = findPair(envNode, field);
  }
  const map = pair?.value as YAMLMap;
  map.flow = false;
  const wanted = new Map(entries);
  map.items = map.items.filter((p) => isScalar(p.key) && wanted.has(String(p.key.value)));
  for (const p of map.items) {
    const k = String((p.key as Scalar).value);
    p.value = doc.createNode(wanted.get(k));
    wanted.delete(k);
  }
  for (const [name, value] of wanted) map.add(doc.createPair(name, value));
  return renderEditedDocument(doc, text);
}

/** Whether a YAML text pads its non-empty flow collections (`[ a ]`) rather than not (`[a]`): the majority of those written, padded when none. */
function flowPadding(original: string): boolean {
  let padded = 0;
  let tight = 0;
  for (const line of original.split(/\r\n|\r|\n/)) {
    const code = line.replace(/(^|\s)#.*$/, "");
    for (const m of code.matchAll(/[[{](.)/g)) {
      if (m[1] === "]" || m[1] === "}") continue;
      if (m[1] === " ") padded++;
      else tight++;
    }
  }
  return tight <= padded;
}

/**
 * The text of a document parsed from `original` (with {@link editableDocument}) and edited, in
 * the form of `original`: CRLF (or lone CR) line breaks when its first line break is one, and its
 * UTF-8 byte order mark. The yaml library writes neither, so without this an edit of a file saved on Windows
 * would rewrite every line of it in `git diff`. (Line breaks inside block scalars read back the
 * same: YAML normalises them.)
 */
export function renderEditedDocument(doc: Document, original: string): string {
  // flow collections as the file writes them: `[a, b]` stays unpadded (the library pads, `[ a, b ]`,
  // which rewrote an untouched `include: ["**/*.yaml"]` line on every `members add`/`rm`)
  let text = doc.toString({ lineWidth: 0, flowCollectionPadding: flowPadding(original) });
  const firstBreak = lineEndAt(original, 0);
  if (original[firstBreak] === "\r") text = text.replace(/\r?\n/g, original[firstBreak + 1] === "\n" ? "\r\n" : "\r");
  if (original.startsWith("\uFEFF") && !text.startsWith("\uFEFF")) text = `\uFEFF${text}`;
  return text;
}

/** Parses text for editing; an empty text gives an empty mapping. */
export function editableDocument(text: string, file: string): Document {
  const doc = parseDocument(loneCrAsLf(text), { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const lines = new LineIndex(text);
    const e = doc.errors[0] as (typeof doc.errors)[number];
    const p = lines.positionAt(e.pos[0]);
    throw new CoreError("INVALID_CONFIG", `${file}:${p.line}:${p.column}: not valid YAML: ${firstLine(e.message)}`, {
      file,
      hint: `fix the YAML syntax of ${file} first`,
    });
  }
  if (doc.contents === null || (isScalar(doc.contents) && (doc.contents.value === null || doc.contents.value === ""))) {
    const comment = doc.commentBefore ?? (isScalar(doc.contents) ? doc.contents.commentBefore : undefined);
    doc.contents = new YAMLMap() as never;
    if (comment) doc.commentBefore = comment;
  }
  if (!isMap(doc.contents)) {
    throw new CoreError("INVALID_CONFIG", `${file}: the top level must be a mapping`, { file, hint: `fix ${file}` });
  }
  return doc;
}

/** Escapes a string for a (RE2 or JS) regular expression. */
function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The text of `.sops.yaml` for a project: one creation rule per environment that has members,
 * with its recipients comma-separated, so the plain sops CLI encrypts for the same people.
 */
export function renderSopsConfig(config: ProjectConfig | Omit<ProjectConfig, "root" | "configPath">): string {
  const lines = ["# Generated by stellar-secrets from stellar.yaml; edit stellar.yaml instead.", "creation_rules:"];
  const dir = escapeRegExp(config.secretsDir.replace(/\/+$/, ""));
  for (const env of config.environments) {
    const recipients = [...new Set(env.members.map((m) => m.recipient))];
    if (recipients.length === 0) continue;
    // (laid out as `updateSopsConfig` writes it back: a first member change rewrites one line, not the file)
    lines.push(`  - path_regex: (^|/)${dir}/${escapeRegExp(environmentFileName(env.name))}$`);
    lines.push(`    age: ${recipients.join(",")}`);
  }
  if (lines.length === 2) lines[1] = "creation_rules: []";
  return `${lines.join("\n")}\n`;
}

/** Absolute path of an environment's secrets file (`<root>/<secrets_dir>/<env>.enc.yaml`). */
export function secretsFilePath(config: ProjectConfig, env: string): string {
  return join(config.root, config.secretsDir, environmentFileName(env));
}

/** Absolute path of the catalog (`<root>/<secrets_dir>/catalog.yaml`). */
export function catalogPath(config: ProjectConfig): string {
  return join(config.root, config.secretsDir, CATALOG_FILE);
}

/** The environment named `name`, or undefined. */
export function findEnvironment(config: ProjectConfig, name: string): EnvironmentConfig | undefined {
  return config.environments.find((e) => e.name === name);
}

/** The diagnostic of a stellar.yaml that cannot be parsed at all (`why` from `projectTextProblem`). */
function unreadableProject(text: string, why: string): Diagnostic {
  const lines = new LineIndex(text);
  return diagnosticAt("schema", "error", PROJECT_FILE, lines, { start: 0, end: Math.min(lineEndAt(text, 0), 200) }, `${PROJECT_FILE} ${why}`);
}

/**
 * Throws OUTSIDE_REPOSITORY when a symbolic link takes `abs` (named `name` in the message)
 * outside the repository `root`.
 * @throws CoreError OUTSIDE_REPOSITORY
 */
function assertNoOutsideLink(fs: WorkspaceFs, root: string, abs: string, name: string): void {
  const target = linkOutsideRoot(fs, root, abs);
  if (target === undefined) return;
  throw new CoreError("OUTSIDE_REPOSITORY", `${name} is a symbolic link to ${target}, outside the repository ${root}; it was not read`, {
    file: abs,
    hint: "replace the link with the file or folder itself, or set STELLAR_SECRETS_ALLOW_OUTSIDE_LINKS=1 if following it is intended",
  });
}
