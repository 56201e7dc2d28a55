/**
 * `stellar-secrets get NAME --env ENV`: prints one value — the explicit reveal.
 */
import { parseCommandArgs, splitList } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { renderJson } from "../format.js";
import { decryptEnvironment, namesIn, openProject, readEnvironmentFiles, selectOneEnvironment, unknownSecret } from "../repository.js";

const help = `Usage: stellar-secrets get NAME --env ENV [--json]

Decrypts the environment's file (verifying its MAC) and prints the value of NAME on stdout: the
exact value, followed by a newline only when stdout is a terminal (so \`$(stellar-secrets get ...)\`
and pipes get the value byte for byte). Needs an age identity that is a member of ENV.

Options:
  --env ENV   the environment (exactly one)
  --json      print {"name", "environment", "value"}

Example:
  stellar-secrets get stripe_api_key --env development
`;

const flags = { env: { type: "string", multiple: true }, json: { type: "boolean" } } as const;

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f, positionals } = parseCommandArgs("get", argv, flags, { min: 1, max: 1, names: "NAME" });
  const name = positionals[0] as string;
  const config = await openProject(ctx);
  const names = splitList(f.env);
  const env = selectOneEnvironment(config, names, "get");
  const decrypted = await decryptEnvironment(ctx, config, env);
  const value = decrypted.values.get(name);
  if (value === undefined) {
    const files = await readEnvironmentFiles(config, config.environments);
    throw unknownSecret(
      name,
      env.name,
      files.filter((e) => namesIn(e.file).includes(name)).map((e) => e.env.name),
      files.flatMap((e) => namesIn(e.file)),
    );
  }
  if (f.json) {
    ctx.stdout.write(renderJson({ name, environment: env.name, value }));
  } else {
    ctx.stdout.write(ctx.stdout.isTTY ? `${value}\n` : value);
  }
  return 0;
}

const command: Command = { summary: "print one secret's value (the explicit reveal)", help, run };
export default command;
