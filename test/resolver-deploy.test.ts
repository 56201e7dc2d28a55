/**
 * What a runtime meets at deploy time, over real encrypted files (keys generated per run,
 * TEST-ONLY): a file cut short (every prefix of it), a file rewritten in place while reloads run,
 * many resolvers started at once, the same environment resolved twice.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toResolverError } from "../packages/resolver/src/errors.js";
import { ResolverError, createResolver } from "../packages/resolver/src/index.js";
import { assertNoLeak, caught, encryptSecrets, makeRepo, tempDir, testKey, type TestKey } from "../packages/resolver/test/support.js";

const V1 = new Map([
  ["stripe_api_key", "sk_live_deploy-leakcheck-1"],
  ["db_password", "pw-deploy-leakcheck-2"],
]);
const V2 = new Map([
  ["stripe_api_key", "sk_live_deploy-leakcheck-3"],
  ["db_password", "pw-deploy-leakcheck-4"],
]);
const ALL = [...V1.values(), ...V2.values()];

let owner: TestKey;
let repo: Awaited<ReturnType<typeof makeRepo>>;
let full: string;
let next: string;

beforeAll(async () => {
  owner = await testKey();
  repo = await makeRepo({ production: V1 }, [owner.recipient]);
  full = readFileSync(repo.file("production"), "utf8");
  next = await encryptSecrets(V2, { recipients: [owner.recipient] });
});
afterAll(() => repo.cleanup());

const open = () => createResolver({ environment: "production", root: repo.root, identities: owner.identity, env: {} });

describe("a file cut short", () => {
  it("no prefix of a real file is served: each is refused with NOT_ENCRYPTED or MALFORMED_FILE, only the whole file verifies", { timeout: 60_000 }, async () => {
    try {
      const codes = new Set<string>();
      // every third length, and every length of the last 80 bytes (the end of the sops block)
      for (let n = 0; n < full.length - 1; n += n < full.length - 80 ? 3 : 1) {
        writeFileSync(repo.file("production"), full.slice(0, n));
        const e = await caught(open);
        expect(e, `prefix of ${n} bytes`).toBeInstanceOf(ResolverError);
        codes.add((e as ResolverError).code);
        if (n % 97 === 0) assertNoLeak(e, [...ALL, owner.identity]);
      }
      expect([...codes].sort()).toEqual(["MALFORMED_FILE", "NOT_ENCRYPTED"]);
    } finally {
      writeFileSync(repo.file("production"), full);
    }
    expect((await open()).get("db_password")).toBe(V1.get("db_password"));
  });

  it("says it may be cut short, with how a deploy writes it safely, where it said only 'the file is not encrypted' (the code stays)", async () => {
    const cuts = {
      empty: ["", "NOT_ENCRYPTED", "The file is empty"],
      "before the sops block": [full.slice(0, full.indexOf("\nsops:") + 1), "NOT_ENCRYPTED", "ends before its sops metadata"],
      "inside a value": [full.slice(0, 100), "NOT_ENCRYPTED", "ends before its sops metadata"],
      "inside the sops block": [full.slice(0, full.indexOf("lastmodified:") + 5), "MALFORMED_FILE", "does not end with a line break"],
    } as const;
    try {
      for (const [where, [text, code, what]] of Object.entries(cuts)) {
        writeFileSync(repo.file("production"), text);
        const e = (await caught(open)) as ResolverError;
        expect(e.code, where).toBe(code);
        expect(e.message, where).toContain(`${what}: it may be cut short (a copy that stopped, or read while a deploy was writing it).`);
        expect(e.hint, where).toMatch(/^Restore the file from git; a deploy that writes it should write a temporary file in the same folder and rename it over this one/);
        expect(e.file, where).toBe(repo.file("production"));
      }
      // every cut at a line end inside the sops block (the block is last and its last field,
      // `version`, is not there yet) said only which field was missing
      const sops = full.indexOf("\nsops:") + 1;
      let lineEnds = 0;
      for (let n = sops + 1; n < full.length - 1; n++) {
        if (full[n - 1] !== "\n") continue;
        lineEnds++;
        writeFileSync(repo.file("production"), full.slice(0, n));
        const e = (await caught(open)) as ResolverError;
        expect(e.code, `line-end cut at ${n}`).toBe("MALFORMED_FILE");
        expect(e.message, `line-end cut at ${n}`).toContain("The file ends inside its sops metadata, before `version` (which sops writes last): it may be cut short");
        expect(e.hint, `line-end cut at ${n}`).toMatch(/^Restore the file from git; a deploy that writes it/);
      }
      expect(lineEnds).toBeGreaterThan(8);
      // a whole file whose sops block is not the last key is not called cut short for a missing version
      const moved = `${full.slice(sops).replace(/^ {4}version:.*\n/m, "")}${full.slice(0, sops)}`;
      writeFileSync(repo.file("production"), moved);
      const notCut = (await caught(open)) as ResolverError;
      expect(notCut.code).toBe("MALFORMED_FILE");
      expect(notCut.message).not.toContain("cut short");
      // a file that is whole but not encrypted is not called cut short
      writeFileSync(repo.file("production"), "stripe_api_key: plain-leakcheck\n");
      const plain = (await caught(open)) as ResolverError;
      expect(plain.code).toBe("NOT_ENCRYPTED");
      expect(plain.message).not.toContain("cut short");
    } finally {
      writeFileSync(repo.file("production"), full);
    }
  });

  it("a sops block cut at a line's end is reported at the line of `sops:` (it said line 1)", async () => {
    const sopsLine = full.split("\n").findIndex((l) => l.startsWith("sops:")) + 1;
    expect(sopsLine).toBeGreaterThan(1);
    try {
      writeFileSync(repo.file("production"), full.slice(0, full.indexOf("    lastmodified:")));
      const e = (await caught(open)) as ResolverError;
      expect(e.code).toBe("MALFORMED_FILE");
      expect(e.message).toContain("`lastmodified` is missing");
      expect(e.line).toBe(sopsLine);
      expect(e.message).toContain(`${repo.file("production")}:${sopsLine}:`);
    } finally {
      writeFileSync(repo.file("production"), full);
    }
  });
});

describe("a deploy rewriting the file while the runtime reloads", () => {
  it("a reload at every stage of an in-place rewrite keeps the old values whole; the finished file is taken", async () => {
    const r = await open();
    try {
      for (let n = 0; n < next.length - 1; n += 7) {
        writeFileSync(repo.file("production"), next.slice(0, n));
        const result = await r.reload();
        expect(result.ok, `after ${n} bytes`).toBe(false);
        expect(r.get("stripe_api_key")).toBe(V1.get("stripe_api_key"));
        expect(r.get("db_password")).toBe(V1.get("db_password"));
        expect(r.status().generation).toBe(1);
      }
      writeFileSync(repo.file("production"), next);
      const done = await r.reload();
      expect(done).toMatchObject({ ok: true, generation: 2, changed: ["stripe_api_key", "db_password"] });
      expect(r.status().lastReloadError).toBeUndefined();
      expect(r.get("db_password")).toBe(V2.get("db_password"));
    } finally {
      writeFileSync(repo.file("production"), full);
    }
  });
});

describe("many resolvers in one process", () => {
  it("100 createResolver at once for the same environment each verify and serve the same values, independently", async () => {
    const all = await Promise.all(Array.from({ length: 100 }, open));
    for (const r of all) expect(r.get("db_password")).toBe(V1.get("db_password"));
    // each holds its own snapshot: a reload of one after the file changed does not move the others
    try {
      writeFileSync(repo.file("production"), next);
      expect((await all[0]!.reload()).ok).toBe(true);
      expect(all[0]!.get("db_password")).toBe(V2.get("db_password"));
      expect(all[1]!.get("db_password")).toBe(V1.get("db_password"));
      // the same environment resolved again reads the file again (nothing is cached between resolvers)
      expect((await open()).get("db_password")).toBe(V2.get("db_password"));
      // a reload of an unchanged file decrypts nothing
      expect(await all[0]!.reload()).toMatchObject({ ok: true, unchanged: true, generation: 2 });
    } finally {
      writeFileSync(repo.file("production"), full);
    }
  });
});

describe("a file from the wrong environment", () => {
  it("staging's file copied over production's, with a deploy key that is production's only: NO_MATCHING_IDENTITY naming staging's recipients and the deploy key's public key", async () => {
    const deploy = await testKey();
    const ci = await testKey();
    const envs = await makeRepo({ production: V1, staging: V2 }, [deploy.recipient]);
    try {
      // staging is encrypted to the CI key only; production to the deploy key
      writeFileSync(envs.file("staging"), await encryptSecrets(V2, { recipients: [ci.recipient] }));
      writeFileSync(envs.file("production"), readFileSync(envs.file("staging")));
      const e = (await caught(() => createResolver({ environment: "production", root: envs.root, identities: deploy.identity, env: {} }))) as ResolverError;
      expect(e).toBeInstanceOf(ResolverError);
      expect(e.code).toBe("NO_MATCHING_IDENTITY");
      expect(e.message).toContain(`its recipients are: ${ci.recipient}`);
      expect(e.message).toContain(`The identities this process holds are for: ${deploy.recipient} (public keys).`);
      expect(e.message).toContain("another environment's file or key");
      assertNoLeak(e, [...ALL, deploy.identity, ci.identity]);
      // the same at a reload: the old values stay
      writeFileSync(envs.file("production"), await encryptSecrets(V1, { recipients: [deploy.recipient] }));
      const r = await createResolver({ environment: "production", root: envs.root, identities: deploy.identity, env: {} });
      writeFileSync(envs.file("production"), readFileSync(envs.file("staging")));
      const reload = await r.reload();
      expect(reload.ok).toBe(false);
      if (!reload.ok) expect(reload.error.message).toContain(`are for: ${deploy.recipient}`);
      expect(r.get("db_password")).toBe(V1.get("db_password"));
    } finally {
      envs.cleanup();
    }
  });

  it("a key of both environments opens the copy: the file says nothing of its environment (a stated limit; status() shows the recipients)", async () => {
    const both = await testKey();
    const envs = await makeRepo({ production: V1, staging: V2 }, [both.recipient]);
    try {
      writeFileSync(envs.file("production"), readFileSync(envs.file("staging")));
      const r = await createResolver({ environment: "production", root: envs.root, identities: both.identity, env: {} });
      expect(r.get("db_password")).toBe(V2.get("db_password"));
    } finally {
      envs.cleanup();
    }
  });
});

describe("a copied file that stellar.yaml proves another environment's (checker session 6, item 5)", () => {
  it("staging's file over production's, opened by a CI key of both: OTHER_ENVIRONMENT_FILE when its recipients are exactly staging's members, at createResolver and at reload; served when nothing proves it", async () => {
    const deploy = await testKey();
    const ci = await testKey();
    const envs = await makeRepo({ production: V1, staging: V2 }, [deploy.recipient, ci.recipient]);
    const project = (production: string[], staging: string[]) =>
      writeFileSync(
        join(envs.root, "stellar.yaml"),
        `version: 1\nenvironments:\n  production:\n    members:\n${production.map((k, i) => `      m${i}: ${k}\n`).join("")}  staging:\n    members:\n${staging.map((k, i) => `      s${i}: ${k}\n`).join("")}`,
      );
    try {
      // staging is encrypted to its one member, the CI key; production to the deploy key and the CI key
      writeFileSync(envs.file("staging"), await encryptSecrets(V2, { recipients: [ci.recipient] }));
      const own = readFileSync(envs.file("production"));
      project([deploy.recipient, ci.recipient.toUpperCase()], [ci.recipient]);
      const r = await createResolver({ environment: "production", root: envs.root, identities: ci.identity, env: {} });
      expect(r.get("db_password")).toBe(V1.get("db_password"));
      writeFileSync(envs.file("production"), readFileSync(envs.file("staging")));
      const e = (await caught(() => createResolver({ environment: "production", root: envs.root, identities: ci.identity, env: {} }))) as ResolverError;
      expect(e).toBeInstanceOf(ResolverError);
      expect(e.code).toBe("OTHER_ENVIRONMENT_FILE");
      expect(e.message).toBe(
        `${envs.file("production")} is encrypted to exactly the members stellar.yaml gives environment "staging", not production's: it is that environment's file under production's name (copied over it in a build or a deploy script?), and was not served, although this process's key opens it`,
      );
      expect(e.hint).toContain("`git checkout -- production.enc.yaml` in the secrets folder");
      assertNoLeak(e, [...ALL, deploy.identity, ci.identity]);
      // a reload that finds the copy fails and keeps production's values
      const reload = await r.reload();
      expect(reload).toMatchObject({ ok: false, error: { code: "OTHER_ENVIRONMENT_FILE" } });
      expect(r.get("db_password")).toBe(V1.get("db_password"));
      // staging's own resolver serves its file
      expect((await createResolver({ environment: "staging", root: envs.root, identities: ci.identity, env: {} })).get("db_password")).toBe(V2.get("db_password"));
      // nothing proves it: both environments with the same members, or files: instead of root (no stellar.yaml read)
      project([ci.recipient], [ci.recipient]);
      expect((await createResolver({ environment: "production", root: envs.root, identities: ci.identity, env: {} })).get("db_password")).toBe(V2.get("db_password"));
      project([deploy.recipient, ci.recipient], [ci.recipient]);
      expect((await createResolver({ environment: "production", files: { production: envs.file("production") }, identities: ci.identity, env: {} })).get("db_password")).toBe(V2.get("db_password"));
      writeFileSync(envs.file("production"), own);
    } finally {
      envs.cleanup();
    }
  });
});

describe("members read again at reload (checker session 7, item 5)", () => {
  it("a pull that changes stellar.yaml's members and re-keys the file is judged by the new members: served when the file is production's own now, refused when it is staging's under the new members", async () => {
    const deploy = await testKey();
    const ci = await testKey();
    const gone = await testKey();
    const envs = await makeRepo({ production: V1, staging: V2 }, [deploy.recipient, ci.recipient]);
    const project = (production: string[], staging: string[]) =>
      writeFileSync(
        join(envs.root, "stellar.yaml"),
        `version: 1\nenvironments:\n  production:\n    members:\n${production.map((k, i) => `      m${i}: ${k}\n`).join("")}  staging:\n    members:\n${staging.map((k, i) => `      s${i}: ${k}\n`).join("")}`,
      );
    try {
      // 1. production drops its deploy key: stellar.yaml and the re-keyed file come in one pull.
      // Judged by the members read at start, its recipients (the CI key alone) were staging's: refused
      project([deploy.recipient, ci.recipient], [ci.recipient]);
      const r = await createResolver({ environment: "production", root: envs.root, identities: ci.identity, env: {} });
      expect(r.get("db_password")).toBe(V1.get("db_password"));
      project([ci.recipient], [ci.recipient, gone.recipient]);
      writeFileSync(envs.file("production"), await encryptSecrets(V2, { recipients: [ci.recipient] }));
      const served = await r.reload();
      expect(served).toMatchObject({ ok: true, unchanged: false });
      expect(r.get("db_password")).toBe(V2.get("db_password"));

      // 2. staging drops a member, and staging's re-keyed file is copied over production's: by the
      // members read before (staging had two), nothing proved it; by stellar.yaml now, it is staging's
      writeFileSync(envs.file("production"), await encryptSecrets(V1, { recipients: [deploy.recipient, ci.recipient] }));
      project([deploy.recipient, ci.recipient], [ci.recipient, gone.recipient]);
      const r2 = await createResolver({ environment: "production", root: envs.root, identities: ci.identity, env: {} });
      project([deploy.recipient, ci.recipient], [ci.recipient]);
      writeFileSync(envs.file("production"), await encryptSecrets(V2, { recipients: [ci.recipient] }));
      const refused = await r2.reload();
      expect(refused).toMatchObject({ ok: false, error: { code: "OTHER_ENVIRONMENT_FILE" } });
      expect(r2.get("db_password")).toBe(V1.get("db_password"));

      // 3. a stellar.yaml broken mid-pull fails the reload (as createResolver would), keeping the values
      writeFileSync(join(envs.root, "stellar.yaml"), "version: 1\nsecrets_dir: /etc\n");
      writeFileSync(envs.file("production"), await encryptSecrets(V2, { recipients: [deploy.recipient, ci.recipient] }));
      const broken = await r2.reload();
      expect(broken).toMatchObject({ ok: false, error: { code: "INVALID_CONFIG" } });
      expect(r2.get("db_password")).toBe(V1.get("db_password"));
      assertNoLeak(broken, [...ALL, deploy.identity, ci.identity]);
    } finally {
      envs.cleanup();
    }
  });
});

describe("a service started in the wrong folder", () => {
  it("no secrets folder: IO_ERROR says where root and the folder came from and to pass root (it said 'cannot read /secrets (ENOENT). Check that the file exists')", async () => {
    const { dir, cleanup } = tempDir("resolver-cwd-");
    const before = process.cwd();
    try {
      process.chdir(dir);
      const e = (await caught(() => createResolver({ environment: "production", identities: owner.identity, env: {} }))) as ResolverError;
      expect(e.code).toBe("IO_ERROR");
      expect(e.message).toContain(`there is no secrets folder ${join(dir, "secrets")} (ENOENT) (root ${dir}: the current directory, since no root was given; secrets folder "secrets": the default, with no stellar.yaml in root)`);
      expect(e.hint).toBe("Pass root: the folder that holds stellar.yaml and the secrets folder (or files: { production: <path> }).");
      // a stellar.yaml whose secrets_dir names a folder the deploy did not ship
      writeFileSync(join(dir, "stellar.yaml"), "version: 1\nsecrets_dir: config/secrets\n");
      const named = (await caught(() => createResolver({ environment: "production", root: dir, identities: owner.identity, env: {} }))) as ResolverError;
      expect(named.code).toBe("IO_ERROR");
      expect(named.message).toContain(`there is no secrets folder ${join(dir, "config", "secrets")} (ENOENT) (root ${dir}: the root option; secrets folder "config/secrets": secrets_dir of ${join(dir, "stellar.yaml")})`);
      // the folder is there, the environment's file is not: the same account of root, and the environments there
      mkdirSync(join(dir, "config", "secrets"), { recursive: true });
      writeFileSync(join(dir, "config", "secrets", "staging.enc.yaml"), full);
      const missing = (await caught(() => createResolver({ environment: "production", root: dir, identities: owner.identity, env: {} }))) as ResolverError;
      expect(missing.code).toBe("UNKNOWN_ENVIRONMENT");
      expect(missing.message).toContain("Environments with a file: staging.");
      expect(missing.message).toContain(`(root ${dir}: the root option;`);
      expect(missing.hint).toBe(`Use one of: staging, or add production.enc.yaml to ${join(dir, "config", "secrets")}.`);
    } finally {
      process.chdir(before);
      cleanup();
    }
  });
});

describe("files the service's user may not read", () => {
  it("EACCES names the process's uid and how to fix it (it said 'Check that the file exists'); other codes unchanged", () => {
    // the tests run as root, which reads any file: node's error is made here (checked by hand as nobody)
    const denied = Object.assign(new Error("EACCES: permission denied, open '/srv/app/secrets/production.enc.yaml'"), { code: "EACCES" });
    const e = toResolverError(denied, "production", "/srv/app/secrets/production.enc.yaml");
    expect(e.code).toBe("IO_ERROR");
    const uid = typeof process.getuid === "function" ? ` (uid ${process.getuid()})` : "";
    expect(e.message).toBe(
      `environment production: cannot read /srv/app/secrets/production.enc.yaml (EACCES): this process${uid} may not read it. Make /srv/app/secrets/production.enc.yaml and the folders above it readable by the user the service runs as${uid} (chown, chmod, or a group the service is in).`,
    );
    expect(e.hint).toContain("readable by the user the service runs as");
    expect(e.cause).toBe(denied);
    const other = toResolverError(Object.assign(new Error("EIO"), { code: "EIO" }), "production", "/srv/x.enc.yaml");
    expect(other.message).toBe("environment production: cannot read /srv/x.enc.yaml (EIO). Check that the file exists and is readable by this process.");
  });
});
