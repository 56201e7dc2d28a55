/**
 * Terminal sessions in a real pseudo-terminal (util-linux `script`): the hidden prompt echoes
 * nothing of what is typed, Ctrl-C aborts it, and `rm` asks before deleting.
 */
import { describe, expect, it, vi } from "vitest";
import { createSandbox, importAlternatingCommits, runInPty, type Sandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";

// Each test runs the CLI as many child processes; on a loaded 2-core machine that takes a while.
vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

async function project(): Promise<Sandbox> {
  const s = createSandbox();
  sandboxes.push(s);
  const alice = s.keygen("alice");
  s.env.SOPS_AGE_KEY_FILE = alice.file;
  expect((await s.run(["init", "--env", "development,production"])).code).toBe(0);
  return s;
}

describe("hidden prompt", () => {
  it("echoes nothing of the typed value, handles backspace, and stores exactly what was typed", async () => {
    const s = await project();
    const typed = "pty-Secret-Value-9f3k";
    const session = await runInPty(s, ["set", "stripe_api_key", "--env", "development"], [
      // type the value with a typo fixed by two backspaces, then Enter
      { waitFor: "Value for stripe_api_key (development): ", send: `${typed}XY\u007f\u007f\r` },
    ]);
    expect(session.code).toBe(0);
    expect(session.output).toContain("Value for stripe_api_key (development): ");
    expect(session.output).toContain("created stripe_api_key in development");
    expect(session.output).not.toContain(typed);
    expect(session.output).not.toContain("pty-Secret");
    expect(session.output).not.toContain("*");
    const get = await s.run(["get", "stripe_api_key", "--env", "development"]);
    expect(get.stdout).toBe(typed);
  });

  it("aborts on Ctrl-C without writing (ABORTED, exit 130)", async () => {
    const s = await project();
    const before = s.read("secrets/development.enc.yaml");
    const session = await runInPty(s, ["set", "stripe_api_key", "--env", "development"], [
      { waitFor: "Value for stripe_api_key", send: "half-typed\u0003" },
    ]);
    expect(session.code).toBe(130);
    expect(session.output).toContain("ABORTED");
    expect(session.output).not.toContain("half-typed");
    expect(s.read("secrets/development.enc.yaml")).toBe(before);
  });
});

describe("rm on a terminal", () => {
  it("asks before deleting; 'n' keeps the secret, 'y' deletes it", async () => {
    const s = await project();
    expect((await s.run(["set", "stripe_api_key", "--env", "development,production", "--from-stdin"], { input: "v1" })).code).toBe(0);
    const before = s.read("secrets/production.enc.yaml");

    const no = await runInPty(s, ["rm", "stripe_api_key", "--env", "production"], [{ waitFor: "[y/N] ", send: "n\r" }]);
    expect(no.output).toContain('Delete secret "stripe_api_key" from production? [y/N] ');
    expect(no.code).toBe(9); // DECLINED: answered no (130 is for Ctrl-C)
    expect(no.output).toContain("DECLINED");
    expect(no.output).toContain("not deleted");
    expect(s.read("secrets/production.enc.yaml")).toBe(before);

    const yes = await runInPty(s, ["rm", "stripe_api_key", "--env", "production"], [{ waitFor: "[y/N] ", send: "y\r" }]);
    expect(yes.code).toBe(0);
    expect(yes.output).toContain("deleted stripe_api_key from production");
    const list = JSON.parse((await s.run(["list", "--json"])).stdout);
    expect(list.secrets[0].environments).toEqual({ development: "set", production: "missing" });
  });
});

describe("history on a terminal", () => {
  it("shows progress on stderr for a long history and clears it before the result", async () => {
    const s = await project();
    expect((await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "a" })).code).toBe(0);
    s.commit("a");
    const a = s.read("secrets/production.enc.yaml");
    expect((await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "b" })).code).toBe(0);
    importAlternatingCommits(s, "secrets/production.enc.yaml", [s.read("secrets/production.enc.yaml"), a], 1200);
    const session = await runInPty(s, ["history", "stripe_api_key", "--no-decrypt"], []);
    expect(session.code).toBe(0);
    expect(session.output).toMatch(/comparing versions 50\/(\d+)…/);
    const total = (/comparing versions 50\/(\d+)…/.exec(session.output) as RegExpExecArray)[1];
    expect(Number(total)).toBeGreaterThan(1200);
    expect(session.output).toContain(`comparing versions ${total}/${total}…`);
    expect(session.output).toContain("\r\u001b[Kstripe_api_key (production)");
    const short = await runInPty(s, ["history", "--env", "development"], []);
    expect(short.output).not.toContain("comparing versions");
  });
});
