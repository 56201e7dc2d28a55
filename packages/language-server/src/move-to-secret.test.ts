import { describe, expect, it } from "vitest";
import { planMoveToSecret, SECRET_FIELDS, type OffsetEdit } from "./move-to-secret.js";
import { kindFields } from "./schema-fields.js";

const CRED = "sk_live_TEST-ONLY-not-a-real-key";
const apply = (text: string, edits: OffsetEdit[]): string => [...edits].sort((a, b) => b.start - a.start).reduce((t, e) => t.slice(0, e.start) + e.newText + t.slice(e.end), text);

describe("planMoveToSecret", () => {
  it("turns a static header (flow style) into a secret header and decodes the quoted literal", () => {
    const text = `kind: action\nheaders:\n  - { name: Authorization, type: static, value: "${CRED}" }\n`;
    const plan = planMoveToSecret(text, text.indexOf(`"${CRED}"`))!;
    expect(plan.value).toBe(CRED);
    expect(plan.place).toBe("header");
    const out = apply(text, plan.edits("billing_api_key"));
    expect(out).toBe("kind: action\nheaders:\n  - { name: Authorization, type: secret, secret: billing_api_key }\n");
    expect(plan.edits("billing_api_key").map((e) => e.newText).join("")).not.toContain(CRED);
  });

  it("turns a static header (block style) into a secret header", () => {
    const text = `headers:\n  - name: X-Key\n    type: static\n    value: ${CRED} # old\n`;
    const plan = planMoveToSecret(text, text.indexOf(CRED))!;
    expect(plan.value).toBe(CRED);
    expect(apply(text, plan.edits("x_key"))).toBe("headers:\n  - name: X-Key\n    type: secret\n    secret: x_key # old\n");
  });

  it("turns a connector field into { secret: NAME }, decoding single quotes", () => {
    const text = `kind: auth_connector\ntype: api_key\napi_key: 'it''s-${CRED}'\n`;
    const plan = planMoveToSecret(text, text.indexOf("'it"))!;
    expect(plan.value).toBe(`it's-${CRED}`);
    expect(apply(text, plan.edits("acme_api_key"))).toBe("kind: auth_connector\ntype: api_key\napi_key: { secret: acme_api_key }\n");
  });

  it("replaces a credential pasted where a secret's name goes (a connector field's { secret: }, a secret header's secret:) with the name", () => {
    const field = `kind: auth_connector\ntype: api_key\napi_key: { secret: ${CRED} }\n`;
    const plan = planMoveToSecret(field, field.indexOf(CRED))!;
    expect([plan.value, plan.place]).toEqual([CRED, "reference"]);
    expect(apply(field, plan.edits("acme_api_key"))).toBe("kind: auth_connector\ntype: api_key\napi_key: { secret: acme_api_key }\n");
    const header = `headers:\n  - name: X-Key\n    type: secret\n    secret: "${CRED}"\n`;
    expect(apply(header, planMoveToSecret(header, header.indexOf(`"${CRED}"`))!.edits("x_key"))).toBe("headers:\n  - name: X-Key\n    type: secret\n    secret: x_key\n");
  });

  it("writes the replacement in the style of a JSON-style file (quoted keys): the result is still JSON", () => {
    const header = `{"kind": "api_connection", "headers": [{"name": "X-Key", "type": "static", "value": "${CRED}"}]}\n`;
    const plan = planMoveToSecret(header, header.indexOf(`"${CRED}"`))!;
    expect(plan.place).toBe("header");
    const out = apply(header, plan.edits("x_key"));
    expect(out).toBe('{"kind": "api_connection", "headers": [{"name": "X-Key", "type": "secret", "secret": "x_key"}]}\n');
    expect(JSON.parse(out)).toEqual({ kind: "api_connection", headers: [{ name: "X-Key", type: "secret", secret: "x_key" }] });
    const compact = `{"headers":[{"name":"X-Key","type":"static","value":"${CRED}"}]}`;
    expect(JSON.parse(apply(compact, planMoveToSecret(compact, compact.indexOf(`"${CRED}"`))!.edits("x_key")))).toEqual({ headers: [{ name: "X-Key", type: "secret", secret: "x_key" }] });
    const field = `{\n  "kind": "auth_connector",\n  "type": "api_key",\n  "api_key": "${CRED}"\n}\n`;
    const fieldOut = apply(field, planMoveToSecret(field, field.indexOf(`"${CRED}"`))!.edits("acme_api_key"));
    expect(fieldOut).toBe('{\n  "kind": "auth_connector",\n  "type": "api_key",\n  "api_key": {"secret": "acme_api_key"}\n}\n');
    expect(JSON.parse(fieldOut)).toMatchObject({ api_key: { secret: "acme_api_key" } });
    const reference = `{"api_key": {"secret": "${CRED}"}}`;
    expect(JSON.parse(apply(reference, planMoveToSecret(reference, reference.indexOf(`"${CRED}"`))!.edits("acme_api_key")))).toEqual({ api_key: { secret: "acme_api_key" } });
    // single-quoted keys: single-quoted words
    const single = `{'api_key': '${CRED}'}`;
    expect(apply(single, planMoveToSecret(single, single.indexOf(`'${CRED}'`))!.edits("acme_api_key"))).toBe("{'api_key': {'secret': 'acme_api_key'}}");
  });

  it("says what to write by hand in the file's style, when the edits cannot be applied (JSON-style words in a JSON-style file), never the value", () => {
    const by = (text: string, literal: string): string => planMoveToSecret(text, text.indexOf(literal))!.byHand("x_key");
    expect(by(`{"api_key": "${CRED}"}`, `"${CRED}"`)).toBe('replace the literal with {"secret": "x_key"}');
    expect(by(`api_key: ${CRED}\n`, CRED)).toBe("replace the literal with { secret: x_key }");
    expect(by(`{'api_key': '${CRED}'}`, `'${CRED}'`)).toBe("replace the literal with {'secret': 'x_key'}");
    expect(by(`{"api_key": {"secret": "${CRED}"}}`, `"${CRED}"`)).toBe('replace the literal with "x_key"');
    expect(by(`{"headers": [{"name": "X-Key", "type": "static", "value": "${CRED}"}]}`, `"${CRED}"`)).toBe('replace the header\'s "value" field with "secret": "x_key" and set its "type" to "secret"');
    expect(by(`headers:\n  - { name: X-Key, type: static, value: ${CRED} }\n`, CRED)).toBe("replace the header's value field with secret: x_key and set its type to secret");
    for (const text of [`{"api_key": "${CRED}"}`, `{"headers": [{"name": "X", "type": "static", "value": "${CRED}"}]}`]) expect(by(text, `"${CRED}"`)).not.toContain(CRED);
  });

  it("offers nothing for a description, a header prefix, an offset that is not a literal's start, or broken YAML", () => {
    const prose = `description: ${CRED}\n`;
    expect(planMoveToSecret(prose, prose.indexOf(CRED))).toBeUndefined();
    const prefix = `headers:\n  - { name: A, type: secret, secret: a_key, prefix: ${CRED} }\n`;
    expect(planMoveToSecret(prefix, prefix.indexOf(CRED))).toBeUndefined();
    const field = `api_key: ${CRED}\n`;
    expect(planMoveToSecret(field, field.indexOf(CRED) + 1)).toBeUndefined();
    expect(planMoveToSecret(`api_key: [${CRED}\n`, 10)).toBeUndefined();
  });

  it("knows the connector fields the schema lets reference a secret", () => {
    const schema = new Set(["api_key", "bearer_token", "basic", "oauth2_client_credentials"].flatMap((t) => kindFields("auth_connector", t)).filter((f) => f.secretRef).map((f) => f.name));
    expect(schema.size).toBeGreaterThanOrEqual(4);
    for (const f of schema) expect(SECRET_FIELDS.has(f), f).toBe(true);
  });
});
