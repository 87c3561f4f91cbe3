// Choosing a sweep's engine and handing it the points the store lacks.
import type { EngineItem, EngineName, SweepEngine } from './engine.js';
import type { Task } from './parallel.js';
import { type ResultStore, type RunSpec, lookup } from './store.js';

const ENGINES: readonly EngineName[] = ['local', 'slurm'];

/**
 * The engine a sweep uses: `TANGENT_ENGINE` if set, else `requested`, else local (this process and its
 * worker processes). Returns undefined for local. A sweep over a plain closure (`remotable` false) runs
 * locally when the engine comes from TANGENT_ENGINE (with a note to `log`), and is an error when asked for
 * in the sweep's options.
 */
export async function resolveEngine(
  requested: EngineName | SweepEngine | undefined,
  remotable = true,
  log: (line: string) => void = (l) => console.log(l),
  env: NodeJS.ProcessEnv = process.env,
): Promise<SweepEngine | undefined> {
  const raw = env.TANGENT_ENGINE?.trim();
  const value: unknown = raw || (requested ?? 'local');
  const where = raw ? `TANGENT_ENGINE='${raw}'` : `engine = ${typeof requested === 'object' ? requested.name : JSON.stringify(requested)}`;
  const isEngine = Boolean(value && typeof value === 'object' && typeof (value as SweepEngine).compute === 'function');
  if (!isEngine && !ENGINES.includes(value as EngineName)) {
    throw new Error(`sweep: ${where}; expected one of ${ENGINES.join(', ')} or an engine object`);
  }
  if (value === 'local') return undefined;
  if (!remotable) {
    if (!raw) throw new Error(`sweep: ${where} needs a function that runs outside this process; build it with remote(name, args), e.g. remote('fig1Run', (pt) => [{ ...pt }])`);
    log(`sweep: ${where}, but this sweep's function is a closure, so it runs in this process (build it with remote(name, args) to run it elsewhere)`);
    return undefined;
  }
  if (isEngine) return value as SweepEngine;
  const { slurmEngine } = await import('./slurm.js');
  return slurmEngine({}, env);
}

/**
 * Hands the points of a sweep that the store lacks to `engine` (each must come from `remote`). Returns
 * the keys it computed with their compute times.
 */
export async function computeOnEngine<P>(
  engine: SweepEngine,
  points: readonly P[],
  opts: { store: ResultStore; spec: (point: P) => RunSpec; task: (point: P) => Task; quiet?: boolean },
): Promise<Map<string, number>> {
  const items: EngineItem[] = [];
  for (const [index, point] of points.entries()) {
    const config = opts.spec(point);
    if (!(await lookup(opts.store, config))) items.push({ index, point, config, task: opts.task(point) });
  }
  if (items.length === 0) return new Map();
  return engine.compute(items, { store: opts.store, total: points.length, log: opts.store.log, quiet: Boolean(opts.quiet) });
}
