import * as tf from '@tensorflow/tfjs-core';
import { type ActivationSpec, applyActivation, activation as toActivation } from '../core/activations.js';
import { checkArgs } from './derivatives.js';
import { gram } from '../core/matmul.js';
import type { DenseRecord, Network } from '../nets/network.js';
import { type Params, readScalar } from '../core/params.js';

export interface LayerCosines {
  /** Hidden layer index, 1-based (layer 1 reads the input). */
  layer: number;
  width: number;
  /** Mean over samples and pairs i != j of |cos(grad alpha~_i, grad alpha~_j)| (004 eq. 22). */
  meanAbsCos: number;
}

/**
 * Cosines between the parameter gradients of the pre-activations of one layer, for fully connected
 * chains (004 eq. 22, with the denominator |grad_i| |grad_j|). Per sample, the Gram of those gradients is
 * G = sum_{k<=l} (s_k^2 ||alpha^(k-1)||^2 + s_bk^2) J_k J_k^T with J_k = d alpha~^(l) / d alpha~^(k),
 * J_l = I and J_{k-1} = J_k s_k W_k diag(sigma'(alpha~^(k-1))) (reference §3.3), never forming the gradients.
 */
export function neuronGradientCosines(net: Network, params: Params, x: tf.Tensor, layers?: number[]): LayerCosines[] {
  checkArgs(net, params, x);
  if (net.config.builder !== 'fcn') throw new Error(`neuronGradientCosines supports fully connected chains (fcn, bottleneck builders); got ${net.name}`);
  const acts = (net.config.activation as string[]).map((a) => toActivation(a as ActivationSpec));
  const records: DenseRecord[] = [];
  const pre: tf.Tensor[] = [];
  const f = net.taylor(params, null, x, 0, {
    dense(rec, z) {
      records.push({ ...rec, input: tf.keep(tf.clone(rec.input)) });
      pre.push(tf.keep(tf.clone(z)));
      return z;
    },
  });
  tf.dispose(f as tf.Tensor[]);
  const hidden = acts.length;
  const which = layers ?? Array.from({ length: hidden }, (_, l) => l + 1);
  const n = x.shape[0];
  const out: LayerCosines[] = [];
  try {
    for (const l of which) {
      if (!Number.isInteger(l) || l < 1 || l > hidden) throw new Error(`layer ${l} is invalid; expected 1..${hidden} (hidden layers)`);
      let total = 0;
      for (let i = 0; i < n; i++) {
        // One scope per sample: the m_l x m_k Jacobians of different samples are never alive together.
        const G = tf.tidy(() => {
          const width = pre[l - 1].shape[1] as number;
          let J: tf.Tensor2D = tf.eye(width) as tf.Tensor2D;
          let acc: tf.Tensor2D | null = null;
          for (let k = l; k >= 1; k--) {
            const rec = records[k - 1];
            const a = tf.slice(rec.input, [i], [1]);
            const coef = tf.add(tf.mul(tf.sum(tf.square(a)), rec.scale * rec.scale), rec.bias ? rec.biasScale * rec.biasScale : 0);
            const term = tf.mul(gram(J), coef) as tf.Tensor2D;
            acc = acc ? (tf.add(acc, term) as tf.Tensor2D) : term;
            if (k > 1) {
              const z = tf.slice(pre[k - 2], [i], [1]);
              const dsigma = applyActivation(acts[k - 2], [z, tf.onesLike(z)])[1] as tf.Tensor;
              J = tf.mul(tf.mul(tf.matMul(J, params[rec.weight] as tf.Tensor2D), rec.scale), dsigma) as tf.Tensor2D;
            }
          }
          return acc as tf.Tensor2D;
        });
        total += meanOffDiagonalAbsCos(G);
        G.dispose();
      }
      out.push({ layer: l, width: pre[l - 1].shape[1] as number, meanAbsCos: total / n });
    }
  } finally {
    tf.dispose(records.map((r) => r.input));
    tf.dispose(pre);
  }
  return out;
}

function meanOffDiagonalAbsCos(G: tf.Tensor2D): number {
  const m = G.shape[0];
  if (m < 2) return 0;
  return readScalar(() => {
    const d = tf.sqrt(tf.maximum(tf.sum(tf.mul(G, tf.eye(m)), 1), 1e-30));
    const cos = tf.abs(tf.div(G, tf.mul(tf.reshape(d, [m, 1]), tf.reshape(d, [1, m]))));
    // The diagonal of cos is exactly 1.
    return tf.div(tf.sub(tf.sum(cos), m), m * (m - 1));
  });
}
