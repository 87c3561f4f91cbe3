import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { initBackend } from '../lib/core/backend.js';
import { fcn } from '../lib/nets/fcn.js';
import { decodeNpz, loadParams, saveParams } from '../lib/nets/npz.js';

before(async () => {
  await initBackend();
});

function numpyPython(): string | null {
  for (const py of [process.env.TANGENT_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean) as string[]) {
    if (spawnSync(py, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0) return py;
  }
  return null;
}

test('params round-trip through .npz bit for bit, and the shape check rejects a mismatch', () => {
  const net = fcn({ widths: [3, 5, 2], activation: 'tanh', bias: true });
  const p = net.init(1);
  const dir = mkdtempSync(join(tmpdir(), 'npz-'));
  const file = join(dir, 'p.npz');
  saveParams(file, p);
  const q = loadParams(file, net.specs);
  for (const k of Object.keys(p)) assert.deepEqual(Array.from(q[k].dataSync()), Array.from(p[k].dataSync()));
  const other = fcn({ widths: [3, 6, 2], activation: 'tanh', bias: true });
  assert.throws(() => loadParams(file, other.specs), /has shape \[5, 3\]; expected \[6, 3\]/);
  const bytes = readFileSync(file);
  bytes[200] ^= 0xff;
  writeFileSync(file, bytes);
  assert.throws(() => loadParams(file), /CRC|not a zip|unreadable/);
});

test('numpy reads what we write and we read what numpy writes', { skip: numpyPython() === null ? 'numpy not installed' : false }, () => {
  const py = numpyPython() as string;
  const net = fcn({ widths: [2, 3, 1], activation: 'relu' });
  const p = net.init(2);
  const dir = mkdtempSync(join(tmpdir(), 'npz-'));
  const ours = join(dir, 'ours.npz');
  const theirs = join(dir, 'theirs.npz');
  saveParams(ours, p);
  const script = `import numpy as np, json, sys
d = np.load(sys.argv[1])
print(json.dumps({k: d[k].astype(float).ravel().tolist() for k in d.files}))
np.savez(sys.argv[2], W1=np.arange(6, dtype=np.float64).reshape(3, 2), v=np.array([1.5, -2.0], dtype=np.float32))`;
  const r = spawnSync(py, ['-c', script, ours, theirs], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const read = JSON.parse(r.stdout) as Record<string, number[]>;
  for (const k of Object.keys(p)) assert.deepEqual(read[k], Array.from(p[k].dataSync()));
  const back = decodeNpz(readFileSync(theirs));
  assert.deepEqual(back.W1.shape, [3, 2]);
  assert.deepEqual(Array.from(back.W1.data), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(Array.from(back.v.data), [1.5, -2]);
});
