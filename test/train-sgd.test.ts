import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../lib/core/backend.js';
import { fcn } from '../lib/nets/fcn.js';
import { lossValue, mse } from '../lib/analysis/losses.js';
import { lanczosOfDense, lossDecomposition, tangentKernel, topEigenpairs } from '../lib/analysis/ntk.js';
import { pv, readScalar } from '../lib/core/params.js';
import { train } from '../lib/train/train.js';
import { batchCritical, batchHessianTop, kernelSpectrum, trainLoss } from '../lib/train/trackers.js';
import { assertClose, seededMatrix, tensorOf } from './helpers.js';

before(async () => {
  await initBackend();
});

/** Plain-number power iteration (independent of lib/linalg). */
function powerTop(a: ArrayLike<number>, N: number, iters = 3000): number {
  let v = Array.from({ length: N }, (_, i) => 1 + Math.sin(3 * i));
  let lambda = 0;
  for (let it = 0; it < iters; it++) {
    const u = v.map((_, r) => v.reduce((s, vj, j) => s + a[r * N + j] * vj, 0));
    const nu = Math.hypot(...u);
    lambda = nu / Math.hypot(...v);
    v = u.map((t) => t / nu);
  }
  return lambda;
}

const data = (n: number, d: number, C = 1) => ({ x: tensorOf(seededMatrix(n, d, 11)), y: tensorOf(seededMatrix(n, C, 12)) });

describe('SGD runs (003 Ch.4)', () => {
  test('stop.lossBelow checks the full training loss every k steps, without resetting optimizer state or the batch stream', () => {
    const { x, y } = data(16, 3);
    const net = fcn({ widths: [3, 32, 1], activation: 'tanh' });
    const w0 = net.init(0);
    const base = { net, params: w0, x, y, loss: mse('mean'), optimizer: { name: 'sgd' as const, momentum: 0.9 }, lr: 0.3, batchSize: 4, seed: 3 };
    const free = train({ ...base, steps: 200, track: [trainLoss(1)] });
    const curve = free.history.loss.value as number[];
    // A threshold first crossed between two checks: the stop lands on the next check.
    const k = 7;
    const threshold = (curve[0] + Math.min(...curve)) / 2;
    assert.ok(Math.min(...curve) < 0.9 * curve[0], `the loss must drop in this setting: ${curve[0]} -> ${Math.min(...curve)}`);
    const r = train({ ...base, steps: 200, stop: { lossBelow: threshold, checkEvery: k } });
    assert.equal(r.status, 'converged');
    assert.equal(r.steps % k, 0);
    const checks = r.history.fullLoss;
    assert.deepEqual(checks.step, Array.from({ length: r.steps / k + 1 }, (_, i) => i * k));
    const vals = checks.value as number[];
    assert.ok(vals.at(-1)! < threshold && vals.slice(0, -1).every((v) => v >= threshold), `checks ${vals}`);
    // Same iterates as the run without a stop rule (momentum buffers and the batch RNG untouched by the checks).
    vals.forEach((v, i) => assert.ok(Math.abs(v - curve[i * k]) <= 1e-6 * curve[0], `check ${i}: ${v} vs ${curve[i * k]}`));
    const same = train({ ...base, steps: r.steps });
    for (const name of Object.keys(r.params)) assertClose(r.params[name].dataSync(), same.params[name].dataSync(), 1e-6, name);
    assert.ok(Math.abs(r.finalLoss - readScalar(() => lossValue(mse('mean'), net.apply(r.params, x), y))) < 1e-6);
  });

  test('stop.from: lossBelow stops no earlier than that step, and the final loss still decides convergence', () => {
    const { x, y } = data(16, 3);
    const net = fcn({ widths: [3, 32, 1], activation: 'tanh' });
    const w0 = net.init(0);
    for (const batchSize of [undefined, 4]) {
      const base = { net, params: w0, x, y, loss: mse('mean'), lr: 0.3, batchSize, seed: 3 };
      const free = train({ ...base, steps: 120, track: [trainLoss(1)] });
      const curve = free.history.loss.value as number[];
      const threshold = (curve[0] + Math.min(...curve)) / 2;
      const first = curve.findIndex((v) => v < threshold);
      assert.ok(first > 0 && first < 60, `threshold first crossed at ${first}`);
      const early = train({ ...base, steps: 120, stop: { lossBelow: threshold } });
      assert.equal(early.status, 'converged');
      assert.equal(early.steps, first, `b = ${batchSize ?? 'n'}`);
      const late = train({ ...base, steps: 120, stop: { lossBelow: threshold, from: 80 } });
      assert.equal(late.status, 'converged');
      assert.equal(late.steps, 80 + (curve.slice(80).findIndex((v) => v < threshold)), `b = ${batchSize ?? 'n'}`);
      const end = train({ ...base, steps: 120, stop: { lossBelow: threshold, from: 120 } });
      assert.equal(end.steps, 120);
      assert.equal(end.status, curve[120] < threshold ? 'converged' : 'max-steps');
      pv.dispose(early.params); pv.dispose(late.params); pv.dispose(end.params); pv.dispose(free.params);
    }
  });

  test('sampling with and without replacement records the indices of every update', () => {
    const { x, y } = data(12, 2);
    const net = fcn({ widths: [2, 8, 1], activation: 'relu' });
    const w0 = net.init(1);
    const run = (sampling: 'shuffle' | 'replacement') => train({ net, params: w0, x, y, loss: 'mse', lr: 0.01, steps: 60, batchSize: 4, sampling, seed: 5, recordIndices: true });
    const shuffle = run('shuffle').history.batchIndices;
    assert.deepEqual(shuffle.step, Array.from({ length: 60 }, (_, i) => i));
    for (let e = 0; e < 20; e++) {
      const epoch = (shuffle.value.slice(3 * e, 3 * e + 3) as number[][]).flat().sort((a, b) => a - b);
      assert.deepEqual(epoch, Array.from({ length: 12 }, (_, i) => i), `epoch ${e} is a permutation`);
    }
    const rep = run('replacement').history.batchIndices.value as number[][];
    assert.ok(rep.every((b) => b.length === 4 && b.every((i) => Number.isInteger(i) && i >= 0 && i < 12)));
    assert.ok(rep.some((b) => new Set(b).size < 4), 'iid draws repeat an example within some batch');
    // The recorded indices are those of the update: the first batch loss is the loss on them at w0.
    const r = train({ net, params: w0, x, y, loss: 'mse', lr: 0.01, steps: 1, batchSize: 4, sampling: 'replacement', seed: 9, recordIndices: true });
    const idx = tf.tensor1d(r.history.batchIndices.value[0] as number[], 'int32');
    const expected = readScalar(() => lossValue(mse('mean'), net.apply(w0, tf.gather(x, idx)), tf.gather(y, idx)));
    assert.ok(Math.abs((r.history.batchLoss.value[0] as number) - expected) < 1e-6);
  });

  test('bad stop options give clear errors', () => {
    const { x, y } = data(4, 2);
    const net = fcn({ widths: [2, 3, 1], activation: 'tanh' });
    const params = net.init(0);
    assert.throws(() => train({ net, params, x, y, loss: 'mse', lr: 0.1, steps: 1, batchSize: 2, stop: { lossBelow: 1e-3, checkEvery: 0 } }), /train: stop.checkEvery = 0; expected an integer >= 1/);
    assert.throws(() => train({ net, params, x, y, loss: 'mse', lr: 0.1, steps: 1, stop: { lossBelow: -1 } }), /train: stop.lossBelow = -1; expected a loss threshold > 0/);
    assert.throws(() => train({ net, params, x, y, loss: 'mse', lr: 0.1, steps: 1, stop: { lossBelow: 1e-3, from: 1.5 } }), /train: stop.from = 1.5; expected an integer step >= 0/);
  });
});

describe('kernel spectrum without a dense eigendecomposition', () => {
  test('Lanczos top-s eigenpairs of a 400 x 400 NTK match the dense solver, and so does the loss split', () => {
    const { x, y } = data(400, 4);
    const net = fcn({ widths: [4, 64, 64, 1], activation: 'relu' });
    const w = net.init(2);
    const K = tangentKernel(net, w, x);
    const dense = topEigenpairs(K, 5, { method: 'dense' });
    const lz = topEigenpairs(K, 5, { method: 'lanczos' });
    assert.equal(lz.iterations > 0 && lz.iterations < 400, true, `iterations ${lz.iterations}`);
    assertClose(lz.values, dense.values, 1e-6, 'top-5 eigenvalues');
    const r = tf.sub(net.apply(w, x), y);
    const a = lossDecomposition(K, r, 5, 1 / 400, 'dense');
    const b = lossDecomposition(K, r, 5, 1 / 400, 'lanczos');
    assert.ok(Math.abs(a.top - b.top) <= 1e-5 * a.total && Math.abs(a.rest - b.rest) <= 1e-5 * a.total, `${a.top}/${a.rest} vs ${b.top}/${b.rest}`);
    assert.ok(Math.abs(dense.values[0] - powerTop(K.dataSync(), 400, 300)) <= 1e-4 * dense.values[0]);
    // On the float32 array itself (one read of K, as kernelSpectrum does): the same pairs, bit for bit.
    const same = lanczosOfDense(K.dataSync() as Float32Array, 400, 5);
    assert.deepEqual(same.values, lz.values);
    assert.deepEqual(Array.from(same.vectors), Array.from(lz.vectors));
    assert.throws(() => lanczosOfDense(new Float32Array(10), 4, 1), /lanczosOfDense: 10 entries; expected N² = 16/);
    tf.dispose([K, r]);
  });

  test('kernelSpectrum: ‖K‖₂ by independent power iteration, L≤s + L>s = L, top s·C eigenvectors for C outputs; no tensor leaks', () => {
    const { x, y } = data(10, 3, 3);
    const net = fcn({ widths: [3, 16, 3], activation: 'tanh' });
    const w = net.init(4);
    const before = tf.memory().numTensors;
    const r = train({ net, params: w, x, y, loss: mse('mean'), lr: 0.1, steps: 4, batchSize: 5, seed: 1, track: [trainLoss(2), kernelSpectrum({ s: 2, every: 2 })] });
    Object.values(r.params).forEach((t) => t.dispose());
    assert.equal(tf.memory().numTensors, before, 'train + kernelSpectrum leave no tensors behind');
    const K0 = tangentKernel(net, w, x);
    assert.ok(Math.abs((r.history.kernelNorm.value[0] as number) - powerTop(K0.dataSync(), 30)) <= 1e-4 * (r.history.kernelNorm.value[0] as number));
    const split = tf.tidy(() => lossDecomposition(K0, tf.sub(net.apply(w, x), y), 6));
    assert.ok(Math.abs((r.history.lossTop.value[0] as number) - split.top) <= 1e-6 * split.total, 'top 2·3 eigenvectors');
    const loss = r.history.loss.value as number[];
    loss.forEach((l, i) => assert.ok(Math.abs((r.history.lossTop.value[i] as number) + (r.history.lossRest.value[i] as number) - l) <= 1e-4 * l));
    K0.dispose();
  });

  test('batchHessianTop: λ_max(H_L(X_batch)) of a linear model is 2/b λ_max(X_bᵀX_b); near b/λ_max(K_batch) for a wide net', () => {
    const { x, y } = data(12, 3);
    const lin = fcn({ widths: [3, 1], activation: [], parameterization: 'standard' });
    const w = lin.init(0);
    const r = train({ net: lin, params: w, x, y, loss: mse('mean'), lr: 0.01, steps: 3, batchSize: 4, seed: 2, recordIndices: true, track: [batchHessianTop(1), batchCritical(1)] });
    const xs = seededMatrix(12, 3, 11);
    for (let t = 0; t < 3; t++) {
      const idx = r.history.batchIndices.value[t] as number[];
      const G = new Array<number>(9).fill(0);
      for (const i of idx) for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) G[a * 3 + b] += (2 / 4) * xs[i][a] * xs[i][b];
      const lam = powerTop(G, 3);
      const got = r.history.hessianTopBatch.value[t] as number;
      assert.ok(Math.abs(got - lam) <= 1e-4 * lam, `step ${t}: ${got} vs ${lam}`);
      assert.ok(Math.abs((r.history.etaCritHessianBatch.value[t] as number) - (r.history.etaCritBatch.value[t] as number)) <= 1e-3 * (2 / lam));
    }
    const wide = fcn({ widths: [3, 2048, 1], activation: 'relu' });
    const ww = wide.init(1);
    const rw = train({ net: wide, params: ww, x, y, loss: mse('mean'), lr: 0.01, steps: 2, batchSize: 4, seed: 2, track: [batchHessianTop(1), batchCritical(1)] });
    const gap = Math.abs((rw.history.etaCritHessianBatch.value[0] as number) / (rw.history.etaCritBatch.value[0] as number) - 1);
    assert.ok(gap < 0.1, `relative gap ${gap}`);
  });
});

test('symmetricEigen converges on a float32 NTK close to 11ᵀ (step 16 of a PyTorch-default SGD run; QL used not to deflate)', async () => {
  const { symmetricEigen } = await import('../lib/core/linalg.js');
  const { readFileSync } = await import('node:fs');
  const buf = readFileSync(new URL('../../test/fixtures/kernel-near-rank-one-128.f32', import.meta.url));
  const A = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const e = symmetricEigen(A, 128);
  // numpy.linalg.eigvalsh in float64 of the same matrix:
  assertClose([e.values[0], e.values[1], e.values[2]], [128.00043929469172, 0.0036402511787414406, 0.0033626086813489647], 1e-9, 'top eigenvalues', 1e-12);
});

describe('one training-set forward pass per step', () => {
  test('the stop check, trainLoss and kernelSpectrum share net.apply(params, x); the values are those of separate passes', () => {
    const { x, y } = data(24, 3);
    const base = fcn({ widths: [3, 16, 1], activation: 'tanh' });
    let onTrain = 0;
    const net = { ...base, apply: (p: Parameters<typeof base.apply>[0], xs: tf.Tensor) => {
      if (xs === x) onTrain++;
      return base.apply(p, xs);
    } };
    const w = base.init(3);
    const steps = 5;
    const before = tf.memory().numTensors;
    const r = train({ net, params: w, x, y, loss: mse('mean'), lr: 0.05, steps, batchSize: 8, seed: 2, stop: { lossBelow: 1e-9 }, track: [trainLoss(1), kernelSpectrum({ s: 1, every: 1 })] });
    // One pass per step, and one for the final record (steps + 1 iterates).
    assert.equal(onTrain, steps + 1, `net.apply on the training set ${onTrain} times for ${steps} steps`);
    assert.equal(tf.memory().numTensors, before + Object.keys(r.params).length, 'only the returned parameters are left');
    // The shared output gives the same losses as a pass of its own (replay the updates).
    const again = train({ net: base, params: w, x, y, loss: mse('mean'), lr: 0.05, steps, batchSize: 8, seed: 2, track: [trainLoss(1)] });
    assert.deepEqual(r.history.loss.value, again.history.loss.value);
    assert.deepEqual(r.history.fullLoss.value.slice(0, steps), again.history.loss.value.slice(0, steps));
    pv.dispose(r.params);
    pv.dispose(again.params);
  });
});
