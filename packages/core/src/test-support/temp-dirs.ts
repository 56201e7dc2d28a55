/**
 * Test-only (not built: core's tsconfig leaves test-support out): temp folders of the running test,
 * removed after it, a failing assertion included. Call at a test file's top level; the function it
 * returns makes a folder under the system's temp folder with `prefix`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";

export function useTempDirs(): (prefix: string) => string {
  const temps: string[] = [];
  afterEach(() => {
    for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return (prefix) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    temps.push(dir);
    return dir;
  };
}
