// Sharpness λ_max(∇²_w L) (lossSharpness and the `sharpness` tracker) against the eigenvalues of the loss
// Hessian formed explicitly in float64: every entry H_ij = D²L[e_i, e_j] by polarization of second Taylor
// coefficients of a float64 forward pass (test/oracle64.ts), the spectrum by mathjs's `eigs` (independent of
// lib/core/linalg).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { eigs } from 'mathjs';
import { initBackend } from '../lib/core/backend.js';
import { criticalLearningRate } from '../lib/analysis/critical.js';
import { crossEntropy, type Loss, mse } from '../lib/analysis/losses.js';
import { lossSharpness } from '../lib/analysis/sharpness.js';
import { fcn } from '../lib/nets/fcn.js';
import { pv } from '../lib/core/params.js';
import { batchHessianTop, sharpness } from '../lib/train/trackers.js';
import { train } from '../lib/train/train.js';
import { fcn64, type Forward64 } from './nets64.js';
import { type P64, type Vec, axpy, softmax64, taylorFit, unit } from './oracle64.js';
import { assertClose, seededMatrix, tensorOf, toP64 } from './helpers.js';

const s = (k: number) => 1 / Math.sqrt(k);

before(async () => {
  await initBackend();
});

/** The float64 loss of a forward pass on rows (xs, ys), by the library's conventions (losses.ts). */
function loss64(name: string, f: Forward64, xs: Vec[], ys: Vec[]): (p: P64) => number {
  const n = xs.length;
  if (name === 'cross-entropy') return (p) => -xs.reduce((acc, x, i) => acc + ys[i].reduce((a, y, c) => a + y * Math.log(softmax64(f(p, x))[c]), 0), 0) / n;
  const sq = (p: P64) => xs.reduce((acc, x, i) => acc + f(p, x).reduce((a, v, c) => a + (v - ys[i][c]) ** 2, 0), 0);
  if (name === 'mse(mean)') return (p) => sq(p) / n;
  if (name === 'mse(halfSum)') return (p) => sq(p) / 2;
  throw new Error(`no oracle for ${name}`);
}

/** Eigenvalues (descending) of the dense float64 Hessian of `L` at p. */
function hessianEigenvalues64(L: (p: P64) => number, p: P64): number[] {
  const dirs: P64[] = [];
  for (const nm of Object.keys(p)) for (let i = 0; i < p[nm].data.length; i++) dirs.push(unit(p, nm, i));
  const N = dirs.length;
  const c2 = (d: P64) => taylorFit((t) => L(axpy(p, t, d)), 2)[2];
  const diag = dirs.map(c2);
  const H: number[][] = Array.from({ length: N }, () => new Array<number>(N).fill(0));
  for (let i = 0; i < N; i++) {
    H[i][i] = 2 * diag[i];
    for (let j = 0; j < i; j++) H[i][j] = H[j][i] = c2(axpy(dirs[i], 1, dirs[j])) - diag[i] - diag[j];
  }
  return (eigs(H).values as number[]).map(Number).sort((a, b) => b - a);
}

interface Case {
  name: string;
  widths: number[];
  bias: boolean;
  loss: Loss;
  ys: (n: number, C: number) => Vec[];
}

const oneHot = (n: number, C: number) => Array.from({ length: n }, (_, i) => Array.from({ length: C }, (_, c) => (c === i % C ? 1 : 0)));
const cases: Case[] = [
  { name: 'mse(mean), [2, 5, 1] tanh', widths: [2, 5, 1], bias: false, loss: mse('mean'), ys: (n) => seededMatrix(n, 1, 11) },
  { name: 'mse(halfSum), [3, 4, 2] tanh with biases', widths: [3, 4, 2], bias: true, loss: mse('halfSum'), ys: (n, C) => seededMatrix(n, C, 12) },
  { name: 'cross-entropy, [2, 4, 3] tanh', widths: [2, 4, 3], bias: false, loss: crossEntropy(), ys: oneHot },
  { name: 'cross-entropy, [2, 3, 3, 3] tanh with biases', widths: [2, 3, 3, 3], bias: true, loss: crossEntropy(), ys: oneHot },
];

describe('lossSharpness against the float64 loss Hessian', () => {
  for (const c of cases) {
    test(`${c.name}: λ_max and the 3 largest eigenvalues, full batch and a batch of rows`, () => {
      const net = fcn({ widths: c.widths, activation: 'tanh', bias: c.bias });
      const w = net.init(3);
      const n = 5;
      const C = c.widths[c.widths.length - 1];
      const xs = seededMatrix(n, c.widths[0], 4, 1.5);
      const ys = c.ys(n, C);
      const f64 = fcn64(c.widths, c.widths.slice(1, -1).map(() => 'tanh'), c.widths.slice(0, -1).map(s), c.bias);
      const p = toP64(w);
      const x = tensorOf(xs);
      const y = tensorOf(ys);
      const ref = hessianEigenvalues64(loss64(c.loss.name, f64, xs, ys), p);
      const got = lossSharpness(net, w, x, y, c.loss, { k: 3 });
      assert.ok(got.converged, `${c.name}: converged (${got.iterations} iterations, residuals ${got.residuals})`);
      assert.equal(got.batchSize, n);
      assertClose(got.eigenvalues, ref.slice(0, 3), 2e-4, `${c.name}: 3 largest eigenvalues`);
      assert.equal(got.value, got.eigenvalues[0]);
      // The loss Hessian is not the Gauss-Newton matrix: some case has a negative eigenvalue, which sharpness ignores.
      // A batch of rows is the loss of those rows alone.
      const rows = [4, 1, 3];
      const refBatch = hessianEigenvalues64(loss64(c.loss.name, f64, rows.map((i) => xs[i]), rows.map((i) => ys[i])), p);
      const batch = lossSharpness(net, w, x, y, c.loss, { indices: rows });
      assert.equal(batch.batchSize, 3);
      assertClose([batch.value], [refBatch[0]], 2e-4, `${c.name}: λ_max on rows ${rows}`);
      // The same λ as the `hessian` critical learning rate (2/λ, 003 eq. 3.6).
      const crit = criticalLearningRate(net, w, x, y, c.loss, { method: 'hessian', tol: 1e-8 });
      assertClose([got.value], [crit.lambda], 1e-5, `${c.name}: criticalLearningRate(hessian).lambda`);
      tf.dispose([x, y, ...Object.values(w)]);
    });
  }

  test('the loss Hessian has negative eigenvalues away from a minimum; sharpness is the largest algebraic one', () => {
    const net = fcn({ widths: [2, 5, 1], activation: 'tanh' });
    const w = net.init(3);
    const xs = seededMatrix(5, 2, 4, 1.5);
    const ys = seededMatrix(5, 1, 11, 3);
    const f64 = fcn64([2, 5, 1], ['tanh'], [s(2), s(5)]);
    const ref = hessianEigenvalues64(loss64('mse(mean)', f64, xs, ys), toP64(w));
    assert.ok(ref[ref.length - 1] < 0, `smallest eigenvalue ${ref[ref.length - 1]} is negative`);
    const [x, y] = [tensorOf(xs), tensorOf(ys)];
    const got = lossSharpness(net, w, x, y, 'mse(mean)', { k: 1 });
    assertClose([got.value], [ref[0]], 2e-4, 'λ_max');
    tf.dispose([x, y, ...Object.values(w)]);
  });

  test('arguments are checked before any product, naming the argument, the value and what was expected', () => {
    const net = fcn({ widths: [2, 3, 1], activation: 'tanh' });
    const w = net.init(0);
    const x = tf.ones([4, 2]);
    const y = tf.ones([4, 1]);
    const [y2, y3] = [tf.ones([4, 2]), tf.ones([3, 1])];
    const before = tf.memory().numTensors;
    const bad: [() => unknown, RegExp][] = [
      [() => lossSharpness(net, w, x, y, mse(), { k: 0 }), /lossSharpness: opts\.k = 0; expected an integer ≥ 1/],
      [() => lossSharpness(net, w, x, y, mse(), { k: 1.5 }), /opts\.k = 1\.5; expected an integer/],
      [() => lossSharpness(net, w, x, y, mse(), { k: 10 }), /opts\.k = 10; expected at most 9, the trainable parameter count/],
      [() => lossSharpness(net, w, x, y, mse(), { maxIter: 0 }), /opts\.maxIter = 0; expected an integer ≥ 1/],
      [() => lossSharpness(net, w, x, y, mse(), { k: 3, maxIter: 2 }), /opts\.maxIter = 2; expected at least opts\.k = 3/],
      [() => lossSharpness(net, w, x, y, mse(), { tol: NaN }), /opts\.tol = NaN; expected a finite number > 0/],
      [() => lossSharpness(net, w, x, y, mse(), { tol: -1 }), /opts\.tol = -1; expected a finite number > 0/],
      [() => lossSharpness(net, w, x, y, mse(), { seed: -2 }), /opts\.seed = -2; expected an integer ≥ 0/],
      [() => lossSharpness(net, w, x, y, mse(), { indices: [] }), /opts\.indices = \[\]; expected at least one row index/],
      [() => lossSharpness(net, w, x, y, mse(), { indices: [0, 4] }), /opts\.indices\[1\] = 4; expected an integer row index in \[0, 3\]/],
      [() => lossSharpness(net, w, x, y, mse(), { indices: [0.5] }), /opts\.indices\[0\] = 0\.5/],
      [() => lossSharpness(net, w, x, y, 'hinge'), /loss: name = 'hinge'; expected/],
      [() => lossSharpness(net, w, x, y2, mse()), /lossSharpness: y has shape \[4, 2\]; expected \[4, 1\]/],
      [() => lossSharpness(net, w, x, y3, mse()), /y has 3 rows; expected 4/],
      [() => lossSharpness(net, w, x, y, crossEntropy()), /with 1 output; expected at least 2 outputs/],
      [() => lossSharpness(net, w, x, y, mse(), null as never), /opts = null; expected an options object/],
      [() => sharpness({ every: 0 }), /sharpness: every = 0; expected an integer ≥ 1/],
      [() => sharpness({ every: 1.5 }), /sharpness: every = 1\.5/],
      [() => sharpness({ every: { geometric: 1 } }), /sharpness: every = \{"geometric":1\}/],
      [() => sharpness({ k: 0 }), /sharpness: options\.k = 0; expected an integer ≥ 1/],
      [() => sharpness({ tol: 0 }), /sharpness: options\.tol = 0; expected a finite number > 0/],
    ];
    for (const [f, re] of bad) assert.throws(f, re);
    assert.equal(tf.memory().numTensors, before, 'no tensor left by a refused call');
    // The engine is still usable after the refusals (none was thrown inside a gradient tape).
    assert.ok(Number.isFinite(lossSharpness(net, w, x, y, mse()).value));
    const t0 = tf.memory().numTensors;
    lossSharpness(net, w, x, y, mse(), { k: 2, indices: [1, 2] });
    assert.equal(tf.memory().numTensors, t0, 'no tensor leaked');
  });

  test('a Lanczos basis larger than the wasm heap is refused before anything is allocated', (t) => {
    if (tf.getBackend() !== 'wasm') return t.skip('backend is not wasm: no fixed device limit');
    // 3.25 M parameters x 403 vectors of float32: 5.2 GB.
    const wide = fcn({ widths: [784, 4096, 10], activation: 'relu' });
    const w = wide.init(0);
    const x = tf.zeros([2, 784]);
    const y = tf.zeros([2, 10]);
    const before = tf.memory().numTensors;
    assert.throws(() => lossSharpness(wide, w, x, y, mse(), { maxIter: 400 }), /^Error: lossSharpness: Lanczos with maxIter = 400 on 3252224 parameters needs about 5\.24 GB of tensor memory at its peak; .* Lower opts\.maxIter/);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, y, ...Object.values(w)]);
  });
});

describe('the sharpness tracker', () => {
  test('full-batch GD: records λ_max of the full loss Hessian at its cadence and at the final iterate, equal to lossSharpness', () => {
    const net = fcn({ widths: [2, 6, 1], activation: 'tanh' });
    const w = net.init(1);
    const x = tensorOf(seededMatrix(8, 2, 5));
    const y = tensorOf(seededMatrix(8, 1, 6));
    const run = train({ net, params: w, x, y, loss: mse('mean'), lr: 0.2, steps: 7, checkpoint: false, track: [sharpness({ every: 3, k: 2 })] });
    assert.deepEqual(run.history.sharpness.step, [0, 3, 6, 7]);
    assert.deepEqual(run.history.sharpnessTop.step, [0, 3, 6, 7]);
    const last = lossSharpness(net, run.params, x, y, mse('mean'), { k: 2 });
    assertClose([run.history.sharpness.value.at(-1) as number], [last.value], 1e-9, 'final record');
    assertClose(run.history.sharpnessTop.value.at(-1) as number[], last.eigenvalues, 1e-9, 'final top-2');
    const first = lossSharpness(net, w, x, y, mse('mean'));
    assertClose([run.history.sharpness.value[0] as number], [first.value], 1e-9, 'step 0');
    // batchHessianTop under full-batch GD: the same λ before each update (its coming batch is the training set),
    // under its own history keys, and nothing at the final iterate (no coming batch).
    const b = train({ net, params: w, x, y, loss: mse('mean'), lr: 0.2, steps: 7, checkpoint: false, track: [batchHessianTop(3)] });
    assert.deepEqual(b.history.hessianTopBatch.step, [0, 3, 6]);
    assert.equal(b.history.batchHessianTop, undefined);
    assertClose([b.history.hessianTopBatch.value[0] as number], [first.value], 1e-5, 'batchHessianTop at step 0');
    tf.dispose([x, y, ...Object.values(w), ...Object.values(run.params), ...Object.values(b.params)]);
  });

  test('non-finite parameters (a diverging run) record NaN; geometric cadence', () => {
    const net = fcn({ widths: [1, 4, 1], activation: 'tanh' });
    const w = net.init(2);
    const x = tensorOf([[1], [-1], [0.5]]);
    const y = tensorOf([[1], [0], [2]]);
    const bad = { ...w, W2: tf.fill(w.W2.shape, NaN) };
    const ctx = { step: 0, net, params: bad, params0: w, x, y, loss: mse('mean'), lr: 0.1 };
    assert.deepEqual(tf.tidy(() => sharpness().record(ctx) as never), { sharpness: NaN, sharpnessIterations: 0 });
    assert.deepEqual(tf.tidy(() => sharpness({ k: 2 }).record(ctx) as never), { sharpness: NaN, sharpnessTop: [NaN, NaN], sharpnessIterations: 0 });
    bad.W2.dispose();
    // A run at a huge step size: finite (saturated) outputs, but the loss-Hessian-vector products overflow.
    const wild = train({ net, params: w, x, y, loss: mse('mean'), lr: 1e6, steps: 20, checkpoint: false, track: [sharpness()] });
    assert.ok(Number.isFinite(wild.history.sharpness.value[0] as number));
    assert.ok(wild.history.sharpness.value.slice(1).some((v) => Number.isNaN(v)), `NaN once the products overflow: ${wild.history.sharpness.value}`);
    pv.dispose(wild.params);
    const ok = train({ net, params: w, x, y, loss: mse('mean'), lr: 0.1, steps: 9, checkpoint: false, track: [sharpness({ every: { geometric: 2 } })] });
    assert.deepEqual(ok.history.sharpness.step, [0, 1, 2, 4, 8, 9]);
    assert.ok(ok.history.sharpness.value.every((v) => Number.isFinite(v as number)));
    tf.dispose([x, y, ...Object.values(w), ...Object.values(ok.params)]);
  });
});
