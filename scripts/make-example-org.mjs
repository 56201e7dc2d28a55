#!/usr/bin/env node
// Regenerates the example organisation's encrypted files (secrets/<env>.enc.yaml) and .sops.yaml
// from stellar.yaml (recipients) and the TEST-ONLY plaintext below. Idempotent: a file whose
// current content already decrypts (with the test-only keys in test/fixtures/keys/) to exactly
// these values for exactly these recipients is left untouched, so re-running never churns git.
// Needs `pnpm build` first.
//
// Usage: node scripts/make-example-org.mjs [--check]   (`--check`: change nothing, exit 1 when a file is not up to date)
//
// Every value here is FAKE and public: it only exists so that tests and demos can decrypt.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { decryptSecrets, encryptSecrets, parseIdentityFile, writeFileAtomic } from "../packages/sops/dist/index.js";
import { loadProject, renderSopsConfig, secretsFilePath } from "../packages/core/dist/index.js";
import { scriptArgs } from "./script-args.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const checkOnly = scriptArgs(import.meta.url, { options: { check: { type: "boolean" } } }).values.check === true;

/** TEST-ONLY plaintext, per environment. Fake values, never real credentials. */
const VALUES = {
  development: {
    stripe_api_key: "sk_test_example_dev_0000000000000000000000000000",
    stripe_idempotency_salt: "example-dev-salt-not-a-secret",
    zendesk_api_token: "example-zendesk-dev-token-0000000000",
    hubspot_api_token: "pat-na1-00000000-example-dev-0000-000000000000",
    slack_bot_token: "xoxb-example-dev-0000000000-notreal",
  },
  staging: {
    stripe_api_key: "sk_test_example_staging_00000000000000000000000000",
    stripe_idempotency_salt: "example-staging-salt-not-a-secret",
    zendesk_api_token: "example-zendesk-staging-token-000000",
    hubspot_api_token: "pat-na1-00000000-example-stg-0000-000000000000",
    slack_bot_token: "xoxb-example-staging-0000000000-notreal",
    salesforce_client_secret: "example-salesforce-staging-secret-0000",
  },
  production: {
    stripe_api_key: "sk_test_example_prod_is_fake_000000000000000000000",
    stripe_idempotency_salt: "example-production-salt-not-a-secret",
    zendesk_api_token: "example-zendesk-production-token-0000",
    hubspot_api_token: "pat-na1-00000000-example-prd-0000-000000000000",
    slack_bot_token: "xoxb-example-production-0000000000-notreal",
    salesforce_client_secret: "example-salesforce-production-secret-00",
  },
};

/** Fixed clock so that `lastmodified` does not change between runs. */
const NOW = new Date("2026-01-15T10:00:00Z");

const keysDir = join(root, "test", "fixtures", "keys");
const identities = readdirSync(keysDir)
  .filter((f) => f.endsWith(".txt"))
  .flatMap((f) => parseIdentityFile(readFileSync(join(keysDir, f), "utf8"), join(keysDir, f)));

const project = await loadProject(root);
let changed = 0;

async function upToDate(path, values, recipients) {
  if (!existsSync(path)) return false;
  try {
    const current = await decryptSecrets(readFileSync(path, "utf8"), identities, { path });
    const same =
      current.values.size === values.size &&
      [...values].every(([k, v], i) => current.values.get(k) === v && [...current.values.keys()][i] === k) &&
      current.file.recipients.length === recipients.length &&
      recipients.every((r) => current.file.recipients.includes(r));
    return same;
  } catch {
    return false;
  }
}

for (const env of project.environments) {
  const data = VALUES[env.name];
  if (data === undefined) throw new Error(`no example values for environment ${env.name}`);
  const values = new Map(Object.entries(data));
  const recipients = env.members.map((m) => m.recipient);
  const path = secretsFilePath(project, env.name);
  if (await upToDate(path, values, recipients)) {
    console.log(`unchanged ${env.name}`);
    continue;
  }
  changed++;
  if (checkOnly) {
    console.log(`out of date ${env.name}`);
    continue;
  }
  await writeFileAtomic(path, await encryptSecrets(values, { recipients, now: NOW }));
  console.log(`wrote ${path.slice(root.length + 1)}`);
}

const sopsConfig = renderSopsConfig(project);
const sopsPath = join(root, ".sops.yaml");
if (!existsSync(sopsPath) || readFileSync(sopsPath, "utf8") !== sopsConfig) {
  changed++;
  if (checkOnly) console.log("out of date .sops.yaml");
  else {
    await writeFileAtomic(sopsPath, sopsConfig);
    console.log("wrote .sops.yaml");
  }
}
if (checkOnly && changed > 0) process.exit(1);
