/**
 * Editor settings (`stellarSecrets.*`): from `initializationOptions`, then from
 * `workspace/configuration` (global and per workspace folder) or, for a client without it, from
 * the settings `workspace/didChangeConfiguration` pushes; and what a change of them does.
 */
import { editDistance, isRuleId, RULES } from "@stellar-secrets/core";
import type { ServerState } from "./state.js";
import type { EditorSeverity } from "./ranges.js";
import { isUnder, uriToPath } from "./uris.js";

/** Editor settings (`stellarSecrets.*`). */
export interface Settings {
  configPath: string;
  rules: Record<string, EditorSeverity | "off">;
  /** Keep config files' models between runs in the on-disk cache (index-cache.ts); default true. */
  indexCache: boolean;
}

/** The settings when the client gives none. */
export const DEFAULT_SETTINGS: Settings = { configPath: "", rules: {}, indexCache: true };

const EDITOR_SEVERITIES = new Set<string>(["error", "warning", "info", "hint"]);

/** The effective severity of `rule` after the editor's `overrides` (the `rules` setting); undefined when an override turns it off. */
export function effectiveSeverity(overrides: Settings["rules"], rule: string, configured: EditorSeverity): EditorSeverity | undefined {
  const o = overrides[rule];
  if (o === "off") return undefined;
  return o !== undefined && EDITOR_SEVERITIES.has(o) ? o : configured;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * The settings in a value a client sent (`initializationOptions`, a `workspace/configuration`
 * answer, pushed settings): its fields of the right type only, so that a client's mistake is
 * ignored rather than fatal to the index.
 */
export function settingsFrom(value: unknown): Partial<Settings> {
  if (!isRecord(value)) return {};
  const { configPath, rules, indexCache } = value;
  const out: Partial<Settings> = {};
  if (typeof configPath === "string") out.configPath = configPath;
  if (isRecord(rules)) out.rules = rules as Settings["rules"];
  if (typeof indexCache === "boolean") out.indexCache = indexCache;
  return out;
}

/**
 * What is wrong in the settings of `value` (the fields {@link settingsFrom} reads), one line each: a
 * rule id no rule has (with the nearest one), a severity that is none of `error`, `warning`, `info`,
 * `hint`, `off`, a field of the wrong type. {@link settingsFrom} ignores them; the server logs them,
 * so that a typo in a setting is not silently without effect.
 */
export function settingsProblems(value: unknown): string[] {
  if (!isRecord(value)) return [];
  const out: string[] = [];
  const { configPath, rules, indexCache } = value;
  if (configPath !== undefined && configPath !== null && typeof configPath !== "string") out.push(`configPath is ${JSON.stringify(configPath)}, not a path (a string)`);
  if (indexCache !== undefined && indexCache !== null && typeof indexCache !== "boolean") out.push(`indexCache is ${JSON.stringify(indexCache)}, not true or false`);
  if (rules !== undefined && rules !== null && !isRecord(rules)) out.push(`rules is ${JSON.stringify(rules)}, not an object of rule ids and severities`);
  if (isRecord(rules)) {
    for (const [id, severity] of Object.entries(rules)) {
      if (!isRuleId(id)) {
        const nearest = RULES.map((r) => r.id).sort((a, b) => editDistance(id, a) - editDistance(id, b))[0];
        const hint = nearest !== undefined && editDistance(id, nearest) <= 3 ? ` (did you mean "${nearest}"?)` : "";
        out.push(`rules: "${id}" is no rule id${hint}; the ids are those of docs/rules.md and \`stellar-secrets check\``);
      }
      if (severity !== "off" && !(typeof severity === "string" && EDITOR_SEVERITIES.has(severity)))
        out.push(`rules: "${id}" is set to ${JSON.stringify(severity)}, which is none of error, warning, info, hint or off`);
    }
  }
  return out;
}

/** The `stellarSecrets` section of pushed settings, or undefined when there is none. */
function sectionOf(pushed: unknown): Partial<Settings> | undefined {
  const section = isRecord(pushed) ? pushed["stellarSecrets"] : undefined;
  return isRecord(section) ? settingsFrom(section) : undefined;
}

/** The settings of every workspace folder, and the global ones. */
export class SettingsStore {
  private byFolder = new Map<string, Settings>(); // by folder path ("" = global)
  /** Counts the fetches: a late answer is applied only while no later fetch has started. */
  private fetches = 0;
  /**
   * Called after the answer to a `workspace/configuration` the server stopped waiting for came
   * anyway and was applied, with the `configPathsKey` from before (set by {@link registerSettings}).
   */
  lateAnswerApplied: ((before: string) => void) | undefined;

  constructor(private readonly state: ServerState) {}

  /** The settings problems already logged (each once per session, whichever answer repeats it). */
  private readonly reported = new Set<string>();

  /** Logs what is wrong in the settings of `value` ({@link settingsProblems}), each problem once, saying where it came from. */
  private report(where: string, value: unknown): void {
    for (const p of settingsProblems(value)) {
      const line = `settings (${where}): ${p}; that setting is ignored`;
      if (this.reported.has(line)) continue;
      this.reported.add(line);
      this.state.log(line);
    }
  }

  /**
   * The settings of `initializationOptions`: the base under every answer to `workspace/configuration`
   * (a client that answers from the same settings has no `stellarSecrets` section there: null, or nothing).
   */
  private initial: Settings = DEFAULT_SETTINGS;

  /**
   * Takes the global settings from `initializationOptions` (its fields of the right type, {@link settingsFrom}),
   * at its top level or in a `stellarSecrets` section (which then wins).
   */
  initialize(options: unknown): void {
    this.initial = { ...DEFAULT_SETTINGS, ...settingsFrom(options), ...sectionOf(options) };
    this.report("initializationOptions", options);
    if (isRecord(options)) this.report("initializationOptions.stellarSecrets", options["stellarSecrets"]);
    this.byFolder.set("", this.initial);
  }

  /**
   * Asks the client for the global and per-folder settings (when it supports `workspace/configuration`);
   * keeps the previous global ones otherwise, and when the client refuses or does not answer in time
   * (`ServerState.clientAnswer`). A client without `workspace/configuration` may push them instead:
   * `pushed` (the `settings` of `workspace/didChangeConfiguration`) then sets the global ones from its
   * `stellarSecrets` section. Never throws.
   */
  async fetch(pushed?: unknown): Promise<void> {
    const { state } = this;
    const next = new Map<string, Settings>();
    if (!state.capabilities.workspace?.configuration) {
      // the push model (a client without workspace/configuration): the `stellarSecrets` section of
      // workspace/didChangeConfiguration's settings, over initializationOptions' (the section is the
      // client's whole configuration, as an answer to workspace/configuration is: a field it no longer
      // has goes back to initializationOptions', not to the last push's); no section keeps them as they are
      const section = sectionOf(pushed);
      if (section !== undefined) next.set("", { ...this.initial, ...section });
      if (isRecord(pushed)) this.report("workspace/didChangeConfiguration", pushed["stellarSecrets"]);
    }
    if (state.capabilities.workspace?.configuration) {
      const items = [{ section: "stellarSecrets" }, ...state.folders.map((f) => ({ scopeUri: f.uri, section: "stellarSecrets" }))];
      const folders = [...state.folders];
      const fetch = ++this.fetches;
      // a client that announces configuration but refuses or never answers: keep the previous global settings
      const request = state.connection.workspace.getConfiguration(items) as Promise<unknown>;
      const values = (await state.clientAnswer(request, "workspace/configuration")) as unknown;
      if (Array.isArray(values)) {
        fromAnswer(next, values, folders, this.initial);
        for (const v of values) this.report("workspace/configuration", v);
      } else {
        // an answer that comes after the wait (a busy editor starting up) is still the user's
        // settings: applied when it comes, unless a later fetch has asked again since
        void request.then(
          (late) => {
            if (!Array.isArray(late) || fetch !== this.fetches) return;
            const before = this.configPathsKey();
            const applied = new Map<string, Settings>();
            fromAnswer(applied, late, folders, this.initial);
            this.byFolder = applied;
            state.log("workspace/configuration: the late answer is applied");
            this.lateAnswerApplied?.(before);
          },
          () => undefined,
        );
      }
    }
    if (!next.has("")) next.set("", this.byFolder.get("") ?? DEFAULT_SETTINGS);
    this.byFolder = next;
  }

  /** The settings that apply to `path`: those of the innermost workspace folder holding it, else the global ones. */
  for(path: string): Settings {
    let best: Settings | undefined;
    let bestLen = -1;
    for (const fp of this.state.folderPaths()) {
      if (isUnder(path, fp) && fp.length > bestLen) {
        best = this.byFolder.get(fp);
        bestLen = fp.length;
      }
    }
    return best ?? this.byFolder.get("") ?? DEFAULT_SETTINGS;
  }

  /** The `configPath` setting of a workspace folder (its own, else the global one); undefined when unset. */
  configPathOf(folder: string): string | undefined {
    return (this.byFolder.get(folder) ?? this.byFolder.get(""))?.configPath || undefined;
  }

  /** A key of every `configPath` setting: when it changes, the projects must be found again. */
  configPathsKey(): string {
    return JSON.stringify([...this.byFolder.entries()].map(([k, v]) => [k, v.configPath]));
  }
}

/**
 * The global and per-folder settings of an answer to `workspace/configuration` (global first, then
 * each folder), field by field over `base` (the settings of `initializationOptions`): the global
 * answer over it, each folder's over the global one. A null item (the client has no such section)
 * changes nothing.
 */
function fromAnswer(into: Map<string, Settings>, values: unknown[], folders: readonly { uri: string }[], base: Settings): void {
  const global = { ...base, ...settingsFrom(values[0]) };
  into.set("", global);
  folders.forEach((f, i) => {
    const p = uriToPath(f.uri);
    if (p !== undefined) into.set(p, { ...global, ...settingsFrom(values[i + 1]) });
  });
}

/**
 * Handles `workspace/didChangeConfiguration`: fetches the settings again (or takes the pushed
 * ones, for a client without `workspace/configuration`), then finds the
 * projects again when a `configPath` changed (`reload`), else re-sends every diagnostic with
 * the new rule overrides (`republish`).
 */
export function registerSettings(state: ServerState, settings: SettingsStore, on: { reload(): Promise<void>; republish(): void }): void {
  // a late answer to the initial (or a later) fetch: as a change of the settings, once the index exists
  settings.lateAnswerApplied = (before) => {
    void state.ready
      .then(() => (before !== settings.configPathsKey() ? on.reload() : on.republish()))
      .catch((e: unknown) => state.logFailure("late settings", e));
  };
  state.connection.onDidChangeConfiguration(
    state.guard("configuration", undefined, async (params) => {
      const before = settings.configPathsKey();
      await settings.fetch((params as { settings?: unknown } | null | undefined)?.settings);
      if (before !== settings.configPathsKey()) await on.reload();
      else on.republish();
    }),
  );
}
