// A second, independent oracle: mathjs's symbolic `derivative` of small closed-form networks, written out as
// expressions in the weights. Checks the Taylor coefficients of t -> f(w + t v; x) (000 Def 4-5), the
// Hessian-vector product and the tangent kernel against the library's jets (float32, wasm/cpu).
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { derivative, parse, type MathNode } from 'mathjs';
import { initBackend } from '../lib/core/backend.js';
import type { Params } from '../lib/core/params.js';
import { hvp } from '../lib/analysis/derivatives.js';
import { randomDirection } from '../lib/analysis/hessian.js';
import { tangentKernel } from '../lib/analysis/ntk.js';
import { fcn } from '../lib/nets/fcn.js';
import { taylorCoefficients } from '../lib/nets/network.js';
import { assertClose, seededMatrix, tensorOf, toP64 } from './helpers.js';

/** Activations as mathjs expressions of `z` (sigmoid and softplus written out: mathjs has no such functions). */
const ACT: Record<string, (z: string) => string> = {
  tanh: (z) => `tanh(${z})`,
  sigmoid: (z) => `1 / (1 + exp(-(${z})))`,
  softplus: (z) => `log(1 + exp(${z}))`,
  quadratic: (z) => `(${z})^2 / 2`,
};

interface Net {
  widths: number[];
  acts: string[];
  bias: boolean;
}

/** Symbol of entry i of parameter `name` (W1[j, i] row-major -> W1_j_i). */
function sym(name: string, shape: number[], flat: number): string {
  return shape.length === 2 ? `${name}_${Math.floor(flat / shape[1])}_${flat % shape[1]}` : `${name}_${flat}`;
}

/**
 * f(w; x) of `fcn({ widths, activation, bias })` (NTK parameterization, 002 eq. 97) as a mathjs expression,
 * each weight given by `w(name, flatIndex)` (a symbol or a number).
 */
function fcnExpression(net: Net, x: number[], w: (name: string, shape: number[], flat: number) => string): string {
  let a = x.map((v) => `(${v})`);
  const L = net.widths.length - 1;
  for (let l = 0; l < L; l++) {
    const [nIn, nOut] = [net.widths[l], net.widths[l + 1]];
    const z: string[] = [];
    for (let j = 0; j < nOut; j++) {
      const terms = a.map((ai, i) => `${w(`W${l + 1}`, [nOut, nIn], j * nIn + i)} * ${ai}`);
      z.push(`(${1 / Math.sqrt(nIn)}) * (${terms.join(' + ')})${net.bias ? ` + ${w(`b${l + 1}`, [nOut], j)}` : ''}`);
    }
    a = l < L - 1 ? z.map((zj) => `(${ACT[net.acts[l]](zj)})`) : z;
  }
  if (a.length !== 1) throw new Error('fcnExpression: one output expected');
  return a[0];
}

function evaluateAt(node: MathNode, scope: Record<string, number>): number {
  return node.compile().evaluate(scope) as number;
}

const NETS: Record<string, Net> = {
  'tanh [2, 3, 1]': { widths: [2, 3, 1], acts: ['tanh'], bias: false },
  'sigmoid/softplus [2, 3, 2, 1] with bias': { widths: [2, 3, 2, 1], acts: ['sigmoid', 'softplus'], bias: true },
  'quadratic [1, 4, 1] (000: polynomial, c_k = 0 for k > 2)': { widths: [1, 4, 1], acts: ['quadratic'], bias: false },
};

describe('library jets against mathjs symbolic derivatives', () => {
  before(async () => {
    await initBackend();
  });
  for (const [label, spec] of Object.entries(NETS)) {
    test(label, () => {
      const net = fcn({ widths: spec.widths, activation: spec.acts as never, bias: spec.bias });
      const params = net.init(5);
      const dir = randomDirection(params, 6);
      const p = toP64(params);
      const v = toP64(dir);
      const xs = seededMatrix(2, spec.widths[0], 7);
      const names = Object.keys(p);
      const scope: Record<string, number> = {};
      const symbols: string[] = [];
      for (const n of names) p[n].data.forEach((val, i) => { const s = sym(n, p[n].shape, i); scope[s] = val; symbols.push(s); });

      // Taylor coefficients: g(t) = f(w + t v; x), c_k = g^(k)(0) / k!.
      const K = 4;
      const got = taylorCoefficients(net, params, dir, tensorOf(xs), K).map((c) => Array.from(c.dataSync()));
      for (let r = 0; r < xs.length; r++) {
        let g = parse(fcnExpression(spec, xs[r], (n, shape, i) => `(${p[n].data[i]} + t * ${v[n].data[i]})`));
        let factorial = 1;
        for (let k = 0; k <= K; k++) {
          if (k > 0) {
            g = derivative(g, 't', { simplify: false });
            factorial *= k;
          }
          const ck = evaluateAt(g, { t: 0 }) / factorial;
          assertClose([got[k][r]], [ck], 2e-4, `${label}: Taylor c_${k} at x_${r}`, 1e-3);
        }
      }

      // Gradient (symbolic in the weights) -> tangent kernel K(x_a, x_b) = <grad f(x_a), grad f(x_b)>.
      const grads = xs.map((x) => {
        const f = parse(fcnExpression(spec, x, (n, shape, i) => sym(n, shape, i)));
        return symbols.map((s) => evaluateAt(derivative(f, s, { simplify: false }), scope));
      });
      const K64 = grads.flatMap((ga) => grads.map((gb) => ga.reduce((acc, gi, i) => acc + gi * gb[i], 0)));
      assertClose(tangentKernel(net, params, tensorOf(xs)).dataSync(), K64, 1e-4, `${label}: NTK`);

      // Hessian-vector product at x_0: (H v)_s = d/ds [ d/dt f(W + t v) at t = 0 ].
      const fv = parse(fcnExpression(spec, xs[0], (n, shape, i) => `(${sym(n, shape, i)} + t * ${v[n].data[i]})`));
      const dfdt = derivative(fv, 't', { simplify: false });
      const Hv64 = symbols.map((s) => evaluateAt(derivative(dfdt, s, { simplify: false }), { ...scope, t: 0 }));
      const Hv = hvp(net, params, dir, tensorOf([xs[0]]));
      const HvFlat = names.flatMap((n) => Array.from(Hv[n].dataSync()));
      assertClose(HvFlat, Hv64, 2e-4, `${label}: HVP`, 1e-3);
      for (const t of [...Object.values(Hv), ...Object.values(dir as Params), ...Object.values(params)]) t.dispose();
      void tf;
    });
  }
});
