/**
 * A project committed with CRLF line breaks (made on Windows, cloned with `core.autocrlf=false`,
 * so git keeps the bytes as committed) stays CRLF through every command that writes an
 * environment file: set, rm, edit, members add and rm (re-wrap, rotation), rotate-key, the merge
 * driver and resolve; stellar.yaml and .sops.yaml too. Every line of a written file ends with
 * CRLF (none mixed in), the file verifies (get, check) and the age CLI unwraps its data key. An LF
 * project stays LF.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { createSandbox, sandboxesCleanedAfterEach, tryGit, unwrapWith, type AgeKey, type Sandbox } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 240_000 });

const sandboxes = sandboxesCleanedAfterEach();
const DEV = "secrets/development.enc.yaml";
const FILES = [DEV, "stellar.yaml", ".sops.yaml"];

/** The kinds of line break in `text`. */
function breaksIn(text: string): string[] {
  return [...new Set(text.match(/\r\n|\r|\n/g) ?? [])].sort();
}

async function ok(s: Sandbox, args: string[], input?: string): Promise<string> {
  const r = await s.run(args, input === undefined ? {} : { input });
  expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

async function get(s: Sandbox, name: string): Promise<string> {
  return ok(s, ["get", name, "--env", "development"]);
}

/** A project with alice, two values in development, committed with `brk` line breaks throughout. */
async function project(brk: "\r\n" | "\n"): Promise<{ s: Sandbox; alice: AgeKey }> {
  const s = createSandbox();
  sandboxes.push(s);
  const alice = s.keygen("alice");
  s.env.SOPS_AGE_KEY_FILE = alice.file;
  s.git(["config", "core.autocrlf", "false"]);
  await ok(s, ["init", "--env", "development"]);
  await ok(s, ["set", "stripe_api_key", "--env", "development", "--from-stdin"], "sk_BASE");
  await ok(s, ["set", "hubspot_token", "--env", "development", "--from-stdin"], "hs_BASE");
  await ok(s, ["git", "setup", "--no-hook"]);
  for (const f of FILES) s.write(f, s.read(f).replace(/\r?\n/g, brk));
  s.commit("base");
  return { s, alice };
}

/** Every file the project's commands write has only `brk` line breaks; the environment file verifies and the age CLI opens it. */
async function expectBreaks(s: Sandbox, alice: AgeKey, brk: string, what: string): Promise<void> {
  for (const f of FILES) expect(breaksIn(s.read(f)), `${what}: ${f}`).toEqual([brk]);
  const check = await s.run(["check", "--json"]);
  expect(check.code, `${what}: ${check.stdout}`).toBe(0);
  expect(unwrapWith(s, "development", alice)?.length, what).toBe(32);
}

describe.each([
  ["CRLF", "\r\n"],
  ["LF", "\n"],
] as const)("a %s project keeps its line breaks", (_, brk) => {
  it("through set, rm, edit, members add and rm, and rotate-key", async () => {
    const { s, alice } = await project(brk);
    const bob = s.keygen("bob");

    await ok(s, ["set", "zendesk_token", "--env", "development", "--from-stdin"], "zd_NEW");
    await expectBreaks(s, alice, brk, "set");
    // an unchanged value keeps its line, byte for byte
    const stripeLine = /^stripe_api_key: .*$/m.exec(s.read(DEV))![0];
    expect(s.git(["show", `HEAD:${DEV}`])).toContain(stripeLine);

    await ok(s, ["rm", "hubspot_token", "--env", "development", "--yes"]);
    await expectBreaks(s, alice, brk, "rm");

    const script = join(s.dir, "editor.mjs");
    writeFileSync(script, `import { readFileSync, writeFileSync } from "node:fs";\nconst f = process.argv[2];\nwriteFileSync(f, readFileSync(f, "utf8").replace("zd_NEW", "zd_EDITED"));\n`);
    const edit = await s.run(["edit", "--env", "development"], { env: { EDITOR: `${process.execPath} ${script}` } });
    expect(edit.code, edit.stderr).toBe(0);
    await expectBreaks(s, alice, brk, "edit");
    expect(await get(s, "zendesk_token")).toBe("zd_EDITED");

    await ok(s, ["members", "add", "bob", bob.recipient, "--env", "development"]);
    await expectBreaks(s, alice, brk, "members add");
    expect(unwrapWith(s, "development", bob)?.length).toBe(32);

    await ok(s, ["members", "rm", "bob", "--env", "development"]);
    await expectBreaks(s, alice, brk, "members rm");
    expect(unwrapWith(s, "development", bob)).toBeUndefined();

    await ok(s, ["rotate-key", "--env", "development"]);
    await expectBreaks(s, alice, brk, "rotate-key");
    expect(await get(s, "stripe_api_key")).toBe("sk_BASE");
    expect(await get(s, "zendesk_token")).toBe("zd_EDITED");
  });

  it("through the merge driver and resolve", async () => {
    const { s, alice } = await project(brk);
    s.git(["checkout", "-q", "-b", "feature"]);
    await ok(s, ["set", "stripe_api_key", "--env", "development", "--from-stdin"], "sk_FEATURE");
    await ok(s, ["set", "feature_only", "--env", "development", "--from-stdin"], "f_1");
    s.commit("feature");
    s.git(["checkout", "-q", "main"]);
    await ok(s, ["set", "main_only", "--env", "development", "--from-stdin"], "m_1");
    s.commit("main");
    // a clean merge: the driver writes the merged file
    s.git(["checkout", "-q", "-b", "clean", "main"]);
    s.git(["merge", "--no-edit", "-q", "feature"]);
    await expectBreaks(s, alice, brk, "merge");
    expect([await get(s, "feature_only"), await get(s, "main_only"), await get(s, "stripe_api_key")]).toEqual(["f_1", "m_1", "sk_FEATURE"]);

    // a conflict: ours' value stays in the driver's file, then resolve --theirs
    s.git(["checkout", "-q", "main"]);
    await ok(s, ["set", "stripe_api_key", "--env", "development", "--from-stdin"], "sk_MAIN");
    s.commit("main changes stripe");
    expect(tryGit(s, ["merge", "--no-edit", "feature"]).ok).toBe(false);
    expect(breaksIn(s.read(DEV)), "conflicted merge").toEqual([brk]);
    await ok(s, ["resolve", "stripe_api_key", "--env", "development", "--theirs"]);
    await expectBreaks(s, alice, brk, "resolve");
    expect([await get(s, "stripe_api_key"), await get(s, "feature_only"), await get(s, "main_only")]).toEqual(["sk_FEATURE", "f_1", "m_1"]);
  });
});
