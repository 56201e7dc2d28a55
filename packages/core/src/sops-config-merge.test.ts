// The merge driver's three-way merge of .sops.yaml per creation rule (what git's text merge makes a
// conflict of when two branches change the members of different environments).
import { generateIdentity } from "@stellar-secrets/sops";
import { describe, expect, it } from "vitest";
import { renderSopsConfig } from "./project.js";
import { mergeSopsConfigs, textMergedSopsConfigProblem } from "./sops-config-merge.js";
import { parseSopsConfig } from "./sops-config.js";

const [alice, bob, carol, dave, erin] = (await Promise.all(Array.from({ length: 5 }, () => generateIdentity()))).map((k) => k.recipient) as [string, string, string, string, string];
const member = (recipient: string) => ({ name: recipient.slice(-6), recipient });

/** The .sops.yaml `init` writes for these environments' members (development, staging, production). */
function config(dev: string[], staging: string[], prod: string[]): string {
  const environments = [
    ["development", dev],
    ["staging", staging],
    ["production", prod],
  ].map(([name, keys]) => ({ name, members: (keys as string[]).map(member) }));
  return renderSopsConfig({ secretsDir: "secrets", environments } as unknown as Parameters<typeof renderSopsConfig>[0]);
}

const ages = (text: string) => parseSopsConfig(text, ".sops.yaml").rules.map((r) => r.age);

describe("mergeSopsConfigs", () => {
  const base = config([alice, bob], [alice, bob], [alice]);

  it("takes each rule from the side that changed its recipients (members of different environments on two branches)", () => {
    const ours = config([alice, bob, dave], [alice, bob], [alice]);
    const theirs = config([alice, bob], [alice, bob], [alice, erin]);
    const merged = mergeSopsConfigs(base, ours, theirs, ".sops.yaml");
    expect(merged?.fromTheirs).toEqual([2]);
    expect(merged?.text).toBe(config([alice, bob, dave], [alice, bob], [alice, erin]));
  });

  it("neighbouring identical rules changed on different sides", () => {
    const ours = config([alice, bob, carol], [alice, bob], [alice]);
    const theirs = config([alice, bob], [alice], [alice]);
    expect(mergeSopsConfigs(base, ours, theirs, ".sops.yaml")?.text).toBe(config([alice, bob, carol], [alice], [alice]));
  });

  it("the same change on both sides is taken once; a reordering alone is no change", () => {
    const ours = config([alice, bob, dave], [alice, bob], [alice]);
    expect(mergeSopsConfigs(base, ours, ours, ".sops.yaml")).toEqual({ text: ours, fromTheirs: [] });
    const reordered = config([bob, alice], [alice, bob], [alice, erin]);
    const merged = mergeSopsConfigs(base, ours, reordered, ".sops.yaml");
    expect(ages(merged!.text)).toEqual([[alice, bob, dave], [alice, bob], [alice, erin]]);
  });

  it("a base in another layout (init's before it wrote 2 spaces) that each side's edit re-indented", () => {
    const old = base.replace(/^  - /gm, "    - ").replace(/^    age/gm, "      age");
    expect(old).not.toBe(base);
    const ours = config([alice, bob, dave], [alice, bob], [alice]);
    const theirs = config([alice, bob], [alice, bob], [alice, erin]);
    expect(mergeSopsConfigs(old, ours, theirs, ".sops.yaml")?.text).toBe(config([alice, bob, dave], [alice, bob], [alice, erin]));
  });

  it("one rule both sides changed: its recipients merged as a set (added by either in, removed by either out), in our rule's form", () => {
    const ours = config([alice, bob], [alice, bob], [alice, dave]);
    const theirs = config([alice, bob], [alice, bob], [alice, erin]);
    expect(mergeSopsConfigs(base, ours, theirs, ".sops.yaml")).toEqual({ text: config([alice, bob], [alice, bob], [alice, dave, erin]), fromTheirs: [], combined: [2] });
    expect(ages(mergeSopsConfigs(base, theirs, ours, ".sops.yaml")!.text)[2]).toEqual([alice, erin, dave]);
    // removed by one side, kept by the other: out (never brought back); added by the other: in
    const removed = config([bob], [alice, bob], [alice]);
    const added = config([alice, bob, carol], [alice, bob], [alice]);
    expect(ages(mergeSopsConfigs(base, removed, added, ".sops.yaml")!.text)[0]).toEqual([bob, carol]);
    expect(ages(mergeSopsConfigs(base, added, removed, ".sops.yaml")!.text)[0]).toEqual([bob, carol]);
    // a flow list and a block list are written back as lists
    const flow = (keys: string[]) => base.replace(`age: ${alice}\n`, `age: [${keys.join(", ")}]\n`);
    expect(mergeSopsConfigs(flow([alice]), flow([alice, dave]), flow([alice, erin]), ".sops.yaml")?.text).toBe(flow([alice, dave, erin]));
    const block = (keys: string[]) => base.replace(`age: ${alice}\n`, `age:\n${keys.map((k) => `      - ${k}\n`).join("")}`);
    expect(mergeSopsConfigs(block([alice]), block([alice, dave]), block([dave, erin]), ".sops.yaml")?.text).toBe(block([dave, erin]));
    // both removed everyone else's key: an empty rule is left to a person
    expect(mergeSopsConfigs(config([alice, bob], [], []).replace("creation_rules: []", "creation_rules:"), config([alice], [], []), config([bob], [], []), ".sops.yaml")).toBeUndefined();
  });

  it("one rule both sides changed and something else of it (or a quoted value): nothing merged", () => {
    const quoted = (keys: string[]) => base.replace(`age: ${alice}\n`, `age: "${keys.join(",")}"\n`);
    expect(mergeSopsConfigs(quoted([alice]), quoted([alice, dave]), quoted([alice, erin]), ".sops.yaml")).toBeUndefined();
    // (found by the fuzz) either side quoted, whichever is ours: declined both ways (symmetric)
    const plain = (keys: string[]) => base.replace(`age: ${alice}\n`, `age: ${keys.join(",")}\n`);
    expect(mergeSopsConfigs(plain([alice]), plain([alice, dave]), quoted([alice, erin]), ".sops.yaml")).toBeUndefined();
    expect(mergeSopsConfigs(plain([alice]), quoted([alice, erin]), plain([alice, dave]), ".sops.yaml")).toBeUndefined();
    const ours = config([alice, bob], [alice, bob], [alice, dave]);
    const theirs = config([alice, bob], [alice, bob], [alice, erin]).replace("production\\.enc", "prod\\.enc");
    expect(mergeSopsConfigs(base, ours, theirs, ".sops.yaml")).toBeUndefined();
  });

  it("anything besides the recipients differs: nothing merged", () => {
    const ours = config([alice, bob, dave], [alice, bob], [alice]);
    const comment = `${config([alice, bob], [alice, bob], [alice, erin])}# a note\n`;
    expect(mergeSopsConfigs(base, ours, comment, ".sops.yaml")).toBeUndefined();
    const moreRules = config([alice, bob], [alice, bob], [alice]).replace("creation_rules:\n", `creation_rules:\n    - path_regex: extra\\.yaml$\n      age: ${erin}\n`);
    expect(mergeSopsConfigs(base, ours, moreRules, ".sops.yaml")).toBeUndefined();
    const otherRegex = base.replace("production\\.enc", "prod\\.enc");
    expect(mergeSopsConfigs(base, ours, otherRegex, ".sops.yaml")).toBeUndefined();
  });

  it("key groups, other key types, an alias, unreadable YAML: nothing merged", () => {
    const groups = `creation_rules:\n  - path_regex: x$\n    key_groups:\n      - age: [${alice}]\n`;
    expect(mergeSopsConfigs(groups, groups.replace(`[${alice}]`, `[${alice}, ${bob}]`), groups, ".sops.yaml")).toBeUndefined();
    const pgp = `creation_rules:\n  - path_regex: x$\n    age: ${alice}\n    pgp: ABCDEF\n`;
    expect(mergeSopsConfigs(pgp, pgp.replace(alice, `${alice},${bob}`), pgp, ".sops.yaml")).toBeUndefined();
    const alias = `creation_rules:\n  - path_regex: x$\n    age: &k ${alice}\n  - path_regex: y$\n    age: *k\n`;
    expect(mergeSopsConfigs(alias, alias.replace(`&k ${alice}`, `&k ${alice},${bob}`), alias, ".sops.yaml")).toBeUndefined();
    expect(mergeSopsConfigs(base, "creation_rules: [\n", base, ".sops.yaml")).toBeUndefined();
  });

  it("a list of recipients and comments inside a rule are kept as each side wrote them", () => {
    const list = (prod: string[]) => `# team keys\ncreation_rules:\n  - path_regex: development\\.enc\\.yaml$\n    age:\n      - ${alice} # alice\n      - ${bob}\n  - path_regex: production\\.enc\\.yaml$\n    age:\n${prod.map((k) => `      - ${k}\n`).join("")}`;
    const b = list([alice]);
    const ours = b.replace(`      - ${bob}\n`, `      - ${bob}\n      - ${dave}\n`);
    const theirs = list([alice, erin]);
    const merged = mergeSopsConfigs(b, ours, theirs, ".sops.yaml");
    // our development rule (with its comment), their production list
    expect(merged?.text).toBe(`${ours.slice(0, ours.lastIndexOf("    age:\n"))}    age:\n      - ${alice}\n      - ${erin}\n`);
    expect(merged?.text).toContain(`- ${alice} # alice`);
    expect(ages(merged!.text)).toEqual([[alice, bob, dave], [alice, erin]]);
  });

  // found by scripts/fuzz-config-merge.mjs (docs/fuzz.md, "Config merges")
  it("a side with an anchor or a tag is left to git's text merge, even when only its form differs (an edit of one place can change another)", () => {
    const ours = config([alice, bob, dave], [alice, bob], [alice]);
    const tagged = base.replace(`age: ${alice}\n`, `age: !!str ${alice}\n`);
    const anchored = base.replace(`age: ${alice}\n`, `age: &prod ${alice}\n`);
    expect(tagged).not.toBe(base);
    expect(anchored).not.toBe(base);
    expect(parseSopsConfig(tagged, ".sops.yaml").nonPlain).toBe("a tag");
    expect(parseSopsConfig(anchored, ".sops.yaml").nonPlain).toBe("an anchor");
    expect(parseSopsConfig(base, ".sops.yaml").nonPlain).toBeUndefined();
    for (const other of [tagged, anchored]) {
      expect(mergeSopsConfigs(base, ours, other, ".sops.yaml")).toBeUndefined();
      expect(mergeSopsConfigs(base, other, ours, ".sops.yaml")).toBeUndefined();
    }
  });

  it("a rule only one side rewrote keeps that side's form; merge(base, base, B) is B byte for byte (B re-indented too)", () => {
    const flow = base.replace(`age: ${alice},${bob}\n`, `age: [${alice}, ${bob}]\n`);
    expect(flow).not.toBe(base);
    expect(mergeSopsConfigs(base, base, flow, ".sops.yaml")?.text).toBe(flow);
    const ours = config([alice, bob], [alice, bob], [alice, erin]);
    const merged = mergeSopsConfigs(base, ours, flow, ".sops.yaml");
    expect(merged?.text).toBe(ours.replace(`age: ${alice},${bob}\n`, `age: [${alice}, ${bob}]\n`));
    expect(mergeSopsConfigs(base, flow, ours, ".sops.yaml")?.text).toBe(merged?.text);
    const reindented = config([alice, bob], [alice, bob], [alice, erin]).replace(/^  - /gm, "    - ").replace(/^    age/gm, "      age");
    expect(mergeSopsConfigs(base, base, reindented, ".sops.yaml")).toEqual({ text: reindented, fromTheirs: [2] });
  });
});

// found by scripts/fuzz-config-merge.mjs: git's text merge (the fallback) came out clean with a
// .sops.yaml that says what neither side said
describe("textMergedSopsConfigProblem", () => {
  const base = `creation_rules:\n    - path_regex: a$\n      age: ${alice}\n# end of rules\n`;

  it("a clean text merge that cannot be read although each side can: one side re-indented every line, the other added a rule in the old layout", () => {
    const ours = `${base}    - path_regex: b$\n      age: ${bob}\n`;
    const theirs = `creation_rules:\n  - path_regex: a$\n    age: ${alice},${carol}\n# end of rules\n`;
    const merged = `creation_rules:\n  - path_regex: a$\n    age: ${alice},${carol}\n# end of rules\n    - path_regex: b$\n      age: ${bob}\n`; // what git merge-file gives
    expect(mergeSopsConfigs(base, ours, theirs, ".sops.yaml")).toBeUndefined();
    expect(textMergedSopsConfigProblem(base, ours, theirs, merged, ".sops.yaml")).toMatch(/^the merged text cannot be read, although each side's can/);
    // a side that could not be read either: nothing new to say
    expect(textMergedSopsConfigProblem(base, ours, "creation_rules: [\n", merged, ".sops.yaml")).toBeUndefined();
  });

  it("both sides added a rule for the same path_regex: sops would use only the first", () => {
    const rule = (k: string) => `    - path_regex: extra$\n      age: ${k}\n`;
    const ours = `${base}${rule(bob)}`;
    const theirs = base.replace("creation_rules:\n", `creation_rules:\n${rule(dave)}`);
    const merged = theirs + rule(bob);
    expect(textMergedSopsConfigProblem(base, ours, theirs, merged, ".sops.yaml")).toBe('both sides added a creation rule for path_regex "extra$": the merged text has 2, and sops uses only the first');
    // one side's own rules, and an ordinary clean merge: fine
    expect(textMergedSopsConfigProblem(base, merged, base, merged, ".sops.yaml")).toBeUndefined();
    expect(textMergedSopsConfigProblem(base, ours, base, ours, ".sops.yaml")).toBeUndefined();
  });
});
