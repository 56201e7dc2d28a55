import { describe, expect, it } from "vitest";
import { editDistance, namesAtDistance, nearestName } from "./nearest.js";

describe("editDistance", () => {
  it("counts substitutions, insertions, deletions and adjacent swaps as one edit each", () => {
    expect(editDistance("stripe_api_key", "stripe_api_key")).toBe(0);
    expect(editDistance("stripe_api_key", "stripe_api_kex")).toBe(1);
    expect(editDistance("stripe_api_key", "stripe_api_ky")).toBe(1);
    expect(editDistance("stripe_api_key", "stripe_api_kye")).toBe(1);
    expect(editDistance("abc", "")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });

  it("stops at the limit and reports limit + 1", () => {
    expect(editDistance("aaaaaaaa", "bbbbbbbb", 2)).toBe(3);
    expect(editDistance("a", "abcdef", 2)).toBe(3);
  });
});

describe("nearestName", () => {
  const known = ["stripe_api_key", "hubspot_api_token", "twilio_account_sid", "Stripe_Webhook_Secret"];

  it("says when a name differs only by case", () => {
    expect(nearestName("STRIPE_API_KEY", known)).toEqual({ name: "stripe_api_key", caseOnly: true });
    expect(nearestName("stripe_webhook_secret", known)).toEqual({ name: "Stripe_Webhook_Secret", caseOnly: true });
  });

  it("suggests the closest name for a typo", () => {
    expect(nearestName("stripe_api_kye", known)).toEqual({ name: "stripe_api_key", caseOnly: false });
    expect(nearestName("hubspot_api_tokn", known)).toEqual({ name: "hubspot_api_token", caseOnly: false });
  });

  it("suggests nothing when no name is close", () => {
    expect(nearestName("sendgrid_token", known)).toBeUndefined();
    expect(nearestName("x", known)).toBeUndefined();
  });

  it("breaks ties by sort order and never suggests the name itself", () => {
    expect(nearestName("key_b", ["key_c", "key_a"])).toEqual({ name: "key_a", caseOnly: false });
    expect(nearestName("same", ["same"])).toBeUndefined();
  });
});

describe("nearestName, as the checker uses it", () => {
  it("prefers a name that differs only by case", () => {
    expect(nearestName("Stripe_Api_Key", ["stripe_api_kex", "stripe_api_key"])).toEqual({ name: "stripe_api_key", caseOnly: true });
  });
  it("finds the closest name within a third of the length", () => {
    expect(nearestName("stripe_api_kee", ["stripe_api_key", "hubspot_token"])).toEqual({ name: "stripe_api_key", caseOnly: false });
    expect(nearestName("zendesk", ["stripe_api_key"])).toBeUndefined();
  });
  it("expands an abbreviation when nothing is close", () => {
    expect(nearestName("prod", ["development", "staging", "production"])).toEqual({ name: "production", caseOnly: false });
    expect(nearestName("pr", ["production"])).toBeUndefined();
  });
  it("never suggests the name itself", () => {
    expect(nearestName("client_id", ["client_id", "client_secret"])).toBeUndefined();
    expect(nearestName("password", ["password"])).toBeUndefined();
  });
  it("computes edit distances with an early stop", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("kitten", "sitting", 1)).toBe(2);
  });
});

describe("nearestName: the pruned search picks what the plain one picks", () => {
  /** The plain search: every candidate's full distance, closest first, ties to the name that sorts first. */
  function plain(name: string, known: readonly string[]): string | undefined {
    const lower = name.toLowerCase();
    let best: string | undefined;
    let bestDistance = Math.max(2, Math.floor(name.length / 3));
    for (const c of known) {
      if (c === name) continue;
      if (c.toLowerCase() === lower) return c;
      const d = editDistance(lower, c.toLowerCase());
      if (d < bestDistance || (d === bestDistance && (best === undefined || c < best))) {
        best = c;
        bestDistance = d;
      }
    }
    if (best === undefined && name.length >= 3) {
      for (const c of known) if (c !== name && c.toLowerCase().startsWith(lower) && (best === undefined || c.length < best.length || (c.length === best.length && c < best))) best = c;
    }
    return best;
  }

  it("on seeded random names, sorted and unsorted, long and short", () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const word = (): string => Array.from({ length: 2 + rand(30) }, () => "abcde_XY"[rand(8)]).join("");
    for (let round = 0; round < 200; round++) {
      const known = Array.from({ length: 1 + rand(60) }, word);
      if (round % 2 === 0) known.sort();
      const base = known[rand(known.length)]!;
      const probe = round % 3 === 0 ? word() : base.slice(0, rand(base.length + 1)) + "abc"[rand(3)] + base.slice(rand(base.length + 1));
      expect(nearestName(probe, known)?.name, `${probe} in ${known.join(",")}`).toBe(plain(probe, known));
    }
  });
});

describe("nearestName skips candidates by the characters they do not share", () => {
  /** The search without the character filter: every candidate through editDistance. */
  function reference(name: string, known: readonly string[]): { name: string; caseOnly: boolean } | undefined {
    const lower = name.toLowerCase();
    let best: string | undefined;
    let bestDistance = Math.max(2, Math.floor(name.length / 3));
    for (const c of known) {
      if (c === name) continue;
      if (c.toLowerCase() === lower) return { name: c, caseOnly: true };
      const tieWins = best === undefined || c < best;
      const d = editDistance(lower, c.toLowerCase());
      if (d < bestDistance || (d === bestDistance && tieWins)) {
        best = c;
        bestDistance = d;
      }
    }
    if (best === undefined && name.length >= 3) {
      for (const c of known) if (c !== name && c.toLowerCase().startsWith(lower) && (best === undefined || c.length < best.length || (c.length === best.length && c < best))) best = c;
    }
    return best === undefined ? undefined : { name: best, caseOnly: false };
  }

  it("finds what comparing with every candidate finds", () => {
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    const alphabet = "abcdeiknorst_0123é";
    const word = (): string => Array.from({ length: 2 + rand(14) }, () => alphabet[rand(alphabet.length)]).join("");
    const known = Array.from({ length: 300 }, word).sort();
    const mutate = (w: string): string => {
      const i = rand(w.length + 1);
      switch (rand(4)) {
        case 0: return w.slice(0, i) + alphabet[rand(alphabet.length)] + w.slice(i);
        case 1: return w.slice(0, i) + w.slice(i + 1);
        case 2: return w.slice(0, i) + (w[i + 1] ?? "") + (w[i] ?? "") + w.slice(i + 2);
        default: return w.toUpperCase();
      }
    };
    let found = 0;
    for (let i = 0; i < 3000; i++) {
      let q = known[rand(known.length)] as string;
      for (let k = rand(4); k > 0; k--) q = mutate(q);
      if (rand(5) === 0) q = word();
      const expected = reference(q, known);
      expect(nearestName(q, known), q).toEqual(expected);
      if (expected !== undefined) found++;
    }
    expect(found).toBeGreaterThan(500);
  });
});

describe("nearestName, strict (a typed name's typo, as git and cargo judge one)", () => {
  it("refuses a replaced word, takes a mistyped one, and a case-only difference first", () => {
    expect(nearestName("c_key", ["a_key"], { strict: true })).toBeUndefined();
    expect(nearestName("c_key", ["a_key"])).toEqual({ name: "a_key", caseOnly: false }); // the checker's rule is unchanged
    expect(nearestName("API_KEY", ["APY_KEY"], { strict: true })).toEqual({ name: "APY_KEY", caseOnly: false });
    expect(nearestName("STRIPE_KEY", ["stripe_key"], { strict: true })).toEqual({ name: "stripe_key", caseOnly: true });
    expect(nearestName("key_b", ["key_c", "key_a"], { strict: true })).toBeUndefined();
    expect(nearestName("prod", ["development", "production"], { strict: true })).toEqual({ name: "production", caseOnly: false }); // an abbreviation still expands
  });

  it("picks what a plain strict search picks, on seeded random names", () => {
    const swap = (a: string, b: string): boolean => a.length === b.length && [...a].some((_, i) => i + 1 < a.length && a.slice(0, i) + a[i + 1] + a[i] + a.slice(i + 2) === b && a[i] !== a[i + 1]);
    const words = (s: string): string[] => s.split(/[_\-./]/);
    const rewrites = (a: string, b: string): boolean => {
      const [x, y] = [words(a), words(b)];
      return x.length === y.length && x.some((w, i) => w !== y[i] && editDistance(w, y[i]!) >= Math.min(w.length, y[i]!.length));
    };
    const plain = (name: string, known: readonly string[]): string | undefined => {
      const lower = name.toLowerCase();
      const ok = known.filter((c) => c !== name);
      const caseOnly = ok.find((c) => c.toLowerCase() === lower);
      if (caseOnly !== undefined) return caseOnly;
      const max = Math.max(1, Math.floor(name.length / 3));
      const fits = ok
        .map((c) => ({ c, d: editDistance(lower, c.toLowerCase()), s: swap(lower, c.toLowerCase()) }))
        .filter(({ c, d }) => d <= max && d < Math.min(lower.length, c.length) && !rewrites(lower, c.toLowerCase()))
        .sort((p, q) => p.d - q.d || Number(q.s) - Number(p.s) || (p.c < q.c ? -1 : p.c > q.c ? 1 : 0));
      if (fits[0] !== undefined) return fits[0].c;
      if (name.length < 3) return undefined;
      return ok.filter((c) => c.toLowerCase().startsWith(lower)).sort((p, q) => p.length - q.length || (p < q ? -1 : 1))[0];
    };
    let seed = 11;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const word = (): string => Array.from({ length: 2 + rand(12) }, () => "abc_XY"[rand(6)]).join("");
    for (let round = 0; round < 300; round++) {
      const known = Array.from({ length: 1 + rand(40) }, word);
      const base = known[rand(known.length)]!;
      const at = rand(base.length);
      const probe = round % 3 === 0 ? word() : round % 3 === 1 ? base.slice(0, at) + "abc"[rand(3)] + base.slice(at + 1) : base.slice(0, at) + (base[at + 1] ?? "") + (base[at] ?? "") + base.slice(at + 2);
      expect(nearestName(probe, known, { strict: true })?.name, `${probe} in ${known.join(",")}`).toBe(plain(probe, known));
    }
  });
});

describe("namesAtDistance", () => {
  it("finds exactly the names a full comparison finds at that distance, ignoring case, skipping the excepted ones", () => {
    const known = ["dhl_api_key", "dhl_app_key", "DHL_API_KEY", "dhl_apu_kex", "stripe_api_key", "dhl_ap_key", "dhl_api_keys", "x", ""];
    for (const name of ["dhl_ap_key", "DHL_AP_KEY", "stripe_ap_key", "zz"]) {
      for (const distance of [0, 1, 2, 3]) {
        const except = new Set([name, "dhl_api_key"]);
        const full = known.filter((c) => !except.has(c) && editDistance(name.toLowerCase(), c.toLowerCase()) === distance);
        expect(namesAtDistance(name, known, distance, except)).toEqual(full);
      }
    }
    expect(namesAtDistance("dhl_ap_key", known, 1, new Set(["dhl_api_key"]))).toEqual(["dhl_app_key", "DHL_API_KEY"]);
  });
});
