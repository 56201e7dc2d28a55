import { describe, expect, it } from "vitest";
import { parseConfigFile, type ConfigDocument } from "./config.js";
import { parseProjectConfig } from "./project.js";
import { WorkspaceIndex } from "./workspace.js";

const PROJECT = parseProjectConfig(
  "version: 1\nenvironments:\n  development:\n    members: {}\n  staging:\n    members: {}\n  production:\n    members: {}\n",
  "/repo/stellar.yaml",
).config!;

const FILES: Record<string, string> = {
  "c/conn.yaml": "kind: api_connection\nname: conn\nbase_url: https://api.example.com\n",
  "a/one.yaml": "kind: action\nname: one\nconnection: conn\nmethod: GET\npath: /one\n",
  "a/two.yaml": "kind: action\nname: two\nconnection: conn\nmethod: GET\npath: /two\nenvironments: [production, development]\n",
  "a/lonely.yaml": "kind: action\nname: lonely\nmethod: GET\npath: /l\n",
  "g/b-agent.yaml": "kind: agent\nname: b_agent\nactions: [one]\nenvironments: [production]\n",
  "g/a-agent.yaml": "kind: agent\nname: a_agent\nactions: [one]\nenvironments: [staging]\n",
  "dup/x.yaml": "kind: action\nname: one\nmethod: GET\npath: /dup\n",
};

function indexOf(order: string[]): WorkspaceIndex {
  const index = new WorkspaceIndex(PROJECT);
  for (const path of order) index.setConfigFile(parseConfigFile(FILES[path] as string, path));
  return index;
}

const docOf = (index: WorkspaceIndex, path: string): ConfigDocument => index.configFiles.get(path)!.documents[0]!;

/** What the derived maps say, in their order. */
function view(index: WorkspaceIndex) {
  return {
    definitions: index.objectDefinitions("action", "one").map((d) => d.file),
    usersOfOne: index.usersOf("action", "one").map((d) => d.file),
    usersOfConn: index.usersOf("api_connection", "conn").map((d) => d.file),
    environments: Object.fromEntries([...index.configFiles.keys()].sort().map((p) => [p, index.environmentsUsedBy(docOf(index, p))])),
  };
}

describe("WorkspaceIndex", () => {
  it("orders definitions and users by file whatever order the files came in, and derives where each object is used", () => {
    const forward = view(indexOf(Object.keys(FILES)));
    expect(forward).toEqual({
      definitions: ["a/one.yaml", "dup/x.yaml"],
      usersOfOne: ["g/a-agent.yaml", "g/b-agent.yaml"],
      usersOfConn: ["a/one.yaml", "a/two.yaml"],
      environments: {
        // (one is defined twice: which definition its agents mean cannot be told, so nothing is derived through either)
        "c/conn.yaml": ["development", "production"], // through two (development, production); nothing through one
        "a/one.yaml": [], // its agents list a name defined twice
        "a/two.yaml": ["development", "production"], // its own, in declared order
        "a/lonely.yaml": ["development", "staging", "production"], // used by nobody: everywhere
        "g/b-agent.yaml": ["production"],
        "g/a-agent.yaml": ["staging"],
        "dup/x.yaml": [], // same name as one: nothing through either
      },
    });
    expect(view(indexOf(Object.keys(FILES).reverse()))).toEqual(forward);
  });

  it("lists every link to a kind by the name it names, resolved or not (linkUsers), as usersOf gives them one name at a time", () => {
    const index = indexOf(Object.keys(FILES));
    index.setConfigFile(parseConfigFile("kind: action\nname: orphan\nconnection: nowhere\nmethod: GET\npath: /o\n", "a/orphan.yaml"));
    const byName = (kind: "action" | "api_connection" | "auth_connector") =>
      Object.fromEntries([...(index.linkUsers(kind) ?? new Map<string, ConfigDocument[]>())].map(([name, docs]) => [name, docs.map((d) => d.file)]));
    expect(byName("api_connection")).toEqual({ conn: ["a/one.yaml", "a/two.yaml"], nowhere: ["a/orphan.yaml"] });
    expect(byName("action")).toEqual({ one: ["g/a-agent.yaml", "g/b-agent.yaml"] });
    expect(byName("auth_connector")).toEqual({});
    expect(index.usersOf("api_connection", "nowhere").map((d) => d.file)).toEqual(["a/orphan.yaml"]);
    expect(index.linkUsers("agent")).toBeUndefined();
  });

  it("gives the same maps after a file is edited in place as a fresh index of the edited files", () => {
    const index = indexOf(Object.keys(FILES));
    view(index); // build the derived maps, so the edit goes through the incremental path
    const edited = "kind: agent\nname: a_agent\nactions: [two]\n";
    index.setConfigFile(parseConfigFile(edited, "g/a-agent.yaml"));
    index.removeConfigFile("dup/x.yaml");
    const fresh = new WorkspaceIndex(PROJECT);
    for (const path of Object.keys(FILES).reverse()) {
      if (path === "dup/x.yaml") continue;
      fresh.setConfigFile(parseConfigFile(path === "g/a-agent.yaml" ? edited : (FILES[path] as string), path));
    }
    const incremental = view(index);
    const rebuilt = view(fresh);
    expect(incremental).toEqual(rebuilt);
    expect(incremental.usersOfOne).toEqual(["g/b-agent.yaml"]);
    expect(index.usersOf("action", "two").map((d) => d.file)).toEqual(["g/a-agent.yaml"]);
    expect(index.environmentsUsedBy(docOf(index, "a/two.yaml"))).toEqual(["development", "production"]);
    expect(index.environmentsUsedBy(docOf(index, "g/a-agent.yaml"))).toEqual(["development", "staging", "production"]);
  });
});
