import { describe, expect, it } from "vitest";
import { parseRawLog } from "./git-history.js";

const R = "\u001e";
const F = "\u001f";
const sha = (c: string): string => c.repeat(40);
const zero = "0".repeat(40);

describe("parseRawLog", () => {
  it("reads commits, adds, modifications, deletions, renames and combined merge lines", () => {
    const log = [
      `${R}${sha("m")}${F}${sha("p")} ${sha("q")}${F}Ann${F}ann@x${F}2024-01-04T00:00:00+00:00${F}merge\n\n::100644 100644 100644 ${sha("1")} ${sha("2")} ${sha("3")} MM\ts/p.enc.yaml\n`,
      `${R}${sha("r")}${F}${sha("a")}${F}Bob${F}bob@x${F}2024-01-03T00:00:00+00:00${F}move\n\n:100644 100644 ${sha("4")} ${sha("4")} R100\told/p.enc.yaml\ts/p.enc.yaml\n`,
      `${R}${sha("d")}${F}${sha("c")}${F}Cy${F}cy@x${F}2024-01-02T00:00:00+00:00${F}drop: a message with | bars\n\n:100644 000000 ${sha("5")} ${zero} D\ts/q.enc.yaml\n:000000 100644 ${zero} ${sha("6")} A\ts/n.enc.yaml\n`,
    ].join("");
    const parsed = parseRawLog(log);
    expect(parsed.map((c) => c.info.message)).toEqual(["merge", "move", "drop: a message with | bars"]);
    expect(parsed[0]?.changes).toEqual([{ path: "s/p.enc.yaml", before: [sha("1"), sha("2")], after: sha("3") }]);
    expect(parsed[1]?.changes).toEqual([{ path: "s/p.enc.yaml", renamedFrom: "old/p.enc.yaml", before: [sha("4")], after: sha("4") }]);
    expect(parsed[2]?.changes).toEqual([
      { path: "s/q.enc.yaml", before: [sha("5")], after: undefined },
      { path: "s/n.enc.yaml", before: [undefined], after: sha("6") },
    ]);
    expect(parsed[2]?.info).toEqual({ commit: sha("d"), author: "Cy", email: "cy@x", date: "2024-01-02T00:00:00+00:00", message: "drop: a message with | bars" });
  });
});
