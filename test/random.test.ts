import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createRng, deriveSeed, fillNormal, fillUniform, normals, normals64, permutation, rademacher, rngFor, rngFromState,
  sample, sampleIndices, shuffle, weightedIndex,
} from '../lib/core/random.js';

function moments(a: ArrayLike<number>) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += a[i];
  m /= a.length;
  let v = 0, k3 = 0, k4 = 0;
  for (let i = 0; i < a.length; i++) {
    const c = a[i] - m;
    v += c * c;
    k3 += c * c * c;
    k4 += c * c * c * c;
  }
  v /= a.length;
  return { mean: m, variance: v, skew: k3 / a.length / v ** 1.5, kurtosis: k4 / a.length / (v * v) };
}

describe('random: xoshiro128**', () => {
  test('matches the reference C implementation (state 1, 2, 3, 4)', () => {
    const r = rngFromState({ s: [1, 2, 3, 4], spare: null });
    // Outputs of Vigna's xoshiro128starstar.c from s = {1, 2, 3, 4}.
    assert.deepEqual(Array.from({ length: 6 }, () => r.nextUint32()), [11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  test('same seed gives the same stream; different seeds and labels give different streams', () => {
    const a = Array.from({ length: 5 }, createRng(42).uniform);
    const b = Array.from({ length: 5 }, createRng(42).uniform);
    const c = Array.from({ length: 5 }, createRng(43).uniform);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.notEqual(deriveSeed(1, 'init'), deriveSeed(1, 'data'));
    assert.notEqual(deriveSeed(1, 'ab', 'c'), deriveSeed(1, 'a', 'bc'));
    assert.notEqual(deriveSeed(1, 2), deriveSeed(1, '2'));
    assert.equal(deriveSeed('run', 'x', 3), deriveSeed('run', 'x', 3));
  });

  test('pinned values: the streams never change across versions or platforms', () => {
    // Regenerate only for a deliberate, documented change of the generator.
    const r = createRng(2024);
    const u = [r.nextUint32(), r.nextUint32(), r.nextUint32()];
    const z = rngFor(7, 'normals').normal();
    assert.deepEqual({ u, z, d: deriveSeed(7, 'layer', 2) }, PINNED);
  });

  test('state snapshot continues the stream exactly, including the spare normal', () => {
    const r = createRng('snapshot');
    r.normal();
    const s = r.state();
    const a = [r.normal(), r.normal(), r.uniform()];
    const r2 = rngFromState(s);
    assert.deepEqual([r2.normal(), r2.normal(), r2.uniform()], a);
  });

  test('uniform is in [0, 1) with mean 1/2 and variance 1/12', () => {
    const r = createRng(1);
    const a = fillUniform(r, new Float64Array(200_000));
    assert.ok(a.every((v) => v >= 0 && v < 1));
    const m = moments(a);
    assert.ok(Math.abs(m.mean - 0.5) < 0.003, `mean ${m.mean}`);
    assert.ok(Math.abs(m.variance - 1 / 12) < 0.001, `variance ${m.variance}`);
  });

  test('normals have mean 0, variance 1, skew 0, kurtosis 3', () => {
    const a = normals64(createRng(5), 400_000);
    const m = moments(a);
    assert.ok(Math.abs(m.mean) < 0.006, `mean ${m.mean}`);
    assert.ok(Math.abs(m.variance - 1) < 0.01, `variance ${m.variance}`);
    assert.ok(Math.abs(m.skew) < 0.02, `skew ${m.skew}`);
    assert.ok(Math.abs(m.kurtosis - 3) < 0.05, `kurtosis ${m.kurtosis}`);
    // P(|z| > 1.96) = 0.05
    const tail = a.filter((v) => Math.abs(v) > 1.959963984540054).length / a.length;
    assert.ok(Math.abs(tail - 0.05) < 0.002, `tail ${tail}`);
  });

  test('fillNormal equals repeated normal() calls, for odd and even lengths and any split', () => {
    for (const n of [1, 2, 7, 1000]) {
      const fast = fillNormal(createRng(n), new Float64Array(n), 2, 3);
      const r = createRng(n);
      const slow = Float64Array.from({ length: n }, () => r.normal(3, 2));
      assert.deepEqual(fast, slow);
    }
    const r1 = createRng(9);
    const parts = [...fillNormal(r1, new Float64Array(3)), ...fillNormal(r1, new Float64Array(4))];
    assert.deepEqual(parts, Array.from(fillNormal(createRng(9), new Float64Array(7))));
    const f32 = normals(createRng(3), 5, 0.5);
    assert.ok(f32 instanceof Float32Array);
    assert.deepEqual(f32, Float32Array.from(fillNormal(createRng(3), new Float64Array(5), 0.5)));
  });

  test('fillNormal fills 2e7 float32 entries quickly', () => {
    const a = new Float32Array(20_000_000);
    const t = performance.now();
    fillNormal(createRng(11), a, 1);
    const ms = performance.now() - t;
    assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms`);
  });

  test('int is unbiased over a non-power-of-two range and rejects bad ranges', () => {
    const r = createRng(2);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[r.int(0, 6)]++;
    for (const c of counts) assert.ok(Math.abs(c - 10_000) < 400, `counts ${counts}`);
    assert.equal(r.int(5, 6), 5);
    assert.throws(() => r.int(3, 3), /lo < hi/);
    assert.throws(() => r.int(0, 1.5), /integers/);
  });

  test('permutation, shuffle and sampling', () => {
    const p = permutation(createRng(4), 100);
    assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
    assert.deepEqual(p, permutation(createRng(4), 100));
    const s = sampleIndices(createRng(4), 50, 50);
    assert.equal(new Set(s).size, 50);
    const w = sampleIndices(createRng(4), 10, 1000, { replace: true });
    assert.ok(w.every((v) => v >= 0 && v < 10));
    assert.ok(new Set(w).size === 10);
    assert.throws(() => sampleIndices(createRng(4), 5, 6), /k = 6 exceeds population n = 5/);
    assert.equal(sample(createRng(1), ['a', 'b', 'c'], 2).length, 2);
    const arr = [1, 2, 3, 4, 5];
    shuffle(createRng(0), arr);
    assert.deepEqual([...arr].sort(), [1, 2, 3, 4, 5]);
    // Each position of a 3-permutation is uniform.
    const first = [0, 0, 0];
    const r = createRng(8);
    for (let i = 0; i < 30_000; i++) first[permutation(r, 3)[0]]++;
    for (const c of first) assert.ok(Math.abs(c - 10_000) < 400, `first ${first}`);
  });

  test('rademacher and weightedIndex', () => {
    const s = rademacher(createRng(3), 10_000);
    assert.ok(s.every((v) => v === 1 || v === -1));
    assert.ok(Math.abs(s.reduce((a, v) => a + v, 0)) < 300);
    const r = createRng(6);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[weightedIndex(r, [1, 0, 3])]++;
    assert.equal(counts[1], 0);
    assert.ok(Math.abs(counts[2] / counts[0] - 3) < 0.2, `${counts}`);
    assert.throws(() => weightedIndex(r, [0, 0]), /sum to 0/);
  });

  test('bad seeds are rejected with the value named', () => {
    assert.throws(() => createRng(-1), /seed = -1 is not a valid seed/);
    assert.throws(() => createRng(1.5), /seed = 1.5/);
    assert.throws(() => deriveSeed(NaN, 'x'), /seed = NaN/);
    assert.throws(() => fillNormal(createRng(1), new Float32Array(2), -1), /std = -1/);
  });
});

const PINNED = { u: [2419916859, 2996235947, 1249288266], z: -0.7047774833338819, d: 7899691803379259 };
