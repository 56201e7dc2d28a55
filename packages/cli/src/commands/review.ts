/**
 * `stellar-secrets review [BASE [HEAD]] [--json]`: explains an encrypted change without any key —
 * secrets added, changed, removed or re-encrypted per environment, who gained or lost access,
 * removals that did not rotate the data key, plaintext, and the references the change breaks.
 */
import {
  buildReview,
  findProjectRoot,
  PROJECT_FILE,
  readCommitTouches,
  type ReviewState,
  type SignedCommit,
} from "@stellar-secrets/core";
import { parseCommandArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { GitRepo } from "../git.js";
import { allowedSigners, verifyCommits } from "../signing.js";
import { readState, type Revision } from "../states.js";
import { renderReviewJson, renderReviewMarkdown, renderReviewSarif, renderReviewText, REVIEW_FORMATS, type ReviewFormat } from "../review-render.js";

const help = `Usage: stellar-secrets review [BASE [HEAD] | BASE..HEAD | BASE...HEAD] [--json | --format text|json|markdown|sarif]

Explains an encrypted change without any key, from names, ciphertext changes, recipient lists
and references alone: per environment, the secrets added, changed (their encrypted string
differs) and removed; a data-key rotation (every value re-encrypted) as one line, "re-encrypted
(values may or may not have changed)"; the members (stellar.yaml) and the age recipients of the
file that gained or lost access, named where a key is known; a removal that did not rotate the
data key; a secrets file or value that is no longer encrypted; and the checker diagnostics of
the new state that are new or concern a changed secret (e.g. a removed secret still referenced).
Never reads a key and never prints a value.

Signatures (a range of commits only): every commit of the range that changes an environment's
file, or its members in stellar.yaml, must be signed (git ssh signing) by a member of that
environment in the BASE's stellar.yaml, never the head's: without keys an unsigned commit that
replaced every value under a new data key looks exactly like a legitimate rotate-key. Rule
unsigned-change: an error where every member of the environment has an ssh-ed25519 key, a
warning where only some do, nothing where none does.

What is compared (as with \`git diff\`):
  review               HEAD against the working tree (before the first commit: everything)
  review BASE          BASE against the working tree
  review BASE HEAD     two commits (also BASE..HEAD)
  review BASE...HEAD   what HEAD changed since it forked from BASE (a pull request:
                       \`stellar-secrets review origin/main...HEAD\`)

Options:
  --format FORMAT  text (default); json; markdown (a pull-request comment: summary, problems
                   with file:line, details folded); sarif (SARIF 2.1.0: checker rule ids, plus
                   plaintext, unrotated-removal, non-member-recipient, weakened-rule,
                   unsigned-change; warnings at level warning)
  --json           same as --format json: {"base","head","environments":[{"environment","file",
                   "fileChange","secrets":[{"name","change","before"?,"after"?}],"dataKeyRotated",
                   "rotationUncertain","reencrypted","members","recipients","encrypted","problems",
                   "notes"}],"diagnostics","problems","warnings","signatures":{"checked","commits":
                   [{"commit","status","signer"?,"key"?,"environments","unsignedFor"}],
                   "unverifiable"},"summary","clean"} (docs/cli.md: every field)

Exit status: 0 the change is clean (warnings do not count); 1 it has problems (a new checker
error, judged by the base's rule severities; a plaintext file or value; a member removed without
a data-key rotation; a recipient of a file who is not a member of its environment; a rule that
stellar.yaml weakens; a commit not signed by a member where every member can sign); 2 usage;
4 BASE or HEAD is not a commit; 5 no stellar.yaml; 22 not in a git repository; 24 a shallow
clone lacks BASE or the merge-base (fetch the history: \`git fetch --unshallow\`, or
actions/checkout with fetch-depth: 0).
`;

const flags = { json: { type: "boolean" }, format: { type: "string" } } as const;

/** How the positionals name the two sides. */
export function parseRange(positionals: string[]): { base: string | undefined; head: string | undefined; symmetric: boolean } {
  if (positionals.length === 2) return { base: positionals[0], head: positionals[1], symmetric: false };
  const [arg] = positionals;
  if (arg === undefined) return { base: undefined, head: undefined, symmetric: false };
  for (const sep of ["...", ".."]) {
    const at = arg.indexOf(sep);
    if (at === -1) continue;
    const a = arg.slice(0, at) || "HEAD";
    const b = arg.slice(at + sep.length) || "HEAD";
    return { base: a, head: b, symmetric: sep === "..." };
  }
  return { base: arg, head: undefined, symmetric: false };
}

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f, positionals } = parseCommandArgs("review", argv, flags, { min: 0, max: 2, names: "BASE" });
  if (positionals.length === 2 && positionals.some((p) => p.includes(".."))) {
    throw new CliError("USAGE", "review: give either BASE HEAD or BASE..HEAD, not both", { hint: "e.g. `stellar-secrets review main feature` or `stellar-secrets review main..feature`" });
  }
  if (f.json && f.format !== undefined && f.format !== "json") {
    throw new CliError("USAGE", "review: --json and --format are exclusive", { hint: "use one of --json or --format text|json|markdown|sarif" });
  }
  const format = (f.json ? "json" : (f.format ?? "text")) as ReviewFormat;
  if (!REVIEW_FORMATS.includes(format)) {
    throw new CliError("USAGE", `review: unknown format "${format}"`, { hint: "use --format text, json, markdown or sarif" });
  }
  const root = findProjectRoot(ctx.cwd);
  if (root === undefined) {
    throw new CliError("NO_PROJECT", `no ${PROJECT_FILE} in ${ctx.cwd} or any parent directory`, {
      hint: "run `stellar-secrets review` inside a Stellar Secrets repository",
    });
  }
  const repo = await GitRepo.open(root, ctx.env);
  const range = parseRange(positionals);
  let baseRev: Revision;
  let baseLabel: string;
  let headRev: Revision;
  let headLabel: string;
  if (range.head === undefined) {
    headRev = { kind: "working-tree" };
    headLabel = "working tree";
  } else {
    headRev = { kind: "commit", ref: range.head };
    headLabel = range.head;
  }
  if (range.base === undefined) {
    const hasHead = await repo.hasHead();
    baseRev = hasHead ? { kind: "commit", ref: "HEAD" } : { kind: "empty" };
    baseLabel = hasHead ? "HEAD" : "nothing (no commit yet)";
  } else if (range.symmetric) {
    const a = await repo.resolve(range.base);
    const b = await repo.resolve(range.head as string);
    baseRev = { kind: "commit", ref: await repo.mergeBase(a, b) };
    baseLabel = `merge-base of ${range.base} and ${range.head}`;
  } else {
    baseRev = { kind: "commit", ref: range.base };
    baseLabel = range.base;
  }
  const base = await readState(repo, root, baseRev, baseLabel);
  const head = await readState(repo, root, headRev, headLabel);
  if (head.index === undefined) {
    throw new CliError("NO_PROJECT", `${headLabel} has no ${PROJECT_FILE}`, { hint: "review a state of the repository that is a Stellar Secrets project" });
  }
  // a moved file keeps its diagnostics: match them through git's rename detection
  const renamed = base.commit === undefined ? new Map<string, string>() : await repo.renames(base.commit, head.commit);
  const signatures = await signedCommits(repo, base, head);
  const report = buildReview(base, head, renamed, { signatures });
  const render = {
    text: renderReviewText,
    json: renderReviewJson,
    markdown: renderReviewMarkdown,
    sarif: (r: typeof report) => `${JSON.stringify(renderReviewSarif(r, root, "0.1.0"), null, 2)}\n`,
  }[format];
  ctx.stdout.write(render(report));
  return report.clean ? 0 : 1;
}

/**
 * The commits of base..head that change an environment, with their signatures verified by git
 * against the members of the **base**'s stellar.yaml (never the head's). Undefined when a side is
 * not a commit (the working tree: there are no commits to verify) or the base has no stellar.yaml.
 */
async function signedCommits(repo: GitRepo, base: ReviewState, head: ReviewState): Promise<SignedCommit[] | undefined> {
  const baseConfig = base.index?.project;
  if (base.commit === undefined || head.commit === undefined || baseConfig === undefined) return undefined;
  const touches = await readCommitTouches(repo, base, head);
  const environments = [...new Set(touches.flatMap((t) => [...t.files, ...t.members]))];
  const verdicts = await verifyCommits(
    repo,
    touches.map((t) => t.commit),
    allowedSigners(baseConfig, environments),
  );
  return touches.map((t, i) => {
    const v = verdicts[i];
    return { ...t, status: v?.status ?? "unknown-signer", ...(v?.signer === undefined ? {} : { signer: v.signer }), ...(v?.key === undefined ? {} : { key: v.key }) };
  });
}

const command: Command = { summary: "explain an encrypted change (secrets, access, references) without any key", help, run };
export default command;
