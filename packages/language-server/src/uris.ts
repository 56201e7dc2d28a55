/**
 * The one owner of URIs and paths in the server: `file:` URI ↔ absolute path (through
 * `node:url`'s `fileURLToPath` / `pathToFileURL`, nothing hand-rolled), absolute path ↔ the
 * `/`-separated project-relative path core's index keys files by, and folder containment.
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import { isAbsolute, join, normalize, relative } from "node:path";
import { toRelative } from "@stellar-secrets/core";

/** The absolute file path of a `file:` URI, or undefined for other schemes (and malformed URIs). */
export function uriToPath(uri: string): string | undefined {
  if (!uri.startsWith("file:")) return undefined;
  try {
    return normalize(fileURLToPath(uri));
  } catch {
    return undefined;
  }
}

/** The `file:` URI of an absolute path. */
export function pathToUri(path: string): string {
  return pathToFileURL(path).href;
}

/** The `/`-separated path of `path` relative to a project root (how core's index names files). */
export function toProjectPath(root: string, path: string): string {
  return toRelative(root, path);
}

/** The absolute path of a project-relative (`/`-separated) path. */
export function fromProjectPath(root: string, rel: string): string {
  return join(root, ...rel.split("/"));
}

/** True when `path` is `dir` or inside it (by path components, `..` resolved). */
export function isInside(path: string, dir: string): boolean {
  const r = relative(dir, path);
  return r === "" || (!r.startsWith("..") && !isAbsolute(r));
}

/** True when `path` is `dir` or starts with `dir/` (a textual prefix test on normalized paths). */
export function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir + "/");
}
