import { describe, expect, it } from "vitest";
import { parseConfigFile } from "./config.js";

/** `line:column message` of each diagnostic of a config file, with both parsers (the fast reader and `yaml`). */
function diagnostics(text: string): string[] {
  const fast = parseConfigFile(text, "c/x.yaml").diagnostics.map((d) => `${d.line}:${d.column} ${d.rule} ${d.message}`);
  const full = parseConfigFile(text, "c/x.yaml", { fast: false }).diagnostics.map((d) => `${d.line}:${d.column} ${d.rule} ${d.message}`);
  expect(full).toEqual(fast);
  return fast;
}

describe("schema diagnostics in words", () => {
  it("refuses an empty environments list (used in no environment), saying what to write", () => {
    expect(diagnostics("kind: agent\nname: helper\nenvironments: []\n")).toEqual([
      '3:15 schema "environments" lists no environment, so this agent runs in none: list the environments it runs in (`environments: [production]`, names from stellar.yaml), or remove the field for every environment',
    ]);
    expect(diagnostics("kind: action\nname: ping\nmethod: GET\npath: /ping\nenvironments: []\n")).toEqual([
      '5:15 schema "environments" lists no environment, so this action is used in none: list the environments it is used in (`environments: [production]`, names from stellar.yaml), or remove the field for every environment',
    ]);
    expect(diagnostics("kind: agent\nname: helper\nenvironments: [production]\n")).toEqual([]);
    expect(diagnostics("kind: agent\nname: helper\n")).toEqual([]);
  });

  it("says what a valid header name is instead of showing the pattern", () => {
    const text = "kind: api_connection\nname: x\nbase_url: https://a.example\nheaders:\n  - { name: 'X Api Key', type: static, value: json }\n";
    expect(diagnostics(text)).toEqual([
      "5:13 schema \"headers.0.name\" is not a valid HTTP header name: letters, digits and !#$%&'*+.^_`|~- only",
    ]);
  });

  it("reports a failing type-dependent field at the field, never the type's own fields as unknown", () => {
    const oauth = "kind: auth_connector\nname: x\ntype: oauth2_client_credentials\nclient_id: plain-id\nclient_secret: {secret: x}\ntoken_url: ftp://a/t\n";
    expect(diagnostics(oauth)).toEqual(['6:12 schema "token_url" must be an http(s) URL']);
    const basic = "kind: auth_connector\nname: x\ntype: basic\nusername: 42\n";
    expect(diagnostics(basic)).toEqual([
      '1:1 schema missing required field "password"',
      '4:11 schema "username" must be a string or a secret reference { secret: NAME }',
    ]);
    const withPassword = "kind: auth_connector\nname: x\ntype: basic\nusername: 42\npassword: {secret: p}\n";
    expect(diagnostics(withPassword)).toEqual(['4:11 schema "username" must be a string or a secret reference { secret: NAME }']);
  });

  it("names every missing field of one object in one diagnostic (an editor stacks two at one range)", () => {
    const oauth = "kind: auth_connector\nname: x\ntype: oauth2_client_credentials\nclient_id: plain-id\n";
    expect(diagnostics(oauth)).toEqual(['1:1 schema missing required fields "client_secret" and "token_url"']);
    const header = "kind: api_connection\nname: x\nbase_url: https://a.example\nheaders:\n  - { value: v }\n  - { type: static }\n";
    expect(diagnostics(header)).toEqual(['5:7 schema missing required fields "name" and "type" in "headers.0"', '6:7 schema missing required fields "value" and "name" in "headers.1"']);
    const action = "kind: action\nname: x\n"; // (connection is optional)
    expect(diagnostics(action)).toEqual(['1:1 schema missing required fields "method" and "path"']);
    expect(diagnostics("kind: auth_connector\nname: x\ntype: oauth2_client_credentials\n")).toEqual(['1:1 schema missing required fields "client_id", "client_secret" and "token_url"']);
    expect(diagnostics("kind: api_connection\nname: x\nbase_url: https://a.example\nprobe: {}\n")).toEqual(['4:1 schema missing required field "path" in "probe"']);
  });

  it("reports a YAML merge key once, at the <<, naming the fields it was to bring that are missing", () => {
    const header = "kind: api_connection\nname: x\nbase_url: https://a.example\nheaders:\n  - &h { name: A, type: static, value: v }\n  - <<: *h\n    name: B\n";
    expect(diagnostics(header)).toEqual([
      '6:5 schema unknown field "<<" in "headers.1": YAML merge keys are not read (YAML 1.2), so this mapping lacks "type"; write the fields out, or alias the whole mapping (*name)',
    ]);
    const complete = "kind: api_connection\nname: x\nbase_url: https://a.example\nheaders:\n  - &h { name: A, type: static, value: v }\n  - <<: *h\n    name: B\n    type: static\n    value: w\n";
    expect(diagnostics(complete)).toEqual(['6:5 schema unknown field "<<" in "headers.1": YAML merge keys are not read (YAML 1.2); write the fields out, or alias the whole mapping (*name)']);
  });

  it("reports the inner problem of a secret reference, and a plain value where a reference is needed", () => {
    const text = "kind: auth_connector\nname: x\ntype: basic\nusername: {secret: 3}\npassword: plain\n";
    expect(diagnostics(text)).toEqual([
      '4:20 schema "username.secret" must be string',
      '5:11 schema "password" must be a secret reference { secret: NAME }, not a plain value',
    ]);
  });

  it("names a field of another type as unknown for the declared type, suggesting only other fields", () => {
    const text = "kind: auth_connector\nname: x\ntype: basic\nusername: u\npassword: {secret: p}\ntoken: {secret: t}\npasword: {secret: p}\n";
    expect(diagnostics(text)).toEqual([
      '6:1 schema unknown field "token": type "basic" does not use it (type "bearer_token" does)',
      '7:1 schema unknown field "pasword"; did you mean "password"?',
    ]);
    for (const d of parseConfigFile(text, "c/x.yaml").diagnostics) {
      const field = /unknown field "([^"]+)"/.exec(d.message)?.[1];
      expect(d.suggestion === undefined || d.suggestion !== field).toBe(true);
    }
  });

  it("refuses what the resolver refuses in headers: a bad api_key header_name, a name twice in one list, line breaks", () => {
    const connector = "kind: auth_connector\nname: x\ntype: api_key\napi_key: {secret: a}\nheader_name: X Api Key\n";
    expect(diagnostics(connector)).toEqual([
      "5:14 schema \"header_name\" is not a valid HTTP header name: letters, digits and !#$%&'*+.^_`|~- only",
    ]);
    const dupes = [
      "kind: api_connection",
      "name: x",
      "base_url: https://a.example",
      "headers:",
      "  - { name: X-Dup, type: static, value: a }",
      "  - { name: x-dup, type: static, value: b }",
      "  - { name: Accept, type: static, value: \"text/plain\\r\\nX-Injected: 1\" }",
      "  - { name: Authorization, type: secret, secret: s, prefix: \"Bearer\\n\" }",
      "---",
      "kind: action",
      "name: y",
      "method: GET",
      "path: /y",
      "headers:",
      "  - { name: X-Dup, type: static, value: a }",
      "",
    ].join("\n");
    expect(diagnostics(dupes)).toEqual([
      '6:13 schema header "x-dup" appears twice in this list (also at line 5; header names are case-insensitive); keep one entry',
      '7:42 schema "headers.2.value" must not contain a line break or NUL character',
      '8:61 schema "headers.3.prefix" must not contain a line break or NUL character',
    ]);
  });

  it("refuses a basic-auth username with ':' and an OAuth token_url that is not a URL", () => {
    const basic = "kind: auth_connector\nname: x\ntype: basic\nusername: a:b\npassword: {secret: p}\n";
    expect(diagnostics(basic)).toEqual(["4:11 schema the basic-auth username contains ':', which HTTP Basic (RFC 7617) does not allow in a user-id"]);
    const oauth = "kind: auth_connector\nname: x\ntype: oauth2_client_credentials\nclient_id: id\nclient_secret: {secret: s}\ntoken_url: https://\nscopes: [\"a\\nb\"]\n";
    expect(diagnostics(oauth)).toEqual([
      '6:12 schema "token_url" is not an absolute http(s) URL, such as https://auth.example.com/oauth/token',
      '7:10 schema "scopes.0" must not contain a line break or NUL character',
    ]);
  });
});

