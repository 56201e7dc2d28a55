/**
 * The checker over whole fixture repositories (test/fixtures/checker/<name>/, expected.json):
 * every rule, exact rule/severity/file/line/column, ranges that cover the offending text, and
 * the awkward inputs (bad YAML, empty files, other tools' files, huge files, symlink loops).
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  checkConfigFile,
  checkWorkspace,
  completionCandidates,
  completionContextAt,
  findAt,
  LineIndex,
  loadWorkspace,
  parseConfigFile,
  RULES,
  secretUsage,
  WorkspaceIndex,
  textHash,
  type CheckOptions,
  type Diagnostic,
  type UnresolvedMergeRecord,
} from "../packages/core/src/index.js";
import { useTempDirs } from "../packages/core/src/test-support/temp-dirs.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/checker/", import.meta.url));
const REPO = fileURLToPath(new URL("..", import.meta.url));
const fixtureNames = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

/**
 * The checker over a fixture. A fixture with a history.json (what git history would say: when
 * each value was last set, and the clock) gets it as the injected value history, in memory:
 * fixtures are not git repositories of their own.
 */
function check(dir: string): Diagnostic[] {
  return checkWorkspace(loadWorkspace(dir).index, { ...historyOf(dir), ...unresolvedOf(dir) });
}

/**
 * A fixture with an unresolved.json (what the merge driver would have recorded under the git
 * directory) gets those records, each for its file as it is now (`stale`: for another text).
 */
function unresolvedOf(dir: string): CheckOptions {
  const path = join(dir, "unresolved.json");
  if (!existsSync(path)) return {};
  const spec = JSON.parse(readFileSync(path, "utf8")) as { records: Record<string, { environment: string; names: string[]; stale?: boolean }> };
  const records = new Map<string, UnresolvedMergeRecord>();
  for (const [file, r] of Object.entries(spec.records)) {
    const text = readFileSync(join(dir, file), "utf8");
    records.set(file, {
      version: 1,
      path: file,
      environment: r.environment,
      names: r.names,
      file: textHash(r.stale === true ? `${text}\n` : text),
      theirs: textHash("their version"),
      recordedAt: "2026-01-01T00:00:00Z",
    });
  }
  return { unresolvedMerges: (rel) => records.get(rel) };
}

function historyOf(dir: string): CheckOptions {
  const path = join(dir, "history.json");
  if (!existsSync(path)) return {};
  const spec = JSON.parse(readFileSync(path, "utf8")) as { now: string; lastValueChange: Record<string, { date: string; commit: string }> };
  return {
    now: new Date(spec.now),
    history: { lastValueChange: (environment, name) => spec.lastValueChange[`${environment}/${name}`] },
  };
}

function textAt(root: string, d: Diagnostic): string {
  const text = readFileSync(join(root, d.file), "utf8").replace(/^\uFEFF/, ""); // positions count from after a byte order mark
  const lines = new LineIndex(text);
  return text.slice(lines.offsetAt(d.line, d.column), lines.offsetAt(d.endLine, d.endColumn));
}

describe("checker fixtures", () => {
  it("has a fixture for every rule", () => {
    const rules = new Set<string>();
    for (const name of fixtureNames) {
      for (const [rule] of JSON.parse(readFileSync(join(FIXTURES, name, "expected.json"), "utf8")) as [string][]) rules.add(rule);
    }
    expect([...rules].sort()).toEqual(RULES.map((r) => r.id).sort());
  });

  it.each(fixtureNames)("%s: reports exactly the expected diagnostics", (name) => {
    const dir = join(FIXTURES, name);
    const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as unknown[];
    const actual = check(dir).map((d) => [d.rule, d.severity, d.file, d.line, d.column]);
    expect(actual).toEqual(expected);
  });

  it.each(fixtureNames)("%s: each secret diagnostic's range covers the name it is about", (name) => {
    const dir = join(FIXTURES, name);
    for (const d of check(dir)) {
      if (d.secret === undefined || d.line === d.endLine && d.column === d.endColumn) continue;
      const covered = textAt(dir, d);
      if (d.rule === "unencrypted-secrets-file") continue; // at the value, not the name
      if (covered.startsWith("*")) continue; // a use through a YAML alias: at the alias (the planted fixture pins these)
      // a block scalar (`|`, `>-`) covers its indicator and its lines
      const name = /^[|>]/.test(covered) ? covered.replace(/^[|>][-+0-9]*\n\s*/, "") : covered.replace(/^["']|["']$/g, "");
      // (a quoted name may end in a space: `"twilio_auth_token "`, planted-freight)
      expect(name.trimEnd(), `${d.file}:${d.line}:${d.column} ${d.rule}`).toBe(d.secret.trimEnd());
    }
  });

  it("never puts a secret value in a message", () => {
    for (const name of fixtureNames) {
      const spec = JSON.parse(readFileSync(join(FIXTURES, name, "fixture.json"), "utf8")) as { files: Record<string, { values: Record<string, string> }> };
      const values = Object.values(spec.files).flatMap((f) => Object.values(f.values)).filter((v) => v !== "");
      const text = JSON.stringify(check(join(FIXTURES, name)));
      for (const v of values) expect(text).not.toContain(v);
    }
    const plain = JSON.stringify(check(join(FIXTURES, "plaintext")));
    for (const leaked of ["fake-plaintext-value", "sk_live_FAKE", "FAKEpassword", "ghp_FAKE", "AKIAFAKE", "xoxb-FAKE", "q8Zr2LpX"]) {
      expect(plain).not.toContain(leaked);
    }
  });
});

describe("messages and suggestions", () => {
  const refs = check(join(FIXTURES, "references"));
  const at = (file: string, line: number): Diagnostic[] => refs.filter((d) => d.file === file && d.line === line);

  it("suggests the nearest name, and says when it differs only by case", () => {
    expect(at("actions/ticket.yaml", 8)[0]).toMatchObject({ rule: "unknown-secret", secret: "Zendesk_API_Token", suggestion: "zendesk_api_token" });
    expect(at("actions/ticket.yaml", 8)[0]?.message).toMatchInlineSnapshot(
      `"unknown secret "Zendesk_API_Token": no environment file has it; "zendesk_api_token" differs only by case (names are case-sensitive)"`,
    );
    expect(at("actions/ticket.yaml", 9)[0]).toMatchObject({ suggestion: "stripe_api_key" });
    expect(at("actions/ticket.yaml", 10)[0]?.suggestion).toBeUndefined();
    expect(at("actions/ticket.yaml", 3)[0]).toMatchObject({ rule: "unknown-reference", suggestion: "zendesk" });
    expect(at("actions/ticket.yaml", 6)[0]).toMatchObject({ rule: "unknown-environment", suggestion: "production" });
  });

  it("names the environments where a value is missing, from the action, its agents, or all", () => {
    expect(at("actions/charge.yaml", 8)[0]?.message).toContain('has no value in production, where action "charge" is used');
    expect(at("connections/hubspot.yaml", 5)[0]?.message).toContain("has no value in production and an empty value in staging");
    expect(at("actions/audit.yaml", 7)[0]?.message).toContain("has no value in production and an empty value in staging");
  });

  it("names every environment without a value in the fix hint", () => {
    expect(at("connections/hubspot.yaml", 5)[0]?.message).toMatch(/`stellar-secrets set hubspot_api_token --env staging,production`$/);
    expect(at("actions/charge.yaml", 8)[0]?.message).toMatch(/`stellar-secrets set \w+ --env production`$/);
  });

  it("explains recipient drift with member names", () => {
    const drift = check(join(FIXTURES, "drift"));
    expect(drift.map((d) => d.message)).toMatchInlineSnapshot(`
      [
        "the production file can still be decrypted by age146egd5gtgw4v00juyu4c9p59ajdf7as5hu9kd40aqex3p55eh9yq8umy2z (not a member of any environment), not a member of production, and is not encrypted for deploy (age15hh2l49h57qk845q29d5de5fve8nagl8vhlwpt7w347gtx7p0vwsa7ez2k); re-key it for the members in stellar.yaml with \`stellar-secrets rotate-key --env production\`",
        "the staging file can still be decrypted by age1c2d603ts2jjaevpm8vwkqc3gamt558ehkef0cmsqzhyvc2lpc34sp99fms (bob, a member of development), not a member of staging; re-key it for the members in stellar.yaml with \`stellar-secrets rotate-key --env staging\`",
      ]
    `);
    expect(drift.every((d) => textAt(join(FIXTURES, "drift"), d) === "age")).toBe(true);
  });
});

describe("mistakes planted in a monorepo (qa s22)", () => {
  const dir = join(FIXTURES, "planted-monorepo");
  const found = check(dir);
  const at = (file: string): [string, number, number, number, number][] =>
    found.filter((d) => d.file === file).map((d) => [d.rule, d.line, d.column, d.endLine, d.endColumn]);
  const message = (file: string, line: number): string => found.find((d) => d.file === file && d.line === line)?.message ?? "";

  it("a .sops.yaml whose rules still name the renamed secrets folder: a warning at creation_rules with the path_regex to write", () => {
    expect(at(".sops.yaml")).toEqual([["sops-config-drift", 4, 1, 4, 15]]);
    expect(message(".sops.yaml", 4)).toContain("(as init writes them: path_regex: (^|/)vault/development\\.enc\\.yaml$)");
  });

  it("a name only the nested project has: says which project, and offers no other name as a fix", () => {
    expect(at("connections/deepgram.yaml")).toEqual([["unknown-secret", 5, 50, 5, 66]]);
    expect(found.find((d) => d.file === "connections/deepgram.yaml")?.suggestion).toBeUndefined();
    expect(message("connections/deepgram.yaml", 5)).toContain("projects/voice (a project of its own: projects/voice/stellar.yaml) has it");
    expect(at("agents/ops.yaml")).toEqual([["unknown-reference", 6, 5, 6, 13]]);
    expect(message("agents/ops.yaml", 6)).toContain("projects/voice/actions/dial_out.yaml:2 defines it in projects/voice");
  });

  it("a secret interpolated into a path, and a key in a query string, at the path and at the key", () => {
    expect(at("actions/ping.yaml")).toEqual([["schema", 5, 30, 5, 47]]);
    expect(at("actions/geocode.yaml")).toEqual([["plaintext-credential", 5, 37, 5, 69]]);
    expect(JSON.stringify(found)).not.toContain("9f8e7d6c5b4a39281706f5e4d3c2b1a0");
  });

  it("a value missing in production through action and agent, and a rename forgotten in production", () => {
    expect(at("connections/fraud.yaml")).toEqual([["missing-environment-value", 7, 13, 7, 30]]);
    expect(message("connections/fraud.yaml", 7)).toMatch(/\(in production: by action "\w+", which agent "\w+" lists\)/);
    expect(at("connections/reporting.yaml")).toEqual([["missing-environment-value", 5, 50, 5, 80]]);
    expect(message("connections/reporting.yaml", 5)).toContain("`stellar-secrets rename reporting_db_password reporting_db_readonly_password`");
    expect(at("vault/production.enc.yaml").slice(0, 1)).toEqual([["unused-secret", 1, 1, 1, 22]]);
    expect(message("vault/production.enc.yaml", 1)).toContain("`stellar-secrets rename reporting_db_password reporting_db_readonly_password`");
  });

  it("a secret used only from an excluded file: unused-secret names that file and the glob, in each environment", () => {
    const unused = found.filter((d) => d.rule === "unused-secret" && d.secret === "legacy_hubspot_key");
    expect(unused.map((d) => d.file)).toEqual(["vault/development.enc.yaml", "vault/production.enc.yaml", "vault/staging.enc.yaml"]);
    for (const d of unused) expect(d.message).toContain('only legacy/old_hubspot.yaml:5 references it, and stellar.yaml\'s config.exclude glob "legacy/**"');
  });
});

describe("mistakes planted in a third organisation (qa s23)", () => {
  const dir = join(FIXTURES, "planted-freight");
  const found = check(dir);
  const at = (file: string): [string, number, number, number, number][] =>
    found.filter((d) => d.file === file).map((d) => [d.rule, d.line, d.column, d.endLine, d.endColumn]);
  const one = (file: string, line: number): Diagnostic => found.find((d) => d.file === file && d.line === line) as Diagnostic;

  it("a typo one edit from two names: both named, the unreferenced one first, the other as an alternative", () => {
    const file = "platform/connections/logistics/carriers/dhl/connection.yaml";
    expect(at(file)).toEqual([["unknown-secret", 5, 192, 5, 202]]);
    expect([one(file, 5).suggestion, one(file, 5).alternatives]).toEqual(["dhl_api_key", ["dhl_app_key"]]);
    expect(one(file, 5).message).toContain('did you mean "dhl_api_key" or "dhl_app_key"?');
  });

  it("a static header naming a secret: one error at the type", () => {
    expect(at("agents/returns/actions/create_return_label.yaml")).toEqual([["schema", 7, 35, 7, 41]]);
    expect(one("agents/returns/actions/create_return_label.yaml", 7).suggestion).toBe("secret");
  });

  it("a header anchored in the first of three documents: the misspelt name once, at the anchor; each alias in a later document at the alias", () => {
    expect(at("agents/dispatch/actions/tracking.yaml")).toEqual([
      ["unknown-secret", 7, 63, 7, 80],
      ["schema", 15, 5, 15, 20],
      ["schema", 23, 5, 23, 20],
    ]);
    expect(one("agents/dispatch/actions/tracking.yaml", 15).message).toContain("it is set at line 7, in another document of this file");
  });

  it("an action in a .yml file that no include glob matches: the agent's reference names that file", () => {
    expect(at("agents/returns/agent.yaml")).toEqual([
      ["unknown-reference", 7, 5, 7, 18],
      ["unknown-reference", 9, 5, 9, 13],
    ]);
    expect(one("agents/returns/agent.yaml", 7).message).toContain("agents/returns/actions/refund_return.yml:2 defines it, but no config.include glob of stellar.yaml matches that file");
  });

  it("a reference that is the valid form of a kebab-case name: keep it and move the value, no replacement", () => {
    expect(at("platform/connections/data/segment.yaml")).toEqual([["unknown-secret", 5, 50, 5, 67]]);
    expect(one("platform/connections/data/segment.yaml", 5).suggestion).toBeUndefined();
    expect(one("platform/connections/data/segment.yaml", 5).message).toContain("`stellar-secrets rename segment-write-key segment_write_key` prints the steps");
    const unused = found.filter((d) => d.rule === "unused-secret" && d.secret === "segment-write-key");
    expect(unused).toHaveLength(3);
    for (const d of unused) expect(d.message).toContain('the reference "segment_write_key" at platform/connections/data/segment.yaml:5:50 is its valid form');
  });

  it("values missing where the references are used: preview only, production only, an empty value, a connector's client_secret, an agent without environments", () => {
    expect(at("agents/dispatch/actions/preview_quote.yaml")).toEqual([["missing-environment-value", 10, 13, 10, 34]]);
    expect(one("agents/dispatch/actions/preview_quote.yaml", 10).message).toContain("has no value in preview");
    expect(one("platform/connections/observability/datadog.yaml", 5).message).toContain("has no value in development, staging,");
    expect(one("platform/connections/crm/hubspot.yaml", 11).message).toContain("an empty value in staging");
    expect(at("platform/auth/quickbooks.yaml")).toEqual([["missing-environment-value", 8, 11, 8, 35]]);
    expect(at("platform/auth/snowflake.yaml")).toEqual([
      ["missing-environment-value", 4, 21, 4, 35],
      ["missing-environment-value", 5, 21, 5, 39],
    ]);
    expect(one("platform/auth/snowflake.yaml", 5).message).toContain('(in preview: by API connection "warehouse", which action "export_metrics" uses, which agent "analytics" lists)');
  });

  it("a copied action that kept its name: the duplicate at both definitions, and nothing derived through the name (#16)", () => {
    expect(at("agents/returns/actions/crm_note.yaml")).toEqual([["schema", 2, 7, 2, 19]]);
    expect(at("agents/support/actions/lookup_order.yaml")).toEqual([["schema", 2, 7, 2, 19]]);
    expect(one("agents/returns/actions/crm_note.yaml", 2).message).toContain("is also used at agents/support/actions/lookup_order.yaml:2:7");
    expect(one("agents/support/actions/lookup_order.yaml", 2).message).toContain("is already used at agents/returns/actions/crm_note.yaml:2:7");
    // hubspot's secrets are not needed in preview through support's lookup_order (which may be the copy)
    expect(found.filter((d) => d.file === "platform/connections/crm/hubspot.yaml" && d.message.includes("preview"))).toEqual([]);
  });

  it("a secret referenced only in a comment: unused-secret says where the comment is (#7)", () => {
    const unused = found.filter((d) => d.rule === "unused-secret" && d.secret === "freshdesk_api_key");
    expect(unused.length).toBeGreaterThan(0);
    for (const d of unused) expect(d.message).toMatch(/it is mentioned only in a comment at platform\/connections\/support\/freshdesk\.yaml:\d+ \(a comment is no reference\)/);
  });

  it("nothing for a reference in a comment or in a block scalar, nor in the correct parts (CRLF, BOM, a tab after name:, quoted keys, flow style)", () => {
    expect(at("platform/connections/support/freshdesk.yaml")).toEqual([]);
    expect(at("agents/support/agent.yaml")).toEqual([]);
    for (const clean of ["agents/voice/actions/transcribe_call.yaml", "platform/auth/openai.yaml", "platform/auth/netsuite.yaml", "platform/connections/logistics/carriers/dhl/express.yaml", "platform/connections/comms/sendgrid.yaml"])
      expect(at(clean), clean).toEqual([]);
    expect(found.map((d) => d.file).filter((f) => !f.startsWith("secrets/") && !f.startsWith("agents/") && !f.startsWith("platform/"))).toEqual([]);
    // a case-only difference, a trailing space, a wrong-case environment, the credential's line, never its value
    expect(one("platform/connections/payments/stripe-webhooks.yaml", 7).message).toContain('"stripe_webhook_secret" differs only by case');
    expect(one("platform/connections/comms/twilio.yaml", 6).suggestion).toBe("twilio_auth_token");
    expect(one("agents/onboarding/agent.yaml", 3).suggestion).toBe("production");
    expect(at("agents/voice/agent.yaml")).toEqual([["plaintext-credential", 7, 3, 7, 80]]);
    expect([...at("platform/auth/zendesk.yaml"), one("platform/auth/zendesk.yaml", 5).suggestion]).toEqual([["schema", 5, 11, 5, 30], "{ secret: zendesk_agent_email }"]);
    expect(JSON.stringify(found)).not.toContain("Zx9QmT4vLw2Rk7NpB3sHy6JdF8gC1aEu5oXi0UeWqYrTzAbCdEf");
  });
});

describe("mistakes planted in a fourth organisation (qa s24)", () => {
  const dir = join(FIXTURES, "planted-clinic");
  const found = check(dir);
  const at = (file: string): [string, number, number, number, number][] =>
    found.filter((d) => d.file === file).map((d) => [d.rule, d.line, d.column, d.endLine, d.endColumn]);
  const one = (file: string, line: number): Diagnostic => found.find((d) => d.file === file && d.line === line) as Diagnostic;

  it("a catch-all .sops.yaml rule above production's own: one finding, saying which rule to move above which", () => {
    expect(at(".sops.yaml")).toEqual([["sops-config-drift", 8, 10, 8, 135]]);
    expect(one(".sops.yaml", 8).severity).toBe("error");
    expect(one(".sops.yaml", 8).message).toContain("move rule 4 above rule 3");
  });

  it("stellar.yaml: a request members approve refuses, an approval of no member, a misspelt rule id", () => {
    expect(at("stellar.yaml")).toEqual([
      ["pending-access-request", 17, 7, 17, 10],
      ["schema", 26, 7, 26, 11],
      ["schema", 42, 3, 42, 17],
    ]);
    expect(one("stellar.yaml", 17).message).toContain("but bob is a member of development with another key");
    expect(one("stellar.yaml", 17).message).not.toContain("stellar-secrets members approve");
    expect(one("stellar.yaml", 26).severity).toBe("warning");
    expect(one("stellar.yaml", 42).suggestion).toBe("unused-secret");
  });

  it("fixes the editor can write: a trimmed header name, secret for value:, no Replace that would list a name twice", () => {
    expect([...at("services/auth/sendgrid.yaml"), one("services/auth/sendgrid.yaml", 5).suggestion]).toEqual([["schema", 5, 14, 5, 26], "X-Api-Key"]);
    expect([...at("services/connections/crm/hubspot.yaml"), one("services/connections/crm/hubspot.yaml", 5).suggestion]).toEqual([["schema", 5, 42, 5, 47], "secret"]);
    expect([one("agents/outreach/agent.yaml", 8).suggestion, one("agents/triage/agent.yaml", 6).suggestion]).toEqual([undefined, undefined]);
    expect(one("agents/outreach/agent.yaml", 8).message).toContain('"send_email", which it looks like, is already listed: remove this entry');
    expect(one("agents/triage/agent.yaml", 6).message).toContain('"production", which it looks like, is already listed: remove this entry');
    for (const [file, line] of [["services/connections/billing/stripe.yaml", 8], ["agents/outreach/actions/send_email.yaml", 9]] as const)
      expect(one(file, line).message).toContain("a block scalar (`|` or `>`) keeps the line break at its end");
  });

  it("a merge-key anchor with a misspelt secret: the name once, at the anchor; nothing at the correct parts (JSON flow, CRLF, BOM, a tab after -)", () => {
    expect(at("agents/scheduling/actions/fhir_appointments.yaml").filter((r) => r[0] === "unknown-secret")).toEqual([["unknown-secret", 9, 13, 9, 28]]);
    expect(at("agents/intake/actions/submit_form.json")).toEqual([["unknown-secret", 2, 67, 2, 86]]);
    for (const clean of ["services/connections/analytics/mixpanel.yaml", "services/auth/openai.yaml", "agents/billing/agent.yaml", "agents/intake/actions/fetch_responses.yaml", "agents/scheduling/agent.yaml", "services/auth/epic.yaml", "services/auth/twilio.yaml", "services/auth/docusign.yaml", "services/connections/analytics/segment.yaml", "agents/records/agent.yaml"])
      expect(at(clean), clean).toEqual([]);
    expect(found.filter((d) => d.secret === "stripe_connect_account")).toEqual([]);
  });
});

describe("mistakes planted in a realistic organisation", () => {
  const dir = join(FIXTURES, "planted");
  const found = check(dir);
  const at = (file: string): [string, number, number, number, number][] =>
    found.filter((d) => d.file === file).map((d) => [d.rule, d.line, d.column, d.endLine, d.endColumn]);

  it("reports a misspelt name used twice through an anchored mapping once per use: at the anchor's value and at the alias", () => {
    expect(at("connectors/acme.yaml")).toEqual([
      ["unknown-secret", 6, 11, 6, 25],
      ["unknown-secret", 7, 11, 7, 17],
    ]);
  });

  it("reports what a header written as an alias holds at the alias, never twice at the anchored header", () => {
    expect(at("connections/aliased-header.yaml")).toEqual([
      ["unknown-secret", 5, 50, 5, 62],
      ["schema", 6, 5, 6, 7],
      ["unknown-secret", 6, 5, 6, 7],
    ]);
  });

  it("counts columns on the first line of a file with a byte order mark as an editor shows them (without it)", () => {
    expect(at("connectors/bom.yaml")).toEqual([["unknown-secret", 1, 70, 1, 82]]);
  });

  it("names a letter that is not ASCII in a name that looks exactly like an existing one", () => {
    const d = found.find((x) => x.file === "actions/lookalike.yaml");
    expect(d).toMatchObject({ rule: "unknown-secret", line: 7, column: 47, endColumn: 59, suggestion: "acme_api_key" });
    expect(d?.message).toBe(
      'unknown secret "acme_\u0430pi_key": no environment file has it; its character 6, "\u0430" (U+0430), is not ASCII (a look-alike of another letter); did you mean "acme_api_key"?',
    );
  });

  it("says that a field which takes no secret takes no { secret: NAME }, and where a reference goes", () => {
    expect(at("actions/wrong-field.yaml")).toEqual([
      ["schema", 5, 7, 5, 31],
      ["schema", 7, 44, 7, 68],
    ]);
    const messages = found.filter((d) => d.file === "actions/wrong-field.yaml").map((d) => d.message);
    expect(messages[0]).toBe('"path" must be string: it takes no secret reference { secret: NAME } (only the `secret:` of a `type: secret` header and an auth connector\'s credential fields take one)');
    expect(messages[1]).toBe('"headers.0.value" must be string: it takes no secret reference { secret: NAME } (a header takes a secret as `type: secret` with `secret: NAME`)');
  });

  it("says that a YAML merge key (<<) is not read", () => {
    // one diagnostic at the << (not also "missing required field" at the same place): the fields it was to bring are named
    expect(found.filter((d) => d.file === "actions/merge-key.yaml").map((d) => d.message)).toEqual([
      'unknown field "<<" in "headers.1": YAML merge keys are not read (YAML 1.2), so this mapping lacks "type"; write the fields out, or alias the whole mapping (*name)',
    ]);
  });

  it("covers the whole duplicate key, not its first character", () => {
    expect(at("actions/dup.yaml")).toEqual([["schema", 6, 1, 6, 7]]);
  });

  it("ends a block scalar's range after the name, not at the start of the next line", () => {
    expect(at("connections/block.yaml")).toEqual([
      ["unknown-secret", 7, 13, 8, 22],
      ["unknown-secret", 11, 13, 12, 19],
    ]);
  });

  it("keeps a name with a line break (a | block scalar) on one line of the message", () => {
    const d = found.find((x) => x.file === "connections/block.yaml");
    expect(d).toMatchObject({ rule: "unknown-secret", secret: "acme_auth_token\n", suggestion: "acme_auth_token" });
    expect(d?.message).toMatchInlineSnapshot(`"unknown secret "acme_auth_token\\n": no environment file has it; "acme_auth_token" differs only by the line break at its end (a | block scalar keeps it): write it without"`);
  });

  it("reports a credential pasted into a secret field as plaintext-credential, never repeating it (check, usage); a wrong name stays unknown-secret", () => {
    expect(at("connections/pasted.yaml")).toEqual([
      ["plaintext-credential", 6, 43, 6, 78],
      ["plaintext-credential", 9, 13, 9, 47],
      ["unknown-secret", 12, 13, 12, 29],
    ]);
    const pasted = found.filter((d) => d.file === "connections/pasted.yaml" && d.rule === "plaintext-credential");
    expect(pasted.map((d) => d.secret)).toEqual([undefined, undefined]);
    expect(pasted[0]?.message).toContain("a Stripe live secret key (sk_live_…)");
    expect(pasted[1]?.message).toContain("a long random string");
    const everything = JSON.stringify([found, secretUsage(loadWorkspace(dir).index)]);
    for (const leaked of ["FAKEplanted", "Q7mZp2XrL9vKt4NwB8sHc3JdF6gY1aEu"]) expect(everything).not.toContain(leaked);
    expect(secretUsage(loadWorkspace(dir).index).map((u) => u.secret)).toContain("StripeWebhookKey");
    // a wrong name that no secret can have: no `set` hint (set refuses it), a valid form instead
    expect(found.find((d) => d.secret === "StripeWebhookKey")?.message).toBe(
      'unknown secret "StripeWebhookKey": no environment file has it; no secret can have this name: names are lowercase letters, digits and _, starting with a letter (as in "stripe_webhook_key")',
    );
  });

  it("leaves a second project (a folder with its own stellar.yaml) to itself, and says it skipped it", () => {
    expect(found.filter((d) => d.file.startsWith("teams/"))).toEqual([]);
    const loaded = loadWorkspace(dir);
    expect([...loaded.index.configFiles.keys()].filter((f) => f.startsWith("teams/"))).toEqual([]);
    expect(loaded.skipped).toContainEqual({ path: "teams/labs", reason: expect.stringContaining("another project"), project: true });
    // and that project, checked on its own, is clean
    expect(check(join(dir, "teams", "labs"))).toEqual([]);
  });
});

describe("the example organisation", () => {
  it("passes check cleanly", () => {
    expect(check(REPO)).toEqual([]);
  });

  it("has encrypted files that its test-only keys decrypt to the values of scripts/make-example-org.mjs", () => {
    const r = spawnSync(process.execPath, [join(REPO, "scripts", "make-example-org.mjs"), "--check"], { cwd: REPO, encoding: "utf8" });
    expect(r.stdout).toBe("unchanged development\nunchanged staging\nunchanged production\n");
    expect(r.status).toBe(0);
  });

  it("knows where each secret is used and where it is needed", () => {
    const { index } = loadWorkspace(REPO);
    const usage = secretUsage(index, "salesforce_client_secret");
    expect(usage).toEqual([
      {
        secret: "salesforce_client_secret",
        definedIn: ["staging", "production"],
        exists: true,
        uses: [
          {
            file: "connectors/salesforce.yaml",
            line: 7,
            column: 26,
            kind: "auth_connector",
            owner: "salesforce",
            field: "client_secret",
            environments: ["staging", "production"],
          },
        ],
      },
    ]);
  });
});

/** Temp folders of the running test, removed after it (a failing assertion included). */
const tempDir = useTempDirs();

function tempCopy(fixture: string): string {
  const dir = tempDir(`checker-${fixture}-`);
  cpSync(join(FIXTURES, fixture), dir, { recursive: true });
  return dir;
}

describe("one key, two spellings (recipient-drift compares keys, not strings)", () => {
  const ALICE = "age1r7t4nna8sqyctkujc4lwpun9ged8qz0a4vt2esnxcg8cq7cm84kqdr8nx2";
  const BOB = "age1c2d603ts2jjaevpm8vwkqc3gamt558ehkef0cmsqzhyvc2lpc34sp99fms";
  // bob's 32 bytes with bit 255 set (X25519 ignores it), encoded again: another valid age1… string of bob's key
  const BOB_TOP_BIT = "age1c2d603ts2jjaevpm8vwkqc3gamt558ehkef0cmsqzhyvc2lpcn4s9phwqf";

  it("an environment file's recipient written AGE1… is its member's key (no drift); one with the top bit set is that member's key written another way, which age's own client does not open: drift naming the member, no outsider", () => {
    const dir = tempCopy("drift");
    const file = join(dir, "secrets/development.enc.yaml");
    const text = readFileSync(file, "utf8");
    writeFileSync(file, text.replace(`recipient: ${ALICE}`, `recipient: ${ALICE.toUpperCase()}`));
    const drift = check(dir).filter((d) => d.rule === "recipient-drift");
    expect(drift.filter((d) => d.file === "secrets/development.enc.yaml")).toEqual([]);
    // (the drift the fixture has elsewhere is still there)
    expect(drift.map((d) => d.file).sort()).toEqual(["secrets/production.enc.yaml", "secrets/staging.enc.yaml"]);
    writeFileSync(file, text.replace(`recipient: ${BOB}`, `recipient: ${BOB_TOP_BIT}`));
    const respelt = check(dir).filter((d) => d.rule === "recipient-drift" && d.file === "secrets/development.enc.yaml");
    expect(respelt.map((d) => [d.line, d.column])).toEqual([[3, 5]]);
    expect(respelt[0]!.message).toBe(
      `the development file is encrypted for ${BOB_TOP_BIT} (bob, a member of development) written another way (the top bit X25519 ignores set; the key is ${BOB}): age salts each stanza with the key as written, so age's own client does not open such a stanza; re-key it for the members in stellar.yaml with \`stellar-secrets rotate-key --env development\``,
    );
  });

  it("a member key in stellar.yaml that is another member's key spelt another way is recipient-drift at the later name, and the file encrypted to that key does not drift", () => {
    const dir = tempCopy("drift");
    const project = join(dir, "stellar.yaml");
    writeFileSync(project, readFileSync(project, "utf8").replace(/( {6}ci: .*\n)/, `$1      bobby: ${BOB_TOP_BIT}\n`));
    const drift = check(dir).filter((d) => d.rule === "recipient-drift");
    expect(drift.map((d) => [d.file, d.line, d.column])).toEqual([
      ["secrets/production.enc.yaml", 3, 5],
      ["stellar.yaml", 11, 7],
    ]);
    expect(drift[1]!.message).toContain(`the key of "bobby" in staging is also "bob"'s (in development), written another way`);
  });
});

describe("awkward inputs", () => {
  it("skips a symbolic link loop and a broken link, and still checks the rest", () => {
    const dir = tempCopy("clean");
    symlinkSync(".", join(dir, "agents", "loop"));
    symlinkSync("self.yaml", join(dir, "agents", "self.yaml"));
    symlinkSync("missing.yaml", join(dir, "agents", "dangling.yaml"));
    const { index, skipped } = loadWorkspace(dir);
    // (links to folders are walked after the real folders: the loop's line comes last)
    expect(skipped).toEqual([
      { path: "agents/dangling.yaml", reason: "broken symbolic link" },
      { path: "agents/self.yaml", reason: "symbolic link loop" },
      { path: "agents/loop", reason: "symbolic link to a folder already read (a loop or a second path to it)" },
    ]);
    expect(checkWorkspace(index)).toEqual([]);
  });

  it("a link to a config file read under its own path, and a link to a config folder, are skipped: read once, under the real path, no 'name also used' (checker session 5, planted)", () => {
    const dir = tempCopy("clean");
    symlinkSync("github.yaml", join(dir, "connectors", "github-copy.yaml"));
    // listed before the real folder: it was walked first, and the real `connectors` was the one skipped
    mkdirSync(join(dir, "actions", "aa"), { recursive: true });
    symlinkSync("../../connectors", join(dir, "actions", "aa", "conn"));
    const { index, skipped } = loadWorkspace(dir);
    expect(skipped).toEqual([
      { path: "connectors/github-copy.yaml", reason: "symbolic link to connectors/github.yaml, which is read as a config file under its own path" },
      { path: "actions/aa/conn", reason: "symbolic link to a folder already read (a loop or a second path to it)" },
    ]);
    expect([...index.configFiles.keys()].filter((p) => p.includes("github"))).toEqual(["connections/github.yaml", "connectors/github.yaml"]);
    expect(checkWorkspace(index)).toEqual([]);
  });

  it("a config file reached only through links, by a file link and a folder link, is read once under the first path and the second path is said once (checker session 7, item 3)", () => {
    const dir = tempCopy("clean");
    // the real file sits in an excluded folder; connectors/github.yaml links to it, legacy/ links to the folder
    mkdirSync(join(dir, "shared"));
    writeFileSync(join(dir, "shared", "github.yaml"), readFileSync(join(dir, "connectors", "github.yaml"), "utf8"));
    rmSync(join(dir, "connectors", "github.yaml"));
    symlinkSync("../shared/github.yaml", join(dir, "connectors", "github.yaml"));
    symlinkSync("shared", join(dir, "legacy"));
    writeFileSync(join(dir, "stellar.yaml"), `${readFileSync(join(dir, "stellar.yaml"), "utf8")}config:\n  exclude: ["shared/**"]\n`);
    const { index, skipped } = loadWorkspace(dir);
    // before: read at both paths, each an "auth connector name also used" error at the other
    expect(skipped).toEqual([{ path: "legacy/github.yaml", reason: "a second path to shared/github.yaml, which is read as a config file under connectors/github.yaml" }]);
    expect([...index.configFiles.keys()].filter((p) => p.includes("github"))).toEqual(["connections/github.yaml", "connectors/github.yaml"]);
    expect(checkWorkspace(index)).toEqual([]);
  });

  it("a link to a folder with its own stellar.yaml (another project) is said once, the project checked once under its own path; a link to a file of that project is this project's copy (checker session 6, item 1)", () => {
    const nested = (dir: string, rel: string): void => {
      mkdirSync(join(dir, rel, "connectors"), { recursive: true });
      writeFileSync(join(dir, rel, "stellar.yaml"), "version: 1\nenvironments:\n  development:\n    members: {}\n");
      writeFileSync(join(dir, rel, "connectors", "acme.yaml"), "kind: auth_connector\nname: acme\ntype: api_key\napi_key: { secret: acme_api_key }\n");
    };
    // the project outside the globs, reached only through the link: it was one more project at the
    // link's path, so `check` checked it twice (once there, once found under its own path)
    const a = tempCopy("clean");
    writeFileSync(join(a, "stellar.yaml"), `${readFileSync(join(a, "stellar.yaml"), "utf8")}config:\n  include: ["connectors/**/*.yaml", "connections/**/*.yaml", "actions/**/*.yaml", "agents/**/*.yaml"]\n`);
    nested(a, "services/billing");
    symlinkSync("../services/billing", join(a, "connectors", "billing"));
    const first = loadWorkspace(a);
    expect(first.skipped).toEqual([
      { path: "connectors/billing", reason: "symbolic link to services/billing, a project of its own (it has its own stellar.yaml): its files are checked once, as that project's, under services/billing" },
      { path: "services/billing", reason: "another project (it has its own stellar.yaml)", project: true },
    ]);
    expect(checkWorkspace(first.index)).toEqual([]);
    // the project walked under its own path first: the link was "a folder already read"
    const b = tempCopy("clean");
    nested(b, "agents/billing-team");
    symlinkSync("../agents/billing-team", join(b, "connectors", "bt"));
    // a link to one of its files: not this project's file under its own path (the old reason said so, and skipped it)
    symlinkSync("../agents/billing-team/connectors/acme.yaml", join(b, "connections", "acme.yaml"));
    const second = loadWorkspace(b);
    expect(second.skipped).toEqual([
      { path: "agents/billing-team", reason: "another project (it has its own stellar.yaml)", project: true },
      { path: "connectors/bt", reason: "symbolic link to agents/billing-team, a project of its own (it has its own stellar.yaml): its files are checked once, as that project's, under agents/billing-team" },
    ]);
    expect(second.index.configFiles.has("connections/acme.yaml")).toBe(true);
    expect(checkWorkspace(second.index).map((d) => [d.rule, d.file, d.line])).toEqual([["unknown-secret", "connections/acme.yaml", 4]]);
  });

  it("reports a symbolic link in the inbox as invalid-proposal on the link (what and where), never reading through it", () => {
    const dir = tempCopy("inbox");
    const inbox = join(dir, "secrets", "inbox");
    // to a valid proposal of the same environment: it would pass as pending if it were followed
    writeFileSync(join(inbox, "development", "acme_api_key.a1b2c3d4e5f6.age.copy"), readFileSync(join(inbox, "development", "acme_api_key.a1b2c3d4e5f6.age")));
    symlinkSync("acme_api_key.a1b2c3d4e5f6.age.copy", join(inbox, "development", "acme_api_key.a1b2c3d4e5f7.age"));
    symlinkSync(join(tmpdir(), "nowhere-else.age"), join(inbox, "development", "acme_api_key.a1b2c3d4e5f8.age"));
    symlinkSync("development", join(inbox, "qa"));
    const { index, skipped } = loadWorkspace(dir);
    expect(skipped).toEqual([]);
    const links = checkWorkspace(index).filter((d) => /\.a1b2c3d4e5f[78]\.age$|inbox\/qa$/.test(d.file));
    expect(links.map((d) => [d.rule, d.severity, d.file, d.line, d.column])).toEqual([
      ["invalid-proposal", "error", "secrets/inbox/development/acme_api_key.a1b2c3d4e5f7.age", 1, 1],
      ["invalid-proposal", "error", "secrets/inbox/development/acme_api_key.a1b2c3d4e5f8.age", 1, 1],
      ["invalid-proposal", "error", "secrets/inbox/qa", 1, 1],
    ]);
    expect(links[0]?.message).toMatchInlineSnapshot(`"secrets/inbox/development/acme_api_key.a1b2c3d4e5f7.age is a symbolic link (to secrets/inbox/development/acme_api_key.a1b2c3d4e5f6.age.copy), not a proposal: the inbox holds only regular files written by \`stellar-secrets set\`, and git would commit the link, not a proposal; it was not read; remove the link (\`git rm secrets/inbox/development/acme_api_key.a1b2c3d4e5f7.age\`) and propose the value again with \`stellar-secrets set acme_api_key --env development\`"`);
    expect(links[1]?.message).toContain("(pointing nowhere)");
    expect(links[2]?.message).toContain("secrets/inbox/qa is a symbolic link (to secrets/inbox/development)");
    rmSync(dir, { recursive: true, force: true });
  });

  it("reports a file over the size limit on the file (not only a skipped line) and checks a large one", () => {
    const dir = tempCopy("clean");
    const headers = Array.from({ length: 20_000 }, (_, i) => `  - { name: X-H${i}, type: static, value: v${i} }`).join("\n");
    writeFileSync(join(dir, "connections", "big.yaml"), `kind: api_connection\nname: big\nbase_url: https://x.example\nheaders:\n${headers}\n  - { name: X-Key, type: secret, secret: nope_key }\n`);
    writeFileSync(join(dir, "connections", "huge.yaml"), `kind: api_connection\n# ${"x".repeat(200)}\n`.repeat(60_000));
    const { index, skipped } = loadWorkspace(dir, { maxFileBytes: 8 * 1024 * 1024 });
    expect(skipped).toEqual([]);
    const d = checkWorkspace(index);
    expect(d.map((x) => [x.rule, x.file, x.line])).toEqual([
      ["unknown-secret", "connections/big.yaml", 20_005],
      ["schema", "connections/huge.yaml", 1],
    ]);
    expect(d[1]!.message).toMatch(/^connections\/huge\.yaml is larger than 8 MiB/);
  });

  it("reports an environment file over the size limit on the file, and no missing values for its environment", () => {
    const dir = tempCopy("clean");
    const path = join(dir, "secrets", "production.enc.yaml");
    writeFileSync(path, `${readFileSync(path, "utf8")}# ${"x".repeat(200)}\n`.repeat(45_000));
    const { index, skipped } = loadWorkspace(dir);
    expect(skipped).toEqual([]);
    const d = checkWorkspace(index);
    expect(d.map((x) => [x.rule, x.severity, x.file, x.line, x.column])).toEqual([["unencrypted-secrets-file", "error", "secrets/production.enc.yaml", 1, 1]]);
    expect(d[0]?.message).toMatch(
      /^secrets\/production\.enc\.yaml is larger than 8\.0 MiB \(\d+\.\d MiB\), so it was not read: its encryption and names are not checked, and no missing-environment-value is reported for production; /,
    );
  });

  it("reports an environment file that is not UTF-8 at line 1", () => {
    const dir = tempCopy("clean");
    const path = join(dir, "secrets", "development.enc.yaml");
    writeFileSync(path, Buffer.concat([Buffer.from([0xff, 0xfe, 0x41]), readFileSync(path)]));
    const d = check(dir);
    expect(d.map((x) => [x.rule, x.file, x.line, x.column])).toEqual([["unencrypted-secrets-file", "secrets/development.enc.yaml", 1, 1]]);
    expect(d[0]?.message).toContain("is not valid UTF-8 text");
  });

  it("reports bad YAML in a config file, ignores empty files and other tools' files", () => {
    const dir = tempCopy("clean");
    writeFileSync(join(dir, "agents", "bad.yaml"), "kind: agent\nname: x\nactions: [a\n");
    writeFileSync(join(dir, "agents", "empty.yaml"), "");
    writeFileSync(join(dir, "agents", "tabs.yaml"), "\tkind: agent\n");
    writeFileSync(join(dir, "agents", "binary.yaml"), Buffer.from([0, 159, 146, 150, 255, 0, 1]));
    const d = check(dir);
    // tabs.yaml looks like ours (kind: agent) but is not valid YAML: reported; binary and empty files are not ours
    expect(d.map((x) => [x.rule, x.file, x.line, x.column])).toEqual([
      ["schema", "agents/bad.yaml", 4, 1],
      ["schema", "agents/tabs.yaml", 1, 1],
    ]);
  });

  it("rejects YAML alias bombs without blowing up", () => {
    const dir = tempCopy("clean");
    const bomb = ["kind: agent", "name: bomb", "a: &a [x, x, x, x, x, x, x, x, x]", ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`)].join("\n");
    writeFileSync(join(dir, "agents", "bomb.yaml"), `${bomb}\n`);
    const d = check(dir);
    expect(d.map((x) => [x.rule, x.file])).toEqual([["schema", "agents/bomb.yaml"]]);
    expect(d[0]?.message).toMatch(/alias/i);
  });

  it("reports only stellar.yaml when it is not usable", () => {
    const dir = tempCopy("clean");
    writeFileSync(join(dir, "stellar.yaml"), "version: 1\nenvironments: [\n");
    const d = check(dir);
    expect(d.length).toBeGreaterThan(0);
    expect(new Set(d.map((x) => x.file))).toEqual(new Set(["stellar.yaml"]));
    writeFileSync(join(dir, "stellar.yaml"), "");
    expect(check(dir).map((x) => [x.rule, x.file, x.line, x.column])).toEqual([["schema", "stellar.yaml", 1, 1]]);
  });

  it("reports an empty environment file and a broken one as unencrypted", () => {
    const dir = tempCopy("clean");
    writeFileSync(join(dir, "secrets", "production.enc.yaml"), "");
    writeFileSync(join(dir, "secrets", "development.enc.yaml"), "a: [\n");
    // development cannot be read at all, so no name is reported unknown (it might be in there)
    const d = check(dir);
    expect(d.map((x) => [x.rule, x.file, x.line])).toEqual([
      ["unencrypted-secrets-file", "secrets/development.enc.yaml", 2],
      ["unencrypted-secrets-file", "secrets/production.enc.yaml", 1],
    ]);
  });

  it("finds a nested secrets folder even when the include globs point elsewhere", () => {
    const dir = tempCopy("clean");
    mkdirSync(join(dir, "config"));
    cpSync(join(dir, "secrets"), join(dir, "config", "vault"), { recursive: true });
    rmSync(join(dir, "secrets"), { recursive: true });
    writeFileSync(
      join(dir, "stellar.yaml"),
      `${readFileSync(join(dir, "stellar.yaml"), "utf8")}secrets_dir: config/vault\nconfig:\n  include: ["connectors/*.yaml", "connections/*.yaml", "actions/*.yaml", "agents/*.yaml"]\n`,
    );
    const { index } = loadWorkspace(dir);
    expect([...index.environmentFiles.values()].map((f) => f.path).sort()).toEqual(["config/vault/development.enc.yaml", "config/vault/production.enc.yaml"]);
    expect(index.catalog?.path).toBe("config/vault/catalog.yaml");
    expect(checkWorkspace(index)).toEqual([]);
  });

  it("throws NO_PROJECT outside a project", () => {
    const dir = tempDir("checker-none-");
    expect(() => loadWorkspace(dir)).toThrow(expect.objectContaining({ code: "NO_PROJECT" }));
  });
});

describe("editor helpers over the index", () => {
  it("finds what is at an offset: references, definitions, links, names, environments", () => {
    const { index } = loadWorkspace(join(FIXTURES, "references"));
    const ticket = readFileSync(join(FIXTURES, "references", "actions", "ticket.yaml"), "utf8");
    const offsetOf = (s: string, delta = 1): number => ticket.indexOf(s) + delta;
    expect(findAt(index, "actions/ticket.yaml", offsetOf("stripe_api_kee"))).toMatchObject({ type: "secret-reference", secret: "stripe_api_kee" });
    expect(findAt(index, "actions/ticket.yaml", offsetOf("zendsk"))).toMatchObject({ type: "object-link", link: { target: "zendsk", targetKind: "api_connection" } });
    expect(findAt(index, "actions/ticket.yaml", offsetOf("ticket"))).toMatchObject({ type: "object-name", kind: "action", name: "ticket" });
    expect(findAt(index, "actions/ticket.yaml", offsetOf("prod]"))).toMatchObject({ type: "environment", name: "prod" });
    expect(findAt(index, "actions/ticket.yaml", 0)).toBeUndefined();
    const dev = readFileSync(join(FIXTURES, "references", "secrets", "development.enc.yaml"), "utf8");
    expect(findAt(index, "secrets/development.enc.yaml", dev.indexOf("hubspot_api_token") + 3)).toMatchObject({
      type: "secret-definition",
      secret: "hubspot_api_token",
      definition: { environment: "development" },
    });
    expect(index.referencesTo("hubspot_api_token").map((r) => `${r.file}:${r.line}`)).toEqual([
      "actions/audit.yaml:7",
      "actions/charge.yaml:8",
      "connections/hubspot.yaml:5",
    ]);
  });

  it("updates one file incrementally", () => {
    const { index } = loadWorkspace(join(FIXTURES, "references"));
    const before = checkWorkspace(index).filter((d) => d.file === "actions/ticket.yaml").length;
    const text = readFileSync(join(FIXTURES, "references", "actions", "ticket.yaml"), "utf8")
      .replace("Zendesk_API_Token", "zendesk_api_token")
      .replace("legacy", "x");
    index.setConfigFile(parseConfigFile(text, "actions/ticket.yaml"));
    const after = checkWorkspace(index).filter((d) => d.file === "actions/ticket.yaml");
    expect(after.length).toBe(before - 1);
    expect(index.referencesTo("zendesk_api_token").map((r) => r.file)).toContain("actions/ticket.yaml");
    index.removeConfigFile("actions/ticket.yaml");
    expect(index.referencesTo("zendesk_api_token").map((r) => r.file)).not.toContain("actions/ticket.yaml");
  });

  it("checks one config file exactly as the workspace check reports it", () => {
    for (const name of fixtureNames) {
      const { index } = loadWorkspace(join(FIXTURES, name));
      const all = checkWorkspace(index);
      for (const path of index.configFiles.keys()) {
        expect(checkConfigFile(index, path), `${name}/${path}`).toEqual(all.filter((d) => d.file === path));
      }
    }
  });

  it("updates the derived maps incrementally exactly as a full rebuild would", () => {
    const dir = join(FIXTURES, "references");
    const { index } = loadWorkspace(dir);
    checkWorkspace(index); // build the derived maps, so later updates are incremental
    const texts = new Map([...index.configFiles.keys()].map((p) => [p, readFileSync(join(dir, p), "utf8")]));
    const paths = [...texts.keys()];
    const edits: ((t: string) => string)[] = [
      (t) => t.replace("hubspot_api_token", "stripe_api_key"),
      (t) => t.replace("stripe_api_key", "hubspot_api_token"),
      (t) => t.replace(/name: (\w+)/, "name: $1_x"),
      (t) => t.replace("connection: stripe", "connection: hubspot"),
      (t) => t.replace("[lookup, charge, refund]", "[charge]"),
      (t) => `${t}---\nkind: action\nname: extra\nmethod: GET\npath: /x\nheaders:\n  - { name: A, type: secret, secret: zendesk_api_token }\n`,
      (t) => t,
      // several references to one secret in one file, taken out together when the file is replaced
      (t) => `${t}---\nkind: action\nname: many\nmethod: GET\npath: /x\nheaders:\n${[1, 2, 3].map((i) => `  - { name: H${i}, type: secret, secret: stripe_api_key }\n`).join("")}`,
    ];
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let step = 0; step < 60; step++) {
      const path = paths[next(paths.length)]!;
      if (next(5) === 0) {
        index.removeConfigFile(path);
      } else {
        const text = edits[next(edits.length)]!(texts.get(path)!);
        texts.set(path, text);
        index.setConfigFile(parseConfigFile(text, path));
      }
      const fresh = new WorkspaceIndex(index.project, index.projectDiagnostics);
      for (const f of index.environmentFiles.values()) fresh.setEnvironmentFile(f);
      if (index.catalog) fresh.setCatalog(index.catalog);
      for (const f of index.configFiles.values()) fresh.setConfigFile(f);
      expect(checkWorkspace(index), `step ${step}`).toEqual(checkWorkspace(fresh));
      for (const name of fresh.secretNames()) expect(index.secret(name), name).toEqual(fresh.secret(name));
      for (const kind of ["auth_connector", "api_connection", "action", "agent"] as const) {
        expect([...index.objects(kind)].sort(), kind).toEqual([...fresh.objects(kind)].sort());
        for (const name of fresh.objects(kind).keys()) expect(index.usersOf(kind, name)).toEqual(fresh.usersOf(kind, name));
      }
      for (const f of fresh.configFiles.values()) for (const doc of f.documents) expect(index.environmentsUsedBy(doc)).toEqual(fresh.environmentsUsedBy(doc));
    }
  });

  it("keeps name suggestions until the names change", () => {
    const { index } = loadWorkspace(join(FIXTURES, "references"));
    expect(index.nearestSecretName("stripe_api_kee")).toEqual({ name: "stripe_api_key", caseOnly: false });
    const dev = index.environmentFiles.get("development")!;
    index.setEnvironmentFile({ ...dev, entries: [...dev.entries, { ...dev.entries[0]!, name: "stripe_api_kea" }] });
    // (as near as stripe_api_key: an ambiguous typo names the other too)
    expect(index.nearestSecretName("stripe_api_kee")).toEqual({ name: "stripe_api_kea", caseOnly: false, others: ["stripe_api_key"] });
    index.setEnvironmentFile(dev);
    expect(index.nearestSecretName("stripe_api_kee")).toEqual({ name: "stripe_api_key", caseOnly: false });
    expect(index.nearestObjectName("api_connection", "zendsk")).toEqual({ name: "zendesk", caseOnly: false });
    index.removeConfigFile("connections/zendesk.yaml");
    expect(index.nearestObjectName("api_connection", "zendsk")).toBeUndefined();
  });

  it("completes secret names, objects and environments while typing", () => {
    const { index } = loadWorkspace(join(FIXTURES, "references"));
    const text = "kind: action\nname: a\nconnection: hub\nenvironments: [staging, pr\nheaders:\n  - { name: X, type: secret, secret: str";
    const secretCtx = completionContextAt(text, text.length);
    expect(secretCtx).toEqual({ type: "secret", prefix: "str", range: { start: text.length - 3, end: text.length } });
    expect(completionCandidates(index, secretCtx!).map((c) => c.label)).toContain("stripe_api_key");
    expect(completionCandidates(index, secretCtx!).find((c) => c.label === "hubspot_api_token")?.detail).toBe("secret · development");
    const conn = completionContextAt(text, text.indexOf("hub") + 3);
    expect(conn).toMatchObject({ type: "object", kind: "api_connection", prefix: "hub" });
    expect(completionCandidates(index, conn!).map((c) => c.label)).toEqual(["hubspot", "stripe", "zendesk"]);
    expect(completionContextAt(text, text.indexOf(" pr") + 3)).toMatchObject({ type: "environment", prefix: "pr" });
    const block = "kind: agent\nactions:\n  - lookup\n  - ch";
    expect(completionContextAt(block, block.length)).toMatchObject({ type: "object", kind: "action", prefix: "ch" });
    expect(completionContextAt(block, 3)).toBeUndefined();
  });
});

describe("docs", () => {
  it("docs/rules.md documents every rule with its default severity", () => {
    const doc = readFileSync(join(REPO, "docs", "rules.md"), "utf8");
    for (const rule of RULES) {
      expect(doc).toContain(`### \`${rule.id}\``);
      expect(doc).toContain(`| [\`${rule.id}\`](#${rule.id}) | ${rule.severity} |`);
    }
  });

  it("docs/rules.md's table says of each rule what its summary says (the text editors show from the schema), backticks aside", () => {
    const doc = readFileSync(join(REPO, "docs", "rules.md"), "utf8");
    const rows = new Map([...doc.matchAll(/^\| \[`([a-z-]+)`\]\(#[a-z-]+\) \| \w+ \| (.*) \|$/gm)].map((m) => [m[1], m[2]!.replace(/`/g, "")]));
    for (const rule of RULES) expect([rule.id, rows.get(rule.id)]).toEqual([rule.id, rule.summary.replace(/`/g, "")]);
    // recipient-drift covers a key-groups file compared with its .sops.yaml rule (key-groups-rule.ts)
    expect(RULES.find((r) => r.id === "recipient-drift")?.summary).toContain("its sops key groups differ from its .sops.yaml rule's");
  });
});

describe("fixture hygiene", () => {
  it("keeps test keys labelled test-only", () => {
    const keys = join(REPO, "test", "fixtures", "keys");
    for (const f of readdirSync(keys).filter((x) => x.endsWith(".txt"))) {
      expect(readFileSync(join(keys, f), "utf8")).toContain("# TEST-ONLY key, never use for real secrets");
    }
  });
});
