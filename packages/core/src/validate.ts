/**
 * JSON Schema validation of parsed YAML with diagnostics at the offending node. The ajv
 * validators are compiled once per process, on first use.
 */
import type { ErrorObject } from "ajv";
import { isMap, isSeq, type Node } from "yaml";
import { diagnosticAt, type Diagnostic } from "./diagnostics.js";
import { nearestName } from "./names.js";
import type { LineIndex, TextRange } from "./position.js";
import type { Severity } from "./rules.js";
import {
  AGE_RECIPIENT_PATTERN,
  ENVIRONMENT_NAME_PATTERN,
  HEADER_NAME_PATTERN,
  MEMBER_NAME_PATTERN,
  OBJECT_NAME_PATTERN,
  ROTATION_PERIOD_PATTERN,
  SCHEMA_FILES,
  SECRETS_DIR_PATTERN,
  type JsonSchema,
} from "./schemas.js";
import * as generated from "./validators.generated.js";
import { locatePath, nodeRange } from "./yaml-nodes.js";

/** A compiled schema: call it with a plain value; on false, `errors` says why (ajv's error objects). */
export interface SchemaValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
  /** The schema it validates against. */
  schema: JsonSchema;
}

const validators = new Map<string, SchemaValidator>();

/**
 * The validator of a schema file name from {@link SCHEMA_FILES} (e.g. `action.schema.json`).
 * The schemas are compiled ahead of time (validators.generated.ts), so this costs no compilation.
 * @throws Error for a name that is not in SCHEMA_FILES.
 */
export function validatorFor(schemaFile: string): SchemaValidator {
  let v = validators.get(schemaFile);
  if (v !== undefined) return v;
  const schema = SCHEMA_FILES[schemaFile];
  const fn = (generated as unknown as Record<string, ((data: unknown) => boolean) & { errors?: ErrorObject[] | null }>)[schemaFile.replace(/\.schema\.json$/, "")];
  if (schema === undefined || fn === undefined) throw new Error(`no schema named ${schemaFile}`);
  const wrapped = ((data: unknown): boolean => {
    const ok = fn(data);
    wrapped.errors = fn.errors ?? null;
    return ok;
  }) as SchemaValidator;
  wrapped.schema = schema;
  validators.set(schemaFile, wrapped);
  return wrapped;
}

function scalarAt(value: unknown, segments: readonly string[]): string | undefined {
  let v = value;
  for (const s of segments) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[s];
  }
  return typeof v === "string" ? v : undefined;
}

function decodePointer(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function firstKeyRange(node: Node | undefined): TextRange | undefined {
  if (node !== undefined && isMap(node)) {
    const first = node.items[0];
    const k = first?.key as Node | undefined;
    const r = nodeRange(k);
    if (r !== undefined) return r;
  }
  return undefined;
}

/** Human wording of the schemas' patterns. */
const PATTERN_WORDS: Record<string, string> = {
  [AGE_RECIPIENT_PATTERN]: "is not an age X25519 public key (age1 followed by 58 lowercase bech32 characters)",
  [ENVIRONMENT_NAME_PATTERN]: "is not a valid environment name (lowercase letters, digits, _ and -, starting with a letter)",
  [HEADER_NAME_PATTERN]: "is not a valid HTTP header name: letters, digits and !#$%&'*+.^_`|~- only",
  [MEMBER_NAME_PATTERN]: "is not a valid member name (letters, digits, ., _, @ and -)",
  [OBJECT_NAME_PATTERN]: "is not a valid name (letters, digits, _, . and -, starting with a letter)",
  [ROTATION_PERIOD_PATTERN]: "is not a rotation period such as 90d, 12w, 6m or 1y",
  [SECRETS_DIR_PATTERN]: "must be a folder inside the repository, relative to stellar.yaml (no .., not the root itself)",
  "^https?://": "must be an http(s) URL",
  "^/": "must start with /",
};

function describe(e: ErrorObject, knownProperties: readonly string[], actual: string | undefined): { message: string; suggestion?: string } {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required":
      return { message: `missing required field "${String(p.missingProperty)}"` };
    case "additionalProperties":
    case "unevaluatedProperties": {
      const name = String(p.additionalProperty ?? p.unevaluatedProperty);
      const near = nearestName(name, knownProperties);
      return near === undefined
        ? { message: `unknown field "${name}"` }
        : { message: `unknown field "${name}"; did you mean "${near.name}"?`, suggestion: near.name };
    }
    case "enum": {
      const values = p.allowedValues as unknown[];
      const allowed = values.map((v) => JSON.stringify(v)).join(", ");
      const near = actual === undefined ? undefined : nearestName(actual, values.filter((v): v is string => typeof v === "string"));
      return near === undefined
        ? { message: `must be one of ${allowed}` }
        : { message: `must be one of ${allowed}; did you mean "${near.name}"?`, suggestion: near.name };
    }
    case "const":
      return { message: `must be ${JSON.stringify(p.allowedValue)}` };
    case "type":
      return { message: `must be ${String(p.type).replace(/,/g, " or ")}` };
    case "pattern":
      return { message: PATTERN_WORDS[String(p.pattern)] ?? `does not match the pattern ${String(p.pattern)}` };
    case "uniqueItems":
      return { message: `has a duplicate entry (items ${String(p.j)} and ${String(p.i)})` };
    case "minProperties":
      return { message: `must have at least ${String(p.limit)} entr${p.limit === 1 ? "y" : "ies"}` };
    case "propertyNames":
      return { message: `has an invalid name` };
    default:
      return { message: e.message ?? `fails ${e.keyword}` };
  }
}

/** Properties a schema object allows at a path (for "did you mean"), gathered from `properties` and `then` branches. */
function knownPropertiesOf(schemaPath: string, validator: SchemaValidator): string[] {
  const root = validator.schema as Record<string, unknown>;
  const parts = decodePointer(schemaPath.replace(/^#/, ""));
  const out = new Set<string>();
  const collect = (s: unknown): void => {
    if (s === null || typeof s !== "object") return;
    const o = s as Record<string, unknown>;
    if (o.properties && typeof o.properties === "object") for (const k of Object.keys(o.properties)) out.add(k);
    if (Array.isArray(o.allOf)) for (const b of o.allOf) collect((b as Record<string, unknown>).then);
  };
  let s: unknown = root;
  for (const part of parts.slice(0, -1)) {
    if (s === null || typeof s !== "object") break;
    s = (s as Record<string, unknown>)[part];
  }
  collect(s);
  if (out.size === 0) collect(root);
  return [...out];
}

/**
 * Validates `value` (the plain form of `root`) with `validator`, mapping each ajv error to the
 * node it concerns: an unknown field at its key, a missing field at the key that holds the object
 * (or its first key), anything else at the value. One diagnostic per range and message.
 */
export function schemaDiagnostics(
  validator: SchemaValidator,
  value: unknown,
  root: Node | null | undefined,
  file: string,
  lines: LineIndex,
  severity: Severity,
  fallback: TextRange,
): Diagnostic[] {
  if (validator(value)) return [];
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  const errors = (validator.errors ?? []).filter((e) => e.keyword !== "if");
  // When a property name is invalid ajv reports the inner error (with `propertyName`) and a wrapping
  // `propertyNames` error; keep only the inner one.
  const hasInner = new Set(errors.filter((e) => (e as { propertyName?: string }).propertyName !== undefined).map((e) => e.instancePath));
  // A bad discriminator (`type: apikey`) makes every type-specific field "unevaluated": report only the discriminator.
  const badDiscriminator = new Set(
    errors.filter((e) => e.keyword === "enum" || e.keyword === "const").map((e) => e.instancePath.replace(/\/[^/]*$/, "")),
  );
  for (const e of errors) {
    if (e.keyword === "propertyNames" && hasInner.has(e.instancePath)) continue;
    if (e.keyword === "unevaluatedProperties" && badDiscriminator.has(e.instancePath)) continue;
    if (e.keyword === "unevaluatedProperties") {
      // A branch that fails (a missing field, a wrong type) leaves its own fields "unevaluated":
      // report the failure, not its fields as unknown.
      const prop = String((e.params as Record<string, unknown>).unevaluatedProperty);
      const known = knownPropertiesOf(e.schemaPath, validator).includes(prop);
      const own = `${e.instancePath}/${prop.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      if (known && errors.some((o) => o !== e && o.keyword !== "unevaluatedProperties" && (o.instancePath === e.instancePath || o.instancePath === own || o.instancePath.startsWith(`${own}/`)))) continue;
    }
    const segments = decodePointer(e.instancePath);
    const located = locatePath(root, segments);
    let range: TextRange | undefined;
    const p = e.params as Record<string, unknown>;
    let subject = segments.length > 0 ? `"${segments.join(".")}"` : "the document";
    const propertyName = (e as { propertyName?: string }).propertyName;
    if (e.keyword === "additionalProperties" || e.keyword === "unevaluatedProperties" || propertyName !== undefined) {
      const key = String(p.additionalProperty ?? p.unevaluatedProperty ?? propertyName);
      const at = locatePath(located.node, [key]);
      range = nodeRange(at.keyNode);
      if (propertyName !== undefined) subject = `name "${propertyName}"${segments.length > 0 ? ` in "${segments.join(".")}"` : ""}`;
    } else if (e.keyword === "required") {
      range = (located.complete ? nodeRange(located.keyNode) : undefined) ?? firstKeyRange(located.node);
      if (located.node !== undefined && isSeq(located.node)) range = nodeRange(located.node);
    } else {
      range = located.complete ? nodeRange(located.node) : undefined;
    }
    range ??= nodeRange(located.node) ?? fallback;
    const actual = propertyName ?? (typeof e.data === "string" ? e.data : scalarAt(value, segments));
    const { message, suggestion } = describe(e, knownPropertiesOf(e.schemaPath, validator), actual);
    const text =
      e.keyword === "required" || e.keyword === "additionalProperties" || e.keyword === "unevaluatedProperties"
        ? segments.length > 0
          ? `${message} in "${segments.join(".")}"`
          : message
        : `${subject} ${message}`;
    const id = `${range.start}:${range.end}:${text}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(diagnosticAt("schema", severity, file, lines, range, text, suggestion === undefined ? undefined : { suggestion }));
  }
  return out;
}
