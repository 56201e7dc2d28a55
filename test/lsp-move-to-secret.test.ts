/**
 * *Move to a secret…* in a JSON-style YAML config file, through the real server: the quick fix
 * the server offers on the plaintext-credential finding, then the edits the VS Code extension
 * applies for it (the shared planMoveToSecret, at the range the command's arguments carry). The
 * resulting text is still JSON, and the server finds nothing left in it. TEST-ONLY credentials.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planMoveToSecret } from "../packages/language-server/src/move-to-secret.js";
import { LineIndex } from "../packages/core/src/position.js";
import { LspClient, makeProject, proto, type TestProject } from "./lsp-harness.js";

// TEST-ONLY: shaped like a live key so that plaintext-credential reports it
const CRED = "sk_live_TESTONLY4eC39HqLyjWDarjtT1zdp7dc";

const HOOKS = `{"kind": "api_connection", "name": "hooks", "base_url": "https://hooks.example.com", "headers": [{"name": "X-Key", "type": "static", "value": "${CRED}"}]}\n`;
const ACME = `{\n  "kind": "auth_connector",\n  "name": "acme",\n  "type": "bearer_token",\n  "token": "${CRED}"\n}\n`;

describe("Move to a secret… in a JSON-style file", () => {
  let project: TestProject;
  let client: LspClient;
  beforeAll(async () => {
    project = await makeProject({
      environments: ["production"],
      secrets: { production: { hooks_api_key: "TEST-ONLY-value-1", acme_token: "TEST-ONLY-value-2" } },
      files: { "connections/hooks.yaml": HOOKS, "connectors/acme.yaml": ACME, "connections/acme.yaml": "kind: api_connection\nname: acme\nbase_url: https://api.acme.example\nauth: acme\n" },
    });
    client = await LspClient.start({ folders: [project.dir] });
  });
  afterAll(async () => {
    expect(await client.stop()).toBe(0);
    project.remove();
  });

  for (const [rel, text, name, expected] of [
    ["connections/hooks.yaml", HOOKS, "hooks_api_key", { kind: "api_connection", name: "hooks", base_url: "https://hooks.example.com", headers: [{ name: "X-Key", type: "secret", secret: "hooks_api_key" }] }],
    ["connectors/acme.yaml", ACME, "acme_token", { kind: "auth_connector", name: "acme", type: "bearer_token", token: { secret: "acme_token" } }],
  ] as const) {
    it(`keeps ${rel} JSON`, async () => {
      const uri = project.uri(rel);
      await client.open(uri, text);
      const ds = await client.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "plaintext-credential"));
      const d = ds.find((x) => x.code === "plaintext-credential")!;
      const actions = (await client.conn.sendRequest(proto.CodeActionRequest.type, { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } })) as proto.CodeAction[];
      const move = actions.find((a) => a.title === "Move to a secret…");
      expect(move?.command?.command).toBe("stellarSecrets.moveToSecret");
      const args = move!.command!.arguments![0] as { range: proto.Range };
      // what the extension does with the command: plan at the range's start, apply the edits
      const plan = planMoveToSecret(text, new LineIndex(text).offsetAt(args.range.start.line + 1, args.range.start.character + 1))!;
      expect(plan.value).toBe(CRED);
      const edits = plan.edits(name);
      expect(JSON.stringify(edits)).not.toContain(CRED);
      const moved = [...edits].sort((a, b) => b.start - a.start).reduce((t, e) => t.slice(0, e.start) + e.newText + t.slice(e.end), text);
      expect(JSON.parse(moved)).toEqual(expected);
      await client.change(uri, moved);
      await client.waitForDiagnostics(uri, (x) => x.length === 0, `no diagnostics in ${rel} once moved`);
      await client.close(uri);
    });
  }
});
