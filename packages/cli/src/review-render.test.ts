import { buildReview, readerWording, RULES, stateFromFiles, withVerification } from "@stellar-secrets/core";
import { aadForPath, decryptSecrets, encryptSecrets, encryptValue, generateIdentity } from "@stellar-secrets/sops";
import { describe, expect, it } from "vitest";
import { sarifSchemaErrors } from "../../../test/helpers/sarif.js";
import type { EnvironmentReview, ReviewProblem, ReviewReport } from "@stellar-secrets/core";
import {
  environmentNotes,
  markdownCode,
  markdownText,
  MARKDOWN_MARKER,
  renderReviewJson,
  renderReviewMarkdown,
  renderReviewSarif,
  renderReviewsJson,
  renderReviewsMarkdown,
  renderReviewsText,
  renderReviewText,
  REVIEW_RULES,
  reviewJson,
  withPathPrefix,
} from "./review-render.js";

const BOB = "age1bobbobbobbobbobbobbobbobbobbobbobbobbobbobbobbobbobbobbobq";

function env(over: Partial<EnvironmentReview>): EnvironmentReview {
  return {
    environment: "production",
    file: "secrets/production.enc.yaml",
    fileChange: "modified",
    secrets: [],
    dataKeyRotated: false,
    rotationUncertain: false,
    reencrypted: [],
    members: { gained: [], lost: [], keyChanged: [] },
    recipients: { gained: [], lost: [] },
    encrypted: true,
    problems: [],
    ...over,
  };
}

/** A pull request that removed a referenced secret, dropped bob without a rotation, and turned off a rule. */
function report(): ReviewReport {
  const unrotated = {
    kind: "unrotated-removal" as const,
    environment: "production",
    file: "secrets/production.enc.yaml",
    message: "bob was removed from production but the data key was not rotated: run `stellar-secrets rotate-key --env production`",
  };
  const production = env({
    secrets: [
      { name: "hubspot_api_token", change: "changed", before: "bb8b0704", after: "7f2dfa98" },
      { name: "stripe_api_key", change: "removed", before: "71f67a88" },
    ],
    members: { gained: [], lost: [{ name: "bob", recipient: BOB }], keyChanged: [] },
    recipients: { gained: [], lost: [{ recipient: BOB, member: "bob" }] },
    problems: [unrotated],
  });
  const diagnostic = {
    rule: "missing-environment-value" as const,
    severity: "error" as const,
    file: "connectors/stripe.yaml",
    line: 4,
    column: 18,
    endLine: 4,
    endColumn: 32,
    message: 'secret "stripe_api_key" has no value in production',
    secret: "stripe_api_key",
    new: true,
  };
  const old = { ...diagnostic, rule: "unused-secret" as const, severity: "warning" as const, file: "secrets/staging.enc.yaml", line: 2, column: 1, endColumn: 10, message: "unused", new: false };
  return {
    base: { label: "merge-base of main and feature", commit: "5ba7f016c2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
    head: { label: "feature", commit: "149f25f3dbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" },
    environments: [production],
    diagnostics: [diagnostic, old],
    problems: [
      unrotated,
      { kind: "checker-error", file: "connectors/stripe.yaml", line: 4, message: `missing-environment-value: ${diagnostic.message}` },
      { kind: "weakened-rule", file: "stellar.yaml", line: 9, message: "stellar.yaml weakens rule recipient-drift from error to off" },
    ],
    warnings: [],
    signatures: { checked: true, commits: [], unverifiable: [] },
    summary: { added: 0, changed: 1, removed: 1, reencrypted: 0, accessChanges: 1, newErrors: 1, problems: 3, warnings: 0 },
    clean: false,
  };
}

describe("environmentNotes", () => {
  it("tells that removed recipients could read the values kept through a rotation", () => {
    const e = env({ dataKeyRotated: true, reencrypted: ["a", "b"], recipients: { gained: [], lost: [{ recipient: BOB, member: "bob" }] } });
    expect(environmentNotes(e)).toEqual([
      {
        kind: "exposed-before-rotation",
        message: "the data key was rotated, but bob could read the 2 values kept here before this change: change those they must not know",
        who: ["bob"],
        secrets: ["a", "b"],
      },
    ]);
    expect(renderReviewText({ ...report(), environments: [e] })).toContain(`  note: ${environmentNotes(e)[0]?.message}\n`);
  });

  it("tells a metadata-only change, and nothing when a value may have changed", () => {
    expect(environmentNotes(env({})).map((n) => n.kind)).toEqual(["metadata-only"]);
    expect(renderReviewText({ ...report(), environments: [env({})] })).toContain("  (no value changed: only metadata such as key wrapping or formatting)\n");
    expect(environmentNotes(env({ reencrypted: ["a", "b"] }))).toEqual([]);
    expect(environmentNotes(env({ fileChange: "added" }))).toEqual([]);
  });

  it("never calls a change metadata-only when a stanza was wrapped anew", () => {
    const rewrapped = { kind: "rewrapped-without-rotation" as const, environment: "production", file: "secrets/production.enc.yaml", message: "re-wrapped" };
    expect(environmentNotes(env({}))).toEqual([{ kind: "metadata-only", message: "no value changed: only metadata such as key wrapping or formatting" }]);
    expect(environmentNotes(env({ problems: [rewrapped] }))).toEqual([]);
  });

  it("puts every note in the JSON, beside the report's own fields", () => {
    const r = { ...report(), environments: [env({})] };
    const json = reviewJson(r);
    expect(json.environments[0]?.notes).toEqual([{ kind: "metadata-only", message: "no value changed: only metadata such as key wrapping or formatting" }]);
    expect(Object.keys(json)).toEqual(Object.keys(r));
    expect({ ...json.environments[0], notes: undefined }).toEqual({ ...r.environments[0], notes: undefined });
  });
});

describe("renderReviewMarkdown", () => {
  it("puts the verdict and summary first, then problems with file:line, then folded details", () => {
    const md = renderReviewMarkdown(report());
    const lines = md.split("\n");
    expect(lines[0]).toBe(MARKDOWN_MARKER);
    expect(lines[1]).toBe("### ❌ Stellar Secrets review: 3 problems");
    expect(md.indexOf("**Summary:**")).toBeLessThan(md.indexOf("#### Problems"));
    expect(md.indexOf("#### Problems")).toBeLessThan(md.indexOf("<details>"));
    expect(lines).toContain("- ❌ **`connectors/stripe.yaml:4`** (checker error) missing\\-environment\\-value\\: secret \"stripe\\_api\\_key\" has no value in production");
    expect(lines).toContain("- ❌ **`stellar.yaml:9`** (weakened rule) stellar\\.yaml weakens rule recipient\\-drift from error to off");
    // a command in a message stays a code span
    expect(md).toContain("`stellar-secrets rotate-key --env production`");
    expect(md).toContain("<summary>Changes by environment (1)</summary>");
    expect(md).toContain("| ~ | `hubspot_api_token` | changed | `bb8b0704 → 7f2dfa98` |");
    expect(md).toContain("<summary>Checker diagnostics of feature (2, 1 new)</summary>");
    expect(md.match(/<details>/g)?.length).toBe(md.match(/<\/details>/g)?.length);
  });

  it("lists the proposals a change adds and removes, in text and markdown, and escapes a hostile proposer", () => {
    const proposals: NonNullable<ReviewReport["proposals"]> = [
      { environment: "production", name: "stripe_api_key", change: "added", proposer: "Bob <bob@example.test> ![x](https://evil.example/a.png)", proposedAt: "2026-12-03T08:00:00.000Z", recipients: [BOB], file: "secrets/inbox/production/stripe_api_key.0123456789ab.age" },
      { environment: "production", name: "github_token", change: "removed", proposer: "Carol", proposedAt: "2026-12-01T08:00:00.000Z", recipients: [BOB], file: "secrets/inbox/production/github_token.aaaaaaaaaaaa.age" },
    ];
    const text = renderReviewText({ ...report(), proposals });
    expect(text).toContain("Proposals (2):\n  + proposal stripe_api_key in production by Bob <bob@example.test>");
    expect(text).toContain("  − proposal github_token in production removed (applied or rejected): `secrets/inbox/production/github_token.aaaaaaaaaaaa.age`");
    const md = renderReviewMarkdown({ ...report(), proposals });
    expect(md).toContain("<summary>Proposals (2)</summary>");
    expect(md).not.toContain("](https://evil");
    expect(renderReviewText(report())).not.toContain("Proposals");
  });

  it("says a clean change is clean", () => {
    const clean: ReviewReport = { ...report(), environments: [], diagnostics: [], problems: [], summary: { added: 0, changed: 0, removed: 0, reencrypted: 0, accessChanges: 0, newErrors: 0, problems: 0, warnings: 0 }, clean: true };
    const md = renderReviewMarkdown(clean);
    expect(md.split("\n")[1]).toBe("### ✅ Stellar Secrets review: no problems");
    expect(md).toContain("No change to any secrets file or member.");
    expect(md).not.toContain("#### Problems");
  });

  it("never lets a name become a link, an image, HTML or a mention", () => {
    const hostile = "![x](https://evil.example/a.png)<img src=x onerror=alert(1)>[link](https://evil.example) @admin";
    const r = report();
    const text = markdownText(hostile);
    expect(text).not.toMatch(/<img|\]\(|!\[|(^|[^\\])@admin/);
    expect(text).toContain("&lt;img");
    const md = renderReviewMarkdown({ ...r, problems: [{ kind: "plaintext", file: "secrets/x.enc.yaml", message: hostile }], environments: [env({ environment: hostile })] });
    expect(md).not.toContain("<img");
    expect(md).not.toContain("](https://evil");
    expect(markdownCode("a`b")).toBe("``a`b``");
    // a branch named like markup stays text in the folded block's summary
    const branch = renderReviewMarkdown({ ...r, head: { label: "fix-<b>x</b>", commit: null } });
    expect(branch).toContain("<summary>Checker diagnostics of fix-&lt;b&gt;x&lt;/b&gt; (2, 1 new)</summary>");
    // a pipe in a name does not end a table cell
    const piped = renderReviewMarkdown({ ...r, environments: [env({ secrets: [{ name: "a|b", change: "added", after: "12345678" }] })] });
    expect(piped).toContain("| + | `a\\|b` | added | `12345678` |");
    expect(markdownCode("`a")).toBe("`` `a ``");
  });
});

describe("verification (--verify)", () => {
  const verified: ReviewReport = {
    ...report(),
    verification: [
      {
        environment: "production",
        file: "secrets/production.enc.yaml",
        verified: true,
        dataKeyRotated: false,
        secrets: [
          { name: "hubspot_api_token", status: "changed" },
          { name: "legacy_api_token", status: "re-encrypted" },
          { name: "stripe_api_key", status: "removed" },
        ],
        rewraps: [],
      },
      { environment: "staging", file: "secrets/staging.enc.yaml", verified: false, reason: "none of your keys opens the head version", code: "NO_MATCHING_IDENTITY", tampered: false },
    ],
  };

  it("prints each name's status and the environments it could not verify; without --verify nothing", () => {
    const text = renderReviewText(verified);
    expect(text).toContain("(verified with your key where it opens)");
    expect(text).toContain("Verification (decrypted with your key; no value shown):");
    expect(text).toContain("  production (secrets/production.enc.yaml): verified, MAC checked; data key not rotated\n    ~ hubspot_api_token  changed\n    * legacy_api_token   re-encrypted only (same value)\n    - stripe_api_key     removed\n");
    expect(text).toContain("  staging (secrets/staging.enc.yaml): not verified: none of your keys opens the head version\n");
    expect(renderReviewText(report())).not.toContain("Verification");
    expect(renderReviewText(report())).toContain("(no key used)");
    expect(reviewJson(verified).verification).toHaveLength(2);
  });

  it("folds the verification into the pull-request comment", () => {
    const md = renderReviewMarkdown(verified);
    expect(md).toContain("<summary>Verification with a key (1 of 2 environments verified)</summary>");
    expect(md).toContain("  - `hubspot_api_token` changed");
    expect(md).toContain("verified with a key where it opens; no value is shown.");
    expect(renderReviewMarkdown(report())).not.toContain("Verification");
  });
});

describe("verification and the keyless rotation line agree (--verify)", () => {
  const keyless = (over: Partial<EnvironmentReview>): ReviewReport => ({
    ...report(),
    environments: [env({ problems: [], ...over })],
    problems: [],
    clean: true,
    summary: { added: 0, changed: 0, removed: 0, reencrypted: 1, accessChanges: 0, newErrors: 0, problems: 0, warnings: 0 },
  });
  const verify = (r: ReviewReport, dataKeyRotated: boolean, statuses: [string, "changed" | "re-encrypted"][]): ReviewReport =>
    withVerification(r, [
      { environment: "production", file: "secrets/production.enc.yaml", verified: true, dataKeyRotated, secrets: statuses.map(([name, status]) => ({ name, status })), rewraps: [] },
    ]);
  const all = (r: ReviewReport): string[] => [renderReviewText(r), renderReviewMarkdown(r), JSON.stringify(reviewJson(r).environments)];

  it("never says the data key rotated (or may have) when the key shows it did not, in text, markdown and JSON", () => {
    // keyless: one value changed plus a re-wrap, or a rotation; the key: the same data key, the value changed
    const r = verify(keyless({ dataKeyRotated: true, rotationUncertain: true, reencrypted: ["stripe_api_key"] }), false, [["stripe_api_key", "changed"]]);
    expect(renderReviewText(keyless({ dataKeyRotated: true, rotationUncertain: true, reencrypted: ["stripe_api_key"] }))).toContain("data key rotated, or the one value changed");
    const [text, md, json] = all(r);
    for (const out of [text, md]) {
      expect(out).not.toMatch(/data key rotated|may or may not have changed|cannot tell without a key/);
      expect(out).toContain("stripe_api_key");
    }
    expect(text).toContain("  ~ stripe_api_key  changed\n");
    expect(text).toContain("verified, MAC checked; data key not rotated");
    expect(JSON.parse(json!)).toMatchObject([{ dataKeyRotated: false, rotationUncertain: false, verified: true, reencrypted: [], secrets: [{ name: "stripe_api_key", change: "changed" }] }]);
    expect(r.summary).toMatchObject({ changed: 1, reencrypted: 0 });
  });

  it("says the data key rotated when the key shows it did, though keyless it looked like a plain sops edit; same values stay re-encrypted", () => {
    const r = verify(keyless({ dataKeyRotated: false, reencrypted: ["hubspot_api_token", "stripe_api_key"] }), true, [
      ["hubspot_api_token", "re-encrypted"],
      ["stripe_api_key", "changed"],
    ]);
    const [text, md, json] = all(r);
    expect(text).toContain("  * data key rotated (verified with your key): 1 value (hubspot_api_token) re-encrypted with the same value\n");
    expect(text).toContain("  ~ stripe_api_key  changed\n");
    expect(md).toContain("data key rotated");
    for (const out of [text, md]) expect(out).not.toMatch(/same data key|may or may not have changed/);
    expect(JSON.parse(json!)).toMatchObject([{ dataKeyRotated: true, verified: true, reencrypted: ["hubspot_api_token"] }]);
  });

  it("a whole file replaced under a new data key: every value changed, the rotation told once", () => {
    const r = verify(keyless({ dataKeyRotated: true, reencrypted: ["hubspot_api_token", "stripe_api_key"] }), true, [
      ["hubspot_api_token", "changed"],
      ["stripe_api_key", "changed"],
    ]);
    const text = renderReviewText(r);
    expect(text).toContain("  * data key rotated (verified with your key): no value kept as it was\n");
    expect(text).not.toContain("may or may not have changed");
    expect(r.summary).toMatchObject({ changed: 2, reencrypted: 0 });
  });
});

describe("renderReviewSarif", () => {
  it("is valid SARIF 2.1.0 with the checker's rules plus the review rules", () => {
    const log = renderReviewSarif(report(), "/repo", "0.1.0") as {
      runs: { tool: { driver: { name: string; rules: { id: string }[] } }; results: { ruleId: string; ruleIndex?: number; level: string; baselineState?: string; locations?: { physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } } }[] }[] }[];
    };
    expect(sarifSchemaErrors(log)).toEqual([]);
    const run = log.runs[0]!;
    expect(run.tool.driver.name).toBe("stellar-secrets");
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual([...RULES.map((r) => r.id), ...REVIEW_RULES.map((r) => r.id)]);
    expect(REVIEW_RULES.map((r) => r.id)).toEqual(["plaintext", "unrotated-removal", "non-member-recipient", "weakened-rule", "rewrapped-without-rotation", "tampered", "unsigned-change", "credential-destination", "key-groups-change", "look-alike-name"]);
    expect(run.results.map((r) => [r.ruleId, r.level, r.baselineState, r.locations?.[0]?.physicalLocation.artifactLocation.uri, r.locations?.[0]?.physicalLocation.region?.startLine])).toEqual([
      ["missing-environment-value", "error", "new", "connectors/stripe.yaml", 4],
      ["unused-secret", "warning", "unchanged", "secrets/staging.enc.yaml", 2],
      ["unrotated-removal", "error", "new", "secrets/production.enc.yaml", undefined],
      ["weakened-rule", "error", "new", "stellar.yaml", 9],
    ]);
    for (const r of run.results) expect(run.tool.driver.rules[r.ruleIndex as number]?.id).toBe(r.ruleId);
  });

  it("gives level error only to problems: a checker error that is no problem (a problem at the same stanza explains it) is a note, its checker severity kept", () => {
    const drift = { rule: "recipient-drift" as const, severity: "error" as const, file: "secrets/production.enc.yaml", line: 17, column: 5, endLine: 17, endColumn: 70, message: "the production file has 2 age stanzas labelled bob", new: true };
    const rewrapped = { kind: "rewrapped-without-rotation" as const, environment: "production", file: "secrets/production.enc.yaml", line: 17, message: "a second age stanza labelled bob was added, but the data key was not rotated" };
    const r: ReviewReport = { ...report(), diagnostics: [drift], problems: [rewrapped], summary: { ...report().summary, newErrors: 1, problems: 1 } };
    const log = renderReviewSarif(r, "/repo", "0.1.0") as { runs: { results: { ruleId: string; level: string; properties: { problem: boolean; checkerSeverity?: string } }[] }[] };
    expect(sarifSchemaErrors(log)).toEqual([]);
    expect(log.runs[0]!.results.map((x) => [x.ruleId, x.level, x.properties.problem, x.properties.checkerSeverity])).toEqual([
      ["recipient-drift", "note", false, "error"],
      ["rewrapped-without-rotation", "error", true, undefined],
    ]);
    expect(log.runs[0]!.results.filter((x) => x.level === "error")).toHaveLength(r.problems.length);
  });

  it("validates an empty review too, and the schema check can fail", () => {
    const clean: ReviewReport = { ...report(), environments: [], diagnostics: [], problems: [], clean: true };
    expect(sarifSchemaErrors(renderReviewSarif(clean, "/repo", "0.1.0"))).toEqual([]);
    expect(sarifSchemaErrors({ version: "2.1.0", runs: [{ tool: { driver: {} } }] }).length).toBeGreaterThan(0);
  });
});

// The text output on small reports written out in memory (what each report means is tested in core,
// packages/core/src/review/model.test.ts; the command as a process in test/cli-review.test.ts).
const TEXT_BOB = "age1bobbobbobbobbobbobbobbobbobbobbobbobbobbobbobbobbobbobbobbob";
const TEXT_ALICE = "age1alicealicealicealicealicealicealicealicealicealicealiceali";

function textReport(environments: EnvironmentReview[], problems: ReviewProblem[] = environments.flatMap((e) => e.problems)): ReviewReport {
  return {
    base: { label: "HEAD", commit: "0123456789abcdef0123456789abcdef01234567" },
    head: { label: "working tree", commit: null },
    environments,
    diagnostics: [],
    problems,
    warnings: [],
    signatures: { checked: false, commits: [], unverifiable: [] },
    summary: { added: 0, changed: 0, removed: 0, reencrypted: environments.filter((e) => e.reencrypted.length > 0).length, accessChanges: 0, newErrors: 0, problems: problems.length, warnings: 0 },
    clean: problems.length === 0,
  };
}

const three = ["hubspot_api_token", "legacy_api_token", "stripe_api_key"];

describe("review text", () => {
  it("prints a data-key rotation as one line, never as a change of every value", () => {
    const text = renderReviewText(textReport([env({ dataKeyRotated: true, reencrypted: three })]));
    expect(text).toContain("data key rotated: 3 values (hubspot_api_token, legacy_api_token and stripe_api_key) re-encrypted");
    expect(text).toContain("re-encrypted (values may or may not have changed)");
    expect(text).not.toMatch(/~ \w+\s+changed/);
    expect(text).toContain("Summary: 0 secrets added, 0 changed, 0 removed, 1 environment re-encrypted; no problems.");
  });

  it("never says no value changed when every value was re-encrypted under the same data key", () => {
    const text = renderReviewText(textReport([env({ reencrypted: three })]));
    expect(text).toContain("every value re-encrypted under the same data key (e.g. a plain sops edit): 3 values");
    expect(text).not.toContain("no value changed");
    expect(renderReviewText(textReport([env({})]))).toContain("(no value changed: only metadata such as key wrapping or formatting)");
  });

  it("says when one kept value cannot tell a rotation from a change plus a re-wrap", () => {
    const text = renderReviewText(textReport([env({ environment: "staging", dataKeyRotated: true, rotationUncertain: true, reencrypted: ["stripe_api_key"] })]));
    expect(text).toContain("data key rotated, or the one value changed and the key re-wrapped (cannot tell without a key)");
  });

  it("names members who gained and lost access", () => {
    expect(renderReviewText(textReport([env({ members: { gained: [{ name: "bob", recipient: TEXT_BOB }], lost: [], keyChanged: [] } })]))).toContain("access: bob gained access");
    expect(renderReviewText(textReport([env({ members: { gained: [], lost: [{ name: "bob", recipient: TEXT_BOB }], keyChanged: [] }, recipients: { gained: [], lost: [{ recipient: TEXT_BOB, member: "bob" }] } })]))).toContain("access: bob lost access");
    const recipients = renderReviewText(textReport([env({ recipients: { gained: [{ recipient: TEXT_ALICE, member: "alice" }], lost: [{ recipient: TEXT_BOB }] } })]));
    expect(recipients).toContain("recipients: + alice (");
    expect(recipients).toContain(`recipients: - ${TEXT_BOB} (not a member) is no longer a recipient of the file`);
  });

  it("says who had access only inside the change (a recipient in one of its commits, neither in the base nor at the head), in the text, the access line and the comment", () => {
    const exposed = env({ dataKeyRotated: true, reencrypted: three, exposedDuring: [{ recipient: TEXT_BOB, commit: "c1".repeat(20), secrets: three }] });
    const r = { ...textReport([exposed]), summary: { ...textReport([exposed]).summary, accessChanges: 1 } };
    const text = renderReviewText(r);
    expect(text).toContain(`access: ${TEXT_BOB} was a recipient of the file from commit c1c1c1c1c1 of this change on, and is not in the base or the head: whoever it was for could read the 3 values (hubspot_api_token, legacy_api_token and stripe_api_key)`);
    expect(text).toContain("Access: age1bobbob…bobbob had access to production inside this change (a recipient in one of its commits, not at its end).");
    expect(text).toContain("1 access change; no problems.");
    expect(text).not.toContain("only metadata");
    const markdown = renderReviewMarkdown(r);
    expect(markdown).toContain("had access inside this change");
    expect(JSON.parse(renderReviewJson(r)).environments[0].exposedDuring).toEqual([{ recipient: TEXT_BOB, commit: "c1".repeat(20), secrets: three }]);
  });

  it("marks a value whose ciphertext an earlier version had under its name as that value again", () => {
    const text = renderReviewText(textReport([env({ secrets: [{ name: "stripe_api_key", change: "changed", before: "bb8b0704", after: "7f2dfa98", restoredFrom: "c1".repeat(20) }] })]));
    expect(text).toContain("~ stripe_api_key  changed  bb8b0704 → 7f2dfa98 (its value at commit c1c1c1c1c1 again)");
  });

  it("presents an access request as a request, not as access gained", () => {
    const text = renderReviewText(textReport([env({ members: { gained: [], lost: [], keyChanged: [], requested: [{ name: "bob", recipient: TEXT_BOB }] } })]));
    expect(text).toContain("request: bob asks for access (");
    expect(text).toContain("stellar-secrets members approve bob --env production");
    expect(text).not.toContain("gained access");
    expect(text).toContain("0 removed, 1 access request; no problems.");
    expect(text).toContain(", pending in stellar.yaml; grants nothing until a member approves: stellar-secrets members approve bob --env production)");
  });

  it("a request members approve would refuse: says why, without the approve command (planted-clinic)", () => {
    const refused = "but bob is a member of development with another key (age1xyz): a member has one key in every environment, so `members approve` refuses it";
    const text = renderReviewText(textReport([env({ members: { gained: [], lost: [], keyChanged: [], requested: [{ name: "bob", recipient: TEXT_BOB, refused }] } })]));
    expect(text).toContain(`request: bob asks for access (${TEXT_BOB}, pending in stellar.yaml), ${refused})`);
    expect(text).not.toContain("stellar-secrets members approve bob");
  });

  it("words the approve command of a nested project's request as run in its folder, from the outer root (text and markdown)", () => {
    const requested = textReport([env({ file: "teams/labs/secrets/production.enc.yaml", members: { gained: [], lost: [], keyChanged: [], requested: [{ name: "bob", recipient: TEXT_BOB }] } })]);
    const nested = [{ path: "teams/labs", report: requested }];
    const approve = "(cd teams/labs && stellar-secrets members approve bob --env production)";
    const text = renderReviewsText(textReport([]), nested).split("\nteams/labs (a project of its own)\n");
    expect(text[1]).toContain(`pending in teams/labs/stellar.yaml; grants nothing until a member approves: ${approve})`);
    expect(text[0]).not.toContain("members approve");
    expect(renderReviewsMarkdown(textReport([]), nested)).toContain(markdownText(approve));
  });

  it("lists every problem under its environment and in the problem list, and flags a file that is not encrypted", () => {
    const problem: ReviewProblem = { kind: "unrotated-removal", environment: "production", file: "secrets/production.enc.yaml", message: "bob was removed from production but the data key was not rotated: …" };
    const text = renderReviewText(textReport([env({ problems: [problem] }), env({ environment: "staging", file: "secrets/staging.enc.yaml", encrypted: false })]));
    expect(text).toContain("  ✗ bob was removed from production but the data key was not rotated");
    expect(text).toContain("Problems (1):\n  ✗ secrets/production.enc.yaml: bob was removed from production");
    expect(text).toContain("staging (secrets/staging.enc.yaml)");
    expect(text).toContain("the file is not a valid encrypted SOPS file");
    expect(text).toContain("; 1 problem.");
  });

  it("lists the commits' signatures (✓ member, ✗ problem, ⚠ warning) and the warnings, which do not make the change unclean", () => {
    const c = (n: string): string => n.repeat(40);
    const warning: ReviewProblem = { kind: "unsigned-change", environment: "preview", file: "secrets/preview.enc.yaml", commit: c("2"), message: "commit 2222222222 changes preview's secrets file but is not signed: …" };
    const problem: ReviewProblem = { kind: "unsigned-change", environment: "production", file: "secrets/production.enc.yaml", commit: c("3"), message: "commit 3333333333 changes production's secrets file but is not signed: …" };
    const r: ReviewReport = {
      ...textReport([env({})], [problem]),
      warnings: [warning],
      signatures: {
        checked: true,
        commits: [
          { commit: c("1"), status: "good", signer: "bob", environments: ["production"], unsignedFor: [] },
          { commit: c("2"), status: "unsigned", environments: ["preview", "staging"], unsignedFor: ["preview", "staging"] },
          { commit: c("3"), status: "good", signer: "dave", environments: ["production"], unsignedFor: ["production"] },
        ],
        unverifiable: ["staging"],
      },
    };
    const text = renderReviewText(r);
    expect(text).toContain("  ✓ 1111111111 signed by bob: changes production\n");
    expect(text).toContain("  ⚠ 2222222222 not signed: changes preview and staging\n");
    expect(text).toContain("  ✗ 3333333333 signed by dave: changes production (not as a member of production)\n");
    expect(text).toContain("  (no member of staging has an ssh-ed25519 key, so no change of it can be verified)");
    expect(text).toContain("Warnings (1):\n  ⚠ secrets/preview.enc.yaml: commit 2222222222 changes preview");
    expect(text).toContain("; 1 problem, 1 warning.");
    // where no commit changes an environment anyone could sign for: one line
    const none = renderReviewText({ ...textReport([env({})]), signatures: { checked: true, commits: [{ commit: c("4"), status: "unsigned", environments: ["staging"], unsignedFor: ["staging"] }], unverifiable: ["staging"] } });
    expect(none).toContain("):\n  (no member of staging has an ssh-ed25519 key");
    expect(none).not.toContain("4444444444");
    expect(renderReviewText(textReport([env({})]))).not.toContain("Signatures");
  });

  it("counts the commits of the Markdown signatures section in words that agree with the number", () => {
    const c = (n: string): string => n.repeat(40);
    const one = { checked: true, commits: [{ commit: c("4"), status: "unsigned" as const, environments: ["staging"], unsignedFor: ["staging"] }], unverifiable: ["staging"] };
    expect(renderReviewMarkdown({ ...textReport([env({})]), signatures: one })).toContain("<summary>Signatures (1 commit, judged against the members of HEAD)</summary>");
    const two = { ...one, commits: [...one.commits, { ...one.commits[0]!, commit: c("5") }] };
    expect(renderReviewMarkdown({ ...textReport([env({})]), signatures: two })).toContain("<summary>Signatures (2 commits, judged");
  });
});

describe("review text in a terminal", () => {
  it("shows the control characters of names and labels a change controls, so they cannot move the cursor, erase a line or fake one", () => {
    const label = "evil\u001b[2K\r\u001b[1A\u001b[32mSummary: no problems\u0007\nSummary: 0 added";
    const name = "n\u001b]8;;https://evil.example\u0007x";
    const text = renderReviewText(
      textReport([env({ secrets: [{ name, change: "added", after: "fd226fea" }], recipients: { gained: [{ recipient: label }], lost: [] } })]),
    );
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(text).toContain("evil\\x1b[2K\\r\\x1b[1A\\x1b[32mSummary: no problems\\x07\\nSummary: 0 added");
    expect(text).toContain("n\\x1b]8;;https://evil.example\\x07x");
    // one Summary line, the real one, last
    expect(text.split("\n").filter((l) => l.startsWith("Summary:"))).toHaveLength(1);
  });
});

describe("review markdown with control characters", () => {
  it("writes none of them raw (a comment file is also printed to terminals)", () => {
    const label = "evil\u001b[2K\r\u001b[32mok\u0007";
    const name = "n\u001b]8;;https://evil.example\u0007x";
    const md = renderReviewMarkdown(
      textReport([env({ secrets: [{ name, change: "added", after: "fd226fea" }], recipients: { gained: [{ recipient: label }], lost: [] } })]),
    );
    expect(md).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(markdownCode("a\u001bb")).toBe("`a\\x1bb`");
  });
});

describe("nested projects (review at the outer root)", () => {
  const clean = (): ReviewReport => ({ ...report(), environments: [], diagnostics: [], problems: [], summary: { ...report().summary, problems: 0, newErrors: 0 }, clean: true });

  it("prefixes every path of a nested report with its folder, messages left as they are", () => {
    const r = withPathPrefix({ ...report(), warnings: [{ kind: "unsigned-change", environment: "production", file: "secrets/production.enc.yaml", commit: "c".repeat(40), message: "m" }] }, "teams/labs");
    expect(r.environments.map((e) => [e.file, e.problems.map((p) => p.file)])).toEqual([["teams/labs/secrets/production.enc.yaml", ["teams/labs/secrets/production.enc.yaml"]]]);
    expect(r.diagnostics.map((d) => d.file)).toEqual(["teams/labs/connectors/stripe.yaml", "teams/labs/secrets/staging.enc.yaml"]);
    expect(r.problems.map((p) => p.file)).toEqual(["teams/labs/secrets/production.enc.yaml", "teams/labs/connectors/stripe.yaml", "teams/labs/stellar.yaml"]);
    expect(r.warnings.map((p) => p.file)).toEqual(["teams/labs/secrets/production.enc.yaml"]);
    expect(r.problems[2]?.message).toBe("stellar.yaml weakens rule recipient-drift from error to off");
    expect(report().problems[0]?.file).toBe("secrets/production.enc.yaml");
  });

  it("renders the outer report byte for byte without a nested project", () => {
    expect(renderReviewsText(report(), [])).toBe(renderReviewText(report()));
    expect(renderReviewsJson(report(), [])).toBe(renderReviewJson(report()));
    expect(renderReviewsMarkdown(report(), [])).toBe(renderReviewMarkdown(report()));
    expect(renderReviewSarif(report(), "/repo", "1.0.0", [])).toEqual(renderReviewSarif(report(), "/repo", "1.0.0"));
  });

  it("adds a section per nested project: text, JSON projects (clean false when any is not), markdown verdict over all, one SARIF run", () => {
    const nested = [
      { path: "teams/labs", report: withPathPrefix(report(), "teams/labs") },
      { path: "teams/old", removed: true as const },
    ];
    const text = renderReviewsText(clean(), nested);
    expect(text.startsWith(renderReviewText(clean()))).toBe(true);
    expect(text).toContain("\nteams/labs (a project of its own)\nReview of ");
    expect(text).toContain("  ✗ teams/labs/connectors/stripe.yaml:4: missing-environment-value");
    expect(text).toContain("\nteams/old (a project of its own)\nremoved in feature: teams/old has no stellar.yaml there");
    expect(text.trimEnd().split("\n").at(-1)).toBe("All projects: 3 projects reviewed (the root project, teams/labs and teams/old); problems in teams/labs.");

    const json = JSON.parse(renderReviewsJson(clean(), nested)) as { clean: boolean; problems: unknown[]; projects: { path: string; clean: boolean; removed?: boolean; problems?: { file?: string }[] }[] };
    expect(json.clean).toBe(false);
    expect(json.problems).toEqual([]);
    expect(json.projects.map((p) => [p.path, p.clean, p.removed ?? false])).toEqual([["teams/labs", false, false], ["teams/old", true, true]]);
    expect(json.projects[0]?.problems?.map((p) => p.file)).toContain("teams/labs/connectors/stripe.yaml");
    expect((JSON.parse(renderReviewsJson(clean(), [{ path: "teams/labs", report: clean() }])) as { clean: boolean }).clean).toBe(true);

    const md = renderReviewsMarkdown(clean(), nested).split("\n");
    expect(md[0]).toBe(MARKDOWN_MARKER);
    expect(md[1]).toBe("### ❌ Stellar Secrets review: 3 problems (3 in nested projects)");
    expect(md.filter((l) => l === MARKDOWN_MARKER)).toHaveLength(1);
    expect(md).toContain(`### ❌ ${markdownText("teams/labs (a project of its own)")}: 3 problems`);

    const sarif = renderReviewSarif(clean(), "/repo", "1.0.0", nested) as { runs: { results: { locations?: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] };
    expect(sarifSchemaErrors(sarif)).toEqual([]);
    expect(sarif.runs).toHaveLength(1);
    expect(sarif.runs[0]?.results.map((r) => r.locations?.[0]?.physicalLocation.artifactLocation.uri)).toContain("teams/labs/connectors/stripe.yaml");
  });
});

describe("review markdown against a hostile pull request (GitHub's renderer)", () => {
  // what GitHub's mention, reference and autolink filters read: the text outside code spans
  const outsideCode = (md: string): string => md.replace(/(`+)[^`]*?\1/g, "").replace(/&#8203;/g, "\u200b");

  it("notifies nobody and links no issue: @, # and GH- are followed by a zero-width space (GitHub reads them after unescaping)", () => {
    expect(markdownText("x.@octocat")).toBe("x\\.@&#8203;octocat");
    expect(markdownText("see #12, GH-7, gh-8 and acme/repo#3")).toBe("see \\#&#8203;12, GH\\-&#8203;7, gh\\-&#8203;8 and acme/repo\\#&#8203;3");
    // a member name may hold `.` and `@` (MEMBER_NAME_PATTERN): x.@octocat would mention octocat
    const md = renderReviewMarkdown({
      ...textReport([env({ members: { gained: [{ name: "x.@octocat", recipient: BOB }], lost: [], keyChanged: [] } })]),
      head: { label: "fix-@octocat-#1", commit: null },
      diagnostics: [{ rule: "unused-secret", severity: "warning", file: "a.yaml", line: 1, column: 1, endLine: 1, endColumn: 2, message: "unused GH-3", new: true }],
    });
    expect(outsideCode(md)).not.toMatch(/@[A-Za-z0-9]/);
    expect(outsideCode(md)).not.toMatch(/#\d|GH\\?-\d/i);
    expect(md).toContain("<summary>Checker diagnostics of fix-@&#8203;octocat-#&#8203;1 (1, 1 new)</summary>");
  });

  it("shows a line break in a file name as \\n, as the terminal does, never as a space (a file `a b` is another file)", () => {
    expect(markdownCode("connectors/a\nb.yaml")).toBe("`connectors/a\\nb.yaml`");
    expect(markdownCode("connectors/a\r\nb.yaml")).toBe("`connectors/a\\r\\nb.yaml`");
    const md = renderReviewMarkdown({ ...report(), problems: [{ kind: "checker-error", file: "connectors/a\nb.yaml", line: 2, message: "schema: bad" }] });
    expect(md).toContain("**`connectors/a\\nb.yaml:2`**");
  });

  it("never lets a www. name or an e-mail address become a link", () => {
    expect(markdownText("www.evil.example")).not.toContain("www.");
    expect(markdownText("ops@evil.example")).not.toMatch(/@[a-z]/);
  });

  it("fits GitHub's comment limit (65,536 characters), verdict and problems first, every fold closed, and says what was cut", () => {
    const r = report();
    const many = Array.from({ length: 5000 }, (_, i) => ({ ...r.diagnostics[1]!, line: i + 1, message: `unused ${"x".repeat(60)}` }));
    const md = renderReviewsMarkdown({ ...r, diagnostics: [...r.diagnostics, ...many] });
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(65_536);
    expect(md.split("\n").slice(0, 2)).toEqual([MARKDOWN_MARKER, "### ❌ Stellar Secrets review: 3 problems"]);
    for (const p of r.problems) expect(md).toContain(markdownText(p.message));
    expect(md.match(/^<details>$/gm)?.length).toBe(md.match(/^<\/details>$/gm)?.length);
    expect(md).toMatch(/cut to fit GitHub's comment limit/);
    // one name too long for a comment: the verdict and the cut notice stay
    const huge = renderReviewMarkdown({ ...r, problems: [{ kind: "non-member-recipient", file: "secrets/production.enc.yaml", message: `age1${"q".repeat(100_000)} can decrypt` }, ...r.problems] });
    expect(Buffer.byteLength(huge)).toBeLessThanOrEqual(65_536);
    expect(huge).toContain("### ❌ Stellar Secrets review: 4 problems");
    expect(huge).toMatch(/cut to fit GitHub's comment limit/);
    // a long line is shortened, not dropped: it pushes no later problem out of the comment
    expect(huge).toMatch(/^- ❌ \*\*`secrets\/production\.enc\.yaml`\*\* \(non-member recipient\) age1q{100,}… \(cut\)$/m);
    for (const p of r.problems) expect(huge).toContain(markdownText(p.message));
    // a comment that fits is left as it is
    expect(renderReviewsMarkdown(r)).toBe(renderReviewMarkdown(r));
    expect(renderReviewMarkdown(r)).not.toMatch(/cut to fit/);
  });
});

describe("review read by a reviewer without keys (realistic pull requests)", () => {
  const many = Array.from({ length: 23 }, (_, i) => `secret_${String(i).padStart(2, "0")}`);

  it("tells a rotation of many values as a count, not a wall of every name (text and markdown; JSON keeps the names)", () => {
    const r = textReport([env({ dataKeyRotated: true, reencrypted: many })]);
    const text = renderReviewText(r);
    expect(text).toContain("  * data key rotated: all 23 kept values re-encrypted (values may or may not have changed)\n");
    expect(text).not.toContain("secret_05");
    expect(renderReviewMarkdown(r)).not.toContain("secret\\_05");
    expect(JSON.parse(renderReviewJson(r)).environments[0].reencrypted).toHaveLength(23);
    // a value that changed beside the rotation (an empty one) is listed on its own: the count is then not "all"
    const mixed = renderReviewText(textReport([env({ dataKeyRotated: true, reencrypted: many, secrets: [{ name: "empty_one", change: "changed", before: "aaaaaaaa", after: "bbbbbbbb" }] })]));
    expect(mixed).toContain("data key rotated: 23 values re-encrypted (values may or may not have changed)");
  });

  it("says who gained or lost access to which environments before the verdict (text), and in the comment's visible part (markdown)", () => {
    const dave = "age1davedavedavedavedavedavedavedavedavedavedavedavedavedaveda";
    const gained = (environment: string): EnvironmentReview =>
      env({ environment, file: `secrets/${environment}.enc.yaml`, members: { gained: [{ name: "dave", recipient: dave }], lost: [{ name: "carol", recipient: TEXT_BOB }], keyChanged: [] }, recipients: { gained: [], lost: [{ recipient: TEXT_BOB, member: "carol" }] } });
    const r = { ...textReport([gained("staging"), gained("production")]), summary: { added: 0, changed: 0, removed: 0, reencrypted: 0, accessChanges: 4, newErrors: 0, problems: 0, warnings: 0 } };
    const text = renderReviewText(r);
    expect(text).toContain("\nAccess: dave gained access to staging and production; carol lost access to staging and production.\nSummary: ");
    const md = renderReviewMarkdown(r);
    expect(md).toContain("**Access:** dave gained access to staging and production; carol lost access to staging and production\\.");
    expect(md.indexOf("**Access:**")).toBeLessThan(md.indexOf("<details>"));
    // without an access change, no such line
    expect(renderReviewText(textReport([env({ secrets: [{ name: "a", change: "added", after: "cccccccc" }] })]))).not.toContain("Access:");
  });

  it("shows in the comment's visible part which environments changed and how (the per-secret tables stay folded)", () => {
    const prod = env({ secrets: [{ name: "stripe_api_key", change: "changed", before: "aaaaaaaa", after: "bbbbbbbb" }] });
    const staging = env({ environment: "staging", file: "secrets/staging.enc.yaml", secrets: many.slice(0, 5).map((name) => ({ name, change: "added" as const, after: "cccccccc" })) });
    const rotated = env({ environment: "development", file: "secrets/development.enc.yaml", dataKeyRotated: true, reencrypted: many });
    const md = renderReviewMarkdown({ ...textReport([rotated, staging, prod]), summary: { added: 5, changed: 1, removed: 0, reencrypted: 1, accessChanges: 0, newErrors: 0, problems: 0, warnings: 0 } });
    const visible = md.slice(0, md.indexOf("<details>"));
    expect(visible).toContain("- **development**: data key rotated \\(23 values re\\-encrypted\\)\n");
    expect(visible).toContain("- **staging**: 5 added\n");
    expect(visible).toContain("- **production**: 1 changed (`stripe_api_key`)\n");
  });
});

describe("a nested project the change does not touch", () => {
  const untouched = (): ReviewReport => ({ ...textReport([]), signatures: { checked: true, commits: [], unverifiable: [] }, proposals: [] });

  it("is one line, not a whole empty review (text and markdown); JSON keeps its report", () => {
    const text = renderReviewsText(textReport([env({ secrets: [{ name: "a", change: "added", after: "cccccccc" }] })]), [{ path: "teams/labs", report: untouched() }]);
    expect(text).toContain("\nteams/labs (a project of its own): no change\n\nAll projects: 2 projects reviewed");
    expect(text.match(/Review of /g)).toHaveLength(1);
    const md = renderReviewsMarkdown(textReport([]), [{ path: "teams/labs", report: untouched() }]);
    expect(md).toContain(`### ✅ ${markdownText("teams/labs (a project of its own)")}: no change\n`);
    expect(md.match(/\*\*Summary:\*\*/g)).toHaveLength(1);
    expect(JSON.parse(renderReviewsJson(textReport([]), [{ path: "teams/labs", report: untouched() }])).projects[0].environments).toEqual([]);
  });
});

describe("access lines", () => {
  it("tell a member added (or removed) in stellar.yaml and in the file's recipients once, not twice; a mismatch stays two lines", () => {
    const both = renderReviewText(
      textReport([env({ members: { gained: [{ name: "dave", recipient: TEXT_ALICE }], lost: [{ name: "bob", recipient: TEXT_BOB }], keyChanged: [] }, recipients: { gained: [{ recipient: TEXT_ALICE, member: "dave" }], lost: [{ recipient: TEXT_BOB, member: "bob" }] } })]),
    );
    expect(both).toContain("  access: dave gained access (member in stellar.yaml, and the file is encrypted to their key age1alicea…iceali)\n");
    expect(both).toContain("  access: bob lost access (no longer a member in stellar.yaml, nor a recipient of the file)\n");
    expect(both).not.toContain("recipients:");
    // in stellar.yaml only: the file was not re-wrapped for dave, both facts stay
    const half = renderReviewText(textReport([env({ members: { gained: [{ name: "dave", recipient: TEXT_ALICE }], lost: [], keyChanged: [] } })]));
    expect(half).toContain("access: dave gained access (member in stellar.yaml, age1alicea…iceali)");
  });
});

describe("a member removed from stellar.yaml whose key still opens the file (rotate-key forgotten)", () => {
  it("is never said to have lost access: removed in stellar.yaml, the file's recipients unchanged for them (line and Access overview)", () => {
    const text = renderReviewText(textReport([env({ members: { gained: [], lost: [{ name: "carol", recipient: TEXT_BOB }], keyChanged: [] } })]));
    expect(text).not.toContain("lost access");
    expect(text).toContain("  access: carol is no longer a member in stellar.yaml, but the file's recipients did not change for them\n");
    expect(text).toContain("\nAccess: carol was removed as a member of production in stellar.yaml, but not from the recipients of its file.\n");
    const md = renderReviewMarkdown(textReport([env({ fileChange: "unchanged", members: { gained: [], lost: [{ name: "carol", recipient: TEXT_BOB }], keyChanged: [] } })]));
    expect(md).not.toContain("lost access");
    expect(md).toContain("- **production**: carol removed from stellar\\.yaml, not from the file's recipients\n");
  });
});

describe("references the change moves (config files)", () => {
  const moved: ReviewReport = {
    ...textReport([env({ secrets: [{ name: "sendgrid_api_key", change: "removed", before: "aaaaaaaa" }, { name: "sendgrid_key", change: "added", after: "bbbbbbbb" }] })]),
    references: [
      { secret: "sendgrid_api_key", change: "removed", file: "connections/sendgrid.yaml", line: 5, kind: "api_connection", owner: "sendgrid", field: "headers[0] Authorization" },
      { secret: "sendgrid_key", change: "added", file: "connections/sendgrid.yaml", line: 5, kind: "api_connection", owner: "sendgrid", field: "headers[0] Authorization", replaces: "sendgrid_api_key" },
    ],
  };

  it("lists them in text, a rename's moved reference as one line, and says the values cannot be compared without a key", () => {
    const text = renderReviewText(moved);
    expect(text).toContain(
      "References in config files:\n  ~ connections/sendgrid.yaml:5  sendgrid_api_key → sendgrid_key (api_connection sendgrid, headers[0] Authorization)\n",
    );
    expect(text).toContain("a rename's steps (`stellar-secrets rename`); without a key the review cannot tell that the new secret holds the old values");
    expect(text).not.toMatch(/^ {2}- connections\/sendgrid/m);
    const plain = renderReviewText({ ...moved, references: [{ secret: "shopify_api_key", change: "added", file: "connections/shopify.yaml", line: 5, kind: "api_connection", owner: "shopify", field: "headers[0] X-Token" }] });
    expect(plain).toContain("  + connections/shopify.yaml:5  shopify_api_key (api_connection shopify, headers[0] X-Token)\n");
    expect(renderReviewText({ ...moved, references: [] })).not.toContain("References");
  });

  it("folds them into the comment, and keeps them in the JSON; a nested project's paths are prefixed", () => {
    const md = renderReviewMarkdown(moved);
    expect(md).toContain("<summary>References in config files (1)</summary>");
    expect(md).toContain("- ~ `connections/sendgrid.yaml:5` `sendgrid_api_key` → `sendgrid_key` \\(api\\_connection sendgrid, headers\\[0\\] Authorization\\)");
    expect(JSON.parse(renderReviewJson(moved)).references).toHaveLength(2);
    expect(withPathPrefix(moved, "teams/labs").references?.map((r) => r.file)).toEqual(["teams/labs/connections/sendgrid.yaml", "teams/labs/connections/sendgrid.yaml"]);
  });
});

describe("SARIF of a problem that explains its diagnostic", () => {
  it("is one result, not the diagnostic plus the problem again", () => {
    const r = report();
    const removed = { ...r, problems: r.problems.map((p) => (p.kind === "checker-error" ? { ...p, message: `${p.message} (this change removes stripe_api_key from production: keep it there, or remove this reference in the same change)` } : p)) };
    const results = (renderReviewSarif(removed, "/repo", "0.1.0") as { runs: { results: { ruleId: string }[] }[] }).runs[0]!.results;
    expect(results.filter((x) => x.ruleId === "missing-environment-value")).toHaveLength(1);
  });
});

describe("a comment added in clear text to an environment file", () => {
  it("is told (text, markdown overview, JSON note), beside the metadata-only line", () => {
    const r = textReport([env({ clearComments: [1] })]);
    const text = renderReviewText(r);
    expect(text).toContain("  ! a comment in clear text at line 1 (not encrypted, and no MAC covers it): make sure it holds no secret\n");
    expect(renderReviewMarkdown(r)).toContain("- **production**: no value changed \\(metadata only\\); a comment in clear text at line 1");
    expect(JSON.parse(renderReviewJson(r)).environments[0].notes.map((n: { kind: string }) => n.kind)).toEqual(["metadata-only", "clear-comment"]);
  });
});

describe("a member's key replaced (members rm + add with a new key)", () => {
  const NEW = "age1newnewnewnewnewnewnewnewnewnewnewnewnewnewnewnewnewnewnewne";
  const replaced = env({
    dataKeyRotated: true,
    reencrypted: three,
    members: { gained: [], lost: [], keyChanged: [{ name: "bob", before: TEXT_BOB, after: NEW }] },
    recipients: { gained: [{ recipient: NEW, member: "bob" }], lost: [{ recipient: TEXT_BOB, member: "bob" }] },
  });

  it("is one access line, and the note speaks of the old key, not of bob as someone who must not know the values", () => {
    const text = renderReviewText(textReport([replaced]));
    expect(text).toContain("  access: bob's key changed (age1bobbob…bobbob → age1newnew…wnewne), and the file is encrypted to the new key, no longer to the old\n");
    expect(text).not.toContain("recipients:");
    expect(text).toContain("note: the data key was rotated, but bob's old key (age1bobbob…bobbob) could read the 3 values kept here before this change: if that key may be lost or leaked, change them");
    expect(text).not.toContain("change those they must not know");
  });
});

describe("many checker warnings of one rule (a large pull request)", () => {
  it("shows the first few in text and counts the rest; errors are never cut; JSON and markdown keep every one", () => {
    const warning = (i: number) => ({
      rule: "unused-secret" as const,
      severity: "warning" as const,
      file: "secrets/staging.enc.yaml",
      line: i,
      column: 1,
      endLine: i,
      endColumn: 5,
      message: `secret "bulk_${i}" is not referenced by any config file`,
      secret: `bulk_${i}`,
      new: true,
    });
    const error = { ...warning(200), rule: "unknown-secret" as const, severity: "error" as const, file: "connections/x.yaml", message: 'unknown secret "gone"' };
    const r = { ...textReport([]), diagnostics: [...Array.from({ length: 100 }, (_, i) => warning(i + 1)), error] };
    const text = renderReviewText(r);
    expect(text).toContain('  secrets/staging.enc.yaml:3:1: warning unused-secret secret "bulk_3" is not referenced by any config file\n  … and 97 more unused-secret warnings (every one in --json and in the --format markdown comment)\n');
    expect(text).not.toContain('"bulk_4"');
    expect(text).toContain('connections/x.yaml:200:1: error unknown-secret unknown secret "gone"');
    expect(renderReviewMarkdown(r)).toContain("bulk\\_100");
  });
});

describe("a config file edited beside a value set anew", () => {
  it("is named in the references section (text and markdown), prefixed for a nested project", () => {
    const r: ReviewReport = { ...textReport([env({ secrets: [{ name: "openai_api_key", change: "changed", before: "aaaaaaaa", after: "bbbbbbbb" }] })]), references: [], configEdited: [{ file: "connections/openai.yaml", secrets: ["openai_api_key"] }] };
    const text = renderReviewText(r);
    expect(text).toContain("References in config files:\n  ! connections/openai.yaml is edited too and uses openai_api_key, set anew here: check that the new value fits the edited file\n");
    expect(renderReviewMarkdown(r)).toContain("<summary>References in config files (1)</summary>");
    expect(withPathPrefix(r, "teams/labs").configEdited).toEqual([{ file: "teams/labs/connections/openai.yaml", secrets: ["openai_api_key"] }]);
  });
});

describe("a member removed from stellar.yaml by hand (one cause, several problems)", () => {
  /** bob listed for three environments, deleted from stellar.yaml by editing it; the files and .sops.yaml left as they were. */
  async function removedByHand(): Promise<ReviewReport> {
    const alice = await generateIdentity();
    const bob = await generateIdentity();
    const envs = ["development", "staging", "production"];
    const config = (members: string): string => `version: 1\nenvironments:\n${envs.map((e) => `  ${e}:\n    members:\n${members}`).join("")}`;
    const files = new Map<string, string>([["stellar.yaml", config(`      alice: ${alice.recipient}\n      bob: ${bob.recipient}\n`)]]);
    for (const e of envs) files.set(`secrets/${e}.enc.yaml`, await encryptSecrets(new Map([["api_key", `TEST-ONLY-${e}`]]), { recipients: [alice.recipient, bob.recipient] }));
    files.set(".sops.yaml", `creation_rules:\n${envs.map((e) => `  - path_regex: secrets/${e}\\.enc\\.yaml$\n    age: ${alice.recipient},${bob.recipient}\n`).join("")}`);
    const head = new Map(files).set("stellar.yaml", config(`      alice: ${alice.recipient}\n`));
    return buildReview(stateFromFiles("HEAD", undefined, "/repo", files), stateFromFiles("working tree", undefined, "/repo", head));
  }

  it("shows one problem in the text, with every file listed, and in each environment a pointer to it", async () => {
    const report = await removedByHand();
    expect(report.problems).toHaveLength(6);
    const cause = report.causes?.[0];
    expect(cause).toBeDefined();
    const text = renderReviewText(report);
    expect(text).toContain("Problems (1, from 6 findings):\n");
    expect(text.split(cause?.message as string)).toHaveLength(2); // told once
    expect(text).toContain("      in secrets/development.enc.yaml:3; secrets/staging.enc.yaml:3; secrets/production.enc.yaml:3; .sops.yaml:3, 5, 7\n");
    // no checker-error or non-member-recipient line of its own under Problems
    const problems = text.slice(text.indexOf("Problems ("), text.indexOf("Summary:"));
    expect(problems.match(/^ {2}✗ /gm)).toHaveLength(1);
    expect(text.match(/still opens this file though bob was removed from stellar\.yaml by hand/g)).toHaveLength(3);
    expect(text).toMatch(/; 1 problem \(6 findings\)\.\n$/);
  });

  it("shows one problem in the Markdown comment, each place under it; JSON keeps the six problems with the cause's id", async () => {
    const report = await removedByHand();
    const md = renderReviewMarkdown(report);
    expect(md).toContain("### ❌ Stellar Secrets review: 1 problem (6 findings)");
    const problems = md.slice(md.indexOf("#### Problems"), md.indexOf("<details>"));
    expect(problems.match(/^- ❌ /gm)).toHaveLength(1);
    expect(problems.match(/^ {2}- `/gm)).toHaveLength(6);
    expect(problems).toContain("`.sops.yaml:7` (checker error)");
    expect(md).toContain("- **production**: bob removed from stellar\\.yaml, not from the file's recipients; 1 problem \\(one shared with other files\\)");
    const json = JSON.parse(renderReviewJson(report)) as ReviewReport;
    expect(json.problems).toHaveLength(6);
    expect(json.summary.problems).toBe(6);
    expect(json.clean).toBe(false);
    expect(json.problems.map((p) => p.cause)).toEqual(Array(6).fill("member-removed-by-hand:bob"));
    expect(json.causes?.map((c) => [c.id, c.problems, c.files.length])).toEqual([["member-removed-by-hand:bob", 6, 4]]);
  });
});

describe("the summary counts secrets", () => {
  it("says how many secrets were added, changed and removed, and the values where they are more", () => {
    const added = (environment: string, names: string[]): EnvironmentReview => env({ environment, file: `secrets/${environment}.enc.yaml`, secrets: names.map((name) => ({ name, change: "added" as const, after: "00000000" })) });
    const r: ReviewReport = {
      ...report(),
      environments: [added("staging", ["zendesk_api_token"]), { ...added("production", ["zendesk_api_token", "openai_api_key"]), secrets: [...added("production", ["zendesk_api_token", "openai_api_key"]).secrets, { name: "stripe_api_key", change: "removed", before: "71f67a88" }] }],
      summary: { ...report().summary, added: 3, changed: 0, removed: 1 },
    };
    expect(renderReviewText(r)).toContain("Summary: 2 secrets added (3 values), 0 changed, 1 removed, 1 access change; 3 problems.\n");
    expect(renderReviewMarkdown(r)).toContain("**Summary:** 2 secrets added \\(3 values\\), 0 changed, 1 removed, 1 access change; 3 problems\\.");
    const one = { ...r, environments: [added("staging", ["zendesk_api_token"])], summary: { ...r.summary, added: 1, removed: 0 } };
    expect(renderReviewText(one)).toContain("Summary: 1 secret added, 0 changed, 0 removed,");
  });
});

describe("review text from a subfolder", () => {
  it("names files and the paths of messages relative to the current directory, as check does; JSON keeps the root's", async () => {
    const r = report();
    const fromSecrets = (dir: string) => readerWording(dir === "" ? "/repo" : `/repo/${dir}`, "/repo/secrets", dir === "");
    const text = renderReviewsText(r, [], fromSecrets);
    expect(text).toContain("production (production.enc.yaml)\n");
    expect(text).toContain("  ✗ ../connectors/stripe.yaml:4: missing-environment-value: ");
    expect(text).toContain("  ✗ ../stellar.yaml:9: ../stellar.yaml weakens rule recipient-drift from error to off\n");
    expect(text).toContain("  ../connectors/stripe.yaml:4:18: error missing-environment-value ");
    expect(text).toContain("  ✗ production.enc.yaml: bob was removed");
    expect(text).not.toMatch(/(?<![./])(connectors|secrets)\//);
    // at the root: byte for byte as before
    expect(renderReviewsText(r, [], (dir) => readerWording(dir === "" ? "/repo" : `/repo/${dir}`, "/repo", dir === ""))).toBe(renderReviewText(r));
    // the other formats are the same wherever review runs
    expect(renderReviewJson(r)).toContain('"file": "connectors/stripe.yaml"');
  });

  it("moves a cause's files, and a nested project's paths and (cd DIR && …) commands, to the current directory", async () => {
    const cause = await (async () => {
      const alice = await generateIdentity();
      const bob = await generateIdentity();
      const config = (members: string): string => `version: 1\nenvironments:\n  staging:\n    members:\n${members}  production:\n    members:\n${members}`;
      const files = new Map<string, string>([["stellar.yaml", config(`      alice: ${alice.recipient}\n      bob: ${bob.recipient}\n`)]]);
      for (const e of ["staging", "production"]) files.set(`secrets/${e}.enc.yaml`, await encryptSecrets(new Map([["api_key", `TEST-ONLY-${e}`]]), { recipients: [alice.recipient, bob.recipient] }));
      const head = new Map(files).set("stellar.yaml", config(`      alice: ${alice.recipient}\n`));
      return buildReview(stateFromFiles("HEAD", undefined, "/repo", files), stateFromFiles("working tree", undefined, "/repo", head));
    })();
    const words = readerWording("/repo", "/repo/secrets", true);
    const text = renderReviewsText(cause, [], () => words);
    expect(text).toContain("      in staging.enc.yaml:3; production.enc.yaml:3\n");
    expect(text).toContain("their key still opens 2 files (staging.enc.yaml, production.enc.yaml)");
    const nested = withPathPrefix({ ...report(), problems: [{ kind: "unrotated-removal", environment: "production", file: "secrets/production.enc.yaml", message: "run `(cd teams/labs && stellar-secrets rotate-key --env production)`" }] }, "teams/labs");
    const fromOps = (dir: string) => readerWording(dir === "" ? "/repo" : `/repo/${dir}`, "/repo/ops", false);
    const both = renderReviewsText({ ...report(), problems: [], clean: true }, [{ path: "teams/labs", report: nested }], fromOps);
    expect(both).toContain("\n../teams/labs (a project of its own)\n");
    expect(both).toContain("  ✗ ../teams/labs/secrets/production.enc.yaml: run `(cd ../teams/labs && stellar-secrets rotate-key --env production)`\n");
  });
});

describe("an encrypted comment edited by hand (sops edit)", () => {
  it("is told by place in text, markdown and JSON, never called formatting, and its text is never shown", async () => {
    const alice = await generateIdentity(); // TEST-ONLY
    const config = `version: 1\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n`;
    const text = await encryptSecrets(new Map([["hubspot_api_token", "TEST-ONLY-h"], ["stripe_api_key", "TEST-ONLY-s"]]), { recipients: [alice.recipient] });
    const { dataKey } = await decryptSecrets(text, [alice.identity]);
    const secretWords = "TEST-ONLY rotate after the audit";
    const withComment = text.replace("\nstripe_api_key:", `\n#${encryptValue(Buffer.from(` ${secretWords}`, "utf8"), dataKey, aadForPath([]), "comment")}\nstripe_api_key:`);
    const files = (t: string) => new Map([["stellar.yaml", config], ["secrets/production.enc.yaml", t]]);
    const report = buildReview(stateFromFiles("HEAD", undefined, "/repo", files(text)), stateFromFiles("working tree", undefined, "/repo", files(withComment)));
    const production = report.environments[0];
    expect(production?.secrets).toEqual([]);
    expect(production?.comments).toEqual([{ change: "added", place: "above", secret: "stripe_api_key", line: 2 }]);
    const out = renderReviewText(report);
    expect(out).toContain("  note: an encrypted comment was added above stripe_api_key (line 2) (its text is encrypted, and no MAC covers a comment: a member reads it with `sops -d`)\n");
    expect(out).toContain("(no value changed: only comments (below) and metadata)");
    expect(out).not.toContain("formatting");
    const md = renderReviewMarkdown(report);
    expect(md).toContain("an encrypted comment was added above");
    expect(md).not.toContain("formatting");
    const json = JSON.parse(renderReviewJson(report)) as { environments: { comments: unknown[]; notes: { kind: string }[] }[] };
    expect(json.environments[0]?.comments).toEqual([{ change: "added", place: "above", secret: "stripe_api_key", line: 2 }]);
    expect(json.environments[0]?.notes.map((n) => n.kind)).toEqual(["metadata-only", "encrypted-comment"]);
    for (const o of [out, md, renderReviewJson(report)]) expect(o).not.toContain(secretWords);
  });
});

describe("review A...B on a criss-cross history (two merge bases)", () => {
  const M1 = "5ba7f016c2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  const M2 = "9c0ffee123cccccccccccccccccccccccccccccc";
  const withBases = (differ: string[]): ReviewReport => ({ ...report(), mergeBases: [M1, M2], mergeBasesDiffer: differ });

  it("says in the text header that there were two bases, which one is compared, and where the other differs", () => {
    const text = renderReviewText(withBases(["secrets/production.enc.yaml"]));
    const lines = text.split("\n");
    expect(lines[0]).toBe("Review of merge-base of main and feature (5ba7f016c2) → feature (149f25f3db) (no key used)");
    expect(lines[1]).toBe(
      "Note: the range has 2 merge bases (criss-cross merges): this review compares with 5ba7f016c2 (git's pick), not with 9c0ffee123. " +
        "They differ in secrets/production.enc.yaml: a value set there on another base shows here as a change of this range, or a change there is hidden; " +
        "review against each base to see both (`stellar-secrets review 9c0ffee123cccccccccccccccccccccccccccccc..feature`)",
    );
    expect(renderReviewText(withBases([])).split("\n")[1]).toBe(
      "Note: the range has 2 merge bases (criss-cross merges): this review compares with 5ba7f016c2 (git's pick), not with 9c0ffee123. They hold the same files of this project, so the choice hides nothing.",
    );
    // one merge base: no note
    expect(renderReviewText(report()).split("\n")[1]).toBe("");
  });

  it("says it in Markdown under the sides line, and carries both fields in JSON", () => {
    const md = renderReviewMarkdown(withBases(["secrets/production.enc.yaml"]));
    expect(md).toContain("> **2 merge bases** (criss-cross merges): this review compares with `5ba7f016c2` (git's pick), not with `9c0ffee123`.");
    expect(md).toContain("They differ in `secrets/production.enc.yaml`");
    const json = JSON.parse(renderReviewJson(withBases(["secrets/production.enc.yaml"])));
    expect(json.mergeBases).toEqual([M1, M2]);
    expect(json.mergeBasesDiffer).toEqual(["secrets/production.enc.yaml"]);
    expect(JSON.parse(renderReviewJson(report())).mergeBases).toBeUndefined();
  });

  it("says per secret what the other base brings, in text, Markdown and JSON (names only, never a value)", () => {
    const r: ReviewReport = {
      ...withBases(["secrets/production.enc.yaml", "secrets/staging.enc.yaml"]),
      mergeBasesSecrets: [
        {
          base: M2,
          environment: "production",
          file: "secrets/production.enc.yaml",
          secrets: [
            { name: "hubspot_api_token", change: "changed" },
            { name: "old_token", change: "removed" },
            { name: "slack_bot_token", change: "added" },
          ],
        },
        { base: M2, environment: "staging", file: "secrets/staging.enc.yaml", secrets: [{ name: "stripe_api_key", change: "re-encrypted" }] },
        { base: M2, environment: "qa", file: "secrets/qa.enc.yaml" },
      ],
    };
    const lines = renderReviewText(r).split("\n");
    expect(lines.slice(2, 6)).toEqual([
      "  9c0ffee123 against 5ba7f016c2, production (secrets/production.enc.yaml): another value of hubspot_api_token; only 9c0ffee123 has slack_bot_token; only 5ba7f016c2 has old_token",
      "  9c0ffee123 against 5ba7f016c2, staging (secrets/staging.enc.yaml): every value re-encrypted (stripe_api_key): values cannot be compared without a key",
      "  9c0ffee123 against 5ba7f016c2, qa (secrets/qa.enc.yaml): a version is not a readable SOPS file, so its secrets cannot be compared",
      "",
    ]);
    const md = renderReviewMarkdown(r);
    expect(md).toContain("> - `9c0ffee123` against `5ba7f016c2`, production (`secrets/production.enc.yaml`): another value of hubspot\\_api\\_token; only `9c0ffee123` has slack\\_bot\\_token; only `5ba7f016c2` has old\\_token\n");
    expect(JSON.parse(renderReviewJson(r)).mergeBasesSecrets).toEqual(r.mergeBasesSecrets);
    // the existing note and fields are as they were
    expect(lines[1]).toMatch(/^Note: the range has 2 merge bases \(criss-cross merges\)/);
  });
});

describe("a data key brought back from an earlier version", () => {
  it("is told as brought back, not as a rotation, and gets no 'rotated, but they could read' note", () => {
    const e = env({
      dataKeyRotated: true,
      reencrypted: ["hubspot_api_token", "stripe_api_key"],
      recipients: { gained: [], lost: [{ recipient: BOB, member: "bob" }] },
      dataKeyRestoredFrom: "c1".repeat(20),
    });
    const report = { ...buildReview(stateFromFiles("base", undefined, "/repo", new Map()), stateFromFiles("head", undefined, "/repo", new Map())), environments: [e] } as ReviewReport;
    const text = renderReviewText(report);
    expect(text).toContain("data key of commit c1c1c1c1c1 brought back");
    expect(text).not.toContain("data key rotated");
    expect(environmentNotes(e).map((n) => n.kind)).not.toContain("exposed-before-rotation");
    const md = renderReviewMarkdown(report);
    expect(md).toContain("brought back");
    expect(md).not.toContain("data key rotated");
  });
});

describe("a key that no member has now", () => {
  it("says whose key it was in an earlier stellar.yaml", () => {
    const e = env({ recipients: { gained: [{ recipient: BOB, formerMember: "bob" }], lost: [] } });
    const report = { ...buildReview(stateFromFiles("base", undefined, "/repo", new Map()), stateFromFiles("head", undefined, "/repo", new Map())), environments: [e] } as ReviewReport;
    expect(renderReviewText(report)).toContain(`${BOB} (not a member; bob's key in an earlier stellar.yaml)`);
  });
});
