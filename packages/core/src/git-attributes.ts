/**
 * The `git-attributes` rule: what the `.gitattributes` files git reads say about the environment
 * files in one state (the project's own, down to the secrets folder, and, for a project in a
 * subfolder of its repository, those of the folders above the root, where git also reads them and
 * reads `[attr]` macros only from the top's). Decided by review's reading of the format
 * (review/gitattributes.ts): the two-state comparisons there report a change, this reports the
 * state. Pure: texts in, diagnostics out.
 */
import { posix } from "node:path";
import { normalizeSecretsDir } from "@stellar-secrets/sops";
import { diagnosticAt, type Diagnostic } from "./diagnostics.js";
import { LineIndex, lineEndAt } from "./position.js";
import type { ProjectConfig } from "./project.js";
import { checkoutRewrites, mergeDriverBypassed, type AttributesFile } from "./review/gitattributes.js";
import { foldedPath } from "./review/paths.js";
import type { AboveRootFiles } from "./workspace.js";

const ATTRIBUTES_FILE = ".gitattributes";

/**
 * `git-attributes` for the environment files of `project` (files `envFiles`, project-relative):
 * an error where the `.gitattributes` git reads (`own`: the project's, path relative to the root →
 * text; `above`: the folders' above the root) take them off the stellar merge driver although a
 * line sends them there, give them `merge=union`, or rewrite them on checkout (`filter`,
 * `working-tree-encoding` other than UTF-8). Reported at the deciding line (`../.gitattributes`
 * for a file above the root). Default severity.
 */
export function checkGitAttributes(
  project: Pick<ProjectConfig, "secretsDir">,
  envFiles: readonly string[],
  own: ReadonlyMap<string, string>,
  above: AboveRootFiles | undefined,
): Diagnostic[] {
  if (envFiles.length === 0 || (own.size === 0 && (above === undefined || above.files.size === 0))) return [];
  const prefix = above?.prefix ?? "";
  const atTop = (rel: string): string => (prefix === "" ? rel : `${prefix}/${rel}`);
  const back = (rel: string): string => (prefix === "" ? rel : posix.relative(prefix, rel));
  // every file git reads for them, outermost first, in the work tree's paths (macros: the top's only)
  const texts = new Map<string, string>();
  const files: AttributesFile[] = [];
  const add = (rel: string, text: string): void => {
    const slash = rel.lastIndexOf("/");
    const name = rel.slice(slash + 1);
    if (foldedPath(name) !== ATTRIBUTES_FILE) return;
    texts.set(rel, text);
    files.push({ dir: rel.slice(0, Math.max(0, slash)), text, ...(name === ATTRIBUTES_FILE ? {} : { name }) });
  };
  for (const [rel, text] of above?.files ?? []) add(rel, text);
  for (const [rel, text] of own) add(atTop(rel), text);
  files.sort((a, b) => (a.dir === "" ? 0 : a.dir.split("/").length) - (b.dir === "" ? 0 : b.dir.split("/").length));
  const paths = envFiles.map(atTop).sort();
  const secretsDir = normalizeSecretsDir(project.secretsDir);
  const shown = (list: readonly string[]): string => {
    const named = list.map(back);
    return named.length === 1 ? (named[0] as string) : `${named.slice(0, -1).join(", ")} and ${named.at(-1) as string}`;
  };
  const at = (file: string, line: number, message: string): Diagnostic => {
    const text = texts.get(file) ?? "";
    const lines = new LineIndex(text);
    const start = lines.offsetAt(line, 1);
    return diagnosticAt("git-attributes", "error", back(file), lines, { start, end: lineEndAt(text, start) }, message);
  };
  const where = (file: string): string =>
    prefix !== "" && !file.startsWith(`${prefix}/`)
      ? ` (${back(file)} is above the project root: git reads it for the project's files as it reads the project's own, and \`stellar-secrets git setup\` does not write it)`
      : posix.basename(file) !== ATTRIBUTES_FILE
        ? ` (a case-insensitive checkout, macOS or Windows, reads ${back(file)} as ${ATTRIBUTES_FILE})`
        : "";
  const setupLine = `\`${secretsDir}/*.enc.yaml diff=stellar merge=stellar\``;
  const out: Diagnostic[] = [];
  const bypass = mergeDriverBypassed(files, paths);
  if (bypass !== undefined) {
    const it = bypass.paths.length === 1 ? "it" : "them";
    const now =
      bypass.unreadMacro === true
        ? "no merge attribute: the line that was to send them there uses a macro defined outside the top of the work tree's .gitattributes, and git reads [attr] macros only there"
        : bypass.now === "unspecified"
          ? "no merge attribute"
          : bypass.now === "unset"
            ? "-merge"
            : bypass.now === "set"
              ? "git's text merge"
              : `merge=${bypass.now}`;
    out.push(
      at(
        bypass.file,
        bypass.line,
        `${back(bypass.file)} takes ${shown(bypass.paths)} off the stellar-secrets merge driver (merge=stellar; git gives ${it} ${now})${where(bypass.file)}: ` +
          `git would merge ${it} as text, and a text merge of an environment file is a file no one can decrypt ` +
          `(merge=union even commits two value lines and two macs without a conflict, and no pre-commit hook runs for a merge commit git makes); ` +
          `make ${setupLine} (what \`stellar-secrets git setup\` writes in the project's ${ATTRIBUTES_FILE}) the last word on ${it}: remove or change this line`,
      ),
    );
  }
  const rewritten = checkoutRewrites(files, paths);
  if (rewritten !== undefined && rewritten.line !== undefined) {
    out.push(
      at(
        rewritten.file,
        rewritten.line,
        `${back(rewritten.file)} gives ${shown(rewritten.paths)} ${rewritten.attribute}${where(rewritten.file)}: ` +
          `git rewrites ${rewritten.paths.length === 1 ? "its" : "their"} bytes on every checkout (a deploy, each member's clone), while git's copy, which review and the pre-commit hook read, keeps others; ` +
          `${rewritten.attribute.startsWith("working-tree-encoding") ? "a file that is not UTF-8 decrypts for no one" : "a filter command decides what the checkout holds"}; ` +
          `remove that attribute for the environment files`,
      ),
    );
  }
  return out;
}
