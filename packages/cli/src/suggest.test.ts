import { describe, expect, it } from "vitest";
import { didYouMean, newSecretNote, typoDistance, unknownMemberHint } from "./suggest.js";

const COMMANDS = ["init", "set", "get", "list", "rm", "rename", "members", "rotate-key", "edit", "export", "exec", "check", "usage"];

describe("didYouMean", () => {
  it("counts a swap of neighbouring letters as one edit", () => {
    expect(typoDistance("lsit", "list")).toBe(1);
    expect(typoDistance("evn", "env")).toBe(1);
    expect(typoDistance("abc", "abc")).toBe(0);
  });
  it("suggests the command or flag a typo was meant to be", () => {
    expect(didYouMean("lsit", COMMANDS)).toBe("list");
    expect(didYouMean("memebrs", COMMANDS)).toBe("members");
    expect(didYouMean("rotate", COMMANDS)).toBe("rotate-key");
    expect(didYouMean("evn", ["env", "json", "long"])).toBe("env");
    expect(didYouMean("jsno", ["env", "json", "long"])).toBe("json");
  });
  it("suggests nothing for a word that is not close", () => {
    expect(didYouMean("deploy", COMMANDS)).toBeUndefined();
    expect(didYouMean("zz", COMMANDS)).toBeUndefined();
  });
});

describe("unknownMemberHint", () => {
  it("says where the member is, else the nearest member name, else to list them", () => {
    expect(unknownMemberHint("bob", ["staging"], ["alice", "bob"])).toBe("bob is a member of: staging");
    expect(unknownMemberHint("evee", [], ["alice", "eve"])).toBe('did you mean "eve"?');
    expect(unknownMemberHint("zed", [], ["alice", "eve"])).toBe("run `stellar-secrets members list`");
  });
});

describe("newSecretNote (set of a name no environment has, next to an existing one)", () => {
  it("names the existing secret that was probably meant, before the value is read", () => {
    expect(newSecretNote("strip_api_key", ["stripe_api_key", "hubspot_api_token"])).toBe(
      'note: no environment has "strip_api_key": this creates a new secret; did you mean "stripe_api_key"?',
    );
  });
  it("says nothing for an existing name or one that is not near any", () => {
    expect(newSecretNote("stripe_api_key", ["stripe_api_key"])).toBeUndefined();
    expect(newSecretNote("zendesk_token", ["stripe_api_key"])).toBeUndefined();
  });
});
