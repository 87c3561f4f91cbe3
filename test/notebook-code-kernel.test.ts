// Results of notebook code are keyed by that code (issue 30 §1), through the real kernel: each "edit" is a
// later cell that redeclares what an earlier one declared, which is what re-running an edited cell does.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cellStdout, notebook, reproduce, type NotebookJson } from './kernel-support.js';

const SETUP = [
  "import { openStore, sweep } from 'tangent-lab';",
  "import { cachedRun } from 'tangent-lab/run';",
  "import { writeFileSync } from 'node:fs';",
  "import { pathToFileURL } from 'node:url';",
  "const store = openStore('nb-code');",
  // A module of the test's own as `code` (it keys nothing that changes): the library being rebuilt by
  // concurrent work in this checkout must not change the keys compared here.
  "const code = pathToFileURL('keyed.cjs').href;",
  'async function report(label: string, run: () => Promise<{ fromCache: boolean; result: unknown }[]>) {',
  '  try {',
  '    const runs = await run();',
  "    console.log(`${label}: ${runs.filter((r) => !r.fromCache).length} computed, ${runs.filter((r) => r.fromCache).length} reused ${JSON.stringify(runs.map((r) => r.result))}`);",
  '  } catch (e) {',
  '    console.log(`${label}: error ${(e as Error).message}`);',
  '  }',
  '}',
].join('\n');
// Results come back from the store with sorted keys: the function returns them sorted too.
const F_TANH = "const f = (p: { x: number }) => ({ act: 'tanh', y: helper(p.x) * scale });";
const F_RELU = "const f = (p: { x: number }) => ({ act: 'relu', y: helper(p.x) * scale });";
const SWEEP = (label: string) => `await report('${label}', () => sweep({ x: [1, 2] }, f, { store, quiet: true, code }));`;

function run(dir: string, name: string, cells: string[], out: string): Promise<string[]> {
  writeFileSync(join(dir, 'keyed.cjs'), 'module.exports = {};\n');
  writeFileSync(join(dir, `${name}.ipynb`), notebook(...cells));
  return reproduce(['--notebooks', dir, '--only', name, '--out', out, '--profile', 'quick', '--no-report'], { ...process.env, TANGENT_RESULTS_DIR: join(dir, 'store') }).then((r) => {
    const path = join(out, 'notebooks', `${name}.ipynb`);
    let outputs: string[] = [];
    try {
      outputs = cellStdout(JSON.parse(readFileSync(path, 'utf8')) as NotebookJson);
    } catch {
      // reported below with the runner's output
    }
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}\n${outputs.join('')}`);
    return outputs;
  });
}

describe('notebook code keys its results (through the real kernel)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tangent-nb-code-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test('edits of the function, a helper, a constant recompute; unrelated cells reuse; a fresh kernel reuses; code may be omitted', { timeout: 300_000 }, async () => {
    const dir = join(tmp, 'edits');
    mkdirSync(dir, { recursive: true });
    const cells = [
      SETUP,
      // Without `code` the library's fingerprint is keyed: computed right after the library loaded, so that a
      // rebuild by concurrent work in this checkout is unlikely to fall in between (it would be refused).
      "const k0 = 7;\nconst c1 = await cachedRun(store, { config: { n: 1 } }, () => k0 * 2);\nconst c2 = await cachedRun(store, { config: { n: 1 } }, () => k0 * 2);\nconsole.log('cachedRun without code', c1.result, c1.fromCache, c2.fromCache, JSON.stringify((c1.entry.meta.notebook as { declarations: string[] }).declarations));",
      'const scale = 2;',
      'function helper(x: number) { return x + 1; }',
      F_TANH,
      SWEEP('first'),
      SWEEP('again'),
      "const plot = (v: number[]) => v.join(' ');\nconsole.log('plot', plot([1, 2]));",
      SWEEP('after a plot cell'),
      "console.log('plot', plot([3]));",
      'function helper(x: number) { return x + 1; }',
      SWEEP('helper re-executed unchanged'),
      F_RELU,
      SWEEP('function edited'),
      'function helper(x: number) { return x + 2; }',
      SWEEP('helper edited'),
      'const scale = 3;',
      SWEEP('constant edited'),
      'const scale = 3;',
      SWEEP('constant re-executed unchanged'),
    ];
    const out = await run(dir, 'edits', cells, join(tmp, 'edits-out'));
    const lines = out.join('').split('\n').filter((l) => /^[\w -]+: (\d|error)|^cachedRun/.test(l));
    assert.deepEqual(lines, [
      'cachedRun without code 14 false true ["k0"]',
      'first: 2 computed, 0 reused [{"act":"tanh","y":4},{"act":"tanh","y":6}]',
      'again: 0 computed, 2 reused [{"act":"tanh","y":4},{"act":"tanh","y":6}]',
      'after a plot cell: 0 computed, 2 reused [{"act":"tanh","y":4},{"act":"tanh","y":6}]',
      'helper re-executed unchanged: 0 computed, 2 reused [{"act":"tanh","y":4},{"act":"tanh","y":6}]',
      'function edited: 2 computed, 0 reused [{"act":"relu","y":4},{"act":"relu","y":6}]',
      'helper edited: 2 computed, 0 reused [{"act":"relu","y":6},{"act":"relu","y":8}]',
      'constant edited: 2 computed, 0 reused [{"act":"relu","y":9},{"act":"relu","y":12}]',
      'constant re-executed unchanged: 0 computed, 2 reused [{"act":"relu","y":9},{"act":"relu","y":12}]',
    ]);
    // The stored meta says what the key covered.
    const storeDir = join(dir, 'store', 'nb-code');
    const metas = readdirSync(storeDir)
      .filter((f) => /^[0-9a-f]{64}\.json$/.test(f))
      .map((f) => (JSON.parse(readFileSync(join(storeDir, f), 'utf8')) as { meta: { notebook?: { declarations: string[]; modules: string[] }; modules: string[] } }).meta);
    assert.equal(metas.length, 9);
    for (const m of metas) assert.ok(m.modules.includes('notebook') && m.notebook, JSON.stringify(m));
    assert.ok(metas.some((m) => JSON.stringify(m.notebook!.declarations) === '["f","helper","scale"]'), JSON.stringify(metas.map((m) => m.notebook)));

    // A fresh kernel that runs the notebook as it now reads (the edits in place, a new unrelated cell) reuses.
    const fresh = await run(dir, 'fresh', [SETUP, "console.log('a new cell');", 'const scale = 3;', 'function helper(x: number) { return x + 2; }', F_RELU, SWEEP('fresh kernel')], join(tmp, 'fresh-out'));
    assert.match(fresh.join(''), /^fresh kernel: 0 computed, 2 reused \[\{"act":"relu","y":9\},\{"act":"relu","y":12\}\]$/m);
  });

  test('a user module edited on disk after the kernel loaded it is refused', { timeout: 300_000 }, async () => {
    const dir = join(tmp, 'module');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'mymod.cjs'), 'exports.g = (p) => ({ y: p.x * 10 });\n');
    writeFileSync(join(dir, 'tsmod.ts'), 'export function h(p: { x: number }) { return { y: p.x * 100 }; }\n');
    const cells = [
      SETUP,
      "const mymod = require('./mymod.cjs');",
      "await report('module', () => sweep({ x: [1] }, (p: { x: number }) => mymod.g(p), { store, quiet: true, code }));",
      "await report('module code', () => sweep({ x: [1] }, mymod.g, { store, quiet: true, code: pathToFileURL('mymod.cjs').href }));",
      "writeFileSync('mymod.cjs', 'exports.g = (p) => ({ y: p.x * 20 });\\n');",
      "await report('module edited', () => sweep({ x: [1] }, (p: { x: number }) => mymod.g(p), { store, quiet: true, code }));",
      "await report('module code edited', () => sweep({ x: [1] }, mymod.g, { store, quiet: true, code: pathToFileURL('mymod.cjs').href }));",
      "import { h } from './tsmod';",
      "await report('ts module', () => sweep({ x: [1] }, (p: { x: number }) => h(p), { store, quiet: true, code }));",
      "writeFileSync('tsmod.ts', 'export function h(p: { x: number }) { return { y: p.x * 200 }; }\\n');",
      "await report('ts module edited', () => sweep({ x: [1] }, (p: { x: number }) => h(p), { store, quiet: true, code }));",
    ];
    const text = (await run(dir, 'module', cells, join(tmp, 'module-out'))).join('');
    assert.match(text, /^module: 1 computed, 0 reused \[\{"y":10\}\]$/m);
    assert.match(text, /^module code: 1 computed, 0 reused \[\{"y":10\}\]$/m);
    assert.match(text, /^module edited: error .*mymod\.cjs changed on disk since this process loaded them; .*restart the kernel/m);
    assert.match(text, /^module code edited: error .*mymod\.cjs changed on disk since this process loaded them; .*restart the kernel/m);
    assert.match(text, /^ts module: 1 computed, 0 reused \[\{"y":100\}\]$/m);
    assert.match(text, /^ts module edited: error .*tsmod\.ts changed on disk since this process loaded them; .*restart the kernel/m);
  });
});
