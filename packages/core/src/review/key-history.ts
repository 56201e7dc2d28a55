/**
 * What the history of a change shows about an environment's data key, without a key: a data key
 * the base's history had retired brought back, the head's data key wrapped in a commit of the
 * change for a key the head has no stanza for, another environment's data key, and recipients the
 * file had only in the middle of the change. Ciphertext is bound to its data key, so a shared
 * value, wrapped key or MAC proves a shared data key (retired-key.ts). Pure.
 */
import { environmentOfFileName, parseSecretsFile, type SecretsFile } from "@stellar-secrets/sops";
import type { ReviewContext } from "./context.js";
import type { Access } from "./access.js";
import type { EnvironmentReview, ReviewProblem, SecretReview } from "./report.js";
import { keyLeftBehind, retiredDataKey, sharedCiphertext, type PathVersion } from "./retired-key.js";
import type { EnvironmentChange, EnvironmentFix } from "./sides.js";
import type { ReviewState } from "./state.js";

/**
 * The `unrotated-removal` and `non-member-recipient` findings that the history proves about
 * `change`'s data key (retired and brought back, left behind in a commit of the change, shared with
 * another environment), with the commit whose data key was brought back (`restoredFrom`).
 */
export function dataKeyHistoryProblems(
  ctx: ReviewContext,
  change: EnvironmentChange,
  fix: EnvironmentFix,
): { problems: ReviewProblem[]; restoredFrom: string | undefined; sharedWith: SharedDataKey | undefined } {
  const { base, head, inputs, whoIs, w, envRange, envEarlierPush, parsedOthers } = ctx;
  const { environment, file, before, after, textBefore, textAfter, existedBefore, existsAfter, fileChange } = change;
  const { introduced, revert, byMember } = fix;
  const envProblems: ReviewProblem[] = [];
  // the versions of the file in the base's history (newest first, as far as the review looked back)
  const earlier = [...new Set([after.path, before.path])].flatMap((p) => (p === undefined ? [] : (inputs.earlierVersions?.get(p) ?? [])));
  // a data key the history had retired, brought back (a rotation undone: an old version's file with a stanza cut out)
  let dataKeyRestoredFrom: string | undefined;
  if (existsAfter && textAfter !== undefined && textAfter !== null && fileChange !== "unchanged" && inputs.earlierVersions !== undefined) {
    const retired = retiredDataKey(textAfter, textBefore, earlier);
    if (retired !== undefined) {
      dataKeyRestoredFrom = retired.commit;
      const named = retired.formerRecipients.map((r) => (whoIs(r) === undefined ? r : `${whoIs(r)} (${r})`));
      envProblems.push({
        kind: "unrotated-removal",
        environment,
        file,
        commit: retired.commit,
        message:
          `${w.path(file)} uses the data key of its version at commit ${retired.commit.slice(0, 10)} (${retired.proof}), a data key the base no longer uses: ` +
          `bringing it back undoes a rotation, so whoever could decrypt that version ${named.length === 0 ? "" : `(it was also wrapped for ${named.join(", ")}) `}` +
          `can decrypt every value of ${environment} now and every value set later; ${revert}, and never restore an environment file from an older commit ` +
          `(make changes with \`${w.command("stellar-secrets set")}\`, \`members\` and \`rotate-key\`)`,
      });
    }
  }

  // the head's data key, wrapped in a commit of the change (or in the base's file of an environment
  // the head renamed) for a key the head has no stanza for: the end state hides that it was given out
  if (existsAfter && typeof textAfter === "string") {
    const stillThere = new Set([...(head.index?.environmentFiles.values() ?? [])].map((f) => f.environment));
    // an environment renamed by the change: its file is new under the new name, the old one's is gone
    const vanished: PathVersion[] = existedBefore
      ? []
      : [...(base.index?.environmentFiles.values() ?? [])]
            .filter((f) => f.environment !== environment && !stillThere.has(f.environment))
            .flatMap((f) => {
              const text = base.readText(f.path);
              return typeof text === "string" ? [{ commit: base.commit ?? "", path: f.path, text }] : [];
            });
    // (and in a commit of an earlier push of the change, --previous-head: pushed, then rewritten away).
    // A stanza that a version in the base's history already had is no news of this change: whoever it
    // was wrapped for had the data key from the base's own history (e.g. one member added on two
    // branches long before: the change's commits carry the wrap a merge into the base did not keep).
    const left = keyLeftBehind(textAfter, [textBefore, ...earlier.map((v) => v.text)], [...vanished, ...envRange, ...envEarlierPush]);
    if (left !== undefined) {
      const named = left.labels.map((r) => (whoIs(r) === undefined ? r : `${whoIs(r)} (${r})`));
      const inBase = vanished.includes(left.version);
      const where = inBase
        ? `the base's file ${w.path(left.version.path)} (of an environment the head no longer has)`
        : `its version at commit ${left.version.commit.slice(0, 10)} of ${envEarlierPush.includes(left.version) ? "an earlier push of this change (given with --previous-head; the range no longer holds it: the branch was rewritten, but the commit was pushed)" : "this change"}${left.version.path === file ? "" : ` (${w.path(left.version.path)})`}${left.versions > 1 ? ` and ${left.versions - 1} more` : ""}`;
      const fix =
        introduced.length === 0
          ? `have a member of ${environment} run \`${w.command(`stellar-secrets rotate-key --env ${environment}`)}\``
          : byMember;
      envProblems.push({
        kind: "unrotated-removal",
        environment,
        file,
        ...(left.version.commit === "" ? {} : { commit: left.version.commit }),
        message:
          `${w.path(file)} uses the data key that ${where} also wrapped for ${named.join(", ")} (${left.proof}), and the head has no stanza for ${named.length === 1 ? "it" : "them"}: ` +
          `whoever ${named.length === 1 ? "that stanza was" : "those stanzas were"} wrapped for unwrapped the data key, and can decrypt every value of ${environment} now and every value set later ` +
          `(taking a stanza out, or reverting the commit that added it, does not take a data key back; a label proves nothing); ${fix}, then change at their providers the values they could read`,
      });
    }
  }

  // the data key of another environment: a file copied (or written) from another environment's
  // ciphertext opens with that environment's data key, so its members read this one now and every
  // value set here later (each environment has its own data key; a set keeps it)
  let sharedWith: SharedDataKey | undefined;
  if (existsAfter && fileChange !== "unchanged" && typeof textAfter === "string") {
    const shared = sharedWithOtherEnvironment(environment, textAfter, textBefore, base, head, parsedOthers);
    sharedWith = shared;
    if (shared !== undefined) {
      const who = shared.members.length === 0 ? "" : ` (its members: ${shared.members.join(", ")})`;
      envProblems.push({
        kind: "non-member-recipient",
        environment,
        file,
        message:
          `${w.path(file)} shares its data key with ${shared.environment}'s file ${w.path(shared.file)} in the ${shared.side} (${shared.proof}): whoever can decrypt ${shared.environment}${who} ` +
          `can decrypt every value of ${environment} now and every value set later, and a rotation of ${shared.environment} would not change that; ${revert}; ` +
          `an environment file is never copied from another environment (set its values with \`${w.command("stellar-secrets set")}\`, or have a member of ${environment} run \`${w.command(`stellar-secrets rotate-key --env ${environment}`)}\` on a branch without this change)`,
      });
    }
  }

  return { problems: envProblems, restoredFrom: dataKeyRestoredFrom, sharedWith };
}

/** The recipients `change`'s file had only in a commit in the middle of the change: access given and taken back. */
export function exposedDuringOf(ctx: ReviewContext, change: EnvironmentChange, access: Access): NonNullable<EnvironmentReview["exposedDuring"]> {
  const { whoIs, whoWasIn, whoWasEarlier, envRange, envEarlierPush } = ctx;
  const { environment, before, after, existedBefore, existsAfter } = change;
  const { recipientsBefore, recipientsAfter } = access;
  // recipients that the file had only in the middle of the change: access given and taken back
  const exposedDuring: NonNullable<EnvironmentReview["exposedDuring"]> = [];
  if (existsAfter || existedBefore) {
    // its path at either side, and its name in a secrets folder only the range's commits used
    const own = new Set([after.path, before.path, ...[...envRange, ...envEarlierPush].map((v) => v.path).filter((p) => environmentOfFileName(p.slice(p.lastIndexOf("/") + 1)) === environment)].filter((p): p is string => p !== undefined));
    const known = new Set([...recipientsBefore, ...recipientsAfter, ...before.stanzaList.map((s) => s.recipient), ...after.stanzaList.map((s) => s.recipient)]);
    // (then an earlier push's commits that the range no longer holds: a branch rebased and force-pushed)
    const earlier = new Set(envEarlierPush);
    for (const v of [...envRange, ...envEarlierPush]) {
      if (!own.has(v.path)) continue;
      let parsed: SecretsFile;
      try {
        parsed = parseSecretsFile(v.text);
      } catch {
        continue;
      }
      for (const s of parsed.metadata.age) {
        const recipient = s.recipient.trim();
        if (known.has(recipient) || exposedDuring.some((x) => x.recipient === recipient)) continue;
        const member = whoIs(recipient) ?? whoWasIn(recipient, v.commit) ?? whoWasEarlier(recipient);
        exposedDuring.push({ recipient, ...(member === undefined ? {} : { member }), commit: v.commit, secrets: parsed.entries.filter((e) => e.raw !== "").map((e) => e.name).sort(), ...(earlier.has(v) ? { earlierPush: true as const } : {}) });
      }
    }
  }
  return exposedDuring;
}

/** Another environment's file whose data key an environment's head file uses ({@link sharedWithOtherEnvironment}). */
export interface SharedDataKey {
  environment: string;
  file: string;
  side: "head" | "base";
  /** What shows it, in words (a value's ciphertext or a wrapped key byte for byte the same). */
  proof: string;
  /** That environment's members (names). */
  members: string[];
}

/**
 * Another environment's file (in the head, else in the base) whose data key the head's `textAfter`
 * of `environment` provably uses — it shares a value ciphertext under the same name or a wrapped
 * data key with it ({@link sharedCiphertext}; not the MAC alone, which a hand edit can paste: that
 * is `stale-mac`) — while the base's version of
 * `environment` shared none with that file. Undefined when there is none. Keyless: a file written
 * afresh under another environment's data key, with nothing copied, is not seen.
 */
function sharedWithOtherEnvironment(
  environment: string,
  textAfter: string,
  textBefore: string | null | undefined,
  base: ReviewState,
  head: ReviewState,
  parsed: Map<string, SecretsFile | undefined>,
): SharedDataKey | undefined {
  const parse = (text: string | null | undefined): SecretsFile | undefined => {
    if (typeof text !== "string") return undefined;
    try {
      return parseSecretsFile(text);
    } catch {
      return undefined;
    }
  };
  // a value ciphertext or a wrapped key, not the MAC: a MAC pasted from another file proves no key
  // (that is stale-mac), while a copied value or wrapping opens only under that file's data key
  const withoutMac = (f: SecretsFile | undefined): SecretsFile | undefined => (f === undefined ? undefined : { ...f, metadata: { ...f.metadata, mac: "" } });
  const after = withoutMac(parse(textAfter));
  if (after === undefined) return undefined;
  const before = withoutMac(parse(textBefore));
  const stillThere = new Set([...(head.index?.environmentFiles.values() ?? [])].map((f) => f.environment));
  for (const [sideName, state] of [["head", head], ["base", base]] as const) {
    for (const other of state.index?.environmentFiles.values() ?? []) {
      // an environment renamed or removed by the change leaves no one reading under its old key
      if (other.environment === environment || !stillThere.has(other.environment)) continue;
      const key = `${sideName}\0${other.path}`;
      if (!parsed.has(key)) parsed.set(key, parse(state.readText(other.path)));
      const file = parsed.get(key);
      if (file === undefined) continue;
      const proof = sharedCiphertext(after, file);
      if (proof === undefined || (before !== undefined && sharedCiphertext(before, file) !== undefined)) continue;
      const members = (state.index?.project.environments.find((e) => e.name === other.environment)?.members ?? []).map((m) => m.name);
      return { environment: other.environment, file: other.path, side: sideName, proof, members };
    }
  }
  return undefined;
}

/**
 * `unrotated-removal` for a recipient the file had only in a commit of the change ({@link exposedDuringOf})
 * whose key is no member of `environment` at the head, when that commit's version held names this
 * change adds or changes (`secrets`): the head holds them under another data key, so keyless it
 * cannot be told whether their values are still the ones that version held, and whoever the stanza
 * was for reads that version from the history the change merges (a stale branch, cut before a
 * member was removed on the base, that set a value and then merged the base: the removal's rotation
 * on the base did not cover it). `review --verify` drops it when each value differs from that
 * version's, or says it is proven. One per recipient; names the base holds unchanged are not its
 * subject (the access itself is said in the environment's review).
 */
export function exposedValueProblems(ctx: ReviewContext, environment: string, file: string, exposed: NonNullable<EnvironmentReview["exposedDuring"]>, secrets: readonly SecretReview[]): ReviewProblem[] {
  const { headConfig, w } = ctx;
  const members = new Set((headConfig?.environments.find((e) => e.name === environment)?.members ?? []).map((m) => m.recipient));
  const setHere = new Set(secrets.filter((s) => s.change !== "removed").map((s) => s.name));
  const out: ReviewProblem[] = [];
  for (const x of exposed) {
    if ([...members].some((m) => m === x.recipient)) continue;
    const names = x.secrets.filter((n) => setHere.has(n));
    if (names.length === 0) continue;
    const who = x.member === undefined ? x.recipient : `${x.member} (${x.recipient})`;
    const them = names.length === 1 ? "it" : "them";
    out.push({
      kind: "unrotated-removal",
      environment,
      file,
      commit: x.commit,
      message:
        `${who} is no member of ${environment} at the head, but the version of ${w.path(file)} that commit ${x.commit.slice(0, 10)} ${x.earlierPush === true ? "of an earlier push of this change (given with --previous-head; the range no longer holds it: the branch was rewritten)" : "of this change"} wrote was wrapped for that key too, ` +
        `and held ${names.join(", ")}, which this change ${names.length === 1 ? "adds or changes" : "add or change"}: the head holds ${them} under another data key, so without a key it cannot be told ` +
        `whether ${names.length === 1 ? "its value is" : "their values are"} still the one${names.length === 1 ? "" : "s"} that version held; if so, whoever that stanza was for can read ${them} ` +
        `from commit ${x.commit.slice(0, 10)}, ${x.earlierPush === true ? "which was pushed, and a force-push does not take it back (clones, forks and the pull request's history keep it)" : "which merging this change keeps in the history"} (a rotation does not take that back; a branch cut before a member was removed that set a value ` +
        `and then merged the base${x.earlierPush === true ? ", or was rebased onto it," : ""} is such a change); change ${them} at ${names.length === 1 ? "its provider" : "their providers"} and set ${them} anew ` +
        `(\`${w.command(`stellar-secrets set ${names[0]} --env ${environment}`)}\`${names.length === 1 ? "" : ", …"}), then have a member confirm with \`${w.command("stellar-secrets review --verify")}\`, ` +
        `which compares the values with that version's`,
    });
  }
  return out;
}
