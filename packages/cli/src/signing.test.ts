import { parseProjectConfig } from "@stellar-secrets/core";
import { describe, expect, it } from "vitest";
import { allMembersCanSign, allowedSigners, canSign } from "./signing.js";

const ALICE_AGE = "age1qua746lhnvd8m6tn52e78hxrkr7nmqjgsq6ttq4nuhz9rgjdeayqhgjcv0";
const BOB_SSH = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINtlsIu9U9RB/IG2860u/xrNi/2A6rWX5oq0OZVLuOws";
const CAROL_SSH = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEmLRVhU/d3xJQfn2iBzuYg5eKxJhlpd2YYKRfbgMDc7";

function config(text: string) {
  const { config, diagnostics } = parseProjectConfig(text, "/r/stellar.yaml");
  expect(diagnostics).toEqual([]);
  return config!;
}

const TEXT = `version: 1
environments:
  staging:
    members:
      alice: ${ALICE_AGE}
      bob: "${BOB_SSH} bob@laptop"
  production:
    members:
      carol: ${CAROL_SSH}
      bob: ${BOB_SSH}
`;

describe("allowedSigners", () => {
  it("lists each ssh member once, by name, restricted to git signatures; age members cannot sign", () => {
    expect(allowedSigners(config(TEXT))).toBe(`bob namespaces="git" ${BOB_SSH}\ncarol namespaces="git" ${CAROL_SSH}\n`);
  });

  it("takes the members of the given environments only, and is empty when none can sign", () => {
    expect(allowedSigners(config(TEXT), ["staging"])).toBe(`bob namespaces="git" ${BOB_SSH}\n`);
    expect(allowedSigners({ environments: [{ name: "dev", members: [{ name: "alice", recipient: ALICE_AGE }] }] })).toBe("");
  });

  it("knows which environments can require signatures: every member has a signing key", () => {
    const c = config(TEXT);
    expect(c.environments.map((e) => [e.name, allMembersCanSign(e)])).toEqual([
      ["staging", false],
      ["production", true],
    ]);
    expect(allMembersCanSign({ name: "empty", members: [] })).toBe(false);
    expect(canSign(ALICE_AGE)).toBe(false);
  });
});
