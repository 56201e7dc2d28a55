/**
 * `.sops.yaml` in the editor (qa s24, planted-clinic): its `sops-config-drift` findings are shown
 * as `check` shows them, also when `config.include` does not match it, and follow its edits.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempProject, startInMemory, type InMemoryServer, type TempProject } from "./test-support/in-memory.js";

const MALLORY = "age146egd5gtgw4v00juyu4c9p59ajdf7as5hu9kd40aqex3p55eh9yq8umy2z";

describe(".sops.yaml diagnostics in the language server", () => {
  let project: TempProject;
  let server: InMemoryServer;
  let alice = "";
  const sops = (keys: string) => `creation_rules:\n  - path_regex: secrets/.*\\.enc\\.yaml$\n    age: ${keys}\n`;
  beforeAll(async () => {
    project = await makeTempProject({ development: { stripe_key: "TEST-ONLY" } }, { "connections/stripe.yaml": "kind: api_connection\nname: stripe\nbase_url: https://api.stripe.com\nheaders:\n  - { name: Authorization, type: secret, secret: stripe_key }\n" });
    alice = /age1[a-z0-9]+/.exec(project.read("stellar.yaml"))![0];
    // a project whose include globs name its config folders only: .sops.yaml matches none of them
    project.write("stellar.yaml", `${project.read("stellar.yaml")}config:\n  include: ["connections/**/*.yaml"]\n`);
    project.write(".sops.yaml", sops(`${alice},${MALLORY}`));
    server = await startInMemory({ folders: [project.dir] });
  });
  afterAll(async () => {
    await server.dispose();
    project.remove();
  });

  it("publishes sops-config-drift at .sops.yaml, as check reports it, and clears it when the buffer is fixed", async () => {
    const uri = project.uri(".sops.yaml");
    await server.open(uri, sops(`${alice},${MALLORY}`));
    const ds = await server.waitForDiagnostics(uri, (d) => d.some((x) => x.code === "sops-config-drift"));
    expect(ds.map((d) => [d.code, d.range.start.line, d.range.start.character])).toEqual([["sops-config-drift", 2, 9]]);
    await server.change(uri, sops(alice));
    await server.waitForDiagnostics(uri, (d) => d.length === 0);
  });
});
