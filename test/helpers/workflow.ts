/**
 * Runs one job of a GitHub Actions workflow on this machine, as far as it can run without GitHub:
 * each `run:` step in `bash --noprofile --norc -eo pipefail` with the job's and the step's `env:`,
 * `${{ }}` expressions evaluated against a given `github` context and the earlier steps' outputs
 * and outcomes, `if:` conditions (with the implicit `success()`), `continue-on-error`, and the
 * GITHUB_OUTPUT / GITHUB_ENV / GITHUB_PATH / GITHUB_STEP_SUMMARY files. A `uses:` step is handed
 * to a stub the test gives (an action that only exists on GitHub). Only the expression forms the
 * workflows of this repository use are understood: context paths, 'strings', ==, !=, &&, ||, !,
 * parentheses, always(), success(), failure(), cancelled() (never: a run here is not cancelled), and
 * an `if:` written as `${{ … }}`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A step of a workflow job as parsed from YAML. */
export interface WorkflowStep {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  with?: Record<string, unknown>;
  run?: string;
  env?: Record<string, unknown>;
  "continue-on-error"?: boolean;
}

/** What happened to one step. */
export interface StepResult {
  name: string;
  ran: boolean;
  outcome: "success" | "failure" | "skipped";
  stdout: string;
  stderr: string;
}

/** A stub for a `uses:` step: gets the evaluated `with:` and the workspace; throws to fail. */
export type ActionStub = (inputs: Record<string, string>, workspace: string) => void;

type Context = Record<string, unknown>;

function lookup(ctx: Context, path: string): unknown {
  let v: unknown = ctx;
  for (const part of path.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** Evaluates one expression (the text inside `${{ }}` or an `if:`). */
export function evaluate(expression: string, ctx: Context, failed: boolean): unknown {
  const js = expression
    .replace(/'([^']*)'|([A-Za-z_][\w-]*(?:\.[\w-]+)*)(\(\))?/g, (whole, str: string | undefined, path: string | undefined, call: string | undefined) => {
      if (str !== undefined) return JSON.stringify(str);
      if (call !== undefined) {
        if (path === "always") return "true";
        if (path === "success") return String(!failed);
        if (path === "failure") return String(failed);
        if (path === "cancelled") return "false";
        throw new Error(`unsupported function ${path}() in ${expression}`);
      }
      if (path === "true" || path === "false" || path === "null") return path as string;
      const value = lookup(ctx, path as string);
      return value === undefined ? "''" : JSON.stringify(value);
    })
    .replace(/([^=!])==([^=])/g, "$1===$2")
    .replace(/!=([^=])/g, "!==$1");
  return new Function(`return (${js});`)() as unknown;
}

/** An `if:` without the `${{ }}` GitHub allows around it. */
export function unwrapCondition(text: string): string {
  const m = /^\s*\$\{\{([\s\S]*)\}\}\s*$/.exec(text);
  return m === null ? text : (m[1] as string).trim();
}

function interpolate(value: unknown, ctx: Context, failed: boolean): string {
  return String(value).replace(/\$\{\{(.*?)\}\}/g, (_m, expr: string) => {
    const v = evaluate(expr.trim(), ctx, failed);
    return v === undefined || v === null ? "" : String(v);
  });
}

function parseKeyValues(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/**
 * Runs `steps` in `workspace`. `github` is the `github` context (event_name, event, token,
 * repository...); `env` the process environment to start from (PATH, HOME...); `jobEnv` the job's
 * `env:`; `stubs` the `uses:` actions by name without the `@version`.
 */
export function runJob(options: {
  steps: WorkflowStep[];
  workspace: string;
  github: Context;
  env: Record<string, string>;
  jobEnv?: Record<string, unknown>;
  stubs: Record<string, ActionStub>;
  /** The `needs` context: each earlier job's `result` and `outputs`. */
  needs?: Record<string, { result: string; outputs: Record<string, string> }>;
  /** The job's `outputs:` (evaluated after its last step). */
  outputs?: Record<string, unknown>;
}): JobResult {
  // the runner's files (RUNNER_TEMP, GITHUB_OUTPUT, the step scripts): gone once the job has run, whatever happened
  const files = mkdtempSync(join(tmpdir(), "gha-files-"));
  try {
    return runJobIn(files, options);
  } finally {
    rmSync(files, { recursive: true, force: true });
  }
}

/** What {@link runJob} gives. */
export interface JobResult {
  failed: boolean;
  steps: StepResult[];
  summary: string;
  outputs: Record<string, string>;
}

function runJobIn(files: string, options: Parameters<typeof runJob>[0]): JobResult {
  const summaryFile = join(files, "step-summary.md");
  writeFileSync(summaryFile, "");
  const steps: Record<string, { outputs: Record<string, string>; outcome: string; conclusion: string }> = {};
  const ctx: Context = { github: options.github, steps, env: {}, needs: options.needs ?? {} };
  const exported: Record<string, string> = {};
  const paths: string[] = [];
  const results: StepResult[] = [];
  let failed = false;
  options.steps.forEach((step, i) => {
    const name = step.name ?? step.uses ?? `step ${i + 1}`;
    const condition = unwrapCondition(step.if ?? "success()");
    const explicit = /\b(always|success|failure|cancelled)\(\)/.test(condition);
    const go = Boolean(evaluate(explicit ? condition : `success() && (${condition})`, ctx, failed));
    const record = (outcome: StepResult["outcome"], stdout = "", stderr = ""): void => {
      results.push({ name, ran: outcome !== "skipped", outcome, stdout, stderr });
      const conclusion = outcome === "failure" && step["continue-on-error"] === true ? "success" : outcome;
      if (step.id !== undefined) steps[step.id] = { ...(steps[step.id] ?? { outputs: {} }), outcome, conclusion };
      if (conclusion === "failure") failed = true;
    };
    if (!go) return record("skipped");
    const jobEnv = Object.fromEntries(Object.entries(options.jobEnv ?? {}).map(([k, v]) => [k, interpolate(v, ctx, failed)]));
    ctx.env = { ...jobEnv, ...exported };
    const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, interpolate(v, ctx, failed)]));
    if (step.uses !== undefined) {
      const stub = options.stubs[step.uses.split("@")[0] as string];
      if (stub === undefined) throw new Error(`no stub for ${step.uses}`);
      const inputs = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, interpolate(v, ctx, failed)]));
      try {
        stub(inputs, options.workspace);
        return record("success");
      } catch (error) {
        return record("failure", "", String(error));
      }
    }
    const output = join(files, `output-${i}`);
    const envFile = join(files, `env-${i}`);
    const pathFile = join(files, `path-${i}`);
    for (const f of [output, envFile, pathFile]) writeFileSync(f, "");
    const script = join(files, `step-${i}.sh`);
    writeFileSync(script, interpolate(step.run ?? "", ctx, failed));
    const env = {
      ...options.env,
      PATH: [...paths, options.env.PATH ?? ""].join(":"),
      ...jobEnv,
      ...exported,
      ...stepEnv,
      CI: "true",
      GITHUB_ACTIONS: "true",
      GITHUB_WORKSPACE: options.workspace,
      GITHUB_OUTPUT: output,
      GITHUB_ENV: envFile,
      GITHUB_PATH: pathFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      RUNNER_TEMP: files,
    };
    const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], { cwd: options.workspace, env, encoding: "utf8", timeout: 120_000 });
    if (step.id !== undefined) steps[step.id] = { outputs: parseKeyValues(output), outcome: "", conclusion: "" };
    Object.assign(exported, parseKeyValues(envFile));
    paths.unshift(...readFileSync(pathFile, "utf8").split("\n").filter((l) => l !== "").reverse());
    record(r.status === 0 ? "success" : "failure", r.stdout, r.stderr);
  });
  const outputs = Object.fromEntries(Object.entries(options.outputs ?? {}).map(([k, v]) => [k, interpolate(v, ctx, failed)]));
  return { failed, steps: results, summary: readFileSync(summaryFile, "utf8"), outputs };
}
