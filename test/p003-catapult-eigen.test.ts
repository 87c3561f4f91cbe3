import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initBackend } from '../lib/core/backend.js';
import { catapultRun, type CatapultRunOptions } from '../lib/experiments/p003-catapults.js';

before(async () => {
  await initBackend();
});

describe('catapultRun eigen option (003 Fig C.5: top 10·s eigenvectors of the nk × nk kernel)', () => {
  // 10 classes × 3 points, one-hot targets: a 300 × 300 kernel; s = 2 → the top 20 eigenvectors.
  const base: CatapultRunOptions = { data: { kind: 'clusters', classes: 10, n: 30, d: 8 }, net: { kind: 'fcn', depth: 3, width: 64 }, lr: { multiple: 0.5 }, steps: 3, seed: 1, s: 2 };
  test("'dense' and 'lanczos' record the same ‖K‖₂ and L≤s / L>s split, and the split adds up to L", () => {
    const dense = catapultRun({ ...base, eigen: 'dense' });
    const lanczos = catapultRun({ ...base, eigen: 'lanczos' });
    assert.equal(dense.outputs, 10);
    assert.equal(dense.kernelNorm.length, 4);
    for (let i = 0; i < dense.kernelSteps.length; i++) {
      const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
      assert.ok(rel(lanczos.kernelNorm[i], dense.kernelNorm[i]) < 1e-5, `‖K‖₂ at record ${i}: ${lanczos.kernelNorm[i]} vs ${dense.kernelNorm[i]}`);
      assert.ok(rel(lanczos.lossTop[i], dense.lossTop[i]) < 1e-3, `L≤s at record ${i}: ${lanczos.lossTop[i]} vs ${dense.lossTop[i]}`);
      assert.ok(rel(dense.lossTop[i] + dense.lossRest[i], dense.loss[dense.kernelSteps[i]]) < 1e-4, `L≤s + L>s = L at record ${i}`);
    }
  });
  test('an unknown eigensolver is named', () => {
    assert.throws(() => catapultRun({ ...base, steps: 1, eigen: 'qr' as never }), /method = 'qr'/);
  });
});
