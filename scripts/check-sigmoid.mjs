#!/usr/bin/env node
// Checks that the native addon's sigmoid (native/tangent_blas.c) gives the bits of the wasm backend's own Sigmoid
// kernel, on every float32 input (`all`, ~2-4 minutes on 2 cores) or on a sample (`sample`: every 4099th bit
// pattern and every pattern near 0, ±1, the flush-to-zero cutoff, the largest finite values and the NaNs).
// Run after `npm run build`: node scripts/check-sigmoid.mjs all|sample
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from './project.mjs';

const lib = (p) => import(pathToFileURL(join(projectRoot(), 'dist', 'lib', 'core', p)).href);
const { initBackend } = await lib('backend.js');
const { setNativeMatMul, nativeMatMulActive } = await lib('openblas.js');

/** The bit patterns to check, in chunks of at most 2^24. */
function* chunks(mode) {
  const CHUNK = 1 << 24;
  if (mode === 'all') {
    for (let start = 0; start < 2 ** 32; start += CHUNK) yield Uint32Array.from({ length: CHUNK }, (_, i) => start + i);
    return;
  }
  const near = (bits, w = 1 << 14) => Array.from({ length: 2 * w }, (_, i) => (bits - w + i) >>> 0);
  const f2u = (f) => new Uint32Array(Float32Array.of(f).buffer)[0];
  const centres = [0, 1, -1, 87.33654, -87.33654, 3.4e38, -3.4e38, Infinity, -Infinity, 1e-38, -1e-38, 0.5, -0.5, 20, -20].map(f2u);
  yield Uint32Array.from(centres.flatMap((c) => near(c)));
  yield Uint32Array.from({ length: Math.ceil(2 ** 32 / 4099) }, (_, i) => (i * 4099 + 17) >>> 0);
}

/** Entries where the addon's sigmoid and the wasm kernel differ in any bit, over the chosen inputs. */
export async function checkSigmoid(mode = 'sample', log = () => {}) {
  await initBackend();
  if (!nativeMatMulActive()) throw new Error('check-sigmoid: the native path is not active (backend without the addon)');
  let checked = 0;
  let mismatches = 0;
  const examples = [];
  for (const bits of chunks(mode)) {
    const x = tf.tensor1d(new Float32Array(bits.buffer));
    const run = (native) => {
      setNativeMatMul(native);
      const y = tf.sigmoid(x);
      const out = new Uint32Array(y.dataSync().buffer.slice(0));
      y.dispose();
      return out;
    };
    const want = run(false);
    const got = run(true);
    x.dispose();
    for (let i = 0; i < bits.length; i++) {
      if (want[i] !== got[i]) {
        mismatches++;
        if (examples.length < 5) examples.push(`input 0x${bits[i].toString(16)}: 0x${got[i].toString(16)}, wasm 0x${want[i].toString(16)}`);
      }
    }
    checked += bits.length;
    log(`${checked} inputs checked, ${mismatches} differ`);
  }
  return { checked, mismatches, examples };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const mode = process.argv[2] ?? 'sample';
  if (mode !== 'all' && mode !== 'sample') {
    process.stderr.write(`check-sigmoid: mode = '${mode}'; expected 'all' or 'sample'\n`);
    process.exit(2);
  }
  const t0 = Date.now();
  const r = await checkSigmoid(mode, (m) => process.stdout.write(`\r${m}`));
  process.stdout.write(`\n${r.mismatches === 0 ? 'same bits' : 'DIFFERENT'} on ${r.checked} inputs (${((Date.now() - t0) / 1000).toFixed(0)} s)${r.examples.length ? `: ${r.examples.join('; ')}` : ''}\n`);
  process.exit(r.mismatches === 0 ? 0 : 1);
}
