/**
 * The keyless half of `pnpm fuzz` (scripts/fuzz.mjs): every mutant is read, in process and without a
 * key, by what `check`, the language server, `review` and the merge driver read, and each reading is
 * classified against the decrypting reader's (`decryptSecrets`). See docs/fuzz.md, "The keyless
 * readers". Not part of the build; imports the built packages.
 *
 * Readers:
 *   check            checkWorkspace of a project holding the mutant, the file alone (the secrets-folder
 *                    survey `parseEnvironmentFile` that the language server runs too)
 *   check+committed  the same with the original as the committed version (`check` in a clone, the
 *                    pre-commit hook: `stale-mac` compares with HEAD)
 *   review           buildReview of the change original → mutant (keyless)
 *   merge            the merge driver's merge (mergeSecretsGuarded) with the mutant as one side, the
 *                    original as base and a valid change of one value as the other side
 */

/** Strict standard base64 with canonical padding (what the envelope's value reader accepts). */
const B64 = "(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?";
const B64_STRICT = new RegExp(`^${B64}$`);
const ARMOR = /-----BEGIN AGE ENCRYPTED FILE-----[\s\S]*?-----END AGE ENCRYPTED FILE-----/g;

/** The classes of a keyless reader's verdict, in table order; `defect: true` ones must be 0. */
export const CLASSES = [
  { id: "decrypts-agrees", label: "decrypts, keyless agrees", defect: false },
  { id: "decrypts-flagged", label: "decrypts, keyless flags an error (stricter than the reader: sops-compatibility rules)", defect: false },
  { id: "decrypts-names-differ", label: "decrypts, keyless names differ", defect: true },
  { id: "refused-flagged", label: "refused, keyless flags an error", defect: false },
  { id: "refused-needs-key-ciphertext", label: "refused, keyless clean: needs a key (only ENC/stanza ciphertext bytes changed)", defect: false },
  { id: "refused-needs-key-structure", label: "refused, keyless clean: needs a key (well-formed file: names, order, types, lastmodified)", defect: false },
  { id: "refused-clean-provable", label: "refused, keyless clean, provable from the file alone", defect: true },
  { id: "refused-clean-vs-committed", label: "refused, keyless clean, provable against the committed original", defect: true },
  { id: "crashed", label: "keyless crashed", defect: true },
];
export const MERGE_CLASSES = [
  { id: "refused", label: "refused with a code (the mutant does not verify)", defect: false },
  { id: "merged-right", label: "merged, decrypts to the right values", defect: false },
  { id: "merged-wrong", label: "merged, decrypts to other values", defect: true },
  { id: "crashed", label: "crashed (uncoded)", defect: true },
];

/**
 * Sets up the readers for one run. `base` is the valid file every mutant comes from, `original`
 * its values; `key` the run's TEST-ONLY identity.
 */
export async function keylessReaders({ sops, core, key, base, original }) {
  // the committed original, parsed once (it is valid: every mutant is compared with it)
  const before = sops.parseSecretsFile(base);
  // the strict armor reader the envelope unwraps with (internal to packages/sops: not in its API)
  const { armorDecode } = await import("../packages/sops/dist/age-native.js");
  const environment = "production";
  const path = `secrets/${environment}.enc.yaml`;
  const root = "/stellar-fuzz"; // nothing is read from it: every file is in memory
  const project = `version: 1\nenvironments:\n  ${environment}:\n    members:\n      fuzz: ${key.recipient}\n`;
  const files = (text) => new Map([["stellar.yaml", project], [path, text]]);
  const baseState = core.stateFromFiles("base", "0".repeat(40), root, files(base));
  const baseErrors = baseState.diagnostics.filter((d) => d.severity === "error");
  if (baseErrors.length > 0) throw new Error(`the original file is not clean: ${baseErrors.map((d) => d.rule).join(", ")}`);
  const committed = (rel) => (rel === path ? base : undefined);
  const baseView = keylessView(base);

  // the merge: base = original, the other side = the original with one value changed by a real write
  const baseSecrets = await sops.decryptSecrets(base, [key.identity]);
  const otherValues = new Map(original);
  const changedName = [...original.keys()].at(-1);
  otherValues.set(changedName, `${original.get(changedName)} (changed on the other side)`);
  const otherText = await sops.reencryptSecrets(baseSecrets, otherValues);
  const otherSecrets = await sops.decryptSecrets(otherText, [key.identity]);

  function keylessView(text) {
    // what can be proven of each ENC field without the data key: it decodes (strictly), an IV is there, the tag has 16 bytes
    const fields = text.replace(/\b(data|iv|tag):([A-Za-z0-9+/=]*)(?=[,\]])/g, (m, f, v) =>
      B64_STRICT.test(v) && (f !== "iv" || v !== "") && (f !== "tag" || v.length === 24) ? `${f}:*` : m,
    );
    // an armored age file: its header (stanza types and arguments) and its shape; the key material needs the key
    return fields.replace(ARMOR, (m) => {
      let info;
      try {
        info = sops.parseAgeHeader(armorDecode(m.replace(/\n[ \t]+/g, "\n")));
      } catch {
        return m;
      }
      return info.ok ? `AGE${JSON.stringify(info.stanzas.map((s) => [s.type, s.args.length]))}${m.replace(/[A-Za-z0-9+/]/g, "x")}` : m;
    });
  }

  /** Why the file alone proves that no one can decrypt it (undefined: only a key can tell). */
  function provable(text) {
    let file;
    try {
      file = sops.parseSecretsFile(text);
    } catch (e) {
      return `parse ${e?.code ?? e?.name}${e?.reason ? `/${e.reason}` : ""}`;
    }
    // the envelope's own keyless test of an ENC string (grammar, type, strict base64, IV, tag length)
    for (const e of file.entries) if (e.raw !== "" && sops.encStringProblem(e.raw) !== undefined) return "value ENC string";
    if (file.metadata.mac === "" || sops.encStringProblem(file.metadata.mac) !== undefined) return "mac ENC string";
    try {
      sops.macAad(file.metadata.lastmodified);
    } catch {
      return "lastmodified not a time";
    }
    const readable = (enc) => {
      try {
        return sops.parseAgeHeader(armorDecode(enc)).ok;
      } catch {
        return false;
      }
    };
    if (!file.metadata.age.some((s) => readable(s.enc))) return "no readable age stanza";
    if (!file.metadata.age.some((s) => sops.agePayloadBytes(s.enc) === sops.WRAPPED_DATA_KEY_PAYLOAD_BYTES)) return "no stanza holds a 32-byte data key";
    return undefined;
  }

  /** What the committed original proves of a well-formed mutant: values or the MAC changed by hand. */
  function provableAgainstCommitted(text) {
    let file;
    try {
      file = sops.parseSecretsFile(text);
    } catch {
      return "parse";
    }
    const sameMac = file.metadata.mac === before.metadata.mac;
    const sameTime = file.metadata.lastmodified === before.metadata.lastmodified;
    const sameEntries = file.entries.length === before.entries.length && file.entries.every((e, i) => e.name === before.entries[i].name && e.raw === before.entries[i].raw);
    // a real write encrypts the MAC anew under a new lastmodified: anything else that changed values, the MAC or its AAD is a hand edit
    if (sameMac && !sameEntries) return "values changed under the committed mac";
    if (sameMac && !sameTime) return "lastmodified changed under the committed mac";
    if (!sameMac && sameTime && sameEntries) return "mac replaced alone";
    return undefined;
  }

  /** What differs in a well-formed mutant that only a key can refuse (for the breakdown of that class). */
  function structureKind(text) {
    let file;
    try {
      file = sops.parseSecretsFile(text);
    } catch {
      return "unparsed";
    }
    const kinds = [];
    const names = file.entries.map((e) => e.name);
    const was = before.entries.map((e) => e.name);
    if ([...names].sort().join() !== [...was].sort().join()) kinds.push(names.length < was.length ? "a name missing" : names.length > was.length ? "a name added" : "a name renamed");
    else if (names.join() !== was.join()) kinds.push("names reordered");
    else if (file.entries.some((e, i) => e.type !== before.entries[i].type)) kinds.push("a value's type");
    else if (file.entries.some((e, i) => sops.ciphertextIdentity(e.raw) !== sops.ciphertextIdentity(before.entries[i].raw))) kinds.push("a value's ciphertext");
    if (file.metadata.lastmodified !== before.metadata.lastmodified) kinds.push("lastmodified");
    if (file.metadata.mac !== before.metadata.mac) kinds.push("mac");
    if (file.metadata.age.map((a) => a.enc.replace(/\s+/g, "")).join() !== before.metadata.age.map((a) => a.enc.replace(/\s+/g, "")).join()) kinds.push("age stanza");
    return kinds.length === 0 ? "other" : kinds.join(" + ");
  }

  function classify(reader, outcome, decrypted, text, names, errors) {
    if (decrypted !== undefined) {
      const want = [...decrypted.keys()].sort().join("\n");
      if (names === undefined || [...names].sort().join("\n") !== want) return "decrypts-names-differ";
      return errors.length === 0 ? "decrypts-agrees" : "decrypts-flagged";
    }
    if (errors.length > 0) return "refused-flagged";
    if (provable(text) !== undefined) return "refused-clean-provable";
    if (reader !== "check" && provableAgainstCommitted(text) !== undefined) return "refused-clean-vs-committed";
    return keylessView(text) === baseView ? "refused-needs-key-ciphertext" : "refused-needs-key-structure";
  }

  /**
   * Reads `text` with every keyless reader. `decrypted`: the decrypting reader's values, undefined
   * when it refused the file. Returns reader → { cls, rules, detail }.
   */
  function read(text, decrypted) {
    const out = {};
    let head;
    try {
      head = core.stateFromFiles("head", undefined, root, files(text));
    } catch (e) {
      for (const r of ["check", "check+committed", "review"]) out[r] = { cls: "crashed", rules: [], detail: `${e?.name}: ${e?.message}`.slice(0, 200) };
      return out;
    }
    const model = head.index?.environmentFiles.get(environment);
    const surveyNames = model === undefined || !model.readable ? undefined : model.entries.map((e) => e.name);
    const errorsOf = (diagnostics) => diagnostics.filter((d) => d.severity === "error");
    const run = (reader, f) => {
      try {
        const { names, errors } = f();
        out[reader] = { cls: classify(reader, undefined, decrypted, text, names, errors), rules: [...new Set(errors.map((d) => d.rule ?? d.kind))], detail: undefined };
      } catch (e) {
        out[reader] = { cls: "crashed", rules: [], detail: `${e?.name}: ${e?.message}`.slice(0, 200) };
      }
    };
    run("check", () => ({ names: surveyNames, errors: errorsOf(head.diagnostics) }));
    let withCommitted;
    run("check+committed", () => {
      withCommitted = head.checkWith(head.index.project.rules, { committed });
      return { names: surveyNames, errors: errorsOf(withCommitted) };
    });
    run("review", () => {
      // review checks the head against the base's rules with the base's file as the committed version: with one
      // stellar.yaml on both sides that is exactly the check above, so it is not run a third time (the fuzz's budget)
      const reviewed = withCommitted === undefined ? head : { ...head, checkWith: () => withCommitted };
      const report = core.buildReview(baseState, reviewed);
      const env = report.environments.find((e) => e.environment === environment);
      const names = new Set(baseSecrets.values.keys());
      for (const s of env?.secrets ?? []) {
        if (s.change === "added") names.add(s.name);
        if (s.change === "removed") names.delete(s.name);
      }
      // review's own problems, as problems (kind), and the checker's errors it raises
      return { names: surveyNames === undefined ? undefined : [...names], errors: report.problems.map((p) => ({ kind: p.kind === "checker-error" || p.kind === "plaintext" ? p.message.split(":")[0] : p.kind })) };
    });
    return out;
  }

  /** The merge driver with the mutant as our side and as their side: [outcome, outcome]. */
  async function merge(text, decrypted) {
    if (decrypted === undefined) return ["refused", "refused"]; // the driver decrypts each side first (MERGE_FAILED)
    const mutant = { text, secrets: decrypted.secrets };
    const other = { text: otherText, secrets: otherSecrets };
    const baseSide = { text: base, secrets: baseSecrets };
    const results = [];
    for (const [ours, theirs] of [[mutant, other], [other, mutant]]) {
      try {
        const r = await sops.mergeSecretsGuarded({ base: baseSide, ours, theirs });
        if (r.recipientsConflict) {
          results.push("refused");
          continue;
        }
        const got = (await sops.decryptSecrets(r.text, [key.identity])).values;
        results.push(sameMap(got, expectedMerge(baseSecrets.values, ours.secrets.values, theirs.secrets.values)) ? "merged-right" : "merged-wrong");
      } catch (e) {
        results.push(e instanceof sops.SopsError ? "refused" : "crashed");
      }
    }
    return results;
  }

  return { read, merge, provable, structureKind };
}

/** Per name: the side that changed it, ours when both did (a conflict keeps ours). */
function expectedMerge(base, ours, theirs) {
  const out = new Map();
  const names = [...ours.keys(), ...[...theirs.keys()].filter((n) => !ours.has(n))];
  for (const n of names) {
    const o = ours.get(n);
    const t = theirs.get(n);
    const b = base.get(n);
    const v = o === b ? t : o;
    if (v !== undefined) out.set(n, v);
  }
  return out;
}

function sameMap(a, b) {
  if (a.size !== b.size) return false;
  for (const [k, v] of b) if (a.get(k) !== v) return false;
  return true;
}
