/**
 * Seeded, deterministic pseudo-random numbers in pure JavaScript (no tfjs), bit-identical across
 * backends, platforms and runs.
 *
 * Generator: xoshiro128** 1.0 (Blackman & Vigna), 128-bit state in four uint32 words, seeded through
 * SplitMix32 so that nearby seeds give unrelated streams. Floats are built from 53 random bits.
 * Normals use the Marsaglia polar method in float64 (only `Math.log` and `Math.sqrt`, which V8 computes
 * with its fdlibm port, so results do not depend on the C library).
 */

/** A seed: a non-negative safe integer or any string (hashed). */
export type Seed = number | string;

export interface RngState {
  s: [number, number, number, number];
  /** Second normal of the last polar pair, if not yet used. */
  spare: number | null;
}

export interface Rng {
  /** Next raw 32-bit output as an unsigned integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform float64 in [0, 1) with 53 random bits. */
  uniform(): number;
  /** Uniform float64 in [lo, hi). */
  uniformIn(lo: number, hi: number): number;
  /** Normal N(mean, std^2) in float64. */
  normal(mean?: number, std?: number): number;
  /** Uniform integer in [lo, hi) (unbiased; hi − lo ≤ 2^32). */
  int(lo: number, hi: number): number;
  /** true with probability p. */
  bernoulli(p: number): boolean;
  /** Fills `out` with N(mean, std^2) draws; same values as repeated `normal(mean, std)` calls. */
  fillNormal<T extends Float32Array | Float64Array>(out: T, std?: number, mean?: number): T;
  /** Snapshot of the state; `rngFromState` continues the stream exactly. */
  state(): RngState;
}

const TWO32 = 4294967296;
const TWO53 = 9007199254740992;

function checkSeed(seed: Seed, what = 'seed'): void {
  if (typeof seed === 'string') return;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`${what} = ${String(seed)} is not a valid seed; expected a non-negative safe integer or a string`);
  }
}

function splitmix32(x: number): [number, number] {
  const next = (x + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

/**
 * 53-bit hash of a list of parts (cyrb53-style: two 32-bit multiply–xorshift lanes). Each part is
 * length-prefixed so that ('ab','c') and ('a','bc') differ.
 */
function hash53(parts: readonly string[]): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  const feed = (c: number): void => {
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  };
  for (const part of parts) {
    feed(part.length & 0xffff);
    feed(part.length >>> 16);
    for (let i = 0; i < part.length; i++) feed(part.charCodeAt(i));
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 2097152 * (h2 >>> 0) + (h1 >>> 11);
}

function seedPart(x: Seed | boolean): string {
  if (typeof x === 'number') return `n:${Object.is(x, -0) ? 0 : x}`;
  if (typeof x === 'boolean') return `b:${x}`;
  return `s:${x}`;
}

/**
 * A seed for an independent stream named by `labels` under `seed`, e.g.
 * `deriveSeed(7, 'init', 'layer', 2)`. Stable across versions and platforms.
 */
export function deriveSeed(seed: Seed, ...labels: (string | number | boolean)[]): number {
  checkSeed(seed);
  for (const l of labels) {
    if (typeof l === 'number' && !Number.isFinite(l)) throw new Error(`deriveSeed label ${l} is not finite`);
  }
  return hash53([seedPart(seed), ...labels.map(seedPart)]);
}

function stateFromSeed(seed: Seed): [number, number, number, number] {
  checkSeed(seed);
  const n = typeof seed === 'string' ? hash53([seedPart(seed)]) : seed;
  let x = (n % TWO32) | 0;
  const hi = Math.floor(n / TWO32) | 0;
  const s: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [next, out] = splitmix32(x ^ Math.imul(hi, 0x27d4eb2d + 2 * i));
    x = next;
    s.push(out | 0);
  }
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  return [s[0], s[1], s[2], s[3]];
}

/** A new generator for `seed`. Same seed, same stream. */
export function createRng(seed: Seed): Rng {
  return rngFromState({ s: stateFromSeed(seed), spare: null });
}

/** Shorthand for `createRng(deriveSeed(seed, ...labels))`. */
export function rngFor(seed: Seed, ...labels: (string | number | boolean)[]): Rng {
  return createRng(deriveSeed(seed, ...labels));
}

/** Continues a stream from a snapshot taken by `rng.state()`. */
export function rngFromState(state: RngState): Rng {
  let [s0, s1, s2, s3] = state.s.map((v) => v | 0);
  if ((s0 | s1 | s2 | s3) === 0) throw new Error('rng state is all zeros, which xoshiro128** cannot leave');
  let spare: number | null = state.spare;

  // xoshiro128** 1.0
  const nextUint32 = (): number => {
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return r >>> 0;
  };
  const uniform = (): number => ((nextUint32() >>> 5) * 67108864 + (nextUint32() >>> 6)) / TWO53;
  const standardNormal = (): number => {
    if (spare !== null) {
      const z = spare;
      spare = null;
      return z;
    }
    let u: number, v: number, q: number;
    do {
      u = 2 * uniform() - 1;
      v = 2 * uniform() - 1;
      q = u * u + v * v;
    } while (q >= 1 || q === 0);
    const f = Math.sqrt((-2 * Math.log(q)) / q);
    spare = v * f;
    return u * f;
  };
  return {
    nextUint32,
    uniform,
    uniformIn: (lo, hi) => lo + (hi - lo) * uniform(),
    normal: (mean = 0, std = 1) => mean + std * standardNormal(),
    int: (lo, hi) => {
      if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || hi <= lo || hi - lo > TWO32) {
        throw new Error(`rng.int(${lo}, ${hi}): expected integers lo < hi with hi − lo ≤ 2^32`);
      }
      const range = hi - lo;
      const limit = TWO32 - (TWO32 % range);
      let x: number;
      do x = nextUint32();
      while (x >= limit);
      return lo + (x % range);
    },
    bernoulli: (p) => uniform() < p,
    // The generator and polar method inlined: ~4x faster than calling normal() per entry.
    fillNormal: (out, std = 1, mean = 0) => {
      const n = out.length;
      let i = 0;
      if (spare !== null && n > 0) {
        out[i++] = mean + std * spare;
        spare = null;
      }
      let a0 = s0, a1 = s1, a2 = s2, a3 = s3;
      while (i < n) {
        let u: number, v: number, q: number;
        do {
          let r = Math.imul(rotl(Math.imul(a1, 5), 7), 9);
          let t = a1 << 9;
          a2 ^= a0; a3 ^= a1; a1 ^= a2; a0 ^= a3; a2 ^= t; a3 = (a3 << 11) | (a3 >>> 21);
          const hiU = r >>> 5;
          r = Math.imul(rotl(Math.imul(a1, 5), 7), 9);
          t = a1 << 9;
          a2 ^= a0; a3 ^= a1; a1 ^= a2; a0 ^= a3; a2 ^= t; a3 = (a3 << 11) | (a3 >>> 21);
          u = (2 * (hiU * 67108864 + (r >>> 6))) / TWO53 - 1;
          r = Math.imul(rotl(Math.imul(a1, 5), 7), 9);
          t = a1 << 9;
          a2 ^= a0; a3 ^= a1; a1 ^= a2; a0 ^= a3; a2 ^= t; a3 = (a3 << 11) | (a3 >>> 21);
          const hiV = r >>> 5;
          r = Math.imul(rotl(Math.imul(a1, 5), 7), 9);
          t = a1 << 9;
          a2 ^= a0; a3 ^= a1; a1 ^= a2; a0 ^= a3; a2 ^= t; a3 = (a3 << 11) | (a3 >>> 21);
          v = (2 * (hiV * 67108864 + (r >>> 6))) / TWO53 - 1;
          q = u * u + v * v;
        } while (q >= 1 || q === 0);
        const f = Math.sqrt((-2 * Math.log(q)) / q);
        out[i++] = mean + std * (u * f);
        if (i < n) out[i++] = mean + std * (v * f);
        else spare = v * f;
      }
      s0 = a0; s1 = a1; s2 = a2; s3 = a3;
      return out;
    },
    state: () => ({ s: [s0, s1, s2, s3], spare }),
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

type FloatArray = Float32Array | Float64Array;

/** Fills `out` with N(mean, std^2) draws (float64 draws rounded to the array's type). Returns `out`. */
export function fillNormal<T extends FloatArray>(rng: Rng, out: T, std = 1, mean = 0): T {
  if (!(std >= 0) || !Number.isFinite(std)) throw new Error(`fillNormal: std = ${std}; expected a finite number ≥ 0`);
  if (!Number.isFinite(mean)) throw new Error(`fillNormal: mean = ${mean}; expected a finite number`);
  return rng.fillNormal(out, std, mean);
}

/** Fills `out` with uniform draws in [lo, hi). Returns `out`. */
export function fillUniform<T extends FloatArray>(rng: Rng, out: T, lo = 0, hi = 1): T {
  for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * rng.uniform();
  return out;
}

/** `n` draws from N(mean, std^2) as a Float32Array. */
export function normals(rng: Rng, n: number, std = 1, mean = 0): Float32Array {
  checkCount(n, 'normals: n');
  return fillNormal(rng, new Float32Array(n), std, mean);
}

/** `n` draws from N(mean, std^2) as a Float64Array. */
export function normals64(rng: Rng, n: number, std = 1, mean = 0): Float64Array {
  checkCount(n, 'normals64: n');
  return fillNormal(rng, new Float64Array(n), std, mean);
}

/** Uniform random signs ±1. */
export function rademacher(rng: Rng, n: number): Float32Array {
  checkCount(n, 'rademacher: n');
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform() < 0.5 ? -1 : 1;
  return out;
}

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${what} = ${n}; expected a non-negative integer`);
}

/** In-place Fisher–Yates shuffle. Returns `a`. */
export function shuffle<T extends { length: number; [i: number]: any }>(rng: Rng, a: T): T {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(0, i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/** A uniformly random permutation of 0..n−1. */
export function permutation(rng: Rng, n: number): Int32Array {
  checkCount(n, 'permutation: n');
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return shuffle(rng, p);
}

/**
 * `k` indices from 0..n−1: without replacement (default; a uniformly random ordered k-subset, by
 * partial Fisher–Yates) or with replacement (i.i.d. uniform).
 */
export function sampleIndices(rng: Rng, n: number, k: number, options: { replace?: boolean } = {}): Int32Array {
  checkCount(n, 'sampleIndices: n');
  checkCount(k, 'sampleIndices: k');
  const out = new Int32Array(k);
  if (options.replace) {
    if (k > 0 && n === 0) throw new Error('sampleIndices: cannot draw from an empty population');
    for (let i = 0; i < k; i++) out[i] = rng.int(0, n);
    return out;
  }
  if (k > n) throw new Error(`sampleIndices: k = ${k} exceeds population n = ${n} for sampling without replacement`);
  const pool = new Int32Array(n);
  for (let i = 0; i < n; i++) pool[i] = i;
  for (let i = 0; i < k; i++) {
    const j = rng.int(i, n);
    out[i] = pool[j];
    pool[j] = pool[i];
  }
  return out;
}

/** `k` elements of `items`, with or without replacement. */
export function sample<T>(rng: Rng, items: readonly T[], k: number, options: { replace?: boolean } = {}): T[] {
  return Array.from(sampleIndices(rng, items.length, k, options), (i) => items[i]);
}

/** An index drawn with probability proportional to `weights` (non-negative, positive sum). */
export function weightedIndex(rng: Rng, weights: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (!(w >= 0) || !Number.isFinite(w)) throw new Error(`weightedIndex: weights[${i}] = ${w}; expected finite ≥ 0`);
    total += w;
  }
  if (!(total > 0)) throw new Error('weightedIndex: weights sum to 0');
  let u = rng.uniform() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
  return weights.length - 1;
}
