/**
 * `history` and `stale` end to end on real git repositories: value changes told from
 * re-encryptions (with and without a key), merges, renamed and deleted files, uncommitted
 * changes, and a history of thousands of commits.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { createSandbox, importAlternatingCommits, type AgeKey, type Sandbox } from "./helpers/cli.js";

// Each test runs the CLI as many child processes; on a loaded 2-core machine that takes a while.
vi.setConfig({ testTimeout: 180_000 });

let sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const s of sandboxes) s.cleanup();
  sandboxes = [];
});

interface Event {
  environment: string;
  name: string;
  kind: string;
  commit: string;
  author: string;
  date: string;
  message: string;
  verified: boolean;
}

async function project(): Promise<{ s: Sandbox; alice: AgeKey; set: (name: string, env: string, value: string) => Promise<void> }> {
  const s = createSandbox();
  sandboxes.push(s);
  const alice = s.keygen("alice");
  s.env.SOPS_AGE_KEY_FILE = alice.file;
  expect((await s.run(["init", "--env", "staging,production"])).code).toBe(0);
  const set = async (name: string, env: string, value: string): Promise<void> => {
    const r = await s.run(["set", name, "--env", env, "--from-stdin"], { input: value });
    expect(r.code, r.stderr).toBe(0);
  };
  return { s, alice, set };
}

async function history(s: Sandbox, args: string[] = [], env?: Record<string, string | undefined>): Promise<Event[]> {
  const r = await s.run(["history", ...args, "--json"], env ? { env } : {});
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const brief = (events: Event[]): string[] => events.map((e) => `${e.message}|${e.environment}|${e.name}|${e.kind}${e.verified ? "|verified" : ""}`);

describe("history", () => {
  it("lists additions, value changes and removals per commit, and tells re-encryption from value changes", async () => {
    const { s, set } = await project();
    s.commit("init", { date: "2024-01-01T10:00:00Z" });
    await set("stripe_api_key", "production", "sk_1");
    await set("hubspot_api_token", "production", "hs_1");
    const c1 = s.commit("add stripe and hubspot", { date: "2024-01-02T10:00:00Z" });
    await set("hubspot_api_token", "production", "hs_2");
    s.commit("rotate hubspot", { date: "2024-03-01T10:00:00Z", author: "Bob" });
    expect((await s.run(["rotate-key", "--env", "production"])).code).toBe(0);
    s.commit("new data key", { date: "2024-05-01T10:00:00Z" });
    // a data-key rotation and a value change in one commit
    expect((await s.run(["rotate-key", "--env", "production"])).code).toBe(0);
    await set("stripe_api_key", "production", "sk_2");
    s.commit("rekey and new stripe key", { date: "2024-05-02T10:00:00Z" });
    expect((await s.run(["rm", "hubspot_api_token", "--env", "production", "--yes"])).code).toBe(0);
    s.commit("drop hubspot", { date: "2024-06-01T10:00:00Z" });
    await set("stripe_api_key", "production", "sk_3"); // uncommitted

    const withKey = await history(s);
    expect(brief(withKey)).toEqual([
      "add stripe and hubspot|production|hubspot_api_token|added",
      "add stripe and hubspot|production|stripe_api_key|added",
      "rotate hubspot|production|hubspot_api_token|changed",
      "new data key|production|hubspot_api_token|re-encrypted|verified",
      "new data key|production|stripe_api_key|re-encrypted|verified",
      "rekey and new stripe key|production|hubspot_api_token|re-encrypted|verified",
      "rekey and new stripe key|production|stripe_api_key|changed|verified",
      "drop hubspot|production|hubspot_api_token|removed",
      "uncommitted changes in the working tree|production|stripe_api_key|changed",
    ]);
    expect(withKey[0]?.commit).toBe(c1);
    expect(withKey[2]?.author).toBe("Bob");
    expect(withKey[2]?.date).toBe("2024-03-01T10:00:00+00:00");

    // without a key, a commit that re-encrypted everything cannot be told apart: "re-encrypted"
    const noKey = await history(s, ["stripe_api_key"], { SOPS_AGE_KEY_FILE: undefined });
    expect(brief(noKey)).toEqual([
      "add stripe and hubspot|production|stripe_api_key|added",
      "new data key|production|stripe_api_key|re-encrypted",
      "rekey and new stripe key|production|stripe_api_key|re-encrypted",
      "uncommitted changes in the working tree|production|stripe_api_key|changed",
    ]);
    expect(brief(await history(s, ["stripe_api_key", "--no-decrypt"]))).toEqual(brief(noKey));

    const text = await s.run(["history", "hubspot_api_token"]);
    expect(text.stdout).toContain("hubspot_api_token (production)");
    expect(text.stdout).toMatch(/2024-03-01 10:00\s+[0-9a-f]{10}\s+Bob <bob@example.test>\s+changed\s+rotate hubspot/);
    expect(text.stdout).toContain("re-encrypted (same value)");
    for (const v of ["sk_1", "sk_2", "sk_3", "hs_1", "hs_2"]) expect(text.stdout + text.stderr).not.toContain(v);
  });

  it("reports a merge only for what it changed itself, and attributes branch changes to their commits", async () => {
    const { s, set } = await project();
    await set("stripe_api_key", "production", "a1");
    await set("twilio_auth_token", "staging", "t1");
    s.commit("base", { date: "2024-01-01T00:00:00Z" });
    s.git(["checkout", "-q", "-b", "feature"]);
    await set("stripe_api_key", "production", "a2");
    s.commit("feature: new stripe key", { date: "2024-01-02T00:00:00Z" });
    s.git(["checkout", "-q", "main"]);
    await set("twilio_auth_token", "staging", "t2");
    s.commit("main: new twilio token", { date: "2024-01-03T00:00:00Z" });
    s.git(["merge", "-q", "--no-ff", "-m", "merge feature", "feature"], { env: { GIT_AUTHOR_DATE: "2024-01-04T00:00:00Z", GIT_COMMITTER_DATE: "2024-01-04T00:00:00Z" } });
    const events = await history(s);
    const lines = brief(events);
    expect(lines).toContain("feature: new stripe key|production|stripe_api_key|changed");
    expect(lines).toContain("main: new twilio token|staging|twilio_auth_token|changed");
    expect(lines.filter((l) => l.startsWith("merge feature"))).toEqual([]);
    expect(lines).toHaveLength(4);

    // a conflicting merge resolved with a third value is a change made by the merge itself
    s.git(["checkout", "-q", "-b", "other"]);
    await set("twilio_auth_token", "staging", "t3");
    s.commit("other: twilio t3", { date: "2024-01-05T00:00:00Z" });
    s.git(["checkout", "-q", "main"]);
    await set("twilio_auth_token", "staging", "t4");
    s.commit("main: twilio t4", { date: "2024-01-06T00:00:00Z" });
    try {
      s.git(["merge", "-q", "other"]);
    } catch {
      // conflict expected
    }
    s.git(["checkout", "--ours", "secrets/staging.enc.yaml"]);
    await set("twilio_auth_token", "staging", "t5");
    s.commit("merge other, resolved with t5", { date: "2024-01-07T00:00:00Z" });
    expect(s.git(["rev-list", "--parents", "-n", "1", "HEAD"]).trim().split(" ")).toHaveLength(3);
    const after = brief(await history(s, ["twilio_auth_token"]));
    // the two branch commits come in topological order (either), the merge last
    expect(after.slice(-3, -1).sort()).toEqual([
      "main: twilio t4|staging|twilio_auth_token|changed",
      "other: twilio t3|staging|twilio_auth_token|changed",
    ]);
    expect(after.at(-1)).toBe("merge other, resolved with t5|staging|twilio_auth_token|changed");
  });

  it("follows a renamed secrets folder and reports a deleted environment file as removals", async () => {
    const { s, set } = await project();
    await set("stripe_api_key", "production", "a1");
    await set("stripe_api_key", "staging", "b1");
    s.commit("first", { date: "2024-01-01T00:00:00Z" });
    s.git(["mv", "secrets", "vault"]);
    s.write("stellar.yaml", s.read("stellar.yaml").replace("secrets_dir: secrets", "secrets_dir: vault"));
    s.commit("move secrets to vault", { date: "2024-02-01T00:00:00Z" });
    await set("stripe_api_key", "production", "a2");
    s.commit("second", { date: "2024-03-01T00:00:00Z" });
    s.git(["rm", "-q", "vault/staging.enc.yaml"]);
    s.commit("drop staging file", { date: "2024-04-01T00:00:00Z" });
    expect(brief(await history(s))).toEqual([
      "first|staging|stripe_api_key|added",
      "first|production|stripe_api_key|added",
      "second|production|stripe_api_key|changed",
      "drop staging file|staging|stripe_api_key|removed",
    ]);
  });

  it("walks thousands of commits", async () => {
    const { s, set } = await project();
    await set("stripe_api_key", "production", "v-a");
    s.commit("a");
    const a = s.read("secrets/production.enc.yaml");
    await set("stripe_api_key", "production", "v-b");
    const b = s.read("secrets/production.enc.yaml");
    // 2,000 commits alternating between the two versions (b first)
    const n = 2000;
    importAlternatingCommits(s, "secrets/production.enc.yaml", [b, a], n);
    const events = await history(s, ["stripe_api_key", "--env", "production", "--no-decrypt"]);
    expect(events).toHaveLength(n + 1);
    expect(events.slice(1).every((e) => e.kind === "changed")).toBe(true);
    expect(events[n]?.message).toBe(`commit ${n - 1}`);
  });

  it("says GIT_ERROR (exit 22) outside a git repository", async () => {
    const s = createSandbox({ gitInit: false });
    sandboxes.push(s);
    const alice = s.keygen("alice");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init"])).code).toBe(0);
    const r = await s.run(["history"]);
    expect(r.code).toBe(22);
    expect(r.stderr).toContain("GIT_ERROR");
  });
});

describe("stale", () => {
  it("lists values older than the limit (re-encryptions do not count), honours rotate_every, exits 1 when stale", async () => {
    const { s, set } = await project();
    await set("stripe_api_key", "production", "sk_1");
    await set("hubspot_api_token", "production", "hs_1");
    await set("twilio_auth_token", "staging", "tw_1");
    s.commit("old values", { date: "2024-01-01T00:00:00Z" });
    expect((await s.run(["rotate-key", "--env", "production"])).code).toBe(0);
    s.commit("re-key only", { date: new Date().toISOString() });
    await set("twilio_auth_token", "staging", "tw_2");
    s.commit("fresh twilio", { date: new Date().toISOString() });
    await s.run(["set", "hubspot_api_token", "--rotate-every", "100y"]);

    const r = await s.run(["stale", "--json"]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.stale.map((x: { environment: string; name: string }) => `${x.environment}/${x.name}`)).toEqual(["production/stripe_api_key"]);
    expect(out.stale[0].lastChanged).toBe("2024-01-01T00:00:00+00:00");
    expect(out.stale[0].limitDays).toBe(90);
    const fresh = Object.fromEntries(out.fresh.map((x: { name: string; limitFrom: string }) => [x.name, x.limitFrom]));
    expect(fresh).toEqual({ hubspot_api_token: "catalog", twilio_auth_token: "default" });

    const text = await s.run(["stale"]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/production\s+stripe_api_key\s+2024-01-01/);
    const none = await s.run(["stale", "--older-than", "100y"]);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe("No stale secrets (3 values checked).\n");
    const all = await s.run(["stale", "--older-than", "0d", "--env", "staging", "--json"]);
    expect(JSON.parse(all.stdout).stale).toHaveLength(0); // changed today: age 0 is not older than 0 days
    expect((await s.run(["stale", "--older-than", "ninety"])).code).toBe(2);
  });
});
