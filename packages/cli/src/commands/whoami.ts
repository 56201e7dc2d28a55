/**
 * `stellar-secrets whoami [--json]`: the user's public keys (from every source sops reads), the
 * member names they have in this repository, the environments they can read — found by
 * unwrapping each file's data key with each key, since a stanza's label proves nothing — and
 * their pending access requests.
 */
import { relative } from "node:path";
import type { ProjectConfig } from "@stellar-secrets/core";
import { parseCommandArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { humanList, renderJson, renderTable, shortRecipient } from "../format.js";
import { canUnwrap, looseKeyFileProblems, memberNamesOf, ownKeys, type OwnKey } from "../keys.js";
import { ageKeygenCommand, findProjectRootSafe, openProject, readEnvironmentFiles } from "../repository.js";
import { setupReminder } from "./git.js";

const help = `Usage: stellar-secrets whoami [--json]

Shows who you are to this repository:
  - your public keys, one per identity found where sops looks ($SOPS_AGE_KEY,
    $SOPS_AGE_KEY_FILE, the sops default key file, $SOPS_AGE_SSH_PRIVATE_KEY_FILE,
    ~/.ssh/id_ed25519), and where each was found (never a private key);
  - per environment: the member name(s) your keys have in stellar.yaml, and whether you can read
    it: each key is tried on the environment file's data key (the recipient labels of a file
    prove nothing), so "yes" means one of your keys opens it now;
  - your pending access requests (\`stellar-secrets request-access\`);
  - a note when this clone has not run \`stellar-secrets git setup\` yet (merge driver, hook).
Outside a repository only the keys are shown. Without any key: \`stellar-secrets keygen\`.

Options:
  --json  print {"keys": [...], "project", "environments": [{"name", "members", "canRead",
          "readWith", "fileExists", "pending"}], "problems"}

Example:
  stellar-secrets whoami
`;

interface EnvironmentAccess {
  name: string;
  /** Member names of the user's keys in this environment. */
  members: string[];
  /** True when one of the user's keys unwraps the file's data key; null when the file does not exist yet. */
  canRead: boolean | null;
  /** The public key that opened it. */
  readWith: string | null;
  fileExists: boolean;
  /** Pending requests of the user's keys (names). */
  pending: string[];
}

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f } = parseCommandArgs("whoami", argv, { json: { type: "boolean" } });
  const own = await ownKeys(ctx);
  const { keys } = own;
  const problems = [...own.problems, ...looseKeyFileProblems(keys)];
  const config: ProjectConfig | undefined = findProjectRootSafe(ctx.cwd) === undefined ? undefined : await openProject(ctx);
  const environments = config === undefined ? [] : await accessOf(config, keys);
  if (f.json) {
    ctx.stdout.write(
      renderJson({
        keys: keys.map((k) => ({ publicKey: k.publicKey, type: k.type, source: k.source })),
        project: config?.root ?? null,
        environments,
        problems,
      }),
    );
    return 0;
  }
  const out: string[] = [];
  if (keys.length === 0) {
    out.push("No key found (looked where sops looks: SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, the sops key file, ~/.ssh/id_ed25519).");
    out.push(`Make one with \`stellar-secrets keygen\` (or, with the age tools, \`${ageKeygenCommand(ctx)}\`).`);
  } else {
    out.push("Your public keys:");
    for (const k of keys) out.push(`  ${k.publicKey}  (${k.type}, ${k.source})`);
  }
  for (const p of problems) out.push(`warning: ${p}`);
  if (config !== undefined) {
    out.push("");
    out.push(`In ${relative(ctx.cwd, config.configPath) || config.configPath}:`);
    const rows = environments.map((e) => [
      e.name,
      e.members.length > 0 ? e.members.join(", ") : "-",
      e.canRead === null ? "(no file yet)" : e.canRead ? "yes" : "no",
      e.readWith === null ? "" : shortRecipient(e.readWith),
      e.pending.length > 0 ? `requested as ${humanList(e.pending)}` : "",
    ]);
    out.push(renderTable(["ENVIRONMENT", "MEMBER", "CAN READ", "WITH", "PENDING"], rows).trimEnd());
    const stray = environments.filter((e) => e.canRead === true && e.members.length === 0).map((e) => e.name);
    if (stray.length > 0) out.push(`note: you can read ${humanList(stray)} without being a member there (recipient drift: a member should run \`stellar-secrets rotate-key\`)`);
    const notYet = environments.filter((e) => e.canRead === false && e.members.length > 0).map((e) => e.name);
    if (notYet.length > 0) out.push(`note: you are a member of ${humanList(notYet)} but its file does not open with your keys yet (a member runs \`stellar-secrets members add\` or \`rotate-key\`)`);
    // a newcomer with a key and nothing else yet: say what comes next
    if (keys.length > 0 && environments.every((e) => e.members.length === 0 && e.pending.length === 0 && e.canRead !== true)) {
      out.push(`note: you are not a member of any environment yet; ask for access in a pull request: \`stellar-secrets request-access --env ENV\` (${humanList(environments.map((e) => e.name))})`);
    }
    const reminder = await setupReminder(config, ctx.env);
    if (reminder !== undefined) out.push(reminder);
  }
  ctx.stdout.write(`${out.join("\n")}\n`);
  return 0;
}

async function accessOf(config: ProjectConfig, keys: readonly OwnKey[]): Promise<EnvironmentAccess[]> {
  const files = await readEnvironmentFiles(config, config.environments);
  const out: EnvironmentAccess[] = [];
  for (const { env, file } of files) {
    const members = [...new Set(keys.flatMap((k) => memberNamesOf(env, k.publicKey)))];
    const pending = (env.pending ?? []).filter((r) => keys.some((k) => k.publicKey === r.recipient)).map((r) => r.name);
    let readWith: string | null = null;
    if (file !== undefined) {
      for (const k of keys) {
        if (await canUnwrap(file, k)) {
          readWith = k.publicKey;
          break;
        }
      }
    }
    out.push({ name: env.name, members, canRead: file === undefined ? null : readWith !== null, readWith, fileExists: file !== undefined, pending });
  }
  return out;
}

const command: Command = { summary: "your public keys, member names, readable environments and pending requests", help, run };
export default command;
