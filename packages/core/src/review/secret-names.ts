/**
 * `look-alike-name` for secret names (pure): a name the change adds to an environment file that is
 * not another secret's name but reads as it (`0penai_api_key` or `OPENAl_API_KEY` beside
 * `openai_api_key`; a Cyrillic `а` in `stripe_аpi_key`). A config whose reference is pointed at it
 * reads, in the diff and in the review's words, as the credential the team knows, while the value
 * is the one the change's author chose (and a deploy sends it wherever the connector goes).
 */
import { asciiLookAlike, quoteName } from "../names.js";
import { nameSkeleton } from "./access.js";
import type { ReviewContext } from "./context.js";
import { diffReferences } from "./references.js";
import type { ReviewProblem } from "./report.js";

/**
 * The ways a secret name reads (pure): Cyrillic, Greek, full-width and accented letters read as
 * the ASCII they look like and spaces dropped, then {@link nameSkeleton} (case folded,
 * `I`/`l`/`1` and `O`/`0` made one, `rn` as `m`, `vv` as `w`, characters that draw nothing
 * dropped) of the name as written, of
 * the name in lower case (`OPENAI_API_KEY` is `openai_api_key`), of the name in lower case with
 * its `1` read as `i` (`str1pe_api_key` as `stripe_api_key`), and of an upper-case name with
 * its `l`, `1` and `0` read as `I`, `I` and `O` (`OPENAl_API_KEY` reads as `OPENAI_API_KEY`).
 * Two names read alike when they share a reading.
 */
export function secretNameReadings(name: string): Set<string> {
  // spaces (a trailing one, a no-break space) draw as nothing between or after letters: dropped
  const s = asciiLookAlike(name).normalize("NFKC").replace(/\s+/g, "");
  // a 1 between lower-case letters reads as an i too (str1pe_api_key as stripe_api_key)
  const readings = new Set([nameSkeleton(s), nameSkeleton(s.toLowerCase()), nameSkeleton(s.toLowerCase().replace(/1/g, "i"))]);
  // an upper-case name (no lower-case letter but l): its l and 1 read as I, its 0 as O
  if (/[A-Z]/.test(s) && !/[a-km-z]/.test(s)) readings.add(nameSkeleton(s.replace(/[l1|]/g, "I").replace(/0/g, "O").toLowerCase()));
  return readings;
}

/**
 * One `look-alike-name` problem per secret name an environment file gains in this change whose
 * name reads as another secret's (of any environment, in the base or the head), at the file's
 * line of the new name, naming both, and the config files that reference the new name at the head;
 * and one per reference the change moves from a secret to another whose name reads as it when both
 * names were held already (at the config file's line).
 */
export function lookAlikeSecretProblems(ctx: ReviewContext): ReviewProblem[] {
  const { base, head, w } = ctx;
  const baseFiles = [...(base.index?.environmentFiles.values() ?? [])];
  const headFiles = [...(head.index?.environmentFiles.values() ?? [])];
  // every name either side holds, with where (the first place each is seen: the base's, then the
  // head's), and the names of each reading in that order; made once, and only when a name is new
  let known: Map<string, { readings: Set<string>; where: string; order: number }> | undefined;
  const byReading = new Map<string, string[]>();
  const knownNames = (): Map<string, { readings: Set<string>; where: string; order: number }> => {
    if (known !== undefined) return known;
    known = new Map();
    for (const [files, side] of [[baseFiles, "the base"], [headFiles, "this change"]] as const) {
      for (const f of files) {
        if (!f.readable) continue;
        for (const e of f.entries) {
          if (known.has(e.name)) continue;
          const readings = secretNameReadings(e.name);
          known.set(e.name, { readings, where: side === "the base" ? `a secret of ${f.environment}` : `a secret of ${f.environment} in this change`, order: known.size });
          for (const r of readings) byReading.set(r, [...(byReading.get(r) ?? []), e.name]);
        }
      }
    }
    return known;
  };
  const problems: ReviewProblem[] = [];
  const references = head.index?.allReferences() ?? [];
  for (const f of headFiles) {
    if (!f.readable) continue;
    const before = baseFiles.find((b) => b.environment === f.environment);
    // an unreadable base version's names are unknown: none of its names is called new
    if (before !== undefined && !before.readable) continue;
    const had = new Set((before?.entries ?? []).map((e) => e.name));
    for (const e of f.entries) {
      if (had.has(e.name)) continue;
      const names = knownNames();
      const alikeNames = new Set<string>();
      for (const r of secretNameReadings(e.name)) for (const n of byReading.get(r) ?? []) if (n !== e.name) alikeNames.add(n);
      const alike = [...alikeNames].map((n) => [n, names.get(n)!] as const).sort((a, b) => a[1].order - b[1].order);
      if (alike.length === 0) continue;
      const [otherName, other] = alike[0]!;
      const refs = references.filter((r) => r.secret === e.name);
      const used =
        refs.length === 0
          ? ""
          : `; ${refs
              .slice(0, 3)
              .map((r) => `${w.path(r.file)}:${r.line}`)
              .join(", ")}${refs.length > 3 ? ` and ${refs.length - 3} more` : ""} ${refs.length === 1 ? "references" : "reference"} it, so what reads as ${quoteName(otherName)} there is this value`;
      problems.push({
        kind: "look-alike-name",
        environment: f.environment,
        file: f.path,
        line: f.lines.positionAt(e.range.start).line,
        message:
          `${w.path(f.path)} adds secret ${quoteName(e.name)}, whose name reads as ${quoteName(otherName)}'s (${other.where})` +
          `${alike.length > 1 ? `, and as ${alike.slice(1).map(([n]) => quoteName(n)).join(", ")}` : ""}${used}: ` +
          `the review's words and the diff read as ${quoteName(otherName)} while its value is the one this change set; ` +
          `give it a name that cannot be mistaken for ${quoteName(otherName)}'s, or revert the change to ${w.path(f.path)} and point each reference back at ${quoteName(otherName)}`,
      });
    }
  }
  // a reference moved from one secret to another whose name reads as it, both names already held
  // (no new name above to say it): the config now reads as before while it uses the other secret
  const baseNames = new Set(baseFiles.flatMap((b) => b.entries.map((e) => e.name)));
  const newNames = new Set(headFiles.flatMap((f) => f.entries.map((e) => e.name)).filter((n) => !baseNames.has(n)));
  for (const r of diffReferences(base.index?.allReferences() ?? [], references, ctx.renamed)) {
    if (r.change !== "added" || r.replaces === undefined || r.replaces === r.secret || newNames.has(r.secret)) continue;
    const was = secretNameReadings(r.replaces);
    if (![...secretNameReadings(r.secret)].some((x) => was.has(x))) continue;
    const message =
      `${w.path(r.file)}:${r.line} now references secret ${quoteName(r.secret)} where it referenced ${quoteName(r.replaces)}, a name that reads as it: ` +
      `the config reads as before while it uses another secret's value; point it back at ${quoteName(r.replaces)}, or give the secret a name that cannot be mistaken for it`;
    problems.push({ kind: "look-alike-name", file: r.file, line: r.line, message });
  }
  return problems;
}
