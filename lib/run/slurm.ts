import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../core/backend.js';
import { encodePlain } from '../core/canonical-json.js';
import type { EngineContext, EngineItem, SweepEngine } from './engine.js';
import { projectRoot } from '../core/env.js';
import { keyFor } from './store.js';

export interface SlurmOptions {
  /**
   * sbatch options (partition, time, memory, cpus per task), e.g. `['--partition=cpu', '--time=4:00:00',
   * '--mem=4G', '--cpus-per-task=2']`; default TANGENT_SLURM_ARGS, split like a shell command line.
   */
  args?: string[];
  /** How often a task that ended without a result (killed, timed out, node failure) is resubmitted; default TANGENT_SLURM_RETRIES, else 2. */
  retries?: number;
  /** Seconds between polls of squeue and the marker files; default TANGENT_SLURM_POLL, else 5. */
  pollSeconds?: number;
  /** Folder on the shared filesystem for job files, markers and logs; default TANGENT_SLURM_DIR, else `<results root>/.slurm`. */
  dir?: string;
  /** Node executable on the compute nodes; default TANGENT_SLURM_NODE, else this process's (`process.execPath`). */
  node?: string;
  /** Called after every poll (tests use it to find a running task). */
  onStatus?: (status: SlurmStatus) => void;
}

export type SlurmTaskState = 'pending' | 'running' | 'done' | 'failed';

export interface SlurmTaskStatus {
  /** Index in the job file (= the array index). */
  arrayIndex: number;
  /** 0-based position in the sweep. */
  sweepIndex: number;
  /** Array job id of the current attempt. */
  jobId: string;
  /** 1 for the first submission. */
  attempt: number;
  state: SlurmTaskState;
  /** Slurm's state of the current attempt (squeue/sacct), when known. */
  slurmState?: string;
  node?: string;
}

export interface SlurmStatus {
  jobDir: string;
  jobIds: string[];
  tasks: SlurmTaskStatus[];
  counts: Record<SlurmTaskState, number>;
  elapsedMs: number;
  etaMs: number | undefined;
  /** e.g. `slurm kernel-change job 41: 3/10 done · 2 running · 5 pending · 0 failed · 1m2s · eta ~2m10s` */
  line: string;
}

/** Contents of the job file every array task reads (`job.json` in the job folder). */
export interface SlurmJobFile {
  format: 'tangent-lab/slurm-job@1';
  experiment: string;
  store: { root: string; backend?: string };
  /** Backend the tasks compute with (the submitting process's). */
  backend: string;
  items: { sweepIndex: number; key: string; config: unknown; task: { module: string; name: string; args: unknown } }[];
}

/** Marker a task writes into `<job folder>/status/<arrayIndex>.done` or `.error`. */
export interface SlurmMarker {
  key?: string;
  node: string;
  job: string;
  elapsedMs?: number;
  fromCache?: boolean;
  message?: string;
  stack?: string;
  /** ISO time the marker was written. */
  at?: string;
}

const TERMINAL = /^(COMPLETED|CANCELLED|FAILED|TIMEOUT|OUT_OF_MEMORY|NODE_FAIL|PREEMPTED|BOOT_FAIL|DEADLINE|SPECIAL_EXIT|REVOKED)/;
const TASK_SCRIPT = fileURLToPath(new URL('./slurm-task.js', import.meta.url));

/** Splits a command-line string like a POSIX shell (whitespace, '…', "…", backslash). */
export function splitShellArgs(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1])) cur += text[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      has = true;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else cur += c;
  }
  if (quote) throw new Error(`slurmEngine: TANGENT_SLURM_ARGS = ${JSON.stringify(text)}; expected balanced quotes`);
  if (has || cur) out.push(cur);
  return out;
}

/** `0-3,7,9-10` for [0, 1, 2, 3, 7, 9, 10]. */
export function arraySpec(indices: readonly number[]): string {
  const s = [...indices].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    parts.push(j > i ? `${s[i]}-${s[j]}` : `${s[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, integer: boolean): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) throw new Error(`slurmEngine: ${name}='${raw}'; expected a non-negative ${integer ? 'integer' : 'number'}`);
  return v;
}

function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 1)}\n`);
  renameSync(tmp, path);
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function tail(path: string, lines = 30): string {
  try {
    const t = readFileSync(path, 'utf8').trimEnd().split('\n');
    return t.slice(-lines).join('\n') || '(empty)';
  } catch {
    return '(not written)';
  }
}

function run(cmd: string, args: string[]): { ok: boolean; stdout: string; stderr: string; missing: boolean } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? r.error.message : ''), missing: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' };
}

/** Per array index: Slurm state and node of one array job (squeue -t all keeps finished tasks for MinJobAge); undefined if squeue failed. */
function squeueStates(jobId: string): Map<number, { state: string; node: string }> | undefined {
  const r = run('squeue', ['-h', '-r', '-t', 'all', '-j', jobId, '-o', '%K|%T|%N']);
  if (!r.ok) return /invalid job id/i.test(r.stderr) ? new Map() : undefined;
  const m = new Map<number, { state: string; node: string }>();
  for (const line of r.stdout.split('\n')) {
    const [k, state, node] = line.trim().split('|');
    if (k && /^\d+$/.test(k)) m.set(Number(k), { state, node });
  }
  return m;
}

/** The final state of one array task from accounting, where the cluster has it. */
function sacctState(jobId: string, index: number): { state: string; node: string } | undefined {
  const r = run('sacct', ['-n', '-P', '-X', '-j', `${jobId}_${index}`, '-o', 'State,NodeList']);
  if (!r.ok) return undefined;
  const [state, node] = (r.stdout.split('\n')[0] ?? '').split('|');
  return state ? { state: state.trim(), node: (node ?? '').trim() } : undefined;
}

interface Track {
  arrayIndex: number;
  item: EngineItem;
  attempt: number;
  jobId: string;
  state: SlurmTaskState;
  slurmState?: string;
  node?: string;
  /** Polls in a row that found the task ended (or gone) without a marker. */
  endedPolls: number;
  elapsedMs?: number;
  wallMs?: number;
  failure?: string;
}

/**
 * The Slurm engine for `sweep`: the points the store lacks become one `sbatch --array` job (array index →
 * point, listed in `job.json` in a job folder on the shared filesystem); each array task runs
 * `dist/lib/slurm-task.js`, which computes its point with the registered task and writes the result into
 * the store (`TANGENT_RESULTS_DIR` must be on a filesystem all nodes share). The caller waits, printing
 * done / running / pending / failed with an ETA (from squeue, sacct where there is accounting, and the
 * tasks' marker files); tasks that end without a result (killed, timed out, lost node) are resubmitted up to
 * `retries` times; a task whose computation raises fails the sweep with its error, stderr and log path
 * (the computation is deterministic, so it is not retried). SIGINT/SIGTERM cancel the array (`scancel`).
 *
 * @example
 *   // TANGENT_RESULTS_DIR=/shared/tangent TANGENT_SLURM_ARGS='--partition=cpu --time=2:00:00 --cpus-per-task=1'
 *   await sweep(grid, remote('fig1Run', (pt) => [{ ...pt }]), { store, engine: 'slurm' });
 */
export function slurmEngine(options: SlurmOptions = {}, env: NodeJS.ProcessEnv = process.env): SweepEngine {
  const args = options.args ?? splitShellArgs(env.TANGENT_SLURM_ARGS ?? '');
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) throw new Error(`slurmEngine: args = ${JSON.stringify(args)}; expected an array of sbatch options`);
  if (args.some((a) => /^--?(a|array)(=|$)/.test(a))) throw new Error(`slurmEngine: args = ${JSON.stringify(args)}; expected no --array (the engine sets it)`);
  const retries = options.retries ?? envNumber(env, 'TANGENT_SLURM_RETRIES', 2, true);
  if (!Number.isInteger(retries) || retries < 0) throw new Error(`slurmEngine: retries = ${retries}; expected a non-negative integer`);
  const pollMs = 1000 * (options.pollSeconds ?? envNumber(env, 'TANGENT_SLURM_POLL', 5, false));
  if (!(pollMs > 0)) throw new Error(`slurmEngine: pollSeconds = ${options.pollSeconds}; expected a positive number`);
  const node = options.node ?? (env.TANGENT_SLURM_NODE?.trim() || process.execPath);
  const baseDir = options.dir ?? env.TANGENT_SLURM_DIR?.trim();
  return {
    name: 'slurm',
    compute: (items, ctx) => computeOnSlurm(items, ctx, { args, retries, pollMs, node, baseDir, onStatus: options.onStatus }),
  };
}

async function computeOnSlurm(
  items: EngineItem[],
  ctx: EngineContext,
  o: { args: string[]; retries: number; pollMs: number; node: string; baseDir?: string; onStatus?: (s: SlurmStatus) => void },
): Promise<Map<string, number>> {
  const { store } = ctx;
  const log = ctx.quiet ? () => undefined : ctx.log;
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const jobDir = join(resolve(o.baseDir ?? join(store.root, '.slurm')), `${store.experiment}-${stamp}-${Math.random().toString(36).slice(2, 8)}`);
  for (const d of ['logs', 'status']) mkdirSync(join(jobDir, d), { recursive: true });
  const backend = (await initBackend()).name;
  const keys = await Promise.all(items.map((it) => keyFor(store, it.config)));
  const job: SlurmJobFile = {
    format: 'tangent-lab/slurm-job@1',
    experiment: store.experiment,
    store: { root: store.root, backend: store.backend },
    backend,
    items: items.map((it, i) => ({ sweepIndex: it.index, key: keys[i], config: encodePlain(it.config, 'config'), task: { ...it.task, args: encodePlain(it.task.args, 'task.args') } })),
  };
  writeJsonAtomic(join(jobDir, 'job.json'), job);
  const script = join(jobDir, 'run.sh');
  writeFileSync(script, [
    '#!/bin/bash',
    `# tangent-lab slurm engine: ${store.experiment}, ${items.length} point(s); array index = item of job.json`,
    '# Threads of BLAS-backed code follow --cpus-per-task.',
    'export OPENBLAS_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"',
    'export OMP_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"',
    `export TANGENT_BACKEND=${shq(backend)} TANGENT_WORKERS=1 TANGENT_ENGINE=local`,
    `exec ${shq(o.node)} ${shq(TASK_SCRIPT)} ${shq(join(jobDir, 'job.json'))} "$SLURM_ARRAY_TASK_ID"`,
    '',
  ].join('\n'), { mode: 0o755 });
  const outLog = (jobId: string, i: number) => join(jobDir, 'logs', `${jobId}_${i}.out`);
  const errLog = (jobId: string, i: number) => join(jobDir, 'logs', `${jobId}_${i}.err`);
  const marker = (i: number, kind: 'start' | 'done' | 'error') => join(jobDir, 'status', `${i}.${kind}`);

  const submit = (indices: number[]): string => {
    const sbatchArgs = ['--parsable', `--array=${arraySpec(indices)}`, `--job-name=tangent-${store.experiment}`,
      `--output=${join(jobDir, 'logs', '%A_%a.out')}`, `--error=${join(jobDir, 'logs', '%A_%a.err')}`, `--chdir=${projectRoot()}`, ...o.args, script];
    const r = run('sbatch', sbatchArgs);
    if (r.missing) throw new Error('slurm engine: sbatch not found on PATH; run on a Slurm login node or set TANGENT_ENGINE=local');
    const id = r.stdout.trim().split(';')[0];
    if (!r.ok || !/^\d+$/.test(id)) throw new Error(`slurm engine: sbatch ${sbatchArgs.join(' ')} failed (exit ${r.ok ? 0 : 'non-zero'}): ${r.stderr.trim() || r.stdout.trim()}`);
    return id;
  };

  const first = submit(items.map((_, i) => i));
  const tracks: Track[] = items.map((item, arrayIndex) => ({ arrayIndex, item, attempt: 1, jobId: first, state: 'pending', endedPolls: 0 }));
  log(`slurm ${store.experiment}: submitted array job ${first} (${items.length} of ${ctx.total} points; folder ${jobDir})`);

  const t0 = performance.now();
  const active = () => [...new Set(tracks.filter((t) => t.state === 'pending' || t.state === 'running').map((t) => t.jobId))];
  let interrupted: string | undefined;
  let wake: (() => void) | undefined;
  const cancel = () => {
    const ids = active();
    if (ids.length) spawnSync('scancel', ids, { stdio: 'ignore', timeout: 30_000 });
    return ids;
  };
  const onSignal = (sig: NodeJS.Signals) => {
    const ids = cancel();
    interrupted = `${sig}; cancelled array job(s) ${ids.join(', ') || '(none active)'}`;
    process.stderr.write(`slurm ${store.experiment}: interrupted (${interrupted})\n`);
    wake?.();
    // Alone on this signal (a plain script), do what the signal would have done.
    if (process.listenerCount(sig) === 1) {
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    }
  };
  const onExit = () => cancel();
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  process.on('exit', onExit);

  const describe = (t: Track) => `sweep point ${t.item.index + 1}/${ctx.total} ${JSON.stringify(t.item.point)}`;
  let lastLine = '';
  let lastLogged = 0;
  let maxRunning = 1;
  try {
    for (;;) {
      const states = new Map(active().map((id) => [id, squeueStates(id)] as const));
      const resubmit: Track[] = [];
      for (const t of tracks) {
        if (t.state === 'done' || t.state === 'failed') continue;
        const done = readJson<SlurmMarker>(marker(t.arrayIndex, 'done'));
        const error = done ? undefined : readJson<SlurmMarker>(marker(t.arrayIndex, 'error'));
        if (done) {
          t.state = 'done';
          t.node = done.node;
          t.elapsedMs = done.elapsedMs ?? 0;
          // Wall time of the task on its node (start marker to done marker: process start, imports, compute, store).
          const started = readJson<SlurmMarker>(marker(t.arrayIndex, 'start'));
          t.wallMs = started?.at && done.at ? Date.parse(done.at) - Date.parse(started.at) : t.elapsedMs;
          const desc = Object.entries(t.item.point as Record<string, unknown>).map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`).join(' ');
          log(`slurm ${store.experiment}: [${tracks.filter((x) => x.state === 'done').length}/${tracks.length} done] ${desc} · ${done.fromCache ? 'already stored' : `computed ${seconds(t.elapsedMs)}`} on ${done.node} (task ${done.job})`);
          continue;
        }
        if (error) {
          t.state = 'failed';
          t.node = error.node;
          t.failure = `${describe(t)} failed on slurm (task ${error.job} on ${error.node}): ${error.message}\n` +
            `stderr (${errLog(t.jobId, t.arrayIndex)}):\n${tail(errLog(t.jobId, t.arrayIndex))}\nsbatch output: ${outLog(t.jobId, t.arrayIndex)}`;
          log(`slurm ${store.experiment}: ${t.failure}`);
          continue;
        }
        const q = states.get(t.jobId);
        if (!q) continue; // squeue failed this time: decide nothing
        const s = q.get(t.arrayIndex) ?? sacctState(t.jobId, t.arrayIndex);
        t.slurmState = s?.state;
        if (s?.node) t.node = s.node;
        if (s && !TERMINAL.test(s.state)) {
          t.state = /^(RUNNING|COMPLETING)/.test(s.state) ? 'running' : 'pending';
          t.endedPolls = 0;
          continue;
        }
        // Ended (or gone from squeue) without a marker: give a shared filesystem one more poll to show it.
        if (++t.endedPolls < 2) continue;
        const how = `${s?.state ?? 'gone from squeue'}${t.node ? ` on ${t.node}` : ''}`;
        if (t.attempt <= o.retries) {
          log(`slurm ${store.experiment}: task ${t.jobId}_${t.arrayIndex} (${describe(t)}) ended ${how} without a result; resubmitting (attempt ${t.attempt + 1} of ${o.retries + 1}); its stderr: ${errLog(t.jobId, t.arrayIndex)}`);
          resubmit.push(t);
        } else {
          t.state = 'failed';
          t.failure = `${describe(t)} failed on slurm: task ${t.jobId}_${t.arrayIndex} ended ${how} without a result, ${t.attempt} attempt(s)\n` +
            `stderr (${errLog(t.jobId, t.arrayIndex)}):\n${tail(errLog(t.jobId, t.arrayIndex))}\nsbatch output: ${outLog(t.jobId, t.arrayIndex)}`;
          log(`slurm ${store.experiment}: ${t.failure}`);
        }
      }
      if (resubmit.length && !interrupted) {
        for (const t of resubmit) for (const k of ['start', 'error'] as const) rmSync(marker(t.arrayIndex, k), { force: true });
        const id = submit(resubmit.map((t) => t.arrayIndex));
        for (const t of resubmit) Object.assign(t, { jobId: id, attempt: t.attempt + 1, state: 'pending', slurmState: undefined, endedPolls: 0 });
        log(`slurm ${store.experiment}: resubmitted ${resubmit.length} task(s) as array job ${id}`);
      }
      const counts = { pending: 0, running: 0, done: 0, failed: 0 };
      for (const t of tracks) counts[t.state]++;
      maxRunning = Math.max(maxRunning, counts.running);
      const finished = tracks.filter((t) => t.state === 'done' && t.wallMs !== undefined);
      const mean = finished.length ? finished.reduce((a, t) => a + t.wallMs!, 0) / finished.length : undefined;
      const left = counts.pending + counts.running;
      const etaMs = mean !== undefined && left > 0 ? (mean * left) / maxRunning : undefined;
      const elapsedMs = performance.now() - t0;
      const ids = [...new Set(tracks.map((t) => t.jobId))];
      const summary = `${counts.done}/${tracks.length} done · ${counts.running} running · ${counts.pending} pending · ${counts.failed} failed`;
      const line = `slurm ${store.experiment} job ${ids.join(',')}: ${summary} · ${seconds(elapsedMs)}${etaMs !== undefined ? ` · eta ~${seconds(etaMs)}` : ''}`;
      o.onStatus?.({
        jobDir, jobIds: ids, counts, elapsedMs, etaMs, line,
        tasks: tracks.map((t) => ({ arrayIndex: t.arrayIndex, sweepIndex: t.item.index, jobId: t.jobId, attempt: t.attempt, state: t.state, slurmState: t.slurmState, node: t.node })),
      });
      if (summary !== lastLine || elapsedMs - lastLogged > 60_000) {
        log(line);
        lastLine = summary;
        lastLogged = elapsedMs;
      }
      if (interrupted) throw new Error(`slurm ${store.experiment}: interrupted (${interrupted}); the points already stored are kept`);
      if (left === 0) break;
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, o.pollMs);
      });
    }
  } finally {
    for (const s of signals) process.removeListener(s, onSignal);
    process.removeListener('exit', onExit);
    if (!interrupted) cancel();
  }
  const failed = tracks.filter((t) => t.state === 'failed');
  if (failed.length) {
    const more = failed.length > 1 ? `\n(${failed.length - 1} more failed point(s): ${failed.slice(1).map((t) => `${t.item.index + 1}/${ctx.total}`).join(', ')}; the ${tracks.length - failed.length} other point(s) are stored)` : '';
    throw new Error(`${failed[0].failure}${more}`);
  }
  const times = new Map<string, number>();
  tracks.forEach((t, i) => times.set(keys[i], t.elapsedMs ?? 0));
  return times;
}
