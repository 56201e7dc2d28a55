/**
 * The test of a secret's name that the VS Code extension runs itself before it writes a value
 * (`secret-writer.ts`), as `stellar-secrets set` does: core's credential-as-name test, from its
 * `credentials` module only (the extension's bundle takes that module, not the checker).
 */
import { credentialAsName, credentialAsNameMessage } from "@stellar-secrets/core/credentials";

/**
 * Why a value may not be written under `name`: it looks like a credential typed or pasted where
 * the name belongs (names are stored in clear text), worded as `set` and the name boxes refuse it,
 * never repeating it, with the rule id; undefined for any other name.
 */
export function credentialNameProblem(name: string): string | undefined {
  const looks = credentialAsName(name);
  return looks === undefined ? undefined : `${credentialAsNameMessage("the name", looks)} [invalid-secret-name]`;
}
