/**
 * `shutdown` and `exit` sent while the initial index is being built, over a real stdio process: a
 * workspace of many projects (a client started in / or the home folder) was loaded to its end
 * before either was read (each project's load resolves in a microtask: no turn of the event loop
 * between two projects), and so was one project of thousands of config files (its load was one
 * synchronous call: core's loadWorkspace, now run in pieces, loadWorkspaceSteps).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proto, SERVER_BIN } from "./lsp-harness.js";

const PROJECTS = 120;
const BIG_PROJECT_FILES = 2500;
let dir = "";
let big = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "stellar-lsp-many-"));
  for (let p = 0; p < PROJECTS; p++) {
    const root = join(dir, `p${String(p).padStart(3, "0")}`);
    mkdirSync(join(root, "actions"), { recursive: true });
    writeFileSync(join(root, "stellar.yaml"), "version: 1\nenvironments:\n  development:\n    members: {}\n");
    for (let i = 0; i < 40; i++) {
      writeFileSync(join(root, "actions", `a${i}.yaml`), `kind: action\nname: a${i}\nconnection: c\nmethod: GET\npath: /x/${i}\nheaders:\n  - { name: K, type: secret, secret: key_${i} }\n`);
    }
  }
  big = mkdtempSync(join(tmpdir(), "stellar-lsp-big-"));
  writeFileSync(join(big, "stellar.yaml"), "version: 1\nenvironments:\n  development:\n    members: {}\n");
  for (let t = 0; t < 25; t++) mkdirSync(join(big, "actions", `team${t}`), { recursive: true });
  for (let i = 0; i < BIG_PROJECT_FILES; i++) {
    writeFileSync(join(big, "actions", `team${i % 25}`, `a${i}.yaml`), `kind: action\nname: a${i}\nconnection: c\nmethod: GET\npath: /x/${i}\nheaders:\n  - { name: K, type: secret, secret: key_${i % 100} }\n`);
  }
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(big, { recursive: true, force: true });
});

interface Proc {
  conn: proto.ProtocolConnection;
  proc: ChildProcess;
  exited: Promise<number | null>;
  logs: string[];
}

function spawnServer(): Proc {
  const proc = spawn(process.execPath, [SERVER_BIN, "--stdio"], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, SOPS_AGE_KEY: "", SOPS_AGE_KEY_FILE: "", STELLAR_SECRETS_NO_INDEX_CACHE: "1" } });
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const conn = proto.createProtocolConnection(new proto.StreamMessageReader(proc.stdout!), new proto.StreamMessageWriter(proc.stdin!));
  const logs: string[] = [];
  conn.onNotification(proto.LogMessageNotification.type, (p) => logs.push(p.message));
  conn.onError(() => {});
  conn.listen();
  return { conn, proc, exited, logs };
}

const INIT = (folder = dir): proto.InitializeParams => ({ processId: null, rootUri: pathToFileURL(folder).href, workspaceFolders: null, capabilities: {} });

async function waitFor(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe("shutdown and exit during the initial index", () => {
  it("answers shutdown before the index of every project, stops the index there, and exits 0 on exit", async () => {
    const s = spawnServer();
    try {
      await s.conn.sendRequest(proto.InitializeRequest.type, INIT());
      await s.conn.sendNotification(proto.InitializedNotification.type, {});
      await s.conn.sendRequest(proto.ShutdownRequest.type);
      await s.conn.sendNotification(proto.ExitNotification.type);
      expect(await s.exited).toBe(0);
      // the index stopped at shutdown, before all 120 projects were loaded; it never said it indexed them
      const stopped = s.logs.map((l) => /the index stopped at shutdown \((\d+) project\(s\) indexed/.exec(l)).find((m) => m !== null);
      expect(s.logs.filter((l) => /indexed \d+ project\(s\) in/.test(l))).toEqual([]);
      expect(stopped, s.logs.join("\n")).toBeDefined();
      expect(Number(stopped![1])).toBeLessThan(PROJECTS);
    } finally {
      s.conn.dispose();
      if (s.proc.exitCode === null) s.proc.kill("SIGKILL");
    }
  });

  it("answers shutdown during the load of one project of thousands of config files, and stops that load", async () => {
    const s = spawnServer();
    try {
      await s.conn.sendRequest(proto.InitializeRequest.type, INIT(big));
      await s.conn.sendNotification(proto.InitializedNotification.type, {});
      // the project's load has begun: it opens the index cache first (off in this test, said once)
      await waitFor("the load of the project", () => s.logs.some((l) => l.includes("index cache: off")));
      await s.conn.sendRequest(proto.ShutdownRequest.type);
      await s.conn.sendNotification(proto.ExitNotification.type);
      expect(await s.exited).toBe(0);
      expect(s.logs.filter((l) => /indexed \d+ project\(s\) in/.test(l))).toEqual([]);
      expect(s.logs.some((l) => l.includes("the index stopped at shutdown (0 project(s) indexed")), s.logs.join("\n")).toBe(true);
      // a stopped load is no failure to report
      expect(s.logs.filter((l) => l.includes("loading the project of"))).toEqual([]);
    } finally {
      s.conn.dispose();
      if (s.proc.exitCode === null) s.proc.kill("SIGKILL");
    }
  });

  it("ends (1) on exit without shutdown while the index is being built, before it is built", async () => {
    const s = spawnServer();
    try {
      await s.conn.sendRequest(proto.InitializeRequest.type, INIT());
      await s.conn.sendNotification(proto.InitializedNotification.type, {});
      await s.conn.sendNotification(proto.ExitNotification.type);
      expect(await s.exited).toBe(1);
      expect(s.logs.filter((l) => /indexed \d+ project\(s\) in/.test(l))).toEqual([]);
    } finally {
      s.conn.dispose();
      if (s.proc.exitCode === null) s.proc.kill("SIGKILL");
    }
  });
});
