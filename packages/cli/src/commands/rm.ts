/**
 * `stellar-secrets rm NAME [--env ENV]`: deletes a secret's value from environments, refusing
 * while config files reference it (unless `--force`) and asking to confirm (unless `--yes`).
 */
import { relative } from "node:path";
import { removeCatalogEntry } from "@stellar-secrets/core";
import { editSecretsFile } from "@stellar-secrets/sops";
import { followMergeRecord } from "../merge-record-follow.js";
import { parseCommandArgs, splitList } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { unknownSecretHint } from "../suggest.js";
import { humanList, plural, renderJson } from "../format.js";
import { confirm } from "../prompt.js";
import { formatReference, loadReferences, referencesIn } from "../references.js";
import type { ProjectConfig } from "@stellar-secrets/core";
import { assertCanDecrypt, identitiesFor, namesIn, openProject, readCatalog, readEnvironmentFiles, selectEnvironments, updateCatalog, type EnvironmentFile } from "../repository.js";
import { refuseOutsideSparseCheckout } from "../sparse.js";

const help = `Usage: stellar-secrets rm NAME [--env ENV[,ENV]] [--force] [--yes] [--json]

Deletes the secret NAME from the environments given (default: every environment where it has a
value). Refuses while an agent config file that is used in one of those environments references
the secret, listing each reference as file:line:column, because actions using a deleted secret
fail; --force deletes anyway.
Asks to confirm on the terminal; --yes confirms without asking (required when stdin is not a
terminal). When no environment has a value left, the catalog entry is removed too.

Options:
  --env ENV[,ENV]  only these environments
  --force          delete even though the secret is referenced
  --yes            do not ask to confirm
  --json           print what was deleted as JSON

Example:
  stellar-secrets rm old_sendgrid_token --env staging
`;

const flags = {
  env: { type: "string", multiple: true },
  force: { type: "boolean" },
  yes: { type: "boolean" },
  json: { type: "boolean" },
} as const;

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f, positionals } = parseCommandArgs("rm", argv, flags, { min: 1, max: 1, names: "NAME" });
  const name = positionals[0] as string;
  const config = await openProject(ctx);
  const requested = splitList(f.env);
  const envs = selectEnvironments(config, requested, { all: true });
  const files = await readEnvironmentFiles(config, config.environments);
  await refuseOutsideSparseCheckout(ctx, config.root, files, "rm cannot tell where the secret is set, nor remove it, here; nothing was written");
  const setIn = files.filter((e) => namesIn(e.file).includes(name)).map((e) => e.env.name);
  const targets = files.filter((e) => envs.includes(e.env) && namesIn(e.file).includes(name));
  if (targets.length === 0) {
    throw new CliError("UNKNOWN_SECRET", `secret "${name}" has no value in ${humanList(envs.map((e) => e.name))}`, {
      hint: unknownSecretHint(name, setIn, files.flatMap((e) => namesIn(e.file))),
    });
  }
  const targetNames = targets.map((t) => t.env.name);

  const allReferences = (await loadReferences(config)).get(name) ?? [];
  // a reference needs a value only in the environments where its holder is used
  const references = referencesIn(allReferences, targetNames);
  if (references.length > 0 && !f.force) {
    // the environments where those references need the value (core's usage data), among the targets
    const neededIn = config.environments.map((e) => e.name).filter((e) => targetNames.includes(e) && references.some((r) => r.environments.includes(e)));
    throw new CliError(
      "SECRET_IN_USE",
      `secret "${name}" is referenced in ${plural(references.length, "place")} used in ${humanList(neededIn)}; deleting it would make those fail:\n${references
        .map((r) => `    ${formatReference(r)}`)
        .join("\n")}`,
      { hint: "remove these references first, or pass --force to delete anyway" },
    );
  }

  try {
    await assertCanDecrypt(ctx, config, targets);
  } catch (error) {
    // a name set in an environment the person cannot read: name the environments they can remove it from
    if (error instanceof CliError && error.code === "NO_MATCHING_IDENTITY" && requested.length === 0 && targets.length > 1) {
      const readable: string[] = [];
      for (const t of targets) if (await canDecrypt(ctx, config, t)) readable.push(t.env.name);
      const unreadable = targets.map((t) => t.env.name).filter((n) => !readable.includes(n));
      throw new CliError("NO_MATCHING_IDENTITY", `you cannot remove "${name}" from ${humanList(unreadable)}: it is set there too, and you are not a member of ${humanList(unreadable)} (none of your keys can decrypt ${unreadable.length === 1 ? "its file" : "their files"})`, {
        hint: readable.length > 0
          ? `to remove it only where you can: stellar-secrets rm ${name} --env ${readable.join(",")} (a member of ${humanList(unreadable)} removes it there)`
          : (error.hint ?? "ask a member of those environments"),
        cause: error,
      });
    }
    throw error;
  }
  if (!f.yes) {
    const ok = await confirm(ctx, `Delete secret "${name}" from ${humanList(targetNames)}?`);
    if (!ok) throw new CliError("DECLINED", "not deleted (answered no)");
  }

  const identities = identitiesFor(ctx);
  for (const target of targets) {
    await followMergeRecord(
      ctx,
      config.root,
      target.path,
      () =>
        editSecretsFile(target.path, identities, (values) => {
          values.delete(name);
        }),
      () => [name],
    );
  }
  const remaining = setIn.filter((e) => !targetNames.includes(e));
  let catalogRemoved = false;
  if (remaining.length === 0) {
    const catalog = await readCatalog(config);
    if (catalog.entries.has(name)) {
      await updateCatalog(config, (text) => removeCatalogEntry(text, name));
      catalogRemoved = true;
    }
  }

  if (f.json) {
    ctx.stdout.write(
      renderJson({
        name,
        removedFrom: targetNames,
        files: targets.map((t) => relative(config.root, t.path)),
        stillSetIn: remaining,
        catalogEntryRemoved: catalogRemoved,
        references: references.map(formatReference),
      }),
    );
    return 0;
  }
  const lines = [`deleted ${name} from ${humanList(targetNames)}`];
  if (remaining.length > 0) lines.push(`still set in ${humanList(remaining)}`);
  if (catalogRemoved) lines.push(`removed its catalog entry`);
  if (references.length > 0) lines.push(`warning: still referenced (--force) at ${references.map(formatReference).join(", ")}`);
  ctx.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

const command: Command = { summary: "delete a secret (refused while referenced; asks to confirm)", help, run };
export default command;

async function canDecrypt(ctx: CommandContext, config: ProjectConfig, file: EnvironmentFile): Promise<boolean> {
  try {
    await assertCanDecrypt(ctx, config, [file]);
    return true;
  } catch {
    return false;
  }
}
