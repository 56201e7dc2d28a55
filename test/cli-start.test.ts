// The commands that only read names (`check`, `list`) must not load node:crypto (a few milliseconds
// of every start, docs/performance.md "CLI start"): the modules they bundle take node:crypto's
// functions from @stellar-secrets/sops, which loads it on first use. Run as the installed bin runs
// (the bundle), on this repository's own example organisation. And `check` in a repository whose
// objects are loose (what `git commit` writes) reads them without git and without node:zlib
// (packages/git/src/inflate.ts), which would load node's stream code.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { assertBuilt, createSandbox } from "./helpers/cli.js";

const root = join(import.meta.dirname, "..");
const bin = join(root, "packages/cli/bin/stellar-secrets.js");
const dir = mkdtempSync(join(tmpdir(), "cli-start-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The built-in modules a run of `args` (in `cwd`, with `env`) loaded (process.moduleLoadList at exit). */
function builtinsLoadedBy(args: string[], cwd = root, env: Record<string, string | undefined> = { PATH: process.env.PATH, HOME: dir }): string[] {
  const out = join(dir, `${args[0]}.txt`);
  const preload = join(dir, "record.cjs");
  writeFileSync(preload, `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(out)}, process.moduleLoadList.join("\\n")));\n`);
  try {
    execFileSync(process.execPath, ["-r", preload, bin, ...args], { cwd, env, stdio: "pipe" });
  } catch (e) {
    if ((e as { status?: number }).status !== 1) throw e; // check: 1 when it reports errors
  }
  return readFileSync(out, "utf8").split("\n");
}

describe("the start of the commands that only read names", () => {
  assertBuilt();
  it.each([["check"], ["list"]])("`%s` never loads node:crypto", (command) => {
    const loaded = builtinsLoadedBy([command]);
    expect(loaded).toContain("NativeModule fs"); // the list was recorded
    expect(loaded.filter((m) => m === "NativeModule crypto" || m.startsWith("NativeModule internal/crypto/"))).toEqual([]);
  });
});

describe("`check` in a repository of loose objects", () => {
  it("reads the committed environment files without git and without node:zlib", () => {
    const s = createSandbox();
    try {
      // the example organisation, committed: every object is loose (about 10 KB of them, the
      // environment files a few KB each)
      for (const path of ["stellar.yaml", "secrets", "agents", "connections", "connectors"]) cpSync(join(root, path), join(s.repo, path), { recursive: true });
      s.commit("the example organisation");
      // no rotation policy: rotation-overdue reads the history with `git log`
      s.write("secrets/catalog.yaml", s.read("secrets/catalog.yaml").replace(/^ *rotate_every:.*\n/gm, ""));
      s.commit("a second commit: HEAD's parent is read too");
      expect(s.git(["count-objects", "-v"])).toMatch(/^in-pack: 0$/m);
      const loaded = builtinsLoadedBy(["check"], s.repo, s.env);
      expect(loaded).toContain("NativeModule fs"); // the list was recorded
      // no git process (node:child_process loads when git first runs), so the loose objects were read
      expect(loaded.filter((m) => m === "NativeModule child_process" || m === "NativeModule zlib")).toEqual([]);
    } finally {
      s.cleanup();
    }
  });
});

describe("`check` outside every git repository", () => {
  assertBuilt();
  it("starts no git process, with a rotation policy in the catalog too (git would only say \"not a git repository\")", () => {
    const folder = mkdtempSync(join(tmpdir(), "cli-start-nogit-"));
    try {
      for (const path of ["stellar.yaml", "secrets", "agents", "connections", "connectors"]) cpSync(join(root, path), join(folder, path), { recursive: true });
      expect(readFileSync(join(folder, "secrets/catalog.yaml"), "utf8")).toMatch(/rotate_every:/);
      const loaded = builtinsLoadedBy(["check"], folder);
      expect(loaded).toContain("NativeModule fs");
      expect(loaded.filter((m) => m === "NativeModule child_process")).toEqual([]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

/**
 * Runs `node -r preload bin args` in a pseudo-terminal (python3's pty module: stdin, stdout and
 * stderr a terminal, as in an interactive shell) and returns what the terminal showed and the
 * built-in modules the run loaded.
 */
function inTerminal(args: string[], cwd: string, env: Record<string, string | undefined>): { shown: string; loaded: string[] } {
  const out = join(dir, `tty-${args[0]}.txt`);
  const preload = join(dir, "record-tty.cjs");
  writeFileSync(preload, `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(out)}, process.moduleLoadList.join("\\n")));\n`);
  const argv = [process.execPath, "-r", preload, ...(args[0] === "-e" ? [] : [bin]), ...args];
  const shown = execFileSync("python3", ["-c", "import pty, sys; pty.spawn(sys.argv[1:])", ...argv], { cwd, env, encoding: "utf8" });
  return { shown, loaded: readFileSync(out, "utf8").split("\n") };
}

describe("a command writing to a terminal", () => {
  assertBuilt();
  it("writes to it without node's terminal stream (no net or stream code loaded); `get` still ends the value with a newline there", async () => {
    const s = createSandbox();
    try {
      expect((await s.run(["init", "--env", "development"])).code).toBe(0);
      expect((await s.run(["set", "api_key", "--env", "development", "--from-stdin"], { input: "tty-value-1" })).code).toBe(0);
      const env = { ...s.env, TERM: "dumb" };
      const get = inTerminal(["get", "api_key", "--env", "development"], s.repo, env);
      expect(get.loaded).toContain("NativeModule fs"); // the list was recorded
      expect(get.shown).toBe("tty-value-1\r\n"); // the terminal's newline: isTTY was true
      expect(get.loaded.filter((m) => /^NativeModule (net|tty|internal\/streams\/.*)$/.test(m) && m !== "NativeModule internal/streams/lazy_transform")).toEqual(
        // node:crypto's cipher code loads the stream code itself; node:tty answers isTTY (get asks)
        expect.arrayContaining(["NativeModule tty"]),
      );
      // what a bare node loads in the same terminal is not the command's doing
      const bare = new Set(inTerminal(["-e", "0"], s.repo, env).loaded);
      expect(bare.size).toBeGreaterThan(10);
      for (const command of ["list", "check"]) {
        const r = inTerminal([command], s.repo, env);
        expect(r.shown).toMatch(command === "list" ? /api_key/ : /no problems|warning/);
        expect(r.loaded.filter((m) => !bare.has(m) && /^NativeModule (net|tty|stream|internal\/streams\/.*)$/.test(m))).toEqual([]);
      }
    } finally {
      s.cleanup();
    }
  });
});
