import { type Dataset, type TargetCoding, encodeTargets, makeDataset } from './dataset.js';
import { type PixelScale, scalePixels, standardizeInPlace } from './preprocess.js';
import { type Seed, rngFor, sampleIndices, shuffle } from '../core/random.js';
import { checkInt, checkOneOf } from '../core/checks.js';

/** Options shared by the image loaders. */
export interface ImageOptions {
  /** Original class ids to keep, in this order (label k ↔ classes[k]). */
  classes?: number[];
  /** Examples per class, drawn without replacement with the seed; all when omitted. */
  perClass?: number;
  seed?: Seed;
  /** 'unit' (default) maps bytes to [0, 1]; 'raw' keeps 0..255. */
  scale?: PixelScale;
  /** Per-feature standardization with this subset's own statistics (default false). */
  standardize?: boolean;
  /** 'signed' (±1, [n, 1]) is the default for two classes, 'onehot' otherwise. */
  targets?: TargetCoding;
}

export interface ImagePool {
  /** n images of d bytes each, already in the output layout. */
  bytes: Uint8Array;
  /** Original class id of each image. */
  classIds: Uint8Array;
  d: number;
}

export function validateClasses(fn: string, classes: number[], numClasses: number): void {
  if (!Array.isArray(classes) || classes.length < 1) throw new Error(`${fn}: classes = ${JSON.stringify(classes)}; expected a non-empty array of class ids`);
  classes.forEach((c) => {
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) throw new Error(`${fn}: class ${JSON.stringify(c)} is not a class id; expected integers 0..${numClasses - 1}`);
  });
  if (new Set(classes).size !== classes.length) throw new Error(`${fn}: classes ${JSON.stringify(classes)} contain duplicates`);
}

/**
 * Picks `perClass` examples of each class from candidate lists (seeded, without replacement), then a
 * seeded shuffle of the result so that rows are not grouped by class. Returns candidate positions.
 */
export function selectPerClass(fn: string, candidates: number[][], classes: number[], perClass: number | undefined, seed: Seed | undefined, stream: string, classNames?: readonly string[]): Int32Array {
  if (perClass !== undefined) {
    checkInt(fn, 'perClass', perClass, 1);
    if (seed === undefined) throw new Error(`${fn}: perClass = ${perClass} needs a seed to pick the examples`);
  }
  const chosen: number[] = [];
  classes.forEach((c, k) => {
    const pool = candidates[k];
    if (perClass === undefined) {
      chosen.push(...pool);
      return;
    }
    if (perClass > pool.length) {
      const nm = classNames ? ` (${classNames[c]})` : '';
      throw new Error(`${fn}: perClass = ${perClass} but only ${pool.length} examples of class ${c}${nm} are available`);
    }
    for (const i of sampleIndices(rngFor(seed!, fn, stream, 'class', c), pool.length, perClass)) chosen.push(pool[i]);
  });
  const out = Int32Array.from(chosen);
  return seed === undefined ? out : shuffle(rngFor(seed, fn, stream, 'order'), out);
}

/** Converts selected byte images to a Dataset with relabelled classes 0..C−1. */
export function imageDataset(pool: ImagePool, classes: number[], options: ImageOptions, info: { name: string; description: string; meta: Record<string, unknown> }): Dataset {
  const { scale = 'unit', standardize = false } = options;
  const targets = options.targets ?? (classes.length === 2 ? 'signed' : 'onehot');
  checkOneOf(info.name, 'targets', targets, ['onehot', 'signed']);
  const n = pool.classIds.length;
  const remap = new Map(classes.map((c, k) => [c, k]));
  const labels = Int32Array.from(pool.classIds, (c) => remap.get(c)!);
  const x = scalePixels(pool.bytes, scale);
  if (standardize) standardizeInPlace(x, n, pool.d);
  const { y, c } = encodeTargets(labels, classes.length, targets);
  return makeDataset({
    x,
    y,
    labels,
    n,
    d: pool.d,
    c,
    name: info.name,
    description: info.description,
    meta: { ...info.meta, classes, scale, standardize, targets },
  });
}
