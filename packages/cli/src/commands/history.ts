/**
 * `stellar-secrets history [NAME] [--env ENV]`: every commit that added, changed or removed a
 * secret's value, per environment, from git history — no key needed.
 */
import { existsSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { readSecretsHistory, secretsFilePath, type EnvironmentConfig, type HistoryEvent, type ProjectConfig, type SecretsHistory } from "@stellar-secrets/core";
import { DecryptCache, decryptSecrets, escapeControlCharacters, type Identities } from "@stellar-secrets/sops";
import { parseCommandArgs, splitList } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { renderJson, renderTable } from "../format.js";
import { GitRepo, readWorkingText, shallowCutOf } from "../git.js";
import { identitiesFor, namesIn, openProject, readCatalog, readEnvironmentFilesEach, selectEnvironments } from "../repository.js";
import { CliError } from "../errors.js";
import { didYouMeanName } from "../suggest.js";
import { outsideSparseCheckout } from "../sparse.js";

const help = `Usage: stellar-secrets history [NAME] [--env ENV[,ENV]] [--no-decrypt] [--json]

Lists, per secret and environment, every commit that added, changed or removed its value:
date, commit, author, change and message, oldest first; uncommitted changes come last.
No key is needed: values are stored with stable ciphertext, so a value changed exactly when its
encrypted string changed. A commit that re-encrypted every value at once (rotate-key, members rm,
or a plain \`sops\` edit) is reported as "re-encrypted under a new data key" (or "the same data
key", as the wrapped keys show it), "values cannot be compared without a key": without a key
nobody can tell whether a value also changed. When you have a key that opens both versions, they
are decrypted in memory and compared, and such a commit is reported as "changed (and re-encrypted
under a new data key)" or "re-encrypted (same value)".
Follows renamed files, handles deleted files and merges (a merge is listed only for what it
changed itself, and for a value it kept from one side when the other side's dropped value is
listed later: "kept COMMIT's value (merge)", the dropped one "(dropped by merge COMMIT)").
A version committed with a value in clear text (past the hook: sops cannot read it) is still
read, keyless: the value is listed as "added in clear text" (or "changed in clear text") at that
commit, since it is in git history from there on whatever later commits do (leaked: change it at
the provider), and the commit that encrypts it as "changed", or, with a key that shows it is
the same value, as "encrypted, the same value as in clear text before (still the leaked value
...)" (kind "re-encrypted", "leakedValue": true). No clear value is ever printed.
On a terminal, long runs (500 or more file versions) show progress on stderr.
A NAME no commit ever set that no environment file or catalog entry has now (a typo, as git log
refuses an unknown path) is an error, UNKNOWN_SECRET (exit 4), with the nearest name as a hint;
a NAME that exists but has no history (declared only, or --env leaves out where it is) prints
"No history for NAME." and exits 0.

Options:
  --env ENV[,ENV]  only these environments (default: all)
  --no-decrypt     never use a key, even when one is available
  --json           print {"events":[{"environment", "name", "kind", "commit", "author", "email",
                   "date", "message", "verified"}]}; a merge's choice adds "keptFrom" to its
                   event and "discardedBy" to the dropped side's; an event of a re-encryption
                   adds "dataKey": "new" or "same" when the wrapped keys show which (a
                   "re-encrypted" event with "same" also has "sameDataKey": true); an
                   event of a value stored in clear text has "plaintext": true, and one
                   that encrypted that same value (a key told) "leakedValue": true

Example:
  stellar-secrets history stripe_api_key --env production
`;

const flags = { env: { type: "string", multiple: true }, "no-decrypt": { type: "boolean" }, json: { type: "boolean" } } as const;

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f, positionals } = parseCommandArgs("history", argv, flags, { min: 0, max: 1, names: "NAME" });
  const name = positionals[0];
  const config = await openProject(ctx);
  const envs = selectEnvironments(config, splitList(f.env), { all: true });
  const cache = new DecryptCache();
  let history: SecretsHistory;
  try {
    history = await readHistoryOf(ctx, config, envs, f["no-decrypt"] === true, cache);
  } finally {
    cache.wipe();
  }
  const events = history.events.filter((e) => name === undefined || e.name === name);
  // a name with no history that no environment file or catalog entry has now: a typo, or a name
  // that never existed (git log of an unknown path refuses too): an error with the nearest name
  if (name !== undefined && events.length === 0) await refuseUnknownName(name, config, envs, history);

  if (f.json) {
    // an object like every other --json (the events array was the whole output before 0.x: now under "events")
    ctx.stdout.write(renderJson({ events }));
    return 0;
  }
  if (events.length === 0) {
    ctx.stdout.write(name === undefined ? "No history: no committed secrets yet.\n" : escapeControlCharacters(`No history for ${name}.\n`, { keepNewlines: true }));
    const near = name === undefined ? undefined : didYouMeanName(name, new Set(history.events.map((e) => e.name)));
    if (near !== undefined) ctx.stderr.write(`hint: ${escapeControlCharacters(near)}\n`);
    return 0;
  }
  const groups = new Map<string, HistoryEvent[]>();
  for (const e of events) {
    const key = `${e.name} (${e.environment})`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  const keys = [...groups.keys()].sort();
  const out: string[] = [];
  for (const key of keys) {
    out.push(escapeControlCharacters(key));
    const rows = (groups.get(key) as HistoryEvent[]).map((e) => [
      "  " + (e.commit === "" ? "(working tree)" : e.date.slice(0, 16).replace("T", " ")),
      e.commit === "" ? "-" : e.commit.slice(0, 10),
      e.commit === "" ? "-" : `${e.author} <${e.email}>`,
      describeKind(e),
      e.message,
    ]);
    out.push(renderTable(["  DATE", "COMMIT", "AUTHOR", "CHANGE", "MESSAGE"], rows).trimEnd());
    out.push("");
  }
  ctx.stdout.write(`${out.join("\n")}`);
  return 0;
}

/**
 * Throws UNKNOWN_SECRET when `name` has no event in `history` (of `envs`) and no environment file
 * (of every environment) nor the catalog has it now; the hint is the nearest name of those and of
 * the history, else where to look. Returns when the name exists now (then "No history" is the
 * answer: declared, or set in an environment not selected) or an environment file cannot be read
 * (the name may be in it).
 */
async function refuseUnknownName(name: string, config: ProjectConfig, envs: readonly EnvironmentConfig[], history: SecretsHistory): Promise<void> {
  const { files, unreadable } = await readEnvironmentFilesEach(config, config.environments);
  if (unreadable.length > 0) return;
  const catalog = (await readCatalog(config)).entries;
  const current = new Set([...files.flatMap((e) => namesIn(e.file)), ...catalog.keys()]);
  if (current.has(name)) return;
  const all = envs.length === config.environments.length;
  const where = all ? "any environment" : envs.map((e) => e.name).join(", ");
  const near = didYouMeanName(name, new Set([...current, ...history.events.map((e) => e.name)]));
  throw new CliError("UNKNOWN_SECRET", `secret "${name}" has no history: no commit in ${where} ever set it, and no environment file or catalog entry has it now`, {
    hint:
      near ??
      (all ? "check the name (case-sensitive): `stellar-secrets history` lists every secret's history, `stellar-secrets list` the secrets there are now" : "check the name (case-sensitive), or leave out --env: `stellar-secrets history` looks in every environment"),
  });
}

/** The CHANGE column: a merge that kept one side's value says so, and a value a merge dropped says it is not current. */
export function describeKind(e: HistoryEvent): string {
  if (e.keptFrom !== undefined) return e.kind === "removed" ? `removed: kept ${e.keptFrom.slice(0, 10)}'s removal (merge)` : `kept ${e.keptFrom.slice(0, 10)}'s value (merge)`;
  if (e.plaintext === true) return `${e.kind} in clear text (leaked: in git history from this commit on; change it at the provider)`;
  if (e.leakedValue === true) return "encrypted, the same value as in clear text before (still the leaked value: change it at the provider)";
  const kind = e.kind === "re-encrypted" ? (e.verified ? "re-encrypted (same value)" : `${reencryptedUnder(e)}; values cannot be compared without a key`) : e.kind === "changed" && e.verified && e.dataKey !== undefined ? `changed (and ${reencryptedUnder(e)})` : e.kind;
  return e.discardedBy === undefined ? kind : `${kind} (dropped by merge ${e.discardedBy.slice(0, 10)})`;
}

/** "re-encrypted under a new data key" (or the same one) as the wrapped data keys show it, keyless. */
function reencryptedUnder(e: HistoryEvent): string {
  return e.dataKey === "new" ? "re-encrypted under a new data key" : e.dataKey === "same" ? "re-encrypted under the same data key" : "re-encrypted";
}

/** Work items from which a run counts as long and shows progress. */
export const PROGRESS_THRESHOLD = 500;

/**
 * The value history of `envs` from git (with a key when one is found and `noDecrypt` is false, to
 * tell a re-encryption from a value change), with a progress line on long runs and warnings on
 * stderr. Shared by `history` and `stale`. Throws `CliError("GIT_ERROR")` outside a git repository.
 */
/**
 * The history of `envs`' files. With a key (unless `noDecrypt`), versions are decrypted in memory
 * through `cache` when given (versions that share a data key unwrap it once, unchanged values are
 * decrypted once; the caller wipes it), else each on its own (its data key zeroed at once).
 */
export async function readHistoryOf(ctx: CommandContext, config: ProjectConfig, envs: readonly EnvironmentConfig[], noDecrypt: boolean, cache?: DecryptCache): Promise<SecretsHistory> {
  const identities = noDecrypt ? undefined : identitiesFor(ctx);
  const keys = identities !== undefined && identities.identities.length > 0 ? identities : undefined;
  const progress = progressLine(ctx);
  const git = await GitRepo.open(config.root, ctx.env, "history comes from git commits");
  const files = envs.map((e) => ({ environment: e.name, path: projectPath(config, secretsFilePath(config, e.name)) }));
  // a file a sparse checkout leaves out of the work tree is not removed there: git keeps it as HEAD has it (else "removed, uncommitted")
  const skipped = await outsideSparseCheckout(ctx, config.root, files.map((f) => join(config.root, f.path)).filter((p) => !existsSync(p)));
  const asCommitted = new Map<string, string | null | undefined>();
  for (const rel of skipped) asCommitted.set(rel, await git.show("", rel)); // (":PATH": the index's version, what git commits)
  const history = await readSecretsHistory({
    git,
    files,
    readWorkingText: (rel) => (asCommitted.has(rel) ? asCommitted.get(rel) : readWorkingText(config.root, rel)),
    ...(keys === undefined ? {} : { plaintexts: (text: string) => plaintextsOf(text, keys, cache) }),
    onProgress: progress.update,
  });
  progress.done();
  for (const w of history.warnings) ctx.stderr.write(`warning: ${w}\n`);
  const cut = shallowCutOf(config.root, ctx.env);
  if (cut !== undefined) {
    ctx.stderr.write(
      `warning: this is a shallow clone (its history stops at ${cut.slice(0, 12)}): the commit at the cut shows every value it holds as added, and a value set before it looks set at it; fetch the history (\`git fetch --unshallow\`)\n`,
    );
  }
  return history;
}

/**
 * One version's values, in memory. Through `cache` (its data keys stay in it until the caller
 * wipes it), else with the data key zeroed before returning.
 */
export async function plaintextsOf(text: string, identities: Identities, cache: DecryptCache | undefined): Promise<ReadonlyMap<string, string>> {
  if (cache !== undefined) return (await decryptSecrets(text, identities, { cache })).values;
  const d = await decryptSecrets(text, identities);
  d.dataKey.fill(0);
  return d.values;
}

/** `abs` relative to the project root, `/`-separated (as core's history takes paths). */
function projectPath(config: ProjectConfig, abs: string): string {
  return relative(config.root, abs).split(sep).join("/");
}

/** A progress line on stderr, shown only on a terminal and only for long runs (many file versions). */
export function progressLine(ctx: CommandContext): { update: (phase: string, done: number, total: number) => void; done: () => void } {
  let shown = false;
  return {
    update(phase, done, total) {
      if (!ctx.stderr.isTTY || total < PROGRESS_THRESHOLD) return;
      shown = true;
      ctx.stderr.write(`\r\u001b[K${phase} ${done}/${total}…`);
    },
    done() {
      if (shown) ctx.stderr.write("\r\u001b[K");
    },
  };
}

const command: Command = { summary: "every commit that added, changed or removed a secret's value (no key needed)", help, run };
export default command;
