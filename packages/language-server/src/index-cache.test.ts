// The server's on-disk cache of config models (index-cache.ts): a second start takes the models
// of unchanged files from it and publishes what a cold start publishes; the setting, the
// environment variable and a missing build tag turn it off; a cache file others may write is not read.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { cacheFileName, defaultCacheDir, FIRST_WRITE_DELAY_MS, folderInRepository, IndexCache, NO_INDEX_CACHE_ENV, readCacheFile, writeCacheFile } from "./index-cache.js";
import { createTicketAction, HUBSPOT_CONNECTION } from "./test-support/fixtures.js";
import { makeTempProject, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";

const BUILD = "0badc0de";
const cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "stellar-ls-cache-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function project(): Promise<TempProject> {
  const p = await makeTempProject(
    { development: { hubspot_key: "TEST-ONLY-value", unused_one: "TEST-ONLY-unused" } },
    {
      "actions/ticket.yaml": createTicketAction("hubspot_key"),
      "actions/typo.yaml": createTicketAction("hubspot_kye").replace("name: create_ticket", "name: other_ticket"),
      "connections/hubspot.yaml": HUBSPOT_CONNECTION,
    },
  );
  cleanup.push(() => p.remove());
  return p;
}

/** Starts a server, waits for its first diagnostics, writes its pending caches, stops it; returns its log and what it published. */
async function startOnce(p: TempProject, options: { cacheDir: string; settings?: Record<string, unknown>; buildTag?: string }): Promise<{ logs: string[]; published: Map<string, unknown> }> {
  const server: InMemoryServer = await startInMemory({ folders: [p.dir], buildTag: options.buildTag ?? BUILD, indexCacheDir: options.cacheDir, ...(options.settings ? { settings: options.settings } : {}) });
  await server.state.checked;
  await server.waitForDiagnostics(p.uri("secrets/development.enc.yaml"), (d) => d.length > 0);
  server.state.workspace.indexCache?.flush();
  const result = { logs: server.logs.filter((l) => l.includes("index cache")), published: new Map(server.published) };
  await server.dispose();
  return result;
}

describe("the on-disk cache of config models", () => {
  it("a second start takes the unchanged files' models from it and publishes what the first one did", async () => {
    const p = await project();
    const cacheDir = tempDir();
    const first = await startOnce(p, { cacheDir });
    expect(first.logs).toEqual([expect.stringMatching(/index cache: 0 of 3 config models from .* \(no cache yet\)$/)]);
    const files = readdirSync(cacheDir);
    expect(files).toEqual([expect.stringMatching(/^models-[0-9a-f]{32}\.json$/)]);
    if (process.platform !== "win32") {
      expect(statSync(join(cacheDir, files[0]!)).mode & 0o777).toBe(0o600);
    }
    const second = await startOnce(p, { cacheDir });
    expect(second.logs).toEqual([expect.stringMatching(/index cache: 3 of 3 config models from /)]);
    expect(second.published).toEqual(first.published);
    // a changed file is parsed again, and its diagnostics are the new text's
    p.write("actions/typo.yaml", createTicketAction("hubspot_key").replace("name: create_ticket", "name: other_ticket"));
    const third = await startOnce(p, { cacheDir });
    expect(third.logs).toEqual([expect.stringMatching(/index cache: 2 of 3 config models from /)]);
    expect(first.published.get(p.uri("actions/typo.yaml"))).toEqual([expect.objectContaining({ code: "unknown-secret" })]);
    expect(third.published.get(p.uri("actions/typo.yaml")) ?? []).toEqual([]);
  });

  it("is written once soon after the first check, and what changed later only at exit (a write blocks the server: never after each pause in typing)", () => {
    vi.useFakeTimers();
    try {
      const root = tempDir();
      const cacheDir = join(tempDir(), "cache");
      const cache = new IndexCache({ build: BUILD, defaultDir: cacheDir });
      const project = cache.open(root);
      expect(project).toBeDefined();
      project!.loaded(0);
      project!.touch();
      project!.checked(() => []);
      vi.advanceTimersByTime(FIRST_WRITE_DELAY_MS + 10);
      const file = join(cacheDir, cacheFileName(realpathSync(root)));
      const first = statSync(file).mtimeMs;
      rmSync(file);
      // a change later: nothing written however long the server runs, then written at exit
      project!.touch();
      project!.checked(() => []);
      vi.advanceTimersByTime(60_000);
      expect(readdirSync(cacheDir).filter((f) => f.endsWith(".json"))).toEqual([]);
      cache.flush();
      expect(statSync(file).mtimeMs).toBeGreaterThanOrEqual(first);
    } finally {
      vi.useRealTimers();
    }
  });

  it("a cache of another build is not used (and is written again)", async () => {
    const p = await project();
    const cacheDir = tempDir();
    await startOnce(p, { cacheDir });
    const other = await startOnce(p, { cacheDir, buildTag: "12345678" });
    expect(other.logs).toEqual([expect.stringMatching(/index cache: 0 of 3 .*not used: another build/)]);
    const again = await startOnce(p, { cacheDir, buildTag: "12345678" });
    expect(again.logs).toEqual([expect.stringMatching(/index cache: 3 of 3 /)]);
  });

  it("a start with a broken stellar.yaml (no config files read) leaves the cache as it was", async () => {
    const p = await project();
    const cacheDir = tempDir();
    await startOnce(p, { cacheDir });
    const good = p.read("stellar.yaml");
    p.write("stellar.yaml", `${good}environments: [\n`);
    const broken = await startInMemory({ folders: [p.dir], buildTag: BUILD, indexCacheDir: cacheDir });
    await broken.state.checked;
    broken.state.workspace.indexCache?.flush();
    await broken.dispose();
    p.write("stellar.yaml", good);
    const again = await startOnce(p, { cacheDir });
    expect(again.logs).toEqual([expect.stringMatching(/index cache: 3 of 3 /)]);
  });

  it("is off with the stellarSecrets.indexCache setting false: nothing read or written", async () => {
    const p = await project();
    const cacheDir = tempDir();
    const off = await startOnce(p, { cacheDir, settings: { indexCache: false } });
    expect(off.logs).toEqual(["[stellar-secrets] index cache: off (the stellarSecrets.indexCache setting is false)"]);
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it(`is off with ${NO_INDEX_CACHE_ENV}=1, and for code without a build tag`, () => {
    const root = tempDir();
    expect(new IndexCache({ build: BUILD, env: { [NO_INDEX_CACHE_ENV]: "1" }, defaultDir: tempDir() }).open(root)).toBeUndefined();
    expect(new IndexCache({ build: undefined, env: {}, defaultDir: tempDir() }).open(root)).toBeUndefined();
    expect(new IndexCache({ build: BUILD, env: {}, defaultDir: tempDir() }).open(root)).toBeDefined();
    const disabled = new IndexCache({ build: BUILD, env: {}, defaultDir: tempDir() });
    disabled.enabledFor = () => false;
    expect(disabled.open(root)).toBeUndefined();
  });

  it("reads no cache file that another user may write, that is a symbolic link or that is not a file", () => {
    const dir = tempDir();
    const file = join(dir, cacheFileName("/some/root"));
    writeCacheFile(dir, file, () => "text");
    expect(readCacheFile(file)).toEqual({ text: "text" });
    expect(readdirSync(dir)).toEqual([cacheFileName("/some/root")]); // no temp file left
    if (process.platform !== "win32") {
      chmodSync(file, 0o666);
      expect(readCacheFile(file).why).toBe("writable by other users");
      chmodSync(file, 0o600);
      const link = join(dir, "link.json");
      symlinkSync(file, link);
      expect(readCacheFile(link).text).toBeUndefined();
    }
    expect(readCacheFile(dir).text).toBeUndefined();
    expect(readCacheFile(join(dir, "missing.json")).why).toBe("none");
  });

  it("reads no cache from a folder that others may write or that is a symbolic link (as it writes none there)", async () => {
    if (process.platform === "win32") return;
    const p = await project();
    const parent = tempDir();
    const cacheDir = join(parent, "cache");
    await startOnce(p, { cacheDir });
    chmodSync(cacheDir, 0o777);
    const open = await startOnce(p, { cacheDir });
    expect(open.logs[0]).toMatch(/index cache: 0 of 3 .*not used: its folder .* is writable by other users/);
    chmodSync(cacheDir, 0o700);
    const link = join(parent, "link");
    symlinkSync(cacheDir, link);
    const linked = await startOnce(p, { cacheDir: link });
    expect(linked.logs[0]).toMatch(/index cache: 0 of 3 .*not used: its folder .* is not a folder/);
    expect((await startOnce(p, { cacheDir })).logs[0]).toMatch(/index cache: 3 of 3 /);
  });

  it("is off when its folder is inside the repository (a cache committed there would be trusted): nothing read or written", async () => {
    const p = await project();
    const inside = await startOnce(p, { cacheDir: join(p.dir, ".cache", "stellar-secrets") });
    expect(inside.logs).toEqual([expect.stringMatching(/index cache: off \(the cache folder .* is inside the repository /)]);
    expect(readdirSync(p.dir)).not.toContain(".cache");
    // the repository is the nearest folder above the project that holds .git; a folder reached through a link counts where it is
    const base = tempDir();
    mkdirSync(join(base, ".git"));
    mkdirSync(join(base, "project"));
    mkdirSync(join(base, "tools"));
    const real = realpathSync(base);
    expect(folderInRepository(join(base, "tools", "cache"), join(real, "project"))).toBe(real);
    const outside = tempDir();
    symlinkSync(join(base, "tools"), join(outside, "link"));
    expect(folderInRepository(join(outside, "link", "cache"), join(real, "project"))).toBe(real);
    expect(folderInRepository(join(outside, "cache"), join(real, "project"))).toBeUndefined();
    expect(folderInRepository(join(outside, "cache"), realpathSync(outside) + "-other")).toBeUndefined();
  });

  it("reads no cache file that is a FIFO, and does not wait for a writer to open it (a start would hang)", async () => {
    if (process.platform === "win32") return;
    const dir = tempDir();
    const fifo = join(dir, cacheFileName("/some/root"));
    execFileSync("mkfifo", [fifo]);
    // a second later, another process asks whether a reader is still waiting on the FIFO (a writer's
    // non-blocking open succeeds only then), which also frees a reader that is
    const probe = spawn(process.execPath, ["-e", `setTimeout(() => { try { require("node:fs").openSync(process.argv[1], require("node:fs").constants.O_WRONLY | require("node:fs").constants.O_NONBLOCK); console.log("reader waiting"); } catch (e) { console.log(e.code); } }, 1000)`, fifo]);
    let out = "";
    probe.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise((resolve) => probe.once("exit", resolve));
    expect(readCacheFile(fifo)).toEqual({ why: "not a regular file" });
    await exited;
    expect(out.trim()).toBe("ENXIO");
  });

  it("removes the temp files that writers killed while writing left, and not those of a writer that runs", () => {
    const dir = tempDir();
    const file = join(dir, cacheFileName("/some/root"));
    const gone = spawnSync(process.execPath, ["-e", ""]).pid!;
    const stale = `${cacheFileName("/some/root")}.${gone}.0123456789abcdef.tmp`;
    const running = `${cacheFileName("/some/root")}.${process.ppid}.0123456789abcdef.tmp`;
    const other = `${cacheFileName("/other/root")}.${gone}.0123456789abcdef.tmp`;
    for (const name of [stale, running, other, "unrelated.tmp"]) writeFileSync(join(dir, name), "partial", { mode: 0o600 });
    writeCacheFile(dir, file, () => "text");
    expect(readdirSync(dir).sort()).toEqual([cacheFileName("/some/root"), running, other, "unrelated.tmp"].sort());
  });

  it("creates its folder 0700, and writes nowhere when the folder is writable by others", () => {
    if (process.platform === "win32") return;
    const parent = tempDir();
    const dir = join(parent, "stellar-secrets");
    writeCacheFile(dir, join(dir, "a.json"), () => "a");
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    chmodSync(dir, 0o777);
    const logs: string[] = [];
    writeCacheFile(dir, join(dir, "b.json"), () => "b", (m) => logs.push(m));
    expect(readdirSync(dir)).toEqual(["a.json"]);
    expect(logs).toEqual([expect.stringContaining("writable by other users")]);
  });

  it("lives in the user's cache folder, never in the repository", () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: "/x/cache", HOME: "/home/u" }, "linux")).toBe(join("/x/cache", "stellar-secrets"));
    expect(defaultCacheDir({ HOME: "/home/u" }, "linux")).toBe(join("/home/u", ".cache", "stellar-secrets"));
    expect(defaultCacheDir({ XDG_CACHE_HOME: "relative", HOME: "/home/u" }, "darwin")).toBe(join("/home/u", ".cache", "stellar-secrets"));
    expect(defaultCacheDir({ LOCALAPPDATA: "C:\\Users\\u\\AppData\\Local" }, "win32")).toBe("C:\\Users\\u\\AppData\\Local\\stellar-secrets");
    expect(cacheFileName("/a")).not.toBe(cacheFileName("/b"));
  });
});
