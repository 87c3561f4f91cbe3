import * as tf from '@tensorflow/tfjs-core';
import { applyActivation, exp, log } from '../core/activations.js';
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
}

export function lossValue(loss: Loss, f: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return loss.jet(constantJet(f, 0), y)[0] as tf.Scalar;
}

export function mse(convention: MseConvention = 'mean'): Loss {
  if (convention !== 'mean' && convention !== 'halfSum' && convention !== 'meanAll') {
    throw new Error(`unknown MSE convention '${String(convention)}'; expected 'mean', 'halfSum' or 'meanAll'`);
  }
  const factor = (n: number, C: number) => (convention === 'mean' ? 1 / n : convention === 'halfSum' ? 0.5 : 1 / (n * C));
  return {
    name: `mse(${convention})`,
    config: { loss: 'mse', convention },
    jet(f, y) {
      checkTargets(f[0] as tf.Tensor, y);
      const [n, C] = y.shape;
      const r = sub(f, constantJet(y, f.length - 1));
      return mapLinear(mul(r, r), (t) => tf.mul(tf.sum(t), factor(n, C)));
    },
    outputCurvature: (n, C) => 2 * factor(n, C),
  };
}

/** Softmax cross-entropy averaged over samples (002 eq. 46): -(1/n) sum_i sum_c y_ic log softmax(f_i)_c. */
export function crossEntropy(): Loss {
  return {
    name: 'cross-entropy',
    config: { loss: 'cross-entropy' },
    jet(f, y) {
      checkTargets(f[0] as tf.Tensor, y);
      const n = y.shape[0];
      const f0 = f[0] as tf.Tensor;
      const shift = tf.max(f0, -1, true);
      const shifted: Jet = [tf.sub(f0, shift), ...f.slice(1)];
      const e = applyActivation(exp, shifted);
      const lse = applyActivation(log, mapLinear(e, (t) => tf.sum(t, -1, true)));
      // log softmax = shifted - lse
      const logp = sub(shifted, mapLinear(lse, (t) => tf.tile(t, [1, y.shape[1] as number])));
      return scale(mapLinear(logp, (t) => tf.sum(tf.mul(t, y))), -1 / n);
    },
  };
}

function checkTargets(f: tf.Tensor, y: tf.Tensor): void {
  if (f.rank !== 2 || y.rank !== 2 || f.shape[0] !== y.shape[0] || f.shape[1] !== y.shape[1]) {
    throw new Error(`targets have shape [${y.shape}]; expected the output shape [${f.shape}]`);
  }
}

export function lossByName(spec: string | Loss): Loss {
  if (typeof spec !== 'string') return spec;
  if (spec === 'cross-entropy' || spec === 'ce') return crossEntropy();
  const m = /^mse(?:\((mean|halfSum|meanAll)\))?$/.exec(spec);
  if (m) return mse((m[1] as MseConvention) ?? 'mean');
  throw new Error(`unknown loss '${spec}'; expected 'mse(mean)', 'mse(halfSum)', 'mse(meanAll)' or 'cross-entropy'`);
}
