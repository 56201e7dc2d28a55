/**
 * Running out of stack while a YAML reader parses (a caller that had used most of it): the readers
 * of stellar.yaml, the catalog and `.sops.yaml`, like config.ts's parseConfigFile, each catch it in
 * one place and give a "nested too deeply" result built there with no call: near the stack limit
 * V8 compiles nothing, so a helper whose code was discarded since it last ran would throw again.
 * That is also why each reader keeps its own `STACK_EXHAUSTED` and writes the message as a literal:
 * a binding imported from another module is read through a getter under some module loaders
 * (vitest's), a call the catch cannot afford. Internal to core (not exported by the package).
 */

/** True for a YAML parser error that is the parser running out of stack (it catches the RangeError itself), not a mistake in the text. */
export function isExhaustion(e: { code: string; message: string }): boolean {
  return e.code === "RESOURCE_EXHAUSTION" || /maximum call stack/i.test(e.message);
}
