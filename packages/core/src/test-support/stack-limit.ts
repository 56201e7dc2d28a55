/**
 * Test-only (not built: core's tsconfig leaves test-support out): what `parseConfigFile(text, path)`
 * gives with the stack nearly used up. It recurses to the stack limit, then parses once per frame on
 * the way back, each frame with a little more stack, until a parse reads the file's document whole
 * (then every frame further back would too). Each outcome is a model, or "threw" for a parse that
 * threw (the stack was too short to reach the parse's own catch, or a defect).
 */
import { parseConfigFile, type ConfigFile } from "../config.js";

export function parsesNearStackLimit(text: string, path: string): (ConfigFile | "threw")[] {
  const out: (ConfigFile | "threw")[] = [];
  let done = false;
  const dive = (): void => {
    try {
      dive();
    } catch {
      // the limit: parse on the way back
    }
    if (done) return;
    let model: ConfigFile;
    try {
      model = parseConfigFile(text, path);
    } catch {
      out.push("threw");
      return;
    }
    out.push(model);
    // (no closure or regular expression here: code compiled this near the limit would throw itself)
    done = model.documents.length > 0;
    for (const d of model.diagnostics) if (d.message.includes("stack")) done = false;
  };
  dive();
  return out;
}
