import { type Dataset, makeDataset, oneHot } from './dataset.js';
import { type Seed, rngFor } from '../core/random.js';
import { checkInt, checkPositive, checkOptions } from '../core/checks.js';

export interface ThreeClassOptions {
  /** Number of points; 002 App. B uses N = 60. */
  n?: number;
  seed: Seed;
  /** Class-conditional means of x for y = 0, 1, 2; 002 eq. 42 uses 0, 10, −10. */
  means?: [number, number, number];
  /** Class-conditional standard deviation (1 in 002). */
  std?: number;
}

/**
 * The 1-D, 3-class Gaussian mixture of 002 App. B (eq. 42): y uniform on {0, 1, 2}, drawn i.i.d., and
 * x | y ~ N(0, 1), N(10, 1), N(−10, 1) for y = 0, 1, 2. Targets are one-hot [n, 3]; no input scaling.
 *
 * @param options `seed`; `n` points (default 60), class `means` (default [0, 10, −10]) and `std` (default 1)
 * @returns a Dataset: `x` [n, 1], `y` [n, 3] one-hot, `labels`
 * @example
 * const ds = threeClassMixture({ n: 60, seed: 0 });
 */
export function threeClassMixture(options: ThreeClassOptions): Dataset {
  checkOptions('threeClassMixture', 'options', options);
  const { n = 60, seed, means = [0, 10, -10], std = 1 } = options;
  checkInt('threeClassMixture', 'n', n, 1);
  checkPositive('threeClassMixture', 'std', std);
  if (means.length !== 3 || !means.every(Number.isFinite)) {
    throw new Error(`threeClassMixture: means = ${JSON.stringify(means)}; expected three finite numbers`);
  }
  const labelRng = rngFor(seed, 'threeClassMixture', 'labels');
  const noiseRng = rngFor(seed, 'threeClassMixture', 'x');
  const labels = new Int32Array(n);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = labelRng.int(0, 3);
    x[i] = noiseRng.normal(means[labels[i]], std);
  }
  return makeDataset({
    x,
    y: oneHot(labels, 3),
    labels,
    n,
    d: 1,
    c: 3,
    name: 'three-class-mixture',
    description: `002 App. B: N=${n}, 3 classes, x|y ~ N(${means.join(' / ')}, ${std}²), one-hot targets`,
    meta: { generator: 'threeClassMixture', paper: '002 App. B eq. 42', n, means, std, seed },
  });
}
