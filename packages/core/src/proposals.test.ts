/**
 * The inbox rules over parsed proposals, in memory (keys made per run, TEST-ONLY).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createProposal, generateIdentity } from "@stellar-secrets/sops";
import { loadWorkspace } from "./load.js";
import { parseProjectConfig } from "./project.js";
import { treeFs } from "./review/state.js";
import { checkProposals, diffProposals, parseProposalFile, proposalRecipientDrift, type ProposalFile } from "./proposals.js";
import type { RuleId, Severity } from "./rules.js";

const SEV: Record<string, Severity> = { "pending-proposal": "info", "stale-proposal": "warning", "invalid-proposal": "error", "unknown-environment": "error", "invalid-secret-name": "error" };
const sev = (r: RuleId): Severity => SEV[r] ?? "error";
let alice = "";
let bob = "";
let text = "";

function project(members: string[]) {
  const yaml = `version: 1\nenvironments:\n  production:\n    members:\n${members.map((m, i) => `      m${i}: ${m}\n`).join("")}`;
  return parseProjectConfig(yaml, "/repo/stellar.yaml").config!;
}

function file(t: string, place = "inbox/production/stripe_api_key.0123456789ab.age"): ProposalFile {
  return parseProposalFile(t, `secrets/${place}`, place);
}

function rules(files: ProposalFile[], members: string[], names: string[] = []) {
  return checkProposals(files, { project: project(members), namesOf: () => names }, sev).map((d) => [d.rule, d.line]);
}

beforeAll(async () => {
  alice = (await generateIdentity()).recipient;
  bob = (await generateIdentity()).recipient;
  text = await createProposal({ environment: "production", name: "stripe_api_key", proposer: "Carol", proposedAt: new Date("2026-12-03T08:00:00Z"), recipients: [alice, bob], value: "v" });
});

describe("inbox rules", () => {
  it("reports a current proposal as pending (info) at its name, saying whether it adds or replaces", () => {
    expect(rules([file(text)], [alice, bob])).toEqual([["pending-proposal", 5]]);
    const [d] = checkProposals([file(text)], { project: project([alice, bob]), namesOf: () => ["stripe_api_key"] }, sev);
    expect(d?.message).toContain("(replaces its current value)");
    expect(d?.secret).toBe("stripe_api_key");
  });

  it("warns when the members changed since (an extra reader, or a missing member)", async () => {
    const carol = (await generateIdentity()).recipient;
    expect(rules([file(text)], [alice])).toEqual([["pending-proposal", 5], ["stale-proposal", 8]]);
    expect(rules([file(text)], [alice, bob, carol])).toEqual([["pending-proposal", 5], ["stale-proposal", 8]]);
    expect(proposalRecipientDrift(project([alice]), { environment: "production", recipients: [alice, bob] })).toEqual({ extra: [bob], missing: [] });
    expect(proposalRecipientDrift(project([alice, bob, carol]), { environment: "production", recipients: [alice, bob] })?.missing.map((m) => m.name)).toEqual(["m2"]);
  });

  it("reports files that are not proposals at their place, or disagree with it, as invalid", () => {
    expect(rules([file(text, "inbox/notes.txt")], [alice, bob])).toEqual([["invalid-proposal", 1]]);
    expect(rules([file(text, "inbox/production/github_token.0123456789ab.age")], [alice, bob])).toEqual([["invalid-proposal", 5]]);
    expect(rules([file(text, "inbox/staging/stripe_api_key.0123456789ab.age")], [alice, bob])).toEqual([["invalid-proposal", 4]]);
    expect(rules([file(text.replace(`recipient: ${bob}\n`, ""))], [alice])).toEqual([["invalid-proposal", 9]]); // at the age file
    expect(rules([file(text.slice(0, text.indexOf("-----END")))], [alice, bob])[0]?.[0]).toBe("invalid-proposal");
  });

  it("reports an undeclared environment and a bad name with their own rules", async () => {
    const staging = await createProposal({ environment: "staging", name: "stripe_api_key", proposer: "C", proposedAt: new Date(), recipients: [alice], value: "v" });
    expect(rules([file(staging, "inbox/staging/stripe_api_key.0123456789ab.age")], [alice])).toEqual([["unknown-environment", 4]]);
    const bad = await createProposal({ environment: "production", name: "StripeKey", proposer: "C", proposedAt: new Date(), recipients: [alice], value: "v" });
    expect(rules([file(bad, "inbox/production/StripeKey.0123456789ab.age")], [alice])).toEqual([["invalid-secret-name", 5]]);
  });

  it("lists the proposals a change adds and removes", () => {
    const a = file(text);
    const b = file(text, "inbox/production/stripe_api_key.aaaaaaaaaaaa.age");
    const diff = diffProposals(new Map([[a.path, a]]), new Map([[b.path, b]]));
    expect(diff.map((p) => [p.change, p.name, p.proposer, p.file])).toEqual([
      ["removed", "stripe_api_key", "Carol", a.path],
      ["added", "stripe_api_key", "Carol", b.path],
    ]);
  });
});

describe("a symbolic link in the inbox", () => {
  it("is an invalid-proposal on the link saying where it points and how to fix it, in a tree read from git too (never followed)", () => {
    const root = "/repo";
    const project = "version: 1\nenvironments:\n  production:\n    members:\n      alice: age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq\n";
    const files = new Map([["stellar.yaml", project]]);
    const links = new Map([
      ["secrets/inbox/production/stripe_api_key.abcdefabcdef.age", "../../../elsewhere/p.age"],
      ["secrets/inbox/staging", "production"],
    ]);
    const fs = treeFs(root, new Set(files.keys()), (rel) => files.get(rel), links);
    const { index } = loadWorkspace(root, { fs, atRoot: true });
    const found = [...index.proposalFiles.values()].map((f) => [f.path, f.environment, f.diagnostics.map((d) => [d.rule, d.line, d.column])]);
    expect(found).toEqual([
      ["secrets/inbox/production/stripe_api_key.abcdefabcdef.age", "production", [["invalid-proposal", 1, 1]]],
      ["secrets/inbox/staging", undefined, [["invalid-proposal", 1, 1]]],
    ]);
    expect(index.proposalFiles.get("secrets/inbox/production/stripe_api_key.abcdefabcdef.age")?.diagnostics[0]?.message).toMatchInlineSnapshot(`"secrets/inbox/production/stripe_api_key.abcdefabcdef.age is a symbolic link (to ../../../elsewhere/p.age), not a proposal: the inbox holds only regular files written by \`stellar-secrets set\`, and git would commit the link, not a proposal; it was not read; remove the link (\`git rm secrets/inbox/production/stripe_api_key.abcdefabcdef.age\`) and propose the value again with \`stellar-secrets set stripe_api_key --env production\`"`);
  });
});
