/**
 * @stellar-secrets/core: secret names, the project and config model, schemas, the reference
 * index and the checker. No editor, CLI or prompt code; I/O only in the `load*` functions.
 */
export * from "./position.js";
export * from "./errors.js";
export * from "./rules.js";
export * from "./diagnostics.js";
export * from "./names.js";
export * from "./schemas.js";
export * from "./project.js";
export * from "./catalog.js";
export { schemaDiagnostics, validatorFor } from "./validate.js";
