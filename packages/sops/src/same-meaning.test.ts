// sameMeaning: when `resolve` may write a committed side's text byte for byte instead of
// re-encrypting. Only mac, lastmodified, version and layout may differ; every value, type, data key,
// stanza, crypt rule, unknown metadata field and stored comment must be the same.
import { describe, expect, it } from "vitest";
import { decryptSecrets, encryptSecrets, generateIdentity, reencryptSecrets, sameMeaning } from "./index.js";

describe("sameMeaning", () => {
  it("is true for a re-encryption of the same values under the same data key, and false when anything a reader acts on differs", async () => {
    const alice = await generateIdentity(); // test-only, in memory
    const bob = await generateIdentity(); // test-only, in memory
    const values = new Map([
      ["api_key", "v-1"],
      ["db_password", "v-2"],
    ]);
    const text = await encryptSecrets(values, { recipients: [alice.recipient] });
    const a = await decryptSecrets(text, [alice.identity]);

    // the same values re-encrypted (a new lastmodified and MAC when the second has changed), reusing the ciphertexts: the same meaning
    const again = await reencryptSecrets(a, values, { reuseFrom: [a] });
    expect(sameMeaning(a, await decryptSecrets(again, [alice.identity]))).toBe(true);
    // layout only: spaces after the colons of the values
    const spaced = text.replace(/^(api_key|db_password): /gm, "$1:  ");
    expect(sameMeaning(a, await decryptSecrets(spaced, [alice.identity]))).toBe(true);

    // a value changed
    const changed = await decryptSecrets(await reencryptSecrets(a, new Map([...values, ["api_key", "v-9"]])), [alice.identity]);
    expect(sameMeaning(a, changed)).toBe(false);
    // the same values in another order
    const reordered = await decryptSecrets(await reencryptSecrets(a, new Map([...values].reverse())), [alice.identity]);
    expect(sameMeaning(a, reordered)).toBe(false);
    // another data key (a fresh file of the same values)
    const fresh = await decryptSecrets(await encryptSecrets(values, { recipients: [alice.recipient] }), [alice.identity]);
    expect(sameMeaning(a, fresh)).toBe(false);
    // another recipient list under the same data key (a stanza added)
    const widened = await decryptSecrets(await reencryptSecrets(a, values, { recipients: [alice.recipient, bob.recipient], reuseFrom: [a] }), [alice.identity]);
    expect(sameMeaning(a, widened)).toBe(false);
    // a stored comment added
    const commented = await decryptSecrets(`# rotated by hand\n${again}`, [alice.identity]);
    expect(sameMeaning(a, commented)).toBe(false);
  });
});
