/**
 * Test support for @stellar-secrets/resolver (test-only; not built, not packed).
 * Keys are generated per test run with `generateIdentity` (TEST-ONLY, never written outside temp dirs).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { encryptSecrets, generateIdentity } from "@stellar-secrets/sops";
import { expect } from "vitest";

/** Re-exported for tests outside this package (the root does not depend on the sops package). */
export { encryptSecrets, generateIdentity } from "@stellar-secrets/sops";

const here = dirname(fileURLToPath(import.meta.url));

/** The repository root (…/main). */
export const REPO_ROOT = resolve(here, "../../..");

/** `../shared/interop/sops-fixtures`, present for developers and CI, absent in a user's clone. */
export const FIXTURES_DIR = resolve(REPO_ROOT, "../shared/interop/sops-fixtures");

/** A generated TEST-ONLY age key pair. */
export interface TestKey {
  identity: string;
  recipient: string;
}

/** A fresh TEST-ONLY age key pair. */
export async function testKey(): Promise<TestKey> {
  return generateIdentity();
}

/** The text of a key file holding `key`, labelled as the team rules require. */
export function keyFileText(key: TestKey): string {
  return `# TEST-ONLY key, never use for real secrets\n# public key: ${key.recipient}\n${key.identity}\n`;
}

/** A fresh temp dir and its cleanup. */
export function tempDir(prefix = "resolver-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A secrets repository in a temp dir: `secrets/<env>.enc.yaml` per environment, each encrypted to `recipients`. */
export async function makeRepo(
  environments: Record<string, ReadonlyMap<string, string>>,
  recipients: string[],
): Promise<{ root: string; file: (env: string) => string; cleanup: () => void }> {
  const { dir, cleanup } = tempDir();
  mkdirSync(join(dir, "secrets"));
  for (const [env, values] of Object.entries(environments)) {
    writeFileSync(join(dir, "secrets", `${env}.enc.yaml`), await encryptSecrets(values, { recipients }));
  }
  return { root: dir, file: (env) => join(dir, "secrets", `${env}.enc.yaml`), cleanup };
}

/** Every string reachable from an error: message, stack, own fields, the whole cause chain. */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  let e: unknown = error;
  while (e !== undefined && e !== null && !seen.has(e)) {
    seen.add(e);
    if (e instanceof Error) {
      parts.push(e.message, e.stack ?? "");
      for (const key of Object.keys(e)) parts.push(`${key}=${JSON.stringify((e as unknown as Record<string, unknown>)[key])}`);
      e = e.cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join("\n");
}

/** Fails when any of `secrets` appears in anything the error carries. */
export function assertNoLeak(error: unknown, secrets: readonly string[]): void {
  const text = errorText(error);
  for (const s of secrets) expect(text.includes(s), `error text leaks a secret value (${s.length} chars)`).toBe(false);
}

/** Runs `fn` and returns what it throws (or rejects with); fails if it does not. */
export async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error, but the call succeeded");
}
