import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { checkClaim, notAttempted, readClaims, readNotAttempted } from '../lib/present/claims.js';
import { writeReport } from '../scripts/report.js';

describe('not-attempted panels', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tangent-skip-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('are recorded beside the claims, never counted as one, and listed in their figure row of the report', () => {
    const file = join(dir, 'nb.jsonl');
    const saved = process.env.TANGENT_CLAIMS_FILE;
    process.env.TANGENT_CLAIMS_FILE = file;
    try {
      checkClaim({ id: 'x-fig1', paper: '003', figure: 'Fig 4.7', claim: 'spikes lower ‖K‖₂', quantity: 'fraction', measured: 1, expected: { min: 0.8 } });
      notAttempted({ id: 'x-fig1c', paper: '003', figure: 'Fig 4.7', what: 'WRN 10-10 on CIFAR-10', reason: 'GPU-scale network' });
      notAttempted({ id: 'x-fig8', paper: '003', figure: 'Fig C.8', what: 'ViT on CIFAR-10', reason: 'no CIFAR offline' });
    } finally {
      if (saved === undefined) delete process.env.TANGENT_CLAIMS_FILE;
      else process.env.TANGENT_CLAIMS_FILE = saved;
    }
    assert.deepEqual(readClaims(file).map((c) => c.id), ['x-fig1']);
    assert.deepEqual(readNotAttempted(file).map((c) => [c.id, c.kind]), [['x-fig1c', 'not-attempted'], ['x-fig8', 'not-attempted']]);
    const all = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ updated: 'now', notebooks: { nb: { status: 'ok', seconds: 1, profile: 'quick', backend: 'cpu', output: 'notebooks/nb.ipynb', claims: all } } }));
    const rep = writeReport(dir);
    assert.equal(rep.total, 1);
    assert.equal(rep.passed, 1);
    const md = readFileSync(rep.md, 'utf8');
    assert.match(md, /\*\*1 of 1 claims reproduced\.\*\*/);
    assert.match(md, /\| 003 \| Fig 4\.7 \| ✅ PASS spikes lower ‖K‖₂: fraction = 1\.000 \(expected ≥ 0\.8\)<br>⏭ NOT ATTEMPTED WRN 10-10 on CIFAR-10: GPU-scale network \|/);
    assert.match(md, /\| 003 \| Fig C\.8 \| ⏭ NOT ATTEMPTED ViT on CIFAR-10: no CIFAR offline \| — \|/);
    assert.match(readFileSync(rep.html, 'utf8'), /<li class="skip"><b>NOT ATTEMPTED<\/b> ViT on CIFAR-10<br><span class="note">no CIFAR offline<\/span><\/li>/);
  });

  test('a missing reason is a clear error', () => {
    assert.throws(() => notAttempted({ id: 'a', paper: '003', figure: 'Fig 1', what: 'w', reason: '' }), /notAttempted: reason = ""; expected a non-empty string/);
  });
});
