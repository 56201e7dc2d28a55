/**
 * The resolver loaded in a realm of its own, as jest runs each test file (jest-environment-node:
 * a vm context, and a CommonJS loader that compiles every module in it). The built entry
 * (`dist/bundle/index.cjs`, made by `node scripts/bundle.mjs`) must then run the bundle in that
 * realm: its errors `instanceof Error`, its promises and arrays the realm's own, as an app's tests
 * under jest check them (`expect(fn).toThrow(Error)`, `catch (e) { if (e instanceof Error) … }`).
 * In node's main realm it keeps its V8 code cache (test/code-cache-files.test.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { createContext, runInContext, type Context } from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import { encryptSecrets } from "../packages/sops/src/index.js";
import { tempDir, testKey } from "../packages/sops/test-fixtures/support.js";

const alice = testKey("alice");
const { dir, cleanup } = tempDir("resolver-realm-");
afterAll(cleanup);
const entry = resolve(import.meta.dirname, "../packages/resolver/dist/bundle/index.cjs");

/** A realm like jest's node environment: node's globals given in, and a loader compiling each module there. */
function jestLikeRealm(): { context: Context; requireIn: (path: string) => unknown } {
  const context = createContext({ process, Buffer, console, setTimeout, clearTimeout, setImmediate, clearImmediate, queueMicrotask, TextEncoder, TextDecoder, URL, performance });
  const cache = new Map<string, { exports: unknown }>();
  const requireFrom = (from: string) => (id: string): unknown => {
    if (id.startsWith("node:") || !id.startsWith(".")) return createRequire(from)(id);
    return load(resolve(dirname(from), id));
  };
  const load = (path: string): unknown => {
    const known = cache.get(path);
    if (known !== undefined) return known.exports;
    const module = { exports: {} };
    cache.set(path, module);
    const wrapper = runInContext(`(function (exports, require, module, __filename, __dirname) {${readFileSync(path, "utf8")}\n})`, context, { filename: path }) as (...args: unknown[]) => void;
    wrapper(module.exports, requireFrom(path), module, path, dirname(path));
    return module.exports;
  };
  return { context, requireIn: load };
}

describe("resolver in a realm of its own (jest)", () => {
  it("runs the bundle in that realm: errors instanceof its Error, its promises and arrays", async () => {
    const root = join(dir, "app");
    mkdirSync(join(root, "secrets"), { recursive: true });
    writeFileSync(join(root, "stellar.yaml"), "version: 1\nenvironments:\n  production: {}\n");
    writeFileSync(join(root, "secrets", "production.enc.yaml"), await encryptSecrets(new Map([["stripe_api_key", "sk_test_realm"]]), { recipients: [alice.recipient] }));

    const { context, requireIn } = jestLikeRealm();
    const api = requireIn(entry) as { createResolver: (o: object) => Promise<{ get(n: string): string; names(): string[] }>; ResolverError: new () => Error };
    context.api = api;
    context.options = { environment: "production", root, identities: alice.identity, env: {} };
    const outcome = (await runInContext(
      `(async () => {
        const pending = api.createResolver(options);
        const r = await pending;
        let thrown;
        try { r.get("stripe_api_kye"); } catch (e) { thrown = e; }
        const refused = await api.createResolver({ ...options, environment: "staging" }).then(() => undefined, (e) => e);
        return {
          value: r.get("stripe_api_key"),
          promiseHere: pending instanceof Promise,
          namesHere: r.names() instanceof Array,
          thrownCode: thrown?.code,
          thrownIsError: thrown instanceof Error,
          thrownIsResolverError: thrown instanceof api.ResolverError,
          refusedCode: refused?.code,
          refusedIsError: refused instanceof Error,
        };
      })()`,
      context,
    )) as Record<string, unknown>;
    expect(outcome).toEqual({
      value: "sk_test_realm",
      promiseHere: true,
      namesHere: true,
      thrownCode: "UNKNOWN_SECRET",
      thrownIsError: true,
      thrownIsResolverError: true,
      refusedCode: "UNKNOWN_ENVIRONMENT",
      refusedIsError: true,
    });
    // the main realm's Error is not this realm's: the check above could not pass by accident
    expect(runInContext("Error", context)).not.toBe(Error);
  });
});
