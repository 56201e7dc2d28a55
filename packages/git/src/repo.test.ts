import { describe, expect, it } from "vitest";
import { regularFilesOfTree } from "./repo.js";

/** A raw tree entry: `<octal mode> <name>\0<id bytes>`. */
const entry = (mode: string, name: string, idHex: string): Buffer => Buffer.concat([Buffer.from(`${mode} ${name}\0`, "utf8"), Buffer.from(idHex, "hex")]);

describe("regularFilesOfTree", () => {
  it("keeps regular files (any 100xxx mode, as git canonicalises it) and leaves out links, folders and submodules", () => {
    const a = "a".repeat(40);
    const b = "b".repeat(40);
    const c = "c".repeat(40);
    const tree = Buffer.concat([
      entry("100644", "development.enc.yaml", a),
      entry("100755", "run.enc.yaml", b),
      entry("100664", "old-git.enc.yaml", c),
      entry("120000", "link.enc.yaml", a),
      entry("40000", "deeper", b),
      entry("160000", "module", c),
      entry("100644", "é.enc.yaml", b),
    ]);
    expect(Object.fromEntries(regularFilesOfTree(tree, 20))).toEqual({ "development.enc.yaml": a, "run.enc.yaml": b, "old-git.enc.yaml": c, "é.enc.yaml": b });
  });

  it("reads SHA-256 ids and stops at a truncated entry", () => {
    const id = "d".repeat(64);
    const tree = Buffer.concat([entry("100644", "x.enc.yaml", id), Buffer.from("100644 cut")]);
    expect(Object.fromEntries(regularFilesOfTree(tree, 32))).toEqual({ "x.enc.yaml": id });
  });
});
