/**
 * SSH ed25519 members end to end (issue 11): `members add NAME "ssh-ed25519 …"` stores the key
 * without its comment and wraps the data key to it; the member then decrypts with nothing but
 * ~/.ssh/id_ed25519 in their HOME, `age -d -i id_ed25519` opens their stanza, and a file label
 * that still carries the comment is not recipient drift. Keys are made per test with ssh-keygen
 * and age-keygen (TEST-ONLY).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { parse } from "./helpers/yaml.js";
import { HAS_AGE_CLI, ageDecrypt, createSandbox, stanzas, type Sandbox, HAS_SSH_KEYGEN, sandboxesCleanedAfterEach } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 180_000 });

const sandboxes = sandboxesCleanedAfterEach();

/** A TEST-ONLY ed25519 key made by ssh-keygen, installed as ~/.ssh/id_ed25519 of its own HOME. */
function sshMember(s: Sandbox, name: string): { home: string; keyFile: string; pub: string; normalized: string } {
  const home = join(s.dir, `${name}-home`);
  mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
  const keyFile = join(home, ".ssh", "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${name}@laptop`, "-f", keyFile], { stdio: "ignore" });
  const pub = readFileSync(`${keyFile}.pub`, "utf8").trim();
  return { home, keyFile, pub, normalized: pub.split(" ").slice(0, 2).join(" ") };
}
const asUser = (home: string): Record<string, string> => ({ HOME: home, XDG_CONFIG_HOME: join(home, ".config") });

describe.skipIf(!HAS_SSH_KEYGEN)("SSH ed25519 members", () => {
  it("members add stores the key without its comment; the member reads and writes with only ~/.ssh/id_ed25519; age -d -i opens the stanza", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    expect((await s.run(["init", "--env", "production"])).code).toBe(0);
    expect((await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "v-alice-wrote" })).code).toBe(0);
    const bob = sshMember(s, "bob");

    const add = await s.run(["members", "add", "bob", bob.pub, "--env", "production", "--json"]);
    expect(add.stderr).toBe("");
    expect(add.code).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ member: "bob", recipient: bob.normalized, added: ["production"] });
    expect(parse(s.read("stellar.yaml")).environments.production.members.bob).toBe(bob.normalized);
    expect(parse(s.read(".sops.yaml")).creation_rules[0].age).toContain(bob.normalized);
    const labels = stanzas(s, "production").map((st) => st.recipient);
    expect(labels).toHaveLength(2);
    expect(labels[1]).toBe(bob.normalized);

    // bob, with nothing but ~/.ssh/id_ed25519 (no age key anywhere)
    const got = await s.run(["get", "stripe_api_key", "--env", "production"], { env: asUser(bob.home) });
    expect(got.stderr).toBe("");
    expect(got.stdout).toBe("v-alice-wrote");
    expect((await s.run(["set", "bob_api_token", "--env", "production", "--from-stdin"], { env: asUser(bob.home), input: "v-bob-wrote" })).code).toBe(0);
    expect((await s.run(["get", "bob_api_token", "--env", "production"])).stdout).toBe("v-bob-wrote");

    if (HAS_AGE_CLI) {
      const [aliceStanza, bobStanza] = stanzas(s, "production");
      const viaAlice = ageDecrypt(s.defaultKeyFile, aliceStanza!.enc);
      const viaBob = execFileSync("age", ["-d", "-i", bob.keyFile], { input: bobStanza!.enc, stdio: ["pipe", "pipe", "pipe"] });
      expect(viaBob.length).toBe(32);
      expect(viaBob.equals(viaAlice)).toBe(true);
    }

    // members list names the key by type and end; check sees no drift, also when the file's
    // label carries the comment (as `sops encrypt --age "ssh-ed25519 … bob@laptop"` writes it)
    const list = await s.run(["members", "list"]);
    expect(list.stdout).toContain(`ssh-ed25519 …${bob.normalized.slice(-8)}`);
    expect(list.stdout).not.toContain("warning");
    const file = s.read("secrets/production.enc.yaml");
    s.write("secrets/production.enc.yaml", file.replace(`recipient: ${bob.normalized}\n`, `recipient: ${bob.pub}\n`));
    expect(s.read("secrets/production.enc.yaml")).toContain(bob.pub);
    const check = await s.run(["check", "--json"]);
    expect(check.stdout).not.toContain("recipient-drift");
    expect((await s.run(["members", "list"])).stdout).not.toContain("warning");
    // control: a label naming another key is drift
    const eve = sshMember(s, "eve");
    s.write("secrets/production.enc.yaml", file.replace(`recipient: ${bob.normalized}\n`, `recipient: ${eve.pub}\n`));
    expect((await s.run(["check", "--json"])).stdout).toContain("recipient-drift");
    s.write("secrets/production.enc.yaml", file);

    // removing bob rotates the data key: his SSH key no longer opens the file
    expect((await s.run(["members", "rm", "bob"])).code).toBe(0);
    const denied = await s.run(["get", "stripe_api_key", "--env", "production"], { env: asUser(bob.home) });
    expect(denied.code).toBe(10);
    expect(denied.stderr).toContain("NO_MATCHING_IDENTITY");
    expect(denied.stderr).toContain(join(bob.home, ".ssh", "id_ed25519"));
  });

  it("refuses an ssh-rsa key or a damaged ssh-ed25519 key (INVALID_MEMBER, exit 19) and leaves stellar.yaml alone", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    expect((await s.run(["init", "--env", "production"])).code).toBe(0);
    const before = s.read("stellar.yaml");
    const rsa = await s.run(["members", "add", "carol", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC carol@host", "--env", "production"]);
    expect(rsa.code).toBe(19);
    expect(rsa.stderr).toContain("INVALID_MEMBER");
    expect(rsa.stderr).toContain("ssh-rsa");
    const bad = await s.run(["members", "add", "carol", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA", "--env", "production"]);
    expect(bad.code).toBe(19);
    expect(s.read("stellar.yaml")).toBe(before);
  });

  it("init ignores an SSH key in ~/.ssh and still makes (or uses) an age key for the first member", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    mkdirSync(join(s.home, ".ssh"), { recursive: true, mode: 0o700 });
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(s.home, ".ssh", "id_ed25519")], { stdio: "ignore" });
    expect((await s.run(["init", "--env", "production"])).code).toBe(0);
    expect(parse(s.read("stellar.yaml")).environments.production.members.alice).toMatch(/^age1/);
  });

  it("init --recipient takes an SSH key: the first member decrypts with ~/.ssh/id_ed25519 alone, and no age key is created", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    const dana = sshMember(s, "dana");
    const init = await s.run(["init", "--env", "production", "--member", "dana", "--recipient", dana.pub]);
    expect(init.stderr).toBe("");
    expect(init.code).toBe(0);
    expect(parse(s.read("stellar.yaml")).environments.production.members).toEqual({ dana: dana.normalized });
    expect(existsSync(s.defaultKeyFile)).toBe(false);
    expect((await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { env: asUser(dana.home), input: "v-dana" })).code).toBe(0);
    expect((await s.run(["get", "stripe_api_key", "--env", "production"], { env: asUser(dana.home) })).stdout).toBe("v-dana");
  });

  it("a passphrase-protected ~/.ssh/id_ed25519 is named as unusable when nothing else decrypts (NO_IDENTITY, exit 10)", async () => {
    const s = createSandbox();
    sandboxes.push(s);
    expect((await s.run(["init", "--env", "production"])).code).toBe(0);
    const carolHome = join(s.dir, "carol-home");
    mkdirSync(join(carolHome, ".ssh"), { recursive: true, mode: 0o700 });
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "a passphrase", "-f", join(carolHome, ".ssh", "id_ed25519")], { stdio: "ignore" });
    expect((await s.run(["set", "stripe_api_key", "--env", "production", "--from-stdin"], { input: "v" })).code).toBe(0);
    const r = await s.run(["get", "stripe_api_key", "--env", "production"], { env: asUser(carolHome) });
    expect(r.code).toBe(10);
    expect(r.stderr).toContain(`${join(carolHome, ".ssh", "id_ed25519")} (unusable: passphrase-protected)`);
  });
});
