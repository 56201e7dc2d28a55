import type { HistoryEvent } from "@stellar-secrets/core";
import { describe, expect, it } from "vitest";
import { lastRotations } from "./access.js";

const event = (commit: string, environment: string, kind: HistoryEvent["kind"]): HistoryEvent => ({
  commit,
  author: "alice",
  email: "alice@x",
  date: `2026-01-0${commit.slice(1)}T00:00:00Z`,
  message: "",
  environment,
  name: "acme_api_key",
  kind,
  verified: false,
});

describe("lastRotations", () => {
  it("is the newest commit that re-encrypted every value, else the first commit of the file; uncommitted changes do not count", () => {
    const rotations = lastRotations([
      event("c1", "staging", "added"),
      event("c2", "staging", "re-encrypted"),
      event("c3", "staging", "changed"),
      event("c4", "production", "added"),
      event("c5", "production", "changed"),
      { ...event("c6", "production", "re-encrypted"), commit: "" },
    ]);
    expect(rotations.get("staging")).toMatchObject({ commit: "c2", kind: "re-encrypted" });
    expect(rotations.get("production")).toMatchObject({ commit: "c4", kind: "created" });
    expect(rotations.has("development")).toBe(false);
  });

  it("does not count a commit that re-encrypted every value under the same data key (a wrapped key kept byte for byte) as a rotation", () => {
    const rotations = lastRotations([
      event("c1", "staging", "added"),
      event("c2", "staging", "re-encrypted"),
      { ...event("c3", "staging", "re-encrypted"), sameDataKey: true },
    ]);
    expect(rotations.get("staging")).toMatchObject({ commit: "c2", kind: "re-encrypted" });
  });
});
