/**
 * A credential stored as a secret's NAME (names are not encrypted), written the way `set` no longer
 * allows: with plain sops (a key added to the decrypted file and re-encrypted under the same data
 * key), on a branch. `check` reports it at its key, and `review` of the branch reports it as a
 * problem; neither prints it, in any format. Real CLI processes, real git, test-only keys.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { decryptSecrets, reencryptSecrets } from "../packages/sops/src/index.js";
import { aliceProject, sandboxesCleanedAfterEach, type AgeKey, type Sandbox } from "./helpers/cli.js";
import { sarifSchemaErrors } from "./helpers/sarif.js";

vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

// TEST-ONLY made-up credential, pasted as a name
const TOKEN = "sk_live_51HqLyjWDarjtT1zdp7dcXYZabcdef0123456789";
/** A part of it that no placeholder or description contains. */
const TELL = "51HqLyjWDarjtT1zdp7dc";
/** Whether `output` repeats the token, also in a form derived from it (lowercased, snake_cased). */
const repeats = (output: string): boolean => output.toLowerCase().replace(/_/g, "").includes(TELL.toLowerCase());
const PLACEHOLDER = "(a name that looks like a credential, not shown)";

/** alice's project on `main` (stripe_api_key in production, referenced), then branch `pr` adding TOKEN to production as plain sops would. */
async function branchAddingCredentialName(): Promise<{ s: Sandbox; alice: AgeKey }> {
  const { s, alice } = await aliceProject(sandboxes, "development,production", [["stripe_api_key", "development,production", "test-only-value-1"]]);
  s.write("connectors/stripe.yaml", "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n");
  s.git(["checkout", "-q", "-b", "main"]);
  s.commit("base");
  s.git(["checkout", "-q", "-b", "pr"]);
  const path = `${s.repo}/secrets/production.enc.yaml`;
  const previous = await decryptSecrets(readFileSync(path, "utf8"), [alice.identity]);
  const values = new Map(previous.values);
  values.set(TOKEN, "test-only-value-2");
  s.write("secrets/production.enc.yaml", await reencryptSecrets(previous, values));
  // and a reference to it, used in both environments: development has no value (missing-environment-value names it)
  s.write("connectors/legacy.yaml", `kind: auth_connector\nname: legacy\ntype: bearer_token\ntoken: { secret: ${TOKEN} }\n`);
  s.commit("legacy connector");
  return { s, alice };
}

describe("a credential stored as a secret's name", () => {
  it("check reports it at its key (plaintext-credential, exit 1) and never prints it: text, JSON, SARIF", async () => {
    const { s } = await branchAddingCredentialName();
    expect(s.read("secrets/production.enc.yaml")).toContain(`${TOKEN}: ENC[`);
    const line = s.read("secrets/production.enc.yaml").split("\n").findIndex((l) => l.startsWith(TOKEN)) + 1;
    const text = await s.run(["check"]);
    const json = await s.run(["check", "--format", "json"]);
    const sarif = await s.run(["check", "--format", "sarif"]);
    for (const r of [text, json, sarif]) {
      expect(r.code, r.stderr).toBe(1);
      expect(repeats(`${r.stdout}${r.stderr}`)).toBe(false);
    }
    expect(text.stdout).toContain(`secrets/production.enc.yaml:${line}:1: error plaintext-credential the name of the secret at secrets/production.enc.yaml:${line} looks like a Stripe live secret key (sk_live_…)`);
    const diagnostics = (JSON.parse(json.stdout) as { diagnostics: { rule: string; file: string; line: number; secret?: string; message: string }[] }).diagnostics;
    expect(diagnostics.filter((d) => d.file === "secrets/production.enc.yaml").map((d) => [d.rule, d.line, d.secret])).toEqual([["plaintext-credential", line, undefined]]);
    // the reference's own finding says which secret without it
    const legacy = diagnostics.filter((d) => d.file === "connectors/legacy.yaml");
    expect(legacy.map((d) => d.rule)).toContain("missing-environment-value");
    expect(legacy.find((d) => d.rule === "missing-environment-value")?.message).toContain(`secret ${PLACEHOLDER} has no value in development`);
    const log = JSON.parse(sarif.stdout) as { runs: { results: { ruleId: string }[] }[] };
    expect(sarifSchemaErrors(log)).toEqual([]);
    expect(log.runs[0]!.results.map((r) => r.ruleId)).toContain("plaintext-credential");
  });

  it("review of the branch that adds it reports a problem (exit 1) without printing it: text, JSON, SARIF, Markdown, and with --verify", async () => {
    const { s, alice } = await branchAddingCredentialName();
    const keyless = { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_KEY: undefined };
    const runs = {
      text: await s.run(["review", "main..pr"], { env: keyless }),
      json: await s.run(["review", "main..pr", "--format", "json"], { env: keyless }),
      sarif: await s.run(["review", "main..pr", "--format", "sarif"], { env: keyless }),
      markdown: await s.run(["review", "main..pr", "--format", "markdown"], { env: keyless }),
      verify: await s.run(["review", "main..pr", "--verify", "--format", "json"], { env: { SOPS_AGE_KEY_FILE: alice.file } }),
    };
    for (const [format, r] of Object.entries(runs)) {
      expect(r.code, `${format}: ${r.stderr}`).toBe(1);
      expect(repeats(`${r.stdout}${r.stderr}`), format).toBe(false);
    }
    type Report = { environments: { environment: string; secrets: { name: string; change: string }[] }[]; problems: { kind: string; file?: string; message: string }[]; clean: boolean };
    for (const r of [runs.json, runs.verify]) {
      const report = JSON.parse(r.stdout) as Report;
      expect(report.clean).toBe(false);
      const prod = report.environments.find((e) => e.environment === "production");
      expect(prod?.secrets).toEqual([{ name: PLACEHOLDER, change: "added", ...(prod?.secrets[0] && "after" in prod.secrets[0] ? { after: (prod.secrets[0] as { after: string }).after } : {}) }]);
      const problem = report.problems.find((p) => p.file === "secrets/production.enc.yaml");
      expect(problem?.kind).toBe("plaintext");
      expect(problem?.message).toMatch(/^plaintext-credential: the name of the secret at secrets\/production\.enc\.yaml:\d+ looks like a Stripe live secret key \(sk_live_…\), not a secret's name \(not shown\)/);
    }
    expect(runs.text.stdout).toContain("looks like a Stripe live secret key (sk_live_…), not a secret's name (not shown)");
    expect(runs.text.stdout).toContain(PLACEHOLDER);
    const log = JSON.parse(runs.sarif.stdout) as { runs: { results: { ruleId: string; level: string; message: { text: string } }[] }[] };
    expect(sarifSchemaErrors(log)).toEqual([]);
    expect(log.runs[0]!.results.some((r) => r.level === "error" && r.message.text.includes("looks like a Stripe live secret key"))).toBe(true);
  });
});

describe("a credential stored as a name in a commit of a pull request, removed again in the next", () => {
  it("review reports the commit (plaintext, exit 1): it is in the branch's history; never printing it", async () => {
    const { s, alice } = await aliceProject(sandboxes, "production", [["stripe_api_key", "production", "test-only-value-1"]]);
    s.write("connectors/stripe.yaml", "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n");
    s.git(["checkout", "-q", "-b", "main"]);
    s.commit("base");
    s.git(["checkout", "-q", "-b", "pr"]);
    const path = `${s.repo}/secrets/production.enc.yaml`;
    const clean = readFileSync(path, "utf8");
    const previous = await decryptSecrets(clean, [alice.identity]);
    // (added after stripe_api_key: line 2)
    s.write("secrets/production.enc.yaml", await reencryptSecrets(previous, new Map([...previous.values, [TOKEN, "test-only-value-2"]])));
    const leaked = s.commit("add a secret");
    s.write("secrets/production.enc.yaml", clean);
    s.commit("take it out again");
    const keyless = { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_KEY: undefined };
    const text = await s.run(["review", "main..pr"], { env: keyless });
    const json = await s.run(["review", "main..pr", "--json"], { env: keyless });
    for (const r of [text, json]) {
      expect(r.code, r.stderr).toBe(1);
      expect(repeats(`${r.stdout}${r.stderr}`)).toBe(false);
    }
    const problems = (JSON.parse(json.stdout) as { problems: { kind: string; commit?: string; message: string }[] }).problems;
    expect(problems.map((p) => [p.kind, p.commit])).toEqual([["plaintext", leaked]]);
    expect(problems[0]!.message).toContain(`secrets/production.enc.yaml:2 at commit ${leaked.slice(0, 10)} of this change holds a Stripe live secret key (sk_live_…) as a secret's name in clear text`);
  });
});
