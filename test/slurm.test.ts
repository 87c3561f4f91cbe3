import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { initBackend } from '../lib/core/backend.js';
import { resolveEngine } from '../lib/run/engines.js';
import '../lib/experiments/p002-hessian-scaling.js'; // registers the hessianScaling task
import { remote } from '../lib/run/parallel.js';
import { libraryVersion, projectRoot } from '../lib/core/env.js';
import { arraySpec, slurmEngine, splitShellArgs, type SlurmStatus } from '../lib/run/slurm.js';
import { importResults } from '../lib/run/import-results.js';
import { entryPath, keyFor, lookup, openStore, readEntries, storeResult } from '../lib/run/store.js';
import { sweep } from '../lib/run/sweep.js';
import { jupyterPython, reproduce, run } from './kernel-support.js';

type LocalSlurmModule = typeof import('../scripts/slurm-local.mjs');

const dir = mkdtempSync(join(tmpdir(), 'tangent-slurm-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Task functions outside the library, imported by the array tasks by URL.
const moduleFile = join(dir, 'tasks.mjs');
writeFileSync(moduleFile, `
export async function slowSquare({ x, ms = 100, progress }) {
  if (progress) progress('squaring ' + x);
  await new Promise((r) => setTimeout(r, ms));
  return { x, square: x * x, third: x / 3 };
}
export function threads({ x }) {
  return { x, openblas: process.env.OPENBLAS_NUM_THREADS, omp: process.env.OMP_NUM_THREADS, cpus: process.env.SLURM_CPUS_PER_TASK };
}
export function failsOn({ x, bad }) {
  if (x === bad) throw new Error('deliberate failure at x = ' + x);
  return { x };
}
`);
const tasks = pathToFileURL(moduleFile).href;

describe('slurm engine: pieces that need no cluster', () => {
  test('sbatch options split like a shell; array specs compress ranges', () => {
    assert.deepEqual(splitShellArgs(` --partition=cpu  --time=2:00:00 --comment='two words' -J "a \\"b\\"" x\\ y `), ['--partition=cpu', '--time=2:00:00', '--comment=two words', '-J', 'a "b"', 'x y']);
    assert.deepEqual(splitShellArgs(''), []);
    assert.throws(() => splitShellArgs("--comment='open"), /slurmEngine: TANGENT_SLURM_ARGS = .*; expected balanced quotes/);
    assert.equal(arraySpec([0, 1, 2, 3, 7, 9, 10]), '0-3,7,9-10');
    assert.equal(arraySpec([5]), '5');
  });

  test('engine choice: option, TANGENT_ENGINE, clear errors', async () => {
    assert.equal(await resolveEngine(undefined, true, () => undefined, {}), undefined);
    assert.equal(await resolveEngine('local', true, () => undefined, {}), undefined);
    assert.equal((await resolveEngine('slurm', true, () => undefined, {}))?.name, 'slurm');
    assert.equal((await resolveEngine('local', true, () => undefined, { TANGENT_ENGINE: 'slurm' }))?.name, 'slurm');
    await assert.rejects(resolveEngine(undefined, true, () => undefined, { TANGENT_ENGINE: 'pbs' }), /sweep: TANGENT_ENGINE='pbs'; expected one of local, slurm or an engine object/);
    await assert.rejects(resolveEngine('slurm', false, () => undefined, {}), /engine = "slurm" needs a function that runs outside this process; build it with remote/);
    const notes: string[] = [];
    assert.equal(await resolveEngine(undefined, false, (l) => notes.push(l), { TANGENT_ENGINE: 'slurm' }), undefined);
    assert.match(notes[0], /TANGENT_ENGINE='slurm', but this sweep's function is a closure, so it runs in this process/);
    assert.throws(() => slurmEngine({ args: ['--array=0-3'] }), /expected no --array/);
    assert.throws(() => slurmEngine({}, { TANGENT_SLURM_RETRIES: 'x' }), /slurmEngine: TANGENT_SLURM_RETRIES='x'; expected a non-negative integer/);
  });

  test('npm run reproduce -- --engine: local or slurm, passed on as TANGENT_ENGINE', async () => {
    const r = await reproduce(['--engine', 'pbs', '--only', '00_environment']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /reproduce: --engine 'pbs' is not local or slurm/);
    const help = await reproduce(['--help']);
    assert.match(help.stdout, /--engine local\|slurm/);
  });
});

describe('results computed elsewhere come back into a local store', () => {
  test('valid entries are copied; present, conflicting and corrupt ones are reported', async () => {
    const remoteStore = openStore('elsewhere', { root: join(dir, 'cluster-copy'), backend: 'test', log: () => undefined });
    const localStore = openStore('elsewhere', { root: join(dir, 'home'), backend: 'test', log: () => undefined });
    for (const x of [1, 2, 3, 4]) await storeResult(remoteStore, { config: { x }, code: import.meta.url }, { y: x / 7 }, { engine: 'slurm', node: 'n1' });
    await storeResult(localStore, { config: { x: 2 }, code: import.meta.url }, { y: 2 / 7 });
    await storeResult(localStore, { config: { x: 3 }, code: import.meta.url }, { y: -1 });
    writeFileSync(entryPath(remoteStore, await keyFor(remoteStore, { config: { x: 4 }, code: import.meta.url })), '{"truncated');
    const lines: string[] = [];
    const r = importResults(join(dir, 'cluster-copy'), { to: join(dir, 'home'), log: (l) => lines.push(l) });
    assert.equal(r.copied, 1);
    assert.equal(r.same, 1);
    assert.deepEqual(r.conflicts.map((c) => c.key), [await keyFor(localStore, { config: { x: 3 }, code: import.meta.url })]);
    assert.equal(r.corrupt.length, 1);
    assert.match(r.corrupt[0].reason, /not valid JSON/);
    assert.deepEqual(Object.values(r.computedWith), [1]);
    assert.match(Object.keys(r.computedWith)[0], /^test \/ code [0-9a-f]{8}$/);
    assert.match(lines.at(-1)!, /^import: 1 copied, 1 already present, 1 conflicting, 1 corrupt/);
    const got = await lookup<{ y: number }>(localStore, { config: { x: 1 }, code: import.meta.url });
    assert.equal(got?.result.y, 1 / 7);
    assert.equal(got?.meta.node, 'n1');
    assert.equal((await lookup<{ y: number }>(localStore, { config: { x: 3 }, code: import.meta.url }))?.result.y, -1, 'the local entry is kept');
    assert.throws(() => importResults(join(dir, 'nope')), /importResults: from = .*nope"; expected a results folder/);
  });
});

describe('slurm engine on a single-node cluster (loopback)', () => {
  let slurm: LocalSlurmModule | undefined;
  let cluster: Awaited<ReturnType<LocalSlurmModule['startLocalSlurm']>> | undefined;
  let skip: string | false = false;
  const killOnExit = () => cluster && slurm?.killLocalSlurm(cluster.dir);

  before(async () => {
    slurm = (await import(pathToFileURL(join(projectRoot(), 'scripts', 'slurm-local.mjs')).href)) as LocalSlurmModule;
    const why = slurm.ensureSlurm((l) => console.log(l));
    if (why) {
      skip = `no local Slurm cluster: ${why}`;
      return;
    }
    process.on('exit', killOnExit);
    cluster = await slurm.startLocalSlurm({ dir: join(dir, 'cluster'), log: (l) => console.log(l) });
    process.env.SLURM_CONF = cluster.conf;
  });
  after(async () => {
    if (cluster) await cluster.stop();
    process.removeListener('exit', killOnExit);
    delete process.env.SLURM_CONF;
    if (cluster) {
      const alive = Object.values(cluster.pids).filter((pid) => spawnSync('kill', ['-0', String(pid)]).status === 0);
      assert.deepEqual(alive, [], 'the cluster daemons are stopped');
    }
  });

  const engine = (onStatus?: (s: SlurmStatus) => void) => slurmEngine({ pollSeconds: 0.3, retries: 1, args: [], onStatus });

  test('results equal the local engine bit for bit; metadata names engine and node', { timeout: 90_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const grid = { model: ['linear-output', 'bottleneck'] as const, seed: [0, 1] };
    const fn = remote('hessianScaling', ({ model, seed }: { model: 'linear-output' | 'bottleneck'; seed: number }) => [model, 32, seed]);
    await initBackend(); // the array tasks compute on this process's backend
    const lines: string[] = [];
    const local = openStore('table1', { root: join(dir, 'local'), backend: 'test', log: () => undefined });
    const viaSlurm = openStore('table1', { root: join(dir, 'shared'), backend: 'test', log: (l) => lines.push(l) });
    const a = await sweep(grid, fn, { store: local, workers: 1 });
    const b = await sweep(grid, fn, { store: viaSlurm, engine: engine() });
    assert.ok(lines.some((l) => /^slurm table1: submitted array job \d+ \(4 of 4 points; folder /.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /^slurm table1 job \d+: 4\/4 done · 0 running · 0 pending · 0 failed/.test(l)), lines.join('\n'));
    assert.ok(b.every((r) => !r.fromCache));
    assert.deepEqual(b.map((r) => r.key), a.map((r) => r.key), 'same keys');
    assert.deepEqual(b.map((r) => r.result), a.map((r) => r.result));
    const ea = readEntries(local).entries;
    const eb = readEntries(viaSlurm).entries;
    assert.deepEqual(eb.map((e) => e.checksum), ea.map((e) => e.checksum), 'identical stored payloads');
    for (const e of ea) assert.deepEqual([e.meta.engine, typeof e.meta.node], ['local', 'string']);
    for (const e of eb) {
      assert.equal(e.meta.engine, 'slurm');
      assert.equal(e.meta.node, slurm!.NODE_NAME);
      assert.match(String(e.meta.slurmJob), /^\d+_[0-3]$/);
    }
    // Everything stored: no job is submitted again.
    lines.length = 0;
    const c = await sweep(grid, fn, { store: viaSlurm, engine: engine() });
    assert.ok(c.every((r) => r.fromCache));
    assert.ok(!lines.some((l) => /submitted/.test(l)), lines.join('\n'));
  });

  test('an array task cancelled mid-run (scancel JOB_IDX) is resubmitted and the sweep completes', { timeout: 90_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const lines: string[] = [];
    const store = openStore('killed', { root: join(dir, 'shared'), backend: 'test', log: (l) => lines.push(l) });
    let cancelled: string | undefined;
    const statuses: SlurmStatus[] = [];
    const onStatus = (s: SlurmStatus) => {
      statuses.push(s);
      const victim = s.tasks.find((x) => x.arrayIndex === 1 && x.attempt === 1 && x.state === 'running');
      if (victim && !cancelled) {
        cancelled = `${victim.jobId}_1`;
        spawnSync('scancel', [cancelled]);
      }
    };
    const fn = remote<{ x: number }, { x: number; square: number }>('slowSquare', ({ x }) => [{ x, ms: 3000, progress: true }], tasks);
    const runs = await sweep({ x: [1, 2, 3] }, fn, { store, engine: engine(onStatus) });
    assert.ok(cancelled, 'a running task was cancelled');
    assert.deepEqual(runs.map((r) => r.result.square), [1, 4, 9]);
    const last = statuses.at(-1)!;
    assert.deepEqual(last.tasks.map((x) => x.attempt), [1, 2, 1]);
    assert.equal(last.jobIds.length, 2, 'the resubmission is a second array job');
    assert.ok(lines.some((l) => new RegExp(`task ${cancelled} \\(sweep point 2/3 \\{"x":2\\}\\) ended CANCELLED on ${slurm!.NODE_NAME} without a result; resubmitting \\(attempt 2 of 2\\)`).test(l)), lines.join('\n'));
    assert.equal(readEntries(store).entries.length, 3);
  });

  test('TANGENT_SLURM_ARGS reach sbatch; OpenBLAS and OpenMP threads follow --cpus-per-task', { timeout: 60_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const store = openStore('threads', { root: join(dir, 'shared'), backend: 'test', log: () => undefined });
    const viaEnv = slurmEngine({}, { TANGENT_SLURM_ARGS: "--cpus-per-task=2 --comment='two words'", TANGENT_SLURM_POLL: '0.3' });
    const [r] = await sweep({ x: [1] }, remote<{ x: number }, Record<string, string>>('threads', ({ x }) => [{ x }], tasks), { store, engine: viaEnv });
    assert.deepEqual(r.result, { x: 1, openblas: '2', omp: '2', cpus: '2' });
    assert.equal(readEntries(store).entries[0].meta.cpusPerTask, 2);
  });

  test('a point that raises fails the sweep with its error, stderr and log path; the others are stored', { timeout: 90_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const store = openStore('raises', { root: join(dir, 'shared'), backend: 'test', log: () => undefined });
    const fn = remote<{ x: number }>('failsOn', ({ x }) => [{ x, bad: 2 }], tasks);
    const err = await sweep({ x: [1, 2, 3] }, fn, { store, engine: engine() }).then(() => undefined, (e: Error) => e);
    assert.ok(err, 'the sweep fails');
    assert.match(err.message, /^sweep point 2\/3 \{"x":2\} failed on slurm \(task \d+_1 on tangent0\): deliberate failure at x = 2\n/);
    assert.match(err.message, /stderr \(.*\/logs\/\d+_1\.err\):\nError: deliberate failure at x = 2\n\s+at failsOn/);
    assert.match(err.message, /sbatch output: .*\/logs\/\d+_1\.out/);
    const stored = readEntries(store).entries.map((e) => ((e.call as { args: { x: number }[] }).args[0]).x).sort();
    assert.deepEqual(stored, [1, 3]);
  });

  test('interrupting the waiting process (SIGINT) cancels the array', { timeout: 60_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const script = join(dir, 'interrupt.mjs');
    writeFileSync(script, `
import { openStore, remote, sweep } from ${JSON.stringify(pathToFileURL(join(projectRoot(), 'dist', 'lib', 'index.js')).href)};
const store = openStore('interrupted', { root: ${JSON.stringify(join(dir, 'shared'))}, backend: 'test' });
await sweep({ x: [1, 2, 3, 4] }, remote('slowSquare', ({ x }) => [{ x, ms: 60000 }], ${JSON.stringify(tasks)}), { store, engine: 'slurm' });
`);
    const child = spawn(process.execPath, [script], { env: { ...process.env, TANGENT_SLURM_POLL: '0.3' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
    for (let i = 0; !/2 running/.test(out); i++) {
      assert.ok(i < 300, `no running tasks after 30 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const jobId = /submitted array job (\d+)/.exec(out)![1];
    child.kill('SIGINT');
    const how = await exited;
    assert.equal(how.signal, 'SIGINT', out);
    assert.match(out, new RegExp(`interrupted \\(SIGINT; cancelled array job\\(s\\) ${jobId}\\)`));
    const q = spawnSync('squeue', ['-h', '-r', '-t', 'all', '-j', jobId, '-o', '%T'], { encoding: 'utf8' });
    const states = q.stdout.trim().split('\n');
    assert.ok(states.length === 4 && states.every((s) => /^(CANCELLED|COMPLETING)/.test(s)), `states after SIGINT: ${states.join(', ')}`);
  });
  test('interrupting the notebook (kernel interrupt) cancels the array; the kernel stays usable', { timeout: 120_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const python = await jupyterPython(['jupyter_client']);
    const driver = join(dir, 'interrupt-kernel.py');
    writeFileSync(driver, `
import json, queue, re, subprocess, sys, time, jupyter_client
code, cwd = sys.argv[1], sys.argv[2]
km, kc = jupyter_client.manager.start_new_kernel(kernel_name='tangent-lab', cwd=cwd, startup_timeout=90)
try:
    msg_id = kc.execute(code)
    out, job, t0 = '', None, time.time()
    while time.time() - t0 < 60:
        try:
            m = kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        if m['parent_header'].get('msg_id') != msg_id:
            continue
        c = m['content']
        if m['msg_type'] == 'stream':
            out += c['text']
        if m['msg_type'] == 'error':
            out += 'ERROR: ' + c.get('evalue', '') + '\\n'
        if job is None and '2 running' in out:
            job = re.search(r'submitted array job (\\d+)', out).group(1)
            km.interrupt_kernel()
        if m['msg_type'] == 'status' and c['execution_state'] == 'idle':
            break
    time.sleep(1)
    states = subprocess.run(['squeue', '-h', '-r', '-t', 'all', '-j', job or '0', '-o', '%T'], capture_output=True, text=True).stdout.split()
    alive = []
    kc.execute_interactive('console.log("alive " + (40 + 2))', timeout=30, output_hook=lambda m: alive.append(m['content'].get('text', '')) if m['msg_type'] == 'stream' else None)
    print(json.dumps({'out': out, 'job': job, 'states': states, 'alive': ''.join(alive)}))
finally:
    km.shutdown_kernel(now=True)
`);
    const code = [
      "import { openStore, sweep, remote } from 'tangent-lab';",
      `const store = openStore('kernel-interrupt', { root: ${JSON.stringify(join(dir, 'shared'))}, backend: 'test' });`,
      `await sweep({ x: [1, 2, 3] }, remote<{ x: number }>('slowSquare', ({ x }) => [{ x, ms: 60000 }], ${JSON.stringify(tasks)}), { store, engine: 'slurm' });`,
    ].join('\n');
    const r = await run(python, [driver, code, join(projectRoot(), 'notebooks')], { env: { ...process.env, TANGENT_SLURM_POLL: '0.3' } });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const got = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { out: string; job: string | null; states: string[]; alive: string };
    assert.ok(got.job, `no running tasks seen:\n${got.out}`);
    assert.match(got.out, new RegExp(`slurm kernel-interrupt: interrupted \\(SIGINT; cancelled array job\\(s\\) ${got.job}\\)`), got.out);
    assert.ok(got.states.length === 3 && got.states.every((s) => /^(CANCELLED|COMPLETING)/.test(s)), `states after the interrupt: ${got.states.join(', ')}`);
    assert.equal(got.alive.trim(), 'alive 42');
  });
});
