import { describe, expect, it } from "vitest";
import type { ProjectInfo } from "@stellar-secrets/language-server/protocol";
import { acceptedSecretName, environmentPickOrder, refsLabel, requestedEnvironments, secretDescription, statusText } from "./presentation.js";

const env = (name: string) => ({ name, file: `/repo/secrets/${name}.enc.yaml`, exists: true, recipients: ["age1x"] });
const project: ProjectInfo = {
  root: "/repo",
  configPath: "/repo/stellar.yaml",
  valid: true,
  environments: [env("development"), env("staging"), env("production")],
  secrets: [
    { name: "stripe_key", environments: ["development", "staging"], references: 2 },
    { name: "old_token", environments: ["development", "staging", "production"], references: 0 },
    { name: "slack_token", environments: ["development", "staging", "production"], references: 1 },
  ],
};
const [stripe, old, slack] = project.secrets as [ProjectInfo["secrets"][number], ProjectInfo["secrets"][number], ProjectInfo["secrets"][number]];

describe("presentation", () => {
  it("counts references as unused, 1 ref, 2 refs", () => {
    expect([0, 1, 2].map(refsLabel)).toEqual(["unused", "1 ref", "2 refs"]);
    expect(secretDescription(project, stripe)).toBe("2 refs · missing production");
    expect(secretDescription(project, old)).toBe("unused");
    expect(secretDescription(project, slack)).toBe("1 ref");
    expect(secretDescription(project, { ...stripe, rotationOverdue: ["staging"] })).toBe("2 refs · missing production · rotation overdue in staging");
  });

  it("targets the environments a quick fix asks for, and offers the missing ones first in a picker", () => {
    expect(requestedEnvironments(project, ["production"]).map((e) => e.name)).toEqual(["production"]);
    expect(requestedEnvironments(project, "staging").map((e) => e.name)).toEqual(["staging"]);
    expect(requestedEnvironments(project, ["nope"])).toEqual([]);
    expect(requestedEnvironments(project, undefined)).toEqual([]);
    expect(environmentPickOrder(project, stripe).map((x) => [x.env.name, x.set])).toEqual([
      ["production", false],
      ["development", true],
      ["staging", true],
    ]);
  });

  it("Move to a secret…: accepts a new name only when it is the name typed now (an earlier name's item stays listed until the new one is checked)", () => {
    // typed stripe_webhook, checked (its "New secret" item), then changed to stripe_webhook_2 and Enter before the check came back
    expect(acceptedSecretName({ create: "stripe_webhook" }, "stripe_webhook_2")).toBeUndefined();
    // or pasted over with something the server has not refused yet
    expect(acceptedSecretName({ create: "stripe_webhook" }, "ghp_TESTONLYmadeupZx9Qw8Er7Ty6Ui5Op4As3D")).toBeUndefined();
    expect(acceptedSecretName({ create: "stripe_webhook" }, " stripe_webhook ")).toEqual({ name: "stripe_webhook" });
    // an existing secret picked from the filtered list, whatever was typed to find it
    expect(acceptedSecretName({ secret: stripe }, "strip")).toEqual({ name: "stripe_key", existing: stripe });
    // an invalid name's item (no create) and no item at all
    expect(acceptedSecretName({}, "Bad Name")).toBeUndefined();
    expect(acceptedSecretName(undefined, "x")).toBeUndefined();
  });

  it("summarises projects, key and problems in the status bar", () => {
    expect(statusText({ projects: 1, stale: 0, key: "all", errors: 2, warnings: 1 }).text).toBe("$(shield) $(key) $(error) 2 $(warning) 1");
    const none = statusText({ projects: 2, stale: 1, key: "missing", errors: 0, warnings: 0 });
    expect(none.text).toBe("$(shield) $(circle-slash) no key $(error) 0 $(warning) 0");
    expect(none.tooltip.split("\n")).toEqual([
      "Stellar Secrets: 2 projects (1 with stellar.yaml errors, checked with its last good version).",
      "No age key found: values cannot be set (see the output for what to do).",
      "0 errors, 0 warnings. Click to open Problems.",
    ]);
    expect(statusText({ projects: 0, stale: 0, key: "unknown", errors: 0, warnings: 0 }).text).toBe("$(shield) Stellar Secrets: no project");
  });
});
