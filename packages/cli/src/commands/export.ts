/**
 * `stellar-secrets export --env ENV --format dotenv|shell|json|k8s`: writes one environment's values
 * to stdout (an explicit reveal, for deploy pipelines).
 */
import { stringify } from "yaml";
import { parseCommandArgs, splitList } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { renderJson } from "../format.js";
import { decryptEnvironment, openProject, selectOneEnvironment } from "../repository.js";
import { quoteDotenv, quoteShell, refuseStartupVariables, selectValues, variableNames } from "../variables.js";

const help = `Usage: stellar-secrets export --env ENV [--format dotenv|shell|json|k8s] [--only NAME[,NAME]]
                              [--name NAME] [--namespace NS] [--allow-startup-variables]

Decrypts ENV (verifying the MAC) and writes its values to stdout:
  dotenv  NAME="value" lines, NAME upper-cased (as exec does), that the dotenv package and
          node --env-file read back exactly: nothing is escaped; a value holding ", a
          backslash, a line break, $ or \` is wrapped in ' instead (else in " or \`), line
          breaks kept. A value no quoting reads back (", ' and \` together, CR, NUL) is
          UNREPRESENTABLE_VALUE and nothing is written. Not a shell script: a shell reads
          a value holding ' together with $, \`, " or a backslash differently (use shell)
  shell   export NAME='value' lines for a POSIX shell (\`eval "$(...)"\`, \`. file\`): every
          value single-quoted (' as '\\''), so the shell gets exactly the value and runs
          nothing; a value holding a NUL is UNREPRESENTABLE_VALUE and nothing is written
  json    {"secret_name": "value", ...}
  k8s     a v1 Secret manifest (YAML), type Opaque, values base64-encoded under data;
          --name (default stellar-secrets-ENV), --namespace (optional)
Keys are sorted by name. Redirect to a file only where it is safe to keep plaintext.
dotenv and shell refuse a secret that would set PATH, LD_PRELOAD, NODE_OPTIONS (node --env-file
applies it), BASH_ENV or another variable with which programs load or run other code, as exec
does (STARTUP_VARIABLE; nothing is written) unless --allow-startup-variables.

Options:
  --env ENV            the environment (exactly one)
  --format F           dotenv, shell, json or k8s (default dotenv)
  --only NAME[,NAME]   only these secrets
  --name NAME          k8s: metadata.name
  --namespace NS       k8s: metadata.namespace
  --allow-startup-variables
                       dotenv, shell: let secrets set PATH, LD_PRELOAD, NODE_OPTIONS and the like

Example:
  stellar-secrets export --env production --format k8s --name billing --namespace prod | kubectl apply -f -
`;

const flags = {
  env: { type: "string", multiple: true },
  format: { type: "string" },
  only: { type: "string", multiple: true },
  name: { type: "string" },
  namespace: { type: "string" },
  "allow-startup-variables": { type: "boolean" },
} as const;

const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** `USAGE` unless `name` is a valid Kubernetes object name (metadata.name of the Secret). */
function assertK8sName(name: string): void {
  if (!K8S_NAME.test(name)) {
    throw new CliError("USAGE", `export: --name "${name}" is not a valid Kubernetes name (lowercase letters, digits, - and .)`, {
      hint: "a Secret's name is lowercase letters, digits, - and ., starting and ending with a letter or digit, at most 253 characters (e.g. app-secrets)",
    });
  }
}

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f } = parseCommandArgs("export", argv, flags);
  const format = f.format ?? "dotenv";
  if (format !== "dotenv" && format !== "shell" && format !== "json" && format !== "k8s") {
    throw new CliError("USAGE", `export: unknown --format "${format}"`, { hint: "use dotenv, shell, json or k8s" });
  }
  if (format !== "k8s" && (f.name !== undefined || f.namespace !== undefined)) {
    throw new CliError("USAGE", `export: ${f.name !== undefined ? "--name" : "--namespace"} applies to --format k8s only`, {
      hint: `add --format k8s to write a Kubernetes Secret${format === "dotenv" && f.format === undefined ? " (the default format is dotenv)" : ""}`,
    });
  }
  // the flags are checked before anything is read (the default name needs the environment: checked below)
  if (format === "k8s" && f.name !== undefined) assertK8sName(f.name);
  if (format === "k8s" && f.namespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(f.namespace)) {
    throw new CliError("USAGE", `export: --namespace "${f.namespace}" is not a valid Kubernetes namespace`, {
      hint: "a namespace is lowercase letters, digits and -, starting and ending with a letter or digit, at most 63 characters (e.g. prod)",
    });
  }
  const config = await openProject(ctx);
  const envNames = splitList(f.env);
  const env = selectOneEnvironment(config, envNames, "export");
  const k8sName = f.name ?? `stellar-secrets-${env.name}`.replace(/_/g, "-");
  if (format === "k8s") assertK8sName(k8sName);
  const decrypted = await decryptEnvironment(ctx, config, env);
  const values = selectValues(decrypted.values, splitList(f.only), env.name);
  decrypted.dataKey.fill(0);
  if (format === "json") {
    ctx.stdout.write(renderJson(Object.fromEntries(values)));
  } else if (format === "dotenv" || format === "shell") {
    const dotenv = format === "dotenv";
    const variables = variableNames(values.keys());
    if (f["allow-startup-variables"] !== true) refuseStartupVariables(variables, "nothing was written");
    const lines = [...values].map(([name, value]) => {
      const quoted = dotenv ? quoteDotenv(value) : quoteShell(value);
      if (quoted === undefined) {
        throw new CliError(
          "UNREPRESENTABLE_VALUE",
          dotenv
            ? `the value of "${name}" cannot be written as dotenv so that dotenv and node --env-file read it back exactly (it holds ", ' and \` together, a carriage return or a NUL); nothing was written`
            : `the value of "${name}" holds a NUL byte, which no shell variable can hold; nothing was written`,
          { hint: dotenv ? "use --format json or k8s, or `stellar-secrets exec`, or leave it out with --only" : "use --format json or k8s, or leave it out with --only" },
        );
      }
      return `${dotenv ? "" : "export "}${variables.get(name)}=${quoted}`;
    });
    ctx.stdout.write(lines.length > 0 ? `${lines.join("\n")}\n` : "");
  } else {
    // a Map, not a plain object: a name such as `__proto__` must be a key like any other
    const data = new Map<string, string>();
    for (const [name, value] of values) data.set(name, Buffer.from(value, "utf8").toString("base64"));
    const metadata = new Map<string, string>([["name", k8sName]]);
    if (f.namespace !== undefined) metadata.set("namespace", f.namespace);
    ctx.stdout.write(
      stringify({ apiVersion: "v1", kind: "Secret", metadata, type: "Opaque", data }, { lineWidth: 0 }),
    );
  }
  return 0;
}

const command: Command = { summary: "write one environment's values as dotenv, shell, JSON or a Kubernetes Secret", help, run };
export default command;
