import * as tf from '@tensorflow/tfjs-core';
import { checkArgs, checkNetwork, jvp, perSampleGradients, vjp } from './derivatives.js';
import { checkData, checkSymmetric } from '../core/checks.js';
import { type SymmetricEigen, float64Ops, lanczos, symmetricEigen } from '../core/linalg.js';
import { gram, grams, mm } from '../core/matmul.js';
import { zeroProbe } from '../core/probe.js';
import { checkDeviceMemory } from '../core/memory-budget.js';
import type { DenseRecord, Network } from '../nets/network.js';
import { type Params, pv, readScalar, trainableNames } from '../core/params.js';
import { normals64, rngFor } from '../core/random.js';

/**
 * How `tangentKernel` computes K. Both are exact (same float32 products, summed in a different order):
 * - `layerwise`: for networks built of plain dense layers (fcn, bottlenecks, ResNets of dense blocks). Never forms J;
 *   one forward and one backward pass over the inputs repeated C times, cost O((nC)² · width) per layer: the fast
 *   path, by far, for wide nets.
 * - `jacobian`: per-sample gradients, then J Jᵀ (float64 accumulation where affordable). Serves every network
 *   (convolutions, masked DAG layers, Taylor models); memory n·C × #params, so it suits small n or small nets.
 * - `auto` (default): `layerwise` where the network allows it, else `jacobian`.
 */
export type KernelMethod = 'auto' | 'layerwise' | 'jacobian';

/**
 * Empirical tangent kernel K = J J^T (002 eq. 1) over n inputs and C outputs: an (nC) x (nC) tensor with
 * rows ordered i*C + c. `layerwise` never materialises J: for each dense layer z = s a W^T + s_b b,
 * K += s^2 (D D^T) ⊙ (A A^T ⊗ 1_CC) + s_b^2 D D^T, with D the backpropagated vectors dF_c/dz (one backward
 * pass for all outputs and samples, over the inputs repeated C times) and A the layer inputs. `jacobian` uses per-sample gradients and
 * serves any network (convolutions, masked DAG layers, Taylor models).
 *
 * @param net the network (any: `layerwise` serves dense chains, `jacobian` everything else)
 * @param params its parameters w
 * @param x [n, d] inputs
 * @param opts `method`: 'auto' (default: layerwise where it applies), 'layerwise' or 'jacobian'
 * @returns K, (nC) x (nC), owned by the caller (dispose it)
 * @example
 * const net = fcn({ widths: [2, 512, 1], activation: 'relu' });
 * const x = tf.randomNormal([4, 2], 0, 1, 'float32', 0);
 * const K = tangentKernel(net, net.init(0), x);    // [n, n]
 * const { values } = analysis.kernelEigen(K, 1);   // lambda_max
 */
export function tangentKernel(net: Network, params: Params, x: tf.Tensor, opts: { method?: KernelMethod } = {}): tf.Tensor2D {
  const { method = 'auto' } = opts ?? {};
  checkNetwork(net, 'tangentKernel');
  if (method !== 'auto' && method !== 'layerwise' && method !== 'jacobian') {
    throw new Error(`tangentKernel: method = ${JSON.stringify(method)}; expected 'auto', 'layerwise' or 'jacobian'`);
  }
  checkArgs(net, params, x);
  checkData('tangentKernel', params, x);
  if (method !== 'jacobian') {
    const K = layerwiseKernel(net, params, x);
    if (K) return K;
    if (method === 'layerwise') throw new Error(`${net.name}: the layer-wise kernel needs plain dense layers covering every trainable parameter`);
  }
  return jacobianKernel(net, params, x);
}

/** Per network and input shape: the dense pre-activation shapes, or null where the layer-wise kernel does not apply. */
const denseStructure = new WeakMap<Network, Map<string, number[][] | null>>();

function structureOf(net: Network, params: Params, x: tf.Tensor): number[][] | null {
  let byShape = denseStructure.get(net);
  if (!byShape) denseStructure.set(net, (byShape = new Map()));
  const key = x.shape.join('x');
  if (byShape.has(key)) return byShape.get(key)!;
  const trainable = new Set(trainableNames(net.specs));
  const records: Omit<DenseRecord, 'input'>[] = [];
  const shapes: number[][] = [];
  tf.tidy(() => {
    net.taylor(params, null, x, 0, {
      dense(rec, z) {
        records.push({ ...rec });
        shapes.push(z.shape);
        return z;
      },
    });
  });
  const covered = new Set(records.flatMap((r) => [r.weight, ...(r.bias ? [r.bias] : [])]));
  const usable = records.every((r) => !r.structured) && [...trainable].every((n) => covered.has(n));
  byShape.set(key, usable ? shapes : null);
  return usable ? shapes : null;
}

function layerwiseKernel(net: Network, params: Params, x: tf.Tensor): tf.Tensor2D | null {
  // The structure is found by one forward pass on first use; later calls record the layer inputs during the
  // forward pass of the backward pass, so a kernel costs one forward and one backward pass (over nC rows).
  const shapes = structureOf(net, params, x);
  if (!shapes) return null;
  const trainable = new Set(trainableNames(net.specs));
  const records: DenseRecord[] = [];
  const n = x.shape[0];
  const C = net.outputDim;
  checkDeviceMemory('tangentKernel', kernelWhat(n, C), layerwiseBytes(shapes, n, C), KERNEL_WAY_OUT);
  try {
    return tf.tidy(() => {
      // All C outputs in one forward and one backward pass over nC rows, row i*C+c holding x_i, of the objective
      // Σ_i Σ_c f_c(row i*C+c): a probe's gradient at row i*C+c is d f_c(x_i) / d z_l(x_i), so D_l comes out as
      // [nC, out_l] in K's order. The same products as C passes over n, in 1/C of the kernels (and larger products).
      const rest = x.shape.slice(1);
      const xs = C === 1 ? x : tf.reshape(tf.add(tf.expandDims(x, 1), tf.zeros([1, C, ...rest.map(() => 1)])), [n * C, ...rest]);
      // Zero probes p_l, z_l + p_l: d f / d p_l = d f / d z_l. Filled on the device (tf.zeros fills a host array first).
      const probes = shapes.map((s) => tf.fill([s[0] * C, ...s.slice(1)], 0));
      const Ds = tf.grads((...ps: tf.Tensor[]) => {
        let idx = 0;
        const f = net.taylor(params, null, xs, 0, {
          dense: (rec, z) => {
            // The layer input of sample i (row i*C; every row i*C+c holds the same).
            const input = C === 1 ? tf.clone(rec.input) : tf.reshape(tf.slice(tf.reshape(rec.input, [n, C, -1]), [0, 0, 0], [n, 1, -1]), [n, -1]);
            records.push({ ...rec, input: tf.keep(input) });
            return zeroProbe(z, ps[idx++]);
          },
        })[0] as tf.Tensor;
        return tf.sum(C === 1 ? f : tf.mul(tf.reshape(f, [n, C, C]), tf.eye(C)));
      })(probes) as tf.Tensor2D[];
      if (records.length !== shapes.length) throw new Error(`${net.name}: ${records.length} dense layers in the forward pass, ${shapes.length} on first use; expected a fixed structure`);
      // Every layer's Grams in one call (on the native path the small ones run side by side).
      const withWeight = records.map((rec) => trainable.has(rec.weight));
      const As = records.flatMap((rec, l) => (withWeight[l] ? [tf.reshape(rec.input, [n, -1]) as tf.Tensor2D] : []));
      const G = grams([...Ds, ...As]);
      let K: tf.Tensor2D = tf.zeros([n * C, n * C]);
      // Each term is added and its operands freed at once, so the peak is the Grams, K and one term (layerwiseBytes).
      const accumulate = (term: () => tf.Tensor) => {
        const next = tf.tidy(() => tf.add(K, term()) as tf.Tensor2D);
        K.dispose();
        K = next;
      };
      let a = records.length;
      records.forEach((rec, l) => {
        const DD = G[l];
        if (withWeight[l]) {
          const GA = G[a++];
          accumulate(() => timesExpanded(DD, GA, C, rec.scale * rec.scale));
          GA.dispose();
        }
        if (rec.bias && trainable.has(rec.bias)) accumulate(() => tf.mul(DD, rec.biasScale * rec.biasScale));
        DD.dispose();
      });
      return K;
    });
  } finally {
    tf.dispose(records.map((r) => r.input));
  }
}

const KERNEL_WAY_OUT = 'Use fewer inputs (a subsample of x), or kernelTopEigenvalues(net, params, x) for the top eigenvalues without forming K.';

function kernelWhat(n: number, C: number): string {
  return `the ${n * C} x ${n * C} kernel of n = ${n} inputs and C = ${C} output${C === 1 ? '' : 's'}`;
}

/**
 * Peak tensor bytes of layerwiseKernel (float32): every layer's Gram of D ((nC)²) and of A (n², weighted layers),
 * K, and one term being added (two products and the sum, plus the tiled A-Gram when C > 1); then the per-layer
 * vectors: probes, deltas, the recorded inputs (counted as wide as the outputs), and for C > 1 the forward pass over
 * nC rows that the backward pass holds (pre-activations and activations).
 */
function layerwiseBytes(shapes: number[][], n: number, C: number): number {
  const N = n * C;
  const vectors = shapes.reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1) * (C === 1 ? 5 : 5 * C + 1), 0);
  return 4 * ((shapes.length + 4 + (C > 1 ? 1 : 0)) * N * N + shapes.length * n * n + vectors);
}

/**
 * (D ∘ (G ⊗ 1_{CxC})) s, entry (i*C+c, j*C+c') = D[i*C+c, j*C+c'] G[i, j] s: a multiply of D seen as [n, C, n, C]
 * by G broadcast as [n, 1, n, 1], the same bits as tiling G to [nC, nC] first, which took 165 ms at n = 128,
 * C = 10 on wasm (Tile, element by element) against 2.5 ms for the broadcast (issue 31).
 */
function timesExpanded(D: tf.Tensor2D, G: tf.Tensor2D, C: number, s: number): tf.Tensor2D {
  if (C === 1) return tf.mul(tf.mul(D, G), s);
  const n = G.shape[0];
  return tf.reshape(tf.mul(tf.mul(tf.reshape(D, [n, C, n, C]), tf.reshape(G, [n, 1, n, 1])), s), [n * C, n * C]);
}

function jacobianKernel(net: Network, params: Params, x: tf.Tensor): tf.Tensor2D {
  // Peak: J as N rows of P (float32), one parameter's stacked block of J, and the Gram, a sum and K.
  const [n, C] = [x.shape[0], net.outputDim];
  const sizes = trainableNames(net.specs).map((k) => params[k].size);
  const nParams = sizes.reduce((s, k) => s + k, 0);
  checkDeviceMemory('tangentKernel', `${kernelWhat(n, C)} (Jacobian of ${nParams} parameters)`, 4 * n * C * (nParams + Math.max(0, ...sizes) + 3 * n * C), KERNEL_WAY_OUT);
  const rows = perSampleGradients(net, params, x);
  const N = rows.length;
  const P = Object.values(rows[0] ?? {}).reduce((s, t) => s + t.size, 0);
  try {
    // Inner products over up to millions of parameters: accumulate in float64 where that is affordable
    // (a float32 Gram loses ~1e-4 relative accuracy at 10^6 parameters).
    if ((N * (N + 1) * P) / 2 <= FLOAT64_GRAM_LIMIT) return float64Gram(rows);
    return tf.tidy(() => {
      let K: tf.Tensor2D | null = null;
      for (const name of Object.keys(rows[0])) {
        const J = tf.stack(rows.map((r) => tf.reshape(r[name], [-1]))) as tf.Tensor2D;
        const KK = gram(J);
        K = K ? (tf.add(K, KK) as tf.Tensor2D) : KK;
      }
      return K ?? (tf.zeros([N, N]) as tf.Tensor2D);
    });
  } finally {
    rows.forEach((r) => pv.dispose(r));
  }
}

/** Multiply-adds below which the Jacobian path forms J J^T in float64 on the host. */
const FLOAT64_GRAM_LIMIT = 2e9;

function float64Gram(rows: Params[]): tf.Tensor2D {
  const N = rows.length;
  const names = Object.keys(rows[0] ?? {});
  const K = new Float64Array(N * N);
  for (const name of names) {
    const data = rows.map((r) => r[name].dataSync() as Float32Array);
    for (let a = 0; a < N; a++) {
      const u = data[a];
      for (let b = 0; b <= a; b++) {
        const v = data[b];
        let s = 0;
        for (let j = 0; j < u.length; j++) s += u[j] * v[j];
        K[a * N + b] += s;
      }
    }
  }
  for (let a = 0; a < N; a++) for (let b = 0; b < a; b++) K[b * N + a] = K[a * N + b];
  return tf.tensor2d(Float32Array.from(K), [N, N]);
}

/**
 * Kernel of an output non-linearity from the kernel of the logits: K~_ij = A_i K_ij A_j^T with
 * A_i = diag(p_i) - p_i p_i^T for softmax, diag(phi'(f_i)) elementwise (002 eq. 27). A: [n, C, C].
 */
export function outputKernel(K: tf.Tensor2D, A: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, C] = A.shape;
    const blockDiag = tf.reshape(tf.mul(tf.reshape(tf.eye(n), [n, 1, n, 1]), tf.reshape(A, [n, C, 1, C])), [n * C, n * C]);
    return mm(tf.matMul(blockDiag, K), blockDiag, false, true);
  });
}

/** Softmax Jacobians A_i = diag(p_i) - p_i p_i^T of logits f: [n, C] -> [n, C, C]. */
export function softmaxJacobians(logits: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const p = tf.softmax(logits);
    const [n, C] = p.shape;
    const diag = tf.mul(tf.reshape(p, [n, C, 1]), tf.eye(C));
    return tf.sub(diag, tf.mul(tf.reshape(p, [n, C, 1]), tf.reshape(p, [n, 1, C]))) as tf.Tensor3D;
  });
}

export type MatrixNorm = 'fro' | 'spectral';

/** ||M|| in Frobenius or spectral norm (symmetric M). */
export function matrixNorm(M: tf.Tensor2D, norm: MatrixNorm = 'fro'): number {
  if (norm === 'fro') return readScalar(() => tf.sqrt(tf.sum(tf.square(M))));
  const n = M.shape[0];
  const { values } = symmetricEigen(M.dataSync(), n, { vectors: false });
  return Math.max(Math.abs(values[0]), Math.abs(values[n - 1]));
}

/** ||K_t - K_0|| / ||K_0|| (002 L445: the quantity ΔK of Figs 1-2; 001 Fig 2 uses the spectral norm). */
export function relativeKernelChange(Kt: tf.Tensor2D, K0: tf.Tensor2D, norm: MatrixNorm = 'fro'): number {
  const diff = tf.sub(Kt, K0) as tf.Tensor2D;
  try {
    return matrixNorm(diff, norm) / matrixNorm(K0, norm);
  } finally {
    diff.dispose();
  }
}

/** Top-k eigenpairs of a kernel matrix, values descending; vectors as columns of a [N, k] float64 array. */
export function kernelEigen(K: tf.Tensor2D, k?: number): { values: number[]; vectors: Float64Array; n: number; k: number } {
  if (!(K instanceof tf.Tensor) || K.rank !== 2 || K.shape[0] !== K.shape[1] || K.shape[0] === 0) {
    throw new Error(`kernelEigen: K has shape ${K instanceof tf.Tensor ? `[${K.shape.join(', ')}]` : String(K)}; expected a non-empty square matrix`);
  }
  const N = K.shape[0];
  if (k !== undefined && !(Number.isInteger(k) && k >= 0)) throw new Error(`kernelEigen: k = ${k}; expected an integer >= 0`);
  const kk = Math.min(k ?? N, N);
  const data = K.dataSync();
  checkSymmetric('kernelEigen', 'K', data, N);
  const e: SymmetricEigen = symmetricEigen(data, N);
  const vectors = new Float64Array(N * kk);
  for (let r = 0; r < N; r++) for (let c = 0; c < kk; c++) vectors[r * kk + c] = e.vectors[r * N + c];
  return { values: Array.from(e.values.slice(0, kk)), vectors, n: N, k: kk };
}

/**
 * Top-k eigenvalues of the tangent kernel without forming it, by Lanczos on K u = J (J^T u)
 * (one VJP and one JVP per iteration): for sizes beyond the dense solver.
 */
export function kernelTopEigenvalues(
  net: Network,
  params: Params,
  x: tf.Tensor,
  { k = 1, maxIter = 60, tol = 1e-6, seed = 0 }: { k?: number; maxIter?: number; tol?: number; seed?: number } = {},
) {
  const n = x.shape[0];
  const C = net.outputDim;
  const op = (u: Float64Array): Float64Array => {
    const ut = tf.tensor(Float32Array.from(u), [n, C]);
    const g = vjp(net, params, x, ut);
    const Ku = jvp(net, params, g, x);
    const out = Float64Array.from(Ku.dataSync());
    tf.dispose([ut, Ku]);
    pv.dispose(g);
    return out;
  };
  const start = normals64(rngFor(seed, 'lanczos-start'), n * C);
  return lanczos(op, start, float64Ops, { k, maxIter: Math.min(maxIter, n * C), tol, which: 'largest' });
}

export type EigenMethod = 'auto' | 'dense' | 'lanczos';

export interface TopEigenpairs {
  /** Descending. */
  values: number[];
  /** Eigenvectors as columns of a row-major [N, k] float64 array. */
  vectors: Float64Array;
  n: number;
  k: number;
  /** Lanczos iterations (0 for the dense solver) and whether every Ritz pair met the tolerance. */
  iterations: number;
  converged: boolean;
}

/** Matrices up to this size get the dense solver under `auto`; beyond it Lanczos on K u products. */
export const DENSE_EIGEN_LIMIT = 300;

/**
 * Top-k eigenpairs of a symmetric kernel matrix. `lanczos` runs Lanczos (full reorthogonalisation) on dense
 * float64 products K u, O(N^2) per iteration instead of the O(N^3) dense solver: a 2000 x 2000 kernel's top 5
 * takes a few dozen products. `auto` picks dense for N <= DENSE_EIGEN_LIMIT.
 * Example: `const { values, vectors } = topEigenpairs(tangentKernel(net, w, x), 5)`.
 */
export function topEigenpairs(K: tf.Tensor2D, k: number, { method = 'auto' as EigenMethod, tol = 1e-8, maxIter, seed = 0, data }: { method?: EigenMethod; tol?: number; maxIter?: number; seed?: number; data?: Float32Array } = {}): TopEigenpairs {
  const N = K.shape[0];
  if (K.shape.length !== 2 || K.shape[1] !== N) throw new Error(`topEigenpairs: K has shape [${K.shape}]; expected a square matrix`);
  if (!Number.isInteger(k) || k < 0 || k > N) throw new Error(`topEigenpairs: k = ${k}; expected an integer in [0, ${N}]`);
  if (method !== 'auto' && method !== 'dense' && method !== 'lanczos') throw new Error(`topEigenpairs: method = '${String(method)}'; expected 'auto', 'dense' or 'lanczos'`);
  if (k === 0) return { values: [], vectors: new Float64Array(0), n: N, k: 0, iterations: 0, converged: true };
  if (method === 'dense' || (method === 'auto' && N <= DENSE_EIGEN_LIMIT)) return { ...kernelEigen(K, k), iterations: 0, converged: true };
  // `data`: K already read back by the caller (a 5000 x 5000 kernel is 100 MB), so it is not read again.
  return lanczosOfDense(data ?? (K.dataSync() as Float32Array), N, k, { tol, maxIter, seed });
}

/**
 * Lanczos top-k eigenpairs of a dense symmetric N x N matrix held as a float32 array (e.g. one read of a kernel
 * tensor), products accumulated in float64 (each entry is exact in float64, so no float64 copy is needed).
 */
export function lanczosOfDense(a: Float32Array | Float64Array, N: number, k: number, { tol = 1e-8, maxIter, seed = 0 }: { tol?: number; maxIter?: number; seed?: number } = {}): TopEigenpairs {
  if (a.length !== N * N) throw new Error(`lanczosOfDense: ${a.length} entries; expected N² = ${N * N}`);
  if (!Number.isInteger(k) || k < 1 || k > N) throw new Error(`lanczosOfDense: k = ${k}; expected an integer in [1, ${N}]`);
  const op = (u: Float64Array): Float64Array => {
    const out = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      let s = 0;
      const row = i * N;
      for (let j = 0; j < N; j++) s += a[row + j] * u[j];
      out[i] = s;
    }
    return out;
  };
  return lanczosPairs(op, N, k, { tol, maxIter, seed });
}

function lanczosPairs(op: (u: Float64Array) => Float64Array, N: number, k: number, { tol, maxIter, seed }: { tol: number; maxIter?: number; seed: number }): TopEigenpairs {
  const start = normals64(rngFor(seed, 'lanczos-start'), N);
  const r = lanczos(op, start, float64Ops, { k, maxIter: Math.min(maxIter ?? 3 * k + 60, N), tol, which: 'largest', vectors: true });
  const kk = r.values.length;
  const vectors = new Float64Array(N * kk);
  (r.vectors as Float64Array[]).forEach((v, c) => {
    for (let i = 0; i < N; i++) vectors[i * kk + c] = v[i];
  });
  return { values: r.values, vectors, n: N, k: kk, iterations: r.iterations, converged: r.converged };
}

/**
 * Split of the residual r = f - y into the top-s eigenspace of K and its complement (003 eq. 4.2):
 * L_{<=s} = scale ||P_{<=s} r||^2, L_{>s} = scale ||P_{>s} r||^2; r is [n, C], scale defaults to 1/n (MSE of Ch.4).
 * `eigen` chooses the eigensolver (see topEigenpairs) or passes precomputed top-s eigenpairs of K.
 */
export function lossDecomposition(K: tf.Tensor2D, residual: tf.Tensor, s: number, scale = 1 / residual.shape[0], eigen: EigenMethod | TopEigenpairs = 'auto') {
  const N = K.shape[0];
  if (!Number.isInteger(s) || s < 0 || s > N) throw new Error(`lossDecomposition: s = ${s}; expected an integer in [0, ${N}]`);
  const r = residual.dataSync();
  if (r.length !== N) throw new Error(`lossDecomposition: residual has ${r.length} entries; expected ${N}, the size of the kernel`);
  const pairs = typeof eigen === 'string' ? topEigenpairs(K, s, { method: eigen }) : eigen;
  if (pairs.k < s) throw new Error(`lossDecomposition: ${pairs.k} eigenpairs given; expected at least s = ${s}`);
  return projectResidual(pairs, r, s, scale);
}

/** L_{<=s}, L_{>s} and L of a residual r (length N) given the top eigenpairs (003 eq. 4.2). */
export function projectResidual(pairs: TopEigenpairs, r: ArrayLike<number>, s: number, scale: number) {
  const N = r.length;
  const kk = pairs.k;
  let top = 0;
  for (let c = 0; c < s; c++) {
    let p = 0;
    for (let i = 0; i < N; i++) p += pairs.vectors[i * kk + c] * r[i];
    top += p * p;
  }
  let total = 0;
  for (let i = 0; i < N; i++) total += r[i] * r[i];
  return { top: scale * top, rest: scale * Math.max(total - top, 0), total: scale * total };
}
