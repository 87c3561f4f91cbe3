// Entry point of one Slurm array task (run by the batch script the slurm engine writes):
//   node dist/lib/slurm-task.js <job folder>/job.json <array index>
// Computes item <array index> of the job file with its registered task and stores the result in the shared
// store under the key the submitting sweep computed; writes status/<index>.start, then .done or .error.
import { renameSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { initBackend } from '../core/backend.js';
import { decodePlain } from '../core/canonical-json.js';
import { type Task, runTask } from './parallel.js';
import type { SlurmJobFile, SlurmMarker } from './slurm.js';
import { type RunSpec, cachedRun, keyFor, openStore } from './store.js';

const [jobFile, indexArg] = process.argv.slice(2);
const index = Number(indexArg ?? process.env.SLURM_ARRAY_TASK_ID);
const node = process.env.SLURMD_NODENAME || hostname();
const jobTag = `${process.env.SLURM_ARRAY_JOB_ID ?? process.env.SLURM_JOB_ID ?? 'nojob'}_${process.env.SLURM_ARRAY_TASK_ID ?? index}`;
const statusDir = join(dirname(jobFile ?? '.'), 'status');

function mark(kind: 'start' | 'done' | 'error', m: SlurmMarker): void {
  const path = join(statusDir, `${index}.${kind}`);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify({ ...m, pid: process.pid, at: new Date().toISOString() })}\n`);
  renameSync(tmp, path);
}

async function main(): Promise<void> {
  if (!jobFile || !Number.isInteger(index) || index < 0) throw new Error(`slurm-task: arguments = ${JSON.stringify(process.argv.slice(2))}; expected <job.json> <array index>`);
  const job = JSON.parse(readFileSync(jobFile, 'utf8')) as SlurmJobFile;
  if (job.format !== 'tangent-lab/slurm-job@1') throw new Error(`slurm-task: ${jobFile} has format ${JSON.stringify(job.format)}; expected tangent-lab/slurm-job@1`);
  const item = job.items[index];
  if (!item) throw new Error(`slurm-task: array index = ${index}; expected 0…${job.items.length - 1} (${jobFile})`);
  mark('start', { node, job: jobTag });
  await initBackend();
  const store = openStore(job.experiment, { root: job.store.root, backend: job.store.backend, log: (l) => console.log(l) });
  const config = decodePlain(item.config) as RunSpec;
  const key = await keyFor(store, config);
  if (key !== item.key) {
    throw new Error(`slurm-task: point ${item.sweepIndex} hashes to key ${key.slice(0, 12)}… here but to ${item.key.slice(0, 12)}… where it was submitted; expected the same library version and backend on every node`);
  }
  const task: Task = { ...item.task, args: decodePlain(item.task.args) as unknown[] };
  const t0 = performance.now();
  const meta = {
    engine: 'slurm', node, slurmJob: jobTag,
    cpusPerTask: process.env.SLURM_CPUS_PER_TASK ? Number(process.env.SLURM_CPUS_PER_TASK) : undefined,
  };
  const run = await cachedRun(store, config, () => runTask(task, (line) => console.log(line)), { meta: JSON.parse(JSON.stringify(meta)) as Record<string, unknown> });
  mark('done', { key: run.key, node, job: jobTag, fromCache: run.fromCache, elapsedMs: run.fromCache ? 0 : (run.entry.meta.elapsedMs as number) ?? performance.now() - t0 });
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    const err = e instanceof Error ? e : new Error(String(e));
    console.error(err.stack ?? err.message);
    try {
      mark('error', { node, job: jobTag, message: err.message, stack: err.stack });
    } catch (w) {
      console.error(`slurm-task: cannot write the error marker: ${(w as Error).message}`);
    }
    process.exit(1);
  },
);
