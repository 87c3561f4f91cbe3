import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { agop, agopAlignment } from '../lib/analysis/agop.js';
import { initBackend } from '../lib/core/backend.js';
import { bottleneckCascade, bottleneckQuadratic, twoLayerFixedOutput } from '../lib/nets/bottleneck.js';
import { hvp, vjp } from '../lib/analysis/derivatives.js';
import { fcn } from '../lib/nets/fcn.js';
import { hessianBlockNorms, hessianSpectralNorm, randomDirection } from '../lib/analysis/hessian.js';
import { taylorCoefficients } from '../lib/nets/network.js';
import { neuronGradientCosines } from '../lib/analysis/neurons.js';
import { kernelEigen, kernelTopEigenvalues, lossDecomposition, relativeKernelChange, tangentKernel } from '../lib/analysis/ntk.js';
import { pv } from '../lib/core/params.js';
import { bilinearCoefficients, linearize, multilinearModel, nqm } from '../lib/nets/taylor-models.js';
import { fcn64 } from './nets64.js';
import { type P64, act, axpy, dense, gradient64, taylorFit, unit } from './oracle64.js';
import { assertClose, seededMatrix, tensorOf, toP64 } from './helpers.js';

const s = (k: number) => 1 / Math.sqrt(k);

describe('analysis routines against float64 references and closed forms', () => {
  before(async () => {
    await initBackend();
  });

  test('f_lin and f_quad: values are the 1- and 2-jets, grad f_quad = grad f(w0) + H(w0) D', () => {
    const base = fcn({ widths: [2, 5, 1], activation: 'tanh' });
    const w0 = base.init(1);
    const D = pv.scale(randomDirection(w0, 2), 0.3);
    const w = pv.add(w0, D);
    const xs = seededMatrix(3, 2, 3);
    const x = tensorOf(xs);
    const f64 = fcn64([2, 5, 1], ['tanh'], [s(2), s(5)]);
    const p0 = toP64(w0);
    const d64 = toP64(D);
    const jets = xs.map((xi) => taylorFit((t) => f64(axpy(p0, t, d64), xi)[0], 2));
    const lin = linearize(base, w0);
    const quad = nqm(base, w0);
    assertClose(lin.apply(w, x).dataSync(), jets.map((c) => c[0] + c[1]), 1e-5, 'f_lin(w)');
    assertClose(quad.apply(w, x).dataSync(), jets.map((c) => c[0] + c[1] + c[2]), 1e-5, 'f_quad(w)');
    // Gradient of f_quad at x_0: grad f(w0) + H(w0) D.
    const x0 = tf.slice(x, [0], [1]);
    const gq = vjp(quad, w, x0);
    const g0 = vjp(base, w0, x0);
    const HD = hvp(base, w0, D, x0);
    for (const k of Object.keys(gq)) assertClose(gq[k].dataSync(), tf.add(g0[k], HD[k]).dataSync(), 1e-4, `grad f_quad ${k}`);
    // The Hessian of f_quad is H(w0) everywhere; the Hessian of f_lin is zero.
    const V = randomDirection(w0, 5);
    const Hq = hvp(quad, w, V, x0);
    const H0 = hvp(base, w0, V, x0);
    for (const k of Object.keys(Hq)) assertClose(Hq[k].dataSync(), H0[k].dataSync(), 2e-4, `H f_quad ${k}`);
    for (const t of Object.values(hvp(lin, w, V, x0))) assert.ok(tf.max(tf.abs(t)).dataSync()[0] < 1e-6);
    // Taylor coefficients of the models along V: exact polynomials of degree 1 and 2.
    const cq = taylorCoefficients(quad, w, V, x, 3);
    assert.ok(tf.max(tf.abs(cq[3])).dataSync()[0] === 0);
    const q64 = (p: P64, xi: number[]) => taylorFit((t) => f64(axpy(p0, t, axpy(p, -1, p0)), xi)[0], 2).reduce((a, b) => a + b, 0);
    const v64 = toP64(V);
    const w64 = toP64(w);
    const ref = xs.map((xi) => taylorFit((t) => q64(axpy(w64, t, v64), xi), 2, 0.5, 6));
    for (let k = 0; k <= 2; k++) assertClose(cq[k].dataSync(), ref.map((c) => c[k]), 3e-4, `f_quad Taylor c_${k}`);
  });

  test('bilinear model of the 000 eq. 13 cascade: cross coefficient is the sum over one layer per block', () => {
    const net = bottleneckCascade({ d: 1, m: 5, bottlenecks: [1] });
    const w0 = net.init(4);
    const V = randomDirection(w0, 5);
    const x = tf.tensor2d([[0.7]]);
    const { c1, cross } = bilinearCoefficients(net, w0, V, x);
    const widths = [1, 5, 1, 5, 1];
    const f64 = fcn64(widths, ['identity', 'identity', 'identity'], [1, s(5), 1, s(5)]);
    const p = toP64(w0);
    const v = toP64(V);
    let crossRef = 0;
    let c1Ref = 0;
    for (let S = 0; S < 16; S++) {
      const layers = [0, 1, 2, 3].filter((l) => (S >> l) & 1);
      const mixed: P64 = {};
      for (let l = 0; l < 4; l++) mixed[`W${l + 1}`] = layers.includes(l) ? v[`W${l + 1}`] : p[`W${l + 1}`];
      const val = f64(mixed, [0.7])[0];
      if (layers.length === 1) c1Ref += val;
      if (layers.length === 2 && layers[0] < 2 && layers[1] >= 2) crossRef += val;
    }
    assertClose(c1.dataSync(), [c1Ref], 1e-4, 'c_1');
    assertClose(cross.dataSync(), [crossRef], 1e-4, 'c_x');
    // The multilinear model along V is g0 + c1 t + c_x t^2 exactly.
    const M = multilinearModel(net, w0);
    const cm = taylorCoefficients(M, w0, V, x, 3).map((t) => t.dataSync()[0]);
    assertClose([cm[1], cm[2]], [c1Ref, crossRef], 1e-3, 'multilinear model coefficients');
  });

  test('Hessian spectral norm: dense oracle, and the closed form of 002 eq. 8-9', () => {
    const net = fcn({ widths: [2, 4, 1], activation: 'tanh' });
    const w = net.init(7);
    const xs = [[0.4, -1.1]];
    const f64 = fcn64([2, 4, 1], ['tanh'], [s(2), s(4)]);
    const p = toP64(w);
    const names = Object.keys(p);
    const dirs: P64[] = [];
    for (const nm of names) for (let i = 0; i < p[nm].data.length; i++) dirs.push(unit(p, nm, i));
    const N = dirs.length;
    const H = new Float64Array(N * N);
    const c2 = (d: P64) => taylorFit((t) => f64(axpy(p, t, d), xs[0])[0], 2)[2];
    for (let i = 0; i < N; i++) for (let j = 0; j <= i; j++) {
      const v = i === j ? 2 * c2(dirs[i]) : c2(axpy(dirs[i], 1, dirs[j])) - c2(dirs[i]) - c2(dirs[j]);
      H[i * N + j] = H[j * N + i] = v;
    }
    let ref = 0;
    // Power iteration on the float64 dense Hessian (independent of lib/linalg).
    let v = Array.from({ length: N }, (_, i) => Math.sin(i + 1));
    for (let it = 0; it < 2000; it++) {
      const w2 = v.map((_, i) => v.reduce((acc, vj, j) => acc + H[i * N + j] * vj, 0));
      const nrm = Math.hypot(...w2);
      ref = nrm / Math.hypot(...v);
      v = w2.map((a) => a / nrm);
    }
    for (const method of ['lanczos', 'power'] as const) {
      const r = hessianSpectralNorm(net, w, tensorOf(xs), { method, tol: 1e-7, maxIter: 500 });
      assert.ok(r.converged, `${method} converged`);
      assert.ok(Math.abs(r.value - ref) <= 1e-3 * ref, `${method}: ${r.value} vs ${ref}`);
    }
    // 002 eq. 8: H diagonal with H_ii = v_i sigma''(w_i x) x^2 / sqrt(m).
    const m = 64;
    const two = twoLayerFixedOutput({ m, activation: 'tanh' });
    const pw = two.init(3);
    const x = 1.3;
    const W = pw.W1.dataSync();
    const V = pw.W2.dataSync();
    const closed = Math.max(...Array.from(W, (wi, i) => {
      const t = Math.tanh(wi * x);
      return Math.abs((V[i] * -2 * t * (1 - t * t) * x * x) / Math.sqrt(m));
    }));
    const got = hessianSpectralNorm(two, pw, tf.tensor2d([[x]]), { tol: 1e-8, maxIter: 64 });
    assert.ok(Math.abs(got.value - closed) <= 1e-4 * closed, `eq. 8 closed form ${closed} vs ${got.value}`);
  });

  test('Hessian block of 002 eq. 108-109: ||d^2 f / d(w2)^2|| = m^{-3/2} |sum_j w4_j w3_j^2| ||alpha1||^2', () => {
    const m = 50;
    const net = bottleneckQuadratic({ m });
    const w = net.init(5);
    const x = 0.9;
    const w1 = w.W1.dataSync();
    const w3 = w.W3.dataSync();
    const w4 = w.W4.dataSync();
    const alpha1 = Array.from(w1, (a) => (a * x) ** 2 / 2);
    const closed = m ** -1.5 * Math.abs(Array.from(w4).reduce((acc: number, v: number, j: number) => acc + v * w3[j] ** 2, 0)) * alpha1.reduce((a, b) => a + b * b, 0);
    const blocks = hessianBlockNorms(net, w, tf.tensor2d([[x]]), { groups: { W2: ['W2'] }, iters: 50, tol: 1e-8 });
    assert.equal(blocks.length, 1);
    assert.ok(Math.abs(blocks[0].norm - closed) <= 1e-3 * closed, `block norm ${blocks[0].norm} vs ${closed}`);
  });

  test('neuron-gradient cosines (004 eq. 22) against per-neuron oracle gradients', () => {
    const widths = [3, 4, 5, 1];
    const net = fcn({ widths, activation: 'tanh' });
    const w = net.init(8);
    const xs = seededMatrix(2, 3, 6);
    const got = neuronGradientCosines(net, w, tensorOf(xs));
    const p = toP64(w);
    const pre = (q: P64, xi: number[], layer: number, i: number) => {
      let a = xi;
      for (let l = 0; l < layer; l++) {
        const z = dense(q[`W${l + 1}`].data, widths[l + 1], a, s(widths[l]));
        if (l === layer - 1) return z[i];
        a = z.map(act('tanh'));
      }
      throw new Error('unreachable');
    };
    for (const layer of [1, 2]) {
      let total = 0;
      for (const xi of xs) {
        const grads = Array.from({ length: widths[layer] }, (_, i) => gradient64((q) => pre(q, xi, layer, i), p));
        const flat = grads.map((g) => Object.values(g).flatMap((t) => Array.from(t.data)));
        let acc = 0;
        let cnt = 0;
        for (let i = 0; i < flat.length; i++) for (let j = 0; j < flat.length; j++) {
          if (i === j) continue;
          const dot = flat[i].reduce((a2, v, q) => a2 + v * flat[j][q], 0);
          acc += Math.abs(dot) / (Math.hypot(...flat[i]) * Math.hypot(...flat[j]));
          cnt++;
        }
        total += acc / cnt;
      }
      const ref = total / xs.length;
      const g = got.find((c) => c.layer === layer)!;
      assert.ok(Math.abs(g.meanAbsCos - ref) <= 1e-4, `layer ${layer}: ${g.meanAbsCos} vs ${ref}`);
    }
  });

  test('AGOP against oracle input gradients; alignment is scale invariant', () => {
    const widths = [3, 4, 2];
    const net = fcn({ widths, activation: 'tanh' });
    const w = net.init(2);
    const xs = seededMatrix(4, 3, 9);
    const G = agop(net, w, tensorOf(xs)).dataSync();
    const f64 = fcn64(widths, ['tanh'], [s(3), s(4)]);
    const p = toP64(w);
    const ref = new Array<number>(9).fill(0);
    for (const xi of xs) {
      for (let c = 0; c < 2; c++) {
        const g = [0, 1, 2].map((j) => taylorFit((t) => f64(p, xi.map((v, q) => (q === j ? v + t : v)))[c], 1)[1]);
        for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) ref[a * 3 + b] += (g[a] * g[b]) / xs.length;
      }
    }
    assertClose(G, ref, 1e-4, 'AGOP');
    const Gt = tf.tensor2d(Array.from(G), [3, 3]);
    assert.ok(Math.abs(agopAlignment(Gt, tf.mul(Gt, 7) as tf.Tensor2D) - 1) < 1e-6);
  });

  test('kernel eigenpairs, Lanczos on K u = J J^T u, loss split and relative change', () => {
    const net = fcn({ widths: [3, 8, 2], activation: 'relu' });
    const w = net.init(1);
    const x = tensorOf(seededMatrix(6, 3, 2));
    const K = tangentKernel(net, w, x);
    const { values } = kernelEigen(K, 3);
    const lz = kernelTopEigenvalues(net, w, x, { k: 2, tol: 1e-6 });
    assert.ok(Math.abs(lz.values[0] - values[0]) <= 1e-4 * values[0], `Lanczos ${lz.values[0]} vs dense ${values[0]}`);
    assert.ok(Math.abs(lz.values[1] - values[1]) <= 1e-3 * values[0]);
    const r = tf.tensor(seededMatrix(6, 2, 3).flat(), [6, 2]);
    const parts = lossDecomposition(K, r, 3);
    const total = r.square().sum().dataSync()[0] / 6;
    assert.ok(Math.abs(parts.top + parts.rest - total) < 1e-5 * total, `${parts.top} + ${parts.rest} vs ${total}`);
    assert.ok(parts.top > 0 && parts.rest > 0);
    assert.equal(relativeKernelChange(K, K), 0);
    assert.ok(Math.abs(relativeKernelChange(tf.mul(K, 1.5) as tf.Tensor2D, K, 'spectral') - 0.5) < 1e-5);
  });

  test('determinism: same seed, bit-identical params and kernel', () => {
    const net = fcn({ widths: [4, 16, 3], activation: 'tanh', bias: true });
    const a = net.init(42);
    const b = net.init(42);
    for (const k of Object.keys(a)) assert.deepEqual(Array.from(a[k].dataSync()), Array.from(b[k].dataSync()));
    const x = tensorOf(seededMatrix(5, 4, 1));
    assert.deepEqual(Array.from(tangentKernel(net, a, x).dataSync()), Array.from(tangentKernel(net, b, x).dataSync()));
    assert.notDeepEqual(Array.from(net.init(43).W1.dataSync()), Array.from(a.W1.dataSync()));
  });

  test('bad input gives errors naming the value and what was expected', () => {
    const net = fcn({ widths: [3, 4, 1], activation: 'tanh' });
    const w = net.init(0);
    const x = tf.zeros([2, 3]);
    assert.throws(() => net.apply(w, tf.zeros([2, 5])), /input has shape \[2, 5\]; expected \[n, 3\]/);
    assert.throws(() => net.taylor(w, { W1: tf.zeros([4, 3]) }, x, 2), /direction is missing 'W2'/);
    assert.throws(() => net.taylor(w, { ...w, W2: tf.zeros([2, 4]) }, x, 2), /direction\['W2'\] has shape \[2, 4\]; expected \[1, 4\]/);
    assert.throws(() => net.taylor(w, null, x, -1), /Taylor order k=-1 is invalid/);
    assert.throws(() => fcn({ widths: [3, 4, 1], activation: 'gelu' as never }), /unknown activation 'gelu'/);
    assert.throws(() => fcn({ widths: [3, 4, 1], activation: 'tanh', parameterization: 'mup' as never }), /unknown parameterization 'mup'/);
    assert.throws(() => fcn({ widths: [3], activation: 'tanh' }), /widths=\[3\] is invalid/);
    assert.throws(() => hvp(net, w, { W1: tf.zeros([4, 3]), W2: tf.zeros([1, 4]), extra: tf.zeros([1]) }, x), /unknown entry 'extra'/);
    // The engine is still usable after those errors.
    assert.equal(net.apply(w, x).shape[0], 2);
  });
});
