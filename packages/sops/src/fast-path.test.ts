/**
 * Which files the line readers take without the `yaml` parser (the reason the fast path exists:
 * a general parse of a 1,000-secret file costs several times the line scan). `yaml`'s parse
 * functions are wrapped to count calls; everything else about them is the real package.
 */
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

const calls = vi.hoisted(() => ({ count: 0 }));
vi.mock("yaml", async (importOriginal) => {
  const real = await importOriginal<typeof import("yaml")>();
  return {
    ...real,
    parseAllDocuments: (...args: Parameters<typeof real.parseAllDocuments>) => {
      calls.count++;
      return real.parseAllDocuments(...args);
    },
    parseDocument: (...args: Parameters<typeof real.parseDocument>) => {
      calls.count++;
      return real.parseDocument(...args);
    },
  };
});

const { decryptSecrets, encryptSecrets, parseSecretsFile } = await import("./index.js");
const { SAMPLE_VALUES: VALUES, testKey } = await import("../test-fixtures/support.js");

const alice = testKey("alice");
let text = "";
const crlf = (t: string) => t.replace(/\n/g, "\r\n");

beforeAll(async () => {
  text = await encryptSecrets(VALUES, { recipients: [alice.recipient], now: new Date("2026-02-03T04:05:06Z") });
});
beforeEach(() => {
  calls.count = 0;
});

describe("the line readers read our layout without yaml", () => {
  it("an LF file and a CRLF file (a Windows checkout) decrypt without a yaml parse", async () => {
    for (const t of [text, crlf(text)]) {
      calls.count = 0;
      expect([...(await decryptSecrets(t, [alice.identity])).values]).toEqual([...VALUES]);
      expect(calls.count, JSON.stringify(t.slice(0, 8))).toBe(0);
    }
  });

  it("mixed LF and CRLF line ends, quoted names and a file without its last line break stay on the line readers", () => {
    let i = 0;
    const mixed = text.replace(/\n/g, () => (i++ % 2 === 0 ? "\r\n" : "\n"));
    const quoted = crlf(text).replace(/^A: /m, '"A": ').replace(/^D: /m, "'D': ");
    const unterminated = crlf(text).replace(/\r\n$/, "");
    const blankInBlock = crlf(text).replace("\r\n    lastmodified", "\r\n\r\n    lastmodified");
    for (const t of [mixed, quoted, unterminated]) {
      expect(parseSecretsFile(t).entries.map((e) => e.name)).toEqual(["A", "B", "C", "D"]);
    }
    expect(calls.count).toBe(0);
    // a blank line in the block: the entries on the line reader, the block through yaml, as for LF
    expect(parseSecretsFile(blankInBlock).metadata).toEqual(parseSecretsFile(text).metadata);
    expect(calls.count).toBe(1);
  });

  it("a CR inside a line is not a CRLF: it leaves the line readers for yaml, as before", async () => {
    const inEntry = crlf(text).replace(/^B: /m, "B:\r ");
    const beforeCrlf = crlf(text).replace(/^(D: [^\r]*)\r\n/m, "$1\r\r\n");
    for (const t of [inEntry, beforeCrlf]) {
      calls.count = 0;
      expect([...(await decryptSecrets(t, [alice.identity])).values]).toEqual([...VALUES]);
      expect(calls.count).toBeGreaterThan(0);
    }
  });
});
