/**
 * JSON as the CLI prints it (no imports: the start-up bundles of the hot commands use it for
 * `--json` errors).
 */

// DEL, C1 controls, the Unicode bidirectional controls, the line/paragraph separators and the
// invisible format characters (zero-width space and joiners, word joiner, BOM, soft hyphen, ...):
// JSON may hold them raw, and a terminal or a web page showing the output would act on them or hide them
// eslint-disable-next-line no-control-regex
const JSON_UNSAFE = /[\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb]/g;

/**
 * `JSON.stringify(value, null, space)` with the characters JSON may hold raw but a terminal or a
 * browser acts on or hides (DEL, C1, bidirectional controls, line and paragraph separators, invisible
 * format characters such as the zero-width space) written as
 * `\uXXXX` escapes: the same JSON value, which cannot rewrite or reorder what a person reads.
 * Every JSON the CLI prints goes through it (C0 controls JSON.stringify escapes itself).
 */
export function stringifyJson(value: unknown, space?: number): string {
  return String(JSON.stringify(value, null, space)).replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
