/**
 * The `missing-secrets-dir` rule: stellar.yaml's `secrets_dir` names a folder that does not
 * exist, or one with no environment file and no catalog. `stellar-secrets init` always writes an
 * environment file per environment there, so this is almost always a mistyped path, and every
 * secret reference would otherwise be reported as unknown with nothing saying why. The loader
 * surveys the folder (I/O through a {@link WorkspaceFs}); the check itself is a pure function.
 */
import { dirname, join } from "node:path";
import { DEFAULT_SECRETS_DIR, editDistance, environmentOfFileName, normalizeSecretsDir, PROJECT_FILE } from "@stellar-secrets/sops";
import { isMap, parseDocument } from "yaml";
import type { Diagnostic } from "./diagnostics.js";
import { LineIndex, loneCrAsLf, type Position, type TextRange } from "./position.js";
import type { Severity } from "./rules.js";
import type { WorkspaceFs } from "./workspace-fs.js";
import { findPair, nodeRange } from "./yaml-nodes.js";

/** What the loader found at `secrets_dir` when it read no environment file and no catalog there. */
export interface SecretsDirSurvey {
  /** `secrets_dir` as used (normalized, relative to the root). */
  dir: string;
  /** False when nothing (or no folder) is at that path. */
  exists: boolean;
  /**
   * Folders beside it (same parent) that hold environment files (`*.enc.yaml`), relative to the
   * root, sorted, each with how many it holds.
   */
  candidates: { dir: string; files: number }[];
  /** Where stellar.yaml writes the value of `secrets_dir`; undefined when it does not (the default is used). */
  at: { start: Position; end: Position } | undefined;
}

/** The range of the value of `secrets_dir` in a stellar.yaml text, or undefined when it has none (or is not YAML). Never throws. */
export function secretsDirValueRange(projectText: string): TextRange | undefined {
  try {
    const doc = parseDocument(loneCrAsLf(projectText), { uniqueKeys: false, prettyErrors: false });
    if (!isMap(doc.contents)) return undefined;
    const pair = findPair(doc.contents, "secrets_dir");
    return pair === undefined ? undefined : nodeRange(pair.value as Parameters<typeof nodeRange>[0]);
  } catch {
    return undefined;
  }
}

/**
 * Looks at `secretsDir` (relative to `root`) and at the folders beside it, through `fs`. Call it
 * only when the secrets folder gave no environment file and no catalog (it lists a folder or
 * two, reading no file). Never throws.
 */
export function surveySecretsDir(fs: WorkspaceFs, root: string, secretsDir: string, projectText: string): SecretsDirSurvey {
  const dir = normalizeSecretsDir(secretsDir);
  let exists = false;
  try {
    exists = fs.stat(join(root, dir)).isDirectory();
  } catch {
    exists = false;
  }
  const parent = dirname(dir) === "." ? "" : dirname(dir);
  const candidates: { dir: string; files: number }[] = [];
  let siblings: string[] = [];
  try {
    siblings = fs
      .readdir(join(root, parent))
      .filter((e) => e.isDirectory() && !e.name.startsWith(".") && e.name !== "node_modules")
      .map((e) => e.name);
  } catch {
    siblings = [];
  }
  for (const name of siblings.sort()) {
    const rel = parent === "" ? name : `${parent}/${name}`;
    if (rel === dir) continue;
    let files = 0;
    try {
      for (const e of fs.readdir(join(root, rel))) if (!e.isDirectory() && environmentOfFileName(e.name) !== undefined) files++;
    } catch {
      continue;
    }
    if (files > 0) candidates.push({ dir: rel, files });
  }
  const range = secretsDirValueRange(projectText);
  const lines = range === undefined ? undefined : new LineIndex(projectText);
  return { dir, exists, candidates, at: range === undefined || lines === undefined ? undefined : lines.rangeToPositions(range) };
}

/**
 * The `missing-secrets-dir` diagnostic on stellar.yaml (at the `secrets_dir` value, else at its
 * start), or undefined when the project has an environment file or a catalog after all.
 * `found` says what the index holds now (an editor may have created a file since the survey).
 */
export function checkSecretsDir(survey: SecretsDirSurvey, found: { environmentFiles: number; catalog: boolean }, severity: Severity): Diagnostic | undefined {
  if (found.environmentFiles > 0 || found.catalog) return undefined;
  const at = survey.at ?? { start: { line: 1, column: 1 }, end: { line: 1, column: 1 } };
  const named = survey.at === undefined ? `secrets_dir is not set, so the default folder "${DEFAULT_SECRETS_DIR}"` : `secrets_dir "${survey.dir}"`;
  const what = survey.exists ? `${named} holds no environment file (*.enc.yaml) and no catalog` : `${named} does not exist`;
  const near = nearestCandidate(survey);
  const fix =
    near === undefined
      ? `fix secrets_dir in ${PROJECT_FILE} to name the folder of the environment files, or create them there (\`stellar-secrets set NAME --env ENV\` writes an environment's file; \`stellar-secrets init --secrets-dir DIR\` sets up a new repository)`
      : `did you mean "${near.dir}" (it holds ${near.files === 1 ? "an environment file" : `${near.files} environment files`})? fix secrets_dir in ${PROJECT_FILE}`;
  const d: Diagnostic = {
    rule: "missing-secrets-dir",
    severity,
    file: PROJECT_FILE,
    line: at.start.line,
    column: at.start.column,
    endLine: at.end.line,
    endColumn: at.end.column,
    // (with a folder of environment files beside it, the references are not reported one by one: misnamedSecretsDir)
    message: `${what}: no environment file is read, so ${near === undefined ? "every secret reference is reported as unknown" : "no secret is found (the references are not reported one by one meanwhile)"}; ${fix}`,
  };
  if (near !== undefined && survey.at !== undefined) d.suggestion = near.dir;
  return d;
}

/**
 * The folder of environment files that `secrets_dir` probably means (`Secrets` for `secrets`, as a
 * case-insensitive disk hides), when {@link checkSecretsDir} reports the folder missing and offers
 * one: every `unknown-secret` would then say to create a secret that is there, so the check leaves
 * them to that one finding. Undefined otherwise.
 */
export function misnamedSecretsDir(survey: SecretsDirSurvey | undefined, found: { environmentFiles: number; catalog: boolean }): string | undefined {
  if (survey === undefined || found.environmentFiles > 0 || found.catalog) return undefined;
  return nearestCandidate(survey)?.dir;
}

/** The candidate folder nearest in spelling to the secrets folder (the only one when there is one). */
function nearestCandidate(survey: SecretsDirSurvey): { dir: string; files: number } | undefined {
  let best: { dir: string; files: number } | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of survey.candidates) {
    const d = editDistance(survey.dir, c.dir);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}
