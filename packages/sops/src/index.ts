/**
 * `@stellar-secrets/sops`: the SOPS envelope with age recipients, in one module. Read (always
 * verifying the MAC), write (stable ciphertext), updatekeys, rotate, identity discovery, atomic
 * locked writes. See API.md for the contract.
 */
export { SopsError, isSopsError, type SopsErrorCode, type SopsErrorDetails, type SopsErrorReason, type TooFewKeyGroups } from "./errors.js";
export type {
  AgeStanza,
  DecryptedDocument,
  DecryptedSecrets,
  DocumentComment,
  DocumentLeaf,
  EncryptOptions,
  FlatComments,
  SecretEntry,
  SecretsFile,
  SopsMetadata,
} from "./types.js";
export { editDistance, escapeControlCharacters, namesAtDistance, nearestName, type NearestName, type NearestNameOptions } from "./nearest.js";
export { LineIndex, type Position, type TextRange } from "./position.js";
// node:crypto's functions, loaded on their first call: a module that imports node:crypto itself loads it
// (a few milliseconds) at the start of every command whose bundle holds that module, used or not
export { createHash, sha256Base64, timingSafeEqual } from "./lazy-crypto.js";
export { ALLOW_OUTSIDE_LINKS_VARIABLE, assertInsideRoot, assertOwnEnvironmentFile, isInside, otherEnvironmentLink, outsideRoot, type OtherEnvironmentLink } from "./links.js";
export { excessiveNestingMessage, findExcessiveNesting, MAX_YAML_DEPTH, type ExcessiveNesting } from "./yaml-depth.js";
// line breaks as LineIndex counts them (a lone CR too), for scans and for the YAML parser
export { lineBreakOf, lineEndAt, lineStartAt, loneCrAsLf, textLines, withLineBreak, type LineBreak } from "./position.js";
export {
  CATALOG_FILE,
  DEFAULT_SECRETS_DIR,
  ENVIRONMENT_FILE_SUFFIX,
  ENVIRONMENT_LOOKUP_PATTERN,
  ENVIRONMENT_NAME_PATTERN,
  environmentFileName,
  INBOX_DIR,
  MAX_PROPOSAL_FILE_BYTES,
  PROPOSAL_FILE_SUFFIX,
  proposalFileName,
  proposalOfPath,
  environmentOfFileName,
  MAX_CONFIG_FILE_BYTES,
  MAX_SECRETS_FILE_BYTES,
  MEMBER_KEY_PATTERN,
  MEMBER_NAME_PATTERN,
  normalizeSecretsDir,
  PROJECT_FILE,
  readSecretsDir,
  readEnvironmentMembers,
  SECRET_NAME_PATTERN,
  SECRETS_DIR_PATTERN,
  type SecretsDirResult,
} from "./layout.js";
export {
  CONFLICT_MARKER_LINE,
  DEFAULT_MAX_BYTES,
  DecryptCache,
  decodeUtf8,
  decryptSecrets,
  decryptSecretsWithKey,
  encryptSecrets,
  isSopsEncrypted,
  parseSecretsBytes,
  parseSecretsFile,
  reencryptSecrets,
  refuseForeignKeys,
  renderKey,
  rotateDataKey,
  unwrapFileKey,
  updateKeys,
  type ParseOptions,
  type ReencryptOptions,
} from "./secrets-file.js";
export { commentOfLine } from "./comments.js";
export { ageFormsOfSshKeys, canonicalAgeRecipient, isSameKey } from "./key-spelling.js";
export { mergeSecrets, mergeSecretsGuarded, VIRTUAL_BASE_UNMERGED, type GuardedMergeResult, type MergeInput, type MergeResult, type MergeSide, type NameChange, type NameConflict, type RecipientChangeBy, type RecipientsUnion } from "./merge.js";
export {
  decryptDocument,
  decryptDocumentBytes,
  decryptDocumentWithKey,
  formatForPath,
  resolveYamlV3Plain,
  type DocumentFormat,
  type DocumentOptions,
} from "./document.js";
export { defaultKeyFilePath, findIdentities, keyPathSource, looksLikeKeyMaterial, parseIdentityFile, type Identities, type IdentityLookupOptions } from "./identities.js";
export { generateIdentity, identityToRecipient, isAgeIdentity, isAgeRecipient, isMistypedAgeIdentity, isMistypedAgeRecipient, isRecipient, isSmallOrderAgeRecipient, MAX_AGE_STANZAS, unwrapAgePayload, unwrapDataKey, wrapDataKey } from "./age.js";
export {
  SshEd25519Identity,
  SshEd25519Recipient,
  edwardsToMontgomery,
  isOpenSshPrivateKey,
  isSshEd25519Recipient,
  looksLikeSshPublicKey,
  normalizeRecipient,
  parseOpenSshPrivateKey,
  parseSshEd25519PublicKey,
  sshKeyTag,
  type SshEd25519PublicKey,
} from "./ssh.js";
export { agePayloadBytes, ageStanzaTypeFor, inspectAgeEnvelope, parseAgeHeader, WRAPPED_DATA_KEY_PAYLOAD_BYTES, type AgeEnvelopeInfo, type AgeHeaderStanza } from "./age-header.js";
export {
  cleanProposer,
  createProposal,
  newProposalId,
  openProposal,
  parseProposal,
  PROPOSAL_FORMAT_LINE,
  proposalEnvelopeProblem,
  type ParsedProposal,
  type ProposalFields,
} from "./proposal.js";
export { computeMac, macAad } from "./mac.js";
export { keyGroupsThresholdText, readKeyGroups, type KeyGroup, type KeyGroups, type KeyGroupsSource } from "./key-groups.js";
export { combineShares, SHAMIR_SHARE_BYTES } from "./shamir.js";
export { OTHER_MASTER_KEYS, WRITTEN_SOPS_VERSION, otherMasterKeys, sopsEncryptsPath, translateRe2, unsupportedCryptRule, type Re2Translation } from "./metadata.js";
export {
  aadForPath,
  canonicalize,
  decryptValue,
  encryptValue,
  formatGoFloat,
  formatLastModified,
  ciphertextIdentity,
  encStringProblem,
  isEncValue,
  parseEnc,
  type SopsValueType,
} from "./values.js";
export {
  createSecretsFile,
  editSecretsFile,
  loadSecrets,
  readRegularFile,
  readRegularFileSync,
  readSecretsFile,
  rotateFile,
  sameMeaning,
  updateKeysFile,
  withFileLock,
  writeFileAtomic,
  type VersionText,
} from "./store.js";
