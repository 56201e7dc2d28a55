/**
 * A three-way merge of `stellar.yaml` per environment and per member, for the merge driver. Two
 * access requests approved at once on two branches (`members approve carol`, `members approve
 * dave`) touch neighbouring lines of one environment, which git's text merge reports as a
 * conflict; and a text merge of one side that reordered members with another that removed one can
 * come out clean with the removed member back. Here `members`, `pending` and `approved` are merged
 * per name instead, and the result is written with the CLI's own writers applied to our side.
 * Pure: text in, text out.
 */
import { isMap, isScalar, parseDocument, visit, type Document, type Node, type Pair, type YAMLMap } from "yaml";
import { parseProjectConfig, setApprovals, setEnvironmentMembers, setPendingRequests, type Approval, type Member, type PendingRequest } from "./project.js";
import { findExcessiveNesting } from "@stellar-secrets/sops";

/** The per-name lists of an environment that the merge handles. */
export type ProjectMergeField = "members" | "pending" | "approved";
const FIELDS: readonly ProjectMergeField[] = ["members", "pending", "approved"];

/** What one side did to an entry, relative to the base. */
export type ProjectMergeChange = "added" | "changed" | "removed" | "unchanged";

/**
 * One name the merge cannot decide: both sides changed it differently (or one removed it and the
 * other changed it), or (`reason: "one-name-one-key"`) the per-name merge would give a member a
 * different key in another environment, or one key to two names, which neither side did (each
 * side added the same person with another key, in different environments): rule recipient-drift.
 */
export interface ProjectConfigConflict {
  environment: string;
  field: ProjectMergeField;
  name: string;
  /** What our side did to it. */
  ours: ProjectMergeChange;
  /** What their side did to it. */
  theirs: ProjectMergeChange;
  reason: "changed-differently" | "one-name-one-key";
}

/** The result of {@link mergeProjectConfigs}. */
export type ProjectConfigMerge =
  | {
      merged: true;
      /** The merged text: our side's, with each changed list rewritten by the CLI's writers (or one side byte for byte when the other changed nothing). */
      text: string;
      /** `env.field.name` of each entry taken from their side (added, changed or removed there). */
      fromTheirs: string[];
    }
  | {
      merged: false;
      /** The names both sides changed differently: nothing is merged, the caller falls back to git's text merge. */
      conflicts: ProjectConfigConflict[];
    };

/** An entry's value as the writers write it: a member's key, `{ key, requested? }`, `{ by, date }`. */
type Entry = string | { key: string; requested?: string } | { by: string; date: string };

/** One side read: the entries of each environment's lists, and everything else as a canonical text. */
interface Side {
  environments: string[];
  /** env → field → name → entry (insertion order is the file's). */
  lists: Map<string, Map<ProjectMergeField, Map<string, Entry>>>;
  /** The document without the three lists of each environment, rendered: what must be the same on every side. */
  rest: string;
}

function stringKeyed(map: YAMLMap): boolean {
  return map.items.every((p) => isScalar(p.key) && typeof p.key.value === "string");
}

/** The comments inside (and attached to) a pair: they must be the same on every side, as the writers keep ours'. */
function commentsOf(pair: Pair): string[] {
  const out: string[] = [];
  const take = (n: unknown): void => {
    const node = n as { commentBefore?: string | null; comment?: string | null } | null;
    if (node === null || typeof node !== "object") return;
    if (node.commentBefore) out.push(`b:${node.commentBefore}`);
    if (node.comment) out.push(`a:${node.comment}`);
  };
  take(pair.key);
  take(pair.value);
  if (isMap(pair.value)) {
    visit(pair.value as Node, {
      Pair(_, p) {
        take(p.key);
        take(p.value);
      },
    });
  }
  return out;
}

function entryOf(field: ProjectMergeField, value: unknown): Entry | undefined {
  if (field === "members") return typeof value === "string" ? value : undefined;
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v).sort().join(",");
  if (field === "pending") {
    if (typeof v.key !== "string") return undefined;
    if (keys === "key") return { key: v.key };
    return keys === "key,requested" && typeof v.requested === "string" ? { key: v.key, requested: v.requested } : undefined;
  }
  return keys === "by,date" && typeof v.by === "string" && typeof v.date === "string" ? { by: v.by, date: v.date } : undefined;
}

/** Reads one version, or undefined when it is anything but a plain stellar.yaml the writers can edit. */
function readSide(text: string): Side | undefined {
  if (findExcessiveNesting(text) !== undefined) return undefined;
  // line breaks all CRLF or all LF (the writers write one kind, the first line break's), and whether
  // a byte order mark leads: part of what must be the same on every side
  const crlf = text.includes("\r");
  if (crlf && (/\r(?!\n)/.test(text) || /(?<!\r)\n/.test(text))) return undefined;
  let doc: Document;
  try {
    doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  } catch {
    return undefined;
  }
  if (doc.errors.length > 0 || doc.warnings.length > 0 || !isMap(doc.contents)) return undefined;
  let plain = true;
  visit(doc, {
    Alias() {
      plain = false;
      return visit.BREAK;
    },
    Node(_, node) {
      // (the yaml library sets `tag` on a parsed node only when the text gives one explicitly)
      if (node.anchor || typeof node.tag === "string") plain = false;
      return plain ? undefined : visit.BREAK;
    },
  });
  if (!plain || !stringKeyed(doc.contents)) return undefined;
  const envsPair = doc.contents.items.find((p) => isScalar(p.key) && p.key.value === "environments");
  if (envsPair === undefined || !isMap(envsPair.value) || !stringKeyed(envsPair.value)) return undefined;
  const copy = doc.clone();
  const copyEnvs = copy.getIn(["environments"], true) as YAMLMap;
  const environments: string[] = [];
  const lists = new Map<string, Map<ProjectMergeField, Map<string, Entry>>>();
  const comments: string[] = [];
  for (const [i, envPair] of envsPair.value.items.entries()) {
    const env = String((envPair.key as { value: string }).value);
    if (!isMap(envPair.value) || !stringKeyed(envPair.value)) return undefined;
    environments.push(env);
    const perField = new Map<ProjectMergeField, Map<string, Entry>>();
    for (const field of FIELDS) {
      const pair = envPair.value.items.find((p) => (p.key as { value: string }).value === field);
      const entries = new Map<string, Entry>();
      if (pair !== undefined) {
        if (!isMap(pair.value) || !stringKeyed(pair.value)) return undefined;
        const said = commentsOf(pair);
        if (said.length > 0) comments.push(`${env}.${field}`, ...said);
        for (const p of pair.value.items) {
          const entry = entryOf(field, (p.value as Node | null)?.toJSON());
          if (entry === undefined) return undefined;
          entries.set(String((p.key as { value: string }).value), entry);
        }
      }
      perField.set(field, entries);
    }
    lists.set(env, perField);
    const copyEnv = copyEnvs.items[i]!.value as YAMLMap;
    copyEnv.items = copyEnv.items.filter((p) => !FIELDS.includes((p.key as { value: string }).value as ProjectMergeField));
  }
  return { environments, lists, rest: `${crlf ? "CRLF" : "LF"}${text.startsWith("\uFEFF") ? " BOM" : ""}\u0000${copy.toString({ lineWidth: 0 })}\u0000${comments.join("\u0000")}` };
}

const same = (a: Entry | undefined, b: Entry | undefined): boolean => JSON.stringify(a) === JSON.stringify(b);

function whatChanged(base: Entry | undefined, side: Entry | undefined): ProjectMergeChange {
  return same(base, side) ? "unchanged" : base === undefined ? "added" : side === undefined ? "removed" : "changed";
}

/** The members (`env`, name) whose name has two keys across environments, or whose key has two names. */
function identityClashes(lists: ReadonlyMap<string, ReadonlyMap<ProjectMergeField, ReadonlyMap<string, Entry>>>): Set<string> {
  const keysOf = new Map<string, Set<string>>();
  const namesOf = new Map<string, Set<string>>();
  for (const fields of lists.values()) {
    for (const [name, key] of fields.get("members")!) {
      keysOf.set(name, (keysOf.get(name) ?? new Set()).add(key as string));
      namesOf.set(key as string, (namesOf.get(key as string) ?? new Set()).add(name));
    }
  }
  const out = new Set<string>();
  for (const [env, fields] of lists) {
    for (const [name, key] of fields.get("members")!) {
      if (keysOf.get(name)!.size > 1 || namesOf.get(key as string)!.size > 1) out.add(`${env}\u0000${name}`);
    }
  }
  return out;
}

/**
 * Merges three versions of `stellar.yaml` per environment and per name: for each declared
 * environment, its `members`, `pending` and `approved` entries are merged three-way by name (added
 * on one side: added; removed on one side and untouched on the other: removed; changed on one
 * side: that side's; the same on both: it). The result is our side's text with each list that
 * differs from ours rewritten by the CLI's writers (`setEnvironmentMembers`, `setPendingRequests`,
 * `setApprovals`), so the layout stays ours; when one side is the base, the result is the other
 * side byte for byte. A member one side removed is never brought back (unless the other side
 * changed it: a conflict).
 *
 * `{ merged: false, conflicts }` when both sides changed one name differently, or one removed a
 * name the other changed, or the merge would give one member two keys across environments (or one
 * key two names) where neither side does. Undefined (the caller falls back to git's text merge) when anything else
 * differs (environments added, removed, renamed or reordered, `secrets_dir`, `config`, `rules`,
 * `version`, a comment, other keys), or when a version cannot be read, has a key twice, an anchor,
 * an alias or a tag, line breaks mixed CRLF and LF (or another kind than the other sides', or a
 * byte order mark that they lack), or an entry the writers would not
 * write back as it is; and when the written result does not read back as computed. Never throws.
 */
export function mergeProjectConfigs(base: string, ours: string, theirs: string, path: string): ProjectConfigMerge | undefined {
  // one side changed nothing: the other side byte for byte, when it is a plain stellar.yaml (as git's text merge gives it)
  if (theirs === base || theirs === ours) return readSide(ours) === undefined ? undefined : { merged: true, text: ours, fromTheirs: [] };
  const [b, o, t] = [readSide(base), readSide(ours), readSide(theirs)];
  if (ours === base) return t === undefined ? undefined : { merged: true, text: theirs, fromTheirs: b === undefined || b.rest !== t.rest ? [] : changedNames(b, t) };
  if (b === undefined || o === undefined || t === undefined) return undefined;
  if (b.rest !== o.rest || t.rest !== o.rest) return undefined;
  const conflicts: ProjectConfigConflict[] = [];
  const fromTheirs: string[] = [];
  const result = new Map<string, Map<ProjectMergeField, Map<string, Entry>>>();
  for (const env of o.environments) {
    const fields = new Map<ProjectMergeField, Map<string, Entry>>();
    for (const field of FIELDS) {
      const [lb, lo, lt] = [b.lists.get(env)!.get(field)!, o.lists.get(env)!.get(field)!, t.lists.get(env)!.get(field)!];
      const out = new Map<string, Entry>();
      // ours' order, then the names only theirs has, in theirs' order
      const names = [...new Set([...lo.keys(), ...lt.keys(), ...lb.keys()])];
      for (const name of names) {
        const [xb, xo, xt] = [lb.get(name), lo.get(name), lt.get(name)];
        let chosen: Entry | undefined;
        if (same(xt, xb) || same(xt, xo)) chosen = xo;
        else if (same(xo, xb)) {
          chosen = xt;
          fromTheirs.push(`${env}.${field}.${name}`);
        } else {
          conflicts.push({ environment: env, field, name, ours: whatChanged(xb, xo), theirs: whatChanged(xb, xt), reason: "changed-differently" });
          continue;
        }
        if (chosen !== undefined) out.set(name, chosen);
      }
      fields.set(field, out);
    }
    result.set(env, fields);
  }
  if (conflicts.length > 0) return { merged: false, conflicts };
  // one name is one key in every environment, one key one name (recipient-drift): a clash neither side has is the merge's own
  const known = new Set([...identityClashes(o.lists), ...identityClashes(t.lists)]);
  for (const at of identityClashes(result)) {
    if (known.has(at)) continue;
    const [env, name] = at.split("\u0000") as [string, string];
    const [xb, xo, xt] = [b.lists.get(env)!.get("members")!.get(name), o.lists.get(env)!.get("members")!.get(name), t.lists.get(env)!.get("members")!.get(name)];
    conflicts.push({ environment: env, field: "members", name, ours: whatChanged(xb, xo), theirs: whatChanged(xb, xt), reason: "one-name-one-key" });
  }
  if (conflicts.length > 0) return { merged: false, conflicts };
  let text = ours;
  try {
    for (const env of o.environments) {
      const want = result.get(env)!;
      const have = o.lists.get(env)!;
      const differs = (field: ProjectMergeField): boolean => JSON.stringify([...want.get(field)!]) !== JSON.stringify([...have.get(field)!]);
      if (differs("members")) {
        text = setEnvironmentMembers(text, env, [...want.get("members")!].map(([name, recipient]): Member => ({ name, recipient: recipient as string })));
      }
      if (differs("pending")) {
        const requests = [...want.get("pending")!].map(([name, e]): PendingRequest => {
          const r = e as { key: string; requested?: string };
          return r.requested === undefined ? { name, recipient: r.key } : { name, recipient: r.key, requested: r.requested };
        });
        text = setPendingRequests(text, env, requests);
      }
      // (setEnvironmentMembers drops a removed member's approval: written after it, always when members changed)
      if (differs("approved") || differs("members")) {
        text = setApprovals(text, env, [...want.get("approved")!].map(([name, e]): Approval => ({ name, ...(e as { by: string; date: string }) })));
      }
    }
  } catch {
    return undefined;
  }
  // the result must read as computed, or nothing is merged
  const back = readSide(text);
  if (back === undefined || back.rest !== o.rest) return undefined;
  for (const env of o.environments) {
    for (const field of FIELDS) {
      const want = result.get(env)!.get(field)!;
      const got = back.lists.get(env)!.get(field)!;
      if (got.size !== want.size || [...want].some(([name, e]) => !same(got.get(name), e))) return undefined;
    }
  }
  const parsed = parseProjectConfig(text, path.startsWith("/") ? path : `/${path}`).config;
  if (parsed === undefined || parsed.environments.map((e) => e.name).join("\u0000") !== o.environments.join("\u0000")) return undefined;
  return { merged: true, text, fromTheirs };
}

/** `env.field.name` of each entry `side` changed from `base`. */
function changedNames(base: Side, side: Side): string[] {
  const out: string[] = [];
  for (const env of side.environments) {
    for (const field of FIELDS) {
      const [lb, ls] = [base.lists.get(env)!.get(field)!, side.lists.get(env)!.get(field)!];
      for (const name of new Set([...ls.keys(), ...lb.keys()])) if (!same(lb.get(name), ls.get(name))) out.push(`${env}.${field}.${name}`);
    }
  }
  return out;
}

/**
 * Why a clean text merge of three `stellar.yaml` versions (git's `merge-file`, which the merge
 * driver falls back to where {@link mergeProjectConfigs} declines) must not be taken as it is, or
 * undefined when it may: git merges lines, and a side that reordered members next to a side that
 * removed one can come out clean with the removed member back. Reported (as text, for a person):
 * an entry (`members`, `pending`, `approved`) of an environment every version declares that is
 * not what the per-name three-way merge gives (a member one side removed is back, one side's
 * change is lost, or both sides changed it differently); a member name with two keys across
 * environments, or a key with two names, that neither side has; a merged text that cannot be read
 * although every version can. Versions that are not plain (see {@link mergeProjectConfigs}) are
 * not judged. Pure; never throws.
 */
export function textMergedProjectConfigProblem(base: string, ours: string, theirs: string, merged: string): string | undefined {
  const [b, o, t] = [readSide(base), readSide(ours), readSide(theirs)];
  if (b === undefined || o === undefined || t === undefined) return undefined;
  const m = readSide(merged);
  if (m === undefined) {
    try {
      const doc = parseDocument(merged, { uniqueKeys: true, prettyErrors: false });
      if (doc.errors.length > 0) return "the merged text cannot be read, although each side's can";
    } catch {
      return "the merged text cannot be read, although each side's can";
    }
    return undefined; // (a merged text in a form the merge does not judge: CRLF and the like)
  }
  const wrong: string[] = [];
  for (const env of m.environments) {
    const [fb, fo, ft, fm] = [b.lists.get(env), o.lists.get(env), t.lists.get(env), m.lists.get(env)!];
    if (fb === undefined || fo === undefined || ft === undefined) continue;
    for (const field of FIELDS) {
      const [lb, lo, lt, lm] = [fb.get(field)!, fo.get(field)!, ft.get(field)!, fm.get(field)!];
      for (const name of new Set([...lb.keys(), ...lo.keys(), ...lt.keys(), ...lm.keys()])) {
        const [xb, xo, xt, xm] = [lb.get(name), lo.get(name), lt.get(name), lm.get(name)];
        const want = same(xt, xb) || same(xt, xo) ? xo : same(xo, xb) ? xt : "conflict";
        if (want === "conflict") wrong.push(`${env}.${field}.${name} (changed differently on both sides)`);
        else if (!same(want, xm)) {
          wrong.push(`${env}.${field}.${name} (${xm === undefined ? "dropped" : want === undefined ? (xb !== undefined ? "removed on one side, yet there" : "there, although no side has it") : "not as either side changed it"})`);
        }
      }
    }
  }
  const known = new Set([...identityClashes(o.lists), ...identityClashes(t.lists)]);
  for (const at of identityClashes(m.lists)) if (!known.has(at)) wrong.push(`${at.replace("\u0000", ".members.")} (a name with two keys across environments, or a key with two names)`);
  return wrong.length === 0 ? undefined : `the per-name merge disagrees with it: ${wrong.slice(0, 5).join(", ")}${wrong.length > 5 ? `, and ${wrong.length - 5} more` : ""}`;
}
