import * as tf from '@tensorflow/tfjs-core';
import { checkData, checkInt, checkPositive } from '../core/checks.js';
import { checkDeviceMemory } from '../core/memory-budget.js';
import { lanczos } from '../core/linalg.js';
import { type Params, pv, shapeString, trainableNames } from '../core/params.js';
import type { Network } from '../nets/network.js';
import { lossHvp } from './critical.js';
import { checkArgs } from './derivatives.js';
import { paramOps, randomDirection } from './hessian.js';
import { type Loss, lossByName } from './losses.js';

/**
 * Sharpness: the largest eigenvalue of the Hessian of the training loss with respect to the parameters,
 * λ_max(∇²_w L(w)), L the loss on the data given (the full training set, or a batch of it). This is the
 * quantity of the edge-of-stability literature (Cohen et al. 2021, "Gradient descent on neural networks
 * typically occurs at the edge of stability", §3: under full-batch GD at step size η it rises until it
 * reaches 2/η, the stability threshold of GD on the local quadratic model, and hovers there), and 2/λ_max is
 * the exact critical learning rate of 003 eq. 3.6 (criticalLearningRate's `hessian` method).
 * Not the Hessian of the model output (hessianSpectralNorm), nor its Gauss-Newton part (the tangent kernel).
 */

/** Options of lossSharpness: k, a batch of rows, the Lanczos budget and tolerance, the start vector's seed. */
export interface SharpnessOptions {
  /** How many of the largest eigenvalues (default 1): `eigenvalues` holds the k largest, descending. */
  k?: number;
  /** Rows of (x, y) forming the batch whose loss is differentiated (default: every row, the full batch). */
  indices?: ArrayLike<number>;
  /** Lanczos iterations, one loss-Hessian-vector product each (default 100; at most the trainable parameter count). */
  maxIter?: number;
  /** Relative residual bound on each returned eigenvalue (default 1e-5; float32 products reach about 1e-6). */
  tol?: number;
  /** Seed of the Gaussian start vector (default 0). */
  seed?: number;
}

/** What lossSharpness returns: λ_max of the loss Hessian, the k largest eigenvalues and Lanczos' diagnostics. */
export interface Sharpness {
  /** λ_max of the loss Hessian (the sharpness). */
  value: number;
  /** The k largest eigenvalues, descending (value = eigenvalues[0]). */
  eigenvalues: number[];
  /** Residual bound ‖H q − θ q‖ of each eigenvalue's Ritz pair. */
  residuals: number[];
  /** Loss-Hessian-vector products used. */
  iterations: number;
  /** Every residual within tol · |λ| (or the Krylov space is exhausted). */
  converged: boolean;
  tolerance: number;
  /** Examples in the loss. */
  batchSize: number;
}

/**
 * The sharpness λ_max(∇²_w L) of the training loss on the full batch (x, y) or the rows `opts.indices`, by
 * Lanczos with full reorthogonalisation on loss-Hessian-vector products H_L v = ∇_w ⟨∇_w L, v⟩ (reverse
 * mode over the order-1 jet; every trainable parameter, the fixed ones held constant). Optionally the k
 * largest eigenvalues. Under full-batch GD at step size η, Cohen et al. (2021) find it rises to 2/η and
 * hovers there (the edge of stability); `sharpness()` (train trackers) records it along a run.
 *
 * @param net the model
 * @param params its parameters (the trainable ones are differentiated)
 * @param x training inputs
 * @param y training targets ([n, outputDim]); the loss is that of `train` on (x, y)
 * @param loss `mse('mean')`, `crossEntropy()`, ... or a name as `train` takes it (`'mse'`, `'cross-entropy'`)
 * @param opts `k`: the k largest eigenvalues (default 1); `indices`: rows forming a batch (default all);
 *   `maxIter` (default 100), `tol` (relative residual, default 1e-5), `seed` of the start vector
 * @returns { value: λ_max, eigenvalues (k, descending), residuals, iterations, converged, tolerance, batchSize }
 * @example
 * const net = fcn({ widths: [2, 16, 1], activation: 'tanh' });
 * const w = net.init(0);
 * const x = tf.randomNormal([20, 2], 0, 1, 'float32', 1), y = tf.randomNormal([20, 1], 0, 1, 'float32', 2);
 * const s = lossSharpness(net, w, x, y, mse('mean'), { k: 3 });
 * console.log(s.value, 2 / s.value);   // λ_max and the step size of GD's stability threshold
 */
export function lossSharpness(net: Network, params: Params, x: tf.Tensor, y: tf.Tensor, loss: Loss | string, opts: SharpnessOptions = {}): Sharpness {
  const fn = 'lossSharpness';
  if (opts === null || typeof opts !== 'object') throw new Error(`${fn}: opts = ${String(opts)}; expected an options object`);
  const { k = 1, indices, maxIter = 100, tol = 1e-5, seed = 0 } = opts;
  const L = lossByName(loss);
  checkArgs(net, params, x);
  checkData(fn, params, x, y);
  if (y.rank !== 2 || y.shape[1] !== net.outputDim) {
    throw new Error(`${fn}: y has shape ${shapeString(y.shape)}; expected [${y.shape[0]}, ${net.outputDim}] (one row of targets per example, ${net.name}'s output width)`);
  }
  if (L.config.loss === 'cross-entropy' && net.outputDim < 2) {
    throw new Error(`${fn}: loss = ${L.name} on ${net.name} with 1 output; expected at least 2 outputs (the softmax of one logit is 1: the loss is constant)`);
  }
  const names = trainableNames(net.specs);
  const N = names.reduce((s, n) => s + params[n].size, 0);
  if (N === 0) throw new Error(`${fn}: ${net.name} has no trainable parameters; expected at least one`);
  checkInt(fn, 'opts.k', k, 1);
  if (k > N) throw new Error(`${fn}: opts.k = ${k}; expected at most ${N}, the trainable parameter count`);
  checkInt(fn, 'opts.maxIter', maxIter, 1);
  if (maxIter < k) throw new Error(`${fn}: opts.maxIter = ${maxIter}; expected at least opts.k = ${k} (each Lanczos step adds one Ritz value)`);
  checkPositive(fn, 'opts.tol', tol);
  checkInt(fn, 'opts.seed', seed, 0);
  const steps = Math.min(maxIter, N);
  // Full reorthogonalisation keeps every Lanczos vector: `steps` parameter-sized vectors, and a few for the product.
  checkDeviceMemory(fn, `Lanczos with maxIter = ${maxIter} on ${N} parameters`, 4 * N * (steps + 3), 'Lower opts.maxIter (each step keeps one parameter-sized vector).');
  const rows = indices === undefined ? undefined : checkIndices(fn, indices, x.shape[0]);
  const xb = rows ? tf.gather(x, rows) : x;
  const yb = rows ? tf.gather(y, rows) : y;
  const start = randomDirection(params, seed, names);
  try {
    // Beyond N steps the Krylov space is exhausted: the basis would take up float32 round-off.
    // A non-finite product (float32 overflow, e.g. a diverging run) ends Lanczos with a zero vector, so that its
    // basis is released, and is reported below.
    let finite = true;
    const op = (v: Params): Params => {
      const hv = lossHvp(net, params, xb, yb, L, v);
      if (finite && Number.isFinite(paramOps.dot(hv, hv))) return hv;
      finite = false;
      pv.dispose(hv);
      return Object.fromEntries(names.map((n) => [n, tf.zeros(params[n].shape)]));
    };
    const r = lanczos(op, start, paramOps, { k, maxIter: steps, tol, which: 'largest' });
    if (!finite) throw new NonFiniteCurvatureError(`${fn}: a loss-Hessian-vector product at these parameters is not finite (float32 overflow; is the run diverging?); expected finite curvature`);
    return { value: r.values[0], eigenvalues: r.values, residuals: r.residuals, iterations: r.iterations, converged: r.converged || r.iterations === N, tolerance: tol, batchSize: xb.shape[0] };
  } finally {
    pv.dispose(start);
    if (rows) tf.dispose([xb, yb, rows]);
  }
}

/** The loss Hessian overflows float32 at the given parameters (finite parameters, non-finite curvature). */
export class NonFiniteCurvatureError extends Error {
  override name = 'NonFiniteCurvatureError';
}

function checkIndices(fn: string, indices: ArrayLike<number>, n: number): tf.Tensor1D {
  if (indices === null || typeof indices !== 'object' || typeof indices.length !== 'number') {
    throw new Error(`${fn}: opts.indices = ${String(indices)}; expected an array of row indices of x`);
  }
  if (indices.length === 0) throw new Error(`${fn}: opts.indices = []; expected at least one row index`);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    if (!Number.isInteger(j) || j < 0 || j >= n) throw new Error(`${fn}: opts.indices[${i}] = ${j}; expected an integer row index in [0, ${n - 1}]`);
  }
  return tf.tensor1d(Int32Array.from(indices), 'int32');
}
