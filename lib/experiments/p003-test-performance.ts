import * as tf from '@tensorflow/tfjs-core';
import { convNet } from '../nets/conv.js';
import { criticalLearningRate } from '../analysis/critical.js';
import { type Dataset } from '../data/dataset.js';
import { gaussianClusters } from '../data/gaussian-clusters.js';
import { loadMnist } from '../data/mnist.js';
import { regressionData } from '../data/multi-index.js';
import { fcn } from '../nets/fcn.js';
import { bestHeldOut } from '../train/kernel-trackers.js';
import { lossValue, mse } from '../analysis/losses.js';
import type { Network } from '../nets/network.js';
import { pv } from '../core/params.js';
import { linearize, nqm } from '../nets/taylor-models.js';
import { train } from '../train/train.js';
import { registerTasks } from '../run/tasks.js';

/**
 * 003 Fig 3.2(b), Fig 3.4, Figs B.5–B.13: best test loss / accuracy vs learning rate for a network f, its
 * linearization f_lin and its quadratic model f_quad (003 eq. 3.1–3.2), trained from the same w₀ by GD (or SGD)
 * on the MSE-mean, at multiples of η_crit = n/λ_max(K₀) (the same for the three models: they share K₀).
 * Substitute tasks for the thesis' data sets (not available offline):
 * - `clusters`: two Gaussian clusters in R^d (‖μ‖ = 2, σ = 1, ±1 targets);
 * - `rank2`: the rank-2 regression task of 003 Ch.4, y = x₁x₂ + N(0, 0.1²), x ~ N(0, I_d), test on clean targets;
 * - `mnist`: MNIST digits 0 vs 2 from the shipped `mnist` package, 2×2 average-pooled to 14×14, ±1 targets.
 */

export type PerfTask = 'clusters' | 'rank2' | 'mnist';
export type PerfArch = 'fc2-relu' | 'fc2-tanh' | 'fc2-swish' | 'fc3-relu' | 'cnn2-relu';
export type PerfModel = 'f' | 'lin' | 'quad';

export interface PerfData {
  x: tf.Tensor2D | tf.Tensor4D;
  y: tf.Tensor2D;
  xTest: tf.Tensor2D | tf.Tensor4D;
  yTest: tf.Tensor2D;
  d: number;
  classification: boolean;
  dispose(): void;
}

function pool2x2(x: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * 196);
  for (let i = 0; i < n; i++)
    for (let r = 0; r < 14; r++)
      for (let c = 0; c < 14; c++) {
        const b = i * 784 + 2 * r * 28 + 2 * c;
        out[i * 196 + r * 14 + c] = (x[b] + x[b + 1] + x[b + 28] + x[b + 29]) / 4;
      }
  return out;
}

/** Training and test sets of a substitute task (`image`: as [n, 14, 14, 1] for a CNN; MNIST only). */
export function perfData(o: { task: PerfTask; n: number; nTest: number; d?: number; seed: number; image?: boolean }): PerfData {
  const { task, n, nTest, seed, d = 20, image = false } = o;
  const total = n + nTest;
  let ds: Dataset;
  let yTestSource: tf.Tensor2D;
  if (task === 'clusters') {
    if (total % 2) throw new Error(`perfData: n + nTest = ${total}; expected an even number for two balanced classes`);
    ds = gaussianClusters({ perClass: total / 2, classes: 2, dim: d, seed, separation: 2, targets: 'signed' });
    yTestSource = ds.y;
  } else if (task === 'rank2') {
    ds = regressionData({ task: 'rank2', n: total, d, noise: 0.1, seed });
    yTestSource = ds.yClean as tf.Tensor2D;
  } else if (task === 'mnist') {
    if (total % 2) throw new Error(`perfData: n + nTest = ${total}; expected an even number for two balanced classes`);
    const raw = loadMnist({ classes: [0, 2], perClass: total / 2, seed, targets: 'signed' });
    const pooled = pool2x2(raw.x.dataSync() as Float32Array, total);
    const y = raw.y.clone();
    raw.dispose();
    const x = tf.tensor2d(pooled, [total, 196]);
    ds = { x, y, name: 'mnist-0-2-14x14', description: '', meta: {}, dispose: () => tf.dispose([x, y]) };
    yTestSource = y;
  } else throw new Error(`perfData: task = ${String(task)}; expected 'clusters', 'rank2' or 'mnist'`);
  if (image && task !== 'mnist') throw new Error(`perfData: image inputs need task 'mnist'; got '${task}'`);
  const dim = ds.x.shape[1];
  const shape = (t: tf.Tensor2D, rows: number) => (image ? (tf.reshape(t, [rows, 14, 14, 1]) as tf.Tensor4D) : t);
  const x = shape(tf.slice(ds.x, [0, 0], [n, dim]), n);
  const y = tf.slice(ds.y, [0, 0], [n, 1]);
  const xTest = shape(tf.slice(ds.x, [n, 0], [nTest, dim]), nTest);
  const yTest = tf.slice(yTestSource, [n, 0], [nTest, 1]);
  ds.dispose();
  return { x, y, xTest, yTest, d: dim, classification: task !== 'rank2', dispose: () => tf.dispose([x, y, xTest, yTest]) };
}

/** The architectures of 003 Fig 3.4 and B.8–B.13 (NTK parameterization, no biases). */
export function perfNetwork(arch: PerfArch, d: number, m: number): Network {
  switch (arch) {
    case 'fc2-relu': return fcn({ widths: [d, m, 1], activation: 'relu' });
    case 'fc2-tanh': return fcn({ widths: [d, m, 1], activation: 'tanh' });
    case 'fc2-swish': return fcn({ widths: [d, m, 1], activation: 'swish' });
    case 'fc3-relu': return fcn({ widths: [d, m, m, 1], activation: 'relu' });
    case 'cnn2-relu': return convNet({ inputShape: [14, 14, 1], channels: [m], kernelSize: 3, activation: 'relu' });
    default: throw new Error(`perfNetwork: arch = ${String(arch)}; expected fc2-relu, fc2-tanh, fc2-swish, fc3-relu or cnn2-relu`);
  }
}

export interface PerfRun {
  model: PerfModel;
  lrMultiple: number;
  etaCrit: number;
  lr: number;
  status: string;
  /** Best test loss / accuracy up to the end (or to divergence). */
  bestTestLoss: number;
  bestTestAccuracy: number;
  initialTestLoss: number;
  finalTrainLoss: number;
  /** Test loss every `evalEvery` steps. */
  testLoss: number[];
  steps: number;
}

/**
 * One run of a test-performance panel: `model` ('f', 'lin' or 'quad') of `arch` at width m on `task`, trained at
 * lrMultiple · η_crit for `steps` updates (GD, or SGD with `batchSize`), recording the best test metrics every
 * `evalEvery` steps. A run whose training loss passes 10⁶ · max(1, L₀) is 'diverged'.
 * Example: `testPerformanceRun({ task: 'clusters', arch: 'fc2-relu', model: 'quad', m: 1000, n: 128, nTest: 500, lrMultiple: 1.5, steps: 200, seed: 0 })`.
 */
export function testPerformanceRun(o: { task: PerfTask; arch: PerfArch; model: PerfModel; m: number; n: number; nTest: number; d?: number; lrMultiple: number; steps: number; evalEvery?: number; batchSize?: number; seed: number; progress?: (line: string) => void }): PerfRun {
  const { task, arch, model, m, n, nTest, d = 20, lrMultiple, steps, evalEvery = 1, batchSize, seed } = o;
  if (model !== 'f' && model !== 'lin' && model !== 'quad') throw new Error(`testPerformanceRun: model = ${String(model)}; expected 'f', 'lin' or 'quad'`);
  const data = perfData({ task, n, nTest, d, seed, image: arch.startsWith('cnn') });
  const base = perfNetwork(arch, data.d, m);
  const w0 = base.init(seed);
  const loss = mse('mean');
  const crit = criticalLearningRate(base, w0, data.x, data.y, loss);
  const net = model === 'f' ? base : model === 'lin' ? linearize(base, w0) : nqm(base, w0);
  const L0 = tf.tidy(() => lossValue(loss, base.apply(w0, data.x), data.y).dataSync()[0]);
  const r = train({
    net, params: w0, x: data.x, y: data.y, loss, lr: lrMultiple * crit.eta, steps, batchSize, seed,
    stop: { divergeAbove: 1e6 * Math.max(1, L0) },
    track: [bestHeldOut({ x: data.xTest, y: data.yTest }, evalEvery)],
    progress: o.progress ?? false, label: `${task} ${arch} ${model} lr=${lrMultiple}·η_crit`,
  });
  const h = r.history;
  const last = (k: string) => { const v = h[k]?.value; return v && v.length ? (v[v.length - 1] as number) : NaN; };
  const out: PerfRun = {
    model, lrMultiple, etaCrit: crit.eta, lr: lrMultiple * crit.eta, status: r.status,
    bestTestLoss: last('testBestLoss'), bestTestAccuracy: data.classification ? last('testBestAccuracy') : NaN,
    initialTestLoss: (h.testLoss?.value[0] as number) ?? NaN, finalTrainLoss: r.finalLoss,
    testLoss: (h.testLoss?.value ?? []) as number[], steps: r.steps,
  };
  pv.dispose(r.params);
  pv.dispose(w0);
  if (net !== base) net.dispose?.();
  data.dispose();
  return out;
}

registerTasks(import.meta.url, { testPerformanceRun });
declare module '../run/tasks.js' {
  interface TaskRegistry { testPerformanceRun: typeof testPerformanceRun }
}
