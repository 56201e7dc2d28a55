import { beforeAll, describe, expect, it } from "vitest";
import { decryptSecrets, encryptSecrets, generateIdentity, parseSecretsFile, reencryptSecrets } from "@stellar-secrets/sops";
import { LineIndex } from "./position.js";
import { checkStaleMac } from "./stale-mac.js";

const PATH = "secrets/production.enc.yaml";
let head = "";
let next = "";

function run(text: string, committed: string[] = []) {
  return checkStaleMac({ text, path: PATH, environment: "production", lines: new LineIndex(text) }, committed);
}

beforeAll(async () => {
  const { identity, recipient } = await generateIdentity();
  head = await encryptSecrets(
    new Map([
      ["stripe_api_key", "sk-1"],
      ["hubspot_api_token", "hs-1"],
    ]),
    { recipients: [recipient], now: new Date("2026-01-01T00:00:00Z") },
  );
  const d = await decryptSecrets(head, [identity]);
  next = await reencryptSecrets(d, new Map([...d.values, ["zendesk_api_token", "zd-1"]]), { now: new Date("2026-01-02T00:00:00Z") });
});

describe("checkStaleMac", () => {
  it("accepts a real write (values and mac change together) and an unchanged file", () => {
    expect(run(next, [head])).toEqual([]);
    expect(run(head, [head])).toEqual([]);
  });

  it("flags values changed under the committed mac and lastmodified, at the mac key", () => {
    const added = next.split("\n").find((l) => l.startsWith("zendesk_api_token:"))!;
    const handMerged = head.replace("sops:\n", `${added}\nsops:\n`);
    const d = run(handMerged, [head]);
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ rule: "stale-mac", severity: "error", file: PATH });
    expect(handMerged.split("\n")[d[0]!.line - 1]).toMatch(/^\s+mac: /);
    expect(d[0]!.message).toContain("stellar-secrets resolve NAME --env production");
    // compared with each committed version given: only a version with the same mac counts
    expect(run(handMerged, [next])).toEqual([]);
    expect(run(handMerged, [next, head])).toHaveLength(1);
    // without a committed version only the in-file checks run
    expect(run(handMerged)).toEqual([]);
  });

  it("flags lastmodified or mac_only_encrypted changed under the committed mac (the MAC no longer opens), at the mac key", () => {
    const lastmod = head.replace(/lastmodified: "[^"]*"/, 'lastmodified: "2026-01-01T00:00:01Z"');
    const d = run(lastmod, [head]);
    expect(d.map((x) => x.rule)).toEqual(["stale-mac"]);
    expect(lastmod.split("\n")[d[0]!.line - 1]).toMatch(/^\s+mac: /);
    expect(d[0]!.message).toContain("lastmodified");
    // the same time written another way is the same AAD: sops and stellar-secrets still open it
    expect(run(head.replace(/lastmodified: "2026-01-01T00:00:00Z"/, 'lastmodified: "2026-01-01T00:00:00.5+00:00"'), [head])).toEqual([]);
    const macOnly = head.replace("    unencrypted_suffix: _unencrypted\n", "    mac_only_encrypted: true\n    unencrypted_suffix: _unencrypted\n");
    expect(run(macOnly, [head]).map((x) => [x.rule, x.message.includes("mac_only_encrypted")])).toEqual([["stale-mac", true]]);
    expect(run(head, [macOnly])).toHaveLength(1);
    // a real write changes mac with them
    expect(run(next, [head])).toEqual([]);
  });

  it("flags a mac replaced while every value and lastmodified are the committed ones (a real write sets lastmodified anew)", () => {
    const otherMac = /^ {4}mac: .*$/m.exec(next)![0];
    const swapped = head.replace(/^ {4}mac: .*$/m, otherMac);
    const d = run(swapped, [head]);
    expect(d.map((x) => x.rule)).toEqual(["stale-mac"]);
    expect(swapped.split("\n")[d[0]!.line - 1]).toMatch(/^\s+mac: /);
    expect(d[0]!.message).toContain("sops.mac");
    // a value changed with it is a write (or the check above), not this
    expect(run(next, [head])).toEqual([]);
  });

  it("flags a ciphertext whose unauthenticated type was changed by hand, at the name (or the mac), whatever the mac", () => {
    const flipped = head.replace(/^(stripe_api_key: ENC\[[^\]]*),type:str\]/m, "$1,type:comment]").replace(/^( {4}mac: ENC\[[^\]]*),type:str\]/m, "$1,type:bytes]");
    expect(flipped).not.toBe(head);
    const d = run(flipped, [head]);
    expect(d.map((x) => [x.rule, x.secret ?? "mac", flipped.split("\n")[x.line - 1]!.trim().split(":")[0]])).toEqual([
      ["stale-mac", "stripe_api_key", "stripe_api_key"],
      ["stale-mac", "mac", "mac"],
    ]);
    expect(d[0]!.message).toContain("type");
    // a real write keeps an unchanged value's ENC string whole
    expect(run(next, [head])).toEqual([]);
  });

  it("flags a value stored as a comment or under a type sops does not know, in the file alone", () => {
    const comment = head.replace(/^(stripe_api_key: ENC\[[^\]]*),type:str\]/m, "$1,type:comment]");
    expect(run(comment).map((x) => [x.rule, x.secret])).toEqual([["stale-mac", "stripe_api_key"]]);
    const unknown = head.replace(/^(hubspot_api_token: ENC\[[^\]]*),type:str\]/m, "$1,type:blob]");
    expect(run(unknown).map((x) => [x.rule, x.secret])).toEqual([["stale-mac", "hubspot_api_token"]]);
    expect(run(head)).toEqual([]);
  });

  // found by the keyless fuzz (pnpm fuzz): the file alone proves that no key opens these
  it("flags a value's ENC string that no key opens (a space in the IV, a 15-byte tag, data that is not base64), in the file alone, at the name", () => {
    const spaced = head.replace(/^(stripe_api_key: ENC\[AES256_GCM,data:[^,]*,iv:.{4})/m, "$1 ");
    expect(run(spaced).map((x) => [x.rule, x.secret, x.line])).toEqual([["stale-mac", "stripe_api_key", 1]]);
    const shortTag = head.replace(/^(hubspot_api_token: ENC\[[^\]]*,tag:)[^,]+/m, "$1AAAAAAAAAAAAAAAAAAAA");
    expect(run(shortTag).map((x) => [x.rule, x.secret])).toEqual([["stale-mac", "hubspot_api_token"]]);
    const oddData = head.replace(/^(hubspot_api_token: ENC\[AES256_GCM,data:)/m, "$1A");
    expect(run(oddData).map((x) => [x.rule, x.secret])).toEqual([["stale-mac", "hubspot_api_token"]]);
    expect(run(spaced)[0]!.message).toContain("git checkout --");
  });

  it("flags a mac ENC string that no key opens, in the file alone, at the mac key", () => {
    const broken = head.replace(/^(\s+mac: ENC\[AES256_GCM,data:.{10})/m, "$1x");
    const d = run(broken);
    expect(d.map((x) => x.rule)).toEqual(["stale-mac"]);
    expect(broken.split("\n")[d[0]!.line - 1]).toMatch(/^\s+mac: /);
    expect(d[0]!.secret).toBeUndefined();
  });

  it("flags a file whose age stanzas hold no 32-byte data key (a payload cut or grown: every header still readable), in the file alone, at the age key", async () => {
    const indent = " ".repeat(12);
    const reArmor = (text: string, edit: (file: Buffer) => Buffer, which = 0): string => {
      let n = 0;
      return text.replace(/-----BEGIN AGE ENCRYPTED FILE-----\n([\s\S]*?)\n\s*-----END AGE ENCRYPTED FILE-----/g, (m, body: string) => {
        if (n++ !== which) return m;
        const lines = edit(Buffer.from(body.replace(/\s+/g, ""), "base64")).toString("base64").match(/.{1,64}/g)!;
        return `-----BEGIN AGE ENCRYPTED FILE-----\n${lines.map((l) => indent + l).join("\n")}\n${indent}-----END AGE ENCRYPTED FILE-----`;
      });
    };
    const grown = reArmor(head, (f) => Buffer.concat([f, Buffer.alloc(48)]));
    const d = run(grown);
    expect(d.map((x) => x.rule)).toEqual(["stale-mac"]);
    expect(grown.split("\n")[d[0]!.line - 1]).toMatch(/^\s+age:/);
    expect(d[0]!.message).toContain("112 bytes");
    expect(run(reArmor(head, (f) => f.subarray(0, f.length - 3))).map((x) => x.rule)).toEqual(["stale-mac"]);
    // the same file re-armored unchanged is fine; so is a file where another stanza still holds a data key
    expect(run(reArmor(head, (f) => f))).toEqual([]);
    const { recipient } = await generateIdentity();
    const two = await encryptSecrets(new Map([["stripe_api_key", "sk-1"]]), { recipients: [recipient, (await generateIdentity()).recipient] });
    expect(run(reArmor(two, (f) => Buffer.concat([f, Buffer.alloc(1)]), 1))).toEqual([]);
    expect(run(reArmor(reArmor(two, (f) => Buffer.concat([f, Buffer.alloc(1)]), 0), (f) => Buffer.concat([f, Buffer.alloc(1)]), 1)).map((x) => x.rule)).toEqual(["stale-mac"]);
  });

  it("flags the same ciphertext under two names, at the second name", () => {
    const lines = head.split("\n");
    const first = lines[0]!.slice(lines[0]!.indexOf(": ") + 2);
    const copied = [lines[0], `hubspot_api_token: ${first}`, ...lines.slice(2)].join("\n");
    const d = run(copied);
    expect(d).toMatchObject([{ rule: "stale-mac", line: 2, column: 1, secret: "hubspot_api_token" }]);
    expect(d[0]!.endColumn).toBe(1 + "hubspot_api_token".length);
  });

  it("flags a committed value's ciphertext moved to another name (two values swapped), whatever the mac: a value is bound to its name and does not decrypt under another", () => {
    const line = (text: string, name: string): string => text.split("\n").find((l) => l.startsWith(`${name}:`))!;
    const enc = (text: string, name: string): string => line(text, name).slice(name.length + 2);
    const swapped = next.replace(line(next, "stripe_api_key"), `stripe_api_key: ${enc(next, "hubspot_api_token")}`).replace(line(next, "hubspot_api_token"), `hubspot_api_token: ${enc(next, "stripe_api_key")}`);
    // compared with the committed version whose mac it is not (a mac and lastmodified pasted from any other version)
    const d = run(swapped, [head]);
    expect(d.map((x) => [x.rule, x.secret])).toEqual([
      ["stale-mac", "stripe_api_key"],
      ["stale-mac", "hubspot_api_token"],
    ]);
    expect(d[0]!.message).toContain('holds the ciphertext the committed version stores under "hubspot_api_token"');
    expect(swapped.split("\n")[d[0]!.line - 1]).toMatch(/^stripe_api_key: /);
    // the same file compared with nothing committed: only what the file alone shows
    expect(run(swapped)).toEqual([]);
  });

  it("flags leftover conflict markers once, at the first marker, and never shows a value", () => {
    const lines = head.split("\n");
    const conflicted = [`<<<<<<< HEAD`, lines[0], `=======`, lines[1], `>>>>>>> feature`, ...lines.slice(2)].join("\n");
    const d = run(conflicted, [head]);
    expect(d).toMatchObject([{ rule: "stale-mac", line: 1, column: 1, endColumn: 13 }]);
    expect(JSON.stringify(d)).not.toMatch(/sk-1|hs-1/);
    // diff3 style and a marker with no label
    expect(run(`||||||| base\n${head}`)).toHaveLength(1);
    expect(run(`${head}=======\n`)).toHaveLength(1);
    // not a marker: seven characters followed by more text
    expect(run(`${head}========x\n`)).toEqual([]);
  });

  it("takes the caller's parse of the text (the loader's) instead of parsing it again, with the same diagnostics", () => {
    const lines = head.split("\n");
    const first = lines[0]!.slice(lines[0]!.indexOf(": ") + 2);
    const copied = [lines[0], `hubspot_api_token: ${first}`, ...lines.slice(2)].join("\n");
    const added = next.split("\n").find((l) => l.startsWith("zendesk_api_token:"))!;
    const handMerged = head.replace("sops:\n", `${added}\nsops:\n`);
    const withParse = (text: string, committed: string[] = []) =>
      checkStaleMac({ text, path: PATH, environment: "production", lines: new LineIndex(text), parsed: parseSecretsFile(text) }, committed);
    for (const [text, committed] of [[next, [head]], [copied, []], [handMerged, [head]]] as [string, string[]][]) {
      expect(withParse(text, committed)).toEqual(run(text, committed));
    }
    // the parse given is the one read: a parse of the copied file given for the clean one finds the copy
    const given = checkStaleMac({ text: head, path: PATH, environment: "production", lines: new LineIndex(head), parsed: parseSecretsFile(copied) });
    expect(given).toMatchObject([{ rule: "stale-mac", line: 2, secret: "hubspot_api_token" }]);
  });
});
