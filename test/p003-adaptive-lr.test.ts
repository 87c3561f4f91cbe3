import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { adaptiveLr } from '../lib/experiments/p003-adaptive-lr.js';
import { catapultRun } from '../lib/experiments/p003-catapults.js';
import type { Params } from '../lib/core/params.js';
import type { TrackContext } from '../lib/train/train.js';

/** Drives the tracker as train() does: at step s the schedule gives η_s, then the tracker sees w_s (here: a number). */
function drive(a: ReturnType<typeof adaptiveLr>, steps: number): number[] {
  const lrs: number[] = [];
  for (let s = 0; s < steps; s++) {
    lrs.push(a.schedule(s));
    a.tracker.record({ step: s, params: { w: s } as unknown as Params, batch: {} } as unknown as TrackContext);
  }
  return lrs;
}

describe('adaptiveLr: the raise (T:L1075) and decay (T:L3461) rules of 003 Ch.4', () => {
  test('a raise sets η = factor × η_crit measured on the iterate just before it', () => {
    // η_crit(w_s) = 10 + s: the raise at step 5 is measured on w_4 (14), the one at 8 on w_7 (17).
    const a = adaptiveLr({ start: 1, raise: { at: [5, 8], factor: 2 } }, (p) => 10 + (p as unknown as { w: number }).w);
    const lrs = drive(a, 10);
    assert.deepEqual(lrs, [1, 1, 1, 1, 1, 28, 28, 28, 34, 34]);
    assert.deepEqual(a.events, [{ step: 5, kind: 'raise', lr: 28, critical: 14 }, { step: 8, kind: 'raise', lr: 34, critical: 17 }]);
  });

  test('decay only after a catapult has ended (η_crit back above η), then whenever η exceeds η_crit', () => {
    // η_crit: 4 until the raise (η = 1 < 4: no decay before any raise), 2 during the catapult (η = 3 > 2: no decay
    // while it lasts), 5 after it (the catapult ends), then 2.5 (sharpened: η = 3 > 2.5 → η = 0.5 × 2.5).
    const crit = (s: number) => (s < 4 ? 4 : s < 8 ? 2 : s < 12 ? 5 : 2.5);
    const a = adaptiveLr({ start: 1, fixed: { at: [4], values: [3] }, decay: { factor: 0.5, every: 2 } }, (p) => crit((p as unknown as { w: number }).w));
    const lrs = drive(a, 16);
    assert.deepEqual(a.events.map((e) => [e.step, e.kind, e.lr]), [[4, 'raise', 3], [13, 'decay', 1.25]]);
    assert.deepEqual(lrs.slice(12), [3, 1.25, 1.25, 1.25]);
  });

  test('checkpoint state: snapshot and restore give the same schedule', () => {
    const a = adaptiveLr({ start: 1, raise: { at: [3], factor: 1.5 } }, () => 4);
    drive(a, 5);
    const b = adaptiveLr({ start: 1, raise: { at: [3], factor: 1.5 } }, () => 99);
    b.tracker.restore!(a.tracker.snapshot!());
    assert.deepEqual([0, 3, 4, 10].map(b.schedule), [1, 6, 6, 6]);
  });

  test('bad specs name the argument', () => {
    const c = () => 1;
    assert.throws(() => adaptiveLr({ start: 0 }, c), /adaptiveLr: start = 0; expected a learning rate > 0/);
    assert.throws(() => adaptiveLr({ start: 1, raise: { at: [5, 5], factor: 2 } }, c), /raise.at = \[5,5\]; expected increasing integers >= 1/);
    assert.throws(() => adaptiveLr({ start: 1, raise: { at: [5], factor: 0.9 } }, c), /raise.factor = 0.9; expected a number > 1/);
    assert.throws(() => adaptiveLr({ start: 1, fixed: { at: [5], values: [] } }, c), /fixed.values = \[\]; expected 1 learning rates > 0/);
    assert.throws(() => adaptiveLr({ start: 1, decay: { factor: 1.2, every: 10 } }, c), /decay.factor = 1.2; expected a number in \(0, 1\)/);
    assert.throws(() => adaptiveLr({ start: 1, raise: { at: [5], factor: 2 }, fixed: { at: [5], values: [1] } }, c), /both raise and fixed/);
  });

  test('catapultRun with an adaptive rate: each raise is factor × n/λ_max(K) of the iterate before it, as recorded', () => {
    const run = catapultRun({ data: { kind: 'regression', task: 'rank2', n: 16, d: 10 }, net: { kind: 'fcn', depth: 3, width: 32 }, lr: { adaptive: { start: 0.5, at: [10, 20], factor: 1.5 } }, steps: 30, seed: 0, s: 1 });
    assert.equal(run.lrEvents!.length, 2);
    run.lrEvents!.forEach((e, i) => {
      assert.equal(e.step, [10, 20][i]);
      assert.ok(Math.abs(e.lr / (1.5 * e.critical) - 1) < 1e-12);
      // ‖K‖₂ is recorded at every step: the raise's η_crit is n/‖K‖₂ of iterate step − 1 (same eigensolver, float32).
      const K = run.kernelNorm[run.kernelSteps.indexOf(e.step - 1)];
      assert.ok(Math.abs(e.critical / (16 / K) - 1) < 1e-3, `η_crit ${e.critical} against n/‖K‖₂ = ${16 / K}`);
      assert.equal(run.lr[e.step], e.lr);
      assert.equal(run.lr[e.step - 1], i === 0 ? 0.5 * run.etaCrit0 : run.lrEvents![0].lr);
    });
  });
});
