import { describe, expect, it } from "vitest";
import { createDecipheriv } from "node:crypto";
import { canonicalFloat, canonicalTime, decodeB64Strict, decryptValue, encryptValue, encStringProblem, parseEnc } from "./values.js";

/** The definition decodeB64Strict keeps: the text decodes, and encoding the bytes gives it back. */
function reencodes(s: string): boolean {
  return s.length % 4 === 0 && Buffer.from(s, "base64").toString("base64") === s;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

describe("decodeB64Strict", () => {
  it("accepts exactly the texts that re-encode to themselves (every last group after a valid or an invalid first character, two prefixes)", () => {
    const chars = `${B64}=`;
    let accepted = 0;
    for (const prefix of ["", "QUJD"]) {
      for (const a of "A=") {
        for (const b of chars) {
          for (const c of chars) {
            for (const d of chars) {
              const s = `${prefix}${a}${b}${c}${d}`;
              const ok = decodeB64Strict(s) !== undefined;
              if (ok !== reencodes(s)) throw new Error(`disagrees on ${JSON.stringify(s)}: strict ${ok}`);
              if (ok) accepted++;
            }
          }
        }
      }
    }
    // 2 prefixes × one valid leading character × (64³ full groups + 64·16 `Abc=` + 4 `Ab==`)
    expect(accepted).toBe(2 * (64 ** 3 + 64 * 16 + 4));
  });

  it("agrees with the re-encoding definition on random texts with foreign characters", () => {
    const chars = `${B64}=-_ \n.é\u0000`;
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 20_000; i++) {
      let s = "";
      const len = rnd(14);
      for (let j = 0; j < len; j++) s += chars[rnd(chars.length)];
      expect(decodeB64Strict(s) !== undefined, JSON.stringify(s)).toBe(reencodes(s));
    }
  });

  it("decodes what it accepts to the bytes encoded", () => {
    for (let n = 0; n < 40; n++) {
      const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff));
      expect(decodeB64Strict(bytes.toString("base64"))?.equals(bytes)).toBe(true);
    }
  });
});

describe("decryptValue", () => {
  const key = Buffer.alloc(32, 7);
  it("round-trips and refuses a value moved to another name (the AAD)", () => {
    const enc = encryptValue(Buffer.from("s3cr3t-value"), key, "API_KEY:", "str");
    expect(decryptValue(enc, key, "API_KEY:").plaintext.toString()).toBe("s3cr3t-value");
    expect(() => decryptValue(enc, key, "OTHER_KEY:")).toThrow(/authentication check/);
  });
  it("refuses base64 with spare bits set or URL-safe characters, which would decode to the same bytes", () => {
    const enc = encryptValue(Buffer.from("abc"), key, "K:", "str");
    const m = /data:([^,]+),iv:([^,]+),tag:([^,]+),/.exec(enc)!;
    const tag = m[3]!; // 16 bytes: ends in `==`, the character before carries 4 spare bits
    const last = tag[tag.length - 3]!;
    const bumped = B64[B64.indexOf(last) + 1]!; // same decoded bytes, a spare bit set
    expect(Buffer.from(tag.slice(0, -3) + bumped + "==", "base64").equals(Buffer.from(tag, "base64"))).toBe(true);
    expect(() => decryptValue(enc.replace(`tag:${tag}`, `tag:${tag.slice(0, -3)}${bumped}==`), key, "K:")).toThrow(/invalid base64/);
    const iv = m[2]!;
    if (/[+/]/.test(iv)) expect(() => decryptValue(enc.replace(`iv:${iv}`, `iv:${iv.replace(/\+/g, "-").replace(/\//g, "_")}`), key, "K:")).toThrow(/invalid base64/);
  });

  /**
   * What decryptValue answered before its one-match way for the strings sops writes: the grammar
   * (parseEnc), the type, each part through decodeB64Strict, then the decipher. "ok:<hex>:<type>"
   * or "<code>:<message>".
   */
  function reference(enc: string, aad: string): string {
    const parts = parseEnc(enc);
    if (parts === undefined) return "MALFORMED_FILE:value is not a valid ENC[AES256_GCM,...] string";
    if (!["str", "int", "float", "bool", "time", "comment", "bytes"].includes(parts.type)) return `TAMPERED:value has unknown type "${parts.type.slice(0, 20)}"`;
    const [data, iv, tag] = [decodeB64Strict(parts.data), decodeB64Strict(parts.iv), decodeB64Strict(parts.tag)];
    if (data === undefined || iv === undefined || tag === undefined || iv.length === 0 || tag.length !== 16) return "TAMPERED:value has invalid base64 or a wrong IV/tag length";
    try {
      const d = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: 16 });
      d.setAAD(Buffer.from(aad));
      d.setAuthTag(tag);
      return `ok:${Buffer.concat([d.update(data), d.final()]).toString("hex")}:${parts.type}`;
    } catch {
      return "TAMPERED:value failed its authentication check (changed, or moved from another key)";
    }
  }
  const answer = (enc: string, aad: string): string => {
    try {
      const d = decryptValue(enc, key, aad);
      return `ok:${d.plaintext.toString("hex")}:${d.type}`;
    } catch (e) {
      const err = e as { code: string; message: string };
      return `${err.code}:${err.message}`;
    }
  };

  it("answers every mutation of written values as the general grammar does (the one-match way changes nothing)", () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const alphabet = `${B64}=,:[]-_ .\n`;
    let mutants = 0;
    let accepted = 0;
    for (let i = 0; i < 60; i++) {
      const plain = Buffer.from(`value-${i}-${"x".repeat(i % 7)}`);
      const types = ["str", "int", "bytes", "bool"] as const;
      const enc = encryptValue(plain, key, `K${i}:`, types[i % types.length]!);
      expect(answer(enc, `K${i}:`)).toBe(reference(enc, `K${i}:`));
      for (let j = 0; j < 40; j++) {
        let m = enc;
        for (let k = 0, edits = 1 + rand(3); k < edits; k++) {
          const at = rand(m.length + 1);
          const op = rand(3);
          const ch = alphabet[rand(alphabet.length)]!;
          m = op === 0 ? m.slice(0, at) + ch + m.slice(at + 1) : op === 1 ? m.slice(0, at) + ch + m.slice(at) : m.slice(0, at) + m.slice(at + 1);
        }
        if (j % 10 === 0) m = m.replace("type:str]", "type:str]]").replace(",tag:", j % 20 === 0 ? ",tag:,tag:" : ",tag:");
        mutants++;
        const got = answer(m, `K${i}:`);
        if (got.startsWith("ok:")) accepted++;
        expect(got, m).toBe(reference(m, `K${i}:`));
      }
    }
    expect(mutants).toBe(2400);
    expect(accepted).toBeGreaterThan(0); // some edits keep a decryptable value (the type, a same-bytes edit)
  });
});

describe("encStringProblem", () => {
  const key = new Uint8Array(32).fill(0x66);
  const enc = encryptValue(Buffer.from("foo"), key, "bar:", "str");

  it("finds nothing wrong with an ENC string a key may open (whatever the key)", () => {
    expect(encStringProblem(enc)).toBeUndefined();
    expect(encStringProblem(enc.replace("type:str", "type:int"))).toBeUndefined();
    expect(encStringProblem(enc.replace("type:str", "type:float"))).toBeUndefined();
    for (const text of ["True", "false", "1"]) expect(encStringProblem(encryptValue(Buffer.from(text), key, "bar:", "bool")), text).toBeUndefined();
    for (const text of ["2026-01-02T03:04:05Z", "2026-01-02T03:04:05.123456789+02:00"]) expect(encStringProblem(encryptValue(Buffer.from(text), key, "bar:", "time")), text).toBeUndefined();
    // a data character changed within the alphabet: only the key can tell
    expect(encStringProblem(enc.replace(/data:(.)/, (_, c: string) => `data:${c === "A" ? "B" : "A"}`))).toBeUndefined();
  });

  // found by the keyless fuzz (pnpm fuzz): the file alone proves these never decrypt, with any key
  it.each([
    ["a space in the IV", enc.replace(/iv:(.{5})/, "iv:$1 ")],
    ["a tab in the data", enc.replace(/data:(.)/, "data:$1\t")],
    ["base64 one character short", enc.replace(/,iv:(.)/, ",iv:")],
    ["non-canonical base64 (spare bits)", enc.replace(/tag:(.{21})(.)==/, (_, a: string, c: string) => `tag:${a}${c === "B" ? "C" : "B"}==`)],
    ["a tag that is not 16 bytes", enc.replace(/tag:[^,]+/, "tag:AAAAAAAAAAAAAAAAAAAAAAAAAAAA")],
    ["an empty IV", enc.replace(/iv:[^,]+/, "iv:")],
    ["a type sops does not know", enc.replace("type:str", "type:blob")],
    ["no ENC grammar", "ENC[AES256_GCM,data:abc]"],
    // the type is covered by no tag, but a bool or a time has few lengths: this 3-byte ciphertext is neither
    ["type:bool on 3 bytes", enc.replace("type:str", "type:bool")],
    ["type:time on 3 bytes", enc.replace("type:str", "type:time")],
  ])("says why no key opens an ENC string with %s", (_, raw) => {
    expect(encStringProblem(raw)).toEqual(expect.any(String));
  });

  it("reads a bool's or a time's length from the base64 alone, for every padding (1 to 40 bytes)", () => {
    for (let n = 1; n <= 40; n++) {
      const raw = encryptValue(Buffer.alloc(n, 0x31), key, "bar:", "str");
      const boolOk = n === 1 || n === 4 || n === 5;
      const timeOk = n >= 20 && n <= 35;
      expect(encStringProblem(raw.replace("type:str", "type:bool")) === undefined, `bool, ${n} bytes`).toBe(boolOk);
      expect(encStringProblem(raw.replace("type:str", "type:time")) === undefined, `time, ${n} bytes`).toBe(timeOk);
    }
  });
});

describe("canonicalTime", () => {
  it("reads RFC 3339 times and normalises them as Go's MarshalText does", () => {
    expect(canonicalTime("2026-01-02T03:04:05Z")).toBe("2026-01-02T03:04:05Z");
    expect(canonicalTime("2024-02-29T23:59:59.500+00:00")).toBe("2024-02-29T23:59:59.5Z");
    expect(canonicalTime("2026-01-02T03:04:05.9-04:00", true)).toBe("2026-01-02T03:04:05-04:00");
  });

  it("refuses dates and times that Go's time.Parse refuses (out of the calendar)", () => {
    for (const bad of [
      "2026-13-02T03:04:05Z", // month 13
      "2026-00-02T03:04:05Z", // month 0
      "2026-02-30T03:04:05Z", // February 30
      "2025-02-29T03:04:05Z", // not a leap year
      "1900-02-29T03:04:05Z", // century, not a leap year
      "2026-04-31T03:04:05Z", // April has 30 days
      "2026-01-00T03:04:05Z", // day 0
      "2026-01-02T25:04:05Z", // hour 25
      "2026-01-02T24:00:00Z", // hour 24
      "2026-01-02T03:60:05Z", // minute 60
      "2026-01-02T03:04:60Z", // leap second: Go refuses 60
      "2026-01-02T03:04:05+24:00", // offset hour 24
      "2026-01-02T03:04:05+01:60", // offset minute 60
    ]) {
      expect(canonicalTime(bad), bad).toBeUndefined();
    }
    expect(canonicalTime("2000-02-29T00:00:00Z")).toBe("2000-02-29T00:00:00Z"); // 400-year leap year
    expect(canonicalTime("2026-12-31T23:59:59+23:59")).toBe("2026-12-31T23:59:59+23:59");
  });

  it("refuses a lowercase t or z, as Go's time.Parse(RFC3339) does (its layout letters match exactly)", () => {
    for (const bad of ["2019-05-28t15:17:03z", "2019-05-28t15:17:03Z", "2019-05-28T15:17:03z", "2019-05-28t15:17:03+02:00"]) {
      expect(canonicalTime(bad), bad).toBeUndefined();
      expect(canonicalTime(bad, true), bad).toBeUndefined();
    }
    expect(canonicalTime("2019-05-28T15:17:03Z")).toBe("2019-05-28T15:17:03Z");
  });
});

describe("canonicalFloat (Go strconv.ParseFloat, then FormatFloat 'f' -1: what sops decrypts type:float to)", () => {
  it("reads hexadecimal floats, which ParseFloat accepts (a p exponent required)", () => {
    expect(canonicalFloat("0x1p-2")).toBe("0.25");
    expect(canonicalFloat("0X1.8P+1")).toBe("3");
    expect(canonicalFloat("-0x.8p1")).toBe("-1");
    expect(canonicalFloat("+0xAp0")).toBe("10");
    expect(canonicalFloat("0x0p0")).toBe("0");
    for (const bad of ["0x1p", "0x1.8", "0x", "0xp1", "0x1.2.3p0", "0x1e2", "0xgp0", "0x1p+", "0x1 p0"]) expect(canonicalFloat(bad), bad).toBeUndefined();
  });
  it("rounds a hexadecimal mantissa to the nearest float64, ties to even, subnormals included", () => {
    expect(canonicalFloat("0x1.0000000000000801p0")).toBe(String(1 + 2 ** -52));
    expect(canonicalFloat("0x1.00000000000008p0")).toBe("1"); // a tie: to the even mantissa
    expect(canonicalFloat("0x1.00000000000018p0")).toBe(String(1 + 2 ** -51));
    expect(canonicalFloat("0x1p-1074")).toBe(canonicalFloat("5e-324"));
    expect(canonicalFloat("0x3p-1076")).toBe(canonicalFloat("5e-324"));
    expect(canonicalFloat("0x1p-1075")).toBe("0");
    expect(canonicalFloat("0x1.fffffffffffffp1023")).toBe(canonicalFloat(String(Number.MAX_VALUE)));
  });
  it("refuses a finite text beyond float64's range (ErrRange: sops fails to decrypt), and reads one too small as 0", () => {
    for (const big of ["1e400", "-1e309", "0x1p1024", "0x1.fffffffffffff8p1023"]) expect(canonicalFloat(big), big).toBeUndefined();
    expect(canonicalFloat("1e-400")).toBe("0");
    expect(canonicalFloat("0x1p-99999")).toBe("0");
    expect(canonicalFloat("Inf")).toBe("+Inf");
    expect(canonicalFloat("-infinity")).toBe("-Inf");
    expect(canonicalFloat("NaN")).toBe("NaN");
    expect(canonicalFloat("-nan")).toBeUndefined();
  });
  it("takes underscores only between digits (or after 0x), as Go's literals", () => {
    expect(canonicalFloat("1_000.5")).toBe("1000.5");
    expect(canonicalFloat("0x_1p0")).toBe("1");
    expect(canonicalFloat("1e1_0")).toBe("10000000000");
    // (cases of Go's own strconv tests)
    expect(canonicalFloat("1_23.50_0_0e+1_2")).toBe("123500000000000");
    expect(canonicalFloat("0x_1_2.3_4_5p+1_2")).toBe("74565");
    for (const bad of ["-_123.5e+12", "123.5e-_12", "123.5__0e+12", "-_0x12.345p+12", "1p2"]) expect(canonicalFloat(bad), bad).toBeUndefined();
    for (const bad of ["_1", "1_", "1__0", "1_.5", "1._5", "0x1_p0", "1_e5", "1e_5"]) expect(canonicalFloat(bad), bad).toBeUndefined();
  });
  it("reads decimal floats as before", () => {
    expect(canonicalFloat("0.25")).toBe("0.25");
    expect(canonicalFloat("1e3")).toBe("1000");
    expect(canonicalFloat("-0")).toBe("-0");
    expect(canonicalFloat(".5")).toBe("0.5");
    expect(canonicalFloat("5.")).toBe("5");
    for (const bad of ["", " 1", "1 ", ".", "e5", "1e", "abc", "0b1", "1.2.3"]) expect(canonicalFloat(bad), bad).toBeUndefined();
  });
});
