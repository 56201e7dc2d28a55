import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CommandContext } from "../command.js";
import type { CliError } from "../errors.js";
import command from "./export.js";

describe("export's flags", () => {
  it("checks --name, --namespace and the format they need before reading anything, each with how to write it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "export-flags-")); // no stellar.yaml: nothing may be read
    try {
      const ctx: CommandContext = { cwd: dir, env: {}, stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
      const error = (argv: string[]) =>
        command.run(argv, ctx).then(
          () => undefined,
          (e: CliError) => [e.code, e.message, e.hint],
        );
      expect(await error(["--env", "production", "--format", "k8s", "--name", "App_Secrets"])).toEqual([
        "USAGE",
        'export: --name "App_Secrets" is not a valid Kubernetes name (lowercase letters, digits, - and .)',
        "a Secret's name is lowercase letters, digits, - and ., starting and ending with a letter or digit, at most 253 characters (e.g. app-secrets)",
      ]);
      expect(await error(["--env", "production", "--format", "k8s", "--namespace", "Prod NS"])).toEqual([
        "USAGE",
        'export: --namespace "Prod NS" is not a valid Kubernetes namespace',
        "a namespace is lowercase letters, digits and -, starting and ending with a letter or digit, at most 63 characters (e.g. prod)",
      ]);
      expect(await error(["--env", "production", "--namespace", "prod"])).toEqual([
        "USAGE",
        "export: --namespace applies to --format k8s only",
        "add --format k8s to write a Kubernetes Secret (the default format is dotenv)",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
