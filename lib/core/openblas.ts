import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { blasThreadsRequested, projectRoot } from './env.js';

/**
 * The native matrix-product path of the wasm backend: tfjs `BatchMatMul` kernels that call OpenBLAS
 * `cblas_sgemm` (native/tangent_blas.c, a Node-API addon built by scripts/build-native.mjs) directly on the
 * wasm heap, without copies. Transposed operands are passed to sgemm as flags; the Gram matrices x xᵀ and xᵀ x of
 * one tensor go to `cblas_ssyrk` (half the multiply-adds, exactly symmetric), a tangent kernel's Grams to one batched
 * call (`nativeGrams`), and the Sigmoid kernel to the addon's (the same bits). Anything the addon does not
 * cover (non-float32, batch shapes that broadcast other than one-to-many) runs the wasm kernel.
 */

export interface Addon {
  sgemm(heap: ArrayBuffer, aOffset: number, bOffset: number, cOffset: number, batch: number, m: number, n: number, k: number,
    transA: boolean, transB: boolean, strideA: number, strideB: number): void;
  /** sgemm with C = alpha op(A) op(B); absent from older builds. */
  sgemmScaled?(heap: ArrayBuffer, aOffset: number, bOffset: number, cOffset: number, batch: number, m: number, n: number, k: number,
    transA: boolean, transB: boolean, strideA: number, strideB: number, alpha: number): void;
  /** C += alpha op(A) op(B); absent from older builds. */
  sgemmScaledAccumulate?(heap: ArrayBuffer, aOffset: number, bOffset: number, cOffset: number, batch: number, m: number, n: number, k: number,
    transA: boolean, transB: boolean, strideA: number, strideB: number, alpha: number): void;
  /** Several ssyrk Grams, count x [aOffset, cOffset, n, k, transA]; the small ones side by side on two threads. */
  gramsBatch?(heap: ArrayBuffer, descriptors: Float64Array): void;
  /** Absent from addons built before it was added (the kernel then uses sgemm). */
  ssyrk?(heap: ArrayBuffer, aOffset: number, cOffset: number, n: number, k: number, transA: boolean): void;
  /** Order-1 tanh/sigmoid jets and their backward step (lib/core/fused-jets.ts); absent from older builds. */
  jet1?(heap: ArrayBuffer, kind: number, size: number, sOffset: number, z1Offset: number, y0Offset: number, y1Offset: number): void;
  /** jet1's reverse-mode step carried through the sigmoid: (dL/dz0, dL/dz1); absent from older builds. */
  jet1GradZ0?(heap: ArrayBuffer, kind: number, size: number, sOffset: number, z1Offset: number, dy0Offset: number, dy1Offset: number,
    dz0Offset: number, dz1Offset: number): void;
  /** jet1's reverse-mode step to (dL/ds, dL/dz1), and dL/dz0 from dL/ds: the halves of jet1GradZ0; absent from older builds. */
  jet1GradS?(heap: ArrayBuffer, kind: number, size: number, sOffset: number, z1Offset: number, dy0Offset: number, dy1Offset: number,
    dsOffset: number, dz1Offset: number): void;
  sigmoidBack?(heap: ArrayBuffer, kind: number, size: number, sOffset: number, dsOffset: number, dzOffset: number): void;
  /** out = sigmoid(x factor), factor 1 or 2, with the bits of the wasm backend's Sigmoid kernel; absent from older builds. */
  sigmoid?(heap: ArrayBuffer, size: number, xOffset: number, outOffset: number, factor: 1 | 2): void;
  /** out = x alpha over `size` float32s; absent from older builds. */
  scale?(heap: ArrayBuffer, size: number, xOffset: number, outOffset: number, alpha: number): void;
  /** dx = dy step(x) over `size` float32s (ReLU's gradient); absent from older builds. */
  reluGrad?(heap: ArrayBuffer, size: number, xOffset: number, dyOffset: number, dxOffset: number): void;
  /** x · y of two float32 vectors, products and sums in double; absent from older builds. */
  dotF64?(heap: ArrayBuffer, xOffset: number, yOffset: number, n: number): number;
  /** [x · y, y · y] in one pass, each the same bits as dotF64; absent from older builds. */
  dotPairF64?(heap: ArrayBuffer, xOffset: number, yOffset: number, n: number): [number, number];
  /** out = p - d lr over `size` float32s; absent from older builds. */
  descentStep?(heap: ArrayBuffer, size: number, pOffset: number, dOffset: number, outOffset: number, lr: number): void;
  /** k = 1 products (beta 0) by the addon's own loop (true, the default) or by OpenBLAS (false: tests compare the two). */
  setOuterProduct?(on: boolean): void;
  setThreads(n: number): void;
  threads(): number;
  config(): string;
  corename(): string;
}

/** The wasm backend's parts the native kernels touch (tfjs-backend-wasm 4.x BackendWasm). */
export interface WasmBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  incRef(dataId: tf.DataId): void;
}

/** A function that runs `register` the first time it is called (kernels are registered when first used). */
export function registerOnce(register: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    register();
    done = true;
  };
}

/** Registers a wasm kernel of the native path and, if given, its gradient. */
export function nativeKernel(kernelName: string, kernelFunc: tf.KernelFunc, gradient?: Omit<tf.GradConfig, 'kernelName'>): void {
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  if (gradient) tf.registerGradient({ kernelName, ...gradient });
}

/** The heap and byte offsets, read after every makeOutput: an allocation may grow (and replace) the heap. */
export function heapOf(backend: WasmBackend): { heap: ArrayBuffer; at: (t: tf.TensorInfo) => number } {
  return { heap: backend.wasm.HEAPU8.buffer as ArrayBuffer, at: (t) => backend.dataIdMap.get(t.dataId).memoryOffset };
}

export interface NativeBlasInfo {
  /** OpenBLAS build string, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH ... Haswell MAX_THREADS=64`. */
  config: string;
  /** Threads OpenBLAS uses in this process. */
  threads: number;
  /** The CPU kernels OpenBLAS runs, e.g. `Haswell`. */
  core: string;
}

/**
 * The OpenBLAS kernel family to pin before the library loads, or undefined to leave OpenBLAS's own choice.
 * OpenBLAS (DYNAMIC_ARCH) picks its sgemm kernels by CPU, and its AVX-512 and AVX2 kernels round float32 products
 * differently; on chaotic trajectories that changes results (measured: 003 Ch.4's optimizer Spearman ρ at the quick
 * profile, −0.714 on AVX2 kernels and −0.679 on AVX-512 ones, either side of its −0.7 threshold). So that results do
 * not depend on the machine, every x86-64 CPU with AVX2 and FMA runs the Haswell kernels, unless OPENBLAS_CORETYPE is
 * set, or TANGENT_BLAS_CORETYPE names a core (`native`: OpenBLAS's own choice; AVX-512 sgemm measured 1.4x faster).
 */
export function pinnedCoreType(env: NodeJS.ProcessEnv = process.env, cpuFlags: () => Set<string> | undefined = x86Flags): string | undefined {
  const asked = env.TANGENT_BLAS_CORETYPE?.trim();
  if (env.OPENBLAS_CORETYPE?.trim()) {
    if (asked) throw new Error(`TANGENT_BLAS_CORETYPE = '${asked}' and OPENBLAS_CORETYPE = '${env.OPENBLAS_CORETYPE}' are both set; expected one`);
    return undefined;
  }
  if (asked) {
    if (asked === 'native') return undefined;
    if (!/^[A-Za-z0-9]+$/.test(asked)) throw new Error(`TANGENT_BLAS_CORETYPE = '${asked}'; expected 'native' or an OpenBLAS core name such as 'Haswell'`);
    return asked;
  }
  const flags = cpuFlags();
  return flags && flags.has('avx2') && flags.has('fma') ? 'Haswell' : undefined;
}

/** CPU flags of an x86-64 Linux machine (/proc/cpuinfo), else undefined. */
function x86Flags(): Set<string> | undefined {
  if (process.arch !== 'x64') return undefined;
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    return line ? new Set(line.split(':')[1].trim().split(/\s+/)) : undefined;
  } catch {
    return undefined;
  }
}

let addon: Addon | undefined;
let original: tf.KernelConfig | undefined;
let originalSigmoid: tf.KernelConfig | undefined;
let active = false;

/** Path of the built addon. */
export function nativeAddonPath(): string {
  return join(projectRoot(), 'native', 'build', 'tangent_blas.node');
}

/** Why the addon is absent: the build's recorded reason, or a hint to build it. */
function missingReason(): string {
  const status = join(projectRoot(), 'native', 'build', 'status.json');
  try {
    const s = JSON.parse(readFileSync(status, 'utf8')) as { ok: boolean; reason?: string };
    if (!s.ok && s.reason) return `native addon not built: ${s.reason}`;
  } catch {
    // no status: never built
  }
  return `native addon ${nativeAddonPath()} is not built (run: node scripts/build-native.mjs)`;
}

/** Loads the addon (once); throws saying why it is missing or does not load. */
export function loadNativeAddon(): void {
  loadAddon();
}

function loadAddon(): Addon {
  if (addon) return addon;
  const path = nativeAddonPath();
  if (!existsSync(path)) throw new Error(missingReason());
  // Read by OpenBLAS when it loads with the addon; inherited by sweep workers.
  const core = pinnedCoreType();
  if (core) process.env.OPENBLAS_CORETYPE = core;
  try {
    addon = createRequire(import.meta.url)(path) as Addon;
  } catch (e) {
    throw new Error(`native addon ${path} does not load: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  return addon;
}

/** OpenBLAS threads for this process: `TANGENT_BLAS_THREADS` if set (sweep workers get cores / workers), else every core. */
export function blasThreads(env: NodeJS.ProcessEnv = process.env): number {
  return blasThreadsRequested(env) ?? availableParallelism();
}

function sameDims(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

const nativeBatchMatMul: tf.KernelFunc = (args) => {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
  const backend = args.backend as unknown as WasmBackend;
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || ra < 2 || rb < 2) return original!.kernelFunc(args);
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) {
    throw new Error(`matMul: inner dimensions ${k} (a [${a.shape}], transposeA = ${transposeA}) and ${kb} (b [${b.shape}], transposeB = ${transposeB}); expected equal`);
  }
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const batchA = tf.util.sizeFromShape(outerA);
  const batchB = tf.util.sizeFromShape(outerB);
  const batch = tf.util.sizeFromShape(outer);
  // One-to-one or one-to-many batches only; other broadcasts go to the wasm kernel.
  if ((batchA !== 1 && !sameDims(outerA, outer)) || (batchB !== 1 && !sameDims(outerB, outer))) return original!.kernelFunc(args);
  const out = backend.makeOutput([...outer, m, n], 'float32');
  if (batch * m * n === 0) return out;
  const { heap, at } = heapOf(backend);
  // A Gram matrix x xᵀ or xᵀ x of one matrix (the tangent kernel's products): ssyrk, half the multiply-adds. Not a
  // 1 x 1 one (a squared norm): sgemv takes it 5x faster (k = 409600: 0.25 vs 1.3 ms).
  if (addon!.ssyrk && a.dataId === b.dataId && batch === 1 && transposeA !== transposeB && m === n && n > 1 && k > 0) {
    addon!.ssyrk(heap, at(a), at(out), n, k, transposeA);
    return out;
  }
  addon!.sgemm(heap, at(a), at(b), at(out), batch, m, n, k,
    transposeA, transposeB, batchA === 1 ? 0 : m * k, batchB === 1 ? 0 : k * n);
  return out;
};

const GRAMS = 'TangentGrams';

// Inputs an array [x0, x1, ...] of matrices; outputs x_i x_iᵀ. One addon call, so that small Grams share the threads.
const gramsKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const xs = inputs as unknown as tf.TensorInfo[];
  const b = backend as unknown as WasmBackend;
  const outs = xs.map((x) => b.makeOutput([x.shape[0], x.shape[0]], 'float32'));
  const { heap, at } = heapOf(b);
  const d = new Float64Array(5 * xs.length);
  xs.forEach((x, i) => d.set([at(x), at(outs[i]), x.shape[0], x.shape[1], 0], 5 * i));
  addon!.gramsBatch!(heap, d);
  return outs;
};

const registerGrams = registerOnce(() => nativeKernel(GRAMS, gramsKernel));

/**
 * x xᵀ of each float32 matrix, in one native call (ssyrk each; those OpenBLAS runs on one thread, side by side on
 * two), or undefined off the native path, for an addon that predates it, or where a matrix is not float32 [n, k].
 * Not differentiable.
 */
export function nativeGrams(xs: readonly tf.Tensor[]): tf.Tensor2D[] | undefined {
  if (!active || !addon?.gramsBatch || tf.getBackend() !== 'wasm' || xs.length === 0 || xs.length > 64) return undefined;
  if (xs.some((x) => x.rank !== 2 || x.dtype !== 'float32' || x.shape[0] < 2)) return undefined;
  registerGrams();
  return tf.engine().runKernel(GRAMS, xs as unknown as tf.NamedTensorMap, {}) as unknown as tf.Tensor2D[];
}

/**
 * The wasm Sigmoid kernel's own arithmetic (XNNPACK's wasmsimd rr2_p5_div kernel; the same bits on all 2^32 inputs:
 * scripts/check-sigmoid.mjs) compiled natively and vectorised (AVX2 where the CPU has it): 128 x 4096 in 0.33 ms
 * against the wasm kernel's 0.56-0.70. tanh runs through it too (2 sigmoid(2 z) - 1). Non-float32 inputs go to the
 * wasm kernel.
 */
const nativeSigmoid: tf.KernelFunc = (args) => {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype !== 'float32') return originalSigmoid!.kernelFunc(args);
  const backend = args.backend as unknown as WasmBackend;
  const out = backend.makeOutput(x.shape, 'float32');
  const size = tf.util.sizeFromShape(x.shape);
  if (size === 0) return out;
  const { heap, at } = heapOf(backend);
  addon!.sigmoid!(heap, size, at(x), at(out), 1);
  return out;
};

/**
 * Loads the addon and replaces the wasm backend's BatchMatMul kernel by the OpenBLAS one (the wasm backend
 * must be initialised). Throws, saying why, where the addon is missing or does not load.
 */
export function installNativeMatMul(threads = blasThreads()): NativeBlasInfo {
  const lib = loadAddon();
  lib.setThreads(threads);
  setNativeMatMul(true);
  return nativeBlasInfo();
}

/** OpenBLAS build and thread count; throws before installNativeMatMul. */
export function nativeBlasInfo(): NativeBlasInfo {
  if (!addon) throw new Error('nativeBlasInfo: the native addon is not loaded; expected installNativeMatMul() first');
  return { config: addon.config(), threads: addon.threads(), core: addon.corename() };
}

/**
 * The addon while the native path is active (the fused elementwise kernels follow the BatchMatMul switch, so that
 * `setNativeMatMul(false)` gives exactly the plain wasm path), else undefined.
 */
export function activeAddon(): Addon | undefined {
  return active ? addon : undefined;
}

/**
 * The addon once loaded, whether or not the native path is on: for gradients of kernels that ran natively, which
 * must still run (and keep their bits) after `setNativeMatMul(false)`.
 */
export function loadedAddon(): Addon | undefined {
  return addon;
}

/**
 * Σ a∘b of two float32 tensors of one size, in double by the addon on the wasm heap (no tfjs kernel, no
 * read-back), or undefined where the native path is off, the addon predates dotF64, or a tensor is not float32 on wasm.
 */
export function nativeDot(a: tf.Tensor, b: tf.Tensor): number | undefined {
  if (!active || !addon?.dotF64 || a.dtype !== 'float32' || b.dtype !== 'float32' || tf.getBackend() !== 'wasm') return undefined;
  if (a.size !== b.size) throw new Error(`nativeDot: sizes ${a.size} and ${b.size} differ; expected tensors of one size`);
  const { heap, at } = heapOf(tf.backend() as unknown as WasmBackend);
  return addon.dotF64(heap, at(a), at(b), a.size);
}

/** [a · b, b · b] as nativeDot computes each, in one pass; undefined where nativeDot would be or the addon predates it. */
export function nativeDotPair(a: tf.Tensor, b: tf.Tensor): [number, number] | undefined {
  if (!active || !addon?.dotPairF64 || a.dtype !== 'float32' || b.dtype !== 'float32' || tf.getBackend() !== 'wasm') return undefined;
  if (a.size !== b.size) throw new Error(`nativeDotPair: sizes ${a.size} and ${b.size} differ; expected tensors of one size`);
  const { heap, at } = heapOf(tf.backend() as unknown as WasmBackend);
  return addon.dotPairF64(heap, at(a), at(b), a.size);
}

/** Whether BatchMatMul on wasm currently runs on OpenBLAS. */
export function nativeMatMulActive(): boolean {
  return active;
}

/**
 * Switches the wasm BatchMatMul kernel between OpenBLAS (true) and the backend's own (false), e.g. to compare
 * the two in one process, and the Sigmoid kernel between the addon's (the same bits) and the backend's. Returns the
 * previous state.
 */
export function setNativeMatMul(on: boolean): boolean {
  const was = active;
  if (on === active) return was;
  if (on) {
    loadAddon();
    original ??= tf.getKernel('BatchMatMul', 'wasm');
    if (!original) throw new Error('setNativeMatMul: the wasm BatchMatMul kernel is not registered; expected the wasm backend to be loaded');
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: nativeBatchMatMul });
    originalSigmoid ??= tf.getKernel('Sigmoid', 'wasm');
    if (addon!.sigmoid && originalSigmoid) {
      tf.unregisterKernel('Sigmoid', 'wasm');
      tf.registerKernel({ kernelName: 'Sigmoid', backendName: 'wasm', kernelFunc: nativeSigmoid });
    }
  } else {
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel(original!);
    if (tf.getKernel('Sigmoid', 'wasm')?.kernelFunc === nativeSigmoid) {
      tf.unregisterKernel('Sigmoid', 'wasm');
      tf.registerKernel(originalSigmoid!);
    }
  }
  active = on;
  return was;
}
