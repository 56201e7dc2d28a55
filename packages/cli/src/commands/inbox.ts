/**
 * `stellar-secrets inbox list|apply|reject`: write-only proposals. `set` by someone without an
 * environment's key writes `<secrets_dir>/inbox/ENV/NAME.<id>.age` (encrypted to ENV's members
 * only); a member folds it into the environment file (`apply`, stable ciphertext, under the file's
 * lock) or drops it (`reject`). `list` reads without a key.
 */
import { existsSync, unlinkSync } from "node:fs";
import { relative } from "node:path";
import { proposalRecipientDrift, secretsFilePath, validateSecretName, type EnvironmentConfig, type ProjectConfig } from "@stellar-secrets/core";
import { createSecretsFile, editSecretsFile, openProposal, parseProposal, type Identities } from "@stellar-secrets/sops";
import { followMergeRecord } from "../merge-record-follow.js";
import { parseCommandArgs, splitList } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { humanList, plural, renderJson, renderTable, shortRecipient } from "../format.js";
import { readInbox, removeEmptyInboxFolder, type InboxEntry } from "../inbox.js";
import { decryptEnvironment, identitiesFor, openProject, recipientsOf, selectEnvironments, withProjectLock } from "../repository.js";
import { outsideSparseCheckout, outsideSparseCheckoutError } from "../sparse.js";
import { unknownSubcommandMessage } from "../suggest.js";

const help = `Usage: stellar-secrets inbox list [--env ENV[,ENV]] [--json]
       stellar-secrets inbox apply [NAME | NAME.ID] --env ENV [--json]
       stellar-secrets inbox reject [NAME | NAME.ID] --env ENV [--json]

Write-only proposals. Someone without the key of an environment runs the ordinary
\`stellar-secrets set NAME --env ENV\`; the value then becomes a proposal,
<secrets_dir>/inbox/ENV/NAME.<id>.age, encrypted with age to ENV's members only, with its name,
environment, proposer (git user.name <user.email>: a claim, as a commit author is) and time in
clear. The proposer cannot read it back. \`check\` reports it (pending-proposal), \`review\` lists it.

  list    every proposal (keyless): environment, name, id, proposer, time and its state:
          pending, stale (encrypted to other keys than the members now) or invalid
  apply   (a member of ENV) decrypts the proposals of ENV (NAME: only that name's; NAME.ID: that
          one file), checks that each is intact (the age file decrypts, the clear fields equal the
          encrypted ones, the age header matches the listed recipients), writes every value into
          the environment file in one write (stable ciphertext: the other values keep their exact
          ENC strings) and removes the proposal files. A proposal that does not decrypt, was
          changed, or is encrypted to a key that is no longer a member (STALE_PROPOSAL: that
          person can read the value; ask for a new proposal) is refused and nothing is applied.
          A proposal that only lacks a member added since is applied.
  reject  removes the proposal files (no key needed; the value is never read). ENV need not be
          declared, so a proposal for an unknown environment can be removed.
Commit the result (the environment file and the removed proposal) as usual.

Options:
  --env ENV[,ENV]  environments (required for apply and reject; one of them)
  --json           print the result as JSON

Examples:
  stellar-secrets inbox list
  stellar-secrets inbox apply stripe_api_key --env production
  stellar-secrets inbox reject stripe_api_key.3f2a9c0d1e4b --env production
`;

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "list") return list(rest, ctx);
  if (sub === "apply") return apply(rest, ctx);
  if (sub === "reject") return reject(rest, ctx);
  throw new CliError("USAGE", unknownSubcommandMessage("inbox", sub, ["list", "apply", "reject"]), {
    hint: "use `inbox list`, `inbox apply [NAME] --env ENV` or `inbox reject [NAME] --env ENV`",
  });
}

type State = "pending" | "stale" | "invalid";

function stateOf(config: ProjectConfig, entry: InboxEntry): { state: State; problem?: string } {
  const p = entry.parsed;
  const invalid = p.diagnostics[0];
  if (invalid !== undefined || p.proposal === undefined) return { state: "invalid", problem: invalid?.message ?? "not a proposal" };
  if (!config.environments.some((e) => e.name === p.proposal!.environment)) return { state: "invalid", problem: `environment "${p.proposal.environment}" is not declared in stellar.yaml` };
  const drift = proposalRecipientDrift(config, p.proposal);
  if (drift !== undefined && (drift.extra.length > 0 || drift.missing.length > 0)) {
    const parts: string[] = [];
    if (drift.extra.length > 0) parts.push(`encrypted to ${drift.extra.map(shortRecipient).join(", ")}, not a member now`);
    if (drift.missing.length > 0) parts.push(`not encrypted to ${humanList(drift.missing.map((m) => m.name))}`);
    return { state: "stale", problem: parts.join("; ") };
  }
  return { state: "pending" };
}

async function list(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f } = parseCommandArgs("inbox list", argv, { env: { type: "string", multiple: true }, json: { type: "boolean" } });
  const config = await openProject(ctx);
  const envs = splitList(f.env);
  const entries = readInbox(config, envs.length > 0 ? envs : undefined);
  // a mistyped environment is UNKNOWN_ENVIRONMENT (did you mean), not "no proposals"; one that is
  // not declared but has proposals (left after it was removed from stellar.yaml) is still listed
  const undeclared = envs.filter((n) => !config.environments.some((e) => e.name === n) && readInbox(config, [n]).length === 0);
  if (undeclared.length > 0) selectEnvironments(config, undeclared, { all: false });
  const rows = entries.map((e) => {
    const { state, problem } = stateOf(config, e);
    const p = e.parsed.proposal;
    return {
      environment: e.parsed.environment ?? p?.environment ?? null,
      name: p?.name ?? e.name ?? null,
      id: e.label.includes(".") ? e.label.slice(e.label.indexOf(".") + 1) : null,
      proposer: p?.proposer ?? null,
      proposedAt: p?.proposedAt ?? null,
      recipients: p?.recipients ?? [],
      state,
      problem: problem ?? null,
      file: e.rel,
    };
  });
  if (f.json) {
    ctx.stdout.write(renderJson({ proposals: rows }));
    return 0;
  }
  if (rows.length === 0) {
    ctx.stdout.write("no proposals\n");
    return 0;
  }
  ctx.stdout.write(
    renderTable(
      ["ENVIRONMENT", "NAME", "ID", "PROPOSER", "PROPOSED", "STATE"],
      rows.map((r) => [r.environment ?? "?", r.name ?? "?", r.id ?? "?", r.proposer ?? "?", r.proposedAt ?? "?", r.problem === null ? r.state : `${r.state}: ${r.problem}`]),
    ),
  );
  return 0;
}

/** The proposals of one environment that `selector` (NAME, NAME.ID or nothing) names. */
function select(config: ProjectConfig, environment: string, selector: string | undefined, verb: string): InboxEntry[] {
  const all = readInbox(config, [environment]);
  const chosen = selector === undefined ? all : all.filter((e) => e.label === selector || e.name === selector || e.fileName === selector);
  if (chosen.length === 0) {
    throw new CliError("NO_PROPOSAL", selector === undefined ? `no proposals for ${environment}` : `no proposal "${selector}" for ${environment}`, {
      hint: all.length > 0 ? `the proposals for ${environment}: ${all.map((e) => e.label).join(", ")}` : "`stellar-secrets inbox list` shows the proposals",
    });
  }
  if (verb === "apply") {
    const byName = new Map<string, InboxEntry[]>();
    for (const e of chosen) byName.set(e.name ?? e.fileName, [...(byName.get(e.name ?? e.fileName) ?? []), e]);
    for (const [name, es] of byName) {
      if (es.length > 1) {
        throw new CliError("USAGE", `${es.length} proposals for "${name}" in ${environment}: apply one by its id`, {
          hint: `stellar-secrets inbox apply ${es[0]!.label} --env ${environment} (the others: ${es.slice(1).map((e) => e.label).join(", ")}); \`inbox list\` shows who proposed each and when`,
        });
      }
    }
  }
  return chosen;
}

/** Removes a proposal file; one already gone (another member applied or rejected it meanwhile) is fine. */
function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

function oneEnvironment(command: string, envs: string[]): string {
  if (envs.length !== 1) {
    throw new CliError("USAGE", `${command}: ${envs.length === 0 ? "--env is required" : "name one environment"}`, { hint: `run \`stellar-secrets ${command} --help\`` });
  }
  return envs[0]!;
}

/** Checks and decrypts one proposal of `env` for applying; throws a coded error when it must be refused. */
async function openForApply(config: ProjectConfig, env: EnvironmentConfig, entry: InboxEntry, identities: Identities): Promise<{ name: string; value: string; note?: string }> {
  // a symbolic link is never followed: refused with what it is and where
  const linked = entry.link === true ? entry.parsed.diagnostics[0] : undefined;
  if (linked !== undefined) throw new CliError("MALFORMED_FILE", `${entry.rel}: ${linked.message}`);
  // MALFORMED_FILE with file:line for a file that is not a proposal or is truncated
  const parsed = parseProposal(entry.text, entry.rel);
  const problem = entry.parsed.diagnostics.find((d) => d.rule !== "invalid-secret-name");
  if (problem !== undefined) throw new CliError("MALFORMED_FILE", `${entry.rel}:${problem.line}: ${problem.message}`);
  const valid = validateSecretName(parsed.name);
  if (!valid.ok) {
    throw new CliError("INVALID_SECRET_NAME", `${entry.rel}: the proposal's name: ${valid.message}; nothing was applied`, {
      hint: `remove it with \`stellar-secrets inbox reject ${entry.label} --env ${env.name}\``,
    });
  }
  const drift = proposalRecipientDrift(config, parsed);
  if (drift !== undefined && drift.extra.length > 0) {
    throw new CliError(
      "STALE_PROPOSAL",
      `${entry.rel} is encrypted to ${drift.extra.map(shortRecipient).join(", ")}, not a member of ${env.name} now, who can read the proposed value; nothing was applied`,
      { hint: `ask the proposer to propose again (\`stellar-secrets set ${parsed.name} --env ${env.name}\`), and remove this one with \`stellar-secrets inbox reject ${entry.label} --env ${env.name}\`` },
    );
  }
  const value = await openProposal(parsed, identities.identities, entry.rel);
  const note = drift !== undefined && drift.missing.length > 0 ? `${entry.label} was not encrypted to ${humanList(drift.missing.map((m) => m.name))} (members added since)` : undefined;
  return note === undefined ? { name: parsed.name, value } : { name: parsed.name, value, note };
}

async function apply(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f, positionals } = parseCommandArgs("inbox apply", argv, { env: { type: "string", multiple: true }, json: { type: "boolean" } }, { min: 0, max: 1, names: "NAME" });
  const config = await openProject(ctx);
  const [env] = selectEnvironments(config, [oneEnvironment("inbox apply", splitList(f.env))], { all: false }) as [EnvironmentConfig];
  const chosen = select(config, env.name, positionals[0], "apply");
  const identities = identitiesFor(ctx);
  const path = secretsFilePath(config, env.name);
  // only a member applies: the environment file must open with the user's key (when it exists)
  if (existsSync(path)) (await decryptEnvironment(ctx, config, env)).dataKey.fill(0);
  // every proposal is checked and decrypted before anything is written: all or nothing
  const opened: { entry: InboxEntry; name: string; value: string; note?: string }[] = [];
  for (const entry of chosen) opened.push({ entry, ...(await openForApply(config, env, entry, identities)) });

  const results: { name: string; id: string; action: "created" | "updated" | "unchanged"; file: string }[] = [];
  const actionOf = (previous: string | undefined, value: string): "created" | "updated" | "unchanged" => (previous === undefined ? "created" : previous === value ? "unchanged" : "updated");
  let created = false;
  if (!existsSync(path)) {
    const skipped = await outsideSparseCheckout(ctx, config.root, [path]);
    if (skipped.length > 0) throw outsideSparseCheckoutError(skipped, "no proposal was applied (a new file there would replace the committed one, whose other secrets the next commit would drop)");
    created = await withProjectLock(ctx, async (locked) => {
      if (existsSync(path)) return false;
      const members = locked.environments.find((e) => e.name === env.name) ?? env;
      await createSecretsFile(path, recipientsOf(members), new Map(opened.map((o) => [o.name, o.value])));
      return true;
    });
    if (created) for (const o of opened) results.push({ name: o.name, id: o.entry.label, action: "created", file: relative(config.root, path) });
  }
  if (!created) {
    await followMergeRecord(
      ctx,
      config.root,
      path,
      () =>
        editSecretsFile(path, identities, (values) => {
          results.length = 0;
          for (const o of opened) {
            results.push({ name: o.name, id: o.entry.label, action: actionOf(values.get(o.name), o.value), file: relative(config.root, path) });
            values.set(o.name, o.value);
          }
        }),
      () => opened.map((o) => o.name),
    );
  }
  for (const o of opened) removeFile(o.entry.abs);
  removeEmptyInboxFolder(config, env.name);
  const notes = opened.flatMap((o) => (o.note === undefined ? [] : [o.note]));
  if (f.json) {
    ctx.stdout.write(renderJson({ environment: env.name, applied: results, removed: opened.map((o) => o.entry.rel), notes }));
    return 0;
  }
  const lines = results.map((r) => `${r.action} ${r.name} in ${env.name} from proposal ${r.id}`);
  lines.push(`removed ${plural(opened.length, "proposal file")}: ${opened.map((o) => o.entry.rel).join(", ")}; commit ${relative(config.root, path)} and the removal`);
  for (const n of notes) lines.push(`note: ${n}`);
  ctx.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

async function reject(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f, positionals } = parseCommandArgs("inbox reject", argv, { env: { type: "string", multiple: true }, json: { type: "boolean" } }, { min: 0, max: 1, names: "NAME" });
  const config = await openProject(ctx);
  const environment = oneEnvironment("inbox reject", splitList(f.env));
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(environment)) throw new CliError("USAGE", "inbox reject: --env must be an environment name");
  const chosen = select(config, environment, positionals[0], "reject");
  for (const e of chosen) removeFile(e.abs);
  removeEmptyInboxFolder(config, environment);
  if (f.json) {
    ctx.stdout.write(renderJson({ environment, removed: chosen.map((e) => e.rel) }));
    return 0;
  }
  ctx.stdout.write(`removed ${plural(chosen.length, "proposal")} for ${environment} (not applied): ${chosen.map((e) => e.rel).join(", ")}; commit the removal\n`);
  return 0;
}

const command: Command = { summary: "write-only proposals: list them, apply one into its environment (a member), or reject it", help, run };
export default command;
