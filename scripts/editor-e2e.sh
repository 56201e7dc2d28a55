#!/usr/bin/env bash
# Real-editor tests: the VS Code extension in code-server 4.100.3 (VS Code 1.100.3, the newest
# code-server that runs on Node 20) driven through Debian chromium by playwright-core; then the
# language server in headless Neovim 0.7 (Debian), a client without pull diagnostics.
#
#   scripts/editor-e2e.sh            install (cached), build the .vsix, run the UI test
#   scripts/editor-e2e.sh --install  only install/refresh the cache
#
# The install is cached outside the clone (EDITOR_E2E_CACHE, default /var/cache/stellar-secrets/editor-e2e)
# so a rerun takes seconds. Screenshots and logs go to .test-artifacts/editor-e2e/.
# Expects the workspace to be installed and built already (`npm test` runs scripts/setup.mjs first).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.65.1
CACHE=${EDITOR_E2E_CACHE:-/var/cache/stellar-secrets/editor-e2e}
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
PW_DIR="$CACHE/playwright-core-$PLAYWRIGHT_VERSION"
CS="$CS_DIR/node_modules/.bin/code-server"
ART=${EDITOR_E2E_ARTIFACTS:-$root/.test-artifacts/editor-e2e}
log() { echo "editor-e2e: $*"; }

install_system_packages() {
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
  command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
  [ -f /usr/include/gssapi/gssapi.h ] || missing+=(libkrb5-dev)   # the kerberos native module of code-server
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v nvim >/dev/null 2>&1 || missing+=(neovim)   # a second real LSP client (push diagnostics only)
  # a third real LSP client: Emacs eglot (Debian 12: Emacs 28 and eglot 1.9 from ELPA)
  emacs --batch -q --eval "(progn (package-initialize) (require 'eglot))" >/dev/null 2>&1 || missing+=(emacs-nox elpa-eglot)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_code_server() {
  [ -x "$CS" ] && [ -f "$CS_DIR/.complete" ] && return 0
  log "installing code-server $CODE_SERVER_VERSION into $CS_DIR (once; 2-3 minutes)"
  rm -rf "$CS_DIR"; mkdir -p "$CS_DIR"
  local tmp; tmp=$(mktemp -d -t stellar-cs-setup-XXXX)
  # @vscode/ripgrep's postinstall downloads rg from GitHub, which is unreachable here: seed its
  # download cache with Debian's rg (13.0.0, the upstream version of the v13.0.0-10 asset it expects).
  mkdir -p "$tmp/vscode-ripgrep-cache-1.15.11" "$tmp/rg"
  cp "$(command -v rg)" "$tmp/rg/rg"
  tar czf "$tmp/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$tmp/rg" rg
  printf '{"name":"stellar-editor-e2e-code-server","private":true}\n' > "$CS_DIR/package.json"
  # unsafe_perm: code-server's postinstall refuses to run as root otherwise.
  # yes: node-pty's postinstall runs `npx node-gyp` (npm may be configured with yes=false).
  # nodedir: node-gyp uses the local Node headers instead of downloading them.
  (cd "$CS_DIR" && TMPDIR="$tmp" npm_config_unsafe_perm=true npm_config_yes=true npm_config_nodedir=${NODEDIR:-/usr} \
    npm install --foreground-scripts --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >"$tmp/install.log" 2>&1) \
    || { tail -40 "$tmp/install.log"; log "code-server install failed (log above)"; exit 1; }
  "$CS" --version >/dev/null
  touch "$CS_DIR/.complete"
  rm -rf "$tmp"
}

install_playwright() {
  [ -f "$PW_DIR/.complete" ] && return 0
  log "installing playwright-core $PLAYWRIGHT_VERSION into $PW_DIR"
  rm -rf "$PW_DIR"; mkdir -p "$PW_DIR"
  printf '{"name":"stellar-editor-e2e-driver","private":true,"type":"module"}\n' > "$PW_DIR/package.json"
  (cd "$PW_DIR" && npm install --no-audit --no-fund --loglevel=error "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null)
  touch "$PW_DIR/.complete"
}

install_all() {
  mkdir -p "$CACHE"
  install_system_packages
  install_code_server
  install_playwright
}

install_all
[ "${1:-}" = "--install" ] && { log "cache ready at $CACHE"; exit 0; }
status=0
node "$root/test/editor-e2e/run.mjs" --code-server "$CS" --playwright "$PW_DIR/node_modules/playwright-core/index.mjs" --artifacts "$ART" || status=1
node "$root/test/editor-e2e/neovim.mjs" "$ART" || status=1
node "$root/test/editor-e2e/eglot.mjs" "$ART" || status=1
exit $status
