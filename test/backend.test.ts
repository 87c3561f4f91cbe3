import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { requestedBackend } from '../lib/core/backend.js';
import { nativeAddonPath } from '../lib/core/openblas.js';
import { root, run } from './kernel-support.js';

const backendModule = pathToFileURL(join(root, 'dist', 'lib', 'core', 'backend.js')).href;

/** initBackend() in a fresh process (the choice is made once per process). */
async function selectIn(env: Record<string, string | undefined>) {
  const script = `
    const m = await import(${JSON.stringify(backendModule)});
    try {
      const info = await m.initBackend();
      console.log(JSON.stringify({ info, line: m.describeBackend(info) }));
    } catch (e) {
      console.error(e.message);
      process.exit(3);
    }`;
  const childEnv = { ...process.env, ...env };
  if (env.TANGENT_BACKEND === undefined) delete childEnv.TANGENT_BACKEND;
  const r = await run(process.execPath, ['--input-type=module', '-e', script], { env: childEnv });
  const ok = r.code === 0;
  return { ok, code: r.code, stderr: r.stderr, ...(ok ? JSON.parse(r.stdout.trim().split('\n').pop()!) : {}) };
}

async function tfjsNodeLoads(): Promise<boolean> {
  const r = await run(process.execPath, ['--input-type=module', '-e', "await import('@tensorflow/tfjs-node')"]);
  return r.code === 0;
}

describe('backend selection', () => {
  test('TANGENT_BACKEND parsing', () => {
    assert.equal(requestedBackend({}), undefined);
    assert.equal(requestedBackend({ TANGENT_BACKEND: ' ' }), undefined);
    assert.equal(requestedBackend({ TANGENT_BACKEND: 'wasm' }), 'wasm');
    assert.throws(() => requestedBackend({ TANGENT_BACKEND: 'gpu' }), /TANGENT_BACKEND='gpu' is not a backend; expected one of wasm\+openblas, node, wasm, cpu/);
  });

  for (const name of ['cpu', 'wasm'] as const) {
    test(`TANGENT_BACKEND=${name} selects ${name}`, async () => {
      const r = await selectIn({ TANGENT_BACKEND: name });
      assert.ok(r.ok, r.stderr);
      assert.equal(r.info.name, name);
      assert.match(r.info.version, /^\d+\.\d+\.\d+/);
      assert.match(r.line, new RegExp(`^${name} \\(@tensorflow/tfjs-backend-${name} \\d+\\.\\d+\\.\\d+, tfjs-core \\d`));
    });
  }

  test('TANGENT_BACKEND=node selects tfjs-node where it loads, else fails naming it', async () => {
    const r = await selectIn({ TANGENT_BACKEND: 'node' });
    if (await tfjsNodeLoads()) {
      assert.ok(r.ok, r.stderr);
      assert.equal(r.info.name, 'node');
      assert.equal(r.info.tfjsBackend, 'tensorflow');
      assert.match(r.info.libtensorflow, /^\d+\.\d+\.\d+/);
      assert.match(r.line, /^node \(@tensorflow\/tfjs-node [\d.]+, tfjs-core [\d.]+; libtensorflow \d+\.\d+\.\d+[^,]*, \d+ threads\)$/);
      // TensorFlow's start-up lines (CPU feature guard, oneDNN notice) stay out of the output.
      assert.equal(r.stderr, '');
    } else {
      assert.equal(r.code, 3);
      assert.match(r.stderr, /TANGENT_BACKEND=node was requested but @tensorflow\/tfjs-node is unavailable/);
    }
  });

  test('an unknown TANGENT_BACKEND fails with the bad value and the choices', async () => {
    const r = await selectIn({ TANGENT_BACKEND: 'bogus' });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /TANGENT_BACKEND='bogus' is not a backend; expected one of wasm\+openblas, node, wasm, cpu/);
  });

  test('automatic choice: wasm+openblas if the addon is built (the fastest measured), else node if it loads, else wasm saying why', async () => {
    const r = await selectIn({ TANGENT_BACKEND: undefined });
    assert.ok(r.ok, r.stderr);
    if (existsSync(nativeAddonPath())) {
      assert.equal(r.info.name, 'wasm+openblas');
      assert.deepEqual(r.info.skipped, []);
      assert.equal(r.info.threads, availableParallelism());
      assert.match(r.line, /^wasm\+openblas \(@tensorflow\/tfjs-backend-wasm [\d.]+, tfjs-core [\d.]+; matmul OpenBLAS [\d.]+ .*, \d+ threads?\)$/);
    } else if (await tfjsNodeLoads()) {
      assert.equal(r.info.name, 'node');
      assert.match(r.info.skipped[0], /^wasm\+openblas: native addon/);
    } else {
      assert.equal(r.info.name, 'wasm');
      assert.match(r.info.skipped[0], /^wasm\+openblas: native addon/);
      assert.match(r.info.skipped[1], /^node: /);
      assert.match(r.line, /matmul on wasm, not OpenBLAS: native addon/);
    }
  });

  test('TANGENT_BACKEND=wasm keeps the wasm matmul and says so; TANGENT_BLAS_THREADS sets the OpenBLAS threads', async () => {
    const plain = await selectIn({ TANGENT_BACKEND: 'wasm' });
    assert.ok(plain.ok, plain.stderr);
    assert.equal(plain.info.threads, 1);
    assert.match(plain.line, /; matmul on wasm, not OpenBLAS: TANGENT_BACKEND=wasm\)$/);
    if (!existsSync(nativeAddonPath())) return;
    const one = await selectIn({ TANGENT_BACKEND: 'wasm+openblas', TANGENT_BLAS_THREADS: '1' });
    assert.ok(one.ok, one.stderr);
    assert.equal(one.info.threads, 1);
    assert.match(one.line, /, 1 thread\)$/);
    const bad = await selectIn({ TANGENT_BACKEND: 'wasm+openblas', TANGENT_BLAS_THREADS: 'two' });
    assert.equal(bad.code, 3);
    assert.match(bad.stderr, /TANGENT_BLAS_THREADS = 'two'; expected a positive integer/);
  });
});
