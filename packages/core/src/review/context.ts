/**
 * What every finding of one review reads besides the two states: the two projects, who a key
 * belongs to (now, in a commit of the change, in an earlier `stellar.yaml`), how messages word
 * paths and commands for the reader, and the environment files' versions the range wrote. Built
 * once per review ({@link reviewContext}); its lookups read the inputs lazily, once.
 */
import { isSameKey, normalizeSecretsDir, type SecretsFile } from "@stellar-secrets/sops";
import { parseProjectConfig, PROJECT_FILE, type ProjectConfig } from "../project.js";
import { SOPS_CONFIG_FILE } from "../sops-config.js";
import type { ReviewInputs } from "./report.js";
import type { PathVersion } from "./retired-key.js";
import type { ReviewState } from "./state.js";
import { findingWording, messageRewording, type FindingWording } from "./wording.js";

/** One review's shared reading of its inputs ({@link reviewContext}). */
export interface ReviewContext {
  readonly base: ReviewState;
  readonly head: ReviewState;
  /** A head path → the base path git's rename detection says it was moved from. */
  readonly renamed: ReadonlyMap<string, string>;
  readonly inputs: ReviewInputs;
  readonly baseConfig: ProjectConfig | undefined;
  readonly headConfig: ProjectConfig | undefined;
  /** How messages name paths and commands (a nested project's are read at the outer root). */
  readonly w: FindingWording;
  /** The checker's message for the project's folder, reworded for the reader. */
  readonly reword: (message: string, also?: string) => string;
  /** The member name a key has in the head's, else the base's, stellar.yaml. */
  whoIs(recipient: string): string | undefined;
  /** The member name a key has in the stellar.yaml of a commit of the change (that commit's first, then the others, newest first). */
  whoWasIn(recipient: string, commit: string): string | undefined;
  /** The member name an earlier stellar.yaml of the base's history gave a key (newest first). */
  whoWasEarlier(recipient: string): string | undefined;
  /** A former member whose key (in either spelling) is `recipient`, under a name other than `name` and no longer a member. */
  formerMemberOfKey(recipient: string, name: string): { name: string; recipient: string } | undefined;
  /** The versions of environment files the range's commits wrote (in a secrets folder the base, the head or a commit of the range named). */
  readonly envRange: readonly PathVersion[];
  /** The versions of environment files an earlier push of the change wrote that the range no longer holds (`inputs.earlierPushVersions`). */
  readonly envEarlierPush: readonly PathVersion[];
  /** Whether a path is in one of those secrets folders. */
  inSecretsDir(path: string): boolean;
  /** Other environments' files, parsed once for the whole review (`side\0path` → the file, undefined when it does not parse). */
  readonly parsedOthers: Map<string, SecretsFile | undefined>;
}

/** The {@link ReviewContext} of a review of `base` against `head`. */
export function reviewContext(base: ReviewState, head: ReviewState, renamed: ReadonlyMap<string, string>, inputs: ReviewInputs): ReviewContext {
  const baseConfig = base.index?.project;
  const headConfig = head.index?.project;
  const whoIs = (recipient: string): string | undefined => {
    for (const config of [headConfig, baseConfig]) {
      for (const env of config?.environments ?? []) {
        const m = env.members.find((x) => x.recipient === recipient);
        if (m !== undefined) return m.name;
      }
    }
    return undefined;
  };

  // a key neither side names: the stellar.yaml of a commit inside the change may (a member added,
  // then removed again): that commit's version first, else the range's others, newest first
  let rangeProjects: { commit: string; config: ProjectConfig | undefined }[] | undefined;
  const whoWasIn = (recipient: string, commit: string): string | undefined => {
    rangeProjects ??= (inputs.rangeVersions ?? [])
      .filter((v) => v.path === PROJECT_FILE)
      .map((v) => ({ commit: v.commit, config: parseProjectConfig(v.text, v.path).config }))
      .reverse();
    for (const v of [...rangeProjects.filter((x) => x.commit === commit), ...rangeProjects.filter((x) => x.commit !== commit)]) {
      for (const env of v.config?.environments ?? []) {
        const m = env.members.find((x) => x.recipient === recipient);
        if (m !== undefined) return m.name;
      }
    }
    return undefined;
  };

  // a key neither side names, by the name an earlier stellar.yaml of the base's history gave it (newest first)
  let earlierMembers: Map<string, string> | undefined;
  const whoWasEarlier = (recipient: string): string | undefined => {
    if (earlierMembers === undefined) {
      earlierMembers = new Map();
      for (const v of inputs.earlierProjects ?? []) {
        for (const env of parseProjectConfig(v.text, PROJECT_FILE).config?.environments ?? []) {
          for (const m of env.members) if (!earlierMembers.has(m.recipient)) earlierMembers.set(m.recipient, m.name);
        }
      }
    }
    return earlierMembers.get(recipient);
  };

  // a key an earlier stellar.yaml of the base's history (or the base's) gave another name, in either spelling
  const formerMemberOfKey = (recipient: string, name: string): { name: string; recipient: string } | undefined => {
    whoWasEarlier(recipient); // fills earlierMembers
    const known = new Map(earlierMembers);
    for (const env of baseConfig?.environments ?? []) for (const m of env.members) if (!known.has(m.recipient)) known.set(m.recipient, m.name);
    const current = new Set((headConfig?.environments ?? []).flatMap((e) => e.members.map((m) => m.name)));
    for (const [key, was] of known) if (was !== name && !current.has(was) && isSameKey(key, recipient)) return { name: was, recipient: key };
    return undefined;
  };

  // how messages name paths and commands (a nested project's are read at the outer root)
  const w = findingWording(inputs.folder);
  // the checker words its messages for the project's folder: the files they may name, reworded for the reader
  const knownPaths = [
    PROJECT_FILE,
    SOPS_CONFIG_FILE,
    ...(head.index?.configFiles.keys() ?? []),
    ...[...(head.index?.environmentFiles.values() ?? []), ...(base.index?.environmentFiles.values() ?? [])].map((f) => f.path),
    ...(head.index?.catalog === undefined ? [] : [head.index.catalog.path]),
    // the other projects a message named (`../../stellar.yaml`: the enclosing project's)
    ...(head.index?.otherProjectPaths() ?? []),
    ...(base.index?.otherProjectPaths() ?? []),
  ];
  const reword = messageRewording(w, knownPaths);
  const parsedOthers = new Map<string, SecretsFile | undefined>();
  // the versions of environment files the range's commits wrote (the other YAML files: credentials only)
  // (in the secrets folder of the base, the head or a stellar.yaml a commit of the range wrote: a
  // folder moved there and back again inside the range held environment files too; a test
  // fixture's file elsewhere is no environment's)
  const secretsDirs = new Set([baseConfig, headConfig].flatMap((c) => (c === undefined ? [] : [normalizeSecretsDir(c.secretsDir)])));
  for (const v of inputs.rangeVersions ?? []) {
    if (v.path !== PROJECT_FILE) continue;
    const dir = rangeSecretsDir(v.text);
    if (dir !== undefined) secretsDirs.add(dir);
  }
  const inSecretsDir = (path: string): boolean => secretsDirs.has(path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".");
  const envRange = (inputs.rangeVersions ?? []).filter((v) => v.path.endsWith(".enc.yaml") && inSecretsDir(v.path));
  const envEarlierPush = (inputs.earlierPushVersions ?? []).filter((v) => v.path.endsWith(".enc.yaml") && inSecretsDir(v.path));
  return { base, head, renamed, inputs, baseConfig, headConfig, w, reword, whoIs, whoWasIn, whoWasEarlier, formerMemberOfKey, envRange, envEarlierPush, inSecretsDir, parsedOthers };
}

/**
 * The secrets folder a version of stellar.yaml names (`secrets_dir`, normalized; the default when
 * it names none), or undefined when that version cannot be read.
 */
function rangeSecretsDir(text: string): string | undefined {
  const config = parseProjectConfig(text, PROJECT_FILE).config;
  return config === undefined ? undefined : normalizeSecretsDir(config.secretsDir);
}
