// `usage` run in memory (its command module with a test context, no child process) on a checker
// fixture: text names files from the current directory, as check does; --json keeps the root's.
import { PassThrough } from "node:stream";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { CommandContext } from "../command.js";
import usage from "./usage.js";

const FIXTURE = join(fileURLToPath(new URL(".", import.meta.url)), "../../../../test/fixtures/checker/references");

async function runIn(cwd: string, argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = "";
  const ctx: CommandContext = {
    cwd,
    env: {},
    stdin: new PassThrough(),
    stdout: { write: (chunk) => ((stdout += String(chunk)), true) },
    stderr: { write: () => true },
  };
  const code = await usage.run(argv, ctx);
  return { code, stdout };
}

describe("usage", () => {
  it("prints files relative to the current directory in text, as check does, and relative to the root in --json", async () => {
    const atRoot = await runIn(FIXTURE, []);
    expect(atRoot.code).toBe(0);
    expect(atRoot.stdout).toMatch(/^ {2}actions\/ticket\.yaml:\d+ /m);
    const fromActions = await runIn(join(FIXTURE, "actions"), []);
    expect(fromActions.stdout).toMatch(/^ {2}ticket\.yaml:\d+ /m);
    expect(fromActions.stdout).toMatch(/^ {2}\.\.\/connectors\/\S+\.yaml:\d+ /m);
    expect(fromActions.stdout).not.toMatch(/^ {2}actions\//m);
    // the same lines, only the paths differ
    expect(fromActions.stdout.split("\n").length).toBe(atRoot.stdout.split("\n").length);
    const json = JSON.parse((await runIn(join(FIXTURE, "actions"), ["--json"])).stdout) as { secrets: { references: { file: string }[] }[] };
    const files = json.secrets.flatMap((s) => s.references.map((r) => r.file));
    expect(files).toContain("actions/ticket.yaml");
    expect(files.every((f) => !f.startsWith(".."))).toBe(true);
  });
});
