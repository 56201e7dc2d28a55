/**
 * The pure half of "Test Credential": which connection the editor is on, the CLI arguments, and
 * the message for `stellar-secrets probe --json` output. Names, statuses and URLs only: the
 * probe's JSON never holds a value, and nothing here reads one.
 */
import { join } from "node:path";

/** The `probe --json` fields this extension reads. */
interface ProbeJson {
  environment: string;
  results: { connection: string; probe: string; status: string; httpStatus?: number; code?: string; reason?: string; url?: string; method?: string; secrets: string[] }[];
}

/**
 * The name of the `kind: api_connection` document that holds `offset` in `text` (a YAML file of
 * one or more `---`-separated documents), or undefined.
 */
export function connectionAt(text: string, offset: number): string | undefined {
  let start = 0;
  for (const part of text.split(/^---[ \t]*$/m)) {
    const end = start + part.length;
    if (offset >= start && offset <= end + 4 && /^kind:[ \t]*["']?api_connection["']?[ \t]*$/m.test(part)) {
      return /^name:[ \t]*["']?([A-Za-z][A-Za-z0-9_.-]*)["']?[ \t]*$/m.exec(part)?.[1];
    }
    start = end + 3;
  }
  return undefined;
}

/**
 * The CLI Test Credential runs: the `stellarSecrets.cliPath` setting, else the project's
 * `node_modules/.bin/stellar-secrets`, else `stellar-secrets` on PATH. It runs with the person's
 * own age key, so in Restricted Mode it does not run at all: a folder not trusted yet may ship its
 * own `node_modules/.bin/stellar-secrets` (or name one in `.vscode/settings.json`) that would read
 * the key. Returns the command, or a refusal to show.
 */
export function cliCommand(options: { configured: string; root: string; trusted: boolean; platform: NodeJS.Platform; exists: (path: string) => boolean }): { command: string } | { refused: string } {
  if (!options.trusted) {
    return { refused: "Test Credential is disabled in Restricted Mode: it runs the stellar-secrets CLI with your age key, and this folder could provide its own. Trust this workspace first." };
  }
  if (options.configured !== "") return { command: options.configured };
  const local = join(options.root, "node_modules", ".bin", options.platform === "win32" ? "stellar-secrets.cmd" : "stellar-secrets");
  return { command: options.exists(local) ? local : "stellar-secrets" };
}

/** Arguments of the CLI run (never a value: the CLI resolves with the user's own key). */
export function probeArgs(connection: string, environment: string): string[] {
  return ["probe", connection, "--env", environment, "--json"];
}

/** What to show for the CLI's answer: severity and one line per probe. */
export function describeProbe(stdout: string): { severity: "info" | "warning" | "error"; message: string } {
  let report: ProbeJson;
  try {
    report = JSON.parse(stdout) as ProbeJson;
  } catch {
    return { severity: "error", message: "the probe gave no readable answer" };
  }
  const lines = report.results.map((r) => {
    const detail = [r.httpStatus, r.code].filter((x) => x !== undefined).join(", ");
    const what = r.probe === "token" ? "token request" : r.probe === "none" ? "" : `${r.method ?? "GET"} ${r.url ?? ""}`.trim();
    const secrets = r.secrets.length > 0 ? ` [${r.secrets.join(", ")}]` : "";
    return `${r.connection} in ${report.environment}: ${r.status}${detail === "" ? "" : ` (${detail})`}${what === "" ? "" : ` — ${what}`}${secrets}${r.reason === undefined ? "" : `. ${r.reason}`}`;
  });
  const statuses = report.results.map((r) => r.status);
  const severity = statuses.some((s) => s === "rejected" || s === "unresolved")
    ? "error"
    : statuses.every((s) => s === "valid")
      ? "info"
      : "warning";
  return { severity, message: lines.join(" · ") || "no connection was probed" };
}
