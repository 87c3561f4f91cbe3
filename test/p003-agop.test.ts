import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../lib/core/backend.js';
import { agop, agopAlignment } from '../lib/analysis/agop.js';
import { tangentKernel } from '../lib/analysis/ntk.js';
import { regressionData, taskEgop } from '../lib/data/multi-index.js';
import { agopNetwork, agopRun, minMaxNormalize, ntkTop, summarizeRuns, textTable, type AgopRunConfig } from '../lib/experiments/p003-agop-alignment.js';
import { ranks, spearman } from '../lib/stats/stats.js';
import { seededMatrix, tensorOf } from './helpers.js';

before(async () => {
  await initBackend();
});

/** Plain-number power iteration (independent of lib/core/linalg). */
function powerTop(a: ArrayLike<number>, N: number, iters = 2000): number {
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

describe('spearman', () => {
  test('monotone relations give ±1, ties share their average rank', () => {
    assert.equal(spearman([5, 10, 50, 2000], [0.95, 0.89, 0.84, 0.81]), -1);
    assert.equal(spearman([1, 2, 3], [1, 4, 9]), 1);
    assert.deepEqual(ranks([3, 1, 3, 2]), [3.5, 1, 3.5, 2]);
    // ranks x = 1..4, y = (1, 2.5, 2.5, 4): ρ = Pearson of the ranks
    const rho = spearman([1, 2, 3, 4], [10, 20, 20, 30]);
    assert.ok(Math.abs(rho - 4.5 / Math.sqrt(5 * 4.5)) < 1e-12, String(rho));
    assert.ok(Number.isNaN(spearman([1, 2, 3], [7, 7, 7])));
  });
  test('bad input names the value', () => {
    assert.throws(() => spearman([1, 2], [1]), /spearman: lengths 2 and 1; expected two equal lengths ≥ 2/);
    assert.throws(() => spearman([1, NaN], [1, 2]), /spearman: x\[1\] = NaN; expected finite numbers/);
  });
});

describe('003 Ch.4 AGOP experiment (p003-agop-alignment)', () => {
  test('ntkTop is λ_max of the tangent kernel (independent power iteration)', () => {
    const net = agopNetwork({ d: 4, hidden: [16] });
    const p = net.init(1);
    const x = tensorOf(seededMatrix(12, 4, 3));
    const K = tangentKernel(net, p, x);
    const want = powerTop(K.dataSync(), 12);
    const got = ntkTop(net, p, x);
    assert.ok(Math.abs(got - want) <= 1e-4 * want, `${got} vs ${want}`);
    tf.dispose([K, x, ...Object.values(p)]);
  });

  test('agopNetwork: bias-free NTK net with N(0, σ²) weights, or PyTorch-default layers with biases', () => {
    const small = agopNetwork({ d: 50, hidden: [200], initStd: 0.1 });
    assert.deepEqual(small.specs.map((s) => s.name), ['W1', 'W2']);
    const p = small.init(0);
    const w = Array.from(p.W1.dataSync());
    const std = Math.sqrt(w.reduce((a, b) => a + b * b, 0) / w.length);
    assert.ok(Math.abs(std - 0.1) < 0.005, `std ${std}`);
    const pt = agopNetwork({ d: 50, hidden: [200], parameterization: 'pytorch' });
    assert.deepEqual(pt.specs.map((s) => s.name), ['W1', 'b1', 'W2', 'b2']);
    const q = pt.init(0);
    const bound = Math.max(...Array.from(q.W1.dataSync(), Math.abs));
    assert.ok(bound <= 1 / Math.sqrt(50) && bound > 0.9 / Math.sqrt(50), `max |W1| ${bound}`);
    // nn.Linear's bias is U(±1/√fan-in) too, not zero.
    const b1 = Math.max(...Array.from(q.b1.dataSync(), Math.abs));
    assert.ok(b1 <= 1 / Math.sqrt(50) && b1 > 0.9 / Math.sqrt(50), `max |b1| ${b1} over 200 draws`);
    const b2 = Math.abs(q.b2.dataSync()[0]);
    assert.ok(b2 > 0 && b2 <= 1 / Math.sqrt(200), `|b2| ${b2}`);
    tf.dispose([...Object.values(p), ...Object.values(q)]);
  });

  test('a network computing f* exactly has AGOP alignment ≈ 1 against the exact EGOP (rank-2, test points)', () => {
    // f(x) = x1 x2 = ((x1 + x2)² − (x1 − x2)²)/4 is not a ReLU net; check the AGOP/EGOP plumbing with the task's own gradients instead.
    const ds = regressionData({ task: 'rank2', n: 4000, d: 6, noise: 0, seed: 5 });
    const x = ds.x.arraySync();
    const g = tf.tensor2d(x.map((r) => [r[1], r[0], 0, 0, 0, 0]));
    const G = tf.div(tf.matMul(g, g, true, false), 4000) as tf.Tensor2D;
    const a = agopAlignment(G, Float32Array.from(taskEgop('rank2', 6)));
    assert.ok(a > 0.999, `alignment ${a}`);
    tf.dispose([g, G]);
    ds.dispose();
  });

  const tiny = (o: Partial<AgopRunConfig>): AgopRunConfig => ({
    task: 'rank2', d: 5, nTrain: 40, nVal: 30, nTest: 30, hidden: [32], lr: { critical: 0.5 }, stopLoss: 1e-3, maxSteps: 60, evalEvery: 10, seed: 0, dataSeed: 0, ...o,
  });

  test('GD run: η_crit(0) = n/λ_max(K), raises in units of η_crit, snapshots at the raises, no tensor leaks', () => {
    const before = tf.memory().numTensors;
    const r = agopRun(tiny({ raises: { at: [20, 40], critical: [1.2, 2] }, snapshotsAt: [20, 40] }));
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    const net = agopNetwork({ d: 5, hidden: [32] });
    const p = net.init(0);
    const ds = regressionData({ task: 'rank2', n: 40, d: 5, noise: 0.1, seed: '0/train' });
    const lambda = ntkTop(net, p, ds.x);
    tf.dispose(Object.values(p));
    ds.dispose();
    assert.ok(Math.abs(r.etaCrit - 40 / lambda) < 1e-6 * r.etaCrit);
    assert.deepEqual(r.lrSchedule.at, [0, 20, 40]);
    assert.ok(Math.abs(r.lrSchedule.values[2] - 2 * r.etaCrit) < 1e-9);
    assert.deepEqual(r.snapshots.map((s) => s.step).slice(0, 2), [20, 40]);
    assert.equal(r.snapshots.at(-1)!.step, r.steps);
    assert.equal(r.snapshots[0].agopBlock.length, 25);
    assert.equal(r.egopBlock[0], 1);
    assert.equal(r.batchLoss.length, r.steps);
    const iBest = r.curve.step.indexOf(r.best.step);
    assert.ok(iBest >= 0);
    assert.equal(r.best.valLoss, Math.min(...r.curve.valLoss));
    assert.equal(r.best.alignment, r.curve.alignment[iBest]);
    for (const a of r.curve.alignment) assert.ok(a >= -1 && a <= 1);
  });

  test('GD with the decay after the catapults (T:L3461): raises as given, decays to factor × η_crit(t) only after a catapult ended', () => {
    const before = tf.memory().numTensors;
    const r = agopRun(tiny({ raises: { at: [20, 40], critical: [1.5, 3] }, decay: { factor: 0.9, every: 5 }, stopLoss: undefined, maxSteps: 80 }));
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    const ev = r.lrEvents!;
    assert.deepEqual(ev.filter((e) => e.kind === 'raise').map((e) => [e.step, e.lr / r.etaCrit]).map(([s, m]) => [s, +m.toFixed(9)]), [[20, 1.5], [40, 3]]);
    for (const e of ev.filter((x) => x.kind === 'decay')) {
      assert.ok(e.step > 20, `decay at ${e.step} before the first raise`);
      assert.ok(Math.abs(e.lr - 0.9 * e.critical) < 1e-12);
      assert.equal((e.step - 1) % 5, 0, 'checked at a multiple of every, applied from the next update');
    }
    // The raise schedule itself is unchanged; without decay there are no events.
    assert.deepEqual(r.lrSchedule.at, [0, 20, 40]);
    assert.equal(agopRun(tiny({ maxSteps: 5 })).lrEvents, undefined);
  });

  test('SGD run: the catapult count is the number of updates before the best iterate with η > b/λ_max(K(X_batch))', () => {
    const r = agopRun(tiny({ batchSize: 4, lr: { critical: 0.5 }, maxSteps: 40, evalEvery: 10, criticalEvery: 1 }));
    assert.notEqual(r.status, 'diverged');
    assert.equal(r.batchCrit.step.length, r.steps);
    const lr = r.lrSchedule.values[0];
    const want = r.batchCrit.step.filter((s, i) => s < r.best.step && lr - r.batchCrit.value[i] > 1e-8).length;
    assert.equal(r.best.catapults, want);
    assert.equal(r.catapultsTotal, r.batchCrit.value.filter((v) => lr - v > 1e-8).length);
    // a batch's critical rate is b over the top eigenvalue of its own 4 x 4 kernel, so it varies from batch to batch
    assert.ok(new Set(r.batchCrit.value.map((v) => v.toFixed(6))).size > 1);
  });

  test('loss split on the full training-set NTK: L_{≤1} + L_{>1} = L at every recorded step', () => {
    const r = agopRun(tiny({ batchSize: 4, maxSteps: 12, evalEvery: 10, split: { s: 1, every: 2, until: 8 } }));
    const sp = r.split!;
    assert.deepEqual(sp.step, [0, 2, 4, 6, 8]);
    sp.step.forEach((_, i) => {
      assert.ok(Math.abs(sp.lossTop[i] + sp.lossRest[i] - sp.loss[i]) <= 1e-3 * sp.loss[i], `step ${sp.step[i]}: ${sp.lossTop[i]} + ${sp.lossRest[i]} vs ${sp.loss[i]}`);
      assert.ok(sp.kernelNorm[i] > 0);
    });
    assert.ok(Math.abs(sp.kernelNorm[0] - r.lambda0) <= 1e-3 * r.lambda0);
  });

  test('config errors name the bad value', () => {
    assert.throws(() => agopRun(tiny({ batchSize: 41 })), /agopRun: batchSize = 41; expected an integer in \[1, nTrain = 40\]/);
    assert.throws(() => agopRun(tiny({ evalEvery: 0 })), /agopRun: evalEvery = 0; expected a positive integer/);
    assert.throws(() => agopRun(tiny({ raises: { at: [1, 2], critical: [2] } })), /raises has 2 steps and 1 values/);
  });

  test('summaries, tables and heatmap normalisation', () => {
    const fake = (a: number, t: number, c: number) => ({ result: { best: { alignment: a, testLoss: t, catapults: c }, status: 'converged', steps: 10 } as never });
    const rows = summarizeRuns([{ k: 'x', ...fake(0.5, 1, 2) }, { k: 'x', ...fake(0.7, 3, 4) }, { k: 'y', ...fake(0.9, 0.1, 9) }], (r) => r.k);
    assert.deepEqual(rows.map((r) => r.key), ['x', 'y']);
    assert.ok(Math.abs(rows[0].alignment.mean - 0.6) < 1e-12 && Math.abs(rows[0].testLoss.std - Math.SQRT2) < 1e-12);
    assert.ok(Number.isNaN(rows[1].alignment.std));
    assert.deepEqual(minMaxNormalize([2, 4, 3]), [0, 1, 0.5]);
    assert.deepEqual(minMaxNormalize([1, 1]), [0, 0]);
    assert.equal(textTable(['a', 'bb'], [[1, 0.5], ['x', 12]]), 'a  bb\n-  -----\n1  0.500\nx  12');
  });

  test('agop of the bias-free net on test inputs is d × d and symmetric', () => {
    const net = agopNetwork({ d: 5, hidden: [8] });
    const p = net.init(2);
    const x = tensorOf(seededMatrix(10, 5, 4));
    const G = agop(net, p, x);
    const g = G.arraySync();
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) assert.ok(Math.abs(g[i][j] - g[j][i]) < 1e-5);
    tf.dispose([G, x, ...Object.values(p)]);
  });
});
