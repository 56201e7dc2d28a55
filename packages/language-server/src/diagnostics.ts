/**
 * The diagnostics publisher: the one owner of what the client has seen. Clients without pull
 * support get `textDocument/publishDiagnostics` after every index change (and an empty list
 * once a file's last diagnostic is gone); clients with it pull `textDocument/diagnostic` and a
 * long-polled `workspace/diagnostic`, with result ids from a per-file version that every index
 * change bumps, and a `workspace/diagnostic/refresh` when they support it. A pulling client that
 * sends no `workspace/diagnostic` within {@link WORKSPACE_PULL_WAIT_MS} of the initial index
 * (Neovim pulls open buffers only) gets the diagnostics of the files it has not pulled pushed
 * (see {@link DiagnosticsPublisher.watchWorkspacePull}).
 */
import type { CancellationToken, WorkspaceDiagnosticParams, Diagnostic as LspDiagnostic, WorkspaceDocumentDiagnosticReport } from "vscode-languageserver/node";
import { DiagnosticSeverity, DocumentDiagnosticReportKind } from "./lsp.js";
import { requireDocumentParams } from "./params.js";
import { toLspDiagnostic } from "./ranges.js";
import { effectiveSeverity, type SettingsStore } from "./settings.js";
import type { ServerState } from "./state.js";
import { isUnder, pathToUri, uriToPath } from "./uris.js";
import { messageRewording, readerWording } from "@stellar-secrets/core";
import type { ProjectModel } from "./model.js";

/**
 * The most diagnostics the editor is given for one file (pushed or pulled). A generated or pasted
 * file can have tens of thousands (one per line); turning them all into a message of megabytes
 * held the server for seconds and no one reads past the first screens. Past this number the
 * file gets one summary diagnostic ({@link TOO_MANY_DIAGNOSTICS}) saying how many there are;
 * `stellar-secrets check` lists them all.
 */
export const MAX_DIAGNOSTICS_PER_FILE = 1000;

/**
 * How long a client that pulls diagnostics has, after the initial index's diagnostics, to send its
 * first `workspace/diagnostic` before the server pushes the diagnostics of the files it has not
 * pulled. VS Code sends it as soon as the server's capabilities arrive (before the index is built);
 * Neovim never sends it on its own and would show the problems of its open buffers only.
 */
export const WORKSPACE_PULL_WAIT_MS = 5_000;

/**
 * How long the diagnostics of an index change are sent before the messages that came meanwhile are
 * handled (ms): the first slice of every change goes out at once, the rest in the next turns of the
 * event loop (each file once, its list as it is then). The check of a workspace of a hundred projects (a client started in `/` or
 * the home folder) changed the diagnostics of thousands of files, and sending them all at once held
 * every request, `shutdown` included, for more than a second.
 */
export const PUBLISH_SLICE_MS = 20;

/** The `code` of the summary diagnostic of a file with more than {@link MAX_DIAGNOSTICS_PER_FILE} (not a rule: no rule id). */
export const TOO_MANY_DIAGNOSTICS = "too-many-diagnostics";

/** The summary diagnostic of a file with `total` diagnostics, more than the editor is given: at the top of the file. */
function tooManyDiagnostics(total: number): LspDiagnostic {
  const shown = MAX_DIAGNOSTICS_PER_FILE.toLocaleString("en-US");
  return {
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    severity: DiagnosticSeverity.Information,
    code: TOO_MANY_DIAGNOSTICS,
    source: "stellar-secrets",
    message: `${total.toLocaleString("en-US")} problems in this file; the editor shows the first ${shown}. Run \`stellar-secrets check\` to list them all.`,
  };
}

/** Pushes or serves the diagnostics of every indexed file. */
export class DiagnosticsPublisher {
  /** Version of each file's diagnostics (the pull result id): the index change that last touched it. */
  private readonly versions = new Map<string, number>();
  /** Files whose last published list was not empty, with the URI it was published under (push mode). */
  private readonly published = new Map<string, string>();
  private changeCounter = 0;
  /** True once a `workspace/diagnostic/refresh` was refused (logged once). */
  private refreshRefusedLogged = false;
  /** Pending `workspace/diagnostic` long polls, woken by the next change. */
  private waiters: (() => void)[] = [];
  /** True once `shutdown` was received: a long poll is answered with what it has (nothing more will change). */
  private shutDown = false;
  /** True once the client sent a `workspace/diagnostic` request: it pulls every file's, nothing is pushed any more. */
  private workspacePulled = false;
  /**
   * True when a pulling client sent no `workspace/diagnostic` in time ({@link watchWorkspacePull}): the
   * files it has not pulled get their diagnostics pushed, until it sends one.
   */
  private pushUnpulled = false;
  private pushTimer: NodeJS.Timeout | undefined;
  /**
   * Files whose last pulled list (`textDocument/diagnostic` or `workspace/diagnostic`) was not empty
   * (pull mode's {@link published}): {@link publishAll} reports them as changed too, so a file that
   * left the index (its workspace folder was removed) gets the empty list that clears it in the client.
   */
  private readonly pulledNonEmpty = new Set<string>();
  /** Open files the client pulled (`textDocument/diagnostic`): never pushed while open (the editor would show them twice). */
  private readonly pulledOpen = new Set<string>();

  /** Files whose diagnostics are still to be sent (push mode: {@link PUBLISH_SLICE_MS}), in the order they changed. */
  private readonly toPublish = new Set<string>();
  private publishTimer: NodeJS.Immediate | undefined;
  /** How long diagnostics are sent before waiting messages are handled ({@link PUBLISH_SLICE_MS}). */
  sliceMs = PUBLISH_SLICE_MS;

  constructor(
    private readonly state: ServerState,
    private readonly settings: SettingsStore,
  ) {}

  /**
   * Sends the diagnostics of `paths` (the files of an index change) that go out by push, for at most
   * {@link sliceMs} (at least one file); the rest, and any file still waiting from an earlier change,
   * in the next turns of the event loop, after the messages that came meanwhile. Each file's list
   * is read when it is sent: a file changed again meanwhile goes out once, as it is then.
   */
  private publishSoon(paths: readonly string[]): void {
    const start = Date.now();
    let i = 0;
    for (; i < paths.length; i++) {
      if (i > 0 && Date.now() - start >= this.sliceMs) break;
      const p = paths[i]!;
      this.toPublish.delete(p);
      if (this.pushes(p)) this.publish(p);
    }
    for (; i < paths.length; i++) this.toPublish.add(paths[i]!);
    this.schedulePublishing();
  }

  /** Sends the waiting diagnostics in the next turns, a slice at a time (see {@link publishSoon}). */
  private schedulePublishing(): void {
    if (this.publishTimer !== undefined || this.toPublish.size === 0 || this.shutDown) return;
    // two turns: the first lets the pipe be read, the second the messages read be dispatched
    this.publishTimer = setImmediate(() => {
      this.publishTimer = setImmediate(() => {
        this.publishTimer = undefined;
        if (this.shutDown) return;
        const start = Date.now();
        for (const p of this.toPublish) {
          this.toPublish.delete(p);
          if (this.pushes(p)) this.publish(p);
          if (Date.now() - start >= this.sliceMs) break;
        }
        this.schedulePublishing();
      });
    });
  }

  /**
   * For a project below its workspace folder (a project nested in another, a project in a
   * subfolder): rewords the other projects a message names (`the enclosing project
   * (../../stellar.yaml)`, core's words from the project's own folder) from the workspace folder,
   * as `check` run there names them (`stellar.yaml`). Only those paths: the project's own files
   * and its commands stay as core words them. Undefined when there is nothing to reword.
   */
  private otherProjectWording(model: ProjectModel): ((message: string) => string) | undefined {
    const folder = this.state
      .folderPaths()
      .filter((f) => isUnder(model.root, f))
      .sort((a, b) => b.length - a.length)[0];
    if (folder === undefined || folder === model.root) return undefined;
    const paths = model.otherProjectPaths();
    if (paths.length === 0) return undefined;
    // runsHere: commands are left as they are (only paths are reworded)
    return messageRewording(readerWording(model.root, folder, true), paths);
  }

  /** The result id of a file's current diagnostics (pull mode). */
  resultId(path: string): string {
    return String(this.versions.get(path) ?? 0);
  }

  /**
   * The LSP diagnostics of one file, after the editor's per-rule overrides: the first
   * {@link MAX_DIAGNOSTICS_PER_FILE} in file order, and one summary diagnostic when there are more.
   */
  diagnosticsOf(path: string): LspDiagnostic[] {
    // (a file above a project's root, `../.gitattributes` of a project in a subfolder of its repository: the project that reports on it)
    const model = this.state.workspace.projectOf(path) ?? this.state.workspace.all().find((m) => m.diagnostics(path).length > 0);
    if (model === undefined) return [];
    const overrides = this.settings.for(path).rules;
    const out: LspDiagnostic[] = [];
    const reword = this.otherProjectWording(model);
    let total = 0;
    for (const d of model.diagnostics(path)) {
      const severity = effectiveSeverity(overrides, d.rule, d.severity);
      if (severity === undefined) continue;
      if (++total <= MAX_DIAGNOSTICS_PER_FILE) {
        const message = reword === undefined ? d.message : reword(d.message);
        out.push(toLspDiagnostic(message === d.message ? d : { ...d, message }, severity));
      }
    }
    if (total > MAX_DIAGNOSTICS_PER_FILE) out.push(tooManyDiagnostics(total));
    return out;
  }

  /**
   * True when `path`'s diagnostics go out by `textDocument/publishDiagnostics`: always for a client
   * that does not pull; for one that pulls, only once {@link watchWorkspacePull} found that it sends
   * no `workspace/diagnostic`, and only while the file is not open and pulled.
   */
  private pushes(path: string): boolean {
    if (!this.state.pull) return true;
    return this.pushUnpulled && !(this.pulledOpen.has(path) && this.state.workspace.isOpen(path));
  }

  /** After an index change: publish (push mode) or wake the long polls and ask the client to pull again. */
  changed(paths: Iterable<string>): void {
    this.changeCounter++;
    const list = [...paths];
    for (const p of list) this.versions.set(p, this.changeCounter);
    if (this.state.pull) {
      const w = this.waiters;
      this.waiters = [];
      for (const resolve of w) resolve();
      // pull mode: the client can refresh; one that refuses (or is gone) is noted once, not at every change as an unhandled rejection
      this.state.connection.languages.diagnostics.refresh().catch((e: unknown) => this.refreshRefused(e));
    }
    // after `shutdown` nothing is sent (the client only waits for its answer, then sends exit)
    if (!this.shutDown) this.publishSoon(list);
  }

  /**
   * Pull mode, once the initial index's diagnostics are out: when the client sends no
   * `workspace/diagnostic` within `waitMs`, the diagnostics of every file it has not pulled are
   * pushed from then on (the specification lets a server publish whenever it wants; a client that
   * pulls only open documents would otherwise never see a closed file's `unused-secret`). A file
   * the client then pulls is cleared of its pushed list (sent empty) and no longer pushed while it
   * is open: pulled and pushed diagnostics are kept apart by the client (Neovim: one namespace
   * each; VS Code: one collection each) and would show twice. A `workspace/diagnostic` that comes
   * later clears every pushed list and ends the pushing for good.
   */
  watchWorkspacePull(waitMs: number): void {
    if (!this.state.pull || this.workspacePulled || this.shutDown) return;
    clearTimeout(this.pushTimer);
    this.pushTimer = setTimeout(() => {
      this.pushTimer = undefined;
      if (this.workspacePulled || this.shutDown) return;
      this.pushUnpulled = true;
      this.state.log(
        `the client pulls diagnostics but sent no workspace/diagnostic within ${waitMs} ms: the diagnostics of the files it has not pulled (closed files) are pushed (textDocument/publishDiagnostics) until it sends one`,
      );
      const seen = new Set<string>();
      for (const m of this.state.workspace.all()) for (const p of m.files()) seen.add(p);
      for (const p of seen) if (this.pushes(p)) this.publish(p);
    }, waitMs);
  }

  /** Cancels the timer of {@link watchWorkspacePull}, and the diagnostics still waiting to be sent. */
  dispose(): void {
    this.stopPushTimer();
    this.cancelPublishing();
  }

  /** Cancels the timer of {@link watchWorkspacePull}. */
  private stopPushTimer(): void {
    clearTimeout(this.pushTimer);
    this.pushTimer = undefined;
  }

  /** Cancels the diagnostics still waiting to be sent (`shutdown`, the server disposed). */
  private cancelPublishing(): void {
    clearImmediate(this.publishTimer);
    this.publishTimer = undefined;
    this.toPublish.clear();
  }

  /** A `workspace/diagnostic` arrived: the client pulls every file's diagnostics; the pushed lists are cleared and nothing is pushed any more. */
  private workspacePullSeen(): void {
    if (this.workspacePulled) return;
    this.workspacePulled = true;
    this.stopPushTimer();
    if (!this.pushUnpulled) return;
    this.pushUnpulled = false;
    for (const uri of this.published.values()) void this.state.connection.sendDiagnostics({ uri, diagnostics: [] });
    this.published.clear();
  }

  /** An open file was pulled (`textDocument/diagnostic`): its pushed list, if any, is cleared, and it is not pushed while it stays open. */
  private documentPulled(path: string): void {
    if (!this.state.workspace.isOpen(path)) return;
    this.pulledOpen.add(path);
    const before = this.published.get(path);
    if (before === undefined) return;
    this.published.delete(path);
    void this.state.connection.sendDiagnostics({ uri: before, diagnostics: [] });
  }

  /**
   * Sends one file's diagnostics (push mode) under the URI of its open document, else `pathToUri`'s
   * (`ServerState.uriOf`); nothing when it had none and still has none. When the URI changed since
   * the last list (the document was opened or closed under another spelling), the old URI's list is
   * cleared first.
   */
  publish(path: string): void {
    const diagnostics = this.diagnosticsOf(path);
    const uri = this.state.uriOf(path);
    const before = this.published.get(path);
    if (diagnostics.length === 0 && before === undefined) return;
    if (before !== undefined && before !== uri) void this.state.connection.sendDiagnostics({ uri: before, diagnostics: [] });
    if (diagnostics.length === 0) this.published.delete(path);
    else this.published.set(path, uri);
    void this.state.connection.sendDiagnostics({ uri, diagnostics });
  }

  /**
   * After a document was opened or closed (push mode): when the file's diagnostics went out under
   * another URI than the one it is named by now (`ServerState.uriOf`), they are sent again under it
   * (and the old URI cleared), even when the index found nothing to re-check (a buffer with the
   * disk's text).
   */
  followUri(path: string): void {
    // closed after the client pulled it (the client drops a closed document's pulled diagnostics): pushed again
    if (!this.state.workspace.isOpen(path) && this.pulledOpen.delete(path) && this.pushes(path)) {
      this.publish(path);
      return;
    }
    if (!this.pushes(path)) return;
    const before = this.published.get(path);
    if (before !== undefined && before !== this.state.uriOf(path)) this.publish(path);
  }

  /** Reports every indexed file (and every file with published diagnostics) as changed, e.g. after a reload or new rule overrides. */
  publishAll(): void {
    const { workspace } = this.state;
    const seen = new Set<string>();
    for (const m of workspace.all()) for (const p of m.files()) seen.add(p);
    for (const p of this.published.keys()) seen.add(p);
    for (const p of this.pulledNonEmpty) seen.add(p);
    this.state.indexChanged(seen, workspace.all().map((m) => m.root));
  }

  /** Logs, the first time only, that the client refused `workspace/diagnostic/refresh`: it pulls when it chooses to. */
  private refreshRefused(e: unknown): void {
    if (this.refreshRefusedLogged || this.shutDown) return;
    this.refreshRefusedLogged = true;
    this.state.log(`the client refused workspace/diagnostic/refresh (${e instanceof Error ? e.message : String(e)}): diagnostics change when it pulls them again; not said again`);
  }

  /** Notes the list a pull gives a file (see {@link pulledNonEmpty}), and returns it. */
  private pulled(path: string, diagnostics: LspDiagnostic[]): LspDiagnostic[] {
    if (diagnostics.length === 0) this.pulledNonEmpty.delete(path);
    else this.pulledNonEmpty.add(path);
    return diagnostics;
  }

  /** Registers `textDocument/diagnostic` and `workspace/diagnostic` (and answers the long polls at `shutdown`). */
  register(): void {
    const { state } = this;
    state.onShutdown(() => {
      this.shutDown = true;
      this.dispose();
      const w = this.waiters;
      this.waiters = [];
      for (const resolve of w) resolve();
    });
    state.connection.languages.diagnostics.on(
      state.guard("diagnostic", { kind: DocumentDiagnosticReportKind.Full, items: [] }, async (params, token: CancellationToken) => {
        requireDocumentParams("textDocument/diagnostic", params);
        // cancelled by the client while the workspace is still being checked: RequestCancelled at once
        await state.untilChecked("diagnostic", token);
        const path = state.pathOf(params.textDocument.uri);
        if (path === undefined) return { kind: DocumentDiagnosticReportKind.Full, items: [] };
        this.documentPulled(path);
        const id = this.resultId(path);
        if (params.previousResultId === id) return { kind: DocumentDiagnosticReportKind.Unchanged, resultId: id };
        return { kind: DocumentDiagnosticReportKind.Full, resultId: id, items: this.pulled(path, this.diagnosticsOf(path)) };
      }),
    );
    const workspaceHandler = state.guard("workspace diagnostic", { items: [] }, async (params: WorkspaceDiagnosticParams, token: CancellationToken) => {
      await state.untilChecked("workspace diagnostic", token);
      // keyed by path: the index's files and the client's previous results are one set
      // (required, but a client that leaves it out has no previous results)
      const previous = new Map((Array.isArray(params.previousResultIds) ? params.previousResultIds : []).map((r) => [uriToPath(r.uri) ?? r.uri, r.value]));
      // The files' reports, a slice of {@link sliceMs} at a time (a workspace of thousands of files, the
      // first pull of all of them: the other requests are answered between slices); cancelled or shut
      // down meanwhile, what was collected (each report holds the result id it was made with)
      const collect = async (): Promise<WorkspaceDocumentDiagnosticReport[]> => {
        const items: WorkspaceDocumentDiagnosticReport[] = [];
        const paths = new Set<string>();
        for (const m of state.workspace.all()) for (const p of m.files()) paths.add(p);
        for (const p of previous.keys()) paths.add(p);
        let sliceStart = Date.now();
        for (const p of paths) {
          if (Date.now() - sliceStart >= this.sliceMs) {
            await new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
            if (token.isCancellationRequested || this.shutDown) break;
            sliceStart = Date.now();
          }
          if (state.workspace.isOpen(p)) continue; // open documents are pulled one by one
          const id = this.resultId(p);
          if (previous.get(p) === id) continue;
          const diags = this.diagnosticsOf(p);
          if (diags.length === 0 && !previous.has(p)) continue;
          items.push({ kind: DocumentDiagnosticReportKind.Full, uri: pathToUri(p), version: null, resultId: id, items: this.pulled(p, diags) });
        }
        return items;
      };
      let seen = this.changeCounter;
      let items = await collect();
      // Long poll: hold the request until something changes (the client re-sends it at once otherwise),
      // it is cancelled, or the server is shut down; a change while the reports were collected is not waited for
      while (items.length === 0 && !token.isCancellationRequested && !this.shutDown) {
        if (this.changeCounter === seen)
          await new Promise<void>((resolve) => {
            this.waiters.push(resolve);
            token.onCancellationRequested(() => resolve());
          });
        seen = this.changeCounter;
        items = await collect();
      }
      return { items };
    });
    // noted on arrival, before the handler waits for the index: a client that sends it at once is never pushed to
    state.connection.languages.diagnostics.onWorkspace((params, token) => {
      this.workspacePullSeen();
      return workspaceHandler(params, token);
    });
  }
}
