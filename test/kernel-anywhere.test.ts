// Issue 30 §3: a researcher's notebook in a folder outside the checkout imports the library (with its types),
// through the runner and through the kernel as JupyterLab starts it (cwd = the notebook's folder).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { kernelSession } from './kernel-anywhere-support.js';
import { cellStdout, notebook, reproduce, root, type NotebookJson } from './kernel-support.js';

// The user's own module beside the notebook, importing a subpath of the library itself.
const HELPERS = "import { fcn } from 'tangent-lab/nets';\nexport const outputsOf = (w: number[]): number => fcn({ widths: w, activation: 'tanh' }).outputDim;\n";
const CELLS = [
  "import { tangentKernel, tf } from 'tangent-lab';\nimport { fcn } from 'tangent-lab/nets';\n" +
    "const net = fcn({ widths: [1, 4, 1], activation: 'tanh' });\nconst params = net.init(0);\n" +
    "const x = tf.tensor2d([[0.5], [1]]);\nconst K = tangentKernel(net, params, x);\n" +
    "console.log('kernel shape', JSON.stringify(K.shape));\ntf.dispose([K, x, ...Object.values(params)]);",
  "import { outputsOf } from './helpers';\nconsole.log('helper', outputsOf([2, 3, 5]));",
  // The compiler sees the library's declarations: a type error against them is reported as such.
  "const notAString: string = tangentKernel;",
];

describe('a notebook outside the checkout imports tangent-lab', () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'tangent-anywhere-')));
  after(() => rmSync(base, { recursive: true, force: true }));
  assert.ok(relative(root, base).startsWith('..'), `${base} is outside ${root}`);

  test('through the runner (npm run reproduce -- --notebooks DIR)', { timeout: 240_000 }, async () => {
    const nbDir = join(base, 'runner', 'my-notebooks');
    mkdirSync(nbDir, { recursive: true });
    writeFileSync(join(nbDir, 'helpers.ts'), HELPERS);
    writeFileSync(join(nbDir, 'mine.ipynb'), notebook(CELLS[0], CELLS[1]));
    writeFileSync(join(nbDir, 'typed.ipynb'), notebook(CELLS[0], CELLS[2]));
    const out = join(base, 'runner', 'out');
    const r = await reproduce(['--notebooks', nbDir, '--out', out, '--profile', 'quick', '--no-report']);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.doesNotMatch(r.stdout, /Cannot find module/);
    const mine = JSON.parse(readFileSync(join(out, 'notebooks', 'mine.ipynb'), 'utf8')) as NotebookJson;
    assert.deepEqual(cellStdout(mine), ['kernel shape [2,2]\n', 'helper 5\n']);
    assert.match(r.stdout, /^FAILED: typed, cell 2 \(code cell 2\/2\)$/m);
    assert.match(r.stdout, /^1:7 - Type '\(net: Network, params: Params, x: (tf\.)?Tensor.*\) => (tf\.)?Tensor2D' is not assignable to type 'string'\.$/m);
    const runJson = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    assert.equal(runJson.notebooks.mine.status, 'ok');
  });

  test('through the kernel as JupyterLab starts it (notebook-dir outside the checkout, cwd = the notebook folder), and in the node processes it starts', { timeout: 240_000 }, async () => {
    const labRoot = join(base, 'lab-root');
    const nbDir = join(labRoot, 'project', 'analysis');
    mkdirSync(nbDir, { recursive: true });
    writeFileSync(join(nbDir, 'helpers.ts'), HELPERS);
    // A module beside the notebook for the node processes it starts (what workers import: remote(name, args, url)).
    writeFileSync(join(nbDir, 'worker_task.mjs'), "import { fcn } from 'tangent-lab/nets';\nimport { tangentKernel } from 'tangent-lab';\nexport const kinds = () => [typeof fcn, typeof tangentKernel].join(' ');\n");
    const replies = await kernelSession(labRoot, 'project/analysis', [
      { type: 'execute', code: "console.log('cwd', process.cwd());" },
      ...CELLS.map((code) => ({ type: 'execute' as const, code })),
      {
        type: 'execute',
        code: "import { execFileSync } from 'node:child_process';\nimport { pathToFileURL } from 'node:url';\n" +
          "const script = `import(${JSON.stringify(pathToFileURL('worker_task.mjs').href)}).then((m) => console.log(m.kinds()))`;\n" +
          "console.log('child node:', execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim());",
      },
      // The kernel's own ES module loader: remote(name, args, url) called in the kernel (a sweep with one worker).
      {
        type: 'execute',
        code: "import { run } from 'tangent-lab';\nconst inKernel = run.remote<object, string>('kinds', () => [], pathToFileURL('worker_task.mjs').href);\n" +
          "console.log('kernel import:', await inKernel({}));",
      },
    ]);
    assert.equal(replies[0].stdout, `cwd ${nbDir}\n`);
    // (stderr may carry tfjs's start-up banner, not an error)
    assert.deepEqual(replies.slice(1, 3).map((r) => [r.content.status, r.stdout]), [
      ['ok', 'kernel shape [2,2]\n'],
      ['ok', 'helper 5\n'],
    ], JSON.stringify(replies));
    assert.deepEqual([replies[4].content.status, replies[4].stdout], ['ok', 'child node: function function\n'], replies[4].stderr);
    assert.deepEqual([replies[5].content.status, replies[5].stdout], ['ok', 'kernel import: function function\n'], replies[5].stderr);
    assert.equal(replies[3].content.status, 'error');
    assert.match(replies[3].stderr, /^1:7 - Type '\(net: Network, params: Params, x: (tf\.)?Tensor.*\) => (tf\.)?Tensor2D' is not assignable to type 'string'\.$/m);
  });
});
