/**
 * Programs a repository makes others run, changed by a change: the CI gate's workflow, actions and
 * scripts (GitHub runs a pull request's own copy), and the editor settings, tasks and dev container
 * fields that VS Code, Zed or Helix apply for every member who opens the repository. Each a
 * `weakened-rule` saying what runs, for whom and when. Pure.
 */
import type { ReviewContext } from "./context.js";
import { DEV_CONTAINER_COMMAND_FIELDS, DEV_CONTAINER_HOST_FIELDS, editorOfSettings, editorSettingsChanges, hookManagerOf, isHookManagerFile, isMiseConfigFile, isVimRcFile, jetBrainsFileOf } from "./editor-settings.js";
import { isPackageManagerSettings, PACKAGE_MANAGER_SETTINGS, runsGate, type GateFileChange } from "./gate.js";
import type { ReviewProblem } from "./report.js";
import type { FindingWording } from "./wording.js";

/** `weakened-rule` for each change to the CI gate ({@link gateWorkflowChanges}). */
export function gateProblems(ctx: ReviewContext): ReviewProblem[] {
  const { inputs, w } = ctx;
  const problems: ReviewProblem[] = [];
  // the workflow that gates pull requests, changed by one: GitHub runs the pull request's own copy
  for (const c of gateWorkflowChanges(inputs.workflows ?? [])) {
    problems.push({ kind: "weakened-rule", file: c.install?.[0] ?? c.path, message: gateChangeMessage(c, w) });
  }
  return problems;
}

/**
 * `weakened-rule` for each repository file (or package.json script) that a git hook manager's file
 * runs and that the change changes (`inputs.hookScripts`, gate.ts `readHookScriptChanges`): the hook
 * file itself is unchanged, but a member's next commit runs the new text, with their age key in reach.
 */
export function hookScriptProblems(ctx: ReviewContext): ReviewProblem[] {
  const { inputs, w } = ctx;
  const problems: ReviewProblem[] = [];
  const seen = new Set<string>();
  for (const c of inputs.hookScripts ?? []) {
    if (c.before === c.after) continue;
    const file = c.install?.[0] ?? c.path;
    const key = `${file}\0${c.script ?? ""}\0${c.field ?? ""}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const settings = c.script === undefined && c.field === undefined && c.install === undefined && PACKAGE_MANAGER_SETTINGS.includes(c.path.slice(c.path.lastIndexOf("/") + 1));
    const what = settings
      ? `${w.path(c.path)} (a package manager's settings, read by the npm, yarn, pnpm or bun command the hook runs: npm's script-shell and node-options, yarn's yarnPath, a .pnpmfile.cjs, bun's preload, each a program run as that command)`
      : c.field !== undefined ? `the "${c.field}" configuration in ${w.path(c.path)} (the commands lint-staged runs)` : c.script !== undefined ? `the script "${c.script}" of ${w.path(c.path)}` : c.install !== undefined ? `the dependencies of ${w.path(c.path)} (${c.install.map((f) => w.path(f)).join(", ")})` : w.path(c.path);
    const how =
      (c.before === undefined ? "is new" : c.after === undefined ? "is removed" : "changes") +
      (c.computed === undefined ? "" : ` (a hook runs a path computed at run time that ends in ${c.computed}, which cannot be read without running it: every file the change changes whose path ends so is taken as the one it runs)`);
    if (c.via !== undefined && c.via === c.path && c.script === undefined && c.field === undefined && c.install === undefined) {
      // a hook script of a folder git's core.hooksPath names, itself changed
      problems.push({
        kind: "weakened-rule",
        file,
        message:
          `${w.path(c.path)} ${c.before === undefined ? "is new" : c.after === undefined ? "is removed" : "changes"}: it is a hook script of a folder the repository sets as git's core.hooksPath, which git runs at that hook (a commit, a push) in each member's clone that set it, from the working tree, without asking again when it changes: ` +
          `the member's next commit runs the new text, as the member, with their age key in reach${c.after === undefined ? " (or runs without it: a check it ran, `stellar-secrets pre-commit` among them, may be gone)" : ""}; review its diff, and make that change on its own, reviewed separately`,
      });
      continue;
    }
    const hook = c.via === undefined ? undefined : hookManagerOf(c.via);
    const by = c.via === undefined || hook === undefined ? "a git hook manager's file" : `${w.path(c.via)} (${hook.manager}${hook.script ? ", a hook script" : ""})`;
    problems.push({
      kind: "weakened-rule",
      file,
      message:
        `${what} ${how}, and ${by} runs it at a git hook (a commit, a push) in each member's clone where the hook manager is installed, from the working tree, without asking again when it changes: ` +
        `the member's next commit runs the new text, as the member, with their age key in reach, though the hook's own file is unchanged; review its diff, and make that change on its own, reviewed separately`,
    });
  }
  return problems;
}

/**
 * `weakened-rule` for each repository file a dev container file names that the change changes
 * (`inputs.devContainerFiles`, devcontainer.ts `readDevContainerChanges`): the devcontainer.json
 * itself is unchanged, but a member's next open of the repository in its container (or rebuild)
 * runs the new text, `initializeCommand`'s on their own machine.
 */
export function devContainerFileProblems(ctx: ReviewContext): ReviewProblem[] {
  const { inputs, w } = ctx;
  const problems: ReviewProblem[] = [];
  const seen = new Set<string>();
  for (const c of inputs.devContainerFiles ?? []) {
    if (c.before === c.after) continue;
    const file = c.install?.[0] ?? c.path;
    const key = `${file}\0${c.script ?? ""}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const what = c.script !== undefined ? `the script "${c.script}" of ${w.path(c.path)}` : c.install !== undefined ? `the dependencies of ${w.path(c.path)} (${c.install.map((f) => w.path(f)).join(", ")})` : w.path(c.path);
    const how = c.before === undefined ? "is new" : c.after === undefined ? "is removed" : "changes";
    const by = c.via === undefined ? "a dev container file (devcontainer.json)" : `${w.path(c.via)} (a dev container file)`;
    problems.push({
      kind: "weakened-rule",
      file,
      message:
        `${what} ${how}, and ${by} names it: a lifecycle command's script (initializeCommand runs on the member's own machine), the Dockerfile or Docker Compose file the container is built from (a compose file's volumes decide what of the member's machine it sees), or a local feature's files (run as root at build); ` +
        `VS Code's Dev Containers runs it at the member's next open or rebuild of the container, which it opens with their SSH agent and git credentials, though the dev container file is unchanged: review its diff, and make that change on its own, reviewed separately`,
    });
  }
  return problems;
}

/** `weakened-rule` for each editor settings, tasks or dev container file whose programs or stellarSecrets settings change. */
export function editorSettingsProblems(ctx: ReviewContext): ReviewProblem[] {
  const { inputs, w } = ctx;
  const problems: ReviewProblem[] = [];
  // the editor settings a repository commits: VS Code applies them for every member who opens it
  for (const c of editorSettingsChanges(inputs.editorSettings ?? [])) {
    if (isHookManagerFile(c.path)) {
      const { manager, script } = hookManagerOf(c.path);
      const what = c.settings[0] === "removed" ? "is removed" : c.settings[0] === "added" ? "is new" : "changes";
      problems.push({
        kind: "weakened-rule",
        file: c.path,
        message:
          `${w.path(c.path)} ${what}: ${manager} ${script ? "runs this script as a git hook" : "reads this file at every git hook it runs"} in each member's clone where it is installed, from the working tree, without asking again when it changes, ` +
          `so the member's next commit runs ${c.settings[0] === "removed" ? "without it (a check a hook ran, `stellar-secrets pre-commit` among them, may be gone)" : "what it names (a local hook's command, a hook repository at another revision, whose code it installs)"}, as the member, with their age key in reach; ` +
          `review its diff, and make that change on its own, reviewed separately`,
      });
      continue;
    }
    if (isMiseConfigFile(c.path)) {
      if (c.settings[0] === "removed") continue;
      problems.push({
        kind: "weakened-rule",
        file: c.path,
        message:
          `${w.path(c.path)} ${c.settings[0] === "added" ? "is new" : "changes"}: mise loads this configuration in its folder and below, and a member who trusted it once keeps trusting it by its path whatever it later says (mise's normal mode; mise run, install and exec trust it on their own): ` +
          `with mise activated in their shell, its [env] (a _.source script, at every prompt there), [hooks] (enter) and templates ({{exec(...)}}) run the new text as the member, with their age key in reach; review its diff, and make that change on its own, reviewed separately`,
      });
      continue;
    }
    const jetBrains = jetBrainsFileOf(c.path);
    if (jetBrains !== undefined) {
      if (c.settings[0] === "removed") continue;
      const what = c.settings[0] === "removed" ? "is removed" : c.settings[0] === "added" ? "is new" : "changes";
      const runs =
        jetBrains === "watchers"
          ? "its File Watchers run a program whenever a file of their type changes or is saved"
          : jetBrains === "startup"
            ? "its startup tasks run the run configurations it names at each open of the project"
            : jetBrains === "workspace"
              ? "it holds startup tasks or File Watchers, which run a program at each open of the project or save of a file"
              : "this run configuration is a startup task (the project's .idea/startup.xml names it), run at each open of the project";
      problems.push({
        kind: "weakened-rule",
        file: c.path,
        message:
          `${w.path(c.path)} ${what}: a JetBrains IDE (IntelliJ IDEA, WebStorm, PyCharm, …) reads it in a project the member trusted, which it remembers by the project's location, not by what its files say, and ${runs}, without asking: ` +
          `the new text runs as the member, with their age key in reach; keep such tasks in each member's own IDE settings, or make that change on its own, reviewed separately`,
      });
      continue;
    }
    if (isVimRcFile(c.path)) {
      const what = c.settings[0] === "removed" ? "is removed" : c.settings[0] === "added" ? "is new" : "changes";
      if (c.settings[0] === "removed") continue;
      problems.push({
        kind: "weakened-rule",
        file: c.path,
        message:
          `${w.path(c.path)} ${what}: Vim with its exrc option set (and Neovim before 0.9) reads this file when started in its folder and runs its commands (:! runs a program) without asking, and again at each start after it changes; ` +
          `a member who set exrc runs it as themselves, with their age key in reach (Neovim 0.9 and later ask again when the file changes); keep editor settings in each member's own vimrc, or make that change on its own, reviewed separately`,
      });
      continue;
    }
    const named = c.settings.filter((s) => s !== "unreadable");
    const editor = editorOfSettings(c.path);
    const tasksFile = /(?:^|\/)\.vscode\/tasks\.json$/.test(c.path);
    const unreadable = editor === "zed" ? "lsp settings" : tasksFile ? "a task that runs on folder open" : "stellarSecrets settings";
    const what = `${w.path(c.path)} ${[...(named.length === 0 ? [] : [`changes ${named.join(", ")}`]), ...(c.settings.includes("unreadable") ? [`is no JSON review can read, where it names ${unreadable}`] : [])].join(", and ")}: `;
    if (editor !== "vscode") {
      problems.push({
        kind: "weakened-rule",
        file: c.path,
        message:
          what +
          (editor === "zed"
            ? `Zed applies a project's .zed/settings.json for every member who opens it (once they trust the worktree, which it remembers; Zed before worktree trust without asking): lsp.NAME.binary is the program it runs as that language server, and a stellar-secrets server's settings decide what its editor shows and writes; `
            : `Helix reads a workspace's .helix/languages.toml for every member who opens it (released versions without asking; those with workspace trust once it is trusted, which they remember): a language server's command, args and environment, and a language's formatter, are programs it runs; `) +
          `such a program runs as the member, with their age key in reach: keep these in each member's own editor settings, or make that change on its own, reviewed separately`,
      });
      continue;
    }
    const isTask = (n: string): boolean => /^tasks? /.test(n);
    const isProgram = (n: string): boolean => /^(?:terminal\.integrated\.|task\.allowAutomaticTasks$)/.test(n);
    const isHost = (n: string): boolean => DEV_CONTAINER_HOST_FIELDS.includes(n);
    const isContainer = (n: string): boolean => DEV_CONTAINER_COMMAND_FIELDS.includes(n);
    const tasks = named.some(isTask) || (tasksFile && c.settings.includes("unreadable"));
    const programs = named.some(isProgram);
    const host = named.some(isHost);
    const container = named.some(isContainer);
    const ours = named.some((n) => !isTask(n) && !isProgram(n) && !isHost(n) && !isContainer(n)) || (!tasksFile && c.settings.includes("unreadable"));
    problems.push({
      kind: "weakened-rule",
      file: c.path,
      message:
        what +
        (ours
          ? `VS Code applies a repository's editor settings for every member who opens it (a trusted workspace; a workspace file's when they open that workspace, a dev container's in the container): stellarSecrets.cliPath is the program Test Credential runs with their age key in reach, ` +
            `stellarSecrets.configPath the stellar.yaml whose members the editor's writes encrypt a new file for, stellarSecrets.rules the findings it shows; `
          : "") +
        (tasks
          ? `VS Code runs a task with runOptions.runOn "folderOpen" (with the tasks it depends on and the file's options) when a member opens the folder: in a trusted workspace without asking (task.allowAutomaticTasks is on by default since late 2022), in releases since January 2026 after asking once per workspace, and never asking again when the task changes; ` +
            `it runs as the member, with their age key in reach; `
          : "") +
        (programs
          ? `VS Code takes a trusted workspace's terminal.integrated settings as its own: automationProfile is the program every task runs in (a task that runs on open included), defaultProfile, profiles, shell and env the program a terminal starts and its environment, and task.allowAutomaticTasks "on" runs tasks on open without asking; such a program runs as the member, with their age key in reach; `
          : "") +
        (host
          ? `a dev container's initializeCommand runs on the member's own machine, outside the container, when the container is created and each time it starts (a member who opens the folder in its container runs the changed command at the next open), with their age key in reach; mounts, workspaceMount, runArgs, privileged, capAdd, securityOpt, dockerComposeFile and features decide what of their machine the container reaches, and the container's own commands run with it; `
          : "") +
        (container
          ? `a dev container's own commands (onCreateCommand, updateContentCommand, postCreateCommand, postStartCommand, postAttachCommand), its image or build and its environment (containerEnv, remoteEnv) decide what runs in the container a member opens the folder in, at its next creation or start; ` +
            `VS Code's Dev Containers forwards the member's SSH agent and git credentials into it (their GPG agent too when the container has GnuPG), so such a command can push and sign commits as the member, and it reads what the container reaches of their machine; a \${localEnv:NAME} passes a variable of their machine into the container (SOPS_AGE_KEY, a token); `
          : "") +
        ((host || container) && !ours && !tasks && !programs ? "" : `keep these in each member's user settings${tasks ? " and user tasks" : ""}, or `) +
        "make that change on its own, reviewed separately",
    });
  }
  return problems;
}

/** The message of a change to the CI gate ({@link gateWorkflowChanges}). */
function gateChangeMessage(c: GateChange, w: FindingWording): string {
  const action = /(^|\/)action\.ya?ml$/.test(c.path);
  const was = c.change === "removed";
  let said: string;
  if (c.install !== undefined) {
    // the dependencies a step installs, or runs a program from, before or as it runs stellar-secrets
    const dir = c.path.includes("/") ? c.path.slice(0, c.path.lastIndexOf("/") + 1) : "";
    const files = c.install.map((f) => (f === c.path ? `${w.path(f)} (its dependencies or install scripts)` : w.path(f)));
    said =
      `the dependencies the CI gate installs${dir === "" ? "" : ` in ${w.path(dir)}`} are changed (${files.join(", ")})${c.via === undefined ? "" : `; it installs them (or runs a program from them) in ${w.path(c.via)}`}, where it runs stellar-secrets: ` +
      `a package's install script runs in the gate's job, and a dependency, a lockfile or a registry setting decides which stellar-secrets it runs`;
    return (
      `${said}: this change decides how it is itself checked; ` +
      `review the change's diff, and make that change on its own, reviewed separately (a ruleset that requires the workflow from the default branch keeps the gate, docs/ci.md)`
    );
  }
  if (c.scripts === undefined && isPackageManagerSettings(c.path)) {
    // a package manager's settings file read where the gate runs npm, yarn, pnpm or bun
    const how = c.change === "added" ? "new" : was ? "removed" : "changed";
    said =
      `${w.path(c.path)} is ${how}: a package manager's settings, read where the CI gate runs npm, yarn, pnpm or bun to run stellar-secrets${c.via === undefined ? "" : ` (from ${w.path(c.via)})`}; ` +
      `npm's script-shell and node-options, yarn's yarnPath, a .pnpmfile.cjs, bun's preload decide what runs as that command, and GitHub runs a pull request's own copy of the repository`;
  } else if (c.scripts !== undefined || c.via !== undefined) {
    // a file (or package.json scripts) the gate runs, not a workflow or action itself
    const many = c.scripts !== undefined && c.scripts.length > 1;
    const subject =
      (c.scripts === undefined ? w.path(c.path) : `${w.path(c.path)}'s ${many ? "scripts" : "script"} ${c.scripts.map((n) => JSON.stringify(n)).join(", ")}`) +
      (c.computed === undefined ? "" : ` (run through a path computed at run time that ends in ${c.computed}, which cannot be read without running it: every file the change changes whose path ends so is taken as the one it runs)`);
    const how = c.change === "added" ? "new" : was ? "removed" : "changed";
    said =
      `${subject} ${many ? "are" : "is"} ${how}; the CI gate ${was ? "ran" : "runs"} ${many ? "them" : "it"}${c.via === undefined ? "" : ` (from ${w.path(c.via)})`} and ${many ? "they" : "it"} ${was ? "ran" : "run" + (many ? "" : "s")} stellar-secrets, ` +
      `and GitHub runs a pull request's own copy of the repository, the files its workflows run included`;
  } else {
    const which = action ? " (a local action a workflow uses)" : "";
    const copy = `GitHub runs a pull request's own copy of its workflows${action ? " and of the local actions they use" : ""}`;
    said =
      c.change === "added"
        ? `${w.path(c.path)} is a new ${action ? "action" : "workflow"} that runs stellar-secrets${which}, and ${copy}`
        : `${w.path(c.path)} ${was ? "is removed; it ran" : "is changed; it runs"} stellar-secrets${which}, and ${copy}`;
  }
  return (
    `${said}: this change decides how it is itself checked (a step skipped, a status ignored, another tool version); ` +
    `review the ${c.scripts !== undefined || c.via !== undefined ? "change's" : "workflow's"} diff, and make that change on its own, reviewed separately (a ruleset that requires the workflow from the default branch keeps the gate, docs/ci.md)`
  );
}

/** A change to the CI gate: a file (or a package.json's scripts) and how it changed. */
export interface GateChange {
  path: string;
  change: "added" | "removed" | "modified";
  /** The package.json scripts changed (sorted), when the entry is a package.json's. */
  scripts?: string[];
  /** When the entry is a folder's dependencies (`path` its package.json): the files that differ (package.json for its dependency fields and install scripts, a lockfile, `.npmrc` …). */
  install?: string[];
  /** The workflow the file is run from, when it is not a workflow or action itself. */
  via?: string;
  /** When the file is reached only through a path computed at run time: that path's literal end (gate.ts `computedPathsOf`). */
  computed?: string;
}

/**
 * Of the CI gate's files a change touches (each side's text; undefined: absent: core's gate.ts),
 * those that run `stellar-secrets` on either side (or, `usesGate`, run a file that does) and whose
 * text changed, with how: the gate of the change itself. A package.json's changed scripts are one
 * entry (`scripts`, sorted).
 */
export function gateWorkflowChanges(workflows: readonly GateFileChange[]): GateChange[] {
  const out = new Map<string, GateChange>();
  for (const f of workflows) {
    if (f.before === f.after || !(runsGate(f.before) || runsGate(f.after) || f.usesGate === true)) continue;
    const change = f.before === undefined ? ("added" as const) : f.after === undefined ? ("removed" as const) : ("modified" as const);
    const key = f.install !== undefined ? `${f.path}#install` : f.script === undefined ? f.path : `${f.path}#scripts`;
    const seen = out.get(key);
    if (seen !== undefined && f.script !== undefined) {
      seen.scripts = [...(seen.scripts ?? []), f.script].sort();
      if (seen.change !== change) seen.change = "modified";
      continue;
    }
    out.set(key, { path: f.path, change, ...(f.script === undefined ? {} : { scripts: [f.script] }), ...(f.install === undefined ? {} : { install: f.install }), ...(f.via === undefined ? {} : { via: f.via }), ...(f.computed === undefined ? {} : { computed: f.computed }) });
  }
  return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
