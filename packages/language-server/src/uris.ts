/** The one owner of URI ↔ path conversion in the server. */
import { fileURLToPath, pathToFileURL } from "node:url";
import { normalize } from "node:path";

/** The absolute file path of a `file:` URI, or undefined for other schemes. */
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
