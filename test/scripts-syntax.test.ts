// Every script parses: npm ci runs scripts/postinstall.mjs on a fresh clone before anything else can fail loudly.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const scripts = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts');

test('scripts/*.mjs and *.py parse', () => {
  for (const f of readdirSync(scripts)) {
    const path = join(scripts, f);
    const r = f.endsWith('.mjs') ? spawnSync(process.execPath, ['--check', path], { encoding: 'utf8' })
      : f.endsWith('.py') ? spawnSync('python3', ['-m', 'py_compile', path], { encoding: 'utf8' }) : undefined;
    if (r) assert.equal(r.status, 0, `${f} does not parse:\n${r.stderr}`);
  }
});
