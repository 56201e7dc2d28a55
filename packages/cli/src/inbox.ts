/**
 * The inbox of write-only proposals as the CLI uses it: where an environment's proposals lie, who
 * the proposer is, writing one (`set` by someone without the environment's key), and reading them
 * back for `inbox list|apply|reject`. The format is packages/sops's (`createProposal`,
 * `parseProposal`, `openProposal`), the keyless checks core's (`parseProposalFile`).
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmdirSync } from "node:fs";
import { isAbsolute, join, relative, sep } from "node:path";
import { linkedProposalFile, parseProposalFile, type ProjectConfig, type ProposalFile, type EnvironmentConfig } from "@stellar-secrets/core";
import { createProposal, INBOX_DIR, newProposalId, proposalFileName, writeFileAtomic } from "@stellar-secrets/sops";
import type { CommandContext } from "./command.js";
import { recipientsOf } from "./repository.js";

/** The absolute folder of an environment's proposals: `<secrets_dir>/inbox/<env>`. */
export function inboxFolder(config: ProjectConfig, environment: string): string {
  return join(config.root, config.secretsDir, INBOX_DIR, environment);
}

/**
 * Who proposes, as the proposal says it (a claim, like a commit author): git's
 * `user.name <user.email>`, else `$USER`, else "unknown".
 */
export function proposerOf(ctx: CommandContext): string {
  const git = (key: string): string | undefined => {
    try {
      // node:child_process loaded here, on the proposal path only: `set` starts without it
      return process.getBuiltinModule("node:child_process").execFileSync("git", ["config", "--get", key], { cwd: ctx.cwd, env: ctx.env, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const name = git("user.name");
  const email = git("user.email");
  if (name !== undefined || email !== undefined) return [name, email === undefined ? undefined : `<${email}>`].filter((x) => x !== undefined).join(" ");
  return ctx.env.USER ?? ctx.env.LOGNAME ?? "unknown";
}

/**
 * Writes a proposal of `value` for `name` in `env`, encrypted to its members now; returns the file
 * (relative to the root). The value is only in the ciphertext.
 */
export async function writeProposal(ctx: CommandContext, config: ProjectConfig, env: EnvironmentConfig, name: string, value: string): Promise<string> {
  const text = await createProposal({ environment: env.name, name, proposer: proposerOf(ctx), proposedAt: new Date(), recipients: recipientsOf(env), value });
  const folder = inboxFolder(config, env.name);
  mkdirSync(folder, { recursive: true });
  const path = join(folder, proposalFileName(name, newProposalId()));
  await writeFileAtomic(path, text);
  return relative(config.root, path);
}

/** One file of an environment's inbox, read and checked without a key. */
export interface InboxEntry {
  /** Absolute path. */
  abs: string;
  /** Relative to the root. */
  rel: string;
  /** The file name without folder. */
  fileName: string;
  /** `<name>` of `<name>.<id>.age` (undefined for a file not named like a proposal). */
  name: string | undefined;
  /** `<name>.<id>` */
  label: string;
  /** The keyless reading: clear fields and `invalid-proposal` / `invalid-secret-name` problems. */
  parsed: ProposalFile;
  text: string;
  /** True for a symbolic link (never followed: `parsed` is its `invalid-proposal`, `text` is empty). */
  link?: true;
}

/** Where a symbolic link points, as a message shows it (see core's `linkedProposalFile`). */
function linkTarget(root: string, abs: string): string | undefined {
  try {
    const rel = relative(realpathSync(root), realpathSync(abs)).split(sep).join("/");
    return rel.startsWith("..") || isAbsolute(rel) ? "outside the repository" : rel;
  } catch {
    return undefined;
  }
}

/** The entry of a symbolic link in the inbox (a file or an environment's folder): reported, never followed. */
function linkEntry(config: ProjectConfig, abs: string, inSecretsDir: string): InboxEntry {
  const rel = relative(config.root, abs).split("\\").join("/");
  const fileName = abs.slice(abs.lastIndexOf(sep) + 1);
  const m = /^([^.]+)\.([0-9a-z]+)\.age$/.exec(fileName);
  return {
    abs,
    rel,
    fileName,
    name: m?.[1],
    label: m === null ? fileName : `${m[1]}.${m[2]}`,
    parsed: linkedProposalFile(rel, inSecretsDir, linkTarget(config.root, abs)),
    text: "",
    link: true,
  };
}

/** The files of environment folders under the inbox (every folder when `environments` is undefined), sorted by path. */
export function readInbox(config: ProjectConfig, environments?: readonly string[]): InboxEntry[] {
  const base = join(config.root, config.secretsDir, INBOX_DIR);
  let folders: string[];
  try {
    folders =
      environments !== undefined ? [...environments] : readdirSync(base, { withFileTypes: true }).filter((d) => d.isDirectory() || d.isSymbolicLink()).map((d) => d.name);
  } catch {
    return [];
  }
  const out: InboxEntry[] = [];
  for (const folder of [...folders].sort()) {
    // a link is reported, never followed (git would commit the link, not the proposals behind it)
    try {
      if (lstatSync(join(base, folder)).isSymbolicLink()) {
        out.push(linkEntry(config, join(base, folder), `${INBOX_DIR}/${folder}`));
        continue;
      }
    } catch {
      continue;
    }
    let names: { name: string; link: boolean }[];
    try {
      names = readdirSync(join(base, folder), { withFileTypes: true })
        .filter((d) => (d.isFile() || d.isSymbolicLink()) && !d.name.startsWith("."))
        .map((d) => ({ name: d.name, link: d.isSymbolicLink() }));
    } catch {
      continue;
    }
    for (const { name: fileName, link } of names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const abs = join(base, folder, fileName);
      const rel = relative(config.root, abs).split("\\").join("/");
      const inSecretsDir = `${INBOX_DIR}/${folder}/${fileName}`;
      if (link) {
        out.push(linkEntry(config, abs, inSecretsDir));
        continue;
      }
      let text: string;
      try {
        text = readFileSync(abs, "utf8");
      } catch {
        text = "";
      }
      const m = /^([^.]+)\.([0-9a-z]+)\.age$/.exec(fileName);
      out.push({ abs, rel, fileName, name: m?.[1], label: m === null ? fileName : `${m[1]}.${m[2]}`, parsed: parseProposalFile(text, rel, inSecretsDir), text });
    }
  }
  return out;
}

/** Removes an environment's inbox folder when it is empty (git does not keep empty folders anyway). */
export function removeEmptyInboxFolder(config: ProjectConfig, environment: string): void {
  const folder = inboxFolder(config, environment);
  try {
    if (readdirSync(folder).length === 0) rmdirSync(folder);
    const base = join(config.root, config.secretsDir, INBOX_DIR);
    if (readdirSync(base).length === 0) rmdirSync(base);
  } catch {
    // nothing to tidy
  }
}
