/**
 * How `review` prints a report as text, on reports written out in memory (what each report
 * means is tested in core, packages/core/src/review/model.test.ts; the command as a process in
 * test/cli-review.test.ts).
 */
import { describe, expect, it } from "vitest";
import type { EnvironmentReview, ReviewProblem, ReviewReport } from "@stellar-secrets/core";
import { renderReviewText as renderText } from "../review-render.js";

const BOB = "age1bobbobbobbobbobbobbobbobbobbobbobbobbobbobbobbobbobbobbobbob";
const ALICE = "age1alicealicealicealicealicealicealicealicealicealicealiceali";

function envReview(over: Partial<EnvironmentReview>): EnvironmentReview {
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

function report(environments: EnvironmentReview[], problems: ReviewProblem[] = environments.flatMap((e) => e.problems)): ReviewReport {
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
    const text = renderText(report([envReview({ dataKeyRotated: true, reencrypted: three })]));
    expect(text).toContain("data key rotated: 3 values (hubspot_api_token, legacy_api_token and stripe_api_key) re-encrypted");
    expect(text).toContain("re-encrypted (values may or may not have changed)");
    expect(text).not.toMatch(/~ \w+\s+changed/);
    expect(text).toContain("Summary: 0 added, 0 changed, 0 removed, 1 environment re-encrypted; no problems.");
  });

  it("never says no value changed when every value was re-encrypted under the same data key", () => {
    const text = renderText(report([envReview({ reencrypted: three })]));
    expect(text).toContain("every value re-encrypted under the same data key (e.g. a plain sops edit): 3 values");
    expect(text).not.toContain("no value changed");
    expect(renderText(report([envReview({})]))).toContain("(no value changed: only metadata such as key wrapping or formatting)");
  });

  it("says when one kept value cannot tell a rotation from a change plus a re-wrap", () => {
    const text = renderText(report([envReview({ environment: "staging", dataKeyRotated: true, rotationUncertain: true, reencrypted: ["stripe_api_key"] })]));
    expect(text).toContain("data key rotated, or the one value changed and the key re-wrapped (cannot tell without a key)");
  });

  it("names members who gained and lost access", () => {
    expect(renderText(report([envReview({ members: { gained: [{ name: "bob", recipient: BOB }], lost: [], keyChanged: [] } })]))).toContain("access: bob gained access");
    expect(renderText(report([envReview({ members: { gained: [], lost: [{ name: "bob", recipient: BOB }], keyChanged: [] } })]))).toContain("access: bob lost access");
    const recipients = renderText(report([envReview({ recipients: { gained: [{ recipient: ALICE, member: "alice" }], lost: [{ recipient: BOB }] } })]));
    expect(recipients).toContain("recipients: + alice (");
    expect(recipients).toContain(`recipients: - ${BOB} (not a member) is no longer a recipient of the file`);
  });

  it("presents an access request as a request, not as access gained", () => {
    const text = renderText(report([envReview({ members: { gained: [], lost: [], keyChanged: [], requested: [{ name: "bob", recipient: BOB }] } })]));
    expect(text).toContain("request: bob asks for access (");
    expect(text).toContain("stellar-secrets members approve bob --env production");
    expect(text).not.toContain("gained access");
    expect(text).toContain("0 removed, 1 access request; no problems.");
  });

  it("lists every problem under its environment and in the problem list, and flags a file that is not encrypted", () => {
    const problem: ReviewProblem = { kind: "unrotated-removal", environment: "production", file: "secrets/production.enc.yaml", message: "bob was removed from production but the data key was not rotated: …" };
    const text = renderText(report([envReview({ problems: [problem] }), envReview({ environment: "staging", file: "secrets/staging.enc.yaml", encrypted: false })]));
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
      ...report([envReview({})], [problem]),
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
    const text = renderText(r);
    expect(text).toContain("  ✓ 1111111111 signed by bob: changes production\n");
    expect(text).toContain("  ⚠ 2222222222 not signed: changes preview and staging\n");
    expect(text).toContain("  ✗ 3333333333 signed by dave: changes production (not as a member of production)\n");
    expect(text).toContain("  (no member of staging has an ssh-ed25519 key, so no change of it can be verified)");
    expect(text).toContain("Warnings (1):\n  ⚠ secrets/preview.enc.yaml: commit 2222222222 changes preview");
    expect(text).toContain("; 1 problem, 1 warning.");
    // where no commit changes an environment anyone could sign for: one line
    const none = renderText({ ...report([envReview({})]), signatures: { checked: true, commits: [{ commit: c("4"), status: "unsigned", environments: ["staging"], unsignedFor: ["staging"] }], unverifiable: ["staging"] } });
    expect(none).toContain("):\n  (no member of staging has an ssh-ed25519 key");
    expect(none).not.toContain("4444444444");
    expect(renderText(report([envReview({})]))).not.toContain("Signatures");
  });
});
