import * as tf from '@tensorflow/tfjs-core';
import { type Jet, checkOrder, coefficients } from '../core/jet.js';
import { type Network, checkDirection, checkInput } from './network.js';
import { type Params, checkStructure, pv } from '../core/params.js';

/**
 * Taylor models of a network around params0 as networks of their own (same parameter structure):
 * with D = w - w0, the model is sum_{j<=order} c_j(w0; D), the Taylor coefficients of t -> f(w0 + t D)
 * evaluated at t = 1. order 1: f_lin (003 eq. 3.1); order 2: the neural quadratic model (003 eq. 3.2).
 * Reverse mode through the jets gives grad f_quad = grad f(w0) + H(w0) D.
 *
 * @param base the network f
 * @param params0 the expansion point w0 (copied)
 * @param order 1 (f_lin) or 2 (the NQM)
 * @returns a Network with the same parameters as `base`, trainable with `train()` like any other
 * @example
 * const net = fcn({ widths: [1, 64, 1], activation: 'tanh' });
 * const x = tf.tensor2d([[0.5], [1], [-2]]), y = tf.ones([3, 1]);
 * const w0 = net.init(0);
 * const quad = taylorModel(net, w0, 2);            // or nqm(net, w0); linearize(net, w0) for order 1
 * const run = train({ net: quad, params: w0, x, y, loss: mse('mean'), lr: criticalSchedule(1.5, quad, w0, x, y, mse('mean')), steps: 100 });
 */
export function taylorModel(base: Network, params0: Params, order: 1 | 2): Network {
  if (order !== 1 && order !== 2) throw new Error(`taylorModel: order = ${String(order)}; expected 1 (linear) or 2 (quadratic)`);
  checkStructure(params0, base.specs, `${base.name} params0`);
  const w0 = pv.keep(pv.clone(params0));
  const value = (D: Params, x: tf.Tensor): tf.Tensor => sumJet(base.taylor(w0, D, x, order));
  const c2 = (d: Params, x: tf.Tensor): tf.Tensor | null => base.taylor(w0, d, x, 2)[2];
  return modelOf(base, w0, `${order === 1 ? 'lin' : 'quad'}(${base.name})`, order, (D, direction, x, k) => {
    const out: Jet = [value(D, x), ...new Array(k).fill(null)];
    if (k >= 1 && direction) {
      // c_1 along V: J V (+ D^T H V = c2(D + V) - c2(D) - c2(V) for the quadratic model).
      let c1 = base.taylor(w0, direction, x, 1)[1];
      if (order === 2) {
        const cross = polarize((d) => c2(d, x), [D, direction]);
        c1 = c1 && cross ? tf.add(c1, cross) : c1 ?? cross;
        if (k >= 2) out[2] = c2(direction, x);
      }
      out[1] = c1;
    }
    return out;
  });
}

/**
 * A model of `base` around w0 as a Network with the same parameters: `jet(D, V, x, k)` gives the Taylor
 * coefficients along V of the model at displacement D = w - w0.
 */
function modelOf(base: Network, w0: Params, name: string, kind: unknown, jet: (D: Params, direction: Params | null, x: tf.Tensor, k: number) => Jet): Network {
  const net: Network = {
    ...base,
    name,
    dispose: () => pv.dispose(w0),
    config: { ...base.config, taylorModel: kind },
    apply: (params, x) => net.taylor(params, null, x, 0)[0] as tf.Tensor,
    taylor(params, direction, x, k) {
      checkOrder(k);
      checkStructure(params, base.specs, `${name} params`);
      if (direction) checkDirection(direction, base.specs, name);
      checkInput(net, x);
      return jet(displacement(params, w0, base), direction, x, k);
    },
  };
  return net;
}

/**
 * The linearised model f_lin(w) = f(w0) + ∇f(w0)(w − w0) (003 eq. 3.1): {@link taylorModel} of order 1.
 *
 * @param base the network f
 * @param params0 the expansion point w0 (copied)
 * @example
 * const net = fcn({ widths: [1, 64, 1], activation: 'tanh' });
 * const fLin = linearize(net, net.init(0));
 */
export const linearize = (base: Network, params0: Params) => taylorModel(base, params0, 1);
/**
 * The neural quadratic model NQM, f(w0) + ∇f(w0)D + ½ Dᵀ H(w0) D with D = w − w0 (003 eq. 3.2): {@link taylorModel}
 * of order 2.
 *
 * @param base the network f
 * @param params0 the expansion point w0 (copied)
 * @example
 * const net = fcn({ widths: [1, 64, 1], activation: 'tanh' });
 * const quad = nqm(net, net.init(0));
 */
export const nqm = (base: Network, params0: Params) => taylorModel(base, params0, 2);

function displacement(params: Params, w0: Params, base: Network): Params {
  const D: Params = {};
  for (const s of base.specs) if (s.trainable) D[s.name] = tf.sub(params[s.name], w0[s.name]);
  return D;
}

function sumJet(j: Jet): tf.Tensor {
  return coefficients(j).reduce((a, b) => tf.add(a, b));
}

/**
 * Polarization: from c(v) = D^r f[v, ..., v] / r! (a homogeneous form of degree r = dirs.length), the mixed
 * derivative D^r f[v_1, ..., v_r] = sum_{S subset [r], S nonempty} (-1)^{r-|S|} c(sum_{i in S} v_i).
 * `c` may return null for an exactly-zero coefficient; the result is null when every term is.
 */
export function polarize(c: (direction: Params) => tf.Tensor | null, dirs: Params[]): tf.Tensor | null {
  const r = dirs.length;
  // The full set first, then the others in order: for r = 2, (c(a + b) - c(a)) - c(b).
  const full = (1 << r) - 1;
  let acc: tf.Tensor | null = null;
  for (const S of [full, ...Array.from({ length: full - 1 }, (_, i) => i + 1)]) {
    const members = dirs.filter((_, i) => (S >> i) & 1);
    const term = c(members.length === 1 ? members[0] : members.reduce((a, b) => pv.add(a, b)));
    if (!term) continue;
    const plus = (r - members.length) % 2 === 0;
    acc = acc ? (plus ? tf.add(acc, term) : tf.sub(acc, term)) : plus ? term : tf.neg(term);
  }
  return acc;
}

/** D^r f(w0)[v_1, ..., v_r] for r distinct directions (polarization of the order-r Taylor coefficient). */
export function mixedDerivative(base: Network, params0: Params, dirs: Params[], x: tf.Tensor): tf.Tensor {
  const r = dirs.length;
  if (r === 0) return base.apply(params0, x);
  return tf.tidy(() => polarize((d) => base.taylor(params0, d, x, r)[r], dirs) ?? tf.zeros([x.shape[0], base.outputDim]));
}

/**
 * The B-multilinear model of a bottleneck network (000 eq. 18 for B = 2, Thm 2):
 * M(w) = sum_{T subset of blocks} D^{|T|} g(w0)[Delta_b : b in T], Delta_b the displacement restricted to
 * block b; one factor per block, so it is affine in each block separately (for B = 2, the bilinear q).
 */
export function multilinearModel(base: Network, params0: Params): Network {
  const blocks = base.blocks;
  if (!blocks || blocks.length < 2) throw new Error(`multilinearModel: ${base.name} has ${blocks?.length ?? 0} parameter blocks; expected at least 2 (build it with blocks, e.g. bottleneckCascade)`);
  checkStructure(params0, base.specs, `${base.name} params0`);
  const w0 = pv.keep(pv.clone(params0));
  const B = blocks.length;
  const restrict = (D: Params, b: number): Params => Object.fromEntries(Object.entries(D).map(([k, t]) => [k, blocks[b].includes(k) ? t : tf.zerosLike(t)]));
  const value = (D: Params, x: tf.Tensor): tf.Tensor => {
    const parts = blocks.map((_, b) => restrict(D, b));
    let acc = base.apply(w0, x);
    for (let T = 1; T < 1 << B; T++) {
      acc = tf.add(acc, mixedDerivative(base, w0, parts.filter((_, b) => (T >> b) & 1), x));
    }
    return acc;
  };
  return modelOf(base, w0, `multilinear(${base.name})`, 'multilinear', (D, direction, x, k) => {
    if (!direction || k === 0) return [value(D, x), ...new Array(k).fill(null)];
    // M(D + tV) is a polynomial of degree <= B in t: interpolate it at t = 0..B.
    const samples = Array.from({ length: B + 1 }, (_, t) => value(pv.add(D, direction, t), x));
    const coefs = interpolate(samples);
    return Array.from({ length: k + 1 }, (_, j) => (j <= B ? coefs[j] : null));
  });
}

/** Monomial coefficients of the polynomial through (t, y_t), t = 0..N-1 (float64 Vandermonde inverse). */
function interpolate(ys: tf.Tensor[]): tf.Tensor[] {
  const N = ys.length;
  const V = Array.from({ length: N }, (_, t) => Array.from({ length: N }, (_, p) => t ** p));
  const inv = invert(V);
  return Array.from({ length: N }, (_, p) => ys.reduce((acc: tf.Tensor | null, y, t) => (inv[p][t] === 0 ? acc : acc ? tf.add(acc, tf.mul(y, inv[p][t])) : tf.mul(y, inv[p][t])), null) ?? tf.zerosLike(ys[0]));
}

function invert(A: number[][]): number[][] {
  const n = A.length;
  const M = A.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
    [M[c], M[piv]] = [M[piv], M[c]];
    const d = M[c][c];
    for (let q = 0; q < 2 * n; q++) M[c][q] /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c];
      for (let q = 0; q < 2 * n; q++) M[r][q] -= f * M[c][q];
    }
  }
  return M.map((row) => row.slice(n));
}

/** q(t) = g0 + c_1 t + c_x t^2 along Delta = (Delta_1, Delta_2): c_x = D^2 g[Delta_1, Delta_2] (000 eq. 18 on a line). */
export function bilinearCoefficients(base: Network, params0: Params, direction: Params, x: tf.Tensor): { c0: tf.Tensor; c1: tf.Tensor; cross: tf.Tensor } {
  const blocks = base.blocks;
  if (!blocks || blocks.length !== 2) throw new Error(`bilinearCoefficients: ${base.name} has ${blocks?.length ?? 0} parameter blocks; expected exactly 2`);
  return tf.tidy(() => {
    const parts = blocks.map((names) => Object.fromEntries(Object.entries(direction).map(([k, t]) => [k, names.includes(k) ? t : tf.zerosLike(t)])));
    const jet = base.taylor(params0, direction, x, 1);
    return { c0: jet[0] as tf.Tensor, c1: jet[1] ?? tf.zerosLike(jet[0] as tf.Tensor), cross: mixedDerivative(base, params0, parts, x) };
  });
}

