/**
 * `stellar-secrets set NAME --env ENV[,ENV]`: creates or updates a secret's value in one or more
 * environments, reading the value from a hidden prompt, stdin or a file, never from argv; and/or
 * writes its catalog entry (`--description`, `--owner`, `--rotate-every`).
 */
import { existsSync } from "node:fs";
import { relative } from "node:path";
import { secretsFilePath, setCatalogEntry, validateSecretName, type CatalogEntry, type ProjectConfig } from "@stellar-secrets/core";
import { createSecretsFile, DecryptCache, editSecretsFile, escapeControlCharacters, isSopsError } from "@stellar-secrets/sops";
import { followMergeRecord } from "../merge-record-follow.js";
import { parseCommandArgs, parseDurationDays, splitList } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { CliError } from "../errors.js";
import { humanList, renderJson } from "../format.js";
import { inboxFolder, writeProposal } from "../inbox.js";
import { chooseValueSource, pastedValueAsName, readValue } from "../input.js";
import {
  assertCanDecrypt,
  identitiesFor,
  keyGroupsRuleFor,
  namesIn,
  openProject,
  ownKeySourceProblem,
  updateCatalog,
  readEnvironmentFiles,
  recipientsOf,
  selectEnvironments,
  syncSopsConfigs,
  withProjectLock,
  type EnvironmentFile,
} from "../repository.js";
import { outsideSparseCheckout, outsideSparseCheckoutError } from "../sparse.js";
import { newSecretNote } from "../suggest.js";
import { startupVariableNote } from "../variables.js";

const help = `Usage: stellar-secrets set NAME --env ENV[,ENV...] [--from-stdin [--keep-newlines] | --from-file FILE]
                           [--description TEXT] [--owner TEAM] [--rotate-every DURATION] [--no-propose] [--json]

Creates or updates the secret NAME in each environment given, with the same value. The value is
read, in this order of preference:
  --from-stdin     everything on stdin; trailing newline characters (\\n, \\r\\n) are removed, as
                   \`gh secret set\` does, so \`echo "$V" | ...\` stores exactly $V
  --from-stdin --keep-newlines
                   everything on stdin, byte for byte (trailing newlines kept), e.g. to copy
                   a PEM value: \`get OLD --env E | set NEW --env E --from-stdin --keep-newlines\`
  --from-file F    the exact bytes of F (a trailing newline is kept)
  (neither)        a hidden prompt on the terminal: nothing is echoed; Enter ends the value,
                   Ctrl-C aborts (use --from-file for multi-line values: a pasted
                   multi-line value is refused whole, INVALID_VALUE, never cut to its first line)
Values are never taken from arguments, so they stay out of shell history and process lists.
Unchanged values keep their exact ciphertext, so \`git diff\` shows only what changed; setting
the value a secret already has leaves the file untouched.

An environment's first file is encrypted to its members in stellar.yaml; one with no members is
refused (NO_RECIPIENTS, exit 27: \`stellar-secrets members add NAME KEY --env ENV\` first). When no
.sops.yaml creation rule matches the new file (an environment added to stellar.yaml by hand),
one is added for it, as init writes rules.

Without the key of an environment (you are not one of its members), the value becomes a
proposal instead: secrets/inbox/ENV/NAME.<id>.age, age-encrypted to ENV's members only, with the
name, environment, you (git user.name <user.email>) and the time in clear. You cannot read it back.
Commit it and open a pull request; a member applies it with \`stellar-secrets inbox apply NAME
--env ENV\`. The command says so before it asks for the value. Either every environment
given is written, or every one is proposed: a mix is refused (nothing written).
  --no-propose     fail instead (NO_IDENTITY / NO_MATCHING_IDENTITY, as before proposals)

Names: lowercase letters, digits and underscores, starting with a letter, at most 64 characters
(e.g. stripe_api_key). Names are fixed once created (see \`stellar-secrets rename\`). A NAME that
looks like a credential (sk_live_…, ghp_…, a long random token) is refused without being shown.

Catalog (secrets/catalog.yaml, plain text, no --env needed):
  --description TEXT    what the secret is for
  --owner TEAM          who looks after it
  --rotate-every D      rotation policy: a number and d/w/m/y (e.g. 90d); \`stale\` uses it

Options:
  --env ENV[,ENV]  environments to write (repeatable)
  --json           print what changed as JSON

Examples:
  stellar-secrets set stripe_api_key --env development            # prompts
  printf %s "$KEY" | stellar-secrets set stripe_api_key --env staging,production --from-stdin
  stellar-secrets set stripe_api_key --description "Stripe secret key for billing" --owner payments
`;

const flags = {
  env: { type: "string", multiple: true },
  "from-stdin": { type: "boolean" },
  "keep-newlines": { type: "boolean" },
  "from-file": { type: "string" },
  description: { type: "string" },
  owner: { type: "string" },
  "rotate-every": { type: "string" },
  "no-propose": { type: "boolean" },
  json: { type: "boolean" },
} as const;

type Action = "created" | "updated" | "unchanged" | "proposed";

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { flags: f, positionals } = parseCommandArgs("set", argv, flags, {
    min: 1,
    max: 1,
    names: "NAME",
    hideExtra: "values are never taken from arguments; use the prompt, --from-stdin or --from-file",
  });
  const name = positionals[0] as string;
  if (name.includes("=")) {
    // `set NAME=VALUE`: the part after "=" is probably a value; never echo it or build a name from it
    const before = name.slice(0, name.indexOf("="));
    throw new CliError("INVALID_SECRET_NAME", "the NAME argument contains \"=\": a value must not be passed in the argument (not shown) [invalid-secret-name]", {
      hint: `${validateSecretName(before).ok ? `run \`stellar-secrets set ${before} --env ENV\`` : "give only the name"} and pass the value through the prompt, --from-stdin or --from-file; if it was a real value, treat it as exposed (shell history)`,
    });
  }
  const pasted = pastedValueAsName(name, "the NAME argument");
  if (pasted !== undefined) throw pasted;
  const validation = validateSecretName(name);
  if (!validation.ok) {
    throw new CliError("INVALID_SECRET_NAME", `${validation.message} [${validation.rule}]`, {
      hint: validation.suggestion !== undefined ? `try "${validation.suggestion}"` : "use lowercase letters, digits and underscores, starting with a letter",
    });
  }
  const catalogPatch: Partial<CatalogEntry> = {};
  if (f.description !== undefined) catalogPatch.description = f.description;
  if (f.owner !== undefined) catalogPatch.owner = f.owner;
  if (f["rotate-every"] !== undefined) {
    parseDurationDays(f["rotate-every"], "--rotate-every");
    catalogPatch.rotate_every = f["rotate-every"].trim();
  }
  const wantsCatalog = Object.keys(catalogPatch).length > 0;
  const envNames = splitList(f.env);
  const wantsValue = envNames.length > 0 || f["from-stdin"] === true || f["from-file"] !== undefined || f["keep-newlines"] === true;

  const config = await openProject(ctx);
  if (!wantsValue && !wantsCatalog) {
    throw new CliError("USAGE", "set: --env is required", {
      hint: `name the environments to write: ${config.environments.map((e) => e.name).join(", ")}`,
    });
  }

  if (wantsCatalog && !wantsValue) {
    // a catalog entry describes a secret: refuse one for a name no environment has (check would
    // report it as unknown-secret), unless this command creates the value too
    const files = await readEnvironmentFiles(config, config.environments);
    if (!files.some((x) => namesIn(x.file).includes(name))) {
      throw new CliError("UNKNOWN_SECRET", `secret "${name}" has no value in any environment; no catalog entry written`, {
        hint: `create it and its entry together: stellar-secrets set ${name} --env ENV --from-stdin (or the prompt) with the catalog flags; \`stellar-secrets list\` shows the secrets`,
      });
    }
  }

  const results: { environment: string; action: Action; file: string }[] = [];
  if (wantsValue) {
    const envs = selectEnvironments(config, envNames, { all: false });
    // fail before prompting, and before the first write, when a file cannot be opened; an
    // environment the user has no key for gets a proposal instead (unless --no-propose)
    const proposeIn = new Set<string>();
    let firstNoKey: unknown;
    // what this check verifies, the write below does not decrypt again (one pass of AES-GCM, the MAC verified at each read)
    const verified = new DecryptCache();
    const targetFiles = await readEnvironmentFiles(config, envs, verified);
    // an environment file a sparse checkout left out of the work tree is no new environment: a file
    // written there would replace the committed one (every other secret of it dropped at the next commit)
    const skipped = await outsideSparseCheckout(ctx, config.root, targetFiles.filter((x) => x.file === undefined).map((x) => secretsFilePath(config, x.env.name)));
    if (skipped.length > 0) throw outsideSparseCheckoutError(skipped, `nothing was written (a new file there would replace the committed one, whose other secrets the next commit would drop)`);
    for (const file of targetFiles) {
      // a first file nobody could open is refused before the prompt (a file needs a recipient)
      if (file.file === undefined && recipientsOf(file.env).length === 0) throw noMembers(file.env.name);
      // a first file under a .sops.yaml rule that splits the data key into key groups: stellar-secrets
      // writes one list of stanzas (each member decrypts alone), which is not what the rule asks for
      const split = file.file === undefined ? await keyGroupsRuleFor(config, file.env.name) : undefined;
      if (split !== undefined) {
        const path = relative(config.root, secretsFilePath(config, file.env.name));
        throw new CliError(
          "UNSUPPORTED",
          `creation rule ${split.rule} of ${split.file}, which sops uses for ${path}, splits its data key into ${split.groups} key groups (sops Shamir secret sharing; ${split.needed} needed together), and stellar-secrets does not split a data key: ` +
            `the file it would create opens for each member of ${file.env.name} alone; nothing was written`,
          {
            hint: `create the file with sops so that the rule's groups apply (\`sops encrypt\`; stellar-secrets then reads it and sets values in it under the same groups), or make the rule one \`age:\` list of ${file.env.name}'s members if each of them should decrypt alone`,
          },
        );
      }
      try {
        await assertCanDecrypt(ctx, config, [file], verified);
      } catch (error) {
        // by code: the access error may come as the envelope's SopsError or as the CLI's worded CliError
        const code = (error as { code?: unknown } | undefined)?.code;
        const noKey = code === "NO_IDENTITY" || code === "NO_MATCHING_IDENTITY";
        if (!noKey || f["no-propose"] === true || recipientsOf(file.env).length === 0) throw error;
        // a key file the user named (SOPS_AGE_KEY_FILE, …) that gives no key: most likely a member
        // with a typo, whose value would otherwise go quietly into a proposal; the error's hint says what to fix
        if (ownKeySourceProblem(ctx) !== undefined) {
          ctx.stderr.write(`note: nothing was written and no proposal made for ${file.env.name}: a key file you named gives no key (below); fix it to set the value, or unset it to propose one\n`);
          throw error;
        }
        proposeIn.add(file.env.name);
        firstNoKey ??= error;
      }
    }
    if (proposeIn.size > 0 && proposeIn.size < envs.length) {
      // some environments would be written and others proposed: refuse as before, nothing half-way
      const others = envs.filter((e) => proposeIn.has(e.name)).map((e) => e.name);
      ctx.stderr.write(`note: you have no key for ${humanList(others)}; nothing was written. Set the value where you have a key, and propose it for ${others.length > 1 ? "those" : "that one"} separately: stellar-secrets set ${name} --env ${others.join(",")}\n`);
      throw firstNoKey;
    }
    for (const env of envs.filter((e) => proposeIn.has(e.name))) {
      ctx.stderr.write(
        `You have no key for ${env.name}: the value will become a proposal (${relative(config.root, inboxFolder(config, env.name))}/${name}.<id>.age), encrypted to its members only (${humanList(env.members.map((m) => m.name))}). You will not be able to read it back; a member applies it with \`stellar-secrets inbox apply ${name} --env ${env.name}\`. (--no-propose refuses instead.)\n`,
      );
    }
    const source = chooseValueSource(ctx, f, `Value for ${name} (${envs.map((e) => e.name).join(", ")}): `);
    // a new name: a typo of an existing one, or one whose exec/export variable is a startup variable (check warns)
    const notes = targetFiles.some((x) => namesIn(x.file).includes(name))
      ? []
      : [newSecretNote(name, await namesElsewhere(config, targetFiles)), startupVariableNote(name)].filter((n): n is string => n !== undefined);
    // (the names come from the environment files: control characters are shown escaped)
    for (const note of notes) ctx.stderr.write(`${escapeControlCharacters(note)}${source.kind === "prompt" ? " (Ctrl-C at the prompt writes nothing)" : ""}\n`);
    const value = await readValue(ctx, source);
    const identities = identitiesFor(ctx);
    for (const env of envs) {
      if (proposeIn.has(env.name)) {
        results.push({ environment: env.name, action: "proposed", file: await writeProposal(ctx, config, env, name, value) });
        continue;
      }
      const path = secretsFilePath(config, env.name);
      const file = relative(config.root, path);
      if (!existsSync(path)) {
        // the first file gets the members stellar.yaml lists now, read under the lock that
        // `members add/rm` hold (a member added meanwhile is not left out)
        const created = await withProjectLock(ctx, async (locked) => {
          if (existsSync(path)) return false;
          const recipients = recipientsOf(locked.environments.find((e) => e.name === env.name) ?? env);
          if (recipients.length === 0) throw noMembers(env.name);
          await createSecretsFile(path, recipients, new Map([[name, value]]));
          // an environment added to stellar.yaml by hand has no .sops.yaml rule yet: add it as
          // members add and init write one, so plain sops users can edit the file it now has
          return syncSopsConfigs(locked, { addRulesFor: [env.name], addOnly: true });
        });
        if (created !== false) {
          results.push({ environment: env.name, action: "created", file });
          if (created.length > 0) ctx.stderr.write(`note: added a creation rule for ${env.name} to ${humanList(created)} (sops encrypts ${file} to its members)\n`);
          continue;
        }
      }
      // the same value again leaves the file untouched (no new mac/lastmodified in git):
      // editSecretsFile writes nothing when the values did not change (one decrypt, under the lock)
      let action: Action = "created";
      // during a conflicted merge the driver's record of the file follows this write (else it went stale and the conflict could be committed unseen)
      await followMergeRecord(
        ctx,
        config.root,
        path,
        () =>
          editSecretsFile(
            path,
            identities,
            (values) => {
              const previous = values.get(name);
              action = previous === undefined ? "created" : previous === value ? "unchanged" : "updated";
              values.set(name, value);
            },
            { cache: verified },
          ),
        () => [name],
      );
      results.push({ environment: env.name, action, file });
    }
  }

  let catalogFile: string | undefined;
  if (wantsCatalog) {
    const path = await updateCatalog(config, (text) => setCatalogEntry(text, name, catalogPatch));
    catalogFile = relative(config.root, path);
  }

  if (f.json) {
    ctx.stdout.write(renderJson({ name, environments: results, catalog: catalogFile === undefined ? null : { file: catalogFile, ...catalogPatch } }));
    return 0;
  }
  const byAction = new Map<Action, string[]>();
  for (const r of results) byAction.set(r.action, [...(byAction.get(r.action) ?? []), r.environment]);
  const lines: string[] = [];
  for (const [action, envs] of byAction) {
    if (action !== "proposed") lines.push(`${action} ${name} in ${humanList(envs)}`);
  }
  for (const r of results.filter((x) => x.action === "proposed")) {
    lines.push(`proposed ${name} for ${r.environment}: ${r.file} (readable by its members only, not by you); commit it and open a pull request, a member applies it with \`stellar-secrets inbox apply ${name} --env ${r.environment}\``);
  }
  if (catalogFile !== undefined) lines.push(`catalog entry for ${name} written to ${catalogFile}`);
  ctx.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

/**
 * The names of `read` and of every other environment file (read keylessly, for names only; a file
 * that cannot be read only loses its names here: the command does not write it).
 */
async function namesElsewhere(config: ProjectConfig, read: readonly EnvironmentFile[]): Promise<string[]> {
  const names = read.flatMap((x) => namesIn(x.file));
  for (const env of config.environments.filter((e) => !read.some((x) => x.env === e))) {
    try {
      for (const x of await readEnvironmentFiles(config, [env])) names.push(...namesIn(x.file));
    } catch {
      // (a malformed other environment file is reported by the commands that read it)
    }
  }
  return names;
}

const command: Command = { summary: "create or update a secret's value (hidden prompt, stdin or file) and its catalog entry", help, run };
export default command;

/** NO_RECIPIENTS for `set` into an environment that has no members (and so no file yet). */
function noMembers(env: string): CliError {
  return new CliError("NO_RECIPIENTS", `environment "${env}" has no members, so nobody could decrypt its file: nothing was written`, {
    hint: `add a member first: stellar-secrets members add NAME KEY --env ${env} (your key: stellar-secrets whoami), then set the value again`,
  });
}
