/**
 * The one version string of Stellar Secrets: what `stellar-secrets --version` prints, what
 * `check --format sarif` names as the tool's version, and what the language server reports.
 * Every package.json carries the same number (a test keeps them in step).
 */
export const VERSION = "0.1.0";
