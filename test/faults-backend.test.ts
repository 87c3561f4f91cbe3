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
