/**
 * The README's main job (`npm run demo` = scripts/demo.mjs) runs to the end with every step
 * ending as expected, and never touches the real HOME.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assertBuilt, REPO_ROOT } from "./helpers/cli.js";

describe("demo", () => {
  it("runs the lifecycle tour and the example-organisation checks", () => {
    assertBuilt();
    const r = spawnSync(process.execPath, [join(REPO_ROOT, "scripts/demo.mjs")], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent-home-for-demo-test" },
      timeout: 120_000,
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("$ stellar-secrets init --env development,staging,production");
    expect(r.stdout).toContain("$ printf %s 'sk_test_demo_4eC39HqLyjWDarjtT1zdp7dc' | stellar-secrets set stripe_api_key --env development,staging --from-stdin");
    expect(r.stdout).toMatch(/stripe_api_key\s+set\s+set\s+set\s+0/);
    expect(r.stdout).toContain("$ stellar-secrets check");
    expect(r.stdout).toContain("$ stellar-secrets usage stripe_api_key");
    expect(r.stdout).toContain("Demo finished: every step ended as expected.");
  });
});
