/**
 * "Did you mean …?" for mistyped command and flag names: the nearest known word by edit
 * distance, counting a swap of two neighbouring letters as one edit (`lsit` → `list`); and for
 * mistyped secret and environment names, the nearest name by packages/sops' `nearestName`.
 */
import { shellWord, validateSecretName } from "@stellar-secrets/core";
import { editDistance, nearestName } from "@stellar-secrets/sops";

/** A typed name's suggestions judge typos strictly (see packages/sops' `NearestNameOptions`). */
const STRICT = { strict: true } as const;

/** Edit distance with adjacent transpositions, case-insensitive: the one `editDistance` of packages/sops. */
export function typoDistance(a: string, b: string): number {
  return editDistance(a.toLowerCase(), b.toLowerCase());
}

/**
 * The known word nearest to `typed`, when it is close enough to be a typo: at most one edit for
 * words of up to 4 letters, two for longer ones; a known word that `typed` starts (`rot` →
 * `rotate-key`) otherwise. Ties go to the earlier word of `known`. Undefined when nothing is close.
 */
export function didYouMean(typed: string, known: readonly string[]): string | undefined {
  const limit = typed.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const word of known) {
    const d = typoDistance(typed, word);
    if (d < bestDistance) {
      best = word;
      bestDistance = d;
    }
  }
  if (best !== undefined || typed.length < 2) return best;
  return known.find((w) => w.toLowerCase().startsWith(typed.toLowerCase()));
}

/**
 * The "did you mean" of a mistyped secret, environment or member name (the one `nearestName` of
 * packages/sops, the one suggestion rule, judging typos strictly as git and cargo do: `c_key` is
 * not taken for `a_key`): `did you mean "NAME"?`, noting when only the case differs; undefined
 * when no known name is close.
 */
export function didYouMeanName(name: string, known: Iterable<string>): string | undefined {
  const near = nearestName(name, known, STRICT);
  return near === undefined ? undefined : `did you mean "${near.name}"?${near.caseOnly ? " (names are case-sensitive)" : ""}`;
}

/**
 * The hint of an UNKNOWN_SECRET: the environments where `name` is set (`setIn`), else the nearest
 * of the `known` secret names, else to run `list`.
 */
export function unknownSecretHint(name: string, setIn: readonly string[], known: Iterable<string> = []): string {
  if (setIn.length > 0) return `it is set in: ${setIn.join(", ")}`;
  return didYouMeanName(name, known) ?? "run `stellar-secrets list` to see the secrets";
}

/**
 * The hint of an UNKNOWN_MEMBER: the environments where `name` is a member (`where`), else the
 * nearest of the `known` member names, else to run `members list`.
 */
export function unknownMemberHint(name: string, where: readonly string[], known: Iterable<string>): string {
  if (where.length > 0) return `${name} is a member of: ${where.join(", ")}`;
  return didYouMeanName(name, known) ?? "run `stellar-secrets members list`";
}

/**
 * The note `set` prints (on stderr, before it reads the value) when `name` is in no environment
 * (`known`: the names of every environment file) and an existing name is near it: a typo would
 * otherwise create a second secret silently. Undefined when `name` exists or nothing is near.
 *
 * Only a name `set` accepts is offered: when `name` is valid and the nearest existing name breaks
 * the naming rule (`StripeConnectKey`, written by another tool), the note says that name is
 * invalid and how to move its value to `name` (`stellar-secrets rename` prints the steps) instead
 * of suggesting it.
 */
export function newSecretNote(name: string, known: Iterable<string>): string | undefined {
  const names = new Set(known);
  if (names.has(name)) return undefined;
  const near = nearestName(name, names, STRICT);
  if (near === undefined) return undefined;
  const note = `note: no environment has "${name}": this creates a new secret; `;
  const nearValidation = validateSecretName(near.name);
  if (nearValidation.ok || !validateSecretName(name).ok) {
    return `${note}did you mean "${near.name}"?${near.caseOnly ? " (names are case-sensitive)" : ""}`;
  }
  return (
    `${note}the existing secret "${near.name}" looks like the same one, but its name is invalid (${nearValidation.message}) [invalid-secret-name], so set cannot write it; ` +
    `to move its value to "${name}", run \`stellar-secrets rename ${shellWord(near.name)} ${shellWord(name)}\` for the steps`
  );
}

/**
 * The message of a sub-command that `command` does not have (`members lst`): `members: unknown
 * sub-command "lst"; did you mean "list"?` when one of `known` is near, else without the question;
 * `members: missing sub-command` when none was given.
 */
export function unknownSubcommandMessage(command: string, typed: string | undefined, known: readonly string[]): string {
  if (typed === undefined) return `${command}: missing sub-command`;
  const near = didYouMean(typed, known);
  return `${command}: unknown sub-command "${typed}"${near === undefined ? "" : `; did you mean "${near}"?`}`;
}
