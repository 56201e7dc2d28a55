import { describe, expect, it } from "vitest";
import { classifyPath, loadWorkspace } from "./load.js";
import { parseProjectConfig } from "./project.js";
import { treeFs } from "./review/state.js";

const STELLAR = "version: 1\nenvironments:\n  development:\n    members: {}\n";
const ACTION = (name: string, secret: string): string =>
  `kind: action\nname: ${name}\nconnection: c\nmethod: GET\npath: /x\nheaders:\n  - { name: X-Key, type: secret, secret: ${secret} }\n`;

describe("classifyPath", () => {
  const project = parseProjectConfig(STELLAR, "/repo/stellar.yaml").config!;

  it("ignores node_modules at any depth and the top .git folder, and nothing that only looks like them", () => {
    for (const p of ["node_modules/a.yaml", "x/node_modules/a.yaml", "x/y/node_modules/z/a.yaml", ".git/config.yaml"]) {
      expect(classifyPath(project, p).role, p).toBe("ignored");
    }
    for (const p of ["node_modules_x/a.yaml", "x/my_node_modules/a.yaml", "x/node_modulesy/a.yaml", ".github/a.yaml", "x/.git/a.yaml"]) {
      expect(classifyPath(project, p).role, p).toBe("config");
    }
  });

  it("tells the secrets folder from a folder whose name only starts like it", () => {
    expect(classifyPath(project, "secrets/development.enc.yaml")).toEqual({ role: "environment", environment: "development" });
    expect(classifyPath(project, "secrets/catalog.yaml").role).toBe("catalog");
    expect(classifyPath(project, "secrets2/development.enc.yaml").role).toBe("config");
    expect(classifyPath(project, "secrets.yaml").role).toBe("config");
    const slash = { ...project, secretsDir: "vault/" };
    expect(classifyPath(slash, "vault/catalog.yaml").role).toBe("catalog");
    expect(classifyPath(slash, "vaultx/catalog.yaml").role).toBe("config");
  });
});

describe("loadWorkspace", () => {
  it("reads the same files from a root given as a relative path (atRoot) as from a normal absolute one", () => {
    const files = new Map([
      ["stellar.yaml", STELLAR],
      ["agents/a/one.yaml", ACTION("one", "k1")],
      ["agents/b/two.yaml", ACTION("two", "k2")],
    ]);
    const load = (root: string) => {
      const { index, skipped } = loadWorkspace(root, { atRoot: true, fs: treeFs(root, new Set(files.keys()), (rel) => files.get(rel)) });
      return { files: [...index.configFiles.keys()], refs: index.allReferences().map((r) => r.secret), skipped };
    };
    const absolute = load("/some/repo");
    expect(absolute).toEqual({ files: ["agents/a/one.yaml", "agents/b/two.yaml"], refs: ["k1", "k2"], skipped: [] });
    expect(load("some/repo")).toEqual(absolute);
    expect(load("/some/repo/")).toEqual(absolute);
    expect(load("/some/./repo")).toEqual(absolute);
  });
});
