import { describe, expect, it } from "vitest";
import { newSecretNote } from "../suggest.js";
import { expectedSetNote, renameSteps } from "./rename.js";

describe("renameSteps (the plan rename prints)", () => {
  it("prints an rm that runs without a terminal too (--yes), saying why", () => {
    const steps = renameSteps("sendgrid_key", "sendgrid_api_key", ["development", "production"], []);
    expect(steps).toHaveLength(5);
    expect(steps[4]).toBe("stellar-secrets rm sendgrid_key --env development,production --yes   # --yes: no prompt, so it also runs in a script or CI (no terminal)");
    expect(renameSteps("a_key", "b_key", [], [])[3]).toMatch(/^stellar-secrets rm a_key --yes {3}#/);
  });

  it("shell-quotes a name that needs it, so every pasted command gets the name whole", () => {
    const steps = renameSteps("stripe key", "stripe_key", ["staging"], []);
    expect(steps[0]).toBe("stellar-secrets get 'stripe key' --env staging | stellar-secrets set stripe_key --env staging --from-stdin --keep-newlines");
    expect(steps[3]).toContain("stellar-secrets rm 'stripe key' --env staging --yes");
  });
});

describe("renameSteps with a catalog entry", () => {
  it("gives NEW the old name's description, owner and rotate_every before rm removes that entry", () => {
    const steps = renameSteps("sendgrid_key", "mail_key", ["development", "staging"], [], { description: "SendGrid mail", owner: "bob", rotate_every: "90d" });
    expect(steps).toHaveLength(6);
    expect(steps[2]).toBe("stellar-secrets set mail_key --description 'SendGrid mail' --owner bob --rotate-every 90d   # sendgrid_key's catalog entry, which rm removes");
    expect(steps[5]).toMatch(/^stellar-secrets rm sendgrid_key --env development,staging --yes/);
  });

  it("names only the fields the entry has, and adds no step for an entry without any", () => {
    expect(renameSteps("a_key", "b_key", ["production"], [], { owner: "it's ops" })[1]).toBe("stellar-secrets set b_key --owner 'it'\\''s ops'   # a_key's catalog entry, which rm removes");
    expect(renameSteps("a_key", "b_key", ["production"], [], {})).toEqual(renameSteps("a_key", "b_key", ["production"], []));
  });
});

describe("expectedSetNote (step 1's set names the old name: expected, not a typo)", () => {
  it("says the note step 1's set prints is expected when the new name is near the old one", () => {
    // what step 1's set prints: a "did you mean" that reads like a typo warning during a rename
    expect(newSecretNote("sendgrid_api_key", ["sendgrid_key"])).toContain('did you mean "sendgrid_key"?');
    expect(expectedSetNote("sendgrid_key", "sendgrid_api_key")).toBe(
      'note: in step 1, set notes that no environment has "sendgrid_api_key" and names "sendgrid_key" (did you mean …?): that is expected during this move (sendgrid_api_key is meant to be new), not a typo; go on with the steps',
    );
    expect(expectedSetNote("stripe key", "stripe_key")).toContain("expected during this move");
  });
  it("says nothing when set will not name the old name", () => {
    expect(expectedSetNote("sendgrid_key", "mail_token")).toBeUndefined();
    expect(expectedSetNote("a_key", "a_key")).toBeUndefined();
  });
});
