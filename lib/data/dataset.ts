import * as tf from '@tensorflow/tfjs-core';

/** Plain JSON-able description attached to a data set (generator parameters, source, preprocessing). */
export type DatasetMeta = Record<string, unknown>;

/**
 * A data set held as tensors. `x` is [n, d] inputs, `y` is [n, C] targets (one-hot for
 * classification, ±1 for binary "signed" coding, real values for regression). `labels` are class
 * indices 0..C−1 for classification. `yClean` is the noiseless target f*(x) of a noisy regression task.
 */
export interface Dataset {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  yClean?: tf.Tensor2D;
  labels?: Int32Array;
  name: string;
  description: string;
  meta: DatasetMeta;
  /** Disposes the tensors (idempotent). */
  dispose(): void;
}

export interface DatasetArrays {
  x: Float32Array | Float64Array;
  y: Float32Array | Float64Array;
  /** Number of examples. */
  n: number;
  /** Input dimension. */
  d: number;
  /** Target dimension. */
  c: number;
  yClean?: Float32Array | Float64Array;
  labels?: Int32Array;
  name: string;
  description: string;
  meta?: DatasetMeta;
}

/** Builds a Dataset from row-major host arrays (converted to float32 tensors). */
export function makeDataset(a: DatasetArrays): Dataset {
  const { n, d, c } = a;
  for (const [k, v] of [['n', n], ['d', d], ['c', c]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`makeDataset(${a.name}): ${k} = ${v}; expected an integer ≥ 0`);
  }
  checkLength(a.name, 'x', a.x.length, n * d);
  checkLength(a.name, 'y', a.y.length, n * c);
  if (a.yClean) checkLength(a.name, 'yClean', a.yClean.length, n * c);
  if (a.labels) checkLength(a.name, 'labels', a.labels.length, n);
  const x = tf.tensor2d(toF32(a.x), [n, d], 'float32');
  const y = tf.tensor2d(toF32(a.y), [n, c], 'float32');
  const yClean = a.yClean ? tf.tensor2d(toF32(a.yClean), [n, c], 'float32') : undefined;
  return fromTensors({ x, y, yClean, labels: a.labels, name: a.name, description: a.description, meta: a.meta ?? {} });
}

/** Wraps existing tensors (ownership passes to the Dataset). */
export function fromTensors(parts: Omit<Dataset, 'dispose'>): Dataset {
  const [n] = parts.x.shape;
  if (parts.y.shape[0] !== n) {
    throw new Error(`dataset ${parts.name}: x has ${n} rows but y has ${parts.y.shape[0]}`);
  }
  if (parts.yClean && parts.yClean.shape[0] !== n) {
    throw new Error(`dataset ${parts.name}: x has ${n} rows but yClean has ${parts.yClean.shape[0]}`);
  }
  if (parts.labels && parts.labels.length !== n) {
    throw new Error(`dataset ${parts.name}: x has ${n} rows but ${parts.labels.length} labels`);
  }
  let disposed = false;
  return {
    ...parts,
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose([parts.x, parts.y, ...(parts.yClean ? [parts.yClean] : [])]);
    },
  };
}

function checkLength(name: string, what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`makeDataset(${name}): ${what} has ${got} entries; expected ${want}`);
}

function toF32(a: Float32Array | Float64Array): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

/** Number of examples. */
export function datasetSize(ds: Dataset): number {
  return ds.x.shape[0];
}

/** One-hot rows for class indices 0..classes−1. */
export function oneHot(labels: Int32Array, classes: number): Float32Array {
  const out = new Float32Array(labels.length * classes);
  labels.forEach((l, i) => {
    if (!(l >= 0 && l < classes)) throw new Error(`oneHot: label ${l} at row ${i} is outside 0..${classes - 1}`);
    out[i * classes + l] = 1;
  });
  return out;
}

/** Target coding for classification data sets. */
export type TargetCoding = 'onehot' | 'signed';

/**
 * Targets for class indices: 'onehot' gives [n, C]; 'signed' (two classes only) gives [n, 1] with
 * class 0 → −1 and class 1 → +1.
 */
export function encodeTargets(labels: Int32Array, classes: number, coding: TargetCoding): { y: Float32Array; c: number } {
  if (coding === 'onehot') return { y: oneHot(labels, classes), c: classes };
  if (coding === 'signed') {
    if (classes !== 2) throw new Error(`targets: 'signed' needs exactly 2 classes, got ${classes}; use 'onehot'`);
    return { y: Float32Array.from(labels, (l) => (l === 1 ? 1 : -1)), c: 1 };
  }
  throw new Error(`targets: coding = '${String(coding)}'; expected 'onehot' or 'signed'`);
}

/** The rows `indices` of `ds` as a new Dataset (new tensors; `ds` is untouched). */
export function subsetDataset(ds: Dataset, indices: Int32Array | number[], name = ds.name): Dataset {
  const n = datasetSize(ds);
  const idx = Int32Array.from(indices);
  idx.forEach((i, k) => {
    if (!(i >= 0 && i < n)) throw new Error(`subsetDataset(${ds.name}): index ${i} at position ${k} is outside 0..${n - 1}`);
  });
  const ids = tf.tensor1d(idx, 'int32');
  try {
    return fromTensors({
      x: tf.gather(ds.x, ids) as tf.Tensor2D,
      y: tf.gather(ds.y, ids) as tf.Tensor2D,
      yClean: ds.yClean ? (tf.gather(ds.yClean, ids) as tf.Tensor2D) : undefined,
      labels: ds.labels ? Int32Array.from(idx, (i) => ds.labels![i]) : undefined,
      name,
      description: ds.description,
      meta: { ...ds.meta, parent: ds.name, rows: idx.length },
    });
  } finally {
    ids.dispose();
  }
}
