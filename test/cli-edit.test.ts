/**
 * `stellar-secrets edit` end to end with scripted editors: changes are applied with stable
 * ciphertext, and the decrypted scratch directory (on /dev/shm, mode 0700) is gone after a
 * normal exit, an error, SIGINT and SIGTERM.
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { createSandbox, type Sandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";
import { parse } from "./helpers/yaml.js";

// Each test runs the CLI as many child processes; on a loaded 2-core machine that takes a while.
vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

async function project(): Promise<Sandbox> {
  const s = createSandbox();
  sandboxes.push(s);
  const alice = s.keygen("alice");
  s.env.SOPS_AGE_KEY_FILE = alice.file;
  expect((await s.run(["init", "--env", "development,production"])).code).toBe(0);
  for (const [name, value] of [
    ["stripe_api_key", "sk_EDIT_ONE"],
    ["hubspot_api_token", "hs_EDIT_TWO"],
    ["twilio_auth_token", "tw_EDIT_THREE"],
  ] as const) {
    expect((await s.run(["set", name, "--env", "development", "--from-stdin"], { input: value })).code).toBe(0);
  }
  s.commit("secrets");
  return s;
}

/**
 * Writes an editor script: records the file path and its directory's mode in `info`, then runs
 * `body` (JS with `file`, `text` in scope; may return new text) or waits forever when body is "wait".
 */
function editor(s: Sandbox, body: string): { command: string; info: string } {
  const info = join(s.dir, "editor-info.json");
  const script = join(s.dir, "editor.mjs");
  writeFileSync(
    script,
    `import { readFileSync, writeFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
const file = process.argv[2];
const text = readFileSync(file, "utf8");
writeFileSync(${JSON.stringify(info)}, JSON.stringify({ pid: process.pid, file, dir: dirname(file), dirMode: statSync(dirname(file)).mode & 0o777, fileMode: statSync(file).mode & 0o777, text }));
${body === "wait" ? "setInterval(() => {}, 1000);" : `const out = (() => { ${body} })(); if (typeof out === "string") writeFileSync(file, out);`}
`,
  );
  return { command: `${process.execPath} ${script}`, info };
}

function readInfo(path: string): { pid: number; file: string; dir: string; dirMode: number; fileMode: number; text: string } {
  return JSON.parse(readFileSync(path, "utf8"));
}

describe("edit", () => {
  it("applies added, changed and deleted lines and keeps the ciphertext of untouched values; the scratch dir is private and removed", async () => {
    const s = await project();
    const ed = editor(
      s,
      `return text.replace("hs_EDIT_TWO", "hs_EDITED").replace(/^twilio_auth_token:.*\\n/m, "") + "sendgrid_api_token: sg_NEW\\n";`,
    );
    const before = parse(s.read("secrets/development.enc.yaml"));
    const r = await s.run(["edit", "--env", "development", "--json"], { env: { EDITOR: ed.command } });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ environment: "development", added: ["sendgrid_api_token"], changed: ["hubspot_api_token"], deleted: ["twilio_auth_token"] });
    const info = readInfo(ed.info);
    expect(info.dir.startsWith("/dev/shm/")).toBe(true);
    expect(info.dirMode).toBe(0o700);
    expect(info.fileMode).toBe(0o600);
    expect(info.text).toContain("stripe_api_key: sk_EDIT_ONE");
    expect(existsSync(info.dir)).toBe(false);
    const after = parse(s.read("secrets/development.enc.yaml"));
    expect(after.stripe_api_key).toBe(before.stripe_api_key);
    expect(after.hubspot_api_token).not.toBe(before.hubspot_api_token);
    expect(after.twilio_auth_token).toBeUndefined();
    expect((await s.run(["get", "hubspot_api_token", "--env", "development"])).stdout).toBe("hs_EDITED");
    expect((await s.run(["get", "sendgrid_api_token", "--env", "development"])).stdout).toBe("sg_NEW");
  });

  it("changes nothing when the editor leaves the file as it was or empties it", async () => {
    const s = await project();
    const before = s.read("secrets/development.enc.yaml");
    const same = editor(s, "return undefined;");
    const r = await s.run(["edit", "--env", "development"], { env: { EDITOR: same.command } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("no changes to development\n");
    const empty = editor(s, 'return "";');
    expect((await s.run(["edit", "--env", "development"], { env: { EDITOR: empty.command } })).stdout).toBe("no changes to development\n");
    expect(s.read("secrets/development.enc.yaml")).toBe(before);
  });

  it("removes the scratch dir on errors: a failing editor, invalid YAML, bad names, a rename attempt", async () => {
    const s = await project();
    const before = s.read("secrets/development.enc.yaml");
    const cases: [string, number, string][] = [
      ["process.exit(3);", 23, "EDITOR_FAILED"],
      ['return "stripe_api_key: [unclosed\\n";', 18, "INVALID_VALUE"],
      ['return text + "BadName: x\\n";', 3, "INVALID_SECRET_NAME"],
      ['return text.replace("stripe_api_key:", "stripe_secret_key:");', 8, "RENAME_NOT_SUPPORTED"],
    ];
    for (const [body, code, errorCode] of cases) {
      const ed = editor(s, body);
      const r = await s.run(["edit", "--env", "development"], { env: { EDITOR: ed.command } });
      expect(r.code, body).toBe(code);
      expect(r.stderr, body).toContain(errorCode);
      for (const v of ["sk_EDIT_ONE", "hs_EDIT_TWO", "tw_EDIT_THREE"]) expect(r.stderr + r.stdout, body).not.toContain(v);
      expect(existsSync(readInfo(ed.info).dir), body).toBe(false);
    }
    expect(s.read("secrets/development.enc.yaml")).toBe(before);
  });

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`removes the scratch dir when killed with ${signal} while the editor is open`, async () => {
      const s = await project();
      const ed = editor(s, "wait");
      const before = s.read("secrets/development.enc.yaml");
      const p = s.start(["edit", "--env", "development"], { env: { EDITOR: ed.command } });
      for (let i = 0; i < 300 && !existsSync(ed.info); i++) await new Promise((r) => setTimeout(r, 50));
      const info = readInfo(ed.info);
      expect(statSync(info.file).isFile()).toBe(true);
      p.kill(signal);
      const r = await p.done;
      expect(r.signal).toBe(signal);
      expect(existsSync(info.dir)).toBe(false);
      expect(s.read("secrets/development.enc.yaml")).toBe(before);
    });
  }
});

describe("edit: plaintext never outlives a kill (issue 12, item 7)", () => {
  it("SIGQUIT removes the scratch dir; after SIGKILL the next edit removes the folder the dead process left", async () => {
    const s = await project();
    const ed = editor(s, "wait");
    const quit = s.start(["edit", "--env", "development"], { env: { EDITOR: ed.command } });
    for (let i = 0; i < 300 && !existsSync(ed.info); i++) await new Promise((r) => setTimeout(r, 50));
    const first = readInfo(ed.info);
    quit.kill("SIGQUIT");
    expect((await quit.done).signal).toBe("SIGQUIT");
    expect(existsSync(first.dir)).toBe(false);

    rmSync(ed.info, { force: true });
    const ed2 = editor(s, "wait");
    const killed = s.start(["edit", "--env", "development"], { env: { EDITOR: ed2.command } });
    for (let i = 0; i < 300 && !existsSync(ed2.info); i++) await new Promise((r) => setTimeout(r, 50));
    const left = readInfo(ed2.info);
    expect(left.dir).toMatch(new RegExp(`stellar-secrets-edit-${killed.pid}-`));
    killed.kill("SIGKILL");
    process.kill(left.pid, "SIGKILL"); // the orphaned editor (it holds the CLI's output pipes)
    expect((await killed.done).signal).toBe("SIGKILL");
    expect(existsSync(left.dir)).toBe(true); // nothing can catch SIGKILL

    const ed3 = editor(s, "return text;");
    const next = await s.run(["edit", "--env", "development"], { env: { EDITOR: ed3.command } });
    expect(next.code, next.stderr).toBe(0);
    expect(existsSync(left.dir)).toBe(false);
    expect(next.stderr).toContain("left by a killed edit");
  });
});
