import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { Command, CommandContext } from "./command.js";
import { formatError, ioErrorHint, runCommand } from "./entry.js";

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

describe("formatError of an IO_ERROR (what failed and where is the message; how to fix it the hint)", () => {
  const ioError = (message: string, cause?: unknown, hint?: string) =>
    Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code: "IO_ERROR" }, hint === undefined ? {} : { hint });

  it("adds a hint from the system error code of the cause, or of the message's (ECODE)", () => {
    const denied = formatError(ioError("/r/secrets/development.enc.yaml.lock: taking the lock failed (EACCES)", Object.assign(new Error("x"), { code: "EACCES" })));
    expect(denied.status).toBe(16);
    expect(denied.text).toMatch(/\n {2}hint: permission denied: the user running stellar-secrets cannot write \(or read\) the file or its folder/);
    expect(formatError(ioError("/r/.gitattributes: writing the file failed (EPERM)")).text).toContain("hint: permission denied");
    expect(formatError(ioError("/r/x: writing the file failed (EROFS)")).text).toContain("hint: the file system is read-only");
    expect(formatError(ioError("/r/x: writing the file failed (ENOSPC)"), { json: true }).text).toContain('"hint":"no space left on the device');
  });

  it("keeps a hint the error has, and adds none for another system code or another error code", () => {
    expect(formatError(ioError("x failed (EACCES)", undefined, "do this")).text).toBe("stellar-secrets: IO_ERROR: x failed (EACCES)\n  hint: do this\n");
    expect(formatError(ioError("x failed (EISDIR)")).text).toBe("stellar-secrets: IO_ERROR: x failed (EISDIR)\n");
    expect(ioErrorHint(new Error("y failed (EBUSY)"))).toBeUndefined();
    const other = Object.assign(new Error("z failed (EACCES)"), { code: "NOT_FOUND" });
    expect(formatError(other).text).toBe("stellar-secrets: NOT_FOUND: z failed (EACCES)\n");
  });
});
