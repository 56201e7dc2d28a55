import { describe, expect, it } from "vitest";
import { rawLogEntries } from "./review.js";

const C1 = "1".repeat(40);
const C2 = "2".repeat(40);
const BLOB = "b".repeat(40);
const GITLINK = "3e541092c8aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

describe("rawLogEntries (git log --format=%H --raw --no-abbrev -z)", () => {
  it("gives each path a commit wrote with its new blob; leaves out deletions and a submodule put at the path (mode 160000: its id is another repository's commit, no blob here, so reading it failed the whole review with GIT_ERROR)", () => {
    // (as git writes it: "HASH\0\n:RAW\0PATH\0HASH\0\n:RAW\0PATH\0…")
    const log = [
      C1,
      `\n:100644 160000 ${BLOB} ${GITLINK} T`,
      "secrets/production.enc.yaml",
      C2,
      `\n:160000 100644 ${GITLINK} ${BLOB} T`,
      "secrets/production.enc.yaml",
      `:100644 000000 ${BLOB} ${"0".repeat(40)} D`,
      "secrets/staging.enc.yaml",
      "",
    ].join("\0");
    expect(rawLogEntries(log)).toEqual([{ commit: C2, path: "secrets/production.enc.yaml", blob: BLOB }]);
  });
});
