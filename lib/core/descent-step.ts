import * as tf from '@tensorflow/tfjs-core';
import { type WasmBackend, activeAddon, heapOf, nativeKernel, registerOnce } from './openblas.js';

const KERNEL = 'TangentDescentStep';

const kernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { p, d } = inputs as { p: tf.TensorInfo; d: tf.TensorInfo };
  const { lr } = attrs as unknown as { lr: number };
  const b = backend as unknown as WasmBackend;
  const addon = activeAddon();
  if (!addon?.descentStep) throw new Error(`${KERNEL}: the native addon is not active; expected descentStep to check it first`);
  const out = b.makeOutput(p.shape, 'float32');
  const { heap, at } = heapOf(b);
  addon.descentStep(heap, tf.util.sizeFromShape(p.shape), at(p), at(d), at(out), lr);
  return out;
};

const register = registerOnce(() => nativeKernel(KERNEL, kernel, {
  gradFunc: (dy, _saved, attrs) => {
    const { lr } = attrs as unknown as { lr: number };
    return { p: () => tf.clone(dy as tf.Tensor), d: () => tf.mul(dy as tf.Tensor, -lr) };
  },
}));

/**
 * p - lr d: the last step of every optimizer. On the native path one pass over the wasm heap (the same float32
 * roundings as `tf.sub(p, tf.mul(d, lr))`, so both paths give the same bits), else those two ops.
 *
 * @param p parameters; @param d the direction (gradient, momentum buffer, Adam's ratio); @param lr step size
 * @example const w1 = descentStep(w, g, 0.1);
 */
export function descentStep(p: tf.Tensor, d: tf.Tensor, lr: number): tf.Tensor {
  if (!Number.isFinite(lr)) throw new Error(`descentStep: lr = ${lr}; expected a finite number`);
  const addon = activeAddon();
  if (addon?.descentStep && tf.getBackend() === 'wasm' && p.dtype === 'float32' && d.dtype === 'float32' && tf.util.arraysEqual(p.shape, d.shape)) {
    register();
    return tf.engine().runKernel(KERNEL, { p, d }, { lr }) as tf.Tensor;
  }
  return tf.tidy(() => tf.sub(p, tf.mul(d, lr)));
}
