/**
 * The environment the extension adds to the language server's process (vscode-languageclient
 * merges it over the editor's own). The server makes no TLS connection (it reads files and runs
 * git), so a `NODE_EXTRA_CA_CERTS` of the editor's environment (corporate proxies set it) would only
 * make node read and parse a certificate bundle at every start: ~40 ms of a ~300 ms initial index
 * here. An empty value is node's "not set". Git, which the server runs, has its own CA settings.
 *
 * `SOPS_AGE_KEY` (a private key, when the editor was started with it) is emptied too: the server
 * never decrypts, and it should not hand the key to git and whatever git runs (an fsmonitor hook,
 * a textconv command); an empty value is sops' "not set". The extension's own writes, in the
 * editor's process, still find it there.
 */
export function serverProcessEnv(): Record<string, string> {
  return { NODE_EXTRA_CA_CERTS: "", SOPS_AGE_KEY: "" };
}
