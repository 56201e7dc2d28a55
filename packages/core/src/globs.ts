/**
 * Glob patterns of `config.include` / `config.exclude` (relative to the repository root, `/`
 * separators): `*` and `?` within one path segment, `**` across segments, `{a,b}` alternatives,
 * `[abc]` / `[!abc]` classes. A pattern matches whole paths; `dir/**` also matches `dir` itself.
 */

/** Compiles one glob to a RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  let i = 0;
  let braces = 0;
  const g = glob.replace(/^\.\//, "");
  while (i < g.length) {
    const c = g[i] as string;
    if (c === "*") {
      if (g[i + 1] === "*") {
        const atStart = i === 0 || g[i - 1] === "/";
        const next = g[i + 2];
        if (atStart && next === "/") {
          re += "(?:.*/)?";
          i += 3;
          continue;
        }
        if (atStart && next === undefined) {
          if (re.endsWith("/")) re = `${re.slice(0, -1)}(?:/.*)?`;
          else re += ".*";
          i += 2;
          continue;
        }
        re += ".*";
        i += 2;
        continue;
      }
      re += "[^/]*";
    } else if (c === "?") {
      re += "[^/]";
    } else if (c === "{") {
      braces++;
      re += "(?:";
    } else if (c === "}" && braces > 0) {
      braces--;
      re += ")";
    } else if (c === "," && braces > 0) {
      re += "|";
    } else if (c === "[") {
      const close = g.indexOf("]", i + 2);
      if (close === -1) {
        re += "\\[";
      } else {
        let body = g.slice(i + 1, close);
        if (body.startsWith("!")) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, "\\\\")}]`;
        i = close;
      }
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
    i++;
  }
  return new RegExp(`^${re}$`);
}

/** A set of include and exclude globs. */
/** What the loader asks of the config-file globs (a {@link GlobFilter}, or several as one). */
export interface PathFilter {
  /** True when a file path is selected. */
  matches(path: string): boolean;
  /** True when a directory is excluded as a whole (its walk can be skipped). */
  excludesDirectory(path: string): boolean;
  /** False when no selected file can be under the directory `path`. */
  mayContain(path: string): boolean;
}

/**
 * Several filters as one: a file is selected when any filter selects it (and no folder above it
 * is excluded by that filter); a folder is skipped only when every filter would skip it.
 */
export class UnionFilter implements PathFilter {
  constructor(private readonly filters: readonly GlobFilter[]) {}
  matches(path: string): boolean {
    const parts = path.split("/");
    const folders = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/"));
    return this.filters.some((f) => f.matches(path) && !folders.some((d) => f.excludesDirectory(d)));
  }
  excludesDirectory(path: string): boolean {
    return this.filters.every((f) => f.excludesDirectory(path) || !f.mayContain(path));
  }
  mayContain(path: string): boolean {
    return this.filters.some((f) => f.mayContain(path));
  }
}

export class GlobFilter implements PathFilter {
  private readonly include: RegExp[];
  private readonly exclude: RegExp[];
  private readonly excludeGlobs: readonly string[];
  /** Literal leading directories of each include pattern (undefined when one starts with a wildcard). */
  private readonly roots: string[][] | undefined;
  constructor(include: readonly string[], exclude: readonly string[]) {
    this.include = include.map(globToRegExp);
    this.exclude = exclude.map(globToRegExp);
    this.excludeGlobs = exclude;
    const roots: string[][] = [];
    for (const g of include) {
      const segments = g.replace(/^\.\//, "").split("/");
      const literal: string[] = [];
      for (const seg of segments.slice(0, -1)) {
        if (/[*?[{]/.test(seg)) break;
        literal.push(seg);
      }
      roots.push(literal);
    }
    this.roots = roots.some((r) => r.length === 0) ? undefined : roots;
  }
  /** False when no included file can be under the directory `path` (its walk can be skipped). */
  mayContain(path: string): boolean {
    if (this.roots === undefined) return true;
    const parts = path.split("/");
    return this.roots.some((root) => {
      const n = Math.min(root.length, parts.length);
      for (let i = 0; i < n; i++) if (root[i] !== parts[i]) return false;
      return true;
    });
  }
  /** True when a file path is included and not excluded. */
  matches(path: string): boolean {
    return this.include.some((r) => r.test(path)) && !this.exclude.some((r) => r.test(path));
  }
  /** True when an include glob matches the file `path` (whether or not an exclude glob keeps it out). */
  includes(path: string): boolean {
    return this.include.some((r) => r.test(path));
  }
  /** True when a directory is excluded as a whole (its walk can be skipped). */
  excludesDirectory(path: string): boolean {
    return this.exclude.some((r) => r.test(path));
  }
  /**
   * The exclude glob that keeps the file `path` out although an include glob selects it: the first
   * that matches the path or a folder above it (a walk skips an excluded folder whole); undefined
   * when the path is not included, or not excluded.
   */
  excludedBy(path: string): string | undefined {
    if (!this.include.some((r) => r.test(path))) return undefined;
    for (let at = path.length; at > 0; at = path.lastIndexOf("/", at - 1)) {
      const candidate = path.slice(0, at);
      const i = this.exclude.findIndex((r) => r.test(candidate));
      if (i !== -1) return this.excludeGlobs[i];
    }
    return undefined;
  }
}
