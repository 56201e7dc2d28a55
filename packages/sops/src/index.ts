/**
 * `@stellar-secrets/sops`: the SOPS envelope with age recipients, in one module. Read (always
 * verifying the MAC), write (stable ciphertext), updatekeys, rotate, identity discovery, atomic
 * locked writes. See API.md for the contract.
 */
export { SopsError, isSopsError, type SopsErrorCode, type SopsErrorDetails } from "./errors.js";
export type {
  AgeStanza,
  DecryptedDocument,
  DecryptedSecrets,
  DocumentComment,
  DocumentLeaf,
  EncryptOptions,
  SecretEntry,
  SecretsFile,
  SopsMetadata,
  TextRange,
} from "./types.js";
export {
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
  renderKey,
  rotateDataKey,
  unwrapFileKey,
  updateKeys,
  type ParseOptions,
} from "./secrets-file.js";
export { mergeSecrets, type MergeInput, type MergeResult, type MergeSide, type NameChange, type NameConflict } from "./merge.js";
export {
  decryptDocument,
  decryptDocumentBytes,
  decryptDocumentWithKey,
  formatForPath,
  type DocumentFormat,
  type DocumentOptions,
} from "./document.js";
export { defaultKeyFilePath, findIdentities, parseIdentityFile, type Identities, type IdentityLookupOptions } from "./identities.js";
export { generateIdentity, identityToRecipient, isAgeIdentity, isAgeRecipient, unwrapDataKey, wrapDataKey } from "./age.js";
export { computeMac, macAad } from "./mac.js";
export { WRITTEN_SOPS_VERSION } from "./metadata.js";
export {
  aadForPath,
  canonicalize,
  decryptValue,
  encryptValue,
  formatGoFloat,
  formatLastModified,
  isEncValue,
  parseEnc,
  type SopsValueType,
} from "./values.js";
export {
  createSecretsFile,
  editSecretsFile,
  loadSecrets,
  readSecretsFile,
  rotateFile,
  updateKeysFile,
  withFileLock,
  writeFileAtomic,
} from "./store.js";
