// Config files' models kept between runs (model-cache.ts): a model taken from the cache is the
// parser's, field by field and with its classes; a changed text, another build, another project
// or a damaged cache is never used; the cache holds no value of a file.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { memoryFs } from "./test-support/memory-fs.js";
import { parsesNearStackLimit } from "./test-support/stack-limit.js";
import { checkWorkspace } from "./check.js";
import { parseConfigFile, type ConfigFile } from "./config.js";
import { loadWorkspace } from "./load.js";
import { ConfigModelCache, flattenEntries, MODEL_CACHE_FORMAT, MODEL_CACHE_VERSION, unflattenEntries, type ModelCacheIdentity } from "./model-cache.js";
import { LineIndex } from "./position.js";

const ID: ModelCacheIdentity = { build: "0123abcd", runtime: "v20.20.2", root: "/work/project" };
const FIXTURES = join(fileURLToPath(new URL(".", import.meta.url)), "../../../test/fixtures/checker");

/** Texts of every shape the parser handles: [path, text, cached?]. */
const TEXTS: [string, string, boolean][] = [
  ["agents/plain.yaml", "kind: agent\nname: sales\ndescription: Sells\nactions: [lookup, charge]\nenvironments: [staging, production]\n", true],
  ["agents/crlf.yaml", "kind: agent\r\nname: crlf\r\nactions:\r\n  - lookup\r\n  - charge\r\n", true],
  ["agents/bom.yaml", "\uFEFFkind: agent\nname: bom\nactions: [lookup]\n", true],
  ["agents/lone-cr.yaml", "kind: agent\rname: cr\ractions: [lookup]\r", true],
  ["agents/not-utf8.yaml", "kind: agent\nname: latin\ninstructions: caf\uFFFD\n", true],
  ["agents/schema.yaml", "kind: agent\nname: 12\nactions: lookup\nunknown_field: 1\n", true],
  ["agents/kind-typo.yaml", "kind: agnet\nname: typo\n", true],
  ["agents/syntax.yaml", 'kind: agent\nname: broken\ninstructions: "some prose text\n---\nkind: action\nname: swallowed\n', true],
  ["agents/dup-key.yaml", "kind: agent\nname: a\nname: b\n", true],
  ["agents/multi.yaml", "kind: agent\nname: one\n---\nkind: agent\nname: two\nactions: [x]\n---\nother: tool\n", true],
  [
    "actions/headers.yaml",
    'kind: action\nname: lookup\nconnection: hubspot\nmethod: GET\npath: /x\nheaders:\n  - { name: X-Api-Key, type: secret, secret: hubspot_key }\n  - { name: Accept, type: static, value: application/json }\n  - { name: X-Quoted, type: static, value: "${hubspot_key}" }\n  - { name: X-Single, type: static, value: \'hubspot_key\' }\n',
    true,
  ],
  ["actions/escaped.yaml", 'kind: action\nname: esc\nconnection: c\nmethod: GET\npath: /x\nheaders:\n  - { name: X-Esc, type: static, value: "a\\tb" }\n', false],
  ["actions/block.yaml", "kind: action\nname: block\nconnection: c\nmethod: GET\npath: /x\nheaders:\n  - name: X-Key\n    type: secret\n    secret: |\n      block_name\n", true],
  ["actions/alias.yaml", "kind: action\nname: al\nconnection: c\nmethod: GET\npath: /x\nheaders:\n  - &h { name: X-A, type: static, value: v1 }\n  - *h\n", false],
  ["connectors/plain-fields.yaml", "kind: auth_connector\nname: basic\ntype: basic\nusername: svc-user\npassword: { secret: svc_password }\n", true],
  ["connectors/secret-only.yaml", "kind: auth_connector\nname: tok\ntype: bearer_token\ntoken: not-a-reference\n", false],
  ["connectors/credential.yaml", "kind: auth_connector\nname: cred\ntype: bearer_token\ntoken: { secret: stripe_key }\n# sk_live_4eC39HqLyjWDarjtT1zdp7dcTEST1234\n", false],
  ["connections/commented.yaml", "# the reporting API\nkind: api_connection\nname: reporting # was legacy_reporting\nbase_url: https://r.example # not a '#' in 'quotes # here'\n", true],
  ["connections/probe.yaml", "kind: api_connection\nname: hubspot\nbase_url: http://api.example.com\nauth: basic\nprobe:\n  path: /me\n  timeout: 90s\n", true],
  // a { secret: } in a document without kind: read back, its mention is found again in the text (unused-secret names it)
  ["connectors/kindless.yaml", "defaults:\n  token: { secret: stripe_api_key }\n---\nkind: auth_connector\nname: k\ntype: bearer_token\ntoken: { secret: other_key }\n", true],
  ["other/k8s.yaml", "kind: Deployment\nmetadata:\n  name: web\n", false],
  ["other/empty.yaml", "", false],
];

/** A cache that has recorded `models` (parsed from their texts) and written them, read back. */
function roundTrip(files: [string, string][], identity = ID): { text: string; cache: ConfigModelCache; fresh: Map<string, ConfigFile> } {
  const writer = ConfigModelCache.empty(identity);
  const fresh = new Map<string, ConfigFile>();
  for (const [path, text] of files) {
    const model = parseConfigFile(text, path);
    writer.parsed(path, text, model);
    fresh.set(path, model);
  }
  const text = writer.serialize(fresh.values());
  return { text, cache: ConfigModelCache.parse(text, identity), fresh };
}

describe("ConfigModelCache", () => {
  it("gives the parser's model, field by field and with its classes, for every cacheable kind of text", () => {
    const { cache } = roundTrip(TEXTS.map(([p, t]) => [p, t]));
    expect(cache.stats.ignored).toBeUndefined();
    for (const [path, text, cached] of TEXTS) {
      const taken = cache.take(path, text);
      if (!cached) {
        expect(taken, path).toBeUndefined();
        continue;
      }
      expect(taken, path).toBeDefined();
      expect(taken, path).toStrictEqual(parseConfigFile(text, path));
      expect(taken?.lines, path).toBeInstanceOf(LineIndex);
    }
    expect(cache.stats.hits).toBe(TEXTS.filter(([, , c]) => c).length);
  });

  it("holds no value of a file: plain strings are taken again from the file, credentials' files are not written", () => {
    const { text } = roundTrip(TEXTS.map(([p, t]) => [p, t]));
    for (const value of ["application/json", "svc-user", "not-a-reference", "sk_live_", "caf\uFFFD", "some prose text"]) expect(text).not.toContain(value);
    expect(text).not.toContain("connectors/credential.yaml");
    expect(text).not.toContain("connectors/secret-only.yaml");
    // names are kept: they are what the index is made of
    expect(text).toContain("hubspot_key");
  });

  it("records no model that would store a credential written where a name belongs (a pasted token as a secret's, object's, environment's or header's name, a link target, an unknown field)", () => {
    const stripe = "sk_live_4eC39HqLyjWDarjtT1zdp7dcXYZ1";
    const github = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";
    const aws = "AKIAIOSFODNN7EXAMPLE";
    const slack = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx";
    const random = "q7Vx2LmP9sKd4RtYz8WnB3cHf6JgA1eU";
    const files: [string, string][] = [
      ["connectors/pasted.yaml", `kind: auth_connector\nname: c1\ntype: bearer_token\ntoken: { secret: ${stripe} }\n`],
      ["connectors/pasted-random.yaml", `kind: auth_connector\nname: c2\ntype: bearer_token\ntoken: { secret: ${random} }\n`],
      ["agents/object-name.yaml", `kind: agent\nname: ${github}\nactions: [x]\n`],
      ["agents/environment.yaml", `kind: agent\nname: e\nenvironments: [${aws}]\n`],
      ["actions/link.yaml", `kind: action\nname: l\nconnection: ${slack}\nmethod: GET\npath: /x\n`],
      ["actions/header-name.yaml", `kind: action\nname: h\nconnection: c\nmethod: GET\npath: /x\nheaders:\n  - { name: "${stripe}", type: static, value: json }\n`],
      ["agents/unknown-field.yaml", `kind: agent\nname: k\n${github}: 1\n`],
      ["agents/unread-name.yaml", `kind: agent\nname: s\ninstructions: "unterminated\n---\nkind: action\nname: ${github}\n`],
    ];
    const { text, cache } = roundTrip([...files, ["agents/plain.yaml", TEXTS[0]![1]]]);
    for (const value of [stripe, github, aws, slack, random]) expect(text).not.toContain(value);
    for (const [path, t] of files) {
      expect(text, path).not.toContain(path);
      expect(cache.take(path, t), path).toBeUndefined();
    }
    // (a file that names no credential is still cached)
    expect(cache.take("agents/plain.yaml", TEXTS[0]![1])).toBeDefined();
  });

  it("does not use an entry whose file changed, or an entry of another path", () => {
    const path = "agents/plain.yaml";
    const text = TEXTS[0]![1];
    const { cache } = roundTrip([[path, text]]);
    expect(cache.take(path, text.replace("sales", "salez"))).toBeUndefined();
    // an entry is used once: the load takes each file once
    expect(cache.take(path, text)).toBeUndefined();
    const again = roundTrip([[path, text]]).cache;
    expect(again.take("agents/moved.yaml", text)).toBeUndefined();
    expect(again.take(path, `${text} `)).toBeUndefined();
    expect(again.stats).toMatchObject({ hits: 0, misses: 2 });
  });

  it("does not use a cache of another build, runtime, project, version or format", () => {
    const { text } = roundTrip([["agents/plain.yaml", TEXTS[0]![1]]]);
    expect(ConfigModelCache.parse(text, { ...ID, build: "89abcdef" }).stats.ignored).toBe("another build");
    expect(ConfigModelCache.parse(text, { ...ID, root: "/work/other" }).stats.ignored).toBe("another project");
    expect(ConfigModelCache.parse(text, { ...ID, runtime: "v22.0.0" }).stats.ignored).toBe("another runtime");
    // (version 1: the nested payload of the builds before 2026-12-05's; and a later one)
    expect(text).toContain(`"version":${MODEL_CACHE_VERSION}`);
    for (const v of [1, MODEL_CACHE_VERSION + 1]) expect(ConfigModelCache.parse(text.replace(`"version":${MODEL_CACHE_VERSION}`, `"version":${v}`), ID).stats.ignored).toBe("another version");
    expect(ConfigModelCache.parse(text.replace(MODEL_CACHE_FORMAT, "something-else"), ID).stats.ignored).toBe("corrupt");
    expect(ConfigModelCache.parse(undefined, ID).stats.ignored).toBe("none");
    for (const other of [{ ...ID, build: "89abcdef" }, { ...ID, root: "/work/other" }, { ...ID, runtime: "v22.0.0" }]) {
      expect(ConfigModelCache.parse(text, other).take("agents/plain.yaml", TEXTS[0]![1])).toBeUndefined();
    }
  });

  it("ignores a damaged cache whole: truncated, a changed byte, not JSON, or an entry of the wrong shape", () => {
    const files: [string, string][] = TEXTS.filter(([, , c]) => c).map(([p, t]) => [p, t]);
    const { text } = roundTrip(files);
    const nl = text.indexOf("\n");
    const damaged = [
      text.slice(0, text.length - 10),
      text.slice(0, nl),
      `${text.slice(0, nl + 20)}${text[nl + 20] === "1" ? "2" : "1"}${text.slice(nl + 21)}`,
      `not json\n${text.slice(nl + 1)}`,
      "",
      "\n",
    ];
    for (const d of damaged) {
      const cache = ConfigModelCache.parse(d, ID);
      expect(cache.stats.ignored, JSON.stringify(d.slice(0, 40))).toBe("corrupt");
      for (const [p, t] of files) expect(cache.take(p, t)).toBeUndefined();
    }
    // an entry that is well-formed JSON with a valid checksum but not a model: that entry and every later one unused
    const payload = unflattenEntries(text.slice(nl + 1));
    const bad = payload.map(([p, e], i) => [p, i === 1 ? [e[0], [["schema", "error", 0, 1, 1, 1, "x", null, null]], [], 0] : e] as const);
    const payloadText = flattenEntries(bad);
    const header = JSON.parse(text.slice(0, nl)) as Record<string, unknown>;
    const { createHash } = process.getBuiltinModule("node:crypto");
    header["sha256"] = createHash("sha256").update(payloadText).digest("base64");
    const cache = ConfigModelCache.parse(`${JSON.stringify(header)}\n${payloadText}`, ID);
    expect(cache.stats.ignored).toBeUndefined();
    const [first, second, third] = payload.map(([p]) => [p, files.find(([q]) => q === p)![1]] as const);
    expect(cache.take(first![0], first![1])).toBeDefined();
    expect(cache.take(second![0], second![1])).toBeUndefined();
    expect(cache.take(third![0], third![1])).toBeUndefined();
    expect(cache.stats.ignored).toBe("corrupt entry");
  });

  it("refuses a range beyond the text, and a rule id it does not know", () => {
    const path = "agents/plain.yaml";
    const text = TEXTS[0]![1];
    const { text: cacheText } = roundTrip([[path, text]]);
    const nl = cacheText.indexOf("\n");
    const resign = (payload: string): string => {
      const header = JSON.parse(cacheText.slice(0, nl)) as Record<string, unknown>;
      header["sha256"] = process.getBuiltinModule("node:crypto").createHash("sha256").update(payload).digest("base64");
      return `${JSON.stringify(header)}\n${payload}`;
    };
    const [[, entry]] = unflattenEntries(cacheText.slice(nl + 1));
    const docs = entry![2] as unknown[][];
    // (unchanged, it is used)
    expect(ConfigModelCache.parse(resign(flattenEntries([[path, entry]])), ID).take(path, text)).toBeDefined();
    const longRange = [[path, [entry![0], [], [[...docs[0]!.slice(0, 3), [0, 10_000], ...docs[0]!.slice(4)]], 0]] as const];
    expect(ConfigModelCache.parse(resign(flattenEntries(longRange)), ID).take(path, text)).toBeUndefined();
    const unknownRule = [[path, [entry![0], [["no-such-rule", "error", 1, 1, 1, 2, "x", null, null]], docs, 0]] as const];
    expect(ConfigModelCache.parse(resign(flattenEntries(unknownRule)), ID).take(path, text)).toBeUndefined();
  });

  it("refuses a line or column that is not on the text: a diagnostic past the last line or ending before it starts, a reference whose line is not its range's", () => {
    const path = "actions/headers.yaml";
    const text = TEXTS.find(([p]) => p === path)![1];
    const { text: cacheText } = roundTrip([[path, text]]);
    const nl = cacheText.indexOf("\n");
    const resign = (payload: string): string => {
      const header = JSON.parse(cacheText.slice(0, nl)) as Record<string, unknown>;
      header["sha256"] = process.getBuiltinModule("node:crypto").createHash("sha256").update(payload).digest("base64");
      return `${JSON.stringify(header)}\n${payload}`;
    };
    const [[, entry]] = unflattenEntries(cacheText.slice(nl + 1));
    const with_ = (change: (e: unknown[][]) => void): string => {
      const e = structuredClone(entry!) as unknown[][];
      change(e);
      return resign(flattenEntries([[path, e]]));
    };
    // unchanged, it is used
    expect(ConfigModelCache.parse(with_(() => undefined), ID).take(path, text)).toBeDefined();
    const lineCount = text.split("\n").length;
    const bad = [
      with_((e) => e[1]!.push(["schema", "error", 2 ** 40, 1, 2 ** 40, 5, "x", null, null])),
      with_((e) => e[1]!.push(["schema", "error", lineCount + 1, 1, lineCount + 1, 1, "x", null, null])),
      with_((e) => e[1]!.push(["schema", "error", 1, 500, 1, 501, "x", null, null])),
      with_((e) => e[1]!.push(["schema", "error", 3, 5, 1, 1, "x", null, null])),
      with_((e) => {
        const reference = ((e[2]![0] as unknown[])[5] as unknown[][])[0]!;
        reference[3] = 1;
      }),
      with_((e) => {
        e[3] = [2 ** 40, 1, null];
      }),
    ];
    for (const b of bad) expect(ConfigModelCache.parse(b, ID).take(path, text)).toBeUndefined();
  });

  it("writes each string once, and refuses an entry whose integers are not of the kind each place needs (version 2's flat payload)", () => {
    const path = "actions/headers.yaml";
    const text = TEXTS.find(([p]) => p === path)![1];
    const other = "actions/again.yaml";
    const { text: cacheText } = roundTrip([
      [path, text],
      [other, text.replace("name: lookup", "name: lookup_again")],
    ]);
    const nl = cacheText.indexOf("\n");
    const [strings] = JSON.parse(cacheText.slice(nl + 1)) as [string[], number[]];
    expect(new Set(strings).size).toBe(strings.length);
    expect(strings.filter((x) => x === "hubspot_key")).toHaveLength(1);

    const { text: single } = roundTrip([[path, text]]);
    const [table, ints] = JSON.parse(single.slice(single.indexOf("\n") + 1)) as [string[], number[]];
    const resign = (payload: unknown): string => {
      const t = JSON.stringify(payload);
      const header = JSON.parse(single.slice(0, single.indexOf("\n"))) as Record<string, unknown>;
      header["sha256"] = process.getBuiltinModule("node:crypto").createHash("sha256").update(t).digest("base64");
      return `${JSON.stringify(header)}\n${t}`;
    };
    expect(ConfigModelCache.parse(resign([table, ints]), ID).take(path, text)).toBeDefined();
    // every integer of the body (after the path and the body's length) replaced by one of another kind
    // (a number, a string, a list, a string not in the table) or by a fraction: the entry is never
    // used (null is not swapped for a string or a list: where either is optional, both are right)
    for (let i = 2; i < ints.length; i++) {
      const x = ints[i]!;
      const others = x >= 0 ? [-2, -1, -3, x + 0.5] : x === -1 ? [0, 0.5, -2 - 2 * table.length] : x % 2 === 0 ? [0, -3, -2 - 2 * table.length] : [0, -1, -2, x - 2, x + 2];
      for (const y of others) {
        const changed = [...ints];
        changed[i] = y;
        const cache = ConfigModelCache.parse(resign([table, changed]), ID);
        expect(cache.take(path, text), `integer ${i}: ${x} -> ${y}`).toBeUndefined();
      }
    }
    // a body longer than what is left, one integer too many, or one too few: corrupt, or the entry unused
    expect(ConfigModelCache.parse(resign([table, [ints[0], ints.length, ...ints.slice(2)]]), ID).stats.ignored).toBe("corrupt");
    expect(ConfigModelCache.parse(resign([table, [ints[0], ints[1]! + 1, ...ints.slice(2), 0]]), ID).take(path, text)).toBeUndefined();
    expect(ConfigModelCache.parse(resign([table, [ints[0], ints[1]! - 1, ...ints.slice(2, -1)]]), ID).take(path, text)).toBeUndefined();
    // not [strings, integers]
    for (const bad of [[ints, table], [table], { strings: table, ints }, [table, ints, []]]) expect(ConfigModelCache.parse(resign(bad), ID).stats.ignored).toBe("corrupt");
  });

  it("flattens lists of integers >= 0, strings and null, and leaves out an entry holding anything else, keeping the others whole", () => {
    const good: [string, unknown[]] = ["a.yaml", ["h", [], [["agent", "x", [0, 1], [0, 5], null, [], [], null, 0, 0]], 0]];
    const also: [string, unknown[]] = ["c.yaml", ["h", [], [], [2, 3, [["x", 1]]]]];
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 60, true, undefined, { a: 1 }]) {
      const payload = flattenEntries([good, ["b.yaml", ["h", [bad], [], 0]], also]);
      expect(unflattenEntries(payload), String(bad)).toEqual([good, also]);
    }
  });

  it("writes only the models it was given (a file that is gone is dropped), and none it did not record", () => {
    const writer = ConfigModelCache.empty(ID);
    const a = parseConfigFile(TEXTS[0]![1], "agents/a.yaml");
    const b = parseConfigFile(TEXTS[1]![1], "agents/b.yaml");
    writer.parsed("agents/a.yaml", TEXTS[0]![1], a);
    writer.parsed("agents/b.yaml", TEXTS[1]![1], b);
    const unrecorded = parseConfigFile(TEXTS[2]![1], "agents/c.yaml");
    const text = writer.serialize([a, unrecorded]);
    expect(text).toContain("agents/a.yaml");
    expect(text).not.toContain("agents/b.yaml");
    expect(text).not.toContain("agents/c.yaml");
    expect(JSON.parse(text.slice(0, text.indexOf("\n")))).toMatchObject({ entries: 1, build: ID.build, root: ID.root });
  });

  it("gives the loader's models and the check's diagnostics of a cold load on every checker fixture", () => {
    const fixtures = readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory());
    let hits = 0;
    for (const f of fixtures) {
      const dir = join(FIXTURES, f.name);
      const recorder = ConfigModelCache.empty(ID);
      const cold = loadWorkspace(dir, { atRoot: true, configModels: recorder }).index;
      recorder.endLoad();
      const cache = ConfigModelCache.parse(recorder.serialize(cold.configFiles.values()), ID);
      const warm = loadWorkspace(dir, { atRoot: true, configModels: cache }).index;
      cache.endLoad();
      hits += cache.stats.hits;
      expect([...warm.configFiles.keys()], f.name).toEqual([...cold.configFiles.keys()]);
      for (const [path, model] of cold.configFiles) expect(warm.configFiles.get(path), `${f.name}/${path}`).toStrictEqual(model);
      expect(checkWorkspace(warm), f.name).toEqual(checkWorkspace(cold));
    }
    expect(hits).toBeGreaterThan(30);
  });

  it("gives the loader's models over symbolic links, a nested project and a file that is not UTF-8", () => {
    const fs = memoryFs(
      {
        "stellar.yaml": "version: 1\nenvironments:\n  development:\n    members: {}\n",
        "shared/real.yaml": TEXTS[0]![1],
        "agents/crlf.yaml": TEXTS[1]![1],
        "agents/latin1.yaml": Buffer.from("kind: agent\nname: latin\ninstructions: caf\xe9\n", "latin1"),
        "other/latin1.yaml": Buffer.from("tool: caf\xe9\n", "latin1"),
        "nested/stellar.yaml": "version: 1\n",
        "nested/agents/inner.yaml": TEXTS[2]![1],
      },
      { "agents/linked.yaml": "/mem/shared/real.yaml", "linked-dir": "/mem/agents" },
    );
    const recorder = ConfigModelCache.empty(ID);
    const cold = loadWorkspace("/mem", { fs, atRoot: true, configModels: recorder }).index;
    recorder.endLoad();
    // (agents/linked.yaml, a link to shared/real.yaml, is skipped: that file is read under its own path)
    expect([...cold.configFiles.keys()].sort()).toEqual(["agents/crlf.yaml", "agents/latin1.yaml", "shared/real.yaml"]);
    const cache = ConfigModelCache.parse(recorder.serialize(cold.configFiles.values()), ID);
    const warm = loadWorkspace("/mem", { fs, atRoot: true, configModels: cache }).index;
    // the file that is not UTF-8 is reported on itself (not parsed, so not cached); the others come from the cache
    expect(cache.stats.hits).toBe(2);
    for (const [path, model] of cold.configFiles) expect(warm.configFiles.get(path), path).toStrictEqual(model);
    expect(checkWorkspace(warm)).toEqual(checkWorkspace(cold));
  });
});

describe("ConfigModelCache and a parse that ran out of stack", () => {
  it("records no model of a parse that ran out of stack: each is one without documents, marked uncacheable, never a YAML error", () => {
    // nested 60 levels (under MAX_YAML_DEPTH, so it is parsed), in a flow style the fast reader declines
    const path = "agents/deep.yaml";
    const text = `kind: agent\nname: deep\nactions: ${"[".repeat(60)}x${"]".repeat(60)}\n`;
    const whole = parseConfigFile(text, path);
    expect(whole.documents).toHaveLength(1);
    expect(whole.uncacheable).toBeUndefined();
    // (a parse that threw before it started is one frame further back: only the models count here)
    const models = parsesNearStackLimit(text, path).filter((o): o is ConfigFile => o !== "threw");
    const starved = models.filter((m) => m.uncacheable === true);
    expect(starved.length).toBeGreaterThan(0);
    for (const model of models) {
      if (model.uncacheable === true) {
        expect(model.documents).toEqual([]);
        expect(model.diagnostics.map((d) => [d.rule, d.message])).toEqual([["schema", "cannot parse: nested too deeply; the file was not read: flatten it"]]);
      } else {
        // anything else is the whole parse: the parser's own stack error is never taken for the file's
        expect(model).toStrictEqual(whole);
      }
    }
    const writer = ConfigModelCache.empty(ID);
    for (const model of starved) writer.parsed(path, text, model);
    expect(writer.stats.recorded).toBe(0);
    expect(ConfigModelCache.parse(writer.serialize(starved), ID).take(path, text)).toBeUndefined();
    // the whole parse of the same text is recorded as before
    writer.parsed(path, text, whole);
    expect(writer.stats.recorded).toBe(1);
  });
});
