import { encryptSecrets } from "@stellar-secrets/sops";
import { describe, expect, it } from "vitest";
import { renderTextconv } from "./textconv.js";

// public half of test/fixtures/keys/alice.txt (TEST-ONLY)
const ALICE = "age1r7t4nna8sqyctkujc4lwpun9ged8qz0a4vt2esnxcg8cq7cm84kqdr8nx2";

describe("renderTextconv (what git diff shows)", () => {
  it("shows control characters of names and labels escaped: a change cannot write terminal sequences into a reviewer's git diff", async () => {
    const text = await encryptSecrets(new Map([["stripe_api_key", "fake-1"]]), { recipients: [ALICE] });
    const evil = text
      .replace("stripe_api_key:", '"n\\e]8;;https://evil.example\\ax\\e[1A":')
      .replace(`recipient: ${ALICE}`, `recipient: "${ALICE}\\e[2K\\r\\e[32mok"`);
    for (const input of [evil, evil.replace("sops:", "broken: [\nsops:")]) {
      const out = renderTextconv(input, "secrets/production.enc.yaml", new Map([[ALICE, "alice"]]));
      expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    }
    const out = renderTextconv(evil, "secrets/production.enc.yaml", new Map());
    expect(out).toContain("n\\x1b]8;;https://evil.example\\x07x\\x1b[1A: fp:");
    expect(out).toContain("\\x1b[2K\\r\\x1b[32mok wrapped-key fp:");
  });
});
