/**
 * Where the config files send each secret: the origin (scheme, host and port) of the
 * `base_url` of the api_connection whose requests carry it (in a `type: secret` header of the
 * connection or of one of its actions, or through its auth connector), or of the `token_url` of
 * an `oauth2_client_credentials` connector (whose client credentials go to the token request);
 * an OAuth2 client's secrets also go, as the access token they obtain, to the `base_url` of each
 * connection that uses the connector (`accessToken`).
 * Keyless and pure: config texts in, destinations out. A change that sends a secret to an origin
 * the base never sent it to (a connection's `base_url` pointed at another host, a second
 * connection for the same connector) hands the credential to whoever runs that host, at the next
 * deploy or `stellar-secrets probe`, without any key and without changing a value.
 */
import { isMap, isScalar, parseAllDocuments, type Node } from "yaml";
import { LineIndex } from "../position.js";

/** One secret sent to one origin by one config document. */
export interface SecretDestination {
  secret: string;
  /** The origin (`https://api.stripe.com`), or the URL as written when it is not a URL. */
  origin: string;
  /** The file (as the review's states name it) and 1-based line of the `base_url` / `token_url` that names the origin. */
  file: string;
  line: number;
  /** The document that sends it: `api_connection stripe`, `auth_connector okta`. */
  via: string;
  /**
   * True when what goes to `origin` is the access token an OAuth2 client secret obtains (the
   * connection's `base_url` gets `Authorization: Bearer <token>`), not the secret itself. Absent otherwise.
   */
  accessToken?: true;
}

/** A secret the head sends to an origin the base never sent it to, while the base did send it somewhere. */
export interface NewDestination extends SecretDestination {
  /** The origins the base sent the secret to (sorted). */
  before: string[];
}

type Data = Record<string, unknown>;

interface Parsed {
  kind: string;
  name: string | undefined;
  data: Data;
  file: string;
  urlLine: (field: string) => number;
}

const MAX_TEXT = 8 * 1024 * 1024;

function isData(v: unknown): v is Data {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The `secret:` names in a header list (`{ type: secret, secret: NAME }`). */
function headerSecrets(headers: unknown): string[] {
  if (!Array.isArray(headers)) return [];
  return headers.flatMap((h) => (isData(h) && typeof h.secret === "string" ? [h.secret] : []));
}

/** Every `{ secret: NAME }` (or `secret: NAME`) anywhere in a connector. */
function allSecrets(value: unknown, depth = 0): string[] {
  if (depth > 32) return [];
  if (Array.isArray(value)) return value.flatMap((v) => allSecrets(v, depth + 1));
  if (!isData(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => (k === "secret" && typeof v === "string" ? [v] : allSecrets(v, depth + 1)));
}

function originOf(url: unknown): string | undefined {
  if (typeof url !== "string" || url === "") return undefined;
  try {
    const u = new URL(url);
    return u.origin === "null" ? url : u.origin;
  } catch {
    return url;
  }
}

function parseFile(file: string, text: string): Parsed[] {
  if (text.length > MAX_TEXT || !/\bkind\b/.test(text)) return [];
  let docs;
  try {
    docs = parseAllDocuments(text, { prettyErrors: false });
  } catch {
    return [];
  }
  if (!Array.isArray(docs)) return [];
  const lines = new LineIndex(text);
  const out: Parsed[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) continue;
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch {
      continue;
    }
    if (!isData(data) || typeof data.kind !== "string") continue;
    const contents = doc.contents as Node | null;
    const urlLine = (field: string): number => {
      const pair = isMap(contents) ? contents.items.find((p) => isScalar(p.key) && p.key.value === field) : undefined;
      const at = (pair?.key as Node | undefined)?.range?.[0] ?? contents?.range?.[0] ?? 0;
      return lines.positionAt(at).line;
    };
    out.push({ kind: data.kind, name: typeof data.name === "string" ? data.name : undefined, data, file, urlLine });
  }
  return out;
}

/**
 * The secrets the config files send to each origin, one entry per secret, origin and sending
 * document. `files` gives each config file's text (path as the review's states name it).
 * Never throws: a file or document that does not parse sends nothing.
 */
export function secretDestinations(files: Iterable<readonly [string, string]>): SecretDestination[] {
  const docs = [...files].flatMap(([file, text]) => parseFile(file, text));
  const connectors = new Map<string, Parsed>();
  for (const d of docs) if (d.kind === "auth_connector" && d.name !== undefined && !connectors.has(d.name)) connectors.set(d.name, d);
  const actionSecrets = new Map<string, string[]>();
  for (const d of docs) {
    if (d.kind !== "action" || typeof d.data.connection !== "string") continue;
    actionSecrets.set(d.data.connection, [...(actionSecrets.get(d.data.connection) ?? []), ...headerSecrets(d.data.headers)]);
  }
  const out: SecretDestination[] = [];
  const add = (secrets: readonly string[], origin: string | undefined, d: Parsed, field: string, accessToken = false): void => {
    if (origin === undefined) return;
    for (const secret of new Set(secrets)) out.push({ secret, origin, file: d.file, line: d.urlLine(field), via: `${d.kind} ${d.name ?? "(no name)"}`, ...(accessToken ? { accessToken: true as const } : {}) });
  };
  for (const d of docs) {
    if (d.kind === "api_connection") {
      const connector = typeof d.data.auth === "string" ? connectors.get(d.data.auth) : undefined;
      const oauth2 = connector !== undefined && (connector.data.type === "oauth2_client_credentials" || connector.data.token_url !== undefined);
      const secrets = [...headerSecrets(d.data.headers), ...(d.name === undefined ? [] : (actionSecrets.get(d.name) ?? [])), ...(connector === undefined || oauth2 ? [] : allSecrets(connector.data))];
      add(secrets, originOf(d.data.base_url), d, "base_url");
      // an OAuth2 client's secrets obtain the access token that the connection's requests carry to
      // base_url: a base_url moved elsewhere hands that live token over (s24 newattack)
      if (connector !== undefined && oauth2) add(allSecrets(connector.data).filter((s) => !secrets.includes(s)), originOf(d.data.base_url), d, "base_url", true);
    } else if (d.kind === "auth_connector" && d.data.token_url !== undefined) {
      add(allSecrets(d.data), originOf(d.data.token_url), d, "token_url");
    }
  }
  return out;
}

/**
 * The head's destinations of a secret that the base sent somewhere else only: a secret the base
 * sent to no origin at all (wired for the first time) is not reported, nor an origin the base
 * already used for it. One entry per secret and new origin (the first sending document).
 */
export function newDestinations(base: readonly SecretDestination[], head: readonly SecretDestination[]): NewDestination[] {
  const before = new Map<string, Set<string>>();
  for (const d of base) before.set(d.secret, (before.get(d.secret) ?? new Set()).add(d.origin));
  const seen = new Set<string>();
  const out: NewDestination[] = [];
  for (const d of head) {
    const had = before.get(d.secret);
    if (had === undefined || had.has(d.origin) || seen.has(`${d.secret}\u0000${d.origin}`)) continue;
    seen.add(`${d.secret}\u0000${d.origin}`);
    out.push({ ...d, before: [...had].sort() });
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || (a.secret < b.secret ? -1 : 1)));
}

/**
 * The destinations of `head` that no reviewed state had: one entry per secret and origin that
 * `reviewed` (the destinations of one or more reviewed commits, concatenated) never sent that
 * secret to, with the origins it did send it to in `before` (empty when it sent it nowhere).
 * Unlike {@link newDestinations} (review's gate, which lets a secret wired for the first time
 * through), a secret the reviewed config sent nowhere counts too: `stellar-secrets probe` must
 * not hand any credential to an origin nobody reviewed for it. Pure; sorted by file, line, secret.
 */
export function unreviewedDestinations(reviewed: readonly SecretDestination[], head: readonly SecretDestination[]): NewDestination[] {
  const before = new Map<string, Set<string>>();
  for (const d of reviewed) before.set(d.secret, (before.get(d.secret) ?? new Set()).add(d.origin));
  const seen = new Set<string>();
  const out: NewDestination[] = [];
  for (const d of head) {
    const had = before.get(d.secret);
    const key = `${d.secret}\u0000${d.origin}`;
    if (had?.has(d.origin) === true || seen.has(key)) continue;
    seen.add(key);
    out.push({ ...d, before: [...(had ?? [])].sort() });
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || (a.secret < b.secret ? -1 : 1)));
}
