/**
 * Keyless integrity, end to end: hidden readers crafted WITHOUT this project's writer (stanzas
 * made by the real `age` CLI, spliced into a real file as text) must fail `check` through
 * `recipient-drift`; a `.sops.yaml` naming a non-member must fail it through `sops-config-drift`;
 * the commands that change members keep `.sops.yaml` in step, in place.
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createSandbox, HAS_AGE_CLI, unwrapWith, type AgeKey, type Sandbox } from "./helpers/cli.js";

vi.setConfig({ testTimeout: 180_000 });

const FILE = "secrets/staging.enc.yaml";

/** `age -a -r R1 -r R2 ...` over the data key (the real CLI; the key goes through stdin only). */
function ageWrap(dataKey: Buffer, recipients: string[]): string {
  return execFileSync("age", ["-a", ...recipients.flatMap((r) => ["-r", r])], { input: dataKey, encoding: "utf8" });
}

/** A sops age stanza as sops writes it in YAML. */
function stanzaText(recipient: string, enc: string): string {
  return `        - recipient: ${recipient}\n          enc: |\n${enc
    .trim()
    .split("\n")
    .map((l) => `            ${l}\n`)
    .join("")}`;
}

/** The text spans of the file's stanzas (label and enc), in order. */
function stanzaSpans(text: string): { start: number; end: number; recipient: string }[] {
  return [...text.matchAll(/ {8}- recipient: (\S+)\n {10}enc: \|\n(?: {12}.*\n)+/g)].map((m) => ({
    start: m.index,
    end: m.index + m[0].length,
    recipient: m[1] as string,
  }));
}

interface CheckJson {
  diagnostics: { rule: string; severity: string; file: string; line: number; message: string }[];
}

describe.skipIf(!HAS_AGE_CLI)("keyless integrity against hidden readers made with the age CLI", () => {
  let s: Sandbox;
  let alice: AgeKey;
  let bob: AgeKey;
  let mallory: AgeKey;
  let honest: string;
  let dataKey: Buffer;

  const check = async (): Promise<{ code: number | null; json: CheckJson }> => {
    const r = await s.run(["check", "--json"]);
    return { code: r.code, json: JSON.parse(r.stdout) as CheckJson };
  };

  beforeAll(async () => {
    s = createSandbox();
    alice = s.keygen("alice");
    bob = s.keygen("bob");
    mallory = s.keygen("mallory");
    s.env.SOPS_AGE_KEY_FILE = alice.file;
    expect((await s.run(["init", "--env", "staging"])).code).toBe(0);
    expect((await s.run(["set", "stripe_api_key", "--env", "staging", "--from-stdin"], { input: "sk_test_VALUE" })).code).toBe(0);
    expect((await s.run(["members", "add", "bob", bob.recipient, "--env", "staging"])).code).toBe(0);
    s.commit("staging with alice and bob");
    honest = s.read(FILE);
    dataKey = unwrapWith(s, "staging", alice) as Buffer;
    expect(dataKey.length).toBe(32);
  });
  afterAll(() => s?.cleanup());

  it("an honest file is clean", async () => {
    const { code, json } = await check();
    expect(json.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(code).toBe(0);
  });

  it("(1) a second stanza labelled as member bob but wrapped to an outsider: exit 1, recipient-drift at that label", async () => {
    const spans = stanzaSpans(honest);
    const last = spans[spans.length - 1] as { end: number };
    s.write(FILE, honest.slice(0, last.end) + stanzaText(bob.recipient, ageWrap(dataKey, [mallory.recipient])) + honest.slice(last.end));
    expect(unwrapWith(s, "staging", mallory)?.equals(dataKey), "the attack is real: mallory opens the file").toBe(true);
    const { code, json } = await check();
    expect(code).toBe(1);
    const drift = json.diagnostics.filter((d) => d.rule === "recipient-drift");
    expect(drift).toHaveLength(1);
    expect(drift[0]).toMatchObject({ severity: "error", file: FILE });
    expect(s.read(FILE).split("\n")[(drift[0]?.line ?? 0) - 1]).toContain(bob.recipient);
    expect(drift[0]?.message).toContain("2 age stanzas labelled");
    expect(drift[0]?.message).not.toContain("members add");
    expect(drift[0]?.message).not.toContain(mallory.recipient);
    s.write(FILE, honest);
  });

  it("(3) one envelope wrapped to bob and an outsider (`age -r BOB -r OUTSIDER`) as bob's stanza: exit 1, recipient-drift", async () => {
    const bobSpan = stanzaSpans(honest).find((x) => x.recipient === bob.recipient) as { start: number; end: number };
    s.write(FILE, honest.slice(0, bobSpan.start) + stanzaText(bob.recipient, ageWrap(dataKey, [bob.recipient, mallory.recipient])) + honest.slice(bobSpan.end));
    expect(unwrapWith(s, "staging", mallory)?.equals(dataKey)).toBe(true);
    expect(unwrapWith(s, "staging", bob)?.equals(dataKey)).toBe(true);
    const { code, json } = await check();
    expect(code).toBe(1);
    const drift = json.diagnostics.filter((d) => d.rule === "recipient-drift");
    expect(drift).toHaveLength(1);
    expect(drift[0]?.message).toMatch(/wraps the data key for 2 keys/);
    expect(drift[0]?.message).toContain("rotate-key --env staging");
    // the fix: an existing member re-keys the file; the hidden key loses access and the values to rotate are listed
    const r = await s.run(["rotate-key", "--env", "staging", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).rotated).toMatchObject([{ environment: "staging", lostAccess: [], hiddenReader: true }]);
    expect(unwrapWith(s, "staging", mallory)).toBeUndefined();
    expect(unwrapWith(s, "staging", bob)).toBeDefined();
    expect((await check()).code).toBe(0);
    s.write(FILE, honest);
  });

  it("(2) bob's stanza re-wrapped for an outsider, label kept: invisible without a key (review's job); check does not crash", async () => {
    const bobSpan = stanzaSpans(honest).find((x) => x.recipient === bob.recipient) as { start: number; end: number };
    s.write(FILE, honest.slice(0, bobSpan.start) + stanzaText(bob.recipient, ageWrap(dataKey, [mallory.recipient])) + honest.slice(bobSpan.end));
    expect(unwrapWith(s, "staging", mallory)?.equals(dataKey)).toBe(true);
    const { code, json } = await check();
    // one X25519 stanza per label, as in an honest file: nothing to see without a key (docs/rules.md)
    expect(json.diagnostics.filter((d) => d.rule === "recipient-drift")).toEqual([]);
    expect(code).toBe(0);
    s.write(FILE, honest);
  });

  it("review's fix for a key the change added never suggests granting it", async () => {
    const spans = stanzaSpans(honest);
    const last = spans[spans.length - 1] as { end: number };
    s.write(FILE, honest.slice(0, last.end) + stanzaText(mallory.recipient, ageWrap(dataKey, [mallory.recipient])) + honest.slice(last.end));
    const r = await s.run(["review", "--json"], { env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(r.code).toBe(1);
    const problem = (JSON.parse(r.stdout) as { problems: { kind: string; message: string }[] }).problems.find((p) => p.kind === "non-member-recipient");
    expect(problem?.message).toMatch(new RegExp(`git checkout [0-9a-f]{40} -- ${FILE.replace(/\./g, "\\.")}`));
    expect(problem?.message).not.toContain(`members add NAME ${mallory.recipient}`);
    expect(problem?.message).not.toMatch(/members add \S+ age1/);
    s.write(FILE, honest);
  });

  it("a garbled enc is reported, not a crash", async () => {
    s.write(FILE, honest.replace(/(-----BEGIN AGE ENCRYPTED FILE-----\n {12})[A-Za-z0-9+/]{4}/, "$1!!!!"));
    const { code, json } = await check();
    expect(code).toBe(1);
    expect(json.diagnostics.find((d) => d.rule === "recipient-drift")?.message).toMatch(/cannot be read as an age file/);
    s.write(FILE, honest);
  });

  it(".sops.yaml gaining a recipient fails check (sops-config-drift); rotate-key puts the rule back", async () => {
    const sops = s.read(".sops.yaml");
    s.write(".sops.yaml", sops.replace(`${alice.recipient},${bob.recipient}`, `${alice.recipient},${bob.recipient},${mallory.recipient}`));
    const { code, json } = await check();
    expect(code).toBe(1);
    expect(json.diagnostics.filter((d) => d.rule === "sops-config-drift").map((d) => [d.severity, d.file, d.line])).toEqual([["error", ".sops.yaml", 4]]);
    // review (working tree against HEAD, no key) flags it as a new checker error
    const rev = await s.run(["review", "--json"], { env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(rev.code).toBe(1);
    expect((JSON.parse(rev.stdout) as CheckJson).diagnostics.filter((d) => d.rule === "sops-config-drift")).toMatchObject([{ severity: "error", file: ".sops.yaml", new: true }]);
    const r = await s.run(["rotate-key", "--env", "staging", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).sopsConfigUpdated).toEqual([".sops.yaml"]);
    expect(s.read(".sops.yaml")).not.toContain(mallory.recipient);
    expect((await check()).code).toBe(0);
    s.git(["checkout", "--", "."]);
  });

  it("members add and rm rewrite the matching .sops.yaml rules in place, keeping comments and other rules", async () => {
    const carol = s.keygen("carol");
    const custom =
      "# team rules: keep this comment\n" +
      "creation_rules:\n" +
      "  # staging, kept by stellar-secrets\n" +
      `  - path_regex: secrets/staging\\.enc\\.yaml$\n    age:\n      - ${alice.recipient}\n      - ${bob.recipient}\n` +
      `  - path_regex: other/.*\\.yaml$\n    age: ${carol.recipient}\n`;
    s.write(".sops.yaml", custom);
    s.write("secrets/.sops.yaml", `creation_rules:\n  - age: ${alice.recipient}\n`);
    expect((await check()).code).toBe(0);
    let r = await s.run(["members", "add", "carol", carol.recipient, "--env", "staging"]);
    expect(r.code, r.stderr).toBe(0);
    let text = s.read(".sops.yaml");
    expect(text).toContain("# team rules: keep this comment");
    expect(text).toContain("# staging, kept by stellar-secrets");
    expect(text).toContain(`      - ${bob.recipient}\n      - ${carol.recipient}\n`);
    expect(text).toContain(`  - path_regex: other/.*\\.yaml$\n    age: ${carol.recipient}\n`);
    // the secrets folder's own .sops.yaml (sops run from inside it) is kept in step too
    expect(s.read("secrets/.sops.yaml")).toBe(`creation_rules:\n  - age: ${alice.recipient},${bob.recipient},${carol.recipient}\n`);
    expect((await check()).code).toBe(0);
    r = await s.run(["members", "rm", "bob", "--env", "staging"]);
    expect(r.code, r.stderr).toBe(0);
    text = s.read(".sops.yaml");
    expect(text).not.toContain(bob.recipient);
    expect(text).toContain(`      - ${alice.recipient}\n      - ${carol.recipient}\n`);
    expect(text).toContain("# team rules: keep this comment");
    expect(s.read("secrets/.sops.yaml")).not.toContain(bob.recipient);
    expect((await check()).code).toBe(0);
  });
});
