/**
 * The signing part of `stellar-secrets git setup --signing [--key PATH]` (issue 11): finds the
 * user's member key — the ssh-ed25519 key whose public half is a member in stellar.yaml
 * (`--key`, else ~/.ssh/id_ed25519.pub, else another ed25519 `.pub` in ~/.ssh) — and makes this
 * repository sign every commit with it (`configureSigning`: gpg.format=ssh, user.signingkey,
 * commit.gpgsign, repository-local). `review` then verifies those signatures against the members
 * of the base. Not a command of its own: `git setup` calls {@link runSigningSetup} (or
 * {@link setUpSigning} and {@link renderSigningSetup} with its own argument parsing).
 * Reads public keys only; never reads, stores or prints a private key.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ProjectConfig } from "@stellar-secrets/core";
import { parseSshEd25519PublicKey } from "@stellar-secrets/sops";
import { parseCommandArgs } from "../args.js";
import type { CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { humanList, renderJson } from "../format.js";
import { GitRepo } from "../git.js";
import { homeOf, openProject } from "../repository.js";
import { configureSigning, readSigningKey } from "../signing.js";

/** The lines `git setup --help` shows for `--signing` and `--key`. */
export const SIGNING_SETUP_HELP = `  --signing    sign every commit of this repository with your member ssh-ed25519 key
               (in this repository's own git config: gpg.format=ssh, user.signingkey,
               commit.gpgsign=true),
               so that \`review\` can tell a member's change from anyone else's
  --key PATH   the key to sign with: its .pub file, its private key file (only the public
               half is read) or the public key line (then git signs through ssh-agent);
               default ~/.ssh/id_ed25519.pub, else another ed25519 key in ~/.ssh that is a
               member in stellar.yaml`;

/** The flags {@link runSigningSetup} takes. */
export const SIGNING_SETUP_FLAGS = { key: { type: "string" }, json: { type: "boolean" } } as const;

/** What {@link setUpSigning} did. */
export interface SigningSetupResult {
  /** The member the key belongs to (its name in stellar.yaml). */
  member: string;
  /** The environments where that key is a member, in stellar.yaml order. */
  environments: string[];
  /** The value set as `user.signingkey`: a key file path, or `key::ssh-ed25519 AAAA…` (ssh-agent). */
  signingKey: string;
  /** The public key that signs, `ssh-ed25519 AAAA…`. */
  publicKey: string;
  /** The top of the work tree whose config was set. */
  repository: string;
  /** The git settings made, in the repository's own config. */
  settings: { "gpg.format": "ssh"; "user.signingkey": string; "commit.gpgsign": "true" };
}

/** The ssh-ed25519 `.pub` files of ~/.ssh: id_ed25519.pub first, then the others by name. */
function defaultCandidates(home: string): string[] {
  const dir = join(home, ".ssh");
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".pub"));
  } catch {
    return [];
  }
  const ordered = [...names.filter((n) => n === "id_ed25519.pub"), ...names.filter((n) => n !== "id_ed25519.pub").sort()];
  return ordered
    .map((n) => join(dir, n))
    .filter((path) => {
      try {
        parseSshEd25519PublicKey(readFileSync(path, "utf8"));
        return true;
      } catch {
        return false;
      }
    });
}

/** The member (name, environments) whose key is `publicKey`, if any. */
function memberOf(config: ProjectConfig, publicKey: string): { member: string; environments: string[] } | undefined {
  let member: string | undefined;
  const environments: string[] = [];
  for (const env of config.environments) {
    const m = env.members.find((x) => x.recipient === publicKey);
    if (m === undefined) continue;
    member ??= m.name;
    environments.push(env.name);
  }
  return member === undefined ? undefined : { member, environments };
}

/**
 * Finds the user's member key (`key`, else the ed25519 keys of ~/.ssh in the order of
 * {@link defaultCandidates}: the first whose public half is a member in stellar.yaml) and makes
 * the repository of the project sign with it.
 * @throws CliError NO_PROJECT / INVALID_CONFIG (stellar.yaml), NOT_FOUND (no ed25519 key in
 * ~/.ssh and no `key`), INVALID_MEMBER (`key` is not an ssh-ed25519 key), UNKNOWN_MEMBER (the key
 * is no member's in stellar.yaml), GIT_ERROR (not a git repository, or git fails).
 */
export async function setUpSigning(ctx: CommandContext, options: { key?: string } = {}): Promise<SigningSetupResult> {
  const config = await openProject(ctx);
  const home = homeOf(ctx);
  const candidates = options.key !== undefined ? [options.key] : defaultCandidates(home);
  if (candidates.length === 0) {
    throw new CliError("NOT_FOUND", `no ssh-ed25519 public key in ${join(home, ".ssh")} (looked for id_ed25519.pub and other *.pub files)`, {
      hint: "make one with `ssh-keygen -t ed25519`, have a member add it to your environments (`stellar-secrets members add NAME \"$(cat ~/.ssh/id_ed25519.pub)\" --env ENV`), or pass --key PATH",
    });
  }
  const tried: string[] = [];
  for (const candidate of candidates) {
    const key = readSigningKey(candidate, { cwd: ctx.cwd });
    const found = memberOf(config, key.publicKey);
    if (found === undefined) {
      tried.push(key.signingKey.startsWith("key::") ? "the key given" : resolve(ctx.cwd, candidate));
      continue;
    }
    const repo = await GitRepo.open(config.root, ctx.env, "signing is set up in the repository's git config");
    const setup = await configureSigning(repo, candidate, { cwd: ctx.cwd });
    return { ...found, ...setup, repository: repo.top, settings: { "gpg.format": "ssh", "user.signingkey": setup.signingKey, "commit.gpgsign": "true" } };
  }
  throw new CliError("UNKNOWN_MEMBER", `${humanList(tried)} ${tried.length === 1 ? "is" : "are"} not a member key in ${config.configPath}: commits signed with ${tried.length === 1 ? "it" : "them"} would count as unsigned`, {
    hint:
      "pass your member key with --key PATH, or have a member of your environments add yours " +
      "(`stellar-secrets members add NAME \"$(cat ~/.ssh/id_ed25519.pub)\" --env ENV`, a change that member makes and signs)",
  });
}

/** The text `git setup --signing` prints. */
export function renderSigningSetup(result: SigningSetupResult): string {
  return [
    `Commits in ${result.repository} are now signed with the member key of ${result.member} (${humanList(result.environments)}); set in this repository's git config only:`,
    `  gpg.format       ssh`,
    `  user.signingkey  ${result.signingKey}`,
    `  commit.gpgsign   true`,
    result.signingKey.startsWith("key::") ? "The private key must be in ssh-agent (`ssh-add`)." : undefined,
    "`stellar-secrets review` checks every commit that changes an environment against its members in the base of the review.",
    "(`git log --show-signature` cannot check them without an allowed-signers file of its own, `gpg.ssh.allowedSignersFile`, which setup does not write: it would go stale as members change. `review` reads the members from stellar.yaml each time.)",
    "",
  ]
    .filter((l) => l !== undefined)
    .join("\n");
}

/**
 * `git setup --signing [--key PATH] [--json]`: {@link setUpSigning}, then prints what it set
 * (`--json`: the {@link SigningSetupResult}). `argv` holds only these flags. Exit status 0.
 */
export async function runSigningSetup(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags } = parseCommandArgs("git setup --signing", argv, SIGNING_SETUP_FLAGS);
  const result = await setUpSigning(ctx, flags.key === undefined ? {} : { key: flags.key });
  ctx.stdout.write(flags.json ? renderJson(result) : renderSigningSetup(result));
  return 0;
}
