/**
 * The one place `stellar-secrets probe` talks to the network: one probe request over node:http /
 * node:https, with a deadline, redirects followed only within the first URL's origin (a redirect
 * elsewhere is reported, never followed, so credentials never reach another host), and errors
 * turned into short reasons that hold no header, body or value.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { rootCertificates } from "node:tls";
import { insecureReason } from "@stellar-secrets/core";

/** One request to send. `headers` hold credentials: they go to `url`'s origin and nowhere else. */
export interface ProbeRequest {
  method: "GET" | "HEAD" | "POST";
  url: URL;
  headers: Readonly<Record<string, string>>;
  /** A form body (OAuth2 token requests). */
  body?: string;
  timeoutMs: number;
  /** Read up to 64 KiB of the answer as JSON (OAuth2 token answers); other answers are not read. */
  readJson?: boolean;
}

/** What came back: an HTTP status (after same-origin redirects), or why nothing did. */
export type ProbeAnswer =
  | {
      kind: "status";
      status: number;
      /** The JSON body when asked for and parseable. Holds credentials (an access token): never print it. */
      json?: unknown;
      /** A redirect to another origin that was not followed (only the origin, never the path or query). */
      offOrigin?: string;
    }
  | { kind: "unreachable"; reason: string };

/** Options of {@link sendProbe}. */
export interface SendOptions {
  /** Extra PEM certificates to trust for https, on top of node's default roots (`--ca`). */
  ca?: readonly string[];
}

const MAX_REDIRECTS = 5;
const MAX_JSON_BYTES = 64 * 1024;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

class Timeout extends Error {
  override readonly name = "Timeout";
}

/**
 * Sends `request` and resolves to its answer; never rejects. Refuses (as `unreachable`) a URL
 * that credentials may not go to: only https, or http to a loopback host.
 */
export async function sendProbe(request: ProbeRequest, options: SendOptions = {}): Promise<ProbeAnswer> {
  const insecure = insecureReason(request.url);
  if (insecure !== undefined) return { kind: "unreachable", reason: `not sent: ${insecure}` };
  const origin = request.url.origin;
  const deadline = Date.now() + request.timeoutMs;
  let url = new URL(request.url.href);
  url.username = "";
  url.password = "";
  let method = request.method;
  let body = request.body;
  for (let hop = 0; ; hop++) {
    let answer: { status: number; location: string | undefined; json?: unknown };
    try {
      answer = await once(method, url, request.headers, body, deadline, request.readJson === true, options);
    } catch (error) {
      return { kind: "unreachable", reason: reasonOf(error, request.timeoutMs) };
    }
    if (!REDIRECTS.has(answer.status) || answer.location === undefined) {
      return answer.json === undefined ? { kind: "status", status: answer.status } : { kind: "status", status: answer.status, json: answer.json };
    }
    let next: URL;
    try {
      next = new URL(answer.location, url);
    } catch {
      return { kind: "status", status: answer.status };
    }
    if (next.origin !== origin) return { kind: "status", status: answer.status, offOrigin: next.protocol === "http:" || next.protocol === "https:" ? next.origin : next.protocol };
    if (hop + 1 >= MAX_REDIRECTS) return { kind: "unreachable", reason: `more than ${MAX_REDIRECTS} redirects` };
    // RFC 9110 §15.4: 303 (and, as browsers do, 301/302 after a POST) become a GET without a body
    if (answer.status === 303 || ((answer.status === 301 || answer.status === 302) && method === "POST")) {
      if (method !== "HEAD") method = "GET";
      body = undefined;
    }
    url = next;
  }
}

function once(
  method: string,
  url: URL,
  headers: Readonly<Record<string, string>>,
  body: string | undefined,
  deadline: number,
  readJson: boolean,
  options: SendOptions,
): Promise<{ status: number; location: string | undefined; json?: unknown }> {
  return new Promise((resolve, reject) => {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      reject(new Timeout());
      return;
    }
    const sendHeaders: Record<string, string> = { ...headers };
    if (body !== undefined) sendHeaders["Content-Length"] = String(Buffer.byteLength(body));
    const https = url.protocol === "https:";
    const req = (https ? httpsRequest : httpRequest)(url, {
      method,
      headers: sendHeaders,
      agent: false,
      ...(https && options.ca !== undefined && options.ca.length > 0 ? { ca: [...rootCertificates, ...options.ca] } : {}),
    });
    const timer = setTimeout(() => req.destroy(new Timeout()), remaining);
    const done = (): void => clearTimeout(timer);
    req.on("error", (error) => {
      done();
      reject(error);
    });
    req.on("response", (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const location = typeof res.headers.location === "string" ? res.headers.location : undefined;
      const wantBody = readJson && status >= 200 && status < 500 && !REDIRECTS.has(status);
      if (!wantBody) {
        done();
        res.destroy();
        resolve({ status, location });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_JSON_BYTES) {
          res.destroy();
          done();
          resolve({ status, location });
          return;
        }
        chunks.push(chunk);
      });
      res.on("error", (error) => {
        done();
        reject(error);
      });
      res.on("end", () => {
        done();
        let json: unknown;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          json = undefined;
        }
        resolve(json === undefined ? { status, location } : { status, location, json });
      });
    });
    req.end(body);
  });
}

const TLS_CODE = /^(?:ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_)/;

/** A short reason for a failed request: the kind of failure and node's error code, never a message that could quote a header. */
export function reasonOf(error: unknown, timeoutMs: number): string {
  if (error instanceof Timeout) return `timeout: no answer within ${timeoutMs} ms`;
  const code = typeof (error as { code?: unknown })?.code === "string" ? (error as { code: string }).code : undefined;
  if (code === undefined) return "request failed";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") return `DNS: host not found (${code})`;
  if (code === "ECONNREFUSED") return "TCP: connection refused (ECONNREFUSED)";
  if (code === "ECONNRESET" || code === "EPIPE") return `TCP: connection closed by the server (${code})`;
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH" || code === "ETIMEDOUT") return `TCP: host unreachable (${code})`;
  if (TLS_CODE.test(code)) return `TLS: ${code} (to trust a private CA, pass --ca FILE or set STELLAR_SECRETS_PROBE_CA)`;
  if (/^HPE_/.test(code)) return `HTTP: malformed answer (${code})`;
  return `request failed (${code})`;
}
