import { describe, expect, it } from "vitest";
import { secretMatrix, type MatrixColumn } from "./matrix.js";

/** A column whose entries array counts every element read (index access or iteration). */
function countingColumn(environment: string, names: string[], counter: { reads: number }): MatrixColumn {
  const entries = names.map((name) => ({ name, raw: name.endsWith("_EMPTY") ? "" : "ENC[...]" }));
  const proxy = new Proxy(entries, {
    get(target, key, receiver) {
      if (typeof key === "string" && /^\d+$/.test(key)) counter.reads++;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return { environment, file: { entries: proxy as never } };
}

describe("secretMatrix", () => {
  it("gives each name its state per environment, sorted by name", () => {
    const dev: MatrixColumn = { environment: "dev", file: { entries: [{ name: "B", raw: "ENC[x]" }, { name: "A", raw: "" }] as never } };
    const prod: MatrixColumn = { environment: "prod", file: undefined };
    expect(secretMatrix([dev, prod], [dev, prod])).toEqual([
      { name: "A", states: { dev: "empty", prod: "missing" } },
      { name: "B", states: { dev: "set", prod: "missing" } },
    ]);
    // a column filter keeps names from every file but shows only the chosen columns
    expect(secretMatrix([dev, prod], [prod])).toEqual([
      { name: "A", states: { prod: "missing" } },
      { name: "B", states: { prod: "missing" } },
    ]);
  });

  it("reads each entry a constant number of times (linear, not names × entries)", () => {
    const n = 5_000;
    const counter = { reads: 0 };
    const names = Array.from({ length: n }, (_, i) => `SECRET_${i}`);
    const a = countingColumn("a", names, counter);
    const b = countingColumn("b", names.slice(0, n / 2), counter);
    const rows = secretMatrix([a, b], [a, b]);
    expect(rows).toHaveLength(n);
    // a scan per cell would read ~n²/2 = 12.5 million entries; an index reads each once
    expect(counter.reads).toBeLessThanOrEqual(2 * (n + n / 2));
  });
});
