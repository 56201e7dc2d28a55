import { describe, expect, it } from "vitest";
import { sendProbe } from "./probe-http.js";

describe("sendProbe", () => {
  it("never sends credentials over plain http to another host than loopback (refused before any connection)", async () => {
    const headers = { Authorization: "Bearer TEST-ONLY-not-sent" };
    expect(await sendProbe({ method: "GET", url: new URL("http://api.example.invalid/v1"), headers, timeoutMs: 1000 })).toEqual({
      kind: "unreachable",
      reason: "not sent: plain http to api.example.invalid: credentials are only sent over https (or http to localhost, 127.0.0.1, ::1)",
    });
    expect(await sendProbe({ method: "GET", url: new URL("ftp://files.example.invalid/"), headers, timeoutMs: 1000 })).toEqual({
      kind: "unreachable",
      reason: "not sent: scheme ftp: is not http(s)",
    });
  });
});
