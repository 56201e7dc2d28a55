// The merge driver's three-way merge of stellar.yaml per environment and per member name.
import { generateIdentity } from "@stellar-secrets/sops";
import { describe, expect, it } from "vitest";
import { parseProjectConfig, renderProjectConfig, setApprovals, setEnvironmentMembers, setPendingRequests, type ProjectConfig } from "./project.js";
import { mergeProjectConfigs, textMergedProjectConfigProblem } from "./project-merge.js";

const [alice, bob, carol, dave, frank] = (await Promise.all(Array.from({ length: 5 }, () => generateIdentity()))).map((k) => k.recipient) as [string, string, string, string, string];

const project = (members: Record<string, string>): string =>
  renderProjectConfig({
    secretsDir: "secrets",
    environments: ["development", "production"].map((name) => ({ name, members: name === "production" ? Object.entries(members).map(([n, recipient]) => ({ name: n, recipient })) : [{ name: "alice", recipient: alice }] })),
    include: ["**/*.yaml", "**/*.yml"],
    exclude: ["node_modules/**"],
    rules: {},
  } as Omit<ProjectConfig, "root" | "configPath">);

const envOf = (text: string, env = "production") => parseProjectConfig(text, "/p/stellar.yaml").config?.environments.find((e) => e.name === env);
const names = (text: string, env = "production") => envOf(text, env)?.members.map((m) => m.name);

/** What `members approve NAME` writes: the member added, the request dropped, the approval recorded. */
function approve(text: string, name: string, recipient: string): string {
  const env = envOf(text)!;
  let out = setEnvironmentMembers(text, "production", [...env.members, { name, recipient }]);
  out = setPendingRequests(out, "production", (env.pending ?? []).filter((r) => r.name !== name));
  return setApprovals(out, "production", [...(env.approved ?? []), { name, by: "alice", date: "2026-12-04" }]);
}

describe("mergeProjectConfigs", () => {
  it("merges two access requests approved on two branches (members, pending and approved per name)", () => {
    let base = project({ alice });
    base = setPendingRequests(base, "production", [
      { name: "carol", recipient: carol, requested: "2026-12-01" },
      { name: "dave", recipient: dave, requested: "2026-12-02" },
    ]);
    const ours = approve(base, "carol", carol);
    const theirs = approve(base, "dave", dave);
    const merged = mergeProjectConfigs(base, ours, theirs, "stellar.yaml");
    expect(merged?.merged).toBe(true);
    if (!merged?.merged) return;
    expect(merged.fromTheirs.sort()).toEqual(["production.approved.dave", "production.members.dave", "production.pending.dave"]);
    const env = envOf(merged.text)!;
    expect(env.members.map((m) => [m.name, m.recipient])).toEqual([["alice", alice], ["carol", carol], ["dave", dave]]);
    expect(env.pending).toBeUndefined();
    expect(env.approved?.map((a) => a.name)).toEqual(["carol", "dave"]);
    expect(merged.text).not.toMatch(/pending/);
    // the other order gives the same members
    const other = mergeProjectConfigs(base, theirs, ours, "stellar.yaml");
    expect(other?.merged && names(other.text)?.sort()).toEqual(["alice", "carol", "dave"]);
  });

  it("never brings back a member one side removed while the other reordered the members", () => {
    const base = project({ alice, bob, frank });
    const reordered = project({ bob, alice, frank });
    const removed = setEnvironmentMembers(base, "production", [{ name: "alice", recipient: alice }, { name: "bob", recipient: bob }]);
    for (const [ours, theirs] of [[reordered, removed], [removed, reordered]] as const) {
      const merged = mergeProjectConfigs(base, ours, theirs, "stellar.yaml");
      expect(merged?.merged).toBe(true);
      if (merged?.merged) expect(names(merged.text)?.sort()).toEqual(["alice", "bob"]);
    }
  });

  it("takes a member removed on one side and one added on the other", () => {
    const base = project({ alice, bob });
    const ours = setEnvironmentMembers(base, "production", [{ name: "alice", recipient: alice }]);
    const theirs = setEnvironmentMembers(base, "production", [{ name: "alice", recipient: alice }, { name: "bob", recipient: bob }, { name: "carol", recipient: carol }]);
    const merged = mergeProjectConfigs(base, ours, theirs, "stellar.yaml");
    expect(merged?.merged && names(merged.text)).toEqual(["alice", "carol"]);
    expect(merged?.merged && names(merged.text, "development")).toEqual(["alice"]);
  });

  it("reports a conflict when both sides changed one name differently, or one removed what the other changed", () => {
    const base = project({ alice, bob });
    const rekeyed = (key: string) => setEnvironmentMembers(base, "production", [{ name: "alice", recipient: alice }, { name: "bob", recipient: key }]);
    expect(mergeProjectConfigs(base, rekeyed(carol), rekeyed(dave), "stellar.yaml")).toEqual({
      merged: false,
      conflicts: [{ environment: "production", field: "members", name: "bob", ours: "changed", theirs: "changed", reason: "changed-differently" }],
    });
    const removed = setEnvironmentMembers(base, "production", [{ name: "alice", recipient: alice }]);
    expect(mergeProjectConfigs(base, removed, rekeyed(carol), "stellar.yaml")).toEqual({
      merged: false,
      conflicts: [{ environment: "production", field: "members", name: "bob", ours: "removed", theirs: "changed", reason: "changed-differently" }],
    });
    // both added one name with different keys
    const add = (key: string) => setEnvironmentMembers(base, "production", [{ name: "alice", recipient: alice }, { name: "bob", recipient: bob }, { name: "erin", recipient: key }]);
    expect(mergeProjectConfigs(base, add(carol), add(dave), "stellar.yaml")).toMatchObject({ merged: false, conflicts: [{ name: "erin", ours: "added", theirs: "added" }] });
    // the same change on both sides is no conflict
    expect(mergeProjectConfigs(base, add(carol), add(carol), "stellar.yaml")).toMatchObject({ merged: true, text: add(carol) });
  });

  it("reports a member added with another key in another environment on each side (one name is one key: recipient-drift)", () => {
    const base = project({ alice });
    const ours = setEnvironmentMembers(base, "production", [{ name: "alice", recipient: alice }, { name: "carol", recipient: carol }]);
    const theirs = setEnvironmentMembers(base, "development", [{ name: "alice", recipient: alice }, { name: "carol", recipient: dave }]);
    const merged = mergeProjectConfigs(base, ours, theirs, "stellar.yaml");
    expect(merged).toEqual({
      merged: false,
      conflicts: [
        { environment: "development", field: "members", name: "carol", ours: "unchanged", theirs: "added", reason: "one-name-one-key" },
        { environment: "production", field: "members", name: "carol", ours: "added", theirs: "unchanged", reason: "one-name-one-key" },
      ],
    });
    // the same key: merged
    const same = setEnvironmentMembers(base, "development", [{ name: "alice", recipient: alice }, { name: "carol", recipient: carol }]);
    expect(mergeProjectConfigs(base, ours, same, "stellar.yaml")?.merged).toBe(true);
  });

  it("keeps CRLF line breaks when every side has them", () => {
    const crlf = (t: string) => t.replace(/\n/g, "\r\n");
    const base = project({ alice, bob });
    const ours = setEnvironmentMembers(crlf(base), "production", [{ name: "alice", recipient: alice }]);
    const theirs = setEnvironmentMembers(crlf(base), "production", [{ name: "alice", recipient: alice }, { name: "bob", recipient: bob }, { name: "carol", recipient: carol }]);
    const merged = mergeProjectConfigs(crlf(base), ours, theirs, "stellar.yaml");
    expect(merged?.merged && merged.text).toBe(crlf(setEnvironmentMembers(base, "production", [{ name: "alice", recipient: alice }, { name: "carol", recipient: carol }])));
  });

  it("is one side byte for byte when the other changed nothing", () => {
    const base = project({ alice, bob });
    const side = setEnvironmentMembers(base, "production", [{ name: "bob", recipient: bob }]);
    expect(mergeProjectConfigs(base, base, side, "stellar.yaml")).toEqual({ merged: true, text: side, fromTheirs: ["production.members.alice"] });
    expect(mergeProjectConfigs(base, side, base, "stellar.yaml")).toEqual({ merged: true, text: side, fromTheirs: [] });
  });

  it("declines (git's text merge) when anything else differs or a side is not plain", () => {
    const base = project({ alice, bob });
    const ours = setEnvironmentMembers(base, "production", [{ name: "alice", recipient: alice }]);
    const theirs = setEnvironmentMembers(base, "production", [{ name: "alice", recipient: alice }, { name: "bob", recipient: bob }, { name: "carol", recipient: carol }]);
    expect(mergeProjectConfigs(base, ours, theirs, "stellar.yaml")?.merged).toBe(true);
    const declines = [
      theirs.replace("secrets_dir: secrets", "secrets_dir: vault"),
      theirs.replace("# Stellar Secrets project", "# Our project"),
      `${theirs}rules:\n  unused-secret: off\n`,
      theirs.replace("environments:\n", "environments:\n  staging:\n    members: {}\n"),
      theirs.replace("  development:", "  dev:"),
      theirs.replace("  production:\n", "  production: &prod\n"),
      theirs.replace(`carol: ${carol}`, `carol: !!str ${carol}`),
      theirs.replace(`carol: ${carol}`, `carol: ${carol}\n      carol: ${carol}`),
      theirs.replace(`carol: ${carol}`, "carol: 42"),
      theirs.replace("production:\n", "production:\n    note: x\n"),
      theirs.replace(/\n/g, "\r\n"),
      theirs.replace("\n", "\r\n"),
      `\uFEFF${theirs}`,
      "environments: [",
    ];
    for (const t of declines) expect(mergeProjectConfigs(base, ours, t, "stellar.yaml"), t).toBeUndefined();
  });
});

// found by scripts/fuzz-config-merge.mjs: where the merge declines (a comment added), git's text merge
// of one side's reordering and the other's `members rm frank` came out clean with frank still a member
describe("textMergedProjectConfigProblem", () => {
  it("a clean text merge that brings back a member one side removed, or gives one name two keys", () => {
    const base = project({ alice, bob, frank });
    const reordered = `${project({ bob, alice, frank })}# reviewed\n`;
    const removed = setEnvironmentMembers(base, "production", [{ name: "alice", recipient: alice }, { name: "bob", recipient: bob }]);
    expect(mergeProjectConfigs(base, reordered, removed, "stellar.yaml")).toBeUndefined();
    expect(textMergedProjectConfigProblem(base, reordered, removed, reordered)).toMatch(/production\.members\.frank \(removed on one side, yet there\)/);
    // the right text merge: nothing to say
    const right = `${project({ bob, alice })}# reviewed\n`;
    expect(textMergedProjectConfigProblem(base, reordered, removed, right)).toBeUndefined();
    // a name with two keys across environments, which neither side has
    const twoKeys = right.replace(`development:\n    members:\n      alice: ${alice}`, `development:\n    members:\n      alice: ${alice}\n      bob: ${carol}`);
    expect(twoKeys).not.toBe(right);
    expect(textMergedProjectConfigProblem(base, reordered, removed, twoKeys)).toMatch(/development\.members\.bob \(there, although no side has it\)/);
    expect(textMergedProjectConfigProblem(base, reordered, removed, "environments: [")).toBe("the merged text cannot be read, although each side's can");
  });
});
