/**
 * @stellar-secrets/resolver end to end over real encrypted files (written with the sops package,
 * keys generated per run): identity lookup, values, errors of the brief's troubleshooting list,
 * the access log, header/auth/action resolution, reload and its atomicity.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ResolverError,
  createJsonLinesSink,
  createResolver,
  type AccessEvent,
  type ActionConfig,
  type ApiConnection,
  type AuthConnector,
  type HeaderConfig,
} from "../packages/resolver/src/index.js";
import { oracleEncrypt, oracleSealYaml } from "../packages/sops/test-fixtures/support.js";
import { assertNoLeak, caught, encryptSecrets, keyFileText, makeRepo, tempDir, testKey, type TestKey } from "../packages/resolver/test/support.js";

const PROD = new Map([
  ["stripe_api_key", "sk_live_prod-leakcheck-111"],
  ["hubspot_api_token", "pat-prod-leakcheck-222"],
  ["zendesk_token", "zd-prod-leakcheck-333"],
  ["acme_client_secret", "acme-prod-leakcheck-444"],
  ["twilio_account_sid", "AC-prod-leakcheck-555"],
  ["multiline_cert", "-----BEGIN CERT-----\nleakcheck-666\n-----END CERT-----\n"],
]);
const STAGING = new Map([
  ["stripe_api_key", "sk_test_staging-leakcheck-777"],
  ["hubspot_api_token", "pat-staging-leakcheck-888"],
  ["sendgrid_api_key", "SG-staging-leakcheck-999"],
]);
const DEV = new Map([
  ["stripe_api_key", "sk_test_dev-leakcheck-aaa"],
  ["sendgrid_api_key", "SG-dev-leakcheck-bbb"],
  ["Debug_Flag", "on"],
]);
const ALL_VALUES = [...PROD.values(), ...STAGING.values(), ...DEV.values()].filter((v) => v.length > 3);

let owner: TestKey;
let stranger: TestKey;
let repo: Awaited<ReturnType<typeof makeRepo>>;

beforeAll(async () => {
  owner = await testKey();
  stranger = await testKey();
  repo = await makeRepo({ production: PROD, staging: STAGING, development: DEV }, [owner.recipient]);
});
afterAll(() => repo.cleanup());

const noEnv: NodeJS.ProcessEnv = {};

async function resolverError(fn: () => unknown, code: string): Promise<ResolverError> {
  const error = await caught(fn);
  expect(error).toBeInstanceOf(ResolverError);
  expect((error as ResolverError).code).toBe(code);
  assertNoLeak(error, [...ALL_VALUES, owner.identity, stranger.identity]);
  return error as ResolverError;
}

describe("createResolver and get", () => {
  it("finds secrets/<environment>.enc.yaml under root, verifies it, and serves its values", async () => {
    const r = await createResolver({ environment: "production", root: repo.root, identities: owner.identity, env: noEnv });
    expect(r.file).toBe(repo.file("production"));
    for (const [name, value] of PROD) expect(r.get(name)).toBe(value);
    expect(r.names()).toEqual([...PROD.keys()]);
    expect(r.has("stripe_api_key")).toBe(true);
    expect(r.has("sendgrid_api_key")).toBe(false);
    const status = r.status();
    expect(status).toMatchObject({ environment: "production", generation: 1, secretCount: PROD.size, recipients: [owner.recipient] });
    expect(JSON.stringify(status)).not.toContain("leakcheck");
  });

  it("takes the identity from the argument as key-file text or a list of keys", async () => {
    const fromText = await createResolver({ environment: "staging", root: repo.root, identities: keyFileText(owner), env: noEnv });
    expect(fromText.get("sendgrid_api_key")).toBe(STAGING.get("sendgrid_api_key"));
    const fromList = await createResolver({ environment: "staging", root: repo.root, identities: [stranger.identity, owner.identity], env: noEnv });
    expect(fromList.get("stripe_api_key")).toBe(STAGING.get("stripe_api_key"));
  });

  it("takes explicit files per environment instead of root", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = join(dir, "prod-secrets.yaml");
      writeFileSync(file, readFileSync(repo.file("production"), "utf8"));
      const r = await createResolver({ environment: "prod", files: { prod: file, dev: repo.file("development") }, identities: owner.identity, env: noEnv });
      expect(r.file).toBe(file);
      expect(r.get("zendesk_token")).toBe(PROD.get("zendesk_token"));
      const e = await resolverError(() => r.get("sendgrid_api_key"), "MISSING_ENVIRONMENT_VALUE");
      expect(e.environments).toEqual(["dev"]);
    } finally {
      cleanup();
    }
  });
});

describe("typed values in a flat file", () => {
  it("int, float and bool values come out as sops -d prints them (bool lower-case, not the MAC's True)", async () => {
    // Written by the sops package's independent test oracle (node:crypto + the age CLI), as sops would.
    const dataKey = Buffer.alloc(32, 7);
    const body = [
      `retry_count: ${oracleEncrypt(dataKey, "7", "retry_count:", "int")}`,
      `sample_rate: ${oracleEncrypt(dataKey, "0.25", "sample_rate:", "float")}`,
      `feature_enabled: ${oracleEncrypt(dataKey, "true", "feature_enabled:", "bool")}`,
      `legacy_off: ${oracleEncrypt(dataKey, "false", "legacy_off:", "bool")}`,
      `plain_token: ${oracleEncrypt(dataKey, "tok-leakcheck", "plain_token:", "str")}`,
    ].join("\n");
    const text = oracleSealYaml(body, { dataKey, recipients: [owner.recipient], macValues: ["7", "0.25", "True", "False", "tok-leakcheck"] });
    const { dir, cleanup } = tempDir();
    try {
      const file = join(dir, "typed.enc.yaml");
      writeFileSync(file, text);
      const r = await createResolver({ environment: "typed", files: { typed: file }, identities: owner.identity, env: noEnv });
      expect(Object.fromEntries(r.names().map((n) => [n, r.get(n)]))).toEqual({
        retry_count: "7",
        sample_rate: "0.25",
        feature_enabled: "true",
        legacy_off: "false",
        plain_token: "tok-leakcheck",
      });
    } finally {
      cleanup();
    }
  });
});

describe("identities: argument, else SOPS_AGE_KEY, else SOPS_AGE_KEY_FILE", () => {
  let keys: { dir: string; cleanup: () => void };
  let ownerFile: string;
  let strangerFile: string;
  beforeAll(() => {
    keys = tempDir("resolver-keys-");
    ownerFile = join(keys.dir, "owner.txt");
    strangerFile = join(keys.dir, "stranger.txt");
    writeFileSync(ownerFile, keyFileText(owner), { mode: 0o600 });
    writeFileSync(strangerFile, keyFileText(stranger), { mode: 0o600 });
  });
  afterAll(() => keys.cleanup());

  it("uses SOPS_AGE_KEY", async () => {
    const r = await createResolver({ environment: "development", root: repo.root, env: { SOPS_AGE_KEY: owner.identity } });
    expect(r.get("Debug_Flag")).toBe("on");
  });

  it("uses SOPS_AGE_KEY_FILE", async () => {
    const r = await createResolver({ environment: "development", root: repo.root, env: { SOPS_AGE_KEY_FILE: ownerFile } });
    expect(r.get("Debug_Flag")).toBe("on");
  });

  it("the argument wins over the environment; SOPS_AGE_KEY wins over SOPS_AGE_KEY_FILE (one source, never merged)", async () => {
    const r = await createResolver({ environment: "development", root: repo.root, identities: owner.identity, env: { SOPS_AGE_KEY: stranger.identity } });
    expect(r.get("Debug_Flag")).toBe("on");
    const e = await resolverError(
      () => createResolver({ environment: "development", root: repo.root, env: { SOPS_AGE_KEY: stranger.identity, SOPS_AGE_KEY_FILE: ownerFile } }),
      "NO_MATCHING_IDENTITY",
    );
    expect(e.message).toContain(owner.recipient); // the file's recipients
    expect(e.message).toContain("SOPS_AGE_KEY_FILE (not consulted: SOPS_AGE_KEY is set and takes precedence)");
    expect(e.file).toBe(repo.file("development"));
    expect(e.environment).toBe("development");
  });

  it("the wrong key → NO_MATCHING_IDENTITY naming the recipients and where keys were looked for", async () => {
    const e = await resolverError(() => createResolver({ environment: "production", root: repo.root, env: { SOPS_AGE_KEY_FILE: strangerFile } }), "NO_MATCHING_IDENTITY");
    expect(e.message).toContain(owner.recipient);
    expect(e.message).toContain(`SOPS_AGE_KEY_FILE=${strangerFile}`);
    expect(e.message).toContain(repo.file("production"));
    expect(e.cause).toBeDefined();
  });

  it("no key at all → NO_IDENTITY naming the recipients and every place looked at", async () => {
    const { dir: home, cleanup } = tempDir("resolver-home-");
    try {
      const e = await resolverError(() => createResolver({ environment: "production", root: repo.root, env: {}, home }), "NO_IDENTITY");
      expect(e.message).toContain(owner.recipient);
      expect(e.message).toContain("SOPS_AGE_KEY (not set)");
      expect(e.message).toContain("SOPS_AGE_KEY_FILE (not set)");
      expect(e.message).toContain(join(home, ".config", "sops", "age", "keys.txt"));
      expect(e.hint).toMatch(/SOPS_AGE_KEY_FILE/);
      // a missing key file is reported as such
      const missing = join(home, "nope.txt");
      const e2 = await resolverError(() => createResolver({ environment: "production", root: repo.root, env: { SOPS_AGE_KEY_FILE: missing }, home }), "NO_IDENTITY");
      expect(e2.message).toContain(`SOPS_AGE_KEY_FILE=${missing} (cannot read: ENOENT)`);
      expect(e2.message).not.toContain("SOPS_AGE_KEY_CMD");
      // a key command (sops 3.10+ runs it) is named as set and not run, with what to pass instead
      const marker = join(home, "ran");
      const e3 = await resolverError(() => createResolver({ environment: "production", root: repo.root, env: { SOPS_AGE_KEY_CMD: `touch ${marker}` }, home }), "NO_IDENTITY");
      expect(e3.message).toContain('SOPS_AGE_KEY_CMD (set, not run: the resolver runs no command for a key; pass what it prints as SOPS_AGE_KEY="$(…)")');
      expect(e3.message).not.toContain(marker);
      expect(existsSync(marker)).toBe(false);
    } finally {
      cleanup();
    }
  });

  it("the sops default key file is used only when the caller opts in", async () => {
    const { dir: home, cleanup } = tempDir("resolver-home-");
    try {
      const defaultFile = join(home, ".config", "sops", "age", "keys.txt");
      mkdirSync(join(home, ".config", "sops", "age"), { recursive: true });
      writeFileSync(defaultFile, keyFileText(owner), { mode: 0o600 });
      const e = await resolverError(() => createResolver({ environment: "production", root: repo.root, env: {}, home }), "NO_IDENTITY");
      expect(e.message).toContain(`${defaultFile} (not consulted: pass useSopsKeyFile: true to allow it)`);
      const r = await createResolver({ environment: "production", root: repo.root, env: {}, home, useSopsKeyFile: true });
      expect(r.get("stripe_api_key")).toBe(PROD.get("stripe_api_key"));
      // XDG_CONFIG_HOME moves it, as in sops
      const xdg = join(home, "xdg");
      await resolverError(() => createResolver({ environment: "production", root: repo.root, env: { XDG_CONFIG_HOME: xdg }, home, useSopsKeyFile: true }), "NO_IDENTITY");
    } finally {
      cleanup();
    }
  });

  it("never runs SOPS_AGE_KEY_CMD and never reads SSH keys", async () => {
    const { dir: home, cleanup } = tempDir("resolver-home-");
    try {
      const marker = join(home, "cmd-ran");
      mkdirSync(join(home, ".ssh"));
      // A real-looking ed25519 key location: if the resolver converted SSH keys it would try this.
      writeFileSync(join(home, ".ssh", "id_ed25519"), "-----BEGIN OPENSSH PRIVATE KEY-----\nTEST-ONLY not a real key\n-----END OPENSSH PRIVATE KEY-----\n", { mode: 0o600 });
      const env = { SOPS_AGE_KEY_CMD: `sh -c 'echo ${owner.identity}; touch ${marker}'`, SOPS_AGE_SSH_PRIVATE_KEY_FILE: join(home, ".ssh", "id_ed25519"), HOME: home };
      const e = await caught(() => createResolver({ environment: "production", root: repo.root, env, home, useSopsKeyFile: true }));
      expect((e as ResolverError).code).toBe("NO_IDENTITY");
      expect(existsSync(marker)).toBe(false);
      expect((e as ResolverError).message).not.toContain("SOPS_AGE_KEY_CMD=");
    } finally {
      cleanup();
    }
  });
});

describe("errors follow the troubleshooting list", () => {
  let prod: Awaited<ReturnType<typeof createResolver>>;
  beforeAll(async () => {
    prod = await createResolver({ environment: "production", root: repo.root, identities: owner.identity, env: noEnv });
  });

  it("UNKNOWN_SECRET suggests the nearest name", async () => {
    const e = await resolverError(() => prod.get("stripe_api_kye"), "UNKNOWN_SECRET");
    expect(e.suggestion).toBe("stripe_api_key");
    expect(e.secret).toBe("stripe_api_kye");
    expect(e.message).toContain("Did you mean stripe_api_key?");
  });

  it("UNKNOWN_SECRET says when the name differs only by case (names from every environment)", async () => {
    const e = await resolverError(() => prod.get("Stripe_API_Key"), "UNKNOWN_SECRET");
    expect(e.suggestion).toBe("stripe_api_key");
    expect(e.message).toContain("differs only by case");
    const e2 = await resolverError(() => prod.get("debug_flag"), "UNKNOWN_SECRET");
    expect(e2.suggestion).toBe("Debug_Flag");
    expect(e2.message).toContain("differs only by case");
  });

  it("UNKNOWN_SECRET without a close name says how to fix", async () => {
    const e = await resolverError(() => prod.get("salesforce_refresh_token"), "UNKNOWN_SECRET");
    expect(e.suggestion).toBeUndefined();
    expect(e.hint).toContain("case-sensitive");
  });

  it("names of Object.prototype are unknown secrets, not inherited values", async () => {
    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      await resolverError(() => prod.get(name), "UNKNOWN_SECRET");
    }
  });

  it("MISSING_ENVIRONMENT_VALUE names the environments that have the secret (read without keys)", async () => {
    const e = await resolverError(() => prod.get("sendgrid_api_key"), "MISSING_ENVIRONMENT_VALUE");
    expect([...(e.environments ?? [])].sort()).toEqual(["development", "staging"]);
    expect(e.message).toContain("development, staging");
    expect(e.environment).toBe("production");
    expect(e.hint).toContain("stellar-secrets set sendgrid_api_key --env production");
  });

  it("MISSING_ENVIRONMENT_VALUE with explicit files", async () => {
    const r = await createResolver({
      environment: "staging",
      files: { staging: repo.file("staging"), production: repo.file("production") },
      identities: owner.identity,
      env: noEnv,
    });
    const e = await resolverError(() => r.get("zendesk_token"), "MISSING_ENVIRONMENT_VALUE");
    expect(e.environments).toEqual(["production"]);
    await resolverError(() => r.get("Debug_Flag"), "UNKNOWN_SECRET"); // development is not in files
  });

  it("UNKNOWN_ENVIRONMENT lists the environments that have a file; bad names are INVALID_CONFIG", async () => {
    const e = await resolverError(() => createResolver({ environment: "Production", root: repo.root, identities: owner.identity }), "UNKNOWN_ENVIRONMENT");
    expect(e.environments).toEqual(["development", "production", "staging"]);
    await resolverError(() => createResolver({ environment: "../secrets/production", root: repo.root, identities: owner.identity }), "INVALID_CONFIG");
    await resolverError(() => createResolver({ environment: "qa", files: { prod: "x" }, identities: owner.identity }), "UNKNOWN_ENVIRONMENT");
    await resolverError(() => createResolver({ environment: "prod", root: join(repo.root, "missing"), identities: owner.identity }), "IO_ERROR");
  });

  it("INVALID_HEADER_VALUE when a value with a line break would go into a header", async () => {
    expect(prod.get("multiline_cert")).toBe(PROD.get("multiline_cert")); // get hands it out as is
    const e = await resolverError(() => prod.resolveHeaders([{ name: "X-Cert", type: "secret", secret: "multiline_cert" }]), "INVALID_HEADER_VALUE");
    expect(e.secret).toBe("multiline_cert");
  });
});

describe("headers, auth connectors and actions over a real file", () => {
  const connector: AuthConnector = { kind: "auth_connector", name: "hubspot_auth", type: "bearer_token", token: { secret: "hubspot_api_token" } };
  const connection: ApiConnection = {
    kind: "api_connection",
    name: "hubspot",
    base_url: "https://api.hubapi.com",
    auth: "hubspot_auth",
    headers: [{ name: "Accept", type: "static", value: "application/json" }],
  };
  const action: ActionConfig = {
    kind: "action",
    name: "create_ticket",
    connection: "hubspot",
    environments: ["staging", "production"],
    headers: [{ name: "X-Api-Key", type: "secret", secret: "zendesk_token" }],
  };

  it("resolves each connector type", async () => {
    const r = await createResolver({ environment: "production", root: repo.root, identities: owner.identity, env: noEnv });
    expect({ ...r.resolveAuth({ type: "api_key", name: "stripe", api_key: { secret: "stripe_api_key" } }).headers }).toEqual({ "X-Api-Key": PROD.get("stripe_api_key") });
    expect({ ...r.resolveAuth(connector).headers }).toEqual({ Authorization: `Bearer ${PROD.get("hubspot_api_token")}` });
    const basic = r.resolveAuth({ type: "basic", name: "twilio", username: { secret: "twilio_account_sid" }, password: { secret: "stripe_api_key" } });
    expect(Buffer.from(basic.headers["Authorization"]!.replace(/^Basic /, ""), "base64").toString()).toBe(`${PROD.get("twilio_account_sid")}:${PROD.get("stripe_api_key")}`);
    const oauth = r.resolveAuth({ type: "oauth2_client_credentials", name: "acme", client_id: "acme-public-id", client_secret: { secret: "acme_client_secret" }, token_url: "https://auth.acme.test/token" });
    if (oauth.type !== "oauth2_client_credentials") throw new Error("expected oauth2");
    expect(oauth.oauth2).toMatchObject({ clientId: "acme-public-id", clientSecret: PROD.get("acme_client_secret"), tokenUrl: "https://auth.acme.test/token" });
  });

  it("gives the full header set of an action, and refuses it outside its environments", async () => {
    const r = await createResolver({ environment: "production", root: repo.root, identities: owner.identity, env: noEnv });
    expect({ ...r.resolveAction(action, connection, connector).headers }).toEqual({
      Accept: "application/json",
      Authorization: `Bearer ${PROD.get("hubspot_api_token")}`,
      "X-Api-Key": PROD.get("zendesk_token"),
    });
    const dev = await createResolver({ environment: "development", root: repo.root, identities: owner.identity, env: noEnv });
    await resolverError(() => dev.resolveAction(action, connection, connector), "ENVIRONMENT_NOT_ALLOWED");
    const staging = await createResolver({ environment: "staging", root: repo.root, identities: owner.identity, env: noEnv });
    const e = await resolverError(() => staging.resolveAction(action, connection, connector), "MISSING_ENVIRONMENT_VALUE");
    expect(e.secret).toBe("zendesk_token");
  });
});

describe("the access log", () => {
  it("emits one event per value asked for, with consumer and outcome, never the value", async () => {
    const events: AccessEvent[] = [];
    const r = await createResolver({ environment: "production", root: repo.root, identities: owner.identity, env: noEnv, audit: (e) => events.push(e) });
    r.get("stripe_api_key", "worker:billing");
    r.get("zendesk_token");
    await caught(() => r.get("stripe_api_kye", "worker:billing"));
    await caught(() => r.get("sendgrid_api_key"));
    r.resolveHeaders([{ name: "Accept", type: "static", value: "x" }, { name: "X-Key", type: "secret", secret: "stripe_api_key" }], "action:charge");
    r.resolveAction(
      { name: "create_ticket", connection: "hubspot", headers: [{ name: "X-Api-Key", type: "secret", secret: "zendesk_token" }] },
      { name: "hubspot", auth: "hubspot_auth", headers: [{ name: "X-Sid", type: "secret", secret: "twilio_account_sid" }] },
      { name: "hubspot_auth", type: "bearer_token", token: { secret: "hubspot_api_token" } },
    );
    await caught(() => r.resolveHeaders([{ name: "X-Cert", type: "secret", secret: "multiline_cert" }], "action:upload"));
    expect(events.map(({ secret, consumer, outcome, environment }) => [environment, secret, consumer, outcome])).toEqual([
      ["production", "stripe_api_key", "worker:billing", "ok"],
      ["production", "zendesk_token", "get", "ok"],
      ["production", "stripe_api_kye", "worker:billing", "UNKNOWN_SECRET"],
      ["production", "sendgrid_api_key", "get", "MISSING_ENVIRONMENT_VALUE"],
      ["production", "stripe_api_key", "action:charge", "ok"],
      ["production", "twilio_account_sid", "connection:hubspot", "ok"],
      ["production", "hubspot_api_token", "connector:hubspot_auth", "ok"],
      ["production", "zendesk_token", "action:create_ticket", "ok"],
      ["production", "multiline_cert", "action:upload", "INVALID_HEADER_VALUE"],
    ]);
    for (const e of events) {
      expect(Object.keys(e).sort()).toEqual(["consumer", "environment", "outcome", "secret", "time"]);
      expect(new Date(e.time).toISOString()).toBe(e.time);
    }
    expect(JSON.stringify(events)).not.toContain("leakcheck");
  });

  it("a sink that throws does not stop the value; the error goes to onSinkError", async () => {
    const sinkErrors: unknown[] = [];
    const seen: string[] = [];
    const r = await createResolver({
      environment: "production",
      root: repo.root,
      identities: owner.identity,
      env: noEnv,
      audit: [() => { throw new Error("log backend down"); }, (e) => seen.push(e.secret)],
      onSinkError: (error) => sinkErrors.push(error),
    });
    expect(r.get("stripe_api_key")).toBe(PROD.get("stripe_api_key"));
    expect(seen).toEqual(["stripe_api_key"]);
    expect(sinkErrors).toHaveLength(1);
  });

  it("the JSON-lines file sink appends one event per line, mode 0600, no values", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, "access.jsonl");
      const sink = createJsonLinesSink(path);
      const r = await createResolver({ environment: "production", root: repo.root, identities: owner.identity, env: noEnv, audit: sink });
      r.get("stripe_api_key", "job:1");
      r.resolveHeaders([{ name: "Authorization", type: "secret", secret: "hubspot_api_token", prefix: "Bearer " }], "connection:hubspot");
      await caught(() => r.get("nope"));
      sink.close();
      const text = readFileSync(path, "utf8");
      expect(text).not.toContain("leakcheck");
      const lines = text.trimEnd().split("\n").map((l) => JSON.parse(l) as AccessEvent);
      expect(lines.map((l) => `${l.secret} ${l.consumer} ${l.outcome}`)).toEqual([
        "stripe_api_key job:1 ok",
        "hubspot_api_token connection:hubspot ok",
        "nope get UNKNOWN_SECRET",
      ]);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      // append, not truncate
      const again = createJsonLinesSink(path, { flush: "event" });
      again({ time: new Date().toISOString(), environment: "production", secret: "x", consumer: "c", outcome: "ok" });
      expect(readFileSync(path, "utf8").trimEnd().split("\n")).toHaveLength(4);
      again.close();
    } finally {
      cleanup();
    }
  });

  it("the JSON-lines sink fails at creation for a bad path, and reports write errors instead of throwing", async () => {
    const { dir, cleanup } = tempDir();
    try {
      // a project error naming the path, the system's code and the fix (node's own error is its cause)
      const opening = (path: string): ResolverError => {
        try {
          createJsonLinesSink(path);
        } catch (e) {
          return e as ResolverError;
        }
        throw new Error(`createJsonLinesSink(${path}) did not throw`);
      };
      const missing = opening(join(dir, "missing", "access.jsonl"));
      expect(missing).toBeInstanceOf(ResolverError);
      expect([missing.code, missing.file, (missing.cause as NodeJS.ErrnoException).code]).toEqual(["IO_ERROR", join(dir, "missing", "access.jsonl"), "ENOENT"]);
      expect(missing.message).toBe(`cannot open the access log ${join(dir, "missing", "access.jsonl")} (ENOENT): its folder ${join(dir, "missing")} does not exist`);
      expect(missing.hint).toBe(`create the folder (mkdir -p ${join(dir, "missing")}), or pass a path in a folder that exists`);
      const folder = opening(dir);
      expect([folder.code, (folder.cause as NodeJS.ErrnoException).code]).toEqual(["IO_ERROR", "EISDIR"]);
      expect(folder.message).toContain(`(EISDIR): ${dir} is a folder`);
      writeFileSync(join(dir, "plain"), "");
      const underFile = opening(join(dir, "plain", "access.jsonl"));
      expect([underFile.code, (underFile.cause as NodeJS.ErrnoException).code]).toEqual(["IO_ERROR", "ENOTDIR"]);
      const errors: Error[] = [];
      const sink = createJsonLinesSink(join(dir, "a.jsonl"), { onError: (e) => errors.push(e) });
      sink.close();
      sink({ time: "t", environment: "e", secret: "s", consumer: "c", outcome: "ok" });
      expect(errors.map((e) => e.message)).toEqual([`access log ${join(dir, "a.jsonl")} is closed; event for s dropped`]);
    } finally {
      cleanup();
    }
  });
});

describe("reload", () => {
  async function freshRepo(values: ReadonlyMap<string, string>) {
    return makeRepo({ production: values }, [owner.recipient]);
  }

  it("picks up a rotated value and reports added, removed and changed names", async () => {
    const local = await freshRepo(new Map([["a_key", "a1"], ["b_key", "b1"], ["c_key", "c1"]]));
    try {
      const r = await createResolver({ environment: "production", root: local.root, identities: owner.identity, env: noEnv });
      expect(await r.reload()).toEqual({ ok: true, generation: 1, unchanged: true, added: [], removed: [], changed: [] });
      writeFileSync(local.file("production"), await encryptSecrets(new Map([["a_key", "a1"], ["b_key", "b2"], ["d_key", "d1"]]), { recipients: [owner.recipient] }));
      expect(await r.reload()).toEqual({ ok: true, generation: 2, unchanged: false, added: ["d_key"], removed: ["c_key"], changed: ["b_key"] });
      expect(r.get("b_key")).toBe("b2");
      expect(r.get("d_key")).toBe("d1");
      await resolverError(() => r.get("c_key"), "UNKNOWN_SECRET");
    } finally {
      local.cleanup();
    }
  });

  it("a failed reload (tampered, unreadable, wrong key, malformed) keeps the last good values and reports the error", async () => {
    const values = new Map([["a_key", "a1-leakcheck"], ["b_key", "b1-leakcheck"]]);
    const local = await freshRepo(values);
    try {
      const file = local.file("production");
      const good = readFileSync(file, "utf8");
      const r = await createResolver({ environment: "production", root: local.root, identities: owner.identity, env: noEnv });
      const cases: [string, () => void][] = [
        ["TAMPERED", () => writeFileSync(file, good.replace(/(a_key: ENC\[AES256_GCM,data:)(.)/, (_m, p: string, c: string) => p + (c === "A" ? "B" : "A")))],
        ["MAC_MISMATCH", () => writeFileSync(file, good.replace(/^b_key: .*\n/m, ""))],
        ["MALFORMED_FILE", () => writeFileSync(file, good.replace(/^a_key: /m, 'a_key: "'))],
        ["NO_MATCHING_IDENTITY", async () => writeFileSync(file, await encryptSecrets(values, { recipients: [stranger.recipient] }))],
        ["IO_ERROR", () => rmSync(file)],
        ["IO_ERROR", () => { writeFileSync(file, good); chmodSync(file, 0o000); }],
      ];
      for (const [code, breakIt] of cases) {
        await breakIt();
        if (code === "IO_ERROR" && process.getuid?.() === 0 && existsSync(file)) continue; // root reads mode-000 files
        const result = await r.reload();
        expect(result.ok, code).toBe(false);
        if (result.ok) continue;
        expect(result.error).toBeInstanceOf(ResolverError);
        expect(result.error.code).toBe(code);
        expect(result.generation).toBe(1);
        assertNoLeak(result.error, [...values.values(), owner.identity]);
        expect(r.status().lastReloadError?.code).toBe(code);
        expect(r.get("a_key")).toBe("a1-leakcheck");
        expect(r.get("b_key")).toBe("b1-leakcheck");
      }
      writeFileSync(file, await encryptSecrets(new Map([["a_key", "a2"], ["b_key", "b1-leakcheck"]]), { recipients: [owner.recipient] }));
      chmodSync(file, 0o644);
      const ok = await r.reload();
      expect(ok).toMatchObject({ ok: true, generation: 2, changed: ["a_key"] });
      expect(r.status().lastReloadError).toBeUndefined();
      expect(r.get("a_key")).toBe("a2");
    } finally {
      local.cleanup();
    }
  });

  it("re-reads SOPS_AGE_KEY_FILE on reload, so a re-keyed file and a new key can be rolled out together", async () => {
    const values = new Map([["a_key", "a1"]]);
    const local = await freshRepo(values);
    const keys = tempDir("resolver-keys-");
    try {
      const keyFile = join(keys.dir, "keys.txt");
      writeFileSync(keyFile, keyFileText(owner), { mode: 0o600 });
      const env = { SOPS_AGE_KEY_FILE: keyFile };
      const r = await createResolver({ environment: "production", root: local.root, env });
      writeFileSync(local.file("production"), await encryptSecrets(new Map([["a_key", "a2"]]), { recipients: [stranger.recipient] }));
      expect((await r.reload()).ok).toBe(false);
      writeFileSync(keyFile, keyFileText(stranger), { mode: 0o600 });
      expect(await r.reload()).toMatchObject({ ok: true, changed: ["a_key"] });
      expect(r.get("a_key")).toBe("a2");
    } finally {
      keys.cleanup();
      local.cleanup();
    }
  });

  it("a relative files path and a relative SOPS_AGE_KEY_FILE are read from the directory of createResolver: a reload after process.chdir reads the same files", async () => {
    const local = await freshRepo(new Map([["a_key", "a1"]]));
    const elsewhere = tempDir("resolver-elsewhere-");
    const before = process.cwd();
    try {
      mkdirSync(join(local.root, "keys"));
      writeFileSync(join(local.root, "keys", "age.txt"), keyFileText(owner), { mode: 0o600 });
      process.chdir(local.root);
      const env = { SOPS_AGE_KEY_FILE: "keys/age.txt" };
      const byFiles = await createResolver({ environment: "production", files: { production: "secrets/production.enc.yaml" }, env });
      const byRoot = await createResolver({ environment: "production", root: ".", env });
      expect(byFiles.file).toBe(local.file("production"));
      // the app moves on (a job runner, a library that changes folder); the deploy then rolls out a new file
      process.chdir(elsewhere.dir);
      writeFileSync(local.file("production"), await encryptSecrets(new Map([["a_key", "a2"]]), { recipients: [owner.recipient] }));
      for (const r of [byFiles, byRoot]) {
        expect(await r.reload()).toMatchObject({ ok: true, changed: ["a_key"] });
        expect(r.get("a_key")).toBe("a2");
      }
      await resolverError(() => createResolver({ environment: "production", files: { production: "" }, env }), "INVALID_CONFIG");
    } finally {
      process.chdir(before);
      elsewhere.cleanup();
      local.cleanup();
    }
  });

  it.skipIf(process.platform === "win32")("a key file that is a pipe (SOPS_AGE_KEY_FILE=<(vault read …), a FIFO) is read once: reload() decrypts a changed file with its keys, where reading it again found it empty (NO_IDENTITY at every reload)", async () => {
    const local = await freshRepo(new Map([["a_key", "a1"]]));
    const keys = tempDir("resolver-fifo-");
    const writers: ChildProcess[] = [];
    try {
      const fifo = join(keys.dir, "age-key");
      execFileSync("mkfifo", [fifo]);
      writeFileSync(join(keys.dir, "key.txt"), keyFileText(owner), { mode: 0o600 });
      // the key is written once, as by `<(vault read …)`, then the writer is gone
      writers.push(spawn("sh", ["-c", "cat key.txt > age-key"], { cwd: keys.dir, stdio: "ignore" }));
      const r = await createResolver({ environment: "production", root: local.root, env: { SOPS_AGE_KEY_FILE: fifo } });
      expect(r.get("a_key")).toBe("a1");
      // whoever opens it later gets nothing (a process substitution's pipe is at its end)
      writers.push(spawn("sh", ["-c", ": > age-key"], { cwd: keys.dir, stdio: "ignore" }));
      writeFileSync(local.file("production"), await encryptSecrets(new Map([["a_key", "a2"]]), { recipients: [owner.recipient] }));
      expect(await r.reload()).toMatchObject({ ok: true, changed: ["a_key"] });
      expect(r.get("a_key")).toBe("a2");
    } finally {
      for (const w of writers) w.kill();
      keys.cleanup();
      local.cleanup();
    }
  });

  it("a reload refuses an environment file that has become a symbolic link out of the repository (OUTSIDE_REPOSITORY, as createResolver refuses it) and keeps the old values; with allowOutsideLinks it follows it", async () => {
    const local = await freshRepo(new Map([["a_key", "a1"]]));
    const outside = tempDir("resolver-outside-");
    try {
      const r = await createResolver({ environment: "production", root: local.root, identities: owner.identity, env: noEnv });
      const allowed = await createResolver({ environment: "production", root: local.root, identities: owner.identity, env: noEnv, allowOutsideLinks: true });
      // a file of the same name elsewhere on the machine, valid for the key (an old copy, another checkout)
      writeFileSync(join(outside.dir, "production.enc.yaml"), await encryptSecrets(new Map([["a_key", "a2"]]), { recipients: [owner.recipient] }));
      rmSync(local.file("production"));
      symlinkSync(join(outside.dir, "production.enc.yaml"), local.file("production"));
      const result = await r.reload();
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.code).toBe("OUTSIDE_REPOSITORY");
      expect(r.get("a_key")).toBe("a1");
      await resolverError(() => createResolver({ environment: "production", root: local.root, identities: owner.identity, env: noEnv }), "OUTSIDE_REPOSITORY");
      expect(await allowed.reload()).toMatchObject({ ok: true, changed: ["a_key"] });
      expect(allowed.get("a_key")).toBe("a2");
    } finally {
      outside.cleanup();
      local.cleanup();
    }
  });

  it("concurrent get and resolveHeaders during reloads never see a mix of old and new values", async () => {
    const N = 200;
    const version = (v: string) => new Map(Array.from({ length: N }, (_, i) => [`secret_${String(i).padStart(3, "0")}`, `${v}-value-${i}`] as [string, string]));
    const texts = [await encryptSecrets(version("v1"), { recipients: [owner.recipient] }), await encryptSecrets(version("v2"), { recipients: [owner.recipient] })];
    const local = await freshRepo(version("v1"));
    try {
      const file = local.file("production");
      writeFileSync(file, texts[0]!);
      const r = await createResolver({ environment: "production", root: local.root, identities: owner.identity, env: noEnv });
      const headers: HeaderConfig[] = Array.from({ length: N }, (_, i) => ({ name: `X-S-${i}`, type: "secret", secret: `secret_${String(i).padStart(3, "0")}` }));
      const seen = { v1: 0, v2: 0 };
      let stop = false;
      const check = (vals: string[]) => {
        const prefixes = new Set(vals.map((v) => v.slice(0, 2)));
        expect(prefixes.size, `mixed values: ${[...prefixes].join(",")}`).toBe(1);
        seen[[...prefixes][0] as "v1" | "v2"]++;
      };
      const reader = (async () => {
        while (!stop) {
          check(Object.values(r.resolveHeaders(headers, "test")));
          check(r.names().map((n) => r.get(n)));
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      const results: boolean[] = [];
      for (let i = 1; i <= 30; i++) {
        writeFileSync(file, texts[i % 2]!);
        const pending = r.reload();
        // while this reload decrypts, readers keep reading the previous snapshot, whole
        check(r.names().map((n) => r.get(n)));
        results.push((await pending).ok);
      }
      stop = true;
      await reader;
      expect(results.every(Boolean)).toBe(true);
      expect(seen.v1).toBeGreaterThan(0);
      expect(seen.v2).toBeGreaterThan(0);
      expect(r.status().generation).toBe(31);
    } finally {
      local.cleanup();
    }
  });

  it("overlapping reload calls are serialized and the last file wins", async () => {
    const local = await freshRepo(new Map([["a_key", "a1"]]));
    try {
      const r = await createResolver({ environment: "production", root: local.root, identities: owner.identity, env: noEnv });
      const p1 = r.reload();
      writeFileSync(local.file("production"), await encryptSecrets(new Map([["a_key", "a2"]]), { recipients: [owner.recipient] }));
      const p2 = r.reload();
      const [r1, r2] = await Promise.all([p1, p2]);
      expect(r1.ok && r2.ok).toBe(true);
      expect(r.get("a_key")).toBe("a2");
    } finally {
      local.cleanup();
    }
  });

  it("close() drops the values; later calls throw CLOSED", async () => {
    const r = await createResolver({ environment: "production", root: repo.root, identities: owner.identity, env: noEnv });
    r.close();
    await resolverError(() => r.get("stripe_api_key"), "CLOSED");
    await resolverError(() => r.resolveHeaders([]), "CLOSED");
    expect(await r.reload()).toMatchObject({ ok: false });
  });
});
