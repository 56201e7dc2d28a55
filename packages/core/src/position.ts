/**
 * Offset ↔ line/column conversion. The one implementation lives in `@stellar-secrets/sops`
 * (the lowest package, so the envelope's error positions and core's diagnostics agree); core
 * re-exports it so that core's users (the CLI, the language server) need not know where it lives.
 */
export { LineIndex, lineEndAt, lineStartAt, loneCrAsLf, textLines, type Position, type TextRange } from "@stellar-secrets/sops";
