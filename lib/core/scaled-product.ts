import * as tf from '@tensorflow/tfjs-core';
import { denseProduct } from './matmul.js';
import { type WasmBackend, activeAddon, heapOf, loadedAddon, nativeKernel, registerOnce } from './openblas.js';

const KERNEL = 'TangentScaledMatMul';

interface Attrs { transposeA: boolean; transposeB: boolean; alpha: number }

const kernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB, alpha } = attrs as unknown as Attrs;
  const w = backend as unknown as WasmBackend;
  // Loaded rather than active: the kernel also runs the gradient of a product made on the native path.
  const addon = loadedAddon();
  if (!addon?.sgemmScaled) throw new Error(`${KERNEL}: the native addon is not loaded or predates sgemmScaled; expected scaledDenseProduct to check it first`);
  const [m, k] = transposeA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = transposeB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (k !== kb) throw new Error(`${KERNEL}: inner dimensions ${k} (a [${a.shape}], transposeA = ${transposeA}) and ${kb} (b [${b.shape}], transposeB = ${transposeB}); expected equal`);
  const out = w.makeOutput([m, n], 'float32');
  if (m * n === 0) return out;
  const { heap, at } = heapOf(w);
  addon.sgemmScaled(heap, at(a), at(b), at(out), 1, m, n, k, transposeA, transposeB, 0, 0, alpha);
  return out;
};

function scaledMatMul(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean, alpha: number): tf.Tensor {
  return tf.engine().runKernel(KERNEL, { a, b }, { transposeA, transposeB, alpha }) as tf.Tensor;
}

const SUM = 'TangentScaledDenseSum';

// scale · Σ_i a_i b_iᵀ, the terms accumulated into one output (beta = 1), left to right.
const sumKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { alpha, terms } = attrs as unknown as { alpha: number; terms: number };
  const w = backend as unknown as WasmBackend;
  const addon = loadedAddon();
  if (!addon?.sgemmScaled || !addon.sgemmScaledAccumulate) throw new Error(`${SUM}: the native addon is not loaded or predates sgemmScaledAccumulate; expected scaledDenseProductSum to check it first`);
  // Inputs as an array [a0, W0, a1, W1, ...] (as AddN's: so that tfjs can save them all for the gradient).
  const ins = inputs as unknown as tf.TensorInfo[];
  const [m, k0] = ins[0].shape;
  const n = ins[1].shape[0];
  const out = w.makeOutput([m, n], 'float32');
  if (m * n === 0) return out;
  const { heap, at } = heapOf(w);
  for (let i = 0; i < terms; i++) {
    const a = ins[2 * i];
    const b = ins[2 * i + 1];
    const k = a.shape[1];
    if (a.shape[0] !== m || b.shape[0] !== n || b.shape[1] !== k) throw new Error(`${SUM}: term ${i} is a [${a.shape}] by W [${b.shape}]; expected a [${m}, k] and W [${n}, k] (k = ${k0} in term 0)`);
    (i === 0 ? addon.sgemmScaled : addon.sgemmScaledAccumulate)(heap, at(a), at(b), at(out), 1, m, n, k, false, true, 0, 0, alpha);
  }
  return out;
};

const register = registerOnce(() => {
  nativeKernel(KERNEL, kernel, {
    inputsToSave: ['a', 'b'],
    // tfjs's BatchMatMul gradient with the factor carried into both products.
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved;
      const { transposeA: ta, transposeB: tb, alpha } = attrs as unknown as Attrs;
      const g = dy as tf.Tensor;
      if (!ta && !tb) return { a: () => scaledMatMul(g, b, false, true, alpha), b: () => scaledMatMul(a, g, true, false, alpha) };
      if (!ta && tb) return { a: () => scaledMatMul(g, b, false, false, alpha), b: () => scaledMatMul(g, a, true, false, alpha) };
      if (ta && !tb) return { a: () => scaledMatMul(b, g, false, true, alpha), b: () => scaledMatMul(a, g, false, false, alpha) };
      return { a: () => scaledMatMul(b, g, true, true, alpha), b: () => scaledMatMul(g, a, true, true, alpha) };
    },
  });
  nativeKernel(SUM, sumKernel, {
    saveAllInputs: true,
    gradFunc: (dy, saved, attrs) => {
      const { alpha, terms } = attrs as unknown as { alpha: number; terms: number };
      const g = dy as tf.Tensor;
      const grads: Record<string, () => tf.Tensor> = {};
      for (let i = 0; i < terms; i++) {
        const [a, b] = [saved[2 * i], saved[2 * i + 1]];
        grads[2 * i] = () => scaledMatMul(g, b, false, false, alpha);
        grads[2 * i + 1] = () => scaledMatMul(g, a, true, false, alpha);
      }
      return grads;
    },
  });
});

const MAX_TERMS = 4;

/**
 * scale · Σ_i a_i W_iᵀ: a Taylor coefficient of a dense layer (c_m = Σ_i a_i w_{m-i}ᵀ). On the native path one tfjs
 * kernel accumulating the products in OpenBLAS (no Add kernels, no copies of the partial sums for the tape);
 * elsewhere (and for one term, or more than 4) scaledDenseProduct per term and adds, left to right.
 */
export function scaledDenseProductSum(terms: readonly [tf.Tensor, tf.Tensor][], scale: number): tf.Tensor {
  if (terms.length === 0) throw new Error('scaledDenseProductSum: terms = []; expected at least one (a, W) pair');
  if (terms.length === 1) return scaledDenseProduct(terms[0][0], terms[0][1], scale);
  const native = terms.length <= MAX_TERMS && loadedAddon()?.sgemmScaledAccumulate && scaledProductIsNative()
    && terms.every(([a, w]) => a.dtype === 'float32' && w.dtype === 'float32' && a.rank === 2 && w.rank === 2 && a.shape[1] === w.shape[1]
      && a.shape[0] === terms[0][0].shape[0] && w.shape[0] === terms[0][1].shape[0]);
  if (!native) return tf.tidy(() => terms.map(([a, w]) => scaledDenseProduct(a, w, scale)).reduce((acc, t) => tf.add(acc, t)));
  register();
  return tf.engine().runKernel(SUM, terms.flat() as unknown as tf.NamedTensorMap, { alpha: scale, terms: terms.length }) as tf.Tensor;
}

/** Whether scaledDenseProduct runs as one native product (the native path on wasm with an addon that has it). */
export function scaledProductIsNative(): boolean {
  return Boolean(activeAddon()?.sgemmScaled) && tf.getBackend() === 'wasm';
}

/**
 * scale · a Wᵀ for a: [n, in], W: [out, in] (a dense layer with its 1/√fan-in factor, 002 eq. 3). On the native
 * path one OpenBLAS call with the factor as its alpha, forward and in both gradient products (no elementwise pass
 * for the factor); elsewhere `denseProduct` then a multiply. The two round differently in the last bit.
 *
 * @param a layer input [n, in]; @param w weight [out, in]; @param scale the factor
 * @example const z = scaledDenseProduct(x, W, 1 / Math.sqrt(784));
 */
export function scaledDenseProduct(a: tf.Tensor, w: tf.Tensor, scale: number): tf.Tensor {
  if (!Number.isFinite(scale)) throw new Error(`scaledDenseProduct: scale = ${scale}; expected a finite number`);
  if (a.rank !== 2 || w.rank !== 2 || a.shape[1] !== w.shape[1]) {
    throw new Error(`scaledDenseProduct: a [${a.shape}] and W [${w.shape}]; expected a [n, in] and W [out, in] with one 'in'`);
  }
  if (scaledProductIsNative() && a.dtype === 'float32' && w.dtype === 'float32') {
    register();
    return scaledMatMul(a, w, false, true, scale);
  }
  return scale === 1 ? denseProduct(a, w) : tf.tidy(() => tf.mul(denseProduct(a, w), scale));
}
