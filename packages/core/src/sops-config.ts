/**
 * `.sops.yaml` (SOPS-FORMAT §11) as far as it decides who can decrypt the environment files:
 * reading its creation rules, the `sops-config-drift` check (the rule sops would pick for an
 * environment file must name exactly that environment's members), and the in-place update the
 * CLI makes when members change (comments and unrelated rules kept). Pure: text in, data out.
 */
import { isExhaustion } from "./out-of-stack.js";
import { excessiveNestingMessage, findExcessiveNesting, translateRe2 } from "@stellar-secrets/sops";
import { posix } from "node:path";
import { isAlias, isMap, isScalar, isSeq, parseAllDocuments, parseDocument, Scalar, visit, YAMLMap, type Document, type Node, type Pair } from "yaml";
import { diagnosticAt, type Diagnostic } from "./diagnostics.js";
import { LineIndex, loneCrAsLf, type TextRange } from "./position.js";
import { miswrittenKeyOwner, miswrittenMembers, renderEditedDocument, type ProjectConfig } from "./project.js";
import { detachAliases, findPair, keyString, nodeRange } from "./yaml-nodes.js";
import { parseSimpleYaml } from "./fast-yaml.js";

/**
 * Thrown to the reader's catch when the YAML parser reports that it ran out of stack (it catches
 * the RangeError itself): made once, at load, so that throwing it allocates nothing; this module's
 * own (see out-of-stack.ts).
 */
const STACK_EXHAUSTED = new RangeError("Maximum call stack size exceeded (reported by the YAML parser)");

/** The file name sops looks for (`.sops.yml` is ignored by sops). */
export const SOPS_CONFIG_FILE = ".sops.yaml";

/** Key types other than age that a creation rule may name (each one can also decrypt; `plugins`: an external key-service binary of newer sops). */
const OTHER_KEY_TYPES = ["pgp", "kms", "gcp_kms", "azure_keyvault", "hc_vault_transit_uri", "hc_vault", "hckms", "plugins"] as const;

/** One creation rule of `.sops.yaml`, as far as recipients go. */
export interface SopsCreationRule {
  /** 0-based position in `creation_rules`. */
  index: number;
  /** The `path_regex` as written; undefined for a rule without one (it matches every file). */
  pathRegex: string | undefined;
  /** The compiled `path_regex` (Go RE2 read as a JavaScript regular expression); undefined when it has none or it cannot be compiled. */
  regex: RegExp | undefined;
  /** True when `path_regex` is present but cannot be compiled. */
  invalidRegex: boolean;
  /** The age recipients the rule names (from `key_groups` when present, as sops does), trimmed, empty entries skipped. */
  age: string[];
  /** The other key types the rule names (`pgp`, `kms`, ...): they can decrypt too. */
  otherKeys: string[];
  /** True when the rule has `key_groups` (its top-level keys are then ignored by sops). */
  keyGroups: boolean;
  /**
   * With `keyGroups`: each group's keys as sops reads them (a group's `merge`d groups' keys in the
   * group itself), age recipients trimmed, another key type as `type` alone (`pgp`), in order.
   */
  groups?: string[][];
  /**
   * The rule's `shamir_threshold` as written (a whole number), absent when it has none: sops then
   * splits a data key for all groups (a new file needs every group).
   */
  shamirThreshold?: number;
  /** Where to report a recipient problem: the `age` (or `key_groups`) value, else the rule. */
  range: TextRange;
}

/** A parsed `.sops.yaml`: its creation rules, or why it could not be read. */
export interface ParsedSopsConfig {
  /** Relative to the repository root. */
  path: string;
  lines: LineIndex;
  rules: SopsCreationRule[];
  /** Set when the file is not YAML or has no usable `creation_rules` list (sops would fail or match nothing). */
  problem: { message: string; range: TextRange } | undefined;
  /** The `creation_rules` key, when the file has one. */
  rulesKeyRange?: TextRange;
  /**
   * What the file uses beyond plain YAML ("an anchor", "an alias", "a tag"), when it does: such a
   * file is read as sops reads it (aliases followed, `!!binary` decoded), but an edit of one place
   * can then change another, so the merge driver leaves it to git's text merge.
   */
  nonPlain?: string;
  /**
   * True when the parse ran out of stack (a caller that had used most of it): then `problem` says
   * the file is nested too deeply, though the same text reads whole with more stack, so such a
   * result must not be cached.
   */
  uncacheable?: true;
}

/** At most this many aliases are expanded (an alias bomb is no config). */
const MAX_ALIASES = 100;

/**
 * Replaces, in place, every alias by a copy of the node it names, and every merge key (`<<: *a`,
 * `<<: [*a, *b]`) by the pairs of the maps it names that the mapping does not set itself: sops
 * reads `.sops.yaml` with yaml.v3, which follows both, so a recipient behind an anchor is a
 * recipient. False when there are more than {@link MAX_ALIASES} aliases.
 */
function expandAliases(doc: Document): boolean {
  let aliases = 0;
  let ok = true;
  const resolved = (node: unknown): unknown => {
    let n = node;
    for (let depth = 0; isAlias(n) && depth < MAX_ALIASES; depth++) n = n.resolve(doc);
    return n;
  };
  visit(doc, {
    Alias(_, node) {
      if (++aliases > MAX_ALIASES) {
        ok = false;
        return visit.BREAK;
      }
      const target = resolved(node);
      return target === undefined || target === null || isAlias(target) ? new Scalar(null) : ((target as Node).clone() as Node);
    },
  });
  if (!ok) return false;
  visit(doc, {
    Map(_, map) {
      const merges = map.items.filter((p) => isScalar(p.key) && p.key.value === "<<");
      if (merges.length === 0) return undefined;
      const own = new Set(map.items.filter((p) => !merges.includes(p)).map((p) => keyString(p)));
      const added: Pair[] = [];
      for (const m of merges) {
        const sources = isSeq(m.value) ? m.value.items : [m.value];
        for (const s of sources) {
          if (!isMap(s)) continue;
          for (const p of s.items) {
            const k = keyString(p);
            if (k === undefined || own.has(k)) continue;
            own.add(k);
            added.push(p);
          }
        }
      }
      map.items = [...map.items.filter((p) => !merges.includes(p)), ...added];
      return undefined;
    },
  });
  return true;
}

/** The first YAML feature beyond plain nodes that `doc` uses: "an alias", "an anchor" or "a tag" (explicit, `!x` or `!!str`), else undefined. */
function nonPlainFeature(doc: Document): string | undefined {
  let found: string | undefined;
  visit(doc, {
    Alias() {
      found = "an alias";
      return visit.BREAK;
    },
    Node(_, node) {
      // (the yaml library sets `tag` on a parsed node only when the text gives one explicitly)
      if (node.anchor) found = "an anchor";
      else if (typeof node.tag === "string") found = "a tag";
      return found === undefined ? undefined : visit.BREAK;
    },
  });
  return found;
}

/** A scalar's value as the text sops' yaml.v3 gives it: a `!!binary` scalar is its decoded bytes as a string. */
function scalarValue(v: unknown): unknown {
  return v instanceof Uint8Array ? Buffer.from(v).toString("utf8") : v;
}

/** Splits a sops key list (a comma-separated string, or a list of such strings) into trimmed, non-empty entries. */
function keyList(node: unknown): string[] {
  const parts: string[] = [];
  const add = (raw: unknown): void => {
    const v = scalarValue(raw);
    if (typeof v === "string") parts.push(...v.split(","));
    else if (typeof v === "number" || typeof v === "boolean") parts.push(String(v));
  };
  if (isScalar(node)) add(node.value);
  else if (isSeq(node)) for (const item of node.items) add(isScalar(item) ? item.value : isMap(item) ? JSON.stringify(item.toJSON()) : undefined);
  return parts.map((p) => p.trim()).filter((p) => p !== "");
}

/** True when a key-list node names at least one key (a string, or a non-empty list of strings or objects). */
function hasKeys(node: unknown): boolean {
  return isSeq(node) ? node.items.length > 0 : keyList(node).length > 0;
}

/**
 * Reads a Go RE2 pattern (a `path_regex`) as a JavaScript RegExp that matches the same paths,
 * through the sops package's one reading of RE2 ({@link translateRe2}: leading flags, `(?P<name>`,
 * `\\Q…\\E`, `\\A`, `\\z`, `\\pL`, `\\x{…}`, POSIX classes). Undefined (which rule sops uses is then
 * undetermined) for a pattern RE2 refuses or that is not translated: a rule sops matches must never
 * look unmatched here.
 */
export function compileSopsPathRegex(pattern: string): RegExp | undefined {
  const read = translateRe2(pattern);
  return "re" in read ? read.re : undefined;
}

/**
 * The first key (in document order of the repeat) that a mapping of `root` has twice, compared as
 * sops' YAML library (Go yaml.v3) compares them: by the scalar's text as written, unquoted
 * (`age` and `"age"` are the same key; so are `1` and `"1"`), before any alias or merge key is
 * expanded (two `<<` keys are a duplicate too), except that a key written as an alias (`*k`) is the
 * key it names when `doc` is given (yaml.v3 decodes it into the same field of sops' config). yaml.v3 refuses such a mapping, so sops does not
 * read the file; a reader that kept the first (or the last) key would check something sops never
 * uses. Non-scalar keys are not compared.
 */
function firstDuplicateKey(root: unknown, doc?: Document): { key: string; first: TextRange; again: TextRange } | undefined {
  let found: { key: string; first: TextRange; again: TextRange } | undefined;
  const walk = (node: unknown, depth: number): void => {
    if (found !== undefined || depth > 200) return;
    if (isSeq(node)) {
      for (const item of node.items) walk(item, depth + 1);
      return;
    }
    if (!isMap(node)) return;
    const seen = new Map<string, TextRange>();
    for (const pair of node.items) {
      const written = pair.key as unknown;
      // a key written as an alias (`&k age: A` then `*k : B`) is the key it names: yaml.v3 decodes
      // it into the same struct field and refuses the second ("field age already set")
      const named = isAlias(written) && doc !== undefined ? written.resolve(doc) : undefined;
      const k = named !== undefined && isScalar(named) ? named : written;
      if (isScalar(k)) {
        const text = typeof k.source === "string" ? k.source : k.value === null ? "" : String(scalarValue(k.value));
        const range = nodeRange(written as Node) ?? { start: 0, end: 0 };
        const first = seen.get(text);
        if (first !== undefined) {
          found = { key: text, first, again: range };
          return;
        }
        seen.set(text, range);
      }
    }
    for (const pair of node.items) walk(pair.value, depth + 1);
  };
  walk(root, 0);
  return found;
}

/** The problem of a `.sops.yaml` with a duplicate key, at the repeated key. */
function duplicateKeyProblem(path: string, lines: LineIndex, d: { key: string; first: TextRange; again: TextRange }): { message: string; range: TextRange } {
  const shown = JSON.stringify(d.key.length > 40 ? `${d.key.slice(0, 40)}…` : d.key);
  return {
    message: `${path} has the key ${shown} twice in one mapping (lines ${lines.positionAt(d.first.start).line} and ${lines.positionAt(d.again.start).line}): sops (Go yaml.v3) refuses such a file, so it is not read as its first key either; remove one`,
    range: d.again,
  };
}

/**
 * Parses `.sops.yaml` text (`path` relative to the root). Never throws once the parse has started:
 * running out of stack (a caller that had used most of it) gives a result whose `problem` says the
 * file is nested too deeply, marked `uncacheable`.
 */
export function parseSopsConfig(original: string, path: string): ParsedSopsConfig {
  const text = loneCrAsLf(original); // a lone CR ends a line, as in YAML (same offsets)
  const lines = new LineIndex(text);
  try {
    return parseSopsConfigText(text, path, lines);
  } catch (e) {
    // Out of stack: the result below, built with no call at all, as parseConfigFile's model (config.ts)
    if (e !== STACK_EXHAUSTED && !(e instanceof RangeError && typeof e.message === "string" && e.message.includes("call stack"))) throw e;
    return { path, lines, rules: [], problem: { message: `${path}: cannot parse: nested too deeply; the file was not read: flatten it`, range: { start: 0, end: 0 } }, uncacheable: true };
  }
}

function parseSopsConfigText(text: string, path: string, lines: LineIndex): ParsedSopsConfig {
  const result: ParsedSopsConfig = { path, lines, rules: [], problem: undefined };
  const whole = { start: 0, end: 0 };
  const tooDeep = findExcessiveNesting(text);
  if (tooDeep !== undefined) {
    result.problem = { message: `${path}: ${excessiveNestingMessage(tooDeep)}`, range: { start: tooDeep.offset, end: tooDeep.offset } };
    return result;
  }
  // The plain-YAML reader first (same nodes as yaml; the .sops.yaml this tool writes is in its subset).
  const simple = parseSimpleYaml(text);
  let root: unknown;
  if (simple !== undefined && simple.length === 1) {
    root = simple[0]!.contents;
    // (the fast reader gives up on a duplicate key; checked all the same, it costs one pass over the keys)
    const duplicate = firstDuplicateKey(root);
    if (duplicate !== undefined) {
      result.problem = duplicateKeyProblem(path, lines, duplicate);
      return result;
    }
  } else {
    let doc: Document;
    try {
      // sops reads the first document only (yaml.v3 Unmarshal): what follows a `---` is never read
      const docs = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: false });
      const first = Array.isArray(docs) ? docs[0] : undefined;
      if (first === undefined) return result;
      doc = first;
    } catch (e) {
      if (e instanceof RangeError && typeof e.message === "string" && e.message.includes("call stack")) throw e; // out of stack: parseSopsConfig's result
      result.problem = { message: `${path} cannot be read as YAML`, range: whole };
      return result;
    }
    if (doc.errors.some(isExhaustion) || doc.warnings.some(isExhaustion)) throw STACK_EXHAUSTED;
    if (doc.errors.length > 0) {
      const at = doc.errors[0]?.pos[0] ?? 0;
      result.problem = { message: `${path} is not valid YAML (sops refuses it)`, range: { start: at, end: at } };
      return result;
    }
    const duplicate = firstDuplicateKey(doc.contents, doc);
    if (duplicate !== undefined) {
      result.problem = duplicateKeyProblem(path, lines, duplicate);
      return result;
    }
    const extra = nonPlainFeature(doc);
    if (extra !== undefined) result.nonPlain = extra;
    if (!expandAliases(doc)) {
      result.problem = { message: `${path} uses more YAML aliases than sops would expand`, range: whole };
      return result;
    }
    root = doc.contents;
  }
  if (root === null || (isScalar(root) && (root.value === null || root.value === ""))) return result;
  if (!isMap(root)) {
    result.problem = { message: `${path} is not a YAML mapping`, range: nodeRange(root as Node) ?? whole };
    return result;
  }
  const rulesPair = findPair(root, "creation_rules");
  const rules = rulesPair?.value;
  if (rulesPair === undefined || rules === null || rules === undefined) return result;
  const keyRange = nodeRange(rulesPair.key as Node);
  if (keyRange !== undefined) result.rulesKeyRange = keyRange;
  if (!isSeq(rules)) {
    result.problem = { message: `${path}: creation_rules is not a list`, range: nodeRange(rules as Node) ?? whole };
    return result;
  }
  rules.items.forEach((item, index) => {
    const itemRange = nodeRange(item as Node) ?? whole;
    if (!isMap(item)) {
      result.rules.push({ index, pathRegex: undefined, regex: undefined, invalidRegex: true, age: [], otherKeys: [], keyGroups: false, range: itemRange });
      return;
    }
    const get = (key: string): Node | undefined => (findPair(item, key)?.value as Node | null | undefined) ?? undefined;
    const pr = get("path_regex");
    const pathRegex = pr === undefined ? undefined : isScalar(pr) && pr.value !== null ? String(scalarValue(pr.value)) : "";
    const regex = pathRegex === undefined ? undefined : compileSopsPathRegex(pathRegex);
    const groupsNode = get("key_groups");
    const age: string[] = [];
    const otherKeys = new Set<string>();
    let range: TextRange;
    if (groupsNode !== undefined && !(isScalar(groupsNode) && groupsNode.value === null)) {
      const groups: string[][] = [];
      const visit = (group: unknown, into: string[]): void => {
        if (!isMap(group)) return;
        for (const pair of group.items) {
          const key = keyString(pair);
          if (key === "age") {
            const keys = keyList(pair.value);
            age.push(...keys);
            into.push(...keys);
          } else if (key === "merge" && isSeq(pair.value)) for (const g of pair.value.items) visit(g, into);
          else if (key !== undefined && (OTHER_KEY_TYPES as readonly string[]).includes(key) && hasKeys(pair.value)) {
            otherKeys.add(key);
            into.push(key);
          }
        }
      };
      if (isSeq(groupsNode)) {
        for (const g of groupsNode.items) {
          const into: string[] = [];
          visit(g, into);
          groups.push(into);
        }
      }
      const t = get("shamir_threshold");
      const tv = t !== undefined && isScalar(t) ? scalarValue(t.value) : undefined;
      const threshold = typeof tv === "number" ? tv : typeof tv === "string" && /^\d{1,6}$/.test(tv.trim()) ? Number(tv.trim()) : undefined;
      range = nodeRange(findPair(item, "key_groups")?.key as Node) ?? itemRange;
      result.rules.push({
        index,
        pathRegex,
        regex,
        invalidRegex: pathRegex !== undefined && regex === undefined,
        age,
        otherKeys: [...otherKeys],
        keyGroups: true,
        groups,
        ...(threshold === undefined || !Number.isSafeInteger(threshold) || threshold <= 0 ? {} : { shamirThreshold: threshold }),
        range,
      });
      return;
    }
    const ageNode = get("age");
    age.push(...keyList(ageNode));
    for (const key of OTHER_KEY_TYPES) if (hasKeys(get(key))) otherKeys.add(key);
    range = nodeRange(ageNode) ?? nodeRange(findPair(item, "path_regex")?.key as Node) ?? itemRange;
    result.rules.push({ index, pathRegex, regex, invalidRegex: pathRegex !== undefined && regex === undefined, age, otherKeys: [...otherKeys], keyGroups: false, range });
  });
  return result;
}

/** How a message names the folder of a `.sops.yaml` above the root (`../.sops.yaml` of a project in `prefix`): from the top of the work tree. */
function aboveFolder(prefix: string, path: string): string {
  const dir = posix.normalize(posix.join(prefix, configDir(path)));
  return dir === "." ? "the top of the work tree" : `${dir}/ (from the top of the work tree)`;
}

/** The folder of a `.sops.yaml` (relative to the root, "" for the root). */
function configDir(path: string): string {
  const i = path.lastIndexOf("/");
  return i === -1 ? "" : path.slice(0, i);
}

/** A file's path as sops matches it against a config's rules: relative to the config's folder (§11.2). */
function pathForConfig(configPath: string, file: string): string {
  const dir = configDir(configPath);
  return dir === "" ? file : file.startsWith(`${dir}/`) ? file.slice(dir.length + 1) : `/${file}`;
}

/**
 * The rule sops would use for `file` (relative to the root): the first whose `path_regex`
 * matches, searched, not anchored. `undetermined` when a rule before the match cannot be
 * compiled (then which rule applies is unknown).
 */
export function matchSopsRule(config: ParsedSopsConfig, file: string): { rule: SopsCreationRule | undefined; undetermined: SopsCreationRule | undefined } {
  return matchSopsRuleAt(config, pathForConfig(config.path, file));
}

/** {@link matchSopsRule} for a path already relative to the config's folder. */
function matchSopsRuleAt(config: ParsedSopsConfig, p: string): { rule: SopsCreationRule | undefined; undetermined: SopsCreationRule | undefined } {
  for (const rule of config.rules) {
    if (rule.invalidRegex) return { rule: undefined, undetermined: rule };
    if (rule.regex === undefined || rule.regex.test(p)) return { rule, undetermined: undefined };
  }
  return { rule: undefined, undetermined: undefined };
}

/** Every `.sops.yaml` sops may use for the secrets files: in the root and each folder down to the secrets folder (relative paths). */
export function sopsConfigCandidates(secretsDir: string): string[] {
  const parts = secretsDir.replace(/\/+$/, "").split("/").filter((p) => p !== "" && p !== ".");
  const out = [SOPS_CONFIG_FILE];
  for (let i = 1; i <= parts.length; i++) out.push(`${parts.slice(0, i).join("/")}/${SOPS_CONFIG_FILE}`);
  return out;
}

/**
 * `sops-config-drift` over each `.sops.yaml` text (path relative to the root → text): for every
 * declared environment, the creation rule sops would pick for its file must name exactly the
 * environment's members. Extra recipients (or other key types) are errors: plain sops users would
 * encrypt new files for them. Members the rule lacks are warnings. A file sops cannot read is a
 * warning. Default severities; the checker applies the configured ones.
 *
 * `above`: for a project in a subfolder of its git work tree, its folder there (`prefix`) and the
 * `.sops.yaml` of the folders above the root, by path relative to the root (`../.sops.yaml`):
 * plain sops run in such a folder finds it first and matches the rules against the path from that
 * folder (`infra/secrets/production.enc.yaml`). stellar-secrets neither reads nor writes them, so
 * only their errors are reported (a rule that would give a non-member the project's files), as
 * `review` reports them.
 */
export function checkSopsConfigs(
  project: Pick<ProjectConfig, "environments" | "secretsDir">,
  configs: ReadonlyMap<string, string>,
  above?: { prefix: string; configs: ReadonlyMap<string, string> },
): Diagnostic[] {
  const own = checkSopsConfigsAt(project, configs, undefined);
  if (above === undefined || above.configs.size === 0) return own;
  return [...own, ...checkSopsConfigsAt(project, above.configs, above.prefix).filter((d) => d.severity === "error")];
}

function checkSopsConfigsAt(project: Pick<ProjectConfig, "environments" | "secretsDir">, configs: ReadonlyMap<string, string>, prefix: string | undefined): Diagnostic[] {
  const out: Diagnostic[] = [];
  const secretsDir = project.secretsDir.replace(/\/+$/, "");
  for (const [path, text] of configs) {
    const config = parseSopsConfig(text, path);
    // the path sops matches a rule against: from the config's folder (above the root: through the top of the work tree)
    const at = (file: string): string => {
      if (prefix === undefined || !path.startsWith("../")) return pathForConfig(path, file);
      const dir = posix.normalize(posix.join(prefix, configDir(path)));
      return dir === "." ? `${prefix}/${file}` : `${prefix}/${file}`.slice(dir.length + 1);
    };
    const aboveNote =
      prefix === undefined
        ? undefined
        : `${path} is above the project root: plain sops run in ${aboveFolder(prefix, path)} (or in a folder below it with no sops config file of its own), e.g. \`sops updatekeys ${at(`${project.secretsDir.replace(/\/+$/, "")}/ENV.enc.yaml`)}\` there, uses it for the project's files, and stellar-secrets neither reads nor writes it: remove those recipients from the rule (or the rule, or the file), or restrict its path_regex to other files`;
    if (config.problem !== undefined) {
      out.push(diagnosticAt("sops-config-drift", "warning", path, config.lines, config.problem.range, `${config.problem.message}; until then who the plain sops CLI encrypts the secrets files for cannot be checked. Fix ${path} by hand, or delete it: the next \`stellar-secrets members add\` or \`members rm\` writes it anew from stellar.yaml`));
      continue;
    }
    const reported = new Set<SopsCreationRule>();
    const unmatched: string[] = [];
    for (const env of project.environments) {
      const file = `${secretsDir}/${env.name}.enc.yaml`;
      const { rule, undetermined } = matchSopsRuleAt(config, at(file));
      if (rule === undefined && undetermined === undefined && env.members.length > 0) unmatched.push(file);
      if (undetermined !== undefined) {
        // a rule sops may well use for this file (its regex is read no further here): one that
        // names a key that is not the environment's member is an error, as it would be if it matched
        const members = new Set([...env.members, ...miswrittenMembers(env)].map((m) => m.recipient));
        const outsiders = [...new Set(undetermined.age.map(sameKeyAsWritten))].filter((r) => !members.has(r));
        const others = undetermined.otherKeys.map((k) => `${k} keys`);
        if (outsiders.length + others.length > 0) {
          out.push(
            diagnosticAt(
              "sops-config-drift",
              "error",
              path,
              config.lines,
              undetermined.range,
              `creation rule ${undetermined.index + 1} of ${path} has a path_regex this check cannot read as sops reads it (Go RE2), so sops may use it for ${file}, and it names ${[...outsiders, ...others].join(", ")}, not a member of ${env.name}: ` +
                (aboveNote === undefined
                  ? `anyone encrypting with the plain sops CLI could give them access; write the path_regex in plain syntax (as \`stellar-secrets init\` does: \`(^|/)${at(file).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$\`), or remove the rule`
                  : `anyone encrypting with the plain sops CLI could give them access; ${aboveNote}`),
            ),
          );
          reported.add(undetermined);
          continue;
        }
        if (!reported.has(undetermined)) {
          reported.add(undetermined);
          out.push(
            diagnosticAt(
              "sops-config-drift",
              "warning",
              path,
              config.lines,
              undetermined.range,
              `creation rule ${undetermined.index + 1} of ${path} has a path_regex that cannot be read, so which recipients sops uses for ${file} cannot be checked; fix the regular expression`,
            ),
          );
        }
        continue;
      }
      if (rule === undefined) continue; // sops refuses to create the file: nobody gains access
      const members = new Map(env.members.map((m) => [m.recipient, m.name]));
      // keys separated by spaces or line breaks in one entry (`age: "KEY1 KEY2"`, a `|` block, a list
      // item `- KEY1 KEY2`): sops splits at commas only, so that entry is no key and sops refuses the
      // rule; said once per rule, and the rule judged by the keys meant
      // (only age1… keys: an `ssh-ed25519 AAAA… comment` recipient has spaces of its own)
      const isJoined = (k: string): boolean => /\s/.test(k) && k.split(/\s+/).filter((w) => w !== "").every((w) => /^age1/i.test(w));
      const joined = rule.age.filter(isJoined);
      if (joined.length > 0 && !reported.has(rule)) {
        reported.add(rule);
        out.push(
          diagnosticAt(
            "sops-config-drift",
            "warning",
            path,
            config.lines,
            rule.range,
            `creation rule ${rule.index + 1} of ${path} writes ${joined.length === 1 ? "two or more age keys as one entry" : `${joined.length} entries of two or more age keys each`}, separated by ${joined.some((k) => /[\r\n]/.test(k)) ? "line breaks" : "spaces"}: sops splits the age keys of a rule at commas only, so it takes that entry for one key, which does not parse: it refuses to encrypt with this rule, and \`sops updatekeys\` fails for its files; separate the keys with commas (\`age: KEY1,KEY2\`) or list one per line (\`- KEY1\`)`,
          ),
        );
      }
      // an age1… key written in capitals (bech32 ignores case; sops and age read it as the same key,
      // and the stanza they write opens for it) is that key; stellar.yaml's keys are lower-case
      const keys = rule.age.flatMap((k) => (isJoined(k) ? k.split(/\s+/).filter((w) => w !== "") : [k])).map(sameKeyAsWritten);
      // a would-be member whose key stellar.yaml writes with spaces around it: the key meant there
      // (that schema error is the one finding; fixing it leaves this rule right)
      const meant = new Set(miswrittenMembers(env).map((m) => m.recipient));
      const extra = [...new Set(keys)].filter((r) => !members.has(r) && !meant.has(r));
      const missing = env.members.filter((m) => !keys.includes(m.recipient));
      const fix =
        `stellar.yaml is the source of truth: the rule must name exactly ${env.name}'s members (${env.members.map((m) => m.name).join(", ") || "none"}); ` +
        `\`stellar-secrets rotate-key --env ${env.name}\`, run by an existing member, rewrites it (as \`members add\` and \`members rm\` do)`;
      // a later rule written for this file (its path_regex names the environment and matches it)
      // that the matched one shadows: the usual cause is the order (a catch-all added above it)
      const shadowed = config.rules.find((r) => r.index > rule.index && r.regex !== undefined && r.pathRegex?.includes(env.name) === true && r.regex.test(at(file)));
      const where = `creation rule ${rule.index + 1} of ${path}, which sops uses for ${file}`;
      const named = [
        ...extra.map((r) => {
          for (const e of project.environments) {
            const m = e.members.find((x) => x.recipient === r);
            if (m !== undefined) return `${r} (${m.name}, a member of ${e.name})`;
          }
          return `${r} (${miswrittenKeyOwner(project.environments, r) ?? "not a member of any environment"})`;
        }),
        ...rule.otherKeys.map((k) => `${k} keys`),
      ];
      if (shadowed !== undefined && (named.length > 0 || missing.length > 0)) {
        // the mistake is the order (a catch-all above the environment's own rule): one finding that
        // says which rule to move above which, an error when the rule sops uses gives a non-member access
        const wrong = [
          ...(named.length > 0 ? [`name ${named.join(", ")}, ${named.length === 1 ? "not a member" : "not members"} of ${env.name} (it would give them access)`] : []),
          ...(missing.length > 0 ? [`do not name ${missing.map((m) => `${m.name} (${m.recipient})`).join(", ")}, ${missing.length === 1 ? "a member" : "members"} of ${env.name} (it would not open for them)`] : []),
        ];
        out.push(
          diagnosticAt(
            "sops-config-drift",
            named.length > 0 ? "error" : "warning",
            path,
            config.lines,
            rule.range,
            `creation rule ${shadowed.index + 1} of ${path}, written for ${file}, is never used for it: sops takes the first rule whose path_regex matches, and rule ${rule.index + 1} matches it first; move rule ${shadowed.index + 1} above rule ${rule.index + 1}. ` +
              `Until then a file the plain sops CLI creates there is encrypted to rule ${rule.index + 1}'s keys, which ${wrong.join(", and ")}` +
              (aboveNote === undefined ? "" : `; ${aboveNote}`),
          ),
        );
        continue;
      }
      if (named.length > 0) {
        out.push(
          diagnosticAt(
            "sops-config-drift",
            "error",
            path,
            config.lines,
            rule.range,
            aboveNote === undefined
              ? `${where}, names ${named.join(", ")}, not a member of ${env.name}: anyone encrypting with the plain sops CLI would give them access; if a change added them there, revert it (never make them members to silence this); otherwise (e.g. they were removed as members), ${fix}`
              : `${where}, names ${named.join(", ")}, not a member of ${env.name}: anyone encrypting with the plain sops CLI would give them access; ${aboveNote} (never make them members to silence this)`,
          ),
        );
      }
      if (missing.length > 0) {
        out.push(
          diagnosticAt(
            "sops-config-drift",
            "warning",
            path,
            config.lines,
            rule.range,
            `${where}, does not name ${missing.map((m) => `${m.name} (${m.recipient})`).join(", ")}, a member of ${env.name}: a file the plain sops CLI creates would not open for them; ${fix}`,
          ),
        );
      }
    }
    // rules that match none of some environment files (a renamed secrets_dir, a new environment):
    // sops refuses to create or updatekeys them, and members rm and rotate-key cannot keep the rules in step
    // (only when a rule is meant for them: it names an environment or an .enc.yaml file; a
    // .sops.yaml whose rules are for other files, say a cluster's, is left alone)
    const meantForUs = config.rules.some((r) => r.pathRegex !== undefined && (/enc\\?\.ya?ml/.test(r.pathRegex) || project.environments.some((e) => r.pathRegex?.includes(e.name) === true)));
    if (meantForUs && unmatched.length > 0) {
      // (sops matches path_regex against the path relative to the .sops.yaml's folder)
      const dir = configDir(path);
      const first = unmatched[0] ?? "";
      const example = `(^|/)${(prefix === undefined ? (dir === "" ? first : first.slice(dir.length + 1)) : at(first)).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;
      out.push(
        diagnosticAt(
          "sops-config-drift",
          "warning",
          path,
          config.lines,
          config.rulesKeyRange ?? config.rules[0]?.range ?? { start: 0, end: 0 },
          `no creation rule of ${path} matches ${unmatched.join(", ")}: the plain sops CLI refuses to create or update ${unmatched.length === 1 ? "that file" : "those files"} ("no matching creation rules found"), and \`stellar-secrets members rm\` and \`rotate-key\` cannot keep the rules in step; add a rule per environment whose path_regex matches its file in secrets_dir "${secretsDir}" (as init writes them: path_regex: ${example}) listing that environment's members (\`members add\` into the environment, and the \`set\` that creates its file, add it)`,
        ),
      );
    }
  }
  return out;
}

/**
 * Updates a `.sops.yaml` text in place for the project's members (comments, other keys and
 * unrelated rules kept): for each environment, the rule sops picks for its file gets exactly the
 * environment's members as `age` (a comma-separated string, or a list when it was one;
 * in the single group of `key_groups`). When that rule also serves another environment with
 * different members, a rule for this environment alone is inserted before it. Environments with
 * no matching rule, and rules sops cannot read, are left alone (the checker reports them), except
 * those named in `options.addRulesFor` that have members: each gets a rule of its own at the end of
 * `creation_rules`, written as `init` writes one (`path_regex: (^|/)<secrets_dir>/<env>\.enc\.yaml$`
 * relative to the config's folder, `age:` its members comma-separated). No rule matched the file,
 * so where it goes changes no other file's rule. With `options.addOnly`, only those rules are
 * added: existing rules are left as they are (what the first `set` into an environment writes).
 * Returns the new text, or undefined when nothing changes or the text is not a readable config.
 */
export function updateSopsConfig(
  text: string,
  path: string,
  project: Pick<ProjectConfig, "environments" | "secretsDir">,
  options: { addRulesFor?: readonly string[]; addOnly?: boolean } = {},
): string | undefined {
  if (findExcessiveNesting(text) !== undefined) return undefined;
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0 || !isMap(doc.contents)) return undefined;
  const rulesNode = findPair(doc.contents, "creation_rules")?.value;
  if (!isSeq(rulesNode)) return undefined;
  const secretsDir = project.secretsDir.replace(/\/+$/, "");
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  let changed = false;
  for (const env of project.environments) {
    const config = parseSopsConfig(doc.toString({ lineWidth: 0 }), path);
    if (config.problem !== undefined) return undefined;
    const file = `${secretsDir}/${env.name}.enc.yaml`;
    const { rule } = matchSopsRule(config, file);
    const wanted = [...new Set(env.members.map((m) => m.recipient))];
    if (rule === undefined) {
      if (wanted.length === 0 || options.addRulesFor?.includes(env.name) !== true) continue;
      const rel = pathForConfig(path, file);
      const fresh = new YAMLMap();
      fresh.add(doc.createPair("path_regex", `(^|/)${escape(rel)}$`));
      fresh.add(doc.createPair("age", wanted.join(",")));
      rulesNode.flow = false; // (`creation_rules: []` becomes a block list)
      rulesNode.items.push(fresh);
      changed = true;
      continue;
    }
    if (options.addOnly === true) continue;
    if (wanted.length === 0 || sameSet(rule.age, wanted)) continue;
    const item = rulesNode.items[rule.index];
    if (!isMap(item)) continue;
    const shared = project.environments.some(
      (other) => other.name !== env.name && matchSopsRule(config, `${secretsDir}/${other.name}.enc.yaml`).rule === rule && !sameSet(other.members.map((m) => m.recipient), wanted),
    );
    if (shared) {
      const dir = configDir(path);
      const rel = dir === "" ? file : file.slice(dir.length + 1);
      const fresh = new YAMLMap();
      fresh.add(doc.createPair("path_regex", `(^|/)${escape(rel)}$`));
      fresh.add(doc.createPair("age", wanted.join(",")));
      rulesNode.items.splice(rule.index, 0, fresh);
      changed = true;
      continue;
    }
    if (rule.keyGroups) {
      const groups = findPair(item, "key_groups")?.value;
      if (!isSeq(groups) || groups.items.length !== 1 || !isMap(groups.items[0])) continue; // several groups (Shamir): left to a person
      detachAliases(doc, groups.items[0]); // (an alias elsewhere keeps what it named)
      setAge(doc, groups.items[0], wanted, true);
    } else {
      detachAliases(doc, item);
      setAge(doc, item, wanted, false);
    }
    changed = true;
  }
  return changed ? renderEditedDocument(doc, text) : undefined;
}

function setAge(doc: Document, map: YAMLMap, recipients: string[], asList: boolean): void {
  const pair = findPair(map, "age");
  const list = asList || isSeq(pair?.value);
  const value = list ? doc.createNode(recipients) : new Scalar(recipients.join(","));
  if (pair === undefined) map.set("age", value);
  else pair.value = value;
}

/**
 * An `AGE1…` recipient (all capitals, which bech32 allows and sops reads as the same key) in the
 * lower-case spelling stellar.yaml uses; any other entry as it is. Only the case: another encoding of
 * the same X25519 point (the top bit set) is another string to age, whose stanzas salt the key as
 * written, so the member's own client would not open them: that stays a different recipient here.
 */
export function sameKeyAsWritten(recipient: string): string {
  return recipient.startsWith("AGE1") && recipient === recipient.toUpperCase() ? recipient.toLowerCase() : recipient;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
}
