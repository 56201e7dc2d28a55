import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { defaultKeyFilePath, isAgeIdentity, keyPathSource, looksLikeKeyMaterial, parseIdentityFile, type Identities } from "@stellar-secrets/sops";

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
  /**
   * The key file the keys came from, when it is a regular file (`SOPS_AGE_KEY_FILE` or the sops
   * default key file): its absolute path and permission bits (`mode & 0o777`), for the resolver's
   * warning about a key file other users of the machine can read.
   */
  keyFile?: { path: string; mode: number };
  /**
   * When the chosen source was set but gave no key: what is wrong with it and how to fix it, in
   * one sentence naming the source (never its content). The resolver's `NO_IDENTITY` hint.
   */
  problem?: string;
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
  const problem: { text?: string } = {};
  const result = (identities: string[], source: string): ResolverIdentities => {
    const found: ResolverIdentities = { identities, sources: [source], searched };
    if (identities.length === 0) {
      // a source that was read but holds no key: said, or the list of places only repeats its name
      if (problem.text === undefined) {
        searched[searched.length - 1] += " (holds no age key: empty, or only comments and blank lines)";
        problem.text = `${source} holds no AGE-SECRET-KEY-1… line: put this environment's age key in it (the file age-keygen or stellar-secrets keygen wrote), or point it at the file that has it.`;
      }
      found.problem = problem.text;
    }
    return found;
  };

  if (options.identities !== undefined) {
    const given = options.identities;
    const source = "the identities option of createResolver";
    searched.push(source);
    const keys = typeof given === "string" ? safeParse(given, source, searched, problem) : given.flatMap((k) => safeParse(k, source, searched, problem));
    return result(keys, source);
  }
  searched.push("the identities option of createResolver (not given)");

  const inline = env["SOPS_AGE_KEY"];
  if (inline !== undefined && inline.trim() !== "") {
    const source = "SOPS_AGE_KEY";
    searched.push(source);
    // parsed before the note on SOPS_AGE_KEY_FILE is added: what is wrong with SOPS_AGE_KEY is
    // written over its own entry (it replaced that note, and SOPS_AGE_KEY was listed twice)
    const found = result(safeParse(inline, source, searched, problem), source);
    if (env["SOPS_AGE_KEY_FILE"]) searched.push("SOPS_AGE_KEY_FILE (not consulted: SOPS_AGE_KEY is set and takes precedence)");
    return found;
  }
  searched.push("SOPS_AGE_KEY (not set)");

  const keyFile = env["SOPS_AGE_KEY_FILE"];
  if (keyFile !== undefined && keyFile.trim() !== "") {
    const source = keyPathSource("SOPS_AGE_KEY_FILE", keyFile);
    searched.push(source);
    // a key where the path belongs (the secret stored under the wrong variable) is not read as a path and never shown
    if (looksLikeKeyMaterial(keyFile)) {
      searched[searched.length - 1] = `${source}: set SOPS_AGE_KEY to the key instead, or write it to a file and set SOPS_AGE_KEY_FILE to its path`;
      problem.text = "SOPS_AGE_KEY_FILE holds a private key, not the path of a key file: set SOPS_AGE_KEY to the key instead, or write it to a file (mode 0600) and set SOPS_AGE_KEY_FILE to its path.";
      return result([], source);
    }
    // a relative path is read from the current directory (of createResolver): which one is said
    // when it does not work, since a service's is rarely where its deploy files are
    const path = resolve(options.cwd ?? process.cwd(), keyFile);
    const read: KeyFileRead = { once: false };
    const keys = readKeyFile(path, source, searched, problem, false, read);
    if (keys.length === 0 && !isAbsolute(keyFile)) searched[searched.length - 1] += ` (read as ${path})`;
    const found = result(keys, source);
    if (read.once) found.readOnce = true;
    if (read.mode !== undefined && keys.length > 0) found.keyFile = { path, mode: read.mode };
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
    const read: KeyFileRead = { once: false };
    const found = result(readKeyFile(defaultFile, source, searched, problem, true, read), source);
    if (read.mode !== undefined && found.identities.length > 0) found.keyFile = { path: defaultFile, mode: read.mode };
    return found;
  }
  searched.push(`sops default key file ${defaultFile} (not consulted: pass useSopsKeyFile: true to allow it)`);
  return { identities: [], sources: [], searched };
}

function safeParse(text: string, source: string, searched: string[], problem: { text?: string }): string[] {
  let keys: string[];
  try {
    keys = parseIdentityFile(text, source);
  } catch (error) {
    if (mangled(text, source, searched, problem)) return [];
    // the sops parser's message is "SOURCE:LINE: what" and never holds the line's content (a
    // public key where the private one belongs is the usual mistake, and it says so)
    const { code, line, hint } = error as { code?: unknown; line?: unknown; hint?: unknown };
    const message = error instanceof Error ? error.message : "";
    const prefix = `${source}:${String(line)}: `;
    const what = typeof line === "number" && message.startsWith(prefix) ? `line ${line}: ${message.slice(prefix.length)}` : typeof code === "string" ? code : "not an age identity";
    searched[searched.length - 1] = `${source} (unusable: ${what})`;
    problem.text = `${source}, ${what}${typeof hint === "string" ? `; ${hint}` : ""}.`;
    return [];
  }
  if (keys.length === 0) mangled(text, source, searched, problem);
  return keys;
}

/**
 * A key that is there but mangled on its way into a variable or file (asked only when no key was
 * found): wrapped in quotes (docker --env-file and some CI variable forms keep them), or a key
 * file pasted into one line with literal `\n` for its line breaks (then its first `#` comment
 * makes the whole line a comment, and "holds no key" would mislead). Not accepted — sops and
 * age read neither — but said, with the fix; never the key.
 */
function mangled(text: string, source: string, searched: string[], problem: { text?: string }): boolean {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  let what: string | undefined;
  let fix = "";
  if (text.includes("\\n") && text.split(/(?:\\r)?\\n|\r?\n/).some((l) => isAgeIdentity(l.trim()))) {
    what = "a key file written on one line, with literal \\n where its line breaks belong";
    fix = "put only the AGE-SECRET-KEY-1… line in it (or real line breaks), or write the key file to disk and set SOPS_AGE_KEY_FILE to its path.";
  } else if (lines.some((l) => /^(["'`])AGE-SECRET-KEY-1\S+\1$/i.test(l) && isAgeIdentity(l.slice(1, -1)))) {
    what = "a key wrapped in quotes";
    fix = "remove the quotes (docker --env-file and some CI variable forms keep them as part of the value).";
  }
  if (what === undefined) return false;
  searched[searched.length - 1] = `${source} (unusable: ${what})`;
  problem.text = `${source} holds ${what}: ${fix}`;
  return true;
}

/** What reading a key file learnt about it: not a regular file (`once`), else its permission bits. */
interface KeyFileRead {
  once: boolean;
  mode?: number;
}

function readKeyFile(path: string, source: string, searched: string[], problem: { text?: string }, optional = false, read?: KeyFileRead): string[] {
  let bytes: Buffer;
  let fd: number | undefined;
  try {
    // through one descriptor: its fstat says whether this is a file that can be read again (a
    // pipe such as <(vault read …) cannot); readFileSync(path) opens and fstats the same way
    fd = openSync(path, "r");
    if (read !== undefined) {
      const st = fstatSync(fd);
      read.once = !st.isFile();
      if (!read.once) read.mode = st.mode & 0o777;
    }
    bytes = readFileSync(fd);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const reason = typeof code === "string" ? code : "unreadable";
    const note = reason === "ERR_ACCESS_DENIED" ? `cannot read: ERR_ACCESS_DENIED, node --permission: add --allow-fs-read=${path}` : `cannot read: ${reason}`;
    searched[searched.length - 1] = `${source} (${optional && reason === "ENOENT" ? "does not exist" : note})`;
    problem.text = unreadableKeyFile(source, path, reason);
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const unlike = notAKeyFileText(bytes);
  if (unlike !== undefined) {
    searched[searched.length - 1] = `${source} (unusable: ${unlike.what})`;
    problem.text = `${source} is ${unlike.what}: ${unlike.fix}`;
    return [];
  }
  return safeParse(bytes.toString("utf8"), source, searched, problem);
}

/**
 * Key files that are not the text age-keygen writes, recognised by their first bytes (never
 * shown): UTF-16 (PowerShell's `>` and `Out-File` write it), and an age-encrypted file (a key file
 * protected with a passphrase, `age -p`), which the resolver cannot open without a prompt.
 */
function notAKeyFileText(bytes: Buffer): { what: string; fix: string } | undefined {
  const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff) || bytes.subarray(0, 512).includes(0);
  if (utf16) {
    return {
      what: "UTF-16 text, not UTF-8",
      fix: "save it as UTF-8 or ASCII (PowerShell's > and Out-File write UTF-16: use age-keygen -o FILE, or Out-File -Encoding ascii).",
    };
  }
  const head = bytes.subarray(0, 64).toString("latin1");
  if (head.startsWith("age-encryption.org/") || head.startsWith("-----BEGIN AGE ENCRYPTED FILE-----")) {
    return {
      what: "an age-encrypted file (a key file protected with a passphrase?)",
      fix: "the resolver asks no passphrase: decrypt it when the service starts (age -d) into a file only the service's user can read and point SOPS_AGE_KEY_FILE at that, or pass the key in SOPS_AGE_KEY.",
    };
  }
  return undefined;
}

/** What to do about a key file that cannot be read, by the system's error code. */
function unreadableKeyFile(source: string, path: string, code: string): string {
  const name = source.startsWith("SOPS_AGE_KEY_FILE") ? "SOPS_AGE_KEY_FILE" : "the sops default key file";
  switch (code) {
    case "ENOENT":
    case "ENOTDIR": {
      // ~ and $VAR are a shell's: systemd's Environment=, docker -e and Kubernetes env pass them as they are
      const unexpanded = /(^|[\\/])~([\\/]|$)|\$\{?[A-Za-z_]/.test(path) ? " The path holds ~ or $VARIABLE, which only a shell expands (not systemd's Environment=, docker -e or a Kubernetes env entry): write the full path." : "";
      return `${name}: there is no file ${path}: check the path (a relative one is read from the current directory of createResolver), and that the volume or secret that holds the key is mounted where the service runs.${unexpanded}`;
    }
    case "EISDIR":
      return `${name} names a folder (${path}), not a key file: point it at the key file itself (the file age-keygen or stellar-secrets keygen wrote, inside that folder).`;
    case "EACCES":
    case "EPERM": {
      const uid = typeof process.getuid === "function" ? ` (uid ${process.getuid()})` : "";
      return `${name}: this process${uid} may not read ${path}: make the key file readable by the service's user (chown it to that user, chmod 0400), or run the service as the file's owner.`;
    }
    case "ERR_ACCESS_DENIED":
      return `${name}: node's permission model denies reading ${path}: start node with --allow-fs-read=${path}.`;
    default:
      return `${name}: cannot read ${path} (${code}): check that it is a readable key file.`;
  }
}
