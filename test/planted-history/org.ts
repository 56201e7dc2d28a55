/**
 * "Corvid Logistics": a fifth realistic organisation, built as a real git repository whose
 * HISTORY holds planted mistakes (README.md beside this file lists each one and its expected
 * finding). Several authors over four months, branches and merges made with real git and the
 * built CLI (the merge driver `git setup` installs), and a few steps done the way people do them
 * by hand (sops updatekeys, a text merge resolved in an editor, `git revert -m 1`).
 *
 * Every key is made for the run (age-keygen, node's ed25519) and is TEST-ONLY; every value is
 * fake. The repository is built once per test file ({@link buildHistoryOrg}) and shared.
 */
import { generateKeyPairSync } from "node:crypto";
import { expect } from "vitest";
import { bech32Encode } from "../../packages/sops/src/age-native.js";
import { wrapDataKey } from "../../packages/sops/src/age.js";
import { decryptSecrets, encryptWithKey } from "../../packages/sops/src/secrets-file.js";
import { edwardsToMontgomery } from "../../packages/sops/src/ssh.js";
import { createSandbox, type AgeKey, type Sandbox } from "../helpers/cli.js";

export const STAGING = "secrets/staging.enc.yaml";
export const PRODUCTION = "secrets/production.enc.yaml";

/** The fake values the history holds (the tests check no output ever shows one). */
export const VALUES = {
  stripe: "sk_live_TESTONLY_stripe_0001",
  stripeStaging: "sk_test_TESTONLY_stripe_0002",
  sendgrid: "SG.TESTONLY_sendgrid_0003",
  sendgridRotated: "SG.TESTONLY_sendgrid_rotated_0004",
  twilio: "TESTONLY_twilio_0005",
  twilioNew: "TESTONLY_twilio_new_0006",
  slack: "xoxb-TESTONLY-slack-0007",
  slackSigning: "TESTONLY_slack_signing_0008",
  marketing: "SG.TESTONLY_marketing_plaintext_0009",
};

/** Commits of the history by what they did (full ids). */
export interface OrgCommits {
  init: string;
  members: string;
  plaintext: string;
  plaintextStill: string;
  encrypted: string;
  erinMerge: string;
  erinRevert: string;
  rotateSendgrid: string;
  renameMerge: string;
  daveRemoved: string;
  fakeRotation: string;
  davidAdded: string;
  stagingFakeRotation: string;
  gitattributes: string;
  handMerge: string;
}

/** The built organisation. */
export interface HistoryOrg {
  s: Sandbox;
  alice: AgeKey;
  bob: AgeKey;
  carol: AgeKey;
  erin: AgeKey;
  mallory: AgeKey;
  /** dave's ssh-ed25519 public key (no comment) and the age1… form of the same key (ssh-to-age). */
  dave: { ssh: string; age: string };
  c: OrgCommits;
  /** What `git merge rename/sendgrid` printed (the merge driver stopping on sendgrid_api_key), "" when it merged cleanly. */
  renameConflict: string;
  /** Branches left open (not merged): the relabelled stanza and the moved base_url. */
  branches: { relabel: string; destination: string };
}

/** A TEST-ONLY ed25519 public key as an ssh-ed25519 line, with its age1… form (as ssh-to-age makes it). */
function sshKey(): { ssh: string; age: string } {
  const { publicKey } = generateKeyPairSync("ed25519");
  const ed = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
  const wire = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([wire(Buffer.from("ssh-ed25519")), wire(ed)]).toString("base64");
  return { ssh: `ssh-ed25519 ${blob}`, age: bech32Encode("age", edwardsToMontgomery(ed) as Buffer) };
}

const connection = (name: string, host: string, secret: string, prefix = "Bearer "): string =>
  `kind: api_connection\nname: ${name}\nbase_url: ${host}\nheaders:\n  - name: Authorization\n    type: secret\n    secret: ${secret}\n    prefix: "${prefix}"\n`;

const action = (name: string, conn: string, path: string): string => `kind: action\nname: ${name}\nconnection: ${conn}\nmethod: POST\npath: ${path}\n`;

/** Builds the repository (about 60 CLI and git runs). */
export async function buildHistoryOrg(): Promise<HistoryOrg> {
  const s = createSandbox({ user: "alice" });
  const alice = s.keygen("alice");
  const bob = s.keygen("bob");
  const carol = s.keygen("carol");
  const erin = s.keygen("erin");
  const mallory = s.keygen("mallory");
  const dave = sshKey();
  s.env.SOPS_AGE_KEY_FILE = alice.file;

  let day = 0;
  const when = (): string => new Date(Date.UTC(2025, 0, 6 + day++, 9, 30)).toISOString();
  const run = async (args: string[], input?: string): Promise<void> => {
    const r = await s.run(args, input === undefined ? {} : { input });
    expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
  };
  const set = (name: string, env: string, value: string): Promise<void> => run(["set", name, "--env", env, "--from-stdin"], value);
  const commit = (message: string, author: string): string => s.commit(message, { date: when(), author });
  const gitAs = (author: string, args: string[]): { ok: boolean; out: string } => {
    const date = when();
    const env = { GIT_AUTHOR_NAME: author, GIT_AUTHOR_EMAIL: `${author.toLowerCase()}@example.test`, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
    try {
      return { ok: true, out: s.git(args, { env }) };
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      return { ok: false, out: `${err.stdout ?? ""}${err.stderr ?? ""}` };
    }
  };
  const head = (): string => s.git(["rev-parse", "HEAD"]).trim();
  const decrypt = (rel: string) => decryptSecrets(s.read(rel), [alice.identity]);

  // --- January: alice sets the project up, the team joins
  await run(["init", "--env", "staging,production", "--member", "alice"]);
  await run(["git", "setup", "--no-hook"]);
  s.write("connections/stripe.yaml", connection("stripe", "https://api.stripe.com", "stripe_api_key"));
  s.write("connections/sendgrid.yaml", connection("sendgrid", "https://api.sendgrid.com", "sendgrid_api_key"));
  s.write("connections/twilio.yaml", connection("twilio", "https://api.twilio.com", "twilio_auth_token", "Basic "));
  s.write("connections/slack.yaml", connection("slack", "https://slack.com", "slack_bot_token"));
  s.write("agents/dispatch/agent.yaml", "kind: agent\nname: dispatch\nactions: [charge_order, send_receipt, text_driver, post_update]\n");
  s.write("agents/dispatch/actions/charge_order.yaml", action("charge_order", "stripe", "/v1/charges"));
  s.write("agents/dispatch/actions/send_receipt.yaml", action("send_receipt", "sendgrid", "/v3/mail/send"));
  s.write("agents/dispatch/actions/text_driver.yaml", action("text_driver", "twilio", "/2010-04-01/Messages.json"));
  s.write("agents/dispatch/actions/post_update.yaml", action("post_update", "slack", "/api/chat.postMessage"));
  for (const env of ["staging", "production"]) {
    await set("stripe_api_key", env, env === "production" ? VALUES.stripe : VALUES.stripeStaging);
    await set("sendgrid_api_key", env, VALUES.sendgrid);
    await set("twilio_auth_token", env, VALUES.twilio);
    await set("slack_bot_token", env, VALUES.slack);
  }
  const init = commit("init: Corvid Logistics secrets (staging, production), dispatch agent", "Alice");
  await run(["members", "add", "bob", bob.recipient, "--env", "staging,production"]);
  await run(["members", "add", "carol", carol.recipient, "--env", "staging"]);
  await run(["members", "add", "dave", dave.ssh, "--env", "production"]);
  const members = commit("members: bob (staging, production), carol (staging), dave (production, ssh key)", "Alice");

  // --- Mistake 2: a value committed in plaintext (hook skipped), encrypted two commits later
  const stagingBefore = s.read(STAGING);
  s.write(STAGING, stagingBefore.replace(/^sops:/m, `sendgrid_marketing_key: ${VALUES.marketing}\nsops:`));
  s.write("connections/sendgrid-marketing.yaml", connection("sendgrid_marketing", "https://api.sendgrid.com", "sendgrid_marketing_key"));
  s.write("agents/newsletter/agent.yaml", "kind: agent\nname: newsletter\nenvironments: [staging]\nactions: [send_newsletter]\n");
  s.write("agents/newsletter/actions/send_newsletter.yaml", action("send_newsletter", "sendgrid_marketing", "/v3/marketing/singlesends"));
  s.git(["add", "-A"]);
  const plaintext = (gitAs("Carol", ["commit", "-q", "--no-verify", "-m", "staging: sendgrid marketing key for the newsletter test"]), head());
  s.write("agents/dispatch/agent.yaml", "kind: agent\nname: dispatch\ndescription: Books, charges and tracks deliveries\nactions: [charge_order, send_receipt, text_driver, post_update]\n");
  const plaintextStill = commit("dispatch: describe the agent", "Bob");
  s.write(STAGING, stagingBefore);
  await set("sendgrid_marketing_key", "staging", VALUES.marketing);
  const encrypted = commit("staging: encrypt sendgrid_marketing_key (was committed in clear by mistake)", "Carol");

  // --- Mistake 10: erin gets production on a branch, merged; the merge reverted with -m 1
  s.git(["checkout", "-q", "-b", "access/erin"]);
  await run(["members", "add", "erin", erin.recipient, "--env", "production"]);
  commit("members: erin (on-call, production)", "Alice");
  s.git(["checkout", "-q", "main"]);
  expect(gitAs("Alice", ["merge", "-q", "--no-ff", "-m", "Merge branch 'access/erin'", "access/erin"]).ok).toBe(true);
  const erinMerge = head();
  expect(gitAs("Bob", ["revert", "--no-edit", "-m", "1", erinMerge]).ok).toBe(true);
  const erinRevert = head();

  // --- Mistake 9: sendgrid_api_key renamed on one branch, rotated on another; both merged
  s.git(["checkout", "-q", "-b", "rename/sendgrid"]);
  for (const env of ["staging", "production"]) {
    await set("sendgrid_mail_api_key", env, VALUES.sendgrid);
    await run(["rm", "sendgrid_api_key", "--env", env, "--yes", "--force"]);
  }
  s.write("connections/sendgrid.yaml", connection("sendgrid", "https://api.sendgrid.com", "sendgrid_mail_api_key"));
  commit("sendgrid: rename sendgrid_api_key to sendgrid_mail_api_key", "Carol");
  s.git(["checkout", "-q", "-b", "rotate/sendgrid", "main"]);
  await set("sendgrid_api_key", "production", VALUES.sendgridRotated);
  const rotateSendgrid = commit("production: rotate sendgrid_api_key (old key revoked at SendGrid)", "Bob");
  s.git(["checkout", "-q", "main"]);
  expect(gitAs("Bob", ["merge", "-q", "--no-ff", "-m", "Merge branch 'rotate/sendgrid'", "rotate/sendgrid"]).ok).toBe(true);
  const conflicted = gitAs("Carol", ["merge", "--no-ff", "-m", "Merge branch 'rename/sendgrid'", "rename/sendgrid"]);
  if (!conflicted.ok) {
    // the driver stops on the name changed on one side and removed on the other: the rename wins
    await run(["resolve", "sendgrid_api_key", "--env", "production", "--theirs"]);
    s.git(["add", "-A"]);
    gitAs("Carol", ["commit", "-q", "--no-verify", "--no-edit"]);
  }
  const renameMerge = head();

  // --- Mistake 1: dave leaves; removed by hand with sops updatekeys (no new data key) ...
  s.write("stellar.yaml", s.read("stellar.yaml").replace(/^ {6}dave: .*\n/m, ""));
  s.write(".sops.yaml", s.read(".sops.yaml").replace(`,${dave.ssh}`, "").replace(`${dave.ssh},`, ""));
  {
    const prod = await decrypt(PRODUCTION);
    const stanzas = prod.file.metadata.age.filter((st) => !st.recipient.startsWith("ssh-ed25519"));
    s.write(PRODUCTION, encryptWithKey(prod.values, { dataKey: prod.dataKey, age: stanzas, reuseFrom: [prod], version: prod.file.metadata.version }));
  }
  const daveRemoved = commit("members: dave left (sops updatekeys)", "Alice");
  // ... and a later commit that says it rotates but only re-encrypts under the same data key
  {
    const prod = await decrypt(PRODUCTION);
    s.write(PRODUCTION, encryptWithKey(prod.values, { dataKey: prod.dataKey, age: prod.file.metadata.age, reuseFrom: [], version: prod.file.metadata.version }));
  }
  const fakeRotation = commit("production: rotate data key after dave left", "Bob");

  // --- Mistake 5: dave back as "david", his same key written in its age1… form
  const added = await s.run(["members", "add", "david", dave.age, "--env", "production"]);
  expect(added.code, added.stderr).toBe(0);
  const davidAdded = commit("members: david (contractor, production)", "Alice");

  // --- Mistake 8: "rotate staging data key": every stanza wrapped anew, the data key unchanged
  {
    const stg = await decrypt(STAGING);
    const age = await Promise.all(stg.file.metadata.age.map(async (st) => ({ recipient: st.recipient, enc: await wrapDataKey(stg.dataKey, st.recipient) })));
    s.write(STAGING, encryptWithKey(stg.values, { dataKey: stg.dataKey, age, reuseFrom: [stg], version: stg.file.metadata.version }));
  }
  const stagingFakeRotation = commit("staging: rotate data key (quarterly)", "Carol");

  // --- Mistake 6: .gitattributes takes the environment files off the merge driver
  s.write(".gitattributes", s.read(".gitattributes").replace(/ merge=stellar/g, ""));
  const gitattributes = commit(".gitattributes: merge secrets as text (CI has no merge driver)", "Bob");

  // --- Mistake 3: a text merge of staging, conflict markers resolved by hand (MAC now stale)
  s.git(["checkout", "-q", "-b", "feature/slack-events"]);
  await set("slack_signing_secret", "staging", VALUES.slackSigning);
  s.write("connections/slack-events.yaml", connection("slack_events", "https://slack.com", "slack_signing_secret", "v0="));
  s.write("agents/newsletter/agent.yaml", "kind: agent\nname: newsletter\nenvironments: [staging]\nactions: [send_newsletter, verify_event]\n");
  s.write("agents/newsletter/actions/verify_event.yaml", action("verify_event", "slack_events", "/api/events"));
  commit("staging: slack_signing_secret for the events API", "Carol");
  s.git(["checkout", "-q", "main"]);
  await set("twilio_auth_token", "staging", VALUES.twilioNew);
  commit("staging: new twilio token", "Bob");
  const textMerge = gitAs("Bob", ["merge", "--no-ff", "-m", "Merge branch 'feature/slack-events'", "feature/slack-events"]);
  expect(textMerge.ok, "the text merge of staging conflicts").toBe(false);
  s.write(STAGING, resolveByHand(s.read(STAGING)));
  s.git(["add", "-A"]);
  gitAs("Bob", ["commit", "-q", "--no-verify", "--no-edit"]);
  const handMerge = head();

  // --- open branches: mistake 4 (a stanza for mallory labelled as bob's) and mistake 7 (a moved base_url)
  s.git(["checkout", "-q", "-b", "ci/deploy-key"]);
  {
    const prod = await decrypt(PRODUCTION);
    const age = [...prod.file.metadata.age, { recipient: bob.recipient, enc: await wrapDataKey(prod.dataKey, mallory.recipient) }];
    s.write(PRODUCTION, encryptWithKey(prod.values, { dataKey: prod.dataKey, age, reuseFrom: [prod], version: prod.file.metadata.version }));
  }
  commit("production: deploy key for CI", "Mallory");
  s.git(["checkout", "-q", "-b", "vendor/stripe-proxy", "main"]);
  s.write("connections/stripe.yaml", connection("stripe", "https://api.stripe-payments-proxy.example.net", "stripe_api_key"));
  commit("stripe: go through the payments proxy", "Mallory");
  s.git(["checkout", "-q", "main"]);

  return {
    s,
    alice,
    bob,
    carol,
    erin,
    mallory,
    dave,
    renameConflict: conflicted.ok ? "" : conflicted.out,
    c: { init, members, plaintext, plaintextStill, encrypted, erinMerge, erinRevert, rotateSendgrid, renameMerge, daveRemoved, fakeRotation, davidAdded, stagingFakeRotation, gitattributes, handMerge },
    branches: { relabel: "ci/deploy-key", destination: "vendor/stripe-proxy" },
  };
}

/**
 * What a person does in an editor with a conflicted environment file: keeps both sides' secret
 * lines and our `sops:` block (so the MAC covers only ours).
 */
export function resolveByHand(text: string): string {
  const out: string[] = [];
  let side: "none" | "ours" | "base" | "theirs" = "none";
  let theirs: string[] = [];
  let ours: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("<<<<<<< ")) {
      side = "ours";
      ours = [];
      theirs = [];
    } else if (line.startsWith("||||||| ") && side === "ours") side = "base";
    else if (line === "=======" && side !== "none") side = "theirs";
    else if (line.startsWith(">>>>>>> ") && side === "theirs") {
      const keys = new Set(ours.map((l) => /^([A-Za-z0-9_]+):/.exec(l)?.[1]).filter(Boolean));
      out.push(...ours, ...theirs.filter((l) => /^[A-Za-z0-9_]+:/.test(l) && !l.startsWith("sops:") && !keys.has(/^([A-Za-z0-9_]+):/.exec(l)?.[1])));
      side = "none";
    } else if (side === "ours") ours.push(line);
    else if (side === "theirs") theirs.push(line);
    else if (side === "none") out.push(line);
  }
  return out.join("\n");
}
