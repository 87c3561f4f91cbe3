import * as tf from '@tensorflow/tfjs-core';
import { type WasmBackend, activeAddon, heapOf } from './openblas.js';

/**
 * Fused order-1 jets of tanh and sigmoid on the native path: (y0, y1) = (phi(z0), phi'(z0) z1) in one pass over
 * the wasm heap, and one pass back, instead of six tfjs ops forward and about ten backward (an HVP of a tanh
 * network spends most of its elementwise time there). native/tangent_blas.c replays the op-by-op float32
 * arithmetic of activations.ts and tfjs's gradient accumulation order, so results are the same bits; the
 * sigmoid itself stays the wasm kernel's.
 */

export type FusedKind = 'tanh' | 'sigmoid';
const KIND: Record<FusedKind, number> = { tanh: 0, sigmoid: 1 };
const FORWARD = 'TangentJet1';
const BACKWARD = 'TangentJet1Grad';

interface Attrs { kind: number }

const forward: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { s, z1 } = inputs as { s: tf.TensorInfo; z1: tf.TensorInfo };
  const { kind } = attrs as unknown as Attrs;
  const b = backend as unknown as WasmBackend;
  const addon = activeAddon();
  if (!addon?.jet1) throw new Error(`${FORWARD}: the native addon is not active; expected fusedJet1 to check it first`);
  const y1 = b.makeOutput(s.shape, 'float32');
  let y0: tf.TensorInfo;
  if (kind === KIND.sigmoid) {
    b.incRef(s.dataId);
    y0 = { dataId: s.dataId, shape: s.shape, dtype: s.dtype };
  } else {
    y0 = b.makeOutput(s.shape, 'float32');
  }
  const { heap, at } = heapOf(b);
  addon.jet1(heap, kind, tf.util.sizeFromShape(s.shape), at(s), at(z1), at(y0), at(y1));
  return [y0, y1];
};

const backward: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { s, z1, dy0, dy1 } = inputs as Record<'s' | 'z1' | 'dy0' | 'dy1', tf.TensorInfo>;
  const { kind } = attrs as unknown as Attrs;
  const b = backend as unknown as WasmBackend;
  const addon = activeAddon();
  if (!addon?.jet1Grad) throw new Error(`${BACKWARD}: the native addon is not active; expected it to stay on between a forward pass and its gradient`);
  const ds = b.makeOutput(s.shape, 'float32');
  const dz1 = b.makeOutput(s.shape, 'float32');
  const { heap, at } = heapOf(b);
  addon.jet1Grad(heap, kind, tf.util.sizeFromShape(s.shape), at(s), at(z1), at(dy0), at(dy1), at(ds), at(dz1));
  return [ds, dz1];
};

let registered = false;

function register(): void {
  if (registered) return;
  tf.registerKernel({ kernelName: FORWARD, backendName: 'wasm', kernelFunc: forward });
  tf.registerKernel({ kernelName: BACKWARD, backendName: 'wasm', kernelFunc: backward });
  tf.registerGradient({
    kernelName: FORWARD,
    inputsToSave: ['s', 'z1'],
    gradFunc: (dy, saved, attrs) => {
      const [dy0, dy1] = dy as tf.Tensor[];
      const [s, z1] = saved;
      // Both in one pass, here rather than in the per-input closures: tfjs runs each closure in its own tidy.
      const [ds, dz1] = tf.engine().runKernel(BACKWARD, { s, z1, dy0, dy1 }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      return { s: () => ds, z1: () => dz1 };
    },
  });
  registered = true;
}

/**
 * The order-1 jet [phi(z0), phi'(z0) z1] of tanh or sigmoid through the fused kernel, or undefined where it does
 * not apply (not the native path, not float32, shapes that differ); the caller then composes op by op.
 */
export function fusedJet1(kind: FusedKind, z0: tf.Tensor, z1: tf.Tensor): [tf.Tensor, tf.Tensor] | undefined {
  const addon = activeAddon();
  if (!addon?.jet1 || !addon.jet1Grad || tf.getBackend() !== 'wasm') return undefined;
  if (z0.dtype !== 'float32' || z1.dtype !== 'float32' || z0.shape.length !== z1.shape.length || z0.shape.some((d, i) => d !== z1.shape[i])) return undefined;
  register();
  // The same tfjs ops as activations.ts: tanh(z) = 2 sigmoid(2 z) - 1.
  const s = kind === 'tanh' ? tf.sigmoid(tf.mul(z0, 2)) : tf.sigmoid(z0);
  const [y0, y1] = tf.engine().runKernel(FORWARD, { s, z1 }, { kind: KIND[kind] }) as tf.Tensor[];
  return [y0, y1];
}
