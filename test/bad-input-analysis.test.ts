// Issue 30 §5: losses by name, cross-entropy on one output, Hessian options, disposed tensors and loadParams paths
// get an error naming the argument, the value and what was expected (no η = ∞, NaN or message from deep inside).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../lib/core/backend.js';
import { criticalLearningRate, criticalSchedule } from '../lib/analysis/critical.js';
import { hessianBlockNorms, hessianSpectralNorm } from '../lib/analysis/hessian.js';
import { crossEntropy, lossByName, mse } from '../lib/analysis/losses.js';
import { tangentKernel } from '../lib/analysis/ntk.js';
import { fcn } from '../lib/nets/fcn.js';
import { loadParams, saveParams } from '../lib/nets/npz.js';
import { train } from '../lib/train/train.js';

const dir = mkdtempSync(join(tmpdir(), 'tangent-bad-input-analysis-'));
after(() => rmSync(dir, { recursive: true, force: true }));
before(async () => {
  await initBackend();
});

/** Runs f and checks that it leaves no tensor behind (whether it throws or not). */
function noLeak(f: () => void): void {
  const n0 = tf.memory().numTensors;
  f();
  assert.equal(tf.memory().numTensors, n0, 'tensors left behind');
}

describe('losses by name and cross-entropy on one output', () => {
  const net = fcn({ widths: [2, 8, 1], activation: 'tanh' });
  const x = tf.tensor2d([[0, 1], [1, 0], [1, 1]]);
  const y = tf.tensor2d([[1], [0], [1]]);

  test("criticalLearningRate accepts the names train accepts ('mse' is mse('mean'), not η = ∞)", () => {
    const w = net.init(0);
    const byName = criticalLearningRate(net, w, x, y, 'mse');
    const byLoss = criticalLearningRate(net, w, x, y, mse('mean'));
    assert.ok(Number.isFinite(byName.eta) && byName.eta > 0);
    assert.equal(byName.eta, byLoss.eta);
    assert.equal(criticalLearningRate(net, w, x, y, 'mse(halfSum)').eta, criticalLearningRate(net, w, x, y, mse('halfSum')).eta);
    assert.equal(criticalSchedule(0.5, net, w, x, y, 'mse').critical.eta, byLoss.eta);
    noLeak(() => assert.throws(() => criticalLearningRate(net, w, x, y, 'hinge'), /^Error: criticalLearningRate: loss: name = 'hinge'; expected 'mse' \(= 'mse\(mean\)'\), 'mse\(halfSum\)', 'mse\(meanAll\)', 'cross-entropy' \(or 'ce'\), or a Loss/));
    assert.throws(() => criticalLearningRate(net, w, x, y, { name: 'mine' } as never), /criticalLearningRate: loss = \{"name":"mine"\}; expected 'mse'/);
    assert.throws(() => train({ net, params: w, x, y, loss: 'hinge', lr: 0.1, steps: 1 }), /^Error: train: loss: name = 'hinge'; expected 'mse'/);
    tf.dispose(Object.values(w));
  });

  test('cross-entropy on a one-output network is refused (its loss and gradient are 0 for every parameter)', () => {
    const w = net.init(0);
    const oneOutput = /loss = cross-entropy on a network with 1 output; expected at least 2 outputs \(softmax over one class is 1, so the loss and its gradient are 0 for every parameter\)\. For a binary task use 2 outputs and one-hot targets, or mse/;
    noLeak(() => assert.throws(() => criticalLearningRate(net, w, x, y, crossEntropy()), new RegExp(`^Error: criticalLearningRate: ${oneOutput.source}`)));
    noLeak(() => assert.throws(() => criticalLearningRate(net, w, x, y, 'ce', { method: 'hessian' }), oneOutput));
    noLeak(() => assert.throws(() => train({ net, params: w, x, y, loss: crossEntropy(), lr: 0.1, steps: 3 }), new RegExp(`^Error: train: ${oneOutput.source}`)));
    // Two outputs: finite and it trains.
    const two = fcn({ widths: [2, 8, 2], activation: 'tanh' });
    const w2 = two.init(0);
    const y2 = tf.tensor2d([[1, 0], [0, 1], [1, 0]]);
    assert.ok(Number.isFinite(criticalLearningRate(two, w2, x, y2, 'ce').eta));
    const r = train({ net: two, params: w2, x, y: y2, loss: 'ce', lr: 0.5, steps: 3 });
    assert.ok(r.history.batchLoss.value[0] as number > 0);
    assert.notEqual(r.history.batchLoss.value[2], r.history.batchLoss.value[0]);
    tf.dispose([...Object.values(w), ...Object.values(w2), ...Object.values(r.params), y2]);
  });

  test("targets whose shape is not the output's are named by the loss in use", () => {
    const w = net.init(0);
    const y2 = tf.ones([3, 2]);
    assert.throws(() => mse('mean').jet([tf.ones([3, 1])], y2), /^Error: mse: y has shape \[3,2\]; expected the output shape \[3,1\]/);
    assert.throws(() => crossEntropy().jet([tf.ones([3, 3])], y2), /^Error: crossEntropy: y has shape \[3,2\]/);
    noLeak(() => assert.throws(() => criticalLearningRate(net, w, x, y2, 'mse'), /criticalLearningRate: y has shape \[3,2\]; expected \[n, 1\], one column per network output \(loss mse\(mean\)\)/));
    noLeak(() => assert.throws(() => train({ net, params: w, x, y: y2, loss: 'mse', lr: 0.1, steps: 1 }), /train: y has shape \[3,2\]; expected \[n, 1\]/));
    assert.equal(lossByName('mse').name, 'mse(mean)');
    tf.dispose([...Object.values(w), y2]);
  });
});

describe('Hessian options', () => {
  const net = fcn({ widths: [2, 8, 1], activation: 'tanh' });
  const x = tf.tensor2d([[0, 1], [1, 0]]);

  test('maxIter, tol and the weights u are validated before any product', () => {
    const w = net.init(0);
    noLeak(() => assert.throws(() => hessianSpectralNorm(net, w, x, { maxIter: 0 }), /^Error: hessianSpectralNorm: maxIter = 0; expected an integer ≥ 1/));
    noLeak(() => assert.throws(() => hessianSpectralNorm(net, w, x, { maxIter: 2.5, method: 'power' }), /hessianSpectralNorm: maxIter = 2\.5; expected an integer ≥ 1/));
    noLeak(() => assert.throws(() => hessianSpectralNorm(net, w, x, { tol: NaN }), /^Error: hessianSpectralNorm: tol = NaN; expected a finite number ≥ 0/));
    noLeak(() => assert.throws(() => hessianSpectralNorm(net, w, x, { tol: -1 }), /tol = -1; expected a finite number ≥ 0/));
    const u = tf.ones([3, 1]);
    noLeak(() => assert.throws(() => hessianSpectralNorm(net, w, x, { u }), /^Error: hessianSpectralNorm: u has shape \[3, 1\]; expected \[2, 1\], the output shape/));
    const gone = tf.ones([2, 1]);
    gone.dispose();
    noLeak(() => assert.throws(() => hessianSpectralNorm(net, w, x, { u: gone }), /^Error: hessianSpectralNorm: u was disposed; expected a live tensor/));
    noLeak(() => assert.throws(() => hessianBlockNorms(net, w, x, { iters: 0 }), /^Error: hessianBlockNorms: iters = 0; expected an integer ≥ 1/));
    noLeak(() => assert.throws(() => hessianBlockNorms(net, w, x, { groups: { a: ['W9'] } }), /hessianBlockNorms: groups\.a = \["W9"\]; expected a non-empty list of trainable parameter names \(W1, W2\)/));
    const y = tf.ones([2, 1]);
    noLeak(() => assert.throws(() => criticalLearningRate(net, w, x, y, 'mse', { method: 'hessian', maxIter: 0 }), /criticalLearningRate: maxIter = 0; expected an integer ≥ 1/));
    const r = hessianSpectralNorm(net, w, x, { maxIter: 1 });
    assert.ok(Number.isFinite(r.value));
    tf.dispose([...Object.values(w), u, y]);
  });
});

describe('disposed tensors and file paths', () => {
  const net = fcn({ widths: [2, 8, 1], activation: 'tanh' });

  test('disposed params or data say so at the entry point', () => {
    const w = net.init(0);
    const x = tf.tensor2d([[0, 1], [1, 0]]);
    const y = tf.tensor2d([[1], [0]]);
    tf.dispose(Object.values(w));
    const disposed = /fcn params\['W1'\] was disposed \(params were disposed\); expected live tensors/;
    assert.throws(() => tangentKernel(net, w, x), disposed);
    assert.throws(() => hessianSpectralNorm(net, w, x), disposed);
    assert.throws(() => criticalLearningRate(net, w, x, y, 'mse'), disposed);
    assert.throws(() => train({ net, params: w, x, y, loss: 'mse', lr: 0.1, steps: 1 }), disposed);
    assert.throws(() => net.apply(w, x), disposed);
    const live = net.init(0);
    const gone = tf.tensor2d([[1], [0]]);
    gone.dispose();
    assert.throws(() => train({ net, params: live, x, y: gone, loss: 'mse', lr: 0.1, steps: 1 }), /^Error: train: y was disposed; expected a live tensor/);
    x.dispose();
    assert.throws(() => tangentKernel(net, live, x), /fcn: input x was disposed; expected a live tensor of shape \[n, 2\]/);
    assert.throws(() => train({ net, params: live, x: [[0, 1]] as never, y, loss: 'mse', lr: 0.1, steps: 1 }), /fcn: input must be a tensor/);
    tf.dispose([...Object.values(live), y]);
  });

  test('loadParams names the path and what was expected', () => {
    assert.throws(() => loadParams(dir), new RegExp(`^Error: loadParams: path = '${dir}' is a folder; expected an \\.npz file \\(as saveParams writes\\)`));
    assert.throws(() => loadParams(join(dir, 'missing.npz')), /loadParams: path = '.*missing\.npz' does not exist; expected an \.npz file/);
    assert.throws(() => loadParams('' as string), /loadParams: path = ""; expected the path of an \.npz file/);
    const w = net.init(0);
    saveParams(join(dir, 'w.npz'), w);
    const other = fcn({ widths: [2, 4, 1], activation: 'tanh' });
    noLeak(() => assert.throws(() => loadParams(join(dir, 'w.npz'), other.specs), /params in .*w\.npz\['W1'\] has shape \[8, 2\]; expected \[4, 2\]/));
    tf.dispose(Object.values(w));
  });
});
