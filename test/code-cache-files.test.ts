/**
 * The V8 code cache files of the CLI's bin (packages/cli/bin/stellar-secrets.js) and of the
 * resolver's entry (packages/resolver/dist/bundle/index.mjs, written by scripts/bundle.mjs), as an
 * installed package meets them: each is copied into a temporary package beside a small stand-in
 * bundle, and run as a real process. A cache file that is damaged, foreign, a folder or a link is
 * never a crash nor a wrong result; a cache that cannot be put in place leaves no temp file behind
 * (one per run, about 1 MB each, would pile up); two first runs at once leave one valid cache.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "./helpers/cli.js";

/** True when `bytes` is a cache file as the loaders write it: the build tag ("SSC2" for a bundle without one), the length n, then n bytes twice. */
function wellFormed(bytes: Buffer, tag = "SSC2"): boolean {
  if (bytes.length <= 8 || bytes.toString("latin1", 0, 4) !== tag) return false;
  const n = bytes.readUInt32LE(4);
  return n > 0 && bytes.length === 8 + 2 * n && bytes.subarray(8, 8 + n).equals(bytes.subarray(8 + n));
}

/** A cache file's header for a payload of `n` bytes. */
function header(n: number): Buffer {
  const h = Buffer.alloc(8);
  h.write("SSC2", 0, "latin1");
  h.writeUInt32LE(n, 4);
  return h;
}

/** Cache files no run may crash on or be misled by (the name says what each stands for). */
function hostileCaches(valid: Buffer, foreign: Buffer): Record<string, Buffer> {
  const garbage = Buffer.alloc(4000, 0x5a);
  return {
    empty: Buffer.alloc(0),
    "a header alone": header(16),
    truncated: valid.subarray(0, valid.length - 1),
    "a header claiming 4 GB": Buffer.concat([header(0xffffffff), valid.subarray(8)]),
    "another Node's (garbage of the right shape)": Buffer.concat([header(garbage.length), garbage, garbage]),
    "another bundle's": foreign,
  };
}

describe("code cache files", () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "code-cache-files-"));
  });
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  /** An installed CLI package: the real bin, a stand-in bundle printing `word` and its arguments (exit status `status`), ending with build tag `tag` when given. */
  function cliPackage(name: string, body = "", word = "ran", tag?: string, status = 0): { run: (...args: string[]) => ReturnType<typeof spawnSync>; bundle: string } {
    const pkg = join(work, name);
    mkdirSync(join(pkg, "bin"), { recursive: true });
    mkdirSync(join(pkg, "dist", "bundle"), { recursive: true });
    copyFileSync(join(REPO_ROOT, "packages/cli/bin/stellar-secrets.js"), join(pkg, "bin", "stellar-secrets.js"));
    copyFileSync(join(REPO_ROOT, "packages/cli/bin/package.json"), join(pkg, "bin", "package.json"));
    copyFileSync(join(REPO_ROOT, "packages/cli/dist/bundle/code-cache.cjs"), join(pkg, "dist", "bundle", "code-cache.cjs"));
    writeFileSync(join(pkg, "dist", "bundle", "stellar-secrets.cjs"), `${body}exports.main = (args) => { process.stdout.write(${JSON.stringify(word)} + " " + args.join(" ")); process.exitCode = ${status}; };\n${tag === undefined ? "" : `// stellar-secrets build ${tag}\n`}`);
    return {
      run: (...args) => spawnSync(process.execPath, [join(pkg, "bin", "stellar-secrets.js"), ...args], { encoding: "utf8" }),
      bundle: join(pkg, "dist", "bundle"),
    };
  }

  it("the CLI's bin: a cache file that is a folder is left alone and no temp file is left behind", () => {
    const cli = cliPackage("folder");
    mkdirSync(join(cli.bundle, "stellar-secrets.cjs.list.cache", "inside"), { recursive: true });
    for (let i = 0; i < 2; i++) {
      const r = cli.run("list", "--json");
      expect([r.status, r.stdout, r.stderr]).toEqual([0, "ran list --json", ""]);
    }
    expect(readdirSync(cli.bundle).sort()).toEqual(["code-cache.cjs", "stellar-secrets.cjs", "stellar-secrets.cjs.list.cache"]);
  });

  it("the CLI's bin: a damaged or foreign cache is not used (same result, no crash) and is written again", () => {
    const cli = cliPackage("hostile");
    const other = cliPackage("other", "const other = 1;\n");
    expect(cli.run("get").status).toBe(0);
    expect(other.run("get").status).toBe(0);
    const cache = join(cli.bundle, "stellar-secrets.cjs.get.cache");
    const valid = readFileSync(cache);
    expect(wellFormed(valid)).toBe(true);
    for (const [what, bytes] of Object.entries(hostileCaches(valid, readFileSync(join(other.bundle, "stellar-secrets.cjs.get.cache"))))) {
      writeFileSync(cache, bytes);
      const r = cli.run("get", "x");
      expect([what, r.status, r.stdout, r.stderr]).toEqual([what, 0, "ran get x", ""]);
      expect([what, wellFormed(readFileSync(cache))]).toEqual([what, true]);
    }
    // a cache that is a link: read through, but replaced by a file (what it points to is never written)
    const elsewhere = join(work, "elsewhere.txt");
    writeFileSync(elsewhere, "not a cache");
    rmSync(cache);
    symlinkSync(elsewhere, cache);
    expect(cli.run("get").stdout).toBe("ran get");
    expect(readFileSync(elsewhere, "utf8")).toBe("not a cache");
    expect(lstatSync(cache).isFile()).toBe(true);
    expect(readdirSync(cli.bundle).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("the CLI's bin: a cache of another build of the same length (V8 checks only the length) is not used", () => {
    const a = cliPackage("build-a", "", "AAAA", "0000000a");
    const b = cliPackage("build-b", "", "BBBB", "0000000b");
    expect(b.run("get").stdout).toBe("BBBB get");
    expect(readFileSync(join(a.bundle, "stellar-secrets.cjs")).length).toBe(readFileSync(join(b.bundle, "stellar-secrets.cjs")).length);
    copyFileSync(join(b.bundle, "stellar-secrets.cjs.get.cache"), join(a.bundle, "stellar-secrets.cjs.get.cache"));
    expect(a.run("get").stdout).toBe("AAAA get");
    const cache = readFileSync(join(a.bundle, "stellar-secrets.cjs.get.cache"));
    expect(cache.readUInt32LE(0)).toBe(0xa); // written again, for this build
    expect(wellFormed(cache, cache.toString("latin1", 0, 4))).toBe(true);
    expect(a.run("get").stdout).toBe("AAAA get");
  });

  it("the CLI's bin: a usage error (exit status 2: a mistyped command) writes no cache", () => {
    const cli = cliPackage("usage", "", "ran", undefined, 2);
    expect(cli.run("lsit").status).toBe(2);
    expect(readdirSync(cli.bundle).sort()).toEqual(["code-cache.cjs", "stellar-secrets.cjs"]);
  });

  it("the CLI's bin: two first runs at once both run and leave one valid cache", async () => {
    const cli = cliPackage("together");
    const once = (): Promise<number | null> =>
      new Promise((done) => spawn(process.execPath, [join(cli.bundle, "..", "..", "bin", "stellar-secrets.js"), "check"], { stdio: "ignore" }).on("exit", done));
    expect(await Promise.all([once(), once()])).toEqual([0, 0]);
    expect(readdirSync(cli.bundle).sort()).toEqual(["code-cache.cjs", "stellar-secrets.cjs", "stellar-secrets.cjs.check.cache"]);
    expect(wellFormed(readFileSync(join(cli.bundle, "stellar-secrets.cjs.check.cache")))).toBe(true);
  });

  it("the CLI's bin: another writer's temp file named by the same pid (containers sharing an install folder are each pid 1) does not keep the cache from being written", () => {
    const cli = cliPackage("same-pid");
    const bin = join(cli.bundle, "..", "..", "bin", "stellar-secrets.js");
    const cache = join(cli.bundle, "stellar-secrets.cjs.get.cache");
    // before the bin runs, the name its pid alone would give is taken (a folder: a write there fails)
    const child = `require("node:fs").mkdirSync(${JSON.stringify(cache)} + "." + process.pid + ".tmp"); process.argv = [process.execPath, ${JSON.stringify(bin)}, "get"]; require(${JSON.stringify(bin)});`;
    const r = spawnSync(process.execPath, ["-e", child], { encoding: "utf8" });
    expect([r.status, r.stdout, r.stderr]).toEqual([0, "ran get", ""]);
    expect(wellFormed(readFileSync(cache))).toBe(true);
    const left = readdirSync(cli.bundle).filter((f) => f.endsWith(".tmp"));
    expect(left).toHaveLength(1); // theirs, left alone
    expect(lstatSync(join(cli.bundle, left[0]!)).isDirectory()).toBe(true);
  });

  /** An installed resolver package: its real entry (built by scripts/bundle.mjs), a stand-in bundle (`word` its answer, `tag` its build tag when given). */
  function resolverPackage(name: string, body = "", word = "resolved", tag?: string): { run: () => ReturnType<typeof spawnSync>; bundle: string } {
    const bundle = join(work, name, "dist", "bundle");
    mkdirSync(bundle, { recursive: true });
    copyFileSync(join(REPO_ROOT, "packages/resolver/dist/bundle/index.mjs"), join(bundle, "index.mjs"));
    writeFileSync(join(bundle, "resolver.cjs"), `${body}exports.createResolver = () => ${JSON.stringify(word)};\n${tag === undefined ? "" : `// stellar-secrets build ${tag}\n`}`);
    const app = `import { createResolver } from ${JSON.stringify(join(bundle, "index.mjs"))}; process.stdout.write(createResolver());`;
    return { run: () => spawnSync(process.execPath, ["--input-type=module", "-e", app], { encoding: "utf8" }), bundle };
  }

  it("the resolver's entry: a cache file that is a folder leaves no temp file; a damaged or foreign cache is not used and is written again", () => {
    const resolver = resolverPackage("resolver");
    const other = resolverPackage("resolver-other", "const other = 1;\n");
    const cache = join(resolver.bundle, "resolver.cjs.cache");
    mkdirSync(join(cache, "inside"), { recursive: true });
    for (let i = 0; i < 2; i++) expect([resolver.run().status, resolver.run().stdout]).toEqual([0, "resolved"]);
    expect(readdirSync(resolver.bundle).sort()).toEqual(["index.mjs", "resolver.cjs", "resolver.cjs.cache"]);
    rmSync(cache, { recursive: true });
    expect(resolver.run().status).toBe(0);
    expect(other.run().status).toBe(0);
    const valid = readFileSync(cache);
    expect(wellFormed(valid)).toBe(true);
    for (const [what, bytes] of Object.entries(hostileCaches(valid, readFileSync(join(other.bundle, "resolver.cjs.cache"))))) {
      writeFileSync(cache, bytes);
      const r = resolver.run();
      expect([what, r.status, r.stdout, r.stderr]).toEqual([what, 0, "resolved", ""]);
      expect([what, wellFormed(readFileSync(cache))]).toEqual([what, true]);
    }
  });

  it("the resolver's entry: another writer's temp file named by the same pid does not keep the cache from being written", () => {
    const resolver = resolverPackage("resolver-same-pid");
    const cache = join(resolver.bundle, "resolver.cjs.cache");
    const app = `import { mkdirSync } from "node:fs"; mkdirSync(${JSON.stringify(cache)} + "." + process.pid + ".tmp"); const { createResolver } = await import(${JSON.stringify(join(resolver.bundle, "index.mjs"))}); process.stdout.write(createResolver());`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", app], { encoding: "utf8" });
    expect([r.status, r.stdout, r.stderr]).toEqual([0, "resolved", ""]);
    expect(wellFormed(readFileSync(cache))).toBe(true);
    expect(readdirSync(resolver.bundle).filter((f) => f.endsWith(".tmp"))).toHaveLength(1); // theirs, left alone
  });

  it("the resolver's entry: a cache of another build of the same length is not used", () => {
    const a = resolverPackage("resolver-a", "", "AAAA", "0000000a");
    const b = resolverPackage("resolver-b", "", "BBBB", "0000000b");
    expect(b.run().stdout).toBe("BBBB");
    copyFileSync(join(b.bundle, "resolver.cjs.cache"), join(a.bundle, "resolver.cjs.cache"));
    expect(a.run().stdout).toBe("AAAA");
    expect(readFileSync(join(a.bundle, "resolver.cjs.cache")).readUInt32LE(0)).toBe(0xa);
    expect(a.run().stdout).toBe("AAAA");
  });

  it("every bundle is loaded through the one loader: the build's copies beside the CLI's and the server's bundles are scripts/code-cache.cjs, and the resolver's entries hold it", () => {
    const one = readFileSync(join(REPO_ROOT, "scripts/code-cache.cjs"));
    for (const pkg of ["cli", "language-server"]) expect([pkg, readFileSync(join(REPO_ROOT, "packages", pkg, "dist/bundle/code-cache.cjs")).equals(one)]).toEqual([pkg, true]);
    for (const entry of ["index.mjs", "index.cjs"]) expect(readFileSync(join(REPO_ROOT, "packages/resolver/dist/bundle", entry), "utf8")).toContain(one.toString("utf8").trimEnd());
  });

  it("textconv has a bundle of its own (git starts it once per file version of a `git log -p`): the textconv command without the other commands", () => {
    const bundle = join(REPO_ROOT, "packages/cli/dist/bundle");
    const own = readFileSync(join(bundle, "command-textconv.cjs"), "latin1");
    expect(own).toContain("Prints a keyless view of an environment file");
    // merge-file's --virtual-base is in the whole CLI's bundle only
    expect(own).not.toContain("virtual-base");
    expect(readFileSync(join(bundle, "stellar-secrets.cjs"), "latin1")).toContain("virtual-base");
  });

  it("the built bundles end with their build tag, the first 32 bits of the SHA-256 of what precedes it", () => {
    for (const file of ["packages/cli/dist/bundle/stellar-secrets.cjs", "packages/cli/dist/bundle/command-get.cjs", "packages/resolver/dist/bundle/resolver.cjs", "packages/language-server/dist/bundle/server.cjs"]) {
      const text = readFileSync(join(REPO_ROOT, file), "utf8");
      const m = /\/\/ stellar-secrets build ([0-9a-f]{8})\n$/.exec(text);
      expect([file, m?.[1]]).toEqual([file, createHash("sha256").update(text.slice(0, m?.index)).digest("hex").slice(0, 8)]);
    }
  });

  it("the built bundles are ASCII (one character beyond it makes node read the whole bundle as a two-byte string), and still hold the characters their messages need", () => {
    const bundles = ["packages/cli/dist/bundle", "packages/resolver/dist/bundle", "packages/language-server/dist/bundle"].flatMap((dir) =>
      readdirSync(join(REPO_ROOT, dir))
        .filter((f) => f.endsWith(".cjs"))
        .map((f) => join(dir, f)),
    );
    expect(bundles.length).toBeGreaterThanOrEqual(7);
    for (const file of bundles) {
      const bytes = readFileSync(join(REPO_ROOT, file));
      expect([file, bytes.findIndex((b) => b > 0x7f)]).toEqual([file, -1]);
    }
    // the resolver's bundle is not minified and kept comments with `…` in them: written as escapes
    const resolver = readFileSync(join(REPO_ROOT, "packages/resolver/dist/bundle/resolver.cjs"), "latin1");
    expect(resolver).toContain("\\u2026");
  });
});
