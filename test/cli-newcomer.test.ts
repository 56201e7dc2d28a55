/**
 * A newcomer's first minutes with the installed CLI, as the docs describe them (docs/cli.md's
 * opening and "Access" paragraphs): the global options, and the suggestion for a word typed
 * where a command or sub-command belongs. The CLI runs as a child process.
 */
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI_BIN, createSandbox, REPO_ROOT, sandboxesCleanedAfterEach } from "./helpers/cli.js";

const sandboxes = sandboxesCleanedAfterEach();
const sandbox = () => {
  const s = createSandbox();
  sandboxes.push(s);
  return s;
};
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, "packages/core/package.json"), "utf8")) as { version: string }).version;

describe("global options", () => {
  it("--help names --version and help COMMAND; --version and -V print the version", async () => {
    const s = sandbox();
    const help = await s.run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^ {2}-V, --version {2}/m);
    expect(help.stdout).toMatch(/^ {2}-h, --help {5}.*stellar-secrets help COMMAND/m);
    for (const flag of ["--version", "-V"]) {
      const r = await s.run([flag]);
      expect([r.code, r.stdout, r.stderr], flag).toEqual([0, `${VERSION}\n`, ""]);
    }
    const bare = await s.run([]);
    expect([bare.code, bare.stdout]).toEqual([2, help.stdout]);
    const helpGet = await s.run(["help", "get"]);
    expect([helpGet.code, helpGet.stdout]).toEqual([0, (await s.run(["get", "--help"])).stdout]);
  });
});

describe("a word typed where a command belongs", () => {
  const suggested = async (args: string[]) => {
    const r = await sandbox().run(args);
    expect(r.code, args.join(" ")).toBe(2);
    expect(r.stdout).toBe("");
    return r.stderr;
  };

  it("unset, delete, remove and del name rm, never set (one letter from unset, the opposite)", async () => {
    for (const word of ["unset", "delete", "remove", "del", "Unset"]) {
      const stderr = await suggested([word, "stripe_api_key"]);
      expect(stderr, word).toContain(`stellar-secrets: UNKNOWN_COMMAND: unknown command "${word}"; did you mean "rm"?`);
      expect(stderr, word).toContain("hint: run `stellar-secrets rm --help`");
      expect(stderr, word).not.toContain('did you mean "set"');
    }
  });

  it("names list for ls, get for show, set for put, rename for mv, check for lint, exec for run", async () => {
    for (const [word, command] of [["ls", "list"], ["show", "get"], ["put", "set"], ["mv", "rename"], ["lint", "check"], ["run", "exec"]] as const) {
      expect(await suggested([word]), word).toContain(`unknown command "${word}"; did you mean "${command}"?`);
    }
  });

  it("help of an unknown command is that command's error, with its suggestion", async () => {
    const stderr = await suggested(["help", "unset"]);
    expect(stderr).toContain('stellar-secrets: UNKNOWN_COMMAND: unknown command "unset"; did you mean "rm"?');
    expect(await suggested(["help", "lsit"])).toContain('unknown command "lsit"; did you mean "list"?');
  });

  it("version and -v name the --version option", async () => {
    for (const word of ["version", "-v"]) {
      const stderr = await suggested([word]);
      expect(stderr, word).toContain(`unknown command "${word}"; did you mean "--version"?`);
      expect(stderr, word).toContain("hint: run `stellar-secrets --version`");
    }
  });

  it("an option before the command says that options go after it, naming the command found later", async () => {
    const r = await sandbox().run(["--env", "development", "get", "stripe_api_key"]);
    expect([r.code, r.stderr]).toEqual([
      2,
      'stellar-secrets: UNKNOWN_COMMAND: unknown command "--env": options go after the command (stellar-secrets get [options])\n  hint: put --env after get; `stellar-secrets get --help` lists its options\n',
    ]);
    // no command later: as before
    expect(await suggested(["--verbose"])).toContain('unknown command "--verbose"\n  hint: run `stellar-secrets --help` to see the commands');
  });

  it("a mistyped command still names the nearest one, and a word near none names none", async () => {
    expect(await suggested(["lsit"])).toContain('unknown command "lsit"; did you mean "list"?');
    const none = await suggested(["frobnicate"]);
    expect(none).toContain('unknown command "frobnicate"\n');
    expect(none).not.toContain("did you mean");
  });

  it("a mistyped sub-command of members or inbox names the nearest one; members remove is members rm", async () => {
    const s = sandbox();
    expect((await s.run(["init", "--env", "development", "--member", "alice"])).code).toBe(0);
    const members = await s.run(["members", "lst"]);
    expect(members.code).toBe(2);
    expect(members.stderr).toContain('stellar-secrets: USAGE: members: unknown sub-command "lst"; did you mean "list"?');
    const inbox = await s.run(["inbox", "aply", "--env", "development"]);
    expect(inbox.code).toBe(2);
    expect(inbox.stderr).toContain('stellar-secrets: USAGE: inbox: unknown sub-command "aply"; did you mean "apply"?');
    const missing = await s.run(["members"]);
    expect([missing.code, missing.stderr.split("\n")[0]]).toEqual([2, "stellar-secrets: USAGE: members: missing sub-command"]);
    // remove is rm: the last member is refused as rm refuses it
    const remove = await s.run(["members", "remove", "alice"]);
    expect(remove.stderr).toMatch(/^stellar-secrets: LAST_MEMBER: /);
    expect(remove.code).toBe(20);
  });
});

describe("a path typed in Windows form", () => {
  const WINDOWS = "the path is written as a Windows path: on this system a backslash is part of a file name";

  it("a file not found says the path is a Windows path (--from-file, check PATH, probe --ca, git setup --signing --key)", async () => {
    const s = sandbox();
    const alice = s.keygen("alice");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "development"])).code).toBe(0);
    const fromFile = await s.run(["set", "tls_key", "--env", "development", "--from-file", "C:\\Users\\alice\\key.pem"]);
    expect([fromFile.code, fromFile.stderr.split("\n")[0]]).toEqual([4, `stellar-secrets: NOT_FOUND: --from-file: no such file ${join(s.repo, "C:\\Users\\alice\\key.pem")}`]);
    expect(fromFile.stderr).toContain(`hint: ${WINDOWS}`);
    const check = await s.run(["check", ".\\connectors"]);
    expect([check.code, check.stderr]).toEqual([4, expect.stringContaining(`check: .\\connectors does not exist\n  hint: ${WINDOWS}`)]);
    const ca = await s.run(["probe", "--env", "development", "--ca", "C:/certs/ca.pem"]);
    expect([ca.code, ca.stderr]).toEqual([25, expect.stringContaining(`hint: ${WINDOWS}`)]);
    const key = await s.run(["git", "setup", "--signing", "--key", "C:\\Users\\alice\\.ssh\\id_ed25519.pub"]);
    expect([key.code, key.stderr]).toEqual([19, expect.stringContaining(`hint: ${WINDOWS}`)]);
    // a path that is not written so keeps its own hint
    const plain = await s.run(["check", "connectorz"]);
    expect(plain.stderr).toContain("hint: pass a folder or file inside a Stellar Secrets repository");
    expect(plain.stderr).not.toContain("Windows");
  });

  it("init --secrets-dir written as a Windows path says so (it was only 'must be a folder inside the repository')", async () => {
    const s = sandbox();
    s.env.SOPS_AGE_KEY_FILE = s.keygen("alice").file;
    const r = await s.run(["init", "--env", "development", "--secrets-dir", "infra\\secrets"]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining(`must be a folder inside the repository, relative to it (no .., not the root itself)\n  hint: ${WINDOWS}`)]);
    expect(r.stderr).toContain("e.g. --secrets-dir infra/secrets");
    expect(existsSync(join(s.repo, "stellar.yaml"))).toBe(false);
  });

  it("--from-file never repeats a path that looks like a credential, Windows-like or not", async () => {
    const s = sandbox();
    const alice = s.keygen("alice");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "development"])).code).toBe(0);
    const token = "ghp_R8x2Lq9ZtV4mN7cK1pW3sY6uB0eH5jD8fG2a";
    const r = await s.run(["set", "gh_token", "--env", "development", "--from-file", `x\\${token}`]);
    expect(r.code).toBe(4);
    expect(r.stderr).not.toContain(token);
  });

  it("keygen refuses a Windows SOPS_AGE_KEY_FILE (it would write the private key under the current folder) and probe a Windows --audit-log", async () => {
    const s = sandbox();
    const before = readdirSync(s.repo).sort();
    for (const variable of ["SOPS_AGE_KEY_FILE", "SOPS_AGE_SSH_PRIVATE_KEY_FILE"]) {
      const r = await s.run(variable === "SOPS_AGE_KEY_FILE" ? ["keygen"] : ["keygen", "--ssh"], { env: { [variable]: "C:\\Users\\alice\\keys.txt" } });
      expect(r.code, variable).toBe(2);
      expect(r.stderr, variable).toContain(`stellar-secrets: USAGE: keygen: ${variable} is "C:\\\\Users\\\\alice\\\\keys.txt", a Windows path`);
      expect(r.stderr, variable).toContain(`hint: ${WINDOWS}`);
      expect(readdirSync(s.repo).sort(), variable).toEqual(before);
    }
    const alice = s.keygen("alice");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "development"])).code).toBe(0);
    const written = readdirSync(s.repo).sort();
    for (const [args, env] of [
      [["probe", "--env", "development", "--audit-log", "C:\\logs\\probe.jsonl"], {}],
      [["probe", "--env", "development"], { STELLAR_SECRETS_AUDIT_LOG: "C:\\logs\\probe.jsonl" }],
    ] as const) {
      const r = await s.run([...args], { env });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^stellar-secrets: USAGE: probe: (--audit-log|STELLAR_SECRETS_AUDIT_LOG) C:\\logs\\probe\.jsonl would create a file of that name in /);
      expect(readdirSync(s.repo).sort()).toEqual(written);
    }
  });
});

describe("a file this user cannot write", () => {
  // root writes anywhere: as root, the CLI runs as nobody (setpriv) over a sandbox opened to it
  const uid = process.getuid?.() ?? -1;
  const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));
  it.skipIf(uid === 0 && setpriv === undefined)("set in a read-only secrets folder: IO_ERROR (exit 16) naming the lock file, with a hint on permissions", async () => {
    const s = sandbox();
    const alice = s.keygen("alice");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "development"])).code).toBe(0);
    expect((await s.run(["set", "a_key", "--env", "development", "--from-stdin"], { input: "v" })).code).toBe(0);
    const secrets = join(s.repo, "secrets");
    chmodSync(secrets, 0o555);
    try {
      let r: { code: number | null; stderr: string };
      if (uid !== 0) {
        r = await s.run(["set", "b_key", "--env", "development", "--from-stdin"], { input: "w" });
      } else {
        for (const p of [s.dir, s.repo, join(s.dir, "keys")]) chmodSync(p, 0o755);
        chmodSync(alice.file, 0o644); // a TEST-ONLY key in a temp folder
        r = await new Promise((done) => {
          const child = execFile(setpriv as string, ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, CLI_BIN, "set", "b_key", "--env", "development", "--from-stdin"], { cwd: s.repo, env: s.env }, (error, _out, stderr) =>
            done({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), stderr }),
          );
          child.stdin?.end("w");
        });
      }
      expect(r.code).toBe(16);
      expect(r.stderr).toBe(
        `stellar-secrets: IO_ERROR: ${join(secrets, "development.enc.yaml.lock")}: taking the lock failed (EACCES)\n` +
          "  hint: permission denied: the user running stellar-secrets cannot write (or read) the file or its folder, where writes also create a lock file and a temp file; check their owner and mode (`ls -ld`), or run as a user who can write there\n",
      );
    } finally {
      chmodSync(secrets, 0o755);
    }
  });
});

describe("a command of one environment given none or several", () => {
  it("get, exec, export and edit say --env is required (or give exactly one) and name the environments", async () => {
    const s = sandbox();
    const alice = s.keygen("alice");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "development,production"])).code).toBe(0);
    for (const [command, args] of [["get", ["get", "a_key"]], ["exec", ["exec", "--", "true"]], ["export", ["export"]], ["edit", ["edit"]]] as const) {
      const none = await s.run([...args]);
      expect([none.code, none.stderr], command).toEqual([2, `stellar-secrets: USAGE: ${command}: --env is required\n  hint: name one environment: development, production\n`]);
      const two = await s.run([...args.slice(0, command === "exec" ? 1 : args.length), "--env", "development,production", ...(command === "exec" ? ["--", "true"] : [])]);
      expect([two.code, two.stderr], command).toEqual([2, `stellar-secrets: USAGE: ${command}: give exactly one --env\n  hint: name one environment: development, production\n`]);
    }
  });
});

describe("members add with its name but no key", () => {
  it("says the key is missing, not the name", async () => {
    const s = sandbox();
    const alice = s.keygen("alice");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "development"])).code).toBe(0);
    const r = await s.run(["members", "add", "bob", "--env", "development"]);
    expect([r.code, r.stderr.split("\n")[0]]).toEqual([2, "stellar-secrets: USAGE: members add: missing AGE_PUBLIC_KEY"]);
  });
});

describe("no git on PATH", () => {
  it("history, review and git setup in a git repository say that git is missing, not that there is no repository (and git init would not run)", async () => {
    const s = sandbox();
    const alice = s.keygen("alice");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "development"])).code).toBe(0);
    s.commit("init");
    const bin = join(s.dir, "bin-without-git");
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, "node"));
    for (const [args, why] of [
      [["history"], "history comes from git commits"],
      [["review", "HEAD"], "review compares git commits"],
      [["git", "setup"], "git setup configures a git repository"],
    ] as const) {
      const r = await s.run([...args], { env: { PATH: bin } });
      expect([r.code, r.stderr], args.join(" ")).toEqual([
        22,
        `stellar-secrets: GIT_ERROR: git is not installed (no \`git\` on PATH), and ${why}\n  hint: install git (e.g. \`apt-get install git\`, \`brew install git\`) or put it on PATH, then run the command again\n`,
      ]);
    }
    // with git, a project in no repository: as before
    const t = createSandbox({ gitInit: false });
    sandboxes.push(t);
    t.env.SOPS_AGE_KEY_FILE = t.keygen("alice").file;
    expect((await t.run(["init", "--env", "development"])).code).toBe(0);
    const outside = await t.run(["history"]);
    expect([outside.code, outside.stderr.split("\n")[0]]).toEqual([22, `stellar-secrets: GIT_ERROR: ${t.repo} is not inside a git repository; history comes from git commits`]);
    // access said "history comes from git commits" too, which is not what it reads there
    const access = await t.run(["access"]);
    expect([access.code, access.stderr.split("\n")[0]]).toEqual([
      22,
      `stellar-secrets: GIT_ERROR: ${t.repo} is not inside a git repository; access reads when each member last committed and when each data key was last rotated from git commits`,
    ]);
  });
});

describe("a sops user whose key comes from SOPS_AGE_KEY_CMD", () => {
  it("is told the command is not run and how to pass its key, before being told to make a new key (get, whoami)", async () => {
    const s = sandbox();
    const alice = s.keygen("alice");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "development"])).code).toBe(0);
    expect((await s.run(["set", "a_key", "--env", "development", "--from-stdin"], { input: "v" })).code).toBe(0);
    const cmd = { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_KEY_CMD: `cat ${alice.file}` };
    const get = await s.run(["get", "a_key", "--env", "development"], { env: cmd });
    expect(get.code).toBe(10);
    expect(get.stderr).toContain("SOPS_AGE_KEY_CMD (set, not run: no command is run for a key))");
    expect(get.stderr).toContain('  hint: SOPS_AGE_KEY_CMD is set, but stellar-secrets runs no command for a key (sops 3.10+ does); pass what it prints instead: SOPS_AGE_KEY="$(…)"; no key yet:');
    const whoami = await s.run(["whoami"], { env: cmd });
    expect(whoami.stdout).toContain('warning: SOPS_AGE_KEY_CMD is set, but stellar-secrets runs no command for a key');
    // as it says: its output in SOPS_AGE_KEY opens the file
    const passed = await s.run(["get", "a_key", "--env", "development"], { env: { ...cmd, SOPS_AGE_KEY: readFileSync(alice.file, "utf8") } });
    expect([passed.code, passed.stdout]).toEqual([0, "v"]);
  });
});

describe("a key file that gives no key (a typo in SOPS_AGE_KEY_FILE)", () => {
  it("leads NO_IDENTITY's and NO_MATCHING_IDENTITY's hint, and is a warning when another key decrypts", async () => {
    const s = sandbox();
    const alice = s.keygen("alice");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "development,production"])).code).toBe(0);
    expect((await s.run(["set", "a_key", "--env", "development", "--from-stdin"], { input: "v" })).code).toBe(0);
    const typo = join(s.dir, "keys", "alcie.txt");
    const alone = await s.run(["get", "a_key", "--env", "development"], { env: { SOPS_AGE_KEY_FILE: typo } });
    expect(alone.code).toBe(10);
    expect(alone.stderr.split("\n")[1]).toBe(`  hint: SOPS_AGE_KEY_FILE=${typo}: file not found: point SOPS_AGE_KEY_FILE at your key file, or unset it; no key yet: \`stellar-secrets keygen\` makes one, then \`stellar-secrets request-access --env development\` asks for access in a pull request; a key you already have: set SOPS_AGE_KEY_FILE to your age key file, or put it in the sops default key file; this file's recipients are: ${alice.recipient}`);
    // another key of this user (the sops default key file) that is no member: the typo first, then how to ask
    const bob = s.keygen("bob");
    mkdirSync(join(s.home, ".config", "sops", "age"), { recursive: true });
    writeFileSync(s.defaultKeyFile, readFileSync(bob.file), { mode: 0o600 });
    const other = await s.run(["get", "a_key", "--env", "development"], { env: { SOPS_AGE_KEY_FILE: typo } });
    expect(other.code).toBe(10);
    expect(other.stderr.split("\n")[0]).toMatch(/^stellar-secrets: NO_MATCHING_IDENTITY: you \(/);
    expect(other.stderr.split("\n")[1]).toMatch(new RegExp(`^  hint: SOPS_AGE_KEY_FILE=${typo.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: file not found: point SOPS_AGE_KEY_FILE at your key file, or unset it; ask for access in a pull request`));
    // the default key file opens it: the value, and one warning (it was silent: the typo stayed hidden until that key went)
    writeFileSync(s.defaultKeyFile, readFileSync(alice.file), { mode: 0o600 });
    const hidden = await s.run(["get", "a_key", "--env", "development"], { env: { SOPS_AGE_KEY_FILE: typo } });
    expect([hidden.code, hidden.stdout, hidden.stderr]).toEqual([0, "v", `warning: SOPS_AGE_KEY_FILE=${typo}: file not found: point SOPS_AGE_KEY_FILE at your key file, or unset it (another of your keys decrypted secrets/development.enc.yaml)\n`]);
    const fine = await s.run(["get", "a_key", "--env", "development"], { env: { SOPS_AGE_KEY_FILE: alice.file } });
    expect([fine.code, fine.stderr]).toEqual([0, ""]);
  });

  it("set makes no proposal behind the typo (a member's value would go quietly to the inbox): nothing written, the fix first", async () => {
    const s = sandbox();
    const alice = s.keygen("alice");
    expect((await s.run(["init", "--env", "development"], { env: { SOPS_AGE_KEY_FILE: alice.file } })).code).toBe(0);
    const before = s.read("secrets/development.enc.yaml");
    const typo = join(s.dir, "keys", "alcie.txt");
    const r = await s.run(["set", "a_key", "--env", "development", "--from-stdin"], { input: "v", env: { SOPS_AGE_KEY_FILE: typo } });
    expect(r.code).toBe(10);
    expect(r.stderr.split("\n")[0]).toBe("note: nothing was written and no proposal made for development: a key file you named gives no key (below); fix it to set the value, or unset it to propose one");
    expect(r.stderr).toContain(`  hint: SOPS_AGE_KEY_FILE=${typo}: file not found: point SOPS_AGE_KEY_FILE at your key file, or unset it; `);
    expect(existsSync(join(s.repo, "secrets", "inbox"))).toBe(false);
    expect(s.read("secrets/development.enc.yaml")).toBe(before);
    // unset, the same newcomer without a key proposes, as documented
    const proposed = await s.run(["set", "a_key", "--env", "development", "--from-stdin"], { input: "v", env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(proposed.code).toBe(0);
    expect(readdirSync(join(s.repo, "secrets", "inbox", "development"))).toHaveLength(1);
  });
});

describe("no key yet, with the age tools", () => {
  it("whoami and request-access say to make the folder before age-keygen -o (which does not make it)", async () => {
    const s = sandbox();
    const alice = s.keygen("alice");
    expect((await s.run(["init", "--env", "development"], { env: { SOPS_AGE_KEY_FILE: alice.file } })).code).toBe(0);
    const whoami = await s.run(["whoami"]);
    expect(whoami.stdout).toContain("Make one with `stellar-secrets keygen` (or, with the age tools, `mkdir -p ~/.config/sops/age && age-keygen -o ~/.config/sops/age/keys.txt`).");
    const ask = await s.run(["request-access", "--env", "development"]);
    expect([ask.code, ask.stderr]).toEqual([10, "stellar-secrets: NO_IDENTITY: you have no key to ask for access with\n  hint: make one with `stellar-secrets keygen` (or, with the age tools, `mkdir -p ~/.config/sops/age && age-keygen -o ~/.config/sops/age/keys.txt`), then run this again\n"]);
  });
});

describe("a Node.js older than the engines (20.19)", () => {
  it("every command (and --json) says UNSUPPORTED, which node, and how to fix it, exit 14, before reading anything", async () => {
    const s = sandbox();
    const preload = join(s.dir, "old-node.cjs");
    writeFileSync(preload, 'Object.defineProperty(process.versions, "node", { value: "18.20.4" });\n');
    const env = { NODE_OPTIONS: `--require=${preload}` };
    const hint = "install Node.js 20.19 or newer (https://nodejs.org/, or `nvm install 20`), make it the `node` on your PATH (`node --version` says which runs), then run the command again";
    const message = `Node.js 18.20.4 (${process.execPath}) is too old: stellar-secrets needs Node.js 20.19 or newer`;
    const r = await s.run(["init", "--env", "development"], { env });
    expect([r.code, r.stdout, r.stderr]).toEqual([14, "", `stellar-secrets: UNSUPPORTED: ${message}\n  hint: ${hint}\n`]);
    expect(existsSync(join(s.repo, "stellar.yaml"))).toBe(false);
    const json = await s.run(["list", "--json"], { env });
    expect([json.code, JSON.parse(json.stderr)]).toEqual([14, { error: { code: "UNSUPPORTED", message, hint, exitStatus: 14 } }]);
    // 20.19 itself runs
    writeFileSync(preload, 'Object.defineProperty(process.versions, "node", { value: "20.19.0" });\n');
    expect((await s.run(["--version"], { env })).stdout).toBe(`${VERSION}\n`);
  });

  it("npm run demo / npm test (scripts/setup.mjs) say so before installing anything, exit 1", async () => {
    const s = sandbox();
    const preload = join(s.dir, "old-node.cjs");
    writeFileSync(preload, 'Object.defineProperty(process.versions, "node", { value: "20.18.3" });\n');
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(REPO_ROOT, "scripts/setup.mjs")], { env: { ...s.env, NODE_OPTIONS: `--require=${preload}`, PATH: "/nonexistent" } }, (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : (error as { code?: number }).code ?? null, stdout, stderr }),
      );
    });
    // PATH has no pnpm, npx or tsc: the check ran before any of them
    expect([r.code, r.stdout, r.stderr]).toEqual([
      1,
      "",
      `setup: Node.js 20.18.3 (${process.execPath}) is too old: this repository needs Node.js 20.19 or newer.\n  hint: install Node.js 20.19 or newer (https://nodejs.org/, or \`nvm install 20\`), make it the \`node\` on your PATH (\`node --version\`), then run the command again\n`,
    ]);
  });
  it("setup.mjs on a Node without util.parseArgs (16, 18.0-18.2): the version check runs before any import can fail to link", async () => {
    const s = sandbox();
    // test-only stand-in for Node 16.20.2: its version, and a node:util without parseArgs (added in
    // 18.3) for the repository's own modules, so a static `import { parseArgs } from "node:util"`
    // fails to link as it does there (a SyntaxError before the first line runs)
    writeFileSync(join(s.dir, "hooks.mjs"), 'export async function resolve(specifier, context, next) {\n  if (specifier === "node:util" && context.parentURL?.startsWith("file:")) return { url: "data:text/javascript,export const inspect = () => \'\';", shortCircuit: true };\n  return next(specifier, context);\n}\n');
    writeFileSync(join(s.dir, "old-node.mjs"), 'import { register } from "node:module";\nObject.defineProperty(process.versions, "node", { value: "16.20.2" });\nregister("./hooks.mjs", import.meta.url);\n');
    const run = (script: string) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [script], { env: { ...s.env, NODE_OPTIONS: `--import=${join(s.dir, "old-node.mjs")}`, PATH: "/nonexistent" } }, (error, stdout, stderr) =>
          resolve({ code: error === null ? 0 : (error as { code?: number }).code ?? null, stdout, stderr }),
        );
      });
    // the stand-in is faithful: a script that imports parseArgs statically stops before its first line
    writeFileSync(join(s.dir, "static.mjs"), 'import { parseArgs } from "node:util";\nconsole.log("ran", typeof parseArgs);\n');
    const broken = await run(join(s.dir, "static.mjs"));
    expect([broken.code, broken.stdout]).toEqual([1, ""]);
    expect(broken.stderr).toContain("does not provide an export named 'parseArgs'");
    const r = await run(join(REPO_ROOT, "scripts/setup.mjs"));
    expect([r.code, r.stdout, r.stderr]).toEqual([
      1,
      "",
      `setup: Node.js 16.20.2 (${process.execPath}) is too old: this repository needs Node.js 20.19 or newer.\n  hint: install Node.js 20.19 or newer (https://nodejs.org/, or \`nvm install 20\`), make it the \`node\` on your PATH (\`node --version\`), then run the command again\n`,
    ]);
  });
});

describe("a key file other users can read", () => {
  it("whoami warns with the chmod that fixes it (text and --json problems); 0600 and SOPS_AGE_KEY say nothing", async () => {
    const s = sandbox();
    const alice = s.keygen("alice");
    chmodSync(alice.file, 0o644);
    const text = await s.run(["whoami"], { env: { SOPS_AGE_KEY_FILE: alice.file } });
    const warning = `${alice.file} holds a private key and other users can read or change it (mode 0644): \`chmod 600 ${alice.file}\``;
    expect([text.code, text.stdout.split("\n")[2]]).toEqual([0, `warning: ${warning}`]);
    const json = await s.run(["whoami", "--json"], { env: { SOPS_AGE_KEY_FILE: alice.file } });
    expect((JSON.parse(json.stdout) as { problems: string[] }).problems).toEqual([warning]);
    chmodSync(alice.file, 0o600);
    expect((await s.run(["whoami"], { env: { SOPS_AGE_KEY_FILE: alice.file } })).stdout).not.toContain("warning:");
    expect((await s.run(["whoami"], { env: { SOPS_AGE_KEY: readFileSync(alice.file, "utf8") } })).stdout).not.toContain("warning:");
  });
});

describe("request-access in a folder that is not a git clone", () => {
  it("names you from git's global config (it said neither user.name nor email gave a name) and says to clone instead of git checkout -b", async () => {
    const alice = sandbox();
    const key = alice.keygen("alice");
    expect((await alice.run(["init", "--env", "staging"], { env: { SOPS_AGE_KEY_FILE: key.file } })).code).toBe(0);
    // bob's copy of it, no .git; his name only in his global git config
    const bob = createSandbox({ user: "bob", gitInit: false });
    sandboxes.push(bob);
    writeFileSync(join(bob.repo, "stellar.yaml"), readFileSync(join(alice.repo, "stellar.yaml")));
    mkdirSync(join(bob.repo, "secrets"));
    writeFileSync(join(bob.repo, "secrets", "staging.enc.yaml"), readFileSync(join(alice.repo, "secrets", "staging.enc.yaml")));
    writeFileSync(join(bob.home, ".gitconfig"), "[user]\n\tname = bob\n\temail = bob@example.test\n");
    const bobKey = bob.keygen("bob");
    const env = { SOPS_AGE_KEY_FILE: bobKey.file, GIT_AUTHOR_NAME: undefined, GIT_AUTHOR_EMAIL: undefined, USER: "someone" };
    const r = await bob.run(["request-access", "--env", "staging"], { env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").slice(0, 2)).toEqual([
      `requested access to staging as bob (${bobKey.recipient.slice(0, 10)}…${bobKey.recipient.slice(-6)}): stellar.yaml updated.`,
      "This grants nothing, and this folder is not in a git repository: the request reaches the team only as a pull request. Clone the secrets repository (`git clone URL`), run `stellar-secrets request-access --env staging` in the clone and push its branch.",
    ]);
    expect(r.stdout).not.toContain("git checkout -b");
    expect(readFileSync(join(bob.repo, "stellar.yaml"), "utf8")).toContain(`    pending:\n      bob:\n        key: ${bobKey.recipient}\n`);
  });
});

describe("a private key pasted where a public key belongs", () => {
  it("members add and request-access --key say it is a private key, exposed, never echoed nor stored", async () => {
    const s = sandbox();
    const alice = s.keygen("alice");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "staging"])).code).toBe(0);
    const before = s.read("stellar.yaml");
    const carol = s.keygen("carol");
    for (const [args, what] of [
      [["members", "add", "carol", readFileSync(carol.file, "utf8"), "--env", "staging"], "the key given"],
      [["request-access", "--env", "staging", "--name", "carol", "--key", carol.identity], "--key"],
    ] as const) {
      const r = await s.run([...args]);
      expect([r.code, r.stdout, r.stderr.split("\n")[0]]).toEqual([19, "", `stellar-secrets: INVALID_MEMBER: ${what} is a private key (not shown, not stored), not a public key`]);
      expect(r.stderr).toContain("is exposed (shell history, chat), so its owner makes a new key");
      expect(r.stderr).not.toContain(carol.identity.slice(16, 40));
    }
    expect(s.read("stellar.yaml")).toBe(before);
  });
});

describe("a member name stellar.yaml cannot hold", () => {
  it("members add changes no file: the environment file was re-wrapped for the key before stellar.yaml was refused (recipient-drift left behind)", async () => {
    const s = sandbox();
    const alice = s.keygen("alice");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "staging"])).code).toBe(0);
    expect((await s.run(["set", "api_key", "--env", "staging", "--from-stdin"], { input: "v1" })).code).toBe(0);
    const files = ["stellar.yaml", ".sops.yaml", "secrets/staging.enc.yaml"];
    const before = files.map((f) => s.read(f));
    const bob = s.keygen("bob");
    // a name that reads as a GitHub token: refused only when the new stellar.yaml is checked
    const token = await s.run(["members", "add", "ghp_16C7e42F292c6912E7710c838347Ae178B4a", bob.recipient, "--env", "staging"]);
    expect([token.code, token.stderr.split(":")[1]?.trim()]).toEqual([17, "INVALID_CONFIG"]);
    expect(files.map((f) => s.read(f))).toEqual(before);
    // a private key where the name belongs (the arguments swapped): said at once, never shown or stored
    for (const args of [
      ["members", "add", bob.identity, bob.recipient, "--env", "staging"],
      ["request-access", "--env", "staging", "--name", bob.identity, "--key", bob.recipient],
    ]) {
      const r = await s.run(args, { env: { SOPS_AGE_KEY_FILE: args[0] === "members" ? alice.file : bob.file } });
      const what = args[0] === "members" ? "NAME" : "--name";
      expect([r.code, r.stdout, r.stderr.split("\n")[0]]).toEqual([19, "", `stellar-secrets: INVALID_MEMBER: ${what} is a private key (not shown, not stored), not a member name`]);
      expect(r.stderr).not.toContain(bob.identity.slice(16, 40));
    }
    expect(files.map((f) => s.read(f))).toEqual(before);
    const t = sandbox();
    const init = await t.run(["init", "--env", "staging", "--member", bob.identity]);
    expect([init.code, init.stderr.split("\n")[0]]).toEqual([19, "stellar-secrets: INVALID_MEMBER: init: --member is a private key (not shown, not stored), not a member name"]);
    expect(existsSync(join(t.repo, "stellar.yaml"))).toBe(false);
  });
});

describe("keygen where a file that is no key already is", () => {
  it("says what is there (a public key, a folder, nothing) instead of pointing at whoami, and keeps it", async () => {
    const s = sandbox();
    const carol = s.keygen("carol");
    const pub = join(s.dir, "carol.pub");
    writeFileSync(pub, `${carol.recipient}\n`);
    const r = await s.run(["keygen"], { env: { SOPS_AGE_KEY_FILE: pub } });
    expect([r.code, r.stdout]).toEqual([6, ""]);
    expect(r.stderr).toBe(
      `stellar-secrets: IDENTITY_EXISTS: ${pub} already exists and holds no age key (a public key, not an age identity (the key file needs the private AGE-SECRET-KEY-1… line, not the age1… public key)); keygen never overwrites a file\n` +
        "  hint: move that file away (or point SOPS_AGE_KEY_FILE at a new file), then run `stellar-secrets keygen` again\n",
    );
    expect(readFileSync(pub, "utf8")).toBe(`${carol.recipient}\n`);
    expect((await s.run(["keygen"], { env: { SOPS_AGE_KEY_FILE: s.dir } })).stderr.split("\n")[0]).toBe(`stellar-secrets: IDENTITY_EXISTS: ${s.dir} already exists and holds no age key (it is a folder); keygen never overwrites a file`);
    // a real key: as before
    const key = await s.run(["keygen"], { env: { SOPS_AGE_KEY_FILE: carol.file } });
    expect([key.code, key.stderr.split("\n")[0]]).toEqual([6, `stellar-secrets: IDENTITY_EXISTS: ${carol.file} already exists; keygen never overwrites a key`]);
  });
});
