import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../lib/core/backend.js';
import { bottleneckCascade, bottleneckQuadratic, bottleneckRelu, twoLayerFixedOutput } from '../lib/nets/bottleneck.js';
import { convNet } from '../lib/nets/conv.js';
import { denseNet } from '../lib/nets/dag.js';
import { hvp, jvp, mixedSecond } from '../lib/analysis/derivatives.js';
import { fcn, withOutput } from '../lib/nets/fcn.js';
import { randomDirection } from '../lib/analysis/hessian.js';
import { type Network, taylorCoefficients } from '../lib/nets/network.js';
import { tangentKernel } from '../lib/analysis/ntk.js';
import { trainableNames } from '../lib/core/params.js';
import { resnet } from '../lib/nets/resnet.js';
import { type Forward64, conv64, dense64, fcn64, resnet64, withOutput64 } from './nets64.js';
import { type P64, axpy, gradient64, hvp64, taylorFit } from './oracle64.js';
import { assertClose, seededMatrix, tensorOf, toP64 } from './helpers.js';

interface Case {
  name: string;
  net: Network;
  f64: Forward64;
  x: number[][];
  inputShape?: number[];
  /** Fit radius in t and number of nodes (small for piecewise-polynomial ReLU nets). */
  h?: number;
  nodes?: number;
}

const s = (k: number) => 1 / Math.sqrt(k);

function cases(): Case[] {
  const x3 = seededMatrix(3, 3, 1);
  const x1 = seededMatrix(3, 1, 2, 1.5);
  const dropped = denseNet({ d: 3, m: 4, depth: 2, activation: 'tanh', dropProbability: 0.5, maskSeed: 3 });
  return [
    { name: 'fcn tanh ntk bias', net: fcn({ widths: [3, 5, 4, 2], activation: 'tanh', bias: true }), f64: fcn64([3, 5, 4, 2], ['tanh', 'tanh'], [s(3), s(5), s(4)], true), x: x3 },
    { name: 'fcn softplus/sigmoid standard', net: fcn({ widths: [3, 4, 4, 2], activation: ['softplus', 'sigmoid'], parameterization: 'standard' }), f64: fcn64([3, 4, 4, 2], ['softplus', 'sigmoid'], [1, 1, 1]), x: x3 },
    { name: 'fcn swish(0.7)/quadratic', net: fcn({ widths: [3, 4, 3, 1], activation: ['swish(0.7)', 'quadratic'] }), f64: fcn64([3, 4, 3, 1], ['swish(0.7)', 'quadratic'], [s(3), s(4), s(3)]), x: x3 },
    { name: 'fcn relu', net: fcn({ widths: [3, 6, 5, 2], activation: 'relu' }), f64: fcn64([3, 6, 5, 2], ['relu', 'relu'], [s(3), s(6), s(5)]), x: x3, h: 1e-2, nodes: 6 },
    { name: 'softmax output', net: withOutput(fcn({ widths: [3, 4, 3], activation: 'tanh' }), 'softmax'), f64: withOutput64(fcn64([3, 4, 3], ['tanh'], [s(3), s(4)]), 'softmax'), x: x3 },
    { name: 'swish(0.1) output', net: withOutput(fcn({ widths: [1, 5, 3], activation: 'relu', bias: true }), 'swish(0.1)'), f64: withOutput64(fcn64([1, 5, 3], ['relu'], [1, s(5)], true), 'swish(0.1)'), x: x1, h: 1e-2, nodes: 10 },
    { name: '000 eq.13 linear cascade', net: bottleneckCascade({ d: 1, m: 6, bottlenecks: [1] }), f64: fcn64([1, 6, 1, 6, 1], ['identity', 'identity', 'identity'], [1, s(6), 1, s(6)]), x: x1 },
    { name: '002 eq.31 quadratic bottleneck', net: bottleneckQuadratic({ m: 5 }), f64: fcn64([1, 5, 1, 5, 1], ['quadratic', 'identity', 'quadratic'], [1, s(5), 1, s(5)]), x: x1 },
    { name: '002 eq.48 bottleneck (1/sqrt m_b)', net: bottleneckRelu({ m: 5, mb: 2, outputs: 2, bottleneckScale: 'ntk', activation: 'tanh' }), f64: fcn64([1, 5, 2, 5, 2], ['tanh', 'identity', 'tanh'], [1, s(5), s(2), s(5)]), x: x1 },
    { name: '002 eq.8 fixed second layer', net: twoLayerFixedOutput({ m: 6, activation: 'tanh' }), f64: fcn64([1, 6, 1], ['tanh'], [1, s(6)]), x: x1 },
    { name: 'resnet tanh', net: resnet({ d: 3, m: 4, depth: 3, outputs: 2, activation: 'tanh' }), f64: resnet64(3, 4, 3, 2, 'tanh'), x: x3 },
    {
      name: 'densenet with dropped edges',
      net: dropped,
      f64: (p, x) => dense64([3, 4, 4, 1], 'tanh', dropped.graph.masks.map((m) => (m ? Float64Array.from(m) : null)))(p, x),
      x: x3,
    },
    { name: 'convnet tanh', net: convNet({ inputShape: [3, 3, 2], channels: [2], kernelSize: 3, outputs: 2, activation: 'tanh' }), f64: conv64(3, 3, 2, [2], 3, 2, 'tanh'), x: seededMatrix(2, 18, 4), inputShape: [2, 3, 3, 2] },
  ];
}

describe('Taylor propagation, JVP, HVP and NTK against the float64 oracle', () => {
  before(async () => {
    await initBackend();
  });
  for (const c of cases()) {
    test(c.name, () => {
      const net = c.net;
      const params = net.init(11);
      const dir = randomDirection(params, 12, trainableNames(net.specs));
      const x = tensorOf(c.x, c.inputShape);
      const p64 = toP64(params);
      const v64: P64 = toP64({ ...Object.fromEntries(Object.entries(params).map(([k, t]) => [k, tf.zerosLike(t)])), ...dir });
      const C = net.outputDim;
      const n = c.x.length;
      const h = c.h ?? 0.05;
      const nodes = c.nodes ?? 14;

      // Taylor coefficients c_0..c_4 of t -> f(w + t v; x_i)_c (000 Def 4-5).
      const coefs = taylorCoefficients(net, params, dir, x, 4).map((t) => t.dataSync());
      for (let k = 0; k <= 4; k++) {
        const ref: number[] = [];
        for (let i = 0; i < n; i++) for (let o = 0; o < C; o++) ref.push(taylorFit((t) => c.f64(axpy(p64, t, v64), c.x[i])[o], 4, h, nodes)[k]);
        assertClose(coefs[k], ref, k === 0 ? 1e-5 : 3e-4, `${c.name}: Taylor c_${k}`, 1e-3);
      }
      const J = jvp(net, params, dir, x).dataSync();
      assertClose(J, coefs[1], 1e-6, `${c.name}: jvp equals c_1`);

      // Hessian-vector product of sum_c f_c(x_0).
      const x0 = tf.slice(x, [0], [1]);
      const F = (p: P64) => c.f64(p, c.x[0]).reduce((a, b) => a + b, 0);
      const Hv = hvp(net, params, dir, x0);
      const Hv64 = hvp64(F, p64, v64, h, nodes);
      for (const name of trainableNames(net.specs)) {
        assertClose(Hv[name].dataSync(), Hv64[name].data, 3e-4, `${c.name}: HVP block ${name}`, 1e-3);
      }

      // Tangent kernel entries <grad f_c(x_i), grad f_c'(x_j)>.
      const grads = [];
      for (let i = 0; i < n; i++) for (let o = 0; o < C; o++) grads.push(gradient64((p) => c.f64(p, c.x[i])[o], p64, h, nodes));
      const names = trainableNames(net.specs);
      const K64: number[] = [];
      for (const ga of grads) for (const gb of grads) K64.push(names.reduce((acc, nm) => acc + ga[nm].data.reduce((s2, v, q) => s2 + v * gb[nm].data[q], 0), 0));
      assertClose(tangentKernel(net, params, x).dataSync(), K64, 2e-4, `${c.name}: NTK (auto)`);
      // Later calls reuse the layer structure found on first use (per input shape).
      assertClose(tangentKernel(net, params, x).dataSync(), K64, 2e-4, `${c.name}: NTK (auto, second call)`);
      const N = n * C;
      const K64first = Array.from({ length: C * C }, (_, q) => K64[Math.floor(q / C) * N + (q % C)]);
      assertClose(tangentKernel(net, params, x0).dataSync(), K64first, 2e-4, `${c.name}: NTK (auto, one sample)`);
      assertClose(tangentKernel(net, params, x, { method: 'jacobian' }).dataSync(), K64, 2e-4, `${c.name}: NTK (jacobian)`);
    });
  }
});

describe('mixed second derivatives and exact polynomial coefficients', () => {
  before(async () => {
    await initBackend();
  });
  test('linear nets: c_k is the sum over k-subsets of layers replaced by their directions (reference §6.4 B)', () => {
    const widths = [2, 3, 2, 3, 1];
    const net = fcn({ widths, activation: 'identity' });
    const params = net.init(3);
    const dir = randomDirection(params, 4);
    const xs = seededMatrix(2, 2, 9);
    const coefs = taylorCoefficients(net, params, dir, tensorOf(xs), 4).map((t) => Array.from(t.dataSync()));
    const p = toP64(params);
    const v = toP64(dir);
    const L = widths.length - 1;
    for (let i = 0; i < xs.length; i++) {
      const expected = new Array<number>(L + 1).fill(0);
      for (let S = 0; S < 1 << L; S++) {
        const mixed: P64 = {};
        for (let l = 0; l < L; l++) mixed[`W${l + 1}`] = (S >> l) & 1 ? v[`W${l + 1}`] : p[`W${l + 1}`];
        const bits = S.toString(2).split('').filter((b) => b === '1').length;
        expected[bits] += fcn64(widths, ['identity', 'identity', 'identity'], widths.slice(0, -1).map(s))(mixed, xs[i])[0];
      }
      for (let k = 0; k <= 4; k++) assert.ok(Math.abs(coefs[k][i] - expected[k]) <= 1e-4 * (1 + Math.abs(expected[k])), `c_${k}: ${coefs[k][i]} vs ${expected[k]}`);
    }
  });

  test('D^2 f[u, v] matches the oracle mixed derivative', () => {
    const net = fcn({ widths: [2, 4, 1], activation: 'tanh' });
    const params = net.init(1);
    const u = randomDirection(params, 2);
    const w = randomDirection(params, 3);
    const xs = seededMatrix(2, 2, 5);
    const got = mixedSecond(net, params, u, w, tensorOf(xs)).dataSync();
    const f = fcn64([2, 4, 1], ['tanh'], [s(2), s(4)]);
    const p = toP64(params);
    const U = toP64(u);
    const W = toP64(w);
    const ref = xs.map((xi) => {
      const c2 = (d: P64) => taylorFit((t) => f(axpy(p, t, d), xi)[0], 2)[2];
      return c2(axpy(U, 1, W)) - c2(U) - c2(W);
    });
    assertClose(got, ref, 3e-4, 'D^2 f[u, v]');
  });
});
