/**
 * Finding age identities the way sops does (spec §7, 3.11+ semantics: every source merged):
 * `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, the default key file, then the SSH keys
 * (`SOPS_AGE_SSH_PRIVATE_KEY_FILE`, `~/.ssh/id_ed25519`). Never runs a command.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { isAgeIdentity, isAgeRecipient, isMistypedAgeIdentity } from "./age.js";
import { SopsError } from "./errors.js";
import { parseOpenSshPrivateKey } from "./ssh.js";

/** Identities found, and a description of every place looked at (for error messages). */
export interface Identities {
  /**
   * `AGE-SECRET-KEY-1…` lines, and the full text of OpenSSH ed25519 private keys
   * (`-----BEGIN OPENSSH PRIVATE KEY-----…`), which the decrypting functions accept too.
   */
  identities: string[];
  sources: string[];
  /** Problems with sources that were present but unusable (never contains key material). */
  problems?: string[];
  /**
   * Where each identity of `identities` was found (same index): a source label such as
   * `SOPS_AGE_KEY` or a file path. Set by {@link findIdentities}; never key material.
   */
  origins?: string[];
}

/** Options for identity discovery; default to the real process environment and home. */
export interface IdentityLookupOptions {
  env?: NodeJS.ProcessEnv;
  home?: string;
}

/** The sops default key file: `$XDG_CONFIG_HOME/sops/age/keys.txt`, else `~/.config/sops/age/keys.txt`. */
export function defaultKeyFilePath(options: IdentityLookupOptions = {}): string {
  const env = options.env ?? process.env;
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg !== undefined && xdg !== "" ? xdg : join(options.home ?? homedir(), ".config");
  return join(base, "sops", "age", "keys.txt");
}

/**
 * True when `value`, given where a *path* to a key file belongs (`SOPS_AGE_KEY_FILE`,
 * `SOPS_AGE_SSH_PRIVATE_KEY_FILE`), looks like key material itself: an age identity
 * (`AGE-SECRET-KEY-…`, `AGE-PLUGIN-…`, any case), a PEM or OpenSSH private key (`-----BEGIN`), or
 * text over several lines. Setting a CI secret holding the key as `SOPS_AGE_KEY_FILE` instead of
 * `SOPS_AGE_KEY` is a common mix-up; such a value must never be echoed as if it were a path.
 */
export function looksLikeKeyMaterial(value: string): boolean {
  return /AGE-SECRET-KEY-|AGE-PLUGIN-|-----BEGIN|[\r\n]/i.test(value);
}

/**
 * How a variable that names a key file is shown in messages: `VARIABLE=path`, or, when its value
 * {@link looksLikeKeyMaterial}, `VARIABLE (holds a private key, not a file path; not shown)`, so
 * that no list of places looked at, warning or error carries the key.
 */
export function keyPathSource(variable: string, value: string): string {
  return looksLikeKeyMaterial(value) ? `${variable} (holds a private key, not a file path; not shown)` : `${variable}=${value}`;
}

/**
 * Parses an age key file: one identity per line; blank lines and `#` comments skipped; a trailing
 * CR removed. `SOPS_AGE_KEY` may also hold several space-separated keys on a line (sops 3.13).
 * @throws SopsError MALFORMED_FILE naming the source and line (never its content) when a line is not an identity.
 */
export function parseIdentityFile(text: string, source: string): string[] {
  const out: string[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "").trim();
    if (line === "" || line.startsWith("#")) continue;
    for (const part of line.split(/\s+/)) {
      if (!isAgeIdentity(part)) {
        // a public key (safe to recognise: it is not secret) is the usual mistake: say so
        const publicKey = isAgeRecipient(part) || /^ssh-(ed25519|rsa)$/.test(part);
        const what = publicKey
          ? "a public key, not an age identity (the key file needs the private AGE-SECRET-KEY-1… line, not the age1… public key)"
          : "not an age identity (expected AGE-SECRET-KEY-1…)";
        throw new SopsError("MALFORMED_FILE", what, {
          file: source,
          line: i + 1,
          hint: "each non-comment line of an age key file must be one AGE-SECRET-KEY-1… identity (age-keygen output)",
        });
      }
      if (isMistypedAgeIdentity(part)) {
        // the shape of one, with a character changed or lost: it could never open anything, and
        // "you are not a member" (what a key that opens nothing is told) would mislead
        throw new SopsError("MALFORMED_FILE", "an age identity whose checksum does not match (a character was changed, added or lost)", {
          file: source,
          line: i + 1,
          hint: "copy the AGE-SECRET-KEY-1… line again, whole, from the key file age-keygen (or stellar-secrets keygen) wrote",
        });
      }
      out.push(part);
    }
  }
  return out;
}

/** Why a key file that exists could not be read, for the list of places looked at ("unreadable: a folder"). */
function unreadableReason(code: string | undefined): string {
  if (code === "EISDIR") return "unreadable: a folder, not a file";
  if (code === "EACCES" || code === "EPERM") return "unreadable: permission denied";
  return `unreadable: ${code ?? "error"}`;
}

/**
 * Collects identities from every sops source, merged: `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, the
 * default key file, then the SSH sources sops 3.10+ reads: `SOPS_AGE_SSH_PRIVATE_KEY_FILE` and
 * `~/.ssh/id_ed25519` (unencrypted ed25519 keys only; age identities come first, so callers that
 * take the first identity keep getting an age key when there is one). `~/.ssh/id_rsa`, which sops
 * also reads, is only noted: ssh-rsa is not supported, and so are `SOPS_AGE_KEY_CMD` and
 * `SOPS_AGE_SSH_PRIVATE_KEY_CMD`, which sops 3.10+ runs: no command is run. Missing sources are noted, not fatal;
 * sources and problems never hold key material.
 */
export function findIdentities(options: IdentityLookupOptions = {}): Identities {
  const env = options.env ?? process.env;
  const identities: string[] = [];
  const sources: string[] = [];
  const problems: string[] = [];
  const originOf = new Map<string, string>();
  const found = (id: string, origin: string): void => {
    identities.push(id);
    if (!originOf.has(id)) originOf.set(id, origin);
  };
  const take = (text: string, source: string): void => {
    try {
      const ids = parseIdentityFile(text, source);
      for (const id of ids) found(id, source);
      sources.push(`${source} (${ids.length} key${ids.length === 1 ? "" : "s"})`);
    } catch (e) {
      problems.push((e as Error).message);
      // "SOURCE:LINE: what" (never the line's content) → "SOURCE (unusable: line LINE: what)"
      const line = (e as SopsError).line;
      const prefix = `${source}:${line}: `;
      const message = (e as Error).message;
      const what = line !== undefined && message.startsWith(prefix) ? `line ${line}: ${message.slice(prefix.length)}` : message;
      sources.push(`${source} (unusable: ${what})`);
    }
  };
  // a key where a path belongs is neither read as a path nor shown: it is said, without the key
  const keyMaterialInPath = (variable: string, fix: string): void => {
    sources.push(keyPathSource(variable, "\n"));
    problems.push(`${variable} holds a private key, not the path of a key file (not shown); ${fix}`);
  };
  const readSource = (path: string, label: string, required: boolean): void => {
    try {
      take(readFileSync(path, "utf8"), label);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      sources.push(`${label} (${code === "ENOENT" ? "not found" : unreadableReason(code)})`);
      if (required || code !== "ENOENT") problems.push(`${label}: ${code === "ENOENT" ? "file not found" : `cannot read (${code ?? "error"})`}`);
    }
  };
  if (env.SOPS_AGE_KEY !== undefined && env.SOPS_AGE_KEY !== "") take(env.SOPS_AGE_KEY, "SOPS_AGE_KEY");
  else sources.push("SOPS_AGE_KEY (not set)");
  if (env.SOPS_AGE_KEY_FILE !== undefined && env.SOPS_AGE_KEY_FILE !== "") {
    if (looksLikeKeyMaterial(env.SOPS_AGE_KEY_FILE)) keyMaterialInPath("SOPS_AGE_KEY_FILE", "set SOPS_AGE_KEY to the key instead, or write it to a file (mode 0600) and set SOPS_AGE_KEY_FILE to its path");
    else readSource(env.SOPS_AGE_KEY_FILE, `SOPS_AGE_KEY_FILE=${env.SOPS_AGE_KEY_FILE}`, true);
  } else sources.push("SOPS_AGE_KEY_FILE (not set)");
  const def = defaultKeyFilePath(options);
  readSource(def, def, false);

  const takeSsh = (path: string, label: string, required: boolean): void => {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      sources.push(`${label} (${code === "ENOENT" ? "not found" : unreadableReason(code)})`);
      if (required || code !== "ENOENT") problems.push(`${label}: ${code === "ENOENT" ? "file not found" : `cannot read (${code ?? "error"})`}`);
      return;
    }
    try {
      parseOpenSshPrivateKey(text, label);
      found(text, label);
      sources.push(`${label} (1 SSH key)`);
    } catch (e) {
      problems.push((e as Error).message);
      const reason = (e as SopsError).code === "UNSUPPORTED" ? (/passphrase/.test((e as Error).message) ? "passphrase-protected" : "unsupported key type") : "not a valid key";
      sources.push(`${label} (unusable: ${reason})`);
    }
  };
  const sshFile = env.SOPS_AGE_SSH_PRIVATE_KEY_FILE;
  if (sshFile !== undefined && sshFile !== "" && looksLikeKeyMaterial(sshFile)) keyMaterialInPath("SOPS_AGE_SSH_PRIVATE_KEY_FILE", "write the key to a file (mode 0600) and set SOPS_AGE_SSH_PRIVATE_KEY_FILE to its path");
  else if (sshFile !== undefined && sshFile !== "") takeSsh(sshFile, `SOPS_AGE_SSH_PRIVATE_KEY_FILE=${sshFile}`, true);
  else sources.push("SOPS_AGE_SSH_PRIVATE_KEY_FILE (not set)");
  const sshDir = join(options.home ?? homedir(), ".ssh");
  takeSsh(join(sshDir, "id_ed25519"), join(sshDir, "id_ed25519"), false);
  const rsa = join(sshDir, "id_rsa");
  if (existsSync(rsa)) sources.push(`${rsa} (not used: ssh-rsa keys are not supported)`);
  // sops 3.10+ runs these commands for a key (a password manager's CLI); nothing here runs a
  // command for a key: said where keys are listed, or a sops user is told to make a new key
  for (const variable of ["SOPS_AGE_KEY_CMD", "SOPS_AGE_SSH_PRIVATE_KEY_CMD"]) {
    const cmd = env[variable];
    if (cmd === undefined || cmd === "") continue;
    sources.push(`${variable} (set, not run: no command is run for a key)`);
    problems.push(
      `${variable} is set, but stellar-secrets runs no command for a key (sops 3.10+ does); pass what it prints instead: ${variable === "SOPS_AGE_KEY_CMD" ? 'SOPS_AGE_KEY="$(…)"' : "write the key to a file (mode 0600) and set SOPS_AGE_SSH_PRIVATE_KEY_FILE to its path"}`,
    );
  }
  const unique = [...new Set(identities)];
  return { identities: unique, sources, problems, origins: unique.map((id) => originOf.get(id) ?? "") };
}


/** Normalises the identities argument of the decrypting functions. */
export function toIdentities(ids: Identities | readonly string[]): Identities {
  return Array.isArray(ids) ? { identities: [...ids], sources: ["identities passed by the caller"] } : (ids as Identities);
}
