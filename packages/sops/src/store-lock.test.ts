/**
 * Locks that name a process which is not their holder (issue 12 item 2): a pid reused by an
 * unrelated live process, a holder on another host that stopped refreshing, and what a waiter is
 * told when a live holder keeps the lock.
 */
import { existsSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SopsError } from "./errors.js";
import { LOCK_REFRESH_MS, LOCK_STALE_MS, lockIsStale, processStartTime, readLock, withFileLock } from "./store.js";
import { tempDir } from "../test-fixtures/support.js";

let dir = "";
let cleanup = () => {};
beforeEach(() => {
  ({ dir, cleanup } = tempDir("sops-lock-"));
});
afterEach(() => cleanup());

/** Writes `path.lock` by hand, as a holder (or a crash, or another host) would have left it. */
function leaveLock(path: string, lines: string[], ageMs = 0): string {
  const lock = `${path}.lock`;
  writeFileSync(lock, `${lines.join("\n")}\n`);
  const t = new Date(Date.now() - ageMs);
  utimesSync(lock, t, t);
  return lock;
}

async function lockError(path: string): Promise<SopsError> {
  try {
    await withFileLock(path, async () => undefined, { timeoutMs: 300 });
  } catch (e) {
    expect(e).toBeInstanceOf(SopsError);
    return e as SopsError;
  }
  throw new Error("the lock was taken");
}

describe("withFileLock and the holder a lock names", () => {
  it("records pid, host and the process start time", async () => {
    const path = join(dir, "f.yaml");
    await withFileLock(path, async () => {
      const info = await readLock(`${path}.lock`);
      expect(info).toMatchObject({ pid: process.pid, host: hostname(), started: processStartTime(process.pid) });
    });
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it.runIf(existsSync("/proc/self/stat"))("takes over a lock whose pid now belongs to another live process (pid reuse)", async () => {
    const path = join(dir, "f.yaml");
    // the parent process is alive, but it did not take this lock: its start time differs
    leaveLock(path, [String(process.ppid), hostname(), "1"]);
    let ran = false;
    await withFileLock(path, async () => {
      ran = true;
    }, { timeoutMs: 2_000 });
    expect(ran).toBe(true);
  });

  it("takes over a lock from another host (or without a start time) that was not refreshed", async () => {
    const path = join(dir, "f.yaml");
    leaveLock(path, ["4242", "some-other-host"], LOCK_STALE_MS + 5_000);
    await withFileLock(path, async () => undefined, { timeoutMs: 2_000 });
    leaveLock(path, [String(process.ppid), hostname()], LOCK_STALE_MS + 5_000);
    await withFileLock(path, async () => undefined, { timeoutMs: 2_000 });
  });

  it("waits for a refreshed lock of another host, then says who holds it and how to clear it", async () => {
    const path = join(dir, "f.yaml");
    const lock = leaveLock(path, ["4242", "some-other-host"]);
    const e = await lockError(path);
    expect(e.code).toBe("LOCK_TIMEOUT");
    expect(e.message).toContain("pid 4242 on host some-other-host");
    expect(e.hint).toContain(lock);
    expect(existsSync(lock)).toBe(true);
  });

  it("a live holder on this host with its own start time keeps the lock however old", async () => {
    const path = join(dir, "f.yaml");
    const lock = leaveLock(path, [String(process.pid), hostname(), processStartTime(process.pid)], LOCK_STALE_MS * 3);
    const e = await lockError(path);
    expect(e.code).toBe("LOCK_TIMEOUT");
    expect(e.message).toContain(`pid ${process.pid} on this host`);
    expect(e.hint).toContain(`ps -p ${process.pid}`);
    expect(existsSync(lock)).toBe(true);
  });
});

describe("a holder shows it is alive", () => {
  it("touches its lock while it holds it, so that other hosts do not expire it", async () => {
    const path = join(dir, "f.yaml");
    await withFileLock(path, async () => {
      const lock = `${path}.lock`;
      const old = new Date(Date.now() - 60_000);
      utimesSync(lock, old, old);
      await new Promise((r) => setTimeout(r, LOCK_REFRESH_MS + 300));
      expect(Date.now() - (await readLock(lock))!.refreshedAt).toBeLessThan(LOCK_STALE_MS);
    });
  });
});

describe("lockIsStale", () => {
  const now = 1_000_000_000;
  it("expires a lock of another host only once it is not refreshed", () => {
    expect(lockIsStale({ pid: 1, host: "elsewhere", started: "5", refreshedAt: now - 1_000 }, now, "here")).toBe(false);
    expect(lockIsStale({ pid: 1, host: "elsewhere", started: "5", refreshedAt: now - LOCK_STALE_MS - 1 }, now, "here")).toBe(true);
  });
});
