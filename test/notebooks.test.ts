import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { reproduce, root } from './kernel-support.js';

interface Claim {
  id: string;
  pass: boolean;
  measured: number;
  quantity: string;
  profile: string;
}

const paperNotebooks = readdirSync(join(root, 'notebooks'))
  .filter((f) => /^\d{3}_.*\.ipynb$/.test(f))
  .map((f) => f.replace(/\.ipynb$/, ''))
  .sort();

describe('paper notebooks at the quick profile, through the real kernel, with fresh results', () => {
  const out = mkdtempSync(join(tmpdir(), 'tangent-notebooks-'));
  const results = mkdtempSync(join(tmpdir(), 'tangent-results-'));
  after(() => {
    rmSync(out, { recursive: true, force: true });
    rmSync(results, { recursive: true, force: true });
  });

  for (const name of paperNotebooks) {
    test(`${name}: runs and every claim check passes`, { timeout: 900_000 }, async () => {
      const r = await reproduce(['--only', name, '--profile', 'quick', '--out', out], { ...process.env, TANGENT_RESULTS_DIR: results });
      const claims = readFileSync(join(out, 'claims', `${name}.jsonl`), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Claim);
      assert.ok(claims.length > 0, `${name} recorded no claim checks\n${r.stdout}`);
      const failed = claims.filter((c) => !c.pass);
      assert.deepEqual(failed.map((c) => `${c.id}: ${c.quantity} = ${c.measured}`), [], `failed claims in ${name}`);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
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
