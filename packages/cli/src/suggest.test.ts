import { describe, expect, it } from "vitest";
import { didYouMean, didYouMeanName, newSecretNote, typoDistance, unknownMemberHint, unknownSecretHint } from "./suggest.js";

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
  it("never offers a name set refuses: an invalid existing neighbour is named as invalid, with the rename that moves its value", () => {
    const note = newSecretNote("stripe_connect_key", ["StripeConnectKey"]) ?? "";
    expect(note).not.toContain("did you mean");
    expect(note).toBe(
      'note: no environment has "stripe_connect_key": this creates a new secret; the existing secret "StripeConnectKey" looks like the same one, but its name is invalid (secret name "StripeConnectKey" has uppercase letters; use lowercase_with_underscores (^[a-z][a-z0-9_]*$)) [invalid-secret-name], so set cannot write it; to move its value to "stripe_connect_key", run `stellar-secrets rename StripeConnectKey stripe_connect_key` for the steps',
    );
    expect(newSecretNote("stripe_key", ["stripe key"])).toContain("`stellar-secrets rename 'stripe key' stripe_key`");
  });
  it("says nothing for an existing name or one that is not near any", () => {
    expect(newSecretNote("stripe_api_key", ["stripe_api_key"])).toBeUndefined();
    expect(newSecretNote("zendesk_token", ["stripe_api_key"])).toBeUndefined();
  });
});

describe("didYouMeanName judges a typed name's typo as git and cargo do (set, get and the other hints)", () => {
  it("does not take a one-letter name part replaced for a typo (c_key is not a_key)", () => {
    expect(newSecretNote("c_key", ["a_key"])).toBeUndefined();
    expect(unknownSecretHint("c_key", [], ["a_key"])).toBe("run `stellar-secrets list` to see the secrets");
    expect(didYouMeanName("db_url", ["db_uri"])).toBe('did you mean "db_uri"?'); // one letter of a longer word: a typo
    expect(didYouMeanName("x", ["y"])).toBeUndefined(); // as many edits as the name has letters
    expect(didYouMeanName("ab", ["cd", "ba"])).toBe('did you mean "ba"?'); // a swap is a typo, two letters replaced are not
    expect(didYouMeanName("ab", ["cd"])).toBeUndefined();
  });
  it("suggests a near name, a case-only difference first", () => {
    expect(newSecretNote("APY_KEY", ["API_KEY"])).toBe('note: no environment has "APY_KEY": this creates a new secret; did you mean "API_KEY"?');
    expect(didYouMeanName("STRIPE_KEY", ["stripe_kex", "stripe_key"])).toBe('did you mean "stripe_key"? (names are case-sensitive)');
  });
  it("allows at most a third of the name's length in edits (at least one)", () => {
    expect(didYouMeanName("api_kxx", ["api_key"])).toBe('did you mean "api_key"?'); // 2 edits, 7 letters
    expect(didYouMeanName("apx_kxx", ["api_key"])).toBeUndefined(); // 3 edits, 7 letters
    expect(didYouMeanName("a_key", ["b_kez"])).toBeUndefined(); // 2 edits, 5 letters (the checker's rule takes 2)
    expect(didYouMeanName("evee", ["eve"])).toBe('did you mean "eve"?');
    expect(didYouMeanName("evea", ["eve", "alice"])).toBe('did you mean "eve"?');
  });
  it("prefers a swap of neighbouring letters to another edit at the same distance, whatever the order", () => {
    expect(didYouMeanName("api_kye", ["api_kee", "api_key"])).toBe('did you mean "api_key"?');
    expect(didYouMeanName("api_kye", ["api_key", "api_kee"])).toBe('did you mean "api_key"?');
  });
});
