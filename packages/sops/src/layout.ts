/**
 * The repository layout, in one place: where stellar.yaml is, where the secrets folder is
 * (`secrets_dir`, default `secrets`), how an environment file is named (`<env>.enc.yaml`), the
 * name patterns of environments, members and secrets, and the size limit of each kind of file.
 * It lives in the envelope package (the lowest one) so that core, the CLI and the resolver, which
 * may depend on nothing else, all spell the layout the same way.
 */
import { isAlias, isMap, isScalar, parseDocument } from "yaml";
import { LineIndex, loneCrAsLf } from "./position.js";
import { excessiveNestingMessage, findExcessiveNesting } from "./yaml-depth.js";

/** The project file's name, at the repository root. */
export const PROJECT_FILE = "stellar.yaml";
/** Default `secrets_dir`. */
export const DEFAULT_SECRETS_DIR = "secrets";
/** The catalog's name, inside the secrets folder. */
export const CATALOG_FILE = "catalog.yaml";
/** What an environment file's name ends in: `<env>.enc.yaml`. */
export const ENVIRONMENT_FILE_SUFFIX = ".enc.yaml";

/**
 * Pattern of environment names (stellar.yaml `environments` keys): at most 64 characters, as
 * secret names (`<env>.enc.yaml` must stay a file name every file system and checkout accepts).
 */
export const ENVIRONMENT_NAME_PATTERN = "^[a-z][a-z0-9_-]{0,63}$";
/** Pattern of member names (stellar.yaml `members` keys). */
export const MEMBER_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._@-]*$";
/** Pattern of `secrets_dir`: a relative folder inside the repository (no `..`, not the root itself). */
/**
 * Pattern of a member's key: an age X25519 recipient, or an SSH ed25519 public key
 * (`ssh-ed25519 AAAA…`, 68 base64 characters, an optional comment after one space).
 */
export const MEMBER_KEY_PATTERN = "^(age1[02-9ac-hj-np-z]{58}|ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43}( [^\\r\\n]*)?)$";
export const SECRETS_DIR_PATTERN = "^(?!/)(?![A-Za-z]:)(?!(\\./*)+$)(?!.*(^|/)\\.\\.(/|$))[^\\\\]+$";
/** What a secret name must match. */
export const SECRET_NAME_PATTERN = /^[a-z][a-z0-9_]*$/;
/**
 * Names a runtime may ask for before they are looked up as `<name>.enc.yaml`: wider than
 * {@link ENVIRONMENT_NAME_PATTERN} (so a miscased `Production` is answered with the environments
 * that exist), but never a path (no `/`, no leading `.`).
 */
export const ENVIRONMENT_LOOKUP_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** The inbox of write-only proposals, inside the secrets folder: `<secrets_dir>/inbox/<env>/<name>.<id>.age`. */
export const INBOX_DIR = "inbox";
/** What a proposal file's name ends in. */
export const PROPOSAL_FILE_SUFFIX = ".age";
/** Largest proposal file read: 8 MiB (a proposal holds one value of at most 1 MiB, JSON-escaped, then base64 armored). */
export const MAX_PROPOSAL_FILE_BYTES = 8 * 1024 * 1024;

/** Largest secrets (environment) file read or written: 8 MiB (1,000 secrets take about 170 KB). */
export const MAX_SECRETS_FILE_BYTES = 8 * 1024 * 1024;
/** Largest config file (stellar.yaml, catalog, agent config) read: 8 MiB. */
export const MAX_CONFIG_FILE_BYTES = 8 * 1024 * 1024;

/** The file name of an environment's secrets file: `<env>.enc.yaml`. */
export function environmentFileName(environment: string): string {
  return `${environment}${ENVIRONMENT_FILE_SUFFIX}`;
}

/**
 * The environment a file name (no folder) is for: `<env>` of `<env>.enc.yaml`, else undefined.
 * Any name before the suffix counts (whether it is a declared or valid environment is the
 * checker's business).
 */
export function environmentOfFileName(fileName: string): string | undefined {
  if (!fileName.endsWith(ENVIRONMENT_FILE_SUFFIX) || fileName.includes("/")) return undefined;
  const environment = fileName.slice(0, -ENVIRONMENT_FILE_SUFFIX.length);
  return environment === "" ? undefined : environment;
}

/** The file name of a proposal for `name` with id `id`: `<name>.<id>.age`. */
export function proposalFileName(name: string, id: string): string {
  return `${name}.${id}${PROPOSAL_FILE_SUFFIX}`;
}

/**
 * The parts of a path inside the secrets folder that lies in the inbox: `inbox/<env>/<name>.<id>.age`
 * gives `{ environment, name, id }`; another path in the inbox gives `{ environment?, name: undefined }`
 * (a file that is no proposal); a path outside the inbox gives undefined. Whether the environment
 * is declared and the name valid is the checker's business.
 */
export function proposalOfPath(pathInSecretsDir: string): { environment: string | undefined; name: string | undefined; id: string | undefined } | undefined {
  const parts = pathInSecretsDir.split("/");
  if (parts[0] !== INBOX_DIR || parts.length < 2) return undefined;
  if (parts.length !== 3) return { environment: undefined, name: undefined, id: undefined };
  const m = /^([^.]+)\.([0-9a-z]+)\.age$/.exec(parts[2] as string);
  return { environment: parts[1], name: m?.[1], id: m?.[2] };
}

/**
 * `secrets_dir` as written, normalized segment by segment: `/` separators, no empty segment (a
 * leading, trailing or doubled `/`) and no `.` segment anywhere (`./secrets`, `secrets/.`,
 * `secrets//`, `secrets/./x/` are `secrets` and `secrets/x`), so every reader (core, the
 * resolver, review, the CLI) names one folder one way; the default when it normalizes to
 * nothing. A `..` segment is kept as written: {@link SECRETS_DIR_PATTERN} refuses it. Does not
 * validate it.
 */
export function normalizeSecretsDir(value: string): string {
  return (
    value
      .replace(/\\/g, "/")
      .split("/")
      .filter((segment) => segment !== "" && segment !== ".")
      .join("/") || DEFAULT_SECRETS_DIR
  );
}

/** What {@link readSecretsDir} found. */
export type SecretsDirResult =
  | { ok: true; secretsDir: string }
  | { ok: false; reason: "invalid-yaml" | "invalid-secrets-dir"; message: string; line: number };

/**
 * The secrets folder a stellar.yaml text names (normalized), or the default when it names none
 * (or is not a mapping). A text that is not YAML, or a `secrets_dir` that is not a string or
 * leaves the repository, is an error result with its 1-based line, never a guess. This reads only
 * `secrets_dir`: validating the rest of the file is core's job.
 */
export function readSecretsDir(original: string): SecretsDirResult {
  const projectText = loneCrAsLf(original); // a lone CR ends a line, as in YAML and core's reader (same offsets)
  const tooDeep = findExcessiveNesting(projectText);
  if (tooDeep !== undefined) return { ok: false, reason: "invalid-yaml", message: excessiveNestingMessage(tooDeep), line: tooDeep.line };
  const doc = parseDocument(projectText, { prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    return { ok: false, reason: "invalid-yaml", message: e.message.split("\n")[0]!.trim(), line: new LineIndex(projectText).positionAt(e.pos[0]).line };
  }
  const root = doc.contents;
  if (!isMap(root)) return { ok: true, secretsDir: DEFAULT_SECRETS_DIR };
  // a key written as an alias (`&k secrets_dir: secrets`, then `*k : vault`) is the field to core's
  // reader (the later one winning) but not to a person reading the file: refused, never guessed
  const lineIndex = new LineIndex(projectText);
  for (const p of root.items) {
    // a merge key (`<<: { secrets_dir: vault }` in a YAML 1.1 file) brings fields in for core's
    // reader and not for a person or for the lookup below: refused, never guessed (s24 newattack)
    if (isScalar(p.key) && typeof p.key.value === "symbol") {
      return { ok: false, reason: "invalid-secrets-dir", message: "stellar.yaml has a merge key (<<) at its top, which can bring in secrets_dir unseen; write the fields themselves", line: lineIndex.positionAt(p.key.range?.[0] ?? 0).line };
    }
    if (!isAlias(p.key)) continue;
    const named = p.key.resolve(doc);
    if (isScalar(named) && named.value === "secrets_dir") {
      return { ok: false, reason: "invalid-secrets-dir", message: `secrets_dir is written as an alias key (${p.key.toString()}); write the field's name, once`, line: lineIndex.positionAt(p.key.range?.[0] ?? 0).line };
    }
  }
  const pair = root.items.find((p) => isScalar(p.key) && p.key.value === "secrets_dir");
  if (pair === undefined) return { ok: true, secretsDir: DEFAULT_SECRETS_DIR };
  // an alias (`secrets_dir: *dir`) names the scalar it points to, as core's reader (and any YAML reader) takes it
  const value = isAlias(pair.value) ? pair.value.resolve(doc) : pair.value;
  const line = lineIndex.positionAt((isScalar(pair.key) ? pair.key.range?.[0] : undefined) ?? 0).line;
  if (!isScalar(value) || typeof value.value !== "string") {
    return { ok: false, reason: "invalid-secrets-dir", message: "secrets_dir must be a string (a folder relative to stellar.yaml)", line };
  }
  if (!new RegExp(SECRETS_DIR_PATTERN, "u").test(value.value)) {
    return { ok: false, reason: "invalid-secrets-dir", message: "secrets_dir must be a folder inside the repository, relative to stellar.yaml (no .., not the root itself)", line };
  }
  return { ok: true, secretsDir: normalizeSecretsDir(value.value) };
}

/**
 * Each environment's member keys as a stellar.yaml text lists them (`environments.<env>.members`:
 * name -> key; age keys lower-cased, as bech32 reads them either way; SSH keys as written), for
 * the resolver's test that a file is not another environment's. Undefined when the text is not
 * plain YAML the lookup is sure of (a parse error, a merge key, an alias, a key that is not a
 * string, no `environments` mapping): the caller then proves nothing. Never throws.
 */
export function readEnvironmentMembers(original: string): Map<string, Set<string>> | undefined {
  try {
    const projectText = loneCrAsLf(original);
    if (findExcessiveNesting(projectText) !== undefined || projectText.includes("<<")) return undefined;
    const doc = parseDocument(projectText, { prettyErrors: false });
    if (doc.errors.length > 0 || !isMap(doc.contents)) return undefined;
    const environments = doc.contents.items.find((p) => isScalar(p.key) && p.key.value === "environments")?.value;
    if (!isMap(environments)) return undefined;
    const out = new Map<string, Set<string>>();
    for (const env of environments.items) {
      if (!isScalar(env.key) || typeof env.key.value !== "string") return undefined;
      const keys = new Set<string>();
      if (env.value !== null && env.value !== undefined && !(isScalar(env.value) && env.value.value === null)) {
        if (!isMap(env.value)) return undefined;
        const members = env.value.items.find((p) => isScalar(p.key) && p.key.value === "members")?.value;
        if (members !== undefined && members !== null && !(isScalar(members) && members.value === null)) {
          if (!isMap(members)) return undefined;
          for (const m of members.items) {
            if (!isScalar(m.value) || typeof m.value.value !== "string") return undefined;
            const key = m.value.value.trim();
            keys.add(key.toLowerCase().startsWith("age1") ? key.toLowerCase() : key);
          }
        }
      }
      out.set(env.key.value, keys);
    }
    return out;
  } catch {
    return undefined;
  }
}
