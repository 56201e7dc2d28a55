/**
 * @stellar-secrets/core: secret names, the project and config model, schemas, the reference
 * index and the checker. No editor, CLI or prompt code; every read goes through a `WorkspaceFs`
 * (workspace-fs.ts) passed to `findProjectRoot`, `loadProject` and `loadWorkspace`.
 */
export * from "./position.js";
export * from "./errors.js";
export * from "./rules.js";
export * from "./diagnostics.js";
export * from "./names.js";
export * from "./variables.js";
export * from "./shell.js";
export * from "./schemas.js";
export * from "./project.js";
export * from "./catalog.js";
export * from "./credentials.js";
export * from "./globs.js";
export * from "./excluded.js";
export * from "./other-projects.js";
export * from "./config.js";
export * from "./secrets-dir.js";
export * from "./secrets-folder.js";
export * from "./workspace.js";
export * from "./check.js";
export * from "./recipient-stanzas.js";
export * from "./sops-config.js";
export * from "./git-attributes.js";
export { gitattributesCandidates } from "./review/gitattributes.js";
export * from "./sops-config-merge.js";
export * from "./project-merge.js";
export * from "./stale-mac.js";
export * from "./unresolved-merge.js";
export * from "./proposals.js";
export * from "./usage.js";
export * from "./probe.js";
export * from "./completion.js";
export * from "./load.js";
export * from "./model-cache.js";
export * from "./review/index.js";
export * from "./version.js";
export { schemaDiagnostics, validatorFor, type SchemaValidator } from "./validate.js";
export { MAX_YAML_DEPTH, nestingDiagnostic } from "./yaml-limits.js";
export * from "./plaintext-env.js";
