/**
 * Who gained and lost access to one environment in a change ({@link accessOf}: members in
 * stellar.yaml, age recipients in the file, access requests), and the findings about it that need
 * no key ({@link accessProblems}): a removal without a rotation (`unrotated-removal`), a key that
 * opens the file but is no member (`non-member-recipient`), a stanza wrapped anew under the same
 * data key (`rewrapped-without-rotation`). A recipient label proves nothing (SOPS-FORMAT §4.5):
 * these say what the file and stellar.yaml show, never who holds a key. Pure.
 */
import { asciiLookAlike } from "../names.js";
import { isSameKey, normalizeRecipient } from "@stellar-secrets/sops";
import { environmentDeclarationSite, pendingRequestConflict, PROJECT_FILE, type DeclarationSite, type ProjectConfig } from "../project.js";
import { shareStanzasOfGroups, type EnvironmentFile } from "../secrets-dir.js";
import type { ReviewContext } from "./context.js";
import type { Rewrap } from "./data-key.js";
import type { SharedDataKey } from "./key-history.js";
import type { EnvironmentReview, MemberRef, RecipientRef, ReviewProblem } from "./report.js";
import { keptValues, stanzaLine, type EnvironmentChange, type EnvironmentFix } from "./sides.js";
import { listed, shortKey } from "./words.js";

/** Who gained and lost access to one environment ({@link accessOf}). */
export interface Access {
  members: EnvironmentReview["members"];
  recipients: EnvironmentReview["recipients"];
  /** The labels that decrypt the file alone, on each side (a key-groups file's: those in enough groups). */
  recipientsBefore: Set<string>;
  recipientsAfter: Set<string>;
  /** The people whose access changed, each counted once. */
  accessChanges: number;
}

/** Who gained and lost access to `change`'s environment: members, recipients and requests. */
export function accessOf(ctx: ReviewContext, change: EnvironmentChange): Access {
  const { baseConfig, headConfig, whoIs, whoWasEarlier, formerMemberOfKey } = ctx;
  const { environment, before, after, existsAfter } = change;
  const membersBefore = new Map((baseConfig?.environments.find((e) => e.name === environment)?.members ?? []).map((m) => [m.name, m.recipient]));
  const membersAfter = new Map((headConfig?.environments.find((e) => e.name === environment)?.members ?? []).map((m) => [m.name, m.recipient]));
  const members: EnvironmentReview["members"] = {
    gained: [...membersAfter].filter(([n]) => !membersBefore.has(n)).map(([name, recipient]) => ({ name, recipient })),
    lost: [...membersBefore].filter(([n]) => !membersAfter.has(n)).map(([name, recipient]) => ({ name, recipient })),
    keyChanged: [...membersAfter]
      .filter(([n, r]) => membersBefore.has(n) && membersBefore.get(n) !== r)
      .map(([name, r]) => ({ name, before: membersBefore.get(name) as string, after: r })),
    requested: requestsAdded(baseConfig, headConfig, environment),
  };
  // who can decrypt alone, by label: the top-level stanzas, and a key-groups file's labels that are in enough groups
  // (every label of a one-group file: each of its stanzas wraps the whole data key)
  const recipientsBefore = new Set([...(before.model?.recipients ?? []), ...aloneByKeyGroups(before.model?.keyGroups)]);
  const recipientsAfter = new Set([...(after.model?.recipients ?? []), ...aloneByKeyGroups(after.model?.keyGroups)]);
  const ref = (recipient: string): RecipientRef => {
    const member = whoIs(recipient);
    if (member !== undefined) return { recipient, member };
    const former = whoWasEarlier(recipient);
    return former === undefined ? { recipient } : { recipient, formerMember: former };
  };
  // who held key material, by label: a share of a key group is the data key's too (with other groups' shares it is the
  // key), so a label in no stanza of the head that held one in the base is lost, and one still in a group lost nothing
  // (key-groups-change says what it holds)
  const groupLabels = (m: EnvironmentFile | undefined): string[] => (m?.keyGroups?.groups ?? []).flatMap((g) => g.stanzas.map((st) => normalizeRecipient(st.recipient)));
  const heldAfter = new Set([...recipientsAfter, ...groupLabels(after.model)]);
  const recipients: EnvironmentReview["recipients"] = {
    gained: existsAfter ? [...recipientsAfter].filter((r) => !recipientsBefore.has(r)).map(ref) : [],
    lost: existsAfter
      ? [...new Set([...recipientsBefore, ...groupLabels(before.model)])]
          .filter((r) => !heldAfter.has(r))
          .map((r) => {
            // a label that held only a key group's share in the base (the threshold needs other groups)
            const kg = before.model?.keyGroups;
            if (kg === undefined || recipientsBefore.has(r)) return ref(r);
            return { ...ref(r), heldShare: { ...(kg.threshold === undefined ? {} : { threshold: kg.threshold }), ...(kg.thresholdWritten === false ? { thresholdWritten: false } : {}), groups: kg.groups.length } };
          })
      : [],
  };
  // a member "removed" while the same key is added under another name (or spelling) lost nothing;
  // a key a former member had, back under another name, is said on the gained member
  for (const m of members.gained) {
    const lostAs = members.lost.find((l) => isSameKey(l.recipient, m.recipient));
    if (lostAs !== undefined) {
      m.sameKeyAs = { name: lostAs.name, recipient: lostAs.recipient, lostHere: true };
      members.lost.splice(members.lost.indexOf(lostAs), 1);
      const i = recipients.lost.findIndex((r) => r.recipient === lostAs.recipient);
      if (i !== -1 && recipientsAfter.has(m.recipient)) recipients.lost.splice(i, 1);
      continue;
    }
    const former = formerMemberOfKey(m.recipient, m.name);
    if (former !== undefined) m.sameKeyAs = { ...former, lostHere: false };
  }
  // one person counts once, whether stellar.yaml, the file or both changed for them
  // (a member whose key changed: their new key gained and their old key lost are that one change)
  const keyOf = (r: RecipientRef, side: "before" | "after"): boolean => members.keyChanged.some((m) => m.name === r.member && m[side] === r.recipient);
  const who = new Set([
    ...members.gained.map((m) => `+${m.name}`),
    ...members.lost.map((m) => `-${m.name}`),
    ...members.keyChanged.map((m) => `~${m.name}`),
    ...recipients.gained.map((r) => (keyOf(r, "after") ? `~${r.member}` : `+${r.member ?? r.recipient}`)),
    ...recipients.lost.map((r) => (keyOf(r, "before") ? `~${r.member}` : `-${r.member ?? r.recipient}`)),
  ]);
  return { members, recipients, recipientsBefore, recipientsAfter, accessChanges: who.size };
}

/** How a change left the data key, as the environment's review proved it from the files. */
export interface DataKeyProof {
  /** The data key was rotated (every wrapped key changed with every value). */
  dataKeyRotated: boolean;
  /** One kept value only: a rotation cannot be told from a changed value plus a re-wrap. */
  uncertain: boolean;
  /** What proves the data key is the same on both sides ({@link sameDataKeyProof}), when something does. */
  sameKey: string | undefined;
  /** The stanzas wrapped anew under that same data key. */
  rewraps: readonly Rewrap[];
  /** Another environment's file whose data key the head's file uses (a file copied or swapped from there). */
  sharedWith?: SharedDataKey | undefined;
}

/**
 * The findings about who can decrypt `change`'s environment: `unrotated-removal` for each label
 * that lost access while the data key stayed, `non-member-recipient` for each key that opens the
 * file and is no member, `rewrapped-without-rotation` for each stanza wrapped anew. `removedByHand`:
 * the non-member problems of a base member removed from stellar.yaml by editing it.
 */
export function accessProblems(
  ctx: ReviewContext,
  change: EnvironmentChange,
  access: Access,
  proof: DataKeyProof,
  fix: EnvironmentFix,
): { problems: ReviewProblem[]; removedByHand: Map<ReviewProblem, { member: string; recipient: string }> } {
  const { baseConfig, headConfig, whoIs, w } = ctx;
  const { environment, file, before, after, textAfter, existedBefore, existsAfter } = change;
  const { recipients, recipientsBefore, recipientsAfter } = access;
  const { dataKeyRotated, uncertain, sameKey, rewraps, sharedWith } = proof;
  const { introduced, revert, byMember } = fix;
  const envProblems: ReviewProblem[] = [];
  const removedByHand = new Map<ReviewProblem, { member: string; recipient: string }>();
  // a key that can no longer unwrap the data key still knows it unless the data key was rotated
  const storedAfter = [...(after.version?.values ?? new Map<string, string>())].filter(([n, v]) => v !== "" && after.encryptedNames.has(n));
  // a remaining recipient whose wrapped key is byte-for-byte the same proves the data key is the same, values or not
  const keptStanza = [...(after.version?.stanzas ?? new Map<string, string>())].find(([r, enc]) => before.version?.stanzas.get(r) === enc);
  const sameKeyProven = keptStanza !== undefined;
  if (existedBefore && existsAfter && (sameKeyProven || ((!dataKeyRotated || uncertain) && storedAfter.length > 0))) {
    for (const lost of recipients.lost) {
      const who = lostName(lost, access.members);
      const unchanged = storedAfter.filter(([n, v]) => before.version?.values.get(n) === v).length;
      const fix =
        introduced.length === 0
          ? `run \`${w.command(`stellar-secrets rotate-key --env ${environment}`)}\`, then change the values ${who} could read`
          : `${revert}, then ${byMember}; then change the values ${who} could read`;
      const proof = keptStanza === undefined ? "" : ` (${whoIs(keptStanza[0]) ?? keptStanza[0]}'s wrapped data key is unchanged: the data key is the same)`;
      // the head's file is under another environment's data key (copied or swapped from there): what is shown is
      // the stanza gone and that data key, not a removal from this environment nor a rotation of its data key
      const shared = proof === "" && lost.heldShare === undefined ? sharedKeyWords(ctx, who, environment, file, sharedWith, revert) : undefined;
      // a label that held only a key group's share in the base (the threshold needs other groups): true words for it
      envProblems.push({
        kind: "unrotated-removal",
        environment,
        file,
        message: shared !== undefined
          ? shared
          : lost.heldShare !== undefined
          ? heldShareRemovalMessage(who, lost.heldShare, environment, w.path(file), "", `${proof}; ${fix}`)
          : dataKeyRotated && !sameKeyProven
            ? `${who} was removed from ${environment}, and with ${keptValues(before, after) === 0 ? "no value kept (every one added or changed)" : "only one value kept"} a data-key rotation cannot be told from a changed value without a key: ` +
              `if the data key was not rotated, ${who} can still decrypt every value encrypted with it; make sure the change was made with \`${w.command("stellar-secrets members rm")}\` or \`rotate-key\`, or ${fix}`
            : `${who} was removed from ${environment} but the data key was not rotated: ${who} can still decrypt ` +
              // a data key proven the same opens every value, re-encrypted or changed: none is out of reach
              `${storedAfter.length === 0 ? "" : sameKeyProven ? `every value of the file (${storedAfter.length} here, changed, re-encrypted or not: all are under the data key ${who} holds), and ` : `values that are not changed (${unchanged} of ${storedAfter.length} here), and `}any value later encrypted with this data key${proof}; ${fix}`,
      });
    }
  }
  // a key that can decrypt the file but is no member of the environment (whatever stellar.yaml's `rules` say)
  const envAfter = headConfig?.environments.find((e) => e.name === environment);
  // an environment stellar.yaml does not declare has no members, while its file still opens and the
  // resolver still serves it: a key the change adds there is no member's either (its old recipients
  // are the checker's `unknown-environment` finding)
  if (existsAfter && (envAfter !== undefined || headConfig !== undefined)) {
    const memberKeys = new Set(envAfter === undefined ? recipientsBefore : envAfter.members.map((m) => m.recipient));
    const baseMemberKeys = new Set((baseConfig?.environments.find((e) => e.name === environment)?.members ?? []).map((m) => m.recipient));
    const extraBefore = new Set([...recipientsBefore].filter((r) => !baseMemberKeys.has(r)));
    // (a key-groups label counts only in enough groups to decrypt alone: see recipientsAfter; key-groups-change names the others)
    for (const r of recipientsAfter) {
      if (memberKeys.has(r) || extraBefore.has(r)) continue;
      const name = whoIs(r);
      // a key no member of the base has is shown whole (to find whose it is; a name the head gives proves nothing); a base member's name says who
      const baseMember = (baseConfig?.environments ?? []).some((e) => e.members.some((m) => m.recipient === r));
      const who = name === undefined ? r : `${name} (${baseMember ? shortKey(r) : r})`;
      const removedMember = baseMemberKeys.has(r) && recipientsBefore.has(r) && introduced.length === 0;
      const problem: ReviewProblem = {
        kind: "non-member-recipient",
        environment,
        file,
        line: after.model?.recipientsRange === undefined ? undefined : after.model.lines.positionAt(after.model.recipientsRange.start).line,
        message:
          `${who} can decrypt ${w.path(file)} but is not a member of ${environment} in ${w.path(PROJECT_FILE)}${envAfter === undefined ? ` (${w.path(PROJECT_FILE)} does not declare ${environment})` : ""}: ` +
          (baseMemberKeys.has(r) && recipientsBefore.has(r) && introduced.length === 0
            ? `they were removed from ${environment} but the file still opens for them; have an existing member re-key it without them (\`${w.command(`stellar-secrets rotate-key --env ${environment}`)}\`), then change at their providers the values they could read`
            : `${recipientsBefore.has(r) ? "" : "this change gave that key access, and "}a recipient label proves nothing, so do not grant that key access on this change's word: ${revert}, ` +
              `or ${byMember}; a new member is added in a change of its own, by an existing member, with \`${w.command("stellar-secrets members add")}\``),
      };
      envProblems.push(problem);
      const baseName = (baseConfig?.environments ?? []).flatMap((e) => e.members).find((m) => m.recipient === r)?.name;
      if (removedMember && baseName !== undefined && !(headConfig?.environments ?? []).some((e) => e.members.some((m) => m.name === baseName))) {
        removedByHand.set(problem, { member: baseName, recipient: r });
      }
    }
  }
  // a member this change adds under a name that reads as another member's (carol and caroI, Carol): the
  // review's words would read as a known person gaining access, while the key is another
  for (const m of access.members.gained) {
    if (m.sameKeyAs !== undefined) continue;
    const alike = lookAlikeMembers(m, baseConfig, headConfig);
    if (alike.length === 0) continue;
    const other = alike[0]!;
    envProblems.push({
      kind: "look-alike-name",
      environment,
      file: PROJECT_FILE,
      ...lineOfMember(ctx.head.readText(PROJECT_FILE), headConfig === undefined ? undefined : environmentDeclarationSite(headConfig, environment), m.name),
      message:
        `${JSON.stringify(m.name)} gained access to ${environment} under a name that reads as ${JSON.stringify(other.name)}'s ` +
        `(${other.where}, with another key: ${shortKey(other.recipient)}, not ${m.recipient})` +
        `${alike.length > 1 ? `, and as ${listed(alike.slice(1).map((o) => JSON.stringify(o.name)))}` : ""}: a name proves nothing, as a label does not, ` +
        `and the review's words read as ${JSON.stringify(other.name)} gaining access; ask ${JSON.stringify(other.name)} out of band whether ${m.recipient} is their key, ` +
        `and give another person a name that cannot be mistaken for theirs; else drop ${JSON.stringify(m.name)} from ${w.path(PROJECT_FILE)} and ${revert}, or ${byMember}`,
    });
  }
  for (const rw of rewraps) {
    const name = whoIs(rw.recipient);
    const label = name === undefined ? rw.recipient : `${name} (${shortKey(rw.recipient)})`;
    const what = {
      replaced: `the age stanza labelled ${label} was wrapped anew`,
      added: `a second age stanza labelled ${label} was added`,
      duplicate: `the label ${label} is on more than one age stanza`,
    }[rw.how];
    envProblems.push({
      kind: "rewrapped-without-rotation",
      environment,
      file,
      line: stanzaLine(after, textAfter, rw.enc),
      message:
        `${what} in ${w.path(file)}, but the data key was not rotated (${sameKey as string}): the label proves nothing (whoever has the data key can wrap it ` +
        `for any key under any label), so someone other than ${name ?? "that key's owner"} may now be able to decrypt every value of ${environment}, ` +
        `and every value set later; ${revert}, or have an existing member of ${environment} run \`${w.command(`stellar-secrets rotate-key --env ${environment}`)}\` ` +
        (rw.how === "replaced"
          ? `on a branch where the stanza labelled ${name ?? shortKey(rw.recipient)} is still the base's`
          : `on a branch without the stanza labelled ${name ?? shortKey(rw.recipient)} that this change added`),
    });
  }
  return { problems: envProblems, removedByHand };
}

/**
 * The `unrotated-removal` message for a label that held only a key group's share in the base
 * ({@link RecipientRef.heldShare}): a share is no data key alone, so the words say what it takes.
 * `proven`: how the unrotated data key is known (e.g. " (verified with your key)"); `tail`: what
 * follows (the proof of a kept stanza, then "; " and the fix).
 */
export function heldShareRemovalMessage(who: string, held: NonNullable<RecipientRef["heldShare"]>, environment: string, file: string, proven: string, tail: string): string {
  return (
    `${who} held a share of ${environment}'s data key (a key group of ${file}, where ${held.thresholdWritten === false ? `at least ${held.threshold ?? 2}` : (held.threshold ?? "all")} of ${held.groups} groups decrypt) and holds nothing in the file now, but the data key was not rotated${proven}: ` +
    `with shares of enough other groups, or the whole key an earlier version of the file gave ${who}, ${who} can still decrypt every value encrypted with it${tail}`
  );
}

/** Access requests of `environment` at head that the base did not have (same name and key). */
function requestsAdded(base: ProjectConfig | undefined, head: ProjectConfig | undefined, environment: string): MemberRef[] {
  const before = new Set((base?.environments.find((e) => e.name === environment)?.pending ?? []).map((r) => `${r.name}\u0000${r.recipient}`));
  return (head?.environments.find((e) => e.name === environment)?.pending ?? [])
    .filter((r) => !before.has(`${r.name}\u0000${r.recipient}`))
    .map((r) => {
      // a request that `members approve` would refuse (a member's name with another key, another member's key): why
      const refused = head === undefined ? undefined : pendingRequestConflict(r, head.environments);
      return { name: r.name, recipient: r.recipient, ...(refused === undefined ? {} : { refused }) };
    });
}

/**
 * The labels of a key-groups file's age stanzas that are in at least `threshold` of its groups
 * (every label of a one-group file): by labels, which prove nothing, the keys that decrypt it
 * alone. Empty for no key groups or groups the readers refuse.
 */
/** The labels of a key-groups file that are in enough groups to decrypt it alone (none when its groups cannot be read). */
function aloneByKeyGroups(groups: EnvironmentFile["keyGroups"]): string[] {
  if (groups === undefined || groups.problem !== undefined || groups.threshold === undefined) return [];
  const held = new Map<string, number>();
  // a stanza copied from an earlier group holds that group's share, not one of its own
  for (const g of shareStanzasOfGroups(groups)) for (const label of new Set(g.map((st) => normalizeRecipient(st.recipient)))) if (label !== "") held.set(label, (held.get(label) ?? 0) + 1);
  return [...held].filter(([, n]) => n >= groups.threshold!).map(([label]) => label);
}

/**
 * A member name as it reads, for telling look-alikes (pure): letters and digits that many fonts
 * draw alike made one (`I`, `l` and `1`; `O` and `0`), case folded, `rn` read as `m` and `vv` as
 * `w`, characters that draw nothing (zero-width, soft hyphen, BOM) dropped after NFKC, and
 * Cyrillic and Greek letters read as the ASCII they look like (`cаrol` with a Cyrillic `а`).
 */
export function nameSkeleton(name: string): string {
  return asciiLookAlike(name)
    .normalize("NFKC")
    .replace(/[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]/g, "")
    .replace(/[Il1|]/g, "l")
    .replace(/[O0]/g, "o")
    .toLowerCase()
    .replace(/rn/g, "m")
    .replace(/vv/g, "w")
    // a run of underscores draws as one line, and one at either end is easily not seen (stripe__api_key, stripe_api_key_)
    .replace(/_+/g, "_")
    .replace(/^_|_$/g, "");
}

/**
 * The members of either side (any environment) whose name is not `m`'s but reads as it
 * ({@link nameSkeleton}) and whose key is another: each once, base first, with where they are.
 */
export function lookAlikeMembers(m: { name: string; recipient: string }, base: ProjectConfig | undefined, head: ProjectConfig | undefined): { name: string; recipient: string; where: string }[] {
  const mine = nameSkeleton(m.name);
  const out: { name: string; recipient: string; where: string }[] = [];
  for (const [side, config] of [["the base", base], ["this change", head]] as const) {
    for (const env of config?.environments ?? []) {
      for (const other of env.members) {
        if (other.name === m.name || isSameKey(other.recipient, m.recipient) || nameSkeleton(other.name) !== mine) continue;
        if (out.some((o) => o.name === other.name && o.recipient === other.recipient)) continue;
        out.push({ name: other.name, recipient: other.recipient, where: side === "the base" ? `a member of ${env.name}` : `a member of ${env.name} in this change` });
      }
    }
  }
  return out;
}

/**
 * The 1-based line of `name`'s entry in stellar.yaml's text: the first below its environment's key
 * (`environment`: where the parser found it), else anywhere ({} when not found).
 */
function lineOfMember(text: string | null | undefined, environment: DeclarationSite | undefined, name: string): { line?: number } {
  if (typeof text !== "string") return {};
  const lines = text.split(/\r?\n/);
  const key = new RegExp(`^\\s+(["']?)${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\1\\s*:`);
  const envAt = environment === undefined ? -1 : environment.line - 1;
  const after = envAt === -1 ? -1 : lines.findIndex((l, i) => i > envAt && key.test(l));
  const at = after !== -1 ? after : lines.findIndex((l) => key.test(l));
  return at === -1 ? {} : { line: at + 1 };
}

/**
 * What a stanza gone from `file` shows when the head's file is under another environment's data key
 * (`shared`): the stanza is gone and the file opens with that environment's data key. Not that the
 * member was removed from `environment` (stellar.yaml says whether they still are), nor that the
 * data key was or was not rotated (it is another's, which the member was never shown to hold).
 */
function sharedKeyWords(ctx: ReviewContext, who: string, environment: string, file: string, shared: SharedDataKey | undefined, revert: string): string | undefined {
  if (shared === undefined) return undefined;
  const { headConfig, w } = ctx;
  const stillMember = (headConfig?.environments.find((e) => e.name === environment)?.members ?? []).some((m) => m.name === who);
  return (
    `${who} has no stanza in ${w.path(file)} any more, and ${stillMember ? `${w.path(PROJECT_FILE)} still lists ${who} as a member of ${environment}` : `is no member of ${environment} in ${w.path(PROJECT_FILE)} now`}: ` +
    `the head's file is under ${shared.environment}'s data key (it shares it with ${shared.environment}'s file ${w.path(shared.file)} in the ${shared.side}, ${shared.proof}), not a rotation of ${environment}'s, ` +
    `so ${stillMember ? `${who} can no longer decrypt it, and ` : ""}whoever holds ${shared.environment}'s data key${shared.members.length === 0 ? "" : ` (${shared.environment}'s members: ${shared.members.join(", ")})`} can: ${revert}`
  );
}

/**
 * How a finding names a lost recipient: its member's name, or "carol's old key (age1…)" when the
 * member stays and only their key changed (carol was not removed), or the key itself.
 */
export function lostName(lost: RecipientRef, members: EnvironmentReview["members"]): string {
  if (lost.member === undefined) return lost.recipient;
  return members.keyChanged.some((m) => m.name === lost.member && m.before === lost.recipient) ? `${lost.member}'s old key (${shortKey(lost.recipient)})` : lost.member;
}
