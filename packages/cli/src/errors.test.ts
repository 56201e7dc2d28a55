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
