import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isShallow } from "./merge-file.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("isShallow (the driver's note on a merge without a base in a shallow clone)", () => {
  it("reads `shallow` in the git directory, or in the common one a linked worktree's `commondir` names", () => {
    const d = mkdtempSync(join(tmpdir(), "shallow-"));
    dirs.push(d);
    const common = join(d, ".git");
    const linked = join(common, "worktrees", "wt");
    mkdirSync(linked, { recursive: true });
    writeFileSync(join(linked, "commondir"), "../..\n");
    expect([isShallow(common), isShallow(linked)]).toEqual([false, false]);
    writeFileSync(join(common, "shallow"), `${"a".repeat(40)}\n`);
    expect([isShallow(common), isShallow(linked)]).toEqual([true, true]);
    // no git directory at all: false, never a throw
    expect(isShallow(join(d, "nowhere"))).toBe(false);
  });
});
