/**
 * Editor buffers (`textDocument/didOpen`, `didChange`, `didClose`): the buffer replaces the
 * disk in the index two turns of the event loop later, so that of a burst of changes only the last
 * is indexed (a large buffer once typing in it pauses), or at once when a request arrives; the
 * edited file's own diagnostics follow at once (core's per-file check), the
 * cross-file check right after when it is incremental, else once typing pauses. The last event
 * of a file wins. Typing in stellar.yaml reloads its project once typing pauses. A file opened
 * outside every workspace folder brings in the project of the stellar.yaml above it
 * (`ProjectLoader.loadForFile`: single-file mode).
 */
import { basename } from "node:path";
import type { TextDocument } from "vscode-languageserver-textdocument";
import { flushInSlices } from "./check-slices.js";
import type { DiagnosticsPublisher } from "./diagnostics.js";
import type { ProjectModel } from "./model.js";
import { CHECK_SLICE_MS, type ProjectLoader } from "./projects.js";
import type { ServerState } from "./state.js";
import { MAX_FILE_BYTES } from "./workspace.js";

/** Pause after the last edit before the full (cross-file) check. */
export const FULL_CHECK_DELAY_MS = 20;
/** Pause after the last edit of a stellar.yaml before its project is reloaded. */
export const CONFIG_RELOAD_DELAY_MS = 200;
/**
 * A buffer at least this long (characters) is a large one: parsing it takes a noticeable time
 * (a 4 MB file about half a second), so it is indexed once typing in it pauses for
 * {@link LARGE_BUFFER_DELAY_MS}, and the requests that arrived meanwhile are answered first.
 */
export const LARGE_BUFFER_CHARS = 512 * 1024;
/** Pause after the last edit of a large buffer before it is indexed (a request about that file indexes it at once). */
export const LARGE_BUFFER_DELAY_MS = 50;
/** The longest a burst of buffer changes keeps small buffers from being indexed (ms): they are then indexed, and the next wait begins. */
export const MAX_COALESCE_MS = 100;

/** Follows the open documents into the index. */
export class Buffers {
  /** Projects with staged (not yet checked) edits: edits that arrive together are checked once. */
  private readonly pending = new Set<ProjectModel>();
  private fullCheckTimer: NodeJS.Timeout | undefined;
  /** The incremental check, run once the messages already received are handled (no timer: a timer waits at least 1 ms). */
  private incrementalCheck: NodeJS.Immediate | undefined;
  private readonly configTimers = new Map<string, NodeJS.Timeout>();
  /**
   * The latest buffer event of each file. An event whose text arrives late (a close reads the
   * disk) is dropped when a newer event of that file came in meanwhile: the newer one stages its
   * own text, so an edit typed after a reopen is never replaced by the disk text of the close.
   */
  private readonly latest = new Map<string, number>();
  private eventCounter = 0;
  /** Files opened outside every workspace folder whose project is being loaded (`ProjectLoader.loadForFile`), by path. */
  private readonly projectLoads = new Map<string, Promise<unknown>>();
  /**
   * Buffers not yet indexed, by path: how to cancel the wait, the indexing itself, and whether the
   * buffer is a large one (indexed once typing pauses for {@link LARGE_BUFFER_DELAY_MS}); any other
   * is indexed two turns of the event loop later, so of a burst of changes of one file (a client
   * that sends one didChange a keystroke, a macro, a paste replayed: each message is dispatched in a
   * turn of its own) only the last is parsed and checked.
   */
  private readonly deferred = new Map<string, { cancel: () => void; run: (ready?: boolean) => void; large: boolean }>();

  constructor(
    private readonly state: ServerState,
    private readonly diagnostics: DiagnosticsPublisher,
    private readonly projects: ProjectLoader,
  ) {}

  /** Listens to the state's documents (call before `documents.listen`). */
  register(): void {
    const { documents } = this.state;
    documents.onDidOpen((e) => this.onBuffer(e.document, false));
    documents.onDidChangeContent((e) => this.onBuffer(e.document, false));
    documents.onDidClose((e) => this.onBuffer(e.document, true));
    this.state.beforeRequest = (uri) => {
      this.indexNow(uri);
      if (uri === undefined) return undefined;
      // a file whose project is being loaded for it (single-file mode): the request waits for the project
      const path = this.state.pathOf(uri);
      return path === undefined ? undefined : this.projectLoads.get(path);
    };
  }

  /** Cancels the pending timers (the staged edits stay staged; large buffers not yet indexed stay unindexed). */
  dispose(): void {
    this.cancelCheck();
    for (const t of this.configTimers.values()) clearTimeout(t);
    this.configTimers.clear();
    for (const d of this.deferred.values()) d.cancel();
    this.deferred.clear();
    clearImmediate(this.smallTurn);
    this.smallTurn = undefined;
  }

  /**
   * Indexes now every buffer not yet indexed but the large ones, and the large one of `uri` (a
   * request about that file sees its text; a request sees every edit that came before it). Call
   * once the initial index is ready.
   */
  indexNow(uri: string | undefined): void {
    const path = uri === undefined ? undefined : this.state.pathOf(uri);
    for (const [p, d] of [...this.deferred]) if (!d.large || p === path) d.run(true);
  }

  /** Runs the full check of every project with staged edits now. */
  flushPending(): void {
    this.cancelCheck();
    const models = [...this.pending];
    this.pending.clear();
    for (const m of models) {
      try {
        this.state.indexChanged(m.flush(), [m.root]);
      } catch (e) {
        this.state.logFailure("check", e);
      }
    }
  }

  /**
   * The full check of every project with staged edits, a slice at a time ({@link flushInSlices}):
   * the requests that arrive meanwhile are answered between two slices (with the diagnostics of
   * before the edit until the check is done and reported, as during the pause before it). A project
   * stays pending until its check is done; an edit of it between two slices stops them, and the
   * check is then finished at once with that edit in it.
   */
  private async flushPendingInSlices(): Promise<void> {
    this.cancelCheck();
    for (const m of [...this.pending]) {
      if (!this.pending.has(m)) continue; // flushed meanwhile (flushPending)
      try {
        const changed = await flushInSlices(m, this.checkSliceMs);
        // (nothing staged is left in it: a later edit schedules it again)
        this.pending.delete(m);
        this.state.indexChanged(changed, [m.root]);
      } catch (e) {
        this.pending.delete(m);
        this.state.logFailure("check", e);
      }
    }
  }

  /** How long the full check runs before it lets waiting messages be handled (ms); {@link CHECK_SLICE_MS}, for tests (0: a pause after every piece). */
  checkSliceMs = CHECK_SLICE_MS;

  /**
   * The full check (cross-file effects) runs once typing pauses for FULL_CHECK_DELAY_MS, a slice at
   * a time, or, when
   * every pending project re-checks only what its edits can change (a few milliseconds), as soon as
   * the messages already received are handled: edits that arrived together are still checked once.
   */
  private schedule(model: ProjectModel): void {
    this.pending.add(model);
    this.cancelCheck();
    if ([...this.pending].every((m) => m.checkIsIncremental())) this.incrementalCheck = setImmediate(() => this.flushPending());
    else this.fullCheckTimer = setTimeout(() => void this.flushPendingInSlices(), FULL_CHECK_DELAY_MS);
  }

  private cancelCheck(): void {
    clearTimeout(this.fullCheckTimer);
    clearImmediate(this.incrementalCheck);
  }

  private onBuffer(doc: TextDocument, closed: boolean): void {
    const { state } = this;
    const { workspace } = state;
    const path = state.pathOf(doc.uri);
    if (path === undefined) return;
    if (closed) {
      // the same file still open under another URI (a symbolic link on the way, another
      // percent-encoding or case of its path): that document's text stays the file's, not the disk's
      const other = state.documents.all().find((d) => d.uri !== doc.uri && state.pathOf(d.uri) === path);
      if (other !== undefined) return this.onBuffer(other, false);
    }
    if (closed) workspace.dropBuffer(path);
    else workspace.setBuffer(path, doc.getText());
    state.setOpenUri(path, closed ? undefined : doc.uri);
    if (basename(path) === "stellar.yaml") {
      // typing in stellar.yaml reloads that project only, once the typing pauses
      clearTimeout(this.configTimers.get(path));
      this.configTimers.set(
        path,
        setTimeout(() => {
          this.configTimers.delete(path);
          // a stellar.yaml outside every workspace folder (single-file mode) brings its project in
          void state.ready
            .then(async () => (closed || !(await this.projects.loadForFile(path)) ? this.projects.reloadProject(path) : undefined))
            .catch((e: unknown) => state.logFailure("reload", e));
        }, CONFIG_RELOAD_DELAY_MS),
      );
      return;
    }
    const event = ++this.eventCounter;
    this.latest.set(path, event);
    const waiting = this.deferred.get(path);
    if (waiting !== undefined) {
      waiting.cancel();
      this.deferred.delete(path); // this event's text replaces the waiting one's
    }
    if (closed) {
      void state.ready.then(() => this.index(doc, path, closed, event)).catch((e: unknown) => state.logFailure("update", e));
      return;
    }
    // indexed a moment later (a large buffer: once typing pauses), or at once for a request (any
    // request for a small one, one about that file for a large one), so that of a burst of changes
    // only the last is parsed and checked; before, each change of 10,000 sent at once was parsed,
    // checked and its diagnostics sent (a hover sent after them was answered 8 s later)
    // `ready`: the initial index is built (a request's guard waited for it): index synchronously, before the request is answered
    const large = doc.getText().length >= LARGE_BUFFER_CHARS;
    const run = (ready = false): void => {
      if (this.deferred.get(path)?.run !== run) return;
      cancel();
      this.deferred.delete(path);
      const indexed = ready ? this.index(doc, path, false, event) : state.ready.then(() => this.index(doc, path, false, event));
      indexed.catch((e: unknown) => state.logFailure("update", e));
    };
    let cancel: () => void;
    if (large) {
      // a large buffer: indexed once typing pauses, so the requests already sent are answered first
      const timer = setTimeout(run, LARGE_BUFFER_DELAY_MS);
      cancel = () => clearTimeout(timer);
    } else {
      // once no buffer event came for two turns (the small buffers of a burst together: see scheduleSmall)
      cancel = () => {};
      this.scheduleSmall();
    }
    this.deferred.set(path, { cancel, run, large });
  }

  /** The wait before the small buffers not yet indexed are indexed ({@link scheduleSmall}), and when the first of them came. */
  private smallTurn: NodeJS.Immediate | undefined;
  private smallSince = 0;

  /**
   * Indexes the small buffers not yet indexed once two turns of the event loop go by without a
   * buffer event: vscode-jsonrpc dispatches one message a turn, so while a burst of changes is
   * being dispatched (of one file, or of several in turn: A, B, A, B …) each waits for the next,
   * which replaces its file's text; a burst that lasts longer than {@link MAX_COALESCE_MS} is
   * indexed all the same, that often (diagnostics keep coming while a client sends without pause).
   * A request indexes them at once ({@link indexNow}).
   */
  private scheduleSmall(): void {
    if (this.smallTurn !== undefined) {
      if (Date.now() - this.smallSince >= MAX_COALESCE_MS) return;
      clearImmediate(this.smallTurn);
    } else {
      this.smallSince = Date.now();
    }
    this.smallTurn = setImmediate(() => {
      this.smallTurn = setImmediate(() => {
        this.smallTurn = undefined;
        for (const d of [...this.deferred.values()]) if (!d.large) d.run();
      });
    });
  }

  /** Loads the project of a file outside every workspace folder (`ProjectLoader.loadForFile`); requests about the file wait for it meanwhile. */
  private async loadProjectFor(path: string): Promise<boolean> {
    const load = this.projects.loadForFile(path);
    this.projectLoads.set(path, load);
    try {
      return await load;
    } finally {
      if (this.projectLoads.get(path) === load) this.projectLoads.delete(path);
    }
  }

  /** Puts a buffer event's text (the buffer's, or the disk's after a close) into the index, unless a newer event of the file came in. */
  private async index(doc: TextDocument, path: string, closed: boolean, event: number): Promise<void> {
    const { state } = this;
    // a file outside every workspace folder (single-file mode): the project of the stellar.yaml above it, loaded with this buffer
    if (!closed && state.workspace.projectOf(path) === undefined && (await this.loadProjectFor(path)) && this.latest.get(path) !== event) return;
    const model = state.workspace.projectOf(path);
    if (model === undefined) {
      // a .gitattributes or .sops.yaml above a project's root (a project in a subfolder of its
      // repository): its buffer (or, closed, the disk's text) re-checks that project, as saving does
      const affected = new Set<string>();
      const roots: string[] = [];
      for (const m of state.workspace.all()) {
        const changed = m.aboveRootChanged([path]);
        if (changed.size === 0) continue;
        for (const p of changed) affected.add(p);
        roots.push(m.root);
      }
      if (affected.size > 0 || roots.length > 0) state.indexChanged(affected, roots);
      else if (!state.pull && !closed) this.diagnostics.publish(path);
      return;
    }
    const text = closed ? await state.workspace.read(path) : doc.getText();
    if (this.latest.get(path) !== event) return; // a newer event of this file stages its own text
    if (closed) this.latest.delete(path);
    const t = text !== undefined && text.length > MAX_FILE_BYTES ? undefined : text;
    model.stage(path, t);
    // a large file: the requests that arrived while it was parsed are answered before its own check
    if (t !== undefined && t.length >= LARGE_BUFFER_CHARS) await new Promise<void>((resolve) => setImmediate(resolve));
    // the edited file's own diagnostics at once (core's per-file check), the rest after the full check
    state.indexChanged(model.quickCheck(path), []);
    // opened or closed under another spelling of its URI: its diagnostics follow it (nothing else may re-send them)
    this.diagnostics.followUri(path);
    this.schedule(model);
  }
}
