import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { reproduce, root } from './kernel-support.js';
import { readClaims } from '../lib/present/claims.js';

/** TANGENT_NOTEBOOKS=003_ch4,002 runs only the notebooks whose name contains one of the comma-separated parts. */
const only = (process.env.TANGENT_NOTEBOOKS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const paperNotebooks = readdirSync(join(root, 'notebooks'))
  // The paper notebooks and the tutorials (an experiment of one's own, with claims of its own).
  .filter((f) => /^(\d{3}|tutorial)_.*\.ipynb$/.test(f))
  .map((f) => f.replace(/\.ipynb$/, ''))
  .filter((name) => only.length === 0 || only.some((part) => name.includes(part)))
  .sort();

/**
 * Claims whose FAIL at the quick profile is the documented outcome (the notebook's markdown gives the reason and the
 * measurement): each must be checked and must fail; every other claim must pass. Never list a claim here to make a
 * test green without saying, in the notebook, why the substitute does not show it.
 */
/** Notebooks not yet asserted here, with the reason (each is tracked by its open issue). */
const PENDING: Record<string, string> = {};

const EXPECTED_FAIL: Record<string, Record<string, string>> = {
  '003_ch4_agop_batch_size': {
    '003-fig4.9-rank3-alignment': 'SGD at η_crit/2 diverges for b ≤ 10 on the bias-free 4-layer net (also at the thesis size): those runs are left out, two batch sizes remain, no trend; the quick rank-3 task is not learned',
    '003-fig4.9-rank3-test-loss': 'as above',
    '003-fig4.9-rank3-catapults': 'as above',
    '003-figC.19-rank3-validation': 'as above: the validation loss of the same rank-3 runs',
    '003-figC.22-rank4-top-eigenspace': 'rank-4, b = 5 (the run that diverges at step 1117): 15 of 21 rises > 10 % in the first 200 steps are carried mostly by L≤1 (0.71)',
    '003-figC.21-rank4-alignment': 'rank-4 on the bias-free 4-layer net: b = 5 diverges, the others learn mostly the x₁ term and their alignment is flat (0.875–0.884)',
    '003-fig4.10-rank2-small-lr-trained': 'the lr 0.1 runs (C.23) are capped at 1500 steps, far from 10⁻³, at the quick profile',
  },
  '003_ch4_agop_multiple_catapults': {
    '003-fig4.8-rank3-alignment': "the thesis' first raise lands at 7.5 × the current η_crit on the bias-free 4-layer net and every run with a raise diverges: only k = 0 is left, no trend",
    '003-fig4.8-rank3-test-loss': 'as above',
    '003-fig4.8-rank4-alignment': "the thesis' first raise lands at 6.0 × the current η_crit on the bias-free 4-layer net and every run with a raise diverges: only k = 0 is left, no trend",
    '003-fig4.8-rank4-test-loss': 'as above',
    '003-figC.13-rank3-validation': 'the rank-3 whole schedule diverges at its first raise: one iterate before it, no trend',
    '003-figC.17-fullrank-alignment': 'seed 1 of the full-rank schedule diverges after its last raise (13.8 η_crit(0)): nothing after the catapults to compare',
    '003-figC.17-fullrank-test-loss': 'as above',
    '003-figC.14-rank4-small-init': 'the σ = 0.1 run is capped at 1500 steps before it has fitted the data',
  },
  '003_ch4_gd_catapults': {
    '003-fig4.2-rise': 'the loss rises 4.7× at the quick width 256 (an independent float64 GD agrees); the peak grows with width',
  },
  '003_ch4_sgd_catapults': {
    '003-table4.2-cnn': 'small-CNN row 81.7–88.8 % (seeds 100.0, 91.3, 75.0 in one run): runs diverge or hit the quick step cap',
    '003-figC.10-kernel': 'MNIST 0/2 stand-in: its one catapult (η > η_crit(X_batch)) does not lower ‖K‖₂ and the run diverges at step 6',
  },
  '003_ch4_sgd_variants': {
    '003-figC.3-rise': 'rank-4 stand-in, width 256: L₀ is 94 % in L>5, which takes no part in the catapult; the loss rises 5.3× (L≤5 itself 76×)',
    '003-figC.3-top': 'as above: 0.891 of the spike in L≤5, L>5 also rises a little during the spike',
    '003-figC.3-rest': 'as above: L>5 increases at 11 % of the steps',
    '003-figC.5-rise': '10-class clusters: the catapult is one step (‖K‖₂ 5.4 → 0.7); the loss rises 2.0× (L≤50 3.9×)',
    '003-figC.11a-kernel': 'η = 1.67 η_crit(0) exceeds most batches\' η_crit: 22 of the 23 rises > 10 % are catapults, 13 of them lower ‖K‖₂ (0.59)',
    '003-figC.11c-kernel': '10-class SGD: the one catapult (‖K‖₂ 4.3 → 1.3 in steps 0–3) raises the loss by only 6.7 %, so no spike > 10 % is found',
    '003-figC.11c-top': 'as above (no spike to measure)',
    '003-figC.12-kernel': 'all 5 spikes are catapults (the cycle takes η above every batch\'s η_crit); the 3 large ones (1.9×, 8.2×, 21×) lower ‖K‖₂, the 2 small ones (1.2×) do not',
  },
  '003_ch3_catapult_dynamics': {
    '003-nqm-between-lambda2': 'the NQM\'s λ₂ drops 0.01–0.35 % between η₁ and η₂ (beyond the 10⁻⁴ noise on 4 of 5 draws): a decrease of eq. 3.12 that shrinks with m, measured at m and 4m in the notebook',
  },
  '003_ch3_test_performance': {
    '003-perf-clusters-fc2-relu-f-acc-super-better': 'documented in the notebook: the cluster task does not show a super-critical accuracy gain',
  },
};

describe('paper notebooks at the quick profile, through the real kernel, with fresh results', () => {
  const out = mkdtempSync(join(tmpdir(), 'tangent-notebooks-'));
  const results = mkdtempSync(join(tmpdir(), 'tangent-results-'));
  after(() => {
    rmSync(out, { recursive: true, force: true });
    rmSync(results, { recursive: true, force: true });
  });

  for (const name of paperNotebooks) {
    const expectedFail = EXPECTED_FAIL[name] ?? {};
    test(`${name}: runs and every claim check passes${Object.keys(expectedFail).length ? ' (or fails as documented)' : ''}`, { timeout: 900_000, skip: PENDING[name] }, async () => {
      const r = await reproduce(['--only', name, '--profile', 'quick', '--out', out], { ...process.env, TANGENT_RESULTS_DIR: results });
      const claims = readClaims(join(out, 'claims', `${name}.jsonl`));
      assert.ok(claims.length > 0, `${name} recorded no claim checks\n${r.stdout}`);
      const failed = claims.filter((c) => !c.pass && !(c.id in expectedFail));
      assert.deepEqual(failed.map((c) => `${c.id}: ${c.quantity} = ${c.measured}`), [], `failed claims in ${name}`);
      for (const [id, reason] of Object.entries(expectedFail)) {
        const c = claims.find((k) => k.id === id);
        assert.ok(c, `${name}: claim ${id} (expected to fail: ${reason}) was not checked`);
        assert.equal(c.pass, false, `${name}: claim ${id} passed; it is documented as an expected FAIL (${reason}): update the notebook's explanation and EXPECTED_FAIL`);
      }
      // The runner exits 1 when any claim fails, also an expected one; it must still have completed the notebook.
      const expectedAny = Object.keys(expectedFail).length > 0;
      assert.equal(r.code, expectedAny && /claim check\(s\) failed/.test(r.stdout) ? 1 : 0, `${r.stdout}\n${r.stderr}`);
      assert.ok(claims.every((c) => c.profile === 'quick'));
      const figures = readdirSync(join(out, 'figures', name)).filter((f) => f.endsWith('.json'));
      assert.ok(figures.length > 0, `${name} saved no figure specs`);
      // Fresh results: every stored result of the run was computed, under the fingerprint(s) of the code that ran.
      const store = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).notebooks[name].store as { computed: number; reused: number; fingerprints: Record<string, unknown> };
      assert.equal(store.reused, 0, `${name}: nothing reused from an empty store`);
      for (const fp of Object.keys(store.fingerprints)) assert.match(fp, /^sha256:[0-9a-f]{64}$/);
      assert.equal(Object.keys(store.fingerprints).length > 0, store.computed > 0);
    });
  }
});
