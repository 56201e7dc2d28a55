/**
 * The file I/O module in one process: atomic write (mode kept, no temp files left), create refuses
 * to overwrite, edits that fail leave the file and lock as they were, updatekeys/rotate on disk,
 * and no plaintext ever lands on disk. Multi-process behaviour is in test/sops-concurrency.test.ts.
 */
import { chmodSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  DecryptCache,
  SopsError,
  createSecretsFile,
  decryptSecrets,
  editSecretsFile,
  readSecretsFile,
  rotateFile,
  updateKeysFile,
  writeFileAtomic,
} from "./index.js";
import { tempDir, testKey } from "../test-fixtures/support.js";

const alice = testKey("alice");
const bob = testKey("bob");
let dir = "";
let cleanup = () => {};
beforeEach(() => {
  ({ dir, cleanup } = tempDir("sops-store-"));
});
afterEach(() => cleanup());

function allFileText(): string {
  return readdirSync(dir)
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isFile())
    .map((p) => readFileSync(p, "utf8"))
    .join("\n");
}
async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(SopsError);
    return (e as SopsError).code;
  }
}

describe("writeFileAtomic", () => {
  it("replaces the content, keeps the old file's mode, makes new files 0644, leaves no temp file", async () => {
    const p = join(dir, "f.yaml");
    await writeFileAtomic(p, "one\n");
    expect(readFileSync(p, "utf8")).toBe("one\n");
    expect(statSync(p).mode & 0o777).toBe(0o644 & ~process.umask());
    chmodSync(p, 0o600);
    await writeFileAtomic(p, new TextEncoder().encode("two\n"));
    expect(readFileSync(p, "utf8")).toBe("two\n");
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["f.yaml"]);
  });

  it("fails with IO_ERROR (not a raw errno) when the folder does not exist", async () => {
    expect(await code(writeFileAtomic(join(dir, "missing", "f.yaml"), "x"))).toBe("IO_ERROR");
  });

  it("on a full disk (a write that stops half-way with ENOSPC), leaves the old file whole and no partial temp file; editSecretsFile changes nothing", async () => {
    const { promises } = await import("node:fs");
    const p = join(dir, "dev.enc.yaml");
    await createSecretsFile(p, [alice.recipient], new Map([["A", "before-diskfull"]]));
    const before = readFileSync(p, "utf8");
    const realOpen = promises.open.bind(promises);
    // every file opened for writing takes half of what it is given, then the disk is full
    const spy = vi.spyOn(promises, "open").mockImplementation(async (...args: Parameters<typeof promises.open>) => {
      const handle = await realOpen(...args);
      const flags = args[1];
      if (typeof flags === "number" && (flags & 1) !== 0) {
        handle.writeFile = async (data: string | Uint8Array) => {
          const bytes = typeof data === "string" ? Buffer.from(data) : Buffer.from(data);
          await handle.write(bytes.subarray(0, bytes.length >> 1));
          throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
        };
      }
      return handle;
    });
    try {
      const failed = await writeFileAtomic(p, "replacement that does not fit\n").then(() => undefined, (e: unknown) => e as SopsError);
      expect(failed?.code).toBe("IO_ERROR");
      expect(failed?.message).toContain("ENOSPC");
      const edit = await editSecretsFile(p, [alice.identity], (values) => void values.set("A", "after-diskfull")).then(() => undefined, (e: unknown) => e as SopsError);
      expect(edit?.code).toBe("IO_ERROR");
    } finally {
      spy.mockRestore();
    }
    expect(readFileSync(p, "utf8")).toBe(before);
    expect(readdirSync(dir).filter((n) => !n.endsWith(".lock"))).toEqual(["dev.enc.yaml"]);
    expect((await decryptSecrets(readFileSync(p, "utf8"), [alice.identity])).values.get("A")).toBe("before-diskfull");
  });
});

describe("createSecretsFile / readSecretsFile", () => {
  it("creates a file (and its folder) that decrypts; refuses to overwrite an existing one", async () => {
    const p = join(dir, "secrets", "dev.enc.yaml");
    await createSecretsFile(p, [alice.recipient], new Map([["A", "created-leakcheck"]]));
    const f = await readSecretsFile(p);
    expect(f.entries.map((e) => e.name)).toEqual(["A"]);
    expect((await decryptSecrets(readFileSync(p, "utf8"), [alice.identity])).values.get("A")).toBe("created-leakcheck");
    const before = readFileSync(p, "utf8");
    const c = await code(createSecretsFile(p, [alice.recipient], new Map([["A", "other"]])));
    expect(c).toBeDefined();
    expect(readFileSync(p, "utf8")).toBe(before);
    expect(existsSync(`${p}.lock`)).toBe(false);
  });

  it("an empty file set is a valid encrypted file", async () => {
    const p = join(dir, "empty.enc.yaml");
    await createSecretsFile(p, [alice.recipient]);
    expect((await decryptSecrets(readFileSync(p, "utf8"), [alice.identity])).values.size).toBe(0);
  });

  it("a missing file is IO_ERROR naming the path", async () => {
    const p = join(dir, "nope.enc.yaml");
    const err = await readSecretsFile(p).then(() => undefined, (e: unknown) => e);
    expect((err as SopsError).code).toBe("IO_ERROR");
    expect((err as SopsError).message).toContain(p);
  });
});

describe("editSecretsFile", () => {
  it("applies the change, returns the verified state, and no plaintext reaches the disk", async () => {
    const p = join(dir, "e.enc.yaml");
    await createSecretsFile(p, [alice.recipient], new Map([["A", "plain-a-leakcheck"]]));
    const r = await editSecretsFile(p, [alice.identity], (v) => {
      v.set("B", "plain-b-leakcheck");
    });
    expect([...r.values]).toEqual([["A", "plain-a-leakcheck"], ["B", "plain-b-leakcheck"]]);
    const disk = allFileText();
    expect(disk).not.toContain("plain-a-leakcheck");
    expect(disk).not.toContain("plain-b-leakcheck");
    expect(readdirSync(dir)).toEqual(["e.enc.yaml"]);
  });

  it("with the wrong key: NO_MATCHING_IDENTITY, file unchanged, lock released, callback never called", async () => {
    const p = join(dir, "w.enc.yaml");
    await createSecretsFile(p, [alice.recipient], new Map([["A", "a"]]));
    const before = readFileSync(p, "utf8");
    let called = false;
    expect(
      await code(
        editSecretsFile(p, [bob.identity], () => {
          called = true;
        }),
      ),
    ).toBe("NO_MATCHING_IDENTITY");
    expect(called).toBe(false);
    expect(readFileSync(p, "utf8")).toBe(before);
    expect(existsSync(`${p}.lock`)).toBe(false);
  });

  it("on a tampered file: refuses (TAMPERED), writes nothing", async () => {
    const p = join(dir, "t.enc.yaml");
    await createSecretsFile(p, [alice.recipient], new Map([["A", "aaaa"], ["B", "bbbb"]]));
    const text = readFileSync(p, "utf8");
    const bad = text.replace(/^A: ENC\[AES256_GCM,data:(.)/m, (m, c: string) => m.slice(0, -1) + (c === "A" ? "B" : "A"));
    writeFileSync(p, bad);
    expect(
      await code(
        editSecretsFile(p, [alice.identity], (v) => {
          v.set("C", "c");
        }),
      ),
    ).toBe("TAMPERED");
    expect(readFileSync(p, "utf8")).toBe(bad);
  });

  it("a change that would write an invalid name is refused and the file is unchanged", async () => {
    const p = join(dir, "n.enc.yaml");
    await createSecretsFile(p, [alice.recipient], new Map([["A", "a"]]));
    const before = readFileSync(p, "utf8");
    const err = await editSecretsFile(p, [alice.identity], (v) => {
      v.set("sops", "x");
    }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SopsError);
    expect(readFileSync(p, "utf8")).toBe(before);
    expect(existsSync(`${p}.lock`)).toBe(false);
  });

  it("with the cache of an earlier read (set's check): same result, unchanged values keep their ciphertext", async () => {
    const p = join(dir, "c.enc.yaml");
    await createSecretsFile(p, [alice.recipient], new Map([["A", "aaaa"], ["B", "bbbb"]]));
    const before = readFileSync(p, "utf8");
    const cache = new DecryptCache();
    const first = await decryptSecrets(before, [alice.identity], { cache });
    first.values.set("A", "changed by the caller"); // a caller's map is its own
    const r = await editSecretsFile(p, [alice.identity], (v) => {
      expect(v.get("A")).toBe("aaaa");
      v.set("B", "b2");
    }, { cache });
    expect([...r.values]).toEqual([["A", "aaaa"], ["B", "b2"]]);
    const after = readFileSync(p, "utf8");
    expect([...(await decryptSecrets(after, [alice.identity])).values]).toEqual([["A", "aaaa"], ["B", "b2"]]);
    expect(/^A: .*$/m.exec(after)![0]).toBe(/^A: .*$/m.exec(before)![0]);
  });

  it("wipe() zeroes the data keys and plaintexts a cache holds, and a later read through it unwraps and decrypts afresh", async () => {
    const p = join(dir, "w.enc.yaml");
    await createSecretsFile(p, [alice.recipient], new Map([["A", "aaaa"], ["B", "bbbb"]]));
    const text = readFileSync(p, "utf8");
    const cache = new DecryptCache();
    const first = await decryptSecrets(text, [alice.identity], { cache });
    const key = first.dataKey;
    expect(key.some((b) => b !== 0)).toBe(true);
    // a second version with the same data key (one value changed): the key is known, A is decrypted once
    const second = await editSecretsFile(p, [alice.identity], (v) => v.set("B", "b2"), { cache });
    expect(second.dataKey).toBe(key);
    cache.wipe();
    expect(key.every((b) => b === 0)).toBe(true);
    // nothing of it is used again: the file still opens through the same cache, with the right values
    const again = await decryptSecrets(readFileSync(p, "utf8"), [alice.identity], { cache });
    expect(again.dataKey).not.toBe(key);
    expect(again.dataKey.some((b) => b !== 0)).toBe(true);
    expect([...again.values]).toEqual([["A", "aaaa"], ["B", "b2"]]);
    expect([...(await decryptSecrets(text, [alice.identity], { cache })).values]).toEqual([["A", "aaaa"], ["B", "bbbb"]]);
  });

  it("with the cache of an earlier read, a file changed since is verified again: a tampered one is refused, nothing written", async () => {
    const p = join(dir, "c2.enc.yaml");
    await createSecretsFile(p, [alice.recipient], new Map([["A", "aaaa"], ["B", "bbbb"]]));
    const text = readFileSync(p, "utf8");
    const cache = new DecryptCache();
    await decryptSecrets(text, [alice.identity], { cache });
    // the two values' ciphertexts swapped (the name is in each value's AAD: their tags fail)
    const a = /^A: (.*)$/m.exec(text)![1]!;
    const b = /^B: (.*)$/m.exec(text)![1]!;
    const swapped = text.replace(`A: ${a}`, `A: ${b}`).replace(`B: ${b}`, `B: ${a}`);
    writeFileSync(p, swapped);
    expect(await code(editSecretsFile(p, [alice.identity], (v) => v.set("C", "c"), { cache }))).toBe("TAMPERED");
    expect(readFileSync(p, "utf8")).toBe(swapped);
    // the MAC still guards a verified text that lost a value
    const dropped = text.replace(/^B: .*\n/m, "");
    writeFileSync(p, dropped);
    expect(await code(editSecretsFile(p, [alice.identity], (v) => v.set("C", "c"), { cache }))).toBe("MAC_MISMATCH");
    expect(readFileSync(p, "utf8")).toBe(dropped);
  });

  it("with recipients: adds a member (same data key), who can then decrypt", async () => {
    const p = join(dir, "r.enc.yaml");
    await createSecretsFile(p, [alice.recipient], new Map([["A", "a"]]));
    const r = await editSecretsFile(p, [alice.identity], () => {}, { recipients: [alice.recipient, bob.recipient] });
    expect(r.file.recipients).toEqual([alice.recipient, bob.recipient]);
    expect((await decryptSecrets(readFileSync(p, "utf8"), [bob.identity])).values.get("A")).toBe("a");
  });
});

describe("updateKeysFile / rotateFile", () => {
  it("updateKeysFile re-wraps for exactly the new recipients; rotateFile changes the data key", async () => {
    const p = join(dir, "u.enc.yaml");
    await createSecretsFile(p, [alice.recipient], new Map([["A", "a"], ["B", "b"]]));
    const d0 = await decryptSecrets(readFileSync(p, "utf8"), [alice.identity]);
    const d1 = await updateKeysFile(p, [alice.identity], [bob.recipient]);
    expect(Buffer.from(d1.dataKey).equals(Buffer.from(d0.dataKey))).toBe(true);
    expect(await code(decryptSecrets(readFileSync(p, "utf8"), [alice.identity]))).toBe("NO_MATCHING_IDENTITY");
    const d2 = await rotateFile(p, [bob.identity]);
    expect(Buffer.from(d2.dataKey).equals(Buffer.from(d0.dataKey))).toBe(false);
    expect([...(await decryptSecrets(readFileSync(p, "utf8"), [bob.identity])).values]).toEqual([["A", "a"], ["B", "b"]]);
    expect(readdirSync(dir)).toEqual(["u.enc.yaml"]);
  });
});
