/**
 * `stellar-secrets usage`: every reference to each secret, with the object holding it and the
 * environments where it needs a value. Reads names only: no key is needed.
 */
import { InvalidConfigError, loadWorkspace, readerWording, secretUsage } from "@stellar-secrets/core";
import { parseCommandArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { terminalLines } from "../format.js";
import { allowOutsideLinks } from "../repository.js";
import { stringifyJson } from "../json-text.js";
import { didYouMeanName } from "../suggest.js";

const help = `Usage: stellar-secrets usage [NAME] [--json]

Lists where each secret is referenced (or only NAME): file:line, the kind and name of the
auth connector, API connection or action, the field, and the environments where it needs a
value (the action's environments, its agents', else all). Files are relative to the current
directory, as git prints them (--json: to the project root). Secrets that are referenced but exist
in no environment file are listed too (marked unknown). Reads names only: no key is needed.

Options:
  --json   print {"secrets":[{"name","exists","definedIn":[env],"references":[{"file","line",
           "column","kind","name","field","environments":[env]}]}]}

Examples:
  stellar-secrets usage
  stellar-secrets usage stripe_api_key --json
`;

const flags = { json: { type: "boolean" } } as const;

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f, positionals } = parseCommandArgs("usage", argv, flags, { min: 0, max: 1, names: "NAME" });
  const name = positionals[0];
  const { index } = loadWorkspace(ctx.cwd, { allowOutsideLinks: allowOutsideLinks(ctx) });
  const projectErrors = index.projectDiagnostics.filter((d) => d.severity === "error");
  if (!index.projectUsable || projectErrors.length > 0) throw new InvalidConfigError(index.project.configPath, projectErrors.length > 0 ? projectErrors : index.projectDiagnostics);
  const usage = secretUsage(index, name);
  if (name !== undefined && usage.length === 0) {
    throw new CliError("UNKNOWN_SECRET", `no secret named "${name}" exists or is referenced`, {
      hint: didYouMeanName(name, index.secretNames()) ?? "run `stellar-secrets usage` to see every secret",
    });
  }
  if (f.json) {
    const secrets = usage.map((u) => ({
      name: u.secret,
      exists: u.exists,
      definedIn: u.definedIn,
      references: u.uses.map((r) => ({
        file: r.file,
        line: r.line,
        column: r.column,
        kind: r.kind,
        name: r.owner ?? null,
        field: r.field,
        environments: r.environments,
      })),
    }));
    ctx.stdout.write(`${stringifyJson({ secrets }, 2)}\n`);
    return 0;
  }
  // text names files from the current directory, as check (and git) do; JSON keeps the root's
  const words = readerWording(index.project.root, ctx.cwd, true);
  const out: string[] = [];
  for (const u of usage) {
    const where = u.exists ? `defined in ${u.definedIn.join(", ")}` : "unknown: no environment file has it";
    const count = u.uses.length;
    out.push(`${u.secret}  (${where}; ${count} reference${count === 1 ? "" : "s"})`);
    if (count === 0) out.push("  not referenced");
    for (const r of u.uses) {
      out.push(`  ${words.path(r.file)}:${r.line}  ${r.kind} ${r.owner ?? "(unnamed)"}  ${r.field}  needed in: ${r.environments.join(", ") || "no declared environment"}`);
    }
  }
  ctx.stdout.write(out.length === 0 ? "no secrets\n" : terminalLines(out));
  return 0;
}

const command: Command = { summary: "show where each secret is referenced and in which environments it is needed", help, run };
export default command;
