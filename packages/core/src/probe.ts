/**
 * Credential health probes: the meaning of a connection's `probe` (and an OAuth2 connector's
 * token request), as pure functions. `check` validates probes with them and `stellar-secrets
 * probe` builds and classifies its requests with them; the network I/O lives in the CLI.
 */

/** The outcome of one probe. */
export type ProbeStatus = "valid" | "rejected" | "unexpected" | "unreachable" | "no-probe" | "unresolved";

/** Default probe timeout (ms) and the largest one `check` accepts. */
export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;
export const MAX_PROBE_TIMEOUT_MS = 60_000;

/** A connection's `probe`, as declared (after schema validation). */
export interface ProbeConfig {
  method?: "GET" | "HEAD" | "POST";
  path: string;
  valid_statuses?: readonly number[];
  timeout?: string;
}

/** `10s` / `1500ms` → milliseconds; undefined for anything else. */
export function parseProbeTimeout(text: string): number | undefined {
  const m = /^([1-9][0-9]{0,5})(ms|s)$/.exec(text);
  if (m === null) return undefined;
  return Number(m[1]) * (m[2] === "s" ? 1000 : 1);
}

/** True for hosts that never leave the machine: `localhost`, `127.0.0.0/8`, `::1` (as `URL#hostname` writes them). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === "localhost" || h.endsWith(".localhost") || h === "[::1]" || h === "::1" || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/**
 * Why credentials may not be sent to `url` (undefined when they may): only `https:`, or `http:`
 * to a loopback host. Never includes anything but the scheme and host.
 */
export function insecureReason(url: URL): string | undefined {
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return undefined;
  if (url.protocol === "http:") return `plain http to ${url.hostname}: credentials are only sent over https (or http to localhost, 127.0.0.1, ::1)`;
  return `scheme ${url.protocol} is not http(s)`;
}

/**
 * The URL a probe is sent to: `base_url` + `path` (as the runtime joins an action's path, without
 * a doubled `/`). Throws a plain `Error` when the result is not a URL or has another origin than
 * `base_url` (a path must never move the request, and the credentials, to another host).
 */
export function probeUrl(baseUrl: string, path: string): URL {
  const base = new URL(baseUrl);
  const joined = new URL(baseUrl.replace(/\/+$/, "") + path);
  if (joined.origin !== base.origin) throw new Error(`the probe path leads to ${joined.origin}, not to the connection's origin ${base.origin}`);
  return joined;
}

/** What an HTTP status means for a probe: `valid_statuses` (default any 2xx) → valid; 401/403 → rejected; else unexpected. */
export function classifyStatus(status: number, validStatuses?: readonly number[]): "valid" | "rejected" | "unexpected" {
  if (validStatuses !== undefined ? validStatuses.includes(status) : status >= 200 && status < 300) return "valid";
  if (status === 401 || status === 403) return "rejected";
  return "unexpected";
}

const CREDENTIAL_PARAM = /^(?:api[_-]?key|apikey|key|token|access[_-]?token|auth|authorization|secret|client[_-]?secret|password|passwd|pwd|sig|signature|session)$/i;

/**
 * The name of a query parameter of `path` that carries a credential (`?api_key=…`,
 * `&token=…` with a value), or undefined. Probes send credentials in headers only: a credential in
 * the path would sit in plain text in the config and in every server's access log.
 */
export function credentialQueryParam(path: string): string | undefined {
  return credentialQueryParamAt(path)?.name;
}

/**
 * {@link credentialQueryParam} with where its value is in `path` (`start`, `end`: offsets of the
 * text after `=`), for a diagnostic that covers the value only.
 */
export function credentialQueryParamAt(path: string): { name: string; start: number; end: number } | undefined {
  const q = path.indexOf("?");
  if (q === -1) return undefined;
  let offset = q + 1;
  for (const part of path.slice(q + 1).split("&")) {
    const partStart = offset;
    offset += part.length + 1;
    const eq = part.indexOf("=");
    if (eq <= 0 || eq === part.length - 1) continue;
    // a template (`{{ … }}`, `${…}`) is no credential in plain text (a secret's name there is the checker's to judge)
    if (/[{}]|\$\(/.test(part.slice(eq + 1))) continue;
    let name = part.slice(0, eq);
    try {
      name = decodeURIComponent(name);
    } catch {
      // keep the raw name
    }
    if (CREDENTIAL_PARAM.test(name)) return { name, start: partStart + eq + 1, end: partStart + part.replace(/#.*$/, "").length };
  }
  return undefined;
}
