import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadWorkspace } from "./load.js";
import { nodeWorkspaceFs, type WorkspaceFs } from "./workspace-fs.js";

const dir = mkdtempSync(join(tmpdir(), "workspace-fs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const readListed = nodeWorkspaceFs.readListedFile as (p: string) => string;

describe("nodeWorkspaceFs.readListedFile", () => {
  it("decodes every file exactly as readFile does", () => {
    const contents: Record<string, Buffer> = {
      bom: Buffer.from("\ufeffkind: agent\n"),
      invalid: Buffer.from([0x6b, 0xff, 0xfe, 0x0a, 0xc3, 0x28, 0xe2, 0x82]),
      nul: Buffer.from("a\0b\n"),
      crlf: Buffer.from("a: b\r\nc: d\r\n"),
      wide: Buffer.from("name: \u{1f600} \u00e9\n"),
      large: Buffer.alloc(300_000, 0x61),
    };
    for (const [name, bytes] of Object.entries(contents)) {
      writeFileSync(join(dir, name), bytes);
      expect(readListed(join(dir, name)), name).toBe(nodeWorkspaceFs.readFile(join(dir, name)));
    }
  });

  it("throws, leaving the answer to readFile, for an empty file, a symbolic link, a folder and a FIFO", () => {
    writeFileSync(join(dir, "empty"), "");
    writeFileSync(join(dir, "target"), "kind: agent\n");
    symlinkSync(join(dir, "target"), join(dir, "link"));
    mkdirSync(join(dir, "folder"));
    for (const name of ["empty", "link", "folder", "missing"]) expect(() => readListed(join(dir, name)), name).toThrow();
    if (process.platform !== "win32") {
      execFileSync("mkfifo", [join(dir, "fifo")]);
      expect(() => readListed(join(dir, "fifo"))).toThrow(); // no writer: nothing read, never a hang
      expect(() => nodeWorkspaceFs.readFile(join(dir, "fifo"))).toThrow(/regular file/);
    }
  });
});

describe("loadWorkspace with readListedFile", () => {
  it("loads the same index as readFile alone, links, empty and invalid files included", () => {
    const root = join(dir, "repo");
    mkdirSync(join(root, "agents"), { recursive: true });
    writeFileSync(join(root, "stellar.yaml"), "version: 1\nenvironments:\n  development:\n    members: {}\n");
    writeFileSync(join(root, "agents", "a.yaml"), "kind: action\nname: a\nmethod: GET\npath: /a\nheaders:\n  - { name: K, type: secret, secret: k }\n");
    writeFileSync(join(root, "agents", "empty.yaml"), "");
    writeFileSync(join(root, "agents", "invalid.yaml"), Buffer.concat([Buffer.from("kind: action\nname: "), Buffer.from([0xff]), Buffer.from("\n")]));
    writeFileSync(join(root, "real.yaml"), "kind: agent\nname: b\nactions: [a]\n");
    symlinkSync(join(root, "real.yaml"), join(root, "agents", "linked.yaml"));
    const plain: WorkspaceFs = { ...nodeWorkspaceFs, readListedFile: undefined };
    const summary = (fs: WorkspaceFs) => {
      const { index, skipped } = loadWorkspace(root, { fs });
      return { files: [...index.configFiles.values()].map((f) => ({ path: f.path, documents: f.documents.length, diagnostics: f.diagnostics.map((d) => d.message) })), skipped };
    };
    const fast = summary(nodeWorkspaceFs);
    expect(fast).toEqual(summary(plain));
    // (a link to a config file read under its own path is skipped: its objects once, checker session 5)
    expect(fast.files.map((f) => f.path)).toEqual(["agents/a.yaml", "agents/invalid.yaml", "real.yaml"]);
    expect(fast.skipped).toEqual([{ path: "agents/linked.yaml", reason: "symbolic link to real.yaml, which is read as a config file under its own path" }]);
    expect(fast.files[1]?.diagnostics.join()).toMatch(/not valid UTF-8/);
  });
});

describe("loadWorkspace and an environment file that is a link", () => {
  it("refuses production's file when it is a link to development's (every reader of production would get development's values), and reads a link to the environment's own file", () => {
    const root = join(dir, "linked-env");
    mkdirSync(join(root, "secrets"), { recursive: true });
    mkdirSync(join(root, "shared"), { recursive: true });
    writeFileSync(join(root, "stellar.yaml"), "version: 1\nenvironments:\n  development:\n    members: {}\n  staging:\n    members: {}\n  production:\n    members: {}\n");
    // (not a valid sops file: only how the link is classified matters here)
    writeFileSync(join(root, "secrets", "development.enc.yaml"), "a: b\n");
    writeFileSync(join(root, "shared", "staging.enc.yaml"), "a: b\n");
    symlinkSync(join(root, "secrets", "development.enc.yaml"), join(root, "secrets", "production.enc.yaml"));
    symlinkSync(join(root, "shared", "staging.enc.yaml"), join(root, "secrets", "staging.enc.yaml"));
    const { index } = loadWorkspace(root);
    const production = index.environmentFiles.get("production");
    expect(production?.readable).toBe(false);
    expect(production?.diagnostics.map((d) => [d.rule, d.severity])).toEqual([["unencrypted-secrets-file", "error"]]);
    expect(production?.diagnostics[0]?.message).toContain('is a symbolic link to development.enc.yaml, the file of environment "development"');
    // the fix never offers `git checkout -- FILE` alone: with the link committed it brings the link back
    expect(production?.diagnostics[0]?.message).toContain("remove the link, then restore the file from a commit before it became a link (`git log -- secrets/production.enc.yaml` lists them");
    expect(production?.diagnostics[0]?.message).not.toContain("if git has it");
    // a link to staging's own file elsewhere in the repository is read as staging's file
    expect(index.environmentFiles.get("staging")?.diagnostics.map((d) => d.message).join("\n")).not.toMatch(/symbolic link/);
  });
});
