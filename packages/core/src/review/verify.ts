/**
 * Keyed verification of a review (`review --verify`): with the data keys of both versions of an
 * environment file (decrypted, and their MACs verified, by the caller), what happened to each
 * name exactly — changed, unchanged, or re-encrypted only (same plaintext, new ciphertext) — and
 * whether the data key really rotated. Pure: decrypted versions in, data out. The plaintexts are
 * only compared, never copied into the result.
 */
import { identityToRecipient, inspectAgeEnvelope, isSameKey, timingSafeEqual, unwrapAgePayload } from "@stellar-secrets/sops"; // timingSafeEqual: node:crypto's, loaded on first use
import { heldShareRemovalMessage, lostName } from "./access.js";
import { rewrapsOf, type GroupedStanza, type Rewrap } from "./data-key.js";
import { secretCounts, type EnvironmentReview, type EnvironmentVerification, type ReviewProblem, type ReviewReport, type SecretReview, type VerifiedStatus } from "./report.js";
import { findingWording, type FindingWording } from "./wording.js";
import { shortKey } from "./words.js";

/** One version of an environment file, decrypted and verified with a key (keep in memory only). */
export interface DecryptedVersion {
  /** name → plaintext. */
  values: ReadonlyMap<string, string>;
  /** name → stored value (the ENC string, or "" for an empty value). */
  stored: ReadonlyMap<string, string>;
  /** The 32-byte data key. */
  dataKey: Uint8Array;
  /** The age stanzas, in file order: the top-level ones and a key-groups file's, each with its group (see `stanzasOf`). */
  stanzas: readonly GroupedStanza[];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Compares two decrypted versions (`before` undefined: the file is new) of one environment:
 * every name's status, whether the data key rotated, and — when it did not — the stanzas wrapped
 * anew. A value whose stored string is the same is unchanged; whose plaintext is the same but
 * stored string differs is re-encrypted only; otherwise changed.
 */
export function compareDecrypted(environment: string, file: string, before: DecryptedVersion | undefined, after: DecryptedVersion): EnvironmentVerification {
  const names = [...new Set([...(before?.values.keys() ?? []), ...after.values.keys()])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const secrets = names.map((name): { name: string; status: VerifiedStatus } => {
    const was = before?.values.get(name);
    const now = after.values.get(name);
    if (was === undefined) return { name, status: "added" };
    if (now === undefined) return { name, status: "removed" };
    if (was !== now) return { name, status: "changed" };
    return { name, status: before?.stored.get(name) === after.stored.get(name) ? "unchanged" : "re-encrypted" };
  });
  const dataKeyRotated = before !== undefined && !sameBytes(before.dataKey, after.dataKey);
  const rewraps = before === undefined || dataKeyRotated ? [] : rewrapsOf(before.stanzas, after.stanzas);
  return { environment, file, verified: true, dataKeyRotated, secrets, rewraps };
}

/**
 * `rewraps` with {@link Rewrap.openedWith} set where one of the reviewer's `identities`, tried on
 * the stanza alone, opens it: which key opened which stanza, so that a stanza wrapped anew for the
 * reviewer's own key is told from one that may be someone else's. Keys stay in memory; a stanza
 * none opens is returned as it is.
 */
export async function rewrapsOpenedWith(rewraps: readonly Rewrap[], identities: readonly string[]): Promise<Rewrap[]> {
  const out: Rewrap[] = [];
  for (const rw of rewraps) {
    let openedWith: string | undefined;
    for (const id of identities) {
      try {
        if ((await unwrapAgePayload([{ recipient: rw.recipient, enc: rw.enc }], [id])) === undefined) continue;
        openedWith = await identityToRecipient(id);
        break;
      } catch {
        // an identity that cannot be read as a key opens nothing here
      }
    }
    out.push(openedWith === undefined ? rw : { ...rw, openedWith });
  }
  return out;
}

/**
 * What the key proved of a stanza wrapped anew: `own` when the reviewer's key that opened it is its
 * label's and its envelope holds no other recipient stanza (wrapped for its label's key alone: it
 * gives no one anything the label's owner did not hold); else what is known (`proof`) and who may
 * have gained (`who`: undefined when the key shows that no one did, a stanza wrapped for the
 * reviewer alone under another label).
 */
function rewrapProof(rw: Rewrap): { own: true } | { own: false; proof: string; who: string | undefined } {
  const header = inspectAgeEnvelope(rw.enc);
  const count = header.ok ? header.stanzas.length : undefined;
  const more = count === undefined || count <= 1 ? undefined : count - 1;
  const holds = more === undefined ? "" : `, and its envelope holds ${count} recipient stanzas`;
  const others = more === undefined ? undefined : `whoever the other ${more === 1 ? "one is" : `${more} are`} wrapped for`;
  if (rw.openedWith === undefined) return { own: false, proof: "none of your keys opens it, and the label proves nothing", who: "someone else" };
  if (isSameKey(rw.openedWith, rw.recipient)) {
    return more === undefined && count === 1 ? { own: true } : { own: false, proof: `it opens with your key, which is its label's${holds}`, who: others ?? "someone else" };
  }
  return { own: false, proof: `it opens with your key ${shortKey(rw.openedWith)}, not with the key it is labelled with: it was wrapped for you under another label${holds}`, who: others };
}

/**
 * An environment's keyless review brought in line with what its verification found, so that no
 * output says something the key disproved: `dataKeyRotated` from the data keys (never uncertain),
 * the re-encrypted names whose value changed moved to `secrets` as changed (the rest stay
 * re-encrypted: the same value), `verified` set. The problems are left to {@link withVerification}.
 */
function reconcile(e: EnvironmentReview, v: Extract<EnvironmentVerification, { verified: true }>): EnvironmentReview {
  const status = new Map(v.secrets.map((s) => [s.name, s.status]));
  const changed = e.reencrypted.filter((n) => status.get(n) === "changed");
  const same = e.reencrypted.filter((n) => status.get(n) !== "changed");
  const secrets: SecretReview[] =
    changed.length === 0 ? e.secrets : [...e.secrets, ...changed.map((name): SecretReview => ({ name, change: "changed" }))].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ...e, secrets, reencrypted: same, dataKeyRotated: v.dataKeyRotated, rotationUncertain: false, verified: true };
}

/**
 * The report with its keyed verification: `verification` set, each verified environment's keyless
 * facts replaced by what the key shows (see {@link reconcile}; the summary's counts follow), an
 * `unrotated-removal` that only a missing key left uncertain dropped when the data key did rotate
 * and stated as proven (or added) when it did not, and problems added for a head
 * that failed its MAC or a value's tag (`tampered`), and for stanzas wrapped anew under the same
 * data key that the keyless review could not prove (kind `rewrapped-without-rotation`).
 * `clean` and `summary.problems` follow. `wording`: how the added messages name paths and commands
 * (a nested project's, for the outer root; default as they are).
 */
export function withVerification(report: ReviewReport, verification: readonly EnvironmentVerification[], wording: FindingWording = findingWording(undefined)): ReviewReport {
  const w = wording;
  const added: ReviewProblem[] = [];
  const dropped = new Set<ReviewProblem>();
  const summary = { ...report.summary };
  const reconciled = new Map<string, EnvironmentReview>();
  for (const v of verification) {
    if (!v.verified) continue;
    const e = report.environments.find((x) => x.environment === v.environment);
    if (e === undefined) continue;
    const next = reconcile(e, v);
    reconciled.set(e.environment, next);
    summary.changed += next.secrets.length - e.secrets.length;
    if (e.reencrypted.length > 0 && next.reencrypted.length === 0) summary.reencrypted--;
    // a retired data key brought back (the problem names the commit that had it) is a rotation the key confirms, not one it disproves
    const removals = e.problems.filter((p) => p.kind === "unrotated-removal" && p.commit === undefined);
    if (v.dataKeyRotated && e.rotationUncertain) {
      // the keyless review could not tell a rotation from a changed value: the key shows it rotated
      for (const p of removals) dropped.add(p);
    } else if (!v.dataKeyRotated && e.fileChange === "modified" && (removals.length === 0 || e.rotationUncertain)) {
      // the key shows no rotation: a removal the keyless review could only call uncertain (one value
      // kept) is certain now, and says so in the words of a proven one
      for (const p of removals) dropped.add(p);
      for (const lost of e.recipients.lost) {
        const who = lostName(lost, e.members);
        const fix = `run \`${w.command(`stellar-secrets rotate-key --env ${v.environment}`)}\`, then change the values ${who} could read`;
        added.push({
          kind: "unrotated-removal",
          environment: v.environment,
          file: v.file,
          message:
            lost.heldShare !== undefined
              ? // a key group's share is no data key alone: never say it decrypts on its own
                heldShareRemovalMessage(who, lost.heldShare, v.environment, w.path(v.file), " (verified with your key)", `, and any value later encrypted with it; ${fix}`)
              : `${who} was removed from ${v.environment} but the data key was not rotated (verified with your key): ${who} can still decrypt every value encrypted with it, ` +
                `and any value later encrypted with it; ${fix}`,
        });
      }
    }
  }
  for (const v of verification) {
    if (!v.verified) {
      if (v.tampered) {
        added.push({
          kind: "tampered",
          environment: v.environment,
          file: v.file,
          message: `${w.path(v.file)} does not verify with your key (${v.reason}): a value or the MAC was changed outside sops/stellar-secrets; revert the change to ${w.path(v.file)}, then have a member make it again with stellar-secrets`,
        });
      }
      continue;
    }
    if (v.retiredKeyOf !== undefined && !report.problems.some((p) => p.kind === "unrotated-removal" && p.environment === v.environment && p.commit !== undefined)) {
      added.push({
        kind: "unrotated-removal",
        environment: v.environment,
        file: v.file,
        commit: v.retiredKeyOf,
        message:
          `${w.path(v.file)} is encrypted with the data key of its version at commit ${v.retiredKeyOf.slice(0, 10)} (verified with your key), a data key the base no longer uses: ` +
          `the change undoes a rotation, so whoever could decrypt that version (a member removed since) can decrypt every value of ${v.environment} now and every value set later; ` +
          `revert the change to ${w.path(v.file)}, then have an existing member of ${v.environment} run \`${w.command(`stellar-secrets rotate-key --env ${v.environment}`)}\``,
      });
    }
    // values this change set that a key no member has at the head could read in a commit of the change: the key compared them
    const review = report.environments.find((x) => x.environment === v.environment);
    const setHere = new Set((review?.secrets ?? []).filter((x) => x.change !== "removed").map((x) => x.name));
    for (const x of v.exposed ?? []) {
      const said = report.problems.find((p) => p.kind === "unrotated-removal" && p.environment === v.environment && p.commit === x.commit && p.message.includes(x.recipient) && p.message.includes(" is no member of "));
      if (said === undefined) continue;
      dropped.add(said);
      const same = x.same.filter((n) => setHere.has(n));
      // every value it set differs from what that version held (verified): the key has nothing more to say
      if (same.length === 0) continue;
      const who = said.message.slice(0, said.message.indexOf(" is no member of "));
      const them = same.length === 1 ? "it" : "them";
      added.push({
        kind: "unrotated-removal",
        environment: v.environment,
        file: v.file,
        commit: x.commit,
        message:
          `${who} is no member of ${v.environment} at the head, but the version of ${w.path(v.file)} that commit ${x.commit.slice(0, 10)} of this change wrote was wrapped for that key too, ` +
          `and the head's ${same.join(", ")} ${same.length === 1 ? "is the value" : "are the values"} that version held (verified with your key): whoever that stanza was for can read ${them} ` +
          `from commit ${x.commit.slice(0, 10)}, which merging this change keeps in the history; change ${them} at ${same.length === 1 ? "its provider" : "their providers"} and set ${them} anew ` +
          `(\`${w.command(`stellar-secrets set ${same[0]} --env ${v.environment}`)}\`${same.length === 1 ? "" : ", …"})`,
      });
    }
    // the keyless findings of re-wraps (top-level stanzas), each matched with the stanza the key tried
    const keyless = report.problems.filter((p) => p.kind === "rewrapped-without-rotation" && p.environment === v.environment);
    const matched = new Map<Rewrap, ReviewProblem>();
    for (const rw of v.rewraps) {
      if (rw.group !== undefined) continue;
      const lead = { replaced: "the age stanza labelled ", added: "a second age stanza labelled ", duplicate: "the label " }[rw.how];
      const mine = keyless.filter((p) => p.message.startsWith(lead) && (p.message.includes(rw.recipient) || p.message.startsWith(`${lead}${shortKey(rw.recipient)}`) || p.message.includes(`(${shortKey(rw.recipient)})`)));
      if (mine.length === 1 && ![...matched.values()].includes(mine[0]!)) matched.set(rw, mine[0]!);
    }
    // keyless findings the key cannot place are kept as they are, and then nothing is added for the environment (as before)
    if (keyless.length > 0 && matched.size !== keyless.length) continue;
    for (const rw of v.rewraps) {
      const proof = rewrapProof(rw);
      const said = matched.get(rw);
      if (said !== undefined) dropped.add(said);
      // wrapped anew for its label's own key alone (the reviewer's): it gives no one access they did not hold
      if (proof.own) continue;
      added.push({
        kind: "rewrapped-without-rotation",
        environment: v.environment,
        file: v.file,
        ...(said?.line === undefined ? {} : { line: said.line }),
        message:
          rw.group === undefined
            ? `the age stanza labelled ${rw.recipient} in ${w.path(v.file)} was wrapped anew, but the data key was not rotated (verified with your key): ${proof.proof}, ` +
              `${proof.who === undefined ? "so whoever holds the key it is labelled with may no longer open it" : `so ${proof.who} may now be able to decrypt every value of ${v.environment}`}; revert the change to ${w.path(v.file)}, or have an existing member of ${v.environment} ` +
              `run \`${w.command(`stellar-secrets rotate-key --env ${v.environment}`)}\` on a branch without the added stanza`
            : // a key group's stanza wraps that group's share: with enough other groups' shares it opens the data key, which the old shares open too
              `the age stanza labelled ${rw.recipient} in key group ${rw.group} of ${w.path(v.file)} was wrapped anew, but the data key was not rotated (verified with your key): ` +
              `${proof.proof}, ${proof.who === undefined ? `so whoever holds the key it is labelled with may no longer open group ${rw.group}'s share` : `so ${proof.who} may now hold group ${rw.group}'s share of the data key and, with shares of enough other groups, decrypt every value of ${v.environment} and every value set later`}; ` +
              `revert the change to ${w.path(v.file)}, or have the members rotate the data key with sops (\`sops rotate\`, stellar-secrets does not split a new data key) ` +
              `on a branch where group ${rw.group}'s stanzas are the base's`,
      });
    }
  }
  const environments = report.environments.map((original) => {
    const e = reconciled.get(original.environment) ?? original;
    const mine = added.filter((p) => p.environment === e.environment);
    const kept = e.problems.filter((p) => !dropped.has(p));
    return mine.length === 0 && kept.length === e.problems.length ? e : { ...e, problems: [...kept, ...mine] };
  });
  const problems = [...report.problems.filter((p) => !dropped.has(p) && !isDroppedCopy(p, dropped)), ...added];
  return { ...report, environments, problems, summary: { ...summary, ...secretCounts(environments), problems: problems.length }, clean: problems.length === 0, verification: [...verification] };
}

/** True when `p` is the report-level copy of a dropped environment problem (same kind, place and message). */
function isDroppedCopy(p: ReviewProblem, dropped: ReadonlySet<ReviewProblem>): boolean {
  for (const d of dropped) if (d.kind === p.kind && d.environment === p.environment && d.file === p.file && d.message === p.message) return true;
  return false;
}
