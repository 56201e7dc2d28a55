/**
 * Completion in config files: what kind of name the cursor is on (from the text of the line and
 * the lines above, so it works while the document is half-typed) and the candidates for it.
 */
import { loneCrAsLf, type TextRange } from "./position.js";
import { CONFIG_KINDS, type ConfigKind } from "./schemas.js";
import type { WorkspaceIndex } from "./workspace.js";

/** What is being typed at a position. */
export type CompletionContext =
  | { type: "secret"; prefix: string; range: TextRange }
  | { type: "object"; kind: ConfigKind; prefix: string; range: TextRange }
  | { type: "environment"; prefix: string; range: TextRange }
  | { type: "kind"; prefix: string; range: TextRange };

/** One candidate. */
export interface CompletionCandidate {
  label: string;
  /** One line: environments with a value, or where the object is defined. */
  detail: string;
  /** Longer text (catalog description, owner, rotation), when there is one. */
  documentation?: string;
  /**
   * A secret with no value in some environments where the document being edited is used
   * (`neededIn` of {@link completionCandidates}): those environments. Such candidates come last.
   */
  missing?: string[];
}

const WORD = /[A-Za-z0-9_.-]*$/;

/**
 * The completion context at `offset` of a config file's `text`, or undefined when the cursor is
 * not on a value that names a secret, an object, an environment or a kind.
 */
export function completionContextAt(original: string, offset: number): CompletionContext | undefined {
  const text = loneCrAsLf(original); // a lone CR ends a line, as in YAML and LSP (same offsets)
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  const before = text.slice(lineStart, offset);
  const wordMatch = WORD.exec(before);
  const prefix = wordMatch?.[0] ?? "";
  let end = offset;
  while (end < text.length && /[A-Za-z0-9_.-]/.test(text[end] as string)) end++;
  const range = { start: offset - prefix.length, end };
  const head = before.slice(0, before.length - prefix.length).replace(/["']$/, "");
  // the key plain or quoted (`"secret": "st|"`, JSON-style YAML and .json files)
  const key = /(?:^|[{,\s])(["']?)([a-z_]+)\1\s*:\s*$/.exec(head)?.[2];
  if (key === "secret") return { type: "secret", prefix, range };
  if (key === "kind" && /^\s*(["']?)kind\1\s*:\s*$/.test(head)) return { type: "kind", prefix, range };
  if (key === "connection") return { type: "object", kind: "api_connection", prefix, range };
  if (key === "auth") return { type: "object", kind: "auth_connector", prefix, range };
  // flow sequences: `environments: [a, b|` / `actions: [x, |`
  const flow = /(?:^|[{,\s])(["']?)(environments|actions)\1\s*:\s*\[[^\]]*$/.exec(head);
  if (flow !== null && /[[,]\s*$/.test(head)) return listContext(flow[2] as string, prefix, range);
  // block sequences: `  - b|` under `environments:` / `actions:`
  if (/^\s*-\s+$/.test(head)) {
    const indent = head.indexOf("-");
    let pos = lineStart - 1;
    while (pos > 0) {
      const prevStart = text.lastIndexOf("\n", pos - 1) + 1;
      const line = text.slice(prevStart, pos);
      pos = prevStart - 1;
      if (line.trim() === "" || /^\s*#/.test(line)) continue;
      const lineIndent = line.length - line.trimStart().length;
      if (/^\s*-/.test(line) && lineIndent === indent) continue;
      const m = /^\s*(environments|actions)\s*:\s*$/.exec(line);
      if (m !== null && lineIndent <= indent) return listContext(m[1] as string, prefix, range);
      break;
    }
  }
  return undefined;
}

function listContext(key: string, prefix: string, range: TextRange): CompletionContext {
  return key === "environments" ? { type: "environment", prefix, range } : { type: "object", kind: "action", prefix, range };
}

/**
 * Candidates for a context, sorted by label (prefix filtering is left to the client). `neededIn`:
 * the environments where the document being edited is used (`WorkspaceIndex.environmentsUsedBy`);
 * a secret with no value in some of them says so in its detail and comes after the others (it
 * would be a `missing-environment-value` at once).
 */
export function completionCandidates(index: WorkspaceIndex, context: CompletionContext, neededIn?: readonly string[]): CompletionCandidate[] {
  switch (context.type) {
    case "secret": {
      const all = index.secretNames().map((name) => {
        const info = index.secret(name);
        const envs = (info?.definitions ?? []).filter((d) => !d.empty).map((d) => d.environment);
        const missing = neededIn?.filter((e) => !envs.includes(e)) ?? [];
        const c: CompletionCandidate = {
          label: name,
          detail: `${envs.length > 0 ? `secret · ${envs.join(", ")}` : "secret · no value yet"}${missing.length > 0 && envs.length > 0 ? ` · no value in ${missing.join(", ")}` : ""}`,
        };
        if (missing.length > 0) c.missing = missing;
        const cat = info?.catalog;
        if (cat !== undefined) {
          const doc = [cat.description, cat.owner ? `Owner: ${cat.owner}` : undefined, cat.rotate_every ? `Rotate every ${cat.rotate_every}` : undefined]
            .filter((x): x is string => x !== undefined)
            .join("\n\n");
          if (doc !== "") c.documentation = doc;
        }
        return c;
      });
      return [...all.filter((c) => c.missing === undefined), ...all.filter((c) => c.missing !== undefined)];
    }
    case "object":
      return [...index.objects(context.kind)]
        .map(([name, defs]) => ({ label: name, detail: `${context.kind} · ${defs[0]?.file ?? ""}` }))
        .sort((a, b) => (a.label < b.label ? -1 : 1));
    case "environment":
      return index.project.environments.map((e) => ({
        label: e.name,
        detail: `environment · ${e.members.length} member${e.members.length === 1 ? "" : "s"}`,
      }));
    case "kind":
      return CONFIG_KINDS.map((k) => ({ label: k, detail: "config kind" }));
  }
}
