/**
 * The checker's rules: ids, default severities and summaries, defined once. Docs
 * (docs/rules.md), the CLI's SARIF output and the language server read this table.
 */

/** A diagnostic's severity. */
export type Severity = "error" | "warning" | "info";

/** Every rule id the checker reports. Stable: never renamed. */
export type RuleId =
  | "schema"
  | "unknown-secret"
  | "missing-environment-value"
  | "unused-secret"
  | "invalid-secret-name"
  | "non-descriptive-secret-name"
  | "unknown-reference"
  | "unknown-environment"
  | "unencrypted-secrets-file"
  | "plaintext-credential"
  | "recipient-drift"
  | "rotation-overdue"
  | "sops-config-drift"
  | "stale-mac"
  | "pending-proposal"
  | "stale-proposal"
  | "invalid-proposal"
  | "pending-access-request"
  | "unresolved-merge"
  | "missing-secrets-dir"
  | "environment-without-file"
  | "git-attributes"
  | "environment-file-copy";

/** One rule's table entry. */
export interface RuleInfo {
  id: RuleId;
  severity: Severity;
  summary: string;
}

/** The rule table, in documentation order. */
export const RULES: readonly RuleInfo[] = [
  { id: "schema", severity: "error", summary: "A config file breaks its kind's schema (or is not valid YAML)." },
  { id: "unknown-secret", severity: "error", summary: "A reference names a secret that no environment file has." },
  {
    id: "missing-environment-value",
    severity: "error",
    summary: "A referenced secret has no value in an environment where the reference is used.",
  },
  { id: "unused-secret", severity: "warning", summary: "A secret that nothing references." },
  {
    id: "invalid-secret-name",
    severity: "error",
    summary: "A secret name that is not lowercase_with_underscores (^[a-z][a-z0-9_]*$), is over 64 characters or is reserved.",
  },
  {
    id: "non-descriptive-secret-name",
    severity: "warning",
    summary: "A generic secret name (token1, key, secret, api_key) without the service it belongs to.",
  },
  {
    id: "unknown-reference",
    severity: "error",
    summary: "An action's connection, a connection's auth or an agent's actions entry names nothing.",
  },
  { id: "unknown-environment", severity: "error", summary: "An environment that stellar.yaml does not declare." },
  {
    id: "unencrypted-secrets-file",
    severity: "error",
    summary: "A file in the secrets folder without valid SOPS metadata, or with a plaintext value.",
  },
  {
    id: "plaintext-credential",
    severity: "error",
    summary: "A static header or plain field whose value looks like a credential, or a secret's name that is one.",
  },
  {
    id: "recipient-drift",
    severity: "error",
    summary:
      "An environment file's age recipients differ from the members stellar.yaml configures for it, or its age stanzas show a hidden reader, or its sops key groups differ from its .sops.yaml rule's, or a member's name or key differs across environments.",
  },
  {
    id: "sops-config-drift",
    severity: "error",
    summary: "A .sops.yaml creation rule for an environment file names recipients other than that environment's members.",
  },
  {
    id: "rotation-overdue",
    severity: "warning",
    summary: "A value last set longer ago than its catalog rotate_every (from git history; off without it).",
  },
  {
    id: "stale-mac",
    severity: "error",
    summary:
      "An environment file edited or merged by hand, which no one can decrypt: values changed under the committed mac and lastmodified, one ciphertext under two names or a committed one under another name, or conflict markers.",
  },
  {
    id: "pending-proposal",
    severity: "info",
    summary: "A write-only proposal in the inbox waits for a member of its environment to apply or reject it.",
  },
  {
    id: "stale-proposal",
    severity: "warning",
    summary: "A proposal is encrypted to other keys than its environment's members now (members changed since it was written).",
  },
  {
    id: "invalid-proposal",
    severity: "error",
    summary: "A file in the inbox that is not a well-formed proposal at its place, or whose age header contradicts its recipient list.",
  },
  {
    id: "pending-access-request",
    severity: "info",
    summary: "A pending access request in stellar.yaml (request-access): it grants nothing until a member approves it (members approve).",
  },
  {
    id: "unresolved-merge",
    severity: "error",
    summary:
      "An environment file holds a merge conflict the merge driver reported and `resolve` has not finished: committing it would drop the other side's change.",
  },
  {
    id: "missing-secrets-dir",
    severity: "error",
    summary: "stellar.yaml's secrets_dir names a folder that does not exist, or one with no environment file and no catalog (a mistyped path: every reference would be unknown).",
  },
  {
    id: "environment-without-file",
    severity: "info",
    summary: "A declared environment that has no environment file yet (the first `set` in it creates one); reported once, at its declaration in stellar.yaml.",
  },
  {
    id: "git-attributes",
    severity: "error",
    summary:
      "A .gitattributes line git reads for the environment files (the project's, or one in a folder above it) takes them off the stellar merge driver although a line sends them there (or gives them merge=union), or rewrites them on checkout (filter, working-tree-encoding).",
  },
  {
    id: "environment-file-copy",
    severity: "error",
    summary:
      "A copy of an environment file left in the secrets folder by a merge tool, patch or editor (production.enc.yaml.orig, _BACKUP_/_LOCAL_/_REMOTE_/_BASE_, .rej, ~, .bak): no command reads or re-keys it.",
  },
];

const BY_ID = new Map<string, RuleInfo>(RULES.map((r) => [r.id, r]));

/** The table entry of a rule id, or undefined for an unknown id. */
export function ruleInfo(id: string): RuleInfo | undefined {
  return BY_ID.get(id);
}

/** True when `id` is a rule id of {@link RULES}. */
export function isRuleId(id: string): id is RuleId {
  return BY_ID.has(id);
}
