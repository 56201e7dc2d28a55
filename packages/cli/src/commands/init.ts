/**
 * `stellar-secrets init`: creates stellar.yaml, .sops.yaml and an empty encrypted file per
 * environment in the current directory, and an age identity when the user has none.
 */
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { DEFAULT_ENVIRONMENTS, findProjectRoot, parseProjectConfig, PROJECT_FILE, renderProjectConfig, renderSopsConfig, secretsFilePath, type ProjectConfig } from "@stellar-secrets/core";
import {
  createSecretsFile,
  DEFAULT_SECRETS_DIR,
  ENVIRONMENT_NAME_PATTERN,
  MEMBER_NAME_PATTERN,
  SECRETS_DIR_PATTERN,
  defaultKeyFilePath,
  escapeControlCharacters,
  generateIdentity,
  identityToRecipient,
  isAgeIdentity,
  isAgeRecipient,
  isSmallOrderAgeRecipient,
  looksLikeKeyMaterial,
  isMistypedAgeRecipient,
  isSshEd25519Recipient,
  normalizeRecipient,
  normalizeSecretsDir,
  writeFileAtomic,
} from "@stellar-secrets/sops";
import { parseCommandArgs, splitList } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { windowsPathHint } from "../path-hints.js";
import { renderJson } from "../format.js";
import { gitConfigValue } from "../git.js";
import { privateKeyAsNameError } from "../keys.js";
import { homeOf, identitiesFor } from "../repository.js";

const ENVIRONMENT_NAME = new RegExp(ENVIRONMENT_NAME_PATTERN, "u");
const MEMBER_NAME = new RegExp(MEMBER_NAME_PATTERN, "u");
const SECRETS_DIR = new RegExp(SECRETS_DIR_PATTERN, "u");

const help = `Usage: stellar-secrets init [--env LIST] [--member NAME] [--recipient AGE_KEY] [--secrets-dir DIR] [--json]

Creates a secrets repository in the current directory:
  stellar.yaml                 environments and their members (name -> age public key)
  .sops.yaml                   the same recipients, for the plain sops CLI
  <secrets-dir>/<env>.enc.yaml an empty encrypted file per environment
  .gitignore, <secrets-dir>/.gitignore
                               ignore lock and temp files of writes in progress
                               (an existing .gitignore gets only the missing lines)

When you have no age identity (none in SOPS_AGE_KEY, SOPS_AGE_KEY_FILE or the sops default key
file), init creates one in the sops default key file ($XDG_CONFIG_HOME/sops/age/keys.txt, else
~/.config/sops/age/keys.txt; file mode 0600, folder 0700). You become a member of every environment.
Refuses to run where stellar.yaml, .sops.yaml or an environment file already exists.

Options:
  --env LIST           environments, comma-separated (default: development,staging,production)
  --member NAME        your member name (default: $USER or $LOGNAME, else your git user.email
                       before the "@", else user.name)
  --recipient AGE_KEY  use this public key instead of your identity's (no identity is created): an age
                       key, or an SSH ed25519 key ("ssh-ed25519 AAAA...", quoted)
  --secrets-dir DIR    folder of the encrypted files (default: secrets)
  --json               print what was created as JSON

Example:
  stellar-secrets init --env development,production --member alice
`;

const flags = {
  env: { type: "string", multiple: true },
  member: { type: "string" },
  recipient: { type: "string" },
  "secrets-dir": { type: "string" },
  json: { type: "boolean" },
} as const;

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f } = parseCommandArgs("init", argv, flags);
  const envNames = f.env === undefined ? DEFAULT_ENVIRONMENTS : splitList(f.env);
  const written = (f["secrets-dir"] ?? DEFAULT_SECRETS_DIR).replace(/\/+$/, "");
  // written as every reader reads it (`./vault/.` is `vault`): stellar.yaml, .sops.yaml's path_regex and .gitattributes name one folder one way
  const secretsDir = written === "" ? "" : normalizeSecretsDir(written);
  const root = ctx.cwd;
  const configPath = join(root, PROJECT_FILE);
  const draft: ProjectConfig = {
    root,
    configPath,
    secretsDir,
    environments: [],
    include: ["**/*.yaml", "**/*.yml"],
    exclude: ["node_modules/**"],
    rules: {},
  };
  // an existing setup first: re-running init must say so, whatever else is wrong
  const envPaths = envNames.map((e) => secretsFilePath(draft, e));
  const existing = [configPath, join(root, ".sops.yaml"), ...envPaths].filter((p) => existsSync(p));
  if (existing.length > 0) {
    throw new CliError("ALREADY_INITIALIZED", `a secrets repository already exists here (${existing.map((p) => relative(root, p)).join(", ")})`, {
      hint: "init never overwrites; use `stellar-secrets members add` to give someone access, or remove these files first",
    });
  }

  if (envNames.length === 0) throw new CliError("USAGE", "init: --env needs at least one environment name");
  for (const name of envNames) {
    if (!ENVIRONMENT_NAME.test(name)) {
      throw new CliError("USAGE", `init: "${name}" is not a valid environment name`, {
        hint: "environment names are lowercase letters, digits, _ and -, starting with a letter (^[a-z][a-z0-9_-]*$)",
      });
    }
  }
  // the same rule stellar.yaml is checked with later (core's schema pattern), so init never
  // leaves a repository that every command rejects
  if (written === "" || !SECRETS_DIR.test(written)) {
    const windows = windowsPathHint(f["secrets-dir"] ?? "");
    throw new CliError("USAGE", `init: --secrets-dir ${JSON.stringify(f["secrets-dir"] ?? "")} must be a folder inside the repository, relative to it (no .., not the root itself)`, {
      hint: windows === undefined ? "e.g. --secrets-dir secrets" : `${windows}: e.g. --secrets-dir infra/secrets`,
    });
  }
  const member = f.member ?? defaultMemberName(ctx);
  if (member === undefined) {
    throw new CliError("INVALID_MEMBER", "init: cannot tell your member name ($USER is not set and git has no user)", {
      hint: "pass --member NAME",
    });
  }
  if (looksLikeKeyMaterial(member)) throw privateKeyAsNameError("init: --member");
  if (!MEMBER_NAME.test(member)) {
    throw new CliError("INVALID_MEMBER", `init: "${member}" is not a valid member name`, {
      hint: "member names are letters, digits, '.', '_', '@' and '-', starting with a letter or digit; pass --member NAME",
    });
  }

  // The recipient: given, else the user's identity, else a new identity in the sops default key file.
  let recipient: string;
  let newIdentity: { keyFile: string; identity: string } | undefined;
  if (f.recipient !== undefined) {
    recipient = recipientArgument(f.recipient);
  } else {
    const ids = identitiesFor(ctx);
    // An age identity only: an SSH key found in ~/.ssh becomes a member only when asked for
    // (`members add NAME "ssh-ed25519 …"`), never silently.
    const first = ids.identities.find(isAgeIdentity);
    if (first !== undefined) {
      recipient = await identityToRecipient(first);
    } else {
      const keyFile = defaultKeyFilePath({ env: ctx.env, home: homeOf(ctx) });
      if (existsSync(keyFile)) {
        throw new CliError("NO_IDENTITY", `the sops key file ${keyFile} exists but holds no age identity`, {
          hint: "add an AGE-SECRET-KEY-1... line to it, point SOPS_AGE_KEY_FILE at your key file, or pass --recipient AGE_KEY",
        });
      }
      const generated = await generateIdentity();
      newIdentity = { keyFile, identity: generated.identity };
      recipient = generated.recipient;
    }
  }

  const config: ProjectConfig = {
    ...draft,
    environments: envNames.map((name) => ({ name, members: [{ name: member, recipient }] })),
  };
  const { root: _root, configPath: _configPath, ...rest } = config;
  const configText = renderProjectConfig(rest);
  // validate the whole stellar.yaml with core before writing anything
  const firstError = parseProjectConfig(configText, configPath).diagnostics.find((d) => d.severity === "error");
  if (firstError !== undefined) {
    throw new CliError("INVALID_CONFIG", `init: the stellar.yaml it would write is not valid: ${firstError.message}; nothing was written`, {
      hint: "fix the flags named above (--env, --member, --recipient, --secrets-dir)",
    });
  }
  let createdKeyFile: string | undefined;
  if (newIdentity !== undefined) {
    await createKeyFile(newIdentity.keyFile, newIdentity.identity, recipient);
    createdKeyFile = newIdentity.keyFile;
  }
  for (const path of envPaths) await createSecretsFile(path, [recipient], new Map());
  await writeFileAtomic(join(root, ".sops.yaml"), renderSopsConfig(config));
  await writeFileAtomic(configPath, configText);
  const ignores = await writeIgnoreFiles(root, secretsDir);

  const created = [configPath, join(root, ".sops.yaml"), ...envPaths, ...ignores].map((p) => relative(root, p));
  // init in a subfolder of a secrets repository is usually a mistake (the newcomer meant that one)
  const enclosing = dirname(root) === root ? undefined : findProjectRoot(dirname(root));
  if (enclosing !== undefined) {
    ctx.stderr.write(
      escapeControlCharacters(
        `note: ${root} is inside the secrets repository ${enclosing} (its ${PROJECT_FILE}): this made a second, separate one here; its commands read the nearest ${PROJECT_FILE}. To undo, remove the files it created\n`,
        { keepNewlines: true },
      ),
    );
  }
  if (f.json) {
    ctx.stdout.write(
      renderJson({
        root,
        environments: envNames,
        member: { name: member, recipient },
        files: created,
        keyFile: createdKeyFile ?? null,
      }),
    );
    return 0;
  }
  const lines = [`Initialized a secrets repository in ${root}`];
  for (const file of created) lines.push(`  created ${file}`);
  if (createdKeyFile !== undefined) {
    lines.push(`  created your age identity in ${createdKeyFile} (mode 0600; keep it private, back it up)`);
  }
  lines.push(`Member "${member}" (${recipient}) can decrypt: ${envNames.join(", ")}`);
  lines.push("", "Next: stellar-secrets set NAME --env " + envNames[0] + "   (prompts for the value)");
  if (gitWorkTreeOf(root) === undefined) lines.push("      git init && git add -A && git commit -m 'Add secrets repository'");
  lines.push("      stellar-secrets git setup   (per clone: keyless git diff, per-secret merges, pre-commit, pre-merge-commit and pre-applypatch hooks)");
  ctx.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

/**
 * The nearest folder at or above `dir` that holds `.git` (a folder, or the file of a linked
 * worktree or submodule): the git work tree `dir` is in, or undefined when it is in none (then
 * `init` suggests `git init`; inside one, that would make a nested repository).
 */
function gitWorkTreeOf(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, ".git"))) return d;
    if (dirname(d) === d) return undefined;
  }
}

/** Lock and temp files of writes in progress (and of writers killed mid-write): never committed. */
const ROOT_IGNORES = ["/stellar.yaml.lock", "/stellar.yaml.lock.*", "/.stellar.yaml.*.tmp", "/..sops.yaml.*.tmp"];
const SECRETS_IGNORES = ["*.lock", "*.lock.*", ".*.tmp"];
const IGNORE_HEADER = "# stellar-secrets: locks and temp files of writes in progress (never commit them)";

/**
 * Adds the lock and temp file patterns to the repository's `.gitignore` (created, or appended to
 * with only the missing lines) and writes `<secrets-dir>/.gitignore`. Returns the files written.
 */
async function writeIgnoreFiles(root: string, secretsDir: string): Promise<string[]> {
  const written: string[] = [];
  for (const [path, patterns] of [
    [join(root, ".gitignore"), ROOT_IGNORES],
    [join(root, secretsDir, ".gitignore"), SECRETS_IGNORES],
  ] as const) {
    const current = existsSync(path) ? await readFile(path, "utf8") : "";
    const have = new Set(current.split(/\r?\n/).map((l) => l.trim()));
    const missing = patterns.filter((p) => !have.has(p));
    if (missing.length === 0) continue;
    const sep = current === "" ? "" : current.endsWith("\n") ? "\n" : "\n\n";
    await writeFileAtomic(path, `${current}${sep}${IGNORE_HEADER}\n${missing.join("\n")}\n`);
    written.push(path);
  }
  return written;
}

/** `$USER` (else `$LOGNAME`), else the local part of git's user.email, else git's user.name made into a member name. */
function defaultMemberName(ctx: CommandContext): string | undefined {
  const user = ctx.env.USER ?? ctx.env.LOGNAME;
  if (user !== undefined && MEMBER_NAME.test(user)) return user;
  const git = (key: string): string | undefined => gitConfigValue(ctx.cwd, key, ctx.env);
  const email = git("user.email");
  const local = email?.split("@")[0];
  if (local !== undefined && MEMBER_NAME.test(local)) return local;
  const name = git("user.name")?.trim().replace(/\s+/g, "-").replace(/[^A-Za-z0-9._@-]/g, "");
  if (name !== undefined && MEMBER_NAME.test(name)) return name;
  return undefined;
}

/** Writes a new key file in age-keygen's layout: folder 0700, file 0600, created exclusively. */
async function createKeyFile(path: string, identity: string, recipient: string): Promise<void> {
  const dir = dirname(path);
  const dirExisted = existsSync(dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!dirExisted) await chmod(dir, 0o700);
  const text = `# created: ${new Date().toISOString()} by stellar-secrets init\n# public key: ${recipient}\n${identity}\n`;
  await writeFile(path, text, { mode: 0o600, flag: "wx" });
  await chmod(path, 0o600);
}

/**
 * The public key `init --recipient` was given, normalized. Throws `CliError` INVALID_MEMBER (exit 19,
 * "a bad member name or age public key", as `members add` gives) when it is no age X25519 or
 * ssh-ed25519 public key, or has an age key's shape but its bech32 checksum fails; both hints name
 * `--recipient`. Never echoes what does not look like a public key (a private
 * key pasted by mistake).
 */
export function recipientArgument(given: string): string {
  const howToGet = "`stellar-secrets whoami` or `age-keygen -y KEYFILE` prints an age key, `~/.ssh/id_ed25519.pub` holds an SSH one";
  if (isMistypedAgeRecipient(given)) {
    throw new CliError(
      "INVALID_MEMBER",
      `init: --recipient "${given}" is not a valid age public key: its checksum does not match (a character was mistyped or lost when it was copied), so nothing can be encrypted to it; nothing was written`,
      { hint: `pass --recipient the key copied again, whole (${howToGet}), or leave --recipient out to use (or create) your own age key` },
    );
  }
  if (isSmallOrderAgeRecipient(given)) {
    throw new CliError("INVALID_MEMBER", `init: --recipient "${given}" is not a usable age public key: it is a point of small order, whose private key no one holds, so nothing can be encrypted to it; nothing was written`, {
      hint: `pass --recipient a key made by age-keygen (${howToGet}), or leave --recipient out to use (or create) your own age key`,
    });
  }
  if (!isAgeRecipient(given) && !isSshEd25519Recipient(given)) {
    throw new CliError("INVALID_MEMBER", "init: --recipient is not an age X25519 public key (age1...) or an SSH ed25519 public key (\"ssh-ed25519 AAAA...\")", {
      hint: `pass --recipient an age1... public key or a whole ssh-ed25519 public key line, quoted (${howToGet}), or leave --recipient out to use (or create) your own age key`,
    });
  }
  return normalizeRecipient(given);
}

const command: Command = { summary: "create stellar.yaml, .sops.yaml and an encrypted file per environment", help, run };
export default command;
