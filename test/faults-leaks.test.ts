// Issue 11 (6): every experiment function the notebooks run, called twice in one process (as a kernel does
// on "Run All" twice), leaves no tensor behind; nor does a training run that throws.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../lib/core/backend.js';
import { loadImageSubset } from '../lib/data/images.js';
import { standardizeDataset } from '../lib/data/preprocess.js';
import { dagRun } from '../lib/experiments/p001-dag-linearity.js';
import { hessianScaling } from '../lib/experiments/p002-hessian-scaling.js';
import { fig1Run, fig2Run } from '../lib/experiments/p002-kernel-change.js';
import { approximationErrors, curvesAlong, fig1Direction, fig1Network, lineCoefficients } from '../lib/experiments/p000-multilinearity.js';
import { fig3Cosines } from '../lib/experiments/p004-neuron-cosines.js';
import { fcn } from '../lib/nets/fcn.js';
import { mse } from '../lib/analysis/losses.js';
import { neuronGradientCosines } from '../lib/analysis/neurons.js';
import { type Tracker, train } from '../lib/train/train.js';
import { kernelChange } from '../lib/train/trackers.js';

before(async () => {
  await initBackend();
});

/** Runs `fn` twice; the live tensor count after each run equals the count before the first. */
function assertNoGrowth(name: string, fn: () => unknown): void {
  const counts = [tf.memory().numTensors];
  for (let i = 0; i < 2; i++) {
    fn();
    counts.push(tf.memory().numTensors);
  }
  assert.deepEqual(counts, [counts[0], counts[0], counts[0]], `${name}: live tensors before, after run 1, after run 2 = ${counts.join(', ')}`);
}

describe('no tensor leaks across repeated runs in one process', () => {
  test('000: approximationErrors and the Fig 1 curves', () => {
    assertNoGrowth('approximationErrors', () => approximationErrors(20, 0));
    assertNoGrowth('fig1 curves', () => {
      const net = fig1Network(20);
      const params = net.init(0);
      const x = tf.tensor2d([[1]]);
      const dir = fig1Direction(net, params, x, { family: 'gradient', block: 0, seed: 1 });
      curvesAlong(net, params, x, [dir], [-1, 0, 1]);
      lineCoefficients(net, params, x, dir);
      tf.dispose([x, ...Object.values(params), ...Object.values(dir)]);
    });
  });

  test('001: dagRun', () => {
    assertNoGrowth('dagRun', () => dagRun({ m: 8, seed: 0, steps: 3, kernelEvery: 1 }));
  });

  test('002: fig1Run, fig2Run, hessianScaling', () => {
    assertNoGrowth('fig1Run ce', () => fig1Run({ m: 16, seed: 0, objective: 'ce', steps: 3, kernelEvery: 1 }));
    assertNoGrowth('fig1Run swish-mse', () => fig1Run({ m: 16, seed: 0, objective: 'swish-mse', steps: 3, kernelEvery: 1 }));
    assertNoGrowth('fig2Run', () => fig2Run({ m: 16, mb: 4, seed: 0, steps: 3, kernelEvery: 1 }));
    for (const model of ['linear-output', 'nonlinear-output', 'bottleneck'] as const) {
      assertNoGrowth(`hessianScaling ${model}`, () => hessianScaling(model, 16, 0));
    }
  });

  test('004: neuronGradientCosines, fig3Cosines and the data cell', () => {
    assertNoGrowth('neuronGradientCosines', () => {
      const net = fcn({ widths: [3, 8, 8, 1], activation: 'tanh' });
      const params = net.init(0);
      const x = tf.randomNormal([4, 3], 0, 1, 'float32', 1);
      neuronGradientCosines(net, params, x);
      tf.dispose([x, ...Object.values(params)]);
    });
    assertNoGrowth('fig3Cosines', () => fig3Cosines({ panel: 'bottleneck', width: 3, seed: 0, perClass: 2, dataSeed: 0, wide: 16 }));
    assertNoGrowth('image subset', () => {
      const raw = loadImageSubset({ source: 'auto', classes: [0, 2], perClass: 2, seed: 0 });
      const data = standardizeDataset(raw).dataset;
      data.dispose();
      raw.dispose();
    });
  });

  test('a train() that throws (a tracker fails mid-run) leaves no tensor', () => {
    assertNoGrowth('failing train', () => {
      const net = fcn({ widths: [2, 8, 1], activation: 'tanh' });
      const params = net.init(0);
      const x = tf.tensor2d([[1, 0], [0, 1], [1, 1]]);
      const y = tf.tensor2d([[1], [0], [1]]);
      let calls = 0;
      const failing: Tracker = { name: 'failing', every: 1, record: () => { if (++calls === 3) throw new Error('tracker failed'); return { failing: 0 }; } };
      assert.throws(() => train({ net, params, x, y, loss: mse('mean'), lr: 0.1, steps: 5, batchSize: 2, track: [kernelChange(1), failing] }), /tracker failed/);
      tf.dispose([x, y, ...Object.values(params)]);
    });
  });
});
