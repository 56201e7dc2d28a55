/**
 * The resolver over files the real sops wrote (../shared/interop/sops-fixtures). Encrypted
 * top-level scalars of every age fixture resolve to the string `sops -d` prints (str as is,
 * int/float canonical, bool `true`/`false`); maps and lists are known names refused with
 * NOT_A_STRING, and values the file keeps in clear with NOT_ENCRYPTED. Skips with a message when
 * ../shared is absent (a user's own clone).
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ResolverError, createResolver } from "../packages/resolver/src/index.js";
import { FIXTURES_DIR, caught } from "../packages/resolver/test/support.js";

const present = existsSync(join(FIXTURES_DIR, "MANIFEST.md"));
const SKIP = `skipped: the sops interop fixtures folder ${FIXTURES_DIR} is absent (it lives in ../shared next to the repo; a user's own clone does not have it)`;

interface Expected {
  fixture: string;
  plaintext_tree: Record<string, unknown>;
  decrypt_with: string[];
  values_in_walk_order: { path: string[]; plaintext: string; type: string; encrypted: boolean }[];
}

/** Age fixtures whose key is in the folder (the PGP-only comments fixture is the sops package's business). */
function ageFixtures(): { file: string; keyFile: string; expected: Expected }[] {
  if (!present) return [];
  const out: { file: string; keyFile: string; expected: Expected }[] = [];
  for (const folder of readdirSync(FIXTURES_DIR)) {
    const dir = join(FIXTURES_DIR, folder);
    if (!statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir).filter((n) => n.endsWith(".expected.json"))) {
      const expected = JSON.parse(readFileSync(join(dir, name), "utf8")) as Expected;
      const keyName = expected.decrypt_with[0];
      if (keyName === undefined || !existsSync(join(dir, keyName))) continue;
      out.push({ file: join(dir, name.replace(/\.expected\.json$/, "")), keyFile: join(dir, keyName), expected });
    }
  }
  return out;
}

const fixtures = ageFixtures();

describe.skipIf(!present)("sops-made fixtures resolve", () => {
  it("finds the age fixtures", () => {
    expect(fixtures.map((f) => f.expected.fixture).sort()).toEqual([
      "fluxcd-kustomize-controller/age-pq.yaml",
      "fluxcd-kustomize-controller/age.yaml",
      "fluxcd-kustomize-controller/env.env",
      "fluxcd-kustomize-controller/file.txt",
      "fluxcd-kustomize-controller/global-secret.yaml",
      "helm-secrets/secrets.age.yaml",
      "humphd-sops-age/secret.enc.env",
      "humphd-sops-age/secret.enc.json",
      "humphd-sops-age/secret.enc.yaml",
      "sops-nix/secrets.yaml",
      "terragrunt-tests/file.enc.yaml",
    ]);
  });

  for (const { file, keyFile, expected } of fixtures) {
    it(`${expected.fixture}: encrypted scalars resolve, maps/lists are NOT_A_STRING, clear values NOT_ENCRYPTED`, async () => {
      const r = await createResolver({ environment: "fixture", files: { fixture: file }, identities: readFileSync(keyFile, "utf8"), env: {} });
      const scalars: string[] = [];
      for (const [name, value] of Object.entries(expected.plaintext_tree)) {
        if (value !== null && typeof value === "object") {
          const e = await caught(() => r.get(name));
          expect(e).toBeInstanceOf(ResolverError);
          expect((e as ResolverError).code).toBe("NOT_A_STRING");
          expect((e as ResolverError).message).toContain(Array.isArray(value) ? "is a list" : "is a map");
          // encrypted values long enough to be distinctive (and not part of the fixture's path) never appear
          for (const leaf of expected.values_in_walk_order.filter((l) => l.path[0] === name && l.encrypted && l.plaintext.length > 6 && !file.includes(l.plaintext))) {
            expect((e as ResolverError).message).not.toContain(leaf.plaintext);
          }
        } else {
          const leaf = expected.values_in_walk_order.find((l) => l.path.length === 1 && l.path[0] === name);
          expect(leaf, `walk-order leaf for ${name}`).toBeDefined();
          if (!leaf!.encrypted) {
            const e = await caught(() => r.get(name));
            expect((e as ResolverError).code).toBe("NOT_ENCRYPTED");
            continue;
          }
          expect(r.get(name)).toBe(leaf!.type === "bool" ? leaf!.plaintext.toLowerCase() : leaf!.plaintext);
          scalars.push(name);
        }
      }
      expect(r.names()).toEqual(scalars);
      expect(r.status().recipients.length).toBeGreaterThan(0);
    });
  }

  it("humphd-sops-age/secret.enc.yaml: str, int, float and bool values as sops prints them; the nested map is refused", async () => {
    const dir = join(FIXTURES_DIR, "humphd-sops-age");
    const r = await createResolver({ environment: "fixture", files: { fixture: join(dir, "secret.enc.yaml") }, identities: readFileSync(join(dir, "key.txt"), "utf8"), env: {} });
    expect(r.get("secret")).toBe("this is a secret");
    expect(r.get("string")).toBe("string");
    expect(r.get("int")).toBe("7");
    expect(r.get("float")).toBe("3.14");
    expect(r.get("boolean")).toBe("true");
    const e = (await caught(() => r.get("complex"))) as ResolverError;
    expect(e.code).toBe("NOT_A_STRING");
    expect(e.secret).toBe("complex");
    expect(e.message).toContain("complex");
    expect(e.message).not.toContain("this is a secret");
    expect({ ...r.resolveHeaders([{ name: "X-Int", type: "secret", secret: "int" }]) }).toEqual({ "X-Int": "7" });
    const e2 = (await caught(() => r.resolveHeaders([{ name: "X-C", type: "secret", secret: "complex" }]))) as ResolverError;
    expect(e2.code).toBe("NOT_A_STRING");
    // the JSON twin stores 7 as type:float; sops prints it as 7
    const j = await createResolver({ environment: "fixture", files: { fixture: join(dir, "secret.enc.json") }, identities: readFileSync(join(dir, "key.txt"), "utf8"), env: {} });
    expect(j.get("int")).toBe("7");
    expect(j.get("0word")).toBe("gotta match go");
  });

  it("fluxcd: a Kubernetes Secret with encrypted_regex serves no clear value", async () => {
    const flux = join(FIXTURES_DIR, "fluxcd-kustomize-controller");
    const r = await createResolver({ environment: "k", files: { k: join(flux, "age.yaml") }, identities: readFileSync(join(flux, "key-age.txt"), "utf8"), env: {} });
    expect(r.names()).toEqual([]);
    const e = (await caught(() => r.get("kind"))) as ResolverError;
    expect(e.code).toBe("NOT_ENCRYPTED");
    expect(e.message).toContain("stored in clear");
    expect(((await caught(() => r.get("stringData"))) as ResolverError).code).toBe("NOT_A_STRING");
  });

  it("flat fixtures (dotenv, binary store) resolve every name", async () => {
    const flux = join(FIXTURES_DIR, "fluxcd-kustomize-controller");
    const key = readFileSync(join(flux, "key-age.txt"), "utf8");
    const env = await createResolver({ environment: "e", files: { e: join(flux, "env.env") }, identities: key, env: {} });
    expect(env.names()).toEqual(["key"]);
    expect(env.get("key")).toBe("value");
    const binary = await createResolver({ environment: "b", files: { b: join(flux, "file.txt") }, identities: key, env: {} });
    expect(binary.get("data")).toBe("value");
    const humphd = join(FIXTURES_DIR, "humphd-sops-age");
    const dotenv = await createResolver({ environment: "d", files: { d: join(humphd, "secret.enc.env") }, identities: readFileSync(join(humphd, "key.txt"), "utf8"), env: {} });
    expect(Object.fromEntries(dotenv.names().map((n) => [n, dotenv.get(n)]))).toEqual({ secret: "this is a secret", another_secret: "7" });
  });

  it("helm-secrets: a multi-line value resolves with get but is refused as a header value", async () => {
    const dir = join(FIXTURES_DIR, "helm-secrets");
    const r = await createResolver({ environment: "h", files: { h: join(dir, "secrets.age.yaml") }, identities: readFileSync(join(dir, "key.txt"), "utf8"), env: {} });
    expect(r.get("key")).toMatch(/^-----BEGIN PGP MESSAGE-----\n/);
    const e = (await caught(() => r.resolveHeaders([{ name: "X-Key", type: "secret", secret: "key" }]))) as ResolverError;
    expect(e.code).toBe("INVALID_HEADER_VALUE");
    expect(e.message).not.toContain("BEGIN PGP");
    expect(r.get("global_secret")).toBe("global_age");
  });
});

if (!present) {
  describe("sops-made fixtures", () => {
    it.skip(SKIP, () => undefined);
  });
}
