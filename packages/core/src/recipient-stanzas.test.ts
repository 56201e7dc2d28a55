import { encryptSecrets, generateIdentity, sshKeyTag } from "@stellar-secrets/sops";
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { recipientStanzaProblems } from "./recipient-stanzas.js";
import { parseEnvironmentFile } from "./secrets-dir.js";

// Made by the real age CLI (`age -a -r A -r B`, public ciphertext only): two recipient stanzas.
const TWO_RECIPIENTS = `-----BEGIN AGE ENCRYPTED FILE-----
YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBIWk8wTUlZRkNsYkZRVy9Z
K2JPV2piWmJmWWRZeUtyUkk3ZXZMN3F2bmo4CjhvTFYzT1Q3YnNTeGdYNDg1WDhj
ZVdxaWw0MGx1S1pKU2VqMllMcklVVG8KLT4gWDI1NTE5IDZnV1Ztanl4bWo4Tjhk
SDlVYWpwOVM0cmE5VG1RZVd5SFJXSElPUkpUbEkKT2JaRnlIcGQ5anpZTERFZ1l4
a1hwREZJV3A3MDJDSXl0NGFwQlUycm1DRQotLS0gVjVZM3gzcVJVVnZIZDB6SzBB
SDYwcUkwanZzSUxQcTcxSnhEN1gyL08zUQo2+OkcdVXhfjgBGp7ah37wLaDUJRgU
yL5t0a3605BhjoJo6ogyIrqAt+Ukz/zY7bnMTKf2gxMzpte11Neg+SkY
-----END AGE ENCRYPTED FILE-----`;

const STANZA = / {8}- recipient: (\S+)\n {10}enc: \|\n(?: {12}.*\n)+/g;
const indent = (enc: string): string => enc.split("\n").map((l) => `            ${l}\n`).join("");

async function setup() {
  const alice = (await generateIdentity()).recipient;
  const bob = (await generateIdentity()).recipient;
  const text = await encryptSecrets(new Map([["stripe_api_key", "sk_test_X"]]), { recipients: [alice, bob], now: new Date("2026-01-15T10:00:00Z") });
  const project = { environments: [{ name: "staging", members: [{ name: "alice", recipient: alice }, { name: "bob", recipient: bob }] }] };
  const problems = (t: string) => recipientStanzaProblems(project, parseEnvironmentFile(t, "secrets/staging.enc.yaml", "staging"));
  const lineOf = (t: string, offset: number): string => t.slice(t.lastIndexOf("\n", offset - 1) + 1, t.indexOf("\n", offset));
  return { alice, bob, text, problems, lineOf };
}

describe("recipientStanzaProblems", () => {
  it("finds nothing in an honest file", async () => {
    const { text, problems } = await setup();
    expect(problems(text)).toEqual([]);
  });

  it("reports a second stanza under a member's label at that label, without suggesting to add anyone", async () => {
    const { text, bob, problems, lineOf } = await setup();
    const first = [...text.matchAll(STANZA)][0] as RegExpMatchArray;
    const copy = first[0].replace(/recipient: \S+/, `recipient: ${bob}`);
    const last = [...text.matchAll(STANZA)].at(-1) as RegExpMatchArray;
    const at = (last.index ?? 0) + last[0].length;
    const attacked = text.slice(0, at) + copy + text.slice(at);
    const found = problems(attacked);
    expect(found).toHaveLength(1);
    expect(lineOf(attacked, found[0]!.range.start)).toBe(`        - recipient: ${bob}`);
    expect(attacked.slice(found[0]!.range.start, found[0]!.range.end)).toBe(bob);
    expect(found[0]!.message).toMatch(/2 age stanzas labelled .*stanza 3 may be wrapped to any key/);
    expect(found[0]!.message).not.toMatch(/members add/);
  });

  it("counts a second stanza labelled with the member's key in upper case (AGE1…, the same key to age) as a second stanza under that key, naming the member", async () => {
    const { text, bob, problems, lineOf } = await setup();
    const first = [...text.matchAll(STANZA)][0] as RegExpMatchArray;
    const upper = bob.toUpperCase();
    const copy = first[0].replace(/recipient: \S+/, `recipient: ${upper}`);
    const last = [...text.matchAll(STANZA)].at(-1) as RegExpMatchArray;
    const at = (last.index ?? 0) + last[0].length;
    const attacked = text.slice(0, at) + copy + text.slice(at);
    const found = problems(attacked);
    expect(found).toHaveLength(1);
    expect(lineOf(attacked, found[0]!.range.start)).toBe(`        - recipient: ${upper}`);
    expect(found[0]!.message).toMatch(/2 age stanzas labelled \S+ \(bob, a member of staging\).*stanza 3 may be wrapped to any key/);
    // alone, an upper-case label of a member's key is that member's stanza: nothing to report
    expect(problems(text.replace(`recipient: ${bob}`, `recipient: ${upper}`))).toEqual([]);
  });

  it("reports a member's stanza that is a copy of another label's (the same age header): one wrapping opens for one key, so that member cannot decrypt", async () => {
    const { text, alice, bob, problems, lineOf } = await setup();
    const [first, second] = [...text.matchAll(STANZA)] as RegExpMatchArray[];
    const copied = text.replace(second![0], first![0].replace(`recipient: ${alice}`, `recipient: ${bob}`));
    const found = problems(copied);
    expect(found).toHaveLength(1);
    expect(lineOf(copied, found[0]!.range.start)).toBe(`        - recipient: ${bob}`);
    expect(found[0]!.message).toContain(`the age stanza labelled ${bob} (bob, a member of staging) is a copy of the one labelled ${alice}`);
    expect(found[0]!.message).toContain("stellar-secrets rotate-key --env staging");
  });

  it("still reads the stanzas of a file that has other problems (a plaintext value)", async () => {
    const { text, alice, problems } = await setup();
    const first = [...text.matchAll(STANZA)][0] as RegExpMatchArray;
    const attacked = text.replace(first[0], `        - recipient: ${alice}\n          enc: |\n${indent(TWO_RECIPIENTS)}`).replace(/^stripe_api_key: ENC\[.*$/m, "stripe_api_key: plain");
    expect(problems(attacked).map((p) => p.message)).toEqual([expect.stringContaining("wraps the data key for 2 keys")]);
  });

  it("reports a member's stanza whose age header holds two recipient stanzas", async () => {
    const { text, alice, problems } = await setup();
    const first = [...text.matchAll(STANZA)][0] as RegExpMatchArray;
    const attacked = text.replace(first[0], `        - recipient: ${alice}\n          enc: |\n${indent(TWO_RECIPIENTS)}`);
    const found = problems(attacked);
    expect(found.map((p) => p.message)).toEqual([expect.stringMatching(/\(alice, a member of staging\) wraps the data key for 2 keys .*X25519, X25519/)]);
  });

  it("reports an enc that is no age file, and a stanza type that is not the labelled key's", async () => {
    const { text, problems } = await setup();
    const garbled = text.replace(/(-----BEGIN AGE ENCRYPTED FILE-----\n {12})[A-Za-z0-9+/]{4}/, "$1AAAA");
    expect(problems(garbled).map((p) => p.message)).toEqual([expect.stringContaining("cannot be read as an age file")]);
    const header = Buffer.from("age-encryption.org/v1\n-> ssh-ed25519 8j82Sw mAwtibtNtEULYSiumlxzjFNhyWknf9/3rmR/zLIEGCE\n8oLV3OT7bsSxgX485X8ceWqil40luKZJSej2YLrIUTo\n--- V5Y3x3qRUVvHd0zK0AH60qI0jvsILPq71JxD7X2/O3Q\n", "latin1").toString("base64");
    const ssh = `-----BEGIN AGE ENCRYPTED FILE-----\n${header.match(/.{1,64}/g)!.join("\n")}\n-----END AGE ENCRYPTED FILE-----`;
    const first = [...text.matchAll(STANZA)][0] as RegExpMatchArray;
    const swapped = text.replace(first[0], `        - recipient: ${first[1]}\n          enc: |\n${indent(ssh)}`);
    expect(problems(swapped).map((p) => p.message)).toEqual([expect.stringMatching(/is an age ssh-ed25519 stanza, but age writes X25519 stanzas for that key/)]);
  });

  it("reports an X25519 stanza of the wrong shape by itself, while the other stanza still holds the data key", async () => {
    const { text, alice, problems, lineOf } = await setup();
    const first = [...text.matchAll(STANZA)][0] as RegExpMatchArray;
    const armoredEnc = first[0].split("\n").slice(2).map((l) => l.trim()).filter((l) => l !== "").join("\n");
    const bytes = Buffer.from(armoredEnc.split("\n").slice(1, -1).join(""), "base64");
    const rearmor = (b: Buffer): string => `-----BEGIN AGE ENCRYPTED FILE-----\n${b.toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END AGE ENCRYPTED FILE-----`;
    const withHeader = (edit: (header: string) => string): string => {
      const headerEnd = bytes.indexOf("\n--- ") + 1;
      const header = edit(bytes.subarray(0, headerEnd).toString("latin1"));
      const enc = rearmor(Buffer.concat([Buffer.from(header, "latin1"), bytes.subarray(headerEnd)]));
      return text.replace(first[0], `        - recipient: ${alice}\n          enc: |\n${indent(enc)}`);
    };
    expect(problems(withHeader((h) => h))).toEqual([]); // re-armoring alone changes nothing
    for (const [edit, why] of [
      [(h: string) => h.replace(/^(-> X25519 \S{42})\S/m, "$1"), /argument is not a 32-byte share/], // a share one character short
      [(h: string) => h.replace(/^(-> X25519 \S+\n)\S{4}/m, "$1"), /body is 29 bytes/], // a body cut short
    ] as const) {
      const attacked = withHeader(edit);
      const found = problems(attacked);
      expect(found.map((p) => p.message)).toEqual([expect.stringMatching(new RegExp(`\\(alice, a member of staging\\) cannot be read as an age file \\(.*stanza 1 \\(X25519\\).*${why.source}`))]);
      expect(lineOf(attacked, found[0]!.range.start)).toBe(`        - recipient: ${alice}`);
    }
  });

  it("reports a pgp, kms or other non-age master key in the metadata: sops decrypts with it, and no member is one", async () => {
    const { text, problems, lineOf } = await setup();
    const pgp = text.replace(
      "    lastmodified:",
      '    pgp:\n        - created_at: "2026-12-03T12:00:00Z"\n          enc: |-\n            -----BEGIN PGP MESSAGE-----\n            hQEMA0kVh7KjKt6gAQf+\n            -----END PGP MESSAGE-----\n          fp: 1234567890ABCDEF1234567890ABCDEF12345678\n    lastmodified:',
    );
    const found = problems(pgp);
    expect(found.map((p) => p.message)).toEqual([expect.stringMatching(/sops\.pgp .*1 key.*decrypt.*not a member/)]);
    expect(lineOf(pgp, found[0]!.range.start)).toBe("    pgp:");
    expect(found[0]!.message).not.toMatch(/members add/);
    const kms = text.replace("    lastmodified:", "    kms:\n        - arn: arn:aws:kms:us-east-1:666666666666:key/abc\n          enc: AQICAHhAAAA\n    hc_vault:\n        - vault_address: https://vault.example\n          enc: vault:v1:abc\n    lastmodified:");
    expect(problems(kms).map((p) => p.message)).toEqual([expect.stringContaining("sops.kms"), expect.stringContaining("sops.hc_vault")]);
    const groups = text.replace("    lastmodified:", `    key_groups:\n        - age:\n            - recipient: ${"age1" + "q".repeat(58)}\n              enc: x\n    lastmodified:`);
    expect(problems(groups).map((p) => p.message)).toEqual([expect.stringContaining("sops.key_groups")]);
    // a list of wrapped keys under a name this package does not know (a newer sops' plugin keys)
    const plugin = text.replace("    lastmodified:", "    plugin:\n        - binary_name: keyservice\n          enc: c29tZQ==\n    lastmodified:");
    expect(problems(plugin).map((p) => p.message)).toEqual([expect.stringContaining("sops.plugin holds 1 key")]);
    // an empty list, as sops 3.7–3.9 write them, is no reader
    expect(problems(text.replace("    lastmodified:", "    kms: []\n    pgp: []\n    lastmodified:"))).toEqual([]);
  });

  it("reports an ssh-ed25519 stanza whose key tag is not the labelled SSH key's: it was made for another SSH key", async () => {
    const sshKey = (): string => {
      const name = Buffer.from("ssh-ed25519");
      const key = Buffer.from(generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" }).x as string, "base64url");
      const wire = Buffer.concat([Buffer.from([0, 0, 0, name.length]), name, Buffer.from([0, 0, 0, 32]), key]);
      return `ssh-ed25519 ${wire.toString("base64")}`;
    };
    const member = sshKey();
    const other = sshKey();
    const stanzaFor = (tag: string): string => {
      const header = Buffer.from(`age-encryption.org/v1\n-> ssh-ed25519 ${tag} mAwtibtNtEULYSiumlxzjFNhyWknf9/3rmR/zLIEGCE\n8oLV3OT7bsSxgX485X8ceWqil40luKZJSej2YLrIUTo\n--- V5Y3x3qRUVvHd0zK0AH60qI0jvsILPq71JxD7X2/O3Q\n`, "latin1").toString("base64");
      return `-----BEGIN AGE ENCRYPTED FILE-----\n${header.match(/.{1,64}/g)!.join("\n")}\n-----END AGE ENCRYPTED FILE-----`;
    };
    const alice = (await generateIdentity()).recipient;
    const text = await encryptSecrets(new Map([["stripe_api_key", "sk_test_X"]]), { recipients: [alice], now: new Date("2026-01-15T10:00:00Z") });
    const project = { environments: [{ name: "staging", members: [{ name: "alice", recipient: alice }, { name: "sam", recipient: member }] }] };
    const withStanza = (tag: string) => {
      const last = [...text.matchAll(STANZA)].at(-1) as RegExpMatchArray;
      const at = (last.index ?? 0) + last[0].length;
      return text.slice(0, at) + `        - recipient: ${member}\n          enc: |\n${indent(stanzaFor(tag))}` + text.slice(at);
    };
    const problems = (t: string) => recipientStanzaProblems(project, parseEnvironmentFile(t, "secrets/staging.enc.yaml", "staging"));
    expect(problems(withStanza(sshKeyTag(member)))).toEqual([]);
    expect(problems(withStanza(sshKeyTag(other))).map((p) => p.message)).toEqual([expect.stringMatching(/\(sam, a member of staging\) is an age ssh-ed25519 stanza for another SSH key \(key tag .+, not .+\)/)]);
  });
});


describe("recipientStanzaProblems: sops key groups (Shamir)", () => {
  /** A flat file whose metadata is `key_groups` of the given groups (age labels wrapped to the labelled key, or `stanza` given), keyless only. */
  async function groupsFile(groups: { age: string[]; enc?: string; pgp?: boolean }[], threshold?: number): Promise<string> {
    const { wrapDataKey } = await import("@stellar-secrets/sops");
    let block = `stripe_api_key: ENC[AES256_GCM,data:AAAA,iv:${"A".repeat(43)}=,tag:${"A".repeat(22)}==,type:str]\nsops:\n`;
    if (threshold !== undefined) block += `    shamir_threshold: ${threshold}\n`;
    block += "    key_groups:\n";
    for (const g of groups) {
      const lines: string[] = [];
      if (g.pgp) lines.push("pgp:", '    - created_at: "2026-01-01T00:00:00Z"', "      enc: x", "      fp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4");
      lines.push(g.age.length === 0 ? "age: []" : "age:");
      for (const r of g.age) {
        const enc = g.enc ?? (await wrapDataKey(new Uint8Array(33).fill(7), r));
        lines.push(`    - recipient: ${r}`, "      enc: |", ...enc.trimEnd().split("\n").map((l) => `          ${l}`));
      }
      block += lines.map((l, j) => (j === 0 ? `        - ${l}` : `          ${l}`)).join("\n") + "\n";
    }
    return block + `    lastmodified: "2026-01-15T10:00:00Z"\n    mac: ENC[AES256_GCM,data:AAAA,iv:${"A".repeat(43)}=,tag:${"A".repeat(22)}==,type:str]\n    unencrypted_suffix: _unencrypted\n    version: 3.10.2\n`;
  }

  it("says which groups decrypt it, that a non-member's group adds access with enough others, and which members cannot decrypt alone", async () => {
    const { alice, bob, problems } = await setup();
    const mallory = (await generateIdentity()).recipient;
    const found = problems(await groupsFile([{ age: [alice] }, { age: [bob] }, { age: [mallory] }], 2));
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toContain("uses sops.key_groups (Shamir secret sharing): 3 groups, any 2 of which decrypt it (group 1: alice; group 2: bob; group 3: age1");
    expect(found[0]!.message).toContain("non-members' keys are in group 3: each gives access to whoever also holds keys of 1 other group");
    expect(found[0]!.message).toContain("alice (keys in 1 of the 2 groups needed), bob (keys in 1 of the 2 groups needed) cannot decrypt it alone");
  });

  it("a file that writes no shamir_threshold: 'at least 2' groups decrypt it (sops combines whatever groups open), never 'any 3 of 3'", async () => {
    const { alice, bob, problems } = await setup();
    const mallory = (await generateIdentity()).recipient;
    const found = problems(await groupsFile([{ age: [alice] }, { age: [bob] }, { age: [mallory] }]));
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toContain("3 groups, at least 2 of which decrypt it (no shamir_threshold is written: sops combines the shares of whatever groups open, and how many the split needs is not in the file) (group 1: alice; group 2: bob; group 3: age1");
    expect(found[0]!.message).toContain("non-members' keys are in group 3: each gives access to whoever also holds keys of at least 1 other group");
    expect(found[0]!.message).toContain("alice (keys in 1 of the at least 2 groups needed), bob (keys in 1 of the at least 2 groups needed) cannot decrypt it alone");
    expect(problems(await groupsFile([{ age: [mallory] }, { age: [mallory] }, { age: [alice] }])).map((p) => p.message)).toEqual([expect.stringContaining("non-members' keys are in 2 groups (1, 2), which may be enough to decrypt it without any member of staging")]);
  });

  it("a stanza copied into another key group under the same label holds one share: reported, and its key counted as holding one of the two groups", async () => {
    const { alice, bob, problems } = await setup();
    const { wrapDataKey } = await import("@stellar-secrets/sops");
    const copied = await wrapDataKey(new Uint8Array(33).fill(1), alice);
    const found = problems(await groupsFile([{ age: [alice], enc: copied }, { age: [alice], enc: copied }, { age: [bob] }], 2)).map((p) => p.message);
    expect(found).toContainEqual(expect.stringContaining("the age stanza in key group 2 labelled " + alice + " (alice, a member of staging) and the one in key group 1 are one wrapping copied (the same age header"));
    expect(found).toContainEqual(expect.stringContaining("alice (keys in 1 of the 2 groups needed), bob (keys in 1 of the 2 groups needed) cannot decrypt it alone"));
    // wrapped anew for each group (two wrappings, two headers): alice holds two groups' keys
    const fresh = problems(await groupsFile([{ age: [alice] }, { age: [alice] }, { age: [bob] }], 2)).map((p) => p.message);
    expect(fresh.some((m) => m.includes("one wrapping copied"))).toBe(false);
    expect(fresh).toContainEqual(expect.stringContaining("bob (keys in 1 of the 2 groups needed) cannot decrypt it alone"));
    expect(fresh.some((m) => m.includes("alice (keys in"))).toBe(false);
  });

  it("says a one-group file's keys each decrypt it, and a non-member's key there decrypts it without any member", async () => {
    const { alice, problems } = await setup();
    const mallory = (await generateIdentity()).recipient;
    const found = problems(await groupsFile([{ age: [alice, mallory] }]));
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toContain("uses sops.key_groups (Shamir secret sharing): one group, any key of which decrypts it (group 1: alice, age1");
    expect(found[0]!.message).toContain("non-members' keys are in group 1, enough to decrypt it without any member of staging");
  });

  it("says when non-members' groups reach the threshold without any member; a pgp-only group counts as a non-member's; no age list at all is still reported", async () => {
    const { problems } = await setup();
    const mallory = (await generateIdentity()).recipient;
    const found = problems(await groupsFile([{ age: [mallory] }, { age: [], pgp: true }], 2));
    expect(found.map((p) => p.message)).toEqual([expect.stringContaining("non-members' keys are in 2 groups (1, 2), enough to decrypt it without any member of staging")]);
    expect(found[0]!.message).toContain("pgp FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4 (not an age key: no member)");
    expect(problems(await groupsFile([{ age: [], pgp: true }, { age: [], pgp: true }])).map((p) => p.message)).toEqual([expect.stringContaining("enough to decrypt it without any member")]);
  });

  it("checks each group's stanzas as the top-level ones (an age file wrapped for two keys in group 2), and reports key groups the readers refuse", async () => {
    const { alice, bob, problems } = await setup();
    const found = problems(await groupsFile([{ age: [alice] }, { age: [bob], enc: TWO_RECIPIENTS }], 2));
    expect(found.map((p) => p.message)).toEqual([expect.stringContaining("uses sops.key_groups"), expect.stringMatching(/the age stanza in key group 2 labelled .* wraps the data key for 2 keys/)]);
    const bad = problems(await groupsFile([{ age: [alice] }, { age: [bob] }], 5));
    expect(bad.map((p) => p.message)).toEqual([expect.stringMatching(/sops\.key_groups cannot be read \(`shamir_threshold` is 5, more than the 2 key groups/)]);
  });

  it("never shows a group label that is no public key (a private key pasted as a label)", async () => {
    const { alice, problems } = await setup();
    const pasted = "AGE-SECRET-KEY-1" + "Q".repeat(58);
    const text = (await groupsFile([{ age: [alice] }, { age: [alice] }], 2)).replace(/(key_groups:[\s\S]*?recipient: )age1\S+([\s\S]*?recipient: )age1\S+/, `$1${alice}$2${pasted}`);
    const found = problems(text);
    expect(found[0]!.message).toContain("group 2: (a label that is no public key, not shown) (not a member of staging)");
    expect(found.map((p) => p.message).join("\n")).not.toContain("QQQQ");
  });

  it("reports a quoted shamir_threshold (sops 3.7–3.12 refuse it) at its line, with removing the quotes as the fix", async () => {
    const { alice, bob, problems } = await setup();
    const text = (await groupsFile([{ age: [alice] }, { age: [bob] }], 2)).replace("    shamir_threshold: 2\n", '    shamir_threshold: "2"\n');
    const found = problems(text);
    expect(found).toHaveLength(1);
    expect(text.slice(found[0]!.range.start, found[0]!.range.end)).toBe("shamir_threshold");
    expect(found[0]!.message).toContain("sops.key_groups cannot be read (`shamir_threshold` is quoted");
    expect(found[0]!.message).toContain("remove the quotes (`shamir_threshold: 2`");
    expect(found[0]!.message).toContain("git checkout -- secrets/staging.enc.yaml");
  });
});
