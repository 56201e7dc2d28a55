/**
 * What a keyless review reports ({@link ReviewReport}) and what it takes beyond the two states
 * ({@link ReviewInputs}): the shapes `review --json` prints and other tools read, with its
 * `signatures` section ({@link SignaturesReview}, from signatures.ts) and the keyed results of
 * `review --verify` ({@link EnvironmentVerification}, from verify.ts). Built by `buildReview`
 * (model.ts).
 */
import { createHash } from "@stellar-secrets/sops";
import type { Diagnostic } from "../diagnostics.js";
import type { ProposalReview } from "../proposals.js";
import type { CommentChange } from "./comments.js";
import type { GateFileChange } from "./gate.js";
import type { ReferenceChange } from "./references.js";
import type { EarlierVersion, PathVersion } from "./retired-key.js";
import type { Rewrap } from "./data-key.js";

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
  kind: "plaintext" | "unrotated-removal" | "non-member-recipient" | "weakened-rule" | "checker-error" | "rewrapped-without-rotation" | "tampered" | "unsigned-change" | "credential-destination" | "key-groups-change" | "look-alike-name";
  environment?: string;
  /** Where, relative to the project root (with a 1-based line when known). */
  file?: string;
  line?: number;
  /**
   * The commit it is about (full id): for `unsigned-change` the unsigned commit; for an
   * `unrotated-removal` that brings back a retired data key, the commit whose version had it; for one
   * whose data key a commit of the range wrapped for a stanza the head no longer has, that commit; for
   * one whose values a commit of the range exposed to a key no member has at the head, that commit.
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
   * `earlierPush`: the commit is one of an earlier push of the change (`review --previous-head`)
   * that the range no longer holds (the branch rebased and force-pushed), not a commit of the range.
   */
  exposedDuring?: { recipient: string; member?: string; commit: string; secrets: string[]; earlierPush?: true }[];
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

/** What else a review takes, beyond the two states. */
export interface ReviewInputs {
  /**
   * `BASE...HEAD`: the branch the change is to merge into (BASE's tip), when it is not the merge
   * base the review compares with: its label, commit and `stellar.yaml` text. A signer who was a
   * member at the merge base but is no longer one there (removed since the branch forked) vouches
   * for nothing ({@link reviewSignatures}).
   */
  target?: { label: string; commit: string; projectText: string | null | undefined };
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
   * The versions of environment files that the commits of an earlier push of the change wrote and
   * the range no longer holds (`review --previous-head`: the branch was rebased or amended and
   * force-pushed): whoever a stanza of one was for could read it once it was pushed. Read for
   * {@link EnvironmentReview.exposedDuring} (marked `earlierPush`), and, with every other YAML file
   * of the project such a commit wrote, for a value or a well-known credential in clear text
   * (`plaintext`, naming that commit as one of an earlier push).
   */
  earlierPushVersions?: readonly PathVersion[];
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
   * The repository files that a git hook manager's file runs (`.husky/HOOK`, a `.pre-commit-config.yaml`
   * local hook's `entry`, lefthook's `run:`; what those run in turn: gate.ts
   * {@link readHookScriptChanges}) that differ between base and head, each with `via`, the hook
   * manager's file that names it: each is a `weakened-rule` (a member's next commit runs it with
   * their age key in reach). Paths relative to the project root.
   */
  hookScripts?: readonly GateFileChange[];
  /**
   * The repository files a dev container file names (devcontainer.ts {@link readDevContainerChanges}:
   * a lifecycle command's scripts, its Dockerfile, its Docker Compose files and their Dockerfiles,
   * its local features' files) that differ between base and head, each with `via`, the dev
   * container file: each is a `weakened-rule`. Paths relative to the project root.
   */
  devContainerFiles?: readonly GateFileChange[];
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
 * Distinct secret names added, changed and removed over `environments` (a secret added to two
 * environments counts once), for {@link ReviewReport.summary}.
 */
export function secretCounts(environments: readonly EnvironmentReview[]): { secretsAdded: number; secretsChanged: number; secretsRemoved: number } {
  const names = { added: new Set<string>(), changed: new Set<string>(), removed: new Set<string>() };
  for (const e of environments) for (const s of e.secrets) names[s.change].add(s.name);
  return { secretsAdded: names.added.size, secretsChanged: names.changed.size, secretsRemoved: names.removed.size };
}

/** What git says of a commit's signature, checked against an allowed-signers list of members. */
export type SignatureStatus =
  /** signed by a key of the allowed signers; `signer` is the member name */
  | "good"
  /** no signature */
  | "unsigned"
  /** a signature that does not verify (the commit was changed after it was signed) */
  | "bad"
  /** a valid signature by a key that is not an allowed signer, or one git cannot check */
  | "unknown-signer";

/** A commit of a range that changes environments (names of the base's stellar.yaml, in its order). */
export interface CommitTouch {
  /** Full commit id. */
  commit: string;
  /** Environments whose secrets file the commit changes. */
  files: string[];
  /** Environments whose members (or the folder their files are kept in, `secrets_dir`) the commit changes in stellar.yaml. */
  members: string[];
}

/** A commit's signature as the caller verified it (the CLI's `verifyCommits` returns these fields). */
export interface CommitVerdict {
  commit: string;
  status: SignatureStatus;
  /** The member name git reports for a good signature (the allowed-signers principal). */
  signer?: string;
  /** The signing key's fingerprint (`SHA256:…`) when git reports one. */
  key?: string;
}

/** A commit that changes environments, with its verified signature: what `buildReview` takes. */
export type SignedCommit = CommitTouch & CommitVerdict;

/** One commit of the `signatures` section of a review. */
export interface CommitSignatureReview {
  commit: string;
  status: SignatureStatus;
  signer?: string;
  key?: string;
  /** The environments it changes (its file or its members), in the base's order. */
  environments: string[];
  /**
   * Those whose members (in the base) did not sign it: a good signature by a member of another
   * environment counts as unsigned here. Each has an `unsigned-change` finding, except the
   * environments in {@link SignaturesReview.unverifiable}.
   */
  unsignedFor: string[];
}

/** The `signatures` section of a review. */
export interface SignaturesReview {
  /** False when there were no commits to verify (the head is the working tree or the index, or the base has no stellar.yaml). */
  checked: boolean;
  /** The commits of the range that change an environment, oldest first. */
  commits: CommitSignatureReview[];
  /**
   * Environments changed in the range of which no member (in the base) has an ssh-ed25519 key:
   * nobody could have signed, so their commits get no finding.
   */
  unverifiable: string[];
  /** `BASE...HEAD` where BASE's tip is not the merge base: BASE's label; a signer had to be a member there too (with the same key). */
  alsoMembersOf?: string;
}

/** What happened to one name, told with a key. */
export type VerifiedStatus = "added" | "removed" | "changed" | "unchanged" | "re-encrypted";

/** The keyed result for one environment: verified, or why not. Never holds a value. */
export type EnvironmentVerification =
  | {
      environment: string;
      file: string;
      verified: true;
      /** True when the data key of the head differs from the base's (false for a new file). */
      dataKeyRotated: boolean;
      /** Every name of either version, sorted: `re-encrypted` means the same plaintext under a new encrypted string. */
      secrets: { name: string; status: VerifiedStatus }[];
      /** Stanzas wrapped anew while the data key stayed the same (see {@link rewrapsOf}). */
      rewraps: Rewrap[];
      /**
       * The commit of an earlier version of the file whose data key the head's is, while the base's
       * is not (a retired data key brought back; see `retiredKeyProvenWith`). Absent when none was found.
       */
      retiredKeyOf?: string;
      /**
       * Versions a commit of the change wrote for a key no member has at the head (`exposedDuring`)
       * that the reviewer's keys open: the names of that version the head also holds (`compared`)
       * and those whose value at the head is that version's (`same`; never a value). Absent when none.
       */
      exposed?: { commit: string; recipient: string; compared: string[]; same: string[] }[];
    }
  | {
      environment: string;
      file: string;
      verified: false;
      /** Why: no key opens a version, or a version failed its MAC or a value's tag (`tampered`). */
      reason: string;
      /** The error code behind the reason (e.g. `NO_MATCHING_IDENTITY`, `MAC_MISMATCH`, `TAMPERED`). */
      code?: string;
      /** True when the head failed its MAC or a value's tag: a problem, not a missing key. */
      tampered: boolean;
    };
