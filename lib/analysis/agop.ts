import * as tf from '@tensorflow/tfjs-core';
import { checkArgs } from './derivatives.js';
import { mm } from '../core/matmul.js';
import type { Network } from '../nets/network.js';
import { type Params, readScalar } from '../core/params.js';

/**
 * Average gradient outer product over inputs (003 eq. 4.5): G = (1/n) sum_i J_x(x_i)^T J_x(x_i), with J_x the
 * C x d input Jacobian of the predictor (footnote 2 for multiple outputs). Returns d x d.
 */
export function agop(net: Network, params: Params, x: tf.Tensor): tf.Tensor2D {
  checkArgs(net, params, x);
  if (x.rank !== 2) throw new Error(`agop needs flat inputs [n, d]; got rank ${x.rank}`);
  const n = x.shape[0];
  return tf.tidy(() => {
    let G: tf.Tensor2D | null = null;
    for (let c = 0; c < net.outputDim; c++) {
      // Samples are independent, so the gradient of sum_i f_c(x_i) w.r.t. x holds every row's input gradient.
      const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.slice(net.apply(params, xx), [0, c], [n, 1])))(x) as tf.Tensor2D;
      const Gc = mm(g, g, true, false);
      G = G ? (tf.add(G, Gc) as tf.Tensor2D) : Gc;
    }
    return tf.div(G as tf.Tensor2D, n) as tf.Tensor2D;
  });
}

/** AGOP alignment (003 eq. 4.6): cos(G, G*) = Tr(G^T G*) / (||G||_F ||G*||_F). */
export function agopAlignment(G: tf.Tensor2D, Gstar: tf.Tensor2D | ArrayLike<number>): number {
  return readScalar(() => {
    const B = Gstar instanceof tf.Tensor ? Gstar : tf.tensor2d(Array.from(Gstar), G.shape);
    if (B.shape[0] !== G.shape[0] || B.shape[1] !== G.shape[1]) {
      throw new Error(`AGOP alignment: matrices of shapes [${G.shape}] and [${B.shape}]; expected equal shapes`);
    }
    const num = tf.sum(tf.mul(G, B));
    const den = tf.mul(tf.norm(G), tf.norm(B));
    return tf.div(num, den);
  });
}
