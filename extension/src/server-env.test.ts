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

  it("keeps an editor's SOPS_AGE_KEY (a private key) out of the server and of what it runs: empty is sops' not set", async () => {
    const { findIdentities } = await import("@stellar-secrets/sops");
    // TEST-ONLY made-up key text: only its absence matters here
    const editor = { SOPS_AGE_KEY: "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ" };
    const server = { ...editor, ...serverProcessEnv() };
    expect(server.SOPS_AGE_KEY).toBe("");
    expect(findIdentities({ env: server, home: "/nonexistent-stellar-test" }).sources).toContain("SOPS_AGE_KEY (not set)");
  });
});
