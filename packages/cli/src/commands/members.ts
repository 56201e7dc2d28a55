/**
 * `stellar-secrets members list|add|rm`: who can decrypt each environment. Adding re-wraps the
 * data key for the new recipient (updatekeys); removing re-wraps and rotates the data key, then
 * lists every secret the removed member could read, to be rotated now.
 */
import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import { secretsFilePath, setApprovals, shellWord, setEnvironmentMembers, setPendingRequests, type EnvironmentConfig, type Member, type ProjectConfig } from "@stellar-secrets/core";
import { escapeControlCharacters, isAgeRecipient, isMistypedAgeRecipient, isSmallOrderAgeRecipient, isSshEd25519Recipient, looksLikeKeyMaterial, looksLikeSshPublicKey, MEMBER_NAME_PATTERN, normalizeRecipient, rotateFile, updateKeysFile } from "@stellar-secrets/sops";
import { followMergeRecord } from "../merge-record-follow.js";
import { parseCommandArgs, splitList } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { unknownMemberHint, unknownSubcommandMessage } from "../suggest.js";
import { memberNamesOf, ownKeys, privateKeyAsNameError, privateKeyGivenError } from "../keys.js";
import { memberDetails } from "../membership.js";
import { requestBranch } from "./request-access.js";
import { humanList, renderJson, renderTable, rotateNowLines, shortRecipient, terminalLines } from "../format.js";
import { unreadableJson, unreadableReport, unreadableStatus } from "../unreadable.js";
import { loadReferences } from "../references.js";
import {
  withProjectLock,
  assertCanDecrypt,
  identitiesFor,
  keyGroupsRuleFor,
  namesIn,
  openProject,
  readEnvironmentFiles,
  readEnvironmentFilesEach,
  recipientsOf,
  selectEnvironments,
  validProjectConfig,
  writeProjectConfig,
} from "../repository.js";
import { refuseOutsideSparseCheckout } from "../sparse.js";

const MEMBER_NAME = new RegExp(MEMBER_NAME_PATTERN, "u");

const help = `Usage: stellar-secrets members list [--env ENV[,ENV]] [--long] [--json]
       stellar-secrets members add NAME AGE_PUBLIC_KEY --env ENV[,ENV] [--json]
       stellar-secrets members approve NAME [--env ENV[,ENV]] [--key PUBLIC_KEY] [--json]
       stellar-secrets members rm NAME [--env ENV[,ENV]] [--json]

Members are named public keys, per environment, in stellar.yaml (.sops.yaml is kept in step): an
age key (age1...) or an SSH ed25519 key ("ssh-ed25519 AAAA...", the line of ~/.ssh/id_ed25519.pub,
quoted; stored without its comment). An SSH member decrypts with ~/.ssh/id_ed25519 (or
SOPS_AGE_SSH_PRIVATE_KEY_FILE), as sops and \`age -d -i\` do, and can sign commits with it.

  list   each member and the environments they can decrypt, then the pending access requests
         (\`stellar-secrets request-access\`); flags files whose actual recipients differ from
         stellar.yaml (e.g. someone removed by hand who can still decrypt). --long: one row per
         member and environment, with since when (the first commit of stellar.yaml from which
         they have been a member with this key) and who approved them (\`members approve\`; for
         members added otherwise, the author of that commit, marked "(commit)")
  add    gives NAME access to the environments: the file's data key is wrapped for the new key
         as well (sops updatekeys; values and their ciphertext do not change). You need access
         to those environments yourself. A name has one key in every environment and a key
         belongs to one name (MEMBER_EXISTS). If a file is also encrypted to a key that is no
         longer a member (drift), its data key is replaced instead and the secrets that key
         could read are listed, to rotate now.
  approve
         grants a pending access request: moves NAME from environments.ENV.pending to members
         and wraps the file's data key for their key (as add does; only a member of ENV approves),
         then records who approved and when (environments.ENV.approved.NAME: { by, date }).
         Default: every environment NAME asked for. The request's key is whatever the branch
         wrote (anyone with push access can write one under NAME): check it with NAME over
         another channel, or pass --key with the key NAME gave you, and the approval is refused
         (UNKNOWN_REQUEST) unless the request is for exactly that key. The whole key granted is
         printed. Commit stellar.yaml and the environment files on the request's branch (or
         after merging it).
  rm     (or remove) removes NAME from the environments (default: every one they are in): the data key is
         replaced and every value re-encrypted, so the removed key cannot open the new file.
         Then lists every secret NAME could read: rotate those values at their provider now,
         since the old values are in git history (\`stellar-secrets set NAME --env ENV\`).
         Refuses to remove an environment's last member.

Options:
  --env ENV[,ENV]  environments (required for add)
  --long           list: environments, since when and who approved, per member
  --key KEY        approve: grant only if the request is for this public key (age1... or the
                   "ssh-ed25519 AAAA..." line), the one the requester gave you directly
  --json           print the result as JSON

Examples:
  stellar-secrets members add bob age1q... --env development,staging
  stellar-secrets members add carol "$(cat carol_id_ed25519.pub)" --env production
  stellar-secrets members approve dave --env staging
  stellar-secrets members list --long
  stellar-secrets members rm bob
`;

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "list") return list(rest, ctx);
  if (sub === "add") return add(rest, ctx);
  if (sub === "approve") return approve(rest, ctx);
  if (sub === "rm" || sub === "remove") return remove(rest, ctx);
  throw new CliError("USAGE", unknownSubcommandMessage("members", sub, ["list", "add", "approve", "rm", "remove"]), {
    hint: "use `members list`, `members add NAME AGE_PUBLIC_KEY --env ENV`, `members approve NAME --env ENV` or `members rm NAME`",
  });
}

async function list(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f } = parseCommandArgs("members list", argv, { env: { type: "string", multiple: true }, long: { type: "boolean" }, json: { type: "boolean" } });
  const config = await openProject(ctx);
  if (f.long) return listLong(ctx, config, selectEnvironments(config, splitList(f.env), { all: true }), f.json === true);
  const envs = selectEnvironments(config, splitList(f.env), { all: true });
  // members come from stellar.yaml; a file that cannot be read (git conflict markers, …) only
  // leaves its recipient check out, and is reported
  const { files, unreadable } = await readEnvironmentFilesEach(config, envs);
  const status = unreadableStatus(unreadable);
  const drift = files.map(({ env, file, path }) => {
    const configured = recipientsOf(env);
    const actual = file?.recipients ?? [];
    return {
      environment: env.name,
      file: relative(config.root, path),
      exists: file !== undefined,
      extra: actual.filter((r) => !configured.includes(r)),
      missing: file === undefined ? [] : configured.filter((r) => !actual.includes(r)),
    };
  });
  if (f.json) {
    ctx.stdout.write(
      renderJson({
        // (pending and approved only when there are any: the shape of a plain project is unchanged)
        environments: envs.map((e) => ({
          name: e.name,
          members: e.members,
          ...(e.pending !== undefined && e.pending.length > 0 ? { pending: e.pending } : {}),
          ...(e.approved !== undefined && e.approved.length > 0 ? { approved: e.approved } : {}),
        })),
        memberKeys: memberKeyRows(envs),
        recipientDrift: drift.filter((d) => d.extra.length > 0 || d.missing.length > 0),
        ...(unreadable.length > 0 ? { unreadable: unreadableJson(unreadable, config.root) } : {}),
      }),
    );
    return status;
  }
  const rows = memberKeyRows(envs).map((e) => [e.name, shortRecipient(e.recipient), ...envs.map((env) => (e.environments.includes(env.name) ? "yes" : "-"))]);
  ctx.stdout.write(rows.length > 0 ? renderTable(["MEMBER", "KEY", ...envs.map((e) => e.name)], rows) : "No members.\n");
  ctx.stdout.write(pendingLines(envs).join(""));
  for (const d of drift) {
    for (const r of d.extra) ctx.stdout.write(terminalLines([`warning: ${d.file} can also be decrypted by ${r}, which is not a member of ${d.environment} (run \`stellar-secrets rotate-key --env ${d.environment}\`)`]));
    for (const r of d.missing) ctx.stdout.write(terminalLines([`warning: ${d.file} is not encrypted to ${r}, a member of ${d.environment} (run \`stellar-secrets members add\` again, or rotate-key)`]));
  }
  ctx.stderr.write(unreadableReport(unreadable, "members as stellar.yaml declares them; whether the file is encrypted to them is not checked: it cannot be read (above)"));
  return status;
}

/** One row of `members list`: a member name with one of its keys and the environments that list it with that key. */
export interface MemberKeyRow {
  name: string;
  recipient: string;
  environments: string[];
}

/**
 * The rows of `members list`: one per distinct (name, key), sorted by name, keys in the order first
 * met. A name with another key in another environment (a `recipient-drift` finding) gets one row
 * per key, each marking the environments where that key is the member's.
 */
export function memberKeyRows(envs: readonly EnvironmentConfig[]): MemberKeyRow[] {
  const members = new Map<string, MemberKeyRow[]>();
  for (const env of envs) {
    for (const m of env.members) {
      const entries = members.get(m.name) ?? [];
      const same = entries.find((e) => e.recipient === m.recipient);
      if (same) same.environments.push(env.name);
      else entries.push({ name: m.name, recipient: m.recipient, environments: [env.name] });
      members.set(m.name, entries);
    }
  }
  return [...members].sort(([a], [b]) => a.localeCompare(b)).flatMap(([, entries]) => entries);
}

/** The "pending requests" block of `members list` (empty when there are none). */
function pendingLines(envs: readonly EnvironmentConfig[]): string[] {
  const requests = envs.flatMap((e) => (e.pending ?? []).map((r) => ({ env: e.name, ...r })));
  if (requests.length === 0) return [];
  return [
    "\nPending access requests (no access until approved):\n",
    ...requests.map(
      (r) =>
        `  ${r.name} → ${r.env} (${r.recipient}${r.requested ? `, requested ${r.requested.slice(0, 10)}` : ""}): stellar-secrets members approve ${r.name} --env ${r.env}\n`,
    ),
  ];
}

async function listLong(ctx: CommandContext, config: ProjectConfig, envs: EnvironmentConfig[], json: boolean): Promise<number> {
  const details = await memberDetails(ctx, config, envs);
  if (json) {
    ctx.stdout.write(renderJson({ members: details, pending: envs.flatMap((e) => (e.pending ?? []).map((r) => ({ environment: e.name, ...r }))) }));
    return 0;
  }
  const rows = details.map((d) => [
    d.name,
    d.environment,
    shortRecipient(d.recipient),
    d.since === null ? "(not committed)" : d.since.date.slice(0, 10),
    d.since === null ? "-" : d.since.commit.slice(0, 10),
    d.approvedBy === null ? "-" : d.approvedByCommitAuthor ? `${d.approvedBy} (commit)` : d.approvedBy,
  ]);
  ctx.stdout.write(rows.length > 0 ? renderTable(["MEMBER", "ENVIRONMENT", "KEY", "SINCE", "COMMIT", "APPROVED BY"], rows) : "No members.\n");
  // a key an earlier member had under another name: one line per member
  const said = new Set<string>();
  for (const d of details) {
    const was = d.sameKeyAs;
    if (was === null || said.has(d.name)) continue;
    said.add(d.name);
    const spelling = was.recipient.trim() === d.recipient.trim() ? "the same key" : `the same key, written ${shortRecipient(was.recipient)} then`;
    ctx.stdout.write(
      escapeControlCharacters(`${d.name}'s key was ${was.name}'s: ${spelling}; ${was.name} had it as of commit ${was.commit.slice(0, 10)} (${was.date.slice(0, 10)}) and is no member now`) + "\n",
    );
  }
  ctx.stdout.write(pendingLines(envs).join(""));
  return 0;
}

/**
 * The `UNKNOWN_REQUEST` error of `members approve NAME` when NAME has no pending request in
 * `missing` (the environments asked for without one; empty: `--env` not given and no request at
 * all). Says when NAME is already a member there (e.g. approved twice), with who approved it, rather
 * than sending the approver to `request-access`; else where NAME asked, or the pending requests.
 */
export function noPendingRequestError(environments: readonly EnvironmentConfig[], name: string, missing: readonly string[]): CliError {
  const scope = missing.length > 0 ? environments.filter((e) => missing.includes(e.name)) : environments;
  const memberOf = scope.filter((e) => e.members.some((m) => m.name === name));
  const already = memberOf.map((e) => {
    const approval = e.approved?.find((a) => a.name === name);
    return approval === undefined ? e.name : `${e.name} (approved by ${approval.by} on ${approval.date.slice(0, 10)})`;
  });
  const where = environments.filter((e) => (e.pending ?? []).some((r) => r.name === name)).map((e) => e.name);
  const all = environments.flatMap((e) => (e.pending ?? []).map((r) => `${r.name} (${e.name})`));
  const message =
    `${name} has no pending access request for ${missing.length > 0 ? humanList([...missing]) : "any environment"}` +
    (already.length > 0 ? `: ${name} is already a member of ${humanList(already)}` : "");
  // the usual slip: approving on main, while the request is still on its pull request's branch
  const branch = requestBranch(name, missing.length > 0 ? missing : ["ENV"]);
  const checkout = `a request made in a pull request is in stellar.yaml on its branch: check that out first (\`git fetch && git checkout ${branch}\`, the branch request-access names)`;
  return new CliError("UNKNOWN_REQUEST", message, {
    hint:
      where.length > 0
        ? `${name} asked for: ${where.join(", ")}`
        : already.length > 0
          ? "nothing to approve; `stellar-secrets members list --long` shows since when each member has access"
          : all.length > 0
            ? `the pending requests are: ${all.join(", ")}; ${checkout}`
            : `there is no pending request; ${checkout}; else the newcomer runs \`stellar-secrets request-access --env ENV\` and proposes the change (or use \`members add\`)`,
  });
}

async function approve(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f, positionals } = parseCommandArgs(
    "members approve",
    argv,
    { env: { type: "string", multiple: true }, key: { type: "string" }, json: { type: "boolean" } },
    { min: 1, max: 1, names: "NAME" },
  );
  const name = positionals[0] as string;
  const pinned = f.key === undefined ? undefined : publicKeyArgument(f.key);
  const { keys } = await ownKeys(ctx);
  const date = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  return withProjectLock(ctx, async (config) => {
    const requested = splitList(f.env);
    const candidates = selectEnvironments(config, requested, { all: true });
    const envs = candidates.filter((e) => (e.pending ?? []).some((r) => r.name === name));
    const missing = requested.filter((n) => !envs.some((e) => e.name === n));
    if (envs.length === 0 || missing.length > 0) throw noPendingRequestError(config.environments, name, missing);
    const asked = new Set(envs.map((e) => (e.pending ?? []).find((r) => r.name === name)?.recipient as string));
    if (asked.size > 1) {
      throw new CliError("MEMBER_EXISTS", `${name} asked with different keys in ${humanList(envs.map((e) => e.name))}; a member has one key in every environment`, {
        hint: "ask the requester which key is theirs, fix stellar.yaml, then approve",
      });
    }
    const recipient = [...asked][0] as string;
    // a key no one can be given access with (written into the request by hand: a point of small
    // order, an ssh-ed25519 key that is no curve point): refused as add refuses it, before anything is written
    try {
      publicKeyArgument(recipient);
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      throw new CliError("INVALID_MEMBER", `${name}'s request for ${humanList(envs.map((e) => e.name))} asks for a key no one can be given access with: ${error.message}`, {
        hint: `do not approve it: no key generator makes such a key, so someone wrote the request by hand; remove it from stellar.yaml (${envs.map((e) => `environments.${e.name}.pending.${name}`).join(", ")}) and ask ${name} to request access again with \`stellar-secrets request-access\``,
      });
    }
    // the request is whatever the branch wrote under NAME: the key NAME gave the member must be it
    if (pinned !== undefined && pinned !== recipient) {
      throw new CliError("UNKNOWN_REQUEST", `${name}'s request for ${humanList(envs.map((e) => e.name))} is for another key than the one given: it asks for ${recipient}, not ${pinned}`, {
        hint: `do not approve it: the request in stellar.yaml is not for the key ${name} gave you (someone else may have written it, or ${name} sent another key); ask ${name} which key is theirs and to request access again`,
      });
    }
    // only a member approves (by key: a file that does not exist yet has no data key to prove it with)
    const approvers = new Map<string, string>();
    for (const env of envs) {
      const by = keys.map((k) => memberNamesOf(env, k.publicKey)[0]).find((n) => n !== undefined);
      if (by === undefined) {
        throw new CliError("NO_MATCHING_IDENTITY", `none of your keys is a member of ${env.name}: only a member of ${env.name} can approve access to it`, {
          hint: `ask a member of ${env.name} (\`stellar-secrets members list --env ${env.name}\`) to run \`stellar-secrets members approve ${name} --env ${env.name}\``,
        });
      }
      approvers.set(env.name, by);
    }
    const result = await grant(ctx, config, name, recipient, envs, (text) => {
      let next = text;
      for (const env of envs) {
        next = setPendingRequests(next, env.name, (env.pending ?? []).filter((r) => r.name !== name));
        next = setApprovals(next, env.name, [...(env.approved ?? []).filter((a) => a.name !== name), { name, by: approvers.get(env.name) as string, date }]);
      }
      return next;
    });
    if (f.json) {
      ctx.stdout.write(
        renderJson({
          member: name,
          recipient,
          approved: envs.map((e) => e.name),
          approvedBy: Object.fromEntries(approvers),
          date,
          alreadyMember: result.unchanged,
          dataKeyRotated: result.rotated,
          lostAccess: result.lostAccess,
        }),
      );
      return 0;
    }
    const names = envs.map((e) => e.name);
    const by = [...new Set(approvers.values())];
    const lines = [
      `approved ${name} (${recipient}) for ${humanList(names)}, approved by ${humanList(by)}: ` +
        `the data key is wrapped for them as well; ${result.updated}`,
    ];
    if (result.unchanged.length > 0) lines.push(`${name} was already a member of ${humanList(result.unchanged)}; the request was removed`);
    for (const l of result.lostAccess) {
      lines.push(`${l.environment}: the file was also encrypted to ${humanList(l.recipients)}, not a member of ${l.environment}; they lost access: new data key, every value re-encrypted`);
    }
    const lost = [...new Set(result.lostAccess.flatMap((l) => l.recipients))];
    lines.push(...rotateNowLines(lost.length === 1 ? (lost[0] as string) : "those keys", result.exposed));
    lines.push(`Commit it: git commit -m "access: approve ${name} for ${names.join(", ")}" -- stellar.yaml .sops.yaml ${envs.map((e) => relative(config.root, secretsFilePath(config, e.name))).join(" ")}`);
    ctx.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  });
}

async function add(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f, positionals } = parseCommandArgs(
    "members add",
    argv,
    { env: { type: "string", multiple: true }, json: { type: "boolean" } },
    { min: 2, max: 2, names: "NAME and AGE_PUBLIC_KEY" },
  );
  const [name, given] = positionals as [string, string];
  if (looksLikeKeyMaterial(name)) throw privateKeyAsNameError("NAME");
  if (!MEMBER_NAME.test(name)) {
    throw new CliError("INVALID_MEMBER", `"${name}" is not a valid member name`, {
      hint: "member names are letters, digits, '.', '_', '@' and '-', starting with a letter or digit",
    });
  }
  const recipient = publicKeyArgument(given);
  return withProjectLock(ctx, async (config) => {
    const envs = selectEnvironments(config, splitList(f.env), { all: false });
    // a request of the same name and key is answered by the add (without an approval record: use approve for that)
    const answered = (text: string): string =>
      envs.reduce((t, env) => {
        const pending = env.pending ?? [];
        const rest = pending.filter((r) => !(r.name === name && r.recipient === recipient));
        return rest.length === pending.length ? t : setPendingRequests(t, env.name, rest);
      }, text);
    const { changed, unchanged, rotated, lostAccess, exposed, updated } = await grant(ctx, config, name, recipient, envs, answered);
    if (f.json) {
      const references = rotated.length > 0 ? await loadReferences(config) : new Map<string, unknown[]>();
      ctx.stdout.write(
        renderJson({
          member: name,
          recipient,
          added: changed.map((e) => e.name),
          alreadyMember: unchanged,
          dataKeyRotated: rotated,
          lostAccess,
          rotateNow: exposed.map((e) => ({ ...e, secrets: e.secrets.map((s) => ({ name: s, references: references.get(s)?.length ?? 0 })) })),
        }),
      );
      return 0;
    }
    const lines: string[] = [];
    if (changed.length > 0) lines.push(`added ${name} to ${humanList(changed.map((e) => e.name))}; ${updated}`);
    if (unchanged.length > 0) lines.push(`${name} was already a member of ${humanList(unchanged)}`);
    for (const l of lostAccess) {
      lines.push(
        `${l.environment}: the file was also encrypted to ${humanList(l.recipients)}, not a member of ${l.environment}; ` +
          "they lost access: new data key, every value re-encrypted",
      );
    }
    const lost = [...new Set(lostAccess.flatMap((l) => l.recipients))];
    lines.push(...rotateNowLines(lost.length === 1 ? (lost[0] as string) : "those keys", exposed));
    ctx.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  });
}

/** What {@link grant} did. */
interface Granted {
  changed: EnvironmentConfig[];
  unchanged: string[];
  rotated: string[];
  lostAccess: { environment: string; recipients: string[] }[];
  exposed: { environment: string; secrets: string[] }[];
  /** What was updated, in words (see {@link updatedFiles}). */
  updated: string;
}

/**
 * "stellar.yaml and .sops.yaml updated", saying only what is true: the `.sops.yaml` files written,
 * and each one whose rule for one of `envs` has several key groups, which is left as it is
 * (stellar-secrets does not change key groups; `check` reports a rule that no longer names the members).
 */
async function updatedFiles(config: ProjectConfig, written: readonly string[], envs: readonly string[]): Promise<string> {
  const out = [`${humanList(["stellar.yaml", ...written])} updated`];
  for (const env of envs) {
    const split = await keyGroupsRuleFor(config, env);
    if (split === undefined) continue;
    out.push(
      `${split.file} left as it is for ${env}: its creation rule ${split.rule} has ${split.groups} key groups, which stellar-secrets does not change (edit the groups by hand with sops's syntax; \`stellar-secrets check\` reports a rule that does not name ${env}'s members)`,
    );
  }
  return out.join("; ");
}

/**
 * Makes NAME (KEY) a member of `envs` (under the project lock): refuses a name with another key
 * or a key under another name (MEMBER_EXISTS), checks the user can decrypt every file first, wraps
 * each file's data key for the key as well (or replaces the data key when the file is also
 * encrypted to non-members), then writes stellar.yaml, after `edit` had its say on the text
 * (e.g. to remove the request and record the approval).
 */
async function grant(
  ctx: CommandContext,
  config: ProjectConfig,
  name: string,
  recipient: string,
  envs: EnvironmentConfig[],
  edit: (text: string, changed: EnvironmentConfig[]) => string,
): Promise<Granted> {
  // one name is one key across all environments, and one key belongs to one name: otherwise
  // `members rm NAME` would leave the person able to decrypt under their other name or key
  for (const env of config.environments) {
    const otherKey = env.members.find((m) => m.name === name && m.recipient !== recipient);
    if (otherKey) {
      throw new CliError("MEMBER_EXISTS", `${env.name} already has a member "${name}" with a different key (${shortRecipient(otherKey.recipient)})`, {
        hint: `a member has one key in every environment: to change their key, stellar-secrets members rm ${name}, then members add again`,
      });
    }
    const otherName = env.members.find((m) => m.recipient === recipient && m.name !== name);
    if (otherName) {
      throw new CliError("MEMBER_EXISTS", `this key is already in ${env.name} as member "${otherName.name}"`, {
        // the whole key: a hint is a command to copy, and a shortened key would be refused
        hint: `a key belongs to one member: stellar-secrets members add ${otherName.name} ${shellWord(recipient)} --env ENV`,
      });
    }
  }
  const changed: EnvironmentConfig[] = [];
  const unchanged: string[] = [];
  for (const env of envs) {
    const byName = env.members.find((m) => m.name === name);
    const byKey = env.members.find((m) => m.recipient === recipient);
    if (byName && byName.recipient === recipient) {
      unchanged.push(env.name);
      continue;
    }
    if (byName) {
      throw new CliError("MEMBER_EXISTS", `${env.name} already has a member "${name}" with a different key`, {
        hint: `to change their key: stellar-secrets members rm ${name} --env ${env.name}, then members add again`,
      });
    }
    if (byKey) {
      throw new CliError("MEMBER_EXISTS", `this key is already in ${env.name} as member "${byKey.name}"`);
    }
    changed.push(env);
  }
  // stellar.yaml as it will be, checked before any environment file is written: a name it cannot
  // hold (one that reads as a credential) must not leave a file encrypted to a key no member has
  let text = await readFile(config.configPath, "utf8");
  for (const env of changed) text = setEnvironmentMembers(text, env.name, [...env.members, { name, recipient }]);
  const edited = edit(text, changed);
  if (changed.length > 0 || edited !== text) validProjectConfig(config, edited);
  const identities = identitiesFor(ctx);
  const files = await readEnvironmentFiles(config, changed);
  await refuseOutsideSparseCheckout(ctx, config.root, files, "members add re-keys the file for the new member where it is, so it cannot add them here; nothing was written");
  await assertCanDecrypt(ctx, config, files, undefined, { rekey: true });
  const rotated: string[] = [];
  const lostAccess: { environment: string; recipients: string[] }[] = [];
  const exposed: { environment: string; secrets: string[] }[] = [];
  for (const { env, path, file } of files) {
    if (file === undefined) continue; // created with the right recipients on the first `set`
    const next = [...new Set([...recipientsOf(env), recipient])];
    const dropped = [...new Set(file.recipients)].filter((r) => !next.includes(r));
    if (dropped.length === 0) {
      await followMergeRecord(ctx, config.root, path, () => updateKeysFile(path, identities, next), () => []);
      continue;
    }
    // the file is also encrypted to keys that are no longer members (recipient drift): they
    // know the current data key, so re-wrapping it would keep them able to read every future
    // value. Replace the data key instead, and say what they could read.
    await followMergeRecord(ctx, config.root, path, () => rotateFile(path, identities, { recipients: next }), () => []);
    rotated.push(env.name);
    lostAccess.push({ environment: env.name, recipients: dropped });
    exposed.push({ environment: env.name, secrets: namesIn(file).slice().sort() });
  }
  // an environment added to stellar.yaml by hand has no .sops.yaml rule yet: its first member adds one
  const written = changed.length > 0 || edited !== text ? (await writeProjectConfig(config, edited, { addRulesFor: changed.map((e) => e.name) })).sopsConfigsWritten : [];
  return { changed, unchanged, rotated, lostAccess, exposed, updated: await updatedFiles(config, written, changed.map((e) => e.name)) };
}

async function remove(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f, positionals } = parseCommandArgs(
    "members rm",
    argv,
    { env: { type: "string", multiple: true }, json: { type: "boolean" } },
    { min: 1, max: 1, names: "NAME" },
  );
  const name = positionals[0] as string;
  return withProjectLock(ctx, async (config) => {
    const requested = splitList(f.env);
    const envs = selectEnvironments(config, requested, { all: true }).filter((e) => e.members.some((m) => m.name === name));
    if (envs.length === 0) {
      const where = config.environments.filter((e) => e.members.some((m) => m.name === name)).map((e) => e.name);
      throw new CliError("UNKNOWN_MEMBER", `"${name}" is not a member of ${requested.length > 0 ? humanList(requested) : "any environment"}`, {
        hint: unknownMemberHint(name, where, new Set(config.environments.flatMap((e) => e.members.map((m) => m.name)))),
      });
    }
    for (const env of envs) {
      if (env.members.every((m) => m.name === name)) {
        throw new CliError("LAST_MEMBER", `${name} is the last member of ${env.name}; removing them would leave nobody able to decrypt it`, {
          hint: `add another member first: stellar-secrets members add NAME AGE_PUBLIC_KEY --env ${env.name}`,
        });
      }
    }
    let text = await readFile(config.configPath, "utf8");
    for (const env of envs) text = setEnvironmentMembers(text, env.name, remainingMembers(env, name));
    validProjectConfig(config, text); // before any file is re-keyed
    const identities = identitiesFor(ctx);
    const files = await readEnvironmentFiles(config, envs);
    await refuseOutsideSparseCheckout(ctx, config.root, files, "members rm re-keys the file without the member where it is, so it cannot remove them here (stellar.yaml alone would leave them able to decrypt it); nothing was written");
    await assertCanDecrypt(ctx, config, files, undefined, { rekey: true });
    const exposed: { environment: string; secrets: string[] }[] = [];
    // keys the file was also encrypted to that are not members (drift): they lose access too
    const alsoLost: { environment: string; recipients: string[] }[] = [];
    for (const { env, path, file } of files) {
      const remaining = remainingMembers(env, name);
      const next = [...new Set(remaining.map((m) => m.recipient))];
      const removedKeys = env.members.filter((m) => m.name === name).map((m) => m.recipient);
      const drifted = [...new Set(file?.recipients ?? [])].filter((r) => !next.includes(r) && !removedKeys.includes(r));
      if (drifted.length > 0) alsoLost.push({ environment: env.name, recipients: drifted });
      if (file !== undefined) await followMergeRecord(ctx, config.root, path, () => rotateFile(path, identities, { recipients: next }), () => []);
      exposed.push({ environment: env.name, secrets: namesIn(file).slice().sort() });
    }
    const { sopsConfigsWritten } = await writeProjectConfig(config, text);
    const updated = await updatedFiles(config, sopsConfigsWritten, envs.map((e) => e.name));
    const references = await loadReferences(config);

    if (f.json) {
      ctx.stdout.write(
        renderJson({
          member: name,
          removedFrom: envs.map((e) => e.name),
          dataKeyRotated: files.filter((x) => x.file !== undefined).map((x) => x.env.name),
          rotateNow: exposed.map((e) => ({ ...e, secrets: e.secrets.map((s) => ({ name: s, references: references.get(s)?.length ?? 0 })) })),
          alsoLostAccess: alsoLost,
        }),
      );
      return 0;
    }
    const lines = [
      `removed ${name} from ${humanList(envs.map((e) => e.name))}: new data key, every value re-encrypted; ${updated}`,
    ];
    for (const l of alsoLost) lines.push(`${l.environment}: ${humanList(l.recipients)} (not a member of ${l.environment}) lost access too`);
    const who = alsoLost.length > 0 ? `${name} (and the keys above)` : name;
    lines.push(...rotateNowLines(who, exposed));
    ctx.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  });
}

function remainingMembers(env: EnvironmentConfig, name: string): Member[] {
  return env.members.filter((m) => m.name !== name);
}

/**
 * A public key given on the command line (`members add`, `members approve --key`), normalised as
 * stellar.yaml stores it (an ssh key without its comment). Throws `INVALID_MEMBER` for anything
 * else, echoing it only when it looks like a public key (a private key pasted by mistake is never printed).
 */
export function publicKeyArgument(given: string): string {
  if (looksLikeSshPublicKey(given)) {
    if (!isSshEd25519Recipient(given)) {
      const type = given.trim().split(/\s+/)[0] ?? "";
      throw new CliError(
        "INVALID_MEMBER",
        type === "ssh-ed25519" ? "this is not a valid ssh-ed25519 public key" : `${type.slice(0, 40)} keys cannot be members: only ssh-ed25519 SSH keys (and age keys) are supported`,
        { hint: "pass the whole line of the member's ~/.ssh/id_ed25519.pub, quoted (make one with `ssh-keygen -t ed25519`), or an age key" },
      );
    }
  } else if (isMistypedAgeRecipient(given)) {
    // the shape of an age key (safe to echo) whose bech32 checksum fails: wrapping for it would throw
    throw new CliError("INVALID_MEMBER", `"${given}" is not a valid age public key: its checksum does not match (a character was mistyped or lost when it was copied)`, {
      hint: "ask the member for their key again, copied whole: `stellar-secrets whoami` prints it (or the `# public key: age1...` line age-keygen wrote)",
    });
  } else if (isSmallOrderAgeRecipient(given)) {
    throw smallOrderKeyError(`"${given}"`);
  } else if (looksLikeKeyMaterial(given)) {
    // the private half pasted (the last line of keys.txt, the whole file): never printed, and never
    // something to shrug off: it is in the shell history now, and wherever it was sent from
    throw privateKeyGivenError("the key given");
  } else if (!isAgeRecipient(given)) {
    // Echo only what looks like a public key: a private key pasted here by mistake must not be printed.
    const shown = /^age1[0-9a-z]*$/.test(given) ? `"${given.slice(0, 80)}"` : "the key given";
    throw new CliError("INVALID_MEMBER", `${shown} is not an age X25519 public key or an SSH ed25519 public key`, {
      hint: "ask the member for the `# public key: age1...` line that age-keygen printed (or run `age-keygen -y KEYFILE`), or for their ~/.ssh/id_ed25519.pub line",
    });
  }
  return normalizeRecipient(given);
}

/**
 * `INVALID_MEMBER` for an age key that decodes to a point of small order (`isSmallOrderAgeRecipient`):
 * no one's key (no age-keygen makes one), and wrapping a data key for it fails.
 */
function smallOrderKeyError(what: string): CliError {
  return new CliError(
    "INVALID_MEMBER",
    `${what} is not a usable age public key: it is a point of small order, whose private key no one holds, so nothing can be encrypted to it`,
    { hint: "such a key was made up, not made by age-keygen: ask the member for their key again (`stellar-secrets whoami` prints it)" },
  );
}

const command: Command = { summary: "list, add, approve and remove the members who can decrypt each environment", help, run };
export default command;
