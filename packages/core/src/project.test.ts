import { mkdirSync, mkdtempSync, rmSync, writeFileSync, type Stats } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import {
  catalogPath,
  findProjectRoot,
  noProjectHint,
  projectFilesBelow,
  loadProject,
  parseProjectConfig,
  renderProjectConfig,
  renderSopsConfig,
  secretsFilePath,
  setApprovals,
  setEnvironmentMembers,
  setPendingRequests,
} from "./project.js";
import type { WorkspaceFs } from "./workspace-fs.js";
import { CoreError } from "./errors.js";
import { useTempDirs } from "./test-support/temp-dirs.js";

/** Temp folders of the running test, removed after it (a failing assertion included). */
const tempDir = useTempDirs();

const ALICE = "age1qua746lhnvd8m6tn52e78hxrkr7nmqjgsq6ttq4nuhz9rgjdeayqhgjcv0";
const BOB = "age1f73cxphn004kaw024f96p5vvgs2eqrrtsmhg6kve93nnj6xhvc3seda36r";
const CI = "age1tvcghgrjypq3pjke8z8623m6mgnafzjp6uzne4w2pgvnle83pvkq47xl6n";

const GOOD = `# yaml-language-server: $schema=./schemas/stellar.schema.json
version: 1
secrets_dir: vault
environments:
  development:
    members:
      alice: ${ALICE}   # laptop
      ci-dev: ${CI}
  staging:
    members:
      alice: ${ALICE}
  production:
    members: {}
config:
  include: ["agents/**/*.yaml"]
rules:
  unused-secret: error
  non-descriptive-secret-name: off
`;

describe("parseProjectConfig", () => {
  it("reads environments in declared order, members, globs and rule overrides", () => {
    const { config, diagnostics } = parseProjectConfig(GOOD, "/repo/stellar.yaml");
    expect(diagnostics).toEqual([]);
    expect(config).toEqual({
      root: "/repo",
      configPath: "/repo/stellar.yaml",
      secretsDir: "vault",
      environments: [
        { name: "development", members: [{ name: "alice", recipient: ALICE }, { name: "ci-dev", recipient: CI }] },
        { name: "staging", members: [{ name: "alice", recipient: ALICE }] },
        { name: "production", members: [] },
      ],
      include: ["agents/**/*.yaml"],
      exclude: ["node_modules/**"],
      rules: { "unused-secret": "error", "non-descriptive-secret-name": "off" },
    });
  });

  it("defaults the secrets folder, globs and the three environments", () => {
    const { config, diagnostics } = parseProjectConfig("version: 1\n", "/r/stellar.yaml");
    expect(diagnostics).toEqual([]);
    expect(config?.secretsDir).toBe("secrets");
    expect(config?.environments.map((e) => e.name)).toEqual(["development", "staging", "production"]);
    expect(config?.include).toEqual(["**/*.yaml", "**/*.yml"]);
  });

  it("normalises the secrets folder", () => {
    for (const [written, expected] of [["./vault/", "vault"], ["config//vault", "config/vault"], ["secrets/.", "secrets"], ["./secrets", "secrets"], ["secrets//", "secrets"], ["config/./vault/.", "config/vault"]]) {
      const { config, diagnostics } = parseProjectConfig(`version: 1\nsecrets_dir: "${written}"\n`, "/r/stellar.yaml");
      expect(diagnostics).toEqual([]);
      expect(config?.secretsDir, written).toBe(expected);
    }
    for (const bad of [".", "./", "../x", "/abs", "a/../b"]) {
      expect(parseProjectConfig(`version: 1\nsecrets_dir: "${bad}"\n`, "/r/stellar.yaml").diagnostics.map((d) => [d.rule, d.line]), bad).toEqual([["schema", 2]]);
    }
  });

  it("refuses an environment name over 64 characters (its file name would break checkouts)", () => {
    const ok = `version: 1\nenvironments:\n  ${"e".repeat(64)}:\n    members: {}\n`;
    expect(parseProjectConfig(ok, "/r/stellar.yaml").diagnostics).toEqual([]);
    const long = `version: 1\nenvironments:\n  ${"e".repeat(65)}:\n    members: {}\n`;
    const { config, diagnostics } = parseProjectConfig(long, "/r/stellar.yaml");
    expect(diagnostics.map((d) => [d.rule, d.line])).toEqual([["schema", 3]]);
    expect(diagnostics[0]!.message).toContain("at most 64 characters");
    expect(config === undefined || diagnostics.length > 0).toBe(true);
  });

  it("reports schema problems at the offending node", () => {
    const text = `version: 2
environments:
  Prod:
    members:
      alice: not-a-key
rules:
  unused-secrets: error
  unknown-secret: loud
colour: blue
`;
    const { diagnostics } = parseProjectConfig(text, "/r/stellar.yaml");
    const at = diagnostics.map((d) => [d.rule, d.file, d.line, d.column, d.endLine, d.endColumn]);
    expect(at).toEqual([
      ["schema", "stellar.yaml", 1, 10, 1, 11],
      ["schema", "stellar.yaml", 3, 3, 3, 7],
      ["schema", "stellar.yaml", 5, 14, 5, 23],
      ["schema", "stellar.yaml", 7, 3, 7, 17],
      ["schema", "stellar.yaml", 8, 19, 8, 23],
      ["schema", "stellar.yaml", 9, 1, 9, 7],
    ]);
    expect(diagnostics.find((d) => d.line === 9)?.message).toBe('unknown field "colour"');
  });

  it("warns at a rule id it does not know (the nearest id as the fix) and ignores it: the config stays usable", async () => {
    const text = `version: 1
environments:
  production:
    members: {}
rules:
  unknwn-secret: "off"
  unused-secret: error
  zzzz:
`;
    const { config, diagnostics } = parseProjectConfig(text, "/r/stellar.yaml");
    expect(diagnostics.map((d) => [d.rule, d.severity, d.line, d.column, d.endLine, d.endColumn, d.suggestion])).toEqual([
      ["schema", "warning", 6, 3, 6, 16, "unknown-secret"],
      ["schema", "warning", 8, 3, 8, 7, undefined],
    ]);
    expect(diagnostics[0]?.message).toBe('"unknwn-secret" in "rules" is no rule id: it sets nothing and is ignored; the rule ids are listed in docs/rules.md; did you mean "unknown-secret"?');
    expect(config?.rules).toEqual({ "unused-secret": "error" });
    // and loading the project (what every command does first) does not refuse it
    const dir = tempDir("stellar-unknown-rule-");
    writeFileSync(join(dir, "stellar.yaml"), text);
    expect((await loadProject(dir)).rules).toEqual({ "unused-secret": "error" });
  });

  it("keeps refusing a bad severity of a known rule, and rules that is not a mapping", () => {
    const bad = (rules: string): string[] =>
      parseProjectConfig(`version: 1\nenvironments:\n  production:\n    members: {}\nrules:${rules}\n`, "/r/stellar.yaml").diagnostics.map((d) => `${d.severity} ${d.line}:${d.column}`);
    expect(bad("\n  unused-secret: loud\n  typo-rule: off")).toEqual(["error 6:18", "warning 7:3"]);
    expect(bad(" [unused-secret]")).toEqual(["error 5:8"]);
  });

  it("accepts SSH ed25519 members and normalises them to `ssh-ed25519 AAAA…` (comment dropped); refuses ssh-rsa", () => {
    const ssh = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINtlsIu9U9RB/IG2860u/xrNi/2A6rWX5oq0OZVLuOws";
    const text = `version: 1
environments:
  production:
    members:
      alice: ${ALICE}
      bob: "${ssh} bob@laptop"
      carol: ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ carol@host
`;
    const { config, diagnostics } = parseProjectConfig(text, "/r/stellar.yaml");
    expect(config?.environments[0]?.members.slice(0, 2)).toEqual([
      { name: "alice", recipient: ALICE },
      { name: "bob", recipient: ssh },
    ]);
    expect(diagnostics.map((d) => [d.rule, d.line, d.column])).toEqual([["schema", 7, 14]]);
    expect(diagnostics[0]?.message).toContain("ssh-ed25519");
  });

  it("refuses a member name with another key in another environment, and a key under two names (one name is one key everywhere, as members add keeps it), at the later one; commands still load it (members rm fixes it)", async () => {
    const text = `version: 1
environments:
  staging:
    members:
      alice: ${ALICE}
      bob: ${CI}
  production:
    members:
      alice: ${ALICE}
      bob: ${BOB}
      mallory: ${ALICE}
`;
    const { config, diagnostics } = parseProjectConfig(text, "/r/stellar.yaml");
    expect(config?.environments.map((e) => e.members.length)).toEqual([2, 3]);
    const found = diagnostics.filter((d) => d.rule === "recipient-drift");
    expect(found.map((d) => [d.severity, d.line, d.column])).toEqual([
      ["error", 10, 7],
      ["error", 11, 7],
    ]);
    expect(found[0]!.message).toContain(`"bob" has the key ${BOB} in production but ${CI} in staging`);
    expect(found[1]!.message).toContain(`the key of "mallory" in production is also "alice"'s`);
    const dir = tempDir("stellar-identity-");
    writeFileSync(join(dir, "stellar.yaml"), text);
    expect((await loadProject(dir)).environments.map((e) => e.name)).toEqual(["staging", "production"]);
    // one name, one key, in every environment: fine
    expect(parseProjectConfig(text.replace(`bob: ${CI}`, `bob: ${BOB}`).replace(/ {6}mallory: .*\n/, ""), "/r/stellar.yaml").diagnostics).toEqual([]);
  });

  it("sees one key written two ways under two names (an ssh-ed25519 key and its age1… form, as ssh-to-age makes): recipient-drift at the later one, saying so", () => {
    // (a public key only; its age1… form computed from it, as ssh-to-age does)
    const ssh = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINtlsIu9U9RB/IG2860u/xrNi/2A6rWX5oq0OZVLuOws";
    const sameAsAge = "age1vepzf8hpck6hmcxradth77gx253cgcceyksxnf5cslm823cvlvxq02hf5c";
    const text = `version: 1
environments:
  staging:
    members:
      mallory: ${ssh}
  production:
    members:
      alice: ${ALICE}
      mallory-ci: ${sameAsAge}
`;
    const found = parseProjectConfig(text, "/r/stellar.yaml").diagnostics.filter((d) => d.rule === "recipient-drift");
    expect(found.map((d) => [d.severity, d.line, d.column])).toEqual([["error", 9, 7]]);
    expect(found[0]!.message).toContain(`the key of "mallory-ci" in production is also "mallory"'s (in staging), written another way`);
    // another key: nothing
    expect(parseProjectConfig(text.replace(sameAsAge, BOB), "/r/stellar.yaml").diagnostics.filter((d) => d.rule === "recipient-drift")).toEqual([]);
  });

  it("sees two age1… spellings of one X25519 key under two names (the top bit of the last byte set: X25519 ignores it): recipient-drift at the later one, naming both spellings", () => {
    // ALICE's 32 bytes with bit 255 set, encoded again: another valid age1… string for alice's key
    const aliceTopBit = "age1qua746lhnvd8m6tn52e78hxrkr7nmqjgsq6ttq4nuhz9rgjdelyqnvqlhk";
    const text = `version: 1
environments:
  staging:
    members:
      alice: ${ALICE}
  production:
    members:
      bob: ${BOB}
      mallory: ${aliceTopBit}
`;
    const found = parseProjectConfig(text, "/r/stellar.yaml").diagnostics.filter((d) => d.rule === "recipient-drift");
    expect(found.map((d) => [d.severity, d.line, d.column, d.endLine, d.endColumn])).toEqual([["error", 9, 7, 9, 14]]);
    expect(found[0]!.message).toContain(`the key of "mallory" in production is also "alice"'s (in staging), written another way`);
    expect(found[0]!.message).toContain(aliceTopBit);
    expect(found[0]!.message).toContain(ALICE);
    // one name with the two spellings in two environments: recipient-drift saying it is one key, and which spelling age opens
    const oneName = parseProjectConfig(text.replace(`mallory: ${aliceTopBit}`, `alice: ${aliceTopBit}`), "/r/stellar.yaml").diagnostics;
    expect(oneName.map((d) => [d.rule, d.line, d.column])).toEqual([["recipient-drift", 9, 7]]);
    expect(oneName[0]!.message).toContain("one X25519 key written two ways");
    expect(oneName[0]!.message).toContain(`write alice's key as ${ALICE} in every environment`);
    // the same spelling under one name in both environments is one member: nothing
    expect(parseProjectConfig(text.replace(`mallory: ${aliceTopBit}`, `alice: ${ALICE}`), "/r/stellar.yaml").diagnostics).toEqual([]);
    // another key: nothing
    expect(parseProjectConfig(text.replace(aliceTopBit, CI), "/r/stellar.yaml").diagnostics).toEqual([]);
  });

  it("refuses a member key whose age checksum fails (a character mistyped), once at the key, and leaves keys that are no member key out of the members", () => {
    // one character of alice's key changed: the shape of an age key, but bech32's checksum fails, so nothing can be encrypted to it
    const mistyped = `${ALICE.slice(0, -1)}${ALICE.endsWith("2") ? "3" : "2"}`;
    const text = `version: 1
environments:
  production:
    members:
      alice: ${ALICE}
      dave: ${mistyped}
      erin: ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ erin@host
    pending:
      frank:
        key: ${mistyped}
`;
    const { config, diagnostics } = parseProjectConfig(text, "/r/stellar.yaml");
    // neither can read anything: a re-key or a drift check must not count them as members
    expect(config?.environments[0]?.members).toEqual([{ name: "alice", recipient: ALICE }]);
    expect(diagnostics.filter((d) => d.rule === "schema").map((d) => [d.line, d.column, d.endLine, d.endColumn])).toEqual([
      [6, 13, 6, 75],
      [7, 13, 7, 61],
      [10, 14, 10, 76],
    ]);
    const dave = diagnostics.find((d) => d.line === 6)!;
    expect(dave.message).toBe(
      '"environments.production.members.dave" is not a valid age public key: its checksum does not match (a character was mistyped or lost when it was copied), so nothing can be encrypted to it; ask dave for the key again (`stellar-secrets whoami` prints it) and replace it, or remove the line',
    );
    expect(diagnostics.find((d) => d.line === 10)?.message).toMatch(/^"environments\.production\.pending\.frank\.key" is not a valid age public key: its checksum does not match/);
  });

  it("refuses a member key or a request's key that is a point of small order (no one's key, made up), once at the key, and leaves it out of the members", () => {
    const noOnes = "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq5cu47z"; // the all-zero key: bech32 right, no private key opens it
    const text = `version: 1
environments:
  production:
    members:
      alice: ${ALICE}
      mallory: ${noOnes}
    pending:
      eve:
        key: ${noOnes}
`;
    const { config, diagnostics } = parseProjectConfig(text, "/r/stellar.yaml");
    expect(config?.environments[0]?.members).toEqual([{ name: "alice", recipient: ALICE }]);
    const schema = diagnostics.filter((d) => d.rule === "schema");
    expect(schema.map((d) => [d.severity, d.line, d.column, d.endLine, d.endColumn])).toEqual([
      ["error", 6, 16, 6, 78],
      ["error", 9, 14, 9, 76],
    ]);
    expect(schema[0]!.message).toBe(
      '"environments.production.members.mallory" is no one\'s age public key: it is a point of small order (such as the all-zero key), which no private key opens and which age and sops refuse to encrypt to, so it can only have been made up; ask mallory for their real key (`stellar-secrets whoami` prints it) and replace it, or remove the line',
    );
    expect(schema[1]!.message).toMatch(/^"environments\.production\.pending\.eve\.key" is no one's age public key/);
  });

  it("reports a YAML syntax error and returns no config", () => {
    const { config, diagnostics } = parseProjectConfig("version: 1\nenvironments: [\n", "/r/stellar.yaml");
    expect(config).toBeUndefined();
    expect(diagnostics.length).toBeGreaterThan(0);
    expect(diagnostics[0]?.rule).toBe("schema");
    expect(diagnostics[0]?.message).toMatch(/^YAML syntax error/);
  });

  it("reports a mapping key written as an alias (`&k secrets_dir: secrets` then `*k : vault`): a person and the resolver read secrets, this reader vault (s24 attack)", () => {
    const text = `version: 1
&k secrets_dir: secrets
*k : vault
environments:
  production:
    members:
      alice: ${ALICE}
`;
    const { diagnostics } = parseProjectConfig(text, "/r/stellar.yaml");
    expect(diagnostics.map((d) => [d.rule, d.severity, d.line, d.column, d.endLine, d.endColumn])).toEqual([["schema", "error", 3, 1, 3, 3]]);
    // the anchor may stand on any value: an alias key naming another field hides it as well
    const elsewhere = parseProjectConfig(`version: 1\nconfig:\n  include: [&k secrets_dir]\n*k : vault\nenvironments:\n  production: {}\n`, "/r/stellar.yaml");
    expect(elsewhere.diagnostics.map((d) => [d.rule, d.severity, d.line])).toEqual([["schema", "error", 4]]);
    const nested = parseProjectConfig(`version: 1\nx0: &m bob\nenvironments:\n  production:\n    members:\n      *m : ${BOB}\n`, "/r/stellar.yaml");
    expect(nested.diagnostics.filter((d) => d.line === 6).map((d) => d.rule)).toEqual(["schema"]);
  });

  it("reports a merge key (`<<`) of a YAML 1.1 stellar.yaml: this reader merges the fields in, a person and the resolver do not see them (s24 newattack)", () => {
    const { config, diagnostics } = parseProjectConfig(`%YAML 1.1\n---\nversion: 1\n<<: { secrets_dir: vault }\nenvironments:\n  production:\n    members:\n      alice: ${ALICE}\n`, "/r/stellar.yaml");
    expect(config?.secretsDir).toBe("vault");
    expect(diagnostics.map((d) => [d.rule, d.severity, d.line, d.column, d.endLine, d.endColumn])).toEqual([["schema", "error", 4, 1, 4, 3]]);
    const nested = parseProjectConfig(`%YAML 1.1\n---\nversion: 1\nx0: &m { bob: ${BOB} }\nenvironments:\n  production:\n    members:\n      <<: *m\n`, "/r/stellar.yaml");
    expect(nested.diagnostics.filter((d) => d.line === 8).map((d) => d.rule)).toEqual(["schema"]);
    // a key tagged !!merge merges without the directive too
    const tagged = parseProjectConfig(`version: 1\n!!merge x: { secrets_dir: vault }\nenvironments:\n  production: {}\n`, "/r/stellar.yaml");
    expect(tagged.diagnostics.map((d) => [d.rule, d.severity, d.line])).toEqual([["schema", "error", 2]]);
  });

  it("reports an empty file", () => {
    const { config, diagnostics } = parseProjectConfig("", "/r/stellar.yaml");
    expect(config).toBeUndefined();
    expect(diagnostics.map((d) => [d.rule, d.line, d.column])).toEqual([["schema", 1, 1]]);
  });
});

describe("projectFilesBelow and noProjectHint", () => {
  it("finds stellar.yaml one and two folders below (not hidden folders, node_modules, deeper ones), and words the hint for the first", () => {
    const dir = mkdtempSync(join(tmpdir(), "below-"));
    try {
      for (const rel of ["infra", "teams/labs", ".hidden", "node_modules/pkg", "a/b/c"]) {
        mkdirSync(join(dir, rel), { recursive: true });
        writeFileSync(join(dir, rel, "stellar.yaml"), "version: 1\n");
      }
      expect(projectFilesBelow(dir)).toEqual(["infra/stellar.yaml", "teams/labs/stellar.yaml"]);
      expect(noProjectHint(dir, "FALLBACK")).toBe("infra/stellar.yaml, teams/labs/stellar.yaml are projects below this folder: run the command there (`cd infra`)");
      expect(noProjectHint(join(dir, "a", "b", "c", "d"), "FALLBACK")).toBe("FALLBACK");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("findProjectRoot and loadProject", () => {
  it("walks up to the directory holding stellar.yaml", async () => {
    const dir = tempDir("core-project-");
    writeFileSync(join(dir, "stellar.yaml"), GOOD);
    mkdirSync(join(dir, "a", "b"), { recursive: true });
    expect(findProjectRoot(join(dir, "a", "b"))).toBe(dir);
    const config = await loadProject(join(dir, "a"));
    expect(config.root).toBe(dir);
    expect(secretsFilePath(config, "staging")).toBe(join(dir, "vault", "staging.enc.yaml"));
    expect(catalogPath(config)).toBe(join(dir, "vault", "catalog.yaml"));
  });

  it("throws NO_PROJECT outside a project and INVALID_CONFIG with file:line for a broken one", async () => {
    const empty = tempDir("core-noproject-");
    await expect(loadProject(empty)).rejects.toMatchObject({ code: "NO_PROJECT" });
    const bad = tempDir("core-bad-");
    writeFileSync(join(bad, "stellar.yaml"), "version: 1\nenvironments:\n  dev:\n    memberz: {}\n");
    const err = await loadProject(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoreError);
    expect((err as CoreError).code).toBe("INVALID_CONFIG");
    expect((err as CoreError).message).toContain(`${join(bad, "stellar.yaml")}:4:5: unknown field "memberz"`);
    // the hint names no path of this source repository (a secrets repository and the installed CLI have no schemas/ folder)
    expect((err as CoreError).hint).toContain("at the lines above");
    expect((err as CoreError).hint).not.toContain("schemas/");
  });

  it("finds and reads stellar.yaml through the WorkspaceFs it is given (no disk)", async () => {
    const files = new Map([["/mem/repo/stellar.yaml", GOOD]]);
    const notFound = (p: string): Error => Object.assign(new Error(`ENOENT: ${p}`), { code: "ENOENT" });
    const fs: WorkspaceFs = {
      readFile: (p) => files.get(p) ?? (() => { throw notFound(p); })(),
      readdir: (p) => { throw notFound(p); },
      stat: (p) => (files.has(p) ? ({ isFile: () => true, isDirectory: () => false } as Stats) : (() => { throw notFound(p); })()),
      realpath: (p) => p,
    };
    expect(findProjectRoot("/mem/repo/agents/deep", fs)).toBe("/mem/repo");
    expect(findProjectRoot("/mem", fs)).toBeUndefined();
    const config = await loadProject("/mem/repo/agents", fs);
    expect(config.secretsDir).toBe("vault");
    await expect(loadProject("/elsewhere", fs)).rejects.toMatchObject({ code: "NO_PROJECT" });
  });

  it("says how to finish a stellar.yaml that a merge left with conflict markers (INVALID_CONFIG)", async () => {
    const merged = `version: 1\nenvironments:\n  dev:\n    members:\n<<<<<<< HEAD\n      bob: age1bob\n=======\n      carol: age1carol\n>>>>>>> feature\n`;
    const files = new Map([["/mem/m/stellar.yaml", merged]]);
    const notFound = (p: string): Error => Object.assign(new Error(`ENOENT: ${p}`), { code: "ENOENT" });
    const fs: WorkspaceFs = {
      readFile: (p) => files.get(p) ?? (() => { throw notFound(p); })(),
      readdir: (p) => { throw notFound(p); },
      stat: (p) => (files.has(p) ? ({ isFile: () => true, isDirectory: () => false } as Stats) : (() => { throw notFound(p); })()),
      realpath: (p) => p,
    };
    const err = (await loadProject("/mem/m", fs).catch((e: unknown) => e)) as CoreError;
    expect(err.code).toBe("INVALID_CONFIG");
    expect(err.hint).toContain("conflict markers");
    expect(err.hint).toContain("git checkout --ours -- stellar.yaml");
  });
});

describe("renderProjectConfig", () => {
  it("writes a file that parses back to the same config", () => {
    const { config } = parseProjectConfig(GOOD, "/repo/stellar.yaml");
    if (config === undefined) throw new Error("no config");
    const text = renderProjectConfig(config);
    const again = parseProjectConfig(text, "/repo/stellar.yaml");
    expect(again.diagnostics).toEqual([]);
    expect(again.config).toEqual(config);
    expect(text).toContain("production:\n    members: {}\n");
  });
});

describe("setEnvironmentMembers", () => {
  it("replaces members, keeping comments, order and other environments", () => {
    const out = setEnvironmentMembers(GOOD, "development", [
      { name: "ci-dev", recipient: CI },
      { name: "alice", recipient: ALICE },
      { name: "bob", recipient: BOB },
    ]);
    expect(out).toContain("# yaml-language-server: $schema=./schemas/stellar.schema.json");
    expect(out).toContain(`alice: ${ALICE} # laptop`);
    const { config } = parseProjectConfig(out, "/r/stellar.yaml");
    expect(config?.environments[0]?.members.map((m) => m.name)).toEqual(["alice", "ci-dev", "bob"]);
    expect(config?.environments[1]).toEqual({ name: "staging", members: [{ name: "alice", recipient: ALICE }] });
  });

  it("leaves the file's other lines as written: flow lists keep their padding, or lack of it (qa s22)", () => {
    const tight = `version: 1\nenvironments:\n  development:\n    members:\n      alice: ${ALICE}\n      bob: ${BOB}\nconfig:\n  include: ["**/*.yaml", "**/*.yml"]\n  exclude: [node_modules/**, legacy/**]\n`;
    expect(setEnvironmentMembers(tight, "development", [{ name: "alice", recipient: ALICE }])).toBe(tight.replace(`      bob: ${BOB}\n`, ""));
    const padded = tight.replace('["**/*.yaml", "**/*.yml"]', '[ "**/*.yaml", "**/*.yml" ]').replace("[node_modules/**, legacy/**]", "[ node_modules/**, legacy/** ]");
    expect(setEnvironmentMembers(padded, "development", [{ name: "alice", recipient: ALICE }])).toBe(padded.replace(`      bob: ${BOB}\n`, ""));
  });

  it("removes members and adds a missing environment", () => {
    const out = setEnvironmentMembers(setEnvironmentMembers(GOOD, "staging", []), "qa", [{ name: "bob", recipient: BOB }]);
    const { config, diagnostics } = parseProjectConfig(out, "/r/stellar.yaml");
    expect(diagnostics).toEqual([]);
    expect(config?.environments.map((e) => [e.name, e.members.length])).toEqual([
      ["development", 2],
      ["staging", 0],
      ["production", 0],
      ["qa", 1],
    ]);
  });

  it("refuses text that is not YAML", () => {
    expect(() => setEnvironmentMembers("a: [", "dev", [])).toThrow(expect.objectContaining({ code: "INVALID_CONFIG" }));
  });

  it("keeps CRLF line endings and a UTF-8 byte order mark, so the diff is only the changed lines", () => {
    const crlf = GOOD.replace(/\n/g, "\r\n");
    const out = setEnvironmentMembers(crlf, "staging", [{ name: "alice", recipient: ALICE }, { name: "bob", recipient: BOB }]);
    expect(out).not.toMatch(/[^\r]\n/);
    expect(out.replace(/\r\n/g, "\n")).toBe(setEnvironmentMembers(GOOD, "staging", [{ name: "alice", recipient: ALICE }, { name: "bob", recipient: BOB }]));
    const bom = setEnvironmentMembers(`\uFEFF${crlf}`, "staging", []);
    expect(bom.startsWith("\uFEFF# yaml-language-server")).toBe(true);
    expect(bom).not.toMatch(/[^\r]\n/);
    // an LF file stays LF, without a byte order mark
    const lf = setEnvironmentMembers(GOOD, "staging", []);
    expect(lf).not.toContain("\r");
    expect(lf.startsWith("\uFEFF")).toBe(false);
  });

  it("edits a stellar.yaml whose lines end in a lone CR, and keeps them", () => {
    const cr = GOOD.replace(/\n/g, "\r");
    const out = setEnvironmentMembers(cr, "staging", [{ name: "alice", recipient: ALICE }]);
    expect(out).not.toContain("\n");
    expect(out.replace(/\r/g, "\n")).toBe(setEnvironmentMembers(GOOD, "staging", [{ name: "alice", recipient: ALICE }]));
  });

  // found by scripts/fuzz-config-merge.mjs (docs/fuzz.md, "Config merges")
  it("a member's key that another environment names through an alias: re-keying or removing it changes this environment only, and never throws", () => {
    const text = `version: 1\nenvironments:\n  development:\n    members:\n      alice: &alice ${ALICE}\n    approved:\n      alice: &ok {by: bob, date: 2026-12-01T10:00:00Z}\n  production:\n    members:\n      alice: *alice\n    approved:\n      alice: *ok\n`;
    const members = (t: string, env: string) => parseProjectConfig(t, "/repo/stellar.yaml").config?.environments.find((e) => e.name === env)?.members;
    const rekeyed = setEnvironmentMembers(text, "development", [{ name: "alice", recipient: BOB }]);
    expect(members(rekeyed, "development")).toEqual([{ name: "alice", recipient: BOB }]);
    expect(members(rekeyed, "production")).toEqual([{ name: "alice", recipient: ALICE }]);
    const removed = setEnvironmentMembers(text, "development", [{ name: "carol", recipient: CI }]);
    expect(members(removed, "development")).toEqual([{ name: "carol", recipient: CI }]);
    expect(members(removed, "production")).toEqual([{ name: "alice", recipient: ALICE }]);
    expect(parseProjectConfig(removed, "/repo/stellar.yaml").config?.environments.find((e) => e.name === "production")?.approved).toEqual([{ name: "alice", by: "bob", date: "2026-12-01T10:00:00Z" }]);
    const approvals = setApprovals(text, "development", []);
    expect(parseProjectConfig(approvals, "/repo/stellar.yaml").config?.environments.find((e) => e.name === "production")?.approved).toEqual([{ name: "alice", by: "bob", date: "2026-12-01T10:00:00Z" }]);
  });
});

describe("editing an environment that is an alias of another (production: *dev)", () => {
  const text = [
    "version: 1",
    "environments:",
    "  development: &dev",
    "    members:",
    `      alice: ${ALICE}`,
    "    pending:",
    "      carol:",
    `        key: ${CI}`,
    "        requested: 2026-12-01T10:00:00Z",
    "  production: *dev",
    "",
  ].join("\n");
  const env = (t: string, name: string) => parseProjectConfig(t, "/p/stellar.yaml").config?.environments.find((e) => e.name === name);

  it("setEnvironmentMembers writes the environment out as what it named, keeping its pending requests; the other environment keeps its own", () => {
    const out = setEnvironmentMembers(text, "production", [
      { name: "alice", recipient: ALICE },
      { name: "bob", recipient: BOB },
    ]);
    expect(env(out, "production")?.members).toEqual([{ name: "alice", recipient: ALICE }, { name: "bob", recipient: BOB }]);
    expect(env(out, "production")?.pending).toEqual([{ name: "carol", recipient: CI, requested: "2026-12-01T10:00:00Z" }]);
    expect(env(out, "development")?.members).toEqual([{ name: "alice", recipient: ALICE }]);
    expect(env(out, "development")?.pending).toEqual([{ name: "carol", recipient: CI, requested: "2026-12-01T10:00:00Z" }]);
    expect(out).not.toContain("*dev");
  });

  it("setPendingRequests and setApprovals edit it too (they refused it as no environment)", () => {
    const out = setPendingRequests(text, "production", []);
    expect(env(out, "production")?.pending).toBeUndefined();
    expect(env(out, "production")?.members).toEqual([{ name: "alice", recipient: ALICE }]);
    expect(env(out, "development")?.pending).toEqual([{ name: "carol", recipient: CI, requested: "2026-12-01T10:00:00Z" }]);
    const approved = setApprovals(text, "production", [{ name: "alice", by: "bob", date: "2026-12-02T09:00:00Z" }]);
    expect(env(approved, "production")?.approved).toEqual([{ name: "alice", by: "bob", date: "2026-12-02T09:00:00Z" }]);
    expect(env(approved, "development")?.approved).toBeUndefined();
  });
});

describe("renderSopsConfig", () => {
  it("writes one creation rule per environment with members, recipients comma-separated", () => {
    const { config } = parseProjectConfig(GOOD, "/repo/stellar.yaml");
    if (config === undefined) throw new Error("no config");
    const text = renderSopsConfig(config);
    expect(text).toBe(
      [
        "# Generated by stellar-secrets from stellar.yaml; edit stellar.yaml instead.",
        "creation_rules:",
        "  - path_regex: (^|/)vault/development\\.enc\\.yaml$",
        `    age: ${ALICE},${CI}`,
        "  - path_regex: (^|/)vault/staging\\.enc\\.yaml$",
        `    age: ${ALICE}`,
        "",
      ].join("\n"),
    );
    const parsed = parse(text) as { creation_rules: { path_regex: string; age: string }[] };
    expect(new RegExp(parsed.creation_rules[0]?.path_regex ?? "").test("vault/development.enc.yaml")).toBe(true);
    expect(new RegExp(parsed.creation_rules[0]?.path_regex ?? "").test("vault/development.enc.yamlx")).toBe(false);
  });
});

describe("access requests and approvals in stellar.yaml", () => {
  const text = [
    "version: 1",
    "environments:",
    "  production:",
    "    # only the on-call team",
    "    members:",
    `      alice: ${ALICE}`,
    "    pending:",
    "      bob:",
    `        key: ${BOB}`,
    "        requested: 2026-12-01T10:00:00Z",
    "",
  ].join("\n");

  it("reads a pending request into the model, grants it nothing, and reports it as info at its name", () => {
    const { config, diagnostics } = parseProjectConfig(text, "/p/stellar.yaml");
    const env = config?.environments[0];
    expect(env?.members.map((m) => m.name)).toEqual(["alice"]);
    expect(env?.pending).toEqual([{ name: "bob", recipient: BOB, requested: "2026-12-01T10:00:00Z" }]);
    expect(diagnostics.map((d) => [d.rule, d.severity, d.line, d.column])).toEqual([["pending-access-request", "info", 8, 7]]);
    expect(diagnostics[0]?.message).toContain("stellar-secrets members approve bob --env production");
  });

  it("a request under a member's name with another key: says so, and does not send the reader to `members approve`, which refuses it (planted-clinic)", () => {
    const { diagnostics } = parseProjectConfig(text.replace("  production:", `  development:\n    members:\n      bob: ${CI}\n  production:`), "/p/stellar.yaml");
    expect(diagnostics.map((d) => [d.rule, d.severity, d.line, d.column])).toEqual([["pending-access-request", "info", 11, 7]]);
    expect(diagnostics[0]?.message).toContain(`bob is a member of development with another key (${CI})`);
    expect(diagnostics[0]?.message).toContain("`members approve` refuses it");
    expect(diagnostics[0]?.message).not.toContain("stellar-secrets members approve bob");
  });

  it("a request whose key is another member's: says whose, and does not send the reader to `members approve`", () => {
    const { diagnostics } = parseProjectConfig(text.replace(`        key: ${BOB}`, `        key: ${ALICE}`), "/p/stellar.yaml");
    expect(diagnostics.map((d) => [d.rule, d.severity, d.line, d.column])).toEqual([["pending-access-request", "info", 8, 7]]);
    expect(diagnostics[0]?.message).toContain('its key is already "alice"\'s (in production)');
    expect(diagnostics[0]?.message).not.toContain("stellar-secrets members approve bob");
  });

  it("an approval of someone who is not a member of the environment: a schema warning at its name, and the commands still load the project (planted-clinic)", () => {
    const stray = text.replace("    pending:", "    approved:\n      erin:\n        by: alice\n        date: 2026-10-01T10:00:00Z\n    pending:");
    const { config, diagnostics } = parseProjectConfig(stray, "/p/stellar.yaml");
    expect(config).toBeDefined();
    expect(diagnostics.map((d) => [d.rule, d.severity, d.line, d.column, d.endColumn])).toEqual([
      ["schema", "warning", 8, 7, 11],
      ["pending-access-request", "info", 12, 7],
    ].map((r) => (r.length === 4 ? [...r, 10] : r)));
    expect(diagnostics[0]?.message).toContain('erin is not a member of production');
  });

  it("rejects a pending entry without a key or with a bad name (schema)", () => {
    const bad = text.replace(`        key: ${BOB}\n`, "").replace("      bob:", "      -bob:");
    const rules = parseProjectConfig(bad, "/p/stellar.yaml").diagnostics.filter((d) => d.severity === "error").map((d) => d.rule);
    expect(rules.length).toBeGreaterThan(0);
    expect(new Set(rules)).toEqual(new Set(["schema"]));
  });

  it("moves a request to an approved member, keeping comments, and drops the pending key when empty", () => {
    let next = setPendingRequests(text, "production", []);
    next = setEnvironmentMembers(next, "production", [
      { name: "alice", recipient: ALICE },
      { name: "bob", recipient: BOB },
    ]);
    next = setApprovals(next, "production", [{ name: "bob", by: "alice", date: "2026-12-02T09:00:00Z" }]);
    expect(next).not.toContain("pending:");
    expect(next).toContain("# only the on-call team");
    const env = parseProjectConfig(next, "/p/stellar.yaml").config?.environments[0];
    expect(env?.members.map((m) => m.name)).toEqual(["alice", "bob"]);
    expect(env?.pending).toBeUndefined();
    expect(env?.approved).toEqual([{ name: "bob", by: "alice", date: "2026-12-02T09:00:00Z" }]);
    // removing the member removes the record of their approval
    const removed = setEnvironmentMembers(next, "production", [{ name: "alice", recipient: ALICE }]);
    expect(removed).not.toContain("approved:");
    expect(parseProjectConfig(removed, "/p/stellar.yaml").diagnostics).toEqual([]);
  });

  it("refuses to record a request for an environment that is not declared", () => {
    expect(() => setPendingRequests(text, "staging", [{ name: "bob", recipient: BOB }])).toThrow(CoreError);
  });
});

describe("parseProjectConfig: credentials in stellar.yaml", () => {
  it("reports a well-known credential format in stellar.yaml (a comment, a value), never showing it; public keys are none", () => {
    const token = ["sk", "live", "51HqLyjWDarjtT1zdp7dcXYZabc123456"].join("_");
    const text = `version: 1\n# ci token ${token}\nenvironments:\n  production:\n    members:\n      alice: age1r7t4nna8sqyctkujc4lwpun9ged8qz0a4vt2esnxcg8cq7cm84kqdr8nx2\n`;
    const { diagnostics } = parseProjectConfig(text, "/p/stellar.yaml");
    expect(diagnostics.map((d) => [d.rule, d.line, d.file])).toEqual([["plaintext-credential", 2, "stellar.yaml"]]);
    expect(JSON.stringify(diagnostics)).not.toContain(token);
    expect(parseProjectConfig(text.replace(`# ci token ${token}\n`, ""), "/p/stellar.yaml").diagnostics).toEqual([]);
  });
});

describe("a member key pasted with a space inside its quotes (planted in a copy of the example organisation)", () => {
  it("the schema error says which key was meant, without the space, as the replacement", () => {
    const key = "age1c2d603ts2jjaevpm8vwkqc3gamt558ehkef0cmsqzhyvc2lpc34sp99fms";
    const { diagnostics } = parseProjectConfig(`version: 1\nenvironments:\n  development:\n    members:\n      bob: "${key} "\n`, "/r/stellar.yaml");
    expect(diagnostics.map((d) => [d.rule, d.line, d.column, d.message, d.suggestion])).toEqual([
      [
        "schema",
        5,
        12,
        `"environments.development.members.bob" is not a member key: an age X25519 public key (age1 followed by 58 lowercase bech32 characters) or an SSH ed25519 public key (ssh-ed25519 AAAA…); did you mean "${key}" (without the spaces around it)?`,
        key,
      ],
    ]);
  });
});
