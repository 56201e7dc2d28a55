/**
 * Keyless inspection of an age stanza's `enc` (an armored age file, spec §6.1): how many
 * recipient stanzas its header holds and of which types. A sops `recipient` label is not proof of
 * who can decrypt (spec §4.5), but the age header is readable without a key: an `enc` whose
 * header holds two recipient stanzas (`age -r MEMBER -r OUTSIDER`) can be opened by both keys,
 * whatever its label says.
 */
import { armorDecode } from "./age-native.js";

/** One recipient stanza of an age header: `-> TYPE ARG...` (the wrapped file key itself is not kept). */
export interface AgeHeaderStanza {
  /** The stanza type: `X25519`, `ssh-ed25519`, `mlkem768x25519`, a plugin's type, ... */
  type: string;
  /** The stanza's arguments (public: an ephemeral share, an ssh key tag). */
  args: string[];
}

/** What {@link inspectAgeEnvelope} found: the header's recipient stanzas, or why it could not be read. */
export type AgeEnvelopeInfo =
  | { ok: true; stanzas: AgeHeaderStanza[] }
  | {
      ok: false;
      /** Why the envelope is not a readable age file (no key material, no value). */
      problem: string;
    };

const BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----";
const END = "-----END AGE ENCRYPTED FILE-----";
const VERSION_LINE = "age-encryption.org/v1";
/** More stanzas than any honest envelope holds; parsing stops there (the header is still reported as malformed). */
const MAX_STANZAS = 1000;
/** Largest armored `enc` inspected (an honest one is about 400 characters). */
const MAX_ENC_CHARS = 1024 * 1024;

/**
 * Reads the header of an armored age file without a key: decodes the armor as strictly as the
 * envelope's unwrapping and age do (PEM-style `BEGIN/END AGE ENCRYPTED FILE`, 64-column lines of
 * canonical padded base64; blank space and CRLF only around it), then parses the header
 * (`age-encryption.org/v1`, stanzas `-> TYPE ARGS` each followed by base64 body lines ending
 * with a line shorter than 64 columns, then the `--- MAC` line), and checks each X25519 stanza's
 * shape as age does (one argument, a 32-byte share in 43 characters of unpadded base64, and a
 * 32-byte body): age refuses a stanza that breaks it, so no key opens that age file. Never throws
 * and never returns any part of the wrapped key: a malformed envelope gives `{ ok: false, problem }`.
 */
export function inspectAgeEnvelope(enc: string): AgeEnvelopeInfo {
  if (typeof enc !== "string") return { ok: false, problem: "the enc field is not a string" };
  if (enc.length > MAX_ENC_CHARS) return { ok: false, problem: `the enc field is larger than ${MAX_ENC_CHARS} characters` };
  const text = enc.replace(/\r\n/g, "\n").trim();
  if (!text.startsWith(BEGIN)) return { ok: false, problem: "the enc field is not an armored age file (no BEGIN AGE ENCRYPTED FILE line)" };
  if (!text.endsWith(END)) return { ok: false, problem: "the armored age file has no END AGE ENCRYPTED FILE line" };
  // read as the envelope unwraps it (and as age does): 64-column lines of canonical padded base64;
  // an armor age refuses opens for no one, whatever its header would say
  let bytes: Buffer;
  try {
    bytes = armorDecode(text);
  } catch {
    return { ok: false, problem: "the armored age file is not valid base64 in 64-column lines (age refuses such armor: no key opens it)" };
  }
  return parseAgeHeader(bytes);
}

/**
 * The payload of an age file that wraps a sops data key: a 16-byte nonce, then the 32-byte key
 * and its 16-byte tag in one STREAM chunk. Any other length holds no data key (spec §6).
 */
export const WRAPPED_DATA_KEY_PAYLOAD_BYTES = 64;

/**
 * How many bytes follow the header of an armored age file (its encrypted payload), read without a
 * key as {@link inspectAgeEnvelope} reads it (its X25519 stanza shape check aside); undefined when
 * the envelope is unreadable. A stanza
 * whose payload is not {@link WRAPPED_DATA_KEY_PAYLOAD_BYTES} opens for no one as a data key. Never throws.
 */
export function agePayloadBytes(enc: string): number | undefined {
  if (typeof enc !== "string" || enc.length > MAX_ENC_CHARS) return undefined;
  let bytes: Buffer;
  try {
    bytes = armorDecode(enc);
  } catch {
    return undefined;
  }
  const { info, end } = readAgeHeader(bytes, false);
  return info.ok ? bytes.length - end : undefined;
}

/**
 * Parses the header of a binary age file (see {@link inspectAgeEnvelope}). Never throws.
 */
export function parseAgeHeader(bytes: Uint8Array): AgeEnvelopeInfo {
  return readAgeHeader(bytes, true).info;
}

/** Bytes of an X25519 stanza's ephemeral share (its one argument) and of its body (the wrapped file key and tag). */
const X25519_SHARE_BYTES = 32;
const X25519_BODY_BYTES = 32;

/** The bytes of canonical unpadded base64 (as age's strict decoder reads it), or undefined. */
function rawBase64Bytes(text: string): number | undefined {
  if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64").replace(/=+$/, "") === text ? bytes.length : undefined;
}

/**
 * Why an X25519 stanza breaks age's X25519 grammar (one argument: a 32-byte share in 43 characters
 * of unpadded base64; a body of exactly 32 bytes), or undefined. age refuses such a stanza with an
 * error, not as "another key's": no key opens its age file.
 */
function x25519StanzaProblem(args: readonly string[], body: string): string | undefined {
  if (args.length !== 1) return `it has ${args.length} arguments, where an X25519 stanza has one (the ephemeral share)`;
  if (rawBase64Bytes(args[0]!) !== X25519_SHARE_BYTES) return `its argument is not a ${X25519_SHARE_BYTES}-byte share in 43 characters of unpadded base64`;
  const bodyBytes = rawBase64Bytes(body);
  if (bodyBytes !== X25519_BODY_BYTES) return `its body is ${bodyBytes === undefined ? "not canonical base64" : `${bodyBytes} bytes`}, where a wrapped file key takes ${X25519_BODY_BYTES}`;
  return undefined;
}

/**
 * {@link parseAgeHeader}, and the offset where the header ends (the payload starts). With
 * `checkStanzas`, an X25519 stanza must also have the shape age's X25519 grammar gives it.
 */
function readAgeHeader(bytes: Uint8Array, checkStanzas: boolean): { info: AgeEnvelopeInfo; end: number } {
  let pos = 0;
  /** The next line (without its `\n`) as text, or undefined at the end of the bytes. */
  const nextLine = (): string | undefined => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl === -1) return undefined;
    const line = Buffer.from(bytes.subarray(pos, nl)).toString("latin1");
    pos = nl + 1;
    return line;
  };
  const malformed = (why: string): { info: AgeEnvelopeInfo; end: number } => ({ info: { ok: false, problem: `the age header is malformed: ${why}` }, end: pos });
  if (nextLine() !== VERSION_LINE) return malformed(`it does not start with ${VERSION_LINE}`);
  const stanzas: AgeHeaderStanza[] = [];
  /** Each stanza's body (kept only to check its shape; never returned). */
  const bodies: string[] = [];
  let line = nextLine();
  while (line !== undefined && line.startsWith("-> ")) {
    if (stanzas.length >= MAX_STANZAS) return malformed(`more than ${MAX_STANZAS} recipient stanzas`);
    const [type, ...args] = line.slice(3).split(" ");
    if (type === undefined || type === "" || args.some((a) => a === "") || !/^[\x21-\x7e]+$/.test(line.slice(3).replace(/ /g, ""))) {
      return malformed(`stanza ${stanzas.length + 1} has an invalid "->" line`);
    }
    // body: base64 lines of 64 columns, the last one shorter (possibly empty)
    let body = "";
    for (;;) {
      const bodyLine = nextLine();
      if (bodyLine === undefined) return malformed(`stanza ${stanzas.length + 1} has no end`);
      if (bodyLine.length > 64 || !/^[A-Za-z0-9+/]*$/.test(bodyLine)) return malformed(`stanza ${stanzas.length + 1} has an invalid body line`);
      body += bodyLine;
      if (bodyLine.length < 64) break;
    }
    stanzas.push({ type, args });
    bodies.push(body);
    line = nextLine();
  }
  if (line === undefined || !/^--- [A-Za-z0-9+/]{43}$/.test(line)) return malformed("no valid --- MAC line after the stanzas");
  if (stanzas.length === 0) return malformed("no recipient stanza");
  if (checkStanzas) {
    for (let i = 0; i < stanzas.length; i++) {
      const problem = stanzas[i]!.type === "X25519" ? x25519StanzaProblem(stanzas[i]!.args, bodies[i]!) : undefined;
      if (problem !== undefined) return malformed(`stanza ${i + 1} (X25519) is not one age reads: ${problem}`);
    }
  }
  return { info: { ok: true, stanzas }, end: pos };
}

/**
 * The age stanza type a recipient's stanza has: `X25519` for an `age1…` X25519 key,
 * `mlkem768x25519` for an `age1pq1…` key, `ssh-ed25519` / `ssh-rsa` for ssh keys; undefined for
 * anything else (a plugin recipient, which may write any type). bech32 ignores case, so `AGE1…`
 * is the same key to age (all upper case; mixed case is no bech32).
 */
export function ageStanzaTypeFor(recipient: string): string | undefined {
  const t = recipient.trim();
  const r = t === t.toUpperCase() && t.startsWith("AGE1") ? t.toLowerCase() : t;
  if (/^age1pq1[02-9ac-hj-np-z]+$/.test(r)) return "mlkem768x25519";
  if (/^age1[02-9ac-hj-np-z]{58}$/.test(r)) return "X25519";
  if (r.startsWith("ssh-ed25519 ")) return "ssh-ed25519";
  if (r.startsWith("ssh-rsa ")) return "ssh-rsa";
  return undefined;
}
