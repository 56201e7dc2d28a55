/**
 * `stellar-secrets request-access --env ENV [--name NAME] [--key PUBLIC_KEY]`: records the user as
 * a *pending* member of ENV in stellar.yaml (`environments.ENV.pending.NAME: { key, requested }`),
 * to be committed and proposed in a pull request. It grants nothing: no file is re-encrypted,
 * `.sops.yaml` does not change; a member of ENV approves with `members approve`.
 */
import { readFile } from "node:fs/promises";
import { setPendingRequests, type ProjectConfig } from "@stellar-secrets/core";
import { isAgeRecipient, isSshEd25519Recipient, looksLikeKeyMaterial, MEMBER_NAME_PATTERN, normalizeRecipient } from "@stellar-secrets/sops";
import { parseCommandArgs, splitList } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { humanList, renderJson, shortRecipient } from "../format.js";
import { defaultMemberName, gitIdentity, ownKeys, privateKeyAsNameError, privateKeyGivenError } from "../keys.js";
import { ageKeygenCommand, openProject, selectEnvironments, withProjectLock, writeProjectConfig } from "../repository.js";
import { findGitDir, readBranches, type Branches } from "../git.js";
import { setupReminder } from "./git.js";

const MEMBER_NAME = new RegExp(MEMBER_NAME_PATTERN, "u");

const help = `Usage: stellar-secrets request-access --env ENV[,ENV] [--name NAME] [--key PUBLIC_KEY] [--json]

Asks for access to environments through a pull request: adds you to stellar.yaml as a pending
member of each ENV (environments.ENV.pending.NAME: { key, requested }). That grants nothing: no
file is encrypted to your key until a member of ENV approves (\`stellar-secrets members approve
NAME --env ENV\`), which re-wraps the environment's data key for you. Commit stellar.yaml on a
branch and open a pull request; \`check\` and \`review\` show the request.

Your key is the one \`stellar-secrets whoami\` shows (your first age key, else your SSH key); make
one with \`stellar-secrets keygen\`. Your name defaults to your git user.name when it is a valid
member name, else the part of your git user.email before the "@".

Options:
  --env ENV[,ENV]    environments to ask for (required)
  --name NAME        your member name (letters, digits, '.', '_', '@', '-'; starts with a letter or digit)
  --key PUBLIC_KEY   which of your public keys to ask with (age1... or "ssh-ed25519 AAAA...")
  --json             print {"name", "key", "environments", "requested"}

Example:
  stellar-secrets request-access --env staging --name bob
`;

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f } = parseCommandArgs("request-access", argv, {
    env: { type: "string", multiple: true },
    name: { type: "string" },
    key: { type: "string" },
    json: { type: "boolean" },
  });
  const first = await openProject(ctx);
  const wanted = splitList(f.env);
  selectEnvironments(first, wanted, { all: false }); // USAGE / UNKNOWN_ENVIRONMENT before anything else
  const key = await chooseKey(ctx, f.key);
  const name = f.name ?? defaultMemberName(await gitIdentity(ctx, first), MEMBER_NAME);
  if (name === undefined) {
    throw new CliError("USAGE", "--name is required: neither your git user.name nor your git email gives a valid member name", {
      hint: "pass --name NAME (letters, digits, '.', '_', '@' and '-', starting with a letter or digit)",
    });
  }
  if (looksLikeKeyMaterial(name)) throw privateKeyAsNameError("--name");
  if (!MEMBER_NAME.test(name)) {
    throw new CliError("INVALID_MEMBER", `"${name.slice(0, 80)}" is not a valid member name`, {
      hint: "member names are letters, digits, '.', '_', '@' and '-', starting with a letter or digit",
    });
  }
  const requested = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  const { envNames, config } = await withProjectLock(ctx, async (config) => {
    const envs = selectEnvironments(config, wanted, { all: false });
    assertCanRequest(config, envs.map((e) => e.name), name, key);
    let text = await readFile(config.configPath, "utf8");
    for (const env of envs) text = setPendingRequests(text, env.name, [...(env.pending ?? []), { name, recipient: key, requested }]);
    // stellar.yaml only: a request changes no recipient, and must not carry other changes (.sops.yaml) with it
    await writeProjectConfig(config, text, { syncSops: false });
    return { envNames: envs.map((e) => e.name), config };
  });
  if (f.json) {
    ctx.stdout.write(renderJson({ name, key, environments: envNames, requested }));
    return 0;
  }
  ctx.stdout.write(
    [
      `requested access to ${humanList(envNames)} as ${name} (${shortRecipient(key)}): stellar.yaml updated.`,
      // a copy that is no git clone (a download, a folder copied over): no branch, no pull request
      ...(findGitDir(config.root, ctx.env) === undefined
        ? [
            `This grants nothing, and this folder is not in a git repository: the request reaches the team only as a pull request. Clone the secrets repository (\`git clone URL\`), run \`stellar-secrets request-access --env ${envNames.join(",")}\` in the clone and push its branch.`,
          ]
        : proposalSteps(name, envNames, await readBranches(config.root, ctx.env))),
      `A member of ${humanList(envNames)} then approves it: stellar-secrets members approve ${name} --env ${envNames.join(",")}`,
      "",
    ].join("\n"),
  );
  const reminder = await setupReminder(config, ctx.env);
  if (reminder !== undefined) ctx.stdout.write(`${reminder}\n`);
  return 0;
}

/**
 * How to propose the request, as printed: on a branch other than the default one (the user already
 * works on a branch of their own), commit there and push it; otherwise (on the default branch, a
 * detached HEAD, no commit yet, no default branch known, outside git) make the branch
 * {@link requestBranch} names first. Pure.
 */
export function proposalSteps(name: string, environments: readonly string[], branches: Branches): string[] {
  const commit = `  git commit -m "access: ${name} requests ${environments.join(", ")}" stellar.yaml`;
  const { current } = branches;
  if (current !== undefined && branches.default !== undefined && current !== branches.default) {
    return [`This grants nothing yet. Propose it in a pull request: commit on this branch (${current}) and push it:`, commit, `  git push -u origin ${current}`];
  }
  const branch = requestBranch(name, environments);
  return ["This grants nothing yet. Propose it in a pull request:", `  git checkout -b ${branch}`, commit, `  git push -u origin ${branch}`];
}

/** The branch name `request-access` proposes for NAME's request of `environments` (`access/NAME-ENV[-ENV]`). */
export function requestBranch(name: string, environments: readonly string[]): string {
  return `access/${name.replace(/[^A-Za-z0-9._-]/g, "-")}-${environments.join("-")}`;
}

/** The public key to ask with: `--key` (one of the user's own), else their first age key, else their first key. */
async function chooseKey(ctx: CommandContext, given: string | undefined): Promise<string> {
  const { keys } = await ownKeys(ctx);
  if (given !== undefined) {
    if (looksLikeKeyMaterial(given)) throw privateKeyGivenError("--key");
    if (!isAgeRecipient(given.trim()) && !isSshEd25519Recipient(given)) {
      throw new CliError("INVALID_MEMBER", "--key is not an age X25519 public key or an SSH ed25519 public key", {
        hint: "pass one of the public keys `stellar-secrets whoami` lists",
      });
    }
    const key = normalizeRecipient(given);
    if (!keys.some((k) => k.publicKey === key)) {
      throw new CliError("NO_MATCHING_IDENTITY", `--key ${shortRecipient(key)} is not one of your keys: you could not use the access it asks for`, {
        hint: "pass one of the public keys `stellar-secrets whoami` lists, or make a key with `stellar-secrets keygen`",
      });
    }
    return key;
  }
  const key = keys.find((k) => k.type === "age") ?? keys[0];
  if (key === undefined) {
    throw new CliError("NO_IDENTITY", "you have no key to ask for access with", {
      hint: `make one with \`stellar-secrets keygen\` (or, with the age tools, \`${ageKeygenCommand(ctx)}\`), then run this again`,
    });
  }
  return key.publicKey;
}

/**
 * Refuses a request that cannot become a member: NAME or KEY already a member of ENV
 * (ALREADY_MEMBER), already pending (REQUEST_EXISTS), or one name with two keys / one key under two
 * names anywhere in the project (MEMBER_EXISTS, as `members add`).
 */
export function assertCanRequest(config: ProjectConfig, envs: readonly string[], name: string, key: string): void {
  for (const env of config.environments) {
    const asked = envs.includes(env.name);
    for (const m of env.members) {
      if (asked && m.name === name && m.recipient === key) {
        throw new CliError("ALREADY_MEMBER", `${name} is already a member of ${env.name} with this key`, { hint: "`stellar-secrets whoami` shows what you can read" });
      }
      if (asked && m.recipient === key) {
        throw new CliError("ALREADY_MEMBER", `this key is already a member of ${env.name}, as "${m.name}"`, { hint: "`stellar-secrets whoami` shows what you can read" });
      }
      if (m.name === name && m.recipient !== key) {
        throw new CliError("MEMBER_EXISTS", `${env.name} already has a member "${name}" with another key (${shortRecipient(m.recipient)})`, {
          hint: "choose another --name, or ask with the key that member has (--key)",
        });
      }
      if (m.recipient === key && m.name !== name) {
        throw new CliError("MEMBER_EXISTS", `this key is already in ${env.name} as member "${m.name}"`, { hint: `ask as that member: --name ${m.name}` });
      }
    }
    for (const r of env.pending ?? []) {
      if (asked && (r.name === name || r.recipient === key)) {
        throw new CliError("REQUEST_EXISTS", `${r.name === name ? `"${name}"` : "this key"} already has a pending request for ${env.name}${r.requested ? ` (since ${r.requested.slice(0, 10)})` : ""}`, {
          hint: `a member of ${env.name} approves it with \`stellar-secrets members approve ${r.name} --env ${env.name}\`; to withdraw it, remove it from stellar.yaml`,
        });
      }
      if ((r.name === name) !== (r.recipient === key)) {
        throw new CliError("MEMBER_EXISTS", `stellar.yaml has a request from "${r.name}" for ${env.name} with ${r.name === name ? "another key" : "this key"}`, {
          hint: "a member name has one key in every environment, and a key one name",
        });
      }
    }
  }
}

const command: Command = { summary: "ask for access to an environment in a pull request (a pending member)", help, run };
export default command;
