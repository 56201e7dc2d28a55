import { describe, expect, it } from "vitest";
import { classifyHook, hookScript, mergeHookScript } from "./git.js";

const CLI = "/usr/bin/node /opt/stellar/bin/stellar-secrets.js";

describe("classifyHook", () => {
  it("knows its own scripts, for this CLI or another path of it", () => {
    expect(classifyHook(undefined, hookScript)).toBe("none");
    expect(classifyHook(hookScript(CLI), hookScript)).toBe("ours");
    expect(classifyHook(hookScript("'/old place/node' /old/stellar-secrets.js"), hookScript)).toBe("ours");
    expect(classifyHook(mergeHookScript(CLI), mergeHookScript)).toBe("ours");
    // the other hook's script is not this hook's
    expect(classifyHook(mergeHookScript(CLI), hookScript)).toBe("runs-us");
  });

  it("never takes a hook of ours that someone edited since for its own (setup would drop their lines)", () => {
    const edited = `${hookScript(CLI)}npm run lint\n`;
    expect(classifyHook(edited, hookScript)).toBe("runs-us");
    const inserted = hookScript(CLI).replace("exec ", "npm test || exit 1\nexec ");
    expect(classifyHook(inserted, hookScript)).toBe("runs-us");
    const without = hookScript(CLI).replace(/exec .*\n$/, "npm run lint\n");
    expect(classifyHook(without, hookScript)).toBe("foreign");
  });

  it("counts a foreign hook that runs the check (the line setup prints), not one that only mentions it", () => {
    expect(classifyHook(`#!/bin/sh\nnpm run lint\n${CLI} pre-commit || exit 1\n`, hookScript)).toBe("runs-us");
    expect(classifyHook("#!/bin/sh\nnpx stellar-secrets pre-commit\n", hookScript)).toBe("runs-us");
    expect(classifyHook("#!/bin/sh\n# TODO: stellar-secrets pre-commit\nexit 0\n", hookScript)).toBe("foreign");
    expect(classifyHook("#!/bin/sh\nexec pre-commit run\n", hookScript)).toBe("foreign");
    expect(classifyHook("#!/bin/sh\nstellar-secrets pre-commit-x\n", hookScript)).toBe("foreign");
  });
});
