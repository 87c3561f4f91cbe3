import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../lib/core/backend.js';
import { CRITICAL_DENSE_LIMIT, criticalLearningRate } from '../lib/analysis/critical.js';
import { symmetricEigen } from '../lib/core/linalg.js';
import { fcn, withOutput } from '../lib/nets/fcn.js';
import { crossEntropy, lossValue, mse } from '../lib/analysis/losses.js';
import { kernelEigen, outputKernel, softmaxJacobians, tangentKernel } from '../lib/analysis/ntk.js';
import { train } from '../lib/train/train.js';
import { batchCritical, distanceFromInit, heldOutMetrics, lossSplit, trainLoss } from '../lib/train/trackers.js';
import { assertClose, seededMatrix, tensorOf } from './helpers.js';

before(async () => {
  await initBackend();
});

test('output kernel A K A^T of softmax equals the tangent kernel of softmax(f) (002 eq. 27)', () => {
  const base = fcn({ widths: [3, 6, 4], activation: 'tanh' });
  const w = base.init(3);
  const x = tensorOf(seededMatrix(5, 3, 1));
  const K = tangentKernel(base, w, x);
  const A = softmaxJacobians(base.apply(w, x) as tf.Tensor2D);
  const direct = tangentKernel(withOutput(base, 'softmax'), w, x);
  assertClose(outputKernel(K, A).dataSync(), direct.dataSync(), 1e-4, 'A K A^T');
});

test('critical learning rate for cross-entropy: 2 / lambda_max((1/n) K A), independently by power iteration', () => {
  const net = fcn({ widths: [2, 8, 3], activation: 'tanh' });
  const w = net.init(1);
  const x = tensorOf(seededMatrix(6, 2, 2));
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3).toFloat();
  const crit = criticalLearningRate(net, w, x, y, crossEntropy());
  const N = 18;
  const K = Array.from(tangentKernel(net, w, x).dataSync());
  const Ablocks = Array.from(softmaxJacobians(net.apply(w, x) as tf.Tensor2D).dataSync());
  const A = new Array<number>(N * N).fill(0);
  for (let i = 0; i < 6; i++) for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) A[(i * 3 + r) * N + i * 3 + c] = Ablocks[i * 9 + r * 3 + c];
  const KA = Array.from({ length: N * N }, (_, idx) => {
    const r = Math.floor(idx / N);
    const c = idx % N;
    let s = 0;
    for (let k = 0; k < N; k++) s += K[r * N + k] * A[k * N + c];
    return s / 6;
  });
  let v = Array.from({ length: N }, (_, i) => 1 + Math.sin(i));
  let lambda = 0;
  for (let it = 0; it < 3000; it++) {
    const u = v.map((_, r) => v.reduce((acc, vj, j) => acc + KA[r * N + j] * vj, 0));
    lambda = Math.hypot(...u) / Math.hypot(...v);
    v = u.map((t) => t / Math.hypot(...u));
  }
  assert.ok(Math.abs(crit.lambda - lambda) <= 1e-4 * lambda, `${crit.lambda} vs ${lambda}`);
  assert.ok(Math.abs(crit.eta - 2 / lambda) <= 1e-4 * crit.eta);
});

test('trackers: loss split adds up, distance starts at 0, accuracy in [0, 1], per-batch critical rate is b / lambda_max(K_batch)', () => {
  const net = fcn({ widths: [3, 16, 1], activation: 'tanh' });
  const w = net.init(0);
  const x = tensorOf(seededMatrix(12, 3, 4));
  const y = tensorOf(seededMatrix(12, 1, 5).map((r) => [Math.sign(r[0]) || 1]));
  const r = train({ net, params: w, x, y, loss: mse('mean'), lr: 0.05, steps: 6, batchSize: 4, seed: 1, track: [trainLoss(2), lossSplit(2, 2), distanceFromInit(3), heldOutMetrics({ x, y }, 3), batchCritical(1)] });
  const total = r.history.loss.value as number[];
  const top = r.history.lossTop.value as number[];
  const rest = r.history.lossRest.value as number[];
  total.forEach((l, i) => assert.ok(Math.abs(top[i] + rest[i] - l) <= 1e-4 * l, `split ${top[i]} + ${rest[i]} vs ${l}`));
  assert.equal(r.history.distanceL2.value[0], 0);
  assert.ok((r.history.distanceL2.value.at(-1) as number) > 0);
  for (const a of r.history.testAccuracy.value as number[]) assert.ok(a >= 0 && a <= 1);
  assert.equal(r.history.etaCritBatch.step.length, 6);
  // With the whole data set as the batch, the per-batch rate is n / lambda_max(K) (003 C.1, mean MSE).
  const full = train({ net, params: w, x, y, loss: mse('mean'), lr: 0.05, steps: 1, track: [batchCritical(1)] });
  const lam = kernelEigen(tangentKernel(net, w, x), 1).values[0];
  assert.ok(Math.abs((full.history.etaCritBatch.value[0] as number) - 12 / lam) <= 1e-6 * (12 / lam));
  assert.equal(full.history.exceeded.value[0], 0.05 > 12 / lam ? 1 : 0);
  assert.equal(lossValue(mse('mean'), net.apply(w, x), y).shape.length, 0);
});

test('criticalLearningRate above CRITICAL_DENSE_LIMIT (Lanczos) equals n / λ_max of the dense float64 solve', () => {
  const n = CRITICAL_DENSE_LIMIT + 100;
  const x = tf.randomNormal([n, 6], 0, 1, 'float32', 3);
  const y = tf.randomNormal([n, 1], 0, 1, 'float32', 4);
  const net = fcn({ widths: [6, 32, 1], activation: 'relu' });
  const w = net.init(1);
  const crit = criticalLearningRate(net, w, x, y, mse('mean'));
  const K = tangentKernel(net, w, x);
  const dense = symmetricEigen(K.dataSync(), n, { vectors: false }).values[0];
  assert.ok(Math.abs(crit.lambda - dense) <= 1e-9 * dense, `λ_max ${crit.lambda} vs dense ${dense}`);
  assert.ok(Math.abs(crit.eta - n / dense) <= 1e-9 * (n / dense));
  tf.dispose([x, y, K]);
  Object.values(w).forEach((t) => t.dispose());
});
