/**
 * Review and history without keys: the diff of two states of a repository (`buildReview`), the
 * per-name value history (`readSecretsHistory`) and the rotation schedule, over a {@link GitSource}
 * the caller implements.
 */
export * from "./baseline.js";
export * from "./comments.js";
export * from "./destinations.js";
export * from "./devcontainer.js";
export * from "./editor-settings.js";
export * from "./gate.js";
export * from "./git.js";
export * from "./history.js";
export * from "./model.js";
export * from "./report.js";
export { heldShareRemovalMessage } from "./access.js";
export { rewrapsOf, sameDataKeyProof, stanzasOf, type GroupedStanza, type Rewrap } from "./data-key.js";
export { gateWorkflowChanges, type GateChange } from "./program-findings.js";
export { credentialNamesOf } from "./range-findings.js";
export * from "./references.js";
export * from "./retired-key.js";
export * from "./retired-key-back.js";
export * from "./revoked.js";
export * from "./rotation.js";
export * from "./signatures.js";
export * from "./state.js";
export * from "./verify.js";
export * from "./wording.js";
