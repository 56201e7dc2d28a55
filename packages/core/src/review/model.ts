/**
 * What an encrypted change does, told without keys (for `review`): per environment, the secrets
 * added, changed and removed (a value changed exactly when its ENC string changed, since values
 * are stored with stable ciphertext), a data-key rotation, the members and the age recipients
 * that gained or lost access, and the checker diagnostics the change introduces or that concern
 * the changed secrets. Pure: two {@link ReviewState}s in, a {@link ReviewReport} out. Never
 * reads, prints or fingerprints a plaintext value.
 */
import { createHash } from "node:crypto";
import { environmentFileName, normalizeSecretsDir, parseSecretsFile } from "@stellar-secrets/sops";
import type { Diagnostic } from "../diagnostics.js";
import type { ProjectConfig } from "../project.js";
import { RULES } from "../rules.js";
import type { EnvironmentFile } from "../secrets-dir.js";
import { diffVersions, type FileVersion } from "./history.js";
import type { ReviewState } from "./state.js";

/** A short, keyless fingerprint of a stored ENC string: the first 8 hex digits of its SHA-256. */
export function fingerprint(enc: string): string {
  return createHash("sha256").update(enc, "utf8").digest("hex").slice(0, 8);
}

/** One secret added, changed or removed in one environment. */
export interface SecretReview {
  name: string;
  change: "added" | "changed" | "removed";
  /** Fingerprint of the ENC string before / after (absent when there is none, or the value is not encrypted). */
  before?: string;
  after?: string;
}

/** A member (named in stellar.yaml) who gained or lost access. */
export interface MemberRef {
  name: string;
  recipient: string;
}

/** An age recipient of the file itself, with the member name when some stellar.yaml knows the key. */
export interface RecipientRef {
  recipient: string;
  member?: string;
}

/** Something that makes the change unsafe to merge (exit status 1). */
export interface ReviewProblem {
  kind: "plaintext" | "unrotated-removal" | "non-member-recipient" | "weakened-rule" | "checker-error";
  environment?: string;
  /** Where, relative to the project root (with a 1-based line when known). */
  file?: string;
  line?: number;
  message: string;
}

/** The review of one environment. */
export interface EnvironmentReview {
  environment: string;
  /** The environment file, relative to the project root. */
  file: string;
  /** What happened to the file as a whole. */
  fileChange: "added" | "removed" | "modified" | "unchanged";
  secrets: SecretReview[];
  /**
   * True when the data key was rotated: every kept ENC string changed and the data key was re-wrapped
   * for every recipient (an unchanged wrapped key proves the data key is the same).
   */
  dataKeyRotated: boolean;
  /** True when `dataKeyRotated` rests on one kept value only: a rotation, or that value changed and the key was re-wrapped. */
  rotationUncertain: boolean;
  /** Secrets re-encrypted when every kept value was (a rotation, or a plain sops edit): they may or may not have changed. */
  reencrypted: string[];
  /**
   * Members of the environment in stellar.yaml. `requested`: access requests (`pending:`) the
   * change adds — what it asks for, not a grant (always set by {@link buildReview}).
   */
  members: { gained: MemberRef[]; lost: MemberRef[]; keyChanged: { name: string; before: string; after: string }[]; requested?: MemberRef[] };
  /** Age recipients of the file (who can actually decrypt). */
  recipients: { gained: RecipientRef[]; lost: RecipientRef[] };
  /** False when the file at head is not a valid encrypted SOPS file (undefined when absent). */
  encrypted: boolean | undefined;
  problems: ReviewProblem[];
}

/** A checker diagnostic of the head state; `new` when the base state did not have it. */
export type ReviewDiagnostic = Diagnostic & { new: boolean };

/** The whole review. */
export interface ReviewReport {
  base: { label: string; commit: string | null };
  head: { label: string; commit: string | null };
  /** Environments with any change, in stellar.yaml order. */
  environments: EnvironmentReview[];
  /** Head diagnostics that are new, or that concern a secret added, changed or removed. */
  diagnostics: ReviewDiagnostic[];
  /** Every problem (also listed per environment when it belongs to one). */
  problems: ReviewProblem[];
  summary: { added: number; changed: number; removed: number; reencrypted: number; accessChanges: number; newErrors: number; problems: number };
  /** True when there is no problem (exit status 0). */
  clean: boolean;
}

const PLAINTEXT_RULES = new Set(["unencrypted-secrets-file", "plaintext-credential"]);

interface Side {
  path: string | undefined;
  model: EnvironmentFile | undefined;
  /** name → stored value (ENC string, or the raw text when the file is not valid SOPS). */
  version: FileVersion | undefined;
  /** Names whose value is an ENC string. */
  encryptedNames: Set<string>;
  /** Parses as an encrypted SOPS file. */
  sops: boolean;
  /** The file exists but its names cannot be read (not UTF-8, too large): its secrets are unknown, not absent. */
  unreadable: boolean;
}

function side(state: ReviewState, environment: string, config: ProjectConfig | undefined): Side {
  const model = state.index?.environmentFiles.get(environment);
  const path = model?.path ?? (config === undefined ? undefined : `${normalizeSecretsDir(config.secretsDir)}/${environmentFileName(environment)}`);
  const text = path === undefined ? undefined : state.readText(path);
  if (model === undefined || text === undefined || text === null || !model.readable) {
    const unreadable = model !== undefined && (text === null || !model.readable);
    return { path, model, version: undefined, encryptedNames: new Set(), sops: false, unreadable };
  }
  try {
    const file = parseSecretsFile(text, { path });
    return {
      path,
      model,
      version: { values: new Map(file.entries.map((e) => [e.name, e.raw])), stanzas: new Map(file.metadata.age.map((s) => [s.recipient.trim(), s.enc])) },
      encryptedNames: new Set(file.entries.filter((e) => e.encrypted).map((e) => e.name)),
      sops: true,
      unreadable: false,
    };
  } catch {
    // not valid SOPS (e.g. decrypted by hand): compare the stored text of each value, never show it
    const values = new Map(model.entries.map((e) => [e.name, text.slice(e.valueRange.start, e.valueRange.end)]));
    return { path, model, version: { values, stanzas: new Map() }, encryptedNames: new Set(model.entries.filter((e) => e.encrypted).map((e) => e.name)), sops: false, unreadable: false };
  }
}

/**
 * Whether a version re-encrypted every value it kept (`reencryptedAll`: every kept encrypted
 * string changed, and either at least two were kept or every wrapped data key changed too) and
 * whether that was a data-key rotation: a recipient whose wrapped key is unchanged proves the
 * data key is the same (a plain \`sops\` edit re-encrypts values under the same key), so a rotation
 * also re-wraps the key for every recipient. With one kept value a rotation cannot be told from a
 * value change plus a re-wrap (\`uncertain\`). Both versions must be encrypted SOPS files.
 */
function rotationOf(before: Side, after: Side): { reencryptedAll: boolean; dataKeyRotated: boolean; uncertain: boolean } {
  const none = { reencryptedAll: false, dataKeyRotated: false, uncertain: false };
  if (!before.sops || !after.sops || before.version === undefined || after.version === undefined) return none;
  const prev = before.version.values;
  const kept = [...after.version.values].filter(([n, v]) => v !== "" && (prev.get(n) ?? "") !== "");
  if (kept.length === 0 || kept.some(([n, v]) => prev.get(n) === v)) return none;
  const stanzas = [...after.version.stanzas];
  const rewrapped = stanzas.length > 0 && stanzas.every(([r, enc]) => before.version?.stanzas.get(r) !== enc);
  if (kept.length < 2 && !rewrapped) return none;
  return { reencryptedAll: true, dataKeyRotated: rewrapped, uncertain: rewrapped && kept.length < 2 };
}

/** Access requests of `environment` at head that the base did not have (same name and key). */
function requestsAdded(base: ProjectConfig | undefined, head: ProjectConfig | undefined, environment: string): MemberRef[] {
  const before = new Set((base?.environments.find((e) => e.name === environment)?.pending ?? []).map((r) => `${r.name}\u0000${r.recipient}`));
  return (head?.environments.find((e) => e.name === environment)?.pending ?? [])
    .filter((r) => !before.has(`${r.name}\u0000${r.recipient}`))
    .map((r) => ({ name: r.name, recipient: r.recipient }));
}

const diagnosticKey = (d: Diagnostic): string => `${d.rule}\u0000${d.file}\u0000${d.secret ?? ""}\u0000${d.message}`;

/**
 * Compares `base` with `head`. `renamed` maps a head path to the base path it was moved from
 * (git's rename detection), so that a diagnostic of a moved file is not counted as new.
 */
export function buildReview(base: ReviewState, head: ReviewState, renamed: ReadonlyMap<string, string> = new Map()): ReviewReport {
  const baseConfig = base.index?.project;
  const headConfig = head.index?.project;
  const whoIs = (recipient: string): string | undefined => {
    for (const config of [headConfig, baseConfig]) {
      for (const env of config?.environments ?? []) {
        const m = env.members.find((x) => x.recipient === recipient);
        if (m !== undefined) return m.name;
      }
    }
    return undefined;
  };

  const names: string[] = [];
  const addName = (n: string): void => {
    if (!names.includes(n)) names.push(n);
  };
  for (const e of headConfig?.environments ?? []) addName(e.name);
  for (const e of baseConfig?.environments ?? []) addName(e.name);
  for (const n of [...(head.index?.environmentFiles.keys() ?? []), ...(base.index?.environmentFiles.keys() ?? [])].sort()) addName(n);

  const environments: EnvironmentReview[] = [];
  const problems: ReviewProblem[] = [];
  const changedNames = new Set<string>();
  const summary = { added: 0, changed: 0, removed: 0, reencrypted: 0, accessChanges: 0, newErrors: 0, problems: 0 };

  for (const environment of names) {
    const before = side(base, environment, baseConfig ?? headConfig);
    const after = side(head, environment, headConfig ?? baseConfig);
    const file = after.path ?? before.path ?? environmentFileName(environment);
    const existedBefore = before.model !== undefined;
    const existsAfter = after.model !== undefined;
    const textBefore = before.path === undefined ? undefined : base.readText(before.path);
    const textAfter = after.path === undefined ? undefined : head.readText(after.path);
    const fileChange: EnvironmentReview["fileChange"] = !existedBefore && existsAfter ? "added" : existedBefore && !existsAfter ? "removed" : textBefore !== textAfter ? "modified" : "unchanged";

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
      secrets.push(s);
      summary[c.kind]++;
      changedNames.add(c.name);
    }
    if (rotation.reencryptedAll) summary.reencrypted++;

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
    const recipientsBefore = new Set(before.model?.recipients ?? []);
    const recipientsAfter = new Set(after.model?.recipients ?? []);
    const ref = (recipient: string): RecipientRef => {
      const member = whoIs(recipient);
      return member === undefined ? { recipient } : { recipient, member };
    };
    const recipients: EnvironmentReview["recipients"] = {
      gained: existsAfter ? [...recipientsAfter].filter((r) => !recipientsBefore.has(r)).map(ref) : [],
      lost: existsAfter ? [...recipientsBefore].filter((r) => !recipientsAfter.has(r)).map(ref) : [],
    };
    // one person counts once, whether stellar.yaml, the file or both changed for them
    const who = new Set([
      ...members.gained.map((m) => `+${m.name}`),
      ...members.lost.map((m) => `-${m.name}`),
      ...members.keyChanged.map((m) => `~${m.name}`),
      ...recipients.gained.map((r) => `+${r.member ?? r.recipient}`),
      ...recipients.lost.map((r) => `-${r.member ?? r.recipient}`),
    ]);
    summary.accessChanges += who.size;

    const envProblems: ReviewProblem[] = [];
    // a key that can no longer unwrap the data key still knows it unless the data key was rotated
    const storedAfter = [...(after.version?.values ?? new Map<string, string>())].filter(([n, v]) => v !== "" && after.encryptedNames.has(n));
    // a remaining recipient whose wrapped key is byte-for-byte the same proves the data key is the same, values or not
    const keptStanza = [...(after.version?.stanzas ?? new Map<string, string>())].find(([r, enc]) => before.version?.stanzas.get(r) === enc);
    const sameKeyProven = keptStanza !== undefined;
    if (existedBefore && existsAfter && (sameKeyProven || ((!dataKeyRotated || rotation.uncertain) && storedAfter.length > 0))) {
      for (const lost of recipients.lost) {
        const who = lost.member ?? lost.recipient;
        const unchanged = storedAfter.filter(([n, v]) => before.version?.values.get(n) === v).length;
        const fix = `run \`stellar-secrets rotate-key --env ${environment}\`, then change the values ${who} could read`;
        const proof = keptStanza === undefined ? "" : ` (${whoIs(keptStanza[0]) ?? keptStanza[0]}'s wrapped data key is unchanged: the data key is the same)`;
        envProblems.push({
          kind: "unrotated-removal",
          environment,
          file,
          message:
            dataKeyRotated && !sameKeyProven
              ? `${who} was removed from ${environment}, and with only one value kept a data-key rotation cannot be told from a changed value without a key: ` +
                `if the data key was not rotated, ${who} can still decrypt every value encrypted with it; make sure the change was made with \`stellar-secrets members rm\` or \`rotate-key\`, or ${fix}`
              : `${who} was removed from ${environment} but the data key was not rotated: ${who} can still decrypt ` +
                `${storedAfter.length === 0 ? "" : `values that are not changed (${unchanged} of ${storedAfter.length} here), and `}any value later encrypted with this data key${proof}; ${fix}`,
        });
      }
    }
    // a key that can decrypt the file but is no member of the environment (whatever stellar.yaml's `rules` say)
    const envAfter = headConfig?.environments.find((e) => e.name === environment);
    if (existsAfter && envAfter !== undefined) {
      const memberKeys = new Set(envAfter.members.map((m) => m.recipient));
      const baseMemberKeys = new Set((baseConfig?.environments.find((e) => e.name === environment)?.members ?? []).map((m) => m.recipient));
      const extraBefore = new Set([...recipientsBefore].filter((r) => !baseMemberKeys.has(r)));
      for (const r of recipientsAfter) {
        if (memberKeys.has(r) || extraBefore.has(r)) continue;
        const name = whoIs(r);
        const who = name === undefined ? r : `${name} (${r})`;
        envProblems.push({
          kind: "non-member-recipient",
          environment,
          file,
          line: after.model?.recipientsRange === undefined ? undefined : after.model.lines.positionAt(after.model.recipientsRange.start).line,
          message:
            `${who} can decrypt ${file} but is not a member of ${environment} in stellar.yaml: ` +
            (baseMemberKeys.has(r) && recipientsBefore.has(r)
              ? `they were removed from ${environment} but the file still opens for them; have an existing member re-key it without them (\`stellar-secrets rotate-key --env ${environment}\`), then rotate at their providers the values they could read`
              : `this change gave that key access, and recipient labels prove nothing, so do not grant it on this change's word: revert the change to ${file} ` +
                `(\`git checkout ${base.label} -- ${file}\`), or have an existing member of ${environment} re-key it from the base state (revert first, then \`stellar-secrets rotate-key --env ${environment}\`); ` +
                `a new member is added in a change of its own, by an existing member, with \`stellar-secrets members add\``),
        });
      }
    }
    // plaintext: the file's own encryption problems (at their default severity, whatever stellar.yaml says)
    const baseFileDiagnostics = new Set((before.model?.diagnostics ?? []).map(diagnosticKey));
    for (const d of after.model?.diagnostics ?? []) {
      if (d.rule !== "unencrypted-secrets-file" || baseFileDiagnostics.has(diagnosticKey(d))) continue;
      envProblems.push({ kind: "plaintext", environment, file: d.file, line: d.line, message: d.message });
    }

    const changed =
      fileChange !== "unchanged" || secrets.length > 0 || reencrypted.length > 0 || members.gained.length + members.lost.length + members.keyChanged.length + (members.requested?.length ?? 0) > 0;
    if (changed) {
      environments.push({
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
      });
    }
    problems.push(...envProblems);
  }

  // a change may not weaken the rules that judge it: report it, and judge it by the base's severities
  const baseUsable = base.index !== undefined && base.index.projectUsable && baseConfig !== undefined;
  if (baseUsable && headConfig !== undefined) {
    const rank = { off: 0, info: 1, warning: 2, error: 3 } as const;
    const configText = head.readText("stellar.yaml");
    const configLines = typeof configText === "string" ? configText.split("\n") : [];
    for (const rule of RULES) {
      const was = baseConfig.rules[rule.id] ?? rule.severity;
      const now = headConfig.rules[rule.id] ?? rule.severity;
      if (rank[now] >= rank[was]) continue;
      const at = configLines.findIndex((l) => new RegExp(`^\\s+["']?${rule.id}["']?\\s*:`).test(l));
      problems.push({
        kind: "weakened-rule",
        file: "stellar.yaml",
        ...(at === -1 ? {} : { line: at + 1 }),
        message: `stellar.yaml weakens rule ${rule.id} from ${was} to ${now}: a change cannot lower the checks that review it; make that change on its own, reviewed separately`,
      });
    }
  }
  const headDiagnostics = baseUsable ? head.checkWith(baseConfig.rules) : head.diagnostics;
  const nonMemberFiles = new Set(problems.filter((p) => p.kind === "non-member-recipient").map((p) => p.file));

  // checker diagnostics at head: new ones, and those about a changed secret or file
  const baseCounts = new Map<string, number>();
  for (const d of base.diagnostics) baseCounts.set(diagnosticKey(d), (baseCounts.get(diagnosticKey(d)) ?? 0) + 1);
  const diagnostics: ReviewDiagnostic[] = [];
  const seenProblems = new Set(problems.filter((p) => p.kind === "plaintext").map((p) => `${p.file}\u0000${p.message}`));
  for (const d of headDiagnostics) {
    const from = renamed.get(d.file);
    const key = diagnosticKey(from === undefined ? d : { ...d, file: from });
    const count = baseCounts.get(key) ?? 0;
    const isNew = count === 0;
    if (!isNew) baseCounts.set(key, count - 1);
    if (!isNew && !(d.secret !== undefined && changedNames.has(d.secret))) continue;
    diagnostics.push({ ...d, new: isNew });
    if (!isNew || d.severity !== "error") continue;
    summary.newErrors++;
    if (seenProblems.has(`${d.file}\u0000${d.message}`)) continue;
    if (d.rule === "recipient-drift" && nonMemberFiles.has(d.file)) continue; // already a non-member-recipient problem
    problems.push({ kind: PLAINTEXT_RULES.has(d.rule) ? "plaintext" : "checker-error", file: d.file, line: d.line, message: `${d.rule}: ${d.message}` });
  }
  summary.problems = problems.length;
  return {
    base: { label: base.label, commit: base.commit ?? null },
    head: { label: head.label, commit: head.commit ?? null },
    environments,
    diagnostics,
    problems,
    summary,
    clean: problems.length === 0,
  };
}
