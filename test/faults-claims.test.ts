// Issue 11 (3): concurrent runs on one store compute each point once (per-key claims, lib/claim.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { claimOrAwait, claimPath } from '../lib/run/claim.js';
import { cachedRun, keyFor, openStore, storeResult } from '../lib/run/store.js';
import { root as projectRoot, run } from './kernel-support.js';

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'claims-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const libIndex = pathToFileURL(join(projectRoot, 'dist', 'lib', 'index.js')).href;

/** A process that sweeps 6 points (500 ms each, in-process) into `results`, logging "<pid> <i>" per computed point. */
function sweeper(results: string, computedLog: string, ready: string, peer: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `
    import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
    const lib = await import(${JSON.stringify(libIndex)});
    const store = lib.openStore('claims', { root: ${JSON.stringify(results)}, backend: 'cpu', hooks: { claim: { pollMs: 50 } } });
    writeFileSync(${JSON.stringify(ready)}, '');
    while (!existsSync(${JSON.stringify(peer)})) await new Promise((r) => setTimeout(r, 20));
    const runs = await lib.sweep({ i: [0, 1, 2, 3, 4, 5] }, async ({ i }) => {
      appendFileSync(${JSON.stringify(computedLog)}, process.pid + ' ' + i + '\\n');
      await new Promise((r) => setTimeout(r, 500));
      return { square: i * i, by: process.pid };
    }, { store, quiet: true, code: ${JSON.stringify(libIndex)} });
    console.log(JSON.stringify(runs.map((r) => r.result)));`;
  return run(process.execPath, ['--input-type=module', '-e', script]);
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const r = await run(process.execPath, ['-e', 'console.log(process.pid)']);
  return Number(r.stdout.trim());
}

describe('per-key claims on a shared store', () => {
  test('two concurrent sweeps compute each point once and return the same results', async () => {
    const dir = join(root, 'concurrent');
    mkdirSync(dir);
    const log = join(dir, 'computed.log');
    writeFileSync(log, '');
    const [a, b] = await Promise.all([
      sweeper(join(dir, 'results'), log, join(dir, 'a.ready'), join(dir, 'b.ready')),
      sweeper(join(dir, 'results'), log, join(dir, 'b.ready'), join(dir, 'a.ready')),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const computed = readFileSync(log, 'utf8').trim().split('\n');
    assert.deepEqual(computed.map((l) => Number(l.split(' ')[1])).sort(), [0, 1, 2, 3, 4, 5], `computed: ${computed.join(', ')}`);
    const last = (out: string) => JSON.parse(out.trim().split('\n').pop()!) as unknown;
    assert.deepEqual(last(a.stdout), last(b.stdout));
    assert.match(a.stdout + b.stdout, /is computing it; waiting for its result/);
  });

  test('a run waits for a live claim, then reuses the stored result', async () => {
    const lines: string[] = [];
    const store = openStore('wait', { root, backend: 'cpu', log: (l) => lines.push(l), hooks: { claim: { pollMs: 20 } } });
    const key = await keyFor(store, { config: { p: 1 }, code: import.meta.url });
    const held = await claimOrAwait(store.dir, key, () => undefined);
    assert.ok('claim' in held);
    let computes = 0;
    const waiting = cachedRun(store, { config: { p: 1 }, code: import.meta.url }, () => ++computes);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(computes, 0, 'the waiting run did not compute');
    await storeResult(store, { config: { p: 1 }, code: import.meta.url }, 42);
    held.claim.release();
    const got = await waiting;
    assert.equal(got.result, 42);
    assert.equal(got.fromCache, true);
    assert.equal(computes, 0);
    assert.ok(!existsSync(claimPath(store.dir, key)), 'no claim file is left');
  });

  test('when the owner gives up without a result, the waiting run computes it', async () => {
    const store = openStore('giveup', { root, backend: 'cpu', log: () => undefined, hooks: { claim: { pollMs: 20 } } });
    const key = await keyFor(store, { config: { p: 2 }, code: import.meta.url });
    const held = await claimOrAwait(store.dir, key, () => undefined);
    assert.ok('claim' in held);
    const waiting = cachedRun(store, { config: { p: 2 }, code: import.meta.url }, () => 7);
    await new Promise((r) => setTimeout(r, 100));
    held.claim.release();
    const got = await waiting;
    assert.deepEqual([got.result, got.fromCache], [7, false]);
  });

  test('a failing computation releases its claim', async () => {
    const store = openStore('fails', { root, backend: 'cpu', log: () => undefined });
    await assert.rejects(cachedRun(store, { config: { p: 3 }, code: import.meta.url }, () => { throw new Error('boom'); }), /boom/);
    assert.ok(!existsSync(claimPath(store.dir, await keyFor(store, { config: { p: 3 }, code: import.meta.url }))));
  });

  test('a claim of a dead process on this host is broken at once', async () => {
    const lines: string[] = [];
    const store = openStore('stale', { root, backend: 'cpu', log: (l) => lines.push(l) });
    const key = await keyFor(store, { config: { p: 4 }, code: import.meta.url });
    mkdirSync(store.dir, { recursive: true });
    writeFileSync(claimPath(store.dir, key), JSON.stringify({ pid: await deadPid(), host: hostname(), token: 'x', since: new Date().toISOString() }));
    const t0 = Date.now();
    const got = await cachedRun(store, { config: { p: 4 }, code: import.meta.url }, () => 9);
    assert.deepEqual([got.result, got.fromCache], [9, false]);
    assert.ok(Date.now() - t0 < 2000);
    assert.ok(lines.some((l) => /breaking a stale claim \(owner pid \d+ is dead\)/.test(l)), lines.join('\n'));
  });

  test('a claim of another host is broken once it has not been refreshed for staleMs', async () => {
    const lines: string[] = [];
    const store = openStore('remote-host', { root, backend: 'cpu', log: (l) => lines.push(l), hooks: { claim: { pollMs: 20, staleMs: 60_000 } } });
    const key = await keyFor(store, { config: { p: 5 }, code: import.meta.url });
    mkdirSync(store.dir, { recursive: true });
    const path = claimPath(store.dir, key);
    writeFileSync(path, JSON.stringify({ pid: 1, host: 'elsewhere.example', token: 'x', since: new Date().toISOString() }));
    const old = new Date(Date.now() - 120_000);
    utimesSync(path, old, old);
    const got = await cachedRun(store, { config: { p: 5 }, code: import.meta.url }, () => 11);
    assert.equal(got.result, 11);
    assert.ok(lines.some((l) => /has not refreshed it for 1\d\d s/.test(l)), lines.join('\n'));
  });
});
