import type { RunSpec } from './store.js';
import type { Task } from './parallel.js';
import type { ResultStore } from './store.js';

/** A sweep point the store does not hold yet, as handed to an engine. */
export interface EngineItem {
  /** 0-based position in the sweep. */
  index: number;
  point: unknown;
  /** What the point is stored under: the task call (name, arguments, module) whose key the sweep computes. */
  config: RunSpec;
  /** What computes it (from `remote`). */
  task: Task;
}

export interface EngineContext {
  store: ResultStore;
  /** Sweep size (items are the missing subset). */
  total: number;
  log: (line: string) => void;
  quiet: boolean;
}

/**
 * Computes sweep points elsewhere than in this process or its worker pool (e.g. a Slurm job array). The
 * engine writes each result into the store under the key the sweep computes for its config; the sweep then
 * reads them back, so the numbers are the store's whichever engine computed them.
 */
export interface SweepEngine {
  name: string;
  /** Computes `items` into `ctx.store`; resolves with the compute time (ms) of each stored key, rejects naming the first failed point. */
  compute(items: EngineItem[], ctx: EngineContext): Promise<Map<string, number>>;
}

export type EngineName = 'local' | 'slurm';
