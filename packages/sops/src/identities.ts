/**
 * Finding age identities the way sops does (spec §7, 3.8+ semantics: every source merged):
 * `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, then the default key file. Never runs a command.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { isAgeIdentity } from "./age.js";
import { SopsError } from "./errors.js";

/** Identities found, and a description of every place looked at (for error messages). */
export interface Identities {
  identities: string[];
  sources: string[];
  /** Problems with sources that were present but unusable (never contains key material). */
  problems?: string[];
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
        throw new SopsError("MALFORMED_FILE", "not an age identity (expected AGE-SECRET-KEY-1…)", {
          file: source,
          line: i + 1,
          hint: "each non-comment line of an age key file must be one AGE-SECRET-KEY-1… identity (age-keygen output)",
        });
      }
      out.push(part);
    }
  }
  return out;
}

/** Collects identities from every sops source, merged, in sops order. Missing sources are noted, not fatal. */
export function findIdentities(options: IdentityLookupOptions = {}): Identities {
  const env = options.env ?? process.env;
  const identities: string[] = [];
  const sources: string[] = [];
  const problems: string[] = [];
  const take = (text: string, source: string): void => {
    try {
      const ids = parseIdentityFile(text, source);
      identities.push(...ids);
      sources.push(`${source} (${ids.length} key${ids.length === 1 ? "" : "s"})`);
    } catch (e) {
      problems.push((e as Error).message);
      sources.push(`${source} (unusable)`);
    }
  };
  const readSource = (path: string, label: string, required: boolean): void => {
    try {
      take(readFileSync(path, "utf8"), label);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      sources.push(`${label} (${code === "ENOENT" ? "not found" : "unreadable"})`);
      if (required || code !== "ENOENT") problems.push(`${label}: ${code === "ENOENT" ? "file not found" : `cannot read (${code ?? "error"})`}`);
    }
  };
  if (env.SOPS_AGE_KEY !== undefined && env.SOPS_AGE_KEY !== "") take(env.SOPS_AGE_KEY, "SOPS_AGE_KEY");
  else sources.push("SOPS_AGE_KEY (not set)");
  if (env.SOPS_AGE_KEY_FILE !== undefined && env.SOPS_AGE_KEY_FILE !== "") {
    readSource(env.SOPS_AGE_KEY_FILE, `SOPS_AGE_KEY_FILE=${env.SOPS_AGE_KEY_FILE}`, true);
  } else sources.push("SOPS_AGE_KEY_FILE (not set)");
  const def = defaultKeyFilePath(options);
  readSource(def, def, false);
  return { identities: [...new Set(identities)], sources, problems };
}

/** Normalises the identities argument of the decrypting functions. */
export function toIdentities(ids: Identities | readonly string[]): Identities {
  return Array.isArray(ids) ? { identities: [...ids], sources: ["identities passed by the caller"] } : (ids as Identities);
}
