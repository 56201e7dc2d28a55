import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CommandContext } from "./command.js";
import type { CliError } from "./errors.js";
import { confirm, promptHidden } from "./prompt.js";

/** A fake terminal: stdin with isTTY and setRawMode (recording the modes), stderr captured. */
function terminal(tty = true): { ctx: CommandContext; type: (s: string) => void; shown: () => string; modes: boolean[] } {
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean; setRawMode?: (m: boolean) => unknown };
  const modes: boolean[] = [];
  if (tty) {
    stdin.isTTY = true;
    stdin.setRawMode = (m: boolean) => modes.push(m);
  }
  let out = "";
  const stderr = new PassThrough();
  stderr.on("data", (c: Buffer) => (out += c.toString()));
  const ctx: CommandContext = { cwd: "/", env: {}, stdin, stdout: new PassThrough(), stderr };
  return { ctx, type: (s) => stdin.write(s), shown: () => out, modes };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("promptHidden", () => {
  it("reads a line in raw mode, echoing nothing, with backspace, Ctrl-U and escape sequences handled", async () => {
    const t = terminal();
    const p = promptHidden(t.ctx, "Value: ");
    await flush();
    expect(t.modes).toEqual([true]);
    t.type("wrong\u0015ab\u001b[Dc\u007fd\u001b[200~é€\u001b[201~\r");
    await expect(p).resolves.toBe("abdé€");
    expect(t.modes).toEqual([true, false]);
    expect(t.shown()).toBe("Value: \n");
  });

  it("decodes multi-byte characters split across chunks", async () => {
    const t = terminal();
    const p = promptHidden(t.ctx, "? ");
    const bytes = Buffer.from("ü\r");
    t.ctx.stdin.emit("data", bytes.subarray(0, 1));
    t.ctx.stdin.emit("data", bytes.subarray(1));
    await expect(p).resolves.toBe("ü");
  });

  it("aborts on Ctrl-C and on Ctrl-D at an empty line, leaving raw mode", async () => {
    for (const key of ["abc\u0003", "\u0004"]) {
      const t = terminal();
      const p = promptHidden(t.ctx, "? ");
      t.type(key);
      await expect(p).rejects.toMatchObject({ code: "ABORTED" });
      expect(t.modes).toEqual([true, false]);
    }
  });

  it("refuses a pasted multi-line value whole instead of keeping its first line", async () => {
    const pem = "-----BEGIN PRIVATE KEY-----\rMIIBVQIBADANBg\r-----END PRIVATE KEY-----\r";
    // the whole paste in one chunk; in two chunks; inside bracketed-paste markers
    for (const chunks of [[pem], [pem.slice(0, 30), pem.slice(30)], ["\u001b[200~line one\rline two\u001b[201~\r"]]) {
      const t = terminal();
      const p = promptHidden(t.ctx, "? ");
      for (const c of chunks) t.type(c);
      const error = await p.catch((e: CliError) => e);
      expect((error as CliError).code).toBe("INVALID_VALUE");
      expect((error as CliError).hint).toContain("--from-file");
      expect(t.modes).toEqual([true, false]);
    }
  });

  it("accepts a line ended by CR LF (one line, not a paste)", async () => {
    const t = terminal();
    const p = promptHidden(t.ctx, "? ");
    t.type("one-line-value\r\n");
    await expect(p).resolves.toBe("one-line-value");
  });

  it("refuses without a terminal", async () => {
    const t = terminal(false);
    await expect(promptHidden(t.ctx, "? ")).rejects.toMatchObject({ code: "USAGE" });
  });
});

describe("confirm", () => {
  it("is true only for y or yes, and echoes the answer", async () => {
    for (const [answer, expected] of [["y\r", true], ["YES\r", true], ["\r", false], ["n\r", false], ["yep\r", false]] as const) {
      const t = terminal();
      const p = confirm(t.ctx, "Delete?");
      t.type(answer);
      expect(await p).toBe(expected);
      expect(t.shown()).toBe(`Delete? [y/N] ${answer.slice(0, -1)}\n`);
    }
  });

  it("requires --yes without a terminal", async () => {
    const t = terminal(false);
    const error = await confirm(t.ctx, "Delete?").catch((e: CliError) => e);
    expect((error as CliError).code).toBe("CONFIRMATION_REQUIRED");
  });
});
