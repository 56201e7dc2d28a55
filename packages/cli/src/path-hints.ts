/**
 * Hints for a path typed on the command line that this system reads differently from what was
 * meant: a Windows path (`C:\Users\alice\key.pem`, `.\connectors`, `secrets\production.enc.yaml`),
 * whose backslashes a POSIX system takes as part of one file name, not as separators.
 */

/** True when `typed` is written as a Windows path: a drive letter (`C:\`, `C:/`) or a backslash. */
export function looksLikeWindowsPath(typed: string): boolean {
  return /(^|\/)[A-Za-z]:[\\/]|\\/.test(typed);
}

/**
 * The hint of an error about a path the user typed (a file not found, one that cannot be read)
 * when it is written as a Windows path; undefined for any other path. It never repeats the path
 * (a path given by mistake may be a value: `--from-file` hides such paths).
 */
export function windowsPathHint(typed: string): string | undefined {
  if (!looksLikeWindowsPath(typed)) return undefined;
  const drive = /(^|\/)[A-Za-z]:[\\/]/.test(typed) ? ", and C: is no drive" : "";
  return `the path is written as a Windows path: on this system a backslash is part of a file name, not a separator${drive}; write it with / (under WSL, C:\\Users\\… is /mnt/c/Users/…)`;
}
