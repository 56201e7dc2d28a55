import { describe, expect, it } from "vitest";
import { shellPathWord, shellWord } from "./shell.js";

// hostile inputs: text from files anyone can edit (names, paths, keys) or a secret's value
const HOSTILE: ReadonlyArray<[label: string, text: string, word: string, path: string, value: string]> = [
  ["command substitution", "$(x)", `'$(x)'`, `'$(x)'`, `'$(x)'`],
  ["backtick", "a`id`b", "'a`id`b'", "'a`id`b'", "'a`id`b'"],
  ["single quote", "it's", `'it'\\''s'`, `'it'\\''s'`, `'it'\\''s'`],
  ["only a quote", "'", `''\\'''`, `''\\'''`, `''\\'''`],
  ["space", "a b", "'a b'", "'a b'", "'a b'"],
  ["newline", "a\nb", "'a\nb'", "'a\nb'", "'a\nb'"],
  ["leading -", "-rf", "-rf", "./-rf", "'-rf'"],
  ["a folder named -", "-", "-", "./-", "'-'"],
  ["leading - and a space", "- x/y", "'- x/y'", "'./- x/y'", "'- x/y'"],
  ["empty", "", "''", "''", "''"],
  ["unicode", "café/é", "'café/é'", "'café/é'", "'café/é'"],
  ["glob and variables", "*.yaml $HOME ~", "'*.yaml $HOME ~'", "'*.yaml $HOME ~'", "'*.yaml $HOME ~'"],
  ["backslash and double quote", `a\\"b`, `'a\\"b'`, `'a\\"b'`, `'a\\"b'`],
  ["semicolon, pipe, ampersand", "a;b|c&d", "'a;b|c&d'", "'a;b|c&d'", "'a;b|c&d'"],
  ["plain path", "secrets/prod.enc.yaml", "secrets/prod.enc.yaml", "secrets/prod.enc.yaml", "'secrets/prod.enc.yaml'"],
  ["every plain character", "aZ09_./:@%+=,-", "aZ09_./:@%+=,-", "aZ09_./:@%+=,-", "'aZ09_./:@%+=,-'"],
];

/** What a POSIX shell makes of one word built only of bare plain characters and single-quoted runs (the only forms shellWord writes). */
function unquote(word: string): string {
  let out = "";
  let i = 0;
  while (i < word.length) {
    if (word[i] === "'") {
      const end = word.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated quote in ${word}`);
      out += word.slice(i + 1, end);
      i = end + 1;
    } else if (word.startsWith("\\'", i)) {
      out += "'";
      i += 2;
    } else {
      if (!/[A-Za-z0-9_./:@%+=,-]/.test(word[i] as string)) throw new Error(`bare special character ${JSON.stringify(word[i])} in ${word}`);
      out += word[i];
      i += 1;
    }
  }
  return out;
}

describe("shellWord", () => {
  it.each(HOSTILE)("writes %s as one inert shell word in each form", (_label, text, word, path, value) => {
    expect(shellWord(text)).toBe(word);
    expect(shellWord(text, { path: true })).toBe(path);
    expect(shellPathWord(text)).toBe(path);
    expect(shellWord(text, { quote: "always" })).toBe(value);
  });

  it.each(HOSTILE)("reads %s back exactly (a path with ./ before a leading -)", (_label, text) => {
    expect(unquote(shellWord(text))).toBe(text);
    expect(unquote(shellWord(text, { quote: "always" }))).toBe(text);
    expect(unquote(shellPathWord(text))).toBe(text.startsWith("-") ? `./${text}` : text);
  });

  it("never lets a path start with - , quoted or not", () => {
    for (const [, text] of HOSTILE) expect(unquote(shellPathWord(text)).startsWith("-")).toBe(false);
  });
});
