import * as tf from '@tensorflow/tfjs-core';

/**
 * Kernel overrides for the wasm backend that change no value, only copies. The engine clones (Identity)
 * every tensor a gradient saves for the backward pass, and tfjs-backend-wasm 4.22's Identity copies the data:
 * 36 copies per Hessian-vector product of a [100,4096,1] net. Tensors are immutable, so the clone can share
 * the input's data by reference count, as tfjs-backend-cpu's Identity and wasm's own Reshape do.
 */
const sharedIdentity: tf.KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  (backend as tf.KernelBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

let installed = false;

/** Replaces the wasm Identity kernel by the sharing one (once; the wasm backend must be registered). */
export function installWasmKernelOverrides(): void {
  if (installed) return;
  if (!tf.getKernel('Identity', 'wasm')) throw new Error('installWasmKernelOverrides: no wasm Identity kernel registered; expected the wasm backend to be loaded');
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: sharedIdentity });
  installed = true;
}
