/**
 * A newcomer's first minutes with the installed CLI, as the docs describe them (docs/cli.md's
 * opening and "Access" paragraphs): the global options, and the suggestion for a word typed
 * where a command or sub-command belongs. The CLI runs as a child process.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createSandbox, REPO_ROOT, sandboxesCleanedAfterEach } from "./helpers/cli.js";

const sandboxes = sandboxesCleanedAfterEach();
const sandbox = () => {
  const s = createSandbox();
  sandboxes.push(s);
  return s;
};
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, "packages/core/package.json"), "utf8")) as { version: string }).version;

describe("global options", () => {
  it("--help names --version and help COMMAND; --version and -V print the version", async () => {
    const s = sandbox();
    const help = await s.run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^ {2}-V, --version {2}/m);
    expect(help.stdout).toMatch(/^ {2}-h, --help {5}.*stellar-secrets help COMMAND/m);
    for (const flag of ["--version", "-V"]) {
      const r = await s.run([flag]);
      expect([r.code, r.stdout, r.stderr], flag).toEqual([0, `${VERSION}\n`, ""]);
    }
    const bare = await s.run([]);
    expect([bare.code, bare.stdout]).toEqual([2, help.stdout]);
    const helpGet = await s.run(["help", "get"]);
    expect([helpGet.code, helpGet.stdout]).toEqual([0, (await s.run(["get", "--help"])).stdout]);
  });
});

describe("a word typed where a command belongs", () => {
  const suggested = async (args: string[]) => {
    const r = await sandbox().run(args);
    expect(r.code, args.join(" ")).toBe(2);
    expect(r.stdout).toBe("");
    return r.stderr;
  };

  it("unset, delete, remove and del name rm, never set (one letter from unset, the opposite)", async () => {
    for (const word of ["unset", "delete", "remove", "del", "Unset"]) {
      const stderr = await suggested([word, "stripe_api_key"]);
      expect(stderr, word).toContain(`stellar-secrets: UNKNOWN_COMMAND: unknown command "${word}"; did you mean "rm"?`);
      expect(stderr, word).toContain("hint: run `stellar-secrets rm --help`");
      expect(stderr, word).not.toContain('did you mean "set"');
    }
  });

  it("names list for ls, get for show, set for put, rename for mv, check for lint, exec for run", async () => {
    for (const [word, command] of [["ls", "list"], ["show", "get"], ["put", "set"], ["mv", "rename"], ["lint", "check"], ["run", "exec"]] as const) {
      expect(await suggested([word]), word).toContain(`unknown command "${word}"; did you mean "${command}"?`);
    }
  });

  it("version and -v name the --version option", async () => {
    for (const word of ["version", "-v"]) {
      const stderr = await suggested([word]);
      expect(stderr, word).toContain(`unknown command "${word}"; did you mean "--version"?`);
      expect(stderr, word).toContain("hint: run `stellar-secrets --version`");
    }
  });

  it("a mistyped command still names the nearest one, and a word near none names none", async () => {
    expect(await suggested(["lsit"])).toContain('unknown command "lsit"; did you mean "list"?');
    const none = await suggested(["frobnicate"]);
    expect(none).toContain('unknown command "frobnicate"\n');
    expect(none).not.toContain("did you mean");
  });

  it("a mistyped sub-command of members or inbox names the nearest one; members remove is members rm", async () => {
    const s = sandbox();
    expect((await s.run(["init", "--env", "development", "--member", "alice"])).code).toBe(0);
    const members = await s.run(["members", "lst"]);
    expect(members.code).toBe(2);
    expect(members.stderr).toContain('stellar-secrets: USAGE: members: unknown sub-command "lst"; did you mean "list"?');
    const inbox = await s.run(["inbox", "aply", "--env", "development"]);
    expect(inbox.code).toBe(2);
    expect(inbox.stderr).toContain('stellar-secrets: USAGE: inbox: unknown sub-command "aply"; did you mean "apply"?');
    const missing = await s.run(["members"]);
    expect([missing.code, missing.stderr.split("\n")[0]]).toEqual([2, "stellar-secrets: USAGE: members: missing sub-command"]);
    // remove is rm: the last member is refused as rm refuses it
    const remove = await s.run(["members", "remove", "alice"]);
    expect(remove.stderr).toMatch(/^stellar-secrets: LAST_MEMBER: /);
    expect(remove.code).toBe(20);
  });
});
