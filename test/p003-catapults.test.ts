import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../lib/core/backend.js';
import { catapultData, catapultNet, catapultRun, raiseSummary, sgdSpikeSummary } from '../lib/experiments/p003-catapults.js';

before(async () => {
  await initBackend();
});

/**
 * An independent float64 GD of the 003 Ch.4 setup in plain numbers: bias-free NTK-parameterized ReLU FCN
 * f = W_L ReLU(… ReLU(W_1 x/√d) …)/√m, MSE L = (1/n) Σ (f − y)², NTK K = J Jᵀ from per-example gradients,
 * η_crit(0) = n/λ_max(K_0) by power iteration, learning rate `lrAt(t)` for update t.
 */
function handGd(x: number[][], y: number[], W0: number[][][], multiples: number[], at: number[], steps: number) {
  const n = x.length;
  const L = W0.length;
  const forward = (W: number[][][], xi: number[]) => {
    const a: number[][] = [xi];
    const z: number[][] = [];
    for (let l = 0; l < L; l++) {
      const s = 1 / Math.sqrt(W[l][0].length);
      const zl = W[l].map((row) => s * row.reduce((acc, w, j) => acc + w * a[l][j], 0));
      z.push(zl);
      a.push(l < L - 1 ? zl.map((v) => Math.max(v, 0)) : zl);
    }
    return { a, z };
  };
  /** ∂f(x_i)/∂W_l for every layer, flattened. */
  const gradF = (W: number[][][], xi: number[]) => {
    const { a, z } = forward(W, xi);
    const g: number[][][] = new Array(L);
    let delta = [1];
    for (let l = L - 1; l >= 0; l--) {
      const s = 1 / Math.sqrt(W[l][0].length);
      g[l] = delta.map((d) => a[l].map((v) => d * s * v));
      if (l > 0) delta = a[l].map((_, j) => (z[l - 1][j] > 0 ? 1 : 0) * s * delta.reduce((acc, d, r) => acc + d * W[l][r][j], 0));
    }
    return { f: a[L][0], g: g.flatMap((m) => m.flat()) };
  };
  const lambdaMax = (W: number[][][]) => {
    const J = x.map((xi) => gradF(W, xi).g);
    const K = J.map((gi) => J.map((gj) => gi.reduce((s, v, k) => s + v * gj[k], 0)));
    let v = K.map((_, i) => 1 + Math.sin(3 * i));
    let lam = 0;
    for (let it = 0; it < 3000; it++) {
      const u = K.map((row) => row.reduce((s, kij, j) => s + kij * v[j], 0));
      const nu = Math.hypot(...u);
      lam = nu / Math.hypot(...v);
      v = u.map((t) => t / nu);
    }
    return lam;
  };
  const eta0 = n / lambdaMax(W0);
  const lrAt = (t: number) => multiples[at.filter((a) => t >= a).length] * eta0;
  let W = W0.map((m) => m.map((r) => [...r]));
  const loss: number[] = [];
  const kernel: number[] = [];
  for (let t = 0; t <= steps; t++) {
    const per = x.map((xi) => gradF(W, xi));
    loss.push(per.reduce((s, p, i) => s + (p.f - y[i]) ** 2, 0) / n);
    kernel.push(lambdaMax(W));
    if (t === steps) break;
    const grad = per[0].g.map((_, k) => per.reduce((s, p, i) => s + (2 / n) * (p.f - y[i]) * p.g[k], 0));
    let k = 0;
    W = W.map((m) => m.map((r) => r.map((w) => w - lrAt(t) * grad[k++])));
  }
  return { eta0, lrAt, loss, kernel };
}

describe('003 Ch.4 catapultRun against an independent float64 GD', () => {
  test('η_crit(0) = n/λ_max(K₀) for the MSE mean, raises in units of η_crit(0) from their step on, loss and ‖K‖₂ per step', () => {
    const data = { kind: 'regression' as const, task: 'rank2' as const, n: 12, d: 4 };
    const netSpec = { kind: 'fcn' as const, depth: 3, width: 16 };
    const multiples = [0.4, 0.9, 1.3];
    const at = [4, 8];
    const steps = 12;
    // The same data and w₀ as the run, read out as plain numbers.
    const ds = catapultData(data, 0);
    const net = catapultNet(netSpec, ds.x.shape.slice(1), 1);
    const p = net.init(0);
    assert.deepEqual(net.specs.map((s) => s.name), ['W1', 'W2', 'W3'], 'bias-free: weights only');
    const x = ds.x.arraySync() as number[][];
    const y = (ds.y.arraySync() as number[][]).map((r) => r[0]);
    const W0 = ['W1', 'W2', 'W3'].map((name) => p[name].arraySync() as number[][]);
    tf.dispose(Object.values(p));
    ds.dispose();
    const hand = handGd(x, y, W0, multiples, at, steps);

    const before = tf.memory().numTensors;
    const run = catapultRun({ data, net: netSpec, lr: { multiples, at }, steps, seed: 0, kernelEvery: 1 });
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    assert.ok(Math.abs(run.etaCrit0 / hand.eta0 - 1) < 1e-4, `η_crit(0) ${run.etaCrit0} vs ${hand.eta0}`);
    assert.equal(run.lr.length, steps);
    run.lr.forEach((v, t) => assert.ok(Math.abs(v / hand.lrAt(t) - 1) < 1e-4, `lr of update ${t}: ${v} vs ${hand.lrAt(t)}`));
    assert.deepEqual(run.lossSteps, Array.from({ length: steps + 1 }, (_, t) => t));
    run.loss.forEach((v, t) => assert.ok(Math.abs(v / hand.loss[t] - 1) < 1e-3, `loss at ${t}: ${v} vs ${hand.loss[t]}`));
    run.kernelNorm.forEach((v, i) => assert.ok(Math.abs(v / hand.kernel[run.kernelSteps[i]] - 1) < 1e-3, `‖K‖₂ at ${run.kernelSteps[i]}: ${v} vs ${hand.kernel[run.kernelSteps[i]]}`));
    // A raise at step a: the new multiple, and ‖K‖₂ at the iterate it is first applied to.
    const raised = raiseSummary(run, at);
    raised.forEach((r, i) => {
      assert.ok(Math.abs(r.lrMultiple - multiples[i + 1]) < 1e-9);
      assert.ok(Math.abs(r.kernelBefore / hand.kernel[at[i]] - 1) < 1e-3);
      assert.equal(r.aboveCurrentCritical, multiples[i + 1] * hand.eta0 > x.length / hand.kernel[at[i]]);
    });
  });
});

describe('sgdSpikeSummary', () => {
  const run = (etaCritBatch: number[]) => {
    // Loss: a spike at 1→3 (η above the batch's critical rate, ‖K‖₂ 10 → 4), a small rise at 6→7 below it (‖K‖₂ up).
    const loss = [1, 0.9, 3, 6, 0.8, 0.7, 0.6, 0.8, 0.5, 0.4];
    const K = [10, 10, 9, 7, 4, 4.2, 4.4, 4.6, 4.8, 5];
    const top = loss.map((v) => v * 0.95);
    return {
      etaCrit0: 1, lambda0: 1, lr: Array(9).fill(1), status: 'converged', steps: 9, lossSteps: loss.map((_, i) => i), loss, batchLoss: loss.slice(0, 9),
      kernelSteps: K.map((_, i) => i), kernelNorm: K, lossTop: top, lossRest: loss.map((v, i) => v - top[i]),
      etaCritBatch, hessianSteps: [], etaCritHessian: [], etaCritNtkAtHessian: [], n: 4, outputs: 1, seconds: 0,
    };
  };

  test('spikes, the ‖K‖₂ drops across them, and the catapults among them (η > η_crit(X_batch) during the rise)', () => {
    const crit = [2, 2, 0.5, 0.5, 2, 2, 1.5, 2, 2];
    const S = sgdSpikeSummary(run(crit), 0.1);
    assert.equal(S.spikes, 2);
    assert.equal(S.kernelDrops, 1);
    assert.equal(S.kernelDropFraction, 0.5);
    assert.equal(S.catapults, 1);
    assert.equal(S.catapultKernelDropFraction, 1);
    assert.deepEqual(S.episodes.map((e) => [e.start, e.peak, e.triggered, e.kernelDecreased]), [[1, 3, true, true], [6, 7, false, false]]);
    const noBatch = sgdSpikeSummary(run([]), 0.1);
    assert.ok(Number.isNaN(noBatch.catapults) && Number.isNaN(noBatch.catapultKernelDropFraction));
    assert.equal(noBatch.kernelDropFraction, 0.5);
  });

  test("GD (critical: 'full'): η_crit of an update is n/‖K_t‖₂ of the full set, from the kernel records", () => {
    // n = 4, η = 1: n/‖K_t‖₂ = 0.4 (< η) at steps 1–2 of the first rise; ≈ 0.87 (< η) at step 6 of the small one.
    const S = sgdSpikeSummary(run([]), 0.1, { critical: 'full' });
    assert.equal(S.catapults, 2);
    assert.equal(S.catapultKernelDrops, 1);
    assert.equal(S.catapultKernelDropFraction, 0.5);
    const sub = { ...run([]), lr: Array(9).fill(0.5) };
    // η = 0.5: above n/‖K‖₂ = 0.4 during the first rise only, below 0.87 during the second.
    const T = sgdSpikeSummary(sub, 0.1, { critical: 'full' });
    assert.deepEqual([T.spikes, T.catapults, T.catapultKernelDrops, T.diverged], [2, 1, 1, false]);
    assert.throws(() => sgdSpikeSummary({ ...run([]), kernelNorm: [10, NaN, 9, 7, 4, 4.2, 4.4, 4.6, 4.8, 5] }, 0.1, { critical: 'full' }), /needs ‖K‖₂ recorded at every step/);
    assert.throws(() => sgdSpikeSummary(run([]), 0.1, { critical: 'half' as 'full' }), /critical = "half"; expected 'batch' or 'full'/);
  });
});

describe('kernelAtSpikes (‖K‖₂ at a cadence and through every spike, for large n)', () => {
  // SGD above the critical rate on the rank-2 task: a run with several loss spikes.
  const base = { data: { kind: 'regression', task: 'rank2', n: 48 }, net: { kind: 'fcn', depth: 3, width: 64 }, lr: { multiple: 2.5 }, steps: 100, seed: 0, s: 1, batchSize: 8, batchCritical: true, lossBelow: 1e-3 } as const;
  test('the spike summary equals that of records at every step, from fewer kernels with the same values', () => {
    const every = catapultRun({ ...base, kernelEvery: 1 });
    const before = tf.memory().numTensors;
    const sparse = catapultRun({ ...base, kernelEvery: 10, kernelAtSpikes: 0.1 });
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    const S = sgdSpikeSummary(every, 0.1);
    assert.ok(S.spikes >= 2, `the task has spikes (${S.spikes})`);
    assert.deepEqual(sgdSpikeSummary(sparse, 0.1), S);
    assert.ok(sparse.kernelSteps.length < every.kernelSteps.length, `${sparse.kernelSteps.length} records instead of ${every.kernelSteps.length}`);
    assert.ok(sparse.kernelSteps.some((t) => t % 10 !== 0 && !sparse.kernelSteps.includes(t - 1)), 'a spike start recorded one step late');
    sparse.kernelSteps.forEach((t, i) => {
      assert.ok(i === 0 || t > sparse.kernelSteps[i - 1], 'steps increase');
      assert.equal(sparse.kernelNorm[i], every.kernelNorm[t], `‖K‖₂ at ${t}`);
      assert.equal(sparse.lossTop[i], every.lossTop[t], `L≤1 at ${t}`);
    });
    // A larger minRise reads a subset of the recorded spikes; a missing record is named, not read across.
    assert.throws(() => sgdSpikeSummary(sparse, 0.01), /no ‖K‖₂ record at step\(s\) .* of the spike at steps/);
    assert.throws(() => catapultRun({ ...base, kernelEvery: 0, kernelAtSpikes: 0.1 }), /kernelAtSpikes = 0.1 needs kernelEvery >= 1/);
  });
});
