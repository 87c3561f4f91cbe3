// `npm run reproduce -p name=value` (papermill's convention: a cell tagged 'injected-parameters' after the
// cell tagged 'parameters'), and the tagging of every notebook's parameters cell.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cellStdout, reproduce, root, type NotebookJson } from './kernel-support.js';
import { parametersText, writeReport } from '../scripts/report.js';

interface Cell {
  cell_type: string;
  id?: string;
  metadata: { tags?: string[] };
  source: string | string[];
}
const text = (s: string | string[]) => (Array.isArray(s) ? s.join('') : s);
const tags = (c: Cell) => c.metadata.tags ?? [];

describe("every notebook's parameters cell is tagged 'parameters'", () => {
  const files = readdirSync(join(root, 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort();
  for (const f of files) {
    test(f, () => {
      const cells = (JSON.parse(readFileSync(join(root, 'notebooks', f), 'utf8')) as { cells: Cell[] }).cells;
      const defining = cells.filter((c) => c.cell_type === 'code' && /^(const|let) P\b/m.test(text(c.source)));
      const tagged = cells.filter((c) => tags(c).includes('parameters'));
      if (defining.length === 0 && tagged.length === 0) return; // no parameters (00_environment)
      assert.equal(tagged.length, 1, `${f}: expected one cell tagged 'parameters', found ${tagged.length}`);
      assert.equal(defining.length, 1, `${f}: the parameters object P is defined in ${defining.length} cells`);
      assert.equal(tagged[0], defining[0], `${f}: the cell tagged 'parameters' is not the one defining P`);
      const src = text(tagged[0].source).trim();
      assert.match(src, /^(\/\/.*\n)*const P = \{[\s\S]*\n\};$/, `${f}: the parameters cell holds only \`const P = { ... };\` (derived values go to the next cell, or -p cannot change them)`);
      const codeCells = cells.filter((c) => c.cell_type === 'code');
      assert.match(text(codeCells[0].source), /setupNotebook\(/, `${f}: the first code cell calls setupNotebook`);
      assert.ok(codeCells.indexOf(tagged[0]) === 1, `${f}: the parameters cell is the second code cell`);
      assert.ok(!cells.some((c) => tags(c).includes('injected-parameters')), `${f}: a source notebook has no injected parameters`);
    });
  }
});

function nb(cells: { source: string; tags?: string[] }[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'tangent-lab', display_name: 'TypeScript (tangent-lab)', language: 'typescript' } },
    cells: cells.map((c, i) => ({ cell_type: 'code', id: `c${i}`, metadata: c.tags ? { tags: c.tags } : {}, execution_count: null, outputs: [], source: c.source })),
  });
}

describe('npm run reproduce -p NAME=VALUE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tangent-params-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const nbDir = join(dir, 'nbs');
  mkdirSync(nbDir);
  writeFileSync(
    join(nbDir, 'p_demo.ipynb'),
    nb([
      { source: "console.log('setup')" },
      { source: "const P = {\n  n: 2,\n  name: 'a' as 'a' | 'b',\n  widths: [1, 2],\n};", tags: ['parameters'] },
      { source: "console.log(`n*10=${P.n * 10} name=${P.name} widths=${P.widths.join('+')}`);" },
    ]),
  );
  writeFileSync(join(nbDir, 'q_untagged.ipynb'), nb([{ source: 'const P = { n: 1 };' }]));

  test('values replace the defaults, in a cell tagged injected-parameters; run.json and the report record them', { timeout: 180_000 }, async () => {
    const out = join(dir, 'ok');
    const r = await reproduce(['--notebooks', nbDir, '--only', 'p_demo', '--out', out, '--no-report', '-p', 'n=5', '-p', 'name=b', '-p', 'widths=[3,4,5]']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^parameters: n=5, name="b", widths=\[3, 4, 5\]$/m);
    const done = JSON.parse(readFileSync(join(out, 'notebooks', 'p_demo.ipynb'), 'utf8')) as NotebookJson;
    assert.deepEqual((done.cells as unknown as Cell[]).map((c) => tags(c)), [[], ['parameters'], ['injected-parameters'], []]);
    const stdout = cellStdout(done);
    assert.match(stdout[2], /injected parameters: \{"n":5,"name":"b","widths":\[3,4,5\]\}/);
    assert.match(stdout[3], /n\*10=50 name=b widths=3\+4\+5/);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    assert.deepEqual(run.notebooks.p_demo.parameters, { n: 5, name: 'b', widths: [3, 4, 5] });
    assert.equal(parametersText(run.notebooks.p_demo.parameters), 'n=5, name="b", widths=[3,4,5]');
    writeFileSync(join(out, 'run.json'), JSON.stringify({ ...run, notebooks: { p_demo: { ...run.notebooks.p_demo, claims: [{ id: 'x', paper: '000', figure: 'Fig 1', claim: 'c', quantity: 'q', measured: 1, expected: { max: 2 }, pass: true, profile: 'quick', backend: 'wasm' }] } } }));
    const rep = writeReport(out);
    assert.match(readFileSync(rep.md, 'utf8'), /p_demo ran with parameters `n=5, name="b", widths=\[3,4,5\]`/);
    assert.match(readFileSync(rep.html, 'utf8'), /parameters: <code class="params">n=5, name=&quot;b&quot;, widths=\[3,4,5\]<\/code>/);
  });

  test('an unknown name, a wrong type or an untagged notebook: a clear error naming the parameter and the notebook', { timeout: 240_000 }, async () => {
    const out = join(dir, 'bad');
    let r = await reproduce(['--notebooks', nbDir, '--only', 'p_demo', '--out', out, '--no-report', '-p', 'nn=5']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /^-p nn: notebook p_demo has no parameter 'nn'(?: \(did you mean 'n'\?\))?; its parameters: n, name, widths$/m);
    r = await reproduce(['--notebooks', nbDir, '--only', 'p_demo', '--out', out, '--no-report', '-p', 'n=five', '-p', 'name=c']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /^-p n="five": wrong type for parameter 'n' of notebook p_demo: Type 'string' is not assignable to type 'number'/m);
    assert.match(r.stdout, /^-p name="c": wrong type for parameter 'name' of notebook p_demo: Type '"c"' is not assignable to type '"a" \| "b"'/m);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    assert.equal(run.notebooks.p_demo.status, 'failed');
    assert.deepEqual(run.notebooks.p_demo.parameters, { n: 'five', name: 'c' });
    r = await reproduce(['--notebooks', nbDir, '--only', 'q_untagged', '--out', out, '--no-report', '-p', 'n=2']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /notebook q_untagged has no cell tagged 'parameters', so -p n cannot be applied/);
    r = await reproduce(['--notebooks', nbDir, '--out', out, '--no-report', '-p', 'bad-name=1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /-p bad-name=1: expected NAME=VALUE with NAME an identifier/);
  });
});
