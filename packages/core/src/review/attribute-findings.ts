/**
 * `.gitattributes` changes that weaken what guards the environment files, read as git reads them
 * (from the top of the work tree down, macros only from the top's): taking them off the merge driver
 * (`weakened-rule`) or the diff view (a warning: review still shows every change), rewriting them on
 * checkout, leaving them out of `git archive`, or expanding `$Format:…$` in what it deploys. Pure.
 */
import { DEFAULT_SECRETS_DIR, normalizeSecretsDir } from "@stellar-secrets/sops";
import { posix } from "node:path";
import { PROJECT_FILE } from "../project.js";
import type { ReviewContext } from "./context.js";
import { exportIgnored, exportSubstituted, rewrittenCheckout, weakenedDiffDriver, weakenedMergeDriver } from "./gitattributes.js";
import { pathOpenedAs } from "./paths.js";
import type { ReviewInputs, ReviewProblem } from "./report.js";
import type { ReviewState } from "./state.js";
import { listed } from "./words.js";

/** The `.gitattributes` findings of a change: `problems` (weakened-rule) and `warnings` (the diff view). */
export function attributeProblems(ctx: ReviewContext): { problems: ReviewProblem[]; warnings: ReviewProblem[] } {
  const { base, head, inputs, baseConfig, headConfig, w } = ctx;
  const baseUsable = base.index !== undefined && base.index.projectUsable && baseConfig !== undefined;
  const problems: ReviewProblem[] = [];
  // git reads .gitattributes from the top of the work tree down, macros only from the top's: for a
  // project below the top the attributes are decided in the work tree's paths, the folders above too
  const attributes = attributesView(base, head, inputs.aboveRoot);
  // the secrets folder and the environment files (sorted) in those paths, for every attribute below
  const attributed =
    headConfig !== undefined && head.index !== undefined
      ? { secretsDir: normalizeSecretsDir(headConfig.secretsDir), dir: attributes.at(normalizeSecretsDir(headConfig.secretsDir)), envFiles: [...head.index.environmentFiles.values()].map((f) => attributes.at(f.path)).sort(), configFiles: head.index.configFiles }
      : undefined;
  // .gitattributes taking the environment files off the merge driver: git then merges them as text
  // (merge=union commits two value lines and two macs without a conflict, and no pre-commit hook runs
  // for a merge commit git makes itself), a weakening of what guards every later merge
  if (baseUsable && attributed !== undefined) {
    const weakened = attributes.found(weakenedMergeDriver(attributes.readBase, attributes.readHead, attributed.dir, attributed.envFiles));
    if (weakened !== undefined) {
      const now = weakened.now === "unspecified" ? "no merge attribute" : weakened.now === "unset" ? "-merge" : weakened.now === "set" ? "git's text merge" : `merge=${weakened.now}`;
      problems.push({
        kind: "weakened-rule",
        file: weakened.file,
        ...(weakened.line === undefined ? {} : { line: weakened.line }),
        message:
          `${w.path(weakened.file)} takes ${listed(weakened.paths.map(w.path))} off the stellar-secrets merge driver (merge=stellar; now ${now}): ` +
          `git would merge ${weakened.paths.length === 1 ? "it" : "them"} as text, and a text merge of an environment file is a file no one can decrypt ` +
          `(merge=union even commits two value lines and two macs without a conflict, and no pre-commit hook runs for a merge commit git makes); ` +
          `keep \`${attributed.secretsDir}/*.enc.yaml diff=stellar merge=stellar\` (what \`${w.command("stellar-secrets git setup")}\` writes), or make that change on its own, reviewed separately`,
      });
    }
  }
  // .gitattributes taking the environment files off the keyless diff view: `git diff` and `git log -p`
  // then show raw ciphertext (or "Binary files differ"); review still shows every change, so a warning
  const attributeWarnings: ReviewProblem[] = [];
  if (baseUsable && attributed !== undefined) {
    const weakened = attributes.found(weakenedDiffDriver(attributes.readBase, attributes.readHead, attributed.dir, attributed.envFiles));
    if (weakened !== undefined) {
      const now = weakened.now === "unspecified" ? "no diff attribute" : weakened.now === "unset" ? "-diff" : weakened.now === "set" ? "git's text diff" : `diff=${weakened.now}`;
      attributeWarnings.push({
        kind: "weakened-rule",
        file: weakened.file,
        ...(weakened.line === undefined ? {} : { line: weakened.line }),
        message:
          `${w.path(weakened.file)} takes ${listed(weakened.paths.map(w.path))} off the stellar-secrets diff view (diff=stellar; now ${now}): ` +
          `\`git diff\` and \`git log -p\` no longer show which names changed, only raw ciphertext or "Binary files differ"; this review still shows every change; ` +
          `keep \`${attributed.secretsDir}/*.enc.yaml diff=stellar merge=stellar\` (what \`${w.command("stellar-secrets git setup")}\` writes)`,
      });
    }
  }
  // .gitattributes rewriting the environment files on checkout (working-tree-encoding, filter): git and
  // review hold the files as committed, every checkout (a deploy, each member) holds other bytes
  if (attributed !== undefined) {
    const rewritten = attributes.found(rewrittenCheckout(attributes.readBase, attributes.readHead, attributed.dir, attributed.envFiles));
    if (rewritten !== undefined) {
      problems.push({
        kind: "weakened-rule",
        file: rewritten.file,
        ...(rewritten.line === undefined ? {} : { line: rewritten.line }),
        message:
          `${w.path(rewritten.file)} gives ${listed(rewritten.paths.map(w.path))} ${rewritten.attribute}: ` +
          `git rewrites ${rewritten.paths.length === 1 ? "its" : "their"} bytes on every checkout (a deploy, each member's clone), which review (reading git's copy) never sees; ` +
          `${rewritten.attribute.startsWith("working-tree-encoding") ? "a file that is not UTF-8 decrypts for no one" : "a filter command decides what the checkout holds"}; ` +
          `remove that attribute for the environment files, or make that change on its own, reviewed separately`,
      });
    }
  }
  // .gitattributes leaving stellar.yaml, the environment files or their folders out of `git archive`
  // (export-ignore): an archive deploy's resolver then reads the default secrets/ folder, or nothing
  if (attributed !== undefined) {
    const ignored = attributes.found(exportIgnored(attributes.readBase, attributes.readHead, attributed.dir, attributed.envFiles, attributes.at(PROJECT_FILE)));
    if (ignored !== undefined) {
      problems.push({
        kind: "weakened-rule",
        file: ignored.file,
        ...(ignored.line === undefined ? {} : { line: ignored.line }),
        message:
          `${w.path(ignored.file)} gives ${listed(ignored.paths.map(w.path))} export-ignore: \`git archive\` (a Capistrano deploy, a GitHub tarball, a Dockerfile step) leaves ${ignored.paths.length === 1 ? "it" : "them"} out, which review (reading git's copy) never sees; ` +
          `without ${w.path("stellar.yaml")} the resolver reads the default secrets folder "${DEFAULT_SECRETS_DIR}", whatever secrets_dir names, and without an environment file the deploy breaks; ` +
          `remove that attribute for the project's files, or make that change on its own, reviewed separately`,
      });
    }
    // export-subst: git archive expands $Format:…$ (with %n, new lines) in what it deploys (s24 newattack)
    // (the config files too: an archive deploy's platform reads them, e.g. a $Format:%n…$ base_url line)
    const substituted = attributes.found(exportSubstituted(attributes.readBase, attributes.readHead, attributed.dir, [...attributed.envFiles, ...[...attributed.configFiles.keys()].sort().map(attributes.at)], attributes.at(PROJECT_FILE)));
    if (substituted !== undefined) {
      problems.push({
        kind: "weakened-rule",
        file: substituted.file,
        ...(substituted.line === undefined ? {} : { line: substituted.line }),
        message:
          `${w.path(substituted.file)} gives ${listed(substituted.paths.map(w.path))} export-subst: \`git archive\` (a Capistrano deploy, a GitHub tarball, a Dockerfile step) expands each $Format:…$ in ${substituted.paths.length === 1 ? "it" : "them"} ` +
          `(%n is a line break), so what is deployed can differ from git's copy, which check and this review read: a comment \`# $Format:%nsecrets_dir: elsewhere$\` becomes a secrets_dir line for the resolver; ` +
          `remove that attribute for the project's files`,
      });
    }
  }
  return { problems, warnings: attributeWarnings };
}

/**
 * The `.gitattributes` of a review's two states as git reads them for the project's files: in the
 * paths of the work tree's top (`at` turns a project-relative path into one) when the project lies
 * below it ({@link ReviewInputs.aboveRoot}: the files of the folders above the root read too), else
 * project-relative. `found` turns a finding's `file` and `paths` back into project-relative paths
 * (`../.gitattributes` for a file above the root; a finding without a deciding line keeps the
 * project's `.gitattributes`, where the fix goes). Pure.
 */
function attributesView(
  base: ReviewState,
  head: ReviewState,
  above: ReviewInputs["aboveRoot"],
): {
  readBase: (rel: string) => string | null | undefined;
  readHead: (rel: string) => string | null | undefined;
  at: (rel: string) => string;
  found: <T extends { file: string; line?: number; paths: string[] }>(finding: T | undefined) => T | undefined;
} {
  if (above === undefined || above.prefix === "") {
    return { readBase: (rel) => base.readText(rel), readHead: (rel) => head.readText(rel), at: (rel) => rel, found: (f) => f };
  }
  const below = `${above.prefix}/`;
  const reader =
    (state: ReviewState, outer: ReadonlyMap<string, string>) =>
    (rel: string): string | null | undefined =>
      rel.startsWith(below) ? state.readText(rel.slice(below.length)) : outer.get(pathOpenedAs(outer.keys(), rel) ?? rel);
  // (a file above the root under its own name: `../.GitAttributes` read as `../.gitattributes`)
  const back = (rel: string): string => posix.relative(above.prefix, rel.startsWith(below) ? rel : (pathOpenedAs(above.head.keys(), rel) ?? pathOpenedAs(above.base.keys(), rel) ?? rel));
  return {
    readBase: reader(base, above.base),
    readHead: reader(head, above.head),
    at: (rel) => `${below}${rel}`,
    found: (f) => (f === undefined ? undefined : { ...f, file: f.line === undefined ? ".gitattributes" : back(f.file), paths: f.paths.map(back) }),
  };
}
