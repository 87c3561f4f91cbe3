// Issue 31: tfjs-node is what a user with internet access could get, and no test ran it. This file runs only on the
// node backend (TANGENT_BACKEND=node, the tfjs-node step of .ci/run after scripts/build-tfjs-node.mjs); elsewhere
// it is skipped, saying why. The numerics, fault and leak tests run on node in the same step.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readClaims } from '../lib/present/claims.js';
import { type NotebookJson, reproduce } from './kernel-support.js';

const NOTEBOOK = '002_transition_to_linearity';
const skip = process.env.TANGENT_BACKEND?.trim() === 'node' ? false : 'runs with TANGENT_BACKEND=node only (the tfjs-node step of .ci/run)';

describe('a paper notebook on tfjs-node', { skip }, () => {
  const out = mkdtempSync(join(tmpdir(), 'tangent-node-notebook-'));
  const results = mkdtempSync(join(tmpdir(), 'tangent-node-results-'));
  after(() => {
    rmSync(out, { recursive: true, force: true });
    rmSync(results, { recursive: true, force: true });
  });

  test(`${NOTEBOOK} at the quick profile: every claim passes, on node with its libtensorflow, no TensorFlow log in any cell`, { timeout: 900_000 }, async () => {
    const r = await reproduce(['--only', NOTEBOOK, '--profile', 'quick', '--out', out, '--no-report'], { ...process.env, TANGENT_BACKEND: 'node', TANGENT_RESULTS_DIR: results });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const claims = readClaims(join(out, 'claims', `${NOTEBOOK}.jsonl`));
    assert.ok(claims.length > 0, `no claim checks\n${r.stdout}`);
    assert.deepEqual(claims.filter((c) => !c.pass).map((c) => `${c.id}: ${c.quantity} = ${c.measured}`), []);
    const nb = JSON.parse(readFileSync(join(out, 'notebooks', `${NOTEBOOK}.ipynb`), 'utf8')) as NotebookJson;
    const text = (name: string) => nb.cells.flatMap((c) => (c.outputs ?? []).filter((o) => o.name === name).map((o) => (Array.isArray(o.text) ? o.text.join('') : o.text ?? ''))).join('');
    assert.match(text('stdout'), /backend: node \(@tensorflow\/tfjs-node [\d.]+, tfjs-core [\d.]+; libtensorflow \d+\.\d+\.\d+/);
    // TensorFlow's C++ start-up lines look like "2026-01-01 12:00:00.000000: I tensorflow/...".
    assert.doesNotMatch(text('stderr'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWE] /m);
  });
});
