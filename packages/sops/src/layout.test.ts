import { describe, expect, it } from "vitest";
import { environmentFileName, environmentOfFileName, normalizeSecretsDir, readSecretsDir } from "./layout.js";

describe("environment file names", () => {
  it("names an environment's file <env>.enc.yaml and reads the environment back", () => {
    expect(environmentFileName("production")).toBe("production.enc.yaml");
    expect(environmentOfFileName("production.enc.yaml")).toBe("production");
    expect(environmentOfFileName("Prod.Eu.enc.yaml")).toBe("Prod.Eu");
  });

  it("is not fooled by other suffixes, folders or an empty name", () => {
    for (const name of ["production.enc.json", "production.enc.yml", "production.yaml", "catalog.yaml", ".enc.yaml", "eu/production.enc.yaml"]) {
      expect(environmentOfFileName(name), name).toBeUndefined();
    }
  });
});

describe("secrets_dir", () => {
  it("normalizes separators, ./ and trailing slashes, and falls back to secrets", () => {
    expect(normalizeSecretsDir("./config//vault/")).toBe("config/vault");
    expect(normalizeSecretsDir("config\\vault")).toBe("config/vault");
    expect(normalizeSecretsDir("./")).toBe("secrets");
  });

  it("drops every empty and `.` segment, wherever it is: `secrets/.`, `./secrets`, `secrets//` and `secrets/./` are one folder (review took them for a move away)", () => {
    for (const written of ["secrets/.", "./secrets", "secrets//", "secrets/./", "./secrets/./.", ".//secrets", "secrets\\."]) expect(normalizeSecretsDir(written), written).toBe("secrets");
    expect(normalizeSecretsDir("config/./vault/.")).toBe("config/vault");
    expect(readSecretsDir("version: 1\nsecrets_dir: secrets/.\n")).toEqual({ ok: true, secretsDir: "secrets" });
  });

  it("reads it from stellar.yaml text, the default when absent", () => {
    expect(readSecretsDir("version: 1\nsecrets_dir: ./vault/\n")).toEqual({ ok: true, secretsDir: "vault" });
    // an alias is the value it points to, as core's reader reads it (the resolver refused it while check and get read the folder)
    expect(readSecretsDir('version: 1\nconfig:\n  include: [&d vault, "**/*.yaml"]\nsecrets_dir: *d\n')).toEqual({ ok: true, secretsDir: "vault" });
    expect(readSecretsDir("version: 1\nx: &d [a]\nsecrets_dir: *d\n")).toMatchObject({ ok: false, reason: "invalid-secrets-dir", line: 3 });
    expect(readSecretsDir("version: 1\nenvironments:\n  dev: {}\n")).toEqual({ ok: true, secretsDir: "secrets" });
    expect(readSecretsDir("")).toEqual({ ok: true, secretsDir: "secrets" });
  });

  it("refuses, with its line, secrets_dir written as an alias key (`*k : vault`), which core reads as the field and the yaml node API does not (s24 attack: deploys read another folder than check and review)", () => {
    expect(readSecretsDir("version: 1\n&k secrets_dir: vault\n*k : secrets\n")).toMatchObject({ ok: false, reason: "invalid-secrets-dir", line: 3 });
    expect(readSecretsDir("version: 1\nconfig:\n  include: [&k secrets_dir]\n*k : vault\n")).toMatchObject({ ok: false, reason: "invalid-secrets-dir", line: 4 });
    // an alias key naming another field is core's schema error, not the resolver's business
    expect(readSecretsDir("version: 1\nx: &k version\nsecrets_dir: vault\n*k : 2\n")).toEqual({ ok: true, secretsDir: "vault" });
  });

  it("refuses, with its line, a merge key at the top of a YAML 1.1 stellar.yaml (`<<: { secrets_dir: vault }`), which core's reader merges in and the yaml node API does not (s24 newattack: deploys read secrets/ while check and review read vault)", () => {
    expect(readSecretsDir("%YAML 1.1\n---\nversion: 1\n<<: { secrets_dir: vault }\n")).toMatchObject({ ok: false, reason: "invalid-secrets-dir", line: 4 });
    expect(readSecretsDir("%YAML 1.1\n---\nversion: 1\nx: &base { secrets_dir: vault }\nsecrets_dir: secrets\n<<: [*base]\n")).toMatchObject({ ok: false, reason: "invalid-secrets-dir", line: 6 });
    // without the directive, a key tagged !!merge (any text: `!!merge x:`) merges all the same
    expect(readSecretsDir("version: 1\n!!merge x: { secrets_dir: vault }\n")).toMatchObject({ ok: false, reason: "invalid-secrets-dir", line: 2 });
    expect(readSecretsDir("version: 1\n!!merge <<: { secrets_dir: vault }\n")).toMatchObject({ ok: false, reason: "invalid-secrets-dir", line: 2 });
    // in YAML 1.2 (no directive) `<<` is a plain key every reader keeps as it is
    expect(readSecretsDir("version: 1\n<<: { secrets_dir: vault }\n")).toEqual({ ok: true, secretsDir: "secrets" });
  });

  it("reads a stellar.yaml whose lines end in a lone CR (YAML line breaks, as core reads it), with its lines", () => {
    expect(readSecretsDir("version: 1\rsecrets_dir: ./vault/\r")).toEqual({ ok: true, secretsDir: "vault" });
    expect(readSecretsDir("version: 1\r\rsecrets_dir: ../up\r")).toMatchObject({ ok: false, reason: "invalid-secrets-dir", line: 3 });
  });

  it("refuses, with its line, a folder outside the repository, a non-string, and text that is not YAML", () => {
    expect(readSecretsDir("version: 1\nsecrets_dir: ../up\n")).toMatchObject({ ok: false, reason: "invalid-secrets-dir", line: 2 });
    expect(readSecretsDir("version: 1\n\nsecrets_dir: /etc\n")).toMatchObject({ ok: false, reason: "invalid-secrets-dir", line: 3 });
    expect(readSecretsDir("secrets_dir: [a]\n")).toMatchObject({ ok: false, reason: "invalid-secrets-dir", line: 1 });
    expect(readSecretsDir("version: 1\nsecrets_dir: [vault\n")).toMatchObject({ ok: false, reason: "invalid-yaml" });
  });
});
