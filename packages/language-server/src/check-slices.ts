/**
 * A project's re-check after staged edits a slice at a time ({@link flushInSlices}): after an edit
 * of an environment file or the catalog, every config file's cross-file diagnostics are computed
 * again, and on a project of 5,000 config files that one call held the thread for 200–500 ms
 * (docs/performance.md), every request waiting. The pieces ({@link ProjectModel.flushSteps}) run
 * until {@link CHECK_SLICE_MS} have gone by, then the messages that came meanwhile are handled (two
 * turns of the event loop, as between the pieces of the first check: `projects.ts`).
 */
import type { ProjectModel } from "./model.js";
import { CHECK_SLICE_MS } from "./projects.js";

/** Two turns of the event loop: the first lets the client's stream be read, the second the messages read be dispatched. */
export function twoTurns(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
}

/**
 * `model.flush()` a slice at a time: the same paths (and diagnostics) as `model.flush()`. When the
 * pieces stop without effect (the project changed between two of them, or a request that needs
 * diagnostics flushed it meanwhile), the rest is `model.flush()` at once. `sliceMs` 0: a pause after every piece (tests).
 */
export async function flushInSlices(model: ProjectModel, sliceMs = CHECK_SLICE_MS): Promise<Set<string>> {
  const steps = model.flushSteps?.();
  if (steps === undefined) return model.flush();
  let sliceStart = Date.now();
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value ?? model.flush();
    if (sliceMs > 0 && Date.now() - sliceStart < sliceMs) continue;
    await twoTurns();
    sliceStart = Date.now();
  }
}
