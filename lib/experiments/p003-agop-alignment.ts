import * as tf from '@tensorflow/tfjs-core';
import { agop, agopAlignment } from '../analysis/agop.js';
import { type RegressionTaskName, regressionData, taskEgop } from '../data/multi-index.js';
import { fcn } from '../nets/fcn.js';
import { lossByName, lossValue } from '../analysis/losses.js';
import type { Network } from '../nets/network.js';
import type { OptimizerSpec } from '../train/optimizers.js';
import { float64Ops, lanczos } from '../core/linalg.js';
import { tangentKernel } from '../analysis/ntk.js';
import { type Params, pv, readScalar } from '../core/params.js';
import { rngFor } from '../core/random.js';
import type { ScheduleSpec } from '../train/schedules.js';
import { type TrainOptions, type Tracker, train } from '../train/train.js';
import { kernelSpectrum } from '../train/trackers.js';
import { registerTasks } from '../run/tasks.js';
import { type LrEvent, adaptiveLr } from './p003-adaptive-lr.js';

/**
 * 003 Ch.4 §4.4 (Figs 4.8–4.11, Table 4.1, App. C.13–C.23): catapults, AGOP alignment and test loss on the
 * synthetic multi-index tasks. One function, `agopRun`, trains a bias-free FCN on one task and reports the
 * test loss and AGOP alignment along the run, at the best-validation iterate and at the end.
 *
 * Conventions (reference §1.5, §6.14–6.16):
 * - loss MSE (1/n) Σ (f − y)² (003 eq. 4.1), η_crit = n / λ_max(K(X_train)) at initialisation;
 *   per-batch η_crit(X_batch) = b / λ_max(K(X_batch)) (003 §4.3);
 * - the AGOP G (003 eq. 4.5) is evaluated on the **test inputs**, against the exact EGOP G* of the task;
 * - the test loss uses the clean targets f*(x); validation uses noisy targets like training;
 * - "best" metrics are those of the evaluated iterate with the lowest validation loss, and the catapult count
 *   is the number of updates before it with η − η_crit(X_batch) > 10⁻⁸ (003 T:L1172).
 */
export interface AgopRunConfig {
  task: RegressionTaskName;
  /** Input dimension (100 in 003 C.6). */
  d: number;
  nTrain: number;
  nVal: number;
  nTest: number;
  /** Label noise std (0.1 in 003 C.6). */
  noise?: number;
  /** Hidden widths: [1024] is the 2-layer FCN, [256, 256, 256] the 4-layer FCN of 003 C.6. */
  hidden: number[];
  /** 'ntk' (003 C.6, bias-free: reference §0.2) or 'standard' (PyTorch-default-like, C.18/C.20: U(±1/√fan-in), with biases). */
  parameterization?: 'ntk' | 'pytorch';
  /** Std of every weight under 'ntk' (near-zero initialisation of C.14: 0.1). */
  initStd?: number;
  optimizer?: OptimizerSpec;
  /**
   * Which η_crit(0) the learning-rate units refer to: this network's ('self', default) or that of the same network with
   * the standard N(0, 1) initialisation ('standardInit'; for the near-zero initialisation of C.14, whose own η_crit(0) is
   * ~1/σ² larger and shrinks as the weights grow).
   */
  lrUnit?: 'self' | 'standardInit';
  /** Constant learning rate: `{ critical: c }` = c · η_crit(0), or `{ value: η }`. */
  lr: { critical: number } | { value: number };
  /** "increase the LR to [a, b, …] at iteration [t1, t2, …]" (003 Ch.4), the values in units of η_crit(0). */
  raises?: { at: number[]; critical: number[] };
  /**
   * "We decay the learning rate if necessary after the catapult to avoid extra catapults" (T:L3461): after the catapult
   * of a raise has ended (η_crit(t) = n/λ_max(K(w_t)) back above η), every `every` steps, η ← factor · η_crit(t) whenever
   * η > η_crit(t) (adaptiveLr; the run's `lrEvents` list the raises and decays).
   */
  decay?: { factor: number; every: number };
  /** Mini-batch size; omitted or = nTrain: full-batch GD. */
  batchSize?: number;
  /** Stop when the full training loss is below this (003 Ch.4: 10⁻³). */
  stopLoss?: number;
  maxSteps: number;
  /** Steps between evaluations of the validation loss, test loss and AGOP alignment (and full-loss checks). */
  evalEvery: number;
  /** Steps between per-batch critical-rate checks (1 for SGD catapult counting; GD may check less often). */
  criticalEvery?: number;
  /**
   * Loss split L = L_{≤s} + L_{>s} on the current full training-set NTK (003 eq. 4.2; C.22 uses s = 1 for SGD),
   * with ‖K‖₂, every `every` steps up to step `until`.
   */
  split?: { s: number; every: number; until: number };
  /** Steps at which the top-left 10×10 block of the AGOP is kept (the end is always kept). */
  snapshotsAt?: number[];
  seed: number;
  dataSeed: number;
  progress?: boolean | ((line: string) => void);
}

export interface AgopSnapshot {
  step: number;
  trainLoss: number;
  testLoss: number;
  alignment: number;
  /** λ_max(K(X_train)); η_crit(t) = n / kernelNorm. */
  kernelNorm: number;
  /** Top-left min(10, d) block of the AGOP, row-major. */
  agopBlock: number[];
}

export interface AgopRunResult {
  /** The η_crit(0) the learning rates are expressed in (see `lrUnit`). */
  etaCrit: number;
  /** n / λ_max(K(X_train)) of this network at initialisation. */
  etaCritSelf: number;
  lambda0: number;
  /** The learning rate of each update, as a compact schedule (values at the change points). */
  lrSchedule: { at: number[]; values: number[] };
  status: string;
  steps: number;
  seconds: number;
  /** Training loss of every update (GD: full loss; SGD: mini-batch loss). */
  batchLoss: number[];
  curve: { step: number[]; trainLoss: number[]; valLoss: number[]; testLoss: number[]; alignment: number[] };
  best: { step: number; valLoss: number; testLoss: number; alignment: number; catapults: number };
  final: { step: number; trainLoss: number; testLoss: number; alignment: number };
  /** Updates with η > η_crit(X_batch) over the whole run (per checked step; times criticalEvery). */
  catapultsTotal: number;
  /** Per-batch critical rates as checked: steps and values. */
  batchCrit: { step: number[]; value: number[] };
  snapshots: AgopSnapshot[];
  /** With `decay`: every change of the learning rate (raises and decays), with the η_crit(t) measured for it. */
  lrEvents?: LrEvent[];
  /** Top-left block of the exact EGOP G*. */
  egopBlock: number[];
  /** With `split`: the full training loss, its top-s and rest parts, and ‖K‖₂, at the recorded steps. */
  split?: { step: number[]; loss: number[]; lossTop: number[]; lossRest: number[]; kernelNorm: number[] };
}

/** The FCN of 003 C.6 without biases (reference §0.2), or PyTorch's default nn.Linear parameterization. */
export function agopNetwork(c: Pick<AgopRunConfig, 'd' | 'hidden' | 'parameterization' | 'initStd'>): Network {
  const widths = [c.d, ...c.hidden, 1];
  if ((c.parameterization ?? 'ntk') === 'pytorch') {
    // nn.Linear: W, b ~ U(±1/√fan-in), no multiplier (003 C.18; reference §1.6).
    const layers = widths.slice(0, -1).map((fanIn) => {
      const init = { kind: 'uniform' as const, bound: 1 / Math.sqrt(fanIn) };
      return { init, biasInit: init, bias: true };
    });
    return fcn({ widths, activation: 'relu', parameterization: 'standard', layers, name: 'fcn-pytorch' });
  }
  const std = c.initStd ?? 1;
  const layers = std === 1 ? undefined : widths.slice(0, -1).map(() => ({ init: { kind: 'normal' as const, std } }));
  return fcn({ widths, activation: 'relu', parameterization: 'ntk', layers });
}

/** λ_max(K(X)) of the NTK on x by Lanczos on the dense kernel (n up to a few thousand). */
export function ntkTop(net: Network, params: Params, x: tf.Tensor): number {
  const K = tangentKernel(net, params, x);
  const a = K.dataSync();
  K.dispose();
  const N = x.shape[0];
  const start = rngFor(0, 'ntkTop').fillNormal(new Float64Array(N));
  const op = (v: Float64Array) => {
    const out = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      let s = 0;
      for (let j = 0; j < N; j++) s += a[i * N + j] * v[j];
      out[i] = s;
    }
    return out;
  };
  return lanczos(op, start, float64Ops, { k: 1, maxIter: 60, tol: 1e-7, which: 'largest' }).values[0];
}

/** Per-batch critical learning rate b / λ_max(K(X_batch)) (003 §4.3) and whether η exceeded it by > 10⁻⁸ (T:L1172). */
function batchCriticalTracker(every: number): Tracker {
  return {
    name: 'batchCritical',
    every,
    stateless: true,
    record(ctx): Record<string, number> {
      if (!ctx.batch) return {};
      const eta = ctx.batch.x.shape[0] / ntkTop(ctx.net, ctx.params, ctx.batch.x);
      return { etaCritBatch: eta, exceeded: ctx.lr - eta > 1e-8 ? 1 : 0 };
    },
  };
}

function block(G: tf.Tensor2D, k: number): number[] {
  const b = tf.slice(G, [0, 0], [k, k]);
  const out = Array.from(b.dataSync());
  b.dispose();
  return out;
}

function checkConfig(c: AgopRunConfig): void {
  for (const key of ['d', 'nTrain', 'nVal', 'nTest', 'maxSteps', 'evalEvery'] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 1) throw new Error(`agopRun: ${key} = ${c[key]}; expected a positive integer`);
  }
  if (c.batchSize !== undefined && (!Number.isInteger(c.batchSize) || c.batchSize < 1 || c.batchSize > c.nTrain)) {
    throw new Error(`agopRun: batchSize = ${c.batchSize}; expected an integer in [1, nTrain = ${c.nTrain}]`);
  }
  if (!('critical' in c.lr) && !('value' in c.lr)) throw new Error(`agopRun: lr = ${JSON.stringify(c.lr)}; expected { critical: c } or { value: η }`);
}

/**
 * One training run of 003 §4.4: data, network, η_crit(0), training to `stopLoss`, and the test loss and AGOP
 * alignment along the way. Plain arguments and a plain result, so sweep workers can run it.
 *
 * Example: `agopRun({ task: 'rank2', d: 100, nTrain: 2000, nVal: 5000, nTest: 5000, hidden: [1024],
 * lr: { critical: 0.5 }, batchSize: 10, stopLoss: 1e-3, maxSteps: 20000, evalEvery: 200, seed: 0, dataSeed: 0 })`.
 */
export function agopRun(c: AgopRunConfig): AgopRunResult {
  checkConfig(c);
  const noise = c.noise ?? 0.1;
  const log = c.progress === true ? (l: string) => console.log(l) : c.progress || undefined;
  const train0 = regressionData({ task: c.task, n: c.nTrain, d: c.d, noise, seed: `${c.dataSeed}/train` });
  const val = regressionData({ task: c.task, n: c.nVal, d: c.d, noise, seed: `${c.dataSeed}/validation` });
  const test = regressionData({ task: c.task, n: c.nTest, d: c.d, noise, seed: `${c.dataSeed}/test` });
  const Gstar = tf.tensor2d(Float32Array.from(taskEgop(c.task, c.d)), [c.d, c.d]);
  const k = Math.min(10, c.d);
  const net = agopNetwork(c);
  const loss = lossByName('mse');
  const params0 = net.init(c.seed);
  let params: Params | undefined;
  try {
    const lambda0 = ntkTop(net, params0, train0.x);
    let unitLambda = lambda0;
    if (c.lrUnit === 'standardInit') {
      const std = agopNetwork({ ...c, initStd: 1 });
      const p = std.init(c.seed);
      unitLambda = ntkTop(std, p, train0.x);
      pv.dispose(p);
    }
    const crit = { eta: c.nTrain / unitLambda, lambda: lambda0 };
    const base = 'critical' in c.lr ? c.lr.critical * crit.eta : c.lr.value;
    const raises = c.raises ?? { at: [], critical: [] };
    if (raises.at.length !== raises.critical.length) throw new Error(`agopRun: raises has ${raises.at.length} steps and ${raises.critical.length} values; expected equal lengths`);
    const adaptive = c.decay
      ? adaptiveLr({ start: base, fixed: raises.at.length ? { at: raises.at, values: raises.critical.map((v) => v * crit.eta) } : undefined, decay: c.decay }, (p) => c.nTrain / ntkTop(net, p, train0.x))
      : undefined;
    const lr: ScheduleSpec = adaptive ? adaptive.schedule : raises.at.length ? { kind: 'steps', lr: base, at: raises.at, values: raises.critical.map((v) => v * crit.eta) } : base;
    const lrSchedule = { at: [0, ...raises.at], values: [base, ...raises.critical.map((v) => v * crit.eta)] };
    const b = c.batchSize ?? c.nTrain;
    const full = b === c.nTrain;
    const snapSet = new Set(c.snapshotsAt ?? []);
    const snapshots: AgopSnapshot[] = [];
    const curve: AgopRunResult['curve'] = { step: [], trainLoss: [], valLoss: [], testLoss: [], alignment: [] };
    const tracker: Tracker = {
      name: 'agopEval',
      every: 1,
      record(ctx) {
        const final = !ctx.batch;
        const evalNow = final || ctx.step % c.evalEvery === 0;
        const snapNow = final || snapSet.has(ctx.step);
        if (!evalNow && !snapNow) return {};
        const trainLoss = readScalar(() => lossValue(loss, net.apply(ctx.params, train0.x), train0.y));
        const valLoss = readScalar(() => lossValue(loss, net.apply(ctx.params, val.x), val.y));
        const testLoss = readScalar(() => lossValue(loss, net.apply(ctx.params, test.x), test.yClean as tf.Tensor2D));
        const G = agop(net, ctx.params, test.x);
        const alignment = agopAlignment(G, Gstar);
        if (evalNow && curve.step.at(-1) !== ctx.step) {
          curve.step.push(ctx.step);
          curve.trainLoss.push(trainLoss);
          curve.valLoss.push(valLoss);
          curve.testLoss.push(testLoss);
          curve.alignment.push(alignment);
        }
        if (snapNow && snapshots.at(-1)?.step !== ctx.step) {
          snapshots.push({ step: ctx.step, trainLoss, testLoss, alignment, kernelNorm: ntkTop(net, ctx.params, train0.x), agopBlock: block(G, k) });
        }
        G.dispose();
        return {};
      },
      snapshot: () => ({ curve, snapshots }),
      restore(state) {
        const st = state as { curve: typeof curve; snapshots: AgopSnapshot[] };
        Object.assign(curve, st.curve);
        snapshots.splice(0, snapshots.length, ...st.snapshots);
      },
    };
    const trackers: Tracker[] = [...(adaptive ? [adaptive.tracker] : []), batchCriticalTracker(c.criticalEvery ?? (full ? c.evalEvery : 1)), tracker];
    if (c.split) {
      const { s: top, every, until } = c.split;
      const spectrum = kernelSpectrum({ s: top, every: 1 });
      trackers.push({
        name: 'split',
        every,
        stateless: true,
        record: (ctx) => (ctx.step <= until && ctx.batch ? { ...spectrum.record(ctx), splitLoss: lossValue(loss, net.apply(ctx.params, train0.x), train0.y).dataSync()[0] } : {}),
      });
    }
    const criticalEvery = c.criticalEvery ?? (full ? c.evalEvery : 1);
    const stop = { lossBelow: c.stopLoss, checkEvery: c.evalEvery, divergeAbove: 1e10 } as TrainOptions['stop'];
    const r = train({
      net,
      params: params0,
      x: train0.x,
      y: train0.y,
      loss,
      optimizer: c.optimizer ?? (full ? 'gd' : 'sgd'),
      lr,
      steps: c.maxSteps,
      batchSize: b,
      sampling: 'shuffle',
      seed: c.seed,
      stop,
      track: trackers,
      progress: log,
      progressSeconds: 10,
      label: `${c.task} b=${b}`,
    });
    params = r.params;
    const bc = r.history.etaCritBatch ?? { step: [], value: [] };
    const exceeded = (r.history.exceeded?.value ?? []) as number[];
    let bi = 0;
    let vi = 0;
    curve.valLoss.forEach((v, i) => {
      if (v < curve.valLoss[bi]) bi = i;
      vi = i;
    });
    const bestStep = curve.step[bi];
    const count = (upTo: number) => exceeded.reduce((s, e, i) => s + (bc.step[i] < upTo && e ? criticalEvery : 0), 0);
    return {
      etaCrit: crit.eta,
      etaCritSelf: c.nTrain / lambda0,
      lambda0,
      lrSchedule,
      status: r.status,
      steps: r.steps,
      seconds: r.seconds,
      batchLoss: (r.history.batchLoss?.value ?? []) as number[],
      curve,
      best: { step: bestStep, valLoss: curve.valLoss[bi], testLoss: curve.testLoss[bi], alignment: curve.alignment[bi], catapults: count(bestStep) },
      final: { step: curve.step[vi], trainLoss: curve.trainLoss[vi], testLoss: curve.testLoss[vi], alignment: curve.alignment[vi] },
      catapultsTotal: count(Infinity),
      batchCrit: { step: bc.step, value: bc.value as number[] },
      snapshots,
      lrEvents: adaptive ? adaptive.events.map((e) => ({ ...e })) : undefined,
      egopBlock: block(Gstar, k),
      split: c.split
        ? { step: r.history.lossTop?.step ?? [], loss: (r.history.splitLoss?.value ?? []) as number[], lossTop: (r.history.lossTop?.value ?? []) as number[], lossRest: (r.history.lossRest?.value ?? []) as number[], kernelNorm: (r.history.kernelNorm?.value ?? []) as number[] }
        : undefined,
    };
  } finally {
    pv.dispose(params0);
    if (params) pv.dispose(params);
    Gstar.dispose();
    for (const ds of [train0, val, test]) ds.dispose();
  }
}

/** 003 Table 4.1 (T:L945–952), rank-2 task, SGD at η_crit/2: batch size → AGOP alignment and test loss. */
export const TABLE_4_1: readonly { batch: number | 'GD'; alignment: number; testLoss: number }[] = [
  { batch: 'GD', alignment: 0.81, testLoss: 0.74 },
  { batch: 50, alignment: 0.84, testLoss: 0.71 },
  { batch: 10, alignment: 0.89, testLoss: 0.59 },
  { batch: 5, alignment: 0.95, testLoss: 0.42 },
];

export interface SummaryRow {
  key: string;
  runs: number;
  diverged: number;
  alignment: { mean: number; std: number };
  testLoss: { mean: number; std: number };
  catapults: { mean: number; std: number };
  steps: { mean: number; std: number };
}

function meanStd(v: number[]): { mean: number; std: number } {
  const n = v.length;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : NaN;
  return { mean, std };
}

/**
 * Mean and std over seeds of the best-validation metrics of agopRun results, grouped by `key(run)` in
 * first-seen order. Example: `summarizeRuns(runs, (r) => String(r.point.batch))`.
 */
export function summarizeRuns<T extends { result: AgopRunResult }>(runs: readonly T[], key: (run: T) => string): SummaryRow[] {
  const groups = new Map<string, AgopRunResult[]>();
  for (const r of runs) {
    const k = key(r);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r.result);
  }
  return [...groups].map(([k, rs]) => ({
    key: k,
    runs: rs.length,
    diverged: rs.filter((r) => r.status === 'diverged').length,
    alignment: meanStd(rs.map((r) => r.best.alignment)),
    testLoss: meanStd(rs.map((r) => r.best.testLoss)),
    catapults: meanStd(rs.map((r) => r.best.catapults)),
    steps: meanStd(rs.map((r) => r.steps)),
  }));
}

/** A plain-text table with aligned columns (for printing tables beside the paper's numbers). */
export function textTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((v) => (typeof v === 'number' ? (Number.isFinite(v) ? (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : Number.isInteger(v) ? String(v) : v.toFixed(3)) : String(v)) : v)))];
  const w = header.map((_, j) => Math.max(...cells.map((r) => String(r[j] ?? '').length)));
  const line = (r: string[]) => r.map((v, j) => String(v ?? '').padEnd(w[j])).join('  ').trimEnd();
  return [line(cells[0] as string[]), w.map((x) => '-'.repeat(x)).join('  '), ...cells.slice(1).map((r) => line(r as string[]))].join('\n');
}

/** Min-max normalisation to [0, 1] (003 Fig C.15: "All pixels are normalized to the range [0, 1]"). */
export function minMaxNormalize(values: readonly number[]): number[] {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values.map((v) => (hi > lo ? (v - lo) / (hi - lo) : 0));
}

registerTasks(import.meta.url, { agopRun });
declare module '../run/tasks.js' {
  interface TaskRegistry { agopRun: typeof agopRun }
}
