/**
 * `stellar-secrets keygen [--ssh]`: makes the user's identity where sops looks for it and prints
 * its public key (never the private key). An age key goes to `$SOPS_AGE_KEY_FILE` when set, else
 * the sops default key file; an existing file is never overwritten. `--ssh` uses (or, with
 * `ssh-keygen`, creates) `~/.ssh/id_ed25519`, which sops and age also read.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, open, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { defaultKeyFilePath, generateIdentity, looksLikeKeyMaterial, parseIdentityFile, parseOpenSshPrivateKey } from "@stellar-secrets/sops";
import { parseCommandArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { looksLikeWindowsPath, windowsPathHint } from "../path-hints.js";
import { renderJson } from "../format.js";
import { homeOf } from "../repository.js";

const help = `Usage: stellar-secrets keygen [--ssh] [--json]

Creates your key where sops and stellar-secrets look for it, and prints its public key (the
private key is never printed). Give the public key to the team: \`stellar-secrets request-access\`
asks for access with it in a pull request.

  (default)  a new age key (what \`age-keygen\` makes) in $SOPS_AGE_KEY_FILE when it is set, else
             the sops default key file ($XDG_CONFIG_HOME/sops/age/keys.txt, else
             ~/.config/sops/age/keys.txt), written with mode 0600 in a folder of mode 0700, with
             "# created:" and "# public key:" lines as age-keygen writes them. Refuses to
             overwrite an existing file (IDENTITY_EXISTS): \`stellar-secrets whoami\` shows its key.
  --ssh      use your SSH ed25519 key instead: $SOPS_AGE_SSH_PRIVATE_KEY_FILE when set, else
             ~/.ssh/id_ed25519. An existing key is used as it is (it must be an unencrypted
             ed25519 key, as sops requires); a missing one is created with
             \`ssh-keygen -t ed25519 -N "" -f ~/.ssh/id_ed25519\` (no passphrase: sops cannot use one).

Options:
  --ssh   use or create an SSH ed25519 key instead of an age key
  --json  print {"publicKey", "type", "file", "created"}

Examples:
  stellar-secrets keygen
  stellar-secrets keygen --ssh
`;

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f } = parseCommandArgs("keygen", argv, { ssh: { type: "boolean" }, json: { type: "boolean" } });
  const result = f.ssh ? await sshKey(ctx) : await ageKey(ctx);
  if (f.json) {
    ctx.stdout.write(renderJson(result));
    return 0;
  }
  const lines = [
    result.created ? `created ${result.type === "age" ? "an age key" : "an SSH ed25519 key"} in ${result.file}` : `using your existing SSH key ${result.file}`,
    `public key: ${result.publicKey}`,
    "",
    "Give the public key to your team: in a repository, `stellar-secrets request-access --env ENV` asks for access in a pull request.",
  ];
  ctx.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

interface KeygenResult {
  publicKey: string;
  type: "age" | "ssh-ed25519";
  file: string;
  created: boolean;
}

/**
 * Refuses a variable that should name a key file but holds a key itself (a CI secret stored as
 * `SOPS_AGE_KEY_FILE` instead of `SOPS_AGE_KEY`): taken as a path, the key became the name of the
 * file (or of folders) that keygen created and printed. `CliError("USAGE")`; the value is never shown.
 * Refuses as well a Windows path (`C:\Users\…`), which names a file under `cwd` here.
 */
function refuseKeyAsPath(variable: string, value: string | undefined, cwd: string): void {
  if (value === undefined || value === "") return;
  if (looksLikeKeyMaterial(value)) {
    throw new CliError("USAGE", `keygen: ${variable} holds a private key, not the path of a key file (not shown); nothing was created`, {
      hint: `unset ${variable} (or set it to the path of a file) and run keygen again${variable === "SOPS_AGE_KEY_FILE" ? "; a key in a variable goes in SOPS_AGE_KEY" : ""}`,
    });
  }
  // `C:\Users\alice\keys.txt` (copied from a Windows machine's setup) names one file in the
  // current folder here: the private key would be written there, into a repository's work tree
  if (looksLikeWindowsPath(value)) {
    throw new CliError("USAGE", `keygen: ${variable} is ${JSON.stringify(value)}, a Windows path: here it names a file under the current folder (${cwd}), where the private key would be written; nothing was created`, {
      hint: `${windowsPathHint(value) ?? ""}; or unset ${variable} for the default place`,
    });
  }
}

async function ageKey(ctx: CommandContext): Promise<KeygenResult> {
  const fromEnv = ctx.env.SOPS_AGE_KEY_FILE;
  refuseKeyAsPath("SOPS_AGE_KEY_FILE", fromEnv, ctx.cwd);
  const file = fromEnv !== undefined && fromEnv !== "" ? fromEnv : defaultKeyFilePath({ env: ctx.env, home: homeOf(ctx) });
  const { identity, recipient } = await generateIdentity();
  const text = `# created: ${new Date().toISOString().replace(/\.\d{3}Z$/, "Z")}\n# public key: ${recipient}\n${identity}\n`;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  let handle;
  try {
    // exclusive create: an existing key file (or one made meanwhile) is never overwritten
    handle = await open(file, "wx", 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      // a file there that is no key (a .pub saved as keys.txt, a folder): whoami would only call it
      // unusable, so say so here, with the reason (never a line of it)
      const unusable = await notAKeyFile(file);
      if (unusable !== undefined) {
        throw new CliError("IDENTITY_EXISTS", `${file} already exists and holds no age key (${unusable}); keygen never overwrites a file`, {
          hint: "move that file away (or point SOPS_AGE_KEY_FILE at a new file), then run `stellar-secrets keygen` again",
        });
      }
      throw new CliError("IDENTITY_EXISTS", `${file} already exists; keygen never overwrites a key`, {
        hint: "run `stellar-secrets whoami` to see its public key; to make another key, point SOPS_AGE_KEY_FILE at a new file",
      });
    }
    throw new CliError("IO_ERROR", `cannot create ${file}: ${code ?? (error as Error).message}`, { cause: error });
  }
  try {
    await handle.writeFile(text);
    await handle.chmod(0o600);
  } finally {
    await handle.close();
  }
  return { publicKey: recipient, type: "age", file, created: true };
}

async function sshKey(ctx: CommandContext): Promise<KeygenResult> {
  const fromEnv = ctx.env.SOPS_AGE_SSH_PRIVATE_KEY_FILE;
  refuseKeyAsPath("SOPS_AGE_SSH_PRIVATE_KEY_FILE", fromEnv, ctx.cwd);
  const file = fromEnv !== undefined && fromEnv !== "" ? fromEnv : join(homeOf(ctx), ".ssh", "id_ed25519");
  let created = false;
  if (!existsSync(file)) {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const comment = `${ctx.env.USER ?? "user"}@stellar-secrets`;
    await new Promise<void>((resolve, reject) => {
      execFile("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file], { env: ctx.env }, (error, _stdout, stderr) => {
        if (error === null) return resolve();
        if ((error as NodeJS.ErrnoException).code === "ENOENT") {
          reject(
            new CliError("COMMAND_NOT_FOUND", "ssh-keygen is not installed, so no SSH key can be made", {
              hint: "install OpenSSH (e.g. `apt-get install openssh-client`), or run `stellar-secrets keygen` for an age key instead",
            }),
          );
          return;
        }
        reject(new CliError("IO_ERROR", `ssh-keygen failed: ${String(stderr).split("\n")[0] ?? ""}`, { cause: error }));
      });
    });
    created = true;
  }
  // sops can use only an unencrypted ed25519 key: say so now rather than at the first decryption
  const parsed = parseOpenSshPrivateKey(await readFile(file, "utf8"), file);
  parsed.seed.fill(0);
  return { publicKey: parsed.publicKey.normalized, type: "ssh-ed25519", file, created };
}

const command: Command = { summary: "create your age (or SSH) key where sops looks for it and print its public key", help, run };
export default command;

/**
 * Why the existing `file` is no age key file (a folder, unreadable, no `AGE-SECRET-KEY-1…` line, a
 * public key where the private one belongs), as parseIdentityFile says it (a line number, never a
 * line); undefined when it holds a key, or is a plugin's identities file this cannot judge.
 */
async function notAKeyFile(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "EISDIR" ? "it is a folder" : `it cannot be read: ${code ?? "error"}`;
  }
  try {
    return parseIdentityFile(text, "").length === 0 ? "no AGE-SECRET-KEY-1… line" : undefined;
  } catch (error) {
    return (error as Error).message.replace(/^:/, "line ");
  }
}
