/**
 * age's ssh-ed25519 recipient type against the real tools: keys made per run with
 * `ssh-keygen -t ed25519 -N ""` (TEST-ONLY, in a temp dir); data keys we wrap are opened by
 * `age -d -i id_ed25519`, and files `age -R id_ed25519.pub` encrypts are opened by us.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decryptSecrets, encryptSecrets, findIdentities, identityToRecipient, normalizeRecipient, parseSecretsFile, unwrapDataKey, wrapDataKey } from "../packages/sops/src/index.js";
import { haveAgeCli, tempDir } from "../packages/sops/test-fixtures/support.js";

const HAS_SSH_KEYGEN = (() => {
  try {
    execFileSync("ssh-keygen", ["-?"], { stdio: "ignore" });
    return true;
  } catch (e) {
    // ssh-keygen -? exits non-zero but exists
    return (e as NodeJS.ErrnoException).code !== "ENOENT";
  }
})();
const AGE = haveAgeCli();

let dir = "";
let cleanup = () => {};
beforeAll(() => {
  ({ dir, cleanup } = tempDir("sops-ssh-"));
});
afterAll(() => cleanup());

function sshKeygen(name: string, passphrase = ""): { file: string; pub: string; text: string } {
  const file = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", passphrase, "-C", `${name}@test-only`, "-f", file], { stdio: "ignore" });
  return { file, pub: readFileSync(`${file}.pub`, "utf8").trim(), text: readFileSync(file, "utf8") };
}

describe.skipIf(!HAS_SSH_KEYGEN)("ssh-keygen keys", () => {
  it("an ssh-keygen ed25519 key parses, and its public key is the .pub line without the comment", async () => {
    const k = sshKeygen("parse");
    expect(await identityToRecipient(k.text)).toBe(normalizeRecipient(k.pub));
    expect(k.pub.endsWith("parse@test-only")).toBe(true);
  });

  it("a passphrase-protected ssh-keygen key is reported unusable by findIdentities", () => {
    const k = sshKeygen("locked", "a passphrase");
    const ids = findIdentities({ env: { SOPS_AGE_SSH_PRIVATE_KEY_FILE: k.file }, home: join(dir, "nohome") });
    expect(ids.identities).toEqual([]);
    expect(ids.sources.join("\n")).toContain(`SOPS_AGE_SSH_PRIVATE_KEY_FILE=${k.file} (unusable: passphrase-protected)`);
  });

  it.skipIf(!AGE)("`age -d -i id_ed25519` opens the data key we wrap to the .pub line", async () => {
    const k = sshKeygen("towards-age");
    const key = Buffer.from("0123456789abcdef0123456789abcdef");
    const enc = await wrapDataKey(key, k.pub);
    const out = execFileSync("age", ["-d", "-i", k.file], { input: enc, stdio: ["pipe", "pipe", "pipe"] });
    expect(out.equals(key)).toBe(true);
    // and every stanza of a whole secrets file written for two ssh members
    const k2 = sshKeygen("towards-age-2");
    const text = await encryptSecrets(new Map([["API_KEY", "v1"]]), { recipients: [k.pub, k2.pub] });
    const file = parseSecretsFile(text);
    const dataKey = (await decryptSecrets(text, [k.text])).dataKey;
    for (const [i, id] of [k.file, k2.file].entries()) {
      expect(execFileSync("age", ["-d", "-i", id], { input: file.metadata.age[i]!.enc, stdio: ["pipe", "pipe", "pipe"] }).equals(Buffer.from(dataKey))).toBe(true);
    }
  });

  it.skipIf(!AGE)("we open what `age -R id_ed25519.pub` encrypts, and only with that key", async () => {
    const k = sshKeygen("from-age");
    const other = sshKeygen("from-age-other");
    const pubFile = `${k.file}.pub`;
    const plain = join(dir, "plain.bin");
    writeFileSync(plain, Buffer.from("fedcba9876543210fedcba9876543210"));
    const enc = execFileSync("age", ["-a", "-R", pubFile, plain], { encoding: "utf8" });
    const got = await unwrapDataKey([{ recipient: "", enc }], [other.text, k.text]);
    expect(Buffer.from(got!).toString()).toBe("fedcba9876543210fedcba9876543210");
    expect(await unwrapDataKey([{ recipient: "", enc }], [other.text])).toBeUndefined();
  });
});
