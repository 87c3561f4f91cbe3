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

/**
 * The gradient of every multiplication casts its other operand to float32 (tfjs-core's Multiply gradient), and
 * wasm's Cast copies even when the dtype does not change: three tensor-sized copies per HVP of a tanh layer.
 * A cast to the same dtype shares the data; other casts run the wasm kernel.
 */
function sharedCast(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype !== (args.attrs as { dtype?: tf.DataType }).dtype) return original(args);
    return sharedIdentity(args);
  };
}

let installed = false;

/** Replaces the wasm Identity and Cast kernels by the sharing ones (once; the wasm backend must be registered). */
export function installWasmKernelOverrides(): void {
  if (installed) return;
  const identity = tf.getKernel('Identity', 'wasm');
  const cast = tf.getKernel('Cast', 'wasm');
  if (!identity || !cast) throw new Error(`installWasmKernelOverrides: no wasm ${identity ? 'Cast' : 'Identity'} kernel registered; expected the wasm backend to be loaded`);
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: sharedIdentity });
  tf.unregisterKernel('Cast', 'wasm');
  tf.registerKernel({ kernelName: 'Cast', backendName: 'wasm', kernelFunc: sharedCast(cast.kernelFunc) });
  installed = true;
}
