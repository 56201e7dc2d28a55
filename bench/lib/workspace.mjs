// The generated workspace of the checker bench (bench/check.mjs): 5,000 agent config files
// (250 auth connectors, 750 connections, 3,500 actions, 500 agents) and 1,000 secrets × 3
// environments in real SOPS files made with a TEST-ONLY key; ten actions reference a misspelt
// name. Used by bench/check.mjs and bench/lsp.mjs (bench/run.mjs only runs bench/*.mjs, not lib/).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ENVS = ["development", "staging", "production"];

/** Writes the workspace into a new temp dir; returns it with the number of references per secret. */
export async function generateWorkspace({ files = 5000, secrets = 1000, dir: into } = {}) {
  const { encryptSecrets } = await import(pathToFileURL(join(root, "packages/sops/dist/index.js")).href);
  const keyText = readFileSync(join(root, "test/fixtures/keys/alice.txt"), "utf8"); // TEST-ONLY key
  const recipient = /public key: (age1[a-z0-9]+)/.exec(keyText)[1];
  const dir = into ?? mkdtempSync(join(tmpdir(), "bench-workspace-"));
  const secret = (i) => `vendor${i}_api_token`;
  const refs = new Map();
  const ref = (name) => refs.set(name, (refs.get(name) ?? 0) + 1);
  writeFileSync(join(dir, "stellar.yaml"), `version: 1\nenvironments:\n${ENVS.map((e) => `  ${e}:\n    members:\n      alice: ${recipient}\n`).join("")}`);
  mkdirSync(join(dir, "secrets"));
  for (const env of ENVS) {
    const values = new Map(Array.from({ length: secrets }, (_, i) => [secret(i), `fake-${env}-value-${i}`]));
    writeFileSync(join(dir, "secrets", `${env}.enc.yaml`), await encryptSecrets(values, { recipients: [recipient] }));
  }
  writeFileSync(
    join(dir, "secrets", "catalog.yaml"),
    `secrets:\n${Array.from({ length: secrets }, (_, i) => `  ${secret(i)}:\n    owner: team-${i % 20}\n    rotate_every: 90d\n`).join("")}`,
  );
  const CONNECTORS = Math.round(files * 0.05);
  const CONNECTIONS = Math.round(files * 0.15);
  const AGENTS = Math.round(files * 0.1);
  const ACTIONS = files - CONNECTORS - CONNECTIONS - AGENTS;
  const put = (rel, text) => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  for (let i = 0; i < CONNECTORS; i++) {
    ref(secret(i % secrets));
    put(`connectors/c${i}.yaml`, `kind: auth_connector\nname: auth_${i}\ndescription: Connector ${i}\ntype: bearer_token\ntoken: { secret: ${secret(i % secrets)} }\n`);
  }
  for (let i = 0; i < CONNECTIONS; i++) {
    ref(secret((CONNECTORS + i) % secrets));
    put(
      `connections/team${i % 25}/conn${i}.yaml`,
      `kind: api_connection\nname: conn_${i}\nbase_url: https://api${i}.example.com/v1\n${i < CONNECTORS ? `auth: auth_${i}\n` : ""}headers:\n  - name: Authorization\n    type: secret\n    secret: ${secret((CONNECTORS + i) % secrets)}\n    prefix: "Bearer "\n  - { name: Accept, type: static, value: application/json }\n`,
    );
  }
  for (let i = 0; i < ACTIONS; i++) {
    const s = i < 10 ? `typo_${secret(i)}` : secret((i * 7) % secrets);
    ref(s);
    put(
      `agents/team${i % 50}/actions/action${i}.yaml`,
      `# action ${i}\nkind: action\nname: action_${i}\ndescription: Does thing ${i} for the team\nconnection: conn_${i % CONNECTIONS}\nmethod: POST\npath: /v1/things/${i}\n${i % 3 === 0 ? "environments: [staging, production]\n" : ""}headers:\n  - { name: X-Api-Key, type: secret, secret: ${s} }\n  - { name: X-Request-Source, type: static, value: agent }\n`,
    );
  }
  for (let i = 0; i < AGENTS; i++) {
    const actions = Array.from({ length: 7 }, (_, k) => `action_${(i * 7 + k) % ACTIONS}`);
    put(`agents/team${i % 50}/agent${i}.yaml`, `kind: agent\nname: agent_${i}\ndescription: Agent ${i}\nactions: [${actions.join(", ")}]\n`);
  }
  // a connector whose secret nothing else references: editing it moves `unused-secret` in the environment files
  let sample = 0;
  for (let i = 0; i < CONNECTORS; i++) {
    if (refs.get(secret(i % secrets)) === 1) {
      sample = i;
      break;
    }
  }
  return { dir, sampleFile: join(dir, `connectors/c${sample}.yaml`), referencesOf: (name) => refs.get(name) ?? 0 };
}
