/**
 * `stellar-secrets check` and `usage` as child processes (the built CLI: run `pnpm build`
 * first): output formats, exit statuses, PATH scoping, and that no value is ever printed.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { sarifSchemaErrors } from "./helpers/sarif.js";
import { useTempDirs } from "../packages/core/src/test-support/temp-dirs.js";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const FIXTURES = join(REPO, "test", "fixtures", "checker");
const BIN = join(REPO, "packages", "cli", "bin", "stellar-secrets.js");

/** Temp folders of the running test, removed after it (a failing assertion included). */
const tempDir = useTempDirs();

function cli(args: string[], cwd: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("stellar-secrets check", () => {
  it("passes on the example organisation with exit 0 and no output on stdout", () => {
    // without git history (GIT_DIR names no repository) rotation-overdue is off: the example's
    // values age with the repository's commits, and this test must not depend on today's date
    const r = cli(["check"], REPO, { GIT_DIR: join(REPO, "no-such-git-dir") });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^no problems \(16 config files, 6 secrets, 3 environments\)\n$/);
  });

  it("prints file:line:column: severity rule-id message and exits 1 on errors", () => {
    const r = cli(["check"], join(FIXTURES, "references"));
    expect(r.status).toBe(1);
    const lines = r.stdout.trimEnd().split("\n");
    const expected = JSON.parse(readFileSync(join(FIXTURES, "references", "expected.json"), "utf8")) as [string, string, string, number, number][];
    expect(lines.map((l) => /^([^:]+):(\d+):(\d+): (error|warning|info) ([a-z-]+) /.exec(l)?.slice(1))).toEqual(
      expected.map(([rule, severity, file, line, column]) => [file, String(line), String(column), severity, rule]),
    );
    expect(lines).toContain(
      'actions/ticket.yaml:9:45: error unknown-secret unknown secret "stripe_api_kee": no environment file has it; did you mean "stripe_api_key"?',
    );
    expect(r.stderr).toBe("11 errors, 1 warning\n");
  });

  it("prints the JSON shape of the issue with --json", () => {
    const r = cli(["check", "--json"], join(FIXTURES, "names"));
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout) as { diagnostics: Record<string, unknown>[]; summary: Record<string, number> };
    expect(Object.keys(out)).toEqual(["diagnostics", "summary"]);
    expect(out.summary).toEqual({ errors: 4, warnings: 2 });
    expect(out.diagnostics[2]).toEqual({
      rule: "invalid-secret-name",
      severity: "error",
      file: "secrets/development.enc.yaml",
      line: 1,
      column: 1,
      endLine: 1,
      endColumn: 13, // the key is written quoted: "Stripe-Key"
      message: 'secret name "Stripe-Key" has uppercase letters; use lowercase_with_underscores (^[a-z][a-z0-9_]*$)',
      secret: "Stripe-Key",
      suggestion: "stripe_key",
    });
    for (const d of out.diagnostics) {
      expect(Object.keys(d).slice(0, 8)).toEqual(["rule", "severity", "file", "line", "column", "endLine", "endColumn", "message"]);
    }
  });

  it("carries the other names of an ambiguous typo as alternatives, in --json and in SARIF's properties (qa s23)", () => {
    const dir = join(FIXTURES, "planted-freight");
    const json = JSON.parse(cli(["check", "--json"], dir).stdout) as { diagnostics: Record<string, unknown>[] };
    const dhl = json.diagnostics.find((d) => d.secret === "dhl_ap_key");
    expect([dhl?.suggestion, dhl?.alternatives]).toEqual(["dhl_api_key", ["dhl_app_key"]]);
    expect(json.diagnostics.filter((d) => d.alternatives !== undefined)).toHaveLength(1);
    const sarif = JSON.parse(cli(["check", "--format", "sarif"], dir).stdout) as { runs: { results: { properties?: Record<string, unknown> }[] }[] };
    expect(sarifSchemaErrors(sarif)).toEqual([]);
    expect(sarif.runs[0]!.results.find((x) => x.properties?.secret === "dhl_ap_key")?.properties).toEqual({ secret: "dhl_ap_key", suggestion: "dhl_api_key", alternatives: ["dhl_app_key"] });
  });

  it("writes SARIF 2.1.0 with every rule and a result per diagnostic", () => {
    const r = cli(["check", "--format", "sarif"], join(FIXTURES, "drift"));
    expect(r.status).toBe(1);
    const sarif = JSON.parse(r.stdout) as {
      version: string;
      runs: { tool: { driver: { name: string; rules: { id: string }[] } }; results: { ruleId: string; ruleIndex: number; level: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number; startColumn: number } } }[] }[] }[];
    };
    expect(sarif.version).toBe("2.1.0");
    const run = sarif.runs[0]!;
    expect(run.tool.driver.name).toBe("stellar-secrets");
    expect(run.tool.driver.rules.map((x) => x.id)).toContain("recipient-drift");
    expect(run.results.map((x) => [x.ruleId, x.level, x.locations[0]!.physicalLocation.artifactLocation.uri, x.locations[0]!.physicalLocation.region.startLine])).toEqual([
      ["recipient-drift", "error", "secrets/production.enc.yaml", 3],
      ["recipient-drift", "error", "secrets/staging.enc.yaml", 3],
    ]);
    expect(run.tool.driver.rules[run.results[0]!.ruleIndex]!.id).toBe("recipient-drift");
    expect(sarifSchemaErrors(sarif)).toEqual([]);
  });

  it("honours --max-warnings and rule overrides", () => {
    const dir = tempDir("check-cli-");
    cpSync(join(FIXTURES, "severity"), dir, { recursive: true });
    writeFileSync(join(dir, "stellar.yaml"), readFileSync(join(dir, "stellar.yaml"), "utf8").replace("unused-secret: error", "unused-secret: warning"));
    expect(cli(["check"], dir).status).toBe(0);
    expect(cli(["check", "--max-warnings", "2"], dir).status).toBe(0);
    const r = cli(["check", "--max-warnings", "1"], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("too many warnings (2, at most 1 allowed)");
  });

  it("limits output to PATH, a folder or a file inside the repository", () => {
    const dir = join(FIXTURES, "references");
    const actions = cli(["check", "actions", "--json"], dir);
    const files = new Set((JSON.parse(actions.stdout) as { diagnostics: { file: string }[] }).diagnostics.map((d) => d.file));
    expect([...files].sort()).toEqual(["actions/audit.yaml", "actions/charge.yaml", "actions/ticket.yaml"]);
    const one = cli(["check", join(dir, "agents", "sales.yaml"), "--json"], REPO);
    expect((JSON.parse(one.stdout) as { diagnostics: { file: string }[] }).diagnostics.map((d) => d.file)).toEqual(["agents/sales.yaml"]);
    const connectors = cli(["check", "connectors"], dir);
    expect(connectors.status).toBe(0);
    // the text summary says what was left out, so a check in a subfolder never reads as "no problems" for the repository
    expect(connectors.stderr).toMatch(/^no problems in connectors \(.*\)\nthe rest of the repository has \d+ errors?( and \d+ warnings?)?, not shown: /);
    // the count is of the config files in PATH (connectors/ holds one), not the repository's
    expect(connectors.stderr).toMatch(/^no problems in connectors \(1 config file, /);
  });

  it("words text output for the current directory, as git does: each file, the paths and git commands of its message, the summary; --json keeps the root's", () => {
    const secrets = join(FIXTURES, "stale", "secrets");
    const r = cli(["check"], secrets);
    expect(r.status).toBe(1);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.map((l) => l.slice(0, l.indexOf(" ")))).toEqual(["development.enc.yaml:2:1:", "production.enc.yaml:1:1:"]);
    expect(lines[1]).toMatch(/^production\.enc\.yaml:1:1: error stale-mac production\.enc\.yaml still has git conflict markers: .*`git checkout -m -- production\.enc\.yaml` re-runs the merge/);
    // every stellar-secrets command runs there as printed (it finds the project upwards)
    expect(lines[1]).toContain("`stellar-secrets resolve NAME --env production --ours|--theirs`");
    expect(r.stdout).not.toContain("secrets/");
    expect(r.stderr).toBe("2 errors, 0 warnings in the current folder\n");
    // a file of the folder above, from a subfolder
    const agents = cli(["check", ".."], join(FIXTURES, "references", "agents"));
    expect(agents.stdout).toMatch(/^\.\.\/actions\/ticket\.yaml:9:45: error unknown-secret /m);
    expect(agents.stdout).toMatch(/^sales\.yaml:\d+:\d+: /m);
    // JSON (and SARIF) are the same wherever check runs: files and messages relative to the repository root
    const json = JSON.parse(cli(["check", "--json"], secrets).stdout) as { diagnostics: { file: string; message: string }[] };
    expect(json.diagnostics.map((d) => d.file)).toEqual(["secrets/development.enc.yaml", "secrets/production.enc.yaml"]);
    expect(json.diagnostics[1]?.message).toContain("`git checkout -m -- secrets/production.enc.yaml`");
  });

  it("names an environment's file kept under another name, with the git mv that renames it worded for the folder check runs in", () => {
    const dir = tempDir("check-cli-misnamed-");
    cpSync(join(FIXTURES, "clean"), dir, { recursive: true });
    cpSync(join(dir, "secrets", "production.enc.yaml"), join(dir, "secrets", "production.enc.yml"));
    rmSync(join(dir, "secrets", "production.enc.yaml"));
    const rename = "`git mv secrets/production.enc.yml secrets/production.enc.yaml`";
    const json = JSON.parse(cli(["check", "--json"], dir).stdout) as { diagnostics: { rule: string; file: string; message: string }[] };
    const found = json.diagnostics.filter((d) => d.message.includes(rename));
    // one missing-environment-value, at the misnamed file (not one per reference), and the info at the declaration
    expect(found.map((d) => [d.rule, d.file])).toEqual([
      ["missing-environment-value", "secrets/production.enc.yml"],
      ["environment-without-file", "stellar.yaml"],
    ]);
    // from a subfolder: both paths of the command relative to it, as every other path of the text output
    const sub = cli(["check", ".."], join(dir, "agents"));
    expect(sub.stdout).toContain("rename it, `git mv ../secrets/production.enc.yml ../secrets/production.enc.yaml`");
    expect(sub.stdout).not.toContain(" secrets/production.enc.y");
  });

  it("words the paths inside messages from a subfolder as its locations: a file outside the globs, its rename, another project's folder", () => {
    // (the location was relative to the current folder, the path in the message relative to the project root)
    const monorepo = cli(["check", ".."], join(FIXTURES, "planted-monorepo", "connections"));
    const unused = monorepo.stdout.split("\n").filter((l) => l.includes("legacy_hubspot_key"));
    expect(unused).toHaveLength(3);
    for (const line of unused) expect(line).toMatch(/^\.\.\/vault\/\w+\.enc\.yaml:\d+:1: warning unused-secret .*; only \.\.\/legacy\/old_hubspot\.yaml:5 references it, and \.\.\/stellar\.yaml's config\.exclude glob "legacy\/\*\*"/);
    expect(monorepo.stdout).toMatch(/^deepgram\.yaml:5:50: error unknown-secret .*, or move this file into \.\.\/projects\/voice\/$/m);
    const dir = tempDir("check-cli-wording-");
    cpSync(join(FIXTURES, "clean"), dir, { recursive: true });
    cpSync(join(dir, "connections", "openai.yaml"), join(dir, "connections", "OpenAI.YAML"));
    rmSync(join(dir, "connections", "openai.yaml"));
    const sub = cli(["check", ".."], join(dir, "agents"));
    const named = sub.stdout.split("\n").filter((l) => l.includes("OpenAI"));
    expect(named.length).toBeGreaterThanOrEqual(2);
    for (const line of named) {
      expect(line).toMatch(/\.\.\/connections\/OpenAI\.YAML:\d+ /);
      expect(line).toContain("rename it to ../connections/OpenAI.yaml");
      expect(line).not.toMatch(/[ (]connections\//);
    }
    // JSON keeps the forms of the project root, wherever check runs
    const json = JSON.parse(cli(["check", "..", "--json"], join(dir, "agents")).stdout) as { diagnostics: { message: string }[] };
    expect(json.diagnostics.filter((d) => d.message.includes("OpenAI")).every((d) => d.message.includes("rename it to connections/OpenAI.yaml"))).toBe(true);
  });

  it("names skipped files on stderr (a symbolic link loop) and still checks the rest", () => {
    const dir = tempDir("check-cli-loop-");
    cpSync(join(FIXTURES, "clean"), dir, { recursive: true });
    symlinkSync(".", join(dir, "agents", "loop"));
    symlinkSync("self.yaml", join(dir, "agents", "self.yaml"));
    const r = cli(["check"], dir);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("stellar-secrets: skipped agents/self.yaml: symbolic link loop\n");
    expect(r.stderr).toContain("stellar-secrets: skipped agents/loop: symbolic link to a folder already read");
    expect(r.stderr).toMatch(/no problems \(5 config files/);
  });

  it("checks a folder with a stellar.yaml of its own as its own project: a stellar.yaml added there hides nothing", () => {
    const dir = tempDir("check-cli-nested-");
    cpSync(join(FIXTURES, "clean"), dir, { recursive: true });
    // a minimal project in a subfolder, with a plain credential and a misspelt reference in its files
    cpSync(join(FIXTURES, "planted", "teams"), join(dir, "teams"), { recursive: true });
    writeFileSync(join(dir, "teams", "labs", "connectors", "leak.yaml"), "kind: action\nname: leak\nconnection: nowhere\nmethod: GET\npath: /x\nheaders:\n  - { name: X-Key, type: static, value: sk_live_FAKEFAKEFAKEFAKEFAKE0000 }\n  - { name: X-Ref, type: secret, secret: labs_api_kee }\n");
    const r = cli(["check", "--json"], dir);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout) as { diagnostics: { rule: string; file: string; line: number }[] };
    const nested = out.diagnostics.filter((d) => d.file.startsWith("teams/"));
    expect(nested.map((d) => [d.rule, d.file, d.line])).toEqual(
      expect.arrayContaining([
        ["plaintext-credential", "teams/labs/connectors/leak.yaml", 7],
        ["unknown-secret", "teams/labs/connectors/leak.yaml", 8],
      ]),
    );
    // its hints are worded to run at the outer root: `set` there would write the outer project's secrets
    const leak = (out.diagnostics as { rule: string; file: string; message: string }[]).find((d) => d.rule === "plaintext-credential" && d.file === "teams/labs/connectors/leak.yaml");
    expect(leak?.message).toContain("`(cd teams/labs && stellar-secrets set leak_x_key --env ENV)`");
    expect(leak?.message).toContain("`{ name: X-Key, type: secret, secret: leak_x_key }`");
    // checked against its own secrets: its reference to labs_api_key (only it has that name) is no problem
    expect(out.diagnostics.filter((d) => d.file === "teams/labs/connectors/labs.yaml")).toEqual([]);
    expect(r.stderr).toContain("stellar-secrets: teams/labs has a stellar.yaml of its own: checked as its own project (against its own secrets)\n");
    // a secret only the enclosing project has: that project is named from where check runs (not ../../stellar.yaml of the nested folder)
    writeFileSync(join(dir, "teams", "labs", "connectors", "outer.yaml"), "kind: action\nname: outer\nmethod: GET\npath: /x\nheaders:\n  - { name: X-Ref, type: secret, secret: openai_api_key }\n");
    const enclosing = (d: { rule: string; file: string; message: string }) => d.rule === "unknown-secret" && d.file === "teams/labs/connectors/outer.yaml";
    const atRoot = (JSON.parse(cli(["check", "--json"], dir).stdout) as { diagnostics: { rule: string; file: string; message: string }[] }).diagnostics.find(enclosing);
    expect(atRoot?.message).toContain("the enclosing project (stellar.yaml) has it");
    const fromTeams = cli(["check"], join(dir, "teams")).stdout.split("\n").find((l) => l.startsWith("labs/connectors/outer.yaml:"));
    expect(fromTeams).toContain("the enclosing project (../stellar.yaml) has it");
    const inside = cli(["check"], join(dir, "teams", "labs")).stdout.split("\n").find((l) => l.startsWith("connectors/outer.yaml:"));
    expect(inside).toContain("the enclosing project (../../stellar.yaml) has it");
    rmSync(join(dir, "teams", "labs", "connectors", "outer.yaml"));
    // inside it, the same findings with its own paths; a PATH of the outer project leaves it out
    const inner = JSON.parse(cli(["check", "--json", "teams/labs"], dir).stdout) as { diagnostics: { rule: string; file: string }[] };
    expect(inner.diagnostics.map((d) => d.file)).toContain("connectors/leak.yaml");
    const outerOnly = cli(["check", "--json", "agents"], dir);
    expect((JSON.parse(outerOnly.stdout) as { diagnostics: { file: string }[] }).diagnostics.filter((d) => d.file.startsWith("teams/"))).toEqual([]);
    // an outer config.include that does not reach teams/ (the load never enters it) leaves it checked all the same
    writeFileSync(join(dir, "stellar.yaml"), `${readFileSync(join(dir, "stellar.yaml"), "utf8")}config:\n  include: ["agents/**/*.yaml", "connectors/**/*.yaml"]\n`);
    const narrow = cli(["check", "--json"], dir);
    expect(narrow.status).toBe(1);
    expect((JSON.parse(narrow.stdout) as { diagnostics: { rule: string; file: string }[] }).diagnostics.filter((d) => d.file === "teams/labs/connectors/leak.yaml").map((d) => d.rule)).toEqual(
      expect.arrayContaining(["plaintext-credential", "unknown-secret"]),
    );
    expect(narrow.stderr).toContain("stellar-secrets: teams/labs has a stellar.yaml of its own: checked as its own project (against its own secrets)\n");
    // config.exclude is an explicit opt-out: the folder is left alone
    writeFileSync(join(dir, "stellar.yaml"), `${readFileSync(join(dir, "stellar.yaml"), "utf8")}  exclude: ["teams/**"]\n`);
    const optOut = JSON.parse(cli(["check", "--json"], dir).stdout) as { diagnostics: { file: string }[] };
    expect(optOut.diagnostics.filter((d) => d.file.startsWith("teams/"))).toEqual([]);
    writeFileSync(join(dir, "stellar.yaml"), readFileSync(join(dir, "stellar.yaml"), "utf8").replace(/config:\n  include: .*\n  exclude: .*\n$/, ""));
    // a stellar.yaml that cannot be read (a broken link) is an error on it; the rest is still checked
    mkdirSync(join(dir, "teams", "broken"));
    symlinkSync("/nonexistent-stellar-test/stellar.yaml", join(dir, "teams", "broken", "stellar.yaml"));
    const broken = cli(["check", "--json"], dir);
    expect(broken.status).toBe(1);
    const found = (JSON.parse(broken.stdout) as { diagnostics: { rule: string; file: string; message: string }[] }).diagnostics;
    expect(found.filter((d) => d.file === "teams/broken/stellar.yaml").map((d) => [d.rule, d.message.includes("cannot be read")])).toEqual([["schema", true]]);
    expect(found.some((d) => d.file === "teams/labs/connectors/leak.yaml")).toBe(true);
  });

  it("reports a plaintext .env.production that git tracks (one git ls-files), not the same file untracked nor a git-ignored .env; never a value (checker session 7, item 1)", () => {
    const dir = tempDir("check-cli-dotenv-");
    cpSync(join(FIXTURES, "references"), dir, { recursive: true });
    const git = (...args: string[]) => spawnSync("git", args, { cwd: dir, encoding: "utf8" });
    git("init", "-q");
    // TEST-ONLY fake values
    writeFileSync(join(dir, ".env.production"), "STRIPE_API_KEY=sk_test_fake_cli_0001\nPORT=8080\n");
    writeFileSync(join(dir, ".env"), "STRIPE_API_KEY=sk_test_fake_cli_0002\n");
    writeFileSync(join(dir, ".gitignore"), ".env\n");
    const untracked = cli(["check", "--json"], dir);
    const rules = (r: { stdout: string }) => (JSON.parse(r.stdout) as { diagnostics: { rule: string; file: string; line: number }[] }).diagnostics.filter((d) => d.file.startsWith(".env"));
    expect(rules(untracked)).toEqual([]);
    git("add", ".env.production");
    const tracked = cli(["check", "--json"], dir);
    expect(rules(tracked).map((d) => [d.rule, d.file, d.line])).toEqual([["plaintext-credential", ".env.production", 1]]);
    const text = cli(["check"], dir);
    expect(text.stdout).toContain(".env.production:1:1: error plaintext-credential .env.production holds a value of this project's secrets in plaintext (line 1: STRIPE_API_KEY (secret stripe_api_key)) and git tracks it");
    for (const r of [untracked, tracked, text]) expect(r.stdout + r.stderr).not.toMatch(/fake_cli/);
  });

  it("exits 2 on usage errors and 5 outside a project", () => {
    expect(cli(["check", "--format", "xml"], REPO).status).toBe(2);
    expect(cli(["check", "--max-warnings", "many"], REPO).status).toBe(2);
    expect(cli(["check", "--json", "--format", "sarif"], REPO).status).toBe(2);
    const empty = tempDir("check-none-");
    const none = cli(["check"], empty);
    expect(none.status).toBe(5);
    expect(none.stderr).toContain("NO_PROJECT");
    expect(none.stderr).toContain("run `stellar-secrets init` at the repository root");
    // above a project (a repository whose project is in a subfolder): the hint names it, not init
    mkdirSync(join(empty, "infra my", "secrets"), { recursive: true });
    writeFileSync(join(empty, "infra my", "stellar.yaml"), "version: 1\n");
    const above = cli(["check"], empty);
    expect(above.status).toBe(5);
    expect(above.stderr).toContain("hint: infra my/stellar.yaml is a project below this folder: run the command there (`cd 'infra my'`)");
    expect(above.stderr).not.toContain("stellar-secrets init");
  });

  it("never prints a secret value, whatever the format", () => {
    for (const fixture of ["plaintext", "references", "names"]) {
      const spec = JSON.parse(readFileSync(join(FIXTURES, fixture, "fixture.json"), "utf8")) as { files: Record<string, { values: Record<string, string> }> };
      const values = Object.values(spec.files).flatMap((f) => Object.values(f.values)).filter((v) => v !== "");
      for (const args of [["check"], ["check", "--json"], ["check", "--format", "sarif"], ["usage"], ["usage", "--json"]]) {
        const r = cli(args, join(FIXTURES, fixture));
        for (const v of [...values, "sk_live_FAKE", "FAKEpassword", "fake-plaintext-value"]) {
          expect(r.stdout + r.stderr).not.toContain(v);
        }
      }
    }
  });
});

describe("stellar-secrets usage", () => {
  it("lists every reference with kind, owner, field and environments", () => {
    const r = cli(["usage"], REPO);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      "salesforce_client_secret  (defined in staging, production; 1 reference)\n  connectors/salesforce.yaml:7  auth_connector salesforce  client_secret  needed in: staging, production\n",
    );
  });

  it("prints JSON for one name, including unknown referenced names", () => {
    const r = cli(["usage", "hubspot_api_token", "--json"], join(FIXTURES, "references"));
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      secrets: [
        {
          name: "hubspot_api_token",
          exists: true,
          definedIn: ["development", "staging"],
          references: [
            { file: "actions/audit.yaml", line: 7, column: 46, kind: "action", name: "audit", field: "headers[0] X-Hubspot", environments: ["development", "staging", "production"] },
            { file: "actions/charge.yaml", line: 8, column: 46, kind: "action", name: "charge", field: "headers[0] X-Hubspot", environments: ["production"] },
            { file: "connections/hubspot.yaml", line: 5, column: 50, kind: "api_connection", name: "hubspot", field: "headers[0] Authorization", environments: ["staging", "production"] },
          ],
        },
      ],
    });
    const unknown = JSON.parse(cli(["usage", "stripe_api_kee", "--json"], join(FIXTURES, "references")).stdout) as { secrets: { exists: boolean; references: unknown[] }[] };
    expect(unknown.secrets[0]).toMatchObject({ exists: false, definedIn: [], references: [{ file: "actions/ticket.yaml", line: 9 }] });
  });

  it("exits 4 for a name that neither exists nor is referenced, suggesting the nearest", () => {
    const r = cli(["usage", "hubspot_api_tokn"], join(FIXTURES, "references"));
    expect(r.status).toBe(4);
    expect(r.stderr).toContain('did you mean "hubspot_api_token"?');
  });
});
