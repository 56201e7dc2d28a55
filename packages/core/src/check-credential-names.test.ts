// A credential stored as a secret's NAME in an environment file (names are not encrypted): made by
// plain sops, by hand, or before `set` refused one. `check` reports it at the key as
// plaintext-credential, and no finding, fix or suggestion ever repeats it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkConfigFile, checkWorkspace } from "./check.js";
import { parseConfigFile } from "./config.js";
import { HIDDEN_NAME } from "./credentials.js";
import { loadWorkspace } from "./load.js";
import { parseEnvironmentFile } from "./secrets-dir.js";

const FIXTURE = join(fileURLToPath(new URL(".", import.meta.url)), "../../../test/fixtures/checker/references");
const PRODUCTION = "secrets/production.enc.yaml";
// TEST-ONLY made-up credential, stored as a name
const TOKEN = "sk_live_51HqLyjWDarjtT1zdp7dcXYZabcdef0123456789";
/** Whether `found` repeats the token, also in a form derived from it (lowercased, snake_cased). */
const repeats = (found: unknown, token = TOKEN): boolean => JSON.stringify(found).toLowerCase().replace(/_/g, "").includes(token.slice(8, 28).toLowerCase());

/** The fixture with production's file holding `names` (each with an encrypted value) before its own lines. */
function workspaceWithNames(names: readonly string[]) {
  const { index } = loadWorkspace(FIXTURE, { atRoot: true });
  const text = readFileSync(join(FIXTURE, PRODUCTION), "utf8");
  const enc = text.split("\n")[0]!.slice("stripe_api_key: ".length);
  index.setEnvironmentFile(parseEnvironmentFile(`${names.map((n) => `${n}: ${enc}`).join("\n")}\n${text}`, PRODUCTION, "production"));
  return index;
}

describe("WorkspaceIndex.credentialNames", () => {
  it("holds the names that look like credentials, made again when an environment file changes", () => {
    const index = workspaceWithNames([TOKEN, "stripe_api_key_v2"]);
    expect([...index.credentialNames()]).toEqual([TOKEN]);
    expect(index.credentialNames()).toBe(index.credentialNames());
    const text = readFileSync(join(FIXTURE, PRODUCTION), "utf8");
    index.setEnvironmentFile(parseEnvironmentFile(text, PRODUCTION, "production"));
    expect([...index.credentialNames()]).toEqual([]);
  });
});

describe("a credential stored as a secret's name in an environment file", () => {
  it("is plaintext-credential (error) at the key, saying what it looks like, where, and the fix, and no other finding there", () => {
    const ds = checkWorkspace(workspaceWithNames([TOKEN]));
    const atKey = ds.filter((d) => d.file === PRODUCTION && d.line === 1);
    expect(atKey.map((d) => [d.rule, d.severity, d.line, d.column, d.endLine, d.endColumn, d.secret])).toEqual([
      ["plaintext-credential", "error", 1, 1, 1, TOKEN.length + 1, undefined],
    ]);
    expect(atKey[0]!.message).toBe(
      "the name of the secret at secrets/production.enc.yaml:1 looks like a Stripe live secret key (sk_live_…), not a secret's name (not shown): names are not encrypted, so it is stored and committed in clear text; " +
        "if its value is in use, set it under a real name (`stellar-secrets set NAME --env production`) and reference that, delete this line with `stellar-secrets edit --env production`, " +
        "and rotate the credential at its provider (git history keeps it)",
    );
    expect(repeats(ds)).toBe(false);
  });

  it("reports a mixed-case random token and a long lower-case hex key too, each once", () => {
    const names = ["Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg", "a3f9c8e7d6b5a4f3e2d1c0b9a8f7e6d5"];
    // (the ciphertext copied under a second name is a hand edit: stale-mac, which names no secret)
    const ds = checkWorkspace(workspaceWithNames(names)).filter((d) => d.file === PRODUCTION && d.line <= 2 && d.rule !== "stale-mac");
    expect(ds.map((d) => [d.rule, d.line])).toEqual([
      ["plaintext-credential", 1],
      ["plaintext-credential", 2],
    ]);
    expect(ds.every((d) => d.message.includes("a long random string (a key or token)"))).toBe(true);
    for (const n of names) expect(repeats(ds, n), n).toBe(false);
  });

  it("never reports a realistic name, however long or versioned, as a credential", () => {
    const names = ["openai_key_v2", "github_token", "stripe_webhook_secret_v3", "oauth2_client_secret_for_billing_api_2024", "hf_token", "deadbeef"];
    const ds = checkWorkspace(workspaceWithNames(names));
    expect(ds.filter((d) => d.rule === "plaintext-credential")).toEqual([]);
    // (they are still unused secrets, quoted as usual)
    expect(ds.filter((d) => d.rule === "unused-secret" && d.file === PRODUCTION && d.line <= names.length).map((d) => d.secret)).toEqual(names);
  });

  it("is hidden in every other finding that names it (a reference's missing values), in the editor's per-file check too; a near miss is a pasted credential of its own", () => {
    const index = workspaceWithNames([TOKEN]);
    // a reference to it (production only has it) and a near miss of it
    index.setConfigFile(parseConfigFile(`kind: auth_connector\nname: legacy\ntype: bearer_token\ntoken: { secret: ${TOKEN} }\n`, "connectors/legacy.yaml"));
    index.setConfigFile(parseConfigFile(`kind: auth_connector\nname: legacy2\ntype: bearer_token\ntoken: { secret: ${TOKEN.slice(0, -1)} }\n`, "connectors/legacy2.yaml"));
    const ds = checkWorkspace(index);
    const legacy = ds.filter((d) => d.file === "connectors/legacy.yaml");
    expect(legacy.map((d) => [d.rule, d.secret])).toEqual([["missing-environment-value", undefined]]);
    expect(legacy[0]!.message).toContain(`secret ${HIDDEN_NAME} has no value in`);
    const near = ds.filter((d) => d.file === "connectors/legacy2.yaml");
    expect(near.map((d) => [d.rule, d.suggestion])).toEqual([["plaintext-credential", "legacy2_token"]]);
    const all = JSON.stringify([ds, checkConfigFile(index, "connectors/legacy.yaml"), checkConfigFile(index, "connectors/legacy2.yaml")]);
    expect(repeats(all)).toBe(false);
  });

  it("is hidden in the findings of an environment file that breaks the format (a duplicate key, a value in clear text)", () => {
    const { index } = loadWorkspace(FIXTURE, { atRoot: true });
    const text = readFileSync(join(FIXTURE, PRODUCTION), "utf8");
    const enc = text.split("\n")[0]!.slice("stripe_api_key: ".length);
    index.setEnvironmentFile(parseEnvironmentFile(`${TOKEN}: ${enc}\n${TOKEN}: ${enc}\n${text}`, PRODUCTION, "production"));
    const duplicate = checkWorkspace(index).filter((d) => d.file === PRODUCTION);
    expect(duplicate.map((d) => d.rule)).toContain("plaintext-credential");
    expect(repeats(duplicate)).toBe(false);
    index.setEnvironmentFile(parseEnvironmentFile(`${TOKEN}: test-only-clear-value\n${text}`, PRODUCTION, "production"));
    const clear = checkWorkspace(index).filter((d) => d.file === PRODUCTION);
    expect(clear.map((d) => d.rule)).toContain("unencrypted-secrets-file");
    expect(repeats(clear)).toBe(false);
    // (its fix sets the value under a name to choose, not under the credential's snake_cased form)
    expect(clear.find((d) => d.rule === "unencrypted-secrets-file")?.message).toContain("`stellar-secrets set NAME --env production`");
  });
});
