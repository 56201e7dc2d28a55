import { describe, expect, it } from "vitest";
import { memoryFs } from "./test-support/memory-fs.js";
import { checkWorkspace } from "./check.js";
import { loadWorkspace } from "./load.js";
import { environmentFileNames, readOtherProjects } from "./other-projects.js";

// environment files as sops writes them (names in clear; the values need no key to be listed)
const env = (...names: string[]): string => `${names.map((n) => `${n}: ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]`).join("\n")}\nsops:\n    age:\n        - recipient: age1xyz\n    mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n    version: 3.10.2\n`;
const PROJECT = "version: 1\nenvironments:\n  development:\n    members: {}\n";
const REPO = {
  "stellar.yaml": PROJECT,
  "secrets/development.enc.yaml": env("sendgrid_api_key", "stripe_secret_key"),
  "connections/sendgrid.yaml": 'kind: api_connection\nname: sendgrid\nbase_url: https://api.sendgrid.com\nheaders:\n  - { name: Authorization, type: secret, secret: sendgrid_api_key, prefix: "Bearer " }\n',
  "connections/stripe.yaml": "kind: api_connection\nname: stripe_api\nbase_url: https://api.stripe.com\nheaders:\n  - { name: X-Key, type: secret, secret: stripe_secret_key }\n",
  // the outer project uses the voice project's secret and action
  "connections/deepgram.yaml": "kind: api_connection\nname: deepgram_transcripts\nbase_url: https://api.deepgram.com\nheaders:\n  - { name: Authorization, type: secret, secret: deepgram_api_key }\n",
  "agents/ops.yaml": "kind: agent\nname: ops_bot\nactions: [dial_out]\n",
  "projects/voice/stellar.yaml": PROJECT,
  "projects/voice/secrets/development.enc.yaml": env("deepgram_api_key"),
  "projects/voice/actions/dial_out.yaml": "# calls out\nkind: action\nname: dial_out\nconnection: stripe_api\nmethod: POST\npath: /calls\n",
};

describe("environmentFileNames", () => {
  it("lists an environment file's top-level names, quoted ones too, without the sops metadata or nested keys", () => {
    expect(environmentFileNames(`${env("a_key")}"true": ENC[x]\r\n'it''s': ENC[y]\n`)).toEqual(["a_key", "true", "it's"]);
  });
});

describe("readOtherProjects", () => {
  it("finds the projects below the root and the one around it, with their secret names and objects", () => {
    const fs = memoryFs(REPO);
    const inner = loadWorkspace("/mem/projects/voice", { fs, atRoot: true }).index.project;
    const around = readOtherProjects(fs, inner);
    expect(around.map((p) => [p.path, p.enclosing, [...p.secrets]])).toEqual([["../..", true, ["sendgrid_api_key", "stripe_secret_key"]]]);
    expect(around[0]?.definitions.find((d) => d.name === "stripe_api")).toEqual({ kind: "api_connection", name: "stripe_api", path: "../../connections/stripe.yaml", line: 2 });
    // the asking project's own objects are not the enclosing project's
    expect(around[0]?.definitions.some((d) => d.name === "dial_out")).toBe(false);
  });
});

describe("a name that only another project of the monorepo has", () => {
  it("unknown-secret says which project has it, and suggests no unrelated name of this one (an editor would offer it as a fix)", () => {
    const ds = checkWorkspace(loadWorkspace("/mem", { fs: memoryFs(REPO), atRoot: true }).index);
    const d = ds.find((x) => x.rule === "unknown-secret");
    expect(d).toMatchObject({ file: "connections/deepgram.yaml", line: 5, column: 50, endColumn: 66, secret: "deepgram_api_key" });
    expect(d?.suggestion).toBeUndefined();
    expect(d?.message).toBe(
      'unknown secret "deepgram_api_key": no environment file of this project has it; projects/voice (a project of its own: projects/voice/stellar.yaml) has it, but a project\'s config files can use only their own project\'s secrets: create it in this project with `stellar-secrets set deepgram_api_key --env ENV`, or move this file into projects/voice/',
    );
  });

  it("unknown-reference names the other project's file and line instead of a nearest name", () => {
    const ds = checkWorkspace(loadWorkspace("/mem", { fs: memoryFs(REPO), atRoot: true }).index);
    const d = ds.find((x) => x.rule === "unknown-reference");
    expect(d).toMatchObject({ file: "agents/ops.yaml", line: 3, column: 11 });
    expect(d?.suggestion).toBeUndefined();
    expect(d?.message).toContain("projects/voice/actions/dial_out.yaml:3 defines it in projects/voice (a project of its own: projects/voice/stellar.yaml)");
  });

  it("a nested project's reference to the enclosing project's secret and connection says so", () => {
    const ds = checkWorkspace(loadWorkspace("/mem/projects/voice", { fs: memoryFs(REPO), atRoot: true }).index);
    expect(ds.filter((d) => d.rule === "unknown-reference").map((d) => d.message)).toEqual([
      'action "dial_out" uses API connection "stripe_api", but there is none by that name in this project; the enclosing project (../../stellar.yaml) defines it in its connections/stripe.yaml:2, and a project can use only its own objects: define the API connection in this project, or move action "dial_out" into that one',
    ]);
  });

  it("a nested project's reference to a secret only the enclosing project has also says the nested stellar.yaml may be a copy to remove (checker session 5, planted)", () => {
    const files = { ...REPO, "projects/voice/connectors/pay.yaml": "kind: auth_connector\nname: pay\ntype: bearer_token\ntoken: { secret: stripe_secret_key }\n" };
    const ds = checkWorkspace(loadWorkspace("/mem/projects/voice", { fs: memoryFs(files), atRoot: true }).index).filter((d) => d.rule === "unknown-secret");
    expect(ds.map((d) => [d.file, d.line])).toEqual([["connectors/pay.yaml", 4]]);
    for (const d of ds) {
      expect(d.message).toMatch(
        /: create it in this project with `stellar-secrets set [a-z_]+ --env ENV`, or, if this project's stellar\.yaml was not meant to make its folder a project of its own \(a copy\), remove it: the folder's files then belong to the enclosing project$/,
      );
    }
  });

  it("lists the other projects' paths a message may name (for rewording it for a reader elsewhere), only once they were read", () => {
    const { index } = loadWorkspace("/mem/projects/voice", { fs: memoryFs(REPO), atRoot: true });
    expect(index.otherProjectPaths()).toEqual([]); // a load reads no other project
    checkWorkspace(index);
    expect(index.otherProjectPaths()).toContain("../../stellar.yaml");
    expect(index.otherProjectPaths()).toContain("../../connections/stripe.yaml");
  });
});
