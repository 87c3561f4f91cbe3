import { type Dataset, makeDataset } from './dataset.js';
import { type Seed, rngFor } from '../core/random.js';
import { checkInt, checkPositive, checkOptions } from '../core/checks.js';

export interface SphereOptions {
  /** Training size (100 in 003 Fig 4.5). */
  n?: number;
  /** Input dimension (100 in 003 Fig 4.5). */
  d?: number;
  seed: Seed;
  /** Factor applied to both x* and y* (2 in the thesis: η_crit(x*) becomes 4× smaller). */
  scale?: number;
  /** Row of the scaled point; a seeded uniform draw by default. */
  scaledIndex?: number;
}

/**
 * The data of 003 Fig 4.5 (setup T:L3445): x_i i.i.d. uniform on the unit sphere S^{d−1}, y_i = 1,
 * and one point (x*, y*) with both multiplied by `scale`. Targets [n, 1]; `meta.scaledIndex` is its row.
 *
 * @param options `seed`; `n` (default 100), `d` (default 100), `scale` (default 2), `scaledIndex`
 * @returns a Dataset: `x` [n, d], `y` [n, 1]
 * @example
 * const ds = unitSphereData({ n: 32, d: 8, seed: 0 });
 */
export function unitSphereData(options: SphereOptions): Dataset {
  checkOptions('unitSphereData', 'options', options);
  const { n = 100, d = 100, seed, scale = 2 } = options;
  checkInt('unitSphereData', 'n', n, 1);
  checkInt('unitSphereData', 'd', d, 1);
  checkPositive('unitSphereData', 'scale', scale);
  const scaledIndex = options.scaledIndex ?? rngFor(seed, 'unitSphereData', 'scaledIndex').int(0, n);
  checkInt('unitSphereData', 'scaledIndex', scaledIndex, 0);
  if (scaledIndex >= n) throw new Error(`unitSphereData: scaledIndex = ${scaledIndex}; expected an integer in 0..${n - 1}`);
  const rng = rngFor(seed, 'unitSphereData', 'x');
  const x = new Float64Array(n * d);
  const y = new Float64Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    const row = x.subarray(i * d, (i + 1) * d);
    let norm2 = 0;
    do {
      rng.fillNormal(row);
      norm2 = row.reduce((a, v) => a + v * v, 0);
    } while (norm2 === 0);
    const s = (i === scaledIndex ? scale : 1) / Math.sqrt(norm2);
    for (let j = 0; j < d; j++) row[j] *= s;
  }
  y[scaledIndex] = scale;
  return makeDataset({
    x,
    y,
    n,
    d,
    c: 1,
    name: 'unit-sphere',
    description: `003 Fig 4.5: ${n} points uniform on S^${d - 1}, y = 1, point ${scaledIndex} and its label scaled by ${scale}`,
    meta: { generator: 'unitSphereData', paper: '003 Fig 4.5 (T:L3445)', n, d, scale, scaledIndex, seed },
  });
}
