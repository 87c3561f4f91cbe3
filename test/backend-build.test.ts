// scripts/build-tfjs-node.mjs: where the TensorFlow C library cannot be had, it says why and exits 2, which .ci/run
// reads as "skip the tfjs-node step" (issue 31). The build itself runs in that CI step, not here (about 2 min, 1 GB).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { root, run } from './kernel-support.js';

const dir = mkdtempSync(join(tmpdir(), 'tangent-build-tfjs-node-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('no such tensorflow-cpu release: exit 2 with the reason, before anything in node_modules is touched', { timeout: 120_000 }, async () => {
  const env = { ...process.env, TANGENT_TF_VERSION: '0.0.1', TANGENT_CACHE_DIR: join(dir, 'cache') };
  const r = await run(process.execPath, [join(root, 'scripts', 'build-tfjs-node.mjs')], { env, cwd: root });
  assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
  // Where pip is missing the reason names pip; where it runs, the release it could not fetch.
  assert.match(r.stderr, /^build-tfjs-node: cannot build here: (pip cannot fetch tensorflow-cpu==0\.0\.1: .+|pip not available .+|\S+ not found .+|only linux x64 is supported .+|\d+ MB free at .+)\n$/);
});
