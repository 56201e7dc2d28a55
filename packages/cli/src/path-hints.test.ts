import { describe, expect, it } from "vitest";
import { looksLikeWindowsPath, windowsPathHint } from "./path-hints.js";

describe("looksLikeWindowsPath", () => {
  it("takes a drive letter or a backslash for a Windows path, and a POSIX path for none", () => {
    for (const p of ["C:\\Users\\alice\\key.pem", "c:/certs/ca.pem", ".\\connectors", "secrets\\production.enc.yaml", "/repo/C:\\x"]) expect(looksLikeWindowsPath(p), p).toBe(true);
    for (const p of ["/mnt/c/Users/alice", "secrets/production.enc.yaml", "./connectors", "key:1.pem", "a:b"]) expect(looksLikeWindowsPath(p), p).toBe(false);
  });
});

describe("windowsPathHint", () => {
  it("says why and how to write the path, names the drive only when there is one, and never repeats the path", () => {
    expect(windowsPathHint("/tmp/x")).toBeUndefined();
    const drive = windowsPathHint("C:\\Users\\ghp_secretish\\key.pem") as string;
    expect(drive).toBe("the path is written as a Windows path: on this system a backslash is part of a file name, not a separator, and C: is no drive; write it with / (under WSL, C:\\Users\\… is /mnt/c/Users/…)");
    expect(drive).not.toContain("ghp_");
    expect(windowsPathHint("infra\\secrets")).toBe("the path is written as a Windows path: on this system a backslash is part of a file name, not a separator; write it with / (under WSL, C:\\Users\\… is /mnt/c/Users/…)");
  });
});
