import { type Dataset, makeDataset } from './dataset.js';
import { type Seed, rngFor } from '../core/random.js';
import { checkInt, checkPositive, checkOptions } from '../core/checks.js';

export interface TwoClusterOptions {
  /** Number of points; 003 App. B (Fig 3.3 / B.1 setup) uses 128. */
  n?: number;
  seed: Seed;
  /** |mean| of each cluster (2 in the thesis). */
  mean?: number;
  std?: number;
}

/**
 * The 1-D two-cluster data of 003 Fig 3.3 / B.1 (setup T:L3035): label y ∈ {−1, +1} and
 * x ~ N(−2, 1) if y = −1, N(2, 1) if y = +1. Class balance is unstated; labels are drawn i.i.d. uniform.
 * Targets are the labels ±1 as [n, 1]; `labels` holds 0 for −1 and 1 for +1.
 *
 * @param options `seed`; `n` points (default 128), cluster `mean` (default 2) and `std` (default 1)
 * @returns a Dataset: `x` [n, 1], `y` [n, 1] (±1); `dispose()` frees its tensors
 * @example
 * const ds = twoClusterData({ n: 64, seed: 0 });
 * console.log(ds.x.shape, ds.description);
 */
export function twoClusterData(options: TwoClusterOptions): Dataset {
  checkOptions('twoClusterData', 'options', options);
  const { n = 128, seed, mean = 2, std = 1 } = options;
  checkInt('twoClusterData', 'n', n, 1);
  checkPositive('twoClusterData', 'std', std);
  if (!Number.isFinite(mean)) throw new Error(`twoClusterData: mean = ${mean}; expected a finite number`);
  const labelRng = rngFor(seed, 'twoClusterData', 'labels');
  const noiseRng = rngFor(seed, 'twoClusterData', 'x');
  const labels = new Int32Array(n);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = labelRng.int(0, 2);
    y[i] = labels[i] === 1 ? 1 : -1;
    x[i] = noiseRng.normal(mean * y[i], std);
  }
  return makeDataset({
    x,
    y,
    labels,
    n,
    d: 1,
    c: 1,
    name: 'two-cluster-1d',
    description: `003 Fig 3.3: ${n} points, x ~ N(±${mean}, ${std}²) for labels ±1`,
    meta: { generator: 'twoClusterData', paper: '003 Fig 3.3 / B.1 (T:L3035)', n, mean, std, seed },
  });
}
