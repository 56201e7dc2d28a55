import { describe, expect, it } from "vitest";
import type { ProjectConfig } from "@stellar-secrets/core";
import type { CliError } from "./errors.js";
import type { CommandContext } from "./command.js";
import { ageKeygenCommand, keySourceProblem, nameForKeys, notAMemberHint, selectEnvironments, unknownSecret, youAre } from "./repository.js";

const ALICE = "age1qua746lhnvd8m6tn52e78hxrkr7nmqjgsq6ttq4nuhz9rgjdeayqhgjcv0";
const BOB = "age1f73cxphn004kaw024f96p5vvgs2eqrrtsmhg6kve93nnj6xhvc3seda36r";
const DAVE = "age1wa4szrewm3qzywn2kx050y49g5wxqfdg4sp6m09u84njk48l4gyqgnnvha";

const config = {
  environments: [
    { name: "development", members: [{ name: "alice", recipient: ALICE }] },
    { name: "staging", members: [{ name: "alice", recipient: ALICE }, { name: "bob", recipient: BOB }] },
    { name: "production", members: [{ name: "alice", recipient: ALICE }], pending: [{ name: "dave", recipient: DAVE }] },
  ],
} as unknown as ProjectConfig;

describe("nameForKeys (who the NO_MATCHING_IDENTITY message says you are)", () => {
  it("names you by the member name your key has in any environment, before $USER", () => {
    expect(nameForKeys(config, [BOB], "root")).toBe("bob");
    expect(nameForKeys(config, [BOB], undefined)).toBe("bob");
  });
  it("uses a pending request's name when your key is no member anywhere", () => {
    expect(nameForKeys(config, [DAVE], undefined)).toBe("dave");
  });
  it("falls back to $USER when it is a valid member name, else the placeholder NAME", () => {
    expect(nameForKeys(config, [], "carol")).toBe("carol");
    expect(nameForKeys(config, [], "not a name")).toBe("NAME");
    expect(nameForKeys(config, [], undefined)).toBe("NAME");
  });
});

describe("youAre (who the NO_MATCHING_IDENTITY message says you are)", () => {
  it("names you and your keys, leaving out the placeholder NAME when your name is unknown", () => {
    expect(youAre("bob", [BOB])).toBe(`you (bob, ${BOB})`);
    expect(youAre(nameForKeys(config, [], undefined), [BOB])).toBe(`you (${BOB})`);
    expect(youAre("NAME", [])).toBe("you");
    expect(youAre("carol", [])).toBe("you (carol)");
  });
});

describe("notAMemberHint", () => {
  const production = config.environments[2]!;
  const staging = config.environments[1]!;
  it("points a newcomer to request-access first (the README's way in), then to a member adding them", () => {
    const hint = notAMemberHint(staging, [DAVE], "dave", ["SOPS_AGE_KEY (not set)"]);
    expect(hint).toContain("`stellar-secrets request-access --env staging`");
    expect(hint).toContain(`\`stellar-secrets members add dave ${DAVE} --env staging\``);
    expect(hint).toContain("your keys were looked for in: SOPS_AGE_KEY (not set)");
  });
  it("says a pending request waits for a member's approval", () => {
    const hint = notAMemberHint(production, [DAVE], "dave", []);
    expect(hint).toContain("pending");
    expect(hint).toContain("`stellar-secrets members approve dave --env production`");
    expect(hint).not.toContain("request-access");
  });
});

function thrown(fn: () => unknown): CliError {
  try {
    fn();
  } catch (e) {
    return e as CliError;
  }
  throw new Error("did not throw");
}

describe("did you mean, for a mistyped environment or secret name", () => {
  it("names the nearest declared environment, then lists them all (UNKNOWN_ENVIRONMENT)", () => {
    const e = thrown(() => selectEnvironments({ ...config, configPath: "/r/stellar.yaml" } as ProjectConfig, ["developmnt"], { all: false }));
    expect(e.code).toBe("UNKNOWN_ENVIRONMENT");
    expect(e.hint).toBe('the environments are: development, staging, production; did you mean "development"?');
    const far = thrown(() => selectEnvironments(config, ["qa"], { all: false }));
    expect(far.hint).toBe("the environments are: development, staging, production");
    expect(thrown(() => selectEnvironments(config, ["Staging"], { all: false })).hint).toBe('the environments are: development, staging, production; did you mean "staging"? (names are case-sensitive)');
  });
  it("names the nearest secret of any environment when the name is set nowhere (UNKNOWN_SECRET)", () => {
    const e = unknownSecret("strip_api_key", "development", [], ["hubspot_api_token", "stripe_api_key"]);
    expect(e.code).toBe("UNKNOWN_SECRET");
    expect(e.message).toBe('secret "strip_api_key" has no value in development');
    expect(e.hint).toBe('did you mean "stripe_api_key"?');
    expect(unknownSecret("zendesk", "development", [], ["stripe_api_key"]).hint).toBe("run `stellar-secrets list` to see the secrets");
    // set elsewhere: where it is set is the answer
    expect(unknownSecret("stripe_api_key", "production", ["development"], ["stripe_api_key"]).hint).toBe("it is set in: development");
  });
});

describe("ageKeygenCommand (the age tools' way to make a key, in hints)", () => {
  const ctx = (env: Record<string, string>) => ({ env }) as unknown as CommandContext;
  it("makes the folder first (age-keygen -o does not, and a fresh machine has no ~/.config/sops/age)", () => {
    expect(ageKeygenCommand(ctx({ HOME: "/home/alice" }))).toBe("mkdir -p ~/.config/sops/age && age-keygen -o ~/.config/sops/age/keys.txt");
  });
  it("names the file sops reads: $XDG_CONFIG_HOME's, quoted when a shell would split it", () => {
    expect(ageKeygenCommand(ctx({ HOME: "/home/alice", XDG_CONFIG_HOME: "/home/alice/cfg" }))).toBe("mkdir -p ~/cfg/sops/age && age-keygen -o ~/cfg/sops/age/keys.txt");
    expect(ageKeygenCommand(ctx({ HOME: "/home/alice", XDG_CONFIG_HOME: "/srv/my config" }))).toBe("mkdir -p '/srv/my config/sops/age' && age-keygen -o '/srv/my config/sops/age/keys.txt'");
    // ~ expands to any home, even one a shell would split; a path outside it is quoted whole
    expect(ageKeygenCommand(ctx({ HOME: "/home/o'neil" }))).toBe("mkdir -p ~/.config/sops/age && age-keygen -o ~/.config/sops/age/keys.txt");
    expect(ageKeygenCommand(ctx({ HOME: "/home/alice", XDG_CONFIG_HOME: "/srv/o'neil" }))).toBe("mkdir -p '/srv/o'\\''neil/sops/age' && age-keygen -o '/srv/o'\\''neil/sops/age/keys.txt'");
  });
});

describe("keySourceProblem (a key file meant to give a key that gives none, first in the hint)", () => {
  const DEF = "/home/alice/.config/sops/age/keys.txt";
  const ids = (problems: string[]) => ({ identities: [], sources: [], problems });
  it("SOPS_AGE_KEY_FILE or SOPS_AGE_SSH_PRIVATE_KEY_FILE naming no usable file: the problem and how to fix it", () => {
    expect(keySourceProblem(ids(["SOPS_AGE_KEY_FILE=/tmp/nope.txt: file not found"]), DEF)).toBe("SOPS_AGE_KEY_FILE=/tmp/nope.txt: file not found: point SOPS_AGE_KEY_FILE at your key file, or unset it");
    expect(keySourceProblem(ids(["SOPS_AGE_SSH_PRIVATE_KEY_FILE=/k: cannot read (EISDIR)"]), DEF)).toBe("SOPS_AGE_SSH_PRIVATE_KEY_FILE=/k: cannot read (EISDIR): point SOPS_AGE_SSH_PRIVATE_KEY_FILE at your key file, or unset it");
    // the key-where-a-path-belongs problem already says how to fix it
    const material = "SOPS_AGE_KEY_FILE holds a private key, not the path of a key file (not shown); set SOPS_AGE_KEY to the key instead";
    expect(keySourceProblem(ids([material]), DEF)).toBe(material);
  });
  it("the sops key file present but unreadable or no key file: chmod, or what it must hold", () => {
    expect(keySourceProblem(ids([`${DEF}: cannot read (EACCES)`]), DEF)).toBe(`the sops key file cannot be used: ${DEF}: cannot read (EACCES); make it readable by you (\`chmod 600 ${DEF}\`, as its owner)`);
    expect(keySourceProblem(ids([`${DEF}:1: a public key, not an age identity`]), DEF)).toContain("it must hold your age key (AGE-SECRET-KEY-1… lines");
  });
  it("nothing for other problems (SOPS_AGE_KEY_CMD, another file) or none", () => {
    expect(keySourceProblem(ids(["SOPS_AGE_KEY_CMD is set, but stellar-secrets runs no command for a key"]), DEF)).toBeUndefined();
    expect(keySourceProblem(ids(["/home/alice/.ssh/id_ed25519: cannot read (EACCES)"]), DEF)).toBeUndefined();
    expect(keySourceProblem({ identities: [], sources: [] }, DEF)).toBeUndefined();
  });
});

describe("an environment whose file is gone", () => {
  it("get says how to create it and how to bring back the committed file (a file deleted by mistake)", async () => {
    const { mkdtempSync, rmSync, unlinkSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { PassThrough } = await import("node:stream");
    const { run } = await import("./main.js");
    const dir = mkdtempSync(join(tmpdir(), "gone-file-"));
    try {
      const ctx = { cwd: dir, env: { HOME: dir }, stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
      // TEST-ONLY public key (no private half anywhere)
      expect(await run(["init", "--env", "staging", "--member", "alice", "--recipient", "age1xwg5v5hra4gewj97vsfdafx4z4cg83nsc2cl9u5lukzfahzc04xsyllf6n"], ctx)).toBe(0);
      unlinkSync(join(dir, "secrets/staging.enc.yaml"));
      const error = await run(["get", "api_key", "--env", "staging"], ctx).then(
        () => undefined,
        (e: { code: string; hint?: string }) => e,
      );
      expect(error?.code).toBe("NOT_FOUND");
      expect(error?.hint).toBe("create it by setting a value: stellar-secrets set NAME --env staging; if it was there before, `git checkout HEAD -- secrets/staging.enc.yaml` brings back its committed version");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
