/**
 * A sops user's comments survive stellar-secrets writes. sops encrypts every comment by default
 * (`#ENC[...,type:comment]`, outside the MAC); a mixed team where some members edit with sops must
 * not lose them on the next `set`, `members add`, `rotate-key` or merge by a stellar-secrets user.
 * The fixture was written by an independent re-implementation of sops 3.13.2 (see its README).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  commentOfLine,
  decryptDocument,
  decryptSecrets,
  mergeSecrets,
  mergeSecretsGuarded,
  parseSecretsFile,
  reencryptSecrets,
  rotateDataKey,
  updateKeys,
  type MergeSide,
} from "./index.js";
import { encryptValue } from "./values.js";
import { testKey } from "../test-fixtures/support.js";

const alice = testKey("alice");
const bob = testKey("bob");
const carol = testKey("carol");
const all = [alice.identity, bob.identity, carol.identity];
const SOPS_MADE = readFileSync(join(fileURLToPath(new URL(".", import.meta.url)), "../../../test/fixtures/sops-mix/commented.enc.yaml"), "utf8");

/** The comments as sops reads them back (decrypted, in file order). */
async function commentsOf(text: string): Promise<string[]> {
  return (await decryptDocument(text, all)).comments.map((c) => c.text);
}

/** The lines that start with `#` or carry an inline comment, with the value part masked. */
function commentLayout(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("#") || / #/.test(l))
    .map((l) => (l.startsWith("#") ? "#" : `${l.slice(0, l.indexOf(":"))}: … #`));
}

async function side(text: string): Promise<MergeSide> {
  return { text, secrets: await decryptSecrets(text, all) };
}

const SOPS_COMMENTS = [" Payment keys (owner: payments-team)", " restricted key, billing agent", " CRM", " keep this file sorted"];
const LAYOUT = ["#", "stripe_api_key: … #", "#", "#"];

describe("comments sops wrote", () => {
  it("the fixture is what sops makes: four encrypted comments, typed values", async () => {
    expect(await commentsOf(SOPS_MADE)).toEqual(SOPS_COMMENTS);
    expect(commentLayout(SOPS_MADE)).toEqual(LAYOUT);
    expect(parseSecretsFile(SOPS_MADE).comments?.header).toHaveLength(1);
  });

  it("set of another name keeps every comment byte for byte, in place (same data key)", async () => {
    const before = await decryptSecrets(SOPS_MADE, all);
    const values = new Map(before.values).set("hubspot_api_token", "hs_test_NEW");
    const text = await reencryptSecrets(before, values);
    const kept = SOPS_MADE.split("\n").filter((l) => l.startsWith("#"));
    expect(text.split("\n").filter((l) => l.startsWith("#"))).toEqual(kept);
    expect(commentLayout(text)).toEqual(LAYOUT);
    expect(await commentsOf(text)).toEqual(SOPS_COMMENTS);
    const after = await decryptSecrets(text, all);
    expect(after.values.get("max_retries")).toBe("5");
    expect(after.file.entries.find((e) => e.name === "feature_on")?.type).toBe("bool");
  });

  it("a removed secret takes its own comments with it; the file's header and footer stay", async () => {
    const before = await decryptSecrets(SOPS_MADE, all);
    const values = new Map(before.values);
    values.delete("stripe_api_key");
    values.delete("hubspot_api_token");
    const text = await reencryptSecrets(before, values);
    expect(await commentsOf(text)).toEqual([" Payment keys (owner: payments-team)", " keep this file sorted"]);
  });

  it("rotate re-encrypts the comments under the new data key", async () => {
    const text = await rotateDataKey(await decryptSecrets(SOPS_MADE, all));
    expect(commentLayout(text)).toEqual(LAYOUT);
    expect(await commentsOf(text)).toEqual(SOPS_COMMENTS);
    for (const line of text.split("\n").filter((l) => l.startsWith("#"))) expect(SOPS_MADE).not.toContain(line);
  });

  it("updatekeys keeps the comments", async () => {
    const text = await updateKeys(await decryptSecrets(SOPS_MADE, all), [alice.recipient, bob.recipient, carol.recipient]);
    expect(await commentsOf(text)).toEqual(SOPS_COMMENTS);
    expect(commentLayout(text)).toEqual(LAYOUT);
  });

  it("a merge keeps the comments of both sides, and a comment changed on one side only", async () => {
    const base = await side(SOPS_MADE);
    const oursValues = new Map(base.secrets.values).set("hubspot_api_token", "hs_test_OURS");
    const ours = await side(await reencryptSecrets(base.secrets, oursValues));
    // theirs: a sops user changed stripe_api_key and the CRM comment (the sops layout, as sops edit writes it)
    const written = await reencryptSecrets(base.secrets, new Map(base.secrets.values).set("stripe_api_key", "sk_test_THEIRS"));
    const crm = written.split("\n").filter((l) => l.startsWith("#"))[1]!;
    const theirs = await side(written.replace(crm, `#${encryptValue(Buffer.from(" CRM (owner: crm-team)"), base.secrets.dataKey, ":", "comment")}`));
    const merged = mergeSecrets({ base, ours, theirs });
    expect(merged.conflicts).toEqual([]);
    expect(await commentsOf(merged.text)).toEqual([SOPS_COMMENTS[0], SOPS_COMMENTS[1], " CRM (owner: crm-team)", SOPS_COMMENTS[3]]);
    const values = (await decryptSecrets(merged.text, all)).values;
    expect(values.get("stripe_api_key")).toBe("sk_test_THEIRS");
    expect(values.get("hubspot_api_token")).toBe("hs_test_OURS");
  });

  it("a merge across a rotation (the guarded driver's fresh key) keeps the comments", async () => {
    const base = await side(SOPS_MADE);
    const ours = await side(await reencryptSecrets(base.secrets, new Map(base.secrets.values).set("hubspot_api_token", "hs_test_OURS")));
    const theirs = await side(await rotateDataKey(base.secrets));
    const merged = await mergeSecretsGuarded({ base, ours, theirs });
    expect(merged.freshKey).toBe(true);
    expect(await commentsOf(merged.text)).toEqual(SOPS_COMMENTS);
    expect(commentLayout(merged.text)).toEqual(LAYOUT);
  });
});

describe("commentOfLine", () => {
  it("finds a whole-line comment and one after a value, never a # inside a value or a quoted scalar", () => {
    expect(commentOfLine("# top")).toBe(" top");
    expect(commentOfLine("    #ENC[AES256_GCM,data:x,type:comment]")).toBe("ENC[AES256_GCM,data:x,type:comment]");
    expect(commentOfLine("a: ENC[AES256_GCM,data:x,type:str] # after\r")).toBe(" after");
    expect(commentOfLine('    lastmodified: "2026-01-02T03:04:05Z"\t# after')).toBe(" after");
    expect(commentOfLine("    mac: ENC[AES256_GCM,data:x,type:str]")).toBeUndefined();
    expect(commentOfLine("a: b#c")).toBeUndefined();
    expect(commentOfLine('a: "b # c"')).toBeUndefined();
    expect(commentOfLine("a: 'it''s # c'")).toBeUndefined();
    expect(commentOfLine('a: "b \\" # c" # d')).toBe(" d");
    // a quote inside a plain value opens nothing
    expect(commentOfLine("a: it's fine # c")).toBe(" c");
    expect(commentOfLine("- recipient: age1abc # c")).toBe(" c");
  });
});
