import { describe, expect, it } from "vitest";
import { transportOf } from "./transports.js";

describe("transportOf: the transport of the command line", () => {
  it("takes each transport, in both spellings of a value, the first one named", () => {
    expect(transportOf(["--stdio"])).toEqual({ kind: "stdio" });
    expect(transportOf(["--node-ipc", "--stdio"])).toEqual({ kind: "node-ipc" });
    expect(transportOf(["--socket=5007"])).toEqual({ kind: "socket", port: 5007 });
    expect(transportOf(["--socket", "5007"])).toEqual({ kind: "socket", port: 5007 });
    expect(transportOf(["--pipe=/tmp/lsp.sock"])).toEqual({ kind: "pipe", name: "/tmp/lsp.sock" });
    expect(transportOf(["--pipe", "\\\\.\\pipe\\lsp-1"])).toEqual({ kind: "pipe", name: "\\\\.\\pipe\\lsp-1" });
    expect(transportOf(["--version"])).toBeUndefined();
  });

  it("refuses a port that is no port from 1 to 65535, and a missing value, saying what to give", () => {
    for (const args of [["--socket=abc"], ["--socket=0"], ["--socket=65536"], ["--socket=1e3"], ["--socket=80.5"], ["--socket= 80"], ["--socket"], ["--socket", "--stdio"]]) {
      const t = transportOf(args);
      expect(t !== undefined && "error" in t ? t.error : t, args.join(" ")).toMatch(/^--socket.*(no port|needs the port)/);
    }
    for (const args of [["--pipe"], ["--pipe="], ["--pipe", "--stdio"]]) {
      const t = transportOf(args);
      expect(t !== undefined && "error" in t ? t.error : t).toMatch(/^--pipe needs the name/);
    }
  });
});
