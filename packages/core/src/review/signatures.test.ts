/**
 * Signed provenance in a review, in memory: which commits of a range change an environment
 * (readCommitTouches over a fake GitSource that prints what `git log` would), and the
 * `unsigned-change` findings buildReview makes from their signatures, judged against the
 * members of the base only. SSH keys are made in memory for the test only (public halves only).
 */
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { buildReview } from "./model.js";
import type { GitSource } from "./git.js";
import type { SignedCommit } from "./report.js";
import { allMembersCanSign, readCommitTouches, reviewSignatures, sshKeyFingerprint } from "./signatures.js";
import { stateFromFiles, type ReviewState } from "./state.js";

/** A TEST-ONLY ssh-ed25519 public key line, made in memory. */
function sshKey(): string {
  const x = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" }).x as string;
  const raw = Buffer.from(x, "base64url");
  const field = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from("ssh-ed25519")), field(raw)]).toString("base64")}`;
}

const BOB = sshKey();
const CAROL = sshKey();
const DAVE = sshKey();
const MALLORY = sshKey();
const ALICE_AGE = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

const sha = (c: string): string => c.repeat(40);
const R = "\u001e";
const F = "\u001f";

function yaml(envs: Record<string, Record<string, string>>, extra = ""): string {
  return `version: 1\n${extra}environments:\n${Object.entries(envs)
    .map(([env, members]) => `  ${env}:\n    members:\n${Object.entries(members).map(([n, r]) => `      ${n}: "${r}"\n`).join("")}`)
    .join("")}`;
}

/** production: every member can sign; preview: some can; staging: none can. */
const BASE_YAML = yaml({ production: { bob: BOB, carol: CAROL }, preview: { alice: ALICE_AGE, dave: DAVE }, staging: { alice: ALICE_AGE } });

function state(label: string, commit: string, text: string): ReviewState {
  return stateFromFiles(label, commit, "/p", new Map([["stellar.yaml", text]]));
}

const base = state("main", sha("b"), BASE_YAML);

function signed(commit: string, over: Partial<SignedCommit>): SignedCommit {
  return { commit, files: [], members: [], status: "unsigned", ...over };
}

describe("reviewSignatures (through buildReview)", () => {
  it("BASE...HEAD: a change signed by a member of the merge base whom BASE's tip removed since the branch forked is unsigned-change; one still a member there is not", () => {
    const byCarol = [signed(sha("1"), { files: ["production"], status: "good", signer: "carol", key: sshKeyFingerprint(CAROL) })];
    const withoutCarol = yaml({ production: { bob: BOB }, preview: { alice: ALICE_AGE, dave: DAVE }, staging: { alice: ALICE_AGE } });
    const target = { label: "main", commit: sha("c"), projectText: withoutCarol };
    const report = buildReview(base, base, new Map(), { signatures: byCarol, target });
    expect(report.problems.map((p) => [p.kind, p.environment, p.commit])).toEqual([["unsigned-change", "production", sha("1")]]);
    expect(report.problems[0]!.message).toContain(`is signed by carol, a member of production at the merge base ${sha("b").slice(0, 10)}, but main (${sha("c").slice(0, 10)}) no longer has them as a member of production with that key`);
    expect(report.signatures.commits[0]?.unsignedFor).toEqual(["production"]);
    expect(report.signatures.alsoMembersOf).toBe("main");
    // carol under another key at the tip (her key replaced since): the old one vouches for nothing either
    expect(buildReview(base, base, new Map(), { signatures: byCarol, target: { ...target, projectText: yaml({ production: { bob: BOB, carol: MALLORY } }) } }).problems.map((p) => p.kind)).toEqual(["unsigned-change"]);
    // still a member at the tip, or no target (BASE..HEAD): signed by a member
    expect(buildReview(base, base, new Map(), { signatures: byCarol, target: { ...target, projectText: BASE_YAML } }).clean).toBe(true);
    expect(buildReview(base, base, new Map(), { signatures: byCarol }).clean).toBe(true);
  });

  it("accepts a change signed by a member of the environment (name and key fingerprint)", () => {
    const report = buildReview(base, base, new Map(), { signatures: [signed(sha("1"), { files: ["production"], status: "good", signer: "bob", key: sshKeyFingerprint(BOB) })] });
    expect(report.clean).toBe(true);
    expect(report.warnings).toEqual([]);
    expect(report.signatures).toEqual({
      checked: true,
      commits: [{ commit: sha("1"), status: "good", signer: "bob", key: sshKeyFingerprint(BOB), environments: ["production"], unsignedFor: [] }],
      unverifiable: [],
    });
  });

  it("makes an unsigned change of an environment whose members can all sign an error, with the fix and what it can hide", () => {
    const report = buildReview(base, base, new Map(), { signatures: [signed(sha("2"), { files: ["production"] })] });
    expect(report.clean).toBe(false);
    expect(report.problems.map((p) => [p.kind, p.environment, p.file, p.commit])).toEqual([["unsigned-change", "production", "secrets/production.enc.yaml", sha("2")]]);
    expect(report.summary).toMatchObject({ problems: 1, warnings: 0 });
    const message = report.problems[0]?.message ?? "";
    expect(message).toContain(`commit ${sha("2").slice(0, 10)} changes production's secrets file but is not signed`);
    expect(message).toContain("replace every value of production under a new data key with a valid MAC");
    expect(message).toContain("git commit --amend --no-edit -S");
    expect(message).toContain(`git rebase --exec 'git commit --amend --no-edit -S' ${sha("b").slice(0, 10)}`);
    expect(message).toContain("(bob, carol)");
    expect(message).not.toContain("members add");
    // signing someone else's unchecked commit would vouch for values no member has seen: the fix says to check it first, with a key
    expect(message).toContain(`stellar-secrets review ${sha("b").slice(0, 10)}..${sha("2").slice(0, 10)} --verify`);
    expect(message.indexOf("--verify")).toBeLessThan(message.indexOf("git commit --amend"));
    expect(message).toContain("never sign a commit you did not make or check");
  });

  it("makes it a warning (exit 0) where some members cannot sign, and nothing where none can", () => {
    const report = buildReview(base, base, new Map(), {
      signatures: [signed(sha("3"), { files: ["preview", "staging"] })],
    });
    expect(report.clean).toBe(true);
    expect(report.problems).toEqual([]);
    expect(report.warnings.map((w) => [w.kind, w.environment, w.commit])).toEqual([["unsigned-change", "preview", sha("3")]]);
    expect(report.warnings[0]?.message).toContain("(a warning, not an error: alice has no ssh-ed25519 key to sign with)");
    expect(report.summary.warnings).toBe(1);
    expect(report.signatures.unverifiable).toEqual(["staging"]);
    expect(report.signatures.commits[0]?.unsignedFor).toEqual(["preview", "staging"]);
  });

  it("judges signers by the base's members only: a key added in the head, a member of another environment, or a member's name with another key is not a signature", () => {
    const signatures = [
      // mallory added herself to production in the range; git (base signers) does not know her key
      signed(sha("4"), { files: ["production"], members: ["production"], status: "unknown-signer", key: sshKeyFingerprint(MALLORY) }),
      // dave is a member of preview, not of production
      signed(sha("5"), { files: ["production"], status: "good", signer: "dave", key: sshKeyFingerprint(DAVE) }),
      // bob's name with dave's key (bob is in production with another key)
      signed(sha("6"), { files: ["production"], status: "good", signer: "bob", key: sshKeyFingerprint(DAVE) }),
      signed(sha("7"), { files: ["production"], status: "bad", key: sshKeyFingerprint(BOB) }),
    ];
    const head = state("feature", sha("h"), yaml({ production: { bob: BOB, carol: CAROL, mallory: MALLORY }, preview: { alice: ALICE_AGE, dave: DAVE }, staging: { alice: ALICE_AGE } }));
    const report = buildReview(base, head, new Map(), { signatures });
    const unsigned = report.problems.filter((p) => p.kind === "unsigned-change");
    // oldest first (the input is git's order, newest first)
    expect(unsigned.map((p) => p.commit)).toEqual([sha("7"), sha("6"), sha("5"), sha("4")]);
    expect(unsigned.find((p) => p.commit === sha("5"))?.message).toContain("is signed by dave");
    expect(unsigned.find((p) => p.commit === sha("7"))?.message).toContain("does not verify");
    // listed with the environment it belongs to
    expect(report.environments.find((e) => e.environment === "production")?.problems.filter((p) => p.kind === "unsigned-change")).toHaveLength(4);
  });

  it("names stellar.yaml for a change of members only, and says why it matters", () => {
    const report = buildReview(base, base, new Map(), { signatures: [signed(sha("8"), { members: ["production"] })] });
    expect(report.problems[0]).toMatchObject({ kind: "unsigned-change", file: "stellar.yaml", environment: "production" });
    expect(report.problems[0]?.message).toContain("changes the members of production in stellar.yaml but is not signed");
    // a nested project's, read at the outer root: its stellar.yaml and its review command named from there
    const nested = buildReview(base, base, new Map(), { signatures: [signed(sha("8"), { members: ["production"] })], folder: "teams/labs" });
    expect(nested.problems[0]).toMatchObject({ kind: "unsigned-change", file: "stellar.yaml" });
    expect(nested.problems[0]?.message).toContain("changes the members of production in teams/labs/stellar.yaml but is not signed");
    expect(nested.problems[0]?.message).toMatch(/\(`\(cd teams\/labs && stellar-secrets review [0-9a-f]{10}\.\.[0-9a-f]{10} --verify\)` decrypts both sides/);
  });

  it("checks nothing when there are no commits (the working tree), or no base stellar.yaml", () => {
    expect(buildReview(base, base).signatures).toEqual({ checked: false, commits: [], unverifiable: [] });
    const empty = stateFromFiles("(nothing)", undefined, "/p", new Map());
    expect(reviewSignatures(empty, [signed(sha("9"), { files: ["production"] })])).toEqual({ signatures: { checked: false, commits: [], unverifiable: [] }, problems: [], warnings: [] });
  });

  it("tells who can sign", () => {
    expect(allMembersCanSign({ name: "p", members: [{ name: "bob", recipient: BOB }] })).toBe(true);
    expect(allMembersCanSign({ name: "p", members: [{ name: "bob", recipient: BOB }, { name: "alice", recipient: ALICE_AGE }] })).toBe(false);
    expect(allMembersCanSign({ name: "p", members: [] })).toBe(false);
    expect(sshKeyFingerprint(BOB)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(sshKeyFingerprint(ALICE_AGE)).toBeUndefined();
  });
});

/** A GitSource that answers `git log` with a canned raw log and reads blobs from a map; it checks the range and pathspecs asked. */
function fakeGit(prefix: string, log: string, blobs: Record<string, string>, expectArgs: (args: readonly string[]) => void): GitSource {
  return {
    prefix,
    hasHead: async () => true,
    resolve: async (ref) => ref,
    mergeBase: async () => {
      throw new Error("not used");
    },
    filesAt: async () => new Map(),
    renames: async () => new Map(),
    readBlobs: async (ids) => new Map(ids.filter((id) => id in blobs).map((id) => [id, blobs[id] as string])),
    log: async (args) => {
      expectArgs(args);
      return log;
    },
  };
}

const header = (commit: string, parents: string[], subject: string): string => `${R}${commit}${F}${parents.join(" ")}${F}A${F}a@x${F}2024-01-01T00:00:00+00:00${F}${subject}\n\n`;

describe("readCommitTouches", () => {
  it("lists the commits that change an environment's file or its members, newest first; a merge counts only for what differs from every parent", async () => {
    const v0 = BASE_YAML;
    const v1 = yaml({ production: { bob: BOB, carol: CAROL, mallory: MALLORY }, preview: { alice: ALICE_AGE, dave: DAVE }, staging: { alice: ALICE_AGE } });
    const v2 = yaml({ production: { bob: BOB, carol: CAROL, mallory: MALLORY }, preview: { alice: ALICE_AGE, dave: DAVE }, staging: { alice: ALICE_AGE } }, "rules:\n  unused-secret: error\n");
    const v3 = yaml({ production: { bob: BOB, carol: CAROL, mallory: MALLORY }, preview: { alice: ALICE_AGE, dave: DAVE }, staging: { alice: ALICE_AGE } }, "secrets_dir: vault\n");
    const blobs = { [sha("8")]: v0, [sha("1")]: v1, [sha("2")]: v2, [sha("3")]: v3, [sha("4")]: "environments: [" };
    const log = [
      // a stellar.yaml that no longer parses: every environment
      `${header(sha("f"), [sha("e")], "broken")}:100644 100644 ${sha("3")} ${sha("4")} M\tproj/stellar.yaml\n`,
      // secrets_dir moved: where every environment's file is kept changed
      `${header(sha("e"), [sha("d")], "move")}:100644 100644 ${sha("2")} ${sha("3")} M\tproj/stellar.yaml\n`,
      // a merge whose stellar.yaml is its second parent's (v1): not a change of members
      `${header(sha("d"), [sha("c"), sha("9")], "merge")}::100644 100644 100644 ${sha("8")} ${sha("1")} ${sha("1")} MM\tproj/stellar.yaml\n`,
      // rules only: no environment
      `${header(sha("c"), [sha("a")], "rules")}:100644 100644 ${sha("1")} ${sha("2")} M\tproj/stellar.yaml\n`,
      // mallory added to production, and the file re-wrapped
      `${header(sha("a"), [sha("5")], "add mallory")}:100644 100644 ${sha("8")} ${sha("1")} M\tproj/stellar.yaml\n:100644 100644 ${sha("6")} ${sha("7")} M\tproj/secrets/production.enc.yaml\n`,
      `${header(sha("5"), [sha("b")], "preview value")}:100644 100644 ${sha("6")} ${sha("7")} M\tproj/secrets/preview.enc.yaml\n:100644 100644 ${sha("6")} ${sha("7")} M\tproj/connectors/x.yaml\n`,
    ].join("");
    let asked: readonly string[] = [];
    // the first git log is the one that lists the touches (later ones look for merges of the range)
    const git = fakeGit("proj", log, blobs, (args) => (asked = asked.length === 0 ? args : asked));
    const head = state("feature", sha("h"), v1);
    const touches = await readCommitTouches(git, base, head);
    expect(asked).toContain(`${sha("b")}..${sha("h")}`);
    expect(asked).toContain(":(top,literal)proj/secrets/production.enc.yaml");
    expect(asked).toContain(":(top,literal)proj/stellar.yaml");
    expect(asked).toContain("--full-history");
    expect(asked).toContain("--no-show-signature"); // a user's log.showSignature must not mix ssh-keygen text into the log
    expect(touches).toEqual([
      { commit: sha("f"), files: [], members: ["production", "preview", "staging"] },
      { commit: sha("e"), files: [], members: ["production", "preview", "staging"] },
      { commit: sha("a"), files: ["production"], members: ["production"] },
      { commit: sha("5"), files: ["preview"], members: [] },
    ]);
  });

  it("reads nothing when a side is not a commit or the base has no stellar.yaml", async () => {
    const git = fakeGit("", "", {}, () => {
      throw new Error("git log must not run");
    });
    expect(await readCommitTouches(git, base, stateFromFiles("working tree", undefined, "/p", new Map([["stellar.yaml", BASE_YAML]])))).toEqual([]);
    expect(await readCommitTouches(git, stateFromFiles("(nothing)", sha("0"), "/p", new Map()), base)).toEqual([]);
  });
});
