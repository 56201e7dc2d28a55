/**
 * docs/cli.md stays in step with the CLI: every command has a section with its usage line, every
 * flag of every `--help` is documented, and every exit code of the table is listed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT_CODES } from "../packages/cli/src/errors.js";
import { COMMANDS } from "../packages/cli/src/main.js";
import { REPO_ROOT } from "./helpers/cli.js";

const doc = readFileSync(join(REPO_ROOT, "docs/cli.md"), "utf8");

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
});
