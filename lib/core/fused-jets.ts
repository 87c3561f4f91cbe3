import * as tf from '@tensorflow/tfjs-core';
import { type WasmBackend, activeAddon, heapOf, loadedAddon, nativeKernel, registerOnce } from './openblas.js';

/**
 * Fused order-1 jets of tanh and sigmoid on the native path: (y0, y1) = (phi(z0), phi'(z0) z1) as one tfjs kernel
 * forward and one back, instead of about ten ops each way (an HVP of a tanh network spends most of its elementwise
 * time and kernel dispatches there). Inside, s = sigmoid(2 z0) (or sigmoid(z0)) comes from the addon's sigmoid, which
 * has the wasm Sigmoid kernel's bits (or from that kernel, with an older addon), and native/tangent_blas.c the rest, replaying the op-by-op float32 arithmetic of activations.ts and
 * the roundings and accumulation order of tfjs's gradients, so results are the same bits as the composed rule (but for
 * the sign of a zero gradient where y0 has no use: tfjs then passes zeros for dy0 and +0 + (-0) is +0).
 */

export type FusedKind = 'tanh' | 'sigmoid';
const KIND: Record<FusedKind, number> = { tanh: 0, sigmoid: 1 };
const FORWARD = 'TangentJet1';
const BACKWARD = 'TangentJet1Grad';

interface Attrs { kind: number }

type Addon = NonNullable<ReturnType<typeof activeAddon>>;

// The loaded addon, not only the active one: a gradient recorded on the native path runs there after a switch-off.
function nativeAddon(kernel: string): Required<Pick<Addon, 'jet1' | 'jet1GradZ0' | 'scale'>> {
  const addon = loadedAddon();
  if (!addon?.jet1 || !addon.jet1GradZ0 || !addon.scale) throw new Error(`${kernel}: the native addon is not loaded or predates it; expected fusedJet1 to check it first`);
  return addon as Required<Pick<Addon, 'jet1' | 'jet1GradZ0' | 'scale'>>;
}

// s = sigmoid(2 z0) for tanh (tanh(z) = 2 sigmoid(2 z) - 1, activations.ts; the doubling is exact), sigmoid(z0) for
// sigmoid: by the addon in one pass, or (an addon without it) a scale and the wasm backend's own Sigmoid kernel.
function sigmoidOfZ0(backend: object, kind: number, z0: tf.TensorInfo, scale: NonNullable<Addon['scale']>): tf.TensorInfo {
  const b = backend as unknown as WasmBackend;
  const native = loadedAddon()?.sigmoid;
  if (native) {
    // The wasm kernel's bits (lib/core/openblas.ts, nativeSigmoid), the doubling folded into the pass.
    const s = b.makeOutput(z0.shape, 'float32');
    const { heap, at } = heapOf(b);
    native(heap, tf.util.sizeFromShape(z0.shape), at(z0), at(s), kind === KIND.tanh ? 2 : 1);
    return s;
  }
  if (kind !== KIND.tanh) return sigmoidKernel().kernelFunc({ inputs: { x: z0 }, backend, attrs: {} }) as tf.TensorInfo;
  const u = b.makeOutput(z0.shape, 'float32');
  const { heap, at } = heapOf(b);
  scale(heap, tf.util.sizeFromShape(z0.shape), at(z0), at(u), 2);
  const s = sigmoidKernel().kernelFunc({ inputs: { x: u }, backend, attrs: {} }) as tf.TensorInfo;
  (backend as tf.KernelBackend).disposeData(u.dataId);
  return s;
}

// (y0, y1) from s and z1; for sigmoid y0 is s itself (shared data).
function jetOfSigmoid(backend: object, kind: number, s: tf.TensorInfo, z1: tf.TensorInfo, jet1: NonNullable<Addon['jet1']>): [tf.TensorInfo, tf.TensorInfo] {
  const b = backend as unknown as WasmBackend;
  const y1 = b.makeOutput(s.shape, 'float32');
  let y0: tf.TensorInfo;
  if (kind === KIND.sigmoid) {
    b.incRef(s.dataId);
    y0 = { dataId: s.dataId, shape: s.shape, dtype: s.dtype };
  } else {
    y0 = b.makeOutput(s.shape, 'float32');
  }
  const { heap, at } = heapOf(b);
  jet1(heap, kind, tf.util.sizeFromShape(s.shape), at(s), at(z1), at(y0), at(y1));
  return [y0, y1];
}

// Outputs [y0, y1, s]: s is kept for the gradient (tfjs saves outputs by position).
const forward: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { z0, z1 } = inputs as { z0: tf.TensorInfo; z1: tf.TensorInfo };
  const { kind } = attrs as unknown as Attrs;
  const addon = nativeAddon(FORWARD);
  const s = sigmoidOfZ0(backend, kind, z0, addon.scale);
  return [...jetOfSigmoid(backend, kind, s, z1, addon.jet1), s];
};

const backward: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { s, z1, dy0, dy1 } = inputs as Record<'s' | 'z1' | 'dy0' | 'dy1', tf.TensorInfo>;
  const { kind } = attrs as unknown as Attrs;
  const b = backend as unknown as WasmBackend;
  const addon = nativeAddon(BACKWARD);
  const dz0 = b.makeOutput(s.shape, 'float32');
  const dz1 = b.makeOutput(s.shape, 'float32');
  const { heap, at } = heapOf(b);
  addon.jet1GradZ0(heap, kind, tf.util.sizeFromShape(s.shape), at(s), at(z1), at(dy0), at(dy1), at(dz0), at(dz1));
  return [dz0, dz1];
};

let sigmoid: tf.KernelConfig | undefined;

function sigmoidKernel(): tf.KernelConfig {
  sigmoid ??= tf.getKernel('Sigmoid', 'wasm');
  if (!sigmoid) throw new Error(`${FORWARD}: the wasm backend has no Sigmoid kernel; expected tfjs-backend-wasm 4.x`);
  return sigmoid;
}

const register = registerOnce(() => {
  nativeKernel(BACKWARD, backward);
  nativeKernel(FORWARD, forward, {
    inputsToSave: ['z1'],
    outputsToSave: [false, false, true],
    gradFunc: (dy, saved, attrs) => {
      const [dy0, dy1] = dy as tf.Tensor[];
      const [z1, s] = saved;
      // Both in one pass, here rather than in the per-input closures: tfjs runs each closure in its own tidy.
      const [dz0, dz1] = tf.engine().runKernel(BACKWARD, { s, z1, dy0, dy1 }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      return { z0: () => dz0, z1: () => dz1 };
    },
  });
});

// Large tensors: the sigmoid and the jet as two kernels (the same arithmetic, so the same bits). With s an output of
// the one fused kernel, tfjs fills the gradient of that unused output with zeros in JavaScript and copies them to the
// heap before every backward pass: about a tenth of an HVP at 128 x 4096, more than the extra kernel costs.
const SPLIT_MIN_SIZE = 1 << 15;
const SIGMOID_OF = 'TangentSigmoidOf';
const SIGMOID_OF_GRAD = 'TangentSigmoidOfGrad';
const JET_OF_S = 'TangentJet1OfS';
const JET_OF_S_GRAD = 'TangentJet1OfSGrad';

function splitAddon(kernel: string): Required<Pick<Addon, 'jet1' | 'jet1GradS' | 'sigmoidBack' | 'scale'>> {
  const addon = loadedAddon();
  if (!addon?.jet1 || !addon.jet1GradS || !addon.sigmoidBack || !addon.scale) throw new Error(`${kernel}: the native addon is not loaded or predates it; expected fusedJet1 to check it first`);
  return addon as Required<Pick<Addon, 'jet1' | 'jet1GradS' | 'sigmoidBack' | 'scale'>>;
}

const sigmoidOf: tf.KernelFunc = ({ inputs, attrs, backend }) =>
  sigmoidOfZ0(backend, (attrs as unknown as Attrs).kind, (inputs as { z0: tf.TensorInfo }).z0, splitAddon(SIGMOID_OF).scale);

const sigmoidOfGrad: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { s, ds } = inputs as { s: tf.TensorInfo; ds: tf.TensorInfo };
  const b = backend as unknown as WasmBackend;
  const dz = b.makeOutput(s.shape, 'float32');
  const { heap, at } = heapOf(b);
  splitAddon(SIGMOID_OF_GRAD).sigmoidBack(heap, (attrs as unknown as Attrs).kind, tf.util.sizeFromShape(s.shape), at(s), at(ds), at(dz));
  return dz;
};

const jetOfS: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { s, z1 } = inputs as { s: tf.TensorInfo; z1: tf.TensorInfo };
  return jetOfSigmoid(backend, (attrs as unknown as Attrs).kind, s, z1, splitAddon(JET_OF_S).jet1);
};

const jetOfSGrad: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { s, z1, dy0, dy1 } = inputs as Record<'s' | 'z1' | 'dy0' | 'dy1', tf.TensorInfo>;
  const b = backend as unknown as WasmBackend;
  const ds = b.makeOutput(s.shape, 'float32');
  const dz1 = b.makeOutput(s.shape, 'float32');
  const { heap, at } = heapOf(b);
  splitAddon(JET_OF_S_GRAD).jet1GradS(heap, (attrs as unknown as Attrs).kind, tf.util.sizeFromShape(s.shape), at(s), at(z1), at(dy0), at(dy1), at(ds), at(dz1));
  return [ds, dz1];
};

const registerSplit = registerOnce(() => {
  nativeKernel(SIGMOID_OF_GRAD, sigmoidOfGrad);
  nativeKernel(SIGMOID_OF, sigmoidOf, {
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => ({
      z0: () => tf.engine().runKernel(SIGMOID_OF_GRAD, { s: saved[0], ds: dy as tf.Tensor }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
    }),
  });
  nativeKernel(JET_OF_S_GRAD, jetOfSGrad);
  nativeKernel(JET_OF_S, jetOfS, {
    inputsToSave: ['s', 'z1'],
    gradFunc: (dy, saved, attrs) => {
      const [dy0, dy1] = dy as tf.Tensor[];
      const [s, z1] = saved;
      const [ds, dz1] = tf.engine().runKernel(JET_OF_S_GRAD, { s, z1, dy0, dy1 }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      return { s: () => ds, z1: () => dz1 };
    },
  });
});

const RELU = 'TangentRelu';
const RELU_GRAD = 'TangentReluGrad';

const reluGrad: tf.KernelFunc = ({ inputs, backend }) => {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const addon = loadedAddon();
  if (!addon?.reluGrad) throw new Error(`${RELU_GRAD}: the native addon is not loaded or predates reluGrad; expected fusedRelu to check it first`);
  const b = backend as unknown as WasmBackend;
  const dx = b.makeOutput(x.shape, 'float32');
  const { heap, at } = heapOf(b);
  addon.reluGrad(heap, tf.util.sizeFromShape(x.shape), at(x), at(dy), at(dx));
  return dx;
};

const registerRelu = registerOnce(() => {
  const wasmRelu = tf.getKernel('Relu', 'wasm');
  if (!wasmRelu) throw new Error(`${RELU}: the wasm backend has no Relu kernel; expected tfjs-backend-wasm 4.x`);
  nativeKernel(RELU_GRAD, reluGrad);
  // Forward: the wasm backend's own kernel under another name, so that the gradient is ours.
  nativeKernel(RELU, (args) => wasmRelu.kernelFunc(args), {
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.engine().runKernel(RELU_GRAD, { x: saved[0], dy: dy as tf.Tensor }, {}) as tf.Tensor }),
  });
});

/**
 * relu(z) whose gradient dy·step(z) is one native pass (tfjs's is Step, Cast and Multiply, the same bits), or
 * undefined off the native path or for non-float32 z.
 */
export function fusedRelu(z: tf.Tensor): tf.Tensor | undefined {
  if (!activeAddon()?.reluGrad || tf.getBackend() !== 'wasm' || z.dtype !== 'float32') return undefined;
  registerRelu();
  return tf.engine().runKernel(RELU, { x: z }, {}) as tf.Tensor;
}

/**
 * The order-1 jet [phi(z0), phi'(z0) z1] of tanh or sigmoid through the fused kernel, or undefined where it does
 * not apply (not the native path, not float32, shapes that differ); the caller then composes op by op.
 */
export function fusedJet1(kind: FusedKind, z0: tf.Tensor, z1: tf.Tensor): [tf.Tensor, tf.Tensor] | undefined {
  const addon = activeAddon();
  if (!addon?.jet1 || !addon.jet1GradZ0 || !addon.scale || tf.getBackend() !== 'wasm') return undefined;
  if (z0.dtype !== 'float32' || z1.dtype !== 'float32' || z0.shape.length !== z1.shape.length || z0.shape.some((d, i) => d !== z1.shape[i])) return undefined;
  if (z0.size >= SPLIT_MIN_SIZE && addon.jet1GradS && addon.sigmoidBack) {
    registerSplit();
    const sig = tf.engine().runKernel(SIGMOID_OF, { z0 }, { kind: KIND[kind] }) as tf.Tensor;
    const [y0, y1] = tf.engine().runKernel(JET_OF_S, { s: sig, z1 }, { kind: KIND[kind] }) as tf.Tensor[];
    sig.dispose();
    return [y0, y1];
  }
  register();
  const [y0, y1, s] = tf.engine().runKernel(FORWARD, { z0, z1 }, { kind: KIND[kind] }) as tf.Tensor[];
  // s lives on in the tape while a gradient is recorded (tfjs keeps saved outputs); the handle itself is not needed.
  s.dispose();
  return [y0, y1];
}
