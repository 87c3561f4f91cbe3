import { type Seed, rngFor } from '../core/random.js';
import { checkInt, checkPositive } from '../core/checks.js';

/**
 * The general quadratic model of 003 eq. 3.3 in the setting of Fig B.4(a) (T:L3078–3088):
 * g(w; x) = wᵀφ(x) + ½ γ wᵀΣw with φ(x) = x/‖x‖, x_i ~ N(0, 1), Σ diagonal with i.i.d. ±1 entries,
 * w0 ~ N(0, I_d). Everything in float64.
 */
export interface QuadraticModelTask {
  d: number;
  n: number;
  gamma: number;
  /** Raw inputs x (n×d, row-major). */
  x: Float64Array;
  /** Features φ(x_i) = x_i/‖x_i‖ (n×d). */
  phi: Float64Array;
  /** Diagonal of Σ (±1). */
  sigma: Float64Array;
  w0: Float64Array;
  /** Targets. */
  y: Float64Array;
  meta: Record<string, unknown>;
}

export interface QuadraticModelOptions {
  /** Dimension; 100 in Fig B.4. */
  d?: number;
  /** Examples; a single one in Fig B.4 (inferred). */
  n?: number;
  /** γ; 10⁻³ by default in Fig B.4. */
  gamma?: number;
  /** Target value for every example (unstated in the thesis; 0 and 1 behave alike). */
  y?: number;
  seed: Seed;
}

export function generalQuadraticModel(options: QuadraticModelOptions): QuadraticModelTask {
  const { d = 100, n = 1, gamma = 1e-3, y = 0, seed } = options;
  const fn = 'generalQuadraticModel';
  checkInt(fn, 'd', d, 1);
  checkInt(fn, 'n', n, 1);
  checkPositive(fn, 'gamma', gamma);
  if (!Number.isFinite(y)) throw new Error(`${fn}: y = ${y}; expected a finite number`);
  const xr = rngFor(seed, fn, 'x');
  const x = new Float64Array(n * d);
  const phi = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const row = x.subarray(i * d, (i + 1) * d);
    let norm = 0;
    while (norm === 0) norm = Math.sqrt(xr.fillNormal(row).reduce((a, v) => a + v * v, 0));
    for (let j = 0; j < d; j++) phi[i * d + j] = row[j] / norm;
  }
  const sr = rngFor(seed, fn, 'sigma');
  const sigma = Float64Array.from({ length: d }, () => (sr.uniform() < 0.5 ? -1 : 1));
  const w0 = rngFor(seed, fn, 'w0').fillNormal(new Float64Array(d));
  return {
    d, n, gamma, x, phi, sigma, w0,
    y: new Float64Array(n).fill(y),
    meta: { generator: fn, paper: '003 eq. 3.3, Fig B.4(a) (T:L3078)', d, n, gamma, y, seed },
  };
}

/** g(w; x_i) = wᵀφ_i + ½ γ wᵀΣw. */
export function quadraticModelValue(task: QuadraticModelTask, w: ArrayLike<number>, i = 0): number {
  const { d, phi, sigma, gamma } = task;
  let lin = 0, quad = 0;
  for (let j = 0; j < d; j++) {
    lin += w[j] * phi[i * d + j];
    quad += sigma[j] * w[j] * w[j];
  }
  return lin + 0.5 * gamma * quad;
}

/** ∇_w g(w; x_i) = φ_i + γ Σ w. */
export function quadraticModelGradient(task: QuadraticModelTask, w: ArrayLike<number>, i = 0): Float64Array {
  const { d, phi, sigma, gamma } = task;
  return Float64Array.from({ length: d }, (_, j) => phi[i * d + j] + gamma * sigma[j] * w[j]);
}

/** Tangent kernel K_ij = ∇g_iᵀ∇g_j (n×n); for one example λ = ‖φ + γΣw‖². */
export function quadraticModelKernel(task: QuadraticModelTask, w: ArrayLike<number>): Float64Array {
  const grads = Array.from({ length: task.n }, (_, i) => quadraticModelGradient(task, w, i));
  const K = new Float64Array(task.n * task.n);
  for (let i = 0; i < task.n; i++) {
    for (let j = 0; j < task.n; j++) K[i * task.n + j] = grads[i].reduce((a, v, k) => a + v * grads[j][k], 0);
  }
  return K;
}
