import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
// The gradients of the core ops are registered by the tfjs union package.
import '@tensorflow/tfjs';
import { initBackend } from '../lib/core/backend.js';
import { useNativeWasm } from './native-support.js';
import { nativeAddonPath, nativeBlasInfo, pinnedCoreType, setNativeMatMul } from '../lib/core/openblas.js';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pv } from '../lib/core/params.js';
import { descentStep } from '../lib/core/descent-step.js';
import { scaleTensor } from '../lib/core/scale.js';
import { scaledDenseProduct, scaledDenseProductSum, scaledProductIsNative } from '../lib/core/scaled-product.js';
import { gram, grams } from '../lib/core/matmul.js';
import { applyActivation, tanh } from '../lib/core/activations.js';
import { assertClose } from './helpers.js';
import { root } from './kernel-support.js';

/** Why the addon is absent (the set-up could not build it), or undefined when it is there. */
function addonMissing(): string | undefined {
  if (existsSync(nativeAddonPath())) return undefined;
  const status = join(root, 'native', 'build', 'status.json');
  return existsSync(status) ? (JSON.parse(readFileSync(status, 'utf8')) as { reason?: string }).reason : 'never built';
}
const missing = addonMissing();

let seed = 1;
function rand(shape: number[]): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed++);
}

/** f(native) and f(plain wasm) as flat arrays, with the native path restored afterwards. */
function both(f: () => tf.Tensor | tf.Tensor[]): { native: Float32Array[]; plain: Float32Array[] } {
  const run = (on: boolean) => {
    setNativeMatMul(on);
    return tf.tidy(() => [f()].flat().map((t) => t.dataSync() as Float32Array));
  };
  const native = run(true);
  const plain = run(false);
  setNativeMatMul(true);
  return { native, plain };
}

/**
 * Values and gradients (of sum(matMul(a, b) * w) in a and b) of one product on both kernels; entries of a, b
 * lie in [-1, 1], so errors are compared with 1e-5 (about k float32 roundings) in absolute terms below 1.
 * Gradients are skipped for broadcast batches: tfjs-core 4.22's BatchMatMul gradient does not sum over them.
 */
function compare(aShape: number[], bShape: number[], ta: boolean, tb: boolean, what: string, withGrads = true): void {
  const a = rand(aShape);
  const b = rand(bShape);
  const probe = tf.tidy(() => tf.matMul(a, b, ta, tb));
  const w = rand(probe.shape);
  probe.dispose();
  const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, ta, tb), w)));
  const r = both(() => [tf.matMul(a, b, ta, tb), ...(withGrads ? grads([a, b]) : [])]);
  ['value', 'd/da', 'd/db'].slice(0, r.plain.length).forEach((name, i) => assertClose(r.native[i], r.plain[i], 1e-5, `${what} ${name}`, 1));
  tf.dispose([a, b, w]);
}

describe('native OpenBLAS BatchMatMul on the wasm backend', { skip: missing && `native addon not built: ${missing}` }, () => {
  before(useNativeWasm);

  test('reports the OpenBLAS build and its threads', () => {
    const info = nativeBlasInfo();
    assert.match(info.config, /OpenBLAS/);
    assert.ok(info.threads >= 1);
    assert.match(info.core, /^\w+$/);
  });

  test('the kernel family is pinned (Haswell on x86-64 with AVX2) so that products do not depend on the CPU model', () => {
    // A product of 4 Mi multiply-adds on fixed inputs, summarised by a hash of its float32 bits, in a fresh process.
    const src = `import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from ${JSON.stringify(new URL('../lib/core/backend.js', import.meta.url).href)};
const info = await initBackend();
const a = tf.tensor2d(Float32Array.from({ length: 256 * 256 }, (_, i) => Math.sin(i) ), [256, 256]);
const c = tf.matMul(a, tf.transpose(tf.matMul(a, a)));
let h = 0; for (const u of new Uint32Array(c.dataSync().buffer)) h = (Math.imul(h, 31) + u) >>> 0;
process.stdout.write(JSON.stringify({ core: info.blasCore, hash: h }));`;
    const child = (env: Record<string, string | undefined>) => {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', src], { env: { ...process.env, TANGENT_BACKEND: 'wasm+openblas', OPENBLAS_CORETYPE: undefined, TANGENT_BLAS_CORETYPE: undefined, TANGENT_BLAS_THREADS: '1', ...env }, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { core: string; hash: number };
    };
    const pinned = child({});
    const expected = pinnedCoreType({});
    if (expected) assert.equal(pinned.core, expected);
    assert.deepEqual(child({ OPENBLAS_CORETYPE: pinned.core }), pinned, 'the same kernels give the same bits');
    const own = child({ TANGENT_BLAS_CORETYPE: 'native' });
    if (own.core === pinned.core) assert.equal(own.hash, pinned.hash);
  });

  test('matches a float64 product', () => {
    const [m, k, n] = [5, 7, 3];
    const a = rand([m, k]);
    const b = rand([k, n]);
    const [av, bv] = [a.dataSync(), b.dataSync()];
    const want = Array.from({ length: m * n }, (_, ij) => {
      let s = 0;
      for (let p = 0; p < k; p++) s += av[Math.floor(ij / n) * k + p] * bv[p * n + (ij % n)];
      return s;
    });
    const got = tf.tidy(() => tf.matMul(a, b).dataSync());
    assertClose(got, want, 1e-6, 'a b');
    tf.dispose([a, b]);
  });

  // m = 1 or n = 1 run as sgemv; 200 x 150 x 160 is above the multi-thread threshold.
  const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [17, 1, 9], [1, 33, 1], [1, 7, 5], [6, 7, 1], [64, 31, 2], [129, 65, 33], [200, 150, 160]];
  for (const [m, k, n] of shapes) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        test(`values and gradients: ${m}x${k} by ${k}x${n}, transposeA ${ta}, transposeB ${tb}`, () => {
          compare(ta ? [k, m] : [m, k], tb ? [n, k] : [k, n], ta, tb, `[${m},${k},${n}] tA=${ta} tB=${tb}`);
        });
      }
    }
  }

  const batched: [number[], number[], boolean, boolean][] = [
    [[2, 3, 4, 5], [2, 3, 5, 6], false, false],
    [[2, 3, 5, 4], [2, 3, 6, 5], true, true],
    [[3, 4, 5], [3, 6, 5], false, true],
    [[3, 5, 4], [3, 5, 6], true, false],
    [[3, 1, 4], [3, 6, 4], false, true],
    [[3, 4, 5], [3, 4, 1], true, false],
  ];
  for (const [aShape, bShape, ta, tb] of batched) {
    test(`batch dims: [${aShape}] by [${bShape}], transposeA ${ta}, transposeB ${tb}, values and gradients`, () => {
      compare(aShape, bShape, ta, tb, `[${aShape}] x [${bShape}]`);
    });
  }
  const broadcast: [number[], number[], boolean, boolean][] = [
    [[4, 7, 5], [5, 3], false, false],
    [[7, 5], [4, 3, 5], false, true],
    [[1, 7, 5], [4, 5, 3], false, false],
    [[4, 5, 7], [1, 5, 3], true, false],
  ];
  for (const [aShape, bShape, ta, tb] of broadcast) {
    test(`one matrix over a batch: [${aShape}] by [${bShape}], transposeA ${ta}, transposeB ${tb}`, () => {
      compare(aShape, bShape, ta, tb, `[${aShape}] x [${bShape}]`, false);
    });
  }

  test('a broadcast it does not cover ([2,1,..] by [1,3,..]) runs the wasm kernel', () => {
    const a = rand([2, 1, 3, 4]);
    const b = rand([1, 3, 4, 2]);
    const r = both(() => tf.matMul(a, b));
    assert.deepEqual(Array.from(r.native[0]), Array.from(r.plain[0]));
    tf.dispose([a, b]);
  });

  test('empty products: k = 0 gives zeros, m = 0 an empty result', () => {
    const z = tf.tidy(() => tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 4])));
    assert.deepEqual(z.shape, [3, 4]);
    assert.ok(Array.from(z.dataSync()).every((v) => v === 0));
    const e = tf.tidy(() => tf.matMul(tf.zeros([0, 5]), tf.ones([5, 4]), false, false));
    assert.deepEqual(e.shape, [0, 4]);
    tf.dispose([z, e]);
  });

  test('the same tensor on both sides (a Gram matrix x x^T)', () => {
    const x = rand([6, 9]);
    const r = both(() => tf.matMul(x, x, false, true));
    assertClose(r.native[0], r.plain[0], 1e-5, 'x x^T', 1);
    x.dispose();
  });

  // Grams of one tensor run as ssyrk (1 x 1 ones, squared norms, as sgemv): odd sizes across the 64-row tiles of the mirrored triangle, and one above
  // the multi-thread threshold; a leading batch dimension of 1; values against plain wasm, exactly symmetric.
  for (const [rows, cols] of [[1, 1], [3, 5], [65, 7], [130, 129], [300, 200]] as const) {
    for (const ta of [false, true]) {
      test(`a Gram matrix of one tensor (ssyrk): [${rows}, ${cols}], ${ta ? 'x^T x' : 'x x^T'}, and its gradient`, () => {
        const x = rand([rows, cols]);
        const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.matMul(v, v, ta, !ta))));
        const r = both(() => [tf.matMul(x, x, ta, !ta), grad(x)]);
        assertClose(r.native[0], r.plain[0], 1e-5, `gram ${ta ? 'x^T x' : 'x x^T'}`, 1);
        assertClose(r.native[1], r.plain[1], 1e-4, 'gradient', 1);
        const N = ta ? cols : rows;
        const G = r.native[0];
        for (let i = 0; i < N; i++) for (let j = 0; j < i; j++) assert.equal(G[i * N + j], G[j * N + i], `G[${i},${j}] = G[${j},${i}]`);
        // Against the float64 Gram of the same entries.
        const xv = x.dataSync();
        const K = ta ? rows : cols;
        const at = (i: number, p: number) => (ta ? xv[p * cols + i] : xv[i * cols + p]);
        const want = Array.from({ length: N * N }, (_, ij) => {
          let sum = 0;
          for (let p = 0; p < K; p++) sum += at(Math.floor(ij / N), p) * at(ij % N, p);
          return sum;
        });
        assertClose(G, want, 1e-5, 'gram vs float64', 1);
        x.dispose();
      });
    }
  }

  test('a Gram matrix with a batch dimension of 1, and k = 0', () => {
    const x = rand([1, 9, 4]);
    const r = both(() => tf.matMul(x, x, false, true));
    assertClose(r.native[0], r.plain[0], 1e-5, 'batched gram', 1);
    const z = tf.tidy(() => {
      const e = tf.zeros([3, 0]);
      return tf.matMul(e, e, false, true);
    });
    assert.deepEqual(Array.from(z.dataSync()), new Array(9).fill(0));
    tf.dispose([x, z]);
  });

  test('the addon names the function and the bad argument', () => {
    const lib = createRequire(import.meta.url)(nativeAddonPath()) as { ssyrk: (...a: unknown[]) => void; sgemm: (...a: unknown[]) => void };
    const heap = new ArrayBuffer(16);
    assert.throws(() => lib.ssyrk(heap, 0, 0, 1), /^TypeError: ssyrk: expected 6 arguments \(heap, aOffset, cOffset, n, k, transA\)$/);
    assert.throws(() => lib.ssyrk(7, 0, 0, 1, 1, false), /ssyrk: heap is not an ArrayBuffer/);
    assert.throws(() => lib.ssyrk(heap, -4, 0, 1, 1, false), /ssyrk: aOffset is not a non-negative integer/);
    assert.throws(() => lib.ssyrk(heap, 0, 0, 1, 1, 'yes'), /ssyrk: transpose flag is not a boolean or number/);
    assert.throws(() => lib.ssyrk(heap, 0, 0, 4, 4, false), /ssyrk: operands end at bytes 64, 64; expected at most the heap size 16/);
    assert.throws(() => lib.ssyrk(heap, 2, 0, 1, 1, false), /ssyrk: offsets are not 4-byte aligned/);
    assert.throws(() => lib.sgemm(heap, 0, 0, 0, 1, 1, 1, 1, false, false, 1.5, 0), /sgemm: strideA is not a non-negative integer/);
  });

  // One call for many Grams: the small ones (which OpenBLAS runs on one thread) side by side on two threads. The same
  // bits as one gram() each, whatever the thread count: sizes about the side-by-side bound (191), one above it that
  // OpenBLAS threads itself, k = 0, 784 and 1024 as in the tangent kernel of the bench, repeated (two threads at once).
  test('grams: every Gram the same bits as gram() one by one, on one and on two threads', () => {
    const rows = [128, 128, 191, 192, 2, 64, 300, 128, 5, 128];
    const cols = [784, 1024, 33, 40, 7, 1024, 20, 0, 1, 1024];
    const xs = rows.map((r, i) => rand([r, cols[i]]) as tf.Tensor2D);
    const lib = createRequire(import.meta.url)(nativeAddonPath()) as { threads(): number; setThreads(n: number): void };
    const threads = lib.threads();
    try {
      for (const t of [1, 2]) {
        lib.setThreads(t);
        const want = xs.map((x) => tf.tidy(() => gram(x).dataSync()));
        for (let rep = 0; rep < 20; rep++) {
          const got = grams(xs);
          got.forEach((g, i) => {
            assert.deepEqual(g.shape, [rows[i], rows[i]]);
            assert.deepEqual(new Uint32Array(g.dataSync().buffer), new Uint32Array(want[i].buffer), `${t} thread(s), repeat ${rep}: Gram ${i} [${rows[i]}, ${cols[i]}]`);
          });
          tf.dispose(got);
        }
      }
    } finally {
      lib.setThreads(threads);
    }
    // Against the float64 Gram of the same entries (the small side-by-side one at the bound, and a bench-sized one).
    for (const i of [2, 1]) {
      const g = grams([xs[i]]);
      const [r, k] = [rows[i], cols[i]];
      const v = xs[i].dataSync();
      const want = Array.from({ length: r * r }, (_, ij) => {
        let sum = 0;
        for (let p = 0; p < k; p++) sum += v[Math.floor(ij / r) * k + p] * v[(ij % r) * k + p];
        return sum;
      });
      assertClose(g[0].dataSync(), want, 1e-5, `Gram ${i} vs float64`, 1);
      tf.dispose(g);
    }
    const before = tf.memory().numTensors;
    tf.dispose(grams(xs));
    assert.equal(tf.memory().numTensors, before);
    // Off the native path: gram() each (the same values up to rounding).
    setNativeMatMul(false);
    try {
      const plain = grams(xs.slice(0, 2));
      plain.forEach((g, i) => assert.deepEqual(Array.from(g.dataSync()), Array.from(tf.tidy(() => gram(xs[i]).dataSync())), `plain Gram ${i}`));
      tf.dispose(plain);
    } finally {
      setNativeMatMul(true);
    }
    tf.dispose(xs);
  });

  // k = 1 (an outer product) runs as the addon's own loop rather than OpenBLAS's sgemm (2x faster at 128 x 4096): the
  // same values as OpenBLAS gives, on special values too, but for the sign of a zero and NaN payloads.
  test('outer products (k = 1): the values OpenBLAS gives, every transpose pair and factor', () => {
    const lib = createRequire(import.meta.url)(nativeAddonPath()) as { sgemmScaled: (...a: unknown[]) => void; setOuterProduct(on: boolean): void };
    const special = [0, -0, 1, -1, Infinity, -Infinity, NaN, 1e-45, -1e-45, 1e-38, -3e-39, 3.4e38, -3.4e38, 2 ** -75, -(2 ** -75), 0.1];
    const heap = new ArrayBuffer(1 << 20);
    const f = new Float32Array(heap);
    const A = 0, B = 4096, C1 = 8192, C2 = C1 + 4 * 128 * 200;
    try {
      for (const [m, n] of [[2, 2], [17, 33], [128, 200]]) {
        for (let i = 0; i < m; i++) f[A / 4 + i] = i < special.length ? special[i] : Math.sin(7.1 * i) * 10 ** ((i % 9) - 4);
        for (let j = 0; j < n; j++) f[B / 4 + j] = special[(j + 3) % special.length] * (j < special.length ? 1 : Math.cos(j));
        for (const alpha of [1, 1 / 64, -3, 1e-30]) {
          for (const [ta, tb] of [[false, false], [true, true], [false, true], [true, false]]) {
            lib.setOuterProduct(false);
            lib.sgemmScaled(heap, A, B, C1, 1, m, n, 1, ta, tb, 0, 0, alpha);
            lib.setOuterProduct(true);
            lib.sgemmScaled(heap, A, B, C2, 1, m, n, 1, ta, tb, 0, 0, alpha);
            for (let i = 0; i < m * n; i++) {
              const [want, got] = [f[C1 / 4 + i], f[C2 / 4 + i]];
              assert.ok(Object.is(want, got) || (want === 0 && got === 0) || (Number.isNaN(want) && Number.isNaN(got)), `[${m}, ${n}] alpha ${alpha} tA ${ta} tB ${tb} entry ${i}: ${got}; OpenBLAS ${want}`);
              // And against the float64 product alpha a_r b_c, rounded twice in float32, where operands and result are normal
              // floats (with subnormals in play float32 departs from float64 by more; there the first check holds).
              const [ar, bc] = [f[A / 4 + Math.floor(i / n)], f[B / 4 + (i % n)]];
              const exact = Math.fround(alpha) * ar * bc;
              const normal = (x: number) => Number.isFinite(x) && Math.abs(x) >= 2 ** -126 && Math.abs(x) < 3e38;
              if (normal(ar) && normal(bc) && normal(ar * bc) && normal(exact)) assert.ok(Math.abs(got - exact) <= 2.5e-7 * Math.abs(exact), `entry ${i}: ${got}; float64 ${exact}`);
            }
          }
        }
      }
    } finally {
      lib.setOuterProduct(true);
    }
  });

  // The addon's sigmoid reproduces the wasm kernel's arithmetic (XNNPACK's wasmsimd kernel): the same bits on all 2^32
  // inputs (scripts/check-sigmoid.mjs all, in environment.md); here on every 4099th bit pattern and dense windows
  // around the special values, through tf.sigmoid with the native path on and off, and through tanh's sigmoid(2 z).
  test('the native Sigmoid kernel has the wasm kernel\'s bits (1.5 M inputs), tanh too', () => {
    const f2u = (f: number) => new Uint32Array(Float32Array.of(f).buffer)[0];
    const near = (b: number) => Array.from({ length: 1 << 15 }, (_, i) => (b - (1 << 14) + i) >>> 0);
    const patterns = Uint32Array.from([
      ...[0, 1, -1, 87.33654, -87.33654, 3.4e38, -3.4e38, Infinity, -Infinity, 1e-38, -1e-38, 0.5, -20, 44, -44].map(f2u).flatMap(near),
      ...Array.from({ length: Math.ceil(2 ** 32 / 4099) }, (_, i) => (i * 4099 + 17) >>> 0),
    ]);
    const x = tf.tensor1d(new Float32Array(patterns.buffer));
    const run = (native: boolean, f: (t: tf.Tensor) => tf.Tensor) => {
      setNativeMatMul(native);
      const y = f(x);
      const out = new Uint32Array(y.dataSync().buffer.slice(0));
      y.dispose();
      return out;
    };
    try {
      for (const [name, f] of [['sigmoid', tf.sigmoid], ['tanh as 2 sigmoid(2 z) - 1', (t: tf.Tensor) => tf.tidy(() => applyActivation(tanh, [t])[0] as tf.Tensor)]] as const) {
        const want = run(false, f);
        const got = run(true, f);
        const bad = got.findIndex((v, i) => v !== want[i]);
        assert.equal(bad, -1, `${name} of bit pattern 0x${patterns[bad]?.toString(16)}: 0x${got[bad]?.toString(16)} native, 0x${want[bad]?.toString(16)} wasm`);
      }
    } finally {
      setNativeMatMul(true);
      x.dispose();
    }
    const lib = createRequire(import.meta.url)(nativeAddonPath()) as { sigmoid: (...a: unknown[]) => void };
    assert.throws(() => lib.sigmoid(new ArrayBuffer(16), 4, 0, 0, 3), /^RangeError: sigmoid: factor = 3; expected 1 \(sigmoid\) or 2/);
    assert.throws(() => lib.sigmoid(new ArrayBuffer(16), 8, 0, 0, 1), /sigmoid: xOffset operand ends at byte 32; expected at most the heap size 16/);
  });

  test('gramsBatch names the bad argument', () => {
    const lib = createRequire(import.meta.url)(nativeAddonPath()) as { gramsBatch: (...a: unknown[]) => void };
    const heap = new ArrayBuffer(64);
    assert.throws(() => lib.gramsBatch(heap), /^TypeError: gramsBatch: expected 2 arguments \(heap: ArrayBuffer, descriptors: Float64Array\)$/);
    assert.throws(() => lib.gramsBatch(heap, new Float64Array(4)), /gramsBatch: descriptors is not a Float64Array of count x 5 numbers/);
    assert.throws(() => lib.gramsBatch(heap, [0, 0, 1, 1, 0]), /gramsBatch: descriptors is not a Float64Array/);
    assert.throws(() => lib.gramsBatch(heap, Float64Array.of(0, 16, 2, 2, 0, -4, 0, 1, 1, 0)), /gramsBatch: descriptor 1: aOffset = -4; expected a non-negative integer/);
    assert.throws(() => lib.gramsBatch(heap, Float64Array.of(0, 0, 5, 1, 0)), /gramsBatch: operands end at bytes 20, 100; expected at most the heap size 64/);
    assert.throws(() => lib.gramsBatch(heap, Float64Array.of(2, 0, 1, 1, 0)), /gramsBatch: offsets are not 4-byte aligned/);
  });

  test('an output whose allocation grows the wasm heap', () => {
    // 4096 x 4096 outer product = 64 MiB: the heap is grown by makeOutput, inside the kernel.
    const u = rand([4096, 1]);
    const v = rand([1, 4096]);
    const uv = u.dataSync();
    const vv = v.dataSync();
    const c = tf.matMul(u, v);
    const data = c.dataSync();
    for (const [i, j] of [[0, 0], [4095, 4095], [17, 4000], [4000, 17]]) {
      assert.ok(Math.abs(data[i * 4096 + j] - uv[i] * vv[j]) <= 1e-6, `c[${i},${j}] = ${data[i * 4096 + j]}; expected ${uv[i] * vv[j]}`);
    }
    tf.dispose([u, v, c]);
  });

  test('no tensor leaks', () => {
    const a = rand([8, 4]);
    const b = rand([8, 3]);
    const before = tf.memory().numTensors;
    for (const [ta, tb] of [[false, false], [true, false]] as const) {
      tf.tidy(() => {
        tf.matMul(ta ? a : tf.transpose(a), b, ta, tb);
        tf.grads((x: tf.Tensor) => tf.sum(tf.matMul(x, b, ta, tb)))([ta ? a : tf.transpose(a)]);
      });
    }
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([a, b]);
  });

  test('errors name the bad shapes', () => {
    const a = rand([3, 4]);
    const b = rand([5, 2]);
    assert.throws(() => tf.matMul(a, b), /inner/);
    tf.dispose([a, b]);
  });
});

describe('pv.dot on the BLAS path', () => {
  before(async () => {
    await initBackend();
  });
  test('Σ a∘b over parameter tensors equals the float64 sum, with and without the native matrix product, leaking nothing', { skip: missing }, () => {
    const a = { w: rand([300, 700]), b: rand([700]), s: rand([1]) };
    const b = { w: rand([300, 700]), b: rand([700]), s: rand([1]) };
    let exact = 0;
    for (const k of Object.keys(a) as (keyof typeof a)[]) {
      const x = a[k].dataSync();
      const y = b[k].dataSync();
      for (let i = 0; i < x.length; i++) exact += x[i] * y[i];
    }
    const before = tf.memory().numTensors;
    const native = pv.dot(a, b);
    setNativeMatMul(false);
    const plain = pv.dot(a, b);
    setNativeMatMul(true);
    assert.equal(tf.memory().numTensors, before);
    // Entries uniform in [-1, 1]: Σ|a b| ≈ N/4 over N = 2.1e5 terms; float32 accumulation errs ~1e-6 relative to it.
    const scale = 2.1e5 / 4;
    assert.ok(Math.abs(native - exact) < 1e-5 * scale, `native ${native} vs float64 ${exact}`);
    assert.ok(Math.abs(plain - exact) < 1e-5 * scale, `plain ${plain} vs float64 ${exact}`);
    tf.dispose([...Object.values(a), ...Object.values(b)]);
  });
});

describe('pv.dot64: float64 accumulation on the native path', { skip: missing && `native addon not built: ${missing}` }, () => {
  before(useNativeWasm);
  test('equals the float64 sum of the float32 products to 1e-12, is pv.dot without the native path, leaking nothing', () => {
    const a = { w: rand([300, 700]), b: rand([700]), s: rand([1]), e: tf.zeros([0]) };
    const b = { w: rand([300, 700]), b: rand([700]), s: rand([1]), e: tf.zeros([0]) };
    let exact = 0;
    let abs = 0;
    for (const k of Object.keys(a) as (keyof typeof a)[]) {
      const x = a[k].dataSync();
      const y = b[k].dataSync();
      for (let i = 0; i < x.length; i++) {
        exact += x[i] * y[i];
        abs += Math.abs(x[i] * y[i]);
      }
    }
    const before = tf.memory().numTensors;
    const native = pv.dot64(a, b);
    // Names absent from one side count as zero.
    assert.equal(pv.dot64({ w: a.w }, b), pv.dot64({ w: a.w }, { w: b.w }));
    setNativeMatMul(false);
    const plain = pv.dot64(a, b);
    const plainDot = pv.dot(a, b);
    setNativeMatMul(true);
    assert.equal(tf.memory().numTensors, before);
    assert.ok(Math.abs(native - exact) <= 1e-12 * abs, `native ${native} vs float64 ${exact}`);
    assert.equal(plain, plainDot);
    tf.dispose([...Object.values(a), ...Object.values(b)]);
  });
  test('the addon names the function and the bad argument', () => {
    const lib = createRequire(import.meta.url)(nativeAddonPath()) as { dotF64: (...a: unknown[]) => number };
    const heap = new ArrayBuffer(16);
    new Float32Array(heap).set([1, 2, 3, 4]);
    assert.equal(lib.dotF64(heap, 0, 8, 2), 1 * 3 + 2 * 4);
    assert.equal(lib.dotF64(heap, 0, 0, 0), 0);
    assert.throws(() => lib.dotF64(heap, 0, 0), /^TypeError: dotF64: expected 4 arguments \(heap, xOffset, yOffset, n\)$/);
    assert.throws(() => lib.dotF64(heap, 0, 2, 1), /dotF64: offsets are not 4-byte aligned/);
    assert.throws(() => lib.dotF64(heap, 0, 8, 3), /dotF64: vectors of 3 floats at bytes 0 and 8; expected them inside the heap of 16 bytes/);
  });
  test('dot64Pair is [dot64(a, b), dot64(b, b)] bit for bit; pv.add(a, b, β) is tf.add(a, tf.mul(b, β)) bit for bit', () => {
    const a = { w: rand([300, 701]), b: rand([17]) };
    const b = { w: rand([300, 701]), b: rand([17]), extra: rand([5]) };
    const [ab, bb] = pv.dot64Pair(a, b);
    assert.equal(ab, pv.dot64(a, b));
    assert.equal(bb, pv.dot64(b, b));
    const lib = createRequire(import.meta.url)(nativeAddonPath()) as { dotPairF64: (...a: unknown[]) => number[] };
    const heap = new ArrayBuffer(16);
    new Float32Array(heap).set([1, 2, 3, 4]);
    assert.deepEqual(lib.dotPairF64(heap, 0, 8, 2), [1 * 3 + 2 * 4, 3 * 3 + 4 * 4]);
    assert.throws(() => lib.dotPairF64(heap, 0, 8, 3), /dotPairF64: vectors of 3 floats at bytes 0 and 8; expected them inside the heap of 16 bytes/);
    for (const beta of [1, -0.5, 1 / 3, 1e-40]) {
      const before = tf.memory().numTensors;
      const got = pv.add(a, b, beta);
      const want = tf.tidy(() => pv.map(a, (t, k) => tf.add(t, beta === 1 ? b[k as 'w'] : tf.mul(b[k as 'w'], beta))));
      assert.equal(tf.memory().numTensors, before + 4);
      for (const k of Object.keys(a)) assert.deepEqual(Array.from(got[k].dataSync()), Array.from(want[k].dataSync()), `β = ${beta}, ${k}`);
      pv.dispose(got);
      pv.dispose(want);
    }
    pv.dispose(a);
    pv.dispose(b);
  });
  test('tensors of different sizes are a clear error', () => {
    const a = rand([3]);
    const b = rand([4]);
    assert.throws(() => pv.dot64({ a }, { a: b }), /nativeDot: sizes 3 and 4 differ; expected tensors of one size/);
    tf.dispose([a, b]);
  });
});

describe('scaledDenseProduct: the 1/√fan-in factor inside the native product', { skip: missing && `native addon not built: ${missing}` }, () => {
  before(useNativeWasm);
  /** alpha op(a) op(b) in float64 from the float32 entries. */
  function oracle(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean, alpha: number): number[] {
    const [av, bv] = [a.dataSync(), b.dataSync()];
    const [r, c] = a.shape as [number, number];
    const [m, k] = ta ? [c, r] : [r, c];
    const n = (tb ? b.shape[0] : b.shape[1]) as number;
    const A = (i: number, p: number) => (ta ? av[p * m + i] : av[i * k + p]);
    const B = (p: number, j: number) => (tb ? bv[j * k + p] : bv[p * n + j]);
    return Array.from({ length: m * n }, (_, ij) => {
      let s = 0;
      for (let p = 0; p < k; p++) s += A(Math.floor(ij / n), p) * B(p, ij % n);
      return Math.fround(alpha) * s;
    });
  }
  test('scale a Wᵀ and its gradients match the float64 product and the unfused ops, on sgemv and sgemm shapes', () => {
    assert.ok(scaledProductIsNative());
    for (const [n, inDim, out] of [[1, 100, 64], [5, 7, 1], [1, 1, 1], [33, 65, 17], [200, 160, 150]] as [number, number, number][]) {
      const a = rand([n, inDim]);
      const w = rand([out, inDim]);
      const u = rand([n, out]);
      const scale = 1 / Math.sqrt(inDim);
      const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(scaledDenseProduct(x, y, scale), u));
      const before = tf.memory().numTensors;
      const r = both(() => [scaledDenseProduct(a, w, scale), ...tf.grads(f)([a, w])]);
      assert.equal(tf.memory().numTensors, before);
      assertClose(r.native[0], oracle(a, w, false, true, scale), 1e-5, `[${n},${inDim},${out}] value`, 1);
      // d/da = scale u W, d/dW = scale uᵀ a.
      assertClose(r.native[1], oracle(u, w, false, false, scale), 1e-5, 'd/da', 1);
      assertClose(r.native[2], oracle(u, a, true, false, scale), 1e-5, 'd/dW', 1);
      r.native.forEach((v, i) => assertClose(v, r.plain[i], 1e-5, `native vs plain ${i}`, 1));
      tf.dispose([a, w, u]);
    }
  });
  test('scaledDenseProductSum: scale Σ a_i W_iᵀ and its gradients against float64 and the unfused ops, leaking nothing', () => {
    for (const [n, out, ks] of [[1, 64, [100, 100]], [5, 1, [7, 3, 9]], [33, 17, [65, 1, 2, 40]]] as [number, number, number[]][]) {
      const terms = ks.map((k) => [rand([n, k]), rand([out, k])] as [tf.Tensor, tf.Tensor]);
      const u = rand([n, out]);
      const flat = terms.flat();
      const f = (...xs: tf.Tensor[]) => tf.sum(tf.mul(scaledDenseProductSum(ks.map((_, i) => [xs[2 * i], xs[2 * i + 1]]), 0.3), u));
      const before = tf.memory().numTensors;
      const r = both(() => [scaledDenseProductSum(terms, 0.3), ...tf.grads(f)(flat)]);
      assert.equal(tf.memory().numTensors, before);
      const want = new Array<number>(n * out).fill(0);
      for (const [a, w] of terms) oracle(a, w, false, true, 0.3).forEach((v, i) => (want[i] += v));
      assertClose(r.native[0], want, 1e-5, `[${n}, ${out}, ${ks}] value`, 1);
      terms.forEach(([a, w], i) => {
        assertClose(r.native[1 + 2 * i], oracle(u, w, false, false, 0.3), 1e-5, `d/da${i}`, 1);
        assertClose(r.native[2 + 2 * i], oracle(u, a, true, false, 0.3), 1e-5, `d/dW${i}`, 1);
      });
      r.native.forEach((v, i) => assertClose(v, r.plain[i], 1e-5, `native vs plain ${i}`, 1));
      tf.dispose([...flat, u]);
    }
    assert.throws(() => scaledDenseProductSum([], 1), /scaledDenseProductSum: terms = \[\]; expected at least one \(a, W\) pair/);
  });
  test('the kernel with every transpose pair, values and gradients', () => {
    const probe = scaledDenseProduct(rand([2, 3]), rand([4, 3]), 0.5);
    probe.dispose();
    const run = (x: tf.Tensor, y: tf.Tensor, ta: boolean, tb: boolean) => tf.engine().runKernel('TangentScaledMatMul', { a: x, b: y }, { transposeA: ta, transposeB: tb, alpha: -0.3 }) as tf.Tensor;
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const [m, k, n]: [number, number, number] = [6, 5, 4];
        const a = rand(ta ? [k, m] : [m, k]);
        const b = rand(tb ? [n, k] : [k, n]);
        const u = rand([m, n]);
        const got = run(a, b, ta, tb);
        assertClose(got.dataSync(), oracle(a, b, ta, tb, -0.3), 1e-5, `tA=${ta} tB=${tb}`, 1);
        const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(run(x, y, ta, tb), u)))([a, b]);
        const want = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.mul(tf.matMul(x, y, ta, tb), -0.3), u)))([a, b]);
        assertClose(g[0].dataSync(), want[0].dataSync(), 1e-5, `tA=${ta} tB=${tb} d/da`, 1);
        assertClose(g[1].dataSync(), want[1].dataSync(), 1e-5, `tA=${ta} tB=${tb} d/db`, 1);
        tf.dispose([a, b, u, got, ...g, ...want]);
      }
    }
  });
  test('bad shapes, a bad factor and the addon\'s bad alpha are named', () => {
    const a = rand([2, 3]);
    assert.throws(() => scaledDenseProduct(a, rand([4, 2]), 1), /scaledDenseProduct: a \[2,3\] and W \[4,2\]; expected a \[n, in\] and W \[out, in\] with one 'in'/);
    assert.throws(() => scaledDenseProduct(a, a, Number.POSITIVE_INFINITY), /scaledDenseProduct: scale = Infinity; expected a finite number/);
    const lib = createRequire(import.meta.url)(nativeAddonPath()) as { sgemmScaled: (...a: unknown[]) => void };
    const heap = new ArrayBuffer(64);
    assert.throws(() => lib.sgemmScaled(heap, 0, 16, 32, 1, 1, 1, 1, false, false, 0, 0), /^TypeError: sgemmScaled: expected 13 arguments/);
    assert.throws(() => lib.sgemmScaled(heap, 0, 16, 32, 1, 1, 1, 1, false, false, 0, 0, 'x'), /sgemmScaled: alpha is not a number/);
    assert.throws(() => lib.sgemmScaled(heap, 0, 16, 60, 1, 1, 2, 1, false, false, 0, 0, 1), /sgemmScaled: operands end at bytes 4, 24, 68; expected at most the heap size 64/);
    a.dispose();
  });
});

describe('descentStep: p - lr d in one pass on the native path', { skip: missing && `native addon not built: ${missing}` }, () => {
  before(useNativeWasm);
  test('the same bits as tf.sub(p, tf.mul(d, lr)) with and without the native path, odd sizes, leaking nothing', () => {
    const special = [Number.NaN, 0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-45, -1e-45, 3.4e38, -3.4e38];
    const grid = (i: number) => tf.tensor1d(special.flatMap((a) => special.map((b) => (i === 0 ? a : b))));
    for (const shape of [[1], [7], [33, 17], [2, 3, 5], [0], [special.length ** 2]]) {
      const isGrid = shape[0] === special.length ** 2;
      const p = isGrid ? grid(0) : rand(shape);
      const d = isGrid ? grid(1) : rand(shape);
      for (const lr of [0.01, 1 / 3, 7.123456789, -2.5, 1e-30, 0, 1e-45, 3e38]) {
        const want = tf.tidy(() => tf.sub(p, tf.mul(d, lr)));
        const before = tf.memory().numTensors;
        const got = descentStep(p, d, lr);
        setNativeMatMul(false);
        const plain = descentStep(p, d, lr);
        setNativeMatMul(true);
        assert.equal(tf.memory().numTensors, before + 2);
        assert.deepEqual(got.shape, shape);
        assert.deepEqual(Array.from(got.dataSync()), Array.from(want.dataSync()), `shape [${shape}], lr ${lr}`);
        assert.deepEqual(Array.from(plain.dataSync()), Array.from(want.dataSync()));
        tf.dispose([want, got, plain]);
      }
      tf.dispose([p, d]);
    }
  });
  test('scaleTensor: the same bits as tf.mul(x, s) with and without the native path, and its gradient', () => {
    const x = tf.concat([tf.tensor1d([Number.NaN, 0, -0, Number.POSITIVE_INFINITY, 1e-45, 3.4e38]), rand([1001])]);
    for (const sc of [0.5, 1 / 3, -7.1, 0, 1e30, 1e-40, Number.NaN, Number.POSITIVE_INFINITY]) {
      const want = tf.mul(x, sc);
      const got = scaleTensor(x, sc);
      setNativeMatMul(false);
      const plain = scaleTensor(x, sc);
      setNativeMatMul(true);
      assert.deepEqual(Array.from(got.dataSync()), Array.from(want.dataSync()), `s = ${sc}`);
      assert.deepEqual(Array.from(plain.dataSync()), Array.from(want.dataSync()));
      tf.dispose([want, got, plain]);
    }
    const g = tf.grad((a: tf.Tensor) => tf.sum(scaleTensor(a, -0.25)))(x);
    assert.deepEqual(Array.from(g.dataSync()), new Array(x.size).fill(-0.25));
    tf.dispose([x, g]);
  });
  test('its gradient is that of the two ops', () => {
    const p = rand([4, 3]);
    const d = rand([4, 3]);
    const u = rand([4, 3]);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(descentStep(a, b, 0.25), u)))([p, d]);
    assertClose(g[0].dataSync(), u.dataSync(), 0, 'd/dp');
    assertClose(g[1].dataSync(), tf.mul(u, -0.25).dataSync(), 1e-7, 'd/dd');
    tf.dispose([p, d, u, ...g]);
  });
  test('a bad step size, and the addon\'s bad arguments, are named', () => {
    const p = rand([3]);
    assert.throws(() => descentStep(p, p, Number.NaN), /descentStep: lr = NaN; expected a finite number/);
    const lib = createRequire(import.meta.url)(nativeAddonPath()) as { descentStep: (...a: unknown[]) => void };
    const heap = new ArrayBuffer(32);
    const f = new Float32Array(heap);
    f.set([1, 2, 3, 4]);
    lib.descentStep(heap, 2, 0, 8, 16, 0.5);
    assert.deepEqual(Array.from(f.subarray(4, 6)), [1 - 3 * 0.5, 2 - 4 * 0.5]);
    assert.throws(() => lib.descentStep(heap, 2, 0, 8, 16), /^TypeError: descentStep: expected 6 arguments \(heap, size, pOffset, dOffset, outOffset, lr\)$/);
    assert.throws(() => lib.descentStep(heap, 2, 0, 8, 16, 'x'), /descentStep: lr is not a number/);
    assert.throws(() => lib.descentStep(heap, 1, 0, 6, 16, 1), /descentStep: dOffset = 6 is not 4-byte aligned/);
    assert.throws(() => lib.descentStep(heap, 4, 0, 8, 24, 1), /descentStep: outOffset operand ends at byte 40; expected at most the heap size 32/);
    // Sizes whose byte extents would wrap 64 bits are range errors, not out-of-heap writes.
    assert.throws(() => lib.descentStep(heap, 2 ** 62, 0, 8, 16, 1), /descentStep: size is not a non-negative integer below 2\^53/);
    assert.throws(() => lib.descentStep(heap, 2 ** 52, 0, 8, 16, 1), /descentStep: pOffset operand ends at byte 18014398509481984; expected at most the heap size 32/);
    const addon = lib as unknown as Record<string, (...a: unknown[]) => void>;
    assert.throws(() => addon.reluGrad(heap, 2 ** 52, 0, 8, 16), /reluGrad: xOffset operand ends at byte 18014398509481984; expected at most the heap size 32/);
    assert.throws(() => addon.sgemm(heap, 0, 16, 32, 1, 2 ** 31, 2 ** 31, 2 ** 31, false, false, 0, 0), /sgemm: m, n, k = 2147483648, 2147483648, 2147483648; expected each below 2\^31/);
    assert.throws(() => addon.sgemm(heap, 0, 16, 32, 2 ** 40, 2 ** 30, 2 ** 30, 2 ** 30, false, false, 2 ** 50, 0), /sgemm: operands end at bytes 18446744073709551615/);
    p.dispose();
  });
});

describe('pinnedCoreType', () => {
  const avx2 = () => new Set(['sse2', 'avx', 'avx2', 'fma']);
  test('Haswell kernels on x86-64 with AVX2 and FMA, OpenBLAS\'s own choice otherwise or when asked', () => {
    assert.equal(pinnedCoreType({}, avx2), 'Haswell');
    assert.equal(pinnedCoreType({}, () => new Set(['sse2', 'avx'])), undefined);
    assert.equal(pinnedCoreType({}, () => undefined), undefined);
    assert.equal(pinnedCoreType({ OPENBLAS_CORETYPE: 'Zen' }, avx2), undefined);
    assert.equal(pinnedCoreType({ TANGENT_BLAS_CORETYPE: 'native' }, avx2), undefined);
    assert.equal(pinnedCoreType({ TANGENT_BLAS_CORETYPE: 'SkylakeX' }, avx2), 'SkylakeX');
  });
  test('conflicting or malformed settings are clear errors', () => {
    assert.throws(() => pinnedCoreType({ TANGENT_BLAS_CORETYPE: 'native', OPENBLAS_CORETYPE: 'Zen' }, avx2), /TANGENT_BLAS_CORETYPE = 'native' and OPENBLAS_CORETYPE = 'Zen' are both set; expected one/);
    assert.throws(() => pinnedCoreType({ TANGENT_BLAS_CORETYPE: 'Has well' }, avx2), /TANGENT_BLAS_CORETYPE = 'Has well'; expected 'native' or an OpenBLAS core name/);
  });
});
