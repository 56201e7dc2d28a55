/**
 * The type of `sops.shamir_threshold` in each store, in every reader: sops 3.7–3.12 decode the YAML
 * and JSON metadata into a typed struct (`ShamirThreshold int`), so a quoted `"2"` is refused there
 * ("cannot unmarshal !!str into int"), while a dotenv file holds every metadata value as text
 * (`sops_shamir_threshold=2`, decoded weakly typed). Files built by the independent oracle.
 */
import { randomBytes } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { SopsError, decryptDocument, decryptSecrets, readKeyGroups, parseSecretsFile } from "./index.js";
import { catchError, oracleEncrypt, oracleSealKeyGroups, testKey } from "../test-fixtures/support.js";

const alice = testKey("alice");
const bob = testKey("bob");
const carol = testKey("carol");
const ids = [alice.identity, carol.identity];

function twoOfThree(): string {
  const dataKey = randomBytes(32);
  const body = `API_KEY: ${oracleEncrypt(dataKey, "sk-live-4f9a2c", "API_KEY:")}\n`;
  return oracleSealKeyGroups(body, { groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }, { age: [carol.recipient] }], threshold: 2, dataKey, macValues: ["sk-live-4f9a2c"] });
}

const lineOf = (text: string, needle: string) => text.split("\n").findIndex((l) => l.includes(needle)) + 1;

describe("shamir_threshold must be a number in YAML and JSON", () => {
  it("refuses a quoted threshold in YAML (flat and general reader) with MALFORMED_FILE at its line, saying how to fix it", async () => {
    const text = twoOfThree().replace("    shamir_threshold: 2\n", '    shamir_threshold: "2"\n');
    for (const read of [() => decryptSecrets(text, ids, { path: "production.enc.yaml" }), () => decryptDocument(text, ids, { path: "production.enc.yaml" })]) {
      const err = (await catchError(read)) as SopsError;
      expect(err).toBeInstanceOf(SopsError);
      expect(err.code).toBe("MALFORMED_FILE");
      expect(err.line).toBe(lineOf(text, "shamir_threshold:"));
      expect(err.message).toContain("`shamir_threshold` is quoted");
      expect(err.hint).toContain("shamir_threshold: 2");
    }
    // single quotes too; and a quoted empty text is no absent threshold
    for (const spelling of ["'2'", '""']) {
      const other = text.replace('"2"', spelling);
      expect(((await catchError(() => decryptSecrets(other, ids))) as SopsError).code, spelling).toBe("MALFORMED_FILE");
      expect(((await catchError(() => decryptDocument(other, ids))) as SopsError).code, spelling).toBe("MALFORMED_FILE");
    }
    // the same file with the number decrypts
    expect(Object.fromEntries((await decryptSecrets(twoOfThree(), ids)).values)).toEqual({ API_KEY: "sk-live-4f9a2c" });
  });

  it("refuses a threshold that is a JSON string in both readers; dotenv's text threshold stays accepted", async () => {
    const text = twoOfThree();
    const doc = parseYaml(text) as Record<string, unknown> & { sops: Record<string, unknown> };
    doc.sops.shamir_threshold = "2";
    const json = `${JSON.stringify(doc, null, "\t")}\n`;
    for (const read of [() => decryptSecrets(json, ids, { format: "json" }), () => decryptDocument(json, ids, { format: "json" })]) {
      const err = (await catchError(read)) as SopsError;
      expect(err.code).toBe("MALFORMED_FILE");
      expect(err.line).toBe(lineOf(json, '"shamir_threshold"'));
      expect(err.hint).toContain('"shamir_threshold": 2');
    }
    doc.sops.shamir_threshold = 2;
    expect((await decryptDocument(`${JSON.stringify(doc, null, "\t")}\n`, ids, { format: "json" })).tree).toEqual({ API_KEY: "sk-live-4f9a2c" });
  });

  it("readKeyGroups takes the store: text is refused for yaml/json/binary, taken for dotenv, and taken when no store is named (as before)", () => {
    const text = twoOfThree().replace("    shamir_threshold: 2\n", '    shamir_threshold: "2"\n');
    const meta = parseSecretsFile(text).metadata;
    for (const format of ["yaml", "json", "binary"] as const) {
      expect(() => readKeyGroups(meta, { format }), format).toThrow(SopsError);
    }
    expect(readKeyGroups(meta, { format: "dotenv" })?.threshold).toBe(2);
    expect(readKeyGroups(meta)?.threshold).toBe(2);
  });
});
