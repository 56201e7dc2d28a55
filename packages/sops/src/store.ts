/**
 * The disk side of the envelope: atomic writes, an exclusive lock per file, and the
 * read → decrypt → change → re-encrypt → verify → write cycle. The only module of this package
 * that touches the file system for secrets files.
 */
import { randomBytes } from "./lazy-crypto.js";
import { closeSync, constants, fstatSync, openSync, promises as fs, readFileSync, readSync, statSync, type Stats } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { SopsError } from "./errors.js";
import { assertOwnEnvironmentFile } from "./links.js";
import type { Identities } from "./identities.js";
import { MAX_SECRETS_FILE_BYTES } from "./layout.js";
import { normalizeRecipient } from "./ssh.js";
import {
  decodeUtf8,
  decryptSecrets,
  decryptSecretsWithKey,
  encryptWithNewKey,
  parseSecretsFile,
  DecryptCache,
  reencryptSecrets,
  rotateWithNewKey,
  updateKeys,
} from "./secrets-file.js";
import type { DecryptedSecrets, SecretsFile } from "./types.js";

function ioError(what: string, path: string, cause: unknown): SopsError {
  const code = (cause as NodeJS.ErrnoException)?.code ?? "error";
  return new SopsError("IO_ERROR", `${what} failed (${code})`, { file: path, cause });
}

/**
 * Writes a file atomically: a temp file in the same folder (mode of the old file, else 0644),
 * fsync, rename over the target, fsync the folder. Readers see the old or the new file, never a mix.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  let mode = 0o644;
  try {
    mode = (await fs.stat(path)).mode & 0o777;
  } catch {
    // new file
  }
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, path);
  } catch (cause) {
    await handle?.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw ioError("writing the file", path, cause);
  }
  try {
    const d = await fs.open(dir, "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Some file systems cannot fsync a directory; the rename is still atomic.
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** What a lock file says about its holder: `pid`, `host` and (Linux) the process start time. */
export interface LockInfo {
  pid: number;
  host: string;
  /** Field 22 of `/proc/<pid>/stat` when the lock was taken (clock ticks since boot); "" when unknown. */
  started: string;
  /** When the holder last refreshed the lock (its mtime), ms since the epoch. */
  refreshedAt: number;
}

/** How often a holder touches (sets the mtime of) its lock while it holds it. */
export const LOCK_REFRESH_MS = 2_000;
/** After how long without a touch a lock of another host, or one without a start time, is abandoned. */
export const LOCK_STALE_MS = 20_000;

/**
 * The start time of process `pid` as the kernel records it (field 22 of `/proc/<pid>/stat`), or
 * "" where there is no /proc or the process is gone. A pid reused by another process has another
 * start time.
 */
export function processStartTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // the command name (field 2) is in parentheses and may hold spaces or ')': split after the last ')'
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? "";
  } catch {
    return "";
  }
}

/** Reads the holder recorded in a lock (or breaker) file; undefined when absent or unreadable. */
export async function readLock(lock: string): Promise<LockInfo | undefined> {
  try {
    const [text, st] = await Promise.all([fs.readFile(lock, "utf8"), fs.stat(lock)]);
    const [pid, host, started] = text.split("\n");
    const n = Number(pid);
    return Number.isInteger(n) && n > 0 ? { pid: n, host: host ?? "", started: (started ?? "").trim(), refreshedAt: st.mtimeMs } : undefined;
  } catch {
    return undefined;
  }
}

const BREAKER_STALE_MS = 10_000;

/**
 * Creates `target` holding this process's pid, host and start time, atomically: the content is
 * written to a private temp file first and then hard-linked into place, so a lock file never exists
 * without its owner (a holder killed at any moment leaves a lock that names a dead pid, which is
 * taken over).
 * @returns false when `target` already exists.
 */
async function createOwnedFile(target: string): Promise<boolean> {
  const tmp = `${target}.${process.pid}.${randomBytes(6).toString("hex")}.own`;
  await fs.writeFile(tmp, `${process.pid}\n${hostname()}\n${processStartTime(process.pid)}\n`, { flag: "wx", mode: 0o644 });
  try {
    await fs.link(tmp, target);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/**
 * Whether a lock's holder is gone. On this host: its pid no longer runs, or now belongs to another
 * process (another start time). A live holder on this host with the recorded start time holds
 * the lock however long it takes. Another host's holder (which cannot be asked), or one that
 * recorded no start time, is gone once it has not refreshed the lock for `LOCK_STALE_MS`.
 */
export function lockIsStale(info: LockInfo, now: number = Date.now(), host: string = hostname()): boolean {
  if (info.host === host) {
    if (!alive(info.pid)) return true;
    if (info.started !== "") {
      const current = processStartTime(info.pid);
      return current !== "" && current !== info.started;
    }
  }
  return now - info.refreshedAt > LOCK_STALE_MS;
}

/** True when the lock/breaker at `path` names a holder that is gone (see {@link lockIsStale}). */
async function ownerIsDead(path: string): Promise<boolean> {
  const info = await readLock(path);
  if (info !== undefined) return lockIsStale(info);
  // No readable owner (written by another tool, or corrupt): stale only when old.
  const st = await fs.stat(path).catch(() => undefined);
  return st !== undefined && Date.now() - st.mtimeMs > BREAKER_STALE_MS;
}

/** Removes a lock whose holder is gone, serialised through a short-lived breaker lock. */
async function breakStaleLock(lock: string): Promise<void> {
  const breaker = `${lock}.break`;
  if (!(await createOwnedFile(breaker).catch(() => false))) {
    if (await ownerIsDead(breaker)) await fs.rm(breaker, { force: true });
    return;
  }
  try {
    if (await ownerIsDead(lock)) await fs.rm(lock, { force: true });
  } finally {
    await fs.rm(breaker, { force: true });
  }
}

/** "pid 123 on host h (started …, last refreshed 4 s ago)" for messages. */
function describeHolder(info: LockInfo): string {
  const ago = Math.max(0, Math.round((Date.now() - info.refreshedAt) / 1000));
  return `pid ${info.pid} on ${info.host === hostname() ? "this host" : `host ${info.host}`}, lock refreshed ${ago} s ago`;
}

/**
 * Runs `fn` holding an exclusive lock on `path` (the file `path.lock`, linked into place with the
 * owner's pid, host and process start time already in it, and touched every `LOCK_REFRESH_MS`
 * while held). A lock whose holder is gone (see {@link lockIsStale}) is taken over. The lock is
 * released on every exit path of `fn`.
 * @throws SopsError LOCK_TIMEOUT after `timeoutMs` (default 30 s), naming the holder and how to clear the lock.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
  const lock = `${path}.lock`;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let delay = 5;
  for (;;) {
    try {
      if (await createOwnedFile(lock)) break;
    } catch (e) {
      throw ioError("taking the lock", lock, e);
    }
    await breakStaleLock(lock);
    if (Date.now() > deadline) {
      const info = await readLock(lock);
      const local = info !== undefined && info.host === hostname();
      throw new SopsError("LOCK_TIMEOUT", `another process holds the lock on this file${info ? ` (${describeHolder(info)})` : ""}`, {
        file: path,
        hint:
          info === undefined
            ? `wait for it to finish; if no stellar-secrets or sops process is running, delete ${lock}`
            : local
              ? `wait for it to finish; if pid ${info.pid} is not a stellar-secrets process (\`ps -p ${info.pid} -o pid,lstart,args\`), delete ${lock}`
              : `wait for it to finish; the lock expires ${LOCK_STALE_MS / 1000} s after its holder stops refreshing it; if nothing runs on ${info.host}, delete ${lock}`,
      });
    }
    await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
    delay = Math.min(delay * 2, 100);
  }
  // show that the holder is alive (for holders on other hosts, and locks without a start time)
  const refresh = setInterval(() => {
    const now = new Date();
    fs.utimes(lock, now, now).catch(() => undefined);
  }, LOCK_REFRESH_MS);
  refresh.unref();
  try {
    return await fn();
  } finally {
    clearInterval(refresh);
    await fs.rm(lock, { force: true });
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  return "not a regular file";
}

function notAFile(path: string, st: Stats): SopsError {
  return new SopsError("NOT_A_FILE", `the path is ${kindOf(st)}, not a regular file; it was not read`, {
    file: path,
    hint: "secrets files are regular files: replace it with the file from git (`git checkout -- <path>`)",
  });
}

function tooLarge(path: string, maxBytes: number): SopsError {
  return new SopsError("FILE_TOO_LARGE", `the file is larger than ${maxBytes} bytes`, { file: path });
}

function readError(path: string, e: unknown): SopsError {
  if (e instanceof SopsError) return e;
  if ((e as NodeJS.ErrnoException).code === "ENOENT") {
    return new SopsError("IO_ERROR", "the file does not exist", { file: path, cause: e, hint: "create it with `stellar-secrets init`" });
  }
  return ioError("reading the file", path, e);
}

/**
 * The bytes of the regular file at `path`. It is opened non-blocking and checked with fstat before
 * a byte is read, so a FIFO, socket, device or directory is refused at once (a FIFO never blocks).
 * An environment's file (`production.enc.yaml`) that is a symbolic link to another environment's
 * file (`development.enc.yaml`) is refused before it is opened (one lstat for such a name; none
 * for other names): read as this environment's it would give the other's values.
 * @throws SopsError NOT_A_FILE for anything but a regular file; FILE_TOO_LARGE over `maxBytes`
 *   (default 8 MiB); OTHER_ENVIRONMENT_FILE for such a link; IO_ERROR otherwise (`cause` is the
 *   errno error: ENOENT, EACCES, ...).
 */
export async function readRegularFile(path: string, options: { maxBytes?: number } = {}): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? MAX_SECRETS_FILE_BYTES;
  assertOwnEnvironmentFile(path);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = await handle.stat();
    if (!st.isFile()) throw notAFile(path, st);
    if (st.size > maxBytes) throw tooLarge(path, maxBytes);
    const bytes = await handle.readFile();
    if (bytes.length > maxBytes) throw tooLarge(path, maxBytes);
    return bytes;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EISDIR") throw notAFile(path, await fs.stat(path));
    throw readError(path, e);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** {@link readRegularFile}, synchronously (for loaders that read thousands of small files). */
export function readRegularFileSync(path: string, options: { maxBytes?: number } = {}): Buffer {
  const maxBytes = options.maxBytes ?? MAX_SECRETS_FILE_BYTES;
  assertOwnEnvironmentFile(path);
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile()) throw notAFile(path, st);
    if (st.size > maxBytes) throw tooLarge(path, maxBytes);
    if (st.size > 0) {
      // the size is known: read it straight into one buffer (readFileSync(fd) would fstat again;
      // a workspace check reads thousands of files and each system call counts)
      const bytes = Buffer.allocUnsafe(st.size);
      let got = 0;
      while (got < bytes.length) {
        const n = readSync(fd, bytes, got, bytes.length - got, null);
        if (n === 0) break;
        got += n;
      }
      return got === bytes.length ? bytes : bytes.subarray(0, got);
    }
    const bytes = readFileSync(fd); // size 0: read to the end (a file that reports no size)
    if (bytes.length > maxBytes) throw tooLarge(path, maxBytes);
    return bytes;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EISDIR") throw notAFile(path, statSync(path));
    throw readError(path, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function readText(path: string): Promise<string> {
  return decodeUtf8(await readRegularFile(path), { path });
}

/** Reads and parses a secrets file without decrypting it. */
export async function readSecretsFile(path: string): Promise<SecretsFile> {
  return parseSecretsFile(await readText(path), { path });
}

/** Reads, decrypts and verifies a secrets file. */
export async function loadSecrets(path: string, identities: Identities | readonly string[], cache?: DecryptCache): Promise<DecryptedSecrets> {
  return decryptSecrets(await readText(path), identities, { path, ...(cache !== undefined ? { cache } : {}) });
}

/**
 * Parses and verifies freshly written text with the known data key before it replaces the file.
 * With the cache of the read before the change, an entry whose name and ENC string are unchanged
 * (its tag already verified under this key) is not decrypted again; every changed value is, and
 * the MAC is always recomputed over every value.
 */
function verifyWritten(text: string, dataKey: Uint8Array, path: string, cache?: DecryptCache): DecryptedSecrets {
  try {
    return decryptSecretsWithKey(parseSecretsFile(text, { path }), dataKey, text, path, cache);
  } catch (cause) {
    throw new SopsError("IO_ERROR", "the re-encrypted file did not verify; nothing was written", { file: path, cause });
  }
}

/** Removes temp files that writers killed mid-write left next to `path`. Call under the lock. */
async function cleanTempFiles(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  const lockPrefix = `${basename(path)}.lock.`;
  for (const n of names) {
    let pidText: string | undefined;
    if (n.startsWith(prefix) && n.endsWith(".tmp")) pidText = n.slice(prefix.length).split(".")[0];
    else if (n.startsWith(lockPrefix) && n.endsWith(".own")) pidText = n.slice(lockPrefix.length).replace(/^break\./, "").split(".")[0];
    const pid = Number(pidText);
    if (pidText !== undefined && Number.isInteger(pid) && pid !== process.pid && !alive(pid)) await fs.rm(join(dir, n), { force: true });
  }
}

/**
 * Under the lock: read, decrypt and verify; let `change` edit the values; re-encrypt with stable
 * ciphertext (optionally for new recipients); verify the new text; write it atomically.
 * `options.cache`: the {@link DecryptCache} of an earlier read of the same file in this operation
 * (values it verified are not decrypted again; the MAC is always verified); it then also holds
 * the data key until the caller drops it. `options.reuseFrom`: other verified versions whose ENC
 * string is kept for a value set to what they hold, under the same data key (see
 * {@link reencryptSecrets}). `options.sides`: committed versions (their exact text and verified
 * decryption, e.g. the two sides of a merge): when the edited file would be one of them in meaning
 * (see {@link sameMeaning}), that version's text is written byte for byte instead of a re-encryption
 * with a new `lastmodified` and MAC, so the result does not depend on the second it was written in
 * (git's history simplification then treats the file as that side's); as the merge driver does.
 * @returns the new verified state.
 */
export async function editSecretsFile(
  path: string,
  identities: Identities | readonly string[],
  change: (values: Map<string, string>) => void | Promise<void>,
  options: { recipients?: string[]; cache?: DecryptCache; reuseFrom?: readonly DecryptedSecrets[]; sides?: readonly VersionText[] } = {},
): Promise<DecryptedSecrets> {
  return withFileLock(path, async () => {
    await cleanTempFiles(path);
    // a cache of this operation's earlier read (set's check that it can decrypt, before it asks
    // for the value): the read under the lock then skips the age unwrap and the AES-GCM of every
    // unchanged value; it still recomputes and verifies the MAC over every value
    const cache = options.cache ?? new DecryptCache();
    const current = await loadSecrets(path, identities, cache);
    const values = new Map(current.values);
    await change(values);
    const unchanged = sameEntries(current.values, values) && (options.recipients === undefined || sameRecipients(options.recipients, current.file.recipients));
    if (unchanged) {
      // nothing changed: leave the file (and its mac/lastmodified) untouched, unless it is a side in meaning with other bytes
      const side = options.sides?.find((v) => sameMeaning(current, v.secrets));
      if (side === undefined || side.text === (await fs.readFile(path, "utf8"))) return current;
      const kept = verifyWritten(side.text, current.dataKey, path, cache);
      await writeFileAtomic(path, side.text);
      return kept;
    }
    const text = await reencryptSecrets(current, values, {
      ...(options.recipients ? { recipients: options.recipients } : {}),
      ...(options.reuseFrom ? { reuseFrom: options.reuseFrom } : {}),
    });
    const next = verifyWritten(text, current.dataKey, path, cache);
    // the edited file is a committed version in meaning: that version's bytes (its own valid mac and lastmodified)
    const side = options.sides?.find((v) => sameMeaning(next, v.secrets));
    if (side !== undefined) {
      const kept = verifyWritten(side.text, current.dataKey, path, cache);
      await writeFileAtomic(path, side.text);
      return kept;
    }
    await writeFileAtomic(path, text);
    return next;
  });
}

/** One committed version of a secrets file: its exact text and its verified decryption (keep in memory only). */
export interface VersionText {
  text: string;
  secrets: DecryptedSecrets;
}

/**
 * True when two verified versions are the same file in meaning: the same names in the same order
 * with the same values and sops types, the same data key, the same age stanzas byte for byte, the
 * same crypt rules and the same comments as stored. Only `mac`, `lastmodified` and `version` may
 * differ (the MAC covers exactly these values in this order, so each text's own MAC holds for it).
 * Never compares or returns a value outside memory.
 */
export function sameMeaning(a: DecryptedSecrets, b: DecryptedSecrets): boolean {
  if (a.file.format !== b.file.format || !sameEntries(a.values, b.values)) return false;
  if (a.dataKey.length !== b.dataKey.length || !a.dataKey.every((x, i) => x === b.dataKey[i])) return false;
  const ea = a.file.entries;
  const eb = b.file.entries;
  if (ea.length !== eb.length || !ea.every((e, i) => e.name === eb[i]!.name && e.encrypted === eb[i]!.encrypted && e.type === eb[i]!.type)) return false;
  const ma = a.file.metadata;
  const mb = b.file.metadata;
  if (ma.age.length !== mb.age.length || !ma.age.every((s, i) => s.recipient === mb.age[i]!.recipient && s.enc === mb.age[i]!.enc)) return false;
  const rules = ["unencrypted_suffix", "encrypted_suffix", "unencrypted_regex", "encrypted_regex", "unencrypted_comment_regex", "encrypted_comment_regex", "mac_only_encrypted"] as const;
  if (!rules.every((r) => ma[r] === mb[r]) || JSON.stringify(ma.other) !== JSON.stringify(mb.other)) return false;
  return commentsKey(a.file) === commentsKey(b.file);
}

/** The stored comments of a file as one comparable string ("" when it has none). */
function commentsKey(file: SecretsFile): string {
  const c = file.comments;
  if (c === undefined) return "";
  return JSON.stringify([c.header, [...c.above], [...c.inline], c.footer]);
}

function sameEntries(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  const x = [...a];
  const y = [...b];
  return x.every(([k, v], i) => y[i]![0] === k && y[i]![1] === v);
}

function sameRecipients(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a.map(normalizeRecipient));
  const y = new Set(b.map(normalizeRecipient));
  return x.size === y.size && [...y].every((r) => x.has(r));
}

/** Creates a new secrets file (new data key). @throws SopsError IO_ERROR when it already exists. */
export async function createSecretsFile(path: string, recipients: string[], values: ReadonlyMap<string, string> = new Map()): Promise<void> {
  await fs.mkdir(dirname(path), { recursive: true });
  await withFileLock(path, async () => {
    try {
      await fs.access(path);
      throw new SopsError("IO_ERROR", "the file already exists; refusing to overwrite it", { file: path });
    } catch (e) {
      if (e instanceof SopsError) throw e;
    }
    const { text, dataKey } = await encryptWithNewKey(values, { recipients });
    verifyWritten(text, dataKey, path);
    await writeFileAtomic(path, text);
  });
}

/** updatekeys on disk: same data key and values, stanzas re-wrapped for exactly `recipients`. */
export async function updateKeysFile(path: string, identities: Identities | readonly string[], recipients: string[]): Promise<DecryptedSecrets> {
  return withFileLock(path, async () => {
    const cache = new DecryptCache();
    const current = await loadSecrets(path, identities, cache);
    const text = await updateKeys(current, recipients);
    const next = verifyWritten(text, current.dataKey, path, cache);
    await writeFileAtomic(path, text);
    return next;
  });
}

/** rotate on disk: a new data key, every value re-encrypted, for `recipients` (default: current). */
export async function rotateFile(path: string, identities: Identities | readonly string[], options: { recipients?: string[] } = {}): Promise<DecryptedSecrets> {
  return withFileLock(path, async () => {
    const current = await loadSecrets(path, identities);
    const { text, dataKey } = await rotateWithNewKey(current, options.recipients ? { recipients: options.recipients } : {});
    const next = verifyWritten(text, dataKey, path);
    await writeFileAtomic(path, text);
    return next;
  });
}
