import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CommandContext } from "../command.js";
import type { CliError } from "../errors.js";
import command from "./resolve.js";

describe("resolve's flags", () => {
  it("refuses --keep-newlines without --from-stdin before reading anything (it was ignored without a word, as set refuses it)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "resolve-flags-")); // no stellar.yaml: nothing may be read
    try {
      const ctx: CommandContext = { cwd: dir, env: {}, stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
      for (const argv of [["api_key", "--env", "production", "--ours", "--keep-newlines"], ["--env", "production", "--theirs", "--keep-newlines"]]) {
        const error = await command.run(argv, ctx).then(
          () => undefined,
          (e: CliError) => e,
        );
        expect([error?.code, error?.message, error?.hint], argv.join(" ")).toEqual([
          "USAGE",
          "resolve: --keep-newlines goes with --from-stdin",
          "--ours and --theirs take that side's value byte for byte; leave --keep-newlines out",
        ]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
