import { describe, expect, it } from "vitest";
import { GitError } from "@stellar-secrets/git";
import { CliError } from "./errors.js";
import { formatError } from "./main.js";

describe("coded errors of the git adapter", () => {
  it("are reported exactly as the CLI's own: the same text and exit status per code", () => {
    for (const [code, status] of [
      ["GIT_ERROR", 22],
      ["NOT_FOUND", 4],
      ["SHALLOW_CLONE", 24],
      ["CORRUPT_OBJECT", 22],
      ["OBJECT_TOO_LARGE", 22],
    ] as const) {
      const reported = formatError(new GitError(code, "what went wrong", { hint: "how to fix it" }));
      expect(reported).toEqual(formatError(new CliError(code, "what went wrong", { hint: "how to fix it" })));
      expect(reported.status).toBe(status);
    }
  });
});

describe("node's argument errors, which quote the argument", () => {
  it("are reported without what node received (a value may be in it), text and JSON alike", async () => {
    const { spawn } = await import("node:child_process");
    let error: unknown;
    try {
      spawn("true", [], { env: { API_KEY: "SECRET-VALUE\0tail" } });
    } catch (e) {
      error = e;
    }
    expect((error as NodeJS.ErrnoException).code).toBe("ERR_INVALID_ARG_VALUE");
    expect((error as Error).message).toContain("SECRET-VALUE");
    for (const json of [false, true]) {
      const reported = formatError(error, { json });
      expect(reported.text).not.toContain("SECRET-VALUE");
      expect(reported.text).toContain("ERR_INVALID_ARG_VALUE");
      expect(reported.text).toContain("must be a string without null bytes");
      expect(reported.status).toBe(70);
    }
  });
});

describe("a private key in an error's message or hint", () => {
  it("is never printed, text and JSON alike, whatever command quoted it (members rm AGE-SECRET-KEY-1…)", () => {
    // TEST-ONLY key material, made up for this test
    const identity = "AGE-SECRET-KEY-1GUZCNPNW9SDS02LKNLW44UJS0ETJLNE4Z9Z8T0WV0W5Z09TQ25FQXEEQM0";
    const pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----";
    const error = new CliError("UNKNOWN_MEMBER", `"${identity}" is not a member of development; nor "${identity.toLowerCase()}"`, { hint: `not ${pem} either; the file needs an AGE-SECRET-KEY-1… line` });
    for (const json of [false, true]) {
      const { text, status } = formatError(error, { json });
      expect(status).toBe(4);
      expect(text).not.toMatch(/GUZCNPNW9SDS02/i);
      expect(text).not.toContain("b3BlbnNzaC1rZXktdjEAAAAABG5vbmU");
      expect(text).toContain("(a private key, not shown)");
      // the placeholder "AGE-SECRET-KEY-1…" of a hint is no key, and stays
      expect(text).toContain("AGE-SECRET-KEY-1…");
    }
  });
});
