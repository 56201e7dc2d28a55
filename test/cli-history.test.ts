/**
 * `history` and `stale` as processes on real git repositories, one test per contract: value
 * changes told from re-encryptions (with and without a key), uncommitted changes, the text and
 * JSON output, a history of thousands of commits, GIT_ERROR outside git, and `stale`'s limits
 * and exit status. Merges, renamed and deleted files are tested in memory against a fake git
 * in packages/core/src/review/history.test.ts.
 */
import { chmodSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { createSandbox, importAlternatingCommits, type AgeKey, type Sandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";

// Each test runs the CLI as many child processes; on a loaded 2-core machine that takes a while.
vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

interface Event {
  environment: string;
  name: string;
  kind: string;
  commit: string;
  author: string;
  date: string;
  message: string;
  verified: boolean;
  dataKey?: "new" | "same";
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
  const out = JSON.parse(r.stdout);
  expect(Array.isArray(out.events)).toBe(true); // an object, like every --json
  return out.events;
}

const brief = (events: Event[]): string[] => events.map((e) => `${e.message}|${e.environment}|${e.name}|${e.kind}${e.verified ? "|verified" : ""}`);

describe("history", () => {
  it("of a name that never existed: UNKNOWN_SECRET (exit 4) with the nearest name, text and --json; of a name that exists now without history (another environment, the catalog): no history, exit 0 (checker session 8, item 4)", async () => {
    const { s, set } = await project();
    await set("stripe_api_key", "production", "sk_1");
    s.commit("add stripe");
    const typo = await s.run(["history", "strpe_api_key"]);
    expect(typo.code).toBe(4);
    expect(typo.stdout).toBe("");
    expect(typo.stderr).toContain('UNKNOWN_SECRET: secret "strpe_api_key" has no history: no commit in any environment ever set it, and no environment file or catalog entry has it now');
    expect(typo.stderr).toContain('did you mean "stripe_api_key"?');
    const json = await s.run(["history", "strpe_api_key", "--json"]);
    expect(json.code).toBe(4);
    const far = await s.run(["history", "nothing_like_this", "--env", "staging"]);
    expect(far.code).toBe(4);
    expect(far.stderr).toContain("no commit in staging ever set it");
    expect(far.stderr).toContain("or leave out --env");
    // set in production, asked of staging only: it exists, it has no history there
    const other = await s.run(["history", "stripe_api_key", "--env", "staging"]);
    expect([other.code, other.stdout]).toEqual([0, "No history for stripe_api_key.\n"]);
    // declared in the catalog, never set
    s.write("secrets/catalog.yaml", "secrets:\n  hubspot_api_token:\n    description: HubSpot private app token\n");
    const declared = await s.run(["history", "hubspot_api_token"]);
    expect([declared.code, declared.stdout]).toEqual([0, "No history for hubspot_api_token.\n"]);
    // removed since: its history is there
    expect((await s.run(["rm", "stripe_api_key", "--env", "production", "--yes"])).code).toBe(0);
    s.commit("rm stripe");
    expect(brief(await history(s, ["stripe_api_key"])).map((l) => l.split("|")[3])).toEqual(["added", "removed"]);
  });

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
    expect(noKey.filter((e) => e.kind === "re-encrypted").map((e) => e.dataKey)).toEqual(["new", "new"]);
    const keyless = await s.run(["history", "stripe_api_key", "--no-decrypt"]);
    expect(keyless.stdout).toContain("re-encrypted under a new data key; values cannot be compared without a key  rekey and new stripe key");

    const text = await s.run(["history", "hubspot_api_token"]);
    expect(text.stdout).toContain("hubspot_api_token (production)");
    expect(text.stdout).toMatch(/2024-03-01 10:00\s+[0-9a-f]{10}\s+Bob <bob@example.test>\s+changed\s+rotate hubspot/);
    expect(text.stdout).toContain("re-encrypted (same value)");
    for (const v of ["sk_1", "sk_2", "sk_3", "hs_1", "hs_2"]) expect(text.stdout + text.stderr).not.toContain(v);
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

  it("reads the same history for a signer whose git config shows signatures in every log (log.showSignature), running no gpg", async () => {
    const { s, set } = await project();
    s.commit("init", { date: "2024-01-01T10:00:00Z" });
    await set("stripe_api_key", "production", "sk_1");
    s.commit("add stripe", { date: "2024-01-02T10:00:00Z" });
    await set("stripe_api_key", "production", "sk_2");
    s.commit("rotate stripe", { date: "2024-02-01T10:00:00Z" });
    const plain = await history(s);
    // the last commit signed (by a stand-in for gpg that prints a made-up signature), then every
    // log shows signatures with a gpg that reports on stdout, as gpg's --status-fd=1 does
    const signer = join(s.repo, ".git", "gpg.sh");
    s.write(".git/gpg.sh", `#!/bin/sh\necho "$*" >> "${join(s.repo, ".git", "gpg.log")}"\ncase "$*" in *-bsau*) cat >/dev/null; printf -- '-----BEGIN PGP SIGNATURE-----\\n\\niQEz\\n-----END PGP SIGNATURE-----\\n'; echo "[GNUPG:] SIG_CREATED D 1 8 00 1 X" >&2;; *) cat >/dev/null; echo "[GNUPG:] GOODSIG 0123 x"; echo "gpg: Good signature from x" >&2;; esac\n`);
    chmodSync(signer, 0o755);
    s.git(["config", "gpg.program", signer]);
    s.git(["-c", "user.signingkey=X", "commit", "-q", "--amend", "--no-edit", "-S"], { env: { GIT_COMMITTER_DATE: "2024-02-01T10:00:00Z" } });
    s.git(["config", "log.showSignature", "true"]);
    expect(s.git(["log", "--format=%H", "-1"]), "git itself now mixes the signature report into log").toMatch(/Good signature/);
    rmSync(join(s.repo, ".git", "gpg.log"), { force: true });
    expect(await history(s)).toEqual(plain.map((e) => (e.message === "rotate stripe" ? { ...e, commit: expect.any(String) } : e)));
    expect(existsSync(join(s.repo, ".git", "gpg.log")), "gpg ran").toBe(false);
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

    // `check` shows what `stale` shows for a catalog rotate_every, as the rotation-overdue rule
    expect((await s.run(["set", "stripe_api_key", "--rotate-every", "30d"])).code).toBe(0);
    const check = await s.run(["check", "--json"]);
    const rotation = (JSON.parse(check.stdout) as { diagnostics: { rule: string; severity: string; file: string; line: number; secret?: string; message: string }[] }).diagnostics.filter(
      (d) => d.rule === "rotation-overdue",
    );
    const line = s.read("secrets/production.enc.yaml").split("\n").findIndex((l) => l.startsWith("stripe_api_key:")) + 1;
    expect(rotation.map((d) => [d.severity, d.file, d.line, d.secret])).toEqual([["warning", "secrets/production.enc.yaml", line, "stripe_api_key"]]);
    expect(rotation[0]?.message).toMatch(/^the value of secret "stripe_api_key" in production was last set \d+ days ago \(2024-01-01, commit [0-9a-f]{10}\), and the catalog says to rotate it every 30d \(30 days\)/);

    // a shallow clone (CI's default checkout) cuts the history: the overdue value looks set at the cut, and both commands say so
    s.commit("catalog: rotate every 30d", { date: new Date().toISOString() });
    const clone = join(s.dir, "shallow");
    s.git(["clone", "-q", "--depth", "1", `file://${s.repo}`, clone]);
    const shallow = await s.run(["check", "--json"], { cwd: clone });
    expect(JSON.parse(shallow.stdout).diagnostics.filter((d: { rule: string }) => d.rule === "rotation-overdue")).toEqual([]);
    expect(shallow.stderr).toMatch(/note: this is a shallow clone \(its history stops at \w+\): rotation-overdue .* an overdue value may not be reported/);
    const shallowStale = await s.run(["stale", "--no-decrypt"], { cwd: clone });
    expect(shallowStale.stderr).toMatch(/warning: this is a shallow clone \(its history stops at \w+\)/);
    expect((await s.run(["check", "--json"])).stderr).not.toContain("shallow clone");
  });
});
