/**
 * `stellar-secrets rename OLD NEW`: renaming does not exist. Explains that names are fixed once
 * created and prints the steps that move a secret to a new name. Exits with RENAME_NOT_SUPPORTED's
 * status (UNKNOWN_SECRET's when OLD has no value anywhere); never reads or prints a value.
 */
import { shellWord, validateSecretName, type CatalogEntry } from "@stellar-secrets/core";
import { parseCommandArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError, exitCodeFor } from "../errors.js";
import { renderJson } from "../format.js";
import { formatReference, loadReferences, type SecretReference } from "../references.js";
import { findProjectRootSafe, namesIn, openProject, readCatalog, readEnvironmentFiles } from "../repository.js";
import { didYouMeanName, newSecretNote } from "../suggest.js";
import { refuseOutsideSparseCheckout } from "../sparse.js";

const help = `Usage: stellar-secrets rename OLD NEW [--json]

Secret names cannot be changed once created (as in the hosted Studio: a name is how every
connector and action finds its value). This command changes nothing: it explains, and prints
the steps to move OLD to NEW:
  1. create NEW with OLD's value in each environment where OLD is set
     (and OLD's catalog entry: description, owner, rotate_every, when it has one),
  2. change every reference to OLD (listed, file:line:column) to NEW,
  3. delete OLD (which also removes OLD's catalog entry).
Exits with status 8 (RENAME_NOT_SUPPORTED); when OLD has no value in any environment, with
UNKNOWN_SECRET (status 4) instead.

Options:
  --json   print the plan as JSON

Example:
  stellar-secrets rename sendgrid_key sendgrid_api_key
`;

const flags = { json: { type: "boolean" } } as const;

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f, positionals } = parseCommandArgs("rename", argv, flags, { min: 0, max: 2 });
  const oldName = positionals[0] ?? "OLD";
  const newName = positionals[1] ?? "NEW";
  let setIn: string[] = [];
  let references: SecretReference[] = [];
  let catalog: CatalogEntry | undefined;
  if (findProjectRootSafe(ctx.cwd) !== undefined) {
    const config = await openProject(ctx);
    const files = await readEnvironmentFiles(config, config.environments);
    await refuseOutsideSparseCheckout(ctx, config.root, files, "rename cannot tell where the secret is set, nor rename it, here; nothing was written");
    setIn = files.filter((e) => namesIn(e.file).includes(oldName)).map((e) => e.env.name);
    references = (await loadReferences(config)).get(oldName) ?? [];
    catalog = (await readCatalog(config)).entries.get(oldName);
    if (positionals[0] !== undefined && setIn.length === 0) {
      const referenced = references.length > 0 ? ` (it is referenced in ${references.length === 1 ? "1 place" : `${references.length} places`}, e.g. ${formatReference(references[0]!)})` : "";
      throw new CliError("UNKNOWN_SECRET", `secret "${oldName}" has no value in any environment, so there is nothing to rename${referenced}`, {
        hint: didYouMeanName(oldName, new Set(files.flatMap((e) => namesIn(e.file)))) ?? "check the name (case-sensitive): `stellar-secrets list` shows the secrets",
      });
    }
  }
  const validation = newName === "NEW" ? ({ ok: true } as const) : validateSecretName(newName);
  const steps = renameSteps(oldName, newName, setIn, references, catalog);
  if (f.json) {
    ctx.stdout.write(
      renderJson({
        error: "RENAME_NOT_SUPPORTED",
        from: oldName,
        to: newName,
        setIn,
        references: references.map(formatReference),
        newNameProblem: validation.ok ? null : validation.message,
        steps,
      }),
    );
  } else {
    const lines = [
      `stellar-secrets: RENAME_NOT_SUPPORTED: secret names are fixed once created; "${oldName}" cannot become "${newName}".`,
      `To move the secret to a new name:`,
      ...steps.map((s, i) => `  ${i + 1}. ${s}`),
    ];
    if (!validation.ok) lines.push(`note: "${newName}" is not a valid name either: ${validation.message}`);
    const expected = expectedSetNote(oldName, newName);
    if (expected !== undefined) lines.push(expected);
    ctx.stderr.write(`${lines.join("\n")}\n`);
  }
  return exitCodeFor("RENAME_NOT_SUPPORTED");
}

/**
 * The steps that move `oldName` to `newName` (rename's plan, one string per step): copy the value
 * in each environment of `setIn` (`ENV` when none is known), move the `references`, check, delete
 * the old name. Every command is one a person can paste into a terminal or a script: names are
 * shell-quoted when they need it, and `rm` carries `--yes` (without a terminal, rm refuses to run
 * unconfirmed: CONFIRMATION_REQUIRED), with a comment saying why. When `catalog` (OLD's catalog
 * entry) has a description, owner or rotate_every, a step after the copies gives NEW the same
 * fields (`set NEW --description … --owner … --rotate-every …`), since the final `rm` removes
 * OLD's entry: without it the move would silently drop them.
 */
export function renameSteps(
  oldName: string,
  newName: string,
  setIn: readonly string[],
  references: readonly SecretReference[],
  catalog?: CatalogEntry,
): string[] {
  const from = shellWord(oldName);
  const to = shellWord(newName);
  const envs = setIn.length > 0 ? setIn : ["ENV"];
  const catalogFlags = [
    catalog?.description !== undefined ? `--description ${shellWord(catalog.description)}` : undefined,
    catalog?.owner !== undefined ? `--owner ${shellWord(catalog.owner)}` : undefined,
    catalog?.rotate_every !== undefined ? `--rotate-every ${shellWord(catalog.rotate_every)}` : undefined,
  ].filter((x): x is string => x !== undefined);
  return [
    ...envs.map((e) => `stellar-secrets get ${from} --env ${e} | stellar-secrets set ${to} --env ${e} --from-stdin --keep-newlines`),
    ...(catalogFlags.length > 0 ? [`stellar-secrets set ${to} ${catalogFlags.join(" ")}   # ${oldName}'s catalog entry, which rm removes`] : []),
    references.length > 0
      ? `change the references from ${oldName} to ${newName}:\n${references.map((r) => `       ${formatReference(r)}`).join("\n")}`
      : `change every reference from ${oldName} to ${newName} (run \`stellar-secrets usage ${from}\` to find them)`,
    `stellar-secrets check   # confirm nothing references ${oldName} any more`,
    `stellar-secrets rm ${from}${setIn.length > 0 ? ` --env ${setIn.join(",")}` : ""} --yes   # --yes: no prompt, so it also runs in a script or CI (no terminal)`,
  ];
}

/**
 * The line rename prints after its steps when step 1's `set NEW` will print its new-name note
 * (`note: no environment has "NEW": this creates a new secret; did you mean "OLD"?`, see
 * `newSecretNote`): NEW is new and near OLD, which is exactly the move, so the note is expected
 * there and not a typo to fix. Undefined when `set` will say nothing about OLD.
 */
export function expectedSetNote(oldName: string, newName: string): string | undefined {
  if (oldName === newName || newSecretNote(newName, [oldName]) === undefined) return undefined;
  return `note: in step 1, set notes that no environment has "${newName}" and names "${oldName}" (did you mean …?): that is expected during this move (${newName} is meant to be new), not a typo; go on with the steps`;
}

const command: Command = { summary: "explain why names are fixed and print the steps to move a secret to a new name", help, run };
export default command;
