import { describe, expect, it } from "vitest";
import { checkSecretsDir, secretsDirValueRange, type SecretsDirSurvey } from "./secrets-folder.js";

const NONE = { environmentFiles: 0, catalog: false };
const AT = { start: { line: 3, column: 14 }, end: { line: 3, column: 21 } };

describe("missing-secrets-dir", () => {
  it("reports a secrets_dir that does not exist at its value, with the folder beside it that holds environment files", () => {
    const survey: SecretsDirSurvey = { dir: "secrtes", exists: false, candidates: [{ dir: "other", files: 1 }, { dir: "secrets", files: 3 }], at: AT };
    const d = checkSecretsDir(survey, NONE, "error");
    expect(d).toMatchObject({ rule: "missing-secrets-dir", severity: "error", file: "stellar.yaml", line: 3, column: 14, endLine: 3, endColumn: 21, suggestion: "secrets" });
    expect(d?.message).toMatchInlineSnapshot(`"secrets_dir "secrtes" does not exist: no environment file is read, so no secret is found (the references are not reported one by one meanwhile); did you mean "secrets" (it holds 3 environment files)? fix secrets_dir in stellar.yaml"`);
  });

  it("reports an existing folder with no environment file and no catalog, and says how to fix it without a candidate", () => {
    const d = checkSecretsDir({ dir: "vault", exists: true, candidates: [], at: AT }, NONE, "warning");
    expect(d?.severity).toBe("warning");
    expect(d?.suggestion).toBeUndefined();
    expect(d?.message).toContain('secrets_dir "vault" holds no environment file (*.enc.yaml) and no catalog');
    expect(d?.message).toContain("stellar-secrets set NAME --env ENV");
  });

  it("reports the default folder at the start of stellar.yaml when secrets_dir is not set", () => {
    const d = checkSecretsDir({ dir: "secrets", exists: false, candidates: [{ dir: "vault", files: 1 }], at: undefined }, NONE, "error");
    expect([d?.line, d?.column, d?.endLine, d?.endColumn]).toEqual([1, 1, 1, 1]);
    expect(d?.message).toMatch(/^secrets_dir is not set, so the default folder "secrets" does not exist/);
    expect(d?.suggestion).toBeUndefined(); // nothing to replace
  });

  it("says nothing once the index has an environment file or a catalog", () => {
    const survey: SecretsDirSurvey = { dir: "secrets", exists: true, candidates: [], at: AT };
    expect(checkSecretsDir(survey, { environmentFiles: 1, catalog: false }, "error")).toBeUndefined();
    expect(checkSecretsDir(survey, { environmentFiles: 0, catalog: true }, "error")).toBeUndefined();
  });

  it("finds the value of secrets_dir in stellar.yaml (any line endings), or nothing", () => {
    const text = "version: 1\r\nsecrets_dir: 'vault'\r\n";
    const r = secretsDirValueRange(text);
    expect(r && text.slice(r.start, r.end)).toBe("'vault'");
    const cr = "version: 1\rsecrets_dir: vault\r";
    const c = secretsDirValueRange(cr);
    expect(c && cr.slice(c.start, c.end)).toBe("vault");
    expect(secretsDirValueRange("version: 1\n")).toBeUndefined();
    expect(secretsDirValueRange(": [")).toBeUndefined();
  });
});
