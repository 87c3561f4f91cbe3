// Bad input at the public entry points: an error naming the function, the argument, the bad value (or where
// the first NaN is) and what was expected, instead of NaN results or a message from deep inside.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../lib/core/backend.js';
import { symmetricEigen } from '../lib/core/linalg.js';
import { checkFiniteTensor } from '../lib/core/checks.js';
import { criticalLearningRate } from '../lib/analysis/critical.js';
import { hessianSpectralNorm } from '../lib/analysis/hessian.js';
import { mse } from '../lib/analysis/losses.js';
import { kernelEigen, tangentKernel } from '../lib/analysis/ntk.js';
import { fcn } from '../lib/nets/fcn.js';
import { decodeNpz, encodeNpz } from '../lib/nets/npz.js';
import { train } from '../lib/train/train.js';
import { fig1Run, fig2Run } from '../lib/experiments/p002-kernel-change.js';
import { table1Network } from '../lib/experiments/p002-hessian-scaling.js';

describe('bad input gets a clear error at the entry point', () => {
  before(async () => {
    await initBackend();
  });
  const net = fcn({ widths: [2, 8, 1], activation: 'tanh' });

  test('empty data sets', () => {
    const w = net.init(0);
    const x = tf.zeros([0, 2]);
    const y = tf.zeros([0, 1]);
    const empty = /x has shape \[0, 2\]; expected at least one example/;
    assert.throws(() => tangentKernel(net, w, x), /^Error: tangentKernel: x has shape \[0, 2\]/);
    assert.throws(() => hessianSpectralNorm(net, w, x), /hessianSpectralNorm: x has shape \[0, 2\]; expected at least one example/);
    assert.throws(() => criticalLearningRate(net, w, x, y, mse('mean')), empty);
    assert.throws(() => train({ net, params: w, x, y, loss: mse('mean'), lr: 0.1, steps: 1 }), /train: x has shape \[0, 2\]/);
  });

  test('NaN and infinite inputs, targets and parameters are located', () => {
    const w = net.init(0);
    const x = tf.tensor2d([[0, 1], [2, NaN]]);
    const y = tf.tensor2d([[1], [Infinity]]);
    const good = tf.tensor2d([[0, 1], [2, 3]]);
    assert.throws(() => tangentKernel(net, w, x), /tangentKernel: x\[1, 1\] = NaN; expected finite values/);
    assert.throws(() => criticalLearningRate(net, w, good, y, mse('mean')), /criticalLearningRate: y\[1, 0\] = Infinity; expected finite values/);
    const bad = { ...w, W1: tf.tidy(() => w.W1.clone().mul(tf.scalar(NaN))) };
    assert.throws(() => hessianSpectralNorm(net, bad, good), /hessianSpectralNorm: params\.W1\[0, 0\] = NaN; expected finite values/);
    assert.throws(() => train({ net, params: bad, x: good, y: tf.ones([2, 1]), loss: mse('mean'), lr: 0.1, steps: 1 }), /train: params\.W1\[0, 0\] = NaN/);
  });

  test('large tensors are checked on the device and still located; a tensor found finite is not read again', () => {
    const vals = new Float32Array(100 * 50).fill(0.5);
    vals[99 * 50 + 7] = -Infinity;
    const big = tf.tensor2d(vals, [100, 50]);
    assert.throws(() => checkFiniteTensor('f', 'x', big), /f: x\[99, 7\] = -Infinity; expected finite values/);
    assert.throws(() => checkFiniteTensor('f', 'x', big), /f: x\[99, 7\] = -Infinity/, 'a failed tensor is checked again');
    const ok = tf.fill([100, 50], 1e38);
    checkFiniteTensor('f', 'ok', ok);
    let reads = 0;
    const dataSync = ok.dataSync.bind(ok);
    ok.dataSync = (() => { reads++; return dataSync(); }) as typeof ok.dataSync;
    checkFiniteTensor('f', 'ok', ok);
    assert.equal(reads, 0);
    const v = tf.variable(tf.ones([100, 50]));
    checkFiniteTensor('f', 'v', v);
    v.assign(tf.fill([100, 50], NaN));
    assert.throws(() => checkFiniteTensor('f', 'v', v), /f: v\[0, 0\] = NaN/, 'variables are checked every time');
    tf.dispose([big, ok, v]);
  });

  test('non-symmetric matrices are refused by the symmetric eigensolvers', () => {
    assert.throws(() => symmetricEigen([1, 2, 3, 4], 2), /symmetricEigen: matrix\[1, 0\] = 3 but matrix\[0, 1\] = 2; expected a symmetric matrix/);
    assert.throws(() => kernelEigen(tf.tensor2d([[1, 2], [0, 1]])), /kernelEigen: K\[1, 0\] = 0 but K\[0, 1\] = 2; expected a symmetric matrix/);
    assert.throws(() => kernelEigen(tf.tensor2d([[1, 2, 3]])), /kernelEigen: K has shape \[1, 3\]; expected a non-empty square matrix/);
    assert.throws(() => symmetricEigen([1, NaN, NaN, 1], 2), /symmetricEigen: matrix\[0, 1\] = NaN; expected finite values/);
    assert.deepEqual(Array.from(symmetricEigen([2, 1, 1, 2], 2).values).map((v) => +v.toFixed(12)), [3, 1]);
  });

  test('experiment options outside their allowed sets', () => {
    assert.throws(() => fig1Run({ m: 8, seed: 0, objective: 'mse' as 'ce', steps: 1, kernelEvery: 1 }), /fig1Run: objective = "mse"; expected one of 'ce', 'swish-mse'/);
    assert.throws(() => fig2Run({ m: 8, mb: 2, seed: 0, steps: 1, kernelEvery: 1, bottleneckScale: 'paper' as 'ntk' }), /fig2Run: bottleneckScale = "paper"; expected one of 'as-written', 'ntk'/);
    assert.throws(() => table1Network('linear' as 'bottleneck', 10), /table1Network: model = "linear"; expected one of/);
    assert.throws(() => fig1Run({ m: 0, seed: 0, objective: 'ce', steps: 1, kernelEvery: 1 }), /fig1Run: m = 0; expected an integer ≥ 1/);
  });

  test('an .npz whose header disagrees with its data', () => {
    const good = encodeNpz({ W: { shape: [2, 3], data: new Float32Array(6) } });
    // Rewrite the shape in the .npy header, keep the zip consistent: encode a body claiming 4 x 3 with 6 floats.
    const lying = Buffer.from(good);
    const at = lying.indexOf('(2, 3)');
    lying.write('(4, 3)', at, 'latin1');
    // The CRC no longer matches either: first the CRC check fires; with the CRC fixed, the size check.
    assert.throws(() => decodeNpz(lying, 'p.npz'), /p\.npz: entry 'W\.npy' fails its CRC check/);
    const relabelled = encodeNpz({ W: { shape: [4, 3], data: new Float32Array(6) } });
    assert.throws(() => decodeNpz(relabelled, 'q.npz'), /q\.npz:W\.npy: header shape = \(4, 3\) with dtype <f4 needs 48 data bytes; expected the entry to hold them, found 24/);
    assert.throws(() => decodeNpz(good.subarray(0, 60), 'cut.npz'), /cut\.npz is not a zip\/npz file|cut\.npz: /);
  });
});
