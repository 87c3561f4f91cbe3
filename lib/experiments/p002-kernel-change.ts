import * as tf from '@tensorflow/tfjs-core';
import { bottleneckRelu } from '../nets/bottleneck.js';
import { criticalLearningRate } from '../analysis/critical.js';
import { threeClassMixture } from '../data/three-class.js';
import { fcn, withOutput } from '../nets/fcn.js';
import { type Loss, crossEntropy, mse } from '../analysis/losses.js';
import type { Network } from '../nets/network.js';
import { relativeKernelChange, softmaxJacobians, outputKernel, tangentKernel } from '../analysis/ntk.js';
import type { Params } from '../core/params.js';
import { train, type Tracker } from '../train/train.js';
import { registerTasks } from '../run/tasks.js';
import { checkInt, checkOneOf, checkPositive } from '../core/checks.js';
import { loglogFit } from '../stats/fit.js';

/** 002 eq. 43: f(w, V, b; x) = (1/sqrt m) V sigma(w x + b), ReLU, w, b in R^m, V in R^{3 x m} (no output bias). */
export function eq43Network(m: number): Network {
  return fcn({ widths: [1, m, 3], activation: 'relu', layers: [{ bias: true }, { bias: false }], name: 'eq43' });
}

export type OutputKind = 'linear' | 'softmax' | 'swish';

/**
 * CE learning rate in units of N / lambda_max(K_0): the CE Hessian is (1/N) J^T A J with the softmax Jacobian
 * A <= I/2, so the CE critical rate is at least 4 N / lambda_max(K_0) and 3 stays below it.
 */
export const CE_LR_MULTIPLE = 3;

export interface KernelChangeRun {
  /** Steps at which kernels were evaluated. */
  steps: number[];
  /** ΔK(t) per tracked model (002 L445): 'linear' (logits f) and 'softmax' (softmax(f)) on the CE run, 'swish' on the MSE run. */
  deltaK: Record<string, number[]>;
  /** sup_t ΔK(t). */
  sup: Record<string, number>;
  loss: number[];
  finalLoss: number;
  status: string;
  trainedSteps: number;
  lr: number;
  lambda0: number;
}

/** Kernels of the current parameters, by name (computed together, so that they can share work). */
type Kernels = (p: Params) => Record<string, tf.Tensor2D>;

/** Records ΔK(t) of several kernels. */
function kernelTracker(kernels: Kernels, every: number): { tracker: Tracker; values: Record<string, number[]>; steps: number[] } {
  let K0: Record<string, tf.Tensor2D> = {};
  const values: Record<string, number[]> = {};
  const steps: number[] = [];
  const tracker: Tracker = {
    name: 'deltaK',
    every,
    init(c) {
      K0 = tf.tidy(() => kernels(c.params0));
      for (const k of Object.keys(K0)) values[k] = [];
    },
    record(c) {
      steps.push(c.step);
      for (const [k, K] of Object.entries(kernels(c.params))) values[k].push(relativeKernelChange(K, K0[k]));
      return {};
    },
    dispose() {
      tf.dispose(Object.values(K0));
    },
  };
  return { tracker, values, steps };
}

/**
 * 002 Fig 1: trains on the 3-class mixture (002 eq. 42, N = 60) either f with CE on softmax(f) (eq. 46), tracking
 * the kernels of f and of softmax(f) along that one trajectory, or swish_{0.1}(f) with MSE (eq. 47), and returns
 * ΔK(t) = ||K(w_t) - K(w_0)||_F / ||K(w_0)||_F. Learning rate: `lrMultiple` x N / lambda_max(K_0) (CE_LR_MULTIPLE for CE, 0.5 for MSE).
 */
export function fig1Run(opts: { m: number; seed: number; objective: 'ce' | 'swish-mse'; steps: number; lossBelow?: number; kernelEvery: number; lrMultiple?: number; progress?: (line: string) => void }): KernelChangeRun {
  checkOneOf('fig1Run', 'objective', opts.objective, ['ce', 'swish-mse'] as const);
  checkInt('fig1Run', 'm', opts.m, 1);
  checkInt('fig1Run', 'steps', opts.steps, 0);
  checkInt('fig1Run', 'kernelEvery', opts.kernelEvery, 1);
  const { m, seed, objective, steps, kernelEvery, lossBelow = 1e-4, lrMultiple = objective === 'ce' ? CE_LR_MULTIPLE : 0.5 } = opts;
  const data = threeClassMixture({ n: 60, seed });
  const base = eq43Network(m);
  const params = base.init(seed);
  const isCe = objective === 'ce';
  const net = isCe ? base : withOutput(base, 'swish(0.1)');
  const loss = isCe ? crossEntropy() : mse('mean');
  const kernels: Kernels = isCe
    ? (p) => {
        const K = tangentKernel(base, p, data.x);
        return { linear: K, softmax: outputKernel(K, softmaxJacobians(base.apply(p, data.x) as tf.Tensor2D)) };
      }
    : (p) => ({ swish: tangentKernel(net, p, data.x) });
  // lr = c N / lambda_max(K_0) (reference §8): the MSE-mean critical value of the trained model's kernel.
  return trackedGd({ net, params, data, loss, kernels, steps, kernelEvery, lossBelow, lrMultiple, label: `m=${m} seed=${seed} ${objective}`, progress: opts.progress });
}

/**
 * Full-batch GD at lrMultiple x N / lambda_max(K_0) (the MSE-mean critical value of the trained model's kernel),
 * recording ΔK(t) of the given kernels every `kernelEvery` steps.
 */
function trackedGd(o: {
  net: Network;
  params: Params;
  data: { x: tf.Tensor; y: tf.Tensor; dispose(): void };
  loss: Loss;
  kernels: Kernels;
  steps: number;
  kernelEvery: number;
  lossBelow: number;
  lrMultiple: number;
  label: string;
  progress?: (line: string) => void;
}): KernelChangeRun {
  const { net, params, data, kernelEvery } = o;
  const crit = criticalLearningRate(net, params, data.x, data.y, mse('mean'));
  const lr = o.lrMultiple * crit.eta;
  const tk = kernelTracker(o.kernels, kernelEvery);
  const r = train({ net, params, x: data.x, y: data.y, loss: o.loss, lr, steps: o.steps, stop: { lossBelow: o.lossBelow, divergeAbove: 1e6 }, track: [tk.tracker], progress: o.progress ?? false, label: o.label });
  const out: KernelChangeRun = {
    steps: tk.steps,
    deltaK: tk.values,
    sup: Object.fromEntries(Object.entries(tk.values).map(([k, v]) => [k, Math.max(...v)])),
    loss: r.history.batchLoss.value.filter((_, i) => i % kernelEvery === 0) as number[],
    finalLoss: r.finalLoss,
    status: r.status,
    trainedSteps: r.steps,
    lr,
    lambda0: crit.lambda,
  };
  tf.dispose([...Object.values(params), ...Object.values(r.params)]);
  data.dispose();
  return out;
}

/**
 * 002 Fig 2: the eq. 48 bottleneck network (m wide, bottleneck m_b, ReLU, linear bottleneck) trained with CE on
 * softmax(f) (eq. 49); ΔK is that of the logits f.
 */
export function fig2Run(opts: { m: number; mb: number; seed: number; steps: number; lossBelow?: number; kernelEvery: number; lrMultiple?: number; bottleneckScale?: 'as-written' | 'ntk'; progress?: (line: string) => void }): KernelChangeRun {
  if (opts.bottleneckScale !== undefined) checkOneOf('fig2Run', 'bottleneckScale', opts.bottleneckScale, ['as-written', 'ntk'] as const);
  checkInt('fig2Run', 'm', opts.m, 1);
  checkInt('fig2Run', 'mb', opts.mb, 1);
  checkInt('fig2Run', 'steps', opts.steps, 0);
  checkInt('fig2Run', 'kernelEvery', opts.kernelEvery, 1);
  const { m, mb, seed, steps, kernelEvery, lossBelow = 1e-4, lrMultiple = CE_LR_MULTIPLE, bottleneckScale = 'as-written' } = opts;
  const data = threeClassMixture({ n: 60, seed });
  const net = bottleneckRelu({ m, mb, outputs: 3, bottleneckScale });
  const params = net.init(seed);
  const kernels: Kernels = (p) => ({ linear: tangentKernel(net, p, data.x) });
  return trackedGd({ net, params, data, loss: crossEntropy(), kernels, steps, kernelEvery, lossBelow, lrMultiple, label: `m=${m} mb=${mb} seed=${seed}`, progress: opts.progress });
}

/** The log-log slope of one window of consecutive widths. */
export interface WindowSlope {
  from: number;
  to: number;
  slope: number;
  slopeSE: number;
}

/**
 * Log-log slopes of y vs x over every window of `size` consecutive points (002 Fig 1: whether the ΔK slope moves
 * towards the −1/2 of the Hessian-norm bound, Prop 2.3, as m grows; one fit over all widths cannot say).
 */
export function windowSlopes(xs: number[], ys: number[], size = 3): WindowSlope[] {
  checkInt('windowSlopes', 'size', size, 2);
  if (!Array.isArray(xs) || !Array.isArray(ys) || xs.length !== ys.length) throw new Error(`windowSlopes: xs has ${xs?.length} values, ys ${ys?.length}; expected arrays of equal length`);
  if (xs.length < size) throw new Error(`windowSlopes: ${xs.length} points; expected at least size = ${size}`);
  return Array.from({ length: xs.length - size + 1 }, (_, i) => {
    const fit = loglogFit(xs.slice(i, i + size), ys.slice(i, i + size));
    return { from: xs[i], to: xs[i + size - 1], slope: fit.slope, slopeSE: fit.slopeSE };
  });
}

/** Per window: the slope of the median curve over seeds and the smallest, median and largest single-seed slope. */
export interface WindowSlopeRow extends WindowSlope {
  seedMin: number;
  seedMedian: number;
  seedMax: number;
}

/** windowSlopes of the median over seeds, with the spread of the single-seed slopes; `bySeed[s][i]` is seed s at width xs[i]. */
export function windowSlopeTable(xs: number[], bySeed: number[][], size = 3): WindowSlopeRow[] {
  if (!Array.isArray(bySeed) || bySeed.length < 1) throw new Error(`windowSlopeTable: bySeed = ${JSON.stringify(bySeed)}; expected one array of values per seed`);
  bySeed.forEach((row, s) => {
    if (!Array.isArray(row) || row.length !== xs.length) throw new Error(`windowSlopeTable: bySeed[${s}] has ${row?.length} values; expected ${xs.length}, one per width`);
  });
  const median = (v: number[]) => {
    const t = [...v].sort((a, b) => a - b);
    const k = t.length >> 1;
    return t.length % 2 ? t[k] : (t[k - 1] + t[k]) / 2;
  };
  const perSeed = bySeed.map((row) => windowSlopes(xs, row, size));
  return windowSlopes(xs, xs.map((_, i) => median(bySeed.map((row) => row[i]))), size).map((w, j) => {
    const seeds = perSeed.map((ws) => ws[j].slope);
    return { ...w, seedMin: Math.min(...seeds), seedMedian: median(seeds), seedMax: Math.max(...seeds) };
  });
}

/**
 * How GD runs ended against the paper's stopping rule (loss < `lossBelow`, 002 L567, L585) and the step cap that
 * replaces it where it binds: how many converged, hit the cap (with their final losses) or diverged.
 */
export function stopReport(runs: KernelChangeRun[], opts: { cap: number; lossBelow: number }): { runs: number; converged: number; capped: number; diverged: number; cappedFinalLoss: [number, number] | null; text: string } {
  checkInt('stopReport', 'cap', opts?.cap, 0);
  checkPositive('stopReport', 'lossBelow', opts.lossBelow);
  const capped = runs.filter((r) => r.status === 'max-steps');
  const converged = runs.filter((r) => r.status === 'converged');
  const diverged = runs.length - capped.length - converged.length;
  const losses = capped.map((r) => r.finalLoss);
  const cappedFinalLoss: [number, number] | null = capped.length ? [Math.min(...losses), Math.max(...losses)] : null;
  const text = `${runs.length} runs: ${converged.length} reached loss < ${opts.lossBelow}` +
    (converged.length ? ` (after ${Math.min(...converged.map((r) => r.trainedSteps))}–${Math.max(...converged.map((r) => r.trainedSteps))} steps)` : '') +
    `, ${capped.length} hit the cap of ${opts.cap} steps` + (cappedFinalLoss ? ` (final loss ${cappedFinalLoss[0].toExponential(2)} – ${cappedFinalLoss[1].toExponential(2)})` : '') +
    (diverged ? `, ${diverged} diverged` : '');
  return { runs: runs.length, converged: converged.length, capped: capped.length, diverged, cappedFinalLoss, text };
}

registerTasks(import.meta.url, { fig1Run, fig2Run });
declare module '../run/tasks.js' {
  interface TaskRegistry { fig1Run: typeof fig1Run; fig2Run: typeof fig2Run }
}
