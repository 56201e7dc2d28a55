import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { serverProcessEnv } from "./server-env.js";

/** What `node -e 0` prints on stderr in `env` (node warns when it cannot load NODE_EXTRA_CA_CERTS). */
const startWarnings = (env: Record<string, string>): string =>
  spawnSync(process.execPath, ["-e", "0"], { env: { PATH: process.env.PATH ?? "", ...env }, encoding: "utf8" }).stderr;

describe("serverProcessEnv", () => {
  it("turns off an editor's NODE_EXTRA_CA_CERTS for the server: node then reads no certificate file at start", () => {
    const editor = { NODE_EXTRA_CA_CERTS: "/nonexistent-stellar-test/ca.pem" };
    expect(startWarnings(editor)).toContain("Ignoring extra certs from"); // node tries to read it
    // merged over the editor's environment, as vscode-languageclient merges a server's env
    expect(startWarnings({ ...editor, ...serverProcessEnv() })).toBe("");
  });
});
