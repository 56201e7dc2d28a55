/**
 * Joining a team (issue 13, items 1, 2 and 4) end to end, with separate people (own HOME, own
 * keys made at test time, TEST-ONLY) working in their own clones of one bare repository:
 * a newcomer makes a key (`keygen`), asks for access (`request-access`) on a branch, a member
 * sees the request in `check`, `review` and `members list`, approves it (`members approve`),
 * and the newcomer reads the value — no key or value sent by chat. Then the access review
 * (`members list --long`, `access`).
 */
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { parse } from "./helpers/yaml.js";
import { HAS_AGE_CLI, createSandbox, type Sandbox, sandboxesCleanedAfterEach } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

/** A person with their own HOME and git identity; `repo` is their clone of `origin` (when given). */
function person(user: string, gitName: string, origin?: string): Sandbox {
  const s = createSandbox({ user, gitInit: origin === undefined });
  sandboxes.push(s);
  const email = `${user}@example.test`;
  Object.assign(s.env, { GIT_AUTHOR_NAME: gitName, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: gitName, GIT_COMMITTER_EMAIL: email });
  if (origin !== undefined) execFileSync("git", ["clone", "-q", origin, s.repo], { env: s.env, stdio: "ignore" });
  return s;
}

describe("a fresh clone is told to run `git setup`", () => {
  it("whoami and request-access remind a clone without the merge driver or hook (the team committed .gitattributes); git setup silences them", async () => {
    const alice = person("alice", "Alice Example");
    const origin = join(alice.dir, "origin.git");
    execFileSync("git", ["init", "-q", "--bare", "-b", "main", origin]);
    expect((await alice.run(["init", "--env", "staging"])).code).toBe(0);
    // a team that never ran git setup (no .gitattributes line): told once what it needs, in whoami, exit 0
    const never = await alice.run(["whoami"]);
    expect(never.code).toBe(0);
    expect(never.stdout).toContain("note: git is not set up for this repository's secrets files (no .gitattributes line sends them to the merge driver: a merge of two changes to one environment file conflicts as text, which no one can resolve without keys): run `stellar-secrets git setup` and commit the .gitattributes it writes; each clone runs it once");
    expect(never.stdout.match(/git setup/g)?.length).toBe(1);
    expect((await alice.run(["whoami", "--json"])).stdout).not.toContain("git setup");
    // git setup --check says the same by its exit status (a CI step: docs/ci.md)
    expect((await alice.run(["git", "setup", "--check"])).code).toBe(1);
    expect((await alice.run(["git", "setup"])).code).toBe(0);
    expect((await alice.run(["git", "setup", "--check"])).code).toBe(0);
    alice.commit("init");
    alice.git(["remote", "add", "origin", origin]);
    alice.git(["push", "-q", "origin", "main"]);
    expect((await alice.run(["whoami"])).stdout).not.toContain("not set up");

    const bob = person("bob", "Bob Newcomer", origin);
    expect((await bob.run(["keygen"])).code).toBe(0);
    const whoami = await bob.run(["whoami"]);
    expect(whoami.code).toBe(0);
    expect(whoami.stdout).toContain("note: this clone is not set up for secrets files yet (no merge driver: git would merge environment files as text");
    expect(whoami.stdout).toContain("run `stellar-secrets git setup` once per clone");
    expect(whoami.stdout).toContain("note: you are not a member of any environment yet; ask for access in a pull request: `stellar-secrets request-access --env ENV` (staging)");
    const asked = await bob.run(["request-access", "--env", "staging"]);
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.stdout).toContain("run `stellar-secrets git setup` once per clone");
    // on the default branch (origin/HEAD names main): a branch of its own for the request
    expect(asked.stdout).toContain("Propose it in a pull request:\n  git checkout -b access/bob-staging\n");
    // already on a branch of one's own: commit there (one git call tells which branch)
    bob.git(["checkout", "-q", "--", "stellar.yaml"]);
    bob.git(["checkout", "-q", "-b", "bob/onboarding"]);
    const onBranch = await bob.run(["request-access", "--env", "staging"]);
    expect(onBranch.code, onBranch.stderr).toBe(0);
    expect(onBranch.stdout).toContain(
      'Propose it in a pull request: commit on this branch (bob/onboarding) and push it:\n  git commit -m "access: bob requests staging" stellar.yaml\n  git push -u origin bob/onboarding\n',
    );
    expect(onBranch.stdout).not.toContain("git checkout -b");
    expect(JSON.parse((await bob.run(["whoami", "--json"])).stdout)).not.toHaveProperty("setup"); // the JSON stays as documented
    expect((await bob.run(["git", "setup"])).code).toBe(0);
    expect((await bob.run(["whoami"])).stdout).not.toContain("not set up");
    // a hook of its own (the pre-commit framework's, with `git setup --no-hook`) counts; no hook at all does not
    bob.write(".git/hooks/pre-commit", "#!/bin/sh\nexec pre-commit run\n");
    expect((await bob.run(["whoami"])).stdout).not.toContain("not set up");
    rmSync(join(bob.repo, ".git/hooks/pre-commit"));
    expect((await bob.run(["whoami"])).stdout).toContain("(no pre-commit hook: nothing refuses a commit of an unresolved merge or a plaintext value)");
  });

  it("says nothing of git setup outside a git repository (init says what comes next)", async () => {
    const carol = createSandbox({ user: "carol", gitInit: false });
    sandboxes.push(carol);
    const init = await carol.run(["init", "--env", "staging"]);
    expect(init.code).toBe(0);
    expect(init.stdout).toContain("stellar-secrets git setup");
    const whoami = await carol.run(["whoami"]);
    expect(whoami.code).toBe(0);
    expect(whoami.stdout).not.toContain("git setup");
  });
});

describe("joining a team through pull requests", () => {
  it("newcomer: keygen, request-access on a branch; member: check, review, approve; newcomer: get", async () => {
    const alice = person("alice", "Alice Example");
    const origin = join(alice.dir, "origin.git");
    execFileSync("git", ["init", "-q", "--bare", "-b", "main", origin]);

    // alice makes her key with keygen and starts the project
    const aliceKey = await alice.run(["keygen", "--json"]);
    expect(aliceKey.code).toBe(0);
    expect(JSON.parse(aliceKey.stdout)).toMatchObject({ type: "age", file: alice.defaultKeyFile, created: true });
    expect((await alice.run(["init", "--env", "staging,production"])).code).toBe(0);
    expect((await alice.run(["set", "acme_api_key", "--env", "staging", "--from-stdin"], { input: "v-staging-1" })).code).toBe(0);
    alice.commit("init");
    alice.git(["remote", "add", "origin", origin]);
    alice.git(["push", "-q", "origin", "main"]);

    // bob: a key where sops looks, printed public key only; never overwritten
    const bob = person("bob", "Bob Newcomer", origin);
    // before any key: the error says how a newcomer gets one and asks, not only where keys are looked for
    const noKey = await bob.run(["get", "acme_api_key", "--env", "staging"]);
    expect([noKey.code, noKey.stdout]).toEqual([10, ""]);
    expect(noKey.stderr).toContain("NO_IDENTITY");
    expect(noKey.stderr).toContain("no key yet: `stellar-secrets keygen` makes one, then `stellar-secrets request-access --env staging` asks for access");
    const made = await bob.run(["keygen"]);
    expect(made.code).toBe(0);
    expect(made.stdout).not.toContain("AGE-SECRET-KEY");
    const keyText = readFileSync(bob.defaultKeyFile, "utf8");
    const bobKey = /^# public key: (age1[0-9a-z]+)$/m.exec(keyText)?.[1] as string;
    expect(made.stdout).toContain(`public key: ${bobKey}`);
    expect(keyText).toMatch(/^# created: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n# public key: age1[0-9a-z]{58}\nAGE-SECRET-KEY-1[0-9A-Z]+\n$/);
    expect(statSync(bob.defaultKeyFile).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(bob.defaultKeyFile)).mode & 0o777).toBe(0o700);
    if (HAS_AGE_CLI) expect(execFileSync("age-keygen", ["-y", bob.defaultKeyFile], { encoding: "utf8" }).trim()).toBe(bobKey);
    const again = await bob.run(["keygen"]);
    expect(again.code).toBe(6);
    expect(again.stderr).toContain("IDENTITY_EXISTS");
    expect(readFileSync(bob.defaultKeyFile, "utf8")).toBe(keyText);

    // bob cannot read yet, and whoami says so (by trying to unwrap, not by labels)
    expect((await bob.run(["get", "acme_api_key", "--env", "staging"])).code).toBe(10);
    const before = JSON.parse((await bob.run(["whoami", "--json"])).stdout);
    expect(before.keys).toEqual([{ publicKey: bobKey, type: "age", source: bob.defaultKeyFile }]);
    expect(before.environments.find((e: { name: string }) => e.name === "staging")).toMatchObject({ members: [], canRead: false, pending: [] });

    // bad requests: clear codes, nothing written
    const yamlBefore = bob.read("stellar.yaml");
    const bad = [
      [["request-access", "--env", "qa"], 4, "UNKNOWN_ENVIRONMENT"],
      [["request-access", "--env", "staging", "--name", "bob smith"], 19, "INVALID_MEMBER"],
      [["request-access", "--env", "staging", "--name", "alice"], 20, "MEMBER_EXISTS"],
      [["request-access", "--env", "staging", "--key", alice.read("stellar.yaml").match(/age1[0-9a-z]{58}/)?.[0] as string], 10, "NO_MATCHING_IDENTITY"],
    ] as const;
    for (const [args, code, error] of bad) {
      const r = await bob.run([...args]);
      expect([r.code, r.stderr], args.join(" ")).toEqual([code, expect.stringContaining(error)]);
    }
    expect(bob.read("stellar.yaml")).toBe(yamlBefore);

    // the request: a pending member (no stanza, no access); name from the git email ("Bob Newcomer" is not a member name)
    const asked = await bob.run(["request-access", "--env", "staging", "--json"]);
    expect(asked.stderr).toBe("");
    expect(asked.code).toBe(0);
    expect(JSON.parse(asked.stdout)).toMatchObject({ name: "bob", key: bobKey, environments: ["staging"] });
    const staging = parse(bob.read("stellar.yaml")).environments.staging;
    expect(staging.pending.bob.key).toBe(bobKey);
    expect(Object.keys(staging.members)).toEqual(["alice"]);
    expect(bob.read(".sops.yaml")).not.toContain(bobKey);
    // a request cannot approve itself: approving needs the environment's data key
    const pendingYaml = bob.read("stellar.yaml");
    const self = await bob.run(["members", "approve", "bob", "--env", "staging"]);
    expect([self.code, self.stderr]).toEqual([10, expect.stringContaining("NO_MATCHING_IDENTITY")]);
    expect(bob.read("stellar.yaml")).toBe(pendingYaml);
    const twice = await bob.run(["request-access", "--env", "staging"]);
    expect([twice.code, twice.stderr]).toEqual([20, expect.stringContaining("REQUEST_EXISTS")]);
    bob.git(["checkout", "-q", "-b", "access/bob-staging"]);
    bob.commit("access: bob requests staging");
    bob.git(["push", "-q", "origin", "access/bob-staging"]);

    // alice reviews the pull request
    alice.git(["fetch", "-q", "origin"]);
    alice.git(["checkout", "-q", "-b", "access/bob-staging", "origin/access/bob-staging"]);
    const check = await alice.run(["check", "--format", "json"]);
    expect(check.code).toBe(0);
    const line = alice.read("stellar.yaml").split("\n").findIndex((l) => l.trim() === "bob:") + 1;
    expect(JSON.parse(check.stdout).diagnostics).toContainEqual(
      expect.objectContaining({ rule: "pending-access-request", severity: "info", file: "stellar.yaml", line }),
    );
    const review = await alice.run(["review", "origin/main", "--json"]);
    expect(review.code).toBe(0);
    const report = JSON.parse(review.stdout);
    expect(report.environments[0].members).toMatchObject({ gained: [], requested: [{ name: "bob", recipient: bobKey }] });
    expect(report.clean).toBe(true);
    expect((await alice.run(["review", "origin/main"])).stdout).toContain("request: bob asks for access");
    const listed = await alice.run(["members", "list"]);
    expect(listed.stdout).toMatch(/Pending access requests[^\n]*\n {2}bob → staging/);

    const unknown = await alice.run(["members", "approve", "carol", "--env", "staging"]);
    expect([unknown.code, unknown.stderr]).toEqual([4, expect.stringContaining("UNKNOWN_REQUEST")]);
    const wrongEnv = await alice.run(["members", "approve", "bob", "--env", "production"]);
    expect([wrongEnv.code, wrongEnv.stderr]).toEqual([4, expect.stringContaining("UNKNOWN_REQUEST")]);
    // the request is whatever the branch wrote under "bob": a key bob did not give alice is refused, nothing written
    const requestYaml = alice.read("stellar.yaml");
    const otherKey = alice.keygen("not-bob").recipient;
    const pinnedWrong = await alice.run(["members", "approve", "bob", "--env", "staging", "--key", otherKey]);
    expect([pinnedWrong.code, pinnedWrong.stderr]).toEqual([4, expect.stringContaining("UNKNOWN_REQUEST")]);
    expect(pinnedWrong.stderr).toContain(`it asks for ${bobKey}, not ${otherKey}`);
    expect(alice.read("stellar.yaml")).toBe(requestYaml);
    expect((await alice.run(["members", "approve", "bob", "--env", "staging", "--key", "AGE-SECRET-KEY-1QQQQ"])).stderr).not.toContain("AGE-SECRET-KEY-1QQQQ");
    const approved = await alice.run(["members", "approve", "bob", "--env", "staging", "--key", bobKey, "--json"]);
    expect(approved.stderr).toBe("");
    expect(approved.code).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ member: "bob", recipient: bobKey, approved: ["staging"], approvedBy: { staging: "alice" } });
    const after = parse(alice.read("stellar.yaml")).environments.staging;
    expect(after.members.bob).toBe(bobKey);
    expect(after.pending).toBeUndefined();
    expect(after.approved.bob.by).toBe("alice");
    alice.commit("access: approve bob for staging");
    alice.git(["push", "-q", "origin", "access/bob-staging"]);

    // bob pulls the approved branch and reads
    bob.git(["pull", "-q", "origin", "access/bob-staging"]);
    const got = await bob.run(["get", "acme_api_key", "--env", "staging"]);
    expect([got.code, got.stdout]).toEqual([0, "v-staging-1"]);
    const now = JSON.parse((await bob.run(["whoami", "--json"])).stdout);
    expect(now.environments.find((e: { name: string }) => e.name === "staging")).toMatchObject({ members: ["bob"], canRead: true, readWith: bobKey });
    const member = await bob.run(["request-access", "--env", "staging"]);
    expect([member.code, member.stderr]).toEqual([20, expect.stringContaining("ALREADY_MEMBER")]);

    // access review: since when and who approved; a member who never commits is inactive
    const long = JSON.parse((await alice.run(["members", "list", "--long", "--json"])).stdout);
    expect(long.members.find((m: { name: string }) => m.name === "bob")).toMatchObject({ environment: "staging", approvedBy: "alice", approvedByCommitAuthor: false });
    expect(long.members.find((m: { name: string }) => m.name === "bob").since.commit).toBe(alice.git(["rev-parse", "HEAD"]).trim());
    // a plain `members add` of the requested name and key answers the request too
    const asBob = { HOME: bob.home, XDG_CONFIG_HOME: join(bob.home, ".config") };
    expect((await alice.run(["request-access", "--env", "production", "--name", "bob"], { env: asBob })).code).toBe(0);
    expect(parse(alice.read("stellar.yaml")).environments.production.pending.bob.key).toBe(bobKey);
    expect((await alice.run(["members", "add", "bob", bobKey, "--env", "production"])).code).toBe(0);
    expect(parse(alice.read("stellar.yaml")).environments.production.pending).toBeUndefined();
    const carol = (await alice.run(["keygen", "--json"], { env: { SOPS_AGE_KEY_FILE: join(alice.dir, "carol.txt") } })).stdout;
    const carolKey = JSON.parse(carol).publicKey as string;
    expect((await alice.run(["members", "add", "carol", carolKey, "--env", "production"])).code).toBe(0);
    alice.commit("add carol");
    const access = await alice.run(["access", "--json", "--inactive", "30d"]);
    expect(access.code).toBe(1);
    const review2 = JSON.parse(access.stdout);
    expect(review2.inactive.map((a: { name: string }) => a.name)).toEqual(["carol"]);
    // a CI or deploy key never commits: --machine lists it as a reader without judging its activity
    const text = await alice.run(["access", "--inactive", "30d"]);
    expect(text.stdout).toContain("  ! carol: no commit found\n  (a CI or deploy key never commits: name such members with --machine NAME[,NAME])");
    const machine = await alice.run(["access", "--json", "--inactive", "30d", "--machine", "carol"]);
    expect(machine.code, machine.stderr).toBe(0);
    expect(JSON.parse(machine.stdout)).toMatchObject({ inactive: [], machine: ["carol"], findings: 0 });
    expect(JSON.parse(machine.stdout).activity.map((a: { name: string }) => a.name)).not.toContain("carol");
    expect((await alice.run(["access", "--inactive", "30d", "--machine", "carol"])).stdout).toContain("  none\n  (not judged, machine members: carol)");
    const notMember = await alice.run(["access", "--machine", "karol"]);
    expect([notMember.code, notMember.stderr]).toEqual([4, expect.stringContaining('UNKNOWN_MEMBER: --machine: "karol" is not a member of any environment')]);
    expect(notMember.stderr).toContain('did you mean "carol"?');
    const stagingReport = review2.environments.find((e: { name: string }) => e.name === "staging");
    expect(stagingReport).toMatchObject({ memberCount: 2, stanzaCount: 2, nonMemberRecipients: [], membersWithoutAccess: [], lastRotation: { kind: "created" } });
    expect(review2.sharedKeys).toEqual([]);
    // one key under two names (a hand edit `members add` refuses) is a finding
    alice.write("stellar.yaml", alice.read("stellar.yaml").replace(/(  production:\n    members:\n)/, `$1      robert: ${bobKey}\n`));
    const shared = JSON.parse((await alice.run(["access", "--json", "--env", "production", "--inactive", "1y"])).stdout);
    expect(shared.sharedKeys).toEqual([{ recipient: bobKey, names: ["bob", "robert"] }]);
    const bad2 = await alice.run(["access", "--inactive", "soon"]);
    expect(bad2.code).toBe(2);
  });

  it("keygen --ssh creates ~/.ssh/id_ed25519 with ssh-keygen (age reads it), then reuses it; whoami lists it", async () => {
    const s = person("dana", "Dana");
    const made = await s.run(["keygen", "--ssh", "--json"]);
    expect(made.stderr).toBe("");
    const key = JSON.parse(made.stdout);
    const file = join(s.home, ".ssh", "id_ed25519");
    expect(key).toMatchObject({ type: "ssh-ed25519", file, created: true });
    expect(key.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43}$/);
    expect(made.stdout).not.toContain("PRIVATE KEY");
    const reused = JSON.parse((await s.run(["keygen", "--ssh", "--json"])).stdout);
    expect(reused).toMatchObject({ publicKey: key.publicKey, created: false });
    const who = JSON.parse((await s.run(["whoami", "--json"])).stdout);
    expect(who.keys).toEqual([{ publicKey: key.publicKey, type: "ssh-ed25519", source: file }]);
    if (HAS_AGE_CLI) {
      const sealed = execFileSync("age", ["-r", key.publicKey], { input: "hello" });
      expect(execFileSync("age", ["-d", "-i", file], { input: sealed }).toString()).toBe("hello");
    }
  });
});

describe("members list --long across a merge commit", () => {
  it("keeps each member's since and approval when a merge commit changed stellar.yaml (a member added on one branch, rules changed on another)", async () => {
    const s = person("alice", "alice");
    expect((await s.run(["init", "--env", "development,staging,production"])).code).toBe(0);
    const init = s.commit("init", { date: "2026-11-01T10:00:00Z" });
    s.git(["checkout", "-q", "-b", "x1"]);
    expect((await s.run(["members", "add", "dave", s.keygen("dave").recipient, "--env", "development"])).code).toBe(0);
    const addDave = s.commit("add dave", { date: "2026-11-02T10:00:00Z" });
    s.git(["checkout", "-q", "-b", "x2", "main"]);
    s.write("stellar.yaml", `${s.read("stellar.yaml")}rules:\n  unused-secret: "off"\n`);
    s.commit("rules", { date: "2026-11-03T10:00:00Z" });
    s.git(["checkout", "-q", "main"]);
    s.git(["merge", "-q", "--no-ff", "-m", "merge x1", "x1"]);
    s.git(["merge", "-q", "--no-ff", "-m", "merge x2", "x2"]); // its stellar.yaml is neither parent's: git log lists the merge
    const long = await s.run(["members", "list", "--long", "--json"]);
    expect(long.code, long.stderr).toBe(0);
    const rows = JSON.parse(long.stdout).members as { name: string; environment: string; since: { commit: string } | null; approvedBy: string | null }[];
    expect(rows.filter((r) => r.since === null)).toEqual([]); // was: every member "(not committed)" after such a merge
    expect(rows.find((r) => r.name === "alice" && r.environment === "staging")).toMatchObject({ since: { commit: init }, approvedBy: "alice" });
    // dave is dated from his branch's commit, although the other branch's later commit lacks him
    expect(rows.find((r) => r.name === "dave")).toMatchObject({ since: { commit: addDave } });
  });
});
