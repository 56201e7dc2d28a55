/**
 * `stellar-secrets stale [--older-than 90d]`: secrets whose value last changed before a limit,
 * per environment, from git history (no key needed).
 */
import { readFileSync } from "node:fs";
import { relative, sep } from "node:path";
import { durationDays, lastValueChanges, readReplacedValues, readRetiredKeyBack, revokedValuesBack, type RetiredKeyBack, secretsFilePath, valueAge, type ProjectConfig, type RevokedValueBack, type SecretsHistory } from "@stellar-secrets/core";
import { DecryptCache, escapeControlCharacters } from "@stellar-secrets/sops";
import { parseCommandArgs, parseDurationDays, splitList } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { humanList, plural, renderJson, renderTable, shortRecipient } from "../format.js";
import { GitRepo } from "../git.js";
import { decryptEnvironment, identitiesFor, namesIn, openProject, readCatalog, readEnvironmentFiles, recipientsOf, selectEnvironments, type EnvironmentFile } from "../repository.js";
import { plaintextsOf, readHistoryOf } from "./history.js";
import { refuseOutsideSparseCheckout } from "../sparse.js";

const help = `Usage: stellar-secrets stale [--older-than DURATION] [--env ENV[,ENV]] [--no-decrypt] [--json]

Lists, per environment, the secrets whose value last changed longer ago than the limit:
--older-than when given; otherwise the secret's rotate_every in secrets/catalog.yaml; otherwise
90 days. The date of the last change comes from git history (see \`history\`): a commit that only
re-encrypted the values (rotate-key, members rm) does not count as a change, unless a key shows
the value did change. A value with uncommitted changes counts as changed now.
With a key, two more findings make a value stale whatever its age (never printing a value):
  revoked-value-back     its current value is one that an earlier commit replaced with a new
                         value under any name of the environment (rotated away, e.g. revoked):
                         a rename merged with a rotation of the old name brings it back
  leaked-never-rotated   its current value is the one committed in clear text (see \`history\`)
Without a key too, one finding makes every value of an environment stale:
  retired-key-back       the file is under a data key an earlier commit rotated away (a
                         \`git revert\` of rotate-key or members rm, an old version checked
                         out): whoever held that key can read it; run rotate-key
Exits with status 1 when a secret is stale, 0 otherwise (usable in CI).

Options:
  --older-than D   a number and d/w/m/y: 90d, 12w, 6m (30 days each), 1y (365 days)
  --env ENV[,ENV]  only these environments
  --no-decrypt     never use a key
  --json           print {"stale": [...], "fresh": [...]} with environment, name, lastChanged,
                   commit, author, ageDays, limitDays, limitFrom, compromised (null, or
                   {kind, commit, date, replacedName[, formerRecipients]} for the findings above)

Example:
  stellar-secrets stale --older-than 180d --env production
`;

const flags = {
  "older-than": { type: "string" },
  env: { type: "string", multiple: true },
  "no-decrypt": { type: "boolean" },
  json: { type: "boolean" },
} as const;

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f } = parseCommandArgs("stale", argv, flags);
  const globalLimit = f["older-than"] === undefined ? undefined : parseDurationDays(f["older-than"], "--older-than");
  const config = await openProject(ctx);
  const envs = selectEnvironments(config, splitList(f.env), { all: true });
  const files = await readEnvironmentFiles(config, envs);
  await refuseOutsideSparseCheckout(ctx, config.root, files, "stale reads the values from the environment files, so it cannot judge them here");
  const catalog = await readCatalog(config);
  // one cache for both reads of the history: each version is decrypted once, each data key unwrapped once
  const cache = new DecryptCache();
  let history: SecretsHistory;
  let revoked: RevokedValueBack[];
  try {
    history = await readHistoryOf(ctx, config, envs, f["no-decrypt"] === true, cache);
    revoked = f["no-decrypt"] === true ? [] : await revokedValues(ctx, config, files, cache);
  } finally {
    cache.wipe();
  }
  // keyless: an environment file under a data key an earlier commit rotated away (a reverted rotate-key or members rm)
  const retired = await retiredKeys(ctx, config, files);
  const last = lastValueChanges(history.events);
  const now = new Date();

  const rows: {
    environment: string;
    name: string;
    lastChanged: string | null;
    commit: string | null;
    author: string | null;
    ageDays: number | null;
    limitDays: number;
    limitFrom: "--older-than" | "catalog" | "default";
    compromised: Compromised | null;
    stale: boolean;
  }[] = [];
  for (const { env, file } of files) {
    for (const name of namesIn(file).slice().sort()) {
      const rotate = catalog.entries.get(name)?.rotate_every;
      const catalogDays = rotate === undefined ? undefined : durationDays(rotate);
      let limitDays = 90;
      let limitFrom: "--older-than" | "catalog" | "default" = "default";
      if (globalLimit !== undefined) {
        limitDays = globalLimit;
        limitFrom = "--older-than";
      } else if (catalogDays !== undefined) {
        limitDays = catalogDays;
        limitFrom = "catalog";
      }
      const event = last.get(`${env.name}\u0000${name}`);
      // No add/change event: the value predates history we can see (e.g. only re-encryptions
      // after an import). Treat it as stale: nobody can show when it was last set.
      const { ageDays, overdue } = valueAge(event, limitDays, now);
      const back = revoked.find((r) => r.environment === env.name && r.name === name);
      // the last value set was the one committed in clear text (with a key, its encryption is no change): still the leaked value
      const compromised: Compromised | null =
        back !== undefined
          ? { kind: "revoked-value-back", commit: back.commit, date: back.date, replacedName: back.replacedName }
          : event?.plaintext === true
            ? { kind: "leaked-never-rotated", commit: event.commit === "" ? "(working tree)" : event.commit, date: event.date, replacedName: null }
            : retiredOf(retired.get(env.name));
      rows.push({
        environment: env.name,
        name,
        lastChanged: event?.date ?? null,
        commit: event === undefined ? null : event.commit === "" ? "(working tree)" : event.commit,
        author: event?.author ?? null,
        ageDays,
        limitDays,
        limitFrom,
        compromised,
        stale: overdue || compromised !== null,
      });
    }
  }
  const stale = rows.filter((r) => r.stale);
  if (f.json) {
    ctx.stdout.write(renderJson({ stale: stale.map(({ stale: _s, ...r }) => r), fresh: rows.filter((r) => !r.stale).map(({ stale: _s, ...r }) => r) }));
    return stale.length > 0 ? 1 : 0;
  }
  if (stale.length === 0) {
    ctx.stdout.write(`No stale secrets (${plural(rows.length, "value")} checked).\n`);
    return 0;
  }
  ctx.stdout.write(
    renderTable(
      ["ENVIRONMENT", "NAME", "LAST CHANGED", "AGE", "LIMIT", "COMMIT"],
      stale.map((r) => [
        r.environment,
        r.name,
        r.lastChanged === null ? "unknown" : r.lastChanged.slice(0, 10),
        r.ageDays === null ? "?" : `${r.ageDays}d`,
        `${r.limitDays}d${r.limitFrom === "catalog" ? " (catalog)" : ""}`,
        r.commit === null ? "-" : r.commit.slice(0, 10),
      ]),
    ),
  );
  for (const r of stale) {
    const c = r.compromised;
    if (c === null) continue;
    const at = `commit ${c.commit.slice(0, 10)} (${c.date.slice(0, 10)})`;
    ctx.stdout.write(
      escapeControlCharacters(
        c.kind === "revoked-value-back"
          ? `! ${r.environment} ${r.name}: revoked-value-back: holds the value that ${at} replaced${c.replacedName === r.name ? "" : ` under ${c.replacedName}`} with a new one (rotated away, e.g. revoked or leaked): the old value is back; set the value in use at the provider (\`stellar-secrets set ${r.name} --env ${r.environment}\`), or rotate it there`
          : c.kind === "retired-key-back"
          ? `! ${r.environment} ${r.name}: retired-key-back: the file is encrypted under the data key that ${at} rotated away (a \`git revert\` of a rotate-key or members rm, or an old version checked out): whoever could decrypt it then${c.formerRecipients !== undefined && c.formerRecipients.length > 0 ? ` (${humanList(c.formerRecipients.map(shortRecipient))}, no longer a member)` : ""} can read this value; run \`stellar-secrets rotate-key --env ${r.environment}\`, then change the values at the provider if they were set after that commit`
          : `! ${r.environment} ${r.name}: leaked-never-rotated: still the value committed in clear text at ${at}: it is in git history; change it at the provider, then \`stellar-secrets set ${r.name} --env ${r.environment}\``,
      ) + "\n",
    );
  }
  ctx.stdout.write(`${plural(stale.length, "stale value")}: rotate at the provider, then \`stellar-secrets set NAME --env ENV\`.\n`);
  return 1;
}

/** Why a value must be changed whatever its age (JSON field `compromised`). */
interface Compromised {
  kind: "revoked-value-back" | "leaked-never-rotated" | "retired-key-back";
  commit: string;
  date: string;
  /** revoked-value-back: the name whose value the commit replaced; null for the others. */
  replacedName: string | null;
  /** retired-key-back: the stanza labels of the versions under the data key that the file has no stanza for now. */
  formerRecipients?: string[];
}

function retiredOf(r: RetiredKeyBack | undefined): Compromised | null {
  return r === undefined ? null : { kind: "retired-key-back", commit: r.commit, date: r.date, replacedName: null, formerRecipients: r.formerRecipients };
}

/**
 * Per environment (keyless): the commit that rotated away the data key its file is under now
 * (see {@link readRetiredKeyBack}). An environment without a file is left out.
 */
async function retiredKeys(ctx: CommandContext, config: ProjectConfig, files: readonly EnvironmentFile[]): Promise<Map<string, RetiredKeyBack>> {
  const out = new Map<string, RetiredKeyBack>();
  const present = files.filter((x) => x.file !== undefined);
  if (present.length === 0) return out;
  const git = await GitRepo.open(config.root, ctx.env, "stale reads history from git");
  for (const { env, path } of present) {
    const rel = relative(config.root, path).split(sep).join("/");
    const found = await readRetiredKeyBack(git, { environment: env.name, path: rel }, readFileSync(path, "utf8"), recipientsOf(env));
    if (found !== undefined) out.set(env.name, found);
  }
  return out;
}

/**
 * With a key of an environment: its current values that an earlier commit replaced (see
 * {@link readReplacedValues}), compared in memory only. An environment without a readable key or
 * file is left out; versions the key does not read are counted in a warning.
 */
async function revokedValues(ctx: CommandContext, config: ProjectConfig, files: readonly EnvironmentFile[], cache: DecryptCache): Promise<RevokedValueBack[]> {
  const identities = identitiesFor(ctx);
  if (identities.identities.length === 0) return [];
  const git = await GitRepo.open(config.root, ctx.env, "stale reads history from git");
  const out: RevokedValueBack[] = [];
  for (const { env, file } of files) {
    if (file === undefined) continue;
    let current;
    try {
      current = await decryptEnvironment(ctx, config, env);
    } catch {
      continue; // no key of this environment (or the file does not decrypt: check says why)
    }
    current.dataKey.fill(0);
    const path = relative(config.root, secretsFilePath(config, env.name)).split(sep).join("/");
    const read = await readReplacedValues({
      git,
      file: { environment: env.name, path },
      plaintexts: (text) => plaintextsOf(text, identities, cache),
    });
    if (read.unreadable > 0) {
      ctx.stderr.write(`warning: ${plural(read.unreadable, "version")} of ${path} in git history did not decrypt with your key (not a recipient then, or not a readable SOPS file: a value in clear text, a hand merge): a value replaced there is not compared (revoked-value-back)\n`);
    }
    out.push(...revokedValuesBack(env.name, current.values, read.replaced));
  }
  return out;
}

const command: Command = { summary: "secrets whose value last changed before a limit, from git history", help, run };
export default command;
