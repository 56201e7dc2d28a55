/**
 * Bad input is diagnostics, never a crash or a silent skip (issue 12, items 3 and 5): nesting
 * thousands of levels deep in any YAML core reads, config files over the size limit or not UTF-8,
 * a stellar.yaml that is not UTF-8, and `config.include` globs that leave the repository.
 */
import { describe, expect, it } from "vitest";
import { memoryFs } from "./test-support/memory-fs.js";
import { parseCatalog } from "./catalog.js";
import { checkWorkspace } from "./check.js";
import { parseConfigFile } from "./config.js";
import { loadWorkspace } from "./load.js";
import { loadProject, parseProjectConfig } from "./project.js";
import { parseEnvironmentFile } from "./secrets-dir.js";
import { parseSopsConfig } from "./sops-config.js";

const deepFlow = (n: number): string => `${"[".repeat(n)}${"]".repeat(n)}`;
const PROJECT = "version: 1\nenvironments:\n  development:\n    members: {}\nconfig:\n  include: [\"agents/**/*.yaml\"]\n";
const AGENT = "kind: agent\nname: a\ninstructions: hi\nactions: []\n";

describe("nesting is bounded in every YAML core reads", () => {
  it("a config file nested 3,000 levels is one schema error at the line that goes over, never a stack overflow", () => {
    for (const fast of [true, false]) {
      const f = parseConfigFile(`kind: api_connection\nname: x\nheaders: ${deepFlow(3000)}\n`, "connections/x.yaml", { fast });
      expect(f.relevant).toBe(true);
      expect(f.diagnostics.map((d) => [d.rule, d.line, d.column])).toEqual([["schema", 3, 9 + 64]]);
    }
    // a file of another tool is left alone, as before
    expect(parseConfigFile(`name: x\nkind_of: y\nheaders: ${deepFlow(3000)}\n`, "other.yaml")).toMatchObject({ relevant: false, diagnostics: [] });
  });

  it("stellar.yaml, the catalog, .sops.yaml and environment files report it as well", () => {
    const project = parseProjectConfig(`${PROJECT}x: ${deepFlow(3000)}\n`, "/r/stellar.yaml");
    expect(project.config).toBeUndefined();
    expect(project.diagnostics.map((d) => [d.rule, d.line])).toEqual([["schema", 7]]);
    expect(parseCatalog(`a:\n  description: ${deepFlow(3000)}\n`, "secrets/catalog.yaml").diagnostics.map((d) => [d.rule, d.line])).toEqual([["schema", 2]]);
    expect(parseSopsConfig(`creation_rules: ${deepFlow(3000)}\n`, ".sops.yaml").problem?.message).toContain("nested deeper than 64 levels");
    const env = parseEnvironmentFile(`a: ${deepFlow(3000)}\n`, "secrets/development.enc.yaml", "development");
    expect(env.diagnostics.map((d) => [d.rule, d.line])).toEqual([["unencrypted-secrets-file", 1]]);
  });

  it("the check of the rest of the project goes on", () => {
    const fs = memoryFs({ "stellar.yaml": PROJECT, "agents/deep.yaml": `kind: agent\nname: d\nactions: ${deepFlow(5000)}\n`, "agents/a.yaml": AGENT.replace("actions: []", "actions: [missing_action]") });
    const { index } = loadWorkspace("/mem", { fs, atRoot: true });
    const ds = checkWorkspace(index);
    expect(ds.filter((d) => d.file === "agents/deep.yaml").map((d) => d.rule)).toEqual(["schema"]);
    expect(ds.filter((d) => d.file === "agents/a.yaml").map((d) => d.rule)).toContain("unknown-reference");
  });
});

describe("unreadable config files are diagnostics", () => {
  it("a config file over the size limit is a schema error on it (not a skipped line)", () => {
    const fs = memoryFs({ "stellar.yaml": PROJECT, "agents/big.yaml": `kind: agent\nname: big\ninstructions: "${"x".repeat(2000)}"\n`, "agents/a.yaml": AGENT });
    const { index, skipped } = loadWorkspace("/mem", { fs, atRoot: true, maxFileBytes: 1000 });
    expect(skipped).toEqual([]);
    const ds = checkWorkspace(index).filter((d) => d.file === "agents/big.yaml");
    expect(ds.map((d) => [d.rule, d.severity, d.line])).toEqual([["schema", "error", 1]]);
    expect(ds[0]!.message).toContain("is larger than");
  });

  it("invalid UTF-8 in a config file or in stellar.yaml is a schema error; a file of another tool may use any encoding", () => {
    const latin1 = (s: string): Uint8Array => Buffer.from(s, "latin1");
    const fs = memoryFs({ "stellar.yaml": PROJECT, "agents/bad.yaml": latin1("kind: agent\nname: b\ninstructions: caf\xe9\n"), "agents/other.yaml": latin1("tool: caf\xe9\n"), "agents/a.yaml": AGENT });
    const ds = checkWorkspace(loadWorkspace("/mem", { fs, atRoot: true }).index);
    expect(ds.filter((d) => d.file === "agents/bad.yaml").map((d) => [d.rule, d.message])).toEqual([["schema", "agents/bad.yaml is not valid UTF-8 text (line 3); it was not read: save it as UTF-8"]]);
    expect(ds.filter((d) => d.file === "agents/other.yaml")).toEqual([]);

    const badProject = memoryFs({ "stellar.yaml": latin1(`${PROJECT}# caf\xe9\n`) });
    const { index } = loadWorkspace("/mem", { fs: badProject, atRoot: true });
    expect(index.projectUsable).toBe(false);
    expect(index.projectDiagnostics.map((d) => [d.rule, d.file])).toEqual([["schema", "stellar.yaml"]]);
    return expect(loadProject("/mem", badProject)).rejects.toMatchObject({ code: "INVALID_CONFIG", message: expect.stringContaining("not valid UTF-8") });
  });

  it("config.include with .. or an absolute path is an error", () => {
    for (const glob of ["../other/**/*.yaml", "/etc/**/*.yaml", "agents/../../x.yaml", "C:/x/*.yaml"]) {
      const { diagnostics } = parseProjectConfig(PROJECT.replace("agents/**/*.yaml", glob), "/r/stellar.yaml");
      expect(diagnostics.map((d) => [d.rule, d.line]), glob).toEqual([["schema", 6]]);
      expect(diagnostics[0]!.message, glob).toContain("inside the repository");
    }
    expect(parseProjectConfig(PROJECT.replace("agents/**/*.yaml", "agents/..x/*.yaml"), "/r/stellar.yaml").diagnostics).toEqual([]);
  });
});

describe("symbolic links that leave the repository", () => {
  const files = { "stellar.yaml": PROJECT, "agents/a.yaml": AGENT, "agents/shared/b.yaml": AGENT.replace("name: a", "name: b"), "secrets/development.enc.yaml": "x: 1\n" };
  it("a config folder, a config file or an environment file linked outside is a diagnostic and is not read, unless allowed", () => {
    const fs = memoryFs(files, { "agents/shared": "/elsewhere/shared", "agents/a.yaml": "/elsewhere/a.yaml", "secrets/development.enc.yaml": "/elsewhere/dev.enc.yaml" });
    const { index } = loadWorkspace("/mem", { fs, atRoot: true });
    const ds = checkWorkspace(index).filter((d) => d.severity === "error");
    expect(ds.map((d) => [d.rule, d.file])).toEqual([
      ["schema", "agents/a.yaml"],
      ["schema", "agents/shared"],
      ["unencrypted-secrets-file", "secrets/development.enc.yaml"],
    ]);
    for (const d of ds) expect(d.message).toContain("outside the repository");
    expect([...index.objects("agent").keys()]).toEqual([]);
    const allowed = loadWorkspace("/mem", { fs, atRoot: true, allowOutsideLinks: true }).index;
    expect([...allowed.objects("agent").keys()].sort()).toEqual(["a", "b"]);
  });

  it("stellar.yaml linked outside makes the project unusable, and loadProject refuses it (OUTSIDE_REPOSITORY)", async () => {
    const fs = memoryFs(files, { "stellar.yaml": "/elsewhere/stellar.yaml" });
    const { index } = loadWorkspace("/mem", { fs, atRoot: true });
    expect(index.projectUsable).toBe(false);
    expect(index.projectDiagnostics.map((d) => d.message)).toEqual([expect.stringContaining("outside the repository")]);
    await expect(loadProject("/mem", fs)).rejects.toMatchObject({ code: "OUTSIDE_REPOSITORY" });
    await expect(loadProject("/mem", fs, { allowOutsideLinks: true })).resolves.toMatchObject({ secretsDir: "secrets" });
    const secrets = memoryFs(files, { secrets: "/elsewhere/secrets" });
    await expect(loadProject("/mem", secrets)).rejects.toMatchObject({ code: "OUTSIDE_REPOSITORY", message: expect.stringContaining("secrets/") });
  });
});
