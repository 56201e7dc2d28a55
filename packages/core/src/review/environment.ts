/**
 * One environment's part of a keyless review ({@link reviewEnvironment}): its file on both sides,
 * the secrets added, changed, removed and re-encrypted, who gained and lost access (access.ts),
 * what the files and the history prove of the data key (key-history.ts, key-groups-review.ts),
 * plain text and comments. Pure.
 */
import { ciphertextIdentity, commentOfLine, environmentFileName, parseSecretsFile, type SecretsFile } from "@stellar-secrets/sops";
import { PROJECT_FILE } from "../project.js";
import type { Diagnostic } from "../diagnostics.js";
import type { EnvironmentFile } from "../secrets-dir.js";
import { accessOf, accessProblems } from "./access.js";
import { matchBaseline } from "./baseline.js";
import { diffComments } from "./comments.js";
import type { ReviewContext } from "./context.js";
import { rewrapsOf, sameDataKeyProof } from "./data-key.js";
import { diffVersions } from "./history.js";
import { keyGroupsProblems } from "./key-groups-review.js";
import { dataKeyHistoryProblems, exposedDuringOf, exposedValueProblems } from "./key-history.js";
import { fingerprint, type EnvironmentReview, type ReviewProblem, type SecretReview } from "./report.js";
import { rotationOf, side, type EnvironmentChange } from "./sides.js";
import { shortKey } from "./words.js";

/** What one environment adds to a review ({@link reviewEnvironment}). */
export interface EnvironmentOutcome {
  /** The environment's part of the report; undefined when nothing of it changed. */
  review: EnvironmentReview | undefined;
  /** Its findings, in the order the report lists them. */
  problems: ReviewProblem[];
  /** Secrets added, changed and removed (re-encrypted ones are none of these). */
  counts: { added: number; changed: number; removed: number };
  /** Every value it kept was re-encrypted. */
  reencryptedAll: boolean;
  /** The people whose access changed, each counted once, and the recipients it had only during the change. */
  accessChanges: number;
  /** The names of the secrets added, changed or removed. */
  changedNames: ReadonlySet<string>;
  /** The non-member problems of a base member removed from stellar.yaml by editing it ({@link ReviewProblem.cause}). */
  removedByHand: ReadonlyMap<ReviewProblem, { member: string; recipient: string }>;
  /** When the change gave someone a way in: the safe fix a checker hint saying `rotate-key` is replaced with. */
  introducedFix: string | undefined;
}

/** Compares `environment`'s file (and its members) between the review's base and head. */
export function reviewEnvironment(ctx: ReviewContext, environment: string): EnvironmentOutcome {
  const { base, head, inputs, baseConfig, headConfig, whoIs, w, reword } = ctx;
  const before = side(base, environment, baseConfig ?? headConfig);
  const after = side(head, environment, headConfig ?? baseConfig);
  const file = after.path ?? before.path ?? environmentFileName(environment);
  const existedBefore = before.model !== undefined;
  const existsAfter = after.model !== undefined;
  const textBefore = before.path === undefined ? undefined : base.readText(before.path);
  const textAfter = after.path === undefined ? undefined : head.readText(after.path);
  const fileChange: EnvironmentReview["fileChange"] = !existedBefore && existsAfter ? "added" : existedBefore && !existsAfter ? "removed" : textBefore !== textAfter ? "modified" : "unchanged";
  const change: EnvironmentChange = { environment, file, before, after, textBefore, textAfter, existedBefore, existsAfter, fileChange };

  const counts = { added: 0, changed: 0, removed: 0 };
  const changedNames = new Set<string>();
  const rotation = rotationOf(before, after);
  // an unreadable side has unknown names: listing them all as added or removed would mislead
  const comparable = !before.unreadable && !after.unreadable;
  const changes = (comparable ? diffVersions(before.version, after.version) : []).map((c) =>
    c.kind === "re-encrypted" || c.kind === "changed"
      ? { ...c, kind: rotation.reencryptedAll && before.version?.values.get(c.name) !== "" && after.version?.values.get(c.name) !== "" ? ("re-encrypted" as const) : ("changed" as const) }
      : c,
  );
  const dataKeyRotated = rotation.dataKeyRotated;
  const secrets: SecretReview[] = [];
  const reencrypted: string[] = [];
  // what the earlier versions stored under each name (ciphertext → the newest commit that had it), read only when needed
  let stored: Map<string, string> | undefined;
  const storedEarlier = (): Map<string, string> => {
    if (stored !== undefined) return stored;
    stored = new Map();
    const earlier = [...new Set([after.path, before.path])].flatMap((p) => (p === undefined ? [] : (inputs.earlierVersions?.get(p) ?? [])));
    for (const v of earlier) {
      if (v.commit === base.commit) continue;
      let parsed: SecretsFile;
      try {
        parsed = parseSecretsFile(v.text);
      } catch {
        continue;
      }
      for (const e of parsed.entries) {
        if (!e.raw.startsWith("ENC[")) continue;
        const key = `${e.name}\u0000${ciphertextIdentity(e.raw)}`;
        if (!stored.has(key)) stored.set(key, v.commit);
      }
    }
    return stored;
  };
  for (const c of changes) {
    if (c.kind === "re-encrypted") {
      reencrypted.push(c.name);
      continue;
    }
    const s: SecretReview = { name: c.name, change: c.kind };
    const was = before.version?.values.get(c.name);
    const now = after.version?.values.get(c.name);
    if (was !== undefined && before.encryptedNames.has(c.name)) s.before = fingerprint(was);
    if (now !== undefined && after.encryptedNames.has(c.name)) s.after = fingerprint(now);
    if (s.after !== undefined && now !== undefined && inputs.earlierVersions !== undefined) {
      const commit = storedEarlier().get(`${c.name}\u0000${now}`);
      if (commit !== undefined) s.restoredFrom = commit;
    }
    secrets.push(s);
    counts[c.kind]++;
    changedNames.add(c.name);
  }

  const access = accessOf(ctx, change);
  const { members, recipients } = access;
  // stanzas wrapped anew while the data key stayed the same: their labels account for nobody
  const sameKey =
    before.sops && after.sops && before.version !== undefined && after.version !== undefined
      ? sameDataKeyProof(
          { values: before.version.values, stanzas: before.stanzaList, mac: before.mac },
          { values: after.version.values, stanzas: after.stanzaList, mac: after.mac },
          whoIs,
        )
      : undefined;
  const rewraps = sameKey === undefined ? [] : rewrapsOf(before.stanzaList, after.stanzaList);
  // who this change gave a way in: a fix must never wrap a data key for them (rotate-key on this change would)
  const introduced = [
    ...members.gained.map((m) => m.name),
    ...members.keyChanged.map((m) => m.name),
    ...recipients.gained.map((r) => r.member ?? shortKey(r.recipient)),
    ...rewraps.map((r) => `the stanza labelled ${whoIs(r.recipient) ?? shortKey(r.recipient)}`),
  ].filter((x, i, all) => all.indexOf(x) === i);
  const revert = `revert the change to ${w.path(file)} (\`git checkout ${base.commit ?? "BASE"} -- ${w.shellPath(file)}\`)`;
  const byMember =
    `have an existing member of ${environment} run \`${w.command(`stellar-secrets rotate-key --env ${environment}`)}\` on a branch without ` +
    `what this change added (${introduced.join(", ")}): running it on this change would wrap the new data key for them too`;
  const fix = { introduced, revert, byMember };
  // (the data key's history first: a file under another environment's data key words a lost stanza by what it shows)
  const history = dataKeyHistoryProblems(ctx, change, fix);
  const found = accessProblems(ctx, change, access, { dataKeyRotated, uncertain: rotation.uncertain, sameKey, rewraps, sharedWith: history.sharedWith }, fix);
  const envProblems: ReviewProblem[] = [...found.problems, ...keyGroupsProblems(ctx, change, sameKey, fix)];
  // plaintext: the file's own encryption problems (at their default severity, whatever stellar.yaml says)
  const plaintextOf = (model: EnvironmentFile | undefined): Diagnostic[] => (model?.diagnostics ?? []).filter((d) => d.rule === "unencrypted-secrets-file");
  const plaintextAfter = plaintextOf(after.model);
  const plaintextBefore = plaintextAfter.length === 0 ? [] : plaintextOf(before.model);
  const hadPlaintext = matchBaseline({ diagnostics: plaintextBefore, readText: () => textBefore }, { diagnostics: plaintextAfter, readText: () => textAfter });
  for (const [i, d] of plaintextAfter.entries()) {
    if (hadPlaintext[i] === true) continue;
    envProblems.push({ kind: "plaintext", environment, file: d.file, line: d.line, message: reword(d.message, d.file) });
  }
  envProblems.push(...history.problems);
  const dataKeyRestoredFrom = history.restoredFrom;
  const exposedDuring = exposedDuringOf(ctx, change, access);
  // values this change set that a key no member has at the head could read in a commit of the change
  // (not for a commit whose data key the head still uses: that is said above, and covers every value)
  const keyKept = new Set(history.problems.map((p) => p.commit).filter((c): c is string => c !== undefined));
  envProblems.push(...exposedValueProblems(ctx, environment, file, exposedDuring.filter((x) => !keyKept.has(x.commit)), secrets));
  const clearComments = fileChange === "unchanged" || typeof textAfter !== "string" ? [] : newClearComments(typeof textBefore === "string" ? textBefore : "", textAfter);
  const comments =
    fileChange === "unchanged" || !after.sops
      ? []
      : diffComments(before.comments, after.comments, {
          reencrypted: rotation.reencryptedAll,
          removedSecrets: new Set(secrets.filter((x) => x.change === "removed").map((x) => x.name)),
          ...(typeof textBefore === "string" ? { textBefore } : {}),
          textAfter: textAfter as string,
        });
  const changed =
    fileChange !== "unchanged" || envProblems.length > 0 || exposedDuring.length > 0 || secrets.length > 0 || reencrypted.length > 0 || members.gained.length + members.lost.length + members.keyChanged.length + (members.requested?.length ?? 0) > 0;
  const review: EnvironmentReview | undefined = changed
    ? {
        environment,
        file,
        fileChange,
        secrets,
        dataKeyRotated,
        rotationUncertain: rotation.uncertain,
        reencrypted,
        members,
        recipients,
        encrypted: existsAfter ? after.sops && after.model?.diagnostics.every((d) => d.rule !== "unencrypted-secrets-file") : undefined,
        problems: envProblems,
        ...(clearComments.length === 0 ? {} : { clearComments }),
        ...(comments.length === 0 ? {} : { comments }),
        ...(exposedDuring.length === 0 ? {} : { exposedDuring }),
        ...(dataKeyRestoredFrom === undefined ? {} : { dataKeyRestoredFrom }),
      }
    : undefined;
  return {
    review,
    problems: envProblems,
    counts,
    reencryptedAll: rotation.reencryptedAll,
    // (the recipients it had only during the change are neither side's: not counted yet)
    accessChanges: access.accessChanges + exposedDuring.length,
    changedNames,
    removedByHand: found.removedByHand,
    introducedFix: introduced.length === 0 ? undefined : `revert what this change added to ${environment} (in ${w.path(PROJECT_FILE)} or ${w.path(file)}), or ${byMember}`,
  };
}

/**
 * The 1-based lines of `after`'s clear-text comments (`#` not followed by sops' `ENC[`): whole
 * lines, and comments after a value or a metadata field on its line, anywhere in the file (the
 * sops metadata too), that `before` does not have (compared by their text, as many times as it has them).
 */
function newClearComments(before: string, after: string): number[] {
  // a whole-line comment, or one after a value or a metadata field on its line (not sops' #ENC[...])
  const clear = (line: string): string | undefined => {
    const c = commentOfLine(line);
    return c === undefined || c.startsWith("ENC[") ? undefined : `#${c.trimEnd()}`;
  };
  const had = new Map<string, number>();
  for (const line of before.split(/\r?\n/)) {
    const c = clear(line);
    if (c !== undefined) had.set(c, (had.get(c) ?? 0) + 1);
  }
  const out: number[] = [];
  for (const [i, line] of after.split(/\r?\n/).entries()) {
    const c = clear(line);
    if (c === undefined) continue;
    const n = had.get(c) ?? 0;
    if (n > 0) had.set(c, n - 1);
    else out.push(i + 1);
  }
  return out;
}
