import { describe, expect, it } from "vitest";
import type { CliError } from "./errors.js";
import { childEnvironment, quoteDotenv, quoteShell, refuseStartupVariables, selectValues, startupVariableNote, variableNames } from "./variables.js";

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as CliError).code;
  }
  return undefined;
};

describe("variableNames", () => {
  it("upper-cases names", () => {
    expect([...variableNames(["stripe_api_key", "a1"])]).toEqual([
      ["stripe_api_key", "STRIPE_API_KEY"],
      ["a1", "A1"],
    ]);
  });
  it("refuses invalid variable names and collisions", () => {
    expect(code(() => variableNames(["my-key"]))).toBe("INVALID_VARIABLE_NAME");
    expect(code(() => variableNames(["1key"]))).toBe("INVALID_VARIABLE_NAME");
    expect(code(() => variableNames(["api_key", "API_KEY"]))).toBe("VARIABLE_COLLISION");
  });
});

describe("selectValues", () => {
  const values = new Map([["b", "2"], ["a", "1"]]);
  it("sorts by name and restricts to --only", () => {
    expect([...selectValues(values, [], "dev").keys()]).toEqual(["a", "b"]);
    expect([...selectValues(values, ["b"], "dev")]).toEqual([["b", "2"]]);
    expect(code(() => selectValues(values, ["c"], "dev"))).toBe("UNKNOWN_SECRET");
  });
  it("suggests the nearest name of the environment for a mistyped --only name", () => {
    const named = new Map([["stripe_api_key", "v"]]);
    try {
      selectValues(named, ["strip_api_key"], "dev");
      expect.unreachable();
    } catch (e) {
      expect((e as CliError).hint).toBe('did you mean "stripe_api_key"?');
    }
  });
});

describe("quoteDotenv", () => {
  it("wraps a value in a quote character it does not contain, escaping nothing", () => {
    expect(quoteDotenv("plain $HOME `x` it's")).toBe('"plain $HOME `x` it\'s"');
    expect(quoteDotenv('a "b" \\n\nline2')).toBe(`'a "b" \\n\nline2'`);
    expect(quoteDotenv(`it's "q"`)).toBe('`it\'s "q"`');
    expect(quoteDotenv("")).toBe('""');
  });
  it("uses single quotes for a value a shell would expand in double quotes ($, backtick), so sourcing the file runs nothing", () => {
    expect(quoteDotenv("a$(touch /tmp/x)b")).toBe("'a$(touch /tmp/x)b'");
    expect(quoteDotenv("a`id`b")).toBe("'a`id`b'");
    expect(quoteDotenv("${HOME} $1")).toBe("'${HOME} $1'");
    // without a shell-active character the common form is unchanged
    expect(quoteDotenv("sk_live_abc+/=#!~")).toBe('"sk_live_abc+/=#!~"');
  });
  it("refuses what neither dotenv nor node --env-file can read back", () => {
    expect(quoteDotenv(`'"\``)).toBeUndefined();
    expect(quoteDotenv("a\r\nb")).toBeUndefined();
    expect(quoteDotenv("a\0b")).toBeUndefined();
  });
});

describe("startupVariableNote (set of a new name whose variable is a startup variable)", () => {
  it("notes a name that exec and export refuse, with the variable and the rule check warns with", () => {
    expect(startupVariableNote("ld_preload")).toMatchInlineSnapshot(`"note: secret "ld_preload" would set LD_PRELOAD in \`stellar-secrets exec\` and \`export --format dotenv|shell\`, a variable with which a program loads or runs other code, so both refuse it (STARTUP_VARIABLE) when a deploy runs them; rename it to a name that says its service: \`stellar-secrets rename ld_preload NEW_NAME\` prints the steps; set writes the value all the same (\`check\` warns: invalid-secret-name)"`);
    expect(startupVariableNote("node_options")).toContain("would set NODE_OPTIONS");
  });
  it("says nothing of any other name", () => {
    expect(startupVariableNote("stripe_api_key")).toBeUndefined();
    expect(startupVariableNote("path_prefix")).toBeUndefined();
  });
});

describe("quoteShell", () => {
  it("single-quotes every value, a ' as '\\'' — nothing inside is expanded by a POSIX shell", () => {
    expect(quoteShell("plain")).toBe("'plain'");
    expect(quoteShell("")).toBe("''");
    expect(quoteShell(`it's $(id) \`id\` "q" \\ \n\r\t é`)).toBe(`'it'\\''s $(id) \`id\` "q" \\ \n\r\t é'`);
    expect(quoteShell("'")).toBe(`''\\'''`);
  });
  it("refuses a NUL, which no shell variable can hold", () => {
    expect(quoteShell("a\0b")).toBeUndefined();
  });
});

describe("childEnvironment", () => {
  const values = new Map([["api_key", "v1"], ["token", "v2"]]);
  it("adds each value under its variable, keeping the rest of the environment", () => {
    expect(childEnvironment({ PATH: "/bin" }, values, variableNames(values.keys()), {})).toEqual({ PATH: "/bin", API_KEY: "v1", TOKEN: "v2" });
  });
  it("refuses a variable already set unless override (VARIABLE_COLLISION)", () => {
    expect(code(() => childEnvironment({ TOKEN: "x" }, values, variableNames(values.keys()), {}))).toBe("VARIABLE_COLLISION");
    expect(childEnvironment({ TOKEN: "x" }, values, variableNames(values.keys()), { override: true }).TOKEN).toBe("v2");
  });
  it("leaves out SOPS_AGE_KEY, a private key the command does not need, unless keepAgeKey; key file paths stay", () => {
    const base = { PATH: "/bin", SOPS_AGE_KEY: "AGE-SECRET-KEY-1TESTONLY", SOPS_AGE_KEY_FILE: "/k.txt" };
    const env = childEnvironment(base, values, variableNames(values.keys()), {});
    expect(env).not.toHaveProperty("SOPS_AGE_KEY");
    expect(env.SOPS_AGE_KEY_FILE).toBe("/k.txt");
    expect(base.SOPS_AGE_KEY).toBe("AGE-SECRET-KEY-1TESTONLY");
    expect(childEnvironment(base, values, variableNames(values.keys()), { keepAgeKey: true }).SOPS_AGE_KEY).toBe("AGE-SECRET-KEY-1TESTONLY");
    // a secret that becomes SOPS_AGE_KEY is still set (and still needs --override against a set one)
    const named = new Map([["sops_age_key", "v"]]);
    expect(code(() => childEnvironment(base, named, variableNames(named.keys()), {}))).toBe("VARIABLE_COLLISION");
  });
  it("refuses a value holding a NUL (UNREPRESENTABLE_VALUE), naming the secret and never the value", () => {
    const nul = new Map([["api_key", "SECRET-VALUE\0tail"]]);
    let error: CliError | undefined;
    try {
      childEnvironment({}, nul, variableNames(nul.keys()), {});
    } catch (e) {
      error = e as CliError;
    }
    expect(error?.code).toBe("UNREPRESENTABLE_VALUE");
    expect(error?.message).toContain('"api_key"');
    expect(`${error?.message} ${error?.hint}`).not.toContain("SECRET-VALUE");
  });
});

describe("childEnvironment: variables that make a program load or run other code", () => {
  it("refuses a secret that would set one (STARTUP_VARIABLE), even when unset, unless allowStartupVariables", () => {
    for (const name of ["node_options", "ld_preload", "ld_library_path", "dyld_insert_libraries", "bash_env", "env", "ps4", "prompt_command", "pythonpath", "pythonstartup", "perl5opt", "rubyopt", "java_tool_options", "path", "ifs", "git_ssh_command"]) {
      const values = new Map([[name, "x"]]);
      let error: CliError | undefined;
      try {
        childEnvironment({}, values, variableNames(values.keys()), { override: true });
      } catch (e) {
        error = e as CliError;
      }
      expect(error?.code, name).toBe("STARTUP_VARIABLE");
      expect(error?.message, name).toContain(`"${name}"`);
      expect(childEnvironment({}, values, variableNames(values.keys()), { allowStartupVariables: true })[name.toUpperCase()], name).toBe("x");
    }
  });
  it("lets ordinary names through, including ones that only start like a startup variable", () => {
    const values = new Map([["node_env_token", "a"], ["ldap_password", "b"], ["path_secret", "c"], ["envoy_key", "d"]]);
    expect(Object.keys(childEnvironment({}, values, variableNames(values.keys()), {})).sort()).toEqual(["ENVOY_KEY", "LDAP_PASSWORD", "NODE_ENV_TOKEN", "PATH_SECRET"]);
  });
});

describe("refuseStartupVariables (export --format dotenv|shell)", () => {
  it("names the first secret that would set a startup variable, and says nothing was written", () => {
    let error: CliError | undefined;
    try {
      refuseStartupVariables(variableNames(["api_key", "node_options"]), "nothing was written");
    } catch (e) {
      error = e as CliError;
    }
    expect(error?.code).toBe("STARTUP_VARIABLE");
    expect(error?.message).toBe('secret "node_options" would set NODE_OPTIONS, with which a program loads or runs other code; nothing was written');
    expect(() => refuseStartupVariables(variableNames(["api_key"]), "nothing was written")).not.toThrow();
  });

  it("refuses a trust variable (an added CA, TLS checks off) with what it does, and sets a proxy (checker session 6, item 3)", () => {
    let error: CliError | undefined;
    try {
      refuseStartupVariables(variableNames(["https_proxy", "node_extra_ca_certs"]), "nothing was run");
    } catch (e) {
      error = e as CliError;
    }
    expect(error?.code).toBe("STARTUP_VARIABLE");
    expect(error?.message).toBe('secret "node_extra_ca_certs" would set NODE_EXTRA_CA_CERTS, with which a program trusts other TLS certificates (or checks none, or writes its session keys to a file); nothing was run');
    expect(() => refuseStartupVariables(variableNames(["https_proxy", "http_proxy", "no_proxy"]), "nothing was run")).not.toThrow();
  });
});
