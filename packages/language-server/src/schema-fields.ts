/**
 * Field names, descriptions and enum values of each config kind, read from core's JSON Schemas
 * (the single source), for key and value completion.
 */
import { ACTION_SCHEMA, AGENT_SCHEMA, API_CONNECTION_SCHEMA, AUTH_CONNECTOR_SCHEMA, type JsonSchema } from "@stellar-secrets/core";

/** One completable field. */
export interface FieldInfo {
  name: string;
  description?: string;
  /** Allowed values, when the schema has an enum or a const. */
  values?: string[];
  /** True when the value is a `{ secret: NAME }` reference (or may be). */
  secretRef: boolean;
  required: boolean;
}

const BY_KIND: Record<string, JsonSchema> = {
  auth_connector: AUTH_CONNECTOR_SCHEMA,
  api_connection: API_CONNECTION_SCHEMA,
  action: ACTION_SCHEMA,
  agent: AGENT_SCHEMA,
};

type S = Record<string, unknown>;

function deref(root: S, s: unknown): S {
  const o = (s ?? {}) as S;
  const ref = o.$ref;
  if (typeof ref === "string" && ref.startsWith("#/$defs/")) {
    const defs = (root.$defs ?? {}) as S;
    return { ...((defs[ref.slice(8)] ?? {}) as S), ...Object.fromEntries(Object.entries(o).filter(([k]) => k !== "$ref")) };
  }
  return o;
}

function isSecretRef(root: S, s: S): boolean {
  const r = s.$ref;
  if (r === "#/$defs/secretRef" || r === "#/$defs/plainOrSecret") return true;
  const any = s.anyOf;
  return Array.isArray(any) && any.some((x) => isSecretRef(root, x as S));
}

function collect(root: S, schema: S, discriminator: string | undefined, out: Map<string, FieldInfo>): void {
  const props = (schema.properties ?? {}) as S;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  for (const [name, raw] of Object.entries(props)) {
    const s = deref(root, raw);
    const values = Array.isArray(s.enum) ? (s.enum as unknown[]).map(String) : typeof s.const === "string" ? [s.const] : undefined;
    const prev = out.get(name);
    const info: FieldInfo = {
      name,
      secretRef: isSecretRef(root, raw as S) || (prev?.secretRef ?? false),
      required: required.has(name) || (prev?.required ?? false),
    };
    const description = (s.description as string | undefined) ?? prev?.description;
    if (description !== undefined) info.description = description;
    const v = values ?? prev?.values;
    if (v !== undefined) info.values = v;
    out.set(name, info);
  }
  for (const branch of (schema.allOf as S[] | undefined) ?? []) {
    const cond = ((branch.if as S | undefined)?.properties ?? {}) as S;
    const matches = Object.entries(cond).every(([k, c]) => {
      const want = (c as S).const;
      return discriminator === undefined || k !== "type" || want === discriminator;
    });
    if (matches && branch.then) collect(root, branch.then as S, discriminator, out);
  }
}

/** Top-level fields of a kind (narrowed by the document's `type`, for auth connectors). */
export function kindFields(kind: string, type?: string): FieldInfo[] {
  const schema = BY_KIND[kind] as S | undefined;
  if (schema === undefined) return [];
  const out = new Map<string, FieldInfo>();
  collect(schema, schema, type, out);
  return [...out.values()];
}

/** Fields of a header item (`headers:` of connections and actions). */
export function headerFields(kind: string, type?: string): FieldInfo[] {
  const schema = BY_KIND[kind] as S | undefined;
  const header = ((schema?.$defs ?? {}) as S).header as S | undefined;
  if (schema === undefined || header === undefined) return [];
  const out = new Map<string, FieldInfo>();
  collect(schema, header, type, out);
  return [...out.values()];
}

/**
 * Fields of an object-valued field of a kind (such as a connection's `probe:`), narrowed by the
 * document's `type` for auth connectors; [] when the kind has no such object field.
 */
export function nestedFields(kind: string, parent: string, type?: string): FieldInfo[] {
  const schema = BY_KIND[kind] as S | undefined;
  if (schema === undefined) return [];
  const holders: S[] = [schema];
  for (const branch of (schema.allOf as S[] | undefined) ?? []) {
    const want = (((branch.if as S | undefined)?.properties ?? {}) as S).type as S | undefined;
    if (branch.then !== undefined && (type === undefined || want?.const === undefined || want.const === type)) holders.push(branch.then as S);
  }
  const out = new Map<string, FieldInfo>();
  for (const holder of holders) {
    const raw = ((holder.properties ?? {}) as S)[parent];
    const field = raw === undefined ? undefined : deref(schema, raw);
    if (field !== undefined && field.type === "object" && field.properties !== undefined) collect(schema, field, undefined, out);
  }
  return [...out.values()];
}

/** Every config kind with a schema. */
export const KINDS = Object.keys(BY_KIND);
