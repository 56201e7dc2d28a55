import { describe, expect, it } from "vitest";
import { checkSopsConfigs, compileSopsPathRegex, matchSopsRule, parseSopsConfig, sopsConfigCandidates, updateSopsConfig } from "./sops-config.js";

// TEST-ONLY public keys (test/fixtures/keys/)
const ALICE = "age1r7t4nna8sqyctkujc4lwpun9ged8qz0a4vt2esnxcg8cq7cm84kqdr8nx2";
const BOB = "age1c2d603ts2jjaevpm8vwkqc3gamt558ehkef0cmsqzhyvc2lpc34sp99fms";
const CI = "age1j35kngm05hf24f7xa22pf7d0vp2frjdava8pxxzepqszrxqkcu6qwpgj0g";
const MALLORY = "age146egd5gtgw4v00juyu4c9p59ajdf7as5hu9kd40aqex3p55eh9yq8umy2z";

const project = {
  secretsDir: "secrets",
  environments: [
    { name: "development", members: [{ name: "alice", recipient: ALICE }, { name: "bob", recipient: BOB }] },
    { name: "production", members: [{ name: "alice", recipient: ALICE }, { name: "ci", recipient: CI }] },
  ],
};
const honest = `creation_rules:
  - path_regex: (^|/)secrets/development\\.enc\\.yaml$
    age: ${ALICE},${BOB}
  - path_regex: (^|/)secrets/production\\.enc\\.yaml$
    age: ${ALICE},${CI}
`;
const rows = (text: string, path = ".sops.yaml") =>
  checkSopsConfigs(project, new Map([[path, text]])).map((d) => [d.rule, d.severity, d.file, d.line, d.column]);

describe("parseSopsConfig", () => {
  it("reads comma-separated strings (folded too), lists, key_groups with merge, and other key types", () => {
    const c = parseSopsConfig(
      `creation_rules:
  - path_regex: a
    age: >-
      ${ALICE},
      ${BOB}
  - path_regex: b
    age: [" ${ALICE} ", ""]
    pgp: FINGERPRINT
  - key_groups:
      - age: ["${CI},${BOB}"]
        merge:
          - age: [${MALLORY}]
            kms: [{ arn: x }]
    age: ${ALICE}
`,
      ".sops.yaml",
    );
    expect(c.problem).toBeUndefined();
    expect(c.rules.map((r) => [r.pathRegex, r.age, r.otherKeys, r.keyGroups])).toEqual([
      ["a", [ALICE, BOB], [], false],
      ["b", [ALICE], ["pgp"], false],
      [undefined, [CI, BOB, MALLORY], ["kms"], true],
    ]);
  });

  it("counts a sops plugin key (plugins, also in a key group) as another key type: sops wraps the data key for it", () => {
    const c = parseSopsConfig(
      `creation_rules:
  - path_regex: a
    age: ${ALICE}
    plugins:
      - binary_name: sops-keyservice
        config: { url: https://keys.example.test }
  - path_regex: b
    key_groups:
      - age: [${ALICE}]
        plugins: [{ binary_name: x }]
`,
      ".sops.yaml",
    );
    expect(c.rules.map((r) => [r.pathRegex, r.otherKeys])).toEqual([
      ["a", ["plugins"]],
      ["b", ["plugins"]],
    ]);
  });

  it("reads YAML aliases and merge keys as sops (yaml.v3) does: an anchored key list cannot hide a recipient", () => {
    const c = parseSopsConfig(
      `keys:
  - &team ${ALICE},${MALLORY}
  - &pgp FINGERPRINT
base: &base
  path_regex: b
  age: [*team]
creation_rules:
  - path_regex: a
    age: *team
  - <<: *base
  - <<: [*base]
    path_regex: c
    pgp: *pgp
`,
      ".sops.yaml",
    );
    expect(c.problem).toBeUndefined();
    expect(c.rules.map((r) => [r.pathRegex, r.age, r.otherKeys])).toEqual([
      ["a", [ALICE, MALLORY], []],
      ["b", [ALICE, MALLORY], []],
      ["c", [ALICE, MALLORY], ["pgp"]],
    ]);
  });

  it("reads the first YAML document only, as sops does (yaml.v3 Unmarshal): a second one cannot hide the first", () => {
    const first = `creation_rules:\n  - path_regex: a\n    age: ${ALICE},${MALLORY}\n`;
    const second = `creation_rules:\n  - path_regex: a\n    age: ${ALICE}\n`;
    const c = parseSopsConfig(`${first}---\n${second}`, ".sops.yaml");
    expect(c.problem).toBeUndefined();
    expect(c.rules.map((r) => r.age)).toEqual([[ALICE, MALLORY]]);
    expect(parseSopsConfig(`---\n${first}---\n${second}`, ".sops.yaml").rules.map((r) => r.age)).toEqual([[ALICE, MALLORY]]);
  });

  it("reads !!binary scalars as the text sops decodes them to (yaml.v3 gives a string), in key lists and path_regex", () => {
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const c = parseSopsConfig(
      `creation_rules:\n  - path_regex: !!binary ${b64("a$")}\n    age: !!binary ${b64(`${ALICE},${MALLORY}`)}\n  - path_regex: b\n    age: [!!binary ${b64(MALLORY)}]\n`,
      ".sops.yaml",
    );
    expect(c.rules.map((r) => [r.pathRegex, r.age])).toEqual([
      ["a$", [ALICE, MALLORY]],
      ["b", [MALLORY]],
    ]);
  });

  it("refuses a duplicate key as sops (yaml.v3) does, at the repeated key, instead of reading the first", () => {
    // a second creation_rules: sops refuses the file; the first list must not be what is checked
    const twoLists = `creation_rules:\n  - path_regex: a\n    age: ${ALICE}\ncreation_rules:\n  - path_regex: a\n    age: ${MALLORY}\n`;
    const c = parseSopsConfig(twoLists, ".sops.yaml");
    expect(c.rules).toEqual([]);
    expect(c.problem?.message).toBe('.sops.yaml has the key "creation_rules" twice in one mapping (lines 1 and 4): sops (Go yaml.v3) refuses such a file, so it is not read as its first key either; remove one');
    expect(c.lines.positionAt(c.problem!.range.start)).toEqual({ line: 4, column: 1 });
    // two path_regex (or age) in one rule, a quoted and a plain spelling of one key, two merge keys
    for (const [text, line] of [
      [`creation_rules:\n  - path_regex: other/\n    path_regex: a\n    age: ${MALLORY}\n`, 3],
      [`creation_rules:\n  - path_regex: a\n    age: ${ALICE}\n    "age": ${MALLORY}\n`, 4],
      [`x: &x { age: ${ALICE} }\ncreation_rules:\n  - <<: *x\n    <<: *x\n`, 4],
      [`creation_rules:\n  - key_groups:\n      - age: [${ALICE}]\n        age: [${MALLORY}]\n`, 4],
      // a key written as an alias of a key's text: yaml.v3 sets the field twice ("field age already set", tried with yaml.v3), sops refuses the file
      [`creation_rules:\n  - path_regex: a\n    &k age: ${ALICE}\n    *k : ${MALLORY}\n`, 4],
    ] as const) {
      const d = parseSopsConfig(text, ".sops.yaml");
      expect(d.rules, text).toEqual([]);
      expect(d.problem?.message, text).toMatch(/twice in one mapping/);
      expect(d.lines.positionAt(d.problem!.range.start).line, text).toBe(line);
    }
    // the same key in two different mappings is no duplicate
    expect(parseSopsConfig(honest, ".sops.yaml").problem).toBeUndefined();
  });

  it("says how to fix a .sops.yaml sops refuses with a command that does rewrite it (members list writes nothing)", () => {
    const aliasKey = `creation_rules:\n  - path_regex: (^|/)secrets/development\\.enc\\.yaml$\n    &k age: ${ALICE}\n    *k : ${MALLORY}\n`;
    const [d] = checkSopsConfigs(project, new Map([[".sops.yaml", aliasKey]]));
    expect([d?.rule, d?.severity, d?.line, d?.column]).toEqual(["sops-config-drift", "warning", 4, 5]);
    expect(d?.message).toMatchInlineSnapshot(`".sops.yaml has the key "age" twice in one mapping (lines 3 and 4): sops (Go yaml.v3) refuses such a file, so it is not read as its first key either; remove one; until then who the plain sops CLI encrypts the secrets files for cannot be checked. Fix .sops.yaml by hand, or delete it: the next \`stellar-secrets members add\` or \`members rm\` writes it anew from stellar.yaml"`);
    const [broken] = checkSopsConfigs(project, new Map([[".sops.yaml", "creation_rules: [\n"]]));
    expect(broken?.message).not.toContain("members list");
  });

  it("reports a file sops cannot read instead of throwing", () => {
    expect(parseSopsConfig("creation_rules: [", ".sops.yaml").problem?.message).toMatch(/not valid YAML/);
    expect(parseSopsConfig("- a\n", ".sops.yaml").problem?.message).toMatch(/not a YAML mapping/);
    expect(parseSopsConfig("creation_rules: 3\n", ".sops.yaml").problem?.message).toMatch(/not a list/);
    expect(parseSopsConfig("", ".sops.yaml")).toMatchObject({ problem: undefined, rules: [] });
  });
});

describe("matchSopsRule", () => {
  it("takes the first rule whose unanchored regex matches the path relative to the config's folder", () => {
    const c = parseSopsConfig(`creation_rules:\n  - path_regex: ^production\n    age: ${BOB}\n  - path_regex: prod\n    age: ${ALICE}\n  - age: ${CI}\n`, "secrets/.sops.yaml");
    expect(matchSopsRule(c, "secrets/production.enc.yaml").rule?.index).toBe(0);
    expect(matchSopsRule(c, "secrets/development.enc.yaml").rule?.index).toBe(2);
    const root = parseSopsConfig(`creation_rules:\n  - path_regex: ^production\n    age: ${BOB}\n`, ".sops.yaml");
    expect(matchSopsRule(root, "secrets/production.enc.yaml").rule).toBeUndefined();
  });

  it("reads Go's (?i) flags and (?P<name>) groups; a regex it cannot compile leaves the match undetermined", () => {
    expect(compileSopsPathRegex("(?i)SECRETS/(?P<env>[a-z]+)")?.test("secrets/dev")).toBe(true);
    // (?U) changes no match (RE2 reads it, so does this); flags after the start are not translated
    expect(compileSopsPathRegex("(?U)a")?.test("xa")).toBe(true);
    expect(compileSopsPathRegex("a(?i)b")).toBeUndefined();
    const c = parseSopsConfig(`creation_rules:\n  - path_regex: "("\n    age: ${BOB}\n  - age: ${ALICE}\n`, ".sops.yaml");
    expect(matchSopsRule(c, "secrets/x.enc.yaml")).toMatchObject({ rule: undefined, undetermined: { index: 0 } });
  });
});

describe("checkSopsConfigs (sops-config-drift)", () => {
  it("is silent when each environment's rule names exactly its members", () => {
    expect(rows(honest)).toEqual([]);
  });

  it("reads a member's age1… key written in capitals (bech32 ignores case; sops reads it as the same key) as that member", () => {
    expect(rows(honest.replace(`${ALICE},${CI}`, `${ALICE.toUpperCase()},${CI}`))).toEqual([]);
    // mixed case is no bech32 string: another recipient, reported as before
    const mixed = `${ALICE.slice(0, 10).toUpperCase()}${ALICE.slice(10)}`;
    expect(rows(honest.replace(`${ALICE},${CI}`, `${mixed},${CI}`))).toEqual([
      ["sops-config-drift", "error", ".sops.yaml", 5, 10],
      ["sops-config-drift", "warning", ".sops.yaml", 5, 10],
    ]);
  });

  it("reports an extra recipient as an error at the rule's age value, and a missing member as a warning", () => {
    const text = honest.replace(`${ALICE},${CI}`, `${ALICE},${MALLORY}`);
    expect(rows(text)).toEqual([
      ["sops-config-drift", "error", ".sops.yaml", 5, 10],
      ["sops-config-drift", "warning", ".sops.yaml", 5, 10],
    ]);
    const [extra] = checkSopsConfigs(project, new Map([[".sops.yaml", text]]));
    expect(extra?.message).toContain(`${MALLORY} (not a member of any environment)`);
    expect(extra?.message).not.toContain("members add mallory");
  });

  it("a catch-all rule above an environment's own rule: says the later rule is never reached, and how to fix the order (planted-clinic)", () => {
    const text = `creation_rules:
  - path_regex: (^|/)secrets/development\\.enc\\.yaml$
    age: ${ALICE},${BOB}
  - path_regex: secrets/.*\\.enc\\.yaml$
    age: ${ALICE},${BOB}
  - path_regex: (^|/)secrets/production\\.enc\\.yaml$
    age: ${ALICE},${CI}
`;
    // one finding (the mistake is the order), an error since the rule sops uses names a non-member
    expect(rows(text)).toEqual([["sops-config-drift", "error", ".sops.yaml", 5, 10]]);
    const [d] = checkSopsConfigs(project, new Map([[".sops.yaml", text]]));
    expect(d?.message).toBe(
      `creation rule 3 of .sops.yaml, written for secrets/production.enc.yaml, is never used for it: sops takes the first rule whose path_regex matches, and rule 2 matches it first; move rule 3 above rule 2. ` +
        `Until then a file the plain sops CLI creates there is encrypted to rule 2's keys, which name ${BOB} (bob, a member of development), not a member of production (it would give them access), and do not name ci (${CI}), a member of production (it would not open for them)`,
    );
    // a catch-all that lacks a member only: one warning
    expect(rows(text.replace(`    age: ${ALICE},${BOB}\n  - path_regex: (^|/)secrets/production`, `    age: ${ALICE}\n  - path_regex: (^|/)secrets/production`))).toEqual([["sops-config-drift", "warning", ".sops.yaml", 5, 10]]);
  });

  it("does not assume a change added the extra key: a member removed from stellar.yaml without a rotation leaves their key there too", () => {
    const [extra] = checkSopsConfigs(project, new Map([[".sops.yaml", honest.replace(`${ALICE},${CI}`, `${ALICE},${CI},${MALLORY}`)]]));
    expect(extra?.message).not.toContain("revert the change that added them rather");
    expect(extra?.message).toContain("if a change added them there, revert it (never make them members to silence this); otherwise (e.g. they were removed as members), stellar.yaml is the source of truth");
  });

  it("reports other key types and a catch-all rule that serves environments with different members", () => {
    expect(rows(`creation_rules:\n  - age: ${ALICE},${BOB}\n    kms: arn:aws:kms:x\n`)).toEqual([
      ["sops-config-drift", "error", ".sops.yaml", 2, 10],
      ["sops-config-drift", "error", ".sops.yaml", 2, 10],
      ["sops-config-drift", "warning", ".sops.yaml", 2, 10],
    ]);
  });

  it("warns about a duplicate key at its line, as about any file sops cannot read, and never checks the first key in its place", () => {
    // the first age would match (no drift); sops refuses the file, so it is reported, not passed
    const text = `creation_rules:\n  - path_regex: (^|/)secrets/development\\.enc\\.yaml$\n    age: ${ALICE},${BOB}\n    age: ${MALLORY}\n`;
    expect(rows(text)).toEqual([["sops-config-drift", "warning", ".sops.yaml", 4, 5]]);
    expect(updateSopsConfig(text, ".sops.yaml", project)).toBeUndefined();
  });

  it("ignores environments no rule matches; warns about unreadable files and regexes", () => {
    expect(rows(`creation_rules:\n  - path_regex: other/\n    age: ${MALLORY}\n`)).toEqual([]);
    expect(rows("creation_rules: [")).toEqual([["sops-config-drift", "warning", ".sops.yaml", 1, 18]]);
    expect(rows(`creation_rules:\n  - path_regex: "a(?i)x"\n    age: ${ALICE}\n`)).toEqual([["sops-config-drift", "warning", ".sops.yaml", 3, 10]]);
  });

  it("reads a path_regex as RE2 reads it (sops' Go regexp), never as another JavaScript pattern: \\Q…\\E, \\A, \\z, \\pL, \\x{…}, [[:alpha:]], (?U)", () => {
    // each matches secrets/production.enc.yaml in Go's RE2 (so sops uses the rule); JavaScript read some as letters
    for (const re of ["\\Qproduction.enc\\E", "\\Asecrets/production", "production\\.enc\\.yaml\\z", "p\\pLoduction", "pro\\x{64}uction", "prod[[:alpha:]]+", "(?U)prod"]) {
      expect(compileSopsPathRegex(re)?.test("secrets/production.enc.yaml"), re).toBe(true);
    }
    // and one RE2 reads as not matching does not match here either
    expect(compileSopsPathRegex("\\Qprod.*\\E")?.test("secrets/production.enc.yaml")).toBe(false);
    expect(compileSopsPathRegex("\\Aproduction")?.test("secrets/production.enc.yaml")).toBe(false);
    // a rule for an outsider before the members' rules, in such syntax, is the usual error
    const found = checkSopsConfigs(project, new Map([[".sops.yaml", `creation_rules:\n  - path_regex: '\\Qproduction.enc\\E'\n    age: ${MALLORY}\n` + honest.slice("creation_rules:\n".length)]]));
    expect(found.map((d) => [d.rule, d.severity, d.line])).toEqual([["sops-config-drift", "error", 3]]);
    expect(found[0]?.message).toContain(`rule 1 matches it first; move rule 3 above rule 1. Until then a file the plain sops CLI creates there is encrypted to rule 1's keys, which name ${MALLORY} (not a member of any environment), not a member of production`);
  });

  it("is an error when a rule whose regex it cannot read (sops may use it) names a non-member, a warning when it names members only", () => {
    // flags after the start: valid RE2 (sops reads it), not translated here
    const found = checkSopsConfigs(project, new Map([[".sops.yaml", `creation_rules:\n  - path_regex: 'prod(?i)uction'\n    age: ${MALLORY}\n` + honest.slice("creation_rules:\n".length)]]));
    expect(found.map((d) => [d.rule, d.severity, d.line])).toEqual([
      ["sops-config-drift", "error", 3],
      ["sops-config-drift", "error", 3],
    ]);
    expect(found[1]?.message).toContain(`so sops may use it for secrets/production.enc.yaml, and it names ${MALLORY}, not a member of production`);
    expect(found[1]?.message).toContain("(^|/)secrets/production\\.enc\\.yaml$");
    expect(rows(`creation_rules:\n  - path_regex: "a(?i)x"\n    age: ${ALICE}\n    pgp: ABCDEF\n`).map((r) => r[1])).toEqual(["error", "error"]);
    // members of every environment only: which rule sops uses is still unknown, a warning
    expect(rows(`creation_rules:\n  - path_regex: "a(?i)x"\n    age: ${ALICE}\n`)).toEqual([["sops-config-drift", "warning", ".sops.yaml", 3, 10]]);
  });

  it("warns when the rules meant for the environment files match none of some (a renamed secrets folder): sops refuses to create them, members add/rm cannot update them", () => {
    const text = `creation_rules:\n  - path_regex: (^|/)secrets/development\\.enc\\.yaml$\n    age: ${ALICE},${BOB}\n  - path_regex: (^|/)secrets/production\\.enc\\.yaml$\n    age: ${ALICE},${CI}\n`;
    expect(rows(text)).toEqual([]);
    const moved = checkSopsConfigs({ ...project, secretsDir: "vault" }, new Map([[".sops.yaml", text]]));
    expect(moved.map((d) => [d.rule, d.severity, d.file, d.line, d.column, d.endColumn])).toEqual([["sops-config-drift", "warning", ".sops.yaml", 1, 1, 15]]);
    expect(moved[0]?.message).toContain("no creation rule of .sops.yaml matches vault/development.enc.yaml, vault/production.enc.yaml: the plain sops CLI refuses");
    expect(moved[0]?.message).toContain("path_regex: (^|/)vault/development\\.enc\\.yaml$");
  });

  it("checks a .sops.yaml in the secrets folder against paths relative to it", () => {
    expect(rows(`creation_rules:\n  - path_regex: ^development\n    age: ${ALICE},${BOB}\n  - path_regex: ^production\n    age: ${ALICE},${CI},${BOB}\n`, "secrets/.sops.yaml")).toEqual([
      ["sops-config-drift", "error", "secrets/.sops.yaml", 5, 10],
    ]);
  });
});

describe("sopsConfigCandidates", () => {
  it("lists the root's and every folder's down to the secrets folder", () => {
    expect(sopsConfigCandidates("secrets")).toEqual([".sops.yaml", "secrets/.sops.yaml"]);
    expect(sopsConfigCandidates("ops/secrets/")).toEqual([".sops.yaml", "ops/.sops.yaml", "ops/secrets/.sops.yaml"]);
  });
});

describe("updateSopsConfig", () => {
  it("adds a rule, as init writes one, for an environment named in addRulesFor that no rule matches (and only then)", () => {
    const onlyDevelopment = `# keep me
creation_rules:
  - path_regex: (^|/)secrets/development\\.enc\\.yaml$
    age: ${ALICE},${BOB}
`;
    // without addRulesFor an environment with no rule is left alone (as before)
    expect(updateSopsConfig(onlyDevelopment, ".sops.yaml", project)).toBeUndefined();
    const next = updateSopsConfig(onlyDevelopment, ".sops.yaml", project, { addRulesFor: ["production"] }) as string;
    expect(next).toBe(`${onlyDevelopment}  - path_regex: (^|/)secrets/production\\.enc\\.yaml$
    age: ${ALICE},${CI}
`);
    expect(rows(next)).toEqual([]);
    expect(updateSopsConfig(next, ".sops.yaml", project, { addRulesFor: ["production"] })).toBeUndefined();
    // addOnly: the missing rule is added, an out-of-step rule of another environment left as it is
    const stale = onlyDevelopment.replace(`${ALICE},${BOB}`, ALICE);
    expect(updateSopsConfig(stale, ".sops.yaml", project, { addRulesFor: ["production"], addOnly: true })).toBe(`${stale}  - path_regex: (^|/)secrets/production\\.enc\\.yaml$
    age: ${ALICE},${CI}
`);
    // relative to a config in the secrets folder; an empty flow list becomes a block list
    const inFolder = updateSopsConfig("creation_rules: []\n", "secrets/.sops.yaml", project, { addRulesFor: ["production"] }) as string;
    expect(inFolder).toBe(`creation_rules:\n  - path_regex: (^|/)production\\.enc\\.yaml$\n    age: ${ALICE},${CI}\n`);
    // an environment with no members gets no rule (sops could encrypt to nobody)
    const empty = { secretsDir: "secrets", environments: [{ name: "preview", members: [] }] };
    expect(updateSopsConfig("creation_rules: []\n", ".sops.yaml", empty, { addRulesFor: ["preview"] })).toBeUndefined();
  });
  it("keeps CRLF line endings and a byte order mark", () => {
    const text = `\uFEFF# keep me\r\ncreation_rules:\r\n  - path_regex: (^|/)secrets/development\\.enc\\.yaml$\r\n    age: ${MALLORY}\r\n`;
    const next = updateSopsConfig(text, ".sops.yaml", project) as string;
    expect(next.startsWith("\uFEFF# keep me\r\ncreation_rules:\r\n")).toBe(true);
    expect(next).not.toMatch(/[^\r]\n/);
    expect(next).not.toContain(MALLORY);
  });
  it("sets the matching rules to the members in place, keeping comments, forms and other rules", () => {
    const text = `# keep me
creation_rules:
  # development
  - path_regex: (^|/)secrets/development\\.enc\\.yaml$
    age: ${ALICE}
  - path_regex: (^|/)secrets/production\\.enc\\.yaml$
    age:
      - ${MALLORY}
  - path_regex: unrelated/
    pgp: FINGERPRINT
`;
    const next = updateSopsConfig(text, ".sops.yaml", project) as string;
    expect(next).toBe(`# keep me
creation_rules:
  # development
  - path_regex: (^|/)secrets/development\\.enc\\.yaml$
    age: ${ALICE},${BOB}
  - path_regex: (^|/)secrets/production\\.enc\\.yaml$
    age:
      - ${ALICE}
      - ${CI}
  - path_regex: unrelated/
    pgp: FINGERPRINT
`);
    expect(rows(next)).toEqual([]);
    expect(updateSopsConfig(next, ".sops.yaml", project)).toBeUndefined();
  });

  it("inserts a rule for one environment before a rule it shares with environments of other members", () => {
    const next = updateSopsConfig(`creation_rules:\n  - age: ${ALICE},${BOB}\n`, ".sops.yaml", project) as string;
    expect(rows(next)).toEqual([]);
    // development's members are the catch-all's already; production gets a rule of its own before it
    expect(parseSopsConfig(next, ".sops.yaml").rules.map((r) => [r.pathRegex, r.age])).toEqual([
      ["(^|/)secrets/production\\.enc\\.yaml$", [ALICE, CI]],
      [undefined, [ALICE, BOB]],
    ]);
  });

  it("updates a single key group, leaves several groups and unreadable files alone", () => {
    const one = updateSopsConfig(`creation_rules:\n  - key_groups:\n      - age: [${MALLORY}]\n`, ".sops.yaml", { ...project, environments: [project.environments[0]!] }) as string;
    expect(parseSopsConfig(one, ".sops.yaml").rules[0]?.age).toEqual([ALICE, BOB]);
    const dev = { ...project, environments: [project.environments[0]!] };
    expect(updateSopsConfig(`creation_rules:\n  - key_groups:\n      - age: [${MALLORY}]\n      - age: [${ALICE}]\n`, ".sops.yaml", dev)).toBeUndefined();
    expect(updateSopsConfig("creation_rules: [", ".sops.yaml", project)).toBeUndefined();
  });

  // found by scripts/fuzz-config-merge.mjs: `members add` on a .sops.yaml whose other rule names the same
  // keys through an alias threw an uncoded "Unresolved alias" from the YAML writer
  it("rewrites a rule whose recipients another rule names through an alias: the alias becomes a copy of what it named", () => {
    const text = `creation_rules:\n  - path_regex: (^|/)secrets/development\\.enc\\.yaml$\n    age: &keys ${ALICE},${CI}\n  - path_regex: (^|/)secrets/production\\.enc\\.yaml$\n    age: *keys\n`;
    const next = updateSopsConfig(text, ".sops.yaml", project) as string;
    expect(parseSopsConfig(next, ".sops.yaml").rules.map((r) => r.age)).toEqual([
      [ALICE, BOB],
      [ALICE, CI],
    ]);
    expect(rows(next)).toEqual([]);
    // a whole rule behind an alias (production's rule a copy of development's, with a merge key)
    const whole = `creation_rules:\n  - &dev\n    path_regex: (^|/)secrets/(development|production)\\.enc\\.yaml$\n    age: ${ALICE},${CI}\n  - *dev\n`;
    const dev = { ...project, environments: [project.environments[0]!] };
    const next2 = updateSopsConfig(whole, ".sops.yaml", dev) as string;
    expect(parseSopsConfig(next2, ".sops.yaml").rules.map((r) => r.age)).toEqual([
      [ALICE, BOB],
      [ALICE, CI],
    ]);
  });
});

describe("checkSopsConfigs: the .sops.yaml of the folders above a project in a subfolder", () => {
  const above = (text: string, path = "../.sops.yaml", prefix = "infra") => checkSopsConfigs(project, new Map(), { prefix, configs: new Map([[path, text]]) });
  it("matches its rules against the path from its folder, and reports a non-member at the file above the root", () => {
    const [d, ...rest] = above(`creation_rules:\n  - path_regex: ^infra/secrets/production\\.enc\\.yaml$\n    age: ${ALICE},${MALLORY}\n`);
    expect(rest).toEqual([]);
    expect([d?.rule, d?.severity, d?.file, d?.line]).toEqual(["sops-config-drift", "error", "../.sops.yaml", 3]);
    expect(d?.message).toContain(MALLORY);
    expect(d?.message).toContain("plain sops run in the top of the work tree");
    expect(d?.message).toContain("`sops updatekeys infra/secrets/ENV.enc.yaml`");
    // from a folder between: teams/infra's project, the config in teams/
    const [mid] = above(`creation_rules:\n  - path_regex: ^infra/secrets/\n    age: ${MALLORY}\n`, "../.sops.yaml", "teams/infra");
    expect([mid?.file, mid?.severity]).toEqual(["../.sops.yaml", "error"]);
    expect(mid?.message).toContain("teams/ (from the top of the work tree)");
  });
  it("reports only errors there: rules for other files, a member missing, an unreadable file are not the project's concern", () => {
    expect(above(`creation_rules:\n  - path_regex: ^k8s/.*\\.enc\\.yaml$\n    age: ${MALLORY}\n`)).toEqual([]);
    expect(above(`creation_rules:\n  - path_regex: ^infra/secrets/\n    age: ${ALICE}\n`)).toEqual([]);
    expect(above("creation_rules: [\n")).toEqual([]);
    // a path_regex written from the project's folder does not match from the top: sops there uses no rule of it
    expect(above(`creation_rules:\n  - path_regex: ^secrets/production\\.enc\\.yaml$\n    age: ${MALLORY}\n`)).toEqual([]);
  });
});

describe("checkSopsConfigs: age keys written as one entry (planted in a copy of the example organisation)", () => {
  it("keys separated by spaces or line breaks are one entry sops cannot parse: one warning per rule saying to use commas or a list, and the rule judged by the keys meant", () => {
    const text = `creation_rules:
  - path_regex: (^|/)secrets/development\\.enc\\.yaml$
    age: [${ALICE} ${BOB}]
  - path_regex: (^|/)secrets/production\\.enc\\.yaml$
    age: |
      ${ALICE}
      ${CI}
`;
    const found = checkSopsConfigs(project, new Map([[".sops.yaml", text]]));
    expect(found.map((d) => [d.rule, d.severity, d.line, d.column])).toEqual([
      ["sops-config-drift", "warning", 3, 10],
      ["sops-config-drift", "warning", 5, 10],
    ]);
    expect(found[0]?.message).toBe(
      "creation rule 1 of .sops.yaml writes two or more age keys as one entry, separated by spaces: sops splits the age keys of a rule at commas only, so it takes that entry for one key, which does not parse: it refuses to encrypt with this rule, and `sops updatekeys` fails for its files; separate the keys with commas (`age: KEY1,KEY2`) or list one per line (`- KEY1`)",
    );
    expect(found[1]?.message).toContain("as one entry, separated by line breaks: ");
    // a non-member hidden in such an entry is still an error
    const hidden = checkSopsConfigs(project, new Map([[".sops.yaml", text.replace(`${ALICE} ${BOB}`, `${ALICE} ${BOB} ${MALLORY}`)]]));
    expect(hidden.map((d) => [d.severity, d.line])).toEqual([
      ["warning", 3],
      ["error", 3],
      ["warning", 5],
    ]);
    // an ssh-ed25519 recipient has spaces of its own: no such warning (it is judged as a key, here a non-member)
    const ssh = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9V8m6E2mXk3xXcKm1tq2dC3z2b3bSxq5Yk0b4b4b4b mallory@laptop";
    expect(checkSopsConfigs(project, new Map([[".sops.yaml", honest.replace(`age: ${ALICE},${BOB}`, `age: ${ALICE},${BOB},${ssh}`)]])).map((d) => [d.severity, d.line, d.message.includes("as one entry")])).toEqual([["error", 3, false]]);
    // commas (with spaces around them), a list and a folded string are what sops reads: nothing to say
    expect(rows(`creation_rules:\n  - path_regex: (^|/)secrets/development\\.enc\\.yaml$\n    age: "${ALICE} , ${BOB}"\n  - path_regex: (^|/)secrets/production\\.enc\\.yaml$\n    age:\n      - ${ALICE}\n      - ${CI}\n`)).toEqual([]);
  });
});
