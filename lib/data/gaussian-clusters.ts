import { type Dataset, type TargetCoding, encodeTargets, makeDataset } from './dataset.js';
import { type Seed, rngFor, shuffle } from '../core/random.js';
import { checkInt, checkNonNegative, checkOneOf, checkPositive, checkOptions } from '../core/checks.js';

export interface GaussianClustersOptions {
  /** Examples per class (classes are exactly balanced). */
  perClass: number;
  classes: number;
  dim: number;
  seed: Seed;
  /** ‖μ_c‖: each class mean is `separation` times a uniform random unit vector. Default 3. */
  separation?: number;
  /** Within-class standard deviation per coordinate. Default 1. */
  std?: number;
  /** Explicit class means (classes × dim, row-major); overrides `separation`. */
  means?: Float64Array | number[];
  /** Default 'onehot'; 'signed' (±1, [n, 1]) for two classes. */
  targets?: TargetCoding;
}

/**
 * Multi-class Gaussian clusters, the synthetic stand-in for multi-class image subsets (e.g. 003 Fig C.5
 * with 10 classes, one-hot targets): x = μ_c + std·z with z ~ N(0, I), rows in a seeded random order.
 *
 * @param options `perClass` examples of each of `classes` classes in `dim` dimensions, `seed`; optional
 *   `separation` (‖μ_c‖, default 3), `std` (default 1), explicit `means`
 * @returns a Dataset: `x` [classes · perClass, dim], `y` one-hot, `labels`
 * @example
 * const ds = gaussianClusters({ perClass: 20, classes: 3, dim: 5, seed: 0 });
 */
export function gaussianClusters(options: GaussianClustersOptions): Dataset {
  checkOptions('gaussianClusters', 'options', options);
  const { perClass, classes, dim, seed, separation = 3, std = 1, targets = 'onehot' } = options;
  const fn = 'gaussianClusters';
  checkInt(fn, 'perClass', perClass, 1);
  checkInt(fn, 'classes', classes, 2);
  checkInt(fn, 'dim', dim, 1);
  checkNonNegative(fn, 'separation', separation);
  checkPositive(fn, 'std', std);
  checkOneOf(fn, 'targets', targets, ['onehot', 'signed']);
  let means: Float64Array;
  if (options.means) {
    means = Float64Array.from(options.means);
    if (means.length !== classes * dim) throw new Error(`${fn}: means has ${means.length} entries; expected classes × dim = ${classes * dim}`);
  } else {
    const mr = rngFor(seed, fn, 'means');
    means = new Float64Array(classes * dim);
    for (let c = 0; c < classes; c++) {
      const row = means.subarray(c * dim, (c + 1) * dim);
      let norm = 0;
      while (norm === 0) norm = Math.sqrt(mr.fillNormal(row).reduce((a, v) => a + v * v, 0));
      for (let j = 0; j < dim; j++) row[j] *= separation / norm;
    }
  }
  const n = perClass * classes;
  const labels = shuffle(rngFor(seed, fn, 'order'), Int32Array.from({ length: n }, (_, i) => i % classes));
  const x = rngFor(seed, fn, 'x').fillNormal(new Float64Array(n * dim), std);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    for (let j = 0; j < dim; j++) x[i * dim + j] += means[c * dim + j];
  }
  const { y, c } = encodeTargets(labels, classes, targets);
  return makeDataset({
    x,
    y,
    labels,
    n,
    d: dim,
    c,
    name: `gaussian-clusters-${classes}`,
    description: `${classes} Gaussian clusters in R^${dim}, ${perClass} per class, ‖μ‖ = ${options.means ? 'given' : separation}, σ = ${std}, ${targets} targets`,
    meta: { generator: fn, perClass, classes, dim, separation: options.means ? null : separation, std, targets, seed, means: Array.from(means) },
  });
}
