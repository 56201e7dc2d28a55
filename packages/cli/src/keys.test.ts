import { MEMBER_NAME_PATTERN } from "@stellar-secrets/sops";
import { describe, expect, it } from "vitest";
import { defaultMemberName } from "./keys.js";

const NAME = new RegExp(MEMBER_NAME_PATTERN, "u");

describe("defaultMemberName", () => {
  it("takes git user.name when it is a valid member name, else the email's local part", () => {
    expect(defaultMemberName({ name: "bob", email: "robert@example.test" }, NAME)).toBe("bob");
    expect(defaultMemberName({ name: "Bob Newcomer", email: "bob.n@example.test" }, NAME)).toBe("bob.n");
    expect(defaultMemberName({ name: "", email: "" }, NAME)).toBeUndefined();
    expect(defaultMemberName({ name: "Bob N", email: "-x@example.test" }, NAME)).toBeUndefined();
  });
});
