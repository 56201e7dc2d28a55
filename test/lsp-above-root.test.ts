/**
 * A project in a subfolder of its repository through the language server: a `.gitattributes` or
 * `.sops.yaml` above its root changed on disk reaches the diagnostics at once (the server watches
 * those folders, outside the workspace folder the editor opened, and reads them again on the
 * watched-file event), where it waited for the project's next reload. Real git, real server.
 */
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { LspClient, makeProject, sops } from "./lsp-harness.js";

/** A project in `infra/` of a git work tree, one action using its one secret; `top` is the work tree's top, above the project's root. */
async function subfolderProject() {
  const org = await makeProject({ subdir: "infra", secrets: { development: { stripe_api_key: "v" } }, environments: ["development"], files: { "actions/a.yaml": "kind: action\nname: a\nmethod: GET\npath: /x\nheaders:\n  - { name: K, type: secret, secret: stripe_api_key }\n" } });
  const top = dirname(org.dir);
  execFileSync("git", ["init", "-q", top]);
  return { org, top };
}

describe("files above a subfolder project's root, changed on disk", () => {
  it("are watched, and re-checked on their watched-file events: a finding appears on the file and goes again", async () => {
    const { org, top } = await subfolderProject();
    const client = await LspClient.start({ folders: [org.dir] });
    try {
      // the folder above the root (the top of the work tree) is watched, outside the workspace folder (registered once the project is loaded)
      const topUri = pathToFileURL(top).href;
      await client.waitFor(
        () => client.registrations.some((r) => r.method === "workspace/didChangeWatchedFiles" && JSON.stringify(r.registerOptions).includes(JSON.stringify({ baseUri: topUri, pattern: "*" }))),
        "a watcher of the folder above the root",
      );
      const attributes = join(top, ".gitattributes");
      const attributesUri = pathToFileURL(attributes).href;
      writeFileSync(attributes, "*.png binary\ninfra/secrets/*.enc.yaml filter=lfs\n");
      await client.filesChanged([{ uri: attributesUri, type: 1 }]);
      const found = await client.waitForDiagnostics(attributesUri, (ds) => ds.length === 1, "git-attributes on ../.gitattributes");
      expect(found.map((d) => [d.code, d.range.start.line])).toEqual([["git-attributes", 1]]);
      // edited to an honest line: the finding goes
      writeFileSync(attributes, "*.png binary\n");
      await client.filesChanged([{ uri: attributesUri, type: 2 }]);
      await client.waitForDiagnostics(attributesUri, (ds) => ds.length === 0, "no finding once the line is gone");
      // a .sops.yaml above the root naming an outsider, then deleted
      const mallory = await sops.generateIdentity();
      const sopsConfig = join(top, ".sops.yaml");
      const sopsUri = pathToFileURL(sopsConfig).href;
      writeFileSync(sopsConfig, `creation_rules:\n  - age: ${mallory.recipient}\n`);
      await client.filesChanged([{ uri: sopsUri, type: 1 }]);
      const drift = await client.waitForDiagnostics(sopsUri, (ds) => ds.some((d) => d.code === "sops-config-drift"), "sops-config-drift on ../.sops.yaml");
      expect(drift.find((d) => d.code === "sops-config-drift")?.message).toContain(mallory.recipient);
      rmSync(sopsConfig);
      await client.filesChanged([{ uri: sopsUri, type: 3 }]);
      await client.waitForDiagnostics(sopsUri, (ds) => ds.length === 0, "no finding once ../.sops.yaml is deleted");
    } finally {
      await client.stop();
      org.remove();
    }
  });
});

describe("files above a subfolder project's root, edited in an unsaved buffer", () => {
  it("re-check as the saved file does: ../.gitattributes and ../.sops.yaml typed into (never saved), then closed; and the project's own .gitattributes", async () => {
    const { org, top } = await subfolderProject();
    const client = await LspClient.start({ folders: [org.dir] });
    try {
      const topUri = pathToFileURL(top).href;
      await client.waitFor(() => client.registrations.some((r) => r.method === "workspace/didChangeWatchedFiles" && JSON.stringify(r.registerOptions).includes(topUri)), "the project loaded");
      // the file on disk is honest; the buffer is not (nothing saved, no watched-file event)
      const attributes = join(top, ".gitattributes");
      const attributesUri = pathToFileURL(attributes).href;
      writeFileSync(attributes, "*.png binary\n");
      await client.open(attributesUri, "*.png binary\n");
      await client.change(attributesUri, "*.png binary\ninfra/secrets/*.enc.yaml filter=lfs\n");
      const found = await client.waitForDiagnostics(attributesUri, (ds) => ds.length === 1, "git-attributes on the unsaved ../.gitattributes");
      expect(found.map((d) => [d.code, d.range.start.line])).toEqual([["git-attributes", 1]]);
      await client.change(attributesUri, "*.png binary\n");
      await client.waitForDiagnostics(attributesUri, (ds) => ds.length === 0, "no finding once the line is typed away");
      await client.change(attributesUri, "infra/secrets/*.enc.yaml working-tree-encoding=UTF-16\n");
      await client.waitForDiagnostics(attributesUri, (ds) => ds.length === 1, "the finding again");
      // closed without saving: the disk's text again
      await client.close(attributesUri);
      await client.waitForDiagnostics(attributesUri, (ds) => ds.length === 0, "the disk's honest file once the buffer is closed");
      // a .sops.yaml above the root that exists only as a buffer (a new, unsaved file)
      const mallory = await sops.generateIdentity();
      const sopsUri = pathToFileURL(join(top, ".sops.yaml")).href;
      writeFileSync(join(top, ".sops.yaml"), "creation_rules: []\n");
      await client.filesChanged([{ uri: sopsUri, type: 1 }]);
      await client.open(sopsUri, "creation_rules: []\n");
      await client.change(sopsUri, `creation_rules:\n  - age: ${mallory.recipient}\n`);
      const drift = await client.waitForDiagnostics(sopsUri, (ds) => ds.some((d) => d.code === "sops-config-drift"), "sops-config-drift on the unsaved ../.sops.yaml");
      expect(drift.find((d) => d.code === "sops-config-drift")?.message).toContain(mallory.recipient);
      // the project's own .gitattributes, typed into: the same
      const own = join(org.dir, ".gitattributes");
      const ownUri = pathToFileURL(own).href;
      writeFileSync(own, "secrets/*.enc.yaml diff=stellar merge=stellar\n");
      await client.filesChanged([{ uri: ownUri, type: 1 }]);
      await client.open(ownUri, "secrets/*.enc.yaml diff=stellar merge=stellar\n");
      await client.change(ownUri, "secrets/*.enc.yaml diff=stellar merge=stellar\nsecrets/*.enc.yaml merge=union\n");
      const union = await client.waitForDiagnostics(ownUri, (ds) => ds.some((d) => d.code === "git-attributes"), "git-attributes on the project's unsaved .gitattributes");
      expect(union.filter((d) => d.code === "git-attributes").map((d) => d.range.start.line)).toEqual([1]);
    } finally {
      await client.stop();
      org.remove();
    }
  });
});
