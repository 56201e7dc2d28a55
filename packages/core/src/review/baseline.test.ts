/**
 * Which head diagnostics review calls new: matched with the base's by the problem (rule, file,
 * secret, the text at the range and on its line, the message's problem statement), so context in
 * a message (a "did you mean", an excluded definition, a line number) does not make an old problem
 * new, while a changed problem is new. In memory: no git, no disk.
 */
import { describe, expect, it } from "vitest";
import { encryptSecrets, generateIdentity } from "@stellar-secrets/sops";
import type { Diagnostic } from "../diagnostics.js";
import { matchBaseline, problemStatement } from "./baseline.js";
import { buildReview } from "./model.js";
import { stateFromFiles } from "./state.js";

const at = (label: string, files: Record<string, string>) => stateFromFiles(label, undefined, "/p", new Map(Object.entries(files)));
const BASE = {
  "stellar.yaml": 'version: 1\nconfig:\n  exclude: ["drafts/**"]\nenvironments:\n  staging:\n    members:\n      alice: age1r7t4nna8sqyctkujc4lwpun9ged8qz0a4vt2esnxcg8cq7cm84kqdr8nx2\n',
  "agents/sales.yaml": "kind: agent\nname: sales\nactions: [lookup]\n",
  "actions/charge.yaml": "kind: action\nname: charge\nmethod: POST\npath: /v1/charges\nenvironments: [stagin]\n",
};
/** The head's unknown-reference / unknown-environment diagnostics as "rule file:line new". */
const review = (head: Record<string, string>): string[] =>
  buildReview(at("base", BASE), at("head", head))
    .diagnostics.filter((d) => d.rule === "unknown-reference" || d.rule === "unknown-environment")
    .map((d) => `${d.rule} ${d.file}:${d.line} ${d.new}`);

describe("review's new diagnostics (matched with the base by the problem)", () => {
  it("the base's broken reference and undeclared environment stay old when the head only adds an unrelated file that changes their did-you-mean", () => {
    // a similarly-named action: the message gains `did you mean "lookups"?`
    expect(review({ ...BASE, "actions/lookups.yaml": "kind: action\nname: lookups\nmethod: GET\npath: /x\n" })).toEqual([]);
    // a new environment: "(declared: staging, stage)" and its did-you-mean change
    const twoEnvs = BASE["stellar.yaml"] + "  stage:\n    members:\n      alice: age1r7t4nna8sqyctkujc4lwpun9ged8qz0a4vt2esnxcg8cq7cm84kqdr8nx2\n";
    expect(review({ ...BASE, "stellar.yaml": twoEnvs })).toEqual([]);
  });

  it("the base's unknown secret stays old when the head adds a similarly-named secret (a new did-you-mean), and a reference to another unknown name is new", async () => {
    const alice = await generateIdentity();
    const files = (token: string): Record<string, string> => ({
      "stellar.yaml": `version: 1\nenvironments:\n  staging:\n    members:\n      alice: ${alice.recipient}\n`,
      "connectors/stripe.yaml": `kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: ${token} }\n`,
      "secrets/staging.enc.yaml": "",
    });
    const base = files("stripe_key");
    base["secrets/staging.enc.yaml"] = await encryptSecrets(new Map([["hubspot_token", "h1"]]), { recipients: [alice.recipient] });
    const head = { ...base, "secrets/staging.enc.yaml": await encryptSecrets(new Map([["hubspot_token", "h1"], ["stripe_keys", "s1"]]), { recipients: [alice.recipient] }) };
    const unknown = (h: Record<string, string>) =>
      buildReview(at("base", base), at("head", h)).diagnostics.filter((d) => d.rule === "unknown-secret").map((d) => `${d.secret} ${d.new} ${d.suggestion ?? "-"}`);
    expect(unknown(head)).toEqual([]);
    expect(unknown({ ...head, "connectors/stripe.yaml": base["connectors/stripe.yaml"]!.replace("stripe_key", "stripe_kee") })).toEqual(["stripe_kee true stripe_keys"]);
  });

  it("stays old when an excluded file that defines the name is added (the message now names that file and its line)", () => {
    expect(review({ ...BASE, "drafts/lookup.yaml": "kind: action\nname: lookup\nmethod: GET\npath: /x\n" })).toEqual([]);
  });

  it("stays old when lines are inserted above it or its line is edited around it", () => {
    expect(review({ ...BASE, "agents/sales.yaml": "# the sales agent\n\nkind: agent\nname: sales\nactions: [lookup]\n" })).toEqual([]);
    expect(review({ ...BASE, "agents/sales.yaml": "kind: agent\nname: sales\nactions: [lookup]  # to do\n" })).toEqual([]);
  });

  it("the base's unused secret stays old when the head adds a misspelled reference to it elsewhere (the warning now points at that reference)", async () => {
    const alice = await generateIdentity();
    const connector = (token: string) => `kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: ${token} }\n`;
    const base: Record<string, string> = {
      "stellar.yaml": `version: 1\nenvironments:\n  staging:\n    members:\n      alice: ${alice.recipient}\n`,
      "connectors/stripe.yaml": connector("stripe_key"),
      "secrets/staging.enc.yaml": await encryptSecrets(new Map([["stripe_key", "s1"], ["legacy_ftp_password", "f1"]]), { recipients: [alice.recipient] }),
    };
    const head = { ...base, "connectors/ftp.yaml": connector("legacy_ftp_pasword").replace("stripe", "ftp") };
    // (review lists an old problem only when its secret changed: here only the new reference)
    const found = buildReview(at("base", base), at("head", head)).diagnostics.filter((d) => d.rule === "unused-secret" || d.rule === "unknown-secret");
    expect(found.map((d) => `${d.rule} ${d.secret} ${d.new}`).sort()).toEqual(["unknown-secret legacy_ftp_pasword true"]);
  });

  it("is new when the problem changed: another target, or a second copy of it", () => {
    expect(review({ ...BASE, "agents/sales.yaml": "kind: agent\nname: sales\nactions: [lokup]\n" })).toEqual(["unknown-reference agents/sales.yaml:3 true"]);
    expect(review({ ...BASE, "agents/sales.yaml": "kind: agent\nname: sales\nactions: [lookup, lookup]\n" })).toEqual([
      "unknown-reference agents/sales.yaml:3 true",
    ]);
    expect(review({ ...BASE, "actions/charge.yaml": BASE["actions/charge.yaml"].replace("stagin", "prod") })).toEqual(["unknown-environment actions/charge.yaml:5 true"]);
  });
});

describe("matchBaseline", () => {
  const d = (line: number, message: string, extra: Partial<Diagnostic> = {}): Diagnostic => ({
    rule: "missing-environment-value",
    severity: "error",
    file: "a.yaml",
    line,
    column: 9,
    endLine: line,
    endColumn: 12,
    message,
    secret: "key",
    ...extra,
  });
  const texts = (text: string) => () => text;

  it("matches a moved problem whose message names its own line, and not one whose statement changed", () => {
    const base = { diagnostics: [d(1, "secret key has no value in staging, where action x (a.yaml:1:9) is used; set it")], readText: texts("secret: key\n") };
    const moved = { diagnostics: [d(3, "secret key has no value in staging, where action x (a.yaml:3:9) is used; set it with --env staging")], readText: texts("\n\nsecret: key\n") };
    expect(matchBaseline(base, moved)).toEqual([true]);
    const more = { diagnostics: [d(1, "secret key has no value in staging, production, where action x is used; set it")], readText: texts("secret: key\n") };
    expect(matchBaseline(base, more)).toEqual([false]);
  });

  it("pairs each base problem with one head problem, preferring the one on the same line text", () => {
    const base = { diagnostics: [d(2, "m")], readText: texts("a: 1\nsecret: key\n") };
    const head = { diagnostics: [d(1, "m"), d(3, "m")], readText: texts("secret: key # new\na: 1\nsecret: key\n") };
    expect(matchBaseline(base, head)).toEqual([false, true]);
  });

  it("follows a renamed file, and matches by the whole message when a side's text is not known", () => {
    const base = { diagnostics: [d(1, "m", { file: "old.yaml" })], readText: () => undefined };
    expect(matchBaseline(base, { diagnostics: [d(1, "m", { file: "new.yaml" })], readText: () => null }, new Map([["new.yaml", "old.yaml"]]))).toEqual([true]);
    expect(matchBaseline(base, { diagnostics: [d(1, "m", { file: "new.yaml" })], readText: () => null })).toEqual([false]);
    expect(matchBaseline(base, { diagnostics: [d(1, "m", { file: "old.yaml", secret: "other" })], readText: () => undefined })).toEqual([false]);
  });

  it("states a problem without its fix, asides, locations and counts, keeping names", () => {
    expect(problemStatement('environment "prod" is not declared in stellar.yaml (declared: a, b); did you mean "b"?')).toBe('environment "prod" is not declared in stellar.yaml');
    expect(problemStatement('action name "x2" is already used at actions/a.yaml:12:3; names must be unique')).toBe('action name "x2" is already used at actions/a.yaml:#:#');
    expect(problemStatement("secret stripe_key_2 (see (a.yaml:1)) has no value in prod")).toBe("secret stripe_key_2 (see (a.yaml:#)) has no value in prod");
    expect(problemStatement('a.yaml is the file of environment "prd", which stellar.yaml does not declare (did you mean "prod"?); declare it')).toBe(
      'a.yaml is the file of environment "prd", which stellar.yaml does not declare',
    );
    expect(problemStatement('the file has a syntax error (at 3:4)')).toBe("the file has a syntax error (at #:#)");
    // the other unresolved names of the file are context: another one resolved or added leaves this one as it was
    expect(problemStatement('secret "a" is not resolved yet: s/p.enc.yaml holds our side\'s value (the file (x)) (3 names of s/p.enc.yaml are unresolved: a, b, c); finish')).toBe(
      'secret "a" is not resolved yet: s/p.enc.yaml holds our side\'s value (the file (x))',
    );
  });

  it("counts an aside that carries a fact (a file, a name): a problem whose only change is inside parentheses is new", () => {
    const wrongKind = (file: string) => `"lookup" is an action (${file}:3:7), not a connector`;
    const base = { diagnostics: [d(1, wrongKind("actions/lookup.yaml"))], readText: texts("secret: key\n") };
    expect(matchBaseline(base, { diagnostics: [d(1, wrongKind("actions/lookup.yaml").replace(":3:", ":9:"))], readText: texts("secret: key\n") })).toEqual([true]);
    expect(matchBaseline(base, { diagnostics: [d(1, wrongKind("actions/other.yaml"))], readText: texts("secret: key\n") })).toEqual([false]);
    const recipients = (who: string) => ({ diagnostics: [d(1, `the staging file is not encrypted for ${who}`)], readText: texts("secret: key\n") });
    expect(matchBaseline(recipients("bob (age1aaa)"), recipients("bob (age1bbb)"))).toEqual([false]);
  });
});
