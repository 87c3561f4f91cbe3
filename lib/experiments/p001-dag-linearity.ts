import * as tf from '@tensorflow/tfjs-core';
import { criticalLearningRate } from '../analysis/critical.js';
import { denseNet, longestPathLayers } from '../nets/dag.js';
import { mse } from '../analysis/losses.js';
import type { Figure } from '../present/figure.js';
import { normals, rngFor } from '../core/random.js';
import { train } from '../train/train.js';
import { kernelChange } from '../train/trackers.js';
import { registerTasks } from '../run/tasks.js';
import { checkInt } from '../core/checks.js';

/** n points in R^d0 with ±1 labels from a random linear teacher (the low-dimensional substitute for CIFAR-2, reference §0.3). */
export function dagData(n: number, d0: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const xs = normals(rngFor(seed, 'dag-data', 'x'), n * d0);
  const w = normals(rngFor(seed, 'dag-data', 'teacher'), d0);
  const ys = Float32Array.from({ length: n }, (_, i) => (xs.subarray(i * d0, (i + 1) * d0).reduce((s, v, j) => s + v * w[j], 0) >= 0 ? 1 : -1));
  return { x: tf.tensor2d(xs, [n, d0]), y: tf.tensor2d(ys, [n, 1]) };
}

export interface DagRun {
  m: number;
  seed: number;
  /** max_t ||K_t - K_0||_2 / ||K_0||_2 (001 Fig 2). */
  deltaK: number;
  finalLoss: number;
  initialLoss: number;
  steps: number;
  /** DAG width (001 Def 2.7): the smallest in-degree beyond the first layer. */
  dagWidth: number;
}

/**
 * 001 Fig 2: a 3-layer DenseNet (2 hidden groups of width m, scalar output) with every weight dropped with
 * probability 1/2 (fixed masks, 1/sqrt(remaining in-degree)), tanh, trained by GD on 1/2 sum (f - y)^2 with
 * eta = 1/lambda_max(K_0) (half the critical rate, no catapult), on n points in d0 dimensions, until the loss is
 * below `lossBelow` ("we observe the convergence of loss for all widths") or `steps` updates.
 */
export function dagRun(opts: { m: number; seed: number; n?: number; d0?: number; steps: number; lossBelow?: number; kernelEvery: number; progress?: (l: string) => void }): DagRun {
  checkInt('dagRun', 'm', opts.m, 1);
  checkInt('dagRun', 'steps', opts.steps, 0);
  checkInt('dagRun', 'kernelEvery', opts.kernelEvery, 1);
  const { m, seed, n = 10, d0 = 10, steps, kernelEvery, lossBelow = 1e-5 } = opts;
  const net = denseNet({ d: d0, m, depth: 2, activation: 'tanh', dropProbability: 0.5, maskSeed: seed });
  const params = net.init(seed);
  const data = dagData(n, d0, seed);
  const loss = mse('halfSum');
  const crit = criticalLearningRate(net, params, data.x, data.y, loss);
  const r = train({ net, params, x: data.x, y: data.y, loss, lr: crit.eta / 2, steps, stop: { lossBelow }, track: [kernelChange(kernelEvery, 'spectral')], critical: false, progress: opts.progress ?? false, label: `m=${m} seed=${seed}` });
  const inDeg = net.graph.inDegrees.slice(1).flat();
  const out: DagRun = { m, seed, deltaK: Math.max(...(r.history.kernelChange.value as number[])), finalLoss: r.finalLoss, initialLoss: r.history.batchLoss.value[0] as number, steps: r.steps, dagWidth: Math.min(...inDeg) };
  tf.dispose([data.x, data.y, ...Object.values(params), ...Object.values(r.params)]);
  net.dispose();
  return out;
}

/** 001 Fig 1 / Fig 3: a DAG drawn with each vertex placed in its longest-path layer (001 Def 2.1, 2.5). */
export function dagFigure(title: string, vertices: number, edges: [number, number][], highlight: number[] = []): Figure {
  const layer = longestPathLayers(vertices, edges);
  const count = new Map<number, number>();
  layer.forEach((l) => count.set(l, (count.get(l) ?? 0) + 1));
  const slot = new Map<number, number>();
  const pos = layer.map((l) => {
    const k = slot.get(l) ?? 0;
    slot.set(l, k + 1);
    return { x: l, y: k - ((count.get(l) as number) - 1) / 2 };
  });
  // Edges that skip layers arc upwards so that they do not hide the ones between adjacent layers.
  const shapes = edges.map(([u, v]) => {
    const [a, b] = [pos[u], pos[v]];
    const lift = 0.45 * (b.x - a.x - 1);
    return { type: 'path', layer: 'below', path: `M ${a.x},${a.y} Q ${(a.x + b.x) / 2},${(a.y + b.y) / 2 + lift} ${b.x},${b.y}`, line: { color: '#999', width: 1.2 } };
  });
  const L = Math.max(...layer);
  return {
    data: [
      {
        type: 'scatter',
        mode: 'markers+text',
        name: 'neurons',
        x: pos.map((p) => p.x),
        y: pos.map((p) => p.y),
        text: pos.map((_, v) => `v${v + 1}`),
        textposition: 'top center',
        marker: { size: 18, color: layer.map((l) => l / Math.max(L, 1)), colorscale: 'Viridis', line: { width: pos.map((_, v) => (highlight.includes(v) ? 3 : 0)), color: '#d62728' } },
      },
    ],
    layout: { title: { text: title }, shapes, xaxis: { title: { text: 'layer = longest path from the inputs' }, dtick: 1 }, yaxis: { visible: false }, width: 640, height: 400, showlegend: false },
  };
}

registerTasks(import.meta.url, { dagRun });
declare module '../run/tasks.js' {
  interface TaskRegistry { dagRun: typeof dagRun }
}
