/**
 * The environment the extension adds to the language server's process (vscode-languageclient
 * merges it over the editor's own). The server makes no TLS connection (it reads files and runs
 * git), so a `NODE_EXTRA_CA_CERTS` of the editor's environment (corporate proxies set it) would only
 * make node read and parse a certificate bundle at every start: ~40 ms of a ~300 ms initial index
 * here. An empty value is node's "not set". Git, which the server runs, has its own CA settings.
 */
export function serverProcessEnv(): Record<string, string> {
  return { NODE_EXTRA_CA_CERTS: "" };
}
