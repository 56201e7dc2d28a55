import { describe, expect, it } from "vitest";
import { CliError, exitCodeFor } from "../errors.js";
import { recipientArgument } from "./init.js";
import { publicKeyArgument } from "./members.js";

// TEST-ONLY public key (no private half anywhere)
const KEY = "age1xwg5v5hra4gewj97vsfdafx4z4cg83nsc2cl9u5lukzfahzc04xsyllf6n";

function refusal(given: string): CliError {
  try {
    recipientArgument(given);
  } catch (e) {
    return e as CliError;
  }
  throw new Error("not refused");
}

function refusedByMembersAdd(given: string): CliError {
  try {
    publicKeyArgument(given);
  } catch (e) {
    return e as CliError;
  }
  throw new Error("not refused");
}

describe("recipientArgument (init --recipient)", () => {
  it("takes an age key", () => {
    expect(recipientArgument(KEY)).toBe(KEY);
  });

  it("refuses a mistyped age key (checksum fails) as INVALID_MEMBER, as members add does, with a hint naming --recipient, not the other flags", () => {
    const error = refusal(`${KEY.slice(0, -1)}m`);
    expect(error.code).toBe("INVALID_MEMBER");
    expect(exitCodeFor(error.code)).toBe(19);
    expect(error.code).toBe(refusedByMembersAdd(`${KEY.slice(0, -1)}m`).code);
    expect(error.message).toContain("--recipient");
    expect(error.message).toContain("checksum does not match");
    expect(error.hint).toContain("--recipient");
    expect(error.hint).not.toMatch(/--env|--member|--secrets-dir/);
  });

  it("refuses a key that is a point of small order (no one's key: wrapping for it was an internal error) as INVALID_MEMBER, as members add does", () => {
    const noOnes = "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq5cu47z";
    const error = refusal(noOnes);
    expect(error.code).toBe("INVALID_MEMBER");
    expect(error.code).toBe(refusedByMembersAdd(noOnes).code);
    expect(error.message).toContain("point of small order");
    expect(error.hint).toContain("--recipient");
  });

  it("refuses what is no public key as INVALID_MEMBER, hinting --recipient and never echoing it", () => {
    const privateLooking = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";
    const error = refusal(privateLooking);
    expect(error.code).toBe("INVALID_MEMBER");
    expect(error.hint).toContain("--recipient");
    expect(`${error.message}${error.hint}`).not.toContain(privateLooking);
  });
});
