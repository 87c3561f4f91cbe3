import * as tf from '@tensorflow/tfjs-core';
import { checkArgs, checkNetwork, gradTrainable } from './derivatives.js';
import { checkData, checkInt, checkNonNegative } from '../core/checks.js';
import { paramOps, randomDirection } from './hessian.js';
import { lanczos, symmetricEigen } from '../core/linalg.js';
import { type Loss, checkLoss, lossByName } from './losses.js';
import { checkDeviceMemory } from '../core/memory-budget.js';
import type { Network } from '../nets/network.js';
import { lanczosOfDense, tangentKernel, softmaxJacobians } from './ntk.js';
import { type Params, pv, trainableNames } from '../core/params.js';

/**
 * Hessian-vector product of the training loss on (x, y), H_L v = ∇_w ⟨∇_w L, v⟩ with H_L = ∇²_w L(w) (the Hessian
 * of lossSharpness and of criticalLearningRate's `hessian` method), by reverse mode over the order-1 jet.
 */
export function lossHvp(net: Network, params: Params, x: tf.Tensor, y: tf.Tensor, loss: Loss, v: Params): Params {
  checkArgs(net, params, x, v);
  return gradTrainable(net, params, (p) => {
    const c1 = loss.jet(net.taylor(p, v, x, 1), y)[1];
    return (c1 ?? tf.mul(tf.sum(net.apply(p, x)), 0)) as tf.Scalar;
  }).grad;
}

export interface CriticalLr {
  /** eta_crit */
  eta: number;
  /**
   * The eigenvalue it comes from: `hessian`: λ_max(H_L) of the loss Hessian (the sharpness); `ntk`: λ_max(K) of the
   * tangent kernel (MSE) or λ_max((1/n) S K S) (cross-entropy).
   */
  lambda: number;
  method: 'hessian' | 'ntk';
}

/**
 * Critical learning rate (003 eq. 3.6, Def 3.2.2; reference §1.3), the step size above which GD on the local
 * quadratic model diverges, from one of two curvature matrices of the training loss L(w) on (x, y):
 * `hessian`: 2 / λ_max(H_L) with H_L = ∇²_w L the Hessian of the loss w.r.t. the parameters (its λ_max is the
 * sharpness of lossSharpness), by Lanczos on loss-Hessian-vector products (lossHvp);
 * `ntk`: its Gauss-Newton approximation H_L ≈ Jᵀ (∇²_f ℓ) J, which drops the term Σ ∂ℓ/∂f ∇²_w f of the model's
 * own Hessian (zero at a global minimum of MSE) and shares its nonzero spectrum with (∇²_f ℓ)^½ K (∇²_f ℓ)^½,
 * K = J Jᵀ the tangent kernel: 2 / (c λ_max(K)) for MSE whose output Hessian is c I, i.e.
 * n/lambda for `mean`, 2/lambda for `halfSum`, nC/lambda for `meanAll`; for cross-entropy
 * 2 / lambda_max((1/n) S K S) with S the block-diagonal square roots of the softmax Jacobians.
 * On a mini-batch this is the per-batch b/lambda_max(K_batch) of 003 Ch.4.
 *
 * @param net the network
 * @param params its parameters w (the rate is that of these parameters)
 * @param x training inputs [n, d]
 * @param y training targets [n, C]
 * @param lossSpec decides the convention: `mse('mean')` → n/λ, `mse('halfSum')` → 2/λ, `crossEntropy()`, or a
 *   name as `train` takes it (`'mse'`, `'cross-entropy'`)
 * @param opts `method`: 'ntk' (default, dense kernel) or 'hessian' (Lanczos on loss-Hessian-vector products,
 *   `maxIter`, `tol`, `seed` of the start vector)
 * @returns { eta, lambda, method }
 * @example
 * const { eta } = criticalLearningRate(net, w, x, y, mse('mean'));   // train at 0.5 * eta, 1.5 * eta, ...
 */
export function criticalLearningRate(
  net: Network,
  params: Params,
  x: tf.Tensor,
  y: tf.Tensor,
  lossSpec: Loss | string,
  opts: { method?: 'hessian' | 'ntk'; maxIter?: number; tol?: number; seed?: number } = {},
): CriticalLr {
  const fn = 'criticalLearningRate';
  const { method = 'ntk', maxIter = 60, tol = 1e-6, seed = 0 } = opts ?? {};
  if (method !== 'ntk' && method !== 'hessian') throw new Error(`${fn}: method = ${JSON.stringify(method)}; expected 'ntk' or 'hessian'`);
  checkNetwork(net, fn);
  checkArgs(net, params, x);
  checkData(fn, params, x, y);
  // The names train() accepts ('mse', 'ce', ...) mean the same here.
  const loss = lossByName(lossSpec, fn);
  checkLoss(fn, loss, net.outputDim, y);
  if (method === 'hessian') {
    checkInt(fn, 'maxIter', maxIter, 1);
    checkNonNegative(fn, 'tol', tol);
    // Lanczos keeps every basis vector (full reorthogonalisation): up to maxIter parameter-sized vectors at once.
    const P = trainableNames(net.specs).reduce((s, k) => s + params[k].size, 0);
    checkDeviceMemory(fn, `Lanczos with maxIter = ${maxIter} on ${P} parameters`, 4 * P * (maxIter + 3), `Lower maxIter or use method: 'ntk'.`);
    const start = randomDirection(params, seed, trainableNames(net.specs));
    const r = lanczos((v: Params) => lossHvp(net, params, x, y, loss, v), start, paramOps, { k: 1, maxIter, tol, which: 'largest' });
    pv.dispose(start);
    return { eta: 2 / r.values[0], lambda: r.values[0], method };
  }
  if (method !== 'ntk') throw new Error(`criticalLearningRate: method = ${JSON.stringify(method)}; expected 'ntk' or 'hessian'`);
  const [n, C] = [x.shape[0], net.outputDim];
  const K = tangentKernel(net, params, x);
  try {
    if (loss.outputCurvature) {
      const lambda = topEigenvalue(K.dataSync() as Float32Array, n * C);
      return { eta: 2 / (loss.outputCurvature(n, C) * lambda), lambda, method };
    }
    // S, S K, S K S and M besides K, (nC)² floats each.
    checkDeviceMemory(fn, `the cross-entropy kernel S K S of n = ${n} inputs and C = ${C} outputs (${n * C} x ${n * C})`, 4 * 4 * (n * C) ** 2, 'Use fewer inputs (a subsample of x) or method: \'hessian\'.');
    const S = tf.tidy(() => blockSqrt(softmaxJacobians(net.apply(params, x) as tf.Tensor2D)));
    const M = tf.tidy(() => tf.div(tf.matMul(tf.matMul(S, K), S), n));
    const lambda = topEigenvalue(M.dataSync() as Float32Array, n * C);
    tf.dispose([S, M]);
    return { eta: 2 / lambda, lambda, method };
  } finally {
    K.dispose();
  }
}

/**
 * Kernels up to this size get the dense eigensolver (as before this limit existed, so runs of that size keep their
 * numbers); larger ones Lanczos, whose top eigenvalue agrees to ~1e-12 (the dense O(N³) solve of a 5000 x 5000
 * kernel took 2 min, Lanczos well under a second).
 */
export const CRITICAL_DENSE_LIMIT = 1000;

function topEigenvalue(a: Float32Array | Float64Array, N: number): number {
  if (N > CRITICAL_DENSE_LIMIT) return lanczosOfDense(a, N, 1).values[0];
  return symmetricEigen(a, N, { vectors: false }).values[0];
}

/** Block-diagonal [nC, nC] of the PSD square roots of A_i ([n, C, C]). */
function blockSqrt(A: tf.Tensor3D): tf.Tensor2D {
  const [n, C] = A.shape;
  const a = A.dataSync();
  const out = new Float32Array(n * C * n * C);
  for (let i = 0; i < n; i++) {
    const block = Array.from(a.subarray(i * C * C, (i + 1) * C * C));
    const { values, vectors } = symmetricEigen(block, C);
    for (let r = 0; r < C; r++)
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let k = 0; k < C; k++) s += vectors[r * C + k] * Math.sqrt(Math.max(values[k], 0)) * vectors[c * C + k];
        out[(i * C + r) * n * C + i * C + c] = s;
      }
  }
  return tf.tensor2d(out, [n * C, n * C]);
}

/** A constant learning rate at a multiple of a computed critical rate, carrying the rate it came from. */
export interface CriticalSchedule {
  (step: number): number;
  critical: CriticalLr;
  multiple: number;
}

/**
 * `multiple` × the critical learning rate of (net, params, x, y, loss) at these parameters, as a schedule for
 * `train()` (which then records `critical` in its result). 003 Ch.3 places every learning rate this way.
 *
 * @param multiple the factor η / η_crit (e.g. 0.5 below the critical rate, 1.5 in the catapult phase)
 * @param net the network
 * @param params its parameters at the start of training
 * @param x training inputs [n, d]
 * @param y training targets [n, C]
 * @param loss the loss `train` will use (decides the convention, see criticalLearningRate)
 * @param opts as criticalLearningRate's: `method` 'ntk' (default) or 'hessian', `maxIter`, `tol`, `seed`
 * @example
 * const lr = criticalSchedule(1.5, net, w0, x, y, mse('mean'));   // a catapult-phase rate, 1.5 η_crit
 * const run = train({ net, params: w0, x, y, loss: mse('mean'), lr, steps: 200 });
 */
export function criticalSchedule(
  multiple: number,
  net: Network,
  params: Params,
  x: tf.Tensor,
  y: tf.Tensor,
  loss: Loss | string,
  opts: { method?: 'hessian' | 'ntk'; maxIter?: number; tol?: number; seed?: number } = {},
): CriticalSchedule {
  if (!(Number.isFinite(multiple) && multiple > 0)) throw new Error(`criticalSchedule: multiple = ${multiple}; expected a finite number > 0`);
  const critical = criticalLearningRate(net, params, x, y, loss, opts);
  const lr = multiple * critical.eta;
  return Object.assign((_step: number) => lr, { critical, multiple });
}
