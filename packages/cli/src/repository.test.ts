import { describe, expect, it } from "vitest";
import type { ProjectConfig } from "@stellar-secrets/core";
import { nameForKeys, notAMemberHint } from "./repository.js";

const ALICE = "age1qua746lhnvd8m6tn52e78hxrkr7nmqjgsq6ttq4nuhz9rgjdeayqhgjcv0";
const BOB = "age1f73cxphn004kaw024f96p5vvgs2eqrrtsmhg6kve93nnj6xhvc3seda36r";
const DAVE = "age1wa4szrewm3qzywn2kx050y49g5wxqfdg4sp6m09u84njk48l4gyqgnnvha";

const config = {
  environments: [
    { name: "development", members: [{ name: "alice", recipient: ALICE }] },
    { name: "staging", members: [{ name: "alice", recipient: ALICE }, { name: "bob", recipient: BOB }] },
    { name: "production", members: [{ name: "alice", recipient: ALICE }], pending: [{ name: "dave", recipient: DAVE }] },
  ],
} as unknown as ProjectConfig;

describe("nameForKeys (who the NO_MATCHING_IDENTITY message says you are)", () => {
  it("names you by the member name your key has in any environment, before $USER", () => {
    expect(nameForKeys(config, [BOB], "root")).toBe("bob");
    expect(nameForKeys(config, [BOB], undefined)).toBe("bob");
  });
  it("uses a pending request's name when your key is no member anywhere", () => {
    expect(nameForKeys(config, [DAVE], undefined)).toBe("dave");
  });
  it("falls back to $USER when it is a valid member name, else the placeholder NAME", () => {
    expect(nameForKeys(config, [], "carol")).toBe("carol");
    expect(nameForKeys(config, [], "not a name")).toBe("NAME");
    expect(nameForKeys(config, [], undefined)).toBe("NAME");
  });
});

describe("notAMemberHint", () => {
  const production = config.environments[2]!;
  const staging = config.environments[1]!;
  it("points a newcomer to request-access first (the README's way in), then to a member adding them", () => {
    const hint = notAMemberHint(staging, [DAVE], "dave", ["SOPS_AGE_KEY (not set)"]);
    expect(hint).toContain("`stellar-secrets request-access --env staging`");
    expect(hint).toContain(`\`stellar-secrets members add dave ${DAVE} --env staging\``);
    expect(hint).toContain("your keys were looked for in: SOPS_AGE_KEY (not set)");
  });
  it("says a pending request waits for a member's approval", () => {
    const hint = notAMemberHint(production, [DAVE], "dave", []);
    expect(hint).toContain("pending");
    expect(hint).toContain("`stellar-secrets members approve dave --env production`");
    expect(hint).not.toContain("request-access");
  });
});
