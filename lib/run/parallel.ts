import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism, totalmem } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../core/backend.js';
import { withCheckpoints } from '../core/checkpoint-scope.js';
import { type TaskName, type TaskRegistry, registeredTasks, taskModule } from './tasks.js';
import { noteLoaded } from './fingerprint.js';

/**
 * A call another process can make: `(await import(module))[name](...args)`. Arguments and result are
 * plain data; an object argument with `progress: true` receives a line printer instead.
 */
export interface Task {
  module: string;
  name: string;
  args: unknown[];
  /** Where the task's loops keep checkpoints (set by the result store for the computation of one key). */
  checkpointDir?: string;
}

/** A sweep function that can also run in a worker process: call it in-process, or ship `task(point)`. */
export interface RemoteFn<P, R> {
  (point: P): Promise<R>;
  task: (point: P) => Task;
}

/** Names of the registered tasks (see `registerTasks` in tasks.ts). */
export type LibraryFunction = TaskName;
/** An argument list as shipped to a worker: an options object's `progress` callback becomes `progress: true`. */
export type RemoteArgs<A extends unknown[]> = { readonly [I in keyof A]: A[I] extends { progress?: unknown } ? Omit<A[I], 'progress'> & { progress?: boolean } : A[I] };
type Fn<K extends LibraryFunction> = TaskRegistry[K] extends (...args: infer A) => infer R ? { args: A; result: Awaited<R> } : never;

/**
 * A sweep function that worker processes can run: the function `name` exported by a module, applied to the
 * argument list built from each sweep point. Sweeps with `workers > 1` run it in worker processes (the wasm and
 * cpu backends use one core each); with one worker it runs in this process, under the same keys. Each point is
 * keyed by `name`, its arguments and the code fingerprint of the module (the file and what it imports).
 * This form runs a registered task (a library experiment, typed by the function); for your own code, a module
 * file beside the notebook, pass its URL as the third argument (the next overload).
 *
 * @param name a registered task's name (the library's experiments: 'fig1Run', 'hessianScaling', ...)
 * @param args builds the function's argument list (an array of plain data) from a sweep point; an object
 *   argument's `progress: true` becomes a line printer in the worker
 * @example
 * const fn = remote('fig1Run', (pt: { m: number; seed: number }) => [{ m: pt.m, seed: pt.seed, objective: 'ce', steps: 5, kernelEvery: 5 }]);
 * const runs = await sweep({ m: [16, 32], seed: [0] }, fn, { store: openStore('002-fig1'), workers: 2 });
 */
export function remote<K extends LibraryFunction, P, const A extends RemoteArgs<Fn<K>['args']>>(name: K, args: (point: P) => A): RemoteFn<P, Fn<K>['result']>;
/**
 * Your own code in worker processes: a function written in a notebook cell cannot be sent to a worker (sweep
 * refuses it with `workers > 1`). Put it in a module file beside the notebook, exported, with plain-data argument
 * and result, and pass the file's URL. Each point is keyed by `name`, its arguments and the code fingerprint of
 * the module (the file and what it imports); edit the module and restart the kernel before rerunning.
 *
 * ```js
 * // my_task.mjs, beside the notebook (plain JavaScript: workers import it with node):
 * import { fcn, mse, train, tf } from 'tangent-lab';
 * export function myRun({ lr, steps }) {
 *   const net = fcn({ widths: [1, 32, 1], activation: 'tanh' });
 *   const x = tf.reshape(tf.linspace(-1, 1, 16), [16, 1]);
 *   const run = train({ net, params: net.init(0), x, y: tf.sin(tf.mul(x, 3)), loss: mse('mean'), lr, steps });
 *   return { finalLoss: run.finalLoss };
 * }
 * ```
 *
 * @param name the exported function's name
 * @param args builds its argument list (an array of plain data) from a sweep point
 * @param module the module's file URL (`pathToFileURL(file).href`; a notebook's cells run in the notebook's
 *   folder) or a package specifier
 * @example
 * import { writeFileSync } from 'node:fs';
 * import { pathToFileURL } from 'node:url';
 * writeFileSync('my_task.mjs', 'export function myRun({ lr, steps }) { return { lr, steps }; }\n');   // usually a file you write
 * const fn = remote<{ lr: number }, { lr: number; steps: number }>('myRun', (pt) => [{ ...pt, steps: 200 }], pathToFileURL('my_task.mjs').href);
 * const runs = await sweep({ lr: [0.1, 0.5] }, fn, { store: openStore('my-experiment'), workers: 2 });
 */
export function remote<P, R = unknown>(name: string, args: (point: P) => unknown[], module: string): RemoteFn<P, R>;
export function remote<P, R>(name: string, args: (point: P) => unknown[], module?: string): RemoteFn<P, R> {
  if (typeof name !== 'string' || !name) throw new Error(`remote: name = ${JSON.stringify(name)}; expected the name of a registered task`);
  module ??= taskModule(name);
  if (module === undefined) throw new Error(`remote: name = '${name}'; expected a registered task (${registeredTasks().join(', ') || 'none registered'}) or an explicit module`);
  if (typeof args !== 'function') throw new Error('remote: args must be a function from a sweep point to the argument list');
  const task = (point: P): Task => {
    const a: unknown = args(point);
    if (!Array.isArray(a)) throw new Error(`remote ${name}: args(point) returned ${JSON.stringify(a)}; expected an array of arguments`);
    return { module: module!, name, args: [...a] };
  };
  const fn = (async (point: P) => (await runTask(task(point), (line) => console.log(line))) as R) as RemoteFn<P, R>;
  fn.task = task;
  return fn;
}

/** Runs a task in this process. */
export async function runTask(task: Task, log: (line: string) => void): Promise<unknown> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(task.module)) as Record<string, unknown>;
    noteLoaded(task.module); // an edit after this import is refused, not run as the old code under the new key
  } catch (e) {
    throw new Error(`cannot import '${task.module}' for task ${task.name}: ${(e as Error).message}`, { cause: e });
  }
  const fn = mod[task.name];
  if (typeof fn !== 'function') {
    throw new Error(`'${task.module}' has no exported function ${task.name} (found ${typeof fn})`);
  }
  const args = task.args.map((a) => (a && typeof a === 'object' && !Array.isArray(a) && (a as { progress?: unknown }).progress === true ? { ...a, progress: log } : a));
  return await withCheckpoints(task.checkpointDir, () => (fn as (...a: unknown[]) => unknown)(...args));
}

/**
 * Worker count for a sweep: `TANGENT_WORKERS` if set, else `requested`; 'auto' is one per core on the
 * single-threaded backends (wasm, cpu), at most one per 2 GiB of memory, and 1 on tfjs-node, which already
 * uses every core.
 */
export async function resolveWorkers(requested: number | 'auto' | undefined, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const raw = env.TANGENT_WORKERS?.trim();
  const value: unknown = raw ? (raw === 'auto' ? 'auto' : Number(raw)) : (requested ?? 1);
  if (value === 'auto') {
    if ((await initBackend()).name === 'node') return 1;
    return Math.max(1, Math.min(availableParallelism(), Math.floor(totalmem() / 2 ** 31)));
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    const where = raw ? `TANGENT_WORKERS='${raw}'` : `workers = ${JSON.stringify(requested)}`;
    throw new Error(`${where}; expected a positive integer or 'auto'`);
  }
  return value;
}

export interface WorkerPool {
  size: number;
  /** Runs a task in the next idle worker. */
  run(task: Task): Promise<unknown>;
  /** Stops the workers (running tasks are abandoned). */
  close(): void;
}

/** OpenBLAS threads of each worker of a pool of `size`: cores / size, at least 1 (so that workers x threads <= cores). */
export function workerThreads(size: number): number {
  return Math.max(1, Math.floor(availableParallelism() / size));
}

const WORKER_SCRIPT = fileURLToPath(new URL('./worker.js', import.meta.url));

/**
 * `size` worker processes, each with the parent's backend (TANGENT_BACKEND), running one task at a time, with
 * cores / size OpenBLAS threads each (TANGENT_BLAS_THREADS, at least 1) so that workers x threads <= cores. Their output is forwarded line by line to `log`, prefixed with the worker number.
 */
export async function workerPool(size: number, log: (line: string) => void = (l) => console.log(l)): Promise<WorkerPool> {
  const backend = (await initBackend()).name;
  interface Slot { child: ChildProcess; busy?: { task: Task; resolve: (r: unknown) => void; reject: (e: Error) => void }; dead: boolean }
  const slots: Slot[] = [];
  const waiting: (() => void)[] = [];
  let closed = false;
  const describe = (t: Task) => `${t.name}(${JSON.stringify(t.args).slice(1, -1).slice(0, 200)})`;
  for (let i = 0; i < size; i++) {
    const child = fork(WORKER_SCRIPT, [], {
      env: { ...process.env, TANGENT_BACKEND: backend, TANGENT_WORKERS: '1', TANGENT_BLAS_THREADS: String(workerThreads(size)) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const slot: Slot = { child, dead: false };
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => log(`[worker ${i + 1}] ${line}`));
    }
    child.on('message', (msg: { result?: unknown; error?: { message: string; stack?: string } }) => {
      const job = slot.busy;
      if (!job) return;
      slot.busy = undefined;
      if (msg.error) {
        const e = new Error(msg.error.message);
        e.stack = msg.error.stack;
        job.reject(e);
      } else job.resolve(msg.result);
      waiting.shift()?.();
    });
    child.on('exit', (code, signal) => {
      slot.dead = true;
      const job = slot.busy;
      slot.busy = undefined;
      if (job) job.reject(new Error(`worker ${i + 1} (pid ${child.pid}) exited (${signal ?? `code ${code}`}) while running ${describe(job.task)}`));
      waiting.shift()?.();
    });
    child.on('error', () => undefined); // 'exit' reports it
    slots.push(slot);
  }
  return {
    size,
    async run(task) {
      for (;;) {
        if (closed) throw new Error('worker pool is closed');
        const live = slots.filter((s) => !s.dead);
        if (live.length === 0) throw new Error(`all ${size} worker process(es) have exited; cannot run ${describe(task)}`);
        const slot = live.find((s) => !s.busy);
        if (slot) {
          return new Promise((resolve, reject) => {
            slot.busy = { task, resolve, reject };
            slot.child.send({ task });
          });
        }
        await new Promise<void>((r) => waiting.push(r));
      }
    },
    close() {
      closed = true;
      for (const s of slots) if (!s.dead) s.child.kill();
      for (const w of waiting.splice(0)) w();
    },
  };
}
