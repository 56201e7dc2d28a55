import { describe, expect, it } from "vitest";
import { forClient, markdownToPlainText } from "./markup.js";

describe("markup for the client", () => {
  it("removes bold markers and the spaces of hard line breaks, nothing else", () => {
    expect(markdownToPlainText("**stripe_api_key** (secret)\n\nValue set in: dev  \nMissing in: prod\n\nsnake_case `x` * y")).toBe(
      "stripe_api_key (secret)\n\nValue set in: dev\nMissing in: prod\n\nsnake_case `x` * y",
    );
  });

  it("keeps Markdown for clients that accept it or say nothing, and gives plain text to the others", () => {
    const md = { kind: "markdown" as const, value: "**a** (secret)" };
    expect(forClient(md, undefined)).toBe(md);
    expect(forClient(md, [])).toBe(md);
    expect(forClient(md, ["plaintext", "markdown"])).toBe(md);
    expect(forClient(md, ["plaintext"])).toEqual({ kind: "plaintext", value: "a (secret)" });
  });
});
