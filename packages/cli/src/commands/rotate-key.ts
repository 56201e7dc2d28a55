/**
 * `stellar-secrets rotate-key --env ENV`: a new data key for environment files, every value
 * re-encrypted, wrapped for the environment's members as stellar.yaml lists them.
 */
import { relative } from "node:path";
import { ageStanzaTypeFor, inspectAgeEnvelope, rotateFile, type SecretsFile } from "@stellar-secrets/sops";
import { followMergeRecord } from "../merge-record-follow.js";
import { parseCommandArgs, splitList } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { humanList, plural, renderJson, rotateNowLines } from "../format.js";
import type { ProjectConfig } from "@stellar-secrets/core";
import { assertCanDecrypt, identitiesFor, namesIn, openProject, readEnvironmentFiles, recipientsOf, selectEnvironments, syncSopsConfigs, withProjectLock } from "../repository.js";
import { refuseOutsideSparseCheckout } from "../sparse.js";

const help = `Usage: stellar-secrets rotate-key --env ENV[,ENV] [--json]
       stellar-secrets rotate-key --all [--json]

Replaces the data key of each environment file: every value is re-encrypted under a new key,
wrapped for exactly the members stellar.yaml lists (so it also repairs recipient drift, and
puts the creation rules of an existing .sops.yaml back in step with the members). Values
do not change; \`history\` reports the commit as a re-encryption, not a value change. Rotating
the data key does not replace the secret values themselves: after a leak or a departure, rotate
the values at their providers too.

Options:
  --env ENV[,ENV]  environments to re-key
  --all            every environment
  --json           print the result as JSON

Example:
  stellar-secrets rotate-key --env production
`;

const flags = { env: { type: "string", multiple: true }, all: { type: "boolean" }, json: { type: "boolean" } } as const;

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f } = parseCommandArgs("rotate-key", argv, flags);
  if (f.all === true && splitList(f.env).length > 0) {
    // which did they mean? rotating one environment when every one was asked for (or the reverse) is not a guess to make
    throw new CliError("USAGE", "rotate-key: give --env or --all, not both", {
      hint: "`stellar-secrets rotate-key --env ENV` re-keys the environments named, `stellar-secrets rotate-key --all` every one",
    });
  }
  // the member list is read under the project lock that `members add/rm` hold: a rotation
  // never re-wraps the data key for a member list that a concurrent change just replaced
  return withProjectLock(ctx, (config) => rotate(config, f, ctx));
}

async function rotate(config: ProjectConfig, f: { env?: string[]; all?: boolean; json?: boolean }, ctx: CommandContext): Promise<number> {
  const envs = selectEnvironments(config, splitList(f.env), { all: f.all === true, flag: "--env (or --all)" });
  const files = await readEnvironmentFiles(config, envs);
  await refuseOutsideSparseCheckout(ctx, config.root, files, "rotate-key re-keys the file where it is, so it cannot rotate it here");
  await assertCanDecrypt(ctx, config, files, undefined, { rekey: true });
  const identities = identitiesFor(ctx);
  const rotated: { environment: string; file: string; recipients: number; secrets: number; lostAccess: string[]; hiddenReader: boolean }[] = [];
  const exposed: { environment: string; secrets: string[] }[] = [];
  const skipped: string[] = [];
  for (const { env, path, file } of files) {
    if (file === undefined) {
      skipped.push(env.name);
      continue;
    }
    const recipients = recipientsOf(env);
    // keys the file was encrypted to that are not members: they lose access now
    const lostAccess = [...new Set(file.recipients)].filter((r) => !recipients.includes(r));
    const hiddenReader = hasHiddenReader(file);
    await followMergeRecord(ctx, config.root, path, () => rotateFile(path, identities, { recipients }), () => []);
    rotated.push({ environment: env.name, file: relative(config.root, path), recipients: recipients.length, secrets: file.entries.length, lostAccess, hiddenReader });
    if (lostAccess.length > 0 || hiddenReader) exposed.push({ environment: env.name, secrets: namesIn(file).slice().sort() });
  }
  // the plain sops CLI must encrypt for the same members: a .sops.yaml that drifted is put back in step
  const sopsConfigUpdated = await syncSopsConfigs(config);
  if (f.json) {
    ctx.stdout.write(renderJson({ rotated, skipped, sopsConfigUpdated }));
    return 0;
  }
  const lines = rotated.map(
    (r) => `rotated the data key of ${r.environment} (${r.file}): ${plural(r.secrets, "value")} re-encrypted for ${plural(r.recipients, "recipient")}`,
  );
  if (skipped.length > 0) lines.push(`no secrets file yet in ${humanList(skipped)}: nothing to rotate`);
  if (sopsConfigUpdated.length > 0) lines.push(`${humanList(sopsConfigUpdated)}: creation rules set to the members in stellar.yaml`);
  for (const r of rotated) {
    if (r.lostAccess.length > 0) lines.push(`${r.environment}: ${humanList(r.lostAccess)} (not a member of ${r.environment}) lost access`);
    if (r.hiddenReader) lines.push(`${r.environment}: the old age stanzas could also open for a key their labels do not name (recipient-drift); it lost access`);
  }
  const lost = [...new Set(rotated.flatMap((r) => r.lostAccess))];
  if (rotated.some((r) => r.hiddenReader)) lost.push("a hidden key");
  lines.push(...rotateNowLines(lost.length === 1 ? (lost[0] as string) : "those keys", exposed));
  ctx.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

/**
 * True when the file's age stanzas show, without a key, that someone its labels do not name can
 * open it: a label used twice, an age header with several recipient stanzas, a stanza of another
 * type than the labelled key's, or an enc that is no age file (as core's recipient-drift).
 */
function hasHiddenReader(file: SecretsFile): boolean {
  const labels = file.metadata.age.map((s) => s.recipient.trim());
  if (new Set(labels).size !== labels.length) return true;
  return file.metadata.age.some((s) => {
    const info = inspectAgeEnvelope(s.enc);
    return !info.ok || info.stanzas.length !== 1 || info.stanzas[0]?.type !== ageStanzaTypeFor(s.recipient);
  });
}

const command: Command = { summary: "replace an environment's data key and re-encrypt every value", help, run };
export default command;
