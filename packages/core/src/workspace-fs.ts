/**
 * The file-system seam of core: every read core makes (finding stellar.yaml, loading the
 * project, walking the repository) goes through a {@link WorkspaceFs}, so tests and editors can
 * pass their own (an editor's open buffers, an in-memory tree).
 */
import { constants, readdirSync, readFileSync, realpathSync, statSync, type Dirent, type Stats } from "node:fs";
import { isInside, MAX_CONFIG_FILE_BYTES, readRegularFileSync } from "@stellar-secrets/sops";
import { LineIndex } from "./position.js";

/** The file-system calls the loader makes (synchronous: a cold check is fastest that way). */
export interface WorkspaceFs {
  /** The text of a file (the loader then skips it when it is over the size limit). */
  readFile(path: string): string;
  /**
   * The bytes of a file. Used for the secrets folder when present, so that bytes that are not
   * valid UTF-8 are reported instead of silently replaced.
   */
  readFileBytes?(path: string): Uint8Array;
  readdir(path: string): Dirent[];
  stat(path: string): Stats;
  realpath(path: string): string;
  /**
   * Where a symbolic link points, as stored (optional: a tree read from git, whose links are not
   * followed, says it this way; the real file system is asked through `realpath`).
   */
  readlink?(path: string): string;
  /**
   * Optional, for speed: the text of a file that `readdir` has just listed as a regular file
   * (not a symbolic link), decoded as `readFile` decodes it. It may rely on that listing (open
   * without following a link, without blocking, no separate type check); anything unusual may
   * throw, and the loader then reads the file with `readFile`, whose answer (or error) counts.
   * A file system that serves some files from elsewhere (an editor's buffers) must serve them
   * here too, or leave this out: the loader prefers it to `readFile` for listed files.
   */
  readListedFile?(path: string): string;
}

// what readListedFile opens with: read-only, never blocking (a FIFO put there since the listing
// gives an error, not a hang), never following a link put there since the listing
const LISTED_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0);

/** The real file system. */
export const nodeWorkspaceFs: WorkspaceFs = {
  // regular files only (opened non-blocking, fstat before reading): a FIFO is an error, never a hang;
  // the loader applies its own size limit after reading
  readFile: (p) => readRegularFileSync(p, { maxBytes: Number.MAX_SAFE_INTEGER }).toString("utf8"),
  readFileBytes: (p) => readRegularFileSync(p, { maxBytes: Number.MAX_SAFE_INTEGER }),
  readdir: (p) => readdirSync(p, { withFileTypes: true }),
  stat: (p) => statSync(p),
  realpath: (p) => realpathSync.native(p),
  // one call into node (open, read to the end, close, decode): no Buffer, no fstat, no Stats object
  // (node takes numeric open flags here too; its types only list the string forms). Nothing read
  // may also be a FIFO put there since the listing: `readFile` tells (it checks the type).
  readListedFile: (p) => {
    const text = readFileSync(p, { encoding: "utf8", flag: LISTED_FLAGS as unknown as string });
    if (text === "") throw new Error(`${p}: empty, read it with readFile`);
    return text;
  },
};

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Why a file read as `text` is not UTF-8 ("is not valid UTF-8 text (line N)"), or undefined.
 * Only a text holding U+FFFD (what a lenient decode puts in place of bad bytes) is checked
 * against the file's bytes, and only when `fs` gives bytes and they decode to `text` (an editor
 * buffer wins over the disk).
 */
export function invalidUtf8(fs: WorkspaceFs, abs: string, text: string): string | undefined {
  if (!text.includes("\uFFFD") || fs.readFileBytes === undefined) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileBytes(abs);
  } catch {
    return undefined;
  }
  try {
    strictUtf8.decode(bytes);
    return undefined;
  } catch {
    if (Buffer.from(bytes).toString("utf8") !== text) return undefined;
    const line = new LineIndex(text).positionAt(text.indexOf("\uFFFD")).line;
    return `is not valid UTF-8 text (line ${line}); it was not read: save it as UTF-8`;
  }
}

/**
 * Why stellar.yaml read as `text` cannot be used as it is (larger than the config size limit,
 * not UTF-8), or undefined. Every reader of stellar.yaml (`loadProject`, `loadWorkspace`) asks it.
 */
export function projectTextProblem(fs: WorkspaceFs, abs: string, text: string): string | undefined {
  const bytes = text.length > MAX_CONFIG_FILE_BYTES / 3 ? Buffer.byteLength(text, "utf8") : text.length;
  if (bytes > MAX_CONFIG_FILE_BYTES) return `is larger than ${MAX_CONFIG_FILE_BYTES / 1024 / 1024} MiB (${(bytes / 1024 / 1024).toFixed(1)} MiB); it cannot be a stellar.yaml`;
  return invalidUtf8(fs, abs, text);
}

/**
 * Where `abs` really is when a symbolic link takes it outside `root` (both resolved through
 * `fs.realpath`), else undefined (inside, or absent). Never throws.
 */
export function linkOutsideRoot(fs: WorkspaceFs, root: string, abs: string): string | undefined {
  let realRoot = root;
  try {
    realRoot = fs.realpath(root);
  } catch {
    // keep root as given
  }
  let target: string;
  try {
    target = fs.realpath(abs);
  } catch {
    return undefined;
  }
  return isInside(realRoot, target) ? undefined : target;
}
