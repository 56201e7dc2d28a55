/**
 * End-to-end harness for the `stellar-secrets` CLI: a temp folder with a git repository and a
 * private HOME (so the user's real keys are never touched), real age keys made per test with
 * `age-keygen`, and the built CLI run as a child process — plainly or inside a pseudo-terminal
 * (util-linux `script`).
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { shellWord } from "../../packages/core/src/shell.js";
import { afterEach } from "vitest";
import { parse } from "./yaml.js";

/** The repository root (where the workspace package.json is). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The CLI entry point the tests run (built: run `pnpm build` first). */
export const CLI_BIN = join(REPO_ROOT, "packages/cli/bin/stellar-secrets.js");

/**
 * True when the `age` and `age-keygen` CLIs are installed (CI installs them). Without them the
 * helpers below fall back to typage through the built sops package, so `npm test` also works on
 * a fresh machine; the interop tests that exist to compare with the age CLI skip instead.
 */
/** ssh-keygen (Debian package openssh-client) makes the SSH keys of the SSH-member and signing tests, and verifies git's ssh signatures. */
export const HAS_SSH_KEYGEN = (() => {
  try {
    execFileSync("ssh-keygen", ["-?"], { stdio: "ignore" });
    return true;
  } catch (error) {
    // `ssh-keygen -?` prints its usage and exits 1: present; ENOENT: missing
    return (error as NodeJS.ErrnoException).code !== "ENOENT";
  }
})();

export const HAS_AGE_CLI = (() => {
  try {
    execFileSync("age", ["--version"], { stdio: "ignore" });
    execFileSync("age-keygen", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const SOPS_DIST = pathToFileURL(join(REPO_ROOT, "packages/sops/dist/index.js")).href;

/** Runs a small ES module against the built sops package in a child process (synchronously). */
function withSops(body: string, input?: Buffer | string): Buffer {
  return execFileSync(process.execPath, ["--input-type=module", "-e", `import * as sops from ${JSON.stringify(SOPS_DIST)};\n${body}`], {
    input,
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** A new TEST-ONLY X25519 key pair: `age-keygen` when installed, else typage. */
export function newAgeKey(): { identity: string; recipient: string } {
  if (HAS_AGE_CLI) {
    const out = execFileSync("age-keygen", [], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const identity = out.split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-1")) as string;
    const recipient = (/# public key: (age1[0-9a-z]+)/.exec(out) as RegExpExecArray)[1] as string;
    return { identity, recipient };
  }
  return JSON.parse(withSops("process.stdout.write(JSON.stringify(await sops.generateIdentity()));").toString("utf8")) as { identity: string; recipient: string };
}

/** The public key of a key file: `age-keygen -y` when installed, else typage. */
export function recipientOfKeyFile(file: string): string {
  if (HAS_AGE_CLI) return execFileSync("age-keygen", ["-y", file], { encoding: "utf8" }).trim();
  const ids = readFileSync(file, "utf8").split("\n").filter((l) => l.startsWith("AGE-SECRET-KEY-1"));
  return withSops(`process.stdout.write(await sops.identityToRecipient(${JSON.stringify(ids[0] ?? "")}));`).toString("utf8").trim();
}

/** What a CLI run produced. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** An age key pair made with age-keygen for one test. */
export interface AgeKey {
  /** The AGE-SECRET-KEY-1... line. */
  identity: string;
  /** The age1... public key. */
  recipient: string;
  /** A key file holding it (mode 0600, labelled test-only). */
  file: string;
}

/** Options of {@link Sandbox.run}. */
export interface RunOptions {
  /** Bytes for stdin (stdin is closed after them; without input stdin is empty). */
  input?: string | Buffer;
  cwd?: string;
  /** Variables to add (a value of undefined removes one). */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** A temp folder with `home/` (HOME, XDG_CONFIG_HOME=home/.config) and `repo/` (a git repository). */
export interface Sandbox {
  dir: string;
  home: string;
  repo: string;
  /** The environment CLI runs get: a clean one, with no SOPS_* variables from the outside. */
  env: Record<string, string>;
  /** Runs the CLI with `args` in `repo` (or `cwd`). */
  run(args: string[], options?: RunOptions): Promise<RunResult>;
  /** Starts the CLI without waiting, for signal tests. */
  start(args: string[], options?: RunOptions): StartedProcess;
  /** Runs git in `repo`, returning stdout. */
  git(args: string[], options?: { env?: Record<string, string> }): string;
  /** `git add -A && git commit` in `repo`, with an optional fixed date (ISO). */
  commit(message: string, options?: { date?: string; author?: string }): string;
  /** Makes a new age key with `age-keygen` under `dir/keys/<label>.txt`. */
  keygen(label: string): AgeKey;
  /** The sops default key file of this HOME. */
  defaultKeyFile: string;
  read(rel: string): string;
  write(rel: string, text: string): void;
  cleanup(): void;
}

/** A CLI process started by {@link Sandbox.start}. */
export interface StartedProcess {
  pid: number;
  done: Promise<RunResult>;
  kill(signal: NodeJS.Signals): void;
  stdout(): string;
  stderr(): string;
}

/** Throws a clear error when the CLI has not been built. */
/** Runs git in the sandbox without throwing: `ok` false when git exits non-zero, `out` its stdout and stderr. */
export function tryGit(s: Sandbox, args: string[]): { ok: boolean; out: string } {
  try {
    return { ok: true, out: s.git(args) };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, out: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

export function assertBuilt(): void {
  if (!existsSync(join(REPO_ROOT, "packages/cli/dist/main.js"))) {
    throw new Error("the CLI is not built: run `pnpm build` (or `npm test`, which builds first)");
  }
}

/**
 * The sandboxes of a test file: push each one made; after each test every one is cleaned up and the
 * list emptied. Call once at the top level of a test file.
 */
export function sandboxesCleanedAfterEach(): Sandbox[] {
  const sandboxes: Sandbox[] = [];
  afterEach(() => {
    for (const s of sandboxes.splice(0)) s.cleanup();
  });
  return sandboxes;
}

/**
 * A repository initialised by alice (her key in SOPS_AGE_KEY_FILE) with `environments` and each
 * secret of `secrets` set (`[name, "env1,env2", value]`, through stdin), in a sandbox pushed to
 * `sandboxes`. Every step must exit 0.
 */
export async function aliceProject(sandboxes: Sandbox[], environments: string, secrets: Array<[string, string, string]>): Promise<{ s: Sandbox; alice: AgeKey }> {
  const s = createSandbox();
  sandboxes.push(s);
  const alice = s.keygen("alice");
  s.env.SOPS_AGE_KEY_FILE = alice.file;
  const init = await s.run(["init", "--env", environments]);
  if (init.code !== 0) throw new Error(`init exited ${init.code}: ${init.stderr}`);
  for (const [name, envs, value] of secrets) {
    const r = await s.run(["set", name, "--env", envs, "--from-stdin"], { input: value });
    if (r.code !== 0) throw new Error(`set ${name} exited ${r.code}: ${r.stderr}`);
  }
  return { s, alice };
}

/**
 * A project of alice's in the folder `infra` of the sandbox's repository (a project in a subfolder
 * of its repository): `init --env production` there and `value` set as stripe_api_key through stdin,
 * with alice's new key in SOPS_AGE_KEY_FILE. Returns the folder. Every step must exit 0.
 */
export async function infraProject(s: Sandbox, value: string): Promise<string> {
  const alice = s.keygen("alice");
  s.env.SOPS_AGE_KEY_FILE = alice.file;
  const infra = join(s.repo, "infra");
  mkdirSync(infra, { recursive: true });
  const init = await s.run(["init", "--env", "production"], { cwd: infra });
  if (init.code !== 0) throw new Error(`init exited ${init.code}: ${init.stderr}`);
  const set = await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { cwd: infra, input: value });
  if (set.code !== 0) throw new Error(`set exited ${set.code}: ${set.stderr}`);
  return infra;
}

/** Creates a sandbox. `user` becomes $USER (the default member name). */
export function createSandbox(options: { user?: string; gitInit?: boolean } = {}): Sandbox {
  assertBuilt();
  const dir = mkdtempSync(join(tmpdir(), "stellar-cli-e2e-"));
  const home = join(dir, "home");
  const repo = join(dir, "repo");
  mkdirSync(home, { recursive: true });
  mkdirSync(repo, { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    USER: options.user ?? "alice",
    LANG: "C.UTF-8",
    TERM: "xterm",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: join(home, ".gitconfig"),
    GIT_AUTHOR_NAME: "Alice Example",
    GIT_AUTHOR_EMAIL: "alice@example.test",
    GIT_COMMITTER_NAME: "Alice Example",
    GIT_COMMITTER_EMAIL: "alice@example.test",
  };
  const git = (args: string[], extra?: { env?: Record<string, string> }): string =>
    execFileSync("git", args, { cwd: repo, env: { ...env, ...(extra?.env ?? {}) }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (options.gitInit !== false) git(["init", "-q", "-b", "main"]);

  const childEnv = (extra?: Record<string, string | undefined>): Record<string, string> => {
    const out: Record<string, string> = { ...env };
    for (const [k, v] of Object.entries(extra ?? {})) {
      if (v === undefined) delete out[k];
      else out[k] = v;
    }
    return out;
  };

  const start = (args: string[], opts: RunOptions = {}): StartedProcess => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd: opts.cwd ?? repo, env: childEnv(opts.env), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.stdin.on("error", () => undefined);
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 45_000);
    const done = new Promise<RunResult>((resolve) => {
      child.once("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });
    return {
      pid: child.pid as number,
      done,
      kill: (signal) => child.kill(signal),
      stdout: () => stdout,
      stderr: () => stderr,
    };
  };

  return {
    dir,
    home,
    repo,
    env,
    defaultKeyFile: join(home, ".config", "sops", "age", "keys.txt"),
    run: (args, opts) => start(args, opts).done,
    start,
    git,
    commit(message, opts = {}) {
      git(["add", "-A"]);
      const dates: Record<string, string> = opts.date ? { GIT_AUTHOR_DATE: opts.date, GIT_COMMITTER_DATE: opts.date } : {};
      const author: Record<string, string> = opts.author ? { GIT_AUTHOR_NAME: opts.author, GIT_AUTHOR_EMAIL: `${opts.author.toLowerCase()}@example.test` } : {};
      git(["commit", "-q", "--allow-empty", "-m", message], { env: { ...dates, ...author } });
      return git(["rev-parse", "HEAD"]).trim();
    },
    keygen(label) {
      const keys = join(dir, "keys");
      mkdirSync(keys, { recursive: true, mode: 0o700 });
      const file = join(keys, `${label}.txt`);
      const { identity, recipient } = newAgeKey();
      writeFileSync(file, `# TEST-ONLY key, never use for real secrets\n# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
      return { identity, recipient, file };
    },
    read: (rel) => readFileSync(join(repo, rel), "utf8"),
    write(rel, text) {
      mkdirSync(dirname(join(repo, rel)), { recursive: true });
      writeFileSync(join(repo, rel), text);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** One step of a terminal session: wait until the output matches, then type `send`. */
export interface PtyStep {
  waitFor: string | RegExp;
  send: string;
}

/**
 * Runs the CLI inside a pseudo-terminal (util-linux `script -qfec CMD /dev/null`), typing each
 * step's text once the terminal output matches. Resolves with everything the terminal showed
 * (prompts, and any echo of typed text) and the exit status.
 */
export function runInPty(sandbox: Sandbox, args: string[], steps: PtyStep[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ output: string; code: number | null }> {
  const cmd = [process.execPath, CLI_BIN, ...args].map((word) => shellWord(word)).join(" ");
  const child = spawn("script", ["-qfec", `cd ${shellWord(sandbox.repo, { path: true })} && ${cmd}`, "/dev/null"], {
    env: { ...sandbox.env, ...(options.env ?? {}) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  let next = 0;
  const pump = (): void => {
    while (next < steps.length) {
      const step = steps[next] as PtyStep;
      const matched = typeof step.waitFor === "string" ? output.includes(step.waitFor) : step.waitFor.test(output);
      if (!matched) return;
      next++;
      child.stdin.write(step.send);
    }
  };
  child.stdout.setEncoding("utf8").on("data", (c: string) => {
    output += c;
    pump();
  });
  child.stderr.setEncoding("utf8").on("data", (c: string) => (output += c));
  child.stdin.on("error", () => undefined);
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  return new Promise((resolve) => {
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ output, code });
    });
  });
}

/**
 * Appends `count` commits to `main` with `git fast-import`, alternating the file at `path` between
 * `versions` (texts), one minute apart. Fast enough for histories of thousands of commits.
 */
export function importAlternatingCommits(sandbox: Sandbox, path: string, versions: string[], count: number): void {
  const chunks = versions.map((v, i) => `blob\nmark :${i + 1}\ndata ${Buffer.byteLength(v)}\n${v}\n`);
  for (let i = 0; i < count; i++) {
    const msg = `commit ${i}`;
    chunks.push(
      `commit refs/heads/main\ncommitter Alice <alice@example.test> ${1_700_000_000 + i * 60} +0000\ndata ${msg.length}\n${msg}\n` +
        `${i === 0 ? "from refs/heads/main^0\n" : ""}M 100644 :${(i % versions.length) + 1} ${path}\n\n`,
    );
  }
  execFileSync("git", ["fast-import", "--quiet"], { cwd: sandbox.repo, env: sandbox.env, input: chunks.join("") });
  sandbox.git(["reset", "-q", "--hard"]);
}

/** Runs `age --decrypt -i KEYFILE` on `armored` data; resolves to the plaintext, or rejects. */
export function ageDecrypt(keyFile: string, data: Buffer | string): Buffer {
  if (HAS_AGE_CLI) return execFileSync("age", ["--decrypt", "-i", keyFile], { input: data, stdio: ["pipe", "pipe", "pipe"] });
  // Without the age CLI (a fresh machine): typage unwraps the armored data key; exit 1 when the key cannot.
  const script = `const { readFileSync } = await import("node:fs");
const ids = sops.parseIdentityFile(readFileSync(${JSON.stringify(keyFile)}, "utf8"), "key file");
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const key = await sops.unwrapDataKey([{ recipient: "", enc: Buffer.concat(chunks).toString("utf8") }], ids);
if (key === undefined) { process.stderr.write("no identity matched"); process.exit(1); }
process.stdout.write(Buffer.from(key));`;
  return withSops(script, data);
}

/** The age stanzas (recipient, armored wrapped key) of an environment file of the sandbox. */
export function stanzas(s: Sandbox, env: string): { recipient: string; enc: string }[] {
  return parse(s.read(`secrets/${env}.enc.yaml`)).sops.age;
}

/** The data key `key` unwraps from one of the file's stanzas (age CLI, else typage), or undefined. */
export function unwrapWith(s: Sandbox, env: string, key: AgeKey): Buffer | undefined {
  for (const st of stanzas(s, env)) {
    try {
      return ageDecrypt(key.file, st.enc);
    } catch {
      // not for this key
    }
  }
  return undefined;
}
