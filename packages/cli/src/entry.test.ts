import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { Command, CommandContext } from "./command.js";
import { runCommand } from "./entry.js";

function context(): { ctx: CommandContext; out: () => string } {
  const stdout = new PassThrough();
  let text = "";
  stdout.on("data", (c: Buffer) => (text += c.toString()));
  const ctx: CommandContext = { cwd: "/", env: {}, stdin: new PassThrough(), stdout, stderr: new PassThrough() };
  return { ctx, out: () => text };
}

const seen: string[][] = [];
const command: Command = {
  summary: "test command",
  help: "Usage: test [--flag]",
  run: async (argv) => {
    seen.push(argv);
    return 3;
  },
};

describe("runCommand (one loaded command, as main and the one-command bundles run it)", () => {
  it("prints the help (with a final newline) for --help or -h before any `--`, without running the command", async () => {
    for (const flag of ["--help", "-h"]) {
      const { ctx, out } = context();
      expect(await runCommand(command, ["x", flag], ctx)).toBe(0);
      expect(out()).toBe("Usage: test [--flag]\n");
    }
    expect(seen).toEqual([]);
  });

  it("runs the command with every argument, a --help after `--` included, and passes its status through", async () => {
    const { ctx, out } = context();
    expect(await runCommand(command, ["a", "--", "--help"], ctx)).toBe(3);
    expect(seen).toEqual([["a", "--", "--help"]]);
    expect(out()).toBe("");
  });

  it("for a command git runs with paths (helpOnlyAlone), takes --help for help only alone: a file named --help is a path", async () => {
    const driver: Command = { ...command, helpOnlyAlone: true };
    const { ctx, out } = context();
    seen.length = 0;
    expect(await runCommand(driver, [".merge_file_a", ".merge_file_b", ".merge_file_c", "--help"], ctx)).toBe(3);
    expect(seen).toEqual([[".merge_file_a", ".merge_file_b", ".merge_file_c", "--help"]]);
    expect(out()).toBe("");
    for (const flag of ["--help", "-h"]) {
      const asked = context();
      expect(await runCommand(driver, [flag], asked.ctx)).toBe(0);
      expect(asked.out()).toBe("Usage: test [--flag]\n");
    }
  });
});
