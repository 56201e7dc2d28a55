// Hints of missing-environment-value and unused-secret that say why and what to run (qa s22): the
// chain of objects that makes a reference needed in an environment, and a secret renamed in some
// environments only.
import { describe, expect, it } from "vitest";
import { memoryFs } from "./test-support/memory-fs.js";
import { checkWorkspace } from "./check.js";
import { loadWorkspace } from "./load.js";

const env = (...names: string[]): string => `${names.map((n) => `${n}: ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]`).join("\n")}\nsops:\n    age: []\n    lastmodified: "2026-01-01T00:00:00Z"\n    mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n    version: 3.10.2\n`;
const PROJECT = "version: 1\nenvironments:\n  development:\n    members: {}\n  staging:\n    members: {}\n  production:\n    members: {}\n";
const rows = (files: Record<string, string>) =>
  checkWorkspace(loadWorkspace("/mem", { fs: memoryFs({ "stellar.yaml": PROJECT, ...files }), atRoot: true }).index).filter(
    (d) => d.rule === "missing-environment-value" || d.rule === "unused-secret",
  );

const CONNECTION = "kind: api_connection\nname: reporting_api\nbase_url: https://reporting.example.com\nheaders:\n  - { name: X-Db-Password, type: secret, secret: reporting_db_readonly_password }\n";
const ACTION = "kind: action\nname: daily_report\nconnection: reporting_api\nmethod: GET\npath: /daily\n";
const AGENT = "kind: agent\nname: insights\nenvironments: [staging, production]\nactions: [daily_report]\n";

describe("missing-environment-value through the objects that use the reference", () => {
  it("names the action and the agent that make a connection's header needed in that environment", () => {
    const ds = rows({
      "secrets/development.enc.yaml": env("reporting_db_readonly_password"),
      "secrets/staging.enc.yaml": env("reporting_db_readonly_password"),
      "secrets/production.enc.yaml": env(),
      "connections/reporting.yaml": CONNECTION,
      "actions/daily_report.yaml": ACTION,
      "agents/insights.yaml": AGENT,
    });
    expect(ds.map((d) => [d.rule, d.file, d.line, d.column, d.message])).toEqual([
      [
        "missing-environment-value",
        "connections/reporting.yaml",
        5,
        50,
        'secret "reporting_db_readonly_password" has no value in production, where API connection "reporting_api" is used (in production: by action "daily_report", which agent "insights" lists); set it with `stellar-secrets set reporting_db_readonly_password --env production`',
      ],
    ]);
  });
});

describe("a secret renamed in some environments only", () => {
  it("the new name's missing value and the old name's unused-secret point at each other and at `rename`, which prints the steps", () => {
    const ds = rows({
      "secrets/development.enc.yaml": env("reporting_db_readonly_password"),
      "secrets/staging.enc.yaml": env("reporting_db_readonly_password"),
      "secrets/production.enc.yaml": env("reporting_db_password"),
      "connections/reporting.yaml": CONNECTION,
      "actions/daily_report.yaml": ACTION,
      "agents/insights.yaml": AGENT,
    });
    expect(ds.map((d) => [d.rule, d.file, d.line])).toEqual([
      ["missing-environment-value", "connections/reporting.yaml", 5],
      ["unused-secret", "secrets/production.enc.yaml", 1],
    ]);
    expect(ds[0]?.message).toContain(
      '; or, if it replaces "reporting_db_password" (still set in production, referenced nowhere), `stellar-secrets rename reporting_db_password reporting_db_readonly_password` prints how to move that value',
    );
    expect(ds[1]?.message).toBe(
      'secret "reporting_db_password" is not referenced by any config file; "reporting_db_readonly_password", which config files reference, has no value in production, where this one has: if it replaces this one, `stellar-secrets rename reporting_db_password reporting_db_readonly_password` prints how to move the value; else remove this one with `stellar-secrets rm reporting_db_password`',
    );
  });

  it("says nothing of a rename when the unused secret is of another service or also set where the new one is", () => {
    const ds = rows({
      "secrets/development.enc.yaml": env("reporting_db_readonly_password", "reporting_db_password"),
      "secrets/staging.enc.yaml": env("reporting_db_readonly_password"),
      "secrets/production.enc.yaml": env("reporting_db_password", "billing_db_password"),
      "connections/reporting.yaml": CONNECTION,
      "actions/daily_report.yaml": ACTION,
      "agents/insights.yaml": AGENT,
    });
    expect(ds.every((d) => !d.message.includes("rename"))).toBe(true);
  });
});

describe("a catalog entry for a secret no environment file has", () => {
  it("offers no rename to a name that has an entry of its own (the fix would repeat that key), and says to merge", () => {
    const ds = checkWorkspace(
      loadWorkspace("/mem", {
        fs: memoryFs({
          "stellar.yaml": PROJECT,
          "secrets/development.enc.yaml": env("twilio_auth_token"),
          "secrets/catalog.yaml": "secrets:\n  twilio_auth_token:\n    owner: voice\n  twilio_auth_tokn:\n    description: typo\n  sendgrid_marketing_key:\n    owner: growth\n",
        }),
        atRoot: true,
      }).index,
    ).filter((d) => d.rule === "unknown-secret");
    expect(ds.map((d) => [d.line, d.column, d.suggestion])).toEqual([
      [4, 3, undefined],
      [6, 3, undefined],
    ]);
    expect(ds[0]?.message).toBe(
      'the catalog describes "twilio_auth_tokn", but no environment file has that secret; did you mean "twilio_auth_token"? It has an entry of its own at line 2: merge this one into it and remove this one (renaming it would repeat that key)',
    );
    expect(ds[1]?.message).toBe('the catalog describes "sendgrid_marketing_key", but no environment file has that secret; create it with `stellar-secrets set sendgrid_marketing_key --env ENV`, or remove the entry');
  });
});

describe("a catalog entry with the environment written into its name (checker session 8, planted)", () => {
  it("says the secret's one name and the fix: set it under that name per environment, or merge into the stem's entry, or rename the entry; a word that names no declared environment stays a plain unknown name", () => {
    const ds = checkWorkspace(
      loadWorkspace("/mem", {
        fs: memoryFs({
          "stellar.yaml": PROJECT,
          "secrets/development.enc.yaml": env("slack_bot_token", "stripe_api_key"),
          "secrets/catalog.yaml":
            "secrets:\n  slack_bot_token:\n    owner: chat\n  production_stripe_webhook_secret:\n    owner: payments\n  slack_bot_token_prod:\n    owner: chat\n  staging.stripe_api_key:\n    owner: payments\n  live_chat_token:\n    owner: support\n  prod_stripe_api_key:\n    owner: payments\n",
        }),
        atRoot: true,
      }).index,
    ).filter((d) => d.rule === "unknown-secret" || d.rule === "invalid-secret-name");
    expect(ds.map((d) => [d.rule, d.line, d.suggestion])).toEqual([
      ["unknown-secret", 4, "stripe_webhook_secret"],
      ["unknown-secret", 6, undefined],
      ["invalid-secret-name", 8, "staging_stripe_api_key"],
      ["unknown-secret", 10, undefined],
      ["unknown-secret", 12, "stripe_api_key"],
    ]);
    expect(ds[4]?.message).toMatch(/the secret is "stripe_api_key", without "prod": .*: rename this entry to "stripe_api_key"$/);
    expect(ds[0]?.message).toBe(
      'the catalog describes "production_stripe_webhook_secret", but no environment file has that secret; the secret is "stripe_webhook_secret", without "production": a secret has one name in every environment (each environment\'s file holds its own value: secrets/production.enc.yaml for production) and its catalog entry describes it for all of them: name the secret "stripe_webhook_secret" (rename this entry to it) and set each environment\'s value under that one name: `stellar-secrets set stripe_webhook_secret --env production`',
    );
    expect(ds[1]?.message).toBe(
      'the catalog describes "slack_bot_token_prod", but no environment file has that secret; the secret is "slack_bot_token", without "prod": a secret has one name in every environment (each environment\'s file holds its own value: secrets/production.enc.yaml for production) and its catalog entry describes it for all of them: "slack_bot_token" has an entry of its own at line 2: merge this one into it and remove this one',
    );
    // ("live" is no declared environment: a planned name such as live_chat_token is left as it is)
    expect(ds[3]?.message).toBe('the catalog describes "live_chat_token", but no environment file has that secret; create it with `stellar-secrets set live_chat_token --env ENV`, or remove the entry');
  });
});

describe("a value set under the name with the environment written in (`set production_stripe_api_key --env production`; checker session 8, planted)", () => {
  it("missing-environment-value names the environment's other name and the rename; its unused-secret says which referenced secret it looks like", () => {
    const ds = checkWorkspace(
      loadWorkspace("/mem", {
        fs: memoryFs({
          "stellar.yaml": PROJECT,
          "secrets/development.enc.yaml": env("stripe_api_key"),
          "secrets/staging.enc.yaml": env("stripe_api_key_stg"),
          "secrets/production.enc.yaml": env("production_stripe_api_key"),
          "connectors/stripe.yaml": "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n",
        }),
        atRoot: true,
      }).index,
    ).filter((d) => d.rule === "missing-environment-value" || d.rule === "unused-secret");
    expect(ds.map((d) => [d.rule, d.file, d.line])).toEqual([
      ["missing-environment-value", "connectors/stripe.yaml", 4],
      ["unused-secret", "secrets/production.enc.yaml", 1],
      ["unused-secret", "secrets/staging.enc.yaml", 1],
    ]);
    // before: "set it with `stellar-secrets set stripe_api_key --env staging,production`" beside "reference it … or remove it"
    expect(ds[0]?.message).toBe(
      'secret "stripe_api_key" has no value in staging, production, where auth connector "stripe" is used; staging has "stripe_api_key_stg", production has "production_stripe_api_key", referenced nowhere: this secret with the environment written into its name? A secret has one name in every environment, and each environment\'s file holds its own value under it: `stellar-secrets rename stripe_api_key_stg stripe_api_key`, `stellar-secrets rename production_stripe_api_key stripe_api_key` print how to move the value; or set it with `stellar-secrets set stripe_api_key --env staging,production`',
    );
    expect(ds[1]?.message).toBe(
      'secret "production_stripe_api_key" is not referenced by any config file; it looks like "stripe_api_key", which config files reference, with the environment written into its name: "stripe_api_key" has no value in production, where this one has. A secret has one name in every environment, and each environment\'s file holds its own value under it: `stellar-secrets rename production_stripe_api_key stripe_api_key` prints how to move the value',
    );
    // (a suffix keeps the name's first word: the rename hint of a secret renamed in some environments says it already)
    expect(ds[2]?.message).toContain("`stellar-secrets rename stripe_api_key_stg stripe_api_key` prints how to move the value");
  });

  it("a name whose environment word is another environment's, or whose stem has a value there, keeps the usual messages", () => {
    const ds = checkWorkspace(
      loadWorkspace("/mem", {
        fs: memoryFs({
          "stellar.yaml": PROJECT,
          "secrets/development.enc.yaml": env("stripe_api_key"),
          "secrets/staging.enc.yaml": env("stripe_api_key"),
          // (set in production under staging's word: not this mistake)
          "secrets/production.enc.yaml": env("staging_stripe_api_key"),
          "connectors/stripe.yaml": "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n",
        }),
        atRoot: true,
      }).index,
    ).filter((d) => d.rule === "missing-environment-value" || d.rule === "unused-secret");
    expect(ds.map((d) => d.message).join("\n")).not.toContain("environment written into its name");
  });
});

describe("unused-secret when the only mention of the name is a YAML comment", () => {
  const unused = (files: Record<string, string>) => rows(files).filter((d) => d.rule === "unused-secret");
  const envs = (...names: string[]) => ({ "secrets/development.enc.yaml": env(...names), "secrets/staging.enc.yaml": env(...names), "secrets/production.enc.yaml": env(...names) });

  it("says where a comment names it (the first such comment, by file and line)", () => {
    const ds = unused({
      ...envs("reporting_db_readonly_password", "legacy_hubspot_key"),
      "connections/reporting.yaml": CONNECTION,
      // the reference was commented out instead of kept
      "connections/hubspot.yaml":
        "kind: api_connection\nname: hubspot\nbase_url: https://api.hubapi.com\nheaders:\n  # - { name: Authorization, type: secret, secret: legacy_hubspot_key }\n  - { name: X-Other, type: static, value: x } # legacy_hubspot_key later\n",
      "actions/z.yaml": "# legacy hubspot key\nkind: action\nname: z\nconnection: hubspot\nmethod: GET\npath: /z\n",
    });
    expect(ds.map((d) => [d.file, d.line, d.message])).toEqual(
      ["development", "production", "staging"].map((e) => [
        `secrets/${e}.enc.yaml`,
        2,
        "secret \"legacy_hubspot_key\" is not referenced by any config file; it is mentioned only in a comment at connections/hubspot.yaml:5 (a comment is no reference): " +
          "uncomment the reference there, or reference it with { secret: legacy_hubspot_key }, or remove it with `stellar-secrets rm legacy_hubspot_key`",
      ]),
    );
  });

  it("counts only the exact name as a whole word, and leaves a secret no comment names as it was", () => {
    const ds = unused({
      ...envs("reporting_db_readonly_password", "hubspot_key"),
      "connections/reporting.yaml": CONNECTION.replace("headers:", "# rotate legacy_hubspot_key, hubspot_keys and HUBSPOT_KEY yearly\n# see 'hubspot_key_v2'\nheaders:"),
    });
    expect(ds.map((d) => d.message)).toEqual(Array(3).fill("secret \"hubspot_key\" is not referenced by any config file; reference it where it is used ({ secret: hubspot_key } in an auth connector, or a header { name: …, type: secret, secret: hubspot_key } of a connection or an action), or remove it with `stellar-secrets rm hubspot_key`"));
  });

  it("reads a '#' inside a quoted value as part of the value, not as a comment", () => {
    const ds = unused({
      ...envs("reporting_db_readonly_password", "hubspot_key"),
      "connections/reporting.yaml": CONNECTION.replace("headers:", 'headers:\n  - { name: X-Note, type: static, value: "see #hubspot_key" }'),
    });
    expect(ds.map((d) => d.message)).toEqual(Array(3).fill("secret \"hubspot_key\" is not referenced by any config file; reference it where it is used ({ secret: hubspot_key } in an auth connector, or a header { name: …, type: secret, secret: hubspot_key } of a connection or an action), or remove it with `stellar-secrets rm hubspot_key`"));
  });
});

describe("a declared environment with no file yet (s24)", () => {
  const noFile = (files: Record<string, string>, project = PROJECT) =>
    checkWorkspace(loadWorkspace("/mem", { fs: memoryFs({ "stellar.yaml": project, ...files }), atRoot: true }).index).filter(
      (d) => d.rule === "environment-without-file" || d.rule === "missing-environment-value",
    );

  it("is one info at its declaration in stellar.yaml (the key's range), beside the per-reference missing-environment-value", () => {
    const ds = noFile({
      "secrets/development.enc.yaml": env("reporting_db_readonly_password"),
      "secrets/staging.enc.yaml": env("reporting_db_readonly_password"),
      "connections/reporting.yaml": CONNECTION,
    });
    expect(ds.map((d) => [d.rule, d.severity, d.file, d.line, d.column, d.endLine, d.endColumn])).toEqual([
      ["missing-environment-value", "error", "connections/reporting.yaml", 5, 50, 5, 80],
      ["environment-without-file", "info", "stellar.yaml", 7, 3, 7, 13],
    ]);
    // production has no members in PROJECT: the advice starts with a member (set alone would be NO_RECIPIENTS)
    expect(ds[1]?.message).toMatchInlineSnapshot(`"environment "production" is declared but has no file yet (secrets/production.enc.yaml does not exist), so no secret has a value there, and it has no members, so nobody could read one: add one first (\`stellar-secrets members add NAME KEY --env production\`); then the first \`stellar-secrets set NAME --env production\` creates the file for them"`);
  });

  it("says to add a member first when the environment has none (`set` refuses to create a file nobody can open: NO_RECIPIENTS)", () => {
    const key = "age1r7t4nna8sqyctkujc4lwpun9ged8qz0a4vt2esnxcg8cq7cm84kqdr8nx2"; // TEST-ONLY public key (test/fixtures/keys/)
    const withMember = PROJECT.replace("  production:\n    members: {}\n", `  production:\n    members:\n      alice: ${key}\n`);
    const files = { "secrets/development.enc.yaml": env(), "secrets/staging.enc.yaml": env() };
    const [withOne] = noFile(files, withMember);
    expect(withOne?.message).toBe("environment \"production\" is declared but has no file yet (secrets/production.enc.yaml does not exist), so no secret has a value there; the first `stellar-secrets set NAME --env production` creates it for production's members");
    const [none] = noFile(files);
    expect(none?.message).toBe("environment \"production\" is declared but has no file yet (secrets/production.enc.yaml does not exist), so no secret has a value there, and it has no members, so nobody could read one: add one first (`stellar-secrets members add NAME KEY --env production`); then the first `stellar-secrets set NAME --env production` creates the file for them");
  });

  it("is not reported once the file exists, nor while the secrets folder itself is missing (missing-secrets-dir says so)", () => {
    expect(noFile({ "secrets/development.enc.yaml": env(), "secrets/staging.enc.yaml": env(), "secrets/production.enc.yaml": env() })).toEqual([]);
    const elsewhere = PROJECT.replace("environments:", "secrets_dir: vault\nenvironments:");
    expect(noFile({ "secrets/development.enc.yaml": env() }, elsewhere)).toEqual([]);
  });

  it("is not reported for a name that is no valid environment name (the schema error is the finding; no `set --env` takes that name)", () => {
    const ds = checkWorkspace(
      loadWorkspace("/mem", { fs: memoryFs({ "stellar.yaml": PROJECT + "  \"pre view\":\n    members: {}\n", "secrets/development.enc.yaml": env(), "secrets/staging.enc.yaml": env(), "secrets/production.enc.yaml": env() }), atRoot: true }).index,
    );
    expect(ds.filter((d) => d.rule === "schema").map((d) => d.line)).toEqual([9]);
    expect(ds.filter((d) => d.rule === "environment-without-file")).toEqual([]);
  });

  it("names the environment's file kept under another name (.enc.yml, no .enc, .enc.json) once, at that file, and says to rename it, not that `set` creates one", () => {
    // (Production.enc.yaml and prod.enc.yaml, read as an undeclared environment's file: the next test)
    for (const misnamed of ["production.enc.yml", "production.yaml", "Production.yaml", "production.enc.json"]) {
      const ds = noFile({
        "secrets/development.enc.yaml": env("reporting_db_readonly_password"),
        "secrets/staging.enc.yaml": env("reporting_db_readonly_password"),
        [`secrets/${misnamed}`]: env("reporting_db_readonly_password"),
        "connections/reporting.yaml": CONNECTION,
      });
      // one error at the misnamed file (checker session 5: it was one at every reference used in production)
      expect(ds.map((d) => [d.rule, d.file, d.line]), misnamed).toEqual([
        ["missing-environment-value", `secrets/${misnamed}`, 1],
        ["environment-without-file", "stellar.yaml", 7],
      ]);
      const rename = `\`git mv secrets/${misnamed} secrets/production.enc.yaml\``;
      expect(ds[0]?.message, misnamed).toBe(
        `secrets/${misnamed} is probably production's file under another name: secrets/production.enc.yaml does not exist, and nothing reads secrets/${misnamed} as production's ` +
          `(check, the resolver and \`set\` read only secrets/production.enc.yaml), so no secret has a value in production until it is renamed; rename it: ${rename}`,
      );
      expect(ds[1]?.message, misnamed).toBe(
        `environment "production" is declared but has no file yet (secrets/production.enc.yaml does not exist, but secrets/${misnamed} does: it is read as no environment's file under that name; rename it, ${rename}), so no secret has a value there`,
      );
    }
    // a file of another environment's name is no misnamed production file
    const other = noFile({ "secrets/development.enc.yaml": env(), "secrets/staging.enc.yaml": env(), "secrets/qa.enc.yml": env() });
    expect(other.map((d) => d.message.includes("git mv"))).toEqual([false]);
  });

  it("an environment file under another case or an abbreviation (Production.enc.yaml, prod.enc.yaml) is one error at it saying to rename it, not to remove it, and no error at each reference (checker session 5)", () => {
    for (const misnamed of ["Production.enc.yaml", "prod.enc.yaml"]) {
      const ds = checkWorkspace(
        loadWorkspace("/mem", {
          fs: memoryFs({
            "stellar.yaml": PROJECT,
            "secrets/development.enc.yaml": env("reporting_db_readonly_password"),
            "secrets/staging.enc.yaml": env("reporting_db_readonly_password"),
            [`secrets/${misnamed}`]: env("reporting_db_readonly_password"),
            "connections/reporting.yaml": CONNECTION,
          }),
          atRoot: true,
        }).index,
      ).filter((d) => d.rule !== "stale-mac" && d.rule !== "recipient-drift");
      expect(ds.map((d) => [d.rule, d.file, d.severity]), misnamed).toEqual([
        ["unknown-environment", `secrets/${misnamed}`, "error"],
        ["environment-without-file", "stellar.yaml", "info"],
      ]);
      const env1 = misnamed === "prod.enc.yaml" ? "prod" : "Production";
      expect(ds[0]?.message, misnamed).toBe(
        `secrets/${misnamed} is the file of environment "${env1}", which stellar.yaml does not declare, and secrets/production.enc.yaml, the file of the declared environment "production", does not exist: ` +
          `this is probably production's file under another name${env1 === "Production" ? " (file names are case-sensitive: a case-insensitive disk, as on macOS or Windows, opens it under either name, git and Linux do not)" : ""}, and nothing reads it as production's, so production has no values (each secret used there lacks one until it is renamed); ` +
          `rename it: \`git mv secrets/${misnamed} secrets/production.enc.yaml\``,
      );
      expect(ds[0]?.message).not.toContain("remove the file");
    }
  });

  it("follows the project's rules: off removes it, another severity applies", () => {
    const off = PROJECT + "rules:\n  environment-without-file: \"off\"\n";
    expect(noFile({ "secrets/development.enc.yaml": env(), "secrets/staging.enc.yaml": env() }, off)).toEqual([]);
    const warn = PROJECT + "rules:\n  environment-without-file: warning\n";
    expect(noFile({ "secrets/development.enc.yaml": env(), "secrets/staging.enc.yaml": env() }, warn).map((d) => d.severity)).toEqual(["warning"]);
  });
});
