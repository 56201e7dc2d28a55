/** TEST-ONLY: dated commits of a temporary project, for the language server's and test/'s LSP tests. */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

/**
 * `git init` (once) and a commit of everything in `dir`, dated `date` (ISO; author and committer),
 * with no user or system git config. Returns the commit id.
 */
export function commitAll(dir: string, message: string, date?: string): string {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_AUTHOR_NAME: "Alice Example",
    GIT_AUTHOR_EMAIL: "alice@example.test",
    GIT_COMMITTER_NAME: "Alice Example",
    GIT_COMMITTER_EMAIL: "alice@example.test",
    ...(date === undefined ? {} : { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }),
  };
  const git = (args: string[]): string => execFileSync("git", args, { cwd: dir, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (!existsSync(join(dir, ".git"))) git(["init", "-q", "-b", "main"]);
  git(["add", "-A"]);
  git(["commit", "-q", "--allow-empty", "-m", message]);
  return git(["rev-parse", "HEAD"]).trim();
}
