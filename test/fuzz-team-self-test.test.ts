/**
 * The team simulation's own checks (scripts/fuzz-team.mjs, docs/fuzz.md "A team in git") on a fixed
 * history, for a path its random runs seldom reach: a check that never fires proves nothing.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assertBuilt, REPO_ROOT } from "./helpers/cli.js";

describe("fuzz-team --self-test", () => {
  it("an honest members rm in an environment that keeps one value (rotationUncertain) is cleared by review --verify; a removal without a rotation made to look like one is a finding", () => {
    assertBuilt();
    const r = spawnSync(process.execPath, [join(REPO_ROOT, "scripts/fuzz-team.mjs"), "--self-test"], { encoding: "utf8", timeout: 170_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain("self-test: review main...honest (members rm, one kept value): rotationUncertain, cleared by review --verify");
    expect(r.stdout).toContain("self-test: review main...unrotated (no rotation, made to look like one): reported");
    expect(r.stdout).toMatch(/^FINDING .*review --verify of an honest branch still reports .*unrotated-removal/m);
    expect(r.stdout).toContain("self-test passed");
  }, 180_000);
});
