// An environment file's sops key groups compared with its .sops.yaml creation rule's (recipient-drift).
// The files are made as sops 3.13 writes a file under a key_groups rule (read from getsops/sops:
// metadataFromInternal writes the groups only when there are several, with `age` and `hc_vault`
// always present in a group; the metadata is serialised through a sorted map, so its keys and an
// age entry's `enc`/`recipient` are alphabetical; UpdateMasterKeys writes shamir_threshold = the
// number of groups when the rule has none), the data key split by the independent oracle
// (python, SOPS-FORMAT §5) and each share wrapped with the age CLI for the TEST-ONLY keys of
// packages/sops/test-fixtures/keys (alice, bob, carol).
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decryptSecrets } from "@stellar-secrets/sops";
import { ageWrapSync, oracleEncrypt, oracleMac, oracleShamirSplit, testKey } from "../../sops/test-fixtures/support.js";
import { checkWorkspace } from "./check.js";
import { keyGroupsRuleProblems } from "./key-groups-rule.js";
import { loadWorkspace } from "./load.js";
import { parseEnvironmentFile } from "./secrets-dir.js";
import { memoryFs } from "./test-support/memory-fs.js";

const alice = testKey("alice");
const bob = testKey("bob");
const carol = testKey("carol");
const FILE = "secrets/production.enc.yaml";

/** A sops 3.13 YAML file of `values` under key groups of age recipients, as sops writes it for a key_groups rule (several groups). */
function sopsKeyGroupsFile(values: Record<string, string>, groups: string[][], threshold = groups.length): { text: string; dataKey: Buffer } {
  const dataKey = randomBytes(32);
  const shares = oracleShamirSplit(dataKey, groups.length, threshold);
  const lastmodified = "2026-12-01T10:00:00Z";
  const body = Object.entries(values).map(([k, v]) => `${k}: ${oracleEncrypt(dataKey, v, `${k}:`)}\n`).join("");
  const block = (text: string, indent: number) => text.trimEnd().split("\n").map((l) => `${" ".repeat(indent)}${l}\n`).join("");
  let kg = "    key_groups:\n";
  groups.forEach((g, i) => {
    kg += "        - age:\n";
    for (const r of g) kg += `            - enc: |\n${block(ageWrapSync(shares[i]!, r), 16)}              recipient: ${r}\n`;
    kg += "          hc_vault: []\n";
  });
  const mac = oracleEncrypt(dataKey, oracleMac(Object.values(values)), lastmodified);
  const text = `${body}sops:\n${kg}    lastmodified: "${lastmodified}"\n    mac: ${mac}\n    shamir_threshold: ${threshold}\n    unencrypted_suffix: _unencrypted\n    version: 3.13.2\n`;
  return { text, dataKey };
}

const project = {
  environments: [
    {
      name: "production",
      members: [
        { name: "alice", recipient: alice.recipient },
        { name: "bob", recipient: bob.recipient },
      ],
    },
  ],
};

const rule = (groups: string[][], threshold?: number) =>
  `creation_rules:\n  - path_regex: secrets/production\\.enc\\.yaml$\n${threshold === undefined ? "" : `    shamir_threshold: ${threshold}\n`}    key_groups:\n${groups.map((g) => `      - age:\n${g.map((r) => `          - ${r}\n`).join("")}`).join("")}`;

const problems = (text: string, sopsYaml: string) => keyGroupsRuleProblems(project, parseEnvironmentFile(text, FILE, "production"), new Map([[".sops.yaml", sopsYaml]]));

describe("a key-groups file against its .sops.yaml rule's key groups", () => {
  const two = sopsKeyGroupsFile({ stripe_api_key: "sk_test_TESTONLY" }, [[alice.recipient], [bob.recipient]], 2);

  it("the fixture is a sops key-groups file our reader opens with both groups' keys (and only then)", async () => {
    const values = await decryptSecrets(two.text, [alice.identity, bob.identity]);
    expect(values.values.get("stripe_api_key")).toBe("sk_test_TESTONLY");
    await expect(decryptSecrets(two.text, [alice.identity])).rejects.toThrow();
    const kg = parseEnvironmentFile(two.text, FILE, "production").keyGroups;
    expect([kg?.groups.map((g) => g.stanzas.map((s) => s.recipient)), kg?.threshold, kg?.thresholdWritten]).toEqual([[[alice.recipient], [bob.recipient]], 2, true]);
  });

  it("no finding when the file has the rule's groups and threshold (a rule without shamir_threshold: sops writes the number of groups); nor for the groups in another order", () => {
    expect(problems(two.text, rule([[alice.recipient], [bob.recipient]], 2))).toEqual([]);
    expect(problems(two.text, rule([[alice.recipient], [bob.recipient]]))).toEqual([]);
    expect(problems(two.text, rule([[bob.recipient], [alice.recipient]], 2))).toEqual([]);
  });

  it("a key in the file's group that the rule names nowhere is an error, naming the group, the rule's line, updatekeys and revert", () => {
    const three = sopsKeyGroupsFile({ stripe_api_key: "sk_test_TESTONLY" }, [[alice.recipient], [bob.recipient, carol.recipient]], 2);
    const found = problems(three.text, rule([[alice.recipient], [bob.recipient]], 2));
    expect(found.map((p) => p.severity)).toEqual(["error"]);
    const c = `${carol.recipient.slice(0, 20)}… (not a member of production)`;
    expect(found[0]!.message).toBe(
      `the production file's sops.key_groups are not those of creation rule 1 of .sops.yaml (line 4), which sops uses for ${FILE}: ` +
        `the file has 2 groups, any 2 of which decrypt it (group 1: alice; group 2: bob, ${c}), the rule has 2 groups, any 2 of which decrypt it (group 1: alice; group 2: bob); ` +
        `the file's group 2 holds ${c}, which the rule's does not, so the file gives ${c} a share, which the rule gives them nowhere; ` +
        `if the rule's groups are the ones meant, \`sops updatekeys ${FILE}\`, by someone whose keys open enough of the file's groups, gives the file the rule's groups; ` +
        `if the file's are, write them in the rule; ` +
        `if a change put ${c} in the file, revert it (\`git log -p -- ${FILE}\` shows it; never add them to the rule to silence this)`,
    );
    // reported at the file's key_groups key
    const text = three.text;
    const range = found[0]!.range;
    expect(text.slice(range.start, range.end)).toBe("key_groups");
  });

  it("a rule whose group the file lacks a key of, or a threshold that differs, is said; a lower threshold than the rule's is an error, a missing key a warning", () => {
    // the rule gave carol a key in group 2 after the file was written: the file lags (a warning)
    const lag = problems(two.text, rule([[alice.recipient], [bob.recipient, carol.recipient]], 2));
    expect(lag.map((p) => p.severity)).toEqual(["warning"]);
    expect(lag[0]!.message).toContain(`; the rule's group 2 names ${carol.recipient.slice(0, 20)}… (not a member of production), which the file's does not; if the rule's groups`);
    // a 2-of-3 file under a 3-of-3 rule: fewer groups decrypt it than the rule asks
    const loose = sopsKeyGroupsFile({ stripe_api_key: "sk_test_TESTONLY" }, [[alice.recipient], [bob.recipient], [carol.recipient]], 2);
    const weaker = problems(loose.text, rule([[alice.recipient], [bob.recipient], [carol.recipient]], 3));
    expect(weaker.map((p) => p.severity)).toEqual(["error"]);
    expect(weaker[0]!.message).toContain("; the file needs 2 groups together, the rule 3, so fewer groups than the rule asks for decrypt it; ");
    expect(weaker[0]!.message).toContain("(it keeps the file's shamir_threshold: it reads only the rule's groups)");
    // the other way round: stricter than the rule, a warning
    expect(problems(loose.text, rule([[alice.recipient], [bob.recipient], [carol.recipient]], 1)).map((p) => p.severity)).toEqual(["warning"]);
  });

  it("a rule with a plain age list (one group: sops would write no split) under a key-groups file is said", () => {
    const found = problems(two.text, `creation_rules:\n  - path_regex: secrets/production\\.enc\\.yaml$\n    age: ${alice.recipient},${bob.recipient}\n`);
    expect(found.map((p) => p.severity)).toEqual(["warning"]);
    expect(found[0]!.message).toBe(
      `the production file's sops.key_groups are not those of creation rule 1 of .sops.yaml (line 3), which sops uses for ${FILE}: ` +
        "the file has 2 groups, any 2 of which decrypt it (group 1: alice; group 2: bob), the rule names one list of keys, any of which decrypts a file sops writes under it (alice, bob); " +
        `the file splits the data key into 2 groups, where the rule names one list; if the rule's list is the one meant, \`sops updatekeys ${FILE}\`, by someone whose keys open enough of the file's groups, gives the file the rule's list (no split); if the file's are, write them in the rule`,
    );
  });

  it("through check: recipient-drift at the file's key_groups line, besides the file's own key-groups finding; none with the matching rule", () => {
    const three = sopsKeyGroupsFile({ stripe_api_key: "sk_test_TESTONLY" }, [[alice.recipient], [bob.recipient, carol.recipient]], 2);
    const files = {
      "stellar.yaml": `version: 1\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n      bob: ${bob.recipient}\n`,
      [FILE]: three.text,
      ".sops.yaml": rule([[alice.recipient], [bob.recipient]], 2),
    };
    const drift = (fs: Record<string, string>) =>
      checkWorkspace(loadWorkspace("/mem", { fs: memoryFs(fs), atRoot: true }).index)
        .filter((d) => d.rule === "recipient-drift")
        .map((d) => [d.file, d.line, d.severity, d.message.split(":")[0]]);
    const line = three.text.split("\n").findIndex((l) => l === "    key_groups:") + 1;
    expect(drift(files)).toEqual([
      [FILE, line, "error", "the production file uses sops.key_groups (Shamir secret sharing)"],
      [FILE, line, "error", `the production file's sops.key_groups are not those of creation rule 1 of .sops.yaml (line 4), which sops uses for ${FILE}`],
    ]);
    expect(drift({ ...files, ".sops.yaml": rule([[alice.recipient], [bob.recipient, carol.recipient]], 2) })).toEqual([[FILE, line, "error", "the production file uses sops.key_groups (Shamir secret sharing)"]]);
  });
});

/** A sops 3.13 YAML file of `values` with one list of age recipients (no key groups), as sops writes it for a plain `age:` rule. */
function sopsOneListFile(values: Record<string, string>, recipients: string[]): string {
  const dataKey = randomBytes(32);
  const lastmodified = "2026-12-01T10:00:00Z";
  const body = Object.entries(values).map(([k, v]) => `${k}: ${oracleEncrypt(dataKey, v, `${k}:`)}\n`).join("");
  const block = (text: string, indent: number) => text.trimEnd().split("\n").map((l) => `${" ".repeat(indent)}${l}\n`).join("");
  const age = recipients.map((r) => `        - enc: |\n${block(ageWrapSync(dataKey, r), 12)}          recipient: ${r}\n`).join("");
  const mac = oracleEncrypt(dataKey, oracleMac(Object.values(values)), lastmodified);
  return `${body}sops:\n    age:\n${age}    lastmodified: "${lastmodified}"\n    mac: ${mac}\n    unencrypted_suffix: _unencrypted\n    version: 3.13.2\n`;
}

describe("a one-list file under a .sops.yaml rule with several key groups (checker session 5, open item 3)", () => {
  const plain = sopsOneListFile({ stripe_api_key: "sk_test_TESTONLY" }, [alice.recipient, bob.recipient]);

  it("the fixture opens with either member's key alone", async () => {
    for (const k of [alice, bob]) expect((await decryptSecrets(plain, [k.identity])).values.get("stripe_api_key")).toBe("sk_test_TESTONLY");
  });

  it("is a warning at the file's age key: sops updatekeys would re-split it with every group needed (not the rule's threshold), and who then cannot decrypt alone", () => {
    const found = problems(plain, rule([[alice.recipient], [bob.recipient], [alice.recipient, bob.recipient]], 2));
    expect(found.map((p) => [p.severity, plain.slice(p.range.start, p.range.end)])).toEqual([["warning", "age"]]);
    expect(found[0]!.message).toBe(
      "the production file has one list of age recipients, any of which decrypts it alone (alice, bob), " +
        `but creation rule 1 of .sops.yaml (line 4), which sops uses for ${FILE}, splits the data key into 3 key groups, any 2 of which decrypt (group 1: alice; group 2: bob; group 3: alice, bob): ` +
        `\`sops updatekeys ${FILE}\` re-splits the file into the rule's groups with all 3 needed (it keeps the file's shamir_threshold, which a one-list file does not have, and does not read the rule's 2), ` +
        "after which alice, bob no longer decrypt it alone, and stellar-secrets refuses the writes that need a new data key (members add and rm, rotate-key); a file sops creates under the rule is split too. " +
        "If the split is not meant, write the rule as one list of the members' keys (`age: KEY1,KEY2`, as `stellar-secrets init` writes it); if it is, stellar-secrets does not manage key groups: manage the file with sops",
    );
  });

  it("no finding under a plain rule or a rule with one key group (sops writes one list for both)", () => {
    expect(problems(plain, `creation_rules:\n  - path_regex: secrets/production\\.enc\\.yaml$\n    age: ${alice.recipient},${bob.recipient}\n`)).toEqual([]);
    expect(problems(plain, rule([[alice.recipient, bob.recipient]]))).toEqual([]);
  });

  it("through check: one recipient-drift warning at the file's age line, nothing else", () => {
    const files = {
      "stellar.yaml": `version: 1\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n      bob: ${bob.recipient}\n`,
      [FILE]: plain,
      ".sops.yaml": rule([[alice.recipient], [bob.recipient]], 2),
    };
    const ds = checkWorkspace(loadWorkspace("/mem", { fs: memoryFs(files), atRoot: true }).index);
    const line = plain.split("\n").findIndex((l) => l === "    age:") + 1;
    expect(ds.filter((d) => d.rule !== "unused-secret").map((d) => [d.rule, d.file, d.line, d.severity, d.message.split(":")[0]])).toEqual([
      ["recipient-drift", FILE, line, "warning", "the production file has one list of age recipients, any of which decrypts it alone (alice, bob), but creation rule 1 of .sops.yaml (line 4), which sops uses for secrets/production.enc.yaml, splits the data key into 2 key groups, any 2 of which decrypt (group 1"],
    ]);
  });
});
