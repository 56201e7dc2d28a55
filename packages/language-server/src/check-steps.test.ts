/**
 * A project's first check cut into pieces (core's `crossFileCheckSteps`, `firstCheckSteps` of
 * core-model.ts): the same diagnostics as the check at once, on the checker's realistic fixtures;
 * pieces stopped by an edit or by a request that checked at once leave nothing half-done; and the
 * server's check after the initial index lets `shutdown` through inside one project's check.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DidChangeWatchedFilesNotification, DocumentSymbolRequest, FileChangeType, InitializedNotification, InitializeRequest, ShutdownRequest } from "vscode-languageserver/node";
import { encryptSecrets } from "@stellar-secrets/sops";
import { createCoreModel } from "./core-model.js";
import type { ProjectModel } from "./model.js";
import { connectInMemory, makeTempProject, type InMemoryServer } from "./test-support/in-memory.js";
import { Workspace, type ModelFactory } from "./workspace.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "../../../test/fixtures/checker");
const fixtures = readdirSync(FIXTURES).filter((d) => existsSync(join(FIXTURES, d, "stellar.yaml")));

async function load(dir: string): Promise<ProjectModel> {
  return new Workspace(createCoreModel).load(join(dir, "stellar.yaml"));
}

/** Every file's diagnostics, by absolute path. */
function everything(model: ProjectModel): Map<string, unknown> {
  return new Map([...model.files()].sort().map((p) => [p, model.diagnostics(p)]));
}

/** Runs the steps to their end; returns how many pieces there were. */
function runSteps(steps: Iterator<void, void, void>): number {
  let n = 0;
  while (steps.next().done !== true) n++;
  return n;
}

/** The first config file (relative path) of a fixture's expected.json, or of its folders. */
function someConfigFile(dir: string): string | undefined {
  const expected = existsSync(join(dir, "expected.json")) ? (JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as [string, string, string][]) : [];
  return expected.map((e) => e[2]).find((f) => /^(actions|connections|connectors|agents)\//.test(f));
}

describe("the first check in pieces", () => {
  it("has fixtures to compare, most with findings", async () => {
    expect(fixtures.length).toBeGreaterThan(10);
    expect(fixtures).toContain("planted-monorepo");
    let withFindings = 0;
    for (const name of fixtures) if ([...everything(await load(join(FIXTURES, name))).values()].some((ds) => (ds as unknown[]).length > 0)) withFindings++;
    expect(withFindings).toBeGreaterThan(10);
  });

  it.each(fixtures)("gives the diagnostics the check at once gives (%s)", async (name) => {
    const dir = join(FIXTURES, name);
    const atOnce = everything(await load(dir));
    const model = await load(dir);
    const steps = model.firstCheckSteps?.();
    expect(steps).toBeDefined();
    const pieces = runSteps(steps!);
    // cut: a piece per config file at least (the index's maps, then their cross-file check)
    expect(pieces).toBeGreaterThan(1);
    expect(model.firstCheckSteps?.()).toBeUndefined(); // checked now
    expect(everything(model)).toEqual(atOnce);
  });

  it("stops without effect when the project is edited between two pieces; the steps started again give the check of the edited project", async () => {
    for (const name of ["planted", "planted-monorepo", "references"]) {
      const dir = join(FIXTURES, name);
      const rel = someConfigFile(dir);
      expect(rel, name).toBeDefined();
      const path = join(dir, rel!);
      // the edit: the file is now an action referencing a secret no environment file has
      const edited = "kind: action\nname: edited_in_the_test\nconnection: nowhere_in_the_test\nmethod: GET\npath: /x\nheaders:\n  - { name: K, type: secret, secret: not_a_secret_in_the_test }\n";
      const expected = await load(dir);
      expected.stage(path, edited);
      const want = everything(expected);

      const model = await load(dir);
      const steps = model.firstCheckSteps!()!;
      for (let i = 0; i < 3; i++) expect(steps.next().done).toBe(false);
      model.stage(path, edited);
      expect(steps.next().done).toBe(true); // stopped
      const again = model.firstCheckSteps?.();
      expect(again).toBeDefined(); // not checked: started again
      runSteps(again!);
      expect(everything(model)).toEqual(want);
      expect(want.get(path)).not.toEqual(everything(await load(dir)).get(path) ?? []);
    }
  });

  it("stops when a request checked the project at once meanwhile, keeping that check; a query between two pieces builds the index's maps at once and the pieces go on", async () => {
    const dir = join(FIXTURES, "planted-monorepo");
    const atOnce = everything(await load(dir));
    const model = await load(dir);
    const steps = model.firstCheckSteps!()!;
    for (let i = 0; i < 2; i++) steps.next();
    // a completion or hover between two pieces of the index's maps: they are built at once
    expect(model.secretNames().length).toBeGreaterThan(0);
    runSteps(steps);
    expect(everything(model)).toEqual(atOnce);

    const other = await load(dir);
    const cut = other.firstCheckSteps!()!;
    for (let i = 0; i < 5; i++) cut.next();
    const first = [...atOnce.keys()][0]!;
    expect(other.diagnostics(first)).toEqual(atOnce.get(first)); // checked at once
    expect(cut.next().done).toBe(true);
    expect(other.firstCheckSteps?.()).toBeUndefined();
    expect(everything(other)).toEqual(atOnce);
  });
});

/** The environment files and the catalog of a fixture (relative paths). */
function secretsFiles(dir: string): string[] {
  const secrets = join(dir, "secrets");
  if (!existsSync(secrets)) return [];
  return readdirSync(secrets)
    .filter((f) => /\.enc\.yaml$|^catalog\.yaml$/.test(f))
    .map((f) => `secrets/${f}`);
}

/** The re-check after an edit of an environment file or the catalog, a piece at a time and at once. */
async function recheckBothWays(dir: string, edit: (model: ProjectModel, workspace: Workspace) => void): Promise<{ pieces: number; sliced: { changed: string[]; all: Map<string, unknown> }; atOnce: { changed: string[]; all: Map<string, unknown> } }> {
  const wa = new Workspace(createCoreModel);
  const a = await wa.load(join(dir, "stellar.yaml"));
  everything(a);
  edit(a, wa);
  const atOnce = { changed: [...a.flush()].sort(), all: everything(a) };
  const wb = new Workspace(createCoreModel);
  const b = await wb.load(join(dir, "stellar.yaml"));
  everything(b);
  edit(b, wb);
  const steps = b.flushSteps?.();
  expect(steps).toBeDefined();
  let pieces = 0;
  let r = steps!.next();
  for (; r.done !== true; r = steps!.next()) pieces++;
  expect(r.value).toBeDefined();
  expect(b.flushSteps?.()).toBeUndefined(); // nothing staged any more
  return { pieces, sliced: { changed: [...r.value!].sort(), all: everything(b) }, atOnce };
}

const withSecrets = fixtures.filter((name) => secretsFiles(join(FIXTURES, name)).length > 0);
/** The fixtures whose edits above changed some file's diagnostics. */
let changedSomething = 0;

describe("the re-check after an edit of an environment file or the catalog, in pieces (flushSteps)", () => {
  it("has fixtures with environment files", () => {
    expect(withSecrets.length).toBeGreaterThan(8);
  });

  it.each(withSecrets)("gives the paths and diagnostics the re-check at once gives: each environment file and the catalog emptied, and edited (%s)", async (name) => {
    const dir = join(FIXTURES, name);
    let differed = 0;
    for (const rel of secretsFiles(dir)) {
      const path = join(dir, rel);
      const text = readFileSync(path, "utf8");
      // emptied (its buffer); and its first value line dropped (a name gone from that environment)
      const lines = text.split("\n");
      const at = lines.findIndex((l) => /^\s*[A-Za-z0-9_]+: ENC\[/.test(l));
      const edited = at === -1 ? `${text}\n# edited in the test\n` : [...lines.slice(0, at), ...lines.slice(at + 1)].join("\n");
      for (const next of ["", edited]) {
        const { pieces, sliced, atOnce } = await recheckBothWays(dir, (m, ws) => {
          ws.setBuffer(path, next);
          m.stage(path, next);
        });
        expect([rel, next === "" ? "emptied" : "edited", sliced]).toEqual([rel, next === "" ? "emptied" : "edited", atOnce]);
        expect(pieces).toBeGreaterThanOrEqual(0);
        if (sliced.changed.length > 0) differed++;
      }
    }
    changedSomething += differed > 0 ? 1 : 0;
  });

  it("compared edits that changed diagnostics in most fixtures (not two empty sets)", () => {
    expect(changedSomething).toBeGreaterThan(withSecrets.length / 2);
  });

  it("cuts the re-check after an environment file's edit into a piece per config file", async () => {
    const dir = join(FIXTURES, "planted");
    const env = secretsFiles(dir).find((f) => f.endsWith(".enc.yaml"));
    expect(env).toBeDefined();
    const { pieces } = await recheckBothWays(dir, (m, ws) => {
      ws.setBuffer(join(dir, env!), "");
      m.stage(join(dir, env!), "");
    });
    expect(pieces).toBeGreaterThan(3);
  });

  it("stops without effect when the project is edited between two pieces, or checked at once meanwhile; flush then gives the check of everything staged", async () => {
    const dir = join(FIXTURES, "planted");
    const env = join(dir, secretsFiles(dir).find((f) => f.endsWith(".enc.yaml"))!);
    const rel = someConfigFile(dir)!;
    const config = join(dir, rel);
    const edited = "kind: action\nname: edited_in_the_test\nconnection: nowhere_in_the_test\nmethod: GET\npath: /x\nheaders:\n  - { name: K, type: secret, secret: not_a_secret_in_the_test }\n";
    const ww = new Workspace(createCoreModel);
    const want = await ww.load(join(dir, "stellar.yaml"));
    everything(want);
    ww.setBuffer(env, "");
    want.stage(env, "");
    want.stage(config, edited);
    const wantChanged = [...want.flush()].sort();
    const wantAll = everything(want);

    const wm = new Workspace(createCoreModel);
    const model = await wm.load(join(dir, "stellar.yaml"));
    everything(model);
    wm.setBuffer(env, "");
    model.stage(env, "");
    const steps = model.flushSteps!()!;
    for (let i = 0; i < 2; i++) expect(steps.next().done).toBe(false);
    model.stage(config, edited);
    expect(steps.next()).toEqual({ done: true, value: undefined }); // stopped
    expect([...model.flush()].sort()).toEqual(wantChanged);
    expect(everything(model)).toEqual(wantAll);

    const wo = new Workspace(createCoreModel);
    const other = await wo.load(join(dir, "stellar.yaml"));
    everything(other);
    wo.setBuffer(env, "");
    other.stage(env, "");
    other.stage(config, edited);
    const cut = other.flushSteps!()!;
    cut.next();
    expect([...other.flush()].sort()).toEqual(wantChanged); // a check at once meanwhile
    expect(cut.next()).toEqual({ done: true, value: undefined });
    expect(other.flushSteps?.()).toBeUndefined();
    expect(everything(other)).toEqual(wantAll);
  });
});

describe("a git read arriving after the first check (the value history, the committed versions)", () => {
  it("re-checks with the config files' cross-file diagnostics from the cache, and gives what a check with them from the start gives", async () => {
    const dir = join(FIXTURES, "rotation");
    const fake = JSON.parse(readFileSync(join(dir, "history.json"), "utf8")) as { lastValueChange: Record<string, { date: string; commit: string }> };
    const history = { lastValueChange: (env: string, name: string) => fake.lastValueChange[`${env}/${name}`] };
    const production = readFileSync(join(dir, "secrets/production.enc.yaml"), "utf8");
    // the committed version of an environment file: its text with another MAC (stale-mac compares them)
    const committed = Object.assign(new Map<string, string[]>([["secrets/production.enc.yaml", [production.replace(/mac: ENC\[AES256_GCM,data:[A-Za-z0-9+/=]{4}/, "mac: ENC[AES256_GCM,data:AAAA")]]]), {});

    const fresh = await load(dir);
    fresh.setHistory!(history);
    fresh.setCommitted!(committed);
    const want = everything(fresh);

    const model = await load(dir);
    everything(model); // the first check
    const cache = (model as unknown as { crossFile: { entries: Map<string, { diagnostics: unknown[] }> } }).crossFile;
    const before = new Map([...cache.entries].map(([p, e]) => [p, e.diagnostics]));
    expect(before.size).toBeGreaterThan(3);
    model.setHistory!(history);
    model.setCommitted!(committed);
    expect(everything(model)).toEqual(want);
    expect([...want.values()].flat().some((d) => (d as { rule: string }).rule === "rotation-overdue")).toBe(true);
    // each config file's cross-file diagnostics are the cached ones (not checked again)
    for (const [p, ds] of before) expect(cache.entries.get(p)?.diagnostics, p).toBe(ds);
  });
});

describe("the check after the initial index, inside one project", () => {
  it("answers shutdown during one project's own check, and stops that check there (nothing published)", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 150; i++) files[`actions/a${i}.yaml`] = `kind: action\nname: a${i}\nconnection: c\nmethod: GET\npath: /x\nheaders:\n  - { name: K, type: secret, secret: key_${i % 7} }\n`;
    files["connections/c.yaml"] = "kind: api_connection\nname: c\nbase_url: https://api.example.com\n";
    const project = await makeTempProject({ development: { key_0: "TEST-ONLY" } }, files);
    let server: InMemoryServer | undefined;
    let shutdown: Promise<unknown> | undefined;
    let pieces = 0;
    let finished = false;
    let checkedAtOnce = false;
    let piecesAtShutdown: number | undefined;
    const sendShutdown = (): void => {
      if (shutdown === undefined && server !== undefined) shutdown = server.client.sendRequest(ShutdownRequest.type);
    };
    const modelFactory: ModelFactory = async (configPath, source) => {
      const model = await createCoreModel(configPath, source);
      const diagnostics = model.diagnostics.bind(model);
      const firstCheckSteps = model.firstCheckSteps?.bind(model);
      // the client sends shutdown as soon as the project's check starts, in pieces or at once
      model.diagnostics = (path) => {
        if (!finished && pieces === 0) {
          sendShutdown();
          checkedAtOnce = true;
        }
        return diagnostics(path);
      };
      if (firstCheckSteps !== undefined)
        model.firstCheckSteps = () => {
          const steps = firstCheckSteps();
          if (steps === undefined) return undefined;
          return {
            next: () => {
              if (pieces++ === 0) sendShutdown();
              const r = steps.next();
              if (r.done === true) finished = true;
              return r;
            },
            return: (v?: void) => steps.return?.(v) ?? { done: true, value: undefined },
          };
        };
      return model;
    };
    try {
      server = connectInMemory({ modelFactory, sliceMs: 0 });
      const s = server;
      s.state.onShutdown(() => (piecesAtShutdown = pieces));
      await s.client.sendRequest(InitializeRequest.type, { processId: null, rootUri: project.uri(""), capabilities: {}, workspaceFolders: null });
      await s.client.sendNotification(InitializedNotification.type, {});
      await s.waitFor(() => shutdown !== undefined, "the project's check");
      expect(await Promise.race([shutdown!.then(() => "answered"), new Promise((r) => setTimeout(() => r("no answer"), 5000))])).toBe("answered");
      await s.state.checked;
      await new Promise((r) => setTimeout(r, 100));
      // answered a few pieces in, out of hundreds (150 config files): the check stopped there
      expect(checkedAtOnce).toBe(false);
      expect(finished).toBe(false);
      expect(piecesAtShutdown).toBeGreaterThanOrEqual(1);
      expect(piecesAtShutdown).toBeLessThan(20);
      expect(pieces).toBe(piecesAtShutdown);
      expect(s.published.size).toBe(0);
    } finally {
      await server?.dispose();
      project.remove();
    }
  });
});

describe("the re-check after an environment file changed on disk, in the server", () => {
  it("answers a request between two pieces of it, and publishes what the check at once gives", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 150; i++) files[`actions/a${i}.yaml`] = `kind: action\nname: a${i}\nconnection: c\nmethod: GET\npath: /x\nheaders:\n  - { name: K, type: secret, secret: key_${i % 7} }\n`;
    files["connections/c.yaml"] = "kind: api_connection\nname: c\nbase_url: https://api.example.com\n";
    const all = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`key_${i}`, "TEST-ONLY"]));
    const project = await makeTempProject({ development: all }, files);
    let server: InMemoryServer | undefined;
    let pieces = 0;
    let finished = false;
    let answer: Promise<unknown> | undefined;
    let piecesAtAnswer: number | undefined;
    const modelFactory: ModelFactory = async (configPath, source) => {
      const model = await createCoreModel(configPath, source);
      const flushSteps = model.flushSteps?.bind(model);
      if (flushSteps !== undefined)
        model.flushSteps = () => {
          const steps = flushSteps();
          if (steps === undefined) return undefined;
          return {
            next: () => {
              // the client asks for something as soon as the re-check starts
              if (pieces++ === 0 && server !== undefined) answer = server.client.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: project.uri("actions/a1.yaml") } }).then(() => (piecesAtAnswer = pieces));
              const r = steps.next();
              if (r.done === true) finished = true;
              return r;
            },
          };
        };
      return model;
    };
    try {
      server = connectInMemory({ modelFactory, sliceMs: 0 });
      const s = server;
      await s.client.sendRequest(InitializeRequest.type, { processId: null, rootUri: project.uri(""), capabilities: {}, workspaceFolders: null });
      await s.client.sendNotification(InitializedNotification.type, {});
      await s.waitFor(() => s.logs.some((l) => l.includes("indexed")), "the initial index");
      await s.state.checked;
      expect(s.published.get(project.uri("actions/a1.yaml")) ?? []).toEqual([]);
      // key_1 gone from development's file, saved by another program (the server reads the disk)
      const { key_1: _gone, ...rest } = all;
      project.write("secrets/development.enc.yaml", await encryptSecrets(new Map(Object.entries(rest)), { recipients: [/alice: (age1\w+)/.exec(project.read("stellar.yaml"))![1]!] }));
      await s.client.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: project.uri("secrets/development.enc.yaml"), type: FileChangeType.Changed }] });
      // (published a slice at a time too: every action using key_1)
      const users = Array.from({ length: 150 }, (_, i) => i).filter((i) => i % 7 === 1);
      await s.waitFor(() => users.every((i) => (s.published.get(project.uri(`actions/a${i}.yaml`))?.length ?? 0) > 0), "the re-check's diagnostics");
      await answer;
      // answered a piece or a few in, out of 151 (a piece per config file)
      expect(pieces).toBeGreaterThan(100);
      expect(piecesAtAnswer).toBeLessThan(20);
      expect(finished).toBe(true);
      // what a check of the project as it is now gives, at once
      const fresh = await load(project.dir);
      for (const rel of ["actions/a1.yaml", "actions/a8.yaml", "actions/a148.yaml", "actions/a2.yaml", "secrets/development.enc.yaml"]) {
        expect([rel, (s.published.get(project.uri(rel)) ?? []).map((d) => d.message)]).toEqual([rel, fresh.diagnostics(project.path(rel)).map((d) => d.message)]);
      }
      expect(fresh.diagnostics(project.path("actions/a8.yaml")).length).toBeGreaterThan(0);
    } finally {
      await server?.dispose();
      project.remove();
    }
  });
});
