import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ProjectModel } from "./model.js";
import { findConfigFiles, pathUnderRoots, Workspace, type TextSource } from "./workspace.js";

describe("Workspace.loadFolders: the folders listed while finding the projects", () => {
  const dir = mkdtempSync(join(tmpdir(), "stellar-ls-listing-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "agents"));
  writeFileSync(join(dir, "stellar.yaml"), "version: 1\n");
  writeFileSync(join(dir, "agents", "a.yaml"), "kind: agent\n");

  it("are handed to the load that follows, each once, and forgotten when the loads end", async () => {
    const taken: [string, string[] | undefined][] = [];
    const workspace = new Workspace(async (configPath: string, source: TextSource) => {
      for (const p of [dir, dir]) taken.push([p, source.takeListing?.(p)?.map((e) => e.name).sort()]);
      return { root: dir, configPath } as unknown as ProjectModel;
    });
    await workspace.loadFolders([{ path: dir }]);
    expect(taken).toEqual([
      [dir, ["agents", "stellar.yaml"]],
      [dir, undefined], // once
    ]);
    // after the loads: what was not taken is not kept (a later load lists the disk again)
    expect(workspace.takeListing(join(dir, "agents"))).toBeUndefined();
  });
});

describe("pathUnderRoots: the same place named under a root", () => {
  const dir = mkdtempSync(join(tmpdir(), "stellar-ls-roots-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, "repo");
  mkdirSync(join(root, "actions"), { recursive: true });
  writeFileSync(join(root, "actions", "a.yaml"), "kind: action\n");
  symlinkSync(root, join(dir, "link"));
  symlinkSync(join(root, "actions"), join(dir, "actions-link"));

  it("names a file reached through a symbolic link under the root it is in, a file not yet on disk too", () => {
    expect(pathUnderRoots(join(dir, "link", "actions", "a.yaml"), [root])).toBe(join(root, "actions", "a.yaml"));
    expect(pathUnderRoots(join(dir, "actions-link", "a.yaml"), [root])).toBe(join(root, "actions", "a.yaml"));
    expect(pathUnderRoots(join(dir, "link", "actions", "new", "b.yaml"), [root])).toBe(join(root, "actions", "new", "b.yaml"));
    expect(pathUnderRoots(join(dir, "link"), [root])).toBe(root);
  });

  it("leaves a path under a root, reaching no root, or with no roots at all as it is", () => {
    expect(pathUnderRoots(join(root, "actions", "a.yaml"), [root])).toBe(join(root, "actions", "a.yaml"));
    expect(pathUnderRoots(join(dir, "elsewhere", "a.yaml"), [root])).toBe(join(dir, "elsewhere", "a.yaml"));
    expect(pathUnderRoots(join(dir, "link", "actions", "a.yaml"), [])).toBe(join(dir, "link", "actions", "a.yaml"));
    expect(pathUnderRoots("/nonexistent-stellar-root/a.yaml", [root, "/nonexistent-stellar-root-2"])).toBe("/nonexistent-stellar-root/a.yaml");
  });
});

describe("findConfigFiles: the walk of a workspace folder", () => {
  const dir = mkdtempSync(join(tmpdir(), "stellar-ls-walk-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "a", "b", "c"), { recursive: true });
  mkdirSync(join(dir, "x", "node_modules", "y"), { recursive: true });
  writeFileSync(join(dir, "a", "b", "stellar.yaml"), "version: 1\n");
  writeFileSync(join(dir, "x", "node_modules", "y", "stellar.yaml"), "version: 1\n");

  it("lets the messages that came meanwhile through once it has walked for its slice (a home folder or / as the workspace: shutdown was answered only after the walk)", async () => {
    // a slice of 0 ms: it lets them through at every folder; what was queued before the walk runs before it ends
    let queuedRan = false;
    setImmediate(() => (queuedRan = true));
    const found = await findConfigFiles(dir, 6, undefined, 0);
    expect(queuedRan).toBe(true);
    expect(found).toEqual([join(dir, "a", "b", "stellar.yaml")]);
  });
});
