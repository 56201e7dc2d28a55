import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { applySeverities, checkWorkspace } from "./check.js";
import { loadWorkspace } from "./load.js";
import { parseEnvironmentFile } from "./secrets-dir.js";
import { describeStartupVariableName, isStartupVariable, secretVariableName } from "./variables.js";

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
});
