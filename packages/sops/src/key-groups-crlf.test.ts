/**
 * Writes that keep the data key (set, rm: reencryptSecrets without recipients) of a key-groups file
 * with CRLF line breaks (a Windows checkout with core.autocrlf=true, `*.yaml text eol=crlf`): the
 * file keeps CRLF, and its `sops:` block stays byte for byte but for `lastmodified` and `mac`, as
 * for an LF file. Files built by the independent oracle.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decryptDocument, decryptSecrets, reencryptSecrets } from "./index.js";
import { oracleDecrypt, oracleEncrypt, oracleMac, oracleSealKeyGroups, testKey } from "../test-fixtures/support.js";

const alice = testKey("alice");
const bob = testKey("bob");
const carol = testKey("carol");

const sopsBlock = (text: string) => text.slice(text.search(/^sops:\r?$/m));
const withoutLmMac = (block: string) => block.replace(/^ {4}(lastmodified|mac): [^\r\n]*/gm, "    $1: X");

describe("writes of a CRLF key-groups file", () => {
  it("set and rm keep CRLF and the sops block byte for byte but lastmodified and mac; the result verifies with the oracle and both readers", async () => {
    const dataKey = randomBytes(32);
    const body = `API_KEY: ${oracleEncrypt(dataKey, "sk-live-4f9a2c", "API_KEY:")}\nDB_PASSWORD: ${oracleEncrypt(dataKey, "hunter2-db", "DB_PASSWORD:")}\n`;
    const lf = oracleSealKeyGroups(body, { groups: [{ age: [alice.recipient] }, { age: [bob.recipient] }, { age: [carol.recipient] }], threshold: 2, dataKey, macValues: ["sk-live-4f9a2c", "hunter2-db"] });
    const crlf = lf.replace(/\n/g, "\r\n");
    const ids = [alice.identity, carol.identity];
    const before = await decryptSecrets(crlf, ids);
    const now = new Date("2026-12-05T01:00:00Z");
    // set (a new name) and rm (a name gone), each from the file the last one wrote
    const values = new Map(before.values);
    values.set("NEW_TOKEN", "tok-123");
    const set = await reencryptSecrets(before, values, { now });
    const afterSet = await decryptSecrets(set, ids);
    const fewer = new Map(afterSet.values);
    fewer.delete("DB_PASSWORD");
    const rm = await reencryptSecrets(afterSet, fewer, { now });
    for (const [what, written] of [["set", set], ["rm", rm]] as const) {
      // CRLF throughout: no line break without its CR
      expect(written.includes("\r\n"), what).toBe(true);
      expect(written.replace(/\r\n/g, "").includes("\n"), what).toBe(false);
      expect(withoutLmMac(sopsBlock(written)), what).toBe(withoutLmMac(sopsBlock(crlf)));
      expect(sopsBlock(written), what).toContain('    lastmodified: "2026-12-05T01:00:00Z"\r\n');
    }
    // an unchanged value keeps its ENC string
    expect(rm).toContain(`API_KEY: ${/^API_KEY: ([^\r\n]*)/m.exec(crlf)![1]!}\r\n`);
    const mac = /^ {4}mac: ([^\r\n]*)/m.exec(rm)![1]!;
    expect(oracleDecrypt(dataKey, mac, "2026-12-05T01:00:00Z").plaintext).toBe(oracleMac(["sk-live-4f9a2c", "tok-123"]));
    expect(Object.fromEntries((await decryptSecrets(rm, [bob.identity, carol.identity])).values)).toEqual({ API_KEY: "sk-live-4f9a2c", NEW_TOKEN: "tok-123" });
    expect((await decryptDocument(rm, [alice.identity, bob.identity])).tree).toEqual({ API_KEY: "sk-live-4f9a2c", NEW_TOKEN: "tok-123" });
  });
});
