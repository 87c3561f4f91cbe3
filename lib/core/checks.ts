import * as tf from '@tensorflow/tfjs-core';
import { readScalar } from './params.js';
/** Argument checks with messages naming the function, the parameter, the value and what was expected. */

export function checkInt(fn: string, name: string, value: unknown, min = 0): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new Error(`${fn}: ${name} = ${String(value)}; expected an integer ≥ ${min}`);
  }
}

export function checkPositive(fn: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${fn}: ${name} = ${String(value)}; expected a finite number > 0`);
  }
}

export function checkNonNegative(fn: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`${fn}: ${name} = ${String(value)}; expected a finite number ≥ 0`);
  }
}

/** An options object (not undefined, null, an array or a primitive). */
export function checkOptions(fn: string, name: string, value: unknown): asserts value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${fn}: ${name} = ${Array.isArray(value) ? 'an array' : String(value)}; expected an object of options`);
  }
}

export function checkOneOf<T extends string>(fn: string, name: string, value: unknown, allowed: readonly T[]): asserts value is T {
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw new Error(`${fn}: ${name} = ${JSON.stringify(value)}; expected one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
}

/** The first non-finite entry of a flat array, as an index into `shape`, or undefined. */
export function firstNonFinite(values: ArrayLike<number>, shape: readonly number[]): { at: string; value: number } | undefined {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      const idx: number[] = [];
      let r = i;
      for (let d = shape.length - 1; d >= 0; d--) {
        idx.unshift(r % shape[d]);
        r = Math.floor(r / shape[d]);
      }
      return { at: `[${idx.join(', ')}]`, value: values[i] };
    }
  }
  return undefined;
}

/** A tensor with at least one row (examples along axis 0). */
export function checkRows(fn: string, name: string, t: tf.Tensor): void {
  if (!(t instanceof tf.Tensor)) throw new Error(`${fn}: ${name} = ${Array.isArray(t) ? 'an array' : String(t)}; expected a tensor (tf.tensor2d(...))`);
  if (t.isDisposed) throw new Error(`${fn}: ${name} was disposed; expected a live tensor`);
  if (t.rank === 0 || t.shape[0] === 0) {
    throw new Error(`${fn}: ${name} has shape [${t.shape.join(', ')}]; expected at least one example (row)`);
  }
}

/** Tensors already found finite (tensors are immutable; variables are never cached). */
const knownFinite = new WeakSet<tf.Tensor>();
/** Above this many entries the test runs on the device and only a failure reads the tensor back. */
const DEVICE_CHECK_SIZE = 4096;

/** Every entry finite: names the first NaN or ±Infinity with its index (entry points only). */
export function checkFiniteTensor(fn: string, name: string, t: tf.Tensor): void {
  if (!t.isDisposed && knownFinite.has(t)) return;
  // Σ 0·t is exactly 0 when every entry is finite and NaN otherwise (no overflow, unlike Σ t).
  const finite = t.size > DEVICE_CHECK_SIZE && t.dtype === 'float32' ? readScalar(() => tf.sum(tf.mul(t, 0))) === 0 : undefined;
  if (finite !== true) {
    const bad = firstNonFinite(t.dataSync() as ArrayLike<number>, t.shape);
    if (bad) throw new Error(`${fn}: ${name}${bad.at} = ${bad.value}; expected finite values`);
  }
  if (!(t instanceof tf.Variable)) knownFinite.add(t);
}


/** Every parameter tensor finite. */
export function checkFiniteParams(fn: string, name: string, params: Record<string, tf.Tensor>): void {
  for (const [k, t] of Object.entries(params)) checkFiniteTensor(fn, `${name}.${k}`, t);
}

/** Data for an analysis entry point: non-empty inputs (and targets), all finite, finite parameters. */
export function checkData(fn: string, params: Record<string, tf.Tensor>, x: tf.Tensor, y?: tf.Tensor): void {
  checkRows(fn, 'x', x);
  checkFiniteTensor(fn, 'x', x);
  if (y !== undefined) {
    checkRows(fn, 'y', y);
    if (y.shape[0] !== x.shape[0]) throw new Error(`${fn}: y has ${y.shape[0]} rows; expected ${x.shape[0]}, the rows of x`);
    checkFiniteTensor(fn, 'y', y);
  }
  checkFiniteParams(fn, 'params', params);
}

/** A symmetric square matrix (row-major), to a relative tolerance of its largest entry. */
export function checkSymmetric(fn: string, name: string, a: ArrayLike<number>, n: number, rtol = 1e-4): void {
  if (a.length !== n * n) throw new Error(`${fn}: ${name} has ${a.length} entries; expected n*n = ${n * n}`);
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new Error(`${fn}: ${name}[${Math.floor(i / n)}, ${i % n}] = ${a[i]}; expected finite values`);
    scale = Math.max(scale, Math.abs(a[i]));
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const d = Math.abs(a[i * n + j] - a[j * n + i]);
      if (d > rtol * scale) {
        throw new Error(`${fn}: ${name}[${i}, ${j}] = ${a[i * n + j]} but ${name}[${j}, ${i}] = ${a[j * n + i]}; expected a symmetric matrix (relative tolerance ${rtol})`);
      }
    }
  }
}
