/**
 * What an encrypted change does, told without keys (for `review`): per environment, the secrets
 * added, changed and removed (a value changed exactly when its ENC string changed, since values
 * are stored with stable ciphertext), a data-key rotation, the members and the age recipients
 * that gained or lost access, and the checker diagnostics the change introduces or that concern
 * the changed secrets. Pure: two {@link ReviewState}s in, a {@link ReviewReport} out. Never
 * reads, prints or fingerprints a plaintext value.
 */
import { posix } from "node:path";
import { diffReferences, type ReferenceChange } from "./references.js";
import { newDestinations, secretDestinations } from "./destinations.js";
import { ciphertextIdentity, isSameKey, commentOfLine, createHash, DEFAULT_SECRETS_DIR, environmentFileName, environmentOfFileName, normalizeRecipient, keyGroupsThresholdText, normalizeSecretsDir, parseSecretsFile, readKeyGroups, type FlatComments, type SecretsFile } from "@stellar-secrets/sops";
import { diffComments, type CommentChange } from "./comments.js";
import { checkWorkspace } from "../check.js";
import type { Diagnostic } from "../diagnostics.js";
import { parseProjectConfig, pendingRequestConflict, PROJECT_FILE, type ProjectConfig } from "../project.js";
import { checkSopsConfigs, SOPS_CONFIG_FILE, sopsConfigCandidates } from "../sops-config.js";
import { sopsRuleGroupsChanges } from "./sops-rules.js";
import { diffProposals, type ProposalReview } from "../proposals.js";
import { RULES } from "../rules.js";
import { commentCredentials, credentialAsName, credentialLines } from "../credentials.js";
import { GlobFilter } from "../globs.js";
import { parseEnvironmentFile, shareStanzasOfGroups, type EnvironmentFile } from "../secrets-dir.js";
import type { IndexedCatalog, WorkspaceIndex } from "../workspace.js";
import { durationDays } from "./rotation.js";
import { matchBaseline } from "./baseline.js";
import { textLines } from "../position.js";
import { diffVersions, type FileVersion } from "./history.js";
import { collisionKind, foldedStandIns, pathCollisions, pathOpenedAs } from "./paths.js";
import { keyLeftBehind, retiredDataKey, sharedCiphertext, type EarlierVersion, type PathVersion } from "./retired-key.js";
import { reviewSignatures, type SignaturesReview, type SignedCommit } from "./signatures.js";
import { EVERY_CONFIG_FILE, type ReviewState } from "./state.js";
import { runsGate, type GateFileChange } from "./gate.js";
import { DEV_CONTAINER_HOST_FIELDS, editorOfSettings, editorSettingsChanges } from "./editor-settings.js";
import { exportIgnored, exportSubstituted, rewrittenCheckout, weakenedDiffDriver, weakenedMergeDriver } from "./gitattributes.js";
import type { EnvironmentVerification } from "./verify.js";
import { findingWording, messageRewording, type FindingWording } from "./wording.js";

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
  /**
   * For a secret added or changed: the commit of an earlier version (the base's history, not the
   * base) that stored exactly this ciphertext under this name, so the value is the one it had then
   * (a restore, a `git revert`, a rollback to an older credential). Absent otherwise.
   */
  restoredFrom?: string;
}

/** A member (named in stellar.yaml) who gained or lost access. */
export interface MemberRef {
  name: string;
  recipient: string;
  /** An access request only: why `members approve` would refuse it ("but bob is a member of development with another key …"). */
  refused?: string;
  /**
   * Only on a gained member: the key is one a member had under another name, the same key or the
   * same X25519 key written the other way (an `ssh-ed25519` key and its `age1…` form, as
   * `ssh-to-age` makes it). `lostHere`: that member is removed by this change (the person keeps
   * access under the new name: not a loss); otherwise they left before the base, in an earlier
   * `stellar.yaml` of its history (a member who left, back under another name).
   */
  sameKeyAs?: { name: string; recipient: string; lostHere: boolean };
}

/** An age recipient of the file itself, with the member name when some stellar.yaml knows the key. */
export interface RecipientRef {
  recipient: string;
  member?: string;
  /**
   * Only without `member`: the member name an earlier `stellar.yaml` of the base's history gave
   * this key ({@link ReviewInputs.earlierProjects}), e.g. someone removed before the base: not a
   * member now, but the reviewer learns whose key it was.
   */
  formerMember?: string;
  /**
   * Only in `recipients.lost`: the label held a key group's share in the base and could not decrypt
   * alone (in fewer groups than the threshold): `threshold` of the base's `groups` decrypt together
   * (`threshold` absent when the base's groups cannot be read as a threshold; `thresholdWritten`
   * false when the base wrote no `shamir_threshold`: then at least `threshold`). Absent otherwise.
   */
  heldShare?: { threshold?: number; thresholdWritten?: false; groups: number };
}

/**
 * Something that makes the change unsafe to merge (exit status 1); the same shape for a warning
 * ({@link ReviewReport.warnings}: reported, exit status 0).
 */
export interface ReviewProblem {
  kind: "plaintext" | "unrotated-removal" | "non-member-recipient" | "weakened-rule" | "checker-error" | "rewrapped-without-rotation" | "tampered" | "unsigned-change" | "credential-destination" | "key-groups-change";
  environment?: string;
  /** Where, relative to the project root (with a 1-based line when known). */
  file?: string;
  line?: number;
  /**
   * The commit it is about (full id): for `unsigned-change` the unsigned commit; for an
   * `unrotated-removal` that brings back a retired data key, the commit whose version had it; for one
   * whose data key a commit of the range wrapped for a stanza the head no longer has, that commit.
   */
  commit?: string;
  message: string;
  /**
   * The {@link ReviewCause.id} of the one cause this problem shares with others (a member removed
   * from stellar.yaml by hand: each file that still opens for them and each `.sops.yaml` rule that
   * still names them is a problem of its own). Text and Markdown show the cause once; every problem
   * still counts for the exit status. Absent for a problem with a cause of its own.
   */
  cause?: string;
}

/**
 * One cause behind several problems ({@link ReviewProblem.cause}), told once: what happened,
 * where (`files`: each file the problems are in, in their order), and the fix.
 */
export interface ReviewCause {
  /** Stable within the report: `member-removed-by-hand:NAME`. */
  id: string;
  /** `member-removed-by-hand`: a member deleted from stellar.yaml by editing it, whose key still opens the environments' files. */
  kind: "member-removed-by-hand";
  /** The member's name in the base. */
  member: string;
  /** Their key. */
  recipient: string;
  /** The environments whose file still opens for them. */
  environments: string[];
  /** The files of the problems (environment files, then `.sops.yaml`), project-relative. */
  files: string[];
  /** How many problems it explains. */
  problems: number;
  message: string;
}
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
  /**
   * The commit of an earlier version of the file (the base's history) whose data key the head uses
   * again, a key the base no longer used: the data key changed, but to a retired one, which is no
   * rotation (an `unrotated-removal` problem says who could decrypt it). Absent otherwise.
   */
  dataKeyRestoredFrom?: string;
  /** Secrets re-encrypted when every kept value was (a rotation, or a plain sops edit): they may or may not have changed. */
  reencrypted: string[];
  /**
   * True when `review --verify` decrypted both versions (see `withVerification`): `dataKeyRotated`
   * is then what the data keys show (`rotationUncertain` false), `reencrypted` holds only the
   * names whose value is the same, and the re-encrypted names whose value changed are in `secrets`
   * as changed. Absent without a verification of this environment.
   */
  verified?: boolean;
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
  /**
   * The 1-based lines of comments the head's file has in clear text that the base's did not
   * (not encrypted, and no MAC covers a comment: one written by hand may hold a
   * secret). Absent when there is none.
   */
  clearComments?: number[];
  /**
   * Encrypted comments (`#ENC[…,type:comment]`) the change added, removed or changed, by place
   * (keyless: never their text; see `diffComments`). Absent when there is none.
   */
  comments?: CommentChange[];
  /**
   * Recipients (stanza labels, which prove nothing) of a version of this environment's file that a
   * commit of the range wrote, that neither the base's nor the head's file has: access given and
   * taken away again inside the change (`members add` then `members rm`). Whoever they were could
   * read `secrets`, the values that version held, when it was pushed; a rotation at the end does not
   * take that back. The first commit that had each. `member`: the name the base's or head's
   * stellar.yaml gives the key, else a stellar.yaml of the range (that commit's first). Absent when there is none.
   */
  exposedDuring?: { recipient: string; member?: string; commit: string; secrets: string[] }[];
}

/** A checker diagnostic of the head state; `new` when the base state did not have it. */
export type ReviewDiagnostic = Diagnostic & { new: boolean };

/** One environment file as another merge base has it, compared per secret with the compared base's ({@link ReviewReport.mergeBasesSecrets}). */
export interface MergeBaseSecrets {
  /** The other merge base (a full commit id). */
  base: string;
  environment: string;
  /** Relative to the project root. */
  file: string;
  /** Sorted by name; absent when a version is not a readable SOPS file. */
  secrets?: { name: string; change: "added" | "changed" | "removed" | "re-encrypted" }[];
}

/** The whole review. */
export interface ReviewReport {
  base: { label: string; commit: string | null };
  head: { label: string; commit: string | null };
  /**
   * `review A...B` on a criss-cross history: every merge base of A and B (`git merge-base --all`),
   * the one compared with (`base.commit`) first. Absent when there is one (the usual case).
   */
  mergeBases?: string[];
  /**
   * With {@link mergeBases}: the project's files whose content differs between the compared base
   * and another merge base (sorted; empty when none does). A value set there on another base is
   * compared as if this change made it, or its change is hidden; nothing else can differ.
   */
  mergeBasesDiffer?: string[];
  /**
   * With {@link mergeBases}: each environment file of {@link mergeBasesDiffer} compared per secret,
   * without a key, from the compared base to another merge base (`base`), so that a reviewer sees
   * what that base brings: `added` (only that base has the name), `removed` (only the compared
   * base has it), `changed` (another stored value there), `re-encrypted` (that base re-encrypted
   * every value: whether a value also differs cannot be told without a key). `secrets` is absent
   * when a version there is not a readable SOPS file. Absent when no environment file differs.
   */
  mergeBasesSecrets?: MergeBaseSecrets[];
  /** Environments with any change, in stellar.yaml order. */
  environments: EnvironmentReview[];
  /** Head diagnostics that are new, or that concern a secret added, changed or removed. */
  diagnostics: ReviewDiagnostic[];
  /** Every problem (also listed per environment when it belongs to one and the environment is listed). */
  problems: ReviewProblem[];
  /** Findings that do not fail the review (exit status 0): `unsigned-change` where not every member can sign; `weakened-rule` for environment files taken off the `diff=stellar` view. */
  warnings: ReviewProblem[];
  /** The commits of the range that change an environment, and their signatures as judged against the base's members. */
  signatures: SignaturesReview;
  /**
   * Counts. `added`, `changed`, `removed`: values (one per environment a secret changed in);
   * `secretsAdded`, `secretsChanged`, `secretsRemoved`: distinct secret names (a secret added to
   * two environments is 2 added, 1 in `secretsAdded`; see {@link secretCounts}).
   */
  summary: {
    added: number;
    changed: number;
    removed: number;
    secretsAdded: number;
    secretsChanged: number;
    secretsRemoved: number;
    reencrypted: number;
    accessChanges: number;
    newErrors: number;
    problems: number;
    warnings: number;
  };
  /** Causes that explain several problems each (see {@link ReviewProblem.cause}); absent when there is none. */
  causes?: ReviewCause[];
  /** True when there is no problem (exit status 0). */
  clean: boolean;
  /** The keyed verification per changed environment (`review --verify` only; see {@link withVerification}). */
  verification?: EnvironmentVerification[];
  /** Write-only proposals (inbox files) the change adds or removes, keyless (always set by {@link buildReview}). */
  proposals?: ProposalReview[];
  /** References to secrets the change adds to or removes from the config files ({@link diffReferences}; always set by {@link buildReview}). */
  references?: ReferenceChange[];
  /**
   * Config files the base has that the change edits, and that reference secrets whose value the
   * change adds or changes in some environment (sorted): the reviewer checks the new value fits
   * the edited file (a new key for a new endpoint). Always set by {@link buildReview}.
   */
  configEdited?: { file: string; secrets: string[] }[];
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
  /** Every age stanza in file order (labels may repeat: `version.stanzas` keeps one per label). */
  stanzaList: { recipient: string; enc: string }[];
  /** The stored (encrypted) MAC; "" when the file is not valid SOPS. */
  mac: string;
  /** The file's comments (valid SOPS files only), where sops places them. */
  comments?: FlatComments;
}

function side(state: ReviewState, environment: string, config: ProjectConfig | undefined): Side {
  const model = state.index?.environmentFiles.get(environment);
  const path = model?.path ?? (config === undefined ? undefined : `${normalizeSecretsDir(config.secretsDir)}/${environmentFileName(environment)}`);
  const text = path === undefined ? undefined : state.readText(path);
  if (model === undefined || text === undefined || text === null || !model.readable) {
    const unreadable = model !== undefined && (text === null || !model.readable);
    return { path, model, version: undefined, encryptedNames: new Set(), sops: false, unreadable, stanzaList: [], mac: "" };
  }
  try {
    const file = parseSecretsFile(text, { path });
    return {
      path,
      model,
      // values by ciphertext identity (an ENC string's unauthenticated `type` does not make it another value),
      // stanzas by envelope (a YAML block style or re-indent does not make it another wrapping); a
      // key-groups file's are its groups' (each wraps a share of the data key, or the key itself with one group)
      version: {
        values: new Map(file.entries.map((e) => [e.name, ciphertextIdentity(e.raw)])),
        stanzas: new Map([...file.metadata.age, ...groupStanzas(file)].map((s) => [s.recipient.trim(), envelopeOf(s.enc)])),
      },
      encryptedNames: new Set(file.entries.filter((e) => e.encrypted).map((e) => e.name)),
      sops: true,
      unreadable: false,
      stanzaList: file.metadata.age.map((a) => ({ recipient: a.recipient.trim(), enc: a.enc })),
      mac: ciphertextIdentity(file.metadata.mac),
      ...(file.comments === undefined ? {} : { comments: file.comments }),
    };
  } catch {
    // not valid SOPS (e.g. decrypted by hand): compare the stored text of each value, never show it
    const values = new Map(model.entries.map((e) => [e.name, text.slice(e.valueRange.start, e.valueRange.end)]));
    return { path, model, version: { values, stanzas: new Map() }, encryptedNames: new Set(model.entries.filter((e) => e.encrypted).map((e) => e.name)), sops: false, unreadable: false, stanzaList: [], mac: "" };
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
  // a key-groups file's stanzas (each wraps a share, or the whole key in a one-group file), by their age headers
  const groupHeaders = (s: Side) => (s.model?.keyGroups?.groups ?? []).flatMap((g) => g.stanzas.filter((st) => st.envelope.ok).map((st) => JSON.stringify(st.envelope)));
  const groupsAfter = groupHeaders(after);
  const groupsBefore = new Set(groupHeaders(before));
  const rewrapped =
    stanzas.length + groupsAfter.length > 0 && stanzas.every(([r, enc]) => before.version?.stanzas.get(r) !== enc) && groupsAfter.every((h) => !groupsBefore.has(h));
  if (kept.length < 2 && !rewrapped) return none;
  return { reencryptedAll: true, dataKeyRotated: rewrapped, uncertain: rewrapped && kept.length < 2 };
}

/** The age stanzas of a file's key groups, in group order (none without key groups, or when the readers refuse them). */
function groupStanzas(file: SecretsFile): { recipient: string; enc: string }[] {
  try {
    return (readKeyGroups(file.metadata)?.groups ?? []).flatMap((g) => g.age);
  } catch {
    return [];
  }
}

/** An envelope's text without its line breaks and indentation (a YAML re-indent is not a new wrapping). */
const envelopeOf = (enc: string): string => enc.replace(/\s+/g, "");

/**
 * What proves, without a key, that `after` uses the same data key as `before` (undefined when
 * nothing does): a value whose encrypted string is byte-for-byte the same (only that data key
 * decrypts it), the same encrypted MAC, or a recipient whose wrapped data key is the same.
 * Both sides must be valid SOPS files.
 */
export function sameDataKeyProof(
  before: { values: ReadonlyMap<string, string>; stanzas: readonly { recipient: string; enc: string }[]; mac: string },
  after: { values: ReadonlyMap<string, string>; stanzas: readonly { recipient: string; enc: string }[]; mac: string },
  nameOf: (recipient: string) => string | undefined = () => undefined,
): string | undefined {
  const same = [...after.values].filter(([n, v]) => v.startsWith("ENC[") && before.values.get(n) === v).map(([n]) => n);
  if (same.length > 0) return `the encrypted value of ${same[0]}${same.length > 1 ? ` (and ${same.length - 1} more)` : ""} is byte-for-byte the same`;
  if (after.mac !== "" && after.mac === before.mac) return "the encrypted MAC is byte-for-byte the same";
  const kept = after.stanzas.find((s) => before.stanzas.some((b) => b.recipient === s.recipient && envelopeOf(b.enc) === envelopeOf(s.enc)));
  if (kept !== undefined) return `${nameOf(kept.recipient) ?? kept.recipient}'s wrapped data key is unchanged`;
  return undefined;
}

/** An age stanza that a change wrapped anew while the data key stayed the same. */
export interface Rewrap {
  /** The `recipient` label of the stanza (which proves nothing). */
  recipient: string;
  /**
   * `replaced`: the label's wrapped key changed; `added`: another stanza appeared under a label
   * that already had one; `duplicate`: a label new in this change appears more than once.
   */
  how: "replaced" | "added" | "duplicate";
  /** The new stanza's armored envelope (to locate it in the file). */
  enc: string;
}

/**
 * The stanzas of `after` wrapped anew under labels that do not account for them, when the data
 * key did not change: under a label `before` had, any envelope `before` did not have (the label
 * stays, so who can decrypt it is unknown); under a new label, a second stanza. A stanza under a
 * new label on its own is an access change (`members add`), not a re-wrap. One per label, in
 * file order. Pure and keyless; the caller decides that the data key is the same.
 */
export function rewrapsOf(before: readonly { recipient: string; enc: string }[], after: readonly { recipient: string; enc: string }[]): Rewrap[] {
  const was = new Map<string, string[]>();
  for (const s of before) was.set(s.recipient, [...(was.get(s.recipient) ?? []), envelopeOf(s.enc)]);
  const now = new Map<string, string[]>();
  for (const s of after) now.set(s.recipient, [...(now.get(s.recipient) ?? []), envelopeOf(s.enc)]);
  const out: Rewrap[] = [];
  const seen = new Map<string, number>();
  for (const s of after) {
    const count = (seen.get(s.recipient) ?? 0) + 1;
    seen.set(s.recipient, count);
    if (out.some((r) => r.recipient === s.recipient)) continue;
    const old = was.get(s.recipient);
    if (old === undefined) {
      if (count > 1) out.push({ recipient: s.recipient, how: "duplicate", enc: s.enc });
      continue;
    }
    if (old.includes(envelopeOf(s.enc))) continue;
    const keptAll = old.every((e) => (now.get(s.recipient) ?? []).includes(e));
    out.push({ recipient: s.recipient, how: keptAll ? "added" : "replaced", enc: s.enc });
  }
  return out;
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

/** Paths in a message: "a", "a and b", "a, b and c". */
const humanPaths = (paths: readonly string[]): string => (paths.length <= 1 ? paths.join("") : `${paths.slice(0, -1).join(", ")} and ${paths.at(-1)}`);

/** A recipient shortened for a message (`age1abcd…wxyz`). */
const counted = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;
const shortKey = (recipient: string): string => (recipient.length > 20 ? `${recipient.slice(0, 10)}…${recipient.slice(-6)}` : recipient);

/** {@link ReviewReport.configEdited}: the head's config files that differ from their base version and reference a secret set anew. */
function editedConfigOf(
  base: ReviewState,
  head: ReviewState,
  renamed: ReadonlyMap<string, string>,
  environments: readonly EnvironmentReview[],
  references: readonly ReferenceChange[],
): { file: string; secrets: string[] }[] {
  const setAnew = new Set(environments.flatMap((e) => e.secrets.filter((s) => s.change !== "removed").map((s) => s.name)));
  if (setAnew.size === 0 || head.index === undefined) return [];
  // a reference the change adds is listed as such already (a rename's moved one too)
  const listed = new Set(references.filter((r) => r.change === "added").map((r) => `${r.file}\u0000${r.secret}`));
  const byFile = new Map<string, Set<string>>();
  for (const r of head.index.allReferences()) {
    if (!setAnew.has(r.secret) || listed.has(`${r.file}\u0000${r.secret}`)) continue;
    const before = base.readText(renamed.get(r.file) ?? r.file);
    if (before === undefined || before === head.readText(r.file)) continue;
    const names = byFile.get(r.file) ?? new Set<string>();
    names.add(r.secret);
    byFile.set(r.file, names);
  }
  return [...byFile].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([file, names]) => ({ file, secrets: [...names].sort() }));
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

/** Checker rules about a reference whose secret has no value where it is used. */
const REFERENCE_RULES: ReadonlySet<string> = new Set(["unknown-secret", "missing-environment-value"]);

/** "a", "a and b", "a, b and c" */
const listed = (items: readonly string[]): string => (items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`);

/** The 1-based line of a stanza in a file's text (its `recipient:` line, found through its envelope), else the recipients block's line. */
function stanzaLine(side: Side, text: string | null | undefined, enc: string): number | undefined {
  const lines = side.model?.lines;
  if (lines === undefined) return undefined;
  const body = enc.split("\n").map((l) => l.trim()).find((l) => l !== "" && !l.startsWith("-----"));
  const at = typeof text === "string" && body !== undefined ? text.indexOf(body) : -1;
  if (at !== -1) return lines.positionAt(Math.max(0, (text as string).lastIndexOf("recipient:", at))).line;
  return side.model?.recipientsRange === undefined ? undefined : lines.positionAt(side.model.recipientsRange.start).line;
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

/** What else a review takes, beyond the two states. */
export interface ReviewInputs {
  /**
   * The commits of the range that change an environment ({@link readCommitTouches}) with their
   * signatures as the caller verified them against the base's members; undefined when there are
   * no commits to verify (the head is the working tree or the index): `signatures.checked` false.
   */
  signatures?: readonly SignedCommit[];
  /**
   * More committed versions the head's environment files are compared with for `stale-mac`
   * (besides the base): e.g. each parent of a merge commit at head, so a hand-merged file is caught
   * against the side whose `mac` it kept. Each reader gives a file's text (project-relative path).
   */
  committedAlso?: readonly ((rel: string) => string | null | undefined)[];
  /**
   * The head's symbolic links (project-relative path → where it points), when known. git stores a
   * link as its target, so a state has no environment file where the file is a link, while a
   * checkout's `get`, `exec` and the resolver read whatever the link points to.
   */
  headLinks?: ReadonlyMap<string, string>;
  /**
   * The head's git submodules (gitlinks: project-relative path → the commit it records), when
   * known. git stores no file there: a clone has an empty folder, and `--recurse-submodules` puts
   * another repository's files in its place.
   */
  headSubmodules?: ReadonlyMap<string, string>;
  /**
   * Earlier committed versions of each environment file from the base's history, newest first
   * (project-relative path → versions; the base's own version need not be left out): a head that
   * brings back a data key the base had retired is `unrotated-removal` ({@link retiredDataKey}).
   */
  earlierVersions?: ReadonlyMap<string, readonly EarlierVersion[]>;
  /**
   * Earlier committed versions of `stellar.yaml` from the base's history, newest first: a key that
   * neither side's `stellar.yaml` names is told by the member name one of them gave it
   * ({@link RecipientRef.formerMember}, and the checker's "not a member of any environment").
   * Names only: nothing is judged from them.
   */
  earlierProjects?: readonly EarlierVersion[];
  /**
   * Every version of a YAML file of the project (environment files at any path, stellar.yaml, the
   * catalog, config files) that the commits of the range wrote, oldest first, when known: an
   * environment file's version that wrapped the head's data key for a key the head has no stanza for
   * (a member added, then reverted or cut out again in a later commit) is `unrotated-removal`
   * ({@link keyLeftBehind}; the base's files of environments the head no longer has, renamed, are
   * compared likewise without it); one that held a recipient neither side has is
   * {@link EnvironmentReview.exposedDuring}; a value or a well-known credential in clear text that a
   * later commit took out again is `plaintext`.
   */
  rangeVersions?: readonly PathVersion[];
  /**
   * Every file of the head and of the base below the project root (project-relative, as git stores
   * them), when known: two that fold to one name on a case-insensitive or normalising checkout
   * (macOS, Windows) are a `weakened-rule` when the base did not have them ({@link pathCollisions}).
   */
  headPaths?: readonly string[];
  basePaths?: readonly string[];
  /**
   * The files of the CI gate that differ between base and head (gate.ts: the workflow files
   * `.github/workflows/*`, the local actions, anywhere, and the repository's scripts, package.json
   * scripts and Makefiles they run; paths relative to the project root), with each side's text
   * (undefined: absent on that side), when known: one that runs `stellar-secrets` on either side,
   * or runs a file that does (`usesGate`), is a `weakened-rule` ({@link gateWorkflowChanges}).
   */
  workflows?: readonly GateFileChange[];
  /**
   * The editor settings files (`.vscode/settings.json`, `.vscode/tasks.json`, `*.code-workspace`, a dev container's
   * `devcontainer.json`, anywhere: `EDITOR_SETTINGS_PATHSPECS`; paths relative to the project
   * root) that differ between base and head, each side's text: one whose `stellarSecrets` settings
   * or tasks that run on folder open change is a `weakened-rule` ({@link editorSettingsChanges}).
   */
  editorSettings?: readonly { path: string; before: string | undefined; after: string | undefined }[];
  /**
   * For a project below the top of the work tree: its folder there (`GitSource.prefix`,
   * `/`-separated) and, at the base and at the head, the text of each `.gitattributes`,
   * `.sops.yaml` and `stellar.yaml` of the folders above the project root (path relative to the
   * top → text; a `stellar.yaml` new there is a `weakened-rule`: the project it makes contains this one). git
   * reads every `.gitattributes` from the top down (and macros only from the top's), and plain sops
   * run from a folder above the root reads the `.sops.yaml` found there, so these decide what
   * happens to the project's files as much as its own do. Absent: the root is the top (or not known).
   */
  aboveRoot?: {
    prefix: string;
    base: ReadonlyMap<string, string>;
    head: ReadonlyMap<string, string>;
    /** A `.sops.yaml` there that is a symbolic link out of the repository, per side (path relative to the top → its target): git holds no file for it, check and the hook refuse it. */
    baseOutside?: ReadonlyMap<string, string>;
    headOutside?: ReadonlyMap<string, string>;
  };
  /**
   * The project's folder relative to where review runs, for a project nested in the reviewed one
   * (`teams/labs`): every path and stellar-secrets command in the findings' messages (the review's
   * own and the checker's) is then worded for a reader there ({@link findingWording}), while the
   * structured fields (`file`, …) stay project-relative. Absent: worded as they are.
   */
  folder?: string;
}

/**
 * The `.gitattributes` of a review's two states as git reads them for the project's files: in the
 * paths of the work tree's top (`at` turns a project-relative path into one) when the project lies
 * below it ({@link ReviewInputs.aboveRoot}: the files of the folders above the root read too), else
 * project-relative. `found` turns a finding's `file` and `paths` back into project-relative paths
 * (`../.gitattributes` for a file above the root; a finding without a deciding line keeps the
 * project's `.gitattributes`, where the fix goes). Pure.
 */
function attributesView(
  base: ReviewState,
  head: ReviewState,
  above: ReviewInputs["aboveRoot"],
): {
  readBase: (rel: string) => string | null | undefined;
  readHead: (rel: string) => string | null | undefined;
  at: (rel: string) => string;
  found: <T extends { file: string; line?: number; paths: string[] }>(finding: T | undefined) => T | undefined;
} {
  if (above === undefined || above.prefix === "") {
    return { readBase: (rel) => base.readText(rel), readHead: (rel) => head.readText(rel), at: (rel) => rel, found: (f) => f };
  }
  const below = `${above.prefix}/`;
  const reader =
    (state: ReviewState, outer: ReadonlyMap<string, string>) =>
    (rel: string): string | null | undefined =>
      rel.startsWith(below) ? state.readText(rel.slice(below.length)) : outer.get(pathOpenedAs(outer.keys(), rel) ?? rel);
  // (a file above the root under its own name: `../.GitAttributes` read as `../.gitattributes`)
  const back = (rel: string): string => posix.relative(above.prefix, rel.startsWith(below) ? rel : (pathOpenedAs(above.head.keys(), rel) ?? pathOpenedAs(above.base.keys(), rel) ?? rel));
  return {
    readBase: reader(base, above.base),
    readHead: reader(head, above.head),
    at: (rel) => `${below}${rel}`,
    found: (f) => (f === undefined ? undefined : { ...f, file: f.line === undefined ? ".gitattributes" : back(f.file), paths: f.paths.map(back) }),
  };
}

/**
 * Compares `base` with `head`. `renamed` maps a head path to the base path it was moved from
 * (git's rename detection), so that a diagnostic of a moved file is not counted as new.
 * `inputs.signatures` adds the `unsigned-change` findings ({@link reviewSignatures}).
 */
export function buildReview(base: ReviewState, head: ReviewState, renamed: ReadonlyMap<string, string> = new Map(), inputs: ReviewInputs = {}): ReviewReport {
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

  // a key neither side names: the stellar.yaml of a commit inside the change may (a member added,
  // then removed again): that commit's version first, else the range's others, newest first
  let rangeProjects: { commit: string; config: ProjectConfig | undefined }[] | undefined;
  const whoWasIn = (recipient: string, commit: string): string | undefined => {
    rangeProjects ??= (inputs.rangeVersions ?? [])
      .filter((v) => v.path === PROJECT_FILE)
      .map((v) => ({ commit: v.commit, config: parseProjectConfig(v.text, v.path).config }))
      .reverse();
    for (const v of [...rangeProjects.filter((x) => x.commit === commit), ...rangeProjects.filter((x) => x.commit !== commit)]) {
      for (const env of v.config?.environments ?? []) {
        const m = env.members.find((x) => x.recipient === recipient);
        if (m !== undefined) return m.name;
      }
    }
    return undefined;
  };

  // a key neither side names, by the name an earlier stellar.yaml of the base's history gave it (newest first)
  let earlierMembers: Map<string, string> | undefined;
  const whoWasEarlier = (recipient: string): string | undefined => {
    if (earlierMembers === undefined) {
      earlierMembers = new Map();
      for (const v of inputs.earlierProjects ?? []) {
        for (const env of parseProjectConfig(v.text, PROJECT_FILE).config?.environments ?? []) {
          for (const m of env.members) if (!earlierMembers.has(m.recipient)) earlierMembers.set(m.recipient, m.name);
        }
      }
    }
    return earlierMembers.get(recipient);
  };

  // a key an earlier stellar.yaml of the base's history (or the base's) gave another name, in either spelling
  const formerMemberOfKey = (recipient: string, name: string): { name: string; recipient: string } | undefined => {
    whoWasEarlier(recipient); // fills earlierMembers
    const known = new Map(earlierMembers);
    for (const env of baseConfig?.environments ?? []) for (const m of env.members) if (!known.has(m.recipient)) known.set(m.recipient, m.name);
    const current = new Set((headConfig?.environments ?? []).flatMap((e) => e.members.map((m) => m.name)));
    for (const [key, was] of known) if (was !== name && !current.has(was) && isSameKey(key, recipient)) return { name: was, recipient: key };
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
  const summary = { added: 0, changed: 0, removed: 0, secretsAdded: 0, secretsChanged: 0, secretsRemoved: 0, reencrypted: 0, accessChanges: 0, newErrors: 0, problems: 0, warnings: 0 };
  // the problems of a member removed from stellar.yaml by hand whose key still opens the file: one cause, told once
  const removedByHand = new Map<ReviewProblem, { member: string; recipient: string }>();

  // per environment, the safe fix when this change gave someone a way in (the checker's hints would say rotate-key)
  const introducedFix = new Map<string, string>();
  // how messages name paths and commands (a nested project's are read at the outer root)
  const w = findingWording(inputs.folder);
  // the checker words its messages for the project's folder: the files they may name, reworded for the reader
  const knownPaths = [
    PROJECT_FILE,
    SOPS_CONFIG_FILE,
    ...(head.index?.configFiles.keys() ?? []),
    ...[...(head.index?.environmentFiles.values() ?? []), ...(base.index?.environmentFiles.values() ?? [])].map((f) => f.path),
    ...(head.index?.catalog === undefined ? [] : [head.index.catalog.path]),
    // the other projects a message named (`../../stellar.yaml`: the enclosing project's)
    ...(head.index?.otherProjectPaths() ?? []),
    ...(base.index?.otherProjectPaths() ?? []),
  ];
  const reword = messageRewording(w, knownPaths);
  const parsedOthers = new Map<string, SecretsFile | undefined>();
  // the versions of environment files the range's commits wrote (the other YAML files: credentials only)
  // (in the secrets folder of the base, the head or a stellar.yaml a commit of the range wrote: a
  // folder moved there and back again inside the range held environment files too; a test
  // fixture's file elsewhere is no environment's)
  const secretsDirs = new Set([baseConfig, headConfig].flatMap((c) => (c === undefined ? [] : [normalizeSecretsDir(c.secretsDir)])));
  for (const v of inputs.rangeVersions ?? []) {
    if (v.path !== PROJECT_FILE) continue;
    const dir = rangeSecretsDir(v.text);
    if (dir !== undefined) secretsDirs.add(dir);
  }
  const inSecretsDir = (path: string): boolean => secretsDirs.has(path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".");
  const envRange = (inputs.rangeVersions ?? []).filter((v) => v.path.endsWith(".enc.yaml") && inSecretsDir(v.path));
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
    summary.accessChanges += who.size;

    const envProblems: ReviewProblem[] = [];
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
    if (introduced.length > 0) introducedFix.set(environment, `revert what this change added to ${environment} (in ${w.path(PROJECT_FILE)} or ${w.path(file)}), or ${byMember}`);
    // a key that can no longer unwrap the data key still knows it unless the data key was rotated
    const storedAfter = [...(after.version?.values ?? new Map<string, string>())].filter(([n, v]) => v !== "" && after.encryptedNames.has(n));
    // a remaining recipient whose wrapped key is byte-for-byte the same proves the data key is the same, values or not
    const keptStanza = [...(after.version?.stanzas ?? new Map<string, string>())].find(([r, enc]) => before.version?.stanzas.get(r) === enc);
    const sameKeyProven = keptStanza !== undefined;
    if (existedBefore && existsAfter && (sameKeyProven || ((!dataKeyRotated || rotation.uncertain) && storedAfter.length > 0))) {
      for (const lost of recipients.lost) {
        const who = lost.member ?? lost.recipient;
        const unchanged = storedAfter.filter(([n, v]) => before.version?.values.get(n) === v).length;
        const fix =
          introduced.length === 0
            ? `run \`${w.command(`stellar-secrets rotate-key --env ${environment}`)}\`, then change the values ${who} could read`
            : `${revert}, then ${byMember}; then change the values ${who} could read`;
        const proof = keptStanza === undefined ? "" : ` (${whoIs(keptStanza[0]) ?? keptStanza[0]}'s wrapped data key is unchanged: the data key is the same)`;
        // a label that held only a key group's share in the base (the threshold needs other groups): true words for it
        envProblems.push({
          kind: "unrotated-removal",
          environment,
          file,
          message: lost.heldShare !== undefined
            ? heldShareRemovalMessage(who, lost.heldShare, environment, w.path(file), "", `${proof}; ${fix}`)
            : dataKeyRotated && !sameKeyProven
              ? `${who} was removed from ${environment}, and with only one value kept a data-key rotation cannot be told from a changed value without a key: ` +
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
    // plaintext: the file's own encryption problems (at their default severity, whatever stellar.yaml says)
    const plaintextOf = (model: EnvironmentFile | undefined): Diagnostic[] => (model?.diagnostics ?? []).filter((d) => d.rule === "unencrypted-secrets-file");
    const plaintextAfter = plaintextOf(after.model);
    const plaintextBefore = plaintextAfter.length === 0 ? [] : plaintextOf(before.model);
    const hadPlaintext = matchBaseline({ diagnostics: plaintextBefore, readText: () => textBefore }, { diagnostics: plaintextAfter, readText: () => textAfter });
    for (const [i, d] of plaintextAfter.entries()) {
      if (hadPlaintext[i] === true) continue;
      envProblems.push({ kind: "plaintext", environment, file: d.file, line: d.line, message: reword(d.message, d.file) });
    }

    // a data key the history had retired, brought back (a rotation undone: an old version's file with a stanza cut out)
    let dataKeyRestoredFrom: string | undefined;
    if (existsAfter && textAfter !== undefined && textAfter !== null && fileChange !== "unchanged" && inputs.earlierVersions !== undefined) {
      const earlier = [...new Set([after.path, before.path])].flatMap((p) => (p === undefined ? [] : (inputs.earlierVersions?.get(p) ?? [])));
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
      const left = keyLeftBehind(textAfter, [textBefore], [...vanished, ...envRange]);
      if (left !== undefined) {
        const named = left.labels.map((r) => (whoIs(r) === undefined ? r : `${whoIs(r)} (${r})`));
        const inBase = vanished.includes(left.version);
        const where = inBase
          ? `the base's file ${w.path(left.version.path)} (of an environment the head no longer has)`
          : `its version at commit ${left.version.commit.slice(0, 10)} of this change${left.version.path === file ? "" : ` (${w.path(left.version.path)})`}${left.versions > 1 ? ` and ${left.versions - 1} more` : ""}`;
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
    if (existsAfter && fileChange !== "unchanged" && typeof textAfter === "string") {
      const shared = sharedWithOtherEnvironment(environment, textAfter, textBefore, base, head, parsedOthers);
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

    // recipients that the file had only in the middle of the change: access given and taken back
    const exposedDuring: NonNullable<EnvironmentReview["exposedDuring"]> = [];
    if (existsAfter || existedBefore) {
      // its path at either side, and its name in a secrets folder only the range's commits used
      const own = new Set([after.path, before.path, ...envRange.map((v) => v.path).filter((p) => environmentOfFileName(p.slice(p.lastIndexOf("/") + 1)) === environment)].filter((p): p is string => p !== undefined));
      const known = new Set([...recipientsBefore, ...recipientsAfter, ...before.stanzaList.map((s) => s.recipient), ...after.stanzaList.map((s) => s.recipient)]);
      for (const v of envRange) {
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
          exposedDuring.push({ recipient, ...(member === undefined ? {} : { member }), commit: v.commit, secrets: parsed.entries.filter((e) => e.raw !== "").map((e) => e.name).sort() });
        }
      }
      // neither side's recipient: not counted yet
      summary.accessChanges += exposedDuring.length;
    }
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
        ...(clearComments.length === 0 ? {} : { clearComments }),
        ...(comments.length === 0 ? {} : { comments }),
        ...(exposedDuring.length === 0 ? {} : { exposedDuring }),
        ...(dataKeyRestoredFrom === undefined ? {} : { dataKeyRestoredFrom }),
      });
    }
    problems.push(...envProblems);
  }

  // a value in clear text in a commit of the range (then encrypted or removed again): the merged
  // history holds it whatever the head says, and every clone of it
  problems.push(...clearValuesInRange(base, head, envRange, w));
  problems.push(...credentialsInRange(base, head, (inputs.rangeVersions ?? []).filter((v) => !v.path.endsWith(".enc.yaml") || inSecretsDir(v.path)), w));

  // a change may not weaken the rules that judge it: report it, and judge it by the base's severities
  const baseUsable = base.index !== undefined && base.index.projectUsable && baseConfig !== undefined;
  if (baseUsable && headConfig !== undefined) {
    const rank = { off: 0, info: 1, warning: 2, error: 3 } as const;
    const configText = head.readText("stellar.yaml");
    const configLines = typeof configText === "string" ? textLines(configText).map((l) => l.text) : [];
    for (const rule of RULES) {
      const was = baseConfig.rules[rule.id] ?? rule.severity;
      const now = headConfig.rules[rule.id] ?? rule.severity;
      if (rank[now] >= rank[was]) continue;
      const at = configLines.findIndex((l) => new RegExp(`^\\s+["']?${rule.id}["']?\\s*:`).test(l));
      problems.push({
        kind: "weakened-rule",
        file: "stellar.yaml",
        ...(at === -1 ? {} : { line: at + 1 }),
        message: `${w.path(PROJECT_FILE)} weakens rule ${rule.id} from ${was} to ${now}: a change cannot lower the checks that review it; make that change on its own, reviewed separately`,
      });
    }
  }
  // moving secrets_dir away from the environment files stops reading them: what changes in them then
  // goes unreviewed (and comes back unreviewed when secrets_dir is moved back), a weakening too
  if (baseUsable && headConfig !== undefined && head.index !== undefined) {
    const from = normalizeSecretsDir(baseConfig.secretsDir);
    const to = normalizeSecretsDir(headConfig.secretsDir);
    if (from !== to) {
      const left = [...(base.index?.environmentFiles ?? new Map<string, EnvironmentFile>())]
        .filter(([environment]) => headConfig.environments.some((e) => e.name === environment) && head.index?.environmentFiles.get(environment) === undefined)
        .map(([, file]) => file.path)
        .sort();
      if (left.length > 0) {
        const configText = head.readText("stellar.yaml");
        const at = typeof configText === "string" ? textLines(configText).map((l) => l.text).findIndex((l) => /^["']?secrets_dir["']?\s*:/.test(l)) : -1;
        problems.push({
          kind: "weakened-rule",
          file: "stellar.yaml",
          ...(at === -1 ? {} : { line: at + 1 }),
          message:
            `${w.path(PROJECT_FILE)} moves secrets_dir from "${from}" to "${to}" but ${left.length === 1 ? "an environment file is" : `${left.length} environment files are`} not there (${left.map(w.path).join(", ")}): ` +
            `they are no longer read as environment files, so what changes in them is not reviewed; move the files with the setting (\`git mv ${w.shellPath(from)} ${w.shellPath(to)}\`), ` +
            `or make that change on its own, reviewed separately`,
        });
      }
    }
  }
  // a longer rotate_every in the catalog (or none) lets a value go unrotated longer before
  // rotation-overdue says so: a weakening a reviewer should see (a shorter one is not)
  if (baseUsable && head.index !== undefined) problems.push(...weakenedRotations(base.index?.catalog, head.index, w));
  // narrowing the config files the checker reads is a weakening too: the head's files are then
  // judged within the base's scope as well, so that what the change hides is still checked
  let widened: WorkspaceIndex | undefined;
  if (baseUsable && headConfig !== undefined && head.index !== undefined) {
    const dropped = baseConfig.include.filter((p) => !headConfig.include.includes(p));
    const excluded = headConfig.exclude.filter((p) => !baseConfig.exclude.includes(p));
    if (dropped.length + excluded.length > 0) {
      widened = head.loadWithin?.({ include: baseConfig.include, exclude: baseConfig.exclude });
      const hidden = widened === undefined ? [] : [...widened.configFiles.keys()].filter((f) => !head.index?.configFiles.has(f)).sort();
      const configText = head.readText("stellar.yaml");
      const configLines = typeof configText === "string" ? textLines(configText).map((l) => l.text) : [];
      const at = configLines.findIndex((l) => new RegExp(`^\\s+["']?${dropped.length > 0 ? "include" : "exclude"}["']?\\s*:`).test(l));
      const what = [
        ...dropped.map((p) => `config.include no longer has "${p}"`),
        ...excluded.map((p) => `config.exclude adds "${p}"`),
      ];
      const shown = hidden.slice(0, 10).map(w.path).join(", ") + (hidden.length > 10 ? `, and ${hidden.length - 10} more` : "");
      problems.push({
        kind: "weakened-rule",
        file: "stellar.yaml",
        ...(at === -1 ? {} : { line: at + 1 }),
        message:
          `${w.path(PROJECT_FILE)} narrows the config files the checker reads (${what.join("; ")}): ` +
          (hidden.length === 0 ? "it hides no config file now, but may hide files added later" : `it now hides ${hidden.length === 1 ? "1 config file" : `${hidden.length} config files`} from the checks (${shown}), judged here all the same`) +
          `; a change cannot lower the checks that review it; make that change on its own, reviewed separately`,
      });
    }
  }
  // a stellar.yaml new below the root makes its folder another project: the loader no longer reads
  // that folder's files for this one, so what they reference or hold in plain text goes unchecked here
  if (baseUsable && head.index !== undefined) problems.push(...newNestedProjects(base, head, w));
  // the workflow that gates pull requests, changed by one: GitHub runs the pull request's own copy
  for (const c of gateWorkflowChanges(inputs.workflows ?? [])) {
    problems.push({ kind: "weakened-rule", file: c.install?.[0] ?? c.path, message: gateChangeMessage(c, w) });
  }
  // the editor settings a repository commits: VS Code applies them for every member who opens it
  for (const c of editorSettingsChanges(inputs.editorSettings ?? [])) {
    const named = c.settings.filter((s) => s !== "unreadable");
    const editor = editorOfSettings(c.path);
    const tasksFile = /(?:^|\/)\.vscode\/tasks\.json$/.test(c.path);
    const unreadable = editor === "zed" ? "lsp settings" : tasksFile ? "a task that runs on folder open" : "stellarSecrets settings";
    const what = `${w.path(c.path)} ${[...(named.length === 0 ? [] : [`changes ${named.join(", ")}`]), ...(c.settings.includes("unreadable") ? [`is no JSON review can read, where it names ${unreadable}`] : [])].join(", and ")}: `;
    if (editor !== "vscode") {
      problems.push({
        kind: "weakened-rule",
        file: c.path,
        message:
          what +
          (editor === "zed"
            ? `Zed applies a project's .zed/settings.json for every member who opens it (once they trust the worktree, which it remembers; Zed before worktree trust without asking): lsp.NAME.binary is the program it runs as that language server, and a stellar-secrets server's settings decide what its editor shows and writes; `
            : `Helix reads a workspace's .helix/languages.toml for every member who opens it (released versions without asking; those with workspace trust once it is trusted, which they remember): a language server's command, args and environment, and a language's formatter, are programs it runs; `) +
          `such a program runs as the member, with their age key in reach: keep these in each member's own editor settings, or make that change on its own, reviewed separately`,
      });
      continue;
    }
    const isTask = (n: string): boolean => /^tasks? /.test(n);
    const isProgram = (n: string): boolean => /^(?:terminal\.integrated\.|task\.allowAutomaticTasks$)/.test(n);
    const isHost = (n: string): boolean => DEV_CONTAINER_HOST_FIELDS.includes(n);
    const tasks = named.some(isTask) || (tasksFile && c.settings.includes("unreadable"));
    const programs = named.some(isProgram);
    const host = named.some(isHost);
    const ours = named.some((n) => !isTask(n) && !isProgram(n) && !isHost(n)) || (!tasksFile && c.settings.includes("unreadable"));
    problems.push({
      kind: "weakened-rule",
      file: c.path,
      message:
        what +
        (ours
          ? `VS Code applies a repository's editor settings for every member who opens it (a trusted workspace; a workspace file's when they open that workspace, a dev container's in the container): stellarSecrets.cliPath is the program Test Credential runs with their age key in reach, ` +
            `stellarSecrets.configPath the stellar.yaml whose members the editor's writes encrypt a new file for, stellarSecrets.rules the findings it shows; `
          : "") +
        (tasks
          ? `VS Code runs a task with runOptions.runOn "folderOpen" (with the tasks it depends on and the file's options) when a member opens the folder: in a trusted workspace without asking (task.allowAutomaticTasks is on by default since late 2022), in releases since January 2026 after asking once per workspace, and never asking again when the task changes; ` +
            `it runs as the member, with their age key in reach; `
          : "") +
        (programs
          ? `VS Code takes a trusted workspace's terminal.integrated settings as its own: automationProfile is the program every task runs in (a task that runs on open included), defaultProfile, profiles, shell and env the program a terminal starts and its environment, and task.allowAutomaticTasks "on" runs tasks on open without asking; such a program runs as the member, with their age key in reach; `
          : "") +
        (host
          ? `a dev container's initializeCommand runs on the member's own machine, outside the container, when the container is created and each time it starts (a member who opens the folder in its container runs the changed command at the next open), with their age key in reach; mounts, workspaceMount, runArgs, privileged, capAdd, securityOpt, dockerComposeFile and features decide what of their machine the container reaches, and the container's own commands run with it; `
          : "") +
        (host && !ours && !tasks && !programs ? "" : `keep these in each member's user settings${tasks ? " and user tasks" : ""}, or `) +
        "make that change on its own, reviewed separately",
    });
  }
  // two files git keeps apart that a macOS or Windows checkout writes to one (Stellar.yaml next to
  // stellar.yaml, secrets/production.ENC.YAML next to the environment file): a pull there writes
  // only the changed one, so members and deploys read a copy no check read as that file
  if (inputs.headPaths !== undefined) {
    const inBase = new Set(inputs.basePaths ?? []);
    for (const c of pathCollisions(inputs.headPaths, inBase)) {
      // name a path the change added (a folder: one the base had no file below)
      const added = c.paths.filter((p) => !inBase.has(p) && ![...inBase].some((b) => b.startsWith(`${p}/`)));
      const [first] = added.length > 0 ? added : c.paths.slice(1);
      problems.push({
        kind: "weakened-rule",
        file: first as string,
        message:
          `${c.paths.map(w.path).join(" and ")} are different files to git${COLLISION_WORDS[collisionKind(c.paths)]} but one file on a case-insensitive or Unicode-normalising checkout (macOS, Windows): ` +
          `there a pull or checkout writes whichever changed last, so \`stellar-secrets\`, plain sops and a deploy read content no check or review read under that name; ` +
          `keep one name (\`git rm -r --cached ${w.shellPath(first as string)}\`)`,
      });
    }
  }
  // a file git holds under another spelling of a name tools open (secrets/.GitAttributes, .SOPS.yaml,
  // teams/x/Stellar.yaml, secrets/Production.enc.yaml), alone: a macOS or Windows checkout opens it
  // as that file, which check and this review, reading git's names, never read
  if (inputs.headPaths !== undefined && headConfig !== undefined) {
    const dir = normalizeSecretsDir(headConfig.secretsDir);
    const envFiles = headConfig.environments.map((e) => `${dir}/${environmentFileName(e.name)}`);
    for (const f of foldedStandIns(inputs.headPaths, inputs.basePaths ?? [], [".gitattributes", SOPS_CONFIG_FILE, PROJECT_FILE], envFiles)) {
      problems.push({
        kind: "weakened-rule",
        file: f.path,
        message:
          `${w.path(f.path)} is ${w.path(f.as)} on a case-insensitive or Unicode-normalising checkout (macOS, Windows): there git, plain sops and \`stellar-secrets\` open it by that name, ` +
          `while check and this review, reading git's names, read no ${w.path(f.as)}; name it ${w.path(f.as)} exactly (\`git mv ${w.shellPath(f.path)} ${w.shellPath(f.as)}\`), or remove it`,
      });
    }
  }
  // an environment file replaced by a symbolic link: no review, check or merge reads it as the
  // environment, while every checkout reads its target (values no one reviewed)
  if (headConfig !== undefined && inputs.headLinks !== undefined && inputs.headLinks.size > 0) {
    const dir = normalizeSecretsDir(headConfig.secretsDir);
    for (const environment of headConfig.environments) {
      const file = `${dir}/${environmentFileName(environment.name)}`;
      // the file itself, or a folder above it (a link at the secrets folder)
      const at = [...inputs.headLinks.keys()].find((p) => p === file || file.startsWith(`${p}/`));
      const target = at === undefined ? undefined : inputs.headLinks.get(at);
      if (at === undefined || target === undefined) continue;
      const baseRev = base.commit === undefined ? "BASE" : base.commit.slice(0, 10);
      // (each fix removes the link first, then restores from the base: pasted as printed, it never
      // writes through the link; a file the base did not have is created anew by `set`)
      const fix =
        at !== file
          ? `remove the link and restore the folder (\`git rm ${w.shellPath(at)} && git checkout ${baseRev} -- ${w.shellPath(at)}\`), never a link`
          : base.index?.environmentFiles.has(environment.name) === true
            ? `remove the link and restore the file (\`git rm ${w.shellPath(file)} && git checkout ${baseRev} -- ${w.shellPath(file)}\`), then make the change with \`${w.command("stellar-secrets set")}\`, never a link`
            : `remove the link (\`git rm ${w.shellPath(file)}\`; the base has no ${environment.name} file to restore), then create the file with \`${w.command(`stellar-secrets set NAME --env ${environment.name}`)}\`, never a link`;
      problems.push({
        kind: "weakened-rule",
        environment: environment.name,
        file,
        message:
          `${at === file ? w.path(file) : `${w.path(at)} (the folder of ${w.path(file)})`} is a symbolic link to ${target}: review, check and the merge driver do not read a link as the ${environment.name} file, ` +
          `but a checkout's \`stellar-secrets get\`, \`exec\` and the resolver read what it points to, values no review has seen; ` +
          fix,
      });
    }
  }
  // a `.sops.yaml` replaced by a symbolic link: git stores the link, so no state (and no
  // sops-config-drift) has that file, while the plain sops CLI of every checkout reads the link's
  // target and encrypts new files for whoever its creation rules name, unchecked
  if (headConfig !== undefined && inputs.headLinks !== undefined && inputs.headLinks.size > 0) {
    for (const rel of sopsConfigCandidates(headConfig.secretsDir)) {
      const target = inputs.headLinks.get(rel);
      if (target === undefined) continue;
      const baseRev = base.commit === undefined ? "BASE" : base.commit.slice(0, 10);
      const fix =
        base.readText(rel) === undefined || base.readText(rel) === null
          ? `remove the link (\`git rm ${w.shellPath(rel)}\`): the next \`${w.command("stellar-secrets members add")}\` or \`members rm\` writes ${w.path(SOPS_CONFIG_FILE)} anew from ${w.path(PROJECT_FILE)}`
          : `remove the link and restore the file (\`git rm ${w.shellPath(rel)} && git checkout ${baseRev} -- ${w.shellPath(rel)}\`), never a link`;
      problems.push({
        kind: "weakened-rule",
        file: rel,
        message:
          `${w.path(rel)} is a symbolic link to ${target}: check and this review read no ${w.path(SOPS_CONFIG_FILE)} there (git stores the link, not a file), ` +
          `but the plain sops CLI of a checkout reads the file it points to and encrypts the secrets files for whoever its creation rules name, recipients no check has compared with ${w.path(PROJECT_FILE)}'s members; ` +
          fix,
      });
    }
  }
  // a .sops.yaml creation rule whose key groups change (a threshold lowered, groups made one flat list, a
  // key copied into another group): the checker reads a rule's keys as one set, so only the groups show it
  if (headConfig !== undefined) {
    const memberName = (recipient: string): string | undefined =>
      headConfig.environments.flatMap((e) => e.members).find((m) => normalizeRecipient(m.recipient) === normalizeRecipient(recipient))?.name;
    for (const rel of sopsConfigCandidates(headConfig.secretsDir)) {
      const was = base.readText(rel);
      const now = head.readText(rel);
      if (typeof was !== "string" || typeof now !== "string" || was === now) continue;
      for (const c of sopsRuleGroupsChanges(rel, was, now, headConfig, memberName)) {
        const baseRev = base.commit === undefined ? "BASE" : base.commit.slice(0, 10);
        problems.push({
          kind: c.weaker ? "weakened-rule" : "key-groups-change",
          environment: c.environment,
          file: rel,
          line: c.line,
          message:
            `${w.path(rel)}: the creation rule the plain sops CLI uses for the ${c.environment} file changes its key groups (Shamir secret sharing), for every file sops creates or updates (\`sops updatekeys\`) under it, ` +
            `from ${c.before} to ${c.after}${c.weaker ? ": fewer keys together decrypt such a file now" : ""}; a keyless review cannot tell whether the team agreed to this: ` +
            `revert the change to ${w.path(rel)} (\`git checkout ${baseRev} -- ${w.shellPath(rel)}\`), or make sure it is meant before merging`,
        });
      }
    }
  }
  // a .sops.yaml in a folder above the project root (a project in a subfolder of its repository):
  // plain sops run from that folder (`sops updatekeys infra/secrets/production.enc.yaml` at the top)
  // finds it first and encrypts the project's files for whoever its creation rules name; neither
  // check nor stellar-secrets reads or writes it (a nested project's are its enclosing project's)
  if (headConfig !== undefined && inputs.aboveRoot !== undefined && inputs.aboveRoot.prefix !== "" && inputs.folder === undefined) {
    const { prefix } = inputs.aboveRoot;
    const errorsOf = (texts: ReadonlyMap<string, string>): Diagnostic[] => {
      // each folder's file sops opens as .sops.yaml (a case variant too: a case-insensitive checkout opens it by the name)
      const configs = new Map([...texts].filter(([rel]) => pathOpenedAs(texts.keys(), `${rel.slice(0, rel.lastIndexOf("/") + 1)}${SOPS_CONFIG_FILE}`) === rel));
      if (configs.size === 0) return [];
      return checkSopsConfigs({ environments: headConfig.environments, secretsDir: `${prefix}/${normalizeSecretsDir(headConfig.secretsDir)}` }, configs).filter((d) => d.severity === "error");
    };
    const before = new Set(errorsOf(inputs.aboveRoot.base).map((d) => `${d.file}\n${d.message}`));
    for (const d of errorsOf(inputs.aboveRoot.head)) {
      if (before.has(`${d.file}\n${d.message}`)) continue;
      const file = posix.relative(prefix, d.file);
      problems.push({
        kind: "non-member-recipient",
        file,
        line: d.line,
        message:
          `${w.path(file)} is above the project root, and plain sops run from ${posix.dirname(d.file) === "." ? "the top of the work tree" : `${posix.dirname(d.file)} (from the top of the work tree)`} (or a folder below it without a ${w.path(SOPS_CONFIG_FILE)} of its own) uses it for the project's files (paths from the top of the work tree): ${d.message}; ` +
          `stellar-secrets neither reads nor writes that file: revert the change to it, or delete it`,
      });
    }
  }
  // a .sops.yaml above the root made a symbolic link out of the repository: each clone's plain sops
  // reads a file of its own there, which no review sees (check and the pre-commit hook refuse it)
  const outsideLinks = new Set<string>();
  if (headConfig !== undefined && inputs.aboveRoot !== undefined && inputs.aboveRoot.prefix !== "" && inputs.folder === undefined) {
    const { prefix, baseOutside, headOutside } = inputs.aboveRoot;
    for (const [rel, target] of headOutside ?? []) {
      if (baseOutside?.get(rel) === target) continue;
      const file = posix.relative(prefix, rel);
      outsideLinks.add(file);
      problems.push({
        kind: "weakened-rule",
        file,
        message:
          `${w.path(file)} is above the project root and a symbolic link to ${target}, outside the repository: plain sops run there follows it to a file git does not hold (each clone its own, which this review cannot read) and encrypts the project's files for whoever it names; ` +
          `check and the pre-commit hook refuse it: replace the link with the file itself, or delete it`,
      });
    }
  }
  // a stellar.yaml new in a folder above the project root: stellar-secrets run from there (or from
  // anywhere outside this project's folder) finds it first and takes this folder as part of that
  // project (its members, secrets_dir and rules; its secrets_dir may name this project's files),
  // and this review, of this project, reads none of it
  if (inputs.aboveRoot !== undefined && inputs.aboveRoot.prefix !== "" && inputs.folder === undefined && headConfig !== undefined) {
    const { prefix } = inputs.aboveRoot;
    for (const [rel] of inputs.aboveRoot.head) {
      if (!(rel === PROJECT_FILE || rel.endsWith(`/${PROJECT_FILE}`)) || inputs.aboveRoot.base.has(rel)) continue;
      const file = posix.relative(prefix, rel);
      problems.push({
        kind: "weakened-rule",
        file,
        line: 1,
        message:
          `${w.path(file)} is new above the project root: it makes ${posix.dirname(rel) === "." ? "the top of the repository" : `${posix.dirname(rel)}/`} a project that contains this one, so \`stellar-secrets\` run there (or anywhere outside this project's folder) ` +
          `reads its members, secrets_dir and rules instead of ${w.path(PROJECT_FILE)}'s, and encrypts for its members whatever files its secrets_dir names, while this review reads none of it; ` +
          `delete ${w.path(file)}, or, if that project is meant to be, make that change on its own, reviewed separately`,
      });
    }
  }
  // an environment file, or a folder above it, replaced by a submodule: review sees the file deleted,
  // a checkout has a folder there (nothing decrypts) or, with submodules fetched, another
  // repository's files (values no review has seen)
  if (headConfig !== undefined && inputs.headSubmodules !== undefined && inputs.headSubmodules.size > 0) {
    const dir = normalizeSecretsDir(headConfig.secretsDir);
    for (const environment of headConfig.environments) {
      const file = `${dir}/${environmentFileName(environment.name)}`;
      const at = [...inputs.headSubmodules.keys()].find((p) => p === file || file.startsWith(`${p}/`));
      if (at === undefined) continue;
      problems.push({
        kind: "weakened-rule",
        environment: environment.name,
        file,
        message:
          `${w.path(at)} is a git submodule (commit ${(inputs.headSubmodules.get(at) ?? "").slice(0, 10)}), so git holds no ${environment.name} file at ${w.path(file)}: ` +
          `a checkout has an empty folder there (nothing decrypts), or with submodules fetched another repository's files, values no review has seen; ` +
          `remove the submodule (\`git rm --cached ${w.shellPath(at)}\`) and restore the file (\`git checkout ${base.commit === undefined ? "BASE" : base.commit.slice(0, 10)} -- ${w.shellPath(file)}\`)`,
      });
    }
  }
  // git reads .gitattributes from the top of the work tree down, macros only from the top's: for a
  // project below the top the attributes are decided in the work tree's paths, the folders above too
  const attributes = attributesView(base, head, inputs.aboveRoot);
  // the secrets folder and the environment files (sorted) in those paths, for every attribute below
  const attributed =
    headConfig !== undefined && head.index !== undefined
      ? { secretsDir: normalizeSecretsDir(headConfig.secretsDir), dir: attributes.at(normalizeSecretsDir(headConfig.secretsDir)), envFiles: [...head.index.environmentFiles.values()].map((f) => attributes.at(f.path)).sort(), configFiles: head.index.configFiles }
      : undefined;
  // .gitattributes taking the environment files off the merge driver: git then merges them as text
  // (merge=union commits two value lines and two macs without a conflict, and no pre-commit hook runs
  // for a merge commit git makes itself), a weakening of what guards every later merge
  if (baseUsable && attributed !== undefined) {
    const weakened = attributes.found(weakenedMergeDriver(attributes.readBase, attributes.readHead, attributed.dir, attributed.envFiles));
    if (weakened !== undefined) {
      const now = weakened.now === "unspecified" ? "no merge attribute" : weakened.now === "unset" ? "-merge" : weakened.now === "set" ? "git's text merge" : `merge=${weakened.now}`;
      problems.push({
        kind: "weakened-rule",
        file: weakened.file,
        ...(weakened.line === undefined ? {} : { line: weakened.line }),
        message:
          `${w.path(weakened.file)} takes ${humanPaths(weakened.paths.map(w.path))} off the stellar-secrets merge driver (merge=stellar; now ${now}): ` +
          `git would merge ${weakened.paths.length === 1 ? "it" : "them"} as text, and a text merge of an environment file is a file no one can decrypt ` +
          `(merge=union even commits two value lines and two macs without a conflict, and no pre-commit hook runs for a merge commit git makes); ` +
          `keep \`${attributed.secretsDir}/*.enc.yaml diff=stellar merge=stellar\` (what \`${w.command("stellar-secrets git setup")}\` writes), or make that change on its own, reviewed separately`,
      });
    }
  }
  // .gitattributes taking the environment files off the keyless diff view: `git diff` and `git log -p`
  // then show raw ciphertext (or "Binary files differ"); review still shows every change, so a warning
  const attributeWarnings: ReviewProblem[] = [];
  if (baseUsable && attributed !== undefined) {
    const weakened = attributes.found(weakenedDiffDriver(attributes.readBase, attributes.readHead, attributed.dir, attributed.envFiles));
    if (weakened !== undefined) {
      const now = weakened.now === "unspecified" ? "no diff attribute" : weakened.now === "unset" ? "-diff" : weakened.now === "set" ? "git's text diff" : `diff=${weakened.now}`;
      attributeWarnings.push({
        kind: "weakened-rule",
        file: weakened.file,
        ...(weakened.line === undefined ? {} : { line: weakened.line }),
        message:
          `${w.path(weakened.file)} takes ${humanPaths(weakened.paths.map(w.path))} off the stellar-secrets diff view (diff=stellar; now ${now}): ` +
          `\`git diff\` and \`git log -p\` no longer show which names changed, only raw ciphertext or "Binary files differ"; this review still shows every change; ` +
          `keep \`${attributed.secretsDir}/*.enc.yaml diff=stellar merge=stellar\` (what \`${w.command("stellar-secrets git setup")}\` writes)`,
      });
    }
  }
  // .gitattributes rewriting the environment files on checkout (working-tree-encoding, filter): git and
  // review hold the files as committed, every checkout (a deploy, each member) holds other bytes
  if (attributed !== undefined) {
    const rewritten = attributes.found(rewrittenCheckout(attributes.readBase, attributes.readHead, attributed.dir, attributed.envFiles));
    if (rewritten !== undefined) {
      problems.push({
        kind: "weakened-rule",
        file: rewritten.file,
        ...(rewritten.line === undefined ? {} : { line: rewritten.line }),
        message:
          `${w.path(rewritten.file)} gives ${humanPaths(rewritten.paths.map(w.path))} ${rewritten.attribute}: ` +
          `git rewrites ${rewritten.paths.length === 1 ? "its" : "their"} bytes on every checkout (a deploy, each member's clone), which review (reading git's copy) never sees; ` +
          `${rewritten.attribute.startsWith("working-tree-encoding") ? "a file that is not UTF-8 decrypts for no one" : "a filter command decides what the checkout holds"}; ` +
          `remove that attribute for the environment files, or make that change on its own, reviewed separately`,
      });
    }
  }
  // .gitattributes leaving stellar.yaml, the environment files or their folders out of `git archive`
  // (export-ignore): an archive deploy's resolver then reads the default secrets/ folder, or nothing
  if (attributed !== undefined) {
    const ignored = attributes.found(exportIgnored(attributes.readBase, attributes.readHead, attributed.dir, attributed.envFiles, attributes.at(PROJECT_FILE)));
    if (ignored !== undefined) {
      problems.push({
        kind: "weakened-rule",
        file: ignored.file,
        ...(ignored.line === undefined ? {} : { line: ignored.line }),
        message:
          `${w.path(ignored.file)} gives ${humanPaths(ignored.paths.map(w.path))} export-ignore: \`git archive\` (a Capistrano deploy, a GitHub tarball, a Dockerfile step) leaves ${ignored.paths.length === 1 ? "it" : "them"} out, which review (reading git's copy) never sees; ` +
          `without ${w.path("stellar.yaml")} the resolver reads the default secrets folder "${DEFAULT_SECRETS_DIR}", whatever secrets_dir names, and without an environment file the deploy breaks; ` +
          `remove that attribute for the project's files, or make that change on its own, reviewed separately`,
      });
    }
    // export-subst: git archive expands $Format:…$ (with %n, new lines) in what it deploys (s24 newattack)
    // (the config files too: an archive deploy's platform reads them, e.g. a $Format:%n…$ base_url line)
    const substituted = attributes.found(exportSubstituted(attributes.readBase, attributes.readHead, attributed.dir, [...attributed.envFiles, ...[...attributed.configFiles.keys()].sort().map(attributes.at)], attributes.at(PROJECT_FILE)));
    if (substituted !== undefined) {
      problems.push({
        kind: "weakened-rule",
        file: substituted.file,
        ...(substituted.line === undefined ? {} : { line: substituted.line }),
        message:
          `${w.path(substituted.file)} gives ${humanPaths(substituted.paths.map(w.path))} export-subst: \`git archive\` (a Capistrano deploy, a GitHub tarball, a Dockerfile step) expands each $Format:…$ in ${substituted.paths.length === 1 ? "it" : "them"} ` +
          `(%n is a line break), so what is deployed can differ from git's copy, which check and this review read: a comment \`# $Format:%nsecrets_dir: elsewhere$\` becomes a secrets_dir line for the resolver; ` +
          `remove that attribute for the project's files`,
      });
    }
  }
  // an environment file in the default secrets/ folder while secrets_dir names another: check and
  // review read secrets_dir, a resolver that finds no stellar.yaml (an archive or an image built
  // without it) reads secrets/, so a file there is what such a deploy serves, unreviewed
  // (an environment the head has no file for in secrets_dir: a file left in secrets/ is the secrets_dir move's problem, above)
  if (headConfig !== undefined && normalizeSecretsDir(headConfig.secretsDir) !== DEFAULT_SECRETS_DIR) {
    const names = new Set([...(baseConfig?.environments ?? []), ...headConfig.environments].map((e) => e.name));
    for (const name of [...names].sort()) {
      const rel = `${DEFAULT_SECRETS_DIR}/${environmentFileName(name)}`;
      // a symbolic link there (or at secrets/ itself): git stores the link, so no state has the
      // file, while such a resolver reads the link's target (s24 newattack); reported while it is there
      const link = [rel, DEFAULT_SECRETS_DIR].find((p) => inputs.headLinks?.has(p) === true);
      if (link !== undefined && head.index?.environmentFiles.get(name) !== undefined) {
        problems.push({
          kind: "weakened-rule",
          environment: name,
          file: rel,
          message:
            `${link === rel ? w.path(rel) : `${w.path(link)} (the folder of ${w.path(rel)})`} is a symbolic link to ${inputs.headLinks?.get(link) ?? "?"} outside secrets_dir "${normalizeSecretsDir(headConfig.secretsDir)}": check and this review do not read it, ` +
            `but a resolver that finds no ${w.path("stellar.yaml")} (an archive or an image built without it) reads ${name}'s values from its target; ` +
            `remove the link (\`git rm ${w.shellPath(link)}\`)`,
        });
        continue;
      }
      const text = head.readText(rel);
      if (text === undefined || text === base.readText(rel) || head.index?.environmentFiles.get(name) === undefined) continue;
      problems.push({
        kind: "weakened-rule",
        environment: name,
        file: rel,
        message:
          `${w.path(rel)} is ${base.readText(rel) === undefined ? "new" : "changed"} outside secrets_dir "${normalizeSecretsDir(headConfig.secretsDir)}": check and this review do not read it, ` +
          `but a resolver that finds no ${w.path("stellar.yaml")} (an archive or an image built without it) reads ${name}'s values from it; ` +
          `remove it, or move secrets_dir back to "${DEFAULT_SECRETS_DIR}" in a change of its own, reviewed separately`,
      });
    }
  }
  // config files sending a secret to a host the base never sent it to (a connection's base_url, an
  // oauth2 token_url): no key and no value change needed, the next deploy or probe hands it over
  if (base.index !== undefined && head.index !== undefined) {
    // from every config file, whatever config.include/exclude say (an exclude that landed earlier
    // must not hide a later host change): the state's listing, else its workspace loaded again with that scope
    const texts = (state: ReviewState): [string, string][] =>
      [...(state.everyConfigFile ?? (state.loadWithin?.(EVERY_CONFIG_FILE) ?? state.index)?.configFiles.keys() ?? [])].flatMap((f) => {
        const text = state.readText(f);
        return typeof text === "string" ? [[f, text] as [string, string]] : [];
      });
    for (const d of newDestinations(secretDestinations(texts(base)), secretDestinations(texts(head)))) {
      problems.push({
        kind: "credential-destination",
        file: d.file,
        line: d.line,
        message:
          `${w.path(d.file)} (${d.via}) now sends ${d.accessToken === true ? `the access token ${d.secret} obtains` : d.secret} to ${d.origin}, where the base sent it only to ${d.before.join(", ")}: ` +
          `the next deploy (or \`stellar-secrets probe\`) hands the credential to whoever runs that host, with no key and no value changed; ` +
          `check that the host is the provider's, or revert the URL`,
      });
    }
  }
  // stale-mac: the head's environment files against the base's version (under its old name when moved) and the other committed versions given
  // the base's file of the same environment too, wherever it was: git's rename detection is a
  // heuristic (a limit, a similarity threshold), a moved secrets folder must not depend on it
  const headEnvironmentOf = new Map([...(head.index?.environmentFiles.values() ?? [])].map((f) => [f.path, f.environment] as const));
  const baseFileOf = (rel: string): string | undefined => {
    const environment = headEnvironmentOf.get(rel);
    const path = environment === undefined ? undefined : base.index?.environmentFiles.get(environment)?.path;
    return path === undefined || path === rel || path === renamed.get(rel) ? undefined : path;
  };
  const readers = [
    (rel: string) => base.readText(renamed.get(rel) ?? rel),
    (rel: string) => {
      const path = baseFileOf(rel);
      return path === undefined ? undefined : base.readText(path);
    },
    ...(inputs.committedAlso ?? []),
  ];
  // and the earlier versions of the base's history: a `mac` and `lastmodified` pasted from any of them
  // over other values (an entry deleted, two values swapped) is a hand edit as much as the base's
  const history = (rel: string): string[] =>
    [...new Set([rel, renamed.get(rel), baseFileOf(rel)])].flatMap((p) => (p === undefined ? [] : (inputs.earlierVersions?.get(p) ?? []).map((v) => v.text)));
  const committed = (rel: string): string[] | undefined => {
    const texts = [...new Set([...readers.map((read) => read(rel)).filter((t): t is string => typeof t === "string"), ...history(rel)])];
    return texts.length === 0 ? undefined : texts;
  };
  const headDiagnostics = baseUsable
    ? widened !== undefined
      ? checkWorkspace(widened, { rules: baseConfig.rules, committed })
      : head.checkWith(baseConfig.rules, { committed })
    : head.index === undefined
      ? head.diagnostics
      : head.checkWith(head.index.project.rules, { committed });
  // the checker's recipient-drift on a file already reported as a non-member or a re-wrap is the same finding
  const nonMemberFiles = new Set(problems.filter((p) => p.kind === "non-member-recipient" || p.kind === "rewrapped-without-rotation").map((p) => p.file));

  // a key the head's checker calls "not a member of any environment" that a member of the base had: say whose it was
  const formerMembers = new Map<string, string>();
  for (const e of baseConfig?.environments ?? []) {
    for (const m of e.members) if (!(headConfig?.environments ?? []).some((h) => h.members.some((x) => x.recipient === m.recipient))) formerMembers.set(m.recipient, m.name);
  }
  const namedFormerMembers = (message: string): string => {
    let out = message;
    for (const [key, name] of formerMembers) out = out.split(`${key} (not a member of any environment)`).join(`${key} (${name}'s key: a member in the base, in no environment now)`);
    // a key removed before the base: the name an earlier stellar.yaml gave it
    for (const [, key] of out.matchAll(/(age1[0-9a-z]+|ssh-ed25519 [A-Za-z0-9+/=]+) \(not a member of any environment\)/g)) {
      const name = key === undefined ? undefined : whoWasEarlier(key);
      if (name !== undefined) out = out.split(`${key} (not a member of any environment)`).join(`${key} (${name}'s key in an earlier stellar.yaml, in no environment now)`);
    }
    return out;
  };
  // checker diagnostics at head: new ones (the base did not have the problem: matchBaseline), and those about a changed secret or file
  const fixed = headDiagnostics.map((found) => withSafeFix(found, introducedFix));
  const inBase = matchBaseline(base, { diagnostics: fixed, readText: (rel) => head.readText(rel) }, renamed);
  const diagnostics: ReviewDiagnostic[] = [];
  const seenProblems = new Set(problems.filter((p) => p.kind === "plaintext").map((p) => `${p.file}\u0000${p.message}`));
  for (const [i, found] of fixed.entries()) {
    const d = addedToSopsRule(found, base);
    // the base's checker reads no committed version, so it has no stale-mac: a file this change left
    // byte for byte as the base had it was just as stale there (a hand merge on main is not a branch's)
    const unchangedStale = d.rule === "stale-mac" && typeof head.readText(d.file) === "string" && head.readText(d.file) === base.readText(renamed.get(d.file) ?? d.file);
    const isNew = inBase[i] !== true && !unchangedStale;
    if (!isNew && !(d.secret !== undefined && changedNames.has(d.secret))) continue;
    // the checker's one-state reading of .gitattributes, at a line this review already reports as the change that made it
    if (d.rule === "git-attributes" && problems.some((p) => p.kind === "weakened-rule" && p.file === d.file && p.line === d.line)) continue;
    // worded for the reader once its fix is settled (rewordMessage leaves the fix, worded at the source, as it is)
    const message = namedFormerMembers(reword(d.message, d.file));
    diagnostics.push({ ...d, message, new: isNew });
    if (!isNew || d.severity !== "error") continue;
    summary.newErrors++;
    if (seenProblems.has(`${d.file}\u0000${message}`)) continue;
    if (d.rule === "recipient-drift" && nonMemberFiles.has(d.file)) continue; // already a non-member-recipient problem
    // the working tree's checker refusing a .sops.yaml link out of the repository (sopsLinkOutside) that this review names as weakened-rule
    if (d.rule === "sops-config-drift" && d.line === 1 && outsideLinks.has(d.file)) continue;
    // the checker's reading of the key groups, at the line this review reports as key-groups-change
    if (d.rule === "recipient-drift" && problems.some((p) => p.kind === "key-groups-change" && p.file === d.file && p.line === d.line)) continue;
    // the checker's reading of a .sops.yaml rule whose key groups this review reports as changed (at the same rule)
    if (d.rule === "sops-config-drift" && problems.some((p) => (p.kind === "key-groups-change" || p.kind === "weakened-rule") && p.file === d.file && p.line === d.line)) continue;
    // a reference left behind by a removal in this change: its checker fix ("create it with set") is not what the reviewer asks for
    const removedFrom = d.secret === undefined || !REFERENCE_RULES.has(d.rule) ? [] : environments.filter((e) => e.secrets.some((s) => s.name === d.secret && s.change === "removed")).map((e) => e.environment);
    const because = removedFrom.length === 0 ? "" : ` (this change removes ${d.secret} from ${listed(removedFrom)}: keep it there, or remove this reference in the same change)`;
    problems.push({ kind: PLAINTEXT_RULES.has(d.rule) ? "plaintext" : "checker-error", file: d.file, line: d.line, message: `${d.rule}: ${message}${because}` });
  }
  // commits that change an environment without a signature of one of its members (in the base)
  const signed = reviewSignatures(base, inputs.signatures, w);
  for (const p of signed.problems) {
    problems.push(p);
    environments.find((e) => e.environment === p.environment)?.problems.push(p);
  }
  summary.problems = problems.length;
  Object.assign(summary, secretCounts(environments));
  const causes = removedByHandCauses(problems, removedByHand, w);
  const warnings = [...attributeWarnings, ...signed.warnings];
  summary.warnings = warnings.length;
  const references = diffReferences(base.index?.allReferences() ?? [], head.index?.allReferences() ?? [], renamed);
  return {
    base: { label: base.label, commit: base.commit ?? null },
    head: { label: head.label, commit: head.commit ?? null },
    environments,
    diagnostics,
    problems,
    warnings,
    signatures: signed.signatures,
    summary,
    ...(causes.length === 0 ? {} : { causes }),
    clean: problems.length === 0,
    proposals: diffProposals(base.index?.proposalFiles, head.index?.proposalFiles),
    references,
    configEdited: editedConfigOf(base, head, renamed, environments, references),
  };
}

/**
 * Distinct secret names added, changed and removed over `environments` (a secret added to two
 * environments counts once), for {@link ReviewReport.summary}.
 */
export function secretCounts(environments: readonly EnvironmentReview[]): { secretsAdded: number; secretsChanged: number; secretsRemoved: number } {
  const names = { added: new Set<string>(), changed: new Set<string>(), removed: new Set<string>() };
  for (const e of environments) for (const s of e.secrets) names[s.change].add(s.name);
  return { secretsAdded: names.added.size, secretsChanged: names.changed.size, secretsRemoved: names.removed.size };
}

/** The public keys a message names in full: age keys (`age1…`) and SSH ed25519 keys (`ssh-ed25519 AAAA…`). */
function keysNamed(message: string): string[] {
  return message.match(/\bage1[0-9a-z]{20,}|\bssh-ed25519 AAAA[0-9A-Za-z+/]+=*/g) ?? [];
}

/**
 * One cause per member removed from stellar.yaml by hand whose key still opens files
 * (`removedByHand`: their non-member-recipient problems), when it explains more than one problem:
 * those problems and the checker errors that name the same key and no other (`sops-config-drift` in
 * `.sops.yaml`, `recipient-drift`) get its id as their {@link ReviewProblem.cause}. A checker error that
 * names another key too (one this change added to the same creation rule) stays a problem of its own.
 */
function removedByHandCauses(problems: readonly ReviewProblem[], removedByHand: ReadonlyMap<ReviewProblem, { member: string; recipient: string }>, w: FindingWording): ReviewCause[] {
  const byKey = new Map<string, { member: string; recipient: string; problems: ReviewProblem[] }>();
  for (const [p, who] of removedByHand) {
    const entry = byKey.get(who.recipient) ?? { ...who, problems: [] };
    entry.problems.push(p);
    byKey.set(who.recipient, entry);
  }
  const causes: ReviewCause[] = [];
  for (const { member, recipient, problems: own } of byKey.values()) {
    // only a finding that names no key but theirs: one that also names another (a key this change added to the
    // same creation rule, a member the file is not encrypted for) is a problem of its own, never told under this cause
    const drift = problems.filter(
      (p) => p.kind === "checker-error" && p.cause === undefined && /^(sops-config-drift|recipient-drift): /.test(p.message) && keysNamed(p.message).every((k) => k === recipient) && keysNamed(p.message).length > 0,
    );
    const all = problems.filter((p) => own.includes(p) || drift.includes(p));
    if (all.length < 2) continue;
    const id = `member-removed-by-hand:${member}`;
    for (const p of all) p.cause = id;
    const environments = own.map((p) => p.environment as string);
    const envFiles = [...new Set(own.map((p) => p.file as string))];
    const files = [...new Set(all.map((p) => p.file).filter((f): f is string => f !== undefined))];
    const sopsRules = drift.filter((p) => p.message.startsWith("sops-config-drift: ")).length;
    const rotate = environments.map((e) => `\`${w.command(`stellar-secrets rotate-key --env ${e}`)}\``);
    causes.push({
      id,
      kind: "member-removed-by-hand",
      member,
      recipient,
      environments,
      files,
      problems: all.length,
      message:
        `${member} (${shortKey(recipient)}) was removed from ${w.path(PROJECT_FILE)} by editing it, but their key still opens ${counted(envFiles.length, "file")} (${envFiles.map((f) => w.path(f)).join(", ")})` +
        (sopsRules === 0 ? "" : ` and ${counted(sopsRules, "creation rule")} of ${w.path(SOPS_CONFIG_FILE)} still ${sopsRules === 1 ? "names" : "name"} it`) +
        `: ${counted(all.length, "problem")} with one cause; fix: put ${member} back in ${w.path(PROJECT_FILE)} and run \`${w.command(`stellar-secrets members rm ${member}`)}\` ` +
        `(it re-keys each file without them and rewrites ${w.path(SOPS_CONFIG_FILE)}), or have an existing member run ${rotate.join(", ")}; then change at their providers the values ${member} could read`,
    });
  }
  return causes;
}

/**
 * `weakened-rule` for each folder the head's load skips as a project of its own
 * ({@link ReviewState.nestedProjects}) whose stellar.yaml the base did not have: an empty
 * stellar.yaml is enough to take a folder's files out of this project's checks. A nested project
 * the base had already is not reported. At the new stellar.yaml, line 1.
 */
function newNestedProjects(base: ReviewState, head: ReviewState, w: FindingWording): ReviewProblem[] {
  return (head.nestedProjects ?? [])
    .filter((dir) => base.readText(`${dir}/${PROJECT_FILE}`) === undefined)
    .map((dir) => {
      const file = `${dir}/${PROJECT_FILE}`;
      const [shown, folder] = [w.path(file), w.path(dir)];
      return {
        kind: "weakened-rule" as const,
        file,
        line: 1,
        message:
          `${shown} is new: it makes ${folder}/ a project of its own, so the folder's files are no longer checked against this project's secrets and rules ` +
          `(\`check\`, \`pre-commit\` and \`review\` judge them by ${shown} alone: its own rules, members and secrets); ` +
          `delete ${shown}, or, if ${folder}/ is meant to be a separate project, keep it on purpose: make that change on its own, reviewed separately`,
      };
    });
}

/**
 * `weakened-rule` for each secret whose catalog `rotate_every` the head raises (e.g. 30d → 365d),
 * makes unreadable as a period, or removes (the entry, the field or the whole catalog), while
 * an environment file of the head still has the secret. A lower period, and the entry of a
 * secret the head no longer has, are no weakening. Each at the head's catalog entry when it has one.
 */
function weakenedRotations(baseCatalog: IndexedCatalog | undefined, head: WorkspaceIndex, w: FindingWording): ReviewProblem[] {
  const out: ReviewProblem[] = [];
  if (baseCatalog === undefined) return out;
  const headCatalog = head.catalog;
  for (const [name, entry] of baseCatalog.entries) {
    const was = entry.rotate_every;
    const wasDays = was === undefined ? undefined : durationDays(was);
    if (was === undefined || wasDays === undefined) continue;
    if (head.secret(name) === undefined) continue; // the secret is gone: nothing left to rotate
    const now = headCatalog?.entries.get(name)?.rotate_every;
    const nowDays = now === undefined ? undefined : durationDays(now);
    if (nowDays !== undefined && nowDays <= wasDays) continue;
    const file = headCatalog?.path ?? baseCatalog.path;
    const key = headCatalog?.keyRanges.get(name);
    const change =
      now === undefined
        ? `removes the rotate_every of secret "${name}" (was ${was}): rotation-overdue no longer reports its value however old it gets`
        : nowDays === undefined
          ? `changes the rotate_every of secret "${name}" from ${was} to ${JSON.stringify(now.slice(0, 20))}, which is not a period: rotation-overdue no longer reports its value`
          : `raises the rotate_every of secret "${name}" from ${was} to ${now}: rotation-overdue reports its value only after ${nowDays} days instead of ${wasDays}`;
    out.push({
      kind: "weakened-rule",
      file,
      ...(key === undefined || headCatalog === undefined ? {} : { line: headCatalog.lines.positionAt(key.start).line }),
      message: `${w.path(file)} ${change}; a change cannot lower the checks that review it; make that change on its own, reviewed separately`,
    });
  }
  return out;
}

/** The generic hint of `sops-config-drift` for keys a creation rule names that are no members (sops-config.ts). */
const SOPS_RULE_EXTRA_HINT = /; if a change added them there, revert it \(never make them members to silence this\); otherwise \(e\.g\. they were removed as members\), (.*)$/s;

/**
 * A `sops-config-drift` error about keys a `.sops.yaml` creation rule names that are no members,
 * worded for a review, which knows the base: the keys the base's version of that file did not name
 * were added by this change, and it says so ("this change added them there: revert that") instead of
 * the checker's "if a change added them there". Any other diagnostic, or one whose keys the base's
 * file named too (a member removed, the rule left behind), is returned as it is.
 */
function addedToSopsRule<D extends Diagnostic>(d: D, base: ReviewState): D {
  if (d.rule !== "sops-config-drift" || d.severity !== "error") return d;
  const hint = SOPS_RULE_EXTRA_HINT.exec(d.message);
  if (hint === null) return d;
  const baseText = base.readText(d.file);
  const named = keysNamed(d.message.slice(0, hint.index));
  const added = named.filter((k) => typeof baseText !== "string" || !baseText.includes(k));
  if (added.length === 0) return d;
  const head = d.message.slice(0, hint.index);
  const revert = `revert that in ${d.file} (never make them members to silence this)`;
  const message =
    added.length === named.length
      ? `${head}; this change added them there: ${revert}`
      : `${head}; this change added ${added.join(", ")} there: ${revert}; for the others (e.g. they were removed as members), ${hint[1]}`;
  return { ...d, message };
}

/**
 * A checker diagnostic whose fix would wrap a data key (`rotate-key --env ENV`, `members add`) in an
 * environment this change gave someone a way in: its fix is replaced by `fixes`' (revert, or an
 * existing member rotates on a branch without what the change added), so no hint completes the change.
 */
function withSafeFix<D extends Diagnostic>(d: D, fixes: ReadonlyMap<string, string>): D {
  for (const [environment, fix] of fixes) {
    if (!d.message.includes(`rotate-key --env ${environment}\``) && !/`stellar-secrets members add /.test(d.message)) continue;
    if (!d.message.includes(environment)) continue;
    const cut = d.message.indexOf("; ");
    const diagnosis = cut === -1 ? d.message : d.message.slice(0, cut);
    return { ...d, message: `${diagnosis}; this change gave someone a way into ${environment}, so do not re-key it on this change: ${fix}` };
  }
  return d;
}

/** How the names of a path collision differ, for its message (two names that differ only in normalisation look the same). */
const COLLISION_WORDS = {
  normalisation: " (the same name in two Unicode normalisations, NFC and NFD: they look alike)",
  case: " (the same name in another case)",
  trailing: " (the same name with a trailing dot or space, which Windows drops)",
  mixed: "",
} as const;

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
): { environment: string; file: string; side: "head" | "base"; proof: string; members: string[] } | undefined {
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
 * `plaintext` problems for the values that a version of an environment file written by a commit of
 * the range holds in clear text, when neither the base's nor the head's file of that path holds the
 * same name with the same text (those the base had are not this change's; the head's are reported
 * with the head). One per version, naming the names, never a value.
 */
/**
 * The secrets folder a version of stellar.yaml names (`secrets_dir`, normalized; the default when
 * it names none), or undefined when that version cannot be read.
 */
function rangeSecretsDir(text: string): string | undefined {
  const config = parseProjectConfig(text, PROJECT_FILE).config;
  return config === undefined ? undefined : normalizeSecretsDir(config.secretsDir);
}

function clearValuesInRange(base: ReviewState, head: ReviewState, versions: readonly PathVersion[], w: FindingWording): ReviewProblem[] {
  const out: ReviewProblem[] = [];
  const clearOf = (text: string, path: string): Map<string, string> => {
    const environment = environmentOfFileName(path.slice(path.lastIndexOf("/") + 1)) ?? "";
    const file = parseEnvironmentFile(text, path, environment);
    return new Map(file.entries.filter((e) => !e.encrypted && !e.empty).map((e) => [e.name, text.slice(e.valueRange.start, e.valueRange.end)]));
  };
  const reported = new Set<string>();
  for (const v of versions) {
    const environment = environmentOfFileName(v.path.slice(v.path.lastIndexOf("/") + 1));
    if (environment === undefined) continue;
    const clear = clearOf(v.text, v.path);
    if (clear.size === 0) continue;
    const known = new Set<string>();
    for (const state of [base, head]) {
      const text = state.readText(v.path);
      if (typeof text === "string") for (const [name, raw] of clearOf(text, v.path)) known.add(`${name}\u0000${raw}`);
    }
    const names = [...clear].filter(([name, raw]) => !known.has(`${name}\u0000${raw}`) && !reported.has(`${v.path}\u0000${name}\u0000${raw}`)).map(([name]) => name);
    if (names.length === 0) continue;
    for (const [name, raw] of clear) reported.add(`${v.path}\u0000${name}\u0000${raw}`);
    out.push({
      kind: "plaintext",
      environment,
      file: v.path,
      commit: v.commit,
      message:
        `${w.path(v.path)} at commit ${v.commit.slice(0, 10)} of this change holds ${names.length === 1 ? `the value of ${names[0]}` : `the values of ${listed(names)}`} in clear text ` +
        `(encrypted or removed again later): the commit is in this branch's history, and merging it puts the value in every clone; treat ${names.length === 1 ? "it" : "them"} as leaked and change ` +
        `${names.length === 1 ? "it" : "them"} at the provider, and drop that commit from the branch (\`git rebase -i\`, or squash) before it is merged`,
    });
  }
  return out;
}

/**
 * `plaintext` problems for the well-known credential formats (`plaintext-credential`'s) in the
 * versions of the project's YAML files that the commits of the range wrote and a later one took out
 * again: in stellar.yaml and the catalog every line, in an environment file its comments and the
 * names that look like credentials ({@link credentialNameKeys}; a value in clear is
 * {@link clearValuesInRange}'s), in a config file the checker reads (the base's or the
 * head's `config.include`/`exclude`) every line. A line the base's or the head's file of that path
 * holds is not reported here (the head's own are the checker's). One per version, never a value.
 */
function credentialsInRange(base: ReviewState, head: ReviewState, versions: readonly PathVersion[], w: FindingWording): ReviewProblem[] {
  const configs = [head.index?.project, base.index?.project].flatMap((c) => (c === undefined ? [] : [new GlobFilter(c.include, c.exclude)]));
  const catalogs = new Set([head.index?.catalog?.path, base.index?.catalog?.path].filter((p): p is string => p !== undefined));
  const found = (text: string, path: string): { line: number; text: string; what: string }[] => {
    const hits = path.endsWith(".enc.yaml")
      ? [...commentCredentials(text), ...credentialNameKeys(text, path)]
      : path === PROJECT_FILE || catalogs.has(path) || configs.some((f) => f.matches(path))
        ? credentialLines(text)
        : [];
    if (hits.length === 0) return [];
    const lines = textLines(text);
    return hits.map((h) => {
      const at = lines.findIndex((l) => l.start <= h.range.start && h.range.start <= l.start + l.text.length);
      return { line: at + 1, text: text.slice(h.range.start, h.range.end).trim(), what: h.what };
    });
  };
  const out: ReviewProblem[] = [];
  const reported = new Set<string>();
  for (const v of versions) {
    const hits = found(v.text, v.path);
    if (hits.length === 0) continue;
    const known = new Set<string>();
    for (const state of [base, head]) {
      const text = state.readText(v.path);
      if (typeof text === "string") for (const h of found(text, v.path)) known.add(h.text);
    }
    const fresh = hits.filter((h) => !known.has(h.text) && !reported.has(`${v.path}\u0000${h.text}`));
    if (fresh.length === 0) continue;
    for (const h of hits) reported.add(`${v.path}\u0000${h.text}`);
    const first = fresh[0] as { line: number; what: string };
    out.push({
      kind: "plaintext",
      file: v.path,
      line: first.line,
      commit: v.commit,
      message:
        `${w.path(v.path)}:${first.line} at commit ${v.commit.slice(0, 10)} of this change holds ${first.what}${fresh.length > 1 ? ` (and ${fresh.length - 1} more line${fresh.length === 2 ? "" : "s"} with a credential)` : ""} in clear text, ` +
        `taken out again later: the commit is in this branch's history, and merging it puts the credential in every clone; treat it as leaked and change it at the provider, ` +
        `and drop that commit from the branch (\`git rebase -i\`, or squash) before it is merged`,
    });
  }
  return out;
}

/**
 * The keys of a version of an environment file that look like credentials ({@link credentialAsName}:
 * names are not encrypted), as {@link commentCredentials} gives its hits: the key's range and what
 * it looks like, never the name.
 */
function credentialNameKeys(text: string, path: string): { range: { start: number; end: number }; what: string }[] {
  return credentialNameEntries(text, path).map((e) => ({ range: e.range, what: `${e.looks} as a secret's name` }));
}

/** The entries of a version of an environment file (`path` `<env>.enc.yaml`) whose names look like credentials, with what each looks like ({@link credentialAsName}). */
function credentialNameEntries(text: string, path: string): { name: string; range: { start: number; end: number }; looks: string }[] {
  const environment = environmentOfFileName(path.slice(path.lastIndexOf("/") + 1));
  if (environment === undefined) return [];
  const out: { name: string; range: { start: number; end: number }; looks: string }[] = [];
  for (const e of parseEnvironmentFile(text, path, environment).entries) {
    const looks = credentialAsName(e.name);
    if (looks !== undefined) out.push({ name: e.name, range: e.range, looks });
  }
  return out;
}

/** The message of a change to the CI gate ({@link gateWorkflowChanges}). */
function gateChangeMessage(c: GateChange, w: FindingWording): string {
  const action = /(^|\/)action\.ya?ml$/.test(c.path);
  const was = c.change === "removed";
  let said: string;
  if (c.install !== undefined) {
    // the dependencies a step installs, or runs a program from, before or as it runs stellar-secrets
    const dir = c.path.includes("/") ? c.path.slice(0, c.path.lastIndexOf("/") + 1) : "";
    const files = c.install.map((f) => (f === c.path ? `${w.path(f)} (its dependencies or install scripts)` : w.path(f)));
    said =
      `the dependencies the CI gate installs${dir === "" ? "" : ` in ${w.path(dir)}`} are changed (${files.join(", ")})${c.via === undefined ? "" : `; it installs them (or runs a program from them) in ${w.path(c.via)}`}, where it runs stellar-secrets: ` +
      `a package's install script runs in the gate's job, and a dependency, a lockfile or a registry setting decides which stellar-secrets it runs`;
    return (
      `${said}: this change decides how it is itself checked; ` +
      `review the change's diff, and make that change on its own, reviewed separately (a ruleset that requires the workflow from the default branch keeps the gate, docs/ci.md)`
    );
  }
  if (c.scripts !== undefined || c.via !== undefined) {
    // a file (or package.json scripts) the gate runs, not a workflow or action itself
    const many = c.scripts !== undefined && c.scripts.length > 1;
    const subject = c.scripts === undefined ? w.path(c.path) : `${w.path(c.path)}'s ${many ? "scripts" : "script"} ${c.scripts.map((n) => JSON.stringify(n)).join(", ")}`;
    const how = c.change === "added" ? "new" : was ? "removed" : "changed";
    said =
      `${subject} ${many ? "are" : "is"} ${how}; the CI gate ${was ? "ran" : "runs"} ${many ? "them" : "it"}${c.via === undefined ? "" : ` (from ${w.path(c.via)})`} and ${many ? "they" : "it"} ${was ? "ran" : "run" + (many ? "" : "s")} stellar-secrets, ` +
      `and GitHub runs a pull request's own copy of the repository, the files its workflows run included`;
  } else {
    const which = action ? " (a local action a workflow uses)" : "";
    const copy = `GitHub runs a pull request's own copy of its workflows${action ? " and of the local actions they use" : ""}`;
    said =
      c.change === "added"
        ? `${w.path(c.path)} is a new ${action ? "action" : "workflow"} that runs stellar-secrets${which}, and ${copy}`
        : `${w.path(c.path)} ${was ? "is removed; it ran" : "is changed; it runs"} stellar-secrets${which}, and ${copy}`;
  }
  return (
    `${said}: this change decides how it is itself checked (a step skipped, a status ignored, another tool version); ` +
    `review the ${c.scripts !== undefined || c.via !== undefined ? "change's" : "workflow's"} diff, and make that change on its own, reviewed separately (a ruleset that requires the workflow from the default branch keeps the gate, docs/ci.md)`
  );
}

/** A change to the CI gate: a file (or a package.json's scripts) and how it changed. */
export interface GateChange {
  path: string;
  change: "added" | "removed" | "modified";
  /** The package.json scripts changed (sorted), when the entry is a package.json's. */
  scripts?: string[];
  /** When the entry is a folder's dependencies (`path` its package.json): the files that differ (package.json for its dependency fields and install scripts, a lockfile, `.npmrc` …). */
  install?: string[];
  /** The workflow the file is run from, when it is not a workflow or action itself. */
  via?: string;
}

/**
 * Of the CI gate's files a change touches (each side's text; undefined: absent: core's gate.ts),
 * those that run `stellar-secrets` on either side (or, `usesGate`, run a file that does) and whose
 * text changed, with how: the gate of the change itself. A package.json's changed scripts are one
 * entry (`scripts`, sorted).
 */
export function gateWorkflowChanges(workflows: readonly GateFileChange[]): GateChange[] {
  const out = new Map<string, GateChange>();
  for (const f of workflows) {
    if (f.before === f.after || !(runsGate(f.before) || runsGate(f.after) || f.usesGate === true)) continue;
    const change = f.before === undefined ? ("added" as const) : f.after === undefined ? ("removed" as const) : ("modified" as const);
    const key = f.install !== undefined ? `${f.path}#install` : f.script === undefined ? f.path : `${f.path}#scripts`;
    const seen = out.get(key);
    if (seen !== undefined && f.script !== undefined) {
      seen.scripts = [...(seen.scripts ?? []), f.script].sort();
      if (seen.change !== change) seen.change = "modified";
      continue;
    }
    out.set(key, { path: f.path, change, ...(f.script === undefined ? {} : { scripts: [f.script] }), ...(f.install === undefined ? {} : { install: f.install }), ...(f.via === undefined ? {} : { via: f.via }) });
  }
  return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}


/**
 * The secret names that look like credentials ({@link credentialAsName}) in the environment files
 * of `states` (a review's base and head) and in the versions of environment files (`*.enc.yaml`)
 * that the range's commits wrote (`versions`): the names `review` never prints, in any format
 * ({@link hideCredentialNamesIn} over the finished report, once `withVerification`, which matches
 * secrets by name, is done). Empty for a repository without one.
 */
export function credentialNamesOf(states: readonly ReviewState[], versions: readonly PathVersion[] = []): Set<string> {
  const out = new Set<string>();
  for (const s of states) for (const name of s.index?.credentialNames() ?? []) out.add(name);
  for (const v of versions) if (v.path.endsWith(".enc.yaml")) for (const e of credentialNameEntries(v.text, v.path)) out.add(e.name);
  return out;
}

/**
 * The labels of a key-groups file's age stanzas that are in at least `threshold` of its groups
 * (every label of a one-group file): by labels, which prove nothing, the keys that decrypt it
 * alone. Empty for no key groups or groups the readers refuse.
 */
function aloneByKeyGroups(groups: EnvironmentFile["keyGroups"]): string[] {
  if (groups === undefined || groups.problem !== undefined || groups.threshold === undefined) return [];
  const held = new Map<string, number>();
  // a stanza copied from an earlier group holds that group's share, not one of its own
  for (const g of shareStanzasOfGroups(groups)) for (const label of new Set(g.map((st) => normalizeRecipient(st.recipient)))) if (label !== "") held.set(label, (held.get(label) ?? 0) + 1);
  return [...held].filter(([, n]) => n >= groups.threshold!).map(([label]) => label);
}

/** What a keyless reader sees of a file's key groups (labels, age headers, other keys, threshold), as one comparable string. */
function keyGroupsFingerprint(groups: EnvironmentFile["keyGroups"]): string {
  if (groups === undefined) return "";
  return JSON.stringify([groups.threshold ?? null, groups.thresholdWritten ?? null, groups.problem ?? null, groups.groups.map((g) => [g.stanzas.map((st) => [st.recipient, st.envelope]), g.others])]);
}
