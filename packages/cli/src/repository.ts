/**
 * The secrets repository as commands see it: the project config, the environments a command
 * works on, the identities of the person running it, and the per-environment files read without
 * keys. A thin adapter over `@stellar-secrets/core` and `@stellar-secrets/sops`.
 */
// fs.promises (node:fs/promises) is read on first use: `check` starts without loading it
import { existsSync, promises as fsp, readFileSync } from "node:fs";
import { homedir } from "node:os";
import {
  catalogPath,
  findProjectRoot,
  loadProject,
  matchSopsRule,
  parseCatalog,
  parseSopsConfig,
  parseProjectConfig,
  renderSopsConfig,
  SOPS_CONFIG_FILE,
  sopsConfigCandidates,
  updateSopsConfig,
  secretsFilePath,
  shellPathWord,
  type CatalogEntry,
  type EnvironmentConfig,
  type ProjectConfig,
} from "@stellar-secrets/core";
import { didYouMeanName, unknownSecretHint } from "./suggest.js";
import {
  ALLOW_OUTSIDE_LINKS_VARIABLE,
  decodeUtf8,
  decryptSecrets,
  defaultKeyFilePath,
  findIdentities,
  identityToRecipient,
  isSopsError,
  refuseForeignKeys,
  parseSecretsFile,
  readRegularFileSync,
  withFileLock,
  writeFileAtomic,
  type DecryptCache,
  type DecryptedSecrets,
  type Identities,
  type SecretsFile,
} from "@stellar-secrets/sops";
import { dirname, isAbsolute, join, relative } from "node:path";
import type { CommandContext } from "./command.js";
import { CliError } from "./errors.js";
import { humanList } from "./format.js";
import { outsideSparseCheckout, outsideSparseCheckoutError } from "./sparse.js";

/** Loads `stellar.yaml` from the command's directory or a parent. Throws `NO_PROJECT` / `INVALID_CONFIG`. */
export function openProject(ctx: CommandContext): Promise<ProjectConfig> {
  return loadProject(ctx.cwd, undefined, { allowOutsideLinks: allowOutsideLinks(ctx) });
}

/** True when the person allowed symbolic links that leave the repository (`STELLAR_SECRETS_ALLOW_OUTSIDE_LINKS=1`). */
export function allowOutsideLinks(ctx: CommandContext): boolean {
  return ctx.env[ALLOW_OUTSIDE_LINKS_VARIABLE] === "1";
}

/**
 * The environments named in `names` (in the project's declared order), or every environment
 * when `names` is empty and `all` is true. Throws `CliError("UNKNOWN_ENVIRONMENT")` naming the
 * declared ones, or `CliError("USAGE")` when none was named and `all` is false.
 */
export function selectEnvironments(config: ProjectConfig, names: string[], options: { all: boolean; flag?: string }): EnvironmentConfig[] {
  if (names.length === 0) {
    if (options.all) return [...config.environments];
    throw new CliError("USAGE", `${options.flag ?? "--env"} is required`, {
      hint: `name one or more environments: ${config.environments.map((e) => e.name).join(", ")}`,
    });
  }
  for (const name of names) {
    if (!config.environments.some((e) => e.name === name)) {
      const declared = config.environments.map((e) => e.name);
      const near = didYouMeanName(name, declared);
      throw new CliError("UNKNOWN_ENVIRONMENT", `environment "${name}" is not declared in ${config.configPath}`, {
        hint: `the environments are: ${declared.join(", ")}${near === undefined ? "" : `; ${near}`}`,
      });
    }
  }
  return config.environments.filter((e) => names.includes(e.name));
}

/**
 * The one environment `names` (the `--env` values of `command`) names: `USAGE` when none
 * (`--env is required`) or several (`give exactly one --env`) are given, with the declared
 * environments in the hint; `UNKNOWN_ENVIRONMENT` as {@link selectEnvironments}.
 */
export function selectOneEnvironment(config: ProjectConfig, names: string[], command: string): EnvironmentConfig {
  if (names.length !== 1) {
    throw new CliError("USAGE", names.length === 0 ? `${command}: --env is required` : `${command}: give exactly one --env`, {
      hint: `name one environment: ${config.environments.map((e) => e.name).join(", ")}`,
    });
  }
  return selectEnvironments(config, names, { all: false })[0] as EnvironmentConfig;
}

/** The age recipients configured for `env`, without duplicates, in member order. */
export function recipientsOf(env: EnvironmentConfig): string[] {
  return [...new Set(env.members.map((m) => m.recipient))];
}

/** The age identities of the person running the command, found the way sops finds them. */
export function identitiesFor(ctx: CommandContext): Identities {
  return findIdentities({ env: ctx.env, home: homeOf(ctx) });
}

/**
 * The age tools' way to make the key the sops default key file holds, for a hint:
 * `mkdir -p ~/.config/sops/age && age-keygen -o ~/.config/sops/age/keys.txt` (the folder first:
 * age-keygen does not create it, and on a fresh machine it does not exist). The path is the one
 * sops reads (`$XDG_CONFIG_HOME` when set), written with `~` when it is under `$HOME`, quoted when
 * a shell would split it.
 */
export function ageKeygenCommand(ctx: CommandContext): string {
  const home = homeOf(ctx);
  const file = defaultKeyFilePath({ env: ctx.env, home });
  const word = (path: string): string => {
    const under = home !== "/" && path.startsWith(`${home}/`) ? path.slice(home.length + 1) : undefined;
    if (under !== undefined && /^[A-Za-z0-9_./@+-]+$/.test(under)) return `~/${under}`;
    return shellPathWord(path);
  };
  return `mkdir -p ${word(dirname(file))} && age-keygen -o ${word(file)}`;
}

/**
 * The first problem of a key source that was meant to give a key, as a sentence for a hint:
 * `SOPS_AGE_KEY_FILE` or `SOPS_AGE_SSH_PRIVATE_KEY_FILE` set to a file not found, unreadable, a
 * folder, no key, or a key where the path belongs; or the sops default key file `defaultFile`
 * there but unreadable or not a key file (its absence is no problem). Undefined when there is none.
 * A key file that gives nothing is a typo or a permission to fix, which the other sources would
 * otherwise hide; never key material (the problems hold none).
 */
export function keySourceProblem(identities: Identities, defaultFile: string): string | undefined {
  for (const p of identities.problems ?? []) {
    const variable = /^(SOPS_AGE_KEY_FILE|SOPS_AGE_SSH_PRIVATE_KEY_FILE)[= ]/.exec(p)?.[1];
    if (variable !== undefined) return p.includes("holds a private key") ? p : `${p}: point ${variable} at your key file, or unset it`;
    if (p.startsWith(`${defaultFile}:`)) {
      const fix = /cannot read \((EACCES|EPERM)\)/.test(p) ? `make it readable by you (\`chmod 600 ${shellPathWord(defaultFile)}\`, as its owner)` : "it must hold your age key (AGE-SECRET-KEY-1… lines, as `stellar-secrets keygen` or age-keygen write it)";
      return `the sops key file cannot be used: ${p}; ${fix}`;
    }
  }
  return undefined;
}

/** {@link keySourceProblem} of the identities of `ctx`, found as sops finds them. */
export function ownKeySourceProblem(ctx: CommandContext, identities: Identities = identitiesFor(ctx)): string | undefined {
  return keySourceProblem(identities, defaultKeyFilePath({ env: ctx.env, home: homeOf(ctx) }));
}

/** The home directory for `ctx` (`$HOME`, else the OS's). */
export function homeOf(ctx: CommandContext): string {
  const home = ctx.env.HOME;
  return home !== undefined && home !== "" ? home : homedir();
}

/** One environment's file as read without keys; `file` is undefined when it does not exist yet. */
export interface EnvironmentFile {
  env: EnvironmentConfig;
  path: string;
  file: SecretsFile | undefined;
}

/**
 * Reads (without decrypting) the file of each environment in `envs`. Missing files are `file: undefined`.
 * With `cache` (`set`'s check before it decrypts), the last parse is kept there for the
 * decryption that follows (`decryptEnvironment` with the same cache).
 */
export async function readEnvironmentFiles(config: ProjectConfig, envs: EnvironmentConfig[], cache?: DecryptCache): Promise<EnvironmentFile[]> {
  return Promise.all(
    envs.map(async (env) => {
      const path = secretsFilePath(config, env.name);
      if (!existsSync(path)) return { env, path, file: undefined };
      // sops' readSecretsFile, synchronously (a command's start does not load node:fs/promises
      // for a few files): a regular file, strict UTF-8 and the size limit, then the parse (through the cache)
      const text = decodeUtf8(readRegularFileSync(path), { path });
      return { env, path, file: cache === undefined ? parseSecretsFile(text, { path }) : cache.parse(text, { path }) };
    }),
  );
}

/** An environment whose file exists but cannot be read without keys: the coded error its read threw. */
export interface UnreadableEnvironmentFile {
  env: EnvironmentConfig;
  path: string;
  /** A `SopsError` (MALFORMED_FILE for git conflict markers, …): what, where (file:line) and how to fix. */
  error: Error & { code: string; hint?: string };
}

/**
 * {@link readEnvironmentFiles}, one file at a time: a file that cannot be read (git conflict
 * markers, no SOPS metadata, not UTF-8, …: a `SopsError`) is reported in `unreadable` instead of
 * failing the others, as `check` reports files one by one. Keyless listings (`list`,
 * `members list`) show the readable environments and report the others. Other errors are thrown.
 */
export async function readEnvironmentFilesEach(config: ProjectConfig, envs: EnvironmentConfig[]): Promise<{ files: EnvironmentFile[]; unreadable: UnreadableEnvironmentFile[] }> {
  const files: EnvironmentFile[] = [];
  const unreadable: UnreadableEnvironmentFile[] = [];
  for (const env of envs) {
    try {
      files.push(...(await readEnvironmentFiles(config, [env])));
    } catch (error) {
      if (!isSopsError(error)) throw error;
      unreadable.push({ env, path: secretsFilePath(config, env.name), error });
    }
  }
  return { files, unreadable };
}

/** The names that have an entry in `file` (in file order). */
export function namesIn(file: SecretsFile | undefined): string[] {
  return file === undefined ? [] : file.entries.map((e) => e.name);
}

/** Reads the catalog (`<secrets_dir>/catalog.yaml`); an absent file is an empty catalog. */
export async function readCatalog(config: ProjectConfig): Promise<{ path: string; text: string; entries: Map<string, CatalogEntry> }> {
  const path = catalogPath(config);
  let text = "";
  try {
    text = readFileSync(path, "utf8"); // (synchronously: a small file, and list's start does not load node:fs/promises)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const { entries } = parseCatalog(text, path);
  return { path, text, entries };
}

/**
 * The project config `text` would be as the new stellar.yaml of `config`; `INVALID_CONFIG` naming
 * its first error when it is not valid. A command that writes environment files before stellar.yaml
 * (members add, approve) calls it first, so that a stellar.yaml it cannot write leaves every file as it was.
 */
export function validProjectConfig(config: ProjectConfig, text: string): ProjectConfig {
  const { config: next, diagnostics } = parseProjectConfig(text, config.configPath);
  if (next === undefined || diagnostics.some((d) => d.severity === "error")) {
    const first = diagnostics.find((d) => d.severity === "error");
    throw new CliError("INVALID_CONFIG", `the updated ${config.configPath} would not be valid${first ? `: ${first.message}` : ""}`);
  }
  return next;
}

/**
 * Writes a new `stellar.yaml` text, then brings `.sops.yaml` in step with its members, both
 * atomically: each `.sops.yaml` sops may use for the secrets files (the root's, and those of the
 * folders down to the secrets folder) is updated in place (comments and unrelated rules kept;
 * see core's `updateSopsConfig`); a missing root `.sops.yaml` is generated. `syncSops: false`
 * writes stellar.yaml only (a change that cannot concern the recipients, e.g. an access request).
 * `addRulesFor`: those environments get a creation rule of their own where none matches their file
 * (an environment added to stellar.yaml by hand; see {@link syncSopsConfigs}).
 * Returns the new config and the `.sops.yaml` files written (relative to the root; none when no
 * rule changed, e.g. a rule with several `key_groups`, which is left to a person).
 * Throws `CliError("INVALID_CONFIG")` when the new text does not parse (nothing is written then).
 */
export async function writeProjectConfig(
  config: ProjectConfig,
  text: string,
  options: { syncSops?: boolean; addRulesFor?: readonly string[] } = {},
): Promise<{ config: ProjectConfig; sopsConfigsWritten: string[] }> {
  const next = validProjectConfig(config, text);
  await writeFileAtomic(config.configPath, text);
  const sopsConfigsWritten = options.syncSops !== false ? await syncSopsConfigs(next, { create: true, ...(options.addRulesFor === undefined ? {} : { addRulesFor: options.addRulesFor }) }) : [];
  return { config: next, sopsConfigsWritten };
}

/**
 * The first `.sops.yaml` (of those sops may use for the secrets files, root first) whose creation
 * rule for `env`'s file splits a data key into several key groups (sops Shamir secret sharing), with
 * the rule's groups and how many are needed; undefined when none does. stellar-secrets never splits
 * a data key: a file it creates for such an environment would open for each member alone.
 */
export async function keyGroupsRuleFor(config: ProjectConfig, env: string): Promise<{ file: string; rule: number; groups: number; needed: number } | undefined> {
  const file = relative(config.root, secretsFilePath(config, env)).split("\\").join("/");
  for (const rel of sopsConfigCandidates(config.secretsDir)) {
    let text: string;
    try {
      text = await fsp.readFile(join(config.root, rel), "utf8");
    } catch {
      continue; // absent (or unreadable: the checker reports it)
    }
    const rule = matchSopsRule(parseSopsConfig(text, rel), file).rule;
    const groups = (rule?.groups ?? []).filter((g) => g.length > 0).length;
    if (rule !== undefined && rule.keyGroups && groups > 1) return { file: rel, rule: rule.index + 1, groups, needed: Math.min(rule.shamirThreshold ?? groups, groups) };
  }
  return undefined;
}

/**
 * Updates every existing `.sops.yaml` for the project's members (when `create`, also generates
 * the root one when it is missing). The environments in `addRulesFor` that have members and that
 * no rule of a config matches get a rule there, as `init` writes one (core's `updateSopsConfig`):
 * what the first `set` into an environment added to stellar.yaml by hand, and `members add` into
 * one, pass, so plain sops users can edit its file; with `addOnly` (set) nothing else is changed. Returns the paths written, relative to the root.
 */
export async function syncSopsConfigs(config: ProjectConfig, options: { create?: boolean; addRulesFor?: readonly string[]; addOnly?: boolean } = {}): Promise<string[]> {
  const written: string[] = [];
  for (const rel of sopsConfigCandidates(config.secretsDir)) {
    const path = join(config.root, rel);
    let text: string;
    try {
      text = await fsp.readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      if (rel === SOPS_CONFIG_FILE && options.create === true) {
        await writeFileAtomic(path, renderSopsConfig(config));
        written.push(rel);
      }
      continue;
    }
    const next = updateSopsConfig(text, rel, config, { ...(options.addRulesFor === undefined ? {} : { addRulesFor: options.addRulesFor }), ...(options.addOnly === true ? { addOnly: true } : {}) });
    if (next !== undefined) {
      await writeFileAtomic(path, next);
      written.push(rel);
    }
  }
  return written;
}

/**
 * Reads and decrypts one environment's file (verifying the MAC). Throws `CliError("NOT_FOUND")`
 * when the file does not exist, and the sops errors (`NO_IDENTITY`, `NO_MATCHING_IDENTITY`,
 * `MAC_MISMATCH`, ...) otherwise.
 */
export async function decryptEnvironment(ctx: CommandContext, config: ProjectConfig, env: EnvironmentConfig, options: { cache?: DecryptCache } = {}): Promise<DecryptedSecrets> {
  const path = secretsFilePath(config, env.name);
  let bytes: Buffer;
  try {
    // a regular file only: a FIFO or a directory there is NOT_A_FILE, never a hang or a raw EISDIR
    bytes = readRegularFileSync(path);
  } catch (error) {
    if (((error as { cause?: NodeJS.ErrnoException }).cause as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
      const skipped = await outsideSparseCheckout(ctx, config.root, [path]);
      if (skipped.length > 0) throw outsideSparseCheckoutError(skipped, `environment "${env.name}" cannot be read here`);
      throw new CliError("NOT_FOUND", `environment "${env.name}" has no secrets file (${path})`, {
        // a file deleted by mistake (rm, a bad checkout) is more likely than an environment never written to
        hint: `create it by setting a value: stellar-secrets set NAME --env ${env.name}; if it was there before, \`git checkout HEAD -- ${shellPathWord(relative(ctx.cwd, path) || path)}\` brings back its committed version`,
        cause: error,
      });
    }
    throw error;
  }
  // strict UTF-8 and the size limit, as every other reader of secrets files (INVALID_UTF8, FILE_TOO_LARGE)
  const identities = identitiesFor(ctx);
  // SOPS_AGE_KEY_FILE (or the ssh one, or the sops key file) giving no key: said first in a hint, and
  // warned about when another source decrypted (else the typo stays hidden until that key is gone)
  const named = ownKeySourceProblem(ctx, identities);
  let secrets: DecryptedSecrets;
  try {
    secrets = await decryptSecrets(decodeUtf8(bytes, { path }), identities, { path, ...(options.cache === undefined ? {} : { cache: options.cache }) });
  } catch (error) {
    // a key-groups file (sops Shamir): you may hold a key of a group, just not of enough groups; the sops message says which
    if (isSopsError(error, "NO_MATCHING_IDENTITY") && error.reason !== "too-few-key-groups") {
      const e = await notAMember(ctx, config, env, identities, error);
      if (named === undefined) throw e;
      throw new CliError("NO_MATCHING_IDENTITY", e.message, { hint: `${named}; ${e.hint ?? ""}`, cause: error });
    }
    if (isSopsError(error, "NO_IDENTITY")) {
      // no key at all, typically a newcomer's fresh clone: how to get one and ask, then where keys are looked for
      // a sops user whose key comes from SOPS_AGE_KEY_CMD has one: that comes first, before keygen;
      // a key file named in SOPS_AGE_KEY_FILE that is not there is a path to fix, not a key to make
      const command = identities.problems?.find((p) => /^SOPS_AGE_(SSH_PRIVATE_)?KEY_CMD is set/.test(p));
      const first = [command, named].filter((t) => t !== undefined).map((t) => `${t}; `).join("");
      throw new CliError("NO_IDENTITY", error.message, {
        hint: `${first}no key yet: \`stellar-secrets keygen\` makes one, then \`stellar-secrets request-access --env ${env.name}\` asks for access in a pull request; a key you already have: ${error.hint ?? "set SOPS_AGE_KEY_FILE to its file"}`,
        cause: error,
      });
    }
    throw error;
  }
  if (named !== undefined && !warnedKeySource.has(ctx)) {
    warnedKeySource.add(ctx);
    ctx.stderr.write(`warning: ${named} (another of your keys decrypted ${relativePath(ctx, path)})\n`);
  }
  return secrets;
}

/** The contexts already warned about a named key source that gives no key (once per command, not per environment). */
const warnedKeySource = new WeakSet<CommandContext>();

/** The placeholder {@link nameForKeys} gives when it cannot tell your name (it reads well in a command to copy). */
const UNKNOWN_NAME = "NAME";

/**
 * The name to call the holder of `keys` (public keys): the member name one of them has in any
 * environment of `config`, else the name of a pending request for one, else `user` when it is a
 * valid member name, else the placeholder `NAME`.
 */
export function nameForKeys(config: ProjectConfig, keys: readonly string[], user: string | undefined): string {
  for (const env of config.environments) {
    const known = env.members.find((m) => keys.includes(m.recipient));
    if (known !== undefined) return known.name;
  }
  for (const env of config.environments) {
    const asked = env.pending?.find((p) => keys.includes(p.recipient));
    if (asked !== undefined) return asked.name;
  }
  return user !== undefined && MEMBER_NAME.test(user) ? user : UNKNOWN_NAME;
}

/**
 * "you (NAME, KEY…)" as the NO_MATCHING_IDENTITY message says it: your member name when it is
 * known (never the placeholder of {@link nameForKeys}, which belongs in a command, not in a
 * sentence about you), then your public keys; just "you" when neither is known.
 */
export function youAre(name: string, keys: readonly string[]): string {
  const parts = [...(name === UNKNOWN_NAME ? [] : [name]), ...keys];
  return parts.length > 0 ? `you (${parts.join(", ")})` : "you";
}

const MEMBER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]*$/;

/**
 * The hint of NO_MATCHING_IDENTITY for `env`: a pending request of one of `keys` waits for a
 * member's approval; otherwise ask in a pull request (`request-access`), or have a member add the
 * key. Ends with where keys were looked for (`sources`). Public keys only.
 */
export function notAMemberHint(env: EnvironmentConfig, keys: readonly string[], name: string, sources: readonly string[]): string {
  const looked = `your keys were looked for in: ${sources.join("; ")}`;
  const pending = env.pending?.find((p) => keys.includes(p.recipient));
  if (pending !== undefined) {
    return `your access request (${pending.name}) for ${env.name} is pending: it grants nothing until a member approves it with \`stellar-secrets members approve ${pending.name} --env ${env.name}\` and you pull that commit; ${looked}`;
  }
  const add = `\`stellar-secrets members add ${name} ${keys[0] ?? "<your public key>"} --env ${env.name}\`${keys.length === 0 ? " (your public key: `age-keygen -y` of your key file)" : ""}`;
  return `ask for access in a pull request: \`stellar-secrets request-access --env ${env.name}\` (a member of ${env.name} approves it), or ask one of them to run ${add}; then pull their commit; ${looked}`;
}

/**
 * The NO_MATCHING_IDENTITY error spoken to the person: who they are (`$USER` and their public
 * keys), that they are not a member of the environment, who is, and the exact command a member
 * runs to add them. Paths relative to the working directory. Never includes key material.
 */
async function notAMember(ctx: CommandContext, config: ProjectConfig, env: EnvironmentConfig, identities: Identities, cause: unknown): Promise<CliError> {
  const keys: string[] = [];
  for (const id of identities.identities) {
    try {
      if (id.startsWith("AGE-SECRET-KEY-1")) keys.push(await identityToRecipient(id));
    } catch {
      // an identity that does not parse has no public key to show
    }
  }
  const name = nameForKeys(config, keys, ctx.env.USER ?? ctx.env.LOGNAME);
  const who = youAre(name, keys);
  const members = env.members.map((m) => `${m.name} (${m.recipient})`);
  const file = relativePath(ctx, secretsFilePath(config, env.name));
  return new CliError(
    "NO_MATCHING_IDENTITY",
    `${who} are not a member of ${env.name}: none of your keys can decrypt ${file}; its members are ${members.length > 0 ? humanList(members) : "nobody yet"}`,
    {
      hint: notAMemberHint(env, keys, name, identities.sources),
      cause,
    },
  );
}

/** `path` relative to the command's working directory when it is inside it, else as given. */
export function relativePath(ctx: CommandContext, path: string): string {
  const r = relative(ctx.cwd, path);
  return r !== "" && !r.startsWith("..") && !isAbsolute(r) ? r : path;
}

/**
 * The `CliError("UNKNOWN_SECRET")` for `name` missing from `env`, saying where it is set instead,
 * or, set nowhere, which of the `known` names (of every environment) was probably meant.
 */
export function unknownSecret(name: string, env: string, setIn: string[], known: Iterable<string> = []): CliError {
  return new CliError("UNKNOWN_SECRET", `secret "${name}" has no value in ${env}`, {
    hint: unknownSecretHint(name, setIn, known),
  });
}

/** The directory holding stellar.yaml at or above `cwd`, or undefined (never throws). */
export function findProjectRootSafe(cwd: string): string | undefined {
  try {
    return findProjectRoot(cwd);
  } catch {
    return undefined;
  }
}

/**
 * Decrypts (and verifies) each existing file of `files` before anything is written, so that a
 * command touching several environments fails before its first write rather than halfway.
 * With `cache`, what it verified is kept there for the write that follows (`editSecretsFile`'s
 * `cache`: no second decryption of the unchanged values), data keys included: the caller drops
 * the cache when done; without, each data key is zeroed at once.
 * Throws the sops errors (`NO_MATCHING_IDENTITY`, `MAC_MISMATCH`, ...).
 */
export async function assertCanDecrypt(ctx: CommandContext, config: ProjectConfig, files: readonly EnvironmentFile[], cache?: DecryptCache, options: { rekey?: boolean } = {}): Promise<void> {
  for (const f of files) {
    if (f.file === undefined) continue;
    const decrypted = await decryptEnvironment(ctx, config, f.env, cache === undefined ? {} : { cache });
    try {
      // a command that re-wraps or rotates every file (members add/rm, rotate-key) refuses one it
      // cannot rewrite (pgp/kms keys, sops key groups) before it writes any: never half the environments
      if (options.rekey === true) refuseForeignKeys(decrypted);
    } finally {
      if (cache === undefined) decrypted.dataKey.fill(0);
    }
  }
}

/**
 * Runs `fn` holding the lock on stellar.yaml, with the project loaded inside the lock, so that
 * concurrent member changes apply one after the other instead of losing one.
 */
export async function withProjectLock<T>(ctx: CommandContext, fn: (config: ProjectConfig) => Promise<T>): Promise<T> {
  const first = await openProject(ctx);
  return withFileLock(first.configPath, async () => fn(await openProject(ctx)));
}

/** Rewrites the catalog under its lock: `change` gets the current text and returns the new one. */
export async function updateCatalog(config: ProjectConfig, change: (text: string) => string): Promise<string> {
  const path = catalogPath(config);
  await withFileLock(path, async () => {
    const { text } = await readCatalog(config);
    await writeFileAtomic(path, change(text));
  });
  return path;
}
