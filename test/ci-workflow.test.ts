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
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { createSandbox, REPO_ROOT, type Sandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";
import { sarifSchemaErrors } from "./helpers/sarif.js";
import { evaluate, runJob, unwrapCondition, type WorkflowStep } from "./helpers/workflow.js";
import { parse } from "./helpers/yaml.js";

vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

interface Job {
  permissions?: Record<string, string>;
  needs?: string | string[];
  if?: string;
  env?: Record<string, string>;
  outputs?: Record<string, string>;
  steps: WorkflowStep[];
}
const WORKFLOW = parse(readFileSync(join(REPO_ROOT, ".github/workflows/stellar-secrets.yml"), "utf8")) as {
  on: Record<string, unknown>;
  concurrency: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: { gate: Job; publish: Job };
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
# gh api graphql (the pull request's force-pushes): the earlier heads the test wrote, as --jq prints them; none written: the API fails
if [ "$1" = "api" ]; then
  [ -f "${log}.force-pushes" ] || { echo "HTTP 502: Bad Gateway" >&2; exit 1; }
  cat "${log}.force-pushes"
  exit 0
fi
case " $* " in
  *" --edit-last "*) [ -f "${log}.comment" ] || { echo "no comments found for current user" >&2; exit 1; } ;;
esac
cat "$body" > "${log}.comment"
`,
  );
  writeFileSync(join(bin, "pnpm"), `#!/bin/sh\nprintf 'pnpm ran in %s\\n' "$PWD" >> "${log}"\nif [ "$1" = "--version" ]; then echo 10.34.9; exit 0; fi\nprintf 'pnpm %s\\n' "$*" >> "${log}"\n`);
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

/** The stdout of the gate's last step ("Fail on problems"). */
const failStep = (job: { steps: { name: string; stdout: string }[] }): string => job.steps.find((x) => x.name === "Fail on problems")?.stdout ?? "";

/**
 * What makes a workflow (YAML text) run a pull request's code, or its text, where it must not:
 * the `pull_request_target` trigger (a token that can write, secrets), a checkout of the pull
 * request's head (`ref:` naming `github.event.pull_request.head` or `github.head_ref`), and any
 * `${{ }}` inside a `run:` script (an expression is pasted into the shell before it runs).
 */
function workflowRisks(text: string): string[] {
  const out: string[] = [];
  const doc = parse(text) as { on?: unknown; jobs?: Record<string, { steps?: WorkflowStep[] }> } | null;
  const on = doc?.on;
  const triggers = typeof on === "string" ? [on] : Array.isArray(on) ? on : on !== null && typeof on === "object" ? Object.keys(on) : [];
  if (triggers.includes("pull_request_target") || triggers.includes("workflow_run")) out.push(triggers.includes("pull_request_target") ? "pull_request_target" : "workflow_run");
  for (const job of Object.values(doc?.jobs ?? {})) {
    for (const step of job.steps ?? []) {
      if (step.run !== undefined && step.run.includes("${{")) out.push("run: contains ${{ }}");
      const ref = String((step.with ?? {}).ref ?? "");
      if (step.uses?.startsWith("actions/checkout@") === true && /pull_request\.head|head_ref|refs\/pull\//.test(ref)) out.push("checkout of the pull request's head");
    }
  }
  return out;
}

/**
 * Runs the workflow as for pull request #7 of `s` from `branch` into main: the job `gate`, then
 * `publish` (when its `if:` holds) in a workspace of its own, the artifact passed between them.
 */
function runPullRequest(s: Sandbox, base: string, branch: string, push: { run?: string; before?: string; forcePushes?: string[] | null } = {}) {
  const run = `${branch}${push.run ?? ""}`;
  const workspace = join(s.dir, `runner-${run}`);
  const publishWorkspace = join(s.dir, `runner-${run}-publish`);
  const artifacts = join(s.dir, `artifacts-${run}`);
  const bin = join(s.dir, `bin-${run}`);
  const log = join(s.dir, `calls-${run}.log`);
  fakeTools(bin, log);
  // what GitHub's API lists as the pull request's force-pushes (their earlier heads; none by default); null: the API fails
  const forcePushes = push.forcePushes === undefined ? [] : push.forcePushes;
  if (forcePushes !== null) writeFileSync(`${log}.force-pushes`, forcePushes.map((x) => `${x}\n`).join(""));
  const uploads: string[] = [];
  const github = { event_name: "pull_request", event: { pull_request: { number: 7, base: { sha: base } }, before: push.before ?? "0".repeat(40) }, token: "fake-token", repository: "acme/secrets" };
  const checkout = (into: string) => (inputs: Record<string, string>) => {
    expect(inputs["persist-credentials"]).toBe("false");
    execFileSync("git", ["clone", "-q", "--branch", branch, `file://${s.repo}`, into], { env: s.env });
  };
  const gate = WORKFLOW.jobs.gate;
  const result = runJob({
    steps: gate.steps,
    workspace,
    github,
    env: { ...s.env, PATH: `${bin}:${s.env.PATH}` },
    // another repository's CLI sources (docs/ci.md): here, this one's
    jobEnv: { ...gate.env, STELLAR_SECRETS_SRC: REPO_ROOT },
    outputs: gate.outputs ?? {},
    stubs: {
      "actions/checkout": (inputs) => {
        expect(inputs["fetch-depth"]).toBe("0");
        checkout(workspace)(inputs);
      },
      "actions/setup-node": (inputs) => expect(inputs["node-version"]).toBe("20"),
      "actions/upload-artifact": (inputs, ws) => {
        mkdirSync(artifacts, { recursive: true });
        for (const f of (inputs.path as string).split("\n").map((l) => l.trim()).filter((l) => l !== "")) {
          if (existsSync(join(ws, f))) copyFileSync(join(ws, f), join(artifacts, f));
        }
      },
    },
  });
  const publish = WORKFLOW.jobs.publish;
  const needs = { gate: { result: result.failed ? "failure" : "success", outputs: result.outputs } };
  const condition = unwrapCondition(publish.if ?? "success()");
  const runsPublish = Boolean(evaluate(/\b(always|success|failure|cancelled)\(\)/.test(condition) ? condition : `success() && (${condition})`, { github, needs }, result.failed));
  const published = runsPublish
    ? runJob({
        steps: publish.steps,
        workspace: publishWorkspace,
        github,
        needs,
        // nothing of the gate's PATH: publish installs no CLI
        env: { ...s.env, PATH: `${bin}:${s.env.PATH}` },
        stubs: {
          "actions/checkout": checkout(publishWorkspace),
          "actions/download-artifact": (inputs, ws) => {
            expect(inputs.name).toBe("stellar-secrets-results");
            if (!existsSync(artifacts)) throw new Error("no artifact");
            for (const f of readdirSync(artifacts)) copyFileSync(join(artifacts, f), join(ws, f));
          },
          "github/codeql-action/upload-sarif": (inputs, ws) => {
            const sarif = JSON.parse(readFileSync(join(ws, inputs.sarif_file as string), "utf8")) as unknown;
            expect(sarifSchemaErrors(sarif)).toEqual([]);
            uploads.push(JSON.stringify(sarif));
          },
        },
      })
    : undefined;
  const calls = existsSync(log) ? readFileSync(log, "utf8") : "";
  const comment = existsSync(`${log}.comment`) ? readFileSync(`${log}.comment`, "utf8") : undefined;
  return { ...result, steps: [...result.steps, ...(published?.steps ?? [])], uploads, calls, comment };
}

describe(".github/workflows/stellar-secrets.yml", () => {
  it("asks for the full history, and gives a token that can write only to the job that runs nothing of the pull request", () => {
    expect(Object.keys(WORKFLOW.on)).toEqual(expect.arrayContaining(["pull_request", "push"]));
    expect(WORKFLOW.permissions).toEqual({ contents: "read" });
    // a newer push cancels the older run of the same pull request, and a cancelled run comments nothing
    expect(WORKFLOW.concurrency).toMatchObject({ group: expect.stringContaining("github.event.pull_request.number") });
    expect(WORKFLOW.jobs.publish.if).toContain("!cancelled()");
    for (const step of WORKFLOW.jobs.publish.steps) expect(step.if ?? "").not.toContain("always()");
    const { gate, publish } = WORKFLOW.jobs;
    // pull-requests: read lists the pull request's force-pushes (their earlier heads, for review --previous-head)
    expect(gate.permissions).toEqual({ contents: "read", "pull-requests": "read" });
    expect(publish.permissions).toEqual({ contents: "read", "security-events": "write", "pull-requests": "write" });
    expect(publish.needs).toBe("gate");
    const checkout = gate.steps.find((x) => x.uses?.startsWith("actions/checkout@"));
    expect(checkout?.with).toMatchObject({ "fetch-depth": 0, "persist-credentials": false });
    // publish: no install, no stellar-secrets, no node/npm/pnpm, nothing run from the checkout; only gh
    const publishRuns = publish.steps.flatMap((x) => (x.run === undefined ? [] : [x.run]));
    expect(publishRuns.join("\n")).not.toMatch(/stellar-secrets |node |npm|pnpm|setup\.mjs|\.\/|\bsh /);
    expect(publish.steps.filter((x) => x.uses !== undefined).map((x) => (x.uses as string).split("@")[0])).toEqual([
      "actions/checkout",
      "actions/download-artifact",
      "github/codeql-action/upload-sarif",
    ]);
    for (const step of publish.steps.filter((x) => x.uses?.startsWith("actions/checkout@"))) expect(step.with).toMatchObject({ "persist-credentials": false });
    expect(workflowRisks(readFileSync(join(REPO_ROOT, ".github/workflows/stellar-secrets.yml"), "utf8"))).toEqual([]);
  });

  it("ships no workflow, here or in docs/ci.md, that runs a pull request's code with a token that can write or pastes an expression into a script", () => {
    const docs = readFileSync(join(REPO_ROOT, "docs/ci.md"), "utf8");
    const blocks = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const block of blocks) expect(workflowRisks(block), block).toEqual([]);
    // what the check finds
    expect(
      workflowRisks(
        "on: pull_request_target\njobs:\n  x:\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n      - run: echo ${{ github.event.pull_request.title }}\n",
      ),
    ).toEqual(["pull_request_target", "checkout of the pull request's head", "run: contains ${{ }}"]);
  });

  it("setup.mjs runs pnpm only in the CLI's sources, never in the folder it was started from (a pull request's checkout)", () => {
    const s = createSandbox();
    sandboxes.push(s);
    const bin = join(s.dir, "bin");
    const log = join(s.dir, "calls.log");
    fakeTools(bin, log);
    // a pull request's package.json that a corepack shim would obey
    s.write("package.json", JSON.stringify({ packageManager: "pnpm@1.0.0" }));
    execFileSync(process.execPath, [join(REPO_ROOT, "scripts/setup.mjs")], { cwd: s.repo, env: { ...s.env, PATH: `${bin}:${s.env.PATH}`, STELLAR_SETUP_QUIET: "1" } });
    const places = [...readFileSync(log, "utf8").matchAll(/^pnpm ran in (.*)$/gm)].map((m) => m[1]);
    expect(places.length).toBeGreaterThanOrEqual(3);
    expect(new Set(places)).toEqual(new Set([REPO_ROOT]));
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
      "Earlier pushes of the pull request (force-pushed away)": "success",
      "Review the pull request (no key)": "success",
      "Keep the results for publishing": "success",
      "Fail on problems": "failure",
      "Check out (the files the SARIF names; nothing of it runs)": "success",
      "Fetch the results of the gate": "success",
      "Upload SARIF to code scanning": "success",
      "Comment the review on the pull request": "success",
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
    expect(failStep(job)).toContain("check: 1; review: 1");
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
    expect(failStep(job)).toContain("review: 4");
  });

  it("reads the heads a force-push replaced (this push's before and every force-push GitHub lists), on every later push; says what it could not read", async () => {
    const { s, base: first } = await secretsRepo();
    expect((await s.run(["git", "setup"])).code).toBe(0);
    const mallory = s.keygen("mallory");
    expect((await s.run(["members", "add", "mallory", mallory.recipient, "--env", "production"])).code).toBe(0);
    s.commit("mallory in production");
    expect(first).not.toBe("");
    s.git(["branch", "-M", "main"]);
    s.git(["checkout", "-q", "-b", "feature"]);
    expect((await s.run(["set", "openai_api_key", "--env", "production", "--from-stdin"], { input: "sk_test_ci_exposed" })).code).toBe(0);
    // the pull request's first push: mallory's stanza still in the file that holds the new value
    const pushed = s.commit("openai key");
    s.git(["checkout", "-q", "main"]);
    expect((await s.run(["members", "rm", "mallory", "--env", "production"])).code).toBe(0);
    const base = s.commit("mallory leaves production");
    s.git(["checkout", "-q", "feature"]);
    // rebased onto main and force-pushed (the origin no longer reaches `pushed`), then one more push on top
    s.git(["rebase", "-q", "main"]);
    const rebased = s.git(["rev-parse", "HEAD"]).trim();
    expect((await s.run(["set", "stripe_api_key", "--env", "staging", "--from-stdin"], { input: "sk_test_ci_later" })).code).toBe(0);
    s.commit("a later push");
    expect(s.git(["branch", "--contains", pushed]).trim()).toBe("");

    // the later push: its before is the rebased head; the force-push (before: pushed) is in the pull request's timeline, fetched by id
    const later = runPullRequest(s, base, "feature", { run: "-later", before: rebased, forcePushes: [pushed, "gone"] });
    expect(later.calls).toMatch(/gh api graphql --paginate -F owner=acme -F name=secrets -F number=7 -f query=query.*HEAD_REF_FORCE_PUSHED_EVENT.* \| token=fake-token/);
    expect(failStep(later)).toContain("review: 1");
    expect(later.comment?.split("\n")[1]).toBe("### ❌ Stellar Secrets review: 1 problem");
    expect(later.comment).toContain(`commit ${pushed.slice(0, 10)} of an earlier push of this change`);
    // what was not read is said under the verdict
    expect(later.comment).toContain("**⚠️ Earlier pushes not read.**");
    expect(later.comment).toContain("- a force-push whose earlier head GitHub no longer has (its commit is gone): not read");
    expect(later.comment).not.toContain("sk_test_ci_");
    // a private repository's fetch needs the token, which the checkout did not keep: given to that git through its environment, never its command line
    const earlier = WORKFLOW.jobs.gate.steps.find((x) => x.id === "earlier")?.run ?? "";
    expect(earlier).toMatch(/GIT_CONFIG_VALUE_0="AUTHORIZATION: basic \$auth" \\\n\s+git fetch --quiet --no-tags --no-recurse-submodules origin "\$sha"/);
    expect(earlier).not.toMatch(/git -c|extraheader=/);
    // (its base64 form is masked in the log: GitHub masks the token itself, not that)
    expect(later.steps.find((x) => x.name.startsWith("Earlier pushes"))?.stdout.split("\n")[0]).toBe(`::add-mask::${Buffer.from("x-access-token:fake-token").toString("base64")}`);

    // the API fails and this push's before is gone from the origin: the review runs on the range alone (exit 0), and says so
    const blind = runPullRequest(s, base, "feature", { run: "-blind", before: "ab".repeat(20), forcePushes: null });
    expect(failStep(blind)).toContain("review: 0");
    expect(blind.comment?.split("\n").slice(0, 4)).toEqual(["<!-- stellar-secrets review -->", "### ✅ Stellar Secrets review: no problems", "", expect.stringContaining("**⚠️ Earlier pushes not read.**")]);
    expect(blind.comment).toContain("- the pull request's force-pushes could not be listed (`gh api graphql` failed): only this push's `before` was read");
    expect(blind.comment).toContain(`- earlier head \`${"ab".repeat(20)}\` could not be fetched: what it held was not read`);
    expect(blind.summary).toBe(blind.comment);
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
    expect(failStep(job)).toContain("check: 0; review: 0");
  });
});
