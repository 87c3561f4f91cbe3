// Issue 11 (2): the wasm backend's emscripten module installed process-level handlers that rethrow, so an
// unhandled rejection or a throw in a timer killed the kernel whatever handlers were registered.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { type NotebookJson, cellStdout, notebook, reproduce, root, run } from './kernel-support.js';

const backendModule = pathToFileURL(join(root, 'dist', 'lib', 'core', 'backend.js')).href;
const storeModule = pathToFileURL(join(root, 'dist', 'lib', 'run', 'store.js')).href;

/** In a fresh process: initBackend(), the user's handlers, then the async mistake, then a timer printing "alive". */
function script(mistake: string): string {
  return `
    const m = await import(${JSON.stringify(backendModule)});
    const info = await m.initBackend();
    console.log('backend ' + info.name);
    process.on('unhandledRejection', (r) => console.log('handled rejection: ' + r.message));
    process.on('uncaughtException', (e) => console.log('handled exception: ' + e.message));
    ${mistake}
    setTimeout(() => console.log('alive'), 200);`;
}

describe('async mistakes do not kill the process', () => {
  for (const backend of ['wasm', 'cpu']) {
    test(`${backend}: an unhandled rejection reaches the user's handler and the process lives on`, async () => {
      const r = await run(process.execPath, ['--input-type=module', '-e', script("Promise.reject(new Error('x'));")], { env: { ...process.env, TANGENT_BACKEND: backend } });
      assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, new RegExp(`backend ${backend}\\nhandled rejection: x\\nalive`));
    });

    test(`${backend}: a throw inside a timer reaches the user's handler and the process lives on`, async () => {
      const r = await run(process.execPath, ['--input-type=module', '-e', script("setTimeout(() => { throw new Error('y'); }, 10);")], { env: { ...process.env, TANGENT_BACKEND: backend } });
      assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /handled exception: y\nalive/);
    });
  }

  test('wasm: no process-level handler of the backend is left installed', async () => {
    const r = await run(process.execPath, ['--input-type=module', '-e', `
      const before = process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection');
      const m = await import(${JSON.stringify(backendModule)});
      await m.initBackend();
      console.log(process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection') - before);`], { env: { ...process.env, TANGENT_BACKEND: 'wasm' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '0');
  });
});

describe('in the kernel (wasm backend)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tangent-faults-backend-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('an unhandled rejection and a timer throw show in the cell output; the kernel and its state live on', { timeout: 240_000 }, async () => {
    const nbDir = join(dir, 'nb');
    mkdirSync(nbDir);
    const index = JSON.stringify(join(root, 'dist', 'lib', 'index.js'));
    writeFileSync(join(nbDir, 'async_mistakes.ipynb'), notebook(
      `import { initBackend } from ${index};\nconst info = await initBackend();\nconst kept = 41;\nconsole.log('backend', info.name);`,
      "Promise.reject(new Error('rejected x'));\nawait new Promise((r) => setTimeout(r, 300));",
      "setTimeout(() => { throw new Error('thrown y'); }, 10);\nawait new Promise((r) => setTimeout(r, 300));",
      "console.log('alive', kept + 1);",
    ));
    const out = join(dir, 'out');
    const r = await reproduce(['--notebooks', nbDir, '--out', out, '--profile', 'quick', '--no-report'], { ...process.env, TANGENT_BACKEND: 'wasm' });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const nb = JSON.parse(readFileSync(join(out, 'notebooks', 'async_mistakes.ipynb'), 'utf8')) as NotebookJson;
    assert.deepEqual(cellStdout(nb), ['backend wasm\n', '', '', 'alive 42\n']);
    const stderr = nb.cells.map((c) => (c.outputs ?? []).filter((o) => o.name === 'stderr').map((o) => (Array.isArray(o.text) ? o.text.join('') : o.text ?? '')).join(''));
    assert.match(stderr[1], /UnhandledPromiseRejection: Error: rejected x/);
    assert.match(stderr[2], /UncaughtException: Error: thrown y/);
  });
});

// Issue 31: a tfjs-node that registered its backend but failed at its first op stayed selected, and every op then
// threw `Kernel 'BatchMatMul' not registered for backend 'tensorflow'`. Fake backends stand in for such a package.

/** A 'tensorflow' backend that holds tensors but has no kernels: it registers and initialises, and its first op throws. */
const BROKEN = `
  import * as tf from '@tensorflow/tfjs-core';
  import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
  console.log('env at load ' + process.env.TF_CPP_MIN_LOG_LEVEL + ' ' + process.env.TF_ENABLE_ONEDNN_OPTS);
  tf.registerBackend('tensorflow', () => new MathBackendCPU(), 3);`;

/** A 'tensorflow' backend running the cpu kernels, with a binding that reports libtensorflow 2.99.1. */
const WORKING = `
  import * as tf from '@tensorflow/tfjs-core';
  import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
  console.log('env at load ' + process.env.TF_CPP_MIN_LOG_LEVEL + ' ' + process.env.TF_ENABLE_ONEDNN_OPTS);
  for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: 'tensorflow' });
  tf.registerBackend('tensorflow', () => Object.assign(new MathBackendCPU(), { binding: { TF_Version: '2.99.1' } }), 3);`;

/** As WORKING, but its matrix product returns zeros: it runs, with wrong values. */
const WRONG = WORKING.replace("for (const k of", `
  const zeros = ({ inputs, backend }) => backend.makeTensorInfo([inputs.a.shape[0], inputs.b.shape[1]], 'float32', new Float32Array(inputs.a.shape[0] * inputs.b.shape[1]));
  for (const k of`).replace("tf.registerBackend(", "tf.unregisterKernel('BatchMatMul', 'tensorflow'); tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'tensorflow', kernelFunc: zeros });\n  tf.registerBackend(");

describe('a backend that loads but fails its first op is skipped with the reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tangent-fake-backend-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes `source` as the package '@tensorflow/tfjs-node' seen by a child started with the returned --import. */
  function fakeTfjsNode(name: string, source: string): string {
    const fake = join(dir, `${name}.mjs`);
    writeFileSync(fake, source);
    const hooks = join(dir, `${name}-hooks.mjs`);
    // The fake's own bare imports resolve from the library, so that it registers on the library's tfjs-core.
    writeFileSync(hooks, `
      const FAKE = ${JSON.stringify(pathToFileURL(fake).href)};
      export async function resolve(specifier, context, next) {
        if (specifier === '@tensorflow/tfjs-node') return { url: FAKE, shortCircuit: true };
        if (context.parentURL === FAKE) return next(specifier, { ...context, parentURL: ${JSON.stringify(backendModule)} });
        return next(specifier, context);
      }`);
    const register = join(dir, `${name}-register.mjs`);
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    return pathToFileURL(register).href;
  }

  /** selectBackend on [fake node, real cpu] in a fresh process; prints the choice as JSON or the error. */
  async function selectFake(source: string, forced: boolean) {
    const register = fakeTfjsNode(`select-${forced}-${source.length}`, source);
    const script = `
      const m = await import(${JSON.stringify(backendModule)});
      const tf = await import('@tensorflow/tfjs-core');
      const node = { name: 'node', load: async () => { await import('@tensorflow/tfjs-node'); await tf.setBackend('tensorflow'); return {}; } };
      const cpu = { name: 'cpu', load: async () => { await import('@tensorflow/tfjs-backend-cpu'); await tf.setBackend('cpu'); return {}; } };
      try {
        const info = await m.selectBackend(${forced} ? [node] : [node, cpu], ${forced});
        console.log(JSON.stringify(info));
      } catch (e) {
        console.error(e.message);
        process.exit(3);
      }`;
    return run(process.execPath, ['--import', register, '--input-type=module', '-e', script], { cwd: root });
  }

  test("a backend whose kernels are missing ('Kernel ... not registered') is skipped for the next one", async () => {
    const r = await selectFake(BROKEN, false);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(info.name, 'cpu');
    assert.equal(info.skipped.length, 1);
    assert.match(info.skipped[0], /^node: first-op check failed on 'tensorflow': Kernel 'BatchMatMul' not registered for backend 'tensorflow'/);
  });

  test('a backend that computes wrong values is skipped, with the values it gave and those expected', async () => {
    const r = await selectFake(WRONG, false);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(info.name, 'cpu');
    assert.match(info.skipped[0], /^node: first-op check failed on 'tensorflow': add\(mul\(matMul\(a, b\), 2\), 1\) = \[1, 1, 1, 1\]; expected \[2, 15, 5, 33\]$/);
  });

  test('forced (TANGENT_BACKEND), the same failure is an error naming the backend and the reason', async () => {
    const r = await selectFake(BROKEN, true);
    assert.equal(r.code, 3, r.stdout);
    assert.match(r.stderr, /TANGENT_BACKEND=node was requested but @tensorflow\/tfjs-node is unavailable: first-op check failed on 'tensorflow': Kernel 'BatchMatMul' not registered/);
  });

  /** initBackend() with TANGENT_BACKEND=node on a fake '@tensorflow/tfjs-node'; stores one result. */
  async function initFakeNode(name: string, source: string, env: NodeJS.ProcessEnv = {}) {
    const register = fakeTfjsNode(name, source);
    const script = `
      const m = await import(${JSON.stringify(backendModule)});
      const { openStore, cachedRun } = await import(${JSON.stringify(storeModule)});
      try {
        const info = await m.initBackend();
        const r = await cachedRun(openStore('fake-node', { root: ${JSON.stringify(join(dir, `results-${name}`))}, log: () => undefined }), { config: { a: 1 }, code: 'tangent-lab' }, () => ({ y: 1 }));
        console.log(JSON.stringify({ info, line: m.describeBackend(info), keyed: m.keyedBackendVersion(info), stored: r.entry.backendVersion }));
      } catch (e) {
        console.error(e.message);
        process.exit(3);
      }`;
    const childEnv: NodeJS.ProcessEnv = { ...process.env, TANGENT_BACKEND: 'node', ...env };
    for (const k of ['TF_CPP_MIN_LOG_LEVEL', 'TF_ENABLE_ONEDNN_OPTS']) if (env[k] === undefined) delete childEnv[k];
    return run(process.execPath, ['--import', register, '--input-type=module', '-e', script], { cwd: root, env: childEnv });
  }

  test('initBackend with TANGENT_BACKEND=node and a tfjs-node that fails its first op: a clear error, no backend', async () => {
    const r = await initFakeNode('init-broken', BROKEN);
    assert.equal(r.code, 3, r.stdout);
    assert.match(r.stderr, /^TANGENT_BACKEND=node was requested but @tensorflow\/tfjs-node is unavailable: first-op check failed on 'tensorflow': Kernel 'BatchMatMul' not registered for backend 'tensorflow'/);
  });

  test("node: libtensorflow's version is in the backend line and in every key; TensorFlow's logs are quietened before it loads", async () => {
    const r = await initFakeNode('init-working', WORKING);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], 'env at load 2 0');
    const got = JSON.parse(lines.pop()!);
    assert.equal(got.info.name, 'node');
    assert.equal(got.info.libtensorflow, '2.99.1');
    assert.match(got.line, /^node \(@tensorflow\/tfjs-node \S+, tfjs-core [\d.]+; libtensorflow 2\.99\.1, \d+ threads\)$/);
    assert.equal(got.keyed, `${got.info.version}; libtensorflow 2.99.1`);
    assert.equal(got.stored, got.keyed);
  });

  test("the user's TF_CPP_MIN_LOG_LEVEL is kept; TF_ENABLE_ONEDNN_OPTS=1 (other roundings) is in the key", async () => {
    const r = await initFakeNode('init-user-env', WORKING, { TF_CPP_MIN_LOG_LEVEL: '0', TF_ENABLE_ONEDNN_OPTS: '1' });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], 'env at load 0 1');
    const got = JSON.parse(lines.pop()!);
    assert.equal(got.stored, `${got.info.version}; libtensorflow 2.99.1, oneDNN opts on`);
  });
});
