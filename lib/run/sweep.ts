import { type RemoteFn, type WorkerPool, resolveWorkers, workerPool, workerThreads } from './parallel.js';
import { type CachedRun, type ComputeContext, type ResultStore, type RunSpec, cachedRun, runId } from './store.js';
import type { EngineName, SweepEngine } from './engine.js';
import { computeOnEngine, resolveEngine } from './engines.js';
import { notebookRegistry } from './notebook-code.js';
import { hostname } from 'node:os';

import { type Grid, type GridPoint, checkSweepArgs, gridPoints } from './grid.js';

export { type Grid, type GridPoint, gridPoints } from './grid.js';

export interface SweepProgress<P> {
  /** 1-based position in the sweep. */
  index: number;
  total: number;
  point: P;
  key: string;
  fromCache: boolean;
  /** Time for this point (reading or computing). */
  elapsedMs: number;
  totalElapsedMs: number;
  /** Estimated time left, from the mean time of the points computed so far. */
  etaMs: number | undefined;
  /** Formatted progress line, e.g. `[3/12] width=64 seed=1 · 3fa2b1c0 · computed 1.2s · total 9.8s · eta ~13s`. */
  line: string;
}

export interface SweepOptions<P> {
  store: ResultStore;
  /**
   * Only for a plain closure (a `remote(name, args)` function is keyed by its task name and arguments):
   * the config stored and keyed for a point, default the point itself. Put every parameter the result
   * depends on in it.
   */
  config?: (point: P) => unknown;
  /**
   * Only for a plain closure: the module(s) it runs, whose code fingerprint keys its results
   * (`import.meta.url`, a file URL, or a specifier such as `'tangent-lab'`). Required in a script; in a
   * notebook of the project's kernel optional (default `'tangent-lab'`): a closure written in the notebook
   * is keyed by its own source and the notebook declarations it references, whatever `code` says.
   */
  code?: string | readonly string[];
  /** Called after each point; default prints `line` with the store's log. */
  onProgress?: (p: SweepProgress<P>) => void;
  quiet?: boolean;
  /**
   * Points computed at once, each in a worker process (`fn` must come from `remote`): a number, or 'auto'
   * (one per core on wasm/cpu, 1 on tfjs-node). Default 1 (in this process); TANGENT_WORKERS overrides.
   */
  workers?: number | 'auto';
  /**
   * Where the points the store lacks are computed: 'local' (default; this process and `workers`), 'slurm'
   * (one `sbatch --array` job; see `slurmEngine`), or an engine object. TANGENT_ENGINE overrides.
   */
  engine?: EngineName | SweepEngine;
}

export interface SweepRun<P, R> {
  point: P;
  key: string;
  result: R;
  fromCache: boolean;
}

function formatValue(v: unknown): string {
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

/**
 * Runs `fn` over the cartesian product of `grid`, each point through the store: finished points are
 * read back, the rest computed and written atomically, so an interrupted sweep resumes where it stopped.
 * A `remote(name, args)` function keys each point by the task name, its arguments and the code
 * fingerprint of the task's module; a plain closure by `config(point)` and the fingerprint of `code`.
 *
 * @param grid parameter lists, e.g. `{ m: [100, 1000], seed: [0, 1] }` (the first key varies slowest)
 * @param fn the computation of one point; `remote(task, args)` lets worker processes run it
 * @param options `store`: `openStore(experiment)`; `workers` ('auto' = one per core); `onProgress`, `quiet`;
 *   for a plain closure `code` (the module(s) it runs) and optionally `config`
 * @returns one { point, key, result, fromCache } per grid point, in grid order
 * @example
 * const runs = await sweep({ m: [300, 1000], seed: [0, 1] },
 *   remote('fig1Run', ({ m, seed }) => [{ m, seed, objective: 'ce', steps: 1000, kernelEvery: 100 }]),
 *   { store: openStore('002-fig1'), workers: 'auto' });
 */
export async function sweep<G extends Grid, R>(grid: G, fn: (point: GridPoint<G>) => Promise<R> | R, options: SweepOptions<GridPoint<G>>): Promise<SweepRun<GridPoint<G>, R>[]> {
  if (!options?.store) throw new Error('sweep: options.store is required (openStore(experiment))');
  checkSweepArgs(fn, options);
  const points = gridPoints(grid);
  const total = points.length;
  const task = (fn as Partial<RemoteFn<GridPoint<G>, R>>).task;
  const t0 = performance.now();
  // Another engine stores the missing points first; the loop below then reads every point from the store.
  const engine = await resolveEngine(options.engine, typeof task === 'function', options.quiet ? () => undefined : options.store.log);
  if (typeof task !== 'function' && typeof options.workers === 'number' && options.workers > 1) {
    // A closure cannot be sent to another process: say how to move the user's own function (see remote's doc).
    throw new Error(
      `sweep: workers = ${options.workers} needs a function that worker processes can run; build it with remote(name, args, moduleUrl): ` +
        'a function defined in a notebook cell (or anywhere in this process) cannot be sent to a worker. Export it from a module file ' +
        "beside the notebook, e.g. my_task.mjs with `import { train } from 'tangent-lab'; export function myRun(point) { ...; return result }` " +
        "(plain-data argument and result), and sweep remote('myRun', (pt) => [pt], pathToFileURL('my_task.mjs').href) " +
        "with `import { pathToFileURL } from 'node:url'` (the module file and what it imports key the results). " +
        "A library experiment needs no module: remote('fig1Run', (pt) => [{ ...pt }])",
    );
  }
  if (typeof task === 'function' && (options.config !== undefined || options.code !== undefined)) {
    throw new Error(`sweep: options.${options.config !== undefined ? 'config' : 'code'} is given for a remote(...) task; expected none: a task's points are keyed by its name, its arguments and the fingerprint of its module`);
  }
  if (typeof task !== 'function' && options.code === undefined && !notebookRegistry()) {
    throw new Error("sweep: options.code = undefined; expected the module(s) the closure runs (import.meta.url, or 'tangent-lab' for the library), so that its points are keyed by that code; or pass a remote(name, args) task (code may be omitted only in a notebook of the tangent-lab kernel, which keys a notebook's closure by its source)");
  }
  const spec = (point: GridPoint<G>): RunSpec => {
    if (typeof task === 'function') {
      const t = task(point);
      return { task: t.name, args: t.args, module: t.module };
    }
    return { config: options.config ? options.config(point) : point, code: options.code, fn };
  };
  const elsewhere = engine ? await computeOnEngine(engine, points, { store: options.store, quiet: options.quiet, task: task!, spec }) : undefined;
  // A plain closure runs in this process whatever 'auto' or TANGENT_WORKERS ask for.
  const workers = typeof task === 'function' && !engine ? Math.min(await resolveWorkers(options.workers), total) : 1;
  // Workers start with the first point that is not in the store (a fully cached sweep starts none).
  let pool: Promise<WorkerPool> | undefined;
  const compute = engine
    ? (p: GridPoint<G>): R => { throw new Error(`engine ${engine.name} did not store point ${JSON.stringify(p)}`); }
    : workers > 1
    ? async (p: GridPoint<G>, ctx?: ComputeContext) => (await (pool ??= workerPool(workers, options.quiet ? () => undefined : options.store.log))).run({ ...task!(p), checkpointDir: ctx?.checkpointDir }) as Promise<R>
    : (p: GridPoint<G>) => fn(p);
  const runs: SweepRun<GridPoint<G>, R>[] = new Array(total);
  let done = 0;
  let computed = 0;
  let computeMs = 0;
  let failure: Error | undefined;
  const finish = (i: number, point: GridPoint<G>, run: CachedRun<R>, elapsedMs: number) => {
    if (elsewhere?.has(run.key)) {
      run = { ...run, fromCache: false };
      elapsedMs = elsewhere.get(run.key)!;
    }
    runs[i] = { point, key: run.key, result: run.result, fromCache: run.fromCache };
    done++;
    if (!run.fromCache) {
      computed++;
      computeMs += elapsedMs;
    }
    const totalElapsedMs = performance.now() - t0;
    const left = total - done;
    const etaMs = computed > 0 && !engine ? (computeMs / computed) * left / workers : undefined;
    const desc = Object.entries(point).map(([k, v]) => `${k}=${formatValue(v)}`).join(' ');
    const position = workers > 1 ? `${done}/${total}` : `${i + 1}/${total}`;
    const line = `[${position}] ${desc} · ${run.key.slice(0, 8)} · ${run.fromCache ? 'cached' : 'computed'} ${seconds(elapsedMs)} · total ${seconds(totalElapsedMs)}${etaMs !== undefined && left > 0 ? ` · eta ~${seconds(etaMs)}` : ''}`;
    const progress = { index: i + 1, total, point, key: run.key, fromCache: run.fromCache, elapsedMs, totalElapsedMs, etaMs, line };
    if (options.onProgress) options.onProgress(progress);
    else if (!options.quiet) options.store.log(line);
  };
  let next = 0;
  // Each lane takes the next point in grid order; after a failure no new point starts, and the points
  // already running finish and are stored.
  const lane = async () => {
    while (next < total && !failure) {
      const i = next++;
      const point = points[i];
      const t = performance.now();
      try {
        // Points computed in workers are keyed by the workers' OpenBLAS thread count (it changes float32 roundings).
        const id = workers > 1 ? { ...runId(spec(point)), computeThreads: workerThreads(workers) } : spec(point);
        const run = await cachedRun(options.store, id, (ctx) => compute(point, ctx), { meta: { point, engine: 'local', node: hostname() }, inProcess: workers === 1 && !engine });
        finish(i, point, run, performance.now() - t);
      } catch (e) {
        failure ??= new Error(`sweep point ${i + 1}/${total} ${JSON.stringify(point)} failed: ${(e as Error).message}`, { cause: e });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: workers }, lane));
  } finally {
    if (pool) (await pool).close();
  }
  if (failure) throw failure;
  return runs;
}
