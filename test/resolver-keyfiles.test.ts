/**
 * The key file as deploys really hand it to the resolver (SOPS_AGE_KEY_FILE, SOPS_AGE_KEY): the
 * shapes that must work (CRLF from a Windows editor, a BOM, comments, several keys, no final
 * newline) and the mistakes that must be named with what is wrong, where, and how to fix it,
 * never with the key: a public key where the private one belongs, an empty or comments-only file,
 * a folder, a missing file given by a relative path. Keys are generated per run (TEST-ONLY).
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResolverError, createResolver, findResolverIdentities } from "../packages/resolver/src/index.js";
import { assertNoLeak, caught, makeRepo, tempDir, testKey, type TestKey } from "../packages/resolver/test/support.js";

const VALUES = new Map([
  ["stripe_api_key", "sk_live_keyfiles-leakcheck-1"],
  ["db_password", "pw-keyfiles-leakcheck-2"],
]);

let owner: TestKey;
let other: TestKey;
let repo: Awaited<ReturnType<typeof makeRepo>>;
let keys: { dir: string; cleanup: () => void };

beforeAll(async () => {
  owner = await testKey();
  other = await testKey();
  repo = await makeRepo({ production: VALUES }, [owner.recipient]);
  keys = tempDir("resolver-keyfiles-");
});
afterAll(() => {
  repo.cleanup();
  keys.cleanup();
});

function keyFile(name: string, text: string): string {
  const path = join(keys.dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

async function noIdentity(env: NodeJS.ProcessEnv): Promise<ResolverError> {
  const error = await caught(() => createResolver({ environment: "production", root: repo.root, env }));
  expect(error).toBeInstanceOf(ResolverError);
  expect((error as ResolverError).code).toBe("NO_IDENTITY");
  assertNoLeak(error, [...VALUES.values(), owner.identity, other.identity]);
  return error as ResolverError;
}

describe("key files that must work", () => {
  it("CRLF line ends with comments, a UTF-8 BOM, several keys (a wrong one first), spaces around the key, no final newline", async () => {
    const shapes = {
      crlf: `# created: 2026-12-05T08:00:00Z\r\n# public key: ${owner.recipient}\r\n${owner.identity}\r\n`,
      bom: `\ufeff${owner.identity}\n`,
      several: `# TEST-ONLY\n${other.identity}\n\n# the deploy key\n${owner.identity}\n`,
      spaces: `   ${owner.identity}\t \n`,
      "no-newline": owner.identity,
    };
    for (const [name, text] of Object.entries(shapes)) {
      const r = await createResolver({ environment: "production", root: repo.root, env: { SOPS_AGE_KEY_FILE: keyFile(`${name}.txt`, text) } });
      expect(r.get("db_password"), name).toBe(VALUES.get("db_password"));
      // the same text in SOPS_AGE_KEY
      const inline = await createResolver({ environment: "production", root: repo.root, env: { SOPS_AGE_KEY: text } });
      expect(inline.get("stripe_api_key"), name).toBe(VALUES.get("stripe_api_key"));
    }
  });
});

describe("key files that cannot work are named with what is wrong and how to fix it", () => {
  it("the public key where the private key belongs: the line and the mistake (it was only `unusable: MALFORMED_FILE`)", async () => {
    const file = keyFile("public.txt", `# public key of the deploy\n${owner.recipient}\n`);
    const e = await noIdentity({ SOPS_AGE_KEY_FILE: file });
    expect(e.message).toContain(`SOPS_AGE_KEY_FILE=${file} (unusable: line 2: a public key, not an age identity`);
    expect(e.hint).toContain(`SOPS_AGE_KEY_FILE=${file}, line 2: a public key`);
    expect(e.hint).toContain("AGE-SECRET-KEY-1");
    const inline = await noIdentity({ SOPS_AGE_KEY: owner.recipient });
    expect(inline.message).toContain("SOPS_AGE_KEY (unusable: line 1: a public key, not an age identity");
    expect(inline.hint).toMatch(/^SOPS_AGE_KEY, line 1: a public key/);
  });

  it("a key with a character changed: its line and to copy it again, never the key", async () => {
    const broken = owner.identity.slice(0, 30) + (owner.identity[30] === "Q" ? "P" : "Q") + owner.identity.slice(31);
    const file = keyFile("broken.txt", `# TEST-ONLY\n\n${broken}\n`);
    const e = await noIdentity({ SOPS_AGE_KEY_FILE: file });
    expect(e.message).toContain("(unusable: line 3: an age identity whose checksum does not match");
    expect(e.hint).toContain("copy the AGE-SECRET-KEY-1… line again");
    assertNoLeak(e, [broken]);
  });

  it("an empty file and a file of comments only: said, with the fix (it was only the path, and the generic hint)", async () => {
    for (const [name, text] of [["empty.txt", ""], ["comments.txt", "# created: 2026-12-05\n# public key: (none)\n\n"]] as const) {
      const file = keyFile(name, text);
      const e = await noIdentity({ SOPS_AGE_KEY_FILE: file });
      expect(e.message, name).toContain(`SOPS_AGE_KEY_FILE=${file} (holds no age key: empty, or only comments and blank lines)`);
      expect(e.hint, name).toBe(
        `SOPS_AGE_KEY_FILE=${file} holds no AGE-SECRET-KEY-1… line: put this environment's age key in it (the file age-keygen or stellar-secrets keygen wrote), or point it at the file that has it.`,
      );
    }
    const e = await caught(() => createResolver({ environment: "production", root: repo.root, identities: "# nothing\n", env: {} }));
    expect((e as ResolverError).code).toBe("NO_IDENTITY");
    expect((e as ResolverError).hint).toMatch(/^the identities option of createResolver holds no AGE-SECRET-KEY-1… line/);
  });

  it("a folder: named as a folder, with where the key file is", async () => {
    const folder = join(keys.dir, "age");
    mkdirSync(folder);
    const e = await noIdentity({ SOPS_AGE_KEY_FILE: folder });
    expect(e.message).toContain(`SOPS_AGE_KEY_FILE=${folder} (cannot read: EISDIR)`);
    expect(e.hint).toBe(`SOPS_AGE_KEY_FILE names a folder (${folder}), not a key file: point it at the key file itself (the file age-keygen or stellar-secrets keygen wrote, inside that folder).`);
  });

  it("a missing file: the path it was read as (a relative one, from the current directory) and that a mount may be missing", async () => {
    const missing = join(keys.dir, "not-mounted", "key.txt");
    const e = await noIdentity({ SOPS_AGE_KEY_FILE: missing });
    expect(e.message).toContain(`SOPS_AGE_KEY_FILE=${missing} (cannot read: ENOENT)`);
    expect(e.hint).toContain(`there is no file ${missing}`);
    expect(e.hint).toContain("mounted");
    const relative = findResolverIdentities({ env: { SOPS_AGE_KEY_FILE: "run/secrets/age.txt" }, cwd: keys.dir });
    expect(relative.identities).toEqual([]);
    expect(relative.searched).toContain(`SOPS_AGE_KEY_FILE=run/secrets/age.txt (cannot read: ENOENT) (read as ${join(keys.dir, "run/secrets/age.txt")})`);
    expect(relative.problem).toContain(`there is no file ${join(keys.dir, "run/secrets/age.txt")}`);
  });

  it("UTF-16 (PowerShell's > and Out-File) and a passphrase-protected (age-encrypted) key file: said, with the fix (it was `line 1: not an age identity`)", async () => {
    const text = `# created: 2026-12-05\r\n# public key: ${owner.recipient}\r\n${owner.identity}\r\n`;
    for (const [name, bytes] of [
      ["utf16le.txt", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")])],
      ["utf16-nobom.txt", Buffer.from(text, "utf16le")],
    ] as const) {
      const file = join(keys.dir, name);
      writeFileSync(file, bytes, { mode: 0o600 });
      const e = await noIdentity({ SOPS_AGE_KEY_FILE: file });
      expect(e.message, name).toContain(`SOPS_AGE_KEY_FILE=${file} (unusable: UTF-16 text, not UTF-8)`);
      expect(e.hint, name).toBe(`SOPS_AGE_KEY_FILE=${file} is UTF-16 text, not UTF-8: save it as UTF-8 or ASCII (PowerShell's > and Out-File write UTF-16: use age-keygen -o FILE, or Out-File -Encoding ascii).`);
    }
    // the header of an age file encrypted with a passphrase (age -p), binary and armored (age -p -a)
    for (const [name, head] of [
      ["key.txt.age", "age-encryption.org/v1\n-> scrypt c2FsdHNhbHRzYWx0c2FsdA 18\nAAAA\n--- AAAA\n"],
      ["key.txt.asc", "-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCg==\n-----END AGE ENCRYPTED FILE-----\n"],
    ] as const) {
      const file = keyFile(name, head);
      const e = await noIdentity({ SOPS_AGE_KEY_FILE: file });
      expect(e.message, name).toContain(`SOPS_AGE_KEY_FILE=${file} (unusable: an age-encrypted file (a key file protected with a passphrase?))`);
      expect(e.hint, name).toContain("the resolver asks no passphrase: decrypt it when the service starts (age -d)");
    }
  });

  it("a key mangled on its way into a variable: literal \\n for line breaks (it said 'holds no age key'), quotes kept by docker --env-file (it said 'not an age identity')", async () => {
    const oneLine = [
      `# created: 2026-12-05T08:00:00Z\\n# public key: ${owner.recipient}\\n${owner.identity}\\n`,
      `${owner.identity}\\n`,
      `# TEST-ONLY\\r\\n${owner.identity}`,
    ];
    for (const text of oneLine) {
      const e = await noIdentity({ SOPS_AGE_KEY: text });
      expect(e.message).toContain("SOPS_AGE_KEY (unusable: a key file written on one line, with literal \\n where its line breaks belong)");
      expect(e.hint).toBe(
        "SOPS_AGE_KEY holds a key file written on one line, with literal \\n where its line breaks belong: put only the AGE-SECRET-KEY-1… line in it (or real line breaks), or write the key file to disk and set SOPS_AGE_KEY_FILE to its path.",
      );
    }
    for (const quoted of [`"${owner.identity}"`, `'${owner.identity}'`, `# deploy key\n"${owner.identity}"\n`]) {
      const e = await noIdentity({ SOPS_AGE_KEY: quoted });
      expect(e.message).toContain("SOPS_AGE_KEY (unusable: a key wrapped in quotes)");
      expect(e.hint).toBe("SOPS_AGE_KEY holds a key wrapped in quotes: remove the quotes (docker --env-file and some CI variable forms keep them as part of the value).");
    }
    const file = keyFile("quoted.txt", `"${owner.identity}"\n`);
    expect((await noIdentity({ SOPS_AGE_KEY_FILE: file })).hint).toBe(`SOPS_AGE_KEY_FILE=${file} holds a key wrapped in quotes: remove the quotes (docker --env-file and some CI variable forms keep them as part of the value).`);
    // a quoted string that is not a key is still only "not an age identity"
    const other = await noIdentity({ SOPS_AGE_KEY: `"AGE-SECRET-KEY-1NOTAKEY"` });
    expect(other.message).toContain("SOPS_AGE_KEY (unusable: line 1: not an age identity");
  });

  it("a path with ~ or $HOME, which no shell expanded (systemd Environment=, docker -e): said", async () => {
    for (const path of ["~/.config/sops/age/keys.txt", "$HOME/keys.txt", "${STATE_DIRECTORY}/age.txt"]) {
      const found = findResolverIdentities({ env: { SOPS_AGE_KEY_FILE: path }, cwd: keys.dir });
      expect(found.identities, path).toEqual([]);
      expect(found.problem, path).toContain(`there is no file ${join(keys.dir, path)}`);
      expect(found.problem, path).toMatch(/The path holds ~ or \$VARIABLE, which only a shell expands \(not systemd's Environment=, docker -e or a Kubernetes env entry\): write the full path\.$/);
    }
    expect(findResolverIdentities({ env: { SOPS_AGE_KEY_FILE: join(keys.dir, "absent.txt") }, cwd: keys.dir }).problem).not.toContain("only a shell expands");
  });

  it("an unusable SOPS_AGE_KEY beside a SOPS_AGE_KEY_FILE: both listed once, in order (the note on the file was overwritten and SOPS_AGE_KEY listed twice)", async () => {
    const file = keyFile("fine.txt", `${owner.identity}\n`);
    for (const [value, note] of [
      [owner.recipient, "SOPS_AGE_KEY (unusable: line 1: a public key, not an age identity"],
      ["# only a comment", "SOPS_AGE_KEY (holds no age key: empty, or only comments and blank lines)"],
    ] as const) {
      const e = await noIdentity({ SOPS_AGE_KEY: value, SOPS_AGE_KEY_FILE: file });
      const looked = e.message.slice(e.message.indexOf("Looked in: "));
      expect(looked).toContain(`${note}`);
      expect(looked).toContain("; SOPS_AGE_KEY_FILE (not consulted: SOPS_AGE_KEY is set and takes precedence).");
      expect(looked.split("SOPS_AGE_KEY (").length).toBe(2);
    }
  });

  it("a key where the path belongs: the hint says to move it, and the key is not shown", async () => {
    const e = await noIdentity({ SOPS_AGE_KEY_FILE: owner.identity });
    expect(e.hint).toMatch(/^SOPS_AGE_KEY_FILE holds a private key, not the path of a key file: set SOPS_AGE_KEY/);
  });

  it("no source set at all keeps the general hint", async () => {
    const { dir: home, cleanup } = tempDir("resolver-home-");
    try {
      const e = await noIdentity({});
      expect(e.hint).toBe("Set SOPS_AGE_KEY_FILE to the path of this environment's age key file (or SOPS_AGE_KEY to its contents), or pass identities to createResolver.");
      expect(findResolverIdentities({ env: {}, home }).problem).toBeUndefined();
    } finally {
      cleanup();
    }
  });
});

describe("a key file other users may read (checker session 6, item 4)", () => {
  /** The process warnings emitted while `run` runs (code STELLAR_SECRETS_KEY_FILE_MODE only). */
  async function warningsDuring(run: () => Promise<void>): Promise<Error[]> {
    const seen: Error[] = [];
    const listener = (w: Error): void => {
      if ((w as Error & { code?: string }).code === "STELLAR_SECRETS_KEY_FILE_MODE") seen.push(w);
    };
    process.on("warning", listener);
    try {
      await run();
      // (process warnings are delivered on the next tick)
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.off("warning", listener);
    }
    return seen;
  }

  it("mode 0644 (Kubernetes' default for a secret volume): served, and one warning per process naming the path, the mode and the fix, never the key; 0600 and keyFileMode: allow say nothing", async () => {
    const loose = keyFile("loose.txt", `${owner.identity}\n`);
    chmodSync(loose, 0o644);
    const warned = await warningsDuring(async () => {
      const r = await createResolver({ environment: "production", root: repo.root, env: { SOPS_AGE_KEY_FILE: loose } });
      expect(r.get("db_password")).toBe(VALUES.get("db_password"));
      // a reload reads the key file again: no second warning
      expect((await r.reload()).ok).toBe(true);
      await createResolver({ environment: "production", root: repo.root, env: { SOPS_AGE_KEY_FILE: loose } });
    });
    expect(warned).toHaveLength(1);
    expect(warned[0]!.message).toBe(
      `the age key file ${loose} can be read by every user of this machine (mode 0644); its key opens this environment's values. Make it readable by the service's user only (chmod 0400, owned by that user); on Kubernetes, set defaultMode: 0400 on the secret volume (its default is 0644). In a container where the service is the only user, pass keyFileMode: "allow" to createResolver to silence this warning`,
    );
    assertNoLeak(warned[0], [...VALUES.values(), owner.identity]);

    const tight = keyFile("tight.txt", `${owner.identity}\n`);
    const other = keyFile("allowed.txt", `${owner.identity}\n`);
    chmodSync(other, 0o666);
    const none = await warningsDuring(async () => {
      await createResolver({ environment: "production", root: repo.root, env: { SOPS_AGE_KEY_FILE: tight } });
      await createResolver({ environment: "production", root: repo.root, env: { SOPS_AGE_KEY_FILE: other }, keyFileMode: "allow" });
      // the key given inline: no file, no mode
      await createResolver({ environment: "production", root: repo.root, env: { SOPS_AGE_KEY: owner.identity } });
    });
    expect(none).toEqual([]);
    // writable by others is said as such
    const writable = await warningsDuring(async () => {
      await createResolver({ environment: "production", root: repo.root, env: { SOPS_AGE_KEY_FILE: other } });
    });
    expect(writable.map((w) => w.message.slice(0, w.message.indexOf(";")))).toEqual([`the age key file ${other} can be written by every user of this machine (mode 0666)`]);
  });
});

describe('keyFileMode: "refuse" and STELLAR_SECRETS_KEY_FILE_MODE (checker session 7, item 5)', () => {
  it("refuses a key file every user may read with INSECURE_KEY_FILE (path and mode, never the key); a 0600 file is used; the variable sets it when the option is absent, and refuse in either one wins", async () => {
    const loose = keyFile("refuse-loose.txt", `${owner.identity}\n`);
    chmodSync(loose, 0o644);
    const tight = keyFile("refuse-tight.txt", `${owner.identity}\n`);
    const e = (await caught(() => createResolver({ environment: "production", root: repo.root, env: { SOPS_AGE_KEY_FILE: loose }, keyFileMode: "refuse" }))) as ResolverError;
    expect(e).toBeInstanceOf(ResolverError);
    expect(e.code).toBe("INSECURE_KEY_FILE");
    expect(e.message).toBe(
      `the age key file ${loose} can be read by every user of this machine (mode 0644), and keyFileMode (or STELLAR_SECRETS_KEY_FILE_MODE) is "refuse": its key was not used. Make it readable by the service's user only (chmod 0400, owned by that user); on Kubernetes, set defaultMode: 0400 on the secret volume (its default is 0644).`,
    );
    assertNoLeak(e, [...VALUES.values(), owner.identity]);
    // the same by the environment variable alone, and over an option that says allow
    for (const keyFileMode of [undefined, "allow", "warn"] as const) {
      const byVariable = (await caught(() => createResolver({ environment: "production", root: repo.root, env: { SOPS_AGE_KEY_FILE: loose, STELLAR_SECRETS_KEY_FILE_MODE: "refuse" }, ...(keyFileMode === undefined ? {} : { keyFileMode }) }))) as ResolverError;
      expect(byVariable.code, String(keyFileMode)).toBe("INSECURE_KEY_FILE");
    }
    // a key file of the service's user only: served
    const ok = await createResolver({ environment: "production", root: repo.root, env: { SOPS_AGE_KEY_FILE: tight, STELLAR_SECRETS_KEY_FILE_MODE: "refuse" } });
    expect(ok.get("db_password")).toBe(VALUES.get("db_password"));
    // the variable says allow: no refusal
    expect((await createResolver({ environment: "production", root: repo.root, env: { SOPS_AGE_KEY_FILE: loose, STELLAR_SECRETS_KEY_FILE_MODE: "allow" } })).get("db_password")).toBe(VALUES.get("db_password"));
    // a key file made world-readable after the start: the reload fails and keeps the values
    const later = keyFile("refuse-later.txt", `${owner.identity}\n`);
    const r = await createResolver({ environment: "production", root: repo.root, env: { SOPS_AGE_KEY_FILE: later }, keyFileMode: "refuse" });
    chmodSync(later, 0o644);
    const text = readFileSync(repo.file("production"), "utf8");
    try {
      writeFileSync(repo.file("production"), `${text}\n`);
      expect(await r.reload()).toMatchObject({ ok: false, error: { code: "INSECURE_KEY_FILE" } });
      expect(r.get("db_password")).toBe(VALUES.get("db_password"));
    } finally {
      writeFileSync(repo.file("production"), text);
    }
  });

  it("a keyFileMode or STELLAR_SECRETS_KEY_FILE_MODE that is none of warn, allow, refuse is INVALID_CONFIG (a typo of refuse must not serve)", async () => {
    const tight = keyFile("refuse-typo.txt", `${owner.identity}\n`);
    const option = (await caught(() => createResolver({ environment: "production", root: repo.root, env: { SOPS_AGE_KEY_FILE: tight }, keyFileMode: "deny" as never }))) as ResolverError;
    expect([option.code, option.message]).toEqual(["INVALID_CONFIG", 'createResolver: keyFileMode is "deny", not "warn", "allow" or "refuse".']);
    const variable = (await caught(() => createResolver({ environment: "production", root: repo.root, env: { SOPS_AGE_KEY_FILE: tight, STELLAR_SECRETS_KEY_FILE_MODE: "refsue" } }))) as ResolverError;
    expect([variable.code, variable.message]).toEqual(["INVALID_CONFIG", 'STELLAR_SECRETS_KEY_FILE_MODE is "refsue", not warn, allow or refuse.']);
  });
});
