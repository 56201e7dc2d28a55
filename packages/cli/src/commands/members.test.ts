import type { EnvironmentConfig } from "@stellar-secrets/core";
import { describe, expect, it } from "vitest";
import { memberKeyRows, noPendingRequestError, publicKeyArgument } from "./members.js";

const ALICE = "age1alice";
const BOB = "age1bob";
const environments: EnvironmentConfig[] = [
  {
    name: "development",
    members: [
      { name: "alice", recipient: ALICE },
      { name: "bob", recipient: BOB },
    ],
    approved: [{ name: "bob", by: "alice", date: "2026-12-03T17:56:30Z" }],
  },
  { name: "staging", members: [{ name: "alice", recipient: ALICE }], pending: [{ name: "carol", recipient: "age1carol", requested: "2026-12-03T10:00:00Z" }] },
  { name: "production", members: [{ name: "alice", recipient: ALICE }, { name: "bob", recipient: BOB }] },
];

describe("noPendingRequestError (members approve of a name with no request)", () => {
  it("says that the name is already a member, approved by whom, instead of sending the newcomer back to request-access", () => {
    const twice = noPendingRequestError(environments, "bob", ["development"]);
    expect(twice.code).toBe("UNKNOWN_REQUEST");
    expect(twice.message).toBe("bob has no pending access request for development: bob is already a member of development (approved by alice on 2026-12-03)");
    expect(twice.hint).toBe("nothing to approve; `stellar-secrets members list --long` shows since when each member has access");
    expect(twice.hint).not.toContain("request-access");
    // a member added without a request (members add): no approval recorded
    expect(noPendingRequestError(environments, "bob", ["production"]).message).toBe("bob has no pending access request for production: bob is already a member of production");
    expect(noPendingRequestError(environments, "bob", []).message).toBe(
      "bob has no pending access request for any environment: bob is already a member of development (approved by alice on 2026-12-03) and production",
    );
  });

  it("keeps the old wording for a name that is no member: where it asked, else the pending requests", () => {
    const none = noPendingRequestError(environments, "dave", ["development"]);
    expect(none.message).toBe("dave has no pending access request for development");
    expect(none.hint).toBe(
      "the pending requests are: carol (staging); a request made in a pull request is in stellar.yaml on its branch: check that out first (`git fetch && git checkout access/dave-development`, the branch request-access names)",
    );
    expect(noPendingRequestError(environments, "carol", ["development"]).hint).toBe("carol asked for: staging");
    const bare = noPendingRequestError([environments[0]!], "dave", []);
    expect(bare.hint).toContain("request-access");
    expect(bare.hint).toContain("git fetch && git checkout access/dave-ENV");
  });
});

describe("publicKeyArgument (members add, members approve --key)", () => {
  // TEST-ONLY public key (no private half anywhere)
  const KEY = "age1xwg5v5hra4gewj97vsfdafx4z4cg83nsc2cl9u5lukzfahzc04xsyllf6n";

  it("refuses an age key with one character mistyped (its checksum fails) as INVALID_MEMBER, not an internal error later", () => {
    expect(publicKeyArgument(KEY)).toBe(KEY);
    const mistyped = `${KEY.slice(0, -1)}m`;
    let error: unknown;
    try {
      publicKeyArgument(mistyped);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: "INVALID_MEMBER" });
    expect((error as Error).message).toBe(`"${mistyped}" is not a valid age public key: its checksum does not match (a character was mistyped or lost when it was copied)`);
  });
});

describe("publicKeyArgument: a private key given where the public key belongs", () => {
  it("is INVALID_MEMBER saying it is a private key, exposed, and what to share instead; never echoed", () => {
    // TEST-ONLY made-up private keys (not valid keys of anyone)
    for (const given of [
      "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
      "# created: 2026-12-05T05:39:08Z\n# public key: age1xwg5v5hra4gewj97vsfdafx4z4cg83nsc2cl9u5lukzfahzc04xsyllf6n\nAGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
    ]) {
      let error: unknown;
      try {
        publicKeyArgument(given);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: "INVALID_MEMBER", message: "the key given is a private key (not shown, not stored), not a public key" });
      expect((error as { hint: string }).hint).toBe(
        "a private key stays with its owner: one that was pasted or sent to you is exposed (shell history, chat), so its owner makes a new key (`stellar-secrets keygen`) and shares only the public key (`stellar-secrets whoami` prints it, or `age-keygen -y KEYFILE`, or the ~/.ssh/id_ed25519.pub line)",
      );
      expect(JSON.stringify(error) + (error as Error).message).not.toContain("QQQQ");
    }
  });
});

describe("publicKeyArgument: a key that is a point of small order", () => {
  it("refuses age1qqqq…5cu47z (the all-zero key) and an order-8 point as INVALID_MEMBER: no one holds them and wrapping for them failed as an internal error (exit 70)", () => {
    for (const key of ["age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq5cu47z", "age1ur4h5lpmgxu2u9jku0a0r87ydtdqnr0tnsetrlvxvgz3vh6fhqqqzyt4v9"]) {
      let error: unknown;
      try {
        publicKeyArgument(key);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: "INVALID_MEMBER" });
      expect((error as Error).message).toBe(`"${key}" is not a usable age public key: it is a point of small order, whose private key no one holds, so nothing can be encrypted to it`);
    }
  });
});

describe("memberKeyRows (members list)", () => {
  it("a name with another key in another environment gets a row per key, each marking where that key is the member's", () => {
    const envs: EnvironmentConfig[] = [
      { name: "staging", members: [{ name: "alice", recipient: ALICE }, { name: "bob", recipient: "age1bob2" }] },
      { name: "production", members: [{ name: "bob", recipient: BOB }, { name: "alice", recipient: ALICE }] },
    ];
    expect(memberKeyRows(envs)).toEqual([
      { name: "alice", recipient: ALICE, environments: ["staging", "production"] },
      { name: "bob", recipient: "age1bob2", environments: ["staging"] },
      { name: "bob", recipient: BOB, environments: ["production"] },
    ]);
  });
});
