/**
 * Validates a SARIF log against the SARIF 2.1.0 JSON schema (the OASIS 2.1.0 schema as
 * schemastore publishes it, `sarif-2.1.0-rtm.5.json`, a JSON Schema draft-04 document shipped by
 * the npm package @microsoft/jest-sarif) with ajv's draft-04 class. Formats are checked with
 * small local checks (`uri`, `uri-reference`, `date-time`) since ajv-formats is not installed.
 */
import { createRequire } from "node:module";
import Ajv from "ajv-draft-04";

const require = createRequire(import.meta.url);
const schema = require("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json") as object;

const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
ajv.addFormat("uri", (s: string) => URL.canParse(s));
ajv.addFormat("uri-reference", (s: string) => URL.canParse(s, "file:///") && !/\s/.test(s));
ajv.addFormat("date-time", (s: string) => !Number.isNaN(Date.parse(s)));
const validate = ajv.compile(schema);

/** The schema errors of `log` (empty when it is a valid SARIF 2.1.0 log). */
export function sarifSchemaErrors(log: unknown): string[] {
  if (validate(log)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`);
}
