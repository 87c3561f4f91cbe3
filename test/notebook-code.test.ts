// The reference scan that keys a notebook closure (lib/run/notebook-code.ts), on registries built here the
// way the kernel patch records cells; test/notebook-code-kernel.test.ts drives the real kernel.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { type NotebookRegistry, cellStatements, freeNames, identifierWords, notebookCode } from '../lib/run/notebook-code.js';

const tmp = mkdtempSync(join(tmpdir(), 'tangent-notebook-code-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A registry of cells whose sources are plain JavaScript (so compiled = source), with their variables. */
function registry(sources: string[], locals: Record<string, unknown> = {}): NotebookRegistry {
  return { version: 1, cells: sources.map((source) => ({ source, compiled: source })), loaded: new Map(), locals, ts };
}

/** A function whose source text is `text` (as a cell's function is a piece of its compiled text). */
function fnOf(text: string): (...args: never[]) => unknown {
  return (0, eval)(`(${text})`) as (...args: never[]) => unknown;
}

const F = '(p) => helper(p.x) * scale';

describe('the reference scan', () => {
  test('identifierWords: every identifier-like word, property names and words in strings included', () => {
    assert.deepEqual([...identifierWords("const y = exports.helper(p.lr) + 'tanh' // note\n$a_1")].sort(), ['$a_1', 'const', 'exports', 'helper', 'lr', 'note', 'p', 'tanh', 'y']);
    assert.throws(() => identifierWords(3 as unknown as string), /identifierWords: text = 3; expected a string/);
  });

  test('cellStatements: declarations (destructuring, imports, classes) and assignments or mutations', () => {
    const got = cellStatements(
      ts,
      [
        "import def, { a as b, c } from './m.js';",
        'import * as ns from "tangent-lab";',
        'const { x, y: [z, ...rest] } = o, w = 1;',
        'function f() { return g(); }',
        'class K {}',
        'lr = lr * 2;',
        'cfg.act = "relu";',
        '({ p, q: [r] } = s);',
        'log.push(1); counter++; Object.assign(opts, {});',
        'interface I { a: number }',
        'for (const v of list) total += v;',
      ].join('\n'),
    );
    assert.deepEqual(
      got.map((s) => [s.declares, s.assigns]),
      [
        [['b', 'c', 'def'], []],
        [['ns'], []],
        [['rest', 'w', 'x', 'z'], []],
        [['f'], []],
        [['K'], []],
        [[], ['lr']],
        [[], ['cfg']],
        [[], ['p', 'r']],
        [[], ['log']],
        [[], ['counter']],
        [[], ['opts']],
        [['I'], []],
        [[], ['total']],
      ],
    );
    assert.equal(got[5].text, 'lr = lr * 2;');
    assert.deepEqual(
      cellStatements(ts, 'function h() { return lr; }\nconst f = (p) => p * lr, g = function () {};\nconst v = make(lr);\nconst w = [1].map((x) => x * lr);').map((s) => s.deferred),
      [true, true, false, false],
      'only statements that define functions read later',
    );
  });

  test('freeNames: what a function reads without binding it', () => {
    assert.deepEqual([...freeNames(ts, '(p, { q = d }) => { const t = p.x + q; function h() { return t + u; } return h() + exports.helper(o[k], { z }); }')!].sort(), ['d', 'exports', 'k', 'o', 'u', 'z']);
    assert.equal(freeNames(ts, 'm() { return 1; }'), undefined, 'a method shorthand does not parse as an expression');
  });
});

describe('notebookCode: what a notebook closure is keyed by', () => {
  const base = ['const scale = 2;', 'function helper(x) { return x + 1; }', 'const plot = () => 0;', `const f = ${F};`];
  const key = (sources: string[], locals: Record<string, unknown> = { scale: 2 }, text = F) => notebookCode(fnOf(text), registry(sources, locals), tmp);

  test('the function, the helper it calls and the constant it reads are covered, not unrelated cells', () => {
    const got = key(base);
    assert.deepEqual(got.declarations, ['helper', 'scale']);
    assert.deepEqual(got.values, ['scale']);
    assert.equal(got.statements, 2);
    assert.equal(got.definedInNotebook, true);
    assert.equal(got.callingCell, false);
    assert.deepEqual(got.unresolved, []);
  });

  test('edits of the function, of a helper it calls, of a constant recompute', () => {
    const fp = key(base).fingerprint;
    assert.notEqual(key(base.map((s) => s.replace('* scale', '* scale * 1')), { scale: 2 }, '(p) => helper(p.x) * scale * 1').fingerprint, fp, 'function edited');
    assert.notEqual(key(base.map((s) => s.replace('x + 1', 'x + 2'))).fingerprint, fp, 'helper edited');
    assert.notEqual(key(base.map((s) => s.replace('scale = 2', 'scale = 3')), { scale: 3 }).fingerprint, fp, 'constant edited');
    assert.notEqual(key(base, { scale: 5 }).fingerprint, fp, 'value changed by a setter called elsewhere');
  });

  test('a helper of a helper is covered (transitively), and so is the constant it reads', () => {
    const cells = ['const k = 3;', 'function inner(x) { return x * k; }', 'function helper(x) { return inner(x) + 1; }', 'const scale = 2;', `const f = ${F};`];
    const got = key(cells);
    assert.deepEqual(got.declarations, ['helper', 'inner', 'k', 'scale']);
    assert.notEqual(key(cells.map((s) => s.replace('k = 3', 'k = 4'))).fingerprint, got.fingerprint);
  });

  test('re-executing a cell with the same text, a plot cell, a new unrelated cell or markdown reuse', () => {
    const fp = key(base).fingerprint;
    assert.equal(key([...base, base[1], base[2], 'const plot = () => 1;', 'console.log(plot());']).fingerprint, fp);
    assert.equal(key([base[2], base[0], base[1], base[3]]).fingerprint, fp, 'execution order of unrelated cells');
    // An edit that was undone (the kernel ran both versions): only what is live now counts.
    assert.equal(key(['function helper(x) { return x + 7; }', ...base]).fingerprint, fp);
  });

  test('a function defined before its helper was edited reads the helper of now: the key of a fresh session', () => {
    const fn = fnOf(F);
    const session = ['const scale = 2;', 'function helper(x) { return x + 1; }', `const f = ${F};`, 'function helper(x) { return x + 2; }'];
    const fresh = ['const scale = 2;', 'function helper(x) { return x + 2; }', `const f = ${F};`];
    assert.equal(notebookCode(fn, registry(session, { scale: 2, f: fn }), tmp).fingerprint, notebookCode(fn, registry(fresh, { scale: 2, f: fn }), tmp).fingerprint);
  });

  test('a statement that read a name when it ran covers the declaration it read then (make(lr))', () => {
    const make = 'function make(s) { return (p) => p.x * s; }';
    const inner = '(p) => p.x * s';
    const cells = ['let lr = 0.1;', make, 'const g = make(lr);', 'lr = 0.2;'];
    const g = fnOf(inner);
    const got = notebookCode(g, { ...registry(cells, { lr: 0.2, g }), cells: cells.map((source) => ({ source, compiled: source })) }, tmp);
    assert.deepEqual(got.declarations, ['g', 'lr', 'make']);
    const without = notebookCode(g, registry(['let lr = 0.2;', make, 'const g = make(lr);'], { lr: 0.2, g }), tmp);
    assert.notEqual(got.fingerprint, without.fingerprint, 'g captured lr = 0.1: not the key of a session where it captured 0.2');
  });

  test('a variable captured from an enclosing function that no notebook variable holds: the calling cell is covered', () => {
    const cells = ['function make(act) { return (p) => p.x + act; }', "const runs = sweepLike(make('relu'));"];
    const got = notebookCode(fnOf('(p) => p.x + act'), registry(cells, {}), tmp);
    assert.equal(got.callingCell, true);
    assert.deepEqual(got.unresolved, ['act']);
    const other = notebookCode(fnOf('(p) => p.x + act'), registry([cells[0], "const runs = sweepLike(make('tanh'));"], {}), tmp);
    assert.notEqual(got.fingerprint, other.fingerprint);
  });

  test('a module a covered statement imports is keyed by its code fingerprint', () => {
    const mod = join(tmp, 'mymod.cjs');
    writeFileSync(mod, 'exports.run = (p) => p.x * 2;\n');
    const run = fnOf('(p) => p.x * 2');
    const cells = ["const { run } = require('./mymod.cjs');"];
    const got = notebookCode(run, registry(cells, { run }), tmp);
    assert.deepEqual(got.modules, ['mymod.cjs']);
    assert.deepEqual(got.declarations, ['run']);
    assert.deepEqual(got.files, [mod]);
    writeFileSync(mod, 'exports.run = (p) => p.x * 3;\n');
    assert.notEqual(notebookCode(run, registry(cells, { run }), tmp).fingerprint, got.fingerprint);
  });

  test('bad arguments are refused with what was expected', () => {
    assert.throws(() => notebookCode(3 as unknown as () => unknown, registry([])), /notebookCode: fn = 3; expected the function/);
    assert.throws(() => notebookCode(() => 1, undefined), /notebookCode: registry = undefined; expected to run in a notebook/);
  });
});

describe('outside a notebook', () => {
  test("a plain script: code stays required (the error says so); its own module, or a task module run in-process, edited on disk after it loaded is refused", { timeout: 60_000 }, () => {
    const dir = join(tmp, 'script');
    mkdirSync(dir, { recursive: true });
    const lib = (f: string) => pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', 'lib', 'run', f)).href;
    const store = lib('store.js');
    writeFileSync(join(dir, 'work.mjs'), 'export const work = (n) => n * 2;\n');
    // A task module of the user's, imported by remote's runTask in this process (not by the script itself).
    writeFileSync(join(dir, 'task.mjs'), 'export function twice(n) { return n * 2; }\n');
    writeFileSync(
      join(dir, 'main.mjs'),
      [
        `import { cachedRun, openStore } from '${store}';`,
        "import { work } from './work.mjs';",
        "import { writeFileSync } from 'node:fs';",
        `const store = openStore('script', { root: ${JSON.stringify(join(dir, 'store'))}, backend: 'test', backendVersion: '1', log: () => {} });`,
        "const code = new URL('./work.mjs', import.meta.url).href;",
        "const said = async (f) => { try { return JSON.stringify(await f()); } catch (e) { return e.message; } };",
        "console.log('no code:', await said(() => cachedRun(store, { config: { n: 1 } }, () => work(1))));",
        "console.log('first:', await said(async () => (await cachedRun(store, { config: { n: 1 }, code }, () => work(1))).result));",
        "writeFileSync(new URL('./work.mjs', import.meta.url), 'export const work = (n) => n * 3;\\n');",
        "console.log('edited:', await said(async () => (await cachedRun(store, { config: { n: 2 }, code }, () => work(2))).result));",
        `const { sweep } = await import('${lib('sweep.js')}');`,
        `const { remote } = await import('${lib('parallel.js')}');`,
        "const twice = remote('twice', (p) => [p.n], new URL('./task.mjs', import.meta.url).href);",
        "console.log('task:', await said(async () => (await sweep({ n: [1] }, twice, { store, quiet: true, workers: 1 }))[0].result));",
        "writeFileSync(new URL('./task.mjs', import.meta.url), 'export function twice(n) { return n * 3; }\\n');",
        "console.log('task edited:', await said(async () => (await sweep({ n: [2] }, twice, { store, quiet: true, workers: 1 }))[0].result));",
      ].join('\n'),
    );
    const env = { ...process.env };
    delete env.TANGENT_WORKERS;
    delete env.TANGENT_ENGINE;
    const r = spawnSync(process.execPath, [join(dir, 'main.mjs')], { encoding: 'utf8', timeout: 50_000, env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^no code: runId: code = undefined; expected the module\(s\) a closure runs .*\(code may be omitted only in a notebook of the tangent-lab kernel/m);
    assert.match(r.stdout, /^first: 2$/m);
    assert.match(r.stdout, /^edited: cachedRun: work\.mjs changed on disk since this process loaded them; .*restart the kernel \(or process\)/m);
    assert.match(r.stdout, /^task: 2$/m);
    assert.match(r.stdout, /^task edited: sweep point 1\/1 \{"n":2\} failed: cachedRun: task\.mjs changed on disk since this process loaded them; /m);
  });
});
