/**
 * `stellar-secrets list`: the names × environments matrix (set / missing), with reference counts
 * and, with `--long`, the catalog fields. Needs no key and prints no value.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_FILE, secretsFilePath } from "@stellar-secrets/core";
import { escapeControlCharacters } from "@stellar-secrets/sops";
import { parseCommandArgs, splitList } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { renderJson, renderTable } from "../format.js";
import { openProject, readCatalog, readEnvironmentFilesEach, selectEnvironments } from "../repository.js";
import { loadReferences } from "../references.js";
import { secretMatrix, type MatrixColumn } from "../matrix.js";
import { outsideSparseCheckout, outsideSparseCheckoutError } from "../sparse.js";
import { unreadableJson, unreadableReport, unreadableStatus } from "../unreadable.js";

const help = `Usage: stellar-secrets list [--env ENV[,ENV]] [--long] [--json]

Shows every secret (a name with a value in at least one environment) against the environments:
  set       the environment has a value
  empty     the environment has the name with an empty value
  missing   the environment has no value
and REFS, how many places in the agent config files reference the secret. Reads names only:
no key is needed and no value is printed.

Options:
  --env ENV[,ENV]  only these environments (columns)
  --long           add the catalog fields: description, owner, rotate_every
  --json           print {"environments": [...], "secrets": [{"name", "environments": {env: state},
                   "references", "description", "owner", "rotate_every"}]}

Example:
  stellar-secrets list --long
`;

const flags = { env: { type: "string", multiple: true }, long: { type: "boolean" }, json: { type: "boolean" } } as const;

/** The state of one secret in one environment. */
export type { CellState } from "../matrix.js";

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f } = parseCommandArgs("list", argv, flags);
  const config = await openProject(ctx);
  const selected = selectEnvironments(config, splitList(f.env), { all: true });
  // a file that cannot be read (git conflict markers, …) is reported; the others are listed
  const { files: all, unreadable } = await readEnvironmentFilesEach(config, config.environments);
  const wanted = unreadable.filter((u) => selected.includes(u.env));
  const envs = selected.filter((e) => !wanted.some((u) => u.env === e));
  if (envs.length === 0 && wanted.length > 0) throw wanted[0]!.error; // nothing left to list
  const files = all.filter((f) => envs.includes(f.env));
  // a file a sparse checkout left out is not "missing" (nor "No secrets yet"): git has it, the work tree does not
  const skipped = await outsideSparseCheckout(ctx, config.root, files.filter((x) => x.file === undefined).map((x) => secretsFilePath(config, x.env.name)));
  if (skipped.length > 0) throw outsideSparseCheckoutError(skipped, "list reads the names from the environment files, so it cannot list them here");
  const column = (x: (typeof all)[number]): MatrixColumn => ({ environment: x.env.name, file: x.file });
  const allColumns = all.map(column);
  const matrix = secretMatrix(allColumns, allColumns.filter((_, i) => files.includes(all[i]!)));
  const catalog = await readCatalog(config);
  const references = await loadReferences(config);

  const rows = matrix.map(({ name, states }) => {
    const entry = catalog.entries.get(name);
    return {
      name,
      environments: states,
      references: references.get(name)?.length ?? 0,
      description: entry?.description ?? null,
      owner: entry?.owner ?? null,
      rotate_every: entry?.rotate_every ?? null,
    };
  });

  const status = unreadableStatus(wanted);
  if (f.json) {
    // (unreadable only when there is one: the shape of a readable project is unchanged)
    ctx.stdout.write(renderJson({ environments: envs.map((e) => e.name), secrets: rows, ...(wanted.length > 0 ? { unreadable: unreadableJson(wanted, config.root) } : {}) }));
    return status;
  }
  ctx.stderr.write(unreadableReport(wanted, `not listed: the file cannot be read (above); fix it, then run list again`));
  if (rows.length === 0 && wanted.length > 0) return status;
  if (rows.length === 0) {
    ctx.stdout.write(`No secrets yet. Add one: stellar-secrets set NAME --env ${envs[0]?.name ?? "ENV"}\n`);
    // init always makes the folder: without it, a typo in secrets_dir is the likely reason
    if (!existsSync(join(config.root, config.secretsDir))) {
      ctx.stderr.write(escapeControlCharacters(`note: the secrets folder ${JSON.stringify(config.secretsDir)} (secrets_dir in ${PROJECT_FILE}) does not exist\n`, { keepNewlines: true }));
    }
    return 0;
  }
  const headers = ["NAME", ...envs.map((e) => e.name), "REFS"];
  if (f.long) headers.push("OWNER", "ROTATE", "DESCRIPTION");
  const table = rows.map((r) => {
    const cells = [r.name, ...envs.map((e) => r.environments[e.name] ?? "missing"), String(r.references)];
    if (f.long) cells.push(r.owner ?? "-", r.rotate_every ?? "-", r.description ?? "-");
    return cells;
  });
  ctx.stdout.write(renderTable(headers, table));
  return status;
}

const command: Command = { summary: "show the secrets × environments matrix (no key needed, no values)", help, run };
export default command;
