import { describe, expect, it } from "vitest";
import { gitattributesCandidates, mergeAttribute, weakenedMergeDriver } from "./gitattributes.js";

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
