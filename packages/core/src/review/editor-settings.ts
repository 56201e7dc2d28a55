/**
 * The editor settings a repository commits for every member who opens it, in the files VS Code
 * reads them from: a folder's `.vscode/settings.json`, a workspace file's `settings` (`*.code-workspace`,
 * applied when a member opens that workspace, which VS Code offers when it finds one), and a dev
 * container's `customizations.vscode.settings` (`.devcontainer.json`, `.devcontainer/devcontainer.json`,
 * `.devcontainer/NAME/devcontainer.json`, applied in the container) — JSON with comments and trailing
 * commas, all of them. Three of ours change what the editor does for them: `stellarSecrets.cliPath`
 * is the program *Test Credential* runs with the member's age key in reach,
 * `stellarSecrets.configPath` which `stellar.yaml` the editor takes (whose members its writes encrypt
 * a new environment's file for), `stellarSecrets.rules` which findings it shows. A change to any of
 * them in a pull request is the change deciding how members' editors treat it (review's
 * `weakened-rule`). Pure.
 */

/** Where VS Code reads a folder's settings, relative to that folder. */
export const EDITOR_SETTINGS_FILE = ".vscode/settings.json";

/** git pathspecs (from the top of the work tree) of every file VS Code reads a repository's settings from. */
export const EDITOR_SETTINGS_PATHSPECS: readonly string[] = [
  `:(top,glob)**/${EDITOR_SETTINGS_FILE}`,
  ":(top,glob)**/*.code-workspace",
  ":(top,glob)**/.devcontainer.json",
  ":(top,glob)**/.devcontainer/devcontainer.json",
  ":(top,glob)**/.devcontainer/*/devcontainer.json",
];

/** The object of a settings file's parsed JSON that holds the settings, by the file's name (see the module). */
function settingsObject(parsed: unknown, path: string): unknown {
  const field = (o: unknown, key: string): unknown => (typeof o === "object" && o !== null && !Array.isArray(o) ? (o as Record<string, unknown>)[key] : undefined);
  const name = path.slice(path.lastIndexOf("/") + 1);
  if (name.endsWith(".code-workspace")) return field(parsed, "settings");
  if (name === ".devcontainer.json" || (name === "devcontainer.json" && /(?:^|\/)\.devcontainer\/(?:[^/]+\/)?devcontainer\.json$/.test(path))) {
    return field(field(field(parsed, "customizations"), "vscode"), "settings");
  }
  return parsed;
}

/**
 * The `stellarSecrets` settings of a settings file's text (`stellarSecrets.x` keys and a
 * `stellarSecrets` object alike), as JSON text per setting; undefined when the text is no JSON with
 * comments. `path` (default: a `.vscode/settings.json`) says where in the file they are.
 */
export function stellarEditorSettings(text: string | undefined, path: string = EDITOR_SETTINGS_FILE): Map<string, string> | undefined {
  if (text === undefined) return new Map();
  let parsed: unknown;
  try {
    parsed = JSON.parse(withoutCommentsAndTrailingCommas(text));
  } catch {
    return undefined;
  }
  const out = new Map<string, string>();
  parsed = settingsObject(parsed, path);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return out;
  for (const [key, value] of Object.entries(parsed)) {
    if (key === "stellarSecrets" && typeof value === "object" && value !== null && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) out.set(`stellarSecrets.${k}`, JSON.stringify(v));
    } else if (key.startsWith("stellarSecrets.")) {
      out.set(key, JSON.stringify(value));
    }
  }
  return out;
}

/** JSON with comments (`//`, `/* *\/`) and trailing commas, as VS Code reads settings, made plain JSON (strings kept as they are). */
function withoutCommentsAndTrailingCommas(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; ) {
    const c = text[i] as string;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end === -1 ? text.length : end + 2;
      out += " ";
    } else {
      out += c;
      i++;
    }
  }
  return out.replace(/,(\s*[}\]])/g, "$1");
}

/** A committed editor settings file whose `stellarSecrets` settings a change alters. */
export interface EditorSettingsChange {
  path: string;
  /** The settings added, removed or changed (sorted); `unreadable` when a side is no JSON with comments. */
  settings: string[];
}

/**
 * Of the editor settings files a change touches (each side's text; undefined: absent), those whose
 * `stellarSecrets` settings differ, with which; a side that cannot be read, in a file that names
 * `stellarSecrets`, counts as a change of every setting the other side has (and of `unreadable`).
 * Sorted by path. Pure.
 */
export function editorSettingsChanges(files: readonly { path: string; before: string | undefined; after: string | undefined }[]): EditorSettingsChange[] {
  const out: EditorSettingsChange[] = [];
  for (const f of files) {
    if (f.before === f.after) continue;
    const [b, a] = [stellarEditorSettings(f.before, f.path), stellarEditorSettings(f.after, f.path)];
    if (b === undefined || a === undefined) {
      // (VS Code still reads what it can of a malformed file: one that names our settings may hold one)
      if (!/stellarSecrets/.test(`${f.before ?? ""}\n${f.after ?? ""}`)) continue;
      const known = new Set<string>([...(b ?? new Map<string, string>()).keys(), ...(a ?? new Map<string, string>()).keys()]);
      out.push({ path: f.path, settings: [...known, "unreadable"].sort() });
      continue;
    }
    const changed = [...new Set([...b.keys(), ...a.keys()])].filter((k) => b.get(k) !== a.get(k)).sort();
    if (changed.length > 0) out.push({ path: f.path, settings: changed });
  }
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}
