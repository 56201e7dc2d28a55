import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CommandContext } from "../command.js";
import type { CliError } from "../errors.js";
import command from "./probe.js";

describe("probe's CA file", () => {
  it("says whether --ca or STELLAR_SECRETS_PROBE_CA named it, and fixes that one (the hint said 'unset STELLAR_SECRETS_PROBE_CA' after a mistyped --ca)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "probe-ca-")); // no stellar.yaml: the CA is read first
    try {
      writeFileSync(join(dir, "notes.txt"), "no certificate here\n");
      const error = (argv: string[], env: Record<string, string> = {}) => {
        const ctx: CommandContext = { cwd: dir, env, stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
        return command.run(argv, ctx).then(
          () => undefined,
          (e: CliError) => [e.code, e.message, e.hint],
        );
      };
      expect(await error(["--env", "production", "--ca", "nope.pem"])).toEqual([
        "INVALID_CA",
        "cannot read the CA file nope.pem (ENOENT), given by --ca",
        "pass --ca a PEM file of the certificate(s) to trust",
      ]);
      expect(await error(["--env", "production"], { STELLAR_SECRETS_PROBE_CA: "nope.pem" })).toEqual([
        "INVALID_CA",
        "cannot read the CA file nope.pem (ENOENT), given by STELLAR_SECRETS_PROBE_CA",
        "point STELLAR_SECRETS_PROBE_CA at a PEM file of the certificate(s) to trust, or unset it",
      ]);
      expect(await error(["--env", "production", "--ca", "notes.txt"])).toEqual([
        "INVALID_CA",
        "the CA file notes.txt holds no PEM certificate (-----BEGIN CERTIFICATE-----), given by --ca",
        "pass --ca a PEM file of the certificate(s) to trust (never a private key)",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
