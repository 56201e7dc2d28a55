/**
 * Property: whatever single-character change is made anywhere in a secrets file, decryption
 * either returns exactly the original non-empty values (changes the format does not authenticate,
 * such as a recipient label, layout, or the name of an empty value) or fails with a SopsError — never another exception, never other
 * values, never plaintext in the error. Deterministic pseudo-random positions (seeded).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { SopsError, decryptDocument, decryptSecrets, encryptSecrets } from "./index.js";
import { assertNoLeak, testKey } from "../test-fixtures/support.js";

const alice = testKey("alice");
const VALUES = new Map([
  ["OPENAI_API_KEY", "sk-mutation-leakcheck-0001"],
  ["DATABASE_URL", "postgres://mutation:leakcheck@db/app"],
  ["EMPTY", ""],
  ["123", "numeric-name-leakcheck"],
  ["PEM", "-----BEGIN-----\nmutation-leakcheck-pem\n-----END-----\n"],
]);
let text = "";

/** xorshift32, so a failure can be reproduced from the printed seed and index. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}
const ALPHABET = "AB+/=:\n \t\"'-#&*!|>[]{}ENC0123456789abcxyz";

beforeAll(async () => {
  text = await encryptSecrets(VALUES, { recipients: [alice.recipient] });
});

describe("single-character mutations anywhere in the file", () => {
  for (const reader of ["decryptSecrets", "decryptDocument"] as const) {
    it(`${reader}: same values or a SopsError, over 400 seeded mutations`, { timeout: 60_000 }, async () => {
      const seed = Number(process.env.SOPS_MUTATION_SEED ?? 20261127);
      const next = rng(seed);
      const outcomes = { same: 0, refused: 0 };
      for (let i = 0; i < 400; i++) {
        const pos = Math.floor(next() * text.length);
        const kind = next();
        const ch = ALPHABET[Math.floor(next() * ALPHABET.length)]!;
        const mutated =
          kind < 0.4 ? text.slice(0, pos) + ch + text.slice(pos + 1) : kind < 0.7 ? text.slice(0, pos) + text.slice(pos + 1) : text.slice(0, pos) + ch + text.slice(pos);
        if (mutated === text) continue;
        let values: Map<string, string> | undefined;
        try {
          if (reader === "decryptSecrets") values = (await decryptSecrets(mutated, [alice.identity])).values;
          else {
            const d = await decryptDocument(mutated, [alice.identity]);
            // (leaves, not Object.entries(tree): a plain object moves "123" to the front)
            values = new Map(d.leaves.map((l) => [l.path.join("."), l.plaintext]));
          }
        } catch (e) {
          if (!(e instanceof SopsError)) throw new Error(`seed ${seed} #${i} (pos ${pos}): not a SopsError: ${(e as Error)?.name}: ${(e as Error)?.message?.slice(0, 200)}`);
          assertNoLeak(e, [...VALUES.values()].filter((v) => v.length > 0).map((v) => v.slice(0, 12)));
          outcomes.refused++;
          continue;
        }
        // Empty values are stored as "" without ciphertext and add nothing to the MAC, so their
        // names are not authenticated (spec §4.5); everything else must be exactly the original.
        const nonEmpty = (m: Map<string, string>) => [...m].filter(([, v]) => v !== "");
        expect(nonEmpty(values), `seed ${seed} #${i} (pos ${pos}) returned different values`).toEqual(nonEmpty(VALUES));
        outcomes.same++;
      }
      expect(outcomes.refused).toBeGreaterThan(100);
    });
  }
});

describe("CRLF files: the line readers agree with the full parser, and with the LF file, on every mutation", () => {
  type Outcome = { values: [string, string][] } | { code: string; line: number | undefined };
  /** What decryptSecrets makes of `t`: the values, or the error's code and line (`lineShift` lines of prefix taken off). */
  async function outcome(t: string, lineShift = 0): Promise<Outcome> {
    try {
      return { values: [...(await decryptSecrets(t, [alice.identity])).values] };
    } catch (e) {
      if (!(e instanceof SopsError)) throw new Error(`not a SopsError: ${(e as Error)?.name}: ${(e as Error)?.message?.slice(0, 200)}`);
      assertNoLeak(e, [...VALUES.values()].filter((v) => v.length > 0).map((v) => v.slice(0, 12)));
      return { code: e.code, line: e.line === undefined ? undefined : e.line - lineShift };
    }
  }
  /** One seeded single-character change (replace, delete or insert) of `t`. */
  function mutate(t: string, next: () => number, alphabet: string): string {
    const pos = Math.floor(next() * t.length);
    const kind = next();
    const ch = alphabet[Math.floor(next() * alphabet.length)]!;
    return kind < 0.4 ? t.slice(0, pos) + ch + t.slice(pos + 1) : kind < 0.7 ? t.slice(0, pos) + t.slice(pos + 1) : t.slice(0, pos) + ch + t.slice(pos);
  }
  const crlf = (t: string) => t.replace(/\n/g, "\r\n");

  it("a mutated CRLF file (CRs among the characters) reads the same with a comment line before it (the full parser)", { timeout: 60_000 }, async () => {
    const seed = Number(process.env.SOPS_MUTATION_SEED ?? 20261203);
    const next = rng(seed);
    const base = crlf(text);
    const counts = { same: 0, refused: 0 };
    for (let i = 0; i < 400; i++) {
      const mutated = mutate(base, next, `${ALPHABET}\r\r`);
      if (mutated === base) continue;
      const fast = await outcome(mutated);
      expect(await outcome(`# the full parser\r\n${mutated}`, 1), `seed ${seed} #${i}`).toEqual(fast);
      counts["values" in fast ? "same" : "refused"]++;
    }
    expect(counts.refused).toBeGreaterThan(100);
    expect(counts.same).toBeGreaterThan(10);
  });

  it("a mutated LF file and the same file with CRLF line ends give the same values or the same code and line", { timeout: 60_000 }, async () => {
    const seed = Number(process.env.SOPS_MUTATION_SEED ?? 20261204);
    const next = rng(seed);
    const counts = { same: 0, refused: 0 };
    for (let i = 0; i < 400; i++) {
      const mutated = mutate(text, next, ALPHABET);
      if (mutated === text) continue;
      const lf = await outcome(mutated);
      expect(await outcome(crlf(mutated)), `seed ${seed} #${i}`).toEqual(lf);
      counts["values" in lf ? "same" : "refused"]++;
    }
    expect(counts.refused).toBeGreaterThan(100);
    expect(counts.same).toBeGreaterThan(10);
  });
});
