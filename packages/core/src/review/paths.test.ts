import { describe, expect, it } from "vitest";
import { collisionKind, foldedPath, openedAs, pathCollisions, pathOpenedAs, foldedStandIns, isGitFolderName, refusedPaths } from "./paths.js";

describe("pathCollisions", () => {
  it("finds a second copy of a project file under a case, Unicode-normalisation or trailing-dot variant of its name", () => {
    const head = [
      "stellar.yaml",
      "Stellar.yaml",
      ".sops.yaml",
      "secrets/production.enc.yaml",
      "secrets/production.ENC.YAML",
      "secrets/staging.enc.yaml",
      "secrets/staging.enc.yaml.",
      "connectors/caf\u00e9.yaml",
      "connectors/cafe\u0301.yaml",
    ];
    expect(pathCollisions(head).map((c) => c.paths)).toEqual([
      ["Stellar.yaml", "stellar.yaml"],
      ["connectors/cafe\u0301.yaml", "connectors/caf\u00e9.yaml"],
      ["secrets/production.ENC.YAML", "secrets/production.enc.yaml"],
      ["secrets/staging.enc.yaml", "secrets/staging.enc.yaml."],
    ]);
  });

  it("names a folder variant once, not every file below it", () => {
    const head = ["secrets/production.enc.yaml", "Secrets/production.enc.yaml", "Secrets/.sops.yaml"];
    expect(pathCollisions(head).map((c) => c.paths)).toEqual([["Secrets", "secrets"]]);
  });

  it("leaves out a collision the base already had, and reports one the change extends", () => {
    const base = ["README.md", "readme.md", "stellar.yaml"];
    expect(pathCollisions([...base], base)).toEqual([]);
    expect(pathCollisions([...base, "ReadMe.md"], base).map((c) => c.paths)).toEqual([["README.md", "ReadMe.md", "readme.md"]]);
  });

  it("keeps apart names that differ in more than case, normalisation or trailing dots", () => {
    expect(pathCollisions(["secrets/production.enc.yaml", "secrets/production.enc.yml", "secrets/.production.enc.yaml"])).toEqual([]);
    expect(foldedPath("Secrets/Caf\u0065\u0301.YAML. ")).toBe("secrets/caf\u00e9.yaml");
  });
});

describe("pathCollisions below a folder variant", () => {
  it("still names a file variant inside the real folder", () => {
    const head = ["secrets/production.enc.yaml", "secrets/production.ENC.YAML", "Secrets/.sops.yaml"];
    expect(pathCollisions(head).map((c) => c.paths)).toEqual([["Secrets", "secrets"], ["secrets/production.ENC.YAML", "secrets/production.enc.yaml"]]);
  });
});

describe("collisionKind", () => {
  it("says how the names differ: normalisation, case, a trailing dot or space, or several", () => {
    expect(collisionKind(["caf\u00e9.yaml", "cafe\u0301.yaml"])).toBe("normalisation");
    expect(collisionKind(["Stellar.yaml", "stellar.yaml"])).toBe("case");
    expect(collisionKind(["secrets/a.enc.yaml", "secrets/a.enc.yaml. "])).toBe("trailing");
    expect(collisionKind(["Caf\u00e9.yaml", "cafe\u0301.yaml"])).toBe("mixed");
  });
});

describe("foldedStandIns", () => {
  it("finds a lone file that a case-insensitive or normalising checkout opens under a name tools use, new in the head", () => {
    const names = [".gitattributes", ".sops.yaml", "stellar.yaml"];
    const head = ["stellar.yaml", "secrets/.GitAttributes", ".SOPS.yaml", "teams/x/Stellar.yaml", "secrets/production.ENC.yaml", "docs/readme.md", "secrets/staging.enc.yaml"];
    expect(foldedStandIns(head, [], names, ["secrets/production.enc.yaml", "secrets/staging.enc.yaml"])).toEqual([
      { path: ".SOPS.yaml", as: ".sops.yaml" },
      { path: "secrets/.GitAttributes", as: "secrets/.gitattributes" },
      { path: "secrets/production.ENC.yaml", as: "secrets/production.enc.yaml" },
      { path: "teams/x/Stellar.yaml", as: "teams/x/stellar.yaml" },
    ]);
    // beside the exact name it is a collision (pathCollisions), not this; one the base had is not new
    expect(foldedStandIns([".gitattributes", ".GitAttributes"], [], names)).toEqual([]);
    expect(foldedStandIns(["secrets/.GitAttributes"], ["secrets/.GitAttributes"], names)).toEqual([]);
    // a trailing space or dot (Windows drops it), NFD
    expect(foldedStandIns(["stellar.yaml ", "x/.sops.yaml."], [], names)).toEqual([
      { path: "stellar.yaml ", as: "stellar.yaml" },
      { path: "x/.sops.yaml.", as: "x/.sops.yaml" },
    ]);
  });
});

describe("openedAs", () => {
  it("is the exact name when listed, else a lone name that a case-insensitive checkout opens by it", () => {
    expect(openedAs([".sops.yaml", ".SOPS.yaml"], ".sops.yaml")).toBe(".sops.yaml");
    expect(openedAs(["README.md", ".SOPS.yaml"], ".sops.yaml")).toBe(".SOPS.yaml");
    expect(openedAs([".Sops.yaml", ".SOPS.yaml"], ".sops.yaml")).toBe(".SOPS.yaml");
    expect(openedAs([".gitattributes.bak", "gitattributes"], ".gitattributes")).toBeUndefined();
  });
});

describe("pathOpenedAs", () => {
  it("is the path opened as a folder's file among paths from the top: exact, else a case variant in that folder only; .sops.yml is no .sops.yaml", () => {
    const files = [".SOPS.yaml", "infra/.gitattributes", "ops/.GitAttributes", "ops/x/.sops.yaml", ".sops.yml"];
    expect(pathOpenedAs(files, ".sops.yaml")).toBe(".SOPS.yaml");
    expect(pathOpenedAs(files, "infra/.gitattributes")).toBe("infra/.gitattributes");
    expect(pathOpenedAs(files, "ops/.gitattributes")).toBe("ops/.GitAttributes");
    expect(pathOpenedAs(files, "ops/.sops.yaml")).toBeUndefined();
    expect(pathOpenedAs([".sops.yml"], ".sops.yaml")).toBeUndefined();
  });
});

describe("refusedPaths", () => {
  it("names the paths with a component git refuses to check out (.git in any spelling, git~1) that the base did not have", () => {
    const head = ["secrets/.git", "a/.GIT/config", "b/.git. /x", "c/.g\u200cit", "d/GIT~1/y", "e/.gitignore", "f/.github/x", "g/git", "h/.git2"];
    expect(refusedPaths(head, ["a/.GIT/config"])).toEqual(["b/.git. /x", "c/.g\u200cit", "d/GIT~1/y", "secrets/.git"]);
    expect(["e/.gitignore", "f/.github/x"].some((p) => p.split("/").some(isGitFolderName))).toBe(false);
  });
});
