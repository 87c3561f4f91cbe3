// Issue 30 §5: sweep grids that used to kill the kernel or give two points one key are refused before any point runs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { GRID_POINT_LIMIT, gridPoints, gridSize } from '../lib/run/grid.js';
import { openStore } from '../lib/run/store.js';
import { gridPoints as fromSweep, sweep } from '../lib/run/sweep.js';

const root = mkdtempSync(join(tmpdir(), 'tangent-bad-input-sweep-'));
after(() => rmSync(root, { recursive: true, force: true }));
const store = () => openStore('grid', { root, backend: 'cpu', log: () => undefined });

describe('sweep grids', () => {
  test('a grid of 10⁸ points is refused before it is listed (it filled the V8 heap), naming its size and the limit', async () => {
    const big = { a: Array.from({ length: 10_000 }, (_, i) => i), b: Array.from({ length: 10_000 }, (_, i) => i) };
    assert.equal(gridSize(big), 1e8);
    const message = /^Error: sweep grid has 1\.00e\+8 points \(a: 10000 × b: 10000\); expected at most 1000000 \(GRID_POINT_LIMIT\): sweep slices of the grid one after another/;
    assert.throws(() => gridPoints(big), message);
    let calls = 0;
    await assert.rejects(sweep(big, () => ++calls, { store: store(), quiet: true, code: import.meta.url }), message);
    assert.equal(calls, 0);
    assert.equal(gridPoints({ a: Array.from({ length: 1000 }, (_, i) => i), b: Array.from({ length: GRID_POINT_LIMIT / 1000 }, (_, i) => i) }).length, GRID_POINT_LIMIT);
  });

  test('undefined values are refused (the key dropped them: { a: [undefined] } got the key of a grid without a)', async () => {
    assert.throws(() => gridPoints({ a: [undefined] }), /^Error: sweep grid\.a\[0\] = undefined; expected plain data that keys the point \(numbers, strings, booleans, null, arrays, plain objects; null instead of undefined, no '__proto__' keys: the store's key drops those/);
    assert.throws(() => gridPoints({ a: [1, 2], b: [{ lr: 0.1 }, { lr: undefined }] }), /sweep grid\.b\[1\]\.lr = undefined; expected plain data/);
    assert.throws(() => gridPoints({ a: [[1, undefined]] }), /sweep grid\.a\[0\]\[1\] = undefined/);
    let calls = 0;
    await assert.rejects(sweep({ a: [undefined] }, () => ++calls, { store: store(), quiet: true, code: import.meta.url }), /grid\.a\[0\] = undefined/);
    assert.equal(calls, 0);
    // null is a value of its own: another key than a grid without a.
    const s = store();
    const withNull = await sweep({ a: [null], b: [1] }, () => 1, { store: s, quiet: true, code: import.meta.url });
    const without = await sweep({ b: [1] }, () => 2, { store: s, quiet: true, code: import.meta.url });
    assert.notEqual(withNull[0].key, without[0].key);
    assert.equal(without[0].result, 2);
  });

  test("'__proto__' keys are refused (two points got one key)", () => {
    assert.throws(() => gridPoints({ ['__proto__']: [1, 2] } as never), /^Error: sweep grid has the key '__proto__'; expected parameter names that key their points/);
    assert.throws(() => gridPoints({ a: [JSON.parse('{ "__proto__": 1 }'), {}] }), /sweep grid\.a\[0\] has the key '__proto__'; expected plain data/);
    assert.deepEqual(gridPoints({ constructor: [1], prototype: [2] }), [{ constructor: 1, prototype: 2 }]);
  });

  test('values that are not plain data, and the other arguments of sweep, are refused before any point runs', async () => {
    assert.throws(() => gridPoints({ a: [() => 1] }), /^Error: sweep grid\.a\[0\] is a function; expected plain data/);
    assert.throws(() => gridPoints({ a: [1n] }), /^Error: sweep grid\.a\[0\] is a bigint; expected plain data/);
    const s = store();
    let calls = 0;
    const f = () => ++calls;
    const cases: [unknown, Record<string, unknown>, RegExp][] = [
      [5, {}, /^Error: sweep: fn = 5; expected the function of a point \(or remote\(name, args\)\)/],
      [f, { store: {} }, /^Error: sweep: options\.store is not a result store; expected openStore\(experiment\)/],
      [f, { workers: -1 }, /^Error: sweep: options\.workers = -1; expected an integer ≥ 1 or 'auto'/],
      [f, { workers: 1.5 }, /^Error: sweep: options\.workers = 1\.5; expected an integer ≥ 1 or 'auto'/],
      [f, { onProgress: 5 }, /^Error: sweep: options\.onProgress = 5; expected a function/],
      [f, { config: 'a' }, /^Error: sweep: options\.config = "a"; expected a function/],
      [f, { code: 5 }, /^Error: sweep: options\.code = 5; expected a module URL or specifier, or a list of them/],
    ];
    for (const [fn, extra, message] of cases) {
      await assert.rejects(sweep({ a: [1] }, fn as never, { store: s, quiet: true, code: import.meta.url, ...extra } as never), message);
    }
    assert.equal(calls, 0);
    assert.throws(() => openStore('grid', null as never), /^Error: openStore: options = null; expected an object of options/);
    assert.throws(() => openStore('grid', { root: 5 as never }), /^Error: openStore: root = 5; expected the path of a results folder/);
    assert.throws(() => openStore('grid', { root, log: 'x' as never }), /^Error: openStore: log = "x"; expected a function of a line/);
  });

  test('gridPoints is still exported by sweep.ts', () => {
    assert.equal(fromSweep, gridPoints);
  });
});
