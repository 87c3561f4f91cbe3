import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import { initBackend } from '../lib/core/backend.js';
import { zeroProbe } from '../lib/core/probe.js';

/** Value and gradients (in z and the probe) of sum(w ∘ relu(zeroProbe(z, p))) and of the same with z + p. */
function run(probe: (z: tf.Tensor, p: tf.Tensor) => tf.Tensor) {
  return tf.tidy(() => {
    const z = tf.tensor2d([[1.5, -2, 0], [-0.25, 3, 7]]);
    const w = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const p = tf.fill([2, 3], 0);
    const f = (zz: tf.Tensor, pp: tf.Tensor) => tf.sum(tf.mul(w, tf.relu(probe(zz, pp))));
    const { value, grads } = tf.valueAndGrads(f)([z, p]);
    return [value, ...grads].map((t) => Array.from(t.dataSync()));
  });
}

for (const backend of ['wasm', 'cpu']) {
  describe(`zeroProbe on ${backend}`, () => {
    let previous = '';
    before(async () => {
      await initBackend();
      previous = tf.getBackend();
      if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
      await tf.setBackend(backend);
    });
    after(async () => {
      await tf.setBackend(previous);
    });

    test('value z, gradient dy in both z and the probe: those of z + 0', () => {
      assert.deepEqual(run(zeroProbe), run((z, p) => tf.add(z, p)));
      const [value, dz, dp] = run(zeroProbe);
      assert.deepEqual(value, [1 * 1.5 + 5 * 3 + 6 * 7]);
      assert.deepEqual(dz, [1, 0, 0, 0, 5, 6]);
      assert.deepEqual(dp, dz);
    });

    test('the output shares nothing the caller can break, and leaks nothing', () => {
      const z = tf.tensor1d([1, 2, 3]);
      const p = tf.zeros([3]);
      const before = tf.memory().numTensors;
      const y = zeroProbe(z, p);
      z.dispose();
      assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3]);
      y.dispose();
      assert.equal(tf.memory().numTensors, before - 1);
      p.dispose();
    });

    test('a probe of another shape or dtype is named', () => {
      tf.tidy(() => {
        assert.throws(() => zeroProbe(tf.zeros([2, 3]), tf.zeros([3, 2])), /^Error: zeroProbe: probe is float32 \[3,2\]; expected float32 \[2,3\], the shape of z$/);
        assert.throws(() => zeroProbe(tf.zeros([2]), tf.zeros([2], 'int32')), /zeroProbe: probe is int32 \[2\]; expected float32 \[2\]/);
      });
    });
  });
}
