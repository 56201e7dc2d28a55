/**
 * `buildReview` on in-memory states (no git, no disk): value changes, a re-encryption under the
 * same data key (a plain sops edit) told from a rotation, and removals without rotation.
 * Keys are made in memory for the test only.
 */
import { describe, expect, it } from "vitest";
import { parseEnvironmentFile, parseProjectConfig, WorkspaceIndex } from "../index.js";
import { decryptSecrets, encryptSecrets, generateIdentity, reencryptSecrets, rotateDataKey, updateKeys } from "@stellar-secrets/sops";
import { buildReview, fingerprint } from "./model.js";
import type { ReviewState } from "./state.js";

const FILE = "secrets/production.enc.yaml";

function state(label: string, members: Record<string, string>, text: string | undefined): ReviewState {
  const yaml = `version: 1\nenvironments:\n  production:\n    members:\n${Object.entries(members)
    .map(([n, r]) => `      ${n}: ${r}\n`)
    .join("")}`;
  const { config } = parseProjectConfig(yaml, "/p/stellar.yaml");
  if (config === undefined) throw new Error("bad test config");
  const index = new WorkspaceIndex(config);
  if (text !== undefined) index.setEnvironmentFile(parseEnvironmentFile(text, FILE, "production"));
  return { label, commit: undefined, index, diagnostics: [], checkWith: () => [], readText: (rel) => (rel === FILE ? text : undefined) };
}

async function setup(): Promise<{ alice: { identity: string; recipient: string }; bob: { identity: string; recipient: string }; base: string }> {
  const alice = await generateIdentity();
  const bob = await generateIdentity();
  const values = new Map([
    ["stripe_api_key", "s1"],
    ["hubspot_api_token", "h1"],
    ["slack_bot_token", "k1"],
  ]);
  return { alice, bob, base: await encryptSecrets(values, { recipients: [alice.recipient, bob.recipient] }) };
}

describe("buildReview", () => {
  it("fingerprints ENC strings with 8 hex digits of SHA-256", () => {
    expect(fingerprint("ENC[AES256_GCM,data:AA==,iv:BB==,tag:CC==,type:str]")).toMatch(/^[0-9a-f]{8}$/);
    expect(fingerprint("a")).toBe("ca978112");
  });

  it("tells one value change from a re-encryption under the same key and from a rotation", async () => {
    const { alice, bob, base } = await setup();
    const members = { alice: alice.recipient, bob: bob.recipient };
    const prev = await decryptSecrets(base, [alice.identity]);

    const one = await reencryptSecrets(prev, new Map([...prev.values, ["hubspot_api_token", "h2"]]));
    const r1 = buildReview(state("a", members, base), state("b", members, one)).environments[0];
    expect(r1).toMatchObject({ secrets: [{ name: "hubspot_api_token", change: "changed" }], dataKeyRotated: false, reencrypted: [] });

    // every value re-encrypted, same data key and wrapped keys (what a plain `sops edit` does)
    const stale = { ...prev, values: new Map([...prev.values].map(([k, v]) => [k, `${v}-old`])) };
    const sameKey = await reencryptSecrets(stale, prev.values);
    const r2 = buildReview(state("a", members, base), state("b", members, sameKey)).environments[0];
    expect(r2).toMatchObject({ secrets: [], dataKeyRotated: false, rotationUncertain: false });
    expect(r2?.reencrypted).toEqual(["hubspot_api_token", "slack_bot_token", "stripe_api_key"]);

    const rotated = await rotateDataKey(prev);
    const r3 = buildReview(state("a", members, base), state("b", members, rotated)).environments[0];
    expect(r3).toMatchObject({ secrets: [], dataKeyRotated: true, rotationUncertain: false });
  });

  it("flags a recipient removed without a rotation, also after a same-key re-encryption", async () => {
    const { alice, bob, base } = await setup();
    const prev = await decryptSecrets(base, [alice.identity]);
    const before = state("a", { alice: alice.recipient, bob: bob.recipient }, base);
    const after = { alice: alice.recipient };

    const rewrapped = await updateKeys(prev, [alice.recipient]);
    const r1 = buildReview(before, state("b", after, rewrapped));
    expect(r1.environments[0]?.recipients.lost).toEqual([{ recipient: bob.recipient, member: "bob" }]);
    expect(r1.problems.map((p) => `${p.kind} ${p.environment}`)).toEqual(["unrotated-removal production"]);
    expect(r1.clean).toBe(false);

    const stale = { ...prev, values: new Map([...prev.values].map(([k, v]) => [k, `${v}-old`])) };
    const sameKey = await reencryptSecrets(stale, prev.values, { recipients: [alice.recipient] });
    const r2 = buildReview(before, state("b", after, sameKey));
    expect(r2.environments[0]?.dataKeyRotated).toBe(false);
    expect(r2.problems.map((p) => p.kind)).toEqual(["unrotated-removal"]);

    const rotated = await rotateDataKey(prev, { recipients: [alice.recipient] });
    const r3 = buildReview(before, state("b", after, rotated));
    expect(r3.environments[0]).toMatchObject({ dataKeyRotated: true, members: { lost: [{ name: "bob", recipient: bob.recipient }] } });
    expect(r3.clean).toBe(true);
  });
});
