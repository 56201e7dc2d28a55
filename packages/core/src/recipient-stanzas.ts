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
import type { ProjectConfig } from "./project.js";
import type { EnvironmentFile } from "./secrets-dir.js";

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
  const fallback = file.recipientsRange;
  if (stanzas === undefined || fallback === undefined) return [];
  const env = file.environment;
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
    return "not a member of any environment";
  };
  const fix =
    `revert the change that made it (\`git log -p -- ${file.path}\` shows it), then have an existing member of ${env} run ` +
    `\`stellar-secrets rotate-key --env ${env}\` once stellar.yaml lists only the members you expect (it wraps a new data key for exactly those), ` +
    "and rotate at their providers the values the unknown key could read";
  const out: RecipientStanzaProblem[] = [];
  for (const other of file.otherMasterKeys ?? []) {
    const what = other.type === "key_groups" ? `${other.count} key group${other.count === 1 ? "" : "s"}` : `${other.count} key${other.count === 1 ? "" : "s"}`;
    out.push({
      range: other.range ?? fallback,
      message:
        other.type === "key_groups"
          ? `the ${env} file's sops.key_groups holds ${what} besides its age stanzas: sops decrypts with the keys of the groups when the top-level lists are empty, ` +
            `and stellar-secrets refuses to decrypt a file with key groups; stellar.yaml's members are age or ssh keys of one list only; ${fix}`
          : `the ${env} file's sops.${other.type} holds ${what} besides its age stanzas: sops decrypts the file with any of them, but stellar.yaml's members ` +
            `are age or ssh keys only, so whoever holds that key is not a member and can read every value; ${fix}`,
    });
  }
  const seen = new Map<string, number>();
  // each honest wrapping has an ephemeral share of its own: the same header under another label is a copy
  const headers = new Map<string, string>();
  stanzas.forEach((stanza, i) => {
    const range = stanza.range ?? fallback;
    const label = `the age stanza labelled ${stanza.recipient} (${whoIs(stanza.recipient)})`;
    const count = (seen.get(keyId(stanza.recipient)) ?? 0) + 1;
    seen.set(keyId(stanza.recipient), count);
    if (count === 2) {
      const total = stanzas.filter((s) => keyId(s.recipient) === keyId(stanza.recipient)).length;
      out.push({
        range,
        message:
          `the ${env} file has ${total} age stanzas labelled ${stanza.recipient} (${whoIs(stanza.recipient)}): labels are not proof of who can decrypt ` +
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
    if (owner === undefined) headers.set(header, stanza.recipient);
    else if (owner !== stanza.recipient && count === 1) {
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
  return out;
}
