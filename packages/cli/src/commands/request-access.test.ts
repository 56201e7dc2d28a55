import { describe, expect, it } from "vitest";
import { proposalSteps } from "./request-access.js";

describe("proposalSteps", () => {
  it("says to commit on the branch the user is on when it is not the default one", () => {
    expect(proposalSteps("bob", ["staging", "production"], { current: "feature/x", default: "main" })).toEqual([
      "This grants nothing yet. Propose it in a pull request: commit on this branch (feature/x) and push it:",
      '  git commit -m "access: bob requests staging, production" stellar.yaml',
      "  git push -u origin feature/x",
    ]);
  });

  it("proposes a new access/ branch on the default branch, a detached HEAD, or when the default branch is not known", () => {
    const steps = ["This grants nothing yet. Propose it in a pull request:", "  git checkout -b access/bob-staging", '  git commit -m "access: bob requests staging" stellar.yaml', "  git push -u origin access/bob-staging"];
    expect(proposalSteps("bob", ["staging"], { current: "main", default: "main" })).toEqual(steps);
    expect(proposalSteps("bob", ["staging"], { current: "trunk", default: "trunk" })).toEqual(steps);
    expect(proposalSteps("bob", ["staging"], { current: undefined, default: "main" })).toEqual(steps);
    expect(proposalSteps("bob", ["staging"], { current: "develop", default: undefined })).toEqual(steps);
  });
});
