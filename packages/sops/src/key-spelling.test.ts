import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { bech32Encode } from "./age-native.js";
import { edwardsToMontgomery } from "./ssh.js";
import { ageFormsOfSshKeys } from "./key-spelling.js";

describe("ageFormsOfSshKeys", () => {
  it("pairs an ssh-ed25519 key with its age1… form (computed as ssh-to-age does) and nothing else", () => {
    const keys = [0, 1, 2].map(() => {
      const { publicKey } = generateKeyPairSync("ed25519");
      const ed = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
      const wire = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
      return { ssh: `ssh-ed25519 ${Buffer.concat([wire(Buffer.from("ssh-ed25519")), wire(ed)]).toString("base64")} a@b`, age: bech32Encode("age", edwardsToMontgomery(ed)!) };
    });
    expect(ageFormsOfSshKeys([keys[2]!.age, keys[0]!.age, "not a key"], [keys[0]!.ssh, keys[1]!.ssh, "ssh-ed25519 AAAA"])).toEqual([
      [1, 0],
    ]);
    expect(ageFormsOfSshKeys([], [keys[0]!.ssh])).toEqual([]);
  });
});
