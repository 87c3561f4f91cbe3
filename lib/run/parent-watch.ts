import { Worker } from 'node:worker_threads';

export interface ParentWatchOptions {
  /** The process whose end ends this one; default the parent (`process.ppid`). */
  parentPid?: number;
  /** Poll interval; default 500 ms. */
  intervalMs?: number;
  /** Signal this process sends itself when the parent is gone; default SIGKILL (nothing to save). */
  signal?: NodeJS.Signals;
}

// Runs in a worker thread, so it fires while the main thread is busy in a synchronous computation.
const WATCH = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { parentPid, ppid, intervalMs, signal } = workerData;
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
setInterval(() => {
  if (process.ppid !== ppid || !alive(parentPid)) {
    try { writeSync(2, 'tangent-lab: parent process ' + parentPid + ' is gone; pid ' + process.pid + ' ends (' + signal + ')\\n'); } catch {}
    process.kill(process.pid, signal);
  }
}, intervalMs);`;

/**
 * Ends this process when the process that started it is gone, whatever killed that one (SIGKILL, an OOM
 * kill, a closed terminal): a kernel or sweep worker must not go on computing and writing into the store
 * beside a rerun. The parent is gone when it no longer exists or this process was re-parented. Returns a
 * function that stops the watch.
 *
 * @example exitWithParent({ parentPid: Number(process.env.JPY_PARENT_PID) || undefined });
 */
export function exitWithParent(options: ParentWatchOptions = {}): () => Promise<number> {
  const parentPid = options.parentPid ?? process.ppid;
  if (!Number.isInteger(parentPid) || parentPid <= 0) throw new Error(`exitWithParent: parentPid = ${parentPid}; expected a positive integer pid`);
  const worker = new Worker(WATCH, {
    eval: true,
    workerData: { parentPid, ppid: process.ppid, intervalMs: options.intervalMs ?? 500, signal: options.signal ?? 'SIGKILL' },
    stdout: false,
    stderr: false,
    resourceLimits: { maxOldGenerationSizeMb: 16 },
  });
  worker.unref();
  return () => worker.terminate();
}
