import { describe, expect, it } from "vitest";
import type { ProjectConfig } from "@stellar-secrets/core";
import type { CliError } from "./errors.js";
import { nameForKeys, notAMemberHint, selectEnvironments, unknownSecret, youAre } from "./repository.js";

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

describe("youAre (who the NO_MATCHING_IDENTITY message says you are)", () => {
  it("names you and your keys, leaving out the placeholder NAME when your name is unknown", () => {
    expect(youAre("bob", [BOB])).toBe(`you (bob, ${BOB})`);
    expect(youAre(nameForKeys(config, [], undefined), [BOB])).toBe(`you (${BOB})`);
    expect(youAre("NAME", [])).toBe("you");
    expect(youAre("carol", [])).toBe("you (carol)");
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

function thrown(fn: () => unknown): CliError {
  try {
    fn();
  } catch (e) {
    return e as CliError;
  }
  throw new Error("did not throw");
}

describe("did you mean, for a mistyped environment or secret name", () => {
  it("names the nearest declared environment, then lists them all (UNKNOWN_ENVIRONMENT)", () => {
    const e = thrown(() => selectEnvironments({ ...config, configPath: "/r/stellar.yaml" } as ProjectConfig, ["developmnt"], { all: false }));
    expect(e.code).toBe("UNKNOWN_ENVIRONMENT");
    expect(e.hint).toBe('did you mean "development"?; the environments are: development, staging, production');
    const far = thrown(() => selectEnvironments(config, ["qa"], { all: false }));
    expect(far.hint).toBe("the environments are: development, staging, production");
    expect(thrown(() => selectEnvironments(config, ["Staging"], { all: false })).hint).toBe('did you mean "staging"? (names are case-sensitive); the environments are: development, staging, production');
  });
  it("names the nearest secret of any environment when the name is set nowhere (UNKNOWN_SECRET)", () => {
    const e = unknownSecret("strip_api_key", "development", [], ["hubspot_api_token", "stripe_api_key"]);
    expect(e.code).toBe("UNKNOWN_SECRET");
    expect(e.message).toBe('secret "strip_api_key" has no value in development');
    expect(e.hint).toBe('did you mean "stripe_api_key"?');
    expect(unknownSecret("zendesk", "development", [], ["stripe_api_key"]).hint).toBe("run `stellar-secrets list` to see the secrets");
    // set elsewhere: where it is set is the answer
    expect(unknownSecret("stripe_api_key", "production", ["development"], ["stripe_api_key"]).hint).toBe("it is set in: development");
  });
});
