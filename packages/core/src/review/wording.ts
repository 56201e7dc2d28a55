/**
 * How a review's findings name paths and commands for a reader in another folder: a project
 * nested in the reviewed one (a folder with a stellar.yaml of its own, e.g. `teams/labs`) is
 * reviewed as `review` run inside it would, but its report is read at the outer root, where
 * `secrets/production.enc.yaml` is the outer project's file and `stellar-secrets rotate-key`
 * re-keys the outer project. A {@link FindingWording} words each path relative to the outer root
 * (`teams/labs/secrets/production.enc.yaml`, so `git checkout REV -- PATH` runs from there as
 * printed) and each stellar-secrets command as run in the project's folder
 * (`(cd teams/labs && stellar-secrets rotate-key --env production)`). The outer project's own
 * wording is the identity. {@link readerWording} words a project's findings the same way for a
 * reader in another folder (`check` run in a subfolder). Pure: no file system.
 */

import { join, posix, relative, sep } from "node:path";
import { shellPathWord } from "../shell.js";

/** How one project's findings word paths and commands (see the module comment). */
export interface FindingWording {
  /** The project's folder relative to where review runs ("" for the project review runs in). */
  readonly folder: string;
  /** A project-relative path as the reader names it. */
  path(rel: string): string;
  /**
   * A stellar-secrets command line (`stellar-secrets …`) as the reader runs it: in the project's
   * folder, in a subshell so that the reader's own directory stays where it was.
   */
  command(line: string): string;
  /**
   * A project-relative path as the reader names it ({@link path}) written as one shell word, for a
   * command the reader pastes (`git checkout REV -- PATH`): single-quoted unless plain, and never
   * read as an option. A folder's name is anyone's to choose (a change under review adds it), so
   * `$(…)`, spaces or a leading `-` in it must not reach a shell as they are.
   */
  shellPath(rel: string): string;
}

/**
 * The wording of the findings of the project in `folder` (relative to where review runs, "/"
 * separated, no trailing slash); `undefined` or "" words them as they are (the outer project).
 */
export function findingWording(folder: string | undefined): FindingWording {
  const dir = (folder ?? "").replace(/\/+$/, "");
  if (dir === "") return { folder: "", path: (rel) => rel, command: (line) => line, shellPath: shellPathWord };
  // (a path above the project, `../../stellar.yaml` of the enclosing project, is named from the reader's folder too)
  const path = (rel: string): string => (rel === ".." || rel.startsWith("../") ? posix.normalize(`${dir}/${rel}`) : `${dir}/${rel}`);
  return {
    folder: dir,
    path,
    command: (line) => `(cd ${shellPathWord(dir)} && ${line})`,
    shellPath: (rel) => shellPathWord(path(rel)),
  };
}

/**
 * The wording of one project's findings for a reader in the folder `readerDir` (absolute: `check`
 * run in a subfolder of the project, or above it), as git words paths for its current directory:
 * each path relative to that folder (`../secrets/production.enc.yaml`, so that
 * `git checkout -- PATH` runs there as printed), and each stellar-secrets command as it is when
 * `runsHere` (run in `readerDir`, it finds this project: `stellar.yaml` is looked for upwards),
 * else in the project's folder (`(cd ../.. && stellar-secrets …)`). The identity for a reader at
 * the project root. `projectRoot` and `readerDir` are absolute paths of one file system.
 */
export function readerWording(projectRoot: string, readerDir: string, runsHere: boolean): FindingWording {
  const slash = (p: string): string => p.split(sep).join("/");
  const toRoot = slash(relative(readerDir, projectRoot));
  if (toRoot === "") return findingWording(undefined);
  const path = (rel: string): string => slash(relative(readerDir, join(projectRoot, rel))) || ".";
  return {
    folder: toRoot,
    path,
    command: (line) => (runsHere ? line : `(cd ${shellPathWord(toRoot)} && ${line})`),
    shellPath: (rel) => shellPathWord(path(rel)),
  };
}

/** Characters of a path: a known path must not be part of a longer one. */
const PATH_CHAR = /[A-Za-z0-9_./-]/;

/**
 * A message written for the project's own folder (a checker diagnostic: the checker and the
 * loader word their messages relative to the project root) reworded for the reader of `wording`:
 * each of `paths` (project-relative files the message may name: the diagnostic's file, the
 * environment files, stellar.yaml…) where it stands as a whole path becomes
 * {@link FindingWording.path}; each stellar-secrets command, in a code span or as
 * `(stellar-secrets …)`, becomes {@link FindingWording.command}. A span already worded for the
 * reader (`(cd … && …)`) and a path already below another folder are left as they are, so the
 * function is idempotent: a message holding a fix worded at the source (`withSafeFix`) can pass
 * through it. Returns `message` itself for the outer project. Rewording many messages of one
 * project: {@link messageRewording} prepares the paths once.
 */
export function rewordMessage(message: string, wording: FindingWording, paths: Iterable<string>): string {
  return messageRewording(wording, paths)(message);
}

/**
 * {@link rewordMessage} for the messages of one project: `paths` are prepared once (a project
 * may have thousands of files and as many diagnostics), and each message may name one more
 * (`also`: its diagnostic's own file). The cost of a message is its length times the longest
 * path's, whatever the number of paths.
 */
export function messageRewording(wording: FindingWording, paths: Iterable<string>): (message: string, also?: string) => string {
  if (wording.folder === "") return (message) => message;
  // each known path as it may be written: in text as it is; in a code span (a command the reader
  // pastes) also as one shell word (quoted when not plain, see shellPathWord)
  const inText = new Map<string, string>();
  const inCode = new Map<string, string>();
  let longest = 0;
  const learn = (rel: string, text: Map<string, string>, code: Map<string, string>): void => {
    if (rel === "") return;
    const word = shellPathWord(rel);
    text.set(rel, rel);
    code.set(rel, rel);
    code.set(word, rel);
    longest = Math.max(longest, word.length);
  };
  for (const rel of paths) learn(rel, inText, inCode);
  return (message, also) => {
    let text = inText;
    let code = inCode;
    if (also !== undefined && also !== "" && !inText.has(also)) {
      text = new Map([...inText, [also, also]]);
      code = new Map(inCode);
      learn(also, text, code);
    }
    return reword(message, wording, text, code, longest);
  };
}

/** {@link messageRewording}'s work on one message, with its known paths (written form → path). */
function reword(message: string, wording: FindingWording, inText: ReadonlyMap<string, string>, inCode: ReadonlyMap<string, string>, longest: number): string {
  // the longest known path written at `i` that ends there as a whole path, as [written, path, "/"
  // when it is written as a folder: `move this file into teams/labs/`]
  const at = (text: string, i: number, known: ReadonlyMap<string, string>): [string, string, string] | undefined => {
    for (let end = Math.min(text.length, i + longest); end > i; end--) {
      const slash = text[end] === "/" && endsPath(text, end + 1) ? "/" : "";
      if (slash === "" && !endsPath(text, end)) continue;
      const written = text.slice(i, end);
      const rel = known.get(written);
      if (rel !== undefined) return [`${written}${slash}`, rel, slash];
    }
    return undefined;
  };
  const rewordPaths = (text: string, word: (rel: string) => string = wording.path, known = inText): string => {
    if (known.size === 0) return text;
    let out = "";
    let i = 0;
    while (i < text.length) {
      const before = i === 0 ? "" : (text[i - 1] as string);
      const found = PATH_CHAR.test(before) ? undefined : at(text, i, known);
      if (found === undefined) {
        out += text[i];
        i++;
        continue;
      }
      out += `${word(found[1])}${found[2]}`;
      i += found[0].length;
    }
    return out;
  };
  const rewordPlain = (text: string): string =>
    rewordPaths(text).replace(/\((stellar-secrets [^()`]*)\)/g, (_all, line: string) => wording.command(line));
  const parts = message.split("`");
  // an unbalanced backtick: no code spans, all text
  if (parts.length % 2 === 0) return rewordPlain(message);
  return parts
    .map((part, i) => {
      if (i % 2 === 0) return rewordPlain(part);
      if (/^stellar-secrets(\s|$)/.test(part)) return wording.command(part);
      if (part.startsWith("(cd ")) return part;
      return rewordPaths(part, wording.shellPath, inCode);
    })
    .join("`");
}

/** True when a path ending at `end` of `text` ends there as a whole path (not `x.yaml.bak`, `dir/more`). */
function endsPath(text: string, end: number): boolean {
  const next = text[end];
  if (next === undefined) return true;
  if (next === ".") return !/[A-Za-z0-9_]/.test(text[end + 1] ?? "");
  return !/[A-Za-z0-9_/-]/.test(next);
}
