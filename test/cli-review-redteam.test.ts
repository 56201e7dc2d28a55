/**
 * Red team of `review` on real git repositories (test-only age keys made by age-keygen in each
 * sandbox): pull requests crafted by someone with push access and no environment key, each of which
 * review once passed as clean. Every run of review here is keyless; no value may appear in its output.
 */
import { mkdirSync, renameSync, symlinkSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { aliceProject, type RunResult, type Sandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

const VALUES = ["sk_live_REDteam0001aaaa", "hs_token_REDteam0002bbbb", "sk_live_REDteam0003cccc"];

interface Problem {
  kind: string;
  environment?: string;
  file?: string;
  message: string;
}

/** A project of alice's with staging and production, a connector using stripe_api_key, committed on `main`. */
async function project(): Promise<Sandbox> {
  const { s } = await aliceProject(sandboxes, "staging,production", [
    ["stripe_api_key", "staging", VALUES[0] as string],
    ["stripe_api_key", "production", VALUES[2] as string],
    ["hubspot_api_token", "production", VALUES[1] as string],
  ]);
  s.write("connectors/stripe.yaml", "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n");
  s.commit("base");
  s.git(["branch", "-M", "main"]);
  s.git(["checkout", "-q", "-b", "attack"]);
  return s;
}

/** review BASE..HEAD without any key, checked for values in its output. */
async function review(s: Sandbox, args: string[]): Promise<RunResult> {
  const r = await s.run(["review", ...args], { env: { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_KEY: undefined } });
  for (const v of VALUES) {
    expect(r.stdout).not.toContain(v);
    expect(r.stderr).not.toContain(v);
  }
  expect(r.stdout).not.toContain("AGE-SECRET-KEY");
  return r;
}

async function problemsOf(s: Sandbox, range = "main..HEAD"): Promise<{ code: number; problems: Problem[] }> {
  const r = await review(s, [range, "--json"]);
  expect([0, 1], r.stderr).toContain(r.code);
  return { code: r.code, problems: (JSON.parse(r.stdout) as { problems: Problem[] }).problems };
}

describe("review, red team", () => {
  it("flags a .sops.yaml replaced by a symbolic link to creation rules that name a non-member (plain sops reads the target)", async () => {
    const s = await project();
    const mallory = s.keygen("mallory");
    const rules = s.read(".sops.yaml").replace(/^( {4}age: .*)$/gm, `$1,${mallory.recipient}`);
    expect(rules).toContain(mallory.recipient);
    mkdirSync(join(s.repo, "docs"), { recursive: true });
    s.write("docs/sops-rules.yaml", rules);
    unlinkSync(join(s.repo, ".sops.yaml"));
    symlinkSync("docs/sops-rules.yaml", join(s.repo, ".sops.yaml"));
    s.commit("docs: move the sops rules next to the docs");
    const { code, problems } = await problemsOf(s);
    expect(code).toBe(1);
    expect(problems).toMatchObject([{ kind: "weakened-rule", file: ".sops.yaml" }]);
    expect(problems[0]?.message).toContain(".sops.yaml is a symbolic link to docs/sops-rules.yaml");
    // the same edit in the file itself is sops-config-drift: the link must not be the way around it
    unlinkSync(join(s.repo, ".sops.yaml"));
    renameSync(join(s.repo, "docs/sops-rules.yaml"), join(s.repo, ".sops.yaml"));
    s.commit("the rules as a file");
    const inFile = await problemsOf(s);
    expect(inFile.code).toBe(1);
    expect(inFile.problems.map((p) => p.kind)).not.toContain("weakened-rule");
    expect(inFile.problems.some((p) => p.message.includes("sops-config-drift"))).toBe(true);
  });
});
