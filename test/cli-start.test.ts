// The commands that only read names (`check`, `list`) must not load node:crypto (a few milliseconds
// of every start, docs/performance.md "CLI start"): the modules they bundle take node:crypto's
// functions from @stellar-secrets/sops, which loads it on first use. Run as the installed bin runs
// (the bundle), on this repository's own example organisation.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { assertBuilt } from "./helpers/cli.js";

const root = join(import.meta.dirname, "..");
const bin = join(root, "packages/cli/bin/stellar-secrets.js");
const dir = mkdtempSync(join(tmpdir(), "cli-start-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The built-in modules a run of `args` loaded (process.moduleLoadList at exit). */
function builtinsLoadedBy(args: string[]): string[] {
  const out = join(dir, `${args[0]}.txt`);
  const preload = join(dir, "record.cjs");
  writeFileSync(preload, `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(out)}, process.moduleLoadList.join("\\n")));\n`);
  try {
    execFileSync(process.execPath, ["-r", preload, bin, ...args], { cwd: root, env: { PATH: process.env.PATH, HOME: dir }, stdio: "pipe" });
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
