import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { initBackend } from '../lib/core/backend.js';
import { hessianScaling } from '../lib/experiments/p002-hessian-scaling.js';
import { remote, resolveWorkers, runTask, workerPool, workerThreads } from '../lib/run/parallel.js';
import { openStore, readEntries } from '../lib/run/store.js';
import { sweep } from '../lib/run/sweep.js';

const dir = mkdtempSync(join(tmpdir(), 'tangent-parallel-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A task module outside the library: workers import it by URL.
const moduleFile = join(dir, 'tasks.mjs');
writeFileSync(moduleFile, `
export async function slowSquare({ x, ms = 150, progress }) {
  if (progress) progress('squaring ' + x);
  await new Promise((r) => setTimeout(r, ms));
  return { x, square: x * x, pid: process.pid, backend: process.env.TANGENT_BACKEND };
}
export function failsOn({ x, bad }) {
  if (x === bad) throw new Error('deliberate failure at x = ' + x);
  return { x };
}
export async function backendThreads() {
  const { initBackend } = await import(${JSON.stringify(new URL('../lib/core/backend.js', import.meta.url).href)});
  const info = await initBackend();
  return { name: info.name, threads: info.threads, env: process.env.TANGENT_BLAS_THREADS };
}
export function exitsOn({ x, bad }) {
  if (x === bad) process.exit(3);
  return { x };
}
`);
const tasks = pathToFileURL(moduleFile).href;

function quietStore(experiment: string) {
  const lines: string[] = [];
  return { store: openStore(experiment, { root: dir, backend: 'test', log: (l) => lines.push(l) }), lines };
}

describe('parallel sweeps (worker processes)', () => {
  test('workers compute the points concurrently; results in grid order, stored, reused', { timeout: 60_000 }, async () => {
    const { store, lines } = quietStore('squares');
    const fn = remote<{ x: number }, { x: number; square: number; pid: number; backend: string }>('slowSquare', ({ x }) => [{ x, progress: true }], tasks);
    const xs = [1, 2, 3, 4, 5, 6];
    const first = await sweep({ x: xs }, fn, { store, workers: 2 });
    assert.deepEqual(first.map((r) => r.result.square), xs.map((x) => x * x));
    assert.deepEqual(first.map((r) => r.point.x), xs);
    assert.equal(new Set(first.map((r) => r.result.pid)).size, 2, 'two worker processes');
    assert.ok(first.every((r) => r.result.pid !== process.pid));
    assert.equal(first[0].result.backend, (await initBackend()).name, 'workers use the parent backend');
    assert.ok(lines.some((l) => /^\[worker [12]\] squaring 3$/.test(l)), lines.join('\n'));
    assert.equal(lines.filter((l) => /^\[\d\/6\] x=\d · [0-9a-f]{8} · computed/.test(l)).length, 6, lines.join('\n'));
    assert.equal(readEntries(store).entries.length, 6);

    const again = await sweep({ x: xs }, fn, { store, workers: 2 });
    assert.ok(again.every((r) => r.fromCache));
    assert.deepEqual(again.map((r) => r.result), first.map((r) => r.result));
    // In-process (workers 1) the same remote function runs here, with the same stored keys.
    const { store: local } = quietStore('squares-local');
    const inProcess = await sweep({ x: [7] }, fn, { store: local });
    assert.equal(inProcess[0].result.pid, process.pid);
    assert.equal(inProcess[0].result.square, 49);
  });

  test('a failing point fails the sweep and names it; the other points are kept', { timeout: 60_000 }, async () => {
    const { store } = quietStore('failing');
    const fn = remote<{ x: number }>('failsOn', ({ x }) => [{ x, bad: 2 }], tasks);
    await assert.rejects(sweep({ x: [1, 2, 3] }, fn, { store, workers: 2 }), /sweep point 2\/3 \{"x":2\} failed: deliberate failure at x = 2/);
    const stored = readEntries(store).entries.map((e) => (e.call as { args: [{ x: number }] }).args[0].x).sort();
    assert.ok(stored.includes(1) && !stored.includes(2), `stored ${stored}`);
  });

  test('workers x OpenBLAS threads <= cores: each worker of a full pool gets cores / workers threads', { timeout: 60_000 }, async () => {
    const size = Math.max(2, availableParallelism());
    const pool = await workerPool(size, () => undefined);
    try {
      const r = (await pool.run({ module: tasks, name: 'backendThreads', args: [] })) as { name: string; threads: number; env: string };
      assert.equal(r.env, String(Math.max(1, Math.floor(availableParallelism() / size))));
      if (r.name === 'wasm+openblas') assert.equal(r.threads, Number(r.env));
    } finally {
      pool.close();
    }
  });

  test('points computed in workers are keyed by the workers\' OpenBLAS threads, not this process\'s', { timeout: 60_000 }, async (t) => {
    const info = await initBackend();
    if (info.name !== 'wasm+openblas') return t.skip(`backend ${info.name}: no thread count in the key`);
    const store = openStore('worker-threads', { root: dir, log: () => undefined });
    const fn = remote<{ x: number }, { threads: number }>('backendThreads', ({ x }) => [{ x }], tasks);
    const pooled = await sweep({ x: [1, 2] }, fn, { store, workers: 2 });
    const threads = workerThreads(2);
    assert.ok(pooled.every((r) => r.result.threads === threads), JSON.stringify(pooled.map((r) => r.result)));
    const entries = readEntries(store).entries;
    assert.ok(entries.every((e) => e.backendVersion.includes(`OpenBLAS ${threads} thread${threads === 1 ? '' : 's'},`)), entries.map((e) => e.backendVersion).join('; '));
    assert.ok(entries.every((e) => (e.meta as { computeThreads?: number }).computeThreads === threads));
    // In this process (its own thread count) the point is another computation, unless the counts agree.
    const here = await sweep({ x: [1] }, fn, { store, workers: 1 });
    assert.equal(here[0].fromCache, info.threads === threads);
    assert.equal(here[0].result.threads, info.threads);
  });

  test('a worker that dies is reported with its task; the pool goes on with the others', { timeout: 60_000 }, async () => {
    const pool = await workerPool(2, () => undefined);
    try {
      await assert.rejects(pool.run({ module: tasks, name: 'exitsOn', args: [{ x: 1, bad: 1 }] }), /worker \d \(pid \d+\) exited \(code 3\) while running exitsOn\(\{"x":1,"bad":1\}\)/);
      assert.deepEqual(await pool.run({ module: tasks, name: 'exitsOn', args: [{ x: 2, bad: 1 }] }), { x: 2 });
    } finally {
      pool.close();
    }
  });

  test('clear errors: closures with workers > 1, bad worker counts, unknown functions', async () => {
    const { store } = quietStore('errors');
    await assert.rejects(sweep({ x: [1, 2] }, ({ x }) => x, { store, workers: 2 }), /workers = 2 needs a function that worker processes can run; build it with remote/);
    // 'auto' and TANGENT_WORKERS leave plain closures in this process.
    assert.deepEqual((await sweep({ x: [1, 2] }, ({ x }) => x * 10, { store, workers: 'auto', code: import.meta.url })).map((r) => r.result), [10, 20]);
    await assert.rejects(resolveWorkers(0), /workers = 0; expected a positive integer or 'auto'/);
    await assert.rejects(resolveWorkers(1, { TANGENT_WORKERS: 'many' }), /TANGENT_WORKERS='many'; expected a positive integer or 'auto'/);
    assert.equal(await resolveWorkers(1, { TANGENT_WORKERS: '3' }), 3);
    assert.ok((await resolveWorkers('auto', {})) >= 1);
    await assert.rejects(runTask({ module: tasks, name: 'nope', args: [] }, () => undefined), /has no exported function nope/);
    await assert.rejects(runTask({ module: 'no-such-module-xyz', name: 'f', args: [] }, () => undefined), /cannot import 'no-such-module-xyz' for task f/);
  });

  test('library experiments give the same numbers in a worker as in this process', { timeout: 120_000 }, async () => {
    const { store } = quietStore('table1');
    const runs = await sweep({ model: ['linear-output', 'bottleneck'] as const, seed: [0] }, remote('hessianScaling', ({ model, seed }) => [model, 64, seed]), { store, workers: 2 });
    for (const r of runs) assert.deepEqual(r.result, JSON.parse(JSON.stringify(hessianScaling(r.point.model, 64, r.point.seed))));
    // Typed by the library function: its result type, and its arguments checked (progress: true for the callback).
    const norm: number = runs[0].result.hessianNorm;
    assert.ok(norm > 0);
    const typed = () => {
      sweep({ objective: ['ce'] as const, m: [8], seed: [0] }, remote('fig1Run', ({ objective, m, seed }) => [{ m, seed, objective, steps: 3, kernelEvery: 1, progress: true }]), { store });
      // @ts-expect-error hessianScaling takes a model name first
      remote('hessianScaling', ({ m }: { m: number }) => [m, m, 0]);
    };
    assert.equal(typeof typed, 'function');
  });
});
