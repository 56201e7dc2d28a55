/**
 * `stellar-secrets textconv FILE`: a keyless, diff-friendly view of an environment file for git's
 * `diff.<driver>.textconv` — each name with a short fingerprint of its ENC string, and the age
 * recipients by member name with a fingerprint of their wrapped data key. Never prints a value.
 */
import { readFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { findProjectRoot, fingerprint, parseEnvironmentFile, parseProjectConfig, PROJECT_FILE } from "@stellar-secrets/core";
import { commentOfLine, createHash, decodeUtf8, environmentOfFileName, escapeControlCharacters, isSopsError, parseEnc, parseSecretsFile, readKeyGroups, type KeyGroups, type SopsMetadata } from "@stellar-secrets/sops";
import { parseCommandArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";

const help = `Usage: stellar-secrets textconv FILE

Prints a keyless view of an environment file for \`git diff\`: one line per secret with the first
8 hex digits of the SHA-256 of its encrypted string (a changed value changes its line; a
data-key rotation changes every line), each comment where it stands (the sops metadata included)
as a "# comment ..." line with
a fingerprint of what is stored (an encrypted comment is never decrypted, a clear one never
repeated), then the file's age recipients, named by the members of
stellar.yaml where the key is known, with a fingerprint of the wrapped data key (for a file with
sops key groups: how many groups decrypt it, and each group's keys, an age key with a fingerprint
of its wrapped share). A file that is
not a valid encrypted SOPS file is flagged; a plaintext value is shown as PLAINTEXT, never
printed. No key is needed or used.

Set up once per clone:
  echo 'secrets/*.enc.yaml diff=stellar' >> .gitattributes
  git config diff.stellar.textconv "stellar-secrets textconv"
`;

const INVALID = "# WARNING: not a valid encrypted SOPS file";
const HEADER = "# stellar-secrets textconv: keyless view; fp = first 8 hex digits of sha256 of the stored encrypted string";

/** Member name per age recipient, from the stellar.yaml around `dirs` (the first found). */
async function memberNames(dirs: string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const dir of dirs) {
    const root = findProjectRoot(dir);
    if (root === undefined) continue;
    try {
      const { config } = parseProjectConfig(await readFile(join(root, PROJECT_FILE), "utf8"), join(root, PROJECT_FILE));
      for (const env of config?.environments ?? []) for (const m of env.members) if (!names.has(m.recipient)) names.set(m.recipient, m.name);
    } catch {
      // unreadable stellar.yaml: keys stay unnamed
    }
    break;
  }
  return names;
}

/** The environment an environment file is for: `<env>` of `<env>.enc.yaml`, else the placeholder `ENV`. */
export function environmentOf(path: string): string {
  return environmentOfFileName(basename(path)) ?? "ENV";
}

/** The keyless view of an environment file's text (`path` is only used in messages). */
export function renderTextconv(text: string, path: string, members: ReadonlyMap<string, string>): string {
  const out = [HEADER];
  // no column alignment: one longer name must not change every other line of the diff
  try {
    const file = parseSecretsFile(text, { path });
    const c = file.comments;
    for (const stored of c?.header ?? []) out.push(commentLine("at the top", stored));
    for (const e of file.entries) {
      for (const stored of c?.above.get(e.name) ?? []) out.push(commentLine(`above ${e.name}`, stored));
      out.push(`${shownName(e.name)}: ${e.raw === "" ? "(empty)" : `fp:${fingerprint(e.raw)}`}`);
      const inline = c?.inline.get(e.name);
      if (inline !== undefined) out.push(commentLine(`after ${e.name}`, inline));
    }
    for (const stored of c?.footer ?? []) out.push(commentLine("at the end", stored));
    // a comment in or after the sops metadata (no place of a value holds it): shown too, or adding one would not show in git diff
    const meta = file.metadataRange;
    const scanEnd = file.entries.some((e) => e.nameRange.start > meta.start) ? meta.end : text.length;
    let at = meta.start;
    for (const line of text.slice(meta.start, scanEnd).split("\n")) {
      const stored = commentOfLine(line);
      if (stored !== undefined) out.push(commentLine(at < meta.end ? "in the sops metadata" : "after the sops metadata", stored));
      at += line.length + 1;
    }
    out.push("", "# recipients (who can decrypt)");
    for (const s of file.metadata.age) {
      const recipient = s.recipient.trim();
      out.push(`${members.get(recipient) ?? "(not a member)"} ${recipient} wrapped-key fp:${fingerprint(s.enc.trim())}`);
    }
    out.push(...keyGroupsLines(file.metadata, members));
    return lines(out);
  } catch {
    // not a valid SOPS file: names from core's keyless reader, values never shown
  }
  // the environment is named by the file (`<env>.enc.yaml`), so hints name a real `--env`
  const model = parseEnvironmentFile(text, path, environmentOf(path));
  out.push(INVALID);
  for (const d of model.diagnostics) out.push(`#   line ${d.line}: ${d.message}`);
  for (const e of model.entries) {
    const raw = text.slice(e.valueRange.start, e.valueRange.end);
    out.push(`${shownName(e.name)}: ${e.empty ? "(empty)" : e.encrypted ? `fp:${fingerprint(raw)}` : "PLAINTEXT (not encrypted; value not shown)"}`);
  }
  if (model.recipients !== undefined) {
    out.push("", "# recipients (who can decrypt)");
    for (const r of model.recipients) out.push(`${members.get(r) ?? "(not a member)"} ${r}`);
  }
  return lines(out);
}

/**
 * The key groups of a file's metadata (sops Shamir secret sharing), as the view shows them: how
 * many groups decrypt it, then one line per key of each group (an age stanza by member name,
 * label and a fingerprint of its wrapped share; another key type by its id), so that a group
 * handed to another key, a stanza wrapped anew, a key moved between groups or a changed
 * `shamir_threshold` changes the diff. Key groups the readers refuse are shown as such. None: no lines.
 */
function keyGroupsLines(metadata: SopsMetadata, members: ReadonlyMap<string, string>): string[] {
  let kg: KeyGroups | undefined;
  try {
    kg = readKeyGroups(metadata);
  } catch (e) {
    if (!isSopsError(e)) throw e;
    const threshold = metadata.other.shamir_threshold;
    return ["", `# key groups (sops Shamir secret sharing): cannot be read (${e.message.replace(/^invalid sops metadata: /, "")}); shamir_threshold fp:${fingerprint(JSON.stringify(threshold ?? null))}, key_groups fp:${fingerprint(JSON.stringify(metadata.other.key_groups ?? null))}`];
  }
  if (kg === undefined) return [];
  const n = kg.groups.length;
  const out = [
    "",
    kg.thresholdWritten || n === 1
      ? `# key groups (sops Shamir secret sharing): any ${kg.threshold} of ${n} group${n === 1 ? "" : "s"} decrypt it`
      : `# key groups (sops Shamir secret sharing): at least 2 of ${n} groups decrypt it (no shamir_threshold is written)`,
  ];
  kg.groups.forEach((g, i) => {
    if (g.age.length === 0 && g.others.length === 0) out.push(`group ${i + 1}: no keys`);
    for (const s of g.age) out.push(`group ${i + 1}: ${members.get(s.recipient) ?? "(not a member)"} ${s.recipient} wrapped-${kg.groups.length === 1 ? "key" : "share"} fp:${fingerprint(s.enc.trim())}`);
    for (const other of g.others) out.push(`group ${i + 1}: ${other} (not an age key)`);
  });
  return out;
}

/**
 * A secret's name as its line shows it: quoted when it starts with `#` or `"` or holds a space, so
 * that no name (any YAML key a file holds) reads as one of the view's comment, header or recipient lines.
 */
function shownName(name: string): string {
  return /^[#"]|\s/.test(name) ? `"${name}"` : name;
}

/**
 * A comment of the file as the view shows it: where it stands and a fingerprint of what is stored,
 * never its text. sops encrypts comments (`#ENC[…,type:comment]`) as it encrypts values, and this
 * view shows no value, so it decrypts no comment either; a comment in clear text is in the file for
 * anyone to read, but it may hold what should have been a secret, so it is not repeated here
 * (`git diff --no-textconv` shows it).
 */
function commentLine(where: string, stored: string): string {
  const encrypted = parseEnc(stored)?.type === "comment";
  return `# comment ${where} (${encrypted ? "encrypted" : "clear text, not shown"}): fp:${fingerprint(stored)}`;
}

/** The output lines; names and labels come from the file (any change): their control characters are shown escaped. */
function lines(out: readonly string[]): string {
  return `${out.map((line) => escapeControlCharacters(line)).join("\n")}\n`;
}

/** The line that stands for a whole file whose content is not shown: any change of it changes the line. */
function wholeFileLine(bytes: Uint8Array): string {
  return `# whole file: ${bytes.length} bytes, sha256:${createHash("sha256").update(bytes).digest("hex")} (content not shown; \`git diff --no-textconv\` shows it)`;
}

/**
 * What `git diff` shows for the bytes of a file at `path` (git passes the work-tree path, or a
 * temporary copy that keeps the base name). A valid encrypted SOPS file gets the keyless view. Any
 * other file — a branch's `.gitattributes` can send any path to this driver — is never shown
 * either (it may hold plaintext values), but its view ends with the size and SHA-256 of the whole
 * file, so that no change to it can hide behind an unchanged view; a file not named `<env>.enc.yaml`
 * is flagged as not an environment file. Bytes that are not text (not UTF-8, or over 8 MiB) get
 * only those lines. Pure.
 */
export function textconvView(bytes: Uint8Array, filePath: string, members: ReadonlyMap<string, string>): string {
  // messages name the file by its base name: git passes the old side as a copy in a random temp
  // folder (/tmp/git-blob-XXXXXX/<name>) and the new one from the work tree, and a view that named
  // the folder would differ on both sides of every diff of a broken file
  const path = basename(filePath);
  const notEnvironment =
    environmentOfFileName(basename(path)) === undefined
      ? [`# WARNING: ${escapeControlCharacters(basename(path))} is not an environment file (<env>.enc.yaml); .gitattributes sends it to the stellar diff driver`]
      : [];
  let text: string;
  try {
    text = decodeUtf8(bytes, { path });
  } catch {
    return [HEADER, ...notEnvironment, "# WARNING: not readable as text (not valid UTF-8, or over 8 MiB)", wholeFileLine(bytes), ""].join("\n");
  }
  const view = renderTextconv(text, path, members);
  if (notEnvironment.length === 0 && !view.includes(`\n${INVALID}\n`)) return view;
  return [view.slice(0, HEADER.length), ...notEnvironment, view.slice(HEADER.length + 1).replace(/\n$/, ""), wholeFileLine(bytes), ""].join("\n");
}

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  // git appends the path, which may start with "-" (a file `--x` at the top that .gitattributes sends
  // here): no word is an option, so that `git diff` never fails on such a name
  const { positionals } = parseCommandArgs("textconv", argv[0] === "--" ? argv : ["--", ...argv], {}, { min: 1, max: 1, names: "FILE" });
  const path = resolve(ctx.cwd, positionals[0] as string);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new CliError("NOT_FOUND", `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      hint: "textconv takes the path of an environment file (git passes it)",
      cause: error,
    });
  }
  ctx.stdout.write(textconvView(bytes, path, await memberNames([ctx.cwd, dirname(path)])));
  return 0;
}

const command: Command = { summary: "a keyless view of an environment file for `git diff` (textconv driver)", help, run };
export default command;
