import { describe, expect, it } from "vitest";
import { checkoutRewrites, exportIgnored, exportSubstituted, gitattributesCandidates, mergeAttribute, mergeDriverBypassed, rewrittenCheckout, weakenedDiffDriver, weakenedMergeDriver } from "./gitattributes.js";

const SETUP = "secrets/*.enc.yaml diff=stellar merge=stellar\n";
const P = "secrets/production.enc.yaml";

describe("mergeAttribute (git's merge attribute of one path, from .gitattributes texts)", () => {
  it("takes the last matching line, basename patterns at any depth, macros and unset forms", () => {
    expect(mergeAttribute([{ dir: "", text: SETUP }], P)).toBe("stellar");
    expect(mergeAttribute([{ dir: "", text: `${SETUP}*.yaml merge=union\n` }], P)).toBe("union");
    expect(mergeAttribute([{ dir: "", text: `${SETUP}secrets/** -merge\n` }], P)).toBe("unset");
    expect(mergeAttribute([{ dir: "", text: `${SETUP}*.enc.yaml binary\n` }], P)).toBe("unset");
    expect(mergeAttribute([{ dir: "", text: `${SETUP}/secrets/production.enc.yaml merge\n` }], P)).toBe("set");
    expect(mergeAttribute([{ dir: "", text: `${SETUP}secrets/*.enc.yaml !merge\n` }], P)).toBeUndefined();
    expect(mergeAttribute([{ dir: "", text: "# nothing\n" }], P)).toBeUndefined();
    expect(mergeAttribute([{ dir: "", text: SETUP }, { dir: "secrets", text: "*.yaml merge=text\n" }], P)).toBe("text");
    expect(mergeAttribute([{ dir: "", text: SETUP.replace("secrets/", "other/") }], P)).toBeUndefined();
  });
});

describe("weakenedMergeDriver", () => {
  it("names the environment files that the base merged with the stellar driver and the head does not", () => {
    const base = { ".gitattributes": SETUP };
    expect(weakenedMergeDriver((r) => base[r as keyof typeof base], (r) => ({ ".gitattributes": "secrets/*.enc.yaml diff=stellar merge=union\n" })[r], "secrets", [P])).toEqual({
      file: ".gitattributes",
      line: 1,
      paths: [P],
      now: "union",
    });
    expect(weakenedMergeDriver((r) => base[r as keyof typeof base], () => undefined, "secrets", [P])).toMatchObject({ file: ".gitattributes", paths: [P], now: "unspecified" });
    expect(weakenedMergeDriver((r) => base[r as keyof typeof base], (r) => base[r as keyof typeof base], "secrets", [P])).toBeUndefined();
    // a base without the driver: nothing weakened
    expect(weakenedMergeDriver(() => undefined, () => undefined, "secrets", [P])).toBeUndefined();
    // the nested file can take it away too
    expect(weakenedMergeDriver((r) => base[r as keyof typeof base], (r) => ({ ".gitattributes": SETUP, "secrets/.gitattributes": "production.enc.yaml -merge\n" })[r], "secrets", [P])).toMatchObject({
      file: "secrets/.gitattributes",
      line: 1,
      now: "unset",
    });
  });
  it("lists where .gitattributes files are read from", () => {
    expect(gitattributesCandidates("secrets")).toEqual([".gitattributes", "secrets/.gitattributes"]);
    expect(gitattributesCandidates("config/secrets")).toEqual([".gitattributes", "config/.gitattributes", "config/secrets/.gitattributes"]);
  });
});

describe("attributes git applies that the reader must not miss", () => {
  const weakened = (head: string) =>
    weakenedMergeDriver((r) => (r === ".gitattributes" ? SETUP : undefined), (r) => (r === ".gitattributes" ? head : undefined), "secrets", [P]);

  it("expands macro attributes of the root file ([attr]), as git does", () => {
    expect(mergeAttribute([{ dir: "", text: `[attr]nomerge -merge\n${SETUP}secrets/*.enc.yaml nomerge\n` }], P)).toBe("unset");
    expect(mergeAttribute([{ dir: "", text: `[attr]textual merge=union diff\n${SETUP}*.enc.yaml textual\n` }], P)).toBe("union");
    // a macro of a macro
    expect(mergeAttribute([{ dir: "", text: `[attr]a merge=union\n[attr]b a\n${SETUP}*.enc.yaml b\n` }], P)).toBe("union");
    // git only reads macros from the root file
    expect(mergeAttribute([{ dir: "", text: SETUP }, { dir: "secrets", text: "[attr]nomerge -merge\n*.enc.yaml nomerge\n" }], P)).toBe("stellar");
    expect(weakened(`[attr]nomerge -merge\n${SETUP}secrets/*.enc.yaml nomerge\n`)).toMatchObject({ line: 3, now: "unset" });
  });

  it("reads C-quoted patterns", () => {
    expect(mergeAttribute([{ dir: "", text: `${SETUP}"secrets/*.enc.yaml" merge=union\n` }], P)).toBe("union");
    expect(mergeAttribute([{ dir: "", text: `${SETUP}"secrets/\\160roduction.enc.yaml" merge=union\n` }], P)).toBe("union");
    expect(weakened(`${SETUP}"secrets/*.enc.yaml" merge=union\n`)).toMatchObject({ line: 2, now: "union" });
  });

  it("reads a pattern as git's wildmatch does: a backslash escapes the next character, braces are literal", () => {
    expect(weakened(`${SETUP}secrets/\\production.enc.yaml merge=union\n`)).toMatchObject({ line: 2, now: "union" });
    expect(mergeAttribute([{ dir: "", text: `${SETUP}secrets/{production,staging}.enc.yaml merge=union\n` }], P)).toBe("stellar");
    expect(mergeAttribute([{ dir: "", text: `${SETUP}secrets/\\*.enc.yaml merge=union\n` }], P)).toBe("stellar");
  });

  it("counts a pattern that matches only case-insensitively (a clone with core.ignorecase, the default on macOS and Windows)", () => {
    expect(weakened(`${SETUP}Secrets/*.ENC.yaml merge=union\n`)).toMatchObject({ line: 2, now: "union" });
    expect(weakened(`${SETUP}Secrets/*.ENC.yaml diff=stellar\n`)).toBeUndefined();
  });
});

describe("rewrittenCheckout", () => {
  const read = (text: string | undefined) => (r: string) => (r === ".gitattributes" ? text : undefined);
  it("names environment files a head's .gitattributes re-encodes or filters on checkout, which the base did not", () => {
    expect(rewrittenCheckout(read(SETUP), read(`${SETUP}secrets/*.enc.yaml working-tree-encoding=UTF-16\n`), "secrets", [P])).toEqual({
      file: ".gitattributes",
      line: 2,
      paths: [P],
      attribute: "working-tree-encoding=UTF-16",
    });
    expect(rewrittenCheckout(read(SETUP), read(`[attr]lfs filter=lfs\n${SETUP}*.enc.yaml lfs\n`), "secrets", [P])).toMatchObject({ line: 3, attribute: "filter=lfs" });
    // UTF-8 is no re-encoding; what the base already had is not this change's
    expect(rewrittenCheckout(read(SETUP), read(`${SETUP}*.enc.yaml working-tree-encoding=utf-8\n`), "secrets", [P])).toBeUndefined();
    const had = `${SETUP}*.enc.yaml filter=crypt\n`;
    expect(rewrittenCheckout(read(had), read(had), "secrets", [P])).toBeUndefined();
    expect(rewrittenCheckout(read(SETUP), read(SETUP), "secrets", [P])).toBeUndefined();
  });
});

describe("exportIgnored", () => {
  const read = (text: string | undefined) => (r: string) => (r === ".gitattributes" ? text : undefined);
  it("names stellar.yaml, environment files and the folders above them that a head's .gitattributes leaves out of git archive (export-ignore), which the base did not", () => {
    // without stellar.yaml an archive's resolver reads the default secrets/ folder (s24 attack)
    expect(exportIgnored(read(SETUP), read(`${SETUP}/stellar.yaml export-ignore\n`), "secrets", [P])).toEqual({ file: ".gitattributes", line: 2, paths: ["stellar.yaml"] });
    expect(exportIgnored(read(SETUP), read(`${SETUP}*.enc.yaml export-ignore\n`), "secrets", [P])).toMatchObject({ line: 2, paths: [P] });
    // a folder above the files, a folder-only pattern, a macro, a pattern only a case-insensitive clone applies
    expect(exportIgnored(read(SETUP), read(`${SETUP}secrets/ export-ignore\n`), "secrets", [P])).toMatchObject({ paths: ["secrets"] });
    expect(exportIgnored(read(SETUP), read(`[attr]skip export-ignore\n${SETUP}config skip\n`), "config/vault", ["config/vault/production.enc.yaml"])).toMatchObject({ line: 3, paths: ["config"] });
    expect(exportIgnored(read(SETUP), read(`${SETUP}Stellar.yaml export-ignore\n`), "secrets", [P])).toMatchObject({ paths: ["stellar.yaml"] });
    // unset, what the base already had, and other files are not this change's
    expect(exportIgnored(read(SETUP), read(`${SETUP}*.yaml export-ignore\n*.yaml -export-ignore\n`), "secrets", [P])).toBeUndefined();
    const had = `${SETUP}/stellar.yaml export-ignore\n`;
    expect(exportIgnored(read(had), read(had), "secrets", [P])).toBeUndefined();
    expect(exportIgnored(read(SETUP), read(`${SETUP}docs/ export-ignore\n*.md export-ignore\n`), "secrets", [P])).toBeUndefined();
  });
});

describe("exportSubstituted", () => {
  const read = (text: string | undefined) => (r: string) => (r === ".gitattributes" ? text : undefined);
  it("names stellar.yaml and environment files (or folders above them) that a head's .gitattributes gives export-subst, which the base did not: git archive rewrites their $Format:…$ (a %n makes new lines) in what is deployed (s24 newattack)", () => {
    expect(exportSubstituted(read(SETUP), read(`${SETUP}/stellar.yaml export-subst\n`), "secrets", [P])).toEqual({ file: ".gitattributes", line: 2, paths: ["stellar.yaml"] });
    expect(exportSubstituted(read(SETUP), read(`${SETUP}* export-subst\n`), "secrets", [P])).toMatchObject({ paths: ["stellar.yaml", P] });
    expect(exportSubstituted(read(SETUP), read(`[attr]sub export-subst\n${SETUP}stellar.yaml sub\n`), "secrets", [P])).toMatchObject({ line: 3, paths: ["stellar.yaml"] });
    // export-ignore is not export-subst; what the base had, or other files, are not this change's
    expect(exportSubstituted(read(SETUP), read(`${SETUP}/stellar.yaml export-ignore\n`), "secrets", [P])).toBeUndefined();
    const had = `${SETUP}/stellar.yaml export-subst\n`;
    expect(exportSubstituted(read(had), read(had), "secrets", [P])).toBeUndefined();
    expect(exportSubstituted(read(SETUP), read(`${SETUP}version.txt export-subst\n`), "secrets", [P])).toBeUndefined();
    // a .gitattributes in a config file's folder counts for the files below it
    const nested = (text: string | undefined) => (r: string) => (r === ".gitattributes" ? SETUP : r === "connections/.gitattributes" ? text : undefined);
    expect(exportSubstituted(nested(undefined), nested("*.yaml export-subst\n"), "secrets", [P, "connections/stripe.yaml"])).toEqual({ file: "connections/.gitattributes", line: 1, paths: ["connections/stripe.yaml"] });
  });
});

describe("weakenedDiffDriver", () => {
  it("names the environment files that the base showed through the stellar textconv and the head does not", () => {
    const base = { ".gitattributes": SETUP };
    const head = (text: string) => (r: string) => ({ ".gitattributes": text })[r];
    expect(weakenedDiffDriver((r) => base[r as keyof typeof base], head("secrets/*.enc.yaml -diff merge=stellar\n"), "secrets", [P])).toEqual({ file: ".gitattributes", line: 1, paths: [P], now: "unset" });
    expect(weakenedDiffDriver((r) => base[r as keyof typeof base], head(`${SETUP}*.enc.yaml binary\n`), "secrets", [P])).toMatchObject({ line: 2, now: "unset" });
    expect(weakenedDiffDriver((r) => base[r as keyof typeof base], head("secrets/*.enc.yaml merge=stellar\n"), "secrets", [P])).toMatchObject({ now: "unspecified" });
    expect(weakenedDiffDriver((r) => base[r as keyof typeof base], head(SETUP), "secrets", [P])).toBeUndefined();
    expect(weakenedDiffDriver(() => undefined, () => undefined, "secrets", [P])).toBeUndefined();
  });
});

describe("mergeDriverBypassed and checkoutRewrites (one state: what check reports)", () => {
  const TOP = "infra/secrets/production.enc.yaml";
  it("reports a line that overrides merge=stellar (later, deeper, !merge), at the deciding line", () => {
    expect(mergeDriverBypassed([{ dir: "", text: SETUP }], [P])).toBeUndefined();
    expect(mergeDriverBypassed([{ dir: "", text: `${SETUP}secrets/production.enc.yaml -merge\n` }], [P])).toEqual({ file: ".gitattributes", line: 2, paths: [P], now: "unset" });
    expect(mergeDriverBypassed([{ dir: "", text: SETUP }, { dir: "secrets", text: "*.yaml !merge\n" }], [P])).toEqual({ file: "secrets/.gitattributes", line: 1, paths: [P], now: "unspecified" });
    // a deeper file's merge=stellar wins over the top's line: git uses the driver
    expect(mergeDriverBypassed([{ dir: "", text: "infra/secrets/*.enc.yaml merge=union\n" }, { dir: "infra", text: SETUP }], [TOP])).toBeUndefined();
    // only a clone with core.ignorecase applies a pattern in other case: it counts
    expect(mergeDriverBypassed([{ dir: "", text: `${SETUP}Secrets/*.enc.yaml -merge\n` }], [P])).toMatchObject({ line: 2, now: "unset" });
  });
  it("reads macros from the top's file only: one defined there takes the files off, one defined below is not read", () => {
    const top = { dir: "", text: "[attr]nomerge -merge\n" };
    expect(mergeDriverBypassed([top, { dir: "infra", text: `${SETUP}secrets/*.enc.yaml nomerge\n` }], [TOP])).toEqual({ file: "infra/.gitattributes", line: 2, paths: [TOP], now: "unset" });
    // infra's own macro: git ignores it, so its use sets nothing (merge=stellar was meant through it)
    const own = { dir: "infra", text: "[attr]sealed diff=stellar merge=stellar\nsecrets/*.enc.yaml sealed\n" };
    expect(mergeDriverBypassed([own], [TOP])).toEqual({ file: "infra/.gitattributes", line: 2, paths: [TOP], now: "unspecified", unreadMacro: true });
    expect(mergeDriverBypassed([{ dir: "", text: own.text }], [P])).toBeUndefined();
  });
  it("reports merge=union whatever else is written, and nothing for a project that never set the driver up", () => {
    expect(mergeDriverBypassed([{ dir: "", text: "*.yaml merge=union\n" }], [P])).toEqual({ file: ".gitattributes", line: 1, paths: [P], now: "union" });
    expect(mergeDriverBypassed([{ dir: "", text: "*.enc.yaml -merge\n" }], [P])).toBeUndefined();
    expect(mergeDriverBypassed([], [P])).toBeUndefined();
  });
  it("names a lone case variant by its own name", () => {
    expect(mergeDriverBypassed([{ dir: "", text: SETUP }, { dir: "secrets", name: ".GitAttributes", text: "*.enc.yaml merge=union\n" }], [P])).toMatchObject({ file: "secrets/.GitAttributes", line: 1 });
  });
  it("finds a filter or a working-tree-encoding on the files, with no base to compare with", () => {
    expect(checkoutRewrites([{ dir: "", text: `${SETUP}secrets/*.enc.yaml filter=lfs\n` }], [P])).toEqual({ file: ".gitattributes", line: 2, paths: [P], attribute: "filter=lfs" });
    expect(checkoutRewrites([{ dir: "", text: `${SETUP}*.yaml working-tree-encoding=UTF-8\n` }], [P])).toBeUndefined();
    expect(checkoutRewrites([{ dir: "", text: SETUP }], [P])).toBeUndefined();
  });
});
