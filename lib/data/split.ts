import { type Dataset, datasetSize, subsetDataset } from './dataset.js';
import { type Seed, permutation, rngFor, shuffle } from '../core/random.js';
import * as tf from '@tensorflow/tfjs-core';
import { checkOptions } from '../core/checks.js';

/** Sizes of the parts: all counts (integers ≥ 0) or all fractions of n (in [0, 1], summing to ≤ 1). */
export interface SplitSizes {
  train: number;
  validation?: number;
  test?: number;
}

export interface SplitOptions {
  /** Keep class proportions in every part (needs `labels`). Default false. */
  stratify?: boolean;
}

export interface Splits {
  train: Dataset;
  validation?: Dataset;
  test?: Dataset;
  /** Row indices of the source data set in each part. */
  indices: { train: Int32Array; validation?: Int32Array; test?: Int32Array };
  dispose(): void;
}

const PARTS = ['train', 'validation', 'test'] as const;
type Part = (typeof PARTS)[number];

/**
 * Deterministic disjoint train / validation / test parts of `ds`: a permutation drawn from
 * `(seed, 'split', ds.name)`, cut in the order train, validation, test. New tensors; `ds` stays valid.
 *
 * @param ds the data set to split
 * @param sizes `train` and optional `validation`, `test`: all counts, or all fractions of n (summing to ≤ 1)
 * @param seed seed of the permutation
 * @param options `stratify`: keep class proportions in every part (needs `labels`)
 * @returns the parts as Datasets, their row `indices`, and `dispose()`
 * @example
 * const { train: tr, test } = splitDataset(gaussianClusters({ perClass: 50, classes: 2, dim: 4, seed: 0 }), { train: 0.8, test: 0.2 }, 1);
 */
export function splitDataset(ds: Dataset, sizes: SplitSizes, seed: Seed, options: SplitOptions = {}): Splits {
  if (!ds || typeof ds !== 'object' || !(ds.x instanceof tf.Tensor) || !(ds.y instanceof tf.Tensor)) throw new Error(`splitDataset: ds = ${ds === null || typeof ds !== 'object' ? String(ds) : 'an object without tensors x and y'}; expected a Dataset ({ x, y, name, ... })`);
  checkOptions('splitDataset', 'sizes', sizes);
  const n = datasetSize(ds);
  const counts = resolveCounts(ds.name, n, sizes);
  const indices = options.stratify ? stratifiedIndices(ds, counts, seed) : plainIndices(ds, n, counts, seed);
  const parts: Partial<Record<Part, Dataset>> = {};
  for (const p of PARTS) {
    const idx = indices[p];
    if (idx) parts[p] = subsetDataset(ds, idx, `${ds.name}/${p}`);
  }
  return {
    train: parts.train!,
    validation: parts.validation,
    test: parts.test,
    indices: indices as Splits['indices'],
    dispose() {
      for (const p of PARTS) parts[p]?.dispose();
    },
  };
}

function resolveCounts(name: string, n: number, sizes: SplitSizes): Partial<Record<Part, number>> {
  const given = PARTS.filter((p) => sizes[p] !== undefined);
  for (const p of given) {
    const v = sizes[p]!;
    if (!(Number.isFinite(v) && v >= 0)) throw new Error(`splitDataset(${name}): ${p} = ${v}; expected a count ≥ 0 or a fraction in [0, 1]`);
  }
  const values = given.map((p) => sizes[p]!);
  const fractional = values.some((v) => !Number.isInteger(v));
  if (fractional && values.some((v) => v > 1)) {
    throw new Error(`splitDataset(${name}): sizes ${JSON.stringify(sizes)} mix fractions and counts; give all counts or all fractions`);
  }
  const counts: Partial<Record<Part, number>> = {};
  if (fractional) {
    const sum = values.reduce((a, b) => a + b, 0);
    if (sum > 1 + 1e-12) throw new Error(`splitDataset(${name}): fractions ${JSON.stringify(sizes)} sum to ${sum} > 1`);
    for (const p of given) counts[p] = Math.floor(sizes[p]! * n + 1e-9);
  } else {
    for (const p of given) counts[p] = sizes[p]!;
  }
  const total = given.reduce((a, p) => a + counts[p]!, 0);
  if (total > n) {
    throw new Error(`splitDataset(${name}): ${given.map((p) => `${p} ${counts[p]}`).join(' + ')} = ${total} exceeds the ${n} examples`);
  }
  return counts;
}

function plainIndices(ds: Dataset, n: number, counts: Partial<Record<Part, number>>, seed: Seed) {
  const perm = permutation(rngFor(seed, 'split', ds.name), n);
  const out: Partial<Record<Part, Int32Array>> = {};
  let at = 0;
  for (const p of PARTS) {
    const k = counts[p];
    if (k === undefined) continue;
    out[p] = perm.slice(at, at + k);
    at += k;
  }
  return out;
}

/** Largest-remainder allocation of each part's count over classes, then a seeded shuffle per part. */
function stratifiedIndices(ds: Dataset, counts: Partial<Record<Part, number>>, seed: Seed) {
  if (!ds.labels) throw new Error(`splitDataset(${ds.name}): stratify needs class labels, and this data set has none`);
  const byClass = new Map<number, number[]>();
  ds.labels.forEach((l, i) => {
    if (!byClass.has(l)) byClass.set(l, []);
    byClass.get(l)!.push(i);
  });
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const n = ds.labels.length;
  const pools = new Map(classes.map((c) => [c, Array.from(shuffle(rngFor(seed, 'split', ds.name, 'class', c), Int32Array.from(byClass.get(c)!)))]));
  const out: Partial<Record<Part, Int32Array>> = {};
  for (const p of PARTS) {
    const k = counts[p];
    if (k === undefined) continue;
    const quota = allocate(k, classes.map((c) => byClass.get(c)!.length / n), classes.map((c) => pools.get(c)!.length));
    if (quota.reduce((a, b) => a + b, 0) < k) {
      throw new Error(`splitDataset(${ds.name}): cannot stratify ${p} = ${k}; too few examples left in some classes`);
    }
    const rows: number[] = [];
    classes.forEach((c, j) => rows.push(...pools.get(c)!.splice(0, quota[j])));
    out[p] = shuffle(rngFor(seed, 'split', ds.name, 'order', p), Int32Array.from(rows));
  }
  return out;
}

function allocate(k: number, shares: number[], available: number[]): number[] {
  const exact = shares.map((s) => s * k);
  const q = exact.map((e, j) => Math.min(Math.floor(e), available[j]));
  let left = k - q.reduce((a, b) => a + b, 0);
  const order = exact.map((e, j) => [e - Math.floor(e), j] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  while (left > 0) {
    let moved = false;
    for (const [, j] of order) {
      if (left === 0) break;
      if (q[j] < available[j]) {
        q[j]++;
        left--;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return q;
}
