/**
 * The resolver over a sops key-groups file (Shamir, SOPS-FORMAT §5) made by the independent
 * oracle (python split, `age` CLI, node:crypto values and MAC): the source entry and the bundle
 * (`dist/bundle/index.cjs`, built by `node scripts/bundle.mjs`) both serve its values with keys of
 * enough groups, and refuse it, naming the groups, with too few. The flat file takes the fast
 * path (decryptSecrets); a nested one the general reader.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createResolver as createFromSource } from "../packages/resolver/src/index.js";
import { oracleEncrypt, oracleSealKeyGroups, tempDir, testKey } from "../packages/sops/test-fixtures/support.js";

const alice = testKey("alice");
const bob = testKey("bob");
const carol = testKey("carol");
const { dir, cleanup } = tempDir("resolver-key-groups-");
afterAll(cleanup);

const bundle = createRequire(import.meta.url)("../packages/resolver/dist/bundle/index.cjs") as { createResolver: typeof createFromSource };

function repoWith(name: string, text: string): string {
  const root = join(dir, name);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, "secrets"), { recursive: true });
  writeFileSync(join(root, "stellar.yaml"), "version: 1\nenvironments:\n  production: {}\n");
  writeFileSync(join(root, "secrets", "production.enc.yaml"), text);
  return root;
}

const groups = [{ age: [alice.recipient] }, { age: [bob.recipient] }, { age: [carol.recipient] }];

describe("resolver: key-groups files", () => {
  for (const [entry, createResolver] of [
    ["source", createFromSource],
    ["bundle", bundle.createResolver],
  ] as const) {
    it(`${entry}: serves a flat 2-of-3 file with two groups' keys, refuses it with one`, async () => {
      const key = randomBytes(32);
      const text = oracleSealKeyGroups(`stripe_api_key: ${oracleEncrypt(key, "sk_test_shamir", "stripe_api_key:")}\n`, { dataKey: key, groups, threshold: 2, x: "random", macValues: ["sk_test_shamir"] });
      const root = repoWith(`flat-${entry}`, text);
      const r = await createResolver({ environment: "production", root, identities: [alice.identity, carol.identity].join("\n"), env: {} });
      expect(r.get("stripe_api_key")).toBe("sk_test_shamir");
      const err = await createResolver({ environment: "production", root, identities: bob.identity, env: {} }).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string },
      );
      expect(err?.code).toBe("NO_MATCHING_IDENTITY");
      expect(err?.message).toContain("opens 1 of the file's 3 key groups (2)");
      expect(err?.message).not.toContain("sk_test_shamir");
    });

    it(`${entry}: with no identity at all, NO_IDENTITY names the groups' recipients and how many groups decrypt together`, async () => {
      const key = randomBytes(32);
      const text = oracleSealKeyGroups(`stripe_api_key: ${oracleEncrypt(key, "sk_test_shamir", "stripe_api_key:")}\n`, { dataKey: key, groups, threshold: 2, macValues: ["sk_test_shamir"] });
      const err = await createResolver({ environment: "production", root: repoWith(`none-${entry}`, text), env: {} }).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string },
      );
      expect(err?.code).toBe("NO_IDENTITY");
      expect(err?.message).toContain(`It is encrypted to: ${alice.recipient}, ${bob.recipient}, ${carol.recipient} (in 3 sops key groups: any 2 of 3 groups decrypt together).`);
    });

    it(`${entry}: status() lists the groups' recipients, the groups and the threshold (flat and nested files)`, async () => {
      const key = randomBytes(32);
      const flat = oracleSealKeyGroups(`stripe_api_key: ${oracleEncrypt(key, "sk_test_shamir", "stripe_api_key:")}\n`, {
        dataKey: key,
        groups: [{ age: [alice.recipient, bob.recipient] }, { age: [carol.recipient], pgp: ["FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"] }, { age: [bob.recipient] }],
        threshold: 2,
        macValues: ["sk_test_shamir"],
      });
      const r = await createResolver({ environment: "production", root: repoWith(`status-flat-${entry}`, flat), identities: [alice.identity, carol.identity].join("\n"), env: {} });
      const status = r.status();
      expect(status.recipients).toEqual([alice.recipient, bob.recipient, carol.recipient]);
      expect(status.keyGroups).toEqual({
        threshold: 2,
        thresholdWritten: true,
        groups: [
          { age: [alice.recipient, bob.recipient], others: [] },
          { age: [carol.recipient], others: ["pgp FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"] },
          { age: [bob.recipient], others: [] },
        ],
      });
      const nested = oracleSealKeyGroups(`db:\n    password: ${oracleEncrypt(key, "pw", "db:password:")}\n`, { dataKey: key, groups: groups.slice(0, 2), macValues: ["pw"] });
      const n = await createResolver({ environment: "production", root: repoWith(`status-nested-${entry}`, nested), identities: [alice.identity, bob.identity].join("\n"), env: {} });
      expect(n.status().recipients).toEqual([alice.recipient, bob.recipient]);
      expect(n.status().keyGroups).toEqual({ threshold: 2, thresholdWritten: false, groups: [{ age: [alice.recipient], others: [] }, { age: [bob.recipient], others: [] }] });
    });

    it(`${entry}: a 2-of-3 file whose shamir_threshold was removed is served with two groups' keys, as sops reads it (the MAC decides), and refused with one`, async () => {
      const key = randomBytes(32);
      const text = oracleSealKeyGroups(`stripe_api_key: ${oracleEncrypt(key, "sk_test_shamir", "stripe_api_key:")}\n`, { dataKey: key, groups, threshold: 2, macValues: ["sk_test_shamir"] }).replace("    shamir_threshold: 2\n", "");
      expect(text).not.toContain("shamir_threshold");
      const root = repoWith(`no-threshold-${entry}`, text);
      const r = await createResolver({ environment: "production", root, identities: [alice.identity, carol.identity].join("\n"), env: {} });
      expect(r.get("stripe_api_key")).toBe("sk_test_shamir");
      expect(r.status().keyGroups).toMatchObject({ threshold: 2, thresholdWritten: false });
      const err = await createResolver({ environment: "production", root, identities: bob.identity, env: {} }).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string },
      );
      expect(err?.code).toBe("NO_MATCHING_IDENTITY");
      expect(err?.message).toContain("and at least 2 are needed (no sops.shamir_threshold is written");
    });

    it(`${entry}: serves the encrypted top-level strings of a nested key-groups file through the general reader`, async () => {
      const key = randomBytes(32);
      const body = `db:\n    password: ${oracleEncrypt(key, "pw", "db:password:")}\ntoken: ${oracleEncrypt(key, "tok", "token:")}\n`;
      const text = oracleSealKeyGroups(body, { dataKey: key, groups: groups.slice(0, 2), macValues: ["pw", "tok"] });
      const root = repoWith(`nested-${entry}`, text);
      const r = await createResolver({ environment: "production", root, identities: [alice.identity, bob.identity].join("\n"), env: {} });
      expect(r.get("token")).toBe("tok");
    });

    it(`${entry}: refuses a quoted shamir_threshold (sops 3.7–3.12 do) with MALFORMED_FILE at its line`, async () => {
      const key = randomBytes(32);
      const text = oracleSealKeyGroups(`stripe_api_key: ${oracleEncrypt(key, "sk_test_shamir", "stripe_api_key:")}\n`, { dataKey: key, groups, threshold: 2, macValues: ["sk_test_shamir"] }).replace(
        "    shamir_threshold: 2\n",
        '    shamir_threshold: "2"\n',
      );
      const root = repoWith(`quoted-threshold-${entry}`, text);
      const err = await createResolver({ environment: "production", root, identities: [alice.identity, carol.identity].join("\n"), env: {} }).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string },
      );
      expect(err?.code).toBe("MALFORMED_FILE");
      expect(err?.message).toContain(`production.enc.yaml:${text.split("\n").findIndex((l) => l.startsWith("    shamir_threshold:")) + 1}:`);
      expect(err?.message).toContain("`shamir_threshold` is quoted");
    });
  }
});
