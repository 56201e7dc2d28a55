/**
 * What git holds in place of a file the tools read, told as `weakened-rule`: two paths that fold to
 * one name on a case-insensitive or normalising checkout, a file under another spelling of a name
 * tools open, an environment file (or its folder) made a symbolic link or a submodule, and an
 * environment file in the default secrets folder while `secrets_dir` names another. Pure.
 */
import { DEFAULT_SECRETS_DIR, environmentFileName, normalizeSecretsDir } from "@stellar-secrets/sops";
import { PROJECT_FILE } from "../project.js";
import { SOPS_CONFIG_FILE } from "../sops-config.js";
import type { ReviewContext } from "./context.js";
import { collisionKind, foldedStandIns, pathCollisions, refusedPaths } from "./paths.js";
import type { ReviewProblem } from "./report.js";

/** Two files git keeps apart that a macOS or Windows checkout writes to one. */
export function pathCollisionProblems(ctx: ReviewContext): ReviewProblem[] {
  const { inputs, w } = ctx;
  const problems: ReviewProblem[] = [];
  // two files git keeps apart that a macOS or Windows checkout writes to one (Stellar.yaml next to
  // stellar.yaml, secrets/production.ENC.YAML next to the environment file): a pull there writes
  // only the changed one, so members and deploys read a copy no check read as that file
  if (inputs.headPaths !== undefined) {
    const inBase = new Set(inputs.basePaths ?? []);
    for (const c of pathCollisions(inputs.headPaths, inBase)) {
      // name a path the change added (a folder: one the base had no file below)
      const added = c.paths.filter((p) => !inBase.has(p) && ![...inBase].some((b) => b.startsWith(`${p}/`)));
      const [first] = added.length > 0 ? added : c.paths.slice(1);
      problems.push({
        kind: "weakened-rule",
        file: first as string,
        message:
          `${c.paths.map(w.path).join(" and ")} are different files to git${COLLISION_WORDS[collisionKind(c.paths)]} but one file on a case-insensitive or Unicode-normalising checkout (macOS, Windows): ` +
          `there a pull or checkout writes whichever changed last, so \`stellar-secrets\`, plain sops and a deploy read content no check or review read under that name; ` +
          `keep one name (\`git rm -r --cached ${w.shellPath(first as string)}\`)`,
      });
    }
    // a path git will not check out (a `.git` component in another spelling): every checkout of the merge fails
    for (const p of refusedPaths(inputs.headPaths, inBase)) {
      problems.push({
        kind: "weakened-rule",
        file: p,
        message:
          `${w.path(p)} has a component git refuses to check out (a name that is the repository's own .git folder on some file system: .git in any case, with trailing dots or spaces, ` +
          `with characters macOS ignores, or NTFS's git~1): a checkout of a commit holding it fails (\`invalid path\`), so after this change is merged no member can pull and no deploy can check out, ` +
          `and a git without that guard writes into the repository's own git folder; remove it (\`git rm -r --cached ${w.shellPath(p)}\`)`,
      });
    }
  }
  return problems;
}

/** A file git holds under another spelling of a name tools open, alone. */
export function foldedStandInProblems(ctx: ReviewContext): ReviewProblem[] {
  const { inputs, headConfig, w } = ctx;
  const problems: ReviewProblem[] = [];
  // a file git holds under another spelling of a name tools open (secrets/.GitAttributes, .SOPS.yaml,
  // teams/x/Stellar.yaml, secrets/Production.enc.yaml), alone: a macOS or Windows checkout opens it
  // as that file, which check and this review, reading git's names, never read
  if (inputs.headPaths !== undefined && headConfig !== undefined) {
    const dir = normalizeSecretsDir(headConfig.secretsDir);
    const envFiles = headConfig.environments.map((e) => `${dir}/${environmentFileName(e.name)}`);
    for (const f of foldedStandIns(inputs.headPaths, inputs.basePaths ?? [], [".gitattributes", SOPS_CONFIG_FILE, PROJECT_FILE], envFiles)) {
      problems.push({
        kind: "weakened-rule",
        file: f.path,
        message:
          `${w.path(f.path)} is ${w.path(f.as)} on a case-insensitive or Unicode-normalising checkout (macOS, Windows): there git, plain sops and \`stellar-secrets\` open it by that name, ` +
          `while check and this review, reading git's names, read no ${w.path(f.as)}; name it ${w.path(f.as)} exactly (\`git mv ${w.shellPath(f.path)} ${w.shellPath(f.as)}\`), or remove it`,
      });
    }
  }
  return problems;
}

/** An environment file (or its folder) replaced by a symbolic link. */
export function environmentLinkProblems(ctx: ReviewContext): ReviewProblem[] {
  const { base, inputs, headConfig, w } = ctx;
  const problems: ReviewProblem[] = [];
  // an environment file replaced by a symbolic link: no review, check or merge reads it as the
  // environment, while every checkout reads its target (values no one reviewed)
  if (headConfig !== undefined && inputs.headLinks !== undefined && inputs.headLinks.size > 0) {
    const dir = normalizeSecretsDir(headConfig.secretsDir);
    for (const environment of headConfig.environments) {
      const file = `${dir}/${environmentFileName(environment.name)}`;
      // the file itself, or a folder above it (a link at the secrets folder)
      const at = [...inputs.headLinks.keys()].find((p) => p === file || file.startsWith(`${p}/`));
      const target = at === undefined ? undefined : inputs.headLinks.get(at);
      if (at === undefined || target === undefined) continue;
      const baseRev = base.commit === undefined ? "BASE" : base.commit.slice(0, 10);
      // (each fix removes the link first, then restores from the base: pasted as printed, it never
      // writes through the link; a file the base did not have is created anew by `set`)
      const fix =
        at !== file
          ? `remove the link and restore the folder (\`git rm ${w.shellPath(at)} && git checkout ${baseRev} -- ${w.shellPath(at)}\`), never a link`
          : base.index?.environmentFiles.has(environment.name) === true
            ? `remove the link and restore the file (\`git rm ${w.shellPath(file)} && git checkout ${baseRev} -- ${w.shellPath(file)}\`), then make the change with \`${w.command("stellar-secrets set")}\`, never a link`
            : `remove the link (\`git rm ${w.shellPath(file)}\`; the base has no ${environment.name} file to restore), then create the file with \`${w.command(`stellar-secrets set NAME --env ${environment.name}`)}\`, never a link`;
      problems.push({
        kind: "weakened-rule",
        environment: environment.name,
        file,
        message:
          `${at === file ? w.path(file) : `${w.path(at)} (the folder of ${w.path(file)})`} is a symbolic link to ${target}: review, check and the merge driver do not read a link as the ${environment.name} file, ` +
          `but a checkout's \`stellar-secrets get\`, \`exec\` and the resolver read what it points to, values no review has seen; ` +
          fix,
      });
    }
  }
  return problems;
}

/** An environment file (or a folder above it) replaced by a git submodule. */
export function submoduleProblems(ctx: ReviewContext): ReviewProblem[] {
  const { base, inputs, headConfig, w } = ctx;
  const problems: ReviewProblem[] = [];
  // an environment file, or a folder above it, replaced by a submodule: review sees the file deleted,
  // a checkout has a folder there (nothing decrypts) or, with submodules fetched, another
  // repository's files (values no review has seen)
  if (headConfig !== undefined && inputs.headSubmodules !== undefined && inputs.headSubmodules.size > 0) {
    const dir = normalizeSecretsDir(headConfig.secretsDir);
    for (const environment of headConfig.environments) {
      const file = `${dir}/${environmentFileName(environment.name)}`;
      const at = [...inputs.headSubmodules.keys()].find((p) => p === file || file.startsWith(`${p}/`));
      if (at === undefined) continue;
      problems.push({
        kind: "weakened-rule",
        environment: environment.name,
        file,
        message:
          `${w.path(at)} is a git submodule (commit ${(inputs.headSubmodules.get(at) ?? "").slice(0, 10)}), so git holds no ${environment.name} file at ${w.path(file)}: ` +
          `a checkout has an empty folder there (nothing decrypts), or with submodules fetched another repository's files, values no review has seen; ` +
          `remove the submodule (\`git rm --cached ${w.shellPath(at)}\`) and restore the file (\`git checkout ${base.commit === undefined ? "BASE" : base.commit.slice(0, 10)} -- ${w.shellPath(file)}\`)`,
      });
    }
  }
  return problems;
}

/** An environment file in the default secrets folder (or a link there) while secrets_dir names another. */
export function defaultFolderProblems(ctx: ReviewContext): ReviewProblem[] {
  const { base, head, inputs, baseConfig, headConfig, w } = ctx;
  const problems: ReviewProblem[] = [];
  // an environment file in the default secrets/ folder while secrets_dir names another: check and
  // review read secrets_dir, a resolver that finds no stellar.yaml (an archive or an image built
  // without it) reads secrets/, so a file there is what such a deploy serves, unreviewed
  // (an environment the head has no file for in secrets_dir: a file left in secrets/ is the secrets_dir move's problem, above)
  if (headConfig !== undefined && normalizeSecretsDir(headConfig.secretsDir) !== DEFAULT_SECRETS_DIR) {
    const names = new Set([...(baseConfig?.environments ?? []), ...headConfig.environments].map((e) => e.name));
    for (const name of [...names].sort()) {
      const rel = `${DEFAULT_SECRETS_DIR}/${environmentFileName(name)}`;
      // a symbolic link there (or at secrets/ itself): git stores the link, so no state has the
      // file, while such a resolver reads the link's target (s24 newattack); reported while it is there
      const link = [rel, DEFAULT_SECRETS_DIR].find((p) => inputs.headLinks?.has(p) === true);
      if (link !== undefined && head.index?.environmentFiles.get(name) !== undefined) {
        problems.push({
          kind: "weakened-rule",
          environment: name,
          file: rel,
          message:
            `${link === rel ? w.path(rel) : `${w.path(link)} (the folder of ${w.path(rel)})`} is a symbolic link to ${inputs.headLinks?.get(link) ?? "?"} outside secrets_dir "${normalizeSecretsDir(headConfig.secretsDir)}": check and this review do not read it, ` +
            `but a resolver that finds no ${w.path("stellar.yaml")} (an archive or an image built without it) reads ${name}'s values from its target; ` +
            `remove the link (\`git rm ${w.shellPath(link)}\`)`,
        });
        continue;
      }
      const text = head.readText(rel);
      if (text === undefined || text === base.readText(rel) || head.index?.environmentFiles.get(name) === undefined) continue;
      problems.push({
        kind: "weakened-rule",
        environment: name,
        file: rel,
        message:
          `${w.path(rel)} is ${base.readText(rel) === undefined ? "new" : "changed"} outside secrets_dir "${normalizeSecretsDir(headConfig.secretsDir)}": check and this review do not read it, ` +
          `but a resolver that finds no ${w.path("stellar.yaml")} (an archive or an image built without it) reads ${name}'s values from it; ` +
          `remove it, or move secrets_dir back to "${DEFAULT_SECRETS_DIR}" in a change of its own, reviewed separately`,
      });
    }
  }
  return problems;
}

/** How the names of a path collision differ, for its message (two names that differ only in normalisation look the same). */
const COLLISION_WORDS = {
  normalisation: " (the same name in two Unicode normalisations, NFC and NFD: they look alike)",
  case: " (the same name in another case)",
  trailing: " (the same name with a trailing dot or space, which Windows drops)",
  mixed: "",
} as const;
