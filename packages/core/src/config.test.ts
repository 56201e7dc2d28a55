import { describe, expect, it } from "vitest";
import { findExcessiveNesting } from "@stellar-secrets/sops";
import { parseConfigFile } from "./config.js";
import { parseSimpleYaml } from "./fast-yaml.js";

describe("parseConfigFile", () => {
  it("indexes secret references of every kind with their field and range", () => {
    const text = `kind: auth_connector
name: sf
type: oauth2_client_credentials
client_id: { secret: sf_client_id }
client_secret: { secret: sf_client_secret }
token_url: https://login.example.com/token
---
kind: api_connection
name: hubspot
base_url: https://api.hubapi.com
auth: sf
headers:
  - { name: Authorization, type: secret, secret: hubspot_api_token, prefix: "Bearer " }
`;
    for (const fast of [true, false]) {
      const f = parseConfigFile(text, "x.yaml", { fast });
      expect(f.diagnostics).toEqual([]);
      expect(f.documents.map((d) => [d.kind, d.name, d.documentIndex])).toEqual([
        ["auth_connector", "sf", 0],
        ["api_connection", "hubspot", 1],
      ]);
      const refs = f.documents.flatMap((d) => d.references.map((r) => [r.secret, r.field, r.owner, r.line, r.column, text.slice(r.range.start, r.range.end)]));
      expect(refs).toEqual([
        ["sf_client_id", "client_id", "sf", 4, 22, "sf_client_id"],
        ["sf_client_secret", "client_secret", "sf", 5, 26, "sf_client_secret"],
        ["hubspot_api_token", "headers[0] Authorization", "hubspot", 13, 50, "hubspot_api_token"],
      ]);
      expect(f.documents[1]?.links).toEqual([{ field: "auth", targetKind: "auth_connector", target: "sf", range: { start: text.indexOf("auth: sf") + 6, end: text.indexOf("auth: sf") + 8 } }]);
    }
  });

  it("reads links and environments of actions and agents", () => {
    const f = parseConfigFile("kind: agent\nname: support\nenvironments: [staging, production]\nactions:\n  - create_ticket\n", "a.yaml");
    const doc = f.documents[0];
    expect(doc?.environments?.map((e) => e.name)).toEqual(["staging", "production"]);
    expect(doc?.links.map((l) => [l.field, l.target])).toEqual([["actions", "create_ticket"]]);
  });

  it("ignores files of other tools, even broken ones", () => {
    for (const text of ["services:\n  web:\n    image: nginx\n", "apiVersion: v1\nkind: Service\n", "steps: [a\nkind: x\n", ""]) {
      const f = parseConfigFile(text, "o.yaml");
      expect(f.relevant, text).toBe(false);
      expect(f.diagnostics).toEqual([]);
    }
  });

  it("takes no Kubernetes-style manifest (apiVersion) for a near miss of our kinds: Elastic's kind: Agent, a CRD's kind: Action", () => {
    for (const text of [
      "apiVersion: agent.k8s.elastic.co/v1alpha1\nkind: Agent\nmetadata:\n  name: elastic-agent\nspec:\n  version: 8.11.0\n",
      "apiVersion: example.com/v1\nkind: Action\nmetadata: { name: x }\n",
      "kind: Agents\napiVersion: v1\n",
    ]) {
      for (const fast of [true, false]) {
        const f = parseConfigFile(text, "deploy/agent.yaml", { fast });
        expect(f.relevant, text).toBe(false);
        expect(f.diagnostics, text).toEqual([]);
      }
    }
    // without apiVersion it is still our near miss, and with it our own kind is still ours
    expect(parseConfigFile("kind: Agent\nname: support\n", "a.yaml").diagnostics.map((d) => [d.rule, d.line, d.column, d.suggestion])).toEqual([["schema", 1, 7, "agent"]]);
    expect(parseConfigFile("apiVersion: v1\nkind: agent\nname: support\n", "a.yaml").documents.map((d) => d.name)).toEqual(["support"]);
  });

  it("reports a kind that names one of ours by a word of it (kind: connection, kind: Connector) as a schema error with that kind, not as another tool's file", () => {
    const cases: [string, string][] = [
      ["connection", "api_connection"],
      ["connector", "auth_connector"],
      ["Connector", "auth_connector"],
      ["auth", "auth_connector"],
      ["ApiConnection", "api_connection"],
      ["http_connection", "api_connection"],
      ["oauth-connector", "auth_connector"],
    ];
    for (const [kind, near] of cases) {
      const text = `kind: ${kind}\nname: zendesk\nbase_url: https://x.example.com\nheaders:\n  - { name: A, type: secret, secret: zendesk_tokn }\n`;
      for (const fast of [true, false]) {
        const f = parseConfigFile(text, "c.yaml", { fast });
        expect(f.relevant, kind).toBe(true);
        expect(f.diagnostics.map((d) => [d.rule, d.line, d.column, d.endColumn, d.suggestion]), kind).toEqual([["schema", 1, 7, 7 + kind.length, near]]);
      }
    }
    // other tools' kinds stay theirs: no word of ours, a word of ours among others (Strimzi's KafkaConnector), or an apiVersion
    for (const kind of ["Deployment", "KafkaConnector", "Secret", "ConfigMap", "Pipeline", "Workflow", "Component"]) {
      expect(parseConfigFile(`kind: ${kind}\nname: x\n`, "o.yaml").relevant, kind).toBe(false);
    }
    expect(parseConfigFile("apiVersion: v1\nkind: Connection\nname: x\n", "o.yaml").relevant).toBe(false);
  });

  it("reports YAML errors of a file that looks like ours, and indexes what parsed", () => {
    const f = parseConfigFile("kind: action\nname: a\nheaders:\n  - { name: A, type: secret, secret: s }\npath: [\n", "b.yaml");
    expect(f.relevant).toBe(true);
    expect(f.diagnostics.map((d) => d.rule)).toEqual(["schema"]);
    expect(f.documents[0]?.hasErrors).toBe(true);
    expect(f.documents[0]?.references.map((r) => r.secret)).toEqual(["s"]);
  });

  it("follows YAML aliases to the secret name", () => {
    const text = "kind: action\nname: a\nmethod: GET\npath: /x\nx-defaults: &k stripe_api_key\nheaders:\n  - { name: A, type: secret, secret: *k }\n";
    const f = parseConfigFile(text, "c.yaml");
    expect(f.documents[0]?.references.map((r) => [r.secret, text.slice(r.range.start, r.range.end)])).toEqual([["stripe_api_key", "*k"]]);
    expect(f.diagnostics.map((d) => d.message)).toEqual(['unknown field "x-defaults"']);
  });

  it("reports each YAML syntax error once, never two at the same position", () => {
    const text = "kind: agent\nname: x\n  bad: [indent\n";
    const f = parseConfigFile(text, "c/broken.yaml");
    // (the over-indented line is where the mistake is, checker session 6: it was at 2:7, "Nested mappings are not allowed in compact mappings")
    expect(f.diagnostics.map((d) => [d.rule, d.line, d.column])).toEqual([
      ["schema", 3, 3],
      ["schema", 4, 1],
    ]);
    expect(f.diagnostics[0]?.message).toBe('YAML syntax error: this line is indented more than line 2 ("name: …"), whose value is already written, so YAML cannot read "bad" as a field of its own (nor of "name"); start "bad:" at the left margin, as "name:"');
  });
});

describe("parseConfigFile: credentials in comments", () => {
  const token = ["sk", "live", "51HqLyjWDarjtT1zdp7dcXYZabc123456"].join("_");
  it("reports a well-known credential format in a comment as plaintext-credential, at the comment, never showing it", () => {
    const text = `kind: auth_connector\nname: stripe\ntype: bearer_token\n# old token: ${token}\ntoken: { secret: stripe_api_key }  # was ${token}\n`;
    for (const fast of [true, false]) {
      const f = parseConfigFile(text, "connectors/stripe.yaml", { fast });
      expect(f.diagnostics.map((d) => [d.rule, d.severity, d.line, d.column])).toEqual([
        ["plaintext-credential", "error", 4, 1],
        ["plaintext-credential", "error", 5, 36],
      ]);
      expect(JSON.stringify(f.diagnostics)).not.toContain(token);
      expect(f.diagnostics[0]!.message).toMatch(/comment holds what looks like a Stripe/);
    }
  });

  it("leaves a # inside a quoted value, ordinary comments and files of other tools alone", () => {
    const quoted = `kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\ndescription: "see #ops"  # rotate yearly\n`;
    expect(parseConfigFile(quoted, "connectors/stripe.yaml").diagnostics).toEqual([]);
    expect(parseConfigFile(`# ${token}\nfoo: bar\n`, "other.yaml").diagnostics).toEqual([]);
  });
});

describe("parseConfigFile: a credential where no field check looks (an object's name, a link, an environment, a header's name or type, a key)", () => {
  const text = [
    "kind: action",
    "name: leak",
    "connection: ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
    "method: GET",
    "path: /l",
    "environments: [development, sk_live_4eC39HqLyjWDarjtT1zdp7dc]",
    "headers:",
    "  - { name: X-A, type: static, value: ok, sk_live_4eC39HqLyjWDarjtT1zdp7dd: y }",
    "  - { name: sk_live_4eC39HqLyjWDarjtT1zdp7de, type: static, value: ok }",
    "  - { name: X-C, type: xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx, secret: a }",
    "  - { name: X-D, type: secret, secret: sk_live_4eC39HqLyjWDarjtT1zdp7dh }",
    "  - { name: X-E, type: static, value: sk_live_4eC39HqLyjWDarjtT1zdp7di }",
    "---",
    "kind: agent",
    "name: sk_live_4eC39HqLyjWDarjtT1zdp7df",
    "actions: [leak, glpat-xxxxxxxxxxxxxxxxxxxx]",
    "",
  ].join("\n");

  it("is plaintext-credential at it, once, and no message quotes it (the schema finding at the same place, which the checker leaves out, neither)", () => {
    for (const fast of [true, false]) {
      const f = parseConfigFile(text, "actions/leak.yaml", { fast });
      const at = (d: { line: number; column: number; endColumn: number }) => text.split("\n")[d.line - 1]!.slice(d.column - 1, d.endColumn - 1);
      expect(f.diagnostics.filter((d) => d.rule === "schema").map((d) => [d.line, at(d), d.message])).toEqual([
        [8, "sk_live_4eC39HqLyjWDarjtT1zdp7dd", 'unknown field "(a credential, not shown)" in "headers.0"'],
        [10, "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", '"headers.2.type" must be one of "secret", "static"'],
      ]);
      expect(f.diagnostics.filter((d) => d.rule !== "schema").map((d) => [d.rule, d.line, at(d)])).toEqual([
        ["plaintext-credential", 3, "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"],
        ["plaintext-credential", 6, "sk_live_4eC39HqLyjWDarjtT1zdp7dc"],
        ["plaintext-credential", 8, "sk_live_4eC39HqLyjWDarjtT1zdp7dd"],
        ["plaintext-credential", 9, "sk_live_4eC39HqLyjWDarjtT1zdp7de"],
        ["plaintext-credential", 10, "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"],
        ["plaintext-credential", 12, "sk_live_4eC39HqLyjWDarjtT1zdp7di"], // (the static value's own check, as before)
        ["plaintext-credential", 15, "sk_live_4eC39HqLyjWDarjtT1zdp7df"],
        ["plaintext-credential", 16, "glpat-xxxxxxxxxxxxxxxxxxxx"],
      ]);
      for (const d of f.diagnostics) expect(d.message).not.toMatch(/sk_live_4|ghp_a|xoxb-1|glpat-x/);
      expect(f.diagnostics[0]?.message).toMatchInlineSnapshot(`"the value of "connection" holds what looks like a GitHub token (ghp_…) in plain text: a config file is committed in clear, and this field cannot hold a { secret: NAME } reference; remove it and rotate it at its provider (git history keeps it)"`);
    }
  });
});

describe("parseConfigFile: a credential deep in a document, where only the walk of every pair reaches it", () => {
  it("is found inside a complex key, a list of lists of maps and a map inside a key's value, in document order", () => {
    const text = [
      "kind: action",
      "name: deep",
      "connection: c",
      "method: GET",
      "path: /d",
      "? { sk_live_4eC39HqLyjWDarjtT1zdp7da: k }",
      ": v",
      "extra:",
      "  - - { a: ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 }",
      "  - inner: { deeper: [glpat-xxxxxxxxxxxxxxxxxxxx] }",
      "",
    ].join("\n");
    const f = parseConfigFile(text, "actions/deep.yaml", { fast: false });
    expect(f.diagnostics.filter((d) => d.rule === "plaintext-credential").map((d) => d.line)).toEqual([6, 9, 10]);
    for (const d of f.diagnostics) expect(d.message).not.toMatch(/sk_live_4|ghp_a|glpat-x/);
  });
});

describe("parseConfigFile: the nesting bound through the fast reader", () => {
  // layouts the fast reader accepts, nested `n` collections deep (a top-level mapping is 1)
  const blockMaps = (n: number): string => `kind: action\nname: deep\nx:\n${Array.from({ length: n - 1 }, (_, i) => `${"  ".repeat(i + 1)}k${i}:`).join("\n").replace(/:$/, ": leaf")}\n`;
  const seqMaps = (n: number): string => {
    // key:\n- k:\n  - k: ... (each `- k:` is a sequence and a mapping), ending in `- leaf` or `- k: leaf`
    let out = "kind: action\nname: deep\nx:\n";
    let depth = 1;
    let col = 0;
    for (; depth + 2 < n; depth += 2, col += 2) out += `${" ".repeat(col)}- k${depth}:\n`;
    return out + (n - depth === 1 ? `${" ".repeat(col)}- leaf\n` : `${" ".repeat(col)}- k: leaf\n`);
  };
  const flows = (n: number): string => `kind: action\nname: deep\nx: ${"[".repeat(n - 1)}a${"]".repeat(n - 1)}\n`;
  const flowMaps = (n: number): string => `kind: action\nname: deep\nx: ${"{ a: ".repeat(n - 1)}b${" }".repeat(n - 1)}\n`;

  it("gives the same diagnostics as the scan-first path at every depth around both bounds", () => {
    for (const layout of [blockMaps, seqMaps, flows, flowMaps]) {
      for (const n of [2, 10, 31, 32, 33, 34, 63, 64, 65, 66, 80, 200]) {
        const text = layout(n);
        const fast = parseConfigFile(text, "a.yaml");
        const slow = parseConfigFile(text, "a.yaml", { fast: false });
        expect(fast.relevant, `${layout.name} ${n}`).toBe(slow.relevant);
        expect(JSON.stringify(fast.diagnostics), `${layout.name} ${n}`).toBe(JSON.stringify(slow.diagnostics));
        expect(fast.diagnostics.some((d) => d.message.includes("nested deeper than 64")), `${layout.name} ${n}`).toBe(n > 64);
      }
    }
  });

  it("the fast reader stops at its depth bound, where the scan counts exactly the collections it builds", () => {
    for (const layout of [blockMaps, seqMaps, flows, flowMaps]) {
      for (const n of [3, 20, 32, 33, 40]) {
        const text = layout(n);
        expect(parseSimpleYaml(text), `${layout.name} ${n}`).toBeDefined();
        expect(parseSimpleYaml(text, n), `${layout.name} ${n}`).toBeDefined();
        expect(parseSimpleYaml(text, n - 1), `${layout.name} ${n}`).toBeUndefined();
        expect(findExcessiveNesting(text, n), `${layout.name} ${n}`).toBeUndefined();
        expect(findExcessiveNesting(text, n - 1)?.depth, `${layout.name} ${n}`).toBe(n);
      }
    }
    // a give-up on depth leaves the next call unbounded
    expect(parseSimpleYaml(flows(40))).toBeDefined();
  });
});

describe("parseConfigFile: positions as an editor shows them", () => {
  const body = "kind: auth_connector\nname: x\ntype: api_key\napi_key: { secret: acme_key }\n";

  it("counts a file with a byte order mark as the same text without it", () => {
    const plain = parseConfigFile(body, "c.yaml").documents[0]?.references[0];
    const bom = parseConfigFile(`\uFEFF${body}`, "c.yaml").documents[0]?.references[0];
    expect(bom).toEqual(plain);
    const first = parseConfigFile("\uFEFF{ kind: auth_connector, name: x, type: api_key, api_key: { secret: k } }\n", "c.yaml").documents[0]?.references[0];
    expect(first).toMatchObject({ secret: "k", line: 1, column: 68 });
  });

  it("reports a use through an alias at the alias, and the anchored use at its anchor", () => {
    const refs = parseConfigFile("kind: auth_connector\nname: x\ntype: basic\nusername: &c\n  secret: acme_id\npassword: *c\n", "c.yaml").documents[0]?.references;
    expect(refs?.map((r) => [r.secret, r.field, r.line, r.column])).toEqual([
      ["acme_id", "username", 5, 11],
      ["acme_id", "password", 6, 11],
    ]);
  });

  it("covers the whole duplicate key", () => {
    const d = parseConfigFile("kind: action\nname: a\nmethod: GET\npath: /x\nmethod: PUT\n", "a.yaml").diagnostics;
    expect(d.map((x) => [x.rule, x.line, x.column, x.endLine, x.endColumn])).toEqual([["schema", 5, 1, 5, 7]]);
  });
});
