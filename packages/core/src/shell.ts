/**
 * Words for a POSIX shell (sh, dash, bash, ksh, zsh): the one place that quotes text for a command
 * line a person pastes (a hint's `git checkout -- PATH`, `stellar-secrets rename OLD NEW`), a
 * command git runs through `sh -c` (a driver, a hook) or a line a shell evaluates (`export`'s
 * `NAME='value'`). Pure.
 *
 * Single quotes are the only quoting used: nothing inside them is expanded (no `$`, backtick,
 * backslash or history expansion) and line breaks and any Unicode stay as they are; a `'` is
 * written `'\''`. The callers differ on purpose in two ways, which are the options:
 * - a **path** may start with `-`, which `cd`, git or any command would take for an option (a
 *   folder named `-` would make `cd -` go to the previous folder): it gets `./` in front;
 * - a **value** is always quoted (a reader sees one form whatever the value; a value that looks
 *   plain today may not be tomorrow), where a plain word (a name, a key, a path) is left bare.
 */

/** How {@link shellWord} writes its word (see the module comment). */
export interface ShellWordOptions {
  /** The text is a path: `./` before a leading `-` so that no command reads it as an option. Default false. */
  readonly path?: boolean;
  /** `"always"` single-quotes even a plain word (values); `"when-needed"` (the default) leaves a plain word bare. */
  readonly quote?: "when-needed" | "always";
}

/** The characters of a word that every POSIX shell reads as itself, bare, in any position of a word. */
const PLAIN_WORD = /^[A-Za-z0-9_./:@%+=,-]+$/;

/**
 * `text` as one POSIX shell word that expands to exactly `text` (or, with `path`, to a path naming
 * the same file): bare when every character is plain (letters, digits, `_./:@%+=,-`) and not empty,
 * else single-quoted. Never throws; a NUL (which no shell word, argument or variable can hold) is
 * kept as it is, so a caller whose text may hold one checks for it first.
 */
export function shellWord(text: string, options: ShellWordOptions = {}): string {
  const word = options.path === true && text.startsWith("-") ? `./${text}` : text;
  if (options.quote !== "always" && PLAIN_WORD.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * A path as one shell word: `shellWord(text, { path: true })` — single-quoted unless plain, `./`
 * before a leading `-`.
 */
export function shellPathWord(text: string): string {
  return shellWord(text, { path: true });
}
