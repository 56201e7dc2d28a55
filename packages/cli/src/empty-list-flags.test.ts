/**
 * `--env "$ENV"` with ENV unset gives the command an empty --env. Read as no --env at all it meant
 * "every environment" to rm and members rm (a script deleted a secret from production too) and
 * "every secret" to exec --only: every command refuses it before reading anything.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CommandContext } from "./command.js";
import { COMMANDS, formatError, run } from "./main.js";

describe("an empty --env / --only / --machine", () => {
  it("is USAGE for every command that takes one, before the project is read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "empty-list-")); // no stellar.yaml: nothing may be read
    try {
      const cases: string[][] = [
        ["rm", "stripe_api_key", "--yes", "--env", ""],
        ["members", "rm", "bob", "--env", ""],
        ["members", "add", "bob", "age1x", "--env", ""],
        ["members", "approve", "bob", "--env", ""],
        ["members", "list", "--env", ""],
        ["exec", "--env", "production", "--only", "", "--", "true"],
        ["export", "--env", "production", "--only", ","],
        ["set", "stripe_api_key", "--env", "", "--from-stdin"],
        ["get", "stripe_api_key", "--env", ""],
        ["list", "--env", ""],
        ["history", "--env", ""],
        ["stale", "--env", ""],
        ["access", "--env", ""],
        ["access", "--machine", ""],
        ["rotate-key", "--env", ""],
        ["inbox", "list", "--env", ""],
        ["request-access", "--env", ""],
        ["edit", "--env", ""],
        ["probe", "--env", ""],
        ["resolve", "stripe_api_key", "--ours", "--env", ""],
        ["init", "--env", ""],
      ];
      // every command with --env is here (a new one is added to this list)
      const covered = new Set(cases.map((c) => c[0]));
      for (const [name, load] of Object.entries(COMMANDS)) {
        const help = (await load()).default.help;
        const usage = help.slice(0, `${help}\n\n`.indexOf("\n\n"));
        if (/--env\b/.test(usage)) expect(covered.has(name), `${name} takes --env: add it here`).toBe(true);
      }
      for (const argv of cases) {
        let err = "";
        const sink = new PassThrough();
        sink.on("data", (c: Buffer) => (err += c.toString()));
        const ctx: CommandContext = { cwd: dir, env: {}, stdin: new PassThrough(), stdout: new PassThrough(), stderr: sink };
        const flag = argv[argv.findIndex((a, i) => a.startsWith("--") && ["", ","].includes(argv[i + 1] ?? "x"))];
        const error = await run(argv, ctx).then(
          (code) => `exit ${code}: ${err}`,
          (e: Error) => formatError(e).text,
        );
        expect(error.split("\n")[0], argv.join(" ")).toMatch(new RegExp(`^stellar-secrets: USAGE: .*${flag} is empty$`));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
