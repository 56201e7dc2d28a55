import { describe, expect, it } from "vitest";
import { renameSteps } from "./rename.js";

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
