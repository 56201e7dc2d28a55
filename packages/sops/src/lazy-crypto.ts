/**
 * The functions of `node:crypto` this package uses, loading the module on the first call instead
 * of at import: node's crypto module (with the stream code its ciphers load) costs a few
 * milliseconds at start, and the commands that only read names (`list`, `check`, the language
 * server's index) import this package without ever encrypting, decrypting or hashing.
 * Same signatures and behaviour as `node:crypto`'s; every module of this package imports them
 * from here.
 */
import type * as NodeCrypto from "node:crypto";

let loaded: typeof NodeCrypto | undefined;
/** `node:crypto`, loaded on first use (synchronously, through `process.getBuiltinModule`). */
function crypto(): typeof NodeCrypto {
  return (loaded ??= process.getBuiltinModule("node:crypto"));
}

/** A function of `node:crypto` that loads the module on its first call. */
function lazy<K extends "createCipheriv" | "createDecipheriv" | "createHash" | "createHmac" | "createPrivateKey" | "createPublicKey" | "diffieHellman" | "hkdfSync" | "timingSafeEqual">(name: K): (typeof NodeCrypto)[K] {
  return ((...args: unknown[]) => (crypto()[name] as (...a: unknown[]) => unknown)(...args)) as (typeof NodeCrypto)[K];
}

/** `node:crypto`'s `createCipheriv`. */
export const createCipheriv = lazy("createCipheriv");
/** `node:crypto`'s `createDecipheriv`. */
export const createDecipheriv = lazy("createDecipheriv");
/** `node:crypto`'s `createHash`. */
export const createHash = lazy("createHash");
/** `node:crypto`'s `createHmac`. */
export const createHmac = lazy("createHmac");
/** `node:crypto`'s `createPrivateKey`. */
export const createPrivateKey = lazy("createPrivateKey");
/** `node:crypto`'s `createPublicKey`. */
export const createPublicKey = lazy("createPublicKey");
/** `node:crypto`'s `diffieHellman`. */
export const diffieHellman = lazy("diffieHellman");
/** `node:crypto`'s `hkdfSync`. */
export const hkdfSync = lazy("hkdfSync");
/** `node:crypto`'s `timingSafeEqual`. */
export const timingSafeEqual = lazy("timingSafeEqual");
/** `node:crypto`'s `randomBytes` (the synchronous form only: this package never passes a callback). */
export const randomBytes = (size: number): Buffer => crypto().randomBytes(size);
/**
 * The SHA-256 of `text` (encoded as UTF-8), base64: `node:crypto`'s one-shot `hash` where the
 * running Node has it (20.12 and later: no Hash object per call), else `createHash`.
 */
export const sha256Base64 = (text: string): string => {
  const c = crypto() as typeof NodeCrypto & { hash?: (algorithm: string, data: string, encoding: "base64") => string };
  return c.hash !== undefined ? c.hash("sha256", text, "base64") : c.createHash("sha256").update(text, "utf8").digest("base64");
};
