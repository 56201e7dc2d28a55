import { describe, expect, it } from "vitest";
import { isSameKey } from "@stellar-secrets/sops";
import { authorMatches, formerKeyHolder, lastSeen, membershipKey, membershipSince, rawLineBlob, type ConfigVersion } from "./membership.js";

const ALICE = "age1qua746lhnvd8m6tn52e78hxrkr7nmqjgsq6ttq4nuhz9rgjdeayqhgjcv0";
const BOB = "age1f73cxphn004kaw024f96p5vvgs2eqrrtsmhg6kve93nnj6xhvc3seda36r";
const BOB2 = "age1wa4szrewm3qzywn2kx050y49g5wxqfdg4sp6m09u84njk48l4gyqgnnvha";

function version(n: number, members: Record<string, string>): ConfigVersion {
  const lines = Object.entries(members).map(([name, key]) => `      ${name}: ${key}\n`);
  return { commit: `c${n}`, date: `2026-0${n}-01T00:00:00Z`, author: "a", email: "a@x", text: `version: 1\nenvironments:\n  production:\n    members:\n${lines.join("")}` };
}

describe("membershipSince", () => {
  it("dates a member from the first commit of their current, unbroken membership with their current key", () => {
    const starts = membershipSince([
      version(1, { alice: ALICE }),
      version(2, { alice: ALICE, bob: BOB }),
      version(3, { alice: ALICE }), // bob removed
      version(4, { alice: ALICE, bob: BOB }), // and added again
      version(5, { alice: ALICE, bob: BOB2 }), // with a new key
      version(6, { alice: ALICE, bob: BOB2 }),
    ]);
    expect(starts.get(membershipKey("production", "alice"))?.commit).toBe("c1");
    expect(starts.get(membershipKey("production", "bob"))?.commit).toBe("c5");
  });

  it("knows nobody from a deleted or unreadable stellar.yaml", () => {
    const starts = membershipSince([version(1, { alice: ALICE }), { ...version(2, {}), text: null }, version(3, { alice: ALICE })]);
    expect(starts.get(membershipKey("production", "alice"))?.commit).toBe("c3");
  });
});

describe("lastSeen", () => {
  it("matches an author by name, email or the email's local part, ignoring case", () => {
    expect(authorMatches("bob", "Bob", "x@y")).toBe(true);
    expect(authorMatches("bob", "Robert", "BOB@example.test")).toBe(true);
    expect(authorMatches("bob@example.test", "Robert", "bob@example.test")).toBe(true);
    expect(authorMatches("bob", "Bobby", "bobby@example.test")).toBe(false);
  });

  it("keeps the newest matching commit per member; a member no commit matches is absent", () => {
    const commits = [
      { commit: "c1", date: "2026-01-01T00:00:00Z", author: "Bob", email: "bob@x" },
      { commit: "c3", date: "2026-03-01T00:00:00Z", author: "Bob", email: "bob@x" },
      { commit: "c2", date: "2026-02-01T00:00:00Z", author: "Alice", email: "alice@x" },
    ];
    const seen = lastSeen(commits, ["alice", "bob", "carol"]);
    expect(seen.get("bob")?.commit).toBe("c3");
    expect(seen.get("alice")?.commit).toBe("c2");
    expect(seen.has("carol")).toBe(false);
  });
});

describe("rawLineBlob", () => {
  const a = "a".repeat(40);
  const b = "b".repeat(40);
  const c = "c".repeat(40);
  it("takes the commit's own blob of a plain raw line and of a merge's combined (-c) line", () => {
    expect(rawLineBlob(`:100644 100644 ${a} ${b} M\tstellar.yaml`)).toBe(b);
    expect(rawLineBlob(`:000000 100644 ${"0".repeat(40)} ${b} A\tstellar.yaml`)).toBe(b);
    expect(rawLineBlob(`::100644 100644 100644 ${a} ${b} ${c} MM\tstellar.yaml`)).toBe(c);
  });

  it("says deleted (undefined) only for an all-zero id", () => {
    expect(rawLineBlob(`:100644 000000 ${a} ${"0".repeat(40)} D\tstellar.yaml`)).toBeUndefined();
  });
});

describe("membershipSince over a history with branches (versions that name their parents)", () => {
  const v = (n: number, members: Record<string, string>, parents: string[]): ConfigVersion => ({ ...version(n, members), parents });
  it("dates a member added on a branch from that branch's commit, not from the merge, when the other branch did not have them", () => {
    const starts = membershipSince([
      v(1, { alice: ALICE }, []),
      v(2, { alice: ALICE, bob: BOB }, ["c1"]), // branch x1 adds bob
      v(3, { alice: ALICE, carol: BOB2 }, ["c1"]), // branch x2 (later) adds carol, without bob
      v(4, { alice: ALICE, bob: BOB, carol: BOB2 }, ["c2", "c3"]), // the merge
    ]);
    expect(starts.get(membershipKey("production", "alice"))?.commit).toBe("c1");
    expect(starts.get(membershipKey("production", "bob"))?.commit).toBe("c2");
    expect(starts.get(membershipKey("production", "carol"))?.commit).toBe("c3");
    // the same versions read as one line of history date bob from the merge (c3 lacks him)
    const linear = [version(1, { alice: ALICE }), version(2, { alice: ALICE, bob: BOB }), version(3, { alice: ALICE, carol: BOB2 }), version(4, { alice: ALICE, bob: BOB, carol: BOB2 })];
    expect(membershipSince(linear).get(membershipKey("production", "bob"))?.commit).toBe("c4");
  });

  it("starts again where a key changed or the member was removed on the path to HEAD, and treats an unknown parent as without them", () => {
    const starts = membershipSince([
      v(1, { alice: ALICE, bob: BOB }, []),
      v(2, { alice: ALICE, bob: BOB2 }, ["c1"]), // bob's key changed
      v(3, { alice: ALICE, bob: BOB2 }, ["c2", "c0"]), // c0: not in the list (a shallow clone's cut)
    ]);
    expect(starts.get(membershipKey("production", "bob"))?.commit).toBe("c2");
    expect(membershipSince([v(1, { alice: ALICE }, ["c0"])]).get(membershipKey("production", "alice"))?.commit).toBe("c1");
  });
});

describe("formerKeyHolder", () => {
  const history = [version(1, { alice: ALICE, bob: BOB }), version(2, { alice: ALICE, bob: BOB }), version(3, { alice: ALICE }), version(4, { alice: ALICE, robert: BOB })];

  it("names the former member who had the key under another name, with the last version that had them", () => {
    expect(formerKeyHolder(history, "robert", BOB, new Set(["alice", "robert"]))).toEqual({ name: "bob", recipient: BOB, commit: "c2", date: "2026-02-01T00:00:00Z" });
    expect(formerKeyHolder(history, "alice", ALICE, new Set(["alice", "robert"]))).toBeUndefined();
    expect(formerKeyHolder(history, "robert", BOB2, new Set(["alice", "robert"]))).toBeUndefined();
  });

  it("leaves out a name that is a member now (that is one key under two names: check's job, not a former member)", () => {
    expect(formerKeyHolder(history, "robert", BOB, new Set(["alice", "robert", "bob"]))).toBeUndefined();
  });

  it("reads one age key in two spellings (capitals) as one key (an ssh-ed25519 key and its age1… form: planted-history mistake 5)", () => {
    expect(isSameKey(BOB.toUpperCase(), BOB)).toBe(true);
    expect(isSameKey(` ${BOB}`, BOB)).toBe(true);
    expect(isSameKey(BOB, BOB2)).toBe(false);
  });
});
