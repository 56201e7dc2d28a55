/**
 * Finding age identities as sops 3.8+ does (spec §7): SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, then
 * $XDG_CONFIG_HOME/sops/age/keys.txt or ~/.config/sops/age/keys.txt, merged. `env` and `home` are
 * passed in, so nothing here reads the real environment or the real home directory.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  SopsError,
  decryptSecrets,
  defaultKeyFilePath,
  encryptSecrets,
  findIdentities,
  generateIdentity,
  identityToRecipient,
  isAgeRecipient,
  keyPathSource,
  looksLikeKeyMaterial,
  parseIdentityFile,
} from "./index.js";
import { assertNoLeak, haveAgeCli, openSshTestKey, tempDir, testKey } from "../test-fixtures/support.js";

const alice = testKey("alice");
const bob = testKey("bob");
const carol = testKey("carol");

let dir = "";
let cleanup = () => {};
beforeEach(() => {
  ({ dir, cleanup } = tempDir("sops-ids-"));
});
afterEach(() => cleanup());

function put(rel: string, text: string): string {
  const p = join(dir, rel);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, text, { mode: 0o600 });
  return p;
}

describe("parseIdentityFile", () => {
  it("reads age-keygen output: comment and blank lines skipped, CRLF tolerated", () => {
    expect(parseIdentityFile(readFileSync(alice.path, "utf8"), alice.path)).toEqual([alice.identity]);
    const text = `# created: x\r\n\r\n${alice.identity}\r\n\n# public key: ${bob.recipient}\n${bob.identity}`;
    expect(parseIdentityFile(text, "k.txt")).toEqual([alice.identity, bob.identity]);
    expect(parseIdentityFile("", "empty")).toEqual([]);
    expect(parseIdentityFile("# only comments\n", "c")).toEqual([]);
  });

  it("a bad line is reported with its source and line number, never with its content", () => {
    // A realistic mistake: a key with one character changed (checksum fails), on line 3.
    const broken = alice.identity.slice(0, -3) + (alice.identity.endsWith("Q") ? "P" : "Q") + alice.identity.slice(-2);
    const text = `# TEST-ONLY\n\n${broken}\n${bob.identity}\n`;
    let err: unknown;
    try {
      parseIdentityFile(text, "/home/test/keys.txt");
    } catch (e) {
      err = e;
    }
    // refused as a broken key (its checksum), not taken for a key that is no member's
    expect(err).toBeInstanceOf(SopsError);
    const msg = (err as Error).message;
    expect(msg).toContain("/home/test/keys.txt");
    expect(msg).toMatch(/\b3\b/);
    expect(msg).toMatch(/checksum does not match/);
    assertNoLeak(err, [broken, broken.slice(14, 40), bob.identity, alice.identity]);
  });

  it("a line that is not a key at all (e.g. a public key pasted by mistake) is refused with source + line", () => {
    let err: unknown;
    try {
      parseIdentityFile(`${alice.identity}\n${bob.recipient}\n`, "SOPS_AGE_KEY");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SopsError);
    expect((err as Error).message).toContain("SOPS_AGE_KEY");
    expect((err as Error).message).toMatch(/\b2\b/);
    assertNoLeak(err, [alice.identity]);
  });
});

describe("defaultKeyFilePath", () => {
  it("uses $XDG_CONFIG_HOME when set and non-empty, else ~/.config", () => {
    expect(defaultKeyFilePath({ env: { XDG_CONFIG_HOME: "/x/cfg" }, home: "/home/u" })).toBe("/x/cfg/sops/age/keys.txt");
    expect(defaultKeyFilePath({ env: {}, home: "/home/u" })).toBe("/home/u/.config/sops/age/keys.txt");
    expect(defaultKeyFilePath({ env: { XDG_CONFIG_HOME: "" }, home: "/home/u" })).toBe("/home/u/.config/sops/age/keys.txt");
  });
});

describe("findIdentities", () => {
  it("notes SOPS_AGE_KEY_CMD and SOPS_AGE_SSH_PRIVATE_KEY_CMD as set and not run (sops 3.10+ runs them; nothing here runs a command)", () => {
    const r = findIdentities({ env: { SOPS_AGE_KEY_CMD: "pass show age-key", SOPS_AGE_SSH_PRIVATE_KEY_CMD: "op read x" }, home: dir });
    expect(r.identities).toEqual([]);
    expect(r.sources).toContain("SOPS_AGE_KEY_CMD (set, not run: no command is run for a key)");
    expect(r.sources).toContain("SOPS_AGE_SSH_PRIVATE_KEY_CMD (set, not run: no command is run for a key)");
    expect(r.problems?.find((p) => p.startsWith("SOPS_AGE_KEY_CMD is set"))).toContain('SOPS_AGE_KEY="$(…)"');
    expect(JSON.stringify(r)).not.toContain("pass show");
    expect(findIdentities({ env: {}, home: dir }).sources.join(";")).not.toContain("_CMD");
  });
  it("SOPS_AGE_KEY alone (several lines, comments skipped)", () => {
    const r = findIdentities({ env: { SOPS_AGE_KEY: `# c\n${alice.identity}\n\n${bob.identity}\n` }, home: dir });
    expect(r.identities).toEqual([alice.identity, bob.identity]);
    expect(r.sources.join("\n")).toContain("SOPS_AGE_KEY");
    assertNoLeak({ message: r.sources.join("\n") }, [alice.identity, bob.identity]);
  });

  it("says where each identity was found (origins, same index; the first source wins for a key found twice)", () => {
    const f = put("elsewhere/k.txt", readFileSync(bob.path, "utf8"));
    const ssh = openSshTestKey();
    put(".ssh/id_ed25519", ssh.privateText);
    put(".config/sops/age/keys.txt", `${alice.identity}\n`);
    const r = findIdentities({ env: { SOPS_AGE_KEY: alice.identity, SOPS_AGE_KEY_FILE: f }, home: dir });
    expect(r.identities).toEqual([alice.identity, bob.identity, ssh.privateText]);
    expect(r.origins).toEqual(["SOPS_AGE_KEY", `SOPS_AGE_KEY_FILE=${f}`, join(dir, ".ssh", "id_ed25519")]);
    assertNoLeak({ message: (r.origins ?? []).join("\n") }, [alice.identity, bob.identity, ssh.privateText]);
  });

  it("SOPS_AGE_KEY with several space-separated keys on one line (sops 3.13)", () => {
    const r = findIdentities({ env: { SOPS_AGE_KEY: `${alice.identity} ${bob.identity}` }, home: dir });
    expect(r.identities).toEqual([alice.identity, bob.identity]);
  });

  it("SOPS_AGE_KEY_FILE alone", () => {
    const f = put("elsewhere/k.txt", readFileSync(bob.path, "utf8"));
    const r = findIdentities({ env: { SOPS_AGE_KEY_FILE: f }, home: dir });
    expect(r.identities).toEqual([bob.identity]);
    expect(r.sources.join("\n")).toContain(f);
  });

  it("$XDG_CONFIG_HOME/sops/age/keys.txt, and ~/.config is then not used", () => {
    put("xdg/sops/age/keys.txt", readFileSync(carol.path, "utf8"));
    put("home/.config/sops/age/keys.txt", readFileSync(alice.path, "utf8"));
    const r = findIdentities({ env: { XDG_CONFIG_HOME: join(dir, "xdg") }, home: join(dir, "home") });
    expect(r.identities).toEqual([carol.identity]);
    expect(r.sources.join("\n")).toContain(join(dir, "xdg/sops/age/keys.txt"));
  });

  it("~/.config/sops/age/keys.txt under the given home when XDG_CONFIG_HOME is unset", () => {
    put("home/.config/sops/age/keys.txt", readFileSync(alice.path, "utf8"));
    const r = findIdentities({ env: {}, home: join(dir, "home") });
    expect(r.identities).toEqual([alice.identity]);
  });

  it("merges all sources in sops order: SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, default file", () => {
    const f = put("k.txt", readFileSync(bob.path, "utf8"));
    put("xdg/sops/age/keys.txt", readFileSync(carol.path, "utf8"));
    const r = findIdentities({ env: { SOPS_AGE_KEY: alice.identity, SOPS_AGE_KEY_FILE: f, XDG_CONFIG_HOME: join(dir, "xdg") }, home: dir });
    expect(r.identities).toEqual([alice.identity, bob.identity, carol.identity]);
    const src = r.sources.join("\n");
    expect(src).toContain("SOPS_AGE_KEY");
    expect(src).toContain(f);
    expect(src).toContain(join(dir, "xdg/sops/age/keys.txt"));
  });

  it("nothing anywhere → no identities, and sources say where it looked", () => {
    const r = findIdentities({ env: {}, home: join(dir, "nohome") });
    expect(r.identities).toEqual([]);
    expect(r.sources.join("\n")).toContain(join(dir, "nohome/.config/sops/age/keys.txt"));
  });

  it("a source with a bad line is reported with its source (no key material); good sources still count", () => {
    const bad = put("bad.txt", `${alice.identity}\nAGE-SECRET-KEY-1NOTAREALKEYATALLXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n`);
    put("home/.config/sops/age/keys.txt", readFileSync(carol.path, "utf8"));
    let r: ReturnType<typeof findIdentities> | undefined;
    let err: unknown;
    try {
      r = findIdentities({ env: { SOPS_AGE_KEY_FILE: bad }, home: join(dir, "home") });
    } catch (e) {
      err = e;
    }
    if (err !== undefined) {
      // Failing outright is sops 3.8–3.10 behaviour; then the error must name the source.
      expect(err).toBeInstanceOf(SopsError);
      expect((err as Error).message).toContain(bad);
      assertNoLeak(err, [alice.identity, carol.identity, "NOTAREALKEYATALL"]);
      return;
    }
    expect(r!.identities).toContain(carol.identity);
    const report = [...r!.sources, ...((r as { problems?: string[] }).problems ?? [])].join("\n");
    expect(report).toContain(bad);
    assertNoLeak({ message: report }, [alice.identity, carol.identity, "NOTAREALKEYATALL"]);
  });

  it("an unusable source says why where it is listed: the line, and a public key given instead of the private one", () => {
    const pub = put("pub.txt", `# created: 2026-01-01\n${bob.recipient}\n`);
    const r = findIdentities({ env: { SOPS_AGE_KEY_FILE: pub, SOPS_AGE_KEY: "AGE-SECRET-KEY-1NOTAREALKEYATALL" }, home: join(dir, "home") });
    expect(r.identities).toEqual([]);
    expect(r.sources).toContain("SOPS_AGE_KEY (unusable: line 1: not an age identity (expected AGE-SECRET-KEY-1…))");
    expect(r.sources).toContain(
      `SOPS_AGE_KEY_FILE=${pub} (unusable: line 2: a public key, not an age identity (the key file needs the private AGE-SECRET-KEY-1… line, not the age1… public key))`,
    );
    assertNoLeak({ message: r.sources.join("\n") }, ["NOTAREALKEYATALL"]);
  });

  it("a private key given where a key file's path belongs (SOPS_AGE_KEY_FILE, SOPS_AGE_SSH_PRIVATE_KEY_FILE) is named, never shown or read as a path", () => {
    const pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n";
    const r = findIdentities({ env: { SOPS_AGE_KEY_FILE: alice.identity, SOPS_AGE_SSH_PRIVATE_KEY_FILE: pem }, home: join(dir, "home") });
    expect(r.identities).toEqual([]);
    expect(r.sources).toContain("SOPS_AGE_KEY_FILE (holds a private key, not a file path; not shown)");
    expect(r.sources).toContain("SOPS_AGE_SSH_PRIVATE_KEY_FILE (holds a private key, not a file path; not shown)");
    expect(r.problems?.join("\n")).toContain("SOPS_AGE_KEY_FILE holds a private key, not the path of a key file (not shown); set SOPS_AGE_KEY to the key instead");
    assertNoLeak({ message: [...r.sources, ...(r.problems ?? [])].join("\n") }, [alice.identity.slice(16, 50), alice.identity.toLowerCase().slice(16, 50), "b3BlbnNzaC1rZXktdjEAAAAABG5vbmU"]);
    // the same key in lower case (bech32 allows it), and a path that is a path, are told apart
    expect(looksLikeKeyMaterial(alice.identity.toLowerCase())).toBe(true);
    expect(looksLikeKeyMaterial("AGE-PLUGIN-YUBIKEY-1QQQQQ")).toBe(true);
    expect(looksLikeKeyMaterial("/run/secrets/age-key")).toBe(false);
    expect(keyPathSource("SOPS_AGE_KEY_FILE", "/run/secrets/age-key")).toBe("SOPS_AGE_KEY_FILE=/run/secrets/age-key");
  });

  it("a key file that cannot be read says why (a folder), never just \"unreadable\"", () => {
    mkdirSync(join(dir, "keys-folder"));
    const r = findIdentities({ env: { SOPS_AGE_KEY_FILE: join(dir, "keys-folder") }, home: join(dir, "home") });
    expect(r.sources).toContain(`SOPS_AGE_KEY_FILE=${join(dir, "keys-folder")} (unreadable: a folder, not a file)`);
  });

  it("with the wrong key found, the error names the file's recipients and the key file searched", async () => {
    const kf = put("home/.config/sops/age/keys.txt", readFileSync(bob.path, "utf8"));
    const text = await encryptSecrets(new Map([["K", "v-leakcheck"]]), { recipients: [alice.recipient, carol.recipient] });
    const ids = findIdentities({ env: {}, home: join(dir, "home") });
    const err = await decryptSecrets(text, ids, { path: "secrets/production.enc.yaml" }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SopsError);
    expect((err as SopsError).code).toBe("NO_MATCHING_IDENTITY");
    const msg = (err as SopsError).message;
    expect(msg).toContain(alice.recipient);
    expect(msg).toContain(carol.recipient);
    expect(msg).toContain(kf);
    expect(msg).toContain("secrets/production.enc.yaml");
    assertNoLeak(err, ["v-leakcheck", alice.identity, bob.identity, carol.identity]);
  });

  it("with no key anywhere, NO_IDENTITY says where it looked", async () => {
    const text = await encryptSecrets(new Map([["K", "v"]]), { recipients: [alice.recipient] });
    const ids = findIdentities({ env: { XDG_CONFIG_HOME: join(dir, "xdg") }, home: join(dir, "home") });
    const err = await decryptSecrets(text, ids).then(() => undefined, (e: unknown) => e);
    expect((err as SopsError).code).toBe("NO_IDENTITY");
    const all = `${(err as SopsError).message}\n${(err as SopsError).hint ?? ""}`;
    expect(all).toContain(join(dir, "xdg/sops/age/keys.txt"));
    expect(all).toContain("SOPS_AGE_KEY_FILE");
  });

  it("identities found end to end open a file written for that recipient", async () => {
    put("home/.config/sops/age/keys.txt", readFileSync(bob.path, "utf8"));
    const text = await encryptSecrets(new Map([["K", "v"]]), { recipients: [bob.recipient] });
    const ids = findIdentities({ env: {}, home: join(dir, "home") });
    expect((await decryptSecrets(text, ids)).values.get("K")).toBe("v");
  });
});

describe("generateIdentity / identityToRecipient / isAgeRecipient", () => {
  it("a generated identity's recipient matches age-keygen -y, and it opens files written to it", async () => {
    const { identity, recipient } = await generateIdentity();
    expect(identity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
    expect(isAgeRecipient(recipient)).toBe(true);
    expect(await identityToRecipient(identity)).toBe(recipient);
    if (haveAgeCli()) {
      const f = put("gen.txt", `${identity}\n`);
      expect(execFileSync("age-keygen", ["-y", f]).toString().trim()).toBe(recipient);
    }
    const text = await encryptSecrets(new Map([["K", "v"]]), { recipients: [recipient] });
    expect((await decryptSecrets(text, [identity])).values.get("K")).toBe("v");
  });

  it("identityToRecipient agrees with the committed test keys", async () => {
    for (const k of [alice, bob, carol]) expect(await identityToRecipient(k.identity)).toBe(k.recipient);
  });

  it("identityToRecipient refuses garbage with a SopsError that does not echo it", async () => {
    const garbage = "AGE-SECRET-KEY-1GARBAGEGARBAGEGARBAGE";
    const err = await identityToRecipient(garbage).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SopsError);
    assertNoLeak(err, [garbage]);
  });

  it("isAgeRecipient accepts age1 X25519 recipients only in their exact form", () => {
    for (const k of [alice, bob, carol]) expect(isAgeRecipient(k.recipient)).toBe(true);
    expect(isAgeRecipient("")).toBe(false);
    expect(isAgeRecipient(alice.recipient.slice(0, -1))).toBe(false);
    expect(isAgeRecipient(alice.recipient.toUpperCase())).toBe(false);
    expect(isAgeRecipient(` ${alice.recipient}`)).toBe(false);
    expect(isAgeRecipient(alice.identity)).toBe(false);
    expect(isAgeRecipient("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGarbage")).toBe(false);
  });
});

describe("SSH keys as identities (sops 3.10+: SOPS_AGE_SSH_PRIVATE_KEY_FILE, ~/.ssh/id_ed25519)", () => {
  it("~/.ssh/id_ed25519 under the given home decrypts a file wrapped to its public key; age identities come first", async () => {
    const key = openSshTestKey();
    put("home/.ssh/id_ed25519", key.privateText);
    put("home/.config/sops/age/keys.txt", readFileSync(alice.path, "utf8"));
    const ids = findIdentities({ env: {}, home: join(dir, "home") });
    expect(ids.identities).toEqual([alice.identity, key.privateText]);
    expect(ids.sources).toContain(`${join(dir, "home/.ssh/id_ed25519")} (1 SSH key)`);
    assertNoLeak({ message: ids.sources.join("\n") }, [key.privateText.split("\n")[1]!.slice(0, 40)]);
    const text = await encryptSecrets(new Map([["K", "v-ssh"]]), { recipients: [key.publicLine] });
    expect((await decryptSecrets(text, ids)).values.get("K")).toBe("v-ssh");
  });

  it("SOPS_AGE_SSH_PRIVATE_KEY_FILE is read (and a missing one is a problem, not a crash); the same key twice counts once", () => {
    const key = openSshTestKey();
    const f = put("elsewhere/deploy_key", key.privateText);
    put("home/.ssh/id_ed25519", key.privateText);
    const ids = findIdentities({ env: { SOPS_AGE_SSH_PRIVATE_KEY_FILE: f }, home: join(dir, "home") });
    expect(ids.identities).toEqual([key.privateText]);
    expect(ids.sources.join("\n")).toContain(`SOPS_AGE_SSH_PRIVATE_KEY_FILE=${f} (1 SSH key)`);
    const missing = findIdentities({ env: { SOPS_AGE_SSH_PRIVATE_KEY_FILE: join(dir, "nope") }, home: join(dir, "nohome") });
    expect(missing.identities).toEqual([]);
    expect(missing.problems!.join("\n")).toContain(join(dir, "nope"));
  });

  it("a passphrase-protected or ssh-rsa key is noted as unusable, without key material", () => {
    const enc = openSshTestKey({ cipher: "aes256-ctr" });
    put("home/.ssh/id_ed25519", enc.privateText);
    put("home/.ssh/id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\nnot read\n-----END OPENSSH PRIVATE KEY-----\n");
    const ids = findIdentities({ env: {}, home: join(dir, "home") });
    expect(ids.identities).toEqual([]);
    const report = [...ids.sources, ...(ids.problems ?? [])].join("\n");
    expect(report).toContain(`${join(dir, "home/.ssh/id_ed25519")} (unusable: passphrase-protected)`);
    expect(report).toContain(`${join(dir, "home/.ssh/id_rsa")} (not used: ssh-rsa keys are not supported)`);
    assertNoLeak({ message: report }, [enc.privateText.split("\n")[1]!.slice(0, 40)]);
  });
});
