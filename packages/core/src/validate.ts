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
  MEMBER_KEY_PATTERN,
  ENVIRONMENT_NAME_PATTERN,
  HEADER_NAME_PATTERN,
  MEMBER_NAME_PATTERN,
  OBJECT_NAME_PATTERN,
  PROBE_PATH_PATTERN,
  ACTION_PATH_PATTERN,
  PROBE_TIMEOUT_PATTERN,
  ROTATION_PERIOD_PATTERN,
  SCHEMA_FILES,
  SECRETS_DIR_PATTERN,
  CONFIG_GLOB_PATTERN,
  SINGLE_LINE_PATTERN,
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

/** True when the instance at `segments` is a secret reference `{ secret: NAME }` (and nothing else). */
/** True for a link's value written as a path of a config file (`connectors/stripe.yaml`, `./refund.yml`). */
export function isFileLike(value: unknown): value is string {
  return typeof value === "string" && (value.includes("/") || /\.(?:ya?ml|json)$/i.test(value));
}

/** A header `type` that is an HTTP auth scheme or a credential's kind, with the prefix it means (none: the secret is the whole value). */
const HEADER_SCHEMES = new Map<string, string | undefined>([
  ["bearer", "Bearer"],
  ["bearer_token", "Bearer"],
  ["basic", "Basic"],
  ["token", "Token"],
  ["bot", "Bot"],
  ["api_key", undefined],
  ["apikey", undefined],
  ["secret_key", undefined],
  ["authorization", undefined],
  ["credential", undefined],
  ["password", undefined],
]);

/** The start of the `schema` message for a connection's `auth: { secret: NAME }` (the checker names the auth connector that holds that secret, when it finds one). */
export const AUTH_NOT_A_SECRET = "must name an auth connector, not a secret: it holds the reference";

function isSecretReferenceAt(value: unknown, segments: readonly string[]): boolean {
  let v = value;
  for (const s of segments) {
    if (v === null || typeof v !== "object") return false;
    v = (v as Record<string, unknown>)[s];
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0] === "secret" && typeof (v as Record<string, unknown>).secret === "string";
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
  [MEMBER_KEY_PATTERN]: "is not a member key: an age X25519 public key (age1 followed by 58 lowercase bech32 characters) or an SSH ed25519 public key (ssh-ed25519 AAAA…)",
  [ENVIRONMENT_NAME_PATTERN]: "is not a valid environment name (lowercase letters, digits, _ and -, starting with a letter, at most 64 characters)",
  [HEADER_NAME_PATTERN]: "is not a valid HTTP header name: letters, digits and !#$%&'*+.^_`|~- only",
  [MEMBER_NAME_PATTERN]: "is not a valid member name (letters, digits, ., _, @ and -)",
  [OBJECT_NAME_PATTERN]: "is not a valid name (letters, digits, _, . and -, starting with a letter)",
  [ROTATION_PERIOD_PATTERN]: "is not a rotation period such as 90d, 12w, 6m or 1y",
  [SECRETS_DIR_PATTERN]: "must be a folder inside the repository, relative to stellar.yaml (no .., not the root itself)",
  [CONFIG_GLOB_PATTERN]: "must be a glob inside the repository, relative to stellar.yaml (no leading /, no .. segment, no backslash)",
  [SINGLE_LINE_PATTERN]: "must not contain a line break or NUL character",
  [PROBE_PATH_PATTERN]:
    "must be a path relative to base_url: one leading / (not // or /\\), no spaces, no { } (no templating or secret reference) and no #fragment, e.g. /v1/account",
  [PROBE_TIMEOUT_PATTERN]: "is not a timeout such as 10s or 1500ms",
  "^https?://": "must be an http(s) URL",
  "^/": "must start with /",
  [ACTION_PATH_PATTERN]: "must be a path relative to the connection's base_url: one leading / (not // or /\\, which a URL parser reads as another host that would get the connection's credentials), e.g. /v1/tickets",
};

/** Patterns no valid value of which has a space at either end: a value that matches once trimmed had one pasted with it. */
const TRIMMED_FIX = new Set([HEADER_NAME_PATTERN, MEMBER_KEY_PATTERN, AGE_RECIPIENT_PATTERN, ENVIRONMENT_NAME_PATTERN, MEMBER_NAME_PATTERN, OBJECT_NAME_PATTERN]);

function describe(e: ErrorObject, actual: string | undefined): { message: string; suggestion?: string } {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required":
      return { message: `missing required field "${String(p.missingProperty)}"` };
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
    case "pattern": {
      const words = PATTERN_WORDS[String(p.pattern)] ?? `does not match the pattern ${String(p.pattern)}`;
      // a value with a space (or tab, line break) before or after it (`"X-Api-Key "`, a member key
      // pasted with a trailing space inside its quotes): the trimmed value is the fix
      const trimmed = actual?.trim();
      if (trimmed !== undefined && trimmed !== "" && trimmed !== actual && TRIMMED_FIX.has(String(p.pattern)) && new RegExp(String(p.pattern), "u").test(trimmed)) {
        return { message: `${words}; did you mean "${trimmed}" (without the spaces around it)?`, suggestion: trimmed };
      }
      return { message: words };
    }
    case "uniqueItems":
      return { message: `has a duplicate entry (items ${String(p.j)} and ${String(p.i)})` };
    case "minProperties":
      return { message: `must have at least ${String(p.limit)} entr${p.limit === 1 ? "y" : "ies"}` };
    case "minItems":
      return { message: `must have at least ${String(p.limit)} item${p.limit === 1 ? "" : "s"}` };
    case "propertyNames":
      return { message: `has an invalid name` };
    default:
      return { message: e.message ?? `fails ${e.keyword}` };
  }
}

type SchemaObject = Record<string, unknown>;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Follows local `$ref`s (`#/$defs/x`) from `s`. */
function deref(root: SchemaObject, s: unknown): SchemaObject | undefined {
  let cur = s;
  for (let guard = 0; isObject(cur) && typeof cur.$ref === "string" && guard < 8; guard++) {
    const ref = cur.$ref as string;
    if (!ref.startsWith("#")) return undefined;
    let t: unknown = root;
    for (const part of decodePointer(ref.slice(1))) t = isObject(t) ? t[part] : undefined;
    cur = t;
  }
  return isObject(cur) ? cur : undefined;
}

/**
 * True when an `if` schema of the form the schemas use (`properties` with `const`/`enum`,
 * `required`) holds for `data`.
 */
function ifHolds(ifSchema: unknown, data: unknown): boolean {
  if (!isObject(ifSchema) || !isObject(data)) return false;
  const required = Array.isArray(ifSchema.required) ? (ifSchema.required as string[]) : [];
  if (!required.every((k) => k in data)) return false;
  const props = isObject(ifSchema.properties) ? ifSchema.properties : {};
  for (const [k, p] of Object.entries(props)) {
    if (!(k in data) || !isObject(p)) continue;
    if ("const" in p && data[k] !== p.const) return false;
    if (Array.isArray(p.enum) && !p.enum.includes(data[k])) return false;
  }
  return true;
}

/** `type "basic"`: the discriminator an `if` schema tests, in words. */
function branchLabel(ifSchema: unknown): string | undefined {
  if (!isObject(ifSchema) || !isObject(ifSchema.properties)) return undefined;
  for (const [k, p] of Object.entries(ifSchema.properties)) {
    if (isObject(p) && "const" in p) return `${k} ${JSON.stringify(p.const)}`;
  }
  return undefined;
}

/** The `allOf` if/then branches of an object schema, with whether each applies to `data`. */
function branchesOf(root: SchemaObject, s: SchemaObject, data: unknown): { then: SchemaObject; if: unknown; holds: boolean }[] {
  if (!Array.isArray(s.allOf)) return [];
  const out: { then: SchemaObject; if: unknown; holds: boolean }[] = [];
  for (const b of s.allOf) {
    if (!isObject(b) || b.if === undefined) continue;
    const then = deref(root, b.then);
    if (then !== undefined) out.push({ then, if: b.if, holds: ifHolds(b.if, data) });
  }
  return out;
}

/** Properties valid at an object schema for `data`: its own and those of the if/then branches that apply. */
function allowedProperties(root: SchemaObject, s: SchemaObject | undefined, data: unknown): string[] {
  if (s === undefined) return [];
  const out = new Set<string>(isObject(s.properties) ? Object.keys(s.properties) : []);
  for (const b of branchesOf(root, s, data)) {
    if (b.holds && isObject(b.then.properties)) for (const k of Object.keys(b.then.properties)) out.add(k);
  }
  return [...out];
}

/** The schema that applies to the value at `segments` of `value` (through properties, items, branches and `$ref`s). */
function schemaAt(root: SchemaObject, value: unknown, segments: readonly string[]): { schema: SchemaObject | undefined; data: unknown } {
  let s = deref(root, root);
  let data = value;
  for (const seg of segments) {
    if (s === undefined) return { schema: undefined, data: undefined };
    let next: unknown;
    if (isObject(s.properties) && s.properties[seg] !== undefined) next = s.properties[seg];
    for (const b of next === undefined ? branchesOf(root, s, data) : []) {
      if (b.holds && isObject(b.then.properties) && b.then.properties[seg] !== undefined) next = b.then.properties[seg];
    }
    if (next === undefined && s.items !== undefined && /^\d+$/.test(seg)) next = s.items;
    if (next === undefined && isObject(s.additionalProperties)) next = s.additionalProperties;
    s = deref(root, next);
    data = isObject(data) || Array.isArray(data) ? (data as Record<string, unknown>)[seg] : undefined;
  }
  return { schema: s, data };
}

/** True for a `{ secret: NAME }` reference schema. */
function isSecretRef(s: SchemaObject | undefined): boolean {
  return s !== undefined && isObject(s.properties) && s.properties.secret !== undefined && s.type === "object";
}

/** `a string or a secret reference { secret: NAME }`: the alternatives of an anyOf/oneOf in words. */
function alternativesInWords(root: SchemaObject, s: SchemaObject | undefined): string | undefined {
  const list = s === undefined ? undefined : (s.anyOf ?? s.oneOf);
  if (!Array.isArray(list)) return undefined;
  const words = list.map((alt) => {
    const a = deref(root, alt);
    if (isSecretRef(a)) return "a secret reference { secret: NAME }";
    if (a !== undefined && typeof a.type === "string") return a.type === "object" || a.type === "array" ? `an ${a.type}` : `a ${a.type}`;
    return undefined;
  });
  if (words.some((w) => w === undefined)) return undefined;
  return words.join(" or ");
}

/**
 * Validates `value` (the plain form of `root`) with `validator`, mapping each ajv error to the
 * node it concerns: an unknown field at its key, a missing field at the key that holds the object
 * (or its first key), anything else at the value. One diagnostic per range and message, and one
 * for all the missing fields of an object (`missing required fields "a" and "b"`).
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
  // the missing fields of one object, named in one diagnostic at its range: range and path → its index in `out` and the fields
  const missing = new Map<string, { at: number; fields: string[] }>();
  const errors = (validator.errors ?? []).filter((e) => e.keyword !== "if");
  // A YAML merge key (`<<: *base`) is not read: the fields it was to bring are missing there too.
  // One diagnostic at the `<<` says both (its fix gives them back), not a second at the same place.
  const mergeKeyAt = new Set(
    errors
      .filter((e) => (e.keyword === "additionalProperties" || e.keyword === "unevaluatedProperties") && String((e.params as Record<string, unknown>).additionalProperty ?? (e.params as Record<string, unknown>).unevaluatedProperty) === "<<")
      .map((e) => e.instancePath),
  );
  // When a property name is invalid ajv reports the inner error (with `propertyName`) and a wrapping
  // `propertyNames` error; keep only the inner one.
  const hasInner = new Set(errors.filter((e) => (e as { propertyName?: string }).propertyName !== undefined).map((e) => e.instancePath));
  // A bad discriminator (`type: apikey`) makes every type-specific field "unevaluated": report only the discriminator.
  const badDiscriminator = new Set(
    errors.filter((e) => e.keyword === "enum" || e.keyword === "const").map((e) => e.instancePath.replace(/\/[^/]*$/, "")),
  );
  const schemaRoot = validator.schema as SchemaObject;
  // An anyOf/oneOf (a plain string or a secret reference) fails with an error per alternative
  // plus its own: report the problem inside the value when it has the shape of one alternative
  // (an object with a bad `secret`), else one message naming the alternatives.
  const alternativesAt = new Set(errors.filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf").map((e) => e.instancePath));
  const innerAt = (path: string): boolean => errors.some((o) => o.instancePath.startsWith(`${path}/`) || (o.instancePath === path && (o.keyword === "required" || o.keyword === "additionalProperties")));
  // A `type: secret` header with the name under `value:` (as a static header has it): one mistake,
  // reported once at `value` (ajv sees a missing `secret` and an unknown `value`)
  const valueForSecret = new Set(
    errors
      .filter((e) => e.keyword === "required" && (e.params as { missingProperty?: unknown }).missingProperty === "secret")
      .map((e) => e.instancePath)
      .filter((path) => {
        const at = decodePointer(path);
        return /^\/headers\/\d+$/.test(path) && scalarAt(value, [...at, "type"]) === "secret" && scalarAt(value, [...at, "value"]) !== undefined;
      }),
  );
  for (const path of valueForSecret) {
    const segments = decodePointer(path);
    const keyRange = nodeRange(locatePath(locatePath(root, segments).node, ["value"]).keyNode) ?? fallback;
    out.push(
      diagnosticAt(
        "schema",
        severity,
        file,
        lines,
        keyRange,
        `a \`type: secret\` header takes the secret's name as \`secret: NAME\`, not \`value:\`: rename \`value\` to \`secret\` in "${segments.join(".")}"`,
        { suggestion: "secret" },
      ),
    );
  }
  // A `type: static` header with the name under `secret:` and no `value` (a secret header with the
  // wrong type): one mistake, reported once at the type with `secret` as the fix (ajv sees a missing
  // `value` and an unknown `secret`)
  const secretForStatic = new Set(
    errors
      .filter((e) => e.keyword === "required" && (e.params as { missingProperty?: unknown }).missingProperty === "value")
      .map((e) => e.instancePath)
      .filter((path) => {
        const at = decodePointer(path);
        return /^\/headers\/\d+$/.test(path) && scalarAt(value, [...at, "type"]) === "static" && typeof scalarAt(value, [...at, "secret"]) === "string";
      }),
  );
  for (const path of secretForStatic) {
    const segments = decodePointer(path);
    const typeRange = nodeRange(locatePath(locatePath(root, segments).node, ["type"]).node) ?? fallback;
    out.push(
      diagnosticAt(
        "schema",
        severity,
        file,
        lines,
        typeRange,
        `a header that names a secret (\`secret: ${String(scalarAt(value, [...segments, "secret"]))}\`) is \`type: secret\`: a \`type: static\` header takes a plain \`value\` and sends no secret; change \`type\` to \`secret\` in "${segments.join(".")}"`,
        { suggestion: "secret" },
      ),
    );
  }
  // A field written one level too far left, at the document's top: `password:` then `secret: NAME`
  // under it at column 1, or a header's `secret:` (or `prefix:`…) back at the margin after
  // `- name: …`. ajv sees an unknown field of the document and an empty `password` (or a header
  // missing it): one mistake, reported once at the field with the indentation to fix.
  const outdented = outdentedFields(errors, value, root);
  for (const o of outdented) {
    const keyRange = nodeRange(locatePath(root, [o.field]).keyNode) ?? fallback;
    const ownerLine = lines.positionAt(o.ownerStart).line;
    const fix =
      o.owner.length === 1
        ? `indent it under "${o.owner[0]}:" on line ${ownerLine} (two spaces: \`${o.owner[0]}:\` then \`  ${o.field}: …\`), or write \`${o.owner[0]}: { ${o.field}: … }\` on one line`
        : `indent it as the other fields of that header (under the \`- \` of line ${ownerLine}, with spaces)`;
    out.push(
      diagnosticAt(
        "schema",
        severity,
        file,
        lines,
        keyRange,
        `"${o.field}" is written at the left margin, so YAML reads it as a field of the whole document, which takes none of that name; it belongs to "${o.owner.join(".")}" above it: ${fix}`,
      ),
    );
  }
  const outdentedOwner = new Set(outdented.map((o) => `/${o.owner.join("/")}`));
  const outdentedField = new Set(outdented.map((o) => o.field));
  for (const e of errors) {
    if (outdented.length > 0) {
      const prop = e.params as { missingProperty?: unknown; additionalProperty?: unknown; unevaluatedProperty?: unknown };
      if (e.instancePath === "" && outdentedField.has(String(prop.additionalProperty ?? prop.unevaluatedProperty))) continue;
      if (outdentedOwner.has(e.instancePath)) continue;
    }
    if (e.keyword === "required" && mergeKeyAt.has(e.instancePath)) continue;
    if (secretForStatic.has(e.instancePath)) {
      const prop = (e.params as { missingProperty?: unknown; additionalProperty?: unknown; unevaluatedProperty?: unknown });
      if (prop.missingProperty === "value" || prop.additionalProperty === "secret" || prop.unevaluatedProperty === "secret") continue;
    }
    if (valueForSecret.has(e.instancePath)) {
      const prop = (e.params as { missingProperty?: unknown; additionalProperty?: unknown; unevaluatedProperty?: unknown });
      if (prop.missingProperty === "secret" || prop.additionalProperty === "value" || prop.unevaluatedProperty === "value") continue;
    }
    if (e.keyword === "propertyNames" && hasInner.has(e.instancePath)) continue;
    if (e.keyword === "unevaluatedProperties" && badDiscriminator.has(e.instancePath)) continue;
    if (alternativesAt.has(e.instancePath)) {
      const inner = innerAt(e.instancePath);
      if (e.keyword === "anyOf" || e.keyword === "oneOf" ? inner : !inner || e.keyword === "type") continue;
    }
    // a link written as the file that defines the object (`auth: connectors/stripe.yaml`): the
    // checker's unknown-reference says which name to write; the pattern error would be a second finding
    if (e.keyword === "pattern" && /^\/(?:auth|connection|actions\/\d+)$/.test(e.instancePath) && isFileLike(dataAt(value, decodePointer(e.instancePath)))) continue;
    let override: { message: string; suggestion?: string } | undefined;
    /** The override's message names its place already ("in …" is not appended). */
    let placed = false;
    if (e.keyword === "minItems" && e.instancePath === "/environments") {
      // an empty list is not "every environment" (that is the field left out): the object would be used in none
      const kind = isObject(value) && typeof value.kind === "string" ? value.kind : "object";
      const doing = kind === "agent" ? "runs" : "is used";
      override = {
        message: `lists no environment, so this ${kind} ${doing} in none: list the environments it ${doing} in (\`environments: [production]\`, names from stellar.yaml), or remove the field for every environment`,
      };
    } else if (e.keyword === "unevaluatedProperties" || e.keyword === "additionalProperties") {
      // A branch that fails (a missing field, a wrong value) leaves its own fields "unevaluated":
      // its failure is reported on its own; a field the declared type allows is never "unknown".
      const prop = String((e.params as Record<string, unknown>).unevaluatedProperty ?? (e.params as Record<string, unknown>).additionalProperty);
      const at = schemaAt(schemaRoot, value, decodePointer(e.instancePath));
      const allowed = allowedProperties(schemaRoot, at.schema, at.data);
      if (allowed.includes(prop)) continue;
      // Without a valid discriminator (`type` missing or unknown: reported on its own) no branch
      // applies, and a field of any branch is not "unknown".
      const branches = at.schema === undefined ? [] : branchesOf(schemaRoot, at.schema, at.data);
      if (branches.length > 0 && !branches.some((b) => b.holds) && branches.some((b) => isObject(b.then.properties) && b.then.properties[prop] !== undefined)) continue;
      const near = nearestName(prop, allowed);
      const declared = at.schema === undefined ? [] : branchesOf(schemaRoot, at.schema, at.data).filter((b) => b.holds);
      const owners = at.schema === undefined ? [] : branchesOf(schemaRoot, at.schema, at.data).filter((b) => !b.holds && isObject(b.then.properties) && b.then.properties[prop] !== undefined);
      const declaredLabel = declared.length === 1 ? branchLabel(declared[0]?.if) : undefined;
      const ownerLabels = owners.map((b) => branchLabel(b.if)).filter((l): l is string => l !== undefined);
      if (near === undefined && declaredLabel !== undefined && ownerLabels.length > 0) {
        override = { message: `unknown field "${prop}": ${declaredLabel} does not use it (${ownerLabels.join(", ")} ${ownerLabels.length === 1 ? "does" : "do"})` };
      } else {
        override = near === undefined ? { message: `unknown field "${prop}"` } : { message: `unknown field "${prop}"; did you mean "${near.name}"?`, suggestion: near.name };
      }
      // YAML 1.1's merge key: the `yaml` parser (YAML 1.2) reads it as a plain key
      if (prop === "<<") {
        const lacking = errors
          .filter((o) => o.keyword === "required" && o.instancePath === e.instancePath)
          .map((o) => `"${String((o.params as { missingProperty?: unknown }).missingProperty)}"`);
        const list = lacking.length <= 1 ? lacking.join("") : `${lacking.slice(0, -1).join(", ")} and ${lacking[lacking.length - 1] as string}`;
        const path = decodePointer(e.instancePath);
        override = {
          message:
            `unknown field "<<"${path.length > 0 ? ` in "${path.join(".")}"` : ""}: YAML merge keys are not read (YAML 1.2)` +
            `${lacking.length === 0 ? "" : `, so this mapping lacks ${list}`}; write the fields out, or alias the whole mapping (*name)`,
        };
        placed = true;
      }
    } else if (e.keyword === "type" && e.instancePath === "/environments" && Array.isArray(dataAt(value, ["environments"])) && String((schemaRoot as { $id?: unknown }).$id).endsWith("/stellar.schema.json")) {
      // stellar.yaml's environments written as a list (as an agent's `environments:` is)
      const names = (dataAt(value, ["environments"]) as unknown[]).filter((n): n is string => typeof n === "string");
      const first = names[0] ?? "development";
      override = {
        message: `must map each environment to its members, not list names: write each one as a key with its members (\`${first}:\` then \`  members:\` then \`    alice: age1…\`, one line per member's public key); until then no command knows which environments exist or who may read them (\`stellar-secrets init\` writes the layout)`,
      };
    } else if (
      e.keyword === "type" &&
      (e.params as { type?: unknown }).type === "array" &&
      (e.instancePath === "/environments" || e.instancePath === "/actions") &&
      typeof dataAt(value, decodePointer(e.instancePath)) === "string" &&
      !String((schemaRoot as { $id?: unknown }).$id).endsWith("/stellar.schema.json")
    ) {
      // `environments: production` (or `production, staging`): a list is written in brackets
      const field = e.instancePath.slice(1);
      const items = (dataAt(value, [field]) as string).split(/[\s,]+/).filter((w) => w !== "");
      const list = `[${items.join(", ")}]`;
      override =
        items.length === 0
          ? { message: `must be a list (\`${field}: [NAME, …]\`), not a string` }
          : { message: `must be a list, not a string: write ${field}: ${list} (in brackets, even for one)`, suggestion: list };
    } else if (e.keyword === "enum" && /^\/headers\/\d+\/type$/.test(e.instancePath) && typeof dataAt(value, decodePointer(e.instancePath)) === "string" && HEADER_SCHEMES.has((dataAt(value, decodePointer(e.instancePath)) as string).toLowerCase())) {
      // `type: bearer` (an auth scheme where the header's type goes): a secret header with the scheme as its prefix
      const written = dataAt(value, decodePointer(e.instancePath)) as string;
      const scheme = HEADER_SCHEMES.get(written.toLowerCase());
      override = {
        message: `must be "secret" or "static", not an auth scheme: a header that sends a secret is type: secret${scheme === undefined ? "" : `, with the scheme as its prefix (prefix: "${scheme} ", in quotes: the space belongs to it)`}`,
        suggestion: "secret",
      };
    } else if (e.keyword === "anyOf" || e.keyword === "oneOf") {
      const words = alternativesInWords(schemaRoot, schemaAt(schemaRoot, value, decodePointer(e.instancePath)).schema);
      if (words !== undefined) override = { message: `must be ${words}` };
    } else if (e.keyword === "type" && decodePointer(e.instancePath).at(-1) === "secret" && Array.isArray(dataAt(value, decodePointer(e.instancePath)))) {
      // `{ secret: [stripe_api_key] }`: a reference names one secret
      const items = dataAt(value, decodePointer(e.instancePath)) as unknown[];
      const only = items.length === 1 && typeof items[0] === "string" ? items[0] : undefined;
      override =
        only !== undefined
          ? { message: `must be one secret's name, not a list: write \`secret: ${only}\` (one reference names one secret)`, suggestion: only }
          : { message: "must be one secret's name, not a list: write `secret: NAME` (one reference names one secret; each header or field takes its own)" };
    } else if (e.keyword === "type" && isSecretRef(schemaAt(schemaRoot, value, decodePointer(e.instancePath)).schema)) {
      override = { message: "must be a secret reference { secret: NAME }, not a plain value" };
    } else if (e.keyword === "type" && e.instancePath === "/auth" && isSecretReferenceAt(value, ["auth"])) {
      // a connection's `auth: { secret: stripe_api_key }`: auth names an auth connector, which holds the reference
      const secret = (dataAt(value, ["auth"]) as { secret: string }).secret;
      override = {
        message: `${AUTH_NOT_A_SECRET} { secret: ${secret} }: write auth: NAME, the name of the auth connector (kind: auth_connector) whose credential field holds { secret: ${secret} } (type: bearer_token with token: { secret: ${secret} }, …)`,
      };
    } else if (e.keyword === "type" && isSecretReferenceAt(value, decodePointer(e.instancePath))) {
      // a reference where none is read: say where references go (a static header is the usual case)
      const segs = decodePointer(e.instancePath);
      const where =
        segs.length === 3 && segs[0] === "headers" && segs[2] === "value"
          ? "a header takes a secret as `type: secret` with `secret: NAME`"
          : "only the `secret:` of a `type: secret` header and an auth connector's credential fields take one";
      override = { message: `must be ${String((e.params as { type?: unknown }).type).replace(/,/g, " or ")}: it takes no secret reference { secret: NAME } (${where})` };
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
    const described = override ?? describe(e, actual);
    const suggestion = described.suggestion;
    let message = described.message;
    // a one-line block scalar (`value: |` or `>`) keeps the line break at its end: the usual cause
    const node = located.node as { type?: unknown } | undefined;
    if (override === undefined && e.keyword === "pattern" && String((e.params as { pattern?: unknown }).pattern) === SINGLE_LINE_PATTERN && (node?.type === "BLOCK_LITERAL" || node?.type === "BLOCK_FOLDED") && typeof actual === "string" && /^[^\n\r\0]+\n$/.test(actual)) {
      message = `${message}: a block scalar (\`|\` or \`>\`) keeps the line break at its end; write the value on the line, or use \`|-\` or \`>-\``;
    }
    const text =
      e.keyword === "required" || e.keyword === "additionalProperties" || e.keyword === "unevaluatedProperties"
        ? segments.length > 0 && !placed
          ? `${message} in "${segments.join(".")}"`
          : message
        : `${subject} ${message}`;
    const id = `${range.start}:${range.end}:${text}`;
    if (seen.has(id)) continue;
    seen.add(id);
    if (e.keyword === "required" && override === undefined) {
      const field = String(p.missingProperty);
      const where = `${range.start}:${range.end}:${segments.join("\u0000")}`;
      const earlier = missing.get(where);
      if (earlier !== undefined) {
        // another missing field of the same object: one diagnostic names them all (an editor stacks two at one range)
        earlier.fields.push(field);
        const quoted = earlier.fields.map((f) => `"${f}"`);
        const list = `${quoted.slice(0, -1).join(", ")} and ${quoted[quoted.length - 1] as string}`;
        const d = out[earlier.at] as Diagnostic;
        out[earlier.at] = { ...d, message: `missing required fields ${list}${segments.length > 0 ? ` in "${segments.join(".")}"` : ""}` };
        continue;
      }
      missing.set(where, { at: out.length, fields: [field] });
    }
    out.push(diagnosticAt("schema", severity, file, lines, range, text, suggestion === undefined ? undefined : { suggestion }));
  }
  return out;
}

/** The value at `segments` of parsed data (undefined when the path leads nowhere). */
/** A connector's fields that take `{ secret: NAME }` (or, for the last two, a plain value). */
const REFERENCE_FIELDS = new Set(["api_key", "token", "password", "client_secret", "username", "client_id"]);
/** A header's fields. */
const HEADER_FIELDS = new Set(["name", "type", "secret", "value", "prefix"]);

/**
 * The document's unknown top-level fields that belong, one indentation level in, to the field
 * before them ({@link schemaDiagnostics}): `secret` after an empty reference field, a header's
 * field after a `headers` list whose last entry lacks it. `owner` is the path it belongs to,
 * `ownerStart` where that field's key starts.
 */
function outdentedFields(errors: readonly ErrorObject[], value: unknown, root: Node | null | undefined): { field: string; owner: string[]; ownerStart: number }[] {
  if (!isMap(root) || !isObject(value)) return [];
  const out: { field: string; owner: string[]; ownerStart: number }[] = [];
  for (const e of errors) {
    if (e.instancePath !== "" || (e.keyword !== "additionalProperties" && e.keyword !== "unevaluatedProperties")) continue;
    const params = e.params as Record<string, unknown>;
    const field = String(params.additionalProperty ?? params.unevaluatedProperty);
    const index = root.items.findIndex((p) => isScalarKey(p.key, field));
    if (index <= 0 || out.some((o) => o.field === field)) continue;
    const before = root.items[index - 1]!;
    const ownerKey = (before.key as { value?: unknown } | null)?.value;
    const ownerStart = nodeRange(before.key as Node)?.start;
    if (typeof ownerKey !== "string" || ownerStart === undefined) continue;
    const ownerValue = value[ownerKey];
    if (field === "secret" && REFERENCE_FIELDS.has(ownerKey) && ownerValue === null) {
      out.push({ field, owner: [ownerKey], ownerStart });
    } else if (ownerKey === "headers" && HEADER_FIELDS.has(field) && Array.isArray(ownerValue) && ownerValue.length > 0) {
      const last = ownerValue[ownerValue.length - 1];
      const lastNode = isSeq(before.value) ? before.value.items[before.value.items.length - 1] : undefined;
      const lastStart = nodeRange(lastNode as Node)?.start;
      if (isObject(last) && !(field in last) && lastStart !== undefined) out.push({ field, owner: ["headers", String(ownerValue.length - 1)], ownerStart: lastStart });
    }
  }
  return out;
}

function isScalarKey(key: unknown, name: string): boolean {
  return typeof key === "object" && key !== null && (key as { value?: unknown }).value === name;
}

function dataAt(data: unknown, segments: readonly string[]): unknown {
  let at = data;
  for (const seg of segments) {
    if (Array.isArray(at)) at = at[Number(seg)];
    else if (at !== null && typeof at === "object") at = (at as Record<string, unknown>)[seg];
    else return undefined;
  }
  return at;
}
