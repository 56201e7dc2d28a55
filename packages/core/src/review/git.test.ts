/**
 * `folderSource`: a nested project's view of the outer project's git, over an in-memory fake.
 */
import { describe, expect, it } from "vitest";
import { folderSource, type GitSource } from "./git.js";

const files = new Map([
  ["stellar.yaml", "b0"],
  ["teams/labs/stellar.yaml", "b1"],
  ["teams/labs/x.yaml", "b2"],
  ["teams/labs-old/y.yaml", "b3"],
  ["teams/labs/deep/stellar.yaml", "b4"],
]);

const outer: GitSource & Required<Pick<GitSource, "filesInIndex">> = {
  prefix: "infra",
  hasHead: async () => true,
  resolve: async (ref) => `${ref}-id`,
  mergeBase: async (a) => a,
  filesAt: async () => files,
  renames: async () => new Map([["teams/labs/new.yaml", "teams/labs/old.yaml"], ["teams/labs/in.yaml", "elsewhere/out.yaml"]]),
  readBlobs: async (ids) => new Map(ids.map((id) => [id, `text of ${id}`])),
  filesInIndex: async () => files,
  linksAt: async () => new Map([["teams/labs/link", "b5"], ["link", "b6"]]),
  log: async (args) => args.join(" "),
};

describe("folderSource", () => {
  it("lists only the folder's files, relative to it, with the folder added to the prefix", async () => {
    const labs = folderSource(outer, "teams/labs");
    expect(labs.prefix).toBe("infra/teams/labs");
    const expected = new Map([["stellar.yaml", "b1"], ["x.yaml", "b2"], ["deep/stellar.yaml", "b4"]]);
    expect(await labs.filesInIndex()).toEqual(expected);
    expect(await labs.filesAt("HEAD")).toEqual(expected);
    expect(await labs.linksAt?.(undefined)).toEqual(new Map([["link", "b5"]]));
    // a rename from outside the folder is no rename inside it
    expect(await labs.renames("a", undefined)).toEqual(new Map([["new.yaml", "old.yaml"]]));
    expect(await labs.readBlobs(["b2"])).toEqual(new Map([["b2", "text of b2"]]));
    expect(folderSource({ ...outer, prefix: "" }, "teams/labs").prefix).toBe("teams/labs");
  });

  it("has filesInIndex and linksAt only when the outer source has them", () => {
    const { filesInIndex: _i, linksAt: _l, ...bare } = outer;
    const view = folderSource(bare, "teams/labs");
    expect(view.filesInIndex).toBeUndefined();
    expect(view.linksAt).toBeUndefined();
  });
});
