import { SopsError } from "@stellar-secrets/sops";
import { describe, expect, it } from "vitest";
import type { UnreadableEnvironmentFile } from "./repository.js";
import { unreadableJson, unreadableReport, unreadableStatus } from "./unreadable.js";

const staging: UnreadableEnvironmentFile = {
  env: { name: "staging", members: [] },
  path: "/repo/secrets/staging.enc.yaml",
  error: new SopsError("MALFORMED_FILE", "git conflict markers (`<<<<<<<`)", { file: "/repo/secrets/staging.enc.yaml", line: 2, column: 1, hint: "restore the file" }),
};

describe("unreadable environment files of a keyless listing", () => {
  it("reports each file's error (code, file:line:column, hint), then which environments were left out, with the error's exit status", () => {
    expect(unreadableReport([staging], "not listed")).toBe(
      "stellar-secrets: MALFORMED_FILE: /repo/secrets/staging.enc.yaml:2:1: git conflict markers (`<<<<<<<`)\n  hint: restore the file\nnote: staging: not listed\n",
    );
    expect(unreadableStatus([staging])).toBe(13);
    expect(unreadableJson([staging], "/repo")).toEqual([
      { environment: "staging", file: "secrets/staging.enc.yaml", code: "MALFORMED_FILE", message: "/repo/secrets/staging.enc.yaml:2:1: git conflict markers (`<<<<<<<`)", hint: "restore the file" },
    ]);
  });

  it("is silent, with status 0, when every file was read", () => {
    expect(unreadableReport([], "not listed")).toBe("");
    expect(unreadableStatus([])).toBe(0);
  });
});
