import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CommandContext } from "../command.js";
import type { CliError } from "../errors.js";
import command from "./rotate-key.js";

describe("rotate-key's flags", () => {
  it("refuses --env with --all before reading anything (it rotated the --env ones only, silently)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rotate-key-flags-")); // no stellar.yaml: nothing may be read
    try {
      const ctx: CommandContext = { cwd: dir, env: {}, stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
      const error = await command.run(["--env", "development", "--all"], ctx).then(
        () => undefined,
        (e: CliError) => e,
      );
      expect([error?.code, error?.message]).toEqual(["USAGE", "rotate-key: give --env or --all, not both"]);
      expect(error?.hint).toBe("`stellar-secrets rotate-key --env ENV` re-keys the environments named, `stellar-secrets rotate-key --all` every one");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
