/**
 * Write-only proposals (the inbox): one value for one environment, written by someone who cannot
 * decrypt that environment, age-encrypted to the environment's members' public keys only (no data
 * key is needed), for a member to fold into the environment file. The format is owned here:
 *
 * ```text
 * # stellar-secrets proposal: ...                        (comment lines, ignored)
 * stellar-secrets-proposal: 1
 * environment: production
 * name: stripe_api_key
 * proposer: Alice Example <alice@example.com>
 * proposed-at: 2026-12-03T08:00:00.000Z
 * recipient: age1...                                      (one line per recipient, normalised)
 * -----BEGIN AGE ENCRYPTED FILE-----
 * ...                                                     (an ordinary armored age file)
 * -----END AGE ENCRYPTED FILE-----
 * ```
 *
 * The clear fields let a reviewer and `check` see what is proposed without a key. They are bound to
 * the ciphertext: the encrypted payload (JSON) repeats every one of them and {@link openProposal}
 * refuses a proposal whose clear fields differ from the encrypted ones (a swapped name, environment,
 * proposer, time or recipient list is `TAMPERED`). The recipient list in clear is a claim (like a
 * sops `recipient` label, SOPS-FORMAT §4.5): X25519 stanzas do not reveal their recipient, so
 * {@link proposalEnvelopeProblem} compares only what the age header shows (the number and types of
 * stanzas, and the key tag of ssh-ed25519 stanzas). The proposer is who the proposer says they are
 * (as a commit author); signed commits prove it.
 */
import { randomBytes } from "./lazy-crypto.js";
/**
 * typage (age-encryption), loaded on first use: proposals are written and opened by the CLI, never
 * by the resolver, whose bundle must not need the package at load time (it is an optional peer).
 */
const typage = (): Promise<typeof import("age-encryption")> => import("age-encryption");
import { isRecipient } from "./age.js";
import { ageStanzaTypeFor, parseAgeHeader, type AgeEnvelopeInfo } from "./age-header.js";
import { SopsError } from "./errors.js";
import { MAX_PROPOSAL_FILE_BYTES } from "./layout.js";
import { SshEd25519Identity, SshEd25519Recipient, isOpenSshPrivateKey, looksLikeSshPublicKey, normalizeRecipient, sshKeyTag } from "./ssh.js";

/** The line that starts a proposal (after optional `#` comment lines). */
export const PROPOSAL_FORMAT_LINE = "stellar-secrets-proposal: 1";
const BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----";
const END = "-----END AGE ENCRYPTED FILE-----";
/** Longest proposer text kept (one line, no control characters). */
const MAX_PROPOSER_CHARS = 200;

/** The clear fields of a proposal. */
export interface ProposalFields {
  environment: string;
  name: string;
  /** Who proposed it, as they said (e.g. git's `user.name <user.email>`): a claim, not proof. */
  proposer: string;
  /** When, ISO 8601 in UTC. */
  proposedAt: string;
  /** The public keys it is encrypted to, normalised ({@link normalizeRecipient}), in file order: a claim, checked against the age header as far as it shows. */
  recipients: string[];
}

/** A proposal read without a key by {@link parseProposal}. */
export interface ParsedProposal extends ProposalFields {
  /** The armored age file. */
  armored: string;
  /** Its header as seen without a key. */
  envelope: AgeEnvelopeInfo;
  /** The 1-based line of each clear field (`recipient`: the first one), for diagnostics. */
  fieldLines: { environment: number; name: number; proposer: number; proposedAt: number; recipients: number; payload: number };
}

/** A new proposal id: 12 lowercase hex digits (random; file names `<name>.<id>.age` never collide in practice). */
export function newProposalId(): string {
  return randomBytes(6).toString("hex");
}

/** The proposer text as stored: one line, control characters replaced by spaces, trimmed, at most 200 characters. */
export function cleanProposer(text: string): string {
  // eslint-disable-next-line no-control-regex
  const one = text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return one.length > MAX_PROPOSER_CHARS ? one.slice(0, MAX_PROPOSER_CHARS) : one;
}

function encodeRecipient(r: string): string | SshEd25519Recipient {
  if (looksLikeSshPublicKey(r)) return new SshEd25519Recipient(r);
  if (!isRecipient(r)) {
    const shown = /^age1[0-9a-z]*$/.test(r) ? `"${r.slice(0, 80)}"` : "a recipient (value not shown)";
    throw new SopsError("MALFORMED_FILE", `${shown} is not an age recipient (expected age1… or ssh-ed25519 AAAA…)`);
  }
  return r;
}

/** The payload that is encrypted: the clear fields again (bound on open) and the value. */
function payloadOf(fields: ProposalFields, value: string): string {
  return JSON.stringify({
    "stellar-secrets-proposal": 1,
    environment: fields.environment,
    name: fields.name,
    proposer: fields.proposer,
    "proposed-at": fields.proposedAt,
    recipients: fields.recipients,
    value,
  });
}

/**
 * Writes a proposal: `value` age-encrypted to `recipients` (age X25519 or ssh-ed25519 public keys),
 * with the clear fields in front and repeated inside the ciphertext. The writer keeps no key: it
 * cannot open what it wrote unless it is itself one of the recipients.
 * @throws SopsError NO_RECIPIENTS for an empty list; MALFORMED_FILE for a recipient that is not a
 *   public key, or a field that is empty or not one line; UNSUPPORTED for an SSH key type other than ed25519.
 */
export async function createProposal(input: Omit<ProposalFields, "recipients" | "proposedAt"> & { recipients: readonly string[]; proposedAt: Date; value: string }): Promise<string> {
  const recipients = [...new Set(input.recipients.map(normalizeRecipient))];
  if (recipients.length === 0) throw new SopsError("NO_RECIPIENTS", `environment "${input.environment}" has no members to encrypt a proposal to`);
  for (const [field, v] of [
    ["environment", input.environment],
    ["name", input.name],
  ] as const) {
    if (v === "" || /[\s]/.test(v)) throw new SopsError("MALFORMED_FILE", `a proposal's ${field} must be one word`);
  }
  const fields: ProposalFields = {
    environment: input.environment,
    name: input.name,
    proposer: cleanProposer(input.proposer) || "unknown",
    proposedAt: input.proposedAt.toISOString(),
    recipients,
  };
  const { Encrypter, armor } = await typage();
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(encodeRecipient(r) as never);
  const armored = armor.encode(await e.encrypt(payloadOf(fields, input.value))).trimEnd();
  return [
    `# stellar-secrets proposal: a value for "${fields.name}" in ${fields.environment}, readable only by the members it lists.`,
    `# A member applies it with \`stellar-secrets inbox apply ${fields.name} --env ${fields.environment}\` (or rejects it with \`inbox reject\`).`,
    PROPOSAL_FORMAT_LINE,
    `environment: ${fields.environment}`,
    `name: ${fields.name}`,
    `proposer: ${fields.proposer}`,
    `proposed-at: ${fields.proposedAt}`,
    ...recipients.map((r) => `recipient: ${r}`),
    armored,
    "",
  ].join("\n");
}

/**
 * Reads a proposal's clear fields and the header of its age file, without a key. `path` is used in
 * messages only.
 * @throws SopsError MALFORMED_FILE (with the line) for a file that is not a proposal: no format line,
 *   a missing, repeated or unknown field, a recipient that is not a public key, a time that is not
 *   ISO 8601, no age file, or a truncated one (no END line); FILE_TOO_LARGE over 8 MiB.
 */
export function parseProposal(text: string, path = "proposal"): ParsedProposal {
  if (text.length > MAX_PROPOSAL_FILE_BYTES) {
    throw new SopsError("FILE_TOO_LARGE", `is larger than ${MAX_PROPOSAL_FILE_BYTES} bytes; a proposal holds one value`, { file: path });
  }
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const bad = (line: number, message: string): SopsError =>
    new SopsError("MALFORMED_FILE", message, { file: path, line, hint: "a proposal is written by `stellar-secrets set` only; ask the proposer to propose again, or remove the file with `stellar-secrets inbox reject`" });
  let i = 0;
  while (i < lines.length && (lines[i]!.startsWith("#") || lines[i]!.trim() === "")) i++;
  if (lines[i] !== PROPOSAL_FORMAT_LINE) throw bad(i + 1, `not a stellar-secrets proposal (expected "${PROPOSAL_FORMAT_LINE}")`);
  i++;
  const single = new Map<string, { value: string; line: number }>();
  const recipients: string[] = [];
  let recipientsLine = 0;
  for (; i < lines.length && lines[i] !== BEGIN; i++) {
    const line = lines[i]!;
    if (line.trim() === "" && lines.slice(i).every((l) => l.trim() === "")) {
      i = lines.length;
      break;
    }
    const m = /^([a-z-]+): (.*)$/.exec(line);
    if (m === null) throw bad(i + 1, line.trim() === "" ? "an empty line among the fields" : "a line that is not \"field: value\" among the fields");
    const [, key, value] = m as unknown as [string, string, string];
    if (key === "recipient") {
      if (!isRecipient(value)) throw bad(i + 1, "a recipient that is not an age or ssh-ed25519 public key");
      if (recipientsLine === 0) recipientsLine = i + 1;
      recipients.push(normalizeRecipient(value));
      continue;
    }
    if (!["environment", "name", "proposer", "proposed-at"].includes(key)) throw bad(i + 1, `unknown field "${key}"`);
    if (single.has(key)) throw bad(i + 1, `field "${key}" appears twice`);
    single.set(key, { value: value.trim(), line: i + 1 });
  }
  for (const key of ["environment", "name", "proposer", "proposed-at"]) {
    if (!single.has(key) || single.get(key)!.value === "") throw bad(Math.min(i + 1, lines.length), `the field "${key}" is missing or empty`);
  }
  if (recipients.length === 0) throw bad(Math.min(i + 1, lines.length), "no recipient line: a proposal lists the public keys it is encrypted to");
  const at = single.get("proposed-at")!;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(at.value) || Number.isNaN(Date.parse(at.value))) {
    throw bad(at.line, "proposed-at is not a time in ISO 8601 UTC (2026-12-03T08:00:00.000Z)");
  }
  if (i >= lines.length) throw bad(lines.length, "no age file (BEGIN AGE ENCRYPTED FILE) after the fields: the file is truncated");
  const payloadLine = i + 1;
  const endAt = lines.indexOf(END, i);
  if (endAt === -1) throw bad(lines.length, "the age file has no END AGE ENCRYPTED FILE line: the file is truncated");
  if (lines.slice(endAt + 1).some((l) => l.trim() !== "")) throw bad(endAt + 2, "text after the age file");
  const armored = lines.slice(i, endAt + 1).join("\n");
  return {
    environment: single.get("environment")!.value,
    name: single.get("name")!.value,
    proposer: single.get("proposer")!.value,
    proposedAt: at.value,
    recipients,
    armored,
    envelope: envelopeOf(armored),
    fieldLines: {
      environment: single.get("environment")!.line,
      name: single.get("name")!.line,
      proposer: single.get("proposer")!.line,
      proposedAt: at.line,
      recipients: recipientsLine,
      payload: payloadLine,
    },
  };
}

/** The header of an armored age file of any size (age-header's `inspectAgeEnvelope` is for small wrapped keys). */
function envelopeOf(armored: string): AgeEnvelopeInfo {
  const body = armored.slice(BEGIN.length, armored.length - END.length).replace(/[ \t\r\n]+/g, "");
  if (body.length === 0 || body.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return { ok: false, problem: "the armored age file is not valid base64" };
  return parseAgeHeader(Buffer.from(body, "base64"));
}

/**
 * What the age header shows against the clear recipient list, without a key: undefined when they
 * agree (as many stanzas as listed recipients, of the listed types, each ssh-ed25519 stanza naming
 * a listed SSH key), else the problem in one sentence (never key material). X25519 stanzas do not
 * say whom they are for, so a swapped X25519 recipient is not visible here.
 */
export function proposalEnvelopeProblem(p: Pick<ParsedProposal, "recipients" | "envelope">): string | undefined {
  if (!p.envelope.ok) return p.envelope.problem;
  const stanzas = p.envelope.stanzas;
  if (stanzas.length !== p.recipients.length) {
    return `its age header holds ${stanzas.length} recipient stanza(s) but it lists ${p.recipients.length} recipient(s): someone else may be able to read it`;
  }
  const want = p.recipients.map((r) => ageStanzaTypeFor(r) ?? "?").sort();
  const have = stanzas.map((s) => s.type).sort();
  if (want.join(",") !== have.join(",")) return `its age header's stanza types (${have.join(", ")}) do not match the listed recipients (${want.join(", ")})`;
  const tags = new Set(p.recipients.filter((r) => r.startsWith("ssh-ed25519 ")).map(sshKeyTag));
  for (const s of stanzas) {
    if (s.type === "ssh-ed25519" && !tags.has(s.args[0] ?? "")) return "an ssh-ed25519 stanza of its age header is for a key the proposal does not list";
  }
  return undefined;
}

/**
 * Decrypts a proposal's value with `identities` (age identity lines or OpenSSH ed25519 private key
 * texts) and checks that the encrypted fields equal the clear ones. Never returns a value whose
 * clear name, environment, proposer, time or recipients were changed.
 * @throws SopsError NO_IDENTITY without identities; NO_MATCHING_IDENTITY when none of them is a
 *   recipient; TAMPERED when the age header disagrees with the listed recipients, the age file does
 *   not decrypt (changed or cut bytes) or the clear fields differ from the encrypted ones.
 */
export async function openProposal(p: ParsedProposal, identities: readonly string[], path = "proposal"): Promise<string> {
  const envelopeProblem = proposalEnvelopeProblem(p);
  const refuse = (why: string, cause?: unknown): SopsError =>
    new SopsError("TAMPERED", `the proposal was changed after it was written: ${why}; nothing was applied`, {
      file: path,
      cause,
      hint: "ask the proposer to propose the value again (`stellar-secrets set NAME --env ENV`), and remove this file with `stellar-secrets inbox reject`",
    });
  if (envelopeProblem !== undefined) throw refuse(envelopeProblem);
  if (identities.length === 0) {
    throw new SopsError("NO_IDENTITY", "no age identity found to open the proposal", { file: path, hint: "a member of the environment applies proposals with their own key" });
  }
  const { Decrypter, armor } = await typage();
  const d = new Decrypter();
  for (const id of identities) {
    try {
      d.addIdentity(isOpenSshPrivateKey(id) ? new SshEd25519Identity(id) : id);
    } catch {
      // an unusable identity line is skipped (findIdentities reported it)
    }
  }
  let plain: string;
  try {
    plain = await d.decrypt(armor.decode(p.armored), "text");
  } catch (e) {
    // typage 0.3.1 says so in this message when no identity opens a stanza; anything else is a bad file
    if (e instanceof Error && /no identity matched/.test(e.message)) {
      throw new SopsError("NO_MATCHING_IDENTITY", `none of your keys can open this proposal; it is encrypted to: ${p.recipients.join(", ")}`, {
        file: path,
        hint: `only the members of ${p.environment} when it was proposed can apply it`,
      });
    }
    throw refuse("its age file does not decrypt (changed or truncated bytes)", e);
  }
  let inner: Record<string, unknown>;
  try {
    inner = JSON.parse(plain) as Record<string, unknown>;
  } catch (e) {
    throw refuse("its encrypted payload is not a proposal", e);
  }
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  const checks: [string, unknown, unknown][] = [
    ["format", inner["stellar-secrets-proposal"], 1],
    ["environment", inner.environment, p.environment],
    ["name", inner.name, p.name],
    ["proposer", inner.proposer, p.proposer],
    ["proposed-at", inner["proposed-at"], p.proposedAt],
    ["recipients", inner.recipients, p.recipients],
  ];
  for (const [field, a, b] of checks) if (!same(a, b)) throw refuse(`its clear ${field} differs from the encrypted one`);
  if (typeof inner.value !== "string") throw refuse("its encrypted payload holds no value");
  return inner.value;
}
