import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import { initBackend } from '../lib/core/backend.js';
import { installWasmKernelOverrides } from '../lib/core/wasm-kernels.js';

describe('wasm kernel overrides', () => {
  before(async () => {
    await initBackend();
    if (tf.getBackend() !== 'wasm') {
      await import('@tensorflow/tfjs-backend-wasm');
      await tf.setBackend('wasm');
    }
    installWasmKernelOverrides();
  });

  test('Identity shares the data: a clone outlives its source and keeps its values', () => {
    const before = tf.memory().numTensors;
    const buffers = () => tf.backend().numDataIds();
    const b0 = buffers();
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const y = tf.clone(x);
    assert.equal(buffers(), b0 + 1, 'one wasm buffer for x and its clone');
    x.dispose();
    assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4]);
    y.dispose();
    assert.equal(tf.memory().numTensors, before);
    assert.equal(buffers(), b0);
  });

  test('Cast to the same dtype shares the data; other casts convert', () => {
    const before = tf.memory().numTensors;
    const buffers = () => tf.backend().numDataIds();
    const b0 = buffers();
    const x = tf.tensor1d([1.5, -2, 0]);
    const y = tf.cast(x, 'float32');
    assert.equal(buffers(), b0 + 1, 'one wasm buffer for x and its same-dtype cast');
    const i = tf.cast(x, 'int32');
    const f = tf.cast(i, 'float32');
    assert.equal(buffers(), b0 + 3);
    x.dispose();
    assert.deepEqual(Array.from(y.dataSync()), [1.5, -2, 0]);
    assert.equal(i.dtype, 'int32');
    assert.deepEqual(Array.from(i.dataSync()), [1, -2, 0]);
    assert.deepEqual(Array.from(f.dataSync()), [1, -2, 0]);
    tf.dispose([y, i, f]);
    assert.equal(tf.memory().numTensors, before);
    assert.equal(buffers(), b0);
  });

  test('gradients that save tensors (engine clones) are unchanged and leak nothing', () => {
    const a = tf.tensor2d([[0.5, -1], [2, 0.25]]);
    const b = tf.tensor2d([[1, 2], [3, -4]]);
    const n0 = tf.memory().numTensors;
    const [ga, gb] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.tanh(tf.matMul(p, q)), p)))([a, b]);
    // d/da sum(tanh(ab) * a) = tanh(ab) + ((1 - tanh^2(ab)) * a) b^T; d/db = a^T ((1 - tanh^2(ab)) * a)
    const av = [[0.5, -1], [2, 0.25]];
    const bv = [[1, 2], [3, -4]];
    const z = av.map((r) => [0, 1].map((j) => r[0] * bv[0][j] + r[1] * bv[1][j]));
    const t = z.map((r) => r.map(Math.tanh));
    const s = t.map((r, i) => r.map((v, j) => (1 - v * v) * av[i][j]));
    const wantA = t.map((r, i) => r.map((v, j) => v + s[i][0] * bv[j][0] + s[i][1] * bv[j][1]));
    const wantB = [0, 1].map((i) => [0, 1].map((j) => av[0][i] * s[0][j] + av[1][i] * s[1][j]));
    const close = (got: ArrayLike<number>, want: number[][], what: string) =>
      want.flat().forEach((w, i) => assert.ok(Math.abs(got[i] - w) <= 1e-5 * Math.max(1, Math.abs(w)), `${what}[${i}] = ${got[i]}; expected ${w}`));
    close(ga.dataSync(), wantA, 'd/da');
    close(gb.dataSync(), wantB, 'd/db');
    tf.dispose([ga, gb]);
    assert.equal(tf.memory().numTensors, n0);
    tf.dispose([a, b]);
  });
});
