import { describe, expect, it } from "vitest";
import { humanList, plural, renderTable, shortRecipient } from "./format.js";
import { terminalLines } from "./format.js";

describe("format", () => {
  it("aligns table columns without trailing spaces", () => {
    expect(renderTable(["NAME", "dev", "REFS"], [["stripe_api_key", "set", "2"], ["a", "missing", ""]])).toBe(
      "NAME            dev      REFS\nstripe_api_key  set      2\na               missing\n",
    );
  });
  it("writes lists and counts for people", () => {
    expect(humanList(["a"])).toBe("a");
    expect(humanList(["a", "b", "c"])).toBe("a, b and c");
    expect(plural(1, "secret")).toBe("1 secret");
    expect(plural(2, "secret")).toBe("2 secrets");
    expect(shortRecipient("age1" + "q".repeat(58))).toBe("age1qqqqqq…qqqqqq");
  });
});

describe("terminalLines", () => {
  it("joins lines, each with its control characters shown escaped, so a name cannot erase or fake a line", () => {
    expect(terminalLines(["a\u001b[1A\u001b[2K", "b\nSummary: fake\r", "ok"])).toBe("a\\x1b[1A\\x1b[2K\nb\\nSummary: fake\\r\nok\n");
    expect(terminalLines([])).toBe("");
  });
});
