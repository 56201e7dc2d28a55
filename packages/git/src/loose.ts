/**
 * Reading a commit's files straight from a git directory, without starting git, for the common
 * case only: HEAD (a loose or packed ref, or a detached id) and loose objects (what `git commit`
 * writes; zlib-compressed `<type> <size>\0<bytes>` files under objects/). Anything else (an
 * object in a pack, SHA-256 or other repository extensions, replace refs, alternates, a
 * repository owned by another user, variables that change how git reads objects) makes it answer
 * "unknown", and the caller asks git. `check`'s start saves git's process this way.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { GitError } from "./errors.js";
import { inflateZlib, inflateZlibStart } from "./inflate.js";
import { MAX_OBJECT_BYTES, treeEntries, type TreeEntry } from "./repo.js";

/** Thrown (and caught by the callers) when only git can answer. */
export class AskGit extends Error {
  constructor(why: string) {
    super(why);
    this.name = "AskGit";
  }
}

/** Variables that change which objects or refs git reads (then only git can say). */
const OBJECT_VARIABLES = ["GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_REPLACE_REF_BASE", "GIT_NO_REPLACE_OBJECTS", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_NAMESPACE"];

/**
 * How many compressed bytes of loose objects a repository inflates in JavaScript (inflate.ts)
 * before it loads `node:zlib`. Loading node:zlib loads node's stream code (about 2–3 ms of a
 * cold start); the JavaScript inflate, running cold in V8's interpreter, costs about 0.25 ms for
 * its first object and 0.15–0.2 ms per compressed KB, so it wins for the few small objects
 * `check` reads (a commit, a few trees, environment files of a few KB) and loses beyond about
 * this many bytes. An object that would go past it, and every object after it, is inflated by
 * node:zlib.
 */
const JS_INFLATE_BUDGET = 8 * 1024;

/** How many bytes of a loose object's start hold its header (`commit ` and 20 digits and the NUL fit). */
const HEADER_BYTES = 32;

/** How to fix a loose object that does not inflate to what its header says. */
const FSCK_HINT = "run `git fsck --full` to find the damaged object; restore it from a clone (or remove the commit that holds it)";

/** A git object read from its loose file. */
export interface LooseObject {
  type: string;
  content: Buffer;
}

/** The loose objects and refs of one work tree's git directory (see the module comment). */
export class LooseRepository {
  /** The objects read so far (a commit and its parent often share trees and blobs). */
  private readonly objects = new Map<string, LooseObject>();
  /** Compressed bytes inflated in JavaScript so far (see {@link JS_INFLATE_BUDGET}). */
  private inflatedInJs = 0;

  private constructor(
    private readonly gitDir: string,
    private readonly commonDir: string,
  ) {}

  /**
   * Opens `gitDir` (found by `findWorkTree`, whose work tree's top folder is `top`) when reading
   * it directly gives what git gives; undefined otherwise (then ask git).
   */
  static open(top: string, gitDir: string, env: NodeJS.ProcessEnv): LooseRepository | undefined {
    if (OBJECT_VARIABLES.some((v) => env[v] !== undefined)) return undefined;
    try {
      let commonDir = gitDir;
      try {
        commonDir = resolve(gitDir, readFileSync(join(gitDir, "commondir"), "utf8").trim());
      } catch {
        // not a linked work tree: the git directory is the common one
      }
      // git refuses a repository another user owns (safe.directory): let git decide
      const uid = process.geteuid?.();
      if (uid === undefined || [top, gitDir, commonDir].some((p) => statSync(p).uid !== uid)) return undefined;
      // any repository extension (SHA-256 objects, reftable refs, ...), replace refs or alternates: ask git
      if (/^\s*\[extensions\b|objectformat|refstorage/im.test(readFileSync(join(commonDir, "config"), "utf8"))) return undefined;
      if (statSync(join(commonDir, "objects", "info", "alternates"), { throwIfNoEntry: false }) !== undefined) return undefined;
      let replaceRefs: string[] = [];
      try {
        replaceRefs = readdirSync(join(commonDir, "refs", "replace"));
      } catch {
        // none
      }
      if (replaceRefs.length > 0) return undefined;
      if (/ refs\/replace\//.test(readText(join(commonDir, "packed-refs")) ?? "")) return undefined;
      return new LooseRepository(gitDir, commonDir);
    } catch {
      return undefined;
    }
  }

  /** HEAD's commit id; undefined before the first commit (an unborn branch). Throws {@link AskGit} when unsure. */
  head(): string | undefined {
    let text = readText(join(this.gitDir, "HEAD"));
    for (let depth = 0; depth < 5; depth++) {
      if (text === undefined) throw new AskGit("no HEAD");
      const line = text.replace(/\r?\n$/, "");
      if (/^[0-9a-f]{40}$/.test(line)) return line;
      const m = /^ref: (refs\/[^\s]+)$/.exec(line);
      if (m === null) throw new AskGit("unusual HEAD");
      const ref = m[1]!;
      // per-work-tree refs (refs/bisect, refs/worktree, refs/rewritten) live in the work tree's git directory
      const perWorkTree = /^refs\/(bisect|worktree|rewritten)\//.test(ref);
      const loose = readText(join(perWorkTree ? this.gitDir : this.commonDir, ref));
      if (loose !== undefined) {
        text = loose;
        continue;
      }
      const packed = packedRef(readText(join(this.commonDir, "packed-refs")), ref);
      if (packed === undefined) return undefined; // the branch has no commit yet
      return packed;
    }
    throw new AskGit("symbolic refs too deep");
  }

  /**
   * The object `id` from its loose file. Throws {@link AskGit} when it has none (a packed object)
   * or it does not read back, and whatever the inflate throws on a corrupt file (callers ask git
   * then). Small objects are inflated in JavaScript, larger ones (and all once the budget is
   * spent) by node:zlib: see {@link JS_INFLATE_BUDGET}. An object read again is not read again.
   *
   * Every inflate is bounded by the size the object's header declares (and the header): an
   * object whose data goes on past it (a zlib bomb behind a small header) is refused with
   * `GitError("CORRUPT_OBJECT")`; one whose header declares more than `maxSize` bytes (default
   * {@link MAX_OBJECT_BYTES}) with `GitError("OBJECT_TOO_LARGE")`, before it is inflated.
   */
  read(id: string, maxSize: number = MAX_OBJECT_BYTES): LooseObject {
    const known = this.objects.get(id);
    if (known !== undefined) {
      if (known.content.length > maxSize) throw tooLarge(id, known.content.length, maxSize);
      return known;
    }
    let raw: Buffer;
    try {
      raw = readFileSync(join(this.commonDir, "objects", id.slice(0, 2), id.slice(2)));
    } catch {
      throw new AskGit(`object ${id} is not loose`);
    }
    let bytes: Buffer;
    try {
      if (this.inflatedInJs + raw.length <= JS_INFLATE_BUDGET) {
        this.inflatedInJs += raw.length;
        // the cap is asked for only when the output outgrows its first buffer (the header is in it by then)
        bytes = inflateZlib(raw, (start) => declaredEnd(start, id, maxSize));
      } else {
        const end = declaredEnd(inflateZlibStart(raw, HEADER_BYTES), id, maxSize);
        this.inflatedInJs = Infinity; // node:zlib is loaded now: it inflates the rest
        bytes = process.getBuiltinModule("node:zlib").inflateSync(raw, { maxOutputLength: end });
      }
    } catch (error) {
      if (error instanceof GitError || error instanceof AskGit) throw error;
      const past = (error as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE" || /^zlib: the output is larger than/.test((error as Error).message);
      if (!past) throw error;
      throw new GitError("CORRUPT_OBJECT", `the loose object ${id} (${join(this.commonDir, "objects", id.slice(0, 2), id.slice(2))}) inflates to more bytes than its header declares`, { hint: FSCK_HINT, cause: error });
    }
    const nul = bytes.indexOf(0);
    // the size in canonical decimal, as git parses it (git refuses `blob 06`: so must this)
    const header = nul === -1 ? undefined : /^(blob|tree|commit|tag) (0|[1-9]\d*)$/.exec(bytes.subarray(0, nul).toString("latin1"));
    if (header === undefined || header === null || Number(header[2]) !== bytes.length - nul - 1) throw new AskGit(`object ${id} does not read back`);
    if (bytes.length - nul - 1 > maxSize) throw tooLarge(id, bytes.length - nul - 1, maxSize);
    const object = { type: header[1]!, content: bytes.subarray(nul + 1) };
    this.objects.set(id, object);
    return object;
  }

  /** The tree id of commit `id` (as `<commit>^{tree}`); undefined when `id` names a tree or a blob. */
  treeOf(id: string): string | undefined {
    const o = this.read(id);
    if (o.type === "tag") throw new AskGit(`${id} is a tag`); // git peels it
    if (o.type !== "commit") return undefined;
    const m = /^tree ([0-9a-f]{40})\n/.exec(o.content.subarray(0, 64).toString("latin1"));
    if (m === null) throw new AskGit(`commit ${id} does not read back`);
    return m[1];
  }

  /**
   * The entries of the tree at `path` (`/`-separated from the top, "" the top) under tree `root`;
   * undefined when there is no folder there. Throws `GitError("CORRUPT_OBJECT")` when a tree on
   * the way holds two entries of one name (git takes it for corrupt: see `treeEntries`).
   */
  folder(root: string, path: string): TreeEntry[] | undefined {
    let id = root;
    let tree = this.read(root);
    for (const part of path === "" ? [] : path.split("/")) {
      if (tree.type !== "tree") return undefined;
      const entry = treeEntries(tree.content, 20, id).find((e) => e.name === part);
      if (entry === undefined || entry.mode !== 0o40000) return undefined; // absent, a file, a link or a submodule
      id = entry.id;
      tree = this.read(id);
    }
    return tree.type === "tree" ? treeEntries(tree.content, 20, id) : undefined;
  }
}

/**
 * Where a loose object's bytes end (its header, `<type> <size>\0`, and `size` bytes), from the
 * start of its inflated bytes: the cap of its inflate. Throws {@link AskGit} when the start holds
 * no header (git decides), `GitError("OBJECT_TOO_LARGE")` when the size is over `maxSize`.
 */
function declaredEnd(start: Uint8Array, id: string, maxSize: number): number {
  const nul = start.indexOf(0);
  const header = nul === -1 || nul > HEADER_BYTES ? null : /^(?:blob|tree|commit|tag) (0|[1-9]\d{0,19})$/.exec(Buffer.from(start.buffer, start.byteOffset, nul).toString("latin1"));
  if (header === null) throw new AskGit(`object ${id} has no header`);
  const size = Number(header[1]);
  if (size > maxSize) throw tooLarge(id, size, maxSize);
  return nul + 1 + size;
}

function tooLarge(id: string, size: number, maxSize: number): GitError {
  return new GitError("OBJECT_TOO_LARGE", `the git object ${id} holds ${size} bytes, more than the ${maxSize} read`, {
    hint: "an environment file holds one encrypted string per name: split or clean the file in a new commit",
  });
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The id of `ref` in a packed-refs text (`<id> <ref>` lines; `^<id>` lines peel the tag above). */
function packedRef(text: string | undefined, ref: string): string | undefined {
  if (text === undefined) return undefined;
  for (const line of text.split("\n")) {
    const space = line.indexOf(" ");
    if (space === 40 && line.slice(space + 1).replace(/\r$/, "") === ref && /^[0-9a-f]{40}$/.test(line.slice(0, 40))) return line.slice(0, 40);
  }
  return undefined;
}
