import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ProjectModel } from "./model.js";
import { Workspace, type TextSource } from "./workspace.js";

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
