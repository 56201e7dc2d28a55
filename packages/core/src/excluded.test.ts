import { describe, expect, it } from "vitest";
import { memoryFs } from "./test-support/memory-fs.js";
import { checkWorkspace } from "./check.js";
import { definitionsIn, EXCLUDED_SCAN_MAX_FILES, referencesIn } from "./excluded.js";
import { GlobFilter } from "./globs.js";
import { loadWorkspace } from "./load.js";
import type { WorkspaceFs } from "./workspace-fs.js";

const PROJECT = 'version: 1\nenvironments:\n  development:\n    members: {}\nconfig:\n  exclude: ["legacy/**", "drafts/*.draft.yaml"]\n';
const AGENT = "kind: agent\nname: support\ninstructions: hi\nactions: [old_refund]\n";
const LEGACY = "# kept for reference\nkind: action\nname: old_refund\nconnection: stripe\nmethod: POST\npath: /v1/refunds\n";
const STRIPE = "kind: api_connection\nname: stripe\nbase_url: https://api.stripe.com\n";
const unknownReferences = (fs: WorkspaceFs) => checkWorkspace(loadWorkspace("/mem", { fs, atRoot: true }).index).filter((d) => d.rule === "unknown-reference");

describe("definitionsIn", () => {
  it("finds each YAML document's top-level kind and name, with the name's line; other kinds and nested names are not objects", () => {
    const text = "kind: action\nname: a1\nheaders:\n  - name: X-Key\n---\nname: 'c1'   # the connection\nkind: api_connection\n---\nkind: pipeline\nname: p\n---\nname: lonely\n";
    expect(definitionsIn(text, "legacy/x.yaml", "legacy/**")).toEqual([
      { kind: "action", name: "a1", path: "legacy/x.yaml", line: 2, glob: "legacy/**" },
      { kind: "api_connection", name: "c1", path: "legacy/x.yaml", line: 6, glob: "legacy/**" },
    ]);
  });
});

describe("GlobFilter.excludedBy", () => {
  const filter = new GlobFilter(["**/*.yaml"], ["legacy", "drafts/*.draft.yaml"]);
  it("names the glob that matches the file or a folder above it, for an included file only", () => {
    expect(filter.excludedBy("legacy/old/refund.yaml")).toBe("legacy");
    expect(filter.excludedBy("drafts/a.draft.yaml")).toBe("drafts/*.draft.yaml");
    expect(filter.excludedBy("drafts/a.yaml")).toBeUndefined();
    expect(filter.excludedBy("legacy/notes.txt")).toBeUndefined();
  });
});

describe("WorkspaceIndex.excludedFilesChanged (an editor's file watcher)", () => {
  it("reads the excluded files again when one of them changed, once they were read, and says whether what they define changed", () => {
    const fs = memoryFs({ "stellar.yaml": PROJECT, "agents/support.yaml": AGENT, "connections/stripe.yaml": STRIPE });
    const { index } = loadWorkspace("/mem", { fs, atRoot: true });
    // not read yet: nothing to refresh (the first message reads them as they are then)
    fs.write("legacy/refund.yaml", LEGACY);
    expect(index.excludedFilesChanged(["legacy/refund.yaml"])).toBe(false);
    expect(fs.reads.get("legacy/refund.yaml")).toBeUndefined();
    expect(index.excludedDefinition("action", "old_refund")?.line).toBe(3);
    // an included file, or an excluded one that defines the same: no change
    expect(index.excludedFilesChanged(["agents/support.yaml", "connections/stripe.yaml"])).toBe(false);
    expect(fs.reads.get("legacy/refund.yaml")).toBe(1);
    fs.write("legacy/refund.yaml", LEGACY.replace("# kept for reference\n", ""));
    expect(index.excludedFilesChanged(["legacy/refund.yaml"])).toBe(true);
    expect(index.excludedDefinition("action", "old_refund")?.line).toBe(2);
    expect(index.excludedFilesChanged(["legacy/refund.yaml"])).toBe(false);
    // a deleted folder (reported as itself) that held one
    fs.write("legacy/refund.yaml", undefined);
    expect(index.excludedFilesChanged(["legacy"])).toBe(true);
    expect(index.excludedDefinition("action", "old_refund")).toBeUndefined();
    // a new excluded file matched by another glob
    fs.write("drafts/refund.draft.yaml", LEGACY);
    expect(index.excludedFilesChanged(["drafts/refund.draft.yaml"])).toBe(true);
    expect(index.excludedDefinition("action", "old_refund")?.glob).toBe("drafts/*.draft.yaml");
  });
});

describe("unknown-reference to an object defined in an excluded file", () => {
  it("says which file defines it and which config.exclude glob keeps it out; the excluded files are read once, by the message, never by the load", () => {
    const fs = memoryFs({ "stellar.yaml": PROJECT, "agents/support.yaml": AGENT, "legacy/refund.yaml": LEGACY, "legacy/other.yaml": "kind: action\nname: other\n" });
    const { index } = loadWorkspace("/mem", { fs, atRoot: true });
    expect(fs.reads.has("legacy/refund.yaml")).toBe(false);
    const ds = checkWorkspace(index).filter((d) => d.rule === "unknown-reference");
    expect(ds.map((d) => [d.file, d.line, d.column, d.suggestion])).toEqual([["agents/support.yaml", 4, 11, undefined]]);
    expect(ds[0]?.message).toMatchInlineSnapshot(
      `"agent "support" uses action "old_refund", but there is none by that name; legacy/refund.yaml:3 defines it, but stellar.yaml's config.exclude glob "legacy/**" keeps that file out of the project: narrow the glob, or move the action into an included file"`,
    );
    expect(fs.reads.get("legacy/refund.yaml")).toBe(1);
    checkWorkspace(index);
    expect(fs.reads.get("legacy/refund.yaml")).toBe(1); // read once per load
  });

  it("reads no excluded file when every reference resolves, and keeps the did-you-mean when no excluded file defines the name", () => {
    const fs = memoryFs({ "stellar.yaml": PROJECT, "agents/support.yaml": AGENT.replace("old_refund", "other_refund"), "actions/other_refund.yaml": LEGACY.replace("old_refund", "other_refund"), "connections/stripe.yaml": STRIPE, "legacy/refund.yaml": LEGACY });
    expect(unknownReferences(fs)).toEqual([]);
    expect(fs.reads.has("legacy/refund.yaml")).toBe(false);
    const typo = memoryFs({ "stellar.yaml": PROJECT, "agents/support.yaml": AGENT.replace("old_refund", "other_refnd"), "actions/other_refund.yaml": LEGACY.replace("old_refund", "other_refund"), "connections/stripe.yaml": STRIPE, "legacy/refund.yaml": LEGACY });
    const [d, ...more] = unknownReferences(typo);
    expect([d?.file, more]).toEqual(["agents/support.yaml", []]);
    expect([d?.message.endsWith('; did you mean "other_refund"?'), d?.suggestion]).toEqual([true, "other_refund"]);
  });

  it("reads at most EXCLUDED_SCAN_MAX_FILES excluded files: a definition past them is not named", () => {
    const files: Record<string, string> = { "stellar.yaml": PROJECT, "agents/support.yaml": AGENT };
    for (let i = 0; i < EXCLUDED_SCAN_MAX_FILES; i++) files[`legacy/a${String(i).padStart(4, "0")}.yaml`] = `kind: action\nname: filler_${i}\n`;
    files["legacy/z.yaml"] = LEGACY;
    const fs = memoryFs(files);
    expect(unknownReferences(fs)[0]?.message).not.toContain("config.exclude");
    expect(fs.reads.has("legacy/z.yaml")).toBe(false);
    delete files["legacy/a0000.yaml"];
    expect(unknownReferences(memoryFs(files))[0]?.message).toContain('legacy/z.yaml:3 defines it, but stellar.yaml\'s config.exclude glob "legacy/**"');
  });
});

describe("unused-secret referenced only from an excluded file", () => {
  const envFile = (...names: string[]): string => `${names.map((n) => `${n}: ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]`).join("\n")}\nsops:\n    age:\n        - recipient: age1xyz\n    lastmodified: "2026-01-01T00:00:00Z"\n    mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n    version: 3.10.2\n`;
  it("names the excluded file and the glob instead of only suggesting to delete the secret", () => {
    const fs = memoryFs({
      "stellar.yaml": PROJECT,
      "secrets/development.enc.yaml": envFile("legacy_hubspot_key"),
      "legacy/hubspot.yaml": 'kind: api_connection\nname: old_hubspot\nbase_url: https://api.hubapi.com\nheaders:\n  - { name: Authorization, type: secret, secret: legacy_hubspot_key, prefix: "Bearer " }\n',
    });
    const ds = checkWorkspace(loadWorkspace("/mem", { fs, atRoot: true }).index).filter((d) => d.rule === "unused-secret");
    expect(ds.map((d) => [d.file, d.line, d.column])).toEqual([["secrets/development.enc.yaml", 1, 1]]);
    expect(ds[0]?.message).toMatchInlineSnapshot(
      `"secret "legacy_hubspot_key" is not referenced by any config file; only legacy/hubspot.yaml:5 references it, and stellar.yaml's config.exclude glob "legacy/**" keeps that file out of the project (nothing checked or deployed reads it): narrow the glob if that file is in use, else remove the secret with \`stellar-secrets rm legacy_hubspot_key\`"`,
    );
  });

  it("finds block and flow references by their lines, not a secrets: key or a client_secret field", () => {
    expect(referencesIn("password:\n  secret: 'a_key'  # x\nclient_secret: { secret: b_key }\n  secrets: c_key\n- {name: X, type: secret, secret: \"d_key\"}\r\n", "f.yaml", "g").map((r) => [r.secret, r.line])).toEqual([
      ["a_key", 2],
      ["b_key", 3],
      ["d_key", 5],
    ]);
  });
});

describe("an object or a reference in a file that no config.include glob matches (qa s23)", () => {
  const INCLUDE = 'version: 1\nenvironments:\n  development:\n    members: {}\nconfig:\n  include: ["agents/**/*.yaml", "connections/**/*.yaml"]\n';
  it("says which file defines the object and that no include glob matches it (a .yml file beside .yaml globs)", () => {
    const fs = memoryFs({ "stellar.yaml": INCLUDE, "agents/support.yaml": AGENT, "agents/actions/old_refund.yml": LEGACY, "connections/stripe.yaml": STRIPE, "ci/deploy.yml": "kind: action\nname: elsewhere\n" });
    const ds = unknownReferences(fs);
    expect(ds.map((d) => [d.file, d.line, d.column, d.suggestion])).toEqual([["agents/support.yaml", 4, 11, undefined]]);
    expect(ds[0]?.message).toMatchInlineSnapshot(
      `"agent "support" uses action "old_refund", but there is none by that name; agents/actions/old_refund.yml:3 defines it, but no config.include glob of stellar.yaml matches that file, so it is not part of the project: add a glob that matches it to config.include, or move the action into a file that one matches"`,
    );
    // an included file is never read for this; nor is stellar.yaml
    expect(fs.reads.get("agents/support.yaml")).toBe(1);
    expect(fs.reads.get("stellar.yaml")).toBe(1);
  });

  it("reads nothing outside the project's files when config.include is the default (every YAML file is included)", () => {
    const fs = memoryFs({ "stellar.yaml": 'version: 1\nenvironments:\n  development:\n    members: {}\n', "agents/support.yaml": AGENT, "notes/old_refund.txt": LEGACY });
    expect(unknownReferences(fs)[0]?.message).not.toContain("config.include");
    expect(fs.reads.has("notes/old_refund.txt")).toBe(false);
  });

  it("names the file that alone references an unused secret", () => {
    const envFile = "legacy_hubspot_key: ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]\nsops:\n    age:\n        - recipient: age1xyz\n    lastmodified: \"2026-01-01T00:00:00Z\"\n    mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n    version: 3.10.2\n";
    const fs = memoryFs({
      "stellar.yaml": INCLUDE,
      "secrets/development.enc.yaml": envFile,
      "connections/hubspot.yml": 'kind: api_connection\nname: old_hubspot\nbase_url: https://api.hubapi.com\nheaders:\n  - { name: Authorization, type: secret, secret: legacy_hubspot_key, prefix: "Bearer " }\n',
    });
    const ds = checkWorkspace(loadWorkspace("/mem", { fs, atRoot: true }).index).filter((d) => d.rule === "unused-secret");
    expect(ds[0]?.message).toMatchInlineSnapshot(
      `"secret "legacy_hubspot_key" is not referenced by any config file; only connections/hubspot.yml:5 references it, and no config.include glob of stellar.yaml matches that file (nothing checked or deployed reads it): add a glob that matches it to config.include if that file is in use, else remove the secret with \`stellar-secrets rm legacy_hubspot_key\`"`,
    );
  });
});

describe("WorkspaceIndex.excludedFilesChanged for a file no include glob matches (qa s23)", () => {
  it("reads them again when such a YAML file changed", () => {
    const INCLUDE = 'version: 1\nenvironments:\n  development:\n    members: {}\nconfig:\n  include: ["agents/**/*.yaml"]\n';
    const fs = memoryFs({ "stellar.yaml": INCLUDE, "agents/support.yaml": AGENT });
    const { index } = loadWorkspace("/mem", { fs, atRoot: true });
    expect(index.excludedDefinition("action", "old_refund")).toBeUndefined();
    fs.write("agents/old_refund.yml", LEGACY);
    expect(index.excludedFilesChanged(["agents/old_refund.yml"])).toBe(true);
    expect(index.excludedDefinition("action", "old_refund")).toMatchObject({ path: "agents/old_refund.yml", line: 3, notIncluded: true });
    expect(index.excludedFilesChanged(["agents/support.yaml", "notes.txt"])).toBe(false);
  });
});
