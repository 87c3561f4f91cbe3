import * as tf from '@tensorflow/tfjs-core';
import { jvp, vjp } from '../analysis/derivatives.js';
import type { Network } from '../nets/network.js';
import { kernelEigen } from '../analysis/ntk.js';
import { type Params, pv } from '../core/params.js';
import { normals64, rngFor } from '../core/random.js';
import type { Cadence, TrackContext, Tracker } from './train.js';
import { heldOutMetrics, trainOutput } from './trackers.js';

/**
 * Trackers of the catapult notebooks (003 Ch.3, App. B): the tangent kernel along fixed or top directions
 * without forming it (pᵀKp = ‖Jᵀp‖², one VJP), and best-so-far held-out metrics.
 */

/** pᵀ K p = ‖Jᵀ p‖² for p over the n·C training outputs (rows i·C + c), by one VJP; any network. */
export function kernelQuadraticForm(net: Network, params: Params, x: tf.Tensor, p: ArrayLike<number>): number {
  const n = x.shape[0];
  const C = net.outputDim;
  if (p.length !== n * C) throw new Error(`kernelQuadraticForm: direction has ${p.length} entries; expected n·C = ${n * C}`);
  const u = tf.tensor2d(Float32Array.from(p), [n, C]);
  const g = vjp(net, params, x, u);
  let s = 0;
  for (const t of Object.values(g)) s += tf.tidy(() => tf.sum(tf.square(t)).dataSync()[0]);
  tf.dispose(u);
  pv.dispose(g);
  return s;
}

function norm2(p: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += p[i] * p[i];
  return s;
}

/**
 * Rayleigh quotients λ_p(t) = pᵀK(t)p / ‖p‖² of the training-set tangent kernel along fixed directions
 * (003 Prop B.11.1: on 1-D data p₁ = x·1{x ≥ 0}, p₂ = x·1{x < 0} are its eigenvectors, so these are λ₁(t),
 * λ₂(t) without the order swap of sorted eigenvalues). Records one value per direction, under its key.
 * Example: `rayleighQuotients({ lambda1: p1, lambda2: p2 }, 5)`.
 */
export function rayleighQuotients(directions: Record<string, ArrayLike<number>>, every: Cadence = 1): Tracker {
  const entries = Object.entries(directions);
  if (entries.length === 0) throw new Error('rayleighQuotients: directions = {}; expected at least one named direction');
  for (const [k, p] of entries) {
    if (!p || typeof p.length !== 'number' || !(norm2(p) > 0)) throw new Error(`rayleighQuotients: direction ${k} is zero or not an array; expected a non-zero vector over the training outputs`);
  }
  return {
    name: 'rayleigh',
    every,
    stateless: true,
    record: (c) => Object.fromEntries(entries.map(([k, p]) => [k, kernelQuadraticForm(c.net, c.params, c.x, p) / norm2(p)])),
  };
}

/** Residual f − y on the training set, float64, rows i·C + c. */
function residual(c: TrackContext): Float64Array {
  const r = tf.tidy(() => tf.sub(trainOutput(c), c.y));
  const out = Float64Array.from(r.dataSync());
  r.dispose();
  return out;
}

/**
 * Top eigenpair of the training-set tangent kernel by power iteration on K u = J (Jᵀu) (one VJP and one JVP
 * per iteration), warm-started from `start`. Stops on the eigenvector, not the eigenvalue (which converges
 * twice as fast and stalls in float32 while u is still off by (λ₂/λ₁)^t): when the residual
 * ‖K u − λ u‖ ≤ tol·λ, or when it has stopped decreasing for `stall` iterations (the float32 floor). Then
 * sin∠(u, p₁) ≤ residual / (λ₁ − λ₂).
 *
 * @param net the network
 * @param params its parameters
 * @param x the training inputs (the kernel is n·C × n·C)
 * @param opts `start` vector (default a seeded Gaussian, `seed`), `maxIter` (default 100), `stall` (default 5),
 *   `tol`: relative residual (default 1e-7: in float32 the floor, about 1e-6, ends the iteration)
 * @returns value λ = uᵀKu, vector u, iterations, residual ‖Ku − λu‖/λ
 */
export function kernelTopEigenpair(
  net: Network,
  params: Params,
  x: tf.Tensor,
  opts: { start?: ArrayLike<number>; maxIter?: number; tol?: number; seed?: number; stall?: number } = {},
): { value: number; vector: Float64Array; iterations: number; residual: number } {
  const { start, maxIter = 100, tol = 1e-7, seed = 0, stall = 5 } = opts;
  const n = x.shape[0];
  const C = net.outputDim;
  let u = start ? Float64Array.from(start) : normals64(rngFor(seed, 'kernel-power-start'), n * C);
  let s = Math.sqrt(norm2(u));
  if (!(s > 0)) throw new Error('kernelTopEigenpair: start vector is zero; expected a non-zero vector');
  u = u.map((v) => v / s);
  let best = { residual: Infinity, value: NaN, vector: u, it: 0 };
  for (let it = 1; it <= maxIter; it++) {
    const ut = tf.tensor2d(Float32Array.from(u), [n, C]);
    const g = vjp(net, params, x, ut);
    const lam = pv.dot(g, g); // uᵀKu = ‖Jᵀu‖²
    const Ku = jvp(net, params, g, x);
    const next = Float64Array.from(Ku.dataSync());
    tf.dispose([ut, Ku]);
    pv.dispose(g);
    s = Math.sqrt(norm2(next));
    if (!(s > 0)) return { value: 0, vector: u, iterations: it, residual: 0 };
    const residual = Math.sqrt(norm2(next.map((v, i) => v - lam * u[i]))) / Math.abs(lam);
    if (residual < best.residual) best = { residual, value: lam, vector: u, it };
    if (residual <= tol || it - best.it >= stall) return { value: best.value, vector: best.vector, iterations: it, residual: best.residual };
    u = next.map((v) => v / s);
  }
  return { value: best.value, vector: best.vector, iterations: maxIter, residual: best.residual };
}

/**
 * Dynamics confined to the top eigendirection of the kernel (003 App. B.13–B.14, Figs B.2/B.3; reference §1.4):
 * with p₁ = p₁(t) the top eigenvector of K(t), λ₁(t) its eigenvalue, r = f − y and η_eff = η·c (c the loss's
 * output curvature: 1 for ½Σ, 2/n for the mean MSE),
 *   r_f(t) = ⟨p₁, r(t+1)⟩ / ⟨p₁, r(t)⟩ − (1 − η_eff λ₁(t)),   r_K(t) = λ₁(t) − p₁ᵀ K(t+1) p₁,
 * and the loss along p₁, loss₁(t) = c/2 · ⟨p₁, r(t)⟩² (the MSE loss itself is c/2 · ‖r‖²).
 * `kernel` (optional) gives K explicitly (dense eigenpair); otherwise power iteration on VJP/JVP.
 * Needs every = 1. Records at step t: lambda1, lossTop (of iterate t) and rf, rK of the update t−1 → t.
 */
export function topEigenDynamics(opts: { maxIter?: number; tol?: number; kernel?: (net: Network, params: Params, x: tf.Tensor) => tf.Tensor2D } = {}): Tracker {
  const { kernel, ...power } = opts;
  // With an explicit kernel (e.g. a closed form): dense eigenpair and quadratic forms; otherwise VJP/JVP only.
  const top = (c: TrackContext, start?: Float64Array): { value: number; vector: Float64Array; K?: Float64Array } => {
    if (!kernel) return kernelTopEigenpair(c.net, c.params, c.x, { start, ...power });
    const K = kernel(c.net, c.params, c.x);
    const e = kernelEigen(K, 1);
    const Kd = Float64Array.from(K.dataSync());
    K.dispose();
    return { value: e.values[0], vector: e.vectors, K: Kd };
  };
  const quadForm = (c: TrackContext, p: Float64Array, K?: Float64Array): number => {
    if (!K) return kernelQuadraticForm(c.net, c.params, c.x, p);
    const N = p.length;
    let s = 0;
    for (let i = 0; i < N; i++) {
      let row = 0;
      for (let j = 0; j < N; j++) row += K[i * N + j] * p[j];
      s += p[i] * row;
    }
    return s;
  };
  let prev: { p: Float64Array; lambda: number; proj: number; lr: number } | null = null;
  return {
    name: 'topEigenDynamics',
    every: 1,
    record(c) {
      const n = c.x.shape[0];
      const C = c.net.outputDim;
      const curv = c.loss.outputCurvature?.(n, C);
      if (curv === undefined) throw new Error(`topEigenDynamics: loss ${c.loss.name} has no constant output curvature; expected an MSE loss`);
      const r = residual(c);
      const out: Record<string, number> = {};
      const now = top(c, prev?.p);
      if (prev) {
        let proj = 0;
        for (let i = 0; i < r.length; i++) proj += prev.p[i] * r[i];
        out.rf = proj / prev.proj - (1 - prev.lr * curv * prev.lambda);
        out.rK = prev.lambda - quadForm(c, prev.p, now.K);
      }
      let proj = 0;
      for (let i = 0; i < r.length; i++) proj += now.vector[i] * r[i];
      prev = { p: now.vector, lambda: now.value, proj, lr: c.lr };
      return { ...out, lambda1: now.value, lossTop: (curv / 2) * proj * proj };
    },
    snapshot: () => prev,
    restore(state) {
      prev = state as typeof prev;
    },
    dispose() {
      prev = null;
    },
  };
}

/**
 * Held-out loss and accuracy and their best values so far (003 Fig 3.4: "the best test loss achieved during
 * the training process"): records `${prefix}Loss`, `${prefix}Accuracy`, `${prefix}BestLoss`, `${prefix}BestAccuracy`.
 * Non-finite values never become the best. Example: `bestHeldOut({ x: xTest, y: yTest }, 1)`.
 */
export function bestHeldOut(data: { x: tf.Tensor; y: tf.Tensor }, every: Cadence = 1, prefix = 'test'): Tracker {
  const inner = heldOutMetrics(data, every, prefix);
  let bestLoss = Infinity;
  let bestAcc = -Infinity;
  return {
    name: `${prefix}Best`,
    every,
    init() {
      bestLoss = Infinity;
      bestAcc = -Infinity;
    },
    record(c) {
      const v = inner.record(c) as Record<string, number>;
      const l = v[`${prefix}Loss`];
      const a = v[`${prefix}Accuracy`];
      if (Number.isFinite(l) && l < bestLoss) bestLoss = l;
      if (Number.isFinite(a) && a > bestAcc) bestAcc = a;
      return { ...v, [`${prefix}BestLoss`]: bestLoss, [`${prefix}BestAccuracy`]: bestAcc };
    },
    snapshot: () => ({ bestLoss, bestAcc }),
    restore(state) {
      ({ bestLoss, bestAcc } = state as { bestLoss: number; bestAcc: number });
    },
  };
}
