/**
 * The secrets × environments matrix of `list`: which names each environment file holds, and in
 * what state. Pure and linear in the number of entries (one index per file, one lookup per cell).
 */
import type { SecretsFile } from "@stellar-secrets/sops";

/** The state of one secret in one environment. */
export type CellState = "set" | "empty" | "missing";

/** One environment's column: its name and its file (undefined when it has none yet). */
export interface MatrixColumn {
  environment: string;
  file: Pick<SecretsFile, "entries"> | undefined;
}

/**
 * Every name set in `all` (sorted), with its state in each of `columns`. Each file's entries are
 * indexed once, so the cost is O(entries + names × columns), never names × entries.
 */
export function secretMatrix(all: readonly MatrixColumn[], columns: readonly MatrixColumn[]): { name: string; states: Record<string, CellState> }[] {
  const indexes = new Map<MatrixColumn, Map<string, CellState>>();
  const names = new Set<string>();
  for (const column of all) {
    const index = indexOf(column);
    for (const name of index.keys()) names.add(name);
    indexes.set(column, index);
  }
  const byColumn = columns.map((c) => ({ environment: c.environment, index: indexes.get(c) ?? indexOf(c) }));
  return [...names].sort().map((name) => {
    const states: Record<string, CellState> = {};
    for (const { environment, index } of byColumn) states[environment] = index.get(name) ?? "missing";
    return { name, states };
  });
}

function indexOf(column: MatrixColumn): Map<string, CellState> {
  const index = new Map<string, CellState>();
  for (const e of column.file?.entries ?? []) if (!index.has(e.name)) index.set(e.name, e.raw === "" ? "empty" : "set");
  return index;
}
