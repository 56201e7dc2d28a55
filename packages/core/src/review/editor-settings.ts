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
 * `weakened-rule`). So is a change to a task VS Code runs when a member opens the folder
 * (`.vscode/tasks.json`, a workspace file's `tasks`: {@link automaticTasks}). Pure.
 */

/**
 * Other editors' project files that can make a member's editor run a program from the repository,
 * read as each editor reads them (docs/threat-model.md says which apply without asking):
 * Zed's `.zed/settings.json` (`lsp.NAME.binary`: the program of a language server, its arguments
 * and environment; once the member trusts the worktree, and in Zed before worktree trust without
 * asking) and Helix's `.helix/languages.toml` (a `[language-server.NAME]`'s `command`, `args`,
 * `environment`, a language's `formatter` and `language-servers`; released Helix reads it without
 * asking, later ones once the workspace is trusted), and Vim's exrc files ({@link VIM_RC_FILES}).
 * Neovim 0.9+'s `.nvim.lua` and Emacs's `.dir-locals.el` are not read: each asks again when such a file changes.
 */
export const PROGRAM_SETTINGS_FILES = [".zed/settings.json", ".helix/languages.toml"] as const;

/**
 * The files Vim reads from the folder it is started in when its `exrc` option is set (`.vimrc`,
 * `.exrc`, `.gvimrc` and the `_` spellings), and Neovim before 0.9 (`.nvimrc`, `.exrc`): Ex
 * commands, `:!` included, run without asking (`secure` is off by default). `exrc` is off by default;
 * a member who set it runs a pull request's change to such a file at their next start in that
 * folder. Neovim 0.9 and later read them (and `.nvim.lua`) through `vim.secure`, which asks again
 * whenever the file changes: `.nvim.lua` is not read. Compared whole.
 */
export const VIM_RC_FILES = [".exrc", "_exrc", ".vimrc", "_vimrc", ".gvimrc", "_gvimrc", ".nvimrc"] as const;

/**
 * mise's project configuration (any folder: mise reads every one from the current folder up):
 * `mise.toml`, `.mise.toml`, the `.local` and `mise.ENV.toml` variants, `mise/config.toml`,
 * `.mise/config.toml`, `.config/mise.toml`, `.config/mise/config.toml` and `.config/mise/conf.d/*.toml`.
 * Once a member trusted such a file, mise's normal mode keeps trusting it by its path, whatever it
 * later says (its `trust` documentation: only paranoid mode binds trust to the content; `mise run`,
 * `mise install`, `mise exec` trust their config on their own), so with `mise activate` in their
 * shell its `[env]` (`_.source = "./x.sh"`, run at every prompt in that folder), `[hooks]` (`enter`)
 * and templates (`{{exec(...)}}`) run a pull request's change as the member.
 */
export function isMiseConfigFile(path: string): boolean {
  return /(?:^|\/)(?:\.?mise(?:\.[\w-]+)?\.toml|\.?mise\/config(?:\.[\w-]+)?\.toml|\.config\/mise(?:\.[\w-]+)?\.toml|\.config\/mise\/config(?:\.[\w-]+)?\.toml|\.config\/mise\/conf\.d\/[^/]+\.toml)$/.test(path);
}

/** The parts of a mise configuration that run a program when mise loads it (not `[tools]` versions nor `[tasks]`, which run when asked for). */
const MISE_RUNS = /^[ \t]*\[[ \t]*(?:env|hooks|plugins|settings)\b|^[ \t]*(?:env|hooks|plugins|settings|_)[ \t]*[.=]|\{\{|\{%|["']path:/m;

/**
 * JetBrains IDEs' project files (IntelliJ IDEA, WebStorm, PyCharm, …; any folder's `.idea/`) that
 * make the IDE run a program without the member asking, once they trusted the project (which the IDE
 * remembers by its location, not by what its files say): `.idea/watcherTasks.xml` (File Watchers:
 * a program run whenever a file of a given type changes or is saved), `.idea/startup.xml` (startup
 * tasks: run configurations run at each open of the project), `.idea/workspace.xml` when it holds
 * the local startup tasks or File Watchers (it is normally not committed), and a shared run
 * configuration (`.idea/runConfigurations/*.xml`, `.run/*.run.xml`) that the project's
 * `startup.xml` names, on either side. Read from the JetBrains help ("Project security", "File
 * Watchers", "Startup tasks") and the IntelliJ Community source (`ProjectStartupSharedConfiguration`
 * stored in `startup.xml`); not run in an IDE here.
 */
export function jetBrainsFileOf(path: string): "watchers" | "startup" | "workspace" | "run" | undefined {
  if (/(?:^|\/)\.idea\/watcherTasks\.xml$/.test(path)) return "watchers";
  if (/(?:^|\/)\.idea\/startup\.xml$/.test(path)) return "startup";
  if (/(?:^|\/)\.idea\/workspace\.xml$/.test(path)) return "workspace";
  if (/(?:^|\/)\.idea\/runConfigurations\/[^/]+\.xml$|(?:^|\/)\.run\/[^/]+\.run\.xml$/.test(path)) return "run";
  return undefined;
}

/** The `startup.xml` of the JetBrains project a run configuration file (`.idea/runConfigurations/x.xml`, `.run/x.run.xml`) belongs to. */
export function jetBrainsStartupFileOf(runConfiguration: string): string {
  const m = /^(.*?)(?:\.idea\/runConfigurations\/[^/]+\.xml|\.run\/[^/]+\.run\.xml)$/.exec(runConfiguration);
  return `${m?.[1] ?? ""}.idea/startup.xml`;
}

/** The names (`name="…"` of each `<configuration>`) in a JetBrains XML text: a run configuration's own, or those a startup.xml lists. */
function configurationNames(text: string | undefined): string[] {
  return [...(text ?? "").matchAll(/<configuration\b[^>]*?\bname="([^"]*)"/g)].map((m) => (m[1] as string).replace(/&quot;/g, '"').replace(/&amp;/g, "&"));
}

/** Whether a path (from the top) is one of {@link VIM_RC_FILES}, in any folder. */
export function isVimRcFile(path: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return (VIM_RC_FILES as readonly string[]).includes(name);
}

/**
 * The git hook managers' files a member's next `git commit` (or other hook) reads from the working
 * tree and runs, once the manager is installed in their clone, without asking again when they
 * change: the pre-commit framework's `.pre-commit-config.yaml` (its hooks, a `repo: local` hook's
 * `entry`, a remote hook repository and its `rev`, whose code it installs), husky's hook scripts
 * (`.husky/pre-commit` and the like, which its generated `.husky/_/` hooks run; in a subfolder when
 * husky was installed there) and lefthook's configuration in every name lefthook reads
 * (`lefthook.yml`, `.lefthook.yml`, `.config/lefthook.yml`, the `.yaml`, `.toml`, `.json` and
 * `.jsonc` spellings, and the `lefthook-local` config it merges into the main one, which a
 * repository can commit) with the scripts of its `scripts:` (`.lefthook/HOOK/NAME`, and
 * `.lefthook-local/HOOK/NAME`). Compared whole: every part of them names a program. What they
 * name is followed too ({@link hookCommandPathsOf}).
 */
const LEFTHOOK_CONFIGS: readonly string[] = ["lefthook", ".lefthook", "lefthook-local", ".lefthook-local"].flatMap((n) =>
  ["yml", "yaml", "toml", "json", "jsonc"].flatMap((ext) => [`${n}.${ext}`, ...(n.startsWith(".") ? [] : [`.config/${n}.${ext}`])]),
);
export const HOOK_MANAGER_PATHSPECS: readonly string[] = [
  ":(top,literal).pre-commit-config.yaml",
  ":(top,glob)**/.husky/*",
  ...LEFTHOOK_CONFIGS.map((f) => `:(top,literal)${f}`),
  ":(top,glob).lefthook/*/*",
  ":(top,glob).lefthook-local/*/*",
];

/** Whether a path (from the top of the work tree) is one of {@link HOOK_MANAGER_PATHSPECS}'. */
export function isHookManagerFile(path: string): boolean {
  // (a project in a subfolder names the top's files from its root: ../.pre-commit-config.yaml)
  const top = path.replace(/^(?:\.\.\/)+/, "");
  return top === ".pre-commit-config.yaml" || LEFTHOOK_CONFIGS.includes(top) || /^\.lefthook(?:-local)?\/[^/]+\/[^/]+$/.test(top) || /(?:^|\/)\.husky\/[^/]+$/.test(top);
}

/** Which hook manager reads a file of {@link isHookManagerFile}, and whether it runs it as a script (husky's hooks, lefthook's `scripts:`) or reads it as configuration. */
export function hookManagerOf(path: string): { manager: "husky" | "lefthook" | "the pre-commit framework" | "git's core.hooksPath"; script: boolean } {
  const top = path.replace(/^(?:\.\.\/)+/, "");
  if (/(?:^|\/)\.husky\//.test(top)) return { manager: "husky", script: true };
  if (/lefthook/.test(top)) return { manager: "lefthook", script: /^\.lefthook(?:-local)?\//.test(top) };
  // (any other file: a hook script of a folder git's core.hooksPath names, run by git itself)
  if (top !== ".pre-commit-config.yaml") return { manager: "git's core.hooksPath", script: true };
  return { manager: "the pre-commit framework", script: false };
}

/** A path (`/`-separated) joined to a folder of the top (`""`: the top) and normalised; undefined when it leaves the top. */
function fromFolder(dir: string, word: string): string | undefined {
  const parts: string[] = dir === "" ? [] : dir.split("/");
  for (const part of word.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(part);
  }
  return parts.length === 0 ? "" : parts.join("/");
}

/**
 * The folders a hook's commands move to before running something (`cd web && ./x`, `cd tools` on a
 * line of its own, a lefthook command's `root: web/`), from the top (git runs hooks there), each
 * static one; a `cd` to a computed folder (`cd "$(dirname "$0")"`, `cd $DIR`) is none of them
 * (see `computedPathsOf` in gate.ts). Pure.
 */
export function hookFoldersOf(path: string, text: string): string[] {
  return hookCommandsOf(path, text).dirs;
}

/**
 * The repository files a hook manager's file (`path`, from the top; its text) runs, besides what
 * {@link gateReferencesOf}-style words name: a command word holding a `/` (`tools/fmt`, run as a
 * path by the shell, extension or not) where a command starts — a line of a hook script, after
 * `;`, `&&`, `|`, `(` or `$(`, and the value of a configuration's `entry:` (the pre-commit
 * framework's local hook) or `run:` (lefthook) on its line or in the block scalar under it, or a
 * TOML/JSON `run`/`entry` string. Relative to the top (git runs hooks there), and also to the
 * folder a static `cd DIR` before it moved to (in a hook script, for the lines after it too) or a
 * lefthook command's `root:` names. Pure.
 */
export function hookCommandPathsOf(path: string, text: string): string[] {
  return hookCommandsOf(path, text).paths;
}

/** {@link hookCommandPathsOf} and {@link hookFoldersOf} of a hook manager's file. */
function hookCommandsOf(path: string, text: string): { paths: string[]; dirs: string[] } {
  const { script, manager } = hookManagerOf(path);
  const out = new Set<string>();
  const dirs = new Set<string>();
  const roots = new Set<string>();
  const word = /^[ \t]*["']?((?:\.{1,2}\/)?(?:[\w.@+-]+\/)+[\w.@+-]+)(?=$|[\s;&|)"'`])/;
  // lefthook's `root:` of a command: the folder it runs in
  if (manager === "lefthook" && !script) {
    for (const m of text.matchAll(/(?:^|[\s{,])["']?root["']?[ \t]*[:=][ \t]*["']?([^"'\s,}#]+)/gm)) {
      const dir = /[$`*?]/.test(m[1] as string) || (m[1] as string).startsWith("/") ? undefined : fromFolder("", m[1] as string);
      if (dir !== undefined && dir !== "") roots.add(dir);
    }
  }
  // the folder the last static `cd` moved to (from the top); undefined after a computed one
  let cwd: string | undefined = "";
  const add = (command: string): void => {
    for (const part of command.split(/;|&&|\|\||\||\(|\$\(|`/)) {
      const bare = part.replace(/^[ \t]*(?:(?:exec|command|eval|env(?:[ \t]+\w+=\S*)*|(?:ba|z|da|k)?sh[ \t]+(?:-[a-z]+[ \t]+)*-c)[ \t]+)+/, "");
      const cd = /^[ \t]*(?:cd|pushd)(?:[ \t]+(?:--[ \t]+)?(.*?))?[ \t]*\)?[ \t]*$/.exec(bare);
      if (cd !== null) {
        const arg = (cd[1] ?? "").replace(/^(["'])(.*)\1$/, "$2");
        cwd = arg === "" || arg === "-" || /[$`"'~*?\\\s]/.test(arg) || arg.startsWith("/") || cwd === undefined ? undefined : fromFolder(cwd, arg);
        if (cwd !== undefined && cwd !== "") dirs.add(cwd);
        continue;
      }
      const m = word.exec(bare);
      if (m?.[1] === undefined || m[1].startsWith("/") || /[$*?]/.test(m[1])) continue;
      for (const dir of new Set(["", ...(cwd === undefined ? [] : [cwd]), ...roots])) {
        const p = fromFolder(dir, m[1]);
        if (p !== undefined && p !== "" && (dir !== "" || !m[1].replace(/^\.\//, "").startsWith("../"))) out.add(p);
      }
    }
  };
  const lines = text.split("\n");
  if (script) {
    for (const line of lines) if (!/^[ \t]*#/.test(line)) add(line);
    return { paths: [...out], dirs: [...dirs] };
  }
  if (manager === "lefthook") for (const f of lefthookFilesOf(text, path)) out.add(f);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    // YAML `run: x`, `- entry: x`, TOML `run = "x"`, JSON `"run": "x"` (several on one line too); each command from the top
    for (const m of line.matchAll(/(?:^|[\s{,])["']?(?:entry|run)["']?[ \t]*[:=][ \t]*("(?:[^"\\]|\\.)*"|'[^']*'|[^,}\n]*)/g)) {
      const value = (m[1] as string).trim();
      cwd = "";
      if (/^[|>][-+0-9]*$/.test(value)) {
        // a block scalar: the lines indented deeper than the key's
        const indent = (/^[ \t]*-[ \t]+/.exec(line) ?? /^[ \t]*/.exec(line))?.[0].length ?? 0;
        for (let j = i + 1; j < lines.length; j++) {
          const next = lines[j] as string;
          if (next.trim() !== "" && (/^[ \t]*/.exec(next)?.[0].length ?? 0) <= indent) break;
          add(next);
        }
      } else add(value.replace(/^"((?:[^"\\]|\\.)*)"$|^'([^']*)'$/, "$1$2"));
    }
  }
  return { paths: [...out], dirs: [...new Set([...dirs, ...roots])] };
}

/**
 * The files a lefthook configuration names besides commands: the configs it `extends:` (merged
 * into it), its `rc:` file (sourced before every hook), and each script of a hook's `scripts:` in
 * its `source_dir` (and `source_dir_local`; `.lefthook/` and `.lefthook-local/` by default, which
 * are hook manager files themselves): `SOURCE_DIR/HOOK/NAME`. A YAML config (`path` ending in
 * `.yml`/`.yaml`, or none given) is read line by line by indentation (not evaluated); a JSON or
 * JSONC one is parsed; a TOML one is read by its keys and table headers (`[pre-commit.scripts."x.sh"]`,
 * `extends = [...]` over several lines too). Relative to the top. Pure.
 */
export function lefthookFilesOf(text: string, path = "lefthook.yml"): string[] {
  if (/\.jsonc?$/.test(path)) return lefthookJsonFilesOf(text);
  if (/\.toml$/.test(path)) return lefthookTomlFilesOf(text);
  const lines = text.split("\n");
  const unquote = (s: string): string => s.trim().replace(/\s+#.*$/, "").replace(/^["']|["']$/g, "");
  const dirs = { source: ".lefthook", local: ".lefthook-local" };
  for (const line of lines) {
    const m = /^(source_dir|source_dir_local):[ \t]*(\S.*)$/.exec(line);
    if (m !== null) dirs[m[1] === "source_dir" ? "source" : "local"] = unquote(m[2] as string).replace(/\/+$/, "");
  }
  const out: string[] = [];
  const add = addLefthookFile(out);
  let top = "";
  // inside a hook's `scripts:` (its indentation), and the indentation of the scripts' names (the first key below it)
  let scriptsIndent = -1;
  let nameIndent = -1;
  let inExtends = false;
  for (const line of lines) {
    if (line.trim() === "" || /^[ \t]*#/.test(line)) continue;
    const indent = /^[ \t]*/.exec(line)?.[0].length ?? 0;
    if (indent === 0) {
      const key = /^["']?([\w.-]+)["']?:[ \t]*(.*)$/.exec(line);
      top = key?.[1] ?? "";
      scriptsIndent = -1;
      inExtends = false;
      const value = key?.[2]?.trim() ?? "";
      if (top === "rc" && value !== "") add(unquote(value));
      if (top === "extends") {
        if (value.startsWith("[")) for (const item of value.replace(/^\[|\]$/g, "").split(",")) add(unquote(item));
        else if (value !== "") add(unquote(value));
        else inExtends = true;
      }
      continue;
    }
    if (inExtends) {
      const item = /^[ \t]*-[ \t]*(.+)$/.exec(line);
      if (item !== null) add(unquote(item[1] as string));
      continue;
    }
    if (scriptsIndent >= 0 && indent <= scriptsIndent) scriptsIndent = -1;
    const key = /^[ \t]*["']?([^"':]+)["']?:[ \t]*(.*)$/.exec(line);
    if (key === null) continue;
    if (scriptsIndent < 0) {
      if (key[1] === "scripts" && (key[2] ?? "").trim() === "") {
        scriptsIndent = indent;
        nameIndent = -1;
      }
      continue;
    }
    if (nameIndent < 0) nameIndent = indent;
    if (indent !== nameIndent) continue;
    const name = (key[1] as string).trim();
    add(`${dirs.source}/${top}/${name}`);
    add(`${dirs.local}/${top}/${name}`);
  }
  return out;
}

/** Adds a lefthook-named file to `out` (once; not absolute, outside the top or computed). */
function addLefthookFile(out: string[]): (p: string) => void {
  return (p: string): void => {
    const clean = p.replace(/^\.\//, "");
    if (clean !== "" && !clean.startsWith("/") && !clean.startsWith("../") && !/[$*?]/.test(clean) && !out.includes(clean)) out.push(clean);
  };
}

/** {@link lefthookFilesOf} of a lefthook JSON/JSONC configuration (parsed; none when it is no JSON). */
function lefthookJsonFilesOf(text: string): string[] {
  const parsed = objectOf(parseJsonWithComments(text));
  if (parsed === undefined) return [];
  const out: string[] = [];
  const add = addLefthookFile(out);
  const str = (v: unknown): string | undefined => (typeof v === "string" ? v.replace(/\/+$/, "") : undefined);
  const source = str(parsed["source_dir"]) ?? ".lefthook";
  const local = str(parsed["source_dir_local"]) ?? ".lefthook-local";
  const rc = str(parsed["rc"]);
  if (rc !== undefined) add(rc);
  const ext = parsed["extends"];
  for (const e of Array.isArray(ext) ? ext : [ext]) if (typeof e === "string") add(e);
  for (const [hook, value] of Object.entries(parsed)) {
    const scripts = objectOf(objectOf(value)?.["scripts"]);
    for (const name of Object.keys(scripts ?? {})) {
      add(`${source}/${hook}/${name}`);
      add(`${local}/${hook}/${name}`);
    }
  }
  return out;
}

/** {@link lefthookFilesOf} of a lefthook TOML configuration, read by its keys and table headers (not evaluated). */
function lefthookTomlFilesOf(text: string): string[] {
  const out: string[] = [];
  const add = addLefthookFile(out);
  const strings = (s: string): string[] => [...s.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'/g)].map((m) => m[1] ?? m[2] ?? "");
  const keyParts = (s: string): string[] => [...s.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|([\w-]+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? "");
  const dirs = { source: ".lefthook", local: ".lefthook-local" };
  const lines = text.split(/\r?\n/);
  for (const line of lines) {
    const m = /^[ \t]*(source_dir|source_dir_local)[ \t]*=[ \t]*(.*)$/.exec(line);
    const value = m === null ? undefined : strings(m[2] as string)[0];
    if (m !== null && value !== undefined) dirs[m[1] === "source_dir" ? "source" : "local"] = value.replace(/\/+$/, "");
  }
  const script = (hook: string, name: string): void => {
    add(`${dirs.source}/${hook}/${name}`);
    add(`${dirs.local}/${hook}/${name}`);
  };
  let table: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "" || line.startsWith("#")) continue;
    const header = /^\[\[?(.*?)\]\]?[ \t]*(?:#.*)?$/.exec(line);
    if (header !== null && !/^[^"'[]*=/.test(line)) {
      table = keyParts(header[1] as string);
      // [HOOK.scripts."NAME"] (and deeper tables of it)
      if (table.length >= 3 && table[1] === "scripts") script(table[0] as string, table[2] as string);
      continue;
    }
    const eq = /^((?:"(?:[^"\\]|\\.)*"|'[^']*'|[\w.-]+)(?:[ \t]*\.[ \t]*(?:"(?:[^"\\]|\\.)*"|'[^']*'|[\w-]+))*)[ \t]*=[ \t]*(.*)$/.exec(line);
    if (eq === null) continue;
    const key = [...table, ...keyParts(eq[1] as string)];
    let value = eq[2] as string;
    // an array over several lines: up to its closing bracket
    if (value.startsWith("[") && !value.includes("]")) {
      for (let j = i + 1; j < lines.length && !value.includes("]"); j++, i++) value += ` ${(lines[j] as string).trim()}`;
    }
    if (key.length === 1 && (key[0] === "rc" || key[0] === "extends")) for (const v of strings(value)) add(v);
    // [HOOK.scripts] "NAME" = { ... }, or HOOK.scripts."NAME".runner = "bash" at the top
    else if (key.length >= 3 && key[1] === "scripts") script(key[0] as string, key[2] as string);
  }
  return out;
}

/** Where VS Code reads a folder's settings, relative to that folder. */
export const EDITOR_SETTINGS_FILE = ".vscode/settings.json";

/**
 * Where VS Code reads a folder's tasks, relative to that folder. A task with `runOptions.runOn:
 * "folderOpen"` runs when a member opens the folder: from late 2022 (the per-folder question of
 * 1.70 removed) to January 2026 VS Code runs it in any trusted workspace without asking
 * (`task.allowAutomaticTasks` defaults to `on`; verified in code-server
 * 4.100.3, VS Code 1.100.3), releases since January 2026 ask once per workspace; none asks again
 * when such a task changes. A workspace file's `tasks` are read the same way.
 */
export const EDITOR_TASKS_FILE = ".vscode/tasks.json";

/** git pathspecs (from the top of the work tree) of every file VS Code reads a repository's settings from. */
export const EDITOR_SETTINGS_PATHSPECS: readonly string[] = [
  `:(top,glob)**/${EDITOR_SETTINGS_FILE}`,
  `:(top,glob)**/${EDITOR_TASKS_FILE}`,
  ":(top,glob)**/*.code-workspace",
  ":(top,glob)**/.devcontainer.json",
  ":(top,glob)**/.devcontainer/devcontainer.json",
  ":(top,glob)**/.devcontainer/*/devcontainer.json",
  ...PROGRAM_SETTINGS_FILES.map((f) => `:(top,glob)**/${f}`),
  ...VIM_RC_FILES.map((f) => `:(top,glob)**/${f}`),
  ...["mise.toml", ".mise.toml", "mise.*.toml", ".mise.*.toml", "mise/config.toml", ".mise/config.toml", "mise/config.*.toml", ".mise/config.*.toml", ".config/mise.toml", ".config/mise.*.toml", ".config/mise/config.toml", ".config/mise/config.*.toml", ".config/mise/conf.d/*.toml"].map((f) => `:(top,glob)**/${f}`),
  ...HOOK_MANAGER_PATHSPECS,
  ":(top,glob)**/.idea/watcherTasks.xml",
  ":(top,glob)**/.idea/startup.xml",
  ":(top,glob)**/.idea/workspace.xml",
  ":(top,glob)**/.idea/runConfigurations/*.xml",
  ":(top,glob)**/.run/*.run.xml",
];

/** The editor that reads a settings file (by its path), for the words of a finding. */
export function editorOfSettings(path: string): "vscode" | "zed" | "helix" {
  return /(?:^|\/)\.zed\/settings\.json$/.test(path) ? "zed" : /(?:^|\/)\.helix\/languages\.toml$/.test(path) ? "helix" : "vscode";
}

/**
 * The settings of a Zed `.zed/settings.json` (JSON with comments) that run a program: each
 * `lsp.NAME.binary` (path, arguments, environment), and the whole `lsp.NAME` of a server whose name
 * names stellar-secrets (its settings too), as JSON text per setting; undefined when no JSON.
 */
export function zedProgramSettings(text: string | undefined): Map<string, string> | undefined {
  if (text === undefined) return new Map();
  const parsed = parseJsonWithComments(text);
  if (parsed === NOT_JSON) return undefined;
  const out = new Map<string, string>();
  const lsp = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>)["lsp"] : undefined;
  if (typeof lsp !== "object" || lsp === null || Array.isArray(lsp)) return out;
  for (const [name, server] of Object.entries(lsp)) {
    if (typeof server !== "object" || server === null) continue;
    if (/stellar/i.test(name)) out.set(`lsp.${name}`, JSON.stringify(server));
    else if ((server as Record<string, unknown>)["binary"] !== undefined) out.set(`lsp.${name}.binary`, JSON.stringify((server as Record<string, unknown>)["binary"]));
  }
  return out;
}

/** The keys of a Helix languages.toml that name a program or which programs run. */
const HELIX_PROGRAM_KEYS = new Set(["command", "args", "environment", "formatter", "language-servers"]);

/**
 * The settings of a Helix `.helix/languages.toml` that run a program, read line by line (the TOML
 * is not evaluated): setting (`language-server.NAME.command`, `language#2.formatter`) → its text,
 * a value over several lines (an array, an inline table) whole; `[language-server.NAME.environment]`
 * tables as one setting. Comments and blank lines are no change. Pure.
 */
export function helixProgramSettings(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (text === undefined) return out;
  let table = "";
  let languages = 0;
  let open: string | undefined;
  let depth = 0;
  const add = (key: string, line: string): void => {
    out.set(key, out.has(key) ? `${out.get(key) as string}\n${line}` : line);
  };
  const depthOf = (line: string): number => {
    let d = 0;
    let quote: string | undefined;
    for (let i = 0; i < line.length; i++) {
      const c = line[i] as string;
      if (quote !== undefined) {
        if (c === "\\" && quote === '"') i++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === "#") break;
      else if (c === "[" || c === "{") d++;
      else if (c === "]" || c === "}") d--;
    }
    return d;
  };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (open !== undefined) {
      add(open, line);
      depth += depthOf(line);
      if (depth <= 0) open = undefined;
      continue;
    }
    const header = /^\[\[?\s*([^\]]+?)\s*\]\]?/.exec(line);
    if (header !== null && !line.includes("=")) {
      const name = (header[1] as string).replace(/["']/g, "");
      table = line.startsWith("[[") && name === "language" ? `language#${++languages}` : name;
      continue;
    }
    const eq = line.indexOf("=");
    if (eq === -1) continue;
    const key = line.slice(0, eq).trim().replace(/["']/g, "");
    const full = table === "" ? key : `${table}.${key}`;
    const last = full.split(".").slice(-1)[0] as string;
    const inProgramTable = /^language-server\.[^.]+\.environment$/.test(table);
    if (!HELIX_PROGRAM_KEYS.has(last) && !inProgramTable && !/\bcommand\s*=/.test(line.slice(eq + 1))) continue;
    const setting = inProgramTable ? table : full;
    add(setting, line);
    depth = depthOf(line);
    if (depth > 0) open = setting;
  }
  return out;
}

/** The fields of a JSON object, or undefined for anything else. */
function objectOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * The tasks VS Code runs on its own when a member opens the folder, of a `tasks.json`'s parsed
 * value (or a workspace file's `tasks`): each task with `runOptions.runOn: "folderOpen"` and each
 * task one of them depends on (`dependsOn`, by label, transitively), as `task "LABEL"` → its JSON
 * (command, arguments, options, OS-specific parts); and, when there is such a task, the file's
 * other top-level fields (`options`, `linux`, `windows`, `osx`, `inputs`, ...) that every task
 * takes, as `tasks KEY`. Empty when no task runs on open.
 */
export function automaticTasks(parsed: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const file = objectOf(parsed);
  const tasks = Array.isArray(file?.["tasks"]) ? (file["tasks"] as unknown[]) : [];
  const labelOf = (t: Record<string, unknown>, i: number): string =>
    typeof t["label"] === "string" ? t["label"] : typeof t["taskName"] === "string" ? t["taskName"] : typeof t["script"] === "string" ? `${String(t["type"])}: ${t["script"]}` : `#${i + 1}`;
  const byLabel = new Map<string, { task: Record<string, unknown>; label: string }>();
  const listed = tasks.flatMap((t, i) => {
    const task = objectOf(t);
    if (task === undefined) return [];
    const entry = { task, label: labelOf(task, i) };
    if (!byLabel.has(entry.label)) byLabel.set(entry.label, entry);
    return [entry];
  });
  const pending = listed.filter((e) => objectOf(e.task["runOptions"])?.["runOn"] === "folderOpen");
  if (pending.length === 0) return out;
  while (pending.length > 0) {
    const { task, label } = pending.shift() as { task: Record<string, unknown>; label: string };
    const key = `task ${JSON.stringify(label)}`;
    if (out.has(key)) continue;
    out.set(key, JSON.stringify(task));
    const deps = task["dependsOn"];
    for (const d of Array.isArray(deps) ? deps : [deps]) {
      const dep = typeof d === "string" ? byLabel.get(d) : undefined;
      if (dep !== undefined) pending.push(dep);
    }
  }
  for (const [k, v] of Object.entries(file ?? {})) if (k !== "tasks" && k !== "version") out.set(`tasks ${k}`, JSON.stringify(v));
  return out;
}

/** Whether `path` is a dev container file VS Code reads: `.devcontainer.json`, `.devcontainer/devcontainer.json`, `.devcontainer/NAME/devcontainer.json`. */
function isDevContainerFile(path: string): boolean {
  return /(?:^|\/)(?:\.devcontainer\.json|\.devcontainer\/(?:[^/]+\/)?devcontainer\.json)$/.test(path);
}

/** The object of a settings file's parsed JSON that holds the settings, by the file's name (see the module). */
function settingsObject(parsed: unknown, path: string): unknown {
  const field = (o: unknown, key: string): unknown => (typeof o === "object" && o !== null && !Array.isArray(o) ? (o as Record<string, unknown>)[key] : undefined);
  if (path.endsWith(".code-workspace")) return field(parsed, "settings");
  if (isDevContainerFile(path)) return field(field(field(parsed, "customizations"), "vscode"), "settings");
  return parsed;
}

/**
 * The fields of a dev container file that run a program on the member's own machine or give the
 * container a part of it. `initializeCommand` runs on the host, outside the container, during
 * initialization: when the container is created and on each later start (the Dev Container
 * specification's metadata reference), so a changed one runs at the member's next open in the
 * container, where their age key is. `mounts`, `workspaceMount`, `runArgs`, `privileged`,
 * `capAdd`, `securityOpt`, `dockerComposeFile` and `features` (a feature may mount the host's
 * Docker socket) decide what of the member's machine the container reaches, and the container's
 * own commands (`postCreateCommand`, ...) then run with it. The files they name (a compose
 * file, a Dockerfile, a local feature's scripts) are followed by devcontainer.ts.
 */
export const DEV_CONTAINER_HOST_FIELDS: readonly string[] = [
  "initializeCommand",
  "mounts",
  "workspaceMount",
  "runArgs",
  "privileged",
  "capAdd",
  "securityOpt",
  "dockerComposeFile",
  "features",
];

/**
 * The fields of a dev container file that decide what runs inside the container a member opens:
 * its own commands (`onCreateCommand`, `updateContentCommand`, `postCreateCommand`,
 * `postStartCommand`, `postAttachCommand`), its image or build (`image`, `build`, `dockerFile`,
 * `context`) and its environment (`containerEnv`, `remoteEnv`). VS Code's Dev Containers
 * extension forwards the member's SSH agent and git credential helper into every container it
 * opens, and their GPG agent when the container has GnuPG (its documentation, "Sharing Git
 * credentials with your container"; not run here: no Docker): such a command can push, and sign
 * commits, as the member. And `${localEnv:NAME}` anywhere in the file (`localEnv`, the strings
 * holding it) passes a variable of the member's machine into the container (`SOPS_AGE_KEY`, a token).
 */
export const DEV_CONTAINER_COMMAND_FIELDS: readonly string[] = [
  "onCreateCommand",
  "updateContentCommand",
  "postCreateCommand",
  "postStartCommand",
  "postAttachCommand",
  "image",
  "build",
  "dockerFile",
  "context",
  "containerEnv",
  "remoteEnv",
  "localEnv",
];

/** The strings of a parsed JSON value that hold `${localEnv:` (sorted, each once). */
function localEnvStrings(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === "string") {
    if (value.includes("${localEnv:")) out.add(value);
  } else if (Array.isArray(value)) for (const v of value) localEnvStrings(v, out);
  else if (typeof value === "object" && value !== null) for (const [k, v] of Object.entries(value)) {
    if (k.includes("${localEnv:")) out.add(k);
    localEnvStrings(v, out);
  }
  return out;
}

/**
 * The `stellarSecrets` settings of a settings file's text (`stellarSecrets.x` keys and a
 * `stellarSecrets` object alike), as JSON text per setting; undefined when the text is no JSON with
 * comments. `path` (default: a `.vscode/settings.json`) says where in the file they are.
 */
export function stellarEditorSettings(text: string | undefined, path: string = EDITOR_SETTINGS_FILE): Map<string, string> | undefined {
  if (text === undefined) return new Map();
  const whole = parseJsonWithComments(text);
  return whole === NOT_JSON ? undefined : stellarSettingsOf(whole, path);
}

/** {@link stellarEditorSettings} of a settings file's parsed JSON. */
function stellarSettingsOf(whole: unknown, path: string): Map<string, string> {
  const out = new Map<string, string>();
  const parsed = settingsObject(whole, path);
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

const NOT_JSON = Symbol("not JSON with comments");
/** The value of JSON with comments and trailing commas (as VS Code and Zed read their settings), or {@link NOT_JSON}. */
function parseJsonWithComments(text: string): unknown {
  try {
    return JSON.parse(withoutCommentsAndTrailingCommas(text));
  } catch {
    return NOT_JSON;
  }
}

/** JSON with comments (`//`, `/* *\/`) and trailing commas, as VS Code reads settings, made plain JSON (strings kept as they are). */
export function withoutCommentsAndTrailingCommas(text: string): string {
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
 * VS Code's own settings that a repository's settings can set (in a trusted workspace) and that
 * choose a program it runs as the member: the shell a task runs in (`automationProfile`; without
 * one, the default profile's) and that a terminal starts (`defaultProfile`, `profiles`, the
 * legacy `shell`, `shellArgs`), their environment (`env`: `PATH` to a folder of the repository),
 * each per platform; and `task.allowAutomaticTasks` (`on` makes a release that asks once before
 * running tasks on open run them without asking). Verified in code-server 4.100.3: an
 * `automationProfile.linux` path of `${workspaceFolder}/x.sh` ran that file as the shell of a task
 * that runs on open, without asking. (`git.path` is machine-scoped: VS Code ignores it there.)
 */
const VSCODE_PROGRAM_SETTINGS: readonly string[] = [
  ...["automationProfile", "defaultProfile", "profiles", "env", "shell", "shellArgs"].flatMap((s) => ["linux", "osx", "windows"].map((p) => `terminal.integrated.${s}.${p}`)),
  "task.allowAutomaticTasks",
];

/**
 * The settings of {@link VSCODE_PROGRAM_SETTINGS} in a settings object (dotted keys, or nested
 * objects as VS Code also reads them), as JSON text per setting.
 */
function vscodeProgramSettingsOf(settings: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (value: unknown, prefix: string): void => {
    for (const [key, v] of Object.entries(objectOf(value) ?? {})) {
      const full = prefix === "" ? key : `${prefix}.${key}`;
      if (VSCODE_PROGRAM_SETTINGS.includes(full)) out.set(full, JSON.stringify(v));
      else if (VSCODE_PROGRAM_SETTINGS.some((n) => n.startsWith(`${full}.`))) walk(v, full);
    }
  };
  walk(settings, "");
  return out;
}

/**
 * What VS Code takes from a settings file (by its path) that decides what a member's editor does:
 * the `stellarSecrets` settings ({@link stellarEditorSettings}), VS Code's settings that choose the
 * program a task or terminal runs ({@link VSCODE_PROGRAM_SETTINGS}), and the tasks that run on open
 * ({@link automaticTasks}) of a `.vscode/tasks.json` or of a workspace file's `tasks`, and a dev
 * container file's fields that reach the member's machine ({@link DEV_CONTAINER_HOST_FIELDS});
 * undefined when the text is no JSON with comments.
 */
export function vscodeProgramSettings(text: string | undefined, path: string = EDITOR_SETTINGS_FILE): Map<string, string> | undefined {
  if (text === undefined) return new Map();
  const parsed = parseJsonWithComments(text);
  if (parsed === NOT_JSON) return undefined;
  if (/(?:^|\/)\.vscode\/tasks\.json$/.test(path)) return automaticTasks(parsed);
  const settings = stellarSettingsOf(parsed, path);
  for (const [k, v] of vscodeProgramSettingsOf(settingsObject(parsed, path))) settings.set(k, v);
  if (path.endsWith(".code-workspace")) for (const [k, v] of automaticTasks(objectOf(parsed)?.["tasks"])) settings.set(k, v);
  if (isDevContainerFile(path)) {
    const file = objectOf(parsed) ?? {};
    for (const field of [...DEV_CONTAINER_HOST_FIELDS, ...DEV_CONTAINER_COMMAND_FIELDS]) if (file[field] !== undefined) settings.set(field, JSON.stringify(file[field]));
    const local = [...localEnvStrings(file)].sort();
    if (local.length > 0) settings.set("localEnv", JSON.stringify(local));
  }
  return settings;
}

/** Text that names one of the settings {@link vscodeProgramSettings} reads (for a file that is no JSON). */
const NAMES_A_PROGRAM_SETTING = new RegExp(["stellarSecrets", "folderOpen", "terminal", "allowAutomaticTasks", ...DEV_CONTAINER_HOST_FIELDS, ...DEV_CONTAINER_COMMAND_FIELDS].join("|"));

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
    // a git hook manager's file (every part of it names a program a member's commit runs), a Vim exrc file (Ex commands)
    // a mise configuration whose either side runs something when loaded (an [env] source, a hook, a template): compared whole
    if (isMiseConfigFile(f.path)) {
      if (MISE_RUNS.test(f.before ?? "") || MISE_RUNS.test(f.after ?? "")) out.push({ path: f.path, settings: [f.before === undefined ? "added" : f.after === undefined ? "removed" : "changed"] });
      continue;
    }
    // a JetBrains project file that runs a program unasked (a run configuration: when the project's startup.xml names it on either side)
    const jetBrains = jetBrainsFileOf(f.path);
    if (jetBrains !== undefined) {
      const change = f.before === undefined ? "added" : f.after === undefined ? "removed" : "changed";
      if (jetBrains === "watchers" || jetBrains === "startup") out.push({ path: f.path, settings: [change] });
      else if (jetBrains === "workspace") {
        if (/ProjectStartupLocalConfiguration|ProjectTasksOptions/.test(`${f.before ?? ""}\n${f.after ?? ""}`)) out.push({ path: f.path, settings: [change] });
      } else {
        const startup = files.find((x) => x.path === jetBrainsStartupFileOf(f.path));
        const listed = new Set([...configurationNames(startup?.before), ...configurationNames(startup?.after)]);
        if ([...configurationNames(f.before), ...configurationNames(f.after)].some((n) => listed.has(n))) out.push({ path: f.path, settings: [change] });
      }
      continue;
    }
    if (isHookManagerFile(f.path) || isVimRcFile(f.path)) {
      out.push({ path: f.path, settings: [f.before === undefined ? "added" : f.after === undefined ? "removed" : "changed"] });
      continue;
    }
    const editor = editorOfSettings(f.path);
    const read = (t: string | undefined): Map<string, string> | undefined => (editor === "zed" ? zedProgramSettings(t) : editor === "helix" ? helixProgramSettings(t) : vscodeProgramSettings(t, f.path));
    const [b, a] = [read(f.before), read(f.after)];
    if (b === undefined || a === undefined) {
      // (VS Code still reads what it can of a malformed file: one that names our settings may hold one)
      if (!(editor === "zed" ? /"lsp"/ : NAMES_A_PROGRAM_SETTING).test(`${f.before ?? ""}\n${f.after ?? ""}`)) continue;
      const known = new Set<string>([...(b ?? new Map<string, string>()).keys(), ...(a ?? new Map<string, string>()).keys()]);
      out.push({ path: f.path, settings: [...known, "unreadable"].sort() });
      continue;
    }
    const changed = [...new Set([...b.keys(), ...a.keys()])].filter((k) => b.get(k) !== a.get(k)).sort();
    if (changed.length > 0) out.push({ path: f.path, settings: changed });
  }
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}
