import * as tf from '@tensorflow/tfjs-core';
import { type Dataset, fromTensors } from './dataset.js';
import { checkOneOf } from '../core/checks.js';

/** Pixel scaling of byte images: 'unit' maps 0..255 to [0, 1], 'raw' keeps 0..255. */
export type PixelScale = 'unit' | 'raw';

/** Bytes (n×d) to float32 features. */
export function scalePixels(bytes: Uint8Array, scale: PixelScale = 'unit'): Float32Array {
  checkOneOf('scalePixels', 'scale', scale, ['unit', 'raw']);
  const out = new Float32Array(bytes.length);
  const k = scale === 'unit' ? 1 / 255 : 1;
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] * k;
  return out;
}

/** Per-feature mean and standard deviation (population, 1/n) of an n×d matrix. */
export interface FeatureStats {
  mean: Float64Array;
  std: Float64Array;
}

export function featureStats(x: ArrayLike<number>, n: number, d: number): FeatureStats {
  if (x.length !== n * d) throw new Error(`featureStats: ${x.length} values for n × d = ${n} × ${d}`);
  if (n < 1) throw new Error('featureStats: needs at least one row');
  const mean = new Float64Array(d);
  const m2 = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const c = x[i * d + j] - mean[j];
      m2[j] += c * c;
    }
  }
  return { mean, std: m2.map((v) => Math.sqrt(v / n)) };
}

/**
 * (x − mean)/std per feature, in place. Constant features (std = 0, e.g. MNIST borders) are only centred.
 * Pass the training set's stats to transform validation and test data the same way.
 */
export function standardizeInPlace(x: Float32Array | Float64Array, n: number, d: number, stats: FeatureStats = featureStats(x, n, d)): FeatureStats {
  if (stats.mean.length !== d) throw new Error(`standardize: stats are for ${stats.mean.length} features; data has ${d}`);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const s = stats.std[j];
      x[i * d + j] = (x[i * d + j] - stats.mean[j]) / (s > 0 ? s : 1);
    }
  }
  return stats;
}

/** A standardized copy of `ds` (stats from `ds` unless given) and the stats used. */
export function standardizeDataset(ds: Dataset, stats?: FeatureStats): { dataset: Dataset; stats: FeatureStats } {
  const [n, d] = ds.x.shape;
  const x = Float32Array.from(ds.x.dataSync());
  const used = standardizeInPlace(x, n, d, stats);
  const dataset = fromTensors({
    x: tf.tensor2d(x, [n, d], 'float32'),
    y: tf.clone(ds.y),
    yClean: ds.yClean ? tf.clone(ds.yClean) : undefined,
    labels: ds.labels?.slice(),
    name: ds.name,
    description: `${ds.description}; standardized per feature`,
    meta: { ...ds.meta, standardized: stats ? 'given stats' : 'own stats' },
  });
  return { dataset, stats: used };
}

/** CHW (channel planes, as in the CIFAR binary files) to HWC order for one image. */
export function chwToHwc(src: ArrayLike<number>, out: Float32Array | Uint8Array, h: number, w: number, c: number, srcOffset = 0, outOffset = 0): void {
  for (let ch = 0; ch < c; ch++) {
    for (let p = 0; p < h * w; p++) out[outOffset + p * c + ch] = src[srcOffset + ch * h * w + p];
  }
}

/** Number of examples in each class label. */
export function classCounts(ds: Dataset): Map<number, number> {
  const counts = new Map<number, number>();
  if (!ds.labels) throw new Error(`classCounts: ${ds.name} has no labels`);
  for (const l of ds.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return counts;
}
