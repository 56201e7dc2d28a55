import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encryptSecrets, generateIdentity, type Identities } from "@stellar-secrets/sops";
import { checkWriteAccess } from "./write-access.js";

const ids = (identities: string[]): Identities => ({ identities, sources: ["SOPS_AGE_KEY (test)"] });

describe("checkWriteAccess (before asking for a value)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "stellar-access-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("an existing file: ok when one identity unwraps its data key; NO_MATCHING_IDENTITY naming the person's public key otherwise", async () => {
    const member = await generateIdentity(); // TEST-ONLY
    const stranger = await generateIdentity(); // TEST-ONLY
    const file = join(dir, "production.enc.yaml");
    writeFileSync(file, await encryptSecrets(new Map([["stripe_key", "TEST-ONLY-value"]]), { recipients: [member.recipient] }));
    const env = { name: "production", file, exists: true, recipients: [member.recipient] };
    expect(await checkWriteAccess(env, ids([stranger.identity, member.identity]))).toEqual({ ok: true });
    const denied = await checkWriteAccess(env, ids([stranger.identity]));
    expect(denied.ok).toBe(false);
    if (denied.ok) return;
    expect(denied.code).toBe("NO_MATCHING_IDENTITY");
    expect(denied.message.length).toBeLessThan(80);
    expect(denied.detail).toContain(`stellar-secrets members add YOUR_NAME ${stranger.recipient} --env production`);
    expect(denied.detail).not.toContain(stranger.identity);
    expect(denied.detail).not.toContain("TEST-ONLY-value");
  });

  it("no identity at all: NO_IDENTITY with where it looked and age-keygen", async () => {
    const member = await generateIdentity(); // TEST-ONLY
    const file = join(dir, "development.enc.yaml");
    writeFileSync(file, await encryptSecrets(new Map([["a_key", "v"]]), { recipients: [member.recipient] }));
    const r = await checkWriteAccess({ name: "development", file, exists: true, recipients: [member.recipient] }, ids([]));
    expect(r.ok ? undefined : [r.code, r.message]).toEqual(["NO_IDENTITY", "No age key found: you cannot write development."]);
    expect(r.ok ? "" : r.detail).toMatch(/Looked in: SOPS_AGE_KEY \(test\)\.\n.*`mkdir -p \S+\/age && age-keygen -o \S+\/age\/keys\.txt`/);
  });

  it("a new file needs no key, only members", async () => {
    const file = join(dir, "qa.enc.yaml");
    expect(await checkWriteAccess({ name: "qa", file, exists: false, recipients: ["age1whatever"] }, ids([]))).toEqual({ ok: true });
    const r = await checkWriteAccess({ name: "qa", file, exists: false, recipients: [] }, ids([]));
    expect(r.ok ? undefined : r.code).toBe("NO_RECIPIENTS");
  });
});
