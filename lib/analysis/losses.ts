import * as tf from '@tensorflow/tfjs-core';
import { logSoftmaxJet } from '../core/activations.js';
import { type Jet, constantJet, mapLinear, mul, sub, scale } from '../core/jet.js';

/**
 * MSE conventions (reference "Critical and maximal learning rates"):
 * `mean` = (1/n) sum_i ||f_i - y_i||^2 (003 eq. 4.1), `halfSum` = 1/2 sum_i ||f_i - y_i||^2 (003 eq. 3.5, 001 eq. 15),
 * `meanAll` = mean over all n*C entries (PyTorch's MSELoss default).
 */
export type MseConvention = 'mean' | 'halfSum' | 'meanAll';

export interface Loss {
  readonly name: string;
  readonly config: Record<string, unknown>;
  /** Taylor coefficients of the loss given those of the outputs f ([n, C] each) and targets y. */
  jet(f: Jet, y: tf.Tensor): Jet;
  /** Factor c such that the loss Hessian w.r.t. f is c * I (Gauss-Newton part) for MSE; undefined otherwise. */
  readonly outputCurvature?: (n: number, C: number) => number;
  /** Fewest network outputs the loss is defined for (cross-entropy: 2). */
  readonly minOutputs?: number;
}

export function lossValue(loss: Loss, f: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return loss.jet(constantJet(f, 0), y)[0] as tf.Scalar;
}

/**
 * Mean squared error under one of the papers' conventions (see MseConvention): `mean` = (1/n) Σ_i ‖f_i − y_i‖²
 * (003 eq. 4.1, the default), `halfSum` = ½ Σ_i ‖f_i − y_i‖² (003 eq. 3.5, 001 eq. 15), `meanAll` = the mean
 * over all n·C entries (PyTorch's MSELoss). The convention sets the critical learning rate: n/λ_max(K),
 * 2/λ_max(K) and nC/λ_max(K) (criticalLearningRate).
 *
 * @param convention 'mean' (default), 'halfSum' or 'meanAll'
 * @returns a Loss for `train`, `criticalLearningRate`, `lossSharpness`, ...
 * @example
 * const run = train({ net, params: w, x, y, loss: mse('halfSum'), lr: 0.1, steps: 20 });
 */
export function mse(convention: MseConvention = 'mean'): Loss {
  if (convention !== 'mean' && convention !== 'halfSum' && convention !== 'meanAll') {
    throw new Error(`mse: convention = '${String(convention)}'; expected 'mean', 'halfSum' or 'meanAll'`);
  }
  const factor = (n: number, C: number) => (convention === 'mean' ? 1 / n : convention === 'halfSum' ? 0.5 : 1 / (n * C));
  return {
    name: `mse(${convention})`,
    config: { loss: 'mse', convention },
    jet(f, y) {
      checkTargets('mse', f[0] as tf.Tensor, y);
      const [n, C] = y.shape;
      const r = sub(f, constantJet(y, f.length - 1));
      return mapLinear(mul(r, r), (t) => tf.mul(tf.sum(t), factor(n, C)));
    },
    outputCurvature: (n, C) => 2 * factor(n, C),
  };
}

/**
 * Softmax cross-entropy averaged over samples (002 eq. 46): -(1/n) sum_i sum_c y_ic log softmax(f_i)_c.
 * It needs C ≥ 2 outputs: over one class log softmax is 0 for every parameter (zero loss and gradient), so a
 * one-output network is refused (checkLoss); a binary task uses two outputs with one-hot targets.
 *
 * @returns a Loss for `train`, `criticalLearningRate`, `lossSharpness`, ... (targets y: [n, C], one-hot)
 * @example
 * const net = fcn({ widths: [2, 32, 3], activation: 'relu' });
 * const x = tf.randomNormal([6, 2], 0, 1, 'float32', 1), y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3).toFloat();
 * const run = train({ net, params: net.init(0), x, y, loss: crossEntropy(), lr: 0.5, steps: 20 });
 */
export function crossEntropy(): Loss {
  return {
    name: 'cross-entropy',
    config: { loss: 'cross-entropy' },
    minOutputs: 2,
    jet(f, y) {
      checkTargets('crossEntropy', f[0] as tf.Tensor, y);
      const n = y.shape[0];
      const logp = logSoftmaxJet(f);
      return scale(mapLinear(logp, (t) => tf.sum(tf.mul(t, y))), -1 / n);
    },
  };
}

function checkTargets(fn: string, f: tf.Tensor, y: tf.Tensor): void {
  if (f.rank !== 2 || y.rank !== 2 || f.shape[0] !== y.shape[0] || f.shape[1] !== y.shape[1]) {
    throw new Error(`${fn}: y has shape [${y.shape}]; expected the output shape [${f.shape}]`);
  }
}

const LOSS_NAMES = `'mse' (= 'mse(mean)'), 'mse(halfSum)', 'mse(meanAll)', 'cross-entropy' (or 'ce'), or a Loss such as mse('mean')`;

/** A Loss from a Loss or its name (the forms `train` and `criticalLearningRate` accept). */
export function lossByName(spec: string | Loss, fn = 'loss'): Loss {
  if (typeof spec === 'string') {
    if (spec === 'cross-entropy' || spec === 'ce') return crossEntropy();
    const m = /^mse(?:\((mean|halfSum|meanAll)\))?$/.exec(spec);
    if (m) return mse((m[1] as MseConvention) ?? 'mean');
    throw new Error(`${fn === 'loss' ? '' : `${fn}: `}loss: name = '${spec}'; expected ${LOSS_NAMES}`);
  }
  if (spec === null || typeof spec !== 'object' || typeof (spec as Loss).jet !== 'function') {
    throw new Error(`${fn}: loss = ${describe(spec)}; expected ${LOSS_NAMES}`);
  }
  return spec;
}

function describe(v: unknown): string {
  if (typeof v === 'function') return `a function (${v.name || 'anonymous'})`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * A loss against a network's C outputs and targets y, at an entry point (before any gradient tape: a throw inside
 * one leaves tfjs' engine with an open scope): y is [n, C], and cross-entropy has C ≥ 2.
 */
export function checkLoss(fn: string, loss: Loss, C: number, y: tf.Tensor): void {
  if (loss.minOutputs !== undefined && C < loss.minOutputs) {
    throw new Error(`${fn}: loss = ${loss.name} on a network with ${C} output; expected at least ${loss.minOutputs} outputs (softmax over one class is 1, so the loss and its gradient are 0 for every parameter). For a binary task use 2 outputs and one-hot targets, or mse`);
  }
  if (y.rank !== 2 || y.shape[1] !== C) throw new Error(`${fn}: y has shape [${y.shape}]; expected [n, ${C}], one column per network output (loss ${loss.name})`);
}
