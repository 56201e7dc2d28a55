import { RULES } from "@stellar-secrets/core";
import { describe, expect, it } from "vitest";
import { sarifSchemaErrors } from "../../../test/helpers/sarif.js";
import type { EnvironmentReview, ReviewReport } from "@stellar-secrets/core";
import { environmentNotes, markdownCode, markdownText, MARKDOWN_MARKER, renderReviewMarkdown, renderReviewSarif, renderReviewText, REVIEW_RULES, reviewJson } from "./review-render.js";

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
    expect(lines).toContain("- ❌ **`stellar.yaml:9`** (weakened rule) stellar.yaml weakens rule recipient\\-drift from error to off");
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

describe("renderReviewSarif", () => {
  it("is valid SARIF 2.1.0 with the checker's rules plus the review rules", () => {
    const log = renderReviewSarif(report(), "/repo", "0.1.0") as {
      runs: { tool: { driver: { name: string; rules: { id: string }[] } }; results: { ruleId: string; ruleIndex?: number; level: string; baselineState?: string; locations?: { physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } } }[] }[] }[];
    };
    expect(sarifSchemaErrors(log)).toEqual([]);
    const run = log.runs[0]!;
    expect(run.tool.driver.name).toBe("stellar-secrets");
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual([...RULES.map((r) => r.id), ...REVIEW_RULES.map((r) => r.id)]);
    expect(REVIEW_RULES.map((r) => r.id)).toEqual(["plaintext", "unrotated-removal", "non-member-recipient", "weakened-rule", "rewrapped-without-rotation", "tampered", "unsigned-change"]);
    expect(run.results.map((r) => [r.ruleId, r.level, r.baselineState, r.locations?.[0]?.physicalLocation.artifactLocation.uri, r.locations?.[0]?.physicalLocation.region?.startLine])).toEqual([
      ["missing-environment-value", "error", "new", "connectors/stripe.yaml", 4],
      ["unused-secret", "warning", "unchanged", "secrets/staging.enc.yaml", 2],
      ["unrotated-removal", "error", "new", "secrets/production.enc.yaml", undefined],
      ["weakened-rule", "error", "new", "stellar.yaml", 9],
    ]);
    for (const r of run.results) expect(run.tool.driver.rules[r.ruleIndex as number]?.id).toBe(r.ruleId);
  });

  it("validates an empty review too, and the schema check can fail", () => {
    const clean: ReviewReport = { ...report(), environments: [], diagnostics: [], problems: [], clean: true };
    expect(sarifSchemaErrors(renderReviewSarif(clean, "/repo", "0.1.0"))).toEqual([]);
    expect(sarifSchemaErrors({ version: "2.1.0", runs: [{ tool: { driver: {} } }] }).length).toBeGreaterThan(0);
  });
});
