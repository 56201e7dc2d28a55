// Encrypted comments compared without a key: what was added, removed or changed, and where; never
// what a comment says. Files are made in memory with a TEST-ONLY key generated here.
import { describe, expect, it } from "vitest";
import { aadForPath, decryptSecrets, encryptSecrets, encryptValue, generateIdentity, parseSecretsFile, reencryptSecrets, rotateDataKey } from "@stellar-secrets/sops";
import { commentChangeText, diffComments } from "./comments.js";

async function base(): Promise<{ text: string; key: Uint8Array; identity: string }> {
  const id = await generateIdentity(); // TEST-ONLY
  const text = await encryptSecrets(new Map([["hubspot_api_token", "TEST-ONLY-h"], ["stripe_api_key", "TEST-ONLY-s"]]), { recipients: [id.recipient] });
  const key = (await decryptSecrets(text, [id.identity])).dataKey;
  return { text, key, identity: id.identity };
}

/** `#ENC[…,type:comment]` of `words` under `key`, as sops writes a comment of the top-level map. */
const comment = (words: string, key: Uint8Array): string => `#${encryptValue(Buffer.from(words, "utf8"), key, aadForPath([]), "comment")}`;
const above = (text: string, name: string, line: string): string => text.replace(`\n${name}:`, `\n${line}\n${name}:`).replace(new RegExp(`^${name}:`), `${line}\n${name}:`);
const diff = (a: string, b: string, options: { reencrypted?: boolean; removedSecrets?: Set<string> } = {}) =>
  diffComments(parseSecretsFile(a).comments, parseSecretsFile(b).comments, { ...options, textBefore: a, textAfter: b });

describe("diffComments", () => {
  it("tells an encrypted comment added, changed and removed above a secret, with its line, and never its text", async () => {
    const { text, key } = await base();
    const one = above(text, "stripe_api_key", comment(" TEST-ONLY rotate me in May", key));
    const added = diff(text, one);
    expect(added).toEqual([{ change: "added", place: "above", secret: "stripe_api_key", line: 2 }]);
    expect(commentChangeText(added[0]!)).toBe("an encrypted comment was added above stripe_api_key (line 2)");
    expect(JSON.stringify(added)).not.toContain("May");
    const changed = above(text, "stripe_api_key", comment(" TEST-ONLY rotate me in June", key));
    expect(diff(one, changed)).toEqual([{ change: "changed", place: "above", secret: "stripe_api_key", line: 2 }]);
    expect(diff(one, text)).toEqual([{ change: "removed", place: "above", secret: "stripe_api_key", line: 2 }]);
    // at the top, and a clear-text comment is not this (the review's clearComments says it)
    const top = `${comment(" TEST-ONLY header", key)}\n# a clear one\n${text}`;
    expect(diff(text, top)).toEqual([{ change: "added", place: "top", line: 1 }]);
    expect(diff(text, `# a clear one\n${text}`)).toEqual([]);
  });

  it("is no change when the comment's encrypted string is kept (a set keeps it byte for byte), nor when every value was re-encrypted", async () => {
    const { text, key, identity } = await base();
    const one = above(text, "stripe_api_key", comment(" TEST-ONLY note", key));
    const prev = await decryptSecrets(one, [identity]);
    const set = await reencryptSecrets(prev, new Map([...prev.values, ["hubspot_api_token", "TEST-ONLY-h2"]]));
    expect(diff(one, set)).toEqual([]);
    const rotated = await rotateDataKey(prev);
    expect(diff(one, rotated)).toHaveLength(1); // keyless, the new string alone is a change...
    expect(diff(one, rotated, { reencrypted: true })).toEqual([]); // ...but a rotation writes every comment anew
  });

  it("does not list the comments of a secret the change removes (they go with it)", async () => {
    const { text, key, identity } = await base();
    const one = above(text, "stripe_api_key", comment(" TEST-ONLY note", key));
    const prev = await decryptSecrets(one, [identity]);
    const without = await reencryptSecrets(prev, new Map([["hubspot_api_token", "TEST-ONLY-h"]]));
    expect(diff(one, without, { removedSecrets: new Set(["stripe_api_key"]) })).toEqual([]);
  });
});
