/**
 * Test support for @stellar-secrets/sops (test-only; never built or shipped).
 *
 * Holds an independent "oracle" writer for SOPS files (node:crypto AES-256-GCM + the `age` CLI for
 * wrapping), so tests of the reader do not depend on the writer under test, plus helpers for the
 * test-only keys and for checking that errors never leak plaintext or key material.
 */
import { createCipheriv, createDecipheriv, createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The repository root (…/main). */
export const REPO_ROOT = resolve(here, "../../..");

/**
 * `../shared/interop/sops-fixtures` relative to the repo root (present for developers and CI);
 * `SOPS_FIXTURES_DIR` overrides it (e.g. to check the skip path).
 */
export const FIXTURES_DIR = resolve(REPO_ROOT, process.env.SOPS_FIXTURES_DIR ?? "../shared/interop/sops-fixtures");

/** Why the interop fixture tests are skipped, or undefined when they run. */
export const FIXTURES_SKIP_REASON: string | undefined = existsSync(join(FIXTURES_DIR, "MANIFEST.md"))
  ? undefined
  : `skipped: the sops interop fixtures folder ${FIXTURES_DIR} is absent (it lives next to the repo, in ../shared; a user's own clone does not have it)`;

/** A committed TEST-ONLY age key in packages/sops/test-fixtures/keys/. */
/** Four values the reader tests encrypt: a plain one, one with a line break, an empty one (stored in clear), another plain one. */
export const SAMPLE_VALUES: ReadonlyMap<string, string> = new Map([
  ["A", "alpha"],
  ["B", "line1\nline2"],
  ["C", ""],
  ["D", "delta"],
]);

export interface TestKey {
  name: string;
  path: string;
  identity: string;
  recipient: string;
}

/** Loads one of the committed test-only keys (alice, bob, carol). */
export function testKey(name: "alice" | "bob" | "carol"): TestKey {
  const path = join(here, "keys", `${name}.txt`);
  const text = readFileSync(path, "utf8");
  if (!text.startsWith("# TEST-ONLY key, never use for real secrets\n")) throw new Error(`${path} is not labelled test-only`);
  const identity = text.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-1"));
  const recipient = /# public key: (age1\S+)/.exec(text)?.[1];
  if (!identity || !recipient) throw new Error(`${path}: no identity/recipient`);
  return { name, path, identity, recipient };
}

let ageCliPresent: boolean | undefined;
/** True when the `age` CLI is on PATH (forced false by SOPS_TEST_NO_AGE_CLI=1). */
export function haveAgeCli(): boolean {
  if (ageCliPresent === undefined) {
    if (process.env.SOPS_TEST_NO_AGE_CLI === "1") return (ageCliPresent = false); // to check the fallback paths
    try {
      execFileSync("age", ["--version"], { stdio: "ignore" });
      ageCliPresent = true;
    } catch {
      ageCliPresent = false;
    }
  }
  return ageCliPresent;
}

/** A fresh temp dir; remove it with the returned cleanup. */
export function tempDir(prefix = "sops-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------------------------------------
// Oracle: an independent SOPS value/MAC/metadata writer (spec §2, §4, §6, §8), used to make
// inputs for the reader under test. Wrapping uses the `age` CLI when installed (else typage).
// ---------------------------------------------------------------------------------------------

/** ENC[AES256_GCM,...] of `plaintext` under `dataKey` with `aad` (spec §2.2), with node:crypto. */
export function oracleEncrypt(dataKey: Uint8Array, plaintext: string, aad: string, type = "str", iv: Uint8Array = randomBytes(32)): string {
  if (plaintext === "") return "";
  const c = createCipheriv("aes-256-gcm", dataKey, iv);
  c.setAAD(Buffer.from(aad, "utf8"));
  const data = Buffer.concat([c.update(Buffer.from(plaintext, "utf8")), c.final()]);
  const tag = c.getAuthTag();
  return `ENC[AES256_GCM,data:${data.toString("base64")},iv:${Buffer.from(iv).toString("base64")},tag:${tag.toString("base64")},type:${type}]`;
}

/** Decrypts an ENC string with node:crypto (throws on a bad tag). */
export function oracleDecrypt(dataKey: Uint8Array, enc: string, aad: string): { plaintext: string; type: string } {
  const m = /^ENC\[AES256_GCM,data:(.*),iv:(.+),tag:(.+),type:(.+)\]$/.exec(enc);
  if (!m) throw new Error("not an ENC string");
  const [, data, iv, tag, type] = m as unknown as [string, string, string, string, string];
  const d = createDecipheriv("aes-256-gcm", dataKey, Buffer.from(iv, "base64"));
  d.setAAD(Buffer.from(aad, "utf8"));
  d.setAuthTag(Buffer.from(tag, "base64"));
  const pt = Buffer.concat([d.update(Buffer.from(data, "base64")), d.final()]);
  return { plaintext: pt.toString("utf8"), type };
}

/** SHA-512 over the concatenated values, upper-case hex (spec §4.1). */
export function oracleMac(values: readonly string[], macOnlyEncrypted = false): string {
  const h = createHash("sha512");
  if (macOnlyEncrypted) h.update(createHash("sha256").update("sops").digest());
  for (const v of values) h.update(Buffer.from(v, "utf8"));
  return h.digest("hex").toUpperCase();
}

/** Wraps the data key for one recipient with the `age` CLI (armored, spec §6.1). */
export function ageCliWrap(dataKey: Uint8Array, recipient: string): string {
  return execFileSync("age", ["-a", "-r", recipient], { input: Buffer.from(dataKey) }).toString("utf8");
}

/**
 * Wraps the data key for one recipient for the oracle: with the `age` CLI when installed, else with
 * `age-encryption` (typage) in a child process (kept synchronous for the callers). Either way an
 * age implementation independent of the code under test's own wrapping path.
 */
export function ageWrapSync(dataKey: Uint8Array, recipient: string): string {
  if (haveAgeCli()) return ageCliWrap(dataKey, recipient);
  const script =
    `const { Encrypter, armor } = await import(${JSON.stringify(pathToFileURL(join(here, "../node_modules/age-encryption/dist/index.js")).href)});` +
    `const chunks = []; for await (const c of process.stdin) chunks.push(c);` +
    `const e = new Encrypter(); e.addRecipient(process.env.R);` +
    `process.stdout.write(armor.encode(await e.encrypt(new Uint8Array(Buffer.concat(chunks)))));`;
  return execFileSync(process.execPath, ["--input-type=module", "-e", script], { input: Buffer.from(dataKey), env: { ...process.env, R: recipient } }).toString("utf8");
}

/** Unwraps an armored `enc` with the `age` CLI and a key file. */
export function ageCliUnwrap(enc: string, keyFile: string): Buffer {
  const { dir, cleanup } = tempDir("age-unwrap-");
  try {
    const f = join(dir, "enc.age");
    execFileSync("sh", ["-c", 'cat > "$1"', "sh", f], { input: enc });
    return execFileSync("age", ["-d", "-i", keyFile, f], { stdio: ["ignore", "pipe", "pipe"] });
  } finally {
    cleanup();
  }
}

export interface OracleSealOptions {
  dataKey: Uint8Array;
  recipients: readonly string[];
  /** The canonical plaintexts fed to the MAC, in walk order. */
  macValues: readonly string[];
  lastmodified?: string;
  /** AAD used to encrypt the MAC, default = lastmodified (to test §4.3 normalisation). */
  macAad?: string;
  version?: string;
  macOnlyEncrypted?: boolean;
  /** Crypt rule line(s) inside `sops:`, default `unencrypted_suffix: _unencrypted`. */
  cryptRule?: string;
}

/** Appends a sops 3.10-style metadata block (4-space indent) to a YAML body written by a test. */
export function oracleSealYaml(body: string, o: OracleSealOptions): string {
  const lastmodified = o.lastmodified ?? "2026-01-02T03:04:05Z";
  const mac = oracleEncrypt(o.dataKey, oracleMac(o.macValues, o.macOnlyEncrypted), o.macAad ?? lastmodified);
  const stanzas = o.recipients
    .map((r) => {
      const enc = ageWrapSync(o.dataKey, r);
      const lines = enc.trimEnd().split("\n").map((l) => `            ${l}`).join("\n");
      return `        - recipient: ${r}\n          enc: |\n${lines}\n`;
    })
    .join("");
  return (
    (body.endsWith("\n") || body === "" ? body : body + "\n") +
    "sops:\n    age:\n" +
    stanzas +
    `    lastmodified: "${lastmodified}"\n` +
    `    mac: ${mac}\n` +
    (o.macOnlyEncrypted ? "    mac_only_encrypted: true\n" : "") +
    `    ${o.cryptRule ?? "unencrypted_suffix: _unencrypted"}\n` +
    `    version: ${o.version ?? "3.10.2"}\n`
  );
}

/**
 * Test-only Shamir split from the independent oracle `shamir_split.py` (python3, written from
 * SOPS-FORMAT §5, not from shamir.ts): `n` shares of `secret` with threshold `threshold`, x = 1…n
 * (current sops) or random distinct x (sops ≤ 3.9). The secret goes through stdin.
 */
export function oracleShamirSplit(secret: Uint8Array, n: number, threshold: number, x: "sequential" | "random" = "sequential"): Buffer[] {
  const out = execFileSync("python3", [join(here, "shamir_split.py")], { input: JSON.stringify({ secret: Buffer.from(secret).toString("hex"), n, threshold, x }) });
  return (JSON.parse(out.toString("utf8")) as string[]).map((h) => Buffer.from(h, "hex"));
}

/** One key group of {@link oracleSealKeyGroups}: age recipients, and optional pgp fingerprints (their `enc` is a dummy: no one here opens pgp). */
export interface OracleGroup {
  age: readonly string[];
  pgp?: readonly string[];
}

export interface OracleKeyGroupsOptions {
  dataKey: Uint8Array;
  groups: readonly OracleGroup[];
  /** Written as `shamir_threshold` (omitted when undefined); the split uses it, or n when 0/undefined. */
  threshold?: number;
  x?: "sequential" | "random";
  macValues: readonly string[];
  lastmodified?: string;
  version?: string;
  /** Changes the shares after the split (to plant a bad one); with one group, the payload is the data key. */
  mutateShares?: (shares: Buffer[]) => Buffer[];
  /** Top-level lines added to the block before `key_groups` (e.g. an `age:` list, to test both at once). */
  extraTopLevel?: string;
}

/**
 * A sops 3.10-layout metadata block with `key_groups` (SOPS-FORMAT §8.2: `shamir_threshold` then
 * `key_groups`, each group listing `pgp` when non-empty, then `hc_vault: []` and `age`), appended
 * to `body`. The data key is split by {@link oracleShamirSplit} (one group: the whole key), each
 * share wrapped with the `age` CLI for every age recipient of its group; MAC by the oracle.
 */
export function oracleSealKeyGroups(body: string, o: OracleKeyGroupsOptions): string {
  const lastmodified = o.lastmodified ?? "2026-01-02T03:04:05Z";
  const n = o.groups.length;
  const t = o.threshold === undefined || o.threshold === 0 ? n : o.threshold;
  let shares = n === 1 ? [Buffer.from(o.dataKey)] : oracleShamirSplit(o.dataKey, n, t, o.x);
  if (o.mutateShares) shares = o.mutateShares(shares);
  const block = (text: string, indent: number) => text.trimEnd().split("\n").map((l) => `${" ".repeat(indent)}${l}`).join("\n");
  let groups = "";
  o.groups.forEach((g, i) => {
    const lines: string[] = [];
    if (g.pgp && g.pgp.length > 0) {
      lines.push("pgp:");
      for (const fp of g.pgp) lines.push(`    - created_at: "${lastmodified}"`, "      enc: |", "          -----BEGIN PGP MESSAGE-----", "          AAAA", "          -----END PGP MESSAGE-----", `      fp: ${fp}`);
    }
    lines.push("hc_vault: []");
    if (g.age.length === 0) lines.push("age: []");
    else {
      lines.push("age:");
      for (const r of g.age) lines.push(`    - recipient: ${r}`, "      enc: |", ...block(ageWrapSync(shares[i]!, r), 10).split("\n"));
    }
    groups += lines.map((l, j) => (j === 0 ? `        - ${l}` : `          ${l}`)).join("\n") + "\n";
  });
  const mac = oracleEncrypt(o.dataKey, oracleMac(o.macValues), lastmodified);
  return (
    (body.endsWith("\n") || body === "" ? body : body + "\n") +
    "sops:\n" +
    (o.threshold !== undefined ? `    shamir_threshold: ${o.threshold}\n` : "") +
    (o.extraTopLevel ?? "") +
    "    key_groups:\n" +
    groups +
    `    lastmodified: "${lastmodified}"\n` +
    `    mac: ${mac}\n` +
    "    unencrypted_suffix: _unencrypted\n" +
    `    version: ${o.version ?? "3.10.2"}\n`
  );
}

// ---------------------------------------------------------------------------------------------
// Error hygiene
// ---------------------------------------------------------------------------------------------

/** Everything an error exposes to a log: message, stack, hint, own props, and the cause chain. */
export function errorText(err: unknown, depth = 0): string {
  if (depth > 5 || err === null || err === undefined) return "";
  if (typeof err !== "object") return String(err);
  const e = err as Record<string, unknown> & { message?: unknown; stack?: unknown; cause?: unknown };
  const parts = [String(e.message ?? ""), String(e.stack ?? "")];
  for (const k of Object.keys(e)) {
    if (k === "cause") continue;
    try {
      parts.push(`${k}=${typeof e[k] === "object" ? JSON.stringify(e[k]) : String(e[k])}`);
    } catch {
      parts.push(`${k}=<unserialisable>`);
    }
  }
  try {
    parts.push(String(err));
  } catch {
    /* ignore */
  }
  parts.push(errorText(e.cause, depth + 1));
  return parts.join("\n");
}

/** Throws (with a redacted message) when any of `secrets` occurs in the error's text. */
export function assertNoLeak(err: unknown, secrets: readonly string[]): void {
  const text = errorText(err);
  for (const s of secrets) {
    if (s.length >= 4 && text.includes(s)) {
      throw new Error(`error text leaks a secret (length ${s.length}, starts ${JSON.stringify(s.slice(0, 2))}…)`);
    }
  }
}

/** Runs fn, expects it to throw/reject; returns the error. */
export async function catchError(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected an error, but the call succeeded");
}

// ---------------------------------------------------------------------------------------------
// OpenSSH ed25519 keys made in memory (TEST-ONLY)
// ---------------------------------------------------------------------------------------------

function sshString(b: Buffer | string): Buffer {
  const data = typeof b === "string" ? Buffer.from(b, "latin1") : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}
function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/**
 * A new TEST-ONLY ed25519 key (node:crypto) encoded as OpenSSH writes it (openssh-key-v1, cipher
 * "none" unless `cipher` says otherwise), plus its `ssh-ed25519 AAAA… comment` public line.
 */
export function openSshTestKey(options: { cipher?: string; type?: string; comment?: string; tamper?: (priv: Buffer) => void } = {}): { privateText: string; publicLine: string; seed: Buffer; pub: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const seed = privateKey.export({ format: "der", type: "pkcs8" }).subarray(16);
  const pub = publicKey.export({ format: "der", type: "spki" }).subarray(12);
  const type = options.type ?? "ssh-ed25519";
  const wire = Buffer.concat([sshString(type), sshString(pub)]);
  const secret = Buffer.concat([seed, pub]);
  if (options.tamper) options.tamper(secret);
  let priv = Buffer.concat([uint32(0x01020304), uint32(0x01020304), sshString(type), sshString(pub), sshString(secret), sshString(options.comment ?? "test@example")]);
  const pad: number[] = [];
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
  priv = Buffer.concat([priv, Buffer.from(pad)]);
  const cipher = options.cipher ?? "none";
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    sshString(cipher),
    sshString(cipher === "none" ? "none" : "bcrypt"),
    sshString(cipher === "none" ? "" : Buffer.alloc(24)),
    uint32(1),
    sshString(wire),
    sshString(priv),
  ]);
  const b64 = body.toString("base64").replace(/.{70}/g, "$&\n");
  return {
    privateText: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicLine: `${type} ${wire.toString("base64")} ${options.comment ?? "test@example"}`,
    seed,
    pub,
  };
}
