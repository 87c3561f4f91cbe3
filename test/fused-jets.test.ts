import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import { type Activation, applyActivation, sigmoid, tanh } from '../lib/core/activations.js';
import { useNativeWasm } from './native-support.js';
import { fusedJet1, fusedRelu } from '../lib/core/fused-jets.js';
import { type Jet, compose } from '../lib/core/jet.js';
import { nativeAddonPath, setNativeMatMul } from '../lib/core/openblas.js';
import { hvp } from '../lib/analysis/derivatives.js';
import { fcn } from '../lib/nets/fcn.js';
import { randomDirection } from '../lib/analysis/hessian.js';
import { pv } from '../lib/core/params.js';
import { scaledDenseProduct } from '../lib/core/scaled-product.js';

const missing = existsSync(nativeAddonPath()) ? undefined : 'native addon not built';

/** Inputs that reach the saturated tails, zero and the float32 range of pre-activations. */
function inputs(seed: number, rows = 37): { z0: tf.Tensor; z1: tf.Tensor; c0: tf.Tensor; c1: tf.Tensor } {
  return tf.tidy(() => {
    const z0 = tf.concat([tf.mul(tf.randomNormal([rows, 53], 0, 1, 'float32', seed), 3), tf.tensor2d([[0, -0, 1e-30, -40, 40, 9, -9, 0.5, ...new Array<number>(45).fill(2)]])]);
    const z1 = tf.randomNormal(z0.shape, 0, 1, 'float32', seed + 1);
    const c0 = tf.randomNormal(z0.shape, 0, 1, 'float32', seed + 2);
    const c1 = tf.randomNormal(z0.shape, 0, 1, 'float32', seed + 3);
    return { z0, z1, c0, c1 };
  });
}

/** y0, y1 and the gradients of sum(c0 y0 + c1 y1) in z0 and z1, as float32 arrays. */
function jetAndGrads(phi: Activation, x: ReturnType<typeof inputs>, rule: (a: Jet) => Jet): Float32Array[] {
  const loss = (z0: tf.Tensor, z1: tf.Tensor) => {
    const [y0, y1] = rule([z0, z1]) as tf.Tensor[];
    return tf.add(tf.sum(tf.mul(y0, x.c0)), tf.sum(tf.mul(y1, x.c1)));
  };
  return tf.tidy(() => {
    const [y0, y1] = rule([x.z0, x.z1]) as tf.Tensor[];
    const [g0, g1] = tf.grads(loss)([x.z0, x.z1]);
    return [y0, y1, g0, g1].map((t) => t.dataSync() as Float32Array);
  });
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

describe('fused order-1 jets of tanh and sigmoid (native path)', { skip: missing }, () => {
  before(useNativeWasm);

  // 38 x 53 runs the one fused kernel, 700 x 53 (above 2^15 elements) the split sigmoid and jet kernels.
  for (const [phi, rows] of [[tanh, 37], [sigmoid, 37], [tanh, 700], [sigmoid, 700]] as [Activation, number][]) {
    test(`${phi.name} on ${rows + 1} x 53: values and gradients equal the op-by-op rule bit for bit, and leak nothing`, () => {
      const x = inputs(phi === tanh ? 10 : 20, rows);
      const n0 = tf.memory().numTensors;
      const fused = jetAndGrads(phi, x, (a) => applyActivation(phi, a));
      const opByOp = jetAndGrads(phi, x, (a) => compose(a, phi.derivatives(a[0] as tf.Tensor, 1)));
      assert.equal(tf.memory().numTensors, n0, 'no tensors left behind');
      ['y0', 'y1', 'd/dz0', 'd/dz1'].forEach((name, i) => {
        const [f, o] = [bits(fused[i]), bits(opByOp[i])];
        const bad = f.findIndex((v, j) => v !== o[j]);
        assert.equal(bad, -1, `${phi.name} ${name}[${bad}] = ${fused[i][bad]} fused, ${opByOp[i][bad]} op by op; expected the same bits`);
      });
      // And against float64: y1 = phi'(z0) z1, d/dz0 = c0 phi' + c1 z1 phi'', d/dz1 = c1 phi'.
      const [z0, z1, c0, c1] = [x.z0, x.z1, x.c0, x.c1].map((t) => t.dataSync());
      const d = (v: number) => {
        if (phi === tanh) {
          const t = Math.tanh(v);
          return [t, 1 - t * t, -2 * t * (1 - t * t)];
        }
        const s = 1 / (1 + Math.exp(-v));
        return [s, s * (1 - s), s * (1 - s) * (1 - 2 * s)];
      };
      for (let j = 0; j < z0.length; j++) {
        const [p0, p1, p2] = d(z0[j]);
        const want = [p0, p1 * z1[j], c0[j] * p1 + c1[j] * z1[j] * p2, c1[j] * p1];
        want.forEach((w, i) => {
          const scale = i < 2 ? 1 + Math.abs(z1[j]) : 1 + Math.abs(c0[j]) + Math.abs(c1[j] * z1[j]) + Math.abs(c1[j]);
          assert.ok(Math.abs(fused[i][j] - w) <= 1e-6 * scale, `${phi.name} output ${i} at z0 = ${z0[j]}: ${fused[i][j]}; expected ${w} (float64)`);
        });
      }
      tf.dispose(Object.values(x));
    });
  }

  test('relu: value and gradient equal tfjs\'s Relu bit for bit (NaN, ±0, ±Infinity included), and leak nothing', () => {
    const z = tf.concat([tf.tensor1d([Number.NaN, -0, 0, 1e-45, -1e-45, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]), tf.randomNormal([4093], 0, 1, 'float32', 9)]);
    const dy = tf.concat([tf.tensor1d([1, -2, -3, Number.POSITIVE_INFINITY, -0, Number.NaN, 5]), tf.randomNormal([4093], 0, 1, 'float32', 10)]);
    const n0 = tf.memory().numTensors;
    const run = (f: (x: tf.Tensor) => tf.Tensor) => {
      const { value, grads } = tf.engine().gradients(() => tf.sum(tf.mul(f(z), dy)) as tf.Scalar, [z]);
      const out = [tf.tidy(() => f(z).dataSync() as Float32Array), grads[0].dataSync() as Float32Array];
      tf.dispose([value, grads[0]]);
      return out;
    };
    const fused = run((x) => fusedRelu(x)!);
    const plain = run((x) => tf.relu(x));
    assert.equal(tf.memory().numTensors, n0, 'no tensors left behind');
    ['relu', 'd/dz'].forEach((name, i) => {
      const [f, o] = [bits(fused[i]), bits(plain[i])];
      const bad = f.findIndex((v, j) => v !== o[j]);
      assert.equal(bad, -1, `${name}[${bad}] = ${fused[i][bad]} fused, ${plain[i][bad]} tfjs; expected the same bits`);
    });
    const was = setNativeMatMul(false);
    try {
      assert.equal(fusedRelu(z), undefined, 'plain wasm');
    } finally {
      setNativeMatMul(was);
    }
    tf.dispose([z, dy]);
  });

  test('a gradient recorded on the native path still runs there after setNativeMatMul(false)', () => {
    const z = tf.randomNormal([3, 5], 0, 1, 'float32', 11);
    const w = tf.randomNormal([4, 5], 0, 1, 'float32', 12);
    const cases: [string, (x: tf.Tensor) => tf.Tensor][] = [
      ['relu', (x) => fusedRelu(x)!],
      ['tanh jet', (x) => fusedJet1('tanh', x, tf.mul(x, 0.5))![1]],
      ['scaled product', (x) => scaledDenseProduct(x, w, 0.5)],
    ];
    for (const [name, f] of cases) {
      const want = tf.grad((x: tf.Tensor) => tf.sum(f(x)))(z);
      let got: tf.Tensor;
      try {
        got = tf.grad((x: tf.Tensor) => {
          const y = f(x);
          setNativeMatMul(false);
          return tf.sum(y);
        })(z);
      } finally {
        setNativeMatMul(true);
      }
      assert.deepEqual(Array.from(got.dataSync()), Array.from(want.dataSync()), name);
      tf.dispose([want, got]);
    }
    tf.dispose([z, w]);
  });

  test('applies only to float32 order-1 jets of one shape on the native path; elsewhere the op-by-op rule runs', () => {
    tf.tidy(() => {
      const z = tf.ones([2, 3]);
      assert.equal(fusedJet1('tanh', z, tf.ones([3])), undefined, 'broadcast tangent');
      assert.equal(fusedJet1('tanh', z, tf.ones([2, 3], 'int32')), undefined, 'int32');
      assert.ok(fusedJet1('tanh', z, tf.ones([2, 3])));
      const was = setNativeMatMul(false);
      try {
        assert.equal(fusedJet1('sigmoid', z, tf.ones([2, 3])), undefined, 'plain wasm');
      } finally {
        setNativeMatMul(was);
      }
      // Orders 0 and 2 and a zero tangent are composed op by op (values checked by the activation tests).
      assert.equal(tanh.fusedJet!([z]), undefined);
      assert.equal(tanh.fusedJet!([z, null]), undefined);
      assert.equal(tanh.fusedJet!([z, z, z]), undefined);
    });
  });

  test('an HVP of a tanh network runs the fused kernel and agrees with the plain wasm path', async () => {
    const net = fcn({ widths: [7, 33, 1], activation: 'tanh' });
    const p = net.init(3);
    const v = randomDirection(p, 4, Object.keys(p));
    const x = tf.randomNormal([5, 7], 0, 1, 'float32', 5);
    const prof = await tf.profile(() => pv.dispose(hvp(net, p, v, x)));
    const names = new Set(prof.kernels.map((k) => k.name));
    assert.ok(names.has('TangentJet1') && names.has('TangentJet1Grad'), `kernels run: ${[...names].join(', ')}`);
    const read = (): [string, Float32Array][] => {
      const h = hvp(net, p, v, x);
      const out = Object.entries(h).map(([k, t]): [string, Float32Array] => [k, t.dataSync() as Float32Array]);
      pv.dispose(h);
      return out;
    };
    const native = read();
    setNativeMatMul(false);
    const plain = read();
    setNativeMatMul(true);
    native.forEach(([k, a], i) => a.forEach((y, j) => assert.ok(Math.abs(y - plain[i][1][j]) <= 1e-5 * (1 + Math.abs(y)), `Hv[${k}][${j}] = ${y}; plain wasm ${plain[i][1][j]}`)));
    pv.dispose(p);
    pv.dispose(v);
    x.dispose();
  });
});
