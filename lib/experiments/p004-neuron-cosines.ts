import * as tf from '@tensorflow/tfjs-core';
import { fcn } from '../nets/fcn.js';
import type { Network } from '../nets/network.js';
import { type LayerCosines, neuronGradientCosines } from '../analysis/neurons.js';
import { loadImageSubset } from '../data/images.js';
import { standardizeDataset } from '../data/preprocess.js';
import { registerTasks } from '../run/tasks.js';
import { checkOneOf } from '../core/checks.js';

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

const fig3Data = new Map<string, { values: Float32Array; shape: [number, number] }>();

/** One point of 004 Fig 3 from plain arguments (so that sweep workers can run it); the standardized image subset is read once per process. */
export function fig3Cosines(p: Fig3Point): LayerCosines[] {
  if (p.source !== undefined) checkOneOf('fig3Cosines', 'source', p.source, ['cifar10', 'mnist', 'auto'] as const);
  const dataKey = `${p.source ?? 'auto'}/${p.perClass}/${p.dataSeed}`;
  let data = fig3Data.get(dataKey);
  if (!data) {
    const raw = loadImageSubset({ source: p.source ?? 'auto', classes: [0, 2], perClass: p.perClass, seed: p.dataSeed });
    const { dataset } = standardizeDataset(raw);
    data = { values: Float32Array.from(dataset.x.dataSync()), shape: dataset.x.shape };
    tf.dispose([raw.x, raw.y, raw.yClean, dataset.x, dataset.y, dataset.yClean].filter((t) => t !== undefined));
    fig3Data.set(dataKey, data);
  }
  const net = p.panel === 'width' ? fig3WidthNetwork(data.shape[1], p.width) : fig3BottleneckNetwork(data.shape[1], p.width, p.wide);
  const x = tf.tensor2d(data.values, data.shape);
  try {
    return cosinesAtInit(net, x, p.seed);
  } finally {
    x.dispose();
  }
}

registerTasks(import.meta.url, { fig3Cosines });
declare module '../run/tasks.js' {
  interface TaskRegistry { fig3Cosines: typeof fig3Cosines }
}
