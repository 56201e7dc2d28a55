/**
 * The results of `stellar-secrets probe` and their text, JSON and markdown renderings: pure
 * functions over data that never holds a value (names, URLs without credentials, statuses).
 */
import type { ProbeStatus } from "@stellar-secrets/core";
import { stringifyJson } from "./json-text.js";
import { cellCode, markdownCode, markdownText } from "./markdown.js";

/** One probe of one connection (a connection has one, or two with an OAuth2 token request first). */
export interface ProbeResult {
  connection: string;
  /** Config file (relative to the root) and line of the connection. */
  file: string;
  line: number;
  /** `request`: the connection's probe; `token`: the OAuth2 token request of its connector; `none`: nothing to send. */
  probe: "request" | "token" | "none";
  status: ProbeStatus;
  /** The auth connector involved, if any. */
  connector?: string;
  method?: string;
  /** Where it was sent (origin, path and query; never user info). */
  url?: string;
  httpStatus?: number;
  /** Why: an unreachable reason, an unexpected answer's explanation, an unresolved error's message. */
  reason?: string;
  /** An error code: the resolver's for `unresolved`, the OAuth2 `error` for token requests. */
  code?: string;
  /** The secrets this probe tested (or, for `no-probe`, the secrets nothing tested). */
  secrets: string[];
}

/** The whole report. */
export interface ProbeReport {
  environment: string;
  results: ProbeResult[];
}

/** Order of badness, worst first: a secret's status is the worst of its probes. */
const SEVERITY: readonly ProbeStatus[] = ["rejected", "unresolved", "unexpected", "unreachable", "valid", "no-probe"];

/** Every status with its count, in {@link SEVERITY} order (zeros included). */
export function summarize(results: readonly ProbeResult[]): Record<ProbeStatus, number> {
  const out = Object.fromEntries(SEVERITY.map((s) => [s, 0])) as Record<ProbeStatus, number>;
  for (const r of results) out[r.status]++;
  return out;
}

/** Per secret: the worst status of the probes that used it, and the connections. Sorted by name. */
export function bySecret(results: readonly ProbeResult[]): { name: string; status: ProbeStatus; connections: string[] }[] {
  const map = new Map<string, { status: ProbeStatus; connections: Set<string> }>();
  for (const r of results) {
    for (const s of r.secrets) {
      const entry = map.get(s) ?? { status: "no-probe", connections: new Set<string>() };
      if (SEVERITY.indexOf(r.status) < SEVERITY.indexOf(entry.status)) entry.status = r.status;
      entry.connections.add(r.connection);
      map.set(s, entry);
    }
  }
  return [...map.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, e]) => ({ name, status: e.status, connections: [...e.connections].sort() }));
}

/** True when the report should fail the command (exit 1): a credential was rejected or could not be resolved. */
export function hasFailures(report: ProbeReport): boolean {
  return report.results.some((r) => r.status === "rejected" || r.status === "unresolved");
}

function outcome(r: ProbeResult): string {
  const parts: string[] = [];
  if (r.httpStatus !== undefined) parts.push(String(r.httpStatus));
  if (r.code !== undefined) parts.push(r.code);
  return parts.length > 0 ? `${r.status} (${parts.join(", ")})` : r.status;
}

function target(r: ProbeResult): string {
  if (r.url === undefined) return "";
  return `${r.probe === "token" ? "token " : ""}${r.method ?? "GET"} ${r.url}`;
}

function summaryLine(results: readonly ProbeResult[]): string {
  const counts = summarize(results);
  const parts = SEVERITY.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  return parts.length > 0 ? parts.join(", ") : "no connections";
}

/** The text rendering: a summary line, then one line per probe (and its reason on the next line). */
export function renderProbeText(report: ProbeReport): string {
  const out = [`probe ${report.environment}: ${summaryLine(report.results)}`];
  const width = Math.max(0, ...report.results.map((r) => r.connection.length));
  for (const r of report.results) {
    const secrets = r.secrets.length > 0 ? `  secrets: ${r.secrets.join(", ")}` : "";
    const t = target(r);
    out.push(`  ${r.connection.padEnd(width)}  ${outcome(r).padEnd(16)}${t === "" ? "" : `  ${t}`}${secrets}`);
    if (r.reason !== undefined) out.push(`  ${" ".repeat(width)}  ${r.reason}`);
  }
  return `${out.join("\n")}\n`;
}

/** The JSON rendering: `{ environment, summary, results, secrets }`. */
export function renderProbeJson(report: ProbeReport): string {
  return `${stringifyJson({ environment: report.environment, summary: summarize(report.results), results: report.results, secrets: bySecret(report.results) }, 2)}\n`;
}

const ICON: Record<ProbeStatus, string> = {
  valid: "✅",
  rejected: "❌",
  unresolved: "❌",
  unexpected: "⚠️",
  unreachable: "⚠️",
  "no-probe": "➖",
};

/** Text in a table cell: as markdownText escapes it (a pipe included), nothing becomes a link, a mention or markup. */
const cell = markdownText;

/** The markdown rendering (a scheduled CI job's summary or issue): a heading, a table per probe, the secrets that failed. */
export function renderProbeMarkdown(report: ProbeReport): string {
  const out = [`### Credential health: ${cell(report.environment)}`, "", `${summaryLine(report.results)}.`, ""];
  if (report.results.length > 0) {
    out.push("| connection | probe | result | secrets | details |", "| --- | --- | --- | --- | --- |");
    for (const r of report.results) {
      out.push(
        `| ${cell(r.connection)} | ${cellCode(target(r))} | ${ICON[r.status]} ${cell(outcome(r))} | ${r.secrets.map(cellCode).join(", ")} | ${cell(r.reason ?? "")} |`,
      );
    }
    out.push("");
  }
  const failing = bySecret(report.results).filter((s) => s.status === "rejected" || s.status === "unresolved");
  if (failing.length > 0) {
    out.push(`**Needs attention** (${failing.length}): ${failing.map((s) => `${markdownCode(s.name)} (${s.status}, ${s.connections.map(markdownText).join(", ")})`).join("; ")}.`);
    out.push(`Set a current value with ${markdownCode(`stellar-secrets set NAME --env ${report.environment}`)}, then run the probe again.`, "");
  }
  return `${out.join("\n")}\n`;
}

/**
 * Replaces every occurrence of each of `values` (6 characters or longer) in `text` by
 * `[redacted]`. Defence in depth for the report: it is built from names, URLs and statuses only,
 * so this should never find anything.
 */
export function redactValues(text: string, values: Iterable<string>): string {
  let out = text;
  for (const v of values) if (v.length >= 6 && out.includes(v)) out = out.split(v).join("[redacted]");
  return out;
}
