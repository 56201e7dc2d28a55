/**
 * Stable ciphertext, seen the way a reviewer sees it: in a real git repository, `git diff` after
 * an edit shows only the changed secret's line plus `mac` (and `lastmodified` when the second
 * changed); adding a secret shows only the new line; updatekeys leaves values, mac and
 * lastmodified alone; rotate changes every value.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSecretsFile, editSecretsFile, rotateFile, updateKeysFile } from "../packages/sops/src/index.js";
import { tempDir, testKey } from "../packages/sops/test-fixtures/support.js";

const alice = testKey("alice");
const bob = testKey("bob");

let dir = "";
let cleanup = () => {};
let file = "";

function git(...args: string[]): string {
  return execFileSync("git", ["-c", "user.email=test@example.invalid", "-c", "user.name=Test", "-c", "commit.gpgsign=false", ...args], {
    cwd: dir,
    encoding: "utf8",
  });
}

/** Changed lines of the working tree vs HEAD: removed and added, without the diff headers. */
function diffLines(): { removed: string[]; added: string[] } {
  const out = git("diff", "--unified=0", "--no-color", "--", "secrets/production.enc.yaml");
  const lines = out.split("\n").filter((l) => !l.startsWith("---") && !l.startsWith("+++"));
  return {
    removed: lines.filter((l) => l.startsWith("-")).map((l) => l.slice(1)),
    added: lines.filter((l) => l.startsWith("+")).map((l) => l.slice(1)),
  };
}
/** The YAML key a line belongs to (top-level name, or sops field). */
const keyOf = (l: string) => l.trim().split(":")[0]!.replace(/^- /, "");

beforeEach(async () => {
  ({ dir, cleanup } = tempDir("sops-git-"));
  git("init", "-q", "-b", "main");
  file = join(dir, "secrets/production.enc.yaml");
  await createSecretsFile(
    file,
    [alice.recipient],
    new Map(Array.from({ length: 20 }, (_, i) => [`SECRET_${String(i).padStart(2, "0")}`, `value-${i}`] as [string, string])),
  );
  git("add", ".");
  git("commit", "-q", "-m", "initial");
});
afterEach(() => cleanup());

describe("git diff after writes through editSecretsFile", () => {
  it("changing one value touches exactly that secret's line plus mac (and lastmodified)", async () => {
    await editSecretsFile(file, [alice.identity], (v) => {
      v.set("SECRET_07", "a new value");
    });
    const { removed, added } = diffLines();
    const allowed = new Set(["SECRET_07", "mac", "lastmodified"]);
    expect(removed.map(keyOf).every((k) => allowed.has(k)), removed.map(keyOf).join(",")).toBe(true);
    expect(added.map(keyOf).every((k) => allowed.has(k)), added.map(keyOf).join(",")).toBe(true);
    expect(removed.map(keyOf)).toContain("SECRET_07");
    expect(removed.map(keyOf)).toContain("mac");
    expect(added.map(keyOf)).toContain("SECRET_07");
    expect(added.map(keyOf)).toContain("mac");
    expect(removed.length).toBe(added.length);
    expect(added.length).toBeLessThanOrEqual(3);
  });

  it("adding one secret adds only its line, plus the mac (and lastmodified) change", async () => {
    await editSecretsFile(file, [alice.identity], (v) => {
      v.set("NEW_SECRET", "fresh");
    });
    const { removed, added } = diffLines();
    expect(removed.map(keyOf).sort()).toEqual(removed.length === 2 ? ["lastmodified", "mac"] : ["mac"]);
    expect(added.map(keyOf).sort()).toEqual(added.length === 3 ? ["NEW_SECRET", "lastmodified", "mac"] : ["NEW_SECRET", "mac"]);
  });

  it("removing one secret removes only its line, plus the mac (and lastmodified) change", async () => {
    await editSecretsFile(file, [alice.identity], (v) => {
      v.delete("SECRET_03");
    });
    const { removed, added } = diffLines();
    expect(removed.map(keyOf)).toContain("SECRET_03");
    expect(removed.map(keyOf).filter((k) => k !== "SECRET_03").every((k) => k === "mac" || k === "lastmodified")).toBe(true);
    expect(added.map(keyOf).every((k) => k === "mac" || k === "lastmodified")).toBe(true);
  });

  it("an edit that changes nothing touches no value line", async () => {
    await editSecretsFile(file, [alice.identity], () => {});
    const { removed, added } = diffLines();
    expect([...removed, ...added].map(keyOf).every((k) => k === "mac" || k === "lastmodified")).toBe(true);
  });

  it("updatekeys keeps every value line, mac and lastmodified; only the age block changes", async () => {
    const before = readFileSync(file, "utf8");
    await updateKeysFile(file, [alice.identity], [alice.recipient, bob.recipient]);
    const after = readFileSync(file, "utf8");
    const { removed, added } = diffLines();
    const sopsKeys = new Set(["recipient", "enc", "mac", "lastmodified"]);
    // value lines and mac/lastmodified are untouched
    for (const l of [...removed, ...added]) expect(l.startsWith("SECRET_"), l.slice(0, 12)).toBe(false);
    expect(/^ {4}mac: .*$/m.exec(after)![0]).toBe(/^ {4}mac: .*$/m.exec(before)![0]);
    expect(/^ {4}lastmodified: .*$/m.exec(after)![0]).toBe(/^ {4}lastmodified: .*$/m.exec(before)![0]);
    expect(added.some((l) => l.includes(bob.recipient))).toBe(true);
    for (const l of added) expect(sopsKeys.has(keyOf(l)) || /^\s+([A-Za-z0-9+/=]+|-----(BEGIN|END) AGE ENCRYPTED FILE-----)$/.test(l), l.slice(0, 20)).toBe(true);
  });

  it("rotate changes every value line", async () => {
    await rotateFile(file, [alice.identity]);
    const { removed, added } = diffLines();
    const changed = new Set(added.map(keyOf).filter((k) => k.startsWith("SECRET_")));
    expect(changed.size).toBe(20);
    expect(new Set(removed.map(keyOf).filter((k) => k.startsWith("SECRET_"))).size).toBe(20);
  });
});
