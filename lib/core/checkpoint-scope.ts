import { AsyncLocalStorage } from 'node:async_hooks';
import { join } from 'node:path';

/**
 * Where the run being computed keeps its checkpoints: the result store sets a directory per result key while it
 * computes (in this process or in a sweep worker), and every long loop inside (train) takes the next path of it,
 * so that a run interrupted after hours resumes from its last checkpoint instead of from step 0.
 */
interface Scope { dir: string; calls: number }

const scope = new AsyncLocalStorage<Scope>();

/** Runs `f` with checkpoints under `dir` (undefined: none). */
export function withCheckpoints<T>(dir: string | undefined, f: () => T): T {
  return dir === undefined ? f() : scope.run({ dir, calls: 0 }, f);
}

/**
 * The checkpoint path (without extension) of the next resumable loop of the current computation: `<dir>/<kind>-<i>`
 * for the i-th such call, the same on every attempt because a run is deterministic; undefined outside a scope.
 */
export function nextCheckpointPath(kind: string): string | undefined {
  const s = scope.getStore();
  if (!s) return undefined;
  return join(s.dir, `${kind}-${s.calls++}`);
}
