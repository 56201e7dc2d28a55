// Completion of secret names where they are needed (qa s22): a name with no value in an
// environment where the document being edited is used would be a missing-environment-value at once.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { completionCandidates } from "./completion.js";
import { loadWorkspace } from "./load.js";

const FIXTURE = join(fileURLToPath(new URL(".", import.meta.url)), "../../../test/fixtures/checker/references");
const secretContext = { type: "secret" as const, prefix: "", range: { start: 0, end: 0 } };

describe("completionCandidates for a secret's name", () => {
  const { index } = loadWorkspace(FIXTURE, { atRoot: true });

  it("without the environments it is needed in: every name, by label, with the environments that have a value", () => {
    const all = completionCandidates(index, secretContext);
    expect(all.map((c) => [c.label, c.detail, c.missing])).toEqual([
      ["hubspot_api_token", "secret · development", undefined],
      ["legacy_ftp_password", "secret · development", undefined],
      ["stripe_api_key", "secret · development, staging, production", undefined],
      ["zendesk_api_token", "secret · development, staging, production", undefined],
    ]);
  });

  it("needed in staging and production: names with a value there first, the others after, saying where they have none", () => {
    const ranked = completionCandidates(index, secretContext, ["staging", "production"]);
    expect(ranked.map((c) => [c.label, c.missing])).toEqual([
      ["stripe_api_key", undefined],
      ["zendesk_api_token", undefined],
      ["hubspot_api_token", ["staging", "production"]],
      ["legacy_ftp_password", ["staging", "production"]],
    ]);
    expect(ranked[2]?.detail).toBe("secret · development · no value in staging, production");
  });
});
