import { aadForPath, decryptSecrets, encryptSecrets, encryptValue, generateIdentity } from "@stellar-secrets/sops";
import { fingerprint } from "@stellar-secrets/core";
import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import type { CommandContext } from "../command.js";
import textconv, { renderTextconv, textconvView } from "./textconv.js";

// public half of test/fixtures/keys/alice.txt (TEST-ONLY)
const ALICE = "age1r7t4nna8sqyctkujc4lwpun9ged8qz0a4vt2esnxcg8cq7cm84kqdr8nx2";

describe("renderTextconv (what git diff shows)", () => {
  it("shows control characters of names and labels escaped: a change cannot write terminal sequences into a reviewer's git diff", async () => {
    const text = await encryptSecrets(new Map([["stripe_api_key", "fake-1"]]), { recipients: [ALICE] });
    const evil = text
      .replace("stripe_api_key:", '"n\\e]8;;https://evil.example\\ax\\e[1A":')
      .replace(`recipient: ${ALICE}`, `recipient: "${ALICE}\\e[2K\\r\\e[32mok"`);
    for (const input of [evil, evil.replace("sops:", "broken: [\nsops:")]) {
      const out = renderTextconv(input, "secrets/production.enc.yaml", new Map([[ALICE, "alice"]]));
      expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    }
    const out = renderTextconv(evil, "secrets/production.enc.yaml", new Map());
    expect(out).toContain("n\\x1b]8;;https://evil.example\\x07x\\x1b[1A: fp:");
    expect(out).toContain("\\x1b[2K\\r\\x1b[32mok wrapped-key fp:");
  });
});

describe("renderTextconv and sops key groups", () => {
  const BOB = "age1yt2cwkz03anfwtf950fwmev0qlkp802xk7nvwvkhq26hyvlhf5lq23s2pq"; // a public key only
  const MALLORY = "age1p9gss8fmdvswa8vc0t8rupsjkd6ggv9ldsp03jut02u8tsh90unssjshed"; // a public key only
  /** `text`'s sops block with its age list replaced by `key_groups` (wrapped shares stood in for by fixed armor: the view needs no key). */
  const withGroups = (text: string, threshold: string | undefined, groups: string[][]): string => {
    const armor = (n: string) => `              enc: |\n                -----BEGIN AGE ENCRYPTED FILE-----\n                ${n}\n                -----END AGE ENCRYPTED FILE-----\n`;
    const block =
      (threshold === undefined ? "" : `    shamir_threshold: ${threshold}\n`) +
      "    key_groups:\n" +
      groups.map((g) => `        - age:\n${g.map((r) => `            - recipient: ${r.split("=")[0]}\n${armor(r.split("=")[1] ?? "AAAA")}`).join("")}`).join("");
    return text.replace(/^sops:\n {4}age:\n[\s\S]*?(?=^ {4}lastmodified:)/m, `sops:\n${block}`);
  };

  it("shows each group's keys and the threshold: a group handed to another key, a share wrapped anew, a key moved or a threshold changed changes the view", async () => {
    const text = await encryptSecrets(new Map([["stripe_api_key", "fake-1"]]), { recipients: [ALICE] });
    const members = new Map([[ALICE, "alice"], [BOB, "bob"]]);
    const base = withGroups(text, "2", [[`${ALICE}=AAAA`], [`${BOB}=BBBB`], [`${BOB}=CCCC`]]);
    const view = renderTextconv(base, "secrets/production.enc.yaml", members);
    expect(view).toContain("# key groups (sops Shamir secret sharing): any 2 of 3 groups decrypt it\n");
    expect(view).toContain(`group 1: alice ${ALICE} wrapped-share fp:`);
    expect(view).toContain(`group 3: bob ${BOB} wrapped-share fp:`);
    const changes = [
      withGroups(text, "2", [[`${ALICE}=AAAA`], [`${MALLORY}=BBBB`], [`${BOB}=CCCC`]]), // a label changed
      withGroups(text, "2", [[`${ALICE}=AAAA`], [`${BOB}=DDDD`], [`${BOB}=CCCC`]]), // a share wrapped anew
      withGroups(text, "2", [[`${ALICE}=AAAA`, `${BOB}=BBBB`], [], [`${BOB}=CCCC`]]), // a key moved to another group
      withGroups(text, "3", [[`${ALICE}=AAAA`], [`${BOB}=BBBB`], [`${BOB}=CCCC`]]), // the threshold
      withGroups(text, "two", [[`${ALICE}=AAAA`], [`${BOB}=BBBB`], [`${BOB}=CCCC`]]), // groups the readers refuse
    ];
    const views = changes.map((t) => renderTextconv(t, "secrets/production.enc.yaml", members));
    for (const v of views) expect(v).not.toBe(view);
    expect(views[1]!.split("\n").filter((l) => !view.split("\n").includes(l))).toEqual([expect.stringMatching(/^group 2: bob age1\S+ wrapped-share fp:[0-9a-f]{8}$/)]);
    expect(views[2]).toContain(`group 2: no keys`);
    expect(views[4]).toContain("# key groups (sops Shamir secret sharing): cannot be read (`shamir_threshold` is not a whole number)");
    // no threshold written: sops combines whatever groups open (at least two): not 'any 3 of 3', and not the view of a written 2
    const unwritten = renderTextconv(withGroups(text, undefined, [[`${ALICE}=AAAA`], [`${BOB}=BBBB`], [`${BOB}=CCCC`]]), "secrets/production.enc.yaml", members);
    expect(unwritten).toContain("# key groups (sops Shamir secret sharing): at least 2 of 3 groups decrypt it (no shamir_threshold is written)\n");
    expect(unwritten).not.toBe(view);
    // one group: each stanza wraps the whole data key
    expect(renderTextconv(withGroups(text, undefined, [[`${ALICE}=AAAA`, `${MALLORY}=BBBB`]]), "secrets/production.enc.yaml", members)).toContain(`group 1: (not a member) ${MALLORY} wrapped-key fp:`);
  });
});

describe("renderTextconv and comments", () => {
  it("shows each comment where it stands, an encrypted one by fingerprint and a clear one without its text: a comment edit changes one line, its text never shown", async () => {
    const id = await generateIdentity(); // TEST-ONLY
    const text = await encryptSecrets(new Map([["hubspot_api_token", "fake-h"], ["stripe_api_key", "fake-s"]]), { recipients: [id.recipient] });
    const { dataKey } = await decryptSecrets(text, [id.identity]);
    const enc = (words: string): string => encryptValue(Buffer.from(words, "utf8"), dataKey, aadForPath([]), "comment");
    const note = enc(" TEST-ONLY rotate after the audit");
    const commented = `#${enc(" TEST-ONLY header words")}\n${text.replace("\nstripe_api_key:", `\n#${note}\n# a clear note TEST-ONLY\nstripe_api_key:`)}`;
    const before = renderTextconv(text, "secrets/production.enc.yaml", new Map());
    const after = renderTextconv(commented, "secrets/production.enc.yaml", new Map());
    expect(after).not.toMatch(/TEST-ONLY|header words|audit|clear note/);
    const lines = after.split("\n");
    const at = (prefix: string): number => lines.findIndex((l) => l.startsWith(prefix));
    expect(lines[at("# comment at the top (encrypted): fp:")]).toMatch(/^# comment at the top \(encrypted\): fp:[0-9a-f]{8}$/);
    expect(at("# comment at the top")).toBeLessThan(at("hubspot_api_token: fp:"));
    expect(lines[at("# comment above stripe_api_key (encrypted)")]).toBe(`# comment above stripe_api_key (encrypted): fp:${fingerprint(note)}`);
    expect(lines[at("# comment above stripe_api_key (clear text")]).toMatch(/^# comment above stripe_api_key \(clear text, not shown\): fp:[0-9a-f]{8}$/);
    expect(at("# comment above stripe_api_key (encrypted)")).toBeLessThan(at("stripe_api_key: fp:"));
    // the rest of the view is as without comments
    expect(lines.filter((l) => !l.startsWith("# comment "))).toEqual(before.split("\n"));
    // another comment text: only its line changes
    const edited = commented.replace(note, enc(" TEST-ONLY rotate before the audit"));
    const changed = renderTextconv(edited, "secrets/production.enc.yaml", new Map()).split("\n").filter((l, i) => l !== lines[i]);
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatch(/^# comment above stripe_api_key \(encrypted\): fp:/);
  });
});

describe("renderTextconv and names that look like its other lines", () => {
  it("quotes a name that starts with # or holds a space, so that a secret never shows as a comment or a recipient line", async () => {
    const text = await encryptSecrets(new Map([["stripe_api_key", "fake-1"]]), { recipients: [ALICE] });
    const forged = [`# comment above stripe_api_key (encrypted)`, `# recipients (who can decrypt)`, `alice ${ALICE} wrapped-key fp`];
    for (const name of forged) {
      const out = renderTextconv(text.replace("stripe_api_key:", `${JSON.stringify(name)}:`), "secrets/production.enc.yaml", new Map([[ALICE, "alice"]]));
      const line = out.split("\n").find((l) => l.includes(name));
      expect(line).toMatch(/^"/);
      expect(line).toMatch(/: fp:[0-9a-f]{8}$/);
    }
    // a plain name is shown as it is
    expect(renderTextconv(text, "secrets/production.enc.yaml", new Map())).toContain("\nstripe_api_key: fp:");
  });
});

describe("renderTextconv and comments the values part does not hold", () => {
  it("shows a comment in or after the sops metadata (whole line, or after a value) by fingerprint: adding one changes the view, its text never shown", async () => {
    const text = await encryptSecrets(new Map([["stripe_api_key", "fake-s"]]), { recipients: [ALICE] });
    const before = renderTextconv(text, "secrets/production.enc.yaml", new Map());
    const variants = [
      text.replace("sops:\n", "sops:\n    # TEST-ONLY token=hunter2\n"),
      text.replace(/^( {4}lastmodified:.*)$/m, "    # TEST-ONLY token=hunter2\n$1"),
      text.replace(/^( {4}mac: .*)$/m, "$1 # TEST-ONLY token=hunter2"),
      `${text}# TEST-ONLY token=hunter2\n`,
    ];
    for (const v of variants) {
      const after = renderTextconv(v, "secrets/production.enc.yaml", new Map());
      expect(after).not.toMatch(/TEST-ONLY|hunter2/);
      const added = after.split("\n").filter((l) => !before.split("\n").includes(l));
      expect(added, v).toHaveLength(1);
      expect(added[0]).toMatch(/^# comment (in|after) the sops metadata \(clear text, not shown\): fp:[0-9a-f]{8}$/);
    }
  });
});

describe("textconvView (what git diff shows for any file sent to the driver)", () => {
  it("names a broken environment file by its base name, so git's temp copy and the work tree's give the same view", () => {
    const broken = bytes("<<<<<<< HEAD\napi_key: ENC[AES256_GCM,data:eA==,iv:eA==,tag:eA==,type:str]\n=======\n>>>>>>> theirs\n");
    const old = textconvView(broken, "/tmp/git-blob-AbC123/development.enc.yaml", new Map());
    const work = textconvView(broken, "/home/me/repo/secrets/development.enc.yaml", new Map());
    expect(old).toBe(work);
    expect(old).not.toMatch(/git-blob|\/home\/me/);
    expect(old).toContain("development.enc.yaml");
  });

  const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
  it("never hides a change of a file that is not a valid SOPS file (a branch's .gitattributes can send any path here), nor shows its content", () => {
    const before = textconvView(bytes("export const url = 'https://api.example';\n"), "/tmp/git-blob-x/config.js", new Map());
    const after = textconvView(bytes("export const url = 'https://evil.example';\n"), "src/config.js", new Map());
    expect(before).toContain("config.js is not an environment file");
    expect(before).toMatch(/^# whole file: 42 bytes, sha256:[0-9a-f]{64} /m);
    expect(after).not.toBe(before);
    expect(after).not.toContain("evil.example");
    // an environment file with a plaintext value: the value is not shown, its change shows
    const a = textconvView(bytes("stripe_api_key: sk_live_ONE\n"), "secrets/staging.enc.yaml", new Map());
    const b = textconvView(bytes("stripe_api_key: sk_live_TWO\n"), "secrets/staging.enc.yaml", new Map());
    expect(a).toContain("# WARNING: not a valid encrypted SOPS file");
    expect(a).not.toContain("not an environment file");
    expect(a).not.toBe(b);
    expect(a + b).not.toMatch(/sk_live_/);
  });

  it("shows bytes that are not text by size and fingerprint, never as content: a change of such bytes still shows", () => {
    const a = textconvView(Uint8Array.from([0x61, 0x00, 0xff, 0x01]), "secrets/production.enc.yaml", new Map());
    const b = textconvView(Uint8Array.from([0x61, 0x00, 0xff, 0x02]), "secrets/production.enc.yaml", new Map());
    expect(a).toContain("# whole file: 4 bytes, sha256:");
    expect(a).not.toBe(b);
    const other = textconvView(Uint8Array.from([0x00, 0xff]), "logo.png", new Map());
    expect(other).toContain("not an environment file");
    expect(other).not.toContain("\u0000");
  });

  it("keeps the keyless view for an environment file, named by its base name (git's temporary copies keep it)", async () => {
    const text = await encryptSecrets(new Map([["stripe_api_key", "fake-1"]]), { recipients: [ALICE] });
    const out = textconvView(bytes(text), "/tmp/git-blob-AbC123/production.enc.yaml", new Map([[ALICE, "alice"]]));
    expect(out).toMatch(/^stripe_api_key: fp:[0-9a-f]{8}$/m);
    expect(out).not.toContain("ENC[");
  });
});

describe("textconv as git runs it", () => {
  it("takes a path that starts with '-' as the path (a file `--x` at the top sent here by .gitattributes), never as an option: git diff does not fail on it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "textconv-"));
    try {
      writeFileSync(join(dir, "--x"), "plain text\n");
      let out = "";
      const stdout = new PassThrough();
      stdout.on("data", (c: Buffer) => void (out += c.toString("utf8")));
      const ctx: CommandContext = { cwd: dir, env: {}, stdin: new PassThrough(), stdout, stderr: new PassThrough() };
      expect(await textconv.run(["--x"], ctx)).toBe(0);
      expect(out).toContain("--x is not an environment file");
      expect(out).not.toContain("plain text");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
