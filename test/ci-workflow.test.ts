/**
 * The GitHub Actions workflow of this repository (.github/workflows/stellar-secrets.yml), run here
 * without GitHub: its `run:` steps run as scripts in a clone of a secrets repository, on a
 * pull-request-like base...head (test/helpers/workflow.ts), with what only GitHub has stubbed —
 * actions/checkout (a full clone), setup-node, the SARIF upload (validated against the SARIF
 * 2.1.0 schema instead), a fake `gh` on PATH that records the comment, and a fake `pnpm` (the
 * workspace is already installed and built here). The job must upload SARIF, comment the review,
 * and fail exactly when the pull request has a problem.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createSandbox, REPO_ROOT, type Sandbox } from "./helpers/cli.js";
import { sarifSchemaErrors } from "./helpers/sarif.js";
import { runJob, type WorkflowStep } from "./helpers/workflow.js";
import { parse } from "./helpers/yaml.js";

vi.setConfig({ testTimeout: 180_000 });

let sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const s of sandboxes) s.cleanup();
  sandboxes = [];
});

const WORKFLOW = parse(readFileSync(join(REPO_ROOT, ".github/workflows/stellar-secrets.yml"), "utf8")) as {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: { gate: { env: Record<string, string>; steps: WorkflowStep[] } };
};

/** Fake `gh` and `pnpm` in `bin`: gh records each call and the comment body; `--edit-last` fails until a comment exists. */
function fakeTools(bin: string, log: string): void {
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, "gh"),
    `#!/bin/sh
printf 'gh %s | token=%s repo=%s\\n' "$*" "$GH_TOKEN" "$GH_REPO" >> "${log}"
body=""
prev=""
for a in "$@"; do
  if [ "$prev" = "--body-file" ]; then body="$a"; fi
  prev="$a"
done
case " $* " in
  *" --edit-last "*) [ -f "${log}.comment" ] || { echo "no comments found for current user" >&2; exit 1; } ;;
esac
cat "$body" > "${log}.comment"
`,
  );
  writeFileSync(join(bin, "pnpm"), `#!/bin/sh\nif [ "$1" = "--version" ]; then echo 10.34.9; exit 0; fi\nprintf 'pnpm %s\\n' "$*" >> "${log}"\n`);
  chmodSync(join(bin, "gh"), 0o755);
  chmodSync(join(bin, "pnpm"), 0o755);
}

async function secretsRepo(): Promise<{ s: Sandbox; base: string }> {
  const s = createSandbox();
  sandboxes.push(s);
  s.env.SOPS_AGE_KEY_FILE = s.keygen("alice").file;
  expect((await s.run(["init", "--env", "staging,production"])).code).toBe(0);
  s.write("connectors/stripe.yaml", "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n");
  for (const env of ["staging", "production"]) {
    expect((await s.run(["set", "stripe_api_key", "--env", env, "--from-stdin"], { input: `sk_test_ci_${env}` })).code).toBe(0);
  }
  const base = s.commit("base");
  return { s, base };
}

/** Runs the job as for pull request #7 of `s` from `branch` into main. */
function runPullRequest(s: Sandbox, base: string, branch: string) {
  const workspace = join(s.dir, `runner-${branch}`);
  const bin = join(s.dir, `bin-${branch}`);
  const log = join(s.dir, `calls-${branch}.log`);
  fakeTools(bin, log);
  const uploads: string[] = [];
  const job = WORKFLOW.jobs.gate;
  const result = runJob({
    steps: job.steps,
    workspace,
    github: { event_name: "pull_request", event: { pull_request: { number: 7, base: { sha: base } } }, token: "fake-token", repository: "acme/secrets" },
    env: { ...s.env, PATH: `${bin}:${s.env.PATH}` },
    // another repository's CLI sources (docs/ci.md): here, this one's
    jobEnv: { ...job.env, STELLAR_SECRETS_SRC: REPO_ROOT },
    stubs: {
      "actions/checkout": (inputs) => {
        expect(inputs["fetch-depth"]).toBe("0");
        execFileSync("git", ["clone", "-q", "--branch", branch, `file://${s.repo}`, workspace], { env: s.env });
      },
      "actions/setup-node": (inputs) => expect(inputs["node-version"]).toBe("20"),
      "github/codeql-action/upload-sarif": (inputs, ws) => {
        const log = JSON.parse(readFileSync(join(ws, inputs.sarif_file as string), "utf8")) as unknown;
        expect(sarifSchemaErrors(log)).toEqual([]);
        uploads.push(JSON.stringify(log));
      },
    },
  });
  const calls = existsSync(log) ? readFileSync(log, "utf8") : "";
  const comment = existsSync(`${log}.comment`) ? readFileSync(`${log}.comment`, "utf8") : undefined;
  return { ...result, uploads, calls, comment };
}

describe(".github/workflows/stellar-secrets.yml", () => {
  it("asks for the full history and the permissions its uploads and comment need", () => {
    expect(Object.keys(WORKFLOW.on)).toEqual(expect.arrayContaining(["pull_request", "push"]));
    expect(WORKFLOW.permissions).toMatchObject({ "security-events": "write", "pull-requests": "write", contents: "read" });
    const checkout = WORKFLOW.jobs.gate.steps.find((x) => x.uses?.startsWith("actions/checkout@"));
    expect(checkout?.with).toMatchObject({ "fetch-depth": 0 });
    // nothing a pull request controls is pasted into a script
    for (const step of WORKFLOW.jobs.gate.steps) expect(step.run ?? "").not.toContain("${{");
  });

  it("fails a pull request with a problem, after uploading SARIF and commenting the review", async () => {
    const { s, base } = await secretsRepo();
    s.git(["checkout", "-q", "-b", "remove-stripe"]);
    expect((await s.run(["rm", "stripe_api_key", "--env", "production", "--force", "--yes"])).code).toBe(0);
    s.commit("remove stripe from production (still referenced)");

    const job = runPullRequest(s, base, "remove-stripe");
    const outcome = Object.fromEntries(job.steps.map((x) => [x.name, x.outcome]));
    expect(outcome, JSON.stringify(job.steps.filter((x) => x.outcome === "failure"), null, 1)).toEqual({
      "Check out (full history)": "success",
      "Set up Node.js": "success",
      "Install the stellar-secrets CLI": "success",
      "Check (SARIF for code scanning)": "success",
      "Upload SARIF to code scanning": "success",
      "Review the pull request (no key)": "success",
      "Comment the review on the pull request": "success",
      "Fail on problems": "failure",
    });
    expect(job.failed).toBe(true);
    expect(job.calls).toContain("pnpm install --frozen-lockfile");
    expect(job.uploads).toHaveLength(1);
    expect(job.uploads[0]).toContain('"ruleId":"missing-environment-value"');
    // the comment: edit the last one, else (none yet) a new one; with the job's token
    expect(job.calls).toContain("gh pr comment 7 --edit-last --body-file stellar-secrets-review.md | token=fake-token repo=acme/secrets");
    expect(job.calls).toContain("gh pr comment 7 --body-file stellar-secrets-review.md | token=fake-token repo=acme/secrets");
    expect(job.comment?.split("\n").slice(0, 2)).toEqual(["<!-- stellar-secrets review -->", "### ❌ Stellar Secrets review: 1 problem"]);
    expect(job.comment).toContain("`connectors/stripe.yaml:4`");
    expect(job.summary).toBe(job.comment);
    expect(job.steps.at(-1)?.stdout).toContain("check: 1; review: 1");
    expect(job.comment).not.toContain("sk_test_ci_");
  });

  it("replaces an earlier review comment when review cannot run on a later push, so that no stale verdict stands", async () => {
    const { s, base } = await secretsRepo();
    s.git(["checkout", "-q", "-b", "later-push"]);
    s.commit("an empty change");
    // the comment of an earlier push of this pull request
    writeFileSync(join(s.dir, "calls-later-push.log.comment"), "<!-- stellar-secrets review -->\n### ✅ Stellar Secrets review: no problems\n");
    // a base the checkout does not have: review stops with NOT_FOUND (exit 4), as any failure would
    const job = runPullRequest(s, "0123456789abcdef0123456789abcdef01234567", "later-push");
    const outcome = Object.fromEntries(job.steps.map((x) => [x.name, x.outcome]));
    expect(outcome["Review the pull request (no key)"]).toBe("failure");
    expect(outcome["Comment the review on the pull request"]).toBe("success");
    expect(job.failed).toBe(true);
    expect(job.comment?.split("\n").slice(0, 2)).toEqual(["<!-- stellar-secrets review -->", "### ⚠️ Stellar Secrets review: could not run"]);
    expect(job.comment).toContain("stopped with exit status 4 on this push");
    expect(job.calls).toContain("gh pr comment 7 --edit-last --body-file stellar-secrets-review.md");
    expect(job.calls).not.toContain("gh pr comment 7 --body-file");
    expect(job.summary).toBe(job.comment);
    expect(job.steps.at(-1)?.stdout).toContain("review: 4");
  });

  it("passes a clean pull request", async () => {
    const { s, base } = await secretsRepo();
    s.git(["checkout", "-q", "-b", "add-slack"]);
    expect((await s.run(["set", "stripe_api_key", "--env", "staging", "--from-stdin"], { input: "sk_test_ci_new" })).code).toBe(0);
    s.commit("rotate the staging stripe key");
    const job = runPullRequest(s, base, "add-slack");
    expect(job.failed, JSON.stringify(job.steps.filter((x) => x.outcome === "failure"), null, 1)).toBe(false);
    expect(job.steps.every((x) => x.outcome === "success")).toBe(true);
    expect(job.comment?.split("\n")[1]).toBe("### ✅ Stellar Secrets review: no problems");
    expect(job.steps.at(-1)?.stdout).toContain("check: 0; review: 0");
  });
});
