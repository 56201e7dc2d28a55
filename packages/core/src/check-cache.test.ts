// The editor's incremental check (a CrossFileCache told what each config edit can change) gives
// exactly the diagnostics of a full check, edit after edit.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkWorkspace, configEditAffects, CrossFileCache } from "./check.js";
import { parseConfigFile } from "./config.js";
import { loadWorkspace } from "./load.js";

const FIXTURE = join(fileURLToPath(new URL(".", import.meta.url)), "../../../test/fixtures/checker/references");
const read = (rel: string): string => readFileSync(join(FIXTURE, rel), "utf8");

/** Edits of one config file (relative path → new text, undefined = deleted), applied in order. */
const EDITS: [string, string | undefined][] = [
  // rename the auth connector: the connection that uses it gets unknown-reference (with a suggestion), unused secrets change
  ["connectors/stripe.yaml", read("connectors/stripe.yaml").replace("name: stripe", "name: stripex")],
  ["connectors/stripe.yaml", read("connectors/stripe.yaml")],
  // the agent's environments: missing-environment-value of actions, connections and connectors downstream
  ["agents/sales.yaml", read("agents/sales.yaml").replace("[staging, production]", "[development]")],
  ["agents/sales.yaml", read("agents/sales.yaml").replace("actions: [lookup, charge, refund]", "actions: [lookup]")],
  // a second definition of a name in another file (duplicate names), then the first one moves
  ["connections/extra.yaml", "kind: api_connection\nname: hubspot\nbase_url: https://x.example\n"],
  ["connections/hubspot.yaml", `# moved down\n\n${read("connections/hubspot.yaml")}`],
  ["connections/extra.yaml", "kind: api_connection\nname: hubspt\nbase_url: https://x.example\n"],
  // a reference to a secret appears and goes (unused-secret in the environment files)
  ["connectors/stripe.yaml", `${read("connectors/stripe.yaml")}password: { secret: legacy_ftp_password }\n`],
  ["actions/lookup.yaml", read("actions/lookup.yaml").replace("connection: hubspot", "connection: zendesk")],
  ["connections/extra.yaml", undefined],
  // the name an unresolved link (`connection: zendsk`) is told to use goes, and comes back
  ["connections/zendesk.yaml", read("connections/zendesk.yaml").replace("name: zendesk", "name: helpdesk")],
  ["connections/zendesk.yaml", read("connections/zendesk.yaml")],
  ["agents/sales.yaml", read("agents/sales.yaml")],
  ["actions/lookup.yaml", "kind: action\nname: lookup\nconnection: [not, a, name]\n"],
  ["connectors/stripe.yaml", undefined],
  ["connectors/stripe.yaml", read("connectors/stripe.yaml")],
];

describe("checkWorkspace with a CrossFileCache", () => {
  it("gives the full check's diagnostics after every config edit", () => {
    const { index } = loadWorkspace(FIXTURE, { atRoot: true });
    const cache = new CrossFileCache();
    expect(checkWorkspace(index, { crossFileCache: cache })).toEqual(checkWorkspace(index));
    let reused = 0;
    for (const [rel, text] of EDITS) {
      const old = index.configFiles.get(rel);
      if (text === undefined) index.removeConfigFile(rel);
      else index.setConfigFile(parseConfigFile(text, rel));
      const affected = configEditAffects(index, old, index.configFiles.get(rel));
      if (affected === "all") cache.invalidateAll();
      else cache.invalidate(affected);
      const before = new Map(cache.entries);
      const incremental = checkWorkspace(index, { crossFileCache: cache });
      expect(incremental, `after editing ${rel}`).toEqual(checkWorkspace(index));
      // (the cache's map is updated in place: a deleted file's entry goes with it)
      expect([...cache.entries.keys()].sort(), `after editing ${rel}`).toEqual([...index.configFiles.keys()].sort());
      for (const [p, e] of cache.entries) if (before.get(p)?.diagnostics === e.diagnostics) reused++;
    }
    expect(reused).toBeGreaterThan(0); // the cache did spare work
  });

  it("names the edited file, the files using its names downstream, and duplicates", () => {
    const { index } = loadWorkspace(FIXTURE, { atRoot: true });
    checkWorkspace(index);
    const rel = "agents/sales.yaml";
    const old = index.configFiles.get(rel);
    index.setConfigFile(parseConfigFile(read(rel).replace("[staging, production]", "[development]"), rel));
    const affected = configEditAffects(index, old, index.configFiles.get(rel));
    expect(affected).not.toBe("all");
    // the agent, its actions, their connections and the connector those use
    expect([...(affected as Set<string>)].sort()).toEqual(
      ["actions/charge.yaml", "actions/lookup.yaml", "agents/sales.yaml", "connections/hubspot.yaml", "connections/stripe.yaml", "connectors/stripe.yaml"].sort(),
    );
  });
});
