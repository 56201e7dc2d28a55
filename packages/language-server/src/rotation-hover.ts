/**
 * The rotation status of a secret in its hover: per environment where its value is set, when
 * that value was last set by the project's value history, against the catalog's `rotate_every`
 * (the same computation as `rotation-overdue` and `stale`: core's `valueAge`).
 */
import { durationDays, valueAge } from "@stellar-secrets/core";
import type { ProjectModel } from "./model.js";

/**
 * Markdown lines for the hover of `name` whose catalog entry says `rotateEvery`: one line per
 * environment file that defines it when the model has a value history, e.g.
 * `production: last set 2026-01-02 (200 days ago; rotate every 90d: overdue)`; else the schedule only.
 */
export function rotationHover(model: ProjectModel, name: string, rotateEvery: string, now = new Date()): string {
  const limitDays = durationDays(rotateEvery);
  const history = model.history;
  if (history === undefined || limitDays === undefined) return `Rotate every ${rotateEvery}`;
  const lines: string[] = [];
  for (const environment of new Set(model.keysOf(name).map((k) => k.environment))) {
    const last = history.lastValueChange(environment, name);
    const { ageDays, overdue } = valueAge(last, limitDays, now);
    const left = limitDays - (ageDays ?? 0);
    const status = overdue ? "overdue" : left === 0 ? "due today" : `due in ${left} day${left === 1 ? "" : "s"}`;
    lines.push(
      last === undefined || ageDays === null
        ? `${environment}: no commit shows when the value was last set (rotate every ${rotateEvery}: ${status})`
        : `${environment}: last set ${last.date.slice(0, 10)}${last.commit === "" ? ", uncommitted" : ""} (${ageDays} day${ageDays === 1 ? "" : "s"} ago; rotate every ${rotateEvery}: ${status})`,
    );
  }
  return lines.length === 0 ? `Rotate every ${rotateEvery}` : lines.join("  \n");
}
