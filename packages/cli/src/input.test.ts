import { describe, expect, it } from "vitest";
import { PassThrough } from "node:stream";
import type { CommandContext } from "./command.js";
import type { CliError } from "./errors.js";
import { pastedValueAsName, readValue } from "./input.js";

describe("pastedValueAsName", () => {
  it("refuses a credential given as a secret's name without repeating it: well-known formats, mixed-case tokens, long lower-case hex keys", () => {
    // TEST-ONLY made-up tokens
    for (const [name, looks] of [
      ["sk_live_51hqlyjwdarjtt1zdp7dcxyzabcdef0123456789", "Stripe live secret key"],
      ["sk_live_51HqLyjWDarjtT1zdp7dcXYZabcdef0123456789", "Stripe live secret key"],
      ["ghp_abcdefghijklmnopqrstuvwxyz0123456789", "GitHub token"],
      ["a3f9c8e7d6b5a4f3e2d1c0b9a8f7e6d5", "long random string"],
      ["Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg", "long random string"],
    ] as const) {
      const error = pastedValueAsName(name, "the NAME argument");
      expect(error?.code, name).toBe("INVALID_SECRET_NAME");
      expect(error?.message).toContain(looks);
      expect(`${error?.message} ${error?.hint}`).not.toContain(name.slice(8, 24));
    }
  });

  it("accepts real names, long descriptive ones and short hex-looking ones included", () => {
    for (const name of ["stripe_api_key", "sk_live_key", "oauth2_client_secret_for_billing_api_2024", "deadbeef", "abc123", "github_token"]) {
      expect(pastedValueAsName(name, "the NAME argument"), name).toBeUndefined();
    }
  });
});

describe("readValue --from-file", () => {
  const ctx = { cwd: "/", env: {}, stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() } as CommandContext;
  it("does not repeat a value given in place of the file's path (NOT_FOUND), and still names a real path", async () => {
    const token = "sk_live_51HqLyjWDarjtT1zdp7dcXYZabcdef0123456789";
    const e = (await readValue(ctx, { kind: "file", path: `/work/${token}` }).catch((x: unknown) => x)) as CliError;
    expect(e.code).toBe("NOT_FOUND");
    expect(`${e.message} ${e.hint}`).not.toContain("51HqLyjWDarjtT1zdp7");
    expect(e.hint).toContain("not the value");
    const missing = (await readValue(ctx, { kind: "file", path: "/no/such/value.txt" }).catch((x: unknown) => x)) as CliError;
    expect(missing.message).toBe("--from-file: no such file /no/such/value.txt");
  });
  it("says that a folder is one (IO_ERROR EISDIR had no hint)", async () => {
    const e = (await readValue(ctx, { kind: "file", path: "/tmp" }).catch((x: unknown) => x)) as CliError;
    expect([e.code, e.message, e.hint]).toEqual(["IO_ERROR", "--from-file: cannot read /tmp (EISDIR)", "/tmp is a folder: --from-file takes the path of the file that holds the value"]);
  });
});

describe("readValue of an empty value", () => {
  const ctxWith = (input: string) => {
    const stdin = new PassThrough();
    stdin.end(input);
    return { cwd: "/", env: {}, stdin, stdout: new PassThrough(), stderr: new PassThrough() } as unknown as CommandContext;
  };
  it("on stdin, names the unset shell variable a copied `printf '%s' \"$VAR\" |` line pipes", async () => {
    const e = (await readValue(ctxWith(""), { kind: "stdin" }).catch((x: unknown) => x)) as CliError;
    expect([e.code, e.message]).toEqual(["INVALID_VALUE", "the value from stdin is empty"]);
    expect(e.hint).toBe(
      "stdin held nothing but line breaks, if anything: a pipe from `printf '%s' \"$VAR\"` sends nothing when VAR is unset or empty in this shell (set it first, e.g. `read -rs VAR`, or run `set` without --from-stdin to be prompted); a secret needs a value; to delete one use `stellar-secrets rm NAME --env ENV`",
    );
    // a line break alone is empty too (trailing line breaks are dropped), and says the same
    expect(((await readValue(ctxWith("\n"), { kind: "stdin" }).catch((x: unknown) => x)) as CliError).hint).toContain("stdin held nothing but line breaks, if anything");
  });
});
