import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { countSgdCatapults, detectCatapults, exceedsCritical, lossIncreases, matchRate } from '../lib/stats/catapult.js';

/** Smooth decay with two spikes: 1 → 0.9 → 0.8 → [spike to 40] → 0.5 …, then a small wiggle and a second spike. */
function constructedLoss(): number[] {
  return [
    1.0, 0.9, 0.8, 5, 40, 12, 0.6, 0.5, // spike 1: start 2, peak 4, end 6
    0.45, 0.46, 0.44, // wiggle (+2%) — not a spike at 10 %
    0.4, 0.9, 3, 0.35, // spike 2: start 11, peak 13, end 14
    0.3, 0.2, 0.1,
  ];
}

describe('catapult detection', () => {
  test('counts drastic rises followed by recovery; ignores small wiggles', () => {
    const r = detectCatapults(constructedLoss());
    assert.equal(r.count, 2);
    assert.deepEqual(
      r.episodes.map((e) => [e.start, e.peak, e.end]),
      [[2, 4, 6], [11, 13, 14]],
    );
    assert.equal(r.episodes[0].rise, 50);
    assert.equal(detectCatapults(constructedLoss(), { minRise: 0.01 }).count, 3, 'with a 1% threshold the wiggle counts');
    assert.equal(detectCatapults([3, 2, 1, 0.5]).count, 0);
  });

  test('a rise that never comes back is not a catapult (divergence)', () => {
    const r = detectCatapults([1, 0.5, 2, 10, 100, Infinity, NaN]);
    assert.equal(r.count, 0);
    assert.equal(r.episodes.length, 1);
    assert.equal(r.episodes[0].recovered, false);
    assert.equal(r.episodes[0].end, -1);
  });

  test('with eta/etaCrit and ‖K‖: triggered by η > η_crit and accompanied by a kernel decrease (003 §4.2)', () => {
    const loss = constructedLoss();
    const T = loss.length - 1;
    // η_crit below η = 1 only at update 3 (during spike 1's rise); spike 2 is not triggered.
    const etaCrit = Array.from({ length: T }, (_, t) => (t === 3 ? 0.5 : 2));
    // ‖K‖ drops across spike 1 (100 → 40) and stays flat across spike 2.
    const kernelNorm = loss.map((_, t) => (t <= 3 ? 100 : 40));
    const r = detectCatapults(loss, { eta: 1, etaCrit, kernelNorm });
    assert.deepEqual(r.episodes.map((e) => [e.triggered, e.kernelDecreased, e.isCatapult]), [[true, true, true], [false, false, false]]);
    assert.equal(r.count, 1);
    assert.equal(r.spikes, 2);
    // NaN entries (not measured) are skipped when comparing kernels.
    const sparse = kernelNorm.map((k, t) => (t % 2 ? NaN : k));
    assert.equal(detectCatapults(loss, { eta: 1, etaCrit, kernelNorm: sparse }).episodes[0].kernelDecreased, true);
  });

  test('bad input is named', () => {
    assert.throws(() => detectCatapults([1, 2], { minRise: -1 }), /minRise = -1/);
    assert.throws(() => detectCatapults([1, 2], { etaCrit: [1] }), /etaCrit was given without eta/);
    assert.throws(() => detectCatapults([1, 2, 3], { eta: [1], etaCrit: [1, 1] }), /eta has 1 entries; expected one per update \(2\)/);
    assert.throws(() => exceedsCritical(-1, [1]), /eta = -1/);
  });
});

describe('SGD catapult count (003 §4.4, ε = 1e-8, until the best validation loss)', () => {
  test('counts updates with η − η_crit > ε before the best validation iterate', () => {
    const etaCrit = [2, 0.5, 2, 0.9, 1 - 1e-9, 0.1, 0.2];
    // best validation at iterate 5 → updates 0..4 count: t = 1, 3 (t = 4 exceeds by only 1e-9 < ε)
    const validation = [5, 4, 3, 2, 1.5, 1.0, 1.2, 1.1];
    const r = countSgdCatapults({ eta: 1, etaCrit, validation });
    assert.deepEqual(Array.from(r.steps), [1, 3]);
    assert.equal(r.count, 2);
    assert.equal(r.stop, 5);
    assert.equal(countSgdCatapults({ eta: 1, etaCrit, epsilon: 0, validation }).count, 3);
    // validation measured every 2 iterates: values at iterates 0, 2, 4, 6 → best at 6 → updates 0..5
    assert.equal(countSgdCatapults({ eta: 1, etaCrit, validation: [3, 2, 1.5, 1], validationSteps: [0, 2, 4, 6] }).count, 3);
    assert.equal(countSgdCatapults({ eta: 1, etaCrit }).count, 4);
    assert.equal(countSgdCatapults({ eta: 1, etaCrit, until: 2 }).count, 1);
    assert.throws(() => countSgdCatapults({ eta: 1, etaCrit, validation: [1, 2], validationSteps: [0] }), /validationSteps has 1 entries for 2 validation values/);
  });
});

describe('match rate (003 Table 4.2)', () => {
  test('fraction of loss increases with η > η_crit(X_batch), until convergence', () => {
    // increases at updates 1, 3, 5, 7; update 9's increase lies after convergence (loss[9] < 1e-3).
    const loss = [1, 0.5, 0.8, 0.4, 0.6, 0.3, 0.35, 0.1, 0.2, 0.0005, 0.01];
    const etaCrit = [9, 0.5, 9, 0.5, 9, 9, 9, 0.5, 9, 0.5];
    const r = matchRate({ loss, eta: 1, etaCrit });
    assert.equal(r.increases, 4);
    assert.equal(r.matches, 3);
    assert.equal(r.rate, 0.75);
    assert.equal(r.convergedAt, 9);
    const flags = exceedsCritical(1, etaCrit);
    assert.deepEqual(matchRate({ loss, exceeds: flags }), r);
    assert.equal(matchRate({ loss, eta: 1, etaCrit, convergedBelow: 0 }).increases, 5);
    assert.ok(Number.isNaN(matchRate({ loss: [3, 2, 1], exceeds: [0, 0] }).rate));
    assert.deepEqual(Array.from(lossIncreases(loss)), [1, 3, 5, 7, 9]);
    assert.deepEqual(Array.from(lossIncreases(loss, 0.5)), [1, 7, 9]);
    assert.throws(() => matchRate({ loss }), /give either exceeds, or eta and etaCrit/);
    assert.throws(() => matchRate({ loss, exceeds: [1] }), /1 per-update flags for 9 updates/);
  });
});
