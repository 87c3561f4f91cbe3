import * as tf from '@tensorflow/tfjs-core';
import { registerOnce } from './openblas.js';

const KERNEL = 'TangentZeroProbe';

// The output is z itself (shared data, as the wasm Identity override); the probe is never read.
const kernelFunc: tf.KernelFunc = ({ inputs, backend }) => {
  const { z } = inputs as { z: tf.TensorInfo; probe: tf.TensorInfo };
  (backend as tf.KernelBackend).incRef(z.dataId);
  return { dataId: z.dataId, shape: z.shape, dtype: z.dtype };
};

const register = registerOnce(() => {
  tf.registerKernel({ kernelName: KERNEL, backendName: 'wasm', kernelFunc });
  tf.registerGradient({
    kernelName: KERNEL,
    // z + probe: dy passes to both, each as a handle of its own (tfjs accumulates and disposes them per input).
    gradFunc: (dy) => {
      const g = dy as tf.Tensor;
      return { z: () => tf.reshape(g, g.shape), probe: () => tf.reshape(g, g.shape) };
    },
  });
});

/**
 * z + probe for a probe of zeros, whose gradient with respect to the probe is the gradient with respect to z: how
 * the layer-wise tangent kernel reads d f / d z_l off one backward pass. On wasm the value is z itself with no
 * elementwise pass (the probe's entries are not read: they must be zeros); elsewhere tf.add, the same values
 * (but for the sign of a zero: -0 + 0 is +0).
 *
 * @param z a pre-activation; @param probe zeros of z's shape, an argument of the function differentiated
 * @example const g = tf.grads((p) => tf.sum(tf.relu(zeroProbe(z, p))))([tf.fill(z.shape, 0)]);
 */
export function zeroProbe(z: tf.Tensor, probe: tf.Tensor): tf.Tensor {
  if (!tf.util.arraysEqual(z.shape, probe.shape) || z.dtype !== probe.dtype) {
    throw new Error(`zeroProbe: probe is ${probe.dtype} [${probe.shape}]; expected ${z.dtype} [${z.shape}], the shape of z`);
  }
  if (tf.getBackend() !== 'wasm') return tf.add(z, probe);
  register();
  return tf.engine().runKernel(KERNEL, { z, probe }, {}) as tf.Tensor;
}
