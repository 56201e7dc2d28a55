import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertOwnEnvironmentFile, otherEnvironmentLink } from "./links.js";
import { readRegularFile, readRegularFileSync } from "./store.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sops-links-"));
  mkdirSync(join(dir, "secrets"));
  mkdirSync(join(dir, "vault"));
  mkdirSync(join(dir, "old"));
  for (const f of ["secrets/development.enc.yaml", "secrets/staging.enc.yaml", "vault/prod.yaml", "old/qa.enc.yaml", "old/production.enc.yaml"]) writeFileSync(join(dir, f), "x: 1\n");
  symlinkSync("development.enc.yaml", join(dir, "secrets/production.enc.yaml")); // another environment's file
  symlinkSync("../old/qa.enc.yaml", join(dir, "secrets/uat.enc.yaml")); // another environment's name in another folder
  symlinkSync("../vault/prod.yaml", join(dir, "secrets/preview.enc.yaml")); // no environment's file
  symlinkSync("../old/production.enc.yaml", join(dir, "secrets/demo.enc.yaml")); // a chain ends at production's name
  symlinkSync("../old/production.enc.yaml", join(dir, "secrets/production-old.yaml")); // not an environment's name itself
  symlinkSync("missing.enc.yaml", join(dir, "secrets/broken.enc.yaml"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("otherEnvironmentLink", () => {
  it("names an environment's file that is a link to a file named as another environment's, in any folder", () => {
    expect(otherEnvironmentLink(join(dir, "secrets/production.enc.yaml"))).toEqual({ environment: "production", other: "development", target: "development.enc.yaml" });
    expect(otherEnvironmentLink(join(dir, "secrets/uat.enc.yaml"))).toEqual({ environment: "uat", other: "qa", target: "../old/qa.enc.yaml" });
    expect(otherEnvironmentLink(join(dir, "secrets/demo.enc.yaml"))).toMatchObject({ environment: "demo", other: "production" });
  });

  it("is undefined for a regular file, a link to no environment's file, a name that is no environment's, a broken link and an absent file", () => {
    for (const f of ["secrets/development.enc.yaml", "secrets/preview.enc.yaml", "secrets/production-old.yaml", "secrets/broken.enc.yaml", "secrets/absent.enc.yaml"]) {
      expect([f, otherEnvironmentLink(join(dir, f))]).toEqual([f, undefined]);
    }
  });
});

describe("the readers of secrets files", () => {
  it("refuse such a link with OTHER_ENVIRONMENT_FILE (file, hint) before reading, and read the others", async () => {
    const link = join(dir, "secrets/production.enc.yaml");
    expect(() => assertOwnEnvironmentFile(link)).toThrow(expect.objectContaining({ code: "OTHER_ENVIRONMENT_FILE", file: link, hint: expect.stringContaining("replace the link with production's own file") }));
    expect(() => readRegularFileSync(link)).toThrow(expect.objectContaining({ code: "OTHER_ENVIRONMENT_FILE" }));
    await expect(readRegularFile(link)).rejects.toMatchObject({ code: "OTHER_ENVIRONMENT_FILE" });
    expect(readRegularFileSync(join(dir, "secrets/preview.enc.yaml")).toString()).toBe("x: 1\n");
    expect((await readRegularFile(join(dir, "secrets/development.enc.yaml"))).toString()).toBe("x: 1\n");
  });
});
