import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../lib/core/params.js';
import type { P64 } from './oracle64.js';

export function toP64(p: Params): P64 {
  return Object.fromEntries(Object.entries(p).map(([k, t]) => [k, { shape: t.shape, data: Float64Array.from(t.dataSync()) }]));
}

/** max |a - b| <= rtol * max(|b|_inf, floor), with a message naming the quantity and the worst entry. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, what: string, floor = 1e-6): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  let scale = floor;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]);
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  assert.ok(worst <= rtol * scale, `${what}: max error ${worst.toExponential(2)} at ${at} (got ${actual[at]}, expected ${expected[at]}; scale ${scale.toExponential(2)}, rtol ${rtol})`);
}

export function seededMatrix(n: number, d: number, seed: number, scale = 1): number[][] {
  let s = seed * 9301 + 49297;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
  return Array.from({ length: n }, () => Array.from({ length: d }, () => r() * scale));
}

export function tensorOf(rows: number[][], shape?: number[]): tf.Tensor {
  return tf.tensor(rows.flat(), shape ?? [rows.length, rows[0].length], 'float32');
}
