import * as tf from '@tensorflow/tfjs-core';
import { checkArgs, checkNetwork, hvp } from './derivatives.js';
import { checkData, checkFiniteTensor, checkInt, checkNonNegative } from '../core/checks.js';
import { checkDeviceMemory } from '../core/memory-budget.js';
import { type VectorOps, lanczos } from '../core/linalg.js';
import type { Network } from '../nets/network.js';
import { type Params, pv, trainableNames } from '../core/params.js';
import { normals, rngFor } from '../core/random.js';

export const paramOps: VectorOps<Params> = {
  dot: (a, b) => pv.dot64(a, b),
  dots: (a, b) => pv.dot64Pair(a, b),
  axpy: (a, s, b) => tf.tidy(() => pv.keep(pv.add(a, b, s))),
  scale: (a, s) => tf.tidy(() => pv.keep(pv.scale(a, s))),
  dispose: (a) => pv.dispose(a),
};

/** A seeded Gaussian vector shaped like the given parameters (only the named ones). */
export function randomDirection(params: Params, seed: number, names: readonly string[] = Object.keys(params)): Params {
  return Object.fromEntries(names.map((n) => [n, tf.tensor(normals(rngFor(seed, 'direction', n), params[n].size), params[n].shape)]));
}

/** Output/sample weights u: [n, C], finite (checked before any gradient tape opens). */
function checkWeights(fn: string, net: Network, x: tf.Tensor, u: tf.Tensor | undefined): void {
  if (u === undefined) return;
  if (!(u instanceof tf.Tensor) || u.rank !== 2 || u.shape[0] !== x.shape[0] || u.shape[1] !== net.outputDim) {
    throw new Error(`${fn}: u has shape ${u instanceof tf.Tensor ? `[${u.shape.join(', ')}]` : String(u)}; expected [${x.shape[0]}, ${net.outputDim}], the output shape`);
  }
  if (u.isDisposed) throw new Error(`${fn}: u was disposed; expected a live tensor`);
  checkFiniteTensor(fn, 'u', u);
}

export interface SpectralNormResult {
  /** |λ|_max of the model-output Hessian ∇²_w ⟨u, f(w; x)⟩ (not the loss Hessian: see lossSharpness). */
  value: number;
  /** The extreme eigenvalue(s) found (largest magnitude first). */
  eigenvalues: number[];
  iterations: number;
  converged: boolean;
  tolerance: number;
  method: 'lanczos' | 'power';
}

export interface SpectralNormOptions {
  /** Output/sample weights u of the scalar function <u, f(w; x)> (default: ones, i.e. the Hessian of sum f). */
  u?: tf.Tensor;
  method?: 'lanczos' | 'power';
  maxIter?: number;
  /** Relative tolerance on the eigenvalue (power: change between iterations; Lanczos: residual bound). */
  tol?: number;
  seed?: number;
}

/**
 * ‖H‖ = max |λ(H)| of the Hessian of the model output, H = ∇²_w ⟨u, f(w; x)⟩ (with one input and one output
 * the Hessian of f itself; u = ones sums over inputs and outputs): the quantity of 002 (Table 1, eqs. 8-9,
 * §6.2 of the reference), whose norm falls as 1/√m with width m (the transition to linearity). From
 * Hessian-vector products (reverse mode over the order-1 jet). It is not the Hessian of the training loss,
 * ∇²_w L = Jᵀ (∇²_f ℓ) J + Σ_{i,c} ∂ℓ/∂f_ic ∇²_w f_ic (Gauss-Newton term plus this Hessian weighted by the
 * loss's output gradient, which is `opts.u`): the sharpness λ_max(∇²_w L) of the edge-of-stability
 * literature is lossSharpness.
 *
 * @param net the network
 * @param params its parameters w
 * @param x inputs; the Hessian is that of <u, f(w; x)>, u = ones by default (`opts.u`)
 * @param opts `u` ([n, C] weights); `method` 'lanczos' (default; few HVPs) or 'power'; `maxIter`, `tol` (relative),
 *   `seed` of the start vector
 * @example
 * const { value, converged } = hessianSpectralNorm(net, w, tf.tensor2d([[1]]));   // ||H|| at one input
 */
export function hessianSpectralNorm(net: Network, params: Params, x: tf.Tensor, opts: SpectralNormOptions = {}): SpectralNormResult {
  const { u, method = 'lanczos', maxIter = method === 'power' ? 200 : 80, tol = 1e-5, seed = 0 }: SpectralNormOptions = opts ?? {};
  const fn = 'hessianSpectralNorm';
  if (method !== 'lanczos' && method !== 'power') throw new Error(`${fn}: method = ${JSON.stringify(method)}; expected 'lanczos' or 'power'`);
  checkInt(fn, 'maxIter', maxIter, 1);
  checkNonNegative(fn, 'tol', tol);
  checkNetwork(net, fn);
  checkArgs(net, params, x);
  checkData(fn, params, x);
  checkWeights(fn, net, x, u);
  const names = trainableNames(net.specs);
  // Lanczos keeps every basis vector (full reorthogonalisation): up to maxIter parameter-sized vectors at once.
  const P = names.reduce((s, k) => s + params[k].size, 0);
  if (method === 'lanczos') checkDeviceMemory(fn, `Lanczos with maxIter = ${maxIter} on ${P} parameters`, 4 * P * (maxIter + 3), `Lower maxIter or use method: 'power' (two vectors).`);
  const op = (v: Params) => hvp(net, params, v, x, u);
  const start = randomDirection(params, seed, names);
  if (method === 'lanczos') {
    const r = lanczos(op, start, paramOps, { k: 1, maxIter, tol, which: 'magnitude' });
    pv.dispose(start);
    return { value: Math.abs(r.values[0]), eigenvalues: r.values, iterations: r.iterations, converged: r.converged, tolerance: tol, method };
  }
  let v = paramOps.scale(start, 1 / Math.sqrt(paramOps.dot(start, start)));
  pv.dispose(start);
  let lambda = 0;
  let converged = false;
  let it = 0;
  for (; it < maxIter && !converged; it++) {
    const w = op(v);
    const [rayleigh, ww] = paramOps.dots!(v, w);
    const norm = Math.sqrt(ww);
    pv.dispose(v);
    if (norm === 0) {
      pv.dispose(w);
      lambda = 0;
      converged = true;
      v = {};
      break;
    }
    v = paramOps.scale(w, 1 / norm);
    pv.dispose(w);
    converged = it > 0 && Math.abs(Math.abs(rayleigh) - Math.abs(lambda)) <= tol * Math.abs(rayleigh);
    lambda = rayleigh;
  }
  pv.dispose(v);
  return { value: Math.abs(lambda), eigenvalues: [lambda], iterations: it, converged, tolerance: tol, method };
}

/**
 * Spectral norms of the blocks H^(a,b) = ∂²⟨u, f⟩ / ∂w_a ∂w_b of the model-output Hessian (as hessianSpectralNorm,
 * not the loss Hessian) between parameter groups (002 eq. 58),
 * by power iteration on B^T B. Groups default to one per trainable parameter tensor (a layer's W or b).
 */
export function hessianBlockNorms(
  net: Network,
  params: Params,
  x: tf.Tensor,
  { groups, u, iters = 30, tol = 1e-4, seed = 0 }: { groups?: Record<string, string[]>; u?: tf.Tensor; iters?: number; tol?: number; seed?: number } = {},
): { a: string; b: string; norm: number; iterations: number }[] {
  const fn = 'hessianBlockNorms';
  checkInt(fn, 'iters', iters, 1);
  checkNonNegative(fn, 'tol', tol);
  checkNetwork(net, fn);
  checkArgs(net, params, x);
  checkData(fn, params, x);
  checkWeights(fn, net, x, u);
  const trainable = trainableNames(net.specs);
  for (const [k, names] of Object.entries(groups ?? {})) {
    const bad = Array.isArray(names) ? names.find((m) => !trainable.includes(m)) : names;
    if (!Array.isArray(names) || names.length === 0 || bad !== undefined) {
      throw new Error(`${fn}: groups.${k} = ${JSON.stringify(names)}; expected a non-empty list of trainable parameter names (${trainable.join(', ')})`);
    }
  }
  const g = groups ?? Object.fromEntries(trainableNames(net.specs).map((n) => [n, [n]]));
  const keys = Object.keys(g);
  const out: { a: string; b: string; norm: number; iterations: number }[] = [];
  const zeros = (names: string[]) => Object.fromEntries(trainableNames(net.specs).filter((n) => !names.includes(n)).map((n) => [n, tf.zerosLike(params[n])]));
  for (let i = 0; i < keys.length; i++) {
    for (let j = i; j < keys.length; j++) {
      const A = g[keys[i]];
      const B = g[keys[j]];
      // B^T B v for the block mapping group B to group A.
      const blockApply = (v: Params, from: string[], to: string[]): Params => {
        const z = zeros(from);
        const hv = hvp(net, params, { ...v, ...z }, x, u);
        pv.dispose(z);
        const keep = pv.pick(hv, to);
        pv.dispose(Object.fromEntries(Object.entries(hv).filter(([k]) => !to.includes(k))));
        return keep;
      };
      let v = randomDirection(params, seed + 7 * i + j, B);
      let sigma2 = 0;
      let it = 0;
      for (; it < iters; it++) {
        const n0 = Math.sqrt(paramOps.dot(v, v));
        const vn = paramOps.scale(v, 1 / n0);
        pv.dispose(v);
        const w = blockApply(vn, B, A);
        const w2 = blockApply(w, A, B);
        pv.dispose(w);
        const s2 = paramOps.dot(vn, w2);
        pv.dispose(vn);
        v = w2;
        const done = it > 0 && Math.abs(s2 - sigma2) <= tol * Math.abs(s2);
        sigma2 = s2;
        if (done || s2 === 0) break;
      }
      pv.dispose(v);
      out.push({ a: keys[i], b: keys[j], norm: Math.sqrt(Math.max(sigma2, 0)), iterations: it + 1 });
    }
  }
  return out;
}
