// Issue 30 §5: an operation too large for the wasm heap is refused before anything is allocated, naming the size,
// the limit and a way out; the backend stays usable (a failed wasm allocation used to corrupt the heap, and every
// later kernel in the process failed with "memory access out of bounds" until a restart).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../lib/core/backend.js';
import { WASM_HEAP_MAX, checkDeviceMemory, deviceMemory } from '../lib/core/memory-budget.js';
import { tangentKernel } from '../lib/analysis/ntk.js';
import { criticalLearningRate } from '../lib/analysis/critical.js';
import { hessianSpectralNorm } from '../lib/analysis/hessian.js';
import { crossEntropy } from '../lib/analysis/losses.js';
import { fcn } from '../lib/nets/fcn.js';

let onWasm = false;
before(async () => {
  await initBackend();
  onWasm = tf.getBackend() === 'wasm';
});

describe('resource limits of the wasm heap', () => {
  test('the budget is the heap limit less the tensors alive', (t) => {
    if (!onWasm) return t.skip('backend is not wasm: no fixed device limit');
    const m0 = deviceMemory()!;
    assert.equal(m0.limit, WASM_HEAP_MAX);
    const big = tf.zeros([1000, 1000]);
    const m1 = deviceMemory()!;
    assert.equal(m1.inUse - m0.inUse, 4e6);
    assert.equal(m0.free - m1.free, 4e6);
    big.dispose();
    assert.throws(() => checkDeviceMemory('f', 'a thing', 5e9, 'Do less.'), /^Error: f: a thing needs about 5\.00 GB of tensor memory at its peak; expected at most 4\.0\d GB, what the wasm heap can still allocate \(limit 4\.29 GB, .* in use by tensors\)\. Do less\.$/);
    checkDeviceMemory('f', 'a small thing', 1e6, 'never said');
  });

  test('tangentKernel at n = 12 000 is refused with the size, the limit and a way out; a 3 x 3 kernel still works after', (t) => {
    if (!onWasm) return t.skip('backend is not wasm: no fixed device limit');
    const net = fcn({ widths: [1, 16, 1], activation: 'tanh' });
    const w = net.init(0);
    const x = tf.linspace(-1, 1, 12_000).reshape([12_000, 1]);
    const before = tf.memory().numTensors;
    assert.throws(
      () => tangentKernel(net, w, x),
      /^Error: tangentKernel: the 12000 x 12000 kernel of n = 12000 inputs and C = 1 output needs about 4\.61 GB of tensor memory at its peak; expected at most 4\.0\d GB, what the wasm heap can still allocate \(limit 4\.29 GB, .*\)\. Use fewer inputs \(a subsample of x\), or kernelTopEigenvalues\(net, params, x\)/,
    );
    assert.equal(tf.memory().numTensors, before, 'nothing allocated by the refused call is left');
    const K = tangentKernel(net, w, tf.tensor2d([[0], [0.5], [1]]));
    assert.deepEqual(K.shape, [3, 3]);
    assert.ok(Array.from(K.dataSync()).every(Number.isFinite));
    tf.dispose([K, x]);
    pvDispose(w);
  });

  test('the Jacobian path and the cross-entropy critical rate are budgeted too', (t) => {
    if (!onWasm) return t.skip('backend is not wasm: no fixed device limit');
    // 3.25 M parameters x 1000 rows of J, and W1's block of it stacked: 26 GB.
    const wide = fcn({ widths: [784, 4096, 10], activation: 'relu' });
    const w = wide.init(0);
    const x = tf.zeros([100, 784]);
    assert.throws(() => tangentKernel(wide, w, x, { method: 'jacobian' }), /tangentKernel: the 1000 x 1000 kernel of n = 100 inputs and C = 10 outputs \(Jacobian of 3252224 parameters\) needs about 25\.87 GB/);
    tf.dispose(x);
    pvDispose(w);
    // Cross-entropy on n = 8000, C = 2: (nC)² floats are 1 GB, too large for the kernel already.
    const net = fcn({ widths: [1, 4, 2], activation: 'tanh' });
    const w2 = net.init(0);
    const n = 8000;
    const x2 = tf.linspace(-1, 1, n).reshape([n, 1]);
    const y2 = tf.oneHot(tf.zeros([n], 'int32'), 2).toFloat();
    assert.throws(() => criticalLearningRate(net, w2, x2, y2, crossEntropy()), /tangentKernel: the 16000 x 16000 kernel of n = 8000 inputs and C = 2 outputs needs about \d+\.\d\d GB of tensor memory/);
    tf.dispose([x2, y2]);
    pvDispose(w2);
  });

  test('Lanczos on the loss or model Hessian keeps maxIter parameter-sized vectors: budgeted', (t) => {
    if (!onWasm) return t.skip('backend is not wasm: no fixed device limit');
    // 3.25 M parameters x (maxIter + 3) float32 vectors: 4.2 GB at maxIter = 320.
    const wide = fcn({ widths: [784, 4096, 10], activation: 'relu' });
    const w = wide.init(0);
    const x = tf.zeros([2, 784]);
    const y = tf.zeros([2, 10]);
    assert.throws(() => hessianSpectralNorm(wide, w, x, { maxIter: 320 }), /^Error: hessianSpectralNorm: Lanczos with maxIter = 320 on 3252224 parameters needs about 4\.2\d GB of tensor memory at its peak; expected at most .*\. Lower maxIter or use method: 'power' \(two vectors\)\./);
    assert.throws(() => criticalLearningRate(wide, w, x, y, 'mse', { method: 'hessian', maxIter: 320 }), /^Error: criticalLearningRate: Lanczos with maxIter = 320 on 3252224 parameters needs about 4\.2\d GB/);
    tf.dispose([x, y]);
    pvDispose(w);
  });
});

function pvDispose(p: Record<string, tf.Tensor>): void {
  tf.dispose(Object.values(p));
}
