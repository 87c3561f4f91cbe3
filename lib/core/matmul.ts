import * as tf from '@tensorflow/tfjs-core';
import { nativeGrams, nativeMatMulActive } from './openblas.js';

/**
 * Matrix products that avoid the wasm backend's transposed-operand kernels, which measure 10-40x slower than
 * the plain kernel (e.g. [128,1024]x[1024,1024]: 12.7 ms plain, 128 ms transposeB, 493 ms transposeA, tfjs 4.22).
 * On plain wasm the transposes are materialised on the smaller operand sides instead; other backends, and wasm with
 * its products on OpenBLAS (lib/core/openblas.ts, which takes the flags at full speed), get the flags.
 */
function wasm(): boolean {
  return tf.getBackend() === 'wasm' && !nativeMatMulActive();
}

/** a^op b^op with explicit transposes on wasm (no gradient customisation; use for kernels and Grams). */
export function mm(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor2D {
  if (!wasm() || (!transposeA && !transposeB)) return tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, transposeA, transposeB);
  return tf.tidy(() => tf.matMul(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b) as tf.Tensor2D);
}

/** X X^T. */
export function gram(x: tf.Tensor2D): tf.Tensor2D {
  return mm(x, x, false, true);
}

/**
 * X Xᵀ of each matrix: on the native path one call, which runs small Grams side by side on two threads (OpenBLAS
 * runs an ssyrk below order ~200 on one); elsewhere `gram` each. The same values either way. Not differentiable.
 *
 * @example const [AA, DD] = grams([a, d]);   // a: [n, in], d: [n, out] -> two [n, n]
 */
export function grams(xs: readonly tf.Tensor2D[]): tf.Tensor2D[] {
  return nativeGrams(xs) ?? xs.map(gram);
}

/**
 * a W^T for a: [n, in], W: [out, in] (a dense layer in the papers' W x layout). On plain wasm as a transpose(W) or
 * (W a^T)^T, whichever transposes less, with a gradient built from plain products too: dA = dZ W, dW = dZ^T a.
 * Elsewhere tf.matMul with the flag, whose own gradient takes flags as well (no custom-gradient node: at n = 1 its
 * bookkeeping cost more than the product).
 */
export function denseProduct(a: tf.Tensor, w: tf.Tensor): tf.Tensor {
  return wasm() ? wasmDenseProduct(a, w) : tf.matMul(a as tf.Tensor2D, w as tf.Tensor2D, false, true);
}

const wasmDenseProduct: (a: tf.Tensor, w: tf.Tensor) => tf.Tensor = tf.customGrad(((a: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, w]);
  // Transpose whichever side is smaller: W (out x in), or a and the result (n x in + n x out).
  const [n, inDim] = a.shape as [number, number];
  const out = w.shape[0];
  const value = out * inDim <= n * (inDim + out) ? tf.matMul(a as tf.Tensor2D, tf.transpose(w) as tf.Tensor2D) : tf.transpose(tf.matMul(w as tf.Tensor2D, tf.transpose(a) as tf.Tensor2D));
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sw] = saved;
      return [tf.matMul(dy as tf.Tensor2D, sw as tf.Tensor2D), tf.matMul(tf.transpose(dy) as tf.Tensor2D, sa as tf.Tensor2D)];
    },
  };
}) as never);

/** a b; on plain wasm with a gradient that avoids transposed kernels: dA = (b dY^T)^T, dB = a^T dY. */
export function plainProduct(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return wasm() ? wasmPlainProduct(a, b) : tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
}

const wasmPlainProduct: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved;
      return [tf.transpose(tf.matMul(sb as tf.Tensor2D, tf.transpose(dy) as tf.Tensor2D)), tf.matMul(tf.transpose(sa) as tf.Tensor2D, dy as tf.Tensor2D)];
    },
  };
}) as never);
