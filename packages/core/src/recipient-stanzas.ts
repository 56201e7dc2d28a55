/**
 * Keyless integrity of an environment file's age stanzas (part of `recipient-drift`). A stanza's
 * `recipient` label proves nothing (SOPS-FORMAT §4.5), but what can be seen without a key is
 * checked: a label used by two stanzas (one of them may be wrapped to anyone), an age file that
 * holds more than one recipient stanza (`age -r MEMBER -r OUTSIDER`: both can decrypt), a stanza
 * copied under another label (the same age header: the labelled key cannot decrypt), a stanza
 * type that is not the one age writes for the labelled key, and an `enc` that is no readable age
 * file. Pure: no I/O.
 */
import { ageStanzaTypeFor, canonicalAgeRecipient, sshKeyTag } from "@stellar-secrets/sops";
import type { TextRange } from "./position.js";
import { miswrittenKeyOwner, type ProjectConfig } from "./project.js";
import { shareStanzasOfGroups, type EnvironmentFile, type EnvironmentStanza } from "./secrets-dir.js";

/** One stanza problem: where (the stanza's `recipient` label, else the `age:` key) and the message. */
export interface RecipientStanzaProblem {
  range: TextRange;
  message: string;
}

/**
 * The stanza problems of one environment file, in stanza order; empty for an honest file or a
 * file without readable metadata. Fix hints never grant the unknown key access: they say to
 * revert the change and have an existing member re-key the file.
 */
export function recipientStanzaProblems(project: Pick<ProjectConfig, "environments">, file: EnvironmentFile): RecipientStanzaProblem[] {
  const stanzas = file.stanzas;
  const fallback = file.recipientsRange ?? file.keyGroups?.range;
  if (stanzas === undefined || fallback === undefined) return [];
  const env = file.environment;
  const anchor: TextRange = fallback;
  // keys compared as keys: `AGE1…` and an age1… string with X25519's ignored top bit set are one key
  const keyId = (r: string): string => canonicalAgeRecipient(r) ?? r;
  const whoIs = (recipient: string): string => {
    const id = keyId(recipient);
    const own = project.environments.find((e) => e.name === env)?.members.find((m) => keyId(m.recipient) === id);
    if (own !== undefined) return `${own.name}, a member of ${env}`;
    for (const e of project.environments) {
      const m = e.members.find((x) => keyId(x.recipient) === id);
      if (m !== undefined) return `${m.name}, a member of ${e.name}`;
    }
    return miswrittenKeyOwner(project.environments, recipient, (a, b) => keyId(a) === keyId(b)) ?? "not a member of any environment";
  };
  const fix =
    `revert the change that made it (\`git log -p -- ${file.path}\` shows it), then have an existing member of ${env} run ` +
    `\`stellar-secrets rotate-key --env ${env}\` once stellar.yaml lists only the members you expect (it wraps a new data key for exactly those), ` +
    "and rotate at their providers the values the unknown key could read";
  const out: RecipientStanzaProblem[] = [];
  for (const other of file.otherMasterKeys ?? []) {
    if (other.type === "key_groups" && file.keyGroups !== undefined) {
      out.push({ range: file.keyGroups.problemRange ?? file.keyGroups.range ?? other.range ?? fallback, message: keyGroupsMessage(project, file, keyId, fix) });
      continue;
    }
    const what = `${other.count} key${other.count === 1 ? "" : "s"}`;
    out.push({
      range: other.range ?? fallback,
      message:
        `the ${env} file's sops.${other.type} holds ${what} besides its age stanzas: sops decrypts the file with any of them, but stellar.yaml's members ` +
        `are age or ssh keys only, so whoever holds that key is not a member and can read every value; ${fix}`,
    });
  }
  // each honest wrapping has an ephemeral share of its own: the same header under another label is a copy (across key groups too)
  const headers = new Map<string, string>();
  const headersWhere = new Map<string, string>();
  checkStanzas(stanzas, "");
  file.keyGroups?.groups.forEach((g, k) => checkStanzas(g.stanzas.map((st) => ({ ...st, range: st.range ?? file.keyGroups?.range })), ` in key group ${k + 1}`));
  return out;

  /** The keyless checks of one list of stanzas (the top-level `age` list, or a key group's); `where` names the group in messages. */
  function checkStanzas(stanzas: readonly EnvironmentStanza[], where: string): void {
    const seen = new Map<string, number>();
    stanzas.forEach((stanza, i) => {
      const range = stanza.range ?? anchor;
      const label = `the age stanza${where} labelled ${labelText(stanza.recipient)} (${whoIs(stanza.recipient)})`;
      const count = (seen.get(keyId(stanza.recipient)) ?? 0) + 1;
      seen.set(keyId(stanza.recipient), count);
      if (count === 2) {
        const total = stanzas.filter((s) => keyId(s.recipient) === keyId(stanza.recipient)).length;
        out.push({
          range,
          message:
            `the ${env} file has ${total} age stanzas${where} labelled ${labelText(stanza.recipient)} (${whoIs(stanza.recipient)}): labels are not proof of who can decrypt ` +
            `(SOPS-FORMAT §4.5), so stanza ${i + 1} may be wrapped to any key, which can then read every value; ${fix}`,
        });
      }
      const info = stanza.envelope;
      if (!info.ok) {
        out.push({ range, message: `${label} cannot be read as an age file (${info.problem}), so who can decrypt it cannot be checked; ${fix}` });
        return;
      }
      if (info.stanzas.length > 1) {
        out.push({
          range,
          message:
            `${label} wraps the data key for ${info.stanzas.length} keys (its age header has ${info.stanzas.length} recipient stanzas: ${info.stanzas.map((s) => s.type).join(", ")}), ` +
            `so someone besides the labelled key can decrypt the ${env} file; labels are not proof of who can decrypt; ${fix}`,
        });
        return;
      }
      const expected = ageStanzaTypeFor(stanza.recipient);
      const type = info.stanzas[0]?.type;
      if (type !== expected) {
        out.push({
          range,
          message:
            `${label} is an age ${type} stanza, but ${expected === undefined ? "its label is no age or ssh public key" : `age writes ${expected} stanzas for that key`}: ` +
            `it was made for another key than its label says; ${fix}`,
        });
        return;
      }
      const header = `${type} ${info.stanzas[0]?.args.join(" ") ?? ""}`;
      const owner = headers.get(header);
      const ownerWhere = headersWhere.get(header);
      if (owner === undefined) {
        headers.set(header, stanza.recipient);
        headersWhere.set(header, where);
      } else if (owner === stanza.recipient && ownerWhere !== where && count === 1) {
        // the same wrapping under the same label in another key group: it holds the other group's share
        out.push({
          range,
          message:
            `${label} and the one${ownerWhere} are one wrapping copied (the same age header, whose ephemeral share every wrapping makes anew): it holds one share, ` +
            `so that key holds a share of only one of these two groups, and a reader whose key opens both gets one share twice and refuses the ${env} file (a hand edit: no write makes it); ` +
            `restore the file from git, or manage its groups with sops (\`sops updatekeys\`)`,
        });
        return;
      } else if (owner !== stanza.recipient && count === 1) {
        out.push({
          range,
          message:
            `${label} is a copy of the one labelled ${owner} (the same age header, whose ephemeral share every wrapping makes anew): it opens for one key only, ` +
            `so the labelled key cannot decrypt the ${env} file (a hand edit: no write makes it); ` +
            `have an existing member of ${env} re-key it for the members in stellar.yaml with \`stellar-secrets rotate-key --env ${env}\``,
        });
        return;
      }
      // an ssh-ed25519 stanza names its key by a public tag: a keyless reader can check it against the label
      if (type === "ssh-ed25519") {
        let want: string | undefined;
        try {
          want = sshKeyTag(stanza.recipient);
        } catch {
          want = undefined;
        }
        const have = info.stanzas[0]?.args[0] ?? "";
        if (want !== undefined && have !== want) {
          out.push({
            range,
            message: `${label} is an age ssh-ed25519 stanza for another SSH key (key tag ${have.slice(0, 12)}, not ${want}): someone other than the labelled key can decrypt the ${env} file; ${fix}`,
          });
        }
      }
    });
  }
}


/**
 * The `recipient-drift` message of a key-groups file (sops Shamir secret sharing), from labels
 * alone (which prove nothing, SOPS-FORMAT §4.5): the groups and whose keys each holds, how many
 * groups decrypt the file, whether non-members' keys reach that many groups without a member,
 * which groups of non-members add access to anyone holding enough other groups, and which members
 * cannot decrypt alone. stellar.yaml's members each decrypt alone, so such a file is always
 * reported; when its key groups cannot be read, that is said instead. Pure.
 */
function keyGroupsMessage(project: Pick<ProjectConfig, "environments">, file: EnvironmentFile, keyId: (r: string) => string, fix: string): string {
  const env = file.environment;
  const kg = file.keyGroups!;
  if (kg.problem !== undefined) {
    return `the ${env} file's sops.key_groups cannot be read (${kg.problem}): sops and stellar-secrets refuse to decrypt it as it is; ${kg.problemFix ?? fix}`;
  }
  const members = project.environments.find((e) => e.name === env)?.members ?? [];
  const memberOf = (label: string) => members.find((m) => keyId(m.recipient) === keyId(label));
  const t = kg.threshold ?? kg.groups.length;
  const n = kg.groups.length;
  // no shamir_threshold written: sops combines whatever groups open, so t (2) is only the fewest that may do
  const unwritten = kg.thresholdWritten === false && n > 1;
  const described = kg.groups.map((g, i) => {
    const keys = [
      ...g.stanzas.map((st) => memberOf(st.recipient)?.name ?? `${shownLabel(st.recipient)} (${miswrittenKeyOwner(project.environments, st.recipient, (a, b) => keyId(a) === keyId(b)) ?? `not a member of ${env}`})`),
      ...g.others.map((o) => `${o} (not an age key: no member)`),
    ];
    return `group ${i + 1}: ${keys.length === 0 ? "no keys" : keys.join(", ")}`;
  });
  const outsiders = kg.groups.map((g, i) => (g.others.length > 0 || g.stanzas.some((st) => memberOf(st.recipient) === undefined) ? i + 1 : 0)).filter((i) => i > 0);
  const parts: string[] = [];
  if (outsiders.length >= t) {
    parts.push(`non-members' keys are in ${outsiders.length === 1 ? `group ${outsiders[0]}` : `${outsiders.length} groups (${outsiders.join(", ")})`}, ${unwritten ? "which may be " : ""}enough to decrypt it without any member of ${env}`);
  } else if (outsiders.length > 0) {
    parts.push(`non-members' keys are in group${outsiders.length === 1 ? "" : "s"} ${outsiders.join(", ")}: each gives access to whoever also holds keys of ${unwritten ? "at least " : ""}${t - outsiders.length} other group${t - outsiders.length === 1 ? "" : "s"}`);
  }
  // a stanza copied from an earlier group opens that group's share: it holds no share of its own group
  const shareStanzas = shareStanzasOfGroups(kg);
  const alone = members
    .map((m) => ({ m, held: shareStanzas.filter((g) => g.some((st) => keyId(st.recipient) === keyId(m.recipient))).length }))
    .filter(({ held }) => held < t);
  if (alone.length > 0) {
    parts.push(`${alone.map(({ m, held }) => `${m.name} (keys in ${held} of the ${unwritten ? "at least " : ""}${t} groups needed)`).join(", ")} cannot decrypt it alone`);
  }
  return (
    `the ${env} file uses sops.key_groups (Shamir secret sharing): ${n === 1 ? "one group, any key of which decrypts it" : unwritten ? `${n} groups, at least 2 of which decrypt it (no shamir_threshold is written: sops combines the shares of whatever groups open, and how many the split needs is not in the file)` : `${n} groups, any ${t} of which decrypt it`} (${described.join("; ")})` +
    `${parts.length > 0 ? `; ${parts.join("; ")}` : ""}; by labels only, which prove nothing without the keys; ` +
    "stellar.yaml's members each decrypt alone, and stellar-secrets does not manage key groups (rotate-key and members add/rm refuse this file): " +
    `keep it and manage its groups with sops, or re-create it for the members with one group (\`sops decrypt\`, then \`stellar-secrets set\` each value)` +
    (outsiders.length > 0 ? `; if the groups were changed without you: ${fix}` : "")
  );
}

const PUBLIC_KEY_LABEL = /^(?:age1[0-9a-z]+|ssh-ed25519 [A-Za-z0-9+/=]+(?: [\x21-\x7e]+)*)$/i;

/** A stanza label as a message may show it: a public key whole; any other text (a private key pasted as a label, escapes) not at all. */
function labelText(label: string): string {
  return PUBLIC_KEY_LABEL.test(label) ? label : "(a label that is no public key, not shown)";
}

/** {@link labelText}, a public key shortened. */
export function shownLabel(label: string): string {
  const text = labelText(label);
  return text === label && label.length > 24 ? `${label.slice(0, 20)}…` : text;
}
