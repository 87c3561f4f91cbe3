import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../lib/core/backend.js';
import { criticalLearningRate, criticalSchedule } from '../lib/analysis/critical.js';
import { twoClusterData } from '../lib/data/two-cluster.js';
import { fcn } from '../lib/nets/fcn.js';
import { mse } from '../lib/analysis/losses.js';
import { optimizer } from '../lib/train/optimizers.js';
import { schedule } from '../lib/train/schedules.js';
import { nqm } from '../lib/nets/taylor-models.js';
import { train } from '../lib/train/train.js';
import { kernelChange, ntkTopEigenvalues, trainLoss } from '../lib/train/trackers.js';
import { seededMatrix, tensorOf } from './helpers.js';

before(async () => {
  await initBackend();
});

describe('optimizers match hand-computed PyTorch updates', () => {
  const p0 = [1, -2];
  const grads = [
    [0.5, 1],
    [-0.25, 2],
  ];
  /** Runs two steps of the optimizer on parameter w with the given gradients. */
  const run = (spec: Parameters<typeof optimizer>[0], lr: number) => {
    const opt = optimizer(spec);
    let params = { w: tf.tensor1d(p0) };
    let state = opt.init(params);
    for (const g of grads) ({ params, state } = opt.step(params, { w: tf.tensor1d(g) }, state, lr) as { params: typeof params; state: typeof state });
    return Array.from(params.w.dataSync());
  };
  const close = (a: number[], b: number[]) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5, `${a} vs ${b}`));
  const hand = (f: (p: number, g: number[], i: number) => number) => p0.map((p, i) => f(p, grads.map((g) => g[i]), i));

  test('gd / sgd', () => close(run('gd', 0.1), hand((p, g) => p - 0.1 * g[0] - 0.1 * g[1])));
  test('sgd momentum 0.9', () => close(run({ name: 'sgd', momentum: 0.9 }, 0.1), hand((p, g) => p - 0.1 * g[0] - 0.1 * (0.9 * g[0] + g[1]))));
  test('sgd nesterov', () =>
    close(run({ name: 'sgd', momentum: 0.9, nesterov: true }, 0.1), hand((p, g) => p - 0.1 * (g[0] + 0.9 * g[0]) - 0.1 * (g[1] + 0.9 * (0.9 * g[0] + g[1])))));
  test('rmsprop', () =>
    close(run('rmsprop', 0.01), hand((p, g) => {
      const v1 = 0.01 * g[0] ** 2;
      const v2 = 0.99 * v1 + 0.01 * g[1] ** 2;
      return p - (0.01 * g[0]) / (Math.sqrt(v1) + 1e-8) - (0.01 * g[1]) / (Math.sqrt(v2) + 1e-8);
    })));
  test('adagrad', () =>
    close(run('adagrad', 0.01), hand((p, g) => p - (0.01 * g[0]) / (Math.abs(g[0]) + 1e-10) - (0.01 * g[1]) / (Math.sqrt(g[0] ** 2 + g[1] ** 2) + 1e-10))));
  test('adadelta', () =>
    close(run('adadelta', 1), hand((p, g) => {
      const v1 = 0.1 * g[0] ** 2;
      const d1 = (Math.sqrt(1e-6) / Math.sqrt(v1 + 1e-6)) * g[0];
      const u1 = 0.1 * d1 ** 2;
      const v2 = 0.9 * v1 + 0.1 * g[1] ** 2;
      const d2 = (Math.sqrt(u1 + 1e-6) / Math.sqrt(v2 + 1e-6)) * g[1];
      return p - d1 - d2;
    })));
  test('adam', () =>
    close(run('adam', 1e-3), hand((p, g) => {
      let m = 0;
      let v = 0;
      let q = p;
      g.forEach((gi, t) => {
        m = 0.9 * m + 0.1 * gi;
        v = 0.999 * v + 0.001 * gi ** 2;
        const mh = m / (1 - 0.9 ** (t + 1));
        const vh = v / (1 - 0.999 ** (t + 1));
        q -= (1e-3 * mh) / (Math.sqrt(vh) + 1e-8);
      });
      return q;
    })));
  test('schedules: steps and cyclical', () => {
    const s = schedule({ kind: 'steps', lr: 1, at: [10, 20], values: [5, 8] });
    assert.deepEqual([s(0), s(9), s(10), s(19), s(20), s(100)], [1, 1, 5, 5, 8, 8]);
    const c = schedule({ kind: 'cyclical', base: 0.1, max: 1.1, stepSize: 5 });
    assert.ok(Math.abs(c(0) - 0.1) < 1e-12 && Math.abs(c(5) - 1.1) < 1e-12 && Math.abs(c(10) - 0.1) < 1e-12 && Math.abs(c(2) - 0.5) < 1e-12);
  });
});

describe('critical learning rates', () => {
  const xs = seededMatrix(12, 4, 3);
  const ys = seededMatrix(12, 1, 4);
  const net = fcn({ widths: [4, 1], activation: [], parameterization: 'standard' });
  for (const [convention, factor] of [['halfSum', 2], ['mean', 12]] as const) {
    test(`GD on a linear model converges below and diverges above eta_crit (${convention}: ${factor === 2 ? '2' : 'n'}/lambda_max)`, () => {
      const x = tensorOf(xs);
      const y = tensorOf(ys);
      const params = net.init(1);
      const loss = mse(convention);
      const crit = criticalLearningRate(net, params, x, y, loss);
      assert.ok(Math.abs(crit.eta - factor / crit.lambda) < 1e-9 * crit.eta);
      // The exact loss Hessian gives the same value for a linear model.
      const exact = criticalLearningRate(net, params, x, y, loss, { method: 'hessian', tol: 1e-8 });
      assert.ok(Math.abs(exact.eta - crit.eta) <= 1e-3 * crit.eta, `hessian ${exact.eta} vs ntk ${crit.eta}`);
      const below = train({ net, params, x, y, loss, lr: criticalSchedule(0.98, net, params, x, y, loss), steps: 400 });
      const above = train({ net, params, x, y, loss, lr: criticalSchedule(1.02, net, params, x, y, loss), steps: 400, stop: { divergeAbove: 1e6 } });
      const first = below.history.batchLoss.value[0] as number;
      assert.ok(below.finalLoss < first, `below: ${below.finalLoss} vs ${first}`);
      assert.equal(above.status, 'diverged');
      assert.equal(below.critical?.eta, crit.eta, 'the run records the critical rate its schedule came from');
      assert.ok(above.steps < 400);
    });
  }
});

describe('training runs', () => {
  test('NQM in the thesis Fig 3.3 setting: three regimes around eta_crit and 2 eta_crit', () => {
    const ds = twoClusterData({ n: 32, seed: 1 });
    const base = fcn({ widths: [1, 256, 1], activation: 'relu' });
    const w0 = base.init(2);
    const model = nqm(base, w0);
    const loss = mse('mean');
    const crit = criticalLearningRate(model, w0, ds.x, ds.y, loss);
    const run = (multiple: number) =>
      train({ net: model, params: w0, x: ds.x, y: ds.y, loss, lr: criticalSchedule(multiple, model, w0, ds.x, ds.y, loss), steps: 200, stop: { divergeAbove: 1e8 }, track: [trainLoss(1), ntkTopEigenvalues(1, 199)] });
    const lambda = (r: ReturnType<typeof run>) => (r.history.ntkTop.value.at(-1) as number[])[0];
    const peak = (r: ReturnType<typeof run>) => Math.max(...(r.history.loss.value as number[]));
    const sub = run(0.7);
    const cat = run(1.5);
    const div = run(2.6);
    const l0 = sub.history.loss.value[0] as number;
    // Sub-critical: monotone decrease, kernel (nearly) constant.
    assert.ok(peak(sub) <= l0 * 1.0001 && Math.abs(lambda(sub) / crit.lambda - 1) < 0.05, `sub-critical: peak ${peak(sub)} l0 ${l0} lambda ${lambda(sub)} vs ${crit.lambda}`);
    // Catapult: the loss rises then falls, and the top eigenvalue ends below 2/eta (in mean-MSE units n/eta).
    const eta = 1.5 * crit.eta;
    assert.ok(peak(cat) > 2 * l0, `catapult peak ${peak(cat)} vs initial ${l0}`);
    assert.ok(cat.status === 'max-steps' && cat.finalLoss < l0, `catapult converges: ${cat.finalLoss}`);
    assert.ok(lambda(cat) < (ds.x.shape[0] * 2) / (2 * eta) * 1.05 && lambda(cat) < crit.lambda, `catapult lambda ${lambda(cat)} vs n/eta ${ds.x.shape[0] / eta}`);
    // Beyond the maximal learning rate: divergence, reported, not thrown.
    assert.equal(div.status, 'diverged');
  });

  test('tracked kernel change grows with the learning rate; progress lines are printed', () => {
    const xs = tensorOf(seededMatrix(8, 3, 5));
    const ys = tensorOf(seededMatrix(8, 1, 6));
    const net = fcn({ widths: [3, 64, 1], activation: 'tanh' });
    const p = net.init(0);
    const lines: string[] = [];
    const r = train({ net, params: p, x: xs, y: ys, loss: 'mse(mean)', lr: 0.5, steps: 50, track: [kernelChange(10)], progress: (l) => lines.push(l), progressSeconds: 0 });
    assert.equal(r.history.kernelChange.step.at(-1), 50);
    assert.ok((r.history.kernelChange.value[0] as number) === 0);
    assert.ok(lines.length >= 50 && /step 1\/50 {2}loss/.test(lines[0]), lines[0]);
    assert.match(lines[0], /s {2}eta ≤ \d+(s|m\d\ds|h\d\dm)$/, 'an ETA to the step cap');
    assert.doesNotMatch(lines.find((l) => /step 50\/50/.test(l)) ?? 'step 50/50', /eta/, 'none at the last step');
  });

  test('bad configuration gives clear errors', () => {
    const x = tensorOf(seededMatrix(4, 2, 1));
    const y = tensorOf(seededMatrix(4, 1, 2));
    const net = fcn({ widths: [2, 3, 1], activation: 'tanh' });
    const params = net.init(0);
    assert.throws(() => train({ net, params, x, y, loss: 'mse', optimizer: 'lbfgs', lr: 0.1, steps: 1 }), /optimizer: name = 'lbfgs'; expected one of/);
    assert.throws(() => train({ net, params, x, y, loss: 'mse', lr: 0.1, steps: 1, batchSize: 5 }), /train: batchSize = 5; expected an integer in \[1, 4\]/);
    assert.throws(() => train({ net, params, x, y, loss: 'mse', lr: -0.1, steps: 1 }), /schedule: learning rate = -0.1; expected a finite learning rate >= 0/);
    assert.throws(() => train({ net, params, x, y, loss: 'hinge', lr: 0.1, steps: 1 }), /loss: name = 'hinge'; expected/);
  });
});
