/**
 * Test-only: a repository in memory under `/mem`, as a {@link WorkspaceFs} for the loader (not
 * built: core's tsconfig leaves test-support out). `files` are relative paths → text or bytes;
 * `links` are relative paths → the absolute target a symbolic link there points at (listed as a
 * link, `realpath` gives the target; read at its own path when `files` has it, else through it); `reads` counts each file's reads (relative path); `write` sets (text) or
 * deletes (undefined) a file.
 */
import type { Dirent, Stats } from "node:fs";
import type { WorkspaceFs } from "../workspace-fs.js";

export type MemoryFs = WorkspaceFs & { reads: Map<string, number>; write(rel: string, text: string | undefined): void };

export function memoryFs(files: Record<string, string | Uint8Array>, links: Record<string, string> = {}): MemoryFs {
  const bytes = new Map(Object.entries(files).map(([p, v]) => [`/mem/${p}`, typeof v === "string" ? Buffer.from(v, "utf8") : Buffer.from(v)]));
  const dirs = new Set<string>(["/mem"]);
  const linked = new Map(Object.entries(links).map(([p, target]) => [`/mem/${p}`, target]));
  const addFolders = (p: string): void => {
    for (let d = p.slice(0, p.lastIndexOf("/")); d.length > 4; d = d.slice(0, d.lastIndexOf("/"))) dirs.add(d);
  };
  for (const p of [...bytes.keys(), ...linked.keys()]) addFolders(p);
  const missing = (p: string): Error => Object.assign(new Error(`ENOENT: ${p}`), { code: "ENOENT" });
  const real = (p: string): string => {
    for (const [link, target] of linked) if (p === link || p.startsWith(`${link}/`)) return target + p.slice(link.length);
    return p;
  };
  const reads = new Map<string, number>();
  // a file under its own path, else through a link to it
  const get = (p: string): Buffer => {
    const b = bytes.get(p) ?? bytes.get(real(p));
    if (b === undefined) throw missing(p);
    reads.set(p.slice(5), (reads.get(p.slice(5)) ?? 0) + 1);
    return b;
  };
  const entry = (name: string, dir: boolean, link: boolean): Dirent => ({ name, isDirectory: () => dir && !link, isFile: () => !dir && !link, isSymbolicLink: () => link }) as Dirent;
  return {
    reads,
    write: (rel, text) => {
      if (text === undefined) bytes.delete(`/mem/${rel}`);
      else bytes.set(`/mem/${rel}`, Buffer.from(text, "utf8"));
      addFolders(`/mem/${rel}`);
    },
    readFile: (p) => get(p).toString("utf8"),
    readFileBytes: get,
    readdir: (p) => {
      const names = new Map<string, boolean>();
      for (const f of [...bytes.keys(), ...dirs, ...linked.keys()]) if (f.startsWith(`${p}/`) && !f.slice(p.length + 1).includes("/")) names.set(f.slice(p.length + 1), dirs.has(f));
      return [...names].map(([n, d]) => entry(n, d, linked.has(`${p}/${n}`)));
    },
    stat: (p) => {
      const r = bytes.has(p) || dirs.has(p) ? p : real(p);
      if (!bytes.has(r) && !dirs.has(r)) throw missing(p);
      return { isFile: () => bytes.has(r), isDirectory: () => dirs.has(r), size: bytes.get(r)?.length ?? 0 } as Stats;
    },
    realpath: real,
  };
}
