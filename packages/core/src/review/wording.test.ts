/**
 * The wording of a nested project's findings for a reader at the outer root: paths below the
 * folder, stellar-secrets commands run in it; the outer project's wording is the identity.
 */
import { describe, expect, it } from "vitest";
import { findingWording, messageRewording, readerWording, rewordMessage } from "./wording.js";

const PROD = "secrets/production.enc.yaml";

describe("findingWording", () => {
  it("words nothing for the project review runs in", () => {
    for (const folder of [undefined, ""]) {
      const w = findingWording(folder);
      expect(w.folder).toBe("");
      expect(w.path(PROD)).toBe(PROD);
      expect(w.command("stellar-secrets rotate-key --env production")).toBe("stellar-secrets rotate-key --env production");
    }
  });

  it("puts a nested project's paths below its folder and runs its commands there, in a subshell", () => {
    const w = findingWording("teams/labs/");
    expect(w.folder).toBe("teams/labs");
    expect(w.path(PROD)).toBe("teams/labs/secrets/production.enc.yaml");
    expect(w.command("stellar-secrets rotate-key --env production")).toBe("(cd teams/labs && stellar-secrets rotate-key --env production)");
    // a folder that is not one plain shell word is quoted
    expect(findingWording("teams/o'neil lab").command("stellar-secrets set")).toBe(`(cd 'teams/o'\\''neil lab' && stellar-secrets set)`);
  });

  it("writes a path for a pasted command as one shell word: a folder's $(…), spaces or leading - reach no shell as they are", () => {
    expect(findingWording("teams/labs").shellPath(PROD)).toBe("teams/labs/secrets/production.enc.yaml");
    expect(findingWording("x$(touch PWNED)").shellPath(PROD)).toBe("'x$(touch PWNED)/secrets/production.enc.yaml'");
    expect(findingWording("my team").shellPath(PROD)).toBe("'my team/secrets/production.enc.yaml'");
    expect(findingWording("-n").shellPath(PROD)).toBe("./-n/secrets/production.enc.yaml");
    // the outer project's own paths too (secrets_dir is anyone's to write)
    expect(findingWording(undefined).shellPath("$(id)")).toBe("'$(id)'");
    expect(findingWording(undefined).shellPath(PROD)).toBe(PROD);
    // `cd -` would go to the previous folder, `cd -P` take an option: the folder is ./-…
    expect(findingWording("-").command("stellar-secrets set")).toBe("(cd ./- && stellar-secrets set)");
    expect(findingWording("-P x").command("stellar-secrets set")).toBe("(cd './-P x' && stellar-secrets set)");
  });
});

describe("readerWording (check run in another folder than the project root)", () => {
  it("words nothing at the project root", () => {
    const w = readerWording("/repo", "/repo", true);
    expect([w.folder, w.path(PROD), w.command("stellar-secrets set x")]).toEqual(["", PROD, "stellar-secrets set x"]);
  });

  it("words paths from a subfolder as git does, and leaves commands as they are (they find the project from there)", () => {
    const w = readerWording("/repo", "/repo/agents", true);
    expect(w.path("agents/billing.yaml")).toBe("billing.yaml");
    expect(w.path(PROD)).toBe("../secrets/production.enc.yaml");
    expect(w.path("agents")).toBe(".");
    expect(w.command("stellar-secrets rotate-key --env production")).toBe("stellar-secrets rotate-key --env production");
    expect(rewordMessage(`restore ${PROD} (\`git checkout -- ${PROD}\`)`, w, [PROD])).toBe("restore ../secrets/production.enc.yaml (`git checkout -- ../secrets/production.enc.yaml`)");
  });

  it("words a known folder written with a slash after it (`move this file into teams/labs/`), not a longer path below it", () => {
    const w = readerWording("/repo", "/repo/agents", true);
    expect(rewordMessage("or move this file into teams/labs/", w, ["teams/labs"])).toBe("or move this file into ../teams/labs/");
    expect(rewordMessage("see teams/labs/, then teams/labs/x.yaml", w, ["teams/labs"])).toBe("see ../teams/labs/, then teams/labs/x.yaml");
    expect(rewordMessage("`git mv a teams/labs/`", w, ["teams/labs", "a"])).toBe("`git mv ../a ../teams/labs/`");
  });

  it("runs commands in the project's folder from where they would find another project (above it, or in a nested project)", () => {
    const above = readerWording("/repo/infra/secrets", "/repo", false);
    expect(above.path(PROD)).toBe("infra/secrets/secrets/production.enc.yaml");
    expect(above.command("stellar-secrets set x")).toBe("(cd infra/secrets && stellar-secrets set x)");
    const inNested = readerWording("/repo", "/repo/teams/labs/agents", false);
    expect(inNested.path(PROD)).toBe("../../../secrets/production.enc.yaml");
    expect(inNested.command("stellar-secrets set x")).toBe("(cd ../../.. && stellar-secrets set x)");
    expect(readerWording("/repo/my team", "/repo", false).shellPath(PROD)).toBe("'my team/secrets/production.enc.yaml'");
  });
});

describe("a path above the project (the enclosing project's, as a nested project's message names it)", () => {
  const message = 'unknown secret "outer_key": no environment file of this project has it; the enclosing project (../../stellar.yaml) has it';
  it("is named from the outer root, and from a reader's folder, like every other path", () => {
    expect(findingWording("teams/labs").path("../../stellar.yaml")).toBe("stellar.yaml");
    expect(findingWording("teams/labs").shellPath("../../connections/a b.yaml")).toBe("'connections/a b.yaml'");
    expect(rewordMessage(message, findingWording("teams/labs"), ["../../stellar.yaml"])).toContain("the enclosing project (stellar.yaml) has it");
    expect(rewordMessage(message, readerWording("/r/teams/labs", "/r/teams", false), ["../../stellar.yaml"])).toContain("the enclosing project (../stellar.yaml) has it");
    expect(rewordMessage(message, readerWording("/r/teams/labs", "/r/teams/labs", true), ["../../stellar.yaml"])).toBe(message);
  });
});

describe("rewordMessage", () => {
  const labs = findingWording("teams/labs");
  const known = ["stellar.yaml", PROD, "connectors/labs.yaml"];

  it("returns the outer project's message as it is", () => {
    const message = `restore ${PROD} (\`git checkout -- ${PROD}\`) and run \`stellar-secrets set\``;
    expect(rewordMessage(message, findingWording(undefined), known)).toBe(message);
  });

  it("words whole known paths, in text and in a git command, and each stellar-secrets command", () => {
    const message =
      `the production file ${PROD} has a recipient not in stellar.yaml; restore it (\`git checkout -- ${PROD}\`), ` +
      "re-key it with `stellar-secrets rotate-key --env production`, or store it as a secret (stellar-secrets set NAME)";
    expect(rewordMessage(message, labs, known)).toBe(
      "the production file teams/labs/secrets/production.enc.yaml has a recipient not in teams/labs/stellar.yaml; " +
        "restore it (`git checkout -- teams/labs/secrets/production.enc.yaml`), re-key it with " +
        "`(cd teams/labs && stellar-secrets rotate-key --env production)`, or store it as a secret (cd teams/labs && stellar-secrets set NAME)",
    );
  });

  it("leaves a path that is part of a longer one, and a name that only looks like a path", () => {
    const message = "old/secrets/production.enc.yaml, secrets/production.enc.yaml.bak, stellar.yamlx and stellar.yaml.";
    expect(rewordMessage(message, labs, known)).toBe("old/secrets/production.enc.yaml, secrets/production.enc.yaml.bak, stellar.yamlx and teams/labs/stellar.yaml.");
  });

  it("is idempotent: a fix worded at the source passes through unchanged", () => {
    const once = rewordMessage(`in stellar.yaml or ${PROD}: \`git checkout BASE -- ${PROD}\`, then \`stellar-secrets members add\``, labs, known);
    expect(once).toBe("in teams/labs/stellar.yaml or teams/labs/secrets/production.enc.yaml: `git checkout BASE -- teams/labs/secrets/production.enc.yaml`, then `(cd teams/labs && stellar-secrets members add)`");
    expect(rewordMessage(once, labs, known)).toBe(once);
  });

  it("quotes a path in a code span (a command to paste) when the folder is no plain shell word, and stays idempotent", () => {
    const hostile = findingWording("x$(touch PWNED)");
    const message = `${PROD} is a directory; restore the file from git (\`git checkout -- ${PROD}\`)`;
    const once = rewordMessage(message, hostile, known);
    expect(once).toBe("x$(touch PWNED)/secrets/production.enc.yaml is a directory; restore the file from git (`git checkout -- 'x$(touch PWNED)/secrets/production.enc.yaml'`)");
    expect(rewordMessage(once, hostile, known)).toBe(once);
  });

  it("words a path the source quoted for the shell (a secrets_dir that is no plain word) as one shell word below the folder", () => {
    const odd = "my secrets/production.enc.yaml";
    const message = `${odd} is a directory; restore the file from git (\`git checkout -- '${odd}'\`) or \`git checkout -m -- ./-x/a.enc.yaml\``;
    const once = rewordMessage(message, labs, [odd, "-x/a.enc.yaml"]);
    expect(once).toBe(
      "teams/labs/my secrets/production.enc.yaml is a directory; restore the file from git (`git checkout -- 'teams/labs/my secrets/production.enc.yaml'`) or `git checkout -m -- teams/labs/-x/a.enc.yaml`",
    );
    expect(rewordMessage(once, labs, [odd, "-x/a.enc.yaml"])).toBe(once);
  });

  it("reads a message with an unbalanced backtick as text", () => {
    expect(rewordMessage("a ` in connectors/labs.yaml", labs, known)).toBe("a ` in teams/labs/connectors/labs.yaml");
  });
});

describe("messageRewording", () => {
  const labs = findingWording("my labs");
  const known = ["stellar.yaml", PROD, "connectors/labs.yaml", "connectors/labs.yaml.d/x.yaml"];
  const messages = [
    `restore ${PROD} (\`git checkout -- ${PROD}\`) and run \`stellar-secrets set\``,
    "connectors/labs.yaml.d/x.yaml, connectors/labs.yaml and connectors/labs.yamlx; stellar.yaml.",
    "catalog.yaml names a secret of connectors/other.yaml (`git checkout -- connectors/other.yaml`)",
    "unbalanced ` connectors/labs.yaml",
  ];

  it("answers as rewordMessage does, the paths prepared once; `also` adds one path for one message", () => {
    const reword = messageRewording(labs, known);
    for (const m of messages) expect(reword(m)).toBe(rewordMessage(m, labs, known));
    for (const m of messages) expect(reword(m, "connectors/other.yaml")).toBe(rewordMessage(m, labs, [...known, "connectors/other.yaml"]));
    // the extra path is this message's only
    expect(reword(messages[2]!)).toContain(" connectors/other.yaml (`git checkout -- connectors/other.yaml`)");
    expect(reword(messages[2]!, "connectors/other.yaml")).toContain("'my labs/connectors/other.yaml'");
    expect(messageRewording(findingWording(undefined), known)(messages[0]!)).toBe(messages[0]);
  });

  it("words the paths of a project of thousands of files", () => {
    const many = Array.from({ length: 20_000 }, (_, i) => `connectors/c${i}.yaml`);
    const reword = messageRewording(labs, [...known, ...many]);
    expect(reword("connectors/c19999.yaml and connectors/c1.yaml")).toBe("my labs/connectors/c19999.yaml and my labs/connectors/c1.yaml");
  });
});
