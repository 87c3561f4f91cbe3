import * as tf from '@tensorflow/tfjs-core';
import { fcn } from '../nets/fcn.js';
import type { Network } from '../nets/network.js';
import { type LayerCosines, neuronGradientCosines } from '../analysis/neurons.js';
import { loadImageSubset } from '../data/images.js';
import { standardizeDataset } from '../data/preprocess.js';
import { criticalLearningRate } from '../analysis/critical.js';
import { mse } from '../analysis/losses.js';
import { type TrainStatus, train } from '../train/train.js';
import { registerTasks } from '../run/tasks.js';
import { checkInt, checkOneOf, checkOptions, checkPositive } from '../core/checks.js';

/** 004 Fig 3 left: the "4-layer" FCN = 3 hidden layers of width m and a linear output (004 eq. 8), tanh. */
export function fig3WidthNetwork(d: number, m: number): Network {
  return fcn({ widths: [d, m, m, m, 1], activation: 'tanh' });
}

/** 004 Fig 3 right (App. B): 3 hidden layers m_1 = m_3 = 1000 around a bottleneck m_2 = m_b, tanh. */
export function fig3BottleneckNetwork(d: number, mb: number, wide = 1000): Network {
  return fcn({ widths: [d, wide, mb, wide, 1], activation: 'tanh' });
}

/** Mean |cos| between neuron gradients per hidden layer at initialisation (004 eq. 22). */
export function cosinesAtInit(net: Network, x: tf.Tensor, seed: number, layers = [2, 3]): LayerCosines[] {
  const params = net.init(seed);
  const out = neuronGradientCosines(net, params, x, layers);
  tf.dispose(Object.values(params));
  return out;
}

export interface Fig3Point {
  panel: 'width' | 'bottleneck';
  /** m for the width panel, m_b for the bottleneck panel. */
  width: number;
  seed: number;
  /** Images per class of the two classes (0 and 2) and the subset's seed. */
  perClass: number;
  dataSeed: number;
  source?: 'cifar10' | 'mnist' | 'auto';
  wide?: number;
}

/**
 * Full-batch GD before the cosines are measured (004 App. B, L352 and L359: "we use full-batch gradient descent to
 * train"). The paper states neither the loss, the rate nor when training stops: the square loss (1/n) Σ (f − y)² on
 * ±1 labels (the loss of the paper's framework, 004 L19), η = `lrFraction` × 2/λ_max of that loss at
 * initialisation, until the loss is below `lossBelow` or `maxSteps` updates.
 */
export interface Fig3Gd {
  lrFraction: number;
  lossBelow: number;
  maxSteps: number;
}

/** Cosines at initialisation and after GD on the same draw, with how the training went. */
export interface Fig3Trained {
  atInit: LayerCosines[];
  trained: LayerCosines[];
  status: TrainStatus;
  /** GD updates performed. */
  steps: number;
  initialLoss: number;
  finalLoss: number;
  lr: number;
}

function checkGd(fn: string, gd: unknown): asserts gd is Fig3Gd {
  checkOptions(fn, 'gd', gd);
  checkPositive(fn, 'gd.lrFraction', gd.lrFraction);
  checkPositive(fn, 'gd.lossBelow', gd.lossBelow);
  checkInt(fn, 'gd.maxSteps', gd.maxSteps, 0);
}

/**
 * Mean |cos| between neuron gradients per hidden layer (004 eq. 22) at initialisation and after full-batch GD on
 * (x, y) as `gd` says; a run that diverges returns NaN cosines for the trained iterate (with status 'diverged').
 */
export function cosinesAfterGd(net: Network, x: tf.Tensor, y: tf.Tensor, seed: number, gd: Fig3Gd, layers = [2, 3]): Fig3Trained {
  checkGd('cosinesAfterGd', gd);
  const params = net.init(seed);
  try {
    const atInit = neuronGradientCosines(net, params, x, layers);
    const loss = mse('mean');
    const lr = gd.lrFraction * criticalLearningRate(net, params, x, y, loss).eta;
    const r = train({ net, params, x, y, loss, lr, steps: gd.maxSteps, stop: { lossBelow: gd.lossBelow, divergeAbove: 1e6 } });
    try {
      const trained = r.status === 'diverged' ? atInit.map((c) => ({ ...c, meanAbsCos: NaN })) : neuronGradientCosines(net, r.params, x, layers);
      return { atInit, trained, status: r.status, steps: r.steps, initialLoss: r.history.batchLoss.value[0] as number, finalLoss: r.finalLoss, lr };
    } finally {
      tf.dispose(Object.values(r.params));
    }
  } finally {
    tf.dispose(Object.values(params));
  }
}

/** Mean over runs of one layer's mean |cos|, at initialisation or after GD; diverged runs (NaN) are left out and counted by fig3GdSummary. */
export function fig3LayerMean(runs: Fig3Trained[], layer: number, when: 'atInit' | 'trained'): number {
  checkOneOf('fig3LayerMean', 'when', when, ['atInit', 'trained'] as const);
  const values = runs.map((r) => {
    const c = r[when].find((l) => l.layer === layer);
    if (!c) throw new Error(`fig3LayerMean: layer = ${layer}; expected one of the measured layers ${r[when].map((l) => l.layer).join(', ')}`);
    return c.meanAbsCos;
  }).filter(Number.isFinite);
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

/** How the GD runs of a panel ended: counts by status, the largest step count and final/initial loss (a cap that binds is said). */
export function fig3GdSummary(runs: Fig3Trained[], gd: Fig3Gd): string {
  const count = (s: TrainStatus) => runs.filter((r) => r.status === s).length;
  const fin = runs.filter((r) => r.status !== 'diverged');
  const worst = fin.length ? Math.max(...fin.map((r) => r.finalLoss)) : NaN;
  const capped = runs.filter((r) => r.status === 'max-steps');
  return `${runs.length} GD runs at ${gd.lrFraction} × the critical rate: ${count('converged')} reached loss < ${gd.lossBelow} (at most ${fin.length ? Math.max(...fin.map((r) => r.steps)) : 0} steps; largest final loss ${worst.toExponential(1)}, initial ≈ ${runs.length ? (runs.reduce((a, r) => a + r.initialLoss, 0) / runs.length).toFixed(2) : '-'})` +
    (capped.length ? `; ${capped.length} hit the cap of ${gd.maxSteps} steps (final loss up to ${Math.max(...capped.map((r) => r.finalLoss)).toExponential(1)})` : '') +
    (count('diverged') ? `; ${count('diverged')} diverged (left out of the means)` : '');
}

const fig3Data = new Map<string, { values: Float32Array; shape: [number, number]; y: Float32Array }>();

/** The standardized image subset of a Fig 3 point (x and the ±1 labels), read once per process. */
function fig3Subset(fn: string, p: Fig3Point): { x: tf.Tensor2D; y: tf.Tensor2D; d: number } {
  checkOptions(fn, 'point', p);
  if (p.source !== undefined) checkOneOf(fn, 'source', p.source, ['cifar10', 'mnist', 'auto'] as const);
  checkOneOf(fn, 'panel', p.panel, ['width', 'bottleneck'] as const);
  checkInt(fn, 'width', p.width, 1);
  const dataKey = `${p.source ?? 'auto'}/${p.perClass}/${p.dataSeed}`;
  let data = fig3Data.get(dataKey);
  if (!data) {
    const raw = loadImageSubset({ source: p.source ?? 'auto', classes: [0, 2], perClass: p.perClass, seed: p.dataSeed });
    const { dataset } = standardizeDataset(raw);
    data = { values: Float32Array.from(dataset.x.dataSync()), shape: dataset.x.shape, y: Float32Array.from(dataset.y.dataSync()) };
    tf.dispose([raw.x, raw.y, raw.yClean, dataset.x, dataset.y, dataset.yClean].filter((t) => t !== undefined));
    fig3Data.set(dataKey, data);
  }
  return { x: tf.tensor2d(data.values, data.shape), y: tf.tensor2d(data.y, [data.shape[0], 1]), d: data.shape[1] };
}

const fig3Net = (p: Fig3Point, d: number): Network => (p.panel === 'width' ? fig3WidthNetwork(d, p.width) : fig3BottleneckNetwork(d, p.width, p.wide));

/** One point of 004 Fig 3 at initialisation, from plain arguments (so that sweep workers can run it). */
export function fig3Cosines(p: Fig3Point): LayerCosines[] {
  const { x, y, d } = fig3Subset('fig3Cosines', p);
  try {
    return cosinesAtInit(fig3Net(p, d), x, p.seed);
  } finally {
    tf.dispose([x, y]);
  }
}

/** One point of 004 Fig 3 as the paper measures it, after full-batch GD (004 L352, L359), with the cosines at initialisation beside. */
export function fig3CosinesAfterGd(p: Fig3Point & { gd: Fig3Gd }): Fig3Trained {
  checkOptions('fig3CosinesAfterGd', 'point', p);
  checkGd('fig3CosinesAfterGd', p.gd);
  const { x, y, d } = fig3Subset('fig3CosinesAfterGd', p);
  try {
    return cosinesAfterGd(fig3Net(p, d), x, y, p.seed, p.gd);
  } finally {
    tf.dispose([x, y]);
  }
}

registerTasks(import.meta.url, { fig3Cosines, fig3CosinesAfterGd });
declare module '../run/tasks.js' {
  interface TaskRegistry { fig3Cosines: typeof fig3Cosines; fig3CosinesAfterGd: typeof fig3CosinesAfterGd }
}
