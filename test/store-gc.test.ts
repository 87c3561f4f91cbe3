// The store's gc judges current-ness on the real backends (the default one and plain wasm, never only a
// fake one), deletes nothing unless asked, never follows a symbolic link, and the whole entry (meta
// included) is covered by a checksum.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendInfo, initBackend } from '../lib/core/backend.js';
import { projectRoot } from '../lib/core/env.js';
import { importResults } from '../lib/run/import-results.js';
import { cachedRun, entryPath, openStore, readEntryFile, runId, storeResult } from '../lib/run/store.js';
import { backendVersionCurrent, currency, gc, ls, verify } from '../scripts/store.js';
import '../lib/experiments/index.js';

let root: string;
const quiet = () => undefined;
before(async () => {
  root = mkdtempSync(join(tmpdir(), 'store-gc-'));
  await initBackend();
});
after(() => rmSync(root, { recursive: true, force: true }));

/** A registered library task's key on this store's backend: the compute stands in for the task (only the key matters here). */
const taskCall = (n: number) => ({ task: 'fig1Run', args: [{ m: 8 + n, seed: 0, objective: 'mse', steps: 1, kernelEvery: 1 }] });

/** Writes a closure entry from a separate process on plain wasm (TANGENT_BACKEND=wasm): what a user's run there stores. */
function storeOnPlainWasm(storeRoot: string, experiment: string): { key: string; backend: string; backendVersion: string } {
  const lib = join(projectRoot(), 'dist', 'lib', 'index.js');
  const script = `
    const { openStore, initBackend } = await import(${JSON.stringify(lib)});
    await initBackend();
    const r = await (await import(${JSON.stringify(join(projectRoot(), 'dist', 'lib', 'run', 'store.js'))})).cachedRun(
      openStore(${JSON.stringify(experiment)}, { root: ${JSON.stringify(storeRoot)}, log: () => undefined }),
      { config: { wasm: 1 }, code: 'tangent-lab' }, () => ({ y: 1 }));
    process.stdout.write(JSON.stringify({ key: r.key, backend: r.entry.backend, backendVersion: r.entry.backendVersion }));`;
  const p = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, TANGENT_BACKEND: 'wasm' }, timeout: 120_000 });
  assert.equal(p.status, 0, p.stderr);
  return JSON.parse(p.stdout) as { key: string; backend: string; backendVersion: string };
}

describe('store gc', () => {
  test('backend versions: the package version before the first ";" is what is compared', () => {
    assert.ok(backendVersionCurrent('4.22.0', '4.22.0'));
    assert.ok(backendVersionCurrent('4.22.0; OpenBLAS 2 threads, Haswell kernels', '4.22.0'));
    assert.ok(backendVersionCurrent('4.22.0; OpenBLAS 1 thread, SkylakeX kernels', '4.22.0'));
    assert.ok(!backendVersionCurrent('4.21.0; OpenBLAS 2 threads, Haswell kernels', '4.22.0'));
    assert.ok(!backendVersionCurrent('4.22.01', '4.22.0'));
  });

  test('entries just written on the default backend and on plain wasm are current; gc deletes nothing of them', { timeout: 180_000 }, async () => {
    const store = openStore('fresh', { root, log: quiet });
    const t = await cachedRun(store, taskCall(0), () => ({ loss: [1, 0.5] }));
    const c = await cachedRun(store, { config: { a: 1 }, code: 'tangent-lab' }, () => ({ y: 2 }));
    assert.equal(t.entry.backend, backendInfo().name);
    if (backendInfo().name === 'wasm+openblas') assert.match(t.entry.backendVersion, /; OpenBLAS \d+ threads?, /);
    const wasm = storeOnPlainWasm(root, 'fresh');
    assert.equal(wasm.backend, 'wasm');
    for (const key of [t.key, c.key, wasm.key]) {
      const got = readEntryFile(entryPath(store, key), key);
      assert.equal(got.status, 'ok');
      if (got.status === 'ok') assert.deepEqual(currency(got.entry), { state: 'current' }, `${got.entry.backend} ${got.entry.backendVersion}`);
    }
    assert.match(await ls(root, ['fresh']), /3 entries \(3 current, 0 stale, 0 not judged\)/);
    const r = await gc(root, { delete: true, experiments: ['fresh'] });
    assert.equal(r.removed.length, 0, r.report);
    assert.equal(r.kept, 3);
    assert.equal(readdirSync(store.dir).filter((f) => f.endsWith('.json')).length, 3);
  });

  test('gc lists by default and deletes only with delete: stale library tasks, old backend versions, corrupt and aside files; keeps what it cannot judge', { timeout: 120_000 }, async () => {
    const store = openStore('mixed', { root, log: quiet });
    const current = await cachedRun(store, taskCall(1), () => ({ v: 1 }));
    // The same task under an older fingerprint of its module: no current code computes that key.
    const old = await storeResult(store, { ...runId(taskCall(2)), fingerprint: `sha256:${'0'.repeat(64)}` }, { v: 2 });
    // An older backend package: its keys carry another version.
    const info = backendInfo();
    const oldBackend = openStore('mixed', { root, log: quiet, backend: info.name, backendVersion: '4.0.0; OpenBLAS 2 threads, Haswell kernels' });
    const oldB = await cachedRun(oldBackend, taskCall(3), () => ({ v: 3 }));
    // A task this checkout does not register (a user's module), a backend not installed here, and notebook code: kept.
    const userTask = await storeResult(store, { task: 'myOwnTask', call: { task: 'myOwnTask', args: [1] }, fingerprint: `sha256:${'1'.repeat(64)}`, modules: ['my-module.js'] }, { v: 4 });
    const otherBackend = await cachedRun(openStore('mixed', { root, log: quiet, backend: 'node-gpu', backendVersion: '9.9.9' }), taskCall(4), () => ({ v: 5 }));
    const notebook = await storeResult(store, { ...runId({ config: { nb: 1 }, code: 'tangent-lab' }), fingerprint: `sha256:${'2'.repeat(64)}` }, { v: 6 }, { notebook: { cells: 2 } });
    const corrupt = await cachedRun(store, { config: { bad: 1 }, code: 'tangent-lab' }, () => ({ v: 7 }));
    writeFileSync(entryPath(store, corrupt.key), readFileSync(entryPath(store, corrupt.key), 'utf8').replace('"v":7', '"v":70'));
    writeFileSync(join(store.dir, `${'a'.repeat(64)}.json.corrupt-2026-01-01T00-00-00-000Z`), '{}');

    const before = readdirSync(store.dir).sort();
    const dry = await gc(root, { experiments: ['mixed'] });
    assert.deepEqual(readdirSync(store.dir).sort(), before, 'gc without delete deletes nothing');
    assert.deepEqual(dry.removed.map((f) => f.file.slice(0, 64)).sort(), [old.key, oldB.key, corrupt.key, 'a'.repeat(64)].sort(), dry.report);
    assert.match(dry.report, /would delete 4 file\(s\)/);
    assert.match(dry.report, /nothing was deleted: run `npm run store -- gc --delete`/);
    assert.deepEqual(dry.unjudged.map((f) => f.file.slice(0, 64)).sort(), [userTask.key, otherBackend.key, notebook.key].sort());
    assert.equal(dry.kept, 1);

    const done = await gc(root, { delete: true, experiments: ['mixed'] });
    assert.equal(done.removed.length, 4);
    const left = readdirSync(store.dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, 64)).sort();
    assert.deepEqual(left, [current.key, userTask.key, otherBackend.key, notebook.key].sort());
    await assert.rejects(gc(root, { delete: true, dryRun: true }), /delete and dryRun are both set/);
  });

  test('gc never follows a symbolic link nor touches a file outside the store root', { timeout: 60_000 }, async () => {
    const outside = mkdtempSync(join(tmpdir(), 'store-gc-outside-'));
    try {
      const linkedRoot = join(root, 'linked-root');
      // A stale entry in a folder outside the store, linked in as an experiment and as a single file.
      const elsewhere = openStore('elsewhere', { root: outside, log: quiet });
      const stale = await storeResult(elsewhere, { ...runId(taskCall(5)), fingerprint: `sha256:${'3'.repeat(64)}` }, { v: 1 });
      mkdirSync(join(linkedRoot, 'real'), { recursive: true });
      symlinkSync(elsewhere.dir, join(linkedRoot, 'elsewhere'), 'dir');
      symlinkSync(entryPath(elsewhere, stale.key), join(linkedRoot, 'real', `${stale.key}.json`));
      const r = await gc(linkedRoot, { delete: true });
      assert.equal(r.removed.length, 0, r.report);
      assert.deepEqual(r.unjudged.map((f) => f.kind).sort(), ['link', 'link']);
      assert.ok(existsSync(entryPath(elsewhere, stale.key)), 'the file outside the root is still there');
      assert.match(await ls(linkedRoot), /LINK/);
      await assert.rejects(gc(linkedRoot, { experiments: ['../x'] }), /experiment = "\.\.\/x"; expected an experiment folder name/);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  test('the entry checksum covers meta; an entry in another experiment\'s folder is misplaced (kept) and not imported', { timeout: 60_000 }, async () => {
    const store = openStore('meta', { root, log: quiet });
    const e = await cachedRun(store, { config: { m: 1 }, code: 'tangent-lab' }, () => ({ v: 1 }));
    assert.match(e.entry.entryChecksum ?? '', /^sha256:[0-9a-f]{64}$/);
    const path = entryPath(store, e.key);
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.replace(/"host":"[^"]*"/, '"host":"elsewhere"'));
    const got = readEntryFile(path, e.key);
    assert.equal(got.status, 'corrupt');
    if (got.status === 'corrupt') assert.match(got.reason, /entry checksum .* \(meta included\) does not match/);
    assert.equal(verify(root, ['meta']).corrupt.length, 1);
    writeFileSync(path, text);
    assert.equal(readEntryFile(path, e.key).status, 'ok');
    // Entries written before the entry checksum existed (no field) stay valid.
    const legacy = JSON.parse(text) as Record<string, unknown>;
    delete legacy.entryChecksum;
    writeFileSync(path, JSON.stringify(legacy));
    assert.equal(readEntryFile(path, e.key).status, 'ok');

    // A valid entry of 'meta' copied into the folder of 'other': runs of 'other' never read it.
    const src = mkdtempSync(join(tmpdir(), 'store-gc-import-'));
    try {
      mkdirSync(join(src, 'other'), { recursive: true });
      writeFileSync(join(src, 'other', `${e.key}.json`), text);
      const dest = join(root, 'import-dest');
      const rep = importResults(src, { to: dest, log: quiet });
      assert.equal(rep.copied, 0);
      assert.match(rep.corrupt[0]?.reason ?? '', /an entry of experiment 'meta' in folder 'other'/);
      mkdirSync(join(root, 'other'), { recursive: true });
      writeFileSync(join(root, 'other', `${e.key}.json`), text);
      const r = await gc(root, { delete: true, experiments: ['other'] });
      assert.equal(r.removed.length, 0);
      assert.equal(r.unjudged[0]?.kind, 'misplaced');
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });

  test('the CLI: gc lists only, gc --delete deletes', { timeout: 120_000 }, async () => {
    const cliRoot = join(root, 'cli-root');
    const store = openStore('cli', { root: cliRoot, log: quiet });
    const old = await storeResult(store, { ...runId(taskCall(6)), fingerprint: `sha256:${'4'.repeat(64)}` }, { v: 1 });
    const cli = (...args: string[]) => spawnSync(process.execPath, [join(projectRoot(), 'dist', 'scripts', 'store.js'), ...args, '--root', cliRoot], { encoding: 'utf8', timeout: 120_000 });
    const dry = cli('gc');
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /would delete 1 file\(s\)/);
    assert.ok(existsSync(entryPath(store, old.key)));
    const del = cli('gc', '--delete');
    assert.equal(del.status, 0, del.stderr);
    assert.match(del.stdout, /deleted 1 file\(s\)/);
    assert.ok(!existsSync(entryPath(store, old.key)));
  });
});
