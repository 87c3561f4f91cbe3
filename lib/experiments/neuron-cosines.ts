import * as tf from '@tensorflow/tfjs-core';
import { fcn } from '../fcn.js';
import type { Network } from '../network.js';
import { type LayerCosines, neuronGradientCosines } from '../neurons.js';

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
