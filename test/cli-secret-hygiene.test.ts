/**
 * Secret hygiene, audited as an attacker (or a hurried operator) would run the tools: real CLI
 * processes and the resolver in temp repositories with test-only keys. Each test pins one path on
 * which a value or a private key reached an output, an error or a file, and fails without its fix.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { createResolver } from "../packages/resolver/src/index.js";
import { createSandbox, type AgeKey, type Sandbox, sandboxesCleanedAfterEach, aliceProject } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 120_000 });

const sandboxes = sandboxesCleanedAfterEach();

const project = (): Promise<{ s: Sandbox; alice: AgeKey }> => aliceProject(sandboxes, "development,production", [["api_key", "development", "sk_live_HYGIENE_VALUE_1"]]);

/** The identity's secret part (after the bech32 prefix): what must never be printed. */
const secretPart = (key: AgeKey): string => key.identity.slice("AGE-SECRET-KEY-1".length, "AGE-SECRET-KEY-1".length + 40);

describe("a private key given where a key file's path belongs", () => {
  it("SOPS_AGE_KEY_FILE holding the key itself is never echoed by get, list, whoami (text or --json) nor by the resolver", async () => {
    const { s, alice } = await project();
    // the CI mix-up: the key stored in SOPS_AGE_KEY_FILE instead of SOPS_AGE_KEY
    const env = { SOPS_AGE_KEY_FILE: alice.identity };
    const runs = [
      await s.run(["get", "api_key", "--env", "development"], { env }),
      await s.run(["get", "api_key", "--env", "development", "--json"], { env }),
      await s.run(["list"], { env }),
      await s.run(["whoami"], { env }),
      await s.run(["whoami", "--json"], { env }),
      await s.run(["export", "--env", "development", "--format", "json"], { env }),
    ];
    for (const r of runs) {
      expect(`${r.stdout}${r.stderr}`).not.toContain(secretPart(alice));
      expect(r.stdout).not.toContain("sk_live_HYGIENE_VALUE_1");
    }
    expect(runs[0]!.code).toBe(10); // NO_IDENTITY, as for any key that is not found
    expect(runs[0]!.stderr).toContain("SOPS_AGE_KEY_FILE (holds a private key, not a file path; not shown)");
    expect(runs[3]!.stdout).toContain("SOPS_AGE_KEY_FILE holds a private key, not the path of a key file (not shown)");
    const failure = await createResolver({ environment: "development", root: s.repo, env }).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string; hint?: string },
    );
    expect(failure?.code).toBe("NO_IDENTITY");
    expect(`${failure?.message} ${failure?.hint}`).toContain("SOPS_AGE_KEY_FILE (holds a private key, not a file path; not shown)");
    expect(`${failure?.message} ${failure?.hint}`).not.toContain(secretPart(alice));
  });

  it("keygen refuses it (USAGE) instead of creating a file or folders named after the key and printing that name", async () => {
    const { s, alice } = await project();
    const before = readdirSync(s.repo).sort();
    for (const [variable, args, value] of [
      ["SOPS_AGE_KEY_FILE", ["keygen"], alice.identity],
      ["SOPS_AGE_SSH_PRIVATE_KEY_FILE", ["keygen", "--ssh"], `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9u/ZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----\n`],
    ] as const) {
      const r = await s.run([...args], { env: { [variable]: value } });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`${variable} holds a private key, not the path of a key file (not shown)`);
      expect(`${r.stdout}${r.stderr}`).not.toContain(value.includes("OPENSSH") ? "b3BlbnNzaC1rZXktdjEAAAAABG5vbmU" : secretPart(alice));
    }
    expect(readdirSync(s.repo).sort()).toEqual(before);
    expect(existsSync(`${s.repo}/${alice.identity}`)).toBe(false);
  });
});

/** Every regular file under `dir` (recursively). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

const onPath = (program: string): boolean => {
  try {
    execFileSync("sh", ["-c", `command -v ${program}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

describe("edit with Vim or Neovim", () => {
  for (const program of ["vim", "nvim"]) {
    const have = onPath(program);
    if (!have) console.log(`skipping the ${program} edit test: ${program} is not installed`);
    it.skipIf(!have)(`a secret deleted in ${program} (its line deleted, as edit asks) leaves no copy of the value in the home folder (viminfo, ShaDa, swap)`, async () => {
      const { s } = await project();
      // a second secret: a file left with no secret at all is "no change"
      expect((await s.run(["set", "other_key", "--env", "development", "--from-stdin"], { input: "kept-value" })).code).toBe(0);
      // the editor runs with the sandbox's HOME: Vim would write ~/.viminfo, Neovim ~/.local/share/nvim/shada and ~/.local/state/nvim/swap
      const r = await s.run(["edit", "--env", "development"], { env: { EDITOR: `${program} -c "/api_key/d" -c "wq"` } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("development: deleted api_key");
      const leaks = filesUnder(s.home).filter((f) => readFileSync(f, "latin1").includes("sk_live_HYGIENE_VALUE_1"));
      expect(leaks).toEqual([]);
    });
  }
});

describe("a private key pasted where a name or a public key belongs", () => {
  it("is not echoed by an error (members rm, members approve, get), text or --json", async () => {
    const { s, alice } = await project();
    for (const args of [
      ["members", "rm", alice.identity, "--env", "development"],
      ["members", "rm", alice.identity, "--env", "development", "--json"],
      ["members", "approve", alice.identity, "--env", "development"],
      ["get", alice.identity.toLowerCase(), "--env", "development"],
    ]) {
      const r = await s.run(args);
      expect(r.code, args.join(" ")).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`.toUpperCase(), args.join(" ")).not.toContain(secretPart(alice));
    }
  });
});

describe("the editor of edit", () => {
  it("does not get SOPS_AGE_KEY (a private key) in its environment, as exec's child does not; the key file's path is kept", async () => {
    const { s, alice } = await project();
    const seen = join(s.dir, "editor-env.txt");
    const r = await s.run(["edit", "--env", "development"], {
      env: { SOPS_AGE_KEY: alice.identity, EDITOR: `sh -c 'env > "${seen}"' editor` },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("no changes to development\n");
    const env = readFileSync(seen, "utf8");
    expect(env).not.toContain("SOPS_AGE_KEY=");
    expect(env).not.toContain(secretPart(alice));
    expect(env).toContain(`SOPS_AGE_KEY_FILE=${alice.file}`);
  });
});

describe("the resolver and the private key in process.env", () => {
  it("shows no value through inspect, JSON or its errors' cause chain; the documented way to drop SOPS_AGE_KEY from the environment keeps reload() working", async () => {
    const { s, alice } = await project();
    const { inspect } = await import("node:util");
    // the documented pattern: read SOPS_AGE_KEY once, delete it, pass it as identities
    const env: Record<string, string | undefined> = { SOPS_AGE_KEY: alice.identity };
    const identities = env.SOPS_AGE_KEY as string;
    delete env.SOPS_AGE_KEY;
    const resolver = await createResolver({ environment: "development", root: s.repo, identities, env: env as NodeJS.ProcessEnv });
    expect(resolver.get("api_key")).toBe("sk_live_HYGIENE_VALUE_1");
    for (const shown of [inspect(resolver, { showHidden: true, depth: 10 }), JSON.stringify(resolver), String(resolver), JSON.stringify(resolver.status())]) {
      expect(shown).not.toContain("sk_live_HYGIENE_VALUE_1");
      expect(shown).not.toContain(secretPart(alice));
    }
    expect((await s.run(["set", "api_key", "--env", "development", "--from-stdin"], { input: "sk_live_HYGIENE_VALUE_2" })).code).toBe(0);
    const reloaded = await resolver.reload();
    expect(reloaded.ok).toBe(true);
    expect(resolver.get("api_key")).toBe("sk_live_HYGIENE_VALUE_2");
    // a header that cannot carry the value: the error and its cause chain name the secret only
    expect((await s.run(["set", "pem_value", "--env", "development", "--from-stdin", "--keep-newlines"], { input: "line-one-SECRET\nline-two-SECRET\n" })).code).toBe(0);
    await resolver.reload();
    let error: unknown;
    try {
      resolver.resolveHeaders([{ name: "X-Key", type: "secret", secret: "pem_value" }]);
    } catch (e) {
      error = e;
    }
    expect((error as { code?: string }).code).toBe("INVALID_HEADER_VALUE");
    expect(inspect(error, { depth: 10 })).not.toContain("SECRET");
    expect(JSON.stringify(error)).not.toContain("SECRET");
  });
});

describe("a value given as a secret's name", () => {
  it("set refuses it (INVALID_SECRET_NAME, exit 3) without echoing it, and writes nothing: a lower-case token was stored in clear as a name", async () => {
    const { s } = await project();
    const before = s.read("secrets/development.enc.yaml");
    for (const token of ["sk_live_51hqlyjwdarjtt1zdp7dcxyzabcdef0123456789", "sk_live_51HqLyjWDarjtT1zdp7dcXYZabcdef0123456789", "a3f9c8e7d6b5a4f3e2d1c0b9a8f7e6d5"]) {
      for (const json of [false, true]) {
        const r = await s.run(["set", token, "--env", "development", "--from-stdin", ...(json ? ["--json"] : [])], { input: "the-value" });
        expect(r.code, r.stderr).toBe(3);
        expect(r.stderr).toContain("INVALID_SECRET_NAME");
        expect(`${r.stdout}${r.stderr}`.toLowerCase()).not.toContain(token.slice(8, 30).toLowerCase());
      }
    }
    expect(s.read("secrets/development.enc.yaml")).toBe(before);
  });
});
