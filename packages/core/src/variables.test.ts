import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { applySeverities, checkWorkspace } from "./check.js";
import { loadWorkspace } from "./load.js";
import { parseEnvironmentFile } from "./secrets-dir.js";
import { describeProxyVariableName, describeStartupVariableName, isStartupVariable, secretVariableName } from "./variables.js";

const FIXTURE = join(fileURLToPath(new URL(".", import.meta.url)), "../../../test/fixtures/checker/references");

describe("secret names as exec/export variables", () => {
  it("a name becomes its upper-cased variable; the loader's, the shells' and the runtimes' variables are startup variables", () => {
    expect(secretVariableName("node_options")).toBe("NODE_OPTIONS");
    for (const v of ["NODE_OPTIONS", "LD_PRELOAD", "DYLD_INSERT_LIBRARIES", "PATH", "BASH_ENV", "PYTHONPATH"]) expect(isStartupVariable(v)).toBe(true);
    for (const v of ["STRIPE_API_KEY", "PATHS", "NODE_ENV"]) expect(isStartupVariable(v)).toBe(false);
  });

  it("git's configuration in variables, the pager and editor others run, HOME and npm's config are startup variables too (checker session 5: names valid here, not for exec)", () => {
    for (const v of ["GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0", "GIT_CONFIG_GLOBAL", "GIT_PAGER", "GIT_EXTERNAL_DIFF", "PAGER", "EDITOR", "LESSOPEN", "HOME", "XDG_CONFIG_HOME", "ZDOTDIR", "NPM_CONFIG_SCRIPT_SHELL", "PYTHONWARNINGS"]) {
      expect(isStartupVariable(v), v).toBe(true);
    }
    for (const v of ["GITHUB_TOKEN", "GIT_AUTHOR_NAME", "HOMEBREW_GITHUB_API_TOKEN", "EDITOR_API_KEY", "NPM_TOKEN"]) expect(isStartupVariable(v), v).toBe(false);
    expect(describeStartupVariableName("git_config_parameters")).toContain("would set GIT_CONFIG_PARAMETERS");
  });

  it("trust variables (a CA added, TLS checks off, session keys logged) are startup variables, said as such; proxies are not (checker session 6, item 3)", () => {
    for (const v of ["NODE_EXTRA_CA_CERTS", "NODE_TLS_REJECT_UNAUTHORIZED", "SSL_CERT_FILE", "SSL_CERT_DIR", "SSLKEYLOGFILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_NO_VERIFY", "GIT_SSL_CAINFO"]) {
      expect(isStartupVariable(v), v).toBe(true);
    }
    for (const v of ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_PASSWORD"]) expect(isStartupVariable(v), v).toBe(false);
    expect(describeStartupVariableName("node_extra_ca_certs")).toContain("would set NODE_EXTRA_CA_CERTS in `stellar-secrets exec` and `export --format dotenv|shell`, a variable with which a program trusts other TLS certificates");
    expect(describeStartupVariableName("https_proxy")).toBeUndefined();
    expect(describeProxyVariableName("https_proxy")).toContain("secret \"https_proxy\" sets HTTPS_PROXY in `stellar-secrets exec`");
    expect(describeProxyVariableName("stripe_api_key")).toBeUndefined();
  });

  it("says which variable a name would set, that exec and export refuse it, and the rename that fixes it", () => {
    expect(describeStartupVariableName("stripe_api_key")).toBeUndefined();
    expect(describeStartupVariableName("node_options")).toBe(
      'secret "node_options" would set NODE_OPTIONS in `stellar-secrets exec` and `export --format dotenv|shell`, a variable with which a program loads or runs other code, so both refuse it (STARTUP_VARIABLE) when a deploy runs them; rename it to a name that says its service: `stellar-secrets rename node_options NEW_NAME` prints the steps',
    );
  });

  it("check warns (invalid-secret-name, severity warning) at the name's key in each environment file, before any deploy", async () => {
    const { encryptSecrets, generateIdentity } = await import("@stellar-secrets/sops");
    const { index } = loadWorkspace(FIXTURE, { atRoot: true });
    const recipient = (await generateIdentity()).recipient;
    // TEST-ONLY fake values
    const text = await encryptSecrets(new Map([["ld_preload", "fake"], ["stripe_api_key", "fake"], ["node_options", "fake"]]), { recipients: [recipient] });
    index.setEnvironmentFile(parseEnvironmentFile(text, "secrets/development.enc.yaml", "development"));
    const startup = checkWorkspace(index).filter((d) => d.rule === "invalid-secret-name");
    expect(startup.map((d) => [d.severity, d.file, d.line, d.column, d.secret])).toEqual([
      ["warning", "secrets/development.enc.yaml", 1, 1, "ld_preload"],
      ["warning", "secrets/development.enc.yaml", 3, 1, "node_options"],
    ]);
    expect(startup[0]?.message).toContain("would set LD_PRELOAD");
    // the rule's configured severity applies to it as to every invalid-secret-name
    expect(applySeverities(startup, { "invalid-secret-name": "error" }).map((d) => d.severity)).toEqual(["error", "error"]);
    expect(applySeverities(startup, { "invalid-secret-name": "off" })).toEqual([]);
  });

  it("check: a trust variable's name is the startup warning, a proxy's an info at its key (checker session 6, item 3)", async () => {
    const { encryptSecrets, generateIdentity } = await import("@stellar-secrets/sops");
    const { index } = loadWorkspace(FIXTURE, { atRoot: true });
    const recipient = (await generateIdentity()).recipient;
    // TEST-ONLY fake values
    const text = await encryptSecrets(new Map([["https_proxy", "fake"], ["node_extra_ca_certs", "fake"], ["stripe_api_key", "fake"]]), { recipients: [recipient] });
    index.setEnvironmentFile(parseEnvironmentFile(text, "secrets/development.enc.yaml", "development"));
    const named = checkWorkspace(index).filter((d) => d.rule === "invalid-secret-name");
    expect(named.map((d) => [d.severity, d.file, d.line, d.column, d.secret])).toEqual([
      ["info", "secrets/development.enc.yaml", 1, 1, "https_proxy"],
      ["warning", "secrets/development.enc.yaml", 2, 1, "node_extra_ca_certs"],
    ]);
    expect(named[0]?.message).toContain("every request of the deploy's programs goes where its value says");
    expect(named[1]?.message).toContain("would set NODE_EXTRA_CA_CERTS");
  });
});
