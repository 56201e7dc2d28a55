/**
 * `stellar-secrets access [--json] [--inactive 90d]`: the access review a security review asks
 * for, without any key: who can read each environment now (members, and the file's age stanzas
 * against them), keys shared by two names, members not seen in git for a while, the last
 * data-key rotation per environment and the values older than their rotation schedule.
 */
import { relative } from "node:path";
import { durationDays, formerReaders, lastValueChanges, parseProjectConfig, PROJECT_FILE, valueAge, type HistoryEvent } from "@stellar-secrets/core";
import { parseCommandArgs, parseDurationDays, splitList } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { humanList, plural, renderJson, shortRecipient, terminalLines } from "../format.js";
import { lastSeen, memberDetails, readCommits, type CommitRef } from "../membership.js";
import { namesIn, openProject, readCatalog, readEnvironmentFiles, recipientsOf, selectEnvironments } from "../repository.js";
import { unknownMemberHint } from "../suggest.js";
import { ciphertextIdentity } from "@stellar-secrets/sops";
import { GitRepo } from "../git.js";
import { readHistoryOf } from "./history.js";
import { refuseOutsideSparseCheckout } from "../sparse.js";

const DAY = 24 * 60 * 60 * 1000;

const help = `Usage: stellar-secrets access [--env ENV[,ENV]] [--inactive DURATION] [--machine NAME[,NAME]] [--json]

The access review, from stellar.yaml, the environment files and git history (no key needed):
  - per environment, who can read it now: its members (since when and who approved them, as
    \`members list --long\`), and the file's age stanzas against them: keys the file is encrypted
    to that are no member, and members it is not encrypted to (run \`check\` for the stanza
    integrity checks: labels alone prove nothing);
  - pending access requests (no access yet);
  - keys shared by two member names (one person under two names, or a shared key);
  - members not seen in git for longer than --inactive (default 90d): the newest commit whose
    author name, email, or email before the "@" equals the member name (ignoring case); a member
    no commit matches is listed as never seen. A machine member (a CI or deploy key) authors no
    commits: name it with --machine, and it is listed as a reader but not judged for activity;
  - the last data-key rotation per environment: the newest commit that re-encrypted every value
    and re-wrapped the data key for every recipient it kept (rotate-key, members rm; a commit
    that left a recipient's wrapped key as it was kept the data key: a plain \`sops\` edit, or
    \`set\` of every value, does not count), else the commit that created the file;
  - former readers: keys a committed version wrapped the current data key for that the file no
    longer lists (a member removed without a rotation: sops updatekeys, \`git revert\` of the
    commit that added them); they can still decrypt every value, so they are readers now too,
    until a member runs rotate-key. Named as the stellar.yaml of that commit named them;
  - values older than their catalog rotate_every (as \`stale\` and the rotation-overdue rule).
Exits with status 1 when there is a finding (a non-member reader, a member without access, a
former reader, a shared key, an inactive member, an overdue value), 0 otherwise.

Options:
  --env ENV[,ENV]   only these environments
  --inactive D      how long without a commit makes a member inactive: 90d, 12w, 6m, 1y
  --machine NAMES   members that never commit (CI, deploy keys): not judged for activity
  --json            print the report as JSON (environments, sharedKeys, inactive, findings)

Example:
  stellar-secrets access --inactive 60d
`;

/** The last data-key rotation of an environment file, from history events (oldest first). */
export interface Rotation extends CommitRef {
  /** `re-encrypted`: every value re-encrypted; `created`: the file's first commit. */
  kind: "re-encrypted" | "created";
}

/** Per environment: the newest commit that re-encrypted every value under a re-wrapped data key, else the first commit of the file. */
export function lastRotations(events: readonly HistoryEvent[]): Map<string, Rotation> {
  const out = new Map<string, Rotation>();
  for (const e of events) {
    if (e.commit === "") continue; // uncommitted
    const ref = { commit: e.commit, date: e.date, author: e.author, email: e.email };
    // a re-encryption that kept a recipient's wrapped key byte for byte is under the same data key: no rotation
    if (e.kind === "re-encrypted" && e.sameDataKey !== true) out.set(e.environment, { ...ref, kind: "re-encrypted" });
    else if (!out.has(e.environment)) out.set(e.environment, { ...ref, kind: "created" });
  }
  return out;
}

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f } = parseCommandArgs("access", argv, {
    env: { type: "string", multiple: true },
    inactive: { type: "string" },
    machine: { type: "string", multiple: true },
    json: { type: "boolean" },
  });
  const inactiveDays = f.inactive === undefined ? 90 : parseDurationDays(f.inactive, "--inactive");
  const config = await openProject(ctx);
  const envs = selectEnvironments(config, splitList(f.env), { all: true });
  // opened first, so that outside a git repository the error says what access needs git for
  const git = await GitRepo.open(config.root, ctx.env, "access reads when each member last committed and when each data key was last rotated from git commits");
  const files = await readEnvironmentFiles(config, envs);
  await refuseOutsideSparseCheckout(ctx, config.root, files, "access reads who can decrypt from the environment files, so it cannot tell here");
  const details = await memberDetails(ctx, config, envs);
  const catalog = await readCatalog(config);
  const history = await readHistoryOf(ctx, config, envs, true);
  const rotations = lastRotations(history.events);
  const lastValues = lastValueChanges(history.events);
  const now = new Date();

  // keys that still hold a data key the file no longer wraps for them, named by that commit's stellar.yaml
  const namesAt = new Map<string, Map<string, string>>();
  const nameAt = async (commit: string, recipient: string): Promise<string | null> => {
    if (!namesAt.has(commit)) {
      const text = await git.show(commit, PROJECT_FILE).catch(() => undefined);
      const names = new Map<string, string>();
      for (const e of (typeof text === "string" ? parseProjectConfig(text, PROJECT_FILE).config?.environments : undefined) ?? []) for (const m of e.members) names.set(m.recipient, m.name);
      namesAt.set(commit, names);
    }
    return namesAt.get(commit)?.get(recipient) ?? null;
  };
  const formerOf = new Map<string, { recipient: string; name: string | null; commit: string; date: string }[]>();
  for (const { env, file } of files) {
    if (file === undefined) continue;
    const current = new Map(file.metadata.age.map((s) => [s.recipient.trim(), s.enc.replace(/\s+/g, "")]));
    const values = new Map(file.entries.filter((e) => e.raw.startsWith("ENC[")).map((e) => [e.name, ciphertextIdentity(e.raw)]));
    const found = formerReaders(current, history.stanzas.filter((v) => v.environment === env.name), values);
    formerOf.set(env.name, await Promise.all(found.map(async (f) => ({ ...f, name: await nameAt(f.commit, f.recipient) }))));
  }

  const environments = files.map(({ env, path, file }) => {
    const configured = recipientsOf(env);
    const actual = [...new Set(file?.recipients ?? [])];
    const overdue: { name: string; lastChanged: string | null; ageDays: number | null; limitDays: number }[] = [];
    for (const name of namesIn(file).slice().sort()) {
      const rotate = catalog.entries.get(name)?.rotate_every;
      const limitDays = rotate === undefined ? undefined : durationDays(rotate);
      if (limitDays === undefined) continue;
      const last = lastValues.get(`${env.name}\u0000${name}`);
      const { ageDays, overdue: late } = valueAge(last, limitDays, now);
      if (late) overdue.push({ name, lastChanged: last?.date ?? null, ageDays, limitDays });
    }
    return {
      name: env.name,
      file: relative(config.root, path),
      fileExists: file !== undefined,
      members: details
        .filter((d) => d.environment === env.name)
        .map((d) => ({ name: d.name, recipient: d.recipient, since: d.since?.date ?? null, approvedBy: d.approvedBy, approvedByCommitAuthor: d.approvedByCommitAuthor })),
      memberCount: env.members.length,
      stanzaCount: file?.metadata.age.length ?? 0,
      nonMemberRecipients: actual.filter((r) => !configured.includes(r)),
      membersWithoutAccess: file === undefined ? [] : env.members.filter((m) => !actual.includes(m.recipient)).map((m) => m.name),
      pending: (env.pending ?? []).map((r) => ({ name: r.name, recipient: r.recipient, requested: r.requested ?? null })),
      lastRotation: rotations.get(env.name) ?? null,
      formerReaders: formerOf.get(env.name) ?? [],
      overdue,
    };
  });

  const byKey = new Map<string, Set<string>>();
  // across every environment (a key is a person whatever --env says), reported when a selected environment has it
  for (const env of config.environments) for (const m of env.members) byKey.set(m.recipient, (byKey.get(m.recipient) ?? new Set()).add(m.name));
  const selectedKeys = new Set(envs.flatMap((e) => e.members.map((m) => m.recipient)));
  const sharedKeys = [...byKey].filter(([key, names]) => names.size > 1 && selectedKeys.has(key)).map(([recipient, names]) => ({ recipient, names: [...names].sort() }));

  const allNames = [...new Set(envs.flatMap((e) => e.members.map((m) => m.name)))].sort();
  const machine = [...new Set(splitList(f.machine))].sort();
  for (const name of machine) {
    if (allNames.includes(name)) continue;
    const where = config.environments.filter((e) => e.members.some((m) => m.name === name)).map((e) => e.name);
    throw new CliError("UNKNOWN_MEMBER", `--machine: "${name}" is not a member of ${envs.length === config.environments.length ? "any environment" : humanList(envs.map((e) => e.name))}`, {
      hint: unknownMemberHint(name, where, new Set(config.environments.flatMap((e) => e.members.map((m) => m.name)))),
    });
  }
  // machine members (--machine) author no commits: listed as readers, never judged for activity
  const names = allNames.filter((n) => !machine.includes(n));
  const seen = lastSeen(await readCommits(ctx, config), names);
  const activity = names.map((name) => {
    const c = seen.get(name);
    const days = c === undefined ? null : Math.floor((now.getTime() - Date.parse(c.date)) / DAY);
    return { name, lastSeen: c?.date ?? null, commit: c?.commit ?? null, days, inactive: days === null || days > inactiveDays };
  });
  const inactive = activity.filter((a) => a.inactive).map(({ inactive: _i, ...a }) => a);

  const findings =
    environments.reduce((n, e) => n + e.nonMemberRecipients.length + e.membersWithoutAccess.length + e.formerReaders.length + e.overdue.length, 0) + sharedKeys.length + inactive.length;
  if (f.json) {
    ctx.stdout.write(renderJson({ generated: now.toISOString(), inactiveDays, environments, sharedKeys, activity, inactive, ...(machine.length > 0 ? { machine } : {}), findings }));
    return findings > 0 ? 1 : 0;
  }

  const out: string[] = [];
  for (const e of environments) {
    const rotation = e.lastRotation === null ? "unknown (no committed value in the file's history)" : `${e.lastRotation.date.slice(0, 10)} (${e.lastRotation.kind === "created" ? "file created" : "every value re-encrypted"}, commit ${e.lastRotation.commit.slice(0, 10)}, ${e.lastRotation.author})`;
    out.push(`${e.name} (${e.file}${e.fileExists ? "" : ", no file yet"})`);
    out.push(`  readers: ${plural(e.memberCount, "member")}, ${plural(e.stanzaCount, "age stanza")} in the file`);
    const width = Math.max(0, ...e.members.map((m) => m.name.length));
    for (const m of e.members) {
      const by = m.approvedBy === null ? "" : `, approved by ${m.approvedBy}${m.approvedByCommitAuthor ? " (commit author)" : ""}`;
      out.push(`    ${m.name.padEnd(width)}  ${shortRecipient(m.recipient)}  since ${m.since === null ? "(not committed)" : m.since.slice(0, 10)}${by}`);
    }
    for (const r of e.nonMemberRecipients) out.push(`  ! ${r} can decrypt the file but is no member (a member runs \`stellar-secrets rotate-key --env ${e.name}\`)`);
    if (e.membersWithoutAccess.length > 0) out.push(`  ! the file is not encrypted to ${humanList(e.membersWithoutAccess)} (\`stellar-secrets members add\` again, or rotate-key)`);
    for (const p of e.pending) out.push(`  pending: ${p.name} (${shortRecipient(p.recipient)}${p.requested === null ? "" : `, requested ${p.requested.slice(0, 10)}`}) asks for access`);
    out.push(`  last data-key rotation: ${rotation}`);
    for (const r of e.formerReaders) {
      out.push(
        `  ! ${r.name === null ? r.recipient : `${r.name} (${shortRecipient(r.recipient)})`} can still decrypt every value: the file is no longer encrypted to them, but commit ${r.commit.slice(0, 10)} (${r.date.slice(0, 10)}) wrapped the current data key for them and it was not rotated since; a member runs \`stellar-secrets rotate-key --env ${e.name}\`, then changes the values at their providers`,
      );
    }
    for (const o of e.overdue) {
      out.push(`  ! ${o.name}: ${o.ageDays === null ? "no commit shows when it was set" : `set ${o.ageDays} days ago`}, rotate every ${o.limitDays} days`);
    }
    out.push("");
  }
  if (sharedKeys.length > 0) {
    out.push("Keys shared by several names:");
    for (const k of sharedKeys) out.push(`  ! ${shortRecipient(k.recipient)}: ${humanList(k.names)}`);
    out.push("");
  }
  out.push(`Members without a commit in the last ${inactiveDays} days (author name or email matching the member name):`);
  if (inactive.length === 0) out.push("  none");
  for (const a of inactive) out.push(`  ! ${a.name}: ${a.lastSeen === null ? "no commit found" : `last commit ${a.lastSeen.slice(0, 10)} (${a.days} days ago)`}`);
  if (machine.length > 0) out.push(`  (not judged, machine members: ${humanList(machine)})`);
  else if (inactive.some((a) => a.lastSeen === null)) out.push("  (a CI or deploy key never commits: name such members with --machine NAME[,NAME])");
  out.push("");
  out.push(findings === 0 ? "No findings." : `${plural(findings, "finding")} (marked !).`);
  ctx.stdout.write(terminalLines(out));
  return findings > 0 ? 1 : 0;
}

const command: Command = { summary: "access review: who can read each environment, shared keys, inactive members, rotations", help, run };
export default command;
