import * as tf from '@tensorflow/tfjs-core';
import { type WasmBackend, activeAddon, heapOf, nativeKernel, registerOnce } from './openblas.js';

const KERNEL = 'TangentScale';

const kernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const { s } = attrs as unknown as { s: number };
  const b = backend as unknown as WasmBackend;
  const addon = activeAddon();
  if (!addon?.scale) throw new Error(`${KERNEL}: the native addon is not active; expected scaleTensor to check it first`);
  const out = b.makeOutput(x.shape, 'float32');
  const { heap, at } = heapOf(b);
  addon.scale(heap, tf.util.sizeFromShape(x.shape), at(x), at(out), s);
  return out;
};

const register = registerOnce(() => nativeKernel(KERNEL, kernel, {
  gradFunc: (dy, _saved, attrs) => ({ x: () => tf.mul(dy as tf.Tensor, (attrs as unknown as { s: number }).s) }),
}));

/**
 * s x. On the native path one pass over the wasm heap (the same bits as `tf.mul(x, s)`: s rounded to float32,
 * one float product), else that op; for the parameter-vector updates of the eigensolvers.
 *
 * @example const half = scaleTensor(w, 0.5);
 */
export function scaleTensor(x: tf.Tensor, s: number): tf.Tensor {
  if (activeAddon()?.scale && tf.getBackend() === 'wasm' && x.dtype === 'float32') {
    register();
    return tf.engine().runKernel(KERNEL, { x }, { s }) as tf.Tensor;
  }
  return tf.mul(x, s);
}
