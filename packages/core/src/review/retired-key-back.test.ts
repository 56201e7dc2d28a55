import { describe, expect, it } from "vitest";
import { retiredKeyBack, type KeyStep } from "./retired-key-back.js";

// test-only fake ciphertexts: a data key is told by its stanzas' envelopes (byte-for-byte), as sharedCiphertext tells it
const ALICE = "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq";
const CAROL = "age1zvkyg2lqzraa2lnjvqcxr8wtwvp4d6fe2mxrjyld9afnu9ek42ssz4r3wh";
const enc = (tag: string): string => `ENC[AES256_GCM,data:${Buffer.from(tag).toString("base64")},iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]`;
/** An environment file under data key `key` (its stanzas and every ciphertext carry the key's tag), for `recipients`, with value tags `values`. */
function file(key: string, recipients: string[], values: Record<string, string>, mac = `${key}-mac-${Object.values(values).join("")}`): string {
  const lines = Object.entries(values).map(([name, v]) => `${name}: ${enc(`${key}:${v}`)}`);
  lines.push("sops:", "    age:");
  for (const r of recipients) lines.push(`        - recipient: ${r}`, "          enc: |", "            -----BEGIN AGE ENCRYPTED FILE-----", `            ${Buffer.from(`${key}/${r}`).toString("base64")}`, "            -----END AGE ENCRYPTED FILE-----");
  lines.push('    lastmodified: "2026-01-01T00:00:00Z"', `    mac: ${enc(mac)}`, "    unencrypted_suffix: _unencrypted", "    version: 3.10.2", "");
  return lines.join("\n");
}

describe("retiredKeyBack", () => {
  const k1 = file("K1", [ALICE, CAROL], { a: "1" });
  const k1b = file("K1", [ALICE, CAROL], { a: "2" });
  const k2 = file("K2", [ALICE], { a: "2" });

  it("git revert of members rm (K1 -> K2 removing carol), the old file restored: the rotation is named, carol among those who could read it", () => {
    // newest first: rm carol rotated K1 -> K2; set under K1 before; init
    const steps: KeyStep[] = [
      { commit: "rm", date: "d3", parents: [k1b], after: k2 },
      { commit: "set", date: "d2", parents: [k1], after: k1b },
      { commit: "init", date: "d1", parents: [undefined], after: k1 },
    ];
    // members now (stellar.yaml): alice only; the restored file is K1's, carol's stanza included
    expect(retiredKeyBack(k1b, steps, [ALICE])).toEqual({ commit: "rm", date: "d3", proof: expect.stringContaining("byte-for-byte"), formerRecipients: [CAROL] });
    // the revert brought carol back into stellar.yaml too: nobody outside the members, still a retired key
    expect(retiredKeyBack(k1b, steps, [ALICE, CAROL])?.formerRecipients).toEqual([]);
  });

  it("nothing once rotated again, nor for the key in use after a plain rotation", () => {
    const k3 = file("K3", [ALICE], { a: "2" });
    const steps: KeyStep[] = [
      { commit: "rotate", date: "d3", parents: [k1b], after: k3 },
      { commit: "set", date: "d2", parents: [k1], after: k1b },
    ];
    expect(retiredKeyBack(k3, steps, [ALICE])).toBeUndefined();
    expect(retiredKeyBack(file("K3", [ALICE], { a: "2", b: "9" }, "other-mac"), steps, [ALICE])).toBeUndefined();
  });

  it("a side branch still under the old key, merged into the branch that rotated, is no rotation back (parent to child steps only, not date order)", () => {
    const side = file("K1", [ALICE, CAROL], { a: "1", b: "s" });
    const merged = file("K2", [ALICE], { a: "2", b: "s" });
    const steps: KeyStep[] = [
      // the merge re-encrypted the side's value under K2; the side's own set is dated after the rotation
      { commit: "merge", date: "d5", parents: [k2, side], after: merged },
      { commit: "side-set", date: "d4", parents: [k1], after: side },
      { commit: "rotate", date: "d3", parents: [k1], after: k2 },
      { commit: "init", date: "d1", parents: [undefined], after: k1 },
    ];
    expect(retiredKeyBack(merged, steps, [ALICE])).toBeUndefined();
  });

  it("a deletion or an unreadable version is no rotation", () => {
    const steps: KeyStep[] = [
      { commit: "broken", date: "d3", parents: [k1], after: "<<<<<<< HEAD\n" },
      { commit: "gone", date: "d2", parents: [k1], after: undefined },
    ];
    expect(retiredKeyBack(k1, steps, [ALICE, CAROL])).toBeUndefined();
  });
});
