/**
 * `stellar-secrets probe` end to end: the built CLI as a child process against HTTPS and HTTP
 * servers on 127.0.0.1 started here (a self-signed certificate made at test time with openssl,
 * trusted only through --ca / STELLAR_SECRETS_PROBE_CA): valid, revoked (401), wrong type (403),
 * slow (timeout), same-origin redirect (followed), redirect to another origin (not followed: the
 * other server sees no credential), OAuth2 token endpoint accepting and refusing, no probe, a
 * missing value. Canary values must be absent from every output and from the audit log.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createSandbox, type Sandbox } from "./helpers/cli.js";
import { editSecretsFile } from "../packages/sops/src/index.js";

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const HAS_OPENSSL = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

// TEST-ONLY canary values: none of them (nor their encodings) may appear in any output.
const CANARY = "CANARY7q";
const VALUES = {
  good_api_token: `${CANARY}-good-4f1d9a2c7e`,
  revoked_api_token: `${CANARY}-revoked-8b3e6f0a1d`,
  typed_api_key: `${CANARY}-typed-2c5a7e9b4f`,
  oauth_client_secret: `${CANARY}-oauth-good-6d8f1b3a5c`,
  bad_oauth_client_secret: `${CANARY}-oauth-bad-9e2b4d6f8a`,
  untested_api_token: `${CANARY}-untested-1a3c5e7f9b`,
};
const ACCESS_TOKEN = `${CANARY}-access-5b7d9f1a3c`;
const CLIENT_ID = "probe-client";

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

/** Every form a value could leak in: itself, and the Basic header of the client credentials. */
function leaks(text: string): string[] {
  const forms = [CANARY, ...Object.values(VALUES), ACCESS_TOKEN, basic(CLIENT_ID, VALUES.oauth_client_secret).slice(6), basic(CLIENT_ID, VALUES.bad_oauth_client_secret).slice(6)];
  return forms.filter((f) => text.includes(f));
}

const skip = !HAS_OPENSSL;
const reason = "openssl is not installed: the HTTPS server's self-signed certificate is made with it";

describe.skipIf(skip)(`probe against local servers${skip ? ` (skipped: ${reason})` : ""}`, () => {
  let certDir: string;
  let caFile: string;
  let api: Server;
  let other: Server;
  let apiUrl: string;
  let otherUrl: string;
  const otherRequests: { path: string; authorization: string | undefined; apiKey: string | undefined }[] = [];
  let s: Sandbox;

  function api200(res: ServerResponse, status: number, body?: unknown): void {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(body === undefined ? "{}" : JSON.stringify(body));
  }

  let inFlight = 0;
  let maxInFlight = 0;
  function track(res: ServerResponse): void {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on("close", () => inFlight--);
  }

  function handleApi(req: IncomingMessage, res: ServerResponse): void {
    track(res);
    const auth = req.headers.authorization;
    const path = req.url ?? "/";
    if (path === "/v1/account") return api200(res, auth === `Bearer ${VALUES.good_api_token}` ? 200 : 401);
    if (path === "/v1/typed") return api200(res, req.headers["x-api-key"] === VALUES.typed_api_key ? 403 : 401);
    if (path === "/slow") {
      setTimeout(() => api200(res, 200), 5_000).unref();
      return;
    }
    if (path === "/hop") {
      res.writeHead(302, { location: "/v1/account" });
      res.end();
      return;
    }
    if (path === "/away") {
      res.writeHead(302, { location: `${otherUrl}/landing` });
      res.end();
      return;
    }
    if (path === "/token" && req.method === "POST") {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("utf8")));
      req.on("end", () => {
        const ok = auth === basic(CLIENT_ID, VALUES.oauth_client_secret) && body.includes("grant_type=client_credentials");
        if (ok) api200(res, 200, { access_token: ACCESS_TOKEN, token_type: "bearer", expires_in: 3600 });
        else api200(res, 401, { error: "invalid_client", error_description: `bad client ${String(auth)}` });
      });
      return;
    }
    if (path === "/me") return api200(res, auth === `Bearer ${ACCESS_TOKEN}` ? 200 : 401);
    api200(res, 404);
  }

  async function listen(server: Server): Promise<number> {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  }

  beforeAll(async () => {
    certDir = mkdtempSync(join(tmpdir(), "probe-cert-"));
    caFile = join(certDir, "cert.pem");
    // TEST-ONLY key and self-signed certificate for 127.0.0.1, made now, removed after the tests
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", join(certDir, "key.pem"), "-out", caFile, "-days", "1", "-subj", "/CN=127.0.0.1",
      "-addext", "subjectAltName=IP:127.0.0.1",
    ], { stdio: "ignore" });
    api = createHttpsServer({ key: readFileSync(join(certDir, "key.pem")), cert: readFileSync(caFile) }, handleApi);
    other = createHttpServer((req, res) => {
      track(res);
      otherRequests.push({ path: req.url ?? "", authorization: req.headers.authorization, apiKey: req.headers["x-api-key"] as string | undefined });
      res.writeHead(200);
      res.end("ok");
    });
    apiUrl = `https://127.0.0.1:${await listen(api)}`;
    otherUrl = `http://127.0.0.1:${await listen(other)}`;

    s = createSandbox();
    const alice = s.keygen("alice");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "development,production"])).code).toBe(0);
    const set = await s.run(["set", "good_api_token", "--env", "production", "--from-stdin"], { input: VALUES.good_api_token });
    expect(set.code, set.stderr).toBe(0);
    const ids = { identities: [alice.identity], sources: ["test"] };
    (await editSecretsFile(join(s.repo, "secrets/production.enc.yaml"), ids, (values) => {
      for (const [name, value] of Object.entries(VALUES)) values.set(name, value);
    })).dataKey.fill(0);
    const dev = await s.run(["set", "dev_only_token", "--env", "development", "--from-stdin"], { input: `${CANARY}-dev-only-3e5a` });
    expect(dev.code, dev.stderr).toBe(0);

    const header = (secret: string): string => `headers:\n  - { name: Authorization, type: secret, secret: ${secret}, prefix: "Bearer " }\n`;
    const connection = (name: string, body: string, base = apiUrl): string => `kind: api_connection\nname: ${name}\nbase_url: ${base}\n${body}`;
    s.write(
      "connections/probes.yaml",
      [
        connection("valid", `${header("good_api_token")}probe: { path: /v1/account }\n`),
        connection("revoked", `${header("revoked_api_token")}probe: { method: GET, path: /v1/account }\n`),
        connection("wrong_type", "auth: typed\nprobe: { path: /v1/typed }\n"),
        connection("slow", `${header("good_api_token")}probe: { path: /slow, timeout: 300ms }\n`),
        connection("hop", `${header("good_api_token")}probe: { path: /hop }\n`),
        connection("away", `${header("good_api_token")}probe: { path: /away }\n`),
        connection("oauth_ok", "auth: oauth_good\nprobe: { path: /me }\n"),
        connection("oauth_bad", "auth: oauth_bad\n"),
        connection("untested", header("untested_api_token")),
        connection("missing", `${header("dev_only_token")}probe: { path: /v1/account }\n`),
        connection("plain_loopback", `${header("good_api_token")}probe: { method: HEAD, path: /health, valid_statuses: [200] }\n`, otherUrl),
      ].join("---\n"),
    );
    s.write(
      "connectors/probes.yaml",
      [
        "kind: auth_connector\nname: typed\ntype: api_key\napi_key: { secret: typed_api_key }\n",
        `kind: auth_connector\nname: oauth_good\ntype: oauth2_client_credentials\nclient_id: ${CLIENT_ID}\nclient_secret: { secret: oauth_client_secret }\ntoken_url: ${apiUrl}/token\nprobe: { timeout: 5s }\n`,
        `kind: auth_connector\nname: oauth_bad\ntype: oauth2_client_credentials\nclient_id: ${CLIENT_ID}\nclient_secret: { secret: bad_oauth_client_secret }\ntoken_url: ${apiUrl}/token\n`,
      ].join("---\n"),
    );
    // the probes and connectors are valid for the checker (development has no values: that is not the point here)
    const check = await s.run(["check", "--json"]);
    const errors = (JSON.parse(check.stdout) as { diagnostics: { rule: string; severity: string; file: string }[] }).diagnostics.filter(
      (d) => (d.rule === "schema" || d.rule === "plaintext-credential") && d.file.startsWith("conn"),
    );
    expect(errors).toEqual([]);
  });

  afterAll(() => {
    api?.closeAllConnections();
    api?.close();
    other?.closeAllConnections();
    other?.close();
    s?.cleanup();
    if (certDir !== undefined) rmSync(certDir, { recursive: true, force: true });
  });

  interface Result {
    connection: string;
    probe: string;
    status: string;
    httpStatus?: number;
    reason?: string;
    code?: string;
    secrets: string[];
  }

  it("reports each connection and secret, sends credentials only to their origin, exits 1 for rejected, never shows a value", async () => {
    const audit = join(s.dir, "audit.jsonl");
    maxInFlight = 0;
    const r = await s.run(["probe", "--env", "production", "--json", "--ca", caFile, "--audit-log", audit, "--concurrency", "3"]);
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as { environment: string; results: Result[]; secrets: { name: string; status: string }[]; summary: Record<string, number> };
    const brief = report.results.map((x) => [x.connection, x.probe, x.status, x.httpStatus ?? null, x.code ?? null]);
    expect(brief).toEqual([
      ["away", "request", "unexpected", 302, null],
      ["hop", "request", "valid", 200, null],
      ["missing", "request", "unresolved", null, "MISSING_ENVIRONMENT_VALUE"],
      ["oauth_bad", "token", "rejected", 401, "invalid_client"],
      ["oauth_ok", "token", "valid", 200, null],
      ["oauth_ok", "request", "valid", 200, null],
      ["plain_loopback", "request", "valid", 200, null],
      ["revoked", "request", "rejected", 401, null],
      ["slow", "request", "unreachable", null, null],
      ["untested", "none", "no-probe", null, null],
      ["valid", "request", "valid", 200, null],
      ["wrong_type", "request", "rejected", 403, null],
    ]);
    const by = (c: string, p = "request"): Result => report.results.find((x) => x.connection === c && x.probe === p) as Result;
    expect(by("away").reason).toContain(`redirect to another origin (${otherUrl}) not followed`);
    expect(by("slow").reason).toBe("timeout: no answer within 300 ms");
    expect(by("oauth_ok", "token").secrets).toEqual(["oauth_client_secret"]);
    expect(by("wrong_type").secrets).toEqual(["typed_api_key"]);
    expect(by("untested", "none").secrets).toEqual(["untested_api_token"]);
    expect(report.secrets.find((x) => x.name === "good_api_token")?.status).toBe("unexpected");
    expect(report.secrets.find((x) => x.name === "revoked_api_token")?.status).toBe("rejected");
    expect(report.summary).toMatchObject({ valid: 5, rejected: 3, unresolved: 1, unexpected: 1, unreachable: 1, "no-probe": 1 });
    // bounded concurrency: never more requests in flight than --concurrency
    expect(maxInFlight).toBeGreaterThan(0);
    expect(maxInFlight).toBeLessThanOrEqual(3);
    // the other origin got only the plain-http loopback probe (its own origin), never a credential from a redirect
    expect(otherRequests.filter((x) => x.path !== "/health")).toEqual([]);
    expect(otherRequests.every((x) => x.path === "/health")).toBe(true);
    // audit: one access event per secret handed out, consumer probe:…, never a value
    const events = readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { secret: string; consumer: string; outcome: string; environment: string });
    expect(events).toContainEqual(expect.objectContaining({ secret: "revoked_api_token", consumer: "probe:connection:revoked", outcome: "ok", environment: "production" }));
    expect(events).toContainEqual(expect.objectContaining({ secret: "oauth_client_secret", consumer: "probe:connector:oauth_good", outcome: "ok" }));
    expect(events).toContainEqual(expect.objectContaining({ secret: "dev_only_token", consumer: "probe:connection:missing", outcome: "MISSING_ENVIRONMENT_VALUE" }));
    expect(leaks(r.stdout + r.stderr + readFileSync(audit, "utf8"))).toEqual([]);
  });

  it("trusts the self-signed certificate only when told (STELLAR_SECRETS_PROBE_CA), and probes only the named connections", async () => {
    const untrusted = await s.run(["probe", "valid", "--env", "production", "--json"]);
    expect(untrusted.code, untrusted.stderr).toBe(0);
    const [result] = (JSON.parse(untrusted.stdout) as { results: Result[] }).results;
    expect(result).toMatchObject({ connection: "valid", status: "unreachable" });
    expect(result?.reason).toMatch(/^TLS: (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)/);

    const trusted = await s.run(["probe", "valid", "hop", "--env", "production"], { env: { STELLAR_SECRETS_PROBE_CA: caFile } });
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(trusted.stdout.split("\n")[0]).toBe("probe production: 2 valid");
    expect(trusted.stdout.split("\n").slice(1, 3)).toEqual([
      `  valid  valid (200)       GET ${apiUrl}/v1/account  secrets: good_api_token`,
      `  hop    valid (200)       GET ${apiUrl}/hop  secrets: good_api_token`,
    ]);
    expect(leaks(untrusted.stdout + untrusted.stderr + trusted.stdout + trusted.stderr)).toEqual([]);
  });

  it("explains in text why nothing certain was learnt: a missing value, a timeout, a redirect elsewhere", async () => {
    const r = await s.run(["probe", "missing", "slow", "away", "oauth_ok", "--env", "production", "--ca", caFile]);
    expect(r.code).toBe(1);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("probe production: 1 unresolved, 1 unexpected, 1 unreachable, 2 valid");
    expect(lines[1]).toBe(`  missing   unresolved (MISSING_ENVIRONMENT_VALUE)  GET ${apiUrl}/v1/account  secrets: dev_only_token`);
    expect(lines[2]).toMatch(/^ {12}secret dev_only_token has no value in environment production .*it has values in development\./);
    expect(lines.slice(3, 9)).toEqual([
      `  slow      unreachable       GET ${apiUrl}/slow  secrets: good_api_token`,
      "            timeout: no answer within 300 ms",
      `  away      unexpected (302)  GET ${apiUrl}/away  secrets: good_api_token`,
      `            redirect to another origin (${otherUrl}) not followed: credentials are only sent to ${apiUrl}`,
      `  oauth_ok  valid (200)       token POST ${apiUrl}/token  secrets: oauth_client_secret`,
      `  oauth_ok  valid (200)       GET ${apiUrl}/me`,
    ]);
    expect(r.stderr).toContain("stellar-secrets set NAME --env production");
    expect(leaks(r.stdout + r.stderr)).toEqual([]);
  });

  it("writes a markdown report for a scheduled job, naming the secrets that need attention", async () => {
    const r = await s.run(["probe", "revoked", "oauth_bad", "untested", "--env", "production", "--format", "markdown", "--ca", caFile]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("### Credential health: production");
    expect(r.stdout).toContain("| revoked | `GET https://127.0.0.1:");
    // every name and answer escaped as Markdown text (nothing from a repository or an API becomes markup)
    expect(r.stdout).toContain("❌ rejected \\(401, invalid\\_client\\) | `bad_oauth_client_secret`");
    expect(r.stdout).toContain("**Needs attention** (2): `bad_oauth_client_secret` (rejected, oauth\\_bad); `revoked_api_token` (rejected, revoked).");
    expect(leaks(r.stdout + r.stderr)).toEqual([]);
  });

  it("refuses an unknown connection, a bad flag and an unreadable CA with their codes", async () => {
    const unknown = await s.run(["probe", "vaild", "--env", "production"]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('UNKNOWN_CONNECTION: no api_connection named "vaild"');
    expect(unknown.stderr).toContain('did you mean "valid"?');
    const ca = await s.run(["probe", "--env", "production", "--ca", join(s.dir, "nope.pem")]);
    expect(ca.code).toBe(25);
    expect(ca.stderr).toContain("INVALID_CA");
    const conc = await s.run(["probe", "--env", "production", "--concurrency", "0"]);
    expect(conc.code).toBe(2);
    const noEnv = await s.run(["probe"]);
    expect(noEnv.code).toBe(2);
    // a key is needed only when something is sent
    const noKey = await s.run(["probe", "valid", "--env", "production"], { env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(noKey.code).toBe(10);
    expect(noKey.stderr).toContain("NO_IDENTITY");
    const nothingToSend = await s.run(["probe", "untested", "--env", "production"], { env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(nothingToSend.code, nothingToSend.stderr).toBe(0);
    expect(nothingToSend.stdout.split("\n")[0]).toBe("probe production: 1 no-probe");
  });

  it("check refuses a probe path that leaves the origin or carries a credential, and probe sends nothing for it", async () => {
    s.write(
      "connections/bad.yaml",
      `kind: api_connection\nname: bad\nbase_url: ${apiUrl}\nheaders:\n  - { name: Authorization, type: secret, secret: good_api_token, prefix: "Bearer " }\nprobe:\n  path: //evil.example/v1\n---\nkind: api_connection\nname: leaky\nbase_url: ${apiUrl}\nprobe: { path: "/v1/account?api_key=abc123" }\n`,
    );
    try {
      const check = await s.run(["check", "--json"]);
      expect(check.code).toBe(1);
      const found = (JSON.parse(check.stdout) as { diagnostics: { rule: string; file: string; line: number; column: number }[] }).diagnostics
        .filter((d) => d.file === "connections/bad.yaml" && d.rule !== "missing-environment-value")
        .map((d) => [d.rule, d.line, d.column]);
      expect(found).toEqual([
        ["schema", 7, 9],
        ["plaintext-credential", 12, 16],
      ]);
      const before = otherRequests.length;
      const r = await s.run(["probe", "bad", "leaky", "--env", "production", "--json", "--ca", caFile]);
      expect(r.code).toBe(1);
      const results = (JSON.parse(r.stdout) as { results: Result[] }).results;
      expect(results.map((x) => [x.connection, x.status, x.code])).toEqual([
        ["bad", "unresolved", "INVALID_CONFIG"],
        ["leaky", "unresolved", "INVALID_CONFIG"],
      ]);
      expect(results[0]?.reason).toContain("connections/bad.yaml:7:9: schema:");
      expect(otherRequests.length).toBe(before);
      expect(leaks(r.stdout + r.stderr)).toEqual([]);
    } finally {
      rmSync(join(s.repo, "connections/bad.yaml"));
    }
  });
});

describe("probe on a branch that points a connection at another host (s24 attack)", () => {
  it("refuses (UNREVIEWED_DESTINATION, exit 26) before anything is resolved or sent: the branch's host receives nothing; --allow-new-destination sends it", async () => {
    const TOKEN = `${CANARY}-branch-7d2e9a4c1b`; // TEST-ONLY value
    const good: string[] = [];
    const evil: { path: string; authorization: string | undefined }[] = [];
    const goodServer = createHttpServer((req, res) => {
      good.push(req.url ?? "");
      res.writeHead(req.headers.authorization === `Bearer ${TOKEN}` ? 200 : 401);
      res.end();
    });
    const evilServer = createHttpServer((req, res) => {
      evil.push({ path: req.url ?? "", authorization: req.headers.authorization });
      res.writeHead(200);
      res.end();
    });
    const listen = async (server: Server): Promise<string> => {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    const goodUrl = await listen(goodServer);
    const evilUrl = await listen(evilServer);
    const s = createSandbox();
    try {
      s.env.SOPS_AGE_KEY_FILE = s.keygen("alice").file;
      expect((await s.run(["init", "--env", "production"])).code).toBe(0);
      expect((await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: TOKEN })).code).toBe(0);
      s.write("connectors/stripe.yaml", "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n");
      const connection = (url: string): string => `kind: api_connection\nname: stripe\nbase_url: ${url}\nauth: stripe\nprobe: { path: /v1/balance }\n`;
      s.write("connections/stripe.yaml", connection(goodUrl));
      s.commit("stripe");
      const onMain = await s.run(["probe", "--env", "production"]);
      expect(onMain.code, onMain.stderr).toBe(0);
      expect(onMain.stderr).toBe("");
      expect(good).toEqual(["/v1/balance"]);
      // an audit log in a folder that does not exist: the resolver's IO_ERROR (path, system code, fix), exit 16, nothing probed
      const nowhere = join(s.dir, "no-such-folder", "audit.jsonl");
      const unopened = await s.run(["probe", "--env", "production", "--audit-log", nowhere]);
      expect(unopened.code).toBe(16);
      expect(unopened.stderr).toContain(`IO_ERROR: cannot open the access log ${nowhere} (ENOENT): its folder ${join(s.dir, "no-such-folder")} does not exist`);
      expect(unopened.stderr).toContain(`mkdir -p ${join(s.dir, "no-such-folder")}`);
      expect(good).toEqual(["/v1/balance"]);

      // the pull request's branch: same key, same value, only the base_url changed
      s.git(["checkout", "-q", "-b", "pr"]);
      s.write("connections/stripe.yaml", connection(evilUrl));
      s.commit("faster mirror");
      const audit = join(s.dir, "audit.jsonl");
      for (const format of ["text", "json"]) {
        const refused = await s.run(["probe", "--env", "production", "--format", format, "--audit-log", audit]);
        expect(refused.code, refused.stderr).toBe(26);
        expect(refused.stdout).toBe("");
        const text = refused.stderr;
        expect(text).toContain("UNREVIEWED_DESTINATION");
        expect(text).toContain(`connections/stripe.yaml:3: stripe_api_key would go to ${evilUrl} (api_connection stripe); the reviewed config sends it only to ${goodUrl}`);
        expect(text).toContain("--allow-new-destination");
        expect(text).not.toContain(CANARY);
      }
      expect(evil).toEqual([]);
      // nothing was even resolved: no access event
      expect(existsSync(audit) ? readFileSync(audit, "utf8") : "").toBe("");

      // the user's explicit choice: sent (the server works, so the refusal above is what kept it away)
      const allowed = await s.run(["probe", "--env", "production", "--allow-new-destination"]);
      expect(allowed.code, allowed.stderr).toBe(0);
      expect(evil).toEqual([{ path: "/v1/balance", authorization: `Bearer ${TOKEN}` }]);
      expect(allowed.stdout + allowed.stderr).not.toContain(CANARY);
    } finally {
      goodServer.close();
      evilServer.close();
      s.cleanup();
    }
  });
});
