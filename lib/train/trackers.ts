import * as tf from '@tensorflow/tfjs-core';
import { agop, agopAlignment } from '../analysis/agop.js';
import { criticalLearningRate } from '../analysis/critical.js';
import { lossValue } from '../analysis/losses.js';
import { NonFiniteCurvatureError, type Sharpness, lossSharpness } from '../analysis/sharpness.js';
import { checkInt, checkPositive, firstNonFinite } from '../core/checks.js';
import { type EigenMethod, kernelEigen, lossDecomposition, projectResidual, relativeKernelChange, tangentKernel, topEigenpairs } from '../analysis/ntk.js';
import { type Cadence, isCadence, isDue, type TrackContext, type Tracker } from './train.js';
import { type Params, pv } from '../core/params.js';

/** Quantities recorded along a run (003 Ch.3-4, 002 Figs 1-2). Each returns a Tracker for train(). */

/**
 * The full training loss L(w_t) on (x, y), recorded as `loss` (under GD `batchLoss` is the same number before
 * each update; with mini-batches it is the batch's loss, and this the whole set's).
 *
 * @param every cadence: every k steps (default 1) or `{ geometric: r }`; the final iterate is always recorded
 * @example
 * const net = fcn({ widths: [1, 16, 1], activation: 'tanh' }), w = net.init(0);
 * const x = tf.reshape(tf.linspace(-1, 1, 20), [20, 1]), y = tf.sin(tf.mul(x, 3));
 * const result = train({ net, params: w, x, y, loss: mse('mean'), lr: 0.1, steps: 100, batchSize: 10, track: [trainLoss(10)] });
 * const { step, value } = result.history.loss;   // the full loss at steps 0, 10, ..., 100
 */
export function trainLoss(every: Cadence = 1): Tracker {
  return { name: 'loss', every, stateless: true, record: (c) => ({ loss: lossValue(c.loss, trainOutput(c), c.y).dataSync()[0] }) };
}

/**
 * Loss and accuracy on held-out data (argmax for several outputs, sign for one output with ±1 targets), recorded
 * as `${prefix}Loss` and `${prefix}Accuracy`.
 *
 * @param data the held-out inputs `x` and targets `y` (shaped as the training set's)
 * @param every cadence (default 1)
 * @param prefix name of the recorded keys (default 'test')
 * @example
 * const parts = splitDataset(gaussianClusters({ perClass: 30, classes: 3, dim: 4, seed: 0 }), { train: 0.8, test: 0.2 }, 1);
 * const held = parts.test!;
 * const net = fcn({ widths: [4, 32, 3], activation: 'tanh' });
 * const result = train({ net, params: net.init(0), x: parts.train.x, y: parts.train.y, loss: crossEntropy(), lr: 0.5, steps: 50, track: [heldOutMetrics({ x: held.x, y: held.y }, 10)] });
 * console.log(result.history.testAccuracy.value);
 */
export function heldOutMetrics(data: { x: tf.Tensor; y: tf.Tensor }, every: Cadence = 1, prefix = 'test'): Tracker {
  return {
    name: prefix,
    every,
    stateless: true,
    record(c) {
      const f = c.net.apply(c.params, data.x);
      const l = lossValue(c.loss, f, data.y).dataSync()[0];
      const C = f.shape[1] as number;
      const correct = C === 1 ? tf.equal(tf.sign(f), tf.sign(data.y)) : tf.equal(tf.argMax(f, 1), tf.argMax(data.y, 1));
      const acc = tf.mean(tf.cast(correct, 'float32')).dataSync()[0];
      return { [`${prefix}Loss`]: l, [`${prefix}Accuracy`]: acc };
    },
  };
}

/** Top-k eigenvalues of the training-set NTK. */
export function ntkTopEigenvalues(k = 1, every: Cadence = 1): Tracker {
  return {
    name: 'ntkTop',
    every,
    stateless: true,
    record(c) {
      const K = tangentKernel(c.net, c.params, c.x);
      return { ntkTop: kernelEigen(K, k).values };
    },
  };
}

/** ||K_t - K_0|| / ||K_0|| on the training set (002 ΔK(t); its sup over t is ΔK). */
export function kernelChange(every: Cadence = 1, norm: 'fro' | 'spectral' = 'fro'): Tracker {
  let K0: tf.Tensor2D | null = null;
  return {
    name: 'kernelChange',
    every,
    stateless: true,
    init(c) {
      K0 = tf.keep(tangentKernel(c.net, c.params0, c.x));
    },
    record(c) {
      return { kernelChange: relativeKernelChange(tangentKernel(c.net, c.params, c.x), K0 as tf.Tensor2D, norm) };
    },
    dispose() {
      K0?.dispose();
      K0 = null;
    },
  };
}

/** Loss split into the top-s eigenspace of the current NTK and its complement (003 eq. 4.2); s counts eigenvectors. */
export function lossSplit(s: number, every: Cadence = 1, scale?: number, eigen: EigenMethod = 'auto'): Tracker {
  return {
    name: 'lossSplit',
    every,
    stateless: true,
    record(c) {
      const K = tangentKernel(c.net, c.params, c.x);
      const r = tf.sub(trainOutput(c), c.y);
      const parts = lossDecomposition(K, r, s, scale ?? lossScale(c.loss.config, r.shape[0], r.shape[1] as number), eigen);
      return { lossTop: parts.top, lossRest: parts.rest };
    },
  };
}

export interface KernelSpectrumOptions {
  /** Top-s split of the loss per output: the top s·C eigenvectors of the nC x nC kernel (003 C.2: "s = 1 refers to 10" for 10 classes); 0: norm only. */
  s?: number;
  every?: Cadence;
  /** Eigensolver (see topEigenpairs): dense below DENSE_EIGEN_LIMIT, else Lanczos on K u, under 'auto'. */
  eigen?: EigenMethod;
  /** Loss scale of the split (default from the loss convention, 1/n for the MSE of Ch.4). */
  scale?: number;
  /**
   * Record every `every` steps and, besides, at every step of each loss spike: from the iterate before a rise of the
   * full training loss by more than `minRise` (relative) through the first iterate back at or below that level, the
   * episodes of `detectCatapults` (stats/catapult). The spike summaries then read exactly what per-step records
   * give, at a fraction of the kernels (a 5000 x 5000 kernel costs seconds). The iterate before a rise is only
   * known to be one after the next update: the tracker keeps the previous parameters (shared, not copied).
   */
  atSpikes?: { minRise: number };
}

/**
 * ‖K‖₂ = λ_max of the full training-set NTK, and with s > 0 the split L = L_{≤s} + L_{>s} on the current
 * kernel's top eigenspace (003 eq. 4.2, Figs 4.3, 4.7), from one kernel per record. Records `kernelNorm`,
 * `lossTop`, `lossRest` and `eigenIterations` (Lanczos products; 0 when dense).
 *
 * @param options `every` (default 1), `s` (default 0: the norm only), `eigen`, `scale`, `atSpikes` (see KernelSpectrumOptions)
 * @example
 * const net = fcn({ widths: [1, 16, 1], activation: 'tanh' }), w = net.init(0);
 * const x = tf.reshape(tf.linspace(-1, 1, 20), [20, 1]), y = tf.sin(tf.mul(x, 3));
 * const result = train({ net, params: w, x, y, loss: mse('mean'), lr: 0.1, steps: 100, track: [kernelSpectrum({ s: 5, every: 10 })] });
 * console.log(result.history.kernelNorm.value, result.history.lossTop.value);
 */
export function kernelSpectrum(options: KernelSpectrumOptions = {}): Tracker {
  const { s = 0, every = 1, eigen = 'auto', scale } = options;
  if (!Number.isInteger(s) || s < 0) throw new Error(`kernelSpectrum: s = ${s}; expected an integer >= 0`);
  const spectrum = (c: TrackContext, output?: tf.Tensor): Record<string, number> => {
      const K = tangentKernel(c.net, c.params, c.x);
      // One read of K (a 5000 x 5000 kernel is 100 MB) serves the finiteness check and Lanczos.
      const data = K.dataSync() as Float32Array;
      // A run about to diverge (non-finite parameters) records NaN; train() stops it at the next loss.
      if (firstNonFinite(data, K.shape)) return s > 0 ? { kernelNorm: NaN, eigenIterations: 0, lossTop: NaN, lossRest: NaN } : { kernelNorm: NaN, eigenIterations: 0 };
      const C = c.net.outputDim;
      const k = Math.min(Math.max(s * C, 1), K.shape[0]);
      const pairs = topEigenpairs(K, k, { method: eigen, data });
      const out: Record<string, number> = { kernelNorm: pairs.values[0], eigenIterations: pairs.iterations };
      if (s > 0) {
        const r = tf.sub(output ?? trainOutput(c), c.y);
        const parts = projectResidual(pairs, r.dataSync(), k, scale ?? lossScale(c.loss.config, r.shape[0], r.shape[1] as number));
        out.lossTop = parts.top;
        out.lossRest = parts.rest;
      }
      return out;
  };
  if (options.atSpikes) return spikeSpectrum(options.atSpikes.minRise, every, spectrum);
  return { name: 'kernelSpectrum', every, stateless: true, record: (c) => spectrum(c) };
}

/** kernelSpectrum with `atSpikes`: the decision of detectCatapults made online, one iterate behind. */
function spikeSpectrum(minRise: number, every: Cadence, spectrum: (c: TrackContext, output?: tf.Tensor) => Record<string, number>): Tracker {
  if (!(minRise >= 0) || !Number.isFinite(minRise)) throw new Error(`kernelSpectrum: atSpikes.minRise = ${minRise}; expected a finite number >= 0`);
  // prev: the last iterate (its parameters kept alive by a clone, which shares data), its loss and whether it was recorded.
  let prev: { step: number; loss: number; recorded: boolean; params: Params } | null = null;
  // level: inside an episode, the loss at or below which it ends.
  let level: number | null = null;
  const keep = (p: Params) => tf.tidy(() => Object.fromEntries(Object.entries(p).map(([k, t]) => [k, tf.keep(tf.clone(t))])));
  const drop = () => {
    if (prev) pv.dispose(prev.params);
    prev = null;
  };
  return {
    name: 'kernelSpectrum',
    every: 1,
    record(c) {
      const loss = lossValue(c.loss, trainOutput(c), c.y).dataSync()[0];
      // The final iterate (no coming batch) is always recorded.
      let due = isDue(every, c.step) || !c.batch;
      if (level !== null) {
        due = true;
        if (loss <= level) level = null;
      } else if (prev && prev.step === c.step - 1 && loss > prev.loss * (1 + minRise)) {
        // A spike started at the previous iterate (the scan of detectCatapults: loss[t+1] > loss[t](1 + minRise)).
        level = prev.loss * (1 + minRise);
        due = true;
        if (!prev.recorded) {
          const before = { ...c, step: prev.step, params: prev.params, output: undefined, batch: undefined };
          const values = spectrum(before, c.net.apply(prev.params, c.x));
          c.recordPrevious?.(values);
        }
      }
      drop();
      prev = { step: c.step, loss, recorded: due, params: keep(c.params) };
      return due ? spectrum(c) : {};
    },
    snapshot: () => ({ level, prev: prev && { step: prev.step, loss: prev.loss, recorded: prev.recorded, params: Object.fromEntries(Object.entries(prev.params).map(([k, t]) => [k, { shape: t.shape, data: t.dataSync() as Float32Array }])) } }),
    restore(state) {
      const st = state as { level: number | null; prev: { step: number; loss: number; recorded: boolean; params: Record<string, { shape: number[]; data: Float32Array }> } | null };
      drop();
      level = st.level;
      if (st.prev) prev = { ...st.prev, params: Object.fromEntries(Object.entries(st.prev.params).map(([k, v]) => [k, tf.tensor(v.data, v.shape)])) };
    },
    dispose: drop,
  };
}

/**
 * λ_max of the loss Hessian on the coming mini-batch, H_L(X_batch), by Lanczos on Hessian-vector products, and
 * the exact batch critical rate 2/λ_max (003 eq. 3.6; Fig C.1 plots it against b/λ_max(K(X_batch)) of
 * batchCritical). Records `hessianTopBatch` and `etaCritHessianBatch` (history keys, not the tracker's name
 * `batchHessianTop`) at each due step before its update; the final iterate has no coming batch and records
 * nothing, so a run with `steps` ≤ `every` has one record, at step 0. Under full-batch GD the coming batch is
 * the whole training set: `sharpness()` records the same λ_max there, the final iterate included.
 */
export function batchHessianTop(every: Cadence = 1, { maxIter = 40, tol = 1e-5 }: { maxIter?: number; tol?: number } = {}): Tracker {
  return {
    name: 'batchHessianTop',
    every,
    stateless: true,
    record(c): Record<string, number> {
      if (!c.batch) return {};
      if (!finiteOutputs(c)) return { hessianTopBatch: NaN, etaCritHessianBatch: NaN };
      const crit = criticalLearningRate(c.net, c.params, c.batch.x, c.batch.y, c.loss, { method: 'hessian', maxIter, tol, seed: c.step });
      return { hessianTopBatch: crit.lambda, etaCritHessianBatch: crit.eta };
    },
  };
}

export interface SharpnessTrackerOptions {
  /** Cadence (default 1: every step); the final iterate is always recorded. */
  every?: Cadence;
  /** Also record the k largest eigenvalues as `sharpnessTop` (default 1: `sharpness` only). */
  k?: number;
  /** Lanczos iterations per record (default 100) and relative residual (default 1e-5), as lossSharpness. */
  maxIter?: number;
  tol?: number;
  /** Seed of every record's start vector (default 0: the same start at each record). */
  seed?: number;
}

/**
 * Sharpness along a run: λ_max of the Hessian of the training loss on the whole training set (lossSharpness),
 * the quantity that rises to 2/η and hovers there under full-batch GD at step size η (Cohen et al. 2021, the
 * edge of stability). Records `sharpness` (and with k > 1 `sharpnessTop`, the k largest, descending) and
 * `sharpnessIterations` (Hessian-vector products) every `every` steps and at the final iterate; NaN once the
 * outputs are non-finite (a diverging run, which train() then stops). Each record costs up to `maxIter` HVPs on
 * the full training set. For the coming mini-batch of SGD see batchHessianTop.
 *
 * @param options `every`: cadence (default 1); `k` (default 1); `maxIter`, `tol`, `seed` as lossSharpness
 * @example
 * const net = fcn({ widths: [1, 16, 1], activation: 'tanh' }), w = net.init(0);
 * const x = tf.reshape(tf.linspace(-1, 1, 20), [20, 1]), y = tf.sin(tf.mul(x, 3));
 * const result = train({ net, params: w, x, y, loss: mse('mean'), lr: 0.5, steps: 100, track: [sharpness({ every: 10 })] });
 * const { step, value } = result.history.sharpness;   // under GD, compare with 2 / 0.5 (the edge of stability)
 */
export function sharpness(options: SharpnessTrackerOptions = {}): Tracker {
  const fn = 'sharpness';
  if (options === null || typeof options !== 'object') throw new Error(`${fn}: options = ${String(options)}; expected an options object`);
  const { every = 1, k = 1, maxIter = 100, tol = 1e-5, seed = 0 } = options;
  checkCadence(fn, every);
  checkInt(fn, 'options.k', k, 1);
  checkInt(fn, 'options.maxIter', maxIter, 1);
  if (maxIter < k) throw new Error(`${fn}: options.maxIter = ${maxIter}; expected at least options.k = ${k}`);
  checkPositive(fn, 'options.tol', tol);
  checkInt(fn, 'options.seed', seed, 0);
  return {
    name: 'sharpness',
    every,
    stateless: true,
    record(c): Record<string, number | number[]> {
      const finite = (trainOutput(c).dataSync() as Float32Array).every(Number.isFinite) && Object.values(c.params).every((t) => (t.dataSync() as Float32Array).every(Number.isFinite));
      const nan = (): Record<string, number | number[]> => (k > 1 ? { sharpness: NaN, sharpnessTop: new Array<number>(k).fill(NaN), sharpnessIterations: 0 } : { sharpness: NaN, sharpnessIterations: 0 });
      if (!finite) return nan();
      let s: Sharpness;
      try {
        s = lossSharpness(c.net, c.params, c.x, c.y, c.loss, { k, maxIter, tol, seed });
      } catch (e) {
        if (e instanceof NonFiniteCurvatureError) return nan();
        throw e;
      }
      return k > 1 ? { sharpness: s.value, sharpnessTop: s.eigenvalues, sharpnessIterations: s.iterations } : { sharpness: s.value, sharpnessIterations: s.iterations };
    },
  };
}

/** A cadence: an integer ≥ 1, or { geometric: r } with r > 1 (train's isCadence). */
function checkCadence(fn: string, every: unknown): void {
  if (!isCadence(every)) throw new Error(`${fn}: every = ${JSON.stringify(every) ?? String(every)}; expected an integer ≥ 1 (steps between records) or { geometric: r > 1 }`);
}

/** The network's outputs on the batch are finite (else the run is diverging and eigensolvers would fail). */
function finiteOutputs(c: TrackContext): boolean {
  return (c.net.apply(c.params, (c.batch as { x: tf.Tensor }).x).dataSync() as Float32Array).every(Number.isFinite);
}

/** The network's outputs on the training set at this step (shared within a train() step). */
export function trainOutput(c: TrackContext): tf.Tensor {
  return c.output ? c.output() : c.net.apply(c.params, c.x);
}

function lossScale(config: Record<string, unknown>, n: number, C: number): number {
  if (config.convention === 'halfSum') return 0.5;
  if (config.convention === 'meanAll') return 1 / (n * C);
  return 1 / n;
}

/** Per-batch critical learning rate b / lambda_max(K_batch) and whether eta exceeded it (003 Ch.4, C.1); every step. */
export function batchCritical(every: Cadence = 1): Tracker {
  return {
    name: 'batchCritical',
    every,
    stateless: true,
    record(c): Record<string, number> {
      if (!c.batch) return {};
      if (!finiteOutputs(c)) return { etaCritBatch: NaN, exceeded: 0 };
      const crit = criticalLearningRate(c.net, c.params, c.batch.x, c.batch.y, c.loss, { method: 'ntk' });
      return { etaCritBatch: crit.eta, exceeded: c.lr > crit.eta ? 1 : 0 };
    },
  };
}

/**
 * ‖w_t − w_0‖₂, ‖w_t − w_0‖_∞ and per-tensor Frobenius distances (002 L65; 000 per-layer ball), recorded as
 * `distanceL2`, `distanceLinf` and `distance.<tensor>`.
 *
 * @param every cadence (default 1)
 * @example
 * const net = fcn({ widths: [1, 16, 1], activation: 'tanh' }), w = net.init(0);
 * const x = tf.reshape(tf.linspace(-1, 1, 20), [20, 1]), y = tf.sin(tf.mul(x, 3));
 * const result = train({ net, params: w, x, y, loss: mse('mean'), lr: 0.1, steps: 100, track: [distanceFromInit(10)] });
 * console.log(result.history.distanceL2.value);
 */
export function distanceFromInit(every: Cadence = 1): Tracker {
  return {
    name: 'distance',
    every,
    stateless: true,
    record(c) {
      const out: Record<string, number> = {};
      let sq = 0;
      let inf = 0;
      for (const s of c.net.specs) {
        if (!s.trainable) continue;
        const d = tf.sub(c.params[s.name], c.params0[s.name]);
        const f = tf.sum(tf.square(d)).dataSync()[0];
        sq += f;
        inf = Math.max(inf, tf.max(tf.abs(d)).dataSync()[0]);
        out[`distance.${s.name}`] = Math.sqrt(f);
      }
      return { distanceL2: Math.sqrt(sq), distanceLinf: inf, ...out };
    },
  };
}

/** AGOP alignment cos(G, G*) of the network's AGOP on `x` (default: training inputs) against G* (003 eq. 4.6). */
export function agopAlignmentTracker(Gstar: tf.Tensor2D, every: Cadence = 1, x?: tf.Tensor): Tracker {
  return {
    name: 'agopAlignment',
    every,
    stateless: true,
    record: (c) => ({ agopAlignment: agopAlignment(agop(c.net, c.params, x ?? c.x), Gstar) }),
  };
}
