// 002 Fig 1 / Fig 2 at the paper's stopping rule: the cap report and the slope per width window.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initBackend } from '../lib/core/backend.js';
import { type KernelChangeRun, fig1Run, stopReport, windowSlopeTable, windowSlopes } from '../lib/experiments/p002-kernel-change.js';

before(async () => {
  await initBackend();
});

const run = (status: string, trainedSteps: number, finalLoss: number): KernelChangeRun => ({
  steps: [0], deltaK: { linear: [0] }, sup: { linear: 0 }, loss: [1], finalLoss, status, trainedSteps, lr: 1, lambda0: 1,
});

describe('002: slopes per width window', () => {
  test('windowSlopes: exact power laws give their exponents window by window', () => {
    const m = [10, 100, 1_000, 10_000, 100_000];
    // Slope −1 up to 10^3, then −1/2: the windows show the change that one fit over all widths averages away.
    const y = m.map((v) => (v <= 1_000 ? 1 / v : 1e-3 * Math.sqrt(1_000 / v)));
    const w = windowSlopes(m, y, 2);
    assert.deepEqual(w.map((r) => [r.from, r.to]), [[10, 100], [100, 1_000], [1_000, 10_000], [10_000, 100_000]]);
    w.forEach((r, i) => assert.ok(Math.abs(r.slope - (i < 2 ? -1 : -0.5)) < 1e-12, `window ${i}: ${r.slope}`));
    const w3 = windowSlopes(m, m.map((v) => 3 * v ** -0.75));
    assert.equal(w3.length, 3);
    for (const r of w3) {
      assert.ok(Math.abs(r.slope + 0.75) < 1e-12);
      assert.ok(r.slopeSE < 1e-9);
    }
  });

  test('windowSlopeTable: the median curve and the spread of single-seed slopes', () => {
    const m = [100, 1_000, 10_000];
    const bySeed = [m.map((v) => v ** -0.5), m.map((v) => v ** -1), m.map((v) => 2 * v ** -0.7)];
    const [row] = windowSlopeTable(m, bySeed);
    assert.equal(row.from, 100);
    assert.equal(row.to, 10_000);
    assert.ok(Math.abs(row.seedMin + 1) < 1e-12 && Math.abs(row.seedMax + 0.5) < 1e-12 && Math.abs(row.seedMedian + 0.7) < 1e-12);
    // The median at each width is the middle seed's 2 m^−0.7 (it lies between m^−1 and m^−1/2 for m > 10).
    assert.ok(Math.abs(row.slope + 0.7) < 1e-12, `median-curve slope ${row.slope}`);
  });

  test('bad arguments name the argument, the value and what was expected', () => {
    assert.throws(() => windowSlopes([1, 2, 3], [1, 2]), /windowSlopes: xs has 3 values, ys 2; expected arrays of equal length/);
    assert.throws(() => windowSlopes([1, 2], [1, 2], 3), /windowSlopes: 2 points; expected at least size = 3/);
    assert.throws(() => windowSlopes([1, 2], [1, 2], 1), /windowSlopes: size = 1; expected an integer ≥ 2/);
    assert.throws(() => windowSlopeTable([1, 2, 3], [[1, 2]]), /windowSlopeTable: bySeed\[0\] has 2 values; expected 3, one per width/);
    assert.throws(() => windowSlopeTable([1, 2, 3], []), /windowSlopeTable: bySeed = \[\]; expected one array of values per seed/);
    assert.throws(() => stopReport([], { cap: -1, lossBelow: 1e-4 }), /stopReport: cap = -1; expected an integer ≥ 0/);
    assert.throws(() => stopReport([], { cap: 10, lossBelow: 0 }), /stopReport: lossBelow = 0; expected a finite number > 0/);
  });
});

describe('002: the stopping rule and its cap', () => {
  test('stopReport counts converged, capped and diverged runs and gives the capped final losses', () => {
    const r = stopReport([run('converged', 120, 9e-5), run('max-steps', 1000, 2e-3), run('max-steps', 1000, 1.5e-3), run('diverged', 4, NaN)], { cap: 1000, lossBelow: 1e-4 });
    assert.deepEqual({ ...r, text: undefined }, { runs: 4, converged: 1, capped: 2, diverged: 1, cappedFinalLoss: [1.5e-3, 2e-3], text: undefined });
    assert.equal(r.text, '4 runs: 1 reached loss < 0.0001 (after 120–120 steps), 2 hit the cap of 1000 steps (final loss 1.50e-3 – 2.00e-3), 1 diverged');
    assert.equal(stopReport([run('converged', 7, 1e-5)], { cap: 10, lossBelow: 1e-4 }).text, '1 runs: 1 reached loss < 0.0001 (after 7–7 steps), 0 hit the cap of 10 steps');
  });

  test('fig1Run stops at the paper rule when it is reached and reports the cap when it binds', () => {
    // swish-MSE at m = 64: the loss falls below 0.3 within the cap, and not below 1e-4 in 5 steps.
    const reached = fig1Run({ m: 64, seed: 0, objective: 'swish-mse', steps: 2_000, lossBelow: 0.3, kernelEvery: 50 });
    assert.equal(reached.status, 'converged');
    assert.ok(reached.finalLoss < 0.3 && reached.trainedSteps < 2_000);
    assert.equal(reached.steps[reached.steps.length - 1], reached.trainedSteps, 'ΔK is evaluated at the last step');
    const capped = fig1Run({ m: 64, seed: 0, objective: 'ce', steps: 5, lossBelow: 1e-4, kernelEvery: 2 });
    assert.equal(capped.status, 'max-steps');
    assert.equal(capped.trainedSteps, 5);
    const rep = stopReport([reached, capped], { cap: 5, lossBelow: 1e-4 });
    assert.equal(rep.capped, 1);
    assert.deepEqual(rep.cappedFinalLoss, [capped.finalLoss, capped.finalLoss]);
  });
});
