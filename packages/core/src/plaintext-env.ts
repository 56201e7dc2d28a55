/**
 * A plaintext environment file outside the secrets folder (`.env.production`, `.env`,
 * `production.env`, `secrets.production.json`) that holds values of this project's secrets and that
 * git tracks: whoever can read the repository reads them. An untracked (git-ignored) `.env` is
 * normal local practice and is never reported; whether git tracks a file is the caller's to say
 * (`CheckOptions.tracked`: `check` asks git once, and only when such a file exists). The loader
 * records each such file's assignments (names and lines, never a value) while it walks; reading
 * only files with these names, so a project without them pays one name test per file it passes.
 */
import type { Diagnostic } from "./diagnostics.js";
import { shellPathWord } from "./shell.js";

/** One `NAME=value` (or `"name": "value"`, `name: value`) line with a non-empty, non-placeholder value: where, never the value. */
export interface PlaintextAssignment {
  /** The name as written (`STRIPE_API_KEY`). */
  name: string;
  /** 1-based line. */
  line: number;
  /** 1-based columns of the line's text (without its line break), for the diagnostic's range. */
  endColumn: number;
}

/** A plaintext environment file the loader found: its path (relative to the root) and its assignments. */
export interface PlaintextEnvFile {
  path: string;
  assignments: readonly PlaintextAssignment[];
}

/** The most of such a file that is read (bytes); the rest is not looked at. */
export const PLAINTEXT_ENV_MAX_BYTES = 256 * 1024;

const CANDIDATE = /^(?:\.env(?:\.[A-Za-z0-9_.-]+)?|[A-Za-z0-9_-]+\.env|secrets?(?:\.[A-Za-z0-9_-]+)?\.(?:json|ya?ml|env))$/;
/** Templates committed on purpose, with placeholders: never candidates. */
const TEMPLATE = /(?:^|[._-])(?:example|sample|template|dist|defaults?|schema)(?:[._-]|$)/i;

/**
 * A test without a regular expression that every name {@link isPlaintextEnvName} takes passes (it
 * starts with `.` or `s`, or ends with `.env`): the loader runs it on every file it passes, most of
 * them config files, and the regular expression only on the few that pass it.
 */
export function mayBePlaintextEnvName(base: string): boolean {
  const c = base.charCodeAt(0);
  return c === 46 /* . */ || c === 115 /* s */ || base.endsWith(".env");
}

/** True when a file's name (its last path part) is one under which plaintext values are kept: `.env`, `.env.production`, `production.env`, `secrets.production.json`. */
export function isPlaintextEnvName(base: string): boolean {
  return CANDIDATE.test(base) && !TEMPLATE.test(base);
}

/**
 * The paths of `paths` (a git listing: the index or a commit, relative to the project root) whose
 * names are plaintext environment file names ({@link isPlaintextEnvName}), wherever they are: not
 * only in the folders the loader walks (a `deploy/.env.production` outside `config.include` is
 * tracked all the same). Left out: the secrets folder (`secretsDir`, its own rules), `node_modules`,
 * and a folder with a stellar.yaml of its own (another project, checked as that project), which
 * `hasProjectFile` (a folder relative to the root) tells. One name test per path.
 */
export function plaintextEnvCandidates(paths: Iterable<string>, secretsDir: string, hasProjectFile: (dir: string) => boolean): string[] {
  const out: string[] = [];
  const secrets = `${secretsDir}/`;
  for (const rel of paths) {
    const slash = rel.lastIndexOf("/");
    const base = slash < 0 ? rel : rel.slice(slash + 1);
    if (!mayBePlaintextEnvName(base) || !isPlaintextEnvName(base) || rel.startsWith(secrets)) continue;
    if (rel.startsWith("node_modules/") || rel.includes("/node_modules/")) continue;
    let nested = false;
    for (let i = rel.indexOf("/"); i >= 0 && !nested; i = rel.indexOf("/", i + 1)) nested = hasProjectFile(rel.slice(0, i));
    if (!nested) out.push(rel);
  }
  return out;
}

const ASSIGNMENT = /^[ \t]*(?:export[ \t]+)?(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\1[ \t]*(?:=|:)[ \t]*(.*?)[ \t]*,?[ \t]*$/;
const PLACEHOLDER = /^(?:|null|~|true|false|\{|\[|\||>|changeme|change_me|replace_?me|todo|tbd|xxx+|\*+|\.\.\.|<[^>]*>|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|your[_-].*|ENC\[.*\])$/i;

/** The assignments of a plaintext environment file's text (first 1,000 lines) whose value is set (not empty, not a placeholder such as `changeme`, `<your key>`, `${VAR}`). */
export function plaintextEnvAssignments(text: string): PlaintextAssignment[] {
  const out: PlaintextAssignment[] = [];
  const lines = text.split("\n", 1000);
  lines.forEach((raw, i) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const m = ASSIGNMENT.exec(line);
    if (m === null) return;
    let value = m[3]!;
    // (a dotenv comment after the value; a quoted value keeps its #)
    if (!/^["']/.test(value)) value = value.replace(/[ \t]+#.*$/, "");
    value = value.trim().replace(/^(["'])(.*)\1$/, "$2").trim();
    if (PLACEHOLDER.test(value)) return;
    out.push({ name: m[2]!, line: i + 1, endColumn: line.length + 1 });
  });
  return out;
}

/**
 * `plaintext-credential` errors for each file of `files` that git tracks (`tracked`: undefined for
 * "not known", then nothing is said) and whose assignments name secrets of this project (`isSecret`
 * of the name as written or in lower case): one per file, at its first such line, naming the lines
 * and names (never a value) and the fix.
 */
export function plaintextEnvDiagnostics(
  files: Iterable<PlaintextEnvFile>,
  isSecret: (name: string) => boolean,
  tracked: (path: string) => boolean | undefined,
  severity: "error" | "warning" | "info",
  environments: readonly string[],
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const file of files) {
    const hits = file.assignments.filter((a) => isSecret(a.name) || isSecret(a.name.toLowerCase()));
    if (hits.length === 0 || tracked(file.path) !== true) continue;
    const first = hits[0]!;
    const shown = hits
      .slice(0, 3)
      .map((a) => `line ${a.line}: ${a.name}${isSecret(a.name) ? "" : ` (secret ${a.name.toLowerCase()})`}`)
      .join(", ");
    const base = file.path.slice(file.path.lastIndexOf("/") + 1).toLowerCase();
    const env = environments.find((e) => base.split(/[._-]/).includes(e.toLowerCase())) ?? "ENV";
    const word = shellPathWord(file.path);
    out.push({
      rule: "plaintext-credential",
      severity,
      file: file.path,
      line: first.line,
      column: 1,
      endLine: first.line,
      endColumn: first.endColumn,
      message:
        `${file.path} holds ${hits.length === 1 ? "a value" : `${hits.length} values`} of this project's secrets in plaintext (${shown}${hits.length > 3 ? ", …" : ""}) and git tracks it: whoever can read the repository reads ${hits.length === 1 ? "it" : "them"}. ` +
          `Stop tracking it (\`git rm --cached ${word}\`, add it to .gitignore, and remove it from git history), rotate each value at its provider, and let the process read the values at run time: \`stellar-secrets exec --env ${env} -- COMMAND\` (or \`export --env ${env}\` to a file outside the repository)`,
    });
  }
  return out;
}
