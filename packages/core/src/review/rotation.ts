/**
 * The rotation schedule: how old a value is (from its history) against the catalog's
 * `rotate_every`. One computation for the `stale` report and the `rotation-overdue` rule.
 */
import { diagnosticAt, type Diagnostic } from "../diagnostics.js";
import type { Severity } from "../rules.js";
import type { WorkspaceIndex } from "../workspace.js";
import { lastValueChanges, type HistoryEvent, type TrackedFile } from "./history.js";

const DAY = 24 * 60 * 60 * 1000;
const UNIT_DAYS = { d: 1, w: 7, m: 30, y: 365 } as const;

/**
 * The days in a rotation duration: a number and d (days), w (weeks), m (months of 30 days) or
 * y (years of 365 days), e.g. `90d`, `12w`, `6m`, `1y`. Undefined when `text` is not one.
 */
export function durationDays(text: string): number | undefined {
  const match = /^(\d+)([dwmy])$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_DAYS[match[2] as keyof typeof UNIT_DAYS];
}

/** When a value was last set. */
export interface ValueChange {
  /** ISO 8601 date. */
  date: string;
  /** The commit id; "" for an uncommitted change in the working tree. */
  commit: string;
}

/**
 * Where the values of secrets were last set (added or changed; a re-encryption does not count),
 * e.g. from git history. Injected into the checker to enable `rotation-overdue`.
 */
export interface ValueHistory {
  /** The last time the value of `name` in `environment` was set; undefined when no history shows it. */
  lastValueChange(environment: string, name: string): ValueChange | undefined;
}

/** A {@link ValueHistory} over history events (oldest first), as {@link lastValueChanges} reads them. */
export function valueHistoryOf(events: readonly HistoryEvent[]): ValueHistory {
  const last = lastValueChanges(events);
  return { lastValueChange: (environment, name) => last.get(`${environment}\u0000${name}`) };
}

/**
 * The environment files whose history `rotation-overdue` needs: each environment file that defines
 * a secret whose catalog entry has a valid `rotate_every`, in environment order. Empty (no history
 * needs reading, e.g. no git needs running) when no secret has one, when stellar.yaml turns the
 * rule off, or when stellar.yaml is not usable. Pure: the caller reads the history of these files
 * (`readValueHistory` of `@stellar-secrets/git`) and passes it to `checkWorkspace`.
 */
export function rotationTrackedFiles(index: WorkspaceIndex): TrackedFile[] {
  if (!index.projectUsable || index.catalog === undefined || index.project.rules["rotation-overdue"] === "off") return [];
  const environments = new Set<string>();
  for (const [name, entry] of index.catalog.entries) {
    if (entry.rotate_every === undefined || durationDays(entry.rotate_every) === undefined) continue;
    for (const def of index.secret(name)?.definitions ?? []) environments.add(def.environment);
  }
  const out: TrackedFile[] = [];
  for (const environment of environments) {
    const file = index.environmentFiles.get(environment);
    if (file !== undefined) out.push({ environment, path: file.path });
  }
  return out;
}

/**
 * How old a value is and whether it is overdue: its age in whole days since `lastChange` (null
 * when no history shows when it was set) and `overdue` when that is more than `limitDays`, or
 * unknown (nobody can show when it was last set).
 */
export function valueAge(lastChange: Pick<ValueChange, "date"> | undefined, limitDays: number, now: Date): { ageDays: number | null; overdue: boolean } {
  const ageDays = lastChange === undefined ? null : Math.floor((now.getTime() - Date.parse(lastChange.date)) / DAY);
  return { ageDays, overdue: ageDays === null || ageDays > limitDays };
}

/**
 * `rotation-overdue` diagnostics (at `severity`): every definition, in an environment file, of a
 * secret whose catalog entry has a valid `rotate_every` and whose value is older than that by
 * `history` (or not shown by it at all), at the secret's name.
 */
export function rotationDiagnostics(index: WorkspaceIndex, history: ValueHistory, now: Date, severity: Severity): Diagnostic[] {
  const catalog = index.catalog;
  if (catalog === undefined) return [];
  const out: Diagnostic[] = [];
  for (const [name, entry] of catalog.entries) {
    if (entry.rotate_every === undefined) continue;
    const limitDays = durationDays(entry.rotate_every);
    if (limitDays === undefined) continue; // a schema diagnostic already
    for (const def of index.secret(name)?.definitions ?? []) {
      const file = index.environmentFiles.get(def.environment);
      if (file === undefined) continue;
      const last = history.lastValueChange(def.environment, name);
      const { ageDays, overdue } = valueAge(last, limitDays, now);
      if (!overdue) continue;
      const fix = `rotate it at the provider, then \`stellar-secrets set ${name} --env ${def.environment}\``;
      const when =
        last === undefined || ageDays === null
          ? `no commit shows when the value of secret "${name}" in ${def.environment} was last set (only re-encryptions, or no history)`
          : `the value of secret "${name}" in ${def.environment} was last set ${ageDays} days ago (${last.date.slice(0, 10)}${last.commit === "" ? ", uncommitted" : `, commit ${last.commit.slice(0, 10)}`})`;
      out.push(
        diagnosticAt(
          "rotation-overdue",
          severity,
          def.file,
          file.lines,
          def.range,
          `${when}, and the catalog says to rotate it every ${entry.rotate_every} (${limitDays} days); ${fix}`,
          { secret: name },
        ),
      );
    }
  }
  return out;
}
