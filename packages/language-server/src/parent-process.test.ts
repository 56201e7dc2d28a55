import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { isProcessAlive, isProcessId, takeClientProcessId, watchParent } from "./parent-process.js";

/** A `kill` that fails with `code` (as `process.kill` does), or succeeds when `code` is undefined. */
const killFailingWith = (code: string | undefined) => (): true => {
  if (code === undefined) return true;
  throw Object.assign(new Error(`kill ${code}`), { code });
};

/** The pid of a process that has already ended (a `node -e 0`, waited for). */
function goneProcessId(): number {
  const r = spawnSync(process.execPath, ["-e", "0"]);
  expect(r.status).toBe(0);
  return r.pid;
}

describe("whether the client's process is alive", () => {
  it("EPERM (a process of another user) is alive, ESRCH (no such process) is dead, any other failure is alive", () => {
    expect(isProcessAlive(4242, killFailingWith("EPERM"))).toBe(true);
    expect(isProcessAlive(4242, killFailingWith("ESRCH"))).toBe(false);
    expect(isProcessAlive(4242, killFailingWith(undefined))).toBe(true);
    expect(isProcessAlive(4242, killFailingWith("EINVAL"))).toBe(true);
    expect(
      isProcessAlive(4242, () => {
        throw null; // a kill that throws something odd: still alive
      }),
    ).toBe(true);
  });

  it("with the real process.kill: this process is alive, one that ended is not", () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(goneProcessId())).toBe(false);
  });

  it("only a positive safe integer names a process", () => {
    expect([1, 4242, 0, -1, 1.5, Number.NaN, 2 ** 60, "42", null].map(isProcessId)).toEqual([true, true, false, false, false, false, false, false, false]);
  });
});

describe("--clientProcessId taken out of the command line", () => {
  it("both spellings, removed in place; the other arguments kept in order", () => {
    const argv = ["node", "server.js", "--stdio", "--clientProcessId=123", "--x"];
    expect(takeClientProcessId(argv)).toBe(123);
    expect(argv).toEqual(["node", "server.js", "--stdio", "--x"]);
    const spaced = ["node", "server.js", "--clientProcessId", "77", "--node-ipc"];
    expect(takeClientProcessId(spaced)).toBe(77);
    expect(spaced).toEqual(["node", "server.js", "--node-ipc"]);
  });

  it("a missing or bad value: the argument removed, no pid, and a following option is not taken as its value", () => {
    for (const [args, rest] of [
      [["--clientProcessId", "--stdio"], ["--stdio"]],
      [["--stdio", "--clientProcessId"], ["--stdio"]],
      [["--clientProcessId=abc", "--stdio"], ["--stdio"]],
      [["--clientProcessId=0", "--stdio"], ["--stdio"]],
      [["--clientProcessId=-5", "--stdio"], ["--stdio"]],
    ] as const) {
      const argv = [...args];
      expect([args, takeClientProcessId(argv), argv]).toEqual([args, undefined, rest]);
    }
    const none = ["--stdio"];
    expect(takeClientProcessId(none)).toBeUndefined();
    expect(none).toEqual(["--stdio"]);
  });
});

describe("the watch over the client's process", () => {
  it("calls onGone once, the first check the process is gone, and then stops checking", async () => {
    const answers = [true, true, false, false];
    let checks = 0;
    let gone = 0;
    watchParent(
      9,
      () => gone++,
      {
        intervalMs: 5,
        isAlive: (pid) => {
          expect(pid).toBe(9);
          return answers[checks++] ?? false;
        },
      },
    );
    await new Promise((r) => setTimeout(r, 100));
    expect([checks, gone]).toEqual([3, 1]);
  });

  it("checks at once: a process already gone is reported before watchParent returns", () => {
    let gone = 0;
    watchParent(goneProcessId(), () => gone++);
    expect(gone).toBe(1);
  });

  it("never reports a live process, nor after dispose", async () => {
    let gone = 0;
    let alive = true;
    const watch = watchParent(process.pid, () => gone++, { intervalMs: 5, isAlive: () => alive });
    await new Promise((r) => setTimeout(r, 30));
    watch.dispose();
    alive = false;
    await new Promise((r) => setTimeout(r, 30));
    expect(gone).toBe(0);
  });
});
