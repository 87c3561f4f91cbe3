import * as tf from '@tensorflow/tfjs-core';
import { bottleneckQuadratic } from '../nets/bottleneck.js';
import { fcn, withOutput } from '../nets/fcn.js';
import { hessianSpectralNorm } from '../analysis/hessian.js';
import type { Network } from '../nets/network.js';
import { tangentKernel } from '../analysis/ntk.js';
import { registerTasks } from '../run/tasks.js';
import { checkInt, checkOneOf } from '../core/checks.js';

/** The three rows of 002 Table 1. */
export type Table1Model = 'linear-output' | 'nonlinear-output' | 'bottleneck';

/**
 * Models for a numerical 002 Table 1 (reference §2.5): a one-hidden-layer tanh net with a linear output
 * (002 eq. 8 with trained v), the same with swish on the output (002 eq. 26; swish''(0) != 0 so eq. 29's lower
 * bound is Ω(1)), and the bottleneck of 002 eq. 31. Smooth activations: the theory needs a β-smooth sigma.
 */
export function table1Network(model: Table1Model, m: number): Network {
  checkOneOf('table1Network', 'model', model, ['linear-output', 'nonlinear-output', 'bottleneck'] as const);
  checkInt('table1Network', 'm', m, 1);
  switch (model) {
    case 'linear-output':
      return fcn({ widths: [1, m, 1], activation: 'tanh' });
    case 'nonlinear-output':
      return withOutput(fcn({ widths: [1, m, 1], activation: 'tanh' }), 'swish');
    case 'bottleneck':
      return bottleneckQuadratic({ m });
    default:
      throw new Error(`unknown Table 1 model '${String(model)}'; expected 'linear-output', 'nonlinear-output' or 'bottleneck'`);
  }
}

export interface HessianScalingResult {
  model: Table1Model;
  m: number;
  seed: number;
  /** ||H|| of the model output at x (largest |eigenvalue|). */
  hessianNorm: number;
  /** ||grad_w f||^2 = K(x, x) (002 eq. 10/14). */
  gradNormSq: number;
  iterations: number;
  converged: boolean;
}

export function hessianScaling(model: Table1Model, m: number, seed: number, xValue = 1): HessianScalingResult {
  const net = table1Network(model, m);
  const params = net.init(seed);
  const x = tf.tensor2d([[xValue]]);
  const h = hessianSpectralNorm(net, params, x, { tol: 1e-4, maxIter: 80, seed });
  const K = tangentKernel(net, params, x);
  const gradNormSq = K.dataSync()[0];
  tf.dispose([x, K, ...Object.values(params)]);
  return { model, m, seed, hessianNorm: h.value, gradNormSq, iterations: h.iterations, converged: h.converged };
}

registerTasks(import.meta.url, { hessianScaling });
declare module '../run/tasks.js' {
  interface TaskRegistry { hessianScaling: typeof hessianScaling }
}
