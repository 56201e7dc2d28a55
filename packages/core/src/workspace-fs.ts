/**
 * The file-system seam of core: every read core makes (finding stellar.yaml, loading the
 * project, walking the repository) goes through a {@link WorkspaceFs}, so tests and editors can
 * pass their own (an editor's open buffers, an in-memory tree).
 */
import * as nodeFs from "node:fs";
import { readRegularFileSync } from "@stellar-secrets/sops";

/** The file-system calls the loader makes (synchronous: a cold check is fastest that way). */
export interface WorkspaceFs {
  /** The text of a file (the loader then skips it when it is over the size limit). */
  readFile(path: string): string;
  /**
   * The bytes of a file. Used for the secrets folder when present, so that bytes that are not
   * valid UTF-8 are reported instead of silently replaced.
   */
  readFileBytes?(path: string): Uint8Array;
  readdir(path: string): nodeFs.Dirent[];
  stat(path: string): nodeFs.Stats;
  realpath(path: string): string;
}

/** The real file system. */
export const nodeWorkspaceFs: WorkspaceFs = {
  // regular files only (opened non-blocking, fstat before reading): a FIFO is an error, never a hang;
  // the loader applies its own size limit after reading
  readFile: (p) => readRegularFileSync(p, { maxBytes: Number.MAX_SAFE_INTEGER }).toString("utf8"),
  readFileBytes: (p) => readRegularFileSync(p, { maxBytes: Number.MAX_SAFE_INTEGER }),
  readdir: (p) => nodeFs.readdirSync(p, { withFileTypes: true }),
  stat: (p) => nodeFs.statSync(p),
  realpath: (p) => nodeFs.realpathSync.native(p),
};
