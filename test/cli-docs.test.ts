/**
 * docs/cli.md stays in step with the CLI: every command has a section with its usage line, every
 * flag of every `--help` is documented, and every exit code of the table is listed.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CommandContext } from "../packages/cli/src/command.js";
import { EXIT_CODES } from "../packages/cli/src/errors.js";
import { COMMANDS, run } from "../packages/cli/src/main.js";
import { REPO_ROOT } from "./helpers/cli.js";

const doc = readFileSync(join(REPO_ROOT, "docs/cli.md"), "utf8");

/** The non-test TypeScript sources under `dir` (recursively), by path relative to the repository. */
function sources(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(join(REPO_ROOT, dir), { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts") || entry.name.endsWith(".test.ts") || entry.name.endsWith(".d.ts")) continue;
    const rel = join(entry.parentPath.slice(REPO_ROOT.length + 1), entry.name);
    out.set(rel, readFileSync(join(REPO_ROOT, rel), "utf8"));
  }
  return out;
}

/** The string literals of a union type `export type NAME = | "A" | "B" ...;` in `file`. */
function unionCodes(file: string, name: string): string[] {
  const text = readFileSync(join(REPO_ROOT, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  const body = text.split(`export type ${name} =`)[1]?.split(";")[0] ?? "";
  return [...body.matchAll(/"([A-Z][A-Z0-9_]+)"/g)].map((m) => m[1] as string);
}

/** The section `## name` of docs/cli.md. */
const sectionOf = (name: string): string => doc.split(`\n## ${name}\n`)[1]?.split("\n## ")[0] ?? "";

describe("docs/cli.md", () => {
  it("has a section, usage line and example for every command, and documents every flag", async () => {
    for (const [name, load] of Object.entries(COMMANDS)) {
      expect(doc, name).toContain(`\n## ${name}\n`);
      const section = doc.split(`\n## ${name}\n`)[1]?.split("\n## ")[0] ?? "";
      expect(section, name).toContain(`stellar-secrets ${name}`);
      expect(section, `${name} example`).toMatch(/```\n\$ (\S+=\S+ )*stellar-secrets /);
      const help = (await load()).default.help;
      for (const flag of new Set(help.match(/--[a-z][a-z-]+/g) ?? [])) {
        expect(section.includes(flag) || doc.includes(flag), `${name} ${flag}`).toBe(true);
        if (help.split("\n")[0]?.includes(flag)) expect(section, `${name} ${flag}`).toContain(flag);
      }
    }
  });

  it("links every command's section from the Contents line", () => {
    const contents = doc.split("\nContents:")[1]?.split("\n\n")[0] ?? "";
    for (const name of Object.keys(COMMANDS)) expect(contents, name).toContain(`[${name}](#${name})`);
  });

  it("closes every code block inside the section that opens it (an open one swallows the next heading)", () => {
    for (const section of doc.split(/\n(?=## )/)) {
      const heading = section.split("\n")[0] ?? "";
      const fences = section.split("\n").filter((l) => l.startsWith("```")).length;
      expect(fences % 2, `${heading}: unclosed code block`).toBe(0);
    }
  });

  it("README's command table: a row per command that names every flag of its usage lines", async () => {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const rows = readme.split("\n").filter((l) => l.startsWith("| `"));
    for (const [name, load] of Object.entries(COMMANDS)) {
      const row = rows.find((l) => l.startsWith(`| \`${name} `) || l.startsWith(`| \`${name}\``));
      expect(row, name).toBeDefined();
      const help = (await load()).default.help;
      const usage = help.slice(0, `${help}\n\n`.indexOf("\n\n"));
      for (const flag of new Set(usage.match(/--[a-z][a-z-]+/g) ?? [])) expect(row?.split(" | ")[0], `${name} ${flag}`).toContain(flag);
    }
  });

  it("lists every error code with its exit status", () => {
    const table = doc.split("## Exit statuses")[1] ?? "";
    for (const [code, status] of Object.entries(EXIT_CODES)) {
      const row = table.split("\n").find((l) => l.includes(`\`${code}\``));
      expect(row, code).toBeDefined();
      expect(row?.startsWith(`| ${status} |`), code).toBe(true);
    }
  });

  it("documents every flag a command parses, in its --help and its section (a flag added to a parser without docs fails here)", async () => {
    const commandSources = sources("packages/cli/src/commands");
    for (const [name, load] of Object.entries(COMMANDS)) {
      const help = (await load()).default.help;
      // the command's own file and its helpers named after it (git.ts, git-signing.ts)
      const text = [...commandSources].filter(([p]) => p.endsWith(`/${name}.ts`) || p.includes(`/${name}-`)).map(([, t]) => t).join("\n");
      const parsed = new Set([...text.matchAll(/["']?([a-z][a-z-]*)["']?: \{ type: "(?:string|boolean)"/g)].map((m) => m[1] as string));
      if (["init", "set", "get", "list", "members", "check"].includes(name)) expect(parsed.size, `${name}: no flag spec found (the pattern no longer matches)`).toBeGreaterThan(0);
      for (const flag of parsed) {
        expect(help, `${name} --help lacks --${flag}`).toContain(`--${flag}`);
        expect(sectionOf(name), `docs/cli.md ## ${name} lacks --${flag}`).toContain(`--${flag}`);
      }
    }
  });

  it("documents every sub-command a command dispatches (members remove, inbox reject, ...)", () => {
    for (const [path, text] of sources("packages/cli/src/commands")) {
      const command = /\/([a-z-]+)\.ts$/.exec(path)?.[1] as string;
      for (const m of text.matchAll(/\bsub === "([a-z-]+)"/g)) {
        expect(sectionOf(command), `docs/cli.md ## ${command} lacks "${command} ${m[1]}"`).toContain(`${command} ${m[1]}`);
      }
    }
  });

  it("documents the top-level options --help lists", async () => {
    let out = "";
    const sink = { write: (c: string | Uint8Array) => ((out += String(c)), true) };
    const ctx = { cwd: REPO_ROOT, env: {}, stdin: process.stdin, stdout: sink, stderr: sink } as unknown as CommandContext;
    expect(await run(["--help"], ctx)).toBe(0);
    const options = out.split("\nOptions:\n")[1]?.split("\n\n")[0] ?? "";
    const names = options.match(/(?<![\w-])--?[a-zA-Z][a-z-]*/g) ?? [];
    expect(names).toEqual(expect.arrayContaining(["--help", "-h", "--version", "-V"]));
    const intro = doc.split("\n## ")[0] ?? "";
    for (const flag of names) expect(intro, flag).toContain(`\`${flag}\``);
    expect(intro).toContain("`stellar-secrets help COMMAND`");
  });

  it("maps every error code the CLI's packages can throw to an exit status (none falls through to 70, an internal error)", () => {
    const thrown = new Set<string>();
    for (const dir of ["packages/cli/src", "packages/core/src", "packages/git/src", "packages/sops/src"]) {
      for (const text of sources(dir).values()) {
        for (const m of text.matchAll(/new (?:Cli|Sops|Core|Git|InvalidConfig)Error\(\s*"([A-Z][A-Z0-9_]+)"/g)) thrown.add(m[1] as string);
      }
    }
    expect(thrown.size, "the pattern no longer finds the thrown codes").toBeGreaterThan(30);
    for (const code of [
      ...thrown,
      ...unionCodes("packages/sops/src/errors.ts", "SopsErrorCode"),
      ...unionCodes("packages/core/src/errors.ts", "CoreErrorCode"),
      ...unionCodes("packages/git/src/errors.ts", "GitErrorCode"),
    ]) {
      expect(EXIT_CODES[code], code).toBeDefined();
    }
  });

  it("documents no flag a command does not take: README's row and docs/cli.md's usage block name only flags of its --help", async () => {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const rows = readme.split("\n").filter((l) => l.startsWith("| `"));
    for (const [name, load] of Object.entries(COMMANDS)) {
      const help = new Set((await load()).default.help.match(/--[a-z][a-z-]+/g) ?? []);
      const row = rows.find((l) => l.startsWith(`| \`${name} `) || l.startsWith(`| \`${name}\``))?.split(" | ")[0] ?? "";
      // the usage block: the first code block of the command's section
      const usage = sectionOf(name).split("```")[1] ?? "";
      expect(usage, `${name}: no usage block`).toContain(`stellar-secrets ${name}`);
      for (const [where, text] of [["README.md", row], ["docs/cli.md usage", usage]] as const) {
        for (const flag of new Set(text.match(/--[a-z][a-z-]+/g) ?? [])) expect(help.has(flag), `${where} of ${name} names ${flag}, which its --help does not`).toBe(true);
      }
    }
  });

  it("documents every environment variable the CLI reads (STELLAR_SECRETS_*, SOPS_*, EDITOR, VISUAL, XDG_CONFIG_HOME), in docs/cli.md and --help", async () => {
    const read = new Set<string>();
    for (const dir of ["packages/cli/src", "packages/sops/src", "packages/git/src", "packages/core/src"]) {
      for (const text of sources(dir).values()) {
        for (const m of text.matchAll(/\benv\??\.([A-Z][A-Z0-9_]+)|env\[\s*"([A-Z][A-Z0-9_]+)"\s*\]|"((?:STELLAR_SECRETS|SOPS_AGE)_[A-Z0-9_]+)"/g)) {
          const name = (m[1] ?? m[2] ?? m[3]) as string;
          if (/^(STELLAR_SECRETS_|SOPS_|EDITOR$|VISUAL$|XDG_CONFIG_HOME$)/.test(name)) read.add(name);
        }
      }
    }
    expect([...read], "the pattern no longer finds the variables").toEqual(expect.arrayContaining(["SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE", "STELLAR_SECRETS_PROBE_CA", "EDITOR"]));
    for (const name of read) expect(doc, `docs/cli.md does not name ${name}`).toContain(name);
    // and `stellar-secrets --help` names them too (none did: a newcomer found them only in the docs);
    // STELLAR_SECRETS_HOOK is set by the hooks git setup writes, for pre-commit, not by a person
    let out = "";
    const sink = { write: (c: string | Uint8Array) => ((out += String(c)), true) };
    const ctx = { cwd: REPO_ROOT, env: {}, stdin: process.stdin, stdout: sink, stderr: sink } as unknown as CommandContext;
    expect(await run(["--help"], ctx)).toBe(0);
    const environment = out.split("\nEnvironment:\n")[1]?.split("\n\n")[0] ?? "";
    for (const name of read) if (name !== "STELLAR_SECRETS_HOOK") expect(environment, `stellar-secrets --help does not name ${name}`).toMatch(new RegExp(`\\b${name}\\b`));
  });

  it("names, quoted, every top-level field of each command's --json object in the command's section (members rm's removedFrom was nowhere)", () => {
    let checked = 0;
    for (const [path, text] of sources("packages/cli/src/commands")) {
      // the command a file belongs to: its name, or the name before "-" for helpers (git-signing.ts)
      const file = /\/([a-z-]+)\.ts$/.exec(path)?.[1] as string;
      const command = Object.hasOwn(COMMANDS, file) ? file : file.split("-")[0]!;
      if (!Object.hasOwn(COMMANDS, command)) continue;
      for (const m of text.matchAll(/renderJson\(\s*\{/g)) {
        // the object literal's text, to its closing brace
        let depth = 1;
        let end = (m.index ?? 0) + m[0].length;
        const start = end;
        for (; depth > 0 && end < text.length; end++) {
          if ("{[(".includes(text[end]!)) depth++;
          else if ("}])".includes(text[end]!)) depth--;
        }
        // its top-level keys: `key:` or a shorthand `key` between top-level commas (spreads left out)
        let level = 0;
        let part = "";
        const parts: string[] = [];
        for (const c of text.slice(start, end - 1)) {
          if ("{[(".includes(c)) level++;
          if ("}])".includes(c)) level--;
          if (c === "," && level === 0) (parts.push(part), (part = ""));
          else part += c;
        }
        parts.push(part);
        for (const key of parts.map((p) => /^\s*"?([A-Za-z_][\w-]*)"?\s*(?::|$)/.exec(p)?.[1]).filter((k): k is string => k !== undefined)) {
          checked++;
          expect(sectionOf(command), `docs/cli.md ## ${command} lacks the --json field "${key}" (${path})`).toContain(`"${key}"`);
        }
      }
    }
    expect(checked, "the pattern no longer finds the --json fields").toBeGreaterThan(60);
  });

  it("says of every command whether it needs a key (the Keys paragraph of the introduction)", () => {
    const keys = doc.split("- **Keys.**")[1]?.split("\n- **")[0] ?? "";
    expect(keys, "no Keys paragraph").toContain("`get`");
    for (const name of Object.keys(COMMANDS)) expect(keys, `the Keys paragraph does not name ${name}`).toMatch(new RegExp(`\`${name}[\` |]`));
  });

  it("never prompts with `read -p` in a shell line (zsh, macOS's shell, reads -p as 'from the coprocess': the README's line failed there and left the key unset)", () => {
    for (const file of ["README.md", "CONTRIBUTING.md", ...readdirSync(join(REPO_ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)]) {
      const text = readFileSync(join(REPO_ROOT, file), "utf8");
      for (const [i, line] of text.split("\n").entries()) expect(line, `${file}:${i + 1}`).not.toMatch(/\bread -[a-oq-z]*p/);
    }
  });

  it("every `stellar-secrets CMD … --flag` written in the docs, the --help texts or a hint of the code names a flag CMD's --help has", async () => {
    const helps = new Map<string, string>();
    for (const [name, load] of Object.entries(COMMANDS)) helps.set(name, (await load()).default.help);
    const texts: [string, string][] = [...helps].map(([name, help]) => [`${name} --help`, help]);
    for (const file of ["README.md", "CONTRIBUTING.md", ...readdirSync(join(REPO_ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)]) {
      texts.push([file, readFileSync(join(REPO_ROOT, file), "utf8")]);
    }
    for (const dir of ["packages/cli/src", "packages/core/src", "packages/sops/src", "packages/git/src", "packages/language-server/src", "extension/src"]) {
      for (const [path, text] of sources(dir)) texts.push([path, text]);
    }
    let checked = 0;
    for (const [where, text] of texts) {
      for (const [i, line] of text.split("\n").entries()) {
        // the command word, then the words up to a shell operator, quote or end of code
        for (const m of line.matchAll(/(?:stellar-secrets|\$S|"\$S") +([a-z][a-z-]*)((?: +[^\s`|;&)>"]+)*)/g)) {
          const help = helps.get(m[1] as string);
          if (help === undefined) continue; // prose ("stellar-secrets does not …")
          for (const flag of m[2]?.match(/(?<=\s)--[a-z][a-z-]+/g) ?? []) {
            checked++;
            expect(flag === "--help" || help.includes(flag), `${where}:${i + 1}: ${m[1]} has no ${flag}`).toBe(true);
          }
        }
      }
    }
    expect(checked, "the pattern no longer finds the commands written").toBeGreaterThan(200);
  });

  it("docs/resolver.md lists every code of ResolverError", () => {
    const table = readFileSync(join(REPO_ROOT, "docs/resolver.md"), "utf8");
    const codes = unionCodes("packages/resolver/src/errors.ts", "ResolverErrorCode");
    expect(codes.length).toBeGreaterThan(5);
    for (const code of codes) expect(table, code).toContain(`\`${code}\``);
  });
});
