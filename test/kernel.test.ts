import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cellStdout, jupyterPython, notebook, reproduce, root, run, type NotebookJson } from './kernel-support.js';

describe('the tangent-lab kernel', () => {
  const out = mkdtempSync(join(tmpdir(), 'tangent-kernel-test-'));
  after(() => rmSync(out, { recursive: true, force: true }));

  test('notebooks/00_environment.ipynb runs through the real kernel', { timeout: 180_000 }, async () => {
    const r = await reproduce(['--only', '00_environment', '--profile', 'quick', '--out', out]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const nb = JSON.parse(readFileSync(join(out, 'notebooks', '00_environment.ipynb'), 'utf8')) as NotebookJson;
    const text = cellStdout(nb).join('');
    assert.match(text, /^backend: (node|wasm\+openblas|wasm|cpu) \(@tensorflow\/[\w-]+ [\d.]+, tfjs-core [\d.]+(; [^)]*)?\)  profile: quick$/m);
    assert.match(text, /matmul: \[\[7,10\],\[15,22\]\]/);
    assert.match(text, /environment check: ok/);
    const runJson = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    const entry = runJson.notebooks['00_environment'];
    assert.equal(entry.status, 'ok');
    assert.equal(entry.profile, 'quick');
    assert.match(entry.backend, /^(node|wasm\+openblas|wasm|cpu) /);
  });

  test("tslab patch: an object shorthand property naming an earlier cell's variable (train({ net, lr }))", { timeout: 180_000 }, async () => {
    const dir = join(out, 'shorthand');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'shorthand.ipynb'),
      notebook(
        'const net = { w: 2 };\nlet lr = 3;',
        "const train = (o: { net: { w: number }; lr: number }) => o.net.w * o.lr;\nconsole.log('shorthand', train({ net, lr }));",
        "({ lr } = { lr: 5 });\nconst { w = 0 } = { ...net };\nconsole.log('reassigned', lr, w, JSON.stringify({ net, lr, w }));",
        "({ lr = 7 } = {} as { lr?: number });\nconsole.log('default', lr);",
      ),
    );
    const r = await reproduce(['--notebooks', dir, '--out', join(out, 'shorthand-out'), '--profile', 'quick', '--no-report']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const nb = JSON.parse(readFileSync(join(out, 'shorthand-out', 'notebooks', 'shorthand.ipynb'), 'utf8')) as NotebookJson;
    assert.deepEqual(cellStdout(nb).slice(1), ['shorthand 6\n', 'reassigned 5 2 {"net":{"w":2},"lr":5,"w":2}\n', 'default 7\n']);
  });

  test('jupyter_kernel_test suite (test/kernel_spec_test.py)', { timeout: 180_000 }, async () => {
    const python = await jupyterPython(['jupyter_kernel_test']);
    const r = await run(python, [join(root, 'test', 'kernel_spec_test.py')]);
    // unittest reports on stderr; failing checks of tslab are expected failures there (see environment.md).
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^OK \(skipped=\d+, expected failures=3\)$/m);
    for (const name of ['test_execute_stdout', 'test_execute_stderr', 'test_completion', 'test_is_complete', 'test_inspect', 'test_display_data', 'test_error_tslab']) {
      assert.match(r.stderr, new RegExp(`^${name} .* \\.\\.\\. ok$`, 'm'), `${name} did not pass`);
    }
  });
});
