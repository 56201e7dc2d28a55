/**
 * Secret names as environment variables (what `stellar-secrets exec` and `export --format
 * dotenv|shell` set): the variable a name becomes, and the variables with which a value would make
 * a program load or run other code. The CLI refuses to set those; the checker warns about a name
 * that would, long before a deploy runs `exec`.
 */
import { quoteName } from "./names.js";

/** The environment variable `exec` and `export --format dotenv|shell` set for secret `name`: the name upper-cased. */
export function secretVariableName(name: string): string {
  return name.toUpperCase();
}

/**
 * Variables with which a value would make `exec`'s command (or a program it starts) load or run
 * other code, or run other programs: the dynamic loader's (`LD_*`, `DYLD_*`), the shells'
 * (`BASH_ENV`, `ENV`, `PS4`, `PROMPT_COMMAND`, `SHELLOPTS`, `BASHOPTS`, `IFS`, `PATH`), the
 * runtimes' (`NODE_OPTIONS`, `PYTHONPATH`, `PERL5OPT`, `RUBYOPT`, `JAVA_TOOL_OPTIONS`, …), git's
 * configuration and the programs it runs (`GIT_CONFIG_*`, `GIT_PAGER`, …), the programs others run
 * (`PAGER`, `EDITOR`, `LESSOPEN`, …), and where per-user configuration is read from (`HOME`). A secret
 * with such a name (which anyone who can propose a value can create) must not set one silently.
 */
const STARTUP_VARIABLES: ReadonlySet<string> = new Set([
  "PATH", "IFS", "BASH_ENV", "ENV", "PS4", "PROMPT_COMMAND", "SHELLOPTS", "BASHOPTS",
  "NODE_OPTIONS", "NODE_PATH", "NODE_REPL_EXTERNAL_MODULE",
  "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONINSPECT", "PYTHONUSERBASE",
  "PERL5OPT", "PERL5LIB", "PERLLIB", "RUBYOPT", "RUBYLIB",
  "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH",
  "GCONV_PATH", "GIT_SSH_COMMAND", "GIT_SSH", "GIT_EXEC_PATH", "GIT_ASKPASS", "SSH_ASKPASS",
  // git's configuration given in variables (core.pager, core.fsmonitor, core.sshCommand, an alias:
  // each runs a program) or read from another file, and the programs git runs by variable
  "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG",
  "GIT_PAGER", "GIT_EDITOR", "GIT_SEQUENCE_EDITOR", "GIT_PROXY_COMMAND", "GIT_EXTERNAL_DIFF", "GIT_TEMPLATE_DIR",
  // the programs other programs run (a pager, an editor, less's input filter, a browser)
  "PAGER", "MANPAGER", "EDITOR", "VISUAL", "LESSOPEN", "LESSCLOSE", "BROWSER",
  // where per-user configuration that names programs is read from (~/.gitconfig, ~/.npmrc, zsh's startup files)
  "HOME", "XDG_CONFIG_HOME", "ZDOTDIR",
  // Python imports the module a warning filter or breakpoint() names
  "PYTHONWARNINGS", "PYTHONBREAKPOINT",
]);

/**
 * Variables with which a value changes whom a program's TLS connections trust, or writes their
 * session keys where others read them: an added certificate authority (`NODE_EXTRA_CA_CERTS`,
 * `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`, …), verification turned off (`NODE_TLS_REJECT_UNAUTHORIZED=0`,
 * `GIT_SSL_NO_VERIFY`), `SSLKEYLOGFILE`. None holds a credential (a path or a flag), and with a proxy
 * each lets whoever set the value read and change every request, the credentials sent in its
 * headers included: startup variables too (refused by exec and export, warned by check).
 */
const TRUST_VARIABLES: ReadonlySet<string> = new Set([
  "NODE_EXTRA_CA_CERTS", "NODE_TLS_REJECT_UNAUTHORIZED", "SSL_CERT_FILE", "SSL_CERT_DIR", "SSLKEYLOGFILE",
  "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "AWS_CA_BUNDLE", "PIP_CERT", "PYTHONHTTPSVERIFY",
  "GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "GIT_SSL_NO_VERIFY", "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
]);

/**
 * Variables that send a program's requests through a proxy. A proxy URL often carries the proxy's
 * password (a credential a deploy behind one needs), so exec and export set them; with TLS intact
 * the proxy sees which hosts are called, not what is sent. `check` says so (info) for a secret of
 * that name: its value decides where every request goes.
 */
const PROXY_VARIABLES: ReadonlySet<string> = new Set(["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "FTP_PROXY", "NO_PROXY"]);

/**
 * Prefixes of such variables: the dynamic loader's, git's `GIT_CONFIG_KEY_<n>`/`GIT_CONFIG_VALUE_<n>`
 * pairs, and npm's configuration (`npm_config_*`, read in any case: `script-shell`, `node-options`).
 */
const STARTUP_PREFIXES: readonly string[] = ["LD_", "DYLD_", "GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_", "NPM_CONFIG_"];

/** True for a variable in {@link STARTUP_VARIABLES} or of a prefix of {@link STARTUP_PREFIXES} (`LD_*`, `DYLD_*`, …). */
export function isStartupVariable(variable: string): boolean {
  return STARTUP_VARIABLES.has(variable) || TRUST_VARIABLES.has(variable) || STARTUP_PREFIXES.some((p) => variable.startsWith(p));
}

/** What a value of startup variable `variable` ({@link isStartupVariable}) makes a program do, as messages say it. */
export function startupVariableEffect(variable: string): string {
  return TRUST_VARIABLES.has(variable)
    ? "with which a program trusts other TLS certificates (or checks none, or writes its session keys to a file)"
    : "with which a program loads or runs other code";
}

/**
 * The note `check` gives (`invalid-secret-name`, severity info) for secret `name` whose variable
 * sends requests through a proxy ({@link PROXY_VARIABLES}), or undefined. exec and export set it.
 */
export function describeProxyVariableName(name: string): string | undefined {
  const variable = secretVariableName(name);
  if (!PROXY_VARIABLES.has(variable)) return undefined;
  return (
    `secret ${quoteName(name)} sets ${variable} in \`stellar-secrets exec\` and \`export --format dotenv|shell\`: every request of the deploy's programs goes where its value says (a proxy sees which hosts are called; with TLS intact, not what is sent). ` +
    `exec and export set it (a proxy URL may carry the proxy's password); review a change of its value as a change of where traffic goes, and keep certificate variables (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, …) out of the secrets: those are refused`
  );
}

/**
 * Why secret `name` cannot go through `exec` or `export --format dotenv|shell` (reported as
 * `invalid-secret-name`, severity warning: references and `get` still work), or undefined when
 * its variable ({@link secretVariableName}) is no startup variable. The message says which variable
 * it would set, that both commands refuse it (STARTUP_VARIABLE), and how to rename it (the
 * `stellar-secrets rename` steps). Names only, never a value.
 */
export function describeStartupVariableName(name: string): string | undefined {
  const variable = secretVariableName(name);
  if (!isStartupVariable(variable)) return undefined;
  return (
    `secret ${quoteName(name)} would set ${variable} in \`stellar-secrets exec\` and \`export --format dotenv|shell\`, a variable ${startupVariableEffect(variable)}, so both refuse it (STARTUP_VARIABLE) when a deploy runs them; ` +
    `rename it to a name that says its service: \`stellar-secrets rename ${name} NEW_NAME\` prints the steps`
  );
}
