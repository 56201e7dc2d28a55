/**
 * Write-only proposals, in memory: written to members' public keys, opened by a member, not by the
 * proposer; clear fields bound to the ciphertext; tampered, truncated and mis-listed files refused.
 * Keys are made per run (TEST-ONLY), the committed test keys for the `age` CLI interop.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateIdentity } from "./age.js";
import { isSopsError } from "./errors.js";
import { createProposal, openProposal, parseProposal, proposalEnvelopeProblem } from "./proposal.js";
import { haveAgeCli, openSshTestKey, tempDir, testKey } from "../test-fixtures/support.js";

const AT = new Date("2026-12-03T08:00:00.000Z");

async function people() {
  const bob = await generateIdentity();
  const carol = await generateIdentity();
  const proposer = await generateIdentity();
  return { bob, carol, proposer };
}

async function proposal(recipients: string[], value = "s3cr3t-value") {
  return createProposal({ environment: "production", name: "stripe_api_key", proposer: "Alice <alice@example.com>", proposedAt: AT, recipients, value });
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    if (!isSopsError(e)) throw e;
    return e.code;
  }
}

describe("proposals", () => {
  it("shows name, environment, proposer, time and recipients in clear, but not the value", async () => {
    const { bob, carol } = await people();
    const text = await proposal([bob.recipient, carol.recipient]);
    expect(text).not.toContain("s3cr3t-value");
    const p = parseProposal(text);
    expect(p).toMatchObject({ environment: "production", name: "stripe_api_key", proposer: "Alice <alice@example.com>", proposedAt: AT.toISOString(), recipients: [bob.recipient, carol.recipient] });
    expect(p.fieldLines.name).toBe(5);
    expect(proposalEnvelopeProblem(p)).toBeUndefined();
  });

  it("opens for every member, and not for the proposer", async () => {
    const { bob, carol, proposer } = await people();
    const p = parseProposal(await proposal([bob.recipient, carol.recipient]));
    expect(await openProposal(p, [bob.identity])).toBe("s3cr3t-value");
    expect(await openProposal(p, [carol.identity])).toBe("s3cr3t-value");
    expect(await codeOf(openProposal(p, [proposer.identity]))).toBe("NO_MATCHING_IDENTITY");
    expect(await codeOf(openProposal(p, []))).toBe("NO_IDENTITY");
  });

  it("writes to ssh-ed25519 members too (their stanza tag is checked keylessly)", async () => {
    const ssh = openSshTestKey();
    const { bob } = await people();
    const p = parseProposal(await proposal([bob.recipient, ssh.publicLine]));
    expect(p.recipients[1]).toBe(ssh.publicLine.split(" ").slice(0, 2).join(" "));
    expect(proposalEnvelopeProblem(p)).toBeUndefined();
    expect(await openProposal(p, [ssh.privateText])).toBe("s3cr3t-value");
    const other = openSshTestKey();
    const swapped = { ...p, recipients: [bob.recipient, other.publicLine.split(" ").slice(0, 2).join(" ")] };
    expect(proposalEnvelopeProblem(swapped)).toMatch(/ssh-ed25519 stanza/);
  });

  it("refuses a clear field that differs from the encrypted one (a swapped name or environment)", async () => {
    const { bob } = await people();
    const text = await proposal([bob.recipient]);
    for (const [from, to] of [
      ["name: stripe_api_key", "name: github_token"],
      ["environment: production", "environment: staging"],
      ["proposer: Alice <alice@example.com>", "proposer: Bob"],
      ["proposed-at: 2026-12-03T08:00:00.000Z", "proposed-at: 2026-12-04T08:00:00.000Z"],
    ]) {
      const p = parseProposal(text.replace(from!, to!));
      expect(await codeOf(openProposal(p, [bob.identity])), from).toBe("TAMPERED");
    }
  });

  it("refuses a recipient list that the age header contradicts (an unlisted extra reader)", async () => {
    const { bob, carol } = await people();
    const text = await proposal([bob.recipient, carol.recipient]);
    const dropped = parseProposal(text.replace(`recipient: ${carol.recipient}\n`, ""));
    expect(proposalEnvelopeProblem(dropped)).toMatch(/2 recipient stanza\(s\) but it lists 1/);
    expect(await codeOf(openProposal(dropped, [bob.identity]))).toBe("TAMPERED");
  });

  it("refuses changed ciphertext and reports truncated files as malformed, with the line", async () => {
    const { bob } = await people();
    const text = await proposal([bob.recipient]);
    const lines = text.split("\n");
    const body = lines.findIndex((l) => l.startsWith("-----BEGIN")) + 2; // a payload line after the header
    const flipped = lines.map((l, i) => (i === body ? (l[0] === "A" ? "B" : "A") + l.slice(1) : l)).join("\n");
    expect(await codeOf(openProposal(parseProposal(flipped), [bob.identity]))).toBe("TAMPERED");

    const cut = text.slice(0, Math.floor(text.length * 0.8));
    expect(() => parseProposal(cut, "secrets/inbox/production/x.1.age")).toThrowError(/x\.1\.age:\d+: the age file has no END/);
    try {
      parseProposal(cut);
    } catch (e) {
      expect(isSopsError(e, "MALFORMED_FILE")).toBe(true);
    }
    expect(() => parseProposal(text.split("-----BEGIN")[0]!)).toThrowError(/truncated/);
    expect(() => parseProposal("name: x\n")).toThrowError(/not a stellar-secrets proposal/);
    expect(() => parseProposal(text.replace("recipient: ", "recipient: nope"))).toThrowError(/:8: a recipient that is not/);
  });

  it("round-trips the largest value set accepts (1 MiB), and the largest JSON-escaped one", async () => {
    const { bob } = await people();
    for (const value of ["x".repeat(1024 * 1024), "\u0001".repeat(1024 * 1024 / 4)]) {
      const p = parseProposal(await proposal([bob.recipient], value));
      expect(await openProposal(p, [bob.identity])).toBe(value);
    }
  });

  it.skipIf(!haveAgeCli())("the age CLI decrypts the payload with a member's key, not with the proposer's", async () => {
    const bob = testKey("bob");
    const alice = testKey("alice");
    const text = await proposal([bob.recipient]);
    const { dir, cleanup } = tempDir("proposal-");
    try {
      const armored = join(dir, "p.age");
      writeFileSync(armored, text.slice(text.indexOf("-----BEGIN")));
      const out = JSON.parse(execFileSync("age", ["-d", "-i", bob.path, armored]).toString("utf8")) as Record<string, unknown>;
      expect(out).toMatchObject({ name: "stripe_api_key", environment: "production", value: "s3cr3t-value" });
      expect(() => execFileSync("age", ["-d", "-i", alice.path, armored], { stdio: "pipe" })).toThrow();
    } finally {
      cleanup();
    }
  });
});
