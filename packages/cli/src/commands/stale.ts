/**
 * `stellar-secrets stale [--older-than 90d]`: secrets whose value last changed before a limit,
 * per environment, from git history (no key needed).
 */
import { durationDays, lastValueChanges, valueAge } from "@stellar-secrets/core";
import { parseCommandArgs, parseDurationDays, splitList } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { plural, renderJson, renderTable } from "../format.js";
import { namesIn, openProject, readCatalog, readEnvironmentFiles, selectEnvironments } from "../repository.js";
import { readHistoryOf } from "./history.js";

const help = `Usage: stellar-secrets stale [--older-than DURATION] [--env ENV[,ENV]] [--no-decrypt] [--json]

Lists, per environment, the secrets whose value last changed longer ago than the limit:
--older-than when given; otherwise the secret's rotate_every in secrets/catalog.yaml; otherwise
90 days. The date of the last change comes from git history (see \`history\`): a commit that only
re-encrypted the values (rotate-key, members rm) does not count as a change, unless a key shows
the value did change. A value with uncommitted changes counts as changed now.
Exits with status 1 when a secret is stale, 0 otherwise (usable in CI).

Options:
  --older-than D   a number and d/w/m/y: 90d, 12w, 6m (30 days each), 1y (365 days)
  --env ENV[,ENV]  only these environments
  --no-decrypt     never use a key
  --json           print {"stale": [...], "fresh": [...]} with environment, name, lastChanged,
                   commit, author, ageDays, limitDays, limitFrom

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
  const catalog = await readCatalog(config);
  const history = await readHistoryOf(ctx, config, envs, f["no-decrypt"] === true);
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
      rows.push({
        environment: env.name,
        name,
        lastChanged: event?.date ?? null,
        commit: event === undefined ? null : event.commit === "" ? "(working tree)" : event.commit,
        author: event?.author ?? null,
        ageDays,
        limitDays,
        limitFrom,
        stale: overdue,
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
  ctx.stdout.write(`${plural(stale.length, "stale value")}: rotate at the provider, then \`stellar-secrets set NAME --env ENV\`.\n`);
  return 1;
}

const command: Command = { summary: "secrets whose value last changed before a limit, from git history", help, run };
export default command;
