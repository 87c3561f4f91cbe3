import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../lib/core/backend.js';
import { fcn } from '../lib/nets/fcn.js';
import { bestHeldOut, kernelQuadraticForm, kernelTopEigenpair, rayleighQuotients, topEigenDynamics } from '../lib/train/kernel-trackers.js';
import { mse } from '../lib/analysis/losses.js';
import { kernelEigen, tangentKernel } from '../lib/analysis/ntk.js';
import { nqmPhaseDiagram, nqmRegime, scaledNqmStep, singleExampleNqm } from '../lib/analysis/nqm-recursion.js';
import { pv } from '../lib/core/params.js';
import { nqm } from '../lib/nets/taylor-models.js';
import { train } from '../lib/train/train.js';
import { assertClose, seededMatrix, tensorOf } from './helpers.js';
import { EIGEN_NOISE, type Placement, THESIS_ETA_RATIO, type TwoClusterCatapultRun, fractionHolding, relativeChange, twoClusterCatapult, twoClusterVerdict } from '../lib/experiments/p003-catapult-dynamics.js';
import { twoClusterData } from '../lib/data/two-cluster.js';

before(async () => {
  await initBackend();
});

test('single-example recursion (003 eq. 3.11-3.12) equals GD on the NQM of a two-layer ReLU net, step by step', () => {
  const d = 3;
  const m = 64;
  const base = fcn({ widths: [d, m, 1], activation: 'relu' });
  const w0 = base.init(5);
  const q = nqm(base, w0);
  const x = tensorOf([[0.9, -1.3, 0.4]]);
  const y = tf.tensor2d([[1]]);
  const g0 = q.apply(w0, x).dataSync()[0];
  const lambda0 = kernelQuadraticForm(q, w0, x, [1]);
  const eta = 3 / lambda0; // catapult regime, ηλ0 = 3
  const steps = 12;
  const values: number[] = [];
  const lambdas: number[] = [];
  const r = train({
    net: q, params: w0, x, y, loss: mse('halfSum'), lr: eta, steps,
    track: [{ name: 'gl', every: 1, record: (c) => { values.push(c.net.apply(c.params, c.x).dataSync()[0]); lambdas.push(kernelQuadraticForm(c.net, c.params, c.x, [1])); return {}; } }],
  });
  const xNormSqOverD = (0.9 ** 2 + 1.3 ** 2 + 0.4 ** 2) / d;
  const rec = singleExampleNqm({ lambda0, eta, m, xNormSqOverD, g0, y: 1, steps });
  assert.ok(rec.peakLoss > rec.loss[0] * 2, `the catapult raises the loss (peak ${rec.peakLoss}, start ${rec.loss[0]})`);
  assertClose(values, rec.g, 2e-3, 'g(t)', 1);
  assertClose(lambdas, rec.lambda, 2e-3, 'λ(t)');
  pv.dispose(r.params);
  tf.dispose([x, y]);
});

test('scaled variables u, v, w (003 eq. 3.13-3.14) follow the same trajectory as (g, λ)', () => {
  const [m, eta, lambda0, g0, y] = [500, 2.7, 1.1, 0.3, 1];
  const run = singleExampleNqm({ lambda0, eta, m, g0, y, steps: 30 });
  const c = 1 / m;
  let s = { u: c * eta ** 2 * (g0 - y) ** 2, v: eta * lambda0, w: c * eta ** 2 * (g0 - y) * y };
  for (let t = 1; t <= 30; t++) {
    s = scaledNqmStep(s);
    const r = run.g[t] - y;
    assert.ok(Math.abs(s.u - c * eta ** 2 * r * r) <= 1e-9 * Math.max(1, s.u), `u(${t})`);
    assert.ok(Math.abs(s.v - eta * run.lambda[t]) <= 1e-9 * Math.max(1, Math.abs(s.v)), `v(${t})`);
  }
});

test('phase diagram: boundaries at ηλ0 = 2 and 4, λ_final < 2/η after a catapult (Thm 3.3.1, 3.3.4)', () => {
  const grid = Array.from({ length: 25 }, (_, i) => 0.2 + i * 0.2);
  const pd = nqmPhaseDiagram({ m: 1e4, etaLambda: grid });
  assert.ok(Math.abs(pd.boundaries.catapult - 2) < 0.02, `catapult boundary ${pd.boundaries.catapult}`);
  assert.ok(Math.abs(pd.boundaries.divergence - 4) < 0.04, `divergence boundary ${pd.boundaries.divergence}`);
  pd.regime.forEach((r, i) => {
    const el = grid[i];
    if (el < 1.99) assert.equal(r, 'monotone', `ηλ0 = ${el}`);
    else if (el > 2.01 && el < 3.95) assert.equal(r, 'catapult', `ηλ0 = ${el}`);
    else if (el > 4.01) assert.equal(r, 'diverged', `ηλ0 = ${el}`);
    if (r === 'catapult') assert.ok(pd.etaLambdaFinal[i] < 2, `ηλ_final = ${pd.etaLambdaFinal[i]} at ηλ0 = ${el}`);
  });
  assert.equal(nqmRegime({ loss: [1, 2, 3, Infinity], status: 'diverged' }), 'diverged');
  assert.throws(() => singleExampleNqm({ lambda0: -1, eta: 1, m: 10, steps: 1 }), /lambda0 = -1; expected a positive number/);
});

test('Rayleigh quotients, top eigenpair and top-direction r_f, r_K agree with the explicit kernel', () => {
  const net = fcn({ widths: [2, 16, 1], activation: 'relu' });
  const w = net.init(2);
  const x = tensorOf(seededMatrix(6, 2, 3));
  const y = tensorOf(seededMatrix(6, 1, 4));
  const before = tf.memory().numTensors;
  const K = tangentKernel(net, w, x);
  const Kd = K.dataSync();
  const p = [1, -2, 0.5, 0, 3, 1];
  let pKp = 0;
  for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) pKp += p[i] * Kd[i * 6 + j] * p[j];
  const rq = rayleighQuotients({ a: p }).record({ step: 0, net, params: w, params0: w, x, y, loss: mse('mean'), lr: 1 }) as Record<string, number>;
  assertClose([rq.a], [pKp / p.reduce((s, v) => s + v * v, 0)], 1e-4, 'Rayleigh quotient');
  const top = kernelTopEigenpair(net, w, x, { tol: 1e-10, maxIter: 500 });
  const eig = kernelEigen(K, 1);
  assertClose([top.value], eig.values, 1e-4, 'top eigenvalue');
  K.dispose();
  assert.equal(tf.memory().numTensors, before, 'no tensor leaks');

  // r_f and r_K of one GD step, against K(t), K(t+1) formed explicitly (003 eqs. 3.14–3.15).
  const loss = mse('mean');
  const lr = 0.7;
  const recorder = (tr: ReturnType<typeof topEigenDynamics>, rows: Record<string, number>[], name: string) => ({ ...tr, name, record: (c: Parameters<typeof tr.record>[0]) => { const v = tr.record(c) as Record<string, number>; rows.push(v); return v; } });
  // The same formulas on the dense eigenpair of the explicit kernel, and matrix-free (power iteration on VJP/JVP).
  const dense: Record<string, number>[] = [];
  const free: Record<string, number>[] = [];
  const res = train({ net, params: w, x, y, loss, lr, steps: 1, track: [recorder(topEigenDynamics({ kernel: (n, p, z) => tangentKernel(n, p, z) }), dense, 'topDense'), recorder(topEigenDynamics({ tol: 1e-10, maxIter: 500 }), free, 'topFree')] });
  const K0 = tangentKernel(net, w, x);
  const K1 = tangentKernel(net, res.params, x);
  const e0 = kernelEigen(K0, 1);
  const p1 = Array.from(e0.vectors);
  const r0 = tf.sub(net.apply(w, x), y).dataSync();
  const r1 = tf.sub(net.apply(res.params, x), y).dataSync();
  const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
  const K1d = K1.dataSync();
  const p1K1p1 = p1.reduce((s, a, i) => s + a * p1.reduce((t, b, j) => t + K1d[i * 6 + j] * b, 0), 0);
  const rf = dot(p1, r1) / dot(p1, r0) - (1 - lr * (2 / 6) * e0.values[0]);
  assertClose([dense[1].rf], [rf], 1e-3, 'r_f (dense eigenpair)', 1e-2);
  assertClose([dense[1].rK], [e0.values[0] - p1K1p1], 1e-3, 'r_K (dense eigenpair)', 1e-2 * e0.values[0]);
  assertClose([dense[0].lossTop], [(1 / 6) * dot(p1, r0) ** 2], 1e-3, 'loss along p1 (dense eigenpair)');
  // Matrix-free: a float32 eigenvector at angle θ from p₁ moves the ratio ⟨p, r₁⟩/⟨p, r₀⟩ by at most
  // sin θ (‖r₁‖ + |ratio| ‖r₀‖) / |⟨p₁, r₀⟩| to first order, and λ₁'s error enters as η c δλ.
  const norm = (a: ArrayLike<number>) => Math.sqrt(dot(a, a));
  const sinTheta = Math.sqrt(Math.max(0, 1 - dot(top.vector, p1) ** 2));
  const ratio = dot(p1, r1) / dot(p1, r0);
  const bound = (sinTheta * (norm(r1) + Math.abs(ratio) * norm(r0))) / Math.abs(dot(p1, r0)) + lr * (2 / 6) * Math.abs(top.value - e0.values[0]);
  assert.ok(Math.abs(free[1].rf - rf) <= 2 * bound + 1e-6, `r_f matrix-free ${free[1].rf} vs ${rf}: error ${Math.abs(free[1].rf - rf).toExponential(2)}, first-order bound ${bound.toExponential(2)} (sin θ = ${sinTheta.toExponential(2)})`);
  // r_K = λ₁ − pᵀK(t+1)p: λ₁'s error, plus 2 sin θ ‖K(t+1)p₁ − (p₁ᵀK(t+1)p₁)p₁‖ + sin²θ ‖K(t+1)‖ from p.
  const K1p1 = p1.map((_, i) => p1.reduce((t, b, j) => t + K1d[i * 6 + j] * b, 0));
  const offEigen = norm(K1p1.map((v, i) => v - p1K1p1 * p1[i]));
  const K1norm = kernelEigen(K1, 1).values[0];
  const boundK = Math.abs(top.value - e0.values[0]) + 2 * sinTheta * offEigen + sinTheta ** 2 * K1norm;
  const rK = e0.values[0] - p1K1p1;
  assert.ok(Math.abs(free[1].rK - rK) <= 2 * boundK + 1e-7, `r_K matrix-free ${free[1].rK} vs ${rK}: error ${Math.abs(free[1].rK - rK).toExponential(2)}, first-order bound ${boundK.toExponential(2)}`);
  assertClose([free[0].lossTop], [(1 / 6) * dot(p1, r0) ** 2], 1e-3, 'loss along p1 (matrix-free)');
  tf.dispose([K0, K1, x, y]);
  pv.dispose(res.params);
  pv.dispose(w);
});

test('bestHeldOut records the running best of the held-out loss and accuracy', () => {
  const net = fcn({ widths: [2, 32, 1], activation: 'relu' });
  const w = net.init(0);
  const x = tensorOf(seededMatrix(8, 2, 5));
  const y = tf.sign(tensorOf(seededMatrix(8, 1, 6)));
  const xt = tensorOf(seededMatrix(8, 2, 7));
  const yt = tf.sign(tensorOf(seededMatrix(8, 1, 8)));
  const r = train({ net, params: w, x, y, loss: mse('mean'), lr: 3, steps: 15, track: [bestHeldOut({ x: xt, y: yt })] });
  const l = r.history.testLoss.value as number[];
  const b = r.history.testBestLoss.value as number[];
  const a = r.history.testAccuracy.value as number[];
  const ba = r.history.testBestAccuracy.value as number[];
  l.forEach((_, i) => {
    assert.equal(b[i], Math.min(...l.slice(0, i + 1)));
    assert.equal(ba[i], Math.max(...a.slice(0, i + 1)));
  });
  pv.dispose(r.params);
  pv.dispose(w);
  tf.dispose([x, y, xt, yt]);
});

test('a Taylor model releases its copy of w0 with dispose()', () => {
  const base = fcn({ widths: [2, 8, 1], activation: 'relu' });
  const w0 = base.init(1);
  const before = tf.memory().numTensors;
  const q = nqm(base, w0);
  assert.ok(tf.memory().numTensors > before);
  q.dispose?.();
  assert.equal(tf.memory().numTensors, before);
  pv.dispose(w0);
});

// 003 Fig 3.3 / B.1 judged by the thesis' words (T:L861, T:L3044) on hand-made runs.
function fakeRun(placement: Placement, lambda1: number[], lambda2: number[], o: Partial<TwoClusterCatapultRun> = {}): TwoClusterCatapultRun {
  return {
    model: 'nqm', placement, eta1: 0.37, eta2: 0.39, direction1: 'x>=0', nonNegative: 66, lr: 0.3, status: 'max-steps',
    steps: lambda1.map((_, i) => i), loss: lambda1.map(() => 0.2), lambda1, lambda2, distance: lambda1.map(() => 0), plateau: 0.2, finalLoss: 0.2, ...o,
  };
}
const balanced = {
  sub: fakeRun('sub', [100, 99.5], [90, 90.2]),
  between: fakeRun('between', [100, 60], [90, 95]),
  both: fakeRun('both', [100, 40], [90, 89]),
  above: fakeRun('above', [100], [90], { status: 'diverged', finalLoss: NaN }),
};

test('twoClusterVerdict: "only λ₁ decreases" lets λ₂ rise; "both decrease" is any drop beyond the noise', () => {
  const v = twoClusterVerdict(3, balanced);
  assert.equal(v.seed, 3);
  assert.equal(v.nonNegative, 66);
  assert.ok(Math.abs(v.etaRatio - 0.39 / 0.37) < 1e-12);
  assert.ok(Math.abs(THESIS_ETA_RATIO - 1.054) < 1e-3);
  assert.ok(Math.abs(v.between.lambda2 - (95 / 90 - 1)) < 1e-12, 'λ₂ rose by 5.6 %, signed');
  assert.deepEqual([v.subConstant, v.betweenLambda1Drops, v.betweenLambda2NoDrop, v.bothDrop, v.aboveDiverges, v.plateau], [true, true, true, true, true, true]);
  assert.ok(Number.isNaN(twoClusterVerdict(0, { ...balanced, both: fakeRun('both', [1], [1], { status: 'diverged' }) }).both.lambda1));
});

test('twoClusterVerdict: a λ₂ drop beyond EIGEN_NOISE fails "only λ₁ decreases", one within it does not; a change within noise is no decrease', () => {
  const drop = (f: number) => twoClusterVerdict(0, { ...balanced, between: fakeRun('between', [100, 60], [1, 1 - f]) }).betweenLambda2NoDrop;
  assert.equal(drop(2 * EIGEN_NOISE), false);
  assert.equal(drop(EIGEN_NOISE / 2), true);
  const both = (f: number) => twoClusterVerdict(0, { ...balanced, both: fakeRun('both', [100, 40], [1, 1 - f]) }).bothDrop;
  assert.equal(both(2 * EIGEN_NOISE), true);
  assert.equal(both(EIGEN_NOISE / 2), false);
  assert.equal(twoClusterVerdict(0, { ...balanced, sub: fakeRun('sub', [100, 103, 100], [90, 90]) }).subConstant, false, 'a 3 % excursion at any step');
  assert.equal(twoClusterVerdict(0, { ...balanced, above: fakeRun('above', [100, 50], [90, 90]) }).aboveDiverges, false);
  assert.equal(twoClusterVerdict(0, { ...balanced, both: fakeRun('both', [100, 40], [90, 80], { finalLoss: 0.21 }) }).plateau, false, '5 % off the plateau');
});

test('twoClusterVerdict, fractionHolding and relativeChange name their bad arguments', () => {
  assert.throws(() => twoClusterVerdict(0, { ...balanced, both: undefined as never }), /runs\.both = undefined/);
  assert.throws(() => twoClusterVerdict(0, { ...balanced, both: balanced.sub }), /runs\.both\.placement = sub; expected 'both'/);
  assert.throws(() => twoClusterVerdict(0, balanced, -1), /noise = -1/);
  assert.throws(() => fractionHolding([], () => true), /verdicts = ; expected a non-empty array/);
  assert.throws(() => relativeChange('x' as never), /series = x/);
  assert.ok(Number.isNaN(relativeChange([])));
  assert.equal(relativeChange([4, 5, 3]), -0.25);
  const vs = [twoClusterVerdict(0, balanced), twoClusterVerdict(1, { ...balanced, between: fakeRun('between', [100, 60], [90, 80]) })];
  assert.equal(fractionHolding(vs, (v) => v.betweenLambda2NoDrop), 0.5);
});

test('twoClusterCatapult reports the draw\'s balance: the points on x ≥ 0', () => {
  const r = twoClusterCatapult({ model: 'network', placement: 'sub', m: 16, n: 32, seed: 5, steps: 1 });
  const data = twoClusterData({ n: 32, seed: 5 });
  assert.equal(r.nonNegative, Array.from(data.x.dataSync()).filter((v) => v >= 0).length);
  data.dispose();
  assert.ok(r.eta1 <= r.eta2, `η₁ = ${r.eta1} ≤ η₂ = ${r.eta2}`);
});
