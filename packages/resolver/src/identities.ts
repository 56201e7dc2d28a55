import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { defaultKeyFilePath, keyPathSource, looksLikeKeyMaterial, parseIdentityFile, type Identities } from "@stellar-secrets/sops";

/** Where {@link findResolverIdentities} looks, passed in so tests need no real environment. */
export interface IdentityLookupOptions {
  /** Identities given by the caller: the text of an age key file, or a list of `AGE-SECRET-KEY-1…` strings. */
  identities?: string | readonly string[];
  /**
   * Also try the sops default key file (`$XDG_CONFIG_HOME/sops/age/keys.txt`, else
   * `~/.config/sops/age/keys.txt`) when no other source is set. Off by default: a deployed
   * runtime should say where its key is.
   */
  useSopsKeyFile?: boolean;
  /** Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Home folder for the sops default key file; defaults to `os.homedir()`. */
  home?: string;
  /**
   * The folder a relative `SOPS_AGE_KEY_FILE` is read from; defaults to the current directory at
   * each call. The resolver passes the current directory of `createResolver`, so that a
   * `reload()` after `process.chdir` reads the same key file.
   */
  cwd?: string;
}

/** Identities plus the sources that were set but skipped, for error messages. */
export interface ResolverIdentities extends Identities {
  /** Human descriptions of every place looked at, in order, including those not used. */
  searched: string[];
  /**
   * True when the keys came from a key file that is not a regular file: a pipe
   * (`SOPS_AGE_KEY_FILE=<(vault read …)`, `/dev/fd/3`), a FIFO or a device, which a second read
   * finds empty or blocks on. The resolver keeps such keys for every `reload()` instead of reading
   * the source again.
   */
  readOnce?: boolean;
}

/**
 * Finds the age identities for the resolver: the first source that is set wins, in this order:
 * the `identities` argument, `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, and (only with
 * `useSopsKeyFile`) the sops default key file. Never runs a command (`SOPS_AGE_KEY_CMD` is
 * ignored) and never reads SSH keys. A set source that yields no key is returned as an empty
 * list, so the caller reports `NO_IDENTITY` with `searched`; a later source is not consulted
 * (one source, chosen deterministically).
 *
 * Never throws: an unreadable or unparsable source becomes a note in `searched` and yields no key.
 */
export function findResolverIdentities(options: IdentityLookupOptions = {}): ResolverIdentities {
  const env = options.env ?? process.env;
  const searched: string[] = [];
  const result = (identities: string[], source: string): ResolverIdentities => ({
    identities,
    sources: [source],
    searched,
  });

  if (options.identities !== undefined) {
    const given = options.identities;
    const source = "the identities option of createResolver";
    searched.push(source);
    const keys = typeof given === "string" ? safeParse(given, source, searched) : given.flatMap((k) => safeParse(k, source, searched));
    return result(keys, source);
  }
  searched.push("the identities option of createResolver (not given)");

  const inline = env["SOPS_AGE_KEY"];
  if (inline !== undefined && inline.trim() !== "") {
    const source = "SOPS_AGE_KEY";
    searched.push(source);
    if (env["SOPS_AGE_KEY_FILE"]) searched.push("SOPS_AGE_KEY_FILE (not consulted: SOPS_AGE_KEY is set and takes precedence)");
    return result(safeParse(inline, source, searched), source);
  }
  searched.push("SOPS_AGE_KEY (not set)");

  const keyFile = env["SOPS_AGE_KEY_FILE"];
  if (keyFile !== undefined && keyFile.trim() !== "") {
    const source = keyPathSource("SOPS_AGE_KEY_FILE", keyFile);
    searched.push(source);
    // a key where the path belongs (the secret stored under the wrong variable) is not read as a path and never shown
    if (looksLikeKeyMaterial(keyFile)) {
      searched[searched.length - 1] = `${source}: set SOPS_AGE_KEY to the key instead, or write it to a file and set SOPS_AGE_KEY_FILE to its path`;
      return result([], source);
    }
    const path = options.cwd !== undefined && !isAbsolute(keyFile) ? resolve(options.cwd, keyFile) : keyFile;
    const read = { once: false };
    const found = result(readKeyFile(path, source, searched, false, read), source);
    if (read.once) found.readOnce = true;
    return found;
  }
  searched.push("SOPS_AGE_KEY_FILE (not set)");
  // sops 3.10+ runs a command for the key; a resolver in a deploy runs none (it would run whatever the environment names)
  if (env["SOPS_AGE_KEY_CMD"] !== undefined && env["SOPS_AGE_KEY_CMD"].trim() !== "") {
    searched.push('SOPS_AGE_KEY_CMD (set, not run: the resolver runs no command for a key; pass what it prints as SOPS_AGE_KEY="$(…)")');
  }

  const lookup: { env: NodeJS.ProcessEnv; home?: string } = { env };
  if (options.home !== undefined) lookup.home = options.home;
  const defaultFile = defaultKeyFilePath(lookup);
  if (options.useSopsKeyFile === true) {
    const source = `sops default key file ${defaultFile}`;
    searched.push(source);
    return result(readKeyFile(defaultFile, source, searched, true), source);
  }
  searched.push(`sops default key file ${defaultFile} (not consulted: pass useSopsKeyFile: true to allow it)`);
  return { identities: [], sources: [], searched };
}

function safeParse(text: string, source: string, searched: string[]): string[] {
  try {
    return parseIdentityFile(text, source);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    searched[searched.length - 1] = `${source} (unusable: ${typeof code === "string" ? code : "not an age identity"})`;
    return [];
  }
}

function readKeyFile(path: string, source: string, searched: string[], optional = false, read?: { once: boolean }): string[] {
  let text: string;
  let fd: number | undefined;
  try {
    // through one descriptor: its fstat says whether this is a file that can be read again (a
    // pipe such as <(vault read …) cannot); readFileSync(path) opens and fstats the same way
    fd = openSync(path, "r");
    if (read !== undefined) read.once = !fstatSync(fd).isFile();
    text = readFileSync(fd, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const reason = typeof code === "string" ? code : "unreadable";
    const note = reason === "ERR_ACCESS_DENIED" ? `cannot read: ERR_ACCESS_DENIED, node --permission: add --allow-fs-read=${path}` : `cannot read: ${reason}`;
    searched[searched.length - 1] = `${source} (${optional && reason === "ENOENT" ? "does not exist" : note})`;
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return safeParse(text, source, searched);
}
