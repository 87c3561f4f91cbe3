import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Dataset } from './dataset.js';
import { type ImageOptions, imageDataset, selectPerClass, validateClasses } from './image-dataset.js';
import { chwToHwc } from './preprocess.js';
import { dataDir } from '../core/env.js';
import { checkOneOf } from '../core/checks.js';

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] as const;
/** Official binary format: 1 label byte, then 1024 red, 1024 green, 1024 blue bytes (rows of 32). */
export const CIFAR10_RECORD_BYTES = 3073;
export const CIFAR10_IMAGE_BYTES = 3072;
export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'] as const;
export const CIFAR10_TEST_FILES = ['test_batch.bin'] as const;
export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
/** SHA-256 / MD5 / size of cifar-10-binary.tar.gz (MD5 as published on the dataset page). */
export const CIFAR10_ARCHIVE = {
  sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd',
  md5: 'c32a1d4ab5d03f1284b67883e8d87530',
  bytes: 170052171,
} as const;

/** CIFAR-2 as in 003 Ch.3 (airplane, bird; T:L3099) and 004 App. B. */
export const CIFAR2_CH3 = [0, 2];
/** CIFAR-2 as in 003 Ch.4 (horse, truck; T:L3439). */
export const CIFAR2_CH4 = [7, 9];

export type Cifar10Split = 'train' | 'test' | 'all';
export type ImageLayout = 'chw' | 'hwc';

/** The CIFAR-10 directory: `dir` if given, else $TANGENT_CIFAR10_DIR, else `<project>/data/cifar-10-batches-bin`. */
export function cifar10Dir(dir?: string, env: NodeJS.ProcessEnv = process.env): string {
  return dir ?? (env.TANGENT_CIFAR10_DIR?.trim() || join(dataDir(), 'cifar-10-batches-bin'));
}

export function cifar10SplitFiles(split: Cifar10Split): string[] {
  checkOneOf('cifar10', 'split', split, ['train', 'test', 'all']);
  return split === 'train' ? [...CIFAR10_TRAIN_FILES] : split === 'test' ? [...CIFAR10_TEST_FILES] : [...CIFAR10_TRAIN_FILES, ...CIFAR10_TEST_FILES];
}

/** Files of `split` missing from `dir` (empty when all present). */
export function missingCifar10Files(dir: string, split: Cifar10Split = 'all'): string[] {
  return cifar10SplitFiles(split).filter((f) => !existsSync(join(dir, f)));
}

export function cifar10Available(dir?: string, split: Cifar10Split = 'all'): boolean {
  return missingCifar10Files(cifar10Dir(dir), split).length === 0;
}

export function cifar10MissingMessage(dir: string, missing: string[]): string {
  return [
    `CIFAR-10 binary files not found: ${missing.join(', ')} missing in ${dir}.`,
    `Download the binary version ${CIFAR10_URL} (162 MB, sha256 ${CIFAR10_ARCHIVE.sha256}, md5 ${CIFAR10_ARCHIVE.md5}),`,
    `extract it and put data_batch_1.bin … data_batch_5.bin and test_batch.bin in ${dir}`,
    `(or pass { dir } / set TANGENT_CIFAR10_DIR; with network access, downloadCifar10({ allowNetwork: true }) does this and checks the checksum).`,
  ].join('\n');
}

export interface Cifar10Options extends ImageOptions {
  /** Directory with the .bin files (see cifar10Dir). */
  dir?: string;
  /** 'train' (5 data batches, default), 'test' (test_batch) or 'all'. */
  split?: Cifar10Split;
  /** Explicit file names inside `dir`, instead of the split's standard files. */
  files?: string[];
  /** 'chw' (default; the file order: red plane, green plane, blue plane) or 'hwc' (pixels with RGB interleaved). */
  layout?: ImageLayout;
}

/** Reads the label byte of every record of a file, checking the format. */
function readLabels(path: string): Uint8Array {
  const bytes = statSync(path).size;
  if (bytes === 0 || bytes % CIFAR10_RECORD_BYTES !== 0) {
    throw new Error(`${path} is not in the CIFAR-10 binary format: its size ${bytes} is not a positive multiple of ${CIFAR10_RECORD_BYTES} bytes`);
  }
  const buf = readFileSync(path);
  const n = bytes / CIFAR10_RECORD_BYTES;
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const l = buf[i * CIFAR10_RECORD_BYTES];
    if (l > 9) throw new Error(`${path}: record ${i} has label byte ${l}; CIFAR-10 labels are 0..9`);
    labels[i] = l;
  }
  return labels;
}

/**
 * CIFAR-10 from the official binary files, as flattened images: class subset, `perClass` examples
 * per class (seeded), scaled to [0, 1] (or raw bytes), optionally standardized per feature.
 * Labels are renumbered 0..C−1 in the order of `classes` (default all ten).
 */
export function loadCifar10(options: Cifar10Options = {}): Dataset {
  const fn = 'loadCifar10';
  const dir = cifar10Dir(options.dir);
  const split = options.split ?? 'train';
  const layout = options.layout ?? 'chw';
  checkOneOf(fn, 'layout', layout, ['chw', 'hwc']);
  const classes = options.classes ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  validateClasses(fn, classes, 10);
  const files = options.files ?? cifar10SplitFiles(split);
  const missing = files.filter((f) => !existsSync(join(dir, f)));
  if (missing.length) throw new Error(cifar10MissingMessage(dir, missing));

  const where = new Map(classes.map((c, k) => [c, k]));
  const candidates: number[][] = classes.map(() => []);
  const records: { file: number; record: number }[] = [];
  files.forEach((f, fi) => {
    readLabels(join(dir, f)).forEach((l, r) => {
      const k = where.get(l);
      if (k === undefined) return;
      candidates[k].push(records.length);
      records.push({ file: fi, record: r });
    });
  });
  const chosen = selectPerClass(fn, candidates, classes, options.perClass, options.seed, `${split}:${files.join(',')}`, CIFAR10_CLASSES);

  const n = chosen.length;
  const bytes = new Uint8Array(n * CIFAR10_IMAGE_BYTES);
  const classIds = new Uint8Array(n);
  const sourceIndex = new Int32Array(n);
  const rec = Buffer.alloc(CIFAR10_RECORD_BYTES);
  const fds = files.map((f) => openSync(join(dir, f), 'r'));
  try {
    chosen.forEach((ci, i) => {
      const { file, record } = records[ci];
      const got = readSync(fds[file], rec, 0, CIFAR10_RECORD_BYTES, record * CIFAR10_RECORD_BYTES);
      if (got !== CIFAR10_RECORD_BYTES) throw new Error(`${join(dir, files[file])}: short read at record ${record}`);
      classIds[i] = rec[0];
      sourceIndex[i] = ci;
      if (layout === 'chw') bytes.set(rec.subarray(1), i * CIFAR10_IMAGE_BYTES);
      else chwToHwc(rec, bytes, 32, 32, 3, 1, i * CIFAR10_IMAGE_BYTES);
    });
  } finally {
    fds.forEach((fd) => closeSync(fd));
  }
  const names = classes.map((c) => CIFAR10_CLASSES[c]);
  return imageDataset({ bytes, classIds, d: CIFAR10_IMAGE_BYTES }, classes, options, {
    name: classes.length === 10 ? 'cifar10' : `cifar10-${classes.join('-')}`,
    description: `CIFAR-10 ${split} (${files.length} file${files.length > 1 ? 's' : ''} in ${dir}), classes ${names.join('/')}, ${n} images, ${layout.toUpperCase()} 32×32×3 flattened`,
    meta: { source: 'cifar10', dir, split, files, classNames: names, perClass: options.perClass ?? null, seed: options.seed ?? null, layout, imageShape: layout === 'hwc' ? [32, 32, 3] : [3, 32, 32], sourceIndex },
  });
}
