/** Small wording helpers the review's findings share (pure). */

/** Items in a message: "a", "a and b", "a, b and c". */
export const listed = (items: readonly string[]): string => (items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`);

/** "1 file", "2 files". */
export const counted = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** A recipient shortened for a message (`age1abcd…wxyz`). */
export const shortKey = (recipient: string): string => (recipient.length > 20 ? `${recipient.slice(0, 10)}…${recipient.slice(-6)}` : recipient);

/** The public keys a message names in full: age keys (`age1…`) and SSH ed25519 keys (`ssh-ed25519 AAAA…`). */
export function keysNamed(message: string): string[] {
  return message.match(/\bage1[0-9a-z]{20,}|\bssh-ed25519 AAAA[0-9A-Za-z+/]+=*/g) ?? [];
}
