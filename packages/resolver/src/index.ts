/**
 * `@stellar-secrets/resolver`: deploy-time decryption of one environment's secrets, and
 * resolution of auth connectors, API connection headers and action headers to request headers.
 * Depends on `@stellar-secrets/sops` only.
 *
 * @packageDocumentation
 */
export { createResolver, Resolver } from "./resolver.js";
export type { ResolverOptions, ReloadResult, ResolverStatus } from "./resolver.js";
export type { SnapshotKeyGroups } from "./snapshot.js";
export { ResolverError } from "./errors.js";
export type { ResolverErrorCode, ResolverErrorDetails } from "./errors.js";
export { createJsonLinesSink } from "./access-log.js";
export type { AccessEvent, AccessOutcome, AccessSink, JsonLinesSink, JsonLinesSinkOptions } from "./access-log.js";
export { findResolverIdentities } from "./identities.js";
export type { IdentityLookupOptions, ResolverIdentities } from "./identities.js";
export { nearestName, type NearestName } from "@stellar-secrets/sops";
export type { ResolvedAuth, ResolvedHeaders, ResolvedRequest, OAuth2Credentials } from "./headers.js";
export type {
  ActionConfig,
  ApiConnection,
  ApiKeyConnector,
  AuthConnector,
  AuthConnectorType,
  BasicConnector,
  BearerTokenConnector,
  HeaderConfig,
  OAuth2ClientCredentialsConnector,
  PlainOrSecret,
  SecretHeader,
  SecretRef,
  StaticHeader,
} from "./config.js";
