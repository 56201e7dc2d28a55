/**
 * A change to an environment file's sops key groups (Shamir secret sharing), told without keys:
 * `key-groups-change` when a file starts, stops or changes using them. Who can decrypt such a file
 * is any `threshold` groups' keys together, and nothing in the file proves who holds a share (a
 * label proves nothing; a share cannot be told from random bytes). Pure.
 */
import { keyGroupsThresholdText } from "@stellar-secrets/sops";
import type { EnvironmentFile } from "../secrets-dir.js";
import type { ReviewContext } from "./context.js";
import type { ReviewProblem } from "./report.js";
import type { EnvironmentChange, EnvironmentFix } from "./sides.js";
import { shortKey } from "./words.js";

/**
 * `key-groups-change` for `change`'s file: it stops using key groups (whoever held enough groups'
 * keys learned the data key; `sameKey` says it was not rotated), or starts or changes using them.
 */
export function keyGroupsProblems(ctx: ReviewContext, change: EnvironmentChange, sameKey: string | undefined, fix: EnvironmentFix): ReviewProblem[] {
  const { whoIs, w } = ctx;
  const { environment, file, before, after, existedBefore, existsAfter } = change;
  const { introduced, revert, byMember } = fix;
  const envProblems: ReviewProblem[] = [];
  // sops key groups (Shamir): who can decrypt is any `threshold` groups' keys together; a change of
  // the groups (labels, stanzas, threshold) or a file that starts using them is never proved
  // harmless without keys (a label proves nothing; the shares cannot be told from random bytes)
  const groupsAfter = after.model?.keyGroups;
  const groupsBefore = before.model?.keyGroups;
  const names = (label: string) => {
    const name = whoIs(label);
    if (name !== undefined) return `${name} (${shortKey(label)})`;
    // a label is anyone's text: only a public key is shown (never a private key pasted there)
    return /^(?:age1[0-9a-z]+|ssh-ed25519 [A-Za-z0-9+/=]+)$/.test(label) ? label : "(a label that is no public key, not shown)";
  };
  const groupsTextOf = (kg: NonNullable<EnvironmentFile["keyGroups"]>) =>
    kg.groups.map((g, i) => `group ${i + 1}: ${[...g.stanzas.map((st) => names(st.recipient)), ...g.others].join(", ") || "no keys"}`).join("; ");
  if (existedBefore && existsAfter && after.sops && groupsBefore !== undefined && groupsAfter === undefined) {
    // the file stops using key groups: whoever held enough groups' keys learned the data key, and a
    // one-list file under that key still opens for them (their labels are gone from the file, not the key from them)
    const who =
      groupsBefore.problem !== undefined
        ? `whoever could combine its shares (its key groups could not be read: ${groupsBefore.problem})`
        : `whoever held keys of ${groupsBefore.thresholdWritten === false && groupsBefore.groups.length > 1 ? "enough (at least 2; no shamir_threshold was written)" : groupsBefore.threshold} of its ${groupsBefore.groups.length} group${groupsBefore.groups.length === 1 ? "" : "s"} (${groupsTextOf(groupsBefore)})`;
    const fix = introduced.length === 0 ? `have a member of ${environment} run \`${w.command(`stellar-secrets rotate-key --env ${environment}`)}\`` : `${revert}, or ${byMember}`;
    envProblems.push({
      kind: "key-groups-change",
      environment,
      file,
      message:
        `${w.path(file)} stops using sops key groups (Shamir secret sharing) and is now one list of age stanzas: ${who} learned the data key, and ` +
        (sameKey !== undefined
          ? `the data key was not rotated (${sameKey}), so they can still decrypt every value of ${environment} and every value set later`
          : `a keyless review cannot prove the data key was rotated: if it was not, they can still decrypt every value of ${environment} and every value set later`) +
        `; ${fix}, then change at their providers the values they could read if they should not`,
    });
  }
  if (existsAfter && groupsAfter !== undefined && keyGroupsFingerprint(groupsBefore) !== keyGroupsFingerprint(groupsAfter)) {
    const started = groupsBefore === undefined;
    const groupsText = groupsTextOf(groupsAfter);
    envProblems.push({
      kind: "key-groups-change",
      environment,
      file,
      line: groupsAfter.range === undefined ? undefined : after.model!.lines.positionAt(groupsAfter.range.start).line,
      message:
        `${w.path(file)} ${started ? "now uses" : "changes its"} sops key groups (Shamir secret sharing): ` +
        (groupsAfter.problem !== undefined
          ? `they cannot be read (${groupsAfter.problem})`
          : `${keyGroupsThresholdText({ threshold: groupsAfter.threshold ?? groupsAfter.groups.length, thresholdWritten: groupsAfter.thresholdWritten !== false, groups: groupsAfter.groups })} decrypt it (${groupsText})`) +
        `; a keyless review cannot prove who holds each group's share (a label proves nothing), that the shares are of the file's data key, or that the threshold is the one the split used: ` +
        `${revert}, or check the groups with sops and the keys before merging`,
    });
  }
  return envProblems;
}

/** What a keyless reader sees of a file's key groups (labels, age headers, other keys, threshold), as one comparable string. */
function keyGroupsFingerprint(groups: EnvironmentFile["keyGroups"]): string {
  if (groups === undefined) return "";
  return JSON.stringify([groups.threshold ?? null, groups.thresholdWritten ?? null, groups.problem ?? null, groups.groups.map((g) => [g.stanzas.map((st) => [st.recipient, st.envelope]), g.others])]);
}
