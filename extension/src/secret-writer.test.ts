import { mkdirSync, mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { decryptSecrets, encryptSecrets, generateIdentity, openProposal, parseProposal } from "@stellar-secrets/sops";
import { writeFileSync } from "node:fs";
import { applyChanges, canWrite, SecretWriteError, writeProposal } from "./secret-writer.js";

describe("applyChanges (the extension's encrypted writes)", () => {
  let dir: string;
  let key: { identity: string; recipient: string };
  const saved = { SOPS_AGE_KEY: process.env.SOPS_AGE_KEY, SOPS_AGE_KEY_FILE: process.env.SOPS_AGE_KEY_FILE, HOME: process.env.HOME };
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "stellar-ext-"));
    key = await generateIdentity(); // TEST-ONLY key
    process.env.SOPS_AGE_KEY = key.identity;
    delete process.env.SOPS_AGE_KEY_FILE;
    process.env.HOME = dir;
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates the environment file for its recipients when there is none, value encrypted", async () => {
    const file = join(dir, "staging.enc.yaml");
    await applyChanges({ name: "staging", file, exists: false, recipients: [key.recipient] }, [{ name: "stripe_api_key", value: "sk_test_plain_1" }]);
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain("sk_test_plain_1");
    expect(text).toMatch(/^stripe_api_key: ENC\[AES256_GCM,/m);
    expect((await decryptSecrets(text, [key.identity])).values.get("stripe_api_key")).toBe("sk_test_plain_1");
  });

  it("edits an existing file in place, keeping the other values' ciphertext", async () => {
    const file = join(dir, "development.enc.yaml");
    writeFileSync(file, await encryptSecrets(new Map([["slack_bot_token", "xoxb-old"], ["legacy_webhook_secret", "w"]]), { recipients: [key.recipient] }));
    const before = readFileSync(file, "utf8");
    const slackLine = before.split("\n").find((l) => l.startsWith("slack_bot_token:"));
    await applyChanges({ name: "development", file, exists: true, recipients: [key.recipient] }, [
      { name: "hubspot_api_token", value: "hub-1" },
      { name: "legacy_webhook_secret", value: undefined },
    ]);
    const after = readFileSync(file, "utf8");
    expect(after.split("\n")).toContain(slackLine);
    expect(after).not.toContain("legacy_webhook_secret");
    expect(after).not.toContain("hub-1");
    const { values } = await decryptSecrets(after, [key.identity]);
    expect([...values.keys()]).toEqual(["slack_bot_token", "hubspot_api_token"]);
  });

  it("keeps a CRLF file's line breaks (a Windows checkout with core.autocrlf=false): every line stays CRLF", async () => {
    const file = join(dir, "development.enc.yaml");
    const lf = await encryptSecrets(new Map([["slack_bot_token", "xoxb-old"], ["legacy_webhook_secret", "w"]]), { recipients: [key.recipient] });
    writeFileSync(file, lf.replace(/\n/g, "\r\n"));
    const slackLine = lf.split("\n").find((l) => l.startsWith("slack_bot_token:"));
    await applyChanges({ name: "development", file, exists: true, recipients: [key.recipient] }, [
      { name: "hubspot_api_token", value: "hub-1" },
      { name: "legacy_webhook_secret", value: undefined },
    ]);
    const after = readFileSync(file, "utf8");
    expect(after).toContain(`${slackLine}\r\n`);
    expect(after.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
    expect([...(await decryptSecrets(after, [key.identity])).values]).toEqual([["slack_bot_token", "xoxb-old"], ["hubspot_api_token", "hub-1"]]);
  });

  it("fails with the sops error code, without the value, when no identity opens the file", async () => {
    const file = join(dir, "production.enc.yaml");
    const other = await generateIdentity();
    writeFileSync(file, await encryptSecrets(new Map([["stripe_api_key", "x"]]), { recipients: [other.recipient] }));
    const err = await applyChanges({ name: "production", file, exists: true, recipients: [other.recipient] }, [{ name: "stripe_api_key", value: "sk_live_never_in_messages" }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretWriteError);
    expect((err as SecretWriteError).code).toBe("NO_MATCHING_IDENTITY");
    expect((err as Error).message).toMatch(/^production: /);
    expect((err as Error).message).not.toContain("sk_live_never_in_messages");
  });

  it("stores no value under a name that looks like a credential, as `set` refuses it (the message does not repeat it); such a name can still be removed", async () => {
    const token = "ghp_TESTONLY0made0up0Zx9Qw8Er7Ty6Ui5Op4"; // TEST-ONLY, made up: a GitHub token's shape
    const file = join(dir, "development.enc.yaml");
    writeFileSync(file, await encryptSecrets(new Map([["slack_bot_token", "xoxb-old"], [token, "pasted-as-a-name"]]), { recipients: [key.recipient] }));
    const before = readFileSync(file, "utf8");
    const env = { name: "development", file, exists: true, recipients: [key.recipient] };
    for (const changes of [[{ name: token, value: "v" }], [{ name: "ok_name", value: "v" }, { name: token.toLowerCase(), value: "v" }]]) {
      const err = await applyChanges(env, changes).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SecretWriteError);
      expect((err as SecretWriteError).code).toBe("INVALID_SECRET_NAME");
      expect((err as SecretWriteError).message).toMatch(/looks like a GitHub token \(ghp_…\).*\[invalid-secret-name\]/);
      expect((err as SecretWriteError).message).not.toContain(token.slice(4, 16));
      expect(readFileSync(file, "utf8")).toBe(before);
    }
    // a new file is not created with it either, and no proposal is written under it
    const staging = join(dir, "staging.enc.yaml");
    await expect(applyChanges({ name: "staging", file: staging, exists: false, recipients: [key.recipient] }, [{ name: token, value: "v" }])).rejects.toMatchObject({ code: "INVALID_SECRET_NAME" });
    expect(existsSync(staging)).toBe(false);
    await expect(writeProposal({ name: "staging", file: staging, exists: false, recipients: [key.recipient] }, token, "v")).rejects.toMatchObject({ code: "INVALID_SECRET_NAME" });
    expect(existsSync(join(dir, "inbox"))).toBe(false);
    // removing it is how it goes
    await applyChanges(env, [{ name: token, value: undefined }]);
    expect([...(await decryptSecrets(readFileSync(file, "utf8"), [key.identity])).values.keys()]).toEqual(["slack_bot_token"]);
  });

  it("refuses to create a file nobody could decrypt", async () => {
    const file = join(dir, "qa.enc.yaml");
    const err = await applyChanges({ name: "qa", file, exists: false, recipients: [] }, [{ name: "stripe_api_key", value: "v" }]).catch((e: unknown) => e);
    expect((err as SecretWriteError).code).toBe("NO_RECIPIENTS");
    expect(existsSync(file)).toBe(false);
  });

  it("offers a proposal without a key: canWrite is false, and the proposal opens for the members only", async () => {
    const member = await generateIdentity(); // TEST-ONLY key
    const file = join(dir, "secrets", "production.enc.yaml");
    mkdirSync(join(dir, "secrets"));
    writeFileSync(file, await encryptSecrets(new Map([["slack_bot_token", "xoxb-old"]]), { recipients: [member.recipient] }));
    const env = { name: "production", file, exists: true, recipients: [member.recipient] };
    expect(await canWrite(env)).toBe(false);
    expect(await canWrite({ ...env, recipients: [key.recipient] , file: join(dir, "secrets", "new.enc.yaml"), exists: false })).toBe(true);
    const before = readFileSync(file, "utf8");
    const path = await writeProposal(env, "stripe_api_key", "sk_test_proposed");
    expect(path).toMatch(/secrets\/inbox\/production\/stripe_api_key\.[0-9a-f]{12}\.age$/);
    const text = readFileSync(path, "utf8");
    expect(text).not.toContain("sk_test_proposed");
    expect(await openProposal(parseProposal(text), [member.identity])).toBe("sk_test_proposed");
    await expect(openProposal(parseProposal(text), [key.identity])).rejects.toMatchObject({ code: "NO_MATCHING_IDENTITY" });
    expect(readFileSync(file, "utf8")).toBe(before);
  });
});
