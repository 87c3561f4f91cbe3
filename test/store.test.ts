import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, decodePlain, encodePlain } from '../lib/core/canonical-json.js';
import { cached, cachedRun, entryPath, keyFor, lookup, openStore, readEntries, runKey, RESULT_FORMAT } from '../lib/run/store.js';
import { gridPoints, sweep } from '../lib/run/sweep.js';
import { resultsTable } from '../lib/run/results-table.js';
import { backendPackageVersion, initBackend, keyedBackendVersion } from '../lib/core/backend.js';

const storeUrl = new URL('../lib/run/store.js', import.meta.url).href;
let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'store-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

/** A closure's run: its config, keyed with the fingerprint of this test module. */
const code = import.meta.url;
const run = (config: unknown) => ({ config, code });

function quietStore(experiment: string, extra: Parameters<typeof openStore>[1] = {}) {
  const lines: string[] = [];
  const store = openStore(experiment, { root, backend: 'cpu', log: (l) => lines.push(l), ...extra });
  return { store, lines };
}

describe('canonical JSON and keys', () => {
  test('key order does not matter; values do; non-finite numbers and typed arrays round-trip', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, 2], c: 'x' } }), '{"a":{"c":"x","d":[1,2]},"b":1}');
    assert.equal(runKey({ a: 1, b: 2 }), runKey({ b: 2, a: 1 }));
    assert.notEqual(runKey({ a: 1, b: 2 }), runKey({ a: 1, b: 3 }));
    assert.equal(runKey({ a: 1, skip: undefined }), runKey({ a: 1 }));
    assert.match(runKey({}), /^[0-9a-f]{64}$/);
    const v = { nan: NaN, inf: -Infinity, f32: Float32Array.from([0.1, 2]), i32: Int32Array.from([-3]), nested: [{ x: Infinity }] };
    const back = decodePlain(JSON.parse(JSON.stringify(encodePlain(v)))) as typeof v;
    assert.ok(Number.isNaN(back.nan));
    assert.equal(back.inf, -Infinity);
    assert.ok(back.f32 instanceof Float32Array);
    assert.deepEqual(back.f32, v.f32);
    assert.deepEqual(back.i32, v.i32);
    assert.equal(back.nested[0].x, Infinity);
  });

  test('-0 survives as a stored value but keys treat it as 0', () => {
    assert.equal(canonicalJson({ a: -0 }), canonicalJson({ a: 0 }));
    const back = decodePlain(JSON.parse(JSON.stringify(encodePlain({ z: -0, t: Float64Array.from([-0, 1]) }, 'result', true)))) as { z: number; t: Float64Array };
    assert.ok(Object.is(back.z, -0));
    assert.ok(Object.is(back.t[0], -0));
  });

  test('non-plain data is rejected with its path', () => {
    assert.throws(() => canonicalJson({ net: { f: () => 1 } }), /\$\.net\.f is a function/);
    assert.throws(() => canonicalJson({ when: new Date(0) }), /\$\.when is a Date; stored configs and results must be plain data/);
    assert.throws(() => canonicalJson({ a: [1, undefined] }), /\$\.a\[1\] is undefined/);
    assert.throws(() => canonicalJson({ $typed: 1 }), /reserved/);
    assert.throws(() => canonicalJson({ n: 10n }), /bigint/);
  });
});

describe('cached', () => {
  test('computes once, then reads back an identical result; key includes code fingerprint, backend and its version', async () => {
    const { store } = quietStore('basic');
    let calls = 0;
    const config = { network: { width: 64, depth: 2 }, lr: 0.5, seed: 1 };
    const compute = async () => {
      calls++;
      return { loss: [1, 0.5, NaN], final: 0.25, weights: Float32Array.from([1.5, -2]) };
    };
    const first = await cachedRun(store, run(config), compute);
    const second = await cachedRun(store, run({ seed: 1, lr: 0.5, network: { depth: 2, width: 64 } }), compute);
    assert.equal(calls, 1);
    assert.equal(first.fromCache, false);
    assert.equal(second.fromCache, true);
    assert.equal(first.key, second.key);
    assert.deepEqual(second.result, first.result);
    assert.ok(Number.isNaN(second.result.loss[2]));
    assert.ok(second.result.weights instanceof Float32Array);
    assert.equal(readdirSync(store.dir).filter((f) => f.includes('.tmp-')).length, 0);
    const other = openStore('basic', { root, backend: 'wasm', log: () => undefined });
    assert.notEqual(await keyFor(other, run(config)), first.key);
    const newer = openStore('basic', { root, backend: 'cpu', backendVersion: '9.9.9', log: () => undefined });
    assert.notEqual(await keyFor(newer, run(config)), first.key);
    assert.notEqual(await keyFor(store, { config, code: storeUrl }), first.key, 'other code, other key');
    const entry = JSON.parse(readFileSync(entryPath(store, first.key), 'utf8'));
    assert.equal(entry.format, RESULT_FORMAT);
    assert.equal(entry.backend, 'cpu');
    assert.equal(entry.backendVersion, backendPackageVersion('cpu'));
    assert.equal(entry.task, null);
    assert.deepEqual(entry.call, { config });
    assert.match(entry.fingerprint, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(entry.meta.modules, ['dist/test/store.test.js']);
    assert.ok(entry.meta.git === null || /^[0-9a-f]{40}$/.test(entry.meta.git.commit));
    assert.match(entry.checksum, /^sha256:[0-9a-f]{64}$/);
    assert.ok(typeof entry.meta.elapsedMs === 'number');
  });

  test('NaN, ±Infinity and -0 inside a result come back as themselves, fresh and reused', async () => {
    const { store } = quietStore('nonfinite');
    const compute = () => ({ loss: [1, NaN, Infinity], min: -Infinity, zero: -0, nested: { h: Float32Array.from([NaN, -0]) } });
    const check = (r: ReturnType<typeof compute>) => {
      assert.ok(Number.isNaN(r.loss[1]));
      assert.equal(r.loss[2], Infinity);
      assert.equal(r.min, -Infinity);
      assert.ok(Object.is(r.zero, -0));
      assert.ok(r.nested.h instanceof Float32Array && Number.isNaN(r.nested.h[0]) && Object.is(r.nested.h[1], -0));
    };
    const fresh = await cachedRun(store, run({ case: 'nonfinite' }), compute);
    const reused = await cachedRun(store, run({ case: 'nonfinite' }), compute);
    assert.deepEqual([fresh.fromCache, reused.fromCache], [false, true]);
    check(fresh.result);
    check(reused.result);
    check(await cached(store, run({ case: 'nonfinite' }), () => { throw new Error('not recomputed'); }));
  });

  test('default backend comes from initBackend and backendInfo is stored in the metadata', async () => {
    const info = await initBackend();
    const store = openStore('backend', { root, log: () => undefined });
    const r = await cachedRun(store, run({ a: 1 }), () => 1);
    assert.equal(r.entry.backend, info.name);
    assert.equal(r.entry.backendVersion, keyedBackendVersion(info));
    if (info.name === 'wasm+openblas') assert.match(r.entry.backendVersion, new RegExp(`^${info.version.replace(/\./g, '\\.')}; OpenBLAS ${info.threads} threads?, ${info.blasCore} kernels$`));
    assert.equal((r.entry.meta.backendInfo as { name: string }).name, info.name);
  });

  test('on OpenBLAS the thread count is keyed (1 and 2 threads round large products differently)', async (t) => {
    const info = await initBackend();
    if (info.name !== 'wasm+openblas') return t.skip(`backend ${info.name}`);
    const keyIn = (threads: number) => new Promise<string>((resolve, reject) => {
      const src = `import { initBackend } from ${JSON.stringify(new URL('../lib/core/backend.js', import.meta.url).href)};
import { keyFor, openStore } from ${JSON.stringify(storeUrl)};
await initBackend();
process.stdout.write(await keyFor(openStore('threads', { root: ${JSON.stringify(root)}, log: () => undefined }), { config: { a: 1 }, code: ${JSON.stringify(code)} }));`;
      const p = spawn(process.execPath, ['--input-type=module', '-e', src], { env: { ...process.env, TANGENT_BLAS_THREADS: String(threads) }, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      p.on('close', (c) => (c === 0 ? resolve(out) : reject(new Error(`child exited ${c}`))));
    });
    const [one, two, oneAgain] = [await keyIn(1), await keyIn(2), await keyIn(1)];
    assert.match(one, /^[0-9a-f]{64}$/);
    assert.notEqual(one, two);
    assert.equal(one, oneAgain);
  });

  test('corrupt entries (truncated, altered payload, wrong key, old format) are reported, kept aside and recomputed', async () => {
    const { store, lines } = quietStore('corrupt');
    let calls = 0;
    const compute = () => ({ value: ++calls });
    const damage: [string, (text: string, key: string) => string | undefined][] = [
      ['truncated', (t) => t.slice(0, Math.floor(t.length / 2))],
      ['empty', () => ''],
      ['altered payload', (t) => t.replace('"value":', '"value":1')],
      ['old format', (t) => t.replace(RESULT_FORMAT, 'tangent-lab/result@0')],
      ['other key', (t, key) => t.replace(key, '0'.repeat(64))],
    ];
    for (const [i, [what, harm]] of damage.entries()) {
      const config = run({ case: what });
      const key = await keyFor(store, config);
      await cached(store, config, compute);
      const path = entryPath(store, key);
      writeFileSync(path, harm(readFileSync(path, 'utf8'), key)!);
      const before = calls;
      const r = await cachedRun(store, config, compute);
      assert.equal(r.fromCache, false, `${what}: must be recomputed`);
      assert.equal(calls, before + 1);
      assert.deepEqual(r.result, { value: calls });
      assert.equal(lines.filter((l) => l.includes('is corrupt')).length, i + 1, `${what}: reported`);
      assert.ok(readdirSync(store.dir).some((f) => f.startsWith(`${key}.json.corrupt-`)), `${what}: kept aside`);
      assert.deepEqual((await lookup(store, config))?.result, { value: calls }, `${what}: the recomputed entry is valid`);
    }
    assert.match(lines.find((l) => l.includes('is corrupt'))!, /not valid JSON/);
  });

  test('a failed write leaves neither a temporary file nor an entry', async () => {
    const { store } = quietStore('failwrite', {
      hooks: {
        midWrite: () => {
          throw new Error('disk full');
        },
      },
    });
    await assert.rejects(cached(store, run({ x: 1 }), () => 1), /disk full/);
    assert.deepEqual(readdirSync(store.dir), []);
  });

  test('bad configuration is named', async () => {
    assert.throws(() => openStore('../escape', { root }), /experiment = "..\/escape"; expected a name of letters/);
    assert.throws(() => openStore('ok', { root, backend: '' }), /backend = ""/);
    const { store } = quietStore('bad');
    await assert.rejects(cached(store, run({ f: Math.sin }), () => 1), /call\.config\.f is a function/);
    await assert.rejects(cached(store, run({ a: 1 }), () => ({ t: new Map() })), /result\.t is a Map/);
    await assert.rejects(cached(store, { config: { a: 1 } } as never, () => 1), /code = undefined; expected the module\(s\) a closure runs/);
    await assert.rejects(cached(store, { task: 'noSuchTask', args: [] }, () => 1), /task = 'noSuchTask'; expected a registered task/);
  });
});

describe('sweep and results table', () => {
  test('cartesian product, progress lines, resume without recomputation, table of scalars', async () => {
    assert.deepEqual(gridPoints({ a: [1, 2], b: ['x', 'y'] }), [{ a: 1, b: 'x' }, { a: 1, b: 'y' }, { a: 2, b: 'x' }, { a: 2, b: 'y' }]);
    assert.throws(() => gridPoints({ width: [] }), /grid\.width = \[\]; expected a non-empty array/);
    assert.throws(() => gridPoints({}), /no parameters/);
    const { store, lines } = quietStore('sweep');
    let calls = 0;
    const fn = async ({ width, seed }: { width: number; seed: number }) => {
      calls++;
      return { loss: 1 / width + seed, curve: [1, 2, 3], summary: { steps: width * 10 } };
    };
    const grid = { width: [8, 16, 32], seed: [0, 1] };
    const first = await sweep(grid, fn, { store, code });
    assert.equal(calls, 6);
    assert.equal(lines.length, 6);
    assert.match(lines[0], /^\[1\/6\] width=8 seed=0 · [0-9a-f]{8} · computed [\d.]+s · total [\d.]+s · eta ~[\d.]+s$/);
    const events: string[] = [];
    const second = await sweep(grid, fn, { store, code, onProgress: (p) => events.push(`${p.index}/${p.total} ${p.fromCache}`) });
    assert.equal(calls, 6);
    assert.deepEqual(events, ['1/6 true', '2/6 true', '3/6 true', '4/6 true', '5/6 true', '6/6 true']);
    assert.deepEqual(second.map((r) => r.result), first.map((r) => r.result));
    await assert.rejects(sweep({ w: [1] }, () => { throw new Error('boom'); }, { store, code }), /sweep point 1\/1 \{"w":1\} failed: boom/);
    await assert.rejects(sweep({ w: [1] }, () => 1, { store }), /sweep: options\.code = undefined; expected the module\(s\) the closure runs/);

    const table = resultsTable('sweep', { root, log: () => undefined });
    assert.equal(table.numRows(), 6);
    const cols = table.columnNames();
    for (const c of ['key', 'createdAt', 'task', 'fingerprint', 'backend', 'width', 'seed', 'loss', 'summary.steps']) assert.ok(cols.includes(c), `column ${c} in ${cols}`);
    assert.ok(!cols.includes('curve'));
    const rows = table.objects() as { width: number; seed: number; loss: number }[];
    for (const r of rows) assert.equal(r.loss, 1 / r.width + r.seed);
  });
});

const sweepUrl = new URL('../lib/run/sweep.js', import.meta.url).href;

/** A child process running a 6-point sweep whose points take 100 ms; in mode 'kill' it blocks half-way through writing point 3. */
const CHILD = `
import { appendFileSync } from 'node:fs';
const { openStore } = await import(${JSON.stringify(storeUrl)});
const { sweep } = await import(${JSON.stringify(sweepUrl)});
const counter = process.env.COUNTER;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let block = false;
const store = openStore('killtest', { root: process.env.ROOT, backend: 'test', log: () => {}, hooks: {
  midWrite: async () => {
    if (process.env.MODE === 'kill' && block) { appendFileSync(counter, 'midwrite\\n'); await sleep(1e9); }
  },
} });
await sweep({ i: [0, 1, 2, 3, 4, 5] }, async ({ i }) => {
  appendFileSync(counter, 'compute ' + i + '\\n');
  await sleep(100);
  if (i === 3) block = true;
  return { i, square: i * i, history: Array.from({ length: 5000 }, (_, k) => Math.sin(k + i)) };
}, { store, quiet: true, code: ${JSON.stringify(storeUrl)} });
appendFileSync(counter, 'done\\n');
`;

function runChild(env: Record<string, string>, killWhen?: (counter: string) => boolean): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const started = Date.now();
    const poll = setInterval(() => {
      const text = existsSync(env.COUNTER) ? readFileSync(env.COUNTER, 'utf8') : '';
      if (killWhen?.(text)) child.kill('SIGKILL');
      else if (Date.now() - started > 60_000) child.kill('SIGKILL');
    }, 20);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, stderr });
    });
  });
}

describe('the store survives a run killed mid-write', () => {
  test('SIGKILL during a write: finished runs are kept, nothing partial is read, the rerun computes only the rest', async () => {
    const dir = join(root, 'killtest');
    const counter = join(root, 'counter.txt');
    const env = { ROOT: root, COUNTER: counter };
    const killed = await runChild({ ...env, MODE: 'kill' }, (text) => text.includes('midwrite'));
    assert.equal(killed.signal, 'SIGKILL', `child exited with ${killed.code}: ${killed.stderr}`);
    assert.deepEqual(readFileSync(counter, 'utf8').trim().split('\n'), ['compute 0', 'compute 1', 'compute 2', 'compute 3', 'midwrite']);
    const files = readdirSync(dir);
    const temps = files.filter((f) => f.includes('.tmp-'));
    assert.equal(temps.length, 1, `a partial temporary file is left: ${files}`);
    assert.throws(() => JSON.parse(readFileSync(join(dir, temps[0]), 'utf8')), 'the temporary file is half-written');
    assert.equal(files.filter((f) => /^[0-9a-f]{64}\.json$/.test(f)).length, 3);
    const store = openStore('killtest', { root, backend: 'test', log: () => undefined });
    const { entries, corrupt } = readEntries(store);
    assert.deepEqual(entries.map((e) => (e.result as { i: number }).i).sort(), [0, 1, 2]);
    assert.deepEqual(corrupt, []);
    assert.equal(resultsTable(store).numRows(), 3);

    writeFileSync(counter, '');
    const resumed = await runChild({ ...env, MODE: 'resume' });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(readFileSync(counter, 'utf8').trim().split('\n'), ['compute 3', 'compute 4', 'compute 5', 'done']);
    assert.equal(readdirSync(dir).filter((f) => f.includes('.tmp-')).length, 0, 'the dead writer’s temporary file was removed');
    const after = readEntries(store).entries;
    assert.equal(after.length, 6);
    for (const e of after) {
      const r = e.result as { i: number; square: number; history: number[] };
      assert.equal(r.square, r.i * r.i);
      assert.equal(r.history.length, 5000);
    }
  });
  test('SIGKILL at an arbitrary moment mid-sweep: the rerun computes exactly the points without a valid entry', async () => {
    const sub = join(root, 'kill2');
    const counter = join(root, 'counter2.txt');
    const env = { ROOT: sub, COUNTER: counter, MODE: 'plain' };
    const killed = await runChild(env, (text) => text.includes('compute 2'));
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    const store = openStore('killtest', { root: sub, backend: 'test', log: () => undefined });
    const done = readEntries(store).entries.map((e) => (e.result as { i: number }).i).sort();
    assert.ok(done.length >= 2 && done.length < 6, `finished before the kill: ${done}`);
    writeFileSync(counter, '');
    assert.equal((await runChild(env)).code, 0);
    const recomputed = readFileSync(counter, 'utf8').trim().split('\n').filter((l) => l.startsWith('compute')).map((l) => Number(l.split(' ')[1]));
    assert.deepEqual(recomputed, [0, 1, 2, 3, 4, 5].filter((i) => !done.includes(i)));
    assert.equal(readEntries(store).entries.length, 6);
  });
});
