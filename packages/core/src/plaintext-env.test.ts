// A plaintext .env.production (production.env, secrets.production.json) outside the secrets folder
// holding values of this project's secrets: reported only when git tracks it (checker session 7,
// item 1). TEST-ONLY fake values throughout.
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkWorkspace } from "./check.js";
import { loadWorkspace } from "./load.js";
import { isPlaintextEnvName, mayBePlaintextEnvName, plaintextEnvAssignments, plaintextEnvCandidates, plaintextEnvDiagnostics } from "./plaintext-env.js";
import { useTempDirs } from "./test-support/temp-dirs.js";

const FIXTURE = join(fileURLToPath(new URL(".", import.meta.url)), "../../../test/fixtures/checker/references");

describe("isPlaintextEnvName", () => {
  it("takes the names values are kept under, not templates or other files", () => {
    for (const name of [".env", ".env.production", ".env.staging", ".env.production.local", "production.env", "secrets.production.json", "secrets.json", "secret.staging.yaml", "secrets.env"]) {
      expect(isPlaintextEnvName(name), name).toBe(true);
    }
    // (the loader's cheap pre-test passes every name the regular expression takes)
    for (const name of [".env", ".env.production", "production.env", "secrets.production.json", "secret.staging.yaml"]) expect(mayBePlaintextEnvName(name), name).toBe(true);
    expect(mayBePlaintextEnvName("c12.yaml")).toBe(false);
    for (const name of [".env.example", ".env.sample", ".env.template", ".env.dist", "example.env", "secrets.example.json", "environment.ts", "env.yaml", "production.enc.yaml", ".envrc", "docker-compose.yml", "secrets"]) {
      expect(isPlaintextEnvName(name), name).toBe(false);
    }
  });
});

describe("plaintextEnvAssignments", () => {
  it("finds dotenv, export, JSON and YAML assignments with a value set, and skips placeholders and empty values; names and lines only", () => {
    const text = [
      "# production",
      "STRIPE_API_KEY=sk_test_fake_0001",
      "export HUBSPOT_API_TOKEN='fake-hub-0002' # comment",
      "EMPTY=",
      "ZENDESK_API_TOKEN=changeme",
      "OTHER=<your key>",
      "FROM_VAR=${VAULT_TOKEN}",
      '  "slack_bot_token": "fake-slack-0003",',
      "db_password: fake-db-0004\r",
    ].join("\n");
    expect(plaintextEnvAssignments(text).map((a) => [a.name, a.line])).toEqual([
      ["STRIPE_API_KEY", 2],
      ["HUBSPOT_API_TOKEN", 3],
      ["slack_bot_token", 8],
      ["db_password", 9],
    ]);
    expect(JSON.stringify(plaintextEnvAssignments(text))).not.toMatch(/fake/);
  });
});

describe("plaintextEnvDiagnostics", () => {
  const file = { path: "deploy/.env.production", assignments: plaintextEnvAssignments("PORT=8080\nSTRIPE_API_KEY=sk_test_fake_0001\nhubspot_api_token=fake-hub-0002\n") };
  const isSecret = (n: string) => n === "stripe_api_key" || n === "hubspot_api_token";
  const envs = ["development", "staging", "production"];

  it("one error per tracked file, at its first line that sets a secret, naming lines and names and the fix, never a value", () => {
    const [d, ...rest] = plaintextEnvDiagnostics([file], isSecret, () => true, "error", envs);
    expect(rest).toEqual([]);
    expect([d?.rule, d?.severity, d?.file, d?.line, d?.column, d?.endLine, d?.endColumn]).toEqual(["plaintext-credential", "error", "deploy/.env.production", 2, 1, 2, 33]);
    expect(d?.message).toBe(
      "deploy/.env.production holds 2 values of this project's secrets in plaintext (line 2: STRIPE_API_KEY (secret stripe_api_key), line 3: hubspot_api_token) and git tracks it: whoever can read the repository reads them. Stop tracking it (`git rm --cached deploy/.env.production`, add it to .gitignore, and remove it from git history), rotate each value at its provider, and let the process read the values at run time: `stellar-secrets exec --env production -- COMMAND` (or `export --env production` to a file outside the repository)",
    );
    expect(d?.message).not.toMatch(/fake/);
  });

  it("says nothing of an untracked file (a git-ignored .env is local practice), when git cannot say, or when no name is a secret of the project", () => {
    expect(plaintextEnvDiagnostics([file], isSecret, () => false, "error", envs)).toEqual([]);
    expect(plaintextEnvDiagnostics([file], isSecret, () => undefined, "error", envs)).toEqual([]);
    expect(plaintextEnvDiagnostics([file], () => false, () => true, "error", envs)).toEqual([]);
  });
});

describe("check with a tracked .env.production", () => {
  const tempDir = useTempDirs();
  it("loads the files' names while walking and reports a file through CheckOptions.tracked only; without tracked (an editor) nothing", () => {
    const dir = tempDir("plaintext-env-");
    cpSync(FIXTURE, dir, { recursive: true });
    writeFileSync(join(dir, ".env.production"), "STRIPE_API_KEY=sk_test_fake_0001\nPORT=8080\n");
    mkdirSync(join(dir, "app"));
    writeFileSync(join(dir, "app", ".env"), "STRIPE_API_KEY=sk_test_fake_0002\n");
    writeFileSync(join(dir, ".env.example"), "STRIPE_API_KEY=sk_test_fake_0003\n");
    const { index } = loadWorkspace(dir, { atRoot: true });
    expect([...index.plaintextEnvFiles.keys()].sort()).toEqual([".env.production", "app/.env"]);
    // (the untracked app/.env is local practice: only the tracked file is reported)
    const found = checkWorkspace(index, { tracked: (p) => p === ".env.production" }).filter((d) => d.rule === "plaintext-credential");
    expect(found.map((d) => [d.file, d.line])).toEqual([[".env.production", 1]]);
    expect(checkWorkspace(index, { tracked: () => false }).filter((d) => d.rule === "plaintext-credential")).toEqual([]);
    expect(checkWorkspace(index).filter((d) => d.rule === "plaintext-credential")).toEqual([]);
  });
});

describe("plaintextEnvCandidates", () => {
  it("takes candidate names anywhere in a listing but the secrets folder, node_modules and another project's folder", () => {
    const paths = [".env", "deploy/k8s/.env.production", "app/production.env", "config/secrets.production.json", "secrets/.env", "node_modules/a/.env", "web/node_modules/a/.env", "teams/labs/.env.production", "teams/labs/stellar.yaml", ".env.example", "connectors/stripe.yaml"];
    const projects = new Set(["teams/labs"]);
    expect(plaintextEnvCandidates(paths, "secrets", (dir) => projects.has(dir))).toEqual([".env", "deploy/k8s/.env.production", "app/production.env", "config/secrets.production.json"]);
    // a folder named like the secrets folder's prefix is not it
    expect(plaintextEnvCandidates(["secrets-old/.env"], "secrets", () => false)).toEqual(["secrets-old/.env"]);
  });
});
