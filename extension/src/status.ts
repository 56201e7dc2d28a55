/**
 * The status bar item and what the extension logs about itself: the projects the server
 * found, whether a key can write their environments, and the problem counts. Click → Problems.
 * Nothing here reads or logs a value or key material (identity sources are labels such as
 * `SOPS_AGE_KEY (1 key)`).
 */
import * as vscode from "vscode";
import { findIdentities } from "@stellar-secrets/sops";
import type { ProjectInfo } from "@stellar-secrets/language-server/protocol";
import { statusText, type StatusSummary } from "./presentation.js";
import { checkWriteAccess } from "./write-access.js";

/** Keeps the status bar item up to date. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("stellarSecrets.status", vscode.StatusBarAlignment.Left, 10);
  private readonly subscriptions: vscode.Disposable[] = [];
  private summary: StatusSummary = { projects: 0, stale: 0, key: "unknown", errors: 0, warnings: 0 };
  private lastKeyLog = "";

  constructor(
    private readonly output: vscode.LogOutputChannel,
    private readonly projects: () => Promise<ProjectInfo[]>,
  ) {
    this.item.name = "Stellar Secrets";
    this.item.command = "workbench.actions.view.problems";
    this.subscriptions.push(vscode.languages.onDidChangeDiagnostics(() => this.countProblems()));
    this.countProblems();
    this.item.show();
  }

  /** Re-reads the projects and re-checks which environments a key can write (logs a change). */
  async refresh(): Promise<void> {
    let projects: ProjectInfo[];
    try {
      projects = await this.projects();
    } catch {
      return;
    }
    const ids = findIdentities();
    const lines: string[] = [`identities: ${ids.identities.length} (looked in: ${ids.sources.join("; ")})`];
    let writable = 0;
    let existing = 0;
    for (const p of projects) {
      for (const env of p.environments) {
        if (!env.exists) continue;
        existing++;
        const access = await checkWriteAccess(env, ids);
        if (access.ok) writable++;
        lines.push(`  ${vscode.workspace.asRelativePath(env.file, true)}: ${access.ok ? "your key opens it" : access.code}`);
      }
    }
    const key: StatusSummary["key"] = ids.identities.length === 0 ? "missing" : existing === 0 || writable === existing ? "all" : writable === 0 ? "none" : "some";
    this.summary = { ...this.summary, projects: projects.length, stale: projects.filter((p) => p.stale).length, key };
    const log = lines.join("\n");
    if (log !== this.lastKeyLog) {
      this.lastKeyLog = log;
      this.output.info(log);
    }
    this.render();
  }

  /** Updates the project count without re-checking the key (after an index change). */
  setProjects(projects: ProjectInfo[]): void {
    this.summary = { ...this.summary, projects: projects.length, stale: projects.filter((p) => p.stale).length };
    this.render();
  }

  private countProblems(): void {
    let errors = 0;
    let warnings = 0;
    for (const [, ds] of vscode.languages.getDiagnostics()) {
      for (const d of ds) {
        if (d.source !== "stellar-secrets") continue;
        if (d.severity === vscode.DiagnosticSeverity.Error) errors++;
        else if (d.severity === vscode.DiagnosticSeverity.Warning) warnings++;
      }
    }
    this.summary = { ...this.summary, errors, warnings };
    this.render();
  }

  private render(): void {
    const { text, tooltip } = statusText(this.summary);
    this.item.text = text;
    this.item.tooltip = tooltip;
  }

  dispose(): void {
    this.item.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
