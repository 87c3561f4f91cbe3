import * as tf from '@tensorflow/tfjs-core';
import { detectCatapults, matchRate } from '../stats/catapult.js';
import { convNet } from '../nets/conv.js';
import { criticalLearningRate } from '../analysis/critical.js';
import { type Dataset, fromTensors } from '../data/dataset.js';
import { gaussianClusters } from '../data/gaussian-clusters.js';
import { loadMnist } from '../data/mnist.js';
import { type RegressionTaskName, regressionData } from '../data/multi-index.js';
import { unitSphereData } from '../data/sphere.js';
import { fcn } from '../nets/fcn.js';
import { mse } from '../analysis/losses.js';
import type { Network } from '../nets/network.js';
import { type EigenMethod, tangentKernel } from '../analysis/ntk.js';
import { pv } from '../core/params.js';
import { type ScheduleSpec, schedule } from '../train/schedules.js';
import { registerTasks } from '../run/tasks.js';
import { type Tracker, train } from '../train/train.js';
import { batchCritical, batchHessianTop, kernelSpectrum, trainLoss } from '../train/trackers.js';
import { type LrEvent, adaptiveLr } from './p003-adaptive-lr.js';

/**
 * Catapult runs of 003 Ch.4 (§4.3, App. C.1–C.12): GD and SGD on the MSE L = (1/n)‖f − y‖² (eq. 4.1) with every
 * learning rate a multiple of the computed η_crit(0) = n/λ_max(K_0) of the full training set (reference §1.3).
 */

/** Training data of a catapult run. `sphere` is the Fig 4.5 set (one point and its label scaled by 2). */
export type CatapultData =
  | { kind: 'regression'; task: RegressionTaskName; n: number; d?: number }
  | { kind: 'clusters'; classes: number; n: number; d?: number }
  | { kind: 'mnist'; digits: number[]; n: number; side?: 7 | 14 | 28; flatten?: boolean }
  | { kind: 'sphere'; n: number; d?: number; scale?: number };

/**
 * The network: `fcn` of `depth` layers (depth − 1 hidden ReLU layers of `width`), bias-free NTK
 * parameterization unless `pytorch` (PyTorch's nn.Linear default: no multipliers, weights and biases
 * U(−1/√fan_in, 1/√fan_in), 003 C.9); `fixedSecond`: 2-layer ReLU net whose output layer is a fixed ±1 vector
 * (Fig 4.5); `cnn`: `depth − 1` 3×3 ReLU convolutions of `width` channels and a dense head.
 */
export type CatapultNet = { kind: 'fcn'; depth: number; width: number; parameterization?: 'ntk' | 'pytorch' } | { kind: 'fixedSecond'; width: number } | { kind: 'cnn'; depth: number; width: number };

/**
 * Learning rate in units of η_crit(0): constant, raised at steps (Fig 4.4), or PyTorch's triangular cycle (C.12);
 * `specialMultiple`: in units of the scaled point's single-example rate η_crit(x*) (Fig 4.5, sphere data only);
 * `adaptive`: the thesis' rule for multiple catapults (T:L1075): `start` × η_crit(0), then at each step of `at`
 * η ← factor × the current η_crit(t) = n/λ_max(K(w_t)) (adaptiveLr; the run's `lrEvents` say what was set).
 */
export type RelativeLr =
  | { multiple: number }
  | { multiples: number[]; at: number[] }
  | { cyclical: { base: number; max: number; stepSize: number } }
  | { specialMultiple: number }
  | { adaptive: { start: number; at: number[]; factor: number } };

export interface CatapultRunOptions {
  data: CatapultData;
  net: CatapultNet;
  lr: RelativeLr;
  /** Maximum number of updates. */
  steps: number;
  seed: number;
  /** Mini-batch size; omitted: full batch (GD). */
  batchSize?: number;
  sampling?: 'shuffle' | 'replacement';
  /** Stop when the full training loss < lossBelow (003 Ch.4: 1e-3). */
  lossBelow?: number;
  /** First step at which `lossBelow` may stop the run (default 0); the final loss decides 'converged' either way. */
  lossBelowFrom?: number;
  /** Steps between records of ‖K‖₂ and the L≤s / L>s split (full training-set NTK). 0: never. */
  kernelEvery?: number;
  /**
   * Also record them at every step of each full-loss rise by more than this fraction (kernelSpectrum `atSpikes`):
   * sgdSpikeSummary with the same `minRise` then reads exactly what records at every step give. For large n,
   * where one kernel costs seconds; omitted: only every `kernelEvery` steps.
   */
  kernelAtSpikes?: number;
  /** s of L≤s (per output: s·C eigenvectors for C outputs). */
  s?: number;
  /**
   * Eigensolver of the ‖K‖₂ / L≤s records (topEigenpairs): 'auto' (default: dense up to DENSE_EIGEN_LIMIT, else
   * Lanczos on K u), 'dense' or 'lanczos'. Dense is faster for a few hundred rows with many vectors (top 50 of 500).
   */
  eigen?: EigenMethod;
  /** Steps between records of the full training loss (default 1). */
  lossEvery?: number;
  /** Record b/λ_max(K(X_batch)) at every update (SGD runs). */
  batchCritical?: boolean;
  /** Steps between records of λ_max(H_L(X_batch)) (Fig C.1); 0: never. */
  hessianEvery?: number;
  /** Record the sampled indices (Fig 4.5). */
  recordIndices?: boolean;
  /** Mini-batch loss above which the run counts as diverged (default 1e6). */
  divergeAbove?: number;
  progress?: boolean | ((line: string) => void);
}

export interface CatapultRun {
  /** η_crit(0) = n/λ_max(K_0) of the full training set and λ_max(K_0). */
  etaCrit0: number;
  lambda0: number;
  /** Learning rate of each update. */
  lr: number[];
  status: string;
  steps: number;
  /** Full training loss at the iterates in lossSteps. */
  lossSteps: number[];
  loss: number[];
  batchLoss: number[];
  kernelSteps: number[];
  kernelNorm: number[];
  lossTop: number[];
  lossRest: number[];
  /** b/λ_max(K(X_batch)) of update t (SGD), and 2/λ_max(H_L(X_batch)) at hessianSteps. */
  etaCritBatch: number[];
  hessianSteps: number[];
  etaCritHessian: number[];
  etaCritNtkAtHessian: number[];
  /** Indices of each update's batch (with recordIndices). */
  batchIndices?: number[][];
  /** Learning-rate changes of an `adaptive` rate: step, new η and the η_crit(t) it was set from. */
  lrEvents?: LrEvent[];
  /** Fig 4.5: the scaled point, and the single-example critical rates 1/K(x_i, x_i) at w_0. */
  special?: { index: number; etaCrit: number; othersMin: number; othersMedian: number };
  n: number;
  outputs: number;
  seconds: number;
}

/** Builds the data of a run (x as the network expects it: [n, d] or [n, h, w, 1]). */
export function catapultData(spec: CatapultData, seed: number): Dataset {
  switch (spec.kind) {
    case 'regression':
      return regressionData({ task: spec.task, n: spec.n, d: spec.d ?? 100, seed });
    case 'clusters': {
      if (spec.n % spec.classes !== 0) throw new Error(`catapultData: n = ${spec.n}; expected a multiple of classes = ${spec.classes}`);
      return gaussianClusters({ perClass: spec.n / spec.classes, classes: spec.classes, dim: spec.d ?? 100, seed });
    }
    case 'sphere':
      return unitSphereData({ n: spec.n, d: spec.d ?? 100, scale: spec.scale ?? 2, seed });
    case 'mnist': {
      if (spec.n % spec.digits.length !== 0) throw new Error(`catapultData: n = ${spec.n}; expected a multiple of the ${spec.digits.length} digits`);
      const raw = loadMnist({ classes: spec.digits, perClass: spec.n / spec.digits.length, seed });
      const side = spec.side ?? 14;
      if (![7, 14, 28].includes(side)) throw new Error(`catapultData: side = ${side}; expected 7, 14 or 28 (pooling 28×28 by a whole factor)`);
      const x = tf.tidy(() => {
        let img = tf.reshape(raw.x, [spec.n, 28, 28, 1]) as tf.Tensor4D;
        if (side !== 28) img = tf.avgPool(img, 28 / side, 28 / side, 'valid');
        return spec.flatten ? tf.reshape(img, [spec.n, side * side]) : img;
      });
      const y = tf.clone(raw.y);
      const labels = raw.labels;
      const meta = { ...raw.meta, side, pooled: side !== 28 };
      raw.dispose();
      return fromTensors({ x: x as tf.Tensor2D, y, labels, name: `${raw.name}-${side}px`, description: `${raw.description}, average-pooled to ${side}×${side}`, meta });
    }
    default:
      throw new Error(`catapultData: kind = ${JSON.stringify((spec as { kind: unknown }).kind)}; expected 'regression', 'clusters', 'mnist' or 'sphere'`);
  }
}

/** The network of a run for inputs of the given shape (without the batch axis) and `outputs` outputs. */
export function catapultNet(spec: CatapultNet, inputShape: number[], outputs: number): Network {
  if (spec.kind === 'fixedSecond') {
    // 003 Fig 4.5: f(x) = (1/√m) v^T ReLU(W x / √d), v ∈ {±1}^m fixed.
    return fcn({ widths: [inputShape[0], spec.width, outputs], activation: 'relu', layers: [undefined, { trainable: false, init: { kind: 'rademacher' } }], name: 'fixed-second-layer' });
  }
  if (spec.kind === 'cnn') {
    const [h, w, c] = inputShape;
    return convNet({ inputShape: [h, w, c], channels: new Array<number>(spec.depth - 1).fill(spec.width), outputs, activation: 'relu' });
  }
  if (spec.kind !== 'fcn') throw new Error(`catapultNet: kind = ${JSON.stringify((spec as { kind: unknown }).kind)}; expected 'fcn', 'fixedSecond' or 'cnn'`);
  if (!Number.isInteger(spec.depth) || spec.depth < 2) throw new Error(`catapultNet: depth = ${spec.depth}; expected an integer >= 2 (layers)`);
  const widths = [inputShape[0], ...new Array<number>(spec.depth - 1).fill(spec.width), outputs];
  if (spec.parameterization === 'pytorch') {
    const layers = widths.slice(0, -1).map((fanIn) => {
      const bound = 1 / Math.sqrt(fanIn);
      return { init: { kind: 'uniform' as const, bound }, biasInit: { kind: 'uniform' as const, bound } };
    });
    return fcn({ widths, activation: 'relu', parameterization: 'standard', bias: true, layers, name: `fcn${spec.depth}-pytorch` });
  }
  return fcn({ widths, activation: 'relu', name: `fcn${spec.depth}` });
}

function relativeSchedule(lr: RelativeLr, eta: number): ScheduleSpec {
  if ('multiple' in lr) return lr.multiple * eta;
  if ('multiples' in lr) {
    if (lr.multiples.length !== lr.at.length + 1) throw new Error(`catapultRun: lr.multiples has ${lr.multiples.length} entries; expected one more than lr.at (${lr.at.length})`);
    return { kind: 'steps', lr: lr.multiples[0] * eta, at: lr.at, values: lr.multiples.slice(1).map((m) => m * eta) };
  }
  if ('cyclical' in lr) return { kind: 'cyclical', base: lr.cyclical.base * eta, max: lr.cyclical.max * eta, stepSize: lr.cyclical.stepSize };
  throw new Error(`catapultRun: lr = ${JSON.stringify(lr)}; expected { multiple }, { multiples, at } or { cyclical }`);
}

const series = (h: Record<string, { step: number[]; value: unknown[] }>, name: string) => h[name] ?? { step: [], value: [] };

/**
 * One GD or SGD run of 003 Ch.4 with the per-step records its figures need (loss, ‖K‖₂, L≤s / L>s, batch
 * critical rates, batch-Hessian critical rates). Example (Fig 4.3, FCN):
 * `catapultRun({ data: { kind: 'regression', task: 'rank2', n: 128 }, net: { kind: 'fcn', depth: 5, width: 1024 }, lr: { multiple: 1.67 }, steps: 100, seed: 0, s: 5 })`.
 */
export function catapultRun(o: CatapultRunOptions): CatapultRun {
  const t0 = Date.now();
  const ds = catapultData(o.data, o.seed);
  const n = ds.x.shape[0];
  const net = catapultNet(o.net, ds.x.shape.slice(1), ds.y.shape[1]);
  const params = net.init(o.seed);
  const loss = mse('mean');
  const crit = criticalLearningRate(net, params, ds.x, ds.y, loss);
  let special: CatapultRun['special'];
  if (o.data.kind === 'sphere') {
    const index = ds.meta.scaledIndex as number;
    const K = tangentKernel(net, params, ds.x);
    const diag = tf.tidy(() => Array.from(tf.linalg.bandPart(K, 0, 0).sum(1).dataSync()));
    K.dispose();
    // Batch of one, MSE (f − y)²: η_crit(x_i) = 1/K(x_i, x_i).
    const others = diag.filter((_, i) => i !== index).map((v) => 1 / v).sort((a, b) => a - b);
    special = { index, etaCrit: 1 / diag[index], othersMin: others[0], othersMedian: others[Math.floor(others.length / 2)] };
  }
  if ('specialMultiple' in o.lr && !special) throw new Error(`catapultRun: lr = ${JSON.stringify(o.lr)} needs the sphere data (its scaled point x*)`);
  const adaptive = 'adaptive' in o.lr ? adaptiveLr({ start: o.lr.adaptive.start * crit.eta, raise: { at: o.lr.adaptive.at, factor: o.lr.adaptive.factor } }, (p) => criticalLearningRate(net, p, ds.x, ds.y, loss).eta) : undefined;
  const lrSpec = adaptive ? adaptive.schedule : 'specialMultiple' in o.lr ? o.lr.specialMultiple * (special as { etaCrit: number }).etaCrit : relativeSchedule(o.lr, crit.eta);
  const track: Tracker[] = [...(adaptive ? [adaptive.tracker] : []), trainLoss(o.lossEvery ?? 1)];
  const kernelEvery = o.kernelEvery ?? 1;
  if (o.kernelAtSpikes !== undefined && !(kernelEvery > 0)) throw new Error(`catapultRun: kernelAtSpikes = ${o.kernelAtSpikes} needs kernelEvery >= 1 (got ${kernelEvery})`);
  const atSpikes = o.kernelAtSpikes === undefined ? undefined : { minRise: o.kernelAtSpikes };
  if (kernelEvery > 0) track.push(kernelSpectrum({ s: o.s ?? 0, every: kernelEvery, eigen: o.eigen ?? 'auto', atSpikes }));
  if (o.batchCritical) track.push(batchCritical(1));
  if (o.hessianEvery) track.push(batchHessianTop(o.hessianEvery));
  const r = train({
    net,
    params,
    x: ds.x,
    y: ds.y,
    loss,
    lr: lrSpec,
    steps: o.steps,
    batchSize: o.batchSize,
    sampling: o.sampling,
    seed: o.seed,
    recordIndices: o.recordIndices,
    stop: { lossBelow: o.lossBelow, from: o.lossBelowFrom, divergeAbove: o.divergeAbove ?? 1e6, checkEvery: 1 },
    track,
    progress: o.progress ?? false,
    label: `${net.name} ${o.data.kind} b=${o.batchSize ?? 'n'}`,
  });
  const h = r.history;
  const nums = (name: string) => series(h, name).value as number[];
  const lrAt = schedule(lrSpec);
  const lrs = Array.from({ length: r.steps }, (_, t) => lrAt(t));
  const hs = series(h, 'hessianTopBatch').step;
  const etaB = nums('etaCritBatch');
  const etaBSteps = series(h, 'etaCritBatch').step;
  const out: CatapultRun = {
    etaCrit0: crit.eta,
    lambda0: crit.lambda,
    lr: lrs,
    status: r.status,
    steps: r.steps,
    lossSteps: series(h, 'loss').step,
    loss: nums('loss'),
    batchLoss: nums('batchLoss'),
    kernelSteps: series(h, 'kernelNorm').step,
    kernelNorm: nums('kernelNorm'),
    lossTop: nums('lossTop'),
    lossRest: nums('lossRest'),
    etaCritBatch: etaB.slice(0, r.steps),
    hessianSteps: hs,
    etaCritHessian: nums('etaCritHessianBatch'),
    etaCritNtkAtHessian: hs.map((s) => etaB[etaBSteps.indexOf(s)] ?? NaN),
    batchIndices: o.recordIndices ? (series(h, 'batchIndices').value as number[][]) : undefined,
    lrEvents: adaptive ? adaptive.events.map((e) => ({ ...e })) : undefined,
    special,
    n,
    outputs: ds.y.shape[1],
    seconds: (Date.now() - t0) / 1000,
  };
  pv.dispose(params);
  pv.dispose(r.params);
  ds.dispose();
  return out;
}

// ---- Claim quantities of 003 Ch.4, from recorded runs (plain numbers). ----

function valueAt(steps: number[], values: number[], t: number): number {
  const i = steps.indexOf(t);
  return i < 0 ? NaN : values[i];
}

/** Full-loss series of a run aligned to iterates 0..T (the loss is recorded every step by default). */
function denseLoss(run: CatapultRun): number[] {
  if (run.lossSteps.some((t, i) => t !== i)) throw new Error('catapult summaries: the run must record the full loss at every step (lossEvery = 1)');
  return run.loss;
}

/**
 * GD catapult (Figs 4.2, 4.3, C.4): the largest loss spike from the start of the run, and the L≤s share of its
 * excess, (L≤s[peak] − L≤s[start]) / (L[peak] − L[start]) (003 Claim 1, T:L1061), and how often L>s increases.
 */
export function gdCatapultSummary(run: CatapultRun) {
  const loss = denseLoss(run);
  let peak = 0;
  for (let t = 0; t < loss.length; t++) if (loss[t] > loss[peak]) peak = t;
  let start = peak;
  while (start > 0 && loss[start - 1] < loss[start]) start--;
  const top = (t: number) => valueAt(run.kernelSteps, run.lossTop, t);
  const excess = loss[peak] - loss[start];
  const topShare = excess > 0 ? (top(peak) - top(start)) / excess : NaN;
  const rest = run.kernelSteps.map((t, i) => [t, run.lossRest[i]] as const);
  let restUp = 0;
  for (let i = 1; i < rest.length; i++) if (rest[i][1] > rest[i - 1][1]) restUp++;
  const K = run.kernelNorm;
  return {
    rise: loss[peak] / loss[0],
    peak,
    start,
    finalOverInitial: loss[loss.length - 1] / loss[0],
    kernelRatio: K.length ? K[K.length - 1] / K[0] : NaN,
    topShare,
    restIncreaseFraction: rest.length > 1 ? restUp / (rest.length - 1) : NaN,
  };
}

/**
 * Multiple catapults (Fig 4.4): for each raise of the learning rate at step a_i, ‖K‖₂ just before it and at the
 * next raise (or the end), and whether the new η exceeded the current n/‖K‖₂ (a catapult is expected only then).
 */
export function raiseSummary(run: CatapultRun, at: number[]) {
  const K = (t: number) => valueAt(run.kernelSteps, run.kernelNorm, Math.min(t, run.steps));
  return at
    .filter((a) => a < run.steps)
    .map((a, i, all) => {
      const next = i + 1 < all.length ? all[i + 1] : run.steps;
      const before = K(a);
      const after = K(next);
      return { at: a, lrMultiple: run.lr[a] / run.etaCrit0, kernelBefore: before, kernelAfter: after, decreased: after < before, aboveCurrentCritical: run.lr[a] > run.n / before };
    });
}

/**
 * Fig 4.5: updates whose full training loss rose by more than `relative` (a spike), and whether x* was in
 * their batch. Needs `recordIndices`.
 */
export function spikeSampling(run: CatapultRun, relative = 0.1) {
  if (!run.special || !run.batchIndices) throw new Error('spikeSampling: the run needs the sphere data and recordIndices');
  const loss = denseLoss(run);
  const spikes: number[] = [];
  for (let t = 0; t + 1 < loss.length && t < run.batchIndices.length; t++) if (loss[t + 1] > loss[t] * (1 + relative)) spikes.push(t);
  const special = run.special.index;
  const withSpecial = spikes.filter((t) => run.batchIndices![t].includes(special));
  const visits = run.batchIndices.filter((b) => b.includes(special)).length;
  return { spikes: spikes.length, withSpecial: withSpecial.length, visits, steps: spikes };
}

/**
 * Catapults in a recorded run (Fig 4.7, C.9–C.12; Fig 4.4 for GD): loss rises above `minRise` (detectCatapults), those
 * that are catapults in the thesis' sense, "a drastic increase … triggered by a learning rate larger than η_crit"
 * (T:L1036, T:L1116), i.e. η > η_crit during the rise, and for each set the fraction followed by a lower ‖K‖₂; the
 * median L≤s share of the rises' excess loss. η_crit of an update is the batch's b/λ_max(K(X_batch)) (`critical:
 * 'batch'`, the default: needs `batchCritical` records) or, for GD, the full set's n/‖K_t‖₂ (`critical: 'full'`: needs
 * ‖K‖₂ at every step). Every rise, catapult or not, stays in `spikes` / `kernelDropFraction` as a diagnostic.
 */
export function sgdSpikeSummary(run: CatapultRun, minRise = 0.1, opts: { critical?: 'batch' | 'full' } = {}) {
  const critical = opts.critical ?? 'batch';
  if (critical !== 'batch' && critical !== 'full') throw new Error(`sgdSpikeSummary: critical = ${JSON.stringify(critical)}; expected 'batch' or 'full'`);
  const loss = denseLoss(run);
  // Records at every step, or (kernelAtSpikes) at a cadence and through every spike: spread onto the steps.
  const kernelNorm = new Array<number>(loss.length).fill(NaN);
  const lossTop = new Array<number>(loss.length).fill(NaN);
  const have = new Set(run.kernelSteps);
  run.kernelSteps.forEach((t, i) => {
    kernelNorm[t] = run.kernelNorm[i];
    lossTop[t] = run.lossTop[i] ?? NaN;
  });
  // A spike is a catapult when η > η_crit during its rise (T:L1036): the batch's rate in SGD, n/‖K_t‖₂ in GD.
  if (critical === 'full' && kernelNorm.slice(0, loss.length - 1).some((k) => !Number.isFinite(k))) {
    throw new Error("sgdSpikeSummary: critical = 'full' needs ‖K‖₂ recorded at every step (kernelEvery = 1)");
  }
  const etaCrit = critical === 'full' ? kernelNorm.slice(0, Math.min(loss.length - 1, run.lr.length)).map((k) => run.n / k) : run.etaCritBatch;
  const trigger = etaCrit.length ? { eta: run.lr, etaCrit } : {};
  const det = detectCatapults(loss, { minRise, kernelNorm, ...trigger });
  const eps = det.episodes.filter((e) => e.recovered);
  for (const e of eps) {
    const missing = [e.start, e.peak, e.end].filter((t) => !have.has(t));
    if (missing.length) throw new Error(`sgdSpikeSummary: no ‖K‖₂ record at step(s) ${missing.join(', ')} of the spike at steps ${e.start}–${e.end}; expected records at every step (kernelEvery = 1) or kernelAtSpikes = ${minRise}`);
  }
  const shares = eps.map((e) => (lossTop[e.peak] - lossTop[e.start]) / (loss[e.peak] - loss[e.start])).filter(Number.isFinite);
  const triggered = eps.filter((e) => e.triggered === true);
  return {
    spikes: eps.length,
    kernelDrops: eps.filter((e) => e.kernelDecreased).length,
    kernelDropFraction: eps.length ? eps.filter((e) => e.kernelDecreased).length / eps.length : NaN,
    /** Spikes with η > η_crit(X_batch) during the rise (NaN counts without batchCritical records). */
    catapults: trigger.eta ? triggered.length : NaN,
    catapultKernelDrops: triggered.filter((e) => e.kernelDecreased).length,
    catapultKernelDropFraction: triggered.length ? triggered.filter((e) => e.kernelDecreased).length / triggered.length : NaN,
    /** The run diverged (its last rise did not recover and is not among `spikes`). */
    diverged: run.status === 'diverged',
    medianTopShare: median(shares),
    episodes: eps.map((e) => ({ start: e.start, peak: e.peak, end: e.end, rise: e.rise, triggered: e.triggered ?? null, kernelDecreased: e.kernelDecreased ?? null })),
  };
}

/** Fig C.1: relative gaps |η_crit(H) / η̃_crit(K) − 1| between 2/λ_max(H_L(X_b)) and b/λ_max(K(X_b)). */
export function criticalGaps(run: CatapultRun): number[] {
  return run.etaCritHessian.map((h, i) => Math.abs(h / run.etaCritNtkAtHessian[i] - 1)).filter(Number.isFinite);
}

/** Match rate of Table 4.2 for a run (loss increases until convergence with η > b/λ_max(K(X_batch))). */
export function runMatchRate(run: CatapultRun) {
  return matchRate({ loss: denseLoss(run), eta: run.lr, etaCrit: run.etaCritBatch, convergedBelow: 1e-3 });
}

function median(v: number[]): number {
  if (!v.length) return NaN;
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

registerTasks(import.meta.url, { catapultRun });
declare module '../run/tasks.js' {
  interface TaskRegistry { catapultRun: typeof catapultRun }
}
