/**
 * SARIF 2.1.0 logs, one shape for every command that writes them (`check --format sarif`,
 * `review --format sarif`): the tool driver and its rules come from core's RULES table, plus the
 * rules of a command that finds problems no checker rule names (e.g. review's `unrotated-removal`).
 * Pure: data in, a JSON-ready object out.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { RULES, type Diagnostic, type Severity } from "@stellar-secrets/core";
import { escapeControlCharacters, isInside } from "@stellar-secrets/sops";

/** A rule of the driver that is not a checker rule (its id must not be one of RULES'). */
export interface ExtraRule {
  id: string;
  severity: Severity;
  summary: string;
  /** Where the rule is documented. */
  helpUri: string;
}

/** One result: a rule id, a level, a message, and where (1-based lines and columns) when known. */
export interface SarifResultInput {
  ruleId: string;
  severity: Severity;
  message: string;
  /** Relative to the root, `/`-separated. */
  file?: string;
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
  /** SARIF `baselineState`: whether the result is new compared with a base. */
  baselineState?: "new" | "unchanged";
  properties?: Record<string, string | boolean | string[]>;
}

/** The result of a checker diagnostic: its rule, severity, message and range. */
export function diagnosticResult(d: Diagnostic): SarifResultInput {
  return { ruleId: d.rule, severity: d.severity, message: d.message, file: d.file, line: d.line, column: d.column, endLine: d.endLine, endColumn: d.endColumn };
}

/**
 * A message as SARIF plain text: control, bidi and invisible characters shown as escapes (viewers
 * print the text to a page or a terminal), and square brackets escaped with a backslash (SARIF
 * 2.1.0 §3.11.6), so that a name in the message cannot become an embedded link, `[text](uri)` or
 * `[text](n)`.
 */
export function sarifText(message: string): string {
  return escapeControlCharacters(message).replace(/[[\]]/g, (c) => `\\${c}`);
}

const level = (s: Severity): string => (s === "info" ? "note" : s);

/**
 * The most results GitHub code scanning accepts in one run: it rejects a SARIF file with a run
 * of more ("Analysis SARIF file rejected due to result limits"; of those it takes, it stores and
 * shows the first 5,000 by severity). See docs/ci.md.
 */
export const SARIF_MAX_RESULTS = 25_000;

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/**
 * The results a run keeps under a cap of `max`: all of them when there are no more; else the
 * `max` most important ones (errors, then warnings, then infos; within a level `baselineState`
 * "new" before the others; otherwise in the order given), still in the order given. Also how many
 * of each level were left out.
 */
export function capResults<T extends Pick<SarifResultInput, "severity" | "baselineState">>(
  results: readonly T[],
  max: number,
): { kept: T[]; omitted: Record<Severity, number> } {
  const omitted: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  if (results.length <= max) return { kept: [...results], omitted };
  const rank = (r: T): number => SEVERITY_RANK[r.severity] * 2 + (r.baselineState === "new" ? 0 : 1);
  const order = results.map((_, i) => i).sort((a, b) => rank(results[a] as T) - rank(results[b] as T) || a - b);
  const keep = new Set(order.slice(0, Math.max(0, max)));
  const kept: T[] = [];
  results.forEach((r, i) => {
    if (keep.has(i)) kept.push(r);
    else omitted[r.severity]++;
  });
  return { kept, omitted };
}

/** "1 error and 2 warnings" of the counts that are not zero. */
function countsInWords(counts: Record<Severity, number>): string {
  const parts = (["error", "warning", "info"] as const).filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}${counts[s] === 1 ? "" : "s"}`);
  return parts.length <= 1 ? (parts[0] ?? "none") : `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1] as string}`;
}
const pascal = (id: string): string => id.replace(/(^|-)([a-z])/g, (_m, _d: string, c: string) => c.toUpperCase());

/**
 * A SARIF 2.1.0 log with one run of `stellar-secrets` (`version`), whose driver lists every
 * checker rule then `extraRules`; file locations are relative to `root` (uriBaseId SRCROOT).
 * Throws when an extra rule id repeats a checker rule's. A result whose rule is not in the driver
 * keeps its `ruleId` without a `ruleIndex`. Messages are written by {@link sarifText}; a result whose
 * file is not inside `root` has no location.
 *
 * At most `maxResults` results (default {@link SARIF_MAX_RESULTS}, what GitHub code scanning
 * accepts) are written, chosen by {@link capResults} (errors first). When some are left out the run
 * says so: an invocation (`executionSuccessful` true) with a `toolExecutionNotifications` warning
 * (`descriptor.id` "results-truncated") naming how many of each level were left out, and the run's
 * `properties` `resultsTruncated` true, `resultsTotal`, `resultsOmitted` ({ error, warning, note }).
 * Without a cut the log has neither.
 */
export function sarifLog(
  results: readonly SarifResultInput[],
  options: { root: string; version: string; extraRules?: readonly ExtraRule[]; maxResults?: number },
): object {
  const { kept, omitted } = capResults(results, options.maxResults ?? SARIF_MAX_RESULTS);
  const cut = kept.length < results.length;
  const rules = [
    ...RULES.map((r) => ({ id: r.id, severity: r.severity, summary: r.summary, helpUri: `https://stellar-secrets.dev/docs/rules#${r.id}` })),
    ...(options.extraRules ?? []),
  ];
  const ruleIndex = new Map<string, number>();
  rules.forEach((r, i) => {
    if (ruleIndex.has(r.id)) throw new Error(`SARIF rule id ${r.id} is defined twice`);
    ruleIndex.set(r.id, i);
  });
  const root = options.root;
  // pathToFileURL percent-encodes what a path may hold and a URI may not (`#`, `?`, `%`, spaces);
  // a file's URI relative to the root is the tail of its own file URL.
  const href = pathToFileURL(root).href;
  const rootUri = href.endsWith("/") ? href : `${href}/`;
  // a file that is not inside the root (`..`) has no URI relative to it: its result gets no location
  // rather than one that names another file
  const relativeUri = (file: string): string | undefined => {
    const path = join(root, file);
    return path !== join(root, ".") && isInside(root, path) ? pathToFileURL(path).href.slice(rootUri.length) : undefined;
  };
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "stellar-secrets",
            version: options.version,
            informationUri: "https://stellar-secrets.dev/docs/rules",
            rules: rules.map((r) => ({
              id: r.id,
              name: pascal(r.id),
              shortDescription: { text: r.summary },
              defaultConfiguration: { level: level(r.severity) },
              helpUri: r.helpUri,
            })),
          },
        },
        ...(cut
          ? {
              invocations: [
                {
                  executionSuccessful: true,
                  toolExecutionNotifications: [
                    {
                      level: "warning",
                      descriptor: { id: "results-truncated" },
                      message: {
                        text:
                          `${results.length} results found, ${kept.length} written (GitHub code scanning rejects a run of more than ${SARIF_MAX_RESULTS} results): ` +
                          `left out ${countsInWords(omitted)}, errors kept first; run the same command with --format json or text to see every result`,
                      },
                    },
                  ],
                },
              ],
            }
          : {}),
        originalUriBaseIds: { SRCROOT: { uri: rootUri } },
        ...(cut ? { properties: { resultsTruncated: true, resultsTotal: results.length, resultsOmitted: { error: omitted.error, warning: omitted.warning, note: omitted.info } } } : {}),
        results: kept.map((d) => {
          const index = ruleIndex.get(d.ruleId);
          const uri = d.file === undefined ? undefined : relativeUri(d.file);
          const region =
            d.line === undefined
              ? undefined
              : { startLine: d.line, ...(d.column === undefined ? {} : { startColumn: d.column }), ...(d.endLine === undefined ? {} : { endLine: d.endLine }), ...(d.endColumn === undefined ? {} : { endColumn: d.endColumn }) };
          return {
            ruleId: d.ruleId,
            ...(index === undefined ? {} : { ruleIndex: index }),
            level: level(d.severity),
            message: { text: sarifText(d.message) },
            ...(uri === undefined ? {} : { locations: [{ physicalLocation: { artifactLocation: { uri, uriBaseId: "SRCROOT" }, ...(region === undefined ? {} : { region }) } }] }),
            ...(d.baselineState === undefined ? {} : { baselineState: d.baselineState }),
            ...(d.properties === undefined ? {} : { properties: d.properties }),
          };
        }),
      },
    ],
  };
}
