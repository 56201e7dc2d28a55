import { describe, expect, it } from "vitest";
import type { CommandContext } from "../command.js";
import type { CliError } from "../errors.js";
import exec from "./exec.js";

async function usage(argv: string[]): Promise<CliError> {
  // every case fails while parsing the arguments, before the context is used
  const error = await exec.run(argv, {} as CommandContext).then(
    () => undefined,
    (e: unknown) => e as CliError,
  );
  if (error === undefined) throw new Error("exec did not fail");
  return error;
}

describe("exec: a command given without --", () => {
  it("says the command goes after -- (exit status USAGE), whatever parseArgs made of it", async () => {
    for (const argv of [
      ["--env", "development", "echo", "hi"],
      ["--env", "development", "node", "-e", "1"],
    ]) {
      const e = await usage(argv);
      expect(e.code, argv.join(" ")).toBe("USAGE");
      expect(e.hint, argv.join(" ")).toBe("the command to run and its options go after --, e.g. stellar-secrets exec --env development -- node server.js");
    }
    const missing = await usage(["--env", "development"]);
    expect(missing.message).toBe("exec: missing the command to run");
    expect(missing.hint).toBe("put it after --, e.g. stellar-secrets exec --env development -- node server.js");
  });
  it("keeps the did-you-mean of a mistyped exec flag", async () => {
    const e = await usage(["--evn", "development", "--", "node"]);
    expect(e.message).toContain("did you mean --env?");
    expect((await usage(["--evn", "development", "node"])).message).toContain("did you mean --env?");
  });
});
