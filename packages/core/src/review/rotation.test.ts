/**
 * The rotation schedule in memory: durations, a value's age against its limit, and the
 * `rotation-overdue` rule with an injected history (off without one). No git, no disk.
 */
import { describe, expect, it } from "vitest";
import { encryptSecrets, generateIdentity } from "@stellar-secrets/sops";
import { checkWorkspace, loadWorkspace, type HistoryEvent, type ValueHistory, type WorkspaceIndex } from "../index.js";
import { durationDays, rotationTrackedFiles, valueAge, valueHistoryOf } from "./rotation.js";
import { treeFs } from "./state.js";

async function project(catalog: string, stellarExtra = ""): Promise<WorkspaceIndex> {
  const alice = await generateIdentity();
  const files = new Map<string, string>([
    ["stellar.yaml", `version: 1\nenvironments:\n  production:\n    members:\n      alice: ${alice.recipient}\n${stellarExtra}`],
    ["connectors/stripe.yaml", "kind: auth_connector\nname: stripe\ntype: bearer_token\ntoken: { secret: stripe_api_key }\n"],
    ["connectors/hubspot.yaml", "kind: auth_connector\nname: hubspot\ntype: bearer_token\ntoken: { secret: hubspot_api_token }\n"],
    ["secrets/catalog.yaml", catalog],
    [
      "secrets/production.enc.yaml",
      await encryptSecrets(
        new Map([
          ["hubspot_api_token", "h1"],
          ["stripe_api_key", "s1"],
        ]),
        { recipients: [alice.recipient] },
      ),
    ],
  ]);
  return loadWorkspace("/p", { fs: treeFs("/p", new Set(files.keys()), (rel) => files.get(rel)), atRoot: true }).index;
}

const CATALOG = "secrets:\n  stripe_api_key:\n    rotate_every: 90d\n  hubspot_api_token:\n    owner: crm\n";
const NOW = new Date("2026-06-01T00:00:00Z");
const history = (dates: Record<string, string>): ValueHistory => ({
  lastValueChange: (environment, name) => {
    const date = dates[`${environment}/${name}`];
    return date === undefined ? undefined : { date, commit: "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00" };
  },
});

describe("durationDays", () => {
  it("reads d, w, m (30 days) and y (365 days), and nothing else", () => {
    expect([durationDays("90d"), durationDays("12w"), durationDays("6m"), durationDays("1y"), durationDays(" 2d ")]).toEqual([90, 84, 180, 365, 2]);
    expect([durationDays("90"), durationDays("ninety"), durationDays("1.5y"), durationDays("-3d")]).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe("valueAge", () => {
  it("counts whole days, overdue only past the limit, and unknown as overdue", () => {
    expect(valueAge({ date: "2026-03-03T00:00:00Z" }, 90, NOW)).toEqual({ ageDays: 90, overdue: false });
    expect(valueAge({ date: "2026-03-02T00:00:00Z" }, 90, NOW)).toEqual({ ageDays: 91, overdue: true });
    expect(valueAge(undefined, 90, NOW)).toEqual({ ageDays: null, overdue: true });
    expect(valueAge({ date: NOW.toISOString() }, 0, NOW)).toEqual({ ageDays: 0, overdue: false });
  });

  it("takes the last value change from events: re-encryptions do not count", () => {
    const e = (kind: HistoryEvent["kind"], date: string): HistoryEvent => ({ environment: "production", name: "a", kind, date, commit: date, author: "x", email: "x@x", message: "", verified: false });
    const h = valueHistoryOf([e("added", "2026-01-01"), e("re-encrypted", "2026-05-01")]);
    expect(h.lastValueChange("production", "a")).toMatchObject({ date: "2026-01-01" });
    expect(h.lastValueChange("production", "b")).toBeUndefined();
  });
});

describe("rotation-overdue", () => {
  it("is off without a history, and reports a value older than its catalog rotate_every at its name", async () => {
    const index = await project(CATALOG);
    expect(checkWorkspace(index).filter((d) => d.rule === "rotation-overdue")).toEqual([]);

    const fresh = checkWorkspace(index, { history: history({ "production/stripe_api_key": "2026-05-01T00:00:00Z" }), now: NOW });
    expect(fresh.filter((d) => d.rule === "rotation-overdue")).toEqual([]);

    // hubspot has no rotate_every: never reported, however old
    const old = checkWorkspace(index, {
      history: history({ "production/stripe_api_key": "2026-01-02T09:00:00+00:00", "production/hubspot_api_token": "2020-01-01T00:00:00Z" }),
      now: NOW,
    }).filter((d) => d.rule === "rotation-overdue");
    expect(old.map((d) => [d.severity, d.file, d.line, d.column, d.endColumn, d.secret])).toEqual([
      ["warning", "secrets/production.enc.yaml", 2, 1, 15, "stripe_api_key"],
    ]);
    expect(old[0]?.message).toMatchInlineSnapshot(
      `"the value of secret "stripe_api_key" in production was last set 149 days ago (2026-01-02, commit c0ffee00c0), and the catalog says to rotate it every 90d (90 days); rotate it at the provider, then \`stellar-secrets set stripe_api_key --env production\`"`,
    );
  });

  it("reports a value no commit shows being set, and follows stellar.yaml severities", async () => {
    const index = await project(CATALOG);
    const none = checkWorkspace(index, { history: history({}), now: NOW }).filter((d) => d.rule === "rotation-overdue");
    expect(none.map((d) => d.secret)).toEqual(["stripe_api_key"]);
    expect(none[0]?.message).toContain('no commit shows when the value of secret "stripe_api_key" in production was last set');
    expect(checkWorkspace(index, { history: history({}), now: NOW, rules: { "rotation-overdue": "error" } }).find((d) => d.rule === "rotation-overdue")?.severity).toBe("error");
    expect(checkWorkspace(index, { history: history({}), now: NOW, rules: { "rotation-overdue": "off" } }).some((d) => d.rule === "rotation-overdue")).toBe(false);
    // an invalid rotate_every is a schema problem of the catalog, not a rotation
    const bad = await project("secrets:\n  stripe_api_key:\n    rotate_every: soon\n");
    expect(checkWorkspace(bad, { history: history({}), now: NOW }).some((d) => d.rule === "rotation-overdue")).toBe(false);
  });
});

describe("rotationTrackedFiles", () => {
  it("names the environment files of the secrets with a valid rotate_every, and none when the rule needs no history", async () => {
    expect(rotationTrackedFiles(await project(CATALOG))).toEqual([{ environment: "production", path: "secrets/production.enc.yaml" }]);
    expect(rotationTrackedFiles(await project("secrets:\n  hubspot_api_token:\n    owner: crm\n"))).toEqual([]);
    expect(rotationTrackedFiles(await project("secrets:\n  stripe_api_key:\n    rotate_every: soon\n"))).toEqual([]);
    expect(rotationTrackedFiles(await project(CATALOG, "rules:\n  rotation-overdue: off\n"))).toEqual([]);
  });
});
