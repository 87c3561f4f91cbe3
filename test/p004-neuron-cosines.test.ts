// 004 Fig 3 as the paper measures it: the neuron-gradient cosines after full-batch GD (004 L352, L359).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../lib/core/backend.js';
import { fcn } from '../lib/nets/fcn.js';
import { mse } from '../lib/analysis/losses.js';
import { criticalLearningRate } from '../lib/analysis/critical.js';
import { neuronGradientCosines } from '../lib/analysis/neurons.js';
import { train } from '../lib/train/train.js';
import { cosinesAfterGd, cosinesAtInit, fig3CosinesAfterGd, fig3GdSummary, fig3LayerMean, type Fig3Gd, type Fig3Trained } from '../lib/experiments/p004-neuron-cosines.js';

const net = fcn({ widths: [5, 6, 4, 6, 1], activation: 'tanh' });
const data = () => ({
  x: tf.randomNormal([6, 5], 0, 1, 'float32', 3) as tf.Tensor2D,
  y: tf.tensor2d([1, -1, 1, 1, -1, -1], [6, 1]),
});
const gd: Fig3Gd = { lrFraction: 0.25, lossBelow: 1e-3, maxSteps: 20_000 };

before(async () => {
  await initBackend();
});

describe('004 Fig 3 after GD', () => {
  test('cosinesAfterGd: the init cosines are those of the draw, the trained ones those of the GD iterate at the stated rate', () => {
    const { x, y } = data();
    const before = tf.memory().numTensors;
    const r = cosinesAfterGd(net, x, y, 7, gd);
    assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
    assert.equal(r.status, 'converged');
    assert.ok(r.finalLoss < gd.lossBelow && r.initialLoss > gd.lossBelow, `loss ${r.initialLoss} -> ${r.finalLoss}`);
    assert.deepEqual(r.atInit, cosinesAtInit(net, x, 7));
    // The same GD written out: the rate is a quarter of 2/λ_max of the mean square loss at initialisation.
    const params = net.init(7);
    const eta = criticalLearningRate(net, params, x, y, mse('mean')).eta;
    assert.equal(r.lr, 0.25 * eta);
    const t = train({ net, params, x, y, loss: mse('mean'), lr: r.lr, steps: gd.maxSteps, stop: { lossBelow: gd.lossBelow, divergeAbove: 1e6 } });
    assert.equal(t.steps, r.steps);
    assert.deepEqual(r.trained, neuronGradientCosines(net, t.params, x, [2, 3]));
    // Training moves this narrow net: the cosines differ from those at initialisation.
    assert.notDeepEqual(r.trained, r.atInit);
    tf.dispose([x, y, ...Object.values(params), ...Object.values(t.params)]);
  });

  test('cosinesAfterGd: a cap that binds ends at max-steps; a diverging rate gives NaN trained cosines', () => {
    const { x, y } = data();
    const capped = cosinesAfterGd(net, x, y, 7, { ...gd, maxSteps: 2 });
    assert.equal(capped.status, 'max-steps');
    assert.equal(capped.steps, 2);
    const diverged = cosinesAfterGd(net, x, y, 7, { ...gd, lrFraction: 40 });
    assert.equal(diverged.status, 'diverged');
    assert.ok(diverged.trained.every((c) => Number.isNaN(c.meanAbsCos)));
    assert.ok(diverged.atInit.every((c) => Number.isFinite(c.meanAbsCos)));
    tf.dispose([x, y]);
  });

  test('fig3LayerMean and fig3GdSummary: diverged runs are left out and counted, a binding cap is said', () => {
    const run = (cos: number, status: Fig3Trained['status'], steps: number, finalLoss: number): Fig3Trained => ({
      atInit: [{ layer: 2, width: 4, meanAbsCos: 0.5 }],
      trained: [{ layer: 2, width: 4, meanAbsCos: cos }],
      status, steps, initialLoss: 1, finalLoss, lr: 0.1,
    });
    const runs = [run(0.2, 'converged', 40, 5e-5), run(0.4, 'max-steps', 100, 3e-3), run(NaN, 'diverged', 7, Infinity)];
    assert.equal(fig3LayerMean(runs, 2, 'trained'), 0.30000000000000004);
    assert.equal(fig3LayerMean(runs, 2, 'atInit'), 0.5);
    assert.throws(() => fig3LayerMean(runs, 3, 'trained'), /fig3LayerMean: layer = 3; expected one of the measured layers 2/);
    assert.throws(() => fig3LayerMean(runs, 2, 'end' as 'trained'), /fig3LayerMean: when = "end"; expected one of 'atInit', 'trained'/);
    const s = fig3GdSummary(runs, { lrFraction: 0.25, lossBelow: 1e-4, maxSteps: 100 });
    assert.match(s, /^3 GD runs at 0.25 × the critical rate: 1 reached loss < 0.0001 \(at most 100 steps; largest final loss 3.0e-3, initial ≈ 1.00\)/);
    assert.match(s, /1 hit the cap of 100 steps \(final loss up to 3.0e-3\); 1 diverged \(left out of the means\)$/);
  });

  test('fig3CosinesAfterGd: one point from plain arguments (the MNIST stand-in), layers 2 and 3, no leak', () => {
    const p = { panel: 'bottleneck' as const, width: 3, seed: 0, perClass: 2, dataSeed: 0, source: 'mnist' as const, wide: 16, gd };
    fig3CosinesAfterGd(p);
    const before = tf.memory().numTensors;
    const r = fig3CosinesAfterGd(p);
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(r.trained.map((c) => [c.layer, c.width]), [[2, 3], [3, 16]]);
    assert.equal(r.status, 'converged');
  });

  test('bad arguments name the argument, the value and what was expected', () => {
    const p = { panel: 'width' as const, width: 4, seed: 0, perClass: 2, dataSeed: 0, source: 'mnist' as const };
    assert.throws(() => fig3CosinesAfterGd({ ...p, gd: { ...gd, lrFraction: 0 } }), /fig3CosinesAfterGd: gd.lrFraction = 0; expected a finite number > 0/);
    assert.throws(() => fig3CosinesAfterGd({ ...p, gd: { ...gd, maxSteps: 1.5 } }), /fig3CosinesAfterGd: gd.maxSteps = 1.5; expected an integer ≥ 0/);
    assert.throws(() => fig3CosinesAfterGd({ ...p, gd: undefined as unknown as Fig3Gd }), /fig3CosinesAfterGd: gd = undefined; expected an object of options/);
    assert.throws(() => fig3CosinesAfterGd({ ...p, panel: 'deep' as 'width', gd }), /fig3CosinesAfterGd: panel = "deep"; expected one of 'width', 'bottleneck'/);
    assert.throws(() => fig3CosinesAfterGd({ ...p, width: 0, gd }), /fig3CosinesAfterGd: width = 0; expected an integer ≥ 1/);
    const { x, y } = data();
    assert.throws(() => cosinesAfterGd(net, x, y, 0, { ...gd, lossBelow: -1 }), /cosinesAfterGd: gd.lossBelow = -1; expected a finite number > 0/);
    tf.dispose([x, y]);
  });
});
