import * as tf from '@tensorflow/tfjs-core';
import { twoClusterData } from '../data/two-cluster.js';
import { fcn } from '../nets/fcn.js';
import { kernelQuadraticForm, rayleighQuotients, topEigenDynamics } from '../train/kernel-trackers.js';
import { type Loss, lossValue, mse } from '../analysis/losses.js';
import type { Network } from '../nets/network.js';
import { kernelEigen, tangentKernel } from '../analysis/ntk.js';
import { type Params, pv } from '../core/params.js';
import { nqm } from '../nets/taylor-models.js';
import { train } from '../train/train.js';
import { registerTasks } from '../run/tasks.js';
import { distanceFromInit } from '../train/trackers.js';
import { gaussianClusters } from '../data/gaussian-clusters.js';
import { generalQuadraticModel, quadraticModelGradient, quadraticModelValue } from '../data/quadratic-model.js';

/**
 * 003 Fig 3.2(a), Fig 3.3 (NQM) and Fig B.1 (network): the two-layer bias-free ReLU network
 * f = (1/√m) Σ v_k σ(u_k x) (NTK parameterization, all weights N(0, 1)) and its NQM on the 1-D two-cluster
 * data (x ~ N(±2, 1), 128 points), full-batch GD on the MSE-mean (1/n)‖f − y‖² (the convention under which
 * the thesis' 0.37 / 0.39 come out: η_i = n/λ_i(0)).
 */

/** Where a learning rate sits relative to the computed thresholds η₁ = n/λ₁(0) < η₂ = n/λ₂(0) and η_max = 2η₁. */
export type Placement = 'sub' | 'between' | 'both' | 'above';

/** η for a placement: 0.8 η₁; (η₁ + η₂)/2; (η₂ + 2η₁)/2; 1.25 · 2η₁ (reference §3.2, "Reproduction notes"). */
export function placeLearningRate(placement: Placement, eta1: number, eta2: number): number {
  switch (placement) {
    case 'sub': return 0.8 * eta1;
    case 'between': return (eta1 + eta2) / 2;
    case 'both': return (eta2 + 2 * eta1) / 2;
    case 'above': return 1.25 * 2 * eta1;
    default: throw new Error(`placeLearningRate: placement = ${String(placement)}; expected 'sub', 'between', 'both' or 'above'`);
  }
}

export interface TwoClusterCatapultRun {
  model: 'network' | 'nqm';
  placement: Placement;
  /** n/λ of the two eigen-directions at init, larger eigenvalue first (η₁ ≤ η₂). */
  eta1: number;
  eta2: number;
  /** Which of p₊ = x·1{x ≥ 0}, p₋ = x·1{x < 0} carries λ₁. */
  direction1: 'x>=0' | 'x<0';
  /** Number of the n points on x ≥ 0: the draw's balance, which sets ‖p₊‖², ‖p₋‖² and so η₂/η₁ (thesis: ≈ 66/62). */
  nonNegative: number;
  lr: number;
  status: string;
  steps: number[];
  loss: number[];
  /** Rayleigh quotients on p₁, p₂ (the directions of λ₁(0), λ₂(0)). */
  lambda1: number[];
  lambda2: number[];
  distance: number[];
  /** Predicted loss plateau (1/n)‖P⊥ y‖², P⊥ the projection off span{p₁, p₂} (Prop B.11.3). */
  plateau: number;
  finalLoss: number;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * One GD run of Fig 3.3 (model 'nqm') or Fig B.1 / Fig 3.2(a) (model 'network') at the learning rate placed by
 * the computed thresholds. Records every `every` steps the loss, λ₁(t), λ₂(t) as Rayleigh quotients on the
 * fixed directions (Prop B.11.1) and ‖w_t − w_0‖. Example: `twoClusterCatapult({ model: 'nqm', placement: 'between', m: 5000, seed: 0, steps: 400 })`.
 */
export function twoClusterCatapult(o: { model: 'network' | 'nqm'; placement: Placement; m: number; n?: number; seed: number; steps: number; every?: number; progress?: (line: string) => void }): TwoClusterCatapultRun {
  const { model, placement, m, n = 128, seed, steps, every = 1 } = o;
  if (model !== 'network' && model !== 'nqm') throw new Error(`twoClusterCatapult: model = ${String(model)}; expected 'network' or 'nqm'`);
  const data = twoClusterData({ n, seed });
  const base = fcn({ widths: [1, m, 1], activation: 'relu' });
  const w0 = base.init(seed);
  const net = model === 'nqm' ? nqm(base, w0) : base;
  const xs = data.x.dataSync();
  const pPos = Array.from(xs, (v) => (v >= 0 ? v : 0));
  const pNeg = Array.from(xs, (v) => (v < 0 ? v : 0));
  const lamPos = kernelQuadraticForm(base, w0, data.x, pPos) / dot(pPos, pPos);
  const lamNeg = kernelQuadraticForm(base, w0, data.x, pNeg) / dot(pNeg, pNeg);
  const [p1, p2, l1, l2] = lamPos >= lamNeg ? [pPos, pNeg, lamPos, lamNeg] : [pNeg, pPos, lamNeg, lamPos];
  const eta1 = n / l1;
  const eta2 = n / l2;
  const lr = placeLearningRate(placement, eta1, eta2);
  // Prop B.11.3: the residual off span{p1, p2} never changes.
  const y = Float64Array.from(data.y.dataSync());
  const e1 = p1.map((v) => v / Math.sqrt(dot(p1, p1)));
  const e2 = p2.map((v) => v / Math.sqrt(dot(p2, p2)));
  const c1 = dot(e1, y);
  const c2 = dot(e2, y);
  const plateau = (dot(y, y) - c1 * c1 - c2 * c2) / n;
  const r = train({
    net, params: w0, x: data.x, y: data.y, loss: mse('mean'), lr, steps,
    stop: { divergeAbove: 1e8 },
    track: [rayleighQuotients({ lambda1: p1, lambda2: p2 }, every), distanceFromInit(every), { name: 'loss', every, record: (c) => ({ loss: lossValue(c.loss, c.net.apply(c.params, c.x), c.y).dataSync()[0] }) }],
    progress: o.progress ?? false,
    label: `${model} ${placement} m=${m} seed=${seed}`,
  });
  const h = r.history;
  const out: TwoClusterCatapultRun = {
    model, placement, eta1, eta2, direction1: lamPos >= lamNeg ? 'x>=0' : 'x<0', nonNegative: xs.filter((v) => v >= 0).length, lr, status: r.status,
    steps: h.loss?.step ?? [], loss: (h.loss?.value ?? []) as number[],
    lambda1: (h.lambda1?.value ?? []) as number[], lambda2: (h.lambda2?.value ?? []) as number[],
    distance: (h.distanceL2?.value ?? []) as number[],
    plateau, finalLoss: r.finalLoss,
  };
  pv.dispose(r.params);
  pv.dispose(w0);
  if (net !== base) net.dispose?.();
  data.dispose();
  return out;
}

/** η₂/η₁ = λ₁(0)/λ₂(0) of the thesis' draw: 2/λ₁(0) = 0.37, 2/λ₂(0) = 0.39 (003 T:L861). */
export const THESIS_ETA_RATIO = 0.39 / 0.37;

/**
 * Float noise of a Rayleigh quotient: a float32 sum over m·n = 5000 · 128 ≈ 6.4·10⁵ terms accumulates a relative
 * round-off of about √(6.4·10⁵) · 1.2·10⁻⁷ ≈ 10⁻⁴. "Decreases" means a relative drop larger than this, fixed before
 * any draw was looked at.
 */
export const EIGEN_NOISE = 1e-4;

/** "Nearly constant" below η₁ (T:L861): every recorded λ_i(t) within 2 % of λ_i(0) (the notebook's bound since its first version). */
export const SUB_CRITICAL_BAND = 0.02;

/** Prop B.11.3: the final loss equals the plateau (1/n)‖P⊥y‖² within 1 %. */
export const PLATEAU_TOLERANCE = 0.01;

/** λ(T)/λ(0) − 1 of a recorded series, signed (< 0 is a drop); NaN for an empty series. */
export function relativeChange(series: readonly number[]): number {
  if (!Array.isArray(series)) throw new Error(`relativeChange: series = ${String(series)}; expected an array of numbers`);
  return series.length === 0 ? NaN : series[series.length - 1] / series[0] - 1;
}

/** The claims of Fig 3.3 (NQM, T:L861) and Fig B.1 (network, T:L3044) on one draw, each in the thesis' words. */
export interface TwoClusterVerdict {
  seed: number;
  /** The draw's points on x ≥ 0 (of n) and its η₂/η₁, beside the thesis' THESIS_ETA_RATIO ≈ 1.05. */
  nonNegative: number;
  etaRatio: number;
  /** Signed relative changes λ_i(T)/λ_i(0) − 1 at the 'between' and 'both' rates (NaN if the run diverged). */
  between: { lambda1: number; lambda2: number };
  both: { lambda1: number; lambda2: number };
  /** "when η < 0.37 … the kernel is nearly constant": max_t |λ_i(t)/λ_i(0) − 1| ≤ SUB_CRITICAL_BAND for i = 1, 2. */
  subConstant: boolean;
  /** "when 0.37 < η < 0.39 … only λ₁(t) decreases": λ₁ drops by more than the noise … */
  betweenLambda1Drops: boolean;
  /** … and λ₂ does not drop (λ₂(T)/λ₂(0) − 1 ≥ −noise), whether it stays or rises. */
  betweenLambda2NoDrop: boolean;
  /** "when 0.39 < η < η_max … both λ₁(t) and λ₂(t) decreases": both drop by more than the noise. */
  bothDrop: boolean;
  /** Thm 3.3.6: above η_max = 2η₁ GD diverges. */
  aboveDiverges: boolean;
  /** Prop B.11.3: every non-divergent run ends on the plateau within PLATEAU_TOLERANCE. */
  plateau: boolean;
}

/**
 * Judges one draw's four runs (one per placement, same model and seed) by the thesis' words (T:L861, T:L3044):
 * a decrease is a relative drop beyond `noise`; "only λ₁ decreases" asks nothing of λ₂ but that it does not drop.
 * Example: `twoClusterVerdict(0, { sub, between, both, above })`.
 */
export function twoClusterVerdict(seed: number, runs: Record<Placement, TwoClusterCatapultRun>, noise = EIGEN_NOISE): TwoClusterVerdict {
  if (runs === null || typeof runs !== 'object') throw new Error(`twoClusterVerdict: runs = ${String(runs)}; expected { sub, between, both, above } of twoClusterCatapult results`);
  for (const p of ['sub', 'between', 'both', 'above'] as const) {
    const r = runs[p];
    if (!r || !Array.isArray(r.lambda1)) throw new Error(`twoClusterVerdict: runs.${p} = ${String(r)}; expected a twoClusterCatapult result`);
    if (r.placement !== p) throw new Error(`twoClusterVerdict: runs.${p}.placement = ${String(r.placement)}; expected '${p}'`);
  }
  if (!(noise >= 0)) throw new Error(`twoClusterVerdict: noise = ${noise}; expected a number ≥ 0`);
  const { sub, between, both, above } = runs;
  const change = (r: TwoClusterCatapultRun) => (r.status === 'diverged' ? { lambda1: NaN, lambda2: NaN } : { lambda1: relativeChange(r.lambda1), lambda2: relativeChange(r.lambda2) });
  const maxRel = (a: number[]) => Math.max(...a.map((v) => Math.abs(v / a[0] - 1)));
  const b = change(between);
  const o = change(both);
  const converged = [sub, between, both].filter((r) => r.status !== 'diverged');
  return {
    seed, nonNegative: sub.nonNegative, etaRatio: sub.eta2 / sub.eta1, between: b, both: o,
    subConstant: sub.status !== 'diverged' && Math.max(maxRel(sub.lambda1), maxRel(sub.lambda2)) <= SUB_CRITICAL_BAND,
    betweenLambda1Drops: b.lambda1 < -noise,
    betweenLambda2NoDrop: b.lambda2 >= -noise,
    bothDrop: o.lambda1 < -noise && o.lambda2 < -noise,
    aboveDiverges: above.status === 'diverged',
    plateau: converged.length > 0 && converged.every((r) => Math.abs(r.finalLoss / r.plateau - 1) <= PLATEAU_TOLERANCE),
  };
}

/** Fraction of the draws on which a claim holds. */
export function fractionHolding(verdicts: readonly TwoClusterVerdict[], claim: (v: TwoClusterVerdict) => boolean): number {
  if (!Array.isArray(verdicts) || verdicts.length === 0) throw new Error(`fractionHolding: verdicts = ${String(verdicts)}; expected a non-empty array of twoClusterVerdict results`);
  return verdicts.filter(claim).length / verdicts.length;
}

/**
 * Tangent kernel of the NQM of the bias-free two-layer ReLU net `fcn([d, m, 1])` at params (masks frozen at
 * params0): g = (1/√(md)) Σ_i v_i s_i(x) u_iᵀx with s_i(x) = 1{u0_iᵀx ≥ 0} (003 eq. 3.10), so
 * K(x, x') = (1/(md)) Σ_i s_i(x) s_i(x') [(u_iᵀx)(u_iᵀx') + v_i² xᵀx'].
 */
export function twoLayerReluNqmKernel(params0: Params, params: Params, x: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, d] = x.shape as [number, number];
    const U0 = params0.W1 as tf.Tensor2D;
    const U = params.W1 as tf.Tensor2D;
    const v = params.W2 as tf.Tensor2D;
    const m = U.shape[0];
    const S = tf.cast(tf.greaterEqual(tf.matMul(x as tf.Tensor2D, U0, false, true), 0), 'float32');
    const A = tf.mul(S, tf.matMul(x as tf.Tensor2D, U, false, true));
    const Sv = tf.mul(S, tf.square(v));
    const K = tf.add(tf.matMul(A, A, false, true), tf.mul(tf.matMul(Sv, S, false, true), tf.matMul(x as tf.Tensor2D, x as tf.Tensor2D, false, true)));
    return tf.div(K, m * d) as tf.Tensor2D;
  });
}

export interface TopEigenRun {
  model: 'network' | 'nqm';
  lrMultiple: number;
  etaCrit: number;
  lr: number;
  status: string;
  loss: number[];
  lossTop: number[];
  lambda1: number[];
  /** r_f, r_K of update t → t+1 (index t). */
  rf: number[];
  rK: number[];
}

/**
 * 003 Figs B.2 (NQM) / B.3 (network): a two-layer ReLU FC net of width m on n two-class Gaussian points in R^d
 * (±1 targets; the synthetic stand-in for CIFAR-2/SVHN-2), GD on the MSE-mean at lrMultiple · η_crit,
 * η_crit = n/λ_max(K₀); records the loss, the loss along the top eigenvector p₁(t) of K(t), λ₁(t), and r_f, r_K.
 */
export function topEigenspaceRun(o: { model: 'network' | 'nqm'; m: number; n: number; d: number; lrMultiple: number; steps: number; seed: number; progress?: (line: string) => void }): TopEigenRun {
  const { model, m, n, d, lrMultiple, steps, seed } = o;
  const data = gaussianClusters({ perClass: n / 2, classes: 2, dim: d, seed, targets: 'signed' });
  const base = fcn({ widths: [d, m, 1], activation: 'relu' });
  const w0 = base.init(seed);
  const net: Network = model === 'nqm' ? nqm(base, w0) : base;
  const K0 = tangentKernel(base, w0, data.x);
  const lam0 = kernelEigen(K0, 1).values[0];
  K0.dispose();
  const etaCrit = n / lam0;
  const lr = lrMultiple * etaCrit;
  const loss: Loss = mse('mean');
  const kernel = model === 'nqm' ? (p: Params) => twoLayerReluNqmKernel(w0, p, data.x) : (p: Params) => tangentKernel(base, p, data.x);
  const r = train({
    net, params: w0, x: data.x, y: data.y, loss, lr, steps, stop: { divergeAbove: 1e8 },
    track: [topEigenDynamics({ kernel: (_net, p) => kernel(p) }), { name: 'loss', every: 1, record: (c) => ({ loss: lossValue(c.loss, c.net.apply(c.params, c.x), c.y).dataSync()[0] }) }],
    progress: o.progress ?? false, label: `${model} B.2/B.3 m=${m}`,
  });
  const h = r.history;
  const rf = (h.rf?.value ?? []) as number[];
  const rK = (h.rK?.value ?? []) as number[];
  const out: TopEigenRun = {
    model, lrMultiple, etaCrit, lr, status: r.status,
    loss: (h.loss?.value ?? []) as number[], lossTop: (h.lossTop?.value ?? []) as number[], lambda1: (h.lambda1?.value ?? []) as number[], rf, rK,
  };
  pv.dispose(r.params);
  pv.dispose(w0);
  if (net !== base) net.dispose?.();
  data.dispose();
  return out;
}

export interface KernelScaleRun {
  /** γ (general quadratic model) or width m (network). */
  value: number;
  lrMultiple: number;
  etaCrit: number;
  lr: number;
  status: string;
  loss: number[];
  lambda: number[];
  peakLoss: number;
  lambdaFinal: number;
}

function summarize(value: number, lrMultiple: number, etaCrit: number, status: string, loss: number[], lambda: number[]): KernelScaleRun {
  let peak = 0;
  for (const l of loss) if (l > peak) peak = l;
  return { value, lrMultiple, etaCrit, lr: lrMultiple * etaCrit, status, loss, lambda, peakLoss: peak, lambdaFinal: lambda[lambda.length - 1] };
}

/**
 * 003 Fig B.4(a): GD on ½(g − y)² for the general quadratic model g(w) = wᵀφ + ½γ wᵀΣw (003 eq. 3.3; d = 100,
 * φ = x/‖x‖, Σ = diag(±1), w0 ~ N(0, I), one example), float64, at lrMultiple · η_crit with η_crit = 2/λ0,
 * λ = ‖φ + γΣw‖². Records the loss and λ(t) at every step.
 */
export function generalQuadraticRun(o: { gamma: number; lrMultiple: number; steps: number; seed: number; d?: number; y?: number }): KernelScaleRun {
  const { gamma, lrMultiple, steps, seed, d = 100, y = 0 } = o;
  const task = generalQuadraticModel({ d, n: 1, gamma, y, seed });
  const w = Float64Array.from(task.w0);
  const grad0 = quadraticModelGradient(task, w);
  const etaCrit = 2 / dot(grad0, grad0);
  const eta = lrMultiple * etaCrit;
  const loss: number[] = [];
  const lambda: number[] = [];
  let status = 'max-steps';
  for (let t = 0; t <= steps; t++) {
    const r = quadraticModelValue(task, w) - y;
    const g = quadraticModelGradient(task, w);
    loss.push(0.5 * r * r);
    lambda.push(dot(g, g));
    if (!Number.isFinite(r) || 0.5 * r * r > 1e30) {
      status = 'diverged';
      break;
    }
    if (t < steps) for (let j = 0; j < d; j++) w[j] -= eta * r * g[j];
  }
  return summarize(gamma, lrMultiple, etaCrit, status, loss, lambda);
}

/**
 * 003 Fig B.4(b): a bias-free two-layer ReLU network of width m on n two-class Gaussian points in R^d (±1 targets;
 * the synthetic stand-in for 20 CIFAR-2 images), GD on ½‖f − y‖² at lrMultiple · η_crit, η_crit = 2/λ_max(K₀);
 * records the loss and λ_max(K_t) every `every` steps.
 */
export function widthCatapultRun(o: { m: number; lrMultiple: number; steps: number; seed: number; n?: number; d?: number; every?: number; progress?: (line: string) => void }): KernelScaleRun {
  const { m, lrMultiple, steps, seed, n = 20, d = 50, every = 1 } = o;
  const data = gaussianClusters({ perClass: n / 2, classes: 2, dim: d, seed, targets: 'signed' });
  const net = fcn({ widths: [d, m, 1], activation: 'relu' });
  const w0 = net.init(seed);
  const top = (p: Params) => {
    const K = tangentKernel(net, p, data.x);
    const v = kernelEigen(K, 1).values[0];
    K.dispose();
    return v;
  };
  const etaCrit = 2 / top(w0);
  const r = train({
    net, params: w0, x: data.x, y: data.y, loss: mse('halfSum'), lr: lrMultiple * etaCrit, steps, stop: { divergeAbove: 1e12 },
    track: [{ name: 'scale', every, record: (c) => ({ loss: lossValue(c.loss, c.net.apply(c.params, c.x), c.y).dataSync()[0], lambdaMax: top(c.params) }) }],
    progress: o.progress ?? false, label: `B.4(b) m=${m} lr=${lrMultiple}·η_crit`,
  });
  const out = summarize(m, lrMultiple, etaCrit, r.status, (r.history.loss?.value ?? []) as number[], (r.history.lambdaMax?.value ?? []) as number[]);
  if (r.status === 'diverged') out.peakLoss = Infinity;
  pv.dispose(r.params);
  pv.dispose(w0);
  data.dispose();
  return out;
}

registerTasks(import.meta.url, { twoClusterCatapult, topEigenspaceRun, generalQuadraticRun, widthCatapultRun });
declare module '../run/tasks.js' {
  interface TaskRegistry { twoClusterCatapult: typeof twoClusterCatapult; topEigenspaceRun: typeof topEigenspaceRun; generalQuadraticRun: typeof generalQuadraticRun; widthCatapultRun: typeof widthCatapultRun }
}
