import { describe, expect, it } from "vitest";
import { fromProjectPath, isInside, isUnder, pathToUri, toProjectPath, uriToPath } from "./uris.js";

describe("uris", () => {
  it("converts file URIs and absolute paths both ways, percent-encoding included", () => {
    expect(uriToPath("file:///tmp/my%20org/stellar.yaml")).toBe("/tmp/my org/stellar.yaml");
    expect(pathToUri("/tmp/my org/a#b.yaml")).toBe("file:///tmp/my%20org/a%23b.yaml");
    expect(uriToPath(pathToUri("/tmp/x/../y/a.yaml"))).toBe("/tmp/y/a.yaml");
  });

  it("names a folder without the trailing slash some clients write (eglot: file:///home/u/project/), the root as /", () => {
    expect(uriToPath("file:///tmp/project/")).toBe("/tmp/project");
    expect(uriToPath("file:///tmp/project//")).toBe("/tmp/project");
    expect(uriToPath("file:///")).toBe("/");
    expect(isUnder(uriToPath("file:///tmp/project/a.yaml")!, uriToPath("file:///tmp/project/")!)).toBe(true);
  });

  it("answers undefined for other schemes and malformed file URIs", () => {
    expect(uriToPath("untitled:Untitled-1")).toBeUndefined();
    expect(uriToPath("file://remote-host/a.yaml")).toBeUndefined();
    // a fragment or a query (a `#` or `?` not percent-encoded) is no part of a file's path: no file, not another one
    expect(uriToPath("file:///tmp/org/a.yaml#b.yaml")).toBeUndefined();
    expect(uriToPath("file:///tmp/org/a.yaml?b.yaml")).toBeUndefined();
    expect(uriToPath("file:///tmp/org/a%23b%3F.yaml")).toBe("/tmp/org/a#b?.yaml");
  });

  it("maps absolute paths to the project-relative paths core keys files by, and back", () => {
    expect(toProjectPath("/org", "/org/connections/hubspot.yaml")).toBe("connections/hubspot.yaml");
    expect(fromProjectPath("/org", "connections/hubspot.yaml")).toBe("/org/connections/hubspot.yaml");
  });

  it("tells whether a path is inside a folder", () => {
    expect(isInside("/org/a.yaml", "/org")).toBe(true);
    expect(isInside("/org", "/org")).toBe(true);
    expect(isInside("/organisation/a.yaml", "/org")).toBe(false);
    expect(isUnder("/org/a.yaml", "/org")).toBe(true);
    expect(isUnder("/organisation", "/org")).toBe(false);
  });
});
