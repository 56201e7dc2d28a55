import { describe, expect, it } from "vitest";
import { LineIndex } from "./position.js";
import { parseEnvironmentFile } from "./secrets-dir.js";
import { readerWording } from "./review/wording.js";
import { checkUnresolvedMerge, parseUnresolvedMergeRecord, textHash, unresolvedMergeApplies, wholeFileFinish, type UnresolvedMergeRecord, type UnresolvedWholeFile } from "./unresolved-merge.js";

const MERGED = "stripe_api_key: ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]\nhubspot_api_token: ENC[AES256_GCM,data:DDDD,iv:EEEE,tag:FFFF,type:str]\n";
const HEAD = "stripe_api_key: ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]\n";
const THEIRS = "stripe_api_key: ENC[AES256_GCM,data:ZZZZ,iv:YYYY,tag:XXXX,type:str]\n";

function record(text: string, names = ["stripe_api_key"]): UnresolvedMergeRecord {
  return { version: 1, path: "secrets/production.enc.yaml", environment: "production", names, file: textHash(text), theirs: textHash(THEIRS), recordedAt: "2026-01-01T00:00:00Z" };
}

describe("unresolvedMergeApplies", () => {
  it("holds while the file is what the driver left and differs from every committed version", () => {
    expect(unresolvedMergeApplies(record(MERGED), MERGED, [HEAD])).toBe(true);
    expect(unresolvedMergeApplies(record(MERGED), MERGED, [HEAD, THEIRS])).toBe(true);
  });

  it("is stale once the file changed in another way than resolve (a write, a checkout)", () => {
    expect(unresolvedMergeApplies(record(MERGED), HEAD, [HEAD, THEIRS])).toBe(false);
    expect(unresolvedMergeApplies(record(MERGED), `${MERGED}\n`, [HEAD])).toBe(false);
  });

  it("when the driver left our version byte for byte: holds only while the conflicting operation is in progress", () => {
    // during the merge: MERGE_HEAD's version is the recorded theirs
    expect(unresolvedMergeApplies(record(HEAD), HEAD, [HEAD, THEIRS])).toBe(true);
    // after `git merge --abort` (or once committed): only HEAD's version, the same text
    expect(unresolvedMergeApplies(record(HEAD), HEAD, [HEAD])).toBe(false);
  });

  it("holds for the file git checked out with CRLF line endings (core.autocrlf, eol=crlf): the driver wrote LF, git converts on checkout", () => {
    const crlf = (t: string): string => t.replace(/\n/g, "\r\n");
    expect(unresolvedMergeApplies(record(MERGED), crlf(MERGED), [HEAD])).toBe(true);
    // whole-file records: our version byte for byte, checked out with CRLF, while the operation is in progress
    expect(unresolvedMergeApplies(record(HEAD), crlf(HEAD), [HEAD, THEIRS])).toBe(true);
    expect(unresolvedMergeApplies(record(HEAD), crlf(HEAD), [HEAD])).toBe(false);
    // any other change still makes it stale
    expect(unresolvedMergeApplies(record(MERGED), `${crlf(MERGED)}\r\n`, [HEAD])).toBe(false);
  });

  it("during `git am -3` (no commit names the patch's side): our version byte for byte holds only while the am session is at the recorded patch", () => {
    const am = "a".repeat(64);
    // the reader found the session still at the patch
    expect(unresolvedMergeApplies({ ...record(HEAD), am, amInProgress: true }, HEAD, [HEAD])).toBe(true);
    // git am --skip, --abort or --continue past it: the reader sets nothing
    expect(unresolvedMergeApplies({ ...record(HEAD), am }, HEAD, [HEAD])).toBe(false);
    // a record without `am` is never kept alive by the flag alone
    expect(unresolvedMergeApplies({ ...record(HEAD), amInProgress: true }, HEAD, [HEAD])).toBe(false);
    // any other change still makes it stale
    expect(unresolvedMergeApplies({ ...record(HEAD), am, amInProgress: true }, MERGED, [HEAD])).toBe(false);
  });

  it("reads `am` from a record's JSON, never `amInProgress` (what only the git readers set)", () => {
    const am = "b".repeat(64);
    const parsed = parseUnresolvedMergeRecord(JSON.stringify({ ...record(HEAD), am, amInProgress: true }));
    expect(parsed?.am).toBe(am);
    expect(parsed?.amInProgress).toBeUndefined();
    expect(parseUnresolvedMergeRecord(JSON.stringify({ ...record(HEAD), am: "not hex" }))?.am).toBeUndefined();
  });

  it("never holds without names", () => {
    expect(unresolvedMergeApplies(record(MERGED, []), MERGED, [])).toBe(false);
  });
});

describe("checkUnresolvedMerge", () => {
  const file = { ...parseEnvironmentFile(MERGED, "secrets/production.enc.yaml", "production"), text: MERGED };

  it("reports each name at its key, with the commands that finish it", () => {
    const ds = checkUnresolvedMerge(file, record(MERGED, ["hubspot_api_token", "stripe_api_key"]), [HEAD]);
    expect(ds.map((d) => [d.rule, d.severity, d.secret, d.line, d.column, d.endColumn])).toEqual([
      ["unresolved-merge", "error", "hubspot_api_token", 2, 1, 18],
      ["unresolved-merge", "error", "stripe_api_key", 1, 1, 15],
    ]);
    expect(ds[1]?.message).toContain("stellar-secrets resolve stripe_api_key --env production --ours|--theirs|--from-stdin");
    expect(ds[1]?.message).toContain("git add secrets/production.enc.yaml");
  });

  it("reports a name our side does not have at the file's start, with the configured severity", () => {
    const ds = checkUnresolvedMerge(file, record(MERGED, ["zendesk_api_token"]), [], "warning");
    expect(ds.map((d) => [d.severity, d.line, d.column, d.endLine, d.endColumn])).toEqual([["warning", 1, 1, 1, 1]]);
  });

  it("reports nothing for a stale record or a file without text", () => {
    expect(checkUnresolvedMerge(file, record(HEAD), [HEAD])).toEqual([]);
    expect(checkUnresolvedMerge({ ...file, text: undefined }, record(MERGED), [])).toEqual([]);
    expect(checkUnresolvedMerge({ ...file, lines: new LineIndex(MERGED) }, undefined, [])).toEqual([]);
  });
});

describe("parseUnresolvedMergeRecord", () => {
  it("reads what the driver writes and refuses anything else", () => {
    const r = record(MERGED, ["b", "a"]);
    expect(parseUnresolvedMergeRecord(JSON.stringify(r))).toEqual({ ...r, names: ["a", "b"] });
    expect(parseUnresolvedMergeRecord("not json")).toBeUndefined();
    expect(parseUnresolvedMergeRecord(JSON.stringify({ ...r, version: 2 }))).toBeUndefined();
    expect(parseUnresolvedMergeRecord(JSON.stringify({ ...r, file: "abc" }))).toBeUndefined();
    expect(parseUnresolvedMergeRecord(JSON.stringify({ ...r, names: [1] }))).toBeUndefined();
  });
});

function wholeRecord(whole: UnresolvedWholeFile): UnresolvedMergeRecord {
  return { ...record(HEAD, []), whole };
}

describe("whole-file records (the driver merged nothing and left our version)", () => {
  const file = { ...parseEnvironmentFile(HEAD, "secrets/production.enc.yaml", "production"), text: HEAD };
  const needsKey = wholeRecord({ reason: "needs-key", code: "MERGE_NEEDS_KEY", members: ["alice", "bob"] });

  it("hold while the operation is in progress, and are stale after an abort, a commit or a checkout of their side", () => {
    expect(unresolvedMergeApplies(needsKey, HEAD, [HEAD, THEIRS])).toBe(true);
    expect(unresolvedMergeApplies(needsKey, HEAD, [HEAD])).toBe(false);
    expect(unresolvedMergeApplies(needsKey, THEIRS, [HEAD, THEIRS])).toBe(false);
  });

  it("report one diagnostic at the file's start, saying who can finish it and how", () => {
    const ds = checkUnresolvedMerge(file, needsKey, [HEAD, THEIRS]);
    expect(ds.map((d) => [d.rule, d.severity, d.line, d.column, d.secret])).toEqual([["unresolved-merge", "error", 1, 1, undefined]]);
    expect(ds[0]?.message).toContain("only a member of production (alice, bob) can merge it");
    expect(ds[0]?.message).toContain("stellar-secrets resolve --env production --ours|--theirs");
    const recipients = checkUnresolvedMerge(file, wholeRecord({ reason: "recipients", code: "MERGE_CONFLICT", members: [] }), [HEAD, THEIRS], "warning");
    expect(recipients.map((d) => d.severity)).toEqual(["warning"]);
    expect(recipients[0]?.message).toContain("changed who can decrypt production differently");
    expect(recipients[0]?.message).toContain("rotate-key --env production");
    expect(checkUnresolvedMerge(file, needsKey, [HEAD])).toEqual([]);
  });

  it("say that a recipients record is a change the driver cannot merge as a set (two plain member changes merge since s24)", () => {
    const [d] = checkUnresolvedMerge(file, wholeRecord({ reason: "recipients", code: "MERGE_CONFLICT", members: [] }), [HEAD, THEIRS]);
    expect(d?.message).toContain("in a way the merge driver cannot merge as a set (the file created on both sides, or a recipient that is no valid key)");
  });

  it("say how to finish each reason", () => {
    expect(wholeFileFinish({ reason: "needs-key", code: "MERGE_NEEDS_KEY", members: [] }, "staging", "s.enc.yaml")).toContain("a member of staging (see stellar.yaml)");
    expect(wholeFileFinish({ reason: "failed", code: "MERGE_FAILED", members: [] }, "staging", "s.enc.yaml")).toContain("git checkout -m -- s.enc.yaml");
  });

  it("word their paths and commands for a reader in another folder (pre-commit run in a subfolder)", () => {
    const PATH = "secrets/production.enc.yaml";
    const failed = { reason: "failed", code: "MERGE_FAILED", members: [] } as const;
    const recipients = { reason: "recipients", code: "MERGE_CONFLICT", members: [] } as const;
    // in the project's secrets folder: paths relative to it, commands as they are (they find the project)
    const inSecrets = readerWording("/repo", "/repo/secrets", true);
    expect(wholeFileFinish(failed, "production", PATH, inSecrets)).toBe(
      "fix what merge-file reported, then redo the merge of the file with `git checkout -m -- production.enc.yaml`; or keep one side whole with " +
        "`stellar-secrets resolve --env production --ours|--theirs` (the other side's changes to production.enc.yaml are then lost), then `git add production.enc.yaml`",
    );
    // above a nested project: paths below it, commands run in its folder
    const above = readerWording("/repo/teams/labs", "/repo", false);
    const text = wholeFileFinish(recipients, "production", PATH, above);
    expect(text).toContain("`(cd teams/labs && stellar-secrets resolve --env production --ours|--theirs)` (the other side's changes to teams/labs/secrets/production.enc.yaml are then lost), then `git add teams/labs/secrets/production.enc.yaml`");
    expect(text).toContain("`(cd teams/labs && stellar-secrets rotate-key --env production)`");
    expect(text).not.toMatch(/[^/]secrets\/production/);
    // a path that is no plain shell word is quoted in the commands
    expect(wholeFileFinish(failed, "production", "secrets/pro duction.enc.yaml")).toContain("`git add 'secrets/pro duction.enc.yaml'`");
    // the project root's own wording is what it always was
    expect(wholeFileFinish(failed, "production", PATH, readerWording("/repo", "/repo", true))).toBe(wholeFileFinish(failed, "production", PATH));
  });

  it("parse back, and an unknown reason is not a record", () => {
    expect(parseUnresolvedMergeRecord(JSON.stringify(needsKey))).toEqual(needsKey);
    expect(parseUnresolvedMergeRecord(JSON.stringify({ ...needsKey, whole: { reason: "other", code: "X", members: [] } }))).toBeUndefined();
    expect(parseUnresolvedMergeRecord(JSON.stringify({ ...needsKey, whole: { reason: "failed", code: "MERGE_FAILED" } }))?.whole).toEqual({ reason: "failed", code: "MERGE_FAILED", members: [] });
  });
});
