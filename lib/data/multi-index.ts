import { type Dataset, makeDataset } from './dataset.js';
import { type Seed, rngFor } from '../core/random.js';
import { checkInt, checkNonNegative, checkOneOf, checkOptions } from '../core/checks.js';

/** The synthetic regression tasks of 003 Ch.4 (T:L1159, T:L3360). */
export type RegressionTaskName = 'rank2' | 'rank3' | 'rank4' | 'fullRank';
export const REGRESSION_TASKS: readonly RegressionTaskName[] = ['rank2', 'rank3', 'rank4', 'fullRank'];

export interface RegressionTask {
  name: RegressionTaskName;
  /** Formula as written in the thesis (1-based coordinates). */
  formula: string;
  /** Smallest input dimension the formula needs. */
  minDim: number;
  /** Rank of the EGOP. */
  rank: (d: number) => number;
  /** f*(x) in float64. */
  f: (x: ArrayLike<number>) => number;
  /** ∇_x f*(x) in float64. */
  grad: (x: ArrayLike<number>, out?: Float64Array) => Float64Array;
  /** Exact EGOP G* = E_{x~N(0,I_d)}[∇f* ∇f*ᵀ] (003 C.6), row-major d×d. */
  egop: (d: number) => Float64Array;
}

function zeros(x: ArrayLike<number>, out?: Float64Array): Float64Array {
  if (out && out.length !== x.length) throw new Error(`grad: out has length ${out.length}; expected ${x.length}`);
  return out ? out.fill(0) : new Float64Array(x.length);
}

/** f* = x1 x2; G* = diag(1, 1, 0, …). */
const rank2: RegressionTask = {
  name: 'rank2',
  formula: 'f*(x) = x1 x2',
  minDim: 2,
  rank: () => 2,
  f: (x) => x[0] * x[1],
  grad: (x, out) => {
    const g = zeros(x, out);
    g[0] = x[1];
    g[1] = x[0];
    return g;
  },
  egop: (d) => {
    const G = new Float64Array(d * d);
    G[0] = 1;
    G[d + 1] = 1;
    return G;
  },
};

/**
 * f* = x1 x2 S with S = Σ_{i=1}^{10} x_i. ∂1 = x2(S + x1), ∂2 = x1(S + x2), ∂k = x1 x2 (k = 3..10).
 * Gaussian moments give G11 = G22 = 15, G12 = 5, G1k = G2k = 2, Gkl = 1 (k, l = 3..10); rank 3
 * (eigenvalues 24, 10, 4).
 */
const rank3: RegressionTask = {
  name: 'rank3',
  formula: 'f*(x) = x1 x2 (x1 + … + x10)',
  minDim: 10,
  rank: () => 3,
  f: (x) => {
    let s = 0;
    for (let i = 0; i < 10; i++) s += x[i];
    return x[0] * x[1] * s;
  },
  grad: (x, out) => {
    const g = zeros(x, out);
    let s = 0;
    for (let i = 0; i < 10; i++) s += x[i];
    g[0] = x[1] * (s + x[0]);
    g[1] = x[0] * (s + x[1]);
    for (let k = 2; k < 10; k++) g[k] = x[0] * x[1];
    return g;
  },
  egop: (d) => {
    const G = new Float64Array(d * d);
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j < 10; j++) {
        const a = i < 2, b = j < 2;
        G[i * d + j] = a && b ? (i === j ? 15 : 5) : a || b ? 2 : 1;
      }
    }
    return G;
  },
};

/**
 * f* = Σ_{j=1}^{4} Π_{i=1}^{j} x_i = x1 + x1x2 + x1x2x3 + x1x2x3x4. The partial derivatives are sums of
 * distinct monomials, orthonormal under N(0, I): G* = diag(4, 3, 2, 1, 0, …).
 */
const rank4: RegressionTask = {
  name: 'rank4',
  formula: 'f*(x) = x1 + x1x2 + x1x2x3 + x1x2x3x4',
  minDim: 4,
  rank: () => 4,
  f: (x) => x[0] * (1 + x[1] * (1 + x[2] * (1 + x[3]))),
  grad: (x, out) => {
    const g = zeros(x, out);
    g[0] = 1 + x[1] * (1 + x[2] * (1 + x[3]));
    g[1] = x[0] * (1 + x[2] * (1 + x[3]));
    g[2] = x[0] * x[1] * (1 + x[3]);
    g[3] = x[0] * x[1] * x[2];
    return g;
  },
  egop: (d) => {
    const G = new Float64Array(d * d);
    for (let i = 0; i < 4; i++) G[i * d + i] = 4 - i;
    return G;
  },
};

/** f* = ‖x‖/√d (003 C.4, T:L3360); ∇f* = x/(√d ‖x‖), so G* = E[x xᵀ/‖x‖²]/d = I/d². */
const fullRank: RegressionTask = {
  name: 'fullRank',
  formula: 'f*(x) = ‖x‖/√d',
  minDim: 1,
  rank: (d) => d,
  f: (x) => {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i] * x[i];
    return Math.sqrt(s / x.length);
  },
  grad: (x, out) => {
    const g = zeros(x, out);
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i] * x[i];
    const c = 1 / Math.sqrt(s * x.length);
    for (let i = 0; i < x.length; i++) g[i] = x[i] * c;
    return g;
  },
  egop: (d) => {
    const G = new Float64Array(d * d);
    for (let i = 0; i < d; i++) G[i * d + i] = 1 / (d * d);
    return G;
  },
};

const TASKS: Record<RegressionTaskName, RegressionTask> = { rank2, rank3, rank4, fullRank };

export function regressionTask(name: RegressionTaskName): RegressionTask {
  checkOneOf('regressionTask', 'name', name, REGRESSION_TASKS);
  return TASKS[name];
}

/** The exact EGOP of a task in dimension d (row-major d×d). */
export function taskEgop(name: RegressionTaskName, d: number): Float64Array {
  const task = regressionTask(name);
  checkInt('taskEgop', 'd', d, task.minDim);
  return task.egop(d);
}

export interface RegressionDataOptions {
  task: RegressionTaskName;
  n: number;
  /** Input dimension; 100 in 003 C.6. */
  d?: number;
  /** Label noise standard deviation; 0.1 in 003 C.6. */
  noise?: number;
  seed: Seed;
}

/**
 * 003 C.6 (T:L3431): x_i ~ N(0, I_d) i.i.d. and y_i = f*(x_i) + ε_i with ε_i ~ N(0, noise²).
 * `y` holds the noisy targets and `yClean` holds f*(x_i). `meta.egop` is not stored (d² numbers);
 * use `taskEgop(task, d)`.
 *
 * @param options `task` ('rank2', 'rank3', 'rank4' or 'fullRank'), `n`, `seed`; `d` (default 100), `noise` (default 0.1)
 * @returns a Dataset: `x` [n, d], `y` [n, 1] noisy, `yClean` [n, 1]
 * @example
 * const ds = regressionData({ task: 'rank2', n: 200, d: 20, seed: 0 });
 */
export function regressionData(options: RegressionDataOptions): Dataset {
  checkOptions('regressionData', 'options', options);
  const { task: name, n, d = 100, noise = 0.1, seed } = options;
  const task = regressionTask(name);
  checkInt('regressionData', 'n', n, 1);
  checkInt('regressionData', 'd', d, task.minDim);
  checkNonNegative('regressionData', 'noise', noise);
  const x = rngFor(seed, 'regressionData', name, 'x').fillNormal(new Float64Array(n * d));
  const noiseRng = rngFor(seed, 'regressionData', name, 'noise');
  const yClean = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    yClean[i] = task.f(x.subarray(i * d, (i + 1) * d));
    y[i] = yClean[i] + noiseRng.normal(0, noise);
  }
  return makeDataset({
    x,
    y,
    yClean,
    n,
    d,
    c: 1,
    name,
    description: `003 Ch.4 ${name} task: ${task.formula}, x ~ N(0, I_${d}), noise σ = ${noise}, n = ${n}`,
    meta: { generator: 'regressionData', paper: '003 §4.4 (T:L1159), C.6 (T:L3431)', task: name, formula: task.formula, n, d, noise, seed, egopRank: task.rank(d) },
  });
}
