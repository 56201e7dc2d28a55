import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decryptSecrets, encryptSecrets, generateIdentity, reencryptSecrets, rotateDataKey } from "@stellar-secrets/sops";
import type { GitSource } from "./git.js";
import {
  dataKeyChange,
  diffEnvironmentTexts,
  diffMerge,
  diffVersions,
  HISTORY_LOG_ARGS,
  lastValueChanges,
  formerReaders,
  parseRawLog,
  readSecretsHistory,
  refineWithPlaintexts,
  type FileVersion,
  type HistoryEvent,
} from "./history.js";

const v = (values: Record<string, string>, stanzas: Record<string, string> = { age1a: "wrapA" }): FileVersion => ({
  values: new Map(Object.entries(values)),
  stanzas: new Map(Object.entries(stanzas)),
});

describe("diffVersions", () => {
  it("reports added, changed and removed names from ENC strings alone", () => {
    expect(diffVersions(v({ a: "E1", b: "E2", c: "E3" }), v({ a: "E1", b: "E2x", d: "E4" }))).toEqual([
      { name: "b", kind: "changed" },
      { name: "c", kind: "removed" },
      { name: "d", kind: "added" },
    ]);
  });

  it("treats a missing file as empty on either side", () => {
    expect(diffVersions(undefined, v({ a: "E1" }))).toEqual([{ name: "a", kind: "added" }]);
    expect(diffVersions(v({ a: "E1" }), undefined)).toEqual([{ name: "a", kind: "removed" }]);
  });

  it("calls a version where every kept value's ciphertext changed a re-encryption", () => {
    expect(diffVersions(v({ a: "E1", b: "E2" }), v({ a: "X1", b: "X2", c: "X3" })).map((c) => c.kind)).toEqual(["re-encrypted", "re-encrypted", "added"]);
  });

  it("with one value, needs the data key to be re-wrapped to call it a re-encryption", () => {
    expect(diffVersions(v({ a: "E1" }), v({ a: "X1" }))).toEqual([{ name: "a", kind: "changed" }]);
    expect(diffVersions(v({ a: "E1" }), v({ a: "X1" }, { age1a: "wrapB" }))).toEqual([{ name: "a", kind: "re-encrypted" }]);
  });

  it("marks a re-encryption whose version kept a recipient's wrapped key byte for byte as under the same data key (a set of every value, a plain sops edit: no rotation)", () => {
    expect(diffVersions(v({ a: "E1", b: "E2" }), v({ a: "X1", b: "X2" }))).toEqual([
      { name: "a", kind: "re-encrypted", sameDataKey: true },
      { name: "b", kind: "re-encrypted", sameDataKey: true },
    ]);
    // every kept recipient's wrapped key changed: possibly a new data key, so no mark
    expect(diffVersions(v({ a: "E1", b: "E2" }), v({ a: "X1", b: "X2" }, { age1a: "wrapB" }))).toEqual([
      { name: "a", kind: "re-encrypted" },
      { name: "b", kind: "re-encrypted" },
    ]);
    // a recipient removed and the rest kept byte for byte: the same data key still
    expect(diffVersions(v({ a: "E1", b: "E2" }, { age1a: "wrapA", age1b: "wrapB" }), v({ a: "X1", b: "X2" })).every((c) => c.sameDataKey === true)).toBe(true);
  });

  it("does not call a partial change a re-encryption", () => {
    expect(diffVersions(v({ a: "E1", b: "E2", c: "E3" }), v({ a: "X1", b: "X2", c: "E3" })).map((c) => c.kind)).toEqual(["changed", "changed"]);
  });
});

describe("diffMerge", () => {
  it("reports only names whose value differs from every parent", () => {
    const p1 = v({ a: "A1", b: "B1" });
    const p2 = v({ a: "A2", b: "B1" });
    expect(diffMerge([p1, p2], v({ a: "A2", b: "B1" }))).toEqual([]);
    expect(diffMerge([p1, p2], v({ a: "A3", b: "B1" }))).toEqual([{ name: "a", kind: "changed" }]);
    expect(diffMerge([p1, undefined], v({ a: "A1", b: "B1" }))).toEqual([]);
  });
});

describe("refineWithPlaintexts", () => {
  it("turns re-encryptions into changes where the plaintext differs", () => {
    const changes = [
      { name: "a", kind: "re-encrypted" as const },
      { name: "b", kind: "re-encrypted" as const },
      { name: "c", kind: "added" as const },
    ];
    expect(refineWithPlaintexts(changes, new Map([["a", "1"], ["b", "2"]]), new Map([["a", "1"], ["b", "3"], ["c", "4"]]))).toEqual([
      { name: "a", kind: "re-encrypted" },
      { name: "b", kind: "changed" },
      { name: "c", kind: "added" },
    ]);
    expect(refineWithPlaintexts(changes, undefined, new Map())).toBe(changes);
  });
});

describe("lastValueChanges", () => {
  const e = (name: string, kind: HistoryEvent["kind"], date: string): HistoryEvent => ({
    environment: "production",
    name,
    kind,
    date,
    commit: date,
    author: "a",
    email: "a@x",
    message: "",
    verified: false,
  });
  it("ignores re-encryptions and forgets removed names", () => {
    const last = lastValueChanges([e("a", "added", "1"), e("a", "re-encrypted", "2"), e("b", "added", "1"), e("b", "removed", "3"), e("c", "changed", "4")]);
    expect(last.get("production\u0000a")?.date).toBe("1");
    expect(last.has("production\u0000b")).toBe(false);
    expect(last.get("production\u0000c")?.date).toBe("4");
  });
});

const R = "\u001e";
const F = "\u001f";
const sha = (c: string): string => c.repeat(40);
const zero = "0".repeat(40);

describe("parseRawLog", () => {
  it("reads commits, adds, modifications, deletions, renames and combined merge lines", () => {
    const log = [
      `${R}${sha("m")}${F}${sha("p")} ${sha("q")}${F}Ann${F}ann@x${F}2024-01-04T00:00:00+00:00${F}merge\n\n::100644 100644 100644 ${sha("1")} ${sha("2")} ${sha("3")} MM\ts/p.enc.yaml\n`,
      `${R}${sha("r")}${F}${sha("a")}${F}Bob${F}bob@x${F}2024-01-03T00:00:00+00:00${F}move\n\n:100644 100644 ${sha("4")} ${sha("4")} R100\told/p.enc.yaml\ts/p.enc.yaml\n`,
      `${R}${sha("d")}${F}${sha("c")}${F}Cy${F}cy@x${F}2024-01-02T00:00:00+00:00${F}drop: a message with | bars\n\n:100644 000000 ${sha("5")} ${zero} D\ts/q.enc.yaml\n:000000 100644 ${zero} ${sha("6")} A\ts/n.enc.yaml\n`,
    ].join("");
    const parsed = parseRawLog(log);
    expect(parsed.map((c) => c.info.message)).toEqual(["merge", "move", "drop: a message with | bars"]);
    expect(parsed[0]?.changes).toEqual([{ path: "s/p.enc.yaml", before: [sha("1"), sha("2")], after: sha("3") }]);
    expect(parsed[1]?.changes).toEqual([{ path: "s/p.enc.yaml", renamedFrom: "old/p.enc.yaml", before: [sha("4")], after: sha("4") }]);
    expect(parsed[2]?.changes).toEqual([
      { path: "s/q.enc.yaml", before: [sha("5")], after: undefined },
      { path: "s/n.enc.yaml", before: [undefined], after: sha("6") },
    ]);
    expect(parsed[2]?.info).toEqual({ commit: sha("d"), author: "Cy", email: "cy@x", date: "2024-01-02T00:00:00+00:00", message: "drop: a message with | bars" });
  });
});

describe("parseRawLog: a git submodule in place of an environment file", () => {
  it("reads a side where the path is a submodule (mode 160000, a commit id of another repository) as no file: replaced is removed, restored is added, in a merge's combined line too (stale and history warned 'not a readable SOPS file' there)", () => {
    // the lines real git prints (git log --raw) for a file replaced by a submodule, then restored
    const log = [
      `${R}${sha("c")}${F}${sha("b")}${F}Ann${F}ann@x${F}2024-01-03T00:00:00+00:00${F}restore\n\n:160000 100644 ${sha("e")} ${sha("2")} T\tsecrets/p.enc.yaml\n`,
      `${R}${sha("b")}${F}${sha("a")}${F}Ann${F}ann@x${F}2024-01-02T00:00:00+00:00${F}submodule\n\n:100644 160000 ${sha("1")} ${sha("e")} T\tsecrets/p.enc.yaml\n`,
      `${R}${sha("m")}${F}${sha("p")} ${sha("q")}${F}Ann${F}ann@x${F}2024-01-04T00:00:00+00:00${F}merge\n\n::160000 100644 100644 ${sha("e")} ${sha("1")} ${sha("3")} TM\tsecrets/p.enc.yaml\n::100644 100644 160000 ${sha("1")} ${sha("2")} ${sha("e")} MT\tsecrets/q.enc.yaml\n`,
    ].join("");
    const parsed = parseRawLog(log);
    expect(parsed[0]?.changes).toEqual([{ path: "secrets/p.enc.yaml", before: [undefined], after: sha("2") }]);
    expect(parsed[1]?.changes).toEqual([{ path: "secrets/p.enc.yaml", before: [sha("1")], after: undefined }]);
    expect(parsed[2]?.changes).toEqual([
      { path: "secrets/p.enc.yaml", before: [undefined, sha("1")], after: sha("3") },
      { path: "secrets/q.enc.yaml", before: [sha("1"), sha("2")], after: undefined },
    ]);
  });
});

/**
 * A repository in memory for {@link readSecretsHistory}: commits of whole trees, and `log` answers
 * what `git log` with HISTORY_LOG_ARGS prints for them (raw lines, renames when a removed file's
 * blob reappears at another path, combined lines for a merge's files that differ from every
 * parent). Blob ids are the SHA-1 of the text. No git process.
 */
class MemoryRepo implements GitSource {
  readonly prefix: string;
  private readonly commits: { id: string; parents: string[]; tree: Map<string, string>; header: string }[] = [];
  private readonly blobs = new Map<string, string>();
  private readonly branches = new Map<string, string>();
  private branch = "main";

  constructor(prefix = "") {
    this.prefix = prefix;
  }

  /** Commits `changes` (top-relative path → text, undefined: delete) on the current branch, with `merge` as a second parent. */
  commit(message: string, changes: Record<string, string | undefined>, options: { date?: string; author?: string; merge?: string } = {}): string {
    const head = this.branches.get(this.branch);
    const tree = new Map(head === undefined ? [] : this.tree(head));
    for (const [path, text] of Object.entries(changes)) {
      if (text === undefined) tree.delete(path);
      else tree.set(path, this.blob(text));
    }
    const parents = [...(head === undefined ? [] : [head]), ...(options.merge === undefined ? [] : [this.branches.get(options.merge) as string])];
    const id = createHash("sha1").update(`${this.commits.length}\0${message}`).digest("hex");
    const author = options.author ?? "Alice";
    const header = `\u001e${id}\u001f${parents.join(" ")}\u001f${author}\u001f${author.toLowerCase()}@example.test\u001f${options.date ?? "2024-01-01T00:00:00+00:00"}\u001f${message}`;
    this.commits.push({ id, parents, tree, header });
    this.branches.set(this.branch, id);
    return id;
  }

  checkout(branch: string, create = false): void {
    if (create) this.branches.set(branch, this.branches.get(this.branch) as string);
    this.branch = branch;
  }

  /** The text of a file (top-relative) at the tip of the current branch. */
  read(path: string): string {
    return this.blobs.get(this.tree(this.branches.get(this.branch) as string).get(path) as string) as string;
  }

  async hasHead(): Promise<boolean> {
    return this.branches.has("main");
  }
  async resolve(ref: string): Promise<string> {
    return (ref === "HEAD" ? this.branches.get("main") : ref) as string;
  }
  async mergeBase(): Promise<string> {
    throw new Error("not used by history");
  }
  async filesAt(commit: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const start = this.prefix === "" ? "" : `${this.prefix}/`;
    for (const [path, id] of this.tree(await this.resolve(commit))) if (path.startsWith(start)) out.set(path.slice(start.length), id);
    return out;
  }
  async renames(): Promise<Map<string, string>> {
    throw new Error("not used by history");
  }
  async readBlobs(ids: readonly string[]): Promise<Map<string, string | null>> {
    return new Map(ids.filter((id) => this.blobs.has(id)).map((id) => [id, this.blobs.get(id) as string]));
  }
  async log(args: readonly string[]): Promise<string> {
    expect(args).toEqual(HISTORY_LOG_ARGS);
    const zero = "0".repeat(40);
    const enc = (p: string): boolean => /\.enc\.(yaml|json)$/.test(p);
    const out: string[] = [];
    for (const c of [...this.commits].reverse()) {
      const lines: string[] = [];
      const parents = c.parents.map((p) => this.tree(p));
      if (parents.length > 1) {
        for (const [path, id] of c.tree) {
          if (!enc(path) || parents.some((t) => t.get(path) === id)) continue;
          const ids = parents.map((t) => t.get(path) ?? zero);
          lines.push(`${":".repeat(parents.length)}${parents.map(() => "100644").join(" ")} 100644 ${ids.join(" ")} ${id} ${parents.map(() => "M").join("")}\t${path}`);
        }
      } else {
        const before = parents[0] ?? new Map<string, string>();
        const removed = [...before].filter(([p]) => enc(p) && !c.tree.has(p));
        const added = [...c.tree].filter(([p]) => enc(p) && !before.has(p));
        for (const [p, id] of c.tree) if (enc(p) && before.has(p) && before.get(p) !== id) lines.push(`:100644 100644 ${before.get(p)} ${id} M\t${p}`);
        for (const [p, id] of removed) {
          const to = added.findIndex(([, other]) => other === id);
          if (to === -1) {
            lines.push(`:100644 000000 ${id} ${zero} D\t${p}`);
            continue;
          }
          lines.push(`:100644 100644 ${id} ${id} R100\t${p}\t${(added[to] as [string, string])[0]}`);
          added.splice(to, 1);
        }
        for (const [p, id] of added) lines.push(`:000000 100644 ${zero} ${id} A\t${p}`);
      }
      out.push(`${c.header}\n\n${lines.map((l) => `${l}\n`).join("")}`);
    }
    return out.join("");
  }

  private blob(text: string): string {
    const id = createHash("sha1").update(text).digest("hex");
    this.blobs.set(id, text);
    return id;
  }
  private tree(commit: string): Map<string, string> {
    return (this.commits.find((c) => c.id === commit) as { tree: Map<string, string> }).tree;
  }
}

/** Encrypted versions of one environment file with stable ciphertext: `next` changes only the values given. */
async function versions(initial: Record<string, string>): Promise<{ text: string; next: (from: string, values: Record<string, string>) => Promise<string> }> {
  const alice = await generateIdentity();
  const text = await encryptSecrets(new Map(Object.entries(initial)), { recipients: [alice.recipient] });
  return {
    text,
    next: async (from, values) => {
      const prev = await decryptSecrets(from, [alice.identity]);
      return reencryptSecrets(prev, new Map([...prev.values, ...Object.entries(values)]));
    },
  };
}

const brief = (events: readonly HistoryEvent[]): string[] => events.map((e) => `${e.message}|${e.environment}|${e.name}|${e.kind}${e.verified ? "|verified" : ""}`);

describe("readSecretsHistory", () => {
  const PROD = "secrets/production.enc.yaml";
  const STAGING = "secrets/staging.enc.yaml";
  const files = [
    { environment: "staging", path: STAGING },
    { environment: "production", path: PROD },
  ];

  it("reports a merge only for what it changed itself, and attributes branch changes to their commits", async () => {
    const prod = await versions({ stripe_api_key: "a1" });
    const staging = await versions({ twilio_auth_token: "t1" });
    const git = new MemoryRepo();
    git.commit("base", { [PROD]: prod.text, [STAGING]: staging.text });
    git.checkout("feature", true);
    git.commit("feature: new stripe key", { [PROD]: await prod.next(prod.text, { stripe_api_key: "a2" }) }, { date: "2024-01-02T00:00:00+00:00" });
    git.checkout("main");
    git.commit("main: new twilio token", { [STAGING]: await staging.next(staging.text, { twilio_auth_token: "t2" }) }, { date: "2024-01-03T00:00:00+00:00" });
    git.checkout("feature");
    const featureProd = git.read(PROD);
    git.checkout("main");
    git.commit("merge feature", { [PROD]: featureProd }, { merge: "feature", date: "2024-01-04T00:00:00+00:00" });
    const lines = brief((await readSecretsHistory({ git, files })).events);
    expect(lines).toContain("feature: new stripe key|production|stripe_api_key|changed");
    expect(lines).toContain("main: new twilio token|staging|twilio_auth_token|changed");
    expect(lines.filter((l) => l.startsWith("merge feature"))).toEqual([]);
    expect(lines).toHaveLength(4);

    // a conflicting merge resolved with a third value is a change made by the merge itself
    const t2 = git.read(STAGING);
    git.checkout("other", true);
    git.commit("other: twilio t3", { [STAGING]: await staging.next(t2, { twilio_auth_token: "t3" }) }, { date: "2024-01-05T00:00:00+00:00" });
    git.checkout("main");
    git.commit("main: twilio t4", { [STAGING]: await staging.next(t2, { twilio_auth_token: "t4" }) }, { date: "2024-01-06T00:00:00+00:00" });
    git.commit("merge other, resolved with t5", { [STAGING]: await staging.next(git.read(STAGING), { twilio_auth_token: "t5" }) }, { merge: "other", date: "2024-01-07T00:00:00+00:00" });
    const after = brief((await readSecretsHistory({ git, files })).events.filter((e) => e.name === "twilio_auth_token"));
    // the two branch commits come in topological order (either), the merge last
    expect(after.slice(-3, -1).sort()).toEqual(["main: twilio t4|staging|twilio_auth_token|changed", "other: twilio t3|staging|twilio_auth_token|changed"]);
    expect(after.at(-1)).toBe("merge other, resolved with t5|staging|twilio_auth_token|changed");
  });

  it("lists a merge that kept one side's value as the event that decided it, and marks the dropped side's later event as not current", async () => {
    const prod = await versions({ stripe_api_key: "a1", untouched: "u1" });
    const git = new MemoryRepo();
    git.commit("base", { [PROD]: prod.text });
    const base = git.read(PROD);
    git.checkout("feature", true);
    git.checkout("main");
    const ours = git.commit("ours: a2", { [PROD]: await prod.next(base, { stripe_api_key: "a2" }) }, { date: "2024-01-02T00:00:00+00:00" });
    git.checkout("feature");
    const theirs = git.commit("theirs: a3", { [PROD]: await prod.next(base, { stripe_api_key: "a3" }) }, { date: "2024-01-03T00:00:00+00:00" });
    git.checkout("main");
    // resolve stripe_api_key --ours (our ENC string as it is); the merge also sets untouched itself
    const merge = git.commit("merge feature, kept ours", { [PROD]: await prod.next(git.read(PROD), { untouched: "u2" }) }, { merge: "feature", date: "2024-01-04T00:00:00+00:00" });
    const events = (await readSecretsHistory({ git, files })).events;
    const stripe = events.filter((e) => e.name === "stripe_api_key");
    // theirs is listed after ours: without the merge's event it would read as the current value
    expect(brief(stripe)).toEqual([
      "base|production|stripe_api_key|added",
      "ours: a2|production|stripe_api_key|changed",
      "theirs: a3|production|stripe_api_key|changed",
      "merge feature, kept ours|production|stripe_api_key|changed",
    ]);
    expect(stripe[3]).toMatchObject({ commit: merge, keptFrom: ours });
    expect(stripe[2]).toMatchObject({ commit: theirs, discardedBy: merge });
    expect(stripe[1]?.discardedBy).toBeUndefined();
    // the value's age is ours's commit, not the merge's nor the dropped side's
    expect(lastValueChanges(events).get("production\u0000stripe_api_key")?.commit).toBe(ours);
    // what the merge changed itself is listed as before, with no choice attached
    expect(brief(events.filter((e) => e.name === "untouched"))).toEqual(["base|production|untouched|added", "merge feature, kept ours|production|untouched|changed"]);
    expect(events.some((e) => e.name === "untouched" && (e.keptFrom !== undefined || e.discardedBy !== undefined))).toBe(false);
  });

  it("lists no decision for a merge whose kept value is the later one (read oldest first, it is current already)", async () => {
    const prod = await versions({ stripe_api_key: "a1", untouched: "u1" });
    const git = new MemoryRepo();
    git.commit("base", { [PROD]: prod.text });
    const base = git.read(PROD);
    git.checkout("feature", true);
    git.commit("theirs: a3", { [PROD]: await prod.next(base, { stripe_api_key: "a3" }) }, { date: "2024-01-02T00:00:00+00:00" });
    git.checkout("main");
    git.commit("ours: a2", { [PROD]: await prod.next(base, { stripe_api_key: "a2" }) }, { date: "2024-01-03T00:00:00+00:00" });
    git.commit("merge feature, kept ours", { [PROD]: await prod.next(git.read(PROD), { untouched: "u2" }) }, { merge: "feature", date: "2024-01-04T00:00:00+00:00" });
    const events = (await readSecretsHistory({ git, files })).events.filter((e) => e.name === "stripe_api_key");
    expect(brief(events)).toEqual(["base|production|stripe_api_key|added", "theirs: a3|production|stripe_api_key|changed", "ours: a2|production|stripe_api_key|changed"]);
    expect(events.some((e) => e.keptFrom !== undefined || e.discardedBy !== undefined)).toBe(false);
  });

  it("follows a renamed secrets folder and reports a deleted environment file as removals", async () => {
    const prod = await versions({ stripe_api_key: "a1" });
    const staging = await versions({ stripe_api_key: "b1" });
    const git = new MemoryRepo();
    git.commit("first", { [PROD]: prod.text, [STAGING]: staging.text, "stellar.yaml": "version: 1\n" });
    git.commit("move secrets to vault", { [PROD]: undefined, [STAGING]: undefined, "vault/production.enc.yaml": prod.text, "vault/staging.enc.yaml": staging.text, "stellar.yaml": "version: 1\nsecrets_dir: vault\n" });
    git.commit("second", { "vault/production.enc.yaml": await prod.next(prod.text, { stripe_api_key: "a2" }) });
    git.commit("drop staging file", { "vault/staging.enc.yaml": undefined });
    const history = await readSecretsHistory({
      git,
      files: [
        { environment: "staging", path: "vault/staging.enc.yaml" },
        { environment: "production", path: "vault/production.enc.yaml" },
      ],
    });
    expect(brief(history.events)).toEqual([
      "first|staging|stripe_api_key|added",
      "first|production|stripe_api_key|added",
      "second|production|stripe_api_key|changed",
      "drop staging file|staging|stripe_api_key|removed",
    ]);
    expect(history.commits).toBe(4);
    expect(history.warnings).toEqual([]);
  });

  it("reads a project in a subfolder, adds uncommitted changes last, and tells a re-encryption from a change with plaintexts", async () => {
    const prod = await versions({ stripe_api_key: "s1", hubspot_api_token: "h1" });
    const git = new MemoryRepo("infra");
    git.commit("add", { [`infra/${PROD}`]: prod.text });
    const now = new Date("2024-02-01T00:00:00Z");
    const working = await prod.next(prod.text, { stripe_api_key: "s2" });
    const history = await readSecretsHistory({ git, files: [{ environment: "production", path: PROD }], readWorkingText: (p) => (p === PROD ? working : undefined), now });
    expect(brief(history.events)).toEqual([
      "add|production|hubspot_api_token|added",
      "add|production|stripe_api_key|added",
      "uncommitted changes in the working tree|production|stripe_api_key|changed",
    ]);
    expect(history.events[2]).toMatchObject({ commit: "", author: "(uncommitted)", date: now.toISOString() });

    // every value re-encrypted: without plaintexts "re-encrypted"; with them, decided per value
    const alice = await generateIdentity();
    const v1 = await encryptSecrets(new Map([["a", "1"], ["b", "2"]]), { recipients: [alice.recipient] });
    const v2 = await rotateDataKey(await decryptSecrets(await reencryptSecrets(await decryptSecrets(v1, [alice.identity]), new Map([["a", "1"], ["b", "3"]])), [alice.identity]));
    const repo = new MemoryRepo();
    repo.commit("one", { [PROD]: v1 });
    repo.commit("rekey", { [PROD]: v2 });
    const target = [{ environment: "production", path: PROD }];
    expect(brief((await readSecretsHistory({ git: repo, files: target })).events).slice(2)).toEqual(["rekey|production|a|re-encrypted", "rekey|production|b|re-encrypted"]);
    const plaintexts = async (text: string): Promise<ReadonlyMap<string, string>> => (await decryptSecrets(text, [alice.identity])).values;
    expect(brief((await readSecretsHistory({ git: repo, files: target, plaintexts })).events).slice(2)).toEqual(["rekey|production|a|re-encrypted|verified", "rekey|production|b|changed|verified"]);
    // what the wrapped data keys show without a key travels with each event of the re-encryption
    expect((await readSecretsHistory({ git: repo, files: target })).events.map((e) => [e.commit === "" ? "" : e.message, e.name, e.kind, e.dataKey])).toEqual([
      ["one", "a", "added", undefined],
      ["one", "b", "added", undefined],
      ["rekey", "a", "re-encrypted", "new"],
      ["rekey", "b", "re-encrypted", "new"],
    ]);
    expect((await readSecretsHistory({ git: repo, files: target, plaintexts })).events.slice(2).map((e) => [e.kind, e.dataKey])).toEqual([
      ["re-encrypted", "new"],
      ["changed", "new"],
    ]);
  });

  it("names a version that is not a readable SOPS file in a warning and skips it", async () => {
    const git = new MemoryRepo();
    git.commit("broken", { [PROD]: "not: [valid sops\n" });
    const history = await readSecretsHistory({ git, files: [{ environment: "production", path: PROD }] });
    expect(history.events).toEqual([]);
    expect(history.warnings).toEqual([expect.stringMatching(/^secrets\/production\.enc\.yaml at [0-9a-f]{12}: a version of the file is not a readable SOPS file; skipped$/)]);
  });
});

describe("readSecretsHistory and values committed in clear text", () => {
  const PROD = "secrets/production.enc.yaml";
  it("reads a version with a clear-text value (committed past the hook): the value is added in clear text there, and the commit that encrypts it is a change of it (both were skipped, so the secret had no history at all)", async () => {
    const prod = await versions({ stripe_api_key: "a1" });
    const git = new MemoryRepo();
    git.commit("base", { [PROD]: prod.text }, { date: "2024-01-01T00:00:00+00:00" });
    const clear = prod.text.replace(/^sops:/m, "sendgrid_api_key: SG.clear-text-value\nsops:");
    git.commit("add sendgrid by hand", { [PROD]: clear }, { date: "2024-01-02T00:00:00+00:00" });
    git.commit("encrypt sendgrid", { [PROD]: await prod.next(prod.text, { sendgrid_api_key: "SG.clear-text-value" }) }, { date: "2024-01-03T00:00:00+00:00" });
    const history = await readSecretsHistory({ git, files: [{ environment: "production", path: PROD }] });
    expect(history.warnings).toEqual([]);
    expect(history.events.map((e) => `${e.message}|${e.name}|${e.kind}${e.plaintext ? "|plaintext" : ""}`)).toEqual([
      "base|stripe_api_key|added",
      "add sendgrid by hand|sendgrid_api_key|added|plaintext",
      "encrypt sendgrid|sendgrid_api_key|changed",
    ]);
    expect(JSON.stringify(history)).not.toContain("clear-text-value");
    expect(lastValueChanges(history.events).get("production\u0000sendgrid_api_key")?.message).toBe("encrypt sendgrid");
  });
});

describe("readSecretsHistory: a value encrypted after it was committed in clear text, with a key", () => {
  const PROD = "secrets/production.enc.yaml";
  it("calls the encrypting commit a re-encryption of the leaked value (leakedValue) when the plaintext is the same, and a change when it is another; stale's date is then the leak's", async () => {
    const alice = await generateIdentity();
    const base = await encryptSecrets(new Map([["stripe_api_key", "a1"]]), { recipients: [alice.recipient] });
    const d = await decryptSecrets(base, [alice.identity]);
    const clear = base.replace(/^sops:/m, "sendgrid_api_key: SG.leaked\nsops:");
    const plaintexts = async (text: string) => (await decryptSecrets(text, [alice.identity])).values;
    for (const [value, kind, leaked] of [["SG.leaked", "re-encrypted", true], ["SG.rotated", "changed", false]] as const) {
      const git = new MemoryRepo();
      git.commit("base", { [PROD]: base }, { date: "2024-01-01T00:00:00+00:00" });
      git.commit("add sendgrid by hand", { [PROD]: clear }, { date: "2024-01-02T00:00:00+00:00" });
      git.commit("encrypt sendgrid", { [PROD]: await reencryptSecrets(d, new Map([...d.values, ["sendgrid_api_key", value]])) }, { date: "2024-01-03T00:00:00+00:00" });
      const history = await readSecretsHistory({ git, files: [{ environment: "production", path: PROD }], plaintexts });
      const last = history.events.at(-1);
      expect([last?.message, last?.kind, last?.leakedValue === true, last?.verified]).toEqual(["encrypt sendgrid", kind, leaked, leaked]);
      expect(lastValueChanges(history.events).get("production\u0000sendgrid_api_key")?.message).toBe(leaked ? "add sendgrid by hand" : "encrypt sendgrid");
    }
  });
});

describe("formerReaders (keys that still hold the current data key)", () => {
  const v = (commit: string, stanzas: Record<string, string>) => ({ environment: "production", commit, date: `2025-01-0${commit.length}T00:00:00+00:00`, stanzas: new Map(Object.entries(stanzas)) });
  it("lists a recipient of a version under the current data key (a stanza kept byte for byte) that the file no longer lists, at the first such version", () => {
    const current = new Map([["age1alice", "WRAP_A"]]);
    const versions = [v("c", { age1alice: "WRAP_A", age1erin: "WRAP_E" }), v("cc", { age1alice: "WRAP_A" }), v("ccc", { age1alice: "WRAP_A", age1erin: "WRAP_E2", age1dave: "WRAP_D" })];
    expect(formerReaders(current, versions)).toEqual([
      { recipient: "age1erin", commit: "c", date: "2025-01-01T00:00:00+00:00" },
      { recipient: "age1dave", commit: "ccc", date: "2025-01-03T00:00:00+00:00" },
    ]);
  });
  it("leaves out versions under another data key (a rotation since)", () => {
    const current = new Map([["age1alice", "WRAP_A2"]]);
    expect(formerReaders(current, [v("c", { age1alice: "WRAP_A", age1bob: "WRAP_B" })])).toEqual([]);
  });
  it("counts a version that shares a value's ciphertext with the current file as under its data key (every stanza wrapped anew since, the key kept)", () => {
    const current = new Map([["age1alice", "WRAP_A2"]]);
    const old = { ...v("c", { age1alice: "WRAP_A", age1bob: "WRAP_B" }), values: new Map([["stripe_api_key", "CT1"]]) };
    expect(formerReaders(current, [old], new Map([["stripe_api_key", "CT1"]])).map((r) => r.recipient)).toEqual(["age1bob"]);
    expect(formerReaders(current, [old], new Map([["stripe_api_key", "CT2"]]))).toEqual([]);
  });
});

describe("dataKeyChange (what the wrapped data keys show without a key)", () => {
  const ver = (stanzas: Record<string, string>): FileVersion => ({ values: new Map(), stanzas: new Map(Object.entries(stanzas)) });
  it("is new when every recipient that stayed was wrapped anew, same when one was kept byte for byte, and undefined otherwise", () => {
    expect(dataKeyChange(ver({ a: "w1", b: "w2" }), ver({ a: "x1", b: "x2", c: "x3" }))).toBe("new");
    expect(dataKeyChange(ver({ a: "w1", b: "w2" }), ver({ a: "w1", b: "w2" }))).toBe("same");
    // a's wrapped key kept byte for byte proves the data key is the same (b was only wrapped anew)
    expect(dataKeyChange(ver({ a: "w1", b: "w2" }), ver({ a: "w1", b: "x2" }))).toBe("same");
    expect(dataKeyChange(ver({ a: "w1" }), ver({ b: "x1" }))).toBeUndefined();
    expect(dataKeyChange(undefined, ver({ a: "w1" }))).toBeUndefined();
  });
});

describe("diffEnvironmentTexts (two versions of an environment file, without a key)", () => {
  it("names the secrets whose stored value differs, those only one side has, and a file only one side has", async () => {
    const prod = await versions({ stripe_api_key: "s1", hubspot_api_token: "h1", old_token: "o1" });
    const other = await prod.next(prod.text, { stripe_api_key: "s2", slack_bot_token: "x1" });
    const without = other.replace(/^old_token: .*\n/m, "");
    expect(diffEnvironmentTexts(prod.text, without)).toEqual([
      { name: "old_token", kind: "removed" },
      { name: "slack_bot_token", kind: "added" },
      { name: "stripe_api_key", kind: "changed" },
    ]);
    expect(diffEnvironmentTexts(undefined, prod.text)?.map((c) => c.kind)).toEqual(["added", "added", "added"]);
    expect(diffEnvironmentTexts(prod.text, prod.text)).toEqual([]);
    // a version that is no SOPS file cannot be compared: undefined, never a guess
    expect(diffEnvironmentTexts(prod.text, "not: [sops\n")).toBeUndefined();
  });
});
