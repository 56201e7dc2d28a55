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
