/**
 * The one owner of URIs and paths in the server: `file:` URI ↔ absolute path (through
 * `node:url`'s `fileURLToPath` / `pathToFileURL`, nothing hand-rolled), absolute path ↔ the
 * `/`-separated project-relative path core's index keys files by, and folder containment.
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import { isAbsolute, join, normalize, parse, relative, sep } from "node:path";
import { toRelative } from "@stellar-secrets/core";

/**
 * The absolute file path of a `file:` URI, or undefined for other schemes, malformed URIs and
 * URIs with a fragment or a query (`#` and `?` in a file's name are percent-encoded). A
 * folder's URI written with a trailing slash (eglot's `file:///home/u/project/`) names the folder
 * without it, as every other path of it is spelled (the file system's root stays itself).
 */
export function uriToPath(uri: string): string | undefined {
  // (a hand-written client may send a number or null where a URI goes: no path)
  if (typeof uri !== "string" || !uri.startsWith("file:")) return undefined;
  // a fragment or a query (a `#` or `?` the client did not percent-encode) is no part of a path:
  // `fileURLToPath` drops it, and `a.yaml#b.yaml` would be taken for `a.yaml`, another file
  if (uri.includes("#") || uri.includes("?")) return undefined;
  let path: string;
  try {
    path = normalize(fileURLToPath(uri));
  } catch {
    return undefined;
  }
  const root = parse(path).root;
  while (path.length > root.length && (path.endsWith(sep) || path.endsWith("/"))) path = path.slice(0, -1);
  return path;
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
