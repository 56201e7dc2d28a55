/**
 * Hardening (issue 12) end to end with real CLI processes: lock and temp files ignored by git,
 * only regular files read as environment files (a FIFO never hangs anything), dotenv export that
 * `dotenv` and `node --env-file` read back exactly, an empty environment that `edit` can add to,
 * a multi-line paste refused at the hidden prompt, and consistent exits for typos and unknown names.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { createResolver } from "../packages/resolver/src/index.js";
import { CLI_BIN, REPO_ROOT, createSandbox, runInPty, type AgeKey, type Sandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 120_000 });

const dotenv = createRequire(join(REPO_ROOT, "package.json"))("dotenv") as { parse(text: string): Record<string, string> };

const sandboxes = sandboxesCleanedAfterEach();

async function project(options: { before?: (s: Sandbox) => void } = {}): Promise<{ s: Sandbox; alice: AgeKey }> {
  const s = createSandbox();
  sandboxes.push(s);
  const alice = s.keygen("alice");
  s.env.SOPS_AGE_KEY_FILE = alice.file;
  options.before?.(s);
  const init = await s.run(["init", "--env", "development,production"]);
  expect(init.code, init.stderr).toBe(0);
  return { s, alice };
}

describe("init ignores lock and temp files", () => {
  it("writes .gitignore lines that git applies, adding only missing lines to an existing .gitignore", async () => {
    const { s } = await project({ before: (x) => x.write(".gitignore", "node_modules/\n/stellar.yaml.lock\n") });
    const root = s.read(".gitignore");
    expect(root.startsWith("node_modules/\n/stellar.yaml.lock\n")).toBe(true);
    expect(root.match(/^\/stellar\.yaml\.lock$/gm)).toHaveLength(1);
    const ignored = ["stellar.yaml.lock", "stellar.yaml.lock.break", "stellar.yaml.lock.123.abc.own", ".stellar.yaml.123.abc.tmp", "..sops.yaml.1.a.tmp",
      "secrets/production.enc.yaml.lock", "secrets/production.enc.yaml.lock.break", "secrets/production.enc.yaml.lock.9.ff.own", "secrets/.production.enc.yaml.9.ff.tmp", "secrets/catalog.yaml.lock"];
    for (const f of ignored) s.write(f, "x");
    const out = execFileSync("git", ["check-ignore", ...ignored], { cwd: s.repo, env: s.env, encoding: "utf8" });
    expect(out.trim().split("\n").sort()).toEqual([...ignored].sort());
    // the real files are not ignored
    const status = s.git(["status", "--porcelain", "--untracked-files=all"]);
    for (const f of ["stellar.yaml", ".sops.yaml", "secrets/development.enc.yaml", "secrets/.gitignore", ".gitignore"]) expect(status).toContain(f);
    for (const f of ignored) expect(status).not.toContain(f);
  });
});

describe("only regular files are read as environment files", () => {
  it("a FIFO is NOT_A_FILE for list, get, check and createResolver, never a hang; a directory likewise", async () => {
    const { s, alice } = await project();
    expect((await s.run(["set", "api_key", "--env", "development", "--from-stdin"], { input: "v1" })).code).toBe(0);
    const prod = join(s.repo, "secrets/production.enc.yaml");
    for (const kind of ["fifo", "directory"] as const) {
      rmSync(prod, { recursive: true, force: true });
      if (kind === "fifo") execFileSync("mkfifo", [prod]);
      else mkdirSync(prod);
      for (const args of [["list"], ["get", "api_key", "--env", "production"]]) {
        const r = await s.run(args, { timeoutMs: 20_000 });
        expect(r.signal, `${kind} ${args.join(" ")} hung`).toBeNull();
        expect(r.stderr, `${kind} ${args.join(" ")}`).toContain("NOT_A_FILE");
        expect(r.code, `${kind} ${args.join(" ")}`).toBe(16);
      }
      const check = await s.run(["check", "--json"], { timeoutMs: 20_000 });
      expect(check.signal).toBeNull();
      const diagnostics = JSON.parse(check.stdout).diagnostics as { rule: string; file: string; message: string }[];
      expect(diagnostics.find((d) => d.file === "secrets/production.enc.yaml"), kind).toMatchObject({ rule: "unencrypted-secrets-file" });
      const resolver = createResolver({ environment: "production", root: s.repo, identities: alice.identity, env: {} });
      const outcome = await Promise.race([resolver.then(() => "resolved", (e: { code?: string }) => e.code), new Promise((r) => setTimeout(() => r("hung"), 10_000))]);
      expect(outcome, kind).toBe("NOT_A_FILE");
    }
    // stellar.yaml itself: not a project file (the search for the project root wants a regular file)
    rmSync(join(s.repo, "stellar.yaml"));
    execFileSync("mkfifo", [join(s.repo, "stellar.yaml")]);
    const r = await s.run(["list"], { timeoutMs: 20_000 });
    expect(r.signal, "list hung on a FIFO stellar.yaml").toBeNull();
    expect(r.stderr).toContain("NO_PROJECT");
  });
});

describe("export --format dotenv", () => {
  it("writes values that dotenv and node --env-file both read back exactly", async () => {
    const { s } = await project();
    const values: Record<string, string> = {
      double_quotes: 'say "hi" to "them"',
      single_quote: "it's here",
      both_quotes: `it's "quoted"`,
      dollar_signs: "$HOME ${PATH} $(id) `id`",
      backslashes: "C:\\path\\to\\n\\file\\",
      newlines: "line one\nline two\n\nline four",
      pem_key: "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----\n",
      hash_and_spaces: "  value # not a comment  ",
      json_blob: '{"a": "b\\"c", "d": [1, 2]}',
    };
    for (const [name, value] of Object.entries(values)) {
      const file = join(s.dir, `${name}.txt`);
      writeFileSync(file, value);
      const r = await s.run(["set", name, "--env", "development", "--from-file", file]);
      expect(r.code, r.stderr).toBe(0);
    }
    const r = await s.run(["export", "--env", "development"]);
    expect(r.code, r.stderr).toBe(0);
    const expected = Object.fromEntries(Object.entries(values).map(([k, v]) => [k.toUpperCase(), v]));
    expect(dotenv.parse(r.stdout)).toEqual(expected);
    const envFile = join(s.dir, "exported.env");
    writeFileSync(envFile, r.stdout);
    const names = JSON.stringify(Object.keys(expected));
    const fromNode = execFileSync(process.execPath, [`--env-file=${envFile}`, "-e", `process.stdout.write(JSON.stringify(Object.fromEntries(${names}.map((k) => [k, process.env[k]]))))`], {
      env: { PATH: process.env.PATH ?? "" },
      encoding: "utf8",
    });
    expect(JSON.parse(fromNode)).toEqual(expected);
  });

  it("refuses a value that no quoting reads back (UNREPRESENTABLE_VALUE), writing nothing", async () => {
    const { s } = await project();
    const file = join(s.dir, "v.txt");
    writeFileSync(file, `all three ' " \` quotes`);
    expect((await s.run(["set", "odd_value", "--env", "development", "--from-file", file])).code).toBe(0);
    const r = await s.run(["export", "--env", "development"]);
    expect(r.code).toBe(18);
    expect(r.stderr).toContain("UNREPRESENTABLE_VALUE");
    expect(r.stderr).toContain("odd_value");
    expect(r.stdout).toBe("");
    expect(r.stderr).not.toContain("quotes");
  });
});

describe("export for a shell", () => {
  it("--format shell, and dotenv for values without ', give a POSIX shell exactly each value and run nothing", async () => {
    const { s } = await project();
    const marker = join(s.dir, "ran");
    const values: Record<string, string> = {
      command_substitution: `a$(touch ${marker}1)b`,
      backticks: `a\`touch ${marker}2\`b`,
      parameters: "${HOME} $1 $$ $PATH",
      quote_and_command: `it's $(touch ${marker}3) "q" \\`,
      all_quotes: `touch ${marker}4 "" '' \``,
      line_breaks: "one\ntwo's\r\n\tthree\n",
      unicode: "é 𝄞 \u2028 \u00a0 ! !! !-1",
    };
    for (const [name, value] of Object.entries(values)) {
      const file = join(s.dir, `${name}.txt`);
      writeFileSync(file, value);
      const r = await s.run(["set", name, "--env", "development", "--from-file", file]);
      expect(r.code, r.stderr).toBe(0);
    }
    const names = Object.keys(values);
    const readBack = (script: string, shell: string): Record<string, string> => {
      const file = join(s.dir, "exported.sh");
      writeFileSync(file, script);
      const print = `node -e 'process.stdout.write(JSON.stringify(Object.fromEntries(${JSON.stringify(names.map((n) => n.toUpperCase()))}.map((k) => [k.toLowerCase(), process.env[k]]))))'`;
      return JSON.parse(execFileSync(shell, ["-c", `set -a; . "${file}"; ${print}`], { env: { PATH: process.env.PATH ?? "" }, encoding: "utf8" })) as Record<string, string>;
    };
    const shell = await s.run(["export", "--env", "development", "--format", "shell"]);
    expect(shell.code, shell.stderr).toBe(0);
    expect(shell.stdout.split("\n")[0]).toMatch(/^export ALL_QUOTES='/);
    const dotenvSafe = ["command_substitution", "backticks", "parameters"];
    const dotenvOut = await s.run(["export", "--env", "development", "--only", dotenvSafe.join(",")]);
    expect(dotenvOut.code, dotenvOut.stderr).toBe(0);
    for (const sh of ["sh", "bash"]) {
      expect(readBack(shell.stdout, sh), sh).toEqual(values);
      const fromDotenv = readBack(dotenvOut.stdout, sh);
      for (const name of dotenvSafe) expect(fromDotenv[name], `${sh} ${name}`).toBe(values[name]);
    }
    expect(dotenv.parse(dotenvOut.stdout)).toEqual(Object.fromEntries(dotenvSafe.map((n) => [n.toUpperCase(), values[n]])));
    for (const i of [1, 2, 3, 4]) expect(existsSync(`${marker}${i}`), `${marker}${i}`).toBe(false);

    // a secret named node_options would load code into every node that sources (or --env-file reads) the output
    const file = join(s.dir, "node_options.txt");
    writeFileSync(file, `--import=data:text/javascript,${encodeURIComponent(`import("node:fs").then((fs) => fs.writeFileSync(${JSON.stringify(`${marker}5`)}, ""))`)}`);
    expect((await s.run(["set", "node_options", "--env", "development", "--from-file", file])).code).toBe(0);
    for (const format of ["dotenv", "shell"]) {
      const refused = await s.run(["export", "--env", "development", "--format", format]);
      expect(refused.code, format).toBe(21);
      expect(refused.stderr, format).toContain("STARTUP_VARIABLE");
      expect(refused.stdout, format).toBe("");
      const allowed = await s.run(["export", "--env", "development", "--format", format, "--only", "node_options", "--allow-startup-variables"]);
      expect(allowed.stdout, format).toMatch(/^(export )?NODE_OPTIONS=["']--import=data:/);
    }
  });
});

describe("edit on an environment with no values", () => {
  it("opens an empty document to which a line can be appended", async () => {
    const { s } = await project();
    const editor = join(s.dir, "append.mjs");
    writeFileSync(editor, `import { appendFileSync, readFileSync } from "node:fs";
const file = process.argv[2];
if (readFileSync(file, "utf8").includes("{}")) process.exit(5);
appendFileSync(file, "new_api_key: appended-value\\n");\n`);
    const r = await s.run(["edit", "--env", "development", "--json"], { env: { EDITOR: `${process.execPath} ${editor}` } });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).added).toEqual(["new_api_key"]);
    expect((await s.run(["get", "new_api_key", "--env", "development"])).stdout).toBe("appended-value");
  });
});

describe("the hidden prompt and a multi-line paste", () => {
  it("refuses the paste whole (INVALID_VALUE, pointing to --from-file) and stores nothing", async () => {
    const { s } = await project();
    const session = await runInPty(s, ["set", "tls_private_key", "--env", "development"], [
      { waitFor: "Value for tls_private_key", send: "-----BEGIN PRIVATE KEY-----\rMIIBVQIBADANBgkqhkiG9w0B\r-----END PRIVATE KEY-----\r" },
    ]);
    expect(session.code).toBe(18);
    expect(session.output).toContain("INVALID_VALUE");
    expect(session.output).toContain("--from-file");
    expect(session.output).not.toContain("created");
    expect(session.output).not.toContain("MIIBVQ");
    const list = JSON.parse((await s.run(["list", "--json"])).stdout);
    expect(list.secrets).toEqual([]);
  });
});

describe("consistent exits", () => {
  it("rename of a name set nowhere is UNKNOWN_SECRET (exit 4); a mistyped command or flag names the nearest one", async () => {
    const { s } = await project();
    const rename = await s.run(["rename", "no_such_secret", "other_name"]);
    expect(rename.code).toBe(4);
    expect(rename.stderr).toContain("UNKNOWN_SECRET");
    const command = await s.run(["lsit"]);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('did you mean "list"?');
    const flag = await s.run(["list", "--evn", "development"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("did you mean --env?");
    // set never echoes what was typed, so it suggests nothing either
    const hidden = await s.run(["set", "api_key", "--evn", "development"]);
    expect(hidden.code).toBe(2);
    expect(hidden.stderr).not.toContain("evn");
  });
});

describe("a closed stdout (`stellar-secrets ... | head -1`)", () => {
  it("finishes the command without a crash or a stack trace when the reader has gone (EPIPE)", async () => {
    const s = createSandbox();
    try {
      s.env.SOPS_AGE_KEY_FILE = s.keygen("alice").file;
      expect((await s.run(["init", "--env", "production"])).code).toBe(0);
      const child = spawn(process.execPath, [CLI_BIN, "--help"], { cwd: s.repo, env: s.env, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.destroy(); // the reader is gone before the CLI writes anything
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      expect(stderr).not.toContain("EPIPE");
      expect(stderr).not.toContain("Unhandled");
      expect(code).toBe(0);
    } finally {
      s.cleanup();
    }
  });
});
