// Every public analysis routine leaves the tensor count as it found it (outputs it returns excepted).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../lib/core/backend.js';
import { pv } from '../lib/core/params.js';
import { agop } from '../lib/analysis/agop.js';
import { criticalLearningRate, lossHvp } from '../lib/analysis/critical.js';
import { hvp, jvp, mixedSecond, perSampleGradients, vjp } from '../lib/analysis/derivatives.js';
import { hessianBlockNorms, hessianSpectralNorm, randomDirection } from '../lib/analysis/hessian.js';
import { crossEntropy, mse } from '../lib/analysis/losses.js';
import { kernelEigen, kernelTopEigenvalues, lossDecomposition, relativeKernelChange, tangentKernel } from '../lib/analysis/ntk.js';
import { fcn } from '../lib/nets/fcn.js';
import { taylorCoefficients } from '../lib/nets/network.js';

/** Runs `f` twice (the first call may create lazily cached state) and asserts the second leaves no tensor behind. */
function noLeak(name: string, f: () => tf.Tensor | tf.Tensor[] | Record<string, tf.Tensor> | unknown): void {
  const dispose = (out: unknown) => {
    if (out instanceof tf.Tensor) out.dispose();
    else if (Array.isArray(out)) out.forEach(dispose);
    else if (out && typeof out === 'object' && Object.values(out).every((v) => v instanceof tf.Tensor)) pv.dispose(out as Record<string, tf.Tensor>);
  };
  dispose(f());
  const before = tf.memory().numTensors;
  dispose(f());
  assert.equal(tf.memory().numTensors - before, 0, `${name} leaks ${tf.memory().numTensors - before} tensor(s) per call`);
}

describe('no tensor leaks in the public analysis routines', () => {
  before(async () => {
    await initBackend();
  });

  test('derivatives, kernels, Hessians, critical rates, cosines, AGOP, Taylor coefficients', () => {
    const net = fcn({ widths: [3, 16, 16, 2], activation: 'tanh' });
    const w = net.init(0);
    const x = tf.randomNormal([5, 3], 0, 1, 'float32', 1);
    const y = tf.randomNormal([5, 2], 0, 1, 'float32', 2);
    const v = randomDirection(w, 3);
    const net1 = fcn({ widths: [3, 16, 1], activation: 'tanh' });
    const w1 = net1.init(0);
    noLeak('jvp', () => jvp(net, w, v, x));
    noLeak('vjp', () => vjp(net, w, x));
    noLeak('hvp', () => hvp(net, w, v, x));
    noLeak('mixedSecond', () => mixedSecond(net, w, v, v, x));
    noLeak('perSampleGradients', () => perSampleGradients(net, w, x));
    noLeak('taylorCoefficients', () => taylorCoefficients(net, w, v, x, 3));
    noLeak('tangentKernel layerwise', () => tangentKernel(net, w, x, { method: 'layerwise' }));
    noLeak('tangentKernel jacobian', () => tangentKernel(net, w, x, { method: 'jacobian' }));
    const K = tangentKernel(net, w, x);
    const K2 = tangentKernel(net, v, x);
    noLeak('kernelEigen', () => kernelEigen(K, 3));
    noLeak('relativeKernelChange', () => relativeKernelChange(K2, K));
    noLeak('lossDecomposition', () => lossDecomposition(K, y, 2));
    noLeak('kernelTopEigenvalues', () => kernelTopEigenvalues(net, w, x, { k: 2 }));
    noLeak('hessianSpectralNorm lanczos', () => hessianSpectralNorm(net1, w1, x));
    noLeak('hessianSpectralNorm power', () => hessianSpectralNorm(net1, w1, x, { method: 'power', maxIter: 20 }));
    const x1 = tf.slice(x, [0], [1]);
    noLeak('hessianSpectralNorm power tol 0', () => hessianSpectralNorm(net1, w1, x1, { method: 'power', maxIter: 30, tol: 0 }));
    noLeak('hessianBlockNorms', () => hessianBlockNorms(net1, w1, x, { iters: 5 }));
    noLeak('lossHvp', () => lossHvp(net, w, x, y, mse('mean'), v));
    noLeak('criticalLearningRate ntk mse', () => criticalLearningRate(net, w, x, y, mse('mean')));
    const labels = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 0, 1, 1], 'int32'), 2).toFloat());
    noLeak('criticalLearningRate ntk ce', () => criticalLearningRate(net, w, x, labels, crossEntropy()));
    noLeak('criticalLearningRate hessian', () => criticalLearningRate(net, w, x, y, mse('mean'), { method: 'hessian', maxIter: 10 }));
    noLeak('agop', () => agop(net, w, x));
  });
});
